#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "geckopoll.h"
#include "ndjson.h"
#include "sigv4.h"

#define NMARKET GECKO_NMARKET

/* One coin's values in one /simple/price answer. */
struct slot {
	int seen;
	struct gecko_span updated;
	struct gecko_span *val;		/* nvs * (1 + NMARKET) */
};

struct group {
	const struct gecko_format *f;
	const struct gecko_coins *c;
	size_t lo, hi;
	struct slot *slots;
};

static const char *const market_names[NMARKET] = {
	"market_cap", "volume_24h", "change_24h"
};
static const char *const market_suffix[NMARKET] = {
	"_market_cap", "_24h_vol", "_24h_change"
};

/* ---- lists ---- */

int
gecko_list_add(struct gecko_list *l, const char *s, size_t n)
{
	char **v;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		if ((v = realloc(l->v, cap * sizeof(*v))) == NULL)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	if ((l->v[l->n] = strndup(s, n)) == NULL)
		return -1;
	l->n++;
	return 0;
}

void
gecko_list_free(struct gecko_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Adds the items of "a,b c\n" (commas or white space), skipping empties. */
int
gecko_list_split(struct gecko_list *l, const char *s)
{
	size_t n;

	for (;;) {
		s += strspn(s, ", \t\r\n");
		if (*s == '\0' || *s == '#')
			return 0;
		n = strcspn(s, ", \t\r\n");
		if (gecko_list_add(l, s, n) == -1)
			return -1;
		s += n;
	}
}

/* ids and currencies are valid UTF-8 (validate(), or jansson's strings). */
static void
json_str(struct buf *b, const char *s)
{
	ndjson_append_string(b, s, strlen(s));
}

static int
span_is(struct gecko_span s, const char *a, const char *b)
{
	size_t na = strlen(a), nb = b ? strlen(b) : 0;

	return s.n == na + nb && memcmp(s.p, a, na) == 0 &&
	    (nb == 0 || memcmp(s.p + na, b, nb) == 0);
}

static int
span_null(struct gecko_span s)
{
	return s.p == NULL || (s.n == 4 && memcmp(s.p, "null", 4) == 0);
}

/* last_updated_at as UNIX seconds; -1 when absent or not an integer. */
static long long
span_seconds(struct gecko_span s)
{
	long long v = 0;
	size_t i;

	if (s.p == NULL || s.n == 0 || s.n > 12)
		return -1;
	for (i = 0; i < s.n; i++) {
		if (!isdigit((unsigned char)s.p[i]))
			return -1;
		v = v * 10 + (s.p[i] - '0');
	}
	return v;
}

/* ---- the selected coins ---- */

/* qsort() passes no context to its comparison function. */
static const struct gecko_coins *sort_coins;

static int
cmp_index(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(sort_coins->id.v[i], sort_coins->id.v[j]);

	/* equal ids: the first occurrence sorts first and is kept */
	if (c == 0)
		c = i < j ? -1 : i > j;
	return c;
}

static int
coins_sort(struct gecko_coins *c)
{
	size_t i;

	free(c->order);
	if ((c->order = calloc(c->id.n + 1, sizeof(size_t))) == NULL)
		return -1;
	for (i = 0; i < c->id.n; i++)
		c->order[i] = i;
	sort_coins = c;
	qsort(c->order, c->id.n, sizeof(size_t), cmp_index);
	return 0;
}

/* Drops repeated ids, keeping the first, then builds the lookup index. */
int
gecko_coins_finish(struct gecko_coins *c)
{
	unsigned char *dup;
	size_t i, j;

	if (coins_sort(c) == -1 ||
	    (dup = calloc(c->id.n + 1, 1)) == NULL)
		return -1;
	for (i = 1; i < c->id.n; i++)
		if (strcmp(c->id.v[c->order[i]], c->id.v[c->order[i - 1]]) == 0)
			dup[c->order[i]] = 1;
	for (i = j = 0; i < c->id.n; i++) {
		if (dup[i])
			free(c->id.v[i]);
		else
			c->id.v[j++] = c->id.v[i];
	}
	c->id.n = j;
	free(dup);
	c->prev_updated = calloc(c->id.n + 1, sizeof(long long));
	c->told = calloc(c->id.n + 1, 1);
	if (c->prev_updated == NULL || c->told == NULL)
		return -1;
	return coins_sort(c);
}

/* The index of an id in the selection, or -1. */
long
gecko_coins_find(const struct gecko_coins *c, struct gecko_span id)
{
	size_t lo = 0, hi = c->id.n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2, k = c->order[mid];
		const char *s = c->id.v[k];
		size_t n = strlen(s);
		int r = memcmp(s, id.p, n < id.n ? n : id.n);

		if (r == 0)
			r = n < id.n ? -1 : n > id.n;
		if (r == 0)
			return (long)k;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

void
gecko_coins_free(struct gecko_coins *c)
{
	gecko_list_free(&c->id);
	free(c->order);
	free(c->prev_updated);
	free(c->told);
}

/* ---- coins from /coins/list and /coins/markets ---- */

long
gecko_coins_add_json(struct gecko_coins *c, const char *body, size_t len,
    size_t max, const char *what, struct errbuf *err)
{
	json_error_t je;
	json_t *root, *v;
	const char *id;
	size_t i;
	long n = -1;

	if ((root = json_loadb(body, len, 0, &je)) == NULL ||
	    !json_is_array(root)) {
		errbuf_set(err, ERR_TEMP, "%s: not a JSON array%s%s", what,
		    root ? "" : ": ", root ? "" : je.text);
		goto out;
	}
	json_array_foreach(root, i, v) {
		if (max > 0 && c->id.n >= max)
			break;
		id = json_string_value(json_object_get(v, "id"));
		if (id != NULL && gecko_list_add(&c->id, id, strlen(id)) == -1) {
			errbuf_set(err, ERR_SYSTEM, "out of memory");
			goto out;
		}
	}
	n = (long)json_array_size(root);
out:
	json_decref(root);
	return n;
}

/* ---- planning the calls of a poll ---- */

int
gecko_query_tail(const struct gecko_format *o, struct buf *b)
{
	size_t i;

	buf_puts(b, "&vs_currencies=");
	for (i = 0; i < o->vs->n; i++) {
		if (i > 0)
			buf_putc(b, ',');
		buf_puts(b, o->vs->v[i]);
	}
	if (o->market)
		buf_puts(b, "&include_market_cap=true&include_24hr_vol=true"
		    "&include_24hr_change=true");
	return buf_puts(b, "&include_last_updated_at=true");
}

size_t
gecko_plan_calls(const char *base, const struct gecko_coins *c,
    const struct gecko_format *f, size_t *starts, struct errbuf *err)
{
	struct buf tail = BUF_INIT;
	size_t *lens, i, fixed, n = 0;
	char *enc;

	if ((lens = calloc(c->id.n + 1, sizeof(size_t))) == NULL ||
	    gecko_query_tail(f, &tail) == -1) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	fixed = strlen(base) + strlen("/simple/price?ids=") + tail.len;
	if (fixed + 64 > GECKO_URL_MAX) {
		errbuf_set(err, ERR_USAGE, "--base-url and --vs leave no room "
		    "for ids in a %d-byte URL", GECKO_URL_MAX);
		goto out;
	}
	for (i = 0; i < c->id.n; i++) {
		if ((enc = sigv4_uri_encode(c->id.v[i], strlen(c->id.v[i]),
		    0)) == NULL) {
			errbuf_set(err, ERR_SYSTEM, "out of memory");
			n = 0;
			goto out;
		}
		lens[i] = strlen(enc);
		free(enc);
	}
	n = gecko_plan_groups(lens, c->id.n, GECKO_URL_MAX - fixed, starts);
out:
	free(lens);
	buf_free(&tail);
	return n;
}

/* ---- one poll ---- */

static int
on_member(void *arg, struct gecko_span id, struct gecko_span key,
    struct gecko_span value)
{
	struct group *g = arg;
	const struct gecko_format *o = g->f;
	struct slot *s;
	long k = gecko_coins_find(g->c, id);
	size_t v, m;

	if (k < 0 || (size_t)k < g->lo || (size_t)k >= g->hi)
		return 0;	/* not asked for here: ignore */
	s = &g->slots[(size_t)k - g->lo];
	s->seen = 1;
	if (span_is(key, "last_updated_at", NULL)) {
		s->updated = value;
		return 0;
	}
	for (v = 0; v < o->vs->n; v++) {
		if (span_is(key, o->vs->v[v], NULL)) {
			s->val[v * (1 + NMARKET)] = value;
			return 0;
		}
		for (m = 0; m < NMARKET; m++)
			if (span_is(key, o->vs->v[v], market_suffix[m]))
				s->val[v * (1 + NMARKET) + 1 + m] = value;
	}
	return 0;
}

static void
put_span(struct buf *b, struct gecko_span s)
{
	if (s.p == NULL)
		buf_puts(b, "null");
	else
		buf_append(b, s.p, s.n);
}

/* A cell's text: strings without their quotes, null as "-". */
static void
table_cell(struct gecko_table *t, struct gecko_span s)
{
	if (s.p == NULL)
		buf_putc(&t->rows, '-');
	else if (s.n >= 2 && s.p[0] == '"')
		buf_append(&t->rows, s.p + 1, s.n - 2);
	else
		buf_append(&t->rows, s.p, s.n);
	buf_putc(&t->rows, '\t');
}

static void
table_text(struct gecko_table *t, const char *s)
{
	struct gecko_span sp = { s, strlen(s) };

	table_cell(t, sp);
}

/* One record: JSON for a pipe, or a row of the table for a person. */
static void
emit(const struct gecko_format *o, struct buf *out, struct gecko_table *t,
    const char *ts, const char *id, const char *vs,
    const struct gecko_span *val, const char *updated, int stale)
{
	size_t m;

	if (t != NULL) {
		table_text(t, id);
		table_text(t, vs);
		table_cell(t, val[0]);
		table_text(t, updated ? updated : "-");
		for (m = 0; o->market && m < NMARKET; m++)
			table_cell(t, val[1 + m]);
		if (o->stale == GECKO_STALE_MARK)
			table_text(t, stale ? "stale" : "");
		buf_putc(&t->rows, '\n');
		return;
	}
	buf_puts(out, "{\"ts\":\"");
	buf_puts(out, ts);
	buf_puts(out, "\",\"crypto\":");
	json_str(out, id);
	buf_puts(out, ",\"vs\":");
	json_str(out, vs);
	buf_puts(out, ",\"price\":");
	put_span(out, val[0]);
	buf_puts(out, ",\"updated\":");
	if (updated != NULL)
		buf_printf(out, "\"%s\"", updated);
	else
		buf_puts(out, "null");
	for (m = 0; o->market && m < NMARKET; m++) {
		buf_printf(out, ",\"%s\":", market_names[m]);
		put_span(out, val[1 + m]);
	}
	if (o->stale == GECKO_STALE_MARK)
		buf_puts(out, stale ? ",\"stale\":true" : ",\"stale\":false");
	buf_puts(out, "}\n");
}

/* Notes for stderr, collected over a poll: "a/usd, b/eur". */
static void
note(struct buf *b, const char *id, const char *vs)
{
	if (b->len > 0)
		buf_puts(b, ", ");
	buf_puts(b, id);
	if (vs != NULL) {
		buf_putc(b, '/');
		buf_puts(b, vs);
	}
}

/* Builds the records of one group in selection order. */
static void
emit_group(struct gecko_poll *p, const struct group *g)
{
	const struct gecko_format *o = p->f;
	char upd[40];
	size_t i, v;

	for (i = g->lo; i < g->hi; i++) {
		const struct slot *s = &g->slots[i - g->lo];
		long long secs = span_seconds(s->updated);
		int stale = secs > 0 && secs == p->c->prev_updated[i];

		if (!s->seen) {
			p->st.unknown++;
			if (!p->c->told[i])
				note(&p->unknown, p->c->id.v[i], NULL);
			p->c->told[i] = 1;
			continue;
		}
		if (secs > 0)
			gecko_iso8601(secs * 1000, upd, sizeof(upd));
		p->c->prev_updated[i] = secs;
		for (v = 0; v < o->vs->n; v++) {
			const struct gecko_span *val =
			    &s->val[v * (1 + NMARKET)];

			if (span_null(val[0])) {
				p->st.nulls++;
				note(&p->nulls, p->c->id.v[i], o->vs->v[v]);
			} else if (stale && o->stale == GECKO_STALE_SKIP)
				p->st.stale++;
			else {
				p->st.records++;
				emit(o, &p->out, o->table ? &p->table : NULL,
				    p->ts,
				    p->c->id.v[i], o->vs->v[v], val,
				    secs > 0 ? upd : NULL, stale);
			}
		}
	}
}

/* Column widths of the rows; returns the number of rows. */
static size_t
table_widths(const struct gecko_table *t, size_t *w)
{
	const char *p = t->rows.data, *end = p + t->rows.len;
	size_t col = 0, nrows = 0, n;

	while (p < end) {
		n = strcspn(p, "\t\n");
		if (p[n] == '\t') {
			if (col < t->ncols && n > w[col])
				w[col] = n;
			col++;
		} else {
			col = 0;
			nrows++;
		}
		p += n + 1;
	}
	return nrows;
}

/* Numbers right-aligned, text left, two spaces between columns. */
static void
table_print(const struct gecko_format *o, struct gecko_table *t, const char *ts,
    struct buf *out)
{
	size_t w[4 + NMARKET + 1] = { 0 }, col = 0, row = 0, n;
	const char *p = t->rows.data, *end = p + t->rows.len;
	int num;

	/* a header alone says nothing */
	if (table_widths(t, w) <= 1)
		return;
	buf_printf(out, "%s\n", ts);
	for (; p < end; p += n + 1) {
		n = strcspn(p, "\t\n");
		if (p[n] == '\n') {
			while (out->len > 0 && out->data[out->len - 1] == ' ')
				out->len--;
			buf_putc(out, '\n');
			col = 0;
			row++;
			continue;
		}
		num = row > 0 && (col == 2 || (o->market && col >= 4 &&
		    col < 4 + NMARKET));
		buf_printf(out, num ? "%*.*s  " : "%-*.*s  ", (int)w[col],
		    (int)n, p);
		col++;
	}
}

static void
table_header(const struct gecko_format *o, struct gecko_table *t)
{
	static const char *const market[NMARKET] = {
		"MARKET_CAP", "VOLUME_24H", "CHANGE_24H"
	};
	size_t m;

	table_text(t, "CRYPTO");
	table_text(t, "VS");
	table_text(t, "PRICE");
	table_text(t, "UPDATED");
	for (m = 0; o->market && m < NMARKET; m++)
		table_text(t, market[m]);
	if (o->stale == GECKO_STALE_MARK)
		table_text(t, "STALE");
	t->ncols = 4 + (o->market ? NMARKET : 0) + (o->stale == GECKO_STALE_MARK);
	buf_putc(&t->rows, '\n');
}

/* ---- a poll ---- */

int
gecko_price_path(const struct gecko_coins *c, size_t lo, size_t hi,
    const char *tail, struct buf *path)
{
	char *enc;
	size_t i;

	buf_reset(path);
	if (buf_puts(path, "/simple/price?ids=") == -1)
		return -1;
	for (i = lo; i < hi; i++) {
		enc = sigv4_uri_encode(c->id.v[i], strlen(c->id.v[i]), 0);
		if (enc == NULL || (i > lo && buf_putc(path, ',') == -1) ||
		    buf_puts(path, enc) == -1) {
			free(enc);
			return -1;
		}
		free(enc);
	}
	return buf_puts(path, tail);
}

void
gecko_poll_begin(struct gecko_poll *p, const struct gecko_format *f,
    struct gecko_coins *c, const char *ts)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->c = c;
	p->ts = ts;
	if (f->table)
		table_header(f, &p->table);
}

int
gecko_poll_add(struct gecko_poll *p, size_t lo, size_t hi, const char *body,
    size_t len, struct errbuf *err)
{
	struct group g = { p->f, p->c, lo, hi, NULL };
	struct gecko_span *vals;
	size_t i, nv = p->f->vs->n * (1 + NMARKET);
	int rc = -1;

	g.slots = calloc(hi - lo + 1, sizeof(*g.slots));
	vals = calloc((hi - lo) * nv + 1, sizeof(*vals));
	if (g.slots == NULL || vals == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	for (i = lo; i < hi; i++)
		g.slots[i - lo].val = vals + (i - lo) * nv;
	if (gecko_scan_prices(body, len, on_member, &g, err) == -1)
		goto out;
	emit_group(p, &g);
	rc = 0;
out:
	free(g.slots);
	free(vals);
	return rc;
}

void
gecko_poll_end(struct gecko_poll *p)
{
	if (p->f->table)
		table_print(p->f, &p->table, p->ts, &p->out);
}

void
gecko_poll_free(struct gecko_poll *p)
{
	buf_free(&p->out);
	buf_free(&p->table.rows);
	buf_free(&p->nulls);
	buf_free(&p->unknown);
}
