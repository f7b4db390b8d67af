/*
 * producer: batching, per-entry retries, in-order reports (see producer.h).
 *
 * Records live in a ring in input order; their bytes in arena chunks that
 * are released in the same order. Entries (what one PutRecords slot
 * carries) come from a pool and sit, while unresolved, on a list in the
 * order they were queued, which is the order batches take them in.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "base64.h"
#include "hash.h"
#include "kpl.h"
#include "ndjson.h"
#include "producer.h"
#include "retry.h"

#define DEFAULT_MAX_RECORDS 32768
#define DEFAULT_MAX_BYTES (64UL << 20)
#define CHUNK_BYTES (4UL << 20)
/* --ordered: latest entry per key hash, direct-mapped (see order_link) */
#define ORDER_SLOTS 65536
#define NONE UINT32_MAX

/* E_LANDED: an aggregate stored on another shard than the one it was built
 * for; its sub-records wait for the new shard map (producer_remap). */
enum estate { E_FREE, E_OPEN, E_QUEUED, E_INFLIGHT, E_RETRY, E_LANDED,
	E_DONE, E_FAILED };

struct chunk {
	struct chunk *next;
	size_t cap, used, live;
	char mem[];
};

struct rec {
	const char *data;
	size_t len;
	const char *key;
	size_t key_len;
	struct chunk *chunk;
	unsigned long line;
	unsigned file;
	uint32_t entry;			/* NONE: failed before any call */
	uint32_t subseq;		/* place inside an aggregate */
	const char *fail_code;		/* entry == NONE */
	char *fail_msg;
};

struct entry {
	enum estate state;
	uint32_t gen;			/* bumped on reuse */
	uint32_t refs;			/* records not yet reported */
	uint32_t prev, next;		/* unresolved list */
	uint32_t dep, dep_gen;		/* --ordered: must resolve first */
	const char *data;
	size_t len;
	const char *key;
	size_t key_len;
	struct buf agg;			/* aggregate bytes, kept for reuse */
	int aggregated;
	int attempts;
	long long queued_at, first_sent, retry_at;
	enum errbuf_kind kind;
	char shard[PRODUCER_SHARD_MAX];
	char predicted[PRODUCER_SHARD_MAX];	/* an aggregate's shard, or "" */
	char seq[PRODUCER_SEQ_MAX];
	char code[PRODUCER_CODE_MAX];
	char *message;			/* failed */
};

struct open_agg {
	struct kpl_agg a;
	uint32_t entry;			/* NONE when none open */
	uint32_t nrec;
	long long first_at;
};

struct producer {
	struct producer_config c;
	struct rec *ring;
	size_t cap;
	unsigned long long head, tail;	/* oldest unreported, next free */
	int release_head;		/* head was handed out: release it */
	struct chunk *chunks, *last, *spare;
	size_t arena_bytes;
	struct entry *e;
	uint32_t *free_ids;
	size_t nfree;
	uint32_t list_head, list_tail;
	uint32_t *order_id, *order_gen;
	struct open_agg *open;
	int remap;			/* an aggregate landed off its shard */
	struct kpl_agg empty;		/* for the size of a lone record */
	uint64_t rng;
	struct producer_stats st;
};

/* ---- small pieces ---- */

/* xorshift64*: jitter only needs to spread retries apart */
static uint32_t
rnd(struct producer *p)
{
	p->rng ^= p->rng >> 12;
	p->rng ^= p->rng << 25;
	p->rng ^= p->rng >> 27;
	return (uint32_t)((p->rng * 2685821657736338717ULL) >> 32);
}

/* ---- arena ---- */

static char *
arena_alloc(struct producer *p, size_t n, struct chunk **owner)
{
	struct chunk *c = p->last;
	size_t cap;

	if (c == NULL || c->cap - c->used < n) {
		cap = n > CHUNK_BYTES ? n : CHUNK_BYTES;
		if (p->spare != NULL && p->spare->cap >= cap) {
			c = p->spare;
			p->spare = NULL;
		} else if ((c = malloc(sizeof(*c) + cap)) == NULL)
			return NULL;
		else {
			c->cap = cap;
			p->arena_bytes += cap;
		}
		c->next = NULL;
		c->used = c->live = 0;
		if (p->last != NULL)
			p->last->next = c;
		else
			p->chunks = c;
		p->last = c;
	}
	c->live++;
	*owner = c;
	c->used += n;
	return c->mem + c->used - n;
}

/* Records are released in the order they were allocated, so a chunk
 * that empties is the first one (unless it is still being filled). */
static void
arena_release(struct producer *p, struct chunk *c)
{
	if (c == NULL || --c->live > 0 || c == p->last)
		return;
	if (c == p->chunks)
		p->chunks = c->next;
	else {
		struct chunk *q = p->chunks;
		while (q != NULL && q->next != c)
			q = q->next;
		if (q != NULL)
			q->next = c->next;
	}
	if (p->spare == NULL && c->cap == CHUNK_BYTES) {
		p->spare = c;
		return;
	}
	p->arena_bytes -= c->cap;
	free(c);
}

/* ---- entries ---- */

static uint32_t
entry_new(struct producer *p)
{
	struct entry *e;
	uint32_t id;

	if (p->nfree == 0)
		return NONE;
	id = p->free_ids[--p->nfree];
	e = &p->e[id];
	e->state = E_OPEN;
	e->refs = 0;
	e->prev = e->next = e->dep = NONE;
	e->aggregated = 0;
	e->attempts = 0;
	e->first_sent = e->retry_at = 0;
	e->kind = ERR_NONE;
	e->shard[0] = e->seq[0] = e->code[0] = e->predicted[0] = '\0';
	return id;
}

static void
entry_free(struct producer *p, uint32_t id)
{
	struct entry *e = &p->e[id];

	free(e->message);
	e->message = NULL;
	e->state = E_FREE;
	e->gen++;
	p->free_ids[p->nfree++] = id;
}

static void
list_append(struct producer *p, uint32_t id)
{
	struct entry *e = &p->e[id];

	e->prev = p->list_tail;
	e->next = NONE;
	if (p->list_tail != NONE)
		p->e[p->list_tail].next = id;
	else
		p->list_head = id;
	p->list_tail = id;
}

static void
list_remove(struct producer *p, uint32_t id)
{
	struct entry *e = &p->e[id];

	if (e->prev != NONE)
		p->e[e->prev].next = e->next;
	else
		p->list_head = e->next;
	if (e->next != NONE)
		p->e[e->next].prev = e->prev;
	else
		p->list_tail = e->prev;
	e->prev = e->next = NONE;
}

/*
 * --ordered: the entry waits for the latest earlier entry whose order hash
 * fell into the same slot. A collision only adds a wait on an unrelated
 * earlier entry; the chain stays sound because an entry is sent only after
 * its own predecessor resolved.
 */
static void
order_link(struct producer *p, uint32_t id, uint64_t h)
{
	size_t s = (size_t)(h & (ORDER_SLOTS - 1));

	p->e[id].dep = p->order_id[s];
	p->e[id].dep_gen = p->order_gen[s];
	p->order_id[s] = id;
	p->order_gen[s] = p->e[id].gen;
}

static int
dep_resolved(const struct producer *p, const struct entry *e)
{
	const struct entry *d;

	if (!p->c.ordered || e->dep == NONE)
		return 1;
	d = &p->e[e->dep];
	return d->gen != e->dep_gen || d->state == E_DONE ||
	    d->state == E_FAILED;
}

static void
entry_queue(struct producer *p, uint32_t id, long long at, uint64_t h)
{
	p->e[id].state = E_QUEUED;
	p->e[id].queued_at = at;
	list_append(p, id);
	if (p->c.ordered)
		order_link(p, id, h);
}

static void
entry_fail(struct producer *p, uint32_t id, enum errbuf_kind kind,
    const char *code, const char *message)
{
	struct entry *e = &p->e[id];

	if (e->state == E_QUEUED || e->state == E_INFLIGHT ||
	    e->state == E_RETRY)
		list_remove(p, id);
	e->state = E_FAILED;
	e->kind = kind;
	if (code != e->code)
		snprintf(e->code, sizeof(e->code), "%s", code);
	free(e->message);
	e->message = strdup(message);
}

/* ---- adding records ---- */

struct producer *
producer_new(const struct producer_config *c, struct errbuf *err)
{
	struct producer *p = calloc(1, sizeof(*p));
	size_t i, ng = c->ngroups > 0 ? c->ngroups : 1;

	if (p == NULL)
		goto nomem;
	p->c = *c;
	p->c.ngroups = ng;
	if (p->c.max_records == 0)
		p->c.max_records = DEFAULT_MAX_RECORDS;
	if (p->c.max_bytes == 0)
		p->c.max_bytes = DEFAULT_MAX_BYTES;
	if (p->c.batch_records == 0 ||
	    p->c.batch_records > KINESIS_MAX_BATCH_RECORDS)
		p->c.batch_records = KINESIS_MAX_BATCH_RECORDS;
	if (p->c.max_attempts < 1)
		p->c.max_attempts = 1;
	p->cap = p->c.max_records;
	p->rng = c->seed != 0 ? c->seed : 0x9E3779B97F4A7C15ULL;
	p->list_head = p->list_tail = NONE;
	p->ring = calloc(p->cap, sizeof(*p->ring));
	p->e = calloc(p->cap, sizeof(*p->e));
	p->free_ids = calloc(p->cap, sizeof(*p->free_ids));
	p->order_id = malloc(ORDER_SLOTS * sizeof(*p->order_id));
	p->order_gen = calloc(ORDER_SLOTS, sizeof(*p->order_gen));
	p->open = calloc(ng, sizeof(*p->open));
	if (p->ring == NULL || p->e == NULL || p->free_ids == NULL ||
	    p->order_id == NULL || p->order_gen == NULL || p->open == NULL)
		goto nomem;
	for (i = 0; i < ORDER_SLOTS; i++)
		p->order_id[i] = NONE;
	/* pop order 0, 1, 2...: makes tests easier to read */
	for (i = 0; i < p->cap; i++)
		p->free_ids[i] = (uint32_t)(p->cap - 1 - i);
	p->nfree = p->cap;
	for (i = 0; i < ng; i++) {
		kpl_agg_init(&p->open[i].a);
		p->open[i].entry = NONE;
	}
	kpl_agg_init(&p->empty);
	return p;
nomem:
	producer_free(p);
	errbuf_set(err, ERR_SYSTEM, "out of memory");
	return NULL;
}

void
producer_free(struct producer *p)
{
	struct chunk *c, *n;
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; p->ring != NULL && i < p->cap; i++)
		free(p->ring[i].fail_msg);
	for (i = 0; p->e != NULL && i < p->cap; i++) {
		free(p->e[i].message);
		buf_free(&p->e[i].agg);
	}
	for (i = 0; p->open != NULL && i < p->c.ngroups; i++)
		kpl_agg_free(&p->open[i].a);
	kpl_agg_free(&p->empty);
	for (c = p->chunks; c != NULL; c = n) {
		n = c->next;
		free(c);
	}
	free(p->spare);
	free(p->ring);
	free(p->e);
	free(p->free_ids);
	free(p->order_id);
	free(p->order_gen);
	free(p->open);
	free(p);
}

int
producer_full(const struct producer *p)
{
	return p->tail - p->head >= p->cap || p->nfree == 0 ||
	    p->arena_bytes > p->c.max_bytes;
}

int
producer_idle(const struct producer *p)
{
	/* the last record handed out is released on the next call */
	return p->tail - p->head == (unsigned long long)p->release_head;
}

/* A ring slot with data (and key) copied into the arena. */
static struct rec *
rec_new(struct producer *p, const void *data, size_t len, const char *key,
    size_t key_len, unsigned file, unsigned long line, struct errbuf *err)
{
	struct rec *r;
	char *mem;

	if (p->tail - p->head >= p->cap) {
		errbuf_set(err, ERR_SYSTEM, "producer: %zu records held",
		    p->cap);
		return NULL;
	}
	r = &p->ring[p->tail % p->cap];
	if ((mem = arena_alloc(p, len + key_len + 1, &r->chunk)) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	if (len > 0)
		memcpy(mem, data, len);
	if (key_len > 0)
		memcpy(mem + len, key, key_len);
	r->data = mem;
	r->len = len;
	r->key = mem + len;
	r->key_len = key_len;
	r->line = line;
	r->file = file;
	r->entry = NONE;
	r->subseq = 0;
	r->fail_code = NULL;
	free(r->fail_msg);
	r->fail_msg = NULL;
	p->tail++;
	p->st.records++;
	return r;
}

int
producer_add_failed(struct producer *p, const void *data, size_t len,
    unsigned file, unsigned long line, const char *code,
    const char *message, struct errbuf *err)
{
	struct rec *r = rec_new(p, data, data != NULL ? len : 0, NULL, 0, file,
	    line, err);

	if (r == NULL)
		return -1;
	if (data == NULL)
		r->data = NULL;
	r->fail_code = code;
	r->fail_msg = strdup(message != NULL ? message : "");
	return 0;
}

/* Turns the group's open aggregate into a queued entry. */
static int
agg_close(struct producer *p, struct open_agg *o, size_t group,
    struct errbuf *err)
{
	uint32_t id = o->entry;
	struct entry *e = &p->e[id];

	if (id == NONE)
		return 0;
	o->entry = NONE;
	/* a lone record goes as itself: nothing to unpack for the reader */
	if (o->nrec > 1) {
		buf_reset(&e->agg);
		if (kpl_agg_finish(&o->a, &e->agg, err) == -1)
			return -1;
		e->data = e->agg.data;
		e->len = e->agg.len;
		e->aggregated = 1;
		if (p->c.map != NULL && group < p->c.map->n)
			snprintf(e->predicted, sizeof(e->predicted), "%s",
			    p->c.map->v[group].id);
	}
	kpl_agg_reset(&o->a);
	entry_queue(p, id, o->first_at, group * 0x9E3779B97F4A7C15ULL + 1);
	return 0;
}

static int
agg_add(struct producer *p, struct rec *r, size_t group, long long now,
    struct errbuf *err)
{
	struct open_agg *o = &p->open[group];
	struct entry *e;

	if (o->entry != NONE && kpl_agg_size_with(&o->a, r->key_len, r->len)
	    + p->e[o->entry].key_len > p->c.aggregate_size &&
	    agg_close(p, o, group, err) == -1)
		return -1;
	if (o->entry == NONE) {
		if ((o->entry = entry_new(p)) == NONE)
			return errbuf_set(err, ERR_SYSTEM, "producer: no entry");
		e = &p->e[o->entry];
		e->data = r->data;	/* until a second record joins */
		e->len = r->len;
		e->key = r->key;
		e->key_len = r->key_len;
		o->first_at = now;
		o->nrec = 0;
	}
	if (kpl_agg_add(&o->a, r->key, r->key_len, r->data, r->len, err) == -1)
		return -1;
	r->entry = o->entry;
	r->subseq = o->nrec++;
	p->e[o->entry].refs++;
	return 0;
}

/* Why a record cannot be a Kinesis record, or NULL. */
static const char *
refusal(size_t len, const char *key, size_t key_len, char *msg, size_t n)
{
	size_t chars = ndjson_utf8_chars(key, key_len);

	if (chars < 1 || chars > KINESIS_MAX_KEY_CHARS) {
		snprintf(msg, n, "partition key is %zu characters, not 1 to %d",
		    chars, KINESIS_MAX_KEY_CHARS);
		return PRODUCER_E_KEY;
	}
	if (len + key_len > KINESIS_MAX_RECORD_BYTES) {
		snprintf(msg, n, "record is %zu bytes with its key, over the "
		    "%lu byte limit", len + key_len,
		    (unsigned long)KINESIS_MAX_RECORD_BYTES);
		return PRODUCER_E_TOOLARGE;
	}
	return NULL;
}

int
producer_add(struct producer *p, const void *data, size_t len,
    const char *key, size_t key_len, size_t group, unsigned file,
    unsigned long line, long long now, struct errbuf *err)
{
	struct rec *r;
	const char *code;
	char msg[128];
	uint32_t id;

	if ((code = refusal(len, key, key_len, msg, sizeof(msg))) != NULL)
		return producer_add_failed(p, data, len, file, line, code, msg,
		    err);
	if ((r = rec_new(p, data, len, key, key_len, file, line, err)) == NULL)
		return -1;
	p->st.bytes += len;
	if (p->c.aggregate_size > 0 && group < p->c.ngroups &&
	    kpl_agg_size_with(&p->empty, key_len, len) + key_len <=
	    p->c.aggregate_size)
		return agg_add(p, r, group, now, err);
	if ((id = entry_new(p)) == NONE)
		return errbuf_set(err, ERR_SYSTEM, "producer: no entry");
	p->e[id].data = r->data;
	p->e[id].len = len;
	p->e[id].key = r->key;
	p->e[id].key_len = key_len;
	p->e[id].refs = 1;
	r->entry = id;
	entry_queue(p, id, now, hash_fnv1a64(r->key, key_len));
	return 0;
}

/* ---- input lines ---- */

#define RANDOM_KEY_LEN 16	/* hex digits: 64 random bits */

/* xorshift64*: spreads random keys evenly over the hash space */
static uint64_t
next_random(struct producer_intake *in)
{
	in->rng ^= in->rng >> 12;
	in->rng ^= in->rng << 25;
	in->rng ^= in->rng >> 27;
	return in->rng * 2685821657736338717ULL;
}

/*
 * The partition key of a valid JSON line into in->key. Returns 1, 0 when
 * the record has no usable key (*why set), -1 when the line is invalid.
 */
static int
key_of(struct producer_intake *in, const char *s, size_t n, const char **why,
    struct errbuf *err)
{
	struct ndjson_value v;
	size_t got;
	int rc;

	if ((rc = ndjson_lookup(s, n, in->key_field, &v, err)) != 1) {
		snprintf(in->why, sizeof(in->why), "no field '%s' for the "
		    "partition key", in->key_field);
		*why = in->why;
		return rc;
	}
	buf_reset(&in->key);
	switch (v.kind) {
	case NDJSON_STRING:
		if (buf_reserve(&in->key, v.len + 1) == -1)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
		got = ndjson_string_decode(v.text, v.len, in->key.data);
		if (got == (size_t)-1)
			return errbuf_set(err, ERR_DATA, "bad key string");
		in->key.len = got;
		return 1;
	case NDJSON_NUMBER:
	case NDJSON_TRUE:
	case NDJSON_FALSE:
		if (buf_append(&in->key, v.text, v.len) == -1)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
		return 1;
	default:
		*why = "partition key field is not a string, number or boolean";
		return 0;
	}
}

static int
refuse_line(struct producer *p, const char *s, size_t n, unsigned file,
    unsigned long line, const char *code, const char *msg,
    struct errbuf *err)
{
	return producer_add_failed(p, s, n, file, line, code, msg, err) ==
	    -1 ? -1 : 1;
}

int
producer_add_line(struct producer *p, struct producer_intake *in,
    const char *s, size_t n, unsigned file, unsigned long line,
    long long now, struct errbuf *err)
{
	const char *key, *why = NULL;
	char rk[RANDOM_KEY_LEN + 1];
	size_t klen, group = 0;
	struct errbuf e;
	int rc;

	if (n == 0 || (!in->raw && strspn(s, " \t\r") == n))
		return 0;
	errbuf_clear(&e);
	if (in->key_field != NULL) {
		if ((rc = key_of(in, s, n, &why, &e)) == -1)
			return e.kind == ERR_SYSTEM ? (*err = e, -1) :
			    refuse_line(p, s, n, file, line, PRODUCER_E_JSON,
			    e.msg, err);
		if (rc == 0)
			return refuse_line(p, s, n, file, line,
			    PRODUCER_E_KEY, why, err);
		key = in->key.data;
		klen = in->key.len;
	} else {
		if (!in->raw && ndjson_validate(s, n, NULL, &e) == -1)
			return refuse_line(p, s, n, file, line,
			    PRODUCER_E_JSON, e.msg, err);
		if (in->key_fixed != NULL) {
			key = in->key_fixed;
			klen = strlen(key);
		} else {
			snprintf(rk, sizeof(rk), "%016llx",
			    (unsigned long long)next_random(in));
			key = rk;
			klen = RANDOM_KEY_LEN;
		}
	}
	if (in->map != NULL)
		group = producer_shard_group(in->map, key, klen);
	return producer_add(p, s, n, key, klen, group, file, line, now, err);
}

/* Adds the line just handed out of r, or the failure of a too long one;
 * 1 when it was refused. */
static int
drain_line(struct producer *p, struct producer_intake *in,
    struct ndjson_reader *r, int rc, const char *s, size_t n, unsigned file,
    long long now, struct errbuf *err)
{
	char msg[96];

	if (rc == NDJSON_LINE)
		return producer_add_line(p, in, s, n, file,
		    ndjson_reader_lineno(r), now, err);
	snprintf(msg, sizeof(msg), "line longer than %zu bytes",
	    ndjson_reader_max_line(r));
	return refuse_line(p, NULL, 0, file, ndjson_reader_lineno(r),
	    PRODUCER_E_LINE, msg, err);
}

int
producer_drain(struct producer *p, struct producer_intake *in,
    struct ndjson_reader *r, unsigned file, long long now,
    struct errbuf *err)
{
	const char *s;
	size_t n;
	int rc;

	while (!producer_full(p)) {
		rc = ndjson_reader_next(r, &s, &n, err);
		if (rc != NDJSON_LINE && rc != NDJSON_TOOLONG)
			return rc;
		if ((rc = drain_line(p, in, r, rc, s, n, file, now, err)) ==
		    -1)
			return -1;
		in->refused += (unsigned long)rc;
		if (rc == 1 && in->strict)
			return NDJSON_LINE;
	}
	return NDJSON_LINE;
}

void
producer_intake_free(struct producer_intake *in)
{
	buf_free(&in->key);
}

/* ---- batches ---- */

static void
wake_min(long long *w, long long t)
{
	if (*w < 0 || t < *w)
		*w = t;
}

/* Closes the aggregates that have waited long enough. */
static int
close_due(struct producer *p, long long now, int flush, long long *wake,
    struct errbuf *err)
{
	size_t g;

	for (g = 0; g < p->c.ngroups; g++) {
		struct open_agg *o = &p->open[g];
		if (o->entry == NONE)
			continue;
		if (flush || o->first_at + p->c.linger_ms <= now) {
			if (agg_close(p, o, g, err) == -1)
				return -1;
		} else
			wake_min(wake, o->first_at + p->c.linger_ms);
	}
	return 0;
}

/* Picks entries into call; returns 1 when the batch should go now. */
static int
select_entries(struct producer *p, long long now, int flush,
    struct producer_call *call, long long *wake)
{
	size_t bytes = 0, n = 0;
	int due = flush;
	uint32_t id;

	for (id = p->list_head; id != NONE && n < p->c.batch_records;
	    id = p->e[id].next) {
		struct entry *e = &p->e[id];
		if (e->state == E_RETRY) {
			if (e->retry_at > now) {
				wake_min(wake, e->retry_at);
				continue;
			}
			due = 1;
		} else if (e->state != E_QUEUED)
			continue;
		if (!dep_resolved(p, e))
			continue;
		if (e->state == E_QUEUED) {
			if (e->queued_at + p->c.linger_ms <= now)
				due = 1;
			else
				wake_min(wake, e->queued_at + p->c.linger_ms);
		}
		if (bytes + e->len + e->key_len > KINESIS_MAX_BATCH_BYTES) {
			due = 1;
			break;
		}
		bytes += e->len + e->key_len;
		call->ids[n++] = id;
	}
	call->n = n;
	return due || n == p->c.batch_records;
}

int
producer_next_batch(struct producer *p, long long now, int flush,
    const char *stream, struct kinesis_batch *b, struct producer_call *call,
    long long *wake_at, struct errbuf *err)
{
	size_t i;

	*wake_at = -1;
	call->n = 0;
	if (close_due(p, now, flush, wake_at, err) == -1)
		return -1;
	if (!select_entries(p, now, flush, call, wake_at) || call->n == 0) {
		call->n = 0;
		return 0;
	}
	if (kinesis_batch_begin(b, stream, err) == -1)
		return -1;
	for (i = 0; i < call->n; i++) {
		struct entry *e = &p->e[call->ids[i]];
		if (kinesis_batch_add(b, e->data, e->len, e->key, e->key_len,
		    p->c.hash_key, err) == -1)
			return -1;
		if (e->attempts > 0)
			p->st.retries++;
		if (e->attempts++ == 0)
			e->first_sent = now;
		e->state = E_INFLIGHT;
	}
	if (kinesis_batch_end(b, err) == -1)
		return -1;
	p->st.calls++;
	p->st.entries_sent += call->n;
	return (int)call->n;
}

/* ---- answers ---- */

/*
 * One backoff for all the entries of a call that go again, so that they
 * go again together. A draw per entry would scatter a failed call of 500
 * records over the whole backoff range, into hundreds of small calls (more
 * requests to a service that just asked for fewer), and give each record
 * its own chance to be the straggler that holds back every later report.
 * The most-tried entry sets the ceiling. failed: which entries count, or
 * NULL for all.
 */
static long long
call_backoff(struct producer *p, const struct producer_call *call,
    const struct kinesis_put_result *failed, int throttle,
    long retry_after_ms)
{
	int attempts = 1;
	size_t i;

	for (i = 0; i < call->n; i++)
		if ((failed == NULL || failed[i].error_code[0] != '\0') &&
		    p->e[call->ids[i]].attempts > attempts)
			attempts = p->e[call->ids[i]].attempts;
	return retry_delay_ms(&retry_aws_standard, attempts, throttle,
	    retry_after_ms, rnd(p));
}

/* A failed attempt: again after delay, or given up. */
static void
schedule(struct producer *p, uint32_t id, const char *code, const char *msg,
    const struct producer_call_error *ce, long long delay, long long now)
{
	struct entry *e = &p->e[id];
	char why[AWS_MESSAGE_MAX + 64];

	if (!ce->retryable) {
		entry_fail(p, id, ce->kind, code, msg);
		return;
	}
	if (e->attempts >= p->c.max_attempts) {
		snprintf(why, sizeof(why), "%s%s(%d attempts)", msg,
		    msg[0] != '\0' ? " " : "", e->attempts);
		entry_fail(p, id, ERR_TEMP, code, why);
		return;
	}
	if (p->c.timeout_ms > 0 && now + delay - e->first_sent >
	    p->c.timeout_ms) {
		snprintf(why, sizeof(why), "%s%s(delivery timeout after %d "
		    "attempts)", msg, msg[0] != '\0' ? " " : "", e->attempts);
		entry_fail(p, id, ERR_TEMP, code, why);
		return;
	}
	snprintf(e->code, sizeof(e->code), "%s", code);
	e->state = E_RETRY;
	e->retry_at = now + delay;
}

void
producer_call_done(struct producer *p, const struct producer_call *call,
    const struct kinesis_put_result *results, long long now)
{
	struct producer_call_error ce;
	long long delay = 0;
	int failed = 0, throttled = 0;
	size_t i;

	for (i = 0; i < call->n; i++)
		if (results[i].error_code[0] != '\0') {
			failed = 1;
			throttled |= aws_error_is_throttle(results[i].error_code);
		}
	if (failed)
		delay = call_backoff(p, call, results, throttled, -1);
	for (i = 0; i < call->n; i++) {
		const struct kinesis_put_result *r = &results[i];
		uint32_t id = call->ids[i];
		struct entry *e = &p->e[id];
		if (r->error_code[0] == '\0') {
			list_remove(p, id);
			e->state = E_DONE;
			memcpy(e->shard, r->shard, sizeof(e->shard));
			memcpy(e->seq, r->seq, sizeof(e->seq));
			if (e->predicted[0] != '\0' &&
			    strcmp(e->predicted, r->shard) != 0) {
				e->state = E_LANDED;
				p->remap = 1;
				p->st.landed++;
			}
			continue;
		}
		memset(&ce, 0, sizeof(ce));
		ce.throttle = aws_error_is_throttle(r->error_code);
		/* per-entry codes: throughput and InternalFailure are worth
		 * another try, anything else (KMS...) is not */
		ce.retryable = aws_should_retry(400, r->error_code, ERR_NONE);
		ce.kind = ERR_DATA;
		ce.retry_after_ms = -1;
		if (ce.throttle)
			p->st.throttles++;
		schedule(p, id, r->error_code, r->error_message, &ce, delay,
		    now);
	}
}

void
producer_call_failed(struct producer *p, const struct producer_call *call,
    const struct producer_call_error *ce, long long now)
{
	long long delay = call_backoff(p, call, NULL, ce->throttle,
	    ce->retry_after_ms);
	size_t i;

	if (ce->throttle)
		p->st.throttles++;
	for (i = 0; i < call->n; i++)
		schedule(p, call->ids[i], ce->code, ce->message, ce, delay,
		    now);
}

/* Landed aggregates that no new map will sort out: some sub-records may
 * lie outside their shard's range (where the KCL drops them), so every
 * record of them is reported, to be sent again. */
static void
abandon_landed(struct producer *p, enum errbuf_kind kind)
{
	char why[PRODUCER_SHARD_MAX * 2 + 96];
	size_t i;

	for (i = 0; i < p->cap; i++) {
		struct entry *e = &p->e[i];
		if (e->state != E_LANDED)
			continue;
		snprintf(why, sizeof(why), "aggregate stored on %s, built for "
		    "%s; the shard map could not be read again", e->shard,
		    e->predicted);
		entry_fail(p, (uint32_t)i, kind, PRODUCER_E_WRONG_SHARD, why);
	}
}

void
producer_abandon(struct producer *p, const char *code, const char *message,
    enum errbuf_kind kind)
{
	char why[AWS_MESSAGE_MAX + 64];
	size_t g;

	for (g = 0; g < p->c.ngroups; g++) {
		struct open_agg *o = &p->open[g];
		if (o->entry == NONE)
			continue;
		entry_fail(p, o->entry, kind, code, message);
		kpl_agg_reset(&o->a);
		o->entry = NONE;
	}
	abandon_landed(p, kind);
	while (p->list_head != NONE) {
		uint32_t id = p->list_head;
		struct entry *e = &p->e[id];
		/* the last error seen says why it was not done yet */
		if (e->code[0] != '\0') {
			snprintf(why, sizeof(why), "%s (last error: %s)",
			    message, e->code);
			entry_fail(p, id, kind, code, why);
		} else
			entry_fail(p, id, kind, code, message);
	}
}

/* ---- reports ---- */

static void
release_head(struct producer *p)
{
	struct rec *r = &p->ring[p->head % p->cap];

	if (r->entry != NONE && --p->e[r->entry].refs == 0)
		entry_free(p, r->entry);
	free(r->fail_msg);
	r->fail_msg = NULL;
	arena_release(p, r->chunk);
	r->chunk = NULL;
	p->head++;
	p->release_head = 0;
}

int
producer_next_report(struct producer *p, struct producer_report *out)
{
	const struct entry *e;
	struct rec *r;

	if (p->release_head)
		release_head(p);
	if (p->head == p->tail)
		return 0;
	r = &p->ring[p->head % p->cap];
	e = r->entry != NONE ? &p->e[r->entry] : NULL;
	if (e != NULL && e->state != E_DONE && e->state != E_FAILED)
		return 0;
	memset(out, 0, sizeof(*out));
	out->file = r->file;
	out->line = r->line;
	out->data = r->data;
	out->len = r->len;
	out->subseq = e != NULL && e->aggregated ? (long)r->subseq : -1;
	out->attempts = e != NULL ? e->attempts : 0;
	if (e != NULL && e->state == E_DONE) {
		out->delivered = 1;
		out->shard = e->shard;
		out->seq = e->seq;
		p->st.delivered++;
	} else {
		out->code = e != NULL ? e->code : r->fail_code;
		out->message = e != NULL ? e->message : r->fail_msg;
		if (out->message == NULL)
			out->message = "";
		out->kind = e != NULL ? e->kind : ERR_DATA;
		p->st.failed++;
	}
	p->release_head = 1;
	return 1;
}

const struct producer_stats *
producer_stats(const struct producer *p)
{
	return &p->st;
}

/* Appends the record as a JSON string, or as base64 under "data_b64"
 * when it is not UTF-8. */
static int
put_data(struct buf *b, const char *data, size_t len)
{
	size_t save = b->len;

	if (buf_puts(b, ",\"data\":") == 0 &&
	    ndjson_append_string(b, data, len) == 0)
		return 0;
	b->len = save;
	if (buf_puts(b, ",\"data_b64\":\"") == -1 ||
	    base64_append(b, data, len) == -1)
		return -1;
	return buf_putc(b, '"');
}

static int
put_str(struct buf *b, const char *name, const char *s)
{
	return buf_printf(b, ",\"%s\":", name) == -1 ? -1 :
	    ndjson_append_string(b, s, strlen(s));
}

int
producer_report_tee(struct buf *b, const struct producer_report *r,
    const char *file)
{
	if (buf_printf(b, "{\"line\":%lu", r->line) == -1 ||
	    (file != NULL && put_str(b, "file", file) == -1))
		return -1;
	if (r->delivered) {
		if (put_str(b, "shard", r->shard) == -1 ||
		    put_str(b, "seq", r->seq) == -1 ||
		    (r->subseq >= 0 && buf_printf(b, ",\"subseq\":%ld",
		    r->subseq) == -1))
			return -1;
	} else if (put_str(b, "error", r->code) == -1)
		return -1;
	return buf_printf(b, ",\"attempts\":%d}\n", r->attempts);
}

int
producer_report_dead_letter(struct buf *b, const struct producer_report *r,
    const char *file)
{
	if (buf_printf(b, "{\"line\":%lu", r->line) == -1 ||
	    put_str(b, "file", file) == -1 ||
	    put_str(b, "error", r->code) == -1 ||
	    put_str(b, "message", r->message) == -1 ||
	    (r->data != NULL ? put_data(b, r->data, r->len) :
	    buf_puts(b, ",\"data\":null")) == -1)
		return -1;
	return buf_puts(b, "}\n");
}

/* ---- shard map ---- */

static int
shard_cmp(const void *a, const void *b)
{
	return kinesis_hash_cmp(((const struct kinesis_shard *)a)->hash_start,
	    ((const struct kinesis_shard *)b)->hash_start);
}

int
producer_shard_map_init(struct producer_shard_map *m,
    const struct kinesis_shard_list *l, struct errbuf *err)
{
	size_t i;

	m->n = 0;
	if ((m->v = calloc(l->n + 1, sizeof(*m->v))) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	for (i = 0; i < l->n; i++)
		if (l->v[i].end_seq[0] == '\0')	/* open shards only */
			m->v[m->n++] = l->v[i];
	qsort(m->v, m->n, sizeof(*m->v), shard_cmp);
	return 0;
}

size_t
producer_shard_group(const struct producer_shard_map *m, const char *key,
    size_t key_len)
{
	char h[40];
	size_t lo = 0, hi = m->n;

	if (m->n == 0)
		return 0;
	kinesis_key_hash(key, key_len, h);
	/* the last shard whose range starts at or below h */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (kinesis_hash_cmp(m->v[mid].hash_start, h) <= 0)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void
producer_shard_map_free(struct producer_shard_map *m)
{
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* ---- resharding ---- */

int
producer_needs_map(const struct producer *p)
{
	return p->remap;
}

/* The open aggregates are emptied (their entries stay E_OPEN until their
 * records are taken out) and the groups become those of the new map. */
static int
regroup(struct producer *p, size_t ng, struct errbuf *err)
{
	struct open_agg *v;
	size_t g;

	for (g = 0; g < p->c.ngroups; g++) {
		kpl_agg_reset(&p->open[g].a);
		p->open[g].entry = NONE;
	}
	if (ng > p->c.ngroups) {
		if ((v = realloc(p->open, ng * sizeof(*v))) == NULL)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
		p->open = v;
		for (g = p->c.ngroups; g < ng; g++) {
			memset(&v[g], 0, sizeof(v[g]));
			kpl_agg_init(&v[g].a);
			v[g].entry = NONE;
		}
	} else
		for (g = ng; g < p->c.ngroups; g++)
			kpl_agg_free(&p->open[g].a);
	p->c.ngroups = ng;
	return 0;
}

/* Takes r out of its entry, which goes when r was its last record. */
static void
detach(struct producer *p, struct rec *r)
{
	uint32_t id = r->entry;
	struct entry *e = &p->e[id];

	r->entry = NONE;
	if (--e->refs > 0)
		return;
	if (e->state == E_QUEUED || e->state == E_RETRY)
		list_remove(p, id);
	entry_free(p, id);
}

/* 1 when r must go again in a new aggregate: its aggregate was built for
 * the old map and not stored yet, or was stored on a shard whose range,
 * by the new map, does not hold r's key. */
static int
must_regroup(const struct producer *p, const struct rec *r, size_t g)
{
	const struct entry *e = &p->e[r->entry];

	switch (e->state) {
	case E_OPEN:
		return 1;
	case E_QUEUED:
	case E_RETRY:
		return e->aggregated;
	case E_LANDED:
		return strcmp(p->c.map->v[g].id, e->shard) != 0;
	default:
		return 0;
	}
}

int
producer_remap(struct producer *p, long long now, struct errbuf *err)
{
	const struct producer_shard_map *m = p->c.map;
	unsigned long long i;
	size_t k;

	if (m == NULL || p->c.aggregate_size == 0)
		return 0;
	if (regroup(p, m->n > 0 ? m->n : 1, err) == -1)
		return -1;
	for (i = p->head; i < p->tail; i++) {
		struct rec *r = &p->ring[i % p->cap];
		size_t g;
		if (r->entry == NONE || r->chunk == NULL)
			continue;
		g = producer_shard_group(m, r->key, r->key_len);
		if (!must_regroup(p, r, g))
			continue;
		detach(p, r);
		if (agg_add(p, r, g, now, err) == -1)
			return -1;
	}
	/* what stays of a landed aggregate lies in its shard's range */
	for (k = 0; k < p->cap; k++)
		if (p->e[k].state == E_LANDED)
			p->e[k].state = E_DONE;
	p->remap = 0;
	return 0;
}
