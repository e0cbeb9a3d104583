/* SPDX-License-Identifier: MIT */
/*
 * examples/num_arg.h - how the examples read a number from the command
 * line: the whole argument, decimal digits only, within [lo, hi]. Anything
 * else is refused with a line on stderr and exit status 2, rather than
 * read as atoi() would ("x" as 0, "80x" as 80, "70000" as port 4464 once
 * cast to uint16_t).
 */
#ifndef COIL_EXAMPLES_NUM_ARG_H
#define COIL_EXAMPLES_NUM_ARG_H

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* The value of @s, the argument of @what ("-p"), for program @prog. */
static inline long long num_arg(const char *prog, const char *what,
				const char *s, long long lo, long long hi)
{
	char *end;
	long long v;

	errno = 0;
	v = isdigit((unsigned char)*s) ? strtoll(s, &end, 10) : -1;
	if (!isdigit((unsigned char)*s) || errno || *end || v < lo ||
	    v > hi) {
		fprintf(stderr, "%s: %s takes a number from %lld to %lld, not "
			"\"%s\"\n", prog, what, lo, hi, s);
		exit(2);
	}
	return v;
}

#endif
