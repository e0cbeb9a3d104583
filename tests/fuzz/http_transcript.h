/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/http_transcript.h - drive net/http/parser.c the way a
 * connection would and write down everything it reports, so that two runs
 * over the same bytes split differently can be compared byte for byte.
 * Shared by tests/test_http_parser.c and the libFuzzer target.
 *
 * The input is revealed in steps (the "cuts"). Every parser call gets a
 * fresh heap copy of the unconsumed bytes, so a parser that reads past its
 * buffer or keeps a pointer from an earlier call trips AddressSanitizer,
 * and every slice it returns is checked to lie inside that call's buffer.
 * A broken invariant aborts (a crash is what a fuzzer reports).
 */
#ifndef COIL_TESTS_HTTP_TRANSCRIPT_H
#define COIL_TESTS_HTTP_TRANSCRIPT_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

#define HT_FIELDS 128

#define HT_ASSERT(c)                                                     \
	do {                                                             \
		if (!(c)) {                                              \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", \
				__FILE__, __LINE__, #c);                 \
			abort();                                         \
		}                                                        \
	} while (0)

/* A growable byte string: the transcript. */
struct ht_buf {
	char *p;    /* bytes; malloc'd, freed by ht_buf_fini() */
	size_t len; /* bytes used */
	size_t cap; /* bytes allocated */
};

static inline void ht_put(struct ht_buf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		HT_ASSERT(b->p);
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static inline void ht_printf(struct ht_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline void ht_printf(struct ht_buf *b, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	HT_ASSERT(n >= 0 && (size_t)n < sizeof(tmp));
	ht_put(b, tmp, (size_t)n);
}

static inline void ht_buf_fini(struct ht_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* @s lies inside [@lo, @lo + @n). */
static inline void ht_check_slice(struct coil__http_slice s, const char *lo,
				  size_t n)
{
	if (!s.len)
		return;
	HT_ASSERT(s.ptr >= lo && s.ptr <= lo + n && s.len <= n);
	HT_ASSERT((size_t)(s.ptr - lo) + s.len <= n);
}

static inline void ht_slice(struct ht_buf *b, struct coil__http_slice s)
{
	ht_put(b, s.ptr, s.len);
}

static inline void ht_fields(struct ht_buf *b, const char *tag,
			     const struct coil__http_field *f, size_t n,
			     const char *lo, size_t size)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ht_check_slice(f[i].name, lo, size);
		ht_check_slice(f[i].value, lo, size);
		HT_ASSERT(f[i].name.len > 0);
		ht_printf(b, "%s ", tag);
		ht_slice(b, f[i].name);
		ht_put(b, ": ", 2);
		ht_slice(b, f[i].value);
		ht_put(b, "\n", 1);
	}
}

static inline void ht_head(struct ht_buf *b, const struct coil__http_parser *p,
			   const struct coil__http_head *h, const char *buf,
			   size_t size)
{
	HT_ASSERT(h->size == size && h->nfields <= p->cap);
	ht_check_slice(h->method, buf, size);
	ht_check_slice(h->target, buf, size);
	ht_check_slice(h->reason, buf, size);
	if (p->kind == COIL__HTTP_REQUEST) {
		ht_put(b, "REQ ", 4);
		ht_slice(b, h->method);
		ht_put(b, " ", 1);
		ht_slice(b, h->target);
		ht_printf(b, " 1.%d\n", h->minor);
	} else {
		ht_printf(b, "RES %d 1.%d ", h->status, h->minor);
		ht_slice(b, h->reason);
		ht_put(b, "\n", 1);
	}
	ht_fields(b, "F", h->fields, h->nfields, buf, size);
	ht_printf(b,
		  "FRAMING %d cl=%llu ka=%d up=%d ex=%d tc=%d size=%zu\nBODY ",
		  (int)h->framing, (unsigned long long)h->content_length,
		  h->keep_alive, h->upgrade, h->expect_continue,
		  h->transfer_coded, h->size);
}

/* One run's settings. */
struct ht_run {
	enum coil__http_kind kind; /* requests or responses */
	unsigned flags;		   /* COIL__HTTP_TO_* for each response */
	const struct coil__http_limits *lim; /* NULL: defaults */
	const char *src;		     /* the whole input */
	size_t n;			     /* its length */
	const size_t *cuts;		     /* reveal points, increasing */
	size_t ncuts;			     /* entries in @cuts */
	unsigned messages;		     /* out: complete messages */
	bool upgrade;			     /* the last head's upgrade flag */
};

/* The number of input bytes revealed after @avail. */
static inline size_t ht_next_cut(const struct ht_run *r, size_t *ci,
				 size_t avail)
{
	while (*ci < r->ncuts && r->cuts[*ci] <= avail)
		(*ci)++;
	if (*ci < r->ncuts && r->cuts[*ci] < r->n)
		return r->cuts[(*ci)++];
	return r->n;
}

/* A parser step's outcome for the driver loop. */
enum {
	HT_MORE,
	HT_ON,
	HT_STOP
};

/*
 * One call on buf[0..blen): returns HT_ON with *@used consumed, HT_MORE
 * when the parser needs more input, HT_STOP after an error or an upgrade.
 */
static inline int ht_step(struct ht_run *r, struct coil__http_parser *p,
			  bool *in_head, const char *buf, size_t blen,
			  size_t *used, struct ht_buf *out, int *err)
{
	struct coil__http_head h;
	struct coil__http_slice d;
	const struct coil__http_field *t;
	size_t nt;
	ssize_t n;

	if (*in_head) {
		n = coil__http_parse_head(p, buf, blen, &h);
		if (n > 0) {
			HT_ASSERT((size_t)n <= blen);
			ht_head(out, p, &h, buf, (size_t)n);
			r->upgrade = h.upgrade;
			*in_head = false;
		}
	} else {
		n = coil__http_parse_body(p, buf, blen, &d);
		if (n >= 0) {
			HT_ASSERT((size_t)n <= blen && d.len <= (size_t)n);
			ht_check_slice(d, buf, (size_t)n);
			ht_slice(out, d);
		}
		if (n >= 0 && coil__http_body_is_done(p)) {
			t = coil__http_trailers(p, &nt);
			ht_printf(out, "\nTRAILERS %zu\n", nt);
			ht_fields(out, "T", t, nt, buf, (size_t)n);
			ht_put(out, "END\n", 4);
			r->messages++;
			*in_head = true;
			*used = (size_t)n;
			if (r->upgrade)
				return HT_STOP;
			coil__http_parser_reset(p, r->flags);
			return HT_ON;
		}
		if (n == 0)
			return HT_MORE;
	}
	if (n < 0) {
		ht_printf(out, "\nERROR %d\n", (int)n);
		*err = (int)n;
		return HT_STOP;
	}
	*used = (size_t)n;
	return n ? HT_ON : HT_MORE;
}

/*
 * Parse every message in r->src, revealed at r->cuts, into @out. Returns
 * the first error, or coil__http_body_eof()'s result at the end of input
 * (0: it ended cleanly), or 1 when a message upgraded the connection.
 */
static inline int ht_run(struct ht_run *r, struct ht_buf *out)
{
	struct coil__http_field fields[HT_FIELDS];
	struct coil__http_parser p;
	size_t start = 0, ci = 0, used, avail, blen;
	bool in_head = true;
	char *buf;
	int err = 0, s;

	coil__http_parser_init(&p, r->kind, r->lim, fields, HT_FIELDS);
	coil__http_parser_reset(&p, r->flags);
	r->messages = 0;
	avail = ht_next_cut(r, &ci, 0);
	for (;;) {
		blen = avail - start;
		buf = malloc(blen ? blen : 1);
		HT_ASSERT(buf);
		memcpy(buf, r->src + start, blen);
		used = 0;
		s = ht_step(r, &p, &in_head, buf, blen, &used, out, &err);
		free(buf);
		if (s == HT_STOP)
			return err ? err : 1;
		start += used;
		if (s == HT_ON)
			continue;
		if (avail == r->n)
			break;
		avail = ht_next_cut(r, &ci, avail);
	}
	err = coil__http_body_eof(&p);
	ht_printf(out, "\nEOF %d\n", err);
	return err;
}

#endif /* COIL_TESTS_HTTP_TRANSCRIPT_H */
