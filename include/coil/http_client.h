/* SPDX-License-Identifier: MIT */
/*
 * coil/http_client.h - an HTTP client session (aiohttp's ClientSession):
 * a keep-alive connection pool per host, requests that suspend only the
 * calling task, responses read whole or streamed.
 *
 * Two paths behind one API, chosen per URL:
 *  - native: http:// over HTTP/1.1 on coil's own sockets and its strict
 *    incremental parser (net/http/parser.h);
 *  - libcurl (when coil was built with it): everything else (https://,
 *    other schemes), and any URL when the request or the session asks for
 *    it. libcurl's multi interface is driven from the ring: its sockets
 *    are watched with IORING_OP_POLL_ADD, its timer is one IORING_OP_TIMEOUT;
 *    no helper thread, no curl_easy_perform. Built without libcurl, such
 *    URLs fail with -EPROTONOSUPPORT.
 *
 * Errors are negative errno values:
 *  -EINVAL           a bad argument or URL (no host, bad port, ...);
 *  -COIL_ENONAME     the host name does not resolve (coil/net.h);
 *  -ECONNREFUSED, -ENETUNREACH, ...   connecting failed;
 *  -EPROTONOSUPPORT  the URL needs libcurl (https://, ...) and coil was
 *                    built without it, or libcurl does not speak its
 *                    scheme, or a redirect leads to a scheme other than
 *                    http or https (never followed: a server must not
 *                    send the client to file:// and the like);
 *  -EPROTO           the server broke HTTP/1.1 (a malformed response);
 *  -ECONNRESET       the server closed or reset the connection before the
 *                    response was complete (a truncated body included).
 *                    A pooled native connection the server closed
 *                    without answering is retried on another one only for
 *                    idempotent methods (GET, HEAD, OPTIONS, TRACE, PUT,
 *                    DELETE; RFC 9110 9.2.2): a POST, PATCH, ... may have
 *                    been acted on, and fails instead (-ECONNRESET, or
 *                    -EPIPE when its sending failed). libcurl has its own
 *                    rule: it sends any request again;
 *  -EFBIG            the body is larger than the request's max_body;
 *  -EMSGSIZE         the response head is over the parser's limits
 *                    (64 KiB, 8 KiB a line, 100 fields);
 *  -ELOOP            more redirects than max_redirects;
 *  -ETIMEDOUT        the request's deadline (or an enclosing deadline
 *                    scope) passed;
 *  -ECANCELED        the calling task was cancelled;
 *  -EKEYREJECTED     (libcurl path) the server's TLS certificate did not
 *                    verify (see ca_file and insecure in the options);
 *  -ENOMEM, -EPERM (outside a task), and libcurl's failures mapped to the
 *  nearest of the above (-EIO when none fits).
 *
 * A session belongs to the runtime (thread) that created it; any number of
 * its tasks may use it at once.
 */
#ifndef COIL_HTTP_CLIENT_H
#define COIL_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Session options; a zeroed struct (or NULL) gives the defaults. */
struct coil_http_session_opts {
	unsigned max_total;     /* open connections in all [100] */
	unsigned max_per_host;  /* open connections per host:port [0: none
				 * beyond max_total] */
	int64_t idle_timeout_ns; /* an idle pooled connection is closed
				  * after this [15 s], by a ring timeout even
				  * if the session is not used again (that
				  * timeout never delays coil_run()'s return);
				  * < 0: never reuse */
	int64_t connect_timeout_ns; /* per connection attempt [30 s] */
	int64_t timeout_ns;     /* default per-request deadline [0: none] */
	const char *user_agent; /* User-Agent sent [coil/<version>]; copied */
	const char *ca_file;    /* libcurl path: CA bundle to trust (PEM);
				 * copied. NULL: the system's */
	bool insecure;          /* libcurl path: do not verify TLS peers */
	bool force_curl;        /* every request through libcurl */
};

struct coil_http_session;

/* One request header. Both strings are the caller's, used during the call. */
struct coil_http_header {
	const char *name;
	const char *value;
};

/*
 * A streamed request body: fill @buf with up to @len bytes and return the
 * count, 0 at the end of the body, or a negative errno to abort the request
 * (which then fails with it). Called from the requesting task: it may
 * suspend.
 */
typedef ssize_t (*coil_http_body_fn)(void *arg, void *buf, size_t len);

/*
 * A request. Zero it, then set at least @url. Every pointer is the
 * caller's and need only live during coil_http_request().
 */
struct coil_http_request {
	const char *method;  /* "GET", "HEAD", "POST", "PUT", "DELETE", ...
			      * (a token, else -EINVAL);
			      * NULL: GET, or POST when there is a body */
	const char *url;     /* absolute: http://host[:port]/path?query;
			      * a space or a control character in it is
			      * -EINVAL (percent-encode them) */
	const struct coil_http_header *headers; /* extra headers: names
			      * tokens, values without CR, LF or another
			      * control but TAB, and no Content-Length or
			      * Transfer-Encoding: the body's framing comes
			      * from body_len / body_size (else -EINVAL,
			      * sent nowhere) */
	size_t nheaders;
	const void *body;    /* a body in one buffer, @body_len bytes */
	size_t body_len;
	coil_http_body_fn body_fn; /* or a streamed body (@body is ignored) */
	void *body_arg;
	int64_t body_size;   /* body_fn's total when known (Content-Length),
			      * else -1: sent chunked (0 is "known, empty") */
	int64_t timeout_ns;  /* deadline of the whole request, body read
			      * included [0: the session's]; < 0: none */
	uint64_t max_body;   /* whole bodies: larger is -EFBIG [64 MiB] */
	unsigned max_redirects; /* redirects followed [10] */
	bool no_redirects;   /* return 3xx responses as they are */
	bool stream;         /* leave the body to coil_http_response_read() */
	bool use_curl;       /* through libcurl even for http:// */
};

/* A response: opaque, read through the accessors below. */
struct coil_http_response;

/*
 * coil_http_session_create - a session with @opts (NULL: defaults; strings
 * copied). Returns 0 with *@out set (free it with
 * coil_http_session_destroy()), -ENOMEM, or -EPERM outside coil_run().
 * Never suspends.
 */
int coil_http_session_create(const struct coil_http_session_opts *opts,
			     struct coil_http_session **out);

/*
 * coil_http_session_destroy - close every pooled connection and free @s.
 * Every response of @s must have been freed first, and no request may be in
 * flight (else -EBUSY and nothing is freed). Called from a task, it may
 * suspend it briefly, ignoring cancellation, until the kernel has handed
 * back the session's own ops (the idle timer, libcurl's socket watches):
 * they point into @s. Outside any task while the idle timer is armed:
 * -EBUSY, nothing freed. After coil_run() has returned (the ring is gone,
 * its timer with it) it frees at once. Returns 0. NULL is a no-op.
 */
int coil_http_session_destroy(struct coil_http_session *s);

/*
 * coil_http_request - send @req and wait for its response. Redirects
 * (301, 302, 303, 307, 308) to http:// and https:// URLs are followed
 * unless @req->no_redirects (one to any other scheme fails the request with
 * -EPROTONOSUPPORT), on both paths alike: 303, and 301/302 after a POST,
 * become a GET without a body; a streamed body cannot be resent, so its
 * 307/308 is returned as it is. Once a redirect leaves the origin of
 * @req->url (its scheme, host or port differ), @req's Authorization,
 * Cookie, Proxy-Authorization and Host headers are no longer sent. Unless
 * @req->stream, the whole body is read (up to max_body). Suspends the
 * calling task. Returns 0 with *@out set (the caller frees it with
 * coil_http_response_free()), or a negative errno from the list at the
 * top (*@out is then NULL). Any HTTP status, 4xx and 5xx included, is a
 * success here.
 */
int coil_http_request(struct coil_http_session *s,
		      const struct coil_http_request *req,
		      struct coil_http_response **out);

/*
 * coil_http_get - a GET of @url with the defaults, whole body. As
 * coil_http_request().
 */
int coil_http_get(struct coil_http_session *s, const char *url,
		  struct coil_http_response **out);

/* The status code (100..599). */
int coil_http_response_status(const struct coil_http_response *r);

/*
 * coil_http_response_header - the value of the first header named @name
 * (ASCII case-insensitive), NUL-terminated and owned by @r, or NULL.
 */
const char *coil_http_response_header(const struct coil_http_response *r,
				      const char *name);

/* The number of response headers (trailers not included). */
size_t coil_http_response_header_count(const struct coil_http_response *r);

/*
 * coil_http_response_header_at - header @i (0-based, in arrival order):
 * returns 0 and sets *@name and *@value (owned by @r), or -ERANGE.
 */
int coil_http_response_header_at(const struct coil_http_response *r,
				 size_t i, const char **name,
				 const char **value);

/*
 * coil_http_response_body - the whole body (a request without @stream):
 * its bytes (owned by @r, NUL-terminated for convenience) and *@len (may
 * be NULL). A streamed response returns NULL and 0.
 */
const char *coil_http_response_body(const struct coil_http_response *r,
				    size_t *len);

/*
 * The URL this response came from: the last one after redirects, without
 * any user:pass@ (owned by @r).
 */
const char *coil_http_response_url(const struct coil_http_response *r);

/*
 * coil_http_response_read - the next body bytes of a streamed response
 * (@stream was set): 1..@len bytes, 0 at the end of the body, or a
 * negative errno (-ECONNRESET, -EPROTO, -ETIMEDOUT when the request's
 * deadline passes, -ECANCELED, ...). After an error every call returns
 * it again. Chunked framing is removed. On a whole response it hands out
 * the body too, from the start. Suspends the calling task.
 */
ssize_t coil_http_response_read(struct coil_http_response *r, void *buf,
				size_t len);

/*
 * coil_http_response_free - free @r. A native connection whose response
 * was read to the end goes back to the pool (else it is closed); a libcurl
 * transfer still running is aborted. Never suspends; may be called after
 * coil_run() has returned. NULL is a no-op.
 */
void coil_http_response_free(struct coil_http_response *r);

/*
 * coil_http_have_curl - whether coil was built with libcurl (https:// and
 * other schemes work).
 */
bool coil_http_have_curl(void);

#ifdef __cplusplus
}
#endif

#endif /* COIL_HTTP_CLIENT_H */
