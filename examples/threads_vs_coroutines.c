/* SPDX-License-Identifier: MIT */
/*
 * threads_vs_coroutines - the lecture's comparison: N "slow" jobs that each
 * wait 100 ms, done with one pthread per job and with one coil task per
 * job. Both finish in about 100 ms; what differs is what it costs to get
 * there. Each variant runs in a forked child so that its peak resident
 * memory (VmHWM in /proc/self/status) is its own.
 *
 * Usage: threads_vs_coroutines [N...]   (default: 100 10000)
 *
 * Exit status 1 when a variant could not start all N jobs (its row says
 * why; no ratio is printed for unequal work), 2 for a bad N.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <coil.h>

#include "num_arg.h"

#define JOB_MS 100

/* What a child measured, sent back to the parent through a pipe. */
struct result {
	double wall_s;     /* from first start to last finish */
	long hwm_kib;      /* VmHWM at the end */
	long done;         /* jobs that completed */
	int err;           /* 0, or why the run stopped (negative errno) */
};

static long vm_hwm_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static double now_s(void)
{
	return (double)coil_now() / 1e9;
}

/* -------------------------------------------------------------- threads */

static void *thread_job(void *arg)
{
	struct timespec ts = { 0, JOB_MS * 1000000L };

	(void)arg;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
	return NULL;
}

static void run_threads(long n, struct result *r)
{
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	double start = now_s();
	long i, started = 0;
	int err = 0;

	if (!t) {
		r->err = -ENOMEM;
		return;
	}
	for (i = 0; i < n; i++) {
		err = pthread_create(&t[i], NULL, thread_job, NULL);
		if (err)
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	r->wall_s = now_s() - start;
	r->done = started;
	r->err = -err;
	free(t);
}

/* ---------------------------------------------------------- coroutines */

static void *task_job(void *arg)
{
	(void)arg;
	coil_sleep(JOB_MS * COIL_NSEC_PER_MSEC);
	return NULL;
}

static void *coil_main(void *arg)
{
	struct result *r = arg;
	long n = r->done, i, started = 0;
	struct coil_task **t = calloc((size_t)n, sizeof(*t));
	double start = now_s();
	int err = 0;

	if (!t) {
		r->err = -ENOMEM;
		return NULL;
	}
	for (i = 0; i < n; i++) {
		err = coil_spawn(&t[i], task_job, NULL);
		if (err)
			break;
		started++;
	}
	coil_gather(t, (size_t)started, NULL, NULL);
	r->wall_s = now_s() - start;
	r->done = started;
	r->err = err;
	free(t);
	return NULL;
}

static void run_coil(long n, struct result *r)
{
	int err;

	r->done = n; /* in: how many to start */
	err = coil_run(coil_main, r, NULL);
	if (err)
		r->err = err;
}

/* ------------------------------------------------------------- harness */

/* Run @fn(n) in a forked child; fills @r from what the child sends. */
static int measure(void (*fn)(long, struct result *), long n,
		   struct result *r)
{
	int fds[2], status;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	if (pipe(fds))
		return -errno;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		struct result cr = { 0 };

		close(fds[0]);
		if (fn)
			fn(n, &cr);
		cr.hwm_kib = vm_hwm_kib();
		if (write(fds[1], &cr, sizeof(cr)) != (ssize_t)sizeof(cr))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], r, sizeof(*r)) != (ssize_t)sizeof(*r))
		r->err = -EIO;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return 0;
}

static void print_row(const char *name, long n, const struct result *r,
		      long base_kib)
{
	printf("  %-18s %8.3f s %10ld KiB %9.1f KiB/job %7ld/%ld done%s%s\n",
	       name, r->wall_s, r->hwm_kib,
	       (double)(r->hwm_kib - base_kib) / (double)n, r->done, n,
	       r->err ? "  stopped: " : "", r->err ? coil_strerror(r->err) : "");
}

int main(int argc, char **argv)
{
	static const long defaults[] = { 100, 10000 };
	struct result idle, th, co;
	int i, count = argc > 1 ? argc - 1 : 2, failed = 0;

	/* Every N is checked before the first run. */
	for (i = 1; i < argc; i++)
		num_arg("threads_vs_coroutines", "N", argv[i], 1, 100000000);
	measure(NULL, 0, &idle);
	printf("N jobs that each wait %d ms; an idle child peaks at %ld KiB\n",
	       JOB_MS, idle.hwm_kib);
	printf("  %-18s %10s %14s %17s\n", "variant", "wall", "peak RSS",
	       "(peak-idle)/job");
	for (i = 0; i < count; i++) {
		long n = argc > 1 ? atol(argv[i + 1]) : defaults[i];

		printf("N = %ld\n", n);
		measure(run_threads, n, &th);
		print_row("pthread per job", n, &th, idle.hwm_kib);
		measure(run_coil, n, &co);
		print_row("coil task per job", n, &co, idle.hwm_kib);
		if (th.err || co.err || th.done != n || co.done != n) {
			failed = 1;
			continue;
		}
		if (co.wall_s > 0 && co.hwm_kib > idle.hwm_kib)
			printf("  threads/coil: %.1fx the time, %.1fx the "
			       "memory above idle\n", th.wall_s / co.wall_s,
			       (double)(th.hwm_kib - idle.hwm_kib) /
				       (double)(co.hwm_kib - idle.hwm_kib));
	}
	return failed;
}
