/* SPDX-License-Identifier: MIT */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

bool test_under_valgrind(void)
{
	const char *p = getenv("LD_PRELOAD");

	return p && strstr(p, "vgpreload");
}

#define PROBE_WHY 256

/* Keeps the last line coil logged (the reason a ring was refused). */
static void probe_log(void *userdata, const char *line)
{
	snprintf(userdata, PROBE_WHY, "%s", line);
}

static void *probe_main(void *arg)
{
	return arg;
}

void test_require_io_uring(void)
{
	struct coil_options o;
	char why[PROBE_WHY] = "";
	const char *require = getenv("COIL_TEST_REQUIRE_URING");
	int ret;

	coil_options_init(&o);
	o.log = probe_log;
	o.log_userdata = why;
	ret = coil_run_opts(&o, probe_main, NULL, NULL);
	if (ret != -EPERM && ret != -ENOSYS)
		return; /* usable, or a failure the tests should show */
	if (require && *require) {
		printf("io_uring is unavailable here, and "
		       "COIL_TEST_REQUIRE_URING is set: %s\n", why);
		exit(1);
	}
	printf("skipped: io_uring is unavailable here: %s\n", why);
	exit(77);
}

int test_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n - 1; /* the directory stream's own fd */
}

/*
 * Set while coil_run_opts() runs. A cmocka assert that fails inside a task
 * longjmps straight back to cmocka, off the task's stack, so coil_run never
 * returns: its runtime stays bound to this thread and every later run here
 * would fail with -EBUSY, burying the real failure under copies of another.
 * The tests after it are skipped instead, saying why.
 */
static bool run_unfinished;

void test_skip_if_thread_bound(void)
{
	struct coil_stats st;

	/* coil_stats_get() succeeds only where a runtime is bound. */
	if (run_unfinished || coil_stats_get(&st) == 0)
		TEST_SKIP("an earlier test failed inside a task, and its "
			  "runtime still holds this thread");
}

void *test_run_opts(struct coil_options *opts, coil_fn fn, void *arg,
		    int want_ret)
{
	struct coil_options o;
	struct coil_stats fin;
	void *result = NULL;
	int fds = test_count_fds();
	int ret;

	if (opts)
		o = *opts;
	else
		coil_options_init(&o);
	memset(&fin, 0xff, sizeof(fin));
	o.final_stats = &fin;
	test_skip_if_thread_bound();
	run_unfinished = true;
	ret = coil_run_opts(&o, fn, arg, &result);
	run_unfinished = false;
	assert_int_equal(ret, want_ret);
	if (ret == 0 || ret == -EDEADLK || ret == -ECANCELED) {
		assert_int_equal(fin.tasks_live, 0);
		assert_int_equal(fin.stacks_in_use, 0);
	}
	assert_int_equal(test_count_fds(), fds);
	return result;
}

void *test_run(coil_fn fn, void *arg)
{
	return test_run_opts(NULL, fn, arg, 0);
}

int64_t test_elapsed_ns(uint64_t start)
{
	return (int64_t)(coil_now() - start);
}

static int fds_at_setup;

int test_fd_setup(void **state)
{
	(void)state;
	fds_at_setup = test_count_fds();
	return 0;
}

int test_fd_teardown(void **state)
{
	(void)state;
	/* Teardown fails the test when a descriptor leaked. */
	return test_count_fds() == fds_at_setup ? 0 : -1;
}
