/*
 * test_creds_sts: the credential sources that need a token service
 * (assume role, web identity, IAM Identity Center) against a loopback stub
 * playing STS and the SSO portal: request shapes, signatures (recomputed
 * here with the secret the source should have used), answers, chains,
 * loops, refusals, refresh.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "creds.h"
#include "errbuf.h"
#include "sigv4.h"
#include "sts.h"
#include "stubsrv.h"
#include "tap.h"
#include "timetext.h"

/* Every secret in this file contains SECRET_MARK; no message may. */
#define SECRET_MARK "SeCrEt"
#define NOW ((time_t)1900000000)		/* 2030-03-17T17:46:40Z */
#define EXP_1H "2030-03-17T18:46:40Z"		/* NOW + 3600 */
#define ROLE_A "arn:aws:iam::123456789012:role/role-a"
#define ROLE_B "arn:aws:iam::123456789012:role/role-b"
#define ROLE_A_ENC "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Frole-a"
#define ROLE_B_ENC "arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Frole-b"
#define SSO_KEY_SESSION "0ad374308c5a4e22f723adf10145eafad7c4031c" /* my-sso */
#define SSO_START "https://example.awsapps.com/start"
#define SSO_KEY_LEGACY "e8be5486177c5b5392bd9aa76563515b29358e6e"

static char dir[] = "/tmp/test_creds_sts.XXXXXX";
static char cfile[300], kfile[300];	/* credentials, config */
static int leaked;			/* messages that held a secret */

static const char *const aws_vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_REGION",
	"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS",
	"AWS_ENDPOINT_URL_SSO", "AWS_MAX_ATTEMPTS", "AWS_CA_BUNDLE",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
};

static void
reset_env(void)
{
	size_t i;

	for (i = 0; i < sizeof(aws_vars) / sizeof(aws_vars[0]); i++)
		unsetenv(aws_vars[i]);
	setenv("HOME", dir, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unlink(cfile);
	unlink(kfile);
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) == EOF) {
		perror(path);
		exit(2);
	}
}

static void
in_dir(char *out, size_t n, const char *leaf)
{
	snprintf(out, n, "%s/%s", dir, leaf);
}

/* Points STS (or another service's variable) at the stub. */
static void
use_stub(const char *var, const struct stubsrv *s)
{
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", s->port);
	setenv(var, url, 1);
}

/* An AssumeRole* answer; the secret is SECRET_MARK + ak. */
static void
sts_xml(char *out, size_t n, const char *action, const char *ak,
    const char *tok, const char *exp)
{
	snprintf(out, n, "<%sResponse xmlns=\"https://sts.amazonaws.com/doc/"
	    "2011-06-15/\">\n  <%sResult>\n    <AssumedRoleUser>"
	    "<Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn>"
	    "</AssumedRoleUser>\n    <Credentials>\n"
	    "      <AccessKeyId>%s</AccessKeyId>\n"
	    "      <SecretAccessKey>" SECRET_MARK "%s</SecretAccessKey>\n"
	    "      <SessionToken>%s</SessionToken>\n"
	    "      <Expiration>%s</Expiration>\n    </Credentials>\n"
	    "  </%sResult>\n  <ResponseMetadata><RequestId>r-1</RequestId>"
	    "</ResponseMetadata>\n</%sResponse>\n", action, action, ak, ak,
	    tok, exp, action, action);
}

struct got {
	int rc;
	struct errbuf err;
	char ak[128], tok[128], sk[128], source[128];
};

static void
snap(struct creds_provider *p, int rc, const struct sigv4_credentials *c,
    struct got *g)
{
	g->rc = rc;
	if (rc == 0) {
		snprintf(g->ak, sizeof(g->ak), "%s", c->access_key);
		snprintf(g->sk, sizeof(g->sk), "%s", c->secret_key);
		snprintf(g->tok, sizeof(g->tok), "%s", c->token ? c->token :
		    "");
	}
	if (rc == -1 && strstr(g->err.msg, SECRET_MARK) != NULL)
		leaked++;
	snprintf(g->source, sizeof(g->source), "%s",
	    creds_provider_source(p) ? creds_provider_source(p) : "");
}

static void
fetch_once(const char *profile, struct got *g)
{
	struct creds_options o = { profile, NULL, NULL };
	struct creds_provider *p;
	struct sigv4_credentials c;

	memset(g, 0, sizeof(*g));
	if ((p = creds_provider_new(&o, &g->err)) == NULL) {
		g->rc = -2;
		return;
	}
	snap(p, creds_provider_get(p, NOW, &c, &g->err), &c, g);
	creds_provider_free(p);
}

static void
expect_keys(const struct got *g, const char *ak, const char *tok,
    const char *source, const char *name)
{
	if (!ok(g->rc == 0, "%s: found", name))
		printf("#   error: %s\n", g->err.msg);
	is_str(g->rc == 0 ? g->ak : NULL, ak, name);
	if (tok != NULL)
		is_str(g->tok, tok, name);
	is_str(g->source, source, name);
}

static void
expect_error(const struct got *g, const char *msg, const char *name)
{
	ok(g->rc == -1 && g->err.kind == ERR_CONFIG, "%s: ERR_CONFIG", name);
	is_str(g->err.msg, msg, name);
}

/* "20300317T174640Z" -> seconds */
static time_t
amz_time(const char *d)
{
	char iso[32];
	time_t t = 0;

	if (d == NULL || strlen(d) != 16)
		return 0;
	snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", d, d + 4,
	    d + 6, d + 9, d + 11, d + 13);
	return timetext_iso8601(iso, TIMETEXT_ZONE, &t, NULL) == 0 ? t : 0;
}

/*
 * Signs the recorded request again with ak/secret/token and the headers it
 * says it signed: 1 when our Authorization equals the one sent, i.e. the
 * client signed with exactly those credentials.
 */
static int
signed_with(const struct stubsrv_req *r, const char *ak, const char *secret,
    const char *token, const char *region)
{
	const char *auth = stubsrv_req_header(r, "Authorization");
	struct sigv4_header h[16];
	struct sigv4_credentials c = { ak, secret, token };
	struct sigv4_request q;
	struct sigv4_params p;
	struct sigv4_result res;
	struct errbuf err;
	char names[512], *name, *save = NULL;
	size_t n = 0;
	int same;

	if (auth == NULL || strstr(auth, "SignedHeaders=") == NULL)
		return 0;
	snprintf(names, sizeof(names), "%s", strstr(auth, "SignedHeaders=") +
	    14);
	names[strcspn(names, ",")] = '\0';
	for (name = strtok_r(names, ";", &save); name != NULL && n < 16;
	    name = strtok_r(NULL, ";", &save)) {
		/* the signer adds these two itself */
		if (strcmp(name, "x-amz-date") == 0 ||
		    strcmp(name, "x-amz-security-token") == 0)
			continue;
		h[n].name = name;
		h[n++].value = stubsrv_req_header(r, name);
		if (h[n - 1].value == NULL)
			return 0;
	}
	memset(&q, 0, sizeof(q));
	q.method = r->method;
	q.target = r->target;
	q.headers = h;
	q.nheaders = n;
	q.body = r->body;
	q.body_len = r->body_len;
	memset(&p, 0, sizeof(p));
	p.region = region;
	p.service = "sts";
	p.when = amz_time(stubsrv_req_header(r, "X-Amz-Date"));
	p.flags = SIGV4_DEFAULT;
	memset(&res, 0, sizeof(res));
	if (sigv4_sign(&q, &p, &c, &res, &err) != 0)
		return 0;
	same = strcmp(res.authorization, auth) == 0;
	sigv4_result_free(&res);
	return same;
}

/* "AWS4-HMAC-SHA256 Credential=AK/DATE/REGION/sts/aws4_request, ..." */
static void
check_scope(const struct stubsrv_req *r, const char *ak, const char *region,
    const char *name)
{
	const char *auth = stubsrv_req_header(r, "Authorization");
	const char *date = stubsrv_req_header(r, "X-Amz-Date");
	char want[256];

	snprintf(want, sizeof(want), "AWS4-HMAC-SHA256 Credential=%s/%.8s/%s/"
	    "sts/aws4_request, SignedHeaders=", ak, date ? date : "?", region);
	ok(auth != NULL && strncmp(auth, want, strlen(want)) == 0,
	    "%s: credential scope %s", name, want + 28);
	if (auth != NULL && strncmp(auth, want, strlen(want)) != 0)
		printf("#   got: %.120s\n", auth);
}

/* ---- pure pieces ---- */

static void
test_parse(void)
{
	char xml[2048];
	struct sts_creds c;
	struct errbuf err;
	char key[41];

	sts_xml(xml, sizeof(xml), "AssumeRole", "ASIA1", "to&amp;k&lt;en",
	    "2030-03-17T18:46:40.123Z");
	ok(sts_parse_credentials(xml, strlen(xml), &c, &err) == 0,
	    "parse an AssumeRole answer");
	is_str(c.access_key, "ASIA1", "AccessKeyId");
	is_str(c.secret_key, SECRET_MARK "ASIA1", "SecretAccessKey");
	is_str(c.token, "to&k<en", "SessionToken, entities decoded");
	is_int(c.expiration, NOW + 3600, "Expiration with a fraction");
	sts_creds_free(&c);

	snprintf(xml, sizeof(xml), "<R><CredentialsX><AccessKeyId>X"
	    "</AccessKeyId></CredentialsX></R>");
	ok(sts_parse_credentials(xml, strlen(xml), &c, &err) == -1 &&
	    strcmp(err.msg, "no <Credentials> in the answer") == 0,
	    "<CredentialsX> is not <Credentials>");
	snprintf(xml, sizeof(xml), "<Credentials><AccessKeyId>A</AccessKeyId>"
	    "<SessionToken>T</SessionToken><Expiration>" EXP_1H
	    "</Expiration></Credentials>");
	ok(sts_parse_credentials(xml, strlen(xml), &c, &err) == -1,
	    "no secret: refused");
	is_str(err.msg, "no <SecretAccessKey> in <Credentials>", "says which");
	snprintf(xml, sizeof(xml), "<Credentials><AccessKeyId>A</AccessKeyId>"
	    "<SecretAccessKey>S</SecretAccessKey><SessionToken>T"
	    "</SessionToken><Expiration>soon</Expiration></Credentials>");
	ok(sts_parse_credentials(xml, strlen(xml), &c, &err) == -1 &&
	    strstr(err.msg, "ISO 8601") != NULL, "bad Expiration");
	/* cut short: the closing tag is beyond len */
	sts_xml(xml, sizeof(xml), "AssumeRole", "ASIA1", "T", EXP_1H);
	ok(sts_parse_credentials(xml, (size_t)(strstr(xml, "</Secret") - xml),
	    &c, &err) == -1, "a truncated answer is refused");

	snprintf(xml, sizeof(xml), "{\"roleCredentials\": {\"accessKeyId\": "
	    "\"ASIASSO\", \"secretAccessKey\": \"" SECRET_MARK "\", "
	    "\"sessionToken\": \"TOKSSO\", \"expiration\": 1900003600000}}");
	ok(sts_sso_parse_credentials(xml, strlen(xml), &c, &err) == 0,
	    "parse a GetRoleCredentials answer");
	is_str(c.access_key, "ASIASSO", "accessKeyId");
	is_str(c.token, "TOKSSO", "sessionToken");
	is_int(c.expiration, NOW + 3600, "expiration in milliseconds");
	sts_creds_free(&c);
	snprintf(xml, sizeof(xml), "{\"roleCredentials\": {\"accessKeyId\": "
	    "\"A\", \"secretAccessKey\": \"" SECRET_MARK "\", "
	    "\"sessionToken\": \"T\"}}");
	ok(sts_sso_parse_credentials(xml, strlen(xml), &c, &err) == -1 &&
	    strcmp(err.msg, "no expiration in roleCredentials") == 0,
	    "SSO answer without expiration");

	sts_sso_cache_key("", key);
	is_str(key, "da39a3ee5e6b4b0d3255bfef95601890afd80709", "SHA-1 of \"\"");
	sts_sso_cache_key("my-sso", key);
	is_str(key, SSO_KEY_SESSION, "cache key of a session name");
	sts_sso_cache_key(SSO_START, key);
	is_str(key, SSO_KEY_LEGACY, "cache key of a start URL");
}

/* ---- assume role ---- */

static void
test_assume_role(void)
{
	char body[2048];
	struct stubsrv_response script[1] = { { .status = 200 } };
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;

	reset_env();
	sts_xml(body, sizeof(body), "AssumeRole", "ASIAA", "TOKA", EXP_1H);
	script[0].body = body;
	if (!ok(stubsrv_start(&s, script, 1) == 0, "stub starts"))
		return;
	use_stub("AWS_ENDPOINT_URL_STS", &s);
	setenv("AWS_REGION", "eu-west-1", 1);
	write_file(kfile, "[profile role]\nrole_arn = " ROLE_A "\n"
	    "source_profile = base\nexternal_id = ext/1\n"
	    "duration_seconds = 1800\nrole_session_name = my-sess\n"
	    "region = ap-south-1\n");
	write_file(cfile, "[base]\naws_access_key_id = AKIDBASE\n"
	    "aws_secret_access_key = " SECRET_MARK "base\n");
	fetch_once("role", &g);
	expect_keys(&g, "ASIAA", "TOKA", "assume role (profile role)",
	    "role with a static source_profile");
	is_str(g.sk, SECRET_MARK "ASIAA", "the role's secret");
	if (ok(stubsrv_read(&s, &log) == 0 && log.n == 1, "one STS call")) {
		is_str(log.req[0].method, "POST", "POST");
		is_str(log.req[0].target, "/", "to /");
		is_str(stubsrv_req_header(&log.req[0], "Content-Type"),
		    "application/x-www-form-urlencoded; charset=utf-8",
		    "a form");
		is_str(log.req[0].body, "Action=AssumeRole&Version=2011-06-15"
		    "&RoleArn=" ROLE_A_ENC "&RoleSessionName=my-sess"
		    "&ExternalId=ext%2F1&DurationSeconds=1800",
		    "the query API form, values encoded");
		check_scope(&log.req[0], "AKIDBASE", "eu-west-1",
		    "AWS_REGION wins over the profile's region");
		ok(signed_with(&log.req[0], "AKIDBASE", SECRET_MARK "base",
		    NULL, "eu-west-1"), "signed with the source's secret");
		ok(!signed_with(&log.req[0], "AKIDBASE", SECRET_MARK "other",
		    NULL, "eu-west-1"), "(the check can fail)");
		ok(stubsrv_req_header(&log.req[0], "X-Amz-Security-Token") ==
		    NULL, "no token for a static source");
	}
	stubsrv_log_free(&log);
	stubsrv_stop(&s);
}

/* role-a <- role-b <- base: two AssumeRole calls, each signed by the last. */
static void
test_chain(void)
{
	char b1[2048], b2[2048], want[512];
	struct stubsrv_response script[2] = {
		{ .status = 200 }, { .status = 200 }
	};
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;

	reset_env();
	sts_xml(b1, sizeof(b1), "AssumeRole", "ASIAB", "TOKB", EXP_1H);
	sts_xml(b2, sizeof(b2), "AssumeRole", "ASIAA", "TOKA", EXP_1H);
	script[0].body = b1;
	script[1].body = b2;
	if (!ok(stubsrv_start(&s, script, 2) == 0, "stub starts"))
		return;
	use_stub("AWS_ENDPOINT_URL", &s);
	write_file(kfile, "[default]\nregion = ap-south-1\n"
	    "role_arn = " ROLE_A "\nsource_profile = b\n"
	    "[profile b]\nrole_arn = " ROLE_B "\nsource_profile = base\n"
	    "[profile base]\naws_access_key_id = AKIDBASE\n"
	    "aws_secret_access_key = " SECRET_MARK "base\n");
	fetch_once(NULL, &g);
	expect_keys(&g, "ASIAA", "TOKA", "assume role (profile default)",
	    "a chain of two roles; AWS_ENDPOINT_URL serves STS");
	if (g.rc != 0)
		printf("# rc %d: %s\n", g.rc, g.err.msg);
	if (ok(stubsrv_read(&s, &log) == 0 && log.n == 2, "two STS calls")) {
		snprintf(want, sizeof(want), "Action=AssumeRole&Version="
		    "2011-06-15&RoleArn=%s&RoleSessionName=coinpipe-%lld",
		    ROLE_B_ENC, (long long)NOW);
		is_str(log.req[0].body, want, "first the source's role, "
		    "default session name");
		check_scope(&log.req[0], "AKIDBASE", "ap-south-1",
		    "the profile's region");
		ok(signed_with(&log.req[0], "AKIDBASE", SECRET_MARK "base",
		    NULL, "ap-south-1"), "signed by base");
		ok(strstr(log.req[1].body, "RoleArn=" ROLE_A_ENC) != NULL,
		    "then the profile's role");
		is_str(stubsrv_req_header(&log.req[1], "X-Amz-Security-Token"),
		    "TOKB", "with role-b's session token");
		ok(signed_with(&log.req[1], "ASIAB", SECRET_MARK "ASIAB",
		    "TOKB", "ap-south-1"), "signed by role-b's credentials");
	}
	stubsrv_log_free(&log);
	stubsrv_stop(&s);
}

/* Refusals that need no server: each names the profile and the reason. */
static void
test_role_errors(void)
{
	static const struct {
		const char *config, *profile, *msg;
	} cases[] = {
		{ "[profile a]\nrole_arn = " ROLE_A "\nsource_profile = b\n"
		    "[profile b]\nrole_arn = " ROLE_B "\nsource_profile = c\n"
		    "[profile c]\nrole_arn = " ROLE_B "\nsource_profile = a\n",
		    "a", "profile \"a\": source_profile loop: a -> b -> c -> a" },
		{ "[profile a]\nrole_arn = " ROLE_A "\nsource_profile = a\n",
		    "a", "profile \"a\": source_profile loop: a -> a" },
		{ "[profile a]\nrole_arn = " ROLE_A "\nsource_profile = b\n"
		    "[profile b]\nrole_arn = " ROLE_B "\nsource_profile = b\n"
		    "aws_session_token = T\n",
		    "a", "profile \"a\": source_profile \"b\" has no "
		    "credentials" },
		{ "[profile a]\nrole_arn = " ROLE_A "\nsource_profile = b\n"
		    "mfa_serial = arn:aws:iam::123456789012:mfa/me\n",
		    "a", "profile \"a\": mfa_serial is set, but an MFA code "
		    "cannot be asked for in a pipeline (use a role without "
		    "MFA, or put the output of aws sts get-session-token in "
		    "the environment)" },
		{ "[profile a]\nrole_arn = " ROLE_A "\nsource_profile = b\n"
		    "[profile b]\nrole_arn = " ROLE_B "\ncredential_source = "
		    "Environment\nmfa_serial = x\n",
		    "a", "profile \"b\": mfa_serial is set, but an MFA code "
		    "cannot be asked for in a pipeline (use a role without "
		    "MFA, or put the output of aws sts get-session-token in "
		    "the environment)" },
		{ "[profile a]\nrole_arn = " ROLE_A "\nsource_profile = b\n"
		    "credential_source = Environment\n",
		    "a", "profile \"a\": role_arn with both source_profile and "
		    "credential_source (set one)" },
		{ "[profile a]\nrole_arn = " ROLE_A "\n",
		    "a", "profile \"a\": role_arn without source_profile or "
		    "credential_source" },
		{ "[profile a]\nrole_arn = " ROLE_A "\ncredential_source = "
		    "environment\n", "a", "profile \"a\": credential_source "
		    "\"environment\" is not Environment, Ec2InstanceMetadata "
		    "or EcsContainer" },
		{ "[profile a]\nrole_arn = " ROLE_A "\ncredential_source = "
		    "Environment\n", "a", "profile \"a\": credential_source "
		    "Environment: no credentials (tried: environment)" },
		{ "[profile a]\nrole_arn = " ROLE_A "\ncredential_source = "
		    "Ec2InstanceMetadata\n", "a", "profile \"a\": "
		    "credential_source Ec2InstanceMetadata: no credentials "
		    "(tried: EC2 instance metadata (disabled by "
		    "AWS_EC2_METADATA_DISABLED))" },
		{ "[profile a]\nrole_arn = " ROLE_A "\nsource_profile = b\n"
		    "duration_seconds = 1h\n", "a", "profile \"a\": "
		    "duration_seconds must be 900 to 43200, not \"1h\"" },
		{ "[profile a]\nrole_arn = " ROLE_A "\nsource_profile = b\n"
		    "duration_seconds = 60\n", "a", "profile \"a\": "
		    "duration_seconds must be 900 to 43200, not \"60\"" },
	};
	struct got g;
	char msg[1024];
	size_t i;

	reset_env();
	/* nothing listens here: a request would fail differently */
	setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9", 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(kfile, cases[i].config);
		fetch_once(cases[i].profile, &g);
		expect_error(&g, cases[i].msg, cases[i].msg);
	}
	write_file(kfile, "[profile a]\nrole_arn = " ROLE_A "\n"
	    "source_profile = nosuch\n");
	fetch_once("a", &g);
	snprintf(msg, sizeof(msg), "profile \"a\": source_profile \"nosuch\" "
	    "not found in %s or %s", cfile, kfile);
	expect_error(&g, msg, "a missing source profile");
}

/*
 * A profile may be its own source when it holds static keys (botocore:
 * configuration and keys in one profile).
 */
static void
test_self_source(void)
{
	char body[2048];
	struct stubsrv_response script[1] = { { .status = 200 } };
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;

	reset_env();
	sts_xml(body, sizeof(body), "AssumeRole", "ASIASELF", "TOKS", EXP_1H);
	script[0].body = body;
	if (!ok(stubsrv_start(&s, script, 1) == 0, "stub starts"))
		return;
	use_stub("AWS_ENDPOINT_URL_STS", &s);
	write_file(kfile, "[profile me]\nrole_arn = " ROLE_A "\n"
	    "source_profile = me\n");
	write_file(cfile, "[me]\naws_access_key_id = AKIDME\n"
	    "aws_secret_access_key = " SECRET_MARK "me\n");
	fetch_once("me", &g);
	expect_keys(&g, "ASIASELF", "TOKS", "assume role (profile me)",
	    "source_profile naming itself, with keys");
	if (ok(stubsrv_read(&s, &log) == 0 && log.n == 1, "one call"))
		ok(signed_with(&log.req[0], "AKIDME", SECRET_MARK "me", NULL,
		    "us-east-1"), "signed with its own keys; us-east-1 when "
		    "no region is set");
	stubsrv_log_free(&log);
	stubsrv_stop(&s);
}

/* credential_source: the environment's keys and the container endpoint. */
static void
test_credential_source(void)
{
	char b1[2048], b2[2048], url[128];
	struct stubsrv_response script[3] = {
		{ .status = 200 },
		{ .status = 200, .body = "{\"AccessKeyId\": \"AKIDECS\", "
		    "\"SecretAccessKey\": \"" SECRET_MARK "ecs\", \"Token\": "
		    "\"TOKECS\", \"Expiration\": \"" EXP_1H "\"}" },
		{ .status = 200 },
	};
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;

	reset_env();
	sts_xml(b1, sizeof(b1), "AssumeRole", "ASIAENV", "TOKE", EXP_1H);
	sts_xml(b2, sizeof(b2), "AssumeRole", "ASIAECS", "TOKC", EXP_1H);
	script[0].body = b1;
	script[2].body = b2;
	if (!ok(stubsrv_start(&s, script, 3) == 0, "stub starts"))
		return;
	use_stub("AWS_ENDPOINT_URL_STS", &s);
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_MARK "env", 1);
	write_file(kfile, "[default]\nrole_arn = " ROLE_A "\n"
	    "credential_source = Environment\n"
	    "[profile ecs]\nrole_arn = " ROLE_B "\n"
	    "credential_source = EcsContainer\n");
	fetch_once(NULL, &g);
	expect_keys(&g, "ASIAENV", "TOKE", "assume role (profile default)",
	    "credential_source Environment: the keys are the role's source");
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ecs-creds", s.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	fetch_once("ecs", &g);
	expect_keys(&g, "ASIAECS", "TOKC", "assume role (profile ecs)",
	    "credential_source EcsContainer");
	if (ok(stubsrv_read(&s, &log) == 0 && log.n == 3, "three calls")) {
		ok(signed_with(&log.req[0], "AKIDENV", SECRET_MARK "env", NULL,
		    "us-east-1"), "AssumeRole signed with the environment's");
		is_str(log.req[1].target, "/ecs-creds", "the container first");
		ok(signed_with(&log.req[2], "AKIDECS", SECRET_MARK "ecs",
		    "TOKECS", "us-east-1"), "then AssumeRole signed with the "
		    "container's credentials and token");
	}
	stubsrv_log_free(&log);
	stubsrv_stop(&s);
}

/* STS refusing, and STS failing once. */
static void
test_sts_errors(void)
{
	char body[2048];
	struct stubsrv_response script[3] = {
		{ .status = 403, .body = "<ErrorResponse><Error><Type>Sender"
		    "</Type><Code>AccessDenied</Code><Message>not allowed to "
		    "assume role-a</Message></Error><RequestId>x</RequestId>"
		    "</ErrorResponse>" },
		{ .status = 503, .body = "" },
		{ .status = 200 },
	};
	struct stubsrv s;
	struct got g;

	reset_env();
	sts_xml(body, sizeof(body), "AssumeRole", "ASIAR", "TOKR", EXP_1H);
	script[2].body = body;
	if (!ok(stubsrv_start(&s, script, 3) == 0, "stub starts"))
		return;
	use_stub("AWS_ENDPOINT_URL_STS", &s);
	write_file(kfile, "[profile a]\nrole_arn = " ROLE_A "\n"
	    "source_profile = b\n[profile b]\naws_access_key_id = AKIDB\n"
	    "aws_secret_access_key = " SECRET_MARK "\n");
	fetch_once("a", &g);
	expect_error(&g, "profile \"a\": AssumeRole " ROLE_A ": HTTP 403 "
	    "AccessDenied: not allowed to assume role-a", "STS says no");
	fetch_once("a", &g);
	expect_keys(&g, "ASIAR", "TOKR", "assume role (profile a)",
	    "a 503 is retried");
	stubsrv_stop(&s);
}

/* Cached until CREDS_REFRESH_AHEAD_S before Expiration, then assumed anew. */
static void
test_role_refresh(void)
{
	char b1[2048], b2[2048];
	struct stubsrv_response script[2] = {
		{ .status = 200 }, { .status = 200 }
	};
	struct creds_options o = { "a", NULL, NULL };
	struct creds_provider *p;
	struct sigv4_credentials c;
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;
	time_t exp = NOW + 3600;

	reset_env();
	sts_xml(b1, sizeof(b1), "AssumeRole", "ASIA1", "TOK1", EXP_1H);
	sts_xml(b2, sizeof(b2), "AssumeRole", "ASIA2", "TOK2",
	    "2030-03-17T19:46:40Z");
	script[0].body = b1;
	script[1].body = b2;
	if (!ok(stubsrv_start(&s, script, 2) == 0, "stub starts"))
		return;
	use_stub("AWS_ENDPOINT_URL_STS", &s);
	write_file(kfile, "[profile a]\nrole_arn = " ROLE_A "\n"
	    "source_profile = b\n[profile b]\naws_access_key_id = AKIDB\n"
	    "aws_secret_access_key = " SECRET_MARK "\n");
	memset(&g, 0, sizeof(g));
	p = creds_provider_new(&o, &g.err);
	snap(p, creds_provider_get(p, NOW, &c, &g.err), &c, &g);
	is_str(g.ak, "ASIA1", "first get assumes the role");
	snap(p, creds_provider_get(p, exp - CREDS_REFRESH_AHEAD_S - 1, &c,
	    &g.err), &c, &g);
	is_str(g.ak, "ASIA1", "cached until the refresh point");
	snap(p, creds_provider_get(p, exp - CREDS_REFRESH_AHEAD_S, &c, &g.err),
	    &c, &g);
	is_str(g.ak, "ASIA2", "assumed again at the refresh point");
	snap(p, creds_provider_get(p, exp + 60, &c, &g.err), &c, &g);
	is_str(g.ak, "ASIA2", "the new ones run to their own expiry");
	ok(stubsrv_read(&s, &log) == 0 && log.n == 2, "two STS calls in all");
	stubsrv_log_free(&log);
	creds_provider_free(p);
	stubsrv_stop(&s);
}

/* ---- web identity ---- */

static void
test_web_identity_env(void)
{
	char b1[2048], b2[2048], tokfile[300];
	struct stubsrv_response script[3] = {
		{ .status = 200 },
		{ .status = 500, .body = "<ErrorResponse><Error><Code>"
		    "IDPCommunicationError</Code></Error></ErrorResponse>" },
		{ .status = 200 },
	};
	struct creds_options o = { NULL, NULL, NULL };
	struct creds_provider *p;
	struct sigv4_credentials c;
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;

	reset_env();
	sts_xml(b1, sizeof(b1), "AssumeRoleWithWebIdentity", "ASIAW1", "TOKW1",
	    EXP_1H);
	sts_xml(b2, sizeof(b2), "AssumeRoleWithWebIdentity", "ASIAW2", "TOKW2",
	    "2030-03-17T19:46:40Z");
	script[0].body = b1;
	script[2].body = b2;
	if (!ok(stubsrv_start(&s, script, 3) == 0, "stub starts"))
		return;
	use_stub("AWS_ENDPOINT_URL_STS", &s);
	in_dir(tokfile, sizeof(tokfile), "web-token");
	write_file(tokfile, "eyJ.first-" SECRET_MARK "\n");
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokfile, 1);
	setenv("AWS_ROLE_ARN", ROLE_A, 1);
	setenv("AWS_ROLE_SESSION_NAME", "pod-1", 1);
	/* ahead of the profile's keys, as in every SDK */
	write_file(cfile, "[default]\naws_access_key_id = AKIDFILE\n"
	    "aws_secret_access_key = " SECRET_MARK "\n");
	memset(&g, 0, sizeof(g));
	p = creds_provider_new(&o, &g.err);
	snap(p, creds_provider_get(p, NOW, &c, &g.err), &c, &g);
	expect_keys(&g, "ASIAW1", "TOKW1", "web identity (environment)",
	    "AWS_WEB_IDENTITY_TOKEN_FILE");
	/* the token rotates; the refresh reads it again; a 500 is retried */
	write_file(tokfile, "eyJ.second-" SECRET_MARK);
	snap(p, creds_provider_get(p, NOW + 3600 - CREDS_REFRESH_AHEAD_S, &c,
	    &g.err), &c, &g);
	is_str(g.ak, "ASIAW2", "refreshed");
	creds_provider_free(p);
	if (ok(stubsrv_read(&s, &log) == 0 && log.n == 3, "three calls")) {
		is_str(log.req[0].body, "Action=AssumeRoleWithWebIdentity&"
		    "Version=2011-06-15&RoleArn=" ROLE_A_ENC "&RoleSessionName="
		    "pod-1&WebIdentityToken=eyJ.first-" SECRET_MARK,
		    "the form, token without its newline");
		ok(stubsrv_req_header(&log.req[0], "Authorization") == NULL &&
		    stubsrv_req_header(&log.req[0], "X-Amz-Date") == NULL,
		    "unsigned");
		is_str(log.req[0].method, "POST", "POST");
		ok(strstr(log.req[2].body, "WebIdentityToken=eyJ.second-") !=
		    NULL, "the refresh sent the new token");
	}
	stubsrv_log_free(&log);
	stubsrv_stop(&s);
}

static void
test_web_identity_profile(void)
{
	char body[2048], tokfile[300], text[1024], want[512];
	struct stubsrv_response script[1] = { { .status = 200 } };
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;

	reset_env();
	sts_xml(body, sizeof(body), "AssumeRoleWithWebIdentity", "ASIAWP",
	    "TOKWP", EXP_1H);
	script[0].body = body;
	if (!ok(stubsrv_start(&s, script, 1) == 0, "stub starts"))
		return;
	use_stub("AWS_ENDPOINT_URL_STS", &s);
	in_dir(tokfile, sizeof(tokfile), "web-token-2");
	write_file(tokfile, "tok-" SECRET_MARK);
	snprintf(text, sizeof(text), "[profile w]\nrole_arn = " ROLE_B "\n"
	    "web_identity_token_file = %s\n[profile a]\nrole_arn = " ROLE_A
	    "\nsource_profile = w\n", tokfile);
	write_file(kfile, text);
	fetch_once("w", &g);
	expect_keys(&g, "ASIAWP", "TOKWP", "web identity (profile w)",
	    "web_identity_token_file in the profile");
	if (ok(stubsrv_read(&s, &log) == 0 && log.n == 1, "one call")) {
		snprintf(want, sizeof(want), "Action=AssumeRoleWithWebIdentity&"
		    "Version=2011-06-15&RoleArn=%s&RoleSessionName="
		    "coinpipe-%lld&WebIdentityToken=tok-" SECRET_MARK,
		    ROLE_B_ENC, (long long)NOW);
		is_str(log.req[0].body, want, "the profile's role");
	}
	stubsrv_log_free(&log);
	stubsrv_stop(&s);

	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
	write_file(kfile, "[profile x]\nregion = us-east-1\n");
	fetch_once(NULL, &g);
	expect_error(&g, "web identity: AWS_WEB_IDENTITY_TOKEN_FILE is set "
	    "without a role (AWS_ROLE_ARN, or role_arn in profile "
	    "\"default\")", "token file without a role");
	setenv("AWS_ROLE_ARN", ROLE_A, 1);
	fetch_once(NULL, &g);
	expect_error(&g, "web identity (AWS_WEB_IDENTITY_TOKEN_FILE): "
	    "/nonexistent/token: No such file or directory",
	    "unreadable token file");
}

/* ---- IAM Identity Center ---- */

static void
write_sso_cache(const char *key, const char *token, const char *expires)
{
	char path[400], text[512];

	snprintf(path, sizeof(path), "%s/.aws/sso/cache/%s.json", dir, key);
	snprintf(text, sizeof(text), "{\"startUrl\": \"" SSO_START "\", "
	    "\"region\": \"eu-west-1\", \"accessToken\": \"%s\", "
	    "\"expiresAt\": \"%s\"}", token, expires);
	write_file(path, text);
}

static void
test_sso(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = "{\"roleCredentials\": {\"accessKeyId\":"
		    " \"ASIASSO1\", \"secretAccessKey\": \"" SECRET_MARK "1\", "
		    "\"sessionToken\": \"TOKSSO1\", \"expiration\": "
		    "1900003600000}}" },
		{ .status = 200, .body = "{\"roleCredentials\": {\"accessKeyId\":"
		    " \"ASIASSO2\", \"secretAccessKey\": \"" SECRET_MARK "2\", "
		    "\"sessionToken\": \"TOKSSO2\", \"expiration\": "
		    "1900003600000}}" },
		{ .status = 401, .body = "{\"message\": \"Session token not "
		    "found or invalid\", \"__type\": \"com.amazonaws.switchboard"
		    ".portal#UnauthorizedException\"}" },
	};
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;

	reset_env();
	if (!ok(stubsrv_start(&s, script, 3) == 0, "stub starts"))
		return;
	use_stub("AWS_ENDPOINT_URL_SSO", &s);
	write_file(kfile, "[profile dev]\nsso_session = my-sso\n"
	    "sso_account_id = 111122223333\nsso_role_name = Read Only\n"
	    "region = us-west-2\n"
	    "[sso-session my-sso]\nsso_start_url = " SSO_START "\n"
	    "sso_region = eu-west-1\n"
	    "[profile old]\nsso_start_url = " SSO_START "\n"
	    "sso_region = eu-west-1\nsso_account_id = 444455556666\n"
	    "sso_role_name = Admin\n");
	write_sso_cache(SSO_KEY_SESSION, "sso-access-" SECRET_MARK,
	    "2030-03-17T20:00:00Z");
	write_sso_cache(SSO_KEY_LEGACY, "legacy-access-" SECRET_MARK,
	    "2030-03-17T20:00:00UTC");
	fetch_once("dev", &g);
	expect_keys(&g, "ASIASSO1", "TOKSSO1", "sso (profile dev)",
	    "sso_session profile");
	fetch_once("old", &g);
	expect_keys(&g, "ASIASSO2", "TOKSSO2", "sso (profile old)",
	    "legacy profile, cache by start URL, ...UTC expiry");
	fetch_once("dev", &g);
	expect_error(&g, "the SSO session has expired: run aws sso login "
	    "--profile dev", "the portal's 401 means log in again");
	if (ok(stubsrv_read(&s, &log) == 0 && log.n == 3, "three calls")) {
		is_str(log.req[0].method, "GET", "GET");
		is_str(log.req[0].target, "/federation/credentials?account_id="
		    "111122223333&role_name=Read%20Only", "the portal path");
		is_str(stubsrv_req_header(&log.req[0],
		    "x-amz-sso_bearer_token"), "sso-access-" SECRET_MARK,
		    "the cached token of the session");
		ok(stubsrv_req_header(&log.req[0], "Authorization") == NULL,
		    "no SigV4");
		is_str(stubsrv_req_header(&log.req[1],
		    "x-amz-sso_bearer_token"), "legacy-access-" SECRET_MARK,
		    "the cached token of the start URL");
	}
	stubsrv_log_free(&log);
	stubsrv_stop(&s);
}

static void
test_sso_errors(void)
{
	struct got g;
	char msg[1024];

	reset_env();
	setenv("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:9", 1);
	write_file(kfile, "[profile dev]\nsso_session = my-sso\n"
	    "sso_account_id = 111122223333\nsso_role_name = R\n"
	    "[sso-session my-sso]\nsso_start_url = " SSO_START "\n"
	    "sso_region = eu-west-1\n"
	    "[profile half]\nsso_start_url = " SSO_START "\n"
	    "sso_account_id = 1\n"
	    "[profile nosess]\nsso_session = gone\nsso_account_id = 1\n"
	    "sso_role_name = R\n"
	    "[profile clash]\nsso_session = my-sso\nsso_region = us-east-1\n"
	    "sso_account_id = 1\nsso_role_name = R\n"
	    "[profile chained]\nrole_arn = " ROLE_A "\nsource_profile = dev\n");
	write_sso_cache(SSO_KEY_SESSION, "t-" SECRET_MARK,
	    "2030-03-17T17:46:40Z");
	fetch_once("dev", &g);
	expect_error(&g, "the SSO session has expired: run aws sso login "
	    "--profile dev", "a token expiring now is expired");
	fetch_once("chained", &g);
	expect_error(&g, "the SSO session has expired: run aws sso login "
	    "--profile dev", "SSO as a role's source names the SSO profile");
	fetch_once("half", &g);
	expect_error(&g, "profile \"half\" is set up for IAM Identity Center "
	    "(SSO) but lacks sso_region, sso_role_name", "missing settings");
	fetch_once("nosess", &g);
	snprintf(msg, sizeof(msg), "profile \"nosess\": no [sso-session gone] "
	    "section in %s", kfile);
	expect_error(&g, msg, "missing sso-session section");
	fetch_once("clash", &g);
	expect_error(&g, "profile \"clash\": sso_region differs from the one "
	    "in [sso-session my-sso]", "profile and session disagree");
	snprintf(msg, sizeof(msg), "%s/.aws/sso/cache/" SSO_KEY_SESSION
	    ".json", dir);
	unlink(msg);
	fetch_once("dev", &g);
	snprintf(msg, sizeof(msg), "profile \"dev\": no SSO token in "
	    "%s/.aws/sso/cache/" SSO_KEY_SESSION ".json: run aws sso login "
	    "--profile dev", dir);
	expect_error(&g, msg, "no cached token");
}

/* tests/servers/up sets both files to /dev/null: an empty file. */
static void
test_dev_null(void)
{
	struct got g;

	reset_env();
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	fetch_once(NULL, &g);
	expect_error(&g, "no AWS credentials (tried: environment, profile "
	    "\"default\" in /dev/null and /dev/null, container, EC2 instance "
	    "metadata (disabled by AWS_EC2_METADATA_DISABLED))",
	    "/dev/null is an empty file");
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	in_dir(cmd, sizeof(cmd), ".aws");
	mkdir(cmd, 0700);
	in_dir(cmd, sizeof(cmd), ".aws/sso");
	mkdir(cmd, 0700);
	in_dir(cmd, sizeof(cmd), ".aws/sso/cache");
	mkdir(cmd, 0700);
	in_dir(cfile, sizeof(cfile), ".aws/credentials");
	in_dir(kfile, sizeof(kfile), ".aws/config");
	test_parse();
	test_assume_role();
	test_chain();
	test_role_errors();
	test_self_source();
	test_credential_source();
	test_sts_errors();
	test_role_refresh();
	test_web_identity_env();
	test_web_identity_profile();
	test_sso();
	test_sso_errors();
	test_dev_null();
	is_int(leaked, 0, "no error message held secret text");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
