/* SPDX-License-Identifier: MIT */
/*
 * net/listener.c - TCP and Unix listeners, accepting with one multishot
 * accept armed in the kernel.
 *
 * The armed accept is not any task's op: it is a struct coil__op inside
 * the listener with a completion callback (accept_cb), run by the loop for
 * every CQE. A new connection goes straight to the oldest task waiting in
 * coil_listener_accept() (as its wake value), or into a small queue when
 * none waits. The kernel ends a multishot accept on any error and whenever
 * it likes (no IORING_CQE_F_MORE); the next task that needs a connection
 * arms it again. Invariant: while tasks wait and the listener is open,
 * either an accept is armed or one of the waiters has been woken to arm it
 * (after a back-off), so no waiter is stranded.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "coil/time.h"
#include "internal.h"
#include "net.h"

/* Connections queued with no taker before the multishot accept is paused
 * (the kernel's backlog holds the rest). */
#define READY_HIGH 64
#define BACKOFF_MIN_NS 1000000ull      /* 1 ms */
#define BACKOFF_MAX_NS 1000000000ull   /* 1 s */

struct coil_listener {
	struct coil_rt *rt;         /* the runtime whose ring arms accepts */
	uint64_t rt_serial;         /* @rt's serial (see internal.h) */
	pthread_t owner;            /* the thread that runs it */
	struct coil__op op;         /* the armed accept; cb = accept_cb */
	struct coil__wq waiters;    /* tasks in coil_listener_accept() */
	struct coil_task *closer;   /* coil_listener_close() waiting for op */
	int *ready;                 /* accepted fds nobody has taken yet: a
				     * ring of ready_cap (a power of two) */
	unsigned ready_head, ready_len, ready_cap;
	uint64_t resume_at;         /* back-off: arm no accept before this */
	uint64_t backoff_ns;        /* the next back-off's length */
	int fd;
	bool multishot;             /* arm multishot accepts */
	bool multishot_worked;      /* a multishot accept has succeeded */
	bool armed;                 /* an accept SQE may still post CQEs */
	bool cancel_sent;           /* an ASYNC_CANCEL for it is queued */
	bool closing;
	unsigned users;             /* tasks inside coil_listener_accept() */
	struct coil_listener_stats stats;
	char *unix_path;            /* bound path to unlink at close */
};

/* ------------------------------------------------------- ready queue */

static int ready_push(struct coil_listener *l, int fd)
{
	unsigned i, cap;
	int *v;

	if (l->ready_len == l->ready_cap) {
		cap = l->ready_cap ? l->ready_cap * 2 : 16;
		v = malloc(cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		for (i = 0; i < l->ready_len; i++)
			v[i] = l->ready[(l->ready_head + i) & (l->ready_cap - 1)];
		free(l->ready);
		l->ready = v;
		l->ready_cap = cap;
		l->ready_head = 0;
	}
	l->ready[(l->ready_head + l->ready_len) & (l->ready_cap - 1)] = fd;
	l->ready_len++;
	return 0;
}

static int ready_pop(struct coil_listener *l)
{
	int fd = l->ready[l->ready_head];

	l->ready_head = (l->ready_head + 1) & (l->ready_cap - 1);
	l->ready_len--;
	return fd;
}

/* --------------------------------------------------------- the accept */

/* Cancel the armed accept; its final CQE (with -ECANCELED) ends it. */
static void send_cancel(struct coil_listener *l)
{
	if (l->armed && !l->cancel_sent)
		l->cancel_sent = coil__op_cancel(l->rt, &l->op);
}

static void arm(struct coil_listener *l)
{
	struct io_uring_sqe *sqe;

	if (l->armed || l->closing)
		return;
	sqe = coil__get_sqe(l->rt, 1);
	if (!sqe)
		return;
	if (l->multishot)
		io_uring_prep_multishot_accept(sqe, l->fd, NULL, NULL,
					       SOCK_CLOEXEC);
	else
		io_uring_prep_accept(sqe, l->fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, (uint64_t)(uintptr_t)&l->op);
	l->rt->be.inflight++;
	l->armed = true;
	l->cancel_sent = false;
	l->stats.arms++;
}

/* Out of descriptors or memory: pause accepting for a while. */
static bool resource_error(int res)
{
	return res == -EMFILE || res == -ENFILE || res == -ENOBUFS ||
	       res == -ENOMEM;
}

/*
 * Errors about one connection (it went away before we took it, or a
 * firewall refused it), not about the listener: accept again at once.
 */
static bool transient_error(int res)
{
	return res == -ECONNABORTED || res == -EPERM || res == -EPROTO ||
	       res == -EINTR || res == -EAGAIN || res == -ENETDOWN ||
	       res == -ENOPROTOOPT || res == -EHOSTDOWN || res == -ENONET ||
	       res == -EHOSTUNREACH || res == -EOPNOTSUPP ||
	       res == -ENETUNREACH;
}

static void got_fd(struct coil_listener *l, int fd)
{
	l->backoff_ns = 0;
	if (l->closing) {
		close(fd);
		return;
	}
	if (coil__wq_wake_one(&l->waiters, fd))
		return;
	if (ready_push(l, fd) < 0) {
		close(fd); /* out of memory: shed the connection */
		return;
	}
	if (l->ready_len >= READY_HIGH)
		send_cancel(l);
}

static void got_error(struct coil_listener *l, int res)
{
	if (l->closing || res == -ECANCELED)
		return;
	if (res == -EINVAL && l->multishot && !l->multishot_worked) {
		/* Before 5.19 the multishot flag is rejected: go single-shot. */
		l->multishot = false;
		l->stats.multishot = false;
		coil__wq_wake_one(&l->waiters, -EAGAIN);
		return;
	}
	if (resource_error(res)) {
		l->backoff_ns = l->backoff_ns ? l->backoff_ns * 2 :
						BACKOFF_MIN_NS;
		if (l->backoff_ns > BACKOFF_MAX_NS)
			l->backoff_ns = BACKOFF_MAX_NS;
		l->resume_at = coil__now() + l->backoff_ns;
		l->stats.backoffs++;
		send_cancel(l);
		res = -EAGAIN;
	} else if (transient_error(res)) {
		res = -EAGAIN;
	}
	/* One waiter retries (-EAGAIN) or reports the listener's error. */
	coil__wq_wake_one(&l->waiters, res);
}

static void accept_cb(struct coil_rt *rt, struct coil__op *op, int res,
		      unsigned flags)
{
	struct coil_listener *l = COIL__CONTAINER_OF(op, struct coil_listener,
						     op);

	if (flags & IORING_CQE_F_MORE) {
		rt->be.inflight++; /* coil__complete() counted it as the last */
		if (res >= 0)
			l->multishot_worked = true;
	} else {
		l->armed = false;
	}
	if (res >= 0)
		got_fd(l, res);
	else
		got_error(l, res);
	if (l->armed)
		return;
	/* The accept ended: the closer may go on, or a waiter re-arms. */
	if (l->closer) {
		if (!l->users)
			coil__wake(l->closer, 0);
	}
	else if (!l->closing)
		coil__wq_wake_one(&l->waiters, -EAGAIN);
}

/* ------------------------------------------------------------ accept */

/* Nanoseconds from now until @when (0 if it has passed); -1 for never. */
static int64_t until(uint64_t when)
{
	uint64_t now = coil__now();

	if (when == COIL__NEVER)
		return -1;
	return when > now ? (int64_t)(when - now) : 0;
}

/*
 * Wait out the back-off, or until @deadline, in the waiters' queue: a
 * close (-EBADF) or a connection that still arrives (its fd, possibly 0)
 * reaches a task here too. Returns -EAGAIN when the back-off is over,
 * else what the wait returned.
 */
static int back_off(struct coil_listener *l, struct coil__wq_node *n,
		    uint64_t deadline)
{
	uint64_t end = l->resume_at < deadline ? l->resume_at : deadline;
	int res = coil__wq_wait(&l->waiters, n, "accept back-off", until(end));

	return res == -ETIMEDOUT && end < deadline ? -EAGAIN : res;
}

static int take_ready(struct coil_listener *l, int *fd)
{
	if (!l->ready_len)
		return 0;
	*fd = ready_pop(l);
	return 1;
}

static int accept_loop(struct coil_listener *l, struct coil_task *self,
		       int64_t timeout_ns)
{
	uint64_t deadline = timeout_ns < 0 ? COIL__NEVER :
					     coil__now() + (uint64_t)timeout_ns;
	struct coil__wq_node n = { 0 };
	int fd, res;

	n.task = self;
	for (;;) {
		if (take_ready(l, &fd))
			return fd;
		if (l->closing)
			return -EBADF;
		/* Woken to retry and cancelled meanwhile: stop here. */
		res = coil__check_cancel(self);
		if (res)
			return res;
		if (l->resume_at && coil__now() < l->resume_at) {
			res = back_off(l, &n, deadline);
			if (res != -EAGAIN)
				return res; /* an fd, -EBADF, -ECANCELED, ... */
			continue;
		}
		arm(l);
		if (!l->armed)
			return coil__no_sqe_error(l->rt);
		res = coil__wq_wait(&l->waiters, &n, "accept", until(deadline));
		if (res != -EAGAIN)
			return res;
	}
}

/* After a waiter leaves without a connection: keep the invariant. */
static void kick(struct coil_listener *l)
{
	if (!l->armed && !l->closing && l->waiters.len)
		coil__wq_wake_one(&l->waiters, -EAGAIN);
}

int coil_listener_accept(struct coil_listener *l,
			 struct sockaddr_storage *peer, socklen_t *peerlen,
			 int64_t timeout_ns)
{
	struct coil_task *self = coil__running();
	int fd, err;

	if (!self)
		return -EPERM;
	/* Its own runtime's: not a later one that reuses the address. */
	if (!l || !coil__rt_is_current(l->rt, l->rt_serial) ||
	    (peer && !peerlen))
		return -EINVAL;
	err = coil__check_cancel(self);
	if (err)
		return err;
	/* Counted while inside: close waits for every such task to leave. */
	l->users++;
	fd = accept_loop(l, self, timeout_ns);
	if (fd < 0)
		kick(l);
	if (--l->users == 0 && l->closer && !l->armed)
		coil__wake(l->closer, 0);
	if (fd < 0)
		return fd;
	l->stats.accepted++;
	if (peer) {
		*peerlen = sizeof(*peer);
		if (getpeername(fd, (struct sockaddr *)peer, peerlen) < 0)
			*peerlen = 0; /* already reset by the peer: still ours */
	}
	return fd;
}

/* ------------------------------------------------------------ create */

static int listener_new(int fd, const struct coil_listen_opts *opts,
			struct coil_listener **out)
{
	struct coil_rt *rt = coil__tls_rt;
	struct coil_listener *l;

	if (!rt)
		return -EPERM;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->rt = rt;
	l->rt_serial = rt->serial;
	l->owner = pthread_self();
	l->fd = fd;
	l->op.cb = accept_cb;
	l->op.what = "accept";
	l->multishot = !(opts && opts->no_multishot);
	l->stats.multishot = l->multishot;
	*out = l;
	return 0;
}

static int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof(value)) < 0 ? -errno
								       : 0;
}

/*
 * Options, bind, listen. Closes @fd on failure; *@bound says whether the
 * bind had succeeded (for a Unix path: made the socket file).
 */
static int bind_listen(int fd, const struct sockaddr *sa, socklen_t len,
		       const struct coil_listen_opts *opts, bool *bound)
{
	int err = 0;

	if (sa->sa_family != AF_UNIX && !opts->no_reuseaddr)
		err = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
	if (!err && opts->reuseport)
		err = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	if (!err && sa->sa_family == AF_INET6)
		err = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, opts->v6only);
	/* Accepted sockets inherit TCP_NODELAY from the listener. */
	if (!err && sa->sa_family != AF_UNIX)
		err = set_int(fd, IPPROTO_TCP, TCP_NODELAY, !opts->no_nodelay);
	if (!err && bind(fd, sa, len) < 0)
		err = -errno;
	*bound = !err;
	if (!err && listen(fd, opts->backlog > 0 ? opts->backlog :
						   SOMAXCONN) < 0)
		err = -errno;
	if (err)
		close(fd);
	return err;
}

/* *@bound as for bind_listen(), also when the listener is not made. */
static int listen_addr(const struct sockaddr *sa, socklen_t len,
		       const struct coil_listen_opts *opts, bool *bound,
		       struct coil_listener **out)
{
	int fd = coil__socket(sa->sa_family, SOCK_STREAM, false), err;

	*bound = false;
	if (fd < 0)
		return fd;
	err = bind_listen(fd, sa, len, opts, bound);
	if (err)
		return err;
	err = listener_new(fd, opts, out);
	if (err)
		close(fd);
	return err;
}

/* "::" dual-stack, or 0.0.0.0 on a machine without IPv6. */
static int listen_any(uint16_t port, const struct coil_listen_opts *opts,
		      struct coil_listener **out)
{
	struct sockaddr_in6 in6 = { .sin6_family = AF_INET6,
				    .sin6_port = htons(port),
				    .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in in = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr = { htonl(INADDR_ANY) } };
	bool bound;
	int err = listen_addr((struct sockaddr *)&in6, sizeof(in6), opts,
			      &bound, out);

	if (err == -EAFNOSUPPORT || err == -EADDRNOTAVAIL)
		err = listen_addr((struct sockaddr *)&in, sizeof(in), opts,
				  &bound, out);
	return err;
}

static bool is_any(const char *host)
{
	return !host || !*host || !strcmp(host, "::") || !strcmp(host, "[::]");
}

int coil_tcp_listen(const char *host, uint16_t port,
		    const struct coil_listen_opts *opts,
		    struct coil_listener **out)
{
	static const struct coil_listen_opts defaults;
	struct addrinfo *ai;
	bool bound;
	int err;

	if (!out)
		return -EINVAL;
	if (!coil__tls_rt)
		return -EPERM;
	opts = opts ? opts : &defaults;
	if (is_any(host))
		return listen_any(port, opts, out);
	err = coil__resolve_port(host, port, SOCK_STREAM, AI_PASSIVE,
				 COIL_NO_TIMEOUT, &ai);
	if (err)
		return err;
	err = listen_addr(ai->ai_addr, ai->ai_addrlen, opts, &bound, out);
	freeaddrinfo(ai);
	return err;
}

int coil_unix_listen(const char *path, const struct coil_listen_opts *opts,
		     struct coil_listener **out)
{
	static const struct coil_listen_opts defaults;
	struct sockaddr_un sun;
	int len = coil__unix_addr(path, &sun), err;
	bool bound;

	if (len < 0)
		return len;
	if (!out)
		return -EINVAL;
	if (!coil__tls_rt)
		return -EPERM;
	err = listen_addr((struct sockaddr *)&sun, (socklen_t)len,
			  opts ? opts : &defaults, &bound, out);
	/*
	 * Our bind made the socket file (it fails on any file already
	 * there), and no listener is left to unlink it at close: a file
	 * left behind would make the next listen at @path -EADDRINUSE.
	 */
	if (err && bound && path[0] != '@')
		unlink(path);
	if (err || path[0] == '@')
		return err;
	(*out)->unix_path = strdup(path);
	if (!(*out)->unix_path) {
		unlink(path);
		coil_listener_close(*out);
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

int coil_listener_addr(const struct coil_listener *l,
		       struct sockaddr_storage *ss, socklen_t *len)
{
	if (!l || !ss || !len)
		return -EINVAL;
	*len = sizeof(*ss);
	return getsockname(l->fd, (struct sockaddr *)ss, len) < 0 ? -errno : 0;
}

int coil_listener_port(const struct coil_listener *l)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int err = coil_listener_addr(l, &ss, &len);

	if (err)
		return err;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -EINVAL;
}

int coil_listener_fd(const struct coil_listener *l)
{
	return l ? l->fd : -EINVAL;
}

void coil_listener_stats(const struct coil_listener *l,
			 struct coil_listener_stats *out)
{
	if (l && out)
		*out = l->stats;
}

/* ------------------------------------------------------------- close */

/* Cancel and deadline have no say here: see reap_accept(). */
static void ignore_unwait(struct coil_task *t, int why)
{
	(void)t;
	(void)why;
}

/*
 * Whether closing @l has to wait: 1 for an armed accept (its CQE points
 * into @l) or tasks still inside coil_listener_accept() (they read @l), 0
 * for nothing to wait for, -EBUSY when the caller may not close @l or
 * cannot wait. Asked before close changes anything, so that -EBUSY leaves
 * @l as it was: in particular another thread must not wake @l's waiters,
 * whose run queue belongs to @l's thread.
 */
static int close_must_wait(const struct coil_listener *l)
{
	/*
	 * Another thread cannot tell whether our runtime still runs, and
	 * an idle listener is no freer than a busy one: a task of ours may
	 * be about to accept on it. Only our own thread may close it.
	 */
	if (!pthread_equal(l->owner, pthread_self()))
		return -EBUSY;
	/*
	 * On our thread, outside our run (no runtime, or a later one):
	 * coil_run() has returned, and its ring went with the accept, which
	 * has no buffer of ours to write.
	 */
	if (!coil__rt_is_current(l->rt, l->rt_serial))
		return 0;
	if (!l->armed && !l->users)
		return 0;
	return coil__running() ? 1 : -EBUSY;
}

/*
 * Wait for the armed accept's last CQE (its cancel already submitted) and
 * for every task still inside coil_listener_accept() to leave (close woke
 * them all with -EBADF). Neither a cancel nor a deadline may cut this wait
 * short - freeing @l early would be a use after free - and the cancel
 * request makes it short anyway.
 */
static void reap_accept(struct coil_listener *l)
{
	struct coil_task *self = coil__running();

	l->closer = self;
	while (l->armed || l->users)
		coil__suspend(self, "listener close", ignore_unwait, l);
	l->closer = NULL;
}

int coil_listener_close(struct coil_listener *l)
{
	int err;

	if (!l)
		return 0;
	err = close_must_wait(l);
	if (err < 0)
		return err;
	if (err) {
		/*
		 * The cancel's SQE first: it is the one step that can fail,
		 * and a close that fails must leave @l open as it was, its
		 * acceptors still waiting in it.
		 */
		send_cancel(l);
		if (l->armed && !l->cancel_sent)
			return coil__no_sqe_error(l->rt);
		l->closing = true;
		coil__wq_wake_all(&l->waiters, -EBADF);
		reap_accept(l);
	}
	while (l->ready_len)
		close(ready_pop(l));
	close(l->fd);
	if (l->unix_path)
		unlink(l->unix_path);
	free(l->unix_path);
	free(l->ready);
	free(l);
	return 0;
}
