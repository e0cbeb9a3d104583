/* SPDX-License-Identifier: MIT */
/*
 * tests/test_tcp.c - listeners, accept (multishot, re-arm, back-off under
 * EMFILE), connect by address and by name, and connections at scale.
 * Loopback only.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"

#define PTR(x) ((void *)(intptr_t)(x))
#define INT(p) ((int)(intptr_t)(p))

/* A listener on @host with a free port. */
static struct coil_listener *listen_on(const char *host,
				       const struct coil_listen_opts *o)
{
	struct coil_listener *l = NULL;

	assert_int_equal(coil_tcp_listen(host, 0, o, &l), 0);
	assert_non_null(l);
	assert_true(coil_listener_port(l) > 0);
	return l;
}

/* Echo one message of up to 64 bytes, then close. */
static void *echo_once(void *arg)
{
	int fd = INT(arg);
	char buf[64];
	ssize_t n = coil_recv(fd, buf, sizeof(buf), 0);

	if (n > 0)
		coil_send_all(fd, buf, (size_t)n, NULL, -1);
	coil_close(fd);
	return NULL;
}

/* A client: connect to host:port, send "ping", expect it echoed. */
struct client {
	const char *host;
	uint16_t port;
	int err;   /* 0, or where it failed */
};

static void *client_task(void *arg)
{
	struct client *c = arg;
	char buf[8] = { 0 };
	int fd = coil_tcp_connect(c->host, c->port, MS(2000));

	if (fd < 0) {
		c->err = fd;
		return NULL;
	}
	if (coil_send_all(fd, "ping", 4, NULL, -1) != 4 ||
	    coil_recv(fd, buf, 4, MSG_WAITALL) != 4 || strcmp(buf, "ping"))
		c->err = -EPROTO;
	coil_close(fd);
	return NULL;
}

/* ------------------------------------------------------- dual stack */

static void *body_dual_stack(void *arg)
{
	struct coil_listener *l = listen_on(NULL, NULL);
	struct client c = { .port = (uint16_t)coil_listener_port(l) };
	const char *hosts[] = { "127.0.0.1", "::1" };
	struct sockaddr_storage peer;
	struct sockaddr_in6 *p6 = (struct sockaddr_in6 *)&peer;
	struct coil_task *t;
	socklen_t plen;
	int i, fd;

	(void)arg;
	for (i = 0; i < 2; i++) {
		c.host = hosts[i];
		assert_int_equal(coil_spawn(&t, client_task, &c), 0);
		fd = coil_listener_accept(l, &peer, &plen, MS(2000));
		assert_true(fd >= 0);
		assert_int_equal(peer.ss_family, AF_INET6);
		/* IPv4 clients appear as ::ffff:127.0.0.1 on "::". */
		if (i == 0)
			assert_true(IN6_IS_ADDR_V4MAPPED(&p6->sin6_addr));
		else
			assert_true(IN6_IS_ADDR_LOOPBACK(&p6->sin6_addr));
		echo_once(PTR(fd));
		assert_int_equal(coil_join(t, NULL), 0);
		assert_int_equal(c.err, 0);
	}
	assert_int_equal(coil_listener_close(l), 0);
	return NULL;
}

static void test_tcp_listen_dual_stack_accepts_ipv4_and_ipv6(void **state)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);

	(void)state;
	if (fd < 0)
		TEST_SKIP("no IPv6 on this machine");
	close(fd);
	test_run(body_dual_stack, NULL);
}

/* Accepted sockets carry TCP_NODELAY (inherited from the listener). */
static void *body_nodelay(void *arg)
{
	struct coil_listener *l = listen_on("127.0.0.1", NULL);
	struct client c = { "127.0.0.1", (uint16_t)coil_listener_port(l), 0 };
	struct coil_task *t;
	int fd, v = 0;
	socklen_t len = sizeof(v);

	(void)arg;
	assert_int_equal(coil_spawn(&t, client_task, &c), 0);
	fd = coil_listener_accept(l, NULL, NULL, MS(2000));
	assert_true(fd >= 0);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, &len), 0);
	assert_int_not_equal(v, 0);
	echo_once(PTR(fd));
	coil_join(t, NULL);
	assert_int_equal(c.err, 0);
	coil_listener_close(l);
	return NULL;
}

static void test_tcp_accepted_socket_has_nodelay(void **state)
{
	(void)state;
	test_run(body_nodelay, NULL);
}

/* ----------------------------------------------------------- connect */

static void *body_refused(void *arg)
{
	struct coil_listener *l = listen_on("127.0.0.1", NULL);
	uint16_t port = (uint16_t)coil_listener_port(l);

	(void)arg;
	/* Nobody listens on the port once the listener is closed. */
	coil_listener_close(l);
	assert_int_equal(coil_tcp_connect("127.0.0.1", port, MS(2000)),
			 -ECONNREFUSED);
	return NULL;
}

static void test_tcp_connect_closed_port_is_refused(void **state)
{
	(void)state;
	test_run(body_refused, NULL);
}

static void *body_by_name(void *arg)
{
	struct coil_listener *l = listen_on(NULL, NULL);
	struct client c = { "localhost", (uint16_t)coil_listener_port(l), 0 };
	struct coil_task *t;
	int fd;

	(void)arg;
	assert_int_equal(coil_spawn(&t, client_task, &c), 0);
	fd = coil_listener_accept(l, NULL, NULL, MS(30000));
	assert_true(fd >= 0);
	echo_once(PTR(fd));
	coil_join(t, NULL);
	assert_int_equal(c.err, 0);
	coil_listener_close(l);
	return NULL;
}

static void test_tcp_connect_by_name_localhost(void **state)
{
	(void)state;
	test_run(body_by_name, NULL);
}

static void *body_no_such_name(void *arg)
{
	int err = coil_tcp_connect("no-such-host.invalid", 80, MS(1000));

	(void)arg;
	return PTR(err);
}

static void test_tcp_connect_unresolvable_name_is_enoname(void **state)
{
	int err;

	(void)state;
	err = INT(test_run(body_no_such_name, NULL));
	if (err == -EAGAIN)
		TEST_SKIP("the resolver is unreachable here (EAI_AGAIN)");
	assert_int_equal(err, -COIL_ENONAME);
}

/* ------------------------------------------- a busy offload pool */

#define POOL 4 /* COIL__POOL_THREADS: runtime/inbox.c's offload threads */

/*
 * Jobs that hold every offload thread until released, so that a lookup
 * queued behind them waits: a resolver that does not answer. Should a test
 * fail before releasing them, each lets its thread go after 2 s anyway.
 */
struct busy_pool {
	sem_t go;
	atomic_int started;
	struct coil_task *t[POOL];
};

static void *hold_thread(void *arg)
{
	struct busy_pool *b = arg;
	struct timespec until;

	atomic_fetch_add(&b->started, 1);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 2;
	while (sem_timedwait(&b->go, &until) && errno == EINTR)
		;
	return NULL;
}

static void *holder(void *arg)
{
	return PTR(coil_offload(hold_thread, arg, NULL));
}

static void busy_pool_start(struct busy_pool *b)
{
	uint64_t until = coil_now() + 3 * COIL_NSEC_PER_SEC;
	int i;

	assert_int_equal(sem_init(&b->go, 0, 0), 0);
	atomic_init(&b->started, 0);
	for (i = 0; i < POOL; i++)
		assert_int_equal(coil_spawn(&b->t[i], holder, b), 0);
	while (atomic_load(&b->started) < POOL && coil_now() < until)
		coil_sleep(MS(1));
	assert_int_equal(atomic_load(&b->started), POOL);
}

static void busy_pool_release(struct busy_pool *b)
{
	void *ret;
	int i;

	for (i = 0; i < POOL; i++)
		sem_post(&b->go);
	for (i = 0; i < POOL; i++) {
		assert_int_equal(coil_join(b->t[i], &ret), 0);
		assert_int_equal(INT(ret), 0);
	}
	sem_destroy(&b->go);
}

/*
 * A caller that gives up on a lookup takes its job out of the offload
 * queue: the job used to stay queued (and its task alive) until a thread
 * came free, so under a slow resolver stale lookups piled up in the pool
 * and delayed every later one.
 */
static void *resolve_localhost(void *arg)
{
	struct addrinfo *ai = NULL;

	*(int *)arg = coil_resolve("localhost", "80", AF_UNSPEC, SOCK_STREAM,
				   &ai);
	if (ai)
		freeaddrinfo(ai);
	return NULL;
}

static void *body_abandoned_lookup(void *arg)
{
	struct coil_stats before, after;
	struct busy_pool b;
	struct coil_task *t;
	int ret = 1;

	(void)arg;
	busy_pool_start(&b);
	assert_int_equal(coil_stats_get(&before), 0);
	assert_int_equal(coil_spawn(&t, resolve_localhost, &ret), 0);
	coil_sleep(MS(10)); /* its lookup is queued behind the holders */
	assert_int_equal(coil_cancel(t), 0);
	assert_int_equal(coil_join(t, NULL), -ECANCELED);
	assert_int_equal(ret, -ECANCELED);
	coil_sleep(MS(10)); /* the lookup task's turn to see it dropped */
	assert_int_equal(coil_stats_get(&after), 0);
	busy_pool_release(&b);
	/* The lookup task is gone while every thread is still busy. */
	assert_int_equal(after.tasks_live, before.tasks_live);
	return NULL;
}

static void test_resolve_abandoned_lookup_leaves_the_offload_queue(
	void **state)
{
	(void)state;
	test_run(body_abandoned_lookup, NULL);
}

/*
 * A name's resolution counts against coil_tcp_connect()'s @timeout_ns: a
 * resolver that does not answer (here: no offload thread free to ask it)
 * used to hold the call for as long as the resolver liked.
 */
static void *body_connect_name_timeout(void *arg)
{
	struct coil_listener *l = listen_on("127.0.0.1", NULL);
	struct busy_pool b;
	uint64_t start;
	int64_t took;
	int fd;

	(void)arg;
	busy_pool_start(&b);
	start = coil_now();
	fd = coil_tcp_connect("localhost", (uint16_t)coil_listener_port(l),
			      MS(100));
	took = test_elapsed_ns(start);
	busy_pool_release(&b);
	if (fd >= 0)
		coil_close(fd);
	assert_int_equal(fd, -ETIMEDOUT);
	assert_true(took >= MS(90));
	assert_true(took < MS(500));
	assert_int_equal(coil_listener_close(l), 0);
	return NULL;
}

static void test_tcp_connect_by_name_timeout_bounds_resolution(void **state)
{
	(void)state;
	test_run(body_connect_name_timeout, NULL);
}

/* ------------------------------------------------------ coil_resolve */

struct resolve_case {
	const char *host, *service;
	int family;
	int ret;            /* coil_resolve()'s */
	int n;              /* addresses in the list */
	int loopback;       /* of them, loopback ones */
	int port;           /* of the first, -1 when none */
};

static void *body_resolve(void *arg)
{
	struct resolve_case *rc = arg;
	struct addrinfo *list = NULL, *ai;

	rc->port = -1;
	rc->ret = coil_resolve(rc->host, rc->service, rc->family, SOCK_STREAM,
			       &list);
	for (ai = list; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET) {
			struct sockaddr_in *in = (void *)ai->ai_addr;

			rc->loopback += ntohl(in->sin_addr.s_addr) >> 24 == 127;
			if (rc->port < 0)
				rc->port = ntohs(in->sin_port);
		} else if (ai->ai_family == AF_INET6) {
			struct sockaddr_in6 *in6 = (void *)ai->ai_addr;

			rc->loopback += IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
			if (rc->port < 0)
				rc->port = ntohs(in6->sin6_port);
		}
		rc->n++;
	}
	if (list)
		freeaddrinfo(list);
	return NULL;
}

/* No host is getaddrinfo()'s no host: the loopback addresses, not "::". */
static void test_resolve_no_host_is_loopback(void **state)
{
	struct resolve_case rc = { NULL, "80", AF_UNSPEC, 0, 0, 0, 0 };

	(void)state;
	test_run(body_resolve, &rc);
	assert_int_equal(rc.ret, 0);
	assert_true(rc.n > 0);
	assert_int_equal(rc.loopback, rc.n);
	assert_int_equal(rc.port, 80);
}

static void test_resolve_no_host_no_service_is_enoname(void **state)
{
	struct resolve_case rc = { NULL, NULL, AF_UNSPEC, 0, 0, 0, 0 };

	(void)state;
	test_run(body_resolve, &rc);
	assert_int_equal(rc.ret, -COIL_ENONAME);
	assert_int_equal(rc.n, 0);
}

static void test_resolve_bracketed_ipv6_literal(void **state)
{
	struct resolve_case rc = { "[::1]", "8080", AF_INET6, 0, 0, 0, 0 };

	(void)state;
	test_run(body_resolve, &rc);
	assert_int_equal(rc.ret, 0);
	assert_int_equal(rc.n, 1);
	assert_int_equal(rc.loopback, 1);
	assert_int_equal(rc.port, 8080);
}

/* A bracketed literal with a service name: the lookup gets no brackets. */
static void test_resolve_bracketed_literal_with_service_name(void **state)
{
	struct resolve_case rc = { "[::1]", "http", AF_INET6, 0, 0, 0, 0 };

	(void)state;
	if (!getservbyname("http", "tcp"))
		skip(); /* no /etc/services */
	test_run(body_resolve, &rc);
	assert_int_equal(rc.ret, 0);
	assert_int_equal(rc.loopback, rc.n);
	assert_int_equal(rc.port, 80);
}

static void *body_resolve_bad_arguments(void *arg)
{
	struct addrinfo *list = NULL;

	(void)arg;
	assert_int_equal(coil_resolve("127.0.0.1", "80", AF_UNIX, SOCK_STREAM,
				      &list), -EINVAL);
	assert_int_equal(coil_resolve("127.0.0.1", "80", AF_INET, SOCK_STREAM,
				      NULL), -EINVAL);
	assert_null(list);
	return NULL;
}

static void test_resolve_bad_arguments_are_einval(void **state)
{
	(void)state;
	test_run(body_resolve_bad_arguments, NULL);
}

/*
 * "[]" is no address: it must fail as a bad name, not be taken for "::"
 * (which connects to this host) - a listener on "::" proves where it went.
 */
static void *body_empty_brackets(void *arg)
{
	struct coil_listener *l = listen_on("::", NULL);
	int fd = coil_tcp_connect("[]", (uint16_t)coil_listener_port(l),
				  MS(1000));

	(void)arg;
	if (fd >= 0)
		coil_close(fd);
	coil_listener_close(l);
	return PTR(fd);
}

static void test_tcp_connect_empty_brackets_is_not_this_host(void **state)
{
	(void)state;
	assert_int_equal(INT(test_run(body_empty_brackets, NULL)),
			 -COIL_ENONAME);
}

/*
 * Brackets are stripped once, and only around a numeric address: "[[::1]]"
 * is no address, and "[localhost]" is no name (coil_resolve() says so), so
 * neither may reach the listener on this host.
 */
static void *body_bad_brackets(void *arg)
{
	static const char *const hosts[] = { "[[::1]]", "[localhost]" };
	struct coil_listener *l = listen_on("::", NULL);
	uint16_t port = (uint16_t)coil_listener_port(l);
	struct addrinfo *list = NULL;
	int *ret = arg, fd;
	size_t i;

	for (i = 0; i < 2; i++) {
		fd = coil_tcp_connect(hosts[i], port, MS(1000));
		if (fd >= 0)
			coil_close(fd);
		ret[2 * i] = fd;
		ret[2 * i + 1] = coil_resolve(hosts[i], "80", AF_UNSPEC,
					      SOCK_STREAM, &list);
		if (list)
			freeaddrinfo(list);
		list = NULL;
	}
	coil_listener_close(l);
	return NULL;
}

static void test_tcp_connect_bad_brackets_are_no_name(void **state)
{
	int ret[4];

	(void)state;
	test_run(body_bad_brackets, ret);
	assert_int_equal(ret[0], -COIL_ENONAME); /* connect "[[::1]]" */
	assert_int_equal(ret[1], -COIL_ENONAME); /* resolve "[[::1]]" */
	assert_int_equal(ret[2], -COIL_ENONAME); /* connect "[localhost]" */
	assert_int_equal(ret[3], -COIL_ENONAME); /* resolve "[localhost]" */
}

/* ------------------------------------- connect past a refused address */

/* The cgroup v2 mount point from /proc/self/mounts, or NULL. */
static const char *cgroup2_root(char *buf, size_t size)
{
	char dev[64], dir[256], type[32];
	const char *found = NULL;
	FILE *f = fopen("/proc/self/mounts", "r");

	if (!f)
		return NULL;
	while (fscanf(f, "%63s %255s %31s %*[^\n]", dev, dir, type) == 3) {
		if (strcmp(type, "cgroup2") == 0) {
			snprintf(buf, size, "%s", dir);
			found = buf;
			break;
		}
	}
	fclose(f);
	return found;
}

/*
 * Put this process in a new cgroup @dir whose BPF program refuses every
 * IPv6 TCP connect with EPERM (a cgroup connect hook: the way a container
 * or a per-family firewall says no). UDP stays allowed: glibc sorts the
 * addresses it resolves by connecting a UDP socket to each, and would put
 * a refused ::1 last. Returns 0 or -1 where it cannot be done.
 */
static int refuse_ipv6_connects(const char *dir)
{
	/* r0 = ctx->type == SOCK_STREAM ? 0 (refuse) : 1 (allow) */
	struct bpf_insn deny[] = {
		{ .code = BPF_LDX | BPF_W | BPF_MEM, .dst_reg = 2, .src_reg = 1,
		  .off = offsetof(struct bpf_sock_addr, type) },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
		{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = 2, .off = 1,
		  .imm = SOCK_STREAM },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	union bpf_attr a;
	char procs[512];
	int fd, prog, cg;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	fd = open(procs, O_WRONLY);
	if (fd < 0 || dprintf(fd, "%d\n", (int)getpid()) < 0)
		return -1;
	close(fd);
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
	a.expected_attach_type = BPF_CGROUP_INET6_CONNECT;
	a.insns = (uintptr_t)deny;
	a.insn_cnt = sizeof(deny) / sizeof(deny[0]);
	a.license = (uintptr_t)"GPL";
	prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof(a));
	cg = open(dir, O_RDONLY | O_DIRECTORY);
	if (prog < 0 || cg < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.target_fd = (unsigned)cg;
	a.attach_bpf_fd = (unsigned)prog;
	a.attach_type = BPF_CGROUP_INET6_CONNECT;
	return syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof(a)) ? -1 : 0;
}

#define DUAL_NAME "coil-dual.test"

/*
 * Give this process its own /etc/hosts in which DUAL_NAME is ::1 and
 * 127.0.0.1 (a private mount namespace, the file bind-mounted over the
 * real one). Returns 0 or -1 where it cannot be done.
 */
static int hosts_with_dual_name(void)
{
	char path[64];
	FILE *f;

	if (unshare(CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return -1;
	snprintf(path, sizeof(path), "/tmp/coil-hosts-%d", (int)getpid());
	f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, "::1 " DUAL_NAME "\n127.0.0.1 " DUAL_NAME "\n");
	if (fclose(f) || mount(path, "/etc/hosts", NULL, MS_BIND, NULL)) {
		unlink(path);
		return -1;
	}
	unlink(path); /* the bind mount keeps it */
	return 0;
}

enum { REFUSED_OK = 0, REFUSED_SKIP = 77, REFUSED_V4_FIRST = 78,
       REFUSED_NO_EPERM = 79, REFUSED_FAILED = 1 };

static void *body_connect_past_refused(void *arg)
{
	struct coil_listener *l = NULL;
	struct addrinfo *list = NULL;
	int *status = arg, fd, err;

	/* The name must list ::1 before 127.0.0.1, or this proves nothing. */
	err = coil_resolve(DUAL_NAME, "80", AF_UNSPEC, SOCK_STREAM, &list);
	if (err || list->ai_family != AF_INET6) {
		*status = REFUSED_V4_FIRST;
		goto out;
	}
	fd = coil_tcp_connect("::1", 9, MS(1000));
	if (fd != -EPERM) {
		fprintf(stderr, "connect to ::1 gave %d, not -EPERM\n", fd);
		*status = REFUSED_NO_EPERM;
		goto out;
	}
	/* Only on IPv4: ::1 is refused by the hook, 127.0.0.1 accepts. */
	if (coil_tcp_listen("127.0.0.1", 0, NULL, &l) != 0) {
		*status = REFUSED_FAILED;
		goto out;
	}
	fd = coil_tcp_connect(DUAL_NAME, (uint16_t)coil_listener_port(l),
			      MS(2000));
	if (fd < 0)
		fprintf(stderr, "connect to " DUAL_NAME " gave %d\n", fd);
	*status = fd >= 0 ? REFUSED_OK : REFUSED_FAILED;
	if (fd >= 0)
		coil_close(fd);
	coil_listener_close(l);
out:
	if (list)
		freeaddrinfo(list);
	return NULL;
}

/*
 * An address refused with EPERM (a cgroup hook, a firewall for one
 * family) is no reason to give up: the next address may well connect.
 */
static void test_tcp_connect_tries_next_address_after_eperm(void **state)
{
	char root[256], dir[320];
	int status, child_status = REFUSED_FAILED;
	pid_t pid;

	(void)state;
	if (geteuid() != 0 || test_under_valgrind() ||
	    !cgroup2_root(root, sizeof(root)))
		TEST_SKIP("needs root and cgroup v2 (and no Valgrind: bpf)");
	snprintf(dir, sizeof(dir), "%s/coil-test-%d", root, (int)getpid());
	test_skip_if_thread_bound();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (hosts_with_dual_name() || refuse_ipv6_connects(dir))
			_exit(REFUSED_SKIP);
		if (coil_run(body_connect_past_refused, &child_status, NULL))
			_exit(REFUSED_FAILED);
		_exit(child_status);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	rmdir(dir); /* empty now that the child is gone; drops the hook */
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == REFUSED_SKIP)
		TEST_SKIP("cannot make a private /etc/hosts or attach a "
			  "cgroup connect hook here");
	if (WEXITSTATUS(status) == REFUSED_V4_FIRST)
		TEST_SKIP(DUAL_NAME " does not resolve to ::1 first here");
	assert_int_equal(WEXITSTATUS(status), REFUSED_OK);
}

/*
 * A listener with a full accept queue drops further SYNs, so the next
 * connect hangs in SYN_SENT: the per-attempt linked timeout must end it.
 */
static void *body_connect_timeout(void *arg)
{
	struct coil_listen_opts o = { .backlog = 1 };
	struct coil_listener *l = listen_on("127.0.0.1", &o);
	uint16_t port = (uint16_t)coil_listener_port(l);
	int fds[8], n = 0, fd = 0, i;
	uint64_t start;

	(void)arg;
	/* Fill the queue (backlog + 1 on Linux) and then some. */
	for (i = 0; i < 8 && fd >= 0; i++) {
		start = coil_now();
		fd = coil_tcp_connect("127.0.0.1", port, MS(200));
		if (fd >= 0)
			fds[n++] = fd;
	}
	assert_int_equal(fd, -ETIMEDOUT);
	assert_true(test_elapsed_ns(start) >= MS(150));
	assert_true(test_elapsed_ns(start) < MS(2000));
	while (n)
		close(fds[--n]);
	coil_listener_close(l);
	return NULL;
}

static void test_tcp_connect_times_out_with_linked_timeout(void **state)
{
	(void)state;
	test_run(body_connect_timeout, NULL);
}

/* ------------------------------------------------------------ accept */

static void *body_accept_timeout(void *arg)
{
	struct coil_listener *l = listen_on("127.0.0.1", NULL);
	uint64_t start = coil_now();

	(void)arg;
	assert_int_equal(coil_listener_accept(l, NULL, NULL, MS(50)),
			 -ETIMEDOUT);
	assert_true(test_elapsed_ns(start) >= MS(45));
	assert_int_equal(coil_listener_close(l), 0);
	return NULL;
}

static void test_tcp_accept_times_out(void **state)
{
	(void)state;
	test_run(body_accept_timeout, NULL);
}

static void *acceptor(void *arg)
{
	return PTR(coil_listener_accept(arg, NULL, NULL, -1));
}

static void *body_close_wakes(void *arg)
{
	struct coil_listener *l = listen_on("127.0.0.1", NULL);
	struct coil_task *t;
	void *res;

	(void)arg;
	assert_int_equal(coil_spawn(&t, acceptor, l), 0);
	coil_sleep(MS(10)); /* it is waiting in accept now */
	assert_int_equal(coil_listener_close(l), 0);
	assert_int_equal(coil_join(t, &res), 0);
	assert_int_equal(INT(res), -EBADF);
	return NULL;
}

static void test_tcp_listener_close_wakes_acceptor_with_ebadf(void **state)
{
	(void)state;
	test_run(body_close_wakes, NULL);
}

/*
 * Connections that arrive with no task accepting pile up in the
 * listener's queue; past 64 it cancels the multishot accept (the kernel's
 * backlog holds the rest). Accepting them all needs the accept re-armed.
 */
#define BURST 100

static void *body_rearm(void *arg)
{
	struct coil_listener *l = listen_on("127.0.0.1", NULL);
	uint16_t port = (uint16_t)coil_listener_port(l);
	struct coil_listener_stats st;
	int cfds[BURST], fd, i;

	(void)arg;
	/* Arm the accept with one connection, then flood it. */
	assert_int_equal(coil_listener_accept(l, NULL, NULL, 0) , -ETIMEDOUT);
	for (i = 0; i < BURST; i++) {
		cfds[i] = coil_tcp_connect("127.0.0.1", port, MS(2000));
		assert_true(cfds[i] >= 0);
	}
	coil_sleep(MS(20)); /* let the multishot accept take what it can */
	for (i = 0; i < BURST; i++) {
		fd = coil_listener_accept(l, NULL, NULL, MS(2000));
		assert_true(fd >= 0);
		close(fd);
		close(cfds[i]);
	}
	coil_listener_stats(l, &st);
	assert_true(st.multishot);
	assert_int_equal(st.accepted, BURST);
	assert_true(st.arms >= 2); /* re-armed after the pause */
	coil_listener_close(l);
	return NULL;
}

static void test_tcp_multishot_accept_rearms_after_it_ends(void **state)
{
	(void)state;
	test_run(body_rearm, NULL);
}

/* ------------------------------------------------------- EMFILE flood */

#define FLOOD 60

/*
 * In a child process (its own descriptor limit): open FLOOD connections
 * at once, then expect each to echo one byte. Exit status 0 = all did.
 */
static int flood_client(uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	int fds[FLOOD], i, bad = 0;
	char b;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < FLOOD; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 ||
		    connect(fds[i], (struct sockaddr *)&sin, sizeof(sin)) < 0)
			return 1;
	}
	for (i = 0; i < FLOOD; i++) {
		b = (char)i;
		if (write(fds[i], &b, 1) != 1 || read(fds[i], &b, 1) != 1 ||
		    b != (char)i)
			bad++;
	}
	return bad ? 2 : 0;
}

struct flood {
	struct coil_listener *l;
	int served;
};

static void *flood_server(void *arg)
{
	struct flood *f = arg;
	struct coil_task *t;
	int fd;

	while (f->served < FLOOD &&
	       (fd = coil_listener_accept(f->l, NULL, NULL, MS(10000))) >= 0) {
		if (coil_spawn(&t, echo_once, PTR(fd)) < 0) {
			close(fd);
			continue;
		}
		coil_detach(t);
		f->served++;
	}
	return NULL;
}

static void *body_emfile(void *arg)
{
	struct flood f = { .l = listen_on("127.0.0.1", NULL) };
	struct coil_listener_stats st;
	struct rlimit old, low;
	int status = -1;
	pid_t pid;

	(void)arg;
	pid = fork();
	if (pid == 0)
		_exit(flood_client((uint16_t)coil_listener_port(f.l)));
	assert_true(pid > 0);
	/* Room for a handful of connections only: accept hits EMFILE. */
	getrlimit(RLIMIT_NOFILE, &old);
	low = old;
	low.rlim_cur = (rlim_t)test_count_fds() + 4;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	flood_server(&f);
	coil_sleep(MS(50)); /* the last echo tasks finish */
	setrlimit(RLIMIT_NOFILE, &old);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(f.served, FLOOD);
	coil_listener_stats(f.l, &st);
	assert_true(st.backoffs > 0);
	coil_listener_close(f.l);
	return NULL;
}

static void test_tcp_accept_recovers_from_emfile_flood(void **state)
{
	(void)state;
	if (test_under_valgrind())
		TEST_SKIP("Valgrind virtualizes RLIMIT_NOFILE");
	test_run(body_emfile, NULL);
}

/*
 * Acceptors pausing after EMFILE are not in an armed accept: closing the
 * listener must still reach them (-EBADF) before the listener is freed.
 */
static void *body_close_in_backoff(void *arg)
{
	struct coil_listener *l = listen_on("127.0.0.1", NULL);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct coil_listener_stats st;
	struct rlimit old, none;
	struct coil_task *t[2];
	void *res[2];
	int cfd[4], i;
	uint64_t start;

	(void)arg;
	sin.sin_port = htons((uint16_t)coil_listener_port(l));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (i = 0; i < 4; i++) { /* queued connections to accept */
		cfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_equal(connect(cfd[i], (struct sockaddr *)&sin,
					 sizeof(sin)), 0);
	}
	getrlimit(RLIMIT_NOFILE, &old);
	none = old;
	/* No descriptor left (the count includes the one reading /proc). */
	none.rlim_cur = (rlim_t)test_count_fds() - 1;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &none), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(coil_spawn(&t[i], acceptor, l), 0);
	coil_sleep(MS(30)); /* both are backing off now */
	coil_listener_stats(l, &st);
	assert_true(st.backoffs > 0);
	start = coil_now();
	assert_int_equal(coil_listener_close(l), 0);
	assert_int_equal(coil_gather(t, 2, res, NULL), 0);
	assert_int_equal(INT(res[0]), -EBADF);
	assert_int_equal(INT(res[1]), -EBADF);
	assert_true(test_elapsed_ns(start) < MS(500));
	setrlimit(RLIMIT_NOFILE, &old);
	for (i = 0; i < 4; i++)
		close(cfd[i]);
	return NULL;
}

static void test_tcp_listener_close_reaches_acceptors_backing_off(void **state)
{
	(void)state;
	if (test_under_valgrind())
		TEST_SKIP("Valgrind virtualizes RLIMIT_NOFILE");
	test_run(body_close_in_backoff, NULL);
}

/* ------------------------------------------------ 10,000 connections */

/*
 * 10,000 connections open at once. The clients run in a child process
 * with its own runtime: 20,000 descriptors in one process would exceed the
 * hard RLIMIT_NOFILE of many containers (20,000 here).
 */
#define MANY 10000

struct many {
	uint16_t port;
	int connected, echoed, failed;
	struct coil_event *all_in;   /* every client holds its connection */
};

static void *many_client(void *arg)
{
	struct many *m = arg;
	char buf[4] = { 0 };
	int fd = coil_tcp_connect("127.0.0.1", m->port, MS(20000));

	if (fd < 0) {
		if (!m->failed++)
			fprintf(stderr, "connect: %s\n", coil_strerror(fd));
	} else if (coil_send_all(fd, "ping", 4, NULL, -1) == 4 &&
		   coil_recv(fd, buf, 4, MSG_WAITALL) == 4 &&
		   !memcmp(buf, "ping", 4)) {
		m->echoed++;
	} else {
		m->failed++;
	}
	/* Hold the connection until every client has answered. */
	if (++m->connected == MANY)
		coil_event_set(m->all_in);
	coil_event_wait(m->all_in);
	if (fd >= 0)
		coil_close(fd);
	return NULL;
}

static void *many_clients_main(void *arg)
{
	struct many *m = arg;
	struct coil_spawn_opts so = { .stack_size = 16384 };
	struct coil_task **cl = calloc(MANY, sizeof(*cl));
	int i;

	if (!cl || coil_event_create(&m->all_in) < 0)
		return PTR(1);
	for (i = 0; i < MANY; i++)
		if (coil_spawn_opts(&cl[i], &so, many_client, m) < 0)
			return PTR(2);
	coil_gather(cl, MANY, NULL, NULL);
	coil_event_destroy(m->all_in);
	free(cl);
	if (m->echoed != MANY || m->failed)
		fprintf(stderr, "clients: %d echoed, %d failed\n", m->echoed,
			m->failed);
	return PTR(m->echoed == MANY && !m->failed ? 0 : 3);
}

struct many_srv {
	int port_pipe;            /* where the child learns the port */
	unsigned live, peak, accepted;
	struct coil_event *done;  /* set when the last connection ends */
};

/* Echo until the client closes. */
static void *many_conn(void *arg)
{
	struct many_srv *s = *(struct many_srv **)arg;
	int fd = ((int *)arg)[2];
	char buf[8];
	ssize_t n;

	free(arg);
	if (++s->live > s->peak)
		s->peak = s->live;
	while ((n = coil_recv(fd, buf, sizeof(buf), 0)) > 0)
		coil_send_all(fd, buf, (size_t)n, NULL, -1);
	coil_close(fd);
	if (--s->live == 0 && s->accepted == MANY)
		coil_event_set(s->done);
	return NULL;
}

static void *body_many(void *arg)
{
	struct many_srv *s = arg;
	struct coil_spawn_opts so = { .stack_size = 16384 };
	struct coil_listener *l = listen_on("127.0.0.1", NULL);
	uint16_t port = (uint16_t)coil_listener_port(l);
	struct coil_task *t;
	void **a;
	int fd;

	assert_int_equal(coil_event_create(&s->done), 0);
	assert_int_equal(write(s->port_pipe, &port, sizeof(port)),
			 sizeof(port));
	while (s->accepted < MANY) {
		fd = coil_listener_accept(l, NULL, NULL, MS(30000));
		if (fd < 0)
			print_message("accept: %s after %u\n", coil_strerror(fd),
				      s->accepted);
		assert_true(fd >= 0);
		a = malloc(2 * sizeof(void *));
		a[0] = s;
		((int *)a)[2] = fd;
		assert_int_equal(coil_spawn_opts(&t, &so, many_conn, a), 0);
		coil_detach(t);
		s->accepted++;
	}
	assert_int_equal(coil_event_wait_timeout(s->done, MS(30000)), 0);
	coil_event_destroy(s->done);
	coil_listener_close(l);
	return NULL;
}

static void test_tcp_ten_thousand_concurrent_connections(void **state)
{
	struct many_srv s = { 0 };
	struct many m = { 0 };
	struct rlimit rl;
	int p[2], status = -1;
	void *res = PTR(1);
	pid_t pid;

	(void)state;
	if (test_under_valgrind())
		TEST_SKIP("Valgrind virtualizes RLIMIT_NOFILE");
	test_skip_if_thread_bound();
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max < MANY + 200)
		TEST_SKIP("hard RLIMIT_NOFILE is below 10,200");
	rl.rlim_cur = rl.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		if (read(p[0], &m.port, sizeof(m.port)) != sizeof(m.port))
			_exit(4);
		if (coil_run(many_clients_main, &m, &res) < 0)
			_exit(5);
		_exit(INT(res));
	}
	assert_true(pid > 0);
	close(p[0]);
	s.port_pipe = p[1];
	test_run(body_many, &s);
	close(p[1]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(s.accepted, MANY);
	assert_int_equal(s.peak, MANY); /* all open at the same time */
}

/* ---------------------------------------------------------- addresses */

static void test_addr_parse_and_format_round_trip(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[64];

	(void)state;
	assert_int_equal(coil_addr_parse("127.0.0.1", 80, &ss, &len), 0);
	assert_int_equal(coil_addr_format((struct sockaddr *)&ss, len, buf,
					  sizeof(buf)), 12);
	assert_string_equal(buf, "127.0.0.1:80");
	assert_int_equal(coil_addr_parse("[::1]", 8080, &ss, &len), 0);
	coil_addr_format((struct sockaddr *)&ss, len, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:8080");
	assert_int_equal(coil_addr_parse("localhost", 80, &ss, &len),
			 -EINVAL); /* names are not numeric */
	assert_int_equal(coil_addr_parse("[[::1]]", 80, &ss, &len),
			 -EINVAL); /* brackets come off once */
	assert_int_equal(coil_addr_parse("[]", 80, &ss, &len), -EINVAL);
	assert_int_equal(coil_addr_parse("", 80, &ss, &len), 0); /* "::" */
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(coil_addr_format((struct sockaddr *)&ss, len, buf, 4),
			 -ENOSPC);
}

/*
 * An abstract name ('@' + the name) may fill all of sun_path: it is not
 * NUL-terminated, so '@' + 107 bytes fits (it used to be -ENAMETOOLONG);
 * one more does not. A path needs its NUL inside sun_path: 107 bytes at
 * most.
 */
static void *body_unix_name_limits(void *arg)
{
	struct sockaddr_un sun;
	struct sockaddr_storage ss;
	struct coil_listener *l;
	char name[sizeof(sun.sun_path) + 2], buf[sizeof(name) + 8];
	socklen_t len;
	int n, fd, afd;

	(void)arg;
	/* '@' + 107: exactly sun_path. */
	n = snprintf(name, sizeof(name), "@coil-test-%d-", (int)getpid());
	memset(name + n, 'x', sizeof(sun.sun_path) - (size_t)n);
	name[sizeof(sun.sun_path)] = '\0';
	assert_int_equal(coil_unix_listen(name, NULL, &l), 0);
	fd = coil_unix_connect(name, MS(2000));
	assert_true(fd >= 0);
	afd = coil_listener_accept(l, NULL, NULL, MS(2000));
	assert_true(afd >= 0);
	assert_int_equal(coil_listener_addr(l, &ss, &len), 0);
	assert_int_equal(coil_addr_format((struct sockaddr *)&ss, len, buf,
					  sizeof(buf)),
			 (int)sizeof(sun.sun_path));
	assert_string_equal(buf, name);
	coil_close(afd);
	coil_close(fd);
	assert_int_equal(coil_listener_close(l), 0);
	/* '@' + 108: one byte too many. */
	strcat(name, "x");
	assert_int_equal(coil_unix_listen(name, NULL, &l), -ENAMETOOLONG);
	assert_int_equal(coil_unix_connect(name, MS(2000)), -ENAMETOOLONG);

	/* A path of 107 bytes (its NUL is the 108th) fits; 108 does not. */
	n = snprintf(name, sizeof(name), "/tmp/coil-test-%d-", (int)getpid());
	memset(name + n, 'x', sizeof(sun.sun_path) - 1 - (size_t)n);
	name[sizeof(sun.sun_path) - 1] = '\0';
	assert_int_equal(coil_unix_listen(name, NULL, &l), 0);
	assert_int_equal(coil_listener_close(l), 0); /* and unlinks it */
	strcat(name, "x");
	assert_int_equal(coil_unix_listen(name, NULL, &l), -ENAMETOOLONG);
	assert_int_equal(coil_unix_connect(name, MS(2000)), -ENAMETOOLONG);
	return NULL;
}

static void test_unix_abstract_name_may_fill_sun_path(void **state)
{
	(void)state;
	test_run(body_unix_name_limits, NULL);
}

/*
 * Make the calling thread's system call @nr fail with EPERM from now on
 * (a seccomp filter). Returns 0, or -1 where seccomp is not available.
 */
static int forbid_syscall(long nr)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {
		.len = sizeof(filter) / sizeof(filter[0]),
		.filter = filter,
	};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* Exit codes of the forked children below. */
enum { CHILD_OK = 0, CHILD_FAILED = 1, CHILD_SKIP = 77 };

/*
 * Run @body(@status) as the main task of a forked child whose thread was
 * first passed to @setup (nonzero: skip). Returns the child's exit code:
 * what @body left in *@status, CHILD_FAILED if the run failed, CHILD_SKIP.
 */
static int run_child(int (*setup)(void), coil_fn body, int *status)
{
	pid_t pid;
	int ws;

	test_skip_if_thread_bound();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setup && setup())
			_exit(CHILD_SKIP);
		if (coil_run(body, status, NULL))
			_exit(CHILD_FAILED);
		_exit(*status);
	}
	if (waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws))
		return CHILD_FAILED;
	return WEXITSTATUS(ws);
}

/*
 * A Unix listener whose listen() fails after its bind() made the socket
 * file removes that file (it used to stay on disk, and the next listen at
 * the path got -EADDRINUSE); a file it did not make stays.
 */
static char unix_fail_path[64];

static int forbid_listen(void)
{
	return forbid_syscall(__NR_listen);
}

static void *body_listen_fails_after_bind(void *arg)
{
	struct coil_listener *l = NULL;
	int *status = arg, err, fd;

	*status = CHILD_FAILED;
	err = coil_unix_listen(unix_fail_path, NULL, &l);
	if (err != -EPERM) {
		fprintf(stderr, "coil_unix_listen gave %d, not -EPERM\n", err);
		return NULL;
	}
	if (access(unix_fail_path, F_OK) == 0 || errno != ENOENT) {
		fprintf(stderr, "%s was left behind\n", unix_fail_path);
		return NULL;
	}
	/* A file already there is not this call's to remove. */
	fd = open(unix_fail_path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return NULL;
	close(fd);
	err = coil_unix_listen(unix_fail_path, NULL, &l);
	if (err != -EADDRINUSE || access(unix_fail_path, F_OK) != 0) {
		fprintf(stderr, "over a file: %d, or the file is gone\n", err);
		return NULL;
	}
	*status = CHILD_OK;
	return NULL;
}

static void test_unix_listen_failing_after_bind_unlinks_its_file(
	void **state)
{
	int status = CHILD_FAILED, code;

	(void)state;
	snprintf(unix_fail_path, sizeof(unix_fail_path),
		 "/tmp/coil-test-listen-%d.sock", (int)getpid());
	unlink(unix_fail_path);
	code = run_child(forbid_listen, body_listen_fails_after_bind, &status);
	unlink(unix_fail_path); /* what a failure left */
	if (code == CHILD_SKIP)
		TEST_SKIP("seccomp filters are not available");
	assert_int_equal(code, CHILD_OK);
}

/*
 * Main returns with a listener still open and its accept armed in the
 * kernel: no task is left to wait for it, so coil_run() returns at once
 * (it used to block in io_uring_enter until a connection came), and the
 * listener is closed afterwards from outside any task.
 */
static void *leave_listener_armed(void *arg)
{
	struct coil_listener **l = arg;

	assert_int_equal(coil_tcp_listen("127.0.0.1", 0, NULL, l), 0);
	/* Arms the accept; nobody connects. */
	assert_int_equal(coil_listener_accept(*l, NULL, NULL, MS(5)),
			 -ETIMEDOUT);
	return NULL;
}

/*
 * A plain thread cannot tell whether the listener's runtime still runs:
 * its close is refused (-EBUSY), nothing is freed, and the accept armed in
 * the running ring stays valid (ASan would see a use after free).
 */
static void *close_from_thread(void *arg)
{
	return PTR(coil_listener_close(arg));
}

static void *body_close_from_other_thread(void *arg)
{
	struct coil_listener *l;
	pthread_t tid;
	void *ret;

	(void)arg;
	assert_int_equal(coil_tcp_listen("127.0.0.1", 0, NULL, &l), 0);
	assert_int_equal(coil_listener_accept(l, NULL, NULL, MS(5)),
			 -ETIMEDOUT);
	assert_int_equal(pthread_create(&tid, NULL, close_from_thread, l), 0);
	assert_int_equal(pthread_join(tid, &ret), 0);
	assert_int_equal(INT(ret), -EBUSY);
	assert_int_equal(coil_sleep(MS(5)), 0); /* the loop reaps as before */
	assert_int_equal(coil_listener_close(l), 0);
	return NULL;
}

static void test_tcp_listener_close_from_another_thread_is_ebusy(void **state)
{
	(void)state;
	test_run(body_close_from_other_thread, NULL);
}

/*
 * The refused close changes nothing: a task waiting in accept is not woken
 * (close used to wake it with -EBADF before it found it was on the wrong
 * thread, pushing onto the runtime's run queue from that thread) and then
 * accepts the next connection.
 */
struct waiting_acceptor {
	struct coil_listener *l;
	int fd;
	bool done;
};

static void *acceptor_noting(void *arg)
{
	struct waiting_acceptor *a = arg;

	a->fd = coil_listener_accept(a->l, NULL, NULL, MS(2000));
	a->done = true;
	return NULL;
}

static void *body_refused_close_keeps_acceptor(void *arg)
{
	struct waiting_acceptor a = { .l = listen_on("127.0.0.1", NULL) };
	struct coil_task *t;
	pthread_t tid;
	void *ret;
	int fd;

	(void)arg;
	assert_int_equal(coil_spawn(&t, acceptor_noting, &a), 0);
	coil_sleep(MS(10)); /* it is waiting in accept now */
	assert_int_equal(pthread_create(&tid, NULL, close_from_thread, a.l), 0);
	assert_int_equal(pthread_join(tid, &ret), 0);
	assert_int_equal(INT(ret), -EBUSY);
	coil_sleep(MS(10));
	assert_false(a.done);
	fd = coil_tcp_connect("127.0.0.1", (uint16_t)coil_listener_port(a.l),
			      MS(2000));
	assert_true(fd >= 0);
	assert_int_equal(coil_join(t, NULL), 0);
	assert_true(a.fd >= 0);
	coil_close(a.fd);
	coil_close(fd);
	assert_int_equal(coil_listener_close(a.l), 0);
	return NULL;
}

static void test_tcp_listener_close_refused_leaves_waiting_acceptor_waiting(
	void **state)
{
	(void)state;
	test_run(body_refused_close_keeps_acceptor, NULL);
}

static void test_tcp_run_ends_with_a_listener_left_armed(void **state)
{
	struct coil_listener *l = NULL;
	uint64_t start;
	int fds;

	(void)state;
	test_skip_if_thread_bound();
	fds = test_count_fds();
	start = coil_now();
	assert_int_equal(coil_run(leave_listener_armed, &l, NULL), 0);
	assert_true(test_elapsed_ns(start) < MS(1000));
	assert_int_equal(coil_listener_close(l), 0);
	assert_int_equal(test_count_fds(), fds);
}

/*
 * A listener left open by one run is closed by a task of a later run on
 * the same thread: its accept ended with the first ring, so the close frees
 * it at once (even if the new runtime happens to sit at the old one's
 * address: runtimes are told apart by serial, not pointer).
 */
static void *close_listener(void *arg)
{
	assert_int_equal(coil_listener_close(arg), 0);
	return NULL;
}

static void test_tcp_listener_of_an_ended_run_closes_in_a_later_run(
	void **state)
{
	struct coil_listener *l = NULL;
	int fds;

	(void)state;
	test_skip_if_thread_bound();
	fds = test_count_fds();
	assert_int_equal(coil_run(leave_listener_armed, &l, NULL), 0);
	assert_int_equal(coil_run(close_listener, l, NULL), 0);
	assert_int_equal(test_count_fds(), fds);
}

/*
 * Nor does a later run accept on it, even one whose runtime sits at the
 * ended one's address: accept used to compare pointers only, and armed the
 * old listener in the new ring. Runs first to fill glibc's per-size cache
 * of freed blocks (tcache, which calloc() does not draw from): from then
 * on a freed runtime's block goes where the next runtime's calloc() finds
 * it, and every run lands at the same address.
 */
static void *nothing(void *arg)
{
	return arg;
}

static void *accept_after_its_run(void *arg)
{
	assert_int_equal(coil_listener_accept(arg, NULL, NULL, MS(5)),
			 -EINVAL);
	return NULL;
}

static void test_tcp_listener_of_an_ended_run_refuses_accept_in_a_later_run(
	void **state)
{
	struct coil_listener *l = NULL;
	int fds, i;

	(void)state;
	test_skip_if_thread_bound();
	fds = test_count_fds();
	for (i = 0; i < 8; i++)
		assert_int_equal(coil_run(nothing, NULL, NULL), 0);
	assert_int_equal(coil_run(leave_listener_armed, &l, NULL), 0);
	for (i = 0; i < 2; i++)
		assert_int_equal(coil_run(accept_after_its_run, l, NULL), 0);
	assert_int_equal(coil_run(close_listener, l, NULL), 0);
	assert_int_equal(test_count_fds(), fds);
}

/*
 * An idle listener (nothing armed, nobody accepting) is no more another
 * thread's to close than a busy one: its runtime may still run and use it
 * (the close used to free it).
 */
static void *body_idle_close_from_other_thread(void *arg)
{
	struct coil_listener *l = listen_on("127.0.0.1", NULL);
	pthread_t tid;
	void *ret;
	int fd, afd;

	(void)arg;
	assert_int_equal(pthread_create(&tid, NULL, close_from_thread, l), 0);
	assert_int_equal(pthread_join(tid, &ret), 0);
	assert_int_equal(INT(ret), -EBUSY);
	/* Still whole: it accepts. */
	fd = coil_tcp_connect("127.0.0.1", (uint16_t)coil_listener_port(l),
			      MS(2000));
	assert_true(fd >= 0);
	afd = coil_listener_accept(l, NULL, NULL, MS(2000));
	assert_true(afd >= 0);
	coil_close(afd);
	coil_close(fd);
	assert_int_equal(coil_listener_close(l), 0);
	return NULL;
}

static void test_tcp_idle_listener_close_from_another_thread_is_ebusy(
	void **state)
{
	(void)state;
	test_run(body_idle_close_from_other_thread, NULL);
}

/*
 * A close that cannot submit its cancel (no SQE: here the SQ is full and
 * io_uring_enter refused, so the ring fails) returns that error having
 * changed nothing. It used to mark the listener closing and wake its
 * acceptor with -EBADF first, then report failure with the listener still
 * open. The child's task dump shows whether the acceptor still waits.
 */
static void *recv_forever(void *arg)
{
	char c;

	coil_recv(INT(arg), &c, 1, 0);
	return NULL;
}

static void *body_close_without_sqe(void *arg)
{
	struct coil_task *t, *r[64];
	struct coil_listener *l;
	struct coil_stats st;
	char dump[4096];
	unsigned i, n;
	int sv[2], p[2], err;
	ssize_t len;

	(void)arg;
	if (coil_tcp_listen("127.0.0.1", 0, NULL, &l) ||
	    coil_spawn(&t, acceptor, l) || pipe(p) ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) || coil_stats_get(&st) ||
	    st.sq_entries > 64)
		_exit(CHILD_FAILED);
	n = st.sq_entries;
	for (i = 0; i < n; i++)
		if (coil_spawn(&r[i], recv_forever, PTR(sv[0])))
			_exit(CHILD_FAILED);
	coil_sleep(MS(20)); /* the accept and the receives are submitted */
	if (forbid_syscall(__NR_io_uring_enter))
		_exit(CHILD_SKIP);
	for (i = 0; i < n; i++)
		coil_cancel(r[i]); /* a cancel SQE each: the SQ is full */
	err = coil_listener_close(l);
	if (coil_dump(p[1]) < 0)
		_exit(CHILD_FAILED);
	len = read(p[0], dump, sizeof(dump) - 1);
	dump[len > 0 ? len : 0] = '\0';
	if (err != -EPERM || !strstr(dump, ": waiting on accept")) {
		fprintf(stderr, "close gave %d (want -EPERM, the ring's "
			"error), and the acceptor must still wait:\n%s", err,
			dump);
		_exit(CHILD_FAILED);
	}
	_exit(CHILD_OK);
}

static void test_tcp_listener_close_without_sqe_changes_nothing(void **state)
{
	struct coil_options o;
	pid_t pid;
	int ws;

	(void)state;
	test_skip_if_thread_bound();
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		coil_options_init(&o);
		o.sq_entries = 4;
		o.log = coil_log_quiet;
		coil_run_opts(&o, body_close_without_sqe, NULL, NULL);
		_exit(CHILD_FAILED); /* the body exits */
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	if (WEXITSTATUS(ws) == CHILD_SKIP)
		TEST_SKIP("seccomp filters are not available");
	assert_int_equal(WEXITSTATUS(ws), CHILD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tcp_listen_dual_stack_accepts_ipv4_and_ipv6),
		cmocka_unit_test(test_tcp_accepted_socket_has_nodelay),
		cmocka_unit_test(test_tcp_connect_closed_port_is_refused),
		cmocka_unit_test(
			test_tcp_connect_empty_brackets_is_not_this_host),
		cmocka_unit_test(test_tcp_connect_by_name_localhost),
		cmocka_unit_test(test_tcp_connect_bad_brackets_are_no_name),
		cmocka_unit_test(test_resolve_no_host_is_loopback),
		cmocka_unit_test(test_resolve_no_host_no_service_is_enoname),
		cmocka_unit_test(test_resolve_bracketed_ipv6_literal),
		cmocka_unit_test(
			test_resolve_bracketed_literal_with_service_name),
		cmocka_unit_test(test_resolve_bad_arguments_are_einval),
		cmocka_unit_test(test_tcp_connect_unresolvable_name_is_enoname),
		cmocka_unit_test(test_tcp_connect_tries_next_address_after_eperm),
		cmocka_unit_test(test_tcp_connect_times_out_with_linked_timeout),
		cmocka_unit_test(test_tcp_accept_times_out),
		cmocka_unit_test(test_tcp_listener_close_wakes_acceptor_with_ebadf),
		cmocka_unit_test(test_tcp_multishot_accept_rearms_after_it_ends),
		cmocka_unit_test(test_tcp_accept_recovers_from_emfile_flood),
		cmocka_unit_test(test_tcp_listener_close_reaches_acceptors_backing_off),
		cmocka_unit_test(test_tcp_ten_thousand_concurrent_connections),
		cmocka_unit_test(test_addr_parse_and_format_round_trip),
		cmocka_unit_test(test_tcp_run_ends_with_a_listener_left_armed),
		cmocka_unit_test(test_tcp_listener_close_from_another_thread_is_ebusy),
		cmocka_unit_test(
			test_tcp_listener_close_refused_leaves_waiting_acceptor_waiting),
		cmocka_unit_test(test_tcp_listener_of_an_ended_run_closes_in_a_later_run),
		cmocka_unit_test(
			test_tcp_listener_of_an_ended_run_refuses_accept_in_a_later_run),
		cmocka_unit_test(
			test_tcp_idle_listener_close_from_another_thread_is_ebusy),
		cmocka_unit_test(
			test_tcp_listener_close_without_sqe_changes_nothing),
		cmocka_unit_test(test_unix_abstract_name_may_fill_sun_path),
		cmocka_unit_test(
			test_unix_listen_failing_after_bind_unlinks_its_file),
		cmocka_unit_test(
			test_resolve_abandoned_lookup_leaves_the_offload_queue),
		cmocka_unit_test(
			test_tcp_connect_by_name_timeout_bounds_resolution),
	};

	signal(SIGPIPE, SIG_DFL); /* a SIGPIPE anywhere must kill the test */
	test_require_io_uring();
	return cmocka_run_group_tests(tests, test_fd_setup, test_fd_teardown);
}
