/* SPDX-License-Identifier: MIT */
/*
 * net/stream.c - buffered reading (lines, delimiters, exact counts) and
 * writing over a socket or pipe.
 *
 * Read buffer: bytes [rstart, rend) of rbuf are received but not yet
 * consumed. It grows (doubling) only when a caller's @max asks for more
 * than it holds, so a line limit of 1 MiB costs memory only for a peer
 * that actually sends a 1 MiB line. No read ever drops received bytes:
 * an error, a limit or a premature end leaves them buffered for the next
 * call.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "coil/io.h"
#include "internal.h"
#include "net.h"

#define DEFAULT_BUFSIZE 16384

struct coil_stream {
	int fd;
	bool sock;        /* recv/send (MSG_NOSIGNAL) rather than read/write */
	char *rbuf;
	size_t rcap, rstart, rend;
	char *wbuf;
	size_t wcap, wlen;
	/*
	 * Set when a direct write (one of at least @wcap bytes, which skips
	 * the buffer) failed after sending part of its bytes: the peer holds
	 * part of a message that no later call can complete or take back, so
	 * every later write and flush returns this error instead of sending
	 * bytes that would be read as the rest of it.
	 */
	int werr;
};

int coil_stream_create(int fd, size_t bufsize, struct coil_stream **out)
{
	struct coil_stream *s;
	int type;
	socklen_t len = sizeof(type);

	if (fd < 0 || !out)
		return -EINVAL;
	bufsize = bufsize ? bufsize : DEFAULT_BUFSIZE;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->rbuf = malloc(bufsize);
	s->wbuf = malloc(bufsize);
	if (!s->rbuf || !s->wbuf) {
		coil_stream_destroy(s);
		return -ENOMEM;
	}
	s->fd = fd;
	s->sock = getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
	s->rcap = s->wcap = bufsize;
	*out = s;
	return 0;
}

void coil_stream_destroy(struct coil_stream *s)
{
	if (!s)
		return;
	free(s->rbuf);
	free(s->wbuf);
	free(s);
}

int coil_stream_fd(const struct coil_stream *s)
{
	return s ? s->fd : -EINVAL;
}

/* ----------------------------------------------------------- buffer */

static size_t buffered(const struct coil_stream *s)
{
	return s->rend - s->rstart;
}

/* Room for at least @need buffered bytes (compacting, then growing). */
static int reserve(struct coil_stream *s, size_t need)
{
	size_t cap = s->rcap;
	char *p;

	if (s->rstart && s->rcap - s->rend < need - buffered(s)) {
		memmove(s->rbuf, s->rbuf + s->rstart, buffered(s));
		s->rend -= s->rstart;
		s->rstart = 0;
	}
	if (need <= s->rcap)
		return 0;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = realloc(s->rbuf, cap);
	if (!p)
		return -ENOMEM;
	s->rbuf = p;
	s->rcap = cap;
	return 0;
}

static ssize_t recv_some(struct coil_stream *s, void *buf, size_t len,
			 int64_t timeout_ns)
{
	if (s->sock)
		return coil_recv_timeout(s->fd, buf, len, 0, timeout_ns);
	return coil_read_timeout(s->fd, buf, len, -1, timeout_ns);
}

/*
 * Receive once into the buffer, which may grow so that @max bytes fit.
 * Returns bytes added, 0 at end of input, -ENOBUFS if @max are held.
 */
ssize_t coil_stream_fill(struct coil_stream *s, size_t max,
			 int64_t timeout_ns)
{
	size_t want;
	ssize_t n;
	int err;

	if (!s)
		return -EINVAL;
	if (buffered(s) >= max)
		return -ENOBUFS;
	/* Aim for a full buffer's worth, but never hold more than @max. */
	want = buffered(s) + (s->rcap > buffered(s) ? s->rcap - buffered(s)
						       : 1);
	if (want > max)
		want = max;
	err = reserve(s, want);
	if (err)
		return err;
	n = recv_some(s, s->rbuf + s->rend, s->rcap - s->rend, timeout_ns);
	if (n > 0)
		s->rend += (size_t)n;
	return n;
}

size_t coil_stream_peek(const struct coil_stream *s, const char **data)
{
	if (!s || !data)
		return 0;
	*data = s->rbuf + s->rstart;
	return buffered(s);
}

void coil_stream_consume(struct coil_stream *s, size_t n)
{
	if (!s)
		return;
	if (n > buffered(s))
		n = buffered(s);
	s->rstart += n;
	if (s->rstart == s->rend)
		s->rstart = s->rend = 0;
}

static size_t take(struct coil_stream *s, void *buf, size_t n)
{
	memcpy(buf, s->rbuf + s->rstart, n);
	coil_stream_consume(s, n);
	return n;
}

/* ------------------------------------------------------------ reads */

ssize_t coil_stream_read_until(struct coil_stream *s, int delim, void *buf,
			       size_t max, int64_t timeout_ns)
{
	uint64_t start = coil__call_start(timeout_ns);
	size_t scanned = 0, avail, limit;
	const char *hit;
	ssize_t n;

	if (!s || !buf || !max)
		return -EINVAL;
	for (;;) {
		avail = buffered(s);
		limit = avail < max ? avail : max;
		hit = memchr(s->rbuf + s->rstart + scanned, delim,
			     limit - scanned);
		if (hit)
			return (ssize_t)take(s, buf, (size_t)(hit -
					     (s->rbuf + s->rstart)) + 1);
		if (avail >= max)
			return -EMSGSIZE;
		scanned = limit;
		n = coil_stream_fill(s, max,
				     coil__time_left(timeout_ns, start));
		if (n < 0)
			return n;
		if (n == 0)
			return (ssize_t)take(s, buf, avail);
	}
}

ssize_t coil_stream_read_line(struct coil_stream *s, void *buf, size_t max,
			      int64_t timeout_ns)
{
	return coil_stream_read_until(s, '\n', buf, max, timeout_ns);
}

/* Put @n bytes back in front of the buffer (a read that failed part-way). */
static int unread(struct coil_stream *s, const void *buf, size_t n)
{
	size_t have = buffered(s);
	int err;

	if (!n)
		return 0;
	err = reserve(s, have + n);
	if (err)
		return err;
	if (s->rstart >= n) {
		s->rstart -= n;
	} else {
		memmove(s->rbuf + n, s->rbuf + s->rstart, have);
		s->rstart = 0;
		s->rend = n + have;
	}
	memcpy(s->rbuf + s->rstart, buf, n);
	return 0;
}

/*
 * Back to @cap once what is buffered fits: the room read_exact() reserved
 * for @n bytes is needed only while a short read may have to be kept, and
 * a length-prefixed protocol would otherwise leave every connection's
 * buffer as large as the largest message its peer ever announced. If the
 * smaller block cannot be had, the larger one stays.
 */
static void shrink(struct coil_stream *s, size_t cap)
{
	char *p;

	if (s->rcap <= cap || buffered(s) > cap)
		return;
	memmove(s->rbuf, s->rbuf + s->rstart, buffered(s));
	s->rend -= s->rstart;
	s->rstart = 0;
	p = realloc(s->rbuf, cap);
	if (p) {
		s->rbuf = p;
		s->rcap = cap;
	}
}

ssize_t coil_stream_read_exact(struct coil_stream *s, void *buf, size_t n,
			       int64_t timeout_ns)
{
	uint64_t start = coil__call_start(timeout_ns);
	size_t got, cap0;
	ssize_t r = 1;

	if (!s || (!buf && n))
		return -EINVAL;
	cap0 = s->rcap;
	/*
	 * Room to put back whatever arrives, taken before anything is
	 * consumed: an allocation failure after a short read would lose it.
	 */
	if (buffered(s) < n && reserve(s, n) < 0)
		return -ENOMEM;
	got = take(s, buf, buffered(s) < n ? buffered(s) : n);
	/* Straight into the caller's buffer: no copy for large reads. */
	while (got < n) {
		r = recv_some(s, (char *)buf + got, n - got,
			      coil__time_left(timeout_ns, start));
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	if (got == n) {
		shrink(s, cap0);
		return (ssize_t)n;
	}
	/* Keep what arrived for the next call (room was reserved above). */
	unread(s, buf, got);
	if (r == 0)
		return got ? -ENODATA : 0;
	return r;
}

ssize_t coil_stream_read(struct coil_stream *s, void *buf, size_t len,
			 int64_t timeout_ns)
{
	ssize_t n;

	if (!s || (!buf && len))
		return -EINVAL;
	if (!len)
		return 0;
	if (!buffered(s) && len >= s->rcap)
		return recv_some(s, buf, len, timeout_ns);
	if (!buffered(s)) {
		n = coil_stream_fill(s, s->rcap, timeout_ns);
		if (n <= 0)
			return n;
	}
	return (ssize_t)take(s, buf, buffered(s) < len ? buffered(s) : len);
}

/* ----------------------------------------------------------- writes */

static ssize_t send_out(struct coil_stream *s, const void *buf, size_t len,
			size_t *done, int64_t timeout_ns)
{
	return coil__send_all_fd(s->fd, buf, len, done, timeout_ns, s->sock);
}

int coil_stream_flush(struct coil_stream *s, int64_t timeout_ns)
{
	size_t done = 0;
	ssize_t n;

	if (!s)
		return -EINVAL;
	if (s->werr)
		return s->werr;
	if (!s->wlen)
		return 0;
	n = send_out(s, s->wbuf, s->wlen, &done, timeout_ns);
	/* Whatever was not sent stays buffered for the next flush. */
	memmove(s->wbuf, s->wbuf + done, s->wlen - done);
	s->wlen -= done;
	return n < 0 ? (int)n : 0;
}

ssize_t coil_stream_write(struct coil_stream *s, const void *buf, size_t len,
			  int64_t timeout_ns)
{
	uint64_t start = coil__call_start(timeout_ns);
	size_t done = 0;
	ssize_t n;
	int err;

	if (!s || (!buf && len))
		return -EINVAL;
	if (s->werr)
		return s->werr;
	if (s->wlen + len > s->wcap) {
		err = coil_stream_flush(s, timeout_ns);
		if (err)
			return err;
	}
	if (len >= s->wcap) {
		/* The flush and this send share the call's timeout. */
		n = send_out(s, buf, len, &done,
			     coil__time_left(timeout_ns, start));
		if (n < 0 && done)
			s->werr = (int)n;
		return n < 0 ? n : (ssize_t)len;
	}
	memcpy(s->wbuf + s->wlen, buf, len);
	s->wlen += len;
	return (ssize_t)len;
}

int coil_stream_shutdown(struct coil_stream *s, int how, int64_t timeout_ns)
{
	int err;

	if (!s || (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR))
		return -EINVAL;
	if (how != SHUT_RD) {
		err = coil_stream_flush(s, timeout_ns);
		if (err)
			return err;
	}
	return coil_shutdown(s->fd, how);
}
