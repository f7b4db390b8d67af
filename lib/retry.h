/*
 * retry: the one decision of how long to wait before trying again, for
 * every client: whole AWS requests (lib/aws), failed PutRecords entries
 * (lib/producer), GetRecords polls (kin-get), STS, and CoinGecko calls.
 *
 * Full-jitter exponential backoff, as in the "standard" retry mode of the
 * AWS SDKs (SDKs and Tools Reference Guide, "Retry behavior"): before retry
 * number `attempt` (1 after the first failure) wait random[0, min(cap,
 * base * 2^(attempt-1))], with a larger base for throttling. A server's
 * Retry-After is honoured when it asks for longer, up to a stated cap, so
 * that one odd header cannot stall a pipe for hours.
 * Pure but for retry_jitter(): attempt, throttling, the server's wish and
 * the random draw are parameters.
 */
#ifndef COINPIPE_RETRY_H
#define COINPIPE_RETRY_H

#include <stdint.h>

struct retry_policy {
	long base_ms;			/* ceiling of the first retry */
	long throttle_base_ms;		/* the same after throttling */
	long cap_ms;			/* largest backoff ceiling */
	long retry_after_cap_ms;	/* Retry-After honoured up to this */
};

/*
 * AWS: Java SDK v2 StandardRetryStrategy (throttling base 1 s, cap 20 s);
 * other transient errors the 100 ms base of the JavaScript SDK v3
 * (DEFAULT_RETRY_DELAY_BASE), since a 500 or a reset connection is usually
 * over at once while a throttled caller must actually slow down.
 */
#define RETRY_AWS_BASE_MS 100L
#define RETRY_AWS_THROTTLE_BASE_MS 1000L
#define RETRY_AWS_CAP_MS 20000L
#define RETRY_AWS_RETRY_AFTER_CAP_MS 60000L
extern const struct retry_policy retry_aws_standard;

/*
 * The wait before retry number `attempt`: the full-jitter backoff (rnd, a
 * uniform 32-bit draw, scaled into [0, ceiling], both ends reachable), or
 * retry_after_ms (-1: none) cut to retry_after_cap_ms when that is longer.
 */
long retry_delay_ms(const struct retry_policy *p, int attempt, int throttled,
    long retry_after_ms, uint32_t rnd);

/* A uniform 32-bit draw for the jitter (OpenSSL's RAND_bytes; 0 when that
 * fails: jitter only spreads clients apart). */
uint32_t retry_jitter(void);

#endif
