/*
 * gecko-fetch: CoinGecko prices as NDJSON, one object per coin and currency
 * per poll, with the exact number text CoinGecko sent. The client (plan,
 * key, calls, retries, coin selection) is lib/geckoclient; the records are
 * lib/geckopoll's; this file is options, the poll loop and the exit code.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "cli.h"
#include "clock.h"
#include "errbuf.h"
#include "gecko.h"
#include "geckoclient.h"
#include "geckopoll.h"
#include "ndjson.h"
#include "timetext.h"

#include "common/tool.h"

#define PROG "gecko-fetch"
#define DEFAULT_TIMEOUT_MS 30000LL
#define DEFAULT_MAX_BACKOFF_MS 75000LL	/* a minute window plus jitter */
#define DEFAULT_RETRIES 3

/* Set after a stop signal: callers unwind without another message. */
#define STOPPED GECKO_STOPPED
/* stdout is gone or full: no point in polling on. */
#define WRITE_FAILED (-3)

struct opts {
	struct gecko_list ids;		/* operands, --ids, --ids-file */
	struct gecko_list vs;
	struct gecko_selection sel;	/* ids, top, all, first */
	struct gecko_format fmt;	/* vs, market, stale, table */
	struct gecko_client_config cfg;	/* plan, key, limits */
	long long every_ms, count;
	long long credits;		/* -1: the plan's */
	struct tool_common common;
};

static void
usage(FILE *f)
{
	fputs("usage: " PROG " [options] [ID...]\n"
	    "coins (one of):\n"
	    "  ID..., -i, --ids LIST       coin ids, comma-separated\n"
	    "  -I, --ids-file FILE         ids one per line or comma-separated"
	    " (- is stdin)\n"
	    "  -t, --top N                 the top N by market cap\n"
	    "  -a, --all                   every active coin\n"
	    "      --first N               the first N ids of /coins/list\n"
	    "output:\n"
	    "  -c, --vs LIST               quote currencies (default usd)\n"
	    "  -m, --market                add market_cap, volume_24h, "
	    "change_24h\n"
	    "  -s, --stale skip|mark|keep  coins whose price did not move "
	    "(default keep)\n"
	    "  -f, --format json|table     output format (default json)\n"
	    "polling:\n"
	    "  -e, --every DURATION        poll on a wall-clock schedule\n"
	    "  -n, --count N               stop after N polls\n"
	    "plan and limits:\n"
	    "  -p, --plan public|demo|pro  which API root and key header\n"
	    "  -k, --api-key-file FILE     read the key from FILE\n"
	    "  -b, --base-url URL          API root (tests, mirrors)\n"
	    "  -r, --rate N[/min|/s]       client-side rate limit\n"
	    "      --credits N             monthly credits, for the warning\n"
	    "      --retries N             retries of a failed call "
	    "(default 3)\n"
	    "      --max-backoff DURATION  longest wait after a 429 without "
	    "Retry-After\n"
	    "      --timeout DURATION      per request (default 30s)\n"
	    "  -q, --quiet                 no warnings\n"
	    "  -v, --verbose               more detail (repeat for a trace)\n"
	    "  -h, --help                  this text\n"
	    "  -V, --version               version and library versions\n"
	    "Keys come from COINGECKO_DEMO_API_KEY or COINGECKO_PRO_API_KEY.\n",
	    f);
}


/* ---- the poll loop ---- */

/* The client's lines: its retries and credit warning are warnings. */
static void
client_log(void *arg, enum gecko_log level, const char *line)
{
	(void)arg;
	if (level == GECKO_LOG_NOTICE)
		tool_notice("%s", line);
	else
		tool_verbose(1, "%s", line);
}

/* Writes a poll's output at once, so a reader never waits on a buffer. */
static int
write_out(struct buf *out, struct errbuf *err)
{
	if (out->len > 0 && fwrite(out->data, 1, out->len, stdout) != out->len)
		goto fail;
	buf_reset(out);
	if (fflush(stdout) == EOF)
		goto fail;
	return 0;
fail:
	if (errno == EPIPE)
		cli_raise_sigpipe();
	return errbuf_set(err, ERR_SYSTEM, "stdout: %s", strerror(errno));
}

/* A poll's warnings (not with -q) and its -v line (shown with -q too, as
 * in every tool). */
static void
report_poll(const struct gecko_poll *p)
{
	if (p->unknown.len > 0)
		tool_notice("unknown to CoinGecko (ids, not symbols, are "
		    "expected): %s", p->unknown.data);
	if (p->nulls.len > 0)
		tool_notice("%s: %ld null price%s skipped: %s", p->ts,
		    p->st.nulls, p->st.nulls == 1 ? "" : "s", p->nulls.data);
	tool_verbose(1, "%s: %ld records, %ld stale skipped", p->ts,
	    p->st.records, p->st.stale);
}

/* Every call of one poll; what arrived is printed even if a call fails. */
static int
poll_once(struct gecko_client *gc, const struct opts *o,
    struct gecko_coins *c, const size_t *starts, size_t ncalls,
    const char *ts, struct gecko_stats *total, struct errbuf *err)
{
	struct gecko_poll p;
	struct buf tail = BUF_INIT;
	struct errbuf werr;
	int rc = 0;

	gecko_poll_begin(&p, &o->fmt, c, ts);
	if (gecko_query_tail(&o->fmt, &tail) == -1)
		rc = errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (rc == 0)
		rc = gecko_client_poll(gc, &p, starts, ncalls, tail.data, err);
	gecko_poll_end(&p);
	report_poll(&p);
	total->records += p.st.records;
	total->nulls += p.st.nulls;
	total->stale += p.st.stale;
	total->unknown += p.st.unknown;
	if (write_out(&p.out, &werr) != 0) {
		if (rc == -1)
			tool_warnx("%s: %s", ts, err->msg);
		*err = werr;
		rc = WRITE_FAILED;
	}
	gecko_poll_free(&p);
	buf_free(&tail);
	return rc;
}

static int
report_fail(const char *ts, const struct errbuf *err)
{
	if (ts != NULL)
		tool_warnx("poll %s: %s", ts, err->msg);
	else
		tool_warnx("%s", err->msg);
	return cli_exit_for(err->kind == ERR_NONE ? ERR_SYSTEM : err->kind);
}

/* Polls until --count, a signal, or a failure that will not pass. */
static int
poll_loop(struct gecko_client *gc, const struct opts *o,
    struct gecko_coins *c, const size_t *starts, size_t ncalls,
    struct errbuf *err)
{
	struct gecko_stats total = { 0, 0, 0, 0 };
	long long slot = -1, ts_ms, n;
	long failed = 0, polls = 0;
	enum errbuf_kind worst = ERR_NONE;
	char ts[40];
	int rc;

	for (n = 0; o->count == 0 || n < o->count; n++) {
		if (o->every_ms > 0) {
			slot = gecko_next_slot_ms(clock_wall_ms(), o->every_ms,
			    slot < 0 ? -1 : slot + o->every_ms);
			if (gecko_client_wait_wall(gc, slot) != 0)
				break;
			ts_ms = slot;
		} else
			ts_ms = clock_wall_ms() / 1000 * 1000;
		gecko_iso8601(ts_ms, ts, sizeof(ts));
		errbuf_clear(err);
		rc = poll_once(gc, o, c, starts, ncalls, ts, &total, err);
		polls++;
		if (rc == STOPPED)
			break;
		if (rc == WRITE_FAILED)
			return report_fail(NULL, err);
		if (rc == -1) {
			failed++;
			worst = err->kind;
			report_fail(ts, err);
			/* a wrong key or option will not fix itself */
			if (err->kind == ERR_CONFIG || err->kind == ERR_USAGE)
				return cli_exit_for(err->kind);
		}
		if (o->every_ms <= 0)
			break;
	}
	if (cli_stop_signal)
		return EXIT_SIGNAL_BASE + cli_stop_signal;
	if (failed > 0 && failed == polls)
		return cli_exit_for(worst);
	if (failed > 0 || total.nulls > 0 || total.unknown > 0)
		return EXIT_SOME_FAILED;
	return EXIT_ALL_HANDLED;
}

/* The selection and its calls: 0, or the exit code. */
static int
prepare(struct gecko_client *gc, const struct opts *o, struct gecko_coins *c,
    size_t **starts, size_t *ncalls, struct errbuf *err)
{
	int rc;

	if ((rc = gecko_client_select(gc, &o->sel, c, err)) != 0)
		return rc == STOPPED ? EXIT_SIGNAL_BASE + cli_stop_signal :
		    report_fail(NULL, err);
	if ((*starts = calloc(c->id.n + 1, sizeof(size_t))) == NULL)
		errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (*starts == NULL || (*ncalls = gecko_plan_calls(
	    gecko_client_base(gc), c, &o->fmt, *starts, err)) == 0)
		return report_fail(NULL, err);
	tool_verbose(1, "%zu coin%s, %zu call%s a poll", c->id.n,
	    c->id.n == 1 ? "" : "s", *ncalls, *ncalls == 1 ? "" : "s");
	gecko_client_check_credits(gc, *ncalls, o->every_ms, o->count,
	    o->credits);
	return 0;
}

static int
run(struct opts *o)
{
	struct gecko_client *gc = NULL;
	struct gecko_coins c;
	struct errbuf err;
	size_t *starts = NULL, ncalls = 0;
	int code;

	memset(&c, 0, sizeof(c));
	errbuf_clear(&err);
	if (cli_signals_install() == -1) {
		errbuf_set(&err, ERR_SYSTEM, "sigaction: %s", strerror(errno));
		return report_fail(NULL, &err);
	}
	o->sel.vs = o->vs.v[0];		/* validate() saw to one */
	o->cfg.user_agent = PROG "/" COINPIPE_VERSION;
	o->cfg.trace = tool_trace_level(&o->common);
	o->cfg.trace_fn = tool_trace_line;
	o->cfg.log_fn = client_log;
	o->cfg.stop = &cli_stop_signal;
	o->cfg.mono_ms = clock_mono_ms;
	o->cfg.wall_ms = clock_wall_ms;
	if ((gc = gecko_client_new(&o->cfg, &err)) == NULL)
		code = report_fail(NULL, &err);
	else if ((code = prepare(gc, o, &c, &starts, &ncalls, &err)) == 0)
		code = poll_loop(gc, o, &c, starts, ncalls, &err);
	gecko_client_free(gc);
	free(starts);
	gecko_coins_free(&c);
	return code;
}

enum {
	OPT_FIRST = 256, OPT_CREDITS, OPT_RETRIES, OPT_MAX_BACKOFF,
	OPT_TIMEOUT
};

static const struct option longopts[] = {
	{ "ids", required_argument, NULL, 'i' },
	{ "ids-file", required_argument, NULL, 'I' },
	{ "top", required_argument, NULL, 't' },
	{ "all", no_argument, NULL, 'a' },
	{ "first", required_argument, NULL, OPT_FIRST },
	{ "vs", required_argument, NULL, 'c' },
	{ "market", no_argument, NULL, 'm' },
	{ "stale", required_argument, NULL, 's' },
	{ "format", required_argument, NULL, 'f' },
	{ "every", required_argument, NULL, 'e' },
	{ "count", required_argument, NULL, 'n' },
	{ "plan", required_argument, NULL, 'p' },
	{ "api-key-file", required_argument, NULL, 'k' },
	{ "base-url", required_argument, NULL, 'b' },
	{ "rate", required_argument, NULL, 'r' },
	{ "credits", required_argument, NULL, OPT_CREDITS },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "max-backoff", required_argument, NULL, OPT_MAX_BACKOFF },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	TOOL_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

/* "30", "30/min" or "2/s": calls in a minute or in a second. */
static int
parse_rate(const char *s, struct opts *o, struct errbuf *err)
{
	char num[32];
	size_t n = strcspn(s, "/");
	long long v;

	if (n >= sizeof(num))
		goto bad;
	if (s[n] == '\0' || strcmp(s + n, "/min") == 0)
		o->cfg.rate_window_ms = 60000;
	else if (strcmp(s + n, "/s") == 0)
		o->cfg.rate_window_ms = 1000;
	else
		goto bad;
	memcpy(num, s, n);
	num[n] = '\0';
	if (cli_parse_llong(num, 1, 100000, &v, err) == -1)
		return -1;
	o->cfg.rate = (int)v;
	return 0;
bad:
	return errbuf_set(err, ERR_USAGE, "'%s': not a rate "
	    "(examples: 30, 30/min, 2/s)", s);
}

static int
parse_choice(const char *s, const char *const *names, int *out)
{
	int i;

	for (i = 0; names[i] != NULL; i++)
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	return -1;
}

/* Which coins, what to print, when: returns 0, an exit code, or -1 when
 * ch is not one of these options. */
static int
parse_what(struct opts *o, int ch, const char *arg)
{
	static const char *const stales[] = { "keep", "skip", "mark", NULL };
	static const char *const formats[] = { "json", "table", NULL };
	struct errbuf err;
	int i;

	errbuf_clear(&err);
	switch (ch) {
	case 'i':
		if (gecko_list_split(&o->ids, arg) == -1)
			return EXIT_TEMPORARY;
		return 0;
	case 'I':
		if (gecko_list_read(&o->ids, arg, &err) == -1)
			return tool_usage_error("--ids-file %s", err.msg);
		return 0;
	case 't':
		if (cli_parse_llong(arg, 1, 100000, &o->sel.top, &err) == -1)
			return tool_usage_error("--top: %s", err.msg);
		return 0;
	case 'a': o->sel.all = 1; return 0;
	case OPT_FIRST:
		if (cli_parse_llong(arg, 1, 10000000, &o->sel.first,
		    &err) == -1)
			return tool_usage_error("--first: %s", err.msg);
		return 0;
	case 'c':
		gecko_list_free(&o->vs);
		if (gecko_list_split(&o->vs, arg) == -1)
			return EXIT_TEMPORARY;
		return 0;
	case 'm': o->fmt.market = 1; return 0;
	case 's':
		if (parse_choice(arg, stales, &i) == -1)
			return tool_usage_error("--stale: '%s': expected skip, "
			    "mark or keep", arg);
		o->fmt.stale = (enum gecko_stale)i;
		return 0;
	case 'f':
		if (parse_choice(arg, formats, &o->fmt.table) == -1)
			return tool_usage_error("--format: '%s': expected json "
			    "or table", arg);
		return 0;
	case 'e':
		if (timetext_duration_ms(arg, &o->every_ms, &err) == -1)
			return tool_usage_error("--every: %s", err.msg);
		if (o->every_ms < 1000)
			return tool_usage_error("--every: '%s': at least 1s",
			    arg);
		return 0;
	case 'n':
		if (cli_parse_llong(arg, 1, LLONG_MAX, &o->count, &err) == -1)
			return tool_usage_error("--count: %s", err.msg);
		return 0;
	}
	return -1;
}

/* Plan, key, limits: returns 0, an exit code, or -1 when ch is not one
 * of these options. */
static int
parse_how(struct opts *o, int ch, const char *arg)
{
	static const char *const plans[] = { "public", "demo", "pro", NULL };
	struct errbuf err;
	long long v;
	int i;

	errbuf_clear(&err);
	switch (ch) {
	case 'p':
		if (parse_choice(arg, plans, &i) == -1)
			return tool_usage_error("--plan: '%s': expected "
			    "public, demo or pro", arg);
		o->cfg.plan = (enum gecko_plan)i;
		o->cfg.plan_set = 1;
		return 0;
	case 'k': o->cfg.key_file = arg; return 0;
	case 'b': o->cfg.base_url = arg; return 0;
	case 'r':
		if (parse_rate(arg, o, &err) == -1)
			return tool_usage_error("--rate: %s", err.msg);
		return 0;
	case OPT_CREDITS:
		if (cli_parse_llong(arg, 0, LLONG_MAX / 2, &o->credits,
		    &err) == -1)
			return tool_usage_error("--credits: %s", err.msg);
		return 0;
	case OPT_RETRIES:
		if (cli_parse_llong(arg, 0, 100, &v, &err) == -1)
			return tool_usage_error("--retries: %s", err.msg);
		o->cfg.retries = (int)v;
		return 0;
	case OPT_MAX_BACKOFF:
	case OPT_TIMEOUT:
		if (timetext_duration_ms(arg, ch == OPT_TIMEOUT ?
		    &o->cfg.timeout_ms : &o->cfg.max_backoff_ms, &err) == -1)
			return tool_usage_error("%s: %s", ch == OPT_TIMEOUT ?
			    "--timeout" : "--max-backoff", err.msg);
		return 0;
	}
	return -1;
}

/* One of gecko-fetch's own options; returns 0 or an exit code. */
static int
parse_one(void *opts, int ch, const char *arg)
{
	struct opts *o = opts;
	int rc;

	if ((rc = parse_what(o, ch, arg)) != -1 ||
	    (rc = parse_how(o, ch, arg)) != -1)
		return rc;
	return tool_usage_error("unknown option");
}

/* Checks what no single option can: one selection, sane currencies. */
static int
validate(struct opts *o)
{
	int sources = (o->ids.n > 0) + (o->sel.top > 0) + o->sel.all +
	    (o->sel.first > 0);
	size_t i, u;
	char *p;

	if (sources == 0)
		return tool_usage_error("no coins: give ids, --ids, "
		    "--ids-file, --top, --all or --first");
	if (sources > 1)
		return tool_usage_error("choose one of ids, --top, --all and "
		    "--first");
	if (o->cfg.key_file != NULL && o->cfg.plan_set &&
	    o->cfg.plan == GECKO_PUBLIC)
		return tool_usage_error("--api-key-file needs --plan demo or "
		    "--plan pro");
	if (o->count > 0 && o->every_ms == 0)
		return tool_usage_error("--count needs --every");
	if (o->vs.n == 0 && gecko_list_add(&o->vs, "usd", 3) == -1)
		return EXIT_TEMPORARY;
	for (i = 0; i < o->vs.n; i++)
		for (p = o->vs.v[i]; *p != '\0'; p++) {
			*p = (char)tolower((unsigned char)*p);
			if (!isalnum((unsigned char)*p))
				return tool_usage_error("--vs: '%s': "
				    "currencies are codes like usd, eur, btc",
				    o->vs.v[i]);
		}
	/* API ids are lower case; "Bitcoin" would come back unknown */
	for (i = 0; i < o->ids.n; i++)
		for (p = o->ids.v[i]; *p != '\0'; p += u) {
			/* ids are printed in JSON strings: valid UTF-8 */
			if ((unsigned char)*p < 0x20 ||
			    (u = ndjson_utf8_len(p, strlen(p))) == 0)
				return tool_usage_error("'%s': not a coin id",
				    o->ids.v[i]);
			if (u == 1)
				*p = (char)tolower((unsigned char)*p);
		}
	if (o->cfg.base_url != NULL &&
	    strncmp(o->cfg.base_url, "http://", 7) != 0 &&
	    strncmp(o->cfg.base_url, "https://", 8) != 0)
		return tool_usage_error("--base-url: '%s': expected an "
		    "http:// or https:// URL", o->cfg.base_url);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	int code;

	memset(&o, 0, sizeof(o));
	tool_init(PROG, usage, &o.common);
	o.credits = -1;
	o.cfg.retries = DEFAULT_RETRIES;
	o.cfg.max_backoff_ms = DEFAULT_MAX_BACKOFF_MS;
	o.cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
	o.sel.ids = &o.ids;
	o.fmt.vs = &o.vs;
	code = tool_getopt(&o.common, argc, argv,
	    ":i:I:t:ac:ms:f:e:n:p:k:b:r:" TOOL_SHORTOPTS, longopts,
	    parse_one, &o);
	for (; code == 0 && !o.common.done && optind < argc; optind++)
		if (gecko_list_split(&o.ids, argv[optind]) == -1)
			code = EXIT_TEMPORARY;
	if (code == 0 && !o.common.done)
		code = validate(&o);
	if (code == 0 && !o.common.done)
		code = run(&o);
	gecko_list_free(&o.ids);
	gecko_list_free(&o.vs);
	return code;
}
