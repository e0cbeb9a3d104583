/* SPDX-License-Identifier: MIT */
/*
 * net/addr.c - addresses: numeric parsing and formatting, and name
 * resolution on the offload pool.
 *
 * getaddrinfo() may block for seconds (DNS, /etc/nsswitch.conf modules), so
 * a name is never resolved on the ring's thread. The lookup runs in a small
 * detached task that calls coil_offload(); the caller waits for that task
 * with its own timeout and cancellation, so a caller that gives up returns
 * at once. It cancels the lookup task on its way out: a job still queued
 * leaves the pool's queue unrun (stale lookups behind a slow resolver
 * would otherwise hold the four threads from every later lookup), one
 * already running finishes in the background and frees its result.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coil/sync.h"
#include "coil/task.h"
#include "internal.h"
#include "net.h"

int coil__socket(int family, int type, bool nodelay)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	if (nodelay && (family == AF_INET || family == AF_INET6) &&
	    type == SOCK_STREAM)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				 sizeof(one));
	return fd;
}

int coil__unix_addr(const char *path, struct sockaddr_un *sun)
{
	size_t len, max;

	if (!path || !*path)
		return -EINVAL;
	len = strlen(path);
	/*
	 * A path needs its NUL inside sun_path. An abstract name does not:
	 * its '@' becomes the leading NUL and the name may fill the rest.
	 */
	max = path[0] == '@' ? sizeof(sun->sun_path) :
			       sizeof(sun->sun_path) - 1;
	if (len > max)
		return -ENAMETOOLONG;
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, len);
	/* Abstract names start with a NUL and are not NUL-terminated. */
	if (path[0] == '@') {
		sun->sun_path[0] = '\0';
		return (int)(offsetof(struct sockaddr_un, sun_path) + len);
	}
	return (int)(offsetof(struct sockaddr_un, sun_path) + len + 1);
}

int coil__gai_error(int eai, int saved_errno)
{
	switch (eai) {
	case 0:
		return 0;
	case EAI_NONAME:
	case EAI_NODATA:
	case EAI_ADDRFAMILY:
		return -COIL_ENONAME;
	case EAI_AGAIN:
		return -EAGAIN;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_SERVICE:
	case EAI_BADFLAGS:
	case EAI_FAMILY:
	case EAI_SOCKTYPE:
		return -EINVAL;
	case EAI_SYSTEM:
		return saved_errno ? -saved_errno : -EIO;
	default:
		return -EIO;
	}
}

/*
 * Strip "[...]" around an IPv6 literal into @buf; NULL stays NULL. An empty
 * "[]" is left as it is, to fail as a name: stripped, it would read as "",
 * or "::" where no host means every address, and a connect there reaches
 * this host.
 */
static const char *strip_brackets(const char *host, char *buf, size_t size)
{
	size_t len;

	if (!host)
		return NULL;
	len = strlen(host);
	if (len < 3 || host[0] != '[' || host[len - 1] != ']' ||
	    len - 2 >= size)
		return host;
	memcpy(buf, host + 1, len - 2);
	buf[len - 2] = '\0';
	return buf;
}

/*
 * NULL/"" become "::": the listeners' "every address". Brackets are left
 * on: numeric_ai() strips them, once ("[[::1]]" must stay no address).
 */
static const char *any_if_none(const char *host)
{
	return host && *host ? host : "::";
}

/* "[...]": an IPv6 literal or nothing, never a name to look up. */
static bool bracketed(const char *host)
{
	size_t len = host ? strlen(host) : 0;

	return len >= 2 && host[0] == '[' && host[len - 1] == ']';
}

/*
 * getaddrinfo() for numeric hosts only: never blocks. @host NULL means what
 * it means to getaddrinfo() (loopback, or every address with AI_PASSIVE).
 */
static int numeric_ai(const char *host, const char *service, int family,
		      int socktype, int flags, struct addrinfo **out)
{
	struct addrinfo hints;
	char buf[INET6_ADDRSTRLEN + 16];

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family;
	hints.ai_socktype = socktype;
	hints.ai_flags = flags | AI_NUMERICHOST | AI_NUMERICSERV;
	return getaddrinfo(strip_brackets(host, buf, sizeof(buf)), service,
			   &hints, out);
}

int coil_addr_parse(const char *host, uint16_t port,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo *ai;
	char service[8];

	if (!ss || !len)
		return -EINVAL;
	snprintf(service, sizeof(service), "%u", port);
	if (numeric_ai(any_if_none(host), service, AF_UNSPEC, SOCK_STREAM,
		       AI_PASSIVE, &ai) != 0)
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int format_unix(const struct sockaddr_un *sun, socklen_t len,
		       char *buf, size_t size)
{
	size_t off = offsetof(struct sockaddr_un, sun_path), n;

	if (len <= off)
		return snprintf(buf, size, "(unnamed)");
	n = len - off;
	if (sun->sun_path[0] == '\0') /* abstract: '@' + the name */
		return snprintf(buf, size, "@%.*s", (int)(n - 1),
				sun->sun_path + 1);
	return snprintf(buf, size, "%.*s", (int)strnlen(sun->sun_path, n),
			sun->sun_path);
}

int coil_addr_format(const struct sockaddr *sa, socklen_t len, char *buf,
		     size_t size)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	if (!sa || !buf || !size)
		return -EINVAL;
	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *in = (const void *)sa;

		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
		n = snprintf(buf, size, "%s:%u", ip, ntohs(in->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *in6 = (const void *)sa;

		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
		n = snprintf(buf, size, "[%s]:%u", ip, ntohs(in6->sin6_port));
		break;
	}
	case AF_UNIX:
		n = format_unix((const void *)sa, len, buf, size);
		break;
	default:
		buf[0] = '\0';
		return -EAFNOSUPPORT;
	}
	return (size_t)n < size ? n : -ENOSPC;
}

/* ------------------------------------------------------- resolution */

/*
 * One lookup. Shared by the caller and the lookup task, both on the
 * runtime's thread; whichever is left last frees it: the caller if it saw
 * the result (@done), the lookup task if the caller had given up
 * (@abandoned), however its offload call ended.
 */
struct resolve_job {
	struct coil__wq waiter;   /* the caller, while it waits */
	struct addrinfo hints;
	struct addrinfo *ai;      /* the result (the offload thread's) */
	int gai;                  /* getaddrinfo()'s return value */
	int gai_errno;            /* errno for EAI_SYSTEM */
	int err;                  /* the outcome, once @done */
	bool done;
	bool abandoned;
	char *host;
	char *service;
};

static void job_free(struct resolve_job *j)
{
	if (j->ai)
		freeaddrinfo(j->ai);
	free(j->host);
	free(j->service);
	free(j);
}

/* On an offload thread. */
static void *lookup(void *arg)
{
	struct resolve_job *j = arg;

	errno = 0;
	j->gai = getaddrinfo(j->host, j->service, &j->hints, &j->ai);
	j->gai_errno = errno;
	return NULL;
}

/* The detached task that owns the offload call. */
static void *lookup_task(void *arg)
{
	struct resolve_job *j = arg;
	int err = coil_offload(lookup, j, NULL);

	/* Cancelled while running still leaves getaddrinfo()'s result. */
	j->err = j->ai || j->gai ? coil__gai_error(j->gai, j->gai_errno) : err;
	j->done = true;
	if (j->abandoned)
		job_free(j);
	else
		coil__wq_wake_one(&j->waiter, 0);
	return NULL;
}

static struct resolve_job *job_new(const char *host, const char *service,
				   int family, int socktype, int flags)
{
	struct resolve_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	j->hints.ai_family = family;
	j->hints.ai_socktype = socktype;
	j->hints.ai_flags = flags;
	j->host = host ? strdup(host) : NULL;
	j->service = service ? strdup(service) : NULL;
	if ((host && !j->host) || (service && !j->service)) {
		job_free(j);
		return NULL;
	}
	return j;
}

static int resolve_flags(const char *host, const char *service, int family,
			 int socktype, int flags, int64_t timeout_ns,
			 struct addrinfo **out)
{
	struct coil_task *self = coil__running(), *t;
	struct coil__wq_node n = { 0 };
	struct resolve_job *j;
	char buf[INET6_ADDRSTRLEN + 16];
	int err;

	if (!out || (family != AF_UNSPEC && family != AF_INET &&
		     family != AF_INET6))
		return -EINVAL;
	*out = NULL;
	if (!host && !service)
		return -COIL_ENONAME; /* getaddrinfo's answer, without a hop */
	err = numeric_ai(host, service, family, socktype, flags, out);
	if (err != EAI_NONAME)
		return coil__gai_error(err, errno);
	/*
	 * Brackets hold an IPv6 literal or nothing: "[localhost]" is no name.
	 * "[::1]" with a service name goes to the lookup without them (the
	 * service needs it; getaddrinfo() takes no brackets).
	 */
	if (bracketed(host)) {
		struct addrinfo *probe;

		if (numeric_ai(host, NULL, family, socktype, 0, &probe) != 0)
			return -COIL_ENONAME;
		freeaddrinfo(probe);
		host = strip_brackets(host, buf, sizeof(buf));
	}
	if (!self)
		return -EPERM;
	err = coil__check_cancel(self);
	if (err)
		return err;
	if (timeout_ns == 0)
		return -ETIMEDOUT; /* no time: not even a queued job */
	j = job_new(host, service, family, socktype, flags);
	if (!j)
		return -ENOMEM;
	err = coil_spawn(&t, lookup_task, j);
	if (err) {
		job_free(j);
		return err;
	}
	coil_detach(t);
	n.task = self;
	err = coil__wq_wait(&j->waiter, &n, "resolve", timeout_ns);
	if (!j->done) {
		/*
		 * Given up (cancel, timeout, deadline). Not done, so the
		 * lookup task has not returned and @t is still valid: cancel
		 * it, which takes a job still queued out of the pool's queue
		 * (one already running cannot be stopped). Either way it
		 * comes back from coil_offload() and frees @j.
		 */
		j->abandoned = true;
		coil_cancel(t);
		return err ? err : -EIO;
	}
	err = j->err;
	if (!err) {
		*out = j->ai;
		j->ai = NULL;
	}
	job_free(j);
	return err;
}

int coil_resolve(const char *host, const char *service, int family,
		 int socktype, struct addrinfo **out)
{
	return resolve_flags(host, service, family, socktype, 0,
			     COIL_NO_TIMEOUT, out);
}

int coil__resolve_port(const char *host, uint16_t port, int socktype,
		       int flags, int64_t timeout_ns, struct addrinfo **out)
{
	char service[8];

	snprintf(service, sizeof(service), "%u", port);
	return resolve_flags(any_if_none(host), service, AF_UNSPEC, socktype,
			     flags, timeout_ns, out);
}
