#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "gecko.h"

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

size_t
gecko_markets_pages(size_t n)
{
	return (n + GECKO_MARKETS_PER_PAGE - 1) / GECKO_MARKETS_PER_PAGE;
}

size_t
gecko_urlenc(char *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			if (out != NULL)
				out[n] = (char)c;
			n++;
			continue;
		}
		if (out != NULL) {
			out[n] = '%';
			out[n + 1] = hex[c >> 4];
			out[n + 2] = hex[c & 15];
		}
		n += 3;
	}
	if (out != NULL)
		out[n] = '\0';
	return n;
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
 * A small validating JSON scanner. It only needs to find where values start
 * and end; jansson cannot be used for prices because it turns numbers into
 * doubles and 0.00095032 would come back as 0.00095031999999999997.
 */
struct scan {
	const char *s, *end;
	const char *where;	/* first error position */
	const char *what;
};

#define SCAN_MAX_DEPTH 64

static int
scan_fail(struct scan *sc, const char *p, const char *what)
{
	if (sc->where == NULL) {
		sc->where = p;
		sc->what = what;
	}
	return -1;
}

static const char *
skip_ws(const struct scan *sc, const char *p)
{
	while (p < sc->end && (*p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'))
		p++;
	return p;
}

size_t
gecko_utf8_len(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned int cp;
	size_t len, i;

	if (n == 0 || p[0] < 0x80)
		return n == 0 ? 0 : 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates, beyond U+10FFFF */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/* p at '"'; returns the position after the closing quote. Strings are
 * copied to the output as they are, so their UTF-8 is checked here. */
static const char *
scan_string(struct scan *sc, const char *p)
{
	size_t u;

	for (p++; p < sc->end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20) {
			scan_fail(sc, p, "control character in string");
			return NULL;
		}
		if (c >= 0x80) {
			u = gecko_utf8_len(p, (size_t)(sc->end - p));
			if (u == 0) {
				scan_fail(sc, p, "invalid UTF-8 in string");
				return NULL;
			}
			p += u - 1;
			continue;
		}
		if (c != '\\')
			continue;
		if (++p >= sc->end)
			break;
		if (*p == 'u') {
			int i;

			for (i = 1; i <= 4; i++)
				if (p + i >= sc->end ||
				    !isxdigit((unsigned char)p[i])) {
					scan_fail(sc, p, "bad \\u escape");
					return NULL;
				}
			p += 4;
		} else if (*p == '\0' || strchr("\"\\/bfnrt", *p) == NULL) {
			scan_fail(sc, p, "bad escape");
			return NULL;
		}
	}
	scan_fail(sc, p, "unterminated string");
	return NULL;
}

static const char *
scan_digits(const struct scan *sc, const char *p)
{
	while (p < sc->end && isdigit((unsigned char)*p))
		p++;
	return p;
}

/* RFC 8259 number grammar. */
static const char *
scan_number(struct scan *sc, const char *p)
{
	const char *start = p, *q;

	if (p < sc->end && *p == '-')
		p++;
	if (p < sc->end && *p == '0')
		p++;
	else if ((q = scan_digits(sc, p)) > p)
		p = q;
	else
		goto bad;
	if (p < sc->end && *p == '.') {
		if ((q = scan_digits(sc, p + 1)) == p + 1)
			goto bad;
		p = q;
	}
	if (p < sc->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < sc->end && (*p == '+' || *p == '-'))
			p++;
		if ((q = scan_digits(sc, p)) == p)
			goto bad;
		p = q;
	}
	return p;
bad:
	scan_fail(sc, start, "bad number");
	return NULL;
}

static const char *scan_value(struct scan *, const char *, int);

/* p at '[' or '{'; returns the position after the closing bracket. */
static const char *
scan_container(struct scan *sc, const char *p, int depth)
{
	char close = *p == '{' ? '}' : ']';
	int first = 1;

	if (depth > SCAN_MAX_DEPTH) {
		scan_fail(sc, p, "nested too deeply");
		return NULL;
	}
	for (p = skip_ws(sc, p + 1);; first = 0) {
		if (p < sc->end && *p == close && first)
			return p + 1;
		if (close == '}') {
			if (p >= sc->end || *p != '"' ||
			    (p = scan_string(sc, p)) == NULL)
				return scan_fail(sc, p, "member name expected"),
				    NULL;
			p = skip_ws(sc, p);
			if (p >= sc->end || *p != ':')
				return scan_fail(sc, p, "':' expected"), NULL;
			p = skip_ws(sc, p + 1);
		}
		if ((p = scan_value(sc, p, depth + 1)) == NULL)
			return NULL;
		p = skip_ws(sc, p);
		if (p < sc->end && *p == close)
			return p + 1;
		if (p >= sc->end || *p != ',')
			return scan_fail(sc, p, "',' or end expected"), NULL;
		p = skip_ws(sc, p + 1);
	}
}

static const char *
scan_value(struct scan *sc, const char *p, int depth)
{
	static const char *const lits[] = { "true", "false", "null" };
	size_t i;

	if (p >= sc->end)
		return scan_fail(sc, p, "value expected"), NULL;
	if (*p == '"')
		return scan_string(sc, p);
	if (*p == '{' || *p == '[')
		return scan_container(sc, p, depth);
	if (*p == '-' || isdigit((unsigned char)*p))
		return scan_number(sc, p);
	for (i = 0; i < 3; i++) {
		size_t n = strlen(lits[i]);

		if ((size_t)(sc->end - p) >= n && memcmp(p, lits[i], n) == 0)
			return p + n;
	}
	return scan_fail(sc, p, "value expected"), NULL;
}

/* One coin's object: {"usd":1,"usd_market_cap":2,...}. */
static const char *
scan_coin(struct scan *sc, const char *p, struct gecko_span id,
    gecko_member_fn fn, void *arg)
{
	struct gecko_span key, val;
	const char *q;

	if (p >= sc->end || *p != '{')
		return scan_fail(sc, p, "object expected for a coin"), NULL;
	p = skip_ws(sc, p + 1);
	if (p < sc->end && *p == '}')
		return p + 1;
	for (;;) {
		if (p >= sc->end || *p != '"' ||
		    (q = scan_string(sc, p)) == NULL)
			return scan_fail(sc, p, "member name expected"), NULL;
		key.p = p + 1;
		key.n = (size_t)(q - p - 2);
		p = skip_ws(sc, q);
		if (p >= sc->end || *p != ':')
			return scan_fail(sc, p, "':' expected"), NULL;
		p = skip_ws(sc, p + 1);
		if ((q = scan_value(sc, p, 2)) == NULL)
			return NULL;
		val.p = p;
		val.n = (size_t)(q - p);
		if (fn(arg, id, key, val) == -1)
			return scan_fail(sc, p, "stopped"), NULL;
		p = skip_ws(sc, q);
		if (p < sc->end && *p == '}')
			return p + 1;
		if (p >= sc->end || *p != ',')
			return scan_fail(sc, p, "',' or '}' expected"), NULL;
		p = skip_ws(sc, p + 1);
	}
}

static const char *
scan_map(struct scan *sc, const char *p, gecko_member_fn fn, void *arg)
{
	struct gecko_span id;
	const char *q;

	if (p >= sc->end || *p != '{')
		return scan_fail(sc, p, "'{' expected"), NULL;
	p = skip_ws(sc, p + 1);
	if (p < sc->end && *p == '}')
		return p + 1;
	for (;;) {
		if (p >= sc->end || *p != '"' ||
		    (q = scan_string(sc, p)) == NULL)
			return scan_fail(sc, p, "coin id expected"), NULL;
		id.p = p + 1;
		id.n = (size_t)(q - p - 2);
		p = skip_ws(sc, q);
		if (p >= sc->end || *p != ':')
			return scan_fail(sc, p, "':' expected"), NULL;
		p = skip_ws(sc, p + 1);
		if ((p = scan_coin(sc, p, id, fn, arg)) == NULL)
			return NULL;
		p = skip_ws(sc, p);
		if (p < sc->end && *p == '}')
			return p + 1;
		if (p >= sc->end || *p != ',')
			return scan_fail(sc, p, "',' or '}' expected"), NULL;
		p = skip_ws(sc, p + 1);
	}
}

int
gecko_scan_prices(const char *s, size_t n, gecko_member_fn fn, void *arg,
    struct errbuf *err)
{
	struct scan sc = { s, s + n, NULL, NULL };
	const char *p;

	p = scan_map(&sc, skip_ws(&sc, s), fn, arg);
	if (p != NULL && skip_ws(&sc, p) != sc.end)
		scan_fail(&sc, p, "trailing data");
	if (sc.where == NULL)
		return 0;
	if (strcmp(sc.what, "stopped") == 0)
		return -1;
	return errbuf_set(err, ERR_TEMP, "invalid JSON: %s at byte %zu",
	    sc.what, (size_t)(sc.where - s));
}
