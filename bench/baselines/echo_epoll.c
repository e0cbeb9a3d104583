/* SPDX-License-Identifier: MIT */
/*
 * bench/baselines/echo_epoll.c - the epoll baseline of the echo scenario
 * (bench/ECHO.md): one thread, non-blocking sockets, level-triggered epoll,
 * as a careful C server would write it.
 *
 * On EPOLLIN it reads into one shared 64 KiB buffer and writes the bytes
 * straight back; it reads again only if a read filled the buffer (a short
 * read means the socket's queue is empty: with level triggering there is
 * no need to pay for the read that returns EAGAIN, which edge triggering
 * would require). A write that does not take everything parks the rest in
 * the connection and switches it to EPOLLOUT (reads paused) until drained.
 *
 * Usage: echo_epoll -p PORT [-E]
 *   -p PORT  listen on 127.0.0.1:PORT (0: any free port)
 *   -E       edge-triggered instead, reading until EAGAIN (for comparison)
 * Prints "READY port=N" once it accepts; exits 0 on SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#define PROG "echo_epoll"
#define BUF_SIZE 65536
#define MAX_EVENTS 512

/* One client connection. */
struct conn {
	int fd;
	char *pending;		/* bytes read but not yet written, or NULL */
	size_t pend_off;	/* how many of them were written */
	size_t pend_len;	/* how many there are */
};

static volatile sig_atomic_t stopping;
static int epfd;
static bool edge;
static char buf[BUF_SIZE];	/* every read lands here */

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", PROG, what, strerror(errno));
	exit(1);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void conn_watch(struct conn *c, int op, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };

	if (edge)
		ev.events |= EPOLLET;
	if (epoll_ctl(epfd, op, c->fd, &ev) < 0)
		die("epoll_ctl");
}

static void conn_close(struct conn *c)
{
	close(c->fd);	/* also removes it from the epoll set */
	free(c->pending);
	free(c);
}

/* Keep what write() did not take; wait for EPOLLOUT, reads paused. */
static int conn_park(struct conn *c, const char *p, size_t n)
{
	c->pending = malloc(n);
	if (!c->pending)
		return -1;
	memcpy(c->pending, p, n);
	c->pend_off = 0;
	c->pend_len = n;
	conn_watch(c, EPOLL_CTL_MOD, EPOLLOUT);
	return 0;
}

/* Write @n bytes of @p back; park the rest. 0, or -1 to close. */
static int conn_echo(struct conn *c, const char *p, size_t n)
{
	ssize_t w = write(c->fd, p, n);

	if (w < 0 && errno != EAGAIN)
		return -1;
	if (w < 0)
		w = 0;
	if ((size_t)w == n)
		return 0;
	return conn_park(c, p + w, n - (size_t)w);
}

/* EPOLLIN: read and echo until the socket is empty. 0, or -1 to close. */
static int conn_readable(struct conn *c)
{
	for (;;) {
		ssize_t n = read(c->fd, buf, sizeof(buf));

		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EAGAIN ? 0 : -1;
		if (conn_echo(c, buf, (size_t)n) < 0)
			return -1;
		if (c->pending)
			return 0;
		if (!edge && n < (ssize_t)sizeof(buf))
			return 0;
	}
}

/* EPOLLOUT: write the parked bytes; back to EPOLLIN once they are out. */
static int conn_writable(struct conn *c)
{
	while (c->pend_off < c->pend_len) {
		ssize_t w = write(c->fd, c->pending + c->pend_off,
				  c->pend_len - c->pend_off);

		if (w < 0)
			return errno == EAGAIN ? 0 : -1;
		c->pend_off += (size_t)w;
	}
	free(c->pending);
	c->pending = NULL;
	conn_watch(c, EPOLL_CTL_MOD, EPOLLIN);
	return conn_readable(c);
}

static void accept_all(int lfd)
{
	int one = 1;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct conn *c;

		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			if (errno == ECONNABORTED || errno == EMFILE ||
			    errno == ENFILE)
				continue;
			die("accept4");
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = calloc(1, sizeof(*c));
		if (!c)
			die("calloc");
		c->fd = fd;
		conn_watch(c, EPOLL_CTL_ADD, EPOLLIN);
	}
}

static void serve(int lfd)
{
	static struct epoll_event ev[MAX_EVENTS];
	struct conn lc = { .fd = lfd };	/* marks the listener */

	conn_watch(&lc, EPOLL_CTL_ADD, EPOLLIN);
	while (!stopping) {
		int i, n = epoll_wait(epfd, ev, MAX_EVENTS, -1);

		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < n; i++) {
			struct conn *c = ev[i].data.ptr;
			int r;

			if (c == &lc) {
				accept_all(lfd);
				continue;
			}
			if (c->pending)
				r = conn_writable(c);
			else
				r = conn_readable(c);
			if (r < 0)
				conn_close(c);
		}
	}
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned port = 0;
	int opt, lfd;

	while ((opt = getopt(argc, argv, "p:E")) != -1) {
		if (opt == 'p')
			port = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'E')
			edge = true;
		else
			return 2;
	}
	sigaction(SIGTERM, &sa, NULL);	/* no SA_RESTART: wake epoll_wait */
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	lfd = baseline_listen(PROG, &port, SOCK_NONBLOCK, 0);
	printf("READY port=%u\n", port);
	fflush(stdout);
	serve(lfd);
	return 0;
}
