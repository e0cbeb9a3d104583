/* SPDX-License-Identifier: MIT */
/*
 * net/http/client_url.c - absolute URLs for the HTTP client: splitting one
 * into scheme, host, port and target, and resolving a redirect's Location
 * against the URL it came from (RFC 3986 §5.2, without dot-segment
 * removal, which servers do themselves).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static uint16_t default_port(const char *scheme)
{
	if (!strcmp(scheme, "http") || !strcmp(scheme, "ws"))
		return 80;
	if (!strcmp(scheme, "https") || !strcmp(scheme, "wss"))
		return 443;
	if (!strcmp(scheme, "ftp"))
		return 21;
	return 0;
}

/* Length of the scheme of @url ("http" in "http://..."), 0 if none. */
static size_t scheme_len(const char *url)
{
	size_t i = 0;

	if (!isalpha((unsigned char)url[0]))
		return 0;
	while (isalnum((unsigned char)url[i]) || url[i] == '+' ||
	       url[i] == '-' || url[i] == '.')
		i++;
	return strncmp(url + i, "://", 3) ? 0 : i;
}

static int parse_port(const char *p, size_t n, uint16_t *port)
{
	unsigned long v = 0;
	size_t i;

	if (!n || n > 5)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return -EINVAL;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (!v || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/*
 * Split the authority [user@]host[:port] at @a (@n bytes) into @u's host
 * (written at @out) and port.
 */
static int parse_authority(const char *a, size_t n, struct coil__url *u,
			   char *out)
{
	const char *at = memrchr(a, '@', n), *h, *colon = NULL, *end = a + n;
	size_t hlen;

	if (at) {
		u->userinfo = true;
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	if (*a == '[') {
		h = memchr(a, ']', n);
		if (!h)
			return -EINVAL;
		hlen = (size_t)(h - a - 1);
		memcpy(out, a + 1, hlen);
		if (h + 1 < end) {
			if (h[1] != ':')
				return -EINVAL;
			colon = h + 1;
		}
	} else {
		colon = memchr(a, ':', n);
		hlen = colon ? (size_t)(colon - a) : n;
		memcpy(out, a, hlen);
	}
	out[hlen] = '\0';
	if (!hlen)
		return -EINVAL;
	u->host = out;
	if (colon)
		return parse_port(colon + 1, (size_t)(end - colon - 1),
				  &u->port);
	u->port = default_port(u->scheme);
	return 0;
}

int coil__url_parse(const char *url, struct coil__url *u)
{
	size_t slen, alen, tlen, len;
	const char *auth, *t;
	char *p;
	int err;

	memset(u, 0, sizeof(*u));
	if (!url || !(slen = scheme_len(url)))
		return -EINVAL;
	len = strlen(url);
	auth = url + slen + 3;
	alen = strcspn(auth, "/?#");
	t = auth + alen;
	tlen = strcspn(t, "#");
	/* scheme, host, hostport, target ("/" + query), each NUL-ended. */
	u->buf = p = malloc(2 * len + 32);
	if (!u->buf)
		return -ENOMEM;
	for (size_t i = 0; i < slen; i++)
		p[i] = (char)tolower((unsigned char)url[i]);
	p[slen] = '\0';
	u->scheme = p;
	p += slen + 1;
	err = parse_authority(auth, alen, u, p);
	if (err) {
		coil__url_fini(u);
		return err;
	}
	p += strlen(p) + 1;
	len = strlen(u->host);
	if (strchr(u->host, ':')) {
		*p = '[';
		memmove(p + 1, u->host, len);
		p[len + 1] = ']';
		len += 2;
	} else {
		memmove(p, u->host, len);
	}
	p[len] = '\0';
	if (u->port && u->port != default_port(u->scheme))
		len += (size_t)snprintf(p + len, 8, ":%u", u->port);
	u->hostport = p;
	p += len + 1;
	u->target = p;
	if (!tlen || *t != '/')
		*p++ = '/';
	memcpy(p, t, tlen);
	p[tlen] = '\0';
	return 0;
}

void coil__url_fini(struct coil__url *u)
{
	free(u->buf);
	u->buf = NULL;
}

char *coil__url_resolve(const char *base, const char *ref, size_t rlen)
{
	size_t bs = scheme_len(base), keep;
	const char *auth_end, *q;
	char *out;

	if (!bs)
		return NULL;
	if (rlen && scheme_len(ref) && scheme_len(ref) < rlen)
		return strndup(ref, rlen);                 /* absolute */
	if (rlen >= 2 && ref[0] == '/' && ref[1] == '/')
		keep = bs + 1;                             /* "//host/..." */
	else {
		auth_end = base + bs + 3 + strcspn(base + bs + 3, "/?#");
		keep = (size_t)(auth_end - base);
		if (!rlen || ref[0] != '/') {
			/* Relative path: keep the base's directory. */
			q = auth_end + strcspn(auth_end, "?#");
			while (rlen && ref[0] != '?' && q > auth_end &&
			       q[-1] != '/')
				q--;
			keep = (size_t)(q - base);
			if (q == auth_end && rlen && ref[0] != '?') {
				if (asprintf(&out, "%.*s/%.*s", (int)keep,
					     base, (int)rlen, ref) < 0)
					return NULL;
				return out;
			}
		}
	}
	if (asprintf(&out, "%.*s%.*s", (int)keep, base, (int)rlen, ref) < 0)
		return NULL;
	return out;
}

char *coil__url_without_userinfo(const char *url)
{
	size_t bs = scheme_len(url), alen;
	const char *auth, *at;
	char *out;

	if (!bs)
		return strdup(url);
	auth = url + bs + 3;
	alen = strcspn(auth, "/?#");
	at = memrchr(auth, '@', alen);
	if (!at)
		return strdup(url);
	if (asprintf(&out, "%.*s%s", (int)(auth - url), url, at + 1) < 0)
		return NULL;
	return out;
}
