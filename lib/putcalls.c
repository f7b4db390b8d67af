/* putcalls: see putcalls.h. */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "kinesis.h"
#include "putcalls.h"

#define PUTCALLS_REQUEST_TIMEOUT_MS 60000L	/* one PutRecords call, 5 MiB */

struct call {
	int busy;
	struct kinesis_batch batch;
	struct producer_call pc;
	struct aws_signed sig;
};

struct putcalls {
	struct aws_client *client;
	struct producer *p;
	const char *stream;
	struct http_multi *m;		/* NULL once stopped */
	struct call *calls;
	size_t ncalls, busy;
	struct http_multi_done *done;
	struct kinesis_put_result *results;
	struct producer_shard_map *map;	/* NULL: no aggregation */
	long long map_due;		/* next periodic ListShards */
};

struct putcalls *
putcalls_new(const struct putcalls_options *o, struct producer *p,
    struct errbuf *err)
{
	struct putcalls *c;
	struct http_options ho = *o->http;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	c->client = o->client;
	c->p = p;
	c->stream = o->stream;
	c->ncalls = o->inflight;
	c->map = o->map;
	c->map_due = clock_mono_ms() + PUTCALLS_MAP_REFRESH_MS;
	ho.timeout_ms = PUTCALLS_REQUEST_TIMEOUT_MS;
	if ((c->m = http_multi_new(&ho, c->ncalls, err)) == NULL)
		goto fail;
	c->calls = calloc(c->ncalls, sizeof(*c->calls));
	c->done = calloc(c->ncalls, sizeof(*c->done));
	c->results = calloc(KINESIS_MAX_BATCH_RECORDS, sizeof(*c->results));
	if (c->calls == NULL || c->done == NULL || c->results == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto fail;
	}
	return c;
fail:
	putcalls_free(c);
	return NULL;
}

void
putcalls_free(struct putcalls *c)
{
	size_t i;

	if (c == NULL)
		return;
	http_multi_free(c->m);
	for (i = 0; c->calls != NULL && i < c->ncalls; i++) {
		aws_signed_free(&c->calls[i].sig);
		kinesis_batch_free(&c->calls[i].batch);
	}
	free(c->calls);
	free(c->done);
	free(c->results);
	free(c);
}

static int
start_call(struct putcalls *c, struct call *k, struct errbuf *err)
{
	struct http_field h[2];
	struct aws_request req;

	aws_json_request(&req, h, KINESIS_TARGET_PREFIX "PutRecords",
	    k->batch.body.data, k->batch.body.len);
	/* signed afresh for every attempt: a new X-Amz-Date each time */
	if (aws_sign_request(c->client, &req, &k->sig, err) == -1)
		return -1;
	if (http_multi_add(c->m, &k->sig.http, k, err) == -1) {
		aws_signed_free(&k->sig);
		return -1;
	}
	k->busy = 1;
	c->busy++;
	return 0;
}

static int
same_map(const struct producer_shard_map *a,
    const struct producer_shard_map *b)
{
	size_t i;

	if (a->n != b->n)
		return 0;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].id, b->v[i].id) != 0)
			return 0;
	return 1;
}

/* The shard map again, when an aggregate landed off its shard or the
 * periodic refresh is due; the producer regroups when it changed. */
static int
refresh_map(struct putcalls *c, long long now, struct errbuf *err)
{
	struct producer_shard_map fresh;
	struct errbuf why;
	int stale = producer_needs_map(c->p);

	if (c->map == NULL || (!stale && now < c->map_due))
		return 0;
	memset(&fresh, 0, sizeof(fresh));
	if (putcalls_shard_map(c->client, c->stream, &fresh, &why) == -1) {
		producer_shard_map_free(&fresh);
		if (why.kind == ERR_SYSTEM)
			return *err = why, -1;
		c->map_due = now + PUTCALLS_MAP_RETRY_MS;
		return 0;	/* the calls still go; the next try is soon */
	}
	c->map_due = now + PUTCALLS_MAP_REFRESH_MS;
	if (!stale && same_map(c->map, &fresh)) {
		producer_shard_map_free(&fresh);
		return 0;
	}
	producer_shard_map_free(c->map);
	*c->map = fresh;
	return producer_remap(c->p, now, err);
}

static int
send_batches(struct putcalls *c, int flush, long long *wake,
    struct errbuf *err)
{
	size_t i;
	int n;

	for (i = 0; i < c->ncalls && c->m != NULL; i++) {
		struct call *k = &c->calls[i];
		if (k->busy)
			continue;
		n = producer_next_batch(c->p, clock_mono_ms(), flush,
		    c->stream, &k->batch, &k->pc, wake, err);
		if (n <= 0)
			return n;
		if (start_call(c, k, err) == -1)
			return -1;
	}
	return 0;
}

int
putcalls_send(struct putcalls *c, int flush, long long *wake,
    struct errbuf *err)
{
	int rc;

	*wake = -1;
	if (c->m != NULL && refresh_map(c, clock_mono_ms(), err) == -1)
		return -1;
	rc = send_batches(c, flush, wake, err);
	/* records held for a map that could not be read: try again then */
	if (rc == 0 && c->map != NULL && producer_needs_map(c->p) &&
	    (*wake < 0 || c->map_due < *wake))
		*wake = c->map_due;
	return rc;
}

void
putcalls_abandon(struct putcalls *c)
{
	size_t i;

	http_multi_free(c->m);
	c->m = NULL;
	for (i = 0; i < c->ncalls; i++)
		if (c->calls[i].busy) {
			aws_signed_free(&c->calls[i].sig);
			c->calls[i].busy = 0;
		}
	c->busy = 0;
}

size_t
putcalls_busy(const struct putcalls *c)
{
	return c->busy;
}

int
putcalls_stopped(const struct putcalls *c)
{
	return c->m == NULL;
}

/* A refusal no retry can cure (credentials, stream deleted): stop. */
static int
refused(struct putcalls *c, const struct producer_call *pc,
    const struct producer_call_error *ce, const struct errbuf *e,
    struct errbuf *why, long long now)
{
	producer_call_failed(c->p, pc, ce, now);
	*why = *e;
	putcalls_abandon(c);
	producer_abandon(c->p, PRODUCER_E_STOPPED, e->msg, e->kind);
	return 1;
}

/* An HTTP error answer; 1 when it stops every call. */
static int
http_error(struct putcalls *c, struct call *k, struct http_multi_done *d,
    struct errbuf *why, long long now)
{
	struct producer_call_error call_err, *ce = &call_err;
	struct aws_error ae;
	struct errbuf e;
	const char *ra;

	memset(ce, 0, sizeof(*ce));
	ce->retry_after_ms = -1;
	aws_error_parse(&d->resp, &ae);
	ce->code = ae.code;
	ce->message = ae.message;
	ce->kind = aws_error_kind(d->resp.status, ae.code);
	ce->retryable = aws_should_retry(d->resp.status, ae.code, ERR_NONE);
	ce->throttle = d->resp.status == 429 || aws_error_is_throttle(ae.code);
	if ((ra = http_response_header(&d->resp, "Retry-After")) != NULL)
		ce->retry_after_ms = http_retry_after_ms(ra, (long)time(NULL));
	if (ce->kind != ERR_CONFIG) {
		producer_call_failed(c->p, &k->pc, ce, now);
		return 0;
	}
	aws_error_set(&e, d->resp.status, &ae);
	return refused(c, &k->pc, ce, &e, why, now);
}

/* One finished PutRecords: results per entry, or one error for all.
 * Returns 1 when it stopped every call. */
static int
finish_call(struct putcalls *c, struct http_multi_done *d,
    struct errbuf *why)
{
	struct call *k = d->tag;
	struct producer_call_error ce;
	struct errbuf e;
	long long now = clock_mono_ms();

	aws_signed_free(&k->sig);
	k->busy = 0;
	c->busy--;
	memset(&ce, 0, sizeof(ce));
	ce.retry_after_ms = -1;
	if (d->rc == 0 && d->resp.status / 100 == 2) {
		if (kinesis_put_parse(d->resp.body.data, d->resp.body.len,
		    k->pc.n, c->results, &e) >= 0) {
			producer_call_done(c->p, &k->pc, c->results, now);
			return 0;
		}
		ce.code = "BadResponse";
		ce.message = e.msg;
		ce.kind = ERR_TEMP;
		ce.retryable = 1;
	} else if (d->rc != 0) {
		ce.code = "ConnectionError";
		ce.message = d->err.msg;
		ce.kind = d->err.kind;
		ce.retryable = aws_should_retry(0, NULL, d->err.kind);
		if (ce.kind == ERR_CONFIG)	/* TLS, bad URL */
			return refused(c, &k->pc, &ce, &d->err, why, now);
	} else
		return http_error(c, k, d, why, now);
	producer_call_failed(c->p, &k->pc, &ce, now);
	return 0;
}

int
putcalls_wait(struct putcalls *c, int fd, int timeout_ms, int *fd_ready,
    struct errbuf *why, struct errbuf *err)
{
	int n, i, stopped = 0;

	*fd_ready = 0;
	if (c->m == NULL || (c->busy == 0 && fd < 0)) {
		if (timeout_ms > 0)
			poll(NULL, 0, timeout_ms);
		return 0;
	}
	n = http_multi_wait(c->m, fd, timeout_ms, c->done, c->ncalls,
	    fd_ready, err);
	if (n < 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (!stopped)	/* once stopped, the rest were abandoned */
			stopped = finish_call(c, &c->done[i], why);
		http_response_free(&c->done[i].resp);
	}
	return stopped;
}

int
putcalls_shard_map(struct aws_client *client, const char *stream,
    struct producer_shard_map *map, struct errbuf *err)
{
	struct kinesis_shard_list l;
	int rc;

	memset(&l, 0, sizeof(l));
	if (kinesis_list_shards(client, stream, &l, err) == -1) {
		kinesis_shard_list_free(&l);
		return errbuf_prefix(err, "stream %s", stream);
	}
	rc = producer_shard_map_init(map, &l, err);
	kinesis_shard_list_free(&l);
	return rc;
}

int
putcalls_check_stream(struct aws_client *client, const char *stream,
    struct errbuf *err)
{
	char status[32];
	long shards;

	if (kinesis_describe(client, stream, status, &shards, err) == -1)
		return errbuf_prefix(err, "stream %s", stream);
	if (strcmp(status, "ACTIVE") != 0 && strcmp(status, "UPDATING") != 0)
		return errbuf_set(err, ERR_CONFIG, "stream %s is %s, not "
		    "ACTIVE", stream, status);
	return 0;
}
