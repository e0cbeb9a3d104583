/* SPDX-License-Identifier: MIT */
/*
 * runtime/group.c - task groups (asyncio.TaskGroup, libdill's bundles).
 *
 * A group owns the handles of its children. The first child to return a
 * negative value makes the group fail: it cancels its siblings at once,
 * from its own finishing code, so they stop even while the parent is busy
 * elsewhere. coil_group_join() collects every child, in spawn order, and
 * frees the group: no handle outlives it.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>

#include "internal.h"

struct group_child {
	struct group_child *next;
	struct coil_group *g;
	struct coil_task *task;
	uint64_t id;    /* @task's id: see child_task() */
	coil_fn fn;
	void *arg;
};

struct coil_group {
	struct coil_rt *rt;
	unsigned refs;  /* the owner's, plus one per child still running */
	struct group_child *head, *tail; /* spawn order */
	int error;     /* first child's failure, 0 while none */
	bool stopping; /* failed, cancelled or joined: no new children */
};

int coil_group_create(struct coil_group **out)
{
	struct coil_group *g;
	int err;

	if (!out)
		return -EINVAL;
	g = coil__owned_alloc(sizeof(*g), &err);
	if (g) {
		g->refs = 1;
		*out = g;
	}
	return err;
}

static void group_unref(struct coil_group *g)
{
	if (--g->refs == 0)
		free(g);
}

/*
 * @c's task, or NULL once another task has joined it: its struct then goes
 * back to the runtime's free list, and the next spawn anywhere usually gets
 * it, so cancelling or joining through the stale pointer would hit an
 * unrelated task. Task structs live as long as the runtime, and ids are
 * never reused in it, so the id tells the two apart.
 */
static struct coil_task *child_task(const struct group_child *c)
{
	return c->task->id == c->id ? c->task : NULL;
}

int coil_group_cancel(struct coil_group *g)
{
	struct group_child *c;

	/* Owner-only: @stopping and the children are not synchronised (and
	 * coil_cancel() refuses another runtime's tasks anyway). */
	if (!g || g->rt != coil__tls_rt)
		return -EINVAL;
	g->stopping = true;
	for (c = g->head; c; c = c->next)
		if (child_task(c))
			coil_cancel(c->task);
	return 0;
}

/* Runs as the child task: the user's function, then failure handling. */
static void *child_main(void *arg)
{
	struct group_child *c = arg;
	struct coil_group *g = c->g;
	void *ret = c->fn(c->arg);
	intptr_t v = (intptr_t)ret;

	/*
	 * Not gated on g->error: the join sets it, without stopping the
	 * group, for a child it could not collect, and a failure after
	 * that must still cancel the siblings the join waits for.
	 */
	if (v < 0) {
		/*
		 * After coil_group_cancel() a child that ends in -ECANCELED
		 * did as it was told; any other failure still counts, as
		 * asyncio.TaskGroup keeps the errors raised while it cancels.
		 * The join returns an int: a failure below INT_MIN would
		 * truncate to 0 or a positive value and read as success.
		 */
		if (!g->error && !(g->stopping && v == -ECANCELED))
			g->error = v >= INT_MIN ? (int)v : -ERANGE;
		if (!g->stopping)
			coil_group_cancel(g);
	}
	/* A child the join could not collect may outlive the join. */
	group_unref(g);
	return ret;
}

int coil_group_spawn_opts(struct coil_group *g,
			  const struct coil_spawn_opts *opts, coil_fn fn,
			  void *arg)
{
	struct group_child *c;
	int err;

	if (!g || !fn)
		return -EINVAL;
	if (g->rt != coil__tls_rt)
		return -EPERM;
	if (g->stopping)
		return -ECANCELED;
	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->g = g;
	c->fn = fn;
	c->arg = arg;
	err = coil_spawn_opts(&c->task, opts, child_main, c);
	if (err) {
		free(c);
		return err;
	}
	c->id = c->task->id;
	g->refs++;
	if (g->tail)
		g->tail->next = c;
	else
		g->head = c;
	g->tail = c;
	return 0;
}

int coil_group_spawn(struct coil_group *g, coil_fn fn, void *arg)
{
	return coil_group_spawn_opts(g, NULL, fn, arg);
}

/* The join was interrupted: every child stops now, not in join order. */
static void group_interrupted(void *arg)
{
	struct coil_group *g = arg;

	if (!g->stopping)
		coil_group_cancel(g);
}

int coil_group_join(struct coil_group *g)
{
	struct coil_task *self = coil__running();
	struct group_child *c;
	bool timed_out = false;
	int ret;

	if (!self)
		return -EPERM;
	if (!g || g->rt != self->rt)
		return -EINVAL;
	/*
	 * coil_join() of a cancelled caller cancels the child it waits for;
	 * cancel all of them up front so they wind down together.
	 */
	if (self->cancelled)
		coil_group_cancel(g);
	/* g->head is re-read each time: a child may spawn siblings. */
	while ((c = g->head)) {
		struct coil_task *t = child_task(c);

		ret = t ? coil__join_or(t, NULL, group_interrupted, g) :
			  -EINVAL;
		/*
		 * -EDEADLK (the child joins us) or -EINVAL (someone else joins
		 * or detached it, or joined it already): it was not collected
		 * here. If it still runs, let it free itself; its reference
		 * keeps the group alive meanwhile.
		 */
		if (ret == -EDEADLK || ret == -EINVAL) {
			if (t)
				coil_detach(t);
			if (!g->error)
				g->error = ret;
		}
		/* Unlink before cancelling others: the handle is gone now. */
		g->head = c->next;
		if (!g->head)
			g->tail = NULL;
		free(c);
		/* -ETIMEDOUT: the caller's deadline passed (join cancelled it). */
		if (ret == -ETIMEDOUT)
			timed_out = true;
		if ((self->cancelled || timed_out) && !g->stopping)
			coil_group_cancel(g);
	}
	ret = self->cancelled ? -ECANCELED : timed_out ? -ETIMEDOUT : g->error;
	/*
	 * The group is closed now, but a child the join could not collect
	 * keeps it alive: a spawn from that child must fail, or its task
	 * would be owned by nobody and never joined.
	 */
	g->stopping = true;
	group_unref(g);
	return ret;
}
