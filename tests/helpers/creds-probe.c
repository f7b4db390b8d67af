/*
 * creds-probe: resolves AWS credentials with lib/creds and makes one signed
 * call with them through lib/aws, for the end-to-end tests of the
 * credential chain (tests/e2e/05*-creds-sts-*.t). Prints what happened,
 * never a secret:
 *
 *	source: assume role (profile ci)
 *	key: ASIA
 *	status: 200
 *
 * "key" is the access key's four-letter prefix (ASIA: temporary, AKIA:
 * long-term). --refresh resolves the chain once more as if 12 hours had
 * passed (every temporary credential is due by then), makes the call again
 * and prints "refreshed: yes" when the access key changed.
 * --put BUCKET/KEY writes an S3 object (path style) instead of listing, so
 * a test can check the effect with another client.
 * Exit status: 0, or 3 (configuration, credentials, 4xx), 4 (temporary),
 * 1 (other), 2 (usage).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aws.h"
#include "awsconf.h"
#include "creds.h"
#include "http.h"

#define PUT_BODY "written by creds-probe\n"
#define REFRESH_SKIP_S (12 * 3600)	/* past any STS or SSO expiry */

struct opts {
	const char *profile, *region, *endpoint, *service, *put;
	int refresh;
};

struct probe {
	struct awsconf conf;
	struct creds_provider *creds;
	struct aws_client *client;
	struct http_options http;
};

static void
usage(FILE *fp)
{
	fputs("usage: creds-probe [--profile NAME] [--region R] "
	    "--endpoint-url URL\n"
	    "                   [--service kinesis|s3] [--put BUCKET/KEY] "
	    "[--refresh]\n", fp);
}

static int
exit_code(const struct errbuf *err)
{
	switch (err->kind) {
	case ERR_CONFIG:
	case ERR_DATA:
		return 3;
	case ERR_TEMP:
		return 4;
	default:
		return 1;
	}
}

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "profile", required_argument, NULL, 'p' },
		{ "region", required_argument, NULL, 'r' },
		{ "endpoint-url", required_argument, NULL, 'e' },
		{ "service", required_argument, NULL, 's' },
		{ "put", required_argument, NULL, 'P' },
		{ "refresh", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->service = "kinesis";
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o->profile = optarg; break;
		case 'r': o->region = optarg; break;
		case 'e': o->endpoint = optarg; break;
		case 's': o->service = optarg; break;
		case 'P': o->put = optarg; o->service = "s3"; break;
		case 'R': o->refresh = 1; break;
		case 'h': usage(stdout); exit(0);
		default: return -1;
		}
	}
	if (optind != argc || o->endpoint == NULL ||
	    (strcmp(o->service, "kinesis") != 0 &&
	    strcmp(o->service, "s3") != 0))
		return -1;
	return 0;
}

static int
probe_open(const struct opts *o, struct probe *pr, struct errbuf *err)
{
	struct awsconf_options co;
	struct creds_options cr;
	struct aws_options ao;

	memset(pr, 0, sizeof(*pr));
	memset(&co, 0, sizeof(co));
	co.service = o->service;
	co.region = o->region;
	co.profile = o->profile;
	co.endpoint_url = o->endpoint;
	co.addressing = AWSCONF_ADDR_PATH;
	if (awsconf_resolve(&co, &pr->conf, err) == -1)
		return -1;
	pr->http.user_agent = "creds-probe/" COINPIPE_VERSION " coinpipe";
	pr->http.ca_bundle = pr->conf.ca_bundle;
	memset(&cr, 0, sizeof(cr));
	cr.profile = o->profile;	/* NULL: AWS_PROFILE, else default */
	cr.region = o->region;
	cr.http = &pr->http;
	if ((pr->creds = creds_provider_new(&cr, err)) == NULL)
		return -1;
	memset(&ao, 0, sizeof(ao));
	ao.conf = &pr->conf;
	ao.service = o->service;
	ao.get_creds = creds_supply;
	ao.creds_arg = pr->creds;
	ao.http = &pr->http;
	if ((pr->client = aws_client_new(&ao, err)) == NULL)
		return -1;
	return 0;
}

static void
probe_close(struct probe *pr)
{
	aws_client_free(pr->client);
	creds_provider_free(pr->creds);
	awsconf_free(&pr->conf);
}

/* Kinesis ListStreams, S3 ListBuckets, or S3 PutObject. */
static int
call(const struct opts *o, struct probe *pr, struct errbuf *err)
{
	struct aws_response resp;
	struct aws_request req;
	char path[512];
	int rc;

	memset(&resp, 0, sizeof(resp));
	if (strcmp(o->service, "kinesis") == 0)
		rc = aws_json_call(pr->client, "Kinesis_20131202.ListStreams",
		    "{}", 2, &resp, err);
	else {
		memset(&req, 0, sizeof(req));
		req.method = o->put ? "PUT" : "GET";
		snprintf(path, sizeof(path), "/%s", o->put ? o->put : "");
		req.path = path;
		req.body = o->put ? PUT_BODY : NULL;
		req.body_len = o->put ? strlen(PUT_BODY) : 0;
		rc = aws_send(pr->client, &req, &resp, err);
	}
	printf("status: %ld\n", resp.status);
	aws_response_free(&resp);
	return rc;
}

/* The first four characters of the access key in use. */
static int
key_prefix(struct probe *pr, time_t now, char out[5], struct errbuf *err)
{
	struct sigv4_credentials c;

	if (creds_provider_get(pr->creds, now, &c, err) == -1)
		return -1;
	snprintf(out, 5, "%s", c.access_key);
	return 0;
}

static int
run(const struct opts *o, struct errbuf *err)
{
	struct probe pr;
	struct sigv4_credentials c;
	char key[5], *first = NULL;
	int rc = -1;

	if (probe_open(o, &pr, err) == -1 ||
	    key_prefix(&pr, time(NULL), key, err) == -1)
		goto out;
	printf("source: %s\nkey: %s\n", creds_provider_source(pr.creds), key);
	if (call(o, &pr, err) == -1)
		goto out;
	if (o->refresh) {
		/* remember which key was used; compare, never print */
		creds_provider_get(pr.creds, time(NULL), &c, err);
		if ((first = strdup(c.access_key)) == NULL ||
		    creds_provider_get(pr.creds, time(NULL) + REFRESH_SKIP_S,
		    &c, err) == -1)
			goto out;
		printf("refreshed: %s\n", strcmp(first, c.access_key) != 0 ?
		    "yes" : "no");
		if (call(o, &pr, err) == -1)
			goto out;
	}
	rc = 0;
out:
	free(first);
	probe_close(&pr);
	return rc;
}

int
main(int argc, char **argv)
{
	struct errbuf err;
	struct opts o;

	if (parse(argc, argv, &o) == -1) {
		usage(stderr);
		return 2;
	}
	errbuf_clear(&err);
	if (http_global_init(&err) == -1 || run(&o, &err) == -1) {
		fflush(stdout);
		fprintf(stderr, "creds-probe: %s\n", err.msg);
		return exit_code(&err);
	}
	return 0;
}
