/* SPDX-License-Identifier: MIT */
/*
 * tests/test_http_server.c - coil's HTTP/1.1 server against clients on
 * loopback in the same runtime: keep-alive, pipelining, chunked bodies both
 * ways, body limits, bad input (400/413/431 and close, everyone else still
 * served), deadlines (slowloris, idle), HEAD, 100-continue, sendfile,
 * shutdown and cancellation, and 1,000 concurrent GETs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "helpers.h"
#include <coil/http_server.h>

#define PTR(x) ((void *)(intptr_t)(x))
#define FAILED PTR(-1000)

/*
 * Inside tasks a failed check records where and returns FAILED (a cmocka
 * assert would longjmp off the coroutine's stack); the test then fails.
 */
static char failure[256];

#define CHECK(c)                                                        \
	do {                                                            \
		if (!(c)) {                                             \
			if (!failure[0])                                \
				snprintf(failure, sizeof(failure),      \
					 "line %d: %s", __LINE__, #c);  \
			return FAILED;                                  \
		}                                                       \
	} while (0)

#define CHECK_EQ(a, b)                                                  \
	do {                                                            \
		long long a_ = (long long)(a), b_ = (long long)(b);     \
		if (a_ != b_) {                                         \
			if (!failure[0])                                \
				snprintf(failure, sizeof(failure),      \
					 "line %d: %s == %s: %lld != %lld", \
					 __LINE__, #a, #b, a_, b_);     \
			return FAILED;                                  \
		}                                                       \
	} while (0)

/* ------------------------------------------------------------- server */

struct fixture {
	struct coil_listener *l;
	struct coil_task *server;
	struct coil_http_server_opts opts;
	coil_http_handler handler;
	int port;
	int served;     /* handler calls */
	int last_fd;    /* the connection fd the handler last saw */
	int serve_ret;  /* coil_http_serve()'s result */
	int file_fd;    /* what h_file sends */
};

static void *server_main(void *arg)
{
	struct fixture *f = arg;

	f->serve_ret = coil_http_serve(f->l, f->handler, f, &f->opts);
	return NULL;
}

static int start(struct fixture *f, coil_http_handler h)
{
	int err = coil_tcp_listen("127.0.0.1", 0, NULL, &f->l);

	if (err)
		return err;
	f->handler = h;
	f->port = coil_listener_port(f->l);
	return coil_spawn(&f->server, server_main, f);
}

/* Close the listener and wait for coil_http_serve() to return. */
static int stop(struct fixture *f)
{
	coil_listener_close(f->l);
	coil_join(f->server, NULL);
	return f->serve_ret;
}

/* Answers "hello <target>" to everything; "/fail" returns an error. */
static int h_hello(struct coil_http_req *req, struct coil_http_res *res,
		   void *ud)
{
	struct fixture *f = ud;
	char body[256];
	size_t n;
	const char *t = coil_http_req_target(req, &n);
	int len;

	f->served++;
	f->last_fd = coil_http_req_fd(req);
	if (n == 5 && !memcmp(t, "/fail", 5))
		return -EIO;
	len = snprintf(body, sizeof(body), "hello %.*s", (int)n, t);
	coil_http_res_header(res, "Content-Type", "text/plain");
	return coil_http_res_send(res, body, (size_t)len);
}

/* ------------------------------------------------------------- client */

struct client {
	int fd;
	char buf[65536];
	size_t len;     /* buffered, unread bytes at buf[0..len) */
};

struct resp {
	int status;
	char head[4096];
	char body[65536];
	size_t blen;
	bool chunked;
};

static int connect_to(struct fixture *f, struct client *c)
{
	c->len = 0;
	c->fd = coil_tcp_connect("127.0.0.1", (uint16_t)f->port, MS(2000));
	return c->fd;
}

static int put(struct client *c, const char *s)
{
	size_t n = strlen(s);

	return coil_send_all(c->fd, s, n, NULL, MS(2000)) == (ssize_t)n ? 0 :
									 -EIO;
}

/* Receive more into c->buf. Returns bytes added, 0 at EOF, or -errno. */
static ssize_t more(struct client *c)
{
	ssize_t n = coil_recv_timeout(c->fd, c->buf + c->len,
				      sizeof(c->buf) - c->len, 0, MS(3000));

	if (n > 0)
		c->len += (size_t)n;
	return n;
}

static void consume(struct client *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/* The value of field @name in @head (NUL-terminated copy), or NULL. */
static const char *field(const struct resp *r, const char *name, char *out,
			 size_t cap)
{
	size_t nl = strlen(name);
	const char *p = strstr(r->head, "\r\n");

	while (p && p[2] != '\r') {
		p += 2;
		if (!strncasecmp(p, name, nl) && p[nl] == ':') {
			const char *v = p + nl + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			snprintf(out, cap, "%.*s", (int)(e - v), v);
			return out;
		}
		p = strstr(p, "\r\n");
	}
	return NULL;
}

/* Decode a chunked body from the buffer, receiving as needed. */
static int read_chunked(struct client *c, struct resp *r)
{
	for (;;) {
		char *e = memmem(c->buf, c->len, "\r\n", 2);
		size_t size;

		if (!e) {
			if (more(c) <= 0)
				return -EIO;
			continue;
		}
		size = strtoul(c->buf, NULL, 16);
		while (c->len < (size_t)(e - c->buf) + 2 + size + 2)
			if (more(c) <= 0)
				return -EIO;
		e = memmem(c->buf, c->len, "\r\n", 2);
		memcpy(r->body + r->blen, e + 2, size);
		r->blen += size;
		consume(c, (size_t)(e - c->buf) + 2 + size + 2);
		if (!size)
			return 0;
	}
}

/*
 * Read one response: its head into r->head, its body (Content-Length or
 * chunked; none for @head_req) into r->body. Returns 0, or -EIO when the
 * connection ends first.
 */
static int get_response(struct client *c, struct resp *r, bool head_req)
{
	char v[64];
	char *end;
	size_t hl, cl;

	memset(r, 0, sizeof(*r));
	while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
		if (more(c) <= 0)
			return -EIO;
	hl = (size_t)(end - c->buf) + 4;
	if (hl >= sizeof(r->head))
		return -EIO;
	memcpy(r->head, c->buf, hl);
	consume(c, hl);
	r->status = atoi(r->head + 9);
	if (head_req)
		return 0;
	if (field(r, "Transfer-Encoding", v, sizeof(v))) {
		r->chunked = true;
		return read_chunked(c, r);
	}
	cl = field(r, "Content-Length", v, sizeof(v)) ? strtoul(v, NULL, 10) : 0;
	while (c->len < cl)
		if (more(c) <= 0)
			return -EIO;
	memcpy(r->body, c->buf, cl);
	r->blen = cl;
	consume(c, cl);
	return 0;
}

/* Whether the server closed the connection (EOF, or a reset). */
static bool closed_by_server(struct client *c)
{
	ssize_t n;

	c->len = 0;
	while ((n = more(c)) > 0)
		c->len = 0;
	return n == 0 || n == -ECONNRESET;
}

static bool body_is(const struct resp *r, const char *s)
{
	return r->blen == strlen(s) && !memcmp(r->body, s, r->blen);
}

/* One request and its response on a fresh connection. */
static int one_shot(struct fixture *f, const char *req, struct resp *r)
{
	struct client *c = malloc(sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	err = connect_to(f, c) < 0 ? -EIO : put(c, req);
	if (!err)
		err = get_response(c, r, false);
	if (c->fd >= 0)
		coil_close(c->fd);
	free(c);
	return err;
}

/* Run @body as main; fail the test with the first failed CHECK. */
static void run(coil_fn body)
{
	void *ret;

	failure[0] = '\0';
	ret = test_run(body, NULL);
	if (failure[0])
		fail_msg("%s", failure);
	assert_null(ret);
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: t\r\n\r\n"

static struct client cl_a, cl_b;
static struct resp rs;

/* -------------------------------------------------------------- tests */

static void *body_answers_get(void *arg)
{
	struct fixture f = { 0 };
	char v[64];

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK_EQ(one_shot(&f, GET("/x"), &rs), 0);
	CHECK_EQ(rs.status, 200);
	CHECK(body_is(&rs, "hello /x"));
	CHECK(field(&rs, "Content-Length", v, sizeof(v)) && !strcmp(v, "8"));
	CHECK(field(&rs, "Date", v, sizeof(v)) && strstr(v, " GMT"));
	CHECK(field(&rs, "Content-Type", v, sizeof(v)) &&
	      !strcmp(v, "text/plain"));
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_answers_get(void **st)
{
	(void)st;
	run(body_answers_get);
}

static void *body_keep_alive(void *arg)
{
	struct fixture f = { 0 };
	int i, fd = -1;

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	for (i = 0; i < 5; i++) {
		CHECK_EQ(put(&cl_a, GET("/again")), 0);
		CHECK_EQ(get_response(&cl_a, &rs, false), 0);
		CHECK_EQ(rs.status, 200);
		CHECK(body_is(&rs, "hello /again"));
		CHECK(!strstr(rs.head, "Connection: close"));
		/* Every request came over the same server-side socket. */
		if (i)
			CHECK_EQ(f.last_fd, fd);
		fd = f.last_fd;
	}
	CHECK_EQ(f.served, 5);
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_keep_alive_reuses_the_connection(void **st)
{
	(void)st;
	run(body_keep_alive);
}

static void *body_pipelined(void *arg)
{
	struct fixture f = { 0 };

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	/* Three requests in one segment; answers come back in order. */
	CHECK_EQ(put(&cl_a, GET("/1") GET("/2") GET("/3")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "hello /1"));
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "hello /2"));
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "hello /3"));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_pipelined_requests_answered_in_order(void **st)
{
	(void)st;
	run(body_pipelined);
}

static int h_chunks(struct coil_http_req *req, struct coil_http_res *res,
		    void *ud)
{
	(void)req;
	(void)ud;
	if (coil_http_res_write(res, "hello", 5) < 0 ||
	    coil_http_res_write(res, ", ", 2) < 0 ||
	    coil_http_res_write(res, "world", 5) < 0)
		return -EIO;
	return coil_http_res_end(res);
}

static void *body_chunked_response(void *arg)
{
	struct fixture f = { 0 };
	char v[64];

	(void)arg;
	CHECK_EQ(start(&f, h_chunks), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, GET("/")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(rs.chunked);
	CHECK(field(&rs, "Transfer-Encoding", v, sizeof(v)) &&
	      !strcmp(v, "chunked"));
	CHECK(body_is(&rs, "hello, world"));
	/* The connection stays usable after a chunked response. */
	CHECK_EQ(put(&cl_a, GET("/")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "hello, world"));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_chunked_response(void **st)
{
	(void)st;
	run(body_chunked_response);
}

/* Streams a response with the status the target names ("/204", "/304"). */
static int h_stream_status(struct coil_http_req *req,
			   struct coil_http_res *res, void *ud)
{
	size_t n;
	const char *t = coil_http_req_target(req, &n);

	(void)ud;
	if (n == 4 && t[0] == '/')
		coil_http_res_status(res, atoi(t + 1));
	if (coil_http_res_write(res, "ignored", 7) < 0)
		return -EIO;
	return coil_http_res_end(res);
}

static void *body_bodyless_stream(void *arg)
{
	static const char *const paths[] = { "/204", "/304" };
	struct fixture f = { 0 };
	char v[64], req[64];
	size_t i;
	int err = 0;
	bool framed = false;

	(void)arg;
	CHECK_EQ(start(&f, h_stream_status), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	for (i = 0; i < 2 && !err; i++) {
		snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: t\r\n\r\n",
			 paths[i]);
		err = put(&cl_a, req);
		if (!err)
			err = get_response(&cl_a, &rs, true);
		framed |= field(&rs, "Transfer-Encoding", v, sizeof(v)) ||
			  field(&rs, "Content-Length", v, sizeof(v));
		if (!err && rs.status != atoi(paths[i] + 1))
			err = -EPROTO;
	}
	/* Nothing followed either head: the next answer comes next. */
	if (!err)
		err = put(&cl_a, GET("/after"));
	if (!err)
		err = get_response(&cl_a, &rs, false);
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	CHECK_EQ(err, 0);
	CHECK(!framed);
	CHECK_EQ(rs.status, 200);
	CHECK(rs.chunked && rs.blen == 7);
	return NULL;
}

static void test_http_server_streamed_204_304_have_no_framing(void **st)
{
	(void)st;
	run(body_bodyless_stream);
}

/* Echoes the request body whole, or (target "/stream") 3 bytes at a time. */
static int h_echo(struct coil_http_req *req, struct coil_http_res *res,
		  void *ud)
{
	static char out[65536];
	const void *data;
	size_t n, got = 0;
	const char *t = coil_http_req_target(req, &n);
	ssize_t r;

	(void)ud;
	if (n == 7 && !memcmp(t, "/stream", 7)) {
		while ((r = coil_http_req_read(req, out + got, 3)) > 0)
			got += (size_t)r;
		if (r < 0)
			return (int)r;
		return coil_http_res_send(res, out, got);
	}
	r = coil_http_req_body(req, &data, 4096);
	if (r < 0)
		return (int)r;
	return coil_http_res_send(res, data, (size_t)r);
}

static void *body_request_body(void *arg)
{
	struct fixture f = { 0 };

	(void)arg;
	CHECK_EQ(start(&f, h_echo), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, "POST / HTTP/1.1\r\nHost: t\r\n"
			    "Content-Length: 11\r\n\r\nhello world"), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "hello world"));
	/* Chunked, sent in pieces, read whole (decoded in place). */
	CHECK_EQ(put(&cl_a, "POST / HTTP/1.1\r\nHost: t\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n5\r\nhel"), 0);
	coil_sleep(MS(20));
	CHECK_EQ(put(&cl_a, "lo\r\n6;ext=1\r\n world\r\n0\r\n"
			    "Trailer-X: y\r\n\r\n"), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "hello world"));
	/* Streamed 3 bytes at a time. */
	CHECK_EQ(put(&cl_a, "POST /stream HTTP/1.1\r\nHost: t\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n"
			    "4\r\nabcd\r\n7\r\nefghijk\r\n0\r\n\r\n"), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "abcdefghijk"));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_reads_request_bodies(void **st)
{
	(void)st;
	run(body_request_body);
}

/*
 * Reads a header, then the whole body (which makes the receive buffer
 * grow), then answers with the method, the header and the body length,
 * read again after the body: they must still be the request's.
 */
static int h_head_after_body(struct coil_http_req *req,
			     struct coil_http_res *res, void *ud)
{
	char out[128];
	const char *tag, *m;
	const void *data;
	size_t tn, mn;
	ssize_t r;
	int len;

	(void)ud;
	m = coil_http_req_method(req, &mn);
	tag = coil_http_req_header(req, "X-Tag", &tn);
	r = coil_http_req_body(req, &data, 1u << 20);
	if (r < 0 || !tag)
		return -EIO;
	len = snprintf(out, sizeof(out), "%.*s %.*s %zd", (int)mn, m,
		       (int)tn, tag, r);
	return coil_http_res_send(res, out, (size_t)len);
}

static void *body_head_after_body(void *arg)
{
	static char req[32768];
	struct fixture f = { 0 };
	int n, err;

	(void)arg;
	CHECK_EQ(start(&f, h_head_after_body), 0);
	n = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: t\r\n"
		     "X-Tag: the-tag-value\r\nContent-Length: 20000\r\n\r\n");
	memset(req + n, 'b', 20000);
	req[n + 20000] = '\0';
	err = one_shot(&f, req, &rs);
	CHECK_EQ(stop(&f), 0);
	CHECK_EQ(err, 0);
	CHECK_EQ(rs.status, 200);
	CHECK(body_is(&rs, "POST the-tag-value 20000"));
	return NULL;
}

static void test_http_server_head_stays_valid_after_body_grows_buffer(void **st)
{
	(void)st;
	run(body_head_after_body);
}

/* Reads the whole body with no limit of its own; answers its length. */
static int h_body_len(struct coil_http_req *req, struct coil_http_res *res,
		      void *ud)
{
	char out[32];
	const void *data;
	ssize_t r = coil_http_req_body(req, &data, SIZE_MAX);
	int len;

	(void)ud;
	if (r < 0)
		return (int)r;
	len = snprintf(out, sizeof(out), "%zd", r);
	return coil_http_res_send(res, out, (size_t)len);
}

static void *body_unlimited_body(void *arg)
{
	static char req[120000];
	struct fixture f = { .opts.max_body = UINT64_MAX };
	int n, err;

	(void)arg;
	CHECK_EQ(start(&f, h_body_len), 0);
	/* Past the old wrap-around of the buffer limit (about 49 KB). */
	n = snprintf(req, sizeof(req), "POST / HTTP/1.1\r\nHost: t\r\n"
		     "Content-Length: 100000\r\n\r\n");
	memset(req + n, 'b', 100000);
	req[n + 100000] = '\0';
	err = one_shot(&f, req, &rs);
	CHECK_EQ(stop(&f), 0);
	CHECK_EQ(err, 0);
	CHECK_EQ(rs.status, 200);
	CHECK(body_is(&rs, "100000"));
	return NULL;
}

static void test_http_server_unlimited_body_read_whole(void **st)
{
	(void)st;
	run(body_unlimited_body);
}

static void *body_unread_body(void *arg)
{
	struct fixture f = { 0 };

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	/* The handler ignores the body: the server drops it and reads the
	 * next request after it. */
	CHECK_EQ(put(&cl_a, "POST /a HTTP/1.1\r\nHost: t\r\n"
			    "Content-Length: 5\r\n\r\nxxxxx" GET("/b")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "hello /a"));
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "hello /b"));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_skips_an_unread_body(void **st)
{
	(void)st;
	run(body_unread_body);
}

static void *body_413(void *arg)
{
	struct fixture f = { .opts.max_body = 100 };

	(void)arg;
	CHECK_EQ(start(&f, h_echo), 0);
	/* Declared too large: answered before the handler runs. */
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, "POST / HTTP/1.1\r\nHost: t\r\n"
			    "Content-Length: 1000\r\n\r\n"), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK_EQ(rs.status, 413);
	CHECK(strstr(rs.head, "Connection: close"));
	CHECK(closed_by_server(&cl_a));
	coil_close(cl_a.fd);
	/* Chunked, growing past the limit: 413 from the handler's read. */
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, "POST / HTTP/1.1\r\nHost: t\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n"
			    "80\r\n"), 0);
	{
		char pad[129];

		memset(pad, 'x', 128);
		pad[128] = '\0';
		CHECK_EQ(put(&cl_a, pad), 0);
	}
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK_EQ(rs.status, 413);
	CHECK(closed_by_server(&cl_a));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_body_over_limit_gets_413_and_close(void **st)
{
	(void)st;
	run(body_413);
}

static void *body_400(void *arg)
{
	struct fixture f = { 0 };

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK(connect_to(&f, &cl_b) >= 0);
	CHECK_EQ(put(&cl_b, GET("/before")), 0);
	CHECK_EQ(get_response(&cl_b, &rs, false), 0);
	/* A bare LF ends the request line: rejected. */
	CHECK_EQ(put(&cl_a, "GET / HTTP/1.1\nHost: t\r\n\r\n"), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK_EQ(rs.status, 400);
	CHECK(strstr(rs.head, "Connection: close"));
	CHECK(closed_by_server(&cl_a));
	/* The other client is still served on its connection. */
	CHECK_EQ(put(&cl_b, GET("/after")), 0);
	CHECK_EQ(get_response(&cl_b, &rs, false), 0);
	CHECK(body_is(&rs, "hello /after"));
	CHECK_EQ(f.served, 2);
	coil_close(cl_a.fd);
	coil_close(cl_b.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_bad_request_gets_400_and_others_go_on(void **st)
{
	(void)st;
	run(body_400);
}

static void *body_431(void *arg)
{
	struct fixture f = { .opts.max_head = 1024 };
	char big[2048];

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, "GET / HTTP/1.1\r\nHost: t\r\nX-Big: "), 0);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_EQ(put(&cl_a, big), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK_EQ(rs.status, 431);
	CHECK(closed_by_server(&cl_a));
	CHECK_EQ(f.served, 0);
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_oversized_head_gets_431(void **st)
{
	(void)st;
	run(body_431);
}

static void *body_slowloris(void *arg)
{
	struct fixture f = { .opts.header_timeout_ns = MS(300) };
	static const char req[] = GET("/slow");
	uint64_t t0 = coil_now();
	size_t i;
	bool dropped = false;

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK(connect_to(&f, &cl_b) >= 0);
	/* One byte every 50 ms: the head would take 1.5 s. */
	for (i = 0; i < sizeof(req) - 1; i++) {
		if (coil_send(cl_a.fd, req + i, 1, 0) < 0) {
			dropped = true;
			break;
		}
		/* Meanwhile the other client is served at once. */
		if (i == 2) {
			CHECK_EQ(put(&cl_b, GET("/quick")), 0);
			CHECK_EQ(get_response(&cl_b, &rs, false), 0);
			CHECK(body_is(&rs, "hello /quick"));
		}
		coil_sleep(MS(50));
		if (test_elapsed_ns(t0) > MS(1000))
			break;
	}
	CHECK(dropped || closed_by_server(&cl_a));
	CHECK(test_elapsed_ns(t0) < MS(1000));
	CHECK_EQ(f.served, 1);
	coil_close(cl_a.fd);
	coil_close(cl_b.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_slowloris_client_is_dropped(void **st)
{
	(void)st;
	run(body_slowloris);
}

static void *body_idle(void *arg)
{
	struct fixture f = { .opts.idle_timeout_ns = MS(200) };
	uint64_t t0;

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, GET("/")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	t0 = coil_now();
	CHECK(closed_by_server(&cl_a));
	CHECK(test_elapsed_ns(t0) >= MS(150));
	CHECK(test_elapsed_ns(t0) < MS(1500));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_idle_keep_alive_connection_is_closed(void **st)
{
	(void)st;
	run(body_idle);
}

static void *body_mid_body(void *arg)
{
	struct fixture f = { 0 };

	(void)arg;
	CHECK_EQ(start(&f, h_echo), 0);
	/* The client promises 100 bytes, sends 10 and goes away. */
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, "POST / HTTP/1.1\r\nHost: t\r\n"
			    "Content-Length: 100\r\n\r\n0123456789"), 0);
	coil_close(cl_a.fd);
	/* The server shrugs it off and serves the next one. */
	CHECK_EQ(one_shot(&f, "POST / HTTP/1.1\r\nHost: t\r\n"
			      "Content-Length: 2\r\n\r\nok", &rs), 0);
	CHECK(body_is(&rs, "ok"));
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_client_gone_mid_body(void **st)
{
	(void)st;
	run(body_mid_body);
}

static void *body_head(void *arg)
{
	struct fixture f = { 0 };
	char v[64];

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, "HEAD /x HTTP/1.1\r\nHost: t\r\n\r\n" GET("/y")),
		 0);
	CHECK_EQ(get_response(&cl_a, &rs, true), 0);
	CHECK_EQ(rs.status, 200);
	/* The length a GET would have, and no body: /y's answer follows. */
	CHECK(field(&rs, "Content-Length", v, sizeof(v)) && !strcmp(v, "8"));
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "hello /y"));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_head_response_has_no_body(void **st)
{
	(void)st;
	run(body_head);
}

static void *body_continue(void *arg)
{
	struct fixture f = { 0 };

	(void)arg;
	CHECK_EQ(start(&f, h_echo), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, "POST / HTTP/1.1\r\nHost: t\r\nExpect: "
			    "100-continue\r\nContent-Length: 4\r\n\r\n"), 0);
	/* The interim answer comes first, then the body is sent. */
	CHECK_EQ(get_response(&cl_a, &rs, true), 0);
	CHECK_EQ(rs.status, 100);
	CHECK_EQ(put(&cl_a, "data"), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK_EQ(rs.status, 200);
	CHECK(body_is(&rs, "data"));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_expect_continue(void **st)
{
	(void)st;
	run(body_continue);
}

static int h_file(struct coil_http_req *req, struct coil_http_res *res,
		  void *ud)
{
	struct fixture *f = ud;

	(void)req;
	/* "world" out of "hello world". */
	return coil_http_res_sendfile(res, f->file_fd, 6, 5);
}

static void *body_sendfile(void *arg)
{
	struct fixture f = { 0 };
	char path[] = "/tmp/coil-http-XXXXXX";

	(void)arg;
	f.file_fd = mkstemp(path);
	CHECK(f.file_fd >= 0);
	unlink(path);
	CHECK_EQ(write(f.file_fd, "hello world", 11), 11);
	CHECK_EQ(start(&f, h_file), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, GET("/") GET("/")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "world"));
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "world"));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	close(f.file_fd);
	return NULL;
}

static void test_http_server_sendfile_response(void **st)
{
	(void)st;
	run(body_sendfile);
}

/* What h_file_big's last call returned, and when it did. */
static int big_ret;
static bool big_done;

/* Sends 256 MiB of the file: far more than loopback's socket buffers. */
static int h_file_big(struct coil_http_req *req, struct coil_http_res *res,
		      void *ud)
{
	struct fixture *f = ud;

	(void)req;
	big_ret = coil_http_res_sendfile(res, f->file_fd, 0, 256u << 20);
	big_done = true;
	return big_ret;
}

static void *body_sendfile_send_timeout(void *arg)
{
	struct fixture f = { .opts.send_timeout_ns = MS(300),
			     .opts.shutdown_grace_ns = MS(200) };
	char path[] = "/tmp/coil-http-XXXXXX";
	uint64_t t0;
	int err;

	(void)arg;
	big_ret = 0;
	big_done = false;
	f.file_fd = mkstemp(path);
	CHECK(f.file_fd >= 0);
	unlink(path);
	CHECK_EQ(ftruncate(f.file_fd, 256 << 20), 0); /* sparse */
	CHECK_EQ(start(&f, h_file_big), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	/* The client asks and never reads: the send timeout must end the
	 * response, though the splice is blocked in the kernel. */
	err = put(&cl_a, GET("/"));
	t0 = coil_now();
	while (!err && !big_done && test_elapsed_ns(t0) < MS(4000))
		coil_sleep(MS(20));
	t0 = test_elapsed_ns(t0);
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	close(f.file_fd);
	CHECK_EQ(err, 0);
	CHECK(big_done);
	CHECK(big_ret < 0);
	CHECK(t0 < MS(2500));
	return NULL;
}

static void test_http_server_sendfile_to_a_non_reader_times_out(void **st)
{
	(void)st;
	run(body_sendfile_send_timeout);
}

static void *body_500(void *arg)
{
	struct fixture f = { 0 };

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, GET("/fail")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK_EQ(rs.status, 500);
	CHECK(closed_by_server(&cl_a));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_handler_error_gets_500(void **st)
{
	(void)st;
	run(body_500);
}

/*
 * Sends one byte every @gap_ms until a send fails (the server closed the
 * connection: the first byte after it draws a reset) or @limit_ms pass.
 * Returns the milliseconds until the failure, or -1.
 */
static long trickle_until_closed(struct client *c, int gap_ms, int limit_ms)
{
	uint64_t t0 = coil_now();

	while (test_elapsed_ns(t0) < MS(limit_ms)) {
		if (coil_send(c->fd, "x", 1, MSG_NOSIGNAL) < 0)
			return (long)(test_elapsed_ns(t0) / MS(1));
		coil_sleep(MS(gap_ms));
	}
	return -1;
}

static void *body_linger_bounded(void *arg)
{
	struct fixture f = { 0 };
	long ms;
	int err;

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	/* A 500 closes the connection; the server lingers reading what the
	 * client still sends. A byte every 300 ms must not keep it. */
	err = put(&cl_a, GET("/fail"));
	if (!err)
		err = get_response(&cl_a, &rs, false);
	ms = trickle_until_closed(&cl_a, 300, 4000);
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	CHECK_EQ(err, 0);
	CHECK_EQ(rs.status, 500);
	CHECK(ms >= 0 && ms < 2500);
	return NULL;
}

static void test_http_server_linger_after_close_has_one_deadline(void **st)
{
	(void)st;
	run(body_linger_bounded);
}

static void *body_large_unread_body(void *arg)
{
	struct fixture f = { .opts.max_body = UINT64_MAX };
	uint64_t t0;
	bool closed;
	int err;

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	/* 10 MB announced, none sent, the handler ignores it: the server
	 * closes rather than wait for it all (read timeout: 10 s). */
	err = put(&cl_a, "POST /big HTTP/1.1\r\nHost: t\r\n"
			 "Content-Length: 10000000\r\n\r\n");
	if (!err)
		err = get_response(&cl_a, &rs, false);
	t0 = coil_now();
	closed = closed_by_server(&cl_a);
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	CHECK_EQ(err, 0);
	CHECK(body_is(&rs, "hello /big"));
	/* Known before the response went out: it says so (RFC 9112 §9.6). */
	CHECK(strstr(rs.head, "Connection: close"));
	CHECK(closed);
	CHECK(test_elapsed_ns(t0) < MS(2500));
	return NULL;
}

static void test_http_server_large_unread_body_closes_not_drains(void **st)
{
	(void)st;
	run(body_large_unread_body);
}

static void *body_trickled_unread_body(void *arg)
{
	struct fixture f = { .opts.read_timeout_ns = MS(300) };
	long ms;
	int err;

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	/* The handler ignores the body; the client sends it a byte every
	 * 100 ms (each within the read timeout): dropping it after the
	 * response must end within the read timeout, not 1,000 bytes on. */
	err = put(&cl_a, "POST /drip HTTP/1.1\r\nHost: t\r\n"
			 "Content-Length: 1000\r\n\r\n");
	if (!err)
		err = get_response(&cl_a, &rs, false);
	ms = trickle_until_closed(&cl_a, 100, 3000);
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	CHECK_EQ(err, 0);
	CHECK(body_is(&rs, "hello /drip"));
	CHECK(ms >= 0 && ms < 1500);
	return NULL;
}

static void test_http_server_trickled_unread_body_drain_is_bounded(void **st)
{
	(void)st;
	run(body_trickled_unread_body);
}

static void *body_http10(void *arg)
{
	struct fixture f = { 0 };

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, "GET /old HTTP/1.0\r\n\r\n"), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(body_is(&rs, "hello /old"));
	CHECK(strstr(rs.head, "Connection: close"));
	CHECK(closed_by_server(&cl_a));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_http10_closes_after_response(void **st)
{
	(void)st;
	run(body_http10);
}

static void *body_max_requests(void *arg)
{
	struct fixture f = { .opts.max_requests = 2 };

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, GET("/1") GET("/2") GET("/3")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(!strstr(rs.head, "Connection: close"));
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(strstr(rs.head, "Connection: close"));
	CHECK(closed_by_server(&cl_a));
	CHECK_EQ(f.served, 2);
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_max_requests_per_connection(void **st)
{
	(void)st;
	run(body_max_requests);
}

/*
 * A handler that names "Connection: keep-alive" (as nginx does) gets it
 * while the connection stays open; when the server closes (here at
 * max_requests) the response carries "Connection: close" only - never
 * both fields.
 */
static int h_named_keep_alive(struct coil_http_req *req,
			      struct coil_http_res *res, void *ud)
{
	coil_http_res_header(res, "Connection", "keep-alive");
	return h_hello(req, res, ud);
}

static void *body_named_keep_alive(void *arg)
{
	struct fixture f = { .opts.max_requests = 2 };
	char v[64];

	(void)arg;
	CHECK_EQ(start(&f, h_named_keep_alive), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, GET("/1") GET("/2")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(field(&rs, "Connection", v, sizeof(v)) && !strcmp(v, "keep-alive"));
	CHECK(!strstr(rs.head, "Connection: close"));
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK(strstr(rs.head, "Connection: close"));
	CHECK(!strstr(rs.head, "keep-alive"));
	CHECK(closed_by_server(&cl_a));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_connection_field_is_named_once(void **st)
{
	(void)st;
	run(body_named_keep_alive);
}

/*
 * The server frames the body: a handler's Content-Length or
 * Transfer-Encoding is refused (-EINVAL) and the response carries the
 * server's one Content-Length. Both used to go out, a response a client
 * could read two ways.
 */
static int framing_rets[2];

static int h_own_framing(struct coil_http_req *req,
			 struct coil_http_res *res, void *ud)
{
	(void)req;
	(void)ud;
	framing_rets[0] = coil_http_res_header(res, "Content-Length", "3");
	framing_rets[1] = coil_http_res_header(res, "Transfer-Encoding",
					       "chunked");
	return coil_http_res_send(res, "hello", 5);
}

static void *body_own_framing(void *arg)
{
	struct fixture f = { 0 };
	const char *cl;
	char v[64];

	(void)arg;
	CHECK_EQ(start(&f, h_own_framing), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, GET("/")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	CHECK_EQ(framing_rets[0], -EINVAL);
	CHECK_EQ(framing_rets[1], -EINVAL);
	CHECK(field(&rs, "Content-Length", v, sizeof(v)) && !strcmp(v, "5"));
	cl = strcasestr(rs.head, "content-length");
	CHECK(cl && !strcasestr(cl + 1, "content-length")); /* just one */
	CHECK(!strcasestr(rs.head, "transfer-encoding"));
	coil_close(cl_a.fd);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_handler_framing_fields_are_einval(void **st)
{
	(void)st;
	run(body_own_framing);
}

static void *body_shutdown(void *arg)
{
	struct fixture f = { 0 };

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, GET("/")), 0);
	CHECK_EQ(get_response(&cl_a, &rs, false), 0);
	/* An idle keep-alive connection does not hold the shutdown up. */
	CHECK_EQ(stop(&f), 0);
	CHECK(closed_by_server(&cl_a));
	coil_close(cl_a.fd);
	return NULL;
}

static void test_http_server_listener_close_ends_serve(void **st)
{
	(void)st;
	run(body_shutdown);
}

static int h_slow(struct coil_http_req *req, struct coil_http_res *res,
		  void *ud)
{
	(void)req;
	(void)ud;
	coil_sleep(MS(60000));
	return coil_http_res_send(res, "late", 4);
}

static void *body_cancel(void *arg)
{
	struct fixture f = { 0 };
	uint64_t t0;

	(void)arg;
	CHECK_EQ(start(&f, h_slow), 0);
	CHECK(connect_to(&f, &cl_a) >= 0);
	CHECK_EQ(put(&cl_a, GET("/")), 0);
	coil_sleep(MS(50));
	/* Cancelling the serving task cancels the busy handler too. */
	t0 = coil_now();
	coil_cancel(f.server);
	coil_join(f.server, NULL);
	CHECK_EQ(f.serve_ret, -ECANCELED);
	CHECK(test_elapsed_ns(t0) < MS(1000));
	CHECK(closed_by_server(&cl_a));
	coil_close(cl_a.fd);
	coil_listener_close(f.l);
	return NULL;
}

static void test_http_server_cancel_stops_every_connection(void **st)
{
	(void)st;
	run(body_cancel);
}

#define CONCURRENT 1000

struct getter {
	struct fixture *f;
	int ok;
};

static void *getter_main(void *arg)
{
	struct getter *g = arg;
	struct resp *r = malloc(sizeof(*r));
	char want[32];

	if (!r)
		return NULL;
	if (one_shot(g->f, GET("/many"), r) == 0 && r->status == 200) {
		snprintf(want, sizeof(want), "hello /many");
		g->ok = body_is(r, want);
	}
	free(r);
	return NULL;
}

static void *body_concurrent(void *arg)
{
	static struct getter g[CONCURRENT];
	static struct coil_task *t[CONCURRENT];
	struct coil_spawn_opts so = { .stack_size = 32768 };
	struct fixture f = { .opts.stack_size = 32768 };
	int i, ok = 0;

	(void)arg;
	CHECK_EQ(start(&f, h_hello), 0);
	for (i = 0; i < CONCURRENT; i++) {
		g[i] = (struct getter){ &f, 0 };
		CHECK_EQ(coil_spawn_opts(&t[i], &so, getter_main, &g[i]), 0);
	}
	CHECK_EQ(coil_gather(t, CONCURRENT, NULL, NULL), 0);
	for (i = 0; i < CONCURRENT; i++)
		ok += g[i].ok;
	CHECK_EQ(ok, CONCURRENT);
	CHECK_EQ(f.served, CONCURRENT);
	CHECK_EQ(stop(&f), 0);
	return NULL;
}

static void test_http_server_1000_concurrent_gets(void **st)
{
	(void)st;
	run(body_concurrent);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_server_answers_get),
		cmocka_unit_test(test_http_server_keep_alive_reuses_the_connection),
		cmocka_unit_test(test_http_server_pipelined_requests_answered_in_order),
		cmocka_unit_test(test_http_server_chunked_response),
		cmocka_unit_test(test_http_server_streamed_204_304_have_no_framing),
		cmocka_unit_test(test_http_server_reads_request_bodies),
		cmocka_unit_test(test_http_server_head_stays_valid_after_body_grows_buffer),
		cmocka_unit_test(test_http_server_unlimited_body_read_whole),
		cmocka_unit_test(test_http_server_skips_an_unread_body),
		cmocka_unit_test(test_http_server_body_over_limit_gets_413_and_close),
		cmocka_unit_test(test_http_server_bad_request_gets_400_and_others_go_on),
		cmocka_unit_test(test_http_server_oversized_head_gets_431),
		cmocka_unit_test(test_http_server_slowloris_client_is_dropped),
		cmocka_unit_test(test_http_server_idle_keep_alive_connection_is_closed),
		cmocka_unit_test(test_http_server_client_gone_mid_body),
		cmocka_unit_test(test_http_server_head_response_has_no_body),
		cmocka_unit_test(test_http_server_expect_continue),
		cmocka_unit_test(test_http_server_sendfile_response),
		cmocka_unit_test(test_http_server_sendfile_to_a_non_reader_times_out),
		cmocka_unit_test(test_http_server_handler_error_gets_500),
		cmocka_unit_test(test_http_server_linger_after_close_has_one_deadline),
		cmocka_unit_test(test_http_server_large_unread_body_closes_not_drains),
		cmocka_unit_test(test_http_server_trickled_unread_body_drain_is_bounded),
		cmocka_unit_test(test_http_server_http10_closes_after_response),
		cmocka_unit_test(test_http_server_max_requests_per_connection),
		cmocka_unit_test(test_http_server_connection_field_is_named_once),
		cmocka_unit_test(test_http_server_handler_framing_fields_are_einval),
		cmocka_unit_test(test_http_server_listener_close_ends_serve),
		cmocka_unit_test(test_http_server_cancel_stops_every_connection),
		cmocka_unit_test(test_http_server_1000_concurrent_gets),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
