/* SPDX-License-Identifier: MIT */
/*
 * tests/test_http_client.c - the HTTP client session (coil/http_client.h):
 * the native path against a small scripted server written here with coil's
 * net API (keep-alive, chunked, redirects, a server that closes mid-body
 * or never answers, 1,000 concurrent GETs), the libcurl path against the
 * same server, and both against Python's http.server
 * (tests/http_test_server.py), over TLS for the libcurl path with a
 * self-signed certificate made by openssl in the test. Loopback only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <coil.h>
#include <coil/http_client.h>

#include "helpers.h"


extern char **environ;

#define PTR(x) ((void *)(intptr_t)(x))
#define INT(p) ((int)(intptr_t)(p))

/* ------------------------------------------------- the scripted server */

struct srv {
	struct coil_listener *l;
	struct coil_task *task;
	int port;
	int accepted;   /* connections accepted */
	int live;       /* connections open now */
	int max_live;   /* the most open at once */
	bool drop_next; /* close on the next request, without an answer */
	int dropped;    /* requests so dropped */
	char base[64];  /* "http://127.0.0.1:PORT" */
};

struct conn_arg {
	struct srv *srv;
	int fd;
};

static int put(int fd, const char *s, size_t n)
{
	return coil_send_all(fd, s, n, NULL, -1) < 0 ? -1 : 0;
}

static int putf(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int putf(int fd, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return put(fd, buf, (size_t)n);
}

/* Read a request body (Content-Length or chunked) into a malloc'ed buffer. */
static char *read_body(struct coil_stream *st, long cl, bool chunked,
		       size_t *len)
{
	char line[128], *b = NULL;
	size_t n = 0;
	long k;

	if (!chunked) {
		b = calloc(1, (size_t)cl + 1);
		if (cl && coil_stream_read_exact(st, b, (size_t)cl, -1) != cl)
			return b;
		*len = (size_t)cl;
		return b;
	}
	for (;;) {
		if (coil_stream_read_line(st, line, sizeof(line) - 1, -1) <= 0)
			break;
		k = strtol(line, NULL, 16);
		if (!k) {
			coil_stream_read_line(st, line, sizeof(line) - 1, -1);
			break;
		}
		b = realloc(b, n + (size_t)k + 1);
		coil_stream_read_exact(st, b + n, (size_t)k, -1);
		n += (size_t)k;
		coil_stream_read_line(st, line, sizeof(line) - 1, -1);
	}
	*len = n;
	return b ? b : calloc(1, 1);
}

/* A local file that a redirect must never lead to (file://). */
static char secret_file[64];

/* Answer one request for @path; false closes the connection. */
static bool route(struct srv *s, int fd, const char *method,
		  const char *path, const char *body, size_t blen,
		  const char *xtest, const char *head)
{
	static char big[1 << 20];
	int n;

	if (!strcmp(path, "/hello"))
		return !putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
			     "X-Server: scripted\r\n\r\n%s",
			     strcmp(method, "HEAD") ? "hello" : "");
	if (!strcmp(path, "/chunked"))
		return !putf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked"
			     "\r\n\r\n3\r\nhel\r\n6\r\nlo wor\r\n2\r\nld\r\n"
			     "0\r\n\r\n");
	if (sscanf(path, "/redirect/%d", &n) == 1 && n > 0)
		return !putf(fd, "HTTP/1.1 302 Found\r\nLocation: /redirect/%d"
			     "\r\nContent-Length: 3\r\n\r\nabc", n - 1);
	if (!strcmp(path, "/redirect/0"))
		return !putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n"
			     "done");
	if (!strcmp(path, "/to-file"))
		return !putf(fd, "HTTP/1.1 302 Found\r\nLocation: file://"
			     "localhost%s\r\nContent-Length: 0\r\n\r\n",
			     secret_file);
	if (!strcmp(path, "/to-ftp"))
		return !putf(fd, "HTTP/1.1 302 Found\r\nLocation: ftp://"
			     "127.0.0.1:1/x\r\nContent-Length: 0\r\n\r\n");
	if (sscanf(path, "/to-other/%d", &n) == 1)
		return !putf(fd, "HTTP/1.1 302 Found\r\nLocation: http://"
			     "127.0.0.1:%d/echo-head\r\nContent-Length: 0"
			     "\r\n\r\n", n);
	if (sscanf(path, "/to-other-userinfo/%d", &n) == 1)
		return !putf(fd, "HTTP/1.1 302 Found\r\nLocation: http://u:p@"
			     "127.0.0.1:%d/echo-head\r\nContent-Length: 0"
			     "\r\n\r\n", n);
	if (!strcmp(path, "/to-same"))
		return !putf(fd, "HTTP/1.1 302 Found\r\nLocation: /echo-head"
			     "\r\nContent-Length: 0\r\n\r\n");
	if (!strncmp(path, "/echo-target", 12)) /* the target as the body */
		return !putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			     "\r\n%s", strlen(path), path);
	if (!strcmp(path, "/echo-head")) /* the request's head as the body */
		return !putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n"
			     "\r\n%s", strlen(head), head);
	if (!strcmp(path, "/see-other"))
		return !putf(fd, "HTTP/1.1 303 See Other\r\nLocation: "
			     "%s/echo\r\nContent-Length: 0\r\n\r\n", s->base);
	if (!strcmp(path, "/see-other-userinfo")) /* on through libcurl */
		return !putf(fd, "HTTP/1.1 303 See Other\r\nLocation: "
			     "http://u:p@127.0.0.1:%d/echo\r\nContent-Length:"
			     " 0\r\n\r\n", s->port);
	if (!strcmp(path, "/close-mid")) {
		putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
		     "0123456789");
		return false;
	}
	if (!strcmp(path, "/never")) {
		coil_sleep(3600ull * COIL_NSEC_PER_SEC);
		return false;
	}
	if (!strcmp(path, "/echo")) {
		putf(fd, "HTTP/1.1 200 OK\r\nX-Method: %s\r\nX-Test: %s\r\n"
		     "Content-Length: %zu\r\n\r\n", method, xtest, blen);
		return !put(fd, body, blen);
	}
	if (!strcmp(path, "/big")) {
		memset(big, 'x', sizeof(big));
		putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
		     sizeof(big));
		return !put(fd, big, sizeof(big));
	}
	if (!strcmp(path, "/bigchunked")) {
		memset(big, 'y', 1000);
		putf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
		for (n = 0; n < 200; n++) {
			putf(fd, "3e8\r\n");
			put(fd, big, 1000);
			put(fd, "\r\n", 2);
		}
		return !put(fd, "0\r\n\r\n", 5);
	}
	if (!strcmp(path, "/trailers")) {
		/* The trailer comes after the client has the head. */
		putf(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		     "X-Before: v1\r\nTrailer: X-T\r\n\r\n5\r\nhello\r\n");
		coil_sleep(50 * COIL_NSEC_PER_MSEC);
		return !putf(fd, "0\r\nX-T: tv\r\n\r\n");
	}
	if (!strcmp(path, "/stall")) {
		putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
		     "hello");
		coil_sleep(3600ull * COIL_NSEC_PER_SEC);
		return false;
	}
	if (!strcmp(path, "/arm-drop")) {
		s->drop_next = true;
		return !putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
			     "\r\nok");
	}
	if (!strcmp(path, "/hold")) {
		coil_sleep(20 * COIL_NSEC_PER_MSEC);
		return !putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
			     "ok");
	}
	if (!strcmp(path, "/close"))
		return !putf(fd, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
			     "Content-Length: 2\r\n\r\nok") && false;
	if (!strcmp(path, "/bad"))
		return !putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
			     "Content-Length: 3\r\n\r\nok") && false;
	if (!strcmp(path, "/then-408")) {
		/* Kept alive, then timed out as some servers do: a 408 the
		 * client never asked for, and the close. */
		putf(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
		coil_sleep(MS(20));
		putf(fd, "HTTP/1.1 408 Request Timeout\r\nConnection: close"
		     "\r\nContent-Length: 0\r\n\r\n");
		return false;
	}
	return !putf(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

static bool serve_one(struct srv *s, struct coil_stream *st, int fd)
{
	char line[2048], method[16] = "", path[1024] = "", xtest[256] = "";
	char head[900] = "";
	long cl = 0;
	bool chunked = false, ok;
	size_t blen = 0;
	char *body;
	ssize_t n;

	n = coil_stream_read_line(st, line, sizeof(line) - 1, -1);
	if (n <= 0)
		return false;
	line[n] = '\0';
	if (sscanf(line, "%15s %1023s", method, path) != 2)
		return false;
	for (;;) {
		n = coil_stream_read_line(st, line, sizeof(line) - 1, -1);
		if (n <= 0)
			return false;
		line[n] = '\0';
		if (!strcmp(line, "\r\n"))
			break;
		if (strlen(head) + (size_t)n < sizeof(head))
			strcat(head, line);
		if (!strncasecmp(line, "Content-Length:", 15))
			cl = atol(line + 15);
		if (!strncasecmp(line, "Transfer-Encoding: chunked", 26))
			chunked = true;
		if (!strncasecmp(line, "X-Test: ", 8))
			sscanf(line + 8, "%255[^\r]", xtest);
	}
	body = read_body(st, cl, chunked, &blen);
	if (s->drop_next) {
		/* As a server closing an idle connection just as it is used. */
		s->drop_next = false;
		s->dropped++;
		free(body);
		return false;
	}
	ok = route(s, fd, method, path, body, blen, xtest, head);
	free(body);
	return ok;
}

static void *conn_task(void *arg)
{
	struct conn_arg *ca = arg;
	struct srv *s = ca->srv;
	struct coil_stream *st;
	int fd = ca->fd;

	free(ca);
	if (++s->live > s->max_live)
		s->max_live = s->live;
	if (!coil_stream_create(fd, 0, &st)) {
		while (serve_one(s, st, fd))
			;
		coil_stream_destroy(st);
	}
	s->live--;
	coil_close(fd);
	return NULL;
}

static void *accept_task(void *arg)
{
	struct srv *s = arg;
	struct coil_task *t;
	struct conn_arg *ca;
	int fd;

	while ((fd = coil_listener_accept(s->l, NULL, NULL, -1)) >= 0) {
		s->accepted++;
		ca = malloc(sizeof(*ca));
		ca->srv = s;
		ca->fd = fd;
		if (coil_spawn(&t, conn_task, ca)) {
			coil_close(fd);
			free(ca);
			continue;
		}
		coil_detach(t);
	}
	coil_listener_close(s->l);
	return NULL;
}

static void srv_start(struct srv *s)
{
	memset(s, 0, sizeof(*s));
	assert_int_equal(coil_tcp_listen("127.0.0.1", 0, NULL, &s->l), 0);
	s->port = coil_listener_port(s->l);
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
	assert_int_equal(coil_spawn(&s->task, accept_task, s), 0);
}

/* Stop accepting; connection tasks end when main returns (cancelled). */
static void srv_stop(struct srv *s)
{
	coil_cancel(s->task);
	coil_join(s->task, NULL);
}

static char *url_of(const struct srv *s, const char *path)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s%s", s->base, path);
	return buf;
}

/* ---------------------------------------------------------- test bodies */

/* Each body gets a server and a session; @curl sends all through libcurl. */
struct ctx {
	struct srv srv;
	struct coil_http_session *s;
	bool curl;
};

typedef void (*body_fn)(struct ctx *c);

struct run_arg {
	body_fn fn;
	bool curl;
	struct coil_http_session_opts opts;
};

static void *run_body(void *arg)
{
	struct run_arg *ra = arg;
	struct ctx c = { .curl = ra->curl };

	srv_start(&c.srv);
	ra->opts.force_curl = ra->curl;
	assert_int_equal(coil_http_session_create(&ra->opts, &c.s), 0);
	ra->fn(&c);
	assert_int_equal(coil_http_session_destroy(c.s), 0);
	srv_stop(&c.srv);
	return NULL;
}

static void run_with(body_fn fn, bool curl,
		     const struct coil_http_session_opts *opts)
{
	struct run_arg ra = { .fn = fn, .curl = curl };

	if (curl && !coil_http_have_curl())
		TEST_SKIP("coil was built without libcurl");
	if (opts)
		ra.opts = *opts;
	test_run(run_body, &ra);
}

static struct coil_http_response *get_ok(struct ctx *c, const char *path)
{
	struct coil_http_response *r = NULL;

	assert_int_equal(coil_http_get(c->s, url_of(&c->srv, path), &r), 0);
	return r;
}

static void body_get(struct ctx *c)
{
	struct coil_http_response *r = get_ok(c, "/hello");
	size_t len;

	assert_int_equal(coil_http_response_status(r), 200);
	assert_string_equal(coil_http_response_body(r, &len), "hello");
	assert_int_equal(len, 5);
	assert_string_equal(coil_http_response_header(r, "x-server"),
			    "scripted");
	assert_true(coil_http_response_header_count(r) >= 2);
	coil_http_response_free(r);
}

static void test_http_client_get_content_length(void **state)
{
	(void)state;
	run_with(body_get, false, NULL);
}

static void body_keep_alive(struct ctx *c)
{
	int i;

	for (i = 0; i < 10; i++)
		coil_http_response_free(get_ok(c, "/hello"));
	assert_int_equal(c->srv.accepted, 1);
}

static void test_http_client_keep_alive_reuses_connection(void **state)
{
	(void)state;
	run_with(body_keep_alive, false, NULL);
}

static void body_connection_close(struct ctx *c)
{
	coil_http_response_free(get_ok(c, "/close"));
	coil_http_response_free(get_ok(c, "/close"));
	assert_int_equal(c->srv.accepted, 2);
}

static void test_http_client_connection_close_is_not_reused(void **state)
{
	(void)state;
	run_with(body_connection_close, false, NULL);
}

static void body_chunked(struct ctx *c)
{
	struct coil_http_response *r = get_ok(c, "/chunked");

	assert_string_equal(coil_http_response_body(r, NULL), "hello world");
	coil_http_response_free(r);
	/* The connection stays usable after a chunked body. */
	coil_http_response_free(get_ok(c, "/hello"));
	if (!c->curl)
		assert_int_equal(c->srv.accepted, 1);
}

static void test_http_client_chunked_response(void **state)
{
	(void)state;
	run_with(body_chunked, false, NULL);
}

static void body_redirects(struct ctx *c)
{
	struct coil_http_response *r = get_ok(c, "/redirect/3");

	assert_int_equal(coil_http_response_status(r), 200);
	assert_string_equal(coil_http_response_body(r, NULL), "done");
	assert_string_equal(coil_http_response_url(r),
			    url_of(&c->srv, "/redirect/0"));
	coil_http_response_free(r);
}

static void test_http_client_redirects_are_followed(void **state)
{
	(void)state;
	run_with(body_redirects, false, NULL);
}

static void body_redirects_bounded(struct ctx *c)
{
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/redirect/5"), .max_redirects = 2,
	};
	struct coil_http_response *r = (void *)1;

	assert_int_equal(coil_http_request(c->s, &req, &r), -ELOOP);
	assert_null(r);
}

static void test_http_client_redirects_are_bounded(void **state)
{
	(void)state;
	run_with(body_redirects_bounded, false, NULL);
}

static void body_redirect_opt_out(struct ctx *c)
{
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/redirect/1"), .no_redirects = true,
	};
	struct coil_http_response *r;

	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	assert_int_equal(coil_http_response_status(r), 302);
	assert_string_equal(coil_http_response_header(r, "Location"),
			    "/redirect/0");
	coil_http_response_free(r);
}

static void test_http_client_redirects_opt_out(void **state)
{
	(void)state;
	run_with(body_redirect_opt_out, false, NULL);
}

static void body_see_other(struct ctx *c)
{
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/see-other"), .body = "data",
		.body_len = 4,
	};
	struct coil_http_response *r;

	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	assert_int_equal(coil_http_response_status(r), 200);
	assert_string_equal(coil_http_response_header(r, "X-Method"), "GET");
	assert_string_equal(coil_http_response_body(r, NULL), "");
	coil_http_response_free(r);
}

static void test_http_client_see_other_turns_post_into_get(void **state)
{
	(void)state;
	run_with(body_see_other, false, NULL);
}

/*
 * The GET a 303 turns a POST into carries no body when its hop goes
 * through libcurl: from the native path (a Location with user:pass@), or
 * with every request through libcurl.
 */
static void body_see_other_curl(struct ctx *c)
{
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/see-other-userinfo"), .body = "data",
		.body_len = 4,
	};
	struct coil_http_response *r;

	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	assert_int_equal(coil_http_response_status(r), 200);
	assert_string_equal(coil_http_response_header(r, "X-Method"), "GET");
	assert_string_equal(coil_http_response_body(r, NULL), "");
	coil_http_response_free(r);
}

static void test_http_client_see_other_through_curl_sends_no_body(
	void **state)
{
	(void)state;
	if (!coil_http_have_curl())
		TEST_SKIP("coil was built without libcurl");
	run_with(body_see_other_curl, false, NULL);
	run_with(body_see_other, true, NULL);
}

/*
 * An http:// server redirects to file://localhost/<a local file>, or to
 * ftp:// (which libcurl would follow by default): the redirect is refused
 * (only http and https are followed) before anything is fetched, and the
 * file's bytes never come back as the body.
 */
static void body_redirect_to_file(struct ctx *c)
{
	struct coil_http_response *r = (void *)1;

	assert_int_equal(coil_http_get(c->s, url_of(&c->srv, "/to-file"), &r),
			 -EPROTONOSUPPORT);
	assert_null(r);
	assert_int_equal(coil_http_get(c->s, url_of(&c->srv, "/to-ftp"), &r),
			 -EPROTONOSUPPORT);
	assert_null(r);
	/* The session still works afterwards. */
	coil_http_response_free(get_ok(c, "/hello"));
}

static void test_http_client_redirect_to_file_scheme_is_refused(
	void **state)
{
	int fd;

	(void)state;
	snprintf(secret_file, sizeof(secret_file), "/tmp/coil-secret-XXXXXX");
	fd = mkstemp(secret_file);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "secret", 6), 6);
	close(fd);
	run_with(body_redirect_to_file, false, NULL);
	if (coil_http_have_curl())
		run_with(body_redirect_to_file, true, NULL);
	unlink(secret_file);
}

/*
 * Credentials and a user-set Host header go to the origin (scheme, host,
 * port) they were meant for, not to another one a redirect leads to
 * (through libcurl too: a URL with user:pass@ goes there), as curl and
 * browsers do; a redirect within the origin keeps them.
 */
static struct coil_http_response *get_with_secrets(struct ctx *c,
						   const char *path)
{
	static const struct coil_http_header h[] = {
		{ "Authorization", "Bearer SECRET-A" },
		{ "Cookie", "sid=SECRET-C" },
		{ "Proxy-Authorization", "Basic SECRET-P" },
		{ "X-Test", "kept" },
		{ "Host", "SECRET-H" },
	};
	struct coil_http_request req = {
		.url = url_of(&c->srv, path), .headers = h, .nheaders = 5,
	};
	struct coil_http_response *r;

	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	assert_int_equal(coil_http_response_status(r), 200);
	return r;
}

static void body_redirect_drops_credentials(struct ctx *c)
{
	/* Static: its connection tasks outlive this function. */
	static struct srv other;
	struct coil_http_response *r;
	char path[64], host[64];
	const char *head;
	int i;

	srv_start(&other);
	snprintf(host, sizeof(host), "Host: 127.0.0.1:%d\r\n", other.port);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), i ? "/to-other-userinfo/%d" :
			 "/to-other/%d", other.port);
		r = get_with_secrets(c, path);
		head = coil_http_response_body(r, NULL);
		assert_non_null(strstr(head, "X-Test: kept\r\n"));
		assert_non_null(strstr(head, host));
		assert_null(strstr(head, "SECRET"));
		coil_http_response_free(r);
	}
	r = get_with_secrets(c, "/to-same");
	head = coil_http_response_body(r, NULL);
	assert_non_null(strstr(head, "Authorization: Bearer SECRET-A\r\n"));
	assert_non_null(strstr(head, "Cookie: sid=SECRET-C\r\n"));
	assert_non_null(strstr(head, "Host: SECRET-H\r\n"));
	coil_http_response_free(r);
	srv_stop(&other);
}

static void test_http_client_redirect_to_other_origin_drops_credentials(
	void **state)
{
	(void)state;
	run_with(body_redirect_drops_credentials, false, NULL);
	run_with(body_redirect_drops_credentials, true, NULL);
}

/*
 * A ':' is fine in a path and a query (RFC 3986); a space or another
 * control character is refused (-EINVAL) before any connection is made.
 */
static void body_target_chars(struct ctx *c)
{
	static const char *const bad[] = { "/a b", "/a\tb", "/a\x7f",
					   "/a?q=\x01" };
	struct coil_http_response *r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = (void *)1;
		assert_int_equal(coil_http_get(c->s, url_of(&c->srv, bad[i]),
					       &r), -EINVAL);
		assert_null(r);
	}
	coil_sleep(MS(20)); /* an accept would have been seen by now */
	assert_int_equal(c->srv.accepted, 0);
	r = get_ok(c, "/echo-target/a:b?t=12:30");
	assert_int_equal(coil_http_response_status(r), 200);
	assert_string_equal(coil_http_response_body(r, NULL),
			    "/echo-target/a:b?t=12:30");
	coil_http_response_free(r);
}

static void test_http_client_target_colon_ok_controls_refused(void **state)
{
	(void)state;
	run_with(body_target_chars, false, NULL);
	if (coil_http_have_curl())
		run_with(body_target_chars, true, NULL);
}

/* The URL a response reports keeps no user:pass@ (it ends up in logs). */
static void body_url_without_userinfo(struct ctx *c)
{
	struct coil_http_response *r;
	char url[128];

	snprintf(url, sizeof(url), "http://u:secret@127.0.0.1:%d/hello",
		 c->srv.port);
	assert_int_equal(coil_http_get(c->s, url, &r), 0);
	assert_int_equal(coil_http_response_status(r), 200);
	assert_string_equal(coil_http_response_url(r),
			    url_of(&c->srv, "/hello"));
	coil_http_response_free(r);
}

static void test_http_client_response_url_has_no_userinfo(void **state)
{
	(void)state;
	if (!coil_http_have_curl())
		TEST_SKIP("coil was built without libcurl");
	run_with(body_url_without_userinfo, false, NULL);
	run_with(body_url_without_userinfo, true, NULL);
}

static void body_close_mid(struct ctx *c)
{
	struct coil_http_response *r = (void *)1;
	int err = coil_http_get(c->s, url_of(&c->srv, "/close-mid"), &r);

	assert_int_equal(err, -ECONNRESET);
	assert_null(r);
}

static void test_http_client_server_closing_mid_body_is_econnreset(
	void **state)
{
	(void)state;
	run_with(body_close_mid, false, NULL);
}

static void body_deadline(struct ctx *c)
{
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/never"),
		.timeout_ns = MS(100),
	};
	struct coil_http_response *r;
	uint64_t t0 = coil_now();

	assert_int_equal(coil_http_request(c->s, &req, &r), -ETIMEDOUT);
	assert_true(test_elapsed_ns(t0) >= MS(90));
	assert_true(test_elapsed_ns(t0) < MS(2000));
	/* The session still works afterwards. */
	coil_http_response_free(get_ok(c, "/hello"));
}

static void test_http_client_deadline_on_silent_server(void **state)
{
	(void)state;
	run_with(body_deadline, false, NULL);
}

static void body_post_echo(struct ctx *c)
{
	static const struct coil_http_header h[] = { { "X-Test", "yes" } };
	struct coil_http_request req = {
		.method = "PUT", .url = url_of(&c->srv, "/echo"),
		.headers = h, .nheaders = 1,
		.body = "the body", .body_len = 8,
	};
	struct coil_http_response *r;

	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	assert_string_equal(coil_http_response_header(r, "X-Method"), "PUT");
	assert_string_equal(coil_http_response_header(r, "X-Test"), "yes");
	assert_string_equal(coil_http_response_body(r, NULL), "the body");
	coil_http_response_free(r);
}

static void test_http_client_put_sends_headers_and_body(void **state)
{
	(void)state;
	run_with(body_post_echo, false, NULL);
}

struct producer {
	int left;
};

static ssize_t produce(void *arg, void *buf, size_t len)
{
	struct producer *p = arg;

	if (!p->left)
		return 0;
	coil_yield(); /* a body producer may suspend */
	p->left--;
	assert_true(len >= 3);
	memcpy(buf, "abc", 3);
	return 3;
}

static void body_post_streamed(struct ctx *c)
{
	struct producer p = { .left = 5 };
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/echo"), .body_fn = produce,
		.body_arg = &p, .body_size = -1,
	};
	struct coil_http_response *r;

	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	assert_string_equal(coil_http_response_header(r, "X-Method"), "POST");
	assert_string_equal(coil_http_response_body(r, NULL),
			    "abcabcabcabcabc");
	coil_http_response_free(r);
}

static void test_http_client_post_streamed_body_chunked(void **state)
{
	(void)state;
	run_with(body_post_streamed, false, NULL);
}

static void body_max_body(struct ctx *c)
{
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/big"), .max_body = 1000,
	};
	struct coil_http_response *r;

	assert_int_equal(coil_http_request(c->s, &req, &r), -EFBIG);
	req.max_body = 0;
	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	assert_int_equal(strlen(coil_http_response_body(r, NULL)), 1 << 20);
	coil_http_response_free(r);
}

static void test_http_client_too_large_body_is_efbig(void **state)
{
	(void)state;
	run_with(body_max_body, false, NULL);
}

/* All of a streamed body, @path's, read in pieces: its length. */
static size_t stream_all(struct ctx *c, const char *path, uint64_t max_body)
{
	struct coil_http_request req = {
		.url = url_of(&c->srv, path), .stream = true,
		.max_body = max_body,
	};
	struct coil_http_response *r;
	size_t total = 0;
	char buf[4096];
	ssize_t n;

	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	while ((n = coil_http_response_read(r, buf, sizeof(buf))) > 0)
		total += (size_t)n;
	assert_int_equal(n, 0);
	coil_http_response_free(r);
	return total;
}

/*
 * max_body is for whole bodies (http_client.h): a streamed response larger
 * than it is read to its end. The native client used to refuse a
 * Content-Length over it with -EFBIG, and stop a chunked one there.
 */
static void body_max_body_streamed(struct ctx *c)
{
	assert_int_equal(stream_all(c, "/big", 1000), 1 << 20);
	assert_int_equal(stream_all(c, "/bigchunked", 1000), 200000);
}

static void test_http_client_max_body_does_not_limit_a_stream(void **state)
{
	(void)state;
	run_with(body_max_body_streamed, false, NULL);
	if (coil_http_have_curl()) /* the same through libcurl */
		run_with(body_max_body_streamed, true, NULL);
}

static void body_stream(struct ctx *c)
{
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/bigchunked"), .stream = true,
	};
	struct coil_http_response *r;
	size_t total = 0, len;
	char buf[777];
	ssize_t n;

	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	assert_int_equal(coil_http_response_status(r), 200);
	assert_null(coil_http_response_body(r, &len));
	while ((n = coil_http_response_read(r, buf, sizeof(buf))) > 0) {
		assert_int_equal(memchr(buf, 'y', (size_t)n), buf);
		total += (size_t)n;
	}
	assert_int_equal(n, 0);
	assert_int_equal(total, 200000);
	coil_http_response_free(r);
	coil_http_response_free(get_ok(c, "/hello"));
	if (!c->curl)
		assert_int_equal(c->srv.accepted, 1);
}

static void test_http_client_streamed_response_in_pieces(void **state)
{
	(void)state;
	run_with(body_stream, false, NULL);
}

/*
 * Trailers are not headers: the header values a streamed response handed
 * out stay where they are (same pointers, same count) while its body and
 * then its trailers arrive.
 */
static void body_trailers(struct ctx *c)
{
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/trailers"), .stream = true,
	};
	struct coil_http_response *r;
	const char *v;
	size_t count;
	char buf[64];
	ssize_t n;

	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	v = coil_http_response_header(r, "X-Before");
	assert_string_equal(v, "v1");
	count = coil_http_response_header_count(r);
	while ((n = coil_http_response_read(r, buf, sizeof(buf))) > 0)
		;
	assert_int_equal(n, 0);
	assert_int_equal(coil_http_response_header_count(r), count);
	assert_null(coil_http_response_header(r, "X-T"));
	assert_ptr_equal(coil_http_response_header(r, "X-Before"), v);
	assert_string_equal(v, "v1");
	coil_http_response_free(r);
}

static void test_http_client_trailers_leave_headers_in_place(void **state)
{
	(void)state;
	run_with(body_trailers, false, NULL);
	run_with(body_trailers, true, NULL);
}

static void body_head(struct ctx *c)
{
	struct coil_http_request req = {
		.method = "HEAD", .url = url_of(&c->srv, "/hello"),
	};
	struct coil_http_response *r;

	assert_int_equal(coil_http_request(c->s, &req, &r), 0);
	assert_int_equal(coil_http_response_status(r), 200);
	assert_string_equal(coil_http_response_header(r, "Content-Length"),
			    "5");
	assert_string_equal(coil_http_response_body(r, NULL), "");
	coil_http_response_free(r);
	coil_http_response_free(get_ok(c, "/hello"));
}

static void test_http_client_head_has_no_body(void **state)
{
	(void)state;
	run_with(body_head, false, NULL);
}

static void body_protocol_violation(struct ctx *c)
{
	struct coil_http_response *r;

	assert_int_equal(coil_http_get(c->s, url_of(&c->srv, "/bad"), &r),
			 -EPROTO);
}

static void test_http_client_protocol_violation_is_eproto(void **state)
{
	(void)state;
	run_with(body_protocol_violation, false, NULL);
}

static void body_errors(struct ctx *c)
{
	struct coil_http_response *r;
	int err;

	assert_int_equal(coil_http_get(c->s, "not a url", &r), -EINVAL);
	assert_int_equal(coil_http_get(c->s, "http:///path", &r), -EINVAL);
	assert_int_equal(coil_http_get(c->s, "http://127.0.0.1:1/", &r),
			 -ECONNREFUSED);
	err = coil_http_get(c->s, "http://no-such-host.invalid/", &r);
	assert_true(err == -COIL_ENONAME || err == -EAGAIN);
	if (!coil_http_have_curl())
		assert_int_equal(coil_http_get(c->s, "https://127.0.0.1:1/",
					       &r), -EPROTONOSUPPORT);
}

static void test_http_client_errors_are_negative_errno(void **state)
{
	(void)state;
	run_with(body_errors, false, NULL);
}

/*
 * Headers that cannot go on the wire (no name, a name that is not a token,
 * CR or LF that would smuggle another header in, no value) are -EINVAL
 * before any connection is made; so are framing fields, which the client
 * writes from the body it is given (a user's Content-Length used to go
 * out beside the client's own, a message servers must reject).
 */
static void body_bad_headers(struct ctx *c)
{
	static const struct coil_http_header bad[][1] = {
		{ { NULL, "v" } }, { { "X-A", NULL } }, { { "", "v" } },
		{ { "X A", "v" } }, { { "X-A:", "v" } },
		{ { "X-A\r\nX-B", "v" } }, { { "X-A", "v\r\nX-B: w" } },
		{ { "X-A", "v\nX-B: w" } }, { { "X-A", "v\x01" } },
		{ { "Content-Length", "5" } },
		{ { "transfer-encoding", "chunked" } },
	};
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/hello"), .nheaders = 1,
	};
	struct coil_http_response *r;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = (void *)1;
		req.headers = bad[i];
		assert_int_equal(coil_http_request(c->s, &req, &r), -EINVAL);
		assert_null(r);
	}
	req.headers = NULL; /* nheaders 1 without headers */
	assert_int_equal(coil_http_request(c->s, &req, &r), -EINVAL);
	coil_sleep(MS(20)); /* an accept would have been seen by now */
	assert_int_equal(c->srv.accepted, 0);
}

/*
 * A pooled connection on which the server spoke while it was idle (a 408,
 * then its close) is not reused: the next request goes on a new one and
 * gets its own answer. It used to be sent on the old one and read the 408.
 */
static void body_idle_408(struct ctx *c)
{
	struct coil_http_response *r = get_ok(c, "/then-408");

	assert_int_equal(coil_http_response_status(r), 200);
	coil_http_response_free(r);
	coil_sleep(MS(60)); /* the 408 and the close are in */
	r = get_ok(c, "/hello");
	assert_int_equal(coil_http_response_status(r), 200);
	coil_http_response_free(r);
	assert_int_equal(c->srv.accepted, 2);
}

static void test_http_client_does_not_reuse_a_connection_that_spoke_idle(
	void **state)
{
	(void)state;
	run_with(body_idle_408, false, NULL);
}

static void test_http_client_bad_headers_are_einval(void **state)
{
	(void)state;
	run_with(body_bad_headers, false, NULL);
	if (coil_http_have_curl())
		run_with(body_bad_headers, true, NULL);
}

/*
 * A reused connection that the server closes without answering: a GET is
 * sent again on a new connection, a POST is not (it may have been acted
 * on: RFC 9110 9.2.2) and fails with -ECONNRESET.
 */
static void body_stale_retry(struct ctx *c)
{
	struct coil_http_request req = {
		.url = url_of(&c->srv, "/echo"), .body = "pay", .body_len = 3,
	};
	struct coil_http_response *r = (void *)1;

	coil_http_response_free(get_ok(c, "/arm-drop"));
	coil_http_response_free(get_ok(c, "/hello"));
	assert_int_equal(c->srv.dropped, 1);
	assert_int_equal(c->srv.accepted, 2);
	coil_http_response_free(get_ok(c, "/arm-drop"));
	assert_int_equal(coil_http_request(c->s, &req, &r), -ECONNRESET);
	assert_null(r);
	assert_int_equal(c->srv.dropped, 2);
	assert_int_equal(c->srv.accepted, 2); /* no second connection */
}

static void test_http_client_stale_retry_only_for_idempotent_methods(
	void **state)
{
	(void)state;
	run_with(body_stale_retry, false, NULL);
}

/* ------------------------------------------------ concurrency and limits */

struct many {
	struct ctx *c;
	const char *path;
	int ok;
};

static void *one_get(void *arg)
{
	struct many *m = arg;
	struct coil_http_response *r;

	if (!coil_http_get(m->c->s, url_of(&m->c->srv, m->path), &r)) {
		if (coil_http_response_status(r) == 200)
			m->ok++;
		coil_http_response_free(r);
	}
	return NULL;
}

static void run_many(struct ctx *c, const char *path, int n)
{
	struct coil_task **t = calloc((size_t)n, sizeof(*t));
	struct many m = { .c = c, .path = path };
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(coil_spawn(&t[i], one_get, &m), 0);
	for (i = 0; i < n; i++)
		coil_join(t[i], NULL);
	free(t);
	assert_int_equal(m.ok, n);
}

static void body_thousand(struct ctx *c)
{
	run_many(c, "/hello", 1000);
	assert_true(c->srv.max_live <= 100); /* the default max_total */
}

static void test_http_client_thousand_concurrent_gets(void **state)
{
	(void)state;
	run_with(body_thousand, false, NULL);
}

static void body_per_host(struct ctx *c)
{
	run_many(c, "/hold", 20);
	assert_true(c->srv.max_live <= 2);
	assert_true(c->srv.accepted <= 2);
}

static void test_http_client_per_host_limit_holds(void **state)
{
	struct coil_http_session_opts o = { .max_per_host = 2 };

	(void)state;
	run_with(body_per_host, false, &o);
}

static void body_idle_timeout(struct ctx *c)
{
	coil_http_response_free(get_ok(c, "/hello"));
	coil_sleep(80 * COIL_NSEC_PER_MSEC);
	coil_http_response_free(get_ok(c, "/hello"));
	assert_int_equal(c->srv.accepted, 2);
}

static void test_http_client_idle_timeout_closes_pooled(void **state)
{
	struct coil_http_session_opts o = { .idle_timeout_ns = MS(30) };

	(void)state;
	run_with(body_idle_timeout, false, &o);
}

/*
 * idle_timeout_ns < 0: nothing is reused, each request has a connection
 * of its own, closed after it (and its host is forgotten with it, as no
 * sweep ever runs then: the paths ASan watches here).
 */
static void body_no_reuse(struct ctx *c)
{
	int i;

	for (i = 0; i < 3; i++)
		coil_http_response_free(get_ok(c, "/hello"));
	assert_int_equal(c->srv.accepted, 3);
	for (i = 0; i < 100 && c->srv.live; i++)
		coil_sleep(MS(5));
	assert_int_equal(c->srv.live, 0); /* none kept open */
}

static void test_http_client_negative_idle_timeout_never_reuses(void **state)
{
	struct coil_http_session_opts o = { .idle_timeout_ns = -1 };

	(void)state;
	run_with(body_no_reuse, false, &o);
}

/*
 * The idle timer closes a pooled connection on time with nobody touching
 * the pool again: the server sees it go. Sleeping is all the client does.
 */
static void body_idle_timer(struct ctx *c)
{
	int i;

	coil_http_response_free(get_ok(c, "/hello"));
	assert_int_equal(c->srv.live, 1); /* pooled, still open */
	for (i = 0; i < 100 && c->srv.live; i++)
		coil_sleep(10 * COIL_NSEC_PER_MSEC);
	assert_int_equal(c->srv.live, 0);
	/* Closed at the timeout (30 ms), not at some later sweep. */
	assert_true(i < 50);
	assert_int_equal(c->srv.accepted, 1);
}

static void test_http_client_idle_connection_closed_without_pool_use(
	void **state)
{
	struct coil_http_session_opts o = { .idle_timeout_ns = MS(30) };

	(void)state;
	run_with(body_idle_timer, false, &o);
}

/*
 * The idle timer is housekeeping: it never holds coil_run() back. Main
 * returns with a session whose idle connection has 10 s to go; the run
 * ends at once, the session is destroyed after it (nothing left to wait
 * for: the ring is gone) and its connection closed then.
 */
static struct coil_http_session *kept_session;

static void body_keep_session(struct ctx *c)
{
	coil_http_response_free(get_ok(c, "/hello"));
	kept_session = c->s; /* destroyed after coil_run() returns */
	c->s = NULL;
}

static void test_http_client_idle_timer_does_not_delay_run_end(void **state)
{
	struct run_arg ra = { .fn = body_keep_session };
	int fds = test_count_fds();
	uint64_t t0;

	(void)state;
	ra.opts.idle_timeout_ns = MS(10000);
	test_skip_if_thread_bound();
	t0 = coil_now();
	assert_int_equal(coil_run(run_body, &ra, NULL), 0);
	assert_true(test_elapsed_ns(t0) < MS(2000));
	assert_int_equal(test_count_fds(), fds + 1); /* the pooled connection */
	assert_int_equal(coil_http_session_destroy(kept_session), 0);
	assert_int_equal(test_count_fds(), fds);
}

/* ---------------------------------------------------- the libcurl path */

static void test_http_client_curl_get_and_keep_alive(void **state)
{
	(void)state;
	run_with(body_get, true, NULL);
	run_with(body_keep_alive, true, NULL);
}

static void test_http_client_curl_chunked_and_redirects(void **state)
{
	(void)state;
	run_with(body_chunked, true, NULL);
	run_with(body_redirects, true, NULL);
	run_with(body_redirects_bounded, true, NULL);
	run_with(body_redirect_opt_out, true, NULL);
}

static void test_http_client_curl_close_mid_body_and_deadline(void **state)
{
	(void)state;
	run_with(body_close_mid, true, NULL);
	run_with(body_deadline, true, NULL);
}

static void test_http_client_curl_bodies(void **state)
{
	(void)state;
	run_with(body_post_echo, true, NULL);
	run_with(body_post_streamed, true, NULL);
	run_with(body_max_body, true, NULL);
	run_with(body_stream, true, NULL);
	run_with(body_head, true, NULL);
}

static void test_http_client_curl_thousand_concurrent_gets(void **state)
{
	(void)state;
	run_with(body_thousand, true, NULL);
}

/* ------------------------------------------------- Python's http.server */

struct pyserver {
	pid_t pid;
	int port;
};

static bool have_program(const char *name)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/*
 * Where tests/http_test_server.py is: beside this file. __FILE__ is as the
 * compiler got it, relative to the build directory (this executable's
 * parent's parent) or absolute.
 */
static const char *script_path(void)
{
	static char path[4096 + 256];
	char exe[4096], *slash;
	ssize_t n;

	if (__FILE__[0] == '/') {
		snprintf(path, sizeof(path), "%s", __FILE__);
	} else {
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		exe[n > 0 ? n : 0] = '\0';
		for (int i = 0; i < 2 && (slash = strrchr(exe, '/')); i++)
			*slash = '\0';
		if (strlen(exe) + sizeof(__FILE__) + 2 < sizeof(path))
			sprintf(path, "%s/" __FILE__, exe);
	}
	slash = strrchr(path, '/');
	slash = slash ? slash + 1 : path;
	if ((size_t)(slash - path) + 32 < sizeof(path))
		memcpy(slash, "http_test_server.py", 20);
	return path;
}

/* Start tests/http_test_server.py (with @cert/@key: TLS); port on stdout. */
static bool py_start(struct pyserver *ps, const char *cert, const char *key)
{
	char *argv[] = { "python3", (char *)script_path(),
			 cert ? "--tls" : NULL, (char *)cert, (char *)key,
			 NULL };
	posix_spawn_file_actions_t fa;
	char line[32];
	int p[2];
	FILE *f;

	if (pipe2(p, O_CLOEXEC))
		return false;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[1], 1);
	if (posix_spawnp(&ps->pid, "python3", &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		close(p[0]);
		close(p[1]);
		return false;
	}
	posix_spawn_file_actions_destroy(&fa);
	close(p[1]);
	f = fdopen(p[0], "r");
	ps->port = f && fgets(line, sizeof(line), f) ? atoi(line) : 0;
	if (f)
		fclose(f);
	if (ps->port <= 0) {
		kill(ps->pid, SIGKILL);
		waitpid(ps->pid, NULL, 0);
		return false;
	}
	return true;
}

static void py_stop(struct pyserver *ps)
{
	kill(ps->pid, SIGTERM);
	waitpid(ps->pid, NULL, 0);
}

struct py_arg {
	const char *scheme;
	int port;
	bool curl;
	const char *ca_file;
	int want_err; /* of a request without the CA (TLS) */
};

static void *py_body(void *arg)
{
	struct py_arg *pa = arg;
	struct coil_http_session_opts o = { .force_curl = pa->curl,
					    .ca_file = pa->ca_file };
	struct coil_http_session *s;
	struct coil_http_response *r;
	char url[128];
	int i;

	assert_int_equal(coil_http_session_create(&o, &s), 0);
	for (i = 0; i < 3; i++) {
		snprintf(url, sizeof(url), "%s://127.0.0.1:%d%s", pa->scheme,
			 pa->port, i == 0 ? "/hello" : i == 1 ? "/chunked" :
			 "/redirect");
		assert_int_equal(coil_http_get(s, url, &r), 0);
		assert_int_equal(coil_http_response_status(r), 200);
		assert_string_equal(coil_http_response_body(r, NULL),
				    i == 1 ? "hello world" : "hello");
		coil_http_response_free(r);
	}
	assert_int_equal(coil_http_session_destroy(s), 0);
	if (pa->want_err) {
		/* Without the CA the self-signed certificate is refused. */
		assert_int_equal(coil_http_session_create(NULL, &s), 0);
		snprintf(url, sizeof(url), "https://127.0.0.1:%d/hello",
			 pa->port);
		assert_int_equal(coil_http_get(s, url, &r), pa->want_err);
		assert_int_equal(coil_http_session_destroy(s), 0);
	}
	return NULL;
}

/*
 * Nor does it hide a deadlock: main and a task wait for each other while a
 * connection to a server in another process idles with 10 s to go; the
 * runtime sees the deadlock at once, cancels, and main cleans up (destroy
 * drains the timer). The server must not be a task of this runtime (its
 * pending accept and receive would be work in flight, no deadlock), nor
 * may the wait be one another thread could end (an event, a queue).
 */
struct deadlock_arg {
	int port;
	int wait_ret;
};

static void *wait_for_main(void *arg)
{
	struct coil_task *main_task = arg;

	return PTR(coil_wait_any(&main_task, 1, COIL_NO_TIMEOUT));
}

static void *deadlock_with_idle_session(void *arg)
{
	struct deadlock_arg *da = arg;
	struct coil_http_session_opts o = { .idle_timeout_ns = MS(10000) };
	struct coil_http_session *s;
	struct coil_http_response *r = NULL;
	struct coil_task *t;
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hello", da->port);
	assert_int_equal(coil_http_session_create(&o, &s), 0);
	assert_int_equal(coil_http_get(s, url, &r), 0);
	coil_http_response_free(r);
	assert_int_equal(coil_spawn(&t, wait_for_main, coil_self()), 0);
	da->wait_ret = coil_join(t, NULL);
	assert_int_equal(coil_http_session_destroy(s), 0);
	return NULL;
}

static void test_http_client_idle_timer_does_not_hide_deadlock(void **state)
{
	struct deadlock_arg da = { 0 };
	struct coil_options o;
	struct pyserver ps;
	uint64_t t0;

	(void)state;
	if (!have_program("python3") || !py_start(&ps, NULL, NULL))
		TEST_SKIP("python3 is not available");
	da.port = ps.port;
	coil_options_init(&o);
	o.log = coil_log_quiet;
	t0 = coil_now();
	test_run_opts(&o, deadlock_with_idle_session, &da, -EDEADLK);
	py_stop(&ps);
	assert_int_equal(da.wait_ret, -ECANCELED);
	assert_true(test_elapsed_ns(t0) < MS(2000));
}

/*
 * A libcurl response still streaming and its session outlive coil_run()
 * (the server, in another process, stays silent): freeing them afterwards
 * touches no part of the runtime that is gone (ASan sees any use of it)
 * and closes libcurl's sockets.
 */
struct kept_curl {
	int port;
	struct coil_http_session *s;
	struct coil_http_response *r;
};

static void *keep_curl_response(void *arg)
{
	struct kept_curl *k = arg;
	/*
	 * libcurl's timer stays armed (30 s away) with the transfer: coil_run
	 * must not wait for it once main has returned.
	 */
	struct coil_http_session_opts o = { .force_curl = true };
	struct coil_http_request req = { .stream = true };
	struct coil_http_response *r;
	char url[64], buf[8];

	assert_int_equal(coil_http_session_create(&o, &k->s), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/hello", k->port);
	assert_int_equal(coil_http_get(k->s, url, &r), 0);
	coil_http_response_free(r);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/stall", k->port);
	req.url = url;
	assert_int_equal(coil_http_request(k->s, &req, &k->r), 0);
	assert_int_equal(coil_http_response_read(k->r, buf, 5), 5);
	return NULL;
}

static void test_http_client_curl_free_after_run_end(void **state)
{
	struct kept_curl k = { 0 };
	struct pyserver ps;
	uint64_t start;
	int fds;

	(void)state;
	if (!coil_http_have_curl())
		TEST_SKIP("coil was built without libcurl");
	if (!have_program("python3") || !py_start(&ps, NULL, NULL))
		TEST_SKIP("python3 is not available");
	k.port = ps.port;
	test_skip_if_thread_bound();
	fds = test_count_fds();
	start = coil_now();
	assert_int_equal(coil_run(keep_curl_response, &k, NULL), 0);
	assert_true(test_elapsed_ns(start) < MS(5000));
	assert_true(test_count_fds() > fds); /* libcurl's connections */
	coil_http_response_free(k.r);
	assert_int_equal(coil_http_session_destroy(k.s), 0);
	assert_int_equal(test_count_fds(), fds);
	py_stop(&ps);
}

static void test_http_client_python_http_server(void **state)
{
	struct pyserver ps;
	struct py_arg pa = { .scheme = "http" };

	(void)state;
	if (!have_program("python3") || !py_start(&ps, NULL, NULL))
		TEST_SKIP("python3 is not available");
	pa.port = ps.port;
	test_run(py_body, &pa);
	if (coil_http_have_curl()) {
		pa.curl = true;
		test_run(py_body, &pa);
	}
	py_stop(&ps);
}

static void test_http_client_https_through_curl(void **state)
{
	char dir[] = "/tmp/coil-tls-XXXXXX", cmd[1024], cert[64], key[64];
	struct py_arg pa = { .scheme = "https", .want_err = -EKEYREJECTED };
	struct pyserver ps;

	(void)state;
	if (!coil_http_have_curl())
		TEST_SKIP("coil was built without libcurl");
	if (!have_program("python3") || !have_program("openssl"))
		TEST_SKIP("python3 or openssl is not available");
	assert_non_null(mkdtemp(dir));
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 "
		 "-nodes -keyout %s -out %s -days 1 -subj /CN=127.0.0.1 "
		 "-addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1",
		 key, cert);
	if (system(cmd) != 0 || !py_start(&ps, cert, key)) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		(void)!system(cmd);
		TEST_SKIP("could not make a certificate or start the server");
	}
	pa.port = ps.port;
	pa.ca_file = cert;
	test_run(py_body, &pa);
	py_stop(&ps);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_client_get_content_length),
		cmocka_unit_test(test_http_client_keep_alive_reuses_connection),
		cmocka_unit_test(test_http_client_connection_close_is_not_reused),
		cmocka_unit_test(test_http_client_chunked_response),
		cmocka_unit_test(test_http_client_redirects_are_followed),
		cmocka_unit_test(test_http_client_redirects_are_bounded),
		cmocka_unit_test(test_http_client_redirects_opt_out),
		cmocka_unit_test(test_http_client_see_other_turns_post_into_get),
		cmocka_unit_test(
			test_http_client_see_other_through_curl_sends_no_body),
		cmocka_unit_test(
			test_http_client_redirect_to_file_scheme_is_refused),
		cmocka_unit_test(
			test_http_client_redirect_to_other_origin_drops_credentials),
		cmocka_unit_test(
			test_http_client_server_closing_mid_body_is_econnreset),
		cmocka_unit_test(test_http_client_deadline_on_silent_server),
		cmocka_unit_test(test_http_client_put_sends_headers_and_body),
		cmocka_unit_test(test_http_client_post_streamed_body_chunked),
		cmocka_unit_test(test_http_client_too_large_body_is_efbig),
		cmocka_unit_test(test_http_client_max_body_does_not_limit_a_stream),
		cmocka_unit_test(test_http_client_streamed_response_in_pieces),
		cmocka_unit_test(test_http_client_trailers_leave_headers_in_place),
		cmocka_unit_test(test_http_client_head_has_no_body),
		cmocka_unit_test(test_http_client_protocol_violation_is_eproto),
		cmocka_unit_test(test_http_client_errors_are_negative_errno),
		cmocka_unit_test(
			test_http_client_target_colon_ok_controls_refused),
		cmocka_unit_test(
			test_http_client_stale_retry_only_for_idempotent_methods),
		cmocka_unit_test(test_http_client_bad_headers_are_einval),
		cmocka_unit_test(
			test_http_client_does_not_reuse_a_connection_that_spoke_idle),
		cmocka_unit_test(test_http_client_response_url_has_no_userinfo),
		cmocka_unit_test(test_http_client_thousand_concurrent_gets),
		cmocka_unit_test(test_http_client_per_host_limit_holds),
		cmocka_unit_test(test_http_client_idle_timeout_closes_pooled),
		cmocka_unit_test(test_http_client_negative_idle_timeout_never_reuses),
		cmocka_unit_test(
			test_http_client_idle_connection_closed_without_pool_use),
		cmocka_unit_test(
			test_http_client_idle_timer_does_not_delay_run_end),
		cmocka_unit_test(
			test_http_client_idle_timer_does_not_hide_deadlock),
		cmocka_unit_test(test_http_client_curl_get_and_keep_alive),
		cmocka_unit_test(test_http_client_curl_chunked_and_redirects),
		cmocka_unit_test(
			test_http_client_curl_close_mid_body_and_deadline),
		cmocka_unit_test(test_http_client_curl_bodies),
		cmocka_unit_test(test_http_client_curl_thousand_concurrent_gets),
		cmocka_unit_test(test_http_client_curl_free_after_run_end),
		cmocka_unit_test(test_http_client_python_http_server),
		cmocka_unit_test(test_http_client_https_through_curl),
	};

	signal(SIGPIPE, SIG_DFL);
	test_require_io_uring();
	return cmocka_run_group_tests(tests, test_fd_setup, test_fd_teardown);
}
