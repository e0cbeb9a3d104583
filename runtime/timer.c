/* SPDX-License-Identifier: MIT */
/*
 * runtime/timer.c - sleeping, deadline scopes and the timer heap.
 *
 * Default mode (COIL_TIMER_HEAP): every sleeper and every deadline-bounded
 * non-I/O wait is an entry in a 4-ary min-heap of (deadline, timer); the
 * loop passes the earliest deadline to the kernel as the timeout of its
 * blocking io_uring_enter, so a million sleepers cost no SQE and no CQE at
 * all - only O(log4 n) heap work each. Entries carry a copy of the deadline
 * so sifting touches only the heap array, not the sleepers' stacks; the
 * timer itself lives on the sleeper's stack and remembers its index so it
 * can be removed on cancel.
 *
 * COIL_TIMER_PER_OP submits one IORING_OP_TIMEOUT per sleep instead: the
 * kernel keeps an hrtimer per sleeper and posts a CQE for each. It is here
 * for comparison (bench/sleepers.c measures both).
 */
#define _GNU_SOURCE
#include <stdlib.h>

#include "internal.h"

#define HEAP_ARITY 4
#define NOT_IN_HEAP UINT32_MAX

uint64_t coil_now(void)
{
	return coil__now();
}

/* ------------------------------------------------------------- the heap */

static inline void heap_set(struct coil__timer_heap *h, uint32_t i,
			    struct coil__heap_entry e)
{
	h->v[i] = e;
	e.timer->heap_idx = i;
}

static void sift_up(struct coil__timer_heap *h, uint32_t i)
{
	struct coil__heap_entry e = h->v[i];
	uint32_t parent;

	while (i > 0) {
		parent = (i - 1) / HEAP_ARITY;
		if (h->v[parent].when <= e.when)
			break;
		heap_set(h, i, h->v[parent]);
		i = parent;
	}
	heap_set(h, i, e);
}

static void sift_down(struct coil__timer_heap *h, uint32_t i)
{
	struct coil__heap_entry e = h->v[i];
	uint32_t c, best, end;

	for (;;) {
		c = i * HEAP_ARITY + 1;
		if (c >= h->len)
			break;
		end = c + HEAP_ARITY < h->len ? c + HEAP_ARITY : h->len;
		best = c;
		for (c++; c < end; c++) {
			if (h->v[c].when < h->v[best].when)
				best = c;
		}
		if (e.when <= h->v[best].when)
			break;
		heap_set(h, i, h->v[best]);
		i = best;
	}
	heap_set(h, i, e);
}

int coil__timer_add(struct coil_rt *rt, struct coil__timer *tm)
{
	struct coil__timer_heap *h = &rt->timers;
	struct coil__heap_entry *v;
	uint32_t cap;

	if (h->len == h->cap) {
		cap = h->cap ? h->cap * 2 : 64;
		if (cap <= h->cap)
			return -ENOMEM;
		v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->len] = (struct coil__heap_entry){ tm->when, tm };
	tm->heap_idx = h->len++;
	sift_up(h, tm->heap_idx);
	return 0;
}

void coil__timer_del(struct coil_rt *rt, struct coil__timer *tm)
{
	struct coil__timer_heap *h = &rt->timers;
	uint32_t i = tm->heap_idx;

	if (i == NOT_IN_HEAP)
		return;
	tm->heap_idx = NOT_IN_HEAP;
	if (--h->len == i)
		return;
	heap_set(h, i, h->v[h->len]);
	if (i > 0 && h->v[i].when < h->v[(i - 1) / HEAP_ARITY].when)
		sift_up(h, i);
	else
		sift_down(h, i);
}

void coil__timer_heap_fini(struct coil__timer_heap *h)
{
	free(h->v);
	h->v = NULL;
	h->len = h->cap = 0;
}

static void timer_fire(struct coil__timer *tm)
{
	struct coil_task *t = tm->task;

	if (!tm->is_deadline) {
		if (tm->fire_res == -ETIMEDOUT)
			t->rt->stats.timeouts++;
		coil__wake(t, tm->fire_res);
		return;
	}
	/* A deadline: take the task out of what it waits on. */
	if (t->state == COIL__TASK_WAITING && t->unwait) {
		t->rt->stats.timeouts++;
		t->unwait(t, -ETIMEDOUT);
	}
}

unsigned coil__timers_expire(struct coil_rt *rt, uint64_t now)
{
	struct coil__timer_heap *h = &rt->timers;
	struct coil__timer *tm;
	unsigned n = 0;

	while (h->len && h->v[0].when <= now) {
		tm = h->v[0].timer;
		coil__timer_del(rt, tm);
		timer_fire(tm);
		n++;
	}
	return n;
}

/* ------------------------------------------------ suspending with a limit */

int coil__suspend_until(struct coil_task *self, const char *what,
			coil__unwait_fn unwait, void *obj, uint64_t deadline)
{
	struct coil__timer tm = {
		.when = deadline,
		.heap_idx = NOT_IN_HEAP,
		.is_deadline = true,
		.task = self,
	};
	int ret;

	if (deadline == COIL__NEVER)
		return coil__suspend(self, what, unwait, obj);
	ret = coil__timer_add(self->rt, &tm);
	if (ret) {
		/* Waiting is still correct; only the limit is lost. */
		return coil__suspend(self, what, unwait, obj);
	}
	ret = coil__suspend(self, what, unwait, obj);
	coil__timer_del(self->rt, &tm);
	return ret;
}

/* ------------------------------------------------------------ sleeping */

static void sleep_unwait(struct coil_task *t, int why)
{
	coil__timer_del(t->rt, t->wait_obj);
	coil__wake(t, why);
}

/* Sleep through one IORING_OP_TIMEOUT with an absolute expiry. */
int coil__sleep_per_op(struct coil_task *self, uint64_t when)
{
	struct coil__op op;
	struct io_uring_sqe *sqe;
	int ret;

	(void)self;
	sqe = coil__op_prep(&op, COIL__OP_NO_LINK, "sleep");
	if (!sqe)
		return op.res;
	op.ts.tv_sec = (long long)(when / 1000000000u);
	op.ts.tv_nsec = (long long)(when % 1000000000u);
	io_uring_prep_timeout(sqe, &op.ts, 0, IORING_TIMEOUT_ABS);
	ret = coil__op_wait(&op, sqe);
	return ret == -ETIME ? 0 : ret;
}

int coil_sleep_until(uint64_t when)
{
	struct coil_task *self = coil__running();
	struct coil__timer tm;
	int ret, fire = 0;

	if (!self)
		return -EPERM;
	ret = coil__check_cancel(self);
	if (ret)
		return ret;
	if (self->deadline < when) {
		when = self->deadline;
		fire = -ETIMEDOUT;
	}
	if (self->rt->opts.timer_mode == COIL_TIMER_PER_OP) {
		ret = coil__sleep_per_op(self, when);
		if (ret == 0 && fire)
			self->rt->stats.timeouts++;
		return ret == 0 ? fire : ret;
	}
	tm.when = when;
	tm.heap_idx = NOT_IN_HEAP;
	tm.is_deadline = false;
	tm.task = self;
	tm.fire_res = fire;
	ret = coil__timer_add(self->rt, &tm);
	if (ret)
		return ret;
	return coil__suspend(self, "sleep", sleep_unwait, &tm);
}

/* now + @ns, saturating: a huge duration means "never", not the past. */
static uint64_t after(uint64_t ns)
{
	uint64_t now = coil__now();

	return ns > COIL__NEVER - now ? COIL__NEVER : now + ns;
}

int coil_sleep(uint64_t ns)
{
	if (ns == 0)
		return coil_yield();
	return coil_sleep_until(after(ns));
}

/* ---------------------------------------------------------- deadlines */

int coil_deadline_enter_at(struct coil_deadline *d, uint64_t when)
{
	struct coil_task *self = coil__running();

	if (!self)
		return -EPERM;
	if (!d)
		return -EINVAL;
	d->at = when;
	d->saved = self->deadline;
	if (when < self->deadline)
		self->deadline = when;
	return 0;
}

int coil_deadline_enter(struct coil_deadline *d, uint64_t timeout_ns)
{
	return coil_deadline_enter_at(d, after(timeout_ns));
}

void coil_deadline_exit(struct coil_deadline *d)
{
	struct coil_task *self = coil__running();

	if (self && d)
		self->deadline = d->saved;
}
