/* SPDX-License-Identifier: MIT */
/*
 * tests/harness.h - the harness of the coordination tests (queue, sync,
 * group, remote, offload): included once per test program, after it has
 * defined WATCHDOG_S (seconds before a hung test is killed).
 */
#ifndef COIL_TESTS_HARNESS_H
#define COIL_TESTS_HARNESS_H

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <coil.h>

#include "helpers.h" /* test_require_io_uring() */

#ifndef WATCHDOG_S
#define WATCHDOG_S 15
#endif


/*
 * The harness: run_main() runs a body as a runtime's main task under a
 * watchdog and asserts that nothing outlived the runtime. Inside tasks,
 * CHECK*() records the first failure and returns FAILED from the body
 * (a cmocka assert there would longjmp off the coroutine's stack and
 * wreck every later test); run_main() then fails the test with it.
 */
#define PTR(x) ((void *)(intptr_t)(x))
#define INT(p) ((int)(intptr_t)(p))
#define MS(x) ((int64_t)(x) * COIL_NSEC_PER_MSEC)
#define FAILED PTR(-1000)

static char failure[512];

static void note_failure(int line, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note_failure(int line, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (failure[0])
		return;
	n = snprintf(failure, sizeof(failure), "line %d: ", line);
	va_start(ap, fmt);
	vsnprintf(failure + n, sizeof(failure) - (size_t)n, fmt, ap);
	va_end(ap);
}

#define CHECK(c)                                                        \
	do {                                                            \
		if (!(c)) {                                             \
			note_failure(__LINE__, "%s", #c);               \
			return FAILED;                                  \
		}                                                       \
	} while (0)

#define CHECK_EQ(a, b)                                                  \
	do {                                                            \
		long long a_ = (long long)(a), b_ = (long long)(b);     \
		if (a_ != b_) {                                         \
			note_failure(__LINE__, "%s == %s: %lld != %lld", \
				     #a, #b, a_, b_);                   \
			return FAILED;                                  \
		}                                                       \
	} while (0)

static void watchdog(int sig)
{
	static const char msg[] = "test timed out (watchdog)\n";

	(void)sig;
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

/* Run @fn(@arg) as main; nothing may leak and no CHECK may have failed. */
static void run_main(coil_fn fn, void *arg)
{
	struct coil_options o;
	struct coil_stats fin;
	void *result = NULL;
	int ret;

	coil_options_init(&o);
	memset(&fin, 0xff, sizeof(fin));
	o.final_stats = &fin;
	failure[0] = '\0';
	signal(SIGALRM, watchdog);
	alarm(WATCHDOG_S);
	ret = coil_run_opts(&o, fn, arg, &result);
	alarm(0);
	if (failure[0])
		fail_msg("%s", failure);
	assert_int_equal(ret, 0);
	assert_null(result);
	assert_int_equal(fin.tasks_live, 0);
	assert_int_equal(fin.stacks_in_use, 0);
}

/* Let every other ready task run @n times. */
__attribute__((unused)) static int yield_n(int n)
{
	int err = 0;

	while (n-- > 0 && !err)
		err = coil_yield();
	return err;
}

__attribute__((unused)) static int64_t elapsed_ns(uint64_t start)
{
	return (int64_t)(coil_now() - start);
}

#endif /* COIL_TESTS_HARNESS_H */
