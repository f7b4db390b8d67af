/*
 * tool: the front every coinpipe tool shares. It prints, so it lives in
 * cmd/ and not in lib/ (lib/ never prints): the program name on every
 * message, what -q and -v let through, usage errors, the options every
 * tool takes (--region, --profile, --endpoint-url, -q, -v, --help,
 * --version) and the trace callback handed to lib/http.
 *
 * The rules of the messages, the same in every tool:
 *   tool_warnx()    errors and whatever explains the exit code: always;
 *   tool_notice()   warnings (a record skipped, a fallback taken): not
 *                   with -q;
 *   tool_verbose()  detail asked for with -v, -vv, ...: shown whether or
 *                   not -q was also given (-q silences warnings only).
 * Each is one line "prog: message" on the standard error.
 */
#ifndef COINPIPE_TOOL_H
#define COINPIPE_TOOL_H

#include <getopt.h>
#include <stdio.h>

#include "awstool.h"

/* getopt_long values of the shared long-only options, clear of the
 * tools' own (which count up from 256). */
enum {
	TOOL_OPT_REGION = 0x7000,
	TOOL_OPT_PROFILE,
	TOOL_OPT_ENDPOINT
};

/* For a tool's longopts table: the AWS options, then the ones every tool
 * has; the short options of the latter are TOOL_SHORTOPTS. */
#define TOOL_AWS_LONGOPTS \
	{ "region", required_argument, NULL, TOOL_OPT_REGION }, \
	{ "profile", required_argument, NULL, TOOL_OPT_PROFILE }, \
	{ "endpoint-url", required_argument, NULL, TOOL_OPT_ENDPOINT }
#define TOOL_COMMON_LONGOPTS \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }
#define TOOL_SHORTOPTS "qvhV"

/* The shared options as given; strings are borrowed from argv. */
struct tool_common {
	const char *region;		/* --region, or NULL */
	const char *profile;		/* --profile, or NULL */
	const char *endpoint_url;	/* --endpoint-url, or NULL */
	int quiet;			/* -q: no warnings */
	int verbose;			/* how many -v */
	int done;			/* --help or --version answered */
};

/*
 * Once, first thing in main(): the name every message starts with, the
 * tool's --help text, and the options the messages obey (c is borrowed
 * and read at each message, so a -q anywhere on the line counts).
 */
void tool_init(const char *prog, void (*usage)(FILE *),
    const struct tool_common *c);

/* What --version prints after the library versions (s3-putcsv: zlib). */
void tool_set_version_extra(const char *extra);

/*
 * Called with each value getopt_long() returns (run with opterr = 0 and an
 * optstring starting with ':'). Returns TOOL_NOT_COMMON when opt is the
 * tool's own; otherwise 0 to go on, or the exit code to return now:
 * EXIT_USAGE after an unknown option or a missing value (reported as the
 * user wrote the option), 0 with c->done set after --help or --version,
 * EXIT_TEMPORARY when that text could not be written.
 */
#define TOOL_NOT_COMMON (-1)
int tool_common_option(struct tool_common *c, int opt, const char *arg,
    char *const argv[]);

/*
 * The getopt_long loop of every tool (opterr off: our own words): each
 * shared option goes to tool_common_option, every other to own(arg, opt,
 * value), which returns 0 or an exit code. shortopts starts with ':' and
 * ends with TOOL_SHORTOPTS. Returns 0 to go on (c->done set after --help
 * or --version) with optind at the first operand, else the exit code.
 */
typedef int (*tool_option_fn)(void *arg, int opt, const char *value);
int tool_getopt(struct tool_common *c, int argc, char *const argv[],
    const char *shortopts, const struct option *longopts,
    tool_option_fn own, void *arg);

/* The lib/http trace level for -v counts: -vv request lines, -vvv also
 * headers and bodies. */
int tool_trace_level(const struct tool_common *c);

/*
 * The session of an AWS tool from its shared options: ao zeroed, then the
 * program, service, --region/--profile/--endpoint-url, the -v trace and
 * its callback; the tool adds its own (budget, stop flag) before
 * tool_aws_open, which opens the session and prints its plain-HTTP
 * warning, if any, once (a notice). Returns what awstool_open returns.
 */
void tool_aws_options(struct awstool_options *ao, const char *service);
int tool_aws_open(const struct awstool_options *ao, struct awstool *t,
    struct errbuf *err);

/* lib/http's trace_fn: "prog: line" on the standard error. */
void tool_trace_line(void *arg, const char *line);

/* "prog: message", then "try 'prog --help'"; returns EXIT_USAGE. */
int tool_usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* An option's whole number in [min, max] or duration ("90s"), else the
 * usage error "NAME: reason"; returns 0 or EXIT_USAGE. */
int tool_opt_number(const char *name, const char *arg, long long min,
    long long max, long long *out);
int tool_opt_duration(const char *name, const char *arg, long long *ms);

/*
 * A progress line, rewritten in place on a terminal at most once a
 * second, from the second second on; never with -q or when the standard
 * error is not a terminal. A message printed meanwhile clears it first;
 * tool_progress_end clears it for good, before the last messages.
 */
void tool_progress(long long now_ms, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void tool_progress_end(void);

void tool_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tool_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void tool_verbose(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
