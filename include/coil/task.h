/* SPDX-License-Identifier: MIT */
/*
 * coil/task.h - tasks: stackful coroutines on the calling thread's runtime.
 *
 * A task is asyncio's Task with a pthread-shaped body: it runs fn(arg) on a
 * stack of its own and returns a void *. Tasks run one at a time, in FIFO
 * order, and switch only where they call a coil function that may suspend.
 *
 * Every function here acts on the runtime of the calling thread and returns
 * -EPERM when called outside a coil task (no runtime on this thread).
 */
#ifndef COIL_TASK_H
#define COIL_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A task body, as for pthread_create(). */
typedef void *(*coil_fn)(void *arg);

/* Opaque. Valid from spawn until joined or detached (and finished). */
struct coil_task;

/* Per-spawn options; zero fields take the runtime's defaults. */
struct coil_spawn_opts {
	size_t stack_size; /* bytes; 0 = runtime default; page-rounded */
	const char *name;  /* shown by coil_dump(); copied (first 23 bytes) */
};

/*
 * coil_spawn - asyncio.create_task(): create a task running fn(arg). It is
 * queued at the tail of the run queue; the caller keeps running.
 *
 * If @out is NULL the task is detached: it frees itself when it finishes.
 * Otherwise *@out receives a handle that must be passed to coil_join() or
 * coil_detach() exactly once.
 *
 * Does not suspend. Returns 0, or -EINVAL (@fn NULL, stack too large),
 * -ENOMEM (no memory or address space for the task or its stack; nothing
 * is created), -ECANCELED (the caller is being cancelled), -EPERM.
 */
int coil_spawn(struct coil_task **out, coil_fn fn, void *arg);
int coil_spawn_opts(struct coil_task **out, const struct coil_spawn_opts *opts,
		    coil_fn fn, void *arg);

/*
 * coil_join - await a task: suspend until @t finishes, store its return
 * value in *@result (if not NULL) and release the handle.
 *
 * Returns 0; -ECANCELED when @t had been cancelled before it finished
 * (*@result still receives what it returned); -ETIMEDOUT when the caller's
 * deadline scope passes first; -EDEADLK when @t is joining the caller,
 * directly or through other joins and gathers (nothing waits); -EINVAL (@t
 * is NULL, the caller itself, or already being joined); -EPERM. May
 * suspend.
 *
 * As in asyncio, cancelling a task that is joining another (or its
 * deadline passing) cancels the joined task too: the join then waits for it
 * to finish and returns -ECANCELED (-ETIMEDOUT). The handle is released
 * when coil_join() returns anything but -EINVAL/-EPERM/-EDEADLK.
 */
int coil_join(struct coil_task *t, void **result);

/*
 * coil_detach - give up the handle: @t frees itself when it finishes (at
 * once if it has). Does not suspend. Returns 0 or -EINVAL / -EPERM.
 */
int coil_detach(struct coil_task *t);

/*
 * coil_cancel - task.cancel(): the op @t is waiting on, and every later one,
 * returns -ECANCELED until @t returns. A pending I/O op is cancelled in the
 * kernel and @t resumes only after that op's CQE has arrived, so its buffers
 * are never written after the op returns. An op the kernel had already
 * completed keeps its real result (no data is lost); the next op fails.
 * coil_close() is exempt: it always closes.
 *
 * Cancelling a finished task, or one already cancelled, is a no-op. A task
 * may cancel itself. Does not suspend. Returns 0, or -EINVAL / -EPERM.
 */
int coil_cancel(struct coil_task *t);

/*
 * coil_gather - asyncio.gather(): join every task in @tasks, in order.
 * results[i] (if @results) gets task i's return value and errs[i] (if @errs)
 * its join status (0, -ECANCELED, or -ETIMEDOUT). Returns 0 when every task
 * finished uncancelled, else the first nonzero status in spawn order. If the
 * caller is cancelled (or its deadline scope passes) while waiting, every
 * task still running is cancelled at once and joined, and -ECANCELED
 * (-ETIMEDOUT) is returned: no handle survives a gather. Before anything waits: -EINVAL (@tasks NULL with
 * @n > 0, or a handle coil_join() would refuse, e.g. twice in @tasks),
 * -EDEADLK (a task of @tasks is joining the caller, directly or through
 * other joins and gathers); the handles then stay the caller's. May
 * suspend.
 */
int coil_gather(struct coil_task **tasks, size_t n, void **results, int *errs);

/*
 * coil_wait_any - asyncio.wait(FIRST_COMPLETED): suspend until one of the
 * @n tasks has finished, or @timeout_ns passes (negative: no timeout).
 * Joins nothing. Returns the index of a finished task (the lowest one if
 * several are), -ETIMEDOUT, -ECANCELED (caller cancelled), -EINVAL, -ENOMEM
 * (more than 64 tasks and no memory for the wait list), -EPERM. The handles
 * must stay valid while it waits: a task of @tasks that another task joins
 * or detaches meanwhile is a handle gone (its struct may already serve a
 * new task), and the call may then return -EINVAL.
 */
int coil_wait_any(struct coil_task **tasks, size_t n, int64_t timeout_ns);

/*
 * coil_yield - let every other ready task run once, then continue.
 * Returns 0, or -ECANCELED if the caller is being cancelled, -ETIMEDOUT if
 * its deadline scope has passed (it does not yield then).
 */
int coil_yield(void);

/* The running task, or NULL outside a task. */
struct coil_task *coil_self(void);

/* True once @t's function has returned. */
bool coil_task_is_done(const struct coil_task *t);

/* True once coil_cancel() was called on @t. */
bool coil_task_is_cancelled(const struct coil_task *t);

/* A task's id: 1 for the main task, then in spawn order. */
uint64_t coil_task_id(const struct coil_task *t);

#ifdef __cplusplus
}
#endif

#endif /* COIL_TASK_H */
