/* SPDX-License-Identifier: MIT */
/*
 * net/http/parser.c - the strict incremental HTTP/1.1 parser; the design
 * and the list of what it rejects are in parser.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "parser.h"

#define DEFAULT_START_LINE 8192
#define DEFAULT_FIELD_LINE 8192
#define DEFAULT_FIELDS 100
#define DEFAULT_HEAD 65536
#define DEFAULT_CHUNK_LINE 1024

/* 16 hex digits hold any uint64_t; more can only be padding or overflow. */
#define MAX_CHUNK_DIGITS 16

/* ---------------------------------------------------------------- errors */

/* Message and answer status of each parse error, by -err - BASE - 1. */
static const struct {
	const char *text;
	int status;
} errors[] = {
	{ "invalid method token", 400 },
	{ "invalid request target", 400 },
	{ "malformed HTTP version", 400 },
	{ "HTTP major version not supported", 505 },
	{ "invalid status code", 400 },
	{ "control character in reason phrase", 400 },
	{ "malformed start line", 400 },
	{ "request or status line too long", 414 },
	{ "header field line too long", 431 },
	{ "header or trailer section too large", 431 },
	{ "too many header fields", 431 },
	{ "bare CR (CR not followed by LF)", 400 },
	{ "bare LF (line not ended by CRLF)", 400 },
	{ "obsolete line folding", 400 },
	{ "invalid header field name or missing colon", 400 },
	{ "whitespace between field name and colon", 400 },
	{ "control character in header field value", 400 },
	{ "Content-Length is not a plain decimal number", 400 },
	{ "multiple Content-Length fields", 400 },
	{ "both Content-Length and Transfer-Encoding", 400 },
	{ "final transfer coding is not chunked", 400 },
	{ "unsupported transfer coding", 501 },
	{ "chunked transfer coding applied twice", 400 },
	{ "Transfer-Encoding in an HTTP/1.0 message", 400 },
	{ "HTTP/1.1 request without Host", 400 },
	{ "multiple Host fields", 400 },
	{ "body larger than allowed", 413 },
	{ "invalid chunk size", 400 },
	{ "control character in chunk extension", 400 },
	{ "chunk-size line too long", 400 },
	{ "chunk data not followed by CRLF", 400 },
	{ "connection closed inside a message", 400 },
};

bool coil__http_is_parse_error(int err)
{
	return err <= -(COIL__HTTP_ERR_BASE + 1) && err >= COIL__HTTP_ERR_LAST;
}

int coil__http_error_status(int err)
{
	if (!coil__http_is_parse_error(err))
		return 0;
	return errors[-err - COIL__HTTP_ERR_BASE - 1].status;
}

const char *coil__http_strerror(int err)
{
	const char *s;

	if (coil__http_is_parse_error(err))
		return errors[-err - COIL__HTTP_ERR_BASE - 1].text;
	if (err < 0)
		err = -err;
	if (err == 0)
		return "Success";
	/* glibc >= 2.32: a static string, unlike strerror() (not MT-safe). */
	s = strerrordesc_np(err);
	return s ? s : "Unknown error";
}

/* ----------------------------------------------------- character classes */

/* tchar (RFC 9110 §5.6.2): what method and field names are made of. */
static bool is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("!#$%&'*+-.^_`|~", c);
}

bool coil__http_is_token(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return false;
	return true;
}

static bool is_ws(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* Field-value and reason-phrase bytes: VCHAR, obs-text, SP, HTAB. */
static bool is_text(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool slice_is(struct coil__http_slice s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && strncasecmp(s.ptr, lit, n) == 0;
}

static struct coil__http_slice slice(const char *ptr, size_t len)
{
	return (struct coil__http_slice){ ptr, len };
}

/* ----------------------------------------------------------- start lines */

/* "HTTP/1.x": the version, case-sensitive (RFC 9112 §2.3). */
static int parse_version(const char *s, size_t n, int *minor)
{
	if (n != 8 || memcmp(s, "HTTP/", 5) != 0 || s[6] != '.' || s[5] < '0' ||
	    s[5] > '9' || s[7] < '0' || s[7] > '9')
		return COIL__HTTP_EVERSION;
	if (s[5] != '1')
		return COIL__HTTP_EVERSION_UNSUPPORTED;
	*minor = s[7] - '0';
	return 0;
}

/* absolute-form begins with a scheme: ALPHA *( ALPHA / DIGIT / "+-." ) ":". */
static bool has_scheme(struct coil__http_slice t)
{
	size_t i;

	if (!t.len || !((t.ptr[0] | 0x20) >= 'a' && (t.ptr[0] | 0x20) <= 'z'))
		return false;
	for (i = 1; i < t.len; i++) {
		unsigned char c = (unsigned char)t.ptr[i];

		if (c == ':')
			return true;
		if (!(c >= '0' && c <= '9') &&
		    !((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && c != '+' &&
		    c != '-' && c != '.')
			return false;
	}
	return false;
}

/*
 * The four request-target forms (RFC 9112 §3.2): origin ("/..."),
 * absolute ("scheme:..."), authority (CONNECT only) and asterisk (OPTIONS
 * only). Bytes were already checked to be VCHAR.
 */
static int check_target(struct coil__http_slice m, struct coil__http_slice t)
{
	bool connect = m.len == 7 && memcmp(m.ptr, "CONNECT", 7) == 0;
	bool options = m.len == 7 && memcmp(m.ptr, "OPTIONS", 7) == 0;

	if (connect)
		return t.ptr[0] != '/' && t.ptr[0] != '*' ? 0 :
							    COIL__HTTP_ETARGET;
	if (t.len == 1 && t.ptr[0] == '*')
		return options ? 0 : COIL__HTTP_ETARGET;
	if (t.ptr[0] == '/' || has_scheme(t))
		return 0;
	return COIL__HTTP_ETARGET;
}

/* request-line = method SP request-target SP HTTP-version */
static int request_line(const char *s, size_t n, struct coil__http_head *h)
{
	struct coil__http_slice m, t;
	size_t i = 0, j;
	int minor = 1, err;

	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i == n)
		return COIL__HTTP_ESTART_LINE;
	if (i == 0 || s[i] != ' ')
		return COIL__HTTP_EMETHOD;
	for (j = i + 1; j < n && s[j] > 0x20 && s[j] < 0x7f; j++)
		;
	if (j == n)
		return COIL__HTTP_ESTART_LINE;
	if (j == i + 1 || s[j] != ' ')
		return COIL__HTTP_ETARGET;
	m = slice(s, i);
	t = slice(s + i + 1, j - i - 1);
	err = check_target(m, t);
	if (!err)
		err = parse_version(s + j + 1, n - j - 1, &minor);
	if (err || !h)
		return err;
	h->method = m;
	h->target = t;
	h->minor = minor;
	return 0;
}

/* status-line = HTTP-version SP status-code [ SP [ reason-phrase ] ] */
static int status_line(const char *s, size_t n, struct coil__http_head *h)
{
	int minor = 1, status, err;
	size_t i;

	if (n < 8 || (n > 8 && s[8] != ' '))
		return COIL__HTTP_EVERSION;
	err = parse_version(s, 8, &minor);
	if (err)
		return err;
	if (n < 12 || s[9] < '1' || s[9] > '5' || s[10] < '0' || s[10] > '9' ||
	    s[11] < '0' || s[11] > '9' || (n > 12 && s[12] != ' '))
		return COIL__HTTP_ESTATUS;
	status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
	for (i = 13; i < n; i++)
		if (!is_text((unsigned char)s[i]))
			return COIL__HTTP_EREASON;
	if (!h)
		return 0;
	h->minor = minor;
	h->status = status;
	h->reason = n > 13 ? slice(s + 13, n - 13) : slice(NULL, 0);
	return 0;
}

/* ---------------------------------------------------- framing from fields */

/*
 * What the fields of a head say about framing, gathered while the complete
 * head is split into slices (pass 2) and judged by finish_head().
 */
struct facts {
	unsigned cl_count;    /* Content-Length fields */
	uint64_t cl;	      /* their value */
	bool te;	      /* a Transfer-Encoding field was present */
	bool te_last_chunked; /* its final coding is chunked */
	bool te_chunked;      /* chunked appeared at all */
	bool te_other;	      /* a coding other than chunked appeared */
	unsigned host_count;  /* Host fields */
	bool conn_close;      /* Connection: close */
	bool conn_keep_alive; /* Connection: keep-alive */
	bool conn_upgrade;    /* Connection: upgrade */
	bool upgrade_field;   /* an Upgrade field was present */
	bool expect_continue; /* Expect: 100-continue */
};

/* 1*DIGIT, at most INT64_MAX so it fits an off_t. */
static int parse_length(struct coil__http_slice v, uint64_t *out)
{
	uint64_t n = 0;
	size_t i;

	if (!v.len)
		return COIL__HTTP_ECONTENT_LENGTH;
	for (i = 0; i < v.len; i++) {
		unsigned d = (unsigned char)v.ptr[i] - '0';

		if (d > 9 || n > ((uint64_t)INT64_MAX - d) / 10)
			return COIL__HTTP_ECONTENT_LENGTH;
		n = n * 10 + d;
	}
	*out = n;
	return 0;
}

/*
 * Split a #list value at commas into trimmed elements, calling @fn on each
 * non-empty one (RFC 9110 §5.6.1: empty elements are ignored).
 */
static int each_element(struct coil__http_slice v, struct facts *f,
			int (*fn)(struct coil__http_slice, struct facts *))
{
	size_t i = 0, start, end;
	int err;

	while (i <= v.len) {
		start = i;
		while (i < v.len && v.ptr[i] != ',')
			i++;
		end = i++;
		while (start < end && is_ws((unsigned char)v.ptr[start]))
			start++;
		while (end > start && is_ws((unsigned char)v.ptr[end - 1]))
			end--;
		if (end > start) {
			err = fn(slice(v.ptr + start, end - start), f);
			if (err)
				return err;
		}
	}
	return 0;
}

/*
 * A transfer coding. Only a bare "chunked" counts as chunked: with
 * parameters it is some other coding, so the request is refused.
 */
static int te_element(struct coil__http_slice e, struct facts *f)
{
	bool chunked = slice_is(e, "chunked");

	if (chunked && f->te_chunked)
		return COIL__HTTP_ETE_CHUNKED_TWICE;
	f->te_chunked |= chunked;
	f->te_other |= !chunked;
	f->te_last_chunked = chunked;
	return 0;
}

static int connection_element(struct coil__http_slice e, struct facts *f)
{
	f->conn_close |= slice_is(e, "close");
	f->conn_keep_alive |= slice_is(e, "keep-alive");
	f->conn_upgrade |= slice_is(e, "upgrade");
	return 0;
}

static int content_length(struct coil__http_slice v, struct facts *f)
{
	if (++f->cl_count > 1)
		return COIL__HTTP_ECL_MULTIPLE;
	return parse_length(v, &f->cl);
}

/* Record what a head field means for framing and connection handling. */
static int note_field(const struct coil__http_field *fl, struct facts *f)
{
	struct coil__http_slice n = fl->name, v = fl->value;

	if (slice_is(n, "content-length"))
		return content_length(v, f);
	if (slice_is(n, "transfer-encoding")) {
		f->te = true;
		f->te_last_chunked = false;
		return each_element(v, f, te_element);
	}
	if (slice_is(n, "host"))
		return ++f->host_count > 1 ? COIL__HTTP_EHOST_MULTIPLE : 0;
	if (slice_is(n, "connection"))
		return each_element(v, f, connection_element);
	if (slice_is(n, "upgrade"))
		f->upgrade_field = true;
	else if (slice_is(n, "expect"))
		f->expect_continue |= slice_is(v, "100-continue");
	return 0;
}

/* ----------------------------------------------------------- field lines */

/* field-line = field-name ":" OWS field-value OWS */
static int field_line(const char *s, size_t n, struct coil__http_field *out)
{
	size_t i = 0, end;

	if (is_ws((unsigned char)s[0]))
		return COIL__HTTP_EOBS_FOLD;
	while (i < n && is_tchar((unsigned char)s[i]))
		i++;
	if (i < n && is_ws((unsigned char)s[i]) && i > 0)
		return COIL__HTTP_ESPACE_BEFORE_COLON;
	if (i == 0 || i == n || s[i] != ':')
		return COIL__HTTP_EFIELD_NAME;
	out->name = slice(s, i);
	for (i++; i < n && is_ws((unsigned char)s[i]); i++)
		;
	for (end = n; end > i && is_ws((unsigned char)s[end - 1]); end--)
		;
	out->value = slice(end > i ? s + i : NULL, end - i);
	for (; i < end; i++)
		if (!is_text((unsigned char)s[i]))
			return COIL__HTTP_EFIELD_VALUE;
	return 0;
}

/* ------------------------------------------------------ section scanning */

/*
 * Where pass 2 of a section stores what it finds: NULL during pass 1, which
 * only checks syntax and limits.
 */
struct sink {
	struct coil__http_head *head; /* a head's start line; NULL for trailers */
	struct coil__http_field *out; /* the fields */
	struct facts *facts;	      /* framing facts; NULL for trailers */
};

static bool in_head(const struct coil__http_parser *p)
{
	return p->state == COIL__HTTP_S_HEAD;
}

/* The length limit of the line the scan is in. */
static uint32_t line_limit(const struct coil__http_parser *p,
			   const struct coil__http_scan *sc)
{
	return in_head(p) && !sc->started ? p->lim.max_start_line :
					    p->lim.max_field_line;
}

static size_t field_limit(const struct coil__http_parser *p)
{
	size_t max = p->lim.max_fields < p->cap ? p->lim.max_fields : p->cap;

	return in_head(p) ? max : max - p->nhead;
}

static int start_line(struct coil__http_parser *p, const char *s, size_t n,
		      struct sink *k)
{
	struct coil__http_head *h = k ? k->head : NULL;

	if (p->kind == COIL__HTTP_REQUEST)
		return request_line(s, n, h);
	return status_line(s, n, h);
}

static int one_field(struct coil__http_parser *p, struct coil__http_scan *sc,
		     const char *s, size_t n, struct sink *k)
{
	struct coil__http_field tmp, *fl = &tmp;
	int err;

	if (sc->fields >= field_limit(p))
		return COIL__HTTP_ETOO_MANY_FIELDS;
	if (k)
		fl = &k->out[sc->fields];
	err = field_line(s, n, fl);
	if (err)
		return err;
	sc->fields++;
	return k && k->facts ? note_field(fl, k->facts) : 0;
}

/*
 * One complete line: @s..@lf, @lf at offset @end of the section. Returns 1
 * for the blank line that ends the section, 0 for any other good line, or
 * an error. Checks run in a fixed order (length, section size, line ending,
 * content) so that the first error does not depend on how input was split.
 */
static int one_line(struct coil__http_parser *p, struct coil__http_scan *sc,
		    const char *s, size_t end, struct sink *k)
{
	size_t n = end - sc->pos;
	bool crlf = n > 0 && s[n - 1] == '\r';

	n -= crlf;
	if (n > line_limit(p, sc))
		return in_head(p) && !sc->started ? COIL__HTTP_ESTART_TOO_LONG :
						    COIL__HTTP_EFIELD_TOO_LONG;
	if (end + 1 > p->lim.max_head)
		return COIL__HTTP_EHEAD_TOO_LARGE;
	if (!crlf)
		return COIL__HTTP_EBARE_LF;
	if (memchr(s, '\r', n))
		return COIL__HTTP_EBARE_CR;
	if (in_head(p) && !sc->started) {
		/* RFC 9112 §2.2: skip empty lines before a request line. */
		if (n == 0 && p->kind == COIL__HTTP_REQUEST)
			return 0;
		sc->started = true;
		return n ? start_line(p, s, n, k) : COIL__HTTP_ESTART_LINE;
	}
	if (n == 0)
		return 1;
	return one_field(p, sc, s, n, k);
}

/*
 * Scan complete lines of a section in buf[0..len) from where @sc left off.
 * Returns the section's size once its blank line is in, 0 when more input
 * is needed, or an error. A partial line is rejected as soon as it is
 * longer than its limit allows, even counting a CR that may end it.
 */
static ssize_t scan_section(struct coil__http_parser *p,
			    struct coil__http_scan *sc, const char *buf,
			    size_t len, struct sink *k)
{
	const char *lf;
	int r;

	for (;;) {
		lf = sc->next < len ?
			     memchr(buf + sc->next, '\n', len - sc->next) :
			     NULL;
		if (!lf) {
			sc->next = len;
			if (len - sc->pos > (size_t)line_limit(p, sc) + 1)
				return in_head(p) && !sc->started ?
					       COIL__HTTP_ESTART_TOO_LONG :
					       COIL__HTTP_EFIELD_TOO_LONG;
			return 0;
		}
		r = one_line(p, sc, buf + sc->pos, (size_t)(lf - buf), k);
		if (r < 0)
			return r;
		sc->pos = sc->next = (size_t)(lf - buf) + 1;
		if (r == 1)
			return (ssize_t)sc->pos;
	}
}

/* ------------------------------------------------------------------ head */

static void defaults(struct coil__http_limits *l)
{
	/* parse_head() returns the head's size as an int. */
	if (l->max_head > INT32_MAX / 2)
		l->max_head = INT32_MAX / 2;
	if (!l->max_start_line)
		l->max_start_line = DEFAULT_START_LINE;
	if (!l->max_field_line)
		l->max_field_line = DEFAULT_FIELD_LINE;
	if (!l->max_fields)
		l->max_fields = DEFAULT_FIELDS;
	if (!l->max_head)
		l->max_head = DEFAULT_HEAD;
	if (!l->max_chunk_line)
		l->max_chunk_line = DEFAULT_CHUNK_LINE;
}

void coil__http_parser_init(struct coil__http_parser *p,
			    enum coil__http_kind kind,
			    const struct coil__http_limits *limits,
			    struct coil__http_field *fields, size_t cap)
{
	memset(p, 0, sizeof(*p));
	p->kind = kind;
	if (limits)
		p->lim = *limits;
	defaults(&p->lim);
	p->fields = fields;
	p->cap = cap;
	coil__http_parser_reset(p, 0);
}

void coil__http_parser_reset(struct coil__http_parser *p, unsigned flags)
{
	p->flags = flags;
	p->state = COIL__HTTP_S_HEAD;
	memset(&p->scan, 0, sizeof(p->scan));
	p->nhead = p->ntrailers = 0;
	p->remaining = p->total = p->chunk_size = 0;
	p->chunk_line = 0;
	p->chunk_digits = 0;
	p->seen = false;
}

/* A response without a body whatever its fields say (RFC 9112 §6.3 1-2). */
static bool response_bodyless(const struct coil__http_parser *p, int status)
{
	if ((p->flags & COIL__HTTP_TO_HEAD) || status < 200 || status == 204 ||
	    status == 304)
		return true;
	return (p->flags & COIL__HTTP_TO_CONNECT) && status < 300;
}

static int request_framing(struct coil__http_head *h, const struct facts *f)
{
	if (f->te) {
		if (!f->te_last_chunked)
			return COIL__HTTP_ETE_NOT_CHUNKED;
		if (f->te_other)
			return COIL__HTTP_ETE_UNKNOWN;
		h->framing = COIL__HTTP_BODY_CHUNKED;
	} else if (f->cl_count) {
		h->framing = COIL__HTTP_BODY_LENGTH;
	}
	h->upgrade = (h->method.len == 7 &&
		      memcmp(h->method.ptr, "CONNECT", 7) == 0) ||
		     (h->minor >= 1 && f->upgrade_field && f->conn_upgrade);
	h->expect_continue = h->minor >= 1 && f->expect_continue;
	return 0;
}

static void response_framing(const struct coil__http_parser *p,
			     struct coil__http_head *h, const struct facts *f)
{
	if (response_bodyless(p, h->status)) {
		h->framing = COIL__HTTP_BODY_NONE;
		h->upgrade = h->status == 101 ||
			     ((p->flags & COIL__HTTP_TO_CONNECT) &&
			      h->status >= 200 && h->status < 300);
		return;
	}
	if (f->te) {
		h->framing = f->te_last_chunked ? COIL__HTTP_BODY_CHUNKED :
						  COIL__HTTP_BODY_UNTIL_CLOSE;
		h->transfer_coded = f->te_other;
	} else {
		h->framing = f->cl_count ? COIL__HTTP_BODY_LENGTH :
					   COIL__HTTP_BODY_UNTIL_CLOSE;
	}
}

/* Judge a complete head's framing facts (RFC 9112 §6.3, §9.3). */
static int finish_head(struct coil__http_parser *p, struct coil__http_head *h,
		       const struct facts *f)
{
	int err = 0;

	if (p->kind == COIL__HTTP_REQUEST && h->minor >= 1 && !f->host_count)
		return COIL__HTTP_EHOST_MISSING;
	if (f->te && f->cl_count)
		return COIL__HTTP_ECL_AND_TE;
	if (f->te && h->minor == 0)
		return COIL__HTTP_ETE_HTTP10;
	h->content_length = f->cl_count ? f->cl : 0;
	if (p->kind == COIL__HTTP_REQUEST)
		err = request_framing(h, f);
	else
		response_framing(p, h, f);
	if (err)
		return err;
	if (h->framing == COIL__HTTP_BODY_LENGTH && p->lim.max_body &&
	    h->content_length > p->lim.max_body)
		return COIL__HTTP_EBODY_TOO_LARGE;
	h->keep_alive = !f->conn_close &&
			(h->minor >= 1 || f->conn_keep_alive) &&
			h->framing != COIL__HTTP_BODY_UNTIL_CLOSE;
	return 0;
}

/* The state that reads the body @h announces. */
static enum coil__http_state body_state(const struct coil__http_head *h)
{
	switch (h->framing) {
	case COIL__HTTP_BODY_LENGTH:
		return h->content_length ? COIL__HTTP_S_LENGTH :
					   COIL__HTTP_S_DONE;
	case COIL__HTTP_BODY_CHUNKED:
		return COIL__HTTP_S_CHUNK_SIZE;
	case COIL__HTTP_BODY_UNTIL_CLOSE:
		return COIL__HTTP_S_CLOSE;
	default:
		return COIL__HTTP_S_DONE;
	}
}

int coil__http_parse_head(struct coil__http_parser *p, const char *buf,
			  size_t len, struct coil__http_head *head)
{
	struct coil__http_scan again = { 0 };
	struct facts f = { 0 };
	struct sink k = { head, p->fields, &f };
	ssize_t size;
	int err;

	if (p->state != COIL__HTTP_S_HEAD || len < p->scan.next)
		return -EINVAL;
	p->seen |= len > 0;
	size = scan_section(p, &p->scan, buf, len, NULL);
	if (size <= 0)
		return (int)size;
	/* Pass 2 over the complete head: slices and facts; it cannot fail on
	 * syntax that pass 1 accepted. */
	memset(head, 0, sizeof(*head));
	size = scan_section(p, &again, buf, (size_t)size, &k);
	if (size <= 0)
		return size < 0 ? (int)size : -EINVAL;
	head->fields = p->fields;
	head->nfields = p->nhead = again.fields;
	head->size = (size_t)size;
	err = finish_head(p, head, &f);
	if (err)
		return err;
	p->remaining = head->content_length;
	p->state = body_state(head);
	return (int)size;
}

const struct coil__http_slice *
coil__http_head_find(const struct coil__http_head *head, const char *name)
{
	size_t i;

	for (i = 0; i < head->nfields; i++)
		if (slice_is(head->fields[i].name, name))
			return &head->fields[i].value;
	return NULL;
}

/* ------------------------------------------------------------------ body */

static int add_body(struct coil__http_parser *p, uint64_t n)
{
	if (n > UINT64_MAX - p->total)
		return COIL__HTTP_ECHUNK_SIZE;
	p->total += n;
	if (p->lim.max_body && p->total > p->lim.max_body)
		return COIL__HTTP_EBODY_TOO_LARGE;
	return 0;
}

/* A chunk-size line ended: data follows, or trailers after the last. */
static int chunk_size_done(struct coil__http_parser *p)
{
	int err = add_body(p, p->chunk_size);

	if (err)
		return err;
	p->remaining = p->chunk_size;
	if (p->chunk_size) {
		p->state = COIL__HTTP_S_CHUNK_DATA;
		return 0;
	}
	p->state = COIL__HTTP_S_TRAILERS;
	memset(&p->scan, 0, sizeof(p->scan));
	return 0;
}

/* chunk-size = 1*HEXDIG, then CRLF, BWS ";" (an extension), or an error. */
static int chunk_size_byte(struct coil__http_parser *p, unsigned char c)
{
	int v = hex_value(c);

	if (v >= 0) {
		if (++p->chunk_digits > MAX_CHUNK_DIGITS)
			return COIL__HTTP_ECHUNK_SIZE;
		p->chunk_size = p->chunk_size << 4 | (uint64_t)v;
		return 0;
	}
	if (!p->chunk_digits)
		return c == '\n' ? COIL__HTTP_EBARE_LF : COIL__HTTP_ECHUNK_SIZE;
	if (c == '\r')
		p->state = COIL__HTTP_S_CHUNK_LF;
	else if (c == ';')
		p->state = COIL__HTTP_S_CHUNK_EXT;
	else if (is_ws(c))
		p->state = COIL__HTTP_S_CHUNK_WS;
	else
		return c == '\n' ? COIL__HTTP_EBARE_LF : COIL__HTTP_ECHUNK_SIZE;
	return 0;
}

/* One byte of a chunk-size line (size, whitespace, extension). */
static int chunk_line_byte(struct coil__http_parser *p, unsigned char c)
{
	if (c != '\r' && ++p->chunk_line > p->lim.max_chunk_line)
		return COIL__HTTP_ECHUNK_LINE_TOO_LONG;
	switch (p->state) {
	case COIL__HTTP_S_CHUNK_SIZE:
		return chunk_size_byte(p, c);
	case COIL__HTTP_S_CHUNK_WS:
		/* Whitespace may only lead to an extension: "5 \r\n" is how
		 * size-parsing disagreements are smuggled. */
		if (c == ';')
			p->state = COIL__HTTP_S_CHUNK_EXT;
		else if (!is_ws(c))
			return c == '\n' ? COIL__HTTP_EBARE_LF :
					   COIL__HTTP_ECHUNK_SIZE;
		return 0;
	default: /* COIL__HTTP_S_CHUNK_EXT: ignored, but no controls */
		if (c == '\r')
			p->state = COIL__HTTP_S_CHUNK_LF;
		else if (c == '\n')
			return COIL__HTTP_EBARE_LF;
		else if (!is_text(c))
			return COIL__HTTP_ECHUNK_EXT;
		return 0;
	}
}

/* One byte of chunked framing outside data and trailers. */
static int chunk_byte(struct coil__http_parser *p, unsigned char c)
{
	switch (p->state) {
	case COIL__HTTP_S_CHUNK_LF:
		return c == '\n' ? chunk_size_done(p) : COIL__HTTP_EBARE_CR;
	case COIL__HTTP_S_DATA_CR:
		if (c != '\r')
			return COIL__HTTP_ECHUNK_CRLF;
		p->state = COIL__HTTP_S_DATA_LF;
		return 0;
	case COIL__HTTP_S_DATA_LF:
		if (c != '\n')
			return COIL__HTTP_ECHUNK_CRLF;
		p->state = COIL__HTTP_S_CHUNK_SIZE;
		p->chunk_size = 0;
		p->chunk_digits = 0;
		p->chunk_line = 0;
		return 0;
	default:
		return chunk_line_byte(p, c);
	}
}

/* Trailers are stored after the head's fields (no NULL + 0 when cap is 0). */
static struct coil__http_field *
trailer_fields(const struct coil__http_parser *p)
{
	return p->nhead ? p->fields + p->nhead : p->fields;
}

/* The trailer section, parsed like a head once it is complete. */
static ssize_t trailers(struct coil__http_parser *p, const char *buf,
			size_t len)
{
	struct coil__http_scan again = { 0 };
	struct sink k = { NULL, trailer_fields(p), NULL };
	ssize_t size;

	if (len < p->scan.next)
		return -EINVAL;
	size = scan_section(p, &p->scan, buf, len, NULL);
	if (size <= 0)
		return size;
	size = scan_section(p, &again, buf, (size_t)size, &k);
	if (size <= 0)
		return size < 0 ? size : -EINVAL;
	p->ntrailers = again.fields;
	p->state = COIL__HTTP_S_DONE;
	return size;
}

/* Hand out up to p->remaining bytes at @buf as data. */
static size_t take(struct coil__http_parser *p, const char *buf, size_t len,
		   struct coil__http_slice *data)
{
	size_t n = len < p->remaining ? len : (size_t)p->remaining;

	*data = slice(buf, n);
	p->remaining -= n;
	return n;
}

static ssize_t chunked(struct coil__http_parser *p, const char *buf, size_t len,
		       struct coil__http_slice *data)
{
	size_t i = 0;
	ssize_t r;

	while (i < len) {
		switch (p->state) {
		case COIL__HTTP_S_CHUNK_DATA:
			i += take(p, buf + i, len - i, data);
			if (!p->remaining)
				p->state = COIL__HTTP_S_DATA_CR;
			return (ssize_t)i;
		case COIL__HTTP_S_TRAILERS:
			r = trailers(p, buf + i, len - i);
			return r < 0 ? r : (ssize_t)i + r;
		case COIL__HTTP_S_DONE:
			return (ssize_t)i;
		default:
			r = chunk_byte(p, (unsigned char)buf[i]);
			if (r < 0)
				return r;
			i++;
		}
	}
	return (ssize_t)i;
}

/*
 * A body read until close: everything is data, up to max_body. Data up to
 * the limit is handed out before the error, so that how much the caller
 * got never depends on how the input was split.
 */
static ssize_t until_close(struct coil__http_parser *p, const char *buf,
			   size_t len, struct coil__http_slice *data)
{
	uint64_t room = p->lim.max_body ? p->lim.max_body - p->total : len;
	size_t n = len < room ? len : (size_t)room;

	if (!n && len)
		return COIL__HTTP_EBODY_TOO_LARGE;
	p->total += n;
	*data = slice(n ? buf : NULL, n);
	return (ssize_t)n;
}

ssize_t coil__http_parse_body(struct coil__http_parser *p, const char *buf,
			      size_t len, struct coil__http_slice *data)
{
	size_t n;

	*data = slice(NULL, 0);
	switch (p->state) {
	case COIL__HTTP_S_HEAD:
		return -EINVAL;
	case COIL__HTTP_S_DONE:
		return 0;
	case COIL__HTTP_S_LENGTH:
		n = take(p, buf, len, data);
		if (!p->remaining)
			p->state = COIL__HTTP_S_DONE;
		return (ssize_t)n;
	case COIL__HTTP_S_CLOSE:
		return until_close(p, buf, len, data);
	default:
		return chunked(p, buf, len, data);
	}
}

bool coil__http_body_is_done(const struct coil__http_parser *p)
{
	return p->state == COIL__HTTP_S_DONE;
}

int coil__http_body_eof(struct coil__http_parser *p)
{
	if (p->state == COIL__HTTP_S_CLOSE)
		p->state = COIL__HTTP_S_DONE;
	if (p->state == COIL__HTTP_S_DONE ||
	    (p->state == COIL__HTTP_S_HEAD && !p->seen))
		return 0;
	return COIL__HTTP_ETRUNCATED;
}

const struct coil__http_field *
coil__http_trailers(const struct coil__http_parser *p, size_t *n)
{
	*n = p->state == COIL__HTTP_S_DONE ? p->ntrailers : 0;
	return trailer_fields(p);
}
