/* SPDX-License-Identifier: MIT */
/*
 * bench/common.h - what every benchmark program shares: the clock, medians,
 * argument parsing and the machine-readable RESULT line that bench/run
 * collects.
 *
 * RESULT lines are one figure each, space-separated key=value pairs with
 * no spaces inside a value (target="..." may hold spaces, quoted):
 *   RESULT name=ctx_switch unit=ns coil=3.1 base=220 ratio=71.0
 *          target="coil<=5ns,ratio>=40" met=yes better=lower reps=5
 *          coil_min=3.0 coil_max=3.4 base_min=210 base_max=236
 *          ratio_min=64.1 ratio_max=75.3
 * coil and base are medians over the reps. ratio is always "times better
 * than the baseline": base/coil for times and sizes (better=lower),
 * coil/base for rates (better=higher). When both sides have one sample
 * per rep, taken one after the other, ratio is the median of the paired
 * per-rep ratios and ratio_min/ratio_max their extremes; otherwise it is
 * the ratio of the medians and the extremes come from the sides' extremes.
 * The _min/_max keys, reps and better are optional (older lines lack
 * them); reps counts the coil side's samples, base_reps the baseline's
 * when they differ. In a count pass (COIL_BENCH_COUNT=1 in the
 * environment; see bench_count_begin) a line also carries
 * coil_syscalls_per_op=, base_syscalls_per_op= and, where the CPU has an
 * instruction counter, coil_insns_per_op=, base_insns_per_op=.
 * bench/run parses these lines; bench/README.md documents every key.
 */
#ifndef COIL_BENCH_COMMON_H
#define COIL_BENCH_COMMON_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_REPS 15

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t bench_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
		perror("clock_gettime");
		exit(1);
	}
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Print "PROG: WHAT: strerror(-err)" and exit 1; @err is a -errno. */
static inline void bench_die(const char *prog, const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what,
		strerror(err < 0 ? -err : err));
	exit(1);
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of @n values (sorts @v in place); 0 when @n is 0. */
static inline double bench_median(double *v, int n)
{
	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/*
 * Parse a count argument: a positive integer, with an optional k/M
 * suffix (x1000, x1000000), no larger than @max. Exits on a bad one.
 */
static inline uint64_t bench_parse_count(const char *prog, const char *s,
					 uint64_t max)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end == 'k' || *end == 'K') {
		v *= 1000;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		v *= 1000000;
		end++;
	}
	if (errno || end == s || *end || v == 0 || v > max) {
		fprintf(stderr, "%s: bad count '%s' (1..%" PRIu64 ")\n",
			prog, s, max);
		exit(2);
	}
	return v;
}

/*
 * Format @v for a RESULT line: no exponent, about four significant digits
 * (3.142, 271.8, 60283). Returns @buf.
 */
static inline const char *bench_fmt(char *buf, size_t cap, double v)
{
	double a = v < 0 ? -v : v;
	int decimals = a >= 1000 || a == 0 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 :
		       a >= 1 ? 3 : 4;

	snprintf(buf, cap, "%.*f", decimals, v);
	return buf;
}

/*
 * The machine-readable line; see the top of this file. @extra (may be
 * NULL) is appended as it is: more key=value pairs.
 */
static inline void bench_result_x(const char *name, const char *unit,
				  double coil, double base, double ratio,
				  const char *target, const char *met,
				  const char *extra)
{
	char c[32], b[32], r[32];

	printf("RESULT name=%s unit=%s coil=%s base=%s ratio=%s "
	       "target=\"%s\" met=%s%s%s\n", name, unit,
	       bench_fmt(c, sizeof(c), coil), bench_fmt(b, sizeof(b), base),
	       bench_fmt(r, sizeof(r), ratio), target, met, extra ? " " : "",
	       extra ? extra : "");
	fflush(stdout);
}

static inline void bench_result(const char *name, const char *unit,
				double coil, double base, double ratio,
				const char *target, const char *met)
{
	bench_result_x(name, unit, coil, base, ratio, target, met, NULL);
}

static inline const char *bench_yes_no(int ok)
{
	return ok ? "yes" : "no";
}

/* ------------------------------------------------ sides and spread */

/*
 * One side (coil or its baseline) of a figure: one sample per rep, and
 * what a count pass counted while the side ran. Zero-initialize it.
 */
struct bench_side {
	double v[BENCH_MAX_REPS]; /* samples in run order, v[i] from rep i */
	int n;                    /* samples taken */
	uint64_t ops;             /* operations run inside bench_count_* */
	uint64_t syscalls;        /* system calls made during those ops */
	uint64_t insns;           /* instructions retired during them */
	uint64_t sys0, insns0;    /* the counters at bench_count_begin */
	int counted;              /* bench_count_end succeeded at least once */
	int insns_ok;             /* ... and the instruction counter worked */
};

/* Record one rep's sample; past BENCH_MAX_REPS samples are dropped. */
static inline void bench_add(struct bench_side *s, double v)
{
	if (s->n < BENCH_MAX_REPS)
		s->v[s->n++] = v;
}

/*
 * A side of one sample @v (a baseline that reports only its own median,
 * a run too long to repeat), with the counts of @counted (may be NULL).
 */
static inline struct bench_side bench_side_one(double v,
					       const struct bench_side *counted)
{
	struct bench_side s = { .n = 0 };

	if (counted)
		s = *counted;
	s.n = 0;
	bench_add(&s, v);
	return s;
}

/* Median of @s's samples (@s stays in run order). */
static inline double bench_side_median(const struct bench_side *s)
{
	double v[BENCH_MAX_REPS];

	memcpy(v, s->v, sizeof(v));
	return bench_median(v, s->n);
}

static inline double bench_side_min(const struct bench_side *s)
{
	double m = s->n ? s->v[0] : 0;
	int i;

	for (i = 1; i < s->n; i++)
		m = s->v[i] < m ? s->v[i] : m;
	return m;
}

static inline double bench_side_max(const struct bench_side *s)
{
	double m = s->n ? s->v[0] : 0;
	int i;

	for (i = 1; i < s->n; i++)
		m = s->v[i] > m ? s->v[i] : m;
	return m;
}

/* "Times better" of @coil over @base; 0 when either is not positive. */
static inline double bench_better(double coil, double base, int higher)
{
	if (coil <= 0 || base <= 0)
		return 0;
	return higher ? coil / base : base / coil;
}

/*
 * The ratio's median and extremes into r[0..2]: paired per rep when both
 * sides have the same number of samples, else from the sides' extremes.
 */
static inline void bench_ratio(const struct bench_side *coil,
			       const struct bench_side *base, int higher,
			       double r[3])
{
	struct bench_side pairs = { .n = 0 };
	int i;

	if (coil->n != base->n || !coil->n) {
		r[0] = bench_better(bench_side_median(coil),
				    bench_side_median(base), higher);
		r[1] = higher ? bench_better(bench_side_min(coil),
					     bench_side_max(base), 1) :
				bench_better(bench_side_max(coil),
					     bench_side_min(base), 0);
		r[2] = higher ? bench_better(bench_side_max(coil),
					     bench_side_min(base), 1) :
				bench_better(bench_side_min(coil),
					     bench_side_max(base), 0);
		return;
	}
	for (i = 0; i < coil->n; i++)
		bench_add(&pairs, bench_better(coil->v[i], base->v[i], higher));
	r[0] = bench_side_median(&pairs);
	r[1] = bench_side_min(&pairs);
	r[2] = bench_side_max(&pairs);
}

/* ------------------------------------------------------ count pass */

/*
 * A count pass (COIL_BENCH_COUNT=1) counts system calls (the
 * raw_syscalls:sys_enter tracepoint) and instructions per side through
 * perf_event_open, the counters `perf stat` reads. Counting slows every
 * system call down, so bench/run does it in a separate short run, never
 * in the timed one. The counters follow threads and child processes
 * (inherit), which are counted once they have exited.
 */
struct bench_counters {
	int init;        /* bench_counters() has run */
	int sys_fd;      /* -1: not counting system calls */
	int insns_fd;    /* -1: no instruction counter */
};

static inline int bench_perf_open(uint32_t type, uint64_t config)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = type;
	a.config = config;
	a.inherit = 1;
	a.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &a, 0, -1, -1,
			    PERF_FLAG_FD_CLOEXEC);
}

/* The tracepoint's id from tracefs; -1 when tracefs cannot tell. */
static inline long bench_tracepoint_id(void)
{
	static const char *const paths[] = {
		"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
		"/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id",
	};
	long id = -1;
	size_t i;
	FILE *f;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]) && id < 0; i++) {
		f = fopen(paths[i], "re");
		if (!f)
			continue;
		if (fscanf(f, "%ld", &id) != 1)
			id = -1;
		fclose(f);
	}
	return id;
}

/* The process's counters, opened on first use in a count pass. */
static inline struct bench_counters *bench_counters(void)
{
	static struct bench_counters c = { 0, -1, -1 };
	const char *env = getenv("COIL_BENCH_COUNT");
	long id;

	if (c.init)
		return &c;
	c.init = 1;
	if (!env || strcmp(env, "1"))
		return &c;
	id = bench_tracepoint_id();
	if (id >= 0)
		c.sys_fd = bench_perf_open(PERF_TYPE_TRACEPOINT, (uint64_t)id);
	if (c.sys_fd >= 0)
		c.insns_fd = bench_perf_open(PERF_TYPE_HARDWARE,
					     PERF_COUNT_HW_INSTRUCTIONS);
	else
		fprintf(stderr, "bench: count pass: cannot count system "
			"calls (perf_event_open: %s)\n", strerror(errno));
	return &c;
}

/* A counter's value; 0 when @fd is -1 or the read fails. */
static inline uint64_t bench_counter_read(int fd)
{
	uint64_t v = 0;

	if (fd < 0 || read(fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return 0;
	return v;
}

/* Start counting for @s; does nothing outside a count pass. */
static inline void bench_count_begin(struct bench_side *s)
{
	struct bench_counters *c = bench_counters();

	if (c->sys_fd < 0)
		return;
	s->sys0 = bench_counter_read(c->sys_fd);
	s->insns0 = bench_counter_read(c->insns_fd);
}

/*
 * Stop counting for @s, which ran @ops operations since
 * bench_count_begin; threads and children it started must have exited.
 */
static inline void bench_count_end(struct bench_side *s, uint64_t ops)
{
	struct bench_counters *c = bench_counters();
	uint64_t insns;

	if (c->sys_fd < 0)
		return;
	s->syscalls += bench_counter_read(c->sys_fd) - s->sys0;
	insns = bench_counter_read(c->insns_fd);
	s->insns += insns - s->insns0;
	s->insns_ok = c->insns_fd >= 0 && insns > 0;
	s->ops += ops;
	s->counted = 1;
}

/* ------------------------------------------------- the RESULT line */

/* Format a per-op count: about four significant digits, no exponent. */
static inline const char *bench_fmt_count(char *buf, size_t cap, double v)
{
	int decimals = 3;
	double a = v;

	while (a > 0 && a < 1 && decimals < 9) {
		a *= 10;
		decimals++;
	}
	if (v >= 100)
		decimals = v >= 1000 ? 0 : 1;
	snprintf(buf, cap, "%.*f", decimals, v);
	return buf;
}

/* Append " KEY=per-op count of @s" to @buf when @s was counted. */
static inline void bench_put_count(char *buf, size_t cap, const char *key,
				   const struct bench_side *s, int insns)
{
	char num[48];
	size_t len = strlen(buf);
	uint64_t v = insns ? s->insns : s->syscalls;

	if (!s->counted || !s->ops || (insns && !s->insns_ok) || len >= cap)
		return;
	bench_fmt_count(num, sizeof(num), (double)v / (double)s->ops);
	snprintf(buf + len, cap - len, " %s=%s", key, num);
}

/*
 * Print the RESULT line of one figure from its two sides: the medians,
 * the ratio (see bench_ratio), the spread, and counts from a count pass.
 * @higher: larger values are better (rates). @extra as for bench_result_x.
 */
static inline void bench_report(const char *name, const char *unit,
				const struct bench_side *coil,
				const struct bench_side *base, int higher,
				const char *target, const char *met,
				const char *extra)
{
	char keys[512], f[6][32];
	double r[3];

	bench_ratio(coil, base, higher, r);
	snprintf(keys, sizeof(keys), "better=%s reps=%d coil_min=%s "
		 "coil_max=%s base_min=%s base_max=%s ratio_min=%s "
		 "ratio_max=%s", higher ? "higher" : "lower", coil->n,
		 bench_fmt(f[0], 32, bench_side_min(coil)),
		 bench_fmt(f[1], 32, bench_side_max(coil)),
		 bench_fmt(f[2], 32, bench_side_min(base)),
		 bench_fmt(f[3], 32, bench_side_max(base)),
		 bench_fmt(f[4], 32, r[1]), bench_fmt(f[5], 32, r[2]));
	if (base->n != coil->n)
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys),
			 " base_reps=%d", base->n);
	bench_put_count(keys, sizeof(keys), "coil_syscalls_per_op", coil, 0);
	bench_put_count(keys, sizeof(keys), "base_syscalls_per_op", base, 0);
	bench_put_count(keys, sizeof(keys), "coil_insns_per_op", coil, 1);
	bench_put_count(keys, sizeof(keys), "base_insns_per_op", base, 1);
	if (extra && *extra)
		snprintf(keys + strlen(keys), sizeof(keys) - strlen(keys),
			 " %s", extra);
	bench_result_x(name, unit, bench_side_median(coil),
		       bench_side_median(base), r[0], target, met, keys);
}

/*
 * A "Key:" line of /proc/self/status in kB (VmRSS, VmHWM, ...), or -1.
 */
static inline long bench_status_kb(const char *key)
{
	char line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

#endif /* COIL_BENCH_COMMON_H */
