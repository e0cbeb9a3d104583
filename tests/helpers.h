/* SPDX-License-Identifier: MIT */
/*
 * tests/helpers.h - shared test scaffolding: run a body as a runtime's main
 * task and check afterwards that nothing leaked (tasks, stacks, fds).
 */
#ifndef COIL_TEST_HELPERS_H
#define COIL_TEST_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <coil.h>

/* True when built with AddressSanitizer (needs huge address space). */
#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_ASAN 1
#endif
#endif
#ifndef TEST_ASAN
#define TEST_ASAN 0
#endif

/*
 * True under Valgrind (its preload library is in LD_PRELOAD). Valgrind
 * virtualizes RLIMIT_NOFILE and keeps descriptors for itself, so tests of
 * descriptor limits skip there.
 */
bool test_under_valgrind(void);

/*
 * Called first in main() by every test program that needs a ring: where
 * the kernel or a sandbox refuses io_uring (coil_run() fails with -ENOSYS
 * or -EPERM) it prints the reason coil gives and exits 77, which meson
 * counts as a skip, instead of failing every test for the same reason.
 * With COIL_TEST_REQUIRE_URING set to a non-empty value (CI, whose machine
 * has io_uring) it exits 1 instead: there, a refusal is a failure.
 */
void test_require_io_uring(void);

/* Number of open file descriptors of this process (/proc/self/fd). */
int test_count_fds(void);

/*
 * Run @fn(@arg) as the main task of a runtime made from @opts (NULL: the
 * defaults) and assert that coil_run_opts() returned @want_ret, that no task
 * or stack outlived the runtime and that the fd count is unchanged. Returns
 * main's result.
 */
void *test_run_opts(struct coil_options *opts, coil_fn fn, void *arg,
		    int want_ret);

/*
 * Skip the current test if a cmocka assert that failed inside a task left
 * its runtime bound to this thread: a coil_run() here (or in a child
 * forked from here) would fail with -EBUSY and bury the first failure.
 * test_run_opts() checks this itself; tests that call coil_run() directly
 * call it first.
 */
void test_skip_if_thread_bound(void);

/* test_run_opts() with default options, expecting success. */
void *test_run(coil_fn fn, void *arg);

/* Nanoseconds elapsed since @start (a coil_now() reading). */
int64_t test_elapsed_ns(uint64_t start);

/* cmocka setup/teardown pair that checks fds did not leak across a test. */
int test_fd_setup(void **state);
int test_fd_teardown(void **state);

/* Print @why and skip the current test. */
#define TEST_SKIP(why)                                                  \
	do {                                                            \
		print_message("[ SKIPPED  ] %s\n", (why));              \
		skip();                                                 \
	} while (0)

#define MS(x) ((int64_t)(x) * COIL_NSEC_PER_MSEC)

#endif /* COIL_TEST_HELPERS_H */
