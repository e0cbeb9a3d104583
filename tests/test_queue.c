/* SPDX-License-Identifier: MIT */
/*
 * tests/test_queue.c - coil_queue: FIFO order, waiting puts and gets,
 * timeouts, task_done/join, close, fairness, cancellation, growth.
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

/* --------------------------------------------------------- task bodies */

/* One waiting call's outcome, filled in by the task that made it. */
struct call {
	struct coil_queue *q;
	void *item;       /* what to put, or what the get returned */
	int ret;          /* the call's return value; 1 while not returned */
	int order;        /* position among finished calls (fairness tests) */
	int *clock;       /* shared counter handing out @order */
	int64_t timeout;  /* for the _timeout variants; < 0: none */
};

static void *getter(void *arg)
{
	struct call *c = arg;

	c->ret = 1;
	c->ret = coil_queue_get_timeout(c->q, &c->item, c->timeout);
	if (c->clock)
		c->order = (*c->clock)++;
	return NULL;
}

static void *putter(void *arg)
{
	struct call *c = arg;

	c->ret = 1;
	c->ret = coil_queue_put_timeout(c->q, c->item, c->timeout);
	if (c->clock)
		c->order = (*c->clock)++;
	return NULL;
}

static void call_init(struct call *c, struct coil_queue *q, void *item)
{
	memset(c, 0, sizeof(*c));
	c->q = q;
	c->item = item;
	c->ret = 1;
	c->timeout = COIL_NO_TIMEOUT;
}

/* ---------------------------------------------------------------- FIFO */

static void *body_fifo(void *arg)
{
	struct coil_queue *q;
	void *item;
	int i, round;

	(void)arg;
	/* Capacity 8, many rounds of 5 puts + 5 gets: the ring wraps. */
	CHECK_EQ(coil_queue_create(&q, 8), 0);
	for (round = 0; round < 20; round++) {
		for (i = 0; i < 5; i++)
			CHECK_EQ(coil_queue_put(q, PTR(round * 5 + i + 1)), 0);
		CHECK_EQ(coil_queue_len(q), 5);
		for (i = 0; i < 5; i++) {
			CHECK_EQ(coil_queue_get(q, &item), 0);
			CHECK_EQ(INT(item), round * 5 + i + 1);
		}
	}
	CHECK_EQ(coil_queue_len(q), 0);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_is_fifo(void **state)
{
	(void)state;
	run_main(body_fifo, NULL);
}

/* ------------------------------------------------------ suspend/resume */

static void *body_put_suspends_when_full(void *arg)
{
	struct coil_queue *q;
	struct coil_task *t;
	struct call c;
	void *item;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 2), 0);
	CHECK_EQ(coil_queue_put(q, PTR(1)), 0);
	CHECK_EQ(coil_queue_put(q, PTR(2)), 0);
	call_init(&c, q, PTR(3));
	CHECK_EQ(coil_spawn(&t, putter, &c), 0);
	CHECK_EQ(yield_n(3), 0);
	CHECK_EQ(c.ret, 1);            /* still waiting for room */
	CHECK_EQ(coil_queue_len(q), 2);
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(INT(item), 1);
	CHECK_EQ(coil_queue_len(q), 2); /* the waiting put moved in */
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.ret, 0);
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(INT(item), 2);
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(INT(item), 3);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_put_suspends_when_full(void **state)
{
	(void)state;
	run_main(body_put_suspends_when_full, NULL);
}

static void *body_get_suspends_when_empty(void *arg)
{
	struct coil_queue *q;
	struct coil_task *t;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 4), 0);
	call_init(&c, q, NULL);
	CHECK_EQ(coil_spawn(&t, getter, &c), 0);
	CHECK_EQ(yield_n(3), 0);
	CHECK_EQ(c.ret, 1);            /* still waiting for an item */
	CHECK_EQ(coil_queue_put(q, PTR(42)), 0);
	CHECK_EQ(coil_queue_len(q), 0); /* handed straight to the getter */
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.ret, 0);
	CHECK_EQ(INT(c.item), 42);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_get_suspends_when_empty(void **state)
{
	(void)state;
	run_main(body_get_suspends_when_empty, NULL);
}

static void *body_try_put_full(void *arg)
{
	struct coil_queue *q;
	void *item;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 1), 0);
	CHECK_EQ(coil_queue_try_put(q, PTR(1)), 0);
	CHECK_EQ(coil_queue_try_put(q, PTR(2)), -EAGAIN);
	CHECK_EQ(coil_queue_len(q), 1);
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(INT(item), 1);
	CHECK_EQ(coil_queue_try_get(q, &item), -EAGAIN); /* 2 was not kept */
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_try_put_full_is_eagain(void **state)
{
	(void)state;
	run_main(body_try_put_full, NULL);
}

static void *body_try_get_empty(void *arg)
{
	struct coil_queue *q;
	void *item = PTR(7);

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 0), 0);
	CHECK_EQ(coil_queue_try_get(q, &item), -EAGAIN);
	CHECK_EQ(INT(item), 7); /* untouched */
	CHECK_EQ(coil_queue_try_put(q, PTR(8)), 0);
	CHECK_EQ(coil_queue_try_get(q, &item), 0);
	CHECK_EQ(INT(item), 8);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_try_get_empty_is_eagain(void **state)
{
	(void)state;
	run_main(body_try_get_empty, NULL);
}

/* ------------------------------------------------------------ timeouts */

static void *body_put_timeout(void *arg)
{
	struct coil_queue *q;
	uint64_t start;
	int64_t took;
	void *item;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 1), 0);
	CHECK_EQ(coil_queue_put(q, PTR(1)), 0);
	start = coil_now();
	CHECK_EQ(coil_queue_put_timeout(q, PTR(2), MS(20)), -ETIMEDOUT);
	took = elapsed_ns(start);
	CHECK(took >= MS(20));
	CHECK(took < MS(1000));
	/* The timed-out put left nothing behind. */
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(INT(item), 1);
	CHECK_EQ(coil_queue_try_get(q, &item), -EAGAIN);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_put_timeout_is_etimedout(void **state)
{
	(void)state;
	run_main(body_put_timeout, NULL);
}

static void *body_get_timeout(void *arg)
{
	struct coil_queue *q;
	uint64_t start;
	int64_t took;
	void *item = NULL;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 0), 0);
	start = coil_now();
	CHECK_EQ(coil_queue_get_timeout(q, &item, MS(20)), -ETIMEDOUT);
	took = elapsed_ns(start);
	CHECK(took >= MS(20));
	CHECK(took < MS(1000));
	/* Nobody waits any more: a put lands in the buffer. */
	CHECK_EQ(coil_queue_put(q, PTR(5)), 0);
	CHECK_EQ(coil_queue_len(q), 1);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_get_timeout_is_etimedout(void **state)
{
	(void)state;
	run_main(body_get_timeout, NULL);
}

/* --------------------------------------------------- task_done / join */

static void *joiner(void *arg)
{
	struct call *c = arg;

	c->ret = 1;
	c->ret = coil_queue_join(c->q);
	return NULL;
}

static void *body_join_waits(void *arg)
{
	struct coil_queue *q;
	struct coil_task *t;
	struct call c;
	void *item;
	int i;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 0), 0);
	CHECK_EQ(coil_queue_join(q), 0); /* nothing put: returns at once */
	for (i = 0; i < 3; i++)
		CHECK_EQ(coil_queue_put(q, PTR(i)), 0);
	call_init(&c, q, NULL);
	CHECK_EQ(coil_spawn(&t, joiner, &c), 0);
	for (i = 0; i < 3; i++) {
		CHECK_EQ(coil_queue_get(q, &item), 0);
		CHECK_EQ(yield_n(2), 0);
		CHECK_EQ(c.ret, 1); /* got, but not yet done */
		CHECK_EQ(coil_queue_task_done(q), 0);
		if (i < 2) {
			CHECK_EQ(yield_n(2), 0);
			CHECK_EQ(c.ret, 1);
		}
	}
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(c.ret, 0);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_join_waits_until_all_done(void **state)
{
	(void)state;
	run_main(body_join_waits, NULL);
}

static void *body_task_done_too_many(void *arg)
{
	struct coil_queue *q;
	void *item;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 0), 0);
	CHECK_EQ(coil_queue_task_done(q), -EINVAL);
	CHECK_EQ(coil_queue_put(q, PTR(1)), 0);
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(coil_queue_task_done(q), 0);
	CHECK_EQ(coil_queue_task_done(q), -EINVAL);
	CHECK_EQ(coil_queue_join(q), 0);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_task_done_too_many_is_einval(void **state)
{
	(void)state;
	run_main(body_task_done_too_many, NULL);
}

/* --------------------------------------------------------------- close */

static void *body_close_drain(void *arg)
{
	struct coil_queue *q;
	void *item;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 4), 0);
	CHECK_EQ(coil_queue_put(q, PTR(1)), 0);
	CHECK_EQ(coil_queue_put(q, PTR(2)), 0);
	CHECK_EQ(coil_queue_close(q), 0);
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(INT(item), 1);
	CHECK_EQ(coil_queue_try_get(q, &item), 0);
	CHECK_EQ(INT(item), 2);
	CHECK_EQ(coil_queue_get(q, &item), -EPIPE);
	CHECK_EQ(coil_queue_try_get(q, &item), -EPIPE);
	CHECK_EQ(coil_queue_get_timeout(q, &item, MS(10)), -EPIPE);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_close_getters_drain_then_epipe(void **state)
{
	(void)state;
	run_main(body_close_drain, NULL);
}

#define NWAIT 4

static void *body_close_wakes_getters(void *arg)
{
	struct coil_task *t[NWAIT];
	struct call c[NWAIT];
	struct coil_queue *q;
	int i;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 4), 0);
	for (i = 0; i < NWAIT; i++) {
		call_init(&c[i], q, NULL);
		CHECK_EQ(coil_spawn(&t[i], getter, &c[i]), 0);
	}
	CHECK_EQ(yield_n(2), 0);
	CHECK_EQ(coil_queue_close(q), 0);
	for (i = 0; i < NWAIT; i++) {
		CHECK_EQ(coil_join(t[i], NULL), 0);
		CHECK_EQ(c[i].ret, -EPIPE);
	}
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_close_wakes_waiting_getters_with_epipe(void **state)
{
	(void)state;
	run_main(body_close_wakes_getters, NULL);
}

static void *body_close_fails_putters(void *arg)
{
	struct coil_task *t[NWAIT];
	struct call c[NWAIT];
	struct coil_queue *q;
	void *item;
	int i;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 1), 0);
	CHECK_EQ(coil_queue_put(q, PTR(100)), 0);
	for (i = 0; i < NWAIT; i++) {
		call_init(&c[i], q, PTR(i));
		CHECK_EQ(coil_spawn(&t[i], putter, &c[i]), 0);
	}
	CHECK_EQ(yield_n(2), 0);
	for (i = 0; i < NWAIT; i++)
		CHECK_EQ(c[i].ret, 1);
	CHECK_EQ(coil_queue_close(q), 0);
	CHECK_EQ(coil_yield(), 0); /* one turn is enough: "at once" */
	for (i = 0; i < NWAIT; i++)
		CHECK_EQ(c[i].ret, -EPIPE);
	for (i = 0; i < NWAIT; i++)
		CHECK_EQ(coil_join(t[i], NULL), 0);
	/* Only the item accepted before the close is there. */
	CHECK_EQ(coil_queue_len(q), 1);
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(INT(item), 100);
	CHECK_EQ(coil_queue_get(q, &item), -EPIPE);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_close_fails_waiting_putters_at_once(void **state)
{
	(void)state;
	run_main(body_close_fails_putters, NULL);
}

static void *body_put_after_close(void *arg)
{
	struct coil_queue *q;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 0), 0);
	CHECK_EQ(coil_queue_close(q), 0);
	CHECK_EQ(coil_queue_put(q, PTR(1)), -EPIPE);
	CHECK_EQ(coil_queue_try_put(q, PTR(1)), -EPIPE);
	CHECK_EQ(coil_queue_put_timeout(q, PTR(1), MS(10)), -EPIPE);
	CHECK_EQ(coil_queue_len(q), 0);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_put_after_close_is_epipe(void **state)
{
	(void)state;
	run_main(body_put_after_close, NULL);
}

/* ------------------------------------------------------------ fairness */

#define NFAIR 16

static void *body_getters_fifo(void *arg)
{
	struct coil_task *t[NFAIR];
	struct call c[NFAIR];
	struct coil_queue *q;
	int i, clock = 0;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 1), 0);
	/* Spawn order is run order, so getter i arrives i-th. */
	for (i = 0; i < NFAIR; i++) {
		call_init(&c[i], q, NULL);
		c[i].clock = &clock;
		CHECK_EQ(coil_spawn(&t[i], getter, &c[i]), 0);
	}
	CHECK_EQ(yield_n(2), 0);
	/* Put one at a time, letting everyone run between puts. */
	for (i = 0; i < NFAIR; i++) {
		CHECK_EQ(coil_queue_put(q, PTR(i)), 0);
		CHECK_EQ(yield_n(2), 0);
	}
	for (i = 0; i < NFAIR; i++) {
		CHECK_EQ(coil_join(t[i], NULL), 0);
		CHECK_EQ(c[i].ret, 0);
		CHECK_EQ(INT(c[i].item), i);
		CHECK_EQ(c[i].order, i);
	}
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_getters_served_in_arrival_order(void **state)
{
	(void)state;
	run_main(body_getters_fifo, NULL);
}

static void *body_putters_fifo(void *arg)
{
	struct coil_task *t[NFAIR];
	struct call c[NFAIR];
	struct coil_queue *q;
	void *item;
	int i, clock = 0;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 1), 0);
	CHECK_EQ(coil_queue_put(q, PTR(-1)), 0);
	for (i = 0; i < NFAIR; i++) {
		call_init(&c[i], q, PTR(i));
		c[i].clock = &clock;
		CHECK_EQ(coil_spawn(&t[i], putter, &c[i]), 0);
	}
	CHECK_EQ(yield_n(2), 0);
	CHECK_EQ(clock, 0); /* all waiting */
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(INT(item), -1);
	for (i = 0; i < NFAIR; i++) {
		CHECK_EQ(yield_n(2), 0);
		CHECK_EQ(coil_queue_get(q, &item), 0);
		CHECK_EQ(INT(item), i);
	}
	for (i = 0; i < NFAIR; i++) {
		CHECK_EQ(coil_join(t[i], NULL), 0);
		CHECK_EQ(c[i].ret, 0);
		CHECK_EQ(c[i].order, i);
	}
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_putters_served_in_arrival_order(void **state)
{
	(void)state;
	run_main(body_putters_fifo, NULL);
}

/* -------------------------------------------------------- cancellation */

static void *body_cancel_after_handoff(void *arg)
{
	struct coil_queue *q;
	struct coil_task *t;
	struct call c;
	void *item;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 0), 0);
	call_init(&c, q, NULL);
	CHECK_EQ(coil_spawn(&t, getter, &c), 0);
	CHECK_EQ(coil_yield(), 0);          /* the getter waits */
	CHECK_EQ(coil_queue_put(q, PTR(9)), 0); /* handed to it */
	CHECK_EQ(coil_cancel(t), 0);        /* before it could run */
	coil_join(t, NULL);                 /* -ECANCELED or 0: not the point */
	CHECK_EQ(c.ret, 0);
	CHECK_EQ(INT(c.item), 9);
	CHECK_EQ(coil_queue_try_get(q, &item), -EAGAIN);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_cancelled_getter_keeps_handed_item(void **state)
{
	(void)state;
	run_main(body_cancel_after_handoff, NULL);
}

static void *body_cancelled_getter_takes_nothing(void *arg)
{
	struct coil_task *ta, *tb;
	struct coil_queue *q;
	struct call a, b;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 0), 0);
	call_init(&a, q, NULL);
	call_init(&b, q, NULL);
	CHECK_EQ(coil_spawn(&ta, getter, &a), 0);
	CHECK_EQ(coil_spawn(&tb, getter, &b), 0);
	CHECK_EQ(yield_n(2), 0);            /* A then B wait */
	CHECK_EQ(coil_cancel(ta), 0);
	CHECK_EQ(coil_queue_put(q, PTR(5)), 0); /* before A has run */
	CHECK_EQ(coil_join(ta, NULL), -ECANCELED);
	CHECK_EQ(a.ret, -ECANCELED);
	CHECK_EQ(coil_join(tb, NULL), 0);
	CHECK_EQ(b.ret, 0);
	CHECK_EQ(INT(b.item), 5);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_cancelled_getter_does_not_swallow_item(void **state)
{
	(void)state;
	run_main(body_cancelled_getter_takes_nothing, NULL);
}

static void *body_cancelled_putter_leaves_nothing(void *arg)
{
	struct coil_queue *q;
	struct coil_task *t;
	struct call c;
	void *item;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 1), 0);
	CHECK_EQ(coil_queue_put(q, PTR(1)), 0);
	call_init(&c, q, PTR(2));
	CHECK_EQ(coil_spawn(&t, putter, &c), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(coil_cancel(t), 0);
	CHECK_EQ(coil_join(t, NULL), -ECANCELED);
	CHECK_EQ(c.ret, -ECANCELED);
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(INT(item), 1);
	CHECK_EQ(coil_queue_try_get(q, &item), -EAGAIN); /* 2 never got in */
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_cancelled_putter_leaves_no_item(void **state)
{
	(void)state;
	run_main(body_cancelled_putter_leaves_nothing, NULL);
}

static void *body_cancel_after_admit(void *arg)
{
	struct coil_queue *q;
	struct coil_task *t;
	struct call c;
	void *item;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 1), 0);
	CHECK_EQ(coil_queue_put(q, PTR(1)), 0);
	call_init(&c, q, PTR(2));
	CHECK_EQ(coil_spawn(&t, putter, &c), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(coil_queue_get(q, &item), 0); /* admits the parked put */
	CHECK_EQ(coil_cancel(t), 0);           /* before the putter runs */
	coil_join(t, NULL);
	CHECK_EQ(c.ret, 0);
	CHECK_EQ(coil_queue_get(q, &item), 0);
	CHECK_EQ(INT(item), 2);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_cancelled_putter_admitted_item_stays(void **state)
{
	(void)state;
	run_main(body_cancel_after_admit, NULL);
}

/* ---------------------------------------------------------- unbounded */

#define NGROW 100000

static void *body_unbounded_grows(void *arg)
{
	struct coil_queue *q;
	void *item;
	int i, next = 0;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 0), 0);
	/* Wrap the ring first, so growing must unwrap it. */
	for (i = 0; i < 50; i++)
		CHECK_EQ(coil_queue_try_put(q, PTR(i)), 0);
	for (i = 0; i < 30; i++) {
		CHECK_EQ(coil_queue_try_get(q, &item), 0);
		CHECK_EQ(INT(item), next++);
	}
	for (i = 50; i < NGROW; i++)
		CHECK_EQ(coil_queue_try_put(q, PTR(i)), 0);
	CHECK_EQ(coil_queue_len(q), NGROW - 30);
	while (coil_queue_try_get(q, &item) == 0)
		CHECK_EQ(INT(item), next++);
	CHECK_EQ(next, NGROW);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_unbounded_grows(void **state)
{
	(void)state;
	run_main(body_unbounded_grows, NULL);
}

static void *body_destroy_busy(void *arg)
{
	struct coil_queue *q;
	struct coil_task *t;
	struct call c;

	(void)arg;
	CHECK_EQ(coil_queue_create(&q, 0), 0);
	call_init(&c, q, NULL);
	CHECK_EQ(coil_spawn(&t, getter, &c), 0);
	CHECK_EQ(coil_yield(), 0);
	CHECK_EQ(coil_queue_destroy(q), -EBUSY);
	CHECK_EQ(coil_queue_put(q, PTR(1)), 0);
	CHECK_EQ(coil_join(t, NULL), 0);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_queue_destroy_with_waiters_is_ebusy(void **state)
{
	struct coil_queue *q;

	(void)state;
	assert_int_equal(coil_queue_create(&q, 0), -EPERM); /* not in a task */
	run_main(body_destroy_busy, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue_is_fifo),
		cmocka_unit_test(test_queue_put_suspends_when_full),
		cmocka_unit_test(test_queue_get_suspends_when_empty),
		cmocka_unit_test(test_queue_try_put_full_is_eagain),
		cmocka_unit_test(test_queue_try_get_empty_is_eagain),
		cmocka_unit_test(test_queue_put_timeout_is_etimedout),
		cmocka_unit_test(test_queue_get_timeout_is_etimedout),
		cmocka_unit_test(test_queue_join_waits_until_all_done),
		cmocka_unit_test(test_queue_task_done_too_many_is_einval),
		cmocka_unit_test(test_queue_close_getters_drain_then_epipe),
		cmocka_unit_test(test_queue_close_wakes_waiting_getters_with_epipe),
		cmocka_unit_test(test_queue_close_fails_waiting_putters_at_once),
		cmocka_unit_test(test_queue_put_after_close_is_epipe),
		cmocka_unit_test(test_queue_getters_served_in_arrival_order),
		cmocka_unit_test(test_queue_putters_served_in_arrival_order),
		cmocka_unit_test(test_queue_cancelled_getter_keeps_handed_item),
		cmocka_unit_test(test_queue_cancelled_getter_does_not_swallow_item),
		cmocka_unit_test(test_queue_cancelled_putter_leaves_no_item),
		cmocka_unit_test(test_queue_cancelled_putter_admitted_item_stays),
		cmocka_unit_test(test_queue_unbounded_grows),
		cmocka_unit_test(test_queue_destroy_with_waiters_is_ebusy),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
