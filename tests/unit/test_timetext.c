/* test_timetext: the one ISO 8601 reader and the one duration parser. */
#include <limits.h>
#include <stddef.h>

#include "tap.h"
#include "timetext.h"

#define NO LLONG_MIN

struct tcase {
	const char *s;
	long long want;		/* NO: refused */
	double frac;
};

static void
run_cases(const char *mode, unsigned flags, const struct tcase *c, size_t n)
{
	double frac;
	time_t t;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		frac = -1;
		rc = timetext_iso8601(c[i].s, flags, &t, &frac);
		if (c[i].want == NO)
			ok(rc == -1, "%s refuses \"%s\"", mode, c[i].s);
		else
			ok(rc == 0 && (long long)t == c[i].want &&
			    frac == c[i].frac, "%s \"%s\" is %lld", mode,
			    c[i].s, c[i].want);
	}
}

/* What AWS writes (Expiration, expiresAt): a zone is required. */
static void
test_zone(void)
{
	static const struct tcase c[] = {
		{ "1970-01-01T00:00:00Z", 0, 0 },
		{ "1969-12-31T23:59:59Z", -1, 0 },
		{ "2030-03-17T17:46:40Z", 1900000000, 0 },
		{ "2030-03-17T17:46:40.5Z", 1900000000, 0.5 },
		{ "2030-03-17T18:46:40+01:00", 1900000000, 0 },
		{ "2030-03-17T16:46:40-0100", 1900000000, 0 },
		{ "2030-03-17 17:46:40Z", 1900000000, 0 },
		{ "2000-02-29t12:00:00z", 951825600, 0 },
		{ "2016-12-31T23:59:60Z", 1483228800, 0 },
		{ "2030-03-17T17:46:40", NO, 0 },
		{ "2030-13-17T17:46:40Z", NO, 0 },
		{ "2030-02-29T17:46:40Z", NO, 0 },
		{ "2030-03-17 17:46Z", NO, 0 },
		{ "2030-03-17Z", NO, 0 },
		{ "2030-03-17T17:46:40.Z", NO, 0 },
		{ "2030-03-17T17:46:40+24:00", NO, 0 },
		{ "2030-03-17T17:46:40+01:", NO, 0 },
		{ "2030-03-17T17:46:40Zjunk", NO, 0 },
		{ "2030-03-17T24:00:00Z", NO, 0 },
		{ "", NO, 0 },
	};

	run_cases("zone", TIMETEXT_ZONE, c, sizeof(c) / sizeof(c[0]));
}

/* What a user types for --from: UTC, the time optional. */
static void
test_short(void)
{
	static const struct tcase c[] = {
		{ "1970-01-01T00:00:00Z", 0, 0 },
		{ "2024-02-29T12:34:56.5Z", 1709210096, 0.5 },
		{ "2024-05-01", 1714521600, 0 },
		{ "2024-05-01Z", 1714521600, 0 },
		{ "2024-05-01 10:00", 1714557600, 0 },
		{ "2024-05-01T10:00Z", 1714557600, 0 },
		{ "2023-02-29T00:00:00Z", NO, 0 },
		{ "2024-05-01T25:00:00Z", NO, 0 },
		{ "2024-05-01T10:00:00+02:00", NO, 0 },
		{ "2024-05-01t10:00:00Z", NO, 0 },
		{ "2024-05-01T10:00:00z", NO, 0 },
		{ "2024-05-01T10", NO, 0 },
		{ "yesterday", NO, 0 },
	};

	run_cases("short", TIMETEXT_SHORT, c, sizeof(c) / sizeof(c[0]));
}

static void
test_durations(void)
{
	static const struct { const char *in; long long ms; } good[] = {
		{ "250ms", 250 }, { "90s", 90000 }, { "5m", 300000 },
		{ "2h", 7200000 }, { "1d", 86400000 }, { "90", 90000 },
		{ "0s", 0 },
	};
	static const char *bad[] = {
		"", "s", "-5s", "5x", "5 s", " 5s", "1.5s", "5mss",
		"99999999999999999999s", "9223372036854775807d",
	};
	struct errbuf e;
	long long ms;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		ms = -1;
		ok(timetext_duration_ms(good[i].in, &ms, &e) == 0 &&
		    ms == good[i].ms, "duration '%s' is %lld ms", good[i].in,
		    good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(timetext_duration_ms(bad[i], &ms, &e) == -1 &&
		    e.kind == ERR_USAGE, "duration '%s' refused", bad[i]);
	timetext_duration_ms("5x", &ms, &e);
	is_str(e.msg, "'5x': not a duration (examples: 250ms, 90s, 5m, 1h)",
	    "refusal names the input and shows examples");
	timetext_duration_ms("9223372036854775807d", &ms, &e);
	is_str(e.msg, "'9223372036854775807d': duration too long",
	    "an overflow is named as such");
}

int
main(void)
{
	test_zone();
	test_short();
	test_durations();
	return tap_done();
}
