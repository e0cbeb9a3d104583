/* SPDX-License-Identifier: MIT */
/*
 * tests/test_io.c - I/O ops through the ring: files, vectors, short reads,
 * the _full/_all loops, sockets, errors, and cancel safety of buffers.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/openat2.h>
#include <sys/stat.h>

#include "helpers.h"

#define PTR(x) ((void *)(intptr_t)(x))
#define INT(p) ((int)(intptr_t)(p))

struct tmpfile {
	char path[64];
	int fd;
};

static void tmpfile_open(struct tmpfile *tf)
{
	strcpy(tf->path, "/tmp/coil-test-io-XXXXXX");
	tf->fd = mkstemp(tf->path);
	assert_true(tf->fd >= 0);
}

static void tmpfile_close(struct tmpfile *tf)
{
	close(tf->fd);
	unlink(tf->path);
}

/* ---------------------------------------------------- files */

static void *body_file_offsets(void *arg)
{
	struct tmpfile *tf = arg;
	char buf[32];

	assert_int_equal(coil_write(tf->fd, "hello", 5, 0), 5);
	assert_int_equal(coil_write(tf->fd, "world", 5, 10), 5);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(coil_read(tf->fd, buf, 5, 10), 5);
	assert_memory_equal(buf, "world", 5);
	/* The hole between reads back as zeros; EOF after 15 bytes. */
	assert_int_equal(coil_read(tf->fd, buf, sizeof(buf), 0), 15);
	assert_memory_equal(buf, "hello\0\0\0\0\0world", 15);
	assert_int_equal(coil_read(tf->fd, buf, sizeof(buf), 15), 0);
	/* Offset -1 uses and advances the file position. */
	assert_int_equal(lseek(tf->fd, 0, SEEK_SET), 0);
	assert_int_equal(coil_read(tf->fd, buf, 3, -1), 3);
	assert_memory_equal(buf, "hel", 3);
	assert_int_equal(coil_read(tf->fd, buf, 2, -1), 2);
	assert_memory_equal(buf, "lo", 2);
	assert_int_equal(lseek(tf->fd, 0, SEEK_CUR), 5);
	return NULL;
}

static void test_io_file_read_write_at_offsets(void **state)
{
	struct tmpfile tf;

	(void)state;
	tmpfile_open(&tf);
	test_run(body_file_offsets, &tf);
	tmpfile_close(&tf);
}

static void *body_vectors(void *arg)
{
	struct tmpfile *tf = arg;
	char a[4] = "abcd", b[6] = "efghij", x[3], y[7];
	struct iovec wv[2] = { { a, 4 }, { b, 6 } };
	struct iovec rv[2] = { { x, 3 }, { y, 7 } };

	assert_int_equal(coil_writev(tf->fd, wv, 2, 100), 10);
	assert_int_equal(coil_readv(tf->fd, rv, 2, 100), 10);
	assert_memory_equal(x, "abc", 3);
	assert_memory_equal(y, "defghij", 7);
	return NULL;
}

static void test_io_readv_writev(void **state)
{
	struct tmpfile tf;

	(void)state;
	tmpfile_open(&tf);
	test_run(body_vectors, &tf);
	tmpfile_close(&tf);
}

static void *body_short_read(void *arg)
{
	int *p = arg;
	char buf[100];

	assert_int_equal(write(p[1], "abc", 3), 3);
	assert_int_equal(coil_read(p[0], buf, sizeof(buf), -1), 3);
	assert_memory_equal(buf, "abc", 3);
	return NULL;
}

static void test_io_short_read_returned_as_is(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	test_run(body_short_read, p);
	close(p[0]);
	close(p[1]);
}

#define BIG (1 << 20)

static void *body_full_all(void *arg)
{
	struct tmpfile *tf = arg;
	unsigned char *out = malloc(BIG), *in = malloc(2 * BIG);
	size_t done = 1;
	int i;

	assert_non_null(out);
	assert_non_null(in);
	for (i = 0; i < BIG; i++)
		out[i] = (unsigned char)(i * 31 + 7);
	assert_int_equal(coil_write_all(tf->fd, out, BIG, 0, &done), BIG);
	assert_int_equal(done, BIG);
	/* Asking for more than the file holds stops at EOF. */
	assert_int_equal(coil_read_full(tf->fd, in, 2 * BIG, 0, &done), BIG);
	assert_memory_equal(in, out, BIG);
	assert_int_equal(coil_read_full(tf->fd, in, 100, BIG - 10, NULL), 10);
	assert_int_equal(coil_read_full(tf->fd, in, 100, BIG, NULL), 0);
	free(out);
	free(in);
	return NULL;
}

static void test_io_read_full_write_all_stop_at_eof(void **state)
{
	struct tmpfile tf;

	(void)state;
	tmpfile_open(&tf);
	test_run(body_full_all, &tf);
	tmpfile_close(&tf);
}

static void *pipe_writer(void *arg)
{
	int fd = INT(arg);
	int i;

	/* Trickle 10 x 10 bytes, then EOF. */
	for (i = 0; i < 10; i++) {
		assert_int_equal(coil_write(fd, "0123456789", 10, -1), 10);
		assert_int_equal(coil_sleep(MS(1)), 0);
	}
	assert_int_equal(coil_close(fd), 0);
	return NULL;
}

static void *body_read_full_pipe(void *arg)
{
	struct coil_task *t;
	char buf[200];
	int p[2];

	(void)arg;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(coil_spawn(&t, pipe_writer, PTR(p[1])), 0);
	assert_int_equal(coil_read_full(p[0], buf, sizeof(buf), -1, NULL), 100);
	assert_memory_equal(buf + 90, "0123456789", 10);
	assert_int_equal(coil_join(t, NULL), 0);
	assert_int_equal(coil_close(p[0]), 0); /* the writer closed p[1] */
	return NULL;
}

static void test_io_read_full_collects_short_reads(void **state)
{
	(void)state;
	test_run(body_read_full_pipe, NULL);
}

static void *body_open_stat_sync(void *arg)
{
	const char *path = arg;
	struct statx stx;
	int fd;

	fd = coil_openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(coil_write(fd, "0123456789abc", 13, 0), 13);
	assert_int_equal(coil_fsync(fd, 0), 0);
	assert_int_equal(coil_fsync(fd, IORING_FSYNC_DATASYNC), 0);
	memset(&stx, 0, sizeof(stx));
	assert_int_equal(coil_statx(AT_FDCWD, path, 0, STATX_SIZE | STATX_MODE,
				    &stx), 0);
	assert_int_equal(stx.stx_size, 13);
	assert_int_equal(stx.stx_mode & 0777, 0600);
	assert_true(S_ISREG(stx.stx_mode));
	assert_int_equal(coil_close(fd), 0);
	assert_int_equal(coil_close(fd), -EBADF);
	assert_int_equal(coil_openat(AT_FDCWD, "/nonexistent/coil/x",
				     O_RDONLY, 0), -ENOENT);
	assert_int_equal(coil_statx(AT_FDCWD, "/nonexistent/coil/x", 0,
				    STATX_SIZE, &stx), -ENOENT);
	return NULL;
}

/*
 * openat2 with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS opens what lies under
 * the directory and refuses every way out of it: "..", an absolute path,
 * and a symlink (even one pointing inside).
 */
static void *body_openat2_beneath(void *arg)
{
	int dfd = *(int *)arg, fd;
	struct open_how how;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
	fd = coil_openat2(dfd, "sub/f", &how);
	if (fd == -EINVAL)
		return PTR(-EINVAL); /* no IORING_OP_OPENAT2: the test skips */
	assert_true(fd >= 0);
	assert_int_equal(coil_close(fd), 0);
	assert_int_equal(coil_openat2(dfd, "../etc/passwd", &how), -EXDEV);
	assert_int_equal(coil_openat2(dfd, "sub/../../x", &how), -EXDEV);
	assert_int_equal(coil_openat2(dfd, "/etc/passwd", &how), -EXDEV);
	assert_int_equal(coil_openat2(dfd, "link/f", &how), -ELOOP);
	assert_int_equal(coil_openat2(dfd, "sub/f", NULL), -EINVAL);
	return NULL;
}

static void test_io_openat2_confines_lookup_beneath_dir(void **state)
{
	char dir[64], path[128];
	void *res;
	int dfd, fd;

	(void)state;
	strcpy(dir, "/tmp/coil-test-openat2-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sub", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/sub/f", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/link", dir);
	assert_int_equal(symlink("sub", path), 0);
	dfd = open(dir, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	assert_true(dfd >= 0);
	res = test_run(body_openat2_beneath, &dfd);
	close(dfd);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub/f", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/sub", dir);
	rmdir(path);
	rmdir(dir);
	if (res)
		TEST_SKIP("the kernel has no IORING_OP_OPENAT2 (Linux < 5.6)");
}

static void test_io_openat_statx_fsync_close(void **state)
{
	char path[64];
	int fd;

	(void)state;
	strcpy(path, "/tmp/coil-test-open-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	test_run(body_open_stat_sync, path);
	unlink(path);
}

/* -------------------------------------------------- sockets */

static void *body_socketpair(void *arg)
{
	int *sv = arg;
	char buf[32], h1[3] = "abc", h2[4] = "defg", r1[2], r2[10];
	struct iovec wv[2] = { { h1, 3 }, { h2, 4 } };
	struct iovec rv[2] = { { r1, 2 }, { r2, 10 } };
	struct msghdr wm = { .msg_iov = wv, .msg_iovlen = 2 };
	struct msghdr rm = { .msg_iov = rv, .msg_iovlen = 2 };

	assert_int_equal(coil_send(sv[0], "ping", 4, 0), 4);
	assert_int_equal(coil_recv(sv[1], buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "ping", 4);
	assert_int_equal(coil_sendmsg(sv[1], &wm, 0), 7);
	assert_int_equal(coil_recvmsg(sv[0], &rm, 0), 7);
	assert_memory_equal(r1, "ab", 2);
	assert_memory_equal(r2, "cdefg", 5);
	/* poll: writable now, readable once data is there. */
	assert_true(coil_poll(sv[0], POLLOUT) & POLLOUT);
	assert_int_equal(coil_poll_timeout(sv[0], POLLIN, MS(10)), -ETIMEDOUT);
	assert_int_equal(write(sv[1], "z", 1), 1);
	assert_true(coil_poll(sv[0], POLLIN) & POLLIN);
	assert_int_equal(coil_recv(sv[0], buf, 1, 0), 1);
	/* shutdown: the peer reads EOF. */
	assert_int_equal(coil_shutdown(sv[1], SHUT_WR), 0);
	assert_int_equal(coil_recv(sv[0], buf, sizeof(buf), 0), 0);
	return NULL;
}

static void test_io_send_recv_msg_poll_shutdown_socketpair(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	test_run(body_socketpair, sv);
	close(sv[0]);
	close(sv[1]);
}

static void *body_recvmsg_null(void *arg)
{
	int *sv = arg;

	/* recvmsg(2) answers -EFAULT; coil must not touch the msghdr. */
	assert_int_equal(coil_recvmsg(sv[0], NULL, 0), -EFAULT);
	assert_int_equal(coil_recvmsg_timeout(sv[0], NULL, 0, MS(10)),
			 -EFAULT);
	return NULL;
}

/* Bad input is the kernel's error, not a NULL dereference in coil. */
static void test_io_recvmsg_null_msghdr_is_efault(void **state)
{
	int sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	test_run(body_recvmsg_null, sv);
	close(sv[0]);
	close(sv[1]);
}

struct tcp_server {
	int lfd;
	char got[16];
	int got_len;
};

static void *tcp_accept_echo(void *arg)
{
	struct tcp_server *srv = arg;
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	int fd;

	fd = coil_accept(srv->lfd, (struct sockaddr *)&peer, &plen,
			 SOCK_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(plen, sizeof(peer));
	assert_int_equal(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	srv->got_len = (int)coil_recv(fd, srv->got, sizeof(srv->got), 0);
	assert_int_equal(coil_send(fd, srv->got, (size_t)srv->got_len, 0),
			 srv->got_len);
	assert_int_equal(coil_close(fd), 0);
	return NULL;
}

static void *body_tcp(void *arg)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	struct tcp_server srv = { .got_len = -1 };
	struct coil_task *t;
	char buf[16];
	int fd;

	(void)arg;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(srv.lfd >= 0);
	assert_int_equal(bind(srv.lfd, (struct sockaddr *)&addr, len), 0);
	assert_int_equal(listen(srv.lfd, 8), 0);
	assert_int_equal(getsockname(srv.lfd, (struct sockaddr *)&addr, &len),
			 0);
	assert_int_not_equal(addr.sin_port, 0);
	assert_int_equal(coil_spawn(&t, tcp_accept_echo, &srv), 0);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(coil_connect(fd, (struct sockaddr *)&addr, len), 0);
	assert_int_equal(coil_send(fd, "echo", 4, 0), 4);
	assert_int_equal(coil_recv(fd, buf, sizeof(buf), MSG_WAITALL), 4);
	assert_memory_equal(buf, "echo", 4);
	assert_int_equal(coil_join(t, NULL), 0);
	assert_int_equal(srv.got_len, 4);
	assert_int_equal(coil_close(fd), 0);
	assert_int_equal(coil_close(srv.lfd), 0);
	return NULL;
}

static void test_io_accept_connect_tcp_loopback(void **state)
{
	(void)state;
	test_run(body_tcp, NULL);
}

static void *body_refused(void *arg)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	socklen_t len = sizeof(addr);
	int fd, probe;

	(void)arg;
	/* A port that was just free and has no listener. */
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	probe = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(bind(probe, (struct sockaddr *)&addr, len), 0);
	assert_int_equal(getsockname(probe, (struct sockaddr *)&addr, &len), 0);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(coil_connect(fd, (struct sockaddr *)&addr, len),
			 -ECONNREFUSED);
	close(fd);
	close(probe);
	return NULL;
}

static void test_io_connect_closed_port_is_econnrefused(void **state)
{
	(void)state;
	test_run(body_refused, NULL);
}

static void *body_epipe(void *arg)
{
	struct iovec iov = { "x", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int sv[2];

	(void)arg;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(coil_close(sv[1]), 0);
	assert_int_equal(coil_send(sv[0], "data", 4, 0), -EPIPE);
	assert_int_equal(coil_sendmsg(sv[0], &m, 0), -EPIPE);
	assert_int_equal(coil_close(sv[0]), 0);
	return NULL;
}

static void test_io_send_to_closed_peer_is_epipe(void **state)
{
	struct sigaction old, dfl = { .sa_handler = SIG_DFL };

	(void)state;
	/* SIGPIPE at its default (death) proves MSG_NOSIGNAL is there. */
	assert_int_equal(sigaction(SIGPIPE, &dfl, &old), 0);
	test_run(body_epipe, NULL);
	sigaction(SIGPIPE, &old, NULL);
}

/* ------------------------------------------------- cancel safety */

#define CANCEL_BUF 4096

struct cancel_read {
	int fd;
	unsigned char *buf;
	ssize_t ret;
};

static void *read_into_heap(void *arg)
{
	struct cancel_read *cr = arg;

	cr->ret = coil_read(cr->fd, cr->buf, CANCEL_BUF, -1);
	return NULL;
}

static void *body_cancel_read(void *arg)
{
	int *p = arg;
	struct cancel_read cr = { .fd = p[0], .ret = 1 };
	struct coil_task *t;
	unsigned char fresh[16];
	int i;

	cr.buf = malloc(CANCEL_BUF);
	assert_non_null(cr.buf);
	memset(cr.buf, 0xAA, CANCEL_BUF);
	assert_int_equal(coil_spawn(&t, read_into_heap, &cr), 0);
	assert_int_equal(coil_sleep(MS(5)), 0); /* the read is in the kernel */
	assert_int_equal(coil_cancel(t), 0);
	assert_int_equal(coil_join(t, NULL), -ECANCELED);
	assert_int_equal(cr.ret, -ECANCELED);
	/* Data written now must not land in the old buffer... */
	assert_int_equal(coil_write(p[1], "after-cancel", 12, -1), 12);
	assert_int_equal(coil_sleep(MS(5)), 0);
	for (i = 0; i < CANCEL_BUF; i++)
		assert_int_equal(cr.buf[i], 0xAA);
	free(cr.buf); /* ASan would flag a later kernel-side use of it */
	/* ...and is still in the pipe for the next reader. */
	assert_int_equal(coil_read(p[0], fresh, sizeof(fresh), -1), 12);
	assert_memory_equal(fresh, "after-cancel", 12);
	return NULL;
}

static void test_io_cancelled_read_leaves_buffer_and_data(void **state)
{
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	test_run(body_cancel_read, p);
	close(p[0]);
	close(p[1]);
}

/*
 * The same with the buffer on the reader's own stack: after the cancelled
 * read returns and its task ends, the next task of that stack size gets the
 * same stack slot and fills it with a pattern; data written to the pipe
 * then must not appear in it, and must still be in the pipe.
 */
#define STACK_TASK (16 * 1024)
#define STACK_BUF 4096
#define PATTERN_LEN 8192

struct stack_cancel {
	int pipe[2];
	ssize_t ret;
	uintptr_t buf_lo, buf_hi;  /* the cancelled read's buffer */
	uintptr_t pat_lo, pat_hi;  /* the next task's pattern */
	int corrupted;             /* pattern bytes found changed */
	ssize_t later_read;        /* what a new read got afterwards */
	char later[16];
};

static void *read_into_stack(void *arg)
{
	struct stack_cancel *sc = arg;
	unsigned char buf[STACK_BUF];

	memset(buf, 0x11, sizeof(buf));
	sc->buf_lo = (uintptr_t)buf;
	sc->buf_hi = (uintptr_t)(buf + sizeof(buf));
	sc->ret = coil_read(sc->pipe[0], buf, sizeof(buf), -1);
	return NULL;
}

static void *fill_stack_and_wait(void *arg)
{
	struct stack_cancel *sc = arg;
	volatile unsigned char pat[PATTERN_LEN];
	int i;

	for (i = 0; i < PATTERN_LEN; i++)
		pat[i] = 0x5A;
	sc->pat_lo = (uintptr_t)pat;
	sc->pat_hi = (uintptr_t)(pat + PATTERN_LEN);
	coil_sleep(MS(20)); /* main writes to the pipe meanwhile */
	for (i = 0; i < PATTERN_LEN; i++)
		sc->corrupted += pat[i] != 0x5A;
	return NULL;
}

static void *body_cancel_stack_read(void *arg)
{
	struct coil_spawn_opts so = { .stack_size = STACK_TASK };
	struct stack_cancel *sc = arg;
	struct coil_task *t;

	assert_int_equal(coil_spawn_opts(&t, &so, read_into_stack, sc), 0);
	assert_int_equal(coil_sleep(MS(5)), 0); /* the read is in the kernel */
	assert_int_equal(coil_cancel(t), 0);
	assert_int_equal(coil_join(t, NULL), -ECANCELED);
	assert_int_equal(coil_spawn_opts(&t, &so, fill_stack_and_wait, sc), 0);
	assert_int_equal(coil_sleep(MS(5)), 0); /* the pattern is in place */
	assert_int_equal(coil_write(sc->pipe[1], "after-cancel", 12, -1), 12);
	assert_int_equal(coil_join(t, NULL), 0);
	/* Bounded: if the old read were still live it would take the data. */
	sc->later_read = coil_read_timeout(sc->pipe[0], sc->later,
					   sizeof(sc->later), -1, MS(1000));
	return NULL;
}

static void test_io_cancelled_stack_read_spares_reused_stack(void **state)
{
	struct stack_cancel sc = { .ret = 1, .later_read = -1 };

	(void)state;
	assert_int_equal(pipe(sc.pipe), 0);
	test_run(body_cancel_stack_read, &sc);
	close(sc.pipe[0]);
	close(sc.pipe[1]);
	assert_int_equal(sc.ret, -ECANCELED);
	if (sc.pat_hi <= sc.buf_lo || sc.buf_hi <= sc.pat_lo) {
		if (TEST_ASAN)
			TEST_SKIP("ASan moved the frames (fake stacks): the "
				  "stack slot was not reused as such");
		fail_msg("the second task's frame does not overlap the first's");
	}
	assert_int_equal(sc.corrupted, 0);
	assert_int_equal(sc.later_read, 12);
	assert_memory_equal(sc.later, "after-cancel", 12);
}

static void *close_while_cancelled(void *arg)
{
	int fd = INT(arg);

	coil_cancel(coil_self());
	assert_int_equal(coil_read(fd, &fd, 1, -1), -ECANCELED);
	return PTR(coil_close(fd));
}

static void *body_close_exempt(void *arg)
{
	struct coil_task *t;
	void *res = PTR(1);
	int fd = open("/dev/null", O_RDONLY);

	(void)arg;
	assert_true(fd >= 0);
	assert_int_equal(coil_spawn(&t, close_while_cancelled, PTR(fd)), 0);
	assert_int_equal(coil_join(t, &res), -ECANCELED);
	assert_int_equal(INT(res), 0);
	assert_int_equal(fcntl(fd, F_GETFD), -1); /* really closed */
	return NULL;
}

static void test_io_close_works_when_cancelled(void **state)
{
	(void)state;
	test_run(body_close_exempt, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_file_read_write_at_offsets),
		cmocka_unit_test(test_io_readv_writev),
		cmocka_unit_test(test_io_short_read_returned_as_is),
		cmocka_unit_test(test_io_read_full_write_all_stop_at_eof),
		cmocka_unit_test(test_io_read_full_collects_short_reads),
		cmocka_unit_test(test_io_openat_statx_fsync_close),
		cmocka_unit_test(test_io_openat2_confines_lookup_beneath_dir),
		cmocka_unit_test(test_io_send_recv_msg_poll_shutdown_socketpair),
		cmocka_unit_test(test_io_recvmsg_null_msghdr_is_efault),
		cmocka_unit_test(test_io_accept_connect_tcp_loopback),
		cmocka_unit_test(test_io_connect_closed_port_is_econnrefused),
		cmocka_unit_test(test_io_send_to_closed_peer_is_epipe),
		cmocka_unit_test(test_io_cancelled_read_leaves_buffer_and_data),
		cmocka_unit_test(test_io_cancelled_stack_read_spares_reused_stack),
		cmocka_unit_test(test_io_close_works_when_cancelled),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, test_fd_setup, test_fd_teardown);
}
