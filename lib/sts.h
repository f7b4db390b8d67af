/*
 * sts: the token services behind the credential chain's temporary
 * credentials: AWS STS (AssumeRole, AssumeRoleWithWebIdentity; query API,
 * XML answers) and the IAM Identity Center portal (GetRoleCredentials;
 * REST, JSON answers), plus the token cache `aws sso login` leaves behind.
 *
 * lib/creds decides when to call what; this module only speaks the
 * protocols. Never prints. Secrets (keys, tokens, the web identity token,
 * the SSO access token) are wiped on free and never put into an error
 * message; a trace, when the caller's http options ask for one, is capped
 * at level 1 (request and status lines), since the bodies carry them.
 * jansson: the SSO portal's answers and the token cache are small trees
 * read member by member (their secrets wiped in place).
 */
#ifndef COINPIPE_STS_H
#define COINPIPE_STS_H

#include <stddef.h>
#include <time.h>

#include "awsconf.h"
#include "errbuf.h"
#include "http.h"
#include "sigv4.h"

#define STS_API_VERSION "2011-06-15"
/* IAM limits on a role session's duration (AssumeRole DurationSeconds) */
#define STS_MIN_DURATION_S 900
#define STS_MAX_DURATION_S 43200
#define STS_MAX_BODY ((size_t)64 * 1024)	/* answers are about 2 KiB */
#define STS_TIMEOUT_MS 15000L	/* whole request, when the caller set none */

/* Temporary credentials; every string owned, wiped by sts_creds_free. */
struct sts_creds {
	char *access_key;
	char *secret_key;
	char *token;
	time_t expiration;	/* UTC seconds, never 0 */
};

void sts_creds_free(struct sts_creds *c);

/*
 * Where and how to call: conf->endpoint (scheme://host[:port], no trailing
 * '/'), conf->region (the signing region), conf->max_attempts and
 * conf->ca_bundle. http may be NULL.
 */
struct sts_target {
	const struct awsconf *conf;
	const struct http_options *http;
};

struct sts_role {
	const char *role_arn;
	const char *session_name;	/* RoleSessionName, required */
	const char *external_id;	/* ExternalId, or NULL */
	long duration_s;		/* DurationSeconds, or 0: STS default */
};

/*
 * STS AssumeRole: POST of the form Action=AssumeRole&Version=2011-06-15&...
 * signed (SigV4, service "sts") with src, through lib/aws and its retries.
 * Errors: "AssumeRole ARN: HTTP 403 AccessDenied: ..." (aws_send's kinds).
 */
int sts_assume_role(const struct sts_target *t,
    const struct sigv4_credentials *src, const struct sts_role *r,
    struct sts_creds *out, struct errbuf *err);

/*
 * STS AssumeRoleWithWebIdentity: the same form with WebIdentityToken, sent
 * unsigned (no Authorization), as the SDKs do: the token is the proof.
 * r->external_id is not part of this call and is ignored.
 */
int sts_assume_role_web_identity(const struct sts_target *t,
    const struct sts_role *r, const char *token, struct sts_creds *out,
    struct errbuf *err);

/* Reads <Credentials> out of an AssumeRole* answer (pure, for tests). */
int sts_parse_credentials(const char *body, size_t len,
    struct sts_creds *out, struct errbuf *err);

/*
 * IAM Identity Center portal GetRoleCredentials:
 * GET {endpoint}/federation/credentials?account_id=..&role_name=.. with the
 * header x-amz-sso_bearer_token; unsigned. A 401/403 is reported as
 * ERR_CONFIG "HTTP 401 UnauthorizedException: ..." for the caller to turn
 * into "run aws sso login".
 */
int sts_sso_role_credentials(const struct sts_target *t,
    const char *access_token, const char *account_id,
    const char *role_name, long *status, struct sts_creds *out,
    struct errbuf *err);

/* {"roleCredentials": {accessKeyId, secretAccessKey, sessionToken,
 * expiration (epoch milliseconds)}} (pure, for tests). */
int sts_sso_parse_credentials(const char *body, size_t len,
    struct sts_creds *out, struct errbuf *err);

/* The name of the `aws sso login` cache file for a session name (or, for
 * a legacy profile, the start URL): lower-case hex SHA-1, out[41]. */
void sts_sso_cache_key(const char *name, char out[41]);

/*
 * Reads a cache file ~/.aws/sso/cache/KEY.json: accessToken (returned,
 * owned, wipe it) and expiresAt ("2030-01-01T00:00:00Z", or the older
 * "...UTC" form). Returns 0; 1 when the file does not exist (err
 * untouched: the caller says to log in); -1 with err set (ERR_CONFIG).
 */
int sts_sso_read_token(const char *path, char **token, time_t *expires,
    struct errbuf *err);

/*
 * Refreshes the token of an sso-session cache file, as AWS CLI v2 does
 * (botocore SSOTokenProvider): SSO OIDC CreateToken, POST {endpoint}/token
 * with grantType refresh_token and the file's clientId, clientSecret and
 * refreshToken, unsigned; then the file is rewritten atomically, mode
 * 0600, with the new accessToken, expiresAt and refreshToken, its other
 * members kept. Returns 0 with *token (owned, wipe it) and *expires set;
 * 1 when the file cannot be refreshed (no refreshToken or client, or the
 * client registration expired before now); -1 with err set and *status
 * the HTTP status (400 or 401: the session has ended).
 */
int sts_sso_refresh_token(const struct sts_target *t, const char *path,
    time_t now, char **token, time_t *expires, long *status,
    struct errbuf *err);

#endif
