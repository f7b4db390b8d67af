#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "creds.h"
#include "errbuf.h"
#include "stubsrv.h"
#include "tap.h"

/* Every secret in this file contains SECRET_MARK; no message may. */
#define SECRET_MARK "SeCrEt"
#define NOW ((time_t)1900000000)	/* 2030-03-17, any fixed time */

static char dir[] = "/tmp/test_creds.XXXXXX";
static char cfile[300], kfile[300];	/* credentials, config */
static int leaked;			/* messages that held a secret */

static const char *const aws_vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_REGION"
};

/* A clean slate: no variable of the real machine, no IMDS off loopback. */
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
write_file(const char *path, const char *text, int mode)
{
	FILE *fp;

	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) == EOF ||
	    fclose(fp) == EOF || chmod(path, (mode_t)mode) == -1) {
		perror(path);
		exit(2);
	}
}

static void
in_dir(char *out, size_t n, const char *leaf)
{
	snprintf(out, n, "%s/%s", dir, leaf);
}

/* What one lookup gave, copied before the provider is freed. */
struct got {
	int rc;
	struct errbuf err;
	char ak[128], tok[128];
	int have_tok;
	char source[128];
};

/* One lookup with a fresh provider (profile may be NULL). */
static struct creds_provider *
fetch(const char *profile, time_t now, struct got *g)
{
	struct creds_options o = { profile, NULL, NULL };
	struct creds_provider *p;
	struct sigv4_credentials c;

	memset(g, 0, sizeof(*g));
	if ((p = creds_provider_new(&o, &g->err)) == NULL) {
		g->rc = -2;
		return NULL;
	}
	g->rc = creds_provider_get(p, now, &c, &g->err);
	if (g->rc == 0) {
		snprintf(g->ak, sizeof(g->ak), "%s", c.access_key);
		g->have_tok = c.token != NULL;
		snprintf(g->tok, sizeof(g->tok), "%s", c.token ? c.token : "");
		if (c.secret_key == NULL || strstr(c.secret_key,
		    SECRET_MARK) == NULL)
			g->rc = -3;	/* every test secret has the mark */
	}
	if (g->rc == -1 && strstr(g->err.msg, SECRET_MARK) != NULL)
		leaked++;
	snprintf(g->source, sizeof(g->source), "%s",
	    creds_provider_source(p) ? creds_provider_source(p) : "");
	return p;
}

static void
fetch_once(const char *profile, struct got *g)
{
	creds_provider_free(fetch(profile, NOW, g));
}

static void
expect_keys(const struct got *g, const char *ak, const char *tok,
    const char *source, const char *name)
{
	char what[200];

	snprintf(what, sizeof(what), "%s: found", name);
	if (!ok(g->rc == 0, "%s", what))
		printf("#   error: %s\n", g->err.msg);
	snprintf(what, sizeof(what), "%s: access key", name);
	is_str(g->rc == 0 ? g->ak : NULL, ak, what);
	snprintf(what, sizeof(what), "%s: token", name);
	is_str(g->rc == 0 && g->have_tok ? g->tok : NULL, tok, what);
	snprintf(what, sizeof(what), "%s: source", name);
	is_str(g->source, source, what);
}

static void
expect_error(const struct got *g, const char *msg, const char *name)
{
	ok(g->rc == -1 && g->err.kind == ERR_CONFIG, "%s: ERR_CONFIG", name);
	is_str(g->err.msg, msg, name);
}

static void
test_env(void)
{
	struct got g;

	reset_env();
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_MARK "env", 1);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDENV", NULL, "environment", "env without token");
	setenv("AWS_SESSION_TOKEN", "TOK" SECRET_MARK, 1);
	write_file(cfile, "[default]\naws_access_key_id = AKIDFILE\n"
	    "aws_secret_access_key = " SECRET_MARK "\n", 0600);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDENV", "TOK" SECRET_MARK, "environment",
	    "env with token beats the profile");
	setenv("AWS_PROFILE", "default", 1);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDENV", "TOK" SECRET_MARK, "environment",
	    "env beats the profile AWS_PROFILE names (the CLI's order)");
	unsetenv("AWS_PROFILE");
	fetch_once("default", &g);
	expect_keys(&g, "AKIDFILE", NULL, "profile default",
	    "an explicit --profile beats the environment's keys");
	write_file(cfile, "", 0600);
	fetch_once("default", &g);
	ok(g.rc == -1 && strncmp(g.err.msg, "profile \"default\" not found",
	    27) == 0, "a missing --profile: its error, not the environment's "
	    "keys (%s)", g.err.msg);
	write_file(cfile, "[default]\naws_access_key_id = AKIDFILE\n"
	    "aws_secret_access_key = " SECRET_MARK "\n", 0600);

	unsetenv("AWS_SECRET_ACCESS_KEY");
	fetch_once(NULL, &g);
	expect_error(&g, "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY "
	    "is not (set both or neither)", "key without secret");
	unsetenv("AWS_ACCESS_KEY_ID");
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_MARK, 1);
	fetch_once(NULL, &g);
	expect_error(&g, "AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID "
	    "is not (set both or neither)", "secret without key");
	setenv("AWS_SECRET_ACCESS_KEY", "", 1);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDFILE", NULL, "profile default",
	    "empty variables count as unset");
}

static void
test_profile_files(void)
{
	struct got g;
	char msg[1024];

	reset_env();
	write_file(cfile,
	    "# comment\n[default]\r\n"
	    "aws_access_key_id = AKIDCREDS ; comment\r\n"
	    "aws_secret_access_key=" SECRET_MARK "1\r\n"
	    "[dev]\n"
	    "aws_access_key_id = AKIDDEV\n"
	    "aws_secret_access_key = " SECRET_MARK "2\n"
	    "aws_session_token =\n"
	    "[half]\naws_access_key_id = AKIDHALF\n", 0600);
	write_file(kfile,
	    "[default]\naws_access_key_id = AKIDCONFIG\n"
	    "aws_secret_access_key = " SECRET_MARK "3\n"
	    "[profile dev]\naws_session_token = TOKDEV\n"
	    "[cfgonly]\naws_access_key_id = NOTAPROFILE\n"
	    "aws_secret_access_key = " SECRET_MARK "\n"
	    "[profile cfgonly]\n"
	    "s3 =\n  addressing_style = path\n"
	    "aws_access_key_id = AKIDCFG\n"
	    "aws_secret_access_key = " SECRET_MARK "4\n"
	    "aws_session_token = TOKCFG\n", 0600);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDCREDS", NULL, "profile default",
	    "credentials file wins over config");
	setenv("AWS_PROFILE", "dev", 1);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDDEV", NULL, "profile dev",
	    "AWS_PROFILE; empty aws_session_token hides config's");
	fetch_once("cfgonly", &g);
	expect_keys(&g, "AKIDCFG", "TOKCFG", "profile cfgonly",
	    "--profile beats AWS_PROFILE; [profile x] in config, after a "
	    "sub-section");
	fetch_once("half", &g);
	snprintf(msg, sizeof(msg), "profile \"half\" in %s: aws_access_key_id "
	    "without aws_secret_access_key", cfile);
	expect_error(&g, msg, "key without secret in a profile");
	fetch_once("nosuch", &g);
	snprintf(msg, sizeof(msg), "profile \"nosuch\" not found in %s or %s",
	    cfile, kfile);
	expect_error(&g, msg, "a named profile must exist");

	/* env paths replace the defaults; ~/ is HOME */
	setenv("AWS_SHARED_CREDENTIALS_FILE", "~/other-creds", 1);
	in_dir(msg, sizeof(msg), "other-creds");
	write_file(msg, "[dev]\naws_access_key_id = AKIDOTHER\n"
	    "aws_secret_access_key = " SECRET_MARK "\n", 0600);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDOTHER", "TOKDEV", "profile dev",
	    "AWS_SHARED_CREDENTIALS_FILE, token merged from config");
	unlink(msg);

	write_file(kfile, "[default]\nregion = x\n[profile broken\n", 0600);
	fetch_once("default", &g);
	snprintf(msg, sizeof(msg), "%s:3: section line without ']'", kfile);
	expect_error(&g, msg, "a malformed config file is an error");
}

/* A credential_process script in dir; body is shell text. */
static void
write_script(const char *name, const char *body)
{
	char path[300], text[2048];

	in_dir(path, sizeof(path), name);
	snprintf(text, sizeof(text), "#!/bin/sh\n%s", body);
	write_file(path, text, 0700);
}

static void
use_process(const char *script, const char *extra)
{
	char text[1024];

	snprintf(text, sizeof(text), "[default]\nregion = us-east-1\n"
	    "credential_process = %s/%s\n%s", dir, script,
	    extra ? extra : "");
	write_file(kfile, text, 0600);
}

static void
test_process(void)
{
	struct got g;
	char msg[600];

	reset_env();
	write_script("ok.sh", "cat <<EOF\n{\"Version\": 1, \"AccessKeyId\": "
	    "\"AKIDPROC\", \"SecretAccessKey\": \"" SECRET_MARK "\",\n"
	    " \"SessionToken\": \"TOKPROC\", \"Expiration\": "
	    "\"2099-01-01T00:00:00Z\"}\nEOF\n");
	use_process("ok.sh", NULL);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDPROC", "TOKPROC",
	    "credential_process (profile default)", "credential_process");

	write_file(cfile, "[default]\naws_access_key_id = AKIDSTATIC\n"
	    "aws_secret_access_key = " SECRET_MARK "\n", 0600);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDSTATIC", NULL, "profile default",
	    "static keys in the credentials file beat credential_process");
	unlink(cfile);
	use_process("ok.sh", "aws_access_key_id = AKIDCONFIG\n"
	    "aws_secret_access_key = " SECRET_MARK "\n");
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDPROC", "TOKPROC",
	    "credential_process (profile default)",
	    "credential_process beats static keys in the config file");

	write_script("exit3.sh", "echo '{\"Version\": 1, \"AccessKeyId\": "
	    "\"A\", \"SecretAccessKey\": \"" SECRET_MARK "\"}'\nexit 3\n");
	use_process("exit3.sh", NULL);
	fetch_once(NULL, &g);
	expect_error(&g, "profile \"default\": credential_process: exited "
	    "with status 3", "non-zero exit");

	write_script("bad.sh", "printf '{\"Version\": 1,\\n\"AccessKeyId\": "
	    "\"A\", \"SecretAccessKey\": " SECRET_MARK "}'\n");
	use_process("bad.sh", NULL);
	fetch_once(NULL, &g);
	expect_error(&g, "profile \"default\": credential_process: output: "
	    "not a JSON object (line 2, column 45)", "bad JSON, no quote of it");

	write_script("v2.sh", "echo '{\"Version\": 2, \"AccessKeyId\": "
	    "\"A\", \"SecretAccessKey\": \"" SECRET_MARK "\"}'\n");
	use_process("v2.sh", NULL);
	fetch_once(NULL, &g);
	expect_error(&g, "profile \"default\": credential_process: output has "
	    "no \"Version\": 1", "Version 2 is refused");

	write_script("nosecret.sh", "echo '{\"Version\": 1, \"AccessKeyId\": "
	    "\"A\"}'\n");
	use_process("nosecret.sh", NULL);
	fetch_once(NULL, &g);
	expect_error(&g, "profile \"default\": credential_process: output: "
	    "no SecretAccessKey in the answer", "missing secret");

	snprintf(msg, sizeof(msg), "[default]\ncredential_process = "
	    "%s/does-not-exist\n", dir);
	write_file(kfile, msg, 0600);
	fetch_once(NULL, &g);
	expect_error(&g, "profile \"default\": credential_process: exited "
	    "with status 127 (command not found?)", "missing program");
}

/* The process's stderr is ours: capture fd 2 around one lookup. */
static void
test_process_stderr(void)
{
	char path[300], text[256];
	struct got g;
	int fd, saved;
	ssize_t n;

	reset_env();
	write_script("warn.sh", "echo 'process says hello' >&2\n"
	    "echo '{\"Version\": 1, \"AccessKeyId\": \"AKIDW\", "
	    "\"SecretAccessKey\": \"" SECRET_MARK "\"}'\n");
	use_process("warn.sh", NULL);
	in_dir(path, sizeof(path), "stderr.txt");
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	fetch_once(NULL, &g);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, text, sizeof(text) - 1, 0);
	text[n > 0 ? n : 0] = '\0';
	close(fd);
	expect_keys(&g, "AKIDW", NULL, "credential_process (profile default)",
	    "process writing to stderr");
	is_str(text, "process says hello\n", "its stderr passes through");
}

/*
 * The process counts its runs in a file and prints an Expiration of
 * NOW + 3600: a second run must happen exactly when `now` reaches
 * Expiration - CREDS_REFRESH_AHEAD_S, and the old credentials must stay in
 * use if that run fails before they expire.
 */
static void
test_refresh(void)
{
	struct creds_provider *p;
	struct creds_options o = { NULL, NULL, NULL };
	struct sigv4_credentials c;
	struct errbuf err;
	char exp[32], script[2048], counter[300];
	time_t e = NOW + 3600;
	struct tm tm;
	FILE *fp;
	int runs = 0;

	reset_env();
	gmtime_r(&e, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	in_dir(counter, sizeof(counter), "count");
	snprintf(script, sizeof(script),
	    "[ -e %s.fail ] && exit 1\n"
	    "n=$(cat %s 2>/dev/null || echo 0); n=$((n + 1)); echo $n >%s\n"
	    "echo '{\"Version\": 1, \"AccessKeyId\": \"AKID'$n'\", "
	    "\"SecretAccessKey\": \"" SECRET_MARK "\", \"Expiration\": "
	    "\"%s\"}'\n", counter, counter, counter, exp);
	write_script("count.sh", script);
	use_process("count.sh", NULL);
	p = creds_provider_new(&o, &err);
	ok(creds_provider_get(p, NOW, &c, &err) == 0, "first get runs it");
	is_str(c.access_key, "AKID1", "run 1");
	ok(creds_provider_get(p, e - CREDS_REFRESH_AHEAD_S - 1, &c, &err) == 0,
	    "a get before the refresh point");
	is_str(c.access_key, "AKID1", "uses the cache");
	ok(creds_provider_get(p, e - CREDS_REFRESH_AHEAD_S, &c, &err) == 0,
	    "a get at the refresh point");
	is_str(c.access_key, "AKID2", "runs the process again");
	if ((fp = fopen(counter, "r")) != NULL) {
		if (fscanf(fp, "%d", &runs) != 1)
			runs = -1;
		fclose(fp);
	}
	is_int(runs, 2, "the counter file saw exactly two runs");

	snprintf(script, sizeof(script), "%s.fail", counter);
	write_file(script, "", 0600);
	ok(creds_provider_get(p, e - 10, &c, &err) == 0,
	    "a failed refresh while still valid");
	is_str(c.access_key, "AKID2", "keeps the old credentials");
	ok(creds_provider_get(p, e, &c, &err) == -1,
	    "a failed refresh at Expiration is an error");
	is_str(err.msg, "profile \"default\": credential_process: exited with "
	    "status 1", "with the process's error");
	creds_provider_free(p);
	unlink(script);
}

static void
test_container_urls(void)
{
	static const struct {
		const char *url;
		int ok;
	} cases[] = {
		{ "http://127.0.0.1:8080/creds", 1 },
		{ "http://127.9.8.7/creds", 1 },
		{ "http://localhost:1/x", 1 },
		{ "http://[::1]:80/x", 1 },
		{ "http://169.254.170.2/v2/credentials/x", 1 },
		{ "http://169.254.170.23/v1/credentials", 1 },
		{ "http://[fd00:ec2::23]/v1/credentials", 1 },
		{ "https://creds.example.com/x", 1 },
		{ "http://creds.example.com/x", 0 },
		{ "http://128.0.0.1/x", 0 },
		{ "http://127.0.0.1.example.com/x", 0 },
		{ "http://user@127.0.0.1/x", 0 },
		{ "http://169.254.169.254/x", 0 },
		{ "ftp://127.0.0.1/x", 0 },
		{ "http://[::2]/x", 0 },
		/* ::1 is ::1 in any spelling, and so is fd00:ec2::23 */
		{ "http://[0:0:0:0:0:0:0:1]:80/x", 1 },
		{ "http://[FD00:EC2:0::23]/v1/credentials", 1 },
		{ "http://[::ffff:127.0.0.1]/x", 1 },
		{ "HTTP://LOCALHOST/x", 1 },
		{ "HTTPS://creds.example.com/x", 1 },
		{ "https://user@creds.example.com/x", 1 },
		{ "http://a@127.0.0.1@creds.example.com/x", 0 },
		{ "http://127.0.0.1@creds.example.com/x", 0 },
		{ "http://localhost./x", 0 },
		{ "http://[localhost]/x", 0 },
		{ "http://[127.0.0.1]/x", 0 },
		{ "http://[::1/x", 0 },
		{ "http://[::1]x/x", 0 },
		{ "http://:80/x", 0 },
		{ "http://", 0 },
		{ "http://[fe80::1%25lo]/x", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(creds_container_url_allowed(cases[i].url), cases[i].ok,
		    cases[i].url);
}

static const char creds_json[] =
    "{\"AccessKeyId\": \"AKIDHTTP\", \"SecretAccessKey\": \"" SECRET_MARK
    "\", \"Token\": \"TOKHTTP\", \"Expiration\": \"2099-01-01T00:00:00Z\","
    " \"Code\": \"Success\", \"Type\": \"AWS-HMAC\"}";

static void
test_container(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = creds_json },
		{ .status = 200, .body = creds_json },
		{ .status = 403, .body = "{\"message\": \"" SECRET_MARK "\"}" },
	};
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;
	char url[128], tokfile[300], msg[512];

	reset_env();
	if (!ok(stubsrv_start(&s, script, 3) == 0, "stub server starts"))
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/creds/abc", s.port);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer envtok", 1);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDHTTP", "TOKHTTP", "container", "container");
	in_dir(tokfile, sizeof(tokfile), "token");
	write_file(tokfile, "filetok\n", 0600);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokfile, 1);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDHTTP", "TOKHTTP", "container",
	    "container with a token file");
	fetch_once(NULL, &g);
	snprintf(msg, sizeof(msg), "container credentials from "
	    "http://127.0.0.1:%d: HTTP 403", s.port);
	expect_error(&g, msg, "a 403 stops the chain, path not shown");
	if (ok(stubsrv_read(&s, &log) == 0 && log.n == 3, "three requests")) {
		is_str(log.req[0].method, "GET", "GET");
		is_str(log.req[0].target, "/creds/abc", "the URI's path");
		is_str(stubsrv_req_header(&log.req[0], "Authorization"),
		    "Bearer envtok", "Authorization from the variable");
		is_str(stubsrv_req_header(&log.req[1], "Authorization"),
		    "filetok", "the token file wins, newline dropped");
	}
	stubsrv_log_free(&log);
	stubsrv_stop(&s);

	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/", 1);
	fetch_once(NULL, &g);
	expect_error(&g, "AWS_CONTAINER_CREDENTIALS_FULL_URI: http is allowed "
	    "only to loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23; "
	    "use https for other hosts", "a remote http host is refused");
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/x", 1);
	fetch_once(NULL, &g);
	expect_error(&g, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start "
	    "with '/'", "the relative URI wins and is checked");
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET_MARK, 1);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDENV", NULL, "environment",
	    "environment beats the container");
}

static void
test_imds(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = "TOKEN-1234" },
		{ .status = 200, .body = "my-role\n" },
		{ .status = 200, .body = creds_json },
		{ .status = 200, .body = "TOKEN-5678" },
		{ .status = 404, .body = "" },
	};
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;
	char ep[128], msg[1024];

	reset_env();
	if (!ok(stubsrv_start(&s, script, 5) == 0, "stub server starts"))
		return;
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d/", s.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
	fetch_once(NULL, &g);
	is_int(stubsrv_read(&s, &log), 0, "disabled: log read");
	is_int(log.n, 0, "AWS_EC2_METADATA_DISABLED=true: no request");
	stubsrv_log_free(&log);

	unsetenv("AWS_EC2_METADATA_DISABLED");
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDHTTP", "TOKHTTP", "imds", "IMDSv2");
	fetch_once(NULL, &g);
	ep[strlen(ep) - 1] = '\0';
	snprintf(msg, sizeof(msg), "no AWS credentials (tried: environment, "
	    "profile \"default\" in %s and %s, container, EC2 instance "
	    "metadata (%s: no IAM role attached))", cfile, kfile, ep);
	expect_error(&g, msg, "no role: the chain ends, saying why");
	if (ok(stubsrv_read(&s, &log) == 0 && log.n == 5, "five requests")) {
		is_str(log.req[0].method, "PUT", "token: PUT");
		is_str(log.req[0].target, "/latest/api/token", "token path");
		is_str(stubsrv_req_header(&log.req[0],
		    "X-aws-ec2-metadata-token-ttl-seconds"), "21600",
		    "token TTL header");
		is_str(log.req[1].target,
		    "/latest/meta-data/iam/security-credentials/", "role list");
		is_str(stubsrv_req_header(&log.req[1],
		    "X-aws-ec2-metadata-token"), "TOKEN-1234",
		    "token on the role list GET");
		is_str(log.req[2].target,
		    "/latest/meta-data/iam/security-credentials/my-role",
		    "role credentials");
		is_str(stubsrv_req_header(&log.req[2],
		    "X-aws-ec2-metadata-token"), "TOKEN-1234",
		    "token on the credentials GET");
		is_str(log.req[2].method, "GET", "GET");
		is_str(stubsrv_req_header(&log.req[4],
		    "X-aws-ec2-metadata-token"), "TOKEN-5678",
		    "a new lookup takes a new token");
	}
	stubsrv_log_free(&log);
	stubsrv_stop(&s);
}

/* IMDSv1 fallback when the token PUT is not understood; 403 means off. */
static void
test_imds_v1_and_failures(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 405, .body = "" },
		{ .status = 200, .body = "r1" },
		{ .status = 200, .body = creds_json },
		{ .status = 200, .body = "T" },
		{ .status = 200, .body = "r1" },
		{ .status = 200, .body = "{\"Code\": \"Expired\"}" },
		{ .status = 403, .body = "" },
	};
	struct stubsrv s;
	struct stubsrv_log log;
	struct got g;
	char ep[128], msg[1024];

	reset_env();
	unsetenv("AWS_EC2_METADATA_DISABLED");
	if (!ok(stubsrv_start(&s, script, 7) == 0, "stub server starts"))
		return;
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", s.port);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
	fetch_once(NULL, &g);
	expect_keys(&g, "AKIDHTTP", "TOKHTTP", "imds", "IMDSv1 fallback");
	fetch_once(NULL, &g);
	ok(g.rc == -1 && g.err.kind == ERR_TEMP, "Code other than Success");
	is_str(g.err.msg, "EC2 instance metadata: the role's credentials "
	    "answer has no \"Code\": \"Success\"", "says so");
	fetch_once(NULL, &g);
	snprintf(msg, sizeof(msg), "no AWS credentials (tried: environment, "
	    "profile \"default\" in %s and %s, container, EC2 instance "
	    "metadata (%s: HTTP 403 for a token))", cfile, kfile, ep);
	expect_error(&g, msg, "a 403 for the token: IMDS is off");
	if (ok(stubsrv_read(&s, &log) == 0 && log.n == 7, "seven requests"))
		ok(stubsrv_req_header(&log.req[1],
		    "X-aws-ec2-metadata-token") == NULL &&
		    stubsrv_req_header(&log.req[2],
		    "X-aws-ec2-metadata-token") == NULL,
		    "IMDSv1: no token header on the GETs");
	stubsrv_log_free(&log);
	stubsrv_stop(&s);
}

/* A loopback port nobody listens on: connection refused, at once. */
static int
closed_port(void)
{
	struct stubsrv s;
	int port;

	if (stubsrv_start(&s, NULL, 0) == -1)
		return 1;
	port = s.port;
	stubsrv_stop(&s);
	return port;
}

static void
test_nothing_found(void)
{
	struct got g;
	char ep[64], msg[1024];

	reset_env();
	fetch_once(NULL, &g);
	snprintf(msg, sizeof(msg), "no AWS credentials (tried: environment, "
	    "profile \"default\" in %s and %s, container, EC2 instance "
	    "metadata (disabled by AWS_EC2_METADATA_DISABLED))", cfile, kfile);
	expect_error(&g, msg, "nothing found, IMDS disabled");

	unsetenv("AWS_EC2_METADATA_DISABLED");
	snprintf(ep, sizeof(ep), "http://127.0.0.1:%d", closed_port());
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
	write_file(cfile, "[default]\nregion = us-east-1\n", 0600);
	fetch_once(NULL, &g);
	snprintf(msg, sizeof(msg), "no AWS credentials (tried: environment, "
	    "profile \"default\" in %s and %s, container, EC2 instance "
	    "metadata (%s: no answer))", cfile, kfile, ep);
	expect_error(&g, msg, "nothing found, IMDS not answering");
	is_str(g.source, "", "no source");

	unsetenv("HOME");
	setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
	fetch_once(NULL, &g);
	expect_error(&g, "no AWS credentials (tried: environment, profile "
	    "\"default\" (HOME is not set), container, EC2 instance metadata "
	    "(disabled by AWS_EC2_METADATA_DISABLED))", "without HOME");
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
	in_dir(cfile, sizeof(cfile), ".aws/credentials");
	in_dir(kfile, sizeof(kfile), ".aws/config");
	test_env();
	test_profile_files();
	test_process();
	test_process_stderr();
	test_refresh();
	test_container_urls();
	test_container();
	test_imds();
	test_imds_v1_and_failures();
	test_nothing_found();
	is_int(leaked, 0, "no error message held secret text");
	creds_provider_free(NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
