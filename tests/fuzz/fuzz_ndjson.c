/*
 * fuzz_ndjson: the validating tokenizer against jansson, the reference
 * lib/ndjson.h names. Every input line a tool reads goes through it.
 *
 * ndjson_validate must accept exactly what json_loadb(text, len,
 * JSON_DECODE_ANY) accepts, except for the header's two deliberate
 * differences (integers beyond int64, numbers beyond a double): when
 * jansson refuses only for those ("too big integer", "real number
 * overflow") the verdicts are not compared. For accepted text, the top
 * value's kind, an object's members (the last of duplicate keys wins, as
 * in jansson) and decoded strings must match jansson's.
 * One more difference, not (yet) in lib/ndjson.h: json_loadb stops reading
 * at a NUL byte, so it accepts "6\0x". RFC 8259 allows no raw NUL
 * anywhere, and ndjson refuses it: with a NUL in the input, the harness
 * requires a refusal instead of comparing (regress/ndjson/nul-after-value).
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "ndjson.h"

const char fuzz_name[] = "ndjson";

static enum ndjson_kind
kind_of(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT: return NDJSON_OBJECT;
	case JSON_ARRAY: return NDJSON_ARRAY;
	case JSON_STRING: return NDJSON_STRING;
	case JSON_INTEGER:
	case JSON_REAL: return NDJSON_NUMBER;
	case JSON_TRUE: return NDJSON_TRUE;
	case JSON_FALSE: return NDJSON_FALSE;
	default: return NDJSON_NULL;
	}
}

/* A value's raw text loaded by jansson; it was validated, so it loads. */
static json_t *
load_value(const struct ndjson_value *v)
{
	json_error_t e;
	json_t *j = json_loadb(v->text, v->len, JSON_DECODE_ANY, &e);

	FUZZ_CHECK(j != NULL, "jansson refuses a value ndjson handed out: %s",
	    e.text);
	return j;
}

struct member {
	char *key;
	size_t len;
	json_t *value;
};

static void
check_object(const char *text, size_t len, const json_t *obj)
{
	struct ndjson_iter it = NDJSON_ITER_INIT;
	struct ndjson_member m;
	struct member *v = NULL;
	struct errbuf err;
	size_t n = 0, i, j, distinct = 0;
	int rc;

	FUZZ_CHECK(ndjson_obj_begin(&it, text, len, &err) == 0,
	    "obj_begin refuses a valid object: %s", err.msg);
	while ((rc = ndjson_obj_next(&it, &m, &err)) == 1) {
		v = realloc(v, (n + 1) * sizeof(*v));
		FUZZ_CHECK(v != NULL, "out of memory");
		v[n].key = fuzz_memdup(m.key, m.key_len);
		v[n].len = m.key_len;
		v[n++].value = load_value(&m.value);
	}
	FUZZ_CHECK(rc == 0, "obj_next fails on a valid object: %s", err.msg);
	for (i = 0; i < n; i++) {
		for (j = i + 1; j < n; j++)
			if (v[j].len == v[i].len &&
			    memcmp(v[j].key, v[i].key, v[i].len) == 0)
				break;
		if (j < n)
			continue;	/* a later duplicate wins */
		distinct++;
		FUZZ_CHECK(json_equal(json_object_getn(obj, v[i].key, v[i].len),
		    v[i].value), "member %zu: key or value differs from "
		    "jansson's", i);
	}
	FUZZ_CHECK(distinct == json_object_size(obj),
	    "%zu distinct keys, jansson has %zu", distinct,
	    json_object_size(obj));
	for (i = 0; i < n; i++) {
		free(v[i].key);
		json_decref(v[i].value);
	}
	free(v);
	ndjson_iter_free(&it);
}

static void
check_scalar(const struct ndjson_value *top, const json_t *j)
{
	char *s;
	size_t n;

	if (json_is_string(j)) {
		s = fuzz_alloc(top->len + 1);
		n = ndjson_string_decode(top->text, top->len, s);
		FUZZ_CHECK(n == json_string_length(j) &&
		    memcmp(s, json_string_value(j), n) == 0,
		    "decoded string differs from jansson's");
		free(s);
	}
}

/* What ndjson writes must read back as the same value. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct ndjson_value top;
	struct errbuf err;
	json_error_t jerr;
	json_t *j;
	int ours;

	ours = ndjson_validate(text, size, &top, &err) == 0;
	if (memchr(text, '\0', size) != NULL) {
		FUZZ_CHECK(!ours, "ndjson accepts a raw NUL byte");
		return 0;
	}
	j = json_loadb(text, size, JSON_DECODE_ANY, &jerr);
	if (j == NULL) {
		/* the deliberate differences: no verdict to compare */
		if (strstr(jerr.text, "too big") != NULL ||
		    strstr(jerr.text, "real number overflow") != NULL)
			return 0;
		FUZZ_CHECK(!ours, "ndjson accepts what jansson refuses: %s",
		    jerr.text);
		FUZZ_CHECK(err.kind != ERR_NONE &&
		    fuzz_is_one_line(err.msg, sizeof(err.msg)),
		    "refusal without a one-line error");
		return 0;
	}
	FUZZ_CHECK(ours, "ndjson refuses what jansson accepts: %s", err.msg);
	FUZZ_CHECK(top.kind == kind_of(j), "top kind %s, jansson %d",
	    ndjson_kind_name(top.kind), json_typeof(j));
	if (json_is_object(j))
		check_object(text, size, j);
	else
		check_scalar(&top, j);
	json_decref(j);
	return 0;
}
