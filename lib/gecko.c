#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "gecko.h"
#include "ndjson.h"

const char *
gecko_plan_name(enum gecko_plan p)
{
	switch (p) {
	case GECKO_DEMO: return "demo";
	case GECKO_PRO: return "pro";
	case GECKO_PUBLIC: break;
	}
	return "public";
}

const char *
gecko_plan_url(enum gecko_plan p)
{
	return p == GECKO_PRO ? GECKO_PRO_URL : GECKO_DEMO_URL;
}

const char *
gecko_plan_header(enum gecko_plan p)
{
	switch (p) {
	case GECKO_DEMO: return GECKO_DEMO_HEADER;
	case GECKO_PRO: return GECKO_PRO_HEADER;
	case GECKO_PUBLIC: break;
	}
	return NULL;
}

int
gecko_plan_rate(enum gecko_plan p)
{
	switch (p) {
	case GECKO_DEMO: return GECKO_DEMO_RATE;
	case GECKO_PRO: return GECKO_PRO_RATE;
	case GECKO_PUBLIC: break;
	}
	return GECKO_PUBLIC_RATE;
}

long
gecko_plan_credits(enum gecko_plan p)
{
	switch (p) {
	case GECKO_DEMO: return GECKO_DEMO_CREDITS;
	case GECKO_PRO: return GECKO_PRO_CREDITS;
	case GECKO_PUBLIC: break;
	}
	return 0;
}

size_t
gecko_plan_groups(const size_t *lens, size_t n, size_t budget, size_t *starts)
{
	size_t i, ngroups = 0, used = 0;

	/*
	 * Greedy filling is optimal here: the groups keep the selection's
	 * order, and closing a group later never leaves less room after it.
	 */
	for (i = 0; i < n; i++) {
		size_t need = lens[i] + (used > 0 ? 1 : 0);

		if (ngroups == 0 || used + need > budget) {
			starts[ngroups++] = i;
			used = lens[i];
		} else
			used += need;
	}
	return ngroups;
}

long long
gecko_next_slot_ms(long long now_ms, long long every_ms, long long after_ms)
{
	long long slot;

	if (every_ms <= 0)
		return now_ms;
	slot = (now_ms + every_ms - 1) / every_ms * every_ms;
	if (after_ms >= 0 && slot < after_ms)
		slot = after_ms;
	return slot;
}

int
gecko_rate_init(struct gecko_rate *r, int n, long long window_ms)
{
	memset(r, 0, sizeof(*r));
	if (n <= 0 || window_ms <= 0)
		return -1;
	r->n = n;
	r->window_ms = window_ms;
	r->ring = calloc((size_t)n, sizeof(r->ring[0]));
	return r->ring == NULL ? -1 : 0;
}

void
gecko_rate_free(struct gecko_rate *r)
{
	if (r == NULL)
		return;
	free(r->ring);
	r->ring = NULL;
}

long long
gecko_rate_wait_ms(const struct gecko_rate *r, long long now_ms)
{
	long long until;

	if (r->ring == NULL || r->used < (size_t)r->n)
		return 0;
	/* full ring: next is the oldest of the last n calls */
	until = r->ring[r->next] + r->window_ms;
	return until > now_ms ? until - now_ms : 0;
}

void
gecko_rate_note(struct gecko_rate *r, long long now_ms)
{
	if (r->ring == NULL)
		return;
	r->ring[r->next] = now_ms;
	r->next = (r->next + 1) % (size_t)r->n;
	if (r->used < (size_t)r->n)
		r->used++;
}

long
gecko_rate_window_ms(long long now_ms, uint32_t rnd)
{
	long long into = now_ms % 60000;

	if (into < 0)
		into += 60000;
	return (long)(60000 - into + (long long)(((uint64_t)rnd * 5000) >> 32));
}

long long
gecko_month_calls(size_t calls_per_poll, long long every_ms, long long count)
{
	long long polls;

	if (every_ms <= 0)
		return (long long)calls_per_poll;
	polls = (GECKO_MONTH_MS + every_ms - 1) / every_ms;
	if (count > 0 && count < polls)
		polls = count;
	return polls * (long long)calls_per_poll;
}

void
gecko_iso8601(long long ms, char *out, size_t outlen)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t n;

	gmtime_r(&t, &tm);
	n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
	if (ms % 1000 != 0)
		snprintf(out + n, outlen - n, ".%03dZ", (int)(ms % 1000));
	else
		snprintf(out + n, outlen - n, "Z");
}

/* Copies s into out on one line (controls -> space), "..." when cut. */
static void
one_line(char *out, size_t outlen, const char *s, size_t n)
{
	size_t i, o = 0;
	int space = 1;

	for (i = 0; i < n && o + 4 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isspace(c) || c < 0x20 || c == 0x7f) {
			if (!space)
				out[o++] = ' ';
			space = 1;
			continue;
		}
		out[o++] = (char)c;
		space = 0;
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	if (i < n)
		out[o++] = '.', out[o++] = '.', out[o++] = '.';
	out[o] = '\0';
}

static const char *
advice_for(long code, enum gecko_plan plan)
{
	switch (code) {
	case 10002:
		return plan == GECKO_PUBLIC ?
		    "this endpoint needs a key: set COINGECKO_DEMO_API_KEY or "
		    "COINGECKO_PRO_API_KEY, or use --api-key-file with --plan" :
		    "the key was not sent as CoinGecko expects: check --plan "
		    "and --base-url";
	case 10010:
		if (plan == GECKO_PRO)
			return "the Pro key went to the Demo root: check "
			    "--base-url (Pro is " GECKO_PRO_URL ")";
		/* CoinGecko also answers 10010 to a mistyped or revoked
		 * Demo key: both causes are named */
		return "the key is not valid on the Demo root: check it for "
		    "typos or revocation, or if it is a Pro key use --plan "
		    "pro (or COINGECKO_PRO_API_KEY instead of "
		    "COINGECKO_DEMO_API_KEY)";
	case 10011:
		if (plan == GECKO_DEMO)
			return "the Demo key went to the Pro root: check "
			    "--base-url (Demo is " GECKO_DEMO_URL ")";
		return "the key is not valid on the Pro root: check it for "
		    "typos or revocation, or if it is a Demo key use --plan "
		    "demo (or COINGECKO_DEMO_API_KEY instead of "
		    "COINGECKO_PRO_API_KEY)";
	}
	return NULL;
}

/* Finds the status object of {"status":{}} or {"error":{"status":{}}}. */
static int
json_error(const char *body, size_t len, long *code, char *msg, size_t msglen)
{
	json_t *root, *st, *e;
	const char *text = NULL;
	int found = 0;

	if ((root = json_loadb(body, len, 0, NULL)) == NULL)
		return 0;
	e = json_object_get(root, "error");
	st = json_object_get(json_is_object(e) ? e : root, "status");
	if (json_is_object(st)) {
		*code = (long)json_integer_value(json_object_get(st,
		    "error_code"));
		text = json_string_value(json_object_get(st, "error_message"));
		found = 1;
	} else if (json_is_string(e)) {
		text = json_string_value(e);
		found = 1;
	}
	if (text != NULL)
		one_line(msg, msglen, text, strlen(text));
	json_decref(root);
	return found;
}

/* The <title> of a CDN error page, which names the block (1020 etc.). */
static int
html_title(const char *body, size_t len, char *out, size_t outlen)
{
	const char *p = body, *end = body + len, *q;

	while (p < end && isspace((unsigned char)*p))
		p++;
	if (p == end || *p != '<')
		return 0;
	for (q = p; q + 7 <= end; q++)
		if (strncasecmp(q, "<title>", 7) == 0)
			break;
	out[0] = '\0';
	if (q + 7 <= end) {
		const char *t = q + 7, *e = t;

		while (e < end && *e != '<')
			e++;
		one_line(out, outlen, t, (size_t)(e - t));
	}
	return 1;
}

void
gecko_error_from_body(long status, const char *body, size_t len,
    enum gecko_plan plan, struct errbuf *err)
{
	enum errbuf_kind kind = ERR_CONFIG;
	char msg[300] = "";
	const char *advice;
	long code = 0;

	if (status == 429 || status >= 500 || status == 408)
		kind = ERR_TEMP;
	if (body == NULL)
		body = "", len = 0;
	if (json_error(body, len, &code, msg, sizeof(msg))) {
		advice = advice_for(code, plan);
		if (code != 0 && code != status)
			errbuf_set(err, kind, "HTTP %ld error %ld: %s%s%s",
			    status, code, msg, advice ? "; " : "",
			    advice ? advice : "");
		else
			errbuf_set(err, kind, "HTTP %ld: %s", status, msg);
	} else if (html_title(body, len, msg, sizeof(msg))) {
		errbuf_set(err, kind, "HTTP %ld: refused by CoinGecko's CDN "
		    "(HTML page%s%s%s); this address or client is blocked or "
		    "throttled, wait or change network", status,
		    msg[0] ? ": \"" : "", msg, msg[0] ? "\"" : "");
	} else {
		one_line(msg, sizeof(msg), body, len);
		errbuf_set(err, kind, "HTTP %ld%s%s", status,
		    msg[0] ? ": " : "", msg);
	}
}

/*
 * The messages of the price scanner give the 0-based byte offset in the
 * body ("... at byte 0"), as they always have; ndjson says "(column 1)".
 */
static int
scan_error(struct errbuf *err)
{
	static const char tag[] = " (column ";
	char *col = strstr(err->msg, tag), *end = NULL;
	unsigned long n = 0;

	if (col != NULL)
		n = strtoul(col + sizeof(tag) - 1, &end, 10);
	if (n > 0 && *end == ')')
		snprintf(col, sizeof(err->msg) - (size_t)(col - err->msg),
		    " at byte %lu", n - 1);
	err->kind = ERR_TEMP;	/* a bad answer: the next one may be fine */
	return -1;
}

/* One coin's object, already validated: {"usd":1,"usd_market_cap":2}. */
static int
scan_coin(struct ndjson_iter *it, const struct ndjson_member *coin,
    gecko_member_fn fn, void *arg, struct errbuf *err)
{
	struct gecko_span id = { coin->key, coin->key_len }, key, val;
	struct ndjson_member m;
	int rc;

	if (ndjson_obj_begin(it, coin->value.text, coin->value.len, err) == -1)
		return -1;
	while ((rc = ndjson_obj_next(it, &m, err)) == 1) {
		key.p = m.key;
		key.n = m.key_len;
		val.p = m.value.text;
		val.n = m.value.len;
		if (fn(arg, id, key, val) == -1)
			return 1;
	}
	return rc;
}

/*
 * jansson cannot be used for prices because it turns numbers into doubles,
 * and 0.00095032 would come back as 0.00095031999999999997; ndjson hands
 * out the text. The outer iteration validates each coin's value at its
 * true depth, so the second pass over a coin only re-reads valid text.
 */
int
gecko_scan_prices(const char *s, size_t n, gecko_member_fn fn, void *arg,
    struct errbuf *err)
{
	struct ndjson_iter coins = NDJSON_ITER_INIT, fields = NDJSON_ITER_INIT;
	struct ndjson_member coin;
	int rc;

	if ((rc = ndjson_obj_begin(&coins, s, n, err)) == 0)
		while ((rc = ndjson_obj_next(&coins, &coin, err)) == 1) {
			if (coin.value.kind != NDJSON_OBJECT) {
				rc = errbuf_set(err, ERR_DATA, "invalid JSON: "
				    "object expected for a coin (column %zu)",
				    (size_t)(coin.value.text - s) + 1);
				break;
			}
			if ((rc = scan_coin(&fields, &coin, fn, arg, err)) != 0)
				break;
		}
	ndjson_iter_free(&coins);
	ndjson_iter_free(&fields);
	if (rc == 1)
		return -1;	/* stopped by fn */
	return rc == -1 ? scan_error(err) : 0;
}
