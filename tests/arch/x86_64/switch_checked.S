/* SPDX-License-Identifier: MIT */
/*
 * tests/arch/x86_64/switch_checked.S - a coil__ctx_switch() call that
 * proves the callee-saved registers come back. C cannot test this: the
 * compiler decides which registers hold what, and a clobbered register may
 * go unnoticed.
 *
 * unsigned test_switch_checked(struct coil__ctx *from (rdi),
 *                              struct coil__ctx *to (rsi),
 *                              unsigned long seed (rdx),
 *                              int site (ecx))
 * Loads seed+0 .. seed+5 into rbx, rbp, r12, r13, r14, r15, switches, and
 * when switched back returns a mask of the registers that no longer hold
 * their value (bit 0 rbx, 1 rbp, 2 r12 ... 5 r15): 0 when all survived.
 * The caller's own values of those registers are saved and restored.
 * @site picks one of two call instructions: the switch returns one way to
 * a context that suspended at the call site it leaves from, another way
 * otherwise (ctx.S), and each way must restore the same registers.
 */
/* CHECK REG, N: set bit N of eax unless REG == seed + N. */
.macro	CHECK reg, n
	leaq	\n(%rdx), %r8
	xorl	%ecx, %ecx
	cmpq	%r8, \reg
	setne	%cl
	shll	$\n, %ecx
	orl	%ecx, %eax
.endm

	.text
	.globl	test_switch_checked
	.type	test_switch_checked, @function
	.p2align 4
test_switch_checked:
	.cfi_startproc
	pushq	%rbp
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbp, 0
	pushq	%rbx
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %rbx, 0
	pushq	%r12
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r12, 0
	pushq	%r13
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r13, 0
	pushq	%r14
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r14, 0
	pushq	%r15
	.cfi_adjust_cfa_offset 8
	.cfi_rel_offset %r15, 0
	pushq	%rdx		/* the seed; rsp is 16-byte aligned again */
	.cfi_adjust_cfa_offset 8
	movq	%rdx, %rbx
	leaq	1(%rdx), %rbp
	leaq	2(%rdx), %r12
	leaq	3(%rdx), %r13
	leaq	4(%rdx), %r14
	leaq	5(%rdx), %r15
	testl	%ecx, %ecx
	jnz	1f
	call	coil__ctx_switch
	jmp	2f
1:
	call	coil__ctx_switch
2:
	popq	%rdx
	.cfi_adjust_cfa_offset -8
	xorl	%eax, %eax
	CHECK	%rbx, 0
	CHECK	%rbp, 1
	CHECK	%r12, 2
	CHECK	%r13, 3
	CHECK	%r14, 4
	CHECK	%r15, 5
	popq	%r15
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r15
	popq	%r14
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r14
	popq	%r13
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r13
	popq	%r12
	.cfi_adjust_cfa_offset -8
	.cfi_restore %r12
	popq	%rbx
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbx
	popq	%rbp
	.cfi_adjust_cfa_offset -8
	.cfi_restore %rbp
	ret
	.cfi_endproc
	.size	test_switch_checked, .-test_switch_checked

	.section .note.GNU-stack,"",%progbits
