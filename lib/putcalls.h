/*
 * putcalls: a producer's PutRecords calls over http_multi: sign, send,
 * hand each answer back to the producer.
 *
 * lib/producer decides what goes and what goes again; this module is its
 * I/O: it asks the producer for batches while a call slot is free, signs
 * each one afresh (a new X-Amz-Date for every attempt), runs up to
 * `inflight` calls in parallel, and turns every answer into
 * producer_call_done (per-entry results) or producer_call_failed (one
 * error for the whole call, Retry-After included). An answer no retry can
 * cure (credentials, a deleted stream, TLS) stops every call: the producer
 * is abandoned and the caller is told why. Never prints.
 *
 *	pc = putcalls_new(&opts, producer, err);
 *	loop:
 *		putcalls_send(pc, flush, &wake, err);
 *		rc = putcalls_wait(pc, stdin_fd, timeout, &ready, &why, err);
 *		rc == 1: stopped, why says what refused the calls
 *	putcalls_free(pc);
 */
#ifndef COINPIPE_PUTCALLS_H
#define COINPIPE_PUTCALLS_H

#include <stddef.h>

#include "aws.h"
#include "errbuf.h"
#include "http.h"
#include "producer.h"

struct putcalls_options {
	struct aws_client *client;	/* signs; borrowed */
	const struct http_options *http;	/* copied */
	size_t inflight;		/* 1..HTTP_MULTI_MAX_HANDLES */
	const char *stream;		/* name or ARN; borrowed */
	/* --aggregate: the producer's shard map (its config.map), read
	 * again by ListShards when an aggregate landed off its shard and
	 * every PUTCALLS_MAP_REFRESH_MS, then handed to producer_remap;
	 * NULL: none */
	struct producer_shard_map *map;
};

#define PUTCALLS_MAP_REFRESH_MS 60000LL
#define PUTCALLS_MAP_RETRY_MS 1000LL	/* after a failed ListShards */

struct putcalls;

/* p is borrowed and must outlive the driver. NULL with err set. */
struct putcalls *putcalls_new(const struct putcalls_options *o,
    struct producer *p, struct errbuf *err);
void putcalls_free(struct putcalls *c);

/*
 * With a map: first reads the shard map again when it is stale or due (a
 * ListShards that fails is tried again later; the map in use stays).
 * Starts calls while a slot is free and the producer has a batch due
 * (flush: do not wait for linger). *wake is the time the next batch
 * becomes due, -1 when only an answer or input can change that.
 * Returns 0, or -1 with err set.
 */
int putcalls_send(struct putcalls *c, int flush, long long *wake,
    struct errbuf *err);

/*
 * Waits up to timeout_ms for answers, or for fd (-1: none) to become
 * readable (*fd_ready), and hands the answers to the producer. With no
 * call in flight and no fd it just sleeps. Returns 0; 1 when an answer no
 * retry can cure stopped every call (*why set, the producer abandoned);
 * -1 with err set when the wait itself failed.
 */
int putcalls_wait(struct putcalls *c, int fd, int timeout_ms,
    int *fd_ready, struct errbuf *why, struct errbuf *err);

/* Drops the calls in flight, their answers unread; no call starts after. */
void putcalls_abandon(struct putcalls *c);

/* Calls in flight. */
size_t putcalls_busy(const struct putcalls *c);
/* 1 once abandoned or stopped: nothing will be sent again. */
int putcalls_stopped(const struct putcalls *c);

/*
 * DescribeStreamSummary before the first call, so that a missing stream is
 * one configuration error now rather than a refused call per batch.
 * Returns 0 when the stream is ACTIVE or UPDATING, or -1 with err set.
 */
int putcalls_check_stream(struct aws_client *client, const char *stream,
    struct errbuf *err);

/*
 * The stream's open shards as aggregation groups (ListShards), so that
 * every record of a KPL aggregate lands on the aggregate's shard.
 * Returns 0, or -1 with err set ("stream NAME: ...").
 */
int putcalls_shard_map(struct aws_client *client, const char *stream,
    struct producer_shard_map *map, struct errbuf *err);

#endif
