/* SPDX-License-Identifier: MIT */
/*
 * bench/ctx_switch.c - nanoseconds per one-way context switch: coil's
 * coil__ctx_switch() ping-ponging between the thread's own context and one
 * coroutine context, against the same ping-pong through swapcontext(3)
 * (which also saves and restores the signal mask: a system call per
 * switch). The main and the coroutine context switch from two different
 * call sites there, so coil's switch returns by its indirect jump; for
 * information, the same ping-pong with both contexts switching from one
 * call site (as tasks parked in one coil_yield or coil_recv do), where it
 * returns with ret; and coil_yield() between two tasks through the whole
 * scheduler.
 *
 * Usage: ctx_switch [ROUND_TRIPS] [REPS]
 *   ROUND_TRIPS  coil round trips per rep (default 10M; k/M suffixes);
 *                swapcontext does 1/20 of them (it is ~50x slower)
 *   REPS         repetitions, median reported (default 5)
 * Each round trip is two one-way switches. At the end every side checks
 * that its coroutine really ran once per round trip.
 */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <ucontext.h>

#include <coil.h>

#include "arch/ctx.h"
#include "common.h"

#define PROG "ctx_switch"
#define STACK_SIZE (64 * 1024)

static uint64_t round_trips = 10000000;
static int reps = 5;

/* ------------------------------------------------ coil__ctx_switch */

static struct coil__ctx main_ctx, co_ctx;
static volatile uint64_t co_runs; /* incremented once per round trip */

/* The coroutine: count, switch back; forever (entries never return). */
static void co_entry(void *arg)
{
	(void)arg;
	for (;;) {
		co_runs++;
		coil__ctx_switch(&co_ctx, &main_ctx);
	}
}

/* @n round trips; returns nanoseconds per one-way switch. */
static double coil_pingpong(uint64_t n)
{
	uint64_t i, t0, t1;

	t0 = bench_now();
	for (i = 0; i < n; i++)
		coil__ctx_switch(&main_ctx, &co_ctx);
	t1 = bench_now();
	return (double)(t1 - t0) / (double)(2 * n);
}

/* ---------------------------------- coil__ctx_switch, one call site */

static struct coil__ctx site_main_ctx, site_co_ctx;
static volatile uint64_t site_co_runs;

/*
 * Both contexts run this loop, so every switch is called from the same
 * instruction and the switch returns with ret. noinline: one copy only.
 */
static __attribute__((noinline)) void site_loop(struct coil__ctx *self,
						struct coil__ctx *other,
						uint64_t n,
						volatile uint64_t *runs)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		if (runs)
			(*runs)++;
		coil__ctx_switch(self, other);
	}
}

static void site_entry(void *arg)
{
	(void)arg;
	site_loop(&site_co_ctx, &site_main_ctx, UINT64_MAX, &site_co_runs);
	abort(); /* not reached: 2^64 round trips */
}

static double site_pingpong(uint64_t n)
{
	uint64_t t0, t1;

	t0 = bench_now();
	site_loop(&site_main_ctx, &site_co_ctx, n, NULL);
	t1 = bench_now();
	return (double)(t1 - t0) / (double)(2 * n);
}

/* ------------------------------------------------------ swapcontext */

static ucontext_t uc_main, uc_co;
static volatile uint64_t uc_runs;
static volatile int uc_failed;

static void uc_entry(void)
{
	for (;;) {
		uc_runs++;
		if (swapcontext(&uc_co, &uc_main) != 0)
			uc_failed = 1; /* cannot return from here: flag it */
	}
}

static double uc_pingpong(uint64_t n)
{
	uint64_t i, t0, t1;

	t0 = bench_now();
	for (i = 0; i < n; i++) {
		if (swapcontext(&uc_main, &uc_co) != 0)
			bench_die(PROG, "swapcontext", errno);
	}
	t1 = bench_now();
	return (double)(t1 - t0) / (double)(2 * n);
}

static void *map_stack(void)
{
	void *p = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bench_die(PROG, "mmap", errno);
	return p;
}

/* -------------------------------------- coil_yield through the runtime */

struct yield_arg {
	uint64_t n;      /* yields per task */
	uint64_t done;   /* yields completed, both tasks */
	double ns;       /* per yield, measured by main */
	uint64_t switches; /* scheduler switches during the run */
};

static void *yielder(void *p)
{
	struct yield_arg *a = p;
	uint64_t i;

	for (i = 0; i < a->n; i++) {
		if (coil_yield() != 0)
			return NULL;
		a->done++;
	}
	return p;
}

static void *yield_main(void *p)
{
	struct yield_arg *a = p;
	struct coil_task *t[2];
	struct coil_stats s0, s1;
	uint64_t t0, t1;
	int err, i;

	if ((err = coil_stats_get(&s0)) != 0)
		bench_die(PROG, "coil_stats_get", err);
	t0 = bench_now();
	for (i = 0; i < 2; i++) {
		if ((err = coil_spawn(&t[i], yielder, a)) != 0)
			bench_die(PROG, "coil_spawn", err);
	}
	if ((err = coil_gather(t, 2, NULL, NULL)) != 0)
		bench_die(PROG, "coil_gather", err);
	t1 = bench_now();
	if ((err = coil_stats_get(&s1)) != 0)
		bench_die(PROG, "coil_stats_get", err);
	a->ns = (double)(t1 - t0) / (double)(2 * a->n);
	a->switches = s1.switches - s0.switches;
	return NULL;
}

static double yield_run(uint64_t n, uint64_t *switches)
{
	struct yield_arg a = { .n = n };
	int err = coil_run(yield_main, &a, NULL);

	if (err)
		bench_die(PROG, "coil_run", err);
	if (a.done != 2 * n) {
		fprintf(stderr, PROG ": yield: %" PRIu64 " of %" PRIu64
			" yields done\n", a.done, 2 * n);
		exit(1);
	}
	*switches = a.switches;
	return a.ns;
}

/* ------------------------------------------------------------- main */

/*
 * One coroutine per side, entered once so that both are warm. Apart from
 * main(): getcontext() returns twice, which would oblige main's locals to
 * be volatile.
 */
static void setup(void)
{
	coil__ctx_make(&co_ctx, (char *)map_stack() + STACK_SIZE, co_entry,
		       NULL, coil__ctx_fpstate());
	coil__ctx_make(&site_co_ctx, (char *)map_stack() + STACK_SIZE,
		       site_entry, NULL, coil__ctx_fpstate());
	if (getcontext(&uc_co) != 0)
		bench_die(PROG, "getcontext", errno);
	uc_co.uc_stack.ss_sp = map_stack();
	uc_co.uc_stack.ss_size = STACK_SIZE;
	uc_co.uc_link = NULL;
	makecontext(&uc_co, uc_entry, 0);
	coil_pingpong(1000);
	site_pingpong(1000);
	uc_pingpong(1000);
}

int main(int argc, char **argv)
{
	struct bench_side c = { .n = 0 }, b = { .n = 0 }, y = { .n = 0 };
	struct bench_side cs = { .n = 0 };
	uint64_t base_trips, yields, switches = 0, i;
	double mc, mcs, mb, my, ratio[3], ratio_site[3];
	int r, ok;

	if (argc > 1)
		round_trips = bench_parse_count(PROG, argv[1], 1ull << 34);
	if (argc > 2)
		reps = (int)bench_parse_count(PROG, argv[2], BENCH_MAX_REPS);
	base_trips = round_trips / 20 ? round_trips / 20 : 1;
	yields = round_trips / 2 ? round_trips / 2 : 1;

	setup();

	printf(PROG ": one-way switch, ping-pong between two contexts, "
	       "median of %d\n", reps);
	for (r = 0; r < reps; r++) {
		bench_count_begin(&c);
		bench_add(&c, coil_pingpong(round_trips));
		bench_count_end(&c, 2 * round_trips);
		bench_count_begin(&cs);
		bench_add(&cs, site_pingpong(round_trips));
		bench_count_end(&cs, 2 * round_trips);
		bench_count_begin(&b);
		bench_add(&b, uc_pingpong(base_trips));
		bench_count_end(&b, 2 * base_trips);
		bench_count_begin(&y);
		bench_add(&y, yield_run(yields, &switches));
		bench_count_end(&y, 2 * yields);
	}
	mc = bench_side_median(&c);
	mcs = bench_side_median(&cs);
	mb = bench_side_median(&b);
	my = bench_side_median(&y);
	bench_ratio(&c, &b, 0, ratio);
	bench_ratio(&cs, &b, 0, ratio_site);

	printf("  coil__ctx_switch  %10.2f ns/switch  (%" PRIu64
	       " round trips x %d; %.2f..%.2f)\n", mc, round_trips, reps,
	       bench_side_min(&c), bench_side_max(&c));
	printf("  swapcontext       %10.2f ns/switch  (%" PRIu64
	       " round trips x %d; %.2f..%.2f)\n", mb, base_trips, reps,
	       bench_side_min(&b), bench_side_max(&b));
	printf("  ratio             %10.1fx faster (median of paired reps)\n",
	       ratio[0]);
	printf("  one call site     %10.2f ns/switch  (both contexts switch "
	       "from one instruction; %.2f..%.2f; %.1fx swapcontext)\n", mcs,
	       bench_side_min(&cs), bench_side_max(&cs), ratio_site[0]);
	printf("  coil_yield        %10.2f ns/yield   (2 tasks x %" PRIu64
	       " yields, full scheduler; %" PRIu64 " switches)\n",
	       my, yields, switches);

	/* Did the coroutines really run once per round trip? */
	i = 1000 + (uint64_t)reps * round_trips;
	ok = co_runs == i && site_co_runs == i &&
	     uc_runs == 1000 + (uint64_t)reps * base_trips && !uc_failed;
	if (!ok) {
		fprintf(stderr, PROG ": work check failed: coil coroutine ran"
			" %" PRIu64 " of %" PRIu64 " (one site: %" PRIu64
			"), swapcontext %" PRIu64 " of %" PRIu64
			" (failed=%d)\n", (uint64_t)co_runs, i,
			(uint64_t)site_co_runs, (uint64_t)uc_runs,
			1000 + (uint64_t)reps * base_trips, uc_failed);
		return 1;
	}
	printf("  check: every round trip ran its coroutine once: ok\n");

	bench_report("ctx_switch", "ns", &c, &b, 0, "coil<=5ns,ratio>=40",
		     bench_yes_no(mc <= 5.0 && ratio[0] >= 40.0), NULL);
	bench_report("ctx_switch_one_site", "ns", &cs, &b, 0, "info", "n/a",
		     NULL);
	bench_report("coil_yield", "ns", &y, &b, 0, "info", "n/a", NULL);
	return 0;
}
