/* SPDX-License-Identifier: MIT */
/*
 * tests/test_ring.c - a tiny ring drives many more ops than it has SQEs:
 * the SQ fills, is flushed, and every op still completes correctly.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

#define PTR(x) ((void *)(intptr_t)(x))
#define INT(p) ((int)(intptr_t)(p))

#define RING_SQ 8
#define RING_OPS 10000

struct ring_job {
	int null_fd, zero_fd;
	int bad_results;
	int done;
};

static struct ring_job job;

static void *write_null_read_zero(void *arg)
{
	int i = INT(arg);
	size_t len = (size_t)(i % 100) + 1;
	unsigned char buf[128];

	memset(buf, 0xEE, sizeof(buf));
	if (coil_write(job.null_fd, buf, len, -1) != (ssize_t)len)
		job.bad_results++;
	if (coil_read(job.zero_fd, buf, len, -1) != (ssize_t)len ||
	    buf[len - 1] != 0 || buf[len] != 0xEE)
		job.bad_results++;
	job.done++;
	return NULL;
}

static void *body_small_ring(void *arg)
{
	struct coil_spawn_opts so = { .stack_size = 16 * 1024 };
	struct coil_stats st;
	int i;

	(void)arg;
	memset(&job, 0, sizeof(job));
	job.null_fd = coil_openat(AT_FDCWD, "/dev/null", O_WRONLY, 0);
	job.zero_fd = coil_openat(AT_FDCWD, "/dev/zero", O_RDONLY, 0);
	assert_true(job.null_fd >= 0);
	assert_true(job.zero_fd >= 0);
	assert_int_equal(coil_stats_get(&st), 0);
	assert_int_equal(st.sq_entries, RING_SQ);
	/* All spawned before any runs: they all reach the ring at once. */
	for (i = 0; i < RING_OPS; i++)
		assert_int_equal(coil_spawn_opts(NULL, &so,
						 write_null_read_zero,
						 PTR(i)), 0);
	while (job.done < RING_OPS)
		assert_int_equal(coil_sleep(MS(1)), 0);
	assert_int_equal(job.bad_results, 0);
	assert_int_equal(coil_stats_get(&st), 0);
	assert_true(st.sq_full_retries > 0);
	assert_true(st.sqes_submitted >= 2 * RING_OPS);
	assert_true(st.cqes_reaped >= 2 * RING_OPS);
	assert_int_equal(coil_close(job.null_fd), 0);
	assert_int_equal(coil_close(job.zero_fd), 0);
	return NULL;
}

static void test_ring_small_sq_drives_10k_ops(void **state)
{
	struct coil_options o;

	(void)state;
	coil_options_init(&o);
	o.sq_entries = RING_SQ;
	test_run_opts(&o, body_small_ring, NULL, 0);
}

/* ---------------------------------- blocked readers on a tiny ring */

#define PIPES 16
#define READERS 2000

static int pipes[PIPES][2];
static int bytes_read, reader_errors;

static void *read_one_byte(void *arg)
{
	int i = INT(arg);
	char c = 0;

	if (coil_read(pipes[i % PIPES][0], &c, 1, -1) != 1 ||
	    c != (char)('a' + i % PIPES))
		reader_errors++;
	else
		bytes_read++;
	return NULL;
}

static void *body_blocked_readers(void *arg)
{
	struct coil_spawn_opts so = { .stack_size = 16 * 1024 };
	struct coil_task **t = malloc(READERS * sizeof(*t));
	struct coil_stats st;
	int i, p;

	(void)arg;
	assert_non_null(t);
	bytes_read = reader_errors = 0;
	for (p = 0; p < PIPES; p++)
		assert_int_equal(pipe(pipes[p]), 0);
	for (i = 0; i < READERS; i++)
		assert_int_equal(coil_spawn_opts(&t[i], &so, read_one_byte,
						 PTR(i)), 0);
	/* Every reader is now parked in the kernel on an empty pipe. */
	assert_int_equal(coil_sleep(MS(10)), 0);
	assert_int_equal(bytes_read, 0);
	for (p = 0; p < PIPES; p++) {
		char c = (char)('a' + p);

		for (i = 0; i < READERS / PIPES; i++)
			assert_int_equal(coil_write(pipes[p][1], &c, 1, -1), 1);
	}
	assert_int_equal(coil_gather(t, READERS, NULL, NULL), 0);
	assert_int_equal(reader_errors, 0);
	assert_int_equal(bytes_read, READERS);
	assert_int_equal(coil_stats_get(&st), 0);
	assert_true(st.sq_full_retries > 0);
	for (p = 0; p < PIPES; p++) {
		assert_int_equal(coil_close(pipes[p][0]), 0);
		assert_int_equal(coil_close(pipes[p][1]), 0);
	}
	free(t);
	return NULL;
}

static void test_ring_small_sq_blocked_readers_all_complete(void **state)
{
	struct coil_options o;

	(void)state;
	coil_options_init(&o);
	o.sq_entries = RING_SQ;
	test_run_opts(&o, body_blocked_readers, NULL, 0);
}

static void *body_ring_sizes(void *arg)
{
	struct coil_stats st;

	(void)arg;
	assert_int_equal(coil_stats_get(&st), 0);
	assert_int_equal(st.sq_entries, 256);
	assert_true(st.cq_entries >= 2 * st.sq_entries);
	assert_string_equal(coil_backend_name(), "io_uring");
	return NULL;
}

static void test_ring_default_sizes(void **state)
{
	(void)state;
	test_run(body_ring_sizes, NULL);
}

static void *body_plain(void *arg)
{
	int *fds = arg;
	char buf[4];

	assert_int_equal(coil_write(fds[1], "ok", 2, -1), 2);
	assert_int_equal(coil_read(fds[0], buf, sizeof(buf), -1), 2);
	assert_int_equal(coil_sleep(MS(1)), 0);
	return NULL;
}

static void test_ring_flag_variants_work(void **state)
{
	static const unsigned flags[] = { COIL_OPT_PLAIN_RING,
					  COIL_OPT_NO_DEFER_TASKRUN };
	struct coil_options o;
	int p[2];
	size_t i;

	(void)state;
	assert_int_equal(pipe(p), 0);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		coil_options_init(&o);
		o.flags = flags[i];
		test_run_opts(&o, body_plain, p, 0);
	}
	close(p[0]);
	close(p[1]);
}

/* ------------------------------------- a one-entry SQ and linked timeouts */

static int sq1_pipe[2];
static ssize_t sq1_res;
static unsigned sq1_entries;

static void *read_with_timeout(void *arg)
{
	char c;

	(void)arg;
	sq1_res = coil_read_timeout(sq1_pipe[0], &c, 1, -1, MS(20));
	return NULL;
}

static void *body_sq1(void *arg)
{
	struct coil_task *t;
	struct coil_stats st;
	int i;

	(void)arg;
	assert_int_equal(coil_stats_get(&st), 0);
	sq1_entries = st.sq_entries;
	assert_int_equal(coil_spawn(&t, read_with_timeout, NULL), 0);
	/* Bounded: the timeout is 20 ms; give it a second at most. */
	for (i = 0; i < 100 && !coil_task_is_done(t); i++)
		assert_int_equal(coil_sleep(MS(10)), 0);
	/* A hung read ends with -ECANCELED here; the test checks sq1_res. */
	coil_cancel(t);
	coil_join(t, NULL);
	return NULL;
}

/*
 * An op with a timeout needs two adjacent SQEs (the op and its
 * LINK_TIMEOUT). A ring asked for with one SQ entry used to split them
 * over two submissions: the op ran without its timeout and hung.
 */
static void test_ring_one_sq_entry_still_times_out_ops(void **state)
{
	struct coil_options o;

	(void)state;
	assert_int_equal(pipe(sq1_pipe), 0);
	sq1_res = 0;
	coil_options_init(&o);
	o.sq_entries = 1;
	test_run_opts(&o, body_sq1, NULL, 0);
	close(sq1_pipe[0]);
	close(sq1_pipe[1]);
	assert_int_equal(sq1_res, -ETIMEDOUT);
	assert_true(sq1_entries >= 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ring_small_sq_drives_10k_ops),
		cmocka_unit_test(test_ring_small_sq_blocked_readers_all_complete),
		cmocka_unit_test(test_ring_default_sizes),
		cmocka_unit_test(test_ring_flag_variants_work),
		cmocka_unit_test(test_ring_one_sq_entry_still_times_out_ops),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, test_fd_setup, test_fd_teardown);
}
