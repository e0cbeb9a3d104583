/* SPDX-License-Identifier: MIT */
/*
 * net/net.h - what the net/ files share: socket creation with coil's
 * defaults and address helpers. Internal (coil__ prefix, hidden).
 */
#ifndef COIL_NET_INTERNAL_H
#define COIL_NET_INTERNAL_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "coil/net.h"
#include "coil/time.h"

#pragma GCC visibility push(hidden)

/*
 * A socket with SOCK_CLOEXEC (and TCP_NODELAY for TCP unless @nodelay is
 * false). Returns the fd or -errno. Synchronous: socket(2) never blocks.
 */
int coil__socket(int family, int type, bool nodelay);

/*
 * Fill @sun from @path ('@' prefix: abstract namespace). Returns the
 * address length, or -ENAMETOOLONG / -EINVAL.
 */
int coil__unix_addr(const char *path, struct sockaddr_un *sun);

/*
 * A call's @timeout_ns spread over the several ops it may take (a send
 * that loops over short sends, a read_line that receives again and again):
 * what is left of it at @start + @timeout_ns, 0 once that passed (the next
 * op then fails with -ETIMEDOUT without trying), -1 for none. With the
 * whole timeout on each op, a peer that moves a byte just inside each one
 * would hold the call as long as it liked (slowloris). @start is the
 * clock (coil_now()) when the call began, read only when @timeout_ns >= 0.
 */
static inline int64_t coil__time_left(int64_t timeout_ns, uint64_t start)
{
	uint64_t used;

	if (timeout_ns < 0)
		return -1;
	used = coil_now() - start;
	return used >= (uint64_t)timeout_ns ? 0 : timeout_ns - (int64_t)used;
}

static inline uint64_t coil__call_start(int64_t timeout_ns)
{
	return timeout_ns < 0 ? 0 : coil_now();
}

/* Map a getaddrinfo() EAI_* code to coil's negative errno. */
int coil__gai_error(int eai, int saved_errno);

/*
 * Resolve @host:@port for @socktype: numeric addresses in place, names as
 * coil_resolve() does, waiting at most @timeout_ns (< 0: no limit) for the
 * lookup. Returns 0 with *@out to freeaddrinfo(), or -errno (-ETIMEDOUT
 * when @timeout_ns passed; a lookup still queued is then dropped).
 */
int coil__resolve_port(const char *host, uint16_t port, int socktype,
		       int flags, int64_t timeout_ns, struct addrinfo **out);

/*
 * Send all @len bytes of @buf on @fd: send(2) with MSG_NOSIGNAL on a
 * socket (@sock), write(2) otherwise, each call under @timeout_ns.
 * Returns @len, or a negative errno with *@done the bytes sent before it.
 */
ssize_t coil__send_all_fd(int fd, const void *buf, size_t len, size_t *done,
			  int64_t timeout_ns, bool sock);

#pragma GCC visibility pop

#endif /* COIL_NET_INTERNAL_H */
