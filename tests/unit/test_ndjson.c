/*
 * test_ndjson: the line reader over pipes and files, validation compared
 * with jansson input by input, iteration, lookup, decoding, numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "ndjson.h"
#include "tap.h"

/* A literal with its length, embedded NULs included. */
#define T(s) s, sizeof(s) - 1

#define GECKO "{\"ts\":\"2026-11-28T12:00:00Z\",\"crypto\":\"bitcoin\"," \
	"\"vs\":\"usd\",\"price\":67187.12," \
	"\"updated\":\"2026-11-28T11:59:41Z\",\"market_cap\":1.3e12," \
	"\"vol_24h\":2.1e10,\"change_24h\":-0.53}"

static int
ours_ok(const char *s, size_t n)
{
	struct errbuf e = { 0 };

	return ndjson_validate(s, n, NULL, &e) == 0;
}

static int
jansson_ok(const char *s, size_t n, json_error_t *je)
{
	json_t *j = json_loadb(s, n, JSON_DECODE_ANY, je);

	json_decref(j);
	return j != NULL;
}

/* jansson's refusals that we do not share on purpose (see ndjson.h). */
static int
deliberate(const json_error_t *je)
{
	return strstr(je->text, "too big") != NULL ||
	    strstr(je->text, "overflow") != NULL;
}

struct vcase {
	const char *text;
	size_t len;
	int ours;	/* 1: we accept */
	int jansson;	/* 1: jansson accepts */
};

static const struct vcase vcases[] = {
	{ T("{}"), 1, 1 },
	{ T("[]"), 1, 1 },
	{ T(" {\"a\" : [1, 2.5e-3, -0, true, false, null, \"x\"]}\t\r\n"),
	    1, 1 },
	{ T("\"str\""), 1, 1 },
	{ T("1"), 1, 1 },
	{ T("-0"), 1, 1 },
	{ T("0.0"), 1, 1 },
	{ T("1E+2"), 1, 1 },
	{ T("1e-2"), 1, 1 },
	{ T("-12.5E7"), 1, 1 },
	{ T("true"), 1, 1 },
	{ T("null"), 1, 1 },
	{ T("\"\\u00e9\\ud83d\\ude00\\uDBFF\\uDFFF\""), 1, 1 },
	{ T("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), 1, 1 },
	{ T("\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf\""), 1, 1 },
	{ T("\"\x7f\""), 1, 1 },
	{ T("{\"a\":{\"b\":{\"c\":[]}}}"), 1, 1 },
	{ T("{\"a\":1,\"a\":2}"), 1, 1 },
	{ T("{\"\":\"\"}"), 1, 1 },
	{ T("[1,[2,[3,{}]]]"), 1, 1 },
	{ T(GECKO), 1, 1 },
	{ T("9223372036854775807"), 1, 1 },
	{ T("-9223372036854775808"), 1, 1 },
	{ T("1e-400"), 1, 1 },
	/* deliberate: numbers are copied, never converted */
	{ T("9223372036854775808"), 1, 0 },
	{ T("-9223372036854775809"), 1, 0 },
	{ T("[123456789012345678901234567890]"), 1, 0 },
	{ T("1E400"), 1, 0 },
	{ T("{\"x\":-1e400}"), 1, 0 },
	/* truncated */
	{ T(""), 0, 0 },
	{ T("  "), 0, 0 },
	{ T("{"), 0, 0 },
	{ T("{\"a\""), 0, 0 },
	{ T("{\"a\":"), 0, 0 },
	{ T("{\"a\":1"), 0, 0 },
	{ T("[1,2"), 0, 0 },
	{ T("\"abc"), 0, 0 },
	{ T("\"\\u00e9"), 0, 0 },
	{ T("\"\\"), 0, 0 },
	{ T("tru"), 0, 0 },
	{ T("nul"), 0, 0 },
	/* structure */
	{ T("{\"a\":1,}"), 0, 0 },
	{ T("[1,]"), 0, 0 },
	{ T("[,1]"), 0, 0 },
	{ T("{,}"), 0, 0 },
	{ T("{\"a\" 1}"), 0, 0 },
	{ T("{a:1}"), 0, 0 },
	{ T("{'a':1}"), 0, 0 },
	{ T("{\"a\":1,\"b\"}"), 0, 0 },
	{ T("[1}"), 0, 0 },
	{ T("{\"a\":1]"), 0, 0 },
	{ T("[1 2]"), 0, 0 },
	{ T("{1:2}"), 0, 0 },
	/* trailing garbage */
	{ T("{\"a\":1}x"), 0, 0 },
	{ T("{\"a\":1}{}"), 0, 0 },
	{ T("1 2"), 0, 0 },
	{ T("truex"), 0, 0 },
	{ T("[true1]"), 0, 0 },
	{ T("/*c*/1"), 0, 0 },
	{ T("1//c"), 0, 0 },
	/* escapes */
	{ T("\"\\x\""), 0, 0 },
	{ T("\"\\'\""), 0, 0 },
	{ T("\"\\u12\""), 0, 0 },
	{ T("\"\\u12G4\""), 0, 0 },
	{ T("\"\\U00e9\""), 0, 0 },
	{ T("\"\\ud800\""), 0, 0 },
	{ T("\"\\udc00\""), 0, 0 },
	{ T("\"\\ud800\\u0041\""), 0, 0 },
	{ T("\"\\ud800\\ud800\""), 0, 0 },
	{ T("\"\\ud800x\""), 0, 0 },
	{ T("\"\\ud800\\\""), 0, 0 },
	{ T("\"\\u0000\""), 0, 0 },
	{ T("{\"\\u0000\":1}"), 0, 0 },
	/* control characters and NUL */
	{ T("\"a\tb\""), 0, 0 },
	{ T("\"a\nb\""), 0, 0 },
	{ T("\"\x01\""), 0, 0 },
	{ T("\"\x1f\""), 0, 0 },
	{ T("\"a\0b\""), 0, 0 },
	{ T("\0"), 0, 0 },
	{ T("{\"a\":1}\0"), 0, 0 },
	{ T("{\"a\":\0}"), 0, 0 },
	{ T("\f1"), 0, 0 },
	{ T("\v1"), 0, 0 },
	/* numbers */
	{ T("01"), 0, 0 },
	{ T("-01"), 0, 0 },
	{ T("00"), 0, 0 },
	{ T("-"), 0, 0 },
	{ T("1."), 0, 0 },
	{ T(".5"), 0, 0 },
	{ T("1e"), 0, 0 },
	{ T("1e+"), 0, 0 },
	{ T("1.e5"), 0, 0 },
	{ T("+1"), 0, 0 },
	{ T("0x10"), 0, 0 },
	{ T("1.5.3"), 0, 0 },
	{ T("-a"), 0, 0 },
	{ T("- 1"), 0, 0 },
	{ T("NaN"), 0, 0 },
	{ T("Infinity"), 0, 0 },
	{ T("-Infinity"), 0, 0 },
	{ T("True"), 0, 0 },
	/* invalid UTF-8 */
	{ T("\xef\xbb\xbf{}"), 0, 0 },
	{ T("\"\xc0\xaf\""), 0, 0 },
	{ T("\"\xc1\xbf\""), 0, 0 },
	{ T("\"\xe0\x80\xaf\""), 0, 0 },
	{ T("\"\xe0\x9f\xbf\""), 0, 0 },
	{ T("\"\xf0\x80\x80\xaf\""), 0, 0 },
	{ T("\"\xf0\x8f\xbf\xbf\""), 0, 0 },
	{ T("\"\xed\xa0\x80\""), 0, 0 },
	{ T("\"\xed\xbf\xbf\""), 0, 0 },
	{ T("\"\xf4\x90\x80\x80\""), 0, 0 },
	{ T("\"\xf5\x80\x80\x80\""), 0, 0 },
	{ T("\"\x80\""), 0, 0 },
	{ T("\"\xbf\""), 0, 0 },
	{ T("\"\xc3\""), 0, 0 },
	{ T("\"\xc3("), 0, 0 },
	{ T("\"\xe2\x82\""), 0, 0 },
	{ T("\"\xff\""), 0, 0 },
	{ T("\"\xfe\""), 0, 0 },
	{ T("\xc3\xa9"), 0, 0 },
	{ T("[1]\xc3\xa9"), 0, 0 },
};

static void
test_validate_table(void)
{
	json_error_t je;
	size_t i;
	int o, j;

	for (i = 0; i < sizeof(vcases) / sizeof(vcases[0]); i++) {
		const struct vcase *c = &vcases[i];

		o = ours_ok(c->text, c->len);
		j = jansson_ok(c->text, c->len, &je);
		if (!ok(o == c->ours && j == c->jansson,
		    "case %zu: ours %s, jansson %s%s", i,
		    o ? "accepts" : "rejects", j ? "accepts" : "rejects",
		    o != j ? " (deliberate)" : ""))
			tap_diag_value("text", c->text, c->len);
		if (o != j)
			ok(!j && deliberate(&je), "case %zu: jansson's "
			    "refusal is one we chose not to share (%s)", i,
			    je.text);
	}
}

/* n containers, innermost holding inner (may be ""). */
static char *
nest(int n, char open, char close, const char *inner, size_t *len)
{
	size_t il = strlen(inner), k = 0;
	char *s = malloc((size_t)n * 2 + il + 1);
	int i;

	if (s == NULL)
		abort();
	for (i = 0; i < n; i++)
		s[k++] = open;
	memcpy(s + k, inner, il);
	k += il;
	for (i = 0; i < n; i++)
		s[k++] = close;
	s[k] = '\0';
	*len = k;
	return s;
}

static void
check_depth(int n, const char *inner, int want)
{
	json_error_t je;
	size_t len;
	char *s = nest(n, '[', ']', inner, &len);

	ok(ours_ok(s, len) == want, "depth: ours %s %d arrays around '%s'",
	    want ? "accepts" : "rejects", n, inner);
	is_int(jansson_ok(s, len, &je), want, "depth: jansson agrees");
	free(s);
}

static void
test_depth(void)
{
	struct errbuf e = { 0 };
	char *s;
	size_t len;

	check_depth(NDJSON_MAX_DEPTH, "", 1);
	check_depth(NDJSON_MAX_DEPTH + 1, "", 0);
	check_depth(NDJSON_MAX_DEPTH - 1, "1", 1);
	check_depth(NDJSON_MAX_DEPTH, "1", 0);
	check_depth(100000, "", 0);
	s = nest(NDJSON_MAX_DEPTH + 1, '[', ']', "", &len);
	ndjson_validate(s, len, NULL, &e);
	is_str(e.msg, "invalid JSON: nesting deeper than 2048 (column 2049)",
	    "depth error names the limit and the column");
	free(s);
}

/*
 * One random edit of buf (length *n, room for size bytes): replace,
 * delete, insert or truncate. *x is the generator's state.
 */
static void
mutate(char *buf, size_t *n, size_t size, unsigned long *x)
{
	static const char alphabet[] = "{}[]\",:\\u0123456789eE.-+ tfnlrsa"
	    "\t\n\r\x01\x7f\x80\xbf\xc0\xc3\xe0\xed\xf0\xf4\xf5\xff";
	size_t pos;
	char c;

	*x = *x * 6364136223846793005UL + 1442695040888963407UL;
	pos = (*x >> 33) % (*n + 1);
	c = alphabet[(*x >> 40) % (sizeof(alphabet) - 1)];
	switch ((*x >> 20) % 4) {
	case 0:
		if (pos < *n)
			buf[pos] = c;
		break;
	case 1:
		if (pos < *n) {
			memmove(buf + pos, buf + pos + 1, *n - pos - 1);
			(*n)--;
		}
		break;
	case 2:
		if (*n + 1 < size) {
			memmove(buf + pos + 1, buf + pos, *n - pos);
			buf[pos] = c;
			(*n)++;
		}
		break;
	default:
		*n = pos;
	}
}

/*
 * Differential fuzzing with a fixed seed: mutate valid lines byte by byte
 * and require the same verdict as jansson, except its refusals we chose
 * not to share. Deterministic, so a failure reproduces.
 */
static void
test_validate_fuzz(void)
{
	static const char *const seeds[] = {
		GECKO,
		"{\"a\":[1,-2.5e+3,true,false,null,{\"b\":\"\\u00e9\\n\"}]}",
		"[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\",\"\\ud83d\\ude00\"]",
		"{\"k\":{\"x\":0.00095032,\"y\":[[],{}],\"z\":\"\"}}",
	};
	char buf[512];
	unsigned long x = 12345;
	size_t n, i;
	json_error_t je;
	int o, j, mismatch = 0, deliberate_n = 0, accepted = 0, round;

	for (round = 0; round < 40000; round++) {
		n = strlen(seeds[round % 4]);
		memcpy(buf, seeds[round % 4], n);
		for (i = 0; i < 1 + (size_t)(round % 3); i++)
			mutate(buf, &n, sizeof(buf), &x);
		o = ours_ok(buf, n);
		j = jansson_ok(buf, n, &je);
		accepted += o;
		if (o == j)
			continue;
		if (o && !j && deliberate(&je)) {
			deliberate_n++;
			continue;
		}
		if (mismatch++ == 0) {
			printf("# first mismatch: ours %d, jansson %d (%s)\n",
			    o, j, j ? "" : je.text);
			tap_diag_value("text", buf, n);
		}
	}
	ok(mismatch == 0, "fuzz: 40000 mutated lines, %d accepted, same "
	    "verdict as jansson (%d mismatches, %d deliberate)", accepted,
	    mismatch, deliberate_n);
	ok(accepted > 1000 && accepted < 39000, "fuzz: the mutations hit "
	    "both sides");
}

static void
check_error(const char *text, size_t len, const char *want)
{
	struct errbuf e = { 0 };

	errbuf_clear(&e);
	ndjson_validate(text, len, NULL, &e);
	is_str(e.msg, want, want);
	is_int(e.kind, ERR_DATA, "error kind is data");
}

static void
test_errors(void)
{
	check_error(T("{\"a\":1,}"), "invalid JSON: string expected as "
	    "object key (column 8)");
	check_error(T("{\"a\" 1}"), "invalid JSON: ':' expected (column 6)");
	check_error(T("{\"a\":1"), "invalid JSON: ',' or '}' expected, end "
	    "of text found (column 7)");
	check_error(T("[1,2"), "invalid JSON: ',' or ']' expected, end of "
	    "text found (column 5)");
	check_error(T("{\"a\":1} x"), "invalid JSON: end of text expected "
	    "after the value (column 9)");
	check_error(T("\"ab\x01\""), "invalid JSON: control character 0x01 "
	    "in string (column 4)");
	check_error(T("\"a\0\""), "invalid JSON: control character 0x00 "
	    "in string (column 3)");
	check_error(T("\"\xc3\xa9\xc0\xaf\""), "invalid JSON: invalid UTF-8 "
	    "byte 0xC0 (column 4)");
	check_error(T("[\"\\ud800\"]"), "invalid JSON: lone surrogate in \\u "
	    "escape (column 3)");
	check_error(T("\"\\q\""), "invalid JSON: invalid escape (column 2)");
	check_error(T("\"\\u0000\""), "invalid JSON: \\u0000 not allowed "
	    "(column 2)");
	check_error(T("[01]"), "invalid JSON: leading zero in number "
	    "(column 3)");
	check_error(T("-"), "invalid JSON: digit expected, end of text found "
	    "(column 2)");
	check_error(T("1."), "invalid JSON: digit expected after '.', end of "
	    "text found (column 3)");
	check_error(T("1e"), "invalid JSON: digit expected in exponent, end "
	    "of text found (column 3)");
	check_error(T(".5"), "invalid JSON: value expected (column 1)");
	check_error(T(""), "invalid JSON: value expected, end of text found "
	    "(column 1)");
	check_error(T("{\"a\":tru}"), "invalid JSON: invalid literal "
	    "(column 6)");
	check_error(T("{\"a\":\"x\"\0}"), "invalid JSON: ',' or '}' "
	    "expected, NUL byte found (column 9)");
	check_error(T("\"abc"), "invalid JSON: unterminated string "
	    "(column 5)");
}

static void
test_validate_top(void)
{
	struct ndjson_value v;
	struct errbuf e = { 0 };

	ok(ndjson_validate(T("  {\"a\":1}\t "), &v, &e) == 0, "valid with "
	    "whitespace around");
	is_int(v.kind, NDJSON_OBJECT, "top kind object");
	is_mem(v.text, v.len, "{\"a\":1}", 7, "top span without whitespace");
	ok(ndjson_validate(T("\"a\\nb\""), &v, &e) == 0 && v.escaped,
	    "escaped string flagged");
	ok(ndjson_validate(T("\"ab\""), &v, &e) == 0 && !v.escaped,
	    "plain string not flagged");
	is_str(ndjson_kind_name(NDJSON_NUMBER), "number", "kind name");
}

static void
test_iterate(void)
{
	static const char *const keys[] = { "ts", "crypto", "vs", "price",
	    "updated", "market_cap", "vol_24h", "change_24h" };
	static const char *const raw[] = { "\"2026-11-28T12:00:00Z\"",
	    "\"bitcoin\"", "\"usd\"", "67187.12", "\"2026-11-28T11:59:41Z\"",
	    "1.3e12", "2.1e10", "-0.53" };
	struct ndjson_iter it = NDJSON_ITER_INIT;
	struct ndjson_member m;
	struct errbuf e = { 0 };
	int i, rc, line;

	/* the same iterator for several lines, as a tool would use it */
	for (line = 0; line < 3; line++) {
		ok(ndjson_obj_begin(&it, T(GECKO), &e) == 0, "begin line %d",
		    line);
		for (i = 0; (rc = ndjson_obj_next(&it, &m, &e)) == 1; i++) {
			if (i >= 8 || line > 0)
				continue;
			is_mem(m.key, m.key_len, keys[i], strlen(keys[i]),
			    keys[i]);
			is_mem(m.value.text, m.value.len, raw[i],
			    strlen(raw[i]), "raw value span");
			is_int(m.value.kind, raw[i][0] == '"' ? NDJSON_STRING :
			    NDJSON_NUMBER, "value kind");
		}
		ok(rc == 0 && i == 8, "line %d: 8 members in order, then end",
		    line);
		is_int(ndjson_obj_next(&it, &m, &e), 0, "end stays end");
	}
	ndjson_iter_free(&it);
}

static void
test_iterate_escapes_and_nesting(void)
{
	const char text[] = " { \"a\\u00e9b\" : {\"x\":[1,{\"y\":2}]} , "
	    "\"q\\\"\\\\\" : \"v\\n\" , \"plain\":[] } ";
	struct ndjson_iter it = NDJSON_ITER_INIT, in = NDJSON_ITER_INIT;
	struct ndjson_member m, m2;
	struct ndjson_value v;
	struct errbuf e = { 0 };

	ok(ndjson_obj_begin(&it, T(text), &e) == 0, "begin with whitespace");
	ok(ndjson_obj_next(&it, &m, &e) == 1, "first member");
	is_mem(m.key, m.key_len, "a\xc3\xa9" "b", 4, "escaped key decoded");
	is_int(m.value.kind, NDJSON_OBJECT, "object value");
	is_mem(m.value.text, m.value.len, "{\"x\":[1,{\"y\":2}]}", 17,
	    "object value raw span");
	ok(ndjson_obj_begin(&in, m.value.text, m.value.len, &e) == 0 &&
	    ndjson_obj_next(&in, &m2, &e) == 1, "nested object iterates");
	is_mem(m2.key, m2.key_len, "x", 1, "nested key");
	ok(m2.value.kind == NDJSON_ARRAY && ndjson_validate(m2.value.text,
	    m2.value.len, &v, &e) == 0 && v.kind == NDJSON_ARRAY,
	    "nested array value is a valid array");
	is_mem(m2.value.text, m2.value.len, "[1,{\"y\":2}]", 11,
	    "array value raw span");
	ok(ndjson_obj_next(&it, &m, &e) == 1, "second member");
	is_mem(m.key, m.key_len, "q\"\\", 3, "key with quote and backslash");
	ok(m.value.escaped, "value flagged escaped");
	ok(ndjson_obj_next(&it, &m, &e) == 1 && m.value.kind == NDJSON_ARRAY,
	    "third member, empty array");
	is_int(ndjson_obj_next(&it, &m, &e), 0, "end");
	ok(ndjson_obj_begin(&it, T(" {} "), &e) == 0 &&
	    ndjson_obj_next(&it, &m, &e) == 0, "empty object: no member");
	ok(ndjson_obj_begin(&in, T("[]"), &e) == -1 &&
	    strstr(e.msg, "'{' expected") != NULL, "an array is not an object");
	ndjson_iter_free(&it);
	ndjson_iter_free(&in);
}

static void
test_iterate_errors(void)
{
	struct ndjson_iter it = NDJSON_ITER_INIT;
	struct ndjson_member m;
	struct errbuf e = { 0 };

	ok(ndjson_obj_begin(&it, T("[1]"), &e) == -1, "begin on an array");
	is_str(e.msg, "invalid JSON: '{' expected (column 1)",
	    "begin says what it wanted");
	ok(ndjson_obj_begin(&it, T("{\"a\":1,\"b\":tru}"), &e) == 0,
	    "begin on a line broken later");
	ok(ndjson_obj_next(&it, &m, &e) == 1, "valid first member");
	is_int(ndjson_obj_next(&it, &m, &e), -1, "then the error");
	is_str(e.msg, "invalid JSON: invalid literal (column 12)",
	    "column of the error");
	is_int(ndjson_obj_next(&it, &m, &e), -1, "stays failed");
	ok(ndjson_obj_begin(&it, T("{\"a\":1} x"), &e) == 0 &&
	    ndjson_obj_next(&it, &m, &e) == 1, "trailing garbage: member");
	is_int(ndjson_obj_next(&it, &m, &e), -1, "trailing garbage found "
	    "at the end");
	ok(ndjson_obj_begin(&it, T("{\"a\":1 \"b\":2}"), &e) == 0 &&
	    ndjson_obj_next(&it, &m, &e) == 1 &&
	    ndjson_obj_next(&it, &m, &e) == -1, "missing comma");
	is_str(e.msg, "invalid JSON: ',' or '}' expected (column 8)",
	    "missing comma column");
	ndjson_iter_free(&it);
}

static void
check_lookup(const char *text, const char *path, int want_rc,
    enum ndjson_kind kind, const char *raw)
{
	struct ndjson_value v;
	struct errbuf e = { 0 };
	int rc;

	rc = ndjson_lookup(text, strlen(text), path, &v, &e);
	if (!is_int(rc, want_rc, path))
		printf("#   %s\n", e.msg);
	if (rc == 1 && want_rc == 1) {
		is_int(v.kind, kind, "kind");
		is_mem(v.text, v.len, raw, strlen(raw), "raw span");
	}
}

static void
test_lookup(void)
{
	const char *t = "{\"crypto\":\"bitcoin\",\"meta\":{\"id\":7,"
	    "\"x\":{\"y\":[1]}},\"k\\u00e9y\":{\"z\":2.50},\"crypto\":\"eth\"}";

	check_lookup(t, "crypto", 1, NDJSON_STRING, "\"eth\"");
	check_lookup(t, "meta.id", 1, NDJSON_NUMBER, "7");
	check_lookup(t, "meta.x.y", 1, NDJSON_ARRAY, "[1]");
	check_lookup(t, "meta.x", 1, NDJSON_OBJECT, "{\"y\":[1]}");
	check_lookup(t, "k\xc3\xa9y.z", 1, NDJSON_NUMBER, "2.50");
	check_lookup(t, "meta.id.z", 0, NDJSON_NONE, NULL);
	check_lookup(t, "missing", 0, NDJSON_NONE, NULL);
	check_lookup(t, "meta.", 0, NDJSON_NONE, NULL);
	check_lookup(t, "crypt", 0, NDJSON_NONE, NULL);
	check_lookup("[{\"a\":1}]", "a", 0, NDJSON_NONE, NULL);
	check_lookup("{\"a\":1", "a", -1, NDJSON_NONE, NULL);
	check_lookup("{\"a\":1,\"b\":[}", "a", -1, NDJSON_NONE, NULL);
}

static void
check_decode(const char *text, size_t len, const char *want, size_t wn)
{
	char out[256];
	size_t n = ndjson_string_decode(text, len, out);

	if (want == NULL)
		ok(n == (size_t)-1, "decode refuses %s", text);
	else
		is_mem(n == (size_t)-1 ? NULL : out, n, want, wn, text);
}

static void
test_decode(void)
{
	struct buf b = BUF_INIT;
	struct ndjson_value v;
	struct errbuf e = { 0 };

	check_decode(T("\"plain\""), T("plain"));
	check_decode(T("\"\""), T(""));
	check_decode(T("\"a\\u00e9\\ud83d\\ude00\\n\\\"\\\\\\/\\t\""),
	    T("a\xc3\xa9\xf0\x9f\x98\x80\n\"\\/\t"));
	check_decode(T("\"\\u20AC\\u0041\\b\\f\\r\""),
	    T("\xe2\x82\xac" "A\b\f\r"));
	check_decode(T("\"\\uDBFF\\uDFFF\""), T("\xf4\x8f\xbf\xbf"));
	check_decode(T("\"\\ud800\""), NULL, 0);
	check_decode(T("\"\\q\""), NULL, 0);
	check_decode(T("\"abc"), NULL, 0);
	check_decode(T("\"\\\""), NULL, 0);
	check_decode(T("x"), NULL, 0);

	ndjson_validate(T("\"x\\ty\""), &v, &e);
	ok(ndjson_value_append(&b, &v) == 0, "append escaped string");
	ndjson_validate(T("\"plain\""), &v, &e);
	ndjson_value_append(&b, &v);
	ndjson_validate(T("-0.50"), &v, &e);
	ndjson_value_append(&b, &v);
	ndjson_validate(T("{\"a\": [1]}"), &v, &e);
	ndjson_value_append(&b, &v);
	is_str(b.data, "x\ty" "plain" "-0.50" "{\"a\": [1]}",
	    "cells: strings decoded, the rest raw");
	buf_free(&b);
}

static void
test_append_string(void)
{
	struct buf b = BUF_INIT;

	ok(ndjson_append_string(&b, T("a\"b\\c\n\x01\x1f\xc3\xa9/\x7f")) == 0,
	    "append string");
	is_str(b.data, "\"a\\\"b\\\\c\\n\\u0001\\u001f\xc3\xa9/\x7f\"",
	    "escaped as RFC 8259 requires, UTF-8 kept");
	ok(ndjson_append_string(&b, T("x\xc0\xaf")) == -1, "invalid UTF-8 "
	    "refused");
	is_str(b.data, "\"a\\\"b\\\\c\\n\\u0001\\u001f\xc3\xa9/\x7f\"",
	    "a refusal appends nothing");
	buf_reset(&b);
	ok(ndjson_append_string(&b, T("a\0b")) == 0, "NUL escaped");
	is_str(b.data, "\"a\\u0000b\"", "as \\u0000");
	buf_reset(&b);
	/* the lossy variant: the same escapes, U+FFFD for each bad byte */
	ok(ndjson_append_string_lossy(&b, T("a\"\n\xff\xc3\xa9\xe2\x82"
	    "\x01/")) == 0, "lossy: appended");
	is_str(b.data, "\"a\\\"\\n\\ufffd\xc3\xa9\\ufffd\\ufffd\\u0001/\"",
	    "lossy: one U+FFFD a bad byte, the rest as the strict writer");
	buf_free(&b);
}

static void
test_utf8(void)
{
	is_int(ndjson_utf8_len(T("")), 0, "len: empty");
	is_int(ndjson_utf8_len(T("\0")), 1, "len: NUL is ASCII");
	is_int(ndjson_utf8_len(T("\xc3\xa9x")), 2, "len: two bytes");
	is_int(ndjson_utf8_len(T("\xe6\x97\xa5")), 3, "len: three bytes");
	is_int(ndjson_utf8_len(T("\xf0\x9f\x98\x80")), 4, "len: four bytes");
	is_int(ndjson_utf8_len(T("\xe6\x97")), 0, "len: cut short");
	is_int(ndjson_utf8_len(T("\xc0\xaf")), 0, "len: overlong");
	is_int(ndjson_utf8_len(T("\xe0\x80\xaf")), 0, "len: overlong 3");
	is_int(ndjson_utf8_len(T("\xed\xa0\x80")), 0, "len: surrogate");
	is_int(ndjson_utf8_len(T("\xf4\x90\x80\x80")), 0,
	    "len: beyond U+10FFFF");
	is_int(ndjson_utf8_len(T("\x80")), 0, "len: lone continuation");
	is_int(ndjson_utf8_prefix(T("ab\xc3\xa9")), 4, "prefix: all valid");
	is_int(ndjson_utf8_prefix(T("ab\xc0\x80")), 2, "prefix: overlong stops");
	is_int(ndjson_utf8_prefix(T("ab\xe6\x97")), 2, "prefix: cut short");
	is_int(ndjson_utf8_chars(T("\xc3\xa9t\xc3\xa9")), 3,
	    "chars: characters, not bytes");
	is_int(ndjson_utf8_chars(T("a\xff\x80" "b")), 4,
	    "chars: a bad byte counts as one");
}

static void
test_numbers_raw(void)
{
	static const char *const want[] = { "0.00095032", "6.231e-05",
	    "2.492e-05", "67187", "9007199254740993", "1.3e12", "-0",
	    "1E400", "-123456789012345678901234567890" };
	const char text[] = "{\"a\":0.00095032,\"b\":6.231e-05,"
	    "\"c\":2.492e-05,\"d\":67187,\"e\":9007199254740993,"
	    "\"f\":1.3e12,\"g\":-0,\"h\":1E400,"
	    "\"i\":-123456789012345678901234567890}";
	struct ndjson_iter it = NDJSON_ITER_INIT;
	struct ndjson_member m;
	struct buf b = BUF_INIT;
	struct errbuf e = { 0 };
	int i = 0;

	ndjson_obj_begin(&it, T(text), &e);
	while (ndjson_obj_next(&it, &m, &e) == 1 && i < 9) {
		buf_reset(&b);
		ndjson_value_append(&b, &m.value);
		is_str(b.data, want[i], "number written back with its digits");
		i++;
	}
	is_int(i, 9, "all numbers seen");
	ndjson_iter_free(&it);
	buf_free(&b);
}

/* ---- line reader ---- */

static void
put(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) == -1) {
			if (errno == EINTR)
				continue;
			perror("write");
			exit(2);
		}
		s += w;
		n -= (size_t)w;
	}
}

/* Next line, filling once at most: what a poll() loop does. */
static int
next_or_fill(struct ndjson_reader *r, const char **l, size_t *n,
    struct errbuf *e)
{
	int rc = ndjson_reader_next(r, l, n, e);

	if (rc != NDJSON_AGAIN)
		return rc;
	if ((rc = ndjson_reader_fill(r, e)) != 0)
		return rc;
	return ndjson_reader_next(r, l, n, e);
}

/* Blocking: next, filling as often as needed. */
static int
read_line(struct ndjson_reader *r, const char **l, size_t *n,
    struct errbuf *e)
{
	int rc;

	while ((rc = ndjson_reader_next(r, l, n, e)) == NDJSON_AGAIN)
		if ((rc = ndjson_reader_fill(r, e)) != 0)
			return rc;
	return rc;
}

static void
expect_line(struct ndjson_reader *r, const char *want, size_t wn,
    unsigned long lineno)
{
	const char *l = NULL;
	size_t n = 0;
	struct errbuf e = { 0 };
	int rc = next_or_fill(r, &l, &n, &e);

	is_int(rc, NDJSON_LINE, "a line");
	if (rc == NDJSON_LINE) {
		is_mem(l, n, want, wn, "line text");
		ok(l[n] == '\0', "NUL-terminated");
	}
	is_int(ndjson_reader_lineno(r), lineno, "line number");
}

static void
test_reader_pieces(void)
{
	struct ndjson_reader *r;
	struct errbuf e = { 0 };
	const char *l;
	size_t n;
	int fds[2];

	if (pipe(fds) == -1)
		abort();
	/* so that a fill with nothing to read says so instead of waiting */
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	r = ndjson_reader_new(fds[0], "<stdin>", 0, &e);
	ok(r != NULL, "reader on a pipe");
	is_str(ndjson_reader_name(r), "<stdin>", "name kept");
	is_int(ndjson_reader_fd(r), fds[0], "fd kept");
	put(fds[1], T("{\"a\":1}\r\n{\"b\""));
	expect_line(r, T("{\"a\":1}"), 1);
	is_int(ndjson_reader_next(r, &l, &n, &e), NDJSON_AGAIN,
	    "partial tail kept, not handed out");
	put(fds[1], T(":2}\n\n"));
	expect_line(r, T("{\"b\":2}"), 2);
	expect_line(r, T(""), 3);
	is_int(ndjson_reader_next(r, &l, &n, &e), NDJSON_AGAIN, "all taken");
	put(fds[1], T("la"));
	is_int(next_or_fill(r, &l, &n, &e), NDJSON_AGAIN, "still partial");
	put(fds[1], T("st\r"));
	close(fds[1]);
	is_int(next_or_fill(r, &l, &n, &e), NDJSON_AGAIN, "no LF yet");
	expect_line(r, T("last"), 4);
	is_int(ndjson_reader_next(r, &l, &n, &e), NDJSON_EOF, "then EOF");
	is_int(ndjson_reader_fill(r, &e), 0, "fill after EOF is harmless");
	is_int(ndjson_reader_next(r, &l, &n, &e), NDJSON_EOF, "EOF stays");
	ndjson_reader_free(r);
	close(fds[0]);
}

static void
expect_toolong(struct ndjson_reader *r, unsigned long lineno,
    const char *msg)
{
	const char *l;
	size_t n;
	struct errbuf e = { 0 };
	int rc;

	errbuf_clear(&e);
	while ((rc = next_or_fill(r, &l, &n, &e)) == NDJSON_AGAIN)
		;
	is_int(rc, NDJSON_TOOLONG, "too long");
	is_str(e.msg, msg, msg);
	is_int(e.kind, ERR_DATA, "a data error");
	is_int(ndjson_reader_lineno(r), lineno, "line number of the long one");
}

static void
test_reader_toolong(void)
{
	struct ndjson_reader *r;
	struct errbuf e = { 0 };
	const char *l;
	size_t n;
	int fds[2], i;

	if (pipe(fds) == -1)
		abort();
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	r = ndjson_reader_new(fds[0], "in.ndjson", 8, &e);
	put(fds[1], T("12345678\n123456789\nabcdefgh\r\n"));
	expect_line(r, T("12345678"), 1);
	expect_toolong(r, 2, "in.ndjson:2: line longer than 8 bytes skipped");
	expect_line(r, T("abcdefgh"), 3);
	/* a long line arriving in pieces is refused before its LF comes */
	for (i = 0; i < 4; i++)
		put(fds[1], T("xxxxx"));
	expect_toolong(r, 4, "in.ndjson:4: line longer than 8 bytes skipped");
	is_int(next_or_fill(r, &l, &n, &e), NDJSON_AGAIN, "rest discarded");
	for (i = 0; i < 4; i++) {
		put(fds[1], T("yyyyy"));
		is_int(next_or_fill(r, &l, &n, &e), NDJSON_AGAIN,
		    "still skipping");
	}
	put(fds[1], T("\nok\n"));
	expect_line(r, T("ok"), 5);
	put(fds[1], T("123456789012"));
	close(fds[1]);
	expect_toolong(r, 6, "in.ndjson:6: line longer than 8 bytes skipped");
	is_int(next_or_fill(r, &l, &n, &e), NDJSON_EOF, "EOF after a long "
	    "last line");
	ndjson_reader_free(r);
	close(fds[0]);
}

/* A child writes `lines` numbered lines in odd-sized pieces. */
static pid_t
spawn_writer(int fd, int lines)
{
	struct buf b = BUF_INIT;
	size_t off = 0, k = 1;
	pid_t pid;
	int i;

	if ((pid = fork()) != 0)
		return pid;
	for (i = 1; i <= lines; i++) {
		buf_printf(&b, "{\"n\":%d,\"pad\":\"%.*s\"}%s", i, i % 97,
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
		    i % 3 == 0 ? "\r\n" : "\n");
	}
	b.len -= 1;	/* the last line has no LF */
	while (off < b.len) {
		k = (k * 7919) % 65537 + 1;
		if (k > b.len - off)
			k = b.len - off;
		put(fd, b.data + off, k);
		off += k;
	}
	_exit(0);
}

static void
test_reader_stream(void)
{
	struct ndjson_reader *r;
	struct errbuf e = { 0 };
	const char *l;
	char want[64];
	size_t n;
	pid_t pid;
	int fds[2], rc, i = 0, bad = 0, status;

	if (pipe(fds) == -1)
		abort();
	pid = spawn_writer(fds[1], 100000);
	close(fds[1]);
	r = ndjson_reader_new(fds[0], "<stdin>", 0, &e);
	while ((rc = read_line(r, &l, &n, &e)) == NDJSON_LINE) {
		int k;

		i++;
		k = snprintf(want, sizeof(want), "{\"n\":%d,\"pad\":\"", i);
		if (n < (size_t)k + 2 || memcmp(l, want, (size_t)k) != 0 ||
		    memcmp(l + n - 2, "\"}", 2) != 0 ||
		    ndjson_reader_lineno(r) != (unsigned long)i ||
		    !ours_ok(l, n))
			bad++;
	}
	is_int(rc, NDJSON_EOF, "stream ends with EOF");
	is_int(i, 100000, "100000 lines written in odd pieces, all read");
	is_int(bad, 0, "every line whole, CR stripped, numbered");
	waitpid(pid, &status, 0);
	ndjson_reader_free(r);
	close(fds[0]);
}

/* A line bigger than any single read or the first buffer. */
static void
test_reader_big_line(void)
{
	struct ndjson_reader *r;
	struct errbuf e = { 0 };
	const char *l;
	size_t n, big = 300000;
	pid_t pid;
	int fds[2], status;
	char *s = malloc(big + 2);

	if (s == NULL || pipe(fds) == -1)
		abort();
	memset(s, 'z', big);
	s[0] = s[big - 1] = '"';
	memcpy(s + big, "\n1", 2);
	if ((pid = fork()) == 0) {
		put(fds[1], s, big + 2);
		_exit(0);
	}
	close(fds[1]);
	r = ndjson_reader_new(fds[0], "<stdin>", 0, &e);
	ok(read_line(r, &l, &n, &e) == NDJSON_LINE && n == big &&
	    memcmp(l, s, big) == 0, "a 300000-byte line arrives whole");
	ok(ours_ok(l, n), "and validates");
	ok(read_line(r, &l, &n, &e) == NDJSON_LINE && n == 1,
	    "next line after it");
	is_int(read_line(r, &l, &n, &e), NDJSON_EOF, "EOF");
	waitpid(pid, &status, 0);
	ndjson_reader_free(r);
	close(fds[0]);
	free(s);
}

/* Three operands, the middle one missing: it is reported and skipped. */
static void
test_inputs(void)
{
	char a[] = "/tmp/test_ndjson.XXXXXX", c[] = "/tmp/test_ndjson.XXXXXX";
	char missing[] = "/tmp/test_ndjson.missing/x";
	char *paths[] = { a, missing, c };
	struct ndjson_inputs in;
	struct errbuf e = { 0 };
	const char *l;
	size_t n;
	int fd;

	if ((fd = mkstemp(a)) == -1)
		abort();
	put(fd, T("1\n"));
	close(fd);
	if ((fd = mkstemp(c)) == -1)
		abort();
	put(fd, T("3\n"));
	close(fd);
	ndjson_inputs_init(&in, paths, 3, 0);
	is_int(in.index, -1, "inputs: none open before the first next");
	is_int(ndjson_inputs_next(&in, &e), 1, "inputs: the first opens");
	is_int(read_line(in.reader, &l, &n, &e), NDJSON_LINE,
	    "inputs: its line");
	is_str(l, "1", "inputs: the first file's");
	is_int(ndjson_inputs_next(&in, &e), -1, "inputs: a missing one fails");
	ok(in.reader == NULL && in.index == 1 && strstr(e.msg, missing) !=
	    NULL, "inputs: saying which, at its index");
	is_int(ndjson_inputs_next(&in, &e), 1, "inputs: next goes past it");
	is_int(in.index, 2, "inputs: the third");
	is_int(read_line(in.reader, &l, &n, &e), NDJSON_LINE,
	    "inputs: its line");
	is_str(l, "3", "inputs: the third file's");
	is_int(ndjson_inputs_next(&in, &e), 0, "inputs: then the end");
	ok(in.reader == NULL, "inputs: nothing open at the end");
	is_int(ndjson_inputs_next(&in, &e), 0, "inputs: the end stays");
	is_str(ndjson_inputs_name(&in, 0), a, "inputs: named by path");
	ndjson_inputs_free(&in);
	ndjson_inputs_init(&in, NULL, 0, 0);
	is_int(in.n, 1, "inputs: no operand is one");
	is_str(ndjson_inputs_name(&in, 0), "<stdin>", "inputs: stdin");
	is_int(ndjson_inputs_next(&in, &e), 1, "inputs: stdin opens");
	is_int(ndjson_reader_fd(in.reader), 0, "inputs: fd 0");
	ndjson_inputs_free(&in);
	ndjson_inputs_free(&in);
	unlink(a);
	unlink(c);
}

static void
test_reader_file(void)
{
	char path[] = "/tmp/test_ndjson.XXXXXX";
	struct ndjson_reader *r;
	struct errbuf e = { 0 };
	const char *l;
	size_t n;
	int fd, i;

	if ((fd = mkstemp(path)) == -1)
		abort();
	put(fd, T("a\r\n\r\n{\"x\":\"1\0\"}\n"));
	for (i = 0; i < 13; i++)
		put(fd, T("{}\n"));
	put(fd, T("{\"a\":1,}"));
	close(fd);
	r = ndjson_reader_open(path, 0, &e);
	ok(r != NULL, "open a file");
	is_str(ndjson_reader_name(r), path, "named by its path");
	expect_line(r, T("a"), 1);
	expect_line(r, T(""), 2);
	expect_line(r, T("{\"x\":\"1\0\"}"), 3);
	for (i = 0; i < 14; i++)
		read_line(r, &l, &n, &e);
	is_str(l, "{\"a\":1,}", "last line without LF");
	ndjson_validate(l, n, NULL, &e);
	errbuf_prefix(&e, "%s:%lu", ndjson_reader_name(r),
	    ndjson_reader_lineno(r));
	ok(strncmp(e.msg, path, strlen(path)) == 0 &&
	    strcmp(e.msg + strlen(path), ":17: invalid JSON: string expected "
	    "as object key (column 8)") == 0,
	    "message: path:17: reason (column)");
	ndjson_reader_free(r);
	unlink(path);
	ok(ndjson_reader_open(path, 0, &e) == NULL, "a missing file fails");
	ok(strstr(e.msg, path) != NULL && e.kind == ERR_SYSTEM,
	    "saying which");
	r = ndjson_reader_open("-", 0, &e);
	ok(r != NULL && ndjson_reader_fd(r) == 0 &&
	    strcmp(ndjson_reader_name(r), "<stdin>") == 0, "- is <stdin>");
	ndjson_reader_free(r);
	ndjson_reader_free(NULL);
}

static void
test_reader_nul(void)
{
	struct ndjson_reader *r;
	struct errbuf e = { 0 };
	const char *l;
	size_t n;
	int fds[2];

	if (pipe(fds) == -1)
		abort();
	put(fds[1], T("{\"a\":\"x\0y\"}\n\0\0\n"));
	close(fds[1]);
	r = ndjson_reader_new(fds[0], "<stdin>", 0, &e);
	ok(read_line(r, &l, &n, &e) == NDJSON_LINE && n == 11,
	    "a line with a NUL keeps its length");
	ok(ndjson_validate(l, n, NULL, &e) == -1, "and is invalid JSON");
	is_str(e.msg, "invalid JSON: control character 0x00 in string "
	    "(column 8)", "saying where the NUL is");
	ok(read_line(r, &l, &n, &e) == NDJSON_LINE && n == 2 &&
	    ndjson_validate(l, n, NULL, &e) == -1, "a line of NULs");
	ndjson_reader_free(r);
	close(fds[0]);
}

static void
test_reader_nonblocking(void)
{
	struct ndjson_reader *r;
	struct errbuf e = { 0 };
	const char *l;
	size_t n;
	int fds[2];

	if (pipe(fds) == -1)
		abort();
	fcntl(fds[0], F_SETFL, O_NONBLOCK);
	r = ndjson_reader_new(fds[0], "<stdin>", 0, &e);
	is_int(ndjson_reader_fill(r, &e), NDJSON_AGAIN, "empty non-blocking "
	    "fd: fill says again");
	is_int(read_line(r, &l, &n, &e), NDJSON_AGAIN,
	    "getline does not block either");
	put(fds[1], T("x\n"));
	ok(read_line(r, &l, &n, &e) == NDJSON_LINE && n == 1,
	    "then the line");
	close(fds[1]);
	is_int(read_line(r, &l, &n, &e), NDJSON_EOF, "EOF");
	ndjson_reader_free(r);
	close(fds[0]);
	ok(ndjson_reader_new(0, "x", SIZE_MAX, &e) == NULL &&
	    e.kind == ERR_USAGE, "absurd maximum refused");
}

int
main(void)
{
	alarm(120);	/* a reader bug must fail the run, not hang it */
	test_validate_table();
	test_depth();
	test_validate_fuzz();
	test_errors();
	test_validate_top();
	test_iterate();
	test_iterate_escapes_and_nesting();
	test_iterate_errors();
	test_lookup();
	test_decode();
	test_append_string();
	test_utf8();
	test_numbers_raw();
	test_reader_pieces();
	test_reader_toolong();
	test_reader_stream();
	test_reader_big_line();
	test_reader_file();
	test_inputs();
	test_reader_nul();
	test_reader_nonblocking();
	return tap_done();
}
