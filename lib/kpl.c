#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "kpl.h"

/* protobuf wire types */
#define WT_VARINT 0
#define WT_FIXED64 1
#define WT_LEN 2
#define WT_FIXED32 5

struct reader {
	const unsigned char *p, *end;
};

static int
read_varint(struct reader *r, uint64_t *v)
{
	unsigned shift = 0;

	*v = 0;
	while (r->p < r->end && shift < 64) {
		unsigned char b = *r->p++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return 0;
		shift += 7;
	}
	return -1;
}

/* A length-delimited field: its bytes become a sub-reader. */
static int
read_len(struct reader *r, struct reader *sub)
{
	uint64_t n;

	if (read_varint(r, &n) == -1 || n > (uint64_t)(r->end - r->p))
		return -1;
	sub->p = r->p;
	sub->end = r->p + n;
	r->p += n;
	return 0;
}

static int
skip_field(struct reader *r, unsigned wt)
{
	struct reader sub;
	uint64_t v;
	size_t n;

	switch (wt) {
	case WT_VARINT: return read_varint(r, &v);
	case WT_LEN: return read_len(r, &sub);
	case WT_FIXED64: n = 8; break;
	case WT_FIXED32: n = 4; break;
	default: return -1;	/* groups are not used by this format */
	}
	if (n > (size_t)(r->end - r->p))
		return -1;
	r->p += n;
	return 0;
}

struct strtab {
	struct reader *v;
	size_t n, cap;
};

static int
strtab_add(struct strtab *t, const struct reader *s)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		void *p = realloc(t->v, cap * sizeof(*t->v));
		if (p == NULL)
			return -1;
		t->v = p;
		t->cap = cap;
	}
	t->v[t->n++] = *s;
	return 0;
}

/* Record: indexes are resolved after the tables are known. */
struct raw_record {
	uint64_t key_index, hash_index;
	int has_key, has_hash, has_data;
	struct reader data;
};

static int
parse_record(struct reader *r, struct raw_record *rec)
{
	uint64_t tag;

	memset(rec, 0, sizeof(*rec));
	while (r->p < r->end) {
		if (read_varint(r, &tag) == -1)
			return -1;
		switch (tag) {
		case (1 << 3) | WT_VARINT:
			rec->has_key = 1;
			if (read_varint(r, &rec->key_index) == -1)
				return -1;
			break;
		case (2 << 3) | WT_VARINT:
			rec->has_hash = 1;
			if (read_varint(r, &rec->hash_index) == -1)
				return -1;
			break;
		case (3 << 3) | WT_LEN:
			rec->has_data = 1;
			if (read_len(r, &rec->data) == -1)
				return -1;
			break;
		default:
			if (skip_field(r, (unsigned)(tag & 7)) == -1)
				return -1;
		}
	}
	return rec->has_key && rec->has_data ? 0 : -1;
}

struct parsed {
	struct strtab keys, hashes, records;
};

static int
parse_aggregate(struct reader *r, struct parsed *ps)
{
	struct reader sub;
	uint64_t tag;

	while (r->p < r->end) {
		if (read_varint(r, &tag) == -1)
			return -1;
		if ((tag & 7) != WT_LEN || (tag >> 3) < 1 || (tag >> 3) > 3) {
			if (skip_field(r, (unsigned)(tag & 7)) == -1)
				return -1;
			continue;
		}
		if (read_len(r, &sub) == -1)
			return -1;
		if (strtab_add((tag >> 3) == 1 ? &ps->keys : (tag >> 3) == 2 ?
		    &ps->hashes : &ps->records, &sub) == -1)
			return -1;
	}
	return 0;
}

static void
md5(const void *p, size_t n, unsigned char out[KPL_DIGEST_LEN])
{
	unsigned int len = KPL_DIGEST_LEN;

	EVP_Digest(p, n, out, &len, EVP_md5(), NULL);
}

int
kpl_is_aggregated(const void *p, size_t n)
{
	return n >= KPL_MAGIC_LEN + KPL_DIGEST_LEN &&
	    memcmp(p, KPL_MAGIC, KPL_MAGIC_LEN) == 0;
}

static int
resolve(const struct parsed *ps, struct kpl_record *out, struct errbuf *err)
{
	struct raw_record rec;
	struct reader r;
	size_t i;

	for (i = 0; i < ps->records.n; i++) {
		r = ps->records.v[i];
		if (parse_record(&r, &rec) == -1)
			return errbuf_set(err, ERR_DATA,
			    "aggregated record: sub-record %zu is malformed", i);
		if (rec.key_index >= ps->keys.n ||
		    (rec.has_hash && rec.hash_index >= ps->hashes.n))
			return errbuf_set(err, ERR_DATA, "aggregated record: "
			    "sub-record %zu: key index out of range", i);
		out[i].data = rec.data.p;
		out[i].len = (size_t)(rec.data.end - rec.data.p);
		out[i].key = (const char *)ps->keys.v[rec.key_index].p;
		out[i].key_len = (size_t)(ps->keys.v[rec.key_index].end -
		    ps->keys.v[rec.key_index].p);
		out[i].hash_key = NULL;
		out[i].hash_key_len = 0;
		if (rec.has_hash) {
			const struct reader *h = &ps->hashes.v[rec.hash_index];
			out[i].hash_key = (const char *)h->p;
			out[i].hash_key_len = (size_t)(h->end - h->p);
		}
	}
	return 0;
}

int
kpl_decode(const void *p, size_t n, struct kpl_record **out, size_t *count,
    struct errbuf *err)
{
	const unsigned char *b = p;
	unsigned char digest[KPL_DIGEST_LEN];
	struct parsed ps;
	struct reader r;
	int rc = -1;

	memset(&ps, 0, sizeof(ps));
	*out = NULL;
	*count = 0;
	if (!kpl_is_aggregated(p, n))
		return errbuf_set(err, ERR_DATA, "not an aggregated record");
	r.p = b + KPL_MAGIC_LEN;
	r.end = b + n - KPL_DIGEST_LEN;
	md5(r.p, (size_t)(r.end - r.p), digest);
	if (memcmp(digest, r.end, KPL_DIGEST_LEN) != 0)
		return errbuf_set(err, ERR_DATA,
		    "aggregated record: MD5 digest does not match");
	if (parse_aggregate(&r, &ps) == -1) {
		errbuf_set(err, ERR_DATA, "aggregated record: malformed protobuf");
		goto out;
	}
	if ((*out = calloc(ps.records.n ? ps.records.n : 1,
	    sizeof(**out))) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	if (resolve(&ps, *out, err) == -1)
		goto out;
	*count = ps.records.n;
	rc = 0;
out:
	if (rc == -1) {
		free(*out);
		*out = NULL;
	}
	free(ps.keys.v);
	free(ps.hashes.v);
	free(ps.records.v);
	return rc;
}

/* ---- building ---- */

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static int
put_varint(struct buf *b, uint64_t v)
{
	unsigned char tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (unsigned char)v;
	return buf_append(b, tmp, n);
}

static int
put_len_field(struct buf *b, unsigned field, const void *p, size_t n)
{
	if (put_varint(b, (field << 3) | WT_LEN) == -1 ||
	    put_varint(b, n) == -1)
		return -1;
	return buf_append(b, p, n);
}

void
kpl_agg_init(struct kpl_agg *a)
{
	memset(a, 0, sizeof(*a));
}

/*
 * Index of key in the encoded table, or -1. The table is searched rather
 * than key_list because its entries keep their length: a C string would
 * end at a NUL byte, and "a\0b" would then be taken for "a".
 */
static long
find_key(const struct kpl_agg *a, const char *key, size_t key_len)
{
	struct reader r, sub;
	uint64_t tag;
	long i;

	if (a->keys.len == 0)
		return -1;
	r.p = (const unsigned char *)a->keys.data;
	r.end = r.p + a->keys.len;
	for (i = 0; r.p < r.end; i++) {
		if (read_varint(&r, &tag) == -1 || read_len(&r, &sub) == -1)
			return -1;
		if ((size_t)(sub.end - sub.p) == key_len &&
		    memcmp(sub.p, key, key_len) == 0)
			return i;
	}
	return -1;
}

/* Index of key in the table, adding it when new; -1 on no memory. */
static long
key_index(struct kpl_agg *a, const char *key, size_t key_len)
{
	long found = find_key(a, key, key_len);
	char *copy;

	if (found != -1)
		return found;
	if (a->nkeys == a->key_cap) {
		size_t cap = a->key_cap ? a->key_cap * 2 : 16;
		void *p = realloc(a->key_list, cap * sizeof(*a->key_list));
		if (p == NULL)
			return -1;
		a->key_list = p;
		a->key_cap = cap;
	}
	if ((copy = strndup(key, key_len)) == NULL ||
	    put_len_field(&a->keys, 1, key, key_len) == -1) {
		free(copy);
		return -1;
	}
	a->key_list[a->nkeys] = copy;
	return (long)a->nkeys++;
}

static size_t
record_size(size_t key_index_v, size_t len)
{
	size_t body = 1 + varint_len(key_index_v) + 1 + varint_len(len) + len;

	return 1 + varint_len(body) + body;
}

int
kpl_agg_add(struct kpl_agg *a, const char *key, size_t key_len,
    const void *data, size_t len, struct errbuf *err)
{
	long ki;
	size_t body;

	if ((ki = key_index(a, key, key_len)) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	body = 1 + varint_len((uint64_t)ki) + 1 + varint_len(len) + len;
	if (put_varint(&a->records, (3 << 3) | WT_LEN) == -1 ||
	    put_varint(&a->records, body) == -1 ||
	    put_varint(&a->records, (1 << 3) | WT_VARINT) == -1 ||
	    put_varint(&a->records, (uint64_t)ki) == -1 ||
	    put_len_field(&a->records, 3, data, len) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	a->nrecords++;
	return 0;
}

size_t
kpl_agg_size_with(const struct kpl_agg *a, size_t key_len, size_t len)
{
	/* Assumes a new key: an upper bound, which is what a limit needs. */
	return KPL_MAGIC_LEN + a->keys.len + 1 + varint_len(key_len) +
	    key_len + a->records.len + record_size(a->nkeys, len) +
	    KPL_DIGEST_LEN;
}

int
kpl_agg_finish(const struct kpl_agg *a, struct buf *out, struct errbuf *err)
{
	size_t start = out->len;
	unsigned char digest[KPL_DIGEST_LEN];

	if (buf_append(out, KPL_MAGIC, KPL_MAGIC_LEN) == -1 ||
	    buf_append(out, a->keys.data, a->keys.len) == -1 ||
	    buf_append(out, a->records.data, a->records.len) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	md5(out->data + start + KPL_MAGIC_LEN,
	    out->len - start - KPL_MAGIC_LEN, digest);
	if (buf_append(out, digest, sizeof(digest)) == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

void
kpl_agg_reset(struct kpl_agg *a)
{
	size_t i;

	for (i = 0; i < a->nkeys; i++)
		free(a->key_list[i]);
	a->nkeys = 0;
	a->nrecords = 0;
	buf_reset(&a->keys);
	buf_reset(&a->records);
}

void
kpl_agg_free(struct kpl_agg *a)
{
	if (a == NULL)
		return;
	kpl_agg_reset(a);
	free(a->key_list);
	buf_free(&a->keys);
	buf_free(&a->records);
	memset(a, 0, sizeof(*a));
}
