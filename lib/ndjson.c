/*
 * ndjson: line reader, validating tokenizer, lossless numbers.
 * The rules for what is valid are in ndjson.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ndjson.h"

/* Bytes asked of each read(); the buffer keeps at least this much free. */
#define READ_CHUNK ((size_t)64 << 10)

struct ndjson_reader {
	int fd;
	int own_fd;		/* opened by ndjson_reader_open: close it */
	int eof;		/* read() returned 0 */
	int skipping;		/* discarding the rest of a too-long line */
	char *name;
	size_t max_line;
	unsigned long lineno;
	char *buf;
	size_t cap;		/* allocated; grows to limit at most */
	size_t limit;		/* max_line + CR LF + READ_CHUNK + NUL */
	size_t start;		/* first byte not yet handed out */
	size_t scan;		/* bytes before this hold no LF (from start) */
	size_t end;		/* end of the data read */
};

/* ---- line reader ---- */

struct ndjson_reader *
ndjson_reader_new(int fd, const char *name, size_t max_line,
    struct errbuf *err)
{
	struct ndjson_reader *r;

	if (max_line == 0)
		max_line = NDJSON_DEFAULT_MAX_LINE;
	if (max_line > SIZE_MAX / 4) {
		errbuf_set(err, ERR_USAGE, "maximum line length %zu too large",
		    max_line);
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->name = strdup(name)) == NULL) {
		free(r);
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	r->fd = fd;
	r->max_line = max_line;
	r->limit = max_line + 2 + READ_CHUNK + 1;
	return r;
}

struct ndjson_reader *
ndjson_reader_open(const char *path, size_t max_line, struct errbuf *err)
{
	struct ndjson_reader *r;
	int fd;

	if (strcmp(path, "-") == 0)
		return ndjson_reader_new(STDIN_FILENO, "<stdin>", max_line,
		    err);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errbuf_set(err, ERR_SYSTEM, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((r = ndjson_reader_new(fd, path, max_line, err)) == NULL) {
		close(fd);
		return NULL;
	}
	r->own_fd = 1;
	return r;
}

void
ndjson_reader_free(struct ndjson_reader *r)
{
	if (r == NULL)
		return;
	if (r->own_fd)
		close(r->fd);
	free(r->name);
	free(r->buf);
	free(r);
}

int
ndjson_reader_fd(const struct ndjson_reader *r)
{
	return r->fd;
}

const char *
ndjson_reader_name(const struct ndjson_reader *r)
{
	return r->name;
}

size_t
ndjson_reader_max_line(const struct ndjson_reader *r)
{
	return r->max_line;
}

unsigned long
ndjson_reader_lineno(const struct ndjson_reader *r)
{
	return r->lineno;
}

static int
too_long(const struct ndjson_reader *r, struct errbuf *err)
{
	errbuf_set(err, ERR_DATA, "%s:%lu: line longer than %zu bytes skipped",
	    r->name, r->lineno, r->max_line);
	return NDJSON_TOOLONG;
}

/* Hands out buf[start, start + n) as a line, CR stripped, NUL-terminated. */
static int
hand_out(struct ndjson_reader *r, size_t n, size_t consumed,
    const char **line, size_t *len, struct errbuf *err)
{
	char *p = r->buf + r->start;

	r->lineno++;
	r->start += consumed;
	r->scan = r->start;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > r->max_line)
		return too_long(r, err);
	p[n] = '\0';
	*line = p;
	*len = n;
	return NDJSON_LINE;
}

/* Discards a too-long line up to its LF; 1 when done, 0 when more. */
static int
skip_rest(struct ndjson_reader *r)
{
	char *nl = NULL;

	if (r->end > r->start)
		nl = memchr(r->buf + r->start, '\n', r->end - r->start);
	if (nl == NULL) {
		r->start = r->scan = r->end = 0;
		return 0;
	}
	r->start = r->scan = (size_t)(nl - r->buf) + 1;
	r->skipping = 0;
	return 1;
}

int
ndjson_reader_next(struct ndjson_reader *r, const char **line, size_t *len,
    struct errbuf *err)
{
	char *nl;
	size_t n;

	if (r->skipping && !skip_rest(r))
		return r->eof ? NDJSON_EOF : NDJSON_AGAIN;
	nl = NULL;
	if (r->end > r->scan)
		nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
	if (nl != NULL) {
		n = (size_t)(nl - (r->buf + r->start));
		return hand_out(r, n, n + 1, line, len, err);
	}
	r->scan = r->end;
	n = r->end - r->start;
	if (r->eof)
		return n > 0 ? hand_out(r, n, n, line, len, err) : NDJSON_EOF;
	/* max_line + CR, and still no LF: report now, keep memory bounded */
	if (n > r->max_line + 1) {
		r->lineno++;
		r->skipping = 1;
		r->start = r->scan = r->end = 0;
		return too_long(r, err);
	}
	return NDJSON_AGAIN;
}

/* Makes room for a read: moves the unread tail down, or grows. */
static int
make_room(struct ndjson_reader *r)
{
	size_t cap;
	char *p;

	if (r->start == r->end)
		r->start = r->scan = r->end = 0;
	if (r->cap - r->end > READ_CHUNK / 4)
		return 0;
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->scan -= r->start;
		r->start = 0;
		if (r->cap - r->end > READ_CHUNK / 4)
			return 0;
	}
	if (r->cap >= r->limit)
		return 0;	/* full of one too-long line: next reports it */
	cap = r->cap == 0 ? READ_CHUNK + 1 : r->cap * 2;
	if (cap > r->limit)
		cap = r->limit;
	if ((p = realloc(r->buf, cap)) == NULL)
		return -1;
	r->buf = p;
	r->cap = cap;
	return 0;
}

int
ndjson_reader_fill(struct ndjson_reader *r, struct errbuf *err)
{
	ssize_t n;

	if (r->eof)
		return 0;
	if (make_room(r) == -1)
		return errbuf_set(err, ERR_SYSTEM, "%s: out of memory",
		    r->name);
	if (r->cap - r->end <= 1)
		return 0;
	/* one byte stays free for the NUL after a last line without LF */
	n = read(r->fd, r->buf + r->end, r->cap - r->end - 1);
	if (n == -1) {
		if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
			return NDJSON_AGAIN;
		return errbuf_set(err, ERR_SYSTEM, "%s: read: %s", r->name,
		    strerror(errno));
	}
	if (n == 0)
		r->eof = 1;
	r->end += (size_t)n;
	return 0;
}

/* ---- a list of inputs ---- */

void
ndjson_inputs_init(struct ndjson_inputs *in, char *const *paths, int n,
    size_t max_line)
{
	static char *const stdin_only[] = { "-" };

	memset(in, 0, sizeof(*in));
	in->paths = n > 0 ? paths : stdin_only;
	in->n = n > 0 ? n : 1;
	in->index = -1;
	in->max_line = max_line;
}

int
ndjson_inputs_next(struct ndjson_inputs *in, struct errbuf *err)
{
	ndjson_reader_free(in->reader);
	in->reader = NULL;
	if (in->index + 1 >= in->n)
		return 0;
	in->index++;
	in->reader = ndjson_reader_open(in->paths[in->index], in->max_line,
	    err);
	return in->reader != NULL ? 1 : -1;
}

const char *
ndjson_inputs_name(const struct ndjson_inputs *in, int i)
{
	return strcmp(in->paths[i], "-") == 0 ? "<stdin>" : in->paths[i];
}

void
ndjson_inputs_free(struct ndjson_inputs *in)
{
	ndjson_reader_free(in->reader);
	in->reader = NULL;
}

/* ---- tokenizer ---- */

/* Where the text is, for bounds and error columns. */
struct lex {
	const char *s;
	const char *end;
	struct errbuf *err;
};

/*
 * Bytes that a string may hold as they are: printable ASCII except '"' and
 * '\\'. Controls (RFC 8259 section 7) and bytes >= 0x80 (UTF-8 to check)
 * leave the fast loop.
 */
static const unsigned char str_plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 10 */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 20 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,	/* 50 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,	/* 70 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 80 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* 90 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* A0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* B0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* C0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* D0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* E0 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,	/* F0 */
};

static const char *__attribute__((format(printf, 3, 4)))
fail(const struct lex *lx, const char *at, const char *fmt, ...)
{
	char msg[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	errbuf_set(lx->err, ERR_DATA, "invalid JSON: %s (column %zu)", msg,
	    (size_t)(at - lx->s) + 1);
	return NULL;
}

/* An unexpected byte: says what was expected and, if odd, what was found. */
static const char *
fail_at(const struct lex *lx, const char *at, const char *expected)
{
	unsigned char c;

	if (at == lx->end)
		return fail(lx, at, "%s, end of text found", expected);
	c = (unsigned char)*at;
	if (c == '\0')
		return fail(lx, at, "%s, NUL byte found", expected);
	if (c < 0x20 || c >= 0x7f)
		return fail(lx, at, "%s, byte 0x%02X found", expected, c);
	return fail(lx, at, "%s", expected);
}

/* RFC 8259 section 2: the four whitespace bytes. */
static inline const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' ||
	    *p == '\t'))
		p++;
	return p;
}

static inline int
is_cont(unsigned char c)
{
	return (c & 0xC0) == 0x80;
}

/*
 * Length of the valid UTF-8 sequence at p (first byte >= 0x80), or 0.
 * RFC 3629 section 4: no overlong forms (C0, C1, E0 80-9F, F0 80-8F), no
 * surrogates (ED A0-BF), nothing above U+10FFFF (F4 90-BF, F5-FF).
 */
static inline size_t
utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t n;

	if (c < 0xC2 || c > 0xF4)
		return 0;
	n = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if ((size_t)(end - p) < n)
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	if (n > 2 && !is_cont(p[2]))
		return 0;
	if (n > 3 && !is_cont(p[3]))
		return 0;
	return n;
}

static int
hex4(const char *p, const char *end, unsigned *out)
{
	unsigned v = 0, d;
	int i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		d = (unsigned char)p[i];
		if (d >= '0' && d <= '9')
			d -= '0';
		else if ((d | 0x20) >= 'a' && (d | 0x20) <= 'f')
			d = (d | 0x20) - 'a' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

/*
 * Reads the escape at p (at the backslash): *cp gets the code point and
 * the return value points past it; NULL with *why set when it is invalid.
 * A \u high surrogate must be followed by a \u low one (RFC 8259 section 7).
 */
static const char *
escape_cp(const char *p, const char *end, unsigned *cp, const char **why)
{
	static const char simple_in[] = "\"\\/bfnrt";
	static const char simple_out[] = "\"\\/\b\f\n\r\t";
	const char *q;
	unsigned lo;

	if (end - p >= 2 && p[1] != 'u' && p[1] != '\0' &&
	    (q = strchr(simple_in, p[1])) != NULL) {
		*cp = (unsigned char)simple_out[q - simple_in];
		return p + 2;
	}
	if (end - p < 2 || p[1] != 'u') {
		*why = "invalid escape";
		return NULL;
	}
	if (hex4(p + 2, end, cp) == -1) {
		*why = "invalid \\u escape";
		return NULL;
	}
	if (*cp < 0xD800 || *cp > 0xDFFF)
		return p + 6;
	if (*cp <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u' &&
	    hex4(p + 8, end, &lo) == 0 && lo >= 0xDC00 && lo <= 0xDFFF) {
		*cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
		return p + 12;
	}
	*why = "lone surrogate in \\u escape";
	return NULL;
}

/* p is at the opening quote; returns past the closing one. */
static const char *
scan_string(const struct lex *lx, const char *p, int *escaped)
{
	const char *end = lx->end, *q, *why;
	unsigned char c;
	unsigned cp;
	size_t n;

	for (p++;;) {
		while (end - p >= 4 && str_plain[(unsigned char)p[0]] &&
		    str_plain[(unsigned char)p[1]] &&
		    str_plain[(unsigned char)p[2]] &&
		    str_plain[(unsigned char)p[3]])
			p += 4;
		while (p < end && str_plain[(unsigned char)*p])
			p++;
		if (p == end)
			return fail(lx, p, "unterminated string");
		c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c == '\\') {
			if ((q = escape_cp(p, end, &cp, &why)) == NULL)
				return fail(lx, p, "%s", why);
			/* jansson without JSON_ALLOW_NUL; see ndjson.h */
			if (cp == 0)
				return fail(lx, p, "\\u0000 not allowed");
			if (escaped != NULL)
				*escaped = 1;
			p = q;
		} else if (c < 0x20) {
			return fail(lx, p, "control character 0x%02X in "
			    "string", c);
		} else {
			n = utf8_len((const unsigned char *)p,
			    (const unsigned char *)end);
			if (n == 0)
				return fail(lx, p, "invalid UTF-8 byte 0x%02X",
				    c);
			p += n;
		}
	}
}

static inline int
is_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

/* RFC 8259 section 6: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
static const char *
scan_number(const struct lex *lx, const char *p)
{
	const char *end = lx->end;

	if (*p == '-')
		p++;
	if (!is_digit(p, end))
		return fail_at(lx, p, "digit expected");
	if (*p++ == '0') {
		if (is_digit(p, end))
			return fail(lx, p, "leading zero in number");
	} else {
		while (is_digit(p, end))
			p++;
	}
	if (p < end && *p == '.') {
		if (!is_digit(++p, end))
			return fail_at(lx, p, "digit expected after '.'");
		while (is_digit(p, end))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, end))
			return fail_at(lx, p, "digit expected in exponent");
		while (is_digit(p, end))
			p++;
	}
	return p;
}

static const char *
scan_literal(const struct lex *lx, const char *p, const char *word,
    size_t n)
{
	if ((size_t)(lx->end - p) < n || memcmp(p, word, n) != 0)
		return fail(lx, p, "invalid literal");
	return p + n;
}

static enum ndjson_kind
kind_of(char c)
{
	switch (c) {
	case '{':
		return NDJSON_OBJECT;
	case '[':
		return NDJSON_ARRAY;
	case '"':
		return NDJSON_STRING;
	case 't':
		return NDJSON_TRUE;
	case 'f':
		return NDJSON_FALSE;
	case 'n':
		return NDJSON_NULL;
	default:
		return c == '-' || (c >= '0' && c <= '9') ? NDJSON_NUMBER :
		    NDJSON_NONE;
	}
}

/*
 * Validates one value at p (whitespace skipped by the caller) that sits
 * inside `depth` containers; returns past it. One function with a state
 * per label because the states (value, after value, key) jump to one
 * another as the grammar does; split into functions they would need the
 * container stack passed around and the hot path would pay for calls.
 * The stack is explicit so that hostile nesting cannot exhaust C's.
 */
static const char *
scan_value(const struct lex *lx, const char *p, int depth, int *escaped)
{
	char stack[NDJSON_MAX_DEPTH];	/* '[' or '{' per container opened */
	const char *end = lx->end;
	int n = 0;			/* containers opened and not closed */

value:
	/* jansson counts every value one deeper than its container */
	if (depth + n >= NDJSON_MAX_DEPTH)
		return fail(lx, p, "nesting deeper than %d",
		    NDJSON_MAX_DEPTH);
	if (p == end)
		return fail(lx, p, "value expected, end of text found");
	switch (*p) {
	case '{':
		p = skip_ws(p + 1, end);
		if (p < end && *p == '}') {
			p++;
			break;
		}
		stack[n++] = '{';
		goto key;
	case '[':
		p = skip_ws(p + 1, end);
		if (p < end && *p == ']') {
			p++;
			break;
		}
		stack[n++] = '[';
		goto value;
	case '"':
		p = scan_string(lx, p, n == 0 ? escaped : NULL);
		break;
	case 't':
		p = scan_literal(lx, p, "true", 4);
		break;
	case 'f':
		p = scan_literal(lx, p, "false", 5);
		break;
	case 'n':
		p = scan_literal(lx, p, "null", 4);
		break;
	default:
		if (kind_of(*p) != NDJSON_NUMBER)
			return fail_at(lx, p, "value expected");
		p = scan_number(lx, p);
		break;
	}
	if (p == NULL)
		return NULL;
next:
	if (n == 0)
		return p;
	p = skip_ws(p, end);
	if (stack[n - 1] == '[') {
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			goto value;
		}
		if (p < end && *p == ']') {
			p++;
			n--;
			goto next;
		}
		return fail_at(lx, p, "',' or ']' expected");
	}
	if (p < end && *p == ',') {
		p = skip_ws(p + 1, end);
		goto key;
	}
	if (p < end && *p == '}') {
		p++;
		n--;
		goto next;
	}
	return fail_at(lx, p, "',' or '}' expected");
key:
	if (p == end || *p != '"')
		return fail_at(lx, p, "string expected as object key");
	if ((p = scan_string(lx, p, NULL)) == NULL)
		return NULL;
	p = skip_ws(p, end);
	if (p == end || *p != ':')
		return fail_at(lx, p, "':' expected");
	p = skip_ws(p + 1, end);
	goto value;
}

/* Scans the value at p into *v; returns past it. */
static const char *
read_value(const struct lex *lx, const char *p, int depth,
    struct ndjson_value *v)
{
	const char *q;

	v->escaped = 0;
	if ((q = scan_value(lx, p, depth, &v->escaped)) == NULL)
		return NULL;
	v->kind = kind_of(*p);
	v->text = p;
	v->len = (size_t)(q - p);
	return q;
}

int
ndjson_validate(const char *text, size_t len, struct ndjson_value *top,
    struct errbuf *err)
{
	struct lex lx = { text, text + len, err };
	struct ndjson_value v;
	const char *p;

	p = skip_ws(text, lx.end);
	if ((p = read_value(&lx, p, 0, top != NULL ? top : &v)) == NULL)
		return -1;
	p = skip_ws(p, lx.end);
	if (p != lx.end) {
		fail_at(&lx, p, "end of text expected after the value");
		return -1;
	}
	return 0;
}

/* ---- iteration ---- */

enum { IT_FIRST, IT_MORE, IT_DONE, IT_FAILED };

static int
iter_begin(struct ndjson_iter *it, const char *text, size_t len,
    struct errbuf *err)
{
	struct lex lx = { text, text + len, err };
	const char *p;

	it->s = text;
	it->end = text + len;
	it->state = IT_FAILED;
	p = skip_ws(text, it->end);
	if (p == it->end || *p != '{') {
		fail_at(&lx, p, "'{' expected");
		return -1;
	}
	it->p = skip_ws(p + 1, it->end);
	it->state = IT_FIRST;
	if (it->p < it->end && *it->p == '}')
		it->state = IT_MORE;	/* the next step sees the close */
	return 0;
}

/* After a member: ',' goes on, '}' ends the text. */
static int
iter_separator(struct ndjson_iter *it, const struct lex *lx)
{
	const char *p = skip_ws(it->p, it->end);

	if (p < it->end && *p == ',') {
		it->p = skip_ws(p + 1, it->end);
		return 1;
	}
	if (p == it->end || *p != '}') {
		fail_at(lx, p, "',' or '}' expected");
		return -1;
	}
	p = skip_ws(p + 1, it->end);
	if (p != it->end) {
		fail_at(lx, p, "end of text expected after the value");
		return -1;
	}
	it->state = IT_DONE;
	return 0;
}

/* Reads `"key":` at it->p into the raw key (between its quotes). */
static const char *
iter_key(struct ndjson_iter *it, const struct lex *lx, const char **key,
    size_t *klen, int *kesc)
{
	const char *p = it->p, *q;

	if (p == it->end || *p != '"')
		return fail_at(lx, p, "string expected as object key");
	*kesc = 0;
	if ((q = scan_string(lx, p, kesc)) == NULL)
		return NULL;
	*key = p + 1;
	*klen = (size_t)(q - p) - 2;
	q = skip_ws(q, it->end);
	if (q == it->end || *q != ':')
		return fail_at(lx, q, "':' expected");
	return skip_ws(q + 1, it->end);
}

/*
 * One step: key and klen get the raw key between its quotes, kesc whether
 * it holds escapes. Returns 1, 0 at the end, -1 on error.
 */
static int
iter_step(struct ndjson_iter *it, const char **key, size_t *klen, int *kesc,
    struct ndjson_value *v, struct errbuf *err)
{
	struct lex lx = { it->s, it->end, err };
	const char *p;
	int rc;

	if (it->state == IT_DONE)
		return 0;
	if (it->state == IT_FAILED)
		return errbuf_set(err, ERR_USAGE, "JSON iterator used after "
		    "an error or before begin");
	if (it->state == IT_MORE && (rc = iter_separator(it, &lx)) != 1) {
		if (rc == -1)
			it->state = IT_FAILED;
		return rc;
	}
	it->state = IT_FAILED;
	if ((p = iter_key(it, &lx, key, klen, kesc)) == NULL)
		return -1;
	if ((it->p = read_value(&lx, p, 1, v)) == NULL)
		return -1;
	it->state = IT_MORE;
	return 1;
}

int
ndjson_obj_begin(struct ndjson_iter *it, const char *text, size_t len,
    struct errbuf *err)
{
	return iter_begin(it, text, len, err);
}

int
ndjson_obj_next(struct ndjson_iter *it, struct ndjson_member *m,
    struct errbuf *err)
{
	const char *key = NULL;
	size_t klen = 0;
	int esc = 0, rc;

	if ((rc = iter_step(it, &key, &klen, &esc, &m->value, err)) != 1)
		return rc;
	if (!esc) {
		m->key = key;
		m->key_len = klen;
		return 1;
	}
	buf_reset(&it->key);
	if (buf_reserve(&it->key, klen + 2) == -1) {
		it->state = IT_FAILED;
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	}
	m->key = it->key.data;
	m->key_len = ndjson_string_decode(key - 1, klen + 2, it->key.data);
	return 1;
}

void
ndjson_iter_free(struct ndjson_iter *it)
{
	if (it != NULL)
		buf_free(&it->key);
}

/* Encodes cp (a scalar value, never a surrogate) as UTF-8; returns length. */
static size_t
utf8_put(unsigned cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

size_t
ndjson_string_decode(const char *text, size_t len, char *out)
{
	const char *p, *end, *bs, *why;
	unsigned cp;
	size_t n = 0;

	if (len < 2 || text[0] != '"' || text[len - 1] != '"')
		return (size_t)-1;
	p = text + 1;
	end = text + len - 1;
	while (p < end) {
		if ((bs = memchr(p, '\\', (size_t)(end - p))) == NULL)
			bs = end;
		memcpy(out + n, p, (size_t)(bs - p));
		n += (size_t)(bs - p);
		if (bs == end)
			break;
		if ((p = escape_cp(bs, end, &cp, &why)) == NULL)
			return (size_t)-1;
		n += utf8_put(cp, out + n);
	}
	return n;
}

/* Does the raw key (between quotes) decode to want? No allocation. */
static int
key_equals(const char *raw, size_t n, int esc, const char *want, size_t wn)
{
	const char *p = raw, *end = raw + n, *why;
	char u8[4];
	unsigned cp;
	size_t k;

	if (!esc)
		return n == wn && memcmp(raw, want, n) == 0;
	while (p < end) {
		if (*p != '\\') {
			if (wn == 0 || *want != *p)
				return 0;
			p++, want++, wn--;
			continue;
		}
		if ((p = escape_cp(p, end, &cp, &why)) == NULL)
			return 0;
		k = utf8_put(cp, u8);
		if (wn < k || memcmp(want, u8, k) != 0)
			return 0;
		want += k, wn -= k;
	}
	return wn == 0;
}

/* The last member of the object at v whose key is want; 1, 0. */
static int
find_member(struct ndjson_value *v, const char *want, size_t wn,
    struct errbuf *err)
{
	struct ndjson_iter it = NDJSON_ITER_INIT;
	struct ndjson_value mv, found;
	const char *key = NULL;
	size_t klen = 0;
	int esc = 0, rc, hit = 0;

	if (v->kind != NDJSON_OBJECT ||
	    iter_begin(&it, v->text, v->len, err) == -1)
		return 0;
	while ((rc = iter_step(&it, &key, &klen, &esc, &mv, err)) == 1) {
		if (key_equals(key, klen, esc, want, wn)) {
			found = mv;
			hit = 1;
		}
	}
	if (rc == -1 || !hit)
		return 0;
	*v = found;
	return 1;
}

int
ndjson_lookup(const char *text, size_t len, const char *path,
    struct ndjson_value *v, struct errbuf *err)
{
	struct ndjson_value cur;
	const char *dot;

	if (ndjson_validate(text, len, &cur, err) == -1)
		return -1;
	for (;;) {
		dot = strchr(path, '.');
		if (!find_member(&cur, path, dot != NULL ?
		    (size_t)(dot - path) : strlen(path), err))
			return 0;
		if (dot == NULL)
			break;
		path = dot + 1;
	}
	*v = cur;
	return 1;
}

int
ndjson_value_append(struct buf *b, const struct ndjson_value *v)
{
	size_t n;

	if (v->kind != NDJSON_STRING)
		return buf_append(b, v->text, v->len);
	if (!v->escaped && v->len >= 2)
		return buf_append(b, v->text + 1, v->len - 2);
	if (buf_reserve(b, v->len) == -1)
		return -1;
	n = ndjson_string_decode(v->text, v->len, b->data + b->len);
	if (n == (size_t)-1) {
		b->data[b->len] = '\0';
		return -1;
	}
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* Appends the escape for a byte RFC 8259 section 7 requires escaped. */
static int
put_escape(struct buf *b, unsigned char c)
{
	switch (c) {
	case '"':
		return buf_append(b, "\\\"", 2);
	case '\\':
		return buf_append(b, "\\\\", 2);
	case '\b':
		return buf_append(b, "\\b", 2);
	case '\f':
		return buf_append(b, "\\f", 2);
	case '\n':
		return buf_append(b, "\\n", 2);
	case '\r':
		return buf_append(b, "\\r", 2);
	case '\t':
		return buf_append(b, "\\t", 2);
	default:
		return buf_printf(b, "\\u%04x", c);
	}
}

/* One writer for both: invalid UTF-8 fails, or with lossy becomes U+FFFD. */
static int
put_string(struct buf *b, const char *s, size_t n, int lossy)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	size_t len0 = b->len, k;

	if (buf_putc(b, '"') == -1)
		return -1;
	while (p < end) {
		for (k = 0; p + k < end && str_plain[p[k]]; k++)
			;
		if (buf_append(b, p, k) == -1)
			goto fail;
		p += k;
		if (p == end)
			break;
		if (*p < 0x80) {
			if (put_escape(b, *p++) == -1)
				goto fail;
		} else if ((k = utf8_len(p, end)) != 0) {
			if (buf_append(b, p, k) == -1)
				goto fail;
			p += k;
		} else if (!lossy || buf_append(b, "\\ufffd", 6) == -1) {
			goto fail;
		} else {
			p++;
		}
	}
	if (buf_putc(b, '"') == 0)
		return 0;
fail:
	b->len = len0;
	if (b->data != NULL)
		b->data[len0] = '\0';
	return -1;
}

int
ndjson_append_string(struct buf *b, const char *s, size_t n)
{
	return put_string(b, s, n, 0);
}

int
ndjson_append_string_lossy(struct buf *b, const char *s, size_t n)
{
	return put_string(b, s, n, 1);
}

/* ---- UTF-8 ---- */

size_t
ndjson_utf8_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	if (n == 0)
		return 0;
	return p[0] < 0x80 ? 1 : utf8_len(p, p + n);
}

size_t
ndjson_utf8_prefix(const char *s, size_t n)
{
	size_t i = 0, k;

	while (i < n) {
		/* ASCII runs without a call per byte: most records are JSON */
		while (i < n && (unsigned char)s[i] < 0x80)
			i++;
		if (i == n)
			break;
		if ((k = ndjson_utf8_len(s + i, n - i)) == 0)
			return i;
		i += k;
	}
	return n;
}

size_t
ndjson_utf8_chars(const char *s, size_t n)
{
	size_t i = 0, k, chars = 0;

	for (; i < n; i += k, chars++)
		if ((k = ndjson_utf8_len(s + i, n - i)) == 0)
			k = 1;	/* as U+FFFD would stand for it */
	return chars;
}

const char *
ndjson_kind_name(enum ndjson_kind k)
{
	static const char *const names[] = { "nothing", "null", "false",
	    "true", "number", "string", "array", "object" };

	if ((unsigned)k >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[k];
}
