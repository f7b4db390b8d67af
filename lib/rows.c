#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "ndjson.h"
#include "rows.h"

static const char *const meta_names[] = {
	"_shard", "_seq", "_subseq", "_arrival", "_key"
};
#define NMETA (sizeof(meta_names) / sizeof(meta_names[0]))

/* A string -> index map, open addressing; sized for a few thousand keys. */
struct map_ent {
	char *s;
	size_t n;
	size_t idx;
};

struct map {
	struct map_ent *v;
	size_t cap, used;
};

struct col {
	char *name;		/* header text */
	char **comp;		/* path components */
	size_t ncomp;
	int hidden;
};

/* The columns whose path starts with one top-level key. */
struct group {
	size_t *cols;
	size_t n;
};

struct rows {
	struct col *cols;
	size_t ncols, nvisible;
	struct group *groups;
	size_t ngroups;
	struct map keys;	/* first component -> group */
	struct map unknown;	/* keys already reported */
	char *null_text;
	size_t null_len;
	/* the last parsed row */
	struct ndjson_value *vals;
	unsigned char *have;
	struct ndjson_iter it, sub;
	struct buf scratch;
	struct buf *capbuf;	/* per column, used by captures only */
	void (*on_unknown)(void *arg, const char *key, size_t len);
	void *unknown_arg;
};

static struct map_ent *
map_slot(const struct map *m, const char *s, size_t n)
{
	size_t i = (size_t)hash_fnv1a64(s, n) & (m->cap - 1);

	while (m->v[i].s != NULL &&
	    (m->v[i].n != n || memcmp(m->v[i].s, s, n) != 0))
		i = (i + 1) & (m->cap - 1);
	return &m->v[i];
}

static const struct map_ent *
map_find(const struct map *m, const char *s, size_t n)
{
	const struct map_ent *e;

	if (m->cap == 0)
		return NULL;
	e = map_slot(m, s, n);
	return e->s != NULL ? e : NULL;
}

static int
map_grow(struct map *m)
{
	struct map old = *m;
	size_t i;

	m->cap = old.cap ? old.cap * 2 : 64;
	if ((m->v = calloc(m->cap, sizeof(*m->v))) == NULL) {
		*m = old;
		return -1;
	}
	for (i = 0; i < old.cap; i++)
		if (old.v[i].s != NULL)
			*map_slot(m, old.v[i].s, old.v[i].n) = old.v[i];
	free(old.v);
	return 0;
}

/* Adds s -> idx unless present; returns the entry, NULL on memory. */
static struct map_ent *
map_add(struct map *m, const char *s, size_t n, size_t idx)
{
	struct map_ent *e;

	if ((m->used + 1) * 2 > m->cap && map_grow(m) == -1)
		return NULL;
	e = map_slot(m, s, n);
	if (e->s != NULL)
		return e;
	if ((e->s = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(e->s, s, n);
	e->s[n] = '\0';
	e->n = n;
	e->idx = idx;
	m->used++;
	return e;
}

static void
map_free(struct map *m)
{
	size_t i;

	for (i = 0; i < m->cap; i++)
		free(m->v[i].s);
	free(m->v);
	memset(m, 0, sizeof(*m));
}

/* 1 when name is one of the meta fields of kin-get --format meta. */
static int
rows_is_meta(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NMETA; i++)
		if (strlen(meta_names[i]) == len &&
		    memcmp(meta_names[i], name, len) == 0)
			return 1;
	return 0;
}

struct rows *
rows_new(const char *null_text)
{
	struct rows *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	if ((r->null_text = strdup(null_text ? null_text : "")) == NULL) {
		free(r);
		return NULL;
	}
	r->null_len = strlen(r->null_text);
	r->it = (struct ndjson_iter)NDJSON_ITER_INIT;
	r->sub = (struct ndjson_iter)NDJSON_ITER_INIT;
	return r;
}

void
rows_free(struct rows *r)
{
	size_t i, k;

	if (r == NULL)
		return;
	for (i = 0; i < r->ncols; i++) {
		free(r->cols[i].name);
		for (k = 0; k < r->cols[i].ncomp; k++)
			free(r->cols[i].comp[k]);
		free(r->cols[i].comp);
		buf_free(&r->capbuf[i]);
	}
	for (i = 0; i < r->ngroups; i++)
		free(r->groups[i].cols);
	free(r->cols);
	free(r->groups);
	free(r->capbuf);
	free(r->vals);
	free(r->have);
	map_free(&r->keys);
	map_free(&r->unknown);
	ndjson_iter_free(&r->it);
	ndjson_iter_free(&r->sub);
	buf_free(&r->scratch);
	free(r->null_text);
	free(r);
}

/* Grows every per-column array by one slot. */
static int
grow_columns(struct rows *r)
{
	size_t n = r->ncols + 1;
	void *p;

	if ((p = realloc(r->cols, n * sizeof(*r->cols))) == NULL)
		return -1;
	r->cols = p;
	if ((p = realloc(r->vals, n * sizeof(*r->vals))) == NULL)
		return -1;
	r->vals = p;
	if ((p = realloc(r->have, n)) == NULL)
		return -1;
	r->have = p;
	if ((p = realloc(r->capbuf, n * sizeof(*r->capbuf))) == NULL)
		return -1;
	r->capbuf = p;
	r->capbuf[r->ncols] = (struct buf)BUF_INIT;
	r->have[r->ncols] = 0;
	memset(&r->cols[r->ncols], 0, sizeof(r->cols[0]));
	return 0;
}

/* Files column c under its first path component. */
static int
index_column(struct rows *r, size_t c)
{
	const char *k = r->cols[c].comp[0];
	struct map_ent *e;
	struct group *g;
	size_t *v;
	void *p;

	if ((e = map_add(&r->keys, k, strlen(k), r->ngroups)) == NULL)
		return -1;
	if (e->idx == r->ngroups) {
		p = realloc(r->groups, (r->ngroups + 1) * sizeof(*r->groups));
		if (p == NULL)
			return -1;
		r->groups = p;
		r->groups[r->ngroups].cols = NULL;
		r->groups[r->ngroups].n = 0;
		r->ngroups++;
	}
	g = &r->groups[e->idx];
	if ((v = realloc(g->cols, (g->n + 1) * sizeof(*v))) == NULL)
		return -1;
	g->cols = v;
	g->cols[g->n++] = c;
	return 0;
}

/* Splits path into components (on '.' when dotted). */
static int
split_path(struct col *c, const char *path, size_t n, int dotted)
{
	const char *p = path, *end = path + n, *dot;
	size_t k;

	for (;;) {
		dot = dotted ? memchr(p, '.', (size_t)(end - p)) : NULL;
		k = dot ? (size_t)(dot - p) : (size_t)(end - p);
		if (k == 0 && dotted)
			return 1;
		if ((c->comp = realloc(c->comp,
		    (c->ncomp + 1) * sizeof(*c->comp))) == NULL)
			return -1;
		if ((c->comp[c->ncomp] = strndup(p, k)) == NULL)
			return -1;
		c->ncomp++;
		if (dot == NULL)
			return 0;
		p = dot + 1;
	}
}

static long
add_column(struct rows *r, const char *name, size_t nlen, const char *path,
    size_t plen, int dotted, int hidden, struct errbuf *err)
{
	struct col *c;
	int rc;

	if (r->ncols >= ROWS_MAX_COLUMNS)
		return errbuf_set(err, ERR_USAGE, "more than %d columns",
		    ROWS_MAX_COLUMNS);
	if (grow_columns(r) == -1)
		goto nomem;
	c = &r->cols[r->ncols];
	c->hidden = hidden;
	if ((c->name = strndup(name, nlen)) == NULL)
		goto nomem;
	r->ncols++;	/* counted now so rows_free releases it */
	if ((rc = split_path(c, path, plen, dotted)) == 1)
		return errbuf_set(err, ERR_USAGE, "'%.*s': empty path component",
		    (int)plen, path);
	if (rc == -1 || index_column(r, r->ncols - 1) == -1)
		goto nomem;
	if (!hidden)
		r->nvisible++;
	return (long)(r->ncols - 1);
nomem:
	return errbuf_set(err, ERR_SYSTEM, "out of memory");
}

int
rows_add_columns(struct rows *r, const char *spec, struct errbuf *err)
{
	const char *p = spec, *comma, *eq, *path;
	size_t n;

	for (;;) {
		comma = strchr(p, ',');
		n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0)
			return errbuf_set(err, ERR_USAGE,
			    "'%s': empty column name", spec);
		eq = memchr(p, '=', n);
		path = eq ? eq + 1 : p;
		if (eq != NULL && (eq == p || eq + 1 == p + n))
			return errbuf_set(err, ERR_USAGE,
			    "'%.*s': expected NAME=PATH", (int)n, p);
		if (add_column(r, p, eq ? (size_t)(eq - p) : n, path,
		    (size_t)(p + n - path), 1, 0, err) == -1)
			return -1;
		if (comma == NULL)
			return 0;
		p = comma + 1;
	}
}

long
rows_add_capture(struct rows *r, const char *path, int dotted,
    struct errbuf *err)
{
	return add_column(r, path, strlen(path), path, strlen(path), dotted, 1,
	    err);
}

int
rows_columns_from(struct rows *r, const char *line, size_t len,
    struct errbuf *err)
{
	struct ndjson_member m;
	struct ndjson_value top;
	const struct map_ent *e;
	size_t i;
	int rc;

	if (r->nvisible > 0)
		return 0;
	/* validate first: a bad first line must not leave half its keys */
	if (ndjson_validate(line, len, &top, err) == -1) {
		err->kind = ERR_DATA;
		return -1;
	}
	if (top.kind != NDJSON_OBJECT)
		return errbuf_set(err, ERR_DATA, "a JSON %s, not an object",
		    ndjson_kind_name(top.kind));
	if (ndjson_obj_begin(&r->it, line, len, err) == -1)
		return -1;
	while ((rc = ndjson_obj_next(&r->it, &m, err)) == 1) {
		if (rows_is_meta(m.key, m.key_len))
			continue;
		/* a duplicate key, or a key a capture reads: one column */
		e = map_find(&r->keys, m.key, m.key_len);
		for (i = 0; e != NULL && i < r->groups[e->idx].n; i++) {
			const struct col *c = &r->cols[r->groups[e->idx].cols[i]];
			if (!c->hidden && c->ncomp == 1)
				break;
		}
		if (e != NULL && i < r->groups[e->idx].n)
			continue;
		if (add_column(r, m.key, m.key_len, m.key, m.key_len, 0, 0,
		    err) == -1)
			return -1;
	}
	return rc;
}

int
rows_header(const struct rows *r, struct csv_writer *w)
{
	size_t i;

	for (i = 0; i < r->ncols; i++)
		if (!r->cols[i].hidden && csv_cell(w, r->cols[i].name,
		    strlen(r->cols[i].name)) == -1)
			return -1;
	return csv_end_row(w);
}

void
rows_on_unknown(struct rows *r,
    void (*fn)(void *arg, const char *key, size_t len), void *arg)
{
	r->on_unknown = fn;
	r->unknown_arg = arg;
}

static int
note_unknown(struct rows *r, const char *key, size_t n)
{
	size_t before = r->unknown.used;

	if (rows_is_meta(key, n))
		return 0;
	if (map_add(&r->unknown, key, n, 0) == NULL)
		return -1;
	if (r->unknown.used != before && r->on_unknown != NULL)
		r->on_unknown(r->unknown_arg, key, n);
	return 0;
}

/* The last member named want (n bytes) of the object at *v; 1 or 0. */
static int
member(struct rows *r, struct ndjson_value *v, const char *want, size_t n,
    struct errbuf *err)
{
	struct ndjson_member m;
	struct ndjson_value found;
	int hit = 0;

	if (v->kind != NDJSON_OBJECT ||
	    ndjson_obj_begin(&r->sub, v->text, v->len, err) == -1)
		return 0;
	while (ndjson_obj_next(&r->sub, &m, err) == 1) {
		if (m.key_len == n && memcmp(m.key, want, n) == 0) {
			found = m.value;
			hit = 1;
		}
	}
	if (hit)
		*v = found;
	return hit;
}

/* Walks the deeper components of column c from its top-level value. */
static void
resolve(struct rows *r, size_t c, struct errbuf *err)
{
	const struct col *col = &r->cols[c];
	size_t k;

	for (k = 1; k < col->ncomp && r->have[c]; k++)
		r->have[c] = (unsigned char)member(r, &r->vals[c],
		    col->comp[k], strlen(col->comp[k]), err);
}

int
rows_parse(struct rows *r, const char *line, size_t len, struct errbuf *err)
{
	struct ndjson_member m;
	const struct map_ent *e;
	const struct group *g;
	size_t i;
	int rc;

	if (r->ncols > 0)
		memset(r->have, 0, r->ncols);
	if (ndjson_obj_begin(&r->it, line, len, err) == -1) {
		struct ndjson_value top;
		if (ndjson_validate(line, len, &top, err) == 0)
			errbuf_set(err, ERR_DATA, "a JSON %s, not an object",
			    ndjson_kind_name(top.kind));
		err->kind = ERR_DATA;
		return -1;
	}
	while ((rc = ndjson_obj_next(&r->it, &m, err)) == 1) {
		if ((e = map_find(&r->keys, m.key, m.key_len)) == NULL) {
			if (note_unknown(r, m.key, m.key_len) == -1)
				return errbuf_set(err, ERR_SYSTEM,
				    "out of memory");
			continue;
		}
		g = &r->groups[e->idx];
		for (i = 0; i < g->n; i++) {
			r->vals[g->cols[i]] = m.value;
			r->have[g->cols[i]] = 1;
		}
	}
	if (rc == -1) {
		if (err->kind != ERR_SYSTEM)
			err->kind = ERR_DATA;
		return -1;
	}
	for (i = 0; i < r->ncols; i++)
		if (r->cols[i].ncomp > 1)
			resolve(r, i, err);
	return 0;
}

int
rows_compact(struct buf *out, const char *p, size_t n)
{
	const char *end = p + n, *start = p;
	int in_str = 0;

	for (; p < end; p++) {
		char c = *p;
		if (in_str) {
			if (c == '\\')
				p++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			if (buf_append(out, start, (size_t)(p - start)) == -1)
				return -1;
			start = p + 1;
		}
	}
	return buf_append(out, start, (size_t)(end - start));
}

/* 1 when JSON text holds a whitespace byte (then outside its strings,
 * since raw whitespace other than ' ' cannot occur in a valid string and
 * ' ' is checked the slow way). */
static int
needs_compact(const char *p, size_t n)
{
	const char *end = p + n;
	int in_str = 0;

	for (; p < end; p++) {
		if (in_str) {
			if (*p == '\\')
				p++;
			else if (*p == '"')
				in_str = 0;
		} else if (*p == '"') {
			in_str = 1;
		} else if (*p == ' ' || *p == '\t' || *p == '\n' ||
		    *p == '\r') {
			return 1;
		}
	}
	return 0;
}

/*
 * The cell text of v: borrowed from the line when it can be, else built
 * in b (reset first). Returns 0 or -1 (memory).
 */
static int
cell_text(const struct ndjson_value *v, struct buf *b, const char **p,
    size_t *n)
{
	switch (v->kind) {
	case NDJSON_STRING:
		if (!v->escaped) {
			*p = v->text + 1;
			*n = v->len - 2;
			return 0;
		}
		buf_reset(b);
		if (ndjson_value_append(b, v) == -1)
			return -1;
		break;
	case NDJSON_ARRAY:
	case NDJSON_OBJECT:
		if (!needs_compact(v->text, v->len)) {
			*p = v->text;
			*n = v->len;
			return 0;
		}
		buf_reset(b);
		if (rows_compact(b, v->text, v->len) == -1)
			return -1;
		break;
	default:
		*p = v->text;
		*n = v->len;
		return 0;
	}
	*p = b->data != NULL ? b->data : "";
	*n = b->len;
	return 0;
}

int
rows_write(struct rows *r, struct csv_writer *w)
{
	const char *p;
	size_t i, n;

	for (i = 0; i < r->ncols; i++) {
		if (r->cols[i].hidden)
			continue;
		if (!r->have[i] || r->vals[i].kind == NDJSON_NULL) {
			p = r->null_text;
			n = r->null_len;
		} else if (cell_text(&r->vals[i], &r->scratch, &p, &n) == -1) {
			return -1;
		}
		if (csv_cell(w, p, n) == -1)
			return -1;
	}
	return csv_end_row(w);
}

int
rows_capture(struct rows *r, long idx, const char **p, size_t *n)
{
	size_t i = (size_t)idx;

	if (idx < 0 || i >= r->ncols || !r->have[i] ||
	    r->vals[i].kind == NDJSON_NULL)
		return 0;
	if (cell_text(&r->vals[i], &r->capbuf[i], p, n) == -1)
		return 0;
	return 1;
}
