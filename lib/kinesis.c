#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "aws.h"
#include "base64.h"
#include "kinesis.h"
#include "ndjson.h"

/* ---- PutRecords ---- */

int
kinesis_batch_begin(struct kinesis_batch *b, const char *stream,
    struct errbuf *err)
{
	int arn = strncmp(stream, "arn:", 4) == 0;

	buf_reset(&b->body);
	b->count = 0;
	b->bytes = 0;
	if (buf_puts(&b->body, arn ? "{\"StreamARN\":" : "{\"StreamName\":")
	    == -1 || ndjson_append_string(&b->body, stream, strlen(stream)) ==
	    -1 || buf_puts(&b->body, ",\"Records\":[") == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

int
kinesis_batch_add(struct kinesis_batch *b, const void *data, size_t len,
    const char *key, size_t key_len, const char *hash_key,
    struct errbuf *err)
{
	struct buf *o = &b->body;

	size_t mark = o->len;

	if ((b->count > 0 && buf_putc(o, ',') == -1) ||
	    buf_puts(o, "{\"Data\":\"") == -1 || base64_append(o, data, len) ==
	    -1 || buf_puts(o, "\",\"PartitionKey\":") == -1)
		goto nomem;
	if (ndjson_append_string(o, key, key_len) == -1 ||
	    (hash_key != NULL && (buf_puts(o, ",\"ExplicitHashKey\":") == -1 ||
	    ndjson_append_string(o, hash_key, strlen(hash_key)) == -1))) {
		/* the record is left out whole; the body stays valid */
		o->len = mark;
		o->data[mark] = '\0';
		return errbuf_set(err, ERR_DATA, "partition or hash key is not "
		    "valid UTF-8 (or out of memory)");
	}
	if (buf_putc(o, '}') == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	b->count++;
	b->bytes += len + key_len;
	return 0;
nomem:
	o->len = mark;
	if (o->data != NULL)
		o->data[mark] = '\0';
	return errbuf_set(err, ERR_SYSTEM, "out of memory");
}

int
kinesis_batch_end(struct kinesis_batch *b, struct errbuf *err)
{
	if (buf_puts(&b->body, "]}") == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

void
kinesis_batch_free(struct kinesis_batch *b)
{
	buf_free(&b->body);
	b->count = b->bytes = 0;
}

static void
copy_str(char *dst, size_t size, json_t *v)
{
	const char *s = json_string_value(v);

	snprintf(dst, size, "%s", s ? s : "");
}

/* The string member name of obj into the char array dst ("" if absent). */
#define COPY_MEMBER(dst, obj, name) \
	copy_str((dst), sizeof(dst), json_object_get((obj), (name)))

/* A 2xx answer's body; NULL with err set when it is not JSON (a proxy's
 * page, a cut or garbled answer): worth a retry. */
static json_t *
load_answer(const char *op, const char *body, size_t len, struct errbuf *err)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, 0, &je);

	if (root == NULL)
		errbuf_set(err, ERR_TEMP, "%s: response is not JSON: %s "
		    "(byte %d)", op, je.text, je.position);
	return root;
}

int
kinesis_put_parse(const char *body, size_t len, size_t n,
    struct kinesis_put_result *results, struct errbuf *err)
{
	json_t *root, *recs;
	int failed = 0;
	size_t i;

	if ((root = load_answer("PutRecords", body, len, err)) == NULL)
		return -1;
	recs = json_object_get(root, "Records");
	if (!json_is_array(recs) || json_array_size(recs) != n) {
		json_decref(root);
		return errbuf_set(err, ERR_TEMP, "PutRecords: response does "
		    "not hold %zu results", n);
	}
	for (i = 0; i < n; i++) {
		json_t *r = json_array_get(recs, i);
		struct kinesis_put_result *out = &results[i];
		COPY_MEMBER(out->seq, r, "SequenceNumber");
		COPY_MEMBER(out->shard, r, "ShardId");
		COPY_MEMBER(out->error_code, r, "ErrorCode");
		COPY_MEMBER(out->error_message, r, "ErrorMessage");
		/* an entry without a sequence number was not delivered */
		if (out->seq[0] == '\0' && out->error_code[0] == '\0')
			snprintf(out->error_code, sizeof(out->error_code),
			    "MissingSequenceNumber");
		if (out->error_code[0] != '\0')
			failed++;
	}
	json_decref(root);
	return failed;
}

/* ---- ListShards ---- */

static int
shard_from_json(json_t *s, struct kinesis_shard *out)
{
	json_t *hr = json_object_get(s, "HashKeyRange");
	json_t *sr = json_object_get(s, "SequenceNumberRange");

	memset(out, 0, sizeof(*out));
	if (!json_is_string(json_object_get(s, "ShardId")))
		return -1;
	COPY_MEMBER(out->id, s, "ShardId");
	COPY_MEMBER(out->parent, s, "ParentShardId");
	COPY_MEMBER(out->adjacent_parent, s, "AdjacentParentShardId");
	COPY_MEMBER(out->hash_start, hr, "StartingHashKey");
	COPY_MEMBER(out->hash_end, hr, "EndingHashKey");
	COPY_MEMBER(out->start_seq, sr, "StartingSequenceNumber");
	COPY_MEMBER(out->end_seq, sr, "EndingSequenceNumber");
	return 0;
}

static int
shard_list_add(struct kinesis_shard_list *l, const struct kinesis_shard *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		void *p = realloc(l->v, cap * sizeof(*l->v));
		if (p == NULL)
			return -1;
		l->v = p;
		l->cap = cap;
	}
	l->v[l->n++] = *s;
	return 0;
}

int
kinesis_list_shards_parse(const char *body, size_t len,
    struct kinesis_shard_list *out, char **next_token, struct errbuf *err)
{
	json_t *root = json_loadb(body, len, 0, NULL);
	json_t *shards = json_object_get(root, "Shards"), *s;
	const char *tok = json_string_value(json_object_get(root, "NextToken"));
	struct kinesis_shard sh;
	size_t i;
	int rc = -1;

	*next_token = NULL;
	if (!json_is_array(shards)) {
		errbuf_set(err, ERR_TEMP, "ListShards: no Shards in response");
		goto out;
	}
	json_array_foreach(shards, i, s) {
		if (shard_from_json(s, &sh) == -1) {
			errbuf_set(err, ERR_TEMP, "ListShards: shard %zu has "
			    "no ShardId", i);
			goto out;
		}
		if (shard_list_add(out, &sh) == -1)
			goto nomem;
	}
	if (tok != NULL && (*next_token = strdup(tok)) == NULL)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	errbuf_set(err, ERR_SYSTEM, "out of memory");
out:
	json_decref(root);
	return rc;
}

void
kinesis_shard_list_free(struct kinesis_shard_list *l)
{
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* ---- GetRecords ---- */

static int
record_from_json(json_t *r, struct kinesis_record *out)
{
	const char *data = json_string_value(json_object_get(r, "Data"));
	const char *key = json_string_value(json_object_get(r, "PartitionKey"));
	json_t *seq = json_object_get(r, "SequenceNumber");

	memset(out, 0, sizeof(*out));
	if (data == NULL || key == NULL || !json_is_string(seq))
		return -1;
	if ((out->data = base64_decode(data, strlen(data), &out->len)) == NULL ||
	    (out->key = strdup(key)) == NULL)
		return -1;
	copy_str(out->seq, sizeof(out->seq), seq);
	out->arrival = json_number_value(json_object_get(r,
	    "ApproximateArrivalTimestamp"));
	return 0;
}

static int
children_from_json(json_t *children, struct kinesis_get_result *out)
{
	json_t *c;
	size_t i;

	if (!json_is_array(children) || json_array_size(children) == 0)
		return 0;
	out->child_shards = calloc(json_array_size(children), sizeof(char *));
	if (out->child_shards == NULL)
		return -1;
	json_array_foreach(children, i, c) {
		const char *id = json_string_value(json_object_get(c, "ShardId"));
		if (id == NULL)
			continue;
		if ((out->child_shards[out->nchildren] = strdup(id)) == NULL)
			return -1;
		out->nchildren++;
	}
	return 0;
}

int
kinesis_get_parse(const char *body, size_t len,
    struct kinesis_get_result *out, struct errbuf *err)
{
	json_t *root, *recs, *r, *behind;
	const char *next;
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if ((root = load_answer("GetRecords", body, len, err)) == NULL)
		return -1;
	recs = json_object_get(root, "Records");
	behind = json_object_get(root, "MillisBehindLatest");
	out->millis_behind = json_is_integer(behind) ?
	    json_integer_value(behind) : -1;
	if (!json_is_array(recs)) {
		errbuf_set(err, ERR_TEMP, "GetRecords: no Records in response");
		goto out;
	}
	out->records = calloc(json_array_size(recs) + 1, sizeof(*out->records));
	if (out->records == NULL)
		goto nomem;
	json_array_foreach(recs, i, r) {
		if (record_from_json(r, &out->records[i]) == -1) {
			out->n = i + 1;	/* so the free releases it */
			errbuf_set(err, ERR_TEMP, "GetRecords: record %zu is "
			    "malformed", i);
			goto out;
		}
		out->n = i + 1;
	}
	next = json_string_value(json_object_get(root, "NextShardIterator"));
	if (next != NULL && (out->next_iterator = strdup(next)) == NULL)
		goto nomem;
	if (children_from_json(json_object_get(root, "ChildShards"), out) == -1)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	errbuf_set(err, ERR_SYSTEM, "out of memory");
out:
	json_decref(root);
	if (rc == -1)
		kinesis_get_result_free(out);
	return rc;
}

void
kinesis_get_result_free(struct kinesis_get_result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->records[i].data);
		free(r->records[i].key);
	}
	for (i = 0; i < r->nchildren; i++)
		free(r->child_shards[i]);
	free(r->records);
	free(r->child_shards);
	free(r->next_iterator);
	memset(r, 0, sizeof(*r));
}

/* ---- hashing ---- */

/* 16 big-endian bytes to decimal, by repeated division by 10. */
static void
u128_to_decimal(unsigned char v[16], char out[40])
{
	char rev[40];
	size_t n = 0, i;
	int nonzero;

	do {
		unsigned rem = 0;
		nonzero = 0;
		for (i = 0; i < 16; i++) {
			unsigned cur = (rem << 8) | v[i];
			v[i] = (unsigned char)(cur / 10);
			rem = cur % 10;
			nonzero |= v[i];
		}
		rev[n++] = (char)('0' + rem);
	} while (nonzero);
	for (i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
}

void
kinesis_key_hash(const char *key, size_t len, char out[40])
{
	unsigned char md[16];
	unsigned int mdlen = sizeof(md);

	EVP_Digest(key, len, md, &mdlen, EVP_md5(), NULL);
	u128_to_decimal(md, out);
}

int
kinesis_hash_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

int
kinesis_hash_key_valid(const char *s)
{
	static const char max[] = "340282366920938463463374607431768211455";
	size_t n = strspn(s, "0123456789");

	if (n == 0 || s[n] != '\0' || (n > 1 && s[0] == '0'))
		return 0;
	return kinesis_hash_cmp(s, max) <= 0;
}

/* ---- calls ---- */

/* Sends a jansson-built body (the control-plane calls are small). */
static int
call(struct aws_client *c, const char *op, json_t *body,
    struct aws_response *resp, struct errbuf *err)
{
	char target[64];
	char *text;
	int rc;

	memset(resp, 0, sizeof(*resp));
	if (body == NULL || (text = json_dumps(body, JSON_COMPACT)) == NULL) {
		json_decref(body);
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	}
	snprintf(target, sizeof(target), KINESIS_TARGET_PREFIX "%s", op);
	rc = aws_json_call(c, target, text, strlen(text), resp, err);
	if (rc == -1)
		errbuf_prefix(err, "%s", op);
	free(text);
	json_decref(body);
	return rc;
}

/* {"StreamName":...} or {"StreamARN":...} */
static json_t *
stream_body(const char *stream)
{
	return json_pack("{s:s}", strncmp(stream, "arn:", 4) == 0 ?
	    "StreamARN" : "StreamName", stream);
}

int
kinesis_list_shards(struct aws_client *c, const char *stream,
    struct kinesis_shard_list *out, struct errbuf *err)
{
	struct aws_response resp;
	char *token = NULL;
	json_t *body;
	int rc;

	do {
		/* a NextToken request must not name the stream again */
		body = token ? json_pack("{s:s}", "NextToken", token) :
		    stream_body(stream);
		free(token);
		token = NULL;
		rc = call(c, "ListShards", body, &resp, err);
		if (rc == 0)
			rc = kinesis_list_shards_parse(resp.http.body.data,
			    resp.http.body.len, out, &token, err);
		aws_response_free(&resp);
	} while (rc == 0 && token != NULL);
	free(token);
	return rc;
}

int
kinesis_describe(struct aws_client *c, const char *stream, char status[32],
    long *open_shards, struct errbuf *err)
{
	struct aws_response resp;
	json_t *root, *d;
	int rc;

	if (call(c, "DescribeStreamSummary", stream_body(stream), &resp,
	    err) == -1) {
		if (strcmp(resp.error.code, "ResourceNotFoundException") == 0)
			err->kind = ERR_CONFIG;
		aws_response_free(&resp);
		return -1;
	}
	root = json_loadb(resp.http.body.data, resp.http.body.len, 0, NULL);
	d = json_object_get(root, "StreamDescriptionSummary");
	copy_str(status, 32, json_object_get(d, "StreamStatus"));
	*open_shards = (long)json_integer_value(json_object_get(d,
	    "OpenShardCount"));
	rc = status[0] ? 0 : errbuf_set(err, ERR_TEMP,
	    "DescribeStreamSummary: no StreamStatus in response");
	json_decref(root);
	aws_response_free(&resp);
	return rc;
}

static json_t *
iterator_body(const char *stream, const char *shard, enum kinesis_start start,
    const char *seq, double at)
{
	static const char *const types[] = { "TRIM_HORIZON", "LATEST",
	    "AT_TIMESTAMP", "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER" };
	json_t *b = stream_body(stream);

	if (b == NULL)
		return NULL;
	json_object_set_new(b, "ShardId", json_string(shard));
	json_object_set_new(b, "ShardIteratorType", json_string(types[start]));
	if (start == KINESIS_AT_TIMESTAMP)
		json_object_set_new(b, "Timestamp", json_real(at));
	if (start == KINESIS_AT_SEQUENCE || start == KINESIS_AFTER_SEQUENCE)
		json_object_set_new(b, "StartingSequenceNumber",
		    json_string(seq));
	return b;
}

int
kinesis_get_iterator(struct aws_client *c, const char *stream,
    const char *shard, enum kinesis_start start, const char *seq, double at,
    char **iterator, struct errbuf *err)
{
	struct aws_response resp;
	json_t *root;
	const char *it;
	int rc = -1;

	*iterator = NULL;
	if (call(c, "GetShardIterator", iterator_body(stream, shard, start,
	    seq, at), &resp, err) == -1)
		goto out;
	root = json_loadb(resp.http.body.data, resp.http.body.len, 0, NULL);
	it = json_string_value(json_object_get(root, "ShardIterator"));
	if (it == NULL)
		errbuf_set(err, ERR_TEMP, "GetShardIterator %s: no "
		    "ShardIterator in response", shard);
	else if ((*iterator = strdup(it)) == NULL)
		errbuf_set(err, ERR_SYSTEM, "out of memory");
	else
		rc = 0;
	json_decref(root);
out:
	aws_response_free(&resp);
	return rc;
}
