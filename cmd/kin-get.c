/*
 * kin-get: Kinesis records to stdout, one per line, from every shard in
 * parallel, parents before children, resumable from a checkpoint file.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aws.h"
#include "awstool.h"
#include "buf.h"
#include "checkpoint.h"
#include "cli.h"
#include "consumer.h"
#include "errbuf.h"
#include "http.h"
#include "kinesis.h"
#include "ndjson.h"
#include "kpl.h"
#include "retry.h"

#include "common/tool.h"

#define PROG "kin-get"
/* GetRecords in flight at once: each holds up to a 10 MiB answer, so
 * this bounds memory whatever the number of shards or the backlog. */
#define MAX_INFLIGHT 8
#define RELIST_MS 10000LL	/* --follow: new shards appear this late */
#define CHECKPOINT_EVERY_MS 1000LL
#define OUT_FLUSH_BYTES ((size_t)256 << 10)
/* Longest wait before a stop signal is looked at. */
#define STOP_POLL_MS 200LL

enum sstate {
	S_PENDING,	/* waits for its parents to be read to their end */
	S_NEED_ITER,	/* needs a GetShardIterator */
	S_READY,	/* has an iterator; called at next_ms */
	S_INFLIGHT,	/* a GetRecords is out */
	S_CAUGHT_UP,	/* read up to where it was when we got there */
	S_FINISHED,	/* read to SHARD_END */
	S_UNTIL		/* reached --until */
};

static const char *const state_names[] = {
	"waiting for parents", "starting", "reading", "reading",
	"caught up", "finished", "reached --until"
};

struct opts {
	const char *stream;
	const char **shards;		/* --shard, repeatable */
	size_t nshards;
	long slice_i, slice_n;		/* --shard-index; slice_n 0: none */
	const char *from;
	struct consumer_start start;
	int until_set;
	double until;
	int follow;
	long long count;		/* -n; 0: no limit */
	enum consumer_format format;
	const char *checkpoint, *resume;
	long limit;
	struct tool_common common;
};

struct shard {
	struct consumer_shard *node;
	enum sstate state;
	struct consumer_start start;	/* where reading starts afresh */
	char *iterator;
	char last_seq[130];		/* last record handled, "" none */
	long last_subseq;		/* inside an aggregate, or NO_SUBSEQ */
	int skip_pending;		/* start.skip_through still applies */
	long long next_ms, call_ms;
	int failures, throttles;
	struct aws_signed sig;		/* of the call in flight */
	struct buf body;
	unsigned long long records, bytes, calls, skipped;
};

struct run {
	const struct opts *o;
	struct awstool aws;
	struct http_multi *multi;
	struct consumer_graph graph;
	struct checkpoint cp;
	int cp_dirty, started;
	long long cp_saved_ms, listed_ms;
	struct buf out;
	int inflight, count_reached, epipe;
	unsigned long long records, bytes, calls, throttled, skipped, renewed;
};

static void
usage(FILE *f)
{
	fputs("usage: " PROG " -s STREAM [options]\n"
	    "shards:\n"
	    "      --shard ID              read only this shard (repeatable)\n"
	    "      --shard-index I/N       read the shards numbered I mod N\n"
	    "where:\n"
	    "  -f, --from POS              trim-horizon (default), latest, a "
	    "UTC time,\n"
	    "                              -DURATION, at:SEQ or after:SEQ\n"
	    "  -u, --until TIME            stop at records after this UTC "
	    "time\n"
	    "  -F, --follow                read on forever, like tail -f\n"
	    "  -n, --count N               stop after N records\n"
	    "output:\n"
	    "  -o, --format FMT            data (default), envelope or meta\n"
	    "  -c, --checkpoint FILE       resume from and write positions\n"
	    "  -r, --resume FILE           resume from FILE, never write it\n"
	    "  -l, --limit N               records per GetRecords (default "
	    "10000)\n"
	    "AWS:\n"
	    "      --region REGION\n"
	    "      --profile NAME\n"
	    "      --endpoint-url URL\n"
	    "  -q, --quiet                 no warnings\n"
	    "  -v, --verbose               summary at exit (-vv: trace)\n"
	    "  -h, --help                  this text\n"
	    "  -V, --version               version and library versions\n",
	    f);
}

/* ---- output ---- */

/*
 * Writes what out holds to stdout. EPIPE sets r->epipe (the reader left:
 * end quietly); any other failure is an error the user must see.
 */
static int
flush_out(struct run *r, struct errbuf *err)
{
	size_t off = 0;
	ssize_t w;

	while (off < r->out.len) {
		w = write(STDOUT_FILENO, r->out.data + off, r->out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (errno == EPIPE)
				r->epipe = 1;
			return errbuf_set(err, ERR_SYSTEM, "stdout: %s",
			    strerror(errno));
		}
		off += (size_t)w;
	}
	buf_reset(&r->out);
	return 0;
}

static int
save_checkpoint(struct run *r, struct errbuf *err)
{
	if (r->o->checkpoint == NULL || !r->cp_dirty)
		return 0;
	if (checkpoint_save(r->o->checkpoint, &r->cp, err) == -1)
		return -1;
	r->cp_dirty = 0;
	r->cp_saved_ms = cli_mono_ms();
	return 0;
}

/* After a page was written: the checkpoint may move past it. */
static int
note_position(struct run *r, struct shard *s, struct errbuf *err)
{
	if (s->last_seq[0] == '\0')
		return 0;
	if (checkpoint_set(&r->cp, s->node->id, s->last_seq, s->last_subseq,
	    err) == -1)
		return -1;
	r->cp_dirty = 1;
	return 0;
}

/* ---- records ---- */

static void
report_skip(struct run *r, struct shard *s, const char *seq, long subseq,
    const struct errbuf *why)
{
	s->skipped++;
	r->skipped++;
	if (subseq >= 0)
		tool_notice("%s seq %s/%ld: skipped: %s", s->node->id, seq,
		    subseq, why->msg);
	else
		tool_notice("%s seq %s: skipped: %s", s->node->id, seq,
		    why->msg);
}

/* Writes one user record; 0, or -1 with err set (memory, stdout). */
static int
emit(struct run *r, struct shard *s, const struct consumer_record *cr,
    struct errbuf *err)
{
	struct errbuf why;
	int rc;

	rc = consumer_format_record(&r->out, r->o->format, cr, &why);
	if (rc == -1) {
		*err = why;
		return -1;
	}
	if (rc == 1)
		report_skip(r, s, cr->seq, cr->subseq, &why);
	else {
		s->records++;
		r->records++;
		s->bytes += cr->len;
		r->bytes += cr->len;
	}
	if (r->out.len >= OUT_FLUSH_BYTES)
		return flush_out(r, err);
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

/*
 * Writes one Kinesis record: its sub-records when it is a KPL aggregate
 * whose digest checks, else the record as it is.
 */
static int
emit_kinesis(struct run *r, struct shard *s, const struct kinesis_record *kr,
    struct errbuf *err)
{
	struct consumer_record cr;
	struct kpl_record *sub = NULL;
	struct errbuf kerr;
	size_t n = 0, i;
	long through = skip_through(s, kr);
	int rc = 0;

	memset(&cr, 0, sizeof(cr));
	cr.stream = r->o->stream;
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
		return emit(r, s, &cr, err);
	}
	for (i = 0; i < n && rc == 0 && !r->count_reached; i++) {
		if (through != CHECKPOINT_NO_SUBSEQ && (long)i <= through)
			continue;
		cr.subseq = (long)i;
		cr.key = sub[i].key;
		cr.key_len = sub[i].key_len;
		cr.data = sub[i].data;
		cr.len = sub[i].len;
		s->last_subseq = (long)i;
		rc = emit(r, s, &cr, err);
		if (r->o->count > 0 && (long long)r->records >= r->o->count)
			r->count_reached = 1;
	}
	/* the whole aggregate was handled: the checkpoint says so */
	if (i == n)
		s->last_subseq = CHECKPOINT_NO_SUBSEQ;
	free(sub);
	return rc;
}

/* Writes a page of records; stops at --until and -n. */
static int
emit_page(struct run *r, struct shard *s, const struct kinesis_get_result *g,
    struct errbuf *err)
{
	size_t i;

	for (i = 0; i < g->n && !r->count_reached; i++) {
		if (r->o->until_set && g->records[i].arrival > r->o->until) {
			s->state = S_UNTIL;
			break;
		}
		if (emit_kinesis(r, s, &g->records[i], err) == -1)
			return -1;
		if (r->o->count > 0 && (long long)r->records >= r->o->count)
			r->count_reached = 1;
	}
	if (flush_out(r, err) == -1)
		return -1;
	return note_position(r, s, err);
}

/* ---- shards ---- */

static int
selected(const struct run *r, const struct consumer_shard *cs)
{
	const struct opts *o = r->o;
	size_t i, pos = 0;

	if (o->nshards > 0) {
		for (i = 0; i < o->nshards; i++)
			if (strcmp(o->shards[i], cs->id) == 0)
				return 1;
		return 0;
	}
	if (o->slice_n == 0)
		return 1;
	for (i = 0; i < r->graph.n; i++)
		if (strcmp(r->graph.v[i]->id, cs->id) < 0)
			pos++;
	return consumer_shard_in_slice(cs->id, pos, o->slice_i, o->slice_n);
}

/*
 * Sets up the shards first seen now. Those of the first listing start at
 * --from; later ones were created while we ran and start at their
 * beginning. A checkpoint entry overrides both.
 */
static int
adopt_shards(struct run *r, size_t first, struct errbuf *err)
{
	const struct checkpoint_shard *cs;
	struct consumer_shard *node;
	struct shard *s;
	size_t i;

	for (i = first; i < r->graph.n; i++) {
		node = r->graph.v[i];
		if (!(node->selected = selected(r, node)))
			continue;
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
		node->arg = s;
		s->node = node;
		s->last_subseq = CHECKPOINT_NO_SUBSEQ;
		s->start = r->o->start;
		if (r->started)
			s->start.type = KINESIS_TRIM_HORIZON;
		cs = checkpoint_find(&r->cp, node->id);
		if (cs != NULL && cs->finished) {
			node->finished = 1;
			s->state = S_FINISHED;
			continue;
		}
		consumer_start_from_checkpoint(cs, &s->start);
		s->skip_pending = s->start.type == KINESIS_AT_SEQUENCE &&
		    s->start.skip_through != CHECKPOINT_NO_SUBSEQ;
		s->state = S_PENDING;
	}
	return 0;
}

static int
list_shards(struct run *r, struct errbuf *err)
{
	struct kinesis_shard_list l = { NULL, 0, 0 };
	size_t before = r->graph.n;
	int rc = -1;

	if (kinesis_list_shards(r->aws.client, r->o->stream, &l, err) == -1) {
		errbuf_prefix(err, "stream %s", r->o->stream);
		goto out;
	}
	if (consumer_graph_merge(&r->graph, &l, NULL, err) == -1 ||
	    adopt_shards(r, before, err) == -1)
		goto out;
	if (r->started && r->graph.n > before)
		tool_verbose(1, "%zu new shard%s", r->graph.n - before,
		    r->graph.n - before == 1 ? "" : "s");
	r->listed_ms = cli_mono_ms();
	rc = 0;
out:
	kinesis_shard_list_free(&l);
	return rc;
}

/* Each --shard must exist: a typo would otherwise read nothing, silently. */
static int
check_named_shards(const struct run *r, struct errbuf *err)
{
	size_t i;

	for (i = 0; i < r->o->nshards; i++)
		if (consumer_graph_find(&r->graph, r->o->shards[i]) == NULL)
			return errbuf_set(err, ERR_CONFIG, "stream %s has no "
			    "shard %s", r->o->stream, r->o->shards[i]);
	return 0;
}

/* Where a shard reads from after its iterator was lost (expired). */
static void
resume_position(struct shard *s)
{
	if (s->last_seq[0] == '\0')
		return;		/* nothing handled yet: the first start */
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

static int
get_iterator(struct run *r, struct shard *s, struct errbuf *err)
{
	free(s->iterator);
	s->iterator = NULL;
	if (kinesis_get_iterator(r->aws.client, r->o->stream, s->node->id,
	    s->start.type, s->start.seq, s->start.at, &s->iterator,
	    err) == -1)
		return errbuf_prefix(err, "%s", s->node->id);
	tool_verbose(2, "%s: %s%s%s", s->node->id, start_name(s->start.type),
	    s->start.seq[0] ? " " : "", s->start.seq);
	s->state = S_READY;
	s->next_ms = cli_mono_ms();
	return 0;
}

/* Moves shards whose parents are done on, and gets their iterators. */
static int
start_shards(struct run *r, struct errbuf *err)
{
	struct shard *s;
	size_t i;

	for (i = 0; i < r->graph.n && !cli_stop_signal; i++) {
		if ((s = r->graph.v[i]->arg) == NULL)
			continue;
		if (s->state == S_PENDING &&
		    consumer_parents_done(&r->graph, s->node))
			s->state = S_NEED_ITER;
		if (s->state == S_NEED_ITER && get_iterator(r, s, err) == -1)
			return -1;
	}
	return 0;
}

/* ---- GetRecords ---- */

static int
send_get(struct run *r, struct shard *s, struct errbuf *err)
{
	struct http_field h[] = {
		{ "Content-Type", "application/x-amz-json-1.1" },
		{ "X-Amz-Target", KINESIS_TARGET_PREFIX "GetRecords" }
	};
	struct aws_request req;

	buf_reset(&s->body);
	if (buf_puts(&s->body, "{\"ShardIterator\":") == -1 ||
	    ndjson_append_string(&s->body, s->iterator,
	    strlen(s->iterator)) == -1 ||
	    buf_printf(&s->body, ",\"Limit\":%ld}", r->o->limit) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/";
	req.headers = h;
	req.nheaders = 2;
	req.body = s->body.data;
	req.body_len = s->body.len;
	/* signed per attempt: a fresh X-Amz-Date every time */
	if (aws_sign_request(r->aws.client, &req, &s->sig, err) == -1 ||
	    http_multi_add(r->multi, &s->sig.http, s, err) == -1) {
		aws_signed_free(&s->sig);
		return errbuf_prefix(err, "GetRecords %s", s->node->id);
	}
	s->state = S_INFLIGHT;
	s->call_ms = cli_mono_ms();
	s->calls++;
	r->calls++;
	r->inflight++;
	return 0;
}

static int
send_due(struct run *r, long long now, struct errbuf *err)
{
	struct shard *s;
	size_t i;

	for (i = 0; i < r->graph.n && r->inflight < MAX_INFLIGHT; i++) {
		if ((s = r->graph.v[i]->arg) == NULL || s->state != S_READY ||
		    s->next_ms > now)
			continue;
		if (send_get(r, s, err) == -1)
			return -1;
	}
	return 0;
}

/* A failed call that may pass: wait, or give up after max_attempts. */
static int
retry_later(struct run *r, struct shard *s, const struct http_multi_done *d,
    const struct errbuf *why, struct errbuf *err)
{
	int attempts = aws_client_max_attempts(r->aws.client);
	long wait, ra = -1;
	const char *h;

	if (++s->failures >= attempts)
		return errbuf_set(err, ERR_TEMP, "GetRecords %s: %s (%d "
		    "attempts)", s->node->id, why->msg, s->failures);
	if (d->rc == 0 && (h = http_response_header(&d->resp,
	    "Retry-After")) != NULL)
		ra = http_retry_after_ms(h, (long)time(NULL));
	wait = retry_delay_ms(&retry_aws_standard, s->failures, 0, ra,
	    retry_jitter());
	tool_verbose(1, "GetRecords %s: %s; retrying in %ld ms", s->node->id,
	    why->msg, wait);
	s->state = S_READY;
	s->next_ms = cli_mono_ms() + wait;
	return 0;
}

/*
 * Throttling is how Kinesis shares a shard's read capacity among its
 * consumers, not a failure: back off and try again, without a limit,
 * as the KCL does.
 */
static void
throttled(struct run *r, struct shard *s, const struct http_multi_done *d)
{
	long wait, ra = -1;
	const char *h;

	r->throttled++;
	if (s->throttles < 30)
		s->throttles++;
	if ((h = http_response_header(&d->resp, "Retry-After")) != NULL)
		ra = http_retry_after_ms(h, (long)time(NULL));
	wait = retry_delay_ms(&retry_aws_standard, s->throttles, 1, ra,
	    retry_jitter());
	tool_verbose(1, "GetRecords %s: throttled; retrying in %ld ms",
	    s->node->id, wait);
	s->state = S_READY;
	s->next_ms = cli_mono_ms() + wait;
}

static int
call_failed(struct run *r, struct shard *s, const struct http_multi_done *d,
    struct errbuf *err)
{
	struct aws_error ae;
	struct errbuf why;

	if (d->rc == -1) {
		if (d->err.kind != ERR_TEMP)
			return errbuf_set(err, d->err.kind, "GetRecords %s: %s",
			    s->node->id, d->err.msg);
		return retry_later(r, s, d, &d->err, err);
	}
	aws_error_parse(&d->resp, &ae);
	aws_error_set(&why, d->resp.status, &ae);
	if (strcmp(ae.code, "ExpiredIteratorException") == 0) {
		/* a new iterator after the last record handled */
		r->renewed++;
		tool_verbose(1, "%s: iterator expired; renewing", s->node->id);
		if (++s->failures >= aws_client_max_attempts(r->aws.client) +
		    2)
			return errbuf_set(err, ERR_TEMP, "GetRecords %s: %s",
			    s->node->id, why.msg);
		resume_position(s);
		s->state = S_NEED_ITER;
		return 0;
	}
	if (d->resp.status == 429 || aws_error_is_throttle(ae.code)) {
		throttled(r, s, d);
		return 0;
	}
	if (aws_should_retry(d->resp.status, ae.code, ERR_NONE))
		return retry_later(r, s, d, &why, err);
	return errbuf_set(err, why.kind, "GetRecords %s: %s", s->node->id,
	    why.msg);
}

/* SHARD_END: the shard is done; its children may start. */
static int
shard_ended(struct run *r, struct shard *s, const struct kinesis_get_result *g,
    struct errbuf *err)
{
	size_t i;

	s->state = S_FINISHED;
	s->node->finished = 1;
	if (checkpoint_finish(&r->cp, s->node->id, err) == -1)
		return -1;
	r->cp_dirty = 1;
	tool_verbose(1, "%s: finished (%zu child shard%s)", s->node->id,
	    g->nchildren, g->nchildren == 1 ? "" : "s");
	/* children we do not know yet: list again to learn their parents */
	for (i = 0; i < g->nchildren; i++)
		if (consumer_graph_find(&r->graph, g->child_shards[i]) == NULL)
			return list_shards(r, err);
	return 0;
}

static int
page_done(struct run *r, struct shard *s, const struct kinesis_get_result *g,
    struct errbuf *err)
{
	long long now;
	int caught;
	size_t bytes = 0, i;

	s->failures = s->throttles = 0;
	for (i = 0; i < g->n; i++)
		bytes += g->records[i].len;
	s->state = S_READY;
	if (emit_page(r, s, g, err) == -1)
		return -1;
	if (s->state == S_UNTIL || r->count_reached)
		return 0;
	if (g->next_iterator == NULL)
		return shard_ended(r, s, g, err);
	free(s->iterator);
	s->iterator = strdup(g->next_iterator);
	if (s->iterator == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	/* a closed shard is read to its end whatever MillisBehindLatest says */
	caught = !s->node->closed && consumer_caught_up(g->millis_behind,
	    g->n, r->o->limit);
	now = cli_mono_ms();
	s->next_ms = consumer_pace_next(s->call_ms, now, bytes, caught,
	    r->o->follow ? CONSUMER_IDLE_POLL_MS : 0);
	if (caught && !r->o->follow)
		s->state = S_CAUGHT_UP;
	else if (caught && r->o->until_set && cli_wall_ms() / 1000.0 >
	    r->o->until)
		s->state = S_UNTIL;
	return 0;
}

static int
call_done(struct run *r, struct http_multi_done *d, struct errbuf *err)
{
	struct shard *s = d->tag;
	struct kinesis_get_result g;
	struct errbuf perr;
	int rc;

	r->inflight--;
	aws_signed_free(&s->sig);
	if (d->rc == -1 || d->resp.status < 200 || d->resp.status >= 300)
		return call_failed(r, s, d, err);
	if (kinesis_get_parse(d->resp.body.data, d->resp.body.len, &g,
	    &perr) == -1)
		return retry_later(r, s, d, &perr, err);
	rc = page_done(r, s, &g, err);
	kinesis_get_result_free(&g);
	return rc;
}

/* ---- the loop ---- */

/* Whether there is anything left to do. */
static int
active(const struct run *r)
{
	const struct shard *s;
	size_t i;

	if (r->o->follow && !r->o->until_set)
		return 1;
	for (i = 0; i < r->graph.n; i++) {
		if ((s = r->graph.v[i]->arg) == NULL)
			continue;
		if (s->state == S_NEED_ITER || s->state == S_READY ||
		    s->state == S_INFLIGHT)
			return 1;
	}
	return 0;
}

/* How long to wait for answers: until the next shard is due. */
static int
wait_ms(const struct run *r, long long now)
{
	const struct shard *s;
	long long w = STOP_POLL_MS;
	size_t i;

	for (i = 0; i < r->graph.n; i++) {
		s = r->graph.v[i]->arg;
		if (s != NULL && s->state == S_READY && s->next_ms - now < w)
			w = s->next_ms - now;
	}
	return w < 0 ? 0 : (int)w;
}

static int
wait_answers(struct run *r, int timeout, struct errbuf *err)
{
	struct http_multi_done done[MAX_INFLIGHT];
	int n, i, rc = 0;

	if (r->inflight == 0) {
		if (timeout > 0)
			poll(NULL, 0, timeout);
		return 0;
	}
	n = http_multi_wait(r->multi, -1, timeout, done, MAX_INFLIGHT, NULL,
	    err);
	if (n == -1)
		return -1;
	/* every answer in hand is handled, even after an error or a signal */
	for (i = 0; i < n; i++) {
		if (rc == 0 && !r->epipe)
			rc = call_done(r, &done[i], err);
		else
			((struct shard *)done[i].tag)->state = S_READY;
		http_response_free(&done[i].resp);
	}
	return rc;
}

static int
loop(struct run *r, struct errbuf *err)
{
	long long now;

	while (!cli_stop_signal && !r->count_reached) {
		now = cli_mono_ms();
		if (r->o->follow && now - r->listed_ms >= RELIST_MS &&
		    list_shards(r, err) == -1)
			return -1;
		if (start_shards(r, err) == -1 ||
		    send_due(r, cli_mono_ms(), err) == -1)
			return -1;
		if (!active(r))
			break;
		if (wait_answers(r, wait_ms(r, cli_mono_ms()), err) == -1)
			return -1;
		if (cli_mono_ms() - r->cp_saved_ms >= CHECKPOINT_EVERY_MS &&
		    save_checkpoint(r, err) == -1)
			return -1;
	}
	return 0;
}

static void
summary(const struct run *r)
{
	const struct shard *s;
	size_t i;

	tool_warnx("%llu records (%llu bytes), %llu skipped, %llu GetRecords "
	    "calls, %llu throttled, %llu iterators renewed",
	    r->records, r->bytes, r->skipped, r->calls, r->throttled,
	    r->renewed);
	for (i = 0; i < r->graph.n; i++) {
		if ((s = r->graph.v[i]->arg) == NULL)
			continue;
		if (s->last_subseq != CHECKPOINT_NO_SUBSEQ)
			tool_warnx("%s: %llu records, %s, at %s/%ld",
			    s->node->id, s->records, state_names[s->state],
			    s->last_seq, s->last_subseq);
		else
			tool_warnx("%s: %llu records, %s%s%s", s->node->id,
			    s->records, state_names[s->state],
			    s->last_seq[0] ? ", at " : "", s->last_seq);
	}
}

static int
open_run(struct run *r, const struct opts *o, struct errbuf *err)
{
	struct awstool_options ao;
	const char *cpfile = o->checkpoint ? o->checkpoint : o->resume;

	memset(&ao, 0, sizeof(ao));
	ao.prog = PROG;
	ao.service = "kinesis";
	ao.region = o->common.region;
	ao.profile = o->common.profile;
	ao.endpoint_url = o->common.endpoint_url;
	ao.trace = tool_trace_level(&o->common);
	ao.trace_fn = tool_trace_line;
	ao.stop = &cli_stop_signal;
	if (cpfile != NULL && checkpoint_load(cpfile, &r->cp, err) == -1)
		return -1;
	if (awstool_open(&ao, &r->aws, err) == -1)
		return -1;
	if (aws_client_warning(r->aws.client) != NULL)
		tool_notice("%s", aws_client_warning(r->aws.client));
	r->multi = http_multi_new(&r->aws.http, MAX_INFLIGHT, err);
	if (r->multi == NULL)
		return -1;
	/* a signal ends a long wait for GetRecords answers at once */
	http_multi_set_stop(r->multi, &cli_stop_signal);
	return 0;
}

static void
close_run(struct run *r)
{
	struct shard *s;
	size_t i;

	/* abandons calls in flight, whose signed requests are freed after */
	http_multi_free(r->multi);
	for (i = 0; i < r->graph.n; i++) {
		if ((s = r->graph.v[i]->arg) == NULL)
			continue;
		aws_signed_free(&s->sig);
		buf_free(&s->body);
		free(s->iterator);
		free(s);
	}
	consumer_graph_free(&r->graph);
	checkpoint_free(&r->cp);
	buf_free(&r->out);
	awstool_close(&r->aws);
}

/* The exit code for how the run ended. */
static int
finish(struct run *r, int rc, struct errbuf *err)
{
	struct errbuf cerr;
	int code = EXIT_ALL_HANDLED;

	if (rc == -1 && !r->epipe && !(cli_stop_signal &&
	    err->kind == ERR_TEMP)) {
		tool_warnx("%s", err->msg);
		code = cli_exit_for(err->kind);
	}
	/* what was written is handled, whatever stopped us */
	if (save_checkpoint(r, &cerr) == -1) {
		tool_warnx("%s", cerr.msg);
		if (code == EXIT_ALL_HANDLED)
			code = EXIT_TEMPORARY;
	}
	if (r->o->common.verbose)
		summary(r);
	if (code == EXIT_ALL_HANDLED && r->skipped > 0)
		code = EXIT_SOME_FAILED;
	if (cli_stop_signal)
		code = EXIT_SIGNAL_BASE + cli_stop_signal;
	return code;
}

static int
run(const struct opts *o)
{
	struct run r;
	struct errbuf err;
	int rc, code;

	memset(&r, 0, sizeof(r));
	r.o = o;
	errbuf_clear(&err);
	r.cp_saved_ms = cli_mono_ms();
	rc = open_run(&r, o, &err);
	if (rc == 0)
		rc = list_shards(&r, &err);
	if (rc == 0)
		rc = check_named_shards(&r, &err);
	r.started = 1;
	if (rc == 0)
		rc = loop(&r, &err);
	if (rc == 0 && r.out.len > 0)
		rc = flush_out(&r, &err);
	code = finish(&r, rc, &err);
	close_run(&r);
	if (r.epipe)
		cli_raise_sigpipe();
	return code;
}

/* ---- options ---- */

static const struct option longopts[] = {
	{ "stream", required_argument, NULL, 's' },
	{ "shard", required_argument, NULL, 'S' },
	{ "shard-index", required_argument, NULL, 'I' },
	{ "from", required_argument, NULL, 'f' },
	{ "until", required_argument, NULL, 'u' },
	{ "follow", no_argument, NULL, 'F' },
	{ "count", required_argument, NULL, 'n' },
	{ "format", required_argument, NULL, 'o' },
	{ "checkpoint", required_argument, NULL, 'c' },
	{ "resume", required_argument, NULL, 'r' },
	{ "limit", required_argument, NULL, 'l' },
	TOOL_AWS_LONGOPTS,
	TOOL_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int
add_shard(struct opts *o, const char *id)
{
	const char **v = realloc(o->shards, (o->nshards + 1) * sizeof(*v));

	if (v == NULL) {
		tool_warnx("out of memory");
		return EXIT_TEMPORARY;
	}
	o->shards = v;
	o->shards[o->nshards++] = id;
	return 0;
}

static int
parse_format(struct opts *o, const char *s)
{
	if (strcmp(s, "data") == 0)
		o->format = CONSUMER_DATA;
	else if (strcmp(s, "envelope") == 0)
		o->format = CONSUMER_ENVELOPE;
	else if (strcmp(s, "meta") == 0)
		o->format = CONSUMER_META;
	else
		return tool_usage_error("--format '%s': not data, envelope or "
		    "meta", s);
	return 0;
}

static int
parse_number(const char *opt, const char *s, long long min, long long max,
    long long *out)
{
	struct errbuf e;

	if (cli_parse_llong(s, min, max, out, &e) == -1)
		return tool_usage_error("%s: %s", opt, e.msg);
	return 0;
}

static int
parse_one(struct opts *o, int ch, const char *arg)
{
	struct errbuf e;
	long long n;

	switch (ch) {
	case 's': o->stream = arg; return 0;
	case 'S': return add_shard(o, arg);
	case 'I':
		if (consumer_parse_slice(arg, &o->slice_i, &o->slice_n,
		    &e) == -1)
			return tool_usage_error("%s", e.msg);
		return 0;
	case 'f': o->from = arg; return 0;
	case 'u':
		o->until_set = 1;
		if (consumer_parse_time(arg, &o->until, &e) == -1)
			return tool_usage_error("--until %s", e.msg);
		return 0;
	case 'F': o->follow = 1; return 0;
	case 'n':
		return parse_number("--count", arg, 1, LLONG_MAX, &o->count);
	case 'o': return parse_format(o, arg);
	case 'c': o->checkpoint = arg; return 0;
	case 'r': o->resume = arg; return 0;
	case 'l':
		if (parse_number("--limit", arg, 1, CONSUMER_MAX_LIMIT,
		    &n) != 0)
			return EXIT_USAGE;
		o->limit = (long)n;
		return 0;
	default:
		return tool_usage_error("unknown option");
	}
}

static int
validate(struct opts *o)
{
	struct errbuf e;

	if (o->stream == NULL || o->stream[0] == '\0')
		return tool_usage_error("--stream is required");
	if (o->nshards > 0 && o->slice_n > 0)
		return tool_usage_error("--shard and --shard-index exclude "
		    "each other");
	if (o->checkpoint != NULL && o->resume != NULL)
		return tool_usage_error("--checkpoint and --resume exclude "
		    "each other");
	if (consumer_parse_from(o->from ? o->from : "trim-horizon",
	    cli_wall_ms(), &o->start, &e) == -1)
		return tool_usage_error("%s", e.msg);
	/* a sequence number belongs to one shard */
	if ((o->start.type == KINESIS_AT_SEQUENCE ||
	    o->start.type == KINESIS_AFTER_SEQUENCE) && o->nshards != 1)
		return tool_usage_error("--from %s needs exactly one --shard",
		    o->from);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	int ch, code = 0;

	memset(&o, 0, sizeof(o));
	tool_init(PROG, usage, &o.common);
	o.limit = CONSUMER_MAX_LIMIT;
	opterr = 0;
	while (code == 0 && !o.common.done && (ch = getopt_long(argc, argv,
	    ":s:f:u:Fn:o:c:r:l:" TOOL_SHORTOPTS, longopts, NULL)) != -1) {
		code = tool_common_option(&o.common, ch, optarg, argv);
		if (code == TOOL_NOT_COMMON)
			code = parse_one(&o, ch, optarg);
	}
	if (code == 0 && !o.common.done && optind < argc)
		code = tool_usage_error("unexpected operand '%s'",
		    argv[optind]);
	if (code == 0 && !o.common.done)
		code = validate(&o);
	if (code == 0 && !o.common.done && cli_signals_install() == -1) {
		tool_warnx("sigaction: %s", strerror(errno));
		code = EXIT_TEMPORARY;
	}
	if (code == 0 && !o.common.done)
		code = run(&o);
	free(o.shards);
	return code;
}
