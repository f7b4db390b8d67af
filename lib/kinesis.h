/*
 * kinesis: the Kinesis Data Streams JSON 1.1 operations coinpipe uses.
 * This part is pure: request bodies are built and response bodies parsed
 * here; lib/aws sends them.
 * jansson: responses are small trees of AWS's making (a GetRecords page
 * is at most 10 MB by the API), read member by member.
 */
#ifndef COINPIPE_KINESIS_H
#define COINPIPE_KINESIS_H

#include <stddef.h>

#include "buf.h"
#include "errbuf.h"

/* Service limits, from the Kinesis API reference. */
#define KINESIS_MAX_BATCH_RECORDS 500		/* PutRecords: records per call */
#define KINESIS_MAX_BATCH_BYTES (5UL << 20)	/* PutRecords: data + keys */
#define KINESIS_MAX_RECORD_BYTES (1UL << 20)	/* data + partition key */
#define KINESIS_MAX_KEY_CHARS 256		/* partition key, Unicode chars */
#define KINESIS_TARGET_PREFIX "Kinesis_20131202."

/* ---- PutRecords ---- */

struct kinesis_batch {
	struct buf body;	/* the request JSON being built */
	size_t count;		/* records added */
	size_t bytes;		/* data + partition key bytes, for the limit */
};

/* Starts a body for stream (by name, or by ARN when it starts "arn:"). */
int kinesis_batch_begin(struct kinesis_batch *b, const char *stream,
    struct errbuf *err);
/* Adds one record; hash_key may be NULL. */
int kinesis_batch_add(struct kinesis_batch *b, const void *data, size_t len,
    const char *key, size_t key_len, const char *hash_key,
    struct errbuf *err);
int kinesis_batch_end(struct kinesis_batch *b, struct errbuf *err);
void kinesis_batch_free(struct kinesis_batch *b);

struct kinesis_put_result {
	char seq[130];		/* SequenceNumber, or "" when failed */
	char shard[64];		/* ShardId */
	char error_code[64];	/* ErrorCode, or "" when delivered */
	char error_message[160];
};

/* Parses a PutRecords response with n entries into results[0..n). Returns
 * the number of failed entries, or -1 when the body is not such a response. */
int kinesis_put_parse(const char *body, size_t len, size_t n,
    struct kinesis_put_result *results, struct errbuf *err);

/* ---- ListShards ---- */

struct kinesis_shard {
	char id[64];
	char parent[64];		/* "" when none */
	char adjacent_parent[64];	/* "" when none */
	char hash_start[40], hash_end[40];	/* decimal, 0 .. 2^128-1 */
	char start_seq[130];
	char end_seq[130];		/* "" while the shard is open */
};

struct kinesis_shard_list {
	struct kinesis_shard *v;
	size_t n, cap;
};

/* Appends the shards of one ListShards page; *next_token (malloc'd) is set
 * when there is another page, else NULL. */
int kinesis_list_shards_parse(const char *body, size_t len,
    struct kinesis_shard_list *out, char **next_token, struct errbuf *err);
void kinesis_shard_list_free(struct kinesis_shard_list *l);

/* ---- GetRecords ---- */

struct kinesis_record {
	unsigned char *data;	/* decoded bytes */
	size_t len;
	char *key;
	char seq[130];
	double arrival;		/* ApproximateArrivalTimestamp, epoch seconds */
};

struct kinesis_get_result {
	struct kinesis_record *records;
	size_t n;
	char *next_iterator;	/* NULL at SHARD_END */
	long long millis_behind;	/* -1 when absent */
	char **child_shards;	/* ChildShards[].ShardId */
	size_t nchildren;
};

int kinesis_get_parse(const char *body, size_t len,
    struct kinesis_get_result *out, struct errbuf *err);
void kinesis_get_result_free(struct kinesis_get_result *r);

/* ---- hashing ---- */

/* The 128-bit MD5 hash Kinesis uses to place a partition key on a shard, as
 * a decimal string (up to 39 digits). */
void kinesis_key_hash(const char *key, size_t len, char out[40]);
/* Compares decimal hash keys like strcmp. */
int kinesis_hash_cmp(const char *a, const char *b);
/* 1 when s is an ExplicitHashKey PutRecords takes: a decimal without
 * leading zeros from 0 to 2^128 - 1. */
int kinesis_hash_key_valid(const char *s);

/* ---- calls (through lib/aws, with its retries) ---- */

struct aws_client;

/* Every shard of the stream (ListShards, all pages). */
int kinesis_list_shards(struct aws_client *c, const char *stream,
    struct kinesis_shard_list *out, struct errbuf *err);

/* StreamStatus ("ACTIVE", "UPDATING", ...) and OpenShardCount
 * (DescribeStreamSummary). A missing stream is an ERR_CONFIG error. */
int kinesis_describe(struct aws_client *c, const char *stream,
    char status[32], long *open_shards, struct errbuf *err);

/* Where GetShardIterator starts reading. */
enum kinesis_start {
	KINESIS_TRIM_HORIZON,
	KINESIS_LATEST,
	KINESIS_AT_TIMESTAMP,		/* at: seconds since the epoch */
	KINESIS_AT_SEQUENCE,		/* seq */
	KINESIS_AFTER_SEQUENCE		/* seq */
};

/* *iterator is malloc'd. */
int kinesis_get_iterator(struct aws_client *c, const char *stream,
    const char *shard, enum kinesis_start start, const char *seq,
    double at, char **iterator, struct errbuf *err);


#endif
