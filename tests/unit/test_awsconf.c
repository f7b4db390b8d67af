#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "awsconf.h"
#include "errbuf.h"
#include "tap.h"

static char dir[] = "/tmp/test_awsconf.XXXXXX";
static char kfile[300], cfile[300];	/* config, credentials */

static const char *const aws_vars[] = {
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE",
	"AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS", "AWS_ENDPOINT_URL_S3",
	"AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_MAX_ATTEMPTS", "AWS_CA_BUNDLE"
};

static void
reset_env(void)
{
	size_t i;

	for (i = 0; i < sizeof(aws_vars) / sizeof(aws_vars[0]); i++)
		unsetenv(aws_vars[i]);
	setenv("HOME", dir, 1);
	unlink(kfile);
	unlink(cfile);
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

struct res {
	int rc;
	struct errbuf err;
	struct awsconf c;
};

static void
resolve(struct res *r, const char *service, const char *region,
    const char *endpoint, enum awsconf_addressing addr)
{
	struct awsconf_options o;

	memset(&o, 0, sizeof(o));
	o.service = service;
	o.region = region;
	o.endpoint_url = endpoint;
	o.addressing = addr;
	awsconf_free(&r->c);
	errbuf_clear(&r->err);
	r->rc = awsconf_resolve(&o, &r->c, &r->err);
}

static void
expect_endpoint(struct res *r, const char *want, int custom,
    const char *name)
{
	char what[200];

	if (!ok(r->rc == 0, "%s: resolves", name))
		printf("#   error: %s\n", r->err.msg);
	snprintf(what, sizeof(what), "%s: endpoint", name);
	is_str(r->c.endpoint, want, what);
	snprintf(what, sizeof(what), "%s: custom flag", name);
	is_int(r->c.custom_endpoint, custom, what);
}

static void
expect_error(struct res *r, const char *msg, const char *name)
{
	ok(r->rc == -1 && r->err.kind == ERR_CONFIG, "%s: ERR_CONFIG", name);
	is_str(r->err.msg, msg, name);
}

static void
test_region(void)
{
	struct res r;

	memset(&r, 0, sizeof(r));
	reset_env();
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_error(&r, "no region (use --region, AWS_REGION or region in "
	    "the profile)", "no region anywhere");
	write_file(kfile, "[default]\nregion = eu-west-1\n"
	    "[profile other]\nregion = ap-southeast-2\n");
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	is_str(r.c.region, "eu-west-1", "region from the default profile");
	is_str(r.c.profile, "default", "profile default");
	setenv("AWS_PROFILE", "other", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	is_str(r.c.region, "ap-southeast-2", "region from AWS_PROFILE's");
	is_str(r.c.profile, "other", "profile other");
	setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	is_str(r.c.region, "us-west-1", "AWS_DEFAULT_REGION beats the profile");
	setenv("AWS_REGION", "us-west-2", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	is_str(r.c.region, "us-west-2", "AWS_REGION beats AWS_DEFAULT_REGION");
	resolve(&r, "kinesis", "ca-central-1", NULL, AWSCONF_ADDR_AUTO);
	is_str(r.c.region, "ca-central-1", "--region beats everything");
	resolve(&r, "kinesis", "us-east-1.evil.com/", NULL, AWSCONF_ADDR_AUTO);
	expect_error(&r, "--region: invalid region \"us-east-1.evil.com/\"",
	    "a region that would change the host name");
	awsconf_free(&r.c);
	awsconf_free(NULL);
}

static void
test_defaults(void)
{
	static const struct {
		const char *service, *region, *want;
	} cases[] = {
		{ "kinesis", "us-east-1", "https://kinesis.us-east-1.amazonaws.com" },
		{ "s3", "us-east-1", "https://s3.us-east-1.amazonaws.com" },
		{ "sts", "eu-west-1", "https://sts.eu-west-1.amazonaws.com" },
		{ "kinesis", "cn-north-1",
		    "https://kinesis.cn-north-1.amazonaws.com.cn" },
		{ "s3", "cn-northwest-1",
		    "https://s3.cn-northwest-1.amazonaws.com.cn" },
		{ "kinesis", "us-gov-west-1",
		    "https://kinesis.us-gov-west-1.amazonaws.com" },
		{ "s3", "us-iso-east-1", "https://s3.us-iso-east-1.c2s.ic.gov" },
		{ "kinesis", "US-EAST-1", NULL },
		{ "kinesis", "", NULL },
		{ "kinesis", "a.b", NULL },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = awsconf_default_endpoint(cases[i].service, cases[i].region);
		is_str(s, cases[i].want, cases[i].want ? cases[i].want :
		    "an invalid region has no endpoint");
		free(s);
	}
}

static void
test_endpoint_precedence(void)
{
	struct res r;

	memset(&r, 0, sizeof(r));
	reset_env();
	setenv("AWS_REGION", "us-east-1", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "https://kinesis.us-east-1.amazonaws.com", 0,
	    "AWS default");
	write_file(kfile, "[default]\nendpoint_url = http://profile:1/\n"
	    "services = local\n"
	    "[services local]\n"
	    "s3 =\n  endpoint_url = http://svc-s3:9000\n"
	    "kinesis =\n  endpoint_url = http://svc-kinesis:4567\n"
	    "[services unused]\nsts =\n  endpoint_url = http://nope\n");
	resolve(&r, "sts", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "http://profile:1", 1,
	    "profile endpoint_url, trailing slash stripped");
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "http://svc-kinesis:4567", 1,
	    "the services section beats the profile's endpoint_url");
	setenv("AWS_ENDPOINT_URL", "http://global:2", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "http://global:2", 1,
	    "AWS_ENDPOINT_URL beats the files");
	setenv("AWS_ENDPOINT_URL_S3", "http://env-s3:3", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "http://global:2", 1,
	    "AWS_ENDPOINT_URL_S3 is not for kinesis");
	setenv("AWS_ENDPOINT_URL_KINESIS", "HTTPS://env-kinesis:4//", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "HTTPS://env-kinesis:4", 1,
	    "AWS_ENDPOINT_URL_KINESIS beats AWS_ENDPOINT_URL");
	resolve(&r, "kinesis", NULL, "http://cli:5/base/", AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "http://cli:5/base", 1,
	    "--endpoint-url beats everything, path kept");

	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "https://kinesis.us-east-1.amazonaws.com", 0,
	    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS skips env and files");
	resolve(&r, "kinesis", NULL, "http://cli:5", AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "http://cli:5", 1, "but not --endpoint-url");
	unsetenv("AWS_ENDPOINT_URL_KINESIS");
	unsetenv("AWS_ENDPOINT_URL_S3");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

	write_file(kfile, "[default]\nendpoint_url = http://profile:1\n"
	    "ignore_configured_endpoint_urls = TRUE\n");
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "https://kinesis.us-east-1.amazonaws.com", 0,
	    "the profile's ignore_configured_endpoint_urls");
	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "false", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_endpoint(&r, "http://profile:1", 1,
	    "the variable set to false overrides the profile");
	awsconf_free(&r.c);
}

static void
test_endpoint_errors(void)
{
	struct res r;
	char msg[512];

	memset(&r, 0, sizeof(r));
	reset_env();
	setenv("AWS_REGION", "us-east-1", 1);
	resolve(&r, "kinesis", NULL, "ftp://x", AWSCONF_ADDR_AUTO);
	expect_error(&r, "--endpoint-url: endpoint URL must start with "
	    "http:// or https://", "scheme is checked");
	setenv("AWS_ENDPOINT_URL_KINESIS", "http:///path", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	expect_error(&r, "AWS_ENDPOINT_URL_KINESIS: endpoint URL has no host "
	    "or contains a blank", "a host is required");
	unsetenv("AWS_ENDPOINT_URL_KINESIS");
	write_file(kfile, "[default]\nendpoint_url = localhost:4566\n");
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	snprintf(msg, sizeof(msg), "%s: profile \"default\" endpoint_url: "
	    "endpoint URL must start with http:// or https://", kfile);
	expect_error(&r, msg, "the config file is named");
	awsconf_free(&r.c);
}

static void
test_s3_addressing(void)
{
	struct res r;
	char msg[512];

	memset(&r, 0, sizeof(r));
	reset_env();
	setenv("AWS_REGION", "us-east-1", 1);
	resolve(&r, "s3", NULL, NULL, AWSCONF_ADDR_AUTO);
	is_int(r.c.path_style, 0, "AWS: virtual-hosted");
	resolve(&r, "s3", NULL, "http://127.0.0.1:9000", AWSCONF_ADDR_AUTO);
	is_int(r.c.path_style, 1, "custom endpoint: path-style");
	resolve(&r, "s3", NULL, "http://127.0.0.1:9000",
	    AWSCONF_ADDR_VIRTUAL);
	is_int(r.c.path_style, 0, "options.addressing virtual wins");
	resolve(&r, "s3", NULL, NULL, AWSCONF_ADDR_PATH);
	is_int(r.c.path_style, 1, "options.addressing path wins");
	resolve(&r, "kinesis", NULL, "http://127.0.0.1:1", AWSCONF_ADDR_AUTO);
	is_int(r.c.path_style, 0, "not S3: never path-style");

	write_file(kfile, "[default]\ns3 =\n  addressing_style = path\n");
	resolve(&r, "s3", NULL, NULL, AWSCONF_ADDR_AUTO);
	is_int(r.c.path_style, 1, "config s3 addressing_style = path");
	resolve(&r, "s3", NULL, NULL, AWSCONF_ADDR_VIRTUAL);
	is_int(r.c.path_style, 0, "the option beats the config");
	write_file(kfile, "[default]\ns3 =\n  addressing_style = virtual\n");
	resolve(&r, "s3", NULL, "http://minio:9000", AWSCONF_ADDR_AUTO);
	is_int(r.c.path_style, 0, "config virtual with a custom endpoint");
	write_file(kfile, "[default]\ns3 =\n  addressing_style = sideways\n");
	resolve(&r, "s3", NULL, NULL, AWSCONF_ADDR_AUTO);
	snprintf(msg, sizeof(msg), "%s: profile \"default\": s3 "
	    "addressing_style must be auto, path or virtual", kfile);
	expect_error(&r, msg, "a bad addressing_style");
	awsconf_free(&r.c);
}

static void
test_attempts_and_ca(void)
{
	static const char *const bad[] = {
		"0", "-1", "3x", " ", "99999999999999999999", "2.5"
	};
	struct res r;
	char msg[512];
	size_t i;

	memset(&r, 0, sizeof(r));
	reset_env();
	setenv("AWS_REGION", "us-east-1", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	is_int(r.c.max_attempts, AWSCONF_DEFAULT_MAX_ATTEMPTS, "default 3");
	is_int(r.c.max_attempts_set, 0, "the default is not 'configured'");
	ok(r.c.ca_bundle == NULL, "no CA bundle by default");
	write_file(cfile, "[default]\nmax_attempts = 7\n"
	    "ca_bundle = /etc/ssl/profile.pem\n");
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	is_int(r.c.max_attempts, 7, "max_attempts from the profile "
	    "(credentials file, as botocore merges it)");
	is_int(r.c.max_attempts_set, 1, "a configured value says so");
	is_str(r.c.ca_bundle, "/etc/ssl/profile.pem", "ca_bundle from it");
	setenv("AWS_MAX_ATTEMPTS", "5", 1);
	setenv("AWS_CA_BUNDLE", "/etc/ssl/env.pem", 1);
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	is_int(r.c.max_attempts, 5, "AWS_MAX_ATTEMPTS beats the profile");
	is_str(r.c.ca_bundle, "/etc/ssl/env.pem", "AWS_CA_BUNDLE beats it");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("AWS_MAX_ATTEMPTS", bad[i], 1);
		resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
		snprintf(msg, sizeof(msg), "AWS_MAX_ATTEMPTS: max_attempts must "
		    "be a positive integer, not \"%s\"", bad[i]);
		expect_error(&r, msg, msg);
	}
	unsetenv("AWS_MAX_ATTEMPTS");
	write_file(cfile, "[default]\nmax_attempts = many\n");
	resolve(&r, "kinesis", NULL, NULL, AWSCONF_ADDR_AUTO);
	snprintf(msg, sizeof(msg), "%s: max_attempts must be a positive "
	    "integer, not \"many\"", cfile);
	expect_error(&r, msg, "a bad profile value names the file");
	ok(r.c.region == NULL && r.c.endpoint == NULL,
	    "a failed resolve leaves nothing to free");
	awsconf_free(&r.c);
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(cmd, sizeof(cmd), "%s/.aws", dir);
	mkdir(cmd, 0700);
	snprintf(kfile, sizeof(kfile), "%s/.aws/config", dir);
	snprintf(cfile, sizeof(cfile), "%s/.aws/credentials", dir);
	test_region();
	test_defaults();
	test_endpoint_precedence();
	test_endpoint_errors();
	test_s3_addressing();
	test_attempts_and_ca();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return tap_done();
}
