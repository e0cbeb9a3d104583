/* SPDX-License-Identifier: MIT */
/*
 * runtime/queue.c - asyncio.Queue: a FIFO of void * with task_done/join and
 * close, usable from other threads for puts.
 *
 * Items move by hand-off: a put with a getter waiting gives the item to that
 * getter's wait node and wakes it; a get that frees a slot moves the oldest
 * waiting putter's item into the buffer and wakes that putter. So waiters
 * are served strictly in order and an item, once accepted, always has a
 * single owner: the buffer or one woken getter. A getter cancelled after
 * being handed an item is already READY, not WAITING, so coil_cancel()
 * cannot take it out: its get returns the item, nothing is lost.
 *
 * Puts from other threads arrive as inbox messages (queue_msg_run) and are
 * applied in arrival order; when the queue is full they wait as putter
 * nodes with no task, holding their item, in the same FIFO as local putters.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "suspend.h"

struct coil_queue {
	struct coil_rt *rt;
	void **buf;            /* ring buffer of items */
	size_t size;           /* slots allocated */
	size_t head;           /* index of the oldest item */
	size_t len;            /* items in buf */
	size_t cap;            /* 0: unbounded (buf grows) */
	uint64_t unfinished;   /* put but not yet task_done */
	struct coil__wq getters, putters, joiners;
	atomic_bool closed;    /* read by other threads' puts */
};

/* A put from another thread, queued for the owner's loop. */
struct queue_msg {
	struct coil__msg msg;
	struct coil_queue *q;
	void *item;
	bool close;            /* a coil_queue_close() instead of a put */
	struct coil__wq_node node; /* parks the item while the queue is full */
};

int coil_queue_create(struct coil_queue **out, size_t capacity)
{
	struct coil_rt *rt = coil__tls_rt;
	struct coil_queue *q;

	if (!out)
		return -EINVAL;
	if (!rt || !rt->current)
		return -EPERM;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->size = capacity && capacity < 64 ? capacity : 64;
	q->buf = malloc(q->size * sizeof(*q->buf));
	if (!q->buf) {
		free(q);
		return -ENOMEM;
	}
	q->rt = rt;
	q->cap = capacity;
	*out = q;
	return 0;
}

static void drop_parked(struct coil__wq *putters)
{
	struct coil__wq_node *n;

	while ((n = coil__wq_pop(putters))) {
		if (n->task)
			coil__wake(n->task, -EPIPE);
		else
			free(n->owner);
	}
}

int coil_queue_destroy(struct coil_queue *q)
{
	struct coil__wq_node *n;

	if (!q)
		return -EINVAL;
	coil__inbox_settle(q->rt); /* puts and closes from afar may be queued */
	for (n = q->putters.head; n; n = n->next) {
		if (n->task)
			return -EBUSY;
	}
	if (q->getters.len || q->joiners.len)
		return -EBUSY;
	drop_parked(&q->putters);
	free(q->buf);
	free(q);
	return 0;
}

size_t coil_queue_len(const struct coil_queue *q)
{
	return q ? q->len : 0;
}

/* Slot @i places after the head. A compare, not a division: hot path. */
static inline size_t slot(const struct coil_queue *q, size_t i)
{
	size_t s = q->head + i;

	return s >= q->size ? s - q->size : s;
}

/* Grow into a new buffer, the items copied in order to its start. */
static int buf_grow_copy(struct coil_queue *q, size_t size)
{
	size_t first;
	void **buf;

	buf = malloc(size * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	/* The items wrap at most once: two copies put them in order. */
	first = q->size - q->head < q->len ? q->size - q->head : q->len;
	memcpy(buf, q->buf + q->head, first * sizeof(*buf));
	memcpy(buf + first, q->buf, (q->len - first) * sizeof(*buf));
	free(q->buf);
	q->buf = buf;
	q->size = size;
	q->head = 0;
	return 0;
}

static int buf_grow(struct coil_queue *q)
{
	size_t old = q->size, size = old * 2, wrapped;
	void **buf;

	if (q->cap && size > q->cap)
		size = q->cap;
	wrapped = q->head + q->len > old ? q->head + q->len - old : 0;
	if (wrapped > size - old)
		return buf_grow_copy(q, size);
	/*
	 * realloc: large blocks are moved by mremap, without copying or
	 * faulting the items in again. Items that wrapped go after the old
	 * end, keeping them in order.
	 */
	buf = realloc(q->buf, size * sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	memcpy(buf + old, buf, wrapped * sizeof(*buf));
	q->buf = buf;
	q->size = size;
	return 0;
}

static inline bool is_full(const struct coil_queue *q)
{
	return q->cap && q->len >= q->cap;
}

/* Append @item to the buffer (which has room): it is now put, not done. */
static inline void buf_append(struct coil_queue *q, void *item)
{
	q->buf[slot(q, q->len)] = item;
	q->len++;
	q->unfinished++;
}

/* Take the oldest item out of the buffer (which is not empty). */
static inline void *buf_take(struct coil_queue *q)
{
	void *item = q->buf[q->head];

	q->head = slot(q, 1);
	q->len--;
	return item;
}


/* Give @item to the oldest waiting getter (there is one: queue empty). */
static inline void hand_to_getter(struct coil_queue *q, void *item)
{
	struct coil__wq_node *g = coil__wq_pop(&q->getters);

	g->item = item;
	q->unfinished++;
	coil__wake(g->task, 0);
}

/* Accept @item now if a getter waits or there is room. */
static int put_now(struct coil_queue *q, void *item)
{
	int err;

	if (atomic_load_explicit(&q->closed, memory_order_relaxed))
		return -EPIPE;
	if (q->getters.head) {
		hand_to_getter(q, item);
		return 0;
	}
	if (is_full(q))
		return -EAGAIN;
	if (q->len == q->size) {
		err = buf_grow(q);
		if (err)
			return err;
	}
	buf_append(q, item);
	return 0;
}

/* A slot was freed: move the oldest parked put into the buffer. */
static inline void admit_putter(struct coil_queue *q)
{
	struct coil__wq_node *p = coil__wq_pop(&q->putters);

	if (!p)
		return;
	buf_append(q, p->item);
	if (p->task)
		coil__wake(p->task, 0);
	else
		free(p->owner);
}

static void queue_msg_run(struct coil_rt *rt, struct coil__msg *m)
{
	struct queue_msg *qm = (struct queue_msg *)m;
	int err;

	if (qm->close) {
		coil_queue_close(qm->q);
		free(qm);
		return;
	}
	/* Keep arrival order: behind parked putters, the item parks too. */
	err = qm->q->putters.len ? -EAGAIN : put_now(qm->q, qm->item);
	if (err == -EAGAIN) {
		qm->node.task = NULL;
		qm->node.item = qm->item;
		qm->node.owner = qm;
		coil__wq_push(&qm->q->putters, &qm->node);
		return;
	}
	if (err && err != -EPIPE)
		coil__log(rt, "coil: a put from another thread was lost: %s",
			  coil_strerror(err));
	free(qm);
}

static int put_remote(struct coil_queue *q, void *item, bool close)
{
	struct queue_msg *qm;

	if (!close && atomic_load_explicit(&q->closed, memory_order_relaxed))
		return -EPIPE;
	qm = malloc(sizeof(*qm));
	if (!qm)
		return -ENOMEM;
	qm->msg.run = queue_msg_run;
	qm->msg.on_stack = false;
	qm->q = q;
	qm->item = item;
	qm->close = close;
	coil__inbox_send(q->rt, &qm->msg);
	return 0;
}

int coil_queue_try_put(struct coil_queue *q, void *item)
{
	if (!q)
		return -EINVAL;
	if (coil__tls_rt != q->rt)
		return put_remote(q, item, false);
	if (q->putters.len && !atomic_load(&q->closed))
		return -EAGAIN; /* others wait for room first */
	return put_now(q, item);
}

/* Block on a full queue (inline in put_slow, the only caller). */
static inline int put_wait(struct coil_queue *q, struct coil_task *self,
			   void *item, int64_t timeout_ns)
{
	struct coil__wq_node n = { .task = self, .item = item };
	int err;

	/* Counted: a close from another thread can end this wait. */
	self->rt->remote_waiters++;
	err = coil__wq_wait_fast(&q->putters, &n, "queue put", timeout_ns);
	self->rt->remote_waiters--;
	return err;
}

/*
 * The common case of a put or get by a task of the queue's runtime that is
 * not cancelled and has no deadline scope. Then a put that finds a getter
 * waiting (the queue is empty) hands the item over, one that finds room
 * without growing appends it, and a get that finds an item takes it and
 * lets the oldest parked putter in; none of them suspends. At capacity 1
 * every put and get is one of these or a wait, so they are inline in the
 * public calls; the full checks and the waits live out of line.
 */
static inline bool fast_ok(const struct coil_queue *q,
			   const struct coil_task *self)
{
	return self && !self->cancelled && self->deadline == COIL__NEVER &&
	       !atomic_load_explicit(&q->closed, memory_order_relaxed);
}

static int __attribute__((noinline))
put_slow(struct coil_queue *q, void *item, int64_t timeout_ns)
{
	struct coil_rt *rt = coil__tls_rt;
	struct coil_task *self;
	int err;

	self = rt->current;
	if (COIL__UNLIKELY(!self))
		return -EPERM;
	err = coil__check_cancel(self);
	if (COIL__UNLIKELY(err))
		return err;
	err = q->putters.len ? -EAGAIN : put_now(q, item);
	if (err != -EAGAIN)
		return err;
	return put_wait(q, self, item, timeout_ns);
}

int coil_queue_put_timeout(struct coil_queue *q, void *item,
			   int64_t timeout_ns)
{
	struct coil_rt *rt = coil__tls_rt;

	if (COIL__UNLIKELY(!q))
		return -EINVAL;
	if (COIL__UNLIKELY(rt != q->rt))
		return put_remote(q, item, false);
	/* Parked putters go first: they are served in order, by gets. */
	if (COIL__LIKELY(fast_ok(q, rt->current) && !q->putters.head)) {
		if (q->getters.head) {
			hand_to_getter(q, item);
			return 0;
		}
		if (q->len < q->size && !is_full(q)) {
			buf_append(q, item);
			return 0;
		}
	}
	return put_slow(q, item, timeout_ns);
}

int coil_queue_put(struct coil_queue *q, void *item)
{
	return coil_queue_put_timeout(q, item, COIL_NO_TIMEOUT);
}

/* Take the oldest item if there is one. */
static int get_now(struct coil_queue *q, void **item)
{
	if (!q->len)
		return atomic_load_explicit(&q->closed, memory_order_relaxed) ?
			       -EPIPE : -EAGAIN;
	*item = buf_take(q);
	if (q->putters.len)
		admit_putter(q);
	return 0;
}

int coil_queue_try_get(struct coil_queue *q, void **item)
{
	struct coil_task *self = coil__running();

	if (!self)
		return -EPERM;
	if (!q || !item || q->rt != self->rt)
		return -EINVAL;
	return get_now(q, item);
}

/* Block on an empty queue (inline in get_slow, the only caller). */
static inline int get_wait(struct coil_queue *q, struct coil_task *self,
			   void **item, int64_t timeout_ns)
{
	struct coil__wq_node n = { .task = self };
	int err;

	self->rt->remote_waiters++;
	err = coil__wq_wait_fast(&q->getters, &n, "queue get", timeout_ns);
	self->rt->remote_waiters--;
	if (err == 0)
		*item = n.item;
	return err;
}

static int __attribute__((noinline))
get_slow(struct coil_queue *q, void **item, int64_t timeout_ns)
{
	struct coil_task *self = coil__running();
	int err;

	if (COIL__UNLIKELY(!self))
		return -EPERM;
	if (COIL__UNLIKELY(!q || !item || q->rt != self->rt))
		return -EINVAL;
	err = coil__check_cancel(self);
	if (COIL__UNLIKELY(err))
		return err;
	err = get_now(q, item);
	if (err != -EAGAIN)
		return err;
	return get_wait(q, self, item, timeout_ns);
}

int coil_queue_get_timeout(struct coil_queue *q, void **item,
			   int64_t timeout_ns)
{
	struct coil_rt *rt = coil__tls_rt;

	if (COIL__LIKELY(q && item && rt && rt == q->rt && q->len &&
			 fast_ok(q, rt->current))) {
		*item = buf_take(q);
		if (q->putters.head)
			admit_putter(q);
		return 0;
	}
	return get_slow(q, item, timeout_ns);
}

int coil_queue_get(struct coil_queue *q, void **item)
{
	return coil_queue_get_timeout(q, item, COIL_NO_TIMEOUT);
}

int coil_queue_task_done(struct coil_queue *q)
{
	/* Owner-only: the count and the joiners are not synchronised. */
	if (!q || q->rt != coil__tls_rt)
		return -EINVAL;
	if (!q->unfinished)
		return -EINVAL;
	if (--q->unfinished == 0)
		coil__wq_wake_all(&q->joiners, 0);
	return 0;
}

int coil_queue_join(struct coil_queue *q)
{
	struct coil__wq_node n = { 0 };
	int err;

	n.task = coil__running();
	if (!n.task)
		return -EPERM;
	if (!q || q->rt != n.task->rt)
		return -EINVAL;
	err = coil__check_cancel(n.task);
	if (err || !q->unfinished)
		return err;
	return coil__wq_wait(&q->joiners, &n, "queue join", COIL_NO_TIMEOUT);
}

int coil_queue_close(struct coil_queue *q)
{
	if (!q)
		return -EINVAL;
	if (coil__tls_rt != q->rt)
		return put_remote(q, NULL, true);
	atomic_store(&q->closed, true);
	/* Putters get -EPIPE at once; getters only wait on an empty queue. */
	drop_parked(&q->putters);
	coil__wq_wake_all(&q->getters, -EPIPE);
	return 0;
}
