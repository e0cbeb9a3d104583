/* SPDX-License-Identifier: MIT */
/*
 * runtime/sync.c - FIFO wait queues, and on them events, semaphores,
 * mutexes and conditions.
 *
 * Every primitive hands what it guards straight to the oldest waiter (a
 * permit, the mutex, an item) before waking it, so a woken task never has
 * to compete again and nobody starves. A waiter woken that way keeps what
 * it was given even if it is cancelled before it runs: cancellation only
 * removes tasks that are still waiting (coil_cancel acts on WAITING tasks).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "internal.h"
#include "suspend.h"

/* ---------------------------------------------------------- wait queues */

void coil__wq_unwait(struct coil_task *t, int why)
{
	struct coil__wq_node *n = t->wait_obj;

	coil__wq_remove(n);
	coil__wake(t, why);
}

int coil__wq_wait(struct coil__wq *wq, struct coil__wq_node *n,
		  const char *what, int64_t timeout_ns)
{
	struct coil_task *self = n->task;
	uint64_t deadline = self->deadline;

	if (timeout_ns >= 0) {
		uint64_t d = coil__now() + (uint64_t)timeout_ns;

		if (d < deadline)
			deadline = d;
	}
	coil__wq_push(wq, n);
	if (deadline == COIL__NEVER)
		return coil__suspend_inline(self, what, coil__wq_unwait, n);
	/* A deadline that fires is counted in stats.timeouts by the timer. */
	return coil__suspend_until(self, what, coil__wq_unwait, n, deadline);
}

size_t coil__wq_wake_all(struct coil__wq *wq, int res)
{
	size_t n = 0;

	while (coil__wq_wake_one(wq, res))
		n++;
	return n;
}

void *coil__owned_alloc(size_t size, int *err)
{
	struct coil_rt *rt = coil__tls_rt;
	struct coil_rt **obj;

	if (!rt || !rt->current) {
		*err = -EPERM;
		return NULL;
	}
	obj = calloc(1, size);
	if (!obj) {
		*err = -ENOMEM;
		return NULL;
	}
	*obj = rt;
	*err = 0;
	return obj;
}

/* Common prologue: the running task, or an error for the caller. */
static struct coil_task *running_or(int *err)
{
	struct coil_task *self = coil__running();

	*err = self ? coil__check_cancel(self) : -EPERM;
	return self;
}

/* ---------------------------------------------------------------- event */

struct coil_event {
	struct coil_rt *rt;
	struct coil__wq waiters;
	atomic_bool is_set; /* read by any thread, written by the owner */
};

int coil_event_create(struct coil_event **out)
{
	struct coil_event *ev;
	int err;

	if (!out)
		return -EINVAL;
	ev = coil__owned_alloc(sizeof(*ev), &err);
	if (ev)
		*out = ev;
	return err;
}

int coil_event_destroy(struct coil_event *ev)
{
	if (!ev)
		return -EINVAL;
	coil__inbox_settle(ev->rt); /* a set from afar may be queued */
	if (ev->waiters.len)
		return -EBUSY;
	free(ev);
	return 0;
}

static void event_set_local(struct coil_event *ev)
{
	atomic_store_explicit(&ev->is_set, true, memory_order_relaxed);
	coil__wq_wake_all(&ev->waiters, 0);
}

struct event_msg {
	struct coil__msg msg;
	struct coil_event *ev;
};

static void event_msg_run(struct coil_rt *rt, struct coil__msg *m)
{
	struct event_msg *em = (struct event_msg *)m;

	(void)rt;
	event_set_local(em->ev);
	free(em);
}

int coil_event_set(struct coil_event *ev)
{
	struct event_msg *em;

	if (!ev)
		return -EINVAL;
	if (coil__tls_rt == ev->rt) {
		event_set_local(ev);
		return 0;
	}
	em = malloc(sizeof(*em));
	if (!em)
		return -ENOMEM;
	em->msg.run = event_msg_run;
	em->msg.on_stack = false;
	em->ev = ev;
	coil__inbox_send(ev->rt, &em->msg);
	return 0;
}

int coil_event_clear(struct coil_event *ev)
{
	if (!ev)
		return -EINVAL;
	atomic_store_explicit(&ev->is_set, false, memory_order_relaxed);
	return 0;
}

bool coil_event_is_set(const struct coil_event *ev)
{
	return ev && atomic_load_explicit(&ev->is_set, memory_order_relaxed);
}

/* Wait on @wq; while waiting, the task may be woken from another thread. */
static int remote_wait(struct coil_task *self, struct coil__wq *wq,
		       struct coil__wq_node *n, const char *what,
		       int64_t timeout_ns)
{
	int ret;

	self->rt->remote_waiters++;
	ret = coil__wq_wait(wq, n, what, timeout_ns);
	self->rt->remote_waiters--;
	return ret;
}

int coil_event_wait_timeout(struct coil_event *ev, int64_t timeout_ns)
{
	struct coil__wq_node n = { 0 };
	int err;

	n.task = running_or(&err);
	if (err)
		return err;
	if (!ev || ev->rt != n.task->rt)
		return -EINVAL;
	if (coil_event_is_set(ev))
		return 0;
	return remote_wait(n.task, &ev->waiters, &n, "event", timeout_ns);
}

int coil_event_wait(struct coil_event *ev)
{
	return coil_event_wait_timeout(ev, COIL_NO_TIMEOUT);
}

/* ------------------------------------------------------------ semaphore */

struct coil_sem {
	struct coil_rt *rt;
	struct coil__wq waiters;
	unsigned value;
	unsigned max; /* 0: unbounded */
};

int coil_sem_create(struct coil_sem **out, unsigned initial, unsigned max)
{
	struct coil_sem *s;
	int err;

	if (!out || (max && initial > max))
		return -EINVAL;
	s = coil__owned_alloc(sizeof(*s), &err);
	if (!s)
		return err;
	s->value = initial;
	s->max = max;
	*out = s;
	return 0;
}

int coil_sem_destroy(struct coil_sem *s)
{
	if (!s)
		return -EINVAL;
	coil__inbox_settle(s->rt); /* a release from afar may be queued */
	if (s->waiters.len)
		return -EBUSY;
	free(s);
	return 0;
}

int coil_sem_try_acquire(struct coil_sem *s)
{
	/* Owner-only: a count changed from another thread is a data race. */
	if (!s || s->rt != coil__tls_rt)
		return -EINVAL;
	if (!s->value)
		return -EAGAIN;
	s->value--;
	return 0;
}

int coil_sem_acquire_timeout(struct coil_sem *s, int64_t timeout_ns)
{
	struct coil__wq_node n = { 0 };
	int err;

	n.task = running_or(&err);
	if (err)
		return err;
	if (!s || s->rt != n.task->rt)
		return -EINVAL;
	/* Waiters first: a newcomer must not take a permit from them. */
	if (s->value && !s->waiters.len) {
		s->value--;
		return 0;
	}
	return remote_wait(n.task, &s->waiters, &n, "semaphore", timeout_ns);
}

int coil_sem_acquire(struct coil_sem *s)
{
	return coil_sem_acquire_timeout(s, COIL_NO_TIMEOUT);
}

static int sem_release_local(struct coil_sem *s)
{
	/* The permit goes to the oldest waiter directly. */
	if (coil__wq_wake_one(&s->waiters, 0))
		return 0;
	if (s->max && s->value >= s->max)
		return -EOVERFLOW;
	/* Unbounded still has the type's bound: wrapping loses every permit. */
	if (s->value == UINT_MAX)
		return -EOVERFLOW;
	s->value++;
	return 0;
}

struct sem_msg {
	struct coil__msg msg;
	struct coil_sem *s;
};

static void sem_msg_run(struct coil_rt *rt, struct coil__msg *m)
{
	struct sem_msg *sm = (struct sem_msg *)m;

	if (sem_release_local(sm->s) == -EOVERFLOW)
		coil__log(rt, "coil: coil_sem_release from another thread "
			  "overflowed a semaphore; ignored");
	free(sm);
}

int coil_sem_release(struct coil_sem *s)
{
	struct sem_msg *sm;

	if (!s)
		return -EINVAL;
	if (coil__tls_rt == s->rt)
		return sem_release_local(s);
	sm = malloc(sizeof(*sm));
	if (!sm)
		return -ENOMEM;
	sm->msg.run = sem_msg_run;
	sm->msg.on_stack = false;
	sm->s = s;
	coil__inbox_send(s->rt, &sm->msg);
	return 0;
}

/* ---------------------------------------------------------------- mutex */

/*
 * The owner is kept by task id, not pointer: a task that ends holding the
 * mutex leaves it locked (as documented), and its task struct goes back to
 * the runtime's free list, where the next spawn usually finds it; with a
 * pointer, that unrelated task would read as the owner (lock: -EDEADLK,
 * unlock: success). Ids are never reused within a runtime; 0 is none.
 */
struct coil_mutex {
	struct coil_rt *rt;
	uint64_t owner;
	struct coil__wq waiters;
};

int coil_mutex_create(struct coil_mutex **out)
{
	struct coil_mutex *m;
	int err;

	if (!out)
		return -EINVAL;
	m = coil__owned_alloc(sizeof(*m), &err);
	if (m)
		*out = m;
	return err;
}

/* Whether @m's owner is still a live task of its runtime (which runs on
 * this thread): a scan, for the rare destroy of a mutex still owned. */
static bool owner_live(const struct coil_mutex *m)
{
	const struct coil_task *t;

	for (t = m->rt->all; t; t = t->all_next)
		if (t->id == m->owner)
			return true;
	return false;
}

int coil_mutex_destroy(struct coil_mutex *m)
{
	if (!m)
		return -EINVAL;
	/*
	 * A mutex whose owner ended holding it can never be unlocked; with
	 * nobody waiting it may go (else it could only leak). Checked on the
	 * runtime's own thread only, where its task list can be read.
	 */
	if (m->waiters.len ||
	    (m->owner && (coil__tls_rt != m->rt || owner_live(m))))
		return -EBUSY;
	free(m);
	return 0;
}

int coil_mutex_trylock(struct coil_mutex *m)
{
	struct coil_task *self = coil__running();

	if (!self)
		return -EPERM;
	/* As coil_mutex_lock(): a task of another runtime may not own it. */
	if (!m || m->rt != self->rt)
		return -EINVAL;
	if (m->owner)
		return -EBUSY;
	m->owner = self->id;
	return 0;
}

/* Lock ignoring cancellation and deadlines (coil_cond_wait's re-lock). */
static void mutex_lock_uninterruptible(struct coil_mutex *m,
				       struct coil_task *self)
{
	struct coil__wq_node n = { .task = self };

	if (!m->owner) {
		m->owner = self->id;
		return;
	}
	coil__wq_push(&m->waiters, &n);
	while (m->owner != self->id)
		coil__suspend(self, "mutex (relock)", NULL, NULL);
}

int coil_mutex_lock_timeout(struct coil_mutex *m, int64_t timeout_ns)
{
	struct coil__wq_node n = { 0 };
	int err;

	n.task = running_or(&err);
	if (err)
		return err;
	if (!m || m->rt != n.task->rt)
		return -EINVAL;
	if (m->owner == n.task->id)
		return -EDEADLK;
	if (!m->owner) {
		m->owner = n.task->id;
		return 0;
	}
	/* On success, coil_mutex_unlock() made us the owner before waking. */
	return coil__wq_wait(&m->waiters, &n, "mutex", timeout_ns);
}

int coil_mutex_lock(struct coil_mutex *m)
{
	return coil_mutex_lock_timeout(m, COIL_NO_TIMEOUT);
}

int coil_mutex_unlock(struct coil_mutex *m)
{
	struct coil_task *self = coil__running();
	struct coil__wq_node *n;

	if (!m)
		return -EINVAL;
	if (!self || self->rt != m->rt || m->owner != self->id)
		return -EPERM;
	n = coil__wq_pop(&m->waiters);
	m->owner = n ? n->task->id : 0;
	if (n)
		coil__wake(n->task, 0);
	return 0;
}

/* ------------------------------------------------------------ condition */

struct coil_cond {
	struct coil_rt *rt;
	struct coil__wq waiters;
};

int coil_cond_create(struct coil_cond **out)
{
	struct coil_cond *c;
	int err;

	if (!out)
		return -EINVAL;
	c = coil__owned_alloc(sizeof(*c), &err);
	if (c)
		*out = c;
	return err;
}

int coil_cond_destroy(struct coil_cond *c)
{
	if (!c)
		return -EINVAL;
	if (c->waiters.len)
		return -EBUSY;
	free(c);
	return 0;
}

int coil_cond_wait_timeout(struct coil_cond *c, struct coil_mutex *m,
			   int64_t timeout_ns)
{
	struct coil__wq_node n = { 0 };
	int err, ret;

	n.task = coil__running();
	if (!n.task)
		return -EPERM;
	if (!c || !m || c->rt != n.task->rt || m->rt != n.task->rt)
		return -EINVAL;
	if (m->owner != n.task->id)
		return -EPERM;
	err = coil__check_cancel(n.task);
	if (err)
		return err; /* still holding @m */
	/* Nothing runs between the unlock and the wait: no lost notify. */
	coil_mutex_unlock(m);
	ret = coil__wq_wait(&c->waiters, &n, "condition", timeout_ns);
	mutex_lock_uninterruptible(m, n.task);
	return ret;
}

int coil_cond_wait(struct coil_cond *c, struct coil_mutex *m)
{
	return coil_cond_wait_timeout(c, m, COIL_NO_TIMEOUT);
}

int coil_cond_notify(struct coil_cond *c, unsigned n)
{
	int woken = 0;

	/* Owner-only: waking another runtime's tasks would race its loop. */
	if (!c || c->rt != coil__tls_rt)
		return -EINVAL;
	while (n-- && coil__wq_wake_one(&c->waiters, 0))
		woken++;
	return woken;
}

int coil_cond_notify_all(struct coil_cond *c)
{
	if (!c || c->rt != coil__tls_rt)
		return -EINVAL;
	return (int)coil__wq_wake_all(&c->waiters, 0);
}
