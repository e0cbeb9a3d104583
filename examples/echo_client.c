/* SPDX-License-Identifier: MIT */
/*
 * echo_client - N concurrent connections, M messages each, against an echo
 * server; prints round trips per second and the latency spread.
 *
 *   echo_client [-H HOST] [-p PORT] [-c CONNS] [-n MSGS] [-s SIZE]
 *
 * Defaults: localhost, port 7000, 64 connections, 10000 messages each,
 * 128-byte messages. Every echoed byte is checked. Exit status 0 when every
 * connection completed all its messages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <coil.h>

#include "num_arg.h"

#define MAX_SIZE (1 << 20) /* bytes per message */

struct opts {
	const char *host;
	uint16_t port;
	int conns;
	long msgs;
	size_t size;
};

struct client {
	const struct opts *o;
	uint64_t *lat;    /* this client's round-trip times, ns */
	long done;
	int err;
};

static int one_round_trip(int fd, char *out, char *in, size_t size, long i)
{
	ssize_t n;

	memcpy(out, &i, sizeof(i)); /* a sequence number to check */
	n = coil_send_all(fd, out, size, NULL, -1);
	if (n < 0)
		return (int)n;
	n = coil_recv(fd, in, size, MSG_WAITALL);
	if (n < 0)
		return (int)n;
	if ((size_t)n != size || memcmp(in, out, size))
		return -EPROTO;
	return 0;
}

static void *client(void *arg)
{
	struct client *c = arg;
	const struct opts *o = c->o;
	char *out = calloc(2, o->size), *in = out + o->size;
	uint64_t t0;
	int fd;

	if (!out) {
		c->err = -ENOMEM;
		return NULL;
	}
	memset(out, 'e', o->size);
	fd = coil_tcp_connect(o->host, o->port, 5 * COIL_NSEC_PER_SEC);
	if (fd < 0) {
		c->err = fd;
		free(out);
		return NULL;
	}
	for (c->done = 0; c->done < o->msgs; c->done++) {
		t0 = coil_now();
		c->err = one_round_trip(fd, out, in, o->size, c->done);
		if (c->err)
			break;
		c->lat[c->done] = coil_now() - t0;
	}
	coil_close(fd);
	free(out);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Merge every client's latencies and print the percentiles. */
static void report(struct client *cl, const struct opts *o, double secs)
{
	size_t total = 0, k = 0;
	uint64_t *all;
	int i;

	for (i = 0; i < o->conns; i++)
		total += (size_t)cl[i].done;
	printf("echo_client: %zu round trips of %zu bytes over %d "
	       "connection(s) in %.3f s: %.0f round trips/s\n", total, o->size,
	       o->conns, secs, (double)total / secs);
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all || !total) {
		free(all);
		return;
	}
	for (i = 0; i < o->conns; i++) {
		memcpy(all + k, cl[i].lat, (size_t)cl[i].done * sizeof(*all));
		k += (size_t)cl[i].done;
	}
	qsort(all, total, sizeof(*all), cmp_u64);
	printf("echo_client: latency p50 %.1f us, p99 %.1f us, max %.1f us\n",
	       (double)all[total / 2] / 1e3,
	       (double)all[total * 99 / 100] / 1e3,
	       (double)all[total - 1] / 1e3);
	free(all);
}

static void *amain(void *arg)
{
	const struct opts *o = arg;
	struct client *cl = calloc((size_t)o->conns, sizeof(*cl));
	struct coil_task **t = calloc((size_t)o->conns, sizeof(*t));
	uint64_t start;
	int i, failed = 0;

	if (!cl || !t)
		return (void *)1;
	for (i = 0; i < o->conns; i++) {
		cl[i].o = o;
		cl[i].lat = malloc((size_t)o->msgs * sizeof(uint64_t));
		if (!cl[i].lat || coil_spawn(&t[i], client, &cl[i]) < 0) {
			fprintf(stderr, "echo_client: out of memory for %d "
				"connections of %ld messages\n", o->conns,
				o->msgs);
			return (void *)1;
		}
	}
	start = coil_now();
	coil_gather(t, (size_t)o->conns, NULL, NULL);
	report(cl, o, (double)(coil_now() - start) / 1e9);
	for (i = 0; i < o->conns; i++) {
		if (cl[i].err && !failed++)
			fprintf(stderr, "echo_client: connection %d: %s\n", i,
				coil_strerror(cl[i].err));
		free(cl[i].lat);
	}
	free(cl);
	free(t);
	return (void *)(intptr_t)(failed != 0);
}

int main(int argc, char **argv)
{
	struct opts o = { "localhost", 7000, 64, 10000, 128 };
	void *failed = NULL;
	int c, err;

	while ((c = getopt(argc, argv, "H:p:c:n:s:")) != -1) {
		switch (c) {
		case 'H': o.host = optarg; break;
		case 'p':
			o.port = (uint16_t)num_arg("echo_client", "-p", optarg,
						   1, 65535);
			break;
		case 'c':
			o.conns = (int)num_arg("echo_client", "-c", optarg, 1,
					       65536);
			break;
		case 'n':
			o.msgs = (long)num_arg("echo_client", "-n", optarg, 1,
					       1L << 30);
			break;
		case 's':
			o.size = (size_t)num_arg("echo_client", "-s", optarg,
						 sizeof(long), MAX_SIZE);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	/*
	 * A round trip sends the whole message before reading its echo: one
	 * larger than what the two sockets' buffers hold would leave client
	 * and server both blocked in send. 1 MiB fits loopback's defaults.
	 */
	if (o.conns < 1 || o.msgs < 1 || o.size < sizeof(long) ||
	    o.size > MAX_SIZE) {
		fprintf(stderr, "echo_client: need -c >= 1, -n >= 1, "
			"%zu <= -s <= %d\n", sizeof(long), MAX_SIZE);
		return 2;
	}
	err = coil_run(amain, &o, &failed);
	if (err) {
		fprintf(stderr, "echo_client: %s\n", coil_strerror(err));
		return 1;
	}
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: echo_client [-H HOST] [-p PORT] [-c CONNS] "
		"[-n MSGS] [-s SIZE]\n");
	return 2;
}
