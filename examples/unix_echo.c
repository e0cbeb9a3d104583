/* SPDX-License-Identifier: MIT */
/*
 * unix_echo - an echo server on a Unix stream socket, and clients for it.
 *
 *   unix_echo [-P PATH] [-c CLIENTS] [-s]
 *
 * The server accepts on PATH (default: an abstract socket, "@coil-echo-PID")
 * and serves each connection in its own task, reading lines through a
 * buffered stream and writing them back. Without -s, CLIENTS tasks
 * (default 3) each send a few lines, print the echoes and disconnect; then
 * the listener is closed (removing a filesystem PATH) and the program
 * exits. With -s the server runs until SIGINT or SIGTERM (read from a
 * signalfd through the ring), then closes the listener - removing a
 * filesystem PATH - and exits 0. A line longer than 1023 bytes is echoed
 * in pieces, not dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <coil.h>

#include "num_arg.h"
#include "shutdown_signal.h"

static void *serve(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct coil_stream *s;
	char line[1024];
	ssize_t n;

	if (coil_stream_create(fd, 0, &s) == 0) {
		for (;;) {
			n = coil_stream_read_line(s, line, sizeof(line), -1);
			/* No newline within the buffer: echo what there is. */
			if (n == -EMSGSIZE)
				n = coil_stream_read(s, line, sizeof(line), -1);
			if (n <= 0 ||
			    coil_stream_write(s, line, (size_t)n, -1) < 0 ||
			    coil_stream_flush(s, -1) < 0)
				break;
		}
		coil_stream_destroy(s);
	}
	coil_close(fd);
	return NULL;
}

static void *accept_loop(void *arg)
{
	struct coil_listener *l = arg;
	struct coil_task *t;
	int fd;

	while ((fd = coil_listener_accept(l, NULL, NULL, -1)) >= 0) {
		if (coil_spawn(&t, serve, (void *)(intptr_t)fd) < 0) {
			coil_close(fd);
			continue;
		}
		coil_detach(t);
	}
	return NULL; /* the listener was closed */
}

struct client_arg {
	const char *path;
	int id;
};

static void *client(void *arg)
{
	struct client_arg *c = arg;
	char msg[64], echo[64];
	int fd = coil_unix_connect(c->path, COIL_NSEC_PER_SEC), i;
	ssize_t n;

	if (fd < 0)
		return (void *)(intptr_t)fd;
	for (i = 0; i < 3; i++) {
		n = snprintf(msg, sizeof(msg), "client %d line %d\n", c->id, i);
		if (coil_send_all(fd, msg, (size_t)n, NULL, -1) < 0 ||
		    coil_recv(fd, echo, (size_t)n, MSG_WAITALL) != n)
			break;
		printf("unix_echo: client %d got back: %.*s", c->id, (int)n,
		       echo);
	}
	coil_close(fd);
	return i == 3 ? NULL : (void *)-1;
}

struct args {
	char path[108];
	int clients;
	bool serve_only;
	int sfd; /* signalfd for SIGINT/SIGTERM (-s) */
};

static void *amain(void *arg)
{
	struct args *a = arg;
	struct coil_listener *l;
	struct coil_task *acc, *t[64];
	struct client_arg ca[64];
	void *res[64];
	int i, n, bad = 0, err = coil_unix_listen(a->path, NULL, &l);

	if (err) {
		fprintf(stderr, "unix_echo: listen %s: %s\n", a->path,
			coil_strerror(err));
		return (void *)1;
	}
	printf("unix_echo: listening on %s\n", a->path);
	fflush(stdout);
	if (coil_spawn(&acc, accept_loop, l) < 0) {
		coil_listener_close(l); /* unlinks the path too */
		return (void *)1;
	}
	if (a->serve_only) {
		struct signalfd_siginfo si;

		coil_read(a->sfd, &si, sizeof(si), -1);
		coil_listener_close(l); /* the accept loop ends with -EBADF */
		return coil_join(acc, NULL) ? (void *)1 : NULL;
	}
	for (n = 0; n < a->clients; n++) {
		ca[n] = (struct client_arg){ a->path, n };
		if (coil_spawn(&t[n], client, &ca[n]) < 0) {
			bad = 1; /* still wind down what started */
			break;
		}
	}
	coil_gather(t, (size_t)n, res, NULL);
	for (i = 0; i < n; i++)
		bad += res[i] != NULL;
	coil_listener_close(l);
	coil_join(acc, NULL);
	return bad ? (void *)1 : NULL;
}

int main(int argc, char **argv)
{
	struct args a = { .clients = 3 };
	void *failed = NULL;
	int c, err;

	snprintf(a.path, sizeof(a.path), "@coil-echo-%d", (int)getpid());
	while ((c = getopt(argc, argv, "P:c:s")) != -1) {
		switch (c) {
		case 'P':
			if (strlen(optarg) >= sizeof(a.path)) {
				fprintf(stderr, "unix_echo: -P: at most %zu "
					"bytes\n", sizeof(a.path) - 1);
				return 2;
			}
			snprintf(a.path, sizeof(a.path), "%s", optarg);
			break;
		case 'c':
			a.clients = (int)num_arg("unix_echo", "-c", optarg, 1,
						 64);
			break;
		case 's': a.serve_only = true; break;
		default:
			fprintf(stderr, "usage: unix_echo [-P PATH] [-c CLIENTS] "
				"[-s]\n");
			return 2;
		}
	}
	if (a.clients < 1 || a.clients > 64) {
		fprintf(stderr, "unix_echo: -c takes 1..64\n");
		return 2;
	}
	if (a.serve_only && (a.sfd = shutdown_signalfd("unix_echo")) < 0)
		return 1;
	err = coil_run(amain, &a, &failed);
	if (err) {
		fprintf(stderr, "unix_echo: %s\n", coil_strerror(err));
		/* 77: io_uring refused here (the tests count it a skip) */
		return err == -ENOSYS || err == -EPERM ? 77 : 1;
	}
	return failed ? 1 : 0;
}
