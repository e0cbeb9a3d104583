/* SPDX-License-Identifier: MIT */
/*
 * tests/test_sync.c - events, semaphores (bounded too), mutexes and
 * conditions: waking, timeouts, errors, FIFO hand-off, cancellation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
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

/* A waiting call's outcome, filled in by the task that made it. */
struct call {
	void *obj;        /* the event, semaphore, mutex or condition */
	void *obj2;       /* the mutex, for conditions */
	int ret;          /* the call's return value; 1 while not returned */
	int order;        /* position among finished calls */
	int *clock;       /* shared counter handing out @order */
	int64_t timeout;  /* < 0: none */
	int64_t hold_ns;  /* how long to hold what was taken */
	int unlock_ret;   /* conditions: what unlocking afterwards returned */
	uint64_t done_at; /* coil_now() when the call returned */
};

static void call_init(struct call *c, void *obj, int *clock)
{
	memset(c, 0, sizeof(*c));
	c->obj = obj;
	c->ret = 1;
	c->unlock_ret = 1;
	c->clock = clock;
	c->timeout = COIL_NO_TIMEOUT;
}

static void finished(struct call *c, int ret)
{
	c->ret = ret;
	c->done_at = coil_now();
	if (c->clock)
		c->order = (*c->clock)++;
}

/* Spawn @n tasks running @fn on calls[i], in order. */
static int spawn_all(struct coil_task **t, struct call *calls, int n,
		     coil_fn fn)
{
	int i, err;

	for (i = 0; i < n; i++) {
		err = coil_spawn(&t[i], fn, &calls[i]);
		if (err)
			return err;
	}
	return 0;
}

static int join_all(struct coil_task **t, int n)
{
	int i, err, first = 0;

	for (i = 0; i < n; i++) {
		err = coil_join(t[i], NULL);
		if (err && !first)
			first = err;
	}
	return first;
}

#define NW 5

/* ---------------------------------------------------------------- event */

static void *event_waiter(void *arg)
{
	struct call *c = arg;

	finished(c, coil_event_wait_timeout(c->obj, c->timeout));
	return NULL;
}

/* Bad input is an error code, never a crash: every constructor, NULL @out. */
static void *body_create_null_out(void *arg)
{
	(void)arg;
	CHECK_EQ(coil_queue_create(NULL, 1), -EINVAL);
	CHECK_EQ(coil_event_create(NULL), -EINVAL);
	CHECK_EQ(coil_sem_create(NULL, 0, 0), -EINVAL);
	CHECK_EQ(coil_mutex_create(NULL), -EINVAL);
	CHECK_EQ(coil_cond_create(NULL), -EINVAL);
	CHECK_EQ(coil_group_create(NULL), -EINVAL);
	return NULL;
}

static void test_sync_constructors_refuse_a_null_out_pointer(void **state)
{
	(void)state;
	run_main(body_create_null_out, NULL);
}

static void *body_event_wait(void *arg)
{
	struct coil_event *ev;
	struct coil_task *t;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_event_create(&ev), 0);
	CHECK(!coil_event_is_set(ev));
	call_init(&c, ev, NULL);
	CHECK_EQ(coil_spawn(&t, event_waiter, &c), 0);
	CHECK_EQ(yield_n(3), 0);
	CHECK_EQ(c.ret, 1);
	CHECK_EQ(coil_event_set(ev), 0);
	CHECK(coil_event_is_set(ev));
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.ret, 0);
	/* Set: a wait returns at once, however often. */
	CHECK_EQ(coil_event_wait(ev), 0);
	CHECK_EQ(coil_event_wait_timeout(ev, 0), 0);
	CHECK_EQ(coil_event_destroy(ev), 0);
	return NULL;
}

static void test_event_wait_returns_once_set(void **state)
{
	(void)state;
	run_main(body_event_wait, NULL);
}

static void *body_event_set_wakes_all(void *arg)
{
	struct coil_task *t[NW];
	struct call c[NW];
	struct coil_event *ev;
	int i;

	(void)arg;
	CHECK_EQ(coil_event_create(&ev), 0);
	for (i = 0; i < NW; i++)
		call_init(&c[i], ev, NULL);
	CHECK_EQ(spawn_all(t, c, NW, event_waiter), 0);
	CHECK_EQ(yield_n(2), 0);
	CHECK_EQ(coil_event_set(ev), 0);
	CHECK_EQ(coil_yield(), 0); /* one turn wakes them all */
	for (i = 0; i < NW; i++)
		CHECK_EQ(c[i].ret, 0);
	CHECK_EQ(join_all(t, NW), 0);
	CHECK_EQ(coil_event_destroy(ev), 0);
	return NULL;
}

static void test_event_set_wakes_all_waiters(void **state)
{
	(void)state;
	run_main(body_event_set_wakes_all, NULL);
}

static void *body_event_clear(void *arg)
{
	struct coil_event *ev;
	uint64_t start;

	(void)arg;
	CHECK_EQ(coil_event_create(&ev), 0);
	CHECK_EQ(coil_event_set(ev), 0);
	CHECK_EQ(coil_event_clear(ev), 0);
	CHECK(!coil_event_is_set(ev));
	start = coil_now();
	CHECK_EQ(coil_event_wait_timeout(ev, MS(20)), -ETIMEDOUT);
	CHECK(elapsed_ns(start) >= MS(20));
	CHECK_EQ(coil_event_destroy(ev), 0);
	return NULL;
}

static void test_event_clear_makes_wait_block(void **state)
{
	(void)state;
	run_main(body_event_clear, NULL);
}

static void *body_event_timeout(void *arg)
{
	struct coil_event *ev;
	uint64_t start;
	int64_t took;

	(void)arg;
	CHECK_EQ(coil_event_create(&ev), 0);
	start = coil_now();
	CHECK_EQ(coil_event_wait_timeout(ev, MS(30)), -ETIMEDOUT);
	took = elapsed_ns(start);
	CHECK(took >= MS(30));
	CHECK(took < MS(1000));
	/* The timed-out waiter is gone: destroy finds no one waiting. */
	CHECK_EQ(coil_event_destroy(ev), 0);
	return NULL;
}

static void test_event_wait_timeout_is_etimedout(void **state)
{
	(void)state;
	run_main(body_event_timeout, NULL);
}

static void *body_event_cancel(void *arg)
{
	struct coil_event *ev;
	struct coil_task *t;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_event_create(&ev), 0);
	call_init(&c, ev, NULL);
	CHECK_EQ(coil_spawn(&t, event_waiter, &c), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(coil_event_destroy(ev), -EBUSY);
	CHECK_EQ(coil_cancel(t), 0);
	CHECK_EQ(coil_join(t, NULL), -ECANCELED);
	CHECK_EQ(c.ret, -ECANCELED);
	CHECK_EQ(coil_event_destroy(ev), 0);
	return NULL;
}

static void test_event_cancelled_waiter_leaves(void **state)
{
	(void)state;
	run_main(body_event_cancel, NULL);
}

/* ------------------------------------------------------------ semaphore */

static void *sem_acquirer(void *arg)
{
	struct call *c = arg;

	finished(c, coil_sem_acquire_timeout(c->obj, c->timeout));
	return NULL;
}

static void *body_sem_basic(void *arg)
{
	struct coil_sem *s;

	(void)arg;
	CHECK_EQ(coil_sem_create(&s, 2, 0), 0);
	CHECK_EQ(coil_sem_acquire(s), 0);
	CHECK_EQ(coil_sem_acquire(s), 0);
	CHECK_EQ(coil_sem_try_acquire(s), -EAGAIN);
	CHECK_EQ(coil_sem_release(s), 0);
	CHECK_EQ(coil_sem_try_acquire(s), 0);
	/* Unbounded: releases past the initial count are fine. */
	CHECK_EQ(coil_sem_release(s), 0);
	CHECK_EQ(coil_sem_release(s), 0);
	CHECK_EQ(coil_sem_release(s), 0);
	CHECK_EQ(coil_sem_try_acquire(s), 0);
	CHECK_EQ(coil_sem_try_acquire(s), 0);
	CHECK_EQ(coil_sem_try_acquire(s), 0);
	CHECK_EQ(coil_sem_try_acquire(s), -EAGAIN);
	CHECK_EQ(coil_sem_destroy(s), 0);
	return NULL;
}

static void test_sem_acquire_and_try_count_permits(void **state)
{
	(void)state;
	run_main(body_sem_basic, NULL);
}

static void *body_sem_suspends(void *arg)
{
	struct coil_task *t;
	struct coil_sem *s;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_sem_create(&s, 0, 0), 0);
	call_init(&c, s, NULL);
	CHECK_EQ(coil_spawn(&t, sem_acquirer, &c), 0);
	CHECK_EQ(yield_n(3), 0);
	CHECK_EQ(c.ret, 1);
	CHECK_EQ(coil_sem_release(s), 0);
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.ret, 0);
	CHECK_EQ(coil_sem_try_acquire(s), -EAGAIN); /* the waiter took it */
	CHECK_EQ(coil_sem_destroy(s), 0);
	return NULL;
}

static void test_sem_acquire_suspends_until_release(void **state)
{
	(void)state;
	run_main(body_sem_suspends, NULL);
}

static void *body_sem_timeout(void *arg)
{
	struct coil_sem *s;
	uint64_t start;
	int64_t took;

	(void)arg;
	CHECK_EQ(coil_sem_create(&s, 0, 0), 0);
	start = coil_now();
	CHECK_EQ(coil_sem_acquire_timeout(s, MS(20)), -ETIMEDOUT);
	took = elapsed_ns(start);
	CHECK(took >= MS(20));
	CHECK(took < MS(1000));
	/* No ghost waiter: the next release becomes a permit. */
	CHECK_EQ(coil_sem_release(s), 0);
	CHECK_EQ(coil_sem_try_acquire(s), 0);
	CHECK_EQ(coil_sem_destroy(s), 0);
	return NULL;
}

static void test_sem_acquire_timeout_is_etimedout(void **state)
{
	(void)state;
	run_main(body_sem_timeout, NULL);
}

static void *body_sem_bounded(void *arg)
{
	struct coil_sem *s;

	(void)arg;
	CHECK_EQ(coil_sem_create(&s, 2, 1), -EINVAL);
	CHECK_EQ(coil_sem_create(&s, 1, 2), 0);
	CHECK_EQ(coil_sem_release(s), 0);           /* 2 == max */
	CHECK_EQ(coil_sem_release(s), -EOVERFLOW);
	CHECK_EQ(coil_sem_try_acquire(s), 0);
	CHECK_EQ(coil_sem_try_acquire(s), 0);
	CHECK_EQ(coil_sem_try_acquire(s), -EAGAIN); /* the overflow added none */
	CHECK_EQ(coil_sem_release(s), 0);
	CHECK_EQ(coil_sem_release(s), 0);
	CHECK_EQ(coil_sem_release(s), -EOVERFLOW);
	CHECK_EQ(coil_sem_destroy(s), 0);
	return NULL;
}

static void test_sem_bounded_release_past_max_is_eoverflow(void **state)
{
	(void)state;
	run_main(body_sem_bounded, NULL);
}

static void *body_sem_unbounded_at_uint_max(void *arg)
{
	struct coil_sem *s;

	(void)arg;
	CHECK_EQ(coil_sem_create(&s, UINT_MAX, 0), 0);
	/* One more would wrap the count to 0 and lose every permit. */
	CHECK_EQ(coil_sem_release(s), -EOVERFLOW);
	CHECK_EQ(coil_sem_try_acquire(s), 0);
	CHECK_EQ(coil_sem_release(s), 0);
	CHECK_EQ(coil_sem_destroy(s), 0);
	return NULL;
}

static void test_sem_unbounded_release_at_uint_max_is_eoverflow(void **state)
{
	(void)state;
	run_main(body_sem_unbounded_at_uint_max, NULL);
}

static void *body_sem_bounded_waiter(void *arg)
{
	struct coil_task *t;
	struct coil_sem *s;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_sem_create(&s, 0, 1), 0);
	call_init(&c, s, NULL);
	CHECK_EQ(coil_spawn(&t, sem_acquirer, &c), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(coil_sem_release(s), 0); /* to the waiter */
	CHECK_EQ(coil_sem_release(s), 0); /* 1 == max */
	CHECK_EQ(coil_sem_release(s), -EOVERFLOW);
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.ret, 0);
	CHECK_EQ(coil_sem_destroy(s), 0);
	return NULL;
}

static void test_sem_bounded_release_to_waiter_is_not_overflow(void **state)
{
	(void)state;
	run_main(body_sem_bounded_waiter, NULL);
}

static void *body_sem_fifo(void *arg)
{
	struct coil_task *t[NW];
	struct call c[NW];
	struct coil_sem *s;
	int i, clock = 0;

	(void)arg;
	CHECK_EQ(coil_sem_create(&s, 0, 0), 0);
	for (i = 0; i < NW; i++)
		call_init(&c[i], s, &clock);
	CHECK_EQ(spawn_all(t, c, NW, sem_acquirer), 0);
	CHECK_EQ(yield_n(2), 0);
	for (i = 0; i < NW; i++) {
		CHECK_EQ(coil_sem_release(s), 0);
		/* Handed over: a newcomer cannot take it. */
		CHECK_EQ(coil_sem_try_acquire(s), -EAGAIN);
		CHECK_EQ(yield_n(2), 0);
		CHECK_EQ(c[i].ret, 0);
		CHECK_EQ(c[i].order, i);
		if (i + 1 < NW)
			CHECK_EQ(c[i + 1].ret, 1);
	}
	CHECK_EQ(join_all(t, NW), 0);
	CHECK_EQ(coil_sem_destroy(s), 0);
	return NULL;
}

static void test_sem_release_hands_off_in_fifo_order(void **state)
{
	(void)state;
	run_main(body_sem_fifo, NULL);
}

static void *body_sem_no_barging(void *arg)
{
	struct coil_task *t;
	struct coil_sem *s;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_sem_create(&s, 0, 0), 0);
	call_init(&c, s, NULL);
	CHECK_EQ(coil_spawn(&t, sem_acquirer, &c), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(coil_sem_release(s), 0);
	/* A blocking acquire by a newcomer must queue behind, not barge. */
	CHECK_EQ(coil_sem_acquire_timeout(s, MS(10)), -ETIMEDOUT);
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.ret, 0);
	CHECK_EQ(coil_sem_destroy(s), 0);
	return NULL;
}

static void test_sem_newcomer_does_not_barge(void **state)
{
	(void)state;
	run_main(body_sem_no_barging, NULL);
}

/* ---------------------------------------------------------------- mutex */

/* Lock, hold for hold_ns, unlock; records when the lock was taken. */
static void *mutex_locker(void *arg)
{
	struct call *c = arg;
	int ret = coil_mutex_lock_timeout(c->obj, c->timeout);

	finished(c, ret);
	if (ret)
		return NULL;
	if (c->hold_ns)
		coil_sleep((uint64_t)c->hold_ns);
	c->unlock_ret = coil_mutex_unlock(c->obj);
	return NULL;
}

static void *body_mutex_basic(void *arg)
{
	struct coil_mutex *m;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_mutex_lock(m), 0);
	CHECK_EQ(coil_mutex_destroy(m), -EBUSY);
	CHECK_EQ(coil_mutex_unlock(m), 0);
	CHECK_EQ(coil_mutex_trylock(m), 0);
	CHECK_EQ(coil_mutex_unlock(m), 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_mutex_lock_unlock_trylock(void **state)
{
	(void)state;
	run_main(body_mutex_basic, NULL);
}

static void *body_mutex_relock(void *arg)
{
	struct coil_mutex *m;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_mutex_lock(m), 0);
	CHECK_EQ(coil_mutex_lock(m), -EDEADLK);
	CHECK_EQ(coil_mutex_lock_timeout(m, MS(10)), -EDEADLK);
	CHECK_EQ(coil_mutex_unlock(m), 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_mutex_relock_is_edeadlk(void **state)
{
	(void)state;
	run_main(body_mutex_relock, NULL);
}

/*
 * A task that ends holding the mutex leaves it locked. Its task struct
 * goes back to the free list and the next spawn gets it: that new task is
 * not the owner. It used to be taken for it (the owner was a pointer):
 * its lock said -EDEADLK and its unlock released a lock it never took.
 */
static void *lock_and_leave(void *arg)
{
	CHECK_EQ(coil_mutex_lock(arg), 0);
	return NULL;
}

static void *try_stranger(void *arg)
{
	struct call *c = arg;

	finished(c, coil_mutex_lock_timeout(c->obj, MS(10)));
	c->unlock_ret = coil_mutex_unlock(c->obj);
	return NULL;
}

static void *body_mutex_of_ended_owner(void *arg)
{
	struct coil_task *owner, *stranger;
	struct coil_mutex *m;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_spawn(&owner, lock_and_leave, m), 0);
	CHECK_EQ(coil_join(owner, NULL), 0);
	call_init(&c, m, NULL);
	CHECK_EQ(coil_spawn(&stranger, try_stranger, &c), 0);
	CHECK(stranger == owner); /* the struct was reused: the case */
	CHECK_EQ(coil_join(stranger, NULL), 0);
	CHECK_EQ(c.ret, -ETIMEDOUT);
	CHECK_EQ(c.unlock_ret, -EPERM);
	CHECK_EQ(coil_mutex_trylock(m), -EBUSY); /* still locked */
	CHECK_EQ(coil_mutex_destroy(m), 0); /* by nobody alive */
	return NULL;
}

static void test_mutex_of_an_ended_owner_stays_locked_for_its_reused_task(
	void **state)
{
	(void)state;
	run_main(body_mutex_of_ended_owner, NULL);
}

static void *unlock_it(void *arg)
{
	struct call *c = arg;

	c->unlock_ret = coil_mutex_unlock(c->obj);
	return NULL;
}

static void *body_mutex_non_owner(void *arg)
{
	struct coil_mutex *m;
	struct coil_task *t;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_mutex_unlock(m), -EPERM); /* nobody holds it */
	call_init(&c, m, NULL);
	c.hold_ns = MS(20);
	CHECK_EQ(coil_spawn(&t, mutex_locker, &c), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(c.ret, 0);                     /* it holds it now */
	CHECK_EQ(coil_mutex_unlock(m), -EPERM); /* we do not */
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.unlock_ret, 0);              /* still its to unlock */
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_mutex_unlock_by_non_owner_is_eperm(void **state)
{
	(void)state;
	run_main(body_mutex_non_owner, NULL);
}

static void *body_mutex_trylock_busy(void *arg)
{
	struct coil_mutex *m;
	struct coil_task *t;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_mutex_lock(m), 0);
	call_init(&c, m, NULL);
	CHECK_EQ(coil_spawn(&t, unlock_it, &c), 0);
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.unlock_ret, -EPERM); /* another task cannot unlock it */
	CHECK_EQ(coil_mutex_trylock(m), -EBUSY); /* held, by us */
	CHECK_EQ(coil_mutex_unlock(m), 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_mutex_trylock_held_is_ebusy(void **state)
{
	(void)state;
	run_main(body_mutex_trylock_busy, NULL);
}

static void *body_mutex_fifo(void *arg)
{
	struct coil_task *t[NW];
	struct call c[NW];
	struct coil_mutex *m;
	int i, clock = 0;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_mutex_lock(m), 0);
	for (i = 0; i < NW; i++)
		call_init(&c[i], m, &clock);
	CHECK_EQ(spawn_all(t, c, NW, mutex_locker), 0);
	CHECK_EQ(yield_n(2), 0);
	CHECK_EQ(clock, 0);
	CHECK_EQ(coil_mutex_unlock(m), 0);
	/* Handed to the oldest waiter: no barging by the old owner. */
	CHECK_EQ(coil_mutex_trylock(m), -EBUSY);
	CHECK_EQ(join_all(t, NW), 0);
	for (i = 0; i < NW; i++) {
		CHECK_EQ(c[i].ret, 0);
		CHECK_EQ(c[i].order, i);
		CHECK_EQ(c[i].unlock_ret, 0);
	}
	CHECK_EQ(coil_mutex_trylock(m), 0);
	CHECK_EQ(coil_mutex_unlock(m), 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_mutex_unlock_hands_off_in_fifo_order(void **state)
{
	(void)state;
	run_main(body_mutex_fifo, NULL);
}

static void *body_mutex_timeout(void *arg)
{
	struct coil_mutex *m;
	struct coil_task *t;
	struct call c;
	uint64_t start = coil_now();

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_mutex_lock(m), 0);
	call_init(&c, m, NULL);
	c.timeout = MS(20);
	CHECK_EQ(coil_spawn(&t, mutex_locker, &c), 0);
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.ret, -ETIMEDOUT);
	CHECK((int64_t)(c.done_at - start) >= MS(20));
	CHECK_EQ(coil_mutex_unlock(m), 0);
	/* The timed-out waiter was not handed the mutex. */
	CHECK_EQ(coil_mutex_trylock(m), 0);
	CHECK_EQ(coil_mutex_unlock(m), 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_mutex_lock_timeout_is_etimedout(void **state)
{
	(void)state;
	run_main(body_mutex_timeout, NULL);
}

static void *body_mutex_cancel(void *arg)
{
	struct coil_task *t[2];
	struct call c[2];
	struct coil_mutex *m;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_mutex_lock(m), 0);
	call_init(&c[0], m, NULL);
	call_init(&c[1], m, NULL);
	CHECK_EQ(spawn_all(t, c, 2, mutex_locker), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(coil_cancel(t[0]), 0);
	CHECK_EQ(coil_mutex_unlock(m), 0); /* skips the cancelled waiter */
	CHECK_EQ(coil_join(t[0], NULL), -ECANCELED);
	CHECK_EQ(c[0].ret, -ECANCELED);
	CHECK_EQ(coil_join(t[1], NULL), 0);
	CHECK_EQ(c[1].ret, 0);
	CHECK_EQ(c[1].unlock_ret, 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_mutex_cancelled_waiter_is_skipped(void **state)
{
	(void)state;
	run_main(body_mutex_cancel, NULL);
}

/* ------------------------------------------------------------ condition */

/* Lock, wait on the condition, note the result, unlock. */
static void *cond_waiter(void *arg)
{
	struct call *c = arg;
	int ret;

	if (coil_mutex_lock(c->obj2)) {
		c->ret = -1000;
		return NULL;
	}
	ret = coil_cond_wait_timeout(c->obj, c->obj2, c->timeout);
	finished(c, ret);
	c->unlock_ret = coil_mutex_unlock(c->obj2); /* 0: it was held */
	return NULL;
}

static void cond_calls(struct call *c, int n, struct coil_cond *cv,
		       struct coil_mutex *m, int *clock)
{
	int i;

	for (i = 0; i < n; i++) {
		call_init(&c[i], cv, clock);
		c[i].obj2 = m;
	}
}

static void *body_cond_notify(void *arg)
{
	struct coil_task *t[NW];
	struct call c[NW];
	struct coil_mutex *m;
	struct coil_cond *cv;
	int i, clock = 0;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_cond_create(&cv), 0);
	CHECK_EQ(coil_cond_notify(cv, 1), 0); /* nobody waits: lost */
	cond_calls(c, NW, cv, m, &clock);
	CHECK_EQ(spawn_all(t, c, NW, cond_waiter), 0);
	CHECK_EQ(yield_n(2), 0);
	for (i = 0; i < NW; i++) {
		CHECK_EQ(coil_mutex_lock(m), 0);
		CHECK_EQ(coil_cond_notify(cv, 1), 1);
		CHECK_EQ(coil_mutex_unlock(m), 0);
		CHECK_EQ(yield_n(3), 0);
		CHECK_EQ(clock, i + 1); /* exactly one more woke: the oldest */
		CHECK_EQ(c[i].ret, 0);
		CHECK_EQ(c[i].order, i);
		CHECK_EQ(c[i].unlock_ret, 0);
	}
	CHECK_EQ(join_all(t, NW), 0);
	CHECK_EQ(coil_cond_destroy(cv), 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_cond_notify_wakes_oldest_waiter(void **state)
{
	(void)state;
	run_main(body_cond_notify, NULL);
}

static void *body_cond_notify_all(void *arg)
{
	struct coil_task *t[NW];
	struct call c[NW];
	struct coil_mutex *m;
	struct coil_cond *cv;
	int i, clock = 0;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_cond_create(&cv), 0);
	cond_calls(c, NW, cv, m, &clock);
	CHECK_EQ(spawn_all(t, c, NW, cond_waiter), 0);
	CHECK_EQ(yield_n(2), 0);
	CHECK_EQ(coil_mutex_lock(m), 0);
	CHECK_EQ(coil_cond_notify_all(cv), NW);
	CHECK_EQ(yield_n(2), 0);
	CHECK_EQ(clock, 0); /* they need the mutex back first */
	CHECK_EQ(coil_mutex_unlock(m), 0);
	CHECK_EQ(join_all(t, NW), 0);
	for (i = 0; i < NW; i++) {
		CHECK_EQ(c[i].ret, 0);
		CHECK_EQ(c[i].unlock_ret, 0);
	}
	CHECK_EQ(coil_cond_destroy(cv), 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_cond_notify_all_wakes_every_waiter(void **state)
{
	(void)state;
	run_main(body_cond_notify_all, NULL);
}

static void *body_cond_timeout(void *arg)
{
	struct coil_mutex *m;
	struct coil_cond *cv;
	struct coil_task *t;
	struct call c;
	uint64_t start;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_cond_create(&cv), 0);
	cond_calls(&c, 1, cv, m, NULL);
	c.timeout = MS(20);
	start = coil_now();
	CHECK_EQ(coil_spawn(&t, cond_waiter, &c), 0);
	CHECK_EQ(coil_yield(), 0);
	/* Hold the mutex past the timeout: the waiter must get it back. */
	CHECK_EQ(coil_mutex_lock(m), 0);
	CHECK_EQ(coil_sleep(MS(60)), 0);
	CHECK_EQ(c.ret, 1);
	CHECK_EQ(coil_mutex_unlock(m), 0);
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.ret, -ETIMEDOUT);
	CHECK((int64_t)(c.done_at - start) >= MS(60));
	CHECK_EQ(c.unlock_ret, 0); /* it held the mutex when it returned */
	CHECK_EQ(coil_cond_destroy(cv), 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_cond_wait_timeout_returns_holding_mutex(void **state)
{
	(void)state;
	run_main(body_cond_timeout, NULL);
}

static void *body_cond_eperm(void *arg)
{
	struct coil_mutex *m;
	struct coil_cond *cv;
	struct coil_task *t;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_cond_create(&cv), 0);
	CHECK_EQ(coil_cond_wait(cv, m), -EPERM); /* unlocked */
	CHECK_EQ(coil_cond_wait_timeout(cv, m, MS(10)), -EPERM);
	call_init(&c, m, NULL);
	c.hold_ns = MS(30);
	CHECK_EQ(coil_spawn(&t, mutex_locker, &c), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(c.ret, 0);
	CHECK_EQ(coil_cond_wait(cv, m), -EPERM); /* another task holds it */
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.unlock_ret, 0);   /* nothing was done to its lock */
	CHECK_EQ(coil_cond_destroy(cv), 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_cond_wait_without_mutex_is_eperm(void **state)
{
	(void)state;
	run_main(body_cond_eperm, NULL);
}

static void *body_cond_cancel(void *arg)
{
	struct coil_mutex *m;
	struct coil_cond *cv;
	struct coil_task *t;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_mutex_create(&m), 0);
	CHECK_EQ(coil_cond_create(&cv), 0);
	cond_calls(&c, 1, cv, m, NULL);
	CHECK_EQ(coil_spawn(&t, cond_waiter, &c), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(coil_cond_destroy(cv), -EBUSY);
	CHECK_EQ(coil_cancel(t), 0);
	CHECK_EQ(coil_join(t, NULL), -ECANCELED);
	CHECK_EQ(c.ret, -ECANCELED);
	CHECK_EQ(c.unlock_ret, 0);
	CHECK_EQ(coil_cond_destroy(cv), 0);
	CHECK_EQ(coil_mutex_destroy(m), 0);
	return NULL;
}

static void test_cond_cancelled_waiter_returns_holding_mutex(void **state)
{
	(void)state;
	run_main(body_cond_cancel, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sync_constructors_refuse_a_null_out_pointer),
		cmocka_unit_test(test_event_wait_returns_once_set),
		cmocka_unit_test(test_event_set_wakes_all_waiters),
		cmocka_unit_test(test_event_clear_makes_wait_block),
		cmocka_unit_test(test_event_wait_timeout_is_etimedout),
		cmocka_unit_test(test_event_cancelled_waiter_leaves),
		cmocka_unit_test(test_sem_acquire_and_try_count_permits),
		cmocka_unit_test(test_sem_acquire_suspends_until_release),
		cmocka_unit_test(test_sem_acquire_timeout_is_etimedout),
		cmocka_unit_test(test_sem_bounded_release_past_max_is_eoverflow),
		cmocka_unit_test(
			test_sem_unbounded_release_at_uint_max_is_eoverflow),
		cmocka_unit_test(test_sem_bounded_release_to_waiter_is_not_overflow),
		cmocka_unit_test(test_sem_release_hands_off_in_fifo_order),
		cmocka_unit_test(test_sem_newcomer_does_not_barge),
		cmocka_unit_test(test_mutex_lock_unlock_trylock),
		cmocka_unit_test(test_mutex_relock_is_edeadlk),
		cmocka_unit_test(
			test_mutex_of_an_ended_owner_stays_locked_for_its_reused_task),
		cmocka_unit_test(test_mutex_unlock_by_non_owner_is_eperm),
		cmocka_unit_test(test_mutex_trylock_held_is_ebusy),
		cmocka_unit_test(test_mutex_unlock_hands_off_in_fifo_order),
		cmocka_unit_test(test_mutex_lock_timeout_is_etimedout),
		cmocka_unit_test(test_mutex_cancelled_waiter_is_skipped),
		cmocka_unit_test(test_cond_notify_wakes_oldest_waiter),
		cmocka_unit_test(test_cond_notify_all_wakes_every_waiter),
		cmocka_unit_test(test_cond_wait_timeout_returns_holding_mutex),
		cmocka_unit_test(test_cond_wait_without_mutex_is_eperm),
		cmocka_unit_test(test_cond_cancelled_waiter_returns_holding_mutex),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
