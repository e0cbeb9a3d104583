/* SPDX-License-Identifier: MIT */
/*
 * bench/nop.c - the cost of an op round trip: IORING_OP_NOP through coil's
 * op path (a task takes an SQE, suspends, is woken by its CQE) against a
 * hand-written liburing loop that does the same work with nothing around
 * it.
 *
 * coil:     B tasks, each looping { coil__op_prep, io_uring_prep_nop,
 *           coil__op_wait }: every scheduler turn queues B NOPs and hands
 *           them to the kernel in one io_uring_enter.
 * baseline: one loop { B x io_uring_get_sqe + prep_nop;
 *           io_uring_submit_and_wait(B); io_uring_for_each_cqe;
 *           io_uring_cq_advance }, on a ring with the flags and sizes
 *           coil's ring runs with (read from coil_stats), the ring fd
 *           registered as coil registers it.
 * coil has no public NOP: this uses the internal op API (runtime/
 * internal.h), linked from the static library.
 *
 * Usage: nop [OPS] [REPS]
 *   OPS   NOPs per batch size, side and rep (default 1M; k/M suffixes)
 *   REPS  repetitions, median reported (default 5)
 * Reports ops/s, io_uring_enter calls per op (coil: coil_stats.enter_calls;
 * baseline: counted) and the ratio. Every NOP's CQE is checked (res 0) and
 * counted; the counts must equal OPS.
 */
#define _GNU_SOURCE
#include <sys/resource.h>

#include <coil.h>

#include "internal.h"
#include "common.h"

#define PROG "nop"
#define MAX_B 256

static const unsigned batch_sizes[] = { 1, 16, 64, 256 };
#define NBATCH (sizeof(batch_sizes) / sizeof(batch_sizes[0]))

static uint64_t nops = 1000000;
static int reps = 5;

/* What coil's ring looks like; the baseline copies it. */
static struct coil_stats ring_desc;

struct sample {
	double ops_per_s;
	double enters_per_op;
	double setup_ns, teardown_ns;
	double user_ns, sys_ns; /* CPU time per op, from getrusage */
};

/* This thread's user and system CPU time, ns. */
static void cpu_times(uint64_t *user, uint64_t *sys)
{
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) != 0)
		bench_die(PROG, "getrusage", errno);
	*user = (uint64_t)ru.ru_utime.tv_sec * 1000000000ull +
		(uint64_t)ru.ru_utime.tv_usec * 1000ull;
	*sys = (uint64_t)ru.ru_stime.tv_sec * 1000000000ull +
	       (uint64_t)ru.ru_stime.tv_usec * 1000ull;
}

/* --------------------------------------------------------------- coil */

struct coil_side {
	unsigned b;           /* tasks */
	uint64_t per_task;    /* NOPs each */
	uint64_t done;        /* NOPs completed with res 0 */
	int err;              /* first bad result */
	uint64_t t_in, t_out; /* main entered / about to return */
	uint64_t run_ns, enters;
	uint64_t user_ns, sys_ns;
};

static void *nop_task(void *p)
{
	struct coil_side *s = p;
	struct io_uring_sqe *sqe;
	struct coil__op op;
	uint64_t i;
	int res;

	for (i = 0; i < s->per_task; i++) {
		sqe = coil__op_prep(&op, -1, "nop");
		if (!sqe) {
			s->err = op.res;
			return NULL;
		}
		io_uring_prep_nop(sqe);
		res = coil__op_wait(&op, sqe);
		if (res != 0) {
			s->err = res ? res : -EIO;
			return NULL;
		}
		s->done++;
	}
	return NULL;
}

static void *coil_side_main(void *p)
{
	struct coil_side *s = p;
	struct coil_task *t[MAX_B];
	struct coil_stats s0, s1;
	uint64_t t0, u0, u1, k0, k1;
	unsigned i;
	int err;

	s->t_in = bench_now();
	if ((err = coil_stats_get(&s0)) != 0)
		bench_die(PROG, "coil_stats_get", err);
	ring_desc = s0;
	cpu_times(&u0, &k0);
	t0 = bench_now();
	for (i = 0; i < s->b; i++) {
		if ((err = coil_spawn(&t[i], nop_task, s)) != 0)
			bench_die(PROG, "coil_spawn", err);
	}
	if ((err = coil_gather(t, s->b, NULL, NULL)) != 0)
		bench_die(PROG, "coil_gather", err);
	s->run_ns = bench_now() - t0;
	cpu_times(&u1, &k1);
	s->user_ns = u1 - u0;
	s->sys_ns = k1 - k0;
	if ((err = coil_stats_get(&s1)) != 0)
		bench_die(PROG, "coil_stats_get", err);
	s->enters = s1.enter_calls - s0.enter_calls;
	s->t_out = bench_now();
	return NULL;
}

static struct sample coil_side_run(unsigned b, uint64_t n)
{
	struct coil_side s = { .b = b, .per_task = n / b };
	struct sample sm;
	uint64_t t0, t1, want = s.per_task * b;
	int err;

	t0 = bench_now();
	err = coil_run(coil_side_main, &s, NULL);
	t1 = bench_now();
	if (err)
		bench_die(PROG, "coil_run", err);
	if (s.err || s.done != want) {
		fprintf(stderr, PROG ": coil B=%u: %" PRIu64 " of %" PRIu64
			" NOPs completed (error %d)\n", b, s.done, want, s.err);
		exit(1);
	}
	sm.ops_per_s = (double)want / ((double)s.run_ns / 1e9);
	sm.enters_per_op = (double)s.enters / (double)want;
	sm.user_ns = (double)s.user_ns / (double)want;
	sm.sys_ns = (double)s.sys_ns / (double)want;
	sm.setup_ns = (double)(s.t_in - t0);
	sm.teardown_ns = (double)(t1 - s.t_out);
	return sm;
}

/* ------------------------------------------------------- raw liburing */

static int raw_ring_init(struct io_uring *ring)
{
	struct io_uring_params p;
	int ret;

	memset(&p, 0, sizeof(p));
	p.flags = ring_desc.ring_flags;
	p.cq_entries = ring_desc.cq_entries;
	ret = io_uring_queue_init_params(ring_desc.sq_entries, ring, &p);
	if (ret < 0)
		return ret;
	ret = io_uring_register_ring_fd(ring);
	if (ret < 0 && ret != -EINVAL) {
		io_uring_queue_exit(ring);
		return ret;
	}
	return 0;
}

/* Reap every CQE there is; returns how many, or -1 on a bad one. */
static int raw_reap(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;
	int bad = 0;

	io_uring_for_each_cqe(ring, head, cqe) {
		if (cqe->res != 0 || cqe->user_data == 0)
			bad = 1;
		n++;
	}
	io_uring_cq_advance(ring, n);
	return bad ? -1 : (int)n;
}

static struct sample raw_side_run(unsigned b, uint64_t n)
{
	struct io_uring ring;
	struct io_uring_sqe *sqe;
	uint64_t rounds = n / b, r, done = 0, enters = 0, t0, t1, t2, t3;
	uint64_t u0, u1, k0, k1;
	unsigned i, got;
	struct sample sm;
	int ret;

	t0 = bench_now();
	if ((ret = raw_ring_init(&ring)) != 0)
		bench_die(PROG, "io_uring_queue_init_params", ret);
	cpu_times(&u0, &k0);
	t1 = bench_now();
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < b; i++) {
			sqe = io_uring_get_sqe(&ring);
			if (!sqe)
				bench_die(PROG, "io_uring_get_sqe", EBUSY);
			io_uring_prep_nop(sqe);
			io_uring_sqe_set_data64(sqe, i + 1);
		}
		enters++;
		ret = io_uring_submit_and_wait(&ring, b);
		if (ret != (int)b)
			bench_die(PROG, "io_uring_submit_and_wait",
				  ret < 0 ? ret : -EIO);
		for (got = 0;;) {
			ret = raw_reap(&ring);
			if (ret < 0)
				bench_die(PROG, "NOP CQE", EIO);
			got += (unsigned)ret;
			if (got >= b)
				break;
			enters++; /* not expected: NOPs complete inline */
			ret = io_uring_submit_and_wait(&ring, b - got);
			if (ret < 0)
				bench_die(PROG, "io_uring_submit_and_wait",
					  ret);
		}
		done += got;
	}
	t2 = bench_now();
	cpu_times(&u1, &k1);
	io_uring_queue_exit(&ring);
	t3 = bench_now();
	if (done != rounds * b) {
		fprintf(stderr, PROG ": raw B=%u: %" PRIu64 " of %" PRIu64
			" NOPs completed\n", b, done, rounds * b);
		exit(1);
	}
	sm.ops_per_s = (double)done / ((double)(t2 - t1) / 1e9);
	sm.enters_per_op = (double)enters / (double)done;
	sm.user_ns = (double)(u1 - u0) / (double)done;
	sm.sys_ns = (double)(k1 - k0) / (double)done;
	sm.setup_ns = (double)(t1 - t0);
	sm.teardown_ns = (double)(t3 - t2);
	return sm;
}

/* ------------------------------------------------------------- main */

static void one_batch_size(unsigned b)
{
	struct bench_side c = { .n = 0 }, r = { .n = 0 };
	double ce[BENCH_MAX_REPS], re[BENCH_MAX_REPS];
	double cs[BENCH_MAX_REPS], rs[BENCH_MAX_REPS];
	double cu[BENCH_MAX_REPS], ck[BENCH_MAX_REPS];
	double ru[BENCH_MAX_REPS], rk[BENCH_MAX_REPS];
	double mc, mr, mce, mre, ratio[3];
	struct sample sc, sr;
	char name[32], extra[96];
	int k;

	for (k = 0; k < reps; k++) {
		bench_count_begin(&c);
		sc = coil_side_run(b, nops);
		bench_count_end(&c, nops / b * b);
		bench_count_begin(&r);
		sr = raw_side_run(b, nops);
		bench_count_end(&r, nops / b * b);
		bench_add(&c, sc.ops_per_s / 1e6);
		bench_add(&r, sr.ops_per_s / 1e6);
		ce[k] = sc.enters_per_op;
		re[k] = sr.enters_per_op;
		cs[k] = sc.setup_ns + sc.teardown_ns;
		rs[k] = sr.setup_ns + sr.teardown_ns;
		cu[k] = sc.user_ns;
		ck[k] = sc.sys_ns;
		ru[k] = sr.user_ns;
		rk[k] = sr.sys_ns;
	}
	mc = bench_side_median(&c);
	mr = bench_side_median(&r);
	mce = bench_median(ce, reps);
	mre = bench_median(re, reps);
	/* Each coil rep ran next to its raw rep: the median of those
	 * paired ratios shrugs off the VM's slow phases better than a
	 * ratio of medians. */
	bench_ratio(&c, &r, 1, ratio);
	printf("B=%u NOPs in flight (%" PRIu64 " NOPs)\n", b,
	       nops / b * b);
	printf("  coil  %8.3f Mops/s %8.1f ns/op  %.4f enters/op  CPU "
	       "user %.0f + sys %.0f ns/op  (setup+teardown %.3f ms)\n",
	       mc, 1e3 / mc, mce, bench_median(cu, reps),
	       bench_median(ck, reps), bench_median(cs, reps) / 1e6);
	printf("  raw   %8.3f Mops/s %8.1f ns/op  %.4f enters/op  CPU "
	       "user %.0f + sys %.0f ns/op  (setup+teardown %.3f ms)\n",
	       mr, 1e3 / mr, mre, bench_median(ru, reps),
	       bench_median(rk, reps), bench_median(rs, reps) / 1e6);
	printf("  ratio coil/raw %.2f (median of paired reps, %.2f..%.2f; "
	       "of medians %.2f)\n", ratio[0], ratio[1], ratio[2], mc / mr);
	snprintf(name, sizeof(name), "nop_b%u", b);
	snprintf(extra, sizeof(extra), "coil_enters_per_op=%.4f "
		 "base_enters_per_op=%.4f", mce, mre);
	bench_report(name, "Mops/s", &c, &r, 1, "ratio>=0.8",
		     bench_yes_no(ratio[0] >= 0.8), extra);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc > 1)
		nops = bench_parse_count(PROG, argv[1], 1ull << 34);
	if (argc > 2)
		reps = (int)bench_parse_count(PROG, argv[2], BENCH_MAX_REPS);
	if (nops < MAX_B)
		nops = MAX_B;
	/* A first, short coil run: warms up and tells us the ring's shape. */
	coil_side_run(1, 1000);
	printf(PROG ": IORING_OP_NOP round trips; median of %d, coil and "
	       "raw liburing interleaved\n", reps);
	printf("  ring flags 0x%x (SINGLE_ISSUER %d, DEFER_TASKRUN %d, "
	       "TASKRUN_FLAG %d, SUBMIT_ALL %d, CQSIZE %d), SQ %u, CQ %u\n",
	       ring_desc.ring_flags,
	       !!(ring_desc.ring_flags & IORING_SETUP_SINGLE_ISSUER),
	       !!(ring_desc.ring_flags & IORING_SETUP_DEFER_TASKRUN),
	       !!(ring_desc.ring_flags & IORING_SETUP_TASKRUN_FLAG),
	       !!(ring_desc.ring_flags & IORING_SETUP_SUBMIT_ALL),
	       !!(ring_desc.ring_flags & IORING_SETUP_CQSIZE),
	       ring_desc.sq_entries, ring_desc.cq_entries);
	printf("INFO ring_flags=0x%x sq_entries=%u cq_entries=%u\n",
	       ring_desc.ring_flags, ring_desc.sq_entries,
	       ring_desc.cq_entries);
	for (i = 0; i < NBATCH; i++)
		one_batch_size(batch_sizes[i]);
	printf("  check: every NOP completed once with res 0: ok\n");
	return 0;
}
