/* SPDX-License-Identifier: MIT */
/*
 * udp_echo - a UDP echo server and a client for it, in one runtime.
 *
 *   udp_echo [-p PORT] [-n COUNT] [-s]
 *
 * The server task answers every datagram to its sender (recvmsg/sendmsg
 * through the ring). Without -s, a client task on a connected socket sends
 * COUNT datagrams (default 5), waits up to a second for each echo, prints
 * them, and the program exits; with -s the server runs until SIGINT or
 * SIGTERM (read from a signalfd through the ring), then exits 0.
 * PORT 0 (the default) picks a free port. Prints "READY port=N" once the
 * socket is bound (scripts and the tests wait for it).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <coil.h>

#include "num_arg.h"
#include "shutdown_signal.h"

static void *server(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct sockaddr_storage from;
	socklen_t fromlen = sizeof(from);
	/* The largest datagram: on the heap, not the task's 64 KiB stack. */
	size_t size = 65536;
	char *buf = malloc(size);
	ssize_t n;

	if (!buf)
		return (void *)1;
	while ((n = coil_recvfrom(fd, buf, size, &from, &fromlen, -1)) >= 0) {
		if ((size_t)n > size)
			n = (ssize_t)size; /* cut: echo what we kept */
		coil_sendto(fd, buf, (size_t)n, (struct sockaddr *)&from,
			    fromlen, -1);
	}
	free(buf);
	return NULL; /* cancelled */
}

static int client(uint16_t port, int count)
{
	char msg[64], reply[64];
	int fd = coil_udp_connect("127.0.0.1", port), i, lost = 0;
	ssize_t n;

	if (fd < 0)
		return fd;
	for (i = 0; i < count; i++) {
		n = snprintf(msg, sizeof(msg), "datagram %d", i);
		coil_send(fd, msg, (size_t)n, 0);
		n = coil_recv_timeout(fd, reply, sizeof(reply) - 1, 0,
				      COIL_NSEC_PER_SEC);
		if (n < 0) {
			printf("udp_echo: datagram %d: %s\n", i,
			       coil_strerror((int)n));
			lost++;
			continue;
		}
		reply[n] = '\0';
		printf("udp_echo: sent \"%s\", got \"%s\" back\n", msg, reply);
	}
	coil_close(fd);
	return lost ? -EIO : 0;
}

struct args {
	uint16_t port;
	int count;
	bool serve_only;
	int sfd; /* signalfd for SIGINT/SIGTERM (-s) */
};

static void *amain(void *arg)
{
	struct args *a = arg;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct coil_task *t;
	int fd = coil_udp_bind("127.0.0.1", a->port, false), err;

	if (fd < 0) {
		fprintf(stderr, "udp_echo: bind: %s\n", coil_strerror(fd));
		return (void *)1;
	}
	getsockname(fd, (struct sockaddr *)&ss, &len);
	a->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	printf("udp_echo: serving on 127.0.0.1 port %u\n", a->port);
	printf("READY port=%u\n", a->port);
	fflush(stdout);
	if (coil_spawn(&t, server, (void *)(intptr_t)fd) < 0) {
		coil_close(fd);
		return (void *)1;
	}
	if (a->serve_only) {
		struct signalfd_siginfo si;

		/*
		 * Until SIGINT/SIGTERM: a plain default action would kill the
		 * process with the signal's status instead of a clean exit 0.
		 */
		err = (int)coil_read(a->sfd, &si, sizeof(si), -1);
		err = err == (int)sizeof(si) ? 0 : -EIO;
	} else {
		err = client(a->port, a->count);
	}
	coil_cancel(t);
	coil_join(t, NULL);
	coil_close(fd);
	return err ? (void *)1 : NULL;
}

int main(int argc, char **argv)
{
	struct args a = { 0, 5, false, -1 };
	void *failed = NULL;
	int c, err;

	while ((c = getopt(argc, argv, "p:n:s")) != -1) {
		switch (c) {
		case 'p':
			a.port = (uint16_t)num_arg("udp_echo", "-p", optarg, 0,
						   65535);
			break;
		case 'n':
			a.count = (int)num_arg("udp_echo", "-n", optarg, 0,
					       INT_MAX);
			break;
		case 's': a.serve_only = true; break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	if (a.serve_only && (a.sfd = shutdown_signalfd("udp_echo")) < 0)
		return 1;
	err = coil_run(amain, &a, &failed);
	if (err) {
		fprintf(stderr, "udp_echo: %s\n", coil_strerror(err));
		/* 77: io_uring refused here (the tests count it a skip) */
		return err == -ENOSYS || err == -EPERM ? 77 : 1;
	}
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: udp_echo [-p PORT] [-n COUNT] [-s]\n");
	return 2;
}
