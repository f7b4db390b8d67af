/*
 * creds: the AWS default credential chain.
 *
 * Sources, in the order of botocore's create_credential_resolver() (env,
 * assume role, then ProfileProviderBuilder's web identity, SSO, shared
 * credentials file, credential_process, config file, then container and
 * instance metadata); the first one that is configured decides, and a
 * configured source that fails stops the chain with its error instead of
 * falling through to another identity:
 *  1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (both or
 *     neither), AWS_SESSION_TOKEN.
 *  2. assume role: the profile's role_arn, unless it also has
 *     web_identity_token_file (then 3 handles it). A named profile (--profile
 *     or AWS_PROFILE) must exist; this is where that is checked.
 *  3. web identity: AWS_WEB_IDENTITY_TOKEN_FILE / web_identity_token_file.
 *  4. IAM Identity Center: sso_account_id or sso_role_name in the profile.
 *  5.-7. the profile (awsfiles.h says which files and sections):
 *     aws_access_key_id in the credentials file; else credential_process
 *     (either file); else aws_access_key_id in the config file.
 *  8. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, else
 *     AWS_CONTAINER_CREDENTIALS_FULL_URI; Authorization from the file
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN (the file wins, as in the SDKs).
 *  9. EC2 instance metadata, IMDSv2, unless AWS_EC2_METADATA_DISABLED=true.
 *     It never stops the chain: off EC2 it simply is not there.
 * Credentials with an Expiration are resolved again through the whole chain
 * CREDS_REFRESH_AHEAD_S before it; when that fails while the old ones are
 * still valid, the old ones are kept.
 *
 * A role's source (botocore AssumeRoleProvider): credential_source names
 * source 1, 8 or 9; source_profile names a profile, which gives its own
 * credentials through sources 3-7 when it has static keys or no role_arn
 * (web identity variables are not read for it), else assumes its role in
 * turn. A profile may name itself as source_profile only when it holds
 * static keys; any other repeat is a loop and an error.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "awsconf.h"
#include "awsfiles.h"
#include "buf.h"
#include "creds.h"
#include "jsonwipe.h"
#include "sts.h"
#include "timetext.h"
#include "urlhost.h"

#define PROCESS_MAX_OUTPUT ((size_t)64 * 1024)	/* four strings of JSON, with room */
#define HTTP_MAX_BODY ((size_t)64 * 1024)	/* container and IMDS answers */
#define TOKEN_FILE_MAX 16384		/* an EKS token is about 1 KiB */
#define CONTAINER_HOST "http://169.254.170.2"	/* ECS task role endpoint */
#define CONTAINER_TIMEOUT_MS 2000L	/* botocore: 2 s */
#define IMDS_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL "21600"		/* 6 h, the SDK default */
#define IMDS_TIMEOUT_MS 1000L		/* fail fast off EC2 */
#define IMDS_ROLES_PATH "/latest/meta-data/iam/security-credentials/"
#define ROLE_CHAIN_MAX 16		/* profiles in one source_profile chain */
#define STS_DEFAULT_REGION "us-east-1"	/* STS has a partition-global
					 * endpoint; us-east-1 signs for it */
#define SSO_CACHE_DIR ".aws/sso/cache"	/* botocore SSOProvider, under ~ */
#define SSO_REFRESH_WINDOW_S ((time_t)15 * 60)	/* botocore SSOTokenProvider */

struct creds_set {
	char *access_key;
	char *secret_key;
	char *token;		/* NULL when there is none */
	time_t expiration;	/* 0: does not expire */
	char source[128];
};

struct creds_provider {
	char *profile;		/* --profile, or NULL */
	char *region;		/* creds_options.region, or NULL */
	struct http_options http;
	char *user_agent;	/* owned copies of the http strings */
	char *ca_bundle;
	struct creds_set cur;
	int have;
};

/* One resolution of the chain: the files, read once, and the clock. */
struct resolve_ctx {
	struct creds_provider *p;
	time_t now;
	int loaded;		/* files holds both files */
	struct awsfiles files;
	char *top;		/* the profile in use, before any chain switch */
	char *top_region;	/* its region setting, or NULL */
	int top_explicit;	/* it was named (--profile, AWS_PROFILE) */
	char *visited[ROLE_CHAIN_MAX];	/* the source_profile chain so far */
	size_t nvisited;
};

/* One source of the chain. */
struct chain_ctx {
	struct creds_provider *p;
	struct resolve_ctx *r;
	struct creds_set *out;
	int as_source;		/* for credential_source, not the chain */
	char tried[512];	/* "tried: ..." entry; "" to leave it out */
};

/* Returns 1 found (ctx->out filled), 0 not configured, -1 error. */
typedef int (*creds_source_fn)(struct chain_ctx *c, struct errbuf *err);

static int from_env(struct chain_ctx *, struct errbuf *);
static int from_assume_role(struct chain_ctx *, struct errbuf *);
static int from_web_identity(struct chain_ctx *, struct errbuf *);
static int from_sso(struct chain_ctx *, struct errbuf *);
static int from_profile(struct chain_ctx *, struct errbuf *);
static int from_container(struct chain_ctx *, struct errbuf *);
static int from_imds(struct chain_ctx *, struct errbuf *);

static const creds_source_fn chain[] = {
	from_env,
	from_assume_role,
	from_web_identity,
	from_sso,
	from_profile,		/* credentials file, process, config file */
	from_container,
	from_imds
};

static int read_token_file(const char *, char **, struct errbuf *);

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static void
set_wipe(struct creds_set *s)
{
	buf_wipe_str(s->access_key);
	buf_wipe_str(s->secret_key);
	buf_wipe_str(s->token);
	memset(s, 0, sizeof(*s));
}

static int
set_fill(struct creds_set *s, const char *ak, const char *sk,
    const char *tok, time_t expiration, struct errbuf *err)
{
	s->access_key = strdup(ak);
	s->secret_key = strdup(sk);
	s->token = tok != NULL && *tok != '\0' ? strdup(tok) : NULL;
	s->expiration = expiration;
	if (s->access_key == NULL || s->secret_key == NULL ||
	    (tok != NULL && *tok != '\0' && s->token == NULL)) {
		set_wipe(s);
		/* explicit -1: the analyzer cannot see into errbuf_set */
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * The JSON the process, container and IMDS sources return:
 * AccessKeyId, SecretAccessKey, the token under token_key, Expiration.
 * what names the source in messages, which never quote the document.
 */
static int
parse_creds_json(const char *body, size_t len, const char *token_key,
    const char *what, struct creds_set *out, struct errbuf *err)
{
	json_error_t jerr;
	json_t *o;
	const char *ak, *sk, *exp;
	time_t when = 0;
	int rc = -1;

	/* jerr.text may quote the input ("near '...'"): report position only */
	if ((o = json_loadb(body, len, 0, &jerr)) == NULL ||
	    !json_is_object(o)) {
		errbuf_set(err, ERR_CONFIG, "%s: not a JSON object (line %d, "
		    "column %d)", what, o ? 1 : jerr.line, o ? 1 : jerr.column);
		goto out;
	}
	ak = jsonwipe_str(o, "AccessKeyId");
	sk = jsonwipe_str(o, "SecretAccessKey");
	if (ak == NULL || sk == NULL) {
		errbuf_set(err, ERR_CONFIG, "%s: no %s in the answer", what,
		    ak == NULL ? "AccessKeyId" : "SecretAccessKey");
		goto out;
	}
	if ((exp = jsonwipe_str(o, "Expiration")) != NULL &&
	    timetext_iso8601(exp, TIMETEXT_ZONE, &when, NULL) == -1) {
		errbuf_set(err, ERR_CONFIG, "%s: Expiration is not an ISO 8601 "
		    "time", what);
		goto out;
	}
	rc = set_fill(out, ak, sk, jsonwipe_str(o, token_key), when, err);
out:
	jsonwipe_decref(o);
	return rc;
}

static int files_for(struct resolve_ctx *, const char *, struct awsfiles **,
    struct errbuf *);

/*
 * The environment's keys are the source of the profile's role when it says
 * credential_source = Environment, not credentials of their own. botocore
 * reaches that only with an explicit --profile, which drops the
 * environment from its chain; for a profile named by AWS_PROFILE it keeps
 * the environment first and would never assume the role, which is not what
 * naming that profile asks for, so this case yields to the profile. A file
 * that cannot be read is reported by the profile's own sources.
 */
static int
env_is_role_source(struct chain_ctx *c)
{
	struct awsfiles *a;
	struct errbuf ignored;
	const char *cs;

	if (c->r == NULL || files_for(c->r, NULL, &a, &ignored) == -1)
		return 0;
	cs = awsfiles_profile_get(a, "credential_source", NULL, NULL);
	return awsfiles_profile_get(a, "role_arn", NULL, NULL) != NULL &&
	    cs != NULL && strcmp(cs, "Environment") == 0;
}

/*
 * Source 1: the environment (also credential_source = Environment). An
 * explicit --profile drops it from the chain, as in botocore: keys a CI
 * job exports must not quietly act for the profile the user named.
 */
static int
from_env(struct chain_ctx *c, struct errbuf *err)
{
	const char *ak = env("AWS_ACCESS_KEY_ID");
	const char *sk = env("AWS_SECRET_ACCESS_KEY");

	if (!c->as_source && c->p->profile != NULL) {
		c->tried[0] = '\0';
		return 0;
	}
	snprintf(c->tried, sizeof(c->tried), "environment");
	if (ak == NULL && sk == NULL)
		return 0;
	if (ak == NULL || sk == NULL)
		return errbuf_set(err, ERR_CONFIG, "%s is set but %s is not "
		    "(set both or neither)",
		    ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	if (!c->as_source && env_is_role_source(c)) {
		c->tried[0] = '\0';
		return 0;
	}
	if (set_fill(c->out, ak, sk, env("AWS_SESSION_TOKEN"), 0, err) == -1)
		return -1;
	snprintf(c->out->source, sizeof(c->out->source), "environment");
	return 1;
}

/* Moves temporary credentials from STS into a set. */
static void
set_take(struct creds_set *s, struct sts_creds *c)
{
	s->access_key = c->access_key;
	s->secret_key = c->secret_key;
	s->token = c->token;
	s->expiration = c->expiration;
	memset(c, 0, sizeof(*c));
}

static void
set_view(const struct creds_set *s, struct sigv4_credentials *c)
{
	c->access_key = s->access_key;
	c->secret_key = s->secret_key;
	c->token = s->token;
}

/* --- the profile files ------------------------------------------------ */

/* Both files, loaded once per resolution, pointed at profile `name`
 * (NULL: the profile in use). */
static int
files_for(struct resolve_ctx *r, const char *name, struct awsfiles **a,
    struct errbuf *err)
{
	const char *region;

	*a = &r->files;
	/* a failed load is retried by each caller, and fails the same way */
	if (!r->loaded) {
		if (awsfiles_open(&r->files, r->p->profile, err) == -1)
			return -1;
		r->loaded = 1;
		r->top_explicit = r->files.explicit_profile;
		region = awsfiles_profile_get(&r->files, "region", NULL, NULL);
		if ((r->top = strdup(r->files.profile)) == NULL ||
		    (region != NULL && (r->top_region = strdup(region)) ==
		    NULL)) {
			errbuf_set(err, ERR_SYSTEM, "out of memory");
			return -1;
		}
	}
	if (name == NULL)
		name = r->top;
	if (strcmp(r->files.profile, name) == 0)
		return 0;
	if (awsfiles_set_profile(&r->files, name, err) == -1)
		return -1;
	/* a chain's links are named by source_profile */
	r->files.explicit_profile = strcmp(name, r->top) != 0 ||
	    r->top_explicit;
	return 0;
}

static const char *
cpath(const struct awsfiles_ini *f, const char *none)
{
	return f->path != NULL ? f->path : none;
}

/* The profile in use: 1 it exists, 0 it does not (and was not named),
 * -1 it was named and does not exist. */
static int
top_profile(struct chain_ctx *c, struct awsfiles **a, struct errbuf *err)
{
	if (files_for(c->r, NULL, a, err) == -1)
		return -1;
	if (awsfiles_profile_exists(*a))
		return 1;
	if (!(*a)->explicit_profile)
		return 0;
	return errbuf_set(err, ERR_CONFIG, "profile \"%s\" not found in %s "
	    "or %s", (*a)->profile, cpath(&(*a)->creds,
	    "(no credentials file)"), cpath(&(*a)->config, "(no config file)"));
}

static const char *
pget(const struct awsfiles *a, const char *key)
{
	return awsfiles_profile_get(a, key, NULL, NULL);
}

/* botocore _has_static_credentials: any of the three keys. */
static int
has_static(const struct awsfiles *a)
{
	return pget(a, "aws_access_key_id") != NULL ||
	    pget(a, "aws_secret_access_key") != NULL ||
	    pget(a, "aws_session_token") != NULL;
}

/* botocore _has_assume_role_config_vars: role_arn, and not web identity. */
static int
is_role_profile(const struct awsfiles *a)
{
	return pget(a, "role_arn") != NULL &&
	    pget(a, "web_identity_token_file") == NULL;
}

static int
profile_static(struct creds_set *out, const struct awsfiles *a,
    struct errbuf *err)
{
	const char *ak, *sk, *from = NULL;

	ak = awsfiles_profile_get(a, "aws_access_key_id", NULL, &from);
	sk = awsfiles_profile_get(a, "aws_secret_access_key", NULL,
	    ak ? NULL : &from);
	if (ak == NULL || sk == NULL)
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\" in %s: %s "
		    "without %s", a->profile, from,
		    ak ? "aws_access_key_id" : "aws_secret_access_key",
		    ak ? "aws_secret_access_key" : "aws_access_key_id");
	if (set_fill(out, ak, sk, pget(a, "aws_session_token"), 0, err) == -1)
		return -1;
	snprintf(out->source, sizeof(out->source), "profile %s", a->profile);
	return 1;
}

static int
read_process(FILE *fp, struct buf *b, struct errbuf *err)
{
	char chunk[4096];
	size_t n;
	int over = 0;

	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
		if (!over && buf_append(b, chunk, n) == -1)
			over = 1;	/* keep draining so the child can exit */
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	if (over)
		return errbuf_set(err, ERR_CONFIG, "output larger than %zu "
		    "bytes", PROCESS_MAX_OUTPUT);
	return 0;
}

static int
process_status(int status, struct errbuf *err)
{
	if (status == -1)
		return errbuf_set(err, ERR_SYSTEM, "cannot wait for it: %s",
		    strerror(errno));
	if (WIFSIGNALED(status))
		return errbuf_set(err, ERR_CONFIG, "killed by signal %d",
		    WTERMSIG(status));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return errbuf_set(err, ERR_CONFIG, "exited with status 127 "
		    "(command not found?)");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return errbuf_set(err, ERR_CONFIG, "exited with status %d",
		    WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}

static int
process_version(const char *body, size_t len, struct errbuf *err)
{
	json_t *o, *v;
	int rc = 0;

	if ((o = json_loadb(body, len, 0, NULL)) == NULL)
		return 0;	/* parse_creds_json reports it */
	v = json_object_get(o, "Version");
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		rc = errbuf_set(err, ERR_CONFIG, "output has no \"Version\": 1");
	jsonwipe_decref(o);
	return rc;
}

static int
profile_process(struct creds_set *cs, const struct awsfiles *a,
    const char *cmd, struct errbuf *err)
{
	struct buf out = BUF_INIT;
	FILE *fp;
	int rc = -1, status;

	out.max = PROCESS_MAX_OUTPUT;
	/* our buffered output must not be written twice by the child */
	fflush(NULL);
	if ((fp = popen(cmd, "r")) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "cannot start it: %s",
		    strerror(errno));
		goto out;
	}
	/* unbuffered: no copy of the secret left in a stdio buffer */
	setvbuf(fp, NULL, _IONBF, 0);
	if (read_process(fp, &out, err) == -1) {
		pclose(fp);
		goto out;
	}
	status = pclose(fp);
	if (process_status(status, err) == -1 ||
	    process_version(out.data ? out.data : "", out.len, err) == -1 ||
	    parse_creds_json(out.data ? out.data : "", out.len,
	    "SessionToken", "output", cs, err) == -1)
		goto out;
	snprintf(cs->source, sizeof(cs->source),
	    "credential_process (profile %s)", a->profile);
	rc = 1;
out:
	buf_wipe(&out);
	if (rc == -1)
		errbuf_prefix(err, "profile \"%s\": credential_process",
		    a->profile);
	return rc;
}

/* The credentials file's static keys come before credential_process. */
static int
in_creds_file(const struct awsfiles *a, const char *key)
{
	const char *v = awsfiles_get(&a->creds, a->profile, key, NULL);

	return v != NULL && *v != '\0';
}

/* Sources 5-7 for the profile a points at. */
static int
profile_keys(struct creds_set *out, const struct awsfiles *a,
    struct errbuf *err)
{
	const char *cmd = pget(a, "credential_process");

	if (in_creds_file(a, "aws_access_key_id") ||
	    in_creds_file(a, "aws_secret_access_key"))
		cmd = NULL;	/* botocore: shared-credentials-file first */
	if (cmd != NULL)
		return profile_process(out, a, cmd, err);
	if (pget(a, "aws_access_key_id") || pget(a, "aws_secret_access_key"))
		return profile_static(out, a, err);
	return 0;
}

static void
describe_profile(struct chain_ctx *c, const struct awsfiles *a)
{
	if (a->creds.path == NULL && a->config.path == NULL)
		snprintf(c->tried, sizeof(c->tried), "profile \"%s\" (HOME is "
		    "not set)", a->profile);
	else
		snprintf(c->tried, sizeof(c->tried), "profile \"%s\" in %s "
		    "and %s", a->profile,
		    cpath(&a->creds, "(no credentials file)"),
		    cpath(&a->config, "(no config file)"));
}

/* Sources 5-7. */
static int
from_profile(struct chain_ctx *c, struct errbuf *err)
{
	struct awsfiles *a;
	int rc;

	if ((rc = top_profile(c, &a, err)) == -1)
		return -1;
	describe_profile(c, a);
	return rc == 0 ? 0 : profile_keys(c->out, a, err);
}

/* --- STS: where and how ----------------------------------------------- */

/*
 * STS's region and endpoint, as botocore's STS client for the credential
 * providers gets them: the session's region (--region, AWS_REGION,
 * AWS_DEFAULT_REGION, the profile in use's region), else us-east-1; the
 * regional endpoint https://sts.REGION.amazonaws.com unless configured
 * (AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL, [services] sts, endpoint_url).
 */
static int
sts_conf(struct resolve_ctx *r, struct awsconf *conf, struct errbuf *err)
{
	struct awsconf_options o;
	const char *region = r->p->region;

	if (region == NULL && (region = env("AWS_REGION")) == NULL &&
	    (region = env("AWS_DEFAULT_REGION")) == NULL &&
	    (region = r->top_region) == NULL)
		region = STS_DEFAULT_REGION;
	memset(&o, 0, sizeof(o));
	o.service = "sts";
	o.region = region;
	o.profile = r->top;
	if (awsconf_resolve(&o, conf, err) == -1)
		return errbuf_prefix(err, "STS");
	return 0;
}

/* botocore names sessions botocore-session-EPOCH; so do we, our way. */
static void
session_name(const struct resolve_ctx *r, const char *configured,
    char *out, size_t n)
{
	if (configured != NULL)
		snprintf(out, n, "%s", configured);
	else
		snprintf(out, n, "coinpipe-%lld", (long long)r->now);
}

/* --- source 2: assume role -------------------------------------------- */

struct role_cfg {
	const char *arn, *source, *csource, *session, *external_id, *mfa;
	long duration_s;
};

static int
role_cfg_read(const struct awsfiles *a, struct role_cfg *rc,
    struct errbuf *err)
{
	const char *d = pget(a, "duration_seconds");
	char *end;

	memset(rc, 0, sizeof(*rc));
	rc->arn = pget(a, "role_arn");
	rc->source = pget(a, "source_profile");
	rc->csource = pget(a, "credential_source");
	rc->session = pget(a, "role_session_name");
	rc->external_id = pget(a, "external_id");
	rc->mfa = pget(a, "mfa_serial");
	if (rc->mfa != NULL)
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": "
		    "mfa_serial is set, but an MFA code cannot be asked for "
		    "in a pipeline (use a role without MFA, or put the "
		    "output of aws sts get-session-token in the environment)",
		    a->profile);
	if (rc->source != NULL && rc->csource != NULL)
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": role_arn "
		    "with both source_profile and credential_source (set "
		    "one)", a->profile);
	if (rc->source == NULL && rc->csource == NULL)
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": role_arn "
		    "without source_profile or credential_source", a->profile);
	if (d == NULL)
		return 0;
	errno = 0;
	rc->duration_s = strtol(d, &end, 10);
	if (end == d || *end != '\0' || errno != 0 ||
	    rc->duration_s < STS_MIN_DURATION_S ||
	    rc->duration_s > STS_MAX_DURATION_S)
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": "
		    "duration_seconds must be %d to %d, not \"%.32s\"",
		    a->profile, STS_MIN_DURATION_S, STS_MAX_DURATION_S, d);
	return 0;
}

/* credential_source: botocore's CanonicalNameCredentialSourcer names. */
static int
credential_source(struct resolve_ctx *r, const char *name, const char *cs,
    struct creds_set *out, struct errbuf *err)
{
	struct chain_ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.p = r->p;
	c.r = r;
	c.out = out;
	c.as_source = 1;
	if (strcmp(cs, "Environment") == 0)
		rc = from_env(&c, err);
	else if (strcmp(cs, "Ec2InstanceMetadata") == 0)
		rc = from_imds(&c, err);
	else if (strcmp(cs, "EcsContainer") == 0)
		rc = from_container(&c, err);
	else
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": "
		    "credential_source \"%.64s\" is not Environment, "
		    "Ec2InstanceMetadata or EcsContainer", name, cs);
	if (rc == 0)
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": "
		    "credential_source %s: no credentials (tried: %s)", name,
		    cs, c.tried[0] ? c.tried : cs);
	if (rc == -1)
		return errbuf_prefix(err, "profile \"%s\": credential_source "
		    "%s", name, cs);
	return 0;
}

static int
visited(const struct resolve_ctx *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nvisited; i++)
		if (strcmp(r->visited[i], name) == 0)
			return 1;
	return 0;
}

/* "profile "a": source_profile loop: a -> b -> a" */
static int
loop_error(const struct resolve_ctx *r, const char *next, struct errbuf *err)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < r->nvisited; i++)
		buf_printf(&b, "%s -> ", r->visited[i]);
	buf_puts(&b, next);
	errbuf_set(err, ERR_CONFIG, "profile \"%s\": source_profile loop: %s",
	    r->visited[0], b.data ? b.data : next);
	buf_free(&b);
	return -1;
}

static int assume_role(struct resolve_ctx *, const char *,
    struct creds_set *, struct errbuf *);
static int profile_providers(struct resolve_ctx *, struct awsfiles *,
    struct creds_set *, struct errbuf *);

/* botocore AssumeRoleProvider._resolve_credentials_from_profile;
 * returns 0 with out filled, or -1. */
static int
source_profile(struct resolve_ctx *r, const char *parent, const char *src,
    struct creds_set *out, struct errbuf *err)
{
	struct awsfiles *a;
	const char *name;
	int rc;

	if (files_for(r, src, &a, err) == -1)
		return -1;
	if (visited(r, src) && (strcmp(src, parent) != 0 || !has_static(a)))
		return loop_error(r, src, err);
	if (!visited(r, src)) {
		if (r->nvisited == ROLE_CHAIN_MAX)
			return errbuf_set(err, ERR_CONFIG, "profile \"%s\": "
			    "more than %d profiles in the source_profile chain",
			    r->visited[0], ROLE_CHAIN_MAX);
		if ((r->visited[r->nvisited] = strdup(src)) == NULL)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
		r->nvisited++;
	}
	name = r->visited[r->nvisited - 1];
	if (!awsfiles_profile_exists(a))
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": "
		    "source_profile \"%s\" not found in %s or %s", parent, src,
		    cpath(&a->creds, "(no credentials file)"),
		    cpath(&a->config, "(no config file)"));
	if (is_role_profile(a) && !has_static(a))
		rc = assume_role(r, name, out, err);
	else if ((rc = profile_providers(r, a, out, err)) == 0)
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": "
		    "source_profile \"%s\" has no credentials", parent, src);
	return rc == 1 ? 0 : -1;
}

static int
call_assume_role(struct resolve_ctx *r, const char *name,
    const struct role_cfg *rc, const struct creds_set *src,
    struct creds_set *out, struct errbuf *err)
{
	struct sigv4_credentials sc;
	struct sts_creds got;
	struct sts_target t;
	struct sts_role role;
	struct awsconf conf;
	char session[128];
	int ret = -1;

	memset(&got, 0, sizeof(got));
	if (sts_conf(r, &conf, err) == -1)
		goto out;
	session_name(r, rc->session, session, sizeof(session));
	role.role_arn = rc->arn;
	role.session_name = session;
	role.external_id = rc->external_id;
	role.duration_s = rc->duration_s;
	t.conf = &conf;
	t.http = &r->p->http;
	set_view(src, &sc);
	if (sts_assume_role(&t, &sc, &role, &got, err) == -1)
		goto out;
	set_take(out, &got);
	snprintf(out->source, sizeof(out->source), "assume role (profile %s)",
	    name);
	ret = 1;
out:
	if (ret == -1)
		errbuf_prefix(err, "profile \"%s\"", name);
	sts_creds_free(&got);
	awsconf_free(&conf);
	return ret;
}

/* The role of profile `name` (owned by r->visited or r->top). */
static int
assume_role(struct resolve_ctx *r, const char *name, struct creds_set *out,
    struct errbuf *err)
{
	struct creds_set src;
	struct role_cfg rc;
	struct awsfiles *a;
	int ret = -1;

	memset(&src, 0, sizeof(src));
	if (files_for(r, name, &a, err) == -1 ||
	    role_cfg_read(a, &rc, err) == -1)
		return -1;
	if (rc.csource != NULL)
		ret = credential_source(r, name, rc.csource, &src, err);
	else
		ret = source_profile(r, name, rc.source, &src, err);
	if (ret == 0)
		ret = call_assume_role(r, name, &rc, &src, out, err);
	set_wipe(&src);
	return ret;
}

static int
from_assume_role(struct chain_ctx *c, struct errbuf *err)
{
	struct awsfiles *a;
	int rc;

	if ((rc = top_profile(c, &a, err)) <= 0)
		return rc;
	if (!is_role_profile(a))
		return 0;
	if ((c->r->visited[0] = strdup(c->r->top)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	c->r->nvisited = 1;
	return assume_role(c->r, c->r->visited[0], c->out, err);
}

/* --- source 3: web identity ------------------------------------------- */

/* A setting from the variable (when use_env), else from the profile. */
static const char *
env_or(const struct awsfiles *a, int use_env, const char *var,
    const char *key)
{
	const char *v = use_env ? env(var) : NULL;

	return v != NULL ? v : pget(a, key);
}

static int
web_identity_call(struct resolve_ctx *r, const struct sts_role *role,
    const char *file, struct creds_set *out, struct errbuf *err)
{
	struct sts_creds got;
	struct sts_target t;
	struct awsconf conf;
	char *token = NULL;
	int rc = -1;

	memset(&got, 0, sizeof(got));
	memset(&conf, 0, sizeof(conf));
	/* read at every resolution: EKS rotates the file (hourly) */
	if (read_token_file(file, &token, err) == -1 ||
	    sts_conf(r, &conf, err) == -1)
		goto out;
	t.conf = &conf;
	t.http = &r->p->http;
	if (sts_assume_role_web_identity(&t, role, token, &got, err) == -1)
		goto out;
	set_take(out, &got);
	rc = 1;
out:
	buf_wipe_str(token);
	sts_creds_free(&got);
	awsconf_free(&conf);
	return rc;
}

/*
 * botocore AssumeRoleWithWebIdentityProvider: each of the token file, the
 * role and the session name from its variable, else from the profile; the
 * variables are not read for a source_profile (use_env 0).
 */
static int
web_identity(struct resolve_ctx *r, const struct awsfiles *a, int use_env,
    struct creds_set *out, struct errbuf *err)
{
	const char *file, *what;
	struct sts_role role;
	char session[128];
	int rc;

	if ((file = env_or(a, use_env, "AWS_WEB_IDENTITY_TOKEN_FILE",
	    "web_identity_token_file")) == NULL)
		return 0;
	what = use_env && env("AWS_WEB_IDENTITY_TOKEN_FILE") != NULL ?
	    "AWS_WEB_IDENTITY_TOKEN_FILE" : "web_identity_token_file";
	memset(&role, 0, sizeof(role));
	role.role_arn = env_or(a, use_env, "AWS_ROLE_ARN", "role_arn");
	if (role.role_arn == NULL)
		return errbuf_set(err, ERR_CONFIG, "web identity: %s is set "
		    "without a role (AWS_ROLE_ARN, or role_arn in profile "
		    "\"%s\")", what, a->profile);
	session_name(r, env_or(a, use_env, "AWS_ROLE_SESSION_NAME",
	    "role_session_name"), session, sizeof(session));
	role.session_name = session;
	if ((rc = web_identity_call(r, &role, file, out, err)) == -1)
		return errbuf_prefix(err, "web identity (%s)", what);
	if (strcmp(what, "AWS_WEB_IDENTITY_TOKEN_FILE") == 0)
		snprintf(out->source, sizeof(out->source),
		    "web identity (environment)");
	else
		snprintf(out->source, sizeof(out->source),
		    "web identity (profile %s)", a->profile);
	return rc;
}

static int
from_web_identity(struct chain_ctx *c, struct errbuf *err)
{
	struct awsfiles *a;

	/* the variables work without any profile */
	if (files_for(c->r, NULL, &a, err) == -1)
		return -1;
	return web_identity(c->r, a, 1, c->out, err);
}

/* --- source 4: IAM Identity Center ------------------------------------ */

struct sso_cfg {
	const char *session;	/* sso_session, or NULL (legacy) */
	const char *start_url, *region, *account, *role;
};

/*
 * botocore SSOProvider._resolve_sso_session_reference: a key set both in
 * the profile and in its [sso-session] must agree.
 */
static int
sso_session_key(const struct awsfiles *a, const char *section,
    const char *key, const char **out, struct errbuf *err)
{
	const char *in_profile = pget(a, key);
	const char *v = awsfiles_get(&a->config, section, key, NULL);

	*out = v != NULL && *v != '\0' ? v : in_profile;
	if (in_profile != NULL && v != NULL && *v != '\0' &&
	    strcmp(in_profile, v) != 0)
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": %s differs "
		    "from the one in [%s]", a->profile, key, section);
	return 0;
}

static int
sso_cfg_read(const struct awsfiles *a, struct sso_cfg *s, struct errbuf *err)
{
	char section[256];

	memset(s, 0, sizeof(s[0]));
	s->account = pget(a, "sso_account_id");
	s->role = pget(a, "sso_role_name");
	s->start_url = pget(a, "sso_start_url");
	s->region = pget(a, "sso_region");
	if ((s->session = pget(a, "sso_session")) == NULL)
		return 0;
	snprintf(section, sizeof(section), "sso-session %s", s->session);
	if (!awsfiles_has_section(&a->config, section))
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": no "
		    "[sso-session %s] section in %s", a->profile, s->session,
		    cpath(&a->config, "(no config file)"));
	return sso_session_key(a, section, "sso_start_url", &s->start_url,
	    err) | sso_session_key(a, section, "sso_region", &s->region, err);
}

static int
sso_cfg_check(const struct awsfiles *a, const struct sso_cfg *s,
    struct errbuf *err)
{
	struct buf miss = BUF_INIT;
	int rc = 0;

	if (s->start_url == NULL)
		buf_puts(&miss, ", sso_start_url");
	if (s->region == NULL)
		buf_puts(&miss, ", sso_region");
	if (s->account == NULL)
		buf_puts(&miss, ", sso_account_id");
	if (s->role == NULL)
		buf_puts(&miss, ", sso_role_name");
	if (miss.len > 0)
		rc = errbuf_set(err, ERR_CONFIG, "profile \"%s\" is set up for "
		    "IAM Identity Center (SSO) but lacks %s", a->profile,
		    miss.data + 2);
	buf_free(&miss);
	return rc;
}

/*
 * An Identity Center endpoint: AWS_ENDPOINT_URL_<SERVICE> and the rest of
 * the configured-endpoint order, else https://HOST.REGION.amazonaws.com
 * (botocore's endpoint rules: "portal.sso" for the portal of service id
 * "SSO", "oidc" for "SSO OIDC").
 */
static int
sso_conf(struct resolve_ctx *r, const char *region, const char *service,
    const char *host, struct awsconf *conf, struct errbuf *err)
{
	struct awsconf_options o;
	char *url;
	size_t n;

	memset(&o, 0, sizeof(o));
	o.service = service;
	o.region = region;
	o.profile = r->top;
	if (awsconf_resolve(&o, conf, err) == -1)
		return -1;
	if (conf->custom_endpoint)
		return 0;
	/* https://SERVICE.REGION.SUFFIX -> https://HOST.REGION.SUFFIX */
	n = strlen(conf->endpoint) + strlen(host) + 1;
	if ((url = malloc(n)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	snprintf(url, n, "https://%s%s", host, conf->endpoint +
	    strlen("https://") + strlen(service));
	free(conf->endpoint);
	conf->endpoint = url;
	return 0;
}

/*
 * A token close to its end is refreshed (sso-session profiles only, as in
 * botocore). 0 with the token to use: the new one, or the old one while it
 * is still valid; -1 with err set, one line saying to log in when the
 * session itself has ended.
 */
static int
sso_refresh(struct resolve_ctx *r, const char *profile, const struct sso_cfg *s,
    const char *path, char **token, time_t *expires, struct errbuf *err)
{
	struct awsconf conf;
	struct sts_target t;
	struct errbuf why;
	char *fresh = NULL;
	time_t until = 0;
	long status = 0;
	int rc;

	memset(&conf, 0, sizeof(conf));
	rc = sso_conf(r, s->region, "sso-oidc", "oidc", &conf, &why);
	if (rc == 0) {
		t.conf = &conf;
		t.http = &r->p->http;
		rc = sts_sso_refresh_token(&t, path, r->now, &fresh, &until,
		    &status, &why);
	}
	awsconf_free(&conf);
	if (rc == 0) {
		buf_wipe_str(*token);
		*token = fresh;
		*expires = until;
		return 0;
	}
	if (r->now < *expires)
		return 0;	/* botocore: the old token while it lasts */
	buf_wipe_str(*token);
	*token = NULL;
	if (rc == 1)
		return errbuf_set(err, ERR_CONFIG, "the SSO session has "
		    "expired: run aws sso login --profile %s", profile);
	if (status == 400 || status == 401)
		return errbuf_set(err, ERR_CONFIG, "the SSO session has ended "
		    "(its refresh token was refused): run aws sso login "
		    "--profile %s", profile);
	*err = why;
	return errbuf_prefix(err, "profile \"%s\": refreshing the SSO token",
	    profile);
}

/* The cached token of `aws sso login`: ~/.aws/sso/cache/SHA1.json. */
static int
sso_token(struct resolve_ctx *r, const char *profile,
    const struct sso_cfg *s, char **token, struct errbuf *err)
{
	char key[41], leaf[sizeof(SSO_CACHE_DIR) + 48], *path;
	time_t expires = 0;
	int rc;

	sts_sso_cache_key(s->session ? s->session : s->start_url, key);
	snprintf(leaf, sizeof(leaf), "%s/%s.json", SSO_CACHE_DIR, key);
	if ((path = awsfiles_path(NULL, leaf)) == NULL)
		return errbuf_set(err, ERR_CONFIG, "profile \"%s\": HOME is "
		    "not set: cannot find the SSO token cache", profile);
	rc = sts_sso_read_token(path, token, &expires, err);
	if (rc == 0 && s->session != NULL &&
	    expires - r->now < SSO_REFRESH_WINDOW_S) {
		rc = sso_refresh(r, profile, s, path, token, &expires, err);
		free(path);
		return rc;
	}
	if (rc == -1)
		errbuf_prefix(err, "profile \"%s\": SSO token cache", profile);
	else if (rc == 1)
		errbuf_set(err, ERR_CONFIG, "profile \"%s\": no SSO token in "
		    "%s: run aws sso login --profile %s", profile, path,
		    profile);
	else if (rc == 0 && r->now >= expires)
		errbuf_set(err, ERR_CONFIG, "the SSO session has expired: run "
		    "aws sso login --profile %s", profile);
	free(path);
	if (rc == 0 && r->now < expires)
		return 0;
	buf_wipe_str(*token);
	*token = NULL;
	return -1;
}

static int
sso_call(struct resolve_ctx *r, const char *profile, const struct sso_cfg *s,
    const char *token, struct creds_set *out, struct errbuf *err)
{
	struct sts_creds got;
	struct sts_target t;
	struct awsconf conf;
	long status = 0;
	int rc = -1;

	memset(&got, 0, sizeof(got));
	memset(&conf, 0, sizeof(conf));
	if (sso_conf(r, s->region, "sso", "portal.sso", &conf, err) == -1) {
		errbuf_prefix(err, "profile \"%s\": sso_region", profile);
		goto out;
	}
	t.conf = &conf;
	t.http = &r->p->http;
	if (sts_sso_role_credentials(&t, token, s->account, s->role, &status,
	    &got, err) == -1) {
		/* UnauthorizedException: the token was revoked or expired */
		if (status == 401)
			errbuf_set(err, ERR_CONFIG, "the SSO session has "
			    "expired: run aws sso login --profile %s", profile);
		else
			errbuf_prefix(err, "profile \"%s\"", profile);
		goto out;
	}
	set_take(out, &got);
	snprintf(out->source, sizeof(out->source), "sso (profile %s)",
	    profile);
	rc = 1;
out:
	sts_creds_free(&got);
	awsconf_free(&conf);
	return rc;
}

/* botocore SSOProvider: sso_account_id or sso_role_name mark the profile. */
static int
sso(struct resolve_ctx *r, const struct awsfiles *a, struct creds_set *out,
    struct errbuf *err)
{
	struct sso_cfg s;
	char *token = NULL, *profile;
	int rc;

	if (pget(a, "sso_account_id") == NULL &&
	    pget(a, "sso_role_name") == NULL)
		return 0;
	if (sso_cfg_read(a, &s, err) != 0 || sso_cfg_check(a, &s, err) != 0)
		return -1;
	if ((profile = strdup(a->profile)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	rc = sso_token(r, profile, &s, &token, err);
	if (rc == 0)
		rc = sso_call(r, profile, &s, token, out, err);
	buf_wipe_str(token);
	free(profile);
	return rc;
}

static int
from_sso(struct chain_ctx *c, struct errbuf *err)
{
	struct awsfiles *a;
	int rc;

	if ((rc = top_profile(c, &a, err)) <= 0)
		return rc;
	return sso(c->r, a, c->out, err);
}

/* botocore ProfileProviderBuilder.providers() for a source profile. */
static int
profile_providers(struct resolve_ctx *r, struct awsfiles *a,
    struct creds_set *out, struct errbuf *err)
{
	int rc;

	if ((rc = web_identity(r, a, 0, out, err)) != 0 ||
	    (rc = sso(r, a, out, err)) != 0)
		return rc;
	return profile_keys(out, a, err);
}

/* --- HTTP sources ----------------------------------------------------- */

/* "scheme://host[:port]" of url, for messages: a path may hold a secret
 * (the ECS relative URI is a capability). */
static void
url_origin(const char *url, char *out, size_t outlen)
{
	const char *p = strstr(url, "://");
	size_t n;

	p = p ? p + 3 : url;
	n = (size_t)(p - url) + strcspn(p, "/?#");
	snprintf(out, outlen, "%.*s", (int)n, url);
}

static struct http_client *
client_for(struct creds_provider *p, long timeout_ms, struct errbuf *err)
{
	struct http_options o = p->http;

	o.connect_timeout_ms = timeout_ms;
	o.timeout_ms = timeout_ms;
	o.max_response = HTTP_MAX_BODY;
	return http_client_new(&o, err);
}

/* Loopback, or the ECS and EKS Pod Identity endpoints; a bracketed host
 * must be an IPv6 address (curl takes a zone id there; we do not). */
static int
container_host_allowed(const struct urlhost *u)
{
	struct in6_addr a6, eks;

	if (u->bracketed) {
		if (inet_pton(AF_INET6, u->host, &a6) != 1 ||
		    inet_pton(AF_INET6, "fd00:ec2::23", &eks) != 1)
			return 0;
		return urlhost_is_loopback(u->host) ||
		    memcmp(&a6, &eks, sizeof(a6)) == 0;
	}
	return urlhost_is_loopback(u->host) ||
	    strcmp(u->host, "169.254.170.2") == 0 ||
	    strcmp(u->host, "169.254.170.23") == 0;
}

int
creds_container_url_allowed(const char *url)
{
	struct urlhost u;

	if (urlhost_parse(url, &u) == -1)
		return 0;
	if (u.https)
		return 1;
	/* parsers disagree on which '@' ends the userinfo
	 * (http://a@127.0.0.1@example.com): refuse any, and no trailing
	 * dot: "localhost." may be asked of DNS */
	return !u.userinfo && container_host_allowed(&u);
}

static int
read_token_file(const char *path, char **out, struct errbuf *err)
{
	struct buf b = BUF_INIT;
	char chunk[1024];
	ssize_t r;
	int fd, rc = -1;

	b.max = TOKEN_FILE_MAX;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errbuf_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || buf_append(&b, chunk, (size_t)r) == -1) {
			errbuf_set(err, ERR_CONFIG, "%s: %s", path, r == -1 ?
			    strerror(errno) : "token file too large");
			goto out;
		}
	}
	/* a trailing newline is how files end, not part of the token */
	while (b.len > 0 && isspace((unsigned char)b.data[b.len - 1]))
		b.data[--b.len] = '\0';
	if ((*out = buf_steal(&b)) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	OPENSSL_cleanse(chunk, sizeof(chunk));
	close(fd);
	buf_wipe(&b);
	return rc;
}

/* Authorization for the container endpoint: the token file wins. */
static int
container_token(char **tok, struct errbuf *err)
{
	const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *v = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");

	*tok = NULL;
	if (file != NULL) {
		if (read_token_file(file, tok, err) == -1)
			return errbuf_prefix(err,
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	} else if (v != NULL && (*tok = strdup(v)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	/* a header value cannot span lines */
	if (*tok != NULL && strpbrk(*tok, "\r\n") != NULL) {
		buf_wipe_str(*tok);
		*tok = NULL;
		return errbuf_set(err, ERR_CONFIG, "the container authorization "
		    "token contains a line break");
	}
	return 0;
}

static int
container_url(char **url, struct errbuf *err)
{
	const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *bad = NULL;
	size_t n;

	*url = NULL;
	if (rel != NULL && *rel != '/')
		bad = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with "
		    "'/'";
	else if (rel != NULL) {
		n = sizeof(CONTAINER_HOST) + strlen(rel);
		if ((*url = malloc(n)) != NULL)
			snprintf(*url, n, "%s%s", CONTAINER_HOST, rel);
	} else if (full == NULL || !creds_container_url_allowed(full))
		bad = "AWS_CONTAINER_CREDENTIALS_FULL_URI: http is allowed "
		    "only to loopback, 169.254.170.2, 169.254.170.23 or "
		    "fd00:ec2::23; use https for other hosts";
	else
		*url = strdup(full);
	/* explicit -1 returns: the analyzer cannot see into errbuf_set */
	if (bad != NULL) {
		errbuf_set(err, ERR_CONFIG, "%s", bad);
		return -1;
	}
	if (*url == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return -1;
	}
	return 0;
}

static int
container_fetch(struct chain_ctx *c, const char *url, const char *tok,
    const char *origin, struct errbuf *err)
{
	struct http_field h[2] = {
		{ "Accept", "application/json" },
		{ "Authorization", tok }
	};
	struct http_request req = { "GET", url, h, tok ? 2 : 1, NULL, 0 };
	struct http_response resp;
	struct http_client *hc;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	if ((hc = client_for(c->p, CONTAINER_TIMEOUT_MS, err)) == NULL)
		goto out;
	if (http_client_do(hc, &req, &resp, err) == -1)
		goto out;
	if (resp.status != 200) {
		errbuf_set(err, resp.status >= 500 ? ERR_TEMP : ERR_CONFIG,
		    "HTTP %ld", resp.status);
		goto out;
	}
	if (parse_creds_json(resp.body.data ? resp.body.data : "",
	    resp.body.len, "Token", "answer", c->out, err) == -1)
		goto out;
	snprintf(c->out->source, sizeof(c->out->source), "container");
	rc = 1;
out:
	if (rc == -1)
		errbuf_prefix(err, "container credentials from %s", origin);
	buf_wipe(&resp.body);
	http_response_free(&resp);
	http_client_free(hc);
	return rc;
}

/* Source 4: the ECS / EKS container endpoint. */
static int
from_container(struct chain_ctx *c, struct errbuf *err)
{
	char *url = NULL, *tok = NULL, origin[256];
	int rc = -1;

	snprintf(c->tried, sizeof(c->tried), "container");
	if (env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") == NULL &&
	    env("AWS_CONTAINER_CREDENTIALS_FULL_URI") == NULL)
		return 0;
	if (container_url(&url, err) == -1 || container_token(&tok, err) == -1)
		goto out;
	url_origin(url, origin, sizeof(origin));
	rc = container_fetch(c, url, tok, origin, err);
out:
	free(url);
	buf_wipe_str(tok);
	return rc;
}

/* --- source 5: EC2 instance metadata, IMDSv2 ------------------------- */

struct imds {
	struct http_client *hc;
	char endpoint[256];	/* no trailing '/' */
	char *token;		/* session token; NULL: IMDSv1 fallback */
};

/* One IMDS call; returns the HTTP status, or 0 when nothing answered. */
static long
imds_call(struct imds *m, const char *method, const char *path,
    struct http_response *resp, struct errbuf *err)
{
	struct http_field h[1];
	struct http_request req;
	char url[512];

	memset(&req, 0, sizeof(req));
	http_response_free(resp);
	memset(resp, 0, sizeof(*resp));
	snprintf(url, sizeof(url), "%s%s", m->endpoint, path);
	req.method = method;
	req.url = url;
	req.headers = h;
	if (strcmp(method, "PUT") == 0) {
		h[0].name = "X-aws-ec2-metadata-token-ttl-seconds";
		h[0].value = IMDS_TOKEN_TTL;
		req.nheaders = 1;
	} else if (m->token != NULL) {
		h[0].name = "X-aws-ec2-metadata-token";
		h[0].value = m->token;
		req.nheaders = 1;
	}
	if (http_client_do(m->hc, &req, resp, err) == -1)
		return 0;
	return resp->status;
}

/* Role names are [A-Za-z0-9+=,.@_-]: anything else is not put in a URL. */
static int
role_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("+=,.@_-", *s) == NULL)
			return 0;
	return 1;
}

static void
imds_why(char *why, size_t n, long status, const char *step)
{
	if (status == 0)
		snprintf(why, n, "no answer");
	else
		snprintf(why, n, "HTTP %ld %s", status, step);
}

/*
 * The three IMDSv2 steps. A failure is noted in c->tried and the chain goes
 * on (returns 0): off EC2, or without a role, IMDS is simply not a source.
 */
static int
imds_steps(struct chain_ctx *c, struct imds *m, struct http_response *r,
    struct errbuf *err)
{
	char path[sizeof(IMDS_ROLES_PATH) + 128], why[160];
	long st;

	why[0] = '\0';
	st = imds_call(m, "PUT", "/latest/api/token", r, err);
	if (st == 0 || st == 403) {
		/* no answer: not on EC2; 403: IMDS turned off */
		snprintf(why, sizeof(why), st ? "HTTP 403 for a token" :
		    "no answer");
		goto note;
	}
	if (st == 200 && r->body.len > 0 &&
	    (m->token = strndup(r->body.data, r->body.len)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	buf_wipe(&r->body);
	st = imds_call(m, "GET", IMDS_ROLES_PATH, r, err);
	if (st == 404 || (st == 200 && r->body.len == 0)) {
		snprintf(why, sizeof(why), "no IAM role attached");
		goto note;
	}
	if (st != 200) {
		imds_why(why, sizeof(why), st, "listing roles");
		goto note;
	}
	r->body.data[strcspn(r->body.data, "\r\n")] = '\0';
	if (!role_name_ok(r->body.data) || strlen(r->body.data) > 128) {
		snprintf(why, sizeof(why), "unexpected role name");
		goto note;
	}
	snprintf(path, sizeof(path), "%s%s", IMDS_ROLES_PATH, r->body.data);
	st = imds_call(m, "GET", path, r, err);
	if (st != 200) {
		imds_why(why, sizeof(why), st, "for the role");
		goto note;
	}
	return 1;
note:
	errbuf_clear(err);
	snprintf(c->tried, sizeof(c->tried), "EC2 instance metadata (%s: %s)",
	    m->endpoint, why);
	return 0;
}

static int
imds_parse(struct chain_ctx *c, const struct http_response *r,
    struct errbuf *err)
{
	json_t *o;
	const char *code;
	int ok;

	if ((o = json_loadb(r->body.data ? r->body.data : "", r->body.len, 0,
	    NULL)) == NULL)
		code = NULL;
	else
		code = jsonwipe_str(o, "Code");
	ok = code != NULL && strcmp(code, "Success") == 0;
	jsonwipe_decref(o);
	if (!ok)
		return errbuf_set(err, ERR_TEMP, "EC2 instance metadata: the "
		    "role's credentials answer has no \"Code\": \"Success\"");
	if (parse_creds_json(r->body.data, r->body.len, "Token",
	    "EC2 instance metadata", c->out, err) == -1)
		return -1;
	snprintf(c->out->source, sizeof(c->out->source), "imds");
	return 1;
}

static int
from_imds(struct chain_ctx *c, struct errbuf *err)
{
	struct imds m;
	struct http_response r;
	const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	size_t n;
	int rc = -1;

	memset(&m, 0, sizeof(m));
	memset(&r, 0, sizeof(r));
	snprintf(c->tried, sizeof(c->tried), "EC2 instance metadata");
	if (awsfiles_is_true(getenv("AWS_EC2_METADATA_DISABLED"))) {
		snprintf(c->tried, sizeof(c->tried), "EC2 instance metadata "
		    "(disabled by AWS_EC2_METADATA_DISABLED)");
		return 0;
	}
	snprintf(m.endpoint, sizeof(m.endpoint), "%s", ep ? ep : IMDS_ENDPOINT);
	n = strlen(m.endpoint);
	while (n > 0 && m.endpoint[n - 1] == '/')
		m.endpoint[--n] = '\0';
	if ((m.hc = client_for(c->p, IMDS_TIMEOUT_MS, err)) == NULL)
		goto out;
	if ((rc = imds_steps(c, &m, &r, err)) == 1)
		rc = imds_parse(c, &r, err);
out:
	buf_wipe(&r.body);
	http_response_free(&r);
	http_client_free(m.hc);
	buf_wipe_str(m.token);
	return rc;
}

/* --- the provider ----------------------------------------------------- */

static void
resolve_done(struct resolve_ctx *r)
{
	size_t i;

	if (r->loaded)
		awsfiles_close(&r->files);
	for (i = 0; i < r->nvisited; i++)
		free(r->visited[i]);
	free(r->top);
	free(r->top_region);
	memset(r, 0, sizeof(*r));
}

static int
resolve(struct creds_provider *p, time_t now, struct creds_set *out,
    struct errbuf *err)
{
	struct buf tried = BUF_INIT;
	struct resolve_ctx r;
	struct chain_ctx c;
	size_t i;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.p = p;
	r.now = now;
	for (i = 0; i < sizeof(chain) / sizeof(chain[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.p = p;
		c.r = &r;
		c.out = out;
		if ((rc = chain[i](&c, err)) != 0)
			break;
		if (c.tried[0] != '\0' && buf_printf(&tried, "%s%s",
		    tried.len ? ", " : "", c.tried) == -1) {
			rc = errbuf_set(err, ERR_SYSTEM, "out of memory");
			break;
		}
	}
	if (rc == 0)
		rc = errbuf_set(err, ERR_CONFIG, "no AWS credentials (tried: "
		    "%s)", tried.data ? tried.data : "nothing");
	if (rc == -1)
		set_wipe(out);
	buf_free(&tried);
	resolve_done(&r);
	return rc == 1 ? 0 : -1;
}

struct creds_provider *
creds_provider_new(const struct creds_options *o, struct errbuf *err)
{
	struct creds_provider *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto nomem;
	if (o != NULL && o->http != NULL)
		p->http = *o->http;
	p->http.user_agent = p->http.ca_bundle = NULL;
	if (o != NULL && o->profile != NULL &&
	    (p->profile = strdup(o->profile)) == NULL)
		goto nomem;
	if (o != NULL && o->region != NULL &&
	    (p->region = strdup(o->region)) == NULL)
		goto nomem;
	if (o != NULL && o->http != NULL && o->http->user_agent != NULL &&
	    (p->user_agent = strdup(o->http->user_agent)) == NULL)
		goto nomem;
	if (o != NULL && o->http != NULL && o->http->ca_bundle != NULL &&
	    (p->ca_bundle = strdup(o->http->ca_bundle)) == NULL)
		goto nomem;
	p->http.user_agent = p->user_agent;
	p->http.ca_bundle = p->ca_bundle;
	return p;
nomem:
	creds_provider_free(p);
	errbuf_set(err, ERR_SYSTEM, "out of memory");
	return NULL;
}

void
creds_provider_free(struct creds_provider *p)
{
	if (p == NULL)
		return;
	set_wipe(&p->cur);
	free(p->profile);
	free(p->region);
	free(p->user_agent);
	free(p->ca_bundle);
	free(p);
}

static int
due(const struct creds_set *s, time_t now)
{
	return s->expiration != 0 &&
	    now >= s->expiration - (time_t)CREDS_REFRESH_AHEAD_S;
}

int
creds_provider_get(struct creds_provider *p, time_t now,
    struct sigv4_credentials *out, struct errbuf *err)
{
	struct creds_set fresh;

	memset(&fresh, 0, sizeof(fresh));
	if (!p->have || due(&p->cur, now)) {
		if (resolve(p, now, &fresh, err) == 0) {
			set_wipe(&p->cur);
			p->cur = fresh;
			p->have = 1;
		} else if (!p->have || now >= p->cur.expiration) {
			set_wipe(&fresh);
			return -1;
		} else
			errbuf_clear(err);	/* old ones still valid */
	}
	out->access_key = p->cur.access_key;
	out->secret_key = p->cur.secret_key;
	out->token = p->cur.token;
	return 0;
}

int
creds_supply(void *provider, time_t now, struct sigv4_credentials *out,
    struct errbuf *err)
{
	return creds_provider_get(provider, now, out, err);
}

const char *
creds_provider_source(const struct creds_provider *p)
{
	return p != NULL && p->have ? p->cur.source : NULL;
}
