/*
 * gecko-fetch: CoinGecko prices as NDJSON, one object per coin and currency
 * per poll, with the exact number text CoinGecko sent.
 */
#include <ctype.h>
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

#include "buf.h"
#include "cli.h"
#include "errbuf.h"
#include "gecko.h"
#include "geckoclient.h"
#include "geckopoll.h"
#include "http.h"
#include "ndjson.h"
#include "retry.h"

#include "common/tool.h"

#define PROG "gecko-fetch"
#define DEFAULT_TIMEOUT_MS 30000LL
#define DEFAULT_MAX_BACKOFF_MS 75000LL	/* a minute window plus jitter */
#define DEFAULT_RETRIES 3
#define BACKOFF_BASE_MS 1000L

/* Set after a stop signal: callers unwind without another message. */
#define STOPPED (-2)
/* stdout is gone or full: no point in polling on. */
#define WRITE_FAILED (-3)

struct opts {
	struct gecko_list ids;		/* operands, --ids, --ids-file */
	struct gecko_list vs;
	long long top, first;		/* 0: not asked */
	int all;
	int market;
	enum gecko_stale stale;
	int table;
	long long every_ms, count;
	int plan_set;
	enum gecko_plan plan;
	const char *key_file;
	const char *base_url;
	int rate;			/* 0: the plan's, a minute */
	long long rate_window_ms;	/* for rate */
	long long credits;		/* -1: the plan's */
	long long max_backoff_ms, timeout_ms;
	int retries;
	int verbose, quiet;
	struct tool_common common;	/* parsed; -q and -v copied above */
	struct gecko_format fmt;	/* vs, market, stale, table */
};

/* What one session with CoinGecko needs. */
struct fetcher {
	const struct opts *o;
	struct http_multi *http;	/* one transfer at a time, see call() */
	enum gecko_plan plan;
	char *key;			/* wiped on free */
	char *base;
	struct http_field hdr[1];
	size_t nhdr;
	struct gecko_rate rate;
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


/* ---- small helpers ---- */

/*
 * Sleeps in short steps so that a stop signal ends the wait promptly even
 * when it arrives between the flag check and the sleep.
 */
static int
sleep_ms(long long ms)
{
	long long end = cli_mono_ms() + ms, left;

	while (!cli_stop_signal && (left = end - cli_mono_ms()) > 0)
		poll(NULL, 0, left > 100 ? 100 : (int)left);
	return cli_stop_signal ? STOPPED : 0;
}

/* Waits for a wall-clock instant (the clock may be stepped meanwhile). */
static int
sleep_until_wall(long long when_ms)
{
	long long left;

	while (!cli_stop_signal && (left = when_ms - cli_wall_ms()) > 0)
		poll(NULL, 0, left > 100 ? 100 : (int)left);
	return cli_stop_signal ? STOPPED : 0;
}

/* ---- keys, plans and calls ---- */

/* The client's old name, until it moves to lib/gecko. */
#define trace_line tool_trace_line

static int
fetcher_init(struct fetcher *f, const struct opts *o, struct errbuf *err)
{
	struct http_options ho;
	const char *base;
	size_t n;
	int rc;

	memset(f, 0, sizeof(*f));
	f->o = o;
	if (gecko_key_resolve(o->plan_set, o->plan, o->key_file, &f->plan,
	    &f->key, err) == -1)
		return -1;
	base = o->base_url ? o->base_url : gecko_plan_url(f->plan);
	n = strlen(base);
	while (n > 0 && base[n - 1] == '/')
		n--;
	if ((f->base = strndup(base, n)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (f->key != NULL) {
		f->hdr[0].name = gecko_plan_header(f->plan);
		f->hdr[0].value = f->key;
		f->nhdr = 1;
	}
	if (o->rate > 0)
		rc = gecko_rate_init(&f->rate, o->rate, o->rate_window_ms);
	else
		rc = gecko_rate_init(&f->rate, gecko_plan_rate(f->plan),
		    60000);
	if (rc == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	memset(&ho, 0, sizeof(ho));
	ho.user_agent = PROG "/" COINPIPE_VERSION;
	ho.timeout_ms = (long)o->timeout_ms;
	ho.trace = o->verbose >= 2 ? 2 : 0;
	ho.trace_fn = trace_line;
	if ((f->http = http_multi_new(&ho, 1, err)) == NULL)
		return -1;
	if (o->verbose)
		fprintf(stderr, PROG ": plan %s, %s, %d calls/%s\n",
		    gecko_plan_name(f->plan), f->base, f->rate.n,
		    f->rate.window_ms == 1000 ? "s" : "min");
	return 0;
}

static void
fetcher_free(struct fetcher *f)
{
	http_multi_free(f->http);
	gecko_key_free(f->key);
	free(f->base);
	gecko_rate_free(&f->rate);
}

/*
 * One request, driven in slices of 100 ms so that SIGINT/SIGTERM end the
 * program promptly even while a server stalls: a blocking libcurl call
 * would only return at --timeout. Returns what http_client_do returns, or
 * STOPPED (the transfer is abandoned when the handle is freed).
 */
static int
call(struct fetcher *f, const struct http_request *req,
    struct http_response *r, struct errbuf *err)
{
	struct http_multi_done d;
	int n;

	if (http_multi_add(f->http, req, NULL, err) == -1)
		return -1;
	while ((n = http_multi_wait(f->http, -1, 100, &d, 1, NULL,
	    err)) == 0)
		if (cli_stop_signal)
			return STOPPED;
	if (n < 0)
		return -1;
	*r = d.resp;
	if (d.rc != 0)
		*err = d.err;
	return d.rc;
}

/*
 * How long to wait before retrying a failed call; -1: do not retry. A 429
 * is throttling: the server's Retry-After, else the next rate window, is
 * honoured up to --max-backoff like every other wait.
 */
static long long
retry_wait(const struct fetcher *f, const struct http_response *r, int rc,
    int attempt, const struct errbuf *err)
{
	struct retry_policy p = { BACKOFF_BASE_MS, BACKOFF_BASE_MS,
		(long)f->o->max_backoff_ms, (long)f->o->max_backoff_ms };
	int throttled = rc == 0 && r->status == 429;
	long ra = -1;

	if (err->kind != ERR_TEMP || attempt >= f->o->retries)
		return -1;
	if (throttled) {
		ra = http_retry_after_ms(http_response_header(r,
		    "Retry-After"), (long)time(NULL));
		if (ra < 0)
			ra = gecko_rate_window_ms(cli_wall_ms(),
			    retry_jitter());
	}
	return retry_delay_ms(&p, attempt, throttled, ra, retry_jitter());
}

/* One call with the limiter and retries. path is "/simple/price?...". */
static int
fetch(struct fetcher *f, const char *path, struct http_response *r,
    struct errbuf *err)
{
	struct http_request req;
	struct buf url = BUF_INIT;
	long long wait;
	int attempt, rc = -1;

	if (buf_printf(&url, "%s%s", f->base, path) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url.data;
	req.headers = f->hdr;
	req.nheaders = f->nhdr;
	for (attempt = 0;; attempt++) {
		if (sleep_ms(gecko_rate_wait_ms(&f->rate, cli_mono_ms())) != 0)
			goto stopped;
		http_response_free(r);
		memset(r, 0, sizeof(*r));
		errbuf_clear(err);
		if ((rc = call(f, &req, r, err)) == STOPPED)
			goto stopped;
		/* counted when the answer is in: the server saw the call
		 * at some moment before that, never after */
		gecko_rate_note(&f->rate, cli_mono_ms());
		if (f->o->verbose && rc == 0)
			fprintf(stderr, PROG ": GET %s: HTTP %ld, %zu bytes\n",
			    url.data, r->status, r->body.len);
		if (rc == 0 && r->status == 200)
			goto out;
		if (rc == 0)
			gecko_error_from_body(r->status, r->body.data,
			    r->body.len, f->plan, err);
		if ((wait = retry_wait(f, r, rc, attempt, err)) < 0)
			break;
		if (!f->o->quiet)
			fprintf(stderr, PROG ": %.*s: %s; retrying in %lld "
			    "ms\n", (int)strcspn(path, "?"), path, err->msg,
			    wait);
		if (sleep_ms(wait) != 0)
			goto stopped;
	}
	errbuf_prefix(err, "%.*s", (int)strcspn(path, "?"), path);
	rc = -1;
	goto out;
stopped:
	rc = STOPPED;
out:
	buf_free(&url);
	return rc;
}

/* ---- which coins ---- */

/* --all and --first N: /coins/list, one call, active coins in its order. */
static int
select_list(struct fetcher *f, struct gecko_coins *c, struct errbuf *err)
{
	struct http_response r;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = fetch(f, "/coins/list", &r, err)) == 0 &&
	    gecko_coins_add_json(c, r.body.data, r.body.len,
	    (size_t)f->o->first, "/coins/list", err) < 0)
		rc = -1;
	http_response_free(&r);
	return rc;
}

/* --top N: /coins/markets by market cap, 250 a page, as few pages as N
 * needs; a short page means there are no more coins. */
static int
select_top(struct fetcher *f, struct gecko_coins *c, struct errbuf *err)
{
	struct http_response r;
	struct buf path = BUF_INIT;
	size_t want = (size_t)f->o->top, per_page, page;
	long got;
	int rc = 0;

	per_page = want < GECKO_MARKETS_PER_PAGE ? want :
	    GECKO_MARKETS_PER_PAGE;
	memset(&r, 0, sizeof(r));
	for (page = 1; c->id.n < want; page++) {
		buf_reset(&path);
		buf_puts(&path, "/coins/markets?vs_currency=");
		buf_puts(&path, f->o->vs.v[0]);
		if (buf_printf(&path, "&order=market_cap_desc&per_page=%zu"
		    "&page=%zu&sparkline=false", per_page, page) == -1) {
			rc = errbuf_set(err, ERR_SYSTEM, "out of memory");
			break;
		}
		if ((rc = fetch(f, path.data, &r, err)) != 0)
			break;
		if ((got = gecko_coins_add_json(c, r.body.data, r.body.len,
		    want, "/coins/markets", err)) < 0) {
			rc = -1;
			break;
		}
		if ((size_t)got < per_page)
			break;
	}
	http_response_free(&r);
	buf_free(&path);
	return rc;
}

static int
select_coins(struct fetcher *f, struct gecko_coins *c, struct errbuf *err)
{
	const struct opts *o = f->o;
	size_t i;
	int rc = 0;

	if (o->top > 0)
		rc = select_top(f, c, err);
	else if (o->all || o->first > 0)
		rc = select_list(f, c, err);
	else
		for (i = 0; i < o->ids.n && rc == 0; i++)
			rc = gecko_list_add(&c->id, o->ids.v[i],
			    strlen(o->ids.v[i]));
	if (rc == -1 && err->kind == ERR_NONE)
		errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (rc != 0)
		return rc;
	if (gecko_coins_finish(c) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (c->id.n == 0)
		return errbuf_set(err, ERR_CONFIG, "no coins selected");
	return 0;
}

/* Says so when --every would spend more than the plan's monthly credits. */
static void
warn_credits(const struct fetcher *f, size_t calls)
{
	const struct opts *o = f->o;
	long long credits = o->credits >= 0 ? o->credits :
	    gecko_plan_credits(f->plan);
	long long month = gecko_month_calls(calls, o->every_ms, o->count);
	long long need_s;

	if (o->every_ms <= 0 || credits <= 0 || month <= credits || o->quiet)
		return;
	need_s = (GECKO_MONTH_MS / 1000 * (long long)calls + credits - 1) /
	    credits;
	fprintf(stderr, PROG ": warning: %zu call%s every %lld ms is %lld "
	    "calls in 30 days, over the %lld credits of the %s plan: poll "
	    "every %llds or more, select fewer coins, or set --credits\n",
	    calls, calls == 1 ? "" : "s", o->every_ms, month, credits,
	    gecko_plan_name(f->plan), need_s);
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

static void
report_poll(const struct opts *o, const struct gecko_poll *p)
{
	if (o->quiet)
		return;
	if (p->unknown.len > 0)
		fprintf(stderr, PROG ": unknown to CoinGecko (ids, not "
		    "symbols, are expected): %s\n", p->unknown.data);
	if (p->nulls.len > 0)
		fprintf(stderr, PROG ": %s: %ld null price%s skipped: %s\n",
		    p->ts, p->st.nulls, p->st.nulls == 1 ? "" : "s",
		    p->nulls.data);
	if (o->verbose)
		fprintf(stderr, PROG ": %s: %ld records, %ld stale skipped\n",
		    p->ts, p->st.records, p->st.stale);
}

/* One /simple/price call for the ids [lo, hi). */
static int
poll_group(struct fetcher *f, struct gecko_poll *p, size_t lo, size_t hi,
    const char *tail, struct errbuf *err)
{
	struct http_response r;
	struct buf path = BUF_INIT;
	int rc;

	memset(&r, 0, sizeof(r));
	if (gecko_price_path(p->c, lo, hi, tail, &path) == -1)
		rc = errbuf_set(err, ERR_SYSTEM, "out of memory");
	else if ((rc = fetch(f, path.data, &r, err)) == 0 &&
	    (rc = gecko_poll_add(p, lo, hi, r.body.data, r.body.len,
	    err)) == -1)
		errbuf_prefix(err, "/simple/price");
	http_response_free(&r);
	buf_free(&path);
	return rc;
}

/* Every call of one poll; what arrived is printed even if a call fails. */
static int
poll_once(struct fetcher *f, struct gecko_coins *c, const size_t *starts,
    size_t ncalls, const char *ts, struct gecko_stats *total,
    struct errbuf *err)
{
	const struct opts *o = f->o;
	struct gecko_poll p;
	struct buf tail = BUF_INIT;
	struct errbuf werr;
	size_t i;
	int rc = 0;

	gecko_poll_begin(&p, &o->fmt, c, ts);
	if (gecko_query_tail(&o->fmt, &tail) == -1)
		rc = errbuf_set(err, ERR_SYSTEM, "out of memory");
	for (i = 0; i < ncalls && rc == 0; i++)
		rc = poll_group(f, &p, starts[i],
		    i + 1 < ncalls ? starts[i + 1] : c->id.n, tail.data, err);
	gecko_poll_end(&p);
	report_poll(o, &p);
	total->records += p.st.records;
	total->nulls += p.st.nulls;
	total->stale += p.st.stale;
	total->unknown += p.st.unknown;
	if (write_out(&p.out, &werr) != 0) {
		if (rc == -1)
			fprintf(stderr, PROG ": %s: %s\n", ts, err->msg);
		*err = werr;
		rc = WRITE_FAILED;
	}
	gecko_poll_free(&p);
	buf_free(&tail);
	return rc;
}

/* ---- the program ---- */

static int
report_fail(const char *ts, const struct errbuf *err)
{
	if (ts != NULL)
		fprintf(stderr, PROG ": poll %s: %s\n", ts, err->msg);
	else
		fprintf(stderr, PROG ": %s\n", err->msg);
	return cli_exit_for(err->kind == ERR_NONE ? ERR_SYSTEM : err->kind);
}

/* Polls until --count, a signal, or a failure that will not pass. */
static int
poll_loop(struct fetcher *f, struct gecko_coins *c, const size_t *starts,
    size_t ncalls, struct errbuf *err)
{
	const struct opts *o = f->o;
	struct gecko_stats total = { 0, 0, 0, 0 };
	long long slot = -1, ts_ms, n;
	long failed = 0, polls = 0;
	enum errbuf_kind worst = ERR_NONE;
	char ts[40];
	int rc;

	for (n = 0; o->count == 0 || n < o->count; n++) {
		if (o->every_ms > 0) {
			slot = gecko_next_slot_ms(cli_wall_ms(), o->every_ms,
			    slot < 0 ? -1 : slot + o->every_ms);
			if (sleep_until_wall(slot) != 0)
				break;
			ts_ms = slot;
		} else
			ts_ms = cli_wall_ms() / 1000 * 1000;
		gecko_iso8601(ts_ms, ts, sizeof(ts));
		errbuf_clear(err);
		rc = poll_once(f, c, starts, ncalls, ts, &total, err);
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

static int
run(const struct opts *o)
{
	struct fetcher f;
	struct gecko_coins c;
	struct errbuf err;
	size_t *starts = NULL, ncalls;
	int rc, code;

	memset(&c, 0, sizeof(c));
	errbuf_clear(&err);
	if (cli_signals_install() == -1) {
		errbuf_set(&err, ERR_SYSTEM, "sigaction: %s", strerror(errno));
		code = report_fail(NULL, &err);
		goto out_nofetcher;
	}
	if (fetcher_init(&f, o, &err) == -1) {
		code = report_fail(NULL, &err);
		goto out;
	}
	if ((rc = select_coins(&f, &c, &err)) != 0) {
		code = rc == STOPPED ? EXIT_SIGNAL_BASE + cli_stop_signal :
		    report_fail(NULL, &err);
		goto out;
	}
	if ((starts = calloc(c.id.n + 1, sizeof(size_t))) == NULL ||
	    (ncalls = gecko_plan_calls(f.base, &c, &o->fmt, starts,
	    &err)) == 0) {
		if (starts == NULL)
			errbuf_set(&err, ERR_SYSTEM, "out of memory");
		code = report_fail(NULL, &err);
		goto out;
	}
	if (o->verbose)
		fprintf(stderr, PROG ": %zu coin%s, %zu call%s a poll\n",
		    c.id.n, c.id.n == 1 ? "" : "s", ncalls,
		    ncalls == 1 ? "" : "s");
	warn_credits(&f, ncalls);
	code = poll_loop(&f, &c, starts, ncalls, &err);
out:
	fetcher_free(&f);
out_nofetcher:
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

/* Reads ids one per line or comma-separated; '#' starts a comment. */
static int
read_ids_file(const char *path, struct gecko_list *ids, struct errbuf *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (f == NULL)
		return errbuf_set(err, ERR_USAGE, "%s: %s", path,
		    strerror(errno));
	while (rc == 0 && getline(&line, &cap, f) != -1)
		if (gecko_list_split(ids, line) == -1)
			rc = errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (rc == 0 && ferror(f))
		rc = errbuf_set(err, ERR_USAGE, "%s: %s", path,
		    strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}

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
		o->rate_window_ms = 60000;
	else if (strcmp(s + n, "/s") == 0)
		o->rate_window_ms = 1000;
	else
		goto bad;
	memcpy(num, s, n);
	num[n] = '\0';
	if (cli_parse_llong(num, 1, 100000, &v, err) == -1)
		return -1;
	o->rate = (int)v;
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
		if (read_ids_file(arg, &o->ids, &err) == -1)
			return tool_usage_error("--ids-file %s", err.msg);
		return 0;
	case 't':
		if (cli_parse_llong(arg, 1, 100000, &o->top, &err) == -1)
			return tool_usage_error("--top: %s", err.msg);
		return 0;
	case 'a': o->all = 1; return 0;
	case OPT_FIRST:
		if (cli_parse_llong(arg, 1, 10000000, &o->first, &err) == -1)
			return tool_usage_error("--first: %s", err.msg);
		return 0;
	case 'c':
		gecko_list_free(&o->vs);
		if (gecko_list_split(&o->vs, arg) == -1)
			return EXIT_TEMPORARY;
		return 0;
	case 'm': o->market = 1; return 0;
	case 's':
		if (parse_choice(arg, stales, &i) == -1)
			return tool_usage_error("--stale: '%s': expected skip, "
			    "mark or keep", arg);
		o->stale = (enum gecko_stale)i;
		return 0;
	case 'f':
		if (parse_choice(arg, formats, &o->table) == -1)
			return tool_usage_error("--format: '%s': expected json "
			    "or table", arg);
		return 0;
	case 'e':
		if (cli_parse_duration_ms(arg, &o->every_ms, &err) == -1)
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
			return tool_usage_error("--plan: '%s': expected public, "
			    "demo or pro", arg);
		o->plan = (enum gecko_plan)i;
		o->plan_set = 1;
		return 0;
	case 'k': o->key_file = arg; return 0;
	case 'b': o->base_url = arg; return 0;
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
		o->retries = (int)v;
		return 0;
	case OPT_MAX_BACKOFF:
	case OPT_TIMEOUT:
		if (cli_parse_duration_ms(arg, ch == OPT_TIMEOUT ?
		    &o->timeout_ms : &o->max_backoff_ms, &err) == -1)
			return tool_usage_error("%s: %s", ch == OPT_TIMEOUT ?
			    "--timeout" : "--max-backoff", err.msg);
		return 0;
	}
	return -1;
}

/* One of gecko-fetch's own options; returns 0 or an exit code. */
static int
parse_one(struct opts *o, int ch, const char *arg)
{
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
	int sources = (o->ids.n > 0) + (o->top > 0) + o->all + (o->first > 0);
	size_t i, u;
	char *p;

	if (sources == 0)
		return tool_usage_error("no coins: give ids, --ids, --ids-file, "
		    "--top, --all or --first");
	if (sources > 1)
		return tool_usage_error("choose one of ids, --top, --all and "
		    "--first");
	if (o->key_file != NULL && o->plan_set && o->plan == GECKO_PUBLIC)
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
				return tool_usage_error("--vs: '%s': currencies "
				    "are codes like usd, eur, btc",
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
	if (o->base_url != NULL && strncmp(o->base_url, "http://", 7) != 0 &&
	    strncmp(o->base_url, "https://", 8) != 0)
		return tool_usage_error("--base-url: '%s': expected an "
		    "http:// or https:// URL", o->base_url);
	return 0;
}

int
main(int argc, char *argv[])
{
	struct opts o;
	int ch, code = 0;

	memset(&o, 0, sizeof(o));
	tool_init(PROG, usage, &o.common);
	o.credits = -1;
	o.retries = DEFAULT_RETRIES;
	o.max_backoff_ms = DEFAULT_MAX_BACKOFF_MS;
	o.timeout_ms = DEFAULT_TIMEOUT_MS;
	opterr = 0;	/* our own words, with PROG, not argv[0] */
	while (code == 0 && !o.common.done && (ch = getopt_long(argc, argv,
	    ":i:I:t:ac:ms:f:e:n:p:k:b:r:" TOOL_SHORTOPTS, longopts,
	    NULL)) != -1) {
		code = tool_common_option(&o.common, ch, optarg, argv);
		if (code == TOOL_NOT_COMMON)
			code = parse_one(&o, ch, optarg);
	}
	o.verbose = o.common.verbose;
	o.quiet = o.common.quiet;
	for (; code == 0 && !o.common.done && optind < argc; optind++)
		if (gecko_list_split(&o.ids, argv[optind]) == -1)
			code = EXIT_TEMPORARY;
	if (code == 0 && !o.common.done)
		code = validate(&o);
	o.fmt.vs = &o.vs;
	o.fmt.market = o.market;
	o.fmt.stale = o.stale;
	o.fmt.table = o.table;
	if (code == 0 && !o.common.done)
		code = run(&o);
	gecko_list_free(&o.ids);
	gecko_list_free(&o.vs);
	return code;
}
