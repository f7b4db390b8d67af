/*
 * shardread: the per-shard reading engine of kin-get (see shardread.h).
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "kinesis.h"
#include "kpl.h"
#include "ndjson.h"
#include "retry.h"
#include "shardread.h"

#define RELIST_MS 10000LL	/* follow: new shards appear this late */
#define CHECKPOINT_EVERY_MS 1000LL
/* Longest wait before the stop flag is looked at. */
#define STOP_POLL_MS 200LL
/* --from latest, pinned to a time: how far behind the local clock */
#define LATEST_MARGIN_MS 1000LL

struct shard {
	struct consumer_shard *node;
	enum shardread_state state;
	struct consumer_start start;	/* where reading starts afresh */
	char *iterator;
	char last_seq[130];		/* last record handled, "" none */
	long last_subseq;		/* inside an aggregate, or NO_SUBSEQ */
	int skip_pending;		/* start.skip_through still applies */
	long long next_ms, call_ms;
	int failures, throttles;
	struct aws_signed sig;		/* of the call in flight */
	struct buf body;
	unsigned long long records;
};

struct shardread {
	const struct shardread_options *o;
	struct http_multi *multi;
	struct consumer_graph graph;
	int cp_dirty, started, count_reached, inflight;
	long long cp_saved_ms, listed_ms;
	struct shardread_stats st;
};

static long long
now_ms(const struct shardread *sr)
{
	return sr->o->mono_ms ? sr->o->mono_ms(sr->o->hook_arg) :
	    clock_mono_ms();
}

static long long
wall_ms(const struct shardread *sr)
{
	return sr->o->wall_ms ? sr->o->wall_ms(sr->o->hook_arg) :
	    clock_wall_ms();
}

static void say(const struct shardread *sr, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(const struct shardread *sr, int level, const char *fmt, ...)
{
	char msg[ERRBUF_LEN + 256];
	va_list ap;

	if (sr->o->notice == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sr->o->notice(sr->o->arg, level, msg);
}

const char *
shardread_state_name(enum shardread_state s)
{
	static const char *const names[] = {
		"waiting for parents", "starting", "reading", "reading",
		"caught up", "finished", "reached --until"
	};

	return names[s];
}

/* ---- checkpoint ---- */

int
shardread_save(struct shardread *sr, struct errbuf *err)
{
	if (sr->o->checkpoint_file == NULL || !sr->cp_dirty)
		return 0;
	if (checkpoint_save(sr->o->checkpoint_file, sr->o->cp, err) == -1)
		return -1;
	sr->cp_dirty = 0;
	sr->cp_saved_ms = now_ms(sr);
	return 0;
}

/* After a page was flushed: the checkpoint may move past it. */
static int
note_position(struct shardread *sr, struct shard *s, struct errbuf *err)
{
	if (s->last_seq[0] == '\0')
		return 0;
	if (checkpoint_set(sr->o->cp, s->node->id, s->last_seq,
	    s->last_subseq, err) == -1)
		return -1;
	sr->cp_dirty = 1;
	return 0;
}

/* ---- records ---- */

static int
count_reached(const struct shardread *sr)
{
	return sr->o->count > 0 && (long long)sr->st.records >= sr->o->count;
}

/* Hands one user record over; 0, or -1 with err set. */
static int
emit(struct shardread *sr, struct shard *s, const struct consumer_record *cr,
    struct errbuf *err)
{
	int rc = sr->o->record(sr->o->arg, cr, err);

	if (rc == -1)
		return -1;
	if (rc == 1)
		sr->st.skipped++;
	else {
		s->records++;
		sr->st.records++;
		sr->st.bytes += cr->len;
	}
	return 0;
}

/* A record that resumes a checkpoint inside an aggregate: which of its
 * sub-records were handled already. */
static long
skip_through(struct shard *s, const struct kinesis_record *kr)
{
	long through = CHECKPOINT_NO_SUBSEQ;

	if (s->skip_pending) {
		if (strcmp(kr->seq, s->start.seq) == 0)
			through = s->start.skip_through;
		s->skip_pending = 0;
	}
	return through;
}

static int
emit_aggregate(struct shardread *sr, struct shard *s,
    struct consumer_record *cr, const struct kpl_record *sub, size_t n,
    long through, struct errbuf *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < n && rc == 0 && !sr->count_reached; i++) {
		if (through != CHECKPOINT_NO_SUBSEQ && (long)i <= through)
			continue;
		cr->subseq = (long)i;
		cr->key = sub[i].key;
		cr->key_len = sub[i].key_len;
		cr->data = sub[i].data;
		cr->len = sub[i].len;
		s->last_subseq = (long)i;
		rc = emit(sr, s, cr, err);
		if (count_reached(sr))
			sr->count_reached = 1;
	}
	/* the whole aggregate was handled: the checkpoint says so */
	if (i == n)
		s->last_subseq = CHECKPOINT_NO_SUBSEQ;
	return rc;
}

/*
 * Hands one Kinesis record over: its sub-records when it is a KPL aggregate
 * whose digest checks, else the record as it is.
 */
static int
emit_kinesis(struct shardread *sr, struct shard *s,
    const struct kinesis_record *kr, struct errbuf *err)
{
	struct consumer_record cr;
	struct kpl_record *sub = NULL;
	struct errbuf kerr;
	size_t n = 0;
	long through = skip_through(s, kr);
	int rc;

	memset(&cr, 0, sizeof(cr));
	cr.stream = sr->o->stream;
	cr.shard = s->node->id;
	cr.seq = kr->seq;
	cr.arrival = kr->arrival;
	snprintf(s->last_seq, sizeof(s->last_seq), "%s", kr->seq);
	if (!kpl_is_aggregated(kr->data, kr->len) ||
	    kpl_decode(kr->data, kr->len, &sub, &n, &kerr) == -1) {
		cr.subseq = -1;
		cr.key = kr->key;
		cr.key_len = strlen(kr->key);
		cr.data = kr->data;
		cr.len = kr->len;
		s->last_subseq = CHECKPOINT_NO_SUBSEQ;
		return emit(sr, s, &cr, err);
	}
	rc = emit_aggregate(sr, s, &cr, sub, n, through, err);
	free(sub);
	return rc;
}

/* Hands a page over; stops at until and count. */
static int
emit_page(struct shardread *sr, struct shard *s,
    const struct kinesis_get_result *g, struct errbuf *err)
{
	size_t i;

	for (i = 0; i < g->n && !sr->count_reached; i++) {
		if (sr->o->until_set && g->records[i].arrival > sr->o->until) {
			s->state = SHARDREAD_UNTIL;
			break;
		}
		if (emit_kinesis(sr, s, &g->records[i], err) == -1)
			return -1;
		if (count_reached(sr))
			sr->count_reached = 1;
	}
	if (sr->o->flush != NULL && sr->o->flush(sr->o->arg, err) == -1)
		return -1;
	return note_position(sr, s, err);
}

/* ---- shards ---- */

static int
selected(const struct shardread *sr, const struct consumer_shard *cs)
{
	const struct shardread_options *o = sr->o;
	size_t i, pos = 0;

	if (o->nshards > 0) {
		for (i = 0; i < o->nshards; i++)
			if (strcmp(o->shards[i], cs->id) == 0)
				return 1;
		return 0;
	}
	if (o->slice_n == 0)
		return 1;
	for (i = 0; i < sr->graph.n; i++)
		if (strcmp(sr->graph.v[i]->id, cs->id) < 0)
			pos++;
	return consumer_shard_in_slice(cs->id, pos, o->slice_i, o->slice_n);
}

/*
 * Sets up the shards first seen now. Those of the first listing start at
 * the given start; later ones were created while we ran and start at their
 * beginning. A checkpoint entry overrides both.
 */
static int
adopt_shards(struct shardread *sr, size_t first, struct errbuf *err)
{
	const struct checkpoint_shard *cs;
	struct consumer_shard *node;
	struct shard *s;
	size_t i;

	for (i = first; i < sr->graph.n; i++) {
		node = sr->graph.v[i];
		if (!(node->selected = selected(sr, node)))
			continue;
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
		node->arg = s;
		s->node = node;
		s->last_subseq = CHECKPOINT_NO_SUBSEQ;
		s->start = sr->o->start;
		if (sr->started)
			s->start.type = KINESIS_TRIM_HORIZON;
		cs = checkpoint_find(sr->o->cp, node->id);
		if (cs != NULL && cs->finished) {
			node->finished = 1;
			s->state = SHARDREAD_FINISHED;
			continue;
		}
		consumer_start_from_checkpoint(cs, &s->start);
		s->skip_pending = s->start.type == KINESIS_AT_SEQUENCE &&
		    s->start.skip_through != CHECKPOINT_NO_SUBSEQ;
		s->state = SHARDREAD_PENDING;
	}
	return 0;
}

static int
list_shards(struct shardread *sr, struct errbuf *err)
{
	struct kinesis_shard_list l = { NULL, 0, 0 };
	size_t before = sr->graph.n;
	int rc = -1;

	if (kinesis_list_shards(sr->o->client, sr->o->stream, &l,
	    err) == -1) {
		errbuf_prefix(err, "stream %s", sr->o->stream);
		goto out;
	}
	if (consumer_graph_merge(&sr->graph, &l, NULL, err) == -1 ||
	    adopt_shards(sr, before, err) == -1)
		goto out;
	if (sr->started && sr->graph.n > before)
		say(sr, 1, "%zu new shard%s", sr->graph.n - before,
		    sr->graph.n - before == 1 ? "" : "s");
	sr->listed_ms = now_ms(sr);
	rc = 0;
out:
	kinesis_shard_list_free(&l);
	return rc;
}

/* Each named shard must exist: a typo would otherwise read nothing. */
static int
check_named_shards(const struct shardread *sr, struct errbuf *err)
{
	size_t i;

	for (i = 0; i < sr->o->nshards; i++)
		if (consumer_graph_find(&sr->graph, sr->o->shards[i]) == NULL)
			return errbuf_set(err, ERR_CONFIG, "stream %s has no "
			    "shard %s", sr->o->stream, sr->o->shards[i]);
	return 0;
}

int
shardread_start(struct shardread *sr, struct errbuf *err)
{
	int rc = list_shards(sr, err);

	if (rc == 0)
		rc = check_named_shards(sr, err);
	sr->started = 1;
	return rc;
}

/* Where a shard reads from after its iterator was lost (expired). */
static void
resume_position(struct shard *s)
{
	if (s->last_seq[0] == '\0')
		return;	/* nothing handled yet: the first start */
	memcpy(s->start.seq, s->last_seq, sizeof(s->start.seq));
	s->start.skip_through = s->last_subseq;
	s->start.type = s->last_subseq == CHECKPOINT_NO_SUBSEQ ?
	    KINESIS_AFTER_SEQUENCE : KINESIS_AT_SEQUENCE;
	s->skip_pending = s->start.type == KINESIS_AT_SEQUENCE;
}

static const char *
start_name(enum kinesis_start t)
{
	static const char *const names[] = { "TRIM_HORIZON", "LATEST",
	    "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER" };

	return names[t];
}

/*
 * LATEST means "now" once. An iterator that expires before a record was
 * read (stdout blocked for five minutes) is renewed at the time that now
 * was, not at a later LATEST that would skip what arrived meanwhile. The
 * time is the local clock before the call, less LATEST_MARGIN_MS so that
 * a clock a little ahead of Kinesis's costs extra records, never missing
 * ones.
 */
static void
pin_latest(struct shard *s, long long before_ms)
{
	if (s->start.type != KINESIS_LATEST)
		return;
	s->start.type = KINESIS_AT_TIMESTAMP;
	s->start.at = (double)(before_ms - LATEST_MARGIN_MS) / 1000.0;
}

static int
get_iterator(struct shardread *sr, struct shard *s, struct errbuf *err)
{
	long long before_ms = wall_ms(sr);

	free(s->iterator);
	s->iterator = NULL;
	if (kinesis_get_iterator(sr->o->client, sr->o->stream, s->node->id,
	    s->start.type, s->start.seq, s->start.at, &s->iterator,
	    err) == -1)
		return errbuf_prefix(err, "%s", s->node->id);
	say(sr, 2, "%s: %s%s%s", s->node->id, start_name(s->start.type),
	    s->start.seq[0] ? " " : "", s->start.seq);
	pin_latest(s, before_ms);
	s->state = SHARDREAD_READY;
	s->next_ms = now_ms(sr);
	return 0;
}

static int
stopped(const struct shardread *sr)
{
	return sr->o->stop != NULL && *sr->o->stop;
}

/* Moves shards whose parents are done on, and gets their iterators. */
static int
start_shards(struct shardread *sr, struct errbuf *err)
{
	struct shard *s;
	size_t i;

	for (i = 0; i < sr->graph.n && !stopped(sr); i++) {
		if ((s = sr->graph.v[i]->arg) == NULL)
			continue;
		if (s->state == SHARDREAD_PENDING &&
		    consumer_parents_done(&sr->graph, s->node))
			s->state = SHARDREAD_NEED_ITER;
		if (s->state == SHARDREAD_NEED_ITER &&
		    get_iterator(sr, s, err) == -1)
			return -1;
	}
	return 0;
}

/* ---- GetRecords ---- */

static int
send_get(struct shardread *sr, struct shard *s, struct errbuf *err)
{
	struct http_field h[2];
	struct aws_request req;

	buf_reset(&s->body);
	if (buf_puts(&s->body, "{\"ShardIterator\":") == -1 ||
	    ndjson_append_string(&s->body, s->iterator,
	    strlen(s->iterator)) == -1 ||
	    buf_printf(&s->body, ",\"Limit\":%ld}", sr->o->limit) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	aws_json_request(&req, h, KINESIS_TARGET_PREFIX "GetRecords",
	    s->body.data, s->body.len);
	/* signed per attempt: a fresh X-Amz-Date every time */
	if (aws_sign_request(sr->o->client, &req, &s->sig, err) == -1 ||
	    http_multi_add(sr->multi, &s->sig.http, s, err) == -1) {
		aws_signed_free(&s->sig);
		return errbuf_prefix(err, "GetRecords %s", s->node->id);
	}
	s->state = SHARDREAD_INFLIGHT;
	s->call_ms = now_ms(sr);
	sr->st.calls++;
	sr->inflight++;
	return 0;
}

static int
send_due(struct shardread *sr, long long now, struct errbuf *err)
{
	struct shard *s;
	size_t i;

	for (i = 0; i < sr->graph.n && sr->inflight < SHARDREAD_MAX_INFLIGHT;
	    i++) {
		if ((s = sr->graph.v[i]->arg) == NULL ||
		    s->state != SHARDREAD_READY || s->next_ms > now)
			continue;
		if (send_get(sr, s, err) == -1)
			return -1;
	}
	return 0;
}

/* The server's Retry-After in ms, or -1. */
static long
retry_after(const struct shardread *sr, const struct http_multi_done *d)
{
	const char *h;

	if (d->rc != 0 ||
	    (h = http_response_header(&d->resp, "Retry-After")) == NULL)
		return -1;
	return http_retry_after_ms(h, (long)(wall_ms(sr) / 1000));
}

/* A failed call that may pass: wait, or give up after max_attempts. */
static int
retry_later(struct shardread *sr, struct shard *s,
    const struct http_multi_done *d, const struct errbuf *why,
    struct errbuf *err)
{
	int attempts = aws_client_max_attempts(sr->o->client);
	long wait;

	if (++s->failures >= attempts)
		return errbuf_set(err, ERR_TEMP, "GetRecords %s: %s (%d "
		    "attempts)", s->node->id, why->msg, s->failures);
	wait = retry_delay_ms(&retry_aws_standard, s->failures, 0,
	    retry_after(sr, d), retry_jitter());
	say(sr, 1, "GetRecords %s: %s; retrying in %ld ms", s->node->id,
	    why->msg, wait);
	s->state = SHARDREAD_READY;
	s->next_ms = now_ms(sr) + wait;
	return 0;
}

/*
 * Throttling is how Kinesis shares a shard's read capacity among its
 * consumers, not a failure: back off and try again, without a limit,
 * as the KCL does.
 */
static void
throttled(struct shardread *sr, struct shard *s,
    const struct http_multi_done *d)
{
	long wait;

	sr->st.throttled++;
	if (s->throttles < 30)
		s->throttles++;
	wait = retry_delay_ms(&retry_aws_standard, s->throttles, 1,
	    retry_after(sr, d), retry_jitter());
	say(sr, 1, "GetRecords %s: throttled; retrying in %ld ms",
	    s->node->id, wait);
	s->state = SHARDREAD_READY;
	s->next_ms = now_ms(sr) + wait;
}

/* ExpiredIteratorException: a new iterator after the last record handled. */
static int
renew(struct shardread *sr, struct shard *s, const struct errbuf *why,
    struct errbuf *err)
{
	sr->st.renewed++;
	say(sr, 1, "%s: iterator expired; renewing", s->node->id);
	if (++s->failures >= aws_client_max_attempts(sr->o->client) + 2)
		return errbuf_set(err, ERR_TEMP, "GetRecords %s: %s",
		    s->node->id, why->msg);
	resume_position(s);
	s->state = SHARDREAD_NEED_ITER;
	return 0;
}

static int
call_failed(struct shardread *sr, struct shard *s,
    const struct http_multi_done *d, struct errbuf *err)
{
	struct aws_error ae;
	struct errbuf why;

	if (d->rc == -1) {
		if (d->err.kind != ERR_TEMP)
			return errbuf_set(err, d->err.kind, "GetRecords %s: %s",
			    s->node->id, d->err.msg);
		return retry_later(sr, s, d, &d->err, err);
	}
	aws_error_parse(&d->resp, &ae);
	aws_error_set(&why, d->resp.status, &ae);
	if (strcmp(ae.code, "ExpiredIteratorException") == 0)
		return renew(sr, s, &why, err);
	if (d->resp.status == 429 || aws_error_is_throttle(ae.code)) {
		throttled(sr, s, d);
		return 0;
	}
	if (aws_should_retry(d->resp.status, ae.code, ERR_NONE))
		return retry_later(sr, s, d, &why, err);
	return errbuf_set(err, why.kind, "GetRecords %s: %s", s->node->id,
	    why.msg);
}

/* SHARD_END: the shard is done; its children may start. */
static int
shard_ended(struct shardread *sr, struct shard *s,
    const struct kinesis_get_result *g, struct errbuf *err)
{
	size_t i;

	s->state = SHARDREAD_FINISHED;
	s->node->finished = 1;
	if (checkpoint_finish(sr->o->cp, s->node->id, err) == -1)
		return -1;
	sr->cp_dirty = 1;
	say(sr, 1, "%s: finished (%zu child shard%s)", s->node->id,
	    g->nchildren, g->nchildren == 1 ? "" : "s");
	/* children we do not know yet: list again to learn their parents */
	for (i = 0; i < g->nchildren; i++)
		if (consumer_graph_find(&sr->graph, g->child_shards[i]) ==
		    NULL)
			return list_shards(sr, err);
	return 0;
}

static int
page_done(struct shardread *sr, struct shard *s,
    const struct kinesis_get_result *g, struct errbuf *err)
{
	int caught;
	size_t bytes = 0, i;

	s->failures = s->throttles = 0;
	for (i = 0; i < g->n; i++)
		bytes += g->records[i].len;
	s->state = SHARDREAD_READY;
	if (emit_page(sr, s, g, err) == -1)
		return -1;
	if (s->state == SHARDREAD_UNTIL || sr->count_reached)
		return 0;
	if (g->next_iterator == NULL)
		return shard_ended(sr, s, g, err);
	free(s->iterator);
	s->iterator = strdup(g->next_iterator);
	if (s->iterator == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	/* a closed shard is read to its end whatever MillisBehindLatest says */
	caught = !s->node->closed && consumer_caught_up(g->millis_behind,
	    g->n, sr->o->limit);
	s->next_ms = consumer_pace_next(s->call_ms, now_ms(sr), bytes, caught,
	    sr->o->follow ? CONSUMER_IDLE_POLL_MS : 0);
	if (caught && !sr->o->follow)
		s->state = SHARDREAD_CAUGHT_UP;
	else if (caught && sr->o->until_set && wall_ms(sr) / 1000.0 >
	    sr->o->until)
		s->state = SHARDREAD_UNTIL;
	return 0;
}

static int
call_done(struct shardread *sr, struct http_multi_done *d, struct errbuf *err)
{
	struct shard *s = d->tag;
	struct kinesis_get_result g;
	struct errbuf perr;
	int rc;

	sr->inflight--;
	aws_signed_free(&s->sig);
	if (d->rc == -1 || d->resp.status < 200 || d->resp.status >= 300)
		return call_failed(sr, s, d, err);
	if (kinesis_get_parse(d->resp.body.data, d->resp.body.len, &g,
	    &perr) == -1)
		return retry_later(sr, s, d, &perr, err);
	rc = page_done(sr, s, &g, err);
	kinesis_get_result_free(&g);
	return rc;
}

/* ---- the loop ---- */

/* Whether there is anything left to do. */
static int
active(const struct shardread *sr)
{
	const struct shard *s;
	size_t i;

	if (sr->o->follow && !sr->o->until_set)
		return 1;
	for (i = 0; i < sr->graph.n; i++) {
		if ((s = sr->graph.v[i]->arg) == NULL)
			continue;
		if (s->state == SHARDREAD_NEED_ITER ||
		    s->state == SHARDREAD_READY ||
		    s->state == SHARDREAD_INFLIGHT)
			return 1;
	}
	return 0;
}

/* How long to wait for answers: until the next shard is due. */
static int
wait_ms(const struct shardread *sr, long long now)
{
	const struct shard *s;
	long long w = STOP_POLL_MS;
	size_t i;

	for (i = 0; i < sr->graph.n; i++) {
		s = sr->graph.v[i]->arg;
		if (s != NULL && s->state == SHARDREAD_READY &&
		    s->next_ms - now < w)
			w = s->next_ms - now;
	}
	return w < 0 ? 0 : (int)w;
}

static int
wait_answers(struct shardread *sr, int timeout, struct errbuf *err)
{
	struct http_multi_done done[SHARDREAD_MAX_INFLIGHT];
	int n, i, rc = 0;

	if (sr->inflight == 0) {
		if (timeout > 0 && sr->o->pause_ms != NULL)
			sr->o->pause_ms(sr->o->hook_arg, timeout);
		else if (timeout > 0)
			poll(NULL, 0, timeout);
		return 0;
	}
	n = http_multi_wait(sr->multi, -1, timeout, done,
	    SHARDREAD_MAX_INFLIGHT, NULL, err);
	if (n == -1)
		return -1;
	/* every answer in hand is handled, even after an error or a signal */
	for (i = 0; i < n; i++) {
		if (rc == 0)
			rc = call_done(sr, &done[i], err);
		else
			((struct shard *)done[i].tag)->state = SHARDREAD_READY;
		http_response_free(&done[i].resp);
	}
	return rc;
}

int
shardread_run(struct shardread *sr, struct errbuf *err)
{
	while (!stopped(sr) && !sr->count_reached) {
		if (sr->o->follow && now_ms(sr) - sr->listed_ms >= RELIST_MS &&
		    list_shards(sr, err) == -1)
			return -1;
		if (start_shards(sr, err) == -1 ||
		    send_due(sr, now_ms(sr), err) == -1)
			return -1;
		if (!active(sr))
			break;
		if (wait_answers(sr, wait_ms(sr, now_ms(sr)), err) == -1)
			return -1;
		if (now_ms(sr) - sr->cp_saved_ms >= CHECKPOINT_EVERY_MS &&
		    shardread_save(sr, err) == -1)
			return -1;
	}
	return 0;
}

/* ---- life ---- */

struct shardread *
shardread_new(const struct shardread_options *o, struct errbuf *err)
{
	struct shardread *sr = calloc(1, sizeof(*sr));

	if (sr == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	sr->o = o;
	sr->cp_saved_ms = now_ms(sr);
	sr->multi = http_multi_new(o->http, SHARDREAD_MAX_INFLIGHT, err);
	if (sr->multi == NULL) {
		free(sr);
		return NULL;
	}
	/* a signal ends a long wait for GetRecords answers at once */
	if (o->stop != NULL)
		http_multi_set_stop(sr->multi, o->stop);
	return sr;
}

const struct shardread_stats *
shardread_stats(const struct shardread *sr)
{
	return &sr->st;
}

size_t
shardread_nshards(const struct shardread *sr)
{
	return sr->graph.n;
}

int
shardread_info(const struct shardread *sr, size_t i,
    struct shardread_info *info)
{
	const struct shard *s = sr->graph.v[i]->arg;

	if (s == NULL)
		return 0;
	info->id = s->node->id;
	info->state = s->state;
	info->last_seq = s->last_seq;
	info->last_subseq = s->last_subseq;
	info->records = s->records;
	return 1;
}

void
shardread_free(struct shardread *sr)
{
	struct shard *s;
	size_t i;

	if (sr == NULL)
		return;
	/* abandons calls in flight, whose signed requests are freed after */
	http_multi_free(sr->multi);
	for (i = 0; i < sr->graph.n; i++) {
		if ((s = sr->graph.v[i]->arg) == NULL)
			continue;
		aws_signed_free(&s->sig);
		buf_free(&s->body);
		free(s->iterator);
		free(s);
	}
	consumer_graph_free(&sr->graph);
	free(sr);
}
