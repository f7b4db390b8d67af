/* test_retry: the one retry delay: full-jitter backoff, Retry-After cap. */
#include <stdint.h>

#include "retry.h"
#include "tap.h"

static uint32_t
next_rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void
test_backoff(void)
{
	const struct retry_policy *p = &retry_aws_standard;
	uint32_t seed = 2463534242u;
	long d, ceiling, lo = 1, hi = -1;
	int attempt, thr, i, bad = 0, hit_cap = 0;

	for (thr = 0; thr <= 1; thr++) {
		for (attempt = 1; attempt <= 40; attempt++) {
			ceiling = (thr ? RETRY_AWS_THROTTLE_BASE_MS :
			    RETRY_AWS_BASE_MS) << (attempt < 20 ? attempt - 1 :
			    19);
			if (ceiling > RETRY_AWS_CAP_MS)
				ceiling = RETRY_AWS_CAP_MS;
			for (i = 0; i < 2000; i++) {
				d = retry_delay_ms(p, attempt, thr, -1,
				    next_rnd(&seed));
				bad += d < 0 || d > ceiling;
				lo = d < lo ? d : lo;
				hi = d > hi ? d : hi;
			}
			bad += retry_delay_ms(p, attempt, thr, -1, 0) != 0;
			bad += retry_delay_ms(p, attempt, thr, -1,
			    UINT32_MAX) != ceiling;
			hit_cap += ceiling == RETRY_AWS_CAP_MS;
		}
	}
	is_int(bad, 0, "160000 draws within [0, min(20 s, base * 2^n)], "
	    "both ends reachable");
	ok(hit_cap > 0 && hi == RETRY_AWS_CAP_MS, "the 20 s cap is reached");
	is_int(lo, 0, "zero is drawn");
	is_int(retry_delay_ms(p, 1, 0, -1, UINT32_MAX), 100, "first retry: "
	    "up to 100 ms");
	is_int(retry_delay_ms(p, 1, 1, -1, UINT32_MAX), 1000, "first "
	    "throttled retry: up to 1 s");
	is_int(retry_delay_ms(p, 3, 1, -1, UINT32_MAX), 4000, "third: up to "
	    "4 s");
	is_int(retry_delay_ms(p, 1, 1, -1, UINT32_MAX / 2), 500, "half a "
	    "draw, half the range");
}

static void
test_retry_after(void)
{
	const struct retry_policy *p = &retry_aws_standard;
	struct retry_policy gecko = { 1000, 1000, 75000, 75000 };

	is_int(retry_delay_ms(p, 1, 0, 5000, UINT32_MAX), 5000,
	    "Retry-After longer than the backoff wins");
	is_int(retry_delay_ms(p, 3, 1, 10, UINT32_MAX), 4000,
	    "the backoff wins over a shorter Retry-After");
	is_int(retry_delay_ms(p, 1, 0, 0, 0), 0, "Retry-After: 0");
	is_int(retry_delay_ms(p, 1, 0, 3600000, 0),
	    RETRY_AWS_RETRY_AFTER_CAP_MS, "an hour's Retry-After is cut to "
	    "the 60 s cap");
	is_int(retry_delay_ms(p, 1, 0, 0x7fffffffL, 0),
	    RETRY_AWS_RETRY_AFTER_CAP_MS, "the largest Retry-After too");
	is_int(retry_delay_ms(&gecko, 1, 1, 3600000, 0), 75000,
	    "another policy's own cap");
	is_int(retry_delay_ms(&gecko, 30, 1, -1, UINT32_MAX), 75000,
	    "its backoff cap");
}

static void
test_jitter(void)
{
	uint32_t a = retry_jitter(), b = retry_jitter(), c = retry_jitter();

	ok(a != b || b != c, "three draws are not all equal");
}

int
main(void)
{
	test_backoff();
	test_retry_after();
	test_jitter();
	return tap_done();
}
