/* SPDX-License-Identifier: MIT */
/*
 * net/connect.c - outgoing connections (TCP by name or address, Unix) and
 * UDP sockets.
 *
 * A TCP connect is IORING_OP_CONNECT with a linked timeout per attempt; a
 * host name's addresses are tried one after another in getaddrinfo()'s
 * order (RFC 6724: IPv6 first where it is routable), so a dead first
 * address costs one @timeout_ns, not the whole call. Resolving the name
 * shares the first attempt's @timeout_ns: a resolver that does not answer
 * must not hold the call for its own timeouts (seconds per server and
 * retry), so the call is bounded by @timeout_ns per address.
 */
#define _GNU_SOURCE
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "coil/io.h"
#include "internal.h"
#include "net.h"

int coil_tcp_set_nodelay(int fd, bool on)
{
	int v = on;

	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof(v)) < 0 ?
		       -errno : 0;
}

int coil_connect_addr(const struct sockaddr *addr, socklen_t addrlen,
		      int type, int64_t timeout_ns)
{
	int fd, err;

	if (!addr)
		return -EINVAL;
	fd = coil__socket(addr->sa_family, type, true);
	if (fd < 0)
		return fd;
	err = coil_connect_timeout(fd, addr, addrlen, timeout_ns);
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Worth trying the next address after this error? -EPERM is: a cgroup
 * connect hook or a firewall may refuse one family (or one address) and
 * let the next through.
 */
static bool try_next(const struct coil_task *self, int err)
{
	if (err == -ECANCELED || err == -ENOMEM)
		return false;
	/* The enclosing deadline, not the per-attempt timeout, expired. */
	if (err == -ETIMEDOUT && coil__interrupted(self))
		return false;
	return true;
}

int coil_tcp_connect(const char *host, uint16_t port, int64_t timeout_ns)
{
	struct coil_task *self = coil__running();
	uint64_t start = coil__call_start(timeout_ns);
	struct addrinfo *list, *ai;
	int64_t attempt_ns;
	int fd = -COIL_ENONAME, err;

	if (!self)
		return -EPERM;
	if (!host || !*host || !port)
		return -EINVAL;
	err = coil__resolve_port(host, port, SOCK_STREAM, 0, timeout_ns,
				 &list);
	if (err)
		return err;
	for (ai = list; ai; ai = ai->ai_next) {
		/* The first attempt gets what the lookup left of its time. */
		attempt_ns = ai == list ? coil__time_left(timeout_ns, start) :
					  timeout_ns;
		fd = coil_connect_addr(ai->ai_addr, ai->ai_addrlen,
				       SOCK_STREAM, attempt_ns);
		if (fd >= 0 || !try_next(self, fd))
			break;
	}
	freeaddrinfo(list);
	return fd;
}

int coil_unix_connect(const char *path, int64_t timeout_ns)
{
	struct sockaddr_un sun;
	int len = coil__unix_addr(path, &sun);

	if (len < 0)
		return len;
	return coil_connect_addr((struct sockaddr *)&sun, (socklen_t)len,
				 SOCK_STREAM, timeout_ns);
}

/* ---------------------------------------------------------------- UDP */

static int udp_bind_addr(const struct sockaddr *sa, socklen_t len,
			 bool reuseport)
{
	int fd = coil__socket(sa->sa_family, SOCK_DGRAM, false), zero = 0,
	    one = 1, err = 0;

	if (fd < 0)
		return fd;
	if (reuseport &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		err = -errno;
	/* Dual-stack whatever net.ipv6.bindv6only says. */
	if (!err && sa->sa_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)) < 0)
		err = -errno;
	if (!err && bind(fd, sa, len) < 0)
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int coil_udp_bind(const char *host, uint16_t port, bool reuseport)
{
	struct sockaddr_storage ss;
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr = { htonl(INADDR_ANY) } };
	socklen_t len;
	int err = coil_addr_parse(host, port, &ss, &len), fd;

	if (err)
		return err;
	fd = udp_bind_addr((struct sockaddr *)&ss, len, reuseport);
	/* "::" on a machine without IPv6: every IPv4 address instead. */
	if ((fd == -EAFNOSUPPORT || fd == -EADDRNOTAVAIL) &&
	    (!host || !*host))
		fd = udp_bind_addr((struct sockaddr *)&in, sizeof(in),
				   reuseport);
	return fd;
}

int coil_udp_connect(const char *host, uint16_t port)
{
	struct addrinfo *list, *ai;
	int fd = -COIL_ENONAME, err;

	if (!host || !*host || !port)
		return -EINVAL;
	err = coil__resolve_port(host, port, SOCK_DGRAM, 0, COIL_NO_TIMEOUT,
				 &list);
	if (err)
		return err;
	for (ai = list; ai; ai = ai->ai_next) {
		fd = coil__socket(ai->ai_family, SOCK_DGRAM, false);
		if (fd < 0)
			continue;
		/* A UDP connect only records the peer: it never blocks. */
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		err = -errno;
		close(fd);
		fd = err;
	}
	freeaddrinfo(list);
	return fd;
}
