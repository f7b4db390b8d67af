#include <stdlib.h>
#include <string.h>

#include "rows.h"
#include "tap.h"

static struct buf unknown = BUF_INIT;

static void
on_unknown(void *arg, const char *key, size_t len)
{
	(void)arg;
	buf_append(&unknown, key, len);
	buf_putc(&unknown, ';');
}

/* Converts lines (LF-separated) with spec (NULL: first record's keys). */
static char *
convert(const char *spec, const char *null_text, const char *lines,
    int header)
{
	struct rows *r = rows_new(null_text);
	struct buf out = BUF_INIT;
	struct csv_writer w;
	struct errbuf e;
	const char *p = lines, *nl;
	int known = 0;		/* columns given or read from a line */

	csv_writer_init(&w, &out, ',', "\r\n");
	rows_on_unknown(r, on_unknown, NULL);
	if (spec != NULL && rows_add_columns(r, spec, &e) == -1)
		buf_printf(&out, "spec: %s", e.msg);
	else if (spec != NULL && (known = 1) && header)
		rows_header(r, &w);
	for (; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!known) {
			if (rows_columns_from(r, p, (size_t)(nl - p), &e) == -1) {
				buf_printf(&out, "error: %s\n", e.msg);
				continue;
			}
			known = 1;
			if (header)
				rows_header(r, &w);
		}
		if (rows_parse(r, p, (size_t)(nl - p), &e) == -1) {
			buf_printf(&out, "error: %s\n", e.msg);
			continue;
		}
		rows_write(r, &w);
	}
	rows_free(r);
	return out.data ? buf_steal(&out) : strdup("");
}

static void
check(const char *spec, const char *lines, const char *want,
    const char *name)
{
	char *got = convert(spec, NULL, lines, 1);

	is_str(got, want, name);
	free(got);
}

static void
test_auto_columns(void)
{
	check(NULL, "{\"id\":\"bitcoin\",\"usd\":67187,\"x\":0.00095032}\n"
	    "{\"usd\":2.492e-05,\"id\":\"ripple\"}\n",
	    "id,usd,x\r\nbitcoin,67187,0.00095032\r\nripple,2.492e-05,\r\n",
	    "columns from the first record, numbers verbatim, missing empty");
	check(NULL, "{\"a\":1e400,\"b\":-0.0E+00,\"c\":123456789012345678901234567890}\n",
	    "a,b,c\r\n1e400,-0.0E+00,123456789012345678901234567890\r\n",
	    "number text survives any size");
	check(NULL, "{\"a\":true,\"b\":false,\"c\":null}\n",
	    "a,b,c\r\ntrue,false,\r\n", "literals; null is empty");
}

static void
test_quoting(void)
{
	check(NULL, "{\"a\":\"x,y\",\"b\":\"say \\\"hi\\\"\",\"c\":\"l1\\nl2\","
	    "\"d\":\"cr\\r\",\"e\":\"\\u00e9t\\u00e9\"}\n",
	    "a,b,c,d,e\r\n\"x,y\",\"say \"\"hi\"\"\",\"l1\nl2\",\"cr\r\","
	    "\xc3\xa9t\xc3\xa9\r\n", "RFC 4180 quoting and decoded strings");
	check(NULL, "{\"a b\":1,\"c,d\":2}\n", "a b,\"c,d\"\r\n1,2\r\n",
	    "header cells are quoted too");
}

static void
test_nested(void)
{
	check(NULL, "{\"a\":{\"b\": [1, 2.50, {\"c\": \"x y\"}]},\"e\":[]}\n",
	    "a,e\r\n\"{\"\"b\"\":[1,2.50,{\"\"c\"\":\"\"x y\"\"}]}\",[]\r\n",
	    "nested values as compact JSON, string spaces kept");
	check("id,price=m.usd,deep=m.x.y,m", "{\"id\":\"b\",\"m\":{\"usd\":1.50,"
	    "\"x\":{\"y\":\"z\"}}}\n{\"id\":\"c\",\"m\":5}\n",
	    "id,price,deep,m\r\nb,1.50,z,\"{\"\"usd\"\":1.50,\"\"x\"\":{\"\"y\"\":"
	    "\"\"z\"\"}}\"\r\nc,,,5\r\n", "dotted paths and renames");
	check("a", "{\"a\":1,\"a\":2}\n", "a\r\n2\r\n",
	    "the last duplicate key wins");
}

static void
test_meta_and_unknown(void)
{
	buf_reset(&unknown);
	check(NULL, "{\"id\":\"b\",\"_shard\":\"s0\",\"_seq\":\"1\","
	    "\"_arrival\":\"t\",\"_key\":\"k\"}\n{\"id\":\"c\",\"new\":1,"
	    "\"new\":2}\n{\"new\":3,\"other\":4}\n",
	    "id\r\nb\r\nc\r\n\r\n", "meta fields are not columns");
	is_str(unknown.data, "new;other;", "unknown keys reported once each");
	buf_reset(&unknown);
	check("id,_seq", "{\"id\":\"b\",\"_seq\":\"9\",\"_shard\":\"s\"}\n",
	    "id,_seq\r\nb,9\r\n", "a named meta field is a column");
	ok(unknown.len == 0, "meta fields are never unknown");
}

static void
test_errors(void)
{
	char *got = convert("a", NULL, "[1,2]\n{\"a\":1,}\n\"s\"\n{\"a\":2}\n",
	    1);

	ok(strstr(got, "error: a JSON array, not an object\n") != NULL,
	    "an array is refused");
	ok(strstr(got, "error: invalid JSON:") != NULL, "bad JSON is refused");
	ok(strstr(got, "error: a JSON string, not an object\n") != NULL,
	    "a string is refused");
	ok(strncmp(got, "a\r\n", 3) == 0 &&
	    strcmp(got + strlen(got) - 4, "\n2\r\n") == 0,
	    "good rows still convert");
	free(got);
	got = convert("a,,b", NULL, "", 1);
	ok(strstr(got, "empty column name") != NULL, "empty column refused");
	free(got);
	got = convert("x=a..b", NULL, "", 1);
	ok(strstr(got, "empty path component") != NULL, "a..b refused");
	free(got);
}

static void
test_null_and_capture(void)
{
	struct rows *r = rows_new("NULL");
	struct buf out = BUF_INIT;
	struct csv_writer w;
	struct errbuf e;
	const char *line = "{\"a\":null,\"s\":\"sh\\u0041rd\",\"n\":5}";
	const char *p;
	size_t n;
	long cs, cn, cm;

	csv_writer_init(&w, &out, ',', "\n");
	rows_add_columns(r, "a,b", &e);
	cs = rows_add_capture(r, "s", 0, &e);
	cn = rows_add_capture(r, "n", 0, &e);
	cm = rows_add_capture(r, "missing", 0, &e);
	ok(rows_parse(r, line, strlen(line), &e) == 0, "parsed");
	rows_write(r, &w);
	is_str(out.data, "NULL,NULL\n", "--null text for null and missing, LF");
	ok(rows_capture(r, cs, &p, &n) == 1 && n == 5 &&
	    memcmp(p, "shArd", 5) == 0, "a string capture is decoded");
	ok(rows_capture(r, cn, &p, &n) == 1 && n == 1 && *p == '5',
	    "a number capture is its text");
	ok(rows_capture(r, cm, &p, &n) == 0, "a missing capture");
	rows_free(r);
	buf_free(&out);
}

static void
test_compact(void)
{
	struct buf b = BUF_INIT;
	const char *in = "{ \"a b\" : [ 1 ,\t2 ] ,\n\"c\\\" d\":\"\" }";

	rows_compact(&b, in, strlen(in));
	is_str(b.data, "{\"a b\":[1,2],\"c\\\" d\":\"\"}", "rows_compact");
	buf_free(&b);
}

int
main(void)
{
	test_auto_columns();
	test_quoting();
	test_nested();
	test_meta_and_unknown();
	test_errors();
	test_null_and_capture();
	test_compact();
	buf_free(&unknown);
	return tap_done();
}
