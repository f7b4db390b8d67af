#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "consumer.h"
#include "ndjson.h"
#include "timetext.h"

/* ---- start positions ---- */

static int
valid_seq(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= sizeof(((struct consumer_start *)0)->seq))
		return 0;
	return strspn(s, "0123456789") == n;
}

int
consumer_parse_from(const char *s, long long now_ms,
    struct consumer_start *out, struct errbuf *err)
{
	long long ms;
	const char *seq = NULL;

	memset(out, 0, sizeof(*out));
	out->skip_through = CHECKPOINT_NO_SUBSEQ;
	if (strcmp(s, "trim-horizon") == 0) {
		out->type = KINESIS_TRIM_HORIZON;
	} else if (strcmp(s, "latest") == 0) {
		out->type = KINESIS_LATEST;
	} else if (strncmp(s, "at:", 3) == 0) {
		out->type = KINESIS_AT_SEQUENCE;
		seq = s + 3;
	} else if (strncmp(s, "after:", 6) == 0) {
		out->type = KINESIS_AFTER_SEQUENCE;
		seq = s + 6;
	} else if (s[0] == '-') {
		if (timetext_duration_ms(s + 1, &ms, err) == -1)
			return errbuf_prefix(err, "--from");
		out->type = KINESIS_AT_TIMESTAMP;
		out->at = (double)(now_ms - ms) / 1000.0;
	} else {
		out->type = KINESIS_AT_TIMESTAMP;
		if (consumer_parse_time(s, &out->at, err) == -1)
			return errbuf_set(err, ERR_USAGE, "--from '%s': not "
			    "trim-horizon, latest, a UTC time, -DURATION, "
			    "at:SEQ or after:SEQ", s);
	}
	if (seq != NULL) {
		if (!valid_seq(seq))
			return errbuf_set(err, ERR_USAGE, "--from '%s': not a "
			    "sequence number", s);
		memcpy(out->seq, seq, strlen(seq) + 1);
	}
	return 0;
}

int
consumer_start_from_checkpoint(const struct checkpoint_shard *cs,
    struct consumer_start *out)
{
	if (cs == NULL || cs->seq == NULL || !valid_seq(cs->seq))
		return 1;
	memset(out, 0, sizeof(*out));
	memcpy(out->seq, cs->seq, strlen(cs->seq) + 1);
	out->skip_through = cs->subseq;
	/* inside an aggregate: read that record again, skip what was done */
	out->type = cs->subseq == CHECKPOINT_NO_SUBSEQ ?
	    KINESIS_AFTER_SEQUENCE : KINESIS_AT_SEQUENCE;
	return 0;
}

/* ---- time ---- */

static void
civil_from_days(long long z, int *y, unsigned *m, unsigned *d)
{
	long long era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (long long)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (*m <= 2));
}

int
consumer_parse_time(const char *s, double *epoch, struct errbuf *err)
{
	double frac;
	time_t secs;

	if (timetext_iso8601(s, TIMETEXT_SHORT, &secs, &frac) == -1)
		return errbuf_set(err, ERR_USAGE, "'%s': not a UTC time like "
		    "2024-05-01T12:00:00Z", s);
	*epoch = (double)secs + frac;
	return 0;
}

void
consumer_format_time(double epoch, char out[CONSUMER_TIME_LEN])
{
	long long ms = llround(epoch * 1000.0), secs, days, rem;
	unsigned mo, d;
	int y;

	secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
	days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
	rem = secs - days * 86400;
	civil_from_days(days, &y, &mo, &d);
	/* a year beyond 9999 is cut; Kinesis never sends one */
	snprintf(out, CONSUMER_TIME_LEN, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ",
	    y % 100000, mo % 13, d % 32, (int)(rem / 3600),
	    (int)(rem / 60 % 60), (int)(rem % 60), (int)(ms - secs * 1000));
}

/* ---- the shard graph ---- */

static int
graph_add(struct consumer_graph *g, const struct kinesis_shard *ks)
{
	struct consumer_shard *s, **v;

	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		/* an array of pointers, each shard allocated on its own */
		v = realloc(g->v, cap * sizeof(struct consumer_shard *));
		if (v == NULL)
			return -1;
		g->v = v;
		g->cap = cap;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	snprintf(s->id, sizeof(s->id), "%s", ks->id);
	snprintf(s->parent, sizeof(s->parent), "%s", ks->parent);
	snprintf(s->adjacent_parent, sizeof(s->adjacent_parent), "%s",
	    ks->adjacent_parent);
	s->closed = ks->end_seq[0] != '\0';
	g->v[g->n++] = s;
	return 0;
}

int
consumer_graph_merge(struct consumer_graph *g,
    const struct kinesis_shard_list *l, size_t *added, struct errbuf *err)
{
	struct consumer_shard *s;
	size_t i, n = 0;

	for (i = 0; i < l->n; i++) {
		if ((s = consumer_graph_find(g, l->v[i].id)) != NULL) {
			if (l->v[i].end_seq[0] != '\0')
				s->closed = 1;
			continue;
		}
		if (graph_add(g, &l->v[i]) == -1)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
		n++;
	}
	if (added != NULL)
		*added = n;
	return 0;
}

struct consumer_shard *
consumer_graph_find(const struct consumer_graph *g, const char *id)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		if (strcmp(g->v[i]->id, id) == 0)
			return g->v[i];
	return NULL;
}

void
consumer_graph_free(struct consumer_graph *g)
{
	size_t i;

	if (g == NULL)
		return;
	for (i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
	memset(g, 0, sizeof(*g));
}

static int
parent_done(const struct consumer_graph *g, const char *id)
{
	const struct consumer_shard *p;

	if (id[0] == '\0' || (p = consumer_graph_find(g, id)) == NULL)
		return 1;
	return !p->selected || p->finished;
}

int
consumer_parents_done(const struct consumer_graph *g,
    const struct consumer_shard *s)
{
	return parent_done(g, s->parent) && parent_done(g, s->adjacent_parent);
}

long long
consumer_shard_number(const char *id)
{
	const char *p;
	long long n = 0;

	if (strncmp(id, "shardId-", 8) != 0 || id[8] == '\0')
		return -1;
	for (p = id + 8; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p) || n > 100000000000000LL)
			return -1;
		n = n * 10 + (*p - '0');
	}
	return n;
}

int
consumer_shard_in_slice(const char *id, size_t fallback_index, long i,
    long n)
{
	long long num = consumer_shard_number(id);

	if (num < 0)
		num = (long long)fallback_index;
	return num % n == i;
}

int
consumer_parse_slice(const char *s, long *i, long *n, struct errbuf *err)
{
	char *end;
	long a, b;

	a = strtol(s, &end, 10);
	if (end == s || *end != '/' || !isdigit((unsigned char)s[0]))
		goto bad;
	s = end + 1;
	b = strtol(s, &end, 10);
	if (end == s || *end != '\0' || !isdigit((unsigned char)s[0]) ||
	    b < 1 || a >= b || b > 1000000)
		goto bad;
	*i = a;
	*n = b;
	return 0;
bad:
	return errbuf_set(err, ERR_USAGE, "--shard-index '%s': not I/N with "
	    "0 <= I < N", s);
}

/* ---- pacing ---- */

long long
consumer_pace_next(long long call_ms, long long now_ms, size_t bytes,
    int caught_up, long long idle_ms)
{
	long long next = call_ms + CONSUMER_MIN_CALL_INTERVAL_MS;
	long long by_bytes = call_ms + (long long)((double)bytes * 1000.0 /
	    (double)CONSUMER_READ_BYTES_PER_SEC);

	if (by_bytes > next)
		next = by_bytes;
	if (caught_up && idle_ms > 0 && now_ms + idle_ms > next)
		next = now_ms + idle_ms;
	return next;
}

int
consumer_caught_up(long long millis_behind, size_t got, long limit)
{
	return millis_behind == 0 && got < (size_t)limit;
}

/* ---- output ---- */

/*
 * Appends validated JSON text on one line: a CR or LF can only be
 * whitespace between tokens in valid JSON (never inside a string), so
 * dropping them keeps every value, number digits included, as it was.
 */
static int
append_one_line(struct buf *b, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;

	while (p < end) {
		nl = p;
		while (nl < end && *nl != '\n' && *nl != '\r')
			nl++;
		if (nl > p && buf_append(b, p, (size_t)(nl - p)) == -1)
			return -1;
		p = nl + 1;
	}
	return 0;
}

static int
format_data(struct buf *out, const struct consumer_record *r,
    struct errbuf *err)
{
	size_t n = r->len, good;
	const unsigned char *nl, *nul;

	/* a record that already ends its line keeps that one newline */
	if (n > 0 && r->data[n - 1] == '\n')
		n--;
	/* the first problem in the record is the one reported */
	good = ndjson_utf8_prefix((const char *)r->data, n);
	nl = memchr(r->data, '\n', good);
	nul = memchr(r->data, '\0', nl != NULL ? (size_t)(nl - r->data) : good);
	if (nul != NULL) {
		errbuf_set(err, ERR_DATA, "NUL byte at byte %zu",
		    (size_t)(nul - r->data) + 1);
		return 1;
	}
	if (nl != NULL) {
		errbuf_set(err, ERR_DATA, "more than one line (newline at "
		    "byte %zu)", (size_t)(nl - r->data) + 1);
		return 1;
	}
	if (good != n) {
		errbuf_set(err, ERR_DATA, "not UTF-8 (byte %zu)", good + 1);
		return 1;
	}
	if (buf_append(out, r->data, n) == -1 || buf_putc(out, '\n') == -1)
		return -1;
	return 0;
}

/* The "data" member of an envelope: JSON, a string or base64. */
static int
envelope_data(struct buf *out, const struct consumer_record *r)
{
	struct ndjson_value top;
	struct errbuf e;
	const char *text = (const char *)r->data;

	errbuf_clear(&e);
	if (r->len > 0 && ndjson_validate(text, r->len, &top, &e) == 0) {
		if (buf_puts(out, ",\"data\":") == -1)
			return -1;
		return append_one_line(out, top.text, top.len);
	}
	if (ndjson_utf8_prefix(text, r->len) == r->len) {
		if (buf_puts(out, ",\"data\":") == -1)
			return -1;
		return ndjson_append_string_lossy(out, text, r->len);
	}
	if (buf_puts(out, ",\"data_b64\":\"") == -1 ||
	    base64_append(out, r->data, r->len) == -1)
		return -1;
	return buf_putc(out, '"');
}

static int
format_envelope(struct buf *out, const struct consumer_record *r)
{
	char t[CONSUMER_TIME_LEN];

	consumer_format_time(r->arrival, t);
	if (buf_puts(out, "{\"stream\":") == -1 ||
	    ndjson_append_string_lossy(out, r->stream, strlen(r->stream)) == -1 ||
	    buf_puts(out, ",\"shard\":") == -1 ||
	    ndjson_append_string_lossy(out, r->shard, strlen(r->shard)) == -1 ||
	    buf_printf(out, ",\"seq\":\"%s\",\"subseq\":", r->seq) == -1)
		return -1;
	if ((r->subseq < 0 ? buf_puts(out, "null") :
	    buf_printf(out, "%ld", r->subseq)) == -1)
		return -1;
	if (buf_printf(out, ",\"arrival\":\"%s\",\"key\":", t) == -1 ||
	    ndjson_append_string_lossy(out, r->key, r->key_len) == -1 ||
	    envelope_data(out, r) == -1 || buf_puts(out, "}\n") == -1)
		return -1;
	return 0;
}

static int
format_meta(struct buf *out, const struct consumer_record *r,
    struct errbuf *err)
{
	struct ndjson_value top;
	char t[CONSUMER_TIME_LEN];
	const char *inner;
	size_t start = out->len, k;

	if (ndjson_validate((const char *)r->data, r->len, &top, err) == -1) {
		err->kind = ERR_DATA;
		return 1;
	}
	if (top.kind != NDJSON_OBJECT) {
		errbuf_set(err, ERR_DATA, "a JSON %s, not an object",
		    ndjson_kind_name(top.kind));
		return 1;
	}
	/* the object without its closing brace, then our members */
	if (append_one_line(out, top.text, top.len - 1) == -1)
		goto nomem;
	inner = top.text + 1;
	for (k = 0; k < top.len - 2 && isspace((unsigned char)inner[k]); k++)
		;
	consumer_format_time(r->arrival, t);
	if (buf_puts(out, k == top.len - 2 ? "\"_shard\":" : ",\"_shard\":")
	    == -1 ||
	    ndjson_append_string_lossy(out, r->shard, strlen(r->shard)) == -1 ||
	    buf_printf(out, ",\"_seq\":\"%s\"", r->seq) == -1 ||
	    (r->subseq >= 0 && buf_printf(out, ",\"_subseq\":%ld",
	    r->subseq) == -1) ||
	    buf_printf(out, ",\"_arrival\":\"%s\",\"_key\":", t) == -1 ||
	    ndjson_append_string_lossy(out, r->key, r->key_len) == -1 ||
	    buf_puts(out, "}\n") == -1)
		goto nomem;
	return 0;
nomem:
	out->len = start;
	if (out->data != NULL)
		out->data[start] = '\0';
	return -1;
}

int
consumer_format_record(struct buf *out, enum consumer_format f,
    const struct consumer_record *r, struct errbuf *err)
{
	size_t start = out->len;
	int rc;

	switch (f) {
	case CONSUMER_DATA:
		rc = format_data(out, r, err);
		break;
	case CONSUMER_ENVELOPE:
		rc = format_envelope(out, r);
		break;
	default:
		rc = format_meta(out, r, err);
		break;
	}
	if (rc != 0 && out->data != NULL) {
		out->len = start;
		out->data[start] = '\0';
	}
	if (rc == -1)
		errbuf_set(err, ERR_SYSTEM, "out of memory");
	return rc;
}
