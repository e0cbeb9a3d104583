/* SPDX-License-Identifier: MIT */
/*
 * bench/baselines/listen.h - the listening socket every echo baseline
 * opens: TCP on 127.0.0.1, SO_REUSEADDR, backlog 4096, port 0 = any.
 * Header-only so that each baseline stays one self-contained program.
 */
#ifndef COIL_BENCH_BASELINES_LISTEN_H
#define COIL_BENCH_BASELINES_LISTEN_H

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/*
 * A listening socket on 127.0.0.1:*@port, created with @type_flags added
 * to SOCK_STREAM | SOCK_CLOEXEC (SOCK_NONBLOCK for epoll); *@port gets
 * the port bound. @nodelay: set TCP_NODELAY on the listener, which
 * accepted sockets inherit (servers that set it per connection instead
 * pass false and keep that system call in what they measure). Any failure
 * prints "@prog: step: error" and exits 1.
 */
static int baseline_listen(const char *prog, unsigned *port, int type_flags,
			   int nodelay)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)*port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	socklen_t len = sizeof(sa);
	const char *step = "socket";
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | type_flags, 0);

	if (fd < 0)
		goto fail;
	step = "SO_REUSEADDR";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto fail;
	step = "TCP_NODELAY";
	if (nodelay &&
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		goto fail;
	step = "bind";
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	step = "listen";
	if (listen(fd, 4096) < 0)
		goto fail;
	step = "getsockname";
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		goto fail;
	*port = ntohs(sa.sin_port);
	return fd;
fail:
	fprintf(stderr, "%s: %s: %s\n", prog, step, strerror(errno));
	exit(1);
}

#endif /* COIL_BENCH_BASELINES_LISTEN_H */
