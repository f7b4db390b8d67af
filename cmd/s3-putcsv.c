/*
 * s3-putcsv: NDJSON objects in, RFC 4180 CSV objects in S3 out: rotated by
 * rows, bytes and age, streamed as multipart uploads, replay-safe keys for
 * kin-get --format meta input, a checkpoint written after each durable
 * upload, and an optional on-disk spool for input that cannot be replayed.
 * The engine is lib/csvsink; this file is its options, the input loop and
 * what the tool prints.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "awstool.h"
#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "csvsink.h"
#include "errbuf.h"
#include "fdio.h"
#include "keyfmt.h"
#include "ndjson.h"
#include "rows.h"
#include "s3.h"
#include "s3out.h"
#include "timetext.h"
#include "uploadlog.h"

#include "common/tool.h"

#define PROG "s3-putcsv"
#define DEFAULT_MAX_BYTES (64ULL << 20)
#define DEFAULT_PART_SIZE (8ULL << 20)
#define DEFAULT_MAX_AGE_MS (5LL * 60 * 1000)

/* A local file (dead letters, spool, checkpoint) could not be written:
 * reading stops, and what was read before still goes up. */
#define LOCAL_STOP (-4)

struct opts {
	char *bucket, *prefix;
	struct csvsink_config c;	/* what the engine takes */
	unsigned long long part_size;
	const char *sse, *sse_kms_key_id, *storage_class;
	const char *dead_letter;
	int tee, strict;
	struct tool_common common;	/* region, profile, -q, -v, ... */
	char **files;
	int nfiles;
};

struct state {
	const struct opts *o;
	struct csvsink *sink;
	struct csvsink_store store;
	struct awstool aws;
	int aws_open;		/* aws holds a session */
	int conf_open;		/* aws.conf alone (--dry-run) */
	struct uploadlog log;	/* with --checkpoint or --spool */
	struct s3out_target target;
	struct buf tee;
	unsigned long bad;
	int dead_fd;
	struct errbuf err;	/* setup errors, before the sink exists */
};

static void
usage(FILE *f)
{
	fputs("usage: " PROG " s3://BUCKET[/PREFIX] [options] [FILE...]\n"
	    "       " PROG " --stdout [options] [FILE...]\n"
	    "CSV:\n"
	    "  -c, --columns LIST          columns: a,b.c,name=path "
	    "(default: first record's keys)\n"
	    "  -H, --no-header             no header row\n"
	    "  -N, --null STR              text for null and missing values\n"
	    "      --lf                    end rows with LF, not CRLF\n"
	    "objects:\n"
	    "  -r, --max-rows N            rows per object (default no limit)\n"
	    "  -b, --max-bytes SIZE        CSV bytes per object (default 64MiB)\n"
	    "  -a, --max-age DURATION      from an object's first row "
	    "(default 5m)\n"
	    "  -k, --key-format FMT        key under PREFIX: strftime, {uuid} "
	    "{n} {host} {shard}\n"
	    "                              {first_seq} {last_seq} "
	    "{field:NAME}\n"
	    "  -z, --gzip                  gzip objects (.csv.gz)\n"
	    "      --part-size SIZE        multipart part size "
	    "(default 8MiB, at least 5MiB)\n"
	    "      --sse AES256|aws:kms    server-side encryption\n"
	    "      --sse-kms-key-id ID     KMS key for aws:kms\n"
	    "      --storage-class CLASS   S3 storage class\n"
	    "safety:\n"
	    "  -C, --checkpoint FILE       last _seq per _shard uploaded "
	    "(kin-get --resume)\n"
	    "  -S, --spool DIR             keep rows on disk until uploaded\n"
	    "  -s, --strict                stop at the first bad line (exit 5)\n"
	    "  -D, --dead-letter FILE      append bad lines to FILE\n"
	    "output:\n"
	    "  -T, --tee                   one JSON line per uploaded object\n"
	    "  -o, --stdout                CSV to stdout, nothing uploaded\n"
	    "  -n, --dry-run               say what would be uploaded\n"
	    "AWS:\n"
	    "      --region REGION         --profile NAME   "
	    "--endpoint-url URL\n"
	    "  -q, --quiet                 no warnings\n"
	    "  -v, --verbose               each upload; -vv HTTP trace\n"
	    "  -h, --help                  this text\n"
	    "  -V, --version               version and library versions\n",
	    f);
}

/* Writes p on stdout (also the engine's hook for --stdout); EPIPE ends
 * the tool like any filter. */
static int
write_stdout(void *arg, const char *p, size_t n, struct errbuf *err)
{
	(void)arg;
	if (fdio_write_all(STDOUT_FILENO, p, n, "stdout", err) == -1) {
		if (errno == EPIPE)
			cli_raise_sigpipe();
		return -1;
	}
	return 0;
}

/* ---- the engine's hooks ---- */

static long long
hook_mono_ms(void *arg)
{
	(void)arg;
	return clock_mono_ms();
}

static time_t
hook_wall(void *arg)
{
	(void)arg;
	return time(NULL);
}

static int
hook_stopped(void *arg)
{
	(void)arg;
	return cli_stop_signal != 0;
}

static void
hook_warn(void *arg, const char *msg)
{
	(void)arg;
	tool_notice("%s", msg);
}

static void
hook_note(void *arg, const char *msg)
{
	(void)arg;
	tool_verbose(1, "%s", msg);
}

/* A line that could not be converted: reported, kept, counted. */
static int
hook_bad_line(void *arg, const char *where, const char *line, size_t len,
    const struct errbuf *why, struct errbuf *err)
{
	struct state *st = arg;

	tool_warnx("%s: %s", where, why->msg);
	st->bad++;
	if (st->dead_fd != -1 && line != NULL &&
	    (fdio_write_all(st->dead_fd, line, len, st->o->dead_letter,
	    err) == -1 || fdio_write_all(st->dead_fd, "\n", 1,
	    st->o->dead_letter, err) == -1))
		return -1;
	return st->o->strict ? CSVSINK_STRICT : 0;
}

/* The URL too: which addressing style a bucket name gets is visible. */
static void
dry_run_line(struct state *st, const struct csvsink_upload *u)
{
	const struct s3_bucket *b = &st->target.bucket;
	char *url = NULL, *host = NULL;
	struct errbuf e;

	if (s3_object_url(b->endpoint, b->name, u->key, b->path_style, &url,
	    &host, &e) == -1)
		url = NULL;
	tool_warnx("dry run: would upload s3://%s/%s to %s (%llu rows, "
	    "%llu bytes, %s)", st->o->bucket, u->key, url ? url : "?",
	    u->rows, u->bytes, u->why);
	free(url);
	free(host);
}

static int
hook_uploaded(void *arg, const struct csvsink_upload *u, struct errbuf *err)
{
	struct state *st = arg;

	if (st->o->c.dry_run)
		dry_run_line(st, u);
	else
		tool_verbose(1, "uploaded s3://%s/%s (%llu rows, %llu bytes, "
		    "%s%s)", st->o->bucket, u->key, u->rows, u->bytes, u->why,
		    u->multipart ? ", multipart" : "");
	if (!st->o->tee)
		return 0;
	buf_reset(&st->tee);
	if (csvsink_upload_json(&st->tee, st->o->bucket, u) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return write_stdout(NULL, st->tee.data, st->tee.len, err);
}

/* ---- input ---- */

/* The engine's error becomes the run's. */
static int
sink_rc(struct state *st, int rc)
{
	if (rc == -1)
		st->err = *csvsink_error(st->sink);
	return rc;
}

/* Waits for input or the next --max-age deadline; 1 when readable. */
static int
wait_input(struct state *st, int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	long long next;
	int n;

	if (sink_rc(st, csvsink_tick(st->sink, &next)) == -1)
		return -1;
	if (cli_stop_signal)
		return CSVSINK_STOPPED;
	n = poll(&p, 1, next < 0 ? -1 : next > INT_MAX ? INT_MAX : (int)next);
	if (n == -1 && errno != EINTR)
		return errbuf_set(&st->err, ERR_SYSTEM, "poll: %s",
		    strerror(errno));
	if (cli_stop_signal)
		return CSVSINK_STOPPED;
	return n > 0;
}

/* Reads one input to its end, honouring --max-age while it is idle. */
static int
read_input(struct state *st, struct ndjson_reader *r)
{
	struct errbuf e;
	int rc;

	for (;;) {
		rc = sink_rc(st, csvsink_drain(st->sink, r));
		if (rc != NDJSON_AGAIN)
			return rc == NDJSON_EOF ? 0 : rc;
		if ((rc = wait_input(st, ndjson_reader_fd(r))) < 0)
			return rc;
		if (rc == 1 && ndjson_reader_fill(r, &e) == NDJSON_ERROR)
			return errbuf_set(&st->err, e.kind, "%s", e.msg);
	}
}

/* ---- setup and run ---- */

static int
setup_aws(struct state *st)
{
	struct awstool_options ao;

	tool_aws_options(&ao, "s3");
	/* no stop flag: after SIGTERM the open objects must still go up */
	if (tool_aws_open(&ao, &st->aws, &st->err) == -1)
		return -1;
	st->aws_open = 1;
	st->target.client = st->aws.client;
	st->target.bucket.endpoint = st->aws.conf.endpoint;
	st->target.bucket.path_style = st->aws.conf.path_style;
	return 0;
}

/* What a kill left open: reported one by one, as a warning each. */
static void
said_left(void *arg, const char *bucket, const char *key,
    const char *upload_id, const struct errbuf *err)
{
	const struct state *st = arg;

	if (err == NULL)
		tool_notice("aborted multipart upload %s of s3://%s/%s, left "
		    "open by an earlier run", upload_id, bucket, key);
	else
		tool_warnx("%s; it stays in %s for the next run", err->msg,
		    st->log.path);
}

/*
 * The log of open multipart uploads sits beside the checkpoint, else in
 * the spool: the same checkpoint or spool on restart finds what a kill
 * left open, and aborts it (the rows it held are read again from the
 * stream or the spool, since neither moved past them).
 */
static int
setup_upload_log(struct state *st)
{
	const struct csvsink_config *c = &st->o->c;
	struct buf path = BUF_INIT;
	int rc;

	if (c->checkpoint == NULL && c->spool == NULL)
		return 0;
	if ((c->checkpoint ? buf_printf(&path, "%s.uploads", c->checkpoint) :
	    buf_printf(&path, "%s/open-uploads", c->spool)) == -1)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	rc = uploadlog_open(&st->log, path.data, PROG, &st->err);
	buf_free(&path);
	if (rc == -1)
		return -1;
	st->target.log = &st->log;
	return s3out_abort_left(&st->target, said_left, st, &st->err) == -1 ?
	    -1 : 0;
}

/* --dry-run: the settings a run would use, without credentials or calls. */
static int
setup_dry_run(struct state *st)
{
	struct awstool_options ao;

	tool_aws_options(&ao, "s3");
	if (awstool_conf(&ao, &st->aws.conf, &st->err) == -1)
		return -1;
	st->conf_open = 1;
	st->target.bucket.endpoint = st->aws.conf.endpoint;
	st->target.bucket.path_style = st->aws.conf.path_style;
	return 0;
}

static void
setup_target(struct state *st)
{
	const struct opts *o = st->o;

	st->target.bucket.name = o->bucket;
	st->target.opts.sse = o->sse;
	st->target.opts.sse_kms_key_id = o->sse_kms_key_id;
	st->target.opts.storage_class = o->storage_class;
	csvsink_store_s3(&st->store, &st->target, &o->c, o->part_size);
}

static int
setup_sink(struct state *st)
{
	static const struct csvsink_hooks hooks0 = {
		hook_mono_ms, hook_wall, hook_stopped, hook_warn, hook_note,
		hook_bad_line, hook_uploaded, write_stdout, NULL
	};
	struct csvsink_hooks h = hooks0;
	struct csvsink_config c = st->o->c;

	c.prefix = st->o->prefix ? st->o->prefix : "";
	c.prog = PROG;
	h.arg = st;
	st->sink = csvsink_new(&c, &st->store, &h, &st->err);
	return st->sink == NULL ? -1 : 0;
}

static int
setup(struct state *st)
{
	const struct opts *o = st->o;

	st->dead_fd = -1;
	if (o->dead_letter != NULL &&
	    (st->dead_fd = fdio_open_append(o->dead_letter, &st->err)) == -1)
		return -1;
	if (setup_sink(st) == -1)
		return -1;
	if (o->c.to_stdout)
		return 0;
	setup_target(st);
	if (o->c.dry_run)
		return setup_dry_run(st);
	if (setup_aws(st) == -1)
		return -1;
	return setup_upload_log(st);
}

static void
teardown(struct state *st)
{
	csvsink_free(st->sink);
	uploadlog_close(&st->log);
	if (st->aws_open)
		awstool_close(&st->aws);
	else if (st->conf_open)
		awsconf_free(&st->aws.conf);
	buf_free(&st->tee);
	if (st->dead_fd != -1)
		close(st->dead_fd);
}

/* The spool first, then each input; one that cannot be opened stops. */
static int
read_all(struct state *st)
{
	struct ndjson_inputs in;
	struct errbuf e;
	int rc;

	if ((rc = sink_rc(st, csvsink_recover(st->sink))) != 0)
		return rc;
	ndjson_inputs_init(&in, st->o->files, st->o->nfiles, 0);
	while ((rc = ndjson_inputs_next(&in, &e)) == 1 &&
	    (rc = read_input(st, in.reader)) == 0)
		;
	if (rc == -1 && in.reader == NULL)
		rc = errbuf_set(&st->err, ERR_CONFIG, "%s", e.msg);
	ndjson_inputs_free(&in);
	return rc;
}

static void
say_not_uploaded(const struct state *st)
{
	size_t n = st->sink ? csvsink_pending(st->sink) : 0;

	if (n > 0)
		tool_warnx("%zu object(s) not uploaded%s", n,
		    st->o->c.spool ? "; their rows stay in the spool" : "");
}

/* Ends the run: what is open goes up (also after a signal). */
static int
finish(struct state *st, int rc)
{
	if (rc == -1)
		return -1;
	return sink_rc(st, csvsink_finish(st->sink, cli_stop_signal ?
	    "signal" : rc == CSVSINK_STRICT ? "strict" : rc == LOCAL_STOP ?
	    "error" : "end of input"));
}

static int
local_failed(const struct state *st)
{
	return st->sink != NULL && csvsink_local_failed(st->sink);
}

static int
run(const struct opts *o)
{
	struct state st;
	enum errbuf_kind local = ERR_NONE;
	int rc;

	memset(&st, 0, sizeof(st));
	st.o = o;
	st.dead_fd = -1;
	st.log.fd = -1;
	if ((rc = setup(&st)) == 0) {
		rc = read_all(&st);
		if (rc == -1 && local_failed(&st)) {
			/* said now; what was read before still goes out */
			tool_warnx("%s", st.err.msg);
			local = st.err.kind;
			csvsink_forget_local(st.sink);
			rc = LOCAL_STOP;
		}
		if (finish(&st, rc) == -1)
			rc = -1;
	}
	if (rc == -1 && local != ERR_NONE && local_failed(&st)) {
		/* the same local file again: said once already */
		rc = cli_exit_for(local);
		say_not_uploaded(&st);
	} else if (rc == -1) {
		tool_warnx("%s", st.err.msg);
		say_not_uploaded(&st);
		rc = cli_exit_for(st.err.kind);
	} else if (cli_stop_signal) {
		rc = EXIT_SIGNAL_BASE + cli_stop_signal;
	} else if (rc == LOCAL_STOP) {
		rc = cli_exit_for(local);
	} else if (rc == CSVSINK_STRICT) {
		rc = EXIT_BAD_INPUT;
	} else {
		rc = st.bad > 0 ? EXIT_SOME_FAILED : EXIT_ALL_HANDLED;
	}
	teardown(&st);
	return rc;
}

/* ---- options ---- */

enum {
	OPT_LF = 256, OPT_PART_SIZE, OPT_SSE, OPT_SSE_KMS, OPT_STORAGE
};

static const struct option longopts[] = {
	{ "columns", required_argument, NULL, 'c' },
	{ "no-header", no_argument, NULL, 'H' },
	{ "null", required_argument, NULL, 'N' },
	{ "lf", no_argument, NULL, OPT_LF },
	{ "max-rows", required_argument, NULL, 'r' },
	{ "max-bytes", required_argument, NULL, 'b' },
	{ "max-age", required_argument, NULL, 'a' },
	{ "key-format", required_argument, NULL, 'k' },
	{ "gzip", no_argument, NULL, 'z' },
	{ "part-size", required_argument, NULL, OPT_PART_SIZE },
	{ "sse", required_argument, NULL, OPT_SSE },
	{ "sse-kms-key-id", required_argument, NULL, OPT_SSE_KMS },
	{ "storage-class", required_argument, NULL, OPT_STORAGE },
	{ "checkpoint", required_argument, NULL, 'C' },
	{ "spool", required_argument, NULL, 'S' },
	{ "strict", no_argument, NULL, 's' },
	{ "dead-letter", required_argument, NULL, 'D' },
	{ "tee", no_argument, NULL, 'T' },
	{ "stdout", no_argument, NULL, 'o' },
	{ "dry-run", no_argument, NULL, 'n' },
	TOOL_AWS_LONGOPTS,
	TOOL_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int
parse_number_opt(int c, const char *arg, struct opts *o, struct errbuf *e)
{
	switch (c) {
	case 'r':
		return cli_parse_llong(arg, 0, LLONG_MAX, &o->c.max_rows, e);
	case 'b':
		if (cli_parse_size(arg, &o->c.max_bytes, e) == -1)
			return -1;
		return o->c.max_bytes == 0 ? errbuf_set(e, ERR_USAGE,
		    "'%s': must be more than 0", arg) : 0;
	case 'a':
		return timetext_duration_ms(arg, &o->c.max_age_ms, e);
	default:
		if (cli_parse_size(arg, &o->part_size, e) == -1)
			return -1;
		if (o->part_size < S3_MIN_PART_SIZE ||
		    o->part_size > S3_MAX_PART_SIZE)
			return errbuf_set(e, ERR_USAGE, "'%s': a part is 5MiB "
			    "to 5GiB (S3 limits)", arg);
		return 0;
	}
}

/* 0 handled, 1 not a value option, -1 bad value (e set). */
static int
parse_value_opt(int c, const char *arg, struct opts *o, struct errbuf *e)
{
	switch (c) {
	case 'c': o->c.columns = arg; return 0;
	case 'N': o->c.null_text = arg; return 0;
	case 'k': o->c.key_format = arg; return 0;
	case OPT_SSE: o->sse = arg; return 0;
	case OPT_SSE_KMS: o->sse_kms_key_id = arg; return 0;
	case OPT_STORAGE: o->storage_class = arg; return 0;
	case 'C': o->c.checkpoint = arg; return 0;
	case 'S': o->c.spool = arg; return 0;
	case 'D': o->dead_letter = arg; return 0;
	case 'r': case 'b': case 'a': case OPT_PART_SIZE:
		return parse_number_opt(c, arg, o, e);
	}
	return 1;
}

/* 0 go on, else the exit code of a usage error. */
static int
parse_flag(int c, struct opts *o)
{
	switch (c) {
	case 'H': o->c.no_header = 1; break;
	case OPT_LF: o->c.lf = 1; break;
	case 'z': o->c.gzip = 1; break;
	case 's': o->strict = 1; break;
	case 'T': o->tee = 1; break;
	case 'o': o->c.to_stdout = 1; break;
	case 'n': o->c.dry_run = 1; break;
	default:
		return tool_usage_error("unknown option");
	}
	return 0;
}

static int
validate(struct opts *o)
{
	struct errbuf e;
	struct keyfmt k;

	if (o->c.to_stdout && (o->c.checkpoint || o->c.spool || o->tee ||
	    o->c.dry_run))
		return tool_usage_error("--stdout uploads nothing: no "
		    "--checkpoint, --spool, --tee or --dry-run with it");
	if (o->sse != NULL && strcmp(o->sse, "AES256") != 0 &&
	    strcmp(o->sse, "aws:kms") != 0)
		return tool_usage_error("--sse: '%s': AES256 or aws:kms",
		    o->sse);
	if (o->sse_kms_key_id != NULL && (o->sse == NULL ||
	    strcmp(o->sse, "aws:kms") != 0))
		return tool_usage_error("--sse-kms-key-id needs --sse aws:kms");
	if (o->c.key_format != NULL) {
		if (keyfmt_parse(&k, o->c.key_format, &e) == -1)
			return tool_usage_error("--key-format: %s", e.msg);
		keyfmt_free(&k);
	}
	if (o->c.columns != NULL) {
		struct rows *r = rows_new(NULL);
		int bad = r == NULL ||
		    rows_add_columns(r, o->c.columns, &e) == -1;
		rows_free(r);
		if (bad)
			return tool_usage_error("--columns: %s", r ? e.msg :
			    "out of memory");
	}
	return 0;
}

static int
parse_operands(struct opts *o, int argc, char **argv)
{
	struct errbuf e;

	if (optind < argc && strncmp(argv[optind], "s3://", 5) == 0) {
		if (s3_url_parse(argv[optind], &o->bucket, &o->prefix, &e)
		    == -1)
			return tool_usage_error("%s", e.msg);
		optind++;
	} else if (!o->c.to_stdout) {
		return tool_usage_error("s3://BUCKET[/PREFIX] expected first");
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	return 0;
}

/* One of s3-putcsv's own options: 0, or the exit code of a usage error. */
static int
parse_own(void *opts, int c, const char *arg)
{
	struct opts *o = opts;
	struct errbuf e;
	int rc = parse_value_opt(c, arg, o, &e);

	if (rc == -1)
		return tool_usage_error("%s", e.msg);
	return rc == 1 ? parse_flag(c, o) : 0;
}

/* 0 to run (or with o->common.done after --help/--version), else the exit
 * code. */
static int
parse_args(struct opts *o, int argc, char **argv)
{
	int rc;

	o->c.max_bytes = DEFAULT_MAX_BYTES;
	o->part_size = DEFAULT_PART_SIZE;
	o->c.max_age_ms = DEFAULT_MAX_AGE_MS;
	rc = tool_getopt(&o->common, argc, argv, ":c:HN:r:b:a:k:zC:S:sD:Ton"
	    TOOL_SHORTOPTS, longopts, parse_own, o);
	if (rc != 0 || o->common.done)
		return rc;
	if ((rc = parse_operands(o, argc, argv)) != 0)
		return rc;
	return validate(o);
}

int
main(int argc, char **argv)
{
	struct opts o;
	char zlib[64];
	int rc;

	memset(&o, 0, sizeof(o));
	tool_init(PROG, usage, &o.common);
	snprintf(zlib, sizeof(zlib), ", zlib %s", zlibVersion());
	tool_set_version_extra(zlib);
	rc = parse_args(&o, argc, argv);
	if (rc == 0 && !o.common.done) {
		if (cli_signals_install() == -1) {
			tool_warnx("sigaction: %s", strerror(errno));
			rc = EXIT_TEMPORARY;
		} else {
			rc = run(&o);
		}
	}
	free(o.bucket);
	free(o.prefix);
	return rc;
}
