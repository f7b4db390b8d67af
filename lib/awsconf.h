/*
 * awsconf: region, endpoint, addressing and retry settings, resolved the way
 * the AWS CLI and SDKs do: command line > environment > profile > default.
 */
#ifndef COINPIPE_AWSCONF_H
#define COINPIPE_AWSCONF_H

#include "errbuf.h"

#define AWSCONF_DEFAULT_MAX_ATTEMPTS 3	/* "standard" retry mode */

enum awsconf_addressing {
	AWSCONF_ADDR_AUTO = 0,	/* virtual-hosted on AWS, path for custom */
	AWSCONF_ADDR_PATH,
	AWSCONF_ADDR_VIRTUAL
};

struct awsconf_options {
	const char *service;	/* "kinesis", "s3", "sts" */
	const char *region;	/* --region or NULL */
	const char *profile;	/* --profile or NULL */
	const char *endpoint_url; /* --endpoint-url or NULL */
	enum awsconf_addressing addressing;
};

struct awsconf {
	char *profile;		/* the profile in use */
	char *region;
	char *endpoint;		/* scheme://host[:port][/path], no trailing / */
	int custom_endpoint;	/* 1 when not the AWS default */
	int path_style;		/* S3: 1 path-style, 0 virtual-hosted */
	int max_attempts;	/* max_attempts / AWS_MAX_ATTEMPTS */
	int max_attempts_set;	/* 1 when configured, not the default */
	char *ca_bundle;	/* AWS_CA_BUNDLE / ca_bundle, or NULL */
};

/* Returns 0, or -1 with err set (ERR_CONFIG: e.g. no region anywhere). */
int awsconf_resolve(const struct awsconf_options *o, struct awsconf *out,
    struct errbuf *err);
void awsconf_free(struct awsconf *c);

/* The AWS endpoint for service in region, by partition ("amazonaws.com",
 * "amazonaws.com.cn" for cn-*). Returns a malloc'd URL. */
char *awsconf_default_endpoint(const char *service, const char *region);

#endif
