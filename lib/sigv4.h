/*
 * sigv4: AWS Signature Version 4, pure.
 *
 * No I/O, no clock, no getenv: the signing time and the credentials are
 * parameters, so the official test suite (tests/fixtures/sigv4) can check
 * every stage byte for byte.
 */
#ifndef COINPIPE_SIGV4_H
#define COINPIPE_SIGV4_H

#include <stddef.h>
#include <time.h>

#include "errbuf.h"

#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_HEX_SHA256_LEN 64
#define SIGV4_PRESIGN_MAX_EXPIRES 604800 /* 7 days: S3 presigned URL limit */

/*
 * Borrowed strings. secret_key is never copied into results; the token is,
 * where the protocol puts it (X-Amz-Security-Token in add_headers or
 * presigned_target, the canonical request when signed), and is wiped by
 * sigv4_result_free().
 */
struct sigv4_credentials {
	const char *access_key;
	const char *secret_key;
	const char *token;	/* NULL or "" when there is none */
};

struct sigv4_header {
	const char *name;
	const char *value;	/* as sent on the wire; trimmed for signing */
};

/* Rules that differ between S3 and every other service. */
enum sigv4_flags {
	SIGV4_NORMALIZE_PATH = 1 << 0,	/* remove . / .. and // segments */
	SIGV4_DOUBLE_ENCODE = 1 << 1,	/* URI-encode the wire path again */
	SIGV4_ADD_CONTENT_SHA256 = 1 << 2, /* header mode: x-amz-content-sha256 */
	SIGV4_TOKEN_UNSIGNED = 1 << 3,	/* add the token after signing */
	/* S3: no normalisation, single encoding, x-amz-content-sha256 sent */
	SIGV4_S3 = SIGV4_ADD_CONTENT_SHA256,
	/* every other service (Kinesis, STS, ...) */
	SIGV4_DEFAULT = SIGV4_NORMALIZE_PATH | SIGV4_DOUBLE_ENCODE
};

struct sigv4_request {
	const char *method;
	const char *target;	/* path[?query], wire form (percent-encoded) */
	const struct sigv4_header *headers;	/* must include Host */
	size_t nheaders;
	/* hex SHA-256 of the body, or SIGV4_UNSIGNED_PAYLOAD; when NULL the
	 * signer hashes body/body_len itself */
	const char *payload_hash;
	const void *body;
	size_t body_len;
};

struct sigv4_params {
	const char *region;
	const char *service;
	time_t when;		/* signing time, UTC seconds */
	unsigned flags;		/* enum sigv4_flags */
	long expires;		/* presign only: X-Amz-Expires seconds */
};

/*
 * What signing produced. Every string is owned by the struct and released by
 * sigv4_result_free(), which also wipes them.
 * Header mode: add_headers[0..nadd) are the headers the caller must send in
 * addition to its own (X-Amz-Date, X-Amz-Security-Token,
 * X-Amz-Content-SHA256, Authorization), in that order.
 * Query mode: presigned_target is the full path?query to request, with
 * X-Amz-Signature (and the token where it belongs) included.
 */
struct sigv4_result {
	char *canonical_request;
	char *string_to_sign;
	char signature[SIGV4_HEX_SHA256_LEN + 1];
	char *signed_headers;
	char *authorization;	/* header mode only */
	char *presigned_target;	/* query mode only */
	struct {
		char name[32];
		char *value;
	} add_headers[4];
	size_t nadd;
};

/*
 * Authorization-header signing. Returns 0, or -1 with err set and out left
 * empty (safe to pass to sigv4_result_free). Refused with ERR_USAGE: no Host
 * header, a caller's Authorization header or one the signer adds itself
 * (X-Amz-Date; X-Amz-Security-Token with a token; X-Amz-Content-SHA256
 * with SIGV4_ADD_CONTENT_SHA256), CR/LF in a header value or the target.
 */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p,
    const struct sigv4_credentials *c, struct sigv4_result *out,
    struct errbuf *err);

/*
 * Query-string (presigned URL) signing; p->expires must be 1..604800.
 * presigned_target is req->target unchanged followed by the X-Amz-*
 * parameters; the caller's query must not already hold any of them.
 * SIGV4_ADD_CONTENT_SHA256 does not apply (query mode adds no headers).
 */
int sigv4_presign(const struct sigv4_request *req,
    const struct sigv4_params *p, const struct sigv4_credentials *c,
    struct sigv4_result *out, struct errbuf *err);

void sigv4_result_free(struct sigv4_result *r);

/*
 * URI-encodes s (RFC 3986 unreserved bytes kept; uppercase hex); "/" is kept
 * when keep_slash is set (object keys in paths). Returns a malloc'd string.
 */
char *sigv4_uri_encode(const char *s, size_t len, int keep_slash);

#endif
