#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "errbuf.h"
#include "timetext.h"
#include "tool.h"

#define VERSION_LINE_MAX 512
#define PROGRESS_MS 1000LL

static const char *prog = "coinpipe";
static void (*usage_fn)(FILE *);
static const char *version_extra = "";
static const struct tool_common *opts;
static long long progress_first = -1, progress_next;
static int progress_shown;		/* a progress line is on the screen */

void
tool_init(const char *name, void (*usage)(FILE *),
    const struct tool_common *c)
{
	prog = name;
	usage_fn = usage;
	opts = c;
}

void
tool_set_version_extra(const char *extra)
{
	version_extra = extra != NULL ? extra : "";
}

void
tool_progress_end(void)
{
	if (progress_shown)
		fputs("\r\033[K", stderr);
	progress_shown = 0;
}

void
tool_progress(long long now_ms, const char *fmt, ...)
{
	va_list ap;

	if (progress_first < 0)
		progress_first = now_ms;
	if ((opts != NULL && opts->quiet) || now_ms < progress_next ||
	    !isatty(STDERR_FILENO))
		return;
	progress_next = now_ms + PROGRESS_MS;
	if (now_ms - progress_first < PROGRESS_MS)
		return;
	fprintf(stderr, "\r%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\033[K", stderr);
	progress_shown = 1;
}

/* The one place a message is printed. */
static void __attribute__((format(printf, 1, 0)))
vwarnx(const char *fmt, va_list ap)
{
	tool_progress_end();
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
tool_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

void
tool_notice(const char *fmt, ...)
{
	va_list ap;

	if (opts != NULL && opts->quiet)
		return;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

void
tool_verbose(int level, const char *fmt, ...)
{
	va_list ap;

	if (opts == NULL || opts->verbose < level)
		return;
	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
}

int
tool_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarnx(fmt, ap);
	va_end(ap);
	fprintf(stderr, "try '%s --help'\n", prog);
	return EXIT_USAGE;
}

void
tool_trace_line(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "%s: %s\n", prog, line);
}

int
tool_trace_level(const struct tool_common *c)
{
	if (c->verbose >= 3)
		return 2;
	return c->verbose == 2;
}

/*
 * getopt_long's '?' (unknown option) or ':' (value missing) as a usage
 * error naming the option as the user wrote it: a long one without any
 * =value, a short one alone, also when it came bundled as in -qx.
 */
static int
getopt_error(int c, char *const argv[])
{
	const char *arg = optind > 0 ? argv[optind - 1] : "";
	char name[3] = { '-', (char)optopt, '\0' };
	int len = (int)strcspn(arg, "=");

	if (strncmp(arg, "--", 2) != 0 || len <= 2) {
		arg = name;
		len = 2;
	}
	if (c == ':')
		return tool_usage_error("option '%.*s' needs a value", len,
		    arg);
	return tool_usage_error("unknown option '%.*s'", len, arg);
}

/* --help and --version: to stdout, whose failure (>/dev/full) shows in
 * the exit code. */
static int
answer(struct tool_common *c, int opt)
{
	char line[VERSION_LINE_MAX];

	c->done = 1;
	if (opt == 'h') {
		if (usage_fn != NULL)
			usage_fn(stdout);
	} else {
		cli_version_line(prog, line, sizeof(line));
		printf("%s%s\n", line, version_extra);
	}
	return ferror(stdout) || fflush(stdout) == EOF ? EXIT_TEMPORARY :
	    EXIT_ALL_HANDLED;
}

int
tool_common_option(struct tool_common *c, int opt, const char *arg,
    char *const argv[])
{
	switch (opt) {
	case '?':
	case ':':
		return getopt_error(opt, argv);
	case TOOL_OPT_REGION: c->region = arg; return 0;
	case TOOL_OPT_PROFILE: c->profile = arg; return 0;
	case TOOL_OPT_ENDPOINT: c->endpoint_url = arg; return 0;
	case 'q': c->quiet = 1; return 0;
	case 'v': c->verbose++; return 0;
	case 'h':
	case 'V':
		return answer(c, opt);
	}
	return TOOL_NOT_COMMON;
}

int
tool_opt_number(const char *name, const char *arg, long long min,
    long long max, long long *out)
{
	struct errbuf e;

	if (cli_parse_llong(arg, min, max, out, &e) == -1)
		return tool_usage_error("%s: %s", name, e.msg);
	return 0;
}

int
tool_opt_duration(const char *name, const char *arg, long long *ms)
{
	struct errbuf e;

	if (timetext_duration_ms(arg, ms, &e) == -1)
		return tool_usage_error("%s: %s", name, e.msg);
	return 0;
}

void
tool_aws_options(struct awstool_options *ao, const char *service)
{
	memset(ao, 0, sizeof(*ao));
	ao->prog = prog;
	ao->service = service;
	if (opts != NULL) {
		ao->region = opts->region;
		ao->profile = opts->profile;
		ao->endpoint_url = opts->endpoint_url;
		ao->trace = tool_trace_level(opts);
	}
	ao->trace_fn = tool_trace_line;
}

int
tool_aws_open(const struct awstool_options *ao, struct awstool *t,
    struct errbuf *err)
{
	if (awstool_open(ao, t, err) == -1)
		return -1;
	if (aws_client_warning(t->client) != NULL)
		tool_notice("%s", aws_client_warning(t->client));
	return 0;
}

int
tool_getopt(struct tool_common *c, int argc, char *const argv[],
    const char *shortopts, const struct option *longopts,
    tool_option_fn own, void *arg)
{
	int opt, rc = 0;

	opterr = 0;
	while (rc == 0 && !c->done && (opt = getopt_long(argc, argv,
	    shortopts, longopts, NULL)) != -1) {
		rc = tool_common_option(c, opt, optarg, argv);
		if (rc == TOOL_NOT_COMMON)
			rc = own(arg, opt, optarg);
	}
	return rc;
}
