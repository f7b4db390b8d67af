/* retry: see retry.h. */
#include "retry.h"

#include <openssl/rand.h>

const struct retry_policy retry_aws_standard = {
	RETRY_AWS_BASE_MS, RETRY_AWS_THROTTLE_BASE_MS, RETRY_AWS_CAP_MS,
	RETRY_AWS_RETRY_AFTER_CAP_MS
};

static long
backoff_ms(const struct retry_policy *p, int attempt, int throttled,
    uint32_t rnd)
{
	long ceiling = throttled ? p->throttle_base_ms : p->base_ms;
	int i;

	for (i = 1; i < attempt && ceiling < p->cap_ms; i++)
		ceiling *= 2;
	if (ceiling > p->cap_ms)
		ceiling = p->cap_ms;
	if (ceiling < 0)
		ceiling = 0;
	return (long)(((uint64_t)rnd * (uint64_t)(ceiling + 1)) >> 32);
}

long
retry_delay_ms(const struct retry_policy *p, int attempt, int throttled,
    long retry_after_ms, uint32_t rnd)
{
	long d = backoff_ms(p, attempt, throttled, rnd);

	if (retry_after_ms > p->retry_after_cap_ms)
		retry_after_ms = p->retry_after_cap_ms;
	return retry_after_ms > d ? retry_after_ms : d;
}

uint32_t
retry_jitter(void)
{
	unsigned char b[4] = { 0, 0, 0, 0 };

	(void)RAND_bytes(b, sizeof(b));
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}
