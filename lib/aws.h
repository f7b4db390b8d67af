/*
 * aws: one AWS request, signed (or, for the token services' calls that
 * carry their own proof, unsigned), with the retries of the SDKs'
 * "standard" mode, and AWS error parsing (JSON and XML bodies).
 *
 * Below the service clients (kinesis, s3, sts) and above sigv4, http and
 * retry. It does not know where credentials come from: the caller hands it
 * a function that supplies them (lib/awstool wires in lib/creds' chain,
 * lib/sts the source credentials of an AssumeRole).
 *
 * aws_send retries a whole request. Callers that send signed requests
 * themselves (kin-put's and kin-get's parallel calls through http_multi)
 * sign with aws_sign_request() and decide with the pure pieces below
 * (aws_error_parse, aws_should_retry) and lib/retry's delay, so every path
 * follows the same rules. Never prints; never puts a secret in an error
 * message.
 * jansson: an error body is a small tree read for two members.
 */
#ifndef COINPIPE_AWS_H
#define COINPIPE_AWS_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "awsconf.h"
#include "errbuf.h"
#include "http.h"
#include "sigv4.h"

#define AWS_MAX_ATTEMPTS_LIMIT 20	/* sanity bound on max_attempts */
#define AWS_MAX_HEADERS 32		/* caller's headers per request */

/*
 * Supplies the credentials to sign with at time now: *out's strings stay
 * the supplier's, valid until its next call. Returns 0, or -1 with err set
 * (ERR_CONFIG when there are none). lib/creds' creds_supply is one.
 */
typedef int aws_creds_fn(void *arg, time_t now,
    struct sigv4_credentials *out, struct errbuf *err);

struct aws_options {
	const struct awsconf *conf;	/* region, endpoint, max_attempts,
					 * ca_bundle; copied */
	const char *service;		/* signing name: "kinesis", "s3", "sts";
					 * "s3" selects SIGV4_S3 rules */
	aws_creds_fn *get_creds;	/* called for every attempt; NULL:
					 * requests go unsigned */
	void *creds_arg;		/* for get_creds; must outlive the
					 * client */
	const struct http_options *http; /* copied; NULL: defaults. Its
					 * ca_bundle, else conf->ca_bundle */
	long budget_ms;			/* per aws_send: all attempts and waits
					 * together; 0: no limit */
	volatile sig_atomic_t *stop;	/* when non-zero (SIGTERM), aws_send
					 * makes no further attempt */
	/* For tests; NULL: time(), RAND_bytes(), nanosleep(). */
	time_t (*now_fn)(void *arg);
	uint32_t (*random_fn)(void *arg);
	void (*sleep_fn)(void *arg, long ms);
	void *hook_arg;
};

struct aws_request {
	const char *method;		/* "POST" */
	const char *path;		/* wire form, percent-encoded, after the
					 * endpoint's own path; NULL: "/" */
	const char *query;		/* wire form "a=1&b=2", or NULL */
	const char *url;		/* absolute URL instead of endpoint +
					 * path + query (S3 virtual-hosted) */
	const struct http_field *headers; /* sent and signed (Content-Type,
					 * X-Amz-Target, ...); no Host */
	size_t nheaders;
	const void *body;		/* borrowed */
	size_t body_len;
	const char *payload_hash;	/* hex SHA-256 of body, or
					 * SIGV4_UNSIGNED_PAYLOAD; NULL: hashed */
};

#define AWS_CODE_MAX 128
#define AWS_MESSAGE_MAX 384
#define AWS_REQUEST_ID_MAX 128

/* What an error response said. code is never empty for a status >= 300:
 * "HTTP 503" when the body named nothing. */
struct aws_error {
	char code[AWS_CODE_MAX];
	char message[AWS_MESSAGE_MAX];	/* one line */
	char request_id[AWS_REQUEST_ID_MAX];
};

struct aws_response {
	long status;			/* last status; 0 when none arrived */
	struct http_response http;	/* last response: body and headers */
	struct aws_error error;		/* set when status is not 2xx */
	int attempts;			/* attempts made, 1 or more */
};

struct aws_client;

/* Returns NULL with err set (ERR_CONFIG: no region or endpoint). */
struct aws_client *aws_client_new(const struct aws_options *o,
    struct errbuf *err);
void aws_client_free(struct aws_client *c);

/*
 * Sends req, signing every attempt afresh (new X-Amz-Date, credentials from
 * get_creds at that time; unsigned without get_creds), retrying what
 * aws_should_retry() allows up to max_attempts, waiting what lib/retry's
 * retry_delay_ms() decides (Retry-After included) in between.
 * Returns 0 on a 2xx response. Otherwise -1 with err set as
 * "HTTP 400 ResourceNotFoundException: Stream gecko not found" (resp still
 * holds the last response):
 *	ERR_CONFIG	401/403 and the auth or missing-resource codes of
 *			aws_error_kind(), credentials not found
 *	ERR_TEMP	retries exhausted (" (3 attempts)" is appended),
 *			budget spent, stopped, other 5xx
 *	ERR_DATA	any other 4xx: the request itself was refused
 *	ERR_SYSTEM	memory, oversized response
 * resp must be zeroed or freed before; aws_response_free() after.
 */
int aws_send(struct aws_client *c, const struct aws_request *req,
    struct aws_response *resp, struct errbuf *err);

/*
 * req as a POST / of body with the headers h (borrowed, like body): the
 * shape of every call of the JSON 1.1 and query protocols. For JSON 1.1,
 * aws_json_request fills h[0] and h[1] with its Content-Type and
 * X-Amz-Target: target ("Kinesis_20131202.GetRecords").
 */
void aws_post_request(struct aws_request *req, const struct http_field *h,
    size_t nh, const void *body, size_t len);
void aws_json_request(struct aws_request *req, struct http_field h[2],
    const char *target, const void *body, size_t len);

/* POST / of the JSON 1.1 protocol with X-Amz-Target: target
 * ("Kinesis_20131202.PutRecords"). */
int aws_json_call(struct aws_client *c, const char *target, const void *body,
    size_t len, struct aws_response *resp, struct errbuf *err);

void aws_response_free(struct aws_response *r);

/*
 * One signed attempt (unsigned without get_creds), for callers that send
 * it themselves (http_multi).
 * http is ready to send; it points into this struct, which owns every
 * string (wiped on free). Sign again for every retry.
 */
struct aws_signed {
	struct http_request http;
	struct http_field fields[AWS_MAX_HEADERS + 8];
	char *url;
	char *host;
	char names[8][32];		/* the signer's header names */
	char *values[8];		/* and values, owned */
	size_t nvalues;
};

int aws_sign_request(struct aws_client *c, const struct aws_request *req,
    struct aws_signed *out, struct errbuf *err);
void aws_signed_free(struct aws_signed *s);

/* The client's max_attempts (the config's, or the standard mode's 3). */
int aws_client_max_attempts(const struct aws_client *c);

/*
 * NULL, or a one-line warning when the client signs requests sent over plain
 * HTTP to a host that is not loopback: the access key id, the signatures
 * and any session token then cross the network in clear. For the tool to
 * print once; borrowed, valid while the client lives.
 */
const char *aws_client_warning(const struct aws_client *c);

/* ---- pure pieces ---- */

/*
 * 1 when url is http:// (any case) to a host that urlhost_is_loopback()
 * refuses and that is not "localhost.", else 0; a host name is never
 * resolved, a user@ part is skipped, and a URL urlhost_parse() refuses
 * (no host: curl sends nothing) is 0. The host, without port, user or
 * brackets, goes to host (cut to hostsz, which may be 0; "" for 0).
 */
int aws_url_is_plain_remote(const char *url, char *host, size_t hostsz);

/* Reads the error code, message and request id out of a response: JSON
 * (__type with any "prefix#" dropped, or code; message or Message), XML
 * (<Error><Code>, also inside <ErrorResponse>), x-amzn-ErrorType. */
void aws_error_parse(const struct http_response *r, struct aws_error *out);

/*
 * Sets err to "HTTP 400 Code: message" ("HTTP 503" alone when the body
 * named nothing), of the kind aws_error_kind() gives. Returns -1.
 */
int aws_error_set(struct errbuf *err, long status, const struct aws_error *e);

/* 1 when code is one of the SDKs' throttling error codes. */
int aws_error_is_throttle(const char *code);

/*
 * 1 when an attempt that ended so may be retried: transport_kind is the
 * errbuf kind of a request that got no response (ERR_TEMP is retryable),
 * ERR_NONE when a response arrived; then status 408, 429, 500, 502, 503,
 * 504, a throttling code, or a transient code (RequestTimeout, ...).
 */
int aws_should_retry(long status, const char *code,
    enum errbuf_kind transport_kind);

/* How an error response maps onto the exit-code table (not for 2xx). */
enum errbuf_kind aws_error_kind(long status, const char *code);


#endif
