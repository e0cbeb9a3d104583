/* SPDX-License-Identifier: MIT */
/*
 * runtime/sanitizer.h - telling AddressSanitizer and Valgrind about
 * coroutine stacks, so that their reports about coil programs are true.
 *
 * ASan tracks one stack per thread; a context switch it has not been told
 * about looks like a wild jump of the stack pointer, and frames of a
 * finished task look like use-after-return. The fiber API
 * (__sanitizer_start/finish_switch_fiber) brackets every switch.
 * Valgrind treats a large stack-pointer move as a switch only if the target
 * was registered with VALGRIND_STACK_REGISTER (done in stack.c).
 * Without the tools these compile to nothing.
 */
#ifndef COIL_RUNTIME_SANITIZER_H
#define COIL_RUNTIME_SANITIZER_H

#include "coil_config.h"
#include "internal.h"

/*
 * Valgrind's client requests (each a few no-op instructions when not under
 * Valgrind), or nothing when its headers are not installed.
 */
#if COIL_HAVE_VALGRIND_H
#include <valgrind/memcheck.h>
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#define VALGRIND_MAKE_MEM_DEFINED(p, n) ((void)(p), (void)(n))
#define VALGRIND_STACK_REGISTER(lo, hi) 0u
#define VALGRIND_STACK_DEREGISTER(id) ((void)(id))
#define VALGRIND_DISABLE_ERROR_REPORTING
#define VALGRIND_ENABLE_ERROR_REPORTING
#endif

#ifdef COIL__SANITIZE_ADDRESS
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

#pragma GCC visibility push(hidden)

/*
 * Telling Valgrind the kernel filled @n bytes at @p (io_uring writes are
 * invisible to it). Per-message paths call this rather than issuing the
 * client request inline: a request builds a six-word array in the caller's
 * frame and runs a magic instruction sequence, about ten instructions and
 * one more stack cache line per message, whether or not Valgrind is there.
 * This tests a flag read once at load (rt.c) instead.
 */
#if COIL_HAVE_VALGRIND_H
extern bool coil__on_valgrind;
void coil__vg_defined_slow(const void *p, size_t n);

static inline void coil__vg_defined(const void *p, size_t n)
{
	if (COIL__UNLIKELY(coil__on_valgrind))
		coil__vg_defined_slow(p, n);
}
#else
static inline void coil__vg_defined(const void *p, size_t n)
{
	(void)p;
	(void)n;
}
#endif

#ifdef COIL__SANITIZE_ADDRESS

static inline void **coil__san_fake_slot(struct coil_rt *rt,
					 struct coil_task *t)
{
	return t ? &t->asan_fake_stack : &rt->sched_asan_fake;
}

/* Before switching from @from (NULL: the loop) to @to (NULL: the loop). */
static inline void coil__san_switch_begin(struct coil_rt *rt,
					  struct coil_task *from,
					  struct coil_task *to)
{
	__sanitizer_start_switch_fiber(coil__san_fake_slot(rt, from),
				       to ? to->stack.lo : rt->sched_stack_lo,
				       to ? to->stack.size :
					    rt->sched_stack_size);
}

/* Back on @from's stack after a switch. */
static inline void coil__san_switch_end(struct coil_rt *rt,
					struct coil_task *from)
{
	__sanitizer_finish_switch_fiber(*coil__san_fake_slot(rt, from), NULL,
					NULL);
}

/* First code on a new task's stack. */
static inline void coil__san_task_start(void)
{
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
}

/*
 * A finished task leaves its stack for good (ASan drops its fake stack)
 * for @to, or the loop when @to is NULL.
 */
static inline void coil__san_exit_begin(struct coil_rt *rt,
					struct coil_task *to)
{
	__sanitizer_start_switch_fiber(NULL,
				       to ? to->stack.lo : rt->sched_stack_lo,
				       to ? to->stack.size :
					    rt->sched_stack_size);
}

/* A stack slot is handed to a new task: forget old frames' poison. */
static inline void coil__san_stack_reuse(void *lo, size_t size)
{
	ASAN_UNPOISON_MEMORY_REGION(lo, size);
}

#else

static inline void coil__san_switch_begin(struct coil_rt *rt,
					  struct coil_task *from,
					  struct coil_task *to)
{
	(void)rt;
	(void)from;
	(void)to;
}

static inline void coil__san_switch_end(struct coil_rt *rt,
					struct coil_task *from)
{
	(void)rt;
	(void)from;
}

static inline void coil__san_task_start(void)
{
}

static inline void coil__san_exit_begin(struct coil_rt *rt,
					struct coil_task *to)
{
	(void)rt;
	(void)to;
}

static inline void coil__san_stack_reuse(void *lo, size_t size)
{
	(void)lo;
	(void)size;
}

#endif

#pragma GCC visibility pop

#endif /* COIL_RUNTIME_SANITIZER_H */
