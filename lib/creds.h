/*
 * creds: the AWS default credential chain, in the SDK order:
 * environment, shared credentials/config files (profile), credential_process,
 * container credentials, EC2 instance metadata (IMDSv2).
 * Temporary credentials are cached and refreshed before they expire, since
 * `kin-get --follow` runs for weeks. Secrets are wiped on free and never put
 * into an error message.
 */
#ifndef COINPIPE_CREDS_H
#define COINPIPE_CREDS_H

#include <time.h>

#include "errbuf.h"
#include "http.h"
#include "sigv4.h"

/* Refresh this long before Expiration (AWS SDKs use 5 to 15 minutes). */
#define CREDS_REFRESH_AHEAD_S (5 * 60)

struct creds_options {
	const char *profile;	/* --profile; NULL: AWS_PROFILE, else "default" */
	/* for container and IMDS calls; copied, may be NULL */
	const struct http_options *http;
};

struct creds_provider;

struct creds_provider *creds_provider_new(const struct creds_options *o,
    struct errbuf *err);
void creds_provider_free(struct creds_provider *p);

/*
 * Current credentials, resolving the chain on first use and again when the
 * cached ones are within CREDS_REFRESH_AHEAD_S of expiring at `now`.
 * The strings in *out stay valid until the next call or the free.
 * When nothing is found, err names every source tried (ERR_CONFIG).
 */
int creds_provider_get(struct creds_provider *p, time_t now,
    struct sigv4_credentials *out, struct errbuf *err);

/* Which source supplied the current credentials ("environment",
 * "profile default", "container", "imds", ...), for -v. */
const char *creds_provider_source(const struct creds_provider *p);

#endif
