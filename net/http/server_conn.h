/* SPDX-License-Identifier: MIT */
/*
 * net/http/server_conn.h - what the HTTP server's files share: the server
 * and connection structs, and the send path the request side needs (a
 * flush before waiting for input, "100 Continue"). Internal (coil__
 * prefix, hidden).
 */
#ifndef COIL_NET_HTTP_SERVER_CONN_H
#define COIL_NET_HTTP_SERVER_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coil/http_server.h"
#include "parser.h"

#pragma GCC visibility push(hidden)

/* "No deadline" for a connection's wait. */
#define COIL__HTTP_NEVER UINT64_MAX

/* Responses gathered for pipelined requests go out past this many bytes. */
#define COIL__HTTP_FLUSH_AT 16384

/* After the handler: at most this much unread body is dropped to keep the
 * connection; with more left, it closes. */
#define COIL__HTTP_DRAIN_BYTES (256u * 1024)

struct coil__http_conn;

/* One coil_http_serve() call. Lives on the serving task's stack. */
struct coil__http_server {
	struct coil_http_server_opts o;	/* options, defaults filled in */
	coil_http_handler handler;
	void *userdata;
	struct coil__http_limits lim;	/* the parser's limits, from @o */
	size_t head_room;		/* receive buffer that holds any head */
	struct coil__http_conn *conns;	/* every connection not yet joined */
	uint64_t live;			/* connection tasks not finished */
	uint64_t done;			/* finished tasks waiting to be joined */
	uint64_t now;			/* coil_now() at the last sweep */
	uint64_t tick;			/* ns between sweeps */
	bool stopping;			/* the listener closed, or cancelled */
	char server_line[128];		/* "Server: NAME\r\n", or empty */
	size_t server_len;
	char date_line[48];		/* "Date: <IMF-fixdate>\r\n", or empty */
	size_t date_len;
};

/* Where a response stands. */
enum coil__http_res_state {
	COIL__HTTP_RES_NONE,	/* nothing built: status, fields may change */
	COIL__HTTP_RES_STREAM,	/* head sent, chunks (or raw bytes) follow */
	COIL__HTTP_RES_DONE,	/* complete (maybe still in wbuf) */
};

struct coil_http_req {
	struct coil__http_conn *c;
};

struct coil_http_res {
	struct coil__http_conn *c;
};

/*
 * One connection: its task, buffers, parser and the request/response being
 * served. Heap-allocated by the accept loop with room for the field array
 * after it; freed after the task is joined.
 */
struct coil__http_conn {
	struct coil__http_server *srv;
	struct coil__http_conn *prev, *next; /* in srv->conns */
	struct coil_task *task;	  /* joinable handle, joined by the server */
	int fd;			  /* the socket, closed by the task */
	bool finished;		  /* the task has returned: join it */
	bool idle;		  /* waiting for a request's first byte */
	bool timed_out;		  /* the sweeper cancelled it (deadline) */
	uint64_t deadline;	  /* when the current wait ends, or NEVER */

	/* Input: rbuf[rpos..rlen) is unconsumed; the current head is
	 * rbuf[hstart..hend) and stays in place until the handler returns. */
	char *rbuf;
	size_t rcap, rpos, rlen;
	size_t hstart, hend;
	/* The block the head's slices point into once rbuf has grown while
	 * the handler ran; freed after the handler returns (make_room()). */
	char *hold;
	struct coil__http_parser p;
	struct coil__http_head head;
	int body_err;		  /* first body error, kept for later calls */
	bool continue_sent;	  /* "100 Continue" went out (or not needed) */
	bool body_touched;	  /* the handler read from the body */

	/* Output: responses not yet sent, and the handler's fields. */
	char *wbuf;
	size_t wlen, wcap;
	char *hbuf;
	size_t hlen, hcap;
	int status;
	enum coil__http_res_state res_state;
	bool keep_alive;	  /* decided when the head is built */
	bool close_asked;	  /* coil_http_res_close() */
	bool name_keep_alive;	  /* the handler set "Connection: keep-alive" */
	bool raw_stream;	  /* streaming to HTTP/1.0: no chunk framing */
	bool broken;		  /* a send failed: close after the handler */
	unsigned requests;	  /* requests served on this connection */

	struct coil_http_req req;
	struct coil_http_res res;
	struct coil__http_field fields[]; /* the parser's field storage */
};

/* A deadline @timeout_ns from the server's coarse clock (< 0: never). */
uint64_t coil__http_deadline(const struct coil__http_server *srv,
			     int64_t timeout_ns);

/*
 * Send everything in c->wbuf (with the send timeout per progress).
 * Returns 0 or a negative errno; on error c->broken is set.
 */
int coil__http_flush(struct coil__http_conn *c);

/*
 * Send c->wbuf and then @len bytes at @data (sendmsg with two iovecs).
 * Returns 0 or a negative errno (c->broken set).
 */
int coil__http_send2(struct coil__http_conn *c, const void *data, size_t len);

/* Reset the response side for a new request. */
void coil__http_res_reset(struct coil__http_conn *c);

/*
 * Finish the response after the handler returned @ret: send a default or
 * error response if none was started, end a stream. Returns 0 or a
 * negative errno (the connection must then close).
 */
int coil__http_res_finish(struct coil__http_conn *c, int ret);

/*
 * Answer a request the parser rejected (@status) with "Connection: close"
 * and an empty body, into c->wbuf. Returns 0 or -ENOMEM.
 */
int coil__http_res_error(struct coil__http_conn *c, int status);

/* Append @len bytes to c->wbuf, growing it. Returns 0 or -ENOMEM. */
int coil__http_wbuf_put(struct coil__http_conn *c, const void *p, size_t len);

#pragma GCC visibility pop

#endif /* COIL_NET_HTTP_SERVER_CONN_H */
