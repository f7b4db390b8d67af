/*
 * consumer: the pure parts of kin-get, kept here so they can be tested
 * without a server: where a shard starts (--from, a checkpoint), which
 * shards may be read now (parents drained before children), how fast a
 * shard may be polled, and how a record is written out (data, envelope,
 * meta). No I/O, no clock: times are parameters.
 */
#ifndef COINPIPE_CONSUMER_H
#define COINPIPE_CONSUMER_H

#include <stddef.h>

#include "buf.h"
#include "checkpoint.h"
#include "errbuf.h"
#include "kinesis.h"

/*
 * Read limits per shard, from the Kinesis GetRecords API reference: 5
 * calls a second and 2 MiB a second, shared by every consumer of a shard;
 * one call returns at most 10,000 records or 10 MiB.
 */
#define CONSUMER_MIN_CALL_INTERVAL_MS 200LL
#define CONSUMER_READ_BYTES_PER_SEC (2LL << 20)
#define CONSUMER_MAX_LIMIT 10000L
/* Between polls of a shard that is caught up (the KCL waits 1 s too). */
#define CONSUMER_IDLE_POLL_MS 1000LL
#define CONSUMER_TIME_LEN 32	/* "2024-05-01T12:00:00.123Z" and a NUL */

/* ---- start positions ---- */

struct consumer_start {
	enum kinesis_start type;
	char seq[130];		/* AT/AFTER_SEQUENCE: the sequence number */
	double at;		/* AT_TIMESTAMP: seconds since the epoch */
	long skip_through;	/* AT_SEQUENCE from a checkpoint: sub-records
				 * 0..skip_through of the record at seq were
				 * handled already; CHECKPOINT_NO_SUBSEQ when
				 * none */
};

/*
 * Parses --from: "trim-horizon", "latest", an ISO-8601 UTC time, "-DURATION"
 * (that long before now_ms), "at:SEQ", "after:SEQ". ERR_USAGE when invalid.
 */
int consumer_parse_from(const char *s, long long now_ms,
    struct consumer_start *out, struct errbuf *err);

/*
 * Where a shard with this checkpoint entry resumes: after seq, or at seq
 * skipping the sub-records handled when it stopped inside an aggregated
 * record. Returns 0, or 1 when the entry holds no position (then *out is
 * untouched and --from applies).
 */
int consumer_start_from_checkpoint(const struct checkpoint_shard *cs,
    struct consumer_start *out);

/* ---- time ---- */

/*
 * Parses "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]" with an optional "Z"
 * (the time is UTC either way), or a space instead of the "T". 0 or -1.
 */
int consumer_parse_time(const char *s, double *epoch, struct errbuf *err);

/* "2024-05-01T12:00:00.123Z" (milliseconds, UTC). */
void consumer_format_time(double epoch, char out[CONSUMER_TIME_LEN]);

/* ---- the shard graph ---- */

struct consumer_shard {
	char id[64];
	char parent[64];		/* "" when none */
	char adjacent_parent[64];	/* "" when none */
	int closed;			/* has an ending sequence number */
	int selected;			/* this process reads it */
	int finished;			/* read to its end (SHARD_END) */
	void *arg;			/* the tool's own state */
};

struct consumer_graph {
	struct consumer_shard **v;	/* each allocated once: stable */
	size_t n, cap;
};

/*
 * Adds the shards of l that g does not hold yet and notes shards that have
 * closed since. *added (may be NULL) gets how many were new; they are the
 * last ones of g->v, with selected == 0.
 */
int consumer_graph_merge(struct consumer_graph *g,
    const struct kinesis_shard_list *l, size_t *added, struct errbuf *err);
struct consumer_shard *consumer_graph_find(const struct consumer_graph *g,
    const char *id);
void consumer_graph_free(struct consumer_graph *g);

/*
 * 1 when shard s may be read now: each parent was read to its end, or is
 * not read by this process (not selected, or gone from the stream).
 */
int consumer_parents_done(const struct consumer_graph *g,
    const struct consumer_shard *s);

/*
 * The number n of a shard id "shardId-n" (Kinesis numbers shards 0, 1, ...
 * in the order it creates them), or -1 for any other form.
 */
long long consumer_shard_number(const char *id);

/*
 * --shard-index i/n: 1 when the shard belongs to process i of n. Its index
 * is its number in "shardId-n", which stays the same when shards are
 * added or expire; an id of another form uses fallback_index, its position
 * among the stream's shards sorted by id.
 */
int consumer_shard_in_slice(const char *id, size_t fallback_index, long i,
    long n);

/* Parses "I/N" with 0 <= I < N. */
int consumer_parse_slice(const char *s, long *i, long *n, struct errbuf *err);

/* ---- pacing ---- */

/*
 * When shard may be called next, after a GetRecords call that started at
 * call_ms, ended at now_ms and returned bytes of data: no sooner than
 * CONSUMER_MIN_CALL_INTERVAL_MS after the call started, nor before those
 * bytes fit the shard's read rate; and, when the shard was caught up, not
 * before idle_ms after now (0: no idle wait).
 */
long long consumer_pace_next(long long call_ms, long long now_ms,
    size_t bytes, int caught_up, long long idle_ms);

/*
 * 1 when a GetRecords answer shows the shard was read up to its newest
 * record: nothing behind, and fewer records than asked for.
 */
int consumer_caught_up(long long millis_behind, size_t got, long limit);

/* ---- output ---- */

enum consumer_format {
	CONSUMER_DATA,		/* the data and a newline */
	CONSUMER_ENVELOPE,	/* a JSON object around the data */
	CONSUMER_META		/* the JSON object with _shard, _seq, ... */
};

/* One user record, borrowed. */
struct consumer_record {
	const char *stream;
	const char *shard;
	const char *seq;
	long subseq;		/* index in a KPL aggregate, or -1 */
	double arrival;		/* epoch seconds */
	const char *key;
	size_t key_len;
	const unsigned char *data;
	size_t len;
};

/*
 * Appends r as one output line (with its newline) in format f. Returns 0;
 * 1 when r cannot be written in that format (not one line of UTF-8 for
 * CONSUMER_DATA, not a JSON object for CONSUMER_META; err says why, kind
 * ERR_DATA, nothing appended); -1 when out of memory.
 */
int consumer_format_record(struct buf *out, enum consumer_format f,
    const struct consumer_record *r, struct errbuf *err);

#endif
