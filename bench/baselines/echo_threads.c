/* SPDX-License-Identifier: MIT */
/*
 * bench/baselines/echo_threads.c - the thread-per-connection baseline of
 * the echo scenario (bench/ECHO.md): blocking sockets, one thread each
 * (128 KiB stacks), read() then write() until everything is written.
 *
 * The main thread blocks SIGTERM and SIGINT before any other thread
 * exists (so all inherit the mask), starts the accepting thread and waits
 * for either signal with sigwait(); then the process exits 0.
 *
 * Usage: echo_threads -p PORT
 * Prints "READY port=N" once it accepts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#define PROG "echo_threads"
#define BUF_SIZE 65536
#define STACK_SIZE (128 * 1024)

static void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", PROG, what, strerror(err));
	exit(1);
}

/* Write all @n bytes; 0, or -1 on error. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* One connection's thread; @arg is the socket. */
static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char *buf = malloc(BUF_SIZE);

	while (buf) {
		ssize_t n = read(fd, buf, BUF_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || write_all(fd, buf, (size_t)n) < 0)
			break;
	}
	free(buf);
	close(fd);
	return NULL;
}

/* The accepting thread; @arg is the listening socket. */
static void *accept_loop(void *arg)
{
	int lfd = (int)(intptr_t)arg, one = 1;
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, STACK_SIZE);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		int err, fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED ||
			    errno == EMFILE || errno == ENFILE)
				continue;
			die("accept4", errno);
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		err = pthread_create(&t, &attr, echo_conn, (void *)(intptr_t)fd);
		if (err) {
			fprintf(stderr, "%s: pthread_create: %s\n", PROG,
				strerror(err));
			close(fd);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	unsigned port = 0;
	sigset_t set;
	pthread_t t;
	int opt, sig, lfd, err;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt != 'p')
			return 2;
		port = (unsigned)strtoul(optarg, NULL, 10);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	lfd = baseline_listen(PROG, &port, 0, 0);
	err = pthread_create(&t, NULL, accept_loop, (void *)(intptr_t)lfd);
	if (err)
		die("pthread_create", err);
	printf("READY port=%u\n", port);
	fflush(stdout);
	sigwait(&set, &sig);
	return 0;
}
