/*
 * geckoclient: the parts of the CoinGecko client that touch the process's
 * environment: which plan and key a run uses. Never prints; the key is
 * the caller's to wipe (gecko_key_free).
 */
#ifndef COINPIPE_GECKOCLIENT_H
#define COINPIPE_GECKOCLIENT_H

#include "errbuf.h"
#include "gecko.h"

#define GECKO_MAX_KEY_LEN 256	/* keys are ~30 characters */

/*
 * Command line over environment: key_file with plan (demo when plan_set
 * is 0); else the plan's variable (COINGECKO_PRO_API_KEY,
 * COINGECKO_DEMO_API_KEY); with no plan set, a Pro key wins over a Demo
 * key, and no key at all means the public, keyless API. *key gets a
 * malloc'd key or NULL (public). 0, or -1 with err set (ERR_CONFIG).
 */
int gecko_key_resolve(int plan_set, enum gecko_plan plan,
    const char *key_file, enum gecko_plan *plan_out, char **key,
    struct errbuf *err);

/* Wipes and frees a key; NULL is fine. */
void gecko_key_free(char *key);

#endif
