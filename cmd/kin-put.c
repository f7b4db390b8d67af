/*
 * kin-put: NDJSON lines into a Kinesis data stream, batched into parallel
 * PutRecords calls, failed entries retried alone, a delivery report per
 * record in input order, undeliverable records into a dead-letter file.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "aws.h"
#include "awstool.h"
#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "errbuf.h"
#include "fdio.h"
#include "http.h"
#include "kinesis.h"
#include "ndjson.h"
#include "producer.h"
#include "putcalls.h"

#include "common/tool.h"

#define PROG "kin-put"
#define DEFAULT_LINGER_MS 100LL
#define DEFAULT_INFLIGHT 4LL
#define DEFAULT_MAX_ATTEMPTS 10	/* a producer outlasts a throttled minute */
#define MAX_ATTEMPTS_LIMIT 100
#define DEFAULT_TIMEOUT_MS 120000LL	/* per record, from its first send */
#define DEFAULT_DRAIN_MS 10000LL
#define DEFAULT_AGG_SIZE 51200ULL	/* the KPL's AggregationMaxSize */
#define CONTROL_BUDGET_MS 30000L	/* DescribeStreamSummary, ListShards */
#define WAIT_SLICE_MS 100		/* longest wait between signal checks */
#define MAX_PRINTED_FAILURES 10		/* per-record delivery errors shown */

struct opts {
	const char *stream;
	const char *key_field, *key_fixed, *hash_key;
	int raw, strict, ordered, aggregate, tee;
	long long linger_ms, timeout_ms, drain_ms, inflight;
	int max_attempts;		/* 0: AWS_MAX_ATTEMPTS or default */
	unsigned long long agg_size;
	const char *dead_letter;
	struct tool_common common;
	char **files;
	int nfiles;
};

/* Why the run ended the way it did; decides the exit code. */
struct outcome {
	int data, temp, config, strict, output;
	int epipe;
	unsigned long long shown;	/* delivery failures printed */
};

struct run {
	const struct opts *o;
	struct awstool aws;
	struct producer *p;
	struct putcalls *calls;
	struct producer_shard_map map;
	struct ndjson_inputs in;		/* the FILE operands */
	int input_done, need_fill;
	FILE *dlq;
	struct producer_intake intake;
	struct buf line;
	int stopping;
	long long drain_until, start;
	struct outcome out;
};

static void
usage(FILE *f)
{
	fputs("usage: " PROG " --stream NAME [options] [FILE...]\n"
	    "  -s, --stream NAME           the stream (or an ARN)\n"
	    "      --stream-arn ARN        the stream by ARN\n"
	    "  -k, --key FIELD             partition key from a field or "
	    "dotted path\n"
	    "  -K, --key-fixed STR         one partition key for every "
	    "record\n"
	    "      --explicit-hash-key N   ExplicitHashKey for every record\n"
	    "  -r, --raw                   any bytes, no JSON check\n"
	    "      --strict                stop at the first invalid line "
	    "(exit 5)\n"
	    "  -l, --linger DURATION       longest wait for a batch to fill "
	    "(default 100ms)\n"
	    "  -j, --inflight N            parallel PutRecords calls "
	    "(default 4)\n"
	    "  -o, --ordered               keep order per partition key\n"
	    "  -a, --aggregate             pack records into KPL aggregates\n"
	    "      --aggregate-size SIZE   largest aggregate (default 50KiB)\n"
	    "  -m, --max-attempts N        sends of one record (default 10)\n"
	    "  -t, --timeout DURATION      give a record up after this "
	    "(default 2m)\n"
	    "  -d, --dead-letter FILE      append failed records to FILE\n"
	    "      --drain-timeout DURATION  delivery time after a signal "
	    "(default 10s)\n"
	    "  -T, --tee                   delivery reports on stdout\n"
	    "      --region REGION, --profile NAME, --endpoint-url URL\n"
	    "  -q, --quiet                 no warnings\n"
	    "  -v, --verbose               summary at exit (repeat for a "
	    "trace)\n"
	    "  -h, --help                  this text\n"
	    "  -V, --version               version and library versions\n",
	    f);
}

/* ---- input ---- */

static const char *
file_name(const struct run *r, unsigned i)
{
	return ndjson_inputs_name(&r->in, (int)i);
}

/* Opens the next input, reporting those that cannot be; sets input_done
 * after the last. */
static void
next_input(struct run *r)
{
	struct errbuf e;
	int rc;

	while ((rc = ndjson_inputs_next(&r->in, &e)) == -1) {
		tool_warnx("%s", e.msg);
		r->out.data = 1;
	}
	r->input_done |= rc == 0;
}

/* Takes the complete lines already read; r->need_fill when none is left. */
static int
take_lines(struct run *r, struct errbuf *err)
{
	int rc;

	r->need_fill = 0;
	while (!r->input_done && !producer_full(r->p)) {
		rc = producer_drain(r->p, &r->intake, r->in.reader,
		    (unsigned)r->in.index, clock_mono_ms(), err);
		if (rc == -1)
			return -1;
		if (r->intake.strict && r->intake.refused > 0) {
			/* under --strict, the end of the input */
			r->out.strict = 1;
			r->input_done = 1;
		} else if (rc == NDJSON_EOF)
			next_input(r);
		else if (rc == NDJSON_AGAIN) {
			r->need_fill = 1;
			return 0;
		}
	}
	return 0;
}

/* ---- reports ---- */

/* One line about rep to f: its dead letter, or its delivery report. */
static int
write_report(struct run *r, FILE *f, const struct producer_report *rep)
{
	const char *name = file_name(r, rep->file);
	struct buf *b = &r->line;
	int rc;

	buf_reset(b);
	if (f == r->dlq)
		rc = producer_report_dead_letter(b, rep, name);
	else
		rc = producer_report_tee(b, rep, r->in.n > 1 ? name : NULL);
	return rc == 0 && fwrite(b->data, 1, b->len, f) == b->len ? 0 : -1;
}

static void
note_failure(struct run *r, const struct producer_report *rep)
{
	const char *f = file_name(r, rep->file);

	if (rep->kind == ERR_CONFIG)
		r->out.config = 1;
	else if (rep->kind == ERR_DATA)
		r->out.data = 1;
	else
		r->out.temp = 1;
	if (rep->attempts == 0 && rep->kind == ERR_DATA)
		/* refused input: always say where */
		tool_warnx("%s:%lu: %s", f, rep->line, rep->message);
	else if (r->out.shown++ < MAX_PRINTED_FAILURES)
		tool_warnx("%s:%lu: not delivered: %s%s%s", f, rep->line,
		    rep->code, rep->message[0] != '\0' ? ": " : "",
		    rep->message);
}

static void begin_stop(struct run *r, const char *why);

static void
output_failed(struct run *r, FILE *f, const char *name)
{
	if (f == stdout && errno == EPIPE)
		r->out.epipe = 1;
	else {
		tool_warnx("%s: %s", name, strerror(errno));
		r->out.output = 1;
	}
	begin_stop(r, NULL);
}

static void
dead_letter_failed(struct run *r)
{
	output_failed(r, r->dlq, r->o->dead_letter);
	fclose(r->dlq);
	r->dlq = NULL;
}

/* Everything whose fate is known, in input order; flushed once. */
static void
report(struct run *r)
{
	struct producer_report rep;
	int wrote = 0, dl = 0;

	while (producer_next_report(r->p, &rep)) {
		if (!rep.delivered) {
			note_failure(r, &rep);
			if (r->dlq != NULL && write_report(r, r->dlq, &rep) == -1)
				dead_letter_failed(r);
			dl = 1;
		}
		if (r->o->tee && !r->out.epipe && !r->out.output) {
			if (write_report(r, stdout, &rep) == -1)
				output_failed(r, stdout, "stdout");
			wrote = 1;
		}
	}
	if (wrote && !r->out.epipe && !r->out.output && fflush(stdout) == EOF)
		output_failed(r, stdout, "stdout");
	if (dl && r->dlq != NULL && fflush(r->dlq) == EOF)
		dead_letter_failed(r);
}

/* ---- calls ---- */

/* A refusal no retry can cure (credentials, stream deleted): stopped. */
static void
fatal_stop(struct run *r, const struct errbuf *e)
{
	tool_warnx("PutRecords %s: %s", r->o->stream, e->msg);
	r->out.config |= e->kind == ERR_CONFIG;
	r->input_done = 1;
}

/* ---- the loop ---- */

static void
begin_stop(struct run *r, const char *why)
{
	if (r->stopping)
		return;
	r->stopping = 1;
	r->input_done = 1;
	r->drain_until = clock_mono_ms() + r->o->drain_ms;
	if (why != NULL)
		tool_notice("%s: delivering what is buffered "
		    "(up to %lld ms)", why, r->o->drain_ms);
}

static void
drain_expired(struct run *r)
{
	putcalls_abandon(r->calls);
	producer_abandon(r->p, PRODUCER_E_STOPPED, "not delivered before "
	    "the drain timeout (a call in flight may have been written)",
	    ERR_TEMP);
}

static void
progress(struct run *r, long long now)
{
	const struct producer_stats *s = producer_stats(r->p);
	double secs = (double)(now - r->start) / 1000.0;

	tool_progress(now, "%llu records, %llu delivered, %llu calls, "
	    "%.0f records/s", s->records, s->delivered, s->calls,
	    secs > 0 ? (double)s->delivered / secs : 0.0);
	if (s->landed > 0)
		tool_verbose(1, "%llu aggregates landed on another shard than "
		    "they were built for (a reshard): their records outside "
		    "that shard's range were sent again", s->landed);
}

/* How long to wait: until the next due time, in slices. */
static int
wait_ms(const struct run *r, long long wake, long long now)
{
	long long t = WAIT_SLICE_MS;

	if (wake >= 0 && wake - now < t)
		t = wake - now;
	if (r->stopping && r->drain_until - now < t)
		t = r->drain_until - now;
	return t < 0 ? 0 : (int)t;
}

static int
wait_events(struct run *r, long long wake, struct errbuf *err)
{
	int want = r->need_fill && !r->input_done && !producer_full(r->p);
	int fd = want ? ndjson_reader_fd(r->in.reader) : -1, ready, rc;
	struct errbuf why;

	rc = putcalls_wait(r->calls, fd, wait_ms(r, wake, clock_mono_ms()),
	    &ready, &why, err);
	if (rc == -1)
		return -1;
	if (rc == 1)
		fatal_stop(r, &why);
	if (ready && !r->input_done &&
	    ndjson_reader_fill(r->in.reader, err) == NDJSON_ERROR)
		return -1;
	return 0;
}

static int
loop(struct run *r, struct errbuf *err)
{
	long long wake, now;

	for (;;) {
		now = clock_mono_ms();
		if (cli_stop_signal && !r->stopping) {
			/* lines already read count as buffered: deliver them */
			if (!r->input_done && take_lines(r, err) == -1)
				return -1;
			begin_stop(r, strsignal(cli_stop_signal));
		}
		if (r->stopping && now >= r->drain_until &&
		    !putcalls_stopped(r->calls))
			drain_expired(r);
		report(r);
		progress(r, now);
		if (r->input_done && producer_idle(r->p) &&
		    putcalls_busy(r->calls) == 0)
			return 0;
		if (!r->input_done && take_lines(r, err) == -1)
			return -1;
		if (putcalls_send(r->calls, r->input_done, &wake, err) == -1)
			return -1;
		if (wait_events(r, wake, err) == -1)
			return -1;
	}
}

/* ---- setup ---- */

static int
open_aws(struct run *r, struct errbuf *err)
{
	const struct opts *o = r->o;
	struct awstool_options ao;

	tool_aws_options(&ao, "kinesis");
	ao.budget_ms = CONTROL_BUDGET_MS;
	ao.stop = &cli_stop_signal;
	if (tool_aws_open(&ao, &r->aws, err) == -1)
		return -1;
	/* a missing stream is exit 3 now, not a retry loop per batch */
	return putcalls_check_stream(r->aws.client, o->stream, err);
}

static int
open_dead_letter(struct run *r, struct errbuf *err)
{
	int fd = fdio_open_append(r->o->dead_letter, err), saved;

	if (fd == -1)
		return -1;
	if ((r->dlq = fdopen(fd, "a")) == NULL) {
		saved = errno;	/* close may change it */
		close(fd);
		return errbuf_set(err, ERR_SYSTEM, "%s: %s",
		    r->o->dead_letter, strerror(saved));
	}
	return 0;
}

/* --max-attempts, else AWS_MAX_ATTEMPTS or the profile's max_attempts,
 * else a producer's default (higher than the SDKs' 3: a record given up is
 * a record in the dead-letter file). */
static int
max_attempts(const struct opts *o, const struct awsconf *conf)
{
	if (o->max_attempts > 0)
		return o->max_attempts;
	if (conf->max_attempts_set)
		return conf->max_attempts < MAX_ATTEMPTS_LIMIT ?
		    conf->max_attempts : MAX_ATTEMPTS_LIMIT;
	return DEFAULT_MAX_ATTEMPTS;
}

static int
open_engine(struct run *r, struct errbuf *err)
{
	const struct opts *o = r->o;
	struct producer_config pc;
	struct putcalls_options co;
	unsigned char seed[8];

	if (RAND_bytes(seed, sizeof(seed)) != 1)
		return errbuf_set(err, ERR_SYSTEM, "no random bytes");
	r->intake.key_field = o->key_field;
	r->intake.key_fixed = o->key_fixed;
	r->intake.raw = o->raw;
	r->intake.strict = o->strict;
	r->intake.map = o->aggregate ? &r->map : NULL;
	memcpy(&r->intake.rng, seed, sizeof(r->intake.rng));
	r->intake.rng |= 1;
	memset(&pc, 0, sizeof(pc));
	pc.max_attempts = max_attempts(o, &r->aws.conf);
	pc.timeout_ms = o->timeout_ms;
	pc.linger_ms = o->linger_ms;
	pc.ordered = o->ordered;
	pc.hash_key = o->hash_key;
	pc.aggregate_size = o->aggregate ? (size_t)o->agg_size : 0;
	pc.ngroups = o->aggregate && r->map.n > 0 ? r->map.n : 1;
	pc.map = o->aggregate ? &r->map : NULL;
	pc.seed = r->intake.rng ^ 0x5DEECE66DULL;
	if ((r->p = producer_new(&pc, err)) == NULL)
		return -1;
	memset(&co, 0, sizeof(co));
	co.client = r->aws.client;
	co.http = &r->aws.http;
	co.inflight = (size_t)o->inflight;
	co.stream = o->stream;
	co.map = o->aggregate ? &r->map : NULL;
	if ((r->calls = putcalls_new(&co, r->p, err)) == NULL)
		return -1;
	ndjson_inputs_init(&r->in, o->files, o->nfiles, 0);
	next_input(r);
	return 0;
}

static void
close_run(struct run *r)
{
	putcalls_free(r->calls);
	producer_free(r->p);
	producer_shard_map_free(&r->map);
	ndjson_inputs_free(&r->in);
	if (r->dlq != NULL && fclose(r->dlq) == EOF) {
		tool_warnx("%s: %s", r->o->dead_letter, strerror(errno));
		r->out.output = 1;
	}
	buf_free(&r->line);
	producer_intake_free(&r->intake);
	awstool_close(&r->aws);
}

static void
summary(struct run *r)
{
	const struct producer_stats *s = producer_stats(r->p);
	double secs = (double)(clock_mono_ms() - r->start) / 1000.0;

	if (s->failed > 0)
		tool_notice("%llu of %llu records not delivered%s%s%s",
		    s->failed, s->records, r->dlq != NULL ? " (see " : "",
		    r->dlq != NULL ? r->o->dead_letter : "",
		    r->dlq != NULL ? ")" : "");
	tool_verbose(1, "%llu records, %llu bytes, %llu delivered, %llu calls, "
	    "%llu retries, %llu throttled, %llu failed, %.3f s, "
	    "%.0f records/s", s->records, s->bytes, s->delivered, s->calls,
	    s->retries, s->throttles, s->failed, secs,
	    secs > 0 ? (double)s->delivered / secs : 0.0);
}

static int
exit_code(const struct run *r)
{
	if (cli_stop_signal)
		return EXIT_SIGNAL_BASE + cli_stop_signal;
	if (r->out.config)
		return EXIT_CONFIG;
	if (r->out.strict)
		return EXIT_BAD_INPUT;
	if (r->out.temp || r->out.output)
		return EXIT_TEMPORARY;
	if (r->out.data)
		return EXIT_SOME_FAILED;
	return EXIT_ALL_HANDLED;
}

static int
run(const struct opts *o)
{
	struct run r;
	struct errbuf err;
	int rc;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.start = clock_mono_ms();
	errbuf_clear(&err);
	if (open_aws(&r, &err) == -1 ||
	    (o->aggregate && putcalls_shard_map(r.aws.client, o->stream,
	    &r.map, &err) == -1) ||
	    (o->dead_letter != NULL && open_dead_letter(&r, &err) == -1) ||
	    open_engine(&r, &err) == -1 || loop(&r, &err) == -1) {
		tool_warnx("%s", err.msg);
		rc = cli_stop_signal ? EXIT_SIGNAL_BASE + cli_stop_signal :
		    cli_exit_for(err.kind);
		tool_progress_end();
		close_run(&r);
		return rc;
	}
	tool_progress_end();
	summary(&r);
	close_run(&r);
	if (r.out.epipe && !cli_stop_signal)
		cli_raise_sigpipe();
	return exit_code(&r);
}

/* ---- options ---- */

enum {
	OPT_STREAM_ARN = 256, OPT_HASH_KEY, OPT_STRICT, OPT_AGG_SIZE,
	OPT_DRAIN
};

static const struct option longopts[] = {
	{ "stream", required_argument, NULL, 's' },
	{ "stream-arn", required_argument, NULL, OPT_STREAM_ARN },
	{ "key", required_argument, NULL, 'k' },
	{ "key-fixed", required_argument, NULL, 'K' },
	{ "explicit-hash-key", required_argument, NULL, OPT_HASH_KEY },
	{ "raw", no_argument, NULL, 'r' },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "linger", required_argument, NULL, 'l' },
	{ "inflight", required_argument, NULL, 'j' },
	{ "ordered", no_argument, NULL, 'o' },
	{ "aggregate", no_argument, NULL, 'a' },
	{ "aggregate-size", required_argument, NULL, OPT_AGG_SIZE },
	{ "max-attempts", required_argument, NULL, 'm' },
	{ "timeout", required_argument, NULL, 't' },
	{ "dead-letter", required_argument, NULL, 'd' },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN },
	{ "tee", no_argument, NULL, 'T' },
	TOOL_AWS_LONGOPTS,
	TOOL_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int
parse_opt(void *opts, int c, const char *arg)
{
	struct opts *o = opts;
	struct errbuf e;
	long long n;

	switch (c) {
	case 's': o->stream = arg; return 0;
	case OPT_STREAM_ARN:
		if (strncmp(arg, "arn:", 4) != 0)
			return tool_usage_error("--stream-arn: '%s' is not an "
			    "ARN", arg);
		o->stream = arg;
		return 0;
	case 'k': o->key_field = arg; return 0;
	case 'K': o->key_fixed = arg; return 0;
	case OPT_HASH_KEY:
		if (!kinesis_hash_key_valid(arg))
			return tool_usage_error("--explicit-hash-key: '%s' is "
			    "not a decimal from 0 to 2^128-1", arg);
		o->hash_key = arg;
		return 0;
	case 'r': o->raw = 1; return 0;
	case OPT_STRICT: o->strict = 1; return 0;
	case 'l': return tool_opt_duration("--linger", arg, &o->linger_ms);
	case 'j':
		return tool_opt_number("--inflight", arg, 1,
		    HTTP_MULTI_MAX_HANDLES, &o->inflight);
	case 'o': o->ordered = 1; return 0;
	case 'a': o->aggregate = 1; return 0;
	case OPT_AGG_SIZE:
		if (cli_parse_size(arg, &o->agg_size, &e) == -1)
			return tool_usage_error("--aggregate-size: %s", e.msg);
		if (o->agg_size < 1024 || o->agg_size >
		    KINESIS_MAX_RECORD_BYTES)
			return tool_usage_error("--aggregate-size: must be "
			    "1KiB to 1MiB");
		return 0;
	case 'm':
		if (tool_opt_number("--max-attempts", arg, 1,
		    MAX_ATTEMPTS_LIMIT, &n) != 0)
			return EXIT_USAGE;
		o->max_attempts = (int)n;
		return 0;
	case 't': return tool_opt_duration("--timeout", arg, &o->timeout_ms);
	case 'd': o->dead_letter = arg; return 0;
	case OPT_DRAIN:
		return tool_opt_duration("--drain-timeout", arg, &o->drain_ms);
	case 'T': o->tee = 1; return 0;
	default:
		return EXIT_USAGE;
	}
}

static int
validate(struct opts *o)
{
	if (o->stream == NULL)
		return tool_usage_error("--stream is required");
	if (o->key_field != NULL && o->key_fixed != NULL)
		return tool_usage_error("--key and --key-fixed exclude each "
		    "other");
	if (o->key_field != NULL && o->raw)
		return tool_usage_error("--key reads a JSON field: not with "
		    "--raw (use --key-fixed)");
	if (o->key_field != NULL && o->key_field[0] == '\0')
		return tool_usage_error("--key: empty field name");
	if (o->aggregate && o->hash_key != NULL)
		return tool_usage_error("--explicit-hash-key cannot be "
		    "combined with --aggregate: the KPL sub-records would not "
		    "carry it");
	if (o->linger_ms > 3600000LL)
		return tool_usage_error("--linger: at most 1h");
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int rc;

	memset(&o, 0, sizeof(o));
	tool_init(PROG, usage, &o.common);
	o.linger_ms = DEFAULT_LINGER_MS;
	o.inflight = DEFAULT_INFLIGHT;
	o.timeout_ms = DEFAULT_TIMEOUT_MS;
	o.drain_ms = DEFAULT_DRAIN_MS;
	o.agg_size = DEFAULT_AGG_SIZE;
	rc = tool_getopt(&o.common, argc, argv, ":s:k:K:rl:j:oam:t:d:T"
	    TOOL_SHORTOPTS, longopts, parse_opt, &o);
	if (rc != 0 || o.common.done)
		return rc;
	o.files = argv + optind;
	o.nfiles = argc - optind;
	if ((rc = validate(&o)) != 0)
		return rc;
	if (cli_signals_install() == -1) {
		tool_warnx("signals: %s", strerror(errno));
		return EXIT_TEMPORARY;
	}
	return run(&o);
}
