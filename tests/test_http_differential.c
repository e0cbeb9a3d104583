/* SPDX-License-Identifier: MIT */
/*
 * tests/test_http_differential.c - coil's HTTP/1.1 parser against an
 * independent one, Debian's libhttp-parser (nodejs/http-parser 2.9), over
 * a corpus of valid and invalid requests and responses.
 *
 * Both parse each case in one piece and write down what they saw: start
 * line, fields, body bytes, trailers, keep-alive, message by message. Every
 * case carries the verdict it must get:
 *  - SAME:     both accept and their records are identical;
 *  - REJECT:   both reject it;
 *  - STRICTER: coil rejects what http-parser accepts, on purpose (each
 *              case says why: the RFC lets a recipient reject it, and
 *              accepting it is how smuggling or confusion starts);
 *  - LENIENT:  coil accepts what http-parser rejects, on purpose (each
 *              case says why: extension methods, and 204/304 responses
 *              whose Content-Length http-parser wrongly reads as a body).
 * A case whose verdict changes fails the test, so this list stays the
 * exact, complete list of known differences.
 *
 * Without libhttp-parser (Debian: libhttp-parser-dev) it exits 77: skipped.
 */
#define _GNU_SOURCE
#include <stdio.h>

#ifndef HAVE_HTTP_PARSER
int main(void)
{
	printf("SKIP: libhttp-parser not found (apt-get install "
	       "libhttp-parser-dev)\n");
	return 77;
}
#else

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <http_parser.h>

#include "parser.h"
#include "fuzz/http_transcript.h"

enum verdict { SAME, REJECT, STRICTER, LENIENT };

static const char *const verdict_names[] = {"same", "reject", "stricter",
					     "lenient"};

struct dcase {
	const char *name;          /* what the case is */
	enum verdict verdict;      /* what it must get */
	enum coil__http_kind kind; /* requests or responses */
	unsigned flags;            /* COIL__HTTP_TO_HEAD: responses to HEAD */
	const char *msg;           /* the bytes; may hold NULs */
	size_t len;                /* their length */
	const char *why;           /* STRICTER/LENIENT: the reason */
};

#define Q COIL__HTTP_REQUEST
#define R COIL__HTTP_RESPONSE
#define C(name, verdict, kind, msg) \
	{name, verdict, kind, 0, msg, sizeof(msg) - 1, NULL}
#define D(name, verdict, kind, msg, why) \
	{name, verdict, kind, 0, msg, sizeof(msg) - 1, why}
#define HEADC(name, msg) \
	{name, SAME, R, COIL__HTTP_TO_HEAD, msg, sizeof(msg) - 1, NULL}

#define H " HTTP/1.1\r\nHost: example.com\r\n"
#define CH "POST /" H "Transfer-Encoding: chunked\r\n\r\n"

/* ---------------------------------------------------------- the corpus */

static const struct dcase corpus[] = {
	/* ---- valid requests */
	C("get", SAME, Q, "GET /" H "\r\n"),
	C("get_query_fields", SAME, Q, "GET /search?q=a%20b&x=1#frag" H
	  "User-Agent: curl/7.88\r\nAccept: */*\r\nAccept-Language: en, fr;q=0.5"
	  "\r\n\r\n"),
	C("post_content_length", SAME, Q, "POST /upload" H
	  "Content-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"),
	C("content_length_zero", SAME, Q, "POST /" H "Content-Length: 0\r\n\r\n"),
	C("content_length_leading_zeros", SAME, Q, "POST /" H
	  "Content-Length: 0005\r\n\r\nabcde"),
	C("chunked", SAME, Q, CH "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\n"
	  "chunks.\r\n0\r\n\r\n"),
	C("chunked_upper_hex_and_zeros", SAME, Q, CH "00A\r\n0123456789\r\n"
	  "000\r\n\r\n"),
	C("chunked_extensions", SAME, Q, CH "5;name=value;flag\r\nhello\r\n"
	  "0;last=\"yes\"\r\n\r\n"),
	C("chunked_trailers", SAME, Q, CH "3\r\nabc\r\n0\r\nExpires: never\r\n"
	  "Checksum: 1234\r\n\r\n"),
	C("te_uppercase", SAME, Q, "POST /" H "Transfer-Encoding: CHUNKED\r\n\r\n"
	  "1\r\nx\r\n0\r\n\r\n"),
	C("pipelined", SAME, Q, "GET /1" H "\r\nPOST /2" H
	  "Content-Length: 3\r\n\r\nabcPUT /3" H "Transfer-Encoding: chunked\r\n"
	  "\r\n2\r\nhi\r\n0\r\n\r\nDELETE /4" H "\r\n"),
	C("http10_no_host", SAME, Q, "GET / HTTP/1.0\r\n\r\n"),
	C("http10_keep_alive", SAME, Q, "GET / HTTP/1.0\r\nConnection: keep-alive"
	  "\r\n\r\nGET /2 HTTP/1.0\r\n\r\n"),
	C("connection_close", SAME, Q, "GET /" H "Connection: close\r\n\r\n"),
	C("options_asterisk", SAME, Q, "OPTIONS *" H "\r\n"),
	C("absolute_form", SAME, Q, "GET http://example.com:8080/a/b?c" H "\r\n"),
	C("connect", SAME, Q, "CONNECT example.com:443" H "\r\n"),
	C("upgrade_websocket", SAME, Q, "GET /chat" H "Upgrade: websocket\r\n"
	  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n"),
	C("methods", SAME, Q, "HEAD /" H "\r\nPUT /" H "Content-Length: 1\r\n\r\n"
	  "xPATCH /" H "Content-Length: 0\r\n\r\nDELETE /" H "\r\nTRACE /" H
	  "\r\nOPTIONS /" H "\r\n"),
	C("empty_value", SAME, Q, "GET /" H "X-Empty:\r\nX-Spaces:   \r\n\r\n"),
	C("value_ows_trimmed", SAME, Q, "GET /" H "X-A:  a b\tc \r\nX-B:\tv\r\n\r\n"),
	C("value_with_colon", SAME, Q, "GET /" H "Referer: http://a.b/c:d\r\n\r\n"),
	C("value_obs_text", SAME, Q, "GET /" H "X-Latin: caf\xc3\xa9\r\n\r\n"),
	C("name_all_tchars", SAME, Q, "GET /" H
	  "!#$%&'*+-.^_`|~0123456789AZaz: v\r\n\r\n"),
	C("expect_continue", SAME, Q, "PUT /f" H "Expect: 100-continue\r\n"
	  "Content-Length: 2\r\n\r\nok"),
	C("leading_crlf", SAME, Q, "\r\nGET /" H "\r\n"),
	C("many_fields", SAME, Q, "GET /" H "A1: 1\r\nA2: 2\r\nA3: 3\r\nA4: 4\r\n"
	  "A5: 5\r\nA6: 6\r\nA7: 7\r\nA8: 8\r\nA9: 9\r\nA10: 10\r\nA11: 11\r\n"
	  "A12: 12\r\nA13: 13\r\nA14: 14\r\nA15: 15\r\nA16: 16\r\n\r\n"),
	C("http11_minor_1_keep_alive_default", SAME, Q, "GET /a" H "\r\nGET /b" H
	  "\r\n"),
	C("host_empty_value", SAME, Q, "GET / HTTP/1.1\r\nHost:\r\n\r\n"),

	/* ---- valid responses */
	C("ok_length", SAME, R, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
	C("ok_chunked_trailers", SAME, R, "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	  "chunked\r\nTrailer: X-Sum\r\n\r\n5\r\nhello\r\n0\r\nX-Sum: 9\r\n\r\n"),
	C("no_content", SAME, R, "HTTP/1.1 204 No Content\r\n\r\n"),
	C("not_modified", SAME, R, "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n"),
	C("continue_then_ok", SAME, R, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK"
	  "\r\nContent-Length: 2\r\n\r\nok"),
	C("http10_until_close", SAME, R, "HTTP/1.0 200 OK\r\nServer: x\r\n\r\n"
	  "everything until close"),
	C("until_close", SAME, R, "HTTP/1.1 200 OK\r\n\r\nno length"),
	C("http10_keep_alive_length", SAME, R, "HTTP/1.0 200 OK\r\nConnection: "
	  "keep-alive\r\nContent-Length: 1\r\n\r\nx"),
	C("reason_with_spaces", SAME, R, "HTTP/1.1 404 Not  Found Here\r\n"
	  "Content-Length: 0\r\n\r\n"),
	C("reason_empty", SAME, R, "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"),
	C("reason_obs_text", SAME, R, "HTTP/1.1 200 \xc3\x9c\r\nContent-Length: 0"
	  "\r\n\r\n"),
	C("switching_protocols", SAME, R, "HTTP/1.1 101 Switching Protocols\r\n"
	  "Upgrade: websocket\r\nConnection: Upgrade\r\n\r\n"),
	C("te_not_chunked_until_close", SAME, R, "HTTP/1.1 200 OK\r\n"
	  "Transfer-Encoding: gzip\r\n\r\nraw bytes"),
	C("pipelined_responses", SAME, R, "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	  "\r\naHTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\nHTTP/1.1 500 Oops"
	  "\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nb\r\n0\r\n\r\n"),
	C("close_response", SAME, R, "HTTP/1.1 200 OK\r\nConnection: close\r\n"
	  "Content-Length: 2\r\n\r\nok"),
	C("status_without_reason", SAME, R, "HTTP/1.1 200\r\nContent-Length: 1"
	  "\r\n\r\nx"),
	C("te_two_lines_chunked_last", SAME, R, "HTTP/1.1 200 OK\r\n"
	  "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
	  "2\r\nzz\r\n0\r\n\r\n"),
	C("keep_alive_and_close", SAME, Q, "GET /" H "Connection: keep-alive, "
	  "close\r\n\r\n"),
	C("http10_response_keep_alive_no_length", SAME, R, "HTTP/1.0 200 OK\r\n"
	  "Connection: keep-alive\r\n\r\nuntil close"),
	C("chunked_many_chunks", SAME, R, "HTTP/1.1 200 OK\r\nTransfer-Encoding:"
	  " chunked\r\n\r\n1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n4\r\nghij"
	  "\r\n0\r\n\r\n"),
	HEADC("head_response_with_length", "HTTP/1.1 200 OK\r\n"
	      "Content-Length: 1234\r\n\r\n"),
	HEADC("head_response_chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	      "chunked\r\n\r\n"),

	/* ---- rejected by both */
	C("cl_with_te", REJECT, Q, "POST /" H "Content-Length: 4\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
	C("te_with_cl", REJECT, Q, "POST /" H "Transfer-Encoding: chunked\r\n"
	  "Content-Length: 4\r\n\r\n0\r\n\r\n"),
	C("cl_differing", REJECT, Q, "POST /" H "Content-Length: 1\r\n"
	  "Content-Length: 2\r\n\r\nab"),
	C("cl_identical", REJECT, Q, "POST /" H "Content-Length: 2\r\n"
	  "Content-Length: 2\r\n\r\nab"),
	C("cl_not_decimal", REJECT, Q, "POST /" H "Content-Length: 1a\r\n\r\n"),
	C("cl_list", REJECT, Q, "POST /" H "Content-Length: 2, 2\r\n\r\nab"),
	C("cl_negative", REJECT, Q, "POST /" H "Content-Length: -1\r\n\r\n"),
	C("cl_overflow", REJECT, Q, "POST /" H
	  "Content-Length: 184467440737095516160\r\n\r\n"),
	C("te_chunked_not_final", REJECT, Q, "POST /" H
	  "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n"),
	C("te_identity", REJECT, Q, "POST /" H "Transfer-Encoding: identity\r\n"
	  "\r\nabc"),
	C("chunk_size_not_hex", REJECT, Q, CH "z\r\n"),
	C("chunk_size_overflow", REJECT, Q, CH "1ffffffffffffffff\r\n"),
	C("chunk_size_negative", REJECT, Q, CH "-5\r\nhello\r\n0\r\n\r\n"),
	C("chunk_size_empty", REJECT, Q, CH "\r\nhello\r\n0\r\n\r\n"),
	C("chunk_data_longer", REJECT, Q, CH "3\r\nhello\r\n0\r\n\r\n"),
	C("field_no_colon", REJECT, Q, "GET /" H "NoColon\r\n\r\n"),
	C("field_name_bad_char", REJECT, Q, "GET /" H "Bad(Name): x\r\n\r\n"),
	C("field_value_nul", REJECT, Q, "GET /" H "X: a\0b\r\n\r\n"),
	C("method_bad_char", REJECT, Q, "GE(T /" H "\r\n"),
	C("version_lowercase", REJECT, Q, "GET / http/1.1\r\nHost: a\r\n\r\n"),
	C("version_garbage", REJECT, Q, "GET / HTTP/x.y\r\nHost: a\r\n\r\n"),
	C("target_control", REJECT, Q, "GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n"),
	C("status_not_digits", REJECT, R, "HTTP/1.1 2x0 OK\r\n\r\n"),
	C("bare_lf_after_chunk_size", REJECT, Q, CH "5\nhello\r\n0\r\n\r\n"),
	C("bare_lf_after_chunk_data", REJECT, Q, CH "5\r\nhello\n0\r\n\r\n"),
	C("te_chunked_twice", REJECT, Q, "POST /" H "Transfer-Encoding: "
	  "chunked, chunked\r\n\r\n0\r\n\r\n"),
	C("target_relative", REJECT, Q, "GET a/b HTTP/1.1\r\nHost: a\r\n\r\n"),
	C("status_no_space_before_reason", REJECT, R, "HTTP/1.1 200OK\r\n"
	  "Content-Length: 0\r\n\r\n"),
	C("field_value_control", REJECT, Q, "GET /" H "X: a\x01z\r\n\r\n"),
	C("field_value_del", REJECT, Q, "GET /" H "X: a\x7fz\r\n\r\n"),
	C("bare_cr_in_value", REJECT, Q, "GET /" H "X: a\rb\r\n\r\n"),
	C("bare_cr_line_end", REJECT, Q, "GET /" H "X: a\r\r\n\r\n"),
	C("chunk_size_bare_cr", REJECT, Q, CH "5\rhello\r\n0\r\n\r\n"),
	C("te_response_http10_chunked", REJECT, R, "HTTP/1.0 200 OK\r\n"
	  "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"),
	C("cl_huge_plus_te", REJECT, Q, "POST /" H "Content-Length: "
	  "99999999999999999999\r\nTransfer-Encoding: chunked\r\n\r\n"),
	C("truncated_head", REJECT, Q, "GET /" H "X: y"),
	C("truncated_body", REJECT, Q, "POST /" H "Content-Length: 10\r\n\r\nabc"),
	C("truncated_chunked", REJECT, R, "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
	  "chunked\r\n\r\n5\r\nhel"),

	/* ---- coil is stricter, on purpose */
	D("host_missing", STRICTER, Q, "GET / HTTP/1.1\r\n\r\n",
	  "RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request "
	  "without Host"),
	D("host_twice", STRICTER, Q, "GET /" H "Host: other.example\r\n\r\n",
	  "RFC 9112 §3.2: ... or with more than one Host field line"),
	D("obs_fold", STRICTER, Q, "GET /" H "X-Folded: a\r\n b\r\n\r\n",
	  "RFC 9112 §5.2: obs-fold may be rejected; folding hides fields from "
	  "other parsers"),
	D("bare_lf_lines", STRICTER, Q, "GET / HTTP/1.1\nHost: a\n\n",
	  "RFC 9112 §2.2 allows LF-only lines, but a parser that disagrees on "
	  "line ends can be smuggled past; coil is CRLF-only"),
	D("te_gzip_chunked", STRICTER, Q, "POST /" H "Transfer-Encoding: gzip, "
	  "chunked\r\n\r\n0\r\n\r\n",
	  "RFC 9112 §6.1: a transfer coding the server does not implement is "
	  "refused with 501"),
	D("te_in_http10", STRICTER, Q, "POST / HTTP/1.0\r\nTransfer-Encoding: "
	  "chunked\r\n\r\n0\r\n\r\n",
	  "RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing"),
	D("chunk_size_17_digits", STRICTER, Q, CH "00000000000000005\r\nhello\r\n"
	  "0\r\n\r\n", "chunk sizes are at most 16 hex digits"),
	D("chunk_size_trailing_ws", STRICTER, Q, CH "5 \r\nhello\r\n0\r\n\r\n",
	  "whitespace after a chunk size only before an extension (BWS \";\")"),
	D("chunk_ext_control", STRICTER, Q, CH "5;a=\x01\r\nhello\r\n0\r\n\r\n",
	  "chunk extensions are ignored but may not hide control bytes"),
	D("version_major_2", STRICTER, Q, "GET / HTTP/2.0\r\nHost: a\r\n\r\n",
	  "RFC 9110 §6.2: only HTTP/1.x is spoken here; 505"),
	D("version_major_0", STRICTER, Q, "GET / HTTP/0.9\r\n\r\n",
	  "HTTP/0.9 is not supported; 505"),
	D("target_asterisk_get", STRICTER, Q, "GET * HTTP/1.1\r\nHost: a\r\n\r\n",
	  "RFC 9112 §3.2.4: asterisk-form is for OPTIONS only"),
	D("target_high_byte", STRICTER, Q, "GET /caf\xc3\xa9" H "\r\n",
	  "RFC 3986: a URI is ASCII; raw bytes >= 0x80 must be percent-encoded"),
	D("status_600", STRICTER, R, "HTTP/1.1 600 Odd\r\nContent-Length: 0\r\n\r\n",
	  "RFC 9110 §15: status codes are 100..599"),
	D("request_line_double_space", STRICTER, Q, "GET  / HTTP/1.1\r\nHost: a"
	  "\r\n\r\n", "RFC 9112 §3: single SP separators"),

	D("space_before_colon", STRICTER, Q, "GET /" H "Host : x\r\n\r\n",
	  "RFC 9112 §5.1: whitespace before the colon MUST be rejected (400); "
	  "http-parser keeps it in the name"),
	D("te_space_before_colon", STRICTER, Q, "POST /" H "Transfer-Encoding : "
	  "chunked\r\n\r\n0\r\n\r\n", "the classic smuggling pair: "
	  "http-parser takes an unknown field \"Transfer-Encoding \" and no "
	  "body, a lenient peer takes a chunked body"),
	D("chunk_data_no_crlf", STRICTER, Q, CH "5\r\nhelloXX0\r\n\r\n",
	  "RFC 9112 §7.1: chunk data ends with CRLF; http-parser skips the two "
	  "bytes after the data without looking at them"),
	D("status_line_garbage", STRICTER, R, "HTTX/1.1 200 OK\r\n\r\n",
	  "RFC 9112 §2.3: the version is \"HTTP/\" DIGIT \".\" DIGIT, "
	  "case-sensitive; http-parser does not check every letter"),

	D("te_chunked_in_http10_response", STRICTER, R, "HTTP/1.0 200 OK\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	  "RFC 9112 §6.1: Transfer-Encoding in HTTP/1.0 means faulty framing"),
	D("trailer_bare_lf", STRICTER, Q, CH "0\r\nX: a\n\r\n",
	  "CRLF-only in trailer sections as in heads"),
	D("obs_fold_response", STRICTER, R, "HTTP/1.1 200 OK\r\nX: a\r\n\tb\r\n"
	  "Content-Length: 0\r\n\r\n", "RFC 9112 §5.2: obs-fold rejected"),
	D("trailer_obs_fold", STRICTER, Q, CH "0\r\nX: a\r\n b\r\n\r\n",
	  "RFC 9112 §5.2: obs-fold rejected in trailers as in heads"),
	D("empty_line_before_status_line", STRICTER, R, "\r\nHTTP/1.1 200 OK"
	  "\r\n\r\n", "RFC 9112 §2.2 has servers skip empty lines before a "
	  "request line; before a status line they mean the previous response "
	  "was framed wrong"),

	/* ---- coil is more lenient, on purpose */
	C("known_extension_method", SAME, Q, "PURGE /cache" H "\r\n"),
	D("extension_method", LENIENT, Q, "FROBNICATE /cache" H "\r\n",
	  "RFC 9110 §9.1: a method is any token; http-parser knows a fixed list"),
	D("not_modified_with_length", LENIENT, R, "HTTP/1.1 304 Not Modified\r\n"
	  "Content-Length: 99\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0"
	  "\r\n\r\n", "not leniency but framing: RFC 9112 §6.3 rule 1, a 304 "
	  "never has content; http-parser reads Content-Length bytes of the "
	  "next response as its body"),
	D("no_content_with_length", LENIENT, R, "HTTP/1.1 204 No Content\r\n"
	  "Content-Length: 7\r\n\r\n", "as above for 204: RFC 9112 §6.3 rule "
	  "1; http-parser waits for 7 body bytes"),
	D("lowercase_method", LENIENT, Q, "get /" H "\r\n",
	  "methods are case-sensitive tokens: \"get\" is a valid (unknown) "
	  "method, left to the application to refuse with 501"),
};

#define NCORPUS (sizeof(corpus) / sizeof(corpus[0]))

/* ----------------------------------------------------------- coil's side */

static void rec_fields(struct ht_buf *b, const char *tag,
		       const struct coil__http_field *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		ht_printf(b, "%s ", tag);
		ht_slice(b, f[i].name);
		ht_put(b, ": ", 2);
		ht_slice(b, f[i].value);
		ht_put(b, "\n", 1);
	}
}

static void rec_head(struct ht_buf *b, const struct coil__http_head *h,
		     enum coil__http_kind kind)
{
	if (kind == COIL__HTTP_REQUEST) {
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
	rec_fields(b, "H", h->fields, h->nfields);
	ht_put(b, "BODY ", 5);
}

static void rec_end(struct ht_buf *b, const struct coil__http_parser *p,
		    bool keep_alive)
{
	const struct coil__http_field *t;
	size_t n;

	t = coil__http_trailers(p, &n);
	ht_put(b, "\n", 1);
	rec_fields(b, "T", t, n);
	ht_printf(b, "END ka=%d\n", keep_alive);
}

/*
 * Parse every message of @c in one piece. Returns 0 when all of them are
 * valid and complete (or an upgrade ends the stream), else the error.
 */
static int coil_side(const struct dcase *c, struct ht_buf *b)
{
	struct coil__http_field fields[HT_FIELDS];
	struct coil__http_parser p;
	struct coil__http_head h = {0};
	struct coil__http_slice d;
	size_t off = 0;
	bool in_body = false;
	ssize_t n;

	coil__http_parser_init(&p, c->kind, NULL, fields, HT_FIELDS);
	coil__http_parser_reset(&p, c->flags);
	for (;;) {
		if (!in_body) {
			n = coil__http_parse_head(&p, c->msg + off, c->len - off, &h);
			if (n <= 0)
				break;
			rec_head(b, &h, c->kind);
			in_body = true;
			off += (size_t)n;
			continue;
		}
		n = coil__http_parse_body(&p, c->msg + off, c->len - off, &d);
		if (n < 0)
			return (int)n;
		ht_slice(b, d);
		off += (size_t)n;
		if (coil__http_body_is_done(&p)) {
			rec_end(b, &p, h.keep_alive);
			if (h.upgrade)
				return 0;
			coil__http_parser_reset(&p, c->flags);
			in_body = false;
		} else if (!n) {
			break;
		}
	}
	if (n < 0)
		return (int)n;
	n = coil__http_body_eof(&p);
	if (!n && in_body)
		rec_end(b, &p, false);
	return (int)n;
}

/* ---------------------------------------------------- http-parser's side */

/* What the http-parser callbacks are building. */
struct their {
	struct ht_buf *b;       /* the record */
	struct ht_buf line;     /* the target or reason, as it arrives */
	struct ht_buf fields;   /* the head's field lines, recorded */
	struct ht_buf trailers; /* the trailer field lines, recorded */
	struct ht_buf name;     /* the field name being read */
	struct ht_buf value;    /* the field value being read */
	bool in_value;          /* the last field callback was a value */
	bool in_trailers;       /* the head is done: fields are trailers */
	bool head_response;     /* responses answer HEAD: no body */
};

static struct their *their_of(http_parser *hp)
{
	return hp->data;
}

static void flush_field(struct their *t)
{
	struct ht_buf *to = t->in_trailers ? &t->trailers : &t->fields;
	size_t end = t->value.len;

	if (!t->name.len)
		return;
	/* http-parser keeps trailing OWS; RFC 9112 §5 excludes it. */
	while (end && (t->value.p[end - 1] == ' ' || t->value.p[end - 1] == '\t'))
		end--;
	ht_printf(to, "%s ", t->in_trailers ? "T" : "H");
	ht_put(to, t->name.p, t->name.len);
	ht_put(to, ": ", 2);
	ht_put(to, t->value.p, end);
	ht_put(to, "\n", 1);
	t->name.len = t->value.len = 0;
	t->in_value = false;
}

static int on_begin(http_parser *hp)
{
	struct their *t = their_of(hp);

	t->line.len = t->fields.len = t->trailers.len = 0;
	t->name.len = t->value.len = 0;
	t->in_value = t->in_trailers = false;
	return 0;
}

static int on_line(http_parser *hp, const char *at, size_t n)
{
	ht_put(&their_of(hp)->line, at, n);
	return 0;
}

static int on_field(http_parser *hp, const char *at, size_t n)
{
	struct their *t = their_of(hp);

	if (t->in_value)
		flush_field(t);
	ht_put(&t->name, at, n);
	return 0;
}

static int on_value(http_parser *hp, const char *at, size_t n)
{
	struct their *t = their_of(hp);

	t->in_value = true;
	ht_put(&t->value, at, n);
	return 0;
}

static int on_headers_complete(http_parser *hp)
{
	struct their *t = their_of(hp);

	flush_field(t);
	if (hp->type == HTTP_REQUEST)
		ht_printf(t->b, "REQ %s ", http_method_str(hp->method));
	else
		ht_printf(t->b, "RES %d 1.%d ", hp->status_code, hp->http_minor);
	ht_put(t->b, t->line.p, t->line.len);
	if (hp->type == HTTP_REQUEST)
		ht_printf(t->b, " 1.%d", hp->http_minor);
	ht_put(t->b, "\n", 1);
	ht_put(t->b, t->fields.p, t->fields.len);
	ht_put(t->b, "BODY ", 5);
	t->in_trailers = true;
	/* 1: "this response has no body" (it answers HEAD). */
	return hp->type == HTTP_RESPONSE && t->head_response;
}

static int on_body(http_parser *hp, const char *at, size_t n)
{
	ht_put(their_of(hp)->b, at, n);
	return 0;
}

static int on_complete(http_parser *hp)
{
	struct their *t = their_of(hp);

	flush_field(t);
	ht_put(t->b, "\n", 1);
	ht_put(t->b, t->trailers.p, t->trailers.len);
	ht_printf(t->b, "END ka=%d\n", http_should_keep_alive(hp));
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_begin,
	.on_url = on_line,
	.on_status = on_line,
	.on_header_field = on_field,
	.on_header_value = on_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_complete,
};

/*
 * http-parser over @c in one piece, then EOF. Returns HPE_OK when it
 * accepted everything (an upgrade ends the stream), else its error.
 */
static enum http_errno their_side(const struct dcase *c, struct ht_buf *b)
{
	struct their t = {.b = b, .head_response = c->flags & COIL__HTTP_TO_HEAD};
	enum http_errno e;
	http_parser hp;
	size_t n;

	http_parser_init(&hp, c->kind == Q ? HTTP_REQUEST : HTTP_RESPONSE);
	hp.data = &t;
	n = http_parser_execute(&hp, &settings, c->msg, c->len);
	e = HTTP_PARSER_ERRNO(&hp);
	if (e == HPE_OK && !hp.upgrade && n != c->len)
		e = HPE_UNKNOWN;
	if (e == HPE_OK && !hp.upgrade) {
		http_parser_execute(&hp, &settings, NULL, 0);
		e = HTTP_PARSER_ERRNO(&hp);
	}
	ht_buf_fini(&t.line);
	ht_buf_fini(&t.fields);
	ht_buf_fini(&t.trailers);
	ht_buf_fini(&t.name);
	ht_buf_fini(&t.value);
	return e;
}

/* ------------------------------------------------------------ the test */

static unsigned counts[4];

static void check_case(void **state)
{
	const struct dcase *c = *state;
	struct ht_buf ours = {0}, theirs = {0};
	int err = coil_side(c, &ours);
	enum http_errno e = their_side(c, &theirs);
	enum verdict got;

	if (!err && e == HPE_OK)
		got = SAME;
	else if (err && e != HPE_OK)
		got = REJECT;
	else
		got = err ? STRICTER : LENIENT;
	if (got != c->verdict)
		fail_msg("%s: verdict %s, want %s; coil: %s; http-parser: %s\n"
			 "coil's record:\n%s\nhttp-parser's record:\n%s", c->name,
			 verdict_names[got], verdict_names[c->verdict],
			 err ? coil__http_strerror(err) : "accepted",
			 e != HPE_OK ? http_errno_name(e) : "accepted",
			 ours.p ? ours.p : "", theirs.p ? theirs.p : "");
	if (got == SAME && strcmp(ours.p ? ours.p : "", theirs.p ? theirs.p : ""))
		fail_msg("%s: records differ\ncoil:\n%s\nhttp-parser:\n%s",
			 c->name, ours.p, theirs.p);
	counts[got]++;
	ht_buf_fini(&ours);
	ht_buf_fini(&theirs);
}

int main(void)
{
	static struct CMUnitTest tests[NCORPUS];
	static char names[NCORPUS][96];
	unsigned long v = http_parser_version();
	size_t i;
	int failed;

	printf("http-parser %lu.%lu.%lu, %zu corpus cases\n", (v >> 16) & 255,
	       (v >> 8) & 255, v & 255, NCORPUS);
	for (i = 0; i < NCORPUS; i++) {
		snprintf(names[i], sizeof(names[i]), "test_http_differential_%s_%s",
			 verdict_names[corpus[i].verdict], corpus[i].name);
		tests[i] = (struct CMUnitTest){
			.name = names[i],
			.test_func = check_case,
			.initial_state = (void *)&corpus[i],
		};
	}
	failed = _cmocka_run_group_tests("http_differential", tests, NCORPUS,
					 NULL, NULL);
	printf("agree: %u same, %u rejected by both; intended differences: "
	       "%u stricter, %u more lenient\n", counts[SAME], counts[REJECT],
	       counts[STRICTER], counts[LENIENT]);
	return failed ? 1 : 0;
}

#endif /* HAVE_HTTP_PARSER */
