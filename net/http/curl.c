/* SPDX-License-Identifier: MIT */
/*
 * net/http/curl.c - the HTTP client's libcurl path: https://, other
 * schemes, and whatever a request sends through libcurl on purpose.
 *
 * libcurl's multi interface in its "socket" mode, driven from the ring:
 *  - CURLMOPT_SOCKETFUNCTION: every socket libcurl wants watched gets a
 *    struct csock, a heap-owned op with a callback (like net/listener.c's
 *    accept) that arms a single-shot IORING_OP_POLL_ADD with the events
 *    libcurl asked for. Its CQE calls curl_multi_socket_action() for the
 *    socket and re-arms; a change of events cancels the armed poll, whose
 *    final CQE re-arms with the new ones; CURL_POLL_REMOVE cancels it and
 *    the csock is freed when its last CQE is in.
 *  - CURLMOPT_TIMERFUNCTION: one IORING_OP_TIMEOUT (absolute, CLOCK_
 *    MONOTONIC) per session, moved with IORING_OP_TIMEOUT_UPDATE; its CQE
 *    calls curl_multi_socket_action(CURL_SOCKET_TIMEOUT) once the due time
 *    has come (an early or stale CQE just re-arms).
 *  - The requesting task waits on its transfer's wait queue; CURLMSG_DONE
 *    (read after every socket_action), the first body bytes of a streamed
 *    response, and libcurl asking for more of a streamed upload wake it.
 * libcurl calls are made from the requesting task (add, pause, remove) or
 * from the loop's op callbacks (socket_action); never from inside a libcurl
 * callback. Streamed downloads are paced with CURL_WRITEFUNC_PAUSE, and
 * streamed uploads with CURL_READFUNC_PAUSE: the task produces the next
 * piece (its body_fn may suspend) and unpauses.
 *
 * curl_global_init()/curl_global_cleanup() are reference-counted by the
 * sessions that use libcurl, so a program that destroys its sessions
 * leaves nothing of libcurl behind.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client.h"
#include "coil_config.h"

#if !COIL_HAVE_CURL

int coil__curl_request(struct coil_http_session *s,
		       const struct coil_http_request *req, const char *url,
		       const struct coil__hop *a, struct coil_http_response *r)
{
	(void)s, (void)req, (void)url, (void)a, (void)r;
	return -EPROTONOSUPPORT;
}

ssize_t coil__curl_read(struct coil_http_response *r, void *buf, size_t len)
{
	(void)r, (void)buf, (void)len;
	return -EPROTONOSUPPORT;
}

void coil__curl_xfer_free(struct coil_http_response *r)
{
	(void)r;
}

void coil__curl_session_fini(struct coil_http_session *s)
{
	(void)s;
}

bool coil_http_have_curl(void)
{
	return false;
}

#else /* COIL_HAVE_CURL */

#include <curl/curl.h>

/* A streamed download pauses libcurl when this much waits unread. */
#define STREAM_HIGH (256 * 1024)
#define UPLOAD_PIECE 16384
#define SPARE_EASY 64

struct coil__curl;

/* One socket libcurl asked us to watch. */
struct csock {
	struct coil__op op;      /* the armed poll; cb = poll_done */
	struct coil__curl *cu;
	curl_socket_t fd;
	int want;                /* CURL_POLL_IN/OUT/INOUT */
	unsigned armed_mask;     /* POLLIN/POLLOUT of the armed poll */
	bool armed;              /* a poll may still post its CQE */
	bool cancel_sent;
	bool removed;            /* libcurl is done with it: free at last CQE */
	bool in_action;          /* its socket_action is running */
};

struct coil__curl {
	struct coil_rt *rt;
	uint64_t rt_serial;
	CURLM *multi;
	struct coil__op timer;   /* the armed IORING_OP_TIMEOUT */
	struct __kernel_timespec ts, uts; /* its expiry, an update's */
	uint64_t due;            /* when libcurl wants its timeout call */
	uint64_t armed_due;
	bool timer_armed;
	bool timer_cancel_sent;
	bool dying;              /* the session is gone: free when drained */
	unsigned live_ops;       /* polls + the timer in the kernel */
	struct coil_task *drainer; /* session_fini waiting for live_ops 0 */
	CURL *spare[SPARE_EASY]; /* reset easy handles for reuse */
	unsigned nspare;
};

struct coil__xfer {
	CURL *easy;
	struct coil__curl *cu;
	struct coil_http_response *r;
	const struct coil_http_request *req; /* during coil_http_request */
	struct coil__hop hop;    /* what this hop sends */
	struct coil__wq wq;      /* the task waiting on it */
	struct curl_slist *headers;
	CURLcode result;
	int err;                 /* our own reason to abort the transfer */
	bool in_multi;
	bool done;
	bool stream;
	bool got_body;           /* the final response's body has begun */
	bool head_done;          /* the final head is in: later header
				  * callbacks are trailers, ignored */
	bool recv_paused;
	/* streamed download: bytes libcurl delivered, not yet read */
	char *sbuf;
	size_t soff, slen, scap;
	/* streamed upload */
	char *up;
	size_t up_off, up_len;
	bool up_need, up_eof;
	char errbuf[CURL_ERROR_SIZE];
};

bool coil_http_have_curl(void)
{
	return true;
}

/* ------------------------------------------------- global init, refcounted */

static pthread_mutex_t global_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned global_users;

static int global_get(void)
{
	int err = 0;

	pthread_mutex_lock(&global_lock);
	if (!global_users && curl_global_init(CURL_GLOBAL_DEFAULT))
		err = -ENOMEM;
	if (!err)
		global_users++;
	pthread_mutex_unlock(&global_lock);
	return err;
}

static void global_put(void)
{
	pthread_mutex_lock(&global_lock);
	if (!--global_users)
		curl_global_cleanup();
	pthread_mutex_unlock(&global_lock);
}

/* ------------------------------------------------------------ the ring */

static void check_done(struct coil__curl *cu);

/*
 * Whether the ring our ops live on is still there. After coil_run() has
 * returned (a response or the session freed from main(), as the API
 * allows) the runtime, its ring and every op in it are gone: nothing may
 * be queued on it, and no CQE will ever come for what was armed.
 */
static bool ring_alive(const struct coil__curl *cu)
{
	return coil__rt_is_current(cu->rt, cu->rt_serial);
}

/* @cu's ring is gone: an armed op of @cu will post no CQE; forget it. */
static void op_lost(struct coil__curl *cu, bool *armed)
{
	if (*armed) {
		*armed = false;
		cu->live_ops--;
	}
}

/* An op of ours left the kernel; the last one frees a dying session. */
static void op_gone(struct coil__curl *cu)
{
	if (--cu->live_ops || !cu->dying)
		return;
	if (cu->drainer)
		coil__wake(cu->drainer, 0);
	else
		free(cu);
}

static void action(struct coil__curl *cu, curl_socket_t fd, int ev)
{
	int running;

	curl_multi_socket_action(cu->multi, fd, ev, &running);
	check_done(cu);
}

static unsigned poll_mask(int want)
{
	return (want & CURL_POLL_IN ? POLLIN : 0) |
	       (want & CURL_POLL_OUT ? POLLOUT : 0);
}

static void sock_arm(struct csock *cs)
{
	struct io_uring_sqe *sqe = coil__get_sqe(cs->cu->rt, 1);

	if (!sqe)
		return;
	cs->armed_mask = poll_mask(cs->want);
	io_uring_prep_poll_add(sqe, cs->fd, cs->armed_mask);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)&cs->op);
	cs->cu->rt->be.inflight++;
	cs->cu->live_ops++;
	cs->armed = true;
	cs->cancel_sent = false;
}

static void cancel_op(struct coil_rt *rt, struct coil__op *op, bool timeout)
{
	struct io_uring_sqe *sqe = coil__get_sqe(rt, 1);

	if (!sqe)
		return;
	if (timeout)
		io_uring_prep_timeout_remove(sqe, (uint64_t)(uintptr_t)op, 0);
	else
		io_uring_prep_cancel64(sqe, (uint64_t)(uintptr_t)op, 0);
	/* Its own CQE is ignored: the op's final CQE is what counts. */
	io_uring_sqe_set_data64(sqe, COIL__UD_IGNORE);
}

static void sock_cancel(struct csock *cs)
{
	if (!cs->armed || cs->cancel_sent)
		return;
	cancel_op(cs->cu->rt, &cs->op, false);
	cs->cancel_sent = true;
}

static void poll_done(struct coil_rt *rt, struct coil__op *op, int res,
		      unsigned flags)
{
	struct csock *cs = COIL__CONTAINER_OF(op, struct csock, op);
	struct coil__curl *cu = cs->cu;
	int ev = 0;

	(void)rt, (void)flags;
	cs->armed = false;
	if (cs->removed || cu->dying) {
		free(cs);
		op_gone(cu);
		return;
	}
	cu->live_ops--;
	if (res > 0 || (res < 0 && res != -ECANCELED)) {
		if (res < 0)
			ev = CURL_CSELECT_ERR;
		else
			ev = (res & (POLLIN | POLLHUP | POLLERR) ?
			      CURL_CSELECT_IN : 0) |
			     (res & (POLLOUT | POLLHUP | POLLERR) ?
			      CURL_CSELECT_OUT : 0) |
			     (res & POLLERR ? CURL_CSELECT_ERR : 0);
		cs->in_action = true;
		action(cu, cs->fd, ev);
		cs->in_action = false;
		if (cs->removed) {
			free(cs);
			return;
		}
	}
	if (!cs->armed)
		sock_arm(cs);
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
		   void *socketp)
{
	struct coil__curl *cu = userp;
	struct csock *cs = socketp;

	(void)easy;
	if (!ring_alive(cu)) {
		/* Nothing to watch with: only bookkeeping and freeing. */
		if (cs)
			op_lost(cu, &cs->armed);
		if (what == CURL_POLL_REMOVE && cs) {
			curl_multi_assign(cu->multi, fd, NULL);
			free(cs);
		}
		return 0;
	}
	if (what == CURL_POLL_REMOVE) {
		if (!cs)
			return 0;
		curl_multi_assign(cu->multi, fd, NULL);
		cs->removed = true;
		if (cs->armed)
			sock_cancel(cs);
		else if (!cs->in_action)
			free(cs);
		return 0;
	}
	if (!cs) {
		cs = calloc(1, sizeof(*cs));
		if (!cs)
			return -1;
		cs->cu = cu;
		cs->fd = fd;
		cs->op.cb = poll_done;
		cs->op.what = "curl poll";
		curl_multi_assign(cu->multi, fd, cs);
	}
	cs->want = what;
	if (cs->armed && cs->armed_mask != poll_mask(what))
		sock_cancel(cs); /* its final CQE re-arms with the new mask */
	else if (!cs->armed && !cs->in_action)
		sock_arm(cs);
	return 0;
}

static void timer_arm(struct coil__curl *cu)
{
	struct io_uring_sqe *sqe = coil__get_sqe(cu->rt, 1);

	if (!sqe)
		return;
	cu->ts.tv_sec = (long long)(cu->due / 1000000000ull);
	cu->ts.tv_nsec = (long long)(cu->due % 1000000000ull);
	io_uring_prep_timeout(sqe, &cu->ts, 0, IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)&cu->timer);
	cu->rt->be.inflight++;
	cu->live_ops++;
	cu->timer_armed = true;
	cu->timer_cancel_sent = false;
	cu->armed_due = cu->due;
}

static void timer_move(struct coil__curl *cu)
{
	struct io_uring_sqe *sqe;

	if (cu->timer_cancel_sent || cu->armed_due == cu->due)
		return;
	sqe = coil__get_sqe(cu->rt, 1);
	if (!sqe)
		return;
	cu->uts.tv_sec = (long long)(cu->due / 1000000000ull);
	cu->uts.tv_nsec = (long long)(cu->due % 1000000000ull);
	io_uring_prep_timeout_update(sqe, &cu->uts,
				     (uint64_t)(uintptr_t)&cu->timer,
				     IORING_TIMEOUT_ABS);
	io_uring_sqe_set_data64(sqe, COIL__UD_IGNORE);
	cu->armed_due = cu->due;
}

static int timer_cb(CURLM *multi, long ms, void *userp)
{
	struct coil__curl *cu = userp;

	(void)multi;
	if (!ring_alive(cu)) {
		op_lost(cu, &cu->timer_armed);
		cu->due = COIL__NEVER;
		return 0;
	}
	if (ms < 0) {
		cu->due = COIL__NEVER;
		if (cu->timer_armed && !cu->timer_cancel_sent) {
			cancel_op(cu->rt, &cu->timer, true);
			cu->timer_cancel_sent = true;
		}
		return 0;
	}
	cu->due = coil__now() + (uint64_t)ms * 1000000ull;
	if (!cu->timer_armed)
		timer_arm(cu);
	else
		timer_move(cu);
	return 0;
}

static void timer_done(struct coil_rt *rt, struct coil__op *op, int res,
		       unsigned flags)
{
	struct coil__curl *cu = COIL__CONTAINER_OF(op, struct coil__curl,
						   timer);

	(void)rt, (void)res, (void)flags;
	cu->timer_armed = false;
	if (cu->dying) {
		op_gone(cu);
		return;
	}
	cu->live_ops--;
	if (cu->due == COIL__NEVER)
		return;
	if (coil__now() >= cu->due) {
		cu->due = COIL__NEVER; /* libcurl sets the next one */
		action(cu, CURL_SOCKET_TIMEOUT, 0);
	}
	if (cu->due != COIL__NEVER && !cu->timer_armed)
		timer_arm(cu);
}

/* --------------------------------------------------------- transfers */

static void xfer_wake(struct coil__xfer *x)
{
	coil__wq_wake_one(&x->wq, 0);
}

static void check_done(struct coil__curl *cu)
{
	struct coil__xfer *x;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(cu->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		x = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (!x)
			continue;
		x->done = true;
		x->result = m->data.result;
		xfer_wake(x);
	}
}

static struct coil__curl *curl_get(struct coil_http_session *s, int *err)
{
	struct coil__curl *cu = s->curl;

	if (cu)
		return cu;
	*err = global_get();
	if (*err)
		return NULL;
	cu = calloc(1, sizeof(*cu));
	if (cu)
		cu->multi = curl_multi_init();
	if (!cu || !cu->multi) {
		free(cu);
		global_put();
		*err = -ENOMEM;
		return NULL;
	}
	cu->rt = s->rt;
	cu->rt_serial = s->rt_serial;
	cu->due = COIL__NEVER;
	cu->timer.cb = timer_done;
	cu->timer.what = "curl timer";
	curl_multi_setopt(cu->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(cu->multi, CURLMOPT_SOCKETDATA, cu);
	curl_multi_setopt(cu->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(cu->multi, CURLMOPT_TIMERDATA, cu);
	curl_multi_setopt(cu->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
			  (long)s->opts.max_total);
	curl_multi_setopt(cu->multi, CURLMOPT_MAXCONNECTS,
			  (long)s->opts.max_total);
	curl_multi_setopt(cu->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)s->opts.max_per_host);
	s->curl = cu;
	return cu;
}

void coil__curl_session_fini(struct coil_http_session *s)
{
	struct coil__curl *cu = s->curl;
	unsigned i;

	if (!cu)
		return;
	s->curl = NULL;
	for (i = 0; i < cu->nspare; i++)
		curl_easy_cleanup(cu->spare[i]);
	/* Closing the cached connections REMOVEs their sockets. */
	curl_multi_cleanup(cu->multi);
	cu->multi = NULL;
	if (!ring_alive(cu))
		op_lost(cu, &cu->timer_armed);
	if (cu->timer_armed && !cu->timer_cancel_sent)
		cancel_op(cu->rt, &cu->timer, true);
	cu->dying = true;
	global_put();
	/* A dead ring posts no CQE: what is left is freed now. */
	if (!cu->live_ops || !ring_alive(cu)) {
		free(cu);
		return;
	}
	cu->drainer = coil__running();
	if (!cu->drainer)
		return; /* the last CQE frees it */
	while (cu->live_ops) {
		coil__suspend(cu->drainer, "curl drain", NULL, cu);
	}
	free(cu);
}

/* ----------------------------------------------------- libcurl callbacks */

/*
 * A response head is complete. A redirect client.c will follow is read
 * whole even when the request streams, as on the native path: its
 * transfer is then over when coil__curl_request() returns.
 */
static void head_end(struct coil__xfer *x)
{
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	x->r->status = (int)status;
	/*
	 * libcurl follows no redirect, and a proxy's CONNECT answer is kept
	 * from us (CURLOPT_SUPPRESS_CONNECT_HEADERS): anything but a 1xx is
	 * the final head.
	 */
	x->head_done = status >= 200;
	if (coil__httpc_will_follow(x->r, &x->hop))
		x->stream = false;
}

static size_t header_cb(char *p, size_t size, size_t n, void *ud)
{
	struct coil__xfer *x = ud;
	size_t len = size * n, nl, vl;
	const char *colon, *v;

	/*
	 * Trailers are not headers (coil_http_response_header_count()), and
	 * they arrive while the caller of a streamed response may hold
	 * pointers into the header block: adding them would rebuild it.
	 */
	if (x->head_done)
		return len;
	if (len >= 5 && !strncmp(p, "HTTP/", 5)) {
		coil__httpc_headers_clear(x->r); /* a new response begins */
		return len;
	}
	if (len <= 2 && (*p == '\r' || *p == '\n')) {
		head_end(x);
		return len;
	}
	colon = memchr(p, ':', len);
	if (!colon)
		return len;
	nl = (size_t)(colon - p);
	v = colon + 1;
	vl = len - nl - 1;
	while (vl && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
		      v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	if (coil__httpc_header_add(x->r, p, nl, v, vl)) {
		x->err = -ENOMEM;
		return 0;
	}
	return len;
}

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
	struct coil__xfer *x = ud;
	size_t len = size * n, cap;
	char *b;
	int err;

	if (!x->stream) {
		err = coil__httpc_body_append(x->r, p, len);
		if (err) {
			x->err = err;
			return 0;
		}
		return len;
	}
	if (x->slen - x->soff && x->slen - x->soff + len > STREAM_HIGH) {
		x->recv_paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (x->soff) {
		memmove(x->sbuf, x->sbuf + x->soff, x->slen - x->soff);
		x->slen -= x->soff;
		x->soff = 0;
	}
	if (x->slen + len > x->scap) {
		cap = x->scap ? x->scap : 16384;
		while (cap < x->slen + len)
			cap *= 2;
		b = realloc(x->sbuf, cap);
		if (!b) {
			x->err = -ENOMEM;
			return 0;
		}
		x->sbuf = b;
		x->scap = cap;
	}
	memcpy(x->sbuf + x->slen, p, len);
	x->slen += len;
	x->got_body = true;
	xfer_wake(x);
	return len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *ud)
{
	struct coil__xfer *x = ud;
	size_t len = size * n, k = x->up_len - x->up_off;

	if (x->err)
		return CURL_READFUNC_ABORT;
	if (k) {
		k = k < len ? k : len;
		memcpy(buf, x->up + x->up_off, k);
		x->up_off += k;
		return k;
	}
	if (x->up_eof)
		return 0;
	x->up_need = true;
	xfer_wake(x);
	return CURL_READFUNC_PAUSE;
}

/* ------------------------------------------------------------ requests */

static int map_curl(const struct coil__xfer *x, CURLcode c)
{
	if (x->err)
		return x->err;
	switch (c) {
	case CURLE_OK:
		return 0;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -COIL_ENONAME;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EPROTONOSUPPORT;
	case CURLE_URL_MALFORMAT:
		return -EINVAL;
	case CURLE_TOO_MANY_REDIRECTS:
		return -ELOOP;
	case CURLE_FILESIZE_EXCEEDED:
		return -EFBIG;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_PEER_FAILED_VERIFICATION:
		return -EKEYREJECTED;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static CURL *easy_get(struct coil__curl *cu)
{
	if (cu->nspare)
		return cu->spare[--cu->nspare];
	return curl_easy_init();
}

static void easy_put(struct coil__curl *cu, CURL *e)
{
	if (cu->nspare < SPARE_EASY) {
		curl_easy_reset(e);
		cu->spare[cu->nspare++] = e;
	} else {
		curl_easy_cleanup(e);
	}
}

static int set_headers(struct coil__xfer *x,
		       const struct coil_http_request *req)
{
	struct curl_slist *l;
	char *line;
	size_t i;

	for (i = 0; i < req->nheaders; i++) {
		const struct coil_http_header *h = &req->headers[i];

		/* coil_http_request() has checked them. */
		if (!coil__httpc_header_sent(&x->hop, h->name))
			continue;
		if (asprintf(&line, "%s: %s", h->name, h->value) < 0)
			return -ENOMEM;
		l = curl_slist_append(x->headers, line);
		free(line);
		if (!l)
			return -ENOMEM;
		x->headers = l;
	}
	/* Streamed uploads of unknown size go chunked; no 100-continue. */
	l = curl_slist_append(x->headers, "Expect:");
	if (!l)
		return -ENOMEM;
	x->headers = l;
	return 0;
}

/*
 * The method and body of this hop (x->hop), not of the request: a 303
 * makes a POST's next hop a GET without a body.
 */
static void set_method(struct coil__xfer *x,
		       const struct coil_http_request *req)
{
	const struct coil__hop *a = &x->hop;
	CURL *e = x->easy;

	if (!strcmp(a->method, "HEAD"))
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(a->method, "GET") && strcmp(a->method, "POST"))
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, a->method);
	if (a->has_body && !a->body) {
		curl_easy_setopt(e, CURLOPT_POST, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, x);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)req->body_size);
	} else if (a->has_body || !strcmp(a->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(a->body ? a->body_len : 0));
		curl_easy_setopt(e, CURLOPT_POSTFIELDS,
				 a->body ? a->body : "");
	}
}

/*
 * The schemes a transfer may use: http and https, plus the scheme of the
 * URL the caller asked for (coil_http_request() hands any scheme libcurl
 * speaks to it). Redirects lead to http or https only, whatever the first
 * URL was: a server must not be able to send the client to file:// or
 * another scheme that reaches local resources. Returns 0, or
 * -EPROTONOSUPPORT when libcurl does not speak @url's scheme.
 */
static int set_protocols(CURL *e, const char *url)
{
	size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyz"
			  "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.");
	char list[64];

	if (n && n < 32 && url[n] == ':')
		snprintf(list, sizeof(list), "http,https,%.*s", (int)n, url);
	else
		snprintf(list, sizeof(list), "http,https");
	if (curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, list) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") !=
		    CURLE_OK)
		return -EPROTONOSUPPORT;
	return 0;
}

static int setup(struct coil_http_session *s, struct coil__xfer *x,
		 const struct coil_http_request *req, const char *url)
{
	CURL *e = x->easy;
	int err = set_headers(x, req);

	if (!err)
		err = set_protocols(e, url);
	if (err)
		return err;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, s->user_agent);
	/*
	 * No CURLOPT_FOLLOWLOCATION: client.c follows redirects hop by hop
	 * for both paths. libcurl's own following would send a user-set Host
	 * and Proxy-Authorization to whatever origin a server names.
	 */
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(s->opts.connect_timeout_ns / 1000000));
	if (s->opts.idle_timeout_ns > 0)
		curl_easy_setopt(e, CURLOPT_MAXAGE_CONN,
				 (long)(s->opts.idle_timeout_ns / 1000000000 +
					1));
	else
		curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
	if (!req->stream)
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
				 (curl_off_t)x->r->max_body);
	if (s->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
	if (s->opts.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	set_method(x, req);
	return 0;
}

/* Fill the upload buffer from body_fn (the task's turn) and unpause. */
static int produce(struct coil__xfer *x)
{
	ssize_t n;

	x->up_need = false;
	if (!x->up && !(x->up = malloc(UPLOAD_PIECE)))
		return -ENOMEM;
	n = x->req->body_fn(x->req->body_arg, x->up, UPLOAD_PIECE);
	if (n < 0)
		return (int)n;
	x->up_off = 0;
	x->up_len = (size_t)n;
	x->up_eof = n == 0;
	curl_easy_pause(x->easy, x->recv_paused ? CURLPAUSE_RECV :
						 CURLPAUSE_CONT);
	return 0;
}

/* Suspend until the transfer has news (or the deadline, or a cancel). */
static int xfer_wait(struct coil__xfer *x)
{
	struct coil__wq_node n = { 0 };
	int err;

	if (x->up_need && x->req)
		return produce(x);
	n.task = coil__running();
	err = coil__check_cancel(n.task);
	if (err)
		return err;
	err = coil__wq_wait(&x->wq, &n, "http (curl)", -1);
	return err > 0 ? 0 : err;
}

static void finish(struct coil__xfer *x)
{
	struct coil_http_response *r = x->r;
	char *url = NULL, *u;
	long status = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
	r->status = (int)status;
	/* libcurl's spelling of it, still without user:pass@. */
	u = url ? coil__url_without_userinfo(url) : NULL;
	if (u && (!r->url || strcmp(u, r->url))) {
		free(r->url);
		r->url = u;
	} else {
		free(u);
	}
}

int coil__curl_request(struct coil_http_session *s,
		       const struct coil_http_request *req, const char *url,
		       const struct coil__hop *a, struct coil_http_response *r)
{
	struct coil__xfer *x;
	struct coil__curl *cu;
	int err = 0;

	cu = curl_get(s, &err);
	if (!cu)
		return err;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->cu = cu;
	x->r = r;
	x->req = req;
	x->hop = *a;
	x->stream = req->stream;
	r->xfer = x;
	x->easy = easy_get(cu);
	if (!x->easy)
		return -ENOMEM;
	err = setup(s, x, req, url);
	if (err)
		return err;
	if (curl_multi_add_handle(cu->multi, x->easy) != CURLM_OK)
		return -ENOMEM;
	x->in_multi = true;
	while (!x->done && !(x->stream && x->got_body && !x->up_need)) {
		err = xfer_wait(x);
		if (err) {
			x->err = err;
			return err;
		}
	}
	x->req = NULL;
	if (x->done) {
		err = map_curl(x, x->result);
		if (err)
			return err;
	}
	finish(x);
	r->streaming = x->stream;
	if (!x->stream) {
		coil__curl_xfer_free(r);
		if (!r->body)
			err = coil__httpc_body_append(r, "", 0);
	}
	return err;
}

ssize_t coil__curl_read(struct coil_http_response *r, void *buf, size_t len)
{
	struct coil__xfer *x = r->xfer;
	size_t k;
	int err;

	for (;;) {
		k = x->slen - x->soff;
		if (k) {
			k = k < len ? k : len;
			memcpy(buf, x->sbuf + x->soff, k);
			x->soff += k;
			if (x->recv_paused && x->slen - x->soff < STREAM_HIGH) {
				x->recv_paused = false;
				curl_easy_pause(x->easy, CURLPAUSE_CONT);
			}
			return (ssize_t)k;
		}
		if (x->recv_paused) {
			x->recv_paused = false;
			curl_easy_pause(x->easy, CURLPAUSE_CONT);
			continue;
		}
		if (x->done)
			return map_curl(x, x->result);
		err = xfer_wait(x);
		if (err)
			return err;
	}
}

void coil__curl_xfer_free(struct coil_http_response *r)
{
	struct coil__xfer *x = r->xfer;

	if (!x)
		return;
	r->xfer = NULL;
	if (x->in_multi)
		curl_multi_remove_handle(x->cu->multi, x->easy);
	if (x->easy)
		easy_put(x->cu, x->easy);
	curl_slist_free_all(x->headers);
	free(x->sbuf);
	free(x->up);
	free(x);
}

#endif /* COIL_HAVE_CURL */
