/* SPDX-License-Identifier: MIT */
/*
 * net/http/server_res.c - the response side of the HTTP server: heads
 * built in the connection's write buffer, bodies copied behind them when
 * small (one send for both) or sent with them from the caller's memory
 * (sendmsg) when large, chunked streaming, files spliced to the socket.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "coil/io.h"
#include "coil/net.h"
#include "server_conn.h"

/* The handler's fields may take this much. */
#define MAX_FIELDS_BYTES (8u * 1024)
/* A file is sent in pieces of this much, each within the send timeout. */
#define SENDFILE_CHUNK (1u << 20)

/* ------------------------------------------------------------- sending */

static int grow(char **buf, size_t *cap, size_t need, size_t limit)
{
	size_t n = *cap;
	char *nb;

	if (need <= n)
		return 0;
	if (need > limit)
		return -ENOSPC;
	while (n < need)
		n *= 2;
	nb = realloc(*buf, n);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	*cap = n;
	return 0;
}

/*
 * Append to the output. A failure (no memory) leaves what was promised
 * unwritten - a body after its head, a chunk after its size, the last
 * chunk - so the connection is broken: it closes instead of going on with
 * bytes the client would read as the wrong message.
 */
int coil__http_wbuf_put(struct coil__http_conn *c, const void *p, size_t len)
{
	int r = grow(&c->wbuf, &c->wcap, c->wlen + len, SIZE_MAX / 2);

	if (r < 0) {
		c->broken = true;
		return r;
	}
	memcpy(c->wbuf + c->wlen, p, len);
	c->wlen += len;
	return 0;
}

/*
 * Send @iov[0..@n) completely; each send must make progress within the
 * send timeout. Returns 0 or a negative errno (c->broken set).
 */
static int send_iov(struct coil__http_conn *c, struct iovec *iov, int n,
		    int flags)
{
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = (size_t)n };
	ssize_t r;

	while (msg.msg_iovlen) {
		c->deadline = coil__http_deadline(c->srv,
						  c->srv->o.send_timeout_ns);
		if (msg.msg_iovlen == 1)
			r = coil_send(c->fd, iov->iov_base, iov->iov_len,
				      flags);
		else
			r = coil_sendmsg(c->fd, &msg, flags);
		c->deadline = COIL__HTTP_NEVER;
		if (r <= 0) {
			c->broken = true;
			c->wlen = 0;
			return r < 0 ? (int)r : -EIO;
		}
		while (msg.msg_iovlen && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			msg.msg_iov = iov;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			iov->iov_base = (char *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
	c->wlen = 0;
	return 0;
}

static int flush_flags(struct coil__http_conn *c, int flags)
{
	struct iovec iov = { c->wbuf, c->wlen };

	if (c->broken)
		return -EPIPE;
	return c->wlen ? send_iov(c, &iov, 1, flags) : 0;
}

int coil__http_flush(struct coil__http_conn *c)
{
	return flush_flags(c, 0);
}

int coil__http_send2(struct coil__http_conn *c, const void *data, size_t len)
{
	struct iovec iov[2] = { { c->wbuf, c->wlen },
				{ (void *)data, len } };

	if (c->broken)
		return -EPIPE;
	return c->wlen ? send_iov(c, iov, 2, 0) : send_iov(c, iov + 1, 1, 0);
}

/* ---------------------------------------------------------------- head */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 426: return "Upgrade Required";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return status < 300 ? "OK" : status < 400 ? "Redirect" :
		 status < 500 ? "Client Error" : "Server Error";
	}
}

static char *put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}

#define PUT_LIT(p, lit) put(p, lit, sizeof(lit) - 1)

static char *put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

static bool is_head_request(const struct coil__http_conn *c)
{
	return c->head.method.len == 4 &&
	       !memcmp(c->head.method.ptr, "HEAD", 4);
}

/* 1xx, 204 and 304 responses never carry a body (RFC 9110 §6.4.1). */
static bool bodyless(const struct coil__http_conn *c)
{
	return c->status == 204 || c->status == 304 || is_head_request(c);
}

/* Whether the connection stays open after this response. */
static bool decide_keep_alive(const struct coil__http_conn *c)
{
	const struct coil__http_server *srv = c->srv;
	const struct coil__http_head *h = &c->head;

	if (!h->keep_alive || c->close_asked || srv->stopping || h->upgrade ||
	    c->broken || c->body_err || c->raw_stream)
		return false;
	if (srv->o.max_requests && c->requests >= srv->o.max_requests)
		return false;
	/* More unread body than the server will drain: it closes after
	 * this response, and the response must say so (RFC 9112 §9.6) so
	 * that the client does not send the next request into a closing
	 * socket. (A chunked body's size is not known yet: when its drain
	 * fails later, the close comes unannounced.) */
	if (h->framing == COIL__HTTP_BODY_LENGTH &&
	    c->p.remaining > COIL__HTTP_DRAIN_BYTES)
		return false;
	/* The client waits for "100 Continue" that will not come: whether
	 * it sends its body anyway cannot be known; close. */
	return h->framing == COIL__HTTP_BODY_NONE || c->continue_sent;
}

enum framing { BY_LENGTH, BY_CHUNKS, BY_CLOSE };

/* Build the response head into wbuf. Returns 0 or -ENOMEM. */
static int build_head(struct coil__http_conn *c, enum framing f,
		      uint64_t len)
{
	const struct coil__http_server *srv = c->srv;
	const char *why = reason(c->status);
	bool framed = c->status != 204 && c->status != 304;
	size_t wlen = strlen(why);
	size_t need = 16 + wlen + srv->server_len + srv->date_len + c->hlen +
		      64;
	char *p;
	int r = grow(&c->wbuf, &c->wcap, c->wlen + need, SIZE_MAX / 2);

	/* No head, no answer to this request: close rather than let the
	 * next response be read as this one's (coil__http_wbuf_put()). */
	if (r < 0) {
		c->broken = true;
		return r;
	}
	c->keep_alive = decide_keep_alive(c);
	p = c->wbuf + c->wlen;
	p = PUT_LIT(p, "HTTP/1.1 ");
	p = put_u64(p, (uint64_t)c->status);
	*p++ = ' ';
	p = put(p, why, wlen);
	p = PUT_LIT(p, "\r\n");
	p = put(p, srv->server_line, srv->server_len);
	p = put(p, srv->date_line, srv->date_len);
	p = put(p, c->hbuf, c->hlen);
	/* 204 and 304 carry no framing fields at all, streamed or not (RFC
	 * 9112 §6.1, §6.3); a HEAD answer carries those a GET would have. */
	if (framed && f == BY_LENGTH) {
		p = PUT_LIT(p, "Content-Length: ");
		p = put_u64(p, len);
		p = PUT_LIT(p, "\r\n");
	} else if (framed && f == BY_CHUNKS) {
		p = PUT_LIT(p, "Transfer-Encoding: chunked\r\n");
	}
	if (!c->keep_alive)
		p = PUT_LIT(p, "Connection: close\r\n");
	else if (c->head.minor == 0 || c->name_keep_alive)
		p = PUT_LIT(p, "Connection: keep-alive\r\n");
	p = PUT_LIT(p, "\r\n");
	c->wlen = (size_t)(p - c->wbuf);
	return 0;
}

/* ------------------------------------------------------------ the API */

void coil__http_res_reset(struct coil__http_conn *c)
{
	c->status = 200;
	c->hlen = 0;
	c->res_state = COIL__HTTP_RES_NONE;
	c->close_asked = false;
	c->name_keep_alive = false;
	c->raw_stream = false;
}

int coil_http_res_status(struct coil_http_res *res, int status)
{
	struct coil__http_conn *c = res->c;

	if (c->res_state != COIL__HTTP_RES_NONE)
		return -EALREADY;
	if (status < 200 || status > 599)
		return -EINVAL;
	c->status = status;
	return 0;
}

int coil_http_res_header_n(struct coil_http_res *res, const char *name,
			   const char *value, size_t len)
{
	struct coil__http_conn *c = res->c;
	size_t nlen;
	char *p;
	int r;

	if (c->res_state != COIL__HTTP_RES_NONE)
		return -EALREADY;
	if (!name || !coil__http_is_token(name) || (!value && len) ||
	    (len && (memchr(value, '\r', len) || memchr(value, '\n', len) ||
		     memchr(value, '\0', len))))
		return -EINVAL;
	/* The server frames the body: a second or conflicting framing
	 * field would let the client read the response two ways. */
	if (!strcasecmp(name, "Content-Length") ||
	    !strcasecmp(name, "Transfer-Encoding"))
		return -EINVAL;
	/*
	 * The server writes Connection itself once it knows whether the
	 * connection stays open (it may close for reasons the handler cannot
	 * see: shutdown, max_requests, an unanswered 100-continue): a
	 * handler's "close" asks for a close, its "keep-alive" asks for the
	 * field to be named when the connection is kept - never both fields.
	 */
	if (!strcasecmp(name, "Connection") && len == 5 &&
	    !strncasecmp(value, "close", 5))
		return coil_http_res_close(res);
	if (!strcasecmp(name, "Connection") && len == 10 &&
	    !strncasecmp(value, "keep-alive", 10)) {
		c->name_keep_alive = true;
		return 0;
	}
	nlen = strlen(name);
	r = grow(&c->hbuf, &c->hcap, c->hlen + nlen + len + 4,
		 MAX_FIELDS_BYTES);
	if (r < 0)
		return r;
	p = put(c->hbuf + c->hlen, name, nlen);
	p = PUT_LIT(p, ": ");
	if (len)
		p = put(p, value, len);
	p = PUT_LIT(p, "\r\n");
	c->hlen = (size_t)(p - c->hbuf);
	return 0;
}

int coil_http_res_header(struct coil_http_res *res, const char *name,
			 const char *value)
{
	return coil_http_res_header_n(res, name, value,
				      value ? strlen(value) : 0);
}

int coil_http_res_close(struct coil_http_res *res)
{
	if (res->c->res_state != COIL__HTTP_RES_NONE)
		return -EALREADY;
	res->c->close_asked = true;
	return 0;
}

bool coil_http_res_is_started(const struct coil_http_res *res)
{
	return res->c->res_state != COIL__HTTP_RES_NONE;
}

int coil_http_res_send(struct coil_http_res *res, const void *body,
		       size_t len)
{
	struct coil__http_conn *c = res->c;
	int r;

	if (c->res_state != COIL__HTTP_RES_NONE)
		return -EALREADY;
	c->res_state = COIL__HTTP_RES_DONE;
	r = build_head(c, BY_LENGTH, len);
	if (r < 0 || !len || bodyless(c))
		return r;
	if (c->wlen + len <= COIL__HTTP_FLUSH_AT)
		return coil__http_wbuf_put(c, body, len);
	return coil__http_send2(c, body, len);
}

/*
 * Splice @len bytes of @fd at @off to the client, within the send timeout.
 * The connection's deadline is what enforces it: the sweeper cancels the
 * task, which interrupts a splice blocked in io-wq on a socket the client
 * does not read; coil_sendfile()'s own linked timeout does not (Linux
 * 6.18). Returns what coil_sendfile() returns (short: end of file).
 */
static ssize_t sendfile_chunk(struct coil__http_conn *c, int fd, int64_t off,
			      size_t len)
{
	ssize_t n;

	c->deadline = coil__http_deadline(c->srv, c->srv->o.send_timeout_ns);
	n = coil_sendfile(c->fd, fd, off, len, NULL, c->srv->o.send_timeout_ns);
	c->deadline = COIL__HTTP_NEVER;
	return n;
}

int coil_http_res_sendfile(struct coil_http_res *res, int fd, int64_t off,
			   size_t len)
{
	struct coil__http_conn *c = res->c;
	size_t sent = 0;
	ssize_t n = 0;
	int r;

	if (c->res_state != COIL__HTTP_RES_NONE)
		return -EALREADY;
	c->res_state = COIL__HTTP_RES_DONE;
	r = build_head(c, BY_LENGTH, len);
	if (r < 0 || !len || bodyless(c))
		return r;
	/* The head waits in the socket (MSG_MORE) for the file's first
	 * bytes: one segment for small files. */
	r = flush_flags(c, MSG_MORE);
	if (r < 0)
		return r;
	while (sent < len) {
		n = sendfile_chunk(c, fd, off + (int64_t)sent,
				   len - sent < SENDFILE_CHUNK ? len - sent :
								 SENDFILE_CHUNK);
		if (n <= 0)
			break;
		sent += (size_t)n;
	}
	if (sent == len)
		return 0;
	c->broken = true;
	return n < 0 ? (int)n : -ENODATA;
}

/* Start a stream: the head, chunked (HTTP/1.1) or close-delimited. */
static int start_stream(struct coil__http_conn *c)
{
	c->raw_stream = c->head.minor == 0;
	c->res_state = COIL__HTTP_RES_STREAM;
	return build_head(c, c->raw_stream ? BY_CLOSE : BY_CHUNKS, 0);
}

int coil_http_res_write(struct coil_http_res *res, const void *data,
			size_t len)
{
	struct coil__http_conn *c = res->c;
	struct iovec iov[3];
	char line[24], *p;
	int r;

	if (c->res_state == COIL__HTTP_RES_DONE)
		return -EALREADY;
	if (c->res_state == COIL__HTTP_RES_NONE) {
		r = start_stream(c);
		if (r < 0)
			return r;
	}
	if (!len || bodyless(c))
		return coil__http_flush(c);
	if (c->raw_stream)
		return coil__http_send2(c, data, len);
	p = line;
	{
		static const char hex[] = "0123456789abcdef";
		char tmp[16];
		size_t n = 0, v = len;

		do
			tmp[n++] = hex[v & 15];
		while ((v >>= 4));
		while (n)
			*p++ = tmp[--n];
	}
	p = PUT_LIT(p, "\r\n");
	r = coil__http_wbuf_put(c, line, (size_t)(p - line));
	if (r < 0)
		return r;
	if (c->broken)
		return -EPIPE;
	iov[0] = (struct iovec){ c->wbuf, c->wlen };
	iov[1] = (struct iovec){ (void *)data, len };
	iov[2] = (struct iovec){ (void *)"\r\n", 2 };
	return send_iov(c, iov, 3, 0);
}

int coil_http_res_end(struct coil_http_res *res)
{
	struct coil__http_conn *c = res->c;

	if (c->res_state == COIL__HTTP_RES_NONE)
		return coil_http_res_send(res, NULL, 0);
	if (c->res_state == COIL__HTTP_RES_DONE)
		return -EALREADY;
	c->res_state = COIL__HTTP_RES_DONE;
	if (c->raw_stream || bodyless(c))
		return 0;
	return coil__http_wbuf_put(c, "0\r\n\r\n", 5);
}

/* ------------------------------------------------- after the handler */

int coil__http_res_finish(struct coil__http_conn *c, int ret)
{
	if (c->res_state == COIL__HTTP_RES_NONE) {
		if (c->body_err == -EMSGSIZE || c->body_err == -EPROTO ||
		    (ret < 0 && !c->body_err)) {
			c->status = c->body_err == -EMSGSIZE ? 413 :
				    c->body_err == -EPROTO   ? 400 : 500;
			c->hlen = 0;
			c->close_asked = true;
		} else if (c->body_err) {
			return c->body_err; /* the client is gone */
		}
		coil_http_res_send(&c->res, NULL, 0);
	} else if (c->res_state == COIL__HTTP_RES_STREAM) {
		if (ret < 0)
			return ret;
		coil_http_res_end(&c->res);
	}
	return c->broken ? -EPIPE : 0;
}

int coil__http_res_error(struct coil__http_conn *c, int status)
{
	memset(&c->head, 0, sizeof(c->head));
	c->head.minor = 1;
	coil__http_res_reset(c);
	c->status = status;
	c->close_asked = true;
	c->res_state = COIL__HTTP_RES_DONE;
	return build_head(c, BY_LENGTH, 0);
}
