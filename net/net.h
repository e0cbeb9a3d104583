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

/* Map a getaddrinfo() EAI_* code to coil's negative errno. */
int coil__gai_error(int eai, int saved_errno);

/*
 * Resolve @host:@port for @socktype: numeric addresses in place, names via
 * coil_resolve(). Returns 0 with *@out to freeaddrinfo(), or -errno.
 */
int coil__resolve_port(const char *host, uint16_t port, int socktype,
		       int flags, struct addrinfo **out);

/*
 * Send all @len bytes of @buf on @fd: send(2) with MSG_NOSIGNAL on a
 * socket (@sock), write(2) otherwise, each call under @timeout_ns.
 * Returns @len, or a negative errno with *@done the bytes sent before it.
 */
ssize_t coil__send_all_fd(int fd, const void *buf, size_t len, size_t *done,
			  int64_t timeout_ns, bool sock);

#pragma GCC visibility pop

#endif /* COIL_NET_INTERNAL_H */
