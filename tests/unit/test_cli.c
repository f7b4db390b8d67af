#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tap.h"

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

/* What fn wrote on stderr, caught through a temporary file. */
static void
stderr_of(void (*fn)(void), char *out, size_t size)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t n = 0;

	out[0] = '\0';
	if (tmp == NULL || saved == -1)
		return;
	fflush(stderr);
	dup2(fileno(tmp), 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, size - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

static int usage_rc;

static void
say_usage(void)
{
	usage_rc = cli_usage_error("kin-put", "--linger: '%s': bad", "x");
}

static void
say_warning(void)
{
	cli_warnx("s3-putcsv", "%d object(s) not uploaded", 2);
}

static void
test_messages_and_clocks(void)
{
	char text[256];

	stderr_of(say_usage, text, sizeof(text));
	is_str(text, "kin-put: --linger: 'x': bad\ntry 'kin-put --help'\n",
	    "usage error: the message, then where to look");
	ok(usage_rc == EXIT_USAGE, "usage error: exit status 2");
	stderr_of(say_warning, text, sizeof(text));
	is_str(text, "s3-putcsv: 2 object(s) not uploaded\n",
	    "warning: one line, the tool's name first");
}

/* Runs getopt_long over argv as a tool does; the message is caught. */
static char *const *opt_argv;
static int opt_rc;

static void
parse_opts(void)
{
	static const struct option longopts[] = {
		{ "region", required_argument, NULL, 'R' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	int argc = 0, c;

	while (opt_argv[argc] != NULL)
		argc++;
	optind = 0;	/* glibc: start afresh */
	opterr = 0;
	opt_rc = 0;
	while ((c = getopt_long(argc, opt_argv, ":s:q", longopts, NULL)) != -1)
		if (c == '?' || c == ':') {
			opt_rc = cli_getopt_error("kin-get", c, opt_argv);
			return;
		}
}

static void
option_case(char *const *argv, const char *want, const char *name)
{
	char text[256];

	opt_argv = argv;
	stderr_of(parse_opts, text, sizeof(text));
	is_str(text, want, name);
	ok(opt_rc == EXIT_USAGE, "%s: exit status 2", name);
}

static void
test_option_errors(void)
{
	char *const bogus[] = { "kin-get", "--bogus=1", NULL };
	char *const shortx[] = { "kin-get", "-qx", NULL };
	char *const region[] = { "kin-get", "--region", NULL };
	char *const s[] = { "kin-get", "-q", "-s", NULL };

	option_case(bogus, "kin-get: unknown option '--bogus'\n"
	    "try 'kin-get --help'\n", "unknown long option, without =value");
	option_case(shortx, "kin-get: unknown option '-x'\n"
	    "try 'kin-get --help'\n", "unknown short option out of a bundle");
	option_case(region, "kin-get: option '--region' needs a value\n"
	    "try 'kin-get --help'\n", "long option without its value");
	option_case(s, "kin-get: option '-s' needs a value\n"
	    "try 'kin-get --help'\n", "short option without its value");
}

int
main(void)
{
	test_numbers();
	test_sizes();
	test_exit_codes_and_version();
	test_messages_and_clocks();
	test_option_errors();
	return tap_done();
}
