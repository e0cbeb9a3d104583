/* SPDX-License-Identifier: MIT */
/*
 * tests/test_group.c - task groups: join waits for every child, the first
 * failure cancels the rest, cancelling the parent cancels the children.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <coil.h>

#define WATCHDOG_S 15
#include "harness.h"

#define NKIDS 4
#define LONG_SLEEP (10 * COIL_NSEC_PER_SEC)

/* What one child saw. */
struct kid {
	int64_t sleep_ns;  /* how long it sleeps */
	int fail_with;     /* negative: return this errno after sleeping */
	int sleep_ret;     /* what coil_sleep() returned; 1 until then */
	int fail_if_cancelled; /* return this (negative) when cancelled */
};

static void *kid_main(void *arg)
{
	struct kid *k = arg;

	k->sleep_ret = coil_sleep((uint64_t)k->sleep_ns);
	if (k->sleep_ret == -ECANCELED && k->fail_if_cancelled)
		return PTR(k->fail_if_cancelled);
	if (k->fail_with)
		return PTR(k->fail_with);
	return k; /* a pointer result is not a failure */
}

static void kids_init(struct kid *k, int n, int64_t sleep_ns)
{
	int i;

	memset(k, 0, sizeof(*k) * (size_t)n);
	for (i = 0; i < n; i++) {
		k[i].sleep_ns = sleep_ns;
		k[i].sleep_ret = 1;
	}
}

static void *body_join_waits(void *arg)
{
	struct kid k[NKIDS];
	struct coil_group *g;
	uint64_t start = coil_now();
	int i;

	(void)arg;
	kids_init(k, NKIDS, 0);
	CHECK_EQ(coil_group_create(&g), 0);
	for (i = 0; i < NKIDS; i++) {
		k[i].sleep_ns = MS(5) * (NKIDS - i); /* finish out of order */
		CHECK_EQ(coil_group_spawn(g, kid_main, &k[i]), 0);
	}
	CHECK_EQ(coil_group_join(g), 0);
	CHECK(elapsed_ns(start) >= MS(5) * NKIDS);
	for (i = 0; i < NKIDS; i++)
		CHECK_EQ(k[i].sleep_ret, 0);
	return NULL;
}

static void test_group_join_waits_for_all_children(void **state)
{
	(void)state;
	run_main(body_join_waits, NULL);
}

static void *body_empty(void *arg)
{
	struct coil_group *g;

	(void)arg;
	CHECK_EQ(coil_group_create(&g), 0);
	CHECK_EQ(coil_group_join(g), 0);
	return NULL;
}

static void test_group_empty_join_returns_zero(void **state)
{
	struct coil_group *g;

	(void)state;
	assert_int_equal(coil_group_create(&g), -EPERM); /* not in a task */
	run_main(body_empty, NULL);
}

static void *body_failure_cancels(void *arg)
{
	struct kid k[NKIDS + 1];
	struct coil_group *g;
	uint64_t start = coil_now();
	int i;

	(void)arg;
	kids_init(k, NKIDS + 1, LONG_SLEEP);
	k[NKIDS].sleep_ns = MS(10);
	k[NKIDS].fail_with = -EIO;
	CHECK_EQ(coil_group_create(&g), 0);
	for (i = 0; i <= NKIDS; i++)
		CHECK_EQ(coil_group_spawn(g, kid_main, &k[i]), 0);
	CHECK_EQ(coil_group_join(g), -EIO);
	CHECK(elapsed_ns(start) < MS(1000));
	for (i = 0; i < NKIDS; i++)
		CHECK_EQ(k[i].sleep_ret, -ECANCELED);
	CHECK_EQ(k[NKIDS].sleep_ret, 0);
	return NULL;
}

static void test_group_first_failure_cancels_siblings(void **state)
{
	(void)state;
	run_main(body_failure_cancels, NULL);
}

static void *body_first_failure_wins(void *arg)
{
	struct kid k[3];
	struct coil_group *g;
	int i;

	(void)arg;
	kids_init(k, 3, LONG_SLEEP);
	/* Children 0 and 1 fail with -ENOENT when cancelled. */
	k[0].fail_if_cancelled = -ENOENT;
	k[1].fail_if_cancelled = -ENOENT;
	k[2].sleep_ns = MS(5);
	k[2].fail_with = -EIO;
	CHECK_EQ(coil_group_create(&g), 0);
	for (i = 0; i < 3; i++)
		CHECK_EQ(coil_group_spawn(g, kid_main, &k[i]), 0);
	CHECK_EQ(coil_group_join(g), -EIO);
	CHECK_EQ(k[0].sleep_ret, -ECANCELED);
	CHECK_EQ(k[1].sleep_ret, -ECANCELED);
	return NULL;
}

static void test_group_join_returns_first_failure(void **state)
{
	(void)state;
	run_main(body_first_failure_wins, NULL);
}

/* A parent task that runs a group of long sleepers and joins it. */
struct parent {
	struct kid k[NKIDS];
	int join_ret;
};

static void *parent_main(void *arg)
{
	struct parent *p = arg;
	struct coil_group *g;
	int i;

	p->join_ret = 1;
	kids_init(p->k, NKIDS, LONG_SLEEP);
	if (coil_group_create(&g))
		return FAILED;
	for (i = 0; i < NKIDS; i++)
		if (coil_group_spawn(g, kid_main, &p->k[i]))
			return FAILED;
	p->join_ret = coil_group_join(g);
	return NULL;
}

static void *body_parent_cancelled(void *arg)
{
	struct parent p;
	struct coil_task *t;
	uint64_t start = coil_now();
	void *res = NULL;
	int i;

	(void)arg;
	CHECK_EQ(coil_spawn(&t, parent_main, &p), 0);
	CHECK_EQ(coil_sleep(MS(10)), 0); /* the parent waits in join */
	CHECK_EQ(p.join_ret, 1);
	CHECK_EQ(coil_cancel(t), 0);
	CHECK_EQ(coil_join(t, &res), -ECANCELED);
	CHECK(res == NULL);
	CHECK_EQ(p.join_ret, -ECANCELED);
	CHECK(elapsed_ns(start) < MS(1000));
	for (i = 0; i < NKIDS; i++)
		CHECK_EQ(p.k[i].sleep_ret, -ECANCELED);
	return NULL;
}

static void test_group_cancelled_parent_cancels_children(void **state)
{
	(void)state;
	run_main(body_parent_cancelled, NULL);
}

static void *body_spawn_into_failing(void *arg)
{
	struct kid k[2];
	struct coil_group *g;

	(void)arg;
	kids_init(k, 2, 0);
	k[0].fail_with = -EIO;
	CHECK_EQ(coil_group_create(&g), 0);
	CHECK_EQ(coil_group_spawn(g, kid_main, &k[0]), 0);
	CHECK_EQ(yield_n(3), 0); /* it failed */
	CHECK_EQ(coil_group_spawn(g, kid_main, &k[1]), -ECANCELED);
	CHECK_EQ(k[1].sleep_ret, 1); /* never started */
	CHECK_EQ(coil_group_join(g), -EIO);
	return NULL;
}

static void test_group_spawn_into_failing_group_is_ecanceled(void **state)
{
	(void)state;
	run_main(body_spawn_into_failing, NULL);
}

static void *body_group_cancel(void *arg)
{
	struct kid k[NKIDS + 1];
	struct coil_group *g;
	uint64_t start = coil_now();
	int i;

	(void)arg;
	kids_init(k, NKIDS + 1, LONG_SLEEP);
	for (i = 0; i < NKIDS + 1; i++)
		k[i].fail_if_cancelled = -ECANCELED;
	CHECK_EQ(coil_group_create(&g), 0);
	for (i = 0; i < NKIDS; i++)
		CHECK_EQ(coil_group_spawn(g, kid_main, &k[i]), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(coil_group_cancel(g), 0);
	CHECK_EQ(coil_group_spawn(g, kid_main, &k[NKIDS]), -ECANCELED);
	/* Children that end in -ECANCELED did as told: not a failure. */
	CHECK_EQ(coil_group_join(g), 0);
	CHECK(elapsed_ns(start) < MS(1000));
	for (i = 0; i < NKIDS; i++)
		CHECK_EQ(k[i].sleep_ret, -ECANCELED);
	CHECK_EQ(k[NKIDS].sleep_ret, 1); /* never started */
	return NULL;
}

static void test_group_cancel_cancels_every_child(void **state)
{
	(void)state;
	run_main(body_group_cancel, NULL);
}

/* A child failing otherwise while it winds down is the group's failure. */
static void *body_group_cancel_keeps_failure(void *arg)
{
	struct kid k[NKIDS];
	struct coil_group *g;
	int i;

	(void)arg;
	kids_init(k, NKIDS, LONG_SLEEP);
	CHECK_EQ(coil_group_create(&g), 0);
	for (i = 0; i < NKIDS; i++) {
		k[i].fail_if_cancelled = i == 2 ? -EIO : -ECANCELED;
		CHECK_EQ(coil_group_spawn(g, kid_main, &k[i]), 0);
	}
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(coil_group_cancel(g), 0);
	CHECK_EQ(coil_group_join(g), -EIO);
	return NULL;
}

static void test_group_cancel_keeps_a_real_failure(void **state)
{
	(void)state;
	run_main(body_group_cancel_keeps_failure, NULL);
}

/* A child that, while the parent waits in join, adds a sibling. */
struct spawner {
	struct coil_group *g;
	struct kid late;   /* the sibling it adds */
	int spawn_ret;
};

static void *spawner_main(void *arg)
{
	struct spawner *sp = arg;

	coil_sleep((uint64_t)MS(5)); /* the parent is in join by now */
	sp->spawn_ret = coil_group_spawn(sp->g, kid_main, &sp->late);
	return NULL;
}

static void *body_child_spawns(void *arg)
{
	/* Static: if join returns early, the late child must not write
	 * into a dead stack frame. */
	static struct spawner sp;

	(void)arg;
	memset(&sp, 0, sizeof(sp));
	kids_init(&sp.late, 1, MS(30));
	sp.spawn_ret = 1;
	CHECK_EQ(coil_group_create(&sp.g), 0);
	CHECK_EQ(coil_group_spawn(sp.g, spawner_main, &sp), 0);
	CHECK_EQ(coil_group_join(sp.g), 0);
	CHECK_EQ(sp.spawn_ret, 0);
	/* asyncio.TaskGroup waits for tasks added while it is exiting. */
	CHECK_EQ(sp.late.sleep_ret, 0);
	return NULL;
}

static void test_group_join_waits_for_child_spawned_during_join(void **state)
{
	(void)state;
	run_main(body_child_spawns, NULL);
}

/*
 * Regression: a child that joins the task running coil_group_join() cannot
 * be collected (-EDEADLK); the group must stay alive until that child ends
 * (it used to be freed under the child: use-after-free under ASan).
 */
static struct coil_task *uncollected_parent;
static int uncollected_child_join = 1;

static void *child_joins_parent(void *arg)
{
	(void)arg;
	uncollected_child_join = coil_join(uncollected_parent, NULL);
	return PTR(-EIO);
}

static void *parent_with_group(void *arg)
{
	struct coil_group *g;
	int *ret = arg;

	if (coil_group_create(&g))
		return FAILED;
	if (coil_group_spawn(g, child_joins_parent, NULL))
		return FAILED;
	coil_yield(); /* the child now joins us */
	*ret = coil_group_join(g);
	return NULL;
}

static void *body_uncollected_child(void *arg)
{
	int ret = 1;

	(void)arg;
	CHECK_EQ(coil_spawn(&uncollected_parent, parent_with_group, &ret), 0);
	CHECK_EQ(coil_sleep(MS(30)), 0);
	/* The parent's join could not collect its child: it says so. */
	CHECK_EQ(ret, -EDEADLK);
	/* The child's join of the parent completed once the parent ended. */
	CHECK_EQ(uncollected_child_join, 0);
	return NULL;
}

static void test_group_join_of_child_joining_parent_keeps_group_alive(
	void **state)
{
	(void)state;
	run_main(body_uncollected_child, NULL);
}

/*
 * A group whose join has returned but that still lives (a child it could
 * not collect holds it) is closed: a spawn into it must fail, else the new
 * child's handle is owned by nobody and is never joined.
 */
static struct coil_task *closed_parent;
static int closed_spawn_ret = 1;
static struct coil_group *closed_group;

static void *late_kid(void *arg)
{
	(void)arg;
	return NULL;
}

static void *child_joins_then_spawns(void *arg)
{
	(void)arg;
	coil_join(closed_parent, NULL); /* the parent's join has returned */
	closed_spawn_ret = coil_group_spawn(closed_group, late_kid, NULL);
	return NULL;
}

static void *parent_joins_group(void *arg)
{
	int *ret = arg;

	if (coil_group_create(&closed_group))
		return FAILED;
	if (coil_group_spawn(closed_group, child_joins_then_spawns, NULL))
		return FAILED;
	coil_yield(); /* the child now joins us */
	*ret = coil_group_join(closed_group);
	return NULL;
}

static void *body_spawn_into_joined(void *arg)
{
	int ret = 1;

	(void)arg;
	CHECK_EQ(coil_spawn(&closed_parent, parent_joins_group, &ret), 0);
	CHECK_EQ(coil_sleep(MS(30)), 0);
	CHECK_EQ(ret, -EDEADLK);
	CHECK_EQ(closed_spawn_ret, -ECANCELED);
	return NULL;
}

static void test_group_spawn_after_join_returned_is_ecanceled(void **state)
{
	(void)state;
	run_main(body_spawn_into_joined, NULL);
}

/* A child's failure below INT_MIN must not read as success (or > 0). */
static void *kid_fails_wide(void *arg)
{
	return PTR(*(intptr_t *)arg);
}

static void *body_wide_failure(void *arg)
{
	static intptr_t v[] = { -((intptr_t)1 << 32), -((intptr_t)1 << 32) + 5 };
	struct coil_group *g;
	int i;

	(void)arg;
	for (i = 0; i < 2; i++) {
		CHECK_EQ(coil_group_create(&g), 0);
		CHECK_EQ(coil_group_spawn(g, kid_fails_wide, &v[i]), 0);
		CHECK(coil_group_join(g) < 0);
	}
	return NULL;
}

static void test_group_failure_below_int_min_is_negative(void **state)
{
	(void)state;
	run_main(body_wide_failure, NULL);
}

/*
 * After the join met a child it could not collect (-EDEADLK), a later
 * child failure must still cancel the siblings: the join waits for them.
 */
static struct coil_task *deadlk_parent;
static struct kid deadlk_kids[2];

static void *child_joins_deadlk_parent(void *arg)
{
	(void)arg;
	coil_join(deadlk_parent, NULL);
	return NULL;
}

static void *parent_group_with_deadlk(void *arg)
{
	struct coil_group *g;
	int *ret = arg;

	kids_init(deadlk_kids, 2, LONG_SLEEP);
	deadlk_kids[1].sleep_ns = MS(5);
	deadlk_kids[1].fail_with = -EIO;
	if (coil_group_create(&g))
		return FAILED;
	if (coil_group_spawn(g, child_joins_deadlk_parent, NULL) ||
	    coil_group_spawn(g, kid_main, &deadlk_kids[0]) ||
	    coil_group_spawn(g, kid_main, &deadlk_kids[1]))
		return FAILED;
	coil_yield(); /* the first child now joins us */
	*ret = coil_group_join(g);
	return NULL;
}

static void *body_failure_after_deadlk(void *arg)
{
	uint64_t start = coil_now();
	int ret = 1;

	(void)arg;
	CHECK_EQ(coil_spawn(&deadlk_parent, parent_group_with_deadlk, &ret),
		 0);
	while (ret == 1 && elapsed_ns(start) < 2 * LONG_SLEEP)
		CHECK_EQ(coil_sleep(MS(5)), 0);
	CHECK(elapsed_ns(start) < MS(1000));
	CHECK_EQ(ret, -EDEADLK);
	CHECK_EQ(deadlk_kids[0].sleep_ret, -ECANCELED);
	CHECK_EQ(coil_sleep(MS(5)), 0); /* the uncollected child ends */
	return NULL;
}

static void test_group_failure_after_uncollectable_child_cancels_siblings(
	void **state)
{
	(void)state;
	run_main(body_failure_after_deadlk, NULL);
}

/*
 * Another task joins a child of the group; the child's task struct goes
 * back to the free list and the next spawn (an unrelated task) gets it.
 * The group's cancel and join used to act on that task through their
 * stale pointer: they cancelled it and collected its handle. Now they
 * leave it alone, and the join reports the child it could not collect.
 */
struct stolen {
	struct coil_task *child;  /* the child's coil_self() */
	struct coil_event *go;    /* what the unrelated task waits on */
	int wait_ret;             /* its coil_event_wait_timeout() */
};

static void *child_noting_self(void *arg)
{
	struct stolen *s = arg;

	s->child = coil_self();
	return NULL;
}

static void *unrelated_waiter(void *arg)
{
	struct stolen *s = arg;

	s->wait_ret = coil_event_wait_timeout(s->go, MS(2000));
	return NULL;
}

static void *body_group_child_joined_elsewhere(void *arg)
{
	struct stolen s = { .wait_ret = 1 };
	struct coil_group *g;
	struct coil_task *t;

	(void)arg;
	CHECK_EQ(coil_event_create(&s.go), 0);
	CHECK_EQ(coil_group_create(&g), 0);
	CHECK_EQ(coil_group_spawn(g, child_noting_self, &s), 0);
	CHECK_EQ(coil_yield(), 0); /* the child runs and ends */
	CHECK(s.child != NULL);
	CHECK_EQ(coil_join(s.child, NULL), 0); /* collected here, not by g */
	CHECK_EQ(coil_spawn(&t, unrelated_waiter, &s), 0);
	CHECK(t == s.child); /* the struct was reused: the case */
	CHECK_EQ(coil_yield(), 0); /* it waits now */
	CHECK_EQ(coil_group_cancel(g), 0);
	CHECK_EQ(coil_group_join(g), -EINVAL);
	CHECK_EQ(s.wait_ret, 1); /* not cancelled: still waiting */
	CHECK_EQ(coil_event_set(s.go), 0);
	CHECK_EQ(coil_join(t, NULL), 0); /* its handle is still ours */
	CHECK_EQ(s.wait_ret, 0);
	CHECK_EQ(coil_event_destroy(s.go), 0);
	return NULL;
}

static void test_group_leaves_a_reused_task_of_a_child_joined_elsewhere_alone(
	void **state)
{
	(void)state;
	run_main(body_group_child_joined_elsewhere, NULL);
}

/*
 * Two children where the first, once cancelled, needs the second to move
 * on: one waits on a condition (and must take the mutex back to return),
 * the other holds that mutex through a ten-second sleep.
 */
struct lock_pair {
	struct coil_mutex *m;
	struct coil_cond *c;
	int cond_ret, sleep_ret;
};

static void *cond_waiter(void *arg)
{
	struct lock_pair *p = arg;

	if (coil_mutex_lock(p->m) == 0) {
		p->cond_ret = coil_cond_wait(p->c, p->m);
		coil_mutex_unlock(p->m);
	}
	return NULL;
}

static void *lock_holder(void *arg)
{
	struct lock_pair *p = arg;

	if (coil_mutex_lock(p->m) == 0) {
		p->sleep_ret = coil_sleep(MS(10000));
		coil_mutex_unlock(p->m);
	}
	return NULL;
}

/*
 * The join's deadline passes: every child is cancelled at once. Cancelled
 * in join order, each awaited before the next is cancelled, the first
 * would wait for the mutex through the second's whole sleep.
 */
static void *body_group_deadline_cancels_all(void *arg)
{
	struct lock_pair p = { .cond_ret = 1, .sleep_ret = 1 };
	struct coil_group *g;
	struct coil_deadline dl;
	uint64_t start;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&p.m), 0);
	CHECK_EQ(coil_cond_create(&p.c), 0);
	CHECK_EQ(coil_group_create(&g), 0);
	CHECK_EQ(coil_group_spawn(g, cond_waiter, &p), 0);
	CHECK_EQ(coil_group_spawn(g, lock_holder, &p), 0);
	start = coil_now();
	CHECK_EQ(coil_deadline_enter(&dl, MS(50)), 0);
	CHECK_EQ(coil_group_join(g), -ETIMEDOUT);
	coil_deadline_exit(&dl);
	CHECK(elapsed_ns(start) < MS(2000));
	CHECK_EQ(p.sleep_ret, -ECANCELED);
	CHECK_EQ(p.cond_ret, -ECANCELED);
	CHECK_EQ(coil_cond_destroy(p.c), 0);
	CHECK_EQ(coil_mutex_destroy(p.m), 0);
	return NULL;
}

static void test_group_join_past_its_deadline_cancels_every_child_at_once(
	void **state)
{
	(void)state;
	run_main(body_group_deadline_cancels_all, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_join_waits_for_all_children),
		cmocka_unit_test(test_group_empty_join_returns_zero),
		cmocka_unit_test(test_group_first_failure_cancels_siblings),
		cmocka_unit_test(test_group_join_returns_first_failure),
		cmocka_unit_test(test_group_cancelled_parent_cancels_children),
		cmocka_unit_test(test_group_spawn_into_failing_group_is_ecanceled),
		cmocka_unit_test(test_group_cancel_cancels_every_child),
		cmocka_unit_test(test_group_cancel_keeps_a_real_failure),
		cmocka_unit_test(test_group_join_waits_for_child_spawned_during_join),
		cmocka_unit_test(
			test_group_join_of_child_joining_parent_keeps_group_alive),
		cmocka_unit_test(
			test_group_spawn_after_join_returned_is_ecanceled),
		cmocka_unit_test(test_group_failure_below_int_min_is_negative),
		cmocka_unit_test(
			test_group_failure_after_uncollectable_child_cancels_siblings),
		cmocka_unit_test(
			test_group_leaves_a_reused_task_of_a_child_joined_elsewhere_alone),
		cmocka_unit_test(
			test_group_join_past_its_deadline_cancels_every_child_at_once),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
