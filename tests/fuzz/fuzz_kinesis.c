/*
 * fuzz_kinesis: the Kinesis response parsers (PutRecords, ListShards,
 * GetRecords) on arbitrary bodies. A compatible server, a proxy or a
 * bug on the other side decides these bytes; kin-put and kin-get act on
 * what the parsers return (which records to retry, which shards to read).
 *
 * Input: one selector byte, then the body, handed over as exactly its
 * bytes with no NUL after them. Properties: PutRecords counts failures
 * that match the entries, every fixed-size field is NUL-terminated, a
 * failed parse leaves nothing to free, and GetRecords data decoded from
 * canonical base64 equals the harness's own decoding.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "kinesis.h"

const char fuzz_name[] = "kinesis";

#define TERMINATED(a) (memchr((a), '\0', sizeof(a)) != NULL)

static void
put(const char *body, size_t len, size_t n)
{
	struct kinesis_put_result res[8];
	struct errbuf err;
	size_t i, failed = 0;
	int rc;

	rc = kinesis_put_parse(body, len, n, res, &err);
	if (rc == -1)
		return;
	FUZZ_CHECK(rc >= 0 && (size_t)rc <= n, "%d failures of %zu", rc, n);
	for (i = 0; i < n; i++) {
		FUZZ_CHECK(TERMINATED(res[i].seq) && TERMINATED(res[i].shard) &&
		    TERMINATED(res[i].error_code) &&
		    TERMINATED(res[i].error_message),
		    "entry %zu: unterminated field", i);
		FUZZ_CHECK(res[i].seq[0] != '\0' || res[i].error_code[0] != '\0',
		    "entry %zu: neither delivered nor failed", i);
		failed += res[i].error_code[0] != '\0';
	}
	FUZZ_CHECK(failed == (size_t)rc, "returned %d failures, entries say %zu",
	    rc, failed);
}

static void
list_shards(const char *body, size_t len)
{
	struct kinesis_shard_list l = { NULL, 0, 0 };
	struct errbuf err;
	char *next = NULL;
	size_t i;

	if (kinesis_list_shards_parse(body, len, &l, &next, &err) == 0)
		for (i = 0; i < l.n; i++) {
			const struct kinesis_shard *s = &l.v[i];
			FUZZ_CHECK(TERMINATED(s->id) && TERMINATED(s->parent) &&
			    TERMINATED(s->adjacent_parent) &&
			    TERMINATED(s->hash_start) &&
			    TERMINATED(s->hash_end) &&
			    TERMINATED(s->start_seq) && TERMINATED(s->end_seq),
			    "shard %zu: unterminated field", i);
		}
	else
		FUZZ_CHECK(next == NULL, "failed parse set a next token");
	free(next);
	kinesis_shard_list_free(&l);
}

static int
b64val(int c)
{
	const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/";
	const char *p = c != '\0' ? strchr(a, c) : NULL;

	return p != NULL ? (int)(p - a) : -1;
}

/*
 * Strict RFC 4648 decoding (padding required, no blanks, zero pad bits):
 * the only form Kinesis sends. Returns the length, or -1 when s is not
 * canonical base64.
 */
static long
b64_strict(const char *s, unsigned char *out)
{
	size_t n = strlen(s), i, o = 0;
	int v[4], k, pad;

	if (n % 4 != 0)
		return -1;
	for (i = 0; i < n; i += 4) {
		pad = 0;
		for (k = 0; k < 4; k++) {
			v[k] = b64val((unsigned char)s[i + k]);
			if (s[i + k] == '=' && i + 4 == n && k >= 2 &&
			    (k == 3 || s[i + 3] == '=')) {
				v[k] = 0;
				pad++;
			} else if (v[k] < 0)
				return -1;
		}
		if ((pad == 1 && (v[2] & 3)) || (pad == 2 && (v[1] & 15)))
			return -1;
		out[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			out[o++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	return (long)o;
}

/* Compares each record's data with the strict decoding of its Data. */
static void
same_data(const char *body, size_t len, const struct kinesis_get_result *g)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	json_t *recs = json_object_get(root, "Records");
	const char *s;
	unsigned char *want;
	long n;
	size_t i;

	for (i = 0; i < g->n; i++) {
		s = json_string_value(json_object_get(json_array_get(recs, i),
		    "Data"));
		FUZZ_CHECK(s != NULL, "record %zu: no Data, yet parsed", i);
		want = fuzz_alloc(strlen(s) + 1);
		if ((n = b64_strict(s, want)) >= 0)
			FUZZ_CHECK((size_t)n == g->records[i].len &&
			    (n == 0 || memcmp(want, g->records[i].data,
			    (size_t)n) == 0),
			    "record %zu: Data decoded wrongly", i);
		free(want);
	}
	json_decref(root);
}

static void
get(const char *body, size_t len)
{
	struct kinesis_get_result g;
	struct errbuf err;
	size_t i;

	if (kinesis_get_parse(body, len, &g, &err) == -1) {
		FUZZ_CHECK(g.records == NULL && g.n == 0 &&
		    g.next_iterator == NULL && g.child_shards == NULL,
		    "failed parse left a result behind");
		return;
	}
	for (i = 0; i < g.n; i++) {
		FUZZ_CHECK(g.records[i].data != NULL &&
		    g.records[i].key != NULL && TERMINATED(g.records[i].seq),
		    "record %zu incomplete", i);
		FUZZ_CHECK(g.records[i].len <= len,
		    "record %zu: %zu bytes of data from a %zu-byte body", i,
		    g.records[i].len, len);
	}
	same_data(body, len, &g);
	for (i = 0; i < g.nchildren; i++)
		FUZZ_CHECK(g.child_shards[i] != NULL, "child %zu is NULL", i);
	kinesis_get_result_free(&g);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *body;

	if (size < 1)
		return 0;
	body = fuzz_memdup(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0:
		put(body, size - 1, (size_t)(data[0] / 3) % 9);
		break;
	case 1:
		list_shards(body, size - 1);
		break;
	default:
		get(body, size - 1);
	}
	free(body);
	return 0;
}
