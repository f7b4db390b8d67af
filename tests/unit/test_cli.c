/* lib/cli; the tools' messages and option errors are tests/unit/test_tool.c. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tap.h"

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
		ok(cli_parse_duration_ms(good[i].in, &ms, &e) == 0 &&
		    ms == good[i].ms, "duration '%s' is %lld ms", good[i].in,
		    good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(cli_parse_duration_ms(bad[i], &ms, &e) == -1 &&
		    e.kind == ERR_USAGE, "duration '%s' refused", bad[i]);
	cli_parse_duration_ms("5x", &ms, &e);
	is_str(e.msg, "'5x': not a duration (examples: 250ms, 90s, 5m, 1h)",
	    "refusal names the input and shows examples");
}

static void
test_numbers(void)
{
	struct errbuf e;
	long long v;

	ok(cli_parse_llong("500", 1, 500, &v, &e) == 0 && v == 500,
	    "500 within 1..500");
	ok(cli_parse_llong("501", 1, 500, &v, &e) == -1, "501 refused");
	is_str(e.msg, "'501': out of range (1 to 500)", "range in message");
	ok(cli_parse_llong("12abc", 0, 100, &v, &e) == -1, "trailing junk");
	ok(cli_parse_llong("", 0, 100, &v, &e) == -1, "empty refused");
	ok(cli_parse_llong(" 5", 0, 100, &v, &e) == -1, "leading space");
	ok(cli_parse_llong("-3", -5, 5, &v, &e) == 0 && v == -3, "negative");
	ok(cli_parse_llong("99999999999999999999", 0, LLONG_MAX, &v, &e) == -1,
	    "overflow refused");
}

static void
test_sizes(void)
{
	static const struct { const char *in; unsigned long long n; } good[] = {
		{ "5242880", 5242880ULL }, { "8MiB", 8ULL << 20 },
		{ "64M", 64ULL << 20 }, { "512k", 512ULL << 10 },
		{ "1G", 1ULL << 30 }, { "100B", 100 }, { "2KiB", 2048 },
	};
	static const char *bad[] = { "", "M", "5MB5", "5iB", "-1", "5T",
	    "99999999999999999999G" };
	struct errbuf e;
	unsigned long long n;
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok(cli_parse_size(good[i].in, &n, &e) == 0 && n == good[i].n,
		    "size '%s' is %llu", good[i].in, good[i].n);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok(cli_parse_size(bad[i], &n, &e) == -1, "size '%s' refused",
		    bad[i]);
}

static void
test_exit_codes_and_version(void)
{
	char line[256];

	is_int(cli_exit_for(ERR_NONE), 0, "no error is 0");
	is_int(cli_exit_for(ERR_DATA), 1, "bad record is 1");
	is_int(cli_exit_for(ERR_USAGE), 2, "usage is 2");
	is_int(cli_exit_for(ERR_CONFIG), 3, "config is 3");
	is_int(cli_exit_for(ERR_TEMP), 4, "temporary is 4");
	cli_version_line("kin-put", line, sizeof(line));
	ok(strncmp(line, "kin-put " COINPIPE_VERSION " (libcurl ", 17) == 0 &&
	    strstr(line, "jansson ") != NULL && strstr(line, "OpenSSL") != NULL,
	    "version line names the libraries: %s", line);
}

static void
test_clocks(void)
{
	long long m1, m2;

	m1 = cli_mono_ms();
	m2 = cli_mono_ms();
	ok(m1 > 0 && m2 >= m1, "monotonic clock does not go back");
	ok(cli_wall_ms() > 1700000000000LL, "wall clock in milliseconds");
}

int
main(void)
{
	test_durations();
	test_numbers();
	test_sizes();
	test_exit_codes_and_version();
	test_clocks();
	return tap_done();
}
