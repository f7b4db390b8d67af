/*
 * shardread: reads every shard of a stream over http_multi, as lib/consumer
 * decides (which shards, parents before children, where each starts, how
 * fast to poll), handing records to the caller. It keeps the per-shard
 * state machine: GetShardIterator, GetRecords in parallel, retries after
 * failures (lib/retry), backoff without a limit while throttled, renewal of
 * expired iterators, the shard list refreshed on resharding, and the
 * positions written to the checkpoint once the caller has flushed a page.
 * It never prints: errors come back in an errbuf, retry and throttling
 * notices through a callback; the clock is a hook so tests can fake it.
 */
#ifndef COINPIPE_SHARDREAD_H
#define COINPIPE_SHARDREAD_H

#include <signal.h>

#include "aws.h"
#include "checkpoint.h"
#include "consumer.h"
#include "errbuf.h"
#include "http.h"

/* GetRecords in flight at once: each holds up to a 10 MiB answer, so
 * this bounds memory whatever the number of shards or the backlog. */
#define SHARDREAD_MAX_INFLIGHT 8

enum shardread_state {
	SHARDREAD_PENDING,	/* its parents are not read to their end */
	SHARDREAD_NEED_ITER,	/* needs a GetShardIterator */
	SHARDREAD_READY,	/* has an iterator; called at next_ms */
	SHARDREAD_INFLIGHT,	/* a GetRecords is out */
	SHARDREAD_CAUGHT_UP,	/* read up to its newest record */
	SHARDREAD_FINISHED,	/* read to SHARD_END */
	SHARDREAD_UNTIL		/* reached --until */
};

struct shardread_options {
	struct aws_client *client;	/* ListShards, iterators, signing */
	const struct http_options *http;	/* for the http_multi */
	const char *stream;
	const char *const *shards;	/* only these, or nshards 0 */
	size_t nshards;
	long slice_i, slice_n;		/* slice_n 0: no slicing */
	struct consumer_start start;	/* of the shards listed first */
	int until_set;
	double until;			/* epoch seconds */
	int follow;
	long long count;		/* records; 0: no limit */
	long limit;			/* per GetRecords */
	struct checkpoint *cp;		/* loaded by the caller; kept */
	const char *checkpoint_file;	/* where cp is saved; NULL: never */
	volatile sig_atomic_t *stop;	/* ends the reading when set */

	/*
	 * One user record (a KPL sub-record or a plain record): 0 handled,
	 * 1 skipped (the caller says why), -1 with err set to stop.
	 */
	int (*record)(void *arg, const struct consumer_record *cr,
	    struct errbuf *err);
	/* A page was handed over: make it durable before its position is
	 * noted. 0, or -1 with err set. */
	int (*flush)(void *arg, struct errbuf *err);
	/* A notice for -v (level 1) or -vv (level 2); may be NULL. */
	void (*notice)(void *arg, int level, const char *msg);
	void *arg;

	/* Hooks; NULL: clock_mono_ms, clock_wall_ms, poll(2). */
	long long (*mono_ms)(void *hook_arg);
	long long (*wall_ms)(void *hook_arg);
	void (*pause_ms)(void *hook_arg, int ms);
	void *hook_arg;
};

struct shardread_stats {
	unsigned long long records, bytes, calls, throttled, skipped, renewed;
};

/* What a summary shows of one shard read. */
struct shardread_info {
	const char *id;
	enum shardread_state state;
	const char *last_seq;		/* "" none */
	long last_subseq;		/* or CHECKPOINT_NO_SUBSEQ */
	unsigned long long records;
};

struct shardread;

/* o is borrowed until shardread_free. NULL with err set. */
struct shardread *shardread_new(const struct shardread_options *o,
    struct errbuf *err);
/* Lists the shards; each --shard must exist. 0, or -1 with err set. */
int shardread_start(struct shardread *sr, struct errbuf *err);
/* Reads until done, -n, --until or the stop flag. 0, or -1 with err. */
int shardread_run(struct shardread *sr, struct errbuf *err);
/* Writes the checkpoint if it moved. 0, or -1 with err set. */
int shardread_save(struct shardread *sr, struct errbuf *err);
const struct shardread_stats *shardread_stats(const struct shardread *sr);
/* Shard i of the graph (i < count): 1 with info filled when it is read,
 * 0 when it is not; count is shardread_nshards(). */
size_t shardread_nshards(const struct shardread *sr);
int shardread_info(const struct shardread *sr, size_t i,
    struct shardread_info *info);
const char *shardread_state_name(enum shardread_state s);
/* Abandons calls in flight. */
void shardread_free(struct shardread *sr);

#endif
