/*
 * producer: the delivery engine of kin-put, without any I/O.
 *
 * Records come in (producer_add) in input order and are copied into
 * chunked arenas (no allocation per record once warm). Each record becomes,
 * or joins, an entry: one Kinesis record of a PutRecords call (a KPL
 * aggregate holds many user records). producer_next_batch picks the
 * entries that may go now (batch limits, linger, retry times, --ordered)
 * and writes the request body; producer_call_done/_failed take the answer,
 * resolve delivered entries and schedule only the failed ones again, with
 * one full-jitter backoff per call (so they go again together), until
 * max_attempts or the delivery timeout. Reports come out with
 * producer_next_report strictly in input order, whatever the order of
 * completion, so a caller can print delivery reports and write dead
 * letters as it goes.
 *
 * Times are monotonic milliseconds passed in by the caller; randomness comes
 * from a seeded generator, so tests are deterministic.
 */
#ifndef COINPIPE_PRODUCER_H
#define COINPIPE_PRODUCER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "errbuf.h"
#include "kinesis.h"

/* Error codes of records refused before any call. */
#define PRODUCER_E_JSON "InvalidJSON"
#define PRODUCER_E_KEY "InvalidPartitionKey"
#define PRODUCER_E_TOOLARGE "RecordTooLarge"
#define PRODUCER_E_LINE "LineTooLong"
#define PRODUCER_E_STOPPED "NotDelivered"
#define PRODUCER_E_WRONG_SHARD "WrongShard"

#define PRODUCER_SHARD_MAX 64	/* kinesis_put_result.shard */
#define PRODUCER_SEQ_MAX 130	/* kinesis_put_result.seq */
#define PRODUCER_CODE_MAX 64

struct producer_shard_map;

struct producer_config {
	size_t max_records;	/* records held before producer_full; 0: 32768 */
	size_t max_bytes;	/* bytes held before producer_full; 0: 64 MiB */
	int max_attempts;	/* sends of one entry, 1 or more */
	long long timeout_ms;	/* give up an entry this long after its first
				 * send; 0: no limit */
	long long linger_ms;	/* how long a record may wait for a batch */
	int ordered;		/* no entry sent while an earlier one with
				 * the same key (aggregate: group) is
				 * unresolved */
	const char *hash_key;	/* ExplicitHashKey for every entry, or NULL */
	size_t aggregate_size;	/* KPL aggregates up to this; 0: off */
	size_t ngroups;		/* aggregation groups (shards), >= 1 */
	/* The groups as shards (NULL: none): an aggregate stored on another
	 * shard than its group's is held for producer_remap. The caller
	 * refreshes the map in place; ngroups then follows it. */
	const struct producer_shard_map *map;
	uint64_t seed;		/* backoff jitter */
	size_t batch_records;	/* 0: KINESIS_MAX_BATCH_RECORDS (tests) */
};

struct producer_stats {
	unsigned long long records;	/* added, valid or not */
	unsigned long long bytes;	/* data bytes of valid records */
	unsigned long long delivered;
	unsigned long long failed;	/* reported as failed */
	unsigned long long calls;
	unsigned long long entries_sent;	/* Kinesis records, all attempts */
	unsigned long long retries;	/* entries sent again */
	unsigned long long throttles;	/* entries or calls throttled */
	unsigned long long landed;	/* aggregates stored off their shard */
};

/* One record's fate, in input order. Pointers are valid until the next
 * producer_next_report or producer_free. */
struct producer_report {
	unsigned file;
	unsigned long line;
	const char *data;	/* the record as added */
	size_t len;
	int delivered;
	const char *shard, *seq;	/* delivered */
	long subseq;		/* index inside a KPL aggregate, else -1 */
	int attempts;
	const char *code, *message;	/* failed */
	enum errbuf_kind kind;	/* failed: ERR_DATA (the record or the
				 * request was refused), ERR_TEMP (retries
				 * or time exhausted, stopped), ERR_CONFIG */
};

/* What a whole call that got no PutRecords result said. */
struct producer_call_error {
	const char *code;	/* "ServiceUnavailable", "HTTP 500", ... */
	const char *message;
	enum errbuf_kind kind;	/* ERR_TEMP, ERR_DATA, ERR_CONFIG */
	int retryable;		/* aws_should_retry() */
	int throttle;
	long retry_after_ms;	/* -1: none */
};

/* The entries of one call; ids[] index the producer's entries. */
struct producer_call {
	uint32_t ids[KINESIS_MAX_BATCH_RECORDS];
	size_t n;
};

struct producer;
struct ndjson_reader;

struct producer *producer_new(const struct producer_config *c,
    struct errbuf *err);
void producer_free(struct producer *p);

/*
 * Adds a record: data and key are copied. A record whose data plus key is
 * over KINESIS_MAX_RECORD_BYTES, or whose key is not 1 to 256 characters,
 * is taken as failed (its report says why). group < ngroups picks the
 * aggregate it joins. Returns 0, or -1 with err set (memory).
 */
int producer_add(struct producer *p, const void *data, size_t len,
    const char *key, size_t key_len, size_t group, unsigned file,
    unsigned long line, long long now, struct errbuf *err);

/* Adds a record that failed before delivery (invalid input), so that its
 * report keeps its place in the order. data may be NULL. */
int producer_add_failed(struct producer *p, const void *data, size_t len,
    unsigned file, unsigned long line, const char *code,
    const char *message, struct errbuf *err);

/*
 * How an input line becomes a record: a JSON check (unless raw) and a
 * partition key from a field or dotted path (key_field), one fixed key
 * (key_fixed), or else a random key per record, spread evenly over the
 * hash space. map (NULL: no aggregation) picks each record's aggregation
 * group. Zero it, set the options, seed rng (nonzero);
 * producer_intake_free frees its scratch.
 */
struct producer_intake {
	const char *key_field, *key_fixed;
	int raw;
	int strict;		/* producer_drain stops at a refused line */
	unsigned long refused;	/* lines producer_drain refused */
	const struct producer_shard_map *map;
	uint64_t rng;
	struct buf key;		/* scratch */
	char why[160];		/* scratch */
};
void producer_intake_free(struct producer_intake *in);

/*
 * Adds one input line (blank lines are skipped). A line that is not JSON
 * or has no usable key is added as failed (InvalidJSON,
 * InvalidPartitionKey) so its report keeps its place. Returns 0, 1 when
 * the line was refused that way, or -1 with err set (memory).
 */
int producer_add_line(struct producer *p, struct producer_intake *in,
    const char *s, size_t n, unsigned file, unsigned long line,
    long long now, struct errbuf *err);

/*
 * Adds the lines r has buffered, through producer_add_line (a too long one
 * as failed, LineTooLong), until r must be filled or p is full. file is
 * r's input number for the reports. Returns NDJSON_AGAIN (poll, then
 * ndjson_reader_fill and call again), NDJSON_EOF at the end of r,
 * NDJSON_LINE when it stopped early (p full, or a line refused under
 * in->strict), or -1 with err set (memory).
 */
int producer_drain(struct producer *p, struct producer_intake *in,
    struct ndjson_reader *r, unsigned file, long long now,
    struct errbuf *err);

/* 1 when the caller should stop reading input until reports drain. */
int producer_full(const struct producer *p);
/* 1 when nothing is held: every record added was reported. */
int producer_idle(const struct producer *p);

/*
 * Picks the entries to send now and writes their PutRecords body into b.
 * flush: do not wait for linger (end of input, stopping). Returns the
 * number of entries (0: nothing to send now; *wake_at is then the time
 * something becomes due, or -1 when only a completion or input can change
 * that), or -1 with err set.
 */
int producer_next_batch(struct producer *p, long long now, int flush,
    const char *stream, struct kinesis_batch *b, struct producer_call *call,
    long long *wake_at, struct errbuf *err);

/* A 2xx answer: results[i] belongs to call->ids[i]. */
void producer_call_done(struct producer *p, const struct producer_call *call,
    const struct kinesis_put_result *results, long long now);
/* A call that failed as a whole. */
void producer_call_failed(struct producer *p,
    const struct producer_call *call, const struct producer_call_error *e,
    long long now);

/*
 * Resharding. A PutRecords result put an aggregate on another shard than
 * the one it was built for: the map is stale (a split or merge), and the
 * KCL would drop the sub-records outside that shard's range. The caller
 * then reads the shard map again (ListShards), updates *config.map in
 * place and calls producer_remap: the sub-records of such an aggregate
 * that the shard's range holds are delivered, the others go again in new
 * aggregates, and aggregates not sent yet are rebuilt for the new map
 * (calls in flight are checked when they come back). Also worth calling
 * after a periodic refresh that found the map changed. 0 or -1 (memory).
 */
int producer_needs_map(const struct producer *p);
int producer_remap(struct producer *p, long long now, struct errbuf *err);

/* Resolves every unresolved entry as failed (stopping; in-flight calls
 * must have been abandoned). */
void producer_abandon(struct producer *p, const char *code,
    const char *message, enum errbuf_kind kind);

/* Returns 1 with *r set for the next record in input order whose fate is
 * known, 0 when there is none yet. */
int producer_next_report(struct producer *p, struct producer_report *r);

const struct producer_stats *producer_stats(const struct producer *p);

/*
 * A report as one line of JSON with its newline, appended to b: the
 * --tee line ({"line","file" unless file is NULL,"shard","seq","subseq" or
 * "error","attempts"}) and the dead-letter line ({"line","file","error",
 * "message","data"}: "data_b64" when the record is not UTF-8, null for a
 * line too long to keep). file is the input's name as messages show it.
 * Returns 0, or -1 when out of memory.
 */
int producer_report_tee(struct buf *b, const struct producer_report *r,
    const char *file);
int producer_report_dead_letter(struct buf *b,
    const struct producer_report *r, const char *file);

/*
 * Aggregation groups: the open shards of a stream, sorted by hash range,
 * so that every user record of one aggregate lands on the aggregate's
 * shard. Returns the group of a partition key, 0 when shards is empty.
 */
struct producer_shard_map {
	struct kinesis_shard *v;	/* open shards, sorted */
	size_t n;
};
int producer_shard_map_init(struct producer_shard_map *m,
    const struct kinesis_shard_list *l, struct errbuf *err);
size_t producer_shard_group(const struct producer_shard_map *m,
    const char *key, size_t key_len);
void producer_shard_map_free(struct producer_shard_map *m);

#endif
