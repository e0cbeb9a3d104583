/* SPDX-License-Identifier: MIT */
/*
 * runtime/io.c - every I/O call is one SQE; the calling task suspends until
 * its CQE (and the CQE of anything linked to or aimed at it) has arrived.
 *
 * An op's state (struct coil__op) lives in the calling function's frame and
 * the SQE's user_data points at it. The frame stays alive because the task
 * does not resume - and so cannot return from the call - until op->pending
 * is zero: the op's own CQE, its linked timeout's and any cancel request's
 * have all been reaped. That is what makes stack buffers safe to hand to
 * the kernel, even when the op is cancelled or times out.
 */
#define _GNU_SOURCE
#include <sys/socket.h>
#include <linux/openat2.h>

#include "coil_config.h"
#include "internal.h"
#include "suspend.h"


/*
 * Valgrind cannot see the kernel fill buffers through io_uring: tell it
 * what a read-type op wrote, or every use of the data is reported.
 */
static ssize_t filled(void *buf, ssize_t res)
{
	if (res > 0)
		coil__vg_defined(buf, (size_t)res);
	return res;
}

static ssize_t filled_iov(const struct iovec *iov, int iovcnt, ssize_t res)
{
	size_t left = res > 0 ? (size_t)res : 0, n;
	int i;

	for (i = 0; i < iovcnt && left; i++) {
		n = iov[i].iov_len < left ? iov[i].iov_len : left;
		coil__vg_defined(iov[i].iov_base, n);
		left -= n;
	}
	return res;
}

/* ---------------------------------------------------------- the op core */

static void op_unwait(struct coil_task *t, int why)
{
	struct coil__op *op = t->wait_obj;
	struct coil_rt *rt = t->rt;
	struct io_uring_sqe *sqe;

	(void)why;
	if (op->flags & (COIL__OPF_CANCEL_SENT | COIL__OPF_EXEMPT))
		return;
	/*
	 * Ask the kernel to cancel the op; the task stays suspended until the
	 * op's own CQE arrives (with -ECANCELED, or its real result if it won
	 * the race) and the cancel request's CQE too.
	 */
	sqe = coil__get_sqe(rt, 1);
	if (!sqe)
		return; /* the ring failed; the loop is ending */
	/*
	 * Taking the SQE may have reaped (a full SQ whose submit met -EBUSY
	 * or -EAGAIN), and with it this op's last CQE: the task is then
	 * ready to run and its op done. A cancel now would be owed a CQE by
	 * a frame that is gone when it comes; the SQE is spent as a NOP.
	 */
	if (COIL__UNLIKELY(t->state != COIL__TASK_WAITING)) {
		io_uring_prep_nop(sqe);
		io_uring_sqe_set_data64(sqe, COIL__UD_IGNORE);
		return;
	}
	io_uring_prep_cancel64(sqe, coil__op_ud(op), 0);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)op | COIL__UD_CANCEL);
	op->flags |= COIL__OPF_CANCEL_SENT;
	op->pending++;
	rt->be.inflight++;
}

bool coil__op_cancel(struct coil_rt *rt, struct coil__op *op)
{
	struct io_uring_sqe *sqe = coil__get_sqe(rt, 1);

	if (!sqe)
		return false;
	io_uring_prep_cancel64(sqe, coil__op_ud(op), 0);
	io_uring_sqe_set_data64(sqe, COIL__UD_IGNORE);
	return true;
}

static void ns_to_ts(uint64_t ns, struct __kernel_timespec *ts)
{
	ts->tv_sec = (long long)(ns / 1000000000u);
	ts->tv_nsec = (long long)(ns % 1000000000u);
}

/* @n SQEs for @op, or NULL with op->res saying why there are none. */
static struct io_uring_sqe *op_sqe(struct coil_rt *rt, struct coil__op *op,
				   unsigned n)
{
	struct io_uring_sqe *sqe = coil__get_sqe(rt, n);

	if (COIL__UNLIKELY(!sqe))
		op->res = coil__no_sqe_error(rt);
	return sqe;
}

struct io_uring_sqe *coil__op_prep_slow(struct coil__op *op,
					int64_t timeout_ns)
{
	struct coil_task *self = op->task;
	struct coil_rt *rt;
	uint64_t deadline, now;

	if (!self) {
		op->res = -EPERM;
		return NULL;
	}
	rt = self->rt;
	if (timeout_ns == COIL__OP_EXEMPT) {
		op->flags = COIL__OPF_EXEMPT;
		return op_sqe(rt, op, 1);
	}
	if (self->cancelled) {
		op->res = -ECANCELED;
		return NULL;
	}
	deadline = self->deadline;
	if (timeout_ns == COIL__OP_NO_LINK ||
	    (timeout_ns < 0 && deadline == COIL__NEVER))
		return op_sqe(rt, op, 1);
	now = coil__now();
	if (timeout_ns >= 0 && now + (uint64_t)timeout_ns < deadline)
		deadline = now + (uint64_t)timeout_ns;
	if (now >= deadline) {
		rt->stats.timeouts++;
		op->res = -ETIMEDOUT;
		return NULL;
	}
	ns_to_ts(deadline, &op->ts);
	op->flags = COIL__OPF_LINKED;
	/* The op and its linked timeout must be adjacent in the SQ. */
	return op_sqe(rt, op, 2);
}

/* Map the kernel's answer to what the caller sees. */
static int op_result(struct coil__op *op)
{
	int res = op->res;

	if (COIL__LIKELY(res != -ECANCELED && res != -EINTR))
		return res;
	if (op->flags & COIL__OPF_CANCEL_SENT)
		return -ECANCELED;
	if (op->flags & COIL__OPF_TIMED_OUT) {
		op->task->rt->stats.timeouts++;
		return -ETIMEDOUT;
	}
	return res;
}

int coil__op_finish(struct coil__op *op)
{
	struct coil_task *self = op->task;
	struct coil_rt *rt = self->rt;
	struct io_uring_sqe *tsqe;

	op->pending = 1;
	if (op->flags & COIL__OPF_LINKED) {
		tsqe = coil__get_sqe(rt, 1);
		io_uring_prep_link_timeout(tsqe, &op->ts, IORING_TIMEOUT_ABS);
		io_uring_sqe_set_data64(tsqe, (uint64_t)(uintptr_t)op |
						      COIL__UD_LINK_TIMEOUT);
		op->pending = 2;
	}
	rt->be.inflight += op->pending;
	coil__suspend_inline(self, op->what, op_unwait, op);
	return op_result(op);
}

/* ------------------------------------------------------------- the ops */

/*
 * Each op: take an SQE (or the reason there is none), fill it, wait. The
 * plain form is the _timeout form with no timeout.
 */
#define OP_BEGIN_MODE(name, timeout)                                 \
	struct coil__op op;                                          \
	struct io_uring_sqe *sqe = coil__op_prep(&op, timeout, name); \
	if (!sqe)                                                    \
		return op.res
/* A public call's timeout: any negative value is "none". */
#define OP_BEGIN(name, timeout) OP_BEGIN_MODE(name, coil__user_timeout(timeout))

ssize_t coil_read_timeout(int fd, void *buf, size_t len, int64_t off,
			  int64_t timeout_ns)
{
	OP_BEGIN("read", timeout_ns);
	io_uring_prep_read(sqe, fd, buf, coil__rw_len(len), (uint64_t)off);
	return filled(buf, coil__op_wait(&op, sqe));
}

ssize_t coil_read(int fd, void *buf, size_t len, int64_t off)
{
	return coil_read_timeout(fd, buf, len, off, COIL_NO_TIMEOUT);
}

ssize_t coil_write_timeout(int fd, const void *buf, size_t len, int64_t off,
			   int64_t timeout_ns)
{
	OP_BEGIN("write", timeout_ns);
	io_uring_prep_write(sqe, fd, buf, coil__rw_len(len), (uint64_t)off);
	return coil__op_wait(&op, sqe);
}

ssize_t coil_write(int fd, const void *buf, size_t len, int64_t off)
{
	return coil_write_timeout(fd, buf, len, off, COIL_NO_TIMEOUT);
}

ssize_t coil_readv_timeout(int fd, const struct iovec *iov, int iovcnt,
			   int64_t off, int64_t timeout_ns)
{
	OP_BEGIN("readv", timeout_ns);
	io_uring_prep_readv(sqe, fd, iov, (unsigned)iovcnt, (uint64_t)off);
	return filled_iov(iov, iovcnt, coil__op_wait(&op, sqe));
}

ssize_t coil_readv(int fd, const struct iovec *iov, int iovcnt, int64_t off)
{
	return coil_readv_timeout(fd, iov, iovcnt, off, COIL_NO_TIMEOUT);
}

ssize_t coil_writev_timeout(int fd, const struct iovec *iov, int iovcnt,
			    int64_t off, int64_t timeout_ns)
{
	OP_BEGIN("writev", timeout_ns);
	io_uring_prep_writev(sqe, fd, iov, (unsigned)iovcnt, (uint64_t)off);
	return coil__op_wait(&op, sqe);
}

ssize_t coil_writev(int fd, const struct iovec *iov, int iovcnt, int64_t off)
{
	return coil_writev_timeout(fd, iov, iovcnt, off, COIL_NO_TIMEOUT);
}

ssize_t coil_recv_timeout(int fd, void *buf, size_t len, int flags,
			  int64_t timeout_ns)
{
	OP_BEGIN("recv", timeout_ns);
	io_uring_prep_recv(sqe, fd, buf, coil__rw_len(len), flags);
	return filled(buf, coil__op_wait_warm(&op, sqe));
}

ssize_t coil_recv(int fd, void *buf, size_t len, int flags)
{
	return coil_recv_timeout(fd, buf, len, flags, COIL_NO_TIMEOUT);
}

ssize_t coil_send_timeout(int fd, const void *buf, size_t len, int flags,
			  int64_t timeout_ns)
{
	OP_BEGIN("send", timeout_ns);
	io_uring_prep_send(sqe, fd, buf, coil__rw_len(len), flags | MSG_NOSIGNAL);
	return coil__op_wait(&op, sqe);
}

ssize_t coil_send(int fd, const void *buf, size_t len, int flags)
{
	return coil_send_timeout(fd, buf, len, flags, COIL_NO_TIMEOUT);
}

ssize_t coil_recvmsg_timeout(int fd, struct msghdr *msg, int flags,
			     int64_t timeout_ns)
{
	OP_BEGIN("recvmsg", timeout_ns);
	ssize_t res;

	io_uring_prep_recvmsg(sqe, fd, msg, (unsigned)flags);
	res = coil__op_wait_warm(&op, sqe);
	/* Only success proves @msg valid (NULL: the kernel says -EFAULT). */
	if (res < 0)
		return res;
	coil__vg_defined(msg, sizeof(*msg));
	if (msg->msg_name)
		coil__vg_defined(msg->msg_name, msg->msg_namelen);
	if (msg->msg_control)
		coil__vg_defined(msg->msg_control, msg->msg_controllen);
	return filled_iov(msg->msg_iov, (int)msg->msg_iovlen, res);
}

ssize_t coil_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return coil_recvmsg_timeout(fd, msg, flags, COIL_NO_TIMEOUT);
}

ssize_t coil_sendmsg_timeout(int fd, const struct msghdr *msg, int flags,
			     int64_t timeout_ns)
{
	OP_BEGIN("sendmsg", timeout_ns);
	io_uring_prep_sendmsg(sqe, fd, msg, (unsigned)flags | MSG_NOSIGNAL);
	return coil__op_wait(&op, sqe);
}

ssize_t coil_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return coil_sendmsg_timeout(fd, msg, flags, COIL_NO_TIMEOUT);
}

int coil_accept_timeout(int fd, struct sockaddr *addr, socklen_t *addrlen,
			int flags, int64_t timeout_ns)
{
	OP_BEGIN("accept", timeout_ns);
	int res;

	io_uring_prep_accept(sqe, fd, addr, addrlen, flags);
	res = coil__op_wait_warm(&op, sqe);
	if (res >= 0 && addr && addrlen) {
		coil__vg_defined(addrlen, sizeof(*addrlen));
		coil__vg_defined(addr, *addrlen);
	}
	return res;
}

int coil_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	return coil_accept_timeout(fd, addr, addrlen, flags, COIL_NO_TIMEOUT);
}

int coil_connect_timeout(int fd, const struct sockaddr *addr,
			 socklen_t addrlen, int64_t timeout_ns)
{
	OP_BEGIN("connect", timeout_ns);
	io_uring_prep_connect(sqe, fd, addr, addrlen);
	return coil__op_wait(&op, sqe);
}

int coil_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	return coil_connect_timeout(fd, addr, addrlen, COIL_NO_TIMEOUT);
}

int coil_shutdown(int fd, int how)
{
	OP_BEGIN("shutdown", COIL_NO_TIMEOUT);
	io_uring_prep_shutdown(sqe, fd, how);
	return coil__op_wait(&op, sqe);
}

int coil_close(int fd)
{
	OP_BEGIN_MODE("close", COIL__OP_EXEMPT);
	io_uring_prep_close(sqe, fd);
	return coil__op_wait(&op, sqe);
}

int coil_openat_timeout(int dfd, const char *path, int flags, mode_t mode,
			int64_t timeout_ns)
{
	OP_BEGIN("openat", timeout_ns);
	io_uring_prep_openat(sqe, dfd, path, flags, mode);
	return coil__op_wait(&op, sqe);
}

int coil_openat(int dfd, const char *path, int flags, mode_t mode)
{
	return coil_openat_timeout(dfd, path, flags, mode, COIL_NO_TIMEOUT);
}

int coil_openat2_timeout(int dfd, const char *path,
			 const struct open_how *how, int64_t timeout_ns)
{
	if (!path || !how)
		return -EINVAL;
	OP_BEGIN("openat2", timeout_ns);
	/* The kernel copies *how when it takes the SQE; it stays ours. */
	io_uring_prep_openat2(sqe, dfd, path, (struct open_how *)how);
	return coil__op_wait(&op, sqe);
}

int coil_openat2(int dfd, const char *path, const struct open_how *how)
{
	return coil_openat2_timeout(dfd, path, how, COIL_NO_TIMEOUT);
}

int coil_fsync_timeout(int fd, unsigned flags, int64_t timeout_ns)
{
	OP_BEGIN("fsync", timeout_ns);
	io_uring_prep_fsync(sqe, fd, flags);
	return coil__op_wait(&op, sqe);
}

int coil_fsync(int fd, unsigned flags)
{
	return coil_fsync_timeout(fd, flags, COIL_NO_TIMEOUT);
}

int coil_statx_timeout(int dfd, const char *path, int flags, unsigned mask,
		       struct statx *buf, int64_t timeout_ns)
{
	OP_BEGIN("statx", timeout_ns);
	int res;

	io_uring_prep_statx(sqe, dfd, path, flags, mask, buf);
	res = coil__op_wait(&op, sqe);
	if (res == 0)
		coil__vg_defined(buf, sizeof(*buf));
	return res;
}

int coil_statx(int dfd, const char *path, int flags, unsigned mask,
	       struct statx *buf)
{
	return coil_statx_timeout(dfd, path, flags, mask, buf,
				  COIL_NO_TIMEOUT);
}

int coil_poll_timeout(int fd, unsigned events, int64_t timeout_ns)
{
	OP_BEGIN("poll", timeout_ns);
	io_uring_prep_poll_add(sqe, fd, events);
	return coil__op_wait_warm(&op, sqe);
}

int coil_poll(int fd, unsigned events)
{
	return coil_poll_timeout(fd, events, COIL_NO_TIMEOUT);
}

/* ------------------------------------------------------------- loops */

ssize_t coil_read_full(int fd, void *buf, size_t len, int64_t off,
		       size_t *done)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = coil_read(fd, (char *)buf + got, len - got,
			      off < 0 ? -1 : off + (int64_t)got);
		if (n < 0) {
			if (done)
				*done = got;
			return n;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (done)
		*done = got;
	return (ssize_t)got;
}

ssize_t coil_write_all(int fd, const void *buf, size_t len, int64_t off,
		       size_t *done)
{
	size_t put = 0;
	ssize_t n;

	while (put < len) {
		n = coil_write(fd, (const char *)buf + put, len - put,
			       off < 0 ? -1 : off + (int64_t)put);
		if (n <= 0) {
			if (done)
				*done = put;
			return n < 0 ? n : -EIO;
		}
		put += (size_t)n;
	}
	if (done)
		*done = put;
	return (ssize_t)put;
}
