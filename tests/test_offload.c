/* SPDX-License-Identifier: MIT */
/*
 * tests/test_offload.c - coil_offload: results come back to the right
 * task from another thread; cancelling a queued call drops it, cancelling
 * a running one waits for it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <coil.h>

#define WATCHDOG_S 15
#include "harness.h"

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { ns / COIL_NSEC_PER_SEC, ns % COIL_NSEC_PER_SEC };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* A blocking job: sleep, then return a value. */
struct job {
	int64_t sleep_ns;
	void *value;        /* returned */
	atomic_int started;
	atomic_int finished;
	pthread_t ran_on;
};

static void *job_fn(void *arg)
{
	struct job *j = arg;

	j->ran_on = pthread_self();
	atomic_store(&j->started, 1);
	sleep_ns(j->sleep_ns);
	atomic_store(&j->finished, 1);
	return j->value;
}

/* A task offloading one job; records what coil_offload() said. */
struct offloader {
	struct job job;
	void *result;
	int ret;
};

static void *offloader_main(void *arg)
{
	struct offloader *o = arg;

	o->ret = 1;
	o->result = NULL;
	o->ret = coil_offload(job_fn, &o->job, &o->result);
	return NULL;
}

/* Poll (sleeping 1 ms) until @n jobs have started; false after 3 s. */
static bool wait_started(struct offloader *o, int n)
{
	uint64_t until = coil_now() + 3 * COIL_NSEC_PER_SEC;
	int i, k;

	while (coil_now() < until) {
		for (i = 0, k = 0; i < n; i++)
			k += atomic_load(&o[i].job.started);
		if (k == n)
			return true;
		coil_sleep(MS(1));
	}
	return false;
}

#define NOFF 8
#define POOL 4 /* COIL__POOL_THREADS */

static void *body_results(void *arg)
{
	struct offloader o[NOFF];
	struct coil_task *t[NOFF];
	int i;

	(void)arg;
	memset(o, 0, sizeof(o));
	for (i = 0; i < NOFF; i++) {
		/* Later jobs finish first: completions come back shuffled. */
		o[i].job.sleep_ns = MS(2) * (NOFF - i);
		o[i].job.value = PTR(1000 + i);
		CHECK_EQ(coil_spawn(&t[i], offloader_main, &o[i]), 0);
	}
	for (i = 0; i < NOFF; i++) {
		CHECK_EQ(coil_join(t[i], NULL), 0);
		CHECK_EQ(o[i].ret, 0);
		CHECK_EQ(INT(o[i].result), 1000 + i);
	}
	return NULL;
}

static void test_offload_result_arrives_in_its_task(void **state)
{
	(void)state;
	run_main(body_results, NULL);
}

static void *body_other_thread(void *arg)
{
	struct offloader o;

	(void)arg;
	memset(&o, 0, sizeof(o));
	o.job.value = PTR(5);
	CHECK_EQ(coil_offload(job_fn, &o.job, &o.result), 0);
	CHECK_EQ(INT(o.result), 5);
	CHECK(!pthread_equal(o.job.ran_on, pthread_self()));
	CHECK_EQ(coil_offload(job_fn, &o.job, NULL), 0); /* result optional */
	CHECK_EQ(coil_offload(NULL, NULL, NULL), -EINVAL);
	return NULL;
}

static void test_offload_runs_on_another_thread(void **state)
{
	(void)state;
	assert_int_equal(coil_offload(job_fn, NULL, NULL), -EPERM);
	run_main(body_other_thread, NULL);
}

static void *body_cancel_queued(void *arg)
{
	struct offloader busy[POOL], o;
	struct coil_task *tb[POOL], *t;
	uint64_t start;
	int i;

	(void)arg;
	memset(busy, 0, sizeof(busy));
	memset(&o, 0, sizeof(o));
	for (i = 0; i < POOL; i++) {
		busy[i].job.sleep_ns = MS(300);
		CHECK_EQ(coil_spawn(&tb[i], offloader_main, &busy[i]), 0);
	}
	CHECK(wait_started(busy, POOL)); /* every pool thread is busy */
	o.job.value = PTR(7);
	CHECK_EQ(coil_spawn(&t, offloader_main, &o), 0);
	CHECK_EQ(coil_yield(), 0); /* its job is queued */
	start = coil_now();
	CHECK_EQ(coil_cancel(t), 0);
	CHECK_EQ(coil_join(t, NULL), -ECANCELED);
	CHECK(elapsed_ns(start) < MS(50));
	CHECK_EQ(o.ret, -ECANCELED);
	for (i = 0; i < POOL; i++) {
		CHECK_EQ(coil_join(tb[i], NULL), 0);
		CHECK_EQ(busy[i].ret, 0);
	}
	CHECK_EQ(coil_sleep(MS(20)), 0);
	CHECK_EQ(atomic_load(&o.job.started), 0); /* dropped, never run */
	return NULL;
}

static void test_offload_cancel_queued_is_ecanceled_quickly(void **state)
{
	(void)state;
	run_main(body_cancel_queued, NULL);
}

static void *body_cancel_running(void *arg)
{
	struct offloader o;
	struct coil_task *t;
	uint64_t start;

	(void)arg;
	memset(&o, 0, sizeof(o));
	o.job.sleep_ns = MS(100);
	o.job.value = PTR(42);
	CHECK_EQ(coil_spawn(&t, offloader_main, &o), 0);
	CHECK(wait_started(&o, 1));
	start = coil_now();
	CHECK_EQ(coil_cancel(t), 0);
	CHECK_EQ(coil_join(t, NULL), -ECANCELED);
	/* It waited for the job instead of leaving it running. */
	CHECK_EQ(atomic_load(&o.job.finished), 1);
	CHECK(elapsed_ns(start) >= MS(50));
	CHECK_EQ(o.ret, -ECANCELED);
	CHECK_EQ(INT(o.result), 42);
	return NULL;
}

static void test_offload_cancel_running_waits_and_keeps_result(void **state)
{
	(void)state;
	run_main(body_cancel_running, NULL);
}

static void *body_deadline_running(void *arg)
{
	struct coil_deadline d;
	struct offloader o;
	uint64_t start = coil_now();
	int ret;

	(void)arg;
	memset(&o, 0, sizeof(o));
	o.job.sleep_ns = MS(80);
	o.job.value = PTR(9);
	CHECK_EQ(coil_deadline_enter(&d, (uint64_t)MS(20)), 0);
	ret = coil_offload(job_fn, &o.job, &o.result);
	coil_deadline_exit(&d);
	CHECK_EQ(ret, -ETIMEDOUT);
	CHECK_EQ(atomic_load(&o.job.finished), 1);
	CHECK(elapsed_ns(start) >= MS(80));
	CHECK_EQ(INT(o.result), 9);
	return NULL;
}

static void test_offload_deadline_waits_for_running_job(void **state)
{
	(void)state;
	run_main(body_deadline_running, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offload_result_arrives_in_its_task),
		cmocka_unit_test(test_offload_runs_on_another_thread),
		cmocka_unit_test(test_offload_cancel_queued_is_ecanceled_quickly),
		cmocka_unit_test(test_offload_cancel_running_waits_and_keeps_result),
		cmocka_unit_test(test_offload_deadline_waits_for_running_job),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
