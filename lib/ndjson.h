/*
 * ndjson: newline-delimited JSON without building a tree; the one JSON
 * text module. Every tool uses it: kin-put and s3-putcsv read their input
 * with it, kin-get writes through lib/consumer, gecko-fetch reads prices
 * through lib/gecko's scanner, and every JSON string any of them writes
 * goes through ndjson_append_string.
 *
 * Parts:
 *  - a line reader over a file descriptor that keeps the source name and
 *    line number for messages ("<stdin>:17: ..."), and that can hand out the
 *    lines already available without blocking, for tools that wait on stdin
 *    with poll() and a timeout; and the list of FILE operands a tool reads
 *    in turn (ndjson_inputs);
 *  - a validating JSON tokenizer that hands out the raw text of values
 *    (member iteration, dotted-path lookup), so that a number is written
 *    back with exactly the digits it came with;
 *  - the JSON string writer and the UTF-8 decoder (validate, longest valid
 *    prefix, count characters) everyone else uses.
 * Nothing here allocates per line once its buffers have grown to the
 * largest line seen. Nothing prints: errors go into a struct errbuf.
 *
 * What is valid JSON here: RFC 8259 JSON in valid UTF-8, judged the way
 * jansson's json_loadb(text, len, JSON_DECODE_ANY, &error) judges one value
 * (leading and trailing whitespace allowed, anything else after the value
 * rejected), with two deliberate differences, both because we copy number
 * text and never convert it:
 *  - integers of any size are accepted (jansson: "too big integer" outside
 *    the int64 range), e.g. 9223372036854775808 or 1000 digits;
 *  - numbers whose value does not fit a double are accepted (jansson: "real
 *    number overflow"), e.g. 1E400.
 * Kept from jansson although RFC 8259 allows more:
 *  - "\u0000" in a string is rejected (jansson without JSON_ALLOW_NUL): a
 *    NUL cannot survive the C strings downstream (CSV cells, partition keys,
 *    jansson-based readers of our output);
 *  - nesting is limited to NDJSON_MAX_DEPTH, counted as jansson counts it:
 *    every value, scalar or not, is one level deeper than its container.
 *    This is the one limit for every JSON text we read, CoinGecko answers
 *    included: jansson's, so that what we accept jansson-based readers of
 *    our output accept too.
 * Duplicate object keys are accepted; lookups take the last one, as jansson
 * keeps the last one.
 *
 * Error messages read "invalid JSON: ':' expected (column 42)"; the column
 * is the 1-based byte offset in the text of the byte that could not be
 * accepted (one past the last byte when the text ended too early).
 */
#ifndef COINPIPE_NDJSON_H
#define COINPIPE_NDJSON_H

#include <stddef.h>

#include "buf.h"
#include "errbuf.h"

/*
 * A bound on memory, not a service limit: larger than any record Kinesis or
 * a CoinGecko line needs. Tools check service limits themselves.
 */
#define NDJSON_DEFAULT_MAX_LINE ((size_t)10 << 20)
#define NDJSON_MAX_DEPTH 2048	/* jansson's JSON_PARSER_MAX_DEPTH */

/* ---- line reader ---- */

enum ndjson_rc {
	NDJSON_ERROR = -1,	/* read error; err says why (ERR_SYSTEM) */
	NDJSON_EOF = 0,		/* end of input, every line handed out */
	NDJSON_LINE = 1,	/* a line was handed out */
	NDJSON_AGAIN = 2,	/* no complete line buffered: poll, then fill */
	NDJSON_TOOLONG = 3	/* a line was too long and is being skipped;
				 * err says where (ERR_DATA); just go on */
};

struct ndjson_reader;

/*
 * Reads fd (not closed by ndjson_reader_free); name is copied and used in
 * messages: "<stdin>" or a path. max_line is the longest line accepted in
 * bytes, without its CR LF; 0 means NDJSON_DEFAULT_MAX_LINE.
 */
struct ndjson_reader *ndjson_reader_new(int fd, const char *name,
    size_t max_line, struct errbuf *err);

/* Opens path ("-" is stdin, named "<stdin>"); the fd is closed on free. */
struct ndjson_reader *ndjson_reader_open(const char *path, size_t max_line,
    struct errbuf *err);

void ndjson_reader_free(struct ndjson_reader *r);

/*
 * Hands out the next complete line from what is buffered, without reading.
 * *line is borrowed and NUL-terminated at *len (the line itself may hold
 * NUL bytes); LF and a CR before it are stripped. It stays valid until the
 * next ndjson_reader_fill or ndjson_reader_free, so
 * several lines can be held at once between two fills.
 * After end of input the last line is handed out even without a newline.
 * Returns NDJSON_LINE, NDJSON_TOOLONG, NDJSON_AGAIN or NDJSON_EOF.
 */
int ndjson_reader_next(struct ndjson_reader *r, const char **line,
    size_t *len, struct errbuf *err);

/*
 * Calls read() once: after poll() reported the fd readable this does not
 * block. Returns 0 (data read, or end of input noted), NDJSON_AGAIN when
 * interrupted by a signal or the fd is non-blocking and empty, or
 * NDJSON_ERROR. Follow it with ndjson_reader_next until NDJSON_AGAIN.
 */
int ndjson_reader_fill(struct ndjson_reader *r, struct errbuf *err);

int ndjson_reader_fd(const struct ndjson_reader *r);
const char *ndjson_reader_name(const struct ndjson_reader *r);
/* The longest line accepted, as given to ndjson_reader_new. */
size_t ndjson_reader_max_line(const struct ndjson_reader *r);
/* Number of the last line handed out or skipped; 0 before the first. */
unsigned long ndjson_reader_lineno(const struct ndjson_reader *r);

/*
 * The FILE... operands of a tool, read one after another: "-" is stdin,
 * and no operand at all means stdin alone. ndjson_inputs_next frees the
 * current reader and opens the next operand's. It returns 1 (reader open,
 * index its operand's number), 0 after the last, or -1 when the operand at
 * index cannot be opened: err says why, and calling again goes on past it
 * (kin-put reports the operand and reads the rest; s3-putcsv stops).
 */
struct ndjson_inputs {
	char *const *paths;
	int n;
	int index;			/* the operand read; -1 before the first */
	size_t max_line;		/* for each reader */
	struct ndjson_reader *reader;	/* NULL between operands */
};

void ndjson_inputs_init(struct ndjson_inputs *in, char *const *paths, int n,
    size_t max_line);
int ndjson_inputs_next(struct ndjson_inputs *in, struct errbuf *err);
/* Operand i as messages name it: "<stdin>" for "-". */
const char *ndjson_inputs_name(const struct ndjson_inputs *in, int i);
void ndjson_inputs_free(struct ndjson_inputs *in);

/* ---- tokenizer ---- */

enum ndjson_kind {
	NDJSON_NONE = 0,
	NDJSON_NULL,
	NDJSON_FALSE,
	NDJSON_TRUE,
	NDJSON_NUMBER,
	NDJSON_STRING,
	NDJSON_ARRAY,
	NDJSON_OBJECT
};

/* A value as it appears in the text; text is borrowed from that text. */
struct ndjson_value {
	enum ndjson_kind kind;
	const char *text;	/* raw JSON: strings with their quotes,
				 * numbers with their digits as sent */
	size_t len;
	int escaped;		/* strings: holds a backslash escape, so the
				 * bytes between the quotes are not the value */
};

struct ndjson_member {
	const char *key;	/* decoded UTF-8, not NUL-terminated, borrowed
				 * until the next call on the iterator */
	size_t key_len;
	struct ndjson_value value;
};

/* Iterates an object's members; fields private. */
struct ndjson_iter {
	const char *s, *p, *end;
	int state;
	struct buf key;		/* keys with escapes are decoded here */
};

#define NDJSON_ITER_INIT { NULL, NULL, NULL, 0, BUF_INIT }

/* Validates text as one JSON value; *top (may be NULL) gets it. 0 or -1. */
int ndjson_validate(const char *text, size_t len, struct ndjson_value *top,
    struct errbuf *err);

/*
 * Iterates the members of the object that is the whole text (leading and
 * trailing whitespace allowed), validating as it goes: the text is valid
 * JSON only once ndjson_obj_next has returned 0. A member handed out
 * before an error was itself valid. An iterator may be reused for line
 * after line (its key buffer is kept); release it with ndjson_iter_free.
 * begin returns 0 or -1 (not an object, or invalid); next returns 1 with
 * *m set, 0 after the last member, or -1 with err set.
 * To iterate a nested value, pass its text and len.
 */
int ndjson_obj_begin(struct ndjson_iter *it, const char *text, size_t len,
    struct errbuf *err);
int ndjson_obj_next(struct ndjson_iter *it, struct ndjson_member *m,
    struct errbuf *err);

void ndjson_iter_free(struct ndjson_iter *it);

/*
 * Validates text, then finds the value at a dotted path of object keys
 * ("crypto", "meta.id"): each component is matched exactly against the
 * decoded keys (so a key containing '.' cannot be reached), the last of
 * duplicate keys wins. Returns 1 (found, *v set), 0 (not found, or a
 * component on the way is not an object), or -1 (invalid JSON, err set).
 */
int ndjson_lookup(const char *text, size_t len, const char *path,
    struct ndjson_value *v, struct errbuf *err);

/*
 * Decodes a string value's text (with its quotes, as in ndjson_value) to
 * UTF-8 into out, which must have room for len bytes (decoding never
 * lengthens). Returns the decoded length, or (size_t)-1 when text is not a
 * valid JSON string token (checked escapes; UTF-8 is copied as it is, so
 * pass text this module validated).
 */
size_t ndjson_string_decode(const char *text, size_t len, char *out);

/*
 * Appends a value as a cell would hold it: strings decoded, everything
 * else (numbers, literals, arrays, objects) as its raw JSON text.
 * Returns 0, or -1 when out of memory or the string is malformed.
 */
int ndjson_value_append(struct buf *b, const struct ndjson_value *v);

/*
 * Appends s as a JSON string literal with its quotes, escaping what RFC
 * 8259 requires and nothing more: '"', '\\', and the controls below 0x20
 * (\b \f \n \r \t by name, others as \u00XX in lower case); '/', DEL
 * and non-ASCII UTF-8 are copied. Returns -1 (nothing appended) when s is
 * not valid UTF-8 or on allocation failure.
 */
int ndjson_append_string(struct buf *b, const char *s, size_t n);

/*
 * The same, but each byte that is not part of valid UTF-8 is written as
 * \ufffd (for text nobody checked, such as the partition keys inside KPL
 * records). -1 only on allocation failure.
 */
int ndjson_append_string_lossy(struct buf *b, const char *s, size_t n);

const char *ndjson_kind_name(enum ndjson_kind k);	/* "number", ... */

/* ---- UTF-8: RFC 3629, no overlong forms, surrogates, > U+10FFFF ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes; ASCII, NUL
 * included, is 1), or 0 when there is none. */
size_t ndjson_utf8_len(const char *s, size_t n);

/* Length of the longest valid UTF-8 prefix of s, so n when all is valid. */
size_t ndjson_utf8_prefix(const char *s, size_t n);

/* Characters in s; each byte that is not valid UTF-8 counts as one. */
size_t ndjson_utf8_chars(const char *s, size_t n);

#endif
