/*
 * creds: the AWS default credential chain.
 *
 * Sources, in the order botocore and the other SDKs try them; the first one
 * that is configured decides, and a configured source that fails stops the
 * chain with its error instead of falling through to another identity:
 *  1. environment: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (both or
 *     neither), AWS_SESSION_TOKEN.
 *  2. the profile (awsfiles.h says which files and sections):
 *     role_arn, web_identity_token_file or sso_* -> "not supported yet";
 *     aws_access_key_id in the credentials file; else credential_process
 *     (either file); else aws_access_key_id in the config file.
 *     A profile named by --profile or AWS_PROFILE must exist.
 *  3. AWS_WEB_IDENTITY_TOKEN_FILE -> "not supported yet".
 *  4. container: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, else
 *     AWS_CONTAINER_CREDENTIALS_FULL_URI; Authorization from the file
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, else
 *     AWS_CONTAINER_AUTHORIZATION_TOKEN (the file wins, as in the SDKs).
 *  5. EC2 instance metadata, IMDSv2, unless AWS_EC2_METADATA_DISABLED=true.
 *     It never stops the chain: off EC2 it simply is not there.
 * Credentials with an Expiration are resolved again through the whole chain
 * CREDS_REFRESH_AHEAD_S before it; when that fails while the old ones are
 * still valid, the old ones are kept.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "awsfiles.h"
#include "buf.h"
#include "creds.h"

#define PROCESS_MAX_OUTPUT ((size_t)64 * 1024)	/* four strings of JSON, with room */
#define HTTP_MAX_BODY ((size_t)64 * 1024)	/* container and IMDS answers */
#define TOKEN_FILE_MAX 16384		/* an EKS token is about 1 KiB */
#define CONTAINER_HOST "http://169.254.170.2"	/* ECS task role endpoint */
#define CONTAINER_TIMEOUT_MS 2000L	/* botocore: 2 s */
#define IMDS_ENDPOINT "http://169.254.169.254"
#define IMDS_TOKEN_TTL "21600"		/* 6 h, the SDK default */
#define IMDS_TIMEOUT_MS 1000L		/* fail fast off EC2 */
#define IMDS_ROLES_PATH "/latest/meta-data/iam/security-credentials/"

struct creds_set {
	char *access_key;
	char *secret_key;
	char *token;		/* NULL when there is none */
	time_t expiration;	/* 0: does not expire */
	char source[128];
};

struct creds_provider {
	char *profile;		/* --profile, or NULL */
	struct http_options http;
	char *user_agent;	/* owned copies of the http strings */
	char *ca_bundle;
	struct creds_set cur;
	int have;
};

/* One source of the chain. */
struct chain_ctx {
	struct creds_provider *p;
	struct creds_set *out;
	char tried[512];	/* "tried: ..." entry; "" to leave it out */
};

/* Returns 1 found (ctx->out filled), 0 not configured, -1 error. */
typedef int (*creds_source_fn)(struct chain_ctx *c, struct errbuf *err);

static int from_env(struct chain_ctx *, struct errbuf *);
static int from_profile(struct chain_ctx *, struct errbuf *);
static int from_web_identity(struct chain_ctx *, struct errbuf *);
static int from_container(struct chain_ctx *, struct errbuf *);
static int from_imds(struct chain_ctx *, struct errbuf *);

/* STS-based sources (assume role, web identity, SSO) will join this table. */
static const creds_source_fn chain[] = {
	from_env,
	from_profile,
	from_web_identity,
	from_container,
	from_imds
};

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static void
wipe_str(char *s)
{
	if (s != NULL)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

static void
set_wipe(struct creds_set *s)
{
	wipe_str(s->access_key);
	wipe_str(s->secret_key);
	wipe_str(s->token);
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
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	}
	return 0;
}

/* jansson frees its strings without wiping them; secrets must not linger. */
static void
json_wipe_string(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (json_is_string(v) && (s = json_string_value(v)) != NULL)
		OPENSSL_cleanse((void *)(uintptr_t)s, json_string_length(v));
}

static void
json_wipe_free(json_t *o)
{
	static const char *const keys[] = {
		"AccessKeyId", "SecretAccessKey", "SessionToken", "Token"
	};
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		json_wipe_string(o, keys[i]);
	json_decref(o);
}

static const char *
json_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;

	return s != NULL && *s != '\0' ? s : NULL;
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
	ak = json_str(o, "AccessKeyId");
	sk = json_str(o, "SecretAccessKey");
	if (ak == NULL || sk == NULL) {
		errbuf_set(err, ERR_CONFIG, "%s: no %s in the answer", what,
		    ak == NULL ? "AccessKeyId" : "SecretAccessKey");
		goto out;
	}
	if ((exp = json_str(o, "Expiration")) != NULL &&
	    creds_parse_iso8601(exp, &when) == -1) {
		errbuf_set(err, ERR_CONFIG, "%s: Expiration is not an ISO 8601 "
		    "time", what);
		goto out;
	}
	rc = set_fill(out, ak, sk, json_str(o, token_key), when, err);
out:
	json_wipe_free(o);
	return rc;
}

/* Source 1: the environment. */
static int
from_env(struct chain_ctx *c, struct errbuf *err)
{
	const char *ak = env("AWS_ACCESS_KEY_ID");
	const char *sk = env("AWS_SECRET_ACCESS_KEY");

	snprintf(c->tried, sizeof(c->tried), "environment");
	if (ak == NULL && sk == NULL)
		return 0;
	if (ak == NULL || sk == NULL)
		return errbuf_set(err, ERR_CONFIG, "%s is set but %s is not "
		    "(set both or neither)",
		    ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	if (set_fill(c->out, ak, sk, env("AWS_SESSION_TOKEN"), 0, err) == -1)
		return -1;
	snprintf(c->out->source, sizeof(c->out->source), "environment");
	return 1;
}

/* Source 3: web identity from the environment, to come with STS. */
static int
from_web_identity(struct chain_ctx *c, struct errbuf *err)
{
	(void)c;
	if (env("AWS_WEB_IDENTITY_TOKEN_FILE") == NULL)
		return 0;
	return errbuf_set(err, ERR_CONFIG, "AWS_WEB_IDENTITY_TOKEN_FILE is "
	    "set: web identity credentials are not supported yet");
}

/* --- source 2: the profile ------------------------------------------- */

static int
profile_unsupported(const struct awsfiles *a, struct errbuf *err)
{
	static const struct {
		const char *key, *what;
	} keys[] = {
		{ "role_arn", "assume role" },
		{ "web_identity_token_file", "web identity" },
		{ "sso_session", "IAM Identity Center (SSO)" },
		{ "sso_start_url", "IAM Identity Center (SSO)" },
		{ "sso_account_id", "IAM Identity Center (SSO)" },
		{ "sso_role_name", "IAM Identity Center (SSO)" },
	};
	const char *from;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (awsfiles_profile_get(a, keys[i].key, NULL, &from) != NULL)
			return errbuf_set(err, ERR_CONFIG, "profile \"%s\" in "
			    "%s: %s (%s) is not supported yet", a->profile,
			    from, keys[i].key, keys[i].what);
	return 0;
}

static int
profile_static(struct chain_ctx *c, const struct awsfiles *a,
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
	if (set_fill(c->out, ak, sk,
	    awsfiles_profile_get(a, "aws_session_token", NULL, NULL), 0,
	    err) == -1)
		return -1;
	snprintf(c->out->source, sizeof(c->out->source), "profile %s",
	    a->profile);
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
	json_wipe_free(o);
	return rc;
}

static int
profile_process(struct chain_ctx *c, const struct awsfiles *a,
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
	    "SessionToken", "output", c->out, err) == -1)
		goto out;
	snprintf(c->out->source, sizeof(c->out->source),
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

static void
describe_profile(struct chain_ctx *c, const struct awsfiles *a)
{
	if (a->creds.path == NULL && a->config.path == NULL)
		snprintf(c->tried, sizeof(c->tried), "profile \"%s\" (HOME is "
		    "not set)", a->profile);
	else
		snprintf(c->tried, sizeof(c->tried), "profile \"%s\" in %s "
		    "and %s", a->profile,
		    a->creds.path ? a->creds.path : "(no credentials file)",
		    a->config.path ? a->config.path : "(no config file)");
}

static int
from_profile(struct chain_ctx *c, struct errbuf *err)
{
	struct awsfiles a;
	const char *cmd;
	int rc = -1;

	if (awsfiles_open(&a, c->p->profile, err) == -1)
		return -1;
	describe_profile(c, &a);
	if (!awsfiles_profile_exists(&a)) {
		rc = a.explicit_profile ? errbuf_set(err, ERR_CONFIG,
		    "profile \"%s\" not found in %s or %s", a.profile,
		    a.creds.path ? a.creds.path : "(no credentials file)",
		    a.config.path ? a.config.path : "(no config file)") : 0;
		goto out;
	}
	if (profile_unsupported(&a, err) == -1)
		goto out;
	cmd = awsfiles_profile_get(&a, "credential_process", NULL, NULL);
	if (in_creds_file(&a, "aws_access_key_id") ||
	    in_creds_file(&a, "aws_secret_access_key"))
		cmd = NULL;	/* botocore: shared-credentials-file first */
	if (cmd != NULL)
		rc = profile_process(c, &a, cmd, err);
	else if (awsfiles_profile_get(&a, "aws_access_key_id", NULL, NULL) ||
	    awsfiles_profile_get(&a, "aws_secret_access_key", NULL, NULL))
		rc = profile_static(c, &a, err);
	else
		rc = 0;
out:
	awsfiles_close(&a);
	return rc;
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

static int
host_allowed(const char *host)
{
	struct in_addr a4;

	if (strcasecmp(host, "localhost") == 0 ||
	    strcmp(host, "169.254.170.2") == 0 ||
	    strcmp(host, "169.254.170.23") == 0 ||
	    strcmp(host, "[::1]") == 0 ||
	    strcasecmp(host, "[fd00:ec2::23]") == 0)
		return 1;
	return inet_pton(AF_INET, host, &a4) == 1 &&
	    (ntohl(a4.s_addr) >> 24) == 127;
}

int
creds_container_url_allowed(const char *url)
{
	char host[256];
	const char *h;
	size_t n;

	if (strncasecmp(url, "https://", 8) == 0)
		return url[8] != '\0';
	if (strncasecmp(url, "http://", 7) != 0)
		return 0;
	h = url + 7;
	n = strcspn(h, "/?#");
	if (n == 0 || n >= sizeof(host) || memchr(h, '@', n) != NULL)
		return 0;
	memcpy(host, h, n);
	host[n] = '\0';
	/* drop the port: after ']' for IPv6 literals, else after ':' */
	if (host[0] == '[') {
		char *end = strchr(host, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':'))
			return 0;
		end[1] = '\0';
	} else if (strchr(host, ':') != NULL)
		*strchr(host, ':') = '\0';
	return host_allowed(host);
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
		wipe_str(*tok);
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
	wipe_str(tok);
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
		code = json_str(o, "Code");
	ok = code != NULL && strcmp(code, "Success") == 0;
	json_wipe_free(o);
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
	wipe_str(m.token);
	return rc;
}

/* --- times ------------------------------------------------------------ */

static int
digits(const char **s, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**s))
			return -1;
		v = v * 10 + (*(*s)++ - '0');
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no timegm in POSIX). */
static long long
days_from_civil(long long y, int m, int d)
{
	long long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int
parse_offset(const char *s, long *off)
{
	int sign, hh, mm;

	if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
		*off = 0;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s++ == '-' ? -1 : 1;
	if (digits(&s, 2, &hh) == -1 || (*s == ':' && *++s == '\0') ||
	    digits(&s, 2, &mm) == -1 || *s != '\0' || hh > 23 || mm > 59)
		return -1;
	*off = sign * (hh * 3600L + mm * 60L);
	return 0;
}

int
creds_parse_iso8601(const char *s, time_t *out)
{
	int y, mo, d, h, mi, se;
	long off;

	if (digits(&s, 4, &y) == -1 || *s++ != '-' ||
	    digits(&s, 2, &mo) == -1 || *s++ != '-' ||
	    digits(&s, 2, &d) == -1 || (*s != 'T' && *s != 't' && *s != ' '))
		return -1;
	s++;
	if (digits(&s, 2, &h) == -1 || *s++ != ':' ||
	    digits(&s, 2, &mi) == -1 || *s++ != ':' ||
	    digits(&s, 2, &se) == -1)
		return -1;
	if (*s == '.' && isdigit((unsigned char)s[1]))
		for (s++; isdigit((unsigned char)*s); s++)
			continue;	/* a fraction changes nothing we use */
	if (parse_offset(s, &off) == -1 || mo < 1 || mo > 12 || d < 1 ||
	    d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	*out = (time_t)(days_from_civil(y, mo, d) * 86400LL + h * 3600LL +
	    mi * 60LL + se - off);
	return 0;
}

/* --- the provider ----------------------------------------------------- */

static int
resolve(struct creds_provider *p, struct creds_set *out, struct errbuf *err)
{
	struct buf tried = BUF_INIT;
	struct chain_ctx c;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(chain) / sizeof(chain[0]); i++) {
		memset(&c, 0, sizeof(c));
		c.p = p;
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
	buf_free(&tried);
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
		if (resolve(p, &fresh, err) == 0) {
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

const char *
creds_provider_source(const struct creds_provider *p)
{
	return p != NULL && p->have ? p->cur.source : NULL;
}
