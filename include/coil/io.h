/* SPDX-License-Identifier: MIT */
/*
 * coil/io.h - system calls as io_uring ops that suspend only the caller.
 *
 * Each call fills one SQE, suspends the calling task and resumes it when the
 * op's CQE arrives. Results are exactly the kernel's: a count or a negative
 * errno; short reads and writes are returned as they are (see the _full /
 * _all helpers for loops). The op's state lives on the caller's stack, so no
 * call here allocates.
 *
 * Every call may suspend. Common errors besides the syscall's own:
 *  -ECANCELED  the task was cancelled (see coil_cancel());
 *  -ETIMEDOUT  the call's timeout or an enclosing deadline passed;
 *  -EPERM      called outside a coil task.
 * An op that ends early (cancel, timeout) returns only after the kernel has
 * posted its CQE: buffers passed in may be reused as soon as it returns.
 *
 * The _timeout variants take a relative timeout in nanoseconds (negative:
 * none) implemented as a linked timeout on the op; it combines with any
 * enclosing deadline scope (the earlier wins). A timeout of 0, or a
 * deadline already passed, is -ETIMEDOUT before the op is tried, even one
 * that could complete at once: for a non-blocking attempt use the call's
 * own flag (MSG_DONTWAIT, RWF_NOWAIT).
 *
 * File offsets (@off) are byte offsets; -1 means "the file position", as
 * for read(2)/write(2) (IORING_FEAT_RW_CUR_POS).
 */
#ifndef COIL_IO_H
#define COIL_IO_H

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct statx;

ssize_t coil_read(int fd, void *buf, size_t len, int64_t off);
ssize_t coil_read_timeout(int fd, void *buf, size_t len, int64_t off,
			  int64_t timeout_ns);
/* write(2) semantics: a pipe or socket with no reader raises SIGPIPE unless
 * it is ignored or blocked; for sockets use coil_send() (MSG_NOSIGNAL). */
ssize_t coil_write(int fd, const void *buf, size_t len, int64_t off);
ssize_t coil_write_timeout(int fd, const void *buf, size_t len, int64_t off,
			   int64_t timeout_ns);
ssize_t coil_readv(int fd, const struct iovec *iov, int iovcnt, int64_t off);
ssize_t coil_readv_timeout(int fd, const struct iovec *iov, int iovcnt,
			   int64_t off, int64_t timeout_ns);
ssize_t coil_writev(int fd, const struct iovec *iov, int iovcnt, int64_t off);
ssize_t coil_writev_timeout(int fd, const struct iovec *iov, int iovcnt,
			    int64_t off, int64_t timeout_ns);

/* recv(2)/send(2). coil_send() always adds MSG_NOSIGNAL: no SIGPIPE. */
ssize_t coil_recv(int fd, void *buf, size_t len, int flags);
ssize_t coil_recv_timeout(int fd, void *buf, size_t len, int flags,
			  int64_t timeout_ns);
ssize_t coil_send(int fd, const void *buf, size_t len, int flags);
ssize_t coil_send_timeout(int fd, const void *buf, size_t len, int flags,
			  int64_t timeout_ns);
ssize_t coil_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t coil_recvmsg_timeout(int fd, struct msghdr *msg, int flags,
			     int64_t timeout_ns);
/* Adds MSG_NOSIGNAL like coil_send(). */
ssize_t coil_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t coil_sendmsg_timeout(int fd, const struct msghdr *msg, int flags,
			     int64_t timeout_ns);

/* accept4(2): returns the new fd. @flags: SOCK_NONBLOCK / SOCK_CLOEXEC. */
int coil_accept(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
int coil_accept_timeout(int fd, struct sockaddr *addr, socklen_t *addrlen,
			int flags, int64_t timeout_ns);
int coil_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);
int coil_connect_timeout(int fd, const struct sockaddr *addr,
			 socklen_t addrlen, int64_t timeout_ns);
int coil_shutdown(int fd, int how);

/*
 * coil_close - close(2) through the ring. Exempt from cancellation and
 * deadlines: a cancelled task can always release its descriptors.
 * Returns 0 or the kernel's -errno (-EBADF, ...), or -EPERM.
 */
int coil_close(int fd);

/* openat(2): returns the new fd. */
int coil_openat(int dfd, const char *path, int flags, mode_t mode);
int coil_openat_timeout(int dfd, const char *path, int flags, mode_t mode,
			int64_t timeout_ns);

struct open_how; /* <linux/openat2.h> */

/*
 * coil_openat2 - openat2(2) through the ring (IORING_OP_OPENAT2, Linux
 * 5.6): @how's resolve flags confine the lookup, e.g. RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS to open only what lies under @dfd, which is what a
 * file server wants. Returns the new fd, or the kernel's -errno (-EXDEV:
 * the path leaves @dfd; -ELOOP: a symlink under RESOLVE_NO_SYMLINKS;
 * -EINVAL: bad @how, or a kernel without IORING_OP_OPENAT2), -EINVAL (NULL
 * @path or @how), -ECANCELED, -ETIMEDOUT, -EPERM.
 */
int coil_openat2(int dfd, const char *path, const struct open_how *how);
int coil_openat2_timeout(int dfd, const char *path,
			 const struct open_how *how, int64_t timeout_ns);
/* fsync(2); @flags = IORING_FSYNC_DATASYNC for fdatasync(2). */
int coil_fsync(int fd, unsigned flags);
int coil_fsync_timeout(int fd, unsigned flags, int64_t timeout_ns);
/* statx(2). */
int coil_statx(int dfd, const char *path, int flags, unsigned mask,
	       struct statx *buf);
int coil_statx_timeout(int dfd, const char *path, int flags, unsigned mask,
		       struct statx *buf, int64_t timeout_ns);
/*
 * coil_poll - wait until @fd is ready for @events (POLLIN, POLLOUT, ...).
 * Returns the ready events mask (> 0) or a negative errno.
 */
int coil_poll(int fd, unsigned events);
int coil_poll_timeout(int fd, unsigned events, int64_t timeout_ns);

/*
 * coil_read_full - read until @len bytes, end of file or an error.
 * Returns the byte count (less than @len only at end of file), or a negative
 * errno; on error *@done (if not NULL) holds the bytes read before it, which
 * are in @buf. @off = -1 reads at the file position; otherwise the offset
 * advances with each read.
 */
ssize_t coil_read_full(int fd, void *buf, size_t len, int64_t off,
		       size_t *done);

/*
 * coil_write_all - write all @len bytes unless an error happens. Returns
 * @len or a negative errno, with *@done (if not NULL) the bytes written.
 * Uses IORING_OP_WRITE: on a socket whose peer has gone, write(2) semantics
 * apply (SIGPIPE unless ignored); loop over coil_send() for sockets.
 */
ssize_t coil_write_all(int fd, const void *buf, size_t len, int64_t off,
		       size_t *done);

#ifdef __cplusplus
}
#endif

#endif /* COIL_IO_H */
