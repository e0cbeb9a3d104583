/* SPDX-License-Identifier: MIT */
/*
 * bench/echo.c - the echo scenario (bench/ECHO.md): coil's
 * examples/echo_server against four baselines (bench/baselines/echo_*.c:
 * epoll, raw liburing, thread per connection, libuv), each loaded by
 * bench/echo_load over loopback.
 *
 * For every repetition, every point (connections x message size) and every
 * server, in that nesting, so that machine noise hits all servers alike:
 *   1. start the server pinned to the first CPU ("-p 0"), wait for its
 *      "READY port=N" line;
 *   2. start echo_load --control pinned to the second CPU, warm up;
 *   3. the measured window: round trips/s and latency from echo_load, and
 *      the server's CPU time around it: the run time of all its threads
 *      (/proc/PID/task/x/schedstat, in ns), split into user and system
 *      by the tick's ratio (/proc/PID/stat) unless step 4 sampled it;
 *   4. the instrumented windows, echo_load running again: server
 *      syscalls counted by `perf stat -e raw_syscalls:sys_enter -p PID`
 *      (enabled and disabled through its control pipe), then, in a window
 *      of its own, user-mode CPU time sampled every 100 us (see struct
 *      usampler). Apart from step 3 because the syscall tracepoint slows
 *      every syscall (and perf every context switch) down, which would tax
 *      the servers that make many (epoll, threads) more than those that
 *      make few; apart from each other because the tracepoint is on for
 *      the load generator too, which halves the load's pace, and user time
 *      per round trip moves with the pace. --syscalls same folds both into
 *      step 3.
 *   5. stop echo_load, SIGTERM the server (SIGKILL after 5 s).
 * Between load windows no message is in flight and the server is idle, so
 * counters started or stopped there miss nothing.
 *
 * Usage: echo [--quick | --full] [--servers LIST] [--build DIR]
 *             [--reps N] [--target-reps N] [--secs S] [--points LIST]
 *             [--syscalls MODE]
 *   --quick      1 repetition, 2 s windows (1 s each instrumented),
 *                64x128 and 1x128 only: about 50 s
 *   --full       the default: 3 repetitions, 5 s windows (1 s of
 *                syscalls, 2 s of user time), all 6 points, then 6 more
 *                repetitions of 64x128 for coil, epoll and uring only
 *                (see --target-reps): about 18 minutes
 *   --servers L  comma-separated, in this order within a repetition
 *                (default coil,coil_lto,epoll,uring,threads,uv).
 *                Variants, for choosing each server's best form:
 *                coil_recv, epoll_et, uring_mr, uring_fixed,
 *                uring_mr_fixed, uring_pollfirst (bench/ECHO.md)
 *   --build DIR  the meson build directory holding examples/echo_server
 *                and bench/echo_* (default: the one this program is in)
 *   --reps N, --secs S   override the mode's repetitions / window length
 *                (--reps sets --target-reps too, unless that is given)
 *   --target-reps N  repetitions at 64x128 for the servers the issue's
 *                targets are judged on, coil, epoll and uring (full: 9,
 *                quick: 1); reps past --reps run only those. Why: the
 *                user-CPU ratio moves 1.6x-2.8x between runs of one
 *                build here, and three runs cannot say which side of 2x
 *                it is on; the user-CPU RESULT line also carries a 95%
 *                bootstrap interval of the ratio
 *   --points L   e.g. 64x128,1x4096 (connections x bytes)
 *   --syscalls M separate (default), same (the instruments run in the
 *                measured window), or off (no instrumented window: no
 *                syscall count, user time from the tick's split)
 * A missing server binary (coil's, before it exists; echo_uv without
 * libuv) is skipped with a message. Exits 1 if a run failed: a server that
 * never became ready or died, a wrong echo, a stuck process.
 * Prints a line per run, a table per point (medians over repetitions,
 * [min..max] of round trips/s) and RESULT lines (bench/common.h): per
 * point and baseline echo_<C>c_<S>b_vs_<base> (rt/s, with latency, CPU,
 * syscalls and load CPU of both sides as extra keys), and at 64x128 the
 * issue's other targets, echo_64c_128b_user_cpu and echo_64c_128b_syscalls
 * (and the same two figures for coil_lto, as information, with "_lto"
 * appended). coil_lto also gets a line echo_<C>c_<S>b_vs_coil_lto like a
 * baseline: coil's shared-library build against its whole-program one.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define PROG "echo"
#define MAX_SERVERS 12
#define MAX_POINTS 8
#define READY_TIMEOUT_MS 5000
#define CONNECT_TIMEOUT_MS 15000
#define STOP_TIMEOUT_MS 5000
#define PERF_ACK_TIMEOUT_MS 5000
#define LOAD_CPU_WARN 90.0
#define MAX_SAMPLED 2048		/* server threads sampled at most */
#define USAMPLE_PERIOD_NS 100000	/* one user-mode sample per 100 us */

/* A server program the scenario can run. */
struct server_kind {
	const char *name;
	const char *path;	/* relative to the build directory */
	const char *args[6];	/* after "-p 0", NULL-terminated */
	const char *what;
};

static const struct server_kind kinds[] = {
	/*
	 * coil's example listens dual-stack ("::") by default; here it listens
	 * where the baselines do (listen.h: 127.0.0.1), or each round trip
	 * would cross an IPv6 socket with IPv4-mapped addresses on coil's
	 * side only.
	 */
	{ "coil", "examples/echo_server", { "-H", "127.0.0.1", NULL },
	  "coil, examples/echo_server (multishot recv + recvq_send)" },
	{ "epoll", "bench/echo_epoll", { NULL }, "epoll, level-triggered" },
	{ "uring", "bench/echo_uring", { NULL }, "raw liburing loop" },
	{ "threads", "bench/echo_threads", { NULL }, "thread per connection" },
	{ "uv", "bench/echo_uv", { NULL }, "libuv" },
	{ "coil_lto", "bench/echo_server_lto", { "-H", "127.0.0.1", NULL },
	  "coil, the same echo_server built as one program with coil "
	  "(static; LTO where libcoil is)" },
	{ "coil_recv", "examples/echo_server",
	  { "-m", "recv", "-H", "127.0.0.1", NULL },
	  "coil, examples/echo_server -m recv (a recv per message)" },
	{ "epoll_et", "bench/echo_epoll", { "-E", NULL }, "epoll, edge-triggered" },
	{ "uring_mr", "bench/echo_uring", { "-m", "mr", NULL },
	  "liburing, multishot recv + buffer ring" },
	{ "uring_fixed", "bench/echo_uring", { "-f", NULL },
	  "liburing, fixed files" },
	{ "uring_pollfirst", "bench/echo_uring", { "-P", NULL },
	  "liburing, recv with IORING_RECVSEND_POLL_FIRST" },
	{ "uring_mr_fixed", "bench/echo_uring", { "-m", "mr", "-f", NULL },
	  "liburing, multishot recv + buffer ring + fixed files" },
};

/* One connections x size combination. */
struct point {
	unsigned conns;
	unsigned size;
};

/* What one run of one server at one point measured. */
struct sample {
	bool ok;
	bool have_sc;		/* the syscall count is known */
	double rtps;		/* round trips per second */
	double p50, p99, p999;	/* latency, microseconds */
	double cpu_us;		/* server CPU per round trip, user + sys */
	double user_us, sys_us;	/* the same, split (see measure()) */
	bool user_sampled;	/* user_us from samples, not from ticks */
	double sc;		/* server syscalls per round trip */
	double sc_rtps;		/* rt/s in the syscall window (perf's cost) */
	double us_rtps;		/* rt/s in the user-time window */
	double load_cpu;	/* echo_load's CPU, % of one CPU */
};

/* Where syscalls (and sampled user time) are counted; see the top. */
enum sc_mode { SC_SEPARATE, SC_SAME, SC_OFF };

/* The run's configuration. */
struct config {
	const char *build;
	const struct server_kind *servers[MAX_SERVERS];
	bool present[MAX_SERVERS];
	int nservers;
	struct point points[MAX_POINTS];
	int npoints;
	int reps;		/* repetitions of every point and server */
	int target_reps;	/* at 64x128, for the judged servers (below) */
	int total_reps;		/* the larger of the two: reps run in all */
	double secs, warm, sc_secs, us_secs;
	enum sc_mode sc_mode;
	const char *sc_why;	/* why syscalls are not counted, or NULL */
	int cpu_server, cpu_load;	/* -1: not pinned */
};

static struct sample samples[MAX_SERVERS][MAX_POINTS][BENCH_MAX_REPS];

/* The point where the targets are judged. */
static bool is_target_point(const struct point *pt)
{
	return pt->conns == 64 && pt->size == 128;
}

/*
 * The servers the targets at 64x128 are judged on: coil and the two
 * baselines it is held to. Reps past --reps (up to --target-reps) run
 * only these, at that point only.
 */
#define JUDGED_SERVERS "coil, epoll and uring"

static bool is_judged_server(const struct server_kind *k)
{
	return !strcmp(k->name, "coil") || !strcmp(k->name, "epoll") ||
	       !strcmp(k->name, "uring");
}
static int nfailed;
static int devnull;	/* stdin of the servers, stderr of perf */

/* ------------------------------------------------------- children */

/* Every child still running, killed on any way out. */
static volatile pid_t live[4];

static void track(pid_t pid, bool on)
{
	unsigned i;

	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		if (on ? live[i] == 0 : live[i] == pid) {
			live[i] = on ? pid : 0;
			return;
		}
	}
}

static void kill_all(void)
{
	unsigned i;

	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] > 0)
			kill(live[i], SIGKILL);
}

static void on_fatal_signal(int sig)
{
	unsigned i;

	kill_all();
	for (i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		if (live[i] > 0)
			waitpid(live[i], NULL, 0);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Where a child's fds go: -1 leaves one as it is. */
struct spawn_fds {
	int in, out, err;
	int extra[2];		/* dup'ed to 10 and 11 (perf's control) */
};

/* Put @fd at @to, without FD_CLOEXEC, wherever it was. */
/* Copies of @f's fds numbered 20 and up (close-on-exec), -1 for none. */
static int lift_fds(const struct spawn_fds *f, int lifted[5])
{
	const int src[5] = { f->in, f->out, f->err, f->extra[0], f->extra[1] };
	int i;

	for (i = 0; i < 5; i++) {
		lifted[i] = src[i] < 0 ? -1 : fcntl(src[i], F_DUPFD_CLOEXEC, 20);
		if (src[i] >= 0 && lifted[i] < 0)
			return -1;
	}
	return 0;
}

static void child_exec(char *const argv[], int cpu, const struct spawn_fds *f)
{
	cpu_set_t set;
	int lifted[5];

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() == 1)
		_exit(127);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set) < 0)
			_exit(126);
	}
	/*
	 * Copy every source above 20 first: a source may itself sit on a
	 * target number (ack[1] on fd 10, say, when few fds are open, as
	 * under bench/run), and moving one into place would clobber it.
	 */
	if (lift_fds(f, lifted) < 0 ||
	    (lifted[0] >= 0 && dup2(lifted[0], 0) < 0) ||
	    (lifted[1] >= 0 && dup2(lifted[1], 1) < 0) ||
	    (lifted[2] >= 0 && dup2(lifted[2], 2) < 0) ||
	    (lifted[3] >= 0 && dup2(lifted[3], 10) < 0) ||
	    (lifted[4] >= 0 && dup2(lifted[4], 11) < 0))
		_exit(126);
	execvp(argv[0], argv);
	fprintf(stderr, "%s: exec %s: %s\n", PROG, argv[0], strerror(errno));
	_exit(127);
}

/* Start @argv pinned to @cpu (-1: anywhere); the pid, or -errno. */
static pid_t spawn(char *const argv[], int cpu, const struct spawn_fds *f)
{
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_exec(argv, cpu, f);
	track(pid, true);
	return pid;
}

/* Wait up to @ms for @pid; SIGKILL it after that. Its wait status. */
static int reap(pid_t pid, int ms)
{
	int status = 0, waited = 0;

	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (waited >= ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			break;
		}
		usleep(5000);
		waited += 5;
	}
	track(pid, false);
	return status;
}

/* ------------------------------------------------------ line reading */

/* A pipe read line by line, with time limits. */
struct lines {
	int fd;
	size_t len;
	char buf[4096];
};

/* Squeeze the NUL bytes out of @n bytes at @p (perf acks with "ack\n\0"). */
static size_t drop_nuls(char *p, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		if (p[i])
			p[k++] = p[i];
	return k;
}

/* The next line (without its newline) in @out; 0, -ETIMEDOUT or -EPIPE. */
static int read_line(struct lines *l, char *out, size_t cap, int ms)
{
	uint64_t end = bench_now() + (uint64_t)ms * 1000000;

	for (;;) {
		char *nl = memchr(l->buf, '\n', l->len);
		struct pollfd p = { .fd = l->fd, .events = POLLIN };
		uint64_t now = bench_now();
		ssize_t n;

		if (nl) {
			size_t k = (size_t)(nl - l->buf);

			snprintf(out, cap, "%.*s", (int)k, l->buf);
			memmove(l->buf, nl + 1, l->len - k - 1);
			l->len -= k + 1;
			return 0;
		}
		if (now >= end)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)((end - now) / 1000000) + 1) <= 0)
			continue;
		n = read(l->fd, l->buf + l->len, sizeof(l->buf) - l->len - 1);
		if (n <= 0)
			return -EPIPE;
		l->len += drop_nuls(l->buf + l->len, (size_t)n);
		if (l->len == sizeof(l->buf) - 1)
			l->len = 0;	/* an absurd line: drop it */
	}
}

static int write_str(int fd, const char *s)
{
	size_t n = strlen(s);

	return write(fd, s, n) == (ssize_t)n ? 0 : -EPIPE;
}

/* The value of "key=" in a space-separated line, or NAN. */
static double kv(const char *line, const char *key)
{
	size_t k = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[k] == '=')
			return strtod(p + k + 1, NULL);
		p += k;
	}
	return __builtin_nan("");
}

/* ------------------------------------------------------------- server */

/* A running server. */
struct server_proc {
	pid_t pid;
	unsigned port;
	struct lines out;
};

static int server_start(const struct config *cfg,
			const struct server_kind *k, struct server_proc *s)
{
	char path[PATH_MAX], line[256];
	char *argv[8] = { path, "-p", "0" };
	struct spawn_fds f = { devnull, -1, -1, { -1, -1 } };
	int p[2], i, ret;

	snprintf(path, sizeof(path), "%s/%s", cfg->build, k->path);
	for (i = 0; k->args[i]; i++)
		argv[3 + i] = (char *)k->args[i];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	f.out = p[1];
	s->pid = spawn(argv, cfg->cpu_server, &f);
	close(p[1]);
	s->out.fd = p[0];
	s->out.len = 0;
	if (s->pid < 0) {
		close(p[0]);
		return (int)s->pid;
	}
	ret = read_line(&s->out, line, sizeof(line), READY_TIMEOUT_MS);
	if (ret == 0 && sscanf(line, "READY port=%u", &s->port) != 1)
		ret = -EPROTO;
	if (ret == 0 && (s->port == 0 || s->port > 65535))
		ret = -EPROTO;
	return ret;
}

/* SIGTERM, then SIGKILL after 5 s; warn unless it exited 0. */
static void server_stop(const struct server_kind *k, struct server_proc *s)
{
	int status;

	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	status = reap(s->pid, STOP_TIMEOUT_MS);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "%s: warning: server %s did not exit 0 on "
			"SIGTERM (wait status 0x%x)\n", PROG, k->name, status);
	close(s->out.fd);
	s->pid = 0;
}

/* The server's CPU time so far, in microseconds. */
struct cpu_snap {
	double total;		/* every live thread's run time (schedstat) */
	double utick, stick;	/* user and system, as the tick split them */
};

/* Sum the first field (run time, ns) of /proc/PID/task/x/schedstat. */
static int sum_schedstat(pid_t pid, double *us)
{
	char path[320];
	struct dirent *d;
	DIR *dir;
	FILE *f;
	unsigned long long ns;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	*us = 0;
	while ((d = readdir(dir)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/schedstat",
			 (int)pid, d->d_name);
		f = fopen(path, "re");
		if (f && fscanf(f, "%llu", &ns) == 1)
			*us += (double)ns / 1000.0;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return 0;
}

/* utime and stime of the whole process from /proc/PID/stat. */
static int stat_ticks(pid_t pid, double *user, double *sys)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	double tick = 1e6 / (double)sysconf(_SC_CLK_TCK);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')');	/* the name may hold spaces */
	/* After ")": state, then fields 4..13, then utime and stime. */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u "
			 "%*u %llu %llu", &ut, &st) != 2)
		return -EPROTO;
	*user = (double)ut * tick;
	*sys = (double)st * tick;
	return 0;
}

static int server_cpu(pid_t pid, struct cpu_snap *c)
{
	int ret = stat_ticks(pid, &c->utick, &c->stick);

	return ret < 0 ? ret : sum_schedstat(pid, &c->total);
}

/* ------------------------------------------------- user-mode sampling */

/*
 * The tick (250 Hz here) splits CPU time into user and system by
 * sampling, and /proc reports it in 10 ms units: too coarse for a server
 * that spends 1-2% of its time in user mode. So user time is sampled too,
 * 40 times as often: a cpu-clock perf event per server thread, counting
 * only in user mode (exclude_kernel), each overflow writing an 8-byte
 * record into a read-only (overwrite-mode) ring whose data_head therefore
 * advances 8 bytes per user-mode sample.
 */
struct usampler {
	int n;
	int fd[MAX_SAMPLED];
	struct perf_event_mmap_page *page[MAX_SAMPLED];
	uint64_t head0[MAX_SAMPLED];
};

static struct usampler sampler;

static uint64_t ring_head(const struct perf_event_mmap_page *p)
{
	return __atomic_load_n(&p->data_head, __ATOMIC_ACQUIRE);
}

static int usampler_add(struct usampler *u, pid_t tid)
{
	struct perf_event_attr a = {
		.size = sizeof(a),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_period = USAMPLE_PERIOD_NS,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		/* No inherit: the kernel refuses mmap on inherited per-task
		 * events; threads born in the window go unsampled. */
	};
	long page = sysconf(_SC_PAGESIZE);
	void *m;
	int fd;

	if (u->n == MAX_SAMPLED)
		return -EMFILE;
	fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1,
			  PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return -errno;
	m = mmap(NULL, 2 * (size_t)page, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	u->fd[u->n] = fd;
	u->page[u->n] = m;
	u->head0[u->n++] = ring_head(m);
	return 0;
}

static void usampler_close(struct usampler *u)
{
	long page = sysconf(_SC_PAGESIZE);

	while (u->n > 0) {
		u->n--;
		munmap(u->page[u->n], 2 * (size_t)page);
		close(u->fd[u->n]);
	}
}

/* Start sampling every thread of @pid; 0 or -errno (then nothing open). */
static int usampler_open(struct usampler *u, pid_t pid)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int ret = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (ret == 0 && (d = readdir(dir)) != NULL)
		if (d->d_name[0] != '.')
			ret = usampler_add(u, (pid_t)atoi(d->d_name));
	closedir(dir);
	if (ret < 0)
		usampler_close(u);
	return ret;
}

/* User-mode microseconds sampled since usampler_open(). */
static double usampler_user_us(const struct usampler *u)
{
	uint64_t records = 0;
	int i;

	for (i = 0; i < u->n; i++)
		records += (ring_head(u->page[i]) - u->head0[i]) /
			   sizeof(struct perf_event_header);
	return (double)records * USAMPLE_PERIOD_NS / 1000.0;
}

/* --------------------------------------------------------------- perf */

/* A perf stat attached to the server, counting while enabled. */
struct perf_proc {
	pid_t pid;
	int ctl;		/* we write enable/disable here */
	struct lines ack;	/* perf answers "ack" here */
	char out[64];		/* its output file */
};

/*
 * Start perf counting @target's syscalls, disabled until "enable". On
 * failure too, perf_finish() cleans up what was made.
 */
static int perf_start(pid_t target, struct perf_proc *pp)
{
	char pidstr[16];
	char *argv[] = { "perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter",
			 "-p", pidstr, "-D", "-1", "--control", "fd:10,11",
			 "-o", pp->out, NULL };
	struct spawn_fds f = { -1, -1, devnull, { -1, -1 } };
	int ctl[2], ack[2], fd;

	pp->pid = 0;
	pp->ctl = pp->ack.fd = -1;
	pp->ack.len = 0;
	snprintf(pidstr, sizeof(pidstr), "%d", (int)target);
	snprintf(pp->out, sizeof(pp->out), "/tmp/coil-echo-perf-XXXXXX");
	fd = mkstemp(pp->out);
	if (fd < 0) {
		pp->out[0] = '\0';
		return -errno;
	}
	close(fd);
	if (pipe2(ctl, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(ack, O_CLOEXEC) < 0) {
		close(ctl[0]);
		close(ctl[1]);
		return -errno;
	}
	f.extra[0] = ctl[0];
	f.extra[1] = ack[1];
	pp->pid = spawn(argv, -1, &f);
	close(ctl[0]);
	close(ack[1]);
	pp->ctl = ctl[1];
	pp->ack.fd = ack[0];
	return pp->pid < 0 ? (int)pp->pid : 0;
}

/* Send "enable" or "disable" and wait for perf's "ack". */
static int perf_command(struct perf_proc *pp, const char *cmd)
{
	char line[64];
	int ret = write_str(pp->ctl, cmd);

	if (ret == 0)
		ret = read_line(&pp->ack, line, sizeof(line),
				PERF_ACK_TIMEOUT_MS);
	if (ret == 0 && strncmp(line, "ack", 3) != 0)
		ret = -EPROTO;
	return ret;
}

/* The count in perf's output file, or -1 if there is none. */
static double perf_read_count(const char *path)
{
	char line[512];
	double count = -1;
	FILE *f = fopen(path, "re");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strstr(line, ",raw_syscalls:sys_enter,"))
			continue;
		if (!strncmp(line, "<not counted>", 13))
			count = 0;	/* it never ran while enabled */
		else if (line[0] >= '0' && line[0] <= '9')
			count = strtod(line, NULL);
	}
	if (f)
		fclose(f);
	return count;
}

/* Stop perf; the syscall count it wrote, or -1 if there is none. */
static double perf_finish(struct perf_proc *pp)
{
	double count = -1;

	if (pp->pid > 0) {
		kill(pp->pid, SIGINT);
		reap(pp->pid, STOP_TIMEOUT_MS);
		count = perf_read_count(pp->out);
	}
	if (pp->ctl >= 0)
		close(pp->ctl);
	if (pp->ack.fd >= 0)
		close(pp->ack.fd);
	if (pp->out[0])
		unlink(pp->out);
	pp->pid = 0;
	pp->ctl = pp->ack.fd = -1;
	pp->out[0] = '\0';
	return count;
}

/* -------------------------------------------------------------- load */

/* A running echo_load --control. */
struct load_proc {
	pid_t pid;
	int in;
	struct lines out;
};

static int load_start(const struct config *cfg, const struct point *pt,
		      unsigned port, struct load_proc *l)
{
	char path[PATH_MAX], c[16], s[16], p[16], lim[16], line[256];
	char *argv[] = { path, "--control", "-p", p, "-c", c, "-s", s,
			 "--limit", lim, NULL };
	struct spawn_fds f = { -1, -1, -1, { -1, -1 } };
	int in[2], out[2];
	double limit = cfg->warm + cfg->secs + cfg->sc_secs + cfg->us_secs +
		       120;

	snprintf(path, sizeof(path), "%s/bench/echo_load", cfg->build);
	snprintf(c, sizeof(c), "%u", pt->conns);
	snprintf(s, sizeof(s), "%u", pt->size);
	snprintf(p, sizeof(p), "%u", port);
	snprintf(lim, sizeof(lim), "%.0f", limit);
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0)
		return -errno;
	f.in = in[0];
	f.out = out[1];
	l->pid = spawn(argv, cfg->cpu_load, &f);
	close(in[0]);
	close(out[1]);
	l->in = in[1];
	l->out.fd = out[0];
	l->out.len = 0;
	if (l->pid < 0)
		return (int)l->pid;
	return read_line(&l->out, line, sizeof(line), CONNECT_TIMEOUT_MS);
}

/* Run a window ("warm" or "run") of @secs; its STATS line in @line. */
static int load_window(struct load_proc *l, const char *cmd, double secs,
		       char *line, size_t cap)
{
	char buf[64];
	int ret;

	snprintf(buf, sizeof(buf), "%s %.3f\n", cmd, secs);
	ret = write_str(l->in, buf);
	if (ret == 0)
		ret = read_line(&l->out, line, cap,
				(int)(secs * 1000) + 10000);
	if (ret == 0 && strncmp(line, "STATS ", 6) != 0)
		ret = -EPROTO;
	return ret;
}

/* Tell it to quit; 0 if it exited 0. */
static int load_stop(struct load_proc *l)
{
	int status;

	if (l->pid <= 0)
		return 0;
	write_str(l->in, "quit\n");
	close(l->in);
	status = reap(l->pid, STOP_TIMEOUT_MS);
	close(l->out.fd);
	l->pid = 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* ---------------------------------------------------------------- runs */

static void set_stats(struct sample *out, const char *line)
{
	out->rtps = kv(line, "rtps");
	out->p50 = kv(line, "p50_us");
	out->p99 = kv(line, "p99_us");
	out->p999 = kv(line, "p999_us");
	out->load_cpu = kv(line, "cpu_pct");
}

/* The counters of the instrumented window. */
struct instruments {
	struct perf_proc pp;
	bool perf_ok;		/* perf is counting syscalls */
	bool samp_ok;		/* the sampler is sampling user time */
};

/* Start counting syscalls (perf, if @count) and sampling user time
 * (the sampler, if @sample). */
static void instr_begin(const struct config *cfg, pid_t server,
			struct instruments *in, bool count, bool sample)
{
	static bool warned;
	int ret;

	in->pp.ctl = in->pp.ack.fd = -1;
	in->pp.pid = 0;
	in->pp.out[0] = '\0';
	in->perf_ok = count && !cfg->sc_why &&
		      perf_start(server, &in->pp) == 0 &&
		      perf_command(&in->pp, "enable\n") == 0;
	in->samp_ok = false;
	if (!sample)
		return;
	ret = usampler_open(&sampler, server);
	in->samp_ok = ret == 0;
	if (ret < 0 && !warned) {
		fprintf(stderr, "%s: cannot sample user time (perf_event_open"
			" or its mmap: %s): using the tick's split\n", PROG,
			strerror(-ret));
		warned = true;
	}
}

/* Stop both; what they counted over @rt round trips goes into @out. */
static void instr_end(struct instruments *in, double rt, struct sample *out)
{
	double count;

	if (in->perf_ok)
		in->perf_ok = perf_command(&in->pp, "disable\n") == 0;
	count = perf_finish(&in->pp);
	if (in->perf_ok && count >= 0 && rt > 0) {
		out->sc = count / rt;
		out->have_sc = true;
	}
	if (in->samp_ok && rt > 0) {
		out->user_us = usampler_user_us(&sampler) / rt;
		out->user_sampled = true;
	}
	usampler_close(&sampler);
}

/*
 * The instrumented windows (--syscalls separate): syscalls counted in one,
 * then user time sampled in another. Apart, because the syscall
 * tracepoint is on for every task while perf counts, the load generator
 * included (about three system calls per round trip), which slows the
 * load to about half its pace; user time per round trip sampled at that
 * pace is not the server's at the measured one. The sampler's own cost is
 * per context switch of the server's threads, which these servers make
 * few of.
 */
static int instrumented_windows(const struct config *cfg, pid_t server,
				struct load_proc *ld, struct sample *out)
{
	struct instruments in;
	char line[512];
	int ret;

	instr_begin(cfg, server, &in, true, false);
	ret = load_window(ld, "run", cfg->sc_secs, line, sizeof(line));
	instr_end(&in, ret == 0 ? kv(line, "rt") : 0, out);
	if (ret < 0)
		return ret;
	out->sc_rtps = kv(line, "rtps");
	instr_begin(cfg, server, &in, false, true);
	ret = load_window(ld, "run", cfg->us_secs, line, sizeof(line));
	instr_end(&in, ret == 0 ? kv(line, "rt") : 0, out);
	if (ret == 0)
		out->us_rtps = kv(line, "rtps");
	return ret;
}

/* Server CPU per round trip from two snapshots around @rt round trips. */
static void set_cpu(struct sample *out, const struct cpu_snap *c0,
		    const struct cpu_snap *c1, double rt)
{
	double ticks = (c1->utick - c0->utick) + (c1->stick - c0->stick);

	out->cpu_us = (c1->total - c0->total) / rt;
	if (!out->user_sampled)	/* the tick's split, applied to the total */
		out->user_us = ticks > 0 ?
			out->cpu_us * (c1->utick - c0->utick) / ticks : 0;
	if (out->user_us > out->cpu_us)
		out->user_us = out->cpu_us;
	out->sys_us = out->cpu_us - out->user_us;
}

/*
 * Warm up, then the measured window with the server's CPU time read
 * around it, then (--syscalls separate) the instrumented window. With
 * --syscalls same the instruments run in the measured window instead.
 * 0 or -errno; @what says which step failed.
 */
static int measure(const struct config *cfg, pid_t server,
		   struct load_proc *ld, struct sample *out,
		   const char **what)
{
	bool same = cfg->sc_mode == SC_SAME;
	struct cpu_snap c0, c1;
	struct instruments in;
	char line[512];
	double rt;
	int ret;

	*what = "warm-up";
	ret = load_window(ld, "warm", cfg->warm, line, sizeof(line));
	if (ret < 0)
		return ret;
	*what = "reading /proc/PID";
	if (same)
		instr_begin(cfg, server, &in, true, true);
	ret = server_cpu(server, &c0);
	if (ret == 0) {
		*what = "measured window";
		ret = load_window(ld, "run", cfg->secs, line, sizeof(line));
	}
	if (ret == 0) {
		*what = "reading /proc/PID";
		ret = server_cpu(server, &c1);
	}
	rt = ret == 0 ? kv(line, "rt") : 0;
	if (same)
		instr_end(&in, rt, out);
	if (ret < 0)
		return ret;
	if (!(rt > 0))
		return -EPROTO;
	set_stats(out, line);
	*what = "instrumented windows";
	if (cfg->sc_mode == SC_SEPARATE)
		ret = instrumented_windows(cfg, server, ld, out);
	set_cpu(out, &c0, &c1, rt);
	return ret;
}

static void print_sample(const struct server_kind *k, const struct point *pt,
			 int rep, const struct sample *s)
{
	char sc[64] = "n/a", us[48] = "";

	if (s->us_rtps > 0)
		snprintf(us, sizeof(us), " (%.0f rt/s sampling)", s->us_rtps);
	if (s->have_sc && s->sc_rtps > 0)
		snprintf(sc, sizeof(sc), "%.3f (%.0f rt/s counting)", s->sc,
			 s->sc_rtps);
	else if (s->have_sc)
		snprintf(sc, sizeof(sc), "%.3f", s->sc);
	printf("  rep %d %4ux%-5u %-8s %8.0f rt/s  p50 %7.1f  p99 %7.1f us  "
	       "cpu %6.2f = user %5.3f%s%s + sys %6.2f us/rt  sc/rt %s  "
	       "load %3.0f%%%s\n", rep + 1, pt->conns, pt->size, k->name,
	       s->rtps, s->p50, s->p99, s->cpu_us, s->user_us,
	       s->user_sampled ? "" : "~", us, s->sys_us, sc, s->load_cpu,
	       s->load_cpu > LOAD_CPU_WARN ? " (client-bound?)" : "");
	fflush(stdout);
}

/* One server at one point: start, load, measure, stop. */
static void run_one(const struct config *cfg, const struct server_kind *k,
		    const struct point *pt, int rep, struct sample *out)
{
	struct server_proc srv = { 0 };
	struct load_proc ld = { 0 };
	const char *what = "starting the server";
	int ret = server_start(cfg, k, &srv);

	memset(out, 0, sizeof(*out));
	if (ret == 0) {
		what = "starting echo_load";
		ret = load_start(cfg, pt, srv.port, &ld);
	}
	if (ret == 0)
		ret = measure(cfg, srv.pid, &ld, out, &what);
	if (load_stop(&ld) < 0 && ret == 0) {
		what = "echo_load's exit";
		ret = -EIO;
	}
	server_stop(k, &srv);
	if (ret < 0) {
		fprintf(stderr, "%s: %s at %ux%u, rep %d: %s failed: %s\n",
			PROG, k->name, pt->conns, pt->size, rep + 1, what,
			strerror(-ret));
		nfailed++;
		return;
	}
	out->ok = true;
	print_sample(k, pt, rep, out);
}

/* ------------------------------------------------------------ report */

/* Medians of one server's good samples at one point. */
struct summary {
	int n;			/* good samples */
	int nsc;		/* of which with a syscall count */
	double rtps, rt_min, rt_max;
	double p50, p99, p999, cpu_us, user_us, sys_us, sc, load_cpu;
	bool user_ticks;	/* user_us came from the tick's split */
};

/*
 * Which of a server's good samples a figure is taken from: those with a
 * syscall count for syscalls (@need_sc); for user time, the sampled ones
 * whenever any run was sampled: a run whose sampler failed falls back to
 * the tick's split, which reads ~0 for a server that spends 1% of its
 * time in user mode, and would pull a median (and so a ratio) with it.
 */
static bool counts(const struct sample *s, int reps, int i, size_t off,
		   bool need_sc)
{
	int j;

	if (!s[i].ok || (need_sc && !s[i].have_sc))
		return false;
	if (off != offsetof(struct sample, user_us) || s[i].user_sampled)
		return true;
	for (j = 0; j < reps; j++)
		if (s[j].ok && s[j].user_sampled)
			return false;
	return true;
}

static double median_of(const struct sample *s, int reps, size_t off,
			bool need_sc)
{
	double v[BENCH_MAX_REPS];
	int i, n = 0;

	for (i = 0; i < reps; i++)
		if (counts(s, reps, i, off, need_sc))
			v[n++] = *(const double *)((const char *)&s[i] + off);
	return bench_median(v, n);
}

#define MEDIAN(field, sc) \
	median_of(s, reps, offsetof(struct sample, field), sc)

static struct summary summarize(const struct sample *s, int reps)
{
	struct summary m = { 0 };
	int i, nsampled = 0;

	for (i = 0; i < reps; i++) {
		if (!s[i].ok)
			continue;
		if (m.n == 0 || s[i].rtps < m.rt_min)
			m.rt_min = s[i].rtps;
		if (m.n == 0 || s[i].rtps > m.rt_max)
			m.rt_max = s[i].rtps;
		m.n++;
		m.nsc += s[i].have_sc;
		nsampled += s[i].user_sampled;
	}
	/* counts(): the tick's split is used only when nothing was sampled. */
	m.user_ticks = m.n > 0 && nsampled == 0;
	m.rtps = MEDIAN(rtps, false);
	m.p50 = MEDIAN(p50, false);
	m.p99 = MEDIAN(p99, false);
	m.p999 = MEDIAN(p999, false);
	m.cpu_us = MEDIAN(cpu_us, false);
	m.user_us = MEDIAN(user_us, false);
	m.sys_us = MEDIAN(sys_us, false);
	m.load_cpu = MEDIAN(load_cpu, false);
	m.sc = MEDIAN(sc, true);
	return m;
}

static void print_table(const struct config *cfg, int pi)
{
	const struct point *pt = &cfg->points[pi];
	bool capped = false, ticks = false;
	int i;

	printf("\necho %u connections x %u B: medians of %d run(s) of %g s",
	       pt->conns, pt->size, cfg->reps, cfg->secs);
	if (is_target_point(pt) && cfg->target_reps > cfg->reps)
		printf(" (%d of each judged server: %s)", cfg->target_reps,
		       JUDGED_SERVERS);
	printf("; CPU (per round trip) and syscalls (sc, per round trip) are "
	       "the server's\n");
	printf("%-15s %9s %-19s %8s %8s %8s %8s %8s %8s %7s %5s\n", "server",
	       "rt/s", "[min..max]", "p50 us", "p99 us", "p99.9us",
	       "cpu us", "user us", "sys us", "sc", "load");
	for (i = 0; i < cfg->nservers; i++) {
		struct summary m = summarize(samples[i][pi], cfg->total_reps);
		char range[48], sc[16] = "n/a";

		if (!cfg->present[i] || m.n == 0) {
			printf("%-15s %s\n", cfg->servers[i]->name,
			       cfg->present[i] ? "(every run failed)" :
			       "(not built: skipped)");
			continue;
		}
		snprintf(range, sizeof(range), "[%.0f..%.0f]", m.rt_min,
			 m.rt_max);
		if (m.nsc)
			snprintf(sc, sizeof(sc), "%.3f", m.sc);
		printf("%-15s %9.0f %-19s %8.1f %8.1f %8.1f %8.2f %7.3f%s "
		       "%8.2f %7s %4.0f%%%s\n", cfg->servers[i]->name, m.rtps,
		       range, m.p50, m.p99, m.p999, m.cpu_us, m.user_us,
		       m.user_ticks ? "~" : " ", m.sys_us, sc, m.load_cpu,
		       m.load_cpu > LOAD_CPU_WARN ? "!" : "");
		capped |= m.load_cpu > LOAD_CPU_WARN;
		ticks |= m.user_ticks;
	}
	if (capped)
		printf("! echo_load used over %.0f%% of its CPU: it, not the "
		       "server, may set the pace; compare CPU per round trip\n",
		       LOAD_CPU_WARN);
	if (ticks)
		printf("~ user time from the 250 Hz tick's split, not sampled: "
		       "coarse\n");
	if (cfg->sc_why)
		printf("sc n/a: %s\n", cfg->sc_why);
}

/* A number for a RESULT line, or "n/a". */
static const char *num(char *buf, size_t cap, double v, bool known)
{
	if (!known || v != v)
		return "n/a";
	return bench_fmt(buf, cap, v);
}

static void result_line(const char *name, const char *unit, const char *c,
			const char *b, const char *r, const char *target,
			const char *met, const char *extra)
{
	printf("RESULT name=%s unit=%s coil=%s base=%s ratio=%s target=\"%s\" "
	       "met=%s%s%s\n", name, unit, c, b, r, target, met,
	       extra[0] ? " " : "", extra);
}

/* "pfx_p50_us=.. pfx_p99_us=.. ..." for one side of a comparison. */
static void side_extra(char *out, size_t cap, const char *pfx,
		       const struct summary *m)
{
	char b[10][32];
	bool k = m->n > 0;

	snprintf(out, cap, "%s_min=%s %s_max=%s %s_p50_us=%s %s_p99_us=%s "
		 "%s_p999_us=%s %s_cpu_us_rt=%s %s_user_us_rt=%s "
		 "%s_sys_us_rt=%s %s_syscalls_per_op=%s %s_load_cpu=%s", pfx,
		 num(b[0], 32, m->rt_min, k), pfx, num(b[1], 32, m->rt_max, k),
		 pfx, num(b[2], 32, m->p50, k), pfx, num(b[3], 32, m->p99, k),
		 pfx, num(b[4], 32, m->p999, k),
		 pfx, num(b[9], 32, m->cpu_us, k),
		 pfx, num(b[5], 32, m->user_us, k),
		 pfx, num(b[6], 32, m->sys_us, k),
		 pfx, num(b[7], 32, m->sc, m->nsc > 0),
		 pfx, num(b[8], 32, m->load_cpu, k));
}

static int find_server(const struct config *cfg, const char *name)
{
	int i;

	for (i = 0; i < cfg->nservers; i++)
		if (!strcmp(cfg->servers[i]->name, name))
			return i;
	return -1;
}

/* @si's summary at @pi over its first @reps repetitions. */
static struct summary summary_reps(int si, int pi, int reps)
{
	struct summary none = { 0 };

	return si >= 0 ? summarize(samples[si][pi], reps) : none;
}

static struct summary summary_of(const struct config *cfg, int si, int pi)
{
	return summary_reps(si, pi, cfg->total_reps);
}

/*
 * The ratio coil/base of rt/s into r[0..2] (median, min, max): paired per
 * rep over the reps both sides have a good sample from, when the side with
 * fewer good samples has all of them there (a side that ran only the
 * first --reps, like coil_lto against coil's extra reps at 64x128, pairs
 * over those); else, a run that failed on one side only, from medians and
 * extremes.
 */
static void paired_ratio(const struct config *cfg, int ci, int bi, int pi,
			 const struct summary *cm, const struct summary *bm,
			 double r[3])
{
	const struct sample *c = samples[ci][pi], *b = samples[bi][pi];
	double v[BENCH_MAX_REPS];
	int i, n = 0;

	r[0] = cm->rtps / bm->rtps;
	r[1] = cm->rt_min / bm->rt_max;
	r[2] = cm->rt_max / bm->rt_min;
	for (i = 0; i < cfg->total_reps; i++)
		if (c[i].ok && b[i].ok)
			v[n++] = c[i].rtps / b[i].rtps;
	if (n == 0 || n != (cm->n < bm->n ? cm->n : bm->n))
		return;
	r[0] = bench_median(v, n);	/* sorts v */
	r[1] = v[0];
	r[2] = v[n - 1];
}

/* coil (index @ci, -1 if not run) against baseline @bi at @pi, rt/s. */
static void result_vs(const struct config *cfg, int pi, int ci, int bi,
		      const char *pname)
{
	const char *base = cfg->servers[bi]->name, *target = "info";
	struct summary cm = summary_of(cfg, ci, pi), bm = summary_of(cfg, bi, pi);
	char name[96], extra[1400], ce[560], be[560], c[32], b[32], f[3][32];
	double want = 0, r[3] = { 0, 0, 0 };
	bool ck = cm.n > 0;

	if (!strcmp(pname, "64c_128b") && !strcmp(base, "uring")) {
		target = "coil>=0.95x uring";
		want = 0.95;
	} else if (!strcmp(pname, "64c_128b") && !strcmp(base, "epoll")) {
		target = "coil>=1.0x epoll";
		want = 1.0;
	}
	if (ck)
		paired_ratio(cfg, ci, bi, pi, &cm, &bm, r);
	side_extra(ce, sizeof(ce), "coil", &cm);
	side_extra(be, sizeof(be), "base", &bm);
	snprintf(extra, sizeof(extra), "better=higher reps=%d ratio_min=%s "
		 "ratio_max=%s %s %s secs=%g%s", ck ? cm.n : bm.n,
		 num(f[1], 32, r[1], ck), num(f[2], 32, r[2], ck), ce, be,
		 cfg->secs, ck ? "" : " note=coil_not_run");
	if (ck && bm.n != cm.n)
		snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
			 " base_reps=%d", bm.n);
	snprintf(name, sizeof(name), "echo_%s_vs_%s", pname, base);
	result_line(name, "rt/s", num(c, 32, cm.rtps, ck),
		    num(b, 32, bm.rtps, true), num(f[0], 32, r[0], ck),
		    target, ck && want > 0 ? bench_yes_no(r[0] >= want) :
		    "n/a", extra);
}

/*
 * Min and max of one field over @si's good samples at @pi (0 if none);
 * returns how many samples that was.
 */
static int field_range(int reps, int si, int pi, size_t off, bool need_sc,
		       double *lo, double *hi)
{
	int i, n = 0;

	*lo = *hi = 0;
	for (i = 0; si >= 0 && i < reps; i++) {
		const struct sample *x = &samples[si][pi][i];
		double v = *(const double *)((const char *)x + off);

		if (!counts(samples[si][pi], reps, i, off, need_sc))
			continue;
		*lo = n == 0 || v < *lo ? v : *lo;
		*hi = n == 0 || v > *hi ? v : *hi;
		n++;
	}
	return n;
}

/*
 * "better=lower reps=N base_reps=M coil_min=.. coil_max=.. base_min=..
 * base_max=..": N and M count each side's samples of the field.
 */
static void range_keys(char *out, size_t cap, int reps, int ci, int bi,
		       int pi, size_t off, bool need_sc)
{
	double r[4];
	char f[4][32];
	int nc, nb;

	nc = field_range(reps, ci, pi, off, need_sc, &r[0], &r[1]);
	nb = field_range(reps, bi, pi, off, need_sc, &r[2], &r[3]);
	snprintf(out, cap, "better=lower reps=%d base_reps=%d coil_min=%s "
		 "coil_max=%s base_min=%s base_max=%s", nc, nb,
		 bench_fmt(f[0], 32, r[0]),
		 bench_fmt(f[1], 32, r[1]), bench_fmt(f[2], 32, r[2]),
		 bench_fmt(f[3], 32, r[3]));
}

#define BOOT_ROUNDS 2000

/* xorshift64*, from a fixed seed: a run's interval can be recomputed. */
static uint64_t boot_rand(uint64_t *x)
{
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * 0x2545f4914f6cdd1dull;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of @n values drawn with replacement from @v. */
static double boot_median(const double *v, int n, uint64_t *x)
{
	double d[BENCH_MAX_REPS];
	int i;

	for (i = 0; i < n; i++)
		d[i] = v[boot_rand(x) % (uint64_t)n];
	return bench_median(d, n);
}

/*
 * The order the servers run in at @pi in @rep: a shuffle from a fixed seed
 * (so a run's order can be recomputed). Going first or last (sockets in
 * TIME_WAIT, caches, the CPU's clock) and what ran just before then fall
 * on every server in turn: the rotation used until the eighth session
 * moved who went first but kept each server's neighbours, so the raw loop
 * ran right after epoll in eight of nine reps at 64x128.
 */
static void run_order(int n, int rep, int pi, int order[])
{
	uint64_t x = 0x243f6a8885a308d3ull ^
		     ((uint64_t)(rep + 1) << 20) ^ (uint64_t)(pi + 1);
	int i, j, t;

	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = (int)(boot_rand(&x) % (uint64_t)(i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/*
 * A 95% interval for median(field of @ci) / median(field of @bi) at @pi:
 * each side's good samples resampled with replacement BOOT_ROUNDS times
 * (percentile bootstrap). Why: on this VM the user-CPU ratio of one build
 * moves 1.6x-2.8x from run to run, so a verdict taken from the medians
 * needs its spread printed beside it. False, @lo and @hi untouched, with
 * fewer than 3 samples on a side (no interval worth the name).
 */
static bool boot_ratio(int reps, int ci, int bi, int pi, size_t off,
		       double *lo, double *hi)
{
	static double r[BOOT_ROUNDS];
	double c[BENCH_MAX_REPS], b[BENCH_MAX_REPS];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int i, nc = 0, nb = 0;

	for (i = 0; ci >= 0 && bi >= 0 && i < reps; i++) {
		const struct sample *sc = &samples[ci][pi][i];
		const struct sample *sb = &samples[bi][pi][i];

		if (counts(samples[ci][pi], reps, i, off, false))
			c[nc++] = *(const double *)((const char *)sc + off);
		if (counts(samples[bi][pi], reps, i, off, false))
			b[nb++] = *(const double *)((const char *)sb + off);
	}
	if (nc < 3 || nb < 3)
		return false;
	for (i = 0; i < BOOT_ROUNDS; i++) {
		double m = boot_median(b, nb, &x);

		r[i] = m > 0 ? boot_median(c, nc, &x) / m : 0;
	}
	qsort(r, BOOT_ROUNDS, sizeof(r[0]), cmp_double);
	*lo = r[BOOT_ROUNDS / 40];
	*hi = r[BOOT_ROUNDS - 1 - BOOT_ROUNDS / 40];
	return true;
}

/*
 * The CPU and syscall targets at 64 connections x 128 B, for the
 * coil server at @ci: "coil" itself (@sfx "", judged against the targets),
 * or a form of it (@sfx "_lto" for coil_lto: the same figures, reported
 * as information under names of their own, since the targets are judged
 * on the echo_server example as it links against libcoil).
 */
static void result_targets(const struct config *cfg, int pi, int ci,
			   const char *sfx)
{
	int ui = find_server(cfg, "uring");
	bool judged = !*sfx;
	/*
	 * Over the reps both sides ran: coil_lto runs only the first --reps,
	 * and the raw loop's extra reps at 64x128 come later, at whatever pace
	 * the machine then has.
	 */
	int reps = judged ? cfg->total_reps : cfg->reps;
	struct summary cm = summary_reps(ci, pi, reps);
	struct summary um = summary_reps(ui, pi, reps);
	bool ck = cm.n > 0, uk = um.n > 0, csc = cm.nsc > 0;
	char c[32], b[32], r[32], keys[320], name[64], f[2][32];
	size_t off = offsetof(struct sample, user_us);
	double lo, hi;

	range_keys(keys, sizeof(keys), reps, ci, ui, pi, off, false);
	if (ck && uk && cm.user_us > 0 && um.user_us > 0) {
		printf("user CPU per round trip at 64x128: %s %.2fx uring",
		       cfg->servers[ci]->name, cm.user_us / um.user_us);
		/* The RESULT line's ratio is base/coil: the interval too. */
		if (boot_ratio(reps, ci, ui, pi, off, &lo, &hi) && lo > 0) {
			printf(", 95%% interval %.2fx-%.2fx (bootstrap of the "
			       "ratio of medians over %d and %d runs)", lo,
			       hi, cm.n, um.n);
			snprintf(keys + strlen(keys),
				 sizeof(keys) - strlen(keys),
				 " ratio_ci95_lo=%s ratio_ci95_hi=%s",
				 bench_fmt(f[0], 32, 1 / hi),
				 bench_fmt(f[1], 32, 1 / lo));
		}
		printf("\n");
	}
	snprintf(name, sizeof(name), "echo_64c_128b_user_cpu%s", sfx);
	result_line(name, "us/rt",
		    num(c, 32, cm.user_us, ck), num(b, 32, um.user_us, uk),
		    num(r, 32, um.user_us / cm.user_us,
			ck && uk && cm.user_us > 0),
		    judged ? "coil<=2x uring" : "info", judged && ck && uk ?
		    bench_yes_no(cm.user_us <= 2 * um.user_us) : "n/a", keys);
	range_keys(keys, sizeof(keys), reps, ci, ui, pi,
		   offsetof(struct sample, sc), true);
	snprintf(name, sizeof(name), "echo_64c_128b_syscalls%s", sfx);
	result_line(name, "syscalls/rt",
		    num(c, 32, cm.sc, csc), num(b, 32, um.sc, um.nsc > 0),
		    num(r, 32, um.sc / cm.sc, csc && um.nsc && cm.sc > 0),
		    judged ? "coil<=0.2/rt" : "info",
		    judged && csc ? bench_yes_no(cm.sc <= 0.2) : "n/a", keys);
}

static void print_results(const struct config *cfg)
{
	int ci = find_server(cfg, "coil"), li = find_server(cfg, "coil_lto");
	int pi, i;

	printf("\n");
	for (pi = 0; pi < cfg->npoints; pi++) {
		char pname[32];

		snprintf(pname, sizeof(pname), "%uc_%ub",
			 cfg->points[pi].conns, cfg->points[pi].size);
		for (i = 0; i < cfg->nservers; i++)
			if (i != ci && summary_of(cfg, i, pi).n > 0)
				result_vs(cfg, pi, ci, i, pname);
		if (strcmp(pname, "64c_128b"))
			continue;
		result_targets(cfg, pi, ci, "");
		if (li >= 0 && summary_of(cfg, li, pi).n > 0)
			result_targets(cfg, pi, li, "_lto");
	}
	fflush(stdout);
}

/* ------------------------------------------------------------- setup */

static void usage(int status)
{
	fprintf(stderr, "usage: %s [--quick | --full] [--servers LIST] "
		"[--build DIR] [--reps N] [--target-reps N] [--secs S] "
		"[--points CxS,...] [--syscalls separate|same|off]\n", PROG);
	exit(status);
}

static void parse_servers(struct config *cfg, char *list)
{
	char *tok, *save = NULL;
	unsigned k;

	cfg->nservers = 0;
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (!strcmp(kinds[k].name, tok))
				break;
		if (k == sizeof(kinds) / sizeof(kinds[0]) ||
		    cfg->nservers == MAX_SERVERS) {
			fprintf(stderr, "%s: unknown server '%s' (or too "
				"many)\n", PROG, tok);
			usage(2);
		}
		cfg->servers[cfg->nservers++] = &kinds[k];
	}
}

static void parse_points(struct config *cfg, const char *list)
{
	const char *p = list;
	int used;

	cfg->npoints = 0;
	while (*p) {
		struct point *pt = &cfg->points[cfg->npoints];

		if (cfg->npoints == MAX_POINTS ||
		    sscanf(p, "%ux%u%n", &pt->conns, &pt->size, &used) != 2 ||
		    pt->conns < 1 || pt->conns > 4096 || pt->size < 8 ||
		    pt->size > (1u << 20)) {
			fprintf(stderr, "%s: bad points '%s'\n", PROG, list);
			usage(2);
		}
		cfg->npoints++;
		p += used;
		if (*p == ',')
			p++;
	}
}

static void set_mode(struct config *cfg, bool quick)
{
	static char quick_servers[] = "coil,coil_lto,epoll,uring,threads,uv";

	cfg->reps = quick ? 1 : 3;
	cfg->target_reps = quick ? 1 : 9;
	cfg->secs = quick ? 2 : 5;
	cfg->warm = quick ? 0.3 : 0.5;
	cfg->sc_secs = 1;
	cfg->us_secs = quick ? 1 : 2;
	parse_points(cfg, quick ? "64x128,1x128" :
		     "1x128,64x128,512x128,1x4096,64x4096,512x4096");
	if (cfg->nservers == 0) {
		char list[sizeof(quick_servers)];

		memcpy(list, quick_servers, sizeof(list));
		parse_servers(cfg, list);
	}
}

/* The build directory this program was built in: DIR/bench/echo. */
static char *default_build(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;
	int i;

	if (n <= 0)
		bench_die(PROG, "readlink /proc/self/exe", errno);
	path[n] = '\0';
	for (i = 0; i < 2; i++) {
		slash = strrchr(path, '/');
		if (!slash)
			bench_die(PROG, "locating the build directory", ENOENT);
		*slash = '\0';
	}
	return path;
}

/* What the command line overrides in the mode's settings. */
struct overrides {
	bool quick;
	int reps;		/* 0: the mode's */
	int target_reps;	/* 0: the mode's, or reps if that is given */
	double secs;		/* 0: the mode's */
	const char *points;	/* NULL: the mode's */
};

static enum sc_mode parse_sc_mode(const char *v)
{
	if (!strcmp(v, "separate"))
		return SC_SEPARATE;
	if (!strcmp(v, "same"))
		return SC_SAME;
	if (!strcmp(v, "off"))
		return SC_OFF;
	usage(2);
	return SC_OFF;
}

static double parse_secs(const char *v)
{
	char *end;
	double secs = strtod(v, &end);

	if (end == v || *end || !(secs >= 0.1 && secs <= 600)) {
		fprintf(stderr, "%s: bad --secs '%s' (0.1..600)\n", PROG, v);
		usage(2);
	}
	return secs;
}

/* One "--NAME VALUE" option; false if @a is none of them. */
static bool parse_valued(struct config *cfg, struct overrides *o,
			 const char *a, char *v)
{
	if (!strcmp(a, "--servers"))
		parse_servers(cfg, v);
	else if (!strcmp(a, "--build"))
		cfg->build = v;
	else if (!strcmp(a, "--reps"))
		o->reps = (int)bench_parse_count(PROG, v, BENCH_MAX_REPS);
	else if (!strcmp(a, "--target-reps"))
		o->target_reps = (int)bench_parse_count(PROG, v,
							BENCH_MAX_REPS);
	else if (!strcmp(a, "--secs"))
		o->secs = parse_secs(v);
	else if (!strcmp(a, "--points"))
		o->points = v;
	else if (!strcmp(a, "--syscalls"))
		cfg->sc_mode = parse_sc_mode(v);
	else
		return false;
	return true;
}

static void parse_args(struct config *cfg, int argc, char **argv)
{
	struct overrides o = { .quick = false };
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--quick") || !strcmp(a, "--full"))
			o.quick = !strcmp(a, "--quick");
		else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage(0);
		else if (i + 1 >= argc || !parse_valued(cfg, &o, a, argv[i + 1]))
			usage(2);
		else
			i++;
	}
	set_mode(cfg, o.quick);
	if (o.reps)
		cfg->reps = cfg->target_reps = o.reps;
	if (o.target_reps)
		cfg->target_reps = o.target_reps;
	cfg->total_reps = cfg->reps > cfg->target_reps ? cfg->reps :
							 cfg->target_reps;
	if (o.secs > 0)
		cfg->secs = o.secs;
	if (o.points)
		parse_points(cfg, o.points);
	if (!cfg->build)
		cfg->build = default_build();
}

/* A CPU number from the environment, or -1. */
static int env_cpu(const char *name)
{
	const char *v = getenv(name);
	char *end;
	long cpu;

	if (!v || !*v)
		return -1;
	cpu = strtol(v, &end, 10);
	return *end || cpu < 0 || cpu >= CPU_SETSIZE ? -1 : (int)cpu;
}

/*
 * Server on the first allowed CPU, load on the second, unless bench/run
 * chose (COIL_BENCH_SERVER_CPU, COIL_BENCH_LOAD_CPU); unpinned if one.
 */
static void pick_cpus(struct config *cfg)
{
	cpu_set_t set;
	int cpu, found = 0;

	cfg->cpu_server = env_cpu("COIL_BENCH_SERVER_CPU");
	cfg->cpu_load = env_cpu("COIL_BENCH_LOAD_CPU");
	if (cfg->cpu_server >= 0 && cfg->cpu_load >= 0 &&
	    cfg->cpu_server != cfg->cpu_load)
		return;
	cfg->cpu_server = cfg->cpu_load = -1;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (cpu = 0; cpu < CPU_SETSIZE && found < 2; cpu++) {
		if (!CPU_ISSET(cpu, &set))
			continue;
		if (found++ == 0)
			cfg->cpu_server = cpu;
		else
			cfg->cpu_load = cpu;
	}
	if (cfg->cpu_load < 0) {
		cfg->cpu_server = -1;
		printf("only one CPU: server and load generator run "
		       "unpinned, sharing it (numbers are not comparable "
		       "with a 2-CPU run)\n");
	}
}

/* Can perf count syscalls here? Sets cfg->sc_why when it cannot. */
static void probe_perf(struct config *cfg)
{
	char out[] = "/tmp/coil-echo-probe-XXXXXX";
	char *argv[] = { "perf", "stat", "-x,", "-e", "raw_syscalls:sys_enter",
			 "-o", out, "true", NULL };
	struct spawn_fds f = { devnull, devnull, devnull, { -1, -1 } };
	int fd, status;
	pid_t pid;

	if (cfg->sc_mode == SC_OFF) {
		cfg->sc_why = "--syscalls off";
		return;
	}
	fd = mkstemp(out);
	if (fd < 0) {
		cfg->sc_why = "no temporary file for perf's output";
		return;
	}
	close(fd);
	pid = spawn(argv, -1, &f);
	status = pid > 0 ? reap(pid, 10000) : -1;
	if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) == 127)
		cfg->sc_why = "perf is not installed";
	else if (WEXITSTATUS(status) != 0 || !(perf_read_count(out) > 0))
		cfg->sc_why = "`perf stat -e raw_syscalls:sys_enter` does not "
			      "work here (needs root or perf_event_paranoid "
			      "<= -1, and tracefs)";
	unlink(out);
}

static void check_servers(struct config *cfg)
{
	char path[PATH_MAX];
	int i;

	for (i = 0; i < cfg->nservers; i++) {
		const struct server_kind *k = cfg->servers[i];

		snprintf(path, sizeof(path), "%s/%s", cfg->build, k->path);
		cfg->present[i] = access(path, X_OK) == 0;
		printf("  %-15s %s%s\n", k->name, k->what, cfg->present[i] ?
		       "" : ": NOT BUILT, skipped");
		if (!cfg->present[i] && !strcmp(k->name, "coil"))
			printf("  %-15s (%s does not exist yet)\n", "", path);
	}
}

int main(int argc, char **argv)
{
	static struct config cfg;
	uint64_t t0 = bench_now();
	int rep, pi, si, k;

	parse_args(&cfg, argc, argv);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0)
		bench_die(PROG, "open /dev/null", errno);
	signal(SIGINT, on_fatal_signal);
	signal(SIGTERM, on_fatal_signal);
	signal(SIGHUP, on_fatal_signal);
	signal(SIGPIPE, SIG_IGN);
	atexit(kill_all);
	printf("echo: %d rep(s) x %d point(s), %g s windows (warm-up %g s, "
	       "syscall window %g s, user-time window %g s), build %s\n",
	       cfg.reps, cfg.npoints, cfg.secs, cfg.warm, cfg.sc_secs,
	       cfg.us_secs, cfg.build);
	if (cfg.target_reps > cfg.reps)
		printf("then %d more rep(s) at 64x128 of %s only, where the "
		       "issue's targets are judged\n",
		       cfg.target_reps - cfg.reps, JUDGED_SERVERS);
	pick_cpus(&cfg);
	if (cfg.cpu_load >= 0)
		printf("server on CPU %d, echo_load on CPU %d\n",
		       cfg.cpu_server, cfg.cpu_load);
	probe_perf(&cfg);
	if (cfg.sc_why)
		printf("server syscalls: n/a (%s)\n", cfg.sc_why);
	check_servers(&cfg);
	for (rep = 0; rep < cfg.total_reps; rep++)
		for (pi = 0; pi < cfg.npoints; pi++) {
			bool extra = rep >= cfg.reps;
			int order[MAX_SERVERS];

			if (extra && !is_target_point(&cfg.points[pi]))
				continue;
			run_order(cfg.nservers, rep, pi, order);
			for (k = 0; k < cfg.nservers; k++) {
				si = order[k];
				if (cfg.present[si] &&
				    (!extra || is_judged_server(cfg.servers[si])))
					run_one(&cfg, cfg.servers[si],
						&cfg.points[pi], rep,
						&samples[si][pi][rep]);
			}
		}
	for (pi = 0; pi < cfg.npoints; pi++)
		print_table(&cfg, pi);
	print_results(&cfg);
	printf("echo: %d failed run(s), %.1f s in all\n", nfailed,
	       (double)(bench_now() - t0) / 1e9);
	return nfailed ? 1 : 0;
}
