/* SPDX-License-Identifier: MIT */
/*
 * examples/shutdown_signal.h - how the example servers hear SIGINT and
 * SIGTERM: blocked in every thread and delivered through a signalfd, which
 * a task reads with coil_read() - the signal arrives through the ring like
 * any other I/O, and the task that reads it runs the graceful shutdown.
 */
#ifndef COIL_EXAMPLES_SHUTDOWN_SIGNAL_H
#define COIL_EXAMPLES_SHUTDOWN_SIGNAL_H

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>

/*
 * Call before coil_run(): threads the runtime starts later (the offload
 * pool) inherit the blocked mask, so no thread takes the signal the old
 * way. Returns the signalfd, or -1 after printing "@prog: signalfd: why".
 */
static inline int shutdown_signalfd(const char *prog)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_CLOEXEC);
	if (fd < 0)
		fprintf(stderr, "%s: signalfd: %s\n", prog, strerror(errno));
	return fd;
}

#endif /* COIL_EXAMPLES_SHUTDOWN_SIGNAL_H */
