/*
 * geckoclient: the CoinGecko client: which plan and key a run uses, calls
 * through lib/http under the client-side rate limit with lib/retry's
 * delays, and the coin selection that needs calls (--top, --all,
 * --first). Uses gecko (plans, limiter, error bodies), geckopoll (the
 * coins and the poll records), http and retry.
 *
 * Never prints: what a person may want to read (the plan, each GET, each
 * retry, the credit warning) goes to the caller's log_fn as whole lines.
 * No clock of its own: the caller hands in its clocks and a stop flag, so
 * a signal ends any wait or call within 100 ms, and a test can run the
 * clocks by hand. The key is wiped on free.
 */
#ifndef COINPIPE_GECKOCLIENT_H
#define COINPIPE_GECKOCLIENT_H

#include <signal.h>
#include <stddef.h>

#include "errbuf.h"
#include "gecko.h"
#include "geckopoll.h"
#include "http.h"

/* A call or wait ended because *stop was set: unwind without a message. */
#define GECKO_STOPPED (-2)

enum gecko_log {
	GECKO_LOG_NOTICE,	/* a warning: the retry of a call, credits */
	GECKO_LOG_VERBOSE	/* detail: the plan, every answer */
};

struct gecko_client_config {
	int plan_set;			/* 0: as the keys found say */
	enum gecko_plan plan;
	const char *key_file;		/* NULL: the environment's key */
	const char *base_url;		/* NULL: the plan's API root */
	int rate;			/* 0: the plan's, a minute */
	long long rate_window_ms;	/* for rate */
	int retries;			/* of a failed call */
	long long max_backoff_ms;	/* longest wait, Retry-After too */
	long long timeout_ms;		/* per request */
	const char *user_agent;
	int trace;			/* lib/http's trace level */
	void (*trace_fn)(void *arg, const char *line);
	void (*log_fn)(void *arg, enum gecko_log level, const char *line);
	void *log_arg;
	const volatile sig_atomic_t *stop;	/* nonzero: unwind */
	long long (*mono_ms)(void);	/* for the limiter and waits */
	long long (*wall_ms)(void);	/* for a 429's rate window */
	void (*nap_ms)(int ms);		/* NULL: poll(); <= 100 ms */
};

struct gecko_client;

/*
 * A client for one run; cfg is copied, its strings and hooks borrowed.
 * Resolves the plan and key (gecko_key_resolve) and logs the plan line.
 * NULL with err set.
 */
struct gecko_client *gecko_client_new(const struct gecko_client_config *cfg,
    struct errbuf *err);
void gecko_client_free(struct gecko_client *c);

/* The API root, without a trailing '/'. */
const char *gecko_client_base(const struct gecko_client *c);

/* Waits for a wall-clock instant (a poll's slot): 0, or GECKO_STOPPED. */
int gecko_client_wait_wall(const struct gecko_client *c, long long when_ms);

/*
 * GET base + path ("/simple/price?..."), waiting for the limiter, retrying
 * what may pass (ERR_TEMP) up to cfg.retries times. 0 with r holding a 200
 * (r is the caller's to free, also after a failure); -1 with err set and
 * prefixed by the path without its query; GECKO_STOPPED.
 */
int gecko_client_get(struct gecko_client *c, const char *path,
    struct http_response *r, struct errbuf *err);

/* Which coins a run polls: one of ids, top, all and first. */
struct gecko_selection {
	const struct gecko_list *ids;
	long long top;			/* /coins/markets by market cap */
	int all;			/* /coins/list, active coins */
	long long first;		/* the first N of /coins/list */
	const char *vs;			/* the currency --top ranks in */
};

/* Fills and finishes coins. 0; -1 with err set (ERR_CONFIG when nothing
 * is selected); GECKO_STOPPED. */
int gecko_client_select(struct gecko_client *c,
    const struct gecko_selection *s, struct gecko_coins *coins,
    struct errbuf *err);

/*
 * The ncalls /simple/price calls of one poll into p (starts from
 * gecko_plan_calls, tail from gecko_query_tail), in order, up to the
 * first that fails. 0, -1 with err set, or GECKO_STOPPED.
 */
int gecko_client_poll(struct gecko_client *c, struct gecko_poll *p,
    const size_t *starts, size_t ncalls, const char *tail,
    struct errbuf *err);

/*
 * Logs a notice when calls a poll every every_ms (count polls, 0: no end)
 * would spend more than credits a month (-1: the plan's; 0: no cap).
 */
void gecko_client_check_credits(const struct gecko_client *c, size_t calls,
    long long every_ms, long long count, long long credits);

/* Ids one per line or comma-separated from path ("-": stdin); '#' starts
 * a comment. 0, or -1 with err set (ERR_USAGE: "path: reason"). */
int gecko_list_read(struct gecko_list *l, const char *path,
    struct errbuf *err);

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
