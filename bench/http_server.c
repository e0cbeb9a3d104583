/* SPDX-License-Identifier: MIT */
/*
 * bench/http_server.c - the HTTP server scenario (issue #5): wrk against
 * examples/http_hello (coil) and against nginx (one worker, `return 200
 * "Hello, world!\n"`, access log off: bench/baselines/nginx.conf), each
 * server pinned to one CPU and wrk to another, 64 keep-alive connections.
 *
 *   http_server [--quick | --full] [--build DIR] [--reps N] [--secs S]
 *               [--conns C] [--no-syscalls]
 *
 * --quick: 2 reps of 3 s windows (~25 s); --full (default): 5 reps of 5 s.
 * Reps alternate coil, nginx, coil, nginx... Each rep starts the server,
 * warms it up for 1 s, then measures one wrk window: requests/s (wrk's),
 * latency p50/p99 (wrk --latency), the server's CPU time per request (user
 * + system of all its processes, /proc/PID/stat, around the window) and
 * wrk's own CPU use (saturated above 90 %: then wrk sets the pace, and
 * http_<C>c_per_core_vs_nginx, the requests per second of server CPU,
 * 1e6 / (us per request), is the figure that compares the servers).
 * Unless --no-syscalls, one more window per server counts its system
 * calls per request with `perf stat -e raw_syscalls:sys_enter -p PID`
 * (kept out of the timed windows: counting slows every system call).
 *
 * Both servers must send the same bytes per response: before the runs one
 * request to each measures its response size, and the program fails when
 * they differ (http_hello -n mimics nginx's fields; see bench/README.md).
 *
 * Missing wrk or nginx: says so and exits 0 without RESULT lines. Exit 1
 * when a server fails to start, wrk reports errors or non-2xx responses,
 * or the response sizes differ.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#ifndef BASELINES_DIR
#define BASELINES_DIR "bench/baselines"
#endif

#define PROG "http_server"
#define TARGET_RATIO 1.3

struct config {
	int reps;
	double secs;
	int conns;
	bool syscalls;
	int server_cpu, load_cpu; /* -1: unpinned */
	char build[PATH_MAX];
	char nginx_dir[PATH_MAX]; /* scratch prefix for nginx */
};

/* One server under test. */
struct server {
	const char *name;
	pid_t pid;
	int port;
	struct bench_side rps, cpu_us, p50, p99, load;
	double bytes;		/* per response */
	double syscalls;	/* per request, -1: not counted */
};

struct wrk_out {
	double rps, requests, p50_us, p99_us, cpu_pct;
	bool errors;
};

/* -------------------------------------------------------------- processes */

static void pin(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Start @argv pinned to @cpu with stdout to @out_fd (-1: /dev/null). */
static pid_t spawn(char *const argv[], int cpu, int out_fd)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror(PROG ": fork");
		exit(1);
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		pin(cpu);
		dup2(out_fd >= 0 ? out_fd : null, 1);
		if (out_fd < 0)
			dup2(null, 2);
		execvp(argv[0], argv);
		fprintf(stderr, PROG ": %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

/* Wait for @pid up to @ms; SIGKILL it after that. Returns its status. */
static int reap(pid_t pid, int ms)
{
	int st = 0;

	while (ms-- > 0) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return st;
}

static bool have(const char *tool)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", tool);
	return system(cmd) == 0;
}

/* User + system CPU seconds of @pid and its child processes (nginx's
 * worker), from /proc. */
static double proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	double total = 0;
	unsigned long ut, st;
	FILE *f;
	long kids[16];
	int n = 0, i;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", pid, pid);
	f = fopen(path, "r");
	if (f) {
		while (n < 16 && fscanf(f, "%ld", &kids[n]) == 1)
			n++;
		fclose(f);
	}
	for (i = -1; i < n; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/stat",
			 i < 0 ? (long)pid : kids[i]);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
		    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			   "%*u %lu %lu", &ut, &st) == 2)
			total += (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
		fclose(f);
	}
	return total;
}

/* -------------------------------------------------------------- servers */

static int connect_port(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		return fd;
	if (fd >= 0)
		close(fd);
	return -1;
}

/* A port that was free a moment ago (for nginx, which cannot pick one). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &len)) {
		perror(PROG ": free port");
		exit(1);
	}
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static bool wait_port(int port, pid_t pid)
{
	int i, fd, st;

	for (i = 0; i < 500; i++) {
		fd = connect_port(port);
		if (fd >= 0) {
			close(fd);
			return true;
		}
		if (waitpid(pid, &st, WNOHANG) == pid)
			return false;
		usleep(10000);
	}
	return false;
}

static int start_coil(const struct config *cfg, struct server *s)
{
	char prog[PATH_MAX + 32], line[128];
	char *argv[] = { prog, "-p", "0", "-H", "127.0.0.1", "-n", NULL };
	int p[2];
	FILE *f;

	snprintf(prog, sizeof(prog), "%s/examples/http_hello", cfg->build);
	if (pipe2(p, O_CLOEXEC)) {
		perror(PROG ": pipe");
		exit(1);
	}
	s->pid = spawn(argv, cfg->server_cpu, p[1]);
	close(p[1]);
	f = fdopen(p[0], "r");
	s->port = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "READY port=%d", &s->port) == 1)
			break;
	if (f)
		fclose(f); /* http_hello prints nothing more to stdout */
	return s->port > 0 && wait_port(s->port, s->pid) ? 0 : -1;
}

/* Write nginx.conf into the scratch prefix with @port filled in. */
static void nginx_conf(const struct config *cfg, int port)
{
	const char *dir = getenv("COIL_BENCH_BASELINES");
	char in[PATH_MAX], out[PATH_MAX + 16], line[512], *at;
	FILE *fi, *fo;

	snprintf(in, sizeof(in), "%s/nginx.conf", dir ? dir : BASELINES_DIR);
	snprintf(out, sizeof(out), "%s/nginx.conf", cfg->nginx_dir);
	fi = fopen(in, "r");
	fo = fopen(out, "w");
	if (!fi || !fo) {
		fprintf(stderr, PROG ": %s: %s\n", fi ? out : in,
			strerror(errno));
		exit(1);
	}
	while (fgets(line, sizeof(line), fi)) {
		at = strstr(line, "@PORT@");
		if (at)
			fprintf(fo, "%.*s%d%s", (int)(at - line), line, port,
				at + 6);
		else
			fputs(line, fo);
	}
	fclose(fi);
	fclose(fo);
}

static int start_nginx(const struct config *cfg, struct server *s)
{
	char conf[PATH_MAX + 16];
	char *argv[] = { "nginx", "-p", (char *)cfg->nginx_dir, "-c", conf,
			 NULL };

	s->port = free_port();
	nginx_conf(cfg, s->port);
	snprintf(conf, sizeof(conf), "%s/nginx.conf", cfg->nginx_dir);
	s->pid = spawn(argv, cfg->server_cpu, -1);
	return wait_port(s->port, s->pid) ? 0 : -1;
}

static int start(const struct config *cfg, struct server *s)
{
	int r = !strcmp(s->name, "coil") ? start_coil(cfg, s) :
					    start_nginx(cfg, s);

	if (r < 0) {
		fprintf(stderr, PROG ": %s did not start\n", s->name);
		kill(s->pid, SIGKILL);
		reap(s->pid, 1000);
	}
	return r;
}

static void stop(struct server *s)
{
	/* nginx: SIGTERM is a fast shutdown; http_hello exits on it. */
	kill(s->pid, SIGTERM);
	reap(s->pid, 5000);
}

/* The byte count of one response to a plain GET, or -1. */
static double response_bytes(int port)
{
	static const char req[] = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";
	char buf[4096];
	ssize_t n, total = 0;
	struct pollfd pf;
	int fd = connect_port(port);

	if (fd < 0 || write(fd, req, sizeof(req) - 1) != sizeof(req) - 1)
		return -1;
	pf = (struct pollfd){ .fd = fd, .events = POLLIN };
	/* The whole response arrives at once; wait 200 ms for stragglers. */
	while (poll(&pf, 1, 200) > 0 &&
	       (n = read(fd, buf, sizeof(buf))) > 0)
		total += n;
	close(fd);
	return (double)total;
}

/* ------------------------------------------------------------------ wrk */

static double to_us(double v, const char *unit)
{
	if (!strncmp(unit, "us", 2))
		return v;
	if (!strncmp(unit, "ms", 2))
		return v * 1e3;
	if (!strncmp(unit, "s", 1))
		return v * 1e6;
	return v;
}

static void parse_wrk(const char *out, struct wrk_out *w)
{
	const char *p;
	char unit[8];
	double v;

	memset(w, 0, sizeof(*w));
	if ((p = strstr(out, "Requests/sec:")))
		w->rps = strtod(p + 13, NULL);
	if ((p = strstr(out, " requests in ")))
		while (p > out && p[-1] != '\n' && p[-1] != ' ')
			p--;
	if (p)
		w->requests = strtod(p, NULL);
	if ((p = strstr(out, " 50% ")) && sscanf(p + 5, "%lf%7s", &v, unit) == 2)
		w->p50_us = to_us(v, unit);
	if ((p = strstr(out, " 99% ")) && sscanf(p + 5, "%lf%7s", &v, unit) == 2)
		w->p99_us = to_us(v, unit);
	w->errors = strstr(out, "Socket errors") || strstr(out, "Non-2xx");
}

/*
 * Run wrk for @secs against @port, pinned to the load CPU. Fills @w
 * (with wrk's CPU use in % of one CPU) and returns 0, or -1.
 */
static int wrk(const struct config *cfg, int port, double secs,
	       struct wrk_out *w)
{
	char url[64], dur[32], conns[16], out[16384];
	char *argv[] = { "wrk", "-t1", "-c", conns, "-d", dur, "--latency",
			 url, NULL };
	struct rusage ru;
	uint64_t t0 = bench_now();
	size_t len = 0;
	ssize_t n;
	pid_t pid;
	int p[2], st;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);
	snprintf(dur, sizeof(dur), "%.0fs", secs);
	snprintf(conns, sizeof(conns), "%d", cfg->conns);
	if (pipe2(p, O_CLOEXEC)) {
		perror(PROG ": pipe");
		exit(1);
	}
	pid = spawn(argv, cfg->load_cpu, p[1]);
	close(p[1]);
	while (len < sizeof(out) - 1 &&
	       (n = read(p[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st)) {
		fprintf(stderr, PROG ": wrk failed:\n%s", out);
		return -1;
	}
	parse_wrk(out, w);
	w->cpu_pct = 100.0 * ((double)ru.ru_utime.tv_sec +
			      (double)ru.ru_utime.tv_usec / 1e6 +
			      (double)ru.ru_stime.tv_sec +
			      (double)ru.ru_stime.tv_usec / 1e6) /
		     ((double)(bench_now() - t0) / 1e9);
	if (w->errors || w->rps <= 0 || w->requests <= 0) {
		fprintf(stderr, PROG ": wrk reported errors:\n%s", out);
		return -1;
	}
	return 0;
}

/* -------------------------------------------------------------- windows */

/* One rep of one server: start, warm up, measure, stop. */
static int rep(const struct config *cfg, struct server *s, int i)
{
	struct wrk_out w;
	double c0, c1;

	if (start(cfg, s) < 0)
		return -1;
	if (wrk(cfg, s->port, 1, &w) < 0)
		goto fail;
	c0 = proc_cpu(s->pid);
	if (wrk(cfg, s->port, cfg->secs, &w) < 0)
		goto fail;
	c1 = proc_cpu(s->pid);
	stop(s);
	bench_add(&s->rps, w.rps);
	bench_add(&s->cpu_us, 1e6 * (c1 - c0) / w.requests);
	bench_add(&s->p50, w.p50_us);
	bench_add(&s->p99, w.p99_us);
	bench_add(&s->load, w.cpu_pct);
	printf("rep %d %-5s %9.0f req/s  server %.2f us/req  p50 %.0f us  "
	       "p99 %.0f us  wrk CPU %.0f%%%s\n", i + 1, s->name, w.rps,
	       1e6 * (c1 - c0) / w.requests, w.p50_us, w.p99_us, w.cpu_pct,
	       w.cpu_pct > 90 ? " (wrk saturated)" : "");
	fflush(stdout);
	return 0;
fail:
	stop(s);
	return -1;
}

/* System calls per request: perf stat on the server during a wrk run. */
static double count_syscalls(const struct config *cfg, struct server *s)
{
	char pids[64], out[PATH_MAX + 32], line[256];
	char *argv[] = { "perf", "stat", "-x", ",", "-e",
			 "raw_syscalls:sys_enter", "-p", pids, "-o", out,
			 "--", "sleep", "2", NULL };
	char path[64];
	struct wrk_out w;
	double calls = -1;
	pid_t perf;
	long kid;
	FILE *f;

	if (start(cfg, s) < 0)
		return -1;
	snprintf(pids, sizeof(pids), "%d", s->pid);
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", s->pid,
		 s->pid);
	if ((f = fopen(path, "r"))) { /* nginx: count its worker only */
		if (fscanf(f, "%ld", &kid) == 1)
			snprintf(pids, sizeof(pids), "%ld", kid);
		fclose(f);
	}
	snprintf(out, sizeof(out), "%s/perf.txt", cfg->nginx_dir);
	perf = spawn(argv, -1, -1);
	usleep(100000);
	if (wrk(cfg, s->port, 3, &w) == 0 && (reap(perf, 5000), 1) &&
	    (f = fopen(out, "r"))) {
		while (fgets(line, sizeof(line), f))
			if (strstr(line, "raw_syscalls:sys_enter"))
				calls = strtod(line, NULL);
		fclose(f);
		/* perf counted 2 of wrk's 3 s: scale by the rate. */
		if (calls >= 0)
			calls /= 2.0 * w.rps;
	} else {
		reap(perf, 5000);
	}
	stop(s);
	return calls;
}

/* ---------------------------------------------------------------- report */

static void report(const struct config *cfg, struct server *coil,
		   struct server *ng)
{
	struct bench_side cap_c = { 0 }, cap_n = { 0 };
	char extra[768], name[64], f[12][32];
	double ratio[3];
	bool met;

	bench_ratio(&coil->rps, &ng->rps, 1, ratio);
	met = ratio[0] >= TARGET_RATIO;
	snprintf(extra, sizeof(extra),
		 "coil_cpu_us_req=%s base_cpu_us_req=%s coil_p50_us=%s "
		 "coil_p99_us=%s base_p50_us=%s base_p99_us=%s "
		 "coil_load_cpu=%s base_load_cpu=%s coil_bytes_resp=%.0f "
		 "base_bytes_resp=%.0f coil_syscalls_req=%s "
		 "base_syscalls_req=%s conns=%d secs=%.0f",
		 bench_fmt(f[0], 32, bench_side_median(&coil->cpu_us)),
		 bench_fmt(f[1], 32, bench_side_median(&ng->cpu_us)),
		 bench_fmt(f[2], 32, bench_side_median(&coil->p50)),
		 bench_fmt(f[3], 32, bench_side_median(&coil->p99)),
		 bench_fmt(f[4], 32, bench_side_median(&ng->p50)),
		 bench_fmt(f[5], 32, bench_side_median(&ng->p99)),
		 bench_fmt(f[6], 32, bench_side_median(&coil->load)),
		 bench_fmt(f[7], 32, bench_side_median(&ng->load)),
		 coil->bytes, ng->bytes,
		 coil->syscalls < 0 ? "n/a" :
				      bench_fmt(f[8], 32, coil->syscalls),
		 ng->syscalls < 0 ? "n/a" : bench_fmt(f[9], 32, ng->syscalls),
		 cfg->conns, cfg->secs);
	snprintf(name, sizeof(name), "http_%dc_vs_nginx", cfg->conns);
	bench_report(name, "req/s", &coil->rps, &ng->rps, 1, "ratio>=1.3",
		     bench_yes_no(met), extra);
	snprintf(name, sizeof(name), "http_%dc_cpu_per_req", cfg->conns);
	bench_report(name, "us/req", &coil->cpu_us, &ng->cpu_us, 0, "", "n/a",
		     NULL);
	/* When wrk saturates its CPU it, not the server, sets req/s: the
	 * requests one server CPU-second serves is then the comparison. */
	for (int i = 0; i < coil->cpu_us.n; i++)
		cap_c.v[i] = 1e6 / coil->cpu_us.v[i];
	for (int i = 0; i < ng->cpu_us.n; i++)
		cap_n.v[i] = 1e6 / ng->cpu_us.v[i];
	cap_c.n = coil->cpu_us.n;
	cap_n.n = ng->cpu_us.n;
	bench_ratio(&cap_c, &cap_n, 1, ratio);
	snprintf(name, sizeof(name), "http_%dc_per_core_vs_nginx", cfg->conns);
	bench_report(name, "req/s", &cap_c, &cap_n, 1, "ratio>=1.3",
		     bench_yes_no(ratio[0] >= TARGET_RATIO), NULL);
}

/* ------------------------------------------------------------------ main */

static void usage(void)
{
	fprintf(stderr, "usage: " PROG " [--quick | --full] [--build DIR] "
		"[--reps N] [--secs S] [--conns C] [--no-syscalls]\n");
	exit(2);
}

static int env_cpu(const char *name, int dflt)
{
	const char *v = getenv(name);

	return v && *v ? atoi(v) : dflt;
}

static void parse_args(struct config *cfg, int argc, char **argv)
{
	char self[PATH_MAX];
	ssize_t n;
	int i;

	cfg->reps = 5;
	cfg->secs = 5;
	cfg->conns = 64;
	cfg->syscalls = true;
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	/* DIR/bench/http_server -> DIR */
	*strrchr(self, '/') = '\0';
	if (strrchr(self, '/'))
		*strrchr(self, '/') = '\0';
	snprintf(cfg->build, sizeof(cfg->build), "%s", self);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--quick")) {
			cfg->reps = 2;
			cfg->secs = 3;
		} else if (!strcmp(a, "--full")) {
			cfg->reps = 5;
			cfg->secs = 5;
		} else if (!strcmp(a, "--no-syscalls")) {
			cfg->syscalls = false;
		} else if (v && !strcmp(a, "--build")) {
			snprintf(cfg->build, sizeof(cfg->build), "%s", v);
			i++;
		} else if (v && !strcmp(a, "--reps")) {
			cfg->reps = atoi(v);
			i++;
		} else if (v && !strcmp(a, "--secs")) {
			cfg->secs = atof(v);
			i++;
		} else if (v && !strcmp(a, "--conns")) {
			cfg->conns = atoi(v);
			i++;
		} else {
			usage();
		}
	}
	if (cfg->reps < 1 || cfg->reps > BENCH_MAX_REPS || cfg->secs < 1 ||
	    cfg->conns < 1)
		usage();
	i = (int)sysconf(_SC_NPROCESSORS_ONLN);
	cfg->server_cpu = i >= 2 ? env_cpu("COIL_BENCH_SERVER_CPU", 0) : -1;
	cfg->load_cpu = i >= 2 ? env_cpu("COIL_BENCH_LOAD_CPU", 1) : -1;
}

static int run(struct config *cfg, struct server *sv)
{
	int i, k;

	for (k = 0; k < 2; k++) {
		if (start(cfg, &sv[k]) < 0)
			return -1;
		sv[k].bytes = response_bytes(sv[k].port);
		stop(&sv[k]);
		printf("%s: %.0f bytes per response\n", sv[k].name,
		       sv[k].bytes);
	}
	if (sv[0].bytes != sv[1].bytes || sv[0].bytes <= 0) {
		fprintf(stderr, PROG ": the servers send different responses "
			"(%.0f vs %.0f bytes)\n", sv[0].bytes, sv[1].bytes);
		return -1;
	}
	/* Alternate which server goes first, rep by rep. */
	for (i = 0; i < cfg->reps; i++)
		for (k = 0; k < 2; k++)
			if (rep(cfg, &sv[(k + i) % 2], i) < 0)
				return -1;
	for (k = 0; k < 2; k++) {
		sv[k].syscalls = cfg->syscalls && have("perf") ?
					 count_syscalls(cfg, &sv[k]) : -1;
		if (sv[k].syscalls >= 0)
			printf("%s: %.3f system calls per request\n",
			       sv[k].name, sv[k].syscalls);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct config cfg = { 0 };
	struct server sv[2] = { { .name = "coil" }, { .name = "nginx" } };
	char prog[PATH_MAX + 32];
	int r;

	parse_args(&cfg, argc, argv);
	signal(SIGPIPE, SIG_IGN);
	snprintf(prog, sizeof(prog), "%s/examples/http_hello", cfg.build);
	if (!have("wrk") || !have("nginx") || access(prog, X_OK)) {
		printf(PROG ": skipped: needs wrk and nginx (scripts/deps.sh "
		       "installs them) and %s\n", prog);
		return 0;
	}
	snprintf(cfg.nginx_dir, sizeof(cfg.nginx_dir), "/tmp/coil-nginx-XXXXXX");
	if (!mkdtemp(cfg.nginx_dir)) {
		perror(PROG ": mkdtemp");
		return 1;
	}
	snprintf(prog, sizeof(prog), "%s/tmp", cfg.nginx_dir);
	mkdir(prog, 0700);
	snprintf(prog, sizeof(prog), "%s/logs", cfg.nginx_dir);
	mkdir(prog, 0700);
	printf("http_server: wrk -t1 -c%d, %d reps of %.0f s; server on CPU "
	       "%d, wrk on CPU %d (-1: unpinned)\n", cfg.conns, cfg.reps,
	       cfg.secs, cfg.server_cpu, cfg.load_cpu);
	r = run(&cfg, sv);
	if (r == 0)
		report(&cfg, &sv[0], &sv[1]);
	snprintf(prog, sizeof(prog), "rm -rf '%s'", cfg.nginx_dir);
	if (system(prog) != 0)
		fprintf(stderr, PROG ": could not remove %s\n", cfg.nginx_dir);
	return r ? 1 : 0;
}
