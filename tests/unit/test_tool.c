/*
 * The tool front of cmd/common: the shared options as every tool parses
 * them, and the words of its messages.
 */
/* posix_openpt, grantpt, unlockpt, ptsname: XSI */
#define _XOPEN_SOURCE 700
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "tap.h"
#include "../../cmd/common/tool.h"

static const struct option longopts[] = {
	{ "stream", required_argument, NULL, 's' },
	TOOL_AWS_LONGOPTS,
	TOOL_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static struct tool_common common;

static void
usage(FILE *f)
{
	fputs("usage: kin-get -s STREAM\n", f);
}

/* One parse as a tool's main() runs it. */
static char *const *args;
static const char *stream;
static int parse_rc;

/* The tool's own options: only -s. */
static int
own_option(void *arg, int opt, const char *value)
{
	(void)arg;
	if (opt != 's')
		return EXIT_USAGE;
	stream = value;
	return 0;
}

static void
parse(void)
{
	int argc = 0;

	while (args[argc] != NULL)
		argc++;
	memset(&common, 0, sizeof(common));
	stream = NULL;
	optind = 0;	/* glibc: start afresh */
	parse_rc = tool_getopt(&common, argc, args, ":s:" TOOL_SHORTOPTS,
	    longopts, own_option, NULL);
}

/* What fn wrote on descriptor fd, caught through a temporary file. */
static void
output_of(int fd, void (*fn)(void), char *out, size_t size)
{
	FILE *tmp = tmpfile(), *f = fd == 1 ? stdout : stderr;
	int saved = dup(fd);
	size_t n = 0;

	out[0] = '\0';
	if (tmp == NULL || saved == -1)
		return;
	fflush(f);
	dup2(fileno(tmp), fd);
	fn();
	fflush(f);
	dup2(saved, fd);
	close(saved);
	rewind(tmp);
	n = fread(out, 1, size - 1, tmp);
	out[n] = '\0';
	fclose(tmp);
}

/* Parses argv; what it printed on stderr goes into err. */
static void
run(char *const *argv, char *err, size_t size)
{
	args = argv;
	output_of(2, parse, err, size);
}

static void
test_values(void)
{
	char *const all[] = { "kin-get", "-s", "x", "--region", "eu-west-1",
	    "--profile=p", "--endpoint-url", "http://127.0.0.1:1", NULL };
	char *const empty[] = { "kin-get", "--region=", NULL };
	char *const last[] = { "kin-get", "--region=a", "--region", "b",
	    NULL };
	char err[256];

	run(all, err, sizeof(err));
	ok(parse_rc == 0 && err[0] == '\0', "shared and own options parsed "
	    "without a word");
	is_str(common.region, "eu-west-1", "--region REGION");
	is_str(common.profile, "p", "--profile=NAME");
	is_str(common.endpoint_url, "http://127.0.0.1:1", "--endpoint-url");
	is_str(stream, "x", "the tool's own option is left to the tool");
	run(empty, err, sizeof(err));
	/* lib/awsconf treats "" as not given and then refuses "no region"
	 * (exit 3) when nothing else names one; the parser passes it on */
	ok(parse_rc == 0 && common.region != NULL && common.region[0] == '\0',
	    "--region= is passed on empty, for awsconf to refuse");
	run(last, err, sizeof(err));
	is_str(common.region, "b", "the last --region wins");
}

static void
test_quiet_verbose(void)
{
	char *const none[] = { "kin-put", NULL };
	char *const v1[] = { "kin-put", "-v", NULL };
	char *const vv[] = { "kin-put", "-vv", NULL };
	char *const vvv[] = { "kin-put", "-v", "--verbose", "-vv", NULL };
	char *const qv[] = { "kin-put", "-qv", "--quiet", NULL };
	char err[256];

	run(none, err, sizeof(err));
	ok(common.verbose == 0 && common.quiet == 0 &&
	    tool_trace_level(&common) == 0, "no -v: no trace");
	run(v1, err, sizeof(err));
	ok(common.verbose == 1 && tool_trace_level(&common) == 0,
	    "-v: detail, no trace");
	run(vv, err, sizeof(err));
	ok(common.verbose == 2 && tool_trace_level(&common) == 1,
	    "-vv: request lines");
	run(vvv, err, sizeof(err));
	ok(common.verbose == 4 && tool_trace_level(&common) == 2,
	    "-v --verbose -vv counts 4: headers and bodies");
	run(qv, err, sizeof(err));
	ok(parse_rc == 0 && common.quiet == 1 && common.verbose == 1,
	    "-q and -v together: both kept");
}

static void
say_all(void)
{
	tool_warnx("%d object(s) not uploaded", 2);
	tool_notice("key '%s' is not a column", "k");
	tool_verbose(1, "uploaded %s", "s3://b/k");
	tool_verbose(2, "shard %d started", 0);
}

static void
test_messages(void)
{
	char text[512];

	tool_init("s3-putcsv", usage, &common);
	memset(&common, 0, sizeof(common));
	output_of(2, say_all, text, sizeof(text));
	is_str(text, "s3-putcsv: 2 object(s) not uploaded\n"
	    "s3-putcsv: key 'k' is not a column\n",
	    "by default: errors and warnings, one line each, the name first");
	common.quiet = 1;
	output_of(2, say_all, text, sizeof(text));
	is_str(text, "s3-putcsv: 2 object(s) not uploaded\n",
	    "-q: errors only");
	common.verbose = 1;
	output_of(2, say_all, text, sizeof(text));
	is_str(text, "s3-putcsv: 2 object(s) not uploaded\n"
	    "s3-putcsv: uploaded s3://b/k\n",
	    "-q -v: what -v asked for, still no warnings");
	common.quiet = 0;
	common.verbose = 2;
	output_of(2, say_all, text, sizeof(text));
	is_str(text, "s3-putcsv: 2 object(s) not uploaded\n"
	    "s3-putcsv: key 'k' is not a column\n"
	    "s3-putcsv: uploaded s3://b/k\n"
	    "s3-putcsv: shard 0 started\n", "-vv: level 2 detail too");
}

static int usage_rc;

static void
say_trace(void)
{
	tool_trace_line(NULL, "> GET / HTTP/1.1");
}

static void
say_usage(void)
{
	usage_rc = tool_usage_error("--linger: '%s': bad", "x");
}

static void
test_usage_and_trace(void)
{
	char text[256];

	tool_init("kin-put", usage, &common);
	output_of(2, say_trace, text, sizeof(text));
	is_str(text, "kin-put: > GET / HTTP/1.1\n", "trace: name, then line");
	output_of(2, say_usage, text, sizeof(text));
	is_str(text, "kin-put: --linger: 'x': bad\ntry 'kin-put --help'\n",
	    "usage error: the message, then where to look");
	ok(usage_rc == EXIT_USAGE, "usage error: exit status 2");
}

static long long opt_value;

static void
say_bad_number(void)
{
	usage_rc = tool_opt_number("--count", "12x", 1, 10, &opt_value);
}

static void
say_out_of_range(void)
{
	usage_rc = tool_opt_number("--count", "11", 1, 10, &opt_value);
}

static void
say_bad_duration(void)
{
	usage_rc = tool_opt_duration("--linger", "5 parsecs", &opt_value);
}

static void
like_prefix(const char *got, const char *want, const char *name)
{
	ok(strncmp(got, want, strlen(want)) == 0, "%s: %s", name, got);
}

static void
test_option_values(void)
{
	char text[256];

	tool_init("kin-get", usage, &common);
	is_int(tool_opt_number("--count", "7", 1, 10, &opt_value), 0,
	    "a number in range");
	is_int(opt_value, 7, "its value");
	is_int(tool_opt_duration("--linger", "250ms", &opt_value), 0,
	    "a duration");
	is_int(opt_value, 250, "in milliseconds");
	output_of(2, say_bad_number, text, sizeof(text));
	like_prefix(text, "kin-get: --count: ", "a bad number: the option first");
	ok(usage_rc == EXIT_USAGE && strstr(text, "try 'kin-get --help'\n"),
	    "a bad number: a usage error, exit status 2");
	output_of(2, say_bad_duration, text, sizeof(text));
	like_prefix(text, "kin-get: --linger: ", "a bad duration: the option "
	    "first");
	ok(usage_rc == EXIT_USAGE, "a bad duration: exit status 2");
	output_of(2, say_out_of_range, text, sizeof(text));
	is_str(text, "kin-get: --count: '11': out of range (1 to 10)\n"
	    "try 'kin-get --help'\n", "out of range: refused with the range");
}

static void
test_aws_options(void)
{
	struct tool_common c;
	struct awstool_options ao;

	memset(&c, 0, sizeof(c));
	c.region = "eu-west-1";
	c.profile = "prod";
	c.endpoint_url = "http://127.0.0.1:4566";
	c.verbose = 2;
	tool_init("kin-put", usage, &c);
	memset(&ao, 0x5a, sizeof(ao));
	tool_aws_options(&ao, "kinesis");
	ok(strcmp(ao.prog, "kin-put") == 0 && strcmp(ao.service, "kinesis")
	    == 0, "aws options: the tool's name and the service");
	ok(ao.region == c.region && ao.profile == c.profile &&
	    ao.endpoint_url == c.endpoint_url, "aws options: --region, "
	    "--profile, --endpoint-url");
	ok(ao.trace == 1 && ao.trace_fn == tool_trace_line, "aws options: "
	    "-vv traces request lines");
	ok(ao.stop == NULL && ao.budget_ms == 0 && ao.trace_arg == NULL,
	    "aws options: the rest zeroed for the tool to set");
	tool_init("kin-put", usage, &common);
}

/* One refused command line: the words on stderr, exit status 2. */
static void
refused(char *const *argv, const char *want, const char *name)
{
	char text[256];

	run(argv, text, sizeof(text));
	is_str(text, want, name);
	ok(parse_rc == EXIT_USAGE && !common.done, "%s: exit status 2", name);
}

static void
test_option_errors(void)
{
	char *const bogus[] = { "kin-get", "--bogus=1", NULL };
	char *const shortx[] = { "kin-get", "-qx", NULL };
	char *const region[] = { "kin-get", "--region", NULL };
	char *const s[] = { "kin-get", "-q", "-s", NULL };
	char *const quiet[] = { "kin-get", "--quiet=1", NULL };
	char *const after[] = { "kin-get", "--bogus", "--region", "r", NULL };

	tool_init("kin-get", usage, &common);
	refused(bogus, "kin-get: unknown option '--bogus'\n"
	    "try 'kin-get --help'\n", "unknown long option, without =value");
	refused(shortx, "kin-get: unknown option '-x'\n"
	    "try 'kin-get --help'\n", "unknown short option out of a bundle");
	refused(region, "kin-get: option '--region' needs a value\n"
	    "try 'kin-get --help'\n", "long option without its value");
	refused(s, "kin-get: option '-s' needs a value\n"
	    "try 'kin-get --help'\n", "short option without its value");
	refused(quiet, "kin-get: unknown option '--quiet'\n"
	    "try 'kin-get --help'\n", "a flag given a value");
	refused(after, "kin-get: unknown option '--bogus'\n"
	    "try 'kin-get --help'\n", "parsing stops at the first error");
	ok(common.region == NULL, "nothing after the error is taken");
}

static void
test_help_version(void)
{
	char *const help[] = { "kin-get", "-s", "x", "--help", "--bogus",
	    NULL };
	char *const version[] = { "kin-get", "-V", NULL };
	char text[512];

	tool_init("kin-get", usage, &common);
	args = help;
	output_of(1, parse, text, sizeof(text));
	is_str(text, "usage: kin-get -s STREAM\n", "--help: the tool's text "
	    "on stdout");
	ok(parse_rc == 0 && common.done, "--help: done, exit 0, the rest "
	    "not looked at");
	args = version;
	tool_set_version_extra(", zlib 1.0");
	output_of(1, parse, text, sizeof(text));
	ok(strncmp(text, "kin-get " COINPIPE_VERSION " (libcurl ", 17) == 0 &&
	    strstr(text, "OpenSSL") != NULL &&
	    strstr(text, "), zlib 1.0\n") != NULL, "-V: version line and "
	    "the extra: %s", text);
	ok(parse_rc == 0 && common.done, "-V: done, exit 0");
	tool_set_version_extra(NULL);
}

/* A --help that could not be written is an error (>/dev/full): run in a
 * child, whose stdout can be left broken. */
static void
test_help_full(void)
{
	char *const help[] = { "kin-get", "-h", NULL };
	int fd, status = -1;
	pid_t pid;

	if ((fd = open("/dev/full", O_WRONLY)) == -1) {
		printf("# no /dev/full: --help to a full disk not checked\n");
		return;
	}
	fflush(stdout);
	if ((pid = fork()) == 0) {
		dup2(fd, 1);
		args = help;
		parse();
		_exit(common.done ? parse_rc : 99);
	}
	close(fd);
	if (pid > 0)
		waitpid(pid, &status, 0);
	ok(WIFEXITED(status) && WEXITSTATUS(status) == EXIT_TEMPORARY,
	    "--help to a full disk: exit status 4");
}

/*
 * The progress line through a real terminal: a pty whose slave is the
 * standard error for a moment, raw so that the bytes arrive as written.
 */
static int
pty_stderr(int *saved)
{
	struct termios t;
	int m, s;
	char *name;

	if ((m = posix_openpt(O_RDWR | O_NOCTTY)) == -1 || grantpt(m) == -1 ||
	    unlockpt(m) == -1 || (name = ptsname(m)) == NULL ||
	    (s = open(name, O_RDWR | O_NOCTTY)) == -1)
		return -1;
	if (tcgetattr(s, &t) == 0) {
		t.c_oflag &= ~(tcflag_t)OPOST;
		tcsetattr(s, TCSANOW, &t);
	}
	fflush(stderr);
	*saved = dup(2);
	dup2(s, 2);
	close(s);
	return m;
}

static void
pty_read(int m, int saved, char *out, size_t size)
{
	ssize_t n;

	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fcntl(m, F_SETFL, O_NONBLOCK);
	n = read(m, out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(m);
}

static void
progress_steps(void)
{
	tool_progress(10000, "first");		/* the first second: quiet */
	tool_progress(10999, "early");
	tool_progress(11000, "%d records", 3);
	tool_progress(11500, "too soon");
	tool_warnx("a warning");
	tool_progress(12000, "%d records", 4);
	tool_progress_end();
	tool_progress_end();
}

static void
test_progress(void)
{
	char out[512];
	int m, saved;

	memset(&common, 0, sizeof(common));
	tool_init("kin-put", usage, &common);
	output_of(2, progress_steps, out, sizeof(out));
	is_str(out, "kin-put: a warning\n", "progress: nothing when stderr is "
	    "not a terminal");
	if ((m = pty_stderr(&saved)) == -1) {
		ok(0, "progress: a pty for stderr");
		return;
	}
	progress_steps();
	pty_read(m, saved, out, sizeof(out));
	is_str(out, "\rkin-put: 3 records\033[K" "\r\033[Kkin-put: a warning\n"
	    "\rkin-put: 4 records\033[K" "\r\033[K", "progress: once a second "
	    "from the second, cleared before a message and at the end");
	common.quiet = 1;
	if ((m = pty_stderr(&saved)) == -1)
		return;
	tool_progress(20000, "quiet");
	tool_progress_end();
	pty_read(m, saved, out, sizeof(out));
	is_str(out, "", "progress: nothing with -q");
}

int
main(void)
{
	test_values();
	test_quiet_verbose();
	test_messages();
	test_usage_and_trace();
	test_option_values();
	test_aws_options();
	test_option_errors();
	test_help_version();
	test_help_full();
	test_progress();
	return tap_done();
}
