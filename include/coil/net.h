/* SPDX-License-Identifier: MIT */
/*
 * coil/net.h - sockets for servers and clients: TCP and Unix listeners with
 * (multishot) accept, connect by address or by name, buffered streams,
 * zero-copy file sending, multishot receive into provided buffer rings, UDP.
 *
 * Conventions, as in coil/io.h:
 *  - every call that waits suspends only the calling task and may return
 *    -ECANCELED (the task was cancelled) or -ETIMEDOUT (its @timeout_ns or
 *    an enclosing deadline scope passed); @timeout_ns < 0 means none;
 *    it bounds the whole call, also one that takes several sends or
 *    receives (coil_send_all, the stream reads and writes), except where
 *    a call says otherwise (coil_sendfile: each splice); a timeout of 0
 *    (or one used up by the call's earlier ops) is -ETIMEDOUT without
 *    trying, even when data is waiting: it means "no time", not "poll";
 *  - errors are negative errno values, results exactly the kernel's;
 *  - sockets coil creates are SOCK_CLOEXEC and blocking (io_uring waits for
 *    readiness itself); TCP sockets get TCP_NODELAY (request/response
 *    traffic; turn it off with coil_tcp_set_nodelay());
 *  - no call ever raises SIGPIPE: sends use MSG_NOSIGNAL, and a peer that
 *    has gone is -EPIPE or -ECONNRESET.
 *
 * Name resolution (getaddrinfo) runs on the runtime's offload threads, never
 * on the ring's thread. A name that does not resolve is -COIL_ENONAME.
 */
#ifndef COIL_NET_H
#define COIL_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct addrinfo;

/*
 * The error for "this host name has no address" (getaddrinfo's EAI_NONAME,
 * EAI_NODATA, EAI_ADDRFAMILY): -COIL_ENONAME, i.e. -ENXIO, "No such device
 * or address". Other resolver failures: EAI_AGAIN -> -EAGAIN, EAI_MEMORY ->
 * -ENOMEM, EAI_SERVICE/EAI_BADFLAGS/EAI_FAMILY -> -EINVAL, EAI_SYSTEM -> the
 * errno it carries, anything else -> -EIO.
 */
#define COIL_ENONAME 6 /* ENXIO */

/* ------------------------------------------------------------ addresses */

/*
 * coil_addr_parse - a numeric IPv4 or IPv6 address (no name lookup) and a
 * port into @ss. "[::1]" brackets are accepted; NULL or "" means "::".
 * Returns 0, or -EINVAL when @host is not a numeric address. Never suspends.
 */
int coil_addr_parse(const char *host, uint16_t port,
		    struct sockaddr_storage *ss, socklen_t *len);

/*
 * coil_addr_format - "127.0.0.1:80", "[::1]:80" or a Unix path into @buf.
 * Returns the length written (without the NUL), -ENOSPC when @size is too
 * small (@buf then holds a truncated string), -EAFNOSUPPORT for other
 * families.
 */
int coil_addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
		     size_t size);

/*
 * coil_resolve - getaddrinfo(@host, @service) on the offload pool; the
 * calling task suspends until it returns. @family: AF_UNSPEC, AF_INET or
 * AF_INET6; @socktype: SOCK_STREAM or SOCK_DGRAM. Numeric hosts ("[::1]"
 * brackets accepted) are converted in place without a thread hop. @host
 * NULL means what it does to getaddrinfo() without AI_PASSIVE: the
 * loopback addresses; @host and @service both NULL is -COIL_ENONAME. On
 * success *@out is a list the caller frees with freeaddrinfo(). Returns
 * 0, -COIL_ENONAME and the codes above, -ECANCELED/-ETIMEDOUT (a lookup
 * still queued for a thread is dropped; one already running finishes in
 * the background and its result is freed), -EPERM outside a task.
 */
int coil_resolve(const char *host, const char *service, int family,
		 int socktype, struct addrinfo **out);

/* ------------------------------------------------------------ listeners */

/* Listener options; a zeroed struct (or NULL) gives the defaults. */
struct coil_listen_opts {
	int backlog;       /* listen(2) backlog; 0: SOMAXCONN */
	bool reuseport;    /* SO_REUSEPORT: one listener per thread-per-core */
	bool no_reuseaddr; /* SO_REUSEADDR is set unless this is true */
	bool v6only;       /* "::" accepts IPv6 only (default: dual-stack) */
	bool no_nodelay;   /* accepted TCP sockets get TCP_NODELAY unless set */
	bool no_multishot; /* single-shot accept even where multishot works */
};

struct coil_listener;

/*
 * coil_tcp_listen - a TCP listener on @host:@port. @host NULL, "" or "::":
 * every address, dual-stack (IPv4 clients appear as ::ffff:a.b.c.d), or
 * 0.0.0.0 where the machine has no IPv6. A host name is resolved (the
 * first address is used; the call then suspends, so it must run in a
 * task). @port 0 picks a free port: see coil_listener_addr().
 * Returns 0 with *@out set (free with coil_listener_close()), or
 * -EADDRINUSE, -EACCES, -EINVAL, -ENOMEM, a resolution error, ...
 */
int coil_tcp_listen(const char *host, uint16_t port,
		    const struct coil_listen_opts *opts,
		    struct coil_listener **out);

/*
 * coil_unix_listen - a Unix stream listener at @path; a leading '@' names
 * an abstract socket (Linux). A path may be 107 bytes long (its NUL must
 * fit in sun_path), an abstract name '@' + 107 (it needs none); longer is
 * -ENAMETOOLONG. A stale socket file at @path is not removed: -EADDRINUSE
 * (unlink it first if you own it). coil_listener_close() unlinks a path
 * it bound, and so does a call that fails after its bind made the file.
 * Returns 0 or a negative errno.
 */
int coil_unix_listen(const char *path, const struct coil_listen_opts *opts,
		     struct coil_listener **out);

/*
 * coil_listener_accept - the next connection: returns its fd (the caller
 * owns it) or a negative errno. @peer/@peerlen may be NULL; when given,
 * the peer's address is filled in.
 *
 * Multishot accept (kernel 5.19+, probed) keeps one accept armed in the
 * kernel; connections that arrive while no task is accepting wait in a
 * small queue, and the accept is re-armed when the kernel ends it. Running
 * out of descriptors (EMFILE, ENFILE) or memory (ENOBUFS, ENOMEM) never
 * reaches the caller and never spins: the listener backs off (1 ms
 * doubling to 1 s, counted in coil_listener_stats()) while existing
 * connections keep being served, and resumes by itself. Errors: -EBADF
 * after coil_listener_close(), -ECANCELED, -ETIMEDOUT, -EPERM outside a
 * task, -EINVAL when @l belongs to another runtime (another thread's, or
 * a run that has ended) or @peer is given without @peerlen, and the
 * kernel's own. Several tasks may accept on one listener; they are served
 * in FIFO order.
 */
int coil_listener_accept(struct coil_listener *l,
			 struct sockaddr_storage *peer, socklen_t *peerlen,
			 int64_t timeout_ns);

/* The listener's bound address (to learn the port after @port 0). */
int coil_listener_addr(const struct coil_listener *l,
		       struct sockaddr_storage *ss, socklen_t *len);
/* The bound TCP port (host order), or -EINVAL (e.g. a Unix listener). */
int coil_listener_port(const struct coil_listener *l);
/* The listening socket's fd (owned by the listener). */
int coil_listener_fd(const struct coil_listener *l);

struct coil_listener_stats {
	uint64_t accepted; /* connections handed to callers */
	uint64_t arms;     /* accept SQEs submitted (multishot: re-arms + 1) */
	uint64_t backoffs; /* pauses taken after EMFILE/ENFILE/ENOBUFS/ENOMEM */
	bool multishot;    /* multishot accept is in use */
};
void coil_listener_stats(const struct coil_listener *l,
			 struct coil_listener_stats *out);

/*
 * coil_listener_close - stop listening: the armed accept is cancelled,
 * connections already queued are closed, tasks waiting in
 * coil_listener_accept() get -EBADF, the socket is closed (and a Unix path
 * unlinked), and @l is freed. May suspend (to reap the cancelled accept)
 * when called from a task. After coil_run() has returned, a listener left
 * open is closed on the same thread, outside any task or from a task of a
 * later run (its accept ended with the ring). Another thread, or a task of
 * a runtime running elsewhere, gets -EBUSY and nothing is freed, even for
 * a listener nobody is accepting on: a listener belongs to its runtime's
 * thread. While its run goes on, that thread outside any task gets -EBUSY
 * too when an accept is armed or a task is accepting (there is nothing
 * there that could wait for them). When the cancel of the armed accept
 * cannot be submitted (no SQE: -EAGAIN, or the ring's error once it has
 * failed), that error is returned and the listener is left as it was:
 * open, its acceptors still waiting.
 * Returns 0, -EBUSY, or the no-SQE error above. NULL is a no-op.
 */
int coil_listener_close(struct coil_listener *l);

/* ------------------------------------------------------------- connect */

/*
 * coil_tcp_connect - connect to @host:@port. @host is a numeric address or
 * a name resolved with coil_resolve(); every address it resolves to is
 * tried in turn (in the resolver's order, which prefers IPv6 where it is
 * routable) with @timeout_ns per attempt (a linked timeout on the
 * IORING_OP_CONNECT); an address refused for any reason but
 * cancellation or -ENOMEM (-EPERM from a firewall or cgroup hook too)
 * passes on to the next. Resolving a name counts against the first
 * attempt's @timeout_ns: the lookup may take at most @timeout_ns
 * (-ETIMEDOUT after that, the lookup abandoned), and the first address
 * gets what it left. So the whole call takes at most @timeout_ns per
 * address tried; a single-address name or a numeric host, @timeout_ns in
 * all. Returns the connected fd, or the last attempt's error
 * (-ECONNREFUSED, -ETIMEDOUT, -ENETUNREACH, -EPERM, ...), a resolution
 * error (-COIL_ENONAME, -ETIMEDOUT, ...), -ECANCELED, -EINVAL, -EPERM
 * outside a task. An enclosing deadline bounds the whole call.
 */
int coil_tcp_connect(const char *host, uint16_t port, int64_t timeout_ns);

/*
 * coil_connect_addr - a new socket of @type (SOCK_STREAM, SOCK_DGRAM)
 * connected to @addr. Returns its fd or a negative errno (the socket is
 * closed on failure).
 */
int coil_connect_addr(const struct sockaddr *addr, socklen_t addrlen,
		      int type, int64_t timeout_ns);

/* coil_unix_connect - a Unix stream socket connected to @path ('@': abstract). */
int coil_unix_connect(const char *path, int64_t timeout_ns);

/* TCP_NODELAY on or off. Returns 0 or a negative errno. */
int coil_tcp_set_nodelay(int fd, bool on);

/* ------------------------------------------------------------ sending */

/*
 * coil_send_all - send all @len bytes, looping over short sends. Returns
 * @len, or a negative errno with *@done (if not NULL) the bytes sent
 * before it (-EPIPE / -ECONNRESET when the peer has gone).
 */
ssize_t coil_send_all(int fd, const void *buf, size_t len, size_t *done,
		      int64_t timeout_ns);

/*
 * coil_sendfile - copy @count bytes of @file_fd from offset @off to the
 * socket @sock without passing them through user memory: IORING_OP_SPLICE
 * file -> pipe -> socket, through a pipe the call owns. Stops early at end
 * of file. Returns the bytes sent, or a negative errno with *@done (if not
 * NULL) the bytes sent before it. @timeout_ns bounds each splice with a
 * linked timeout, which can be late: it does not interrupt a pipe ->
 * socket splice blocked in io-wq on a peer that does not read (seen on
 * Linux 6.18), which then waits until the peer reads or goes; cancelling
 * the task does interrupt it. Callers that must bound the time should
 * cancel as well (coil_http_res_sendfile() does, per 1 MiB).
 */
ssize_t coil_sendfile(int sock, int file_fd, int64_t off, size_t count,
		      size_t *done, int64_t timeout_ns);

/* ------------------------------------------------------- buffered streams */

/*
 * A buffered reader and writer over a connected socket (or a pipe). The
 * stream does not own the fd: coil_stream_destroy() frees the buffers only,
 * and bytes still in the write buffer are dropped with them (flush first,
 * or end with coil_stream_shutdown()). One task at a time may read, and one
 * at a time may write.
 */
struct coil_stream;

/*
 * coil_stream_create - wrap @fd with a read buffer of @bufsize bytes (0:
 * 16 KiB), which grows up to the largest @max a read asks for, and a write
 * buffer of the same size. Returns 0 or -ENOMEM / -EINVAL. Never suspends.
 */
int coil_stream_create(int fd, size_t bufsize, struct coil_stream **out);
void coil_stream_destroy(struct coil_stream *s);
int coil_stream_fd(const struct coil_stream *s);

/*
 * coil_stream_read_until - read up to and including the first @delim,
 * copying at most @max bytes into @buf. Returns the length (the delimiter
 * included); at end of input, what is left without a delimiter (0 when
 * nothing is). -EMSGSIZE when @max bytes arrive without a delimiter:
 * nothing is consumed, the data stays buffered for the next call. Other
 * errors: the socket's, -ECANCELED, -ETIMEDOUT, -ENOMEM (the read buffer
 * could not grow towards @max); buffered data is kept.
 */
ssize_t coil_stream_read_until(struct coil_stream *s, int delim, void *buf,
			       size_t max, int64_t timeout_ns);
/* coil_stream_read_line - coil_stream_read_until(s, '\n', ...). */
ssize_t coil_stream_read_line(struct coil_stream *s, void *buf, size_t max,
			      int64_t timeout_ns);

/*
 * coil_stream_read_exact - exactly @n bytes into @buf. Returns @n, 0 at end
 * of input with nothing buffered, -ENODATA when input ends after fewer than
 * @n bytes (they stay buffered: coil_stream_read() returns them), or an
 * error as above; -ENOMEM (nothing consumed) when the read buffer cannot
 * grow to @n bytes, the room that keeps a short read from being lost. The
 * bytes go straight into @buf; the room is given back when the call
 * succeeds, so a large @n does not leave the stream's buffer large.
 */
ssize_t coil_stream_read_exact(struct coil_stream *s, void *buf, size_t n,
			       int64_t timeout_ns);

/*
 * coil_stream_read - whatever is buffered, else one receive: 1..@len bytes,
 * 0 at end of input, or an error.
 */
ssize_t coil_stream_read(struct coil_stream *s, void *buf, size_t len,
			 int64_t timeout_ns);

/*
 * Zero-copy access for parsers: coil_stream_peek() returns the buffered
 * bytes (valid until the next call on @s) in *@data and their count;
 * coil_stream_fill() receives more (returns the count added, 0 at end of
 * input, -ENOBUFS when @max buffered bytes are already held, or an error);
 * coil_stream_consume() drops @n bytes from the front.
 */
size_t coil_stream_peek(const struct coil_stream *s, const char **data);
ssize_t coil_stream_fill(struct coil_stream *s, size_t max,
			 int64_t timeout_ns);
void coil_stream_consume(struct coil_stream *s, size_t n);

/*
 * coil_stream_write - append to the write buffer, sending what it held
 * first when @buf does not fit. Returns @len, or a negative errno with none
 * of @buf taken (what the buffer held and could not send stays buffered
 * for the next flush). A write of at least the buffer's size is sent
 * directly; if an error stops it after part of @buf went out, the peer
 * holds part of a message that no retry could finish without repeating
 * bytes, so the stream keeps that error: this and every later write and
 * flush return it. coil_stream_flush() sends what is buffered: returns 0
 * or a negative errno (what was not sent stays buffered).
 */
ssize_t coil_stream_write(struct coil_stream *s, const void *buf, size_t len,
			  int64_t timeout_ns);
int coil_stream_flush(struct coil_stream *s, int64_t timeout_ns);

/*
 * coil_stream_shutdown - shutdown(2) the stream's fd with @how (SHUT_RD,
 * SHUT_WR, SHUT_RDWR), flushing the write buffer first unless @how is
 * SHUT_RD: a half-close that cannot drop buffered bytes. Returns 0, the
 * flush's error (then nothing is shut down), -ENOTSOCK for a pipe,
 * shutdown(2)'s other errors, or -EINVAL.
 */
int coil_stream_shutdown(struct coil_stream *s, int how, int64_t timeout_ns);

/* ------------------------------------- provided buffers + multishot recv */

/*
 * A ring of @nbufs receive buffers of @bufsize bytes each, registered with
 * the kernel (IORING_REGISTER_PBUF_RING, 5.19+): a receive takes a buffer
 * only when data arrives, so idle connections pin none. One bufring serves
 * any number of connections of its runtime. @nbufs must be a power of two
 * (1..32768). Returns 0, -EOPNOTSUPP where the kernel lacks buffer rings,
 * -EINVAL, -ENOMEM, -EPERM outside coil_run(). Destroy only after every
 * coil_recvq using it is closed (else -EBUSY), from a task of its runtime
 * or, once that coil_run() has returned, on the thread that ran it; from
 * any other thread it returns -EBUSY and frees nothing.
 */
struct coil_bufring;
int coil_bufring_create(unsigned nbufs, size_t bufsize,
			struct coil_bufring **out);
int coil_bufring_destroy(struct coil_bufring *br);

/* A received buffer: @data/@len are valid until coil_buf_release(). */
struct coil_buf {
	char *data;
	size_t len;
	uint16_t id; /* the buffer's index in its ring */
};

/*
 * A multishot receive on one socket (IORING_RECV_MULTISHOT, 6.0+; a
 * single-shot buffer-select receive on older kernels): one SQE delivers
 * every chunk the socket receives into buffers of @br, in order.
 * Fair share: a recvq holds at most a quarter of @br's buffers (at most 64,
 * at least one) unread; at that point its receive pauses and the data waits
 * in the socket until the reader has taken what is queued, so a connection
 * whose reader is slow cannot starve the others of buffers (exactly from
 * Linux 6.17, which ends a receive after a byte limit; before, the pause
 * comes after the kernel took what the socket held at that moment).
 */
struct coil_recvq;
int coil_recvq_open(int fd, struct coil_bufring *br, struct coil_recvq **out);

/*
 * coil_recvq_next - the next chunk, in arrival order: returns its length
 * (> 0) with @buf filled in (hand it back with coil_buf_release()), 0 at
 * end of input, or a negative errno. When the kernel runs out of buffers
 * it ends the multishot receive with no data lost; the receive is re-armed
 * once a buffer is released, so every byte is still delivered in order.
 * Hold buffers briefly: a task that keeps every buffer of the ring and
 * waits for more waits until its timeout. Once coil_recvq_close() has
 * begun, returns -EBADF, also to a task already waiting here (for data or
 * for a free buffer) when another task closes @q: it returns at once and
 * must not use @q again. One task reads @q at a time: -EBUSY while another
 * waits here. Other errors: -EINVAL (NULL arguments, or @q belongs to
 * another thread's runtime), -EPERM outside coil_run(), -ETIMEDOUT,
 * -ECANCELED, and the receive's own error once the chunks before it are
 * taken (-ECONNRESET, ...; -ENOMEM if a chunk could not be queued).
 * On an error, buf->data is NULL or as the caller left it. A chunk that
 * arrives while the reader waits goes straight into @buf and counts in
 * the stats' chunks at once; if @q's close begins before the woken reader
 * runs, the chunk goes back to the ring, uncounted, and the reader gets
 * -EBADF as above.
 */
ssize_t coil_recvq_next(struct coil_recvq *q, struct coil_buf *buf,
			int64_t timeout_ns);
/*
 * coil_recvq_send - send @buf (a chunk from coil_recvq_next() on @q) on
 * @q's socket and give it back to the ring once the kernel is done with it,
 * without waiting: the echo/proxy fast path, no copy and no second wake-up
 * per message. @buf is consumed (buf->data becomes NULL) when this returns
 * 0. Sends are kept in order: while one is in flight, the next call waits
 * for it (one task at a time: -EINVAL for a second). A short send is
 * completed by coil; a failed one is reported by the next
 * coil_recvq_send() (-EPIPE, -ECONNRESET, ...). Returns 0 or a negative
 * errno (then @buf is still the caller's to release): -EINVAL,
 * -ECANCELED / -ETIMEDOUT while waiting for the previous send, -EPERM,
 * the ring's own error once it has failed (no submission slot). Except
 * -EBADF: once coil_recvq_close() has begun on @q, also for a task waiting
 * here when another task closes it, @buf has been given back to the ring
 * (buf->data NULL) and the task must not use @q again.
 * coil_recvq_close() waits for a send still in flight (close or shut the
 * socket down first to end a send the peer does not drain) unless the
 * closing task is cancelled or past its deadline: then it cancels the send.
 */
int coil_recvq_send(struct coil_recvq *q, struct coil_buf *buf);

/* Give @buf back to its ring (and so to the kernel). */
void coil_buf_release(struct coil_recvq *q, struct coil_buf *buf);
struct coil_recvq_stats {
	uint64_t arms;    /* receive SQEs submitted (multishot: re-arms + 1) */
	uint64_t nobufs;  /* times the kernel ran out of ring buffers */
	uint64_t chunks;  /* chunks delivered (one handed to a waiting
			   * reader counts from then: see coil_recvq_next) */
	/* times the receive paused because the reader held its share of
	 * the ring (see coil_recvq_open()) */
	uint64_t pauses;
	bool multishot;   /* IORING_RECV_MULTISHOT is in use */
	/* each multishot arm ends after its share of bytes (Linux 6.17+);
	 * without it a share is enforced by cancelling, which comes after
	 * the kernel has taken what the socket held */
	bool arm_limit;
};
void coil_recvq_stats(const struct coil_recvq *q,
		      struct coil_recvq_stats *out);

/*
 * coil_recvq_close - cancel the receive, end the wait of every task in
 * coil_recvq_next() on @q with -EBADF, wait for the receive's last
 * completion, for a send in flight and for those tasks to leave (suspends),
 * give back any chunk not yet read, free @q. Release the buffers you hold
 * first. The fd stays open. Returns 0, or -EBUSY when there is something
 * to wait for and the caller is not a task of @q's runtime. After that
 * coil_run() has returned, on its thread, there is nothing to wait for:
 * the ring ended the receive. NULL is a no-op.
 */
int coil_recvq_close(struct coil_recvq *q);

/* ---------------------------------------------------------------- UDP */

/*
 * coil_udp_bind - a UDP socket bound to @host:@port (numeric; NULL: "::",
 * dual-stack). @reuseport sets SO_REUSEPORT. Returns the fd or a negative
 * errno. Never suspends.
 */
int coil_udp_bind(const char *host, uint16_t port, bool reuseport);
/* coil_udp_connect - a UDP socket connected to @host:@port (resolved). */
int coil_udp_connect(const char *host, uint16_t port);

/* One datagram to @to (sendmsg). Returns bytes sent or a negative errno. */
ssize_t coil_sendto(int fd, const void *buf, size_t len,
		    const struct sockaddr *to, socklen_t tolen,
		    int64_t timeout_ns);
/*
 * One datagram (recvmsg with MSG_TRUNC): returns the datagram's full
 * length, with the sender in @from/@fromlen if not NULL. A result larger
 * than @len means the datagram was cut: only @len bytes were stored.
 * Datagram sockets only: on a stream socket (TCP, Unix stream) MSG_TRUNC
 * makes the kernel discard the bytes it counts, as it does for
 * recvfrom(2); use coil_recv() there. (Checking the socket's type would
 * cost a system call per datagram.)
 * @from must be a whole struct sockaddr_storage (any family fits); unlike
 * recvfrom(2), *@fromlen is only written, never read as the buffer size.
 */
ssize_t coil_recvfrom(int fd, void *buf, size_t len,
		      struct sockaddr_storage *from, socklen_t *fromlen,
		      int64_t timeout_ns);

#ifdef __cplusplus
}
#endif

#endif /* COIL_NET_H */
