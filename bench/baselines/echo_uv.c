/* SPDX-License-Identifier: MIT */
/*
 * bench/baselines/echo_uv.c - the libuv baseline of the echo scenario
 * (bench/ECHO.md): one uv_loop, uv_tcp_t connections, uv_read_start into
 * one shared 64 KiB buffer.
 *
 * Each chunk read is written back with uv_try_write() first, which is one
 * write() and needs no request; only what it does not take is copied into
 * a uv_write_t of its own, with reads stopped until that write completes
 * (so echoes never reorder and memory stays bounded).
 *
 * Usage: echo_uv -p PORT
 * Prints "READY port=N" once it accepts; exits 0 on SIGTERM or SIGINT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#define PROG "echo_uv"
#define BUF_SIZE 65536

/* A write of the bytes uv_try_write() did not take. */
struct pending_write {
	uv_write_t req;
	char data[];	/* the bytes, owned by the request */
};

static char buf[BUF_SIZE];	/* every read lands here (one thread) */
static uv_loop_t *loop;
static uv_tcp_t server;
static uv_signal_t sig_term, sig_int;

static void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", PROG, what, uv_strerror(err));
	exit(1);
}

static void on_close(uv_handle_t *h)
{
	free(h);
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	(void)h;
	(void)hint;
	*b = uv_buf_init(buf, sizeof(buf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b);

static void on_write(uv_write_t *req, int status)
{
	uv_stream_t *s = req->handle;

	free(req);
	if (status < 0) {
		if (!uv_is_closing((uv_handle_t *)s))
			uv_close((uv_handle_t *)s, on_close);
		return;
	}
	uv_read_start(s, on_alloc, on_read);
}

/* Queue the @n bytes at @p that the socket did not take. */
static int write_rest(uv_stream_t *s, const char *p, size_t n)
{
	struct pending_write *w = malloc(sizeof(*w) + n);
	uv_buf_t b;

	if (!w)
		return UV_ENOMEM;
	memcpy(w->data, p, n);
	b = uv_buf_init(w->data, (unsigned)n);
	uv_read_stop(s);
	return uv_write(&w->req, s, &b, 1, on_write);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	uv_buf_t out;
	int w;

	if (n == 0)
		return;	/* EAGAIN */
	if (n < 0) {
		uv_close((uv_handle_t *)s, on_close);
		return;
	}
	out = uv_buf_init(b->base, (unsigned)n);
	w = uv_try_write(s, &out, 1);
	if (w == UV_EAGAIN)
		w = 0;
	if (w >= 0 && w < n)
		w = write_rest(s, b->base + w, (size_t)(n - w));
	if (w < 0)
		uv_close((uv_handle_t *)s, on_close);
}

static void on_connection(uv_stream_t *srv, int status)
{
	uv_tcp_t *c;

	if (status < 0)
		return;
	c = malloc(sizeof(*c));
	if (!c)
		die("malloc", UV_ENOMEM);
	uv_tcp_init(loop, c);
	if (uv_accept(srv, (uv_stream_t *)c) < 0) {
		uv_close((uv_handle_t *)c, on_close);
		return;
	}
	uv_tcp_nodelay(c, 1);
	uv_read_start((uv_stream_t *)c, on_alloc, on_read);
}

static void on_signal(uv_signal_t *h, int signum)
{
	(void)h;
	(void)signum;
	uv_stop(loop);
}

int main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct sockaddr_storage name;
	int opt, err, len = sizeof(name);
	unsigned port = 0;

	while ((opt = getopt(argc, argv, "p:")) != -1) {
		if (opt != 'p')
			return 2;
		port = (unsigned)strtoul(optarg, NULL, 10);
	}
	loop = uv_default_loop();
	uv_signal_init(loop, &sig_term);
	uv_signal_start(&sig_term, on_signal, SIGTERM);
	uv_signal_init(loop, &sig_int);
	uv_signal_start(&sig_int, on_signal, SIGINT);
	uv_ip4_addr("127.0.0.1", (int)port, &sa);
	uv_tcp_init(loop, &server);
	err = uv_tcp_bind(&server, (const struct sockaddr *)&sa, 0);
	if (!err)
		err = uv_listen((uv_stream_t *)&server, 4096, on_connection);
	if (err)
		die("bind/listen", err);
	err = uv_tcp_getsockname(&server, (struct sockaddr *)&name, &len);
	if (err)
		die("getsockname", err);
	printf("READY port=%u\n",
	       ntohs(((struct sockaddr_in *)&name)->sin_port));
	fflush(stdout);
	uv_run(loop, UV_RUN_DEFAULT);
	return 0;
}
