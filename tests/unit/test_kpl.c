#include <stdlib.h>

#include "kpl.h"
#include "tap.h"

/*
 * Three records (k1 "hello", k2 "world", k1 "!") encoded by an independent
 * encoder (a few lines of Python writing the protobuf wire format by hand,
 * with hashlib's MD5), not by kpl.c.
 */
static const char reference[] =
    "\xf3\x89\x9a\xc2\x0a\x02\x6b\x31\x0a\x02\x6b\x32\x1a\x09\x08\x00\x1a"
    "\x05\x68\x65\x6c\x6c\x6f\x1a\x09\x08\x01\x1a\x05\x77\x6f\x72\x6c\x64"
    "\x1a\x05\x08\x00\x1a\x01\x21\x1b\x99\x11\x04\x1a\x06\x20\x00\xd4\xb5"
    "\xa3\x4b\x4f\x4c\x6f\x95";
#define REFERENCE_LEN 57

static void
test_decode_reference(void)
{
	struct kpl_record *r;
	struct errbuf e;
	size_t n;

	ok(kpl_is_aggregated(reference, REFERENCE_LEN), "magic recognised");
	ok(kpl_decode(reference, REFERENCE_LEN, &r, &n, &e) == 0,
	    "reference decodes");
	is_int(n, 3, "three records");
	is_mem((const char *)r[0].data, r[0].len, "hello", 5, "record 0 data");
	is_mem(r[0].key, r[0].key_len, "k1", 2, "record 0 key");
	is_mem((const char *)r[1].data, r[1].len, "world", 5, "record 1 data");
	is_mem(r[1].key, r[1].key_len, "k2", 2, "record 1 key");
	is_mem(r[2].key, r[2].key_len, "k1", 2, "record 2 shares key 0");
	ok(r[2].hash_key == NULL, "no explicit hash key");
	free(r);
}

static void
test_encode_matches_reference(void)
{
	struct kpl_agg a;
	struct buf out = BUF_INIT;
	struct errbuf e;

	kpl_agg_init(&a);
	kpl_agg_add(&a, "k1", 2, "hello", 5, &e);
	kpl_agg_add(&a, "k2", 2, "world", 5, &e);
	ok(kpl_agg_size_with(&a, 2, 1) >= REFERENCE_LEN,
	    "predicted size is an upper bound");
	kpl_agg_add(&a, "k1", 2, "!", 1, &e);
	ok(kpl_agg_finish(&a, &out, &e) == 0, "finish");
	is_mem(out.data, out.len, reference, REFERENCE_LEN,
	    "encoding is byte-identical to the reference");
	kpl_agg_reset(&a);
	buf_reset(&out);
	kpl_agg_finish(&a, &out, &e);
	is_int(out.len, KPL_MAGIC_LEN + KPL_DIGEST_LEN, "empty after reset");
	kpl_agg_free(&a);
	buf_free(&out);
}

static void
test_round_trip_large(void)
{
	struct kpl_record *r = NULL;
	struct kpl_agg a;
	struct buf out = BUF_INIT;
	struct errbuf e;
	char key[16], data[300];
	size_t i, n = 0, bad = 0;

	kpl_agg_init(&a);
	memset(data, 'x', sizeof(data));
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "key-%zu", i % 37);
		kpl_agg_add(&a, key, strlen(key), data, i % sizeof(data), &e);
	}
	kpl_agg_finish(&a, &out, &e);
	ok(kpl_decode(out.data, out.len, &r, &n, &e) == 0 && n == 1000,
	    "1000 records with long varints round-trip");
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "key-%zu", i % 37);
		if (r[i].len != i % sizeof(data) ||
		    r[i].key_len != strlen(key) ||
		    memcmp(r[i].key, key, r[i].key_len) != 0)
			bad++;
	}
	is_int(bad, 0, "every record keeps its key and length");
	free(r);
	kpl_agg_free(&a);
	buf_free(&out);
}

static void
test_corrupt(void)
{
	char copy[REFERENCE_LEN];
	struct kpl_record *r;
	struct errbuf e;
	size_t n, i, refused = 0;

	memcpy(copy, reference, REFERENCE_LEN);
	copy[20] ^= 1;
	ok(kpl_decode(copy, REFERENCE_LEN, &r, &n, &e) == -1 &&
	    strstr(e.msg, "MD5") != NULL, "a flipped data bit fails the digest");
	ok(!kpl_is_aggregated("\xf3\x89\x9a\xc2", 4), "too short for a digest");
	ok(!kpl_is_aggregated("{\"a\":1}xxxxxxxxxxxxxxxxxxx", 25),
	    "JSON is not aggregated");
	/* every truncation is refused cleanly (digest no longer matches) */
	for (i = 0; i < REFERENCE_LEN; i++)
		if (kpl_decode(reference, i, &r, &n, &e) == -1)
			refused++;
	is_int(refused, REFERENCE_LEN, "every truncation refused");
}

/* Found by tests/fuzz/fuzz_kpl (regress/kpl/nul-in-partition-key): keys
 * were matched as C strings, so "a" reused the table entry of "a\0b". */
static void
test_key_with_nul(void)
{
	struct kpl_record *r = NULL;
	struct kpl_agg a;
	struct buf out = BUF_INIT;
	struct errbuf e;
	size_t n = 0;

	kpl_agg_init(&a);
	kpl_agg_add(&a, "a\0b", 3, "x", 1, &e);
	kpl_agg_add(&a, "a", 1, "y", 1, &e);
	kpl_agg_add(&a, "a\0b", 3, "z", 1, &e);
	kpl_agg_finish(&a, &out, &e);
	ok(kpl_decode(out.data, out.len, &r, &n, &e) == 0 && n == 3,
	    "keys with a NUL byte: three records");
	if (n == 3) {
		is_mem(r[0].key, r[0].key_len, "a\0b", 3, "record 0 key");
		is_mem(r[1].key, r[1].key_len, "a", 1,
		    "record 1 key is not taken for \"a\\0b\"");
		is_mem(r[2].key, r[2].key_len, "a\0b", 3,
		    "record 2 shares key 0");
	}
	free(r);
	kpl_agg_free(&a);
	buf_free(&out);
}

int
main(void)
{
	test_decode_reference();
	test_encode_matches_reference();
	test_round_trip_large();
	test_corrupt();
	test_key_with_nul();
	return tap_done();
}
