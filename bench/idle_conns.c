/* SPDX-License-Identifier: MIT */
/*
 * bench/idle_conns.c - server memory per idle connection, with and without
 * a provided buffer ring (issue #4: "100,000 idle connections do not each
 * pin a receive buffer").
 *
 *   idle_conns [N] [REPS]      (default 10000 connections, 3 repetitions)
 *
 * Each measurement is a fresh server process: a task per connection, each
 * connection receives one 2 KiB request, echoes it, then idles. Its RSS is
 * read before the first accept and once all N connections are idle; the
 * difference over N is the cost of one idle connection (task struct,
 * touched stack pages, buffers, coil's bookkeeping; kernel socket memory is
 * not in RSS). Two servers, interleaved per repetition:
 *   coil  - coil_recvq: a multishot receive into a shared ring of 1024 x
 *           4 KiB buffers (its 4 MiB are counted in the total);
 *   base  - coil_recv into a 16 KiB buffer on the task's stack, the usual
 *           per-connection receive buffer (same runtime, same tasks).
 * The clients run in another process (a second descriptor table: N
 * connections need 2N descriptors). N is bounded by RLIMIT_NOFILE.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <coil.h>

#include "common.h"

#define MSG 2048

static unsigned n_conns;

/* -------------------------------------------------------------- clients */

struct clients {
	uint16_t port;
	int ready_fd;   /* write 1 byte when every connection is idle */
	int exit_fd;    /* readable when the clients may go */
	unsigned idle;
	int failed;
};

static void *client(void *arg)
{
	struct clients *c = arg;
	char buf[MSG];
	int fd = coil_tcp_connect("127.0.0.1", c->port, 30 * COIL_NSEC_PER_SEC);

	memset(buf, 'r', sizeof(buf));
	if (fd < 0 || coil_send_all(fd, buf, MSG, NULL, -1) != MSG ||
	    coil_recv(fd, buf, MSG, MSG_WAITALL) != MSG) {
		c->failed++;
	}
	if (++c->idle == n_conns)
		(void)!write(c->ready_fd, "r", 1);
	/* Idle until the server has measured. */
	coil_poll(c->exit_fd, 1 /* POLLIN */);
	if (fd >= 0)
		coil_close(fd);
	return NULL;
}

static void *clients_main(void *arg)
{
	struct coil_spawn_opts so = { .stack_size = 16384 };
	struct coil_task **t = calloc(n_conns, sizeof(*t));
	unsigned i;

	for (i = 0; t && i < n_conns; i++)
		if (coil_spawn_opts(&t[i], &so, client, arg) < 0)
			return (void *)1;
	coil_gather(t, n_conns, NULL, NULL);
	free(t);
	return ((struct clients *)arg)->failed ? (void *)1 : NULL;
}

/* -------------------------------------------------------------- server */

struct server {
	bool ring;                 /* coil_recvq, else coil_recv */
	struct coil_bufring *br;
	struct coil_listener *l;
	int ready_fd;
	int pipes[3];              /* port, result, go (write ends) */
};

static void serve_recv(int fd)
{
	char buf[16384]; /* the per-connection buffer */
	ssize_t n;

	while ((n = coil_recv(fd, buf, sizeof(buf), 0)) > 0)
		coil_send_all(fd, buf, (size_t)n, NULL, -1);
}

static void serve_ring(struct server *s, int fd)
{
	struct coil_recvq *q;
	struct coil_buf b;

	if (coil_recvq_open(fd, s->br, &q) < 0)
		return;
	while (coil_recvq_next(q, &b, -1) > 0) {
		coil_send_all(fd, b.data, b.len, NULL, -1);
		coil_buf_release(q, &b);
	}
	coil_recvq_close(q);
}

struct conn {
	struct server *s;
	int fd;
};

static void *conn_task(void *arg)
{
	struct conn c = *(struct conn *)arg;

	free(arg);
	if (c.s->ring)
		serve_ring(c.s, c.fd);
	else
		serve_recv(c.fd);
	coil_close(c.fd);
	return NULL;
}

static void *server_main(void *arg)
{
	struct server *s = arg;
	struct coil_spawn_opts so = { .stack_size = 32768 };
	struct coil_task *t;
	struct conn *c;
	long before, after;
	unsigned i;
	char b;
	int fd;

	before = bench_status_kb("VmRSS") * 1024;
	for (i = 0; i < n_conns; i++) {
		fd = coil_listener_accept(s->l, NULL, NULL,
					  30 * COIL_NSEC_PER_SEC);
		c = malloc(sizeof(*c));
		if (fd < 0 || !c)
			bench_die("idle_conns", "accept", fd < 0 ? fd : -ENOMEM);
		*c = (struct conn){ s, fd };
		if (coil_spawn_opts(&t, &so, conn_task, c) < 0)
			bench_die("idle_conns", "spawn", -ENOMEM);
		coil_detach(t);
	}
	if (coil_read(s->ready_fd, &b, 1, -1) != 1)
		bench_die("idle_conns", "clients", -EIO);
	coil_sleep(100 * COIL_NSEC_PER_MSEC); /* the last echoes finish */
	after = bench_status_kb("VmRSS") * 1024;
	return (void *)(intptr_t)((after - before) / (long)n_conns);
}

/* The server process: listen, tell the clients where, measure, report. */
static void *server_proc(void *arg)
{
	struct server *s = arg;
	int *fds = s->pipes; /* port out, result out, go out */
	uint16_t port;
	long per_conn;

	if (coil_tcp_listen("127.0.0.1", 0, NULL, &s->l) < 0 ||
	    (s->ring && coil_bufring_create(1024, 4096, &s->br) < 0))
		return (void *)1;
	port = (uint16_t)coil_listener_port(s->l);
	if (write(fds[0], &port, sizeof(port)) != sizeof(port))
		return (void *)1;
	per_conn = (long)(intptr_t)server_main(s);
	if (write(fds[1], &per_conn, sizeof(per_conn)) != sizeof(per_conn))
		return (void *)1;
	(void)!write(fds[2], "g", 1); /* the clients may close */
	coil_listener_close(s->l);
	/* The connection tasks are cancelled by coil_run() on return; the
	 * process exits right after, so the ring is not destroyed here. */
	return NULL;
}

/* One fresh server process and its clients; returns bytes per connection. */
static long measure(bool ring)
{
	int port_pipe[2], ready[2], go[2], result[2], status;
	struct clients c = { 0 };
	struct server s = { .ring = ring };
	pid_t pc, ps;
	long per_conn = -1;
	void *res = NULL;

	if (pipe(ready) || pipe(go) || pipe(port_pipe) || pipe(result))
		bench_die("idle_conns", "pipe", -errno);
	pc = fork();
	if (pc == 0) { /* the clients */
		if (read(port_pipe[0], &c.port, sizeof(c.port)) != sizeof(c.port))
			_exit(2);
		c.ready_fd = ready[1];
		c.exit_fd = go[0];
		_exit(coil_run(clients_main, &c, &res) || res ? 1 : 0);
	}
	ps = fork();
	if (ps == 0) { /* the server */
		s.ready_fd = ready[0];
		s.pipes[0] = port_pipe[1];
		s.pipes[1] = result[1];
		s.pipes[2] = go[1];
		_exit(coil_run(server_proc, &s, &res) || res ? 1 : 0);
	}
	close(port_pipe[0]); close(port_pipe[1]); close(ready[0]);
	close(ready[1]); close(go[0]); close(go[1]); close(result[1]);
	if (read(result[0], &per_conn, sizeof(per_conn)) != sizeof(per_conn))
		per_conn = -1;
	close(result[0]);
	waitpid(ps, &status, 0);
	waitpid(pc, &status, 0);
	if (per_conn < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		bench_die("idle_conns", ring ? "ring run" : "recv run", -EIO);
	return per_conn;
}

int main(int argc, char **argv)
{
	double ring[BENCH_MAX_REPS], plain[BENCH_MAX_REPS], rmed, pmed;
	struct rlimit rl;
	int reps = argc > 2 ? atoi(argv[2]) : 3, i;

	n_conns = argc > 1 ? (unsigned)bench_parse_count("idle_conns", argv[1],
							 100000) : 10000;
	if (reps < 1 || reps > BENCH_MAX_REPS)
		reps = 3;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < n_conns + 64) {
		n_conns = (unsigned)rl.rlim_cur - 64;
		printf("idle_conns: RLIMIT_NOFILE %llu: measuring %u connections\n",
		       (unsigned long long)rl.rlim_cur, n_conns);
	}
	printf("idle_conns: %u connections, each one 2 KiB request then idle; "
	       "%d repetitions\n", n_conns, reps);
	for (i = 0; i < reps; i++) {
		plain[i] = (double)measure(false);
		ring[i] = (double)measure(true);
		printf("  rep %d: 16 KiB stack buffer %6.0f B/conn, "
		       "buffer ring %6.0f B/conn\n", i + 1, plain[i], ring[i]);
	}
	pmed = bench_median(plain, reps);
	rmed = bench_median(ring, reps);
	printf("idle connection, server RSS: buffer ring %.0f B, per-connection "
	       "buffer %.0f B (%.2fx less)\n", rmed, pmed, pmed / rmed);
	printf("RESULT name=idle_conn_memory unit=B coil=%.0f base=%.0f "
	       "ratio=%.2f better=lower reps=%d conns=%u\n", rmed, pmed,
	       pmed / rmed, reps, n_conns);
	return 0;
}
