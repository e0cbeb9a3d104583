/* SPDX-License-Identifier: MIT */
/*
 * http_hello - an HTTP/1.1 hello-world server (the server benchmark's
 * coil side): every request gets "Hello, world!\n".
 *
 *   http_hello [-p PORT] [-H HOST] [-n]
 *
 * -p  port (default 8080; 0 picks a free one)
 * -H  address to listen on (default "::", IPv4 and IPv6)
 * -n  nginx's response: the same fields, in the same sizes, as nginx's
 *     `return 200 "Hello, world!\n";` (Server, Date, Content-Type,
 *     Content-Length, Connection: keep-alive), so that both send the same
 *     bytes per response (bench/http_server checks it)
 *
 * Prints "READY port=N" once it accepts connections and exits 0 on
 * SIGINT/SIGTERM (read from a signalfd by a task, as in echo_server),
 * after the server has closed every connection.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <coil.h>
#include <coil/http_server.h>

#include "num_arg.h"
#include "shutdown_signal.h"

static const char hello[] = "Hello, world!\n";

static int on_request(struct coil_http_req *req, struct coil_http_res *res,
		      void *userdata)
{
	bool like_nginx = *(bool *)userdata;

	coil_http_res_header(res, "Content-Type", "text/plain");
	/* nginx names keep-alive explicitly, even to HTTP/1.1 clients. */
	if (like_nginx && coil_http_req_keep_alive(req) &&
	    coil_http_req_minor(req) == 1)
		coil_http_res_header(res, "Connection", "keep-alive");
	return coil_http_res_send(res, hello, sizeof(hello) - 1);
}

struct args {
	const char *host;
	uint16_t port;
	bool like_nginx;
	int sfd;
	struct coil_listener *l;
	struct coil_http_server_opts opts;
};

static void *serve(void *arg)
{
	struct args *a = arg;

	return (void *)(intptr_t)coil_http_serve(a->l, on_request,
						 &a->like_nginx, &a->opts);
}

static void *amain(void *arg)
{
	struct args *a = arg;
	struct signalfd_siginfo si;
	struct coil_task *server;
	void *ret = NULL;
	int err = coil_tcp_listen(a->host, a->port, NULL, &a->l);

	if (err) {
		fprintf(stderr, "http_hello: listen: %s\n", coil_strerror(err));
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
	if (ret)
		fprintf(stderr, "http_hello: %s\n",
			coil_strerror((int)(intptr_t)ret));
	return ret ? (void *)1 : NULL;
}

int main(int argc, char **argv)
{
	struct args a = { .host = "::", .port = 8080 };
	void *failed = NULL;
	int c, err;

	while ((c = getopt(argc, argv, "p:H:n")) != -1) {
		switch (c) {
		case 'p':
			a.port = (uint16_t)num_arg("http_hello", "-p", optarg, 0,
						   65535);
			break;
		case 'H': a.host = optarg; break;
		case 'n': a.like_nginx = true; break;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;
	/* "nginx/1.22.1" is what Debian 12's nginx sends: the same length. */
	a.opts.server_name = a.like_nginx ? "coil/0.1.0.0" : "coil";
	a.sfd = shutdown_signalfd("http_hello");
	if (a.sfd < 0)
		return 1;
	err = coil_run(amain, &a, &failed);
	close(a.sfd);
	if (err) {
		fprintf(stderr, "http_hello: %s\n", coil_strerror(err));
		return err == -ENOSYS || err == -EPERM ? 77 : 1;
	}
	return failed ? 1 : 0;
usage:
	fprintf(stderr, "usage: http_hello [-p PORT] [-H HOST] [-n]\n");
	return 2;
}
