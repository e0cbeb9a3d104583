/* SPDX-License-Identifier: MIT */
/*
 * coil/runtime.h - starting a runtime (asyncio.run) and looking inside it.
 *
 * A runtime is one io_uring, one FIFO run queue and one stack pool, bound to
 * the thread that called coil_run(). Several runtimes may run at once, one
 * per thread; they share nothing mutable.
 *
 * Errors are negative errno values, as the kernel and liburing return them.
 */
#ifndef COIL_RUNTIME_H
#define COIL_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include <coil/task.h>

#ifdef __cplusplus
extern "C" {
#endif

/* How coil_sleep() and deadlines reach the kernel. */
struct coil_stats;

enum coil_timer_mode {
	/*
	 * Default. Sleepers live in a 4-ary min-heap in user space; the kernel
	 * sees one timeout at a time: the earliest deadline, passed as the wait
	 * timeout of io_uring_enter (IORING_FEAT_EXT_ARG). Costs no SQE and no
	 * CQE per sleep.
	 */
	COIL_TIMER_HEAP = 0,
	/* One IORING_OP_TIMEOUT SQE (and CQE) per sleep. Kept for comparison. */
	COIL_TIMER_PER_OP = 1,
};

/* Option flags (struct coil_options.flags). */
enum {
	/* Do not put a guard page below each stack (denser, unsafe). */
	COIL_OPT_NO_GUARD_PAGES = 1u << 0,
	/* Skip SINGLE_ISSUER/DEFER_TASKRUN and COOP_TASKRUN: a plain ring. */
	COIL_OPT_PLAIN_RING = 1u << 1,
	/* Skip only DEFER_TASKRUN (use COOP_TASKRUN when available). */
	COIL_OPT_NO_DEFER_TASKRUN = 1u << 2,
	/* Do not install coil's SIGSEGV handler that names overflowing tasks. */
	COIL_OPT_NO_OVERFLOW_HANDLER = 1u << 3,
	/* Never hold completions back to gather a batch (wait_batch_us). */
	COIL_OPT_NO_WAIT_BATCH = 1u << 4,
};

/* Called with one line of text (no trailing newline) for notable events. */
typedef void (*coil_log_fn)(void *userdata, const char *line);

/*
 * Runtime options. Always start from coil_options_init(): fields added later
 * default to zero, and zero means "coil's default" for every field.
 */
struct coil_options {
	/* SQ ring size; 0 = 256, 1 = 2. Power of two, <= 32768. */
	unsigned sq_entries;
	unsigned cq_entries;   /* CQ ring size; 0 = 4 x sq_entries, never < 2 x. */
	size_t stack_size;     /* default task stack; 0 = 64 KiB, page-rounded */
	unsigned flags;        /* COIL_OPT_* */
	enum coil_timer_mode timer_mode;
	/* Log sink: NULL = write notable events to stderr; see COIL_LOG_QUIET. */
	coil_log_fn log;
	void *log_userdata;
	/*
	 * If not NULL, receives the runtime's final counters after every task
	 * has been joined and just before the runtime is torn down (tests use
	 * it to assert that nothing leaked: tasks_live and stacks_in_use 0).
	 * Also when coil_run gives up on tasks it cannot finish - the ring
	 * fails for good, or a deadlock outlasts cancelling every task
	 * (-EDEADLK) - and tasks_live then counts them; left untouched when
	 * coil_run fails before the main task starts (-EINVAL, -EBUSY, a
	 * refused ring, -ENOMEM for the ring or the main task).
	 */
	struct coil_stats *final_stats;
	/*
	 * Batched waits (Linux 6.12+, IORING_FEAT_MIN_TIMEOUT; elsewhere, and
	 * with COIL_OPT_NO_WAIT_BATCH, every wait returns at the first
	 * completion). Under load the loop asks the kernel to wake it only
	 * once several completions have come, or after this many
	 * microseconds, whichever is first: fewer io_uring_enter calls and
	 * larger batches per loop turn, at the price of holding a completion
	 * back at most this long. The batch it asks for adapts: it starts at
	 * one, doubles (to 16) while each wait finds more than it asked for,
	 * and falls to what came when a wait ended at this bound; a lightly
	 * loaded runtime therefore asks for one and waits as before. Never
	 * when a timer is due sooner. 0 = 20; at most 10000.
	 */
	unsigned wait_batch_us;
};

/* A log sink that discards everything (pass as coil_options.log). */
void coil_log_quiet(void *userdata, const char *line);

/* Fill @opts with the defaults. */
void coil_options_init(struct coil_options *opts);

/*
 * coil_run - asyncio.run(): create a runtime on the calling thread, run
 * fn(arg) as its main task, and return when the main task returns.
 *
 * Tasks still alive when main returns are cancelled and joined before the
 * runtime is torn down, so nothing leaks. If @result is not NULL it receives
 * the main task's return value once main has returned, also when the
 * tasks left after it then deadlocked (-EDEADLK); it is left untouched
 * when main never returned (a fatal ring error abandons it).
 *
 * Returns 0 when the main task ran to completion, or:
 *  -EINVAL     @fn is NULL or an option is out of range;
 *  -EBUSY      this thread is already running a runtime;
 *  -EPERM      io_uring is forbidden (seccomp, kernel.io_uring_disabled);
 *  -ENOSYS     the kernel has no io_uring;
 *  -ENOMEM     no memory for the ring (older kernels: RLIMIT_MEMLOCK) or
 *              the main task;
 *  -EDEADLK    every task was blocked with nothing left that could wake
 *              one; all tasks were cancelled to unwind them;
 *  -ECANCELED  the main task was cancelled (by itself or another task).
 * When the ring cannot be created, a line that says why and what to do is
 * logged through the options' log sink.
 */
int coil_run(coil_fn fn, void *arg, void **result);
int coil_run_opts(const struct coil_options *opts, coil_fn fn, void *arg,
		  void **result);

/*
 * Counters of one runtime. All are totals since the runtime started except
 * tasks_live and the ring description.
 */
struct coil_stats {
	uint64_t tasks_spawned;    /* tasks created, the main task included */
	uint64_t tasks_live;       /* tasks not yet finished */
	uint64_t switches;         /* context switches into tasks */
	uint64_t loop_turns;       /* scheduler loop iterations */
	uint64_t sqes_submitted;   /* SQEs the kernel accepted */
	uint64_t enter_calls;      /* io_uring_enter system calls */
	uint64_t batched_waits;    /* waits that asked for a batch (> 1) */
	uint64_t cqes_reaped;      /* CQEs consumed */
	uint64_t sq_full_retries;  /* SQ full: flushed before taking an SQE */
	uint64_t cq_overflows;     /* kernel-reported CQ overflow events */
	uint64_t cancels;          /* coil_cancel() calls that hit a live task */
	uint64_t timeouts;         /* ops or waits that ended in -ETIMEDOUT */
	uint64_t stacks_mapped;    /* stack slots ever carved from arenas */
	uint64_t stacks_in_use;    /* stacks held by unfinished tasks */
	uint64_t stack_bytes_mapped; /* virtual bytes of all stack arenas */
	unsigned ring_flags;       /* IORING_SETUP_* flags the ring runs with */
	unsigned sq_entries;       /* actual SQ size */
	unsigned cq_entries;       /* actual CQ size */
	int guard_pages;           /* 2 = MADV_GUARD_INSTALL, 1 = mprotect, 0 = none */
};

/*
 * coil_stats_get - copy the calling thread's runtime counters to @out.
 * Returns 0, -EINVAL (@out is NULL) or -EPERM (the thread runs no runtime).
 */
int coil_stats_get(struct coil_stats *out);

/*
 * coil_dump - write one line per live task (id, name, state, what it waits
 * on, stack size and stack high-water mark) to file descriptor @fd. The
 * high-water mark is the deepest use of the task's stack slot since it was
 * mapped: stacks are reused warm, not cleared, so a task on a reused stack
 * may show what an earlier task used.
 * Call it from a task or from the runtime's thread between turns. Not
 * async-signal-safe: from a signal handler use coil_dump_request().
 * Returns the number of tasks listed, or -EPERM (no runtime on this thread)
 * or a negative errno from write(2).
 */
int coil_dump(int fd);

/*
 * coil_dump_request - async-signal-safe: ask every runtime of the process to
 * print its task dump to stderr at the start of its next loop turn. Only
 * the thread the signal is delivered to is interrupted: a runtime blocked
 * in io_uring_enter on that thread wakes (EINTR) and prints at once; one
 * blocked on another thread prints when something next wakes its loop
 * (a completion, a due timer). To dump a given idle runtime at once, send
 * the signal to its thread (pthread_kill).
 */
void coil_dump_request(void);

/* The name of the backend in use on this thread ("io_uring"), or NULL. */
const char *coil_backend_name(void);

#ifdef __cplusplus
}
#endif

#endif /* COIL_RUNTIME_H */
