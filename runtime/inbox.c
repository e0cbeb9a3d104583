/* SPDX-License-Identifier: MIT */
/*
 * runtime/inbox.c - requests from other threads, and coil_offload()'s pool.
 *
 * Each runtime has an inbox: a mutex-protected list of messages that other
 * threads append to, and one way to wake the loop when the first message
 * arrives (an atomic flag collapses a burst of sends into one wake-up):
 *  - from a thread that runs another coil runtime, on kernels with
 *    IORING_OP_MSG_RING (5.18): an SQE on the *sender's* ring that posts a
 *    CQE (user_data COIL__UD_INBOX) straight into ours - no system call of
 *    its own, it rides the sender's next io_uring_enter;
 *  - from any other thread: a write(2) to our eventfd, on which the loop
 *    keeps one IORING_OP_READ armed.
 * Either CQE makes the loop run the messages (coil__inbox_drain()), so the
 * sender never touches the runtime's state itself.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

struct coil__inbox {
	pthread_mutex_t lock;       /* guards head/tail */
	struct coil__msg *head, *tail;
	atomic_bool wake_pending;   /* a wake-up is on its way */
	int efd;                    /* eventfd other threads write */
	int ring_fd;                /* our ring, for IORING_OP_MSG_RING */
	bool msg_ring;              /* the kernel supports MSG_RING */
	bool armed;                 /* the eventfd read is in flight */
	bool closing;               /* do not re-arm: the runtime ends */
	uint64_t efd_value;         /* the armed read's buffer */
	struct coil__op op;         /* the armed read */
	/*
	 * Names the MSG_RING SQEs other runtimes send us, in *their* rings:
	 * its callback (run by the sender) falls back to the eventfd if the
	 * kernel could not post the message (our CQ full, ring exiting).
	 * Read-only after init, so any number of senders may share it.
	 */
	struct coil__op msg_op;
	/*
	 * Lifetime: the owning runtime holds one reference, and each MSG_RING
	 * SQE queued in another runtime's ring holds one until that runtime
	 * reaps its CQE (msg_ring_done), which may be after we have ended:
	 * the SQE's user_data names msg_op, and its fallback writes efd. The
	 * last reference closes efd and ring_fd and frees the inbox.
	 */
	atomic_uint refs;
	/*
	 * The inboxes of other runtimes we hold a reference on, one entry per
	 * MSG_RING SQE of ours whose CQE is not reaped yet (this runtime's
	 * thread only): fini waits for those CQEs, and after a fatal ring
	 * error (no CQE will come) drops the references itself.
	 */
	struct coil__inbox **sends;
	unsigned nsends, sends_cap;
};

/* Note a reference on @target for a MSG_RING of ours; false: no memory. */
static bool sends_add(struct coil__inbox *me, struct coil__inbox *target)
{
	struct coil__inbox **v;
	unsigned cap;

	if (me->nsends == me->sends_cap) {
		cap = me->sends_cap ? 2 * me->sends_cap : 8;
		v = realloc(me->sends, cap * sizeof(*v));
		if (!v)
			return false;
		me->sends = v;
		me->sends_cap = cap;
	}
	me->sends[me->nsends++] = target;
	return true;
}

static void sends_del(struct coil__inbox *me, struct coil__inbox *target)
{
	unsigned i;

	for (i = me->nsends; i--;) {
		if (me->sends[i] == target) {
			me->sends[i] = me->sends[--me->nsends];
			return;
		}
	}
}

static void inbox_unref(struct coil__inbox *ib)
{
	if (atomic_fetch_sub_explicit(&ib->refs, 1, memory_order_acq_rel) != 1)
		return;
	close(ib->efd);
	if (ib->ring_fd >= 0)
		close(ib->ring_fd);
	pthread_mutex_destroy(&ib->lock);
	free(ib);
}

static void msg_ring_done(struct coil_rt *rt, struct coil__op *op, int res,
			  unsigned flags)
{
	struct coil__inbox *ib = COIL__CONTAINER_OF(op, struct coil__inbox,
						    msg_op);
	uint64_t one = 1;

	(void)flags;
	/* @rt is the sender: the SQE was in its ring. */
	sends_del(rt->inbox, ib);
	if (res < 0)
		while (write(ib->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	inbox_unref(ib);
}

static bool probe_msg_ring(struct coil_rt *rt)
{
	struct io_uring_probe *p = io_uring_get_probe_ring(&rt->be.ring);
	bool ok;

	if (!p)
		return false;
	ok = io_uring_opcode_supported(p, IORING_OP_MSG_RING);
	io_uring_free_probe(p);
	return ok;
}

int coil__inbox_init(struct coil_rt *rt)
{
	struct coil__inbox *ib = calloc(1, sizeof(*ib));

	if (!ib)
		return -ENOMEM;
	/*
	 * Blocking: before Linux 5.15 io_uring failed a read of an O_NONBLOCK
	 * file at once with -EAGAIN instead of waiting for it to be readable,
	 * and the re-armed read would spin. A write blocks only if the counter
	 * would overflow, which 2^64 - 2 wake-ups between drains never do.
	 */
	ib->efd = eventfd(0, EFD_CLOEXEC);
	if (ib->efd < 0) {
		free(ib);
		return -errno;
	}
	pthread_mutex_init(&ib->lock, NULL);
	atomic_init(&ib->refs, 1);
	ib->msg_ring = probe_msg_ring(rt);
	/*
	 * Our own descriptor of the ring for senders' MSG_RING SQEs: it keeps
	 * the number from being reused (by another ring, even) while an SQE
	 * that names it may still be submitted after we have ended. A message
	 * to a ring whose owner is gone fails or lands unread: harmless.
	 */
	ib->ring_fd = -1;
	if (ib->msg_ring) {
		ib->ring_fd = fcntl(rt->be.ring.ring_fd, F_DUPFD_CLOEXEC, 0);
		if (ib->ring_fd < 0)
			ib->msg_ring = false; /* out of fds: eventfd wake-ups */
	}
	ib->msg_op.cb = msg_ring_done;
	rt->inbox = ib;
	return 0;
}

static void read_done(struct coil_rt *rt, struct coil__op *op, int res,
		      unsigned flags);

unsigned coil__inbox_armed(const struct coil_rt *rt)
{
	return rt->inbox && rt->inbox->armed;
}

void coil__inbox_arm(struct coil_rt *rt)
{
	struct coil__inbox *ib = rt->inbox;
	struct io_uring_sqe *sqe;

	if (!ib || ib->armed || ib->closing)
		return;
	sqe = coil__get_sqe(rt, 1);
	if (!sqe)
		return;
	memset(&ib->op, 0, sizeof(ib->op));
	ib->op.cb = read_done;
	ib->op.pending = 1;
	io_uring_prep_read(sqe, ib->efd, &ib->efd_value,
			   sizeof(ib->efd_value), 0);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)&ib->op);
	rt->be.inflight++;
	ib->armed = true;
}

static void read_done(struct coil_rt *rt, struct coil__op *op, int res,
		      unsigned flags)
{
	(void)op;
	(void)flags;
	(void)res;
	rt->inbox->armed = false;
	/* Both do nothing once the runtime is closing. */
	coil__inbox_drain(rt);
	coil__inbox_arm(rt);
}

void coil__inbox_send(struct coil_rt *rt, struct coil__msg *m)
{
	struct coil__inbox *ib = rt->inbox;
	struct coil_rt *me = coil__tls_rt;
	struct io_uring_sqe *sqe;
	uint64_t one = 1;
	bool wake;

	m->next = NULL;
	/*
	 * @m is queued under the lock, and the wake-up's reference on @ib is
	 * taken there: once the loop has taken @m the runtime may end (fini
	 * takes the lock before it drops its own reference), and only ours
	 * keeps @ib, its eventfd and its ring's fd for the wake-up. That
	 * comes after the lock is dropped: taking an SQE from a full SQ
	 * submits and may reap, running completion handlers, some of which
	 * take our own inbox's lock - under another runtime's lock, two
	 * runtimes waking each other would each hold what the other waits
	 * for.
	 */
	pthread_mutex_lock(&ib->lock);
	if (ib->tail)
		ib->tail->next = m;
	else
		ib->head = m;
	ib->tail = m;
	/* Already set: the loop has yet to drain, and it will see @m. */
	wake = !atomic_exchange(&ib->wake_pending, true);
	if (wake)
		atomic_fetch_add_explicit(&ib->refs, 1, memory_order_relaxed);
	pthread_mutex_unlock(&ib->lock);
	if (!wake)
		return;
	if (me && me != rt && ib->msg_ring && me->inbox->msg_ring &&
	    sends_add(me->inbox, ib)) {
		sqe = coil__get_sqe(me, 1);
		if (sqe) {
			io_uring_prep_msg_ring(sqe, ib->ring_fd, 0,
					       COIL__UD_INBOX, 0);
			io_uring_sqe_set_data64(sqe,
						(uint64_t)(uintptr_t)&ib->msg_op);
			/* The reference is msg_ring_done()'s to drop. */
			me->be.inflight++;
			return;
		}
		/* No SQE: the eventfd wakes it. (By value, not the last
		 * entry: a reap inside coil__get_sqe() may have moved it.) */
		sends_del(me->inbox, ib);
	}
	while (write(ib->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	inbox_unref(ib);
}

void coil__inbox_drain(struct coil_rt *rt)
{
	struct coil__inbox *ib = rt->inbox;
	struct coil__msg *m, *next;

	/*
	 * Closing (a wake-up reaped while coil__inbox_fini() polls): every
	 * task has ended and the objects late messages name may be gone with
	 * them; fini drops the messages.
	 */
	if (ib->closing)
		return;
	/* Clear first: a send after this point wakes us again. */
	atomic_store(&ib->wake_pending, false);
	pthread_mutex_lock(&ib->lock);
	m = ib->head;
	ib->head = ib->tail = NULL;
	pthread_mutex_unlock(&ib->lock);
	for (; m; m = next) {
		next = m->next;
		m->run(rt, m);
	}
}

void coil__inbox_settle(struct coil_rt *rt)
{
	if (coil__tls_rt == rt && rt->inbox)
		coil__inbox_drain(rt);
}

void coil__inbox_fini(struct coil_rt *rt)
{
	struct coil__inbox *ib = rt->inbox;
	struct coil__msg *m, *next;

	if (!ib)
		return;
	ib->closing = true;
	if (ib->armed && !rt->be.fatal) {
		/* The read points into @ib: wait for its CQE before freeing. */
		coil__op_cancel(rt, &ib->op);
		while (ib->armed && rt->backend->poll(rt, true, COIL__NEVER) >= 0)
			;
	}
	/* Our wake-ups of other runtimes hold references to their inboxes. */
	while (ib->nsends && !rt->be.fatal &&
	       rt->backend->poll(rt, true, COIL__NEVER) >= 0)
		;
	/*
	 * The ring failed: those CQEs will never come, nor perhaps the
	 * wake-ups. Each target's wake_pending may be ours, and left set it
	 * would stop every later sender from waking that runtime for good:
	 * wake each through its eventfd (a spare wake-up costs nothing).
	 */
	while (ib->nsends) {
		struct coil__inbox *t = ib->sends[--ib->nsends];
		uint64_t one = 1;

		while (write(t->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
		inbox_unref(t);
	}
	free(ib->sends);
	ib->sends = NULL;
	/* Wait out a sender still inside coil__inbox_send(). */
	pthread_mutex_lock(&ib->lock);
	pthread_mutex_unlock(&ib->lock);
	/* Messages that came too late (each a single allocation, or on a
	 * stack that no longer runs): drop them. */
	for (m = ib->head; m; m = next) {
		next = m->next;
		if (!m->on_stack)
			free(m);
	}
	ib->head = ib->tail = NULL;
	rt->inbox = NULL;
	inbox_unref(ib);
}

/* ----------------------------------------------------------- offload */

#define COIL__POOL_THREADS 4

enum { JOB_QUEUED, JOB_RUNNING };

struct offload_job {
	struct coil__msg msg;      /* completion, sent by the worker */
	struct offload_job *next;  /* pool queue link */
	struct coil_rt *rt;
	struct coil_task *task;
	coil_fn fn;
	void *arg;
	void *result;
	int state;                 /* under the pool lock */
	int interrupted;           /* -ECANCELED/-ETIMEDOUT while running */
};

struct coil__pool {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct offload_job *head, *tail;
	pthread_t threads[COIL__POOL_THREADS];
	int nthreads;
	bool stop;
};

static void *worker_main(void *arg)
{
	struct coil__pool *p = arg;
	struct offload_job *j;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->cv, &p->lock);
		/*
		 * Stopping: normally nothing is queued (every caller waited for
		 * its job); after a fatal ring error, queued jobs belong to
		 * abandoned tasks and are not run.
		 */
		if (p->stop || !p->head)
			break;
		j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		j->state = JOB_RUNNING;
		pthread_mutex_unlock(&p->lock);
		j->result = j->fn(j->arg);
		/* After this the job's frame may be gone: touch nothing. */
		coil__inbox_send(j->rt, &j->msg);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int pool_start(struct coil_rt *rt)
{
	struct coil__pool *p = calloc(1, sizeof(*p));
	int i, err;

	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cv, NULL);
	for (i = 0; i < COIL__POOL_THREADS; i++) {
		err = pthread_create(&p->threads[i], NULL, worker_main, p);
		if (err)
			break;
		p->nthreads++;
	}
	if (!p->nthreads) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return -EAGAIN;
	}
	rt->pool = p;
	return 0;
}

void coil__offload_fini(struct coil_rt *rt)
{
	struct coil__pool *p = rt->pool;
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->lock);
	free(p);
	rt->pool = NULL;
}

/* The worker finished: resume the caller (in the loop, via the inbox). */
static void job_done(struct coil_rt *rt, struct coil__msg *m)
{
	struct offload_job *j = (struct offload_job *)m;

	(void)rt;
	coil__wake(j->task, j->interrupted);
}

static void offload_unwait(struct coil_task *t, int why)
{
	struct offload_job *j = t->wait_obj;
	struct coil__pool *p = t->rt->pool;
	struct offload_job **pp;

	pthread_mutex_lock(&p->lock);
	if (j->state == JOB_QUEUED) {
		for (pp = &p->head; *pp; pp = &(*pp)->next) {
			if (*pp == j) {
				*pp = j->next;
				break;
			}
		}
		p->tail = NULL;
		for (pp = &p->head; *pp; pp = &(*pp)->next)
			p->tail = *pp;
		pthread_mutex_unlock(&p->lock);
		coil__wake(t, why);
		return;
	}
	/* Running: it cannot be stopped; its completion will wake us. */
	if (!j->interrupted)
		j->interrupted = why;
	pthread_mutex_unlock(&p->lock);
}

int coil_offload(coil_fn fn, void *arg, void **result)
{
	struct coil_task *self = coil__running();
	struct offload_job j;
	struct coil__pool *p;
	int err;

	if (!self)
		return -EPERM;
	if (!fn)
		return -EINVAL;
	err = coil__check_cancel(self);
	if (err)
		return err;
	if (!self->rt->pool) {
		err = pool_start(self->rt);
		if (err)
			return err;
	}
	p = self->rt->pool;
	memset(&j, 0, sizeof(j));
	j.msg.run = job_done;
	j.msg.on_stack = true;
	j.rt = self->rt;
	j.task = self;
	j.fn = fn;
	j.arg = arg;
	j.state = JOB_QUEUED;
	pthread_mutex_lock(&p->lock);
	if (p->tail)
		p->tail->next = &j;
	else
		p->head = &j;
	p->tail = &j;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->lock);
	self->rt->remote_waiters++;
	err = coil__suspend_until(self, "offload", offload_unwait, &j,
				  self->deadline);
	self->rt->remote_waiters--;
	if (result && j.state == JOB_RUNNING)
		*result = j.result;
	return err;
}
