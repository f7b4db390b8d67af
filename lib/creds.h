/*
 * creds: the AWS default credential chain, in the order of botocore (the
 * AWS CLI) and the other SDKs; the first source that is configured decides,
 * and a configured source that fails stops the chain with its error:
 *
 *  1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 *     AWS_SESSION_TOKEN.
 *  2. assume role: the profile's role_arn (without web_identity_token_file),
 *     with source_profile (a chain of profiles) or credential_source
 *     (Environment, Ec2InstanceMetadata, EcsContainer): STS AssumeRole.
 *  3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN,
 *     AWS_ROLE_SESSION_NAME, each else the profile's web_identity_token_file,
 *     role_arn, role_session_name: STS AssumeRoleWithWebIdentity.
 *  4. IAM Identity Center (SSO): the profile's sso_account_id and
 *     sso_role_name, with sso_session (an [sso-session NAME] section) or
 *     the legacy sso_start_url and sso_region; the token `aws sso login`
 *     cached in ~/.aws/sso/cache; the portal's GetRoleCredentials.
 *  5. the profile's aws_access_key_id in the shared credentials file.
 *  6. the profile's credential_process.
 *  7. the profile's aws_access_key_id in the config file.
 *  8. container credentials (ECS, EKS Pod Identity).
 *  9. EC2 instance metadata (IMDSv2).
 *
 * The profile is --profile (creds_options.profile), else AWS_PROFILE, else
 * "default". As in botocore, an explicit --profile skips source 1 (the
 * environment's keys still serve credential_source = Environment);
 * AWS_PROFILE alone keeps it first.
 * Temporary credentials are cached and refreshed before they expire, since
 * `kin-get --follow` runs for weeks: the whole chain is resolved again, so a
 * web identity token is read again from its file and an assumed role's
 * source is fetched again. Secrets are wiped on free and never put into an
 * error message.
 * jansson: credential_process, container and IMDS answers are small
 * trees read member by member (their secrets wiped in place).
 */
#ifndef COINPIPE_CREDS_H
#define COINPIPE_CREDS_H

#include <time.h>

#include "errbuf.h"
#include "http.h"
#include "sigv4.h"

/* Refresh this long before Expiration (AWS SDKs use 5 to 15 minutes). */
#define CREDS_REFRESH_AHEAD_S (5 * 60)

struct creds_options {
	const char *profile;	/* --profile; NULL: AWS_PROFILE, else "default" */
	/* for container and IMDS calls; copied, may be NULL */
	const struct http_options *http;
	/* STS region (--region); NULL: AWS_REGION, AWS_DEFAULT_REGION, the
	 * profile's region, else us-east-1 */
	const char *region;
};

struct creds_provider;

struct creds_provider *creds_provider_new(const struct creds_options *o,
    struct errbuf *err);
void creds_provider_free(struct creds_provider *p);

/*
 * Current credentials, resolving the chain on first use and again when the
 * cached ones are within CREDS_REFRESH_AHEAD_S of expiring at `now`.
 * The strings in *out stay valid until the next call or the free.
 * When nothing is found, err names every source tried (ERR_CONFIG).
 */
int creds_provider_get(struct creds_provider *p, time_t now,
    struct sigv4_credentials *out, struct errbuf *err);

/* creds_provider_get in the shape of aws_options.get_creds (aws_creds_fn):
 * arg is the provider. How lib/awstool hands the chain to lib/aws. */
int creds_supply(void *provider, time_t now, struct sigv4_credentials *out,
    struct errbuf *err);

/* Which source supplied the current credentials ("environment",
 * "profile default", "assume role (profile x)", "web identity
 * (environment)", "sso (profile x)", "container", "imds", ...), for -v. */
const char *creds_provider_source(const struct creds_provider *p);

/*
 * credential_process runs through popen(3), that is `/bin/sh -c VALUE`, so
 * the value is shell text: quotes, $VAR, globs, ~ and pipes are expanded
 * by sh. botocore instead splits it with shlex and runs the program
 * directly, without expansion; commands made of plain words and quotes mean
 * the same to both. The process's stderr goes to ours; its stdout must be
 * the Version 1 JSON document and is never quoted in an error message.
 */

/*
 * The token-service sources in detail (lib/sts speaks the protocols):
 *
 * assume role: role_arn, source_profile or credential_source (one of them),
 * role_session_name (default "coinpipe-EPOCH"), external_id,
 * duration_seconds (900 to 43200; default: STS's, one hour). mfa_serial is
 * refused: nothing can prompt for a code in a pipeline. A source profile
 * with static keys, or without role_arn, gives its own credentials (web
 * identity from its settings only, SSO, keys, credential_process); else it
 * assumes its role in turn. Repeating a profile is a loop ("profile "a":
 * source_profile loop: a -> b -> a"), except a profile naming itself while
 * holding static keys; at most 16 profiles in a chain.
 * credential_source = Environment takes AWS_ACCESS_KEY_ID & co. as the
 * role's source: when the profile in use says so, source 1 yields to it
 * (botocore reaches that case only through --profile, see above).
 *
 * STS: region --region (creds_options.region), AWS_REGION,
 * AWS_DEFAULT_REGION, the profile in use's region, else us-east-1; endpoint
 * AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, the config's [services] sts or
 * endpoint_url, else https://sts.REGION.amazonaws.com (regional, as the SDKs
 * now default). AssumeRole is signed with the source credentials;
 * AssumeRoleWithWebIdentity is not (the token is the proof), and the token
 * file is read again at every refresh (EKS rotates it).
 *
 * IAM Identity Center: the profile's sso_account_id and sso_role_name, and
 * sso_start_url and sso_region from its [sso-session NAME] (sso_session) or
 * from the profile itself (legacy); a key in both must agree. The token is
 * read from ~/.aws/sso/cache/SHA1.json, SHA1 the hex SHA-1 of the session
 * name (legacy: of the start URL), and is never refreshed here: an expired
 * (or refused, 401) token gives "the SSO session has expired: run aws sso
 * login --profile NAME". Portal: AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL, the
 * config's [services] sso, else https://portal.sso.SSO_REGION.amazonaws.com.
 *
 * STS and portal calls use creds_options.http with the trace capped at
 * level 1 (their bodies hold secrets) and a 15 s limit when it sets none.
 */

/*
 * 1 when url may serve container credentials: any https URL with a host,
 * or http without a user@ part to a loopback host (urlhost_is_loopback:
 * localhost, 127.0.0.0/8, ::1, ::ffff:127.0.0.0/104), the ECS endpoint
 * 169.254.170.2 or the EKS Pod Identity endpoints 169.254.170.23 and
 * [fd00:ec2::23]. Host names other than localhost are not resolved.
 */
int creds_container_url_allowed(const char *url);

#endif
