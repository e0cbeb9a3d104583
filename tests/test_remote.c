/* SPDX-License-Identifier: MIT */
/*
 * tests/test_remote.c - other threads talking to a runtime: plain threads
 * and a second runtime putting into queues, setting events, releasing
 * semaphores and closing queues (the inbox: eventfd and MSG_RING paths).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <coil.h>

#define WATCHDOG_S 20
#include "harness.h"
#include "helpers.h"

/* Sanitizers slow the pushing threads down by 10-50x: push less. */
#ifndef PER_THREAD
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define PER_THREAD 10000
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define PER_THREAD 10000
#endif
#endif
#endif
#ifndef PER_THREAD
#define PER_THREAD 100000
#endif

#define MAX_THREADS 16

/* Items are 1 + thread * PER_THREAD + i: never NULL, easy to decode. */
struct pusher {
	pthread_t tid;
	struct coil_queue *q;
	int index;
	int n;
	int errors; /* puts that did not return 0 */
};

static void *pusher_main(void *arg)
{
	struct pusher *p = arg;
	int i;

	for (i = 0; i < p->n; i++) {
		uintptr_t item = 1 + (uintptr_t)p->index * PER_THREAD +
				 (uintptr_t)i;

		if (coil_queue_put(p->q, (void *)item))
			p->errors++;
	}
	return NULL;
}

struct push_test {
	int nthreads;
	size_t capacity;
};

/*
 * Start the pushers, get every item, and check each arrived exactly once
 * and, per thread, in the order it was put.
 */
static void *body_push(void *arg)
{
	const struct push_test *pt = arg;
	struct pusher p[MAX_THREADS];
	int last[MAX_THREADS];
	size_t total = (size_t)pt->nthreads * PER_THREAD, got, bit;
	unsigned char *seen = calloc(total / 8 + 1, 1);
	struct coil_queue *q;
	void *item;
	int i, t;

	CHECK(seen != NULL);
	CHECK_EQ(coil_queue_create(&q, pt->capacity), 0);
	for (i = 0; i < pt->nthreads; i++) {
		p[i].q = q;
		p[i].index = i;
		p[i].n = PER_THREAD;
		p[i].errors = 0;
		last[i] = -1;
		CHECK_EQ(pthread_create(&p[i].tid, NULL, pusher_main, &p[i]),
			 0);
	}
	for (got = 0; got < total; got++) {
		CHECK_EQ(coil_queue_get_timeout(q, &item, MS(5000)), 0);
		bit = (uintptr_t)item - 1;
		CHECK(bit < total);
		CHECK(!(seen[bit / 8] & (1u << (bit % 8)))); /* duplicate */
		seen[bit / 8] |= (unsigned char)(1u << (bit % 8));
		t = (int)(bit / PER_THREAD);
		CHECK((int)(bit % PER_THREAD) > last[t]); /* per-thread FIFO */
		last[t] = (int)(bit % PER_THREAD);
	}
	/* Every put has been delivered; the threads are at most returning. */
	for (i = 0; i < pt->nthreads; i++) {
		CHECK_EQ(pthread_join(p[i].tid, NULL), 0);
		CHECK_EQ(p[i].errors, 0);
	}
	CHECK_EQ(coil_queue_try_get(q, &item), -EAGAIN); /* nothing extra */
	for (bit = 0; bit < total; bit++)
		CHECK(seen[bit / 8] & (1u << (bit % 8)));
	free(seen);
	CHECK_EQ(coil_queue_destroy(q), 0);
	return NULL;
}

static void test_remote_threads_put_unbounded_none_lost(void **state)
{
	struct push_test pt = { .nthreads = 16, .capacity = 0 };

	(void)state;
	run_main(body_push, &pt);
}

static void test_remote_threads_put_bounded_none_lost(void **state)
{
	struct push_test pt = { .nthreads = 4, .capacity = 64 };

	(void)state;
	run_main(body_push, &pt);
}

/* ---------------------------------------------- from another runtime */

#define NREMOTE 1000

struct other_rt {
	pthread_t tid;
	struct coil_queue *q;
	struct coil_event *ev;
	bool linger;         /* keep running a while after the last send */
	int put_errors;
	int set_ret;
	int run_ret;
	uint64_t sqes_before, sqes_after;
};

static void *other_main(void *arg)
{
	struct other_rt *o = arg;
	struct coil_stats st;
	int i;

	coil_stats_get(&st);
	o->sqes_before = st.sqes_submitted;
	for (i = 0; i < NREMOTE; i++)
		if (coil_queue_put(o->q, PTR(i + 1)))
			o->put_errors++;
	o->set_ret = coil_event_set(o->ev);
	if (o->linger) {
		coil_sleep(MS(5)); /* submits what is queued */
		coil_stats_get(&st);
		o->sqes_after = st.sqes_submitted;
	}
	return NULL;
}

static void *other_thread(void *arg)
{
	struct other_rt *o = arg;
	struct coil_options opts;

	coil_options_init(&opts);
	o->run_ret = coil_run_opts(&opts, other_main, o, NULL);
	return NULL;
}

static void *body_other_runtime(void *arg)
{
	struct other_rt o = { .linger = *(bool *)arg };
	void *item;
	int i;

	CHECK_EQ(coil_queue_create(&o.q, 0), 0);
	CHECK_EQ(coil_event_create(&o.ev), 0);
	CHECK_EQ(pthread_create(&o.tid, NULL, other_thread, &o), 0);
	/* Only the other runtime's messages can wake us. */
	CHECK_EQ(coil_event_wait_timeout(o.ev, MS(3000)), 0);
	for (i = 0; i < NREMOTE; i++) {
		CHECK_EQ(coil_queue_get_timeout(o.q, &item, MS(3000)), 0);
		CHECK_EQ(INT(item), i + 1);
	}
	CHECK_EQ(pthread_join(o.tid, NULL), 0);
	CHECK_EQ(o.run_ret, 0);
	CHECK_EQ(o.put_errors, 0);
	CHECK_EQ(o.set_ret, 0);
	/* MSG_RING is an SQE on the sender's ring; an eventfd write is not. */
	if (o.linger)
		CHECK(o.sqes_after > o.sqes_before);
	CHECK_EQ(coil_event_destroy(o.ev), 0);
	CHECK_EQ(coil_queue_destroy(o.q), 0);
	return NULL;
}

static void test_remote_runtime_puts_and_sets_event(void **state)
{
	bool linger = true;

	(void)state;
	run_main(body_other_runtime, &linger);
}

/* The sender's runtime ends right after its last send: no wake-up lost. */
static void test_remote_runtime_exiting_after_send_still_wakes(void **state)
{
	bool linger = false;

	(void)state;
	run_main(body_other_runtime, &linger);
}

/* ------------------------------------------------ from a plain thread */

struct setter {
	pthread_t tid;
	struct coil_event *ev;
	struct coil_sem *sem;
	struct coil_queue *q;
	int64_t delay_ns;
	uint64_t set_at;  /* coil_now() just before the set */
	int ret;
};

static void sleep_ns(int64_t ns)
{
	struct timespec ts = { ns / COIL_NSEC_PER_SEC, ns % COIL_NSEC_PER_SEC };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void *event_setter(void *arg)
{
	struct setter *s = arg;

	sleep_ns(s->delay_ns);
	s->set_at = coil_now();
	s->ret = coil_event_set(s->ev);
	return NULL;
}

static void *body_thread_sets_event(void *arg)
{
	struct setter s = { .delay_ns = MS(30) };
	uint64_t woke;

	(void)arg;
	CHECK_EQ(coil_event_create(&s.ev), 0);
	CHECK_EQ(pthread_create(&s.tid, NULL, event_setter, &s), 0);
	CHECK_EQ(coil_event_wait_timeout(s.ev, MS(3000)), 0);
	woke = coil_now();
	CHECK_EQ(pthread_join(s.tid, NULL), 0);
	CHECK_EQ(s.ret, 0);
	CHECK(woke >= s.set_at);
	CHECK((int64_t)(woke - s.set_at) < MS(100));
	CHECK_EQ(coil_event_destroy(s.ev), 0);
	return NULL;
}

static void test_remote_thread_event_set_wakes_promptly(void **state)
{
	(void)state;
	run_main(body_thread_sets_event, NULL);
}

static void *sem_releaser(void *arg)
{
	struct setter *s = arg;
	int i;

	for (i = 0; i < 3; i++) {
		sleep_ns(s->delay_ns);
		s->ret |= coil_sem_release(s->sem);
	}
	return NULL;
}

static void *body_thread_releases_sem(void *arg)
{
	struct setter s = { .delay_ns = MS(5) };
	int i;

	(void)arg;
	CHECK_EQ(coil_sem_create(&s.sem, 0, 0), 0);
	CHECK_EQ(pthread_create(&s.tid, NULL, sem_releaser, &s), 0);
	for (i = 0; i < 3; i++)
		CHECK_EQ(coil_sem_acquire_timeout(s.sem, MS(3000)), 0);
	CHECK_EQ(pthread_join(s.tid, NULL), 0);
	CHECK_EQ(s.ret, 0);
	CHECK_EQ(coil_sem_try_acquire(s.sem), -EAGAIN);
	CHECK_EQ(coil_sem_destroy(s.sem), 0);
	return NULL;
}

static void test_remote_thread_sem_release_wakes_acquirer(void **state)
{
	(void)state;
	run_main(body_thread_releases_sem, NULL);
}

static void *queue_closer(void *arg)
{
	struct setter *s = arg;

	sleep_ns(s->delay_ns);
	s->ret = coil_queue_close(s->q);
	return NULL;
}

static void *body_thread_closes(void *arg)
{
	struct setter s = { .delay_ns = MS(10) };
	void *item;

	(void)arg;
	CHECK_EQ(coil_queue_create(&s.q, 4), 0);
	CHECK_EQ(pthread_create(&s.tid, NULL, queue_closer, &s), 0);
	CHECK_EQ(coil_queue_get_timeout(s.q, &item, MS(3000)), -EPIPE);
	CHECK_EQ(pthread_join(s.tid, NULL), 0);
	CHECK_EQ(s.ret, 0);
	CHECK_EQ(coil_queue_destroy(s.q), 0);
	return NULL;
}

static void test_remote_thread_close_wakes_getter_with_epipe(void **state)
{
	(void)state;
	run_main(body_thread_closes, NULL);
}

static void *put_once(void *arg)
{
	struct setter *s = arg;

	s->ret = coil_queue_put(s->q, PTR(1));
	return NULL;
}

static void *body_thread_put_after_close(void *arg)
{
	struct setter s = { 0 };

	(void)arg;
	CHECK_EQ(coil_queue_create(&s.q, 0), 0);
	CHECK_EQ(coil_queue_close(s.q), 0);
	CHECK_EQ(pthread_create(&s.tid, NULL, put_once, &s), 0);
	CHECK_EQ(pthread_join(s.tid, NULL), 0);
	CHECK_EQ(s.ret, -EPIPE);
	CHECK_EQ(coil_queue_len(s.q), 0);
	CHECK_EQ(coil_queue_destroy(s.q), 0);
	return NULL;
}

static void test_remote_thread_put_after_close_is_epipe(void **state)
{
	(void)state;
	run_main(body_thread_put_after_close, NULL);
}

/* ------------------------------ the runtime ends right after a put */

#define NLAST 8
#define LAST_ROUNDS 200

struct last_put {
	struct coil_queue *q;
	pthread_t tid[NLAST];
	int put_ret[NLAST];
};

static struct last_put last;

static void *last_putter(void *arg)
{
	int i = INT(arg);

	last.put_ret[i] = coil_queue_put(last.q, PTR(i + 1));
	return NULL;
}

static void *body_last_put(void *arg)
{
	void *item;
	int i;

	(void)arg;
	CHECK_EQ(coil_queue_create(&last.q, 0), 0);
	for (i = 0; i < NLAST; i++)
		CHECK_EQ(pthread_create(&last.tid[i], NULL, last_putter,
					PTR(i)), 0);
	for (i = 0; i < NLAST; i++)
		CHECK_EQ(coil_queue_get_timeout(last.q, &item, MS(3000)), 0);
	/* Every item is here, so every put has done its work: end now. */
	CHECK_EQ(coil_queue_destroy(last.q), 0);
	return NULL;
}

/*
 * The natural pattern: threads put, the runtime takes every item and
 * ends, the threads are joined after coil_run(). A put that delivered its
 * item must not touch the runtime afterwards (ThreadSanitizer reports it).
 */
static void test_remote_runtime_ends_right_after_last_put(void **state)
{
	int r, i;

	(void)state;
	for (r = 0; r < LAST_ROUNDS; r++) {
		run_main(body_last_put, NULL);
		for (i = 0; i < NLAST; i++) {
			assert_int_equal(pthread_join(last.tid[i], NULL), 0);
			assert_int_equal(last.put_ret[i], 0);
		}
	}
}

/*
 * A wake-up sent through IORING_OP_MSG_RING sits in the *sender's* ring
 * until its loop submits it, and its CQE comes back there: the woken runtime
 * may have ended in between. The sender must not touch the ended runtime's
 * memory (ASan reports it) and nothing of that runtime may leak (its
 * eventfd and ring descriptors are counted).
 */
struct late_wake {
	_Atomic(struct coil_event *) ev; /* published by the woken runtime */
	atomic_bool set_done;            /* the sender's set returned */
	atomic_bool woken_ended;         /* the woken runtime's coil_run returned */
	int set_ret, run_ret;
};

static struct late_wake late;

static void *late_sender_main(void *arg)
{
	struct coil_event *ev;

	(void)arg;
	while (!(ev = atomic_load(&late.ev)))
		coil_sleep(MS(1));
	/* Queues the MSG_RING SQE in our ring; no loop turn submits it yet. */
	late.set_ret = coil_event_set(ev);
	atomic_store(&late.set_done, true);
	while (!atomic_load(&late.woken_ended))
		sleep_ns(MS(1)); /* the thread, not the task: the ring waits */
	/* Now the loop submits the wake-up and reaps its CQE. */
	coil_sleep(MS(1));
	return NULL;
}

static void *late_sender_thread(void *arg)
{
	(void)arg;
	late.run_ret = coil_run(late_sender_main, NULL, NULL);
	return NULL;
}

static void *body_woken_ends_first(void *arg)
{
	struct coil_event *ev;

	(void)arg;
	CHECK_EQ(coil_event_create(&ev), 0);
	atomic_store(&late.ev, ev);
	while (!atomic_load(&late.set_done))
		coil_sleep(MS(1));
	/* The set's message is queued here but never drained: we end. */
	CHECK_EQ(coil_event_destroy(ev), 0);
	return NULL;
}

static void test_remote_wakeup_reaped_after_woken_runtime_ended(void **state)
{
	pthread_t tid;
	int fds;

	(void)state;
	memset(&late, 0, sizeof(late));
	fds = test_count_fds();
	assert_int_equal(pthread_create(&tid, NULL, late_sender_thread, NULL), 0);
	run_main(body_woken_ends_first, NULL);
	atomic_store(&late.woken_ended, true);
	assert_int_equal(pthread_join(tid, NULL), 0);
	assert_int_equal(late.run_ret, 0);
	assert_int_equal(late.set_ret, 0);
	assert_int_equal(test_count_fds(), fds);
}

/*
 * Runtime A sets an event of runtime B (the wake-up, a MSG_RING SQE, waits
 * in A's ring) and then A's ring fails before submitting it: here a
 * seccomp filter on A's thread refuses io_uring_enter. B must still wake:
 * A's teardown used to drop its reference on B's inbox without waking it,
 * leaving B's wake_pending set, and every later sender - a plain thread
 * too - then skipped its wake-up: B never heard from other threads again.
 */
struct failed_sender {
	_Atomic(struct coil_event *) ev1, ev2; /* B's, published by B */
	int wait1, wait2;                      /* B's two waits */
	uint64_t waited1_ns;
	int a_ret;                             /* A's coil_run() */
};

static struct failed_sender fs;

/* This thread's io_uring_enter fails with EPERM from now on. */
static int refuse_ring_enter(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_enter, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) ?
		       -errno : 0;
}

static void *failing_sender_main(void *arg)
{
	struct coil_event *ev;

	(void)arg;
	while (!(ev = atomic_load(&fs.ev1)))
		coil_sleep(MS(1));
	/* Queues the MSG_RING wake-up in our ring; no turn submits it. */
	if (coil_event_set(ev) != 0 || refuse_ring_enter() != 0)
		return PTR(-1);
	return NULL;
}

static void *failing_sender_thread(void *arg)
{
	(void)arg;
	fs.a_ret = coil_run(failing_sender_main, NULL, NULL);
	return NULL;
}

static void *body_woken_by_failed_sender(void *arg)
{
	struct coil_event *ev1, *ev2;
	pthread_t a;
	uint64_t t0;

	(void)arg;
	CHECK_EQ(coil_event_create(&ev1), 0);
	CHECK_EQ(coil_event_create(&ev2), 0);
	CHECK_EQ(pthread_create(&a, NULL, failing_sender_thread, NULL), 0);
	atomic_store(&fs.ev1, ev1);
	t0 = coil_now();
	fs.wait1 = coil_event_wait_timeout(ev1, MS(3000));
	fs.waited1_ns = coil_now() - t0;
	CHECK_EQ(pthread_join(a, NULL), 0); /* A has ended */
	atomic_store(&fs.ev2, ev2);
	fs.wait2 = coil_event_wait_timeout(ev2, MS(3000));
	CHECK_EQ(coil_event_destroy(ev1), 0);
	CHECK_EQ(coil_event_destroy(ev2), 0);
	return NULL;
}

/* A plain thread sets ev2 once B publishes it. */
static void *late_setter(void *arg)
{
	struct coil_event *ev;

	(void)arg;
	while (!(ev = atomic_load(&fs.ev2)))
		sleep_ns(MS(1));
	return PTR(coil_event_set(ev));
}

static void test_remote_runtime_whose_ring_failed_after_a_send_still_wakes(
	void **state)
{
	pthread_t setter;
	void *ret;

	(void)state;
	if (test_under_valgrind())
		TEST_SKIP("valgrind runs the filtered thread's syscalls itself");
	memset(&fs, 0, sizeof(fs));
	assert_int_equal(pthread_create(&setter, NULL, late_setter, NULL), 0);
	run_main(body_woken_by_failed_sender, NULL);
	assert_int_equal(pthread_join(setter, &ret), 0);
	assert_int_equal(INT(ret), 0);
	assert_int_equal(fs.a_ret, -EPERM); /* its ring failed, as meant */
	assert_int_equal(fs.wait1, 0);
	assert_true(fs.waited1_ns < MS(1000));
	assert_int_equal(fs.wait2, 0);
}

/*
 * A set from a plain thread has returned (its message is queued, the
 * eventfd written) when the owner destroys the event without a loop turn
 * in between: the destroy must apply it first, not leave a message naming
 * freed memory for the next turn (ASan reports that).
 */
struct set_then_destroy {
	struct coil_event *ev;
	atomic_bool set_done;
	int set_ret;
};

static void *set_once(void *arg)
{
	struct set_then_destroy *sd = arg;

	sd->set_ret = coil_event_set(sd->ev);
	atomic_store(&sd->set_done, true);
	return NULL;
}

static void *body_destroy_after_remote_set(void *arg)
{
	struct set_then_destroy sd = { 0 };
	pthread_t tid;

	(void)arg;
	CHECK_EQ(coil_event_create(&sd.ev), 0);
	CHECK_EQ(pthread_create(&tid, NULL, set_once, &sd), 0);
	while (!atomic_load(&sd.set_done))
		sched_yield(); /* the thread waits, the loop does not turn */
	CHECK_EQ(coil_event_destroy(sd.ev), 0);
	CHECK_EQ(pthread_join(tid, NULL), 0);
	CHECK_EQ(sd.set_ret, 0);
	/* Loop turns: the eventfd wake-up arrives, the inbox is drained. */
	CHECK_EQ(coil_sleep(MS(5)), 0);
	return NULL;
}

static void test_remote_destroy_applies_a_set_that_returned(void **state)
{
	(void)state;
	run_main(body_destroy_after_remote_set, NULL);
}

/* ------------------------------------- owner-only calls from afar */

/*
 * Only put, close, event set and sem release may come from another
 * thread. The other calls on owner-only state must refuse a task of
 * another runtime (-EINVAL, as the waiting calls do) and change nothing:
 * a trylock from there used to make that task the owner, a try_acquire
 * or task_done changed counts without any synchronisation.
 */
struct foreign {
	struct coil_mutex *m;
	struct coil_sem *s;
	struct coil_cond *c;
	struct coil_queue *q;
	struct coil_group *g;
	int trylock, try_acquire, notify, notify_all, task_done, group_cancel;
	int run_ret;
};

static void *noop_child(void *arg)
{
	return arg;
}

static void *foreign_main(void *arg)
{
	struct foreign *f = arg;

	f->trylock = coil_mutex_trylock(f->m);
	f->try_acquire = coil_sem_try_acquire(f->s);
	f->notify = coil_cond_notify(f->c, 1);
	f->notify_all = coil_cond_notify_all(f->c);
	f->task_done = coil_queue_task_done(f->q);
	f->group_cancel = coil_group_cancel(f->g);
	return NULL;
}

static void *foreign_thread(void *arg)
{
	struct foreign *f = arg;

	f->run_ret = coil_run(foreign_main, f, NULL);
	return NULL;
}

static void *body_foreign_owner_only_calls(void *arg)
{
	struct foreign f;
	pthread_t tid;

	(void)arg;
	memset(&f, 0, sizeof(f));
	CHECK_EQ(coil_mutex_create(&f.m), 0);
	CHECK_EQ(coil_sem_create(&f.s, 1, 0), 0);
	CHECK_EQ(coil_cond_create(&f.c), 0);
	CHECK_EQ(coil_queue_create(&f.q, 0), 0);
	CHECK_EQ(coil_queue_put(f.q, PTR(1)), 0); /* one unfinished item */
	CHECK_EQ(coil_group_create(&f.g), 0);
	CHECK_EQ(pthread_create(&tid, NULL, foreign_thread, &f), 0);
	CHECK_EQ(pthread_join(tid, NULL), 0);
	CHECK_EQ(f.run_ret, 0);
	CHECK_EQ(f.trylock, -EINVAL);
	CHECK_EQ(f.try_acquire, -EINVAL);
	CHECK_EQ(f.notify, -EINVAL);
	CHECK_EQ(f.notify_all, -EINVAL);
	CHECK_EQ(f.task_done, -EINVAL);
	CHECK_EQ(f.group_cancel, -EINVAL);
	/* Nothing changed: the mutex is free, the permit and item are here. */
	CHECK_EQ(coil_mutex_trylock(f.m), 0);
	CHECK_EQ(coil_mutex_unlock(f.m), 0);
	CHECK_EQ(coil_sem_try_acquire(f.s), 0);
	CHECK_EQ(coil_queue_task_done(f.q), 0);
	/* The group still takes children: nothing stopped it. */
	CHECK_EQ(coil_group_spawn(f.g, noop_child, NULL), 0);
	CHECK_EQ(coil_group_join(f.g), 0);
	CHECK_EQ(coil_mutex_destroy(f.m), 0);
	CHECK_EQ(coil_sem_destroy(f.s), 0);
	CHECK_EQ(coil_cond_destroy(f.c), 0);
	CHECK_EQ(coil_queue_destroy(f.q), 0);
	return NULL;
}

static void test_remote_owner_only_calls_from_another_runtime_are_einval(
	void **state)
{
	(void)state;
	run_main(body_foreign_owner_only_calls, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_remote_threads_put_unbounded_none_lost),
		cmocka_unit_test(test_remote_threads_put_bounded_none_lost),
		cmocka_unit_test(test_remote_runtime_puts_and_sets_event),
		cmocka_unit_test(test_remote_runtime_exiting_after_send_still_wakes),
		cmocka_unit_test(test_remote_thread_event_set_wakes_promptly),
		cmocka_unit_test(test_remote_thread_sem_release_wakes_acquirer),
		cmocka_unit_test(test_remote_thread_close_wakes_getter_with_epipe),
		cmocka_unit_test(test_remote_thread_put_after_close_is_epipe),
		cmocka_unit_test(test_remote_runtime_ends_right_after_last_put),
		cmocka_unit_test(test_remote_wakeup_reaped_after_woken_runtime_ended),
		cmocka_unit_test(
			test_remote_runtime_whose_ring_failed_after_a_send_still_wakes),
		cmocka_unit_test(test_remote_destroy_applies_a_set_that_returned),
		cmocka_unit_test(
			test_remote_owner_only_calls_from_another_runtime_are_einval),
	};

	test_require_io_uring();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
