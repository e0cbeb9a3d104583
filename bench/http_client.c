/* SPDX-License-Identifier: MIT */
/*
 * bench/http_client.c - HTTP client throughput (issue #5): N GETs with C
 * requests in flight through one session against one local keep-alive
 * server, for coil's native HTTP/1.1 path, coil's libcurl path (libcurl's
 * multi interface driven from the ring) and Python aiohttp running the
 * lecture's code (bench/baselines/http_client_aiohttp.py, with Debian's
 * /usr/bin/python3, where python3-aiohttp installs).
 *
 * The server is a small single-threaded epoll responder in a child
 * process (below): it answers every request head it reads with the same
 * fixed 13-byte keep-alive response, so the client is what is measured.
 * With two CPUs or more it is pinned apart from the client
 * (COIL_BENCH_SERVER_CPU / COIL_BENCH_LOAD_CPU, else CPUs 0 and 1).
 *
 * Usage: http_client [N] [REPS] [CONC]   (default 20000, 5, 64)
 * Reps alternate native, libcurl, aiohttp. Every rep checks that all N
 * responses were 200 with the full body. RESULT lines:
 *   http_client_vs_curl     native vs the libcurl path (req/s)
 *   http_client_vs_aiohttp  native vs aiohttp (req/s)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <coil.h>
#include <coil/http_client.h>

#include "common.h"

#ifndef BASELINES_DIR
#define BASELINES_DIR "bench/baselines"
#endif

#define BODY "Hello, World!"
#define RESPONSE "HTTP/1.1 200 OK\r\nContent-Length: 13\r\n" \
		 "Content-Type: text/plain\r\n\r\n" BODY

static const char *prog = "http_client";

/* ------------------------------------------------- the epoll responder */

struct sconn {
	int fd;
	size_t len;      /* bytes of an unfinished request head kept */
	char buf[4096];
};

/* Count complete request heads in c->buf, keep the unfinished tail. */
static int heads(struct sconn *c)
{
	char *p = c->buf, *end = c->buf + c->len, *q;
	int n = 0;

	while ((q = memmem(p, (size_t)(end - p), "\r\n\r\n", 4))) {
		n++;
		p = q + 4;
	}
	c->len = (size_t)(end - p);
	memmove(c->buf, p, c->len);
	return n;
}

static void serve_conn(struct sconn *c, int ep)
{
	static char out[64 * sizeof(RESPONSE)];
	ssize_t r;
	int n, i;

	r = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
	if (r <= 0) {
		epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		free(c);
		return;
	}
	c->len += (size_t)r;
	n = heads(c);
	if (c->len == sizeof(c->buf))
		c->len = 0; /* a head this big is not ours: drop it */
	for (i = 0; i < n && i < 64; i++)
		memcpy(out + i * (sizeof(RESPONSE) - 1), RESPONSE,
		       sizeof(RESPONSE) - 1);
	if (n)
		(void)!write(c->fd, out, (size_t)i * (sizeof(RESPONSE) - 1));
}

static void server_main(int lfd, int quit_fd)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[128];
	int ep = epoll_create1(0), n, i, fd, one = 1;
	struct sconn *c;

	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &quit_fd;
	epoll_ctl(ep, EPOLL_CTL_ADD, quit_fd, &ev);
	for (;;) {
		n = epoll_wait(ep, evs, 128, -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == &quit_fd)
				_exit(0);
			if (evs[i].data.ptr) {
				serve_conn(evs[i].data.ptr, ep);
				continue;
			}
			fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			c = calloc(1, sizeof(*c));
			c->fd = fd;
			ev.events = EPOLLIN;
			ev.data.ptr = c;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
		}
	}
}

static void pin(const char *env, int dflt)
{
	const char *v = getenv(env);
	int cpu = v ? atoi(v) : dflt;
	cpu_set_t set;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2 || cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Fork the responder; returns its port, with *@quit the fd that stops it. */
static int server_start(pid_t *pid, int *quit)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), p[2], one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) || listen(lfd, 1024) ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) || pipe2(p, O_CLOEXEC))
		bench_die(prog, "server socket", -errno);
	*pid = fork();
	if (*pid == 0) {
		close(p[1]);
		pin("COIL_BENCH_SERVER_CPU", 0);
		server_main(lfd, p[0]);
	}
	close(lfd);
	close(p[0]);
	*quit = p[1];
	return ntohs(a.sin_port);
}

/* ------------------------------------------------------ coil's clients */

struct run {
	const char *url;
	bool curl;
	long n, conc;
	long next;          /* requests handed out */
	long ok, bytes, errors;
	int first_err;
	struct coil_http_session *s;
	double rps;
};

static void *worker(void *arg)
{
	struct run *r = arg;
	struct coil_http_response *resp;
	size_t len;
	int err;

	while (r->next < r->n) {
		r->next++;
		err = coil_http_get(r->s, r->url, &resp);
		if (err) {
			r->errors++;
			r->first_err = r->first_err ? r->first_err : err;
			continue;
		}
		coil_http_response_body(resp, &len);
		r->ok += coil_http_response_status(resp) == 200;
		r->bytes += (long)len;
		coil_http_response_free(resp);
	}
	return NULL;
}

static void *run_main(void *arg)
{
	struct run *r = arg;
	struct coil_http_session_opts o = {
		.max_total = (unsigned)r->conc, .force_curl = r->curl,
	};
	struct coil_task **t = calloc((size_t)r->conc, sizeof(*t));
	uint64_t t0;
	long i;
	int err;

	err = coil_http_session_create(&o, &r->s);
	if (err)
		bench_die(prog, "session", err);
	t0 = bench_now();
	for (i = 0; i < r->conc; i++)
		if (coil_spawn(&t[i], worker, r))
			bench_die(prog, "spawn", -ENOMEM);
	for (i = 0; i < r->conc; i++)
		coil_join(t[i], NULL);
	r->rps = (double)r->n / ((double)(bench_now() - t0) / 1e9);
	coil_http_session_destroy(r->s);
	free(t);
	return NULL;
}

static double run_coil(const char *url, bool curl, long n, long conc)
{
	struct run r = { .url = url, .curl = curl, .n = n, .conc = conc };
	int err = coil_run(run_main, &r, NULL);

	if (err)
		bench_die(prog, "coil_run", err);
	if (r.ok != n || r.bytes != n * 13) {
		fprintf(stderr, "%s: %s: %ld of %ld ok, %ld errors (%s)\n",
			prog, curl ? "libcurl" : "native", r.ok, n, r.errors,
			coil_strerror(r.first_err));
		exit(1);
	}
	return r.rps;
}

/* ---------------------------------------------------------- aiohttp */

static bool have_aiohttp(void)
{
	return system("/usr/bin/python3 -c 'import aiohttp' 2>/dev/null") == 0;
}

static double run_aiohttp(const char *url, long n, long conc)
{
	char cmd[512], line[256];
	long ok = 0, bytes = 0;
	double rps = 0;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s/http_client_aiohttp.py"
		 " %s %ld %ld", BASELINES_DIR, url, n, conc);
	f = popen(cmd, "r");
	if (!f)
		bench_die(prog, "popen", -errno);
	while (fgets(line, sizeof(line), f))
		sscanf(line, "rps=%lf ok=%ld bytes=%ld", &rps, &ok, &bytes);
	if (pclose(f) != 0 || ok != n || bytes != n * 13) {
		fprintf(stderr, "%s: aiohttp: %ld of %ld ok\n", prog, ok, n);
		exit(1);
	}
	return rps;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? (long)bench_parse_count(prog, argv[1], 10000000) :
			    20000;
	int reps = argc > 2 ? (int)bench_parse_count(prog, argv[2],
						     BENCH_MAX_REPS) : 5;
	long conc = argc > 3 ? (long)bench_parse_count(prog, argv[3], 10000) :
			       64;
	struct bench_side nat = { .n = 0 }, cur = { .n = 0 },
			  aio = { .n = 0 }, nat2 = { .n = 0 };
	bool curl = coil_http_have_curl(), py = have_aiohttp();
	double rn, rc;
	char url[64];
	pid_t pid;
	int quit, port, i;

	signal(SIGPIPE, SIG_IGN);
	port = server_start(&pid, &quit);
	pin("COIL_BENCH_LOAD_CPU", 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	printf("INFO server=epoll-responder(child) url=%s n=%ld conc=%ld "
	       "curl=%s aiohttp=%s\n", url, n, conc, curl ? "yes" : "no",
	       py ? "yes" : "no");
	run_coil(url, false, n / 10 + 1, conc); /* warm up */
	for (i = 0; i < reps; i++) {
		bench_count_begin(&nat);
		rn = run_coil(url, false, n, conc);
		bench_count_end(&nat, (uint64_t)n);
		bench_add(&nat, rn);
		if (curl) {
			bench_count_begin(&cur);
			rc = run_coil(url, true, n, conc);
			bench_count_end(&cur, (uint64_t)n);
			bench_add(&cur, rc);
		}
		if (py) {
			bench_add(&nat2, rn);
			bench_count_begin(&aio);
			bench_add(&aio, run_aiohttp(url, n, conc));
			bench_count_end(&aio, (uint64_t)n);
		}
		printf("rep %d: native %.0f req/s%s\n", i + 1, rn,
		       curl ? "" : " (no libcurl)");
		fflush(stdout);
	}
	close(quit);
	waitpid(pid, NULL, 0);
	if (curl) {
		double r[3];

		bench_ratio(&nat, &cur, 1, r);
		bench_report("http_client_vs_curl", "req/s", &nat, &cur, 1,
			     "ratio>=1.5", bench_yes_no(r[0] >= 1.5), NULL);
	}
	if (py) {
		double r[3];

		nat2.syscalls = nat.syscalls, nat2.ops = nat.ops;
		nat2.counted = nat.counted;
		bench_ratio(&nat2, &aio, 1, r);
		bench_report("http_client_vs_aiohttp", "req/s", &nat2, &aio, 1,
			     "ratio>=10", bench_yes_no(r[0] >= 10), NULL);
	}
	if (!curl && !py)
		printf("RESULT name=http_client_native unit=req/s coil=%.0f "
		       "base=0 ratio=0 target=\"\" met=n/a\n",
		       bench_side_median(&nat));
	return 0;
}
