/*
 * awstool: what kin-put, kin-get and s3-putcsv do identically before their
 * first AWS call: resolve --region/--profile/--endpoint-url into an awsconf,
 * make the credential provider, and open an aws_client with the tool's
 * User-Agent and trace settings. One place, so the three tools cannot drift.
 */
#ifndef COINPIPE_AWSTOOL_H
#define COINPIPE_AWSTOOL_H

#include <signal.h>

#include "aws.h"
#include "awsconf.h"
#include "creds.h"
#include "http.h"

struct awstool_options {
	const char *prog;		/* "kin-put": User-Agent and messages */
	const char *service;		/* "kinesis", "s3" */
	const char *region;		/* --region or NULL */
	const char *profile;		/* --profile or NULL */
	const char *endpoint_url;	/* --endpoint-url or NULL */
	enum awsconf_addressing addressing;
	int trace;			/* -vv: 1, -vvv: 2 */
	void (*trace_fn)(void *arg, const char *line);
	void *trace_arg;
	long budget_ms;			/* per request, 0: none */
	volatile sig_atomic_t *stop;
};

struct awstool {
	struct awsconf conf;
	struct creds_provider *creds;
	struct http_options http;	/* what the client uses; for http_multi */
	struct aws_client *client;
	char user_agent[64];
};

/* Only the settings (region, endpoint, addressing): no credentials, no
 * network, for a dry run. Returns 0, or -1 with err set; awsconf_free. */
int awstool_conf(const struct awstool_options *o, struct awsconf *out,
    struct errbuf *err);

/* Returns 0, or -1 with err set (ERR_CONFIG for configuration). */
int awstool_open(const struct awstool_options *o, struct awstool *t,
    struct errbuf *err);
void awstool_close(struct awstool *t);

#endif
