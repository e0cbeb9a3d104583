/* SPDX-License-Identifier: MIT */
/*
 * coil/time.h - sleeping and deadlines (asyncio.sleep, asyncio.timeout).
 *
 * Times are nanoseconds of CLOCK_MONOTONIC. A deadline scope bounds every
 * suspending call made inside it: I/O ops get a linked timeout
 * (IOSQE_IO_LINK + IORING_OP_LINK_TIMEOUT, absolute), other waits a timer.
 * When the deadline passes, the call in progress and every later one in the
 * scope returns -ETIMEDOUT (io_uring's -ETIME is translated at the edge).
 */
#ifndef COIL_TIME_H
#define COIL_TIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define COIL_NSEC_PER_USEC 1000LL
#define COIL_NSEC_PER_MSEC 1000000LL
#define COIL_NSEC_PER_SEC 1000000000LL

/* Pass as a timeout to mean "none". Any negative value means the same. */
#define COIL_NO_TIMEOUT ((int64_t)-1)

/* CLOCK_MONOTONIC in nanoseconds (vDSO, no system call). */
uint64_t coil_now(void);

/*
 * coil_sleep - suspend the calling task for at least @ns nanoseconds.
 * coil_sleep(0) yields. Returns 0, -ECANCELED (cancelled), -ETIMEDOUT (an
 * enclosing deadline passed first), -ENOMEM (the timer heap could not grow;
 * nothing waited), -EPERM (not in a task). A duration too large to add to
 * the clock means "until cancelled".
 */
int coil_sleep(uint64_t ns);

/* Like coil_sleep(), until CLOCK_MONOTONIC reaches @when_ns. */
int coil_sleep_until(uint64_t when_ns);

/*
 * A deadline scope, caller-allocated (usually on the task's stack).
 * Scopes nest; the earliest deadline wins. Exit scopes in reverse order.
 */
struct coil_deadline {
	uint64_t at;    /* absolute deadline of this scope */
	uint64_t saved; /* the task's effective deadline before entering */
};

/*
 * coil_deadline_enter - asyncio.timeout(): every suspending call until the
 * matching coil_deadline_exit() returns -ETIMEDOUT once @timeout_ns have
 * passed. Returns 0, -EPERM (not in a task) or -EINVAL (@d NULL).
 */
int coil_deadline_enter(struct coil_deadline *d, uint64_t timeout_ns);

/* As coil_deadline_enter() with an absolute CLOCK_MONOTONIC deadline. */
int coil_deadline_enter_at(struct coil_deadline *d, uint64_t when_ns);

/* Leave the scope, restoring the enclosing deadline. */
void coil_deadline_exit(struct coil_deadline *d);

#ifdef __cplusplus
}
#endif

#endif /* COIL_TIME_H */
