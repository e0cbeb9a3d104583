/* SPDX-License-Identifier: MIT */
/*
 * runtime/backend/uring.c - the io_uring backend: ring setup that explains
 * itself, batched submission, and batched completion reaping.
 *
 * One ring per runtime, used only from the runtime's thread. The scheduler
 * calls poll() once per loop turn, so one io_uring_enter both submits the
 * turn's SQEs and (when it must wait) collects completions.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../internal.h"
#include "../sanitizer.h"

/*
 * Valgrind runs one thread at a time and does not hand the CPU on while a
 * thread sleeps in io_uring_enter (it does not know that call blocks) or
 * runs few instructions between such sleeps, so a coil_offload() worker
 * would never run while the loop waits for its completion. Under Valgrind
 * the loop yields (sched_yield releases Valgrind's lock) before each wait,
 * and a wait lasts at most this long.
 */
#define VALGRIND_MAX_WAIT_NS 5000000ull

/* Linux 6.12: io_uring_getevents_arg's pad is min_wait_usec. */
#ifndef IORING_FEAT_MIN_TIMEOUT
#define IORING_FEAT_MIN_TIMEOUT (1U << 15)
#endif

/* The largest batch a wait asks for (wait_batched()). */
#define WAIT_BATCH_MAX 16u

/*
 * Flag sets tried in order; the kernel answers -EINVAL for flags it does not
 * know, and we step down. SINGLE_ISSUER + DEFER_TASKRUN (6.1) run completion
 * work only when we enter the kernel, in our thread, in batches: the
 * cheapest mode for a thread-per-core runtime. COOP_TASKRUN (5.19) avoids
 * IPIs to interrupt us. SUBMIT_ALL (5.18) keeps submitting past a bad SQE
 * (its error arrives as a CQE). CQSIZE (5.5) lets the CQ be larger than the
 * SQ so that bursts of completions do not overflow. TASKRUN_FLAG makes the
 * kernel raise IORING_SQ_TASKRUN when completions wait for us to enter, so a
 * busy loop enters only when there is something to collect.
 */
static const struct {
	unsigned flags;
	const char *kernel;
} setup_steps[] = {
	{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
		  IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SUBMIT_ALL |
		  IORING_SETUP_CQSIZE, "6.1" },
	{ IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG |
		  IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE, "5.19" },
	{ IORING_SETUP_SUBMIT_ALL | IORING_SETUP_CQSIZE, "5.18" },
	{ IORING_SETUP_CQSIZE, "5.5" },
};

static unsigned step_allowed(const struct coil_options *o, unsigned flags)
{
	unsigned taskrun = IORING_SETUP_SINGLE_ISSUER |
			   IORING_SETUP_DEFER_TASKRUN |
			   IORING_SETUP_COOP_TASKRUN |
			   IORING_SETUP_TASKRUN_FLAG;

	if ((o->flags & COIL_OPT_PLAIN_RING) && (flags & taskrun))
		return 0;
	if ((o->flags & COIL_OPT_NO_DEFER_TASKRUN) &&
	    (flags & IORING_SETUP_DEFER_TASKRUN))
		return 0;
	return 1;
}

static int read_sysctl_int(const char *path)
{
	FILE *f = fopen(path, "re");
	int v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* Say why no ring could be made, in words a user can act on. */
static void explain_setup_failure(const struct coil_rt *rt, int err)
{
	struct rlimit rl;
	int disabled;

	switch (err) {
	case -EPERM:
		disabled = read_sysctl_int("/proc/sys/kernel/io_uring_disabled");
		if (disabled > 0)
			coil__log(rt, "coil: io_uring is disabled by sysctl "
				  "kernel.io_uring_disabled=%d; set it to 0 (or "
				  "1 and add this user to "
				  "kernel.io_uring_group)", disabled);
		else
			coil__log(rt, "coil: io_uring_setup was refused (EPERM):"
				  " a seccomp profile blocks it (Docker's and "
				  "many container runtimes' default profiles "
				  "do); allow io_uring_setup, io_uring_enter "
				  "and io_uring_register for this program");
		break;
	case -ENOMEM:
		getrlimit(RLIMIT_MEMLOCK, &rl);
		coil__log(rt, "coil: no memory for the io_uring (ENOMEM): "
			  "kernels before 5.12 charge rings to "
			  "RLIMIT_MEMLOCK (now %llu KiB); raise it (ulimit "
			  "-l) or ask for fewer sq_entries",
			  (unsigned long long)(rl.rlim_cur / 1024));
		break;
	case -ENOSYS:
		coil__log(rt, "coil: this kernel has no io_uring (ENOSYS): it "
			  "is older than 5.1 or built without "
			  "CONFIG_IO_URING; coil needs Linux 5.11 or later");
		break;
	default:
		coil__log(rt, "coil: io_uring setup failed: %s",
			  strerror(-err));
	}
}

static int uring_init(struct coil_rt *rt)
{
	struct coil__backend_state *be = &rt->be;
	struct io_uring_params p;
	unsigned i;
	int err = -EINVAL;

	for (i = 0; i < sizeof(setup_steps) / sizeof(setup_steps[0]); i++) {
		if (!step_allowed(&rt->opts, setup_steps[i].flags))
			continue;
		memset(&p, 0, sizeof(p));
		p.flags = setup_steps[i].flags;
		p.cq_entries = rt->opts.cq_entries;
		err = io_uring_queue_init_params(rt->opts.sq_entries, &be->ring,
						 &p);
		if (err != -EINVAL)
			break;
	}
	if (err == -EINVAL) {
		/* Not even CQSIZE (5.5): too old for coil (EXT_ARG is 5.11). */
		err = -ENOSYS;
	}
	if (err < 0) {
		explain_setup_failure(rt, err);
		return err;
	}
	be->setup_flags = p.flags;
	be->defer_taskrun = p.flags & IORING_SETUP_DEFER_TASKRUN;
	be->min_wait_ok = (p.features & IORING_FEAT_MIN_TIMEOUT) &&
			  !(rt->opts.flags & COIL_OPT_NO_WAIT_BATCH);
	be->wait_want = 1;
	if (!(p.features & IORING_FEAT_NODROP))
		coil__log(rt, "coil: kernel lacks IORING_FEAT_NODROP (< 5.5): "
			  "completions could be lost on CQ overflow");
	/* Saves an fget/fput per io_uring_enter (5.18); fine if refused. */
	be->ring_fd_registered = io_uring_register_ring_fd(&be->ring) == 1;
	rt->stats.ring_flags = p.flags;
	rt->stats.sq_entries = p.sq_entries;
	rt->stats.cq_entries = p.cq_entries;
	return 0;
}

static void uring_fini(struct coil_rt *rt)
{
	io_uring_queue_exit(&rt->be.ring);
}

/*
 * How many CQEs ahead of the one being dispatched reap() has started
 * warming the resume of (coil__prefetch_resume()): enough for the misses
 * and page walks of several tasks to overlap. The woken tasks run only
 * after the whole batch is reaped, so what bounds the lines in flight is
 * the batch (5 per warmed CQE: the task's first line, 4 of its stack);
 * 8 and 32 measured the same as 16.
 */
#define REAP_AHEAD 16u

/*
 * Dispatch every CQE in the ring. The tail is read once (acquire: the CQEs
 * before it are visible) rather than per entry as io_uring_for_each_cqe
 * does. Each CQE is copied out and released before it is dispatched, so a
 * completion handler that itself has to reap (a full SQ meeting -EBUSY in
 * submit()) never sees it twice. coil never sets up CQE32 rings.
 * A batch of two or more CQEs is dispatched with a window of REAP_AHEAD
 * CQEs whose tasks' resumes are being warmed; a lone CQE has nothing to
 * overlap its misses with, so it skips that.
 */
static unsigned reap(struct coil_rt *rt)
{
	struct io_uring_cq *cq = &rt->be.ring.cq;
	unsigned head = *cq->khead;
	unsigned tail = io_uring_smp_load_acquire(cq->ktail);
	unsigned mask = cq->ring_mask, n = 0;
	unsigned ahead = tail; /* next CQE to warm; head <= ahead <= tail */
	struct io_uring_cqe *cqe;
	uint64_t ud;
	unsigned flags;
	int res;

	if (tail - head >= 2)
		for (ahead = head; ahead != tail && ahead - head < REAP_AHEAD;
		     ahead++)
			coil__prefetch_resume(cq->cqes[ahead & mask].user_data);
	while ((int)(tail - head) > 0) {
		/* One in, one out: the window stays REAP_AHEAD wide. */
		if (ahead != tail) {
			coil__prefetch_resume(cq->cqes[ahead & mask].user_data);
			ahead++;
		}
		cqe = &cq->cqes[head & mask];
		ud = cqe->user_data;
		res = cqe->res;
		flags = cqe->flags;
		io_uring_smp_store_release(cq->khead, ++head);
		n++;
		coil__complete(rt, ud, res, flags);
		/* A nested reap may have moved the head past ours. */
		if (COIL__UNLIKELY((int)(*cq->khead - head) > 0)) {
			head = *cq->khead;
			if ((int)(head - ahead) > 0)
				ahead = head;
			if ((int)(tail - head) < 0)
				ahead = tail = head;
		}
	}
	rt->stats.cqes_reaped += n;
	return n;
}

/* Kernel asks us to enter: task work pending or CQEs held in overflow. */
static bool kernel_wants_enter(struct coil_rt *rt)
{
	unsigned kflags = IO_URING_READ_ONCE(*rt->be.ring.sq.kflags);

	if (kflags & IORING_SQ_CQ_OVERFLOW) {
		rt->stats.cq_overflows++;
		return true;
	}
	return kflags & IORING_SQ_TASKRUN;
}

/*
 * Submit what is queued. -EBUSY / -EAGAIN mean the kernel holds overflowed
 * completions or lacks resources: reap and retry. -EINTR: retry.
 */
static int submit(struct coil_rt *rt, bool get_events)
{
	struct io_uring *ring = &rt->be.ring;
	int ret;

	for (;;) {
		rt->stats.enter_calls++;
		ret = get_events ? io_uring_submit_and_get_events(ring)
				 : io_uring_submit(ring);
		if (ret >= 0) {
			rt->stats.sqes_submitted += (unsigned)ret;
			return ret;
		}
		if (ret == -EINTR)
			continue;
		if (ret != -EBUSY && ret != -EAGAIN)
			return ret;
		rt->stats.cq_overflows++;
		reap(rt);
		get_events = true;
	}
}

static struct io_uring_sqe *uring_get_sqe(struct coil_rt *rt, unsigned n)
{
	struct io_uring *ring = &rt->be.ring;
	int ret;

	if (COIL__UNLIKELY(io_uring_sq_space_left(ring) < n)) {
		rt->stats.sq_full_retries++;
		ret = submit(rt, false);
		if (ret < 0) {
			/* Not EBUSY/EAGAIN/EINTR (submit retries those). */
			if (!rt->be.fatal)
				coil__log(rt, "coil: io_uring_submit failed: "
					  "%s", strerror(-ret));
			rt->be.fatal = ret;
			return NULL;
		}
		/*
		 * The kernel may take only part of the SQ (it could not
		 * allocate a request; before 5.18, after a bad SQE). @n is a
		 * promise: an op asks for 2 to have its linked timeout next
		 * to it, and taking the second must not fail or submit the
		 * op alone with IOSQE_IO_LINK dangling. No SQE, then: the op
		 * fails with -EAGAIN (coil__no_sqe_error()).
		 */
		if (io_uring_sq_space_left(ring) < n)
			return NULL;
	}
	return io_uring_get_sqe(ring);
}

static void ns_to_ts(uint64_t ns, struct __kernel_timespec *ts)
{
	ts->tv_sec = (long long)(ns / 1000000000u);
	ts->tv_nsec = (long long)(ns % 1000000000u);
}

/*
 * Submit what is queued and wait until @want completions have come or,
 * once at least one has, until the runtime's wait_batch_us have passed
 * (IORING_ENTER_EXT_ARG's min_wait_usec, Linux 6.12); @ts (absolute
 * deadline's relative form, or NULL) still bounds the whole wait. Returns
 * what io_uring_enter returns, or -errno. By hand, since liburing 2.3 has
 * neither io_uring_submit_and_wait_min_timeout() (2.8) nor a public call
 * that publishes the SQ tail without entering: the tail is published as
 * its __io_uring_flush_sq() does for a ring without SQPOLL, which coil
 * never sets up.
 */
static int wait_batched(struct coil_rt *rt, unsigned want,
			struct __kernel_timespec *ts)
{
	struct io_uring *ring = &rt->be.ring;
	struct io_uring_sq *sq = &ring->sq;
	struct io_uring_getevents_arg arg;
	unsigned flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
	int fd = ring->ring_fd;
	long ret;

	if (sq->sqe_head != sq->sqe_tail) {
		sq->sqe_head = sq->sqe_tail;
		io_uring_smp_store_release(sq->ktail, sq->sqe_tail);
	}
	memset(&arg, 0, sizeof(arg));
	arg.sigmask_sz = _NSIG / 8;
	arg.pad = rt->opts.wait_batch_us; /* min_wait_usec */
	arg.ts = (uint64_t)(uintptr_t)ts;
	if (rt->be.ring_fd_registered) {
		fd = ring->enter_ring_fd;
		flags |= IORING_ENTER_REGISTERED_RING;
	}
	ret = syscall(__NR_io_uring_enter, fd,
		      sq->sqe_tail - IO_URING_READ_ONCE(*sq->khead), want,
		      flags, &arg, sizeof(arg));
	return ret < 0 ? -errno : (int)ret;
}

/*
 * After a poll that waited and then reaped @got CQEs: the batch the next
 * wait asks for. More than asked for came (they arrived while we waited
 * or reaped): the load can fill a larger batch, so double it. Fewer came:
 * the wait ended at wait_batch_us (or the first CQE, for a batch of one),
 * so ask for what came. A runtime that sees one completion at a time
 * keeps asking for one, and its waits return at the first as before.
 */
static void adapt_batch(struct coil__backend_state *be, unsigned got)
{
	unsigned asked = be->wait_asked;

	be->wait_asked = 0;
	if (got > asked)
		be->wait_want = asked * 2 < WAIT_BATCH_MAX ? asked * 2 :
							      WAIT_BATCH_MAX;
	else if (got < asked)
		be->wait_want = got ? got : 1;
}

static int wait_for_completion(struct coil_rt *rt, uint64_t deadline)
{
	struct io_uring *ring = &rt->be.ring;
	struct __kernel_timespec ts, *tsp = NULL;
	struct io_uring_cqe *cqe;
	unsigned queued = io_uring_sq_ready(ring);
	unsigned want = rt->be.wait_want;
	uint64_t now = 0;
	int ret;

	if (COIL__UNLIKELY(RUNNING_ON_VALGRIND)) {
		now = coil__now();
		if (deadline > now + VALGRIND_MAX_WAIT_NS)
			deadline = now + VALGRIND_MAX_WAIT_NS;
		sched_yield();
	}
	if (deadline != COIL__NEVER) {
		now = coil__now();
		if (deadline <= now)
			return submit(rt, true);
		ns_to_ts(deadline - now, &ts);
		tsp = &ts;
	}
	rt->stats.enter_calls++;
	rt->be.wait_asked = 1;
	/*
	 * A batch, unless a timer is due before the batch's bound: it would
	 * fire up to wait_batch_us late (the kernel's min_wait outlasts a
	 * shorter timeout). Without kernel support wait_want stays 1.
	 */
	if (want > 1 &&
	    (!tsp || deadline - now > rt->opts.wait_batch_us * 1000ull)) {
		rt->be.wait_asked = want;
		rt->stats.batched_waits++;
		ret = wait_batched(rt, want, tsp);
	} else {
		/*
		 * With IORING_FEAT_EXT_ARG (5.11) the timeout rides along
		 * with the wait and costs no SQE; older kernels get a TIMEOUT
		 * SQE from liburing with user_data LIBURING_UDATA_TIMEOUT,
		 * which coil__complete ignores.
		 */
		ret = io_uring_submit_and_wait_timeout(ring, &cqe, 1, tsp,
						       NULL);
	}
	/*
	 * 0 or more, -ETIME (the timeout expired) or -EINTR (a signal: the
	 * loop looks at dump requests and comes back).
	 */
	rt->stats.sqes_submitted += queued - io_uring_sq_ready(ring);
	if (ret >= 0 || ret == -ETIME || ret == -EINTR)
		return 0;
	if (ret == -EBUSY || ret == -EAGAIN) {
		rt->stats.cq_overflows++;
		return 0;
	}
	return ret;
}

static int uring_poll(struct coil_rt *rt, bool wait, uint64_t deadline)
{
	struct io_uring *ring = &rt->be.ring;
	unsigned n;
	int ret = 0;

	if (wait && !io_uring_cq_ready(ring))
		ret = wait_for_completion(rt, deadline);
	else if (io_uring_sq_ready(ring) || kernel_wants_enter(rt))
		ret = submit(rt, true);
	if (ret < 0)
		return ret;
	n = reap(rt);
	if (rt->be.wait_asked && rt->be.min_wait_ok)
		adapt_batch(&rt->be, n);
	return (int)n;
}

const struct coil__backend coil__backend_uring = {
	.name = "io_uring",
	.init = uring_init,
	.fini = uring_fini,
	.get_sqe = uring_get_sqe,
	.poll = uring_poll,
};
