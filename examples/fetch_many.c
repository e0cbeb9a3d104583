/* SPDX-License-Identifier: MIT */
/*
 * examples/fetch_many.c - the lecture's web_async_tasks: fetch a list of
 * URLs concurrently through one HTTP session and print each one's status
 * and byte count, in the order given. http:// goes through coil's native
 * HTTP/1.1 client, https:// (and anything else) through libcurl driven by
 * the same ring; either way one task per URL, one thread.
 *
 * Usage: fetch_many [-C CAFILE] [-k] URL...
 *   e.g. fetch_many http://127.0.0.1:8080/ https://example.org/
 *
 * -C  trust the CA certificates in CAFILE (PEM) for https://, e.g. a
 *     local server's self-signed certificate, instead of the system's
 * -k  do not verify https:// peers at all
 *
 * Exit status 0 when every URL was fetched (whatever its HTTP status),
 * 1 when one failed, 2 for bad usage, 77 where io_uring is refused.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include <coil.h>
#include <coil/http_client.h>

struct fetch {
	struct coil_http_session *s;
	const char *url;
	int status;   /* HTTP status, or a negative errno */
	size_t bytes;
	uint64_t ns;
};

static void *fetch_one(void *arg)
{
	struct fetch *f = arg;
	struct coil_http_response *r;
	uint64_t t0 = coil_now();
	int err;

	err = coil_http_get(f->s, f->url, &r);
	f->ns = coil_now() - t0;
	if (err) {
		f->status = err;
		return NULL;
	}
	f->status = coil_http_response_status(r);
	coil_http_response_body(r, &f->bytes);
	coil_http_response_free(r);
	return NULL;
}

struct args {
	int n;
	char **urls;
	struct coil_http_session_opts opts;
};

static void *main_task(void *arg)
{
	struct args *a = arg;
	struct fetch *f = calloc((size_t)a->n, sizeof(*f));
	struct coil_task **t = calloc((size_t)a->n, sizeof(*t));
	struct coil_http_session *s;
	uint64_t t0 = coil_now();
	int i, n, err, failed = 0;

	if (!f || !t) {
		free(f);
		free(t);
		return (void *)1;
	}
	err = coil_http_session_create(&a->opts, &s);
	if (err) {
		fprintf(stderr, "fetch_many: session: %s\n",
			coil_strerror(err));
		free(f);
		free(t);
		return (void *)1;
	}
	for (n = 0; n < a->n; n++) {
		f[n].s = s;
		f[n].url = a->urls[n];
		err = coil_spawn(&t[n], fetch_one, &f[n]);
		if (err) {
			/* The fetches already started still finish. */
			fprintf(stderr, "fetch_many: spawn: %s\n",
				coil_strerror(err));
			failed++;
			break;
		}
	}
	for (i = 0; i < n; i++)
		coil_join(t[i], NULL);
	for (i = 0; i < n; i++) {
		if (f[i].status < 0) {
			failed++;
			printf("%-50s error: %s\n", f[i].url,
			       coil_strerror(f[i].status));
		} else {
			printf("%-50s %d, %zu bytes, %.1f ms\n", f[i].url,
			       f[i].status, f[i].bytes, f[i].ns / 1e6);
		}
	}
	printf("%d URLs in %.1f ms\n", a->n, (coil_now() - t0) / 1e6);
	coil_http_session_destroy(s);
	free(t);
	free(f);
	return (void *)(intptr_t)(failed != 0);
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	void *res = NULL;
	int c, err;

	while ((c = getopt(argc, argv, "C:k")) != -1) {
		switch (c) {
		case 'C': a.opts.ca_file = optarg; break;
		case 'k': a.opts.insecure = true; break;
		default: goto usage;
		}
	}
	if (optind >= argc)
		goto usage;
	a.n = argc - optind;
	a.urls = argv + optind;
	err = coil_run(main_task, &a, &res);
	if (err) {
		fprintf(stderr, "fetch_many: %s\n", coil_strerror(err));
		/* 77: io_uring refused here (the tests count it a skip) */
		return err == -ENOSYS || err == -EPERM ? 77 : 1;
	}
	return res ? 1 : 0;
usage:
	fprintf(stderr, "usage: fetch_many [-C CAFILE] [-k] URL...\n");
	return 2;
}
