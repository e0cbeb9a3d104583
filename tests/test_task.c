/* SPDX-License-Identifier: MIT */
/*
 * tests/test_task.c - spawn, join, detach, cancel, yield, gather, wait_any.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "helpers.h"

#define PTR(x) ((void *)(intptr_t)(x))
#define INT(p) ((int)(intptr_t)(p))

static void *return_arg(void *arg)
{
	return arg;
}

static void *sleep_then_return(void *arg)
{
	coil_sleep(MS(1));
	return arg;
}

/* Sleeps an hour; returns what coil_sleep() returned. */
static void *sleep_long(void *arg)
{
	int ret = coil_sleep(3600 * COIL_NSEC_PER_SEC);

	if (arg)
		*(int *)arg = ret;
	return PTR(ret);
}

/* ------------------------------------------------------- join */

static void *body_join_returns_result(void *arg)
{
	struct coil_task *t;
	void *res = NULL;

	(void)arg;
	assert_int_equal(coil_spawn(&t, sleep_then_return, PTR(77)), 0);
	assert_int_equal(coil_join(t, &res), 0);
	assert_int_equal(INT(res), 77);
	/* A task that finished before the join. */
	assert_int_equal(coil_spawn(&t, return_arg, PTR(78)), 0);
	assert_int_equal(coil_yield(), 0);
	assert_true(coil_task_is_done(t));
	assert_int_equal(coil_join(t, &res), 0);
	assert_int_equal(INT(res), 78);
	return NULL;
}

static void test_join_returns_result(void **state)
{
	(void)state;
	test_run(body_join_returns_result, NULL);
}

static void *body_join_cancelled(void *arg)
{
	struct coil_task *t;
	void *res = NULL;
	int sleep_ret = 1;

	(void)arg;
	assert_int_equal(coil_spawn(&t, sleep_long, &sleep_ret), 0);
	assert_int_equal(coil_yield(), 0); /* let it start sleeping */
	assert_int_equal(coil_cancel(t), 0);
	assert_true(coil_task_is_cancelled(t));
	assert_int_equal(coil_join(t, &res), -ECANCELED);
	assert_int_equal(sleep_ret, -ECANCELED);
	assert_int_equal(INT(res), -ECANCELED); /* its result still arrives */
	return NULL;
}

static void test_join_cancelled_task_is_ecanceled(void **state)
{
	(void)state;
	test_run(body_join_cancelled, NULL);
}

static void *body_join_bad_handles(void *arg)
{
	(void)arg;
	assert_int_equal(coil_join(NULL, NULL), -EINVAL);
	assert_int_equal(coil_join(coil_self(), NULL), -EINVAL);
	assert_int_equal(coil_detach(NULL), -EINVAL);
	assert_int_equal(coil_spawn(NULL, NULL, NULL), -EINVAL);
	return NULL;
}

static void test_join_bad_handles_are_einval(void **state)
{
	(void)state;
	test_run(body_join_bad_handles, NULL);
}

struct second_join {
	struct coil_task *target;
	int ret;
	void *res;
};

static void *join_target(void *arg)
{
	struct second_join *sj = arg;

	sj->ret = coil_join(sj->target, &sj->res);
	return NULL;
}

static void *body_join_twice(void *arg)
{
	struct second_join sj = { .ret = 1 };
	struct coil_task *first;

	(void)arg;
	assert_int_equal(coil_spawn(&sj.target, sleep_then_return, PTR(5)), 0);
	assert_int_equal(coil_spawn(&first, join_target, &sj), 0);
	assert_int_equal(coil_yield(), 0); /* first joiner is now waiting */
	assert_int_equal(coil_join(sj.target, NULL), -EINVAL);
	assert_int_equal(coil_join(first, NULL), 0);
	assert_int_equal(sj.ret, 0);
	assert_int_equal(INT(sj.res), 5);
	return NULL;
}

static void test_join_same_handle_twice_is_einval(void **state)
{
	(void)state;
	test_run(body_join_twice, NULL);
}

static void *body_cancel_joiner(void *arg)
{
	struct second_join sj = { .ret = 1 };
	struct coil_task *joiner;
	int sleep_ret = 1;

	(void)arg;
	assert_int_equal(coil_spawn(&sj.target, sleep_long, &sleep_ret), 0);
	assert_int_equal(coil_spawn(&joiner, join_target, &sj), 0);
	assert_int_equal(coil_sleep(MS(2)), 0); /* both are blocked */
	assert_int_equal(coil_cancel(joiner), 0);
	assert_int_equal(coil_join(joiner, NULL), -ECANCELED);
	assert_int_equal(sj.ret, -ECANCELED);
	assert_int_equal(sleep_ret, -ECANCELED); /* the joined task too */
	assert_int_equal(INT(sj.res), -ECANCELED);
	return NULL;
}

static void test_cancel_joiner_cancels_joined_task(void **state)
{
	(void)state;
	test_run(body_cancel_joiner, NULL);
}

/*
 * A handle claimed by a join may not be detached as well: if it were, the
 * task would be freed twice (once as detached, once by the join).
 */
struct detach_joined {
	struct second_join sj;
	int detach_ret;
};

static void *body_detach_joined(void *arg)
{
	struct detach_joined *dj = arg;
	struct coil_task *joiner;

	assert_int_equal(coil_spawn(&dj->sj.target, sleep_then_return, PTR(3)),
			 0);
	assert_int_equal(coil_spawn(&joiner, join_target, &dj->sj), 0);
	assert_int_equal(coil_yield(), 0); /* the joiner is waiting */
	dj->detach_ret = coil_detach(dj->sj.target);
	assert_int_equal(coil_join(joiner, NULL), 0);
	/* Spawn nothing more: a double free would hand out one task twice. */
	return NULL;
}

static void test_detach_of_handle_being_joined_is_einval(void **state)
{
	struct detach_joined dj = { .sj = { .ret = 1 }, .detach_ret = 1 };

	(void)state;
	test_run(body_detach_joined, &dj);
	assert_int_equal(dj.detach_ret, -EINVAL);
	assert_int_equal(dj.sj.ret, 0);
	assert_int_equal(INT(dj.sj.res), 3);
}

/* ----------------------------------------------------- detach */

static int detached_ran;

static void *count_after_sleep(void *arg)
{
	(void)arg;
	coil_sleep(MS(1));
	detached_ran++;
	return NULL;
}

static void *body_detached(void *arg)
{
	struct coil_stats st;
	struct coil_task *t;
	int i;

	(void)arg;
	detached_ran = 0;
	for (i = 0; i < 100; i++)
		assert_int_equal(coil_spawn(NULL, count_after_sleep, NULL), 0);
	/* One detached after the fact, still running... */
	assert_int_equal(coil_spawn(&t, count_after_sleep, NULL), 0);
	assert_int_equal(coil_detach(t), 0);
	/* ...and one detached once finished. */
	assert_int_equal(coil_spawn(&t, return_arg, NULL), 0);
	assert_int_equal(coil_yield(), 0);
	assert_true(coil_task_is_done(t));
	assert_int_equal(coil_detach(t), 0);
	assert_int_equal(coil_stats_get(&st), 0);
	assert_int_equal(st.tasks_live, 1 + 101);
	assert_int_equal(coil_sleep(MS(20)), 0);
	assert_int_equal(detached_ran, 101);
	assert_int_equal(coil_stats_get(&st), 0);
	assert_int_equal(st.tasks_live, 1);
	assert_int_equal(st.stacks_in_use, 1);
	assert_int_equal(coil_detach(coil_self()), -EINVAL); /* main */
	return NULL;
}

static void test_detach_tasks_free_themselves(void **state)
{
	(void)state;
	test_run(body_detached, NULL);
}

/* ---------------------------------------------- order and yield */

#define FIFO_TASKS 10
#define FIFO_ROUNDS 3

struct trace {
	int log[FIFO_TASKS * FIFO_ROUNDS];
	int n;
};

static struct trace trace;

static void *append_rounds(void *arg)
{
	int i;

	for (i = 0; i < FIFO_ROUNDS; i++) {
		trace.log[trace.n++] = INT(arg);
		assert_int_equal(coil_yield(), 0);
	}
	return NULL;
}

static void *body_fifo(void *arg)
{
	struct coil_task *t[FIFO_TASKS];
	int i, r;

	(void)arg;
	memset(&trace, 0, sizeof(trace));
	for (i = 0; i < FIFO_TASKS; i++)
		assert_int_equal(coil_spawn(&t[i], append_rounds, PTR(i)), 0);
	/* Nothing runs until the spawner suspends. */
	assert_int_equal(trace.n, 0);
	assert_int_equal(coil_gather(t, FIFO_TASKS, NULL, NULL), 0);
	assert_int_equal(trace.n, FIFO_TASKS * FIFO_ROUNDS);
	for (r = 0; r < FIFO_ROUNDS; r++)
		for (i = 0; i < FIFO_TASKS; i++)
			assert_int_equal(trace.log[r * FIFO_TASKS + i], i);
	return NULL;
}

static void test_spawn_runs_tasks_in_fifo_order(void **state)
{
	(void)state;
	test_run(body_fifo, NULL);
}

static void *set_flag(void *arg)
{
	*(int *)arg = 1;
	return NULL;
}

static void *body_yield(void *arg)
{
	struct coil_task *t;
	int flag = 0;

	(void)arg;
	assert_int_equal(coil_spawn(&t, set_flag, &flag), 0);
	assert_int_equal(flag, 0);
	assert_int_equal(coil_yield(), 0);
	assert_int_equal(flag, 1);
	assert_int_equal(coil_join(t, NULL), 0);
	return NULL;
}

static void test_yield_lets_others_run(void **state)
{
	(void)state;
	test_run(body_yield, NULL);
}

/* ------------------------------------------------ self and ids */

static void *report_self(void *arg)
{
	struct coil_task **out = arg;

	*out = coil_self();
	return PTR(coil_task_id(coil_self()));
}

static void *body_self_ids(void *arg)
{
	struct coil_task *t[3], *seen[3];
	void *res;
	uint64_t main_id;
	int i;

	(void)arg;
	main_id = coil_task_id(coil_self());
	assert_int_equal(main_id, 1);
	assert_int_equal(coil_task_id(NULL), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(coil_spawn(&t[i], report_self, &seen[i]), 0);
	for (i = 0; i < 3; i++) {
		uint64_t id = coil_task_id(t[i]);

		assert_int_equal(id, main_id + 1 + (uint64_t)i);
		assert_int_equal(coil_yield(), 0);
		assert_ptr_equal(seen[i], t[i]);
		assert_int_equal(coil_join(t[i], &res), 0);
		assert_int_equal((uintptr_t)res, id);
	}
	return NULL;
}

static void test_self_and_ids_follow_spawn_order(void **state)
{
	(void)state;
	test_run(body_self_ids, NULL);
}

/* ------------------------------------------------------ cancel */

static void *body_cancel_finished(void *arg)
{
	struct coil_stats before, after;
	struct coil_task *t;
	void *res = NULL;

	(void)arg;
	assert_int_equal(coil_spawn(&t, return_arg, PTR(9)), 0);
	assert_int_equal(coil_yield(), 0);
	assert_true(coil_task_is_done(t));
	coil_stats_get(&before);
	assert_int_equal(coil_cancel(t), 0);
	coil_stats_get(&after);
	assert_int_equal(after.cancels, before.cancels);
	assert_false(coil_task_is_cancelled(t));
	assert_int_equal(coil_join(t, &res), 0);
	assert_int_equal(INT(res), 9);
	return NULL;
}

static void test_cancel_finished_task_is_noop(void **state)
{
	(void)state;
	test_run(body_cancel_finished, NULL);
}

static void *cancel_then_spawn(void *arg)
{
	struct coil_task *t = NULL;

	(void)arg;
	coil_cancel(coil_self());
	coil_cancel(coil_self()); /* twice: still a no-op */
	return PTR(coil_spawn(&t, return_arg, NULL));
}

static void *body_cancelled_spawn(void *arg)
{
	struct coil_task *t;
	void *res = NULL;

	(void)arg;
	assert_int_equal(coil_spawn(&t, cancel_then_spawn, NULL), 0);
	assert_int_equal(coil_join(t, &res), -ECANCELED);
	assert_int_equal(INT(res), -ECANCELED);
	return NULL;
}

static void test_spawn_while_cancelled_is_ecanceled(void **state)
{
	(void)state;
	test_run(body_cancelled_spawn, NULL);
}

/* ------------------------------------------------------ gather */

#define GATHER_N 5
#define GATHER_STEP_MS 30

static int finish_order[GATHER_N], finished;

static void *sleep_by_index(void *arg)
{
	int i = INT(arg);

	/* Task 0 sleeps longest: they finish in reverse spawn order. */
	assert_int_equal(coil_sleep(MS((GATHER_N - i) * GATHER_STEP_MS)), 0);
	finish_order[finished++] = i;
	return PTR(i * 10);
}

static void *body_gather(void *arg)
{
	struct coil_task *t[GATHER_N];
	void *res[GATHER_N];
	int errs[GATHER_N], i;
	uint64_t start;
	int64_t took;

	(void)arg;
	finished = 0;
	start = coil_now();
	for (i = 0; i < GATHER_N; i++)
		assert_int_equal(coil_spawn(&t[i], sleep_by_index, PTR(i)), 0);
	assert_int_equal(coil_gather(t, GATHER_N, res, errs), 0);
	took = test_elapsed_ns(start);
	for (i = 0; i < GATHER_N; i++) {
		assert_int_equal(finish_order[i], GATHER_N - 1 - i);
		assert_int_equal(INT(res[i]), i * 10);
		assert_int_equal(errs[i], 0);
	}
	/* About the longest sleep (150 ms), far from the sum (450 ms). */
	assert_true(took >= MS(GATHER_N * GATHER_STEP_MS));
	assert_true(took < MS(GATHER_N * GATHER_STEP_MS + 200));
	return NULL;
}

static void test_gather_keeps_spawn_order_and_runs_concurrently(void **state)
{
	(void)state;
	test_run(body_gather, NULL);
}

static void *body_gather_errs(void *arg)
{
	struct coil_task *t[3];
	int errs[3] = { 1, 1, 1 };

	(void)arg;
	assert_int_equal(coil_spawn(&t[0], sleep_then_return, NULL), 0);
	assert_int_equal(coil_spawn(&t[1], sleep_long, NULL), 0);
	assert_int_equal(coil_spawn(&t[2], sleep_then_return, NULL), 0);
	assert_int_equal(coil_cancel(t[1]), 0);
	assert_int_equal(coil_gather(t, 3, NULL, errs), -ECANCELED);
	assert_int_equal(errs[0], 0);
	assert_int_equal(errs[1], -ECANCELED);
	assert_int_equal(errs[2], 0);
	/* A duplicate handle is refused before anything is joined. */
	assert_int_equal(coil_spawn(&t[0], return_arg, NULL), 0);
	t[1] = t[0];
	assert_int_equal(coil_gather(t, 2, NULL, NULL), -EINVAL);
	assert_int_equal(coil_join(t[0], NULL), 0);
	assert_int_equal(coil_gather(NULL, 0, NULL, NULL), 0);
	assert_int_equal(coil_gather(NULL, 1, NULL, NULL), -EINVAL);
	return NULL;
}

static void test_gather_reports_each_join_status(void **state)
{
	(void)state;
	test_run(body_gather_errs, NULL);
}

/*
 * Two tasks where the first, once cancelled, needs the second to move on:
 * t0 waits on a condition (and must take the mutex back to return), t1
 * holds that mutex while it sleeps for ten seconds.
 */
struct lock_pair {
	struct coil_mutex *m;
	struct coil_cond *c;
	int cond_ret, sleep_ret;
};

static void *cond_waiter(void *arg)
{
	struct lock_pair *p = arg;

	assert_int_equal(coil_mutex_lock(p->m), 0);
	p->cond_ret = coil_cond_wait(p->c, p->m);
	coil_mutex_unlock(p->m);
	return NULL;
}

static void *lock_holder(void *arg)
{
	struct lock_pair *p = arg;

	assert_int_equal(coil_mutex_lock(p->m), 0);
	p->sleep_ret = coil_sleep(MS(10000));
	coil_mutex_unlock(p->m);
	return NULL;
}

static void lock_pair_spawn(struct lock_pair *p, struct coil_task *t[2])
{
	memset(p, 0, sizeof(*p));
	p->cond_ret = p->sleep_ret = 1;
	assert_int_equal(coil_mutex_create(&p->m), 0);
	assert_int_equal(coil_cond_create(&p->c), 0);
	assert_int_equal(coil_spawn(&t[0], cond_waiter, p), 0);
	assert_int_equal(coil_spawn(&t[1], lock_holder, p), 0);
}

/*
 * When the gather's deadline passes, both tasks are cancelled at once: had
 * it cancelled t0 and waited for it before cancelling t1, t0 would wait
 * for the mutex through t1's ten-second sleep.
 */
static void *body_gather_deadline_cancels_all(void *arg)
{
	struct lock_pair p;
	struct coil_task *t[2];
	struct coil_deadline dl;
	int errs[2] = { 1, 1 };
	uint64_t start;

	(void)arg;
	lock_pair_spawn(&p, t);
	start = coil_now();
	assert_int_equal(coil_deadline_enter(&dl, MS(50)), 0);
	assert_int_equal(coil_gather(t, 2, NULL, errs), -ETIMEDOUT);
	coil_deadline_exit(&dl);
	assert_true(test_elapsed_ns(start) < MS(2000));
	assert_int_equal(p.sleep_ret, -ECANCELED);
	assert_int_equal(p.cond_ret, -ECANCELED);
	assert_int_equal(errs[0], -ETIMEDOUT);
	assert_int_equal(errs[1], -ETIMEDOUT);
	assert_int_equal(coil_cond_destroy(p.c), 0);
	assert_int_equal(coil_mutex_destroy(p.m), 0);
	return NULL;
}

static void test_gather_past_its_deadline_cancels_every_task_at_once(
	void **state)
{
	(void)state;
	test_run(body_gather_deadline_cancels_all, NULL);
}

/* --------------------------------------------------- wait_any */

static void *sleep_ms(void *arg)
{
	coil_sleep(MS(INT(arg)));
	return arg;
}

static void *body_wait_any(void *arg)
{
	struct coil_task *t[3];
	int i;

	(void)arg;
	assert_int_equal(coil_spawn(&t[0], sleep_ms, PTR(60)), 0);
	assert_int_equal(coil_spawn(&t[1], sleep_ms, PTR(5)), 0);
	assert_int_equal(coil_spawn(&t[2], sleep_ms, PTR(30)), 0);
	assert_int_equal(coil_wait_any(t, 3, COIL_NO_TIMEOUT), 1);
	assert_true(coil_task_is_done(t[1]));
	assert_false(coil_task_is_done(t[2]));
	/* Joins nothing: the same answer again at once. */
	assert_int_equal(coil_wait_any(t, 3, 0), 1);
	assert_int_equal(coil_wait_any(&t[2], 1, COIL_NO_TIMEOUT), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(coil_join(t[i], NULL), 0);
	return NULL;
}

static void test_wait_any_returns_first_finished_index(void **state)
{
	(void)state;
	test_run(body_wait_any, NULL);
}

static void *body_wait_any_timeout(void *arg)
{
	struct coil_task *t[2];
	uint64_t start;
	int64_t took;

	(void)arg;
	assert_int_equal(coil_spawn(&t[0], sleep_long, NULL), 0);
	assert_int_equal(coil_spawn(&t[1], sleep_long, NULL), 0);
	start = coil_now();
	assert_int_equal(coil_wait_any(t, 2, MS(20)), -ETIMEDOUT);
	took = test_elapsed_ns(start);
	assert_true(took >= MS(20));
	assert_true(took < MS(20 + 250));
	assert_int_equal(coil_wait_any(NULL, 0, 0), -EINVAL);
	coil_cancel(t[0]);
	coil_cancel(t[1]);
	assert_int_equal(coil_gather(t, 2, NULL, NULL), -ECANCELED);
	return NULL;
}

static void test_wait_any_times_out(void **state)
{
	(void)state;
	test_run(body_wait_any_timeout, NULL);
}

static void *body_wait_any_many(void *arg)
{
	struct coil_task *t[100];
	int i;

	(void)arg;
	/* More than fit in wait_any's on-stack wait list. */
	for (i = 0; i < 100; i++)
		assert_int_equal(coil_spawn(&t[i], sleep_ms,
					    PTR(i == 70 ? 1 : 200)), 0);
	assert_int_equal(coil_wait_any(t, 100, COIL_NO_TIMEOUT), 70);
	for (i = 0; i < 100; i++)
		if (i != 70)
			coil_cancel(t[i]);
	assert_int_equal(coil_gather(t, 100, NULL, NULL), -ECANCELED);
	return NULL;
}

static void test_wait_any_over_many_tasks(void **state)
{
	(void)state;
	test_run(body_wait_any_many, NULL);
}

/* ------------------------------------------------ join cycles */

/*
 * B joins A; then A gathers a set holding B: waiting would deadlock both
 * for good (cancelling does not help: a cancelled join still waits for
 * what it joined), so the gather refuses with -EDEADLK and nothing waits.
 */
struct cycle {
	struct coil_task *a, *b, *x;
	int a_ret, b_ret;
};

static void *b_joins_a(void *arg)
{
	struct cycle *c = arg;
	void *res = NULL;

	c->b_ret = coil_join(c->a, &res);
	return res;
}

static void *a_gathers_b(void *arg)
{
	struct cycle *c = arg;

	coil_yield(); /* B starts joining us */
	c->a_ret = coil_gather(&c->b, 1, NULL, NULL);
	return PTR(7);
}

static void *body_gather_cycle(void *arg)
{
	struct cycle c = { .a_ret = 1, .b_ret = 1 };
	void *res = NULL;

	(void)arg;
	assert_int_equal(coil_spawn(&c.a, a_gathers_b, &c), 0);
	assert_int_equal(coil_spawn(&c.b, b_joins_a, &c), 0);
	/* A yields, B starts joining A; then A gathers. */
	assert_int_equal(coil_yield(), 0);
	assert_int_equal(coil_yield(), 0);
	/* B's handle is still ours: the refused gather did not claim it. */
	assert_int_equal(coil_join(c.b, &res), 0);
	assert_int_equal(c.a_ret, -EDEADLK);
	assert_int_equal(c.b_ret, 0);
	assert_ptr_equal(res, PTR(7));
	return NULL;
}

static void test_gather_that_would_close_a_join_cycle_is_edeadlk(void **state)
{
	(void)state;
	test_run(body_gather_cycle, NULL);
}

/*
 * A gathers [X, B] and waits on X; B then joins A. A would reach B later:
 * the join closes the cycle, so it is the join that fails, at once.
 */
static void *a_gathers_x_then_b(void *arg)
{
	struct cycle *c = arg;
	struct coil_task *set[2] = { c->x, c->b };

	c->a_ret = coil_gather(set, 2, NULL, NULL);
	return NULL;
}

static void *sleep_10ms(void *arg)
{
	coil_sleep(MS(10));
	return arg;
}

static void *b_yields_then_joins_a(void *arg)
{
	coil_yield(); /* A starts its gather */
	return b_joins_a(arg);
}

static void *body_join_into_pending_gather(void *arg)
{
	struct cycle c = { .a_ret = 1, .b_ret = 1 };

	(void)arg;
	assert_int_equal(coil_spawn(&c.x, sleep_10ms, NULL), 0);
	assert_int_equal(coil_spawn(&c.b, b_yields_then_joins_a, &c), 0);
	assert_int_equal(coil_spawn(&c.a, a_gathers_x_then_b, &c), 0);
	assert_int_equal(coil_sleep(MS(1)), 0);
	assert_int_equal(c.b_ret, -EDEADLK); /* refused without waiting */
	assert_int_equal(c.a_ret, 1);        /* A still waits on X */
	assert_int_equal(coil_join(c.a, NULL), 0);
	assert_int_equal(c.a_ret, 0);        /* then collected X and B */
	return NULL;
}

static void test_join_into_a_gather_that_waits_for_us_is_edeadlk(void **state)
{
	(void)state;
	test_run(body_join_into_pending_gather, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_returns_result),
		cmocka_unit_test(test_join_cancelled_task_is_ecanceled),
		cmocka_unit_test(test_join_bad_handles_are_einval),
		cmocka_unit_test(test_join_same_handle_twice_is_einval),
		cmocka_unit_test(test_cancel_joiner_cancels_joined_task),
		cmocka_unit_test(test_detach_tasks_free_themselves),
		cmocka_unit_test(test_detach_of_handle_being_joined_is_einval),
		cmocka_unit_test(test_spawn_runs_tasks_in_fifo_order),
		cmocka_unit_test(test_yield_lets_others_run),
		cmocka_unit_test(test_self_and_ids_follow_spawn_order),
		cmocka_unit_test(test_cancel_finished_task_is_noop),
		cmocka_unit_test(test_spawn_while_cancelled_is_ecanceled),
		cmocka_unit_test(test_gather_keeps_spawn_order_and_runs_concurrently),
		cmocka_unit_test(test_gather_reports_each_join_status),
		cmocka_unit_test(
			test_gather_past_its_deadline_cancels_every_task_at_once),
		cmocka_unit_test(test_wait_any_returns_first_finished_index),
		cmocka_unit_test(test_wait_any_times_out),
		cmocka_unit_test(test_wait_any_over_many_tasks),
		cmocka_unit_test(test_gather_that_would_close_a_join_cycle_is_edeadlk),
		cmocka_unit_test(test_join_into_a_gather_that_waits_for_us_is_edeadlk),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, test_fd_setup, test_fd_teardown);
}
