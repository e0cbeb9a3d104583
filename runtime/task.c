/* SPDX-License-Identifier: MIT */
/*
 * runtime/task.c - spawning, finishing, joining and cancelling tasks.
 *
 * Lifetimes: a task's stack is released as soon as its function returns
 * (by the loop, once the task has switched away from it for the last time).
 * The struct coil_task lives on until its handle is joined or detached, so
 * that join can read the result; detached tasks are recycled at once.
 * Task structs come from slabs owned by the runtime, all freed when the
 * runtime ends, so a handle never joined cannot leak past coil_run().
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sanitizer.h"

#define COIL__TASKS_PER_SLAB 64

struct coil__task_slab {
	struct coil__task_slab *next;
	struct coil_task tasks[COIL__TASKS_PER_SLAB];
};

static struct coil_task *task_alloc(struct coil_rt *rt)
{
	struct coil__task_slab *slab;
	struct coil_task *t;
	int i;

	if (!rt->task_free) {
		/* Cache-line aligned: each task's hot fields share one line. */
		slab = aligned_alloc(64, sizeof(*slab));
		if (!slab)
			return NULL;
		slab->next = rt->task_slabs;
		rt->task_slabs = slab;
		for (i = COIL__TASKS_PER_SLAB - 1; i >= 0; i--) {
			slab->tasks[i].next = rt->task_free;
			rt->task_free = &slab->tasks[i];
		}
	}
	t = rt->task_free;
	rt->task_free = t->next;
	return t;
}

static void task_recycle(struct coil_rt *rt, struct coil_task *t)
{
	t->state = COIL__TASK_DONE;
	t->rt = NULL; /* handles to a recycled task are caught by asserts */
	t->next = rt->task_free;
	rt->task_free = t;
}

void coil__task_free_all(struct coil_rt *rt)
{
	struct coil__task_slab *slab, *next;

	for (slab = rt->task_slabs; slab; slab = next) {
		next = slab->next;
		free(slab);
	}
	rt->task_slabs = NULL;
	rt->task_free = NULL;
}

static void all_link(struct coil_rt *rt, struct coil_task *t)
{
	t->all_prev = NULL;
	t->all_next = rt->all;
	if (rt->all)
		rt->all->all_prev = t;
	rt->all = t;
}

static void all_unlink(struct coil_rt *rt, struct coil_task *t)
{
	if (t->all_prev)
		t->all_prev->all_next = t->all_next;
	else
		rt->all = t->all_next;
	if (t->all_next)
		t->all_next->all_prev = t->all_prev;
}

/* Wake everyone waiting for @t; their wait nodes are dropped. */
static void wake_waiters(struct coil_task *t)
{
	struct coil__waiter *w, *next;

	for (w = t->waiters; w; w = next) {
		next = w->next;
		coil__wake(w->task, 0);
	}
	t->waiters = NULL;
}

/* Runs on the task's own stack, entered through the context trampoline. */
static void task_entry(void *arg)
{
	struct coil_task *t = arg;
	struct coil_rt *rt = t->rt;

	coil__san_task_start();
	coil__reap_exited(rt); /* we may follow a task that just ended */
	t->result = t->fn(t->arg);
	t->state = COIL__TASK_DONE;
	all_unlink(rt, t);
	rt->stats.tasks_live--;
	wake_waiters(t);
	coil__task_exit_switch(t);
}

void coil__task_reap_exited(struct coil_rt *rt, struct coil_task *t)
{
	coil__stack_free(rt, &t->stack);
	if (t->detached)
		task_recycle(rt, t);
}

int coil__task_create(struct coil_rt *rt, const struct coil_spawn_opts *o,
		      coil_fn fn, void *arg, struct coil_task **out)
{
	size_t stack_size = o && o->stack_size ? o->stack_size :
						 rt->opts.stack_size;
	struct coil_task *t;
	int err;

	if (!fn)
		return -EINVAL;
	t = task_alloc(rt);
	if (!t)
		return -ENOMEM;
	err = coil__stack_alloc(rt, stack_size, &t->stack);
	if (err) {
		task_recycle(rt, t);
		return err;
	}
	/* Field by field: a memset of the struct is a slow "rep stos". */
	t->rt = rt;
	t->fn = fn;
	t->arg = arg;
	t->result = NULL;
	t->id = rt->next_id++;
	t->deadline = COIL__NEVER;
	t->waiters = NULL;
	t->unwait = NULL;
	t->wait_obj = NULL;
	t->wait_what = NULL;
	t->wake_res = 0;
	t->cancelled = false;
	t->detached = false;
	t->is_main = false;
	t->joiner = NULL;
	t->name[0] = '\0';
	if (o && o->name) {
		strncpy(t->name, o->name, sizeof(t->name) - 1);
		t->name[sizeof(t->name) - 1] = '\0';
	}
#ifdef COIL__SANITIZE_ADDRESS
	t->asan_fake_stack = NULL;
#endif
	coil__ctx_make(&t->ctx, (char *)t->stack.lo + t->stack.size,
		       task_entry, t, rt->fpstate);
	all_link(rt, t);
	rt->stats.tasks_spawned++;
	rt->stats.tasks_live++;
	coil__enqueue_new(rt, t);
	*out = t;
	return 0;
}

int coil_spawn_opts(struct coil_task **out, const struct coil_spawn_opts *opts,
		    coil_fn fn, void *arg)
{
	struct coil_task *self = coil__running();
	struct coil_task *t;
	int err;

	if (!self)
		return -EPERM;
	if (self->cancelled)
		return -ECANCELED;
	err = coil__task_create(self->rt, opts, fn, arg, &t);
	if (err)
		return err;
	if (out)
		*out = t;
	else
		t->detached = true;
	return 0;
}

int coil_spawn(struct coil_task **out, coil_fn fn, void *arg)
{
	return coil_spawn_opts(out, NULL, fn, arg);
}

/* --------------------------------------------------------------- waiting */

static void waiter_remove(struct coil_task *target, struct coil__waiter *w)
{
	struct coil__waiter **pp;

	for (pp = &target->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

/* A join/gather/wait_any wait: nodes on the waiter's stack, one per task. */
struct task_wait {
	struct coil_task **targets;
	struct coil__waiter *nodes;
	size_t n;
};

static void task_wait_detach(struct task_wait *tw)
{
	size_t i;

	for (i = 0; i < tw->n; i++)
		if (tw->targets[i]->state != COIL__TASK_DONE)
			waiter_remove(tw->targets[i], &tw->nodes[i]);
}

static void task_wait_unwait(struct coil_task *self, int why)
{
	struct task_wait *tw = self->wait_obj;

	task_wait_detach(tw);
	coil__wake(self, why);
}

/*
 * Suspend @self until one of the tasks in @tw finishes. Returns 0, or the
 * error that ended the wait early: -ECANCELED, -ETIMEDOUT.
 */
static int task_wait(struct coil_task *self, struct task_wait *tw,
		     const char *what, uint64_t deadline)
{
	size_t i;
	int ret;

	for (i = 0; i < tw->n; i++) {
		if (tw->targets[i]->state == COIL__TASK_DONE)
			return 0;
	}
	for (i = 0; i < tw->n; i++) {
		tw->nodes[i].task = self;
		tw->nodes[i].next = tw->targets[i]->waiters;
		tw->targets[i]->waiters = &tw->nodes[i];
	}
	ret = coil__suspend_until(self, what, task_wait_unwait, tw, deadline);
	if (ret == 0)
		task_wait_detach(tw);
	return ret;
}

/* Wait for @t without deadline or cancellation (it is being cancelled). */
static void wait_done_uninterruptible(struct coil_task *self,
				      struct coil_task *t)
{
	struct coil__waiter node;

	while (t->state != COIL__TASK_DONE) {
		node.task = self;
		node.next = t->waiters;
		t->waiters = &node;
		coil__suspend(self, "join (cancelling)", NULL, NULL);
	}
}

/* Take the result of finished task @t and free the handle. */
static int task_collect(struct coil_rt *rt, struct coil_task *t, void **result)
{
	int ret = t->cancelled ? -ECANCELED : 0;

	if (result)
		*result = t->result;
	task_recycle(rt, t);
	return ret;
}

/*
 * The top of the chain of tasks joining @self (@self, its joiner, that
 * one's joiner, ...): each of them waits, through the others, for @self. If
 * @self now joins that task, nobody in the cycle can ever finish.
 */
static const struct coil_task *join_chain_top(const struct coil_task *self)
{
	while (self->joiner)
		self = self->joiner;
	return self;
}

static bool joinable(const struct coil_task *self, const struct coil_task *t)
{
	return t && t != self && t->rt == self->rt && !t->detached &&
	       !t->is_main && !t->joiner;
}

/*
 * Join @t. If the caller is cancelled or its deadline passes, @interrupted
 * (if not NULL) runs before @t is cancelled and awaited: coil_gather() and
 * coil_group_join() cancel all their other tasks there. Cancelled one at a
 * time, each awaited before the next is cancelled, the first could wait
 * for ever on a later one that was never told to stop (a mutex it holds).
 */
static int join_one(struct coil_task *self, struct coil_task *t, void **result,
		    void (*interrupted)(void *), void *arg)
{
	struct coil__waiter node;
	struct task_wait tw = { &t, &node, 1 };
	int err, ret;

	t->joiner = self; /* a second, concurrent join gets -EINVAL */
	err = coil__check_cancel(self);
	if (!err)
		err = task_wait(self, &tw, "join", self->deadline);
	if (err) {
		if (interrupted)
			interrupted(arg);
		/* As in asyncio: an interrupted await cancels what it awaited. */
		coil_cancel(t);
		wait_done_uninterruptible(self, t);
	}
	ret = task_collect(self->rt, t, result);
	return err ? err : ret;
}

int coil__join_or(struct coil_task *t, void **result,
		  void (*interrupted)(void *), void *arg)
{
	struct coil_task *self = coil__running();

	if (!self)
		return -EPERM;
	if (!joinable(self, t))
		return -EINVAL;
	/* As pthread_join: a join that would wait on itself fails at once. */
	if (join_chain_top(self) == t)
		return -EDEADLK;
	return join_one(self, t, result, interrupted, arg);
}

int coil_join(struct coil_task *t, void **result)
{
	return coil__join_or(t, result, NULL, NULL);
}

int coil_detach(struct coil_task *t)
{
	struct coil_task *self = coil__running();

	if (!self)
		return -EPERM;
	if (!t || t->rt != self->rt || t->detached || t->joiner ||
	    t == self->rt->main)
		return -EINVAL;
	if (t->state == COIL__TASK_DONE)
		task_recycle(self->rt, t);
	else
		t->detached = true;
	return 0;
}

/* coil_gather()'s tasks after the one being joined, cancelled at once. */
struct gather_rest {
	struct coil_task **tasks;
	size_t next, n;
	bool fired;	/* the caller's wait was interrupted */
};

static void gather_interrupted(void *arg)
{
	struct gather_rest *gi = arg;
	size_t i;

	gi->fired = true;
	for (i = gi->next; i < gi->n; i++)
		coil_cancel(gi->tasks[i]);
}

int coil_gather(struct coil_task **tasks, size_t n, void **results, int *errs)
{
	struct coil_task *self = coil__running();
	struct gather_rest gi = { tasks, 0, n, false };
	const struct coil_task *top;
	int first = 0, ret, err;
	size_t i;

	if (!self)
		return -EPERM;
	if (!tasks && n)
		return -EINVAL;
	/*
	 * Claim every handle first, so a duplicate in @tasks is caught; and
	 * refuse the task that (through others) joins us: waiting for it
	 * would close a cycle. A claimed handle stays visible to other joins'
	 * cycle checks until it is collected.
	 */
	top = join_chain_top(self);
	for (i = 0; i < n; i++) {
		err = !joinable(self, tasks[i]) ? -EINVAL :
		      tasks[i] == top ? -EDEADLK : 0;
		if (err) {
			while (i--)
				tasks[i]->joiner = NULL;
			return err;
		}
		tasks[i]->joiner = self;
	}
	/*
	 * Once the caller is cancelled (or its deadline passes), the join it
	 * was in cancels every task still to be joined (gather_interrupted())
	 * and each later join_one() finds its task cancelled or done, so
	 * every handle is collected either way.
	 */
	for (i = 0; i < n; i++) {
		gi.next = i + 1;
		ret = join_one(self, tasks[i], results ? &results[i] : NULL,
			       gather_interrupted, &gi);
		if (errs)
			errs[i] = ret;
		if (ret && !first)
			first = ret;
	}
	if (self->cancelled)
		return -ECANCELED;
	return gi.fired ? -ETIMEDOUT : first;
}

#define COIL__WAIT_ANY_STACK 64

int coil_wait_any(struct coil_task **tasks, size_t n, int64_t timeout_ns)
{
	struct coil_task *self = coil__running();
	struct coil__waiter stack_nodes[COIL__WAIT_ANY_STACK];
	struct task_wait tw = { tasks, stack_nodes, n };
	uint64_t deadline;
	size_t i;
	int ret;

	if (!self)
		return -EPERM;
	if (!tasks || !n)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!tasks[i] || tasks[i] == self || tasks[i]->rt != self->rt ||
		    tasks[i]->detached)
			return -EINVAL;
	}
	ret = coil__check_cancel(self);
	if (ret)
		return ret;
	deadline = self->deadline;
	if (timeout_ns >= 0) {
		uint64_t d = coil__now() + (uint64_t)timeout_ns;

		if (d < deadline)
			deadline = d;
	}
	if (n > COIL__WAIT_ANY_STACK) {
		tw.nodes = malloc(n * sizeof(*tw.nodes));
		if (!tw.nodes)
			return -ENOMEM;
	}
	ret = task_wait(self, &tw, "wait_any", deadline);
	if (tw.nodes != stack_nodes)
		free(tw.nodes);
	if (ret)
		return ret;
	for (i = 0; i < n; i++) {
		if (tasks[i]->state == COIL__TASK_DONE)
			return (int)i;
	}
	return -EINVAL; /* unreachable: woken only by a finished task */
}

/* ---------------------------------------------------------- cancelling */

int coil_cancel(struct coil_task *t)
{
	struct coil_rt *rt = coil__tls_rt;

	if (!rt)
		return -EPERM;
	if (!t || t->rt != rt)
		return -EINVAL;
	if (t->state == COIL__TASK_DONE || t->cancelled)
		return 0;
	t->cancelled = true;
	rt->stats.cancels++;
	if (t->state == COIL__TASK_WAITING && t->unwait)
		t->unwait(t, -ECANCELED);
	return 0;
}

/* ------------------------------------------------------------ queries */

struct coil_task *coil_self(void)
{
	return coil__running();
}

bool coil_task_is_done(const struct coil_task *t)
{
	return t && t->state == COIL__TASK_DONE;
}

bool coil_task_is_cancelled(const struct coil_task *t)
{
	return t && t->cancelled;
}

uint64_t coil_task_id(const struct coil_task *t)
{
	return t ? t->id : 0;
}
