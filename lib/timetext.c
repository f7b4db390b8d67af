/* timegm(3) is in glibc and the BSDs but not in POSIX.1-2008 */
#define _DEFAULT_SOURCE

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timetext.h"

/* Reads exactly n digits; -1 when they are not there. */
static int
digits(const char **p, int n)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	return v;
}

static int
month_days(int y, int m)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/* "YYYY-MM-DD" */
static int
date_part(const char **p, struct tm *tm)
{
	int y, m, d;

	if ((y = digits(p, 4)) < 0 || *(*p)++ != '-' ||
	    (m = digits(p, 2)) < 1 || m > 12 || *(*p)++ != '-' ||
	    (d = digits(p, 2)) < 1 || d > month_days(y, m))
		return -1;
	tm->tm_year = y - 1900;
	tm->tm_mon = m - 1;
	tm->tm_mday = d;
	return 0;
}

/* "HH:MM:SS[.d+]", or with TIMETEXT_SHORT "HH:MM" as well */
static int
clock_part(const char **p, unsigned flags, struct tm *tm, double *frac)
{
	double scale = 0.1;

	if ((tm->tm_hour = digits(p, 2)) < 0 || tm->tm_hour > 23 ||
	    *(*p)++ != ':' || (tm->tm_min = digits(p, 2)) < 0 ||
	    tm->tm_min > 59)
		return -1;
	if (**p != ':')
		return flags & TIMETEXT_SHORT ? 0 : -1;
	(*p)++;
	if ((tm->tm_sec = digits(p, 2)) < 0 || tm->tm_sec > 60)
		return -1;
	if (**p != '.')
		return 0;
	if (!isdigit((unsigned char)*++*p))
		return -1;
	for (; isdigit((unsigned char)**p); (*p)++) {
		*frac += (**p - '0') * scale;
		scale /= 10;
	}
	return 0;
}

/* "Z", "+HH:MM", "-HHMM" into seconds east of UTC */
static int
zone_part(const char *s, unsigned flags, long *off)
{
	int sign, hh, mm;

	*off = 0;
	if (*s == 'Z' || (*s == 'z' && (flags & TIMETEXT_ZONE)))
		return s[1] == '\0' ? 0 : -1;
	if (!(flags & TIMETEXT_ZONE))
		return *s == '\0' ? 0 : -1;
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? -1 : 1;
	if ((hh = digits(&s, 2)) < 0 || hh > 23 || (*s == ':' && *++s == '\0')
	    || (mm = digits(&s, 2)) < 0 || mm > 59 || *s != '\0')
		return -1;
	*off = sign * (hh * 3600L + mm * 60L);
	return 0;
}

int
timetext_iso8601(const char *s, unsigned flags, time_t *secs, double *frac)
{
	struct tm tm;
	double f = 0;
	long off;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || date_part(&s, &tm) == -1)
		return -1;
	if (*s == 'T' || *s == ' ' || (*s == 't' && (flags & TIMETEXT_ZONE))) {
		s++;
		if (clock_part(&s, flags, &tm, &f) == -1)
			return -1;
	} else if (!(flags & TIMETEXT_SHORT))
		return -1;
	if (zone_part(s, flags, &off) == -1)
		return -1;
	/* timegm counts second 60 into the next minute, as a leap second
	 * must be read on a clock that has none; a four-digit year cannot
	 * overflow a 64-bit time_t, so its -1 is 1969-12-31T23:59:59 */
	t = timegm(&tm);
	*secs = t - off;
	if (frac != NULL)
		*frac = f;
	return 0;
}

int
timetext_duration_ms(const char *s, long long *ms, struct errbuf *err)
{
	static const struct { const char *unit; long long ms; } units[] = {
		{ "ms", 1 }, { "", 1000 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	unsigned long long n;
	char *unit;
	size_t i;

	if (s == NULL || !isdigit((unsigned char)*s))
		goto bad;
	errno = 0;
	n = strtoull(s, &unit, 10);
	if (errno == ERANGE)
		goto bad;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit) != 0)
			continue;
		if (n > (unsigned long long)(LLONG_MAX / units[i].ms))
			return errbuf_set(err, ERR_USAGE,
			    "'%s': duration too long", s);
		*ms = (long long)n * units[i].ms;
		return 0;
	}
bad:
	return errbuf_set(err, ERR_USAGE,
	    "'%s': not a duration (examples: 250ms, 90s, 5m, 1h)", s ? s : "");
}
