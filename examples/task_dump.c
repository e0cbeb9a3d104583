/* SPDX-License-Identifier: MIT */
/*
 * task_dump - print what every task is doing, on demand, from a signal.
 *
 * SIGUSR1's handler only calls coil_dump_request() (async-signal-safe); the
 * runtime, woken from io_uring_enter by the signal, writes the dump to
 * stderr at the start of its next loop turn. Here the program sends itself
 * the signal while a few named tasks sleep and wait on a pipe.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <coil.h>

static void on_sigusr1(int sig)
{
	(void)sig;
	coil_dump_request();
}

static void *sleeper(void *arg)
{
	(void)arg;
	coil_sleep(10 * COIL_NSEC_PER_SEC);
	return NULL;
}

static void *reader(void *arg)
{
	char buf[64];

	return (void *)coil_read(*(int *)arg, buf, sizeof(buf), -1);
}

static void *amain(void *arg)
{
	struct coil_spawn_opts o = { .name = "sleeper" };
	struct coil_task *t[3];
	int fds[2];

	(void)arg;
	if (pipe(fds) != 0)
		return (void *)1;
	coil_spawn_opts(&t[0], &o, sleeper, NULL);
	o.name = "pipe-reader";
	coil_spawn_opts(&t[1], &o, reader, &fds[0]);
	o.name = "another-sleeper";
	o.stack_size = 16 * 1024;
	coil_spawn_opts(&t[2], &o, sleeper, NULL);
	coil_sleep(10 * COIL_NSEC_PER_MSEC); /* let them reach their waits */
	printf("sending SIGUSR1 to myself; the dump follows on stderr\n");
	fflush(stdout);
	kill(getpid(), SIGUSR1);
	coil_sleep(10 * COIL_NSEC_PER_MSEC); /* the loop serves the request */
	/* Returning cancels the rest: coil_run joins them before it returns. */
	coil_close(fds[0]);
	coil_close(fds[1]);
	return NULL;
}

int main(void)
{
	struct sigaction sa;
	int err;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigusr1;
	sigaction(SIGUSR1, &sa, NULL);
	err = coil_run(amain, NULL, NULL);
	if (err) {
		fprintf(stderr, "coil_run: %s\n", coil_strerror(err));
		return 1;
	}
	printf("all tasks cancelled and joined\n");
	return 0;
}
