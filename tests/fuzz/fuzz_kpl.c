/*
 * fuzz_kpl: the KPL de-aggregator (kpl_decode) on arbitrary bytes.
 *
 * Records arrive from Kinesis, so anyone who can write to the stream
 * chooses these bytes. A random input almost never carries a valid MD5, so
 * each input is tried twice: as it is, and wrapped as magic + input +
 * MD5(input), which takes the protobuf parser past the digest check.
 * Whenever decoding succeeds, the records are built again with kpl_agg_*
 * and must decode to the same keys and data, and kpl_agg_size_with must
 * have been an upper bound on the size reached.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "buf.h"
#include "fuzz.h"
#include "kpl.h"

const char fuzz_name[] = "kpl";

/* Re-encodes recs[0..n) and checks the size bound after every add. */
static void
encode(const struct kpl_record *recs, size_t n, struct buf *out)
{
	struct kpl_agg a;
	struct errbuf err;
	size_t i, bound = 0;

	kpl_agg_init(&a);
	for (i = 0; i < n; i++) {
		bound = kpl_agg_size_with(&a, recs[i].key_len, recs[i].len);
		FUZZ_CHECK(kpl_agg_add(&a, recs[i].key, recs[i].key_len,
		    recs[i].data, recs[i].len, &err) == 0,
		    "kpl_agg_add %zu: %s", i, err.msg);
	}
	FUZZ_CHECK(kpl_agg_finish(&a, out, &err) == 0, "kpl_agg_finish: %s",
	    err.msg);
	FUZZ_CHECK(n == 0 || out->len <= bound,
	    "kpl_agg_size_with said %zu, the record takes %zu", bound,
	    out->len);
	kpl_agg_free(&a);
}

static void
same_records(const struct kpl_record *a, const struct kpl_record *b,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		FUZZ_CHECK(a[i].key_len == b[i].key_len &&
		    memcmp(a[i].key, b[i].key, a[i].key_len) == 0,
		    "record %zu: partition key changed in the round trip", i);
		FUZZ_CHECK(a[i].len == b[i].len &&
		    (a[i].len == 0 || memcmp(a[i].data, b[i].data,
		    a[i].len) == 0),
		    "record %zu: data changed in the round trip", i);
		FUZZ_CHECK(b[i].hash_key == NULL,
		    "record %zu: explicit hash key out of nowhere", i);
	}
}

/* Every borrowed pointer must lie inside the input. */
static void
inside(const struct kpl_record *r, size_t n, const void *p, size_t size)
{
	const unsigned char *lo = p, *hi = lo + size;
	size_t i;

	for (i = 0; i < n; i++) {
		FUZZ_CHECK(r[i].data >= lo && r[i].data + r[i].len <= hi,
		    "record %zu: data outside the input", i);
		FUZZ_CHECK((const unsigned char *)r[i].key >= lo &&
		    (const unsigned char *)r[i].key + r[i].key_len <= hi,
		    "record %zu: key outside the input", i);
		FUZZ_CHECK(r[i].hash_key == NULL ||
		    ((const unsigned char *)r[i].hash_key >= lo &&
		    (const unsigned char *)r[i].hash_key + r[i].hash_key_len <=
		    hi), "record %zu: hash key outside the input", i);
	}
}

static void
decode_and_round_trip(const void *p, size_t size)
{
	struct kpl_record *recs, *again;
	struct buf out = BUF_INIT;
	struct errbuf err;
	size_t n, m;
	char *copy;

	if (kpl_decode(p, size, &recs, &n, &err) == -1) {
		FUZZ_CHECK(recs == NULL && n == 0 && err.kind == ERR_DATA,
		    "failed decode left output behind or wrong kind");
		return;
	}
	FUZZ_CHECK(kpl_is_aggregated(p, size),
	    "decoded what kpl_is_aggregated refuses");
	inside(recs, n, p, size);
	encode(recs, n, &out);
	/* exact-size copy: the built record must not depend on a NUL */
	copy = fuzz_memdup(out.data, out.len);
	FUZZ_CHECK(kpl_decode(copy, out.len, &again, &m, &err) == 0,
	    "re-encoded record does not decode: %s", err.msg);
	FUZZ_CHECK(m == n, "%zu records became %zu", n, m);
	same_records(recs, again, n);
	free(again);
	free(copy);
	free(recs);
	buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char *wrapped = malloc(KPL_MAGIC_LEN + size + KPL_DIGEST_LEN);
	unsigned int dlen = KPL_DIGEST_LEN;

	decode_and_round_trip(data, size);
	if (wrapped == NULL)
		return 0;
	memcpy(wrapped, KPL_MAGIC, KPL_MAGIC_LEN);
	if (size > 0)
		memcpy(wrapped + KPL_MAGIC_LEN, data, size);
	EVP_Digest(data, size, wrapped + KPL_MAGIC_LEN + size, &dlen,
	    EVP_md5(), NULL);
	decode_and_round_trip(wrapped, KPL_MAGIC_LEN + size + KPL_DIGEST_LEN);
	free(wrapped);
	return 0;
}
