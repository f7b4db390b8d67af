/*
 * cli: what every tool's main() needs and nothing else: number and size
 * parsing for options (durations: lib/timetext), the version line, the
 * shared exit-code table and a signal flag. Pure except for
 * cli_signals_install() and cli_stdio_guard(). It never prints: the
 * messages, usage errors and the shared options are the tools' own front,
 * cmd/common/tool.h.
 * jansson: only its version string, for --version.
 */
#ifndef COINPIPE_CLI_H
#define COINPIPE_CLI_H

#include <signal.h>
#include <stddef.h>

#include "errbuf.h"

/* The exit-code table shared by every tool (STYLE.md section 3). */
enum cli_exit {
	EXIT_ALL_HANDLED = 0,
	EXIT_SOME_FAILED = 1,
	EXIT_USAGE = 2,
	EXIT_CONFIG = 3,
	EXIT_TEMPORARY = 4,
	EXIT_BAD_INPUT = 5,
	EXIT_SIGNAL_BASE = 128
};

/* A whole number in [min, max], strtoll with an end-pointer check. */
int cli_parse_llong(const char *s, long long min, long long max,
    long long *out, struct errbuf *err);

/* "1MiB", "64M", "5242880", "8k": binary multiples (k/K, M, G, with an
 * optional "iB" or "B"). */
int cli_parse_size(const char *s, unsigned long long *out, struct errbuf *err);

/* "kin-put 0.1.0 (libcurl 7.88.1, jansson 2.14, OpenSSL 3.0.19 ...)" into out. */
void cli_version_line(const char *prog, char *out, size_t outlen);

/* Maps an errbuf kind to the exit code a tool returns for it. */
int cli_exit_for(enum errbuf_kind kind);

/*
 * SIGINT/SIGTERM set cli_stop_signal (no SA_RESTART, so a blocking read or
 * poll returns EINTR); SIGPIPE is ignored so a write returns EPIPE and the
 * tool can end quietly. The main loop checks cli_stop_signal.
 */
extern volatile sig_atomic_t cli_stop_signal;
int cli_signals_install(void);

/*
 * A tool started with standard input, output or error closed (`>&-`) would
 * hand that number to the next file or socket it opens, and then write its
 * records into a checkpoint file or an HTTP connection. Each closed one is
 * opened on /dev/null the wrong way round (stdout read-only, stdin
 * write-only), so that using it fails loudly with EBADF. Returns 0 or -1.
 * cli_signals_install() calls it first.
 */
int cli_stdio_guard(void);


/* After output hit EPIPE: restore SIGPIPE's default and raise it, so the
 * shell sees the same status as for any other tool killed by the pipe. */
void cli_raise_sigpipe(void);

#endif
