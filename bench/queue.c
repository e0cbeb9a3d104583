/* SPDX-License-Identifier: MIT */
/*
 * bench/queue.c - coil_queue throughput: one producer task and one
 * consumer task on one runtime, capacity 1 and 1024, against the same
 * hand-off between two pthreads through a mutex + condition variable
 * bounded queue; then 4 plain threads pushing into one runtime's queue
 * (the inbox path) against 4 threads pushing into the mutex queue; then
 * Python asyncio (bench/baselines/queue_asyncio.py) and Go, if present.
 *
 * Usage: queue [ITEMS] [REPS]   (default 10000000 items, 5 reps)
 * Each figure is the median of REPS runs, coil and baseline interleaved.
 * Every run checks that every item arrived, once, in order.
 * One machine-readable line per scenario:
 *   RESULT name=queue_cap1 unit=Mitems/s coil=.. base=.. ratio=.. ...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coil.h>

#include "common.h"

/* Where queue_asyncio.py lives; meson passes the source tree's path. */
#ifndef BASELINES_DIR
#define BASELINES_DIR "bench/baselines"
#endif

#define MAX_REPS 9
#define NPUSHERS 4

static uint64_t items = 10000000;
static int reps = 5;

static uint64_t now_ns(void)
{
	return coil_now();
}

static void die(const char *what, int err)
{
	fprintf(stderr, "queue: %s: %s\n", what, coil_strerror(err));
	exit(1);
}

/* One run's phases, in nanoseconds. */
struct timing {
	uint64_t setup, run, teardown;
};

/* -------------------------------------------------- coil, task to task */

struct coil_pc {
	struct coil_queue *q;
	uint64_t n;
	uint64_t bad;  /* items out of order or missing */
};

static void *coil_producer(void *arg)
{
	struct coil_pc *pc = arg;
	uint64_t i;

	for (i = 1; i <= pc->n; i++)
		if (coil_queue_put(pc->q, (void *)(uintptr_t)i))
			die("coil_queue_put", -EIO);
	return NULL;
}

static void *coil_consumer(void *arg)
{
	struct coil_pc *pc = arg;
	uint64_t i;
	void *item;

	for (i = 1; i <= pc->n; i++) {
		if (coil_queue_get(pc->q, &item))
			die("coil_queue_get", -EIO);
		pc->bad += (uintptr_t)item != i;
	}
	return NULL;
}

struct coil_run_args {
	size_t capacity;
	uint64_t n;   /* items to pass */
	struct timing t;
};

static void *coil_pc_main(void *arg)
{
	struct coil_run_args *a = arg;
	struct coil_pc pc = { .n = a->n };
	struct coil_task *tasks[2];
	uint64_t t0 = now_ns(), t1, t2;
	int err;

	err = coil_queue_create(&pc.q, a->capacity);
	if (err)
		die("coil_queue_create", err);
	if ((err = coil_spawn(&tasks[0], coil_consumer, &pc)) ||
	    (err = coil_spawn(&tasks[1], coil_producer, &pc)))
		die("coil_spawn", err);
	t1 = now_ns();
	err = coil_gather(tasks, 2, NULL, NULL);
	t2 = now_ns();
	if (err)
		die("coil_gather", err);
	if (pc.bad || coil_queue_len(pc.q))
		die("items lost or reordered", -EIO);
	coil_queue_destroy(pc.q);
	a->t.setup = t1 - t0;
	a->t.run = t2 - t1;
	a->t.teardown = now_ns() - t2; /* completed below with coil_run's */
	return NULL;
}

static struct timing coil_pc_run(size_t capacity, uint64_t n)
{
	struct coil_run_args a = { .capacity = capacity, .n = n };
	uint64_t t0 = now_ns(), t_end;
	int err = coil_run(coil_pc_main, &a, NULL);

	t_end = now_ns();
	if (err)
		die("coil_run", err);
	/* Runtime creation counts as setup, its teardown as teardown. */
	a.t.teardown = (t_end - t0) - a.t.setup - a.t.run;
	return a.t;
}

/* ------------------------------------- baseline: mutex + condvar queue */

struct mq {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	void **buf;
	size_t cap, head, len;
};

static void mq_init(struct mq *q, size_t cap)
{
	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->not_empty, NULL);
	pthread_cond_init(&q->not_full, NULL);
	q->buf = malloc(cap * sizeof(*q->buf));
	if (!q->buf)
		die("malloc", -ENOMEM);
	q->cap = cap;
	q->head = q->len = 0;
}

static void mq_fini(struct mq *q)
{
	free(q->buf);
	pthread_cond_destroy(&q->not_full);
	pthread_cond_destroy(&q->not_empty);
	pthread_mutex_destroy(&q->lock);
}

static void mq_put(struct mq *q, void *item)
{
	pthread_mutex_lock(&q->lock);
	while (q->len == q->cap)
		pthread_cond_wait(&q->not_full, &q->lock);
	q->buf[(q->head + q->len) % q->cap] = item;
	q->len++;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

static void *mq_get(struct mq *q)
{
	void *item;

	pthread_mutex_lock(&q->lock);
	while (!q->len)
		pthread_cond_wait(&q->not_empty, &q->lock);
	item = q->buf[q->head];
	q->head = (q->head + 1) % q->cap;
	q->len--;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return item;
}

struct mq_producer {
	struct mq *q;
	uint64_t n;      /* items to put */
	uint64_t first;  /* the first item's value */
};

static void *mq_producer_main(void *arg)
{
	struct mq_producer *p = arg;
	uint64_t i;

	for (i = 0; i < p->n; i++)
		mq_put(p->q, (void *)(uintptr_t)(p->first + i));
	return NULL;
}

/*
 * @producers threads put @n items each through a mutex queue of @cap to
 * this thread. Checks the sum, and with one producer the order.
 */
static struct timing mq_run(size_t cap, int producers, uint64_t n)
{
	struct mq_producer p[NPUSHERS];
	pthread_t tid[NPUSHERS];
	uint64_t total = n * (uint64_t)producers, sum = 0, i;
	uint64_t t0 = now_ns(), t1, t2;
	struct timing t;
	struct mq q;
	int k;

	mq_init(&q, cap);
	t1 = now_ns();
	for (k = 0; k < producers; k++) {
		p[k] = (struct mq_producer){ &q, n, 1 + (uint64_t)k * n };
		if (pthread_create(&tid[k], NULL, mq_producer_main, &p[k]))
			die("pthread_create", -EAGAIN);
	}
	for (i = 1; i <= total; i++) {
		uintptr_t v = (uintptr_t)mq_get(&q);

		if (producers == 1 && v != i)
			die("baseline reordered items", -EIO);
		sum += v;
	}
	for (k = 0; k < producers; k++)
		pthread_join(tid[k], NULL);
	t2 = now_ns();
	if (sum != total * (total + 1) / 2)
		die("baseline lost items", -EIO);
	mq_fini(&q);
	t.setup = t1 - t0;
	t.run = t2 - t1;
	t.teardown = now_ns() - t2;
	return t;
}

/* ------------------------------ coil, plain threads into one runtime */

struct remote_pusher {
	struct coil_queue *q;
	uint64_t n, first;
};

static void *remote_pusher_main(void *arg)
{
	struct remote_pusher *p = arg;
	uint64_t i;
	int err;

	for (i = 0; i < p->n; i++) {
		err = coil_queue_put(p->q, (void *)(uintptr_t)(p->first + i));
		if (err)
			die("coil_queue_put from a thread", err);
	}
	return NULL;
}

struct remote_args {
	uint64_t n; /* per thread */
	struct timing t;
};

static void *remote_main(void *arg)
{
	struct remote_args *a = arg;
	struct remote_pusher p[NPUSHERS];
	pthread_t tid[NPUSHERS];
	uint64_t total = a->n * NPUSHERS, sum = 0, i;
	uint64_t t0 = now_ns(), t1, t2;
	struct coil_queue *q;
	void *item;
	int k, err;

	err = coil_queue_create(&q, 0);
	if (err)
		die("coil_queue_create", err);
	t1 = now_ns();
	for (k = 0; k < NPUSHERS; k++) {
		p[k] = (struct remote_pusher){ q, a->n, 1 + (uint64_t)k * a->n };
		if (pthread_create(&tid[k], NULL, remote_pusher_main, &p[k]))
			die("pthread_create", -EAGAIN);
	}
	for (i = 0; i < total; i++) {
		err = coil_queue_get(q, &item);
		if (err)
			die("coil_queue_get", err);
		sum += (uintptr_t)item;
	}
	t2 = now_ns();
	/* Every put was delivered; the threads are at most returning. */
	for (k = 0; k < NPUSHERS; k++)
		pthread_join(tid[k], NULL);
	if (sum != total * (total + 1) / 2)
		die("items lost", -EIO);
	coil_queue_destroy(q);
	a->t.setup = t1 - t0;
	a->t.run = t2 - t1;
	a->t.teardown = now_ns() - t2;
	return NULL;
}

static struct timing remote_run(uint64_t per_thread)
{
	struct remote_args a = { .n = per_thread };
	uint64_t t0 = now_ns();
	int err = coil_run(remote_main, &a, NULL);

	if (err)
		die("coil_run", err);
	a.t.teardown = now_ns() - t0 - a.t.setup - a.t.run;
	return a.t;
}

/* ---------------------------------------------------------- reporting */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of each phase across @n runs (phases taken apart). */
static struct timing median(struct timing *t, int n)
{
	uint64_t v[3][MAX_REPS];
	struct timing m;
	int i;

	for (i = 0; i < n; i++) {
		v[0][i] = t[i].setup;
		v[1][i] = t[i].run;
		v[2][i] = t[i].teardown;
	}
	qsort(v[0], (size_t)n, sizeof(uint64_t), cmp_u64);
	qsort(v[1], (size_t)n, sizeof(uint64_t), cmp_u64);
	qsort(v[2], (size_t)n, sizeof(uint64_t), cmp_u64);
	m.setup = v[0][n / 2];
	m.run = v[1][n / 2];
	m.teardown = v[2][n / 2];
	return m;
}

static double mitems_per_s(uint64_t n, const struct timing *t)
{
	return (double)n / ((double)t->run / 1e9) / 1e6;
}

static void print_side(const char *who, uint64_t n, const struct timing *t)
{
	printf("  %-9s %12" PRIu64 " items  %8.2f ns/item  %8.2f Mitems/s"
	       "   setup %.3f ms, teardown %.3f ms\n",
	       who, n, (double)t->run / (double)n, mitems_per_s(n, t),
	       (double)t->setup / 1e6, (double)t->teardown / 1e6);
}

/*
 * Print a figure's two sides (phases: medians of @coil and @base) and its
 * RESULT line from the per-rep rates in @cs and @bs.
 */
static void report(const char *name, uint64_t n_coil,
		   const struct timing *coil, uint64_t n_base,
		   const struct timing *base, const struct bench_side *cs,
		   const struct bench_side *bs, const char *target,
		   double target_min)
{
	double c = bench_side_median(cs), r[3];

	bench_ratio(cs, bs, 1, r);
	printf("%s\n", name);
	print_side("coil", n_coil, coil);
	print_side("baseline", n_base, base);
	printf("  ratio coil/baseline %.1fx (median of paired reps, "
	       "%.1f..%.1f)\n", r[0], r[1], r[2]);
	bench_report(name, "Mitems/s", cs, bs, 1, target,
		     target_min <= 0 ? "n/a" : bench_yes_no(c >= target_min),
		     NULL);
}

/* ---------------------------------------------------------- scenarios */

/*
 * Task to task at @cap; @cs gets coil's rate per rep (Mitems/s). The
 * mutex baseline at capacity 1 pays two futex wake-ups per item
 * (microseconds each): it runs fewer items, reported.
 */
static void scenario_local(const char *name, size_t cap,
			   const char *target, double target_min,
			   struct bench_side *cs)
{
	struct timing c[MAX_REPS], b[MAX_REPS], mc, mb;
	struct bench_side bs = { .n = 0 };
	uint64_t n_base = cap == 1 && items > 100000 ? 100000 : items;
	int r;

	for (r = 0; r < reps; r++) {
		bench_count_begin(cs);
		c[r] = coil_pc_run(cap, items);
		bench_count_end(cs, items);
		bench_count_begin(&bs);
		b[r] = mq_run(cap, 1, n_base);
		bench_count_end(&bs, n_base);
		bench_add(cs, mitems_per_s(items, &c[r]));
		bench_add(&bs, mitems_per_s(n_base, &b[r]));
	}
	mc = median(c, reps);
	mb = median(b, reps);
	report(name, items, &mc, n_base, &mb, cs, &bs, target, target_min);
}

static void scenario_remote(void)
{
	struct timing c[MAX_REPS], b[MAX_REPS], mc, mb;
	struct bench_side cs = { .n = 0 }, bs = { .n = 0 };
	uint64_t per = items / 5 / NPUSHERS; /* each remote put mallocs */
	int r;

	if (!per)
		per = 1;
	for (r = 0; r < reps; r++) {
		bench_count_begin(&cs);
		c[r] = remote_run(per);
		bench_count_end(&cs, per * NPUSHERS);
		bench_count_begin(&bs);
		b[r] = mq_run(1024, NPUSHERS, per);
		bench_count_end(&bs, per * NPUSHERS);
		bench_add(&cs, mitems_per_s(per * NPUSHERS, &c[r]));
		bench_add(&bs, mitems_per_s(per * NPUSHERS, &b[r]));
	}
	mc = median(c, reps);
	mb = median(b, reps);
	printf("(%d plain threads -> one consumer; coil: unbounded queue, "
	       "baseline: mutex queue of 1024)\n", NPUSHERS);
	report("queue_remote4", per * NPUSHERS, &mc, per * NPUSHERS, &mb,
	       &cs, &bs, "none", 0);
}

/* The baselines' directory: COIL_BENCH_BASELINES overrides the built-in. */
static const char *baselines_dir(void)
{
	const char *dir = getenv("COIL_BENCH_BASELINES");

	return dir ? dir : BASELINES_DIR;
}

/*
 * Run a baseline command that prints "RESULT name=N unit=items/s value=V"
 * lines; values[i] gets the value named names[i] (0 when missing).
 */
static void run_baseline(const char *cmd, const char *const *names,
			 double *values, int n)
{
	char line[256], name[64];
	double v;
	FILE *f;
	int i;

	for (i = 0; i < n; i++)
		values[i] = 0;
	f = popen(cmd, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "RESULT name=%63s unit=items/s value=%lf",
			   name, &v) != 2)
			continue;
		for (i = 0; i < n; i++) {
			if (!strcmp(name, names[i]))
				values[i] = v;
		}
	}
	pclose(f);
}

/* Run the asyncio baseline; fills the rates (items/s), 0 when skipped. */
static void run_asyncio(uint64_t n, double *cap1, double *unbounded)
{
	static const char *const names[] = { "asyncio_cap1",
					     "asyncio_unbounded" };
	double v[2];
	char cmd[512];

	snprintf(cmd, sizeof(cmd),
		 "python3 %s/queue_asyncio.py %" PRIu64 " 3 2>/dev/null",
		 baselines_dir(), n);
	run_baseline(cmd, names, v, 2);
	*cap1 = v[0];
	*unbounded = v[1];
}

static void scenario_asyncio(const struct bench_side *cap1)
{
	uint64_t n = items < 200000 ? items : 200000;
	struct bench_side cu = { .n = 0 }, py = { .n = 0 }, b1, bu;
	struct timing c;
	double a1, au, coil_cap1 = bench_side_median(cap1), coil_unbounded;
	int r;

	/*
	 * coil with an unbounded queue too, to match asyncio's maxsize=0, and
	 * with asyncio's item count: the producer never waits on an unbounded
	 * queue, so all n items are queued at once, and at 10M that is 80 MB
	 * of buffer faulted in per rep (several ns per item on a VM, and
	 * varying with the host) where asyncio's 200k reuse theirs.
	 */
	for (r = 0; r < reps; r++) {
		bench_count_begin(&cu);
		c = coil_pc_run(0, n);
		bench_count_end(&cu, n);
		bench_add(&cu, mitems_per_s(n, &c));
	}
	coil_unbounded = bench_side_median(&cu);

	/* Two scenarios of three reps each in one python3 process. */
	bench_count_begin(&py);
	run_asyncio(n, &a1, &au);
	bench_count_end(&py, 6 * n);
	b1 = bench_side_one(a1 / 1e6, &py);
	bu = bench_side_one(au / 1e6, &py);
	if (!a1 || !au) {
		printf("asyncio: skipped (python3 or %s/queue_asyncio.py "
		       "not found; set COIL_BENCH_BASELINES)\n", BASELINES_DIR);
		return;
	}
	printf("asyncio (%" PRIu64 " items, median of 3; coil unbounded with "
	       "as many, median of %d)\n", n, reps);
	printf("  cap 1      %8.3f Mitems/s; coil %.2f: %.0fx\n", a1 / 1e6,
	       coil_cap1, coil_cap1 * 1e6 / a1);
	printf("  unbounded  %8.3f Mitems/s; coil %.2f: %.0fx\n",
	       au / 1e6, coil_unbounded, coil_unbounded * 1e6 / au);
	bench_report("queue_vs_asyncio_cap1", "Mitems/s", cap1, &b1, 1,
		     ">=50x", bench_yes_no(coil_cap1 * 1e6 / a1 >= 50), NULL);
	bench_report("queue_vs_asyncio_unbounded", "Mitems/s", &cu, &bu, 1,
		     ">=50x", bench_yes_no(coil_unbounded * 1e6 / au >= 50),
		     NULL);
}

/* Run bench/baselines/queue_chan.go; fills rates (items/s), 0 if not. */
static void run_go(uint64_t n, double *unbuf, double *c1, double *c1024)
{
	static const char *const names[] = { "go_cap0", "go_cap1",
					     "go_cap1024" };
	double v[3];
	char cmd[1024];

	/*
	 * GOMAXPROCS=1: one thread, as coil's queue runs on one. With every
	 * CPU Go's hand-offs cross CPUs and measured 20-35% slower here: the
	 * comparison would flatter coil.
	 */
	snprintf(cmd, sizeof(cmd), "GOMAXPROCS=1 go run %s/queue_chan.go %"
		 PRIu64 " 2>/dev/null", baselines_dir(), n);
	run_baseline(cmd, names, v, 3);
	*unbuf = v[0];
	*c1 = v[1];
	*c1024 = v[2];
}

/* @go: the Go channel's rate, items/s; go run's compile is not counted. */
static void go_line(const char *name, const struct bench_side *coil,
		    double go)
{
	struct bench_side g = bench_side_one(go / 1e6, NULL);
	double c = bench_side_median(coil);

	bench_report(name, "Mitems/s", coil, &g, 1, ">=1x",
		     bench_yes_no(c * 1e6 >= go), NULL);
}

static void scenario_go(const struct bench_side *cap1,
			const struct bench_side *cap1024)
{
	double unbuf = 0, c1 = 0, c1024 = 0;
	double coil_cap1 = bench_side_median(cap1);
	double coil_cap1024 = bench_side_median(cap1024);

	if (system("command -v go >/dev/null 2>&1") != 0) {
		printf("go: skipped (no go toolchain; apt-get install "
		       "golang-go to compare with Go channels)\n");
		return;
	}
	run_go(items, &unbuf, &c1, &c1024);
	if (!unbuf || !c1 || !c1024) {
		printf("go: baseline failed to run: skipped\n");
		return;
	}
	printf("go channels (%" PRIu64 " items, GOMAXPROCS=1: one thread, "
	       "as coil)\n", items);
	printf("  unbuffered %8.2f Mitems/s; coil cap 1 %.2f: %.1fx\n",
	       unbuf / 1e6, coil_cap1, coil_cap1 * 1e6 / unbuf);
	printf("  cap 1      %8.2f Mitems/s; coil cap 1 %.2f: %.1fx\n",
	       c1 / 1e6, coil_cap1, coil_cap1 * 1e6 / c1);
	printf("  cap 1024   %8.2f Mitems/s; coil %.2f: %.1fx\n",
	       c1024 / 1e6, coil_cap1024, coil_cap1024 * 1e6 / c1024);
	go_line("queue_vs_go_unbuffered", cap1, unbuf);
	go_line("queue_vs_go_cap1", cap1, c1);
	go_line("queue_vs_go_cap1024", cap1024, c1024);
}

int main(int argc, char **argv)
{
	struct bench_side cap1 = { .n = 0 }, cap1024 = { .n = 0 };

	if (argc > 1)
		items = bench_parse_count("queue", argv[1], 1ull << 40);
	if (argc > 2)
		reps = (int)bench_parse_count("queue", argv[2], MAX_REPS);
	if (reps < 1 || reps > MAX_REPS) {
		fprintf(stderr, "usage: queue [ITEMS] [REPS <= %d]\n",
			MAX_REPS);
		return 2;
	}
	printf("queue: 1 producer -> 1 consumer, median of %d interleaved "
	       "runs; baseline: 2 pthreads, mutex + condvar queue\n", reps);
	scenario_local("queue_cap1", 1, ">=30", 30, &cap1);
	scenario_local("queue_cap1024", 1024, ">=80", 80, &cap1024);
	scenario_remote();
	scenario_asyncio(&cap1);
	scenario_go(&cap1, &cap1024);
	return 0;
}
