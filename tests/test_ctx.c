/* SPDX-License-Identifier: MIT */
/*
 * tests/test_ctx.c - the context switch alone (runtime/arch/<cpu>/ctx.S),
 * without the scheduler: a new context's first run, the stack it runs on,
 * the callee-saved registers and floating-point control state that must
 * travel with each context, and switches between coroutines.
 *
 * The switch's source file is compiled into this test (its symbols are
 * hidden in libcoil), with tests/arch/<cpu>/switch_checked.S, which checks
 * registers C cannot see. Needs no io_uring, so it also runs on the CPU it
 * was built for under qemu-user (scripts/cross-test.sh).
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include <cmocka.h>

#include "arch/ctx.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND 1
#endif
#endif
#ifndef HAVE_VALGRIND
#define RUNNING_ON_VALGRIND 0
#define VALGRIND_STACK_REGISTER(lo, hi) 0u
#define VALGRIND_STACK_DEREGISTER(id) ((void)(id))
#endif

#define STACK_SIZE (64 * 1024)

/* tests/arch/<cpu>/switch_checked.S */
unsigned test_switch_checked(struct coil__ctx *from, struct coil__ctx *to,
			     unsigned long seed, int site);

struct stack {
	unsigned char *lo;
	unsigned vg_id; /* Valgrind's id for it, so a switch is not an error */
};

static struct stack stack_new(void)
{
	struct stack s;
	void *p = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	s.lo = p;
	s.vg_id = VALGRIND_STACK_REGISTER(s.lo, s.lo + STACK_SIZE);
	return s;
}

/* Only once no context runs on @s any more. */
static void stack_free(struct stack *s)
{
	VALGRIND_STACK_DEREGISTER(s->vg_id);
	assert_int_equal(munmap(s->lo, STACK_SIZE), 0);
}

static struct coil__ctx main_ctx;

/* ---------------------------------------------------- first switch */

static struct coil__ctx first_ctx;
static void *first_arg;
static uintptr_t first_local; /* address of an aligned local of the entry */
static int first_runs;

/*
 * Not instrumented by ASan: with detect_stack_use_after_return (on by
 * default since GCC 13 and clang 15) it moves locals to a heap "fake
 * stack", and @local would tell nothing about the stack the entry runs on.
 */
__attribute__((no_sanitize_address)) static void first_entry(void *arg)
{
	_Alignas(16) volatile unsigned char local[16];

	local[0] = 1;
	first_arg = arg;
	first_local = (uintptr_t)local;
	first_runs++;
	for (;;)
		coil__ctx_switch(&first_ctx, &main_ctx);
}

/* Makes a context on @s and switches to it once; returns when it is back. */
static void first_switch(struct stack *s, void *arg)
{
	first_arg = NULL;
	first_local = 0;
	first_runs = 0;
	coil__ctx_make(&first_ctx, s->lo + STACK_SIZE, first_entry, arg,
		       coil__ctx_fpstate());
	coil__ctx_switch(&main_ctx, &first_ctx);
}

static void test_first_switch_runs_entry_with_its_argument(void **state)
{
	struct stack s = stack_new();
	int token;

	(void)state;
	first_switch(&s, &token);
	assert_int_equal(first_runs, 1);
	assert_ptr_equal(first_arg, &token);
	/* Later switches resume it where it switched away, not at entry. */
	coil__ctx_switch(&main_ctx, &first_ctx);
	assert_int_equal(first_runs, 1);
	stack_free(&s);
}

/*
 * The ABI aligns the stack to 16 bytes at every call, and the compiler
 * relies on it: a 16-byte aligned local sits at a 16-byte address only if
 * the entry was entered on a correctly aligned stack.
 */
static void test_entry_runs_on_its_own_aligned_stack(void **state)
{
	struct stack s = stack_new();

	(void)state;
	first_switch(&s, NULL);
	assert_int_equal(first_runs, 1);
	assert_true(first_local >= (uintptr_t)s.lo);
	assert_true(first_local < (uintptr_t)s.lo + STACK_SIZE);
	assert_int_equal(first_local % 16, 0);
	stack_free(&s);
}

/* A stack top that is not 16-byte aligned is rounded down, not trusted. */
static void test_unaligned_stack_top_is_rounded_down(void **state)
{
	struct stack s = stack_new();

	(void)state;
	first_arg = NULL;
	first_runs = 0;
	coil__ctx_make(&first_ctx, s.lo + STACK_SIZE - 5, first_entry, NULL,
		       coil__ctx_fpstate());
	coil__ctx_switch(&main_ctx, &first_ctx);
	assert_int_equal(first_runs, 1);
	assert_int_equal(first_local % 16, 0);
	assert_true(first_local < (uintptr_t)s.lo + STACK_SIZE - 5);
	stack_free(&s);
}

/* ------------------------------------------------ callee-saved registers */

#define REG_ROUNDS 1000

static struct coil__ctx reg_ctx;
static unsigned reg_co_bad;  /* registers the coroutine lost, all rounds */
static unsigned long reg_co_rounds;
static int reg_co_site;      /* the coroutine's call site of the switch */

/* Each side loads its own values before every switch and checks them after. */
static void reg_entry(void *arg)
{
	(void)arg;
	for (;;) {
		reg_co_bad |= test_switch_checked(&reg_ctx, &main_ctx,
						  0xc0c0c0c000000000ul +
							  reg_co_rounds * 64,
						  reg_co_site);
		reg_co_rounds++;
	}
}

/*
 * Main switches from call site 0, the coroutine from @co_site. The x86-64
 * switch returns with "ret" to a context that suspended at the call site
 * it leaves from and with an indirect jump otherwise: same sites test the
 * first way, different sites the second.
 */
static void check_registers_survive(int co_site)
{
	struct stack s = stack_new();
	unsigned main_bad = 0;
	unsigned long i;

	reg_co_bad = 0;
	reg_co_rounds = 0;
	reg_co_site = co_site;
	coil__ctx_make(&reg_ctx, s.lo + STACK_SIZE, reg_entry, NULL,
		       coil__ctx_fpstate());
	for (i = 0; i < REG_ROUNDS; i++)
		main_bad |= test_switch_checked(&main_ctx, &reg_ctx,
						0xa0a0a0a000000000ul + i * 64,
						0);
	/* Main saw every round; the coroutine all but its first entry. */
	assert_int_equal(reg_co_rounds, REG_ROUNDS - 1);
	assert_int_equal(main_bad, 0);
	assert_int_equal(reg_co_bad, 0);
	stack_free(&s);
}

static void
test_callee_saved_registers_survive_switches_at_one_call_site(void **state)
{
	(void)state;
	check_registers_survive(0);
}

static void
test_callee_saved_registers_survive_switches_between_call_sites(void **state)
{
	(void)state;
	check_registers_survive(1);
}

/* ------------------------------------------- floating-point control state */

/*
 * The rounding mode as arithmetic sees it: x86-64 does double arithmetic
 * in SSE (MXCSR) and fegetround() reads the x87 control word, so checking
 * both catches a switch that carries only one of them. aarch64 has FPCR.
 */
struct fpmode {
	int round; /* fegetround() */
	double third, two_thirds;
};

/* noinline: the divisions must not move across a fesetround(). */
__attribute__((noinline)) static struct fpmode fpmode_now(void)
{
	volatile double one = 1.0, two = 2.0, three = 3.0;
	struct fpmode m;

	m.round = fegetround();
	m.third = one / three;
	m.two_thirds = two / three;
	return m;
}

static struct fpmode fp_expected[2]; /* [0] FE_UPWARD, [1] FE_DOWNWARD */

static void fp_learn(void)
{
	assert_int_equal(fesetround(FE_UPWARD), 0);
	fp_expected[0] = fpmode_now();
	assert_int_equal(fesetround(FE_DOWNWARD), 0);
	fp_expected[1] = fpmode_now();
	assert_int_equal(fesetround(FE_TONEAREST), 0);
	/* The two differ in arithmetic, or this test could not tell. */
	assert_true(fp_expected[0].third != fp_expected[1].third);
}

static bool fpmode_is(struct fpmode m, int i)
{
	return m.round == fp_expected[i].round &&
	       m.third == fp_expected[i].third &&
	       m.two_thirds == fp_expected[i].two_thirds;
}

static struct coil__ctx fp_ctx;
static struct fpmode fp_seen_first, fp_seen_later;

static void fp_entry(void *arg)
{
	(void)arg;
	fp_seen_first = fpmode_now();
	fesetround(FE_DOWNWARD);
	coil__ctx_switch(&fp_ctx, &main_ctx);
	for (;;) {
		fp_seen_later = fpmode_now();
		coil__ctx_switch(&fp_ctx, &main_ctx);
	}
}

/*
 * Valgrind runs SSE arithmetic in round-to-nearest whatever MXCSR says
 * (its manual, "Limitations"), so the arithmetic half cannot be checked.
 */
static void skip_under_valgrind(void)
{
	if (RUNNING_ON_VALGRIND) {
		print_message("skipped: Valgrind ignores the SSE rounding "
			      "mode\n");
		skip();
	}
}

/* A new context starts in the FP state given to coil__ctx_make(). */
static void test_new_context_starts_with_the_given_fp_state(void **state)
{
	struct stack s = stack_new();
	unsigned long upward;

	(void)state;
	skip_under_valgrind();
	fp_learn();
	fesetround(FE_UPWARD);
	upward = coil__ctx_fpstate();
	fesetround(FE_DOWNWARD);
	coil__ctx_make(&fp_ctx, s.lo + STACK_SIZE, fp_entry, NULL, upward);
	coil__ctx_switch(&main_ctx, &fp_ctx);
	fesetround(FE_TONEAREST);
	assert_true(fpmode_is(fp_seen_first, 0));
	stack_free(&s);
}

/* Each context keeps its own rounding mode across switches. */
static void test_fp_rounding_mode_travels_with_its_context(void **state)
{
	struct stack s = stack_new();
	struct fpmode main_after;
	int i;

	(void)state;
	skip_under_valgrind();
	fp_learn();
	fesetround(FE_UPWARD);
	coil__ctx_make(&fp_ctx, s.lo + STACK_SIZE, fp_entry, NULL,
		       coil__ctx_fpstate());
	for (i = 0; i < 3; i++) {
		/* The coroutine sets FE_DOWNWARD on its first run. */
		coil__ctx_switch(&main_ctx, &fp_ctx);
		main_after = fpmode_now();
		if (i > 0)
			assert_true(fpmode_is(fp_seen_later, 1));
		assert_true(fpmode_is(main_after, 0));
	}
	fesetround(FE_TONEAREST);
	stack_free(&s);
}

/* ----------------------------------------- coroutine to coroutine */

#define RING_ROUNDS 1000

static struct coil__ctx ring_ctx[2];
static char ring_trace[3 * RING_ROUNDS + 1];
static size_t ring_len;

/* Context @i logs itself and passes control on: 0 -> 1 -> main. */
static void ring_entry(void *arg)
{
	size_t i = (size_t)(uintptr_t)arg;

	for (;;) {
		ring_trace[ring_len++] = (char)('a' + i);
		coil__ctx_switch(&ring_ctx[i],
				 i == 0 ? &ring_ctx[1] : &main_ctx);
	}
}

static void test_coroutines_switch_directly_to_each_other(void **state)
{
	struct stack s[2] = { stack_new(), stack_new() };
	size_t i;

	(void)state;
	ring_len = 0;
	for (i = 0; i < 2; i++)
		coil__ctx_make(&ring_ctx[i], s[i].lo + STACK_SIZE, ring_entry,
			       (void *)(uintptr_t)i, coil__ctx_fpstate());
	for (i = 0; i < RING_ROUNDS; i++) {
		coil__ctx_switch(&main_ctx, &ring_ctx[0]);
		ring_trace[ring_len++] = 'm';
	}
	assert_int_equal(ring_len, 3 * RING_ROUNDS);
	for (i = 0; i < ring_len; i++)
		assert_int_equal(ring_trace[i], "abm"[i % 3]);
	stack_free(&s[0]);
	stack_free(&s[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_first_switch_runs_entry_with_its_argument),
		cmocka_unit_test(test_entry_runs_on_its_own_aligned_stack),
		cmocka_unit_test(test_unaligned_stack_top_is_rounded_down),
		cmocka_unit_test(
			test_callee_saved_registers_survive_switches_at_one_call_site),
		cmocka_unit_test(
			test_callee_saved_registers_survive_switches_between_call_sites),
		cmocka_unit_test(
			test_new_context_starts_with_the_given_fp_state),
		cmocka_unit_test(
			test_fp_rounding_mode_travels_with_its_context),
		cmocka_unit_test(
			test_coroutines_switch_directly_to_each_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
