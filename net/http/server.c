/* SPDX-License-Identifier: MIT */
/*
 * net/http/server.c - the HTTP/1.1 server: the accept loop, the sweeper
 * that enforces deadlines, the per-connection task (read a head, call the
 * handler, finish the response, drain the body, again) and the request
 * side of the handler API. The response side is in server_res.c.
 *
 * Deadlines without a system call per request: a connection stores in
 * c->deadline when its current wait must end, computed from a clock the
 * sweeper refreshes (srv->now); the sweeper wakes every srv->tick,
 * cancels the tasks whose deadline has passed (their pending receive or
 * send returns -ECANCELED and the connection closes) and formats the Date
 * field once a second. A linked timeout per receive would cost an SQE and
 * a CQE per request instead.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "coil/io.h"
#include "coil/net.h"
#include "coil/task.h"
#include "coil/time.h"
#include "server_conn.h"

#define DEFAULT_MAX_HEAD (16u * 1024)
#define DEFAULT_MAX_BODY (1024u * 1024)
#define MAX_LINE (8u * 1024)
#define FIRST_RBUF 4096u
#define FIRST_WBUF 4096u
#define FIRST_HBUF 512u
/* Room beyond the head and body limits for framing and pipelined bytes. */
#define BODY_SLACK (16u * 1024)
/* A streamed body is read through at most this much buffer. */
#define STREAM_WINDOW (64u * 1024)
/* Before closing after a response: read and drop this much, for at most
 * this long in all. */
#define LINGER_BYTES (256u * 1024)
#define LINGER_NS (1 * COIL_NSEC_PER_SEC)

/* --------------------------------------------------------------- clock */

uint64_t coil__http_deadline(const struct coil__http_server *srv,
			     int64_t timeout_ns)
{
	if (timeout_ns < 0)
		return COIL__HTTP_NEVER;
	/* One tick of lenience: srv->now may be up to a tick old. */
	return srv->now + (uint64_t)timeout_ns + srv->tick;
}

static void format_date(struct coil__http_server *srv, time_t t)
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu",
					  "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr",
					    "May", "Jun", "Jul", "Aug",
					    "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	if (srv->o.no_date || !gmtime_r(&t, &tm))
		return;
	srv->date_len = (size_t)snprintf(srv->date_line,
		sizeof(srv->date_line),
		"Date: %s, %02d %s %04d %02d:%02d:%02d GMT\r\n",
		days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void reap(struct coil__http_server *srv);

/* ------------------------------------------------------------- sweeper */

/* Cancel every connection whose deadline has passed. */
static void sweep(struct coil__http_server *srv)
{
	struct coil__http_conn *c;

	for (c = srv->conns; c; c = c->next) {
		if (!c->finished && c->deadline <= srv->now && !c->timed_out) {
			c->timed_out = true;
			coil_cancel(c->task);
		}
	}
}

/* Nanoseconds from now to just after the next second of the wall clock. */
static uint64_t to_next_second(time_t *now_s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	*now_s = ts.tv_sec;
	return (uint64_t)(COIL_NSEC_PER_SEC - ts.tv_nsec) + COIL_NSEC_PER_MSEC;
}

static void *sweeper_main(void *arg)
{
	struct coil__http_server *srv = arg;
	time_t shown = 0, now_s;
	uint64_t wait;

	for (;;) {
		wait = to_next_second(&now_s);
		if (now_s != shown) {
			format_date(srv, now_s);
			shown = now_s;
		}
		if (coil_sleep(wait < srv->tick ? wait : srv->tick) < 0)
			return NULL;
		srv->now = coil_now();
		sweep(srv);
		reap(srv);
	}
}

/* -------------------------------------------------------- input buffer */

/*
 * Make room at the end of rbuf: drop consumed bytes (keeping rbuf[0..keep)
 * where the head or a decoded body lives), then grow up to @limit bytes.
 * Returns 0, or -ENOBUFS at the limit, -ENOMEM.
 *
 * While a handler runs (@keep > 0) the head's slices, which the handler
 * may hold, point into the block the head was parsed in: that block is
 * kept in c->hold until the handler returns instead of being freed (the
 * blocks between it and the newest one are freed at once). A body that
 * fits the buffer costs nothing more.
 */
static int make_room(struct coil__http_conn *c, size_t keep, size_t limit)
{
	size_t cap;
	char *nb;

	if (c->rlen < c->rcap)
		return 0;
	if (c->rpos > keep) {
		memmove(c->rbuf + keep, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos - keep;
		c->rpos = keep;
		if (c->rlen < c->rcap)
			return 0;
	}
	if (c->rcap >= limit)
		return -ENOBUFS;
	cap = c->rcap * 2 < limit ? c->rcap * 2 : limit;
	nb = malloc(cap);
	if (!nb)
		return -ENOMEM;
	memcpy(nb, c->rbuf, c->rlen);
	if (keep && !c->hold)
		c->hold = c->rbuf;
	else
		free(c->rbuf);
	c->rbuf = nb;
	c->rcap = cap;
	return 0;
}

/*
 * One receive into rbuf, with @deadline for the sweeper. Returns the bytes
 * added, 0 at end of input, or a negative errno (-ECANCELED: deadline or
 * shutdown).
 */
static ssize_t receive(struct coil__http_conn *c, uint64_t deadline)
{
	ssize_t n;

	c->deadline = deadline;
	n = coil_recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
	c->deadline = COIL__HTTP_NEVER;
	if (n > 0)
		c->rlen += (size_t)n;
	return n;
}

/* ----------------------------------------------------------------- head */

/*
 * Read and parse the next request head. Returns 1 (c->head is set), 0 when
 * the connection should close quietly (end of input between requests, or
 * the server is stopping), a parse error (COIL__HTTP_E*: answer it), or a
 * negative errno.
 */
static int read_head(struct coil__http_conn *c)
{
	struct coil__http_server *srv = c->srv;
	uint64_t head_deadline = COIL__HTTP_NEVER;
	ssize_t n;
	int r;

	for (;;) {
		if (c->rlen > c->rpos) {
			r = coil__http_parse_head(&c->p, c->rbuf + c->rpos,
						  c->rlen - c->rpos, &c->head);
			if (r > 0) {
				c->hstart = c->rpos;
				c->rpos += (size_t)r;
				c->hend = c->rpos;
				return 1;
			}
			if (r < 0)
				return r;
			if (head_deadline == COIL__HTTP_NEVER)
				head_deadline = coil__http_deadline(
					srv, srv->o.header_timeout_ns);
		} else {
			c->rpos = c->rlen = 0;
		}
		r = coil__http_flush(c);
		if (r < 0)
			return r;
		c->idle = c->rlen == c->rpos;
		if (c->idle && srv->stopping)
			return 0;
		r = make_room(c, 0, srv->head_room);
		if (r < 0) /* cannot happen: the parser stops first */
			return COIL__HTTP_EHEAD_TOO_LARGE;
		n = receive(c, c->idle ? coil__http_deadline(srv,
					srv->o.idle_timeout_ns) :
					 head_deadline);
		c->idle = false;
		if (n <= 0)
			return n < 0 ? (int)n : 0;
	}
}

/* ----------------------------------------------------------------- body */

static int body_error(struct coil__http_conn *c, int err)
{
	if (err == COIL__HTTP_EBODY_TOO_LARGE || err == -ENOBUFS)
		err = -EMSGSIZE;
	else if (coil__http_is_parse_error(err))
		err = err == COIL__HTTP_ETRUNCATED ? -ECONNRESET : -EPROTO;
	if (!c->body_err)
		c->body_err = err;
	return c->body_err;
}

/* Send "100 Continue" before the first body read, when it was asked for. */
static int send_continue(struct coil__http_conn *c)
{
	static const char line[] = "HTTP/1.1 100 Continue\r\n\r\n";
	int r;

	c->body_touched = true;
	if (c->continue_sent)
		return 0;
	c->continue_sent = true;
	if (c->res_state != COIL__HTTP_RES_NONE)
		return 0;
	r = coil__http_wbuf_put(c, line, sizeof(line) - 1);
	return r < 0 ? r : coil__http_flush(c);
}

/*
 * Receive more body bytes, keeping rbuf[0..keep) and growing rbuf up to
 * @limit, by @deadline. Returns 0 or a negative errno / parse error.
 */
static int body_more(struct coil__http_conn *c, size_t keep, size_t limit,
		     uint64_t deadline)
{
	ssize_t n;
	int r = coil__http_flush(c);

	if (r < 0)
		return r;
	r = make_room(c, keep, limit);
	if (r < 0)
		return r;
	n = receive(c, deadline);
	if (n < 0)
		return (int)n;
	if (n == 0)
		return coil__http_body_eof(&c->p) ? COIL__HTTP_ETRUNCATED :
						    0;
	return 0;
}

/*
 * Decode at most @max body bytes from the buffered input: sets *@d to a
 * slice of rbuf and advances rpos. Returns 1 with data, 0 when more input
 * is needed or the body is done, or an error.
 */
static int decode(struct coil__http_conn *c, size_t max,
		  struct coil__http_slice *d)
{
	size_t avail = c->rlen - c->rpos;
	ssize_t n;

	d->len = 0;
	while (avail && !coil__http_body_is_done(&c->p)) {
		/* A data slice never passes the input's end; a trailer
		 * section must be offered whole. */
		n = coil__http_parse_body(&c->p, c->rbuf + c->rpos,
			c->p.state == COIL__HTTP_S_TRAILERS || avail < max ?
				avail : max, d);
		if (n < 0)
			return (int)n;
		c->rpos += (size_t)n;
		avail -= (size_t)n;
		if (d->len)
			return 1;
		if (!n)
			break;
	}
	return 0;
}

/* One read timeout from now: per receive for the handler's body reads,
 * for the whole drain after it. */
static uint64_t read_deadline(const struct coil__http_conn *c)
{
	return coil__http_deadline(c->srv, c->srv->o.read_timeout_ns);
}

ssize_t coil_http_req_read(struct coil_http_req *req, void *buf, size_t len)
{
	struct coil__http_conn *c = req->c;
	struct coil__http_slice d;
	int r;

	if (c->body_err)
		return c->body_err;
	r = send_continue(c);
	if (r < 0)
		return r;
	while (len && !coil__http_body_is_done(&c->p)) {
		r = decode(c, len, &d);
		if (r > 0) {
			memcpy(buf, d.ptr, d.len);
			return (ssize_t)d.len;
		}
		if (!r && !coil__http_body_is_done(&c->p))
			r = body_more(c, c->hend,
				      c->hend + STREAM_WINDOW + c->srv->head_room,
				      read_deadline(c));
		if (r < 0)
			return body_error(c, r);
	}
	return 0;
}

/* @a + @b, or SIZE_MAX where that overflows (@lim may be "no limit"). */
static size_t sat_add(size_t a, uint64_t b)
{
	return b > SIZE_MAX - a ? SIZE_MAX : a + (size_t)b;
}

ssize_t coil_http_req_body(struct coil_http_req *req, const void **data,
			   size_t max)
{
	struct coil__http_conn *c = req->c;
	struct coil__http_server *srv = c->srv;
	struct coil__http_slice d;
	size_t start = c->rpos, end = c->rpos;
	uint64_t lim = max < srv->o.max_body ? max : srv->o.max_body;
	int r;

	*data = c->rbuf + start;
	if (c->body_err)
		return c->body_err;
	r = send_continue(c);
	if (r < 0)
		return r;
	/* The body is decoded in place: chunk data slides down over the
	 * framing before it, so it ends up contiguous at rbuf[start..end). */
	while (!coil__http_body_is_done(&c->p)) {
		r = decode(c, SIZE_MAX, &d);
		if (r > 0) {
			if (end - start + d.len > lim)
				return body_error(c, -EMSGSIZE);
			memmove(c->rbuf + end, d.ptr, d.len);
			end += d.len;
			continue;
		}
		if (!r && !coil__http_body_is_done(&c->p))
			r = body_more(c, end, sat_add(end + srv->head_room +
						      BODY_SLACK,
						      lim - (end - start)),
				      read_deadline(c));
		if (r < 0)
			return body_error(c, r);
	}
	/* make_room() may have moved rbuf. */
	*data = c->rbuf + start;
	return (ssize_t)(end - start);
}

/*
 * After the handler: read and drop what is left of the body, so that the
 * next request can be read. At most COIL__HTTP_DRAIN_BYTES of it, all
 * within one read timeout: a client that sends more, or sends it slowly, is
 * closed on instead of holding the connection (a Content-Length known to be
 * larger already made the response say "Connection: close"). Returns 0 or
 * an error (then close; after a too long body, linger first: c->keep_alive
 * is cleared).
 */
static int drain_body(struct coil__http_conn *c)
{
	struct coil__http_server *srv = c->srv;
	uint64_t deadline = read_deadline(c), start = c->p.total;
	struct coil__http_slice d;
	int r;

	if (c->body_err)
		return c->body_err;
	while (!coil__http_body_is_done(&c->p)) {
		r = decode(c, SIZE_MAX, &d);
		if (r < 0)
			return r;
		if (r > 0 || coil__http_body_is_done(&c->p))
			continue;
		/* The buffered input is used up. p.remaining: what is known
		 * to be left of the body (or of its current chunk). */
		if (c->p.total - start + c->p.remaining >
		    COIL__HTTP_DRAIN_BYTES) {
			c->keep_alive = false;
			return -EMSGSIZE;
		}
		r = body_more(c, c->hend,
			      c->hend + STREAM_WINDOW + srv->head_room,
			      deadline);
		if (r < 0)
			return r;
	}
	return 0;
}

/* -------------------------------------------------------- request API */

const char *coil_http_req_method(const struct coil_http_req *req,
				 size_t *len)
{
	*len = req->c->head.method.len;
	return req->c->head.method.ptr;
}

const char *coil_http_req_target(const struct coil_http_req *req,
				 size_t *len)
{
	*len = req->c->head.target.len;
	return req->c->head.target.ptr;
}

bool coil_http_req_method_is(const struct coil_http_req *req,
			     const char *method)
{
	const struct coil__http_slice *m = &req->c->head.method;
	size_t n = strlen(method);

	return m->len == n && !memcmp(m->ptr, method, n);
}

int coil_http_req_minor(const struct coil_http_req *req)
{
	return req->c->head.minor;
}

const char *coil_http_req_header(const struct coil_http_req *req,
				 const char *name, size_t *len)
{
	const struct coil__http_slice *v =
		coil__http_head_find(&req->c->head, name);

	if (len)
		*len = v ? v->len : 0;
	return v ? (v->ptr ? v->ptr : "") : NULL;
}

size_t coil_http_req_header_count(const struct coil_http_req *req)
{
	return req->c->head.nfields;
}

int coil_http_req_header_at(const struct coil_http_req *req, size_t i,
			    const char **name, size_t *name_len,
			    const char **value, size_t *value_len)
{
	const struct coil__http_head *h = &req->c->head;

	if (i >= h->nfields)
		return -ERANGE;
	*name = h->fields[i].name.ptr;
	*name_len = h->fields[i].name.len;
	*value = h->fields[i].value.ptr ? h->fields[i].value.ptr : "";
	*value_len = h->fields[i].value.len;
	return 0;
}

int64_t coil_http_req_content_length(const struct coil_http_req *req)
{
	const struct coil__http_head *h = &req->c->head;

	if (h->framing == COIL__HTTP_BODY_CHUNKED)
		return -1;
	return h->framing == COIL__HTTP_BODY_LENGTH ?
		       (int64_t)h->content_length : 0;
}

bool coil_http_req_keep_alive(const struct coil_http_req *req)
{
	return req->c->head.keep_alive;
}

int coil_http_req_fd(const struct coil_http_req *req)
{
	return req->c->fd;
}

/* ---------------------------------------------------------- connection */

/* Run the handler for the parsed head and finish its response. */
static int run_request(struct coil__http_conn *c)
{
	struct coil__http_server *srv = c->srv;
	int ret;

	c->requests++;
	c->body_err = 0;
	c->body_touched = false;
	c->continue_sent = !c->head.expect_continue;
	coil__http_res_reset(c);
	ret = srv->handler(&c->req, &c->res, srv->userdata);
	ret = coil__http_res_finish(c, ret);
	if (ret < 0 || !c->keep_alive)
		return -1;
	ret = drain_body(c);
	/* The head's slices are no longer used (the next head is parsed in
	 * the newest block); on the way out conn_main() frees the block. */
	free(c->hold);
	c->hold = NULL;
	if (ret < 0)
		return -1;
	coil__http_parser_reset(&c->p, 0);
	/* More pipelined requests buffered: let their answers gather. */
	if (c->rpos < c->rlen && c->wlen < COIL__HTTP_FLUSH_AT)
		return 0;
	return coil__http_flush(c);
}

/*
 * Close after an error response: stop sending, then read and drop what
 * the client still sends for a while, so that closing with unread input
 * does not reset the connection before the client has read the answer.
 * One deadline for the whole of it: with one per receive, a byte now and
 * then would hold the connection for as long as the client liked.
 */
static void linger(struct coil__http_conn *c)
{
	struct coil_deadline dl;
	size_t dropped = 0;
	ssize_t n;

	if (coil_shutdown(c->fd, SHUT_WR) < 0 ||
	    coil_deadline_enter(&dl, LINGER_NS) < 0)
		return;
	c->rpos = c->rlen = 0;
	while (dropped < LINGER_BYTES) {
		n = coil_recv(c->fd, c->rbuf, c->rcap, 0);
		if (n <= 0)
			break;
		dropped += (size_t)n;
	}
	coil_deadline_exit(&dl);
}

static void serve_conn(struct coil__http_conn *c)
{
	int r;

	for (;;) {
		r = read_head(c);
		if (r <= 0)
			break;
		if (run_request(c) < 0)
			break;
	}
	if (coil__http_is_parse_error(r) &&
	    coil__http_res_error(c, coil__http_error_status(r)) == 0 &&
	    coil__http_flush(c) == 0) {
		linger(c);
		return;
	}
	if (c->wlen && !c->broken)
		coil__http_flush(c);
	if (c->keep_alive == false && c->res_state == COIL__HTTP_RES_DONE &&
	    !c->broken && !c->timed_out)
		linger(c);
}

static void *conn_main(void *arg)
{
	struct coil__http_conn *c = arg;
	struct coil__http_server *srv = c->srv;

	coil__http_parser_init(&c->p, COIL__HTTP_REQUEST, &srv->lim,
			       c->fields, srv->lim.max_fields);
	c->rbuf = malloc(FIRST_RBUF);
	c->wbuf = malloc(FIRST_WBUF);
	c->hbuf = malloc(FIRST_HBUF);
	if (c->rbuf && c->wbuf && c->hbuf) {
		c->rcap = FIRST_RBUF;
		c->wcap = FIRST_WBUF;
		c->hcap = FIRST_HBUF;
		if (!srv->stopping)
			serve_conn(c);
	}
	coil_close(c->fd);
	free(c->rbuf);
	free(c->wbuf);
	free(c->hbuf);
	free(c->hold);
	c->rbuf = c->wbuf = c->hbuf = c->hold = NULL;
	c->finished = true;
	srv->live--;
	srv->done++;
	return NULL;
}

/* ------------------------------------------------------------- serving */

static void conn_unlink(struct coil__http_server *srv,
			struct coil__http_conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

/* Join and free every finished connection (none of them suspends). */
static void reap(struct coil__http_server *srv)
{
	struct coil__http_conn *c, *next;

	for (c = srv->conns; c && srv->done; c = next) {
		next = c->next;
		if (!c->finished)
			continue;
		coil_join(c->task, NULL);
		conn_unlink(srv, c);
		free(c);
		srv->done--;
	}
}

static int start_conn(struct coil__http_server *srv, int fd)
{
	struct coil_spawn_opts so = { .stack_size = srv->o.stack_size,
				      .name = "http conn" };
	struct coil__http_conn *c;
	int err;

	c = calloc(1, sizeof(*c) + srv->lim.max_fields * sizeof(c->fields[0]));
	if (!c)
		return -ENOMEM;
	c->srv = srv;
	c->fd = fd;
	c->deadline = COIL__HTTP_NEVER;
	c->req.c = c;
	c->res.c = c;
	err = coil_spawn_opts(&c->task, &so, conn_main, c);
	if (err) {
		free(c);
		return err;
	}
	c->next = srv->conns;
	if (c->next)
		c->next->prev = c;
	srv->conns = c;
	srv->live++;
	return 0;
}

static int set_options(struct coil__http_server *srv,
		       const struct coil_http_server_opts *opts)
{
	struct coil_http_server_opts *o = &srv->o;
	int64_t least = INT64_MAX, *t[] = { &o->header_timeout_ns,
		&o->idle_timeout_ns, &o->read_timeout_ns,
		&o->send_timeout_ns, &o->shutdown_grace_ns };
	int64_t dflt[] = { 10, 60, 10, 10, 5 };
	size_t i;

	if (opts)
		*o = *opts;
	if (!o->max_head)
		o->max_head = DEFAULT_MAX_HEAD;
	if (!o->max_fields)
		o->max_fields = 100;
	if (!o->max_body)
		o->max_body = DEFAULT_MAX_BODY;
	if (o->max_head > (64u << 20) || o->max_fields > 100000)
		return -EINVAL;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (!*t[i])
			*t[i] = dflt[i] * COIL_NSEC_PER_SEC;
		if (*t[i] > 0 && *t[i] < least && t[i] != &o->shutdown_grace_ns)
			least = *t[i];
	}
	srv->tick = least == INT64_MAX ? COIL_NSEC_PER_SEC : (uint64_t)least / 8;
	if (srv->tick < 10 * COIL_NSEC_PER_MSEC)
		srv->tick = 10 * COIL_NSEC_PER_MSEC;
	if (srv->tick > COIL_NSEC_PER_SEC)
		srv->tick = COIL_NSEC_PER_SEC;
	srv->lim.max_head = o->max_head;
	srv->lim.max_start_line = o->max_head < MAX_LINE ? o->max_head : MAX_LINE;
	srv->lim.max_field_line = srv->lim.max_start_line;
	srv->lim.max_fields = o->max_fields;
	srv->lim.max_body = o->max_body == UINT64_MAX ? 0 : o->max_body;
	srv->head_room = (size_t)o->max_head + srv->lim.max_start_line + 2;
	if (o->server_name) {
		int n = snprintf(srv->server_line, sizeof(srv->server_line),
				 "Server: %s\r\n", o->server_name);

		if (n < 0 || (size_t)n >= sizeof(srv->server_line) ||
		    strpbrk(o->server_name, "\r\n"))
			return -EINVAL;
		srv->server_len = (size_t)n;
	}
	return 0;
}

/* Cancel connections: all of them, or only those waiting for a request. */
static void cancel_conns(struct coil__http_server *srv, bool idle_only)
{
	struct coil__http_conn *c;

	for (c = srv->conns; c; c = c->next)
		if (!c->finished && (!idle_only || c->idle))
			coil_cancel(c->task);
}

/*
 * Stop: after the listener closed, idle connections go at once and busy
 * ones get the grace period; when cancelled, all go at once. Every task is
 * joined either way (a cancelled caller's join still waits).
 */
static void shut_down(struct coil__http_server *srv, bool graceful)
{
	struct coil_deadline dl;
	struct coil__http_conn *c;
	bool scoped = false;

	srv->stopping = true;
	if (graceful && !coil_task_is_cancelled(coil_self())) {
		cancel_conns(srv, true);
		scoped = srv->o.shutdown_grace_ns >= 0 &&
			 coil_deadline_enter(&dl,
				(uint64_t)srv->o.shutdown_grace_ns) == 0;
	} else {
		cancel_conns(srv, false);
	}
	/* A join that times out or is cancelled cancels the connection and
	 * still waits for it. */
	while ((c = srv->conns)) {
		coil_join(c->task, NULL);
		conn_unlink(srv, c);
		free(c);
	}
	if (scoped)
		coil_deadline_exit(&dl);
}

int coil_http_serve(struct coil_listener *l, coil_http_handler handler,
		    void *userdata, const struct coil_http_server_opts *opts)
{
	struct coil__http_server srv;
	struct coil_task *sweeper;
	int fd, err;

	if (!l || !handler)
		return -EINVAL;
	if (!coil_self())
		return -EPERM;
	memset(&srv, 0, sizeof(srv));
	srv.handler = handler;
	srv.userdata = userdata;
	err = set_options(&srv, opts);
	if (err)
		return err;
	srv.now = coil_now();
	format_date(&srv, time(NULL));
	err = coil_spawn_opts(&sweeper, &(struct coil_spawn_opts){
				      .name = "http sweeper" },
			      sweeper_main, &srv);
	if (err)
		return err;
	for (;;) {
		fd = coil_listener_accept(l, NULL, NULL, -1);
		if (fd < 0)
			break;
		reap(&srv);
		if (start_conn(&srv, fd) < 0)
			coil_close(fd);
	}
	shut_down(&srv, fd == -EBADF);
	coil_cancel(sweeper);
	coil_join(sweeper, NULL);
	if (coil_task_is_cancelled(coil_self()))
		return -ECANCELED;
	return fd == -EBADF ? 0 : fd;
}
