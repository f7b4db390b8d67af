/*
 * awsconf: where to send requests and how hard to try.
 *
 * Region: --region, AWS_REGION, AWS_DEFAULT_REGION, the profile's region.
 * Endpoint (the SDKs' "service-specific endpoints" order): --endpoint-url,
 * AWS_ENDPOINT_URL_<SERVICE>, AWS_ENDPOINT_URL, the service's endpoint_url
 * in the profile's [services NAME] section, the profile's endpoint_url, else
 * the AWS default. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true (or the
 * profile's ignore_configured_endpoint_urls = true when the variable is not
 * set) skips the variables and the files, never --endpoint-url.
 * Profile settings come from awsfiles (credentials file first, then
 * config); a profile that does not exist simply has no settings here.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "awsconf.h"
#include "awsfiles.h"

#define SERVICE_MAX 64

static const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : NULL;
}

static int
region_ok(const char *r)
{
	if (*r == '\0' || strlen(r) > 64)
		return 0;
	for (; *r != '\0'; r++)
		if (!islower((unsigned char)*r) && !isdigit((unsigned char)*r) &&
		    *r != '-')
			return 0;
	return 1;
}

static const char *
dns_suffix(const char *region)
{
	static const struct {
		const char *prefix, *suffix;
	} parts[] = {
		{ "cn-", "amazonaws.com.cn" },
		{ "us-isob-", "sc2s.sgov.gov" },
		{ "us-isof-", "csp.hci.ic.gov" },
		{ "us-iso-", "c2s.ic.gov" },
		{ "eu-isoe-", "cloud.adc-e.uk" },
	};
	size_t i;

	/* us-gov-* is in the aws-us-gov partition but uses amazonaws.com */
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++)
		if (strncmp(region, parts[i].prefix,
		    strlen(parts[i].prefix)) == 0)
			return parts[i].suffix;
	return "amazonaws.com";
}

char *
awsconf_default_endpoint(const char *service, const char *region)
{
	const char *suffix;
	char *url;
	size_t n;

	if (service == NULL || region == NULL || !region_ok(region) ||
	    !region_ok(service))
		return NULL;
	suffix = dns_suffix(region);
	n = sizeof("https://..") + strlen(service) + strlen(region) +
	    strlen(suffix);
	if ((url = malloc(n)) == NULL)
		return NULL;
	snprintf(url, n, "https://%s.%s.%s", service, region, suffix);
	return url;
}

/* "kinesis" -> "KINESIS" for AWS_ENDPOINT_URL_<ID>, "kinesis" for the
 * config key: the service id with spaces as '_' (and '-' for the env). */
static void
service_names(const char *service, char env_id[SERVICE_MAX],
    char key[SERVICE_MAX])
{
	size_t i;

	for (i = 0; i < SERVICE_MAX - 1 && service[i] != '\0'; i++) {
		char c = service[i] == ' ' || service[i] == '-' ? '_' :
		    service[i];
		env_id[i] = (char)toupper((unsigned char)c);
		key[i] = (char)tolower((unsigned char)(service[i] == ' ' ?
		    '_' : service[i]));
	}
	env_id[i] = key[i] = '\0';
}

static int
set_str(char **dst, const char *v, struct errbuf *err)
{
	free(*dst);
	*dst = NULL;
	if (v != NULL && (*dst = strdup(v)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

static int
resolve_region(const struct awsconf_options *o, const struct awsfiles *a,
    struct awsconf *out, struct errbuf *err)
{
	const char *r = o->region, *from = "--region", *c;

	if (r == NULL || *r == '\0') {
		if ((r = env("AWS_REGION")) != NULL)
			from = "AWS_REGION";
		else if ((r = env("AWS_DEFAULT_REGION")) != NULL)
			from = "AWS_DEFAULT_REGION";
		else if ((r = awsfiles_profile_get(a, "region", NULL,
		    &from)) == NULL)
			return errbuf_set(err, ERR_CONFIG, "no region (use "
			    "--region, AWS_REGION or region in the profile)");
	}
	/* the region becomes part of a host name and of the signature */
	for (c = r; *c != '\0'; c++)
		if (!isalnum((unsigned char)*c) && *c != '-' && *c != '_')
			return errbuf_set(err, ERR_CONFIG, "%s: invalid region "
			    "\"%.64s\"", from, r);
	return set_str(&out->region, r, err);
}

/* Validates url (http or https, a host) and stores it without trailing /. */
static int
set_endpoint(struct awsconf *out, const char *url, const char *from,
    struct errbuf *err)
{
	const char *host;
	size_t n;

	if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return errbuf_set(err, ERR_CONFIG, "%s: endpoint URL must "
		    "start with http:// or https://", from);
	if (*host == '\0' || *host == '/' || *host == '?' || *host == '#' ||
	    strpbrk(url, " \t\r\n") != NULL)
		return errbuf_set(err, ERR_CONFIG, "%s: endpoint URL has no "
		    "host or contains a blank", from);
	if (set_str(&out->endpoint, url, err) == -1)
		return -1;
	n = strlen(out->endpoint);
	while (n > (size_t)(host - url) && out->endpoint[n - 1] == '/')
		out->endpoint[--n] = '\0';
	return 0;
}

static int
ignore_configured(const struct awsfiles *a)
{
	const char *v = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

	if (v != NULL)
		return awsfiles_is_true(v);
	return awsfiles_is_true(awsfiles_profile_get(a,
	    "ignore_configured_endpoint_urls", NULL, NULL));
}

/* The configured endpoint, if any; *from names where it came from. */
static const char *
configured_endpoint(const struct awsfiles *a, const char *service,
    char *from, size_t fromlen)
{
	char env_id[SERVICE_MAX], key[SERVICE_MAX];
	const char *v, *path = NULL;

	service_names(service, env_id, key);
	snprintf(from, fromlen, "AWS_ENDPOINT_URL_%s", env_id);
	if ((v = env(from)) != NULL)
		return v;
	snprintf(from, fromlen, "AWS_ENDPOINT_URL");
	if ((v = env(from)) != NULL)
		return v;
	if ((v = awsfiles_service_get(a, key, "endpoint_url")) != NULL) {
		snprintf(from, fromlen, "%s: [services] %s endpoint_url",
		    a->config.path ? a->config.path : "config", key);
		return v;
	}
	if ((v = awsfiles_profile_get(a, "endpoint_url", NULL, &path)) != NULL)
		snprintf(from, fromlen, "%s: profile \"%s\" endpoint_url",
		    path ? path : "config", a->profile);
	return v;
}

static int
resolve_endpoint(const struct awsconf_options *o, const struct awsfiles *a,
    struct awsconf *out, struct errbuf *err)
{
	char from[512];
	const char *url = o->endpoint_url;

	if (url != NULL && *url != '\0')
		snprintf(from, sizeof(from), "--endpoint-url");
	else if (ignore_configured(a))
		url = NULL;
	else
		url = configured_endpoint(a, o->service, from, sizeof(from));
	if (url != NULL) {
		out->custom_endpoint = 1;
		return set_endpoint(out, url, from, err);
	}
	out->custom_endpoint = 0;
	free(out->endpoint);
	if ((out->endpoint = awsconf_default_endpoint(o->service,
	    out->region)) == NULL)
		return errbuf_set(err, ERR_CONFIG, "no AWS endpoint for "
		    "service \"%s\" in region \"%s\" (use --endpoint-url)",
		    o->service, out->region);
	return 0;
}

static int
resolve_addressing(const struct awsconf_options *o, const struct awsfiles *a,
    struct awsconf *out, struct errbuf *err)
{
	const char *v, *from = NULL;

	out->path_style = 0;
	if (strcmp(o->service, "s3") != 0)
		return 0;
	if (o->addressing != AWSCONF_ADDR_AUTO) {
		out->path_style = o->addressing == AWSCONF_ADDR_PATH;
		return 0;
	}
	v = awsfiles_profile_get(a, "addressing_style", "s3", &from);
	if (v == NULL || strcmp(v, "auto") == 0)
		out->path_style = out->custom_endpoint;
	else if (strcmp(v, "path") == 0 || strcmp(v, "virtual") == 0)
		out->path_style = strcmp(v, "path") == 0;
	else
		return errbuf_set(err, ERR_CONFIG, "%s: profile \"%s\": s3 "
		    "addressing_style must be auto, path or virtual", from,
		    a->profile);
	return 0;
}

static int
resolve_attempts(const struct awsfiles *a, struct awsconf *out,
    struct errbuf *err)
{
	const char *v, *from = "AWS_MAX_ATTEMPTS";
	char *end;
	long n;

	out->max_attempts = AWSCONF_DEFAULT_MAX_ATTEMPTS;
	if ((v = env(from)) == NULL &&
	    (v = awsfiles_profile_get(a, "max_attempts", NULL, &from)) == NULL)
		return 0;
	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || errno != 0 || n < 1 || n > INT_MAX)
		return errbuf_set(err, ERR_CONFIG, "%s: max_attempts must be a "
		    "positive integer, not \"%.32s\"", from, v);
	out->max_attempts = (int)n;
	out->max_attempts_set = 1;
	return 0;
}

int
awsconf_resolve(const struct awsconf_options *o, struct awsconf *out,
    struct errbuf *err)
{
	struct awsfiles a;
	const char *ca;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (o == NULL || o->service == NULL || *o->service == '\0')
		return errbuf_set(err, ERR_USAGE, "awsconf: no service");
	if (awsfiles_open(&a, o->profile, err) == -1)
		return -1;
	if (set_str(&out->profile, a.profile, err) == -1 ||
	    resolve_region(o, &a, out, err) == -1 ||
	    resolve_endpoint(o, &a, out, err) == -1 ||
	    resolve_addressing(o, &a, out, err) == -1 ||
	    resolve_attempts(&a, out, err) == -1)
		goto out;
	if ((ca = env("AWS_CA_BUNDLE")) == NULL)
		ca = awsfiles_profile_get(&a, "ca_bundle", NULL, NULL);
	if (set_str(&out->ca_bundle, ca, err) == -1)
		goto out;
	rc = 0;
out:
	awsfiles_close(&a);
	if (rc == -1)
		awsconf_free(out);
	return rc;
}

void
awsconf_free(struct awsconf *c)
{
	if (c == NULL)
		return;
	free(c->profile);
	free(c->region);
	free(c->endpoint);
	free(c->ca_bundle);
	memset(c, 0, sizeof(*c));
}
