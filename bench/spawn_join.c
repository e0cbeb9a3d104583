/* SPDX-License-Identifier: MIT */
/*
 * bench/spawn_join.c - the cost of a short task: spawn + join of N tasks
 * whose function returns at once, through the public API, in two shapes:
 *   batch - spawn BATCH tasks, then join them in order; repeat;
 *   one   - spawn one task, join it; repeat.
 * Baseline: pthread_create + pthread_join of fewer threads (they cost
 * microseconds each) in the same two shapes; figures are per task.
 *
 * Usage: spawn_join [N] [REPS] [BASE_N]
 *   N       coil tasks per rep and shape (default 1M; k/M suffixes)
 *   REPS    repetitions, median reported (default 5)
 *   BASE_N  pthreads per rep and shape (default 20k)
 * Setup (coil_run until main runs) and teardown (main returned until
 * coil_run returns) are reported apart from the run. Every task returns
 * its sequence number; the joined results must sum to N(N+1)/2.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include <coil.h>

#include "common.h"

#define PROG "spawn_join"
#define BATCH 1000

static uint64_t ntasks = 1000000;
static uint64_t nbase = 20000;
static int reps = 5;

static void *task_fn(void *arg)
{
	return arg;
}

/* --------------------------------------------------------------- coil */

struct coil_side {
	int batched;       /* shape: batch or one at a time */
	uint64_t n;
	uint64_t sum;      /* of joined results */
	uint64_t spawned;  /* tasks_spawned during the run */
	uint64_t t_main_in, t_main_out;
	uint64_t run_ns;
	uint64_t first_batch_ns; /* the first BATCH tasks (cold stacks) */
};

static void *coil_side_main(void *p)
{
	struct coil_side *s = p;
	struct coil_task *h[BATCH];
	struct coil_stats s0, s1;
	uint64_t done = 0, i, k, t0, t1;
	void *res;
	int err;

	s->t_main_in = bench_now();
	if ((err = coil_stats_get(&s0)) != 0)
		bench_die(PROG, "coil_stats_get", err);
	t0 = bench_now();
	while (done < s->n) {
		k = s->batched ? s->n - done : 1;
		if (k > BATCH)
			k = BATCH;
		for (i = 0; i < k; i++) {
			err = coil_spawn(&h[i], task_fn,
					 (void *)(uintptr_t)(done + i + 1));
			if (err)
				bench_die(PROG, "coil_spawn", err);
		}
		for (i = 0; i < k; i++) {
			if ((err = coil_join(h[i], &res)) != 0)
				bench_die(PROG, "coil_join", err);
			s->sum += (uintptr_t)res;
		}
		done += k;
		if (!s->first_batch_ns && (done >= BATCH || done == s->n))
			s->first_batch_ns = bench_now() - t0;
	}
	t1 = bench_now();
	if ((err = coil_stats_get(&s1)) != 0)
		bench_die(PROG, "coil_stats_get", err);
	s->run_ns = t1 - t0;
	s->spawned = s1.tasks_spawned - s0.tasks_spawned;
	s->t_main_out = bench_now();
	return NULL;
}

struct phases {
	double setup, run, teardown; /* ns; run per task */
	double first_batch;          /* ns per task, first 1000 */
};

static struct phases coil_side_run(int batched, uint64_t n)
{
	struct coil_side s = { .batched = batched, .n = n };
	struct phases ph;
	uint64_t t0, t1;
	int err;

	t0 = bench_now();
	err = coil_run(coil_side_main, &s, NULL);
	t1 = bench_now();
	if (err)
		bench_die(PROG, "coil_run", err);
	if (s.sum != n * (n + 1) / 2 || s.spawned != n) {
		fprintf(stderr, PROG ": coil: joined sum %" PRIu64 " (want %"
			PRIu64 "), spawned %" PRIu64 " of %" PRIu64 "\n",
			s.sum, n * (n + 1) / 2, s.spawned, n);
		exit(1);
	}
	ph.setup = (double)(s.t_main_in - t0);
	ph.run = (double)s.run_ns / (double)n;
	ph.teardown = (double)(t1 - s.t_main_out);
	ph.first_batch = (double)s.first_batch_ns /
			 (double)(n < BATCH ? n : BATCH);
	return ph;
}

/* ----------------------------------------------------------- pthreads */

#define PT_BATCH 100 /* threads alive at once in the batch shape */

static double pthread_side_run(int batched, uint64_t n)
{
	pthread_t tid[PT_BATCH];
	uint64_t done = 0, sum = 0, i, k, t0, t1;
	void *res;
	int err;

	t0 = bench_now();
	while (done < n) {
		k = batched ? n - done : 1;
		if (k > PT_BATCH)
			k = PT_BATCH;
		for (i = 0; i < k; i++) {
			err = pthread_create(&tid[i], NULL, task_fn,
					     (void *)(uintptr_t)(done + i + 1));
			if (err)
				bench_die(PROG, "pthread_create", err);
		}
		for (i = 0; i < k; i++) {
			if ((err = pthread_join(tid[i], &res)) != 0)
				bench_die(PROG, "pthread_join", err);
			sum += (uintptr_t)res;
		}
		done += k;
	}
	t1 = bench_now();
	if (sum != n * (n + 1) / 2) {
		fprintf(stderr, PROG ": pthread: joined sum %" PRIu64
			" (want %" PRIu64 ")\n", sum, n * (n + 1) / 2);
		exit(1);
	}
	return (double)(t1 - t0) / (double)n;
}

/* ------------------------------------------------------------- main */

static void shape(int batched)
{
	double setup[BENCH_MAX_REPS], tear[BENCH_MAX_REPS];
	double first[BENCH_MAX_REPS], mc, mb;
	struct bench_side run = { .n = 0 }, base = { .n = 0 };
	struct phases ph;
	int r;

	for (r = 0; r < reps; r++) {
		bench_count_begin(&run);
		ph = coil_side_run(batched, ntasks);
		bench_count_end(&run, ntasks);
		bench_add(&run, ph.run);
		setup[r] = ph.setup;
		tear[r] = ph.teardown;
		first[r] = ph.first_batch;
		bench_count_begin(&base);
		bench_add(&base, pthread_side_run(batched, nbase));
		bench_count_end(&base, nbase);
	}
	mc = bench_side_median(&run);
	mb = bench_side_median(&base);
	if (batched)
		printf("batch: spawn %d, join them in order, repeat\n", BATCH);
	else
		printf("one: spawn one, join it, repeat\n");
	printf("  coil      %8" PRIu64 " tasks %10.1f ns/task  (setup %.3f "
	       "ms, teardown %.3f ms; first %d tasks, cold stacks: %.1f "
	       "ns/task)\n", ntasks, mc, bench_median(setup, reps) / 1e6,
	       bench_median(tear, reps) / 1e6, BATCH,
	       bench_median(first, reps));
	printf("  pthread   %8" PRIu64 " tasks %10.1f ns/task  (%d "
	       "threads alive at once)\n", nbase, mb,
	       batched ? PT_BATCH : 1);
	printf("  ratio     %.1fx faster; coil %.2f Mtasks/s\n", mb / mc,
	       1e3 / mc);
	bench_report(batched ? "spawn_join_batch" : "spawn_join_one",
		     "ns/task", &run, &base, 0, "coil<=100ns",
		     bench_yes_no(mc <= 100.0), NULL);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		ntasks = bench_parse_count(PROG, argv[1], 1ull << 32);
	if (argc > 2)
		reps = (int)bench_parse_count(PROG, argv[2], BENCH_MAX_REPS);
	if (argc > 3)
		nbase = bench_parse_count(PROG, argv[3], 10000000);
	printf(PROG ": spawn + join of tasks that return at once; median "
	       "of %d, coil and pthreads interleaved\n", reps);
	shape(1);
	shape(0);
	printf("  check: every task ran once and its result was joined: "
	       "ok\n");
	return 0;
}
