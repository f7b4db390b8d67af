/*
 * geckopoll: the pure parts of a gecko-fetch poll: the selected coins,
 * how their ids split into /simple/price calls, and the records (JSON
 * lines or a table) built from the answers. No I/O, no clock: the caller
 * fetches the answers (lib/geckoclient) and prints what is built here.
 * jansson: only for the id lists of /coins/list and /coins/markets, small
 * trees read for one member each; prices go through lib/gecko's scanner.
 */
#ifndef COINPIPE_GECKOPOLL_H
#define COINPIPE_GECKOPOLL_H

#include <stddef.h>

#include "buf.h"
#include "errbuf.h"
#include "gecko.h"

#define GECKO_NMARKET 3		/* market cap, 24 h volume, change */

/* Strings, each owned by the list. */
struct gecko_list {
	char **v;
	size_t n, cap;
};

int gecko_list_add(struct gecko_list *l, const char *s, size_t n);
/* Adds the items of "a,b c\n" (commas or white space), skipping empties;
 * '#' ends the text. 0 or -1 (memory). */
int gecko_list_split(struct gecko_list *l, const char *s);
void gecko_list_free(struct gecko_list *l);

enum gecko_stale { GECKO_STALE_KEEP, GECKO_STALE_SKIP, GECKO_STALE_MARK };

/* What a poll prints. */
struct gecko_format {
	const struct gecko_list *vs;	/* quote currencies, at least one */
	int market;			/* market cap, volume, change too */
	enum gecko_stale stale;
	int table;			/* a table for a person, not JSON */
};

/* The selected coins, in the order they are printed. */
struct gecko_coins {
	struct gecko_list id;
	size_t *order;			/* indexes sorted by id, for lookup */
	long long *prev_updated;	/* last_updated_at of the last poll */
	unsigned char *told;		/* unknown id already reported */
};

/* Drops repeated ids (the first is kept) and builds the index. 0 or -1. */
int gecko_coins_finish(struct gecko_coins *c);
/* The index of an id in a finished selection, or -1. */
long gecko_coins_find(const struct gecko_coins *c, struct gecko_span id);
void gecko_coins_free(struct gecko_coins *c);

/*
 * Adds the "id" of each element of the JSON array in body, up to max ids
 * in c (0: all). Returns how many elements the array had, or -1 (err
 * names what, the call, for a body that is not an array).
 */
long gecko_coins_add_json(struct gecko_coins *c, const char *body,
    size_t len, size_t max, const char *what, struct errbuf *err);

/* The query after the ids, the same for every call of a poll. */
int gecko_query_tail(const struct gecko_format *f, struct buf *b);

/*
 * Splits the ids into as few /simple/price calls as GECKO_URL_MAX allows
 * with base in front; starts[] (c->id.n entries) receives the first id of
 * each call. Returns the number of calls, 0 with err set on failure.
 */
size_t gecko_plan_calls(const char *base, const struct gecko_coins *c,
    const struct gecko_format *f, size_t *starts, struct errbuf *err);

/* "/simple/price?ids=a,b" for the ids [lo, hi), then tail. 0 or -1. */
int gecko_price_path(const struct gecko_coins *c, size_t lo, size_t hi,
    const char *tail, struct buf *path);

/* Rows for the table: cells end in a tab, rows in a newline. */
struct gecko_table {
	size_t ncols;
	struct buf rows;
};

struct gecko_stats {
	long records, nulls, stale, unknown;
};

/* One poll's records, built call by call. Fields are read by the caller. */
struct gecko_poll {
	const struct gecko_format *f;
	struct gecko_coins *c;
	const char *ts;		/* the poll's time, "2026-11-28T12:00:00Z" */
	struct buf out;		/* what to print: JSON lines, or the table
				 * once gecko_poll_end has run */
	struct gecko_table table;
	struct gecko_stats st;
	struct buf nulls;	/* "a/usd, b/eur": null prices skipped */
	struct buf unknown;	/* "x, y": ids CoinGecko did not answer for,
				 * each named once in the program's life */
};

void gecko_poll_begin(struct gecko_poll *p, const struct gecko_format *f,
    struct gecko_coins *c, const char *ts);
/*
 * Adds the records of one /simple/price answer for the ids [lo, hi), in
 * selection order. 0, or -1 when the body is not a price answer (err as
 * gecko_scan_prices sets it).
 */
int gecko_poll_add(struct gecko_poll *p, size_t lo, size_t hi,
    const char *body, size_t len, struct errbuf *err);
/* Finishes the table, if one is built, into out. */
void gecko_poll_end(struct gecko_poll *p);
void gecko_poll_free(struct gecko_poll *p);

#endif
