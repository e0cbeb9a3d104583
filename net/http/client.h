/* SPDX-License-Identifier: MIT */
/*
 * net/http/client.h - what the HTTP client's files share: the session, the
 * response object, URLs, and the libcurl path's entry points (curl.c).
 * Internal (coil__ prefix, hidden).
 */
#ifndef COIL_NET_HTTP_CLIENT_H
#define COIL_NET_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coil/http_client.h"
#include "internal.h"
#include "parser.h"

#pragma GCC visibility push(hidden)

/* Field lines a response head (and its trailers) may carry. */
#define COIL__HTTPC_MAX_FIELDS 100

/* A parsed absolute URL; every string points into @buf. */
struct coil__url {
	char *buf;          /* one allocation holding the strings below */
	const char *scheme; /* lower case: "http", "https", ... */
	const char *host;   /* without IPv6 brackets */
	const char *hostport; /* as the Host header wants it */
	const char *target; /* path and query, "/" at least; no fragment */
	uint16_t port;      /* explicit, or the scheme's default (0: none) */
	bool userinfo;      /* user:pass@ was present (native path: no) */
};

/*
 * coil__url_parse - split @url. Returns 0 (free with coil__url_fini()),
 * -EINVAL (not absolute, no host, bad port) or -ENOMEM.
 */
int coil__url_parse(const char *url, struct coil__url *u);
void coil__url_fini(struct coil__url *u);
/*
 * coil__url_resolve - the absolute URL that @ref (a Location value, @rlen
 * bytes) names relative to @base. Returns a malloc'ed string or NULL.
 */
char *coil__url_resolve(const char *base, const char *ref, size_t rlen);

/*
 * coil__url_without_userinfo - @url without the user:pass@ of its
 * authority (the URL a response reports: credentials end up in logs).
 * Returns a malloc'ed string or NULL.
 */
char *coil__url_without_userinfo(const char *url);

/* One pooled native connection (client.c). */
struct coil__conn;

/* Per-host pool state (client.c). */
struct coil__host;

/* The libcurl side of a session (curl.c). */
struct coil__curl;
/* One libcurl transfer (curl.c). */
struct coil__xfer;

struct coil_http_session {
	struct coil_rt *rt;                /* the owning runtime */
	uint64_t rt_serial;                /* and its serial (see internal.h) */
	struct coil_http_session_opts opts; /* with defaults filled in */
	char *user_agent;                  /* owned copies of opts' strings */
	char *ca_file;
	struct coil__host *hosts;          /* every host seen, a list */
	unsigned open;                     /* native connections open */
	struct coil__wq waiters;           /* tasks waiting for max_total */
	unsigned busy;                     /* requests + responses alive */
	uint64_t last_sweep;               /* last idle-expiry sweep */
	struct coil__curl *curl;           /* NULL until first needed */
	/*
	 * The idle timer: an IORING_OP_TIMEOUT armed, while any connection
	 * sits idle, for the moment the oldest one expires, so that idle
	 * connections are closed on time even when the pool is never used
	 * again. Its CQE runs idle_timer_done() in the loop (no task).
	 */
	struct coil__op idle_op;
	struct __kernel_timespec idle_ts;
	bool idle_armed;                   /* its CQE is still to come */
	struct coil_task *idle_drainer;    /* destroy(), waiting for it */
};

struct coil_http_response {
	struct coil_http_session *s;
	int status;
	char *url;             /* the URL it answers (after redirects),
				* without user:pass@ */
	char *hdr_block;       /* "name\0value\0" pairs */
	const char **hdrs;     /* 2 * nhdrs pointers into hdr_block */
	size_t nhdrs;
	char *body;            /* whole body (NUL-terminated), or NULL */
	size_t body_len, body_cap;
	size_t read_pos;       /* coil_http_response_read() on a whole body */
	uint64_t max_body;     /* the request's limit */
	uint64_t deadline;     /* absolute; COIL__NEVER: none */
	int err;               /* sticky streaming error */
	bool streaming;        /* body left to coil_http_response_read() */
	bool done;             /* the body has been read to its end */
	bool keep_alive;       /* native: the connection may be reused */
	/* Native streaming: the connection and where its body stands. */
	struct coil__conn *conn;
	struct coil__http_parser parser;
	size_t pend_off, pend_len; /* decoded bytes not yet handed out */
	/* libcurl: the transfer. */
	struct coil__xfer *xfer;
};

/* Grow @r's body by @len bytes of @data; -EFBIG over max_body. */
int coil__httpc_body_append(struct coil_http_response *r, const char *data,
			    size_t len);
/*
 * Add one header to @r from (@name, @nlen) and (@value, @vlen): the block
 * is rebuilt. Returns 0 or -ENOMEM.
 */
int coil__httpc_header_add(struct coil_http_response *r, const char *name,
			   size_t nlen, const char *value, size_t vlen);
/* Drop every header of @r (curl: a new response head begins). */
void coil__httpc_headers_clear(struct coil_http_response *r);

/*
 * What one hop of a request sends: the request's method and body at
 * first, a redirect may change them (303: a GET without a body).
 */
struct coil__hop {
	const char *method;
	const void *body;      /* NULL with body_fn: streamed */
	size_t body_len;
	bool has_body;
	bool head;             /* HEAD: the response has no body */
	bool whole;            /* read the body before returning */
	bool follow;           /* redirects are followed */
	bool cross_origin;     /* a redirect left the request's origin:
				* its credentials and Host stay behind */
};

/* Whether @a sends the request header @name (cross-origin hops do not
 * send credentials or a user-set Host). */
bool coil__httpc_header_sent(const struct coil__hop *a, const char *name);
/* Whether @r (status and headers in) is a redirect @a will follow. */
bool coil__httpc_will_follow(const struct coil_http_response *r,
			     const struct coil__hop *a);

/*
 * The libcurl path. coil__curl_request() performs one hop @a of @req at
 * @url (libcurl follows no redirect: client.c does) and fills @r
 * (allocated by the caller, s and deadline set). Returns 0 or a negative
 * errno; -EPROTONOSUPPORT when coil was built without libcurl.
 */
int coil__curl_request(struct coil_http_session *s,
		       const struct coil_http_request *req, const char *url,
		       const struct coil__hop *a, struct coil_http_response *r);
/* Stream the body of a libcurl response. */
ssize_t coil__curl_read(struct coil_http_response *r, void *buf, size_t len);
/* Abort/free the transfer of @r (never suspends). */
void coil__curl_xfer_free(struct coil_http_response *r);
/*
 * Tear the session's libcurl state down. From a task it waits for the
 * ring to give back the polls and the timer it cancels (suspends).
 */
void coil__curl_session_fini(struct coil_http_session *s);

#pragma GCC visibility pop

#endif /* COIL_NET_HTTP_CLIENT_H */
