/* SPDX-License-Identifier: MIT */
/*
 * bench/sleepers.c - a million coroutines asleep at once: main spawns N
 * tasks that each sleep one second, then gathers them (asyncio's
 * gather(*[create_task(sleep(1)) ...]) pattern). Reports spawn time, total
 * wall time (the sleep included), peak RSS per coroutine, and proves every
 * task was asleep at the same moment.
 *
 * Each timer mode runs in a child process of its own (this program run
 * again with --child), so that peak RSS is measured per mode:
 *   heap          coil's default: a timer heap, no SQE per sleep;
 *   per_op        COIL_TIMER_PER_OP: one IORING_OP_TIMEOUT per sleep;
 *   heap_noguard  the default with COIL_OPT_NO_GUARD_PAGES.
 * Baseline: bench/baselines/sleepers.py, the same pattern in asyncio, run
 * by python3 as a subprocess.
 * The floor: how long first-touching N fresh 4 KiB pages takes on this
 * machine, since each sleeping coroutine needs one stack page.
 *
 * Usage: sleepers [N] [--quick] [--python-n M] [--no-python]
 *   N            coroutines (default 1M; k/M suffixes)
 *   --quick      N = 100k (coil and asyncio) unless N is given
 *   --python-n M asyncio runs M coroutines (default: N)
 *   --no-python  skip the asyncio baseline
 * Checks at the end: in every mode all N tasks were asleep at once (a
 * counter raised before coil_sleep and lowered after it reached N, and
 * coil_stats.tasks_live was N + 1 while they slept), every sleep returned
 * 0 after at least a second, and gather returned 0.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <coil.h>

#include "common.h"

#define PROG "sleepers"
#define SLEEP_NS 1000000000ull
#define CHILD_TIME_LIMIT_S 120
#define PYTHON_TIME_LIMIT_S 300
#define WALL_TARGET_S 1.5
#define RSS_TARGET_B 5120.0

/* Where sleepers.py lives; meson passes the source tree's path. */
#ifndef BASELINES_DIR
#define BASELINES_DIR "bench/baselines"
#endif

/* ---------------------------------------------------- /proc and RSS */

/* ------------------------------------------------------- the child */

enum mode { MODE_HEAP, MODE_PER_OP, MODE_HEAP_NOGUARD, NMODES };

static const char *const mode_names[NMODES] = {
	"heap", "per_op", "heap_noguard",
};

static volatile uint64_t asleep, asleep_max, woke, bad_sleeps;

static void *sleeper(void *arg)
{
	uint64_t t0 = coil_now();
	int err;

	(void)arg;
	if (++asleep > asleep_max)
		asleep_max = asleep;
	err = coil_sleep(SLEEP_NS);
	asleep--;
	if (err || coil_now() - t0 < SLEEP_NS) {
		bad_sleeps++;
		return NULL;
	}
	woke++;
	return (void *)1;
}

struct child {
	uint64_t n;
	uint64_t t_main_in, t_spawned, t_all_asleep, t_gathered, t_main_out;
	struct coil_stats at_sleep, at_end;
	long rss_asleep_kb, pte_asleep_kb;
	uint64_t asleep_seen; /* the counter, read by main while all sleep */
};

static void *child_main(void *p)
{
	struct child *c = p;
	struct coil_task **tasks;
	uint64_t i;
	int err;

	c->t_main_in = bench_now();
	tasks = malloc(c->n * sizeof(*tasks));
	if (!tasks)
		bench_die(PROG, "malloc", ENOMEM);
	for (i = 0; i < c->n; i++) {
		if ((err = coil_spawn(&tasks[i], sleeper, NULL)) != 0)
			bench_die(PROG, "coil_spawn", err);
	}
	c->t_spawned = bench_now();
	/* Main goes to the back of the run queue: every sleeper runs first. */
	if ((err = coil_yield()) != 0)
		bench_die(PROG, "coil_yield", err);
	c->t_all_asleep = bench_now();
	c->asleep_seen = asleep;
	if ((err = coil_stats_get(&c->at_sleep)) != 0)
		bench_die(PROG, "coil_stats_get", err);
	c->rss_asleep_kb = bench_status_kb("VmRSS");
	c->pte_asleep_kb = bench_status_kb("VmPTE");
	if ((err = coil_gather(tasks, c->n, NULL, NULL)) != 0)
		bench_die(PROG, "coil_gather", err);
	c->t_gathered = bench_now();
	if ((err = coil_stats_get(&c->at_end)) != 0)
		bench_die(PROG, "coil_stats_get", err);
	free(tasks);
	c->t_main_out = bench_now();
	return NULL;
}

/* Runs one mode and prints one CHILD line for the parent to parse. */
static int child(enum mode m, uint64_t n)
{
	struct coil_options o;
	struct child c = { .n = n };
	struct rusage ru;
	long rss0 = bench_status_kb("VmRSS"), hwm;
	uint64_t t0, t1;
	int err;

	alarm(CHILD_TIME_LIMIT_S);
	coil_options_init(&o);
	if (m == MODE_PER_OP)
		o.timer_mode = COIL_TIMER_PER_OP;
	if (m == MODE_HEAP_NOGUARD)
		o.flags |= COIL_OPT_NO_GUARD_PAGES;
	t0 = bench_now();
	err = coil_run_opts(&o, child_main, &c, NULL);
	t1 = bench_now();
	if (err)
		bench_die(PROG, "coil_run_opts", err);
	hwm = bench_status_kb("VmHWM");
	if (getrusage(RUSAGE_SELF, &ru) != 0)
		bench_die(PROG, "getrusage", errno);
	printf("CHILD mode=%s n=%" PRIu64 " setup_ns=%" PRIu64
	       " spawn_ns=%" PRIu64 " asleep_ns=%" PRIu64 " wall_ns=%"
	       PRIu64 " woken_ns=%" PRIu64 " teardown_ns=%" PRIu64
	       " rss0_kb=%ld rss_asleep_kb=%ld pte_kb=%ld hwm_kb=%ld"
	       " maxrss_kb=%ld asleep_max=%" PRIu64 " asleep_seen=%" PRIu64
	       " tasks_live=%" PRIu64 " woke=%" PRIu64 " bad=%" PRIu64
	       " guard=%d stack_virt=%" PRIu64 " enters=%" PRIu64
	       " sqes=%" PRIu64 " cqes=%" PRIu64 " sq_full=%" PRIu64
	       " cq_overflows=%" PRIu64 "\n",
	       mode_names[m], n, c.t_main_in - t0, c.t_spawned - c.t_main_in,
	       c.t_all_asleep - c.t_spawned, t1 - t0, c.t_gathered - t0,
	       t1 - c.t_main_out, rss0, c.rss_asleep_kb, c.pte_asleep_kb,
	       hwm, ru.ru_maxrss, (uint64_t)asleep_max, c.asleep_seen,
	       c.at_sleep.tasks_live, (uint64_t)woke, (uint64_t)bad_sleeps,
	       c.at_sleep.guard_pages, c.at_sleep.stack_bytes_mapped,
	       c.at_end.enter_calls, c.at_end.sqes_submitted,
	       c.at_end.cqes_reaped, c.at_end.sq_full_retries,
	       c.at_end.cq_overflows);
	return 0;
}

/* --------------------------------------------------------- the parent */

struct mode_result {
	int ok;
	uint64_t n;
	double setup, spawn, asleep, wall, woken, teardown; /* seconds */
	long rss0_kb, rss_asleep_kb, pte_kb, hwm_kb, maxrss_kb;
	uint64_t asleep_max, asleep_seen, tasks_live, woke, bad;
	int guard;
	uint64_t stack_virt, enters, sqes, cqes, sq_full, cq_overflows;
};

/* The value of " key=" in @line as a number; 0 if absent. */
static double field(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), " %s=", key);
	p = strstr(line, pat);
	return p ? strtod(p + strlen(pat), NULL) : 0;
}

static void parse_child_line(const char *line, struct mode_result *r)
{
	r->n = (uint64_t)field(line, "n");
	r->setup = field(line, "setup_ns") / 1e9;
	r->spawn = field(line, "spawn_ns") / 1e9;
	r->asleep = field(line, "asleep_ns") / 1e9;
	r->wall = field(line, "wall_ns") / 1e9;
	r->woken = field(line, "woken_ns") / 1e9;
	r->teardown = field(line, "teardown_ns") / 1e9;
	r->rss0_kb = (long)field(line, "rss0_kb");
	r->rss_asleep_kb = (long)field(line, "rss_asleep_kb");
	r->pte_kb = (long)field(line, "pte_kb");
	r->hwm_kb = (long)field(line, "hwm_kb");
	r->maxrss_kb = (long)field(line, "maxrss_kb");
	r->asleep_max = (uint64_t)field(line, "asleep_max");
	r->asleep_seen = (uint64_t)field(line, "asleep_seen");
	r->tasks_live = (uint64_t)field(line, "tasks_live");
	r->woke = (uint64_t)field(line, "woke");
	r->bad = (uint64_t)field(line, "bad");
	r->guard = (int)field(line, "guard");
	r->stack_virt = (uint64_t)field(line, "stack_virt");
	r->enters = (uint64_t)field(line, "enters");
	r->sqes = (uint64_t)field(line, "sqes");
	r->cqes = (uint64_t)field(line, "cqes");
	r->sq_full = (uint64_t)field(line, "sq_full");
	r->cq_overflows = (uint64_t)field(line, "cq_overflows");
	r->ok = r->n && r->asleep_max == r->n && r->asleep_seen == r->n &&
		r->tasks_live == r->n + 1 && r->woke == r->n && !r->bad;
}

/*
 * Run this program again as a child ("--child @mode @n"); copy its
 * output through, except the CHILD line, which goes to @child_line.
 * Returns 0 when the child exited 0 and printed a CHILD line.
 */
static int spawn_child(const char *mode, uint64_t n, char *child_line,
		       size_t cap)
{
	char nbuf[32], line[1024];
	char *args[] = { "/proc/self/exe", "--child", (char *)mode, nbuf,
			 NULL };
	int pfd[2], status, got = 0;
	pid_t pid;
	FILE *f;

	snprintf(nbuf, sizeof(nbuf), "%" PRIu64, n);
	fflush(stdout);
	if (pipe(pfd) != 0)
		bench_die(PROG, "pipe", errno);
	pid = fork();
	if (pid < 0)
		bench_die(PROG, "fork", errno);
	if (pid == 0) {
		close(pfd[0]);
		if (dup2(pfd[1], STDOUT_FILENO) < 0)
			_exit(126);
		close(pfd[1]);
		execv(args[0], args);
		_exit(127);
	}
	close(pfd[1]);
	f = fdopen(pfd[0], "r");
	if (!f)
		bench_die(PROG, "fdopen", errno);
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "CHILD ", 6)) {
			snprintf(child_line, cap, "%s", line);
			got = 1;
		} else {
			fputs(line, stdout);
		}
	}
	fclose(f);
	if (waitpid(pid, &status, 0) < 0)
		bench_die(PROG, "waitpid", errno);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !got) {
		fprintf(stderr, PROG ": %s: child failed (%s %d)\n", mode,
			WIFSIGNALED(status) ? "signal" : "exit status",
			WIFSIGNALED(status) ? WTERMSIG(status) :
					      WEXITSTATUS(status));
		return -1;
	}
	return 0;
}

static void run_child(enum mode m, uint64_t n, struct mode_result *r)
{
	char line[1024];

	memset(r, 0, sizeof(*r));
	if (spawn_child(mode_names[m], n, line, sizeof(line)) == 0)
		parse_child_line(line, r);
}

/* ns per fresh page, the lower of the child's two figures in @both. */
static void run_floor(uint64_t n, double both[2])
{
	char line[1024];

	if (spawn_child("floor", n, line, sizeof(line)) != 0)
		exit(1);
	both[0] = field(line, "strided_ns");
	both[1] = field(line, "contiguous_ns");
}

static const char *guard_name(int g)
{
	return g == 2 ? "MADV_GUARD_INSTALL" : g == 1 ? "mprotect" : "none";
}

static void print_mode(enum mode m, const struct mode_result *r)
{
	double n = (double)r->n;

	printf("coil, %s (guard pages: %s)\n", mode_names[m],
	       guard_name(r->guard));
	printf("  spawn %.3f s (%.0f ns/task), all asleep %.3f s later; "
	       "setup %.2f ms\n", r->spawn, r->spawn * 1e9 / n, r->asleep,
	       r->setup * 1e3);
	printf("  all woken and gathered at %.3f s; total wall %.3f s "
	       "(teardown %.3f s)\n", r->woken, r->wall, r->teardown);
	printf("  peak RSS %.1f MiB = %.0f B/coroutine (%.0f B net of the "
	       "%.1f MiB before); page tables %.1f MiB = %.0f B/coroutine "
	       "(not in RSS)\n", (double)r->hwm_kb / 1024,
	       (double)r->hwm_kb * 1024 / n,
	       (double)(r->hwm_kb - r->rss0_kb) * 1024 / n,
	       (double)r->rss0_kb / 1024, (double)r->pte_kb / 1024,
	       (double)r->pte_kb * 1024 / n);
	printf("  alive at once: %" PRIu64 " asleep (high water), tasks_live "
	       "%" PRIu64 "; woke %" PRIu64 ", bad %" PRIu64 ": %s\n",
	       r->asleep_max, r->tasks_live, r->woke, r->bad,
	       r->ok ? "ok" : "FAILED");
	printf("  ring: %" PRIu64 " enters, %" PRIu64 " SQEs, %" PRIu64
	       " CQEs, %" PRIu64 " SQ-full flushes, %" PRIu64 " CQ overflows;"
	       " stacks %.1f GiB virtual\n", r->enters, r->sqes, r->cqes,
	       r->sq_full, r->cq_overflows,
	       (double)r->stack_virt / (1024.0 * 1024 * 1024));
}

/* --------------------------------------------------------- the floor */

/*
 * ns per first touch of a fresh page: @stride apart (coil's slot: 64 KiB
 * stack + guard page, so each touch may also need a page-table page) or
 * contiguous (stride 4096).
 */
static double fault_floor(uint64_t n, size_t stride)
{
	size_t len = n * stride;
	uint64_t i, t0, t1;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		bench_die(PROG, "mmap", errno);
	t0 = bench_now();
	for (i = 0; i < n; i++)
		p[i * stride + stride - 64] = 1; /* the top page, as a stack */
	t1 = bench_now();
	for (i = 0; i < n; i++) {
		if (p[i * stride + stride - 64] != 1)
			bench_die(PROG, "floor: page lost", EIO);
	}
	if (munmap(p, len) != 0)
		bench_die(PROG, "munmap", errno);
	return (double)(t1 - t0) / (double)n;
}

/* In a fresh process, as the modes run: one CHILD line. */
static int floor_child(uint64_t n)
{
	double strided, contiguous;

	alarm(CHILD_TIME_LIMIT_S);
	strided = fault_floor(n, 64 * 1024 + 4096);
	contiguous = fault_floor(n, 4096);
	printf("CHILD mode=floor n=%" PRIu64 " strided_ns=%.1f "
	       "contiguous_ns=%.1f\n", n, strided, contiguous);
	return 0;
}

/* ------------------------------------------------------ the baseline */

struct py_result {
	int ok;
	uint64_t n, alive_max, woke;
	double spawn, wall, maxrss_kb;
};

static void run_python(uint64_t n, struct py_result *r)
{
	const char *dir = getenv("COIL_BENCH_BASELINES");
	char cmd[1024], line[512];
	FILE *f;
	int st;

	memset(r, 0, sizeof(*r));
	snprintf(cmd, sizeof(cmd), "timeout %d python3 %s/sleepers.py %"
		 PRIu64, PYTHON_TIME_LIMIT_S, dir ? dir : BASELINES_DIR, n);
	fflush(stdout);
	f = popen(cmd, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "RESULT ", 7)) {
			fputs(line, stdout);
			continue;
		}
		r->n = (uint64_t)field(line, "n");
		r->spawn = field(line, "spawn_s");
		r->wall = field(line, "wall_s");
		r->maxrss_kb = field(line, "maxrss_kb");
		r->alive_max = (uint64_t)field(line, "alive_max");
		r->woke = (uint64_t)field(line, "woke");
	}
	st = pclose(f);
	r->ok = st == 0 && r->n == n && r->alive_max == n && r->woke == n;
}

/* ------------------------------------------------------------- main */

/*
 * The RESULT lines. Each mode ran once here: one sample per side (bench/run
 * repeats the program for a spread). @cnt and @py_cnt: what a count pass
 * counted around each mode's child and around the asyncio run.
 */
static void report(uint64_t n, const struct mode_result *res,
		   const struct py_result *py, double floor_s,
		   const struct bench_side *cnt, const struct bench_side *py_cnt)
{
	const struct mode_result *h = &res[MODE_HEAP];
	double rss_b = (double)h->hwm_kb * 1024 / (double)n;
	double py_rss_b = py->ok ? py->maxrss_kb * 1024 / (double)py->n : 0;
	struct bench_side c, b, pw;
	char extra[256];
	int at_1m = n >= 1000000;
	int m;

	pw = py->ok ? bench_side_one(py->wall, py_cnt) :
		      (struct bench_side){ .n = 0 };
	snprintf(extra, sizeof(extra), "n=%" PRIu64 " base_n=%" PRIu64
		 " spawn_s=%.3f floor_s=%.3f", n, py->n, h->spawn, floor_s);
	c = bench_side_one(h->wall, &cnt[MODE_HEAP]);
	bench_report("sleepers_wall", "s", &c, &pw, 0, "coil<=1.5s@1M",
		     at_1m ? bench_yes_no(h->wall <= WALL_TARGET_S) : "n/a",
		     extra);
	snprintf(extra, sizeof(extra), "n=%" PRIu64 " base_n=%" PRIu64
		 " pte_b=%.0f", n, py->n,
		 (double)h->pte_kb * 1024 / (double)n);
	c = bench_side_one(rss_b, NULL);
	b = py->ok ? bench_side_one(py_rss_b, NULL) :
		     (struct bench_side){ .n = 0 };
	bench_report("sleepers_rss", "B/coroutine", &c, &b, 0, "coil<=5KiB",
		     bench_yes_no(rss_b <= RSS_TARGET_B), extra);
	c = bench_side_one((double)h->asleep_max, NULL);
	b = bench_side_one((double)py->alive_max, NULL);
	bench_report("sleepers_alive", "tasks", &c, &b, 1,
		     "all N asleep at once", bench_yes_no(h->ok), NULL);
	for (m = MODE_PER_OP; m < NMODES; m++) {
		char name[48];

		snprintf(name, sizeof(name), "sleepers_wall_%s",
			 mode_names[m]);
		snprintf(extra, sizeof(extra), "n=%" PRIu64 " rss_b=%.0f",
			 n, (double)res[m].hwm_kb * 1024 / (double)n);
		c = bench_side_one(res[m].wall, &cnt[m]);
		bench_report(name, "s", &c, &pw, 0, "info", "n/a", extra);
	}
}

int main(int argc, char **argv)
{
	struct mode_result res[NMODES];
	struct py_result py = { 0 };
	struct bench_side cnt[NMODES] = { { .n = 0 } }, py_cnt = { .n = 0 };
	uint64_t n = 0, pn = 0;
	int quick = 0, no_python = 0, i, ok = 1;
	double f1[2], f2[2], strided;

	if (argc == 4 && !strcmp(argv[1], "--child")) {
		if (!strcmp(argv[2], "floor"))
			return floor_child(bench_parse_count(PROG, argv[3],
							     1ull << 26));
		for (i = 0; i < NMODES; i++) {
			if (!strcmp(argv[2], mode_names[i]))
				return child((enum mode)i,
					     bench_parse_count(PROG, argv[3],
							       1ull << 26));
		}
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--no-python"))
			no_python = 1;
		else if (!strcmp(argv[i], "--python-n") && i + 1 < argc)
			pn = bench_parse_count(PROG, argv[++i], 1ull << 26);
		else
			n = bench_parse_count(PROG, argv[i], 1ull << 26);
	}
	if (!n)
		n = quick ? 100000 : 1000000;
	if (!pn)
		pn = n;

	printf(PROG ": %" PRIu64 " coroutines each sleep 1 s, then "
	       "gathered\n", n);
	run_floor(n, f1);
	for (i = 0; i < NMODES; i++) {
		bench_count_begin(&cnt[i]);
		run_child((enum mode)i, n, &res[i]);
		bench_count_end(&cnt[i], n);
		print_mode((enum mode)i, &res[i]);
		ok &= res[i].ok;
	}
	run_floor(n, f2);
	strided = f1[0] < f2[0] ? f1[0] : f2[0];
	printf("floor: first touch of %" PRIu64 " fresh pages, 68 KiB apart "
	       "(coil's stack slots): %.0f / %.0f ns each (before / after "
	       "the modes; contiguous: %.0f / %.0f ns)\n"
	       "  -> at least %.3f s of any spawn of %" PRIu64
	       " stacks, and 4096 B of RSS each\n", n, f1[0], f2[0], f1[1],
	       f2[1], strided * (double)n / 1e9, n);
	if (!no_python) {
		bench_count_begin(&py_cnt);
		run_python(pn, &py);
		bench_count_end(&py_cnt, pn);
		if (py.ok)
			printf("asyncio (python3 %s/sleepers.py %" PRIu64 ")\n"
			       "  create_task x N %.3f s, total wall %.3f s; "
			       "peak RSS %.1f MiB = %.0f B/coroutine; %"
			       PRIu64 " asleep at once\n", BASELINES_DIR,
			       py.n, py.spawn, py.wall, py.maxrss_kb / 1024,
			       py.maxrss_kb * 1024 / (double)py.n,
			       py.alive_max);
		else
			printf("asyncio: failed or skipped (python3 or "
			       "%s/sleepers.py not found? set "
			       "COIL_BENCH_BASELINES)\n", BASELINES_DIR);
	}
	printf("ratio (heap mode vs asyncio%s): wall %.1fx, spawn/coroutine "
	       "%.1fx, RSS/coroutine %.1fx\n",
	       py.ok && py.n != n ? ", per coroutine where N differ" : "",
	       py.ok ? py.wall / res[MODE_HEAP].wall : 0,
	       py.ok ? (py.spawn / (double)py.n) /
			       (res[MODE_HEAP].spawn / (double)n) : 0,
	       py.ok ? (py.maxrss_kb / (double)py.n) /
			       ((double)res[MODE_HEAP].hwm_kb / (double)n) :
		       0);
	/* A failed mode's figures are zeros: no RESULT line may judge them. */
	if (!ok) {
		fprintf(stderr, PROG ": check failed: not every mode had all "
			"%" PRIu64 " tasks asleep at once and woken once\n", n);
		return 1;
	}
	report(n, res, &py, strided * (double)n / 1e9, cnt, &py_cnt);
	printf("  check: in every mode all %" PRIu64 " tasks slept at once "
	       "and each woke once, after >= 1 s: ok\n", n);
	return 0;
}
