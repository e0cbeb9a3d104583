/* SPDX-License-Identifier: MIT */
/*
 * tests/test_diag.c - diagnostics: counters, the task dump, error strings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define PTR(x) ((void *)(intptr_t)(x))

static void *return_arg(void *arg)
{
	return arg;
}

static void *body_stats(void *arg)
{
	struct coil_stats a, b;
	struct coil_task *t;
	char buf[8];
	int p[2];

	(void)arg;
	assert_int_equal(coil_stats_get(&a), 0);
	assert_int_equal(a.tasks_spawned, 1); /* main */
	assert_int_equal(a.tasks_live, 1);
	assert_int_equal(a.stacks_in_use, 1);
	assert_true(a.sq_entries > 0);
	assert_true(a.cq_entries >= 2 * a.sq_entries);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(coil_spawn(&t, return_arg, NULL), 0);
	assert_int_equal(coil_write(p[1], "abc", 3, -1), 3);
	assert_int_equal(coil_read(p[0], buf, sizeof(buf), -1), 3);
	assert_int_equal(coil_sleep(MS(1)), 0);
	assert_int_equal(coil_join(t, NULL), 0);
	assert_int_equal(coil_recv_timeout(p[0], buf, 1, 0, MS(1)),
			 -ENOTSOCK); /* fails in the kernel, not by timeout */
	assert_int_equal(coil_stats_get(&b), 0);
	assert_int_equal(b.tasks_spawned, 2);
	assert_int_equal(b.tasks_live, 1);
	assert_true(b.switches > a.switches);
	assert_true(b.loop_turns > a.loop_turns);
	assert_true(b.enter_calls > a.enter_calls);
	assert_true(b.sqes_submitted >= a.sqes_submitted + 2);
	assert_true(b.cqes_reaped >= a.cqes_reaped + 2);
	assert_int_equal(b.timeouts, a.timeouts);
	assert_int_equal(coil_close(p[0]), 0);
	assert_int_equal(coil_close(p[1]), 0);
	return NULL;
}

static void test_stats_counters_move(void **state)
{
	(void)state;
	test_run(body_stats, NULL);
}

static void *sleep_long(void *arg)
{
	(void)arg;
	coil_sleep(3600 * COIL_NSEC_PER_SEC);
	return NULL;
}

static void *body_cancel_counts(void *arg)
{
	struct coil_stats a, b;
	struct coil_task *t;

	(void)arg;
	assert_int_equal(coil_spawn(&t, sleep_long, NULL), 0);
	assert_int_equal(coil_yield(), 0);
	coil_stats_get(&a);
	assert_int_equal(coil_cancel(t), 0);
	assert_int_equal(coil_cancel(t), 0); /* already cancelled: no-op */
	coil_stats_get(&b);
	assert_int_equal(b.cancels, a.cancels + 1);
	assert_int_equal(coil_join(t, NULL), -ECANCELED);
	return NULL;
}

static void test_stats_count_cancels_once(void **state)
{
	(void)state;
	test_run(body_cancel_counts, NULL);
}

/* --------------------------------------------------------- dump */

static const char *const dump_names[] = { "alpha", "beta", "gamma" };

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void *body_dump(void *arg)
{
	struct coil_spawn_opts so = { .stack_size = 16 * 1024 };
	struct coil_task *t[3];
	char out[4096];
	ssize_t n;
	int p[2], i;

	(void)arg;
	for (i = 0; i < 3; i++) {
		so.name = dump_names[i];
		assert_int_equal(coil_spawn_opts(&t[i], &so, sleep_long, NULL),
				 0);
	}
	assert_int_equal(coil_yield(), 0); /* all three are asleep */
	assert_int_equal(pipe(p), 0);
	/* main + 3 tasks, each on a line after a header line. */
	assert_int_equal(coil_dump(p[1]), 4);
	n = read(p[0], out, sizeof(out) - 1);
	assert_true(n > 0);
	out[n] = '\0';
	assert_int_equal(count_lines(out), 1 + 4);
	for (i = 0; i < 3; i++)
		assert_non_null(strstr(out, dump_names[i]));
	assert_non_null(strstr(out, "sleep"));
	assert_non_null(strstr(out, "16384"));
	assert_int_equal(coil_dump(-1), -EBADF);
	for (i = 0; i < 3; i++)
		coil_cancel(t[i]);
	assert_int_equal(coil_gather(t, 3, NULL, NULL), -ECANCELED);
	assert_int_equal(coil_dump(p[1]), 1);
	close(p[0]);
	close(p[1]);
	return NULL;
}

static void test_dump_lists_live_tasks_by_name(void **state)
{
	(void)state;
	test_run(body_dump, NULL);
}

static void test_dump_outside_runtime_is_eperm(void **state)
{
	(void)state;
	assert_int_equal(coil_dump(STDERR_FILENO), -EPERM);
}

/* ------------------------------------------------------ strerror */

static void test_strerror_names_coil_errors(void **state)
{
	const char *c, *t;

	(void)state;
	c = coil_strerror(-ECANCELED);
	t = coil_strerror(-ETIMEDOUT);
	assert_non_null(c);
	assert_non_null(t);
	assert_true(strlen(c) > 3);
	assert_true(strlen(t) > 3);
	assert_string_not_equal(c, t);
	/* Positive errno works too, and means the same. */
	assert_string_equal(coil_strerror(ECANCELED), c);
	assert_non_null(strcasestr(c, "cancel"));
	assert_non_null(strcasestr(t, "time"));
	assert_non_null(coil_strerror(0));
	assert_non_null(coil_strerror(-100000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_counters_move),
		cmocka_unit_test(test_stats_count_cancels_once),
		cmocka_unit_test(test_dump_lists_live_tasks_by_name),
		cmocka_unit_test(test_dump_outside_runtime_is_eperm),
		cmocka_unit_test(test_strerror_names_coil_errors),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, test_fd_setup, test_fd_teardown);
}
