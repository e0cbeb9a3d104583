/* SPDX-License-Identifier: MIT */
/*
 * tests/fuzz/fuzz_http_parser.c - libFuzzer target for net/http/parser.c.
 * Built and run by tests/fuzz/run.sh.
 *
 * Input: byte 0 chooses the mode (bit 0: parse responses, bit 1: they
 * answer HEAD, bit 2: they answer CONNECT, bit 3: tiny limits so that
 * every limit is reachable), byte 1 seeds the split points, the rest is the
 * byte stream. The stream is parsed in one piece, at random split points
 * and (when short) byte by byte; the three transcripts must be identical,
 * and every result must be success, EOF or a parse error, never -EINVAL.
 * Slices and consumed counts are checked inside the driver
 * (http_transcript.h), which also gives the parser a fresh heap copy on
 * every call so that ASan sees any read outside the bytes it was offered.
 */
#include <stddef.h>
#include <stdint.h>

#include "http_transcript.h"

/* Byte by byte costs O(n^2) copies: only for short inputs. */
#define BYTEWISE_MAX 512

static const struct coil__http_limits tiny = {
	.max_start_line = 40,
	.max_field_line = 40,
	.max_fields = 4,
	.max_head = 200,
	.max_chunk_line = 12,
	.max_body = 100,
};

/* xorshift32: split points that depend on the input only. */
static uint32_t next_rand(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static size_t random_cuts(size_t *cuts, size_t n, uint8_t seed)
{
	uint32_t s = 0x9e3779b9u ^ seed;
	size_t at = 0, k = 0;

	while (at < n) {
		at += 1 + next_rand(&s) % (seed & 1 ? 7 : 64);
		cuts[k++] = at;
	}
	return k;
}

static int transcript(struct ht_run *r, struct ht_buf *out)
{
	int err = ht_run(r, out);

	HT_ASSERT(err == 0 || err == 1 || coil__http_is_parse_error(err));
	HT_ASSERT(err >= 0 || coil__http_error_status(err) >= 400);
	return err;
}

static void compare(const struct ht_buf *a, const struct ht_buf *b)
{
	if (a->len == b->len && !memcmp(a->p, b->p, a->len))
		return;
	fprintf(stderr, "one-shot:\n%.*s\nsplit:\n%.*s\n", (int)a->len, a->p,
		(int)b->len, b->p);
	HT_ASSERT(!"split input parsed differently");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ht_buf ref = { 0 }, got = { 0 };
	struct ht_run r = { 0 };
	size_t *cuts, i;

	if (size < 2)
		return 0;
	r.kind = data[0] & 1 ? COIL__HTTP_RESPONSE : COIL__HTTP_REQUEST;
	r.flags = (data[0] >> 1) & 3;
	r.lim = data[0] & 8 ? &tiny : NULL;
	r.src = (const char *)data + 2;
	r.n = size - 2;
	transcript(&r, &ref);

	cuts = malloc((r.n + 1) * sizeof(*cuts));
	HT_ASSERT(cuts);
	r.cuts = cuts;
	r.ncuts = random_cuts(cuts, r.n, data[1]);
	transcript(&r, &got);
	compare(&ref, &got);

	if (r.n <= BYTEWISE_MAX) {
		for (i = 0; i < r.n; i++)
			cuts[i] = i + 1;
		r.ncuts = r.n;
		got.len = 0;
		transcript(&r, &got);
		compare(&ref, &got);
	}
	free(cuts);
	ht_buf_fini(&ref);
	ht_buf_fini(&got);
	return 0;
}
