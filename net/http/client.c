/* SPDX-License-Identifier: MIT */
/*
 * net/http/client.c - the HTTP client session: keep-alive pools per host,
 * the native HTTP/1.1 path for http:// URLs, redirects, and the response
 * object. URLs that the native path does not speak go to curl.c.
 *
 * The pool. Each host:port has a LIFO list of idle connections (the most
 * recently used is the warmest and the least likely to have been closed by
 * the server) and a count of open ones. A request takes an idle connection,
 * or opens one while both limits allow, or waits in FIFO order: on the
 * host's queue when the per-host limit is what stops it, on the session's
 * when the total is (then it may close another host's idle connection to
 * make room). Idle connections older than the idle timeout are closed by
 * the session's idle timer (one ring timeout, armed while any connection is
 * idle, for when the oldest expires) or, sooner, when the pool is touched.
 *
 * A reused connection may have been closed by the server while it sat idle;
 * an idempotent request (GET, HEAD, OPTIONS, TRACE, PUT, DELETE) that fails
 * on one before any response byte arrives is sent again on another
 * connection (when its body can be sent again). Others fail: the server
 * may have acted on them before it closed.
 *
 * The native request reads into the connection's own buffer and hands it
 * to the parser in place (net/http/parser.h): head slices are copied once
 * into the response, body slices are appended to the body (whole
 * responses) or handed out by coil_http_response_read() (streamed ones).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "coil/io.h"
#include "coil/net.h"
#include "coil/time.h"

#define DEFAULT_MAX_TOTAL 100
#define DEFAULT_IDLE_NS (15 * 1000000000ll)
#define DEFAULT_CONNECT_NS (30 * 1000000000ll)
#define DEFAULT_MAX_BODY (64ull << 20)
#define DEFAULT_MAX_REDIRECTS 10
#define BUF_INITIAL 16384
/* A head always fits: max_head + a line + CRLF (parser.h). */
#define BUF_MAX (65536 + 8192 + 2)
/* Bodies up to this size are sent in the same send as the head. */
#define INLINE_BODY 16384
/* Stale reused connections tried before opening a new one. */
#define MAX_STALE_RETRIES 4

struct coil__conn {
	struct coil__conn *next;   /* in the host's idle list */
	struct coil__host *host;
	int fd;
	char *buf;                 /* received bytes: buf[start..len) unread */
	size_t cap, start, len;
	uint64_t idle_since;       /* when it went back to the pool */
	struct coil__http_field fields[COIL__HTTPC_MAX_FIELDS];
};

struct coil__host {
	struct coil__host *next;
	char *name;                /* the URL's host, with @port its key */
	uint16_t port;
	struct coil__conn *idle;   /* LIFO */
	unsigned open;             /* connections open, idle or busy */
	unsigned users;            /* tasks inside pool_acquire() for it */
	struct coil__wq waiters;   /* tasks stopped by max_per_host */
};

/* ------------------------------------------------------------- session */

static void idle_timer_done(struct coil_rt *rt, struct coil__op *op, int res,
			    unsigned flags);

int coil_http_session_create(const struct coil_http_session_opts *opts,
			     struct coil_http_session **out)
{
	struct coil_http_session *s;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!coil__tls_rt)
		return -EPERM;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->rt = coil__tls_rt;
	s->rt_serial = coil__tls_rt->serial;
	if (opts)
		s->opts = *opts;
	if (!s->opts.max_total)
		s->opts.max_total = DEFAULT_MAX_TOTAL;
	if (!s->opts.idle_timeout_ns)
		s->opts.idle_timeout_ns = DEFAULT_IDLE_NS;
	if (!s->opts.connect_timeout_ns)
		s->opts.connect_timeout_ns = DEFAULT_CONNECT_NS;
	s->user_agent = strdup(s->opts.user_agent ? s->opts.user_agent :
			       "coil/0.1");
	s->ca_file = s->opts.ca_file ? strdup(s->opts.ca_file) : NULL;
	if (!s->user_agent || (s->opts.ca_file && !s->ca_file)) {
		free(s->user_agent);
		free(s->ca_file);
		free(s);
		return -ENOMEM;
	}
	s->opts.user_agent = s->user_agent;
	s->opts.ca_file = s->ca_file;
	s->idle_op.cb = idle_timer_done;
	s->idle_op.what = "http idle timer";
	*out = s;
	return 0;
}

static void conn_close(struct coil__conn *c)
{
	close(c->fd);
	free(c->buf);
	free(c);
}

int coil_http_session_destroy(struct coil_http_session *s)
{
	struct coil__host *h, *hn;
	struct coil__conn *c;

	if (!s)
		return 0;
	if (s->busy)
		return -EBUSY;
	if (s->idle_armed && coil__rt_is_current(s->rt, s->rt_serial)) {
		/*
		 * The timer's CQE points into @s: cancel it and wait for that
		 * CQE (promptly: a cancel completes at once), whatever the
		 * caller's cancellation or deadline say. Outside a task there
		 * is nothing to wait with: refuse rather than free under the
		 * kernel's feet. With the runtime gone (coil_run() returned)
		 * the ring and its timeout are gone too: nothing to wait for.
		 */
		s->idle_drainer = coil__running();
		if (!s->idle_drainer)
			return -EBUSY;
		/* A task now waits for it: no longer mere housekeeping. */
		s->rt->background_ops--;
		coil__op_cancel(s->rt, &s->idle_op);
		while (s->idle_armed)
			coil__suspend(s->idle_drainer, "http idle timer drain",
				      NULL, NULL);
		s->idle_drainer = NULL;
		/* Another task may have used @s meanwhile (a misuse). */
		if (s->busy)
			return -EBUSY;
	}
	for (h = s->hosts; h; h = hn) {
		hn = h->next;
		while ((c = h->idle)) {
			h->idle = c->next;
			conn_close(c);
		}
		free(h->name);
		free(h);
	}
	coil__curl_session_fini(s);
	free(s->user_agent);
	free(s->ca_file);
	free(s);
	return 0;
}

/* ---------------------------------------------------------------- pool */

/*
 * The pool of @u's host and port. The list holds only hosts in use (see
 * sweep()), so a session that meets hosts without end (a crawler) neither
 * grows without bound nor walks every host it ever saw per request.
 */
static struct coil__host *host_get(struct coil_http_session *s,
				   const struct coil__url *u)
{
	struct coil__host *h;

	for (h = s->hosts; h; h = h->next)
		if (h->port == u->port && !strcmp(h->name, u->host))
			return h;
	h = calloc(1, sizeof(*h));
	if (!h || !(h->name = strdup(u->host))) {
		free(h);
		return NULL;
	}
	h->port = u->port;
	h->next = s->hosts;
	s->hosts = h;
	return h;
}

/* A connection slot of @h was given up: let one waiter try again. */
static void slot_freed(struct coil_http_session *s, struct coil__host *h)
{
	h->open--;
	s->open--;
	if (!coil__wq_wake_one(&h->waiters, 0))
		coil__wq_wake_one(&s->waiters, 0);
}

static void conn_drop(struct coil_http_session *s, struct coil__conn *c)
{
	struct coil__host *h = c->host;

	conn_close(c);
	slot_freed(s, h);
}

static bool expired(const struct coil_http_session *s,
		    const struct coil__conn *c, uint64_t now)
{
	return now - c->idle_since >= (uint64_t)s->opts.idle_timeout_ns;
}

/*
 * Whether an idle connection has heard from the server since its last
 * response: bytes (a "408 Request Timeout" some servers send before they
 * close an idle connection) or the end. Either way it is not reused: the
 * next request would read those bytes as its answer, and a response that
 * arrived is not retried. One non-blocking peek per reuse, as libcurl's
 * connection check does.
 */
static bool heard_while_idle(const struct coil__conn *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);

	return n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
}

/*
 * Whether @h can be forgotten: no connection open (idle or busy: each
 * points at it), no task inside pool_acquire() for it (which holds its
 * host across waits and connects; its waiters are among those tasks).
 */
static bool host_unused(const struct coil__host *h)
{
	return !h->open && !h->users;
}

/* Forget @h if it is unused (a scan: the list holds hosts in use). */
static void host_prune(struct coil_http_session *s, struct coil__host *h)
{
	struct coil__host **hp;

	if (!host_unused(h))
		return;
	for (hp = &s->hosts; *hp; hp = &(*hp)->next) {
		if (*hp == h) {
			*hp = h->next;
			free(h->name);
			free(h);
			return;
		}
	}
}

/*
 * Close every idle connection past the idle timeout (oldest are last), and
 * forget the hosts left unused.
 */
static void sweep(struct coil_http_session *s, uint64_t now)
{
	struct coil__conn **pp, *c;
	struct coil__host **hp, *h;

	s->last_sweep = now;
	for (hp = &s->hosts; (h = *hp);) {
		for (pp = &h->idle; *pp && !expired(s, *pp, now);)
			pp = &(*pp)->next;
		while ((c = *pp)) {
			*pp = c->next;
			conn_drop(s, c);
		}
		if (host_unused(h)) {
			*hp = h->next;
			free(h->name);
			free(h);
			continue;
		}
		hp = &h->next;
	}
}

/* When the oldest idle connection expires; COIL__NEVER if none is idle. */
static uint64_t idle_next_expiry(const struct coil_http_session *s)
{
	const struct coil__host *h;
	const struct coil__conn *c;
	uint64_t oldest = COIL__NEVER;

	for (h = s->hosts; h; h = h->next) {
		/* LIFO: the oldest is last. */
		for (c = h->idle; c && c->next; c = c->next)
			;
		if (c && c->idle_since < oldest)
			oldest = c->idle_since;
	}
	return oldest == COIL__NEVER ?
		       COIL__NEVER :
		       oldest + (uint64_t)s->opts.idle_timeout_ns;
}

/*
 * Arm the idle timer for the oldest idle connection, unless it is armed:
 * then it fires at or before that (connections only join the idle lists
 * younger than the ones there), finds what expired and re-arms. Without an
 * SQE (a dead ring) the connections are still swept when the pool is used.
 */
static void idle_timer_arm(struct coil_http_session *s)
{
	struct io_uring_sqe *sqe;
	uint64_t due;

	if (s->idle_armed || (due = idle_next_expiry(s)) == COIL__NEVER)
		return;
	sqe = coil__get_sqe(s->rt, 1);
	if (!sqe)
		return;
	s->idle_ts.tv_sec = (long long)(due / 1000000000ull);
	s->idle_ts.tv_nsec = (long long)(due % 1000000000ull);
	io_uring_prep_timeout(sqe, &s->idle_ts, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)&s->idle_op);
	s->rt->be.inflight++;
	/*
	 * Housekeeping: it must not keep coil_run() from returning, nor hide
	 * a deadlock. (The tasks its sweep may wake wait for a connection
	 * slot, and while any connection is idle the limits that make them
	 * wait do not hold: no task depends on it to make progress.)
	 */
	s->rt->background_ops++;
	s->idle_armed = true;
}

/* The idle timer's CQE: fired (-ETIME) or cancelled (-ECANCELED). */
static void idle_timer_done(struct coil_rt *rt, struct coil__op *op, int res,
			    unsigned flags)
{
	struct coil_http_session *s =
		COIL__CONTAINER_OF(op, struct coil_http_session, idle_op);

	(void)flags;
	s->idle_armed = false;
	if (s->idle_drainer) {
		coil__wake(s->idle_drainer, 0);
		return;
	}
	rt->background_ops--;
	sweep(s, coil__now());
	/*
	 * -ETIME: it fired; -ECANCELED: cancelled. Anything else means the
	 * kernel refused the timeout: re-arming would only spin. Sweeps on
	 * pool use still close what expires.
	 */
	if (res == -ETIME || res == -ECANCELED)
		idle_timer_arm(s);
}

/* Close one idle connection of another host than @h; false if none. */
static bool evict_idle(struct coil_http_session *s, struct coil__host *h)
{
	struct coil__host *o;
	struct coil__conn *c;

	for (o = s->hosts; o; o = o->next) {
		if (o == h || !(c = o->idle))
			continue;
		o->idle = c->next;
		conn_drop(s, c);
		return true;
	}
	return false;
}

static int pool_wait(struct coil__wq *wq)
{
	struct coil__wq_node n = { 0 };
	int err;

	n.task = coil__running();
	err = coil__check_cancel(n.task);
	if (err)
		return err;
	err = coil__wq_wait(wq, &n, "http pool", -1);
	return err > 0 ? 0 : err;
}

static int conn_open(struct coil_http_session *s, struct coil__host *h,
		     const struct coil__url *u, struct coil__conn **out)
{
	struct coil__conn *c;
	int fd;

	h->open++;
	s->open++;
	fd = coil_tcp_connect(u->host, u->port, s->opts.connect_timeout_ns);
	c = fd >= 0 ? calloc(1, sizeof(*c)) : NULL;
	if (c)
		c->buf = malloc(BUF_INITIAL);
	if (fd < 0 || !c || !c->buf) {
		if (fd >= 0)
			close(fd);
		if (c)
			free(c);
		slot_freed(s, h);
		return fd < 0 ? fd : -ENOMEM;
	}
	c->fd = fd;
	c->cap = BUF_INITIAL;
	c->host = h;
	*out = c;
	return 0;
}

/*
 * A connection to @h: an idle one (*@reused = true) unless @fresh, else a
 * new one when the limits allow, else wait for one. Returns 0 or -errno.
 */
static int pool_acquire_at(struct coil_http_session *s, struct coil__host *h,
			   const struct coil__url *u, bool fresh,
			   struct coil__conn **out, bool *reused)
{
	uint64_t now;
	int err;

	for (;;) {
		now = coil__now();
		if (now - s->last_sweep > (uint64_t)s->opts.idle_timeout_ns / 4)
			sweep(s, now);
		if (h->idle && !fresh) {
			*out = h->idle;
			h->idle = h->idle->next;
			if (expired(s, *out, now) || heard_while_idle(*out)) {
				conn_drop(s, *out);
				continue;
			}
			*reused = true;
			return 0;
		}
		if (s->opts.max_per_host && h->open >= s->opts.max_per_host) {
			if (fresh && h->idle) {
				struct coil__conn *c = h->idle;

				h->idle = c->next;
				conn_drop(s, c);
				continue;
			}
			err = pool_wait(&h->waiters);
		} else if (s->open >= s->opts.max_total) {
			if (evict_idle(s, h) || (fresh && h->idle &&
						 (fresh = false, true)))
				continue;
			err = pool_wait(&s->waiters);
		} else {
			*reused = false;
			return conn_open(s, h, u, out);
		}
		if (err)
			return err;
	}
}

/* pool_acquire_at() for @u's host, which stays listed meanwhile. */
static int pool_acquire(struct coil_http_session *s, const struct coil__url *u,
			bool fresh, struct coil__conn **out, bool *reused)
{
	struct coil__host *h = host_get(s, u);
	int err;

	if (!h)
		return -ENOMEM;
	h->users++;
	err = pool_acquire_at(s, h, u, fresh, out, reused);
	h->users--;
	if (err)
		host_prune(s, h); /* a connect that failed, say */
	return err;
}

/* Give @c back: to the idle list when @reusable, else close it. */
static void pool_release(struct coil_http_session *s, struct coil__conn *c,
			 bool reusable)
{
	struct coil__host *h = c->host;

	if (!reusable || s->opts.idle_timeout_ns < 0 || c->start != c->len) {
		conn_drop(s, c);
		/* Also where nothing is pooled and so no sweep runs. */
		host_prune(s, h);
		return;
	}
	c->start = c->len = 0;
	c->idle_since = coil__now();
	c->next = h->idle;
	h->idle = c;
	idle_timer_arm(s);
	if (!coil__wq_wake_one(&h->waiters, 0))
		coil__wq_wake_one(&s->waiters, 0);
}

/* ---------------------------------------------------------- responses */

int coil__httpc_body_append(struct coil_http_response *r, const char *data,
			    size_t len)
{
	size_t cap;
	char *p;

	if (r->body_len + len > r->max_body)
		return -EFBIG;
	if (r->body_len + len + 1 > r->body_cap) {
		cap = r->body_cap ? r->body_cap : 4096;
		while (cap < r->body_len + len + 1)
			cap *= 2;
		p = realloc(r->body, cap);
		if (!p)
			return -ENOMEM;
		r->body = p;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	r->body[r->body_len] = '\0';
	return 0;
}

void coil__httpc_headers_clear(struct coil_http_response *r)
{
	free(r->hdr_block);
	free(r->hdrs);
	r->hdr_block = NULL;
	r->hdrs = NULL;
	r->nhdrs = 0;
}

static size_t block_size(const struct coil_http_response *r)
{
	size_t i, n = 0;

	for (i = 0; i < 2 * r->nhdrs; i++)
		n += strlen(r->hdrs[i]) + 1;
	return n;
}

int coil__httpc_header_add(struct coil_http_response *r, const char *name,
			   size_t nlen, const char *value, size_t vlen)
{
	size_t old = block_size(r), i;
	char *blk = malloc(old + nlen + vlen + 2), *p;
	const char **v = malloc((r->nhdrs + 1) * 2 * sizeof(*v));

	if (!blk || !v) {
		free(blk);
		free(v);
		return -ENOMEM;
	}
	if (old)
		memcpy(blk, r->hdr_block, old);
	for (i = 0; i < 2 * r->nhdrs; i++)
		v[i] = blk + (r->hdrs[i] - r->hdr_block);
	p = blk + old;
	memcpy(p, name, nlen);
	p[nlen] = '\0';
	v[2 * r->nhdrs] = p;
	p += nlen + 1;
	memcpy(p, value, vlen);
	p[vlen] = '\0';
	v[2 * r->nhdrs + 1] = p;
	free(r->hdr_block);
	free(r->hdrs);
	r->hdr_block = blk;
	r->hdrs = v;
	r->nhdrs++;
	return 0;
}

/* Copy every field of @head into @r in one allocation. */
static int headers_from_head(struct coil_http_response *r,
			     const struct coil__http_head *head)
{
	size_t i, total = 0;
	char *p;

	coil__httpc_headers_clear(r);
	for (i = 0; i < head->nfields; i++)
		total += head->fields[i].name.len +
			 head->fields[i].value.len + 2;
	r->hdr_block = malloc(total ? total : 1);
	r->hdrs = malloc((head->nfields ? head->nfields : 1) * 2 *
			 sizeof(*r->hdrs));
	if (!r->hdr_block || !r->hdrs)
		return -ENOMEM;
	p = r->hdr_block;
	for (i = 0; i < head->nfields; i++) {
		const struct coil__http_field *f = &head->fields[i];

		r->hdrs[2 * i] = memcpy(p, f->name.ptr, f->name.len);
		p += f->name.len;
		*p++ = '\0';
		r->hdrs[2 * i + 1] = p;
		if (f->value.len)
			memcpy(p, f->value.ptr, f->value.len);
		p += f->value.len;
		*p++ = '\0';
	}
	r->nhdrs = head->nfields;
	return 0;
}

int coil_http_response_status(const struct coil_http_response *r)
{
	return r ? r->status : -EINVAL;
}

const char *coil_http_response_header(const struct coil_http_response *r,
				      const char *name)
{
	size_t i;

	if (!r || !name)
		return NULL;
	for (i = 0; i < r->nhdrs; i++)
		if (!strcasecmp(r->hdrs[2 * i], name))
			return r->hdrs[2 * i + 1];
	return NULL;
}

size_t coil_http_response_header_count(const struct coil_http_response *r)
{
	return r ? r->nhdrs : 0;
}

int coil_http_response_header_at(const struct coil_http_response *r,
				 size_t i, const char **name,
				 const char **value)
{
	if (!r || i >= r->nhdrs)
		return -ERANGE;
	if (name)
		*name = r->hdrs[2 * i];
	if (value)
		*value = r->hdrs[2 * i + 1];
	return 0;
}

const char *coil_http_response_body(const struct coil_http_response *r,
				    size_t *len)
{
	const char *b = r && !r->streaming ? (r->body ? r->body : "") : NULL;

	if (len)
		*len = b ? r->body_len : 0;
	return b;
}

const char *coil_http_response_url(const struct coil_http_response *r)
{
	return r ? r->url : NULL;
}

void coil_http_response_free(struct coil_http_response *r)
{
	if (!r)
		return;
	if (r->conn)
		pool_release(r->s, r->conn, false);
	if (r->xfer)
		coil__curl_xfer_free(r);
	r->s->busy--;
	coil__httpc_headers_clear(r);
	free(r->body);
	free(r->url);
	free(r);
}

/* ------------------------------------------------------ native: errors */

static int map_parse_error(int err)
{
	switch (err) {
	case COIL__HTTP_ESTART_TOO_LONG:
	case COIL__HTTP_EFIELD_TOO_LONG:
	case COIL__HTTP_EHEAD_TOO_LARGE:
	case COIL__HTTP_ETOO_MANY_FIELDS:
	case COIL__HTTP_ECHUNK_LINE_TOO_LONG:
		return -EMSGSIZE;
	case COIL__HTTP_EBODY_TOO_LARGE:
		return -EFBIG;
	case COIL__HTTP_ETRUNCATED:
		return -ECONNRESET;
	default:
		return coil__http_is_parse_error(err) ? -EPROTO : err;
	}
}

/* ------------------------------------------------------ native: send */

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_put(struct sbuf *b, const char *s, size_t n)
{
	size_t cap;
	char *p;

	if (b->err)
		return;
	if (b->len + n > b->cap) {
		cap = b->cap ? b->cap : 512;
		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->err = -ENOMEM;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void sb_str(struct sbuf *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

static void sb_header(struct sbuf *b, const char *name, const char *value)
{
	sb_str(b, name);
	sb_put(b, ": ", 2);
	sb_str(b, value);
	sb_put(b, "\r\n", 2);
}

/*
 * Whether @t may go on the wire as a URL or a request target: no space and
 * no control character (CR and LF would split the request line, or smuggle
 * headers in). Everything else, ':' included, is the server's to judge.
 */
static bool target_ok(const char *t)
{
	for (; *t; t++)
		if ((unsigned char)*t <= ' ' || *t == 0x7f)
			return false;
	return true;
}

/*
 * Whether @req's headers may go on the wire (RFC 9110 5.1, 5.5): each name
 * a token, each value visible characters, spaces and tabs. CR and LF would
 * end the field and start one the caller never meant.
 */
static bool headers_ok(const struct coil_http_request *req)
{
	const char *v;
	size_t i;

	if (req->nheaders && !req->headers)
		return false;
	for (i = 0; i < req->nheaders; i++) {
		if (!coil__http_is_token(req->headers[i].name) ||
		    !(v = req->headers[i].value))
			return false;
		/*
		 * The body's framing is the client's (body_len, body_size):
		 * a second Content-Length, or one beside chunked coding, is
		 * a message servers must reject or may read two ways (RFC
		 * 9112 6.1, 6.3), and a redirect to a GET would carry it.
		 */
		if (!strcasecmp(req->headers[i].name, "Content-Length") ||
		    !strcasecmp(req->headers[i].name, "Transfer-Encoding"))
			return false;
		for (; *v; v++)
			if (((unsigned char)*v < ' ' && *v != '\t') ||
			    *v == 0x7f)
				return false;
	}
	return true;
}

static bool user_has(const struct coil_http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return true;
	return false;
}

/*
 * Headers that carry credentials or name the origin: sent only to the
 * origin the request was made for, never to another one a redirect leads
 * to (curl and browsers do the same).
 */
static bool origin_bound(const char *name)
{
	return !strcasecmp(name, "Authorization") ||
	       !strcasecmp(name, "Cookie") ||
	       !strcasecmp(name, "Proxy-Authorization") ||
	       !strcasecmp(name, "Host");
}

bool coil__httpc_header_sent(const struct coil__hop *a, const char *name)
{
	return !a->cross_origin || !origin_bound(name);
}

/* Whether @name is among the headers this hop sends of @req. */
static bool user_sends(const struct coil_http_request *req,
		       const struct coil__hop *a, const char *name)
{
	return user_has(req, name) && coil__httpc_header_sent(a, name);
}

static int build_head(struct coil_http_session *s,
		      const struct coil_http_request *req,
		      const struct coil__url *u, const struct coil__hop *a,
		      struct sbuf *b)
{
	char num[32];
	size_t i;

	sb_str(b, a->method);
	sb_put(b, " ", 1);
	sb_str(b, u->target);
	sb_put(b, " HTTP/1.1\r\n", 11);
	if (!user_sends(req, a, "Host"))
		sb_header(b, "Host", u->hostport);
	if (!user_has(req, "User-Agent"))
		sb_header(b, "User-Agent", s->user_agent);
	if (!user_has(req, "Accept"))
		sb_header(b, "Accept", "*/*");
	for (i = 0; i < req->nheaders; i++) {
		const struct coil_http_header *hd = &req->headers[i];

		if (coil__httpc_header_sent(a, hd->name))
			sb_header(b, hd->name, hd->value);
	}
	if (a->has_body && !a->body && req->body_size < 0) {
		sb_header(b, "Transfer-Encoding", "chunked");
	} else if (a->has_body || !strcmp(a->method, "POST") ||
		   !strcmp(a->method, "PUT")) {
		snprintf(num, sizeof(num), "%llu", (unsigned long long)
			 (a->body ? a->body_len : a->has_body ?
			  (uint64_t)req->body_size : 0));
		sb_header(b, "Content-Length", num);
	}
	sb_put(b, "\r\n", 2);
	return b->err;
}

/* Send a body_fn body, chunked when its size is unknown. */
static int send_streamed(int fd, const struct coil_http_request *req)
{
	bool chunked = req->body_size < 0;
	uint64_t sent = 0;
	char buf[16384 + 32];
	ssize_t n, err;
	int hl;

	for (;;) {
		n = req->body_fn(req->body_arg, buf + 18, 16384);
		if (n < 0)
			return (int)n;
		if (n > 16384)
			return -EINVAL;
		sent += (uint64_t)n;
		if (!chunked) {
			if (!n)
				return sent == (uint64_t)req->body_size ? 0 :
								   -EINVAL;
			if (sent > (uint64_t)req->body_size)
				return -EINVAL;
			err = coil_send_all(fd, buf + 18, (size_t)n, NULL, -1);
		} else if (!n) {
			err = coil_send_all(fd, "0\r\n\r\n", 5, NULL, -1);
			return err < 0 ? (int)err : 0;
		} else {
			/* "<hex>\r\n" right before the data, "\r\n" after. */
			hl = snprintf(buf, 18, "%zx\r\n", (size_t)n);
			memmove(buf + 18 - hl, buf, (size_t)hl);
			memcpy(buf + 18 + n, "\r\n", 2);
			err = coil_send_all(fd, buf + 18 - hl,
					    (size_t)(hl + n + 2), NULL, -1);
		}
		if (err < 0)
			return (int)err;
	}
}

static int send_request(struct coil_http_session *s,
			const struct coil_http_request *req,
			const struct coil__url *u, const struct coil__hop *a,
			int fd)
{
	struct sbuf b = { 0 };
	ssize_t n;
	int err = build_head(s, req, u, a, &b);

	if (!err && a->body && a->body_len <= INLINE_BODY)
		sb_put(&b, a->body, a->body_len);
	err = err ? err : b.err;
	if (!err) {
		n = coil_send_all(fd, b.p, b.len, NULL, -1);
		err = n < 0 ? (int)n : 0;
	}
	if (!err && a->body && a->body_len > INLINE_BODY) {
		n = coil_send_all(fd, a->body, a->body_len, NULL, -1);
		err = n < 0 ? (int)n : 0;
	}
	if (!err && a->has_body && !a->body)
		err = send_streamed(fd, req);
	free(b.p);
	return err;
}

/* ------------------------------------------------------ native: receive */

/* Receive more into @c's buffer. Returns bytes (> 0), 0 at EOF, -errno. */
static ssize_t conn_fill(struct coil__conn *c)
{
	size_t cap;
	char *p;

	if (c->start) {
		memmove(c->buf, c->buf + c->start, c->len - c->start);
		c->len -= c->start;
		c->start = 0;
	}
	if (c->len == c->cap) {
		if (c->cap >= BUF_MAX)
			return -EMSGSIZE;
		cap = c->cap * 2 > BUF_MAX ? BUF_MAX : c->cap * 2;
		p = realloc(c->buf, cap);
		if (!p)
			return -ENOMEM;
		c->buf = p;
		c->cap = cap;
	}
	return coil_recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
}

/*
 * Read the final response head (1xx interim responses are skipped) into
 * @r. *@got_bytes tells whether any response byte arrived (a reused
 * connection that yields none was stale).
 */
static int read_head(struct coil__conn *c, struct coil_http_response *r,
		     const struct coil__hop *a, struct coil__http_head *head,
		     bool *got_bytes)
{
	/* max_body limits whole bodies only (http_client.h): a streamed
	 * one gets its limit set once the head says it is read whole. */
	struct coil__http_limits lim = { .max_body = a->whole ? r->max_body :
								0 };
	struct coil__http_parser *p = &r->parser;
	ssize_t n;
	int k;

	coil__http_parser_init(p, COIL__HTTP_RESPONSE, &lim, c->fields,
			       COIL__HTTPC_MAX_FIELDS);
	coil__http_parser_reset(p, a->head ? COIL__HTTP_TO_HEAD : 0);
	for (;;) {
		k = coil__http_parse_head(p, c->buf + c->start,
					  c->len - c->start, head);
		if (k < 0)
			return map_parse_error(k);
		if (k > 0 && head->status >= 100 && head->status < 200 &&
		    head->status != 101) {
			c->start += (size_t)k;
			coil__http_parser_reset(p, a->head ?
						COIL__HTTP_TO_HEAD : 0);
			continue;
		}
		if (k > 0) {
			c->start += (size_t)k;
			return head->upgrade ? -EPROTO : 0;
		}
		n = conn_fill(c);
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return (int)n;
		*got_bytes = true;
		c->len += (size_t)n;
	}
}

/*
 * Decode the next body bytes of @r from its connection: sets
 * r->pend_off/pend_len, or r->done. Returns 0 or -errno.
 */
static int body_step(struct coil_http_response *r)
{
	struct coil__conn *c = r->conn;
	struct coil__http_slice d;
	ssize_t k, n;

	for (;;) {
		if (coil__http_body_is_done(&r->parser)) {
			r->done = true;
			return 0;
		}
		k = coil__http_parse_body(&r->parser, c->buf + c->start,
					  c->len - c->start, &d);
		if (k < 0)
			return map_parse_error((int)k);
		c->start += (size_t)k;
		if (d.len) {
			r->pend_off = (size_t)(d.ptr - c->buf);
			r->pend_len = d.len;
			return 0;
		}
		if (k > 0 || coil__http_body_is_done(&r->parser))
			continue;
		n = conn_fill(c);
		if (n < 0)
			return (int)n;
		if (n == 0) {
			k = coil__http_body_eof(&r->parser);
			if (k)
				return map_parse_error((int)k);
			r->done = true;
			r->parser.state = COIL__HTTP_S_DONE;
			return 0;
		}
		c->len += (size_t)n;
	}
}

/* The body is complete: the connection goes back to the pool. */
static void body_finished(struct coil_http_response *r, bool keep_alive)
{
	pool_release(r->s, r->conn, keep_alive);
	r->conn = NULL;
}

static int read_whole(struct coil_http_response *r, bool keep_alive)
{
	int err;

	for (;;) {
		err = body_step(r);
		if (err)
			return err;
		if (r->done)
			break;
		err = coil__httpc_body_append(r, r->conn->buf + r->pend_off,
					      r->pend_len);
		r->pend_len = 0;
		if (err)
			return err;
	}
	body_finished(r, keep_alive);
	return 0;
}

/* Whether the connection may carry a next request after this response. */
static bool reusable(const struct coil__http_head *head)
{
	return head->keep_alive && head->framing != COIL__HTTP_BODY_UNTIL_CLOSE;
}

/*
 * One native exchange on one connection. Returns 0, or -errno with
 * *@stale set when a reused connection failed before any response byte
 * (the request may be sent again elsewhere).
 */
static int native_exchange(struct coil_http_session *s,
			   const struct coil_http_request *req,
			   const struct coil__url *u, const struct coil__hop *a,
			   struct coil_http_response *r, bool fresh,
			   bool *stale)
{
	struct coil__http_head head;
	bool reused = false, got = false;
	struct coil__conn *c;
	int err;

	err = pool_acquire(s, u, fresh, &c, &reused);
	if (err)
		return err;
	r->conn = c;
	err = send_request(s, req, u, a, c->fd);
	if (!err)
		err = read_head(c, r, a, &head, &got);
	if (err) {
		*stale = reused && !got && err != -ETIMEDOUT &&
			 err != -ECANCELED;
		goto out_drop;
	}
	r->status = head.status;
	err = headers_from_head(r, &head);
	if (err)
		goto out_drop;
	/* A redirect about to be followed is read whole: its connection
	 * is then reused for the next hop. */
	r->streaming = !a->whole && !coil__httpc_will_follow(r, a);
	if (r->streaming) {
		r->done = false;
		r->err = 0;
		r->pend_len = 0;
		r->keep_alive = reusable(&head);
		return 0;
	}
	r->parser.lim.max_body = r->max_body; /* a redirect, read whole */
	err = read_whole(r, reusable(&head));
	if (err)
		goto out_drop;
	return 0;
out_drop:
	pool_release(s, r->conn, false);
	r->conn = NULL;
	return err;
}

/*
 * Whether a request may be sent again when a reused connection closed
 * without answering: the server may have acted on it before closing, so
 * only methods whose repetition does no more harm (RFC 9110 9.2.2).
 */
static bool idempotent(const char *method)
{
	static const char *const m[] = { "GET", "HEAD", "OPTIONS", "TRACE",
					 "PUT", "DELETE" };
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(method, m[i]))
			return true;
	return false;
}

static int native_request(struct coil_http_session *s,
			  const struct coil_http_request *req,
			  const char *url, const struct coil__hop *a,
			  struct coil_http_response *r)
{
	struct coil__url u;
	bool stale = false, fresh = false;
	int err, tries = 0;

	err = coil__url_parse(url, &u);
	if (err)
		return err;
	/* A redirect's Location may hold what a request line cannot. */
	if (!target_ok(u.target)) {
		coil__url_fini(&u);
		return -EINVAL;
	}
	if (strcmp(u.scheme, "http") || u.userinfo || !u.port) {
		coil__url_fini(&u);
		return coil__curl_request(s, req, url, a, r);
	}
	for (;;) {
		stale = false;
		err = native_exchange(s, req, &u, a, r, fresh, &stale);
		if (!err || !stale || (a->has_body && !a->body) ||
		    !idempotent(a->method))
			break;
		if (++tries >= MAX_STALE_RETRIES)
			fresh = true;
		coil__httpc_headers_clear(r);
		free(r->body);
		r->body = NULL;
		r->body_len = r->body_cap = 0;
	}
	coil__url_fini(&u);
	return err;
}

/* ------------------------------------------------------ streamed reads */

static ssize_t native_read(struct coil_http_response *r, void *buf,
			   size_t len)
{
	size_t n;
	int err;

	if (!r->pend_len && !r->done) {
		err = body_step(r);
		if (err)
			return err;
	}
	if (r->done) {
		if (r->conn)
			body_finished(r, r->keep_alive);
		return 0;
	}
	n = len < r->pend_len ? len : r->pend_len;
	memcpy(buf, r->conn->buf + r->pend_off, n);
	r->pend_off += n;
	r->pend_len -= n;
	return (ssize_t)n;
}

ssize_t coil_http_response_read(struct coil_http_response *r, void *buf,
				size_t len)
{
	struct coil_deadline d;
	ssize_t n;
	size_t k;

	if (!r || (!buf && len))
		return -EINVAL;
	if (!r->streaming) {
		k = r->body_len - r->read_pos;
		k = k < len ? k : len;
		if (k)
			memcpy(buf, r->body + r->read_pos, k);
		r->read_pos += k;
		return (ssize_t)k;
	}
	if (r->err)
		return r->err;
	if (!len)
		return 0;
	if (!coil__running())
		return -EPERM;
	if (r->deadline != COIL__NEVER)
		coil_deadline_enter_at(&d, r->deadline);
	n = r->xfer ? coil__curl_read(r, buf, len) :
		      r->conn || r->done ? native_read(r, buf, len) : 0;
	if (r->deadline != COIL__NEVER)
		coil_deadline_exit(&d);
	if (n < 0) {
		r->err = (int)n;
		if (r->conn) {
			pool_release(r->s, r->conn, false);
			r->conn = NULL;
		}
	}
	return n;
}

/* ----------------------------------------------------------- requests */

static bool is_redirect(int status)
{
	return status == 301 || status == 302 || status == 303 ||
	       status == 307 || status == 308;
}

bool coil__httpc_will_follow(const struct coil_http_response *r,
			     const struct coil__hop *a)
{
	return a->follow && is_redirect(r->status) &&
	       coil_http_response_header(r, "Location");
}

/* Whether absolute URLs @a and @b share an origin: scheme, host, port. */
static bool same_origin(const char *a, const char *b)
{
	struct coil__url ua, ub;
	bool same = false;

	if (coil__url_parse(a, &ua))
		return false;
	if (!coil__url_parse(b, &ub)) {
		same = !strcmp(ua.scheme, ub.scheme) &&
		       !strcasecmp(ua.host, ub.host) && ua.port == ub.port;
		coil__url_fini(&ub);
	}
	coil__url_fini(&ua);
	return same;
}

static const char *default_method(const struct coil_http_request *req)
{
	if (req->method)
		return req->method;
	return req->body || req->body_fn ? "POST" : "GET";
}

static bool via_curl(const struct coil_http_session *s,
		     const struct coil_http_request *req)
{
	return req->use_curl || s->opts.force_curl;
}

/*
 * One hop: native for http://, else (or when asked) libcurl. Either way
 * the redirects are followed here, hop by hop (libcurl is told not to):
 * the same schemes allowed, the same headers dropped, the same methods.
 */
static int one_hop(struct coil_http_session *s,
		   const struct coil_http_request *req, const char *url,
		   struct coil__hop *a, struct coil_http_response *r)
{
	free(r->url);
	r->url = coil__url_without_userinfo(url);
	if (!r->url)
		return -ENOMEM;
	if (via_curl(s, req))
		return coil__curl_request(s, req, url, a, r);
	return native_request(s, req, url, a, r);
}

/*
 * Whether a redirect may lead to @url: http:// and https:// only. A server
 * must not be able to send the client to file://, ftp:// or any other
 * scheme libcurl speaks (file://localhost/etc/passwd would come back as a
 * body).
 */
static bool redirect_allowed(const char *url)
{
	return !strncasecmp(url, "http://", 7) ||
	       !strncasecmp(url, "https://", 8);
}

/*
 * Where a redirect of @r leads: 0 with *@next the new URL (malloc'ed) and
 * @a updated, or with *@next NULL when @r is the answer to hand back;
 * -EPROTONOSUPPORT when it leads to a scheme other than http or https.
 */
static int next_hop(const struct coil_http_request *req, const char *url,
		    struct coil_http_response *r, struct coil__hop *a,
		    char **next)
{
	const char *loc = coil_http_response_header(r, "Location");
	bool to_get = r->status == 303 || ((r->status == 301 ||
					    r->status == 302) &&
					   !strcmp(a->method, "POST"));

	*next = NULL;
	if (req->no_redirects || r->xfer || !is_redirect(r->status) || !loc)
		return 0;
	if (!to_get && a->has_body && !a->body)
		return 0; /* a streamed body cannot be sent again */
	/* @url, not r->url: a relative Location keeps its user:pass@. */
	*next = coil__url_resolve(url, loc, strlen(loc));
	if (!*next)
		return 0;
	if (!redirect_allowed(*next)) {
		free(*next);
		*next = NULL;
		return -EPROTONOSUPPORT;
	}
	if (to_get) {
		if (strcmp(a->method, "HEAD"))
			a->method = "GET";
		a->has_body = false;
		a->body = NULL;
		a->body_len = 0;
	}
	return 0;
}

static void response_reset(struct coil_http_response *r)
{
	if (r->conn)
		pool_release(r->s, r->conn, false);
	r->conn = NULL;
	coil__httpc_headers_clear(r);
	free(r->body);
	r->body = NULL;
	r->body_len = r->body_cap = 0;
	r->streaming = r->done = false;
}

static int request_loop(struct coil_http_session *s,
			const struct coil_http_request *req,
			struct coil_http_response *r)
{
	unsigned max = req->max_redirects ? req->max_redirects :
					    DEFAULT_MAX_REDIRECTS;
	struct coil__hop a = {
		.method = default_method(req),
		.body = req->body_fn ? NULL : req->body,
		.body_len = req->body_fn ? 0 : req->body_len,
		.has_body = req->body_fn || req->body,
	};
	char *url = strdup(req->url), *next;
	unsigned hops = 0;
	int err;

	if (!url)
		return -ENOMEM;
	for (;;) {
		a.head = !strcmp(a.method, "HEAD");
		a.whole = !req->stream;
		a.follow = !req->no_redirects;
		err = one_hop(s, req, url, &a, r);
		if (err)
			break;
		err = next_hop(req, url, r, &a, &next);
		if (err || !next)
			break;
		free(url);
		url = next;
		/* Once off the origin, even a way back goes without them. */
		if (!same_origin(req->url, url))
			a.cross_origin = true;
		if (++hops > max) {
			err = -ELOOP;
			break;
		}
		response_reset(r);
	}
	free(url);
	return err;
}

int coil_http_request(struct coil_http_session *s,
		      const struct coil_http_request *req,
		      struct coil_http_response **out)
{
	struct coil_http_response *r;
	int64_t t;
	struct coil_deadline d;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	/* Refused here, before a connection is taken for them. */
	if (!s || !req || !req->url || !target_ok(req->url) ||
	    (req->method && !coil__http_is_token(req->method)) ||
	    !headers_ok(req))
		return -EINVAL;
	if (!coil__running() || !coil__rt_is_current(s->rt, s->rt_serial))
		return -EPERM;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->s = s;
	r->max_body = req->max_body ? req->max_body : DEFAULT_MAX_BODY;
	t = req->timeout_ns ? req->timeout_ns : s->opts.timeout_ns;
	r->deadline = t > 0 ? coil__now() + (uint64_t)t : COIL__NEVER;
	s->busy++;
	if (r->deadline != COIL__NEVER)
		coil_deadline_enter_at(&d, r->deadline);
	err = request_loop(s, req, r);
	if (r->deadline != COIL__NEVER)
		coil_deadline_exit(&d);
	if (err) {
		coil_http_response_free(r);
		return err;
	}
	*out = r;
	return 0;
}

int coil_http_get(struct coil_http_session *s, const char *url,
		  struct coil_http_response **out)
{
	struct coil_http_request req = { .url = url };

	return coil_http_request(s, &req, out);
}
