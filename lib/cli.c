#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>

#include "cli.h"

volatile sig_atomic_t cli_stop_signal;

int
cli_parse_llong(const char *s, long long min, long long max, long long *out,
    struct errbuf *err)
{
	char *end;
	long long v;

	errno = 0;
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return errbuf_set(err, ERR_USAGE, "'%s': not a number",
		    s ? s : "");
	v = strtoll(s, &end, 10);
	if (*end != '\0')
		return errbuf_set(err, ERR_USAGE, "'%s': not a number", s);
	if (errno == ERANGE || v < min || v > max)
		return errbuf_set(err, ERR_USAGE,
		    "'%s': out of range (%lld to %lld)", s, min, max);
	*out = v;
	return 0;
}

/* Splits "90s" into 90 and "s"; the number part must be a plain decimal. */
static int
split_number(const char *s, unsigned long long *n, const char **unit)
{
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*n = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -1;
	*unit = end;
	return 0;
}

int
cli_parse_duration_ms(const char *s, long long *ms, struct errbuf *err)
{
	static const struct { const char *unit; long long ms; } units[] = {
		{ "ms", 1 }, { "", 1000 }, { "s", 1000 }, { "m", 60000 },
		{ "h", 3600000 }, { "d", 86400000 },
	};
	unsigned long long n;
	const char *unit;
	size_t i;

	if (split_number(s, &n, &unit) == -1)
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

int
cli_parse_size(const char *s, unsigned long long *out, struct errbuf *err)
{
	unsigned long long n, mul = 1;
	const char *unit;

	if (split_number(s, &n, &unit) == -1)
		goto bad;
	switch (*unit) {
	case '\0': break;
	case 'k': case 'K': mul = 1ULL << 10; unit++; break;
	case 'M': mul = 1ULL << 20; unit++; break;
	case 'G': mul = 1ULL << 30; unit++; break;
	case 'B': break;
	default: goto bad;
	}
	if (strcmp(unit, "") != 0 && strcmp(unit, "B") != 0 &&
	    !(mul > 1 && strcmp(unit, "iB") == 0))
		goto bad;
	if (n > ~0ULL / mul)
		return errbuf_set(err, ERR_USAGE, "'%s': size too large", s);
	*out = n * mul;
	return 0;
bad:
	return errbuf_set(err, ERR_USAGE,
	    "'%s': not a size (examples: 5242880, 8MiB, 64M, 512k)", s ? s : "");
}

void
cli_version_line(const char *prog, char *out, size_t outlen)
{
	const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

	snprintf(out, outlen, "%s %s (libcurl %s, jansson %s, %s)", prog,
	    COINPIPE_VERSION, cv->version, jansson_version_str(),
	    OpenSSL_version(OPENSSL_VERSION));
}

int
cli_exit_for(enum errbuf_kind kind)
{
	switch (kind) {
	case ERR_NONE: return EXIT_ALL_HANDLED;
	case ERR_DATA: return EXIT_SOME_FAILED;
	case ERR_USAGE: return EXIT_USAGE;
	case ERR_CONFIG: return EXIT_CONFIG;
	case ERR_TEMP:
	case ERR_SYSTEM:
		break;
	}
	/* a local I/O or memory failure may pass, like a network one */
	return EXIT_TEMPORARY;
}

static void
on_stop(int sig)
{
	cli_stop_signal = sig;
}

int
cli_stdio_guard(void)
{
	int fd, n;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* the wrong way round on purpose: any use fails with EBADF */
		n = open("/dev/null", (fd == 0 ? O_WRONLY : O_RDONLY) |
		    O_NOCTTY);
		if (n == -1)
			return -1;
		if (n != fd) {
			/* a lower descriptor was free after all */
			if (dup2(n, fd) == -1) {
				close(n);
				return -1;
			}
			close(n);
		}
	}
	return 0;
}

int
cli_signals_install(void)
{
	struct sigaction sa;

	if (cli_stdio_guard() == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	if (sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGTERM, &sa, NULL) == -1)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

void
cli_raise_sigpipe(void)
{
	signal(SIGPIPE, SIG_DFL);
	raise(SIGPIPE);
}

static long long
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
cli_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

long long
cli_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}
