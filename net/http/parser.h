/* SPDX-License-Identifier: MIT */
/*
 * net/http/parser.h - a strict, incremental, zero-copy HTTP/1.1 message
 * parser (RFC 9110, RFC 9112) for coil's HTTP client and server: requests
 * and responses, their header section, and the body framing that follows
 * (Content-Length, chunked with trailers, read-until-close). Internal
 * (coil__http_ prefix, hidden); the public HTTP API is built on it.
 *
 * How a caller uses it. The parser never copies and never allocates: it
 * reads the caller's buffer and hands back slices (pointer + length) into
 * it. The caller owns one parser per connection and a field array:
 *
 *	struct coil__http_field fields[100];
 *	coil__http_parser_init(&p, COIL__HTTP_REQUEST, NULL, fields, 100);
 *	loop:
 *	  n = coil__http_parse_head(&p, buf, len, &head);
 *	    n == 0: the head is not complete: read more, append it to buf (the
 *	            buffer may move; the unconsumed bytes must come back at the
 *	            start of the next call's @buf) and call again;
 *	    n > 0:  the head is buf[0..n); head's slices point into it;
 *	    n < 0:  an error (below); close the connection.
 *	  then, from buf + n on, until coil__http_body_is_done(&p):
 *	  n = coil__http_parse_body(&p, buf, len, &data);
 *	    n bytes consumed, @data the body bytes among them (maybe none);
 *	    n == 0 and no data: read more (EOF: coil__http_body_eof());
 *	  coil__http_parser_reset(&p, flags) and loop for the next message
 *	  (pipelined messages simply follow in the buffer).
 *
 * Incremental over any split. The head parser only succeeds once the whole
 * head (up to its blank line) is in @buf. It remembers how far it has
 * scanned and validated, so feeding a head byte by byte stays linear: every
 * byte is checked once while scanning and once more when the complete head
 * is split into slices. Errors are reported as soon as a complete line is
 * bad, or a partial line is already longer than its limit; the result
 * (success, or which error) never depends on how the input was split. The
 * body decoder is a byte state machine for chunk framing and hands out
 * data slices as they arrive; only a trailer section is, like a head,
 * parsed once it is complete.
 *
 * Strictness: everything the RFCs let a recipient reject and that has been
 * used to smuggle requests past another parser is rejected:
 *  - line endings: CRLF only; a bare LF or a bare CR anywhere in a head, a
 *    chunk-size line or a trailer section is an error;
 *  - obs-fold (a field line starting with SP/HTAB), whitespace between a
 *    field name and its colon, non-token bytes in method or field names,
 *    NUL and other controls (HTAB aside) in field values;
 *  - Content-Length that is not a plain decimal (no sign, no list, no more
 *    than 2^63 - 1); a second Content-Length field, even an identical one
 *    (RFC 9110 §8.6 lets a recipient accept identical duplicates, but a
 *    sender that produces them is broken, and rejecting every duplicate
 *    leaves no question of which one an intermediary used);
 *  - Content-Length together with Transfer-Encoding (RFC 9112 §6.3 lets
 *    Transfer-Encoding win, but the pair is the classic smuggling vector);
 *    Transfer-Encoding in an HTTP/1.0 message; chunked applied twice;
 *    requests whose final transfer coding is not chunked (400) or that use
 *    a coding other than chunked (501); responses whose final coding is not
 *    chunked are read until close (RFC 9112 §6.3 rule 4);
 *  - chunk sizes that are empty, not hex, longer than 16 digits or push the
 *    body total past 2^64; whitespace after a chunk size unless a chunk
 *    extension follows; controls in chunk extensions (which are otherwise
 *    ignored); chunk data not followed by CRLF;
 *  - HTTP/1.1 requests without Host, and any request with several.
 * Leniencies, each harmless to framing: empty lines before a request line
 * are skipped (RFC 9112 §2.2); a status line may end right after the code
 * (no SP, no reason); HTTP/1.x with x > 1 is read as HTTP/1.1.
 *
 * Nothing here suspends or does I/O; none of it is thread-safe per parser.
 */
#ifndef COIL_NET_HTTP_PARSER_H
#define COIL_NET_HTTP_PARSER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#pragma GCC visibility push(hidden)

/* ---------------------------------------------------------------- errors */

/*
 * Parse errors are negative, like coil's -errno results, but live above
 * the kernel's largest errno (MAX_ERRNO, 4095) so that they never collide
 * with one: a caller can pass any result of these functions, or of the
 * socket calls around them, to coil__http_strerror().
 */
#define COIL__HTTP_ERR_BASE 4096

enum coil__http_error {
	COIL__HTTP_EMETHOD = -(COIL__HTTP_ERR_BASE + 1),
	COIL__HTTP_ETARGET = -(COIL__HTTP_ERR_BASE + 2),
	COIL__HTTP_EVERSION = -(COIL__HTTP_ERR_BASE + 3),
	COIL__HTTP_EVERSION_UNSUPPORTED = -(COIL__HTTP_ERR_BASE + 4),
	COIL__HTTP_ESTATUS = -(COIL__HTTP_ERR_BASE + 5),
	COIL__HTTP_EREASON = -(COIL__HTTP_ERR_BASE + 6),
	COIL__HTTP_ESTART_LINE = -(COIL__HTTP_ERR_BASE + 7),
	COIL__HTTP_ESTART_TOO_LONG = -(COIL__HTTP_ERR_BASE + 8),
	COIL__HTTP_EFIELD_TOO_LONG = -(COIL__HTTP_ERR_BASE + 9),
	COIL__HTTP_EHEAD_TOO_LARGE = -(COIL__HTTP_ERR_BASE + 10),
	COIL__HTTP_ETOO_MANY_FIELDS = -(COIL__HTTP_ERR_BASE + 11),
	COIL__HTTP_EBARE_CR = -(COIL__HTTP_ERR_BASE + 12),
	COIL__HTTP_EBARE_LF = -(COIL__HTTP_ERR_BASE + 13),
	COIL__HTTP_EOBS_FOLD = -(COIL__HTTP_ERR_BASE + 14),
	COIL__HTTP_EFIELD_NAME = -(COIL__HTTP_ERR_BASE + 15),
	COIL__HTTP_ESPACE_BEFORE_COLON = -(COIL__HTTP_ERR_BASE + 16),
	COIL__HTTP_EFIELD_VALUE = -(COIL__HTTP_ERR_BASE + 17),
	COIL__HTTP_ECONTENT_LENGTH = -(COIL__HTTP_ERR_BASE + 18),
	COIL__HTTP_ECL_MULTIPLE = -(COIL__HTTP_ERR_BASE + 19),
	COIL__HTTP_ECL_AND_TE = -(COIL__HTTP_ERR_BASE + 20),
	COIL__HTTP_ETE_NOT_CHUNKED = -(COIL__HTTP_ERR_BASE + 21),
	COIL__HTTP_ETE_UNKNOWN = -(COIL__HTTP_ERR_BASE + 22),
	COIL__HTTP_ETE_CHUNKED_TWICE = -(COIL__HTTP_ERR_BASE + 23),
	COIL__HTTP_ETE_HTTP10 = -(COIL__HTTP_ERR_BASE + 24),
	COIL__HTTP_EHOST_MISSING = -(COIL__HTTP_ERR_BASE + 25),
	COIL__HTTP_EHOST_MULTIPLE = -(COIL__HTTP_ERR_BASE + 26),
	COIL__HTTP_EBODY_TOO_LARGE = -(COIL__HTTP_ERR_BASE + 27),
	COIL__HTTP_ECHUNK_SIZE = -(COIL__HTTP_ERR_BASE + 28),
	COIL__HTTP_ECHUNK_EXT = -(COIL__HTTP_ERR_BASE + 29),
	COIL__HTTP_ECHUNK_LINE_TOO_LONG = -(COIL__HTTP_ERR_BASE + 30),
	COIL__HTTP_ECHUNK_CRLF = -(COIL__HTTP_ERR_BASE + 31),
	COIL__HTTP_ETRUNCATED = -(COIL__HTTP_ERR_BASE + 32),
};

/* The most negative parse error, for range checks. */
#define COIL__HTTP_ERR_LAST COIL__HTTP_ETRUNCATED

/* coil__http_is_parse_error - whether @err is one of the codes above. */
bool coil__http_is_parse_error(int err);

/* Whether @s (NUL-terminated, may be NULL) is a token: 1+ tchars. */
bool coil__http_is_token(const char *s);

/*
 * coil__http_error_status - the status a server answers a request that
 * failed with @err before closing the connection: 400 for most errors, 413
 * (body too large), 414 (request line too long), 431 (field line, header
 * section or field count over its limit), 501 (unknown transfer coding),
 * 505 (HTTP major version other than 1). 0 when @err is not a parse error.
 */
int coil__http_error_status(int err);

/*
 * coil__http_strerror - a one-line message for @err: a parse error above,
 * or a negative (or positive) errno. Never NULL; the string is static.
 */
const char *coil__http_strerror(int err);

/* ----------------------------------------------------------------- types */

/* A run of bytes inside the caller's buffer; never NUL-terminated. */
struct coil__http_slice {
	const char *ptr; /* first byte; NULL only when len is 0 */
	size_t len;	 /* bytes */
};

/*
 * One field line: the name as sent (a token, never empty, case kept) and
 * the value without leading or trailing SP/HTAB (may be empty).
 */
struct coil__http_field {
	struct coil__http_slice name;
	struct coil__http_slice value;
};

enum coil__http_kind {
	COIL__HTTP_REQUEST,  /* parse request lines: a server */
	COIL__HTTP_RESPONSE, /* parse status lines: a client */
};

/* How the body of a parsed head is delimited (RFC 9112 §6.3). */
enum coil__http_framing {
	COIL__HTTP_BODY_NONE,	 /* no body at all */
	COIL__HTTP_BODY_LENGTH,	 /* content_length bytes (maybe 0) */
	COIL__HTTP_BODY_CHUNKED, /* chunked transfer coding, then trailers */
	COIL__HTTP_BODY_UNTIL_CLOSE, /* responses only: until the peer closes */
};

/*
 * coil__http_parser_reset() flags, for a client: what the request that
 * this response answers was, since that decides whether it has a body.
 */
#define COIL__HTTP_TO_HEAD 0x1u	   /* HEAD: the response has no body */
#define COIL__HTTP_TO_CONNECT 0x2u /* CONNECT: a 2xx opens a tunnel */

/*
 * Limits; a zero field takes the default in brackets. Line limits count
 * the bytes before the CRLF. A caller's buffer must be able to hold
 * max_head + max(max_start_line, max_field_line) + 2 bytes: a head longer
 * than that is always rejected by then.
 */
struct coil__http_limits {
	uint32_t max_start_line; /* request/status line [8 KiB] */
	uint32_t max_field_line; /* one field line [8 KiB] */
	uint32_t max_fields;	 /* fields in head + trailers [100] */
	uint32_t max_head;	 /* head, and trailer section, bytes [64 KiB] */
	uint32_t max_chunk_line; /* chunk size + extensions [1 KiB] */
	uint64_t max_body;	 /* decoded body bytes; 0: no limit [none] */
};

/*
 * A parsed head. Slices point into the buffer passed to
 * coil__http_parse_head(): valid while the caller keeps those bytes.
 */
struct coil__http_head {
	/* Request: the method token (case kept) and the target as sent. */
	struct coil__http_slice method;
	struct coil__http_slice target;
	/* Response: the status (100..599) and reason phrase (may be empty). */
	int status;
	struct coil__http_slice reason;
	int minor; /* HTTP/1.<minor>; the major version is always 1 */
	struct coil__http_field *fields; /* the field lines, in order */
	size_t nfields;			 /* entries in @fields */
	enum coil__http_framing framing; /* how the body is delimited */
	uint64_t content_length; /* COIL__HTTP_BODY_LENGTH: the length */
	/* The connection may carry another message (RFC 9112 §9.3). */
	bool keep_alive;
	/* The connection switches protocol or tunnels after this message:
	 * CONNECT, Upgrade + "Connection: upgrade" in HTTP/1.1, a 101. */
	bool upgrade;
	bool expect_continue; /* request: "Expect: 100-continue" in HTTP/1.1 */
	/* Response: the body still carries transfer codings other than
	 * chunked, which this parser does not decode. */
	bool transfer_coded;
	size_t size; /* bytes of the head, its final CRLF included */
};

/* What the parser does next; internal to parser.c. */
enum coil__http_state {
	COIL__HTTP_S_HEAD,	 /* scanning a head */
	COIL__HTTP_S_LENGTH,	 /* body: counting down content_length */
	COIL__HTTP_S_CLOSE,	 /* body: everything until EOF */
	COIL__HTTP_S_CHUNK_SIZE, /* chunked: hex digits of a chunk size */
	COIL__HTTP_S_CHUNK_WS,	 /* chunked: SP/HTAB after the size */
	COIL__HTTP_S_CHUNK_EXT,	 /* chunked: a chunk extension, ignored */
	COIL__HTTP_S_CHUNK_LF,	 /* chunked: the LF ending a chunk-size line */
	COIL__HTTP_S_CHUNK_DATA, /* chunked: chunk data */
	COIL__HTTP_S_DATA_CR,	 /* chunked: the CR after chunk data */
	COIL__HTTP_S_DATA_LF,	 /* chunked: the LF after chunk data */
	COIL__HTTP_S_TRAILERS,	 /* chunked: scanning the trailer section */
	COIL__HTTP_S_DONE,	 /* the message is complete */
};

/* Progress through a head or trailer section; internal to parser.c. */
struct coil__http_scan {
	size_t pos;	 /* the current line's start, from the section's */
	size_t next;	 /* where the search for its LF resumes */
	uint32_t fields; /* field lines so far */
	bool started;	 /* a head: its start line has been seen */
};

/*
 * One parser per connection; the caller allocates it (on a task's stack is
 * fine: it is about 140 bytes). Fields are internal unless stated.
 */
struct coil__http_parser {
	enum coil__http_kind kind;    /* requests or responses, fixed at init */
	unsigned flags;		      /* COIL__HTTP_TO_*, from reset */
	struct coil__http_limits lim; /* limits with defaults filled in */
	struct coil__http_field *fields; /* the caller's field storage */
	size_t cap;			 /* entries in @fields */
	enum coil__http_state state;	 /* what comes next */
	struct coil__http_scan scan; /* the head or trailers being scanned */
	size_t nhead;	      /* fields of the head (trailers follow them) */
	size_t ntrailers;     /* trailer fields, after the head's */
	uint64_t remaining;   /* bytes left of a body or a chunk */
	uint64_t total;	      /* decoded body bytes so far */
	uint64_t chunk_size;  /* the chunk size being read */
	uint32_t chunk_line;  /* bytes of the chunk-size line so far */
	uint8_t chunk_digits; /* hex digits of that size */
	bool seen;	      /* bytes were offered since reset */
};

/* ----------------------------------------------------------------- calls */

/*
 * coil__http_parser_init - set @p up to parse @kind messages with @limits
 * (NULL: all defaults; copied) and @fields[@cap] as storage for field
 * lines (the effective field limit is the smaller of @cap and max_fields).
 * @fields must outlive the parser's use; the caller owns both.
 */
void coil__http_parser_init(struct coil__http_parser *p,
			    enum coil__http_kind kind,
			    const struct coil__http_limits *limits,
			    struct coil__http_field *fields, size_t cap);

/*
 * coil__http_parser_reset - get ready for the next message on the same
 * connection. @flags: COIL__HTTP_TO_* for a response, 0 for a request.
 * The previous message's head and trailers must no longer be used.
 */
void coil__http_parser_reset(struct coil__http_parser *p, unsigned flags);

/*
 * coil__http_parse_head - parse a head from buf[0..len). Returns its size
 * (> 0) with @head filled in and the parser ready for the body; 0 when the
 * head is not complete yet (nothing is consumed: offer the same bytes again,
 * plus more, at the start of @buf); or a negative COIL__HTTP_E* error, after
 * which the connection must be closed. -EINVAL when a body is expected, or
 * when @len is shorter than what an earlier call was offered.
 */
int coil__http_parse_head(struct coil__http_parser *p, const char *buf,
			  size_t len, struct coil__http_head *head);

/*
 * coil__http_parse_body - decode body bytes from buf[0..len). Returns the
 * bytes consumed (>= 0) and sets *@data to the body bytes among them (a
 * slice of @buf, possibly empty); at most one slice per call, so call again
 * with the rest. Unconsumed bytes must be offered again at the start of the
 * next call. Returns 0 with no data when it needs more input, and 0 once
 * the message is complete (check coil__http_body_is_done()); trailers are
 * then available from coil__http_trailers(). Negative: a COIL__HTTP_E*
 * error; -EINVAL when no head has been parsed.
 */
ssize_t coil__http_parse_body(struct coil__http_parser *p, const char *buf,
			      size_t len, struct coil__http_slice *data);

/* coil__http_body_is_done - whether the current message is complete. */
bool coil__http_body_is_done(const struct coil__http_parser *p);

/*
 * coil__http_body_eof - the peer closed the connection. Returns 0 when that
 * ends the message cleanly (a body read until close, a complete message,
 * or no byte of a new head offered yet), else COIL__HTTP_ETRUNCATED.
 */
int coil__http_body_eof(struct coil__http_parser *p);

/*
 * coil__http_trailers - the trailer fields of a complete chunked message,
 * *@n of them (0 otherwise). Slices point into the buffer of the call that
 * completed the message.
 */
const struct coil__http_field *
coil__http_trailers(const struct coil__http_parser *p, size_t *n);

/*
 * coil__http_head_find - the value of the first field named @name (ASCII
 * case-insensitive) in @head, or NULL.
 */
const struct coil__http_slice *
coil__http_head_find(const struct coil__http_head *head, const char *name);

#pragma GCC visibility pop

#endif /* COIL_NET_HTTP_PARSER_H */
