/* Unit tests of lib/gecko: request planning, schedule, limiter, errors,
 * and the number-preserving /simple/price scanner. */
#include <stdlib.h>
#include <string.h>

#include "gecko.h"
#include "ndjson.h"
#include "sigv4.h"
#include "tap.h"

static void
test_groups(void)
{
	size_t lens[] = { 7, 8, 6, 9, 3 }, starts[5];

	/* "7,8" is 16 B, "6,9,3" is 20 B */
	is_int(gecko_plan_groups(lens, 5, 20, starts), 2, "groups: 2 of 20 B");
	is_int(starts[1], 2, "groups: second starts at id 2");
	is_int(gecko_plan_groups(lens, 5, 19, starts), 3, "groups: 3 of 19 B");
	is_int(starts[2], 4, "groups: third starts at id 4");
	is_int(gecko_plan_groups(lens, 5, 1000, starts), 1,
	    "groups: all in one when they fit");
	is_int(gecko_plan_groups(lens, 5, 16, starts), 3,
	    "groups: exact fit includes the comma");
	is_int(gecko_plan_groups(lens, 5, 5, starts), 5,
	    "groups: ids longer than the budget still get a call");
	is_int(gecko_plan_groups(lens, 0, 5, starts), 0, "groups: none");
}

/* ids go through sigv4_uri_encode, the one URL encoder, with the bytes
 * gecko_urlenc used to give them. */
static void
enc_is(const char *id, const char *want, const char *name)
{
	char *got = sigv4_uri_encode(id, strlen(id), 0);

	is_str(got, want, name);
	free(got);
}

static void
test_urlenc(void)
{
	enc_is("usd-coin_x.y~", "usd-coin_x.y~", "urlenc: unreserved");
	enc_is("a b,\xc3\xa9", "a%20b%2C%C3%A9", "urlenc: space comma utf-8");
	enc_is("a/b+c", "a%2Fb%2Bc", "urlenc: '/' and '+' encoded");
	enc_is("wrapped-bitcoin", "wrapped-bitcoin", "urlenc: an id");
}

static void
test_schedule(void)
{
	is_int(gecko_next_slot_ms(90500, 1000, -1), 91000, "slot: next second");
	is_int(gecko_next_slot_ms(91000, 1000, -1), 91000, "slot: on a slot");
	is_int(gecko_next_slot_ms(91000, 1000, 92000), 92000,
	    "slot: never before the one after the previous poll");
	is_int(gecko_next_slot_ms(95300, 1000, 92000), 96000,
	    "slot: late polls skip to the next slot, no burst");
	is_int(gecko_next_slot_ms(100, 90000, -1), 90000, "slot: 90 s");
	is_int(gecko_month_calls(2, 90000, 0), 57600,
	    "credits: 90 s x 2 calls a month");
	is_int(gecko_month_calls(2, 90000, 10), 20, "credits: --count caps");
	is_int(gecko_rate_window_ms(125000, 0), 55000,
	    "429: to the next minute");
	is_int(gecko_rate_window_ms(125000, 0x80000000u), 57500,
	    "429: plus jitter");
	is_int(gecko_rate_window_ms(120000, UINT32_MAX), 64999,
	    "429: on the minute: a whole minute, jitter below 5 s");
}

static void
test_rate(void)
{
	struct gecko_rate r;

	ok(gecko_rate_init(&r, 0, 60000) == -1, "rate: 0 calls refused");
	ok(gecko_rate_init(&r, 2, 60000) == 0, "rate: init");
	is_int(gecko_rate_wait_ms(&r, 0), 0, "rate: first call free");
	gecko_rate_note(&r, 1000);
	gecko_rate_note(&r, 2000);
	is_int(gecko_rate_wait_ms(&r, 3000), 58000,
	    "rate: third waits for the oldest to leave the window");
	gecko_rate_note(&r, 61000);
	is_int(gecko_rate_wait_ms(&r, 61000), 1000, "rate: sliding window");
	is_int(gecko_rate_wait_ms(&r, 62500), 0, "rate: free again");
	gecko_rate_free(&r);
	ok(gecko_rate_init(&r, 1, 1000) == 0, "rate: per second");
	gecko_rate_note(&r, 5000);
	is_int(gecko_rate_wait_ms(&r, 5200), 800, "rate: 1/s waits 800 ms");
	gecko_rate_free(&r);
}

static void
test_iso(void)
{
	char buf[40];

	gecko_iso8601(1718265600000LL, buf, sizeof(buf));
	is_str(buf, "2024-06-13T08:00:00Z", "iso: whole seconds");
	gecko_iso8601(1718265600250LL, buf, sizeof(buf));
	is_str(buf, "2024-06-13T08:00:00.250Z", "iso: milliseconds");
}

static void
err_is(long status, const char *body, enum gecko_plan plan, int kind,
    const char *want, const char *name)
{
	struct errbuf e;

	errbuf_clear(&e);
	gecko_error_from_body(status, body, strlen(body), plan, &e);
	is_str(e.msg, want, name);
	is_int(e.kind, kind, name);
}

static void
test_errors(void)
{
	err_is(401, "{\"status\":{\"error_code\":10011,\"error_message\":"
	    "\"You have provided incorrect API key credentials.\"}}",
	    GECKO_PRO, ERR_CONFIG, "HTTP 401 error 10011: You have provided "
	    "incorrect API key credentials.; the key is not valid on the Pro "
	    "root: check it for typos or revocation, or if it is a Demo key "
	    "use --plan demo (or COINGECKO_DEMO_API_KEY instead of "
	    "COINGECKO_PRO_API_KEY)", "error: 10011 says what to change");
	err_is(401, "{\"error\":{\"status\":{\"error_code\":10010,"
	    "\"error_message\":\"wrong\\nkey\"}}}", GECKO_DEMO, ERR_CONFIG,
	    "HTTP 401 error 10010: wrong key; the key is not valid on the "
	    "Demo root: check it for typos or revocation, or if it is a Pro "
	    "key use --plan pro (or COINGECKO_PRO_API_KEY instead of "
	    "COINGECKO_DEMO_API_KEY)", "error: nested status shape");
	err_is(401, "{\"status\":{\"error_code\":10010,\"error_message\":"
	    "\"x\"}}", GECKO_PRO, ERR_CONFIG,
	    "HTTP 401 error 10010: x; the Pro key went to the Demo root: "
	    "check --base-url (Pro is https://pro-api.coingecko.com/api/v3)",
	    "error: 10010 on the Pro plan blames the URL");
	err_is(429, "{\"status\":{\"error_code\":429,\"error_message\":"
	    "\"You've exceeded the Rate Limit.\"}}", GECKO_DEMO, ERR_TEMP,
	    "HTTP 429: You've exceeded the Rate Limit.",
	    "error: 429 temporary");
	err_is(404, "{\"error\":\"coin not found\"}", GECKO_DEMO, ERR_CONFIG,
	    "HTTP 404: coin not found", "error: flat shape");
	err_is(403, "<!DOCTYPE html>\n<html><head><title>Access denied | "
	    "api.coingecko.com used Cloudflare to restrict access</title>",
	    GECKO_PUBLIC, ERR_CONFIG, "HTTP 403: refused by CoinGecko's CDN "
	    "(HTML page: \"Access denied | api.coingecko.com used Cloudflare "
	    "to restrict access\"); this address or client is blocked or "
	    "throttled, wait or change network", "error: Cloudflare HTML");
	err_is(502, "bad\r\ngateway", GECKO_DEMO, ERR_TEMP,
	    "HTTP 502: bad gateway", "error: plain text on one line");
	err_is(500, "", GECKO_DEMO, ERR_TEMP, "HTTP 500", "error: empty body");
}

struct collect {
	char out[512];
	int calls;
};

static int
collect_fn(void *arg, struct gecko_span id, struct gecko_span key,
    struct gecko_span value)
{
	struct collect *c = arg;
	size_t n = strlen(c->out);

	snprintf(c->out + n, sizeof(c->out) - n, "%.*s/%.*s=%.*s;",
	    (int)id.n, id.p, (int)key.n, key.p, (int)value.n, value.p);
	c->calls++;
	return 0;
}

static void
scan_is(const char *body, int rc, const char *want, const char *name)
{
	struct collect c;
	struct errbuf e;
	int got;

	memset(&c, 0, sizeof(c));
	errbuf_clear(&e);
	got = gecko_scan_prices(body, strlen(body), collect_fn, &c, &e);
	is_int(got, rc, name);
	is_str(rc == 0 ? c.out : e.msg, want, name);
}

/* {"a":{"x":[[...1...]]}} with k arrays: the 1 is at depth 2 + k. */
static int
scan_nested(size_t k, struct errbuf *e)
{
	struct collect c;
	char *body = malloc(2 * k + 32);
	size_t i, n = 0;
	int rc;

	if (body == NULL)
		return -2;
	n += (size_t)sprintf(body, "{\"a\":{\"x\":");
	for (i = 0; i < k; i++)
		body[n++] = '[';
	body[n++] = '1';
	for (i = 0; i < k; i++)
		body[n++] = ']';
	n += (size_t)sprintf(body + n, "}}");
	memset(&c, 0, sizeof(c));
	errbuf_clear(e);
	rc = gecko_scan_prices(body, n, collect_fn, &c, e);
	free(body);
	return rc;
}

static void
test_scan_depth(void)
{
	struct errbuf e;

	/* one limit, ndjson's, counted as jansson counts (ndjson.h) */
	is_int(scan_nested(100, &e), 0, "scan: 100 levels in a value (was "
	    "refused beyond 64)");
	is_int(scan_nested(NDJSON_MAX_DEPTH - 3, &e), 0,
	    "scan: deepest value at NDJSON_MAX_DEPTH - 1");
	is_int(scan_nested(NDJSON_MAX_DEPTH - 2, &e), -1,
	    "scan: NDJSON_MAX_DEPTH refused");
	ok(strstr(e.msg, "nesting deeper than 2048") != NULL,
	    "scan: nesting message");
}

static void
test_scan(void)
{
	scan_is("{\"shiba-inu\":{\"usd\":2.492e-05,\"eur\":0.00095032},"
	    " \"bitcoin\" : { \"usd\" : 67187 , \"last_updated_at\":1718265600,"
	    "\"x\":null,\"y\":[1,{\"a\":\"\\u00e9\"}]}}", 0,
	    "shiba-inu/usd=2.492e-05;shiba-inu/eur=0.00095032;"
	    "bitcoin/usd=67187;bitcoin/last_updated_at=1718265600;"
	    "bitcoin/x=null;bitcoin/y=[1,{\"a\":\"\\u00e9\"}];",
	    "scan: raw number text kept");
	scan_is("{}", 0, "", "scan: empty map");
	scan_is(" {\"a\":{}} \n", 0, "", "scan: empty coin");
	scan_is("{\"a\":{\"usd\":01}}", -1,
	    "invalid JSON: leading zero in number at byte 13", "scan: leading 0");
	scan_is("{\"a\":{\"usd\":1.}}", -1,
	    "invalid JSON: digit expected after '.' at byte 14", "scan: bad fraction");
	scan_is("{\"a\":[1]}", -1,
	    "invalid JSON: object expected for a coin at byte 5",
	    "scan: coin must be an object");
	scan_is("{\"a\":{\"usd\":1}} x", -1,
	    "invalid JSON: end of text expected after the value "
	    "at byte 16", "scan: trailing data");
	scan_is("{\"a\":{\"usd\":\"x", -1,
	    "invalid JSON: unterminated string at byte 14", "scan: truncated");
	scan_is("<html>", -1, "invalid JSON: '{' expected at byte 0",
	    "scan: HTML");
	scan_is("{\"a\":{\"n\":\"caf\xc3\xa9 \xe6\x97\xa5\"}}", 0,
	    "a/n=\"caf\xc3\xa9 \xe6\x97\xa5\";", "scan: UTF-8 kept");
	scan_is("{\"a\":{\"n\":\"\xff\"}}", -1,
	    "invalid JSON: invalid UTF-8 byte 0xFF at byte 11",
	    "scan: invalid UTF-8 refused");
	scan_is("{\"a\":{\"n\":\"\xc0\xaf\"}}", -1,
	    "invalid JSON: invalid UTF-8 byte 0xC0 at byte 11",
	    "scan: overlong UTF-8 refused");
	scan_is("{\"a\":{\"n\":\"\xed\xa0\x80\"}}", -1,
	    "invalid JSON: invalid UTF-8 byte 0xED at byte 11",
	    "scan: UTF-8 surrogate refused");
	/* ndjson's rules since the scanner is built on it (issue 13) */
	scan_is("{\"a\":{\"x\\u0000\":1}}", -1,
	    "invalid JSON: \\u0000 not allowed at byte 8",
	    "scan: \\u0000 in a key refused");
	scan_is("{\"a\\u0000\":{\"usd\":1}}", -1,
	    "invalid JSON: \\u0000 not allowed at byte 3",
	    "scan: \\u0000 in a coin id refused");
	scan_is("{\"a\":{\"\\ud800x\":1}}", -1,
	    "invalid JSON: lone surrogate in \\u escape at byte 7",
	    "scan: lone high surrogate in a key refused");
	scan_is("{\"a\":{\"\\udc00\":1}}", -1,
	    "invalid JSON: lone surrogate in \\u escape at byte 7",
	    "scan: lone low surrogate in a key refused");
	scan_is("{\"a\":{\"usd\":\"\\ud83d\\ude00\"}}", 0,
	    "a/usd=\"\\ud83d\\ude00\";", "scan: surrogate pair kept");
	scan_is("{\"bit\\u0063oin\":{\"us\\u0064\":1}}", 0,
	    "bitcoin/usd=1;", "scan: escaped id and key decoded");
}

int
main(void)
{
	test_groups();
	test_urlenc();
	test_schedule();
	test_rate();
	test_iso();
	test_errors();
	test_scan();
	test_scan_depth();
	return tap_done();
}
