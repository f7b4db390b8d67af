#include <stdlib.h>
#include <time.h>

#include "awstool.h"
#include "tap.h"

static void
clear_env(void)
{
	static const char *vars[] = { "AWS_REGION", "AWS_DEFAULT_REGION",
	    "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_KINESIS",
	    "AWS_ENDPOINT_URL_S3", "AWS_CA_BUNDLE", "AWS_MAX_ATTEMPTS" };
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	setenv("HOME", "/nonexistent-coinpipe-home", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent-coinpipe-home/config", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent-coinpipe-home/c", 1);
}

int
main(void)
{
	struct awstool_options o;
	struct awstool t;
	struct errbuf e;

	clear_env();
	memset(&o, 0, sizeof(o));
	o.prog = "kin-put";
	o.service = "kinesis";
	ok(awstool_open(&o, &t, &e) == -1 && e.kind == ERR_CONFIG &&
	    strstr(e.msg, "region") != NULL, "no region: configuration error");
	o.region = "eu-west-1";
	ok(awstool_open(&o, &t, &e) == 0, "region from the flag");
	is_str(t.conf.endpoint, "https://kinesis.eu-west-1.amazonaws.com",
	    "AWS endpoint for the region");
	is_str(t.user_agent, "kin-put/" COINPIPE_VERSION " coinpipe",
	    "User-Agent names the tool");
	ok(t.client != NULL && t.creds != NULL, "client and credentials");
	awstool_close(&t);
	{
		struct sigv4_credentials c;

		unsetenv("AWS_ACCESS_KEY_ID");
		unsetenv("AWS_SECRET_ACCESS_KEY");
		setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
		awstool_open(&o, &t, &e);
		ok(creds_provider_get(t.creds, time(NULL), &c, &e) == -1 &&
		    strstr(e.msg, "no AWS credentials (tried: environment") ==
		    e.msg, "no --profile: the whole chain is tried: %s", e.msg);
		awstool_close(&t);
		o.profile = "nosuch";
		awstool_open(&o, &t, &e);
		ok(creds_provider_get(t.creds, time(NULL), &c, &e) == -1 &&
		    strstr(e.msg, "nosuch") != NULL,
		    "--profile names a required profile: %s", e.msg);
		awstool_close(&t);
		o.profile = NULL;
	}
	setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9/", 1);
	o.service = "s3";
	o.prog = "s3-putcsv";
	ok(awstool_open(&o, &t, &e) == 0, "s3 with an endpoint");
	is_str(t.conf.endpoint, "http://127.0.0.1:9", "endpoint from env");
	is_int(t.conf.path_style, 1, "custom endpoint: path style");
	awstool_close(&t);
	awstool_close(NULL);
	return tap_done();
}
