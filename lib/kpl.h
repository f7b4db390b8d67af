/*
 * kpl: the Kinesis Producer Library's aggregated record format, so that
 * kin-put can pack small records into one Kinesis record and kin-get (like
 * the KCL and Firehose) can unpack them.
 *
 * Format: magic F3 89 9A C2, then a protobuf AggregatedRecord
 *   message AggregatedRecord {
 *     repeated string partition_key_table = 1;
 *     repeated string explicit_hash_key_table = 2;
 *     repeated Record records = 3; }
 *   message Record {
 *     required uint64 partition_key_index = 1;
 *     optional uint64 explicit_hash_key_index = 2;
 *     required bytes data = 3;
 *     repeated Tag tags = 4; }
 * then the MD5 digest of the protobuf bytes (16 bytes).
 */
#ifndef COINPIPE_KPL_H
#define COINPIPE_KPL_H

#include <stddef.h>

#include "buf.h"
#include "errbuf.h"

#define KPL_MAGIC "\xF3\x89\x9A\xC2"
#define KPL_MAGIC_LEN 4
#define KPL_DIGEST_LEN 16	/* MD5 */

/* One user record inside an aggregate; pointers borrow the input bytes. */
struct kpl_record {
	const unsigned char *data;
	size_t len;
	const char *key;	/* partition key */
	size_t key_len;
	const char *hash_key;	/* explicit hash key, or NULL */
	size_t hash_key_len;
};

/* 1 when the bytes start with the magic and are long enough to hold the
 * digest; such a record still fails kpl_decode if the digest or protobuf is
 * wrong, and is then passed through unchanged by kin-get. */
int kpl_is_aggregated(const void *p, size_t n);

/* Unpacks an aggregated record. *out is a malloc'd array of *count records
 * that borrow from p; free it with free(). */
int kpl_decode(const void *p, size_t n, struct kpl_record **out,
    size_t *count, struct errbuf *err);

/* Builds one aggregated record. */
struct kpl_agg {
	struct buf keys;	/* encoded partition_key_table entries */
	char **key_list;	/* distinct keys, for their indexes */
	size_t nkeys, key_cap;
	struct buf records;	/* encoded Record entries */
	size_t nrecords;
};

void kpl_agg_init(struct kpl_agg *a);
int kpl_agg_add(struct kpl_agg *a, const char *key, size_t key_len,
    const void *data, size_t len, struct errbuf *err);
/* Size of the finished record if a record with these sizes were added. */
size_t kpl_agg_size_with(const struct kpl_agg *a, size_t key_len,
    size_t len);
/* Appends the finished record (magic, protobuf, digest) to out. */
int kpl_agg_finish(const struct kpl_agg *a, struct buf *out,
    struct errbuf *err);
void kpl_agg_reset(struct kpl_agg *a);
void kpl_agg_free(struct kpl_agg *a);

#endif
