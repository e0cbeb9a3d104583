/* SPDX-License-Identifier: MIT */
/*
 * runtime/suspend.h - the scheduler's per-switch path, inline: picking the
 * next task, switching to it, suspending. Shared by rt.c and io.c so that
 * an I/O op's suspend is one inlined sequence (every op takes it).
 */
#ifndef COIL_RUNTIME_SUSPEND_H
#define COIL_RUNTIME_SUSPEND_H

#include <stdatomic.h>

#include "internal.h"
#include "sanitizer.h"

#pragma GCC visibility push(hidden)

/* Timers are checked every turn when idle, else every 16th turn. */
#define COIL__BUSY_TIMER_CHECK 16

/* Bumped by coil_dump_request(); each runtime remembers what it served. */
extern atomic_uint_fast64_t coil__dump_requests;

/*
 * Every switch goes through here so the sanitizers hear about it. A NULL
 * task stands for the scheduler loop's context. After the switch back, the
 * stack of a task that exited just before is freed.
 */
static inline __attribute__((always_inline)) void
coil__switch_to(struct coil_rt *rt, struct coil_task *from_t,
		struct coil_task *to_t)
{
	struct coil__ctx *from = from_t ? &from_t->ctx : &rt->sched_ctx;
	struct coil__ctx *to = to_t ? &to_t->ctx : &rt->sched_ctx;

	rt->current = to_t;
	if (to_t) {
		to_t->state = COIL__TASK_RUNNING;
		rt->stats.switches++;
	}
	coil__san_switch_begin(rt, from_t, to_t);
	coil__ctx_switch(from, to);
	coil__san_switch_end(rt, from_t);
	coil__reap_exited(rt);
}

static inline struct coil_task *coil__runq_pop(struct coil_rt *rt)
{
	struct coil_task *t = rt->runq_head;

	if (t) {
		rt->runq_head = t->next;
		if (!rt->runq_head)
			rt->runq_tail = NULL;
		rt->runq_len--;
	}
	return t;
}

/*
 * From a task whose turn budget is spent: start the next turn in place when
 * a trip through the loop would do nothing - no SQE to submit, no CQE or
 * kernel completion work waiting, no timer check due, no dump requested -
 * saving two context switches per hop between tasks that only talk to
 * each other (a queue's producer and consumer).
 */
static inline __attribute__((always_inline)) struct coil_task *
coil__next_for_task(struct coil_rt *rt)
{
	if (COIL__UNLIKELY(!rt->turn_budget)) {
		if (!rt->runq_len || !coil__backend_quiet(rt) ||
		    (rt->timers.len &&
		     rt->turns_unclocked >= COIL__BUSY_TIMER_CHECK) ||
		    atomic_load_explicit(&coil__dump_requests,
					 memory_order_relaxed) != rt->dump_gen)
			return NULL;
		rt->stats.loop_turns++;
		rt->turns_unclocked++;
		rt->turn_budget = rt->runq_len;
	}
	rt->turn_budget--;
	return coil__runq_pop(rt);
}

/* Always inline: every suspend point's frame then holds what it needs
 * across the switch, with no frame of a helper between it and the switch. */
static inline __attribute__((always_inline)) int
coil__suspend_inline(struct coil_task *self, const char *what,
		     coil__unwait_fn unwait, void *obj)
{
	struct coil_rt *rt = self->rt;

	self->state = COIL__TASK_WAITING;
	self->wait_what = what;
	self->unwait = unwait;
	self->wait_obj = obj;
	coil__switch_to(rt, self, coil__next_for_task(rt));
	return self->wake_res;
}

/* A wait queue's cancel/timeout hook: takes the node out, wakes with @why. */
void coil__wq_unwait(struct coil_task *t, int why);

/*
 * coil__wq_wait() with its common case inlined: no timeout and no deadline
 * scope, so no timer to arm. The queue's hand-off paths wait here once per
 * item at capacity 1, so a call and the deadline arithmetic per wait show.
 */
static inline int coil__wq_wait_fast(struct coil__wq *wq,
				     struct coil__wq_node *n,
				     const char *what, int64_t timeout_ns)
{
	struct coil_task *self = n->task;

	if (COIL__LIKELY(timeout_ns < 0 && self->deadline == COIL__NEVER)) {
		coil__wq_push(wq, n);
		return coil__suspend_inline(self, what, coil__wq_unwait, n);
	}
	return coil__wq_wait(wq, n, what, timeout_ns);
}

#pragma GCC visibility pop

#endif /* COIL_RUNTIME_SUSPEND_H */
