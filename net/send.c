/* SPDX-License-Identifier: MIT */
/*
 * net/send.c - sending loops (send_all, sendfile through splice) and
 * datagrams (sendto/recvfrom over sendmsg/recvmsg).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "coil/io.h"
#include "internal.h"
#include "net.h"


/*
 * write(2) without SIGPIPE, for what is not a socket (a pipe). A pipe whose
 * reader has gone raises SIGPIPE as well as failing with -EPIPE, and
 * write(2) has no MSG_NOSIGNAL. io_uring first tries a pipe write inline,
 * in the thread that submits it - the ring's thread - where the default
 * action kills the process. IOSQE_ASYNC sends it straight to an io-wq
 * worker, and those block every signal but SIGKILL and SIGSTOP (Linux
 * 5.12+, where workers are io threads): the SIGPIPE stays pending on the
 * worker and the caller sees -EPIPE only. It costs a thread hop per write,
 * on this rare path only.
 */
static ssize_t write_nosignal(int fd, const void *buf, size_t len,
			      int64_t timeout_ns)
{
	struct coil__op op;
	struct io_uring_sqe *sqe = coil__op_prep(&op,
						 coil__user_timeout(timeout_ns),
						 "write");

	if (!sqe)
		return op.res;
	io_uring_prep_write(sqe, fd, buf, coil__rw_len(len), (uint64_t)-1);
	sqe->flags |= IOSQE_ASYNC;
	return coil__op_wait(&op, sqe);
}

ssize_t coil__send_all_fd(int fd, const void *buf, size_t len, size_t *done,
			  int64_t timeout_ns, bool sock)
{
	uint64_t start = coil__call_start(timeout_ns);
	const char *p = buf;
	size_t sent = 0;
	ssize_t n = 0;
	int64_t left;

	while (sent < len) {
		left = coil__time_left(timeout_ns, start);
		n = sock ? coil_send_timeout(fd, p + sent, len - sent, 0, left)
			 : write_nosignal(fd, p + sent, len - sent, left);
		if (n <= 0) {
			/* send(2)/write(2) never return 0 for len > 0. */
			n = n < 0 ? n : -EIO;
			break;
		}
		sent += (size_t)n;
	}
	if (done)
		*done = sent;
	return sent == len ? (ssize_t)len : n;
}

ssize_t coil_send_all(int fd, const void *buf, size_t len, size_t *done,
		      int64_t timeout_ns)
{
	return coil__send_all_fd(fd, buf, len, done, timeout_ns, true);
}

/* -------------------------------------------------------------- splice */

/* One IORING_OP_SPLICE: @len bytes from @in (at @off_in, -1: none) to @out. */
static ssize_t splice_op(int in, int64_t off_in, int out, size_t len,
			 int64_t timeout_ns)
{
	struct coil__op op;
	struct io_uring_sqe *sqe = coil__op_prep(&op,
						 coil__user_timeout(timeout_ns),
						 "splice");

	if (!sqe)
		return op.res;
	io_uring_prep_splice(sqe, in, off_in, out, -1, coil__rw_len(len),
			     SPLICE_F_MOVE);
	return coil__op_wait(&op, sqe);
}

/* Move all @n bytes out of the pipe into the socket. */
static ssize_t drain_pipe(int pipe_r, int sock, size_t n, size_t *sent,
			  int64_t timeout_ns)
{
	ssize_t r;

	while (n) {
		r = splice_op(pipe_r, -1, sock, n, timeout_ns);
		if (r <= 0)
			return r < 0 ? r : -EIO;
		n -= (size_t)r;
		*sent += (size_t)r;
	}
	return 0;
}

ssize_t coil_sendfile(int sock, int file_fd, int64_t off, size_t count,
		      size_t *done, int64_t timeout_ns)
{
	size_t sent = 0;
	ssize_t n = 0;
	int p[2];

	if (off < 0)
		return -EINVAL;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	while (sent < count) {
		/* Up to a pipe's worth (64 KiB by default) per round. */
		n = splice_op(file_fd, off + (int64_t)sent, p[1],
			      count - sent < 65536 ? count - sent : 65536,
			      timeout_ns);
		if (n <= 0)
			break; /* end of file, or an error */
		n = drain_pipe(p[0], sock, (size_t)n, &sent, timeout_ns);
		if (n < 0)
			break;
	}
	close(p[0]);
	close(p[1]);
	if (done)
		*done = sent;
	return n < 0 ? n : (ssize_t)sent;
}

/* ----------------------------------------------------------- datagrams */

ssize_t coil_sendto(int fd, const void *buf, size_t len,
		    const struct sockaddr *to, socklen_t tolen,
		    int64_t timeout_ns)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = { .msg_name = (void *)to,
			      .msg_namelen = to ? tolen : 0,
			      .msg_iov = &iov,
			      .msg_iovlen = 1 };

	return coil_sendmsg_timeout(fd, &msg, 0, timeout_ns);
}

ssize_t coil_recvfrom(int fd, void *buf, size_t len,
		      struct sockaddr_storage *from, socklen_t *fromlen,
		      int64_t timeout_ns)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_name = from,
			      .msg_namelen = from ? sizeof(*from) : 0,
			      .msg_iov = &iov,
			      .msg_iovlen = 1 };
	ssize_t n = coil_recvmsg_timeout(fd, &msg, MSG_TRUNC, timeout_ns);

	/* coil_recvmsg() has told Valgrind about msg_name already. */
	if (n >= 0 && from && fromlen)
		*fromlen = msg.msg_namelen;
	return n;
}
