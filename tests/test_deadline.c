/* SPDX-License-Identifier: MIT */
/*
 * tests/test_deadline.c - per-op timeouts and deadline scopes: every wait
 * inside a passed deadline ends in -ETIMEDOUT, promptly.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define PTR(x) ((void *)(intptr_t)(x))
#define INT(p) ((int)(intptr_t)(p))

/* A timeout of 50 ms must end within this much of it. */
#define SLACK_MS 250

static void assert_took_about(uint64_t start, int64_t ms)
{
	int64_t took = test_elapsed_ns(start);

	assert_true(took >= MS(ms));
	assert_true(took < MS(ms + SLACK_MS));
}

/* ------------------------------------------------ recv timeouts */

static void *recv_times_out(void *arg)
{
	int fd = INT(arg);
	struct coil_stats before, after;
	char buf[16];
	uint64_t start;

	coil_stats_get(&before);
	start = coil_now();
	assert_int_equal(coil_recv_timeout(fd, buf, sizeof(buf), 0, MS(50)),
			 -ETIMEDOUT);
	assert_took_about(start, 50);
	coil_stats_get(&after);
	assert_int_equal(after.timeouts, before.timeouts + 1);
	return NULL;
}

static void test_recv_timeout_on_silent_socketpair(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	test_run(recv_times_out, PTR(sv[0]));
	close(sv[0]);
	close(sv[1]);
}

/* A connected loopback TCP pair made with plain syscalls. */
static void tcp_pair(int *client, int *server)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(lfd >= 0);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&addr, &len), 0);
	*client = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*client >= 0);
	assert_int_equal(connect(*client, (struct sockaddr *)&addr,
				 sizeof(addr)), 0);
	*server = accept(lfd, NULL, NULL);
	assert_true(*server >= 0);
	close(lfd);
}

static void test_recv_timeout_on_silent_tcp_loopback(void **state)
{
	int c, s;

	(void)state;
	tcp_pair(&c, &s);
	test_run(recv_times_out, PTR(c));
	close(c);
	close(s);
}

static void *recv_before_timeout(void *arg)
{
	int *sv = arg;
	char buf[8] = { 0 };

	assert_int_equal(write(sv[1], "hi", 2), 2);
	assert_int_equal(coil_recv_timeout(sv[0], buf, sizeof(buf), 0,
					   MS(1000)), 2);
	assert_memory_equal(buf, "hi", 2);
	return NULL;
}

static void test_recv_timeout_not_hit_returns_data(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	test_run(recv_before_timeout, sv);
	close(sv[0]);
	close(sv[1]);
}

/* ---------------------------------------------------- scopes */

/* A NULL scope is refused, and leaving one changes nothing. */
static void *body_null_scope(void *arg)
{
	(void)arg;
	assert_int_equal(coil_deadline_enter(NULL, MS(1)), -EINVAL);
	assert_int_equal(coil_deadline_enter_at(NULL, 0), -EINVAL);
	coil_deadline_exit(NULL);
	/* No scope was entered: nothing times out. */
	assert_int_equal(coil_sleep(MS(5)), 0);
	return NULL;
}

static void test_deadline_null_scope_is_einval(void **state)
{
	(void)state;
	test_run(body_null_scope, NULL);
}

static void *body_scope_sticks(void *arg)
{
	int *p = arg;
	struct coil_deadline d;
	char c;
	uint64_t start;

	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(coil_deadline_enter(&d, MS(50)), 0);
	start = coil_now();
	assert_int_equal(coil_read(p[0], &c, 1, -1), 1); /* in time */
	assert_int_equal(coil_sleep(MS(1000)), -ETIMEDOUT);
	assert_took_about(start, 50);
	/* Every later op fails at once, even one that would succeed. */
	assert_int_equal(write(p[1], "y", 1), 1);
	start = coil_now();
	assert_int_equal(coil_read(p[0], &c, 1, -1), -ETIMEDOUT);
	assert_int_equal(coil_write(p[1], "z", 1, -1), -ETIMEDOUT);
	assert_int_equal(coil_sleep(MS(1)), -ETIMEDOUT);
	assert_int_equal(coil_poll(p[0], 1 /* POLLIN */), -ETIMEDOUT);
	assert_true(test_elapsed_ns(start) < MS(SLACK_MS));
	coil_deadline_exit(&d);
	/* Outside the scope the data is still there. */
	assert_int_equal(coil_read(p[0], &c, 1, -1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(coil_sleep(MS(1)), 0);
	return NULL;
}

static void test_deadline_scope_fails_every_later_op(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	test_run(body_scope_sticks, p);
	close(p[0]);
	close(p[1]);
}

/*
 * Every negative timeout means "none beyond the scope": the most negative
 * values, which coil uses inside for ops that must not be interrupted, do
 * not let a public call escape its deadline or its cancellation. The late
 * write makes an escaped read return data instead of hanging the test.
 */
static void *late_writer(void *arg)
{
	int fd = INT(arg);

	coil_sleep(MS(1000));
	assert_int_equal(write(fd, "x", 1), 1);
	return NULL;
}

static void *body_any_negative_timeout(void *arg)
{
	static const int64_t none[] = { -1, -2, INT64_MIN, INT64_MIN + 1 };
	int *p = arg;
	struct coil_deadline d;
	struct coil_task *w;
	uint64_t start;
	unsigned i;
	char c;

	assert_int_equal(coil_spawn(&w, late_writer, PTR(p[1])), 0);
	for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		assert_int_equal(coil_deadline_enter(&d, MS(30)), 0);
		start = coil_now();
		assert_int_equal(coil_read_timeout(p[0], &c, 1, -1, none[i]),
				 -ETIMEDOUT);
		assert_took_about(start, 30);
		coil_deadline_exit(&d);
	}
	assert_int_equal(coil_cancel(w), 0);
	assert_int_equal(coil_join(w, NULL), -ECANCELED);
	return NULL;
}

static void test_deadline_bounds_ops_with_any_negative_timeout(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	test_run(body_any_negative_timeout, p);
	close(p[0]);
	close(p[1]);
}

static void *body_nested(void *arg)
{
	struct coil_deadline outer, inner;
	uint64_t start = coil_now();
	int *sv = arg;
	char buf[4];

	/* The inner scope is later: the outer one still wins. */
	assert_int_equal(coil_deadline_enter(&outer, MS(50)), 0);
	assert_int_equal(coil_deadline_enter(&inner, MS(5000)), 0);
	assert_int_equal(coil_recv(sv[0], buf, sizeof(buf), 0), -ETIMEDOUT);
	assert_took_about(start, 50);
	coil_deadline_exit(&inner);
	coil_deadline_exit(&outer);

	/* The inner scope is earlier: it wins, then the outer applies. */
	start = coil_now();
	assert_int_equal(coil_deadline_enter(&outer, MS(150)), 0);
	assert_int_equal(coil_deadline_enter(&inner, MS(50)), 0);
	assert_int_equal(coil_recv(sv[0], buf, sizeof(buf), 0), -ETIMEDOUT);
	assert_took_about(start, 50);
	coil_deadline_exit(&inner);
	assert_int_equal(coil_recv(sv[0], buf, sizeof(buf), 0), -ETIMEDOUT);
	assert_took_about(start, 150);
	coil_deadline_exit(&outer);

	/* A per-op timeout shorter than the scope wins too. */
	start = coil_now();
	assert_int_equal(coil_deadline_enter(&outer, MS(5000)), 0);
	assert_int_equal(coil_recv_timeout(sv[0], buf, sizeof(buf), 0,
					   MS(50)), -ETIMEDOUT);
	assert_took_about(start, 50);
	coil_deadline_exit(&outer);
	return NULL;
}

static void test_deadline_nested_earliest_wins(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	test_run(body_nested, sv);
	close(sv[0]);
	close(sv[1]);
}

static int slow_sleep_ret;

static void *sleep_long_record(void *arg)
{
	(void)arg;
	slow_sleep_ret = coil_sleep(3600 * COIL_NSEC_PER_SEC);
	return NULL;
}

static void *body_join_deadline(void *arg)
{
	struct coil_deadline d;
	struct coil_task *t;
	uint64_t start;

	(void)arg;
	slow_sleep_ret = 1;
	assert_int_equal(coil_spawn(&t, sleep_long_record, NULL), 0);
	start = coil_now();
	assert_int_equal(coil_deadline_enter(&d, MS(50)), 0);
	/* An interrupted join cancels what it joined and releases it. */
	assert_int_equal(coil_join(t, NULL), -ETIMEDOUT);
	coil_deadline_exit(&d);
	assert_took_about(start, 50);
	assert_int_equal(slow_sleep_ret, -ECANCELED);
	return NULL;
}

static void test_deadline_around_join_times_out(void **state)
{
	(void)state;
	test_run(body_join_deadline, NULL);
}

static void *body_sleep_in_scope(void *arg)
{
	struct coil_deadline d;
	uint64_t start = coil_now();

	(void)arg;
	assert_int_equal(coil_deadline_enter(&d, MS(50)), 0);
	assert_int_equal(coil_sleep(MS(2000)), -ETIMEDOUT);
	assert_took_about(start, 50);
	coil_deadline_exit(&d);
	/* A sleep shorter than the scope is a plain sleep. */
	assert_int_equal(coil_deadline_enter(&d, MS(2000)), 0);
	assert_int_equal(coil_sleep(MS(5)), 0);
	coil_deadline_exit(&d);
	return NULL;
}

static void run_sleep_in_scope(enum coil_timer_mode mode)
{
	struct coil_options o;

	coil_options_init(&o);
	o.timer_mode = mode;
	test_run_opts(&o, body_sleep_in_scope, NULL, 0);
}

static void test_deadline_shorter_than_sleep_times_out(void **state)
{
	(void)state;
	run_sleep_in_scope(COIL_TIMER_HEAP);
}

static void test_deadline_shorter_than_sleep_times_out_per_op(void **state)
{
	(void)state;
	run_sleep_in_scope(COIL_TIMER_PER_OP);
}

static void *body_scope_wait_any(void *arg)
{
	struct coil_deadline d;
	struct coil_task *t;
	uint64_t start = coil_now();

	(void)arg;
	slow_sleep_ret = 1;
	assert_int_equal(coil_spawn(&t, sleep_long_record, NULL), 0);
	assert_int_equal(coil_deadline_enter(&d, MS(50)), 0);
	assert_int_equal(coil_wait_any(&t, 1, COIL_NO_TIMEOUT), -ETIMEDOUT);
	coil_deadline_exit(&d);
	assert_took_about(start, 50);
	assert_false(coil_task_is_done(t)); /* wait_any cancels nothing */
	coil_cancel(t);
	assert_int_equal(coil_join(t, NULL), -ECANCELED);
	assert_int_equal(slow_sleep_ret, -ECANCELED);
	return NULL;
}

static void test_deadline_bounds_wait_any(void **state)
{
	(void)state;
	test_run(body_scope_wait_any, NULL);
}

/* coil_stats.timeouts counts "ops or waits that ended in -ETIMEDOUT". */
static void *body_sleep_timeout_counted(void *arg)
{
	struct coil_stats *delta = arg;
	struct coil_stats before, after;
	struct coil_deadline d;

	coil_stats_get(&before);
	assert_int_equal(coil_deadline_enter(&d, MS(5)), 0);
	assert_int_equal(coil_sleep(MS(1000)), -ETIMEDOUT);
	coil_deadline_exit(&d);
	coil_stats_get(&after);
	delta->timeouts = after.timeouts - before.timeouts;
	return NULL;
}

static void run_sleep_timeout_counted(enum coil_timer_mode mode)
{
	struct coil_options o;
	struct coil_stats delta = { .timeouts = 99 };

	coil_options_init(&o);
	o.timer_mode = mode;
	test_run_opts(&o, body_sleep_timeout_counted, &delta, 0);
	assert_int_equal(delta.timeouts, 1);
}

/* Each wait that ends in -ETIMEDOUT adds exactly one to stats.timeouts. */
static uint64_t timeouts_now(void)
{
	struct coil_stats st;

	coil_stats_get(&st);
	return st.timeouts;
}

static void *slow_job(void *arg)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	nanosleep(&ts, NULL);
	return arg;
}

static void *body_each_timeout_counted_once(void *arg)
{
	struct coil_deadline d;
	struct coil_mutex *m;
	struct coil_sem *s;
	struct coil_event *ev;
	uint64_t t0;

	(void)arg;
	assert_int_equal(coil_mutex_create(&m), 0);
	assert_int_equal(coil_sem_create(&s, 0, 0), 0);
	assert_int_equal(coil_event_create(&ev), 0);
	assert_int_equal(coil_mutex_lock(m), 0);
	/* The timeout fires while the task waits: counted by the timer. */
	t0 = timeouts_now();
	assert_int_equal(coil_event_wait_timeout(ev, MS(5)), -ETIMEDOUT);
	assert_int_equal(timeouts_now() - t0, 1);
	t0 = timeouts_now();
	assert_int_equal(coil_sem_acquire_timeout(s, MS(5)), -ETIMEDOUT);
	assert_int_equal(timeouts_now() - t0, 1);
	t0 = timeouts_now();
	assert_int_equal(coil_deadline_enter(&d, MS(5)), 0);
	assert_int_equal(coil_offload(slow_job, NULL, NULL), -ETIMEDOUT);
	coil_deadline_exit(&d);
	assert_int_equal(timeouts_now() - t0, 1);
	/* The scope has passed before the wait: it ends at once, counted. */
	t0 = timeouts_now();
	assert_int_equal(coil_deadline_enter(&d, 0), 0);
	assert_int_equal(coil_event_wait(ev), -ETIMEDOUT);
	coil_deadline_exit(&d);
	assert_int_equal(timeouts_now() - t0, 1);
	assert_int_equal(coil_mutex_unlock(m), 0);
	assert_int_equal(coil_mutex_destroy(m), 0);
	assert_int_equal(coil_sem_destroy(s), 0);
	assert_int_equal(coil_event_destroy(ev), 0);
	return NULL;
}

static void test_deadline_each_timed_out_wait_counts_once(void **state)
{
	(void)state;
	test_run(body_each_timeout_counted_once, NULL);
}

static void test_deadline_sleep_timeout_is_counted(void **state)
{
	(void)state;
	run_sleep_timeout_counted(COIL_TIMER_HEAP);
}

static void test_deadline_sleep_timeout_is_counted_per_op(void **state)
{
	(void)state;
	run_sleep_timeout_counted(COIL_TIMER_PER_OP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deadline_null_scope_is_einval),
		cmocka_unit_test(test_recv_timeout_on_silent_socketpair),
		cmocka_unit_test(test_recv_timeout_on_silent_tcp_loopback),
		cmocka_unit_test(test_recv_timeout_not_hit_returns_data),
		cmocka_unit_test(test_deadline_scope_fails_every_later_op),
		cmocka_unit_test(test_deadline_nested_earliest_wins),
		cmocka_unit_test(test_deadline_around_join_times_out),
		cmocka_unit_test(test_deadline_shorter_than_sleep_times_out),
		cmocka_unit_test(test_deadline_shorter_than_sleep_times_out_per_op),
		cmocka_unit_test(test_deadline_bounds_wait_any),
		cmocka_unit_test(test_deadline_sleep_timeout_is_counted),
		cmocka_unit_test(test_deadline_sleep_timeout_is_counted_per_op),
		cmocka_unit_test(test_deadline_bounds_ops_with_any_negative_timeout),
		cmocka_unit_test(test_deadline_each_timed_out_wait_counts_once),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, test_fd_setup, test_fd_teardown);
}
