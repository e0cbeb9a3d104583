/* SPDX-License-Identifier: MIT */
/*
 * bench/common.h - what every benchmark program shares: the clock, medians,
 * argument parsing and the machine-readable RESULT line that bench/run
 * collects.
 *
 * RESULT lines are one scenario each, space-separated key=value pairs with
 * no spaces inside a value (target="..." may hold spaces, quoted):
 *   RESULT name=ctx_switch unit=ns coil=3.1 base=220 ratio=71.0
 *          target="coil<=5ns,ratio>=40" met=yes
 * ratio is always "times better than the baseline": base/coil for times
 * and sizes (lower is better), coil/base for rates (higher is better).
 */
#ifndef COIL_BENCH_COMMON_H
#define COIL_BENCH_COMMON_H

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#endif /* COIL_BENCH_COMMON_H */
