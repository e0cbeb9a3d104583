/* SPDX-License-Identifier: MIT */
/*
 * coil/sync.h - coordinating tasks: queues, events, semaphores, mutexes,
 * conditions and task groups (asyncio.Queue, Event, Semaphore, Lock,
 * Condition, TaskGroup), plus running blocking work on a thread pool.
 *
 * Every object belongs to the runtime whose task created it. Waiters are
 * served in FIFO order, and waking a waiter of the same runtime costs no
 * system call. A waiting call returns -ECANCELED when its task is cancelled
 * and -ETIMEDOUT when its timeout or an enclosing deadline passes; a
 * cancelled or timed-out waiter is removed cleanly and takes nothing with
 * it (an item handed to it before it could leave is still returned).
 *
 * Threads other than the owner's - plain threads or other runtimes - may
 * call coil_queue_put()/coil_queue_try_put(), coil_queue_close(),
 * coil_event_set() and coil_sem_release(): the request travels through the
 * owner's inbox and wakes it (IORING_OP_MSG_RING from a thread that runs a
 * runtime on Linux >= 5.18, an eventfd write otherwise). Such a call
 * returns once the request is queued: a put from afar returns 0 before the
 * item is in the queue (-EPIPE only if the queue was closed already), and
 * if the queue is closed before the owner applies it the item is dropped
 * like the queue's others (the caller owns what items point to).
 *
 * Lifetimes: the owner applies the requests queued for it before a destroy
 * frees the object, so a request that returned before the destroy began is
 * never lost to it; one made after is a use after free. Objects die with
 * their runtime: requests still queued when coil_run() returns are dropped
 * (a queue's items with them), and any later call on the object is a use
 * after free.
 *
 * Creating an object and every call that may suspend return -EPERM outside
 * a coil task; the calls that never suspend also work on the owner's
 * thread between tasks. Constructors return -EINVAL for a NULL @out.
 */
#ifndef COIL_SYNC_H
#define COIL_SYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <coil/task.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------- queue */

struct coil_queue;

/*
 * coil_queue_create - a FIFO of void * items holding at most @capacity
 * (0: unbounded). The caller owns the queue: coil_queue_destroy() it.
 * Returns 0, -ENOMEM, -EPERM.
 */
int coil_queue_create(struct coil_queue **out, size_t capacity);

/*
 * coil_queue_destroy - free @q. Returns 0, or -EBUSY (tasks still wait on
 * it; nothing is freed) or -EINVAL. Items still queued are dropped: the
 * caller owns what they point to.
 */
int coil_queue_destroy(struct coil_queue *q);

/*
 * coil_queue_put - append @item, suspending while the queue is full.
 * Returns 0, -EPIPE (closed; at once, even for waiting putters), -ECANCELED,
 * -ETIMEDOUT, -ENOMEM (the buffer could not grow: it starts at 64 items,
 * or @capacity if smaller, and grows as an unbounded queue or one of a
 * larger capacity fills). From
 * another thread it never suspends: the item is handed to the owner in order
 * and 0 is returned (it waits there for room if the queue is full), or
 * -EPIPE if the queue is already closed, -ENOMEM.
 */
int coil_queue_put(struct coil_queue *q, void *item);
int coil_queue_put_timeout(struct coil_queue *q, void *item,
			   int64_t timeout_ns);
/*
 * Append without waiting: 0, -EAGAIN (full), -EPIPE, -ENOMEM. From another
 * thread fullness cannot be known when the call returns: it behaves as
 * coil_queue_put() from afar (0, and the item waits there for room).
 */
int coil_queue_try_put(struct coil_queue *q, void *item);

/*
 * coil_queue_get - remove the oldest item into *@item, suspending while the
 * queue is empty. After close, getters drain what is left, then get -EPIPE.
 * Returns 0, -EPIPE, -ECANCELED, -ETIMEDOUT.
 */
int coil_queue_get(struct coil_queue *q, void **item);
int coil_queue_get_timeout(struct coil_queue *q, void **item,
			   int64_t timeout_ns);
/*
 * Remove without waiting: 0, -EAGAIN (empty), -EPIPE (closed and empty),
 * -EPERM outside a task of the queue's runtime, -EINVAL.
 */
int coil_queue_try_get(struct coil_queue *q, void **item);

/*
 * coil_queue_task_done - mark one item got earlier as processed.
 * Returns 0, or -EINVAL if called more times than items were put (or not
 * on @q's runtime).
 */
int coil_queue_task_done(struct coil_queue *q);

/*
 * coil_queue_join - suspend until every item put has been marked done.
 * Returns 0, -ECANCELED, -ETIMEDOUT.
 */
int coil_queue_join(struct coil_queue *q);

/* coil_queue_close - refuse further puts (waiting putters get -EPIPE). */
int coil_queue_close(struct coil_queue *q);

/* Items in the queue now (not counting waiting putters). */
size_t coil_queue_len(const struct coil_queue *q);

/* ----------------------------------------------------------------- event */

struct coil_event;

/* An event, initially clear. Returns 0, -ENOMEM, -EPERM. */
int coil_event_create(struct coil_event **out);
/* Returns 0 or -EBUSY (waiters remain) / -EINVAL. */
int coil_event_destroy(struct coil_event *ev);
/*
 * Set it and wake every waiter. Any thread may call it. Returns 0, or
 * -EINVAL (NULL), or -ENOMEM (from another thread: no memory for the
 * request).
 */
int coil_event_set(struct coil_event *ev);
/* Clear it. Returns 0. */
int coil_event_clear(struct coil_event *ev);
bool coil_event_is_set(const struct coil_event *ev);
/* Suspend until set. Returns 0, -ECANCELED, -ETIMEDOUT. */
int coil_event_wait(struct coil_event *ev);
int coil_event_wait_timeout(struct coil_event *ev, int64_t timeout_ns);

/* ------------------------------------------------------------- semaphore */

struct coil_sem;

/*
 * A semaphore with @initial permits; @max > 0 makes it bounded
 * (asyncio.BoundedSemaphore): releasing past @max fails.
 * Returns 0, -EINVAL (initial > max), -ENOMEM, -EPERM.
 */
int coil_sem_create(struct coil_sem **out, unsigned initial, unsigned max);
int coil_sem_destroy(struct coil_sem *s);
/* Take a permit, suspending while there is none: 0, -ECANCELED, -ETIMEDOUT. */
int coil_sem_acquire(struct coil_sem *s);
int coil_sem_acquire_timeout(struct coil_sem *s, int64_t timeout_ns);
/* 0 or -EAGAIN; -EINVAL (NULL, or not called on @s's runtime). */
int coil_sem_try_acquire(struct coil_sem *s);
/*
 * Return a permit (handed straight to the oldest waiter, if any). Any
 * thread may call it. Returns 0, or -EOVERFLOW (bounded and already full,
 * or UINT_MAX permits free), -EINVAL (NULL). From another thread it
 * returns 0 once the request is queued, or -ENOMEM: an overflow found when
 * the owner applies it is only logged.
 */
int coil_sem_release(struct coil_sem *s);

/* ----------------------------------------------------------------- mutex */

struct coil_mutex;

/*
 * A mutex for tasks. Like a non-robust pthread mutex, one whose owner ends
 * without unlocking stays locked: its waiters wait until their timeout, or
 * until coil_run() reports the deadlock. coil_mutex_destroy() returns
 * -EBUSY while tasks wait or a live task holds it (or, held at all, when
 * called from another thread than its runtime's); one left locked by a
 * task that ended can be destroyed once nobody waits.
 */
int coil_mutex_create(struct coil_mutex **out);
int coil_mutex_destroy(struct coil_mutex *m);
/*
 * Lock, suspending while another task holds it. Unlock hands the mutex to
 * the oldest waiter directly (no barging). Returns 0, -EDEADLK (the caller
 * holds it already), -ECANCELED, -ETIMEDOUT.
 */
int coil_mutex_lock(struct coil_mutex *m);
int coil_mutex_lock_timeout(struct coil_mutex *m, int64_t timeout_ns);
/* 0 or -EBUSY; -EINVAL (NULL, or @m belongs to another runtime). */
int coil_mutex_trylock(struct coil_mutex *m);
/* 0, or -EPERM (the caller does not hold it). */
int coil_mutex_unlock(struct coil_mutex *m);

/* ------------------------------------------------------------- condition */

struct coil_cond;

int coil_cond_create(struct coil_cond **out);
int coil_cond_destroy(struct coil_cond *c);
/*
 * Unlock @m, wait for a notify, lock @m again. @m is held again when this
 * returns, whatever it returns: 0, -ECANCELED, -ETIMEDOUT, or -EPERM (the
 * caller did not hold @m; nothing was done).
 */
int coil_cond_wait(struct coil_cond *c, struct coil_mutex *m);
int coil_cond_wait_timeout(struct coil_cond *c, struct coil_mutex *m,
			   int64_t timeout_ns);
/*
 * Wake up to @n waiters (oldest first). Returns how many were woken, or
 * -EINVAL (NULL, or not called on @c's runtime).
 */
int coil_cond_notify(struct coil_cond *c, unsigned n);
int coil_cond_notify_all(struct coil_cond *c);

/* ------------------------------------------------------------ task group */

struct coil_group;

/* A task group (asyncio.TaskGroup). Returns 0, -ENOMEM, -EPERM. */
int coil_group_create(struct coil_group **out);

/*
 * coil_group_spawn - start fn(arg) as a child of @g. A child "fails" when it
 * returns a negative value ((intptr_t)result < 0, e.g. (void *)-EIO): the
 * first failure cancels every other child (one below INT_MIN is reported
 * as -ERANGE). Returns 0, -ECANCELED (the group
 * is already failing or cancelled, or - from a child the join could not
 * collect - joined; nothing started), or coil_spawn's errors.
 */
int coil_group_spawn(struct coil_group *g, coil_fn fn, void *arg);
int coil_group_spawn_opts(struct coil_group *g,
			  const struct coil_spawn_opts *opts, coil_fn fn,
			  void *arg);

/*
 * coil_group_cancel - cancel every child of @g; no new child can start. A
 * child that then returns -ECANCELED is not a failure: coil_group_join()
 * returns 0, or the first failure with another error, before or after
 * the cancel (a child that met -EIO while winding down). Returns 0,
 * -EINVAL (@g NULL or another runtime's).
 */
int coil_group_cancel(struct coil_group *g);

/*
 * coil_group_join - leave the group: wait for every child, free @g and
 * return 0 or the first child's failure (a negative errno). If the caller
 * is cancelled while waiting, every child is cancelled and waited for, and
 * -ECANCELED is returned; if the caller's deadline passes while waiting,
 * the same, with -ETIMEDOUT. A child that cannot be joined from here (it
 * joins the caller: -EDEADLK; another task joins or joined it: -EINVAL) is
 * left to finish on its own and that error is returned; the group lives
 * until its last child ends. The group's cancel and join never act on a
 * task another join already collected. The caller must not use @g after
 * this call.
 */
int coil_group_join(struct coil_group *g);

/* --------------------------------------------------------------- offload */

/*
 * coil_offload - asyncio.to_thread(): run fn(arg) on the runtime's pool of
 * helper threads (started on first use) and suspend until it returns; its
 * return value goes to *@result. The completion comes back through the ring.
 * A call still queued when the caller is cancelled, or its deadline scope
 * passes, is dropped (-ECANCELED / -ETIMEDOUT; *@result is not written);
 * one already running cannot be interrupted: the caller waits for it, gets
 * its result and -ECANCELED / -ETIMEDOUT. Returns 0, -ECANCELED,
 * -ETIMEDOUT, -EINVAL (@fn NULL), -ENOMEM, -EAGAIN (no thread could be
 * started), -EPERM. May suspend.
 */
int coil_offload(coil_fn fn, void *arg, void **result);

#ifdef __cplusplus
}
#endif

#endif /* COIL_SYNC_H */
