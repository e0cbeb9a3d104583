/* SPDX-License-Identifier: MIT */
/*
 * producer_consumer - the lecture's queue program: producers put a random
 * number of items with a short sleep between, consumers take them, work a
 * little and mark each done; main waits for the queue to be fully
 * processed (coil_queue_join), then cancels the consumers.
 *
 *   async def producer(q, n):
 *       for i in range(n): await q.put(i); await asyncio.sleep(...)
 *   async def consumer(q):
 *       while True: item = await q.get(); await asyncio.sleep(...);
 *                   q.task_done()
 *   ...
 *   await asyncio.gather(*producers); await q.join()
 *   for c in consumers: c.cancel()
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <coil.h>

#define NPRODUCERS 3
#define NCONSUMERS 4
#define CAPACITY 8

struct producer {
	struct coil_queue *q;
	unsigned seed;
	int id;
	int count;  /* items to put */
};

struct consumer {
	struct coil_queue *q;
	unsigned seed;
	int id;
	int processed;
};

/* A random duration in [lo_ms, hi_ms) milliseconds. */
static uint64_t random_ms(unsigned *seed, int lo_ms, int hi_ms)
{
	return (uint64_t)(lo_ms + rand_r(seed) % (hi_ms - lo_ms)) *
	       COIL_NSEC_PER_MSEC;
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	int i, err;

	for (i = 0; i < p->count; i++) {
		/* The item encodes who made it: producer * 1000 + number. */
		err = coil_queue_put(p->q, (void *)(intptr_t)(p->id * 1000 + i));
		if (err)
			return (void *)(intptr_t)err;
		coil_sleep(random_ms(&p->seed, 10, 40));
	}
	printf("producer %d: put %d items\n", p->id, p->count);
	return NULL;
}

static void *consumer_main(void *arg)
{
	struct consumer *c = arg;
	void *item;

	/* Runs until cancelled: get (or sleep) then returns -ECANCELED. */
	while (coil_queue_get(c->q, &item) == 0) {
		if (coil_sleep(random_ms(&c->seed, 50, 150)) == 0)
			c->processed++;
		coil_queue_task_done(c->q);
	}
	return NULL;
}

static void *amain(void *arg)
{
	struct producer prod[NPRODUCERS];
	struct consumer cons[NCONSUMERS];
	struct coil_task *pt[NPRODUCERS], *ct[NCONSUMERS];
	unsigned seed = (unsigned)time(NULL);
	uint64_t start = coil_now();
	struct coil_queue *q;
	int i, total = 0, processed = 0, err;

	(void)arg;
	err = coil_queue_create(&q, CAPACITY);
	if (err)
		return (void *)(intptr_t)err;
	for (i = 0; i < NCONSUMERS; i++) {
		cons[i] = (struct consumer){ .q = q, .seed = seed + 100 + i,
					     .id = i };
		err = coil_spawn(&ct[i], consumer_main, &cons[i]);
		if (err)
			return (void *)(intptr_t)err;
	}
	for (i = 0; i < NPRODUCERS; i++) {
		prod[i] = (struct producer){ .q = q, .seed = seed + i, .id = i };
		prod[i].count = 10 + rand_r(&prod[i].seed) % 21;
		total += prod[i].count;
		err = coil_spawn(&pt[i], producer_main, &prod[i]);
		if (err)
			return (void *)(intptr_t)err;
	}
	printf("%d producers will put %d items; %d consumers, queue of %d\n",
	       NPRODUCERS, total, NCONSUMERS, CAPACITY);
	err = coil_gather(pt, NPRODUCERS, NULL, NULL);
	if (err)
		return (void *)(intptr_t)err;
	/* Every item put has been got and marked done. */
	err = coil_queue_join(q);
	if (err)
		return (void *)(intptr_t)err;
	printf("queue joined after %.2f s; cancelling the consumers\n",
	       (double)(coil_now() - start) / 1e9);
	for (i = 0; i < NCONSUMERS; i++) {
		coil_cancel(ct[i]);
		err = coil_join(ct[i], NULL);
		printf("consumer %d: processed %d items, join: %s\n", i,
		       cons[i].processed, coil_strerror(err));
		processed += cons[i].processed;
	}
	printf("%d of %d items processed in %.2f s\n", processed, total,
	       (double)(coil_now() - start) / 1e9);
	coil_queue_destroy(q);
	return processed == total ? NULL : (void *)(intptr_t)-1;
}

int main(void)
{
	void *failed = NULL;
	int err = coil_run(amain, NULL, &failed);

	if (err) {
		fprintf(stderr, "coil_run: %s\n", coil_strerror(err));
		return 1;
	}
	if (failed) {
		fprintf(stderr, "failed: %s\n",
			coil_strerror((int)(intptr_t)failed));
		return 1;
	}
	return 0;
}
