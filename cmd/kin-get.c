/*
 * kin-get: Kinesis records to stdout, one per line, from every shard in
 * parallel, parents before children, resumable from a checkpoint file.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aws.h"
#include "awstool.h"
#include "buf.h"
#include "checkpoint.h"
#include "cli.h"
#include "clock.h"
#include "consumer.h"
#include "errbuf.h"
#include "shardread.h"

#include "common/tool.h"

#define PROG "kin-get"
#define OUT_FLUSH_BYTES ((size_t)256 << 10)

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

struct run {
	const struct opts *o;
	struct awstool aws;
	struct shardread_options so;
	struct shardread *sr;
	struct checkpoint cp;
	struct buf out;
	int epipe;
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

/* shardread's flush: a page is on stdout before its position is noted. */
static int
page_flush(void *arg, struct errbuf *err)
{
	return flush_out(arg, err);
}

/* Writes one user record: 0, 1 skipped (and said why), or -1 with err. */
static int
emit(void *arg, const struct consumer_record *cr, struct errbuf *err)
{
	struct run *r = arg;
	struct errbuf why;
	int rc;

	rc = consumer_format_record(&r->out, r->o->format, cr, &why);
	if (rc == -1) {
		*err = why;
		return -1;
	}
	if (rc == 1 && cr->subseq >= 0)
		tool_notice("%s seq %s/%ld: skipped: %s", cr->shard, cr->seq,
		    cr->subseq, why.msg);
	else if (rc == 1)
		tool_notice("%s seq %s: skipped: %s", cr->shard, cr->seq,
		    why.msg);
	if (r->out.len >= OUT_FLUSH_BYTES && flush_out(r, err) == -1)
		return -1;
	return rc;
}

static void
notice(void *arg, int level, const char *msg)
{
	(void)arg;
	tool_verbose(level, "%s", msg);
}

/* ---- the run ---- */

static void
summary(const struct run *r)
{
	static const struct shardread_stats none;
	const struct shardread_stats *st = r->sr ? shardread_stats(r->sr) :
	    &none;
	struct shardread_info s;
	size_t i;

	tool_warnx("%llu records (%llu bytes), %llu skipped, %llu GetRecords "
	    "calls, %llu throttled, %llu iterators renewed",
	    st->records, st->bytes, st->skipped, st->calls, st->throttled,
	    st->renewed);
	for (i = 0; r->sr != NULL && i < shardread_nshards(r->sr); i++) {
		if (!shardread_info(r->sr, i, &s))
			continue;
		if (s.last_subseq != CHECKPOINT_NO_SUBSEQ)
			tool_warnx("%s: %llu records, %s, at %s/%ld",
			    s.id, s.records, shardread_state_name(s.state),
			    s.last_seq, s.last_subseq);
		else
			tool_warnx("%s: %llu records, %s%s%s", s.id,
			    s.records, shardread_state_name(s.state),
			    s.last_seq[0] ? ", at " : "", s.last_seq);
	}
}

static void
reader_options(struct run *r, const struct opts *o)
{
	struct shardread_options *so = &r->so;

	memset(so, 0, sizeof(*so));
	so->client = r->aws.client;
	so->http = &r->aws.http;
	so->stream = o->stream;
	so->shards = o->shards;
	so->nshards = o->nshards;
	so->slice_i = o->slice_i;
	so->slice_n = o->slice_n;
	so->start = o->start;
	so->until_set = o->until_set;
	so->until = o->until;
	so->follow = o->follow;
	so->count = o->count;
	so->limit = o->limit;
	so->cp = &r->cp;
	so->checkpoint_file = o->checkpoint;
	so->stop = &cli_stop_signal;
	so->record = emit;
	so->flush = page_flush;
	so->notice = notice;
	so->arg = r;
}

static int
open_run(struct run *r, const struct opts *o, struct errbuf *err)
{
	struct awstool_options ao;
	const char *cpfile = o->checkpoint ? o->checkpoint : o->resume;

	tool_aws_options(&ao, "kinesis");
	ao.stop = &cli_stop_signal;
	if (cpfile != NULL && checkpoint_load(cpfile, &r->cp, err) == -1)
		return -1;
	if (tool_aws_open(&ao, &r->aws, err) == -1)
		return -1;
	reader_options(r, o);
	r->sr = shardread_new(&r->so, err);
	return r->sr != NULL ? 0 : -1;
}

static void
close_run(struct run *r)
{
	shardread_free(r->sr);
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
	if (r->sr != NULL && shardread_save(r->sr, &cerr) == -1) {
		tool_warnx("%s", cerr.msg);
		if (code == EXIT_ALL_HANDLED)
			code = EXIT_TEMPORARY;
	}
	if (r->o->common.verbose)
		summary(r);
	if (code == EXIT_ALL_HANDLED && r->sr != NULL &&
	    shardread_stats(r->sr)->skipped > 0)
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
	rc = open_run(&r, o, &err);
	if (rc == 0)
		rc = shardread_start(r.sr, &err);
	if (rc == 0)
		rc = shardread_run(r.sr, &err);
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
parse_one(void *opts, int ch, const char *arg)
{
	struct opts *o = opts;
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
		return tool_opt_number("--count", arg, 1, LLONG_MAX, &o->count);
	case 'o': return parse_format(o, arg);
	case 'c': o->checkpoint = arg; return 0;
	case 'r': o->resume = arg; return 0;
	case 'l':
		if (tool_opt_number("--limit", arg, 1, CONSUMER_MAX_LIMIT,
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
	    clock_wall_ms(), &o->start, &e) == -1)
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
	int code;

	memset(&o, 0, sizeof(o));
	tool_init(PROG, usage, &o.common);
	o.limit = CONSUMER_MAX_LIMIT;
	code = tool_getopt(&o.common, argc, argv, ":s:f:u:Fn:o:c:r:l:"
	    TOOL_SHORTOPTS, longopts, parse_one, &o);
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
