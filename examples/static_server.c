/* SPDX-License-Identifier: MIT */
/*
 * static_server - serve the files under a directory over HTTP/1.1: every
 * file is opened with coil_openat() relative to the directory, described
 * with coil_statx() and sent with coil_http_res_sendfile() (splice through
 * a pipe: the bytes never enter user memory). Supports HEAD,
 * If-Modified-Since (304), single byte ranges (206, 416) and If-Range.
 *
 *   static_server [-p PORT] [-H HOST] DIR
 *
 * -p  port (default 8080; 0 picks a free one)
 * -H  address to listen on (default "::", IPv4 and IPv6)
 *
 * "/" and directories serve their index.html. Targets are percent-decoded;
 * a target with an empty or ".." segment (so also "//etc/passwd" and
 * "/%2fetc/passwd"), a NUL or a backslash is refused (400). Files are
 * opened with coil_openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): the
 * kernel refuses any lookup that would leave DIR and every symlink (403).
 * On kernels without IORING_OP_OPENAT2 (< 5.6) it falls back to openat with
 * O_NOFOLLOW, which follows symlinks in the middle of a path.
 *
 * Prints "READY port=N" once it accepts connections; exits 0 on SIGINT or
 * SIGTERM after the server has closed every connection.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/openat2.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <coil.h>
#include <coil/http_server.h>

#include "num_arg.h"
#include "shutdown_signal.h"

#define MAX_PATH 1024

struct site {
	int dirfd;
	bool openat2; /* the kernel has IORING_OP_OPENAT2 (probed at start) */
};

/* ------------------------------------------------------------- helpers */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)(c | 0x20);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The target's path, percent-decoded and made relative ("/a/b" -> "a/b",
 * "/" -> "."), into @out. Returns 0, or -EINVAL for what is refused.
 */
static int target_path(const char *t, size_t n, char *out, size_t cap)
{
	size_t i, o = 0;
	const char *seg;

	if (!n || t[0] != '/')
		return -EINVAL;
	for (i = 1; i < n && t[i] != '?' && t[i] != '#'; i++) {
		char c = t[i];

		if (c == '%') {
			if (i + 2 >= n || hexval(t[i + 1]) < 0 ||
			    hexval(t[i + 2]) < 0)
				return -EINVAL;
			c = (char)(hexval(t[i + 1]) << 4 | hexval(t[i + 2]));
			i += 2;
		}
		if (c == '\0' || c == '\\' || o + 2 >= cap)
			return -EINVAL;
		out[o++] = c;
	}
	out[o] = '\0';
	/*
	 * No ".." segment and no empty one but a trailing "dir/": an empty
	 * first segment would make the path absolute, and openat ignores
	 * the directory for an absolute path.
	 */
	for (seg = out; seg; seg = strchr(seg, '/') ? strchr(seg, '/') + 1 :
						       NULL) {
		if (!strncmp(seg, "..", 2) && (seg[2] == '/' || !seg[2]))
			return -EINVAL;
		if (seg[0] == '/')
			return -EINVAL;
	}
	if (!o)
		strcpy(out, ".");
	return 0;
}

static const char *mime_type(const char *path)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".css", "text/css" },
		{ ".js", "text/javascript" },
		{ ".json", "application/json" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" },
		{ ".svg", "image/svg+xml" },
		{ ".pdf", "application/pdf" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (!strcasecmp(dot, types[i][0]))
			return types[i][1];
	return "application/octet-stream";
}

static void http_date(time_t t, char *out, size_t cap)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/*
 * An HTTP-date field value as a time, or -1. RFC 9110 5.6.7: senders use
 * IMF-fixdate, recipients must also take the two obsolete forms, rfc850-date
 * ("Sunday, 06-Nov-94 08:49:37 GMT"; strptime reads 69-99 as 19xx, 00-68 as
 * 20xx) and asctime-date ("Sun Nov  6 08:49:37 1994").
 */
static time_t parse_date(const char *v, size_t n)
{
	static const char *const forms[] = {
		"%a, %d %b %Y %H:%M:%S GMT",
		"%A, %d-%b-%y %H:%M:%S GMT",
		"%a %b %e %H:%M:%S %Y",
	};
	char buf[64];
	struct tm tm;
	const char *end;
	size_t i;

	if (n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n);
	buf[n] = '\0';
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		end = strptime(buf, forms[i], &tm);
		if (end && !*end)
			return timegm(&tm);
	}
	return -1;
}

/*
 * A single "bytes=A-B", "bytes=A-" or "bytes=-N" range of a @size-byte
 * file. Returns 1 with [*first, *last] set, 0 to ignore the field (not
 * bytes, several ranges, malformed: the whole file is sent), -1 when it is
 * unsatisfiable (416).
 */
static int parse_range(const char *v, size_t n, uint64_t size,
		       uint64_t *first, uint64_t *last)
{
	char buf[64], *p, *e;
	unsigned long long a, b;

	if (n >= sizeof(buf) || n < 7 || strncmp(v, "bytes=", 6))
		return 0;
	memcpy(buf, v + 6, n - 6);
	buf[n - 6] = '\0';
	if (strchr(buf, ','))
		return 0;
	/* Digits only: strtoull would also take a sign or leading spaces. */
	p = buf;
	if (*p == '-') { /* the last N bytes */
		if (!isdigit((unsigned char)p[1]))
			return 0;
		b = strtoull(p + 1, &e, 10);
		if (*e)
			return 0;
		if (!b || !size)
			return -1;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return 1;
	}
	if (!isdigit((unsigned char)*p))
		return 0;
	a = strtoull(p, &e, 10);
	if (*e != '-')
		return 0;
	p = e + 1;
	if (*p && !isdigit((unsigned char)*p))
		return 0;
	b = *p ? strtoull(p, &e, 10) : size - 1;
	if (*p && *e)
		return 0;
	if (a >= size)
		return -1;
	if (b < a)
		return 0;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return 1;
}

/*
 * Does a Range field still apply? RFC 9110 13.1.5: with an If-Range, only
 * while its validator matches the file; otherwise the whole file is sent,
 * so that a client resuming a download never gets a piece of a newer
 * version. This server sends no entity tag: only a date exactly equal to
 * Last-Modified matches.
 */
static bool if_range_holds(struct coil_http_req *req, time_t mtime)
{
	size_t n;
	const char *v = coil_http_req_header(req, "If-Range", &n);

	return !v || parse_date(v, n) == mtime;
}

/* ------------------------------------------------------------- serving */

static int simple(struct coil_http_res *res, int status, const char *body)
{
	coil_http_res_status(res, status);
	coil_http_res_header(res, "Content-Type", "text/plain");
	return coil_http_res_send(res, body, strlen(body));
}

/*
 * Open @path under @dfd and nowhere else: the kernel resolves it beneath
 * @dfd without following any symlink.
 */
static int open_beneath(const struct site *s, int dfd, const char *path)
{
	struct open_how how;

	if (!s->openat2)
		return coil_openat(dfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
				   0);
	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
	return coil_openat2(dfd, path, &how);
}

/*
 * Once, before serving: does the kernel take IORING_OP_OPENAT2? Decided on
 * the site directory itself, not on a client's path (a filesystem may
 * answer -EINVAL for a name, and that must not turn the check off).
 */
static void probe_openat2(struct site *s)
{
	struct open_how how;
	int fd;

	memset(&how, 0, sizeof(how));
	how.flags = O_RDONLY | O_CLOEXEC | O_DIRECTORY;
	how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
	fd = coil_openat2(s->dirfd, ".", &how);
	s->openat2 = fd >= 0;
	if (fd >= 0)
		coil_close(fd);
	else
		fprintf(stderr, "static_server: no openat2 through io_uring "
			"(%s): symlinks inside the directory are followed in "
			"the middle of a path\n", coil_strerror(fd));
}

/* Open @path under the site; a directory gives its index.html. */
static int open_file(struct site *s, char *path, struct statx *st)
{
	int fd = open_beneath(s, s->dirfd, path);
	int r;

	if (fd < 0)
		return fd;
	r = coil_statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE |
		       STATX_MTIME, st);
	if (r == 0 && S_ISDIR(st->stx_mode)) {
		int dfd = fd;

		fd = open_beneath(s, dfd, "index.html");
		coil_close(dfd);
		if (fd < 0)
			return fd == -ENOENT ? -EACCES : fd;
		strncat(path, "/index.html", MAX_PATH - strlen(path) - 1);
		r = coil_statx(fd, "", AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE |
			       STATX_MTIME, st);
	}
	if (r == 0 && !S_ISREG(st->stx_mode))
		r = -EACCES;
	if (r < 0) {
		coil_close(fd);
		return r;
	}
	return fd;
}

/* Headers, conditionals and ranges for an open file; sends it. */
static int send_file(struct coil_http_req *req, struct coil_http_res *res,
		     int fd, const char *path, const struct statx *st)
{
	uint64_t size = st->stx_size, first = 0, last = size - 1;
	char date[64], cr[96];
	const char *v;
	size_t n;
	int r = 0;

	http_date((time_t)st->stx_mtime.tv_sec, date, sizeof(date));
	coil_http_res_header(res, "Last-Modified", date);
	coil_http_res_header(res, "Accept-Ranges", "bytes");
	v = coil_http_req_header(req, "If-Modified-Since", &n);
	if (v && parse_date(v, n) >= (time_t)st->stx_mtime.tv_sec) {
		coil_http_res_status(res, 304);
		return coil_http_res_send(res, NULL, 0);
	}
	v = coil_http_req_header(req, "Range", &n);
	if (v && if_range_holds(req, (time_t)st->stx_mtime.tv_sec))
		r = parse_range(v, n, size, &first, &last);
	if (r < 0) {
		snprintf(cr, sizeof(cr), "bytes */%llu",
			 (unsigned long long)size);
		coil_http_res_header(res, "Content-Range", cr);
		return simple(res, 416, "range not satisfiable\n");
	}
	coil_http_res_header(res, "Content-Type", mime_type(path));
	if (r > 0) {
		snprintf(cr, sizeof(cr), "bytes %llu-%llu/%llu",
			 (unsigned long long)first, (unsigned long long)last,
			 (unsigned long long)size);
		coil_http_res_header(res, "Content-Range", cr);
		coil_http_res_status(res, 206);
	}
	if (!size)
		return coil_http_res_send(res, NULL, 0);
	return coil_http_res_sendfile(res, fd, (int64_t)first,
				      (size_t)(last - first + 1));
}

static int on_request(struct coil_http_req *req, struct coil_http_res *res,
		      void *userdata)
{
	struct site *s = userdata;
	char path[MAX_PATH];
	struct statx st;
	const char *t;
	size_t n;
	int fd, r;

	if (!coil_http_req_method_is(req, "GET") &&
	    !coil_http_req_method_is(req, "HEAD")) {
		coil_http_res_header(res, "Allow", "GET, HEAD");
		return simple(res, 405, "method not allowed\n");
	}
	t = coil_http_req_target(req, &n);
	if (target_path(t, n, path, sizeof(path) - 16) < 0)
		return simple(res, 400, "bad path\n");
	fd = open_file(s, path, &st);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return simple(res, 404, "not found\n");
	if (fd == -EACCES || fd == -ELOOP || fd == -EPERM || fd == -EXDEV)
		return simple(res, 403, "forbidden\n");
	if (fd < 0)
		return simple(res, 500, "cannot open\n");
	r = send_file(req, res, fd, path, &st);
	coil_close(fd);
	return r;
}

/* ---------------------------------------------------------------- main */

struct args {
	const char *host;
	uint16_t port;
	int sfd;
	struct site site;
	struct coil_listener *l;
};

static void *serve(void *arg)
{
	struct args *a = arg;
	struct coil_http_server_opts o = { .server_name = "coil" };

	return (void *)(intptr_t)coil_http_serve(a->l, on_request, &a->site,
						 &o);
}

static void *amain(void *arg)
{
	struct args *a = arg;
	struct signalfd_siginfo si;
	struct coil_task *server;
	void *ret = NULL;
	int err = coil_tcp_listen(a->host, a->port, NULL, &a->l);

	probe_openat2(&a->site);
	if (err) {
		fprintf(stderr, "static_server: listen: %s\n",
			coil_strerror(err));
		return (void *)1;
	}
	printf("READY port=%d\n", coil_listener_port(a->l));
	fflush(stdout);
	if (coil_spawn(&server, serve, a) < 0) {
		coil_listener_close(a->l);
		return (void *)1;
	}
	coil_read(a->sfd, &si, sizeof(si), -1);
	coil_listener_close(a->l);
	coil_join(server, &ret);
	return ret ? (void *)1 : NULL;
}

int main(int argc, char **argv)
{
	struct args a = { .host = "::", .port = 8080 };
	void *failed = NULL;
	int c, err;

	while ((c = getopt(argc, argv, "p:H:")) != -1) {
		switch (c) {
		case 'p':
			a.port = (uint16_t)num_arg("static_server", "-p", optarg,
						   0, 65535);
			break;
		case 'H': a.host = optarg; break;
		default: goto usage;
		}
	}
	if (optind != argc - 1)
		goto usage;
	a.site.dirfd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (a.site.dirfd < 0) {
		perror(argv[optind]);
		return 1;
	}
	a.sfd = shutdown_signalfd("static_server");
	if (a.sfd < 0)
		return 1;
	err = coil_run(amain, &a, &failed);
	close(a.sfd);
	close(a.site.dirfd);
	if (err) {
		fprintf(stderr, "static_server: %s\n", coil_strerror(err));
		return err == -ENOSYS || err == -EPERM ? 77 : 1;
	}
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: static_server [-p PORT] [-H HOST] DIR\n");
	return 2;
}
