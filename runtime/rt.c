/* SPDX-License-Identifier: MIT */
/*
 * runtime/rt.c - the runtime: coil_run(), the scheduler loop, suspending
 * and waking tasks, and completion dispatch.
 *
 * One loop turn (loop_turn()):
 *   1. run_ready()  - run the tasks that were ready when the turn began,
 *                     FIFO; a task that suspends hands the CPU straight to
 *                     the next one (no trip through the loop);
 *   2. expire timers that are due;
 *   3. backend poll - one io_uring_enter that submits the turn's SQEs, and
 *                     blocks only when no task is ready;
 *   4. reap         - every CQE in one batch; each wakes its task (inside
 *                     the backend's poll, through coil__complete()).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "suspend.h"

__thread struct coil_rt *coil__tls_rt __attribute__((tls_model("initial-exec")));

/* Timers are checked every turn when idle, else every 16th turn. */

/* Bumped by coil_dump_request(); each runtime remembers what it served. */
atomic_uint_fast64_t coil__dump_requests;

/* Runtimes created so far in this process: each one's serial. */
static atomic_uint_fast64_t rt_serials;

/* ------------------------------------------------------------ Valgrind */

#if COIL_HAVE_VALGRIND_H
bool coil__on_valgrind;

/*
 * Runs at load, before any runtime exists; Valgrind is there from exec on.
 * Priority 101, the first one open to programs: linked statically,
 * libcoil.a's default-priority constructors would run after the program's
 * own, and a program that runs coil from a constructor (or a C++ static
 * initialiser) would do its I/O with the flag still unset.
 */
__attribute__((constructor(101))) static void detect_valgrind(void)
{
	coil__on_valgrind = RUNNING_ON_VALGRIND != 0;
}

void coil__vg_defined_slow(const void *p, size_t n)
{
	VALGRIND_MAKE_MEM_DEFINED(p, n);
}
#endif

/* ------------------------------------------------------------- logging */

void coil_log_quiet(void *userdata, const char *line)
{
	(void)userdata;
	(void)line;
}

void coil__log(const struct coil_rt *rt, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (rt && rt->opts.log)
		rt->opts.log(rt->opts.log_userdata, line);
	else
		fprintf(stderr, "%s\n", line);
}

/* ------------------------------------------------------------- options */

void coil_options_init(struct coil_options *opts)
{
	memset(opts, 0, sizeof(*opts));
}

#define COIL__DEFAULT_SQ 256u
#define COIL__MAX_SQ 32768u  /* the kernel's IORING_MAX_ENTRIES */
#define COIL__MAX_CQ 65536u  /* IORING_MAX_CQ_ENTRIES */
#define COIL__DEFAULT_STACK (64u * 1024u)
#define COIL__MAX_STACK ((size_t)1 << 30)
/*
 * 20 us: a few loop turns' worth at echo-server rates (a turn of 64
 * connections takes ~10 us of user and kernel work here), well under a
 * loopback round trip's ~80 us at one connection.
 */
#define COIL__DEFAULT_WAIT_BATCH_US 20u
#define COIL__MAX_WAIT_BATCH_US 10000u

static int normalize_options(struct coil_rt *rt, const struct coil_options *in)
{
	struct coil_options *o = &rt->opts;

	if (in)
		*o = *in;
	else
		coil_options_init(o);
	if (!o->sq_entries)
		o->sq_entries = COIL__DEFAULT_SQ;
	if (o->sq_entries > COIL__MAX_SQ)
		return -EINVAL;
	/*
	 * An op with a timeout takes two adjacent SQEs (the op and its
	 * IORING_OP_LINK_TIMEOUT), which a one-entry SQ cannot hold: they
	 * would go to the kernel in separate submissions, the op without its
	 * timeout. The kernel rounds sizes up to a power of two anyway.
	 */
	if (o->sq_entries < 2)
		o->sq_entries = 2;
	/* A CQ at least twice the SQ: one SQE may yield several CQEs. */
	if (o->cq_entries > COIL__MAX_CQ)
		return -EINVAL;
	if (!o->cq_entries)
		o->cq_entries = 4 * o->sq_entries < COIL__MAX_CQ ?
					4 * o->sq_entries : COIL__MAX_CQ;
	if (o->cq_entries < 2 * o->sq_entries)
		o->cq_entries = 2 * o->sq_entries;
	if (!o->stack_size)
		o->stack_size = COIL__DEFAULT_STACK;
	if (o->stack_size > COIL__MAX_STACK)
		return -EINVAL;
	if (o->timer_mode != COIL_TIMER_HEAP &&
	    o->timer_mode != COIL_TIMER_PER_OP)
		return -EINVAL;
	if (!o->wait_batch_us)
		o->wait_batch_us = COIL__DEFAULT_WAIT_BATCH_US;
	if (o->wait_batch_us > COIL__MAX_WAIT_BATCH_US)
		return -EINVAL;
	return 0;
}

/* ---------------------------------------------------- switching tasks */

void coil__reap_exited_slow(struct coil_rt *rt)
{
	struct coil_task *t = rt->exited;

	rt->exited = NULL;
	coil__task_reap_exited(rt, t);
}

void coil__enqueue_new(struct coil_rt *rt, struct coil_task *t)
{
	t->state = COIL__TASK_READY;
	coil__runq_push(rt, t);
}

/*
 * The next task this turn may run, or NULL to return to the loop: tasks
 * made ready during the turn wait for the next one, so I/O is polled
 * between them and a yielding task cannot starve completions.
 */
static inline struct coil_task *next_this_turn(struct coil_rt *rt)
{
	if (!rt->turn_budget)
		return NULL;
	rt->turn_budget--;
	return coil__runq_pop(rt);
}

/* Out of line for everyone but the op path and a recvq's untimed wait,
 * which inline suspend.h. */
int coil__suspend(struct coil_task *self, const char *what,
		  coil__unwait_fn unwait, void *obj)
{
	return coil__suspend_inline(self, what, unwait, obj);
}

int coil_yield(void)
{
	struct coil_task *self = coil__running();
	struct coil_rt *rt;
	int err;

	if (!self)
		return -EPERM;
	err = coil__check_cancel(self);
	if (err)
		return err;
	rt = self->rt;
	self->state = COIL__TASK_READY;
	coil__runq_push(rt, self);
	coil__switch_to(rt, self, coil__next_for_task(rt));
	return 0;
}

/* Called on the exiting task's stack; never returns. */
void coil__task_exit_switch(struct coil_task *self)
{
	struct coil_rt *rt = self->rt;
	struct coil_task *next;

	/*
	 * A task cannot free the stack it runs on: whoever runs next does
	 * (coil__reap_exited() after every switch). The main task goes back
	 * to the loop, which must see it finish and cancel the others.
	 */
	rt->exited = self;
	next = self->is_main ? NULL : coil__next_for_task(rt);
	coil__san_exit_begin(rt, next);
	rt->current = next;
	if (next) {
		next->state = COIL__TASK_RUNNING;
		rt->stats.switches++;
	}
	coil__ctx_switch(&self->ctx, next ? &next->ctx : &rt->sched_ctx);
	__builtin_unreachable();
}

/* Run the tasks that were ready at the start of this turn. */
static void run_ready(struct coil_rt *rt)
{
	struct coil_task *t;

	rt->turn_budget = rt->runq_len;
	while ((t = next_this_turn(rt))) {
		/* switch_to() frees the stack of a task that exited. */
		coil__switch_to(rt, NULL, t);
	}
}

/* ------------------------------------------------------------- the loop */

static void serve_dump_request(struct coil_rt *rt)
{
	uint64_t gen = atomic_load_explicit(&coil__dump_requests,
					    memory_order_relaxed);

	if (COIL__UNLIKELY(gen != rt->dump_gen)) {
		rt->dump_gen = gen;
		coil_dump(STDERR_FILENO);
	}
}

/* Cancel every live task (shutdown, or unwinding a deadlock). */
static void cancel_all(struct coil_rt *rt)
{
	struct coil_task *t, *next;

	for (t = rt->all; t; t = next) {
		next = t->all_next;
		coil_cancel(t);
	}
}

/*
 * Nothing is ready, no CQE is owed and no timer is armed, yet tasks are
 * waiting: none of them can ever be woken. Say so and cancel everyone so
 * that they unwind and coil_run() can return.
 */
static int break_deadlock(struct coil_rt *rt)
{
	struct coil_task *t;

	for (t = rt->all; t && t->cancelled; t = t->all_next)
		;
	if (!t) {
		/*
		 * Everyone was cancelled already and still nobody can run:
		 * tasks that wait without a way out (a cancelled task joining
		 * another that will not finish). Give up on them.
		 */
		coil__log(rt, "coil: deadlock persists after cancelling every "
			  "task; abandoning %llu task(s)",
			  (unsigned long long)rt->stats.tasks_live);
		return -EDEADLK;
	}
	coil__log(rt, "coil: deadlock: %llu task(s) wait with nothing left "
		  "that could wake them; cancelling all",
		  (unsigned long long)rt->stats.tasks_live);
	if (!rt->opts.log)
		coil_dump(STDERR_FILENO);
	if (rt->main_ret == 0)
		rt->main_ret = -EDEADLK;
	cancel_all(rt);
	return 0;
}

static void on_main_done(struct coil_rt *rt)
{
	rt->shutting_down = true;
	if (rt->main->cancelled && rt->main_ret == 0)
		rt->main_ret = -ECANCELED;
	cancel_all(rt);
}

#define COIL__TRIM_PERIOD_NS 1000000000ull

/* About to block: a moment for housekeeping that needs the clock. */
static void idle_housekeeping(struct coil_rt *rt, uint64_t now)
{
	if (now - rt->last_trim >= COIL__TRIM_PERIOD_NS) {
		rt->last_trim = now;
		coil__stack_trim(rt);
	}
}

static int loop_turn(struct coil_rt *rt)
{
	uint64_t next_timer, now;
	bool idle;
	int ret;

	run_ready(rt);
	if (!rt->shutting_down && rt->main->state == COIL__TASK_DONE)
		on_main_done(rt);
	/*
	 * Every task has ended: never block now. Ops still in flight belong
	 * to objects that outlive the run (a listener's multishot accept, a
	 * libcurl session's polls) and no task waits for them; run_loop()'s
	 * last poll hands over what is queued.
	 */
	if (!rt->all)
		return 0;
	serve_dump_request(rt);
	rt->stats.loop_turns++;
	idle = rt->runq_len == 0;
	next_timer = coil__timers_next(rt);
	/*
	 * Reading the clock costs ~30 ns on a VM: a busy loop (tasks always
	 * ready) checks timers every 16th turn, so they fire at most 16
	 * turns late; an idle loop checks before it blocks.
	 */
	rt->turns_unclocked++;
	if (next_timer != COIL__NEVER &&
	    (idle || rt->turns_unclocked >= COIL__BUSY_TIMER_CHECK)) {
		rt->turns_unclocked = 0;
		now = coil__now();
		if (next_timer <= now) {
			coil__timers_expire(rt, now);
			next_timer = coil__timers_next(rt);
			idle = rt->runq_len == 0;
		}
	}
	/* Housekeeping reads the clock only every 64th idle turn. */
	if (idle && (++rt->idle_turns & 63) == 0)
		idle_housekeeping(rt, coil__now());
	/* About to block: the inbox's read must be armed (arming finds no
	 * SQE only on a ring in trouble; it is retried here). */
	if (idle)
		coil__inbox_arm(rt);
	/*
	 * Every queued SQE is counted in inflight, so this sees them too. The
	 * inbox's armed read does not count: it can only wake tasks that wait
	 * on something another thread may set (remote_waiters). Background
	 * ops (housekeeping timers) do not count either.
	 */
	if (idle && next_timer == COIL__NEVER && !rt->remote_waiters &&
	    rt->be.inflight == coil__inbox_armed(rt) + rt->background_ops) {
		return break_deadlock(rt); /* rt->all: checked above */
	}
	ret = rt->backend->poll(rt, idle, next_timer);
	return ret < 0 ? ret : 0;
}

static int run_loop(struct coil_rt *rt)
{
	int ret;

	coil__inbox_arm(rt);
	while (rt->all) {
		ret = loop_turn(rt);
		if (ret == -EDEADLK) {
			/* Still hand queued MSG_RING wake-ups to the kernel. */
			rt->backend->poll(rt, false, COIL__NEVER);
			return ret;
		}
		if (ret < 0) {
			/*
			 * EPERM once the ring exists: setup was allowed, so
			 * io_uring_enter itself is refused - by a seccomp
			 * filter or a security module, not by the sysctl.
			 */
			coil__log(rt, "coil: fatal ring error: %s%s; "
				  "abandoning %llu task(s)", strerror(-ret),
				  ret == -EPERM ?
					  " (io_uring_enter refused: a seccomp "
					  "filter or a security module forbids "
					  "it)" : "",
				  (unsigned long long)rt->stats.tasks_live);
			return ret;
		}
	}
	/*
	 * SQEs nobody waits for may still be queued: IORING_OP_MSG_RING wake-ups
	 * for other runtimes. Hand them to the kernel before the ring goes.
	 */
	ret = rt->backend->poll(rt, false, COIL__NEVER);
	return ret < 0 ? ret : 0;
}

/* ------------------------------------------------------------ coil_run */

/*
 * @keep_stacks: the ring failed with tasks abandoned inside ops, and the
 * kernel may still write into buffers on their stacks (closing the ring
 * tears it down asynchronously): leave the stack arenas mapped rather than
 * let those writes land in freed or reused memory. Address space left
 * behind on a fatal path; the pool's bookkeeping is still freed.
 */
static void destroy_rt(struct coil_rt *rt, bool keep_stacks)
{
	coil__offload_fini(rt);
	coil__inbox_fini(rt);
	coil__task_free_all(rt);
	coil__timer_heap_fini(&rt->timers);
	coil__stack_pool_fini(rt, keep_stacks);
	if (rt->backend)
		rt->backend->fini(rt);
	coil__overflow_handler_detach(rt);
	coil__tls_rt = NULL;
	free(rt);
}

/* ASan needs the bounds of the thread's own stack, where the loop runs. */
static void note_thread_stack(struct coil_rt *rt)
{
#ifdef COIL__SANITIZE_ADDRESS
	pthread_attr_t attr;
	void *lo;
	size_t size;

	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;
	if (pthread_attr_getstack(&attr, &lo, &size) == 0) {
		rt->sched_stack_lo = lo;
		rt->sched_stack_size = size;
	}
	pthread_attr_destroy(&attr);
#else
	(void)rt;
#endif
}

static int create_rt(const struct coil_options *opts, struct coil_rt **out)
{
	struct coil_rt *rt = calloc(1, sizeof(*rt));
	int err;

	if (!rt)
		return -ENOMEM;
	err = normalize_options(rt, opts);
	if (err)
		goto out_free;
	rt->page_size = (size_t)sysconf(_SC_PAGESIZE);
	rt->next_id = 1;
	rt->serial = atomic_fetch_add(&rt_serials, 1) + 1;
	rt->dump_gen = atomic_load(&coil__dump_requests);
	note_thread_stack(rt);
	/* Tasks start with the FP environment of the thread running coil_run. */
	rt->fpstate = coil__ctx_fpstate();
	err = coil__backend_uring.init(rt);
	if (err)
		goto out_free;
	rt->backend = &coil__backend_uring;
	err = coil__inbox_init(rt);
	if (err)
		goto out_backend;
	err = coil__stack_pool_init(rt);
	if (err)
		goto out_inbox;
	coil__overflow_handler_attach(rt);
	*out = rt;
	return 0;
out_inbox:
	coil__inbox_fini(rt);
out_backend:
	rt->backend->fini(rt);
out_free:
	free(rt);
	return err;
}

int coil_run_opts(const struct coil_options *opts, coil_fn fn, void *arg,
		  void **result)
{
	struct coil_rt *rt;
	bool keep_stacks;
	int err;

	if (!fn)
		return -EINVAL;
	if (coil__tls_rt)
		return -EBUSY;
	err = create_rt(opts, &rt);
	if (err)
		return err;
	coil__tls_rt = rt;
	err = coil__task_create(rt, NULL, fn, arg, &rt->main);
	if (err) {
		destroy_rt(rt, false);
		return err;
	}
	rt->main->is_main = true;
	err = run_loop(rt);
	if (err)
		/* The ring is broken, or others deadlocked after main ended. */
		rt->main_ret = err;
	/* Main's value is its own once it returned, whatever came after. */
	if (result && rt->main->state == COIL__TASK_DONE)
		*result = rt->main->result;
	/*
	 * After a fatal ring error or a deadlock that cancelling did not
	 * break too: then tasks_live counts the tasks abandoned, and the
	 * counters show what led there.
	 */
	if (rt->opts.final_stats)
		coil_stats_get(rt->opts.final_stats);
	keep_stacks = err && err != -EDEADLK && rt->all;
	if (keep_stacks)
		coil__log(rt, "coil: task stacks left mapped: the kernel may "
			  "still write into the abandoned tasks' buffers");
	err = rt->main_ret;
	destroy_rt(rt, keep_stacks);
	return err;
}

int coil_run(coil_fn fn, void *arg, void **result)
{
	return coil_run_opts(NULL, fn, arg, result);
}

/* ------------------------------------------------------- diagnostics */

int coil_stats_get(struct coil_stats *out)
{
	struct coil_rt *rt = coil__tls_rt;

	if (!out)
		return -EINVAL;
	if (!rt)
		return -EPERM;
	*out = rt->stats;
	return 0;
}

const char *coil_backend_name(void)
{
	struct coil_rt *rt = coil__tls_rt;

	return rt && rt->backend ? rt->backend->name : NULL;
}

void coil_dump_request(void)
{
	atomic_fetch_add_explicit(&coil__dump_requests, 1, memory_order_relaxed);
}

static const char *const state_names[] = {
	[COIL__TASK_READY] = "ready",
	[COIL__TASK_RUNNING] = "running",
	[COIL__TASK_WAITING] = "waiting",
	[COIL__TASK_DONE] = "done",
};

static int dump_line(int fd, const char *buf, int len)
{
	ssize_t n;

	while (len > 0) {
		n = write(fd, buf, (size_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (int)n;
	}
	return 0;
}

int coil_dump(int fd)
{
	struct coil_rt *rt = coil__tls_rt;
	struct coil_task *t;
	char line[256];
	int n, count = 0, err;

	if (!rt)
		return -EPERM;
	n = snprintf(line, sizeof(line), "coil: %llu live task(s), %llu "
		     "CQE(s) in flight\n",
		     (unsigned long long)rt->stats.tasks_live,
		     (unsigned long long)rt->be.inflight);
	err = dump_line(fd, line, n);
	for (t = rt->all; t && !err; t = t->all_next, count++) {
		n = snprintf(line, sizeof(line),
			     "  task %llu%s%s%s: %s%s%s%s, stack %zu bytes, "
			     "high water %zu\n",
			     (unsigned long long)t->id, t->name[0] ? " '" : "",
			     t->name, t->name[0] ? "'" : "",
			     state_names[t->state],
			     t->state == COIL__TASK_WAITING ? " on " : "",
			     t->state == COIL__TASK_WAITING && t->wait_what ?
				     t->wait_what : "",
			     t->cancelled ? " (cancelled)" : "",
			     t->stack.size, coil__stack_high_water(&t->stack));
		err = dump_line(fd, line, n < (int)sizeof(line) ? n :
				(int)sizeof(line) - 1);
	}
	return err ? err : count;
}
