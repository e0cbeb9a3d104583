/* SPDX-License-Identifier: MIT */
/*
 * net/bufring.c - provided buffer rings and multishot receive.
 *
 * A bufring is IORING_REGISTER_PBUF_RING memory: the kernel picks a buffer
 * only when data arrives, so an idle connection holds no receive buffer.
 * A recvq arms one IORING_OP_RECV with IORING_RECV_MULTISHOT and
 * IOSQE_BUFFER_SELECT; every CQE names the buffer it filled (upper 16 bits
 * of cqe->flags) and is queued, in order, in the recvq until the reading
 * task takes it - or, when the reader already waits and nothing is queued
 * ahead, handed straight into the reader's coil_buf (recv_cb()), which is
 * what a server's connection task, always waiting, gets on every message.
 *
 * Running out of buffers: the kernel ends the multishot receive with
 * -ENOBUFS and leaves the unread data in the socket. The recvq re-arms
 * once the ring has a free buffer again (a task waiting for one sleeps on
 * the bufring's 'starved' queue until coil_buf_release() wakes it), so
 * every byte still arrives, in order.
 *
 * Accounting: @available counts buffers in the kernel's hands, i.e. added
 * to the ring and not yet reported by a CQE. It reaches 0 exactly when the
 * kernel can report -ENOBUFS, which is what makes the wait safe.
 *
 * Fair shares. A multishot receive takes whatever the socket has, whether
 * or not its reader keeps up, so one connection whose reader is slow (a
 * long handler, an echo whose peer does not read) would take every buffer
 * of the shared ring and stall all the others: a plain recv is limited by
 * TCP flow control per connection; a multishot one is not. So a recvq
 * whose unread chunks reach @queue_limit cancels its receive; the data
 * waits in the socket (and TCP pushes back on the sender) until the reader
 * has taken everything queued and re-arms it, as after -ENOBUFS. A cancel
 * comes late, though: with DEFER_TASKRUN the kernel runs a multishot
 * receive's task work in one go, taking all the socket holds before we see
 * a CQE. So each arm also carries a byte limit of the same share (Linux
 * 6.17: the kernel ends the receive once that much arrived; older kernels
 * refuse the field with -EINVAL, and the receive is re-armed without it).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "coil_config.h"
#include "internal.h"
#include "net.h"
#include "sanitizer.h"
#include "suspend.h"


struct coil_bufring {
	struct coil_rt *rt;
	uint64_t rt_serial;             /* @rt's serial (see internal.h) */
	pthread_t owner;                /* the thread that runs @rt */
	struct io_uring_buf_ring *ring; /* shared with the kernel (mmap) */
	size_t ring_bytes;
	char *bufs;                     /* nbufs * bufsize bytes */
	size_t bufsize;
	unsigned nbufs;
	unsigned available;             /* buffers the kernel may fill */
	unsigned queue_limit;           /* unread chunks that pause a recvq */
	uint32_t arm_bytes;             /* byte limit per multishot arm */
	bool no_arm_limit;              /* the kernel refused arm_bytes */
	unsigned users;                 /* open recvqs */
	struct coil__wq starved;        /* recvqs waiting for a free buffer */
	uint16_t bgid;
};

/* Buffer group ids: one counter per thread (one runtime per thread). */
static __thread uint16_t next_bgid;

static void give_to_kernel(struct coil_bufring *br, uint16_t bid)
{
	io_uring_buf_ring_add(br->ring, br->bufs + (size_t)bid * br->bufsize,
			      (unsigned)br->bufsize, bid,
			      io_uring_buf_ring_mask(br->nbufs), 0);
	io_uring_buf_ring_advance(br->ring, 1);
	br->available++;
}

static int register_ring(struct coil_bufring *br)
{
	struct io_uring_buf_reg reg;
	int err = -EEXIST, tries;

	memset(&reg, 0, sizeof(reg));
	reg.ring_addr = (uint64_t)(uintptr_t)br->ring;
	reg.ring_entries = br->nbufs;
	/* Skip group ids another bufring on this ring still holds. */
	for (tries = 0; err == -EEXIST && tries < 65536; tries++) {
		reg.bgid = next_bgid++;
		err = io_uring_register_buf_ring(&br->rt->be.ring, &reg, 0);
	}
	if (err == -EINVAL || err == -ENOSYS)
		return -EOPNOTSUPP; /* before 5.19 */
	br->bgid = reg.bgid;
	return err;
}

static void bufring_free(struct coil_bufring *br)
{
	if (br->ring)
		munmap(br->ring, br->ring_bytes);
	free(br->bufs);
	free(br);
}

int coil_bufring_create(unsigned nbufs, size_t bufsize,
			struct coil_bufring **out)
{
	struct coil_rt *rt = coil__tls_rt;
	struct coil_bufring *br;
	void *mem;
	unsigned i;
	int err;

	if (!rt)
		return -EPERM;
	if (!out || !nbufs || nbufs > 32768 || (nbufs & (nbufs - 1)) ||
	    !bufsize || bufsize > UINT32_MAX)
		return -EINVAL;
	br = calloc(1, sizeof(*br));
	if (!br)
		return -ENOMEM;
	br->rt = rt;
	br->rt_serial = rt->serial;
	br->owner = pthread_self();
	br->nbufs = nbufs;
	br->bufsize = bufsize;
	/* A quarter of the ring, at most 64 chunks (256 KiB of 4 KiB
	 * buffers: about a TCP receive window), at least one. */
	br->queue_limit = nbufs / 4 < 64 ? nbufs / 4 : 64;
	if (!br->queue_limit)
		br->queue_limit = 1;
	/* The kernel counts the limit down with int arithmetic: keep it
	 * at or below INT_MAX, or a huge share would end every arm after
	 * its first chunk. */
	br->arm_bytes = bufsize * br->queue_limit > INT_MAX ?
				INT_MAX :
				(uint32_t)(bufsize * br->queue_limit);
	br->ring_bytes = nbufs * sizeof(struct io_uring_buf);
	mem = mmap(NULL, br->ring_bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	br->bufs = malloc(nbufs * bufsize);
	if (mem == MAP_FAILED || !br->bufs) {
		br->ring = mem == MAP_FAILED ? NULL : mem;
		bufring_free(br);
		return -ENOMEM;
	}
	br->ring = mem;
	io_uring_buf_ring_init(br->ring);
	err = register_ring(br);
	if (err) {
		bufring_free(br);
		return err;
	}
	for (i = 0; i < nbufs; i++)
		give_to_kernel(br, (uint16_t)i);
	*out = br;
	return 0;
}

/*
 * On the thread that ran @br's runtime, outside it (no runtime, or a later
 * one at the same address): that coil_run() has returned, its ring is gone
 * and with it every op on @br's buffers, and no task of it runs any more.
 * (Another thread cannot tell whether the runtime still runs.) A run that
 * ended on a fatal ring error or an unbreakable deadlock abandoned its
 * tasks where they waited: @br->starved may still hold their nodes, which
 * point at freed tasks, so nothing may wake them then.
 */
static bool run_over(const struct coil_bufring *br)
{
	return pthread_equal(br->owner, pthread_self()) &&
	       !coil__rt_is_current(br->rt, br->rt_serial);
}

int coil_bufring_destroy(struct coil_bufring *br)
{
	if (!br)
		return 0;
	if (br->users)
		return -EBUSY;
	/* Unregister on the runtime's own thread while it runs; once it
	 * has returned, the ring took the registration with it (and @br->rt
	 * is freed). From another thread: -EBUSY, nothing changed. */
	if (coil__rt_is_current(br->rt, br->rt_serial))
		io_uring_unregister_buf_ring(&br->rt->be.ring, br->bgid);
	else if (!run_over(br))
		return -EBUSY;
	bufring_free(br);
	return 0;
}

/* ------------------------------------------------------------- recvq */

/* One completion: bytes in buffer @bid (res > 0), end (0) or an error. */
struct chunk {
	int32_t res;
	uint16_t bid;
};

/* Chunks a recvq holds inside itself before its queue moves to the heap. */
#define INLINE_CHUNKS 2

/*
 * Laid out by use, so that a message touches four of its cache lines: the
 * receive's two (its op and queue, for recv_cb and coil_recvq_next), the
 * send's two (coil_recvq_send and send_cb), and not what only opening,
 * closing, pausing, re-arming and errors read. The queue starts inside the
 * recvq: a separately allocated ring would be one more cold line per
 * message, and a reader that keeps up seldom holds more than a couple of
 * chunks.
 */
struct coil_recvq {
	/* Receive path: lines 0 and 1. */
	struct coil__op op;        /* the armed receive; cb = recv_cb */
	struct coil_bufring *br;
	struct chunk *q;           /* completions not yet taken, in order;
				    * a ring of @cap (a power of two):
				    * @inl until it outgrows it */
	unsigned head, len, cap;
	int fd;
	struct coil_task *waiter;  /* the task waiting in coil_recvq_next() */
	struct coil_buf *want;     /* its @buf, while @waiter is set */
	uint8_t readers;           /* tasks inside coil_recvq_next(): 0 or 1 */
	bool end;                  /* ended; then @end_res is final */
	bool closing;              /* coil_recvq_close() began: never re-arm */
	bool armed;
	bool cancel_sent;
	bool multishot;
	bool multishot_worked;
	bool arm_limited;          /* the armed receive carries arm_bytes */
	struct chunk inl[INLINE_CHUNKS];
	/* Send path, coil_recvq_send(): one send of a ring buffer in flight
	 * at most. Lines 2 and 3. */
	struct coil__op send_op __attribute__((aligned(64))); /* send_cb */
	struct coil_buf send_buf;  /* the buffer being sent (owned by us) */
	size_t send_off;           /* bytes of it already sent */
	struct coil_task *send_waiter; /* a task waiting to send next */
	int send_err;              /* first failed send, reported later */
	bool sending;
	bool send_cancel_sent;
	bool send_waiting;         /* a task is inside send_wait(): one
				    * at a time, and a closer waits for it */
	uint64_t chunks;           /* chunks delivered, counted here (on a
				    * line a message touches) rather than in
				    * stats.chunks, which coil_recvq_stats()
				    * fills from it */
	/* Cold. */
	struct coil_task *closer __attribute__((aligned(64)));
					/* coil_recvq_close() reaping the op */
	int end_res;
	struct coil_recvq_stats stats;
};

_Static_assert(offsetof(struct coil_recvq, inl) + INLINE_CHUNKS *
		       sizeof(struct chunk) <= 2 * 64,
	       "the receive path's fields fit in two cache lines");
_Static_assert(offsetof(struct coil_recvq, chunks) + sizeof(uint64_t) <=
		       4 * 64,
	       "the send path's fields fit in the next two");

/* Out of line: a reader that falls behind is the rare case. */
static __attribute__((noinline)) int chunk_grow(struct coil_recvq *q)
{
	struct chunk *v;
	unsigned i, cap = q->cap * 2;

	v = malloc(cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < q->len; i++)
		v[i] = q->q[(q->head + i) & (q->cap - 1)];
	if (q->q != q->inl)
		free(q->q);
	q->q = v;
	q->cap = cap;
	q->head = 0;
	return 0;
}

static inline int chunk_push(struct coil_recvq *q, int32_t res, uint16_t bid)
{
	if (COIL__UNLIKELY(q->len == q->cap) && chunk_grow(q) < 0)
		return -ENOMEM;
	q->q[(q->head + q->len) & (q->cap - 1)] = (struct chunk){ res, bid };
	q->len++;
	return 0;
}

static struct chunk chunk_pop(struct coil_recvq *q)
{
	struct chunk c = q->q[q->head];

	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
	return c;
}

/*
 * The reader waiting in coil_recvq_next() and the buffer it waits to have
 * filled (NULL, NULL when none). The receive op names the same task, for
 * the loop's warming of its resume (COIL__OPF_WARM, set at open). All three
 * change together, and are cleared by whoever wakes the reader, so that a
 * set @waiter is always a task still waiting here.
 */
static inline void set_waiter(struct coil_recvq *q, struct coil_task *t,
			      struct coil_buf *want)
{
	q->waiter = t;
	q->want = want;
	q->op.task = t;
}

/* Fill @buf with the chunk of @res bytes in buffer @bid. */
static inline ssize_t fill_buf(struct coil_recvq *q, struct coil_buf *buf,
			       int32_t res, uint16_t bid)
{
	q->chunks++;
	buf->id = bid;
	buf->len = (size_t)res;
	buf->data = q->br->bufs + (size_t)bid * q->br->bufsize;
	coil__vg_defined(buf->data, buf->len);
	return res;
}

/*
 * Nothing points into @q any more: no CQE can still come for it and no
 * task is inside coil_recvq_next() or waiting in coil_recvq_send() (woken
 * or not, it reads @q when it runs), so a closer may free it.
 */
static bool recvq_idle(const struct coil_recvq *q)
{
	return !q->armed && !q->sending && !q->readers && !q->send_waiting;
}

static void wake_closer(struct coil_recvq *q)
{
	/* @closing first: it is on a line every message touches anyway,
	 * and there is a closer only once it is set. */
	if (q->closing && q->closer && recvq_idle(q))
		coil__wake(q->closer, 0);
}

/*
 * A multishot receive that ends once @bytes arrived (IORING_OP_RECV's
 * "optlen", Linux 6.17). liburing 2.3's SQE has no such name: the field is
 * the union member it calls file_index, which kernels before the feature
 * require to be 0 for a receive - that -EINVAL is the probe.
 */
static void sqe_set_mshot_limit(struct io_uring_sqe *sqe, uint32_t bytes)
{
	sqe->file_index = bytes;
}

/*
 * Submit the receive. Once closing, nothing is armed again: a receive armed
 * after close cancelled the last one would keep the closer waiting.
 */
static int arm(struct coil_recvq *q)
{
	struct io_uring_sqe *sqe;

	if (q->closing)
		return -EBADF;
	sqe = coil__get_sqe(q->br->rt, 1);
	if (!sqe)
		return coil__no_sqe_error(q->br->rt);
	io_uring_prep_recv(sqe, q->fd, NULL, 0, 0);
	q->arm_limited = q->multishot && !q->br->no_arm_limit;
	if (q->multishot)
		sqe->ioprio |= IORING_RECV_MULTISHOT;
	if (q->arm_limited)
		sqe_set_mshot_limit(sqe, q->br->arm_bytes);
	sqe->flags |= IOSQE_BUFFER_SELECT;
	sqe->buf_group = q->br->bgid;
	io_uring_sqe_set_data64(sqe, coil__op_ud(&q->op));
	q->br->rt->be.inflight++;
	q->armed = true;
	q->cancel_sent = false;
	q->stats.arms++;
	return 0;
}

static void record(struct coil_recvq *q, int res, unsigned flags)
{
	struct coil_bufring *br = q->br;
	uint16_t bid;

	if (flags & IORING_CQE_F_BUFFER) {
		bid = (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
		br->available--;
		if (res > 0 && !q->closing && !q->end &&
		    chunk_push(q, res, bid) == 0) {
			/* Its share is queued: pause (see the top). */
			if (q->len >= br->queue_limit && q->armed &&
			    !q->cancel_sent) {
				q->cancel_sent = coil__op_cancel(br->rt,
								 &q->op);
				q->stats.pauses += q->cancel_sent;
			}
			return;
		}
		give_to_kernel(br, bid); /* empty, or nobody will read it */
		coil__wq_wake_one(&br->starved, 0);
		if (res > 0 && !q->closing && !q->end) {
			/*
			 * Out of memory for the queue: this chunk is lost, so
			 * end the stream here (after what is queued) rather
			 * than deliver it with a hole; stop the receive.
			 */
			q->end = true;
			q->end_res = -ENOMEM;
			if (q->armed && !q->cancel_sent)
				q->cancel_sent = coil__op_cancel(br->rt, &q->op);
			return;
		}
	}
	if (q->end)
		return; /* the stream already ended */
	if (res == -ENOBUFS)
		q->stats.nobufs++;
	if (res == -ENOBUFS || (res == -ECANCELED && q->cancel_sent))
		return; /* not the end: re-armed by the reader */
	if (res == -EINVAL && q->arm_limited && !q->multishot_worked) {
		q->br->no_arm_limit = true; /* before 6.17: re-armed without */
		return;
	}
	if (res == -EINVAL && q->multishot && !q->multishot_worked) {
		q->multishot = false; /* before 6.0: single-shot receives */
		q->stats.multishot = false;
		return;
	}
	if (res <= 0 && !q->closing)
		(void)chunk_push(q, res, 0);
}

/* Whether the receive stays armed after this CQE (IORING_CQE_F_MORE). */
static inline void note_more(struct coil_rt *rt, struct coil_recvq *q,
			     unsigned flags)
{
	if (flags & IORING_CQE_F_MORE) {
		rt->be.inflight++; /* the receive stays armed */
		q->multishot_worked = true;
	} else {
		q->armed = false;
	}
}

/* Everything but a chunk for a waiting reader: queue it, or end. */
static __attribute__((noinline)) void
recv_cb_slow(struct coil_rt *rt, struct coil_recvq *q, int res,
	     unsigned flags)
{
	struct coil_task *waiter = q->waiter;
	/* Data without F_MORE: the arm's byte limit ended it. */
	bool limit_end = !(flags & IORING_CQE_F_MORE) && res > 0 &&
			 q->multishot && q->arm_limited;

	note_more(rt, q, flags);
	record(q, res, flags);
	/*
	 * Every arm ends at its byte limit, even when the reader keeps up:
	 * that is a pause only if the reader holds its share unread (and
	 * was not counted already by the cancel at the share).
	 */
	if (limit_end && q->len >= q->br->queue_limit && !q->cancel_sent)
		q->stats.pauses++;
	if (waiter) {
		set_waiter(q, NULL, NULL);
		coil__wake(waiter, 0);
	}
	wake_closer(q);
}

static void recv_cb(struct coil_rt *rt, struct coil__op *op, int res,
		    unsigned flags)
{
	struct coil_recvq *q = COIL__CONTAINER_OF(op, struct coil_recvq, op);
	struct coil_task *waiter = q->waiter;

	/* (@waiter set implies neither closing nor ended - close clears
	 * it, and no reader waits once the stream ended - so those two
	 * tests are defensive.) */
	if (COIL__LIKELY(waiter && res > 0 && (flags & IORING_CQE_F_BUFFER) &&
			 !q->len && !q->closing && !q->end)) {
		/*
		 * The reader waits and nothing is queued ahead of this chunk:
		 * hand it straight into the reader's buffer, which spares the
		 * queue's push here and pop there on every message. The wake's
		 * positive result tells the reader (next_loop()). No pause:
		 * nothing is queued, and a pause takes @queue_limit (>= 1)
		 * queued chunks, so a reader in step never pauses its receive,
		 * however small the ring (with the chunk queued first, a ring
		 * whose share is one buffer paused on every message). No
		 * closer (not closing). The rest is recv_cb_slow()'s.
		 */
		note_more(rt, q, flags);
		q->br->available--;
		fill_buf(q, q->want, res,
			 (uint16_t)(flags >> IORING_CQE_BUFFER_SHIFT));
		set_waiter(q, NULL, NULL);
		coil__wake(waiter, res);
		return;
	}
	recv_cb_slow(rt, q, res, flags);
}

/* ------------------------------------------------ sending ring buffers */

/* Inline in both callers: it is on every message's path. */
static inline __attribute__((always_inline)) void
submit_send(struct coil_recvq *q)
{
	struct io_uring_sqe *sqe = coil__get_sqe(q->br->rt, 1);

	if (!sqe) {
		q->send_err = coil__no_sqe_error(q->br->rt);
		return;
	}
	io_uring_prep_send(sqe, q->fd, q->send_buf.data + q->send_off,
			   q->send_buf.len - q->send_off, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)&q->send_op);
	q->br->rt->be.inflight++;
	q->sending = true;
}

/*
 * A send of a ring buffer completed (in the loop, no task involved): send
 * the rest after a short send, else give the buffer back to the ring and
 * let the next send (or the closer) go.
 */
static void send_cb(struct coil_rt *rt, struct coil__op *op, int res,
		    unsigned flags)
{
	struct coil_recvq *q = COIL__CONTAINER_OF(op, struct coil_recvq,
						  send_op);

	(void)rt;
	(void)flags;
	q->sending = false;
	if (res > 0 && q->send_off + (size_t)res < q->send_buf.len &&
	    !q->send_cancel_sent) {
		q->send_off += (size_t)res;
		submit_send(q);
		if (q->sending)
			return;
	} else if (res < 0 && !q->send_err) {
		q->send_err = res == -ECANCELED && q->send_cancel_sent ?
				      -ECANCELED : res;
	} else if (res == 0 && !q->send_err) {
		q->send_err = -EIO;
	}
	give_to_kernel(q->br, q->send_buf.id);
	q->send_buf.data = NULL;
	coil__wq_wake_one(&q->br->starved, 0);
	if (q->send_waiter) {
		coil__wake(q->send_waiter, 0);
		q->send_waiter = NULL; /* set only while one waits */
	}
	wake_closer(q);
}

static void send_unwait(struct coil_task *t, int why)
{
	struct coil_recvq *q = t->wait_obj;

	q->send_waiter = NULL;
	coil__wake(t, why);
}

/*
 * Wait for the send in flight. Out of line: an echo's previous send has
 * nearly always completed, and the wait's locals would otherwise widen
 * every call's frame. A close that begins meanwhile waits for this task
 * to leave (@send_waiting) and ends the wait with -EBADF: the closer may
 * free @q as soon as it runs, so @buf goes back to the ring here, and
 * nothing reads @q after wake_closer().
 */
static __attribute__((noinline)) int send_wait(struct coil_recvq *q,
						struct coil_task *self,
						struct coil_buf *buf)
{
	int err = 0;

	q->send_waiting = true;
	while (q->sending && !q->send_err && !q->closing) {
		err = coil__check_cancel(self);
		if (err)
			break;
		q->send_waiter = self;
		err = coil__suspend_until(self, "recvq send", send_unwait, q,
					  self->deadline);
		q->send_waiter = NULL;
		if (err)
			break;
	}
	q->send_waiting = false;
	if (q->closing) {
		coil_buf_release(q, buf);
		err = -EBADF;
		wake_closer(q);
	}
	return err;
}

int coil_recvq_send(struct coil_recvq *q, struct coil_buf *buf)
{
	struct coil_task *self = coil__running();
	int err;

	if (!self)
		return -EPERM;
	if (!q || !buf || !buf->data)
		return -EINVAL;
	if (COIL__UNLIKELY(q->closing)) {
		coil_buf_release(q, buf);
		return -EBADF;
	}
	if (q->send_waiting)
		return -EINVAL; /* one sender waits at a time */
	if (COIL__UNLIKELY(q->sending)) {
		err = send_wait(q, self, buf);
		if (err)
			return err;
	}
	if (q->send_err)
		return q->send_err;
	q->send_buf = *buf;
	q->send_off = 0;
	submit_send(q);
	if (!q->sending) {
		/* No SQE (a ring that failed): not taken, still the
		 * caller's, and not recorded in @send_err, which is for
		 * sends that failed after taking their buffer. */
		err = q->send_err;
		q->send_err = 0;
		q->send_buf.data = NULL;
		return err;
	}
	buf->data = NULL; /* ours now: released when the send completes */
	return 0;
}

int coil_recvq_open(int fd, struct coil_bufring *br, struct coil_recvq **out)
{
	struct coil_recvq *q;

	if (fd < 0 || !br || !out)
		return -EINVAL;
	if (!coil__rt_is_current(br->rt, br->rt_serial))
		return coil__tls_rt ? -EINVAL : -EPERM;
	/* Aligned, so that each path's fields share the lines it expects. */
	q = aligned_alloc(_Alignof(struct coil_recvq), sizeof(*q));
	if (!q)
		return -ENOMEM;
	memset(q, 0, sizeof(*q));
	q->q = q->inl;
	q->cap = INLINE_CHUNKS;
	q->fd = fd;
	q->br = br;
	q->op.cb = recv_cb;
	/*
	 * Submitted as COIL__UD_OP_WARM: the loop warms the waiting reader's
	 * resume (op.task, see set_waiter()) while it reaps, before the
	 * switch to the reader needs those lines.
	 */
	q->op.flags = COIL__OPF_WARM;
	q->op.what = "recv multishot";
	q->send_op.cb = send_cb;
	q->send_op.what = "recvq send";
	q->multishot = true;
	q->stats.multishot = true;
	br->users++;
	*out = q;
	return 0;
}

static void next_unwait(struct coil_task *t, int why)
{
	struct coil_recvq *q = t->wait_obj;

	set_waiter(q, NULL, NULL);
	coil__wake(t, why);
}

/*
 * Arm the receive, first waiting for a free buffer if there is none. The
 * wait is in the bufring's shared queue; the node names @q (n.item) so that
 * a close finds the tasks waiting for it there.
 */
static __attribute__((noinline, cold)) int
wait_and_arm(struct coil_recvq *q, struct coil_task *self, uint64_t deadline)
{
	struct coil__wq_node n = { .task = self, .item = q };
	uint64_t now;
	int err;

	while (!q->br->available) {
		if (q->closing)
			return -EBADF;
		/* Woken by a release and cancelled meanwhile: stop here. */
		err = coil__check_cancel(self);
		if (err)
			return err;
		now = coil__now();
		if (deadline != COIL__NEVER && now >= deadline)
			return -ETIMEDOUT;
		err = coil__wq_wait(&q->br->starved, &n, "recv buffer",
				    deadline == COIL__NEVER ? -1 :
				    (int64_t)(deadline - now));
		if (err)
			return err;
	}
	err = arm(q);
	/*
	 * Arming takes no buffer (and a closing @q arms nothing): if some are
	 * still free, pass the wake-up on to the next starved receiver, which
	 * would otherwise wait for a release that may never come.
	 */
	if (q->br->available)
		coil__wq_wake_one(&q->br->starved, 0);
	return err;
}

static inline ssize_t take_chunk(struct coil_recvq *q, struct coil_buf *buf)
{
	struct chunk c = chunk_pop(q);

	if (c.res <= 0) {
		q->end = true;
		q->end_res = c.res;
		return c.res;
	}
	return fill_buf(q, buf, c.res, c.bid);
}

/*
 * A chunk recv_cb() handed into @buf while we waited (@res bytes). A close
 * begun since then ends the reading as it would a queued chunk: the buffer
 * goes back to the ring, the chunk is not counted as delivered after all,
 * and the reader gets -EBADF (with buf->data NULL).
 */
static inline ssize_t handed_over(struct coil_recvq *q, struct coil_buf *buf,
				  int res)
{
	if (COIL__UNLIKELY(q->closing)) {
		coil_buf_release(q, buf);
		q->chunks--;
		return -EBADF;
	}
	return res;
}

/*
 * The wait loop. Inlined twice: with @timed false for calls with no time
 * limit and no deadline scope (a server's per-message wait), which then
 * read no clock and keep a small frame: the frame's cache lines are ones
 * the resume fetches again after the kernel's work has evicted them. A
 * task's deadline scope cannot change while it waits here (only the task
 * itself sets it), so untimed stays untimed across the suspends.
 */
static __attribute__((always_inline)) inline ssize_t
next_loop(struct coil_recvq *q, struct coil_buf *buf, struct coil_task *self,
	  uint64_t deadline, bool timed)
{
	int err;

	for (;;) {
		if (q->closing)
			return -EBADF;
		if (q->len)
			return take_chunk(q, buf);
		if (q->end)
			return q->end_res;
		if (timed) {
			err = coil__check_cancel(self);
			if (err)
				return err;
			if (deadline != COIL__NEVER && coil__now() >= deadline)
				return -ETIMEDOUT;
		} else if (COIL__UNLIKELY(self->cancelled)) {
			return -ECANCELED;
		}
		if (!q->armed) {
			err = wait_and_arm(q, self, deadline);
			if (err)
				return err;
			/* It may have waited for a buffer: a close, a cancel
			 * or the deadline since then must be seen before we
			 * wait again (a cancel that came while this task was
			 * ready to run set only the flag). */
			continue;
		}
		set_waiter(q, self, buf);
		if (timed)
			err = coil__suspend_until(self, "recv multishot",
						  next_unwait, q,
						  deadline < self->deadline ?
							  deadline :
							  self->deadline);
		else
			err = coil__suspend_inline(self, "recv multishot",
						   next_unwait, q);
		if (COIL__LIKELY(err > 0)) /* recv_cb filled @buf */
			return handed_over(q, buf, err);
		set_waiter(q, NULL, NULL);
		if (err)
			return err; /* -EBADF: closed meanwhile */
	}
}

/* Out of line, clock read included: its locals stay out of the untimed
 * caller's frame. */
static __attribute__((noinline)) ssize_t
next_loop_timed(struct coil_recvq *q, struct coil_buf *buf,
		struct coil_task *self, int64_t timeout_ns)
{
	uint64_t deadline = timeout_ns < 0 ? COIL__NEVER :
					     coil__now() + (uint64_t)timeout_ns;

	return next_loop(q, buf, self, deadline, true);
}

ssize_t coil_recvq_next(struct coil_recvq *q, struct coil_buf *buf,
			int64_t timeout_ns)
{
	struct coil_task *self = coil__running();
	ssize_t ret;

	if (!self)
		return -EPERM;
	if (!q || !buf || q->br->rt != self->rt)
		return -EINVAL;
	/*
	 * One reader at a time: a second one would arm a second receive while
	 * the first waits for a buffer, and the two would take turns in
	 * @waiter (which the loop also reads ahead, via op.task).
	 */
	if (q->readers)
		return -EBUSY;
	if (q->closing)
		return -EBADF;
	/* A chunk already queued: no wait, so no deadline and no count. */
	if (q->len)
		return take_chunk(q, buf);
	/* Counted: a closer must not free @q while we still read it. */
	q->readers++;
	if (timeout_ns < 0 && self->deadline == COIL__NEVER)
		ret = next_loop(q, buf, self, COIL__NEVER, false);
	else
		ret = next_loop_timed(q, buf, self, timeout_ns);
	q->readers--;
	wake_closer(q);
	return ret;
}

void coil_recvq_stats(const struct coil_recvq *q,
		      struct coil_recvq_stats *out)
{
	if (q && out) {
		*out = q->stats;
		out->chunks = q->chunks;
		out->arm_limit = q->multishot && !q->br->no_arm_limit;
	}
}

void coil_buf_release(struct coil_recvq *q, struct coil_buf *buf)
{
	if (!q || !buf || !buf->data)
		return;
	give_to_kernel(q->br, buf->id);
	buf->data = NULL;
	/* (Usually nobody starves: the run check is off the common path.) */
	if (q->br->starved.head && !run_over(q->br))
		coil__wq_wake_one(&q->br->starved, 0);
}

static void cancel_send(struct coil_recvq *q)
{
	if (q->sending && !q->send_cancel_sent)
		q->send_cancel_sent = coil__op_cancel(q->br->rt, &q->send_op);
}

/* The closer was cancelled or timed out: stop the send, keep waiting. */
static void close_unwait(struct coil_task *t, int why)
{
	(void)why;
	cancel_send(t->wait_obj);
}

/* End every wait of a task in coil_recvq_next() on @q with -EBADF. */
static void wake_readers(struct coil_recvq *q)
{
	struct coil_task *waiter = q->waiter;
	struct coil__wq_node *n, *next;

	if (waiter) {
		set_waiter(q, NULL, NULL);
		coil__wake(waiter, -EBADF);
	}
	/* Readers waiting for a free buffer sit in the bufring's queue. */
	for (n = q->br->starved.head; n; n = next) {
		next = n->next;
		if (n->item != q)
			continue;
		coil__wq_remove(n);
		coil__wake(n->task, -EBADF);
	}
}

int coil_recvq_close(struct coil_recvq *q)
{
	struct coil_task *self = coil__running();

	if (!q)
		return 0;
	/* After the run (see run_over()) nothing can still point into @q. */
	if (!recvq_idle(q) && !run_over(q->br)) {
		if (!self || !coil__rt_is_current(q->br->rt, q->br->rt_serial))
			return -EBUSY;
		q->closing = true;
		wake_readers(q);
		if (q->armed && !q->cancel_sent)
			q->cancel_sent = coil__op_cancel(q->br->rt, &q->op);
		/*
		 * A send in flight is let finish (the last echo of a closing
		 * connection still goes out) unless the closing task is
		 * cancelled or times out: then it is cancelled too. Either
		 * way the wait lasts until both ops' last CQEs are in and
		 * every reader has left coil_recvq_next() - they all point
		 * into @q.
		 */
		q->closer = self;
		/*
		 * A closer cancelled (or past its deadline) before it got here
		 * gets no cancel event during the wait: stop the send now.
		 */
		if (coil__interrupted(self))
			cancel_send(q);
		while (!recvq_idle(q))
			coil__suspend_until(self, "recv close", close_unwait, q,
					    self->deadline);
		q->closer = NULL;
	}
	while (q->len) {
		struct chunk c = chunk_pop(q);

		if (c.res > 0)
			give_to_kernel(q->br, c.bid);
	}
	if (!run_over(q->br))
		coil__wq_wake_one(&q->br->starved, 0);
	q->br->users--;
	if (q->q != q->inl)
		free(q->q);
	free(q);
	return 0;
}
