/* SPDX-License-Identifier: MIT */
/*
 * bench/baselines/echo_uring.c - the raw liburing baseline of the echo
 * scenario (bench/ECHO.md): a hand-written io_uring loop, no coroutines,
 * meant as the ceiling for io_uring on this machine.
 *
 * One ring, set up with SINGLE_ISSUER | DEFER_TASKRUN (falling back to
 * COOP_TASKRUN, then to no flags, on EINVAL), its fd registered; one
 * multishot accept; every loop iteration is one io_uring_submit_and_wait()
 * that submits what the previous batch of completions queued and reaps the
 * next batch. Two ways to receive, chosen with -m:
 *   rs  one recv per message into the connection's own buffer, then one
 *       send of what arrived, then the next recv (default: as fast as
 *       any variant here and the simplest, see bench/ECHO.md)
 *   mr  one multishot recv per connection, into buffers it picks from a
 *       provided buffer ring; each is sent back, then returned to the ring
 * -f puts the accepted sockets in the ring's fixed file table (multishot
 * accept direct), so that no op looks the socket up in the fd table.
 * -P (rs) sets IORING_RECVSEND_POLL_FIRST on every recv after the first:
 * the next message is rarely there yet when the echo has just gone out.
 * Partial sends are finished before anything else is sent on a socket;
 * TCP_NODELAY is set on the listener, which accepted sockets inherit.
 *
 * Usage: echo_uring -p PORT [-m rs|mr] [-f] [-P]
 * Prints "READY port=N" once it accepts; exits 0 on SIGTERM or SIGINT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "listen.h"

#define PROG "echo_uring"
#define RING_ENTRIES 4096
#define CQ_ENTRIES 16384
#define MAX_FILES 8192		/* fixed file table size (-f) */
#define CONN_BUF 16384		/* rs: each connection's buffer */
#define NBUFS 4096		/* mr: buffers in the provided ring */
#define PBUF_SIZE 16384		/* mr: the size of each */
#define BGID 0
#define NO_BID 0xffffu

/* What a completion is for: the low bits of its user_data. */
enum op { OP_ACCEPT = 1, OP_RECV = 2, OP_SEND = 3, OP_CLOSE = 4 };

/* One client connection. */
struct conn {
	int fd;			/* socket, or its fixed file index (-f) */
	bool recv_armed;	/* a recv (multishot or not) is in flight */
	bool send_armed;	/* a send is in flight */
	bool closing;		/* no more recv: close once idle */
	unsigned char *buf;	/* rs: the connection's buffer, owned */
	unsigned len;		/* bytes to send back */
	unsigned off;		/* of which already sent */
	uint16_t head, tail;	/* mr: queue of filled buffers to send */
};

/* The whole server. */
struct server {
	struct io_uring ring;
	int lfd;
	bool multishot_recv;	/* -m mr */
	bool fixed;		/* -f */
	bool poll_first;	/* -P */
	unsigned sqe_flags;	/* IOSQE_FIXED_FILE with -f */
	struct io_uring_buf_ring *br;	/* mr: the provided buffer ring */
	unsigned char *pbufs;	/* mr: NBUFS x PBUF_SIZE */
	uint16_t next[NBUFS];	/* mr: per-conn send queue links */
	unsigned blen[NBUFS];	/* mr: bytes in each queued buffer */
	int recycled;		/* mr: buffers added, not yet published */
};

static volatile sig_atomic_t stopping;

static void die(const char *what, int err)
{
	fprintf(stderr, "%s: %s: %s\n", PROG, what, strerror(err));
	exit(1);
}

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static uint64_t tag(void *p, enum op op)
{
	return (uint64_t)(uintptr_t)p | op;
}

/* An SQE, submitting the queued ones first if the SQ is full. */
static struct io_uring_sqe *get_sqe(struct server *s)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&s->ring);

	if (!sqe) {
		io_uring_submit(&s->ring);
		sqe = io_uring_get_sqe(&s->ring);
		if (!sqe)
			die("io_uring_get_sqe", EBUSY);
	}
	return sqe;
}

/* ---------------------------------------------------------- setup */

/* The ring, with the best task-run mode this kernel takes. */
static void ring_setup(struct server *s)
{
	static const unsigned tries[] = {
		IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
		0,
	};
	struct io_uring_params p;
	unsigned i;
	int ret = -EINVAL;

	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		memset(&p, 0, sizeof(p));
		p.flags = tries[i] | IORING_SETUP_CQSIZE |
			  IORING_SETUP_SUBMIT_ALL;
		p.cq_entries = CQ_ENTRIES;
		ret = io_uring_queue_init_params(RING_ENTRIES, &s->ring, &p);
		if (ret != -EINVAL)
			break;
	}
	if (ret < 0)
		die("io_uring_queue_init_params", -ret);
	io_uring_register_ring_fd(&s->ring);	/* an optimization only */
	if (s->fixed) {
		ret = io_uring_register_files_sparse(&s->ring, MAX_FILES);
		if (ret < 0)
			die("io_uring_register_files_sparse", -ret);
		s->sqe_flags = IOSQE_FIXED_FILE;
	}
}

/* mr: the provided buffer ring, every buffer in it. */
static void pbuf_setup(struct server *s)
{
	struct io_uring_buf_reg reg = { .ring_entries = NBUFS, .bgid = BGID };
	size_t ring_bytes = NBUFS * sizeof(struct io_uring_buf);
	int ret, i;

	if (posix_memalign((void **)&s->br, 4096, ring_bytes) ||
	    posix_memalign((void **)&s->pbufs, 4096,
			   (size_t)NBUFS * PBUF_SIZE))
		die("posix_memalign", ENOMEM);
	reg.ring_addr = (unsigned long)(uintptr_t)s->br;
	ret = io_uring_register_buf_ring(&s->ring, &reg, 0);
	if (ret < 0)
		die("io_uring_register_buf_ring", -ret);
	io_uring_buf_ring_init(s->br);
	for (i = 0; i < NBUFS; i++)
		io_uring_buf_ring_add(s->br, s->pbufs + (size_t)i * PBUF_SIZE,
				      PBUF_SIZE, (unsigned short)i,
				      io_uring_buf_ring_mask(NBUFS), i);
	io_uring_buf_ring_advance(s->br, NBUFS);
}

/* ------------------------------------------------------ submitting */

static void arm_accept(struct server *s)
{
	struct io_uring_sqe *sqe = get_sqe(s);

	if (s->fixed)
		io_uring_prep_multishot_accept_direct(sqe, s->lfd, NULL, NULL,
						      0);
	else
		io_uring_prep_multishot_accept(sqe, s->lfd, NULL, NULL,
					       SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, OP_ACCEPT);
}

static void arm_recv(struct server *s, struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(s);

	if (s->multishot_recv) {
		io_uring_prep_recv_multishot(sqe, c->fd, NULL, 0, 0);
		sqe->flags |= IOSQE_BUFFER_SELECT;
		sqe->buf_group = BGID;
	} else {
		io_uring_prep_recv(sqe, c->fd, c->buf, CONN_BUF, 0);
		if (s->poll_first && c->len)	/* not the first recv */
			sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
	}
	sqe->flags |= s->sqe_flags;
	io_uring_sqe_set_data64(sqe, tag(c, OP_RECV));
	c->recv_armed = true;
}

static void arm_send(struct server *s, struct conn *c, const void *p,
		     unsigned n)
{
	struct io_uring_sqe *sqe = get_sqe(s);

	io_uring_prep_send(sqe, c->fd, p, n, MSG_NOSIGNAL);
	sqe->flags |= s->sqe_flags;
	io_uring_sqe_set_data64(sqe, tag(c, OP_SEND));
	c->send_armed = true;
}

/* mr: send the rest of the buffer at the head of @c's queue. */
static void send_head(struct server *s, struct conn *c)
{
	arm_send(s, c, s->pbufs + (size_t)c->head * PBUF_SIZE + c->off,
		 s->blen[c->head] - c->off);
}

/* mr: give the buffer at the head of @c's queue back to the ring. */
static void recycle_head(struct server *s, struct conn *c)
{
	uint16_t bid = c->head;

	io_uring_buf_ring_add(s->br, s->pbufs + (size_t)bid * PBUF_SIZE,
			      PBUF_SIZE, bid, io_uring_buf_ring_mask(NBUFS),
			      s->recycled++);
	c->head = s->next[bid];
	if (c->head == NO_BID)
		c->tail = NO_BID;
}

/* Stop receiving on @c: its recv in flight ends (with 0) when it shuts. */
static void conn_shutdown(struct server *s, struct conn *c)
{
	struct io_uring_sqe *sqe = get_sqe(s);

	io_uring_prep_shutdown(sqe, c->fd, SHUT_RDWR);
	sqe->flags |= s->sqe_flags;
	io_uring_sqe_set_data64(sqe, OP_CLOSE);
}

/* Close @c once nothing of it is in flight; its buffers go back. */
static void conn_maybe_close(struct server *s, struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (!c->closing || c->recv_armed || c->send_armed)
		return;
	while (c->head != NO_BID)
		recycle_head(s, c);
	if (s->fixed) {
		sqe = get_sqe(s);
		io_uring_prep_close_direct(sqe, (unsigned)c->fd);
		io_uring_sqe_set_data64(sqe, OP_CLOSE);
	} else {
		close(c->fd);
	}
	free(c->buf);
	free(c);
}

/* ------------------------------------------------------- completing */

static void on_accept(struct server *s, struct io_uring_cqe *cqe)
{
	struct conn *c;

	if (!(cqe->flags & IORING_CQE_F_MORE))
		arm_accept(s);
	if (cqe->res < 0)
		return;	/* -ECONNABORTED, -EMFILE, -ENFILE: go on */
	c = aligned_alloc(8, sizeof(*c));
	if (!c)
		die("malloc", ENOMEM);
	memset(c, 0, sizeof(*c));
	c->fd = cqe->res;
	c->head = c->tail = NO_BID;
	if (!s->multishot_recv) {
		c->buf = malloc(CONN_BUF);
		if (!c->buf)
			die("malloc", ENOMEM);
	}
	arm_recv(s, c);
}

/* rs: a recv finished: send what came, or close. */
static void on_recv_single(struct server *s, struct conn *c, int res)
{
	c->recv_armed = false;
	if (res <= 0) {
		c->closing = true;
		conn_maybe_close(s, c);
		return;
	}
	c->len = (unsigned)res;
	c->off = 0;
	arm_send(s, c, c->buf, c->len);
}

/* mr: queue buffer @bid (@n bytes) for sending on @c. */
static void queue_buf(struct server *s, struct conn *c, uint16_t bid,
		      unsigned n)
{
	s->blen[bid] = n;
	s->next[bid] = NO_BID;
	if (c->tail == NO_BID)
		c->head = bid;
	else
		s->next[c->tail] = bid;
	c->tail = bid;
	if (!c->send_armed && !c->closing) {
		c->off = 0;
		send_head(s, c);
	}
}

/* mr: a multishot recv posted a completion. */
static void on_recv_multi(struct server *s, struct conn *c,
			  struct io_uring_cqe *cqe)
{
	bool more = cqe->flags & IORING_CQE_F_MORE;

	if (cqe->res > 0 && (cqe->flags & IORING_CQE_F_BUFFER))
		queue_buf(s, c, (uint16_t)(cqe->flags >>
					   IORING_CQE_BUFFER_SHIFT),
			  (unsigned)cqe->res);
	if (more)
		return;
	c->recv_armed = false;
	if (!c->closing && (cqe->res > 0 || cqe->res == -ENOBUFS))
		arm_recv(s, c);	/* ended early: buffers come back */
	else
		c->closing = true;
	conn_maybe_close(s, c);
}

/* A send finished: finish it if partial, else go on or close. */
static void on_send(struct server *s, struct conn *c, int res)
{
	c->send_armed = false;
	if (res <= 0) {
		if (c->recv_armed)
			conn_shutdown(s, c);
		c->closing = true;
	} else if (s->multishot_recv) {
		c->off += (unsigned)res;
		if (c->off == s->blen[c->head]) {
			recycle_head(s, c);
			c->off = 0;
		}
		if (c->head != NO_BID && !c->closing)
			send_head(s, c);
	} else {
		c->off += (unsigned)res;
		if (c->off < c->len)
			arm_send(s, c, c->buf + c->off, c->len - c->off);
		else
			arm_recv(s, c);
	}
	conn_maybe_close(s, c);
}

static void on_cqe(struct server *s, struct io_uring_cqe *cqe)
{
	uint64_t data = io_uring_cqe_get_data64(cqe);
	struct conn *c = (struct conn *)(uintptr_t)(data & ~7ull);

	switch (data & 7) {
	case OP_ACCEPT:
		on_accept(s, cqe);
		break;
	case OP_RECV:
		if (s->multishot_recv)
			on_recv_multi(s, c, cqe);
		else
			on_recv_single(s, c, cqe->res);
		break;
	case OP_SEND:
		on_send(s, c, cqe->res);
		break;
	default:
		break;
	}
}

/* Submit what is queued, wait for one completion, handle all that came. */
static void serve(struct server *s)
{
	arm_accept(s);
	while (!stopping) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;
		int ret;

		if (s->recycled) {
			io_uring_buf_ring_advance(s->br, s->recycled);
			s->recycled = 0;
		}
		ret = io_uring_submit_and_wait(&s->ring, 1);
		if (ret < 0 && ret != -EINTR && ret != -EAGAIN &&
		    ret != -EBUSY)
			die("io_uring_submit_and_wait", -ret);
		io_uring_for_each_cqe(&s->ring, head, cqe) {
			on_cqe(s, cqe);
			n++;
		}
		io_uring_cq_advance(&s->ring, n);
	}
}

int main(int argc, char **argv)
{
	static struct server s;
	struct sigaction sa = { .sa_handler = on_signal };
	unsigned port = 0;
	int opt;

	while ((opt = getopt(argc, argv, "p:m:fP")) != -1) {
		if (opt == 'p')
			port = (unsigned)strtoul(optarg, NULL, 10);
		else if (opt == 'm' && !strcmp(optarg, "mr"))
			s.multishot_recv = true;
		else if (opt == 'm' && !strcmp(optarg, "rs"))
			s.multishot_recv = false;
		else if (opt == 'f')
			s.fixed = true;
		else if (opt == 'P')
			s.poll_first = true;
		else
			return 2;
	}
	sigaction(SIGTERM, &sa, NULL);	/* no SA_RESTART: wake the wait */
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	s.lfd = baseline_listen(PROG, &port, 0, 1);
	ring_setup(&s);
	if (s.multishot_recv)
		pbuf_setup(&s);
	printf("READY port=%u\n", port);
	fflush(stdout);
	serve(&s);
	return 0;
}
