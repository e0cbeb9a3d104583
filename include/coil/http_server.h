/* SPDX-License-Identifier: MIT */
/*
 * coil/http_server.h - an HTTP/1.1 server: one task per connection, one
 * handler call per request, keep-alive and pipelining, chunked responses,
 * files sent with splice, request body limits, and deadlines that drop
 * slow or idle clients.
 *
 *   static int hello(struct coil_http_req *req, struct coil_http_res *res,
 *                    void *userdata)
 *   {
 *           coil_http_res_header(res, "Content-Type", "text/plain");
 *           return coil_http_res_send(res, "Hello, world!\n", 14);
 *   }
 *   ...
 *   coil_tcp_listen(NULL, 8080, NULL, &l);
 *   coil_http_serve(l, hello, NULL, NULL);   // until l is closed
 *
 * How a connection is served. Requests are parsed in place in the
 * connection's receive buffer by coil's strict parser (net/http/parser.h):
 * the method, target and header values the handler sees point into it and
 * are valid until the handler returns. A request the parser rejects is
 * answered with its status (400, 413 body too large, 414 request line too
 * long, 431 header fields too large, 501 unknown transfer coding, 505
 * version) and "Connection: close", and the connection is closed; every
 * other connection is served on as before.
 *
 * Responses are built in a per-connection buffer: status line, Server,
 * Date (formatted once a second), the handler's fields, the framing
 * (Content-Length or Transfer-Encoding: chunked) and Connection when it is
 * needed, then the body, sent with one send. When more pipelined requests
 * are already buffered, small responses wait and go out together (before
 * the connection next waits for input, or once 16 KiB have gathered): one
 * send for a batch, the form pipelined benchmarks reward. The price: a
 * handler that itself waits long (a long poll) holds back the answers to
 * the requests pipelined before it until it responds.
 *
 * Deadlines cost no system call per request: each connection records when
 * its current wait must end, and a sweeper task of the server, waking
 * every 1/8 of the shortest timeout (10 ms to 1 s), cancels the
 * connections past their deadline (which closes them). A client that
 * trickles a head byte by byte (slowloris) is dropped when the header
 * timeout passes, one that stops reading its response when the send
 * timeout passes, one that trickles a body when a body receive makes no
 * progress for the read timeout. A body the handler left unread is read
 * and dropped after it returns, to keep the connection, only if at most
 * 256 KiB of it is left and it all comes within one read timeout; else
 * the connection is closed (after the response).
 *
 * Handlers run on the connection's task and may call anything that
 * suspends. Every function below that sends or receives may suspend and
 * must be called only from the handler call it was given to (the request
 * and response objects are the connection's and are reused for the next
 * request). Errors are negative errno values.
 */
#ifndef COIL_HTTP_SERVER_H
#define COIL_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct coil_listener;

/* One request being served (opaque; valid during the handler call). */
struct coil_http_req;
/* Its response (opaque; valid during the handler call). */
struct coil_http_res;

/*
 * A request handler. It runs on the connection's task, may suspend, and
 * answers with one of coil_http_res_send(), coil_http_res_sendfile() or
 * coil_http_res_write() (+ coil_http_res_end()). If it returns without
 * having started a response, the response set up so far is sent with an
 * empty body when it returns >= 0, and a 500 (400/413 when reading the
 * body failed for that reason) when it returns < 0. A chunked response it
 * started and did not end is ended when it returns >= 0; when it returns
 * < 0 the connection is closed without ending it (the client sees a
 * truncated body). Whatever it returns, the server goes on serving.
 */
typedef int (*coil_http_handler)(struct coil_http_req *req,
				 struct coil_http_res *res, void *userdata);

/*
 * Server options. Zero fields take the default in brackets; a negative
 * timeout means none.
 */
struct coil_http_server_opts {
	/* Request line plus header fields, bytes; a request line over
	 * max_head or 8 KiB gets 414, a longer head or field line 431.
	 * [16 KiB] */
	uint32_t max_head;
	uint32_t max_fields;	   /* header fields per request; 431 [100] */
	/* Request body bytes, decoded; a larger Content-Length is answered
	 * 413 before the handler runs, a chunked body that grows past it
	 * makes the body calls fail with -EMSGSIZE. UINT64_MAX: no limit.
	 * [1 MiB] */
	uint64_t max_body;
	int64_t header_timeout_ns; /* first byte of a head to its end [10 s] */
	int64_t idle_timeout_ns;   /* keep-alive wait for a next request [60 s] */
	int64_t read_timeout_ns;   /* each body receive must progress [10 s] */
	int64_t send_timeout_ns;   /* each send must progress [10 s] */
	/* After coil_http_serve() sees its listener closed: how long busy
	 * connections may finish before they are cancelled. [5 s] */
	int64_t shutdown_grace_ns;
	uint32_t max_requests;	   /* per connection, then close [no limit] */
	size_t stack_size;	   /* connection tasks' stacks [runtime's] */
	/* The Server field's value, NULL: no Server field. Not copied: it
	 * must outlive coil_http_serve(). */
	const char *server_name;
	bool no_date;		   /* do not send a Date field */
};

/*
 * coil_http_serve - accept connections on @l and serve each on a task of
 * its own, calling @handler(req, res, @userdata) for every request, until
 * @l is closed (by another task: coil_listener_close()) or the calling
 * task is cancelled. @opts may be NULL (defaults); it is copied.
 *
 * After @l is closed, idle keep-alive connections are closed at once and
 * busy ones finish their current request (answered with "Connection:
 * close") within opts->shutdown_grace_ns, after which they are cancelled;
 * when the caller is cancelled, every connection is cancelled. Either way
 * every connection task has finished and every connection is closed when
 * this returns, so @userdata may be freed then. @l is not closed by this
 * call, and must not be used by the caller after it closed it.
 *
 * Suspends; must run in a task. Returns 0 once @l was closed, -ECANCELED
 * when the caller was cancelled, -EINVAL (@l or @handler NULL, an option
 * out of range), -ENOMEM, -EPERM (not in a task), or an accept error other
 * than the listener's closing.
 */
int coil_http_serve(struct coil_listener *l, coil_http_handler handler,
		    void *userdata, const struct coil_http_server_opts *opts);

/* ------------------------------------------------------------- requests */

/*
 * The method token as sent (case kept) and the request target as sent
 * (origin form "/path?query", or absolute, authority or "*" form). Not
 * NUL-terminated: the length goes to *@len. Valid until the handler
 * returns. Never suspend.
 */
const char *coil_http_req_method(const struct coil_http_req *req,
				 size_t *len);
const char *coil_http_req_target(const struct coil_http_req *req,
				 size_t *len);

/* Whether the method is @method (exact, case-sensitive, as RFC 9110). */
bool coil_http_req_method_is(const struct coil_http_req *req,
			     const char *method);

/* The request's HTTP/1.<minor> version: 0 or 1. */
int coil_http_req_minor(const struct coil_http_req *req);

/*
 * coil_http_req_header - the value of the first header field named @name
 * (ASCII case-insensitive), without surrounding whitespace, not
 * NUL-terminated, with its length in *@len (may be NULL); NULL when the
 * request has none. Valid until the handler returns. Never suspends.
 */
const char *coil_http_req_header(const struct coil_http_req *req,
				 const char *name, size_t *len);

/* The number of header fields, in the order they were sent. */
size_t coil_http_req_header_count(const struct coil_http_req *req);

/*
 * coil_http_req_header_at - field @i (0-based): name and value slices as
 * for coil_http_req_header(). Returns 0, or -ERANGE when @i is past the
 * last field.
 */
int coil_http_req_header_at(const struct coil_http_req *req, size_t i,
			    const char **name, size_t *name_len,
			    const char **value, size_t *value_len);

/*
 * The declared body length: >= 0 from Content-Length (0 also when the
 * request has no body), -1 for a chunked body (length unknown).
 */
int64_t coil_http_req_content_length(const struct coil_http_req *req);

/*
 * Whether the connection may carry another request after this one (the
 * client's view: HTTP/1.1 without "Connection: close", or HTTP/1.0 with
 * "Connection: keep-alive"). The server may still close it.
 */
bool coil_http_req_keep_alive(const struct coil_http_req *req);

/* The connection's socket (e.g. for getpeername); owned by the server. */
int coil_http_req_fd(const struct coil_http_req *req);

/*
 * coil_http_req_read - stream the request body: copies up to @len decoded
 * body bytes (chunk framing removed) into @buf. Returns the count (> 0),
 * 0 at the end of the body (at once for a request without one), or
 * -EMSGSIZE (the body grew past opts->max_body), -EPROTO (bad chunk
 * framing), -ECONNRESET (the client closed or reset the connection before
 * the end), -ECANCELED (a read made no progress for the read timeout, or
 * the server is shutting down). Sends "100 Continue" first when the client
 * asked for it. May suspend.
 */
ssize_t coil_http_req_read(struct coil_http_req *req, void *buf, size_t len);

/*
 * coil_http_req_body - the rest of the request body as one contiguous run,
 * decoded, in the connection's buffer: *@data points at it (valid until
 * the handler returns; do not free it). At most @max bytes, and never
 * more than opts->max_body. Returns the length (0: no body), or -EMSGSIZE
 * (longer than @max: the response should be 413), and the errors of
 * coil_http_req_read(). May suspend.
 */
ssize_t coil_http_req_body(struct coil_http_req *req, const void **data,
			   size_t max);

/* ------------------------------------------------------------ responses */

/*
 * coil_http_res_status - the final status code (200..599; default 200);
 * the reason phrase is the standard one. Returns 0, or
 * -EINVAL (out of range), -EALREADY (the response head was already sent).
 * Never suspends.
 */
int coil_http_res_status(struct coil_http_res *res, int status);

/*
 * coil_http_res_header - add a header field, copied. The server writes the
 * framing itself: Content-Length and Transfer-Encoding are refused with
 * -EINVAL. Do not add Date, nor Server when opts->server_name is set. "Connection: close" asks for a
 * close (as coil_http_res_close()); "Connection: keep-alive" asks the
 * server to name keep-alive when it keeps the connection open (it writes
 * "Connection: close" alone when it closes: shutdown, max_requests, an
 * unanswered 100-continue); other Connection values are sent as given.
 * Returns 0, or -EINVAL (@name empty or not a token, a framing field, CR,
 * LF or NUL in @value), -ENOSPC (the fields would pass 8 KiB), -EALREADY (head
 * sent), -ENOMEM. Never suspends.
 */
int coil_http_res_header(struct coil_http_res *res, const char *name,
			 const char *value);
/* The same with a value of @len bytes that need not be NUL-terminated. */
int coil_http_res_header_n(struct coil_http_res *res, const char *name,
			   const char *value, size_t len);

/*
 * coil_http_res_close - send "Connection: close" and close the connection
 * after this response. Returns 0, or -EALREADY (head sent). Never
 * suspends.
 */
int coil_http_res_close(struct coil_http_res *res);

/*
 * coil_http_res_send - the whole response, with Content-Length: @len and
 * @body (copied or sent before this returns; the caller keeps @body). For
 * a HEAD request only the head is sent. Small responses to pipelined
 * requests may be held back and sent with the next ones (see the top of
 * this file). Returns 0, -EALREADY (a response was already started), or a
 * send error (-EPIPE, -ECONNRESET, -ECANCELED: the send timeout passed or
 * the server is shutting down); after an error the connection is closed
 * once the handler returns. May suspend.
 */
int coil_http_res_send(struct coil_http_res *res, const void *body,
		       size_t len);

/*
 * coil_http_res_sendfile - a response whose body is @len bytes of the file
 * @fd from offset @off, with Content-Length: @len, spliced to the socket
 * without passing through user memory (coil_sendfile()). @fd stays the
 * caller's. A file that ends early leaves the client with a short body:
 * the connection is then closed (-ENODATA). The file goes out 1 MiB at a
 * time, each within the send timeout (-ECANCELED when one is not). Returns
 * 0, -EALREADY, or a send or read error as coil_sendfile() returns it.
 * May suspend.
 */
int coil_http_res_sendfile(struct coil_http_res *res, int fd, int64_t off,
			   size_t len);

/*
 * coil_http_res_write - stream a response body: the first call sends the
 * head with "Transfer-Encoding: chunked" (to an HTTP/1.0 client: no
 * framing, and the connection closes after the body), then each call sends
 * @data as one chunk before it returns (@len 0 sends nothing).
 * coil_http_res_end() finishes the body. Returns 0, -EALREADY (after
 * coil_http_res_send/sendfile/end), or a send error. May suspend.
 */
int coil_http_res_write(struct coil_http_res *res, const void *data,
			size_t len);

/*
 * coil_http_res_end - end a streamed body (the last, empty chunk); sends
 * the head first if no write came before. The bytes may be held back as
 * for coil_http_res_send(). Returns 0, -EALREADY, or a send error. May
 * suspend.
 */
int coil_http_res_end(struct coil_http_res *res);

/* Whether the response head has been built (no more status or fields). */
bool coil_http_res_is_started(const struct coil_http_res *res);

#ifdef __cplusplus
}
#endif

#endif /* COIL_HTTP_SERVER_H */
