#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "buf.h"
#include "geckoclient.h"
#include "retry.h"

#define BACKOFF_BASE_MS 1000L

struct gecko_client {
	struct gecko_client_config cfg;
	struct http_multi *http;	/* one transfer at a time, see call() */
	enum gecko_plan plan;
	char *key;			/* wiped on free */
	char *base;
	struct http_field hdr[1];
	size_t nhdr;
	struct gecko_rate rate;
};

/* The key's first line, trimmed; the file is the user's, so it is read
 * into memory we wipe. */
static int
read_key_file(const char *path, char **key, struct errbuf *err)
{
	char line[GECKO_MAX_KEY_LEN + 2];
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return errbuf_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, " \t\r\n");
	if (n == 0 || n > GECKO_MAX_KEY_LEN) {
		OPENSSL_cleanse(line, sizeof(line));
		return errbuf_set(err, ERR_CONFIG, "%s: %s", path,
		    n == 0 ? "no key on the first line" : "key too long");
	}
	*key = strndup(line, n);
	OPENSSL_cleanse(line, sizeof(line));
	return *key == NULL ? errbuf_set(err, ERR_SYSTEM, "out of memory") : 0;
}

int
gecko_key_resolve(int plan_set, enum gecko_plan plan, const char *key_file,
    enum gecko_plan *plan_out, char **key, struct errbuf *err)
{
	const char *pro = getenv("COINGECKO_PRO_API_KEY");
	const char *demo = getenv("COINGECKO_DEMO_API_KEY");
	const char *env = NULL;

	*key = NULL;
	if (pro != NULL && *pro == '\0')
		pro = NULL;
	if (demo != NULL && *demo == '\0')
		demo = NULL;
	if (key_file != NULL) {
		*plan_out = plan_set ? plan : GECKO_DEMO;
		return read_key_file(key_file, key, err);
	}
	if (plan_set)
		*plan_out = plan;
	else
		*plan_out = pro ? GECKO_PRO : demo ? GECKO_DEMO : GECKO_PUBLIC;
	if (*plan_out == GECKO_PRO)
		env = pro;
	else if (*plan_out == GECKO_DEMO)
		env = demo;
	if (*plan_out != GECKO_PUBLIC && env == NULL)
		return errbuf_set(err, ERR_CONFIG, "--plan %s needs a key: set "
		    "COINGECKO_%s_API_KEY or use --api-key-file",
		    gecko_plan_name(*plan_out),
		    *plan_out == GECKO_PRO ? "PRO" : "DEMO");
	if (env != NULL && (*key = strdup(env)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

void
gecko_key_free(char *key)
{
	if (key == NULL)
		return;
	OPENSSL_cleanse(key, strlen(key));
	free(key);
}

static void
logf_(const struct gecko_client *c, enum gecko_log level, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static void
logf_(const struct gecko_client *c, enum gecko_log level, const char *fmt,
    ...)
{
	char small[512], *line = small;
	va_list ap;
	int n;

	if (c->cfg.log_fn == NULL)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	/* a GET line carries the whole URL, up to GECKO_URL_MAX */
	if (n >= (int)sizeof(small) && (line = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(line, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	c->cfg.log_fn(c->cfg.log_arg, level, line != NULL ? line : small);
	if (line != small)
		free(line);
}

static int
stopped(const struct gecko_client *c)
{
	return c->cfg.stop != NULL && *c->cfg.stop;
}

/*
 * Waits until clock() reads end, in steps of at most 100 ms so that a stop
 * signal ends the wait promptly even when it arrives between the flag
 * check and the sleep, and a stepped clock is followed.
 */
static int
wait_until(const struct gecko_client *c, long long (*clock)(void),
    long long end)
{
	long long left;
	int step;

	while (!stopped(c) && (left = end - clock()) > 0) {
		step = left > 100 ? 100 : (int)left;
		if (c->cfg.nap_ms != NULL)
			c->cfg.nap_ms(step);
		else
			poll(NULL, 0, step);
	}
	return stopped(c) ? GECKO_STOPPED : 0;
}

static int
sleep_ms(const struct gecko_client *c, long long ms)
{
	return wait_until(c, c->cfg.mono_ms, c->cfg.mono_ms() + ms);
}

int
gecko_client_wait_wall(const struct gecko_client *c, long long when_ms)
{
	return wait_until(c, c->cfg.wall_ms, when_ms);
}

/* The API root without its trailing slashes, and the key's header. */
static int
client_base(struct gecko_client *c, struct errbuf *err)
{
	const char *base = c->cfg.base_url ? c->cfg.base_url :
	    gecko_plan_url(c->plan);
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	if ((c->base = strndup(base, n)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (c->key != NULL) {
		c->hdr[0].name = gecko_plan_header(c->plan);
		c->hdr[0].value = c->key;
		c->nhdr = 1;
	}
	return 0;
}

struct gecko_client *
gecko_client_new(const struct gecko_client_config *cfg, struct errbuf *err)
{
	struct gecko_client *c;
	struct http_options ho;
	int rc;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	if (gecko_key_resolve(cfg->plan_set, cfg->plan, cfg->key_file,
	    &c->plan, &c->key, err) == -1 || client_base(c, err) == -1)
		goto fail;
	if (cfg->rate > 0)
		rc = gecko_rate_init(&c->rate, cfg->rate, cfg->rate_window_ms);
	else
		rc = gecko_rate_init(&c->rate, gecko_plan_rate(c->plan), 60000);
	if (rc == -1) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto fail;
	}
	memset(&ho, 0, sizeof(ho));
	ho.user_agent = cfg->user_agent;
	ho.timeout_ms = (long)cfg->timeout_ms;
	ho.trace = cfg->trace;
	ho.trace_fn = cfg->trace_fn;
	if ((c->http = http_multi_new(&ho, 1, err)) == NULL)
		goto fail;
	logf_(c, GECKO_LOG_VERBOSE, "plan %s, %s, %d calls/%s",
	    gecko_plan_name(c->plan), c->base, c->rate.n,
	    c->rate.window_ms == 1000 ? "s" : "min");
	return c;
fail:
	gecko_client_free(c);
	return NULL;
}

void
gecko_client_free(struct gecko_client *c)
{
	if (c == NULL)
		return;
	http_multi_free(c->http);
	gecko_key_free(c->key);
	free(c->base);
	gecko_rate_free(&c->rate);
	free(c);
}

const char *
gecko_client_base(const struct gecko_client *c)
{
	return c->base;
}

/*
 * One request, driven in slices of 100 ms so that a stop signal ends the
 * program promptly even while a server stalls: a blocking libcurl call
 * would only return at the timeout. Returns what http_client_do returns,
 * or GECKO_STOPPED (the transfer is abandoned when the handle is freed).
 */
static int
call(struct gecko_client *c, const struct http_request *req,
    struct http_response *r, struct errbuf *err)
{
	struct http_multi_done d;
	int n;

	if (http_multi_add(c->http, req, NULL, err) == -1)
		return -1;
	while ((n = http_multi_wait(c->http, -1, 100, &d, 1, NULL,
	    err)) == 0)
		if (stopped(c))
			return GECKO_STOPPED;
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
 * honoured up to max_backoff_ms like every other wait.
 */
static long long
retry_wait(const struct gecko_client *c, const struct http_response *r,
    int rc, int attempt, const struct errbuf *err)
{
	struct retry_policy p = { BACKOFF_BASE_MS, BACKOFF_BASE_MS,
		(long)c->cfg.max_backoff_ms, (long)c->cfg.max_backoff_ms };
	int throttled = rc == 0 && r->status == 429;
	long long now = c->cfg.wall_ms();
	long ra = -1;

	if (err->kind != ERR_TEMP || attempt >= c->cfg.retries)
		return -1;
	if (throttled) {
		ra = http_retry_after_ms(http_response_header(r,
		    "Retry-After"), (long)(now / 1000));
		if (ra < 0)
			ra = gecko_rate_window_ms(now, retry_jitter());
	}
	/* attempt counts the calls made before this failure: 0 is the
	 * first, so this is retry number attempt + 1 */
	return retry_delay_ms(&p, attempt + 1, throttled, ra, retry_jitter());
}

/* One attempt under the limiter; as call(), with err set for an answer
 * other than 200. */
static int
attempt_once(struct gecko_client *c, const struct http_request *req,
    struct http_response *r, struct errbuf *err)
{
	int rc;

	if (sleep_ms(c, gecko_rate_wait_ms(&c->rate, c->cfg.mono_ms())) != 0)
		return GECKO_STOPPED;
	http_response_free(r);
	memset(r, 0, sizeof(*r));
	errbuf_clear(err);
	if ((rc = call(c, req, r, err)) == GECKO_STOPPED)
		return rc;
	/* counted when the answer is in: the server saw the call at some
	 * moment before that, never after */
	gecko_rate_note(&c->rate, c->cfg.mono_ms());
	if (rc == 0)
		logf_(c, GECKO_LOG_VERBOSE, "GET %s: HTTP %ld, %zu bytes",
		    req->url, r->status, r->body.len);
	if (rc == 0 && r->status != 200)
		gecko_error_from_body(r->status, r->body.data, r->body.len,
		    c->plan, err);
	return rc;
}

int
gecko_client_get(struct gecko_client *c, const char *path,
    struct http_response *r, struct errbuf *err)
{
	struct http_request req;
	struct buf url = BUF_INIT;
	int plen = (int)strcspn(path, "?"), attempt, rc;
	long long wait;

	if (buf_printf(&url, "%s%s", c->base, path) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url.data;
	req.headers = c->hdr;
	req.nheaders = c->nhdr;
	for (attempt = 0;; attempt++) {
		if ((rc = attempt_once(c, &req, r, err)) == GECKO_STOPPED ||
		    (rc == 0 && r->status == 200))
			break;
		if ((wait = retry_wait(c, r, rc, attempt, err)) < 0) {
			errbuf_prefix(err, "%.*s", plen, path);
			rc = -1;
			break;
		}
		logf_(c, GECKO_LOG_NOTICE, "%.*s: %s; retrying in %lld ms",
		    plen, path, err->msg, wait);
		if ((rc = sleep_ms(c, wait)) != 0)
			break;
	}
	buf_free(&url);
	return rc;
}

/* --all and --first N: /coins/list, one call, active coins in its order. */
static int
select_list(struct gecko_client *c, const struct gecko_selection *s,
    struct gecko_coins *coins, struct errbuf *err)
{
	struct http_response r;
	int rc;

	memset(&r, 0, sizeof(r));
	if ((rc = gecko_client_get(c, "/coins/list", &r, err)) == 0 &&
	    gecko_coins_add_json(coins, r.body.data, r.body.len,
	    (size_t)s->first, "/coins/list", err) < 0)
		rc = -1;
	http_response_free(&r);
	return rc;
}

/* --top N: /coins/markets by market cap, 250 a page, as few pages as N
 * needs; a short page means there are no more coins. */
static int
select_top(struct gecko_client *c, const struct gecko_selection *s,
    struct gecko_coins *coins, struct errbuf *err)
{
	struct http_response r;
	struct buf path = BUF_INIT;
	size_t want = (size_t)s->top, per_page, page;
	long got;
	int rc = 0;

	per_page = want < GECKO_MARKETS_PER_PAGE ? want :
	    GECKO_MARKETS_PER_PAGE;
	memset(&r, 0, sizeof(r));
	for (page = 1; coins->id.n < want; page++) {
		buf_reset(&path);
		buf_puts(&path, "/coins/markets?vs_currency=");
		buf_puts(&path, s->vs);
		if (buf_printf(&path, "&order=market_cap_desc&per_page=%zu"
		    "&page=%zu&sparkline=false", per_page, page) == -1) {
			rc = errbuf_set(err, ERR_SYSTEM, "out of memory");
			break;
		}
		if ((rc = gecko_client_get(c, path.data, &r, err)) != 0)
			break;
		if ((got = gecko_coins_add_json(coins, r.body.data,
		    r.body.len, want, "/coins/markets", err)) < 0) {
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

int
gecko_client_select(struct gecko_client *c, const struct gecko_selection *s,
    struct gecko_coins *coins, struct errbuf *err)
{
	size_t i;
	int rc = 0;

	if (s->top > 0)
		rc = select_top(c, s, coins, err);
	else if (s->all || s->first > 0)
		rc = select_list(c, s, coins, err);
	else
		for (i = 0; s->ids != NULL && i < s->ids->n && rc == 0; i++)
			rc = gecko_list_add(&coins->id, s->ids->v[i],
			    strlen(s->ids->v[i]));
	if (rc == -1 && err->kind == ERR_NONE)
		errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (rc != 0)
		return rc;
	if (gecko_coins_finish(coins) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (coins->id.n == 0)
		return errbuf_set(err, ERR_CONFIG, "no coins selected");
	return 0;
}

/* One /simple/price call for the ids [lo, hi). */
static int
poll_group(struct gecko_client *c, struct gecko_poll *p, size_t lo,
    size_t hi, const char *tail, struct errbuf *err)
{
	struct http_response r;
	struct buf path = BUF_INIT;
	int rc;

	memset(&r, 0, sizeof(r));
	if (gecko_price_path(p->c, lo, hi, tail, &path) == -1)
		rc = errbuf_set(err, ERR_SYSTEM, "out of memory");
	else if ((rc = gecko_client_get(c, path.data, &r, err)) == 0 &&
	    (rc = gecko_poll_add(p, lo, hi, r.body.data, r.body.len,
	    err)) == -1)
		errbuf_prefix(err, "/simple/price");
	http_response_free(&r);
	buf_free(&path);
	return rc;
}

int
gecko_client_poll(struct gecko_client *c, struct gecko_poll *p,
    const size_t *starts, size_t ncalls, const char *tail,
    struct errbuf *err)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < ncalls && rc == 0; i++)
		rc = poll_group(c, p, starts[i], i + 1 < ncalls ?
		    starts[i + 1] : p->c->id.n, tail, err);
	return rc;
}

void
gecko_client_check_credits(const struct gecko_client *c, size_t calls,
    long long every_ms, long long count, long long credits)
{
	long long month = gecko_month_calls(calls, every_ms, count);
	long long need_s;

	if (credits < 0)
		credits = gecko_plan_credits(c->plan);
	if (every_ms <= 0 || credits <= 0 || month <= credits)
		return;
	need_s = (GECKO_MONTH_MS / 1000 * (long long)calls + credits - 1) /
	    credits;
	logf_(c, GECKO_LOG_NOTICE, "warning: %zu call%s every %lld ms is %lld "
	    "calls in 30 days, over the %lld credits of the %s plan: poll "
	    "every %llds or more, select fewer coins, or set --credits",
	    calls, calls == 1 ? "" : "s", every_ms, month, credits,
	    gecko_plan_name(c->plan), need_s);
}

int
gecko_list_read(struct gecko_list *l, const char *path, struct errbuf *err)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	if (f == NULL)
		return errbuf_set(err, ERR_USAGE, "%s: %s", path,
		    strerror(errno));
	while (rc == 0 && getline(&line, &cap, f) != -1)
		if (gecko_list_split(l, line) == -1)
			rc = errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (rc == 0 && ferror(f))
		rc = errbuf_set(err, ERR_USAGE, "%s: %s", path,
		    strerror(errno));
	free(line);
	if (f != stdin)
		fclose(f);
	return rc;
}
