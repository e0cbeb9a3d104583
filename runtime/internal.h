/* SPDX-License-Identifier: MIT */
/*
 * runtime/internal.h - what the runtime's files share. Nothing here is
 * public API; every symbol is coil__-prefixed and hidden from the shared
 * library's symbol table.
 */
#ifndef COIL_RUNTIME_INTERNAL_H
#define COIL_RUNTIME_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <time.h>

#include <liburing.h>

#include <coil.h>

#include "arch/ctx.h"
#include "backend/backend.h"

#pragma GCC visibility push(hidden)

/* AddressSanitizer: gcc says __SANITIZE_ADDRESS__, clang __has_feature. */
#if defined(__SANITIZE_ADDRESS__)
#define COIL__SANITIZE_ADDRESS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COIL__SANITIZE_ADDRESS 1
#endif
#endif

#define COIL__LIKELY(x) __builtin_expect(!!(x), 1)
#define COIL__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define COIL__CONTAINER_OF(p, type, member) \
	((type *)(void *)((char *)(p) - offsetof(type, member)))

/* Monotonic clock, nanoseconds. */
static inline uint64_t coil__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* "No deadline": later than any CLOCK_MONOTONIC value we will see. */
#define COIL__NEVER UINT64_MAX

struct coil_rt;
struct coil__stack_pool;
struct coil__task_slab;
struct coil__inbox;
struct coil__pool;
struct coil__wq;

/* ---------------------------------------------------------------- stacks */

/* One stack slot handed to a task; the arena keeps it when it is freed. */
struct coil__stack {
	void *lo;              /* lowest usable byte (just above the guard) */
	size_t size;           /* usable bytes; the task's sp starts at lo+size */
	struct coil__arena *arena; /* owner, NULL when not allocated */
	uint32_t slot;         /* index in the arena */
	bool canary;           /* unguarded: a canary word sits at lo */
};

int coil__stack_pool_init(struct coil_rt *rt);
/* Free the pool; @keep_mappings leaves the arenas' memory mapped (a fatal
 * ring error: the kernel may still write into abandoned tasks' stacks). */
void coil__stack_pool_fini(struct coil_rt *rt, bool keep_mappings);
int coil__stack_alloc(struct coil_rt *rt, size_t size, struct coil__stack *st);
void coil__stack_free(struct coil_rt *rt, struct coil__stack *st);
/* Give back pages of arenas that stayed empty since the previous call. */
void coil__stack_trim(struct coil_rt *rt);
/* Bytes of @st touched so far (scans from the bottom for non-zero words). */
size_t coil__stack_high_water(const struct coil__stack *st);
/* Process-wide SIGSEGV handler + per-thread alternate stack. */
int coil__overflow_handler_attach(struct coil_rt *rt);
void coil__overflow_handler_detach(struct coil_rt *rt);

/* ----------------------------------------------------------------- tasks */

enum coil__task_state {
	COIL__TASK_READY,    /* on the run queue */
	COIL__TASK_RUNNING,  /* the one task on the CPU */
	COIL__TASK_WAITING,  /* suspended on an op, a timer or another task */
	COIL__TASK_DONE,     /* fn returned; stack released */
};

/*
 * Someone waiting for a task to finish (join, gather, wait_any). Lives on
 * the waiter's stack and is linked into the target's waiters list while the
 * waiter is suspended.
 */
struct coil__waiter {
	struct coil__waiter *next;
	struct coil_task *task; /* the waiting task, made ready on finish */
};

/*
 * How to take a suspended task out of what it waits on when it is
 * cancelled or its deadline passes. Set by every wait, cleared on wake.
 */
typedef void (*coil__unwait_fn)(struct coil_task *t, int why);

struct coil_task {
	/* First cache line: everything a suspend/wake/resume cycle touches. */
	struct coil__ctx ctx;       /* saved stack pointer while off-CPU */
	struct coil_task *next;     /* run-queue link (FIFO) */
	struct coil_rt *rt;         /* owning runtime */
	uint64_t deadline;          /* effective deadline scope, or NEVER */
	/* Wait bookkeeping, valid while WAITING: */
	coil__unwait_fn unwait;     /* cancel/timeout hook, NULL if none */
	void *wait_obj;             /* what it waits on (op, timer, task) */
	const char *wait_what;      /* for coil_dump(): "read", "sleep", ... */
	int wake_res;               /* value the suspending call returns */
	uint8_t state;              /* enum coil__task_state */
	bool cancelled;             /* coil_cancel() was called */
	bool detached;              /* free on finish; no handle exists */
	bool is_main;               /* the task coil_run() started */
	/* The rest: spawn, finish, join, dump. */
	struct coil_task *all_prev; /* the runtime's list of live tasks, */
	struct coil_task *all_next; /*   for coil_dump() and shutdown */
	coil_fn fn;                 /* body, and its argument */
	void *arg;
	void *result;               /* fn's return value once DONE */
	uint64_t id;                /* 1 = main, then spawn order */
	struct coil__stack stack;   /* released as soon as fn returns */
	struct coil__waiter *waiters; /* tasks waiting for this one */
	/*
	 * The task whose coil_join or coil_gather has claimed this handle
	 * (NULL: unclaimed). A handle is claimed once, so following joiners
	 * up from a task walks a chain, never a tree: coil_join/coil_gather
	 * look for the target at its top to refuse a cycle (-EDEADLK).
	 */
	struct coil_task *joiner;
	char name[24];              /* NUL-terminated, may be empty */
#ifdef COIL__SANITIZE_ADDRESS
	void *asan_fake_stack;      /* ASan's fake-stack handle across switches */
#endif
} __attribute__((aligned(64)));

/* ---------------------------------------------------------------- timers */

/*
 * A timer waiting in the runtime's heap. Lives on the sleeper's stack (or
 * inside an op for deadline-bounded non-I/O waits).
 */
struct coil__timer {
	uint64_t when;          /* absolute CLOCK_MONOTONIC ns */
	uint32_t heap_idx;      /* position in the heap, UINT32_MAX if not in */
	bool is_deadline;       /* fire undoes the task's wait, else wakes it */
	struct coil_task *task; /* the task it belongs to */
	int fire_res;           /* what the woken wait returns */
};

struct coil__heap_entry {
	uint64_t when;            /* copy of timer->when, for cache locality */
	struct coil__timer *timer;
};

struct coil__timer_heap {
	struct coil__heap_entry *v;
	uint32_t len;
	uint32_t cap;
};

void coil__timer_heap_fini(struct coil__timer_heap *h);
int coil__timer_add(struct coil_rt *rt, struct coil__timer *tm);
void coil__timer_del(struct coil_rt *rt, struct coil__timer *tm);
/* Fire every timer due at @now; returns how many fired. */
unsigned coil__timers_expire(struct coil_rt *rt, uint64_t now);
/* Earliest pending deadline or COIL__NEVER. */
static inline uint64_t coil__timers_next(const struct coil_rt *rt);

/* --------------------------------------------------------------- ops */

/*
 * The low bits of an SQE's user_data say which CQE of an op it is; the rest
 * is the address of the struct coil__op on the submitting task's stack.
 */
enum {
	COIL__UD_OP = 0,        /* the op's own CQE */
	COIL__UD_LINK_TIMEOUT = 1, /* its IORING_OP_LINK_TIMEOUT's CQE */
	COIL__UD_CANCEL = 2,    /* an IORING_OP_ASYNC_CANCEL aimed at it */
	/*
	 * The op's own CQE, from an op that wants the loop to warm the resume
	 * of op->task a few CQEs ahead (coil__prefetch_resume()): one whose
	 * completions follow kernel work that evicts the waiting task's lines
	 * (a socket receive). Completed like COIL__UD_OP. Such an op carries
	 * COIL__OPF_WARM, so that coil__op_ud() names it for cancels too.
	 */
	COIL__UD_OP_WARM = 4,
	COIL__UD_MASK = 7,
};

/* user_data of CQEs coil ignores (e.g. liburing's internal timeouts). */
#define COIL__UD_IGNORE ((uint64_t)0)
/* user_data of IORING_OP_MSG_RING CQEs another runtime posts to wake us. */
#define COIL__UD_INBOX ((uint64_t)3)

struct coil__op;
typedef void (*coil__op_cb)(struct coil_rt *rt, struct coil__op *op,
			    int res, unsigned flags);

/*
 * One in-flight io_uring op. Lives on the submitting task's stack frame,
 * which therefore must not be left before @pending drops to zero: every CQE
 * that names this op (its own, its linked timeout's, a cancel request's)
 * is counted in @pending.
 */
struct coil__op {
	/*
	 * Resumed when pending reaches 0. An op with a callback (@cb) that
	 * is submitted with COIL__UD_OP_WARM points it at the task its
	 * callback will wake while that task waits, and at NULL otherwise:
	 * never at one that can be gone, since the loop reads it ahead of the
	 * completion (coil__prefetch_resume()).
	 */
	struct coil_task *task;
	coil__op_cb cb;          /* NULL: default completion (store, resume) */
	int32_t res;             /* the op's own cqe->res */
	uint32_t cqe_flags;      /* the op's own cqe->flags */
	uint8_t pending;         /* CQEs still to come for this op */
	uint8_t flags;           /* COIL__OPF_* */
	const char *what;        /* op name for coil_dump() */
	struct __kernel_timespec ts; /* linked-timeout expiry, read at submit */
};

_Static_assert(_Alignof(struct coil__op) > COIL__UD_MASK,
	       "an op's address leaves the user_data tag bits free");

enum {
	COIL__OPF_TIMED_OUT = 1u << 0,   /* its linked timeout fired (-ETIME) */
	COIL__OPF_CANCEL_SENT = 1u << 1, /* an ASYNC_CANCEL was queued for it */
	COIL__OPF_EXEMPT = 1u << 2,      /* ignores cancellation (close) */
	COIL__OPF_LINKED = 1u << 3,      /* followed by a LINK_TIMEOUT SQE */
	COIL__OPF_WARM = 1u << 4,        /* submitted as COIL__UD_OP_WARM */
};

/*
 * The user_data @op's own SQE carries. The kernel matches a cancel on it
 * exactly, so cancels name an op through this, and so do the submits of
 * ops that may carry COIL__OPF_WARM.
 */
static inline uint64_t coil__op_ud(const struct coil__op *op)
{
	return (uint64_t)(uintptr_t)op |
	       (op->flags & COIL__OPF_WARM ? COIL__UD_OP_WARM : COIL__UD_OP);
}

/* Special @timeout_ns values for coil__op_prep(). */
#define COIL__OP_NO_LINK INT64_MIN        /* no linked timeout at all */
#define COIL__OP_EXEMPT (INT64_MIN + 1)   /* neither cancel nor deadline */

/*
 * A caller's timeout as coil__op_prep() takes it: every negative value means
 * "none" (-1), so a public call can never select the special values above
 * (with INT64_MIN + 1 an op would ignore cancellation).
 */
static inline int64_t coil__user_timeout(int64_t timeout_ns)
{
	return timeout_ns < 0 ? -1 : timeout_ns;
}

/* The kernel's per-call cap (MAX_RW_COUNT); SQE lengths are 32 bits. */
#define COIL__MAX_RW 0x7ffff000u

/* @len as an SQE length: at most COIL__MAX_RW (the caller loops on). */
static inline unsigned coil__rw_len(size_t len)
{
	return len > COIL__MAX_RW ? COIL__MAX_RW : (unsigned)len;
}


/* The slow path of coil__op_prep(): errors, deadlines, special values. */
struct io_uring_sqe *coil__op_prep_slow(struct coil__op *op,
					int64_t timeout_ns);
/* Submit bookkeeping done; suspend until every CQE is in; map the result. */
int coil__op_finish(struct coil__op *op);
/*
 * Queue an IORING_OP_ASYNC_CANCEL for @op, an op owned by an object rather
 * than a task (multishot accept or receive, the inbox's read); the cancel's
 * own CQE is ignored - the owner waits for @op's final CQE instead.
 * Returns false when no SQE could be had (the ring has failed).
 */
bool coil__op_cancel(struct coil_rt *rt, struct coil__op *op);

/* ------------------------------------------------------------ runtime */

struct coil_rt {
	struct coil__backend_state be;  /* the ring (first: hot) */
	const struct coil__backend *backend;
	struct coil__ctx sched_ctx;     /* the scheduler loop's context */
	struct coil_task *current;      /* running task, NULL in the loop */
	struct coil_task *runq_head;    /* FIFO of READY tasks */
	struct coil_task *runq_tail;
	uint64_t runq_len;
	uint64_t turn_budget;           /* tasks this turn may still run */
	unsigned turns_unclocked;       /* busy turns since timers were checked */
	uint64_t idle_turns;            /* turns that ended in a blocking wait */
	struct coil_task *exited;       /* finished task whose stack to free */
	struct coil_task *all;          /* every unfinished task */
	struct coil_task *main;         /* the task coil_run() started */
	struct coil_task *task_free;    /* recycled task structs */
	struct coil__task_slab *task_slabs; /* every task struct, for teardown */
	struct coil__timer_heap timers;
	struct coil__stack_pool *stacks;
	struct coil_options opts;
	uint64_t next_id;
	/*
	 * Unique per runtime in the process: objects that may outlive a run
	 * (a listener, an HTTP session) keep it with their @rt pointer, since
	 * a later runtime may be allocated at the same address.
	 */
	uint64_t serial;
	uint64_t dump_gen;              /* last coil_dump_request() served */
	uint64_t last_trim;             /* coil__now() of the last stack trim */
	unsigned long fpstate;          /* FP control words new tasks start with */
	size_t page_size;
	int main_ret;                   /* coil_run()'s return value */
	bool shutting_down;             /* main returned: cancelling the rest */
	bool altstack_installed;
	void *altstack;                 /* mapping for sigaltstack */
	size_t altstack_size;
	struct coil_stats stats;
	struct coil__inbox *inbox;      /* requests from other threads */
	struct coil__pool *pool;        /* coil_offload() threads, lazily */
	uint64_t remote_waiters;        /* tasks another thread may wake */
	/*
	 * Ops in be.inflight that no task waits for and that exist only for
	 * housekeeping (an HTTP session's idle-connection timer): they never
	 * keep the loop waiting once no task can run, so coil_run() returns
	 * and deadlocks are seen at once. Their owners count them here.
	 */
	uint64_t background_ops;
#ifdef COIL__SANITIZE_ADDRESS
	void *sched_asan_fake;          /* ASan fake stack of the loop */
	const void *sched_stack_lo;     /* the thread's own stack, for ASan */
	size_t sched_stack_size;
#endif
};

/*
 * The runtime of the calling thread, NULL if none. initial-exec: a plain
 * %fs-relative load instead of a __tls_get_addr call from libcoil.so (the
 * library is not meant to be dlopen'ed after start-up).
 */
extern __thread struct coil_rt *coil__tls_rt
	__attribute__((tls_model("initial-exec")));

static inline uint64_t coil__timers_next(const struct coil_rt *rt)
{
	return rt->timers.len ? rt->timers.v[0].when : COIL__NEVER;
}

/*
 * What an op gets when no SQE could be had: the ring's fatal error, or,
 * when the ring is fine but the SQ is still full after submitting (a kernel
 * that stopped at a bad SQE, completions that queued more meanwhile),
 * -EAGAIN - never 0, which a read would take for end of file.
 */
static inline int coil__no_sqe_error(const struct coil_rt *rt)
{
	return rt->be.fatal ? rt->be.fatal : -EAGAIN;
}

/*
 * An SQE for the next op: the inline fast path of backend->get_sqe() (the
 * SQ ring is the op format for every backend). Without SQPOLL the kernel
 * moves khead only inside our own io_uring_enter, so a plain read is
 * enough (as in liburing).
 */
static inline __attribute__((always_inline)) struct io_uring_sqe *
coil__get_sqe(struct coil_rt *rt, unsigned n)
{
	struct io_uring_sq *sq = &rt->be.ring.sq;

	if (COIL__LIKELY(sq->sqe_tail + n - IO_URING_READ_ONCE(*sq->khead) <=
			 sq->ring_entries))
		return &sq->sqes[sq->sqe_tail++ & sq->ring_mask];
	return rt->backend->get_sqe(rt, n);
}

/*
 * coil__op_prep - begin an op for the running task. Returns the SQE to fill
 * (with room reserved for a linked timeout when one applies), or NULL with
 * the error to return in op->res (-EPERM, -ECANCELED, -ETIMEDOUT).
 * @timeout_ns < 0: none beyond the task's deadline scope; or one of the
 * COIL__OP_* values. Inline: this and coil__op_wait() are every op's path.
 */
static inline struct io_uring_sqe *coil__op_prep(struct coil__op *op,
						 int64_t timeout_ns,
						 const char *what)
{
	struct coil_rt *rt = coil__tls_rt;
	struct coil_task *self = rt ? rt->current : NULL;

	struct io_uring_sqe *sqe;

	op->task = self;
	op->cb = NULL;
	op->flags = 0;
	op->what = what;
	if (COIL__UNLIKELY(!self || timeout_ns != -1 || self->cancelled ||
			   self->deadline != COIL__NEVER))
		return coil__op_prep_slow(op, timeout_ns);
	sqe = coil__get_sqe(rt, 1);
	if (COIL__UNLIKELY(!sqe))
		op->res = coil__no_sqe_error(rt);
	return sqe;
}

/* Submit the prepared SQE (and its linked timeout), wait for every CQE. */
static inline int coil__op_wait(struct coil__op *op, struct io_uring_sqe *sqe)
{
	io_uring_sqe_set_data64(sqe, coil__op_ud(op));
	if (COIL__UNLIKELY(op->flags & COIL__OPF_LINKED))
		sqe->flags |= IOSQE_IO_LINK;
	return coil__op_finish(op);
}

/*
 * coil__op_wait() for an op that usually waits on the network for a while
 * (a receive, an accept, a readiness poll): the loop warms the task's
 * resume ahead of its CQE (COIL__UD_OP_WARM). Not for sends, which mostly
 * complete during the submit, while the task's lines are still in cache.
 */
static inline int coil__op_wait_warm(struct coil__op *op,
				     struct io_uring_sqe *sqe)
{
	op->flags |= COIL__OPF_WARM;
	return coil__op_wait(op, sqe);
}

/*
 * True when a loop turn would find nothing for the backend to do: no SQE
 * queued, no CQE to reap, and the kernel flags no pending completion work
 * (IORING_SQ_TASKRUN) or CQ overflow.
 */
static inline bool coil__backend_quiet(struct coil_rt *rt)
{
	struct io_uring *ring = &rt->be.ring;

	return !io_uring_sq_ready(ring) && !io_uring_cq_ready(ring) &&
	       !(IO_URING_READ_ONCE(*ring->sq.kflags) &
		 (IORING_SQ_TASKRUN | IORING_SQ_CQ_OVERFLOW));
}

/* Whether @t's deadline scope has passed (reads the clock only if any). */
static inline bool coil__past_deadline(const struct coil_task *t)
{
	return t->deadline != COIL__NEVER && coil__now() >= t->deadline;
}

/*
 * Whether @t is cancelled or past its deadline, counting nothing: for a
 * caller that only decides what to do next (the timeout that brought it
 * here has been counted already).
 */
static inline bool coil__interrupted(const struct coil_task *t)
{
	return t->cancelled || coil__past_deadline(t);
}

static inline int coil__check_cancel(const struct coil_task *t)
{
	if (COIL__UNLIKELY(t->cancelled))
		return -ECANCELED;
	if (COIL__UNLIKELY(coil__past_deadline(t))) {
		/* The wait ends here, before any timer could count it. */
		t->rt->stats.timeouts++;
		return -ETIMEDOUT;
	}
	return 0;
}

/* Log a formatted line through the runtime's sink. */
void coil__log(const struct coil_rt *rt, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Whether the runtime this thread runs now is the one (@rt, @serial) an
 * object was made in. False after that runtime's coil_run() returned, even
 * when a later runtime reuses its address.
 */
static inline bool coil__rt_is_current(const struct coil_rt *rt,
				       uint64_t serial)
{
	return coil__tls_rt == rt && rt->serial == serial;
}

/* Running task of this thread or NULL (not in a task). */
static inline struct coil_task *coil__running(void)
{
	struct coil_rt *rt = coil__tls_rt;

	return rt ? rt->current : NULL;
}

/* ------------------------------------------------------- wait queues */

/*
 * A task (or, with task == NULL, an item parked by another thread) waiting
 * in a FIFO wait queue. Lives on the waiter's stack while it waits; removed
 * in O(1) when the waiter is cancelled or times out.
 */
struct coil__wq_node {
	struct coil__wq_node *prev, *next;
	struct coil_task *task;   /* NULL: a remote putter's parked item */
	struct coil__wq *wq;      /* the queue it is in, NULL once out */
	void *item;               /* the item carried or handed over */
	void *owner;              /* allocation to free (remote nodes) */
};

struct coil__wq {
	struct coil__wq_node *head, *tail;
	size_t len;
};

static inline void coil__wq_push(struct coil__wq *wq, struct coil__wq_node *n)
{
	n->next = NULL;
	n->prev = wq->tail;
	if (wq->tail)
		wq->tail->next = n;
	else
		wq->head = n;
	wq->tail = n;
	n->wq = wq;
	wq->len++;
}

static inline void coil__wq_remove(struct coil__wq_node *n)
{
	struct coil__wq *wq = n->wq;

	if (!wq)
		return;
	if (n->prev)
		n->prev->next = n->next;
	else
		wq->head = n->next;
	if (n->next)
		n->next->prev = n->prev;
	else
		wq->tail = n->prev;
	n->wq = NULL;
	wq->len--;
}

static inline struct coil__wq_node *coil__wq_pop(struct coil__wq *wq)
{
	struct coil__wq_node *n = wq->head;

	if (n)
		coil__wq_remove(n);
	return n;
}

/*
 * Queue the running task on @wq and suspend until someone pops its node
 * and wakes it (the wake value is returned: 0 or an error such as -EPIPE),
 * or it is cancelled (-ECANCELED) or @timeout_ns / its deadline passes
 * (-ETIMEDOUT); then the node is already out of the queue.
 * @timeout_ns < 0: none. Call coil__check_cancel() first. Hot paths that
 * include suspend.h call coil__wq_wait_fast(), the same with its common
 * case (no timeout, no deadline scope) inline.
 */
int coil__wq_wait(struct coil__wq *wq, struct coil__wq_node *n,
		  const char *what, int64_t timeout_ns);
/* coil__wq_wake_one() is inline, below coil__wake(). */
/* Wake every waiter with @res; returns how many. */
size_t coil__wq_wake_all(struct coil__wq *wq, int res);

/*
 * A zeroed object for the sync primitives, whose first member is the
 * owning runtime (set here to the caller's). NULL with *@err = -EPERM (not
 * in a task) or -ENOMEM. The caller frees it with free().
 */
void *coil__owned_alloc(size_t size, int *err);

/* ------------------------------------------------- messages from afar */

/*
 * A request from another thread, run by the owning runtime's loop. The
 * sender allocates it; run() takes ownership.
 */
struct coil__msg {
	struct coil__msg *next;
	void (*run)(struct coil_rt *rt, struct coil__msg *m);
	bool on_stack; /* not malloc'ed: never freed by the inbox */
};

/* Queue @m for @rt's loop and wake it. Callable from any thread. */
void coil__inbox_send(struct coil_rt *rt, struct coil__msg *m);
/* Run every queued message (in @rt's loop). */
void coil__inbox_drain(struct coil_rt *rt);
/*
 * Before an object that other threads may have sent messages about is
 * freed: run what is queued, so that a remote set/put/release that has
 * returned is applied now and no message names freed memory later. Does
 * nothing off @rt's thread.
 */
void coil__inbox_settle(struct coil_rt *rt);
int coil__inbox_init(struct coil_rt *rt);
/* Arm the eventfd read; called once the loop runs. */
void coil__inbox_arm(struct coil_rt *rt);
/* Cancel the armed read and free what is left. */
void coil__inbox_fini(struct coil_rt *rt);
/* 1 while the inbox's eventfd read is in flight (counted in inflight). */
unsigned coil__inbox_armed(const struct coil_rt *rt);
void coil__offload_fini(struct coil_rt *rt);

static inline void coil__runq_push(struct coil_rt *rt, struct coil_task *t)
{
	t->next = NULL;
	if (rt->runq_tail)
		rt->runq_tail->next = t;
	else
		rt->runq_head = t;
	rt->runq_tail = t;
	rt->runq_len++;
}

/*
 * coil_join() that, if the caller is cancelled or its deadline passes while
 * it waits, first calls @interrupted(@arg) (when not NULL) and then cancels
 * and awaits @t: coil_group_join() stops every child there at once.
 */
int coil__join_or(struct coil_task *t, void **result,
		  void (*interrupted)(void *), void *arg);

/*
 * Put a WAITING task at the tail of the run queue with @res as the value its
 * suspending call returns. A task that is not waiting is left alone. Its
 * unwait/wait_obj go stale: every reader checks state == WAITING first.
 */
static inline void coil__wake(struct coil_task *t, int res)
{
	if (t->state != COIL__TASK_WAITING)
		return;
	t->wake_res = res;
	t->state = COIL__TASK_READY;
	coil__runq_push(t->rt, t);
}

/*
 * Pop the oldest waiter of @wq and wake it with @res; false if none.
 * Inline: most callers wake a queue that is empty (a buffer released with
 * no receiver starved, a listener with no acceptor waiting), and then this
 * is one load and a branch.
 */
static inline bool coil__wq_wake_one(struct coil__wq *wq, int res)
{
	struct coil__wq_node *n = coil__wq_pop(wq);

	if (!n)
		return false;
	coil__wake(n->task, res);
	return true;
}

/*
 * Called by a backend for CQEs it is about to complete, a few ahead of
 * coil__complete(): for an op submitted with COIL__UD_OP_WARM, starts
 * fetching the task line and the saved stack top of the task the
 * completion will wake (op->task), so that the switch finds them in cache.
 *
 * Why: between two loop turns the kernel's own work (a TCP send and
 * receive per message) evicts a waiting task's lines, and on a VM even the
 * translation of its stack page. Fetched at the switch, that was one serial
 * miss per resume: 38-42% of coil's user-mode samples in the echo
 * benchmark sat on the switch's first load from the resumed stack.
 * Started several CQEs ahead, the misses and page walks of many tasks
 * overlap (bench/README: "Warming resumes ahead of the completions").
 * Safe to read ahead: a tagged op's task is NULL or a task still waiting
 * on it (its owner sets and clears it, see struct coil__op), and tasks are
 * freed only with the runtime; a stale saved stack pointer costs a wasted
 * prefetch, since prefetches never fault.
 */
static inline __attribute__((always_inline)) void
coil__prefetch_resume(uint64_t user_data)
{
	const struct coil_task *t;

	/* Only ops that ask for it: for ops whose tasks' lines are still in
	 * cache (NOPs, timers, local I/O) this is only instructions. */
	if ((user_data & COIL__UD_MASK) != COIL__UD_OP_WARM ||
	    user_data <= COIL__UD_MASK)
		return;
	t = ((const struct coil__op *)(uintptr_t)
		     (user_data & ~(uint64_t)COIL__UD_MASK))->task;
	if (t) /* reading its context fetches the task's first line too */
		coil__ctx_prefetch(&t->ctx);
}

/*
 * Called by a backend for every CQE it reaps (inline: it is the per-CQE
 * path). Decodes the tag in the low bits of user_data, records what the CQE
 * says, and wakes the op's task once no CQE naming the op can still come.
 */
static inline void coil__complete(struct coil_rt *rt, uint64_t user_data,
				  int res, unsigned flags)
{
	struct coil__op *op;

	if (COIL__UNLIKELY(user_data <= COIL__UD_MASK ||
			   user_data == LIBURING_UDATA_TIMEOUT)) {
		if (user_data == COIL__UD_INBOX)
			coil__inbox_drain(rt);
		return;
	}
	op = (struct coil__op *)(uintptr_t)(user_data &
					     ~(uint64_t)COIL__UD_MASK);
	rt->be.inflight--;
	switch (user_data & COIL__UD_MASK) {
	case COIL__UD_OP:
	case COIL__UD_OP_WARM:
		if (op->cb) {
			op->cb(rt, op, res, flags);
			return;
		}
		op->res = res;
		op->cqe_flags = flags;
		break;
	case COIL__UD_LINK_TIMEOUT:
		if (res == -ETIME)
			op->flags |= COIL__OPF_TIMED_OUT;
		break;
	default: /* COIL__UD_CANCEL: nothing to record */
		break;
	}
	if (--op->pending == 0)
		coil__wake(op->task, 0);
}

/*
 * coil__suspend - park the running task (already marked WAITING, with its
 * unwait hook set) and run others until someone calls coil__wake() on it.
 * Returns the wake value.
 */
int coil__suspend(struct coil_task *self, const char *what,
		  coil__unwait_fn unwait, void *obj);

/*
 * As coil__suspend(), but if @deadline (absolute ns, COIL__NEVER for none)
 * passes first, the wait is undone through @unwait with -ETIMEDOUT.
 */
int coil__suspend_until(struct coil_task *self, const char *what,
			coil__unwait_fn unwait, void *obj, uint64_t deadline);

/*
 * The check every suspending call makes first: -ECANCELED if @t was
 * cancelled, -ETIMEDOUT if its deadline scope has passed, else 0.
 */
static inline int coil__check_cancel(const struct coil_task *t);

void coil__reap_exited_slow(struct coil_rt *rt);

/* Free the stack of the task that exited just before we got the CPU. */
static inline void coil__reap_exited(struct coil_rt *rt)
{
	if (COIL__UNLIKELY(rt->exited != NULL))
		coil__reap_exited_slow(rt);
}

/* Queue a task that has never run. */
void coil__enqueue_new(struct coil_rt *rt, struct coil_task *t);
/* Leave a finished task's stack for the loop to free; never returns. */
void coil__task_exit_switch(struct coil_task *self) __attribute__((noreturn));

/* Tasks: allocation and the exit path, in task.c. */
int coil__task_create(struct coil_rt *rt, const struct coil_spawn_opts *o,
		      coil_fn fn, void *arg, struct coil_task **out);
/* In the loop, after @t's last switch: free its stack (and it, if detached). */
void coil__task_reap_exited(struct coil_rt *rt, struct coil_task *t);
void coil__task_free_all(struct coil_rt *rt);
/* Timer-mode sleep through one IORING_OP_TIMEOUT per call (timer.c). */
int coil__sleep_per_op(struct coil_task *self, uint64_t when);


#pragma GCC visibility pop

#endif /* COIL_RUNTIME_INTERNAL_H */
