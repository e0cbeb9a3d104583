/* SPDX-License-Identifier: MIT */
/*
 * tests/test_stack.c - task stacks: sizes, reuse, guard pages, the overflow
 * message, and spawning under an address-space limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

#define PTR(x) ((void *)(intptr_t)(x))
#define INT(p) ((int)(intptr_t)(p))

static void *return_arg(void *arg)
{
	return arg;
}

/* Touch most of a stack: a task with @arg KiB of stack uses ~3/4 of it. */
static void *use_stack(void *arg)
{
	size_t n = (size_t)INT(arg) * 1024 * 3 / 4;
	volatile char *buf = __builtin_alloca(n);
	size_t i;

	for (i = 0; i < n; i += 512)
		buf[i] = (char)i;
	return PTR(buf[n / 2 & ~(size_t)511]);
}

static void *body_sizes(void *arg)
{
	struct coil_spawn_opts big = { .stack_size = 1024 * 1024 };
	struct coil_spawn_opts huge = { .stack_size = (size_t)2 << 30 };
	struct coil_spawn_opts odd = { .stack_size = 10000 };
	struct coil_task *t;

	(void)arg;
	/* 1 MiB of stack use works in a 1 MiB task. */
	assert_int_equal(coil_spawn_opts(&t, &big, use_stack, PTR(1024)), 0);
	assert_int_equal(coil_join(t, NULL), 0);
	/* A size that is not a page multiple is rounded up. */
	assert_int_equal(coil_spawn_opts(&t, &odd, use_stack, PTR(9)), 0);
	assert_int_equal(coil_join(t, NULL), 0);
	assert_int_equal(coil_spawn_opts(&t, &huge, return_arg, NULL),
			 -EINVAL);
	return NULL;
}

static void test_stack_sizes_are_honoured(void **state)
{
	(void)state;
	test_run(body_sizes, NULL);
}

static void *body_reuse(void *arg)
{
	struct coil_stats st;
	struct coil_task *t;
	uint64_t mapped;
	int i;

	(void)arg;
	assert_int_equal(coil_spawn(&t, return_arg, NULL), 0);
	assert_int_equal(coil_join(t, NULL), 0);
	coil_stats_get(&st);
	mapped = st.stacks_mapped;
	assert_int_equal(st.stacks_in_use, 1);
	/* One at a time: each task gets the stack the last one freed. */
	for (i = 0; i < 1000; i++) {
		assert_int_equal(coil_spawn(&t, return_arg, NULL), 0);
		assert_int_equal(coil_join(t, NULL), 0);
	}
	coil_stats_get(&st);
	assert_int_equal(st.stacks_mapped, mapped);
	assert_int_equal(st.stacks_in_use, 1);
	assert_true(st.stack_bytes_mapped >= 64 * 1024);
	return NULL;
}

static void test_stack_freed_stacks_are_reused(void **state)
{
	(void)state;
	test_run(body_reuse, NULL);
}

#define DISTINCT_SIZES 12

/* Each a different page count: spawn_opts must not run out of "classes". */
static void *body_distinct_sizes(void *arg)
{
	int *rets = arg;
	struct coil_spawn_opts so = { .stack_size = 0 };
	struct coil_task *t;
	int i;

	for (i = 0; i < DISTINCT_SIZES; i++) {
		so.stack_size = (size_t)(i + 2) * 8192;
		rets[i] = coil_spawn_opts(&t, &so, use_stack, PTR(i + 2));
		if (rets[i] == 0)
			assert_int_equal(coil_join(t, NULL), 0);
	}
	return NULL;
}

static void test_stack_many_distinct_sizes_can_spawn(void **state)
{
	int rets[DISTINCT_SIZES], i;

	(void)state;
	test_run(body_distinct_sizes, rets);
	for (i = 0; i < DISTINCT_SIZES; i++) {
		if (rets[i])
			print_message("size #%d (%d KiB) -> %d\n", i + 1,
				      (i + 2) * 8, rets[i]);
		assert_int_equal(rets[i], 0);
	}
}

static void *report_guard(void *arg)
{
	struct coil_stats st;

	coil_stats_get(&st);
	*(int *)arg = st.guard_pages;
	return NULL;
}

static void test_stack_guard_pages_can_be_turned_off(void **state)
{
	struct coil_options o;
	int guard = -1;

	(void)state;
	coil_options_init(&o);
	o.flags = COIL_OPT_NO_GUARD_PAGES;
	test_run_opts(&o, report_guard, &guard, 0);
	assert_int_equal(guard, 0);
	test_run(report_guard, &guard);
	assert_true(guard >= 0 && guard <= 2);
}

/* --------------------------------------------- overflow message */

static const char *self_exe;

static __attribute__((noinline)) int recurse(int n)
{
	volatile char frame[256];

	frame[0] = (char)n;
	if (n == 0)
		return frame[0];
	return recurse(n - 1) + frame[0];
}

static void *deep_task(void *arg)
{
	(void)arg;
	return PTR(recurse(1000000));
}

static void *spawn_deep(void *arg)
{
	struct coil_spawn_opts so = { .stack_size = 16 * 1024,
				      .name = "deep" };
	struct coil_stats st;
	struct coil_task *t;

	(void)arg;
	coil_stats_get(&st);
	if (st.guard_pages == 0)
		_exit(77);
	assert_int_equal(coil_spawn_opts(&t, &so, deep_task, NULL), 0);
	coil_join(t, NULL);
	return NULL;
}

static void *sleeping_task(void *arg)
{
	(void)arg;
	coil_sleep(MS(10000));
	return NULL;
}

/* One frame bigger than the whole 16 KiB stack and its guard page. */
static __attribute__((noinline)) void *big_frame_task(void *arg)
{
	volatile char frame[24000];

	frame[0] = 1; /* the lowest byte: 8 KB below the stack */
	frame[sizeof(frame) - 1] = 1;
	(void)arg;
	return PTR(frame[0] + frame[sizeof(frame) - 1]);
}

static void *spawn_big_frame(void *arg)
{
	struct coil_spawn_opts so = { .stack_size = 16 * 1024,
				      .name = "deep" };
	struct coil_stats st;
	struct coil_task *below, *t;

	(void)arg;
	coil_stats_get(&st);
	if (st.guard_pages == 0)
		_exit(77);
	/* The slot below is a live task's stack: what a jump would hit. */
	assert_int_equal(coil_spawn_opts(&below, &so, sleeping_task, NULL), 0);
	assert_int_equal(coil_spawn_opts(&t, &so, big_frame_task, NULL), 0);
	coil_join(t, NULL);
	coil_cancel(below);
	coil_join(below, NULL);
	return NULL;
}

/* Runs in a fresh process (exec'd): no cmocka signal handlers there. */
static int overflow_child(coil_fn body)
{
	struct rlimit no_core = { 0, 0 };

	setrlimit(RLIMIT_CORE, &no_core);
	signal(SIGSEGV, SIG_DFL);
	coil_run(body, NULL, NULL);
	return 3; /* the overflow did not kill us */
}

static void check_overflow_child(const char *mode)
{
	char out[4096];
	size_t len = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	if (TEST_ASAN)
		TEST_SKIP("ASan owns SIGSEGV and the stack layout");
	if (test_under_valgrind())
		TEST_SKIP("Valgrind owns SIGSEGV, and cannot exec /proc/self/exe");
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], STDERR_FILENO);
		close(p[0]);
		close(p[1]);
		execl(self_exe, self_exe, mode, (char *)NULL);
		_exit(4);
	}
	close(p[1]);
	while (len < sizeof(out) - 1 &&
	       (n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
		TEST_SKIP("this runtime has no guard pages");
	if (!WIFSIGNALED(status))
		print_message("child exited %d, stderr: %s\n",
			      WEXITSTATUS(status), out);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
	assert_non_null(strstr(out, "stack overflow in task"));
	assert_non_null(strstr(out, "deep"));
}

static void test_stack_overflow_names_the_task(void **state)
{
	(void)state;
	check_overflow_child("--overflow-child");
}

/*
 * A frame larger than the guard page would step over it into the stack
 * below; coil is built with -fstack-clash-protection, whose probes touch
 * every page of a big frame in order, so the guard still catches it.
 */
static void test_stack_frame_larger_than_the_guard_is_caught(void **state)
{
	(void)state;
	check_overflow_child("--big-frame-child");
}

/*
 * coil's SIGSEGV handler is there to name a task that overflowed; a
 * SIGSEGV that is not a fault (kill(2), tgkill) must still do what it
 * would without coil: terminate the process.
 */
static void *send_self_segv(void *arg)
{
	(void)arg;
	kill(getpid(), SIGSEGV);
	coil_sleep(MS(10));
	_exit(3); /* the signal was swallowed */
}

static void test_stack_sent_sigsegv_still_kills(void **state)
{
	struct rlimit no_core = { 0, 0 };
	struct coil_options o;
	int status;
	pid_t pid;

	(void)state;
	if (TEST_ASAN)
		TEST_SKIP("ASan owns SIGSEGV");
	if (test_under_valgrind())
		TEST_SKIP("Valgrind owns SIGSEGV");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGSEGV, SIG_DFL); /* cmocka's handler: not coil's */
		coil_options_init(&o);
		o.log = coil_log_quiet;
		coil_run_opts(&o, send_self_segv, NULL, NULL);
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status))
		print_message("child exited %d\n", WEXITSTATUS(status));
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGSEGV);
}

/* ------------------------------------- address-space exhaustion */

static int spawned, finished;

static void *yield_and_count(void *arg)
{
	(void)arg;
	coil_yield();
	finished++;
	return NULL;
}

static long vm_size_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmSize: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* Exit codes of the rlimit child. */
enum { LIMIT_OK = 0, LIMIT_NO_VMSIZE = 10, LIMIT_SETRLIMIT, LIMIT_NO_FAIL,
       LIMIT_WRONG_ERR, LIMIT_NONE_SPAWNED, LIMIT_LOST_TASKS, LIMIT_RUN };

static void *spawn_until_refused(void *arg)
{
	struct rlimit rl;
	long kib = vm_size_kib();
	int err = 0, i;

	(void)arg;
	if (kib < 0)
		_exit(LIMIT_NO_VMSIZE);
	rl.rlim_cur = rl.rlim_max = (rlim_t)(kib + 4 * 1024) * 1024;
	if (setrlimit(RLIMIT_AS, &rl))
		_exit(LIMIT_SETRLIMIT);
	for (i = 0; i < 1000000; i++) {
		err = coil_spawn(NULL, yield_and_count, NULL);
		if (err)
			break;
		spawned++;
	}
	if (!err)
		_exit(LIMIT_NO_FAIL);
	if (err != -ENOMEM && err != -EAGAIN)
		_exit(LIMIT_WRONG_ERR);
	if (spawned == 0)
		_exit(LIMIT_NONE_SPAWNED);
	while (finished < spawned)
		coil_yield();
	if (finished != spawned)
		_exit(LIMIT_LOST_TASKS);
	return NULL;
}

/*
 * Run @body as main in a forked child (whose address-space limit it may
 * lower without touching this process) and expect exit status @ok; the
 * child exits @run_failed when coil_run_opts() fails, and the body exits
 * with its own codes for what went wrong.
 */
static void expect_child(coil_fn body, int run_failed, int ok)
{
	struct coil_options o;
	int status;
	pid_t pid;

	if (TEST_ASAN)
		TEST_SKIP("ASan reserves terabytes of address space");
	if (test_under_valgrind())
		TEST_SKIP("Valgrind's own memory counts against the limit");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		coil_options_init(&o);
		o.log = coil_log_quiet;
		if (coil_run_opts(&o, body, NULL, NULL))
			_exit(run_failed);
		_exit(ok);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), ok);
}

static void test_stack_spawn_under_memory_limit_fails_cleanly(void **state)
{
	(void)state;
	expect_child(spawn_until_refused, LIMIT_RUN, LIMIT_OK);
}

/*
 * A stack far larger than the default needs one slot of address space, not
 * a whole arena's worth: the first arena of a size class has 16 slots, and
 * with 1 GiB stacks that is 16 GiB, refused by an address-space limit that
 * the one stack asked for fits in with room to spare.
 */
enum { BIG_OK = 0, BIG_NO_VMSIZE = 20, BIG_SETRLIMIT, BIG_SPAWN, BIG_JOIN,
       BIG_RUN };

static void *spawn_one_huge_stack(void *arg)
{
	struct coil_spawn_opts so = { .stack_size = (size_t)1 << 30 };
	struct coil_task *t;
	struct rlimit rl;
	long kib = vm_size_kib();
	int err;

	(void)arg;
	if (kib < 0)
		_exit(BIG_NO_VMSIZE);
	/* Room for one 1 GiB stack and a half, not for 16 of them. */
	rl.rlim_cur = rl.rlim_max = ((rlim_t)kib + 1536 * 1024) * 1024;
	if (setrlimit(RLIMIT_AS, &rl))
		_exit(BIG_SETRLIMIT);
	err = coil_spawn_opts(&t, &so, use_stack, PTR(64));
	if (err) {
		fprintf(stderr, "spawn with a 1 GiB stack: %d\n", err);
		_exit(BIG_SPAWN);
	}
	if (coil_join(t, NULL))
		_exit(BIG_JOIN);
	return NULL;
}

static void test_stack_huge_stack_fits_under_address_space_limit(void **state)
{
	(void)state;
	expect_child(spawn_one_huge_stack, BIG_RUN, BIG_OK);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stack_sizes_are_honoured),
		cmocka_unit_test(test_stack_freed_stacks_are_reused),
		cmocka_unit_test(test_stack_many_distinct_sizes_can_spawn),
		cmocka_unit_test(test_stack_guard_pages_can_be_turned_off),
		cmocka_unit_test(test_stack_overflow_names_the_task),
		cmocka_unit_test(test_stack_frame_larger_than_the_guard_is_caught),
		cmocka_unit_test(test_stack_sent_sigsegv_still_kills),
		cmocka_unit_test(test_stack_spawn_under_memory_limit_fails_cleanly),
		cmocka_unit_test(test_stack_huge_stack_fits_under_address_space_limit),
	};

	if (argc > 1 && strcmp(argv[1], "--overflow-child") == 0)
		return overflow_child(spawn_deep);
	if (argc > 1 && strcmp(argv[1], "--big-frame-child") == 0)
		return overflow_child(spawn_big_frame);
	self_exe = "/proc/self/exe";
	test_require_io_uring();
	return cmocka_run_group_tests(tests, test_fd_setup, test_fd_teardown);
}
