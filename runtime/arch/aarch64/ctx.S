/* SPDX-License-Identifier: MIT */
/*
 * Context switch for aarch64, AAPCS64.
 *
 * Saved frame (176 bytes, 16-byte aligned), from the saved sp upwards:
 *   +0  x19 x20  +16 x21 x22  +32 x23 x24  +48 x25 x26  +64 x27 x28
 *   +80 x29 (fp) x30 (lr)  +96 d8 d9  +112 d10 d11  +128 d12 d13
 *   +144 d14 d15  +160 FPCR  +168 padding
 * Only the low 64 bits of v8-v15 are callee-saved (AAPCS64 6.1.2), and FPCR
 * holds the rounding mode and flush-to-zero, which the ABI preserves.
 */
	.text

/* void coil__ctx_switch(struct coil__ctx *from (x0), struct coil__ctx *to (x1)) */
	.globl	coil__ctx_switch
	.hidden	coil__ctx_switch
	.type	coil__ctx_switch, %function
	.p2align 4
coil__ctx_switch:
	.cfi_startproc
	sub	sp, sp, #176
	.cfi_adjust_cfa_offset 176
	stp	x19, x20, [sp, #0]
	.cfi_rel_offset x19, 0
	.cfi_rel_offset x20, 8
	stp	x21, x22, [sp, #16]
	.cfi_rel_offset x21, 16
	.cfi_rel_offset x22, 24
	stp	x23, x24, [sp, #32]
	.cfi_rel_offset x23, 32
	.cfi_rel_offset x24, 40
	stp	x25, x26, [sp, #48]
	.cfi_rel_offset x25, 48
	.cfi_rel_offset x26, 56
	stp	x27, x28, [sp, #64]
	.cfi_rel_offset x27, 64
	.cfi_rel_offset x28, 72
	stp	x29, x30, [sp, #80]
	.cfi_rel_offset x29, 80
	.cfi_rel_offset x30, 88
	stp	d8, d9, [sp, #96]
	.cfi_rel_offset d8, 96
	.cfi_rel_offset d9, 104
	stp	d10, d11, [sp, #112]
	.cfi_rel_offset d10, 112
	.cfi_rel_offset d11, 120
	stp	d12, d13, [sp, #128]
	.cfi_rel_offset d12, 128
	.cfi_rel_offset d13, 136
	stp	d14, d15, [sp, #144]
	.cfi_rel_offset d14, 144
	.cfi_rel_offset d15, 152
	mrs	x9, fpcr
	str	x9, [sp, #160]
	mov	x9, sp
	str	x9, [x0]
	ldr	x9, [x1]
	/*
	 * Now on the other context's stack. Its saved frame has the same
	 * layout, so the unwind rules above still hold: from here on a
	 * backtrace (perf, gdb) shows the context being resumed. They stay
	 * true while the registers are loaded (the frame is still there)
	 * and are dropped when sp leaves it.
	 */
	mov	sp, x9
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	ldr	x9, [sp, #160]
	msr	fpcr, x9
	add	sp, sp, #176
	.cfi_adjust_cfa_offset -176
	.cfi_restore x19
	.cfi_restore x20
	.cfi_restore x21
	.cfi_restore x22
	.cfi_restore x23
	.cfi_restore x24
	.cfi_restore x25
	.cfi_restore x26
	.cfi_restore x27
	.cfi_restore x28
	.cfi_restore x29
	.cfi_restore x30
	.cfi_restore d8
	.cfi_restore d9
	.cfi_restore d10
	.cfi_restore d11
	.cfi_restore d12
	.cfi_restore d13
	.cfi_restore d14
	.cfi_restore d15
	/*
	 * x86-64 ends with an indirect jump instead of a return, because the
	 * return-stack predictor guesses this switch's caller in the old
	 * context and misses every time (half the switch's cost there).
	 * The same is likely here, but "br x30" is unmeasured (CI runs this
	 * file under qemu-user only) and would need a "bti j" at every
	 * resume point in a BTI-enforcing build, so it stays "ret" until an
	 * aarch64 machine can compare the two.
	 */
	ret
	.cfi_endproc
	.size	coil__ctx_switch, .-coil__ctx_switch

/*
 * First code a new context runs: coil__ctx_make() put the entry function in
 * x19 and its argument in x20; lr (x30) pointed here.
 */
	.type	coil__ctx_trampoline, %function
	.p2align 4
coil__ctx_trampoline:
	.cfi_startproc
	.cfi_undefined x30
	mov	x0, x20
	blr	x19
	brk	#0		/* entry functions never return */
	.cfi_endproc
	.size	coil__ctx_trampoline, .-coil__ctx_trampoline

/* unsigned long coil__ctx_fpstate(void): FPCR */
	.globl	coil__ctx_fpstate
	.hidden	coil__ctx_fpstate
	.type	coil__ctx_fpstate, %function
	.p2align 4
coil__ctx_fpstate:
	.cfi_startproc
	mrs	x0, fpcr
	ret
	.cfi_endproc
	.size	coil__ctx_fpstate, .-coil__ctx_fpstate

/*
 * void coil__ctx_make(struct coil__ctx *ctx (x0), void *stack_top (x1),
 *                     void (*entry)(void *) (x2), void *arg (x3),
 *                     unsigned long fpstate (x4))
 */
	.globl	coil__ctx_make
	.hidden	coil__ctx_make
	.type	coil__ctx_make, %function
	.p2align 4
coil__ctx_make:
	.cfi_startproc
	and	x1, x1, #~15
	sub	x1, x1, #176
	stp	x2, x3, [x1, #0]	/* x19 = entry, x20 = arg */
	stp	xzr, xzr, [x1, #16]
	stp	xzr, xzr, [x1, #32]
	stp	xzr, xzr, [x1, #48]
	stp	xzr, xzr, [x1, #64]
	adr	x9, coil__ctx_trampoline
	stp	xzr, x9, [x1, #80]	/* x29 = 0 ends frame walks, x30 */
	stp	xzr, xzr, [x1, #96]
	stp	xzr, xzr, [x1, #112]
	stp	xzr, xzr, [x1, #128]
	stp	xzr, xzr, [x1, #144]
	stp	x4, xzr, [x1, #160]	/* FPCR */
	str	x1, [x0]
	ret
	.cfi_endproc
	.size	coil__ctx_make, .-coil__ctx_make

	.section .note.GNU-stack,"",%progbits
