/* SPDX-License-Identifier: MIT */
/*
 * gather_slow - the lecture's first program: five tasks that each sleep,
 * then return their number; gathered, they finish in about one sleep, not
 * five, and the results come back in spawn order.
 *
 *   async def slow(i): await asyncio.sleep(1); return i
 *   async def main(): print(await asyncio.gather(*(slow(i) for i in range(5))))
 *   asyncio.run(main())
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <coil.h>

#define NTASKS 5

static void *slow(void *arg)
{
	/* Sleep 1 s, minus a little for higher numbers: they finish first. */
	coil_sleep(COIL_NSEC_PER_SEC - (uint64_t)(intptr_t)arg * 10 *
					       COIL_NSEC_PER_MSEC);
	return arg;
}

static void *amain(void *arg)
{
	struct coil_task *tasks[NTASKS];
	void *results[NTASKS];
	uint64_t start = coil_now();
	int i, err;

	(void)arg;
	for (i = 0; i < NTASKS; i++) {
		err = coil_spawn(&tasks[i], slow, (void *)(intptr_t)i);
		if (err) {
			fprintf(stderr, "spawn: %s\n", coil_strerror(err));
			return (void *)1;
		}
	}
	err = coil_gather(tasks, NTASKS, results, NULL);
	if (err) {
		fprintf(stderr, "gather: %s\n", coil_strerror(err));
		return (void *)1;
	}
	printf("[");
	for (i = 0; i < NTASKS; i++)
		printf("%s%d", i ? ", " : "", (int)(intptr_t)results[i]);
	printf("] in %.2f s\n", (double)(coil_now() - start) / 1e9);
	return NULL;
}

int main(void)
{
	void *failed;
	int err = coil_run(amain, NULL, &failed);

	if (err) {
		fprintf(stderr, "coil_run: %s\n", coil_strerror(err));
		return 1;
	}
	return failed ? 1 : 0;
}
