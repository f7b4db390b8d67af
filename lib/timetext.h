/*
 * timetext: time written as text, read the one way every module and tool
 * reads it: ISO 8601 / RFC 3339 instants (the Expiration of STS, container
 * and IMDS credentials, the SSO token cache, kin-get --from) and the
 * durations of options ("250ms", "90s", "5m").
 * Pure: no clock, no locale, no environment (TZ plays no part).
 */
#ifndef COINPIPE_TIMETEXT_H
#define COINPIPE_TIMETEXT_H

#include <time.h>

#include "errbuf.h"

/*
 * The forms of timetext_iso8601(). Always: "YYYY-MM-DD", a 'T' or a
 * space, "HH:MM:SS", an optional fraction ".d+", all in range (the day
 * within its month, second 60 for a leap second).
 *  TIMETEXT_ZONE	a zone must follow: 'Z' or an offset "+HH:MM" or
 *			"-HHMM"; 't' and 'z' also in lower case (RFC 3339
 *			section 5.6). What AWS services write.
 *  TIMETEXT_SHORT	the time may be left out (midnight), or given as
 *			"HH:MM"; an optional 'Z', no offset: the time is UTC
 *			either way. What a user types for --from.
 */
#define TIMETEXT_ZONE	0x1u
#define TIMETEXT_SHORT	0x2u

/*
 * Reads s into UTC seconds since the epoch, and the fraction of a second
 * into *frac (may be NULL). Returns 0, or -1 when s is not a time of the
 * forms flags allow (nothing may follow).
 */
int timetext_iso8601(const char *s, unsigned flags, time_t *secs,
    double *frac);

/*
 * "250ms", "90s", "5m", "2h", "1d"; a bare number is seconds. Returns 0,
 * or -1 with err set (ERR_USAGE: "'5x': not a duration (examples: ...)").
 */
int timetext_duration_ms(const char *s, long long *ms, struct errbuf *err);

#endif
