/* SPDX-License-Identifier: MIT */
/*
 * runtime/backend/backend.h - the small interface between the scheduler
 * and the kernel interface that runs its ops.
 *
 * Ops are described as io_uring SQEs whatever the backend: the io_uring
 * backend hands them to the kernel as they are; a fallback backend (for
 * kernels and containers that refuse io_uring) will execute the same
 * descriptions itself and report completions through coil__complete(),
 * without the scheduler changing.
 */
#ifndef COIL_RUNTIME_BACKEND_H
#define COIL_RUNTIME_BACKEND_H

#include <stdbool.h>
#include <stdint.h>

#include <liburing.h>

#pragma GCC visibility push(hidden)

struct coil_rt;

/* Per-runtime backend state, embedded first in struct coil_rt. */
struct coil__backend_state {
	struct io_uring ring;
	unsigned setup_flags;  /* IORING_SETUP_* the ring was created with */
	uint64_t inflight;     /* CQEs still owed to coil by the kernel */
	int fatal;             /* -errno once the ring refused a submit */
	bool defer_taskrun;    /* completions only appear when we enter */
	bool ring_fd_registered; /* io_uring_register_ring_fd() took */
	/*
	 * Batched waits (uring.c, wait_batched()): whether the kernel has
	 * them, the batch the next wait asks for, and the one the last wait
	 * asked for (0: the last poll did not wait), which the reap that
	 * follows compares with what came.
	 */
	bool min_wait_ok;
	unsigned wait_want, wait_asked;
};

struct coil__backend {
	const char *name;
	/* Create the ring for @rt. Returns 0 or -errno, having logged why. */
	int (*init)(struct coil_rt *rt);
	void (*fini)(struct coil_rt *rt);
	/*
	 * Return a free SQE, flushing the queue to the kernel first when fewer
	 * than @n are free, so that @n consecutive calls all succeed. A full
	 * queue is submitted and a busy kernel drained; NULL only when the
	 * ring itself has failed (the error is left in ->fatal).
	 */
	struct io_uring_sqe *(*get_sqe)(struct coil_rt *rt, unsigned n);
	/*
	 * Hand queued SQEs to the kernel and dispatch completions. With @wait,
	 * block until at least one completion arrives or CLOCK_MONOTONIC
	 * reaches @deadline (COIL__NEVER: no limit). Without it, never block,
	 * and enter the kernel only when there is something to submit or
	 * completions can only be collected by entering. Returns the number of
	 * completions dispatched, or a negative errno for a fatal ring error.
	 */
	int (*poll)(struct coil_rt *rt, bool wait, uint64_t deadline);
};

extern const struct coil__backend coil__backend_uring;

#pragma GCC visibility pop

#endif /* COIL_RUNTIME_BACKEND_H */
