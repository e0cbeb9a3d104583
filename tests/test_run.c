/* SPDX-License-Identifier: MIT */
/*
 * tests/test_run.c - coil_run(): results, refusals, shutdown of leftover
 * tasks, runtimes on several threads, deadlock detection, ring setup errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <limits.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define PTR(x) ((void *)(intptr_t)(x))
#define INT(p) ((int)(intptr_t)(p))

static void *return_arg(void *arg)
{
	return arg;
}

static void test_run_returns_main_result(void **state)
{
	int token;

	(void)state;
	assert_ptr_equal(test_run(return_arg, &token), &token);
}

static void test_run_without_result_pointer(void **state)
{
	(void)state;
	assert_int_equal(coil_run(return_arg, NULL, NULL), 0);
}

static void *nested_run(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)coil_run(return_arg, NULL, NULL);
}

static void test_run_inside_runtime_is_ebusy(void **state)
{
	(void)state;
	assert_int_equal((intptr_t)test_run(nested_run, NULL), -EBUSY);
}

static void test_run_null_fn_is_einval(void **state)
{
	(void)state;
	assert_int_equal(coil_run(NULL, NULL, NULL), -EINVAL);
}

static void test_run_bad_options_are_einval(void **state)
{
	struct coil_options o;

	(void)state;
	coil_options_init(&o);
	o.timer_mode = (enum coil_timer_mode)42;
	assert_int_equal(coil_run_opts(&o, return_arg, NULL, NULL), -EINVAL);
	coil_options_init(&o);
	o.sq_entries = 65536;
	assert_int_equal(coil_run_opts(&o, return_arg, NULL, NULL), -EINVAL);
}

static void test_run_task_api_outside_runtime_is_eperm(void **state)
{
	struct coil_task *t;
	struct coil_stats st;

	(void)state;
	assert_null(coil_self());
	assert_int_equal(coil_spawn(&t, return_arg, NULL), -EPERM);
	assert_int_equal(coil_yield(), -EPERM);
	assert_int_equal(coil_sleep(0), -EPERM);
	assert_int_equal(coil_stats_get(&st), -EPERM);
	assert_int_equal(coil_read(0, &st, 1, -1), -EPERM);
	assert_null(coil_backend_name());
}

/* ------------------------------------------------- leftover tasks */

#define LEFTOVER_SLEEPERS 3
#define LEFTOVER_READERS 3

struct leftover {
	int pipe[2];
	int results[LEFTOVER_SLEEPERS + LEFTOVER_READERS];
	int started;
};

struct leftover_slot {
	struct leftover *lo;
	int idx;
};

static void *sleep_forever(void *arg)
{
	struct leftover_slot *s = arg;

	s->lo->started++;
	s->lo->results[s->idx] = coil_sleep(3600 * COIL_NSEC_PER_SEC);
	return NULL;
}

static void *read_forever(void *arg)
{
	struct leftover_slot *s = arg;
	char c;

	s->lo->started++;
	s->lo->results[s->idx] = (int)coil_read(s->lo->pipe[0], &c, 1, -1);
	return NULL;
}

static struct leftover_slot leftover_slots[LEFTOVER_SLEEPERS +
					   LEFTOVER_READERS];

static void *spawn_leftovers(void *arg)
{
	struct leftover *lo = arg;
	struct coil_task *t;
	int i;

	for (i = 0; i < LEFTOVER_SLEEPERS + LEFTOVER_READERS; i++) {
		leftover_slots[i].lo = lo;
		leftover_slots[i].idx = i;
		assert_int_equal(coil_spawn(i % 2 ? NULL : &t,
					    i < LEFTOVER_SLEEPERS ?
						    sleep_forever :
						    read_forever,
					    &leftover_slots[i]), 0);
	}
	/* Let them all block, then return without joining anyone. */
	assert_int_equal(coil_sleep(MS(5)), 0);
	return NULL;
}

static void test_run_cancels_and_joins_leftover_tasks(void **state)
{
	struct leftover lo = { .started = 0 };
	int i;

	(void)state;
	assert_int_equal(pipe(lo.pipe), 0);
	for (i = 0; i < LEFTOVER_SLEEPERS + LEFTOVER_READERS; i++)
		lo.results[i] = 12345;
	test_run(spawn_leftovers, &lo); /* asserts tasks_live == 0 */
	assert_int_equal(lo.started, LEFTOVER_SLEEPERS + LEFTOVER_READERS);
	for (i = 0; i < LEFTOVER_SLEEPERS + LEFTOVER_READERS; i++)
		assert_int_equal(lo.results[i], -ECANCELED);
	close(lo.pipe[0]);
	close(lo.pipe[1]);
}

static void *cancel_self(void *arg)
{
	(void)arg;
	assert_int_equal(coil_cancel(coil_self()), 0);
	assert_int_equal(coil_yield(), -ECANCELED);
	return NULL;
}

static void test_run_main_cancelled_by_itself_is_ecanceled(void **state)
{
	(void)state;
	test_run_opts(NULL, cancel_self, NULL, -ECANCELED);
}

/* ------------------------------------------------------ deadlock */

static void *wait_on_main(void *arg)
{
	struct coil_task *main_task = arg;

	/* Main is joining us: neither can ever finish. */
	return (void *)(intptr_t)coil_wait_any(&main_task, 1, COIL_NO_TIMEOUT);
}

static void *join_deadlocked(void *arg)
{
	struct coil_task *t;
	void *res = NULL;
	int *join_ret = arg;

	assert_int_equal(coil_spawn(&t, wait_on_main, coil_self()), 0);
	*join_ret = coil_join(t, &res);
	assert_int_equal((intptr_t)res, -ECANCELED);
	return NULL;
}

static void test_run_deadlock_returns_edeadlk(void **state)
{
	struct coil_options o;
	int join_ret = 0;

	(void)state;
	coil_options_init(&o);
	o.log = coil_log_quiet;
	test_run_opts(&o, join_deadlocked, &join_ret, -EDEADLK);
	assert_int_equal(join_ret, -ECANCELED);
}

/*
 * Two tasks that join each other: once the deadlock is found and both are
 * cancelled, each join waits (uninterruptibly) for the other to finish.
 * Run in a child with an alarm so that a runtime spinning forever fails
 * this test instead of hanging the program.
 */
struct mutual {
	struct coil_task *a, *b;
	int ret_a, ret_b;
};

static struct mutual mutual;

static void *join_a(void *arg)
{
	(void)arg;
	coil_yield(); /* both handles exist once both tasks have run */
	mutual.ret_a = coil_join(mutual.b, NULL);
	return NULL;
}

static void *join_b(void *arg)
{
	(void)arg;
	coil_yield();
	mutual.ret_b = coil_join(mutual.a, NULL);
	return NULL;
}

static void *mutual_joins(void *arg)
{
	(void)arg;
	assert_int_equal(coil_spawn(&mutual.a, join_a, NULL), 0);
	assert_int_equal(coil_spawn(&mutual.b, join_b, NULL), 0);
	/* Main waits too: every task is blocked for good. */
	coil_wait_any(&mutual.a, 1, COIL_NO_TIMEOUT);
	return NULL;
}

enum { MUTUAL_OK = 0, MUTUAL_WRONG_RET = 1, MUTUAL_LEAK = 2,
       MUTUAL_NO_JOIN_FAILED = 3 };

static int mutual_child(void)
{
	struct coil_options o;
	struct coil_stats fin;
	int ret;

	alarm(5);
	memset(&fin, 0xff, sizeof(fin));
	coil_options_init(&o);
	o.log = coil_log_quiet;
	o.final_stats = &fin;
	mutual.ret_a = mutual.ret_b = 1;
	ret = coil_run_opts(&o, mutual_joins, NULL, NULL);
	/*
	 * Either the runtime unwinds the deadlock (-EDEADLK), or the join
	 * that closes the cycle refuses at once (as pthread_join's EDEADLK)
	 * and everything finishes (0). Either way one join must fail.
	 */
	if (ret != -EDEADLK && ret != 0) {
		fprintf(stderr, "coil_run_opts returned %d\n", ret);
		return MUTUAL_WRONG_RET;
	}
	if (fin.tasks_live != 0 || fin.stacks_in_use != 0)
		return MUTUAL_LEAK;
	if (mutual.ret_a >= 0 && mutual.ret_b >= 0)
		return MUTUAL_NO_JOIN_FAILED;
	return MUTUAL_OK;
}

static void test_run_deadlock_of_mutual_joins_is_broken(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(mutual_child());
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		print_message("child killed by signal %d (%s): coil_run did "
			      "not return\n", WTERMSIG(status),
			      WTERMSIG(status) == SIGALRM ? "SIGALRM" : "?");
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), MUTUAL_OK);
}

/*
 * Main returns 42 and leaves two tasks that, once cancelled, wait for each
 * other for good: a holds the mutex and joins b, b waits on a condition
 * and must take the mutex back to return. coil_run() ends in -EDEADLK, and
 * @result still gets main's 42: main did return.
 */
static struct {
	struct coil_mutex *m;
	struct coil_cond *c;
	struct coil_task *b;
} stuck;

static void *stuck_b(void *arg)
{
	(void)arg;
	if (coil_mutex_lock(stuck.m) == 0)
		coil_cond_wait(stuck.c, stuck.m);
	return NULL;
}

static void *stuck_a(void *arg)
{
	(void)arg;
	if (coil_mutex_lock(stuck.m) == 0)
		coil_join(stuck.b, NULL);
	return NULL;
}

static void *main_leaves_a_deadlock(void *arg)
{
	struct coil_task *a;

	(void)arg;
	if (coil_mutex_create(&stuck.m) || coil_cond_create(&stuck.c) ||
	    coil_spawn(&stuck.b, stuck_b, NULL) || coil_spawn(&a, stuck_a, NULL)
	    || coil_detach(a))
		return NULL;
	coil_yield(); /* b waits on the condition, a holds the mutex */
	coil_yield();
	return (void *)42;
}

static void test_run_result_is_mains_even_when_the_rest_deadlock(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct coil_options o;
		void *result = NULL;
		int ret;

		alarm(5);
		coil_options_init(&o);
		o.log = coil_log_quiet;
		ret = coil_run_opts(&o, main_leaves_a_deadlock, NULL, &result);
		_exit(ret == -EDEADLK && result == (void *)42 ? 0 :
		      ret != -EDEADLK ? 1 : 2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* ------------------------------------------------ ring sizes */

static void *report_stats(void *arg)
{
	coil_stats_get(arg);
	return NULL;
}

static void test_run_largest_sq_entries_works(void **state)
{
	struct coil_options o;
	struct coil_stats st = { .sq_entries = 0 };

	(void)state;
	/* runtime.h allows sq_entries up to 32768. */
	coil_options_init(&o);
	o.sq_entries = 32768;
	o.log = coil_log_quiet;
	test_run_opts(&o, report_stats, &st, 0);
	assert_int_equal(st.sq_entries, 32768);
	assert_true(st.cq_entries >= st.sq_entries);
}

static void test_run_oversized_cq_entries_is_einval(void **state)
{
	struct coil_options o;

	(void)state;
	coil_options_init(&o);
	o.cq_entries = 1u << 24; /* beyond any kernel's CQ limit */
	o.log = coil_log_quiet;
	assert_int_equal(coil_run_opts(&o, return_arg, NULL, NULL), -EINVAL);
}

static void test_run_oversized_wait_batch_is_einval(void **state)
{
	struct coil_options o;

	(void)state;
	coil_options_init(&o);
	o.wait_batch_us = 10001; /* past the 10 ms bound */
	o.log = coil_log_quiet;
	assert_int_equal(coil_run_opts(&o, return_arg, NULL, NULL), -EINVAL);
}

/* ------------------------------------------------ batched waits */

/* Whether this kernel has batched waits (IORING_FEAT_MIN_TIMEOUT, 6.12). */
static bool kernel_has_min_wait(void)
{
	struct io_uring_params p;
	int fd;

	memset(&p, 0, sizeof(p));
	fd = (int)syscall(__NR_io_uring_setup, 2, &p);
	if (fd < 0)
		return false;
	close(fd);
	return p.features & (1U << 15);
}

#define BURST_TASKS 64
#define BURST_READS 50

/* Each read of /dev/zero completes as it is submitted: CQEs in bursts. */
static void *zero_reader(void *arg)
{
	int fd = INT(arg), i;
	char b[8];

	for (i = 0; i < BURST_READS; i++)
		if (coil_read(fd, b, sizeof(b), -1) != (ssize_t)sizeof(b))
			return PTR(-EIO);
	return NULL;
}

static void *sleep_long(void *arg)
{
	(void)arg;
	coil_sleep(MS(2500));
	return NULL;
}

static void *write_later(void *arg)
{
	usleep(20000);
	assert_int_equal(write(INT(arg), "x", 1), 1);
	return NULL;
}

/*
 * Bursts of 64 completions: the loop's waits ask for batches. Returns the
 * number of batched waits, after checking that a lone completion (a pipe
 * written 20 ms later by a thread) still ends a wait that asked for a
 * batch: the kernel returns after wait_batch_us once one has come.
 */
static void *burst_then_lone(void *arg)
{
	struct coil_task *t[BURST_TASKS], *sleeper;
	struct coil_stats st;
	int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC), p[2], i;
	pthread_t th;
	uint64_t start;
	char c;

	(void)arg;
	assert_true(zero >= 0);
	for (i = 0; i < BURST_TASKS; i++)
		assert_int_equal(coil_spawn(&t[i], zero_reader, PTR(zero)), 0);
	assert_int_equal(coil_gather(t, BURST_TASKS, NULL, NULL), 0);
	close(zero);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&th, NULL, write_later, PTR(p[1])), 0);
	start = coil_now();
	/*
	 * A sleeper's timer bounds the loop's waits (an op's own timeout
	 * would not: its CQE is one more, still short of a batch), so a wait
	 * that held out for its batch fails here instead of hanging.
	 */
	assert_int_equal(coil_spawn(&sleeper, sleep_long, NULL), 0);
	assert_int_equal(coil_read(p[0], &c, 1, -1), 1);
	assert_true(test_elapsed_ns(start) < MS(1000));
	coil_cancel(sleeper);
	coil_join(sleeper, NULL);
	pthread_join(th, NULL);
	close(p[0]);
	close(p[1]);
	assert_int_equal(coil_stats_get(&st), 0);
	return PTR(st.batched_waits);
}

static void test_run_waits_ask_for_batches_under_bursts_and_a_lone_cqe_ends_one(
	void **state)
{
	(void)state;
	if (!kernel_has_min_wait())
		skip(); /* IORING_FEAT_MIN_TIMEOUT: Linux 6.12 */
	assert_true((uintptr_t)test_run(burst_then_lone, NULL) > 0);
}

static void test_run_no_wait_batch_option_never_asks_for_a_batch(void **state)
{
	struct coil_options o;

	(void)state;
	coil_options_init(&o);
	o.flags = COIL_OPT_NO_WAIT_BATCH;
	assert_null(test_run_opts(&o, burst_then_lone, NULL, 0));
}

/* ------------------------------------------------ two threads */

struct thread_run {
	int ret;
	uintptr_t result;
	uintptr_t seed;
};

static void *add_after_sleep(void *arg)
{
	uintptr_t v = (uintptr_t)arg;

	coil_sleep(MS(1));
	return (void *)(v + 1);
}

static void *sum_tasks(void *arg)
{
	uintptr_t seed = (uintptr_t)arg, sum = 0;
	struct coil_task *t[50];
	void *r[50];
	int i;

	for (i = 0; i < 50; i++)
		assert_int_equal(coil_spawn(&t[i], add_after_sleep,
					    (void *)(seed + (uintptr_t)i)), 0);
	assert_int_equal(coil_gather(t, 50, r, NULL), 0);
	for (i = 0; i < 50; i++)
		sum += (uintptr_t)r[i];
	return (void *)sum;
}

static void *thread_main(void *arg)
{
	struct thread_run *tr = arg;
	void *res = NULL;

	tr->ret = coil_run(sum_tasks, (void *)tr->seed, &res);
	tr->result = (uintptr_t)res;
	return NULL;
}

static void test_run_two_threads_at_once(void **state)
{
	struct thread_run tr[2] = { { .seed = 1000 }, { .seed = 5000 } };
	pthread_t th[2];
	int i;

	(void)state;
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_main,
						&tr[i]), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(tr[i].ret, 0);
		/* sum of seed+i+1 for i in 0..49 */
		assert_int_equal(tr[i].result, 50 * tr[i].seed + 50 * 51 / 2);
	}
}

/* ------------------------------------------- ring setup failures */

struct log_capture {
	char text[4096];
	size_t len;
};

static void capture_log(void *userdata, const char *line)
{
	struct log_capture *c = userdata;
	int n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s\n",
			 line);

	if (n > 0 && c->len + (size_t)n < sizeof(c->text))
		c->len += (size_t)n;
}

/* A seccomp filter that makes system call @nr fail with EPERM. */
static int forbid_syscall(long nr)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* Child exit codes. */
enum { CHILD_OK = 0, CHILD_NO_SECCOMP = 77, CHILD_WRONG_RET = 1,
       CHILD_NO_MENTION = 2, CHILD_NOT_FILLED = 3 };

static int seccomp_child(long nr, coil_fn body)
{
	struct coil_options o;
	struct log_capture cap = { .len = 0 };
	int ret;

	cap.text[0] = '\0';
	if (forbid_syscall(nr))
		return CHILD_NO_SECCOMP;
	coil_options_init(&o);
	o.log = capture_log;
	o.log_userdata = &cap;
	ret = coil_run_opts(&o, body, NULL, NULL);
	if (ret != -EPERM) {
		fprintf(stderr, "coil_run_opts returned %d\n", ret);
		return CHILD_WRONG_RET;
	}
	if (!strstr(cap.text, "seccomp")) {
		fprintf(stderr, "log did not mention seccomp: %s\n", cap.text);
		return CHILD_NO_MENTION;
	}
	return CHILD_OK;
}

/* Run @child(@nr, @body) in a forked process and expect CHILD_OK. */
static void expect_child(int (*child)(long, coil_fn), long nr, coil_fn body)
{
	pid_t pid;
	int status;

	test_skip_if_thread_bound();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child(nr, body));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == CHILD_NO_SECCOMP)
		TEST_SKIP("seccomp filters are not available");
	assert_int_equal(WEXITSTATUS(status), CHILD_OK);
}

static void test_run_seccomp_denied_ring_explains_itself(void **state)
{
	(void)state;
	expect_child(seccomp_child, __NR_io_uring_setup, return_arg);
}

static void *sleep_briefly(void *arg)
{
	coil_sleep(MS(1));
	return arg;
}

/*
 * A filter that lets the ring be set up but refuses io_uring_enter: the
 * first wait fails. coil_run returns -EPERM and the log says why, not only
 * "fatal ring error".
 */
static void test_run_seccomp_denied_enter_explains_itself(void **state)
{
	(void)state;
	expect_child(seccomp_child, __NR_io_uring_enter, sleep_briefly);
}

/*
 * The counters are handed out after a fatal ring error too: the child's
 * main task is abandoned inside its sleep when io_uring_enter is refused.
 */
static int final_stats_child(long nr, coil_fn body)
{
	struct coil_options o;
	struct coil_stats fin;
	int ret;

	if (forbid_syscall(nr))
		return CHILD_NO_SECCOMP;
	coil_options_init(&o);
	o.log = coil_log_quiet;
	memset(&fin, 0xff, sizeof(fin));
	o.final_stats = &fin;
	ret = coil_run_opts(&o, body, NULL, NULL);
	if (ret != -EPERM) {
		fprintf(stderr, "coil_run_opts returned %d\n", ret);
		return CHILD_WRONG_RET;
	}
	if (fin.tasks_spawned != 1 || fin.tasks_live != 1 ||
	    fin.sq_entries == UINT_MAX) {
		fprintf(stderr, "final_stats not filled: spawned %llu, live "
			"%llu, sq_entries %u\n",
			(unsigned long long)fin.tasks_spawned,
			(unsigned long long)fin.tasks_live, fin.sq_entries);
		return CHILD_NOT_FILLED;
	}
	return CHILD_OK;
}

static void test_run_final_stats_filled_after_fatal_ring_error(void **state)
{
	(void)state;
	expect_child(final_stats_child, __NR_io_uring_enter, sleep_briefly);
}

static void *stats_into_null(void *arg)
{
	(void)arg;
	assert_int_equal(coil_stats_get(NULL), -EINVAL);
	return NULL;
}

/* Bad input is an error code, never a crash. */
static void test_run_stats_get_null_is_einval(void **state)
{
	(void)state;
	assert_int_equal(coil_stats_get(NULL), -EINVAL);
	test_run(stats_into_null, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_run_returns_main_result),
		cmocka_unit_test(test_run_without_result_pointer),
		cmocka_unit_test(test_run_inside_runtime_is_ebusy),
		cmocka_unit_test(test_run_null_fn_is_einval),
		cmocka_unit_test(test_run_bad_options_are_einval),
		cmocka_unit_test(test_run_stats_get_null_is_einval),
		cmocka_unit_test(test_run_seccomp_denied_enter_explains_itself),
		cmocka_unit_test(
			test_run_final_stats_filled_after_fatal_ring_error),
		cmocka_unit_test(test_run_task_api_outside_runtime_is_eperm),
		cmocka_unit_test(test_run_cancels_and_joins_leftover_tasks),
		cmocka_unit_test(test_run_main_cancelled_by_itself_is_ecanceled),
		cmocka_unit_test(test_run_deadlock_returns_edeadlk),
		cmocka_unit_test(test_run_deadlock_of_mutual_joins_is_broken),
		cmocka_unit_test(
			test_run_result_is_mains_even_when_the_rest_deadlock),
		cmocka_unit_test(test_run_largest_sq_entries_works),
		cmocka_unit_test(test_run_oversized_cq_entries_is_einval),
		cmocka_unit_test(test_run_oversized_wait_batch_is_einval),
		cmocka_unit_test(
			test_run_waits_ask_for_batches_under_bursts_and_a_lone_cqe_ends_one),
		cmocka_unit_test(
			test_run_no_wait_batch_option_never_asks_for_a_batch),
		cmocka_unit_test(test_run_two_threads_at_once),
		cmocka_unit_test(test_run_seccomp_denied_ring_explains_itself),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, test_fd_setup, test_fd_teardown);
}
