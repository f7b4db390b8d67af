/*
 * checkpoint: where each Kinesis shard was left, shared by kin-get (writes
 * it after records were flushed to stdout; --resume reads it) and s3-putcsv
 * (writes it after the uploads holding those records are durable).
 *
 * File format (JSON, one object; unknown members are ignored on read):
 *   {"version":1,
 *    "shards":{"shardId-000000000000":{"seq":"4959...","subseq":3},
 *              "shardId-000000000001":{"seq":"4959...","finished":true}}}
 * "seq" is the last sequence number handled in that shard, "subseq" the last
 * sub-record of a KPL aggregated record with that sequence number (absent
 * when the record was not aggregated, or all of it was handled), "finished"
 * that the shard was closed and read to its end.
 * Written atomically: a temporary file in the same directory, fsync, rename,
 * fsync of the directory; mode 0600.
 * jansson: the file is a small tree of our own making, read and written
 * whole.
 */
#ifndef COINPIPE_CHECKPOINT_H
#define COINPIPE_CHECKPOINT_H

#include <stddef.h>

#include "errbuf.h"

#define CHECKPOINT_VERSION 1
#define CHECKPOINT_NO_SUBSEQ (-1L)

struct checkpoint_shard {
	char *shard_id;
	char *seq;		/* NULL when nothing was handled yet */
	long subseq;		/* CHECKPOINT_NO_SUBSEQ or >= 0 */
	int finished;
};

struct checkpoint {
	struct checkpoint_shard *shards;
	size_t n, cap;
};

/* A missing file gives an empty checkpoint and 0; a malformed one is an
 * ERR_CONFIG error naming the file and what is wrong. */
int checkpoint_load(const char *path, struct checkpoint *cp,
    struct errbuf *err);
int checkpoint_save(const char *path, const struct checkpoint *cp,
    struct errbuf *err);

/*
 * Records that shard has been handled up to seq (and subseq). A position
 * older than the one recorded is ignored: a checkpoint never moves back.
 * Positions are ordered by seq, then subseq, and CHECKPOINT_NO_SUBSEQ is
 * the end of its record (all of it was handled, or it was not aggregated):
 * after every sub-record of that seq, since kin-get --resume reads AFTER
 * it. ERR_DATA when seq is not a sequence number.
 */
int checkpoint_set(struct checkpoint *cp, const char *shard, const char *seq,
    long subseq, struct errbuf *err);
/* The same without checking seq: for positions that are only held in
 * memory (the rows of an open object) and reach a saved checkpoint through
 * checkpoint_set, which refuses a bad one then. */
int checkpoint_advance(struct checkpoint *cp, const char *shard,
    const char *seq, long subseq, struct errbuf *err);
int checkpoint_finish(struct checkpoint *cp, const char *shard,
    struct errbuf *err);
const struct checkpoint_shard *checkpoint_find(const struct checkpoint *cp,
    const char *shard);
void checkpoint_free(struct checkpoint *cp);

/* Orders Kinesis sequence numbers (decimal strings of up to 128 digits):
 * <0, 0, >0 like strcmp. */
int checkpoint_seq_cmp(const char *a, const char *b);

#endif
