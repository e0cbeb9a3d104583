/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sleep.c - coil_sleep() in both timer modes: mass sleepers all
 * wake, shorter sleeps wake first, sleep(0) yields, sleeps last long enough.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define PTR(x) ((void *)(intptr_t)(x))
#define INT(p) ((int)(intptr_t)(p))

#define MASS_SLEEPERS 100000

static int woke, sleep_failures;

static void *sleep_and_count(void *arg)
{
	if (coil_sleep((uint64_t)INT(arg) * COIL_NSEC_PER_USEC) != 0)
		sleep_failures++;
	else
		woke++;
	return NULL;
}

static void *body_mass_sleepers(void *arg)
{
	struct coil_spawn_opts so = { .stack_size = 16 * 1024,
				      .name = "sleeper" };
	struct coil_stats st;
	int i;

	(void)arg;
	woke = 0;
	sleep_failures = 0;
	for (i = 0; i < MASS_SLEEPERS; i++) {
		/* Deadlines spread over 0..50 ms, not in spawn order. */
		int us = (int)(((unsigned)i * 7919u) % 50000u);

		assert_int_equal(coil_spawn_opts(NULL, &so, sleep_and_count,
						 PTR(us)), 0);
	}
	assert_int_equal(coil_stats_get(&st), 0);
	assert_int_equal(st.tasks_live, MASS_SLEEPERS + 1);
	while (woke + sleep_failures < MASS_SLEEPERS)
		assert_int_equal(coil_sleep(MS(10)), 0);
	assert_int_equal(sleep_failures, 0);
	assert_int_equal(woke, MASS_SLEEPERS);
	return NULL;
}

static void run_mass_sleepers(enum coil_timer_mode mode)
{
	struct coil_options o;

	coil_options_init(&o);
	o.timer_mode = mode;
	test_run_opts(&o, body_mass_sleepers, NULL, 0);
}

static void test_sleep_100k_sleepers_all_wake(void **state)
{
	(void)state;
	run_mass_sleepers(COIL_TIMER_HEAP);
}

static void test_sleep_100k_sleepers_all_wake_per_op(void **state)
{
	(void)state;
	run_mass_sleepers(COIL_TIMER_PER_OP);
}

/* ---------------------------------------------------- ordering */

#define ORDER_N 20

static int wake_order[ORDER_N], woken_n;
static int64_t order_step;

static void *sleep_and_record(void *arg)
{
	int i = INT(arg);

	/*
	 * Spawned in descending index, deadlines ascending by index: the
	 * step between them must exceed the time it takes to start the next
	 * sleeper (far longer under Valgrind).
	 */
	assert_int_equal(coil_sleep(order_step * (i + 1)), 0);
	wake_order[woken_n++] = i;
	return NULL;
}

static void *body_order(void *arg)
{
	struct coil_task *t[ORDER_N];
	int i;

	(void)arg;
	woken_n = 0;
	order_step = test_under_valgrind() ? MS(20) : MS(2);
	for (i = ORDER_N - 1; i >= 0; i--)
		assert_int_equal(coil_spawn(&t[i], sleep_and_record, PTR(i)), 0);
	assert_int_equal(coil_gather(t, ORDER_N, NULL, NULL), 0);
	assert_int_equal(woken_n, ORDER_N);
	for (i = 0; i < ORDER_N; i++)
		assert_int_equal(wake_order[i], i);
	return NULL;
}

static void run_order(enum coil_timer_mode mode)
{
	struct coil_options o;

	coil_options_init(&o);
	o.timer_mode = mode;
	test_run_opts(&o, body_order, NULL, 0);
}

static void test_sleep_shorter_sleeps_wake_first(void **state)
{
	(void)state;
	run_order(COIL_TIMER_HEAP);
}

static void test_sleep_shorter_sleeps_wake_first_per_op(void **state)
{
	(void)state;
	run_order(COIL_TIMER_PER_OP);
}

/* --------------------------------------------------- duration */

static void *body_duration(void *arg)
{
	uint64_t start = coil_now();
	int64_t took;

	(void)arg;
	assert_int_equal(coil_sleep(MS(30)), 0);
	took = test_elapsed_ns(start);
	assert_true(took >= MS(30));
	assert_true(took < MS(30 + 250));
	/* A deadline already past returns at once. */
	start = coil_now();
	assert_int_equal(coil_sleep_until(coil_now() - 1), 0);
	assert_true(test_elapsed_ns(start) < MS(50));
	start = coil_now();
	assert_int_equal(coil_sleep_until(start + MS(20)), 0);
	assert_true(coil_now() >= start + MS(20));
	return NULL;
}

static void run_duration(enum coil_timer_mode mode)
{
	struct coil_options o;

	coil_options_init(&o);
	o.timer_mode = mode;
	test_run_opts(&o, body_duration, NULL, 0);
}

static void test_sleep_lasts_at_least_its_duration(void **state)
{
	(void)state;
	run_duration(COIL_TIMER_HEAP);
}

static void test_sleep_lasts_at_least_its_duration_per_op(void **state)
{
	(void)state;
	run_duration(COIL_TIMER_PER_OP);
}

/* --------------------------------------------------- sleep(0) */

static void *set_flag(void *arg)
{
	*(int *)arg = 1;
	return NULL;
}

static void *body_sleep_zero(void *arg)
{
	struct coil_task *t;
	int flag = 0;

	(void)arg;
	assert_int_equal(coil_spawn(&t, set_flag, &flag), 0);
	assert_int_equal(coil_sleep(0), 0);
	assert_int_equal(flag, 1);
	assert_int_equal(coil_join(t, NULL), 0);
	return NULL;
}

static void test_sleep_zero_yields(void **state)
{
	(void)state;
	test_run(body_sleep_zero, NULL);
}

static void *sleep_hour(void *arg)
{
	(void)arg;
	return PTR(coil_sleep(3600 * COIL_NSEC_PER_SEC));
}

static void *body_cancel_sleep(void *arg)
{
	struct coil_task *t;
	void *res = NULL;
	uint64_t start = coil_now();

	(void)arg;
	assert_int_equal(coil_spawn(&t, sleep_hour, NULL), 0);
	assert_int_equal(coil_sleep(MS(2)), 0);
	assert_int_equal(coil_cancel(t), 0);
	assert_int_equal(coil_join(t, &res), -ECANCELED);
	assert_int_equal(INT(res), -ECANCELED);
	assert_true(test_elapsed_ns(start) < MS(500));
	return NULL;
}

static void run_cancel_sleep(enum coil_timer_mode mode)
{
	struct coil_options o;

	coil_options_init(&o);
	o.timer_mode = mode;
	test_run_opts(&o, body_cancel_sleep, NULL, 0);
}

static void test_sleep_cancelled_returns_ecanceled(void **state)
{
	(void)state;
	run_cancel_sleep(COIL_TIMER_HEAP);
}

static void test_sleep_cancelled_returns_ecanceled_per_op(void **state)
{
	(void)state;
	run_cancel_sleep(COIL_TIMER_PER_OP);
}

/* ------------------------------------------ timers vs busy tasks */

#define SPIN_GIVE_UP_MS 2000

struct starve {
	int woke;            /* the sleeper has woken */
	uint64_t start;
	int64_t woke_after;  /* ns from start to the sleeper's wake-up */
};

static struct starve starve;

/* Yields until the sleeper wakes (or gives up, so a bug cannot hang). */
static void *spin_yielding(void *arg)
{
	(void)arg;
	while (!starve.woke && test_elapsed_ns(starve.start) <
				       MS(SPIN_GIVE_UP_MS))
		coil_yield();
	return NULL;
}

static void *sleep_10ms_then_flag(void *arg)
{
	(void)arg;
	coil_sleep(MS(10));
	starve.woke_after = test_elapsed_ns(starve.start);
	starve.woke = 1;
	return NULL;
}

static void *body_busy_yielders(void *arg)
{
	struct coil_task *t[3];

	(void)arg;
	memset(&starve, 0, sizeof(starve));
	starve.start = coil_now();
	assert_int_equal(coil_spawn(&t[0], spin_yielding, NULL), 0);
	assert_int_equal(coil_spawn(&t[1], spin_yielding, NULL), 0);
	assert_int_equal(coil_spawn(&t[2], sleep_10ms_then_flag, NULL), 0);
	assert_int_equal(coil_gather(t, 3, NULL, NULL), 0);
	return NULL;
}

static void run_busy_yielders(enum coil_timer_mode mode)
{
	struct coil_options o;

	coil_options_init(&o);
	o.timer_mode = mode;
	test_run_opts(&o, body_busy_yielders, NULL, 0);
	/* Two tasks that only yield must not keep a due timer from firing. */
	assert_true(starve.woke);
	if (starve.woke_after >= MS(10 + 250))
		print_message("sleeper of 10 ms woke after %lld ms\n",
			      (long long)(starve.woke_after / MS(1)));
	assert_true(starve.woke_after >= MS(10));
	assert_true(starve.woke_after < MS(10 + 250));
}

static void test_sleep_wakes_while_others_busy_yield(void **state)
{
	(void)state;
	run_busy_yielders(COIL_TIMER_HEAP);
}

static void test_sleep_wakes_while_others_busy_yield_per_op(void **state)
{
	(void)state;
	run_busy_yielders(COIL_TIMER_PER_OP);
}

/* ---------------------------------------------- huge durations */

static int huge_sleep_ret;

static void *sleep_huge(void *arg)
{
	(void)arg;
	/* now + this overflows 64 bits: it must not wrap to the past. */
	huge_sleep_ret = coil_sleep(UINT64_MAX - 1000);
	return NULL;
}

static void *body_huge_sleep(void *arg)
{
	struct coil_task *t;
	int *still_asleep = arg;

	huge_sleep_ret = 1;
	assert_int_equal(coil_spawn(&t, sleep_huge, NULL), 0);
	assert_int_equal(coil_sleep(MS(20)), 0);
	*still_asleep = !coil_task_is_done(t);
	coil_cancel(t);
	coil_join(t, NULL);
	return NULL;
}

static void run_huge_sleep(enum coil_timer_mode mode)
{
	struct coil_options o;
	int still_asleep = 0;

	coil_options_init(&o);
	o.timer_mode = mode;
	test_run_opts(&o, body_huge_sleep, &still_asleep, 0);
	if (!still_asleep)
		print_message("coil_sleep(UINT64_MAX - 1000) returned %d at "
			      "once\n", huge_sleep_ret);
	assert_true(still_asleep);
	assert_int_equal(huge_sleep_ret, -ECANCELED);
}

static void test_sleep_huge_duration_does_not_wrap(void **state)
{
	(void)state;
	run_huge_sleep(COIL_TIMER_HEAP);
}

static void test_sleep_huge_duration_does_not_wrap_per_op(void **state)
{
	(void)state;
	run_huge_sleep(COIL_TIMER_PER_OP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sleep_100k_sleepers_all_wake),
		cmocka_unit_test(test_sleep_100k_sleepers_all_wake_per_op),
		cmocka_unit_test(test_sleep_shorter_sleeps_wake_first),
		cmocka_unit_test(test_sleep_shorter_sleeps_wake_first_per_op),
		cmocka_unit_test(test_sleep_lasts_at_least_its_duration),
		cmocka_unit_test(test_sleep_lasts_at_least_its_duration_per_op),
		cmocka_unit_test(test_sleep_zero_yields),
		cmocka_unit_test(test_sleep_cancelled_returns_ecanceled),
		cmocka_unit_test(test_sleep_cancelled_returns_ecanceled_per_op),
		cmocka_unit_test(test_sleep_wakes_while_others_busy_yield),
		cmocka_unit_test(test_sleep_wakes_while_others_busy_yield_per_op),
		cmocka_unit_test(test_sleep_huge_duration_does_not_wrap),
		cmocka_unit_test(test_sleep_huge_duration_does_not_wrap_per_op),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, test_fd_setup, test_fd_teardown);
}
