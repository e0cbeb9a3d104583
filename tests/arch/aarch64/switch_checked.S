/* SPDX-License-Identifier: MIT */
/*
 * tests/arch/aarch64/switch_checked.S - a coil__ctx_switch() call that
 * proves the callee-saved registers come back. C cannot test this: the
 * compiler decides which registers hold what, and a clobbered register may
 * go unnoticed.
 *
 * unsigned test_switch_checked(struct coil__ctx *from (x0),
 *                              struct coil__ctx *to (x1),
 *                              unsigned long seed (x2),
 *                              int site (w3))
 * Loads seed+0 .. seed+9 into x19 .. x28, seed+10 into x29 (fp) and
 * seed+11 .. seed+18 into d8 .. d15, switches, and when switched back
 * returns a mask of the registers that no longer hold their value (bit 0
 * x19 ... bit 10 x29, bit 11 d8 ... bit 18 d15): 0 when all survived. The
 * caller's own values of those registers (and lr) are saved and restored.
 * @site picks one of two call instructions, so that a test can switch
 * between contexts suspended at one call site or at two.
 */
/* CHECKX REG, N / CHECKD REG, N: set bit N of w0 unless REG == seed + N. */
.macro	CHECKX reg, n
	add	x9, x10, #\n
	cmp	\reg, x9
	cset	w11, ne
	orr	w0, w0, w11, lsl #\n
.endm
.macro	CHECKD reg, n
	add	x9, x10, #\n
	fmov	x12, \reg
	cmp	x12, x9
	cset	w11, ne
	orr	w0, w0, w11, lsl #\n
.endm
.macro	SETX reg, n
	add	\reg, x2, #\n
.endm
.macro	SETD reg, n
	add	x9, x2, #\n
	fmov	\reg, x9
.endm

	.text
	.globl	test_switch_checked
	.type	test_switch_checked, %function
	.p2align 4
test_switch_checked:
	.cfi_startproc
	sub	sp, sp, #176
	.cfi_adjust_cfa_offset 176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	/*
	 * Where the caller's registers are: without the rule for x30 an
	 * unwinder (gdb, backtrace()) stopped in the switch takes the lr
	 * that bl just set as this function's return address, and loops.
	 */
	.cfi_rel_offset x19, 0
	.cfi_rel_offset x20, 8
	.cfi_rel_offset x21, 16
	.cfi_rel_offset x22, 24
	.cfi_rel_offset x23, 32
	.cfi_rel_offset x24, 40
	.cfi_rel_offset x25, 48
	.cfi_rel_offset x26, 56
	.cfi_rel_offset x27, 64
	.cfi_rel_offset x28, 72
	.cfi_rel_offset x29, 80
	.cfi_rel_offset x30, 88
	.cfi_rel_offset d8, 96
	.cfi_rel_offset d9, 104
	.cfi_rel_offset d10, 112
	.cfi_rel_offset d11, 120
	.cfi_rel_offset d12, 128
	.cfi_rel_offset d13, 136
	.cfi_rel_offset d14, 144
	.cfi_rel_offset d15, 152
	str	x2, [sp, #160]		/* the seed */
	SETX	x19, 0
	SETX	x20, 1
	SETX	x21, 2
	SETX	x22, 3
	SETX	x23, 4
	SETX	x24, 5
	SETX	x25, 6
	SETX	x26, 7
	SETX	x27, 8
	SETX	x28, 9
	SETX	x29, 10
	SETD	d8, 11
	SETD	d9, 12
	SETD	d10, 13
	SETD	d11, 14
	SETD	d12, 15
	SETD	d13, 16
	SETD	d14, 17
	SETD	d15, 18
	cbnz	w3, 1f
	bl	coil__ctx_switch
	b	2f
1:
	bl	coil__ctx_switch
2:
	ldr	x10, [sp, #160]
	mov	w0, #0
	CHECKX	x19, 0
	CHECKX	x20, 1
	CHECKX	x21, 2
	CHECKX	x22, 3
	CHECKX	x23, 4
	CHECKX	x24, 5
	CHECKX	x25, 6
	CHECKX	x26, 7
	CHECKX	x27, 8
	CHECKX	x28, 9
	CHECKX	x29, 10
	CHECKD	d8, 11
	CHECKD	d9, 12
	CHECKD	d10, 13
	CHECKD	d11, 14
	CHECKD	d12, 15
	CHECKD	d13, 16
	CHECKD	d14, 17
	CHECKD	d15, 18
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
	ret
	.cfi_endproc
	.size	test_switch_checked, .-test_switch_checked

	.section .note.GNU-stack,"",%progbits
