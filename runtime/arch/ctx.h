/* SPDX-License-Identifier: MIT */
/*
 * runtime/arch/ctx.h - the context switch, implemented per CPU in
 * runtime/arch/<cpu>/ctx.S (the build picks the file; nothing here varies).
 *
 * A context is just a saved stack pointer: coil__ctx_switch() pushes the
 * callee-saved registers and the floating-point control words on the
 * current stack, stores the stack pointer in @from, loads @to's and pops the
 * same set. Caller-saved registers need no saving: to the compiler the
 * switch is an ordinary function call.
 */
#ifndef COIL_RUNTIME_ARCH_CTX_H
#define COIL_RUNTIME_ARCH_CTX_H

#pragma GCC visibility push(hidden)

struct coil__ctx {
	void *sp; /* top of the saved register frame; valid while switched out */
};

/*
 * Start fetching what resuming @c reads first: the saved register frame at
 * its stack pointer and the caller frames just above it (stacks grow down
 * on every CPU coil supports). @c itself is read (it must be valid); the
 * prefetches never fault, so a stale @c->sp costs a wasted fetch, nothing
 * more. See coil__prefetch_resume().
 */
static inline __attribute__((always_inline)) void
coil__ctx_prefetch(const struct coil__ctx *c)
{
	const char *sp = c->sp;

	__builtin_prefetch(sp, 0, 3);
	__builtin_prefetch(sp + 64, 0, 3);
	__builtin_prefetch(sp + 128, 0, 3);
	__builtin_prefetch(sp + 192, 0, 3);
}

/* Save the running context into @from and resume @to. */
void coil__ctx_switch(struct coil__ctx *from, struct coil__ctx *to);

/*
 * The calling thread's floating-point control words (x86-64: MXCSR in the
 * low 32 bits, the x87 control word above; aarch64: FPCR), in the form
 * coil__ctx_make() takes. Read once per runtime: reading them costs more
 * than the rest of making a context.
 */
unsigned long coil__ctx_fpstate(void);

/*
 * Prepare @ctx so that the first coil__ctx_switch() to it calls
 * @entry(@arg) with the stack pointer just below @stack_top (16-byte
 * aligned) and the FP control words @fpstate. @entry must never return: it
 * switches away for good instead.
 */
void coil__ctx_make(struct coil__ctx *ctx, void *stack_top,
		    void (*entry)(void *), void *arg, unsigned long fpstate);

#pragma GCC visibility pop

#endif /* COIL_RUNTIME_ARCH_CTX_H */
