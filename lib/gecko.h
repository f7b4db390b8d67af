/*
 * gecko: the pure parts of talking to the CoinGecko v3 API: how many calls a
 * selection of coins costs and how to split it, when to poll, how long to
 * wait after a 429, how to read an error body, and a scanner that hands over
 * the exact text of every number in a /simple/price answer.
 * No I/O, no clock, no getenv: time and randomness are parameters.
 * jansson: only for error bodies, a small tree read for two members;
 * prices go through ndjson, whose text keeps every digit.
 */
#ifndef COINPIPE_GECKO_H
#define COINPIPE_GECKO_H

#include <stddef.h>

#include <stdint.h>

#include "errbuf.h"

#define GECKO_DEMO_URL "https://api.coingecko.com/api/v3"
#define GECKO_PRO_URL "https://pro-api.coingecko.com/api/v3"
#define GECKO_DEMO_HEADER "x-cg-demo-api-key"
#define GECKO_PRO_HEADER "x-cg-pro-api-key"

/* /coins/markets: per_page accepts 1..250 (CoinGecko API reference) */
#define GECKO_MARKETS_PER_PAGE 250
/*
 * Longest URL we send. CoinGecko documents no limit on ids per
 * /simple/price call, but the request line must fit the 8 KiB header
 * buffers common to front ends (nginx large_client_header_buffers).
 */
#define GECKO_URL_MAX 8000
/* Rate limits and monthly credits from coingecko.com/en/api/pricing */
#define GECKO_PUBLIC_RATE 5		/* keyless: "5 to 15 calls/min" */
#define GECKO_DEMO_RATE 30
#define GECKO_DEMO_CREDITS 10000L
#define GECKO_PRO_RATE 250		/* the smallest paid plan (Basic) */
#define GECKO_PRO_CREDITS 100000L
#define GECKO_MONTH_MS (30LL * 86400 * 1000)	/* credits reset monthly */

enum gecko_plan {
	GECKO_PUBLIC = 0,	/* no key, api.coingecko.com */
	GECKO_DEMO,
	GECKO_PRO
};

const char *gecko_plan_name(enum gecko_plan p);
const char *gecko_plan_url(enum gecko_plan p);
const char *gecko_plan_header(enum gecko_plan p);	/* NULL: no key */
int gecko_plan_rate(enum gecko_plan p);			/* calls per minute */
long gecko_plan_credits(enum gecko_plan p);		/* 0: no monthly cap */

/*
 * Splits n ids, whose percent-encoded lengths are lens[], into as few
 * consecutive groups as fit budget bytes each when joined with commas.
 * starts[] (room for n entries) receives the first index of each group;
 * returns the number of groups. An id longer than budget gets a group of
 * its own (the server will refuse it; we do not drop it silently).
 */
size_t gecko_plan_groups(const size_t *lens, size_t n, size_t budget,
    size_t *starts);

/*
 * Polling schedule on the wall clock: the first slot at or after now_ms that
 * is a multiple of every_ms (since the epoch), and never earlier than
 * after_ms (the slot after the previous poll; -1 for none).
 */
long long gecko_next_slot_ms(long long now_ms, long long every_ms,
    long long after_ms);

/*
 * Client-side limiter: at most n calls in any window_ms (60 s for the
 * plans, which is how the server counts). The ring holds the times of the
 * last n calls.
 */
struct gecko_rate {
	int n;
	long long window_ms;
	long long *ring;	/* n entries, owned */
	size_t next, used;
};

int gecko_rate_init(struct gecko_rate *r, int n, long long window_ms);
void gecko_rate_free(struct gecko_rate *r);
long long gecko_rate_wait_ms(const struct gecko_rate *r, long long now_ms);
void gecko_rate_note(struct gecko_rate *r, long long now_ms);

/*
 * What a 429 without Retry-After implies: CoinGecko counts per calendar
 * minute, so wait into the next one, plus up to 5 s of jitter (rnd, a
 * uniform 32-bit draw) so that many clients do not return on the same
 * second. lib/retry takes it as the server's Retry-After.
 */
long gecko_rate_window_ms(long long now_ms, uint32_t rnd);

/* Calls a schedule makes in GECKO_MONTH_MS (count 0: unbounded). */
long long gecko_month_calls(size_t calls_per_poll, long long every_ms,
    long long count);

/* "2026-11-28T12:00:00Z", with ".250" before the Z when ms is not whole. */
void gecko_iso8601(long long ms, char *out, size_t outlen);

/*
 * One line for a failed call: the error body in any of CoinGecko's shapes
 * ({"status":{...}}, {"error":{"status":{...}}}, {"error":"..."}, HTML from
 * the CDN, anything else), with what to change for 10002/10010/10011.
 * Sets err->kind: ERR_CONFIG for 4xx, ERR_TEMP for 429/5xx.
 */
void gecko_error_from_body(long status, const char *body, size_t len,
    enum gecko_plan plan, struct errbuf *err);

/* A slice of the response body: raw JSON text, not NUL-terminated. */
struct gecko_span {
	const char *p;
	size_t n;
};

/*
 * Scans a /simple/price answer {"id":{"key":value,...},...} with ndjson's
 * tokenizer and its rules (ndjson.h: UTF-8, no \u0000, no lone surrogate,
 * NDJSON_MAX_DEPTH), calling fn for every inner member with id and key
 * decoded (UTF-8, borrowed for the call) and value as its exact JSON text
 * in s, so 2.492e-05 stays 2.492e-05. Returns 0; -1 when fn returned -1
 * (err untouched), or when the body is not such an answer (err says
 * "invalid JSON: ... at byte N", N the 0-based offset; kind ERR_TEMP).
 */
typedef int (*gecko_member_fn)(void *arg, struct gecko_span id,
    struct gecko_span key, struct gecko_span value);
int gecko_scan_prices(const char *s, size_t n, gecko_member_fn fn, void *arg,
    struct errbuf *err);

#endif
