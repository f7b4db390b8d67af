/*
 * http: the only place that talks to libcurl.
 *
 * One easy handle per client, reused for sequential requests so connections
 * stay alive; http_multi runs several requests in parallel over kept-alive
 * connections. No retries here: lib/aws decides what to retry.
 * Never prints: a trace callback receives redacted lines when asked.
 */
#ifndef COINPIPE_HTTP_H
#define COINPIPE_HTTP_H

#include <signal.h>
#include <stddef.h>

#include "buf.h"
#include "errbuf.h"

#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 3100L	/* AWS SDK default ~3 s */
#define HTTP_DEFAULT_LOW_SPEED_TIME_S 30L
#define HTTP_DEFAULT_MAX_RESPONSE (64UL << 20)	/* cap on a body we keep */
#define HTTP_TRACE_BODY_MAX 2048	/* body bytes shown at trace level 2 */
#define HTTP_MULTI_MAX_HANDLES 64	/* parallel transfers per http_multi */

struct http_options {
	const char *user_agent;		/* "kin-put/0.1.0" */
	const char *ca_bundle;		/* AWS_CA_BUNDLE, or NULL */
	long connect_timeout_ms;	/* 0: default */
	long timeout_ms;		/* whole request; 0: none */
	long low_speed_time_s;		/* abort below 1 B/s for this long */
	size_t max_response;		/* 0: default */
	int trace;			/* 0 none, 1 request lines, 2 + headers
					 * and bodies (secrets redacted) */
	void (*trace_fn)(void *arg, const char *line);	/* one line, no LF */
	void *trace_arg;
};

struct http_field {
	const char *name;
	const char *value;
};

struct http_request {
	const char *method;
	const char *url;		/* absolute, already percent-encoded */
	const struct http_field *headers;
	size_t nheaders;
	const void *body;		/* borrowed until the request completes */
	size_t body_len;
};

struct http_response {
	long status;			/* 0 when no response arrived */
	struct buf body;		/* capped at max_response */
	char **header_names;		/* as received, for http_response_header */
	char **header_values;
	size_t nheaders;
};

struct http_client;

/*
 * curl_global_init, once (not thread-safe: call it from main() before any
 * thread starts, or let http_client_new/http_multi_new call it lazily).
 * Returns 0, or -1 with err set.
 */
int http_global_init(struct errbuf *err);

/* Returns NULL with err set on failure; options are copied. */
struct http_client *http_client_new(const struct http_options *o,
    struct errbuf *err);
void http_client_free(struct http_client *c);

/*
 * Performs one request. Returns 0 when an HTTP response arrived, whatever its
 * status; -1 when none did, with err->kind ERR_TEMP for what a retry may cure
 * (connection refused or reset, timeout, DNS), ERR_CONFIG for what it will not
 * (TLS verification, bad URL), ERR_SYSTEM for memory.
 * resp must be zeroed or freed before; the caller frees it.
 */
int http_client_do(struct http_client *c, const struct http_request *req,
    struct http_response *resp, struct errbuf *err);

/*
 * s with every session token an AWS error message may quote (the value
 * after "x-amz-security-token:" or "=") replaced by REDACTED, as traces show
 * it. Returns a string the caller frees, or NULL when out of memory.
 */
char *http_redact_text(const char *s);

/* Case-insensitive lookup of a response header; NULL when absent. */
const char *http_response_header(const struct http_response *r,
    const char *name);
void http_response_free(struct http_response *r);

/*
 * Parses a Retry-After value (delta seconds or an HTTP date, compared with
 * now). Returns milliseconds to wait, or -1 when absent or unparsable.
 */
long http_retry_after_ms(const char *value, long now);

/*
 * http_multi: up to max_handles requests in flight at once, over connections
 * kept alive between them, plus an extra descriptor (stdin) to wait on.
 *
 *	m = http_multi_new(&opts, 8, err);
 *	http_multi_add(m, &req, tag, err);	// req borrowed until done
 *	n = http_multi_wait(m, 0, 500, done, 8, &stdin_ready, err);
 *	for each done[i]: look at done[i].tag, .rc, .resp, .err, then
 *	    http_response_free(&done[i].resp)
 *
 * Trace lines of parallel transfers interleave.
 */
struct http_multi;

/* One finished transfer, handed over by http_multi_wait(). */
struct http_multi_done {
	void *tag;			/* as given to http_multi_add */
	int rc;				/* as http_client_do would return */
	struct http_response resp;	/* owned by the caller now */
	struct errbuf err;		/* set when rc == -1 */
};

/* max_handles in 1..HTTP_MULTI_MAX_HANDLES; options are copied. */
struct http_multi *http_multi_new(const struct http_options *o,
    size_t max_handles, struct errbuf *err);
/* Abandons transfers still in flight; their requests are no longer used. */
void http_multi_free(struct http_multi *m);

/*
 * Starts a request. req, its headers and its body are borrowed until its
 * completion comes back from http_multi_wait(). Returns 0, or -1 with err
 * set (ERR_USAGE when max_handles are already in flight).
 */
int http_multi_add(struct http_multi *m, const struct http_request *req,
    void *tag, struct errbuf *err);

/*
 * Drives the transfers until at least one completes, extra_fd (-1: none)
 * becomes readable, or timeout_ms (-1: no limit) passes. Completed ones go
 * to done[0..max), the rest stay for a later call. *fd_ready (may be NULL)
 * says whether extra_fd is readable. Returns how many completed, or -1
 * with err set when the multi handle itself failed.
 */
/*
 * A flag (SIGINT/SIGTERM's) that makes http_multi_wait return early: a
 * signal interrupts libcurl's poll, which libcurl then treats as a timeout
 * slice, so the flag is what lets the caller see the signal at once.
 */
void http_multi_set_stop(struct http_multi *m, volatile sig_atomic_t *stop);

int http_multi_wait(struct http_multi *m, int extra_fd, int timeout_ms,
    struct http_multi_done *done, size_t max, int *fd_ready,
    struct errbuf *err);

#endif
