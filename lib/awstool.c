#include <stdio.h>
#include <string.h>

#include "awstool.h"

int
awstool_conf(const struct awstool_options *o, struct awsconf *out,
    struct errbuf *err)
{
	struct awsconf_options co;

	memset(&co, 0, sizeof(co));
	co.service = o->service;
	co.region = o->region;
	co.profile = o->profile;
	co.endpoint_url = o->endpoint_url;
	co.addressing = o->addressing;
	return awsconf_resolve(&co, out, err);
}

int
awstool_open(const struct awstool_options *o, struct awstool *t,
    struct errbuf *err)
{
	struct creds_options cr;
	struct aws_options ao;

	memset(t, 0, sizeof(*t));
	if (awstool_conf(o, &t->conf, err) == -1)
		return -1;
	snprintf(t->user_agent, sizeof(t->user_agent), "%s/%s coinpipe",
	    o->prog, COINPIPE_VERSION);
	t->http.user_agent = t->user_agent;
	t->http.ca_bundle = t->conf.ca_bundle;
	t->http.trace = o->trace;
	t->http.trace_fn = o->trace_fn;
	t->http.trace_arg = o->trace_arg;
	memset(&cr, 0, sizeof(cr));
	/* only an explicit --profile: the chain treats a named profile as
	 * required, while "default" may be absent (containers, EC2) */
	cr.profile = o->profile;
	cr.region = t->conf.region;
	cr.http = &t->http;
	if ((t->creds = creds_provider_new(&cr, err)) == NULL)
		goto fail;
	memset(&ao, 0, sizeof(ao));
	ao.conf = &t->conf;
	ao.service = o->service;
	ao.get_creds = creds_supply;
	ao.creds_arg = t->creds;
	ao.http = &t->http;
	ao.budget_ms = o->budget_ms;
	ao.stop = o->stop;
	if ((t->client = aws_client_new(&ao, err)) == NULL)
		goto fail;
	return 0;
fail:
	awstool_close(t);
	return -1;
}

void
awstool_close(struct awstool *t)
{
	if (t == NULL)
		return;
	aws_client_free(t->client);
	creds_provider_free(t->creds);
	awsconf_free(&t->conf);
	memset(t, 0, sizeof(*t));
}
