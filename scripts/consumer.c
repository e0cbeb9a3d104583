/* SPDX-License-Identifier: MIT */
/*
 * scripts/consumer.c - the smallest program built against an installed
 * coil, the way another project would use it: #include <coil.h> and
 * `pkg-config --cflags --libs coil`. .ci/run compiles, links and runs it
 * against a staged `meson install`.
 *
 * Prints "consumer ok" and exits 0 when the main task ran and slept; exits
 * 77 (skip) when the kernel or a sandbox refuses io_uring, 1 otherwise.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>

#include <coil.h>

/* The main task: sleep one millisecond and hand back coil_sleep's status. */
static void *main_task(void *arg)
{
	(void)arg;
	return (void *)(intptr_t)coil_sleep(1000000);
}

int main(void)
{
	void *result = NULL;
	int err = coil_run(main_task, NULL, &result);

	if (err == -EPERM || err == -ENOSYS) {
		fprintf(stderr, "consumer: io_uring unavailable: %s\n",
			coil_strerror(err));
		return 77;
	}
	if (err < 0) {
		fprintf(stderr, "consumer: coil_run: %s\n", coil_strerror(err));
		return 1;
	}
	err = (int)(intptr_t)result;
	if (err < 0) {
		fprintf(stderr, "consumer: coil_sleep: %s\n",
			coil_strerror(err));
		return 1;
	}
	puts("consumer ok");
	return 0;
}
