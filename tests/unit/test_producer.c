#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "kpl.h"
#include "ndjson.h"
#include "producer.h"
#include "tap.h"

static struct producer_config
config(void)
{
	struct producer_config c;

	memset(&c, 0, sizeof(c));
	c.max_attempts = 3;
	c.linger_ms = 100;
	c.ngroups = 1;
	c.seed = 42;
	return c;
}

static void
add(struct producer *p, int i, const char *key, long long now)
{
	char data[32];
	struct errbuf e;

	snprintf(data, sizeof(data), "{\"n\":%d}", i);
	if (producer_add(p, data, strlen(data), key, strlen(key), 0, 0,
	    (unsigned long)i, now, &e) != 0)
		printf("# add %d: %s\n", i, e.msg);
}

/* base64 to bytes; EVP_DecodeBlock counts padding as data */
static size_t
unbase64(const char *s, unsigned char *out)
{
	size_t n = strlen(s);
	int got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);

	if (got < 0)
		return 0;
	return (size_t)got - (n > 0 && s[n - 1] == '=') -
	    (n > 1 && s[n - 2] == '=');
}

/* The body's Records, as JSON, to check what a batch holds. */
static json_t *
records_of(const struct kinesis_batch *b)
{
	json_t *root = json_loadb(b->body.data, b->body.len, 0, NULL);
	json_t *r = json_incref(json_object_get(root, "Records"));

	json_decref(root);
	return r;
}

static void
results_ok(struct kinesis_put_result *r, size_t n, const char *fail_code,
    const size_t *fail, size_t nfail)
{
	size_t i, j;

	memset(r, 0, n * sizeof(*r));
	for (i = 0; i < n; i++) {
		snprintf(r[i].shard, sizeof(r[i].shard), "shardId-000000000000");
		snprintf(r[i].seq, sizeof(r[i].seq), "%zu", 1000 + i);
		for (j = 0; j < nfail; j++)
			if (fail[j] == i) {
				r[i].seq[0] = '\0';
				snprintf(r[i].error_code,
				    sizeof(r[i].error_code), "%s", fail_code);
				snprintf(r[i].error_message,
				    sizeof(r[i].error_message), "nope");
			}
	}
}

static void
test_linger_and_limits(void)
{
	struct producer_config c = config();
	struct producer *p = producer_new(&c, NULL);
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct producer_call call;
	long long wake;
	struct errbuf e;
	int i;

	add(p, 1, "k", 0);
	is_int(producer_next_batch(p, 50, 0, "s", &b, &call, &wake, &e), 0,
	    "a lone record waits for linger");
	is_int(wake, 100, "wake-up at linger end");
	is_int(producer_next_batch(p, 100, 0, "s", &b, &call, &wake, &e), 1,
	    "sent once linger passed");
	for (i = 2; i <= 1200; i++)
		add(p, i, "k", 200);
	is_int(producer_next_batch(p, 200, 0, "s", &b, &call, &wake, &e), 500,
	    "a full batch goes at once, 500 records");
	is_int(producer_next_batch(p, 200, 0, "s", &b, &call, &wake, &e), 500,
	    "second full batch");
	is_int(producer_next_batch(p, 200, 0, "s", &b, &call, &wake, &e), 0,
	    "199 left wait");
	is_int(producer_next_batch(p, 200, 1, "s", &b, &call, &wake, &e), 199,
	    "flush sends the rest");
	kinesis_batch_free(&b);
	producer_free(p);
}

static void
test_byte_limit(void)
{
	struct producer_config c = config();
	struct producer *p = producer_new(&c, NULL);
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct producer_call call;
	long long wake;
	struct errbuf e;
	char *big = malloc(1000000);
	int i;

	memset(big, 'x', 1000000);
	for (i = 0; i < 7; i++)
		producer_add(p, big, 1000000, "k", 1, 0, 0, (unsigned long)i,
		    0, &e);
	is_int(producer_next_batch(p, 0, 0, "s", &b, &call, &wake, &e), 5,
	    "5 MiB: five 1 MB records per call");
	ok(b.bytes <= KINESIS_MAX_BATCH_BYTES, "batch bytes within limit");
	is_int(producer_next_batch(p, 0, 1, "s", &b, &call, &wake, &e), 2,
	    "then the other two");
	kinesis_batch_free(&b);
	producer_free(p);
	free(big);
}

static void
test_partial_retry_in_order(void)
{
	struct producer_config c = config();
	struct producer *p = producer_new(&c, NULL);
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct kinesis_put_result res[4];
	struct producer_call call, call2;
	struct producer_report rep;
	size_t fail[] = { 1 };
	long long wake;
	struct errbuf e;
	json_t *recs;
	int i;

	for (i = 1; i <= 4; i++)
		add(p, i, "k", 0);
	is_int(producer_next_batch(p, 0, 1, "s", &b, &call, &wake, &e), 4,
	    "four sent");
	results_ok(res, 4, "ProvisionedThroughputExceededException", fail, 1);
	producer_call_done(p, &call, res, 10);
	ok(producer_next_report(p, &rep) && rep.delivered && rep.line == 1,
	    "line 1 reported");
	ok(!producer_next_report(p, &rep), "line 2 pending holds back 3, 4");
	is_int(producer_next_batch(p, 10, 1, "s", &b, &call2, &wake, &e), 0,
	    "retry not yet due");
	ok(wake > 10 && wake <= 10 + 1000, "throttle backoff within 1 s");
	is_int(producer_next_batch(p, wake, 0, "s", &b, &call2, &wake, &e), 1,
	    "only the failed entry is resent");
	recs = records_of(&b);
	is_str(json_string_value(json_object_get(json_array_get(recs, 0),
	    "Data")), "eyJuIjoyfQ==", "and it is record 2");
	json_decref(recs);
	results_ok(res, 1, NULL, NULL, 0);
	producer_call_done(p, &call2, res, 2000);
	for (i = 2; i <= 4; i++)
		ok(producer_next_report(p, &rep) && rep.delivered &&
		    (int)rep.line == i && rep.attempts == (i == 2 ? 2 : 1),
		    "line %d reported in order", i);
	ok(producer_idle(p), "idle");
	is_int(producer_stats(p)->retries, 1, "one retry counted");
	is_int(producer_stats(p)->throttles, 1, "one throttle counted");
	kinesis_batch_free(&b);
	producer_free(p);
}

/*
 * The entries of a failed call go again together, in one call: found by
 * tests/chaos/run, where a throttled call of 500 came back as hundreds of
 * calls of a few records, each drawing its own backoff, and kin-put's
 * in-order reports stalled behind the last of them.
 */
static void
test_retry_together(void)
{
	struct producer_config c = config();
	struct producer *p;
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct kinesis_put_result res[5];
	struct producer_call call;
	struct producer_call_error ce = {
	    "ProvisionedThroughputExceededException", "slow down", ERR_TEMP, 1,
	    1, -1 };
	size_t fail[] = { 0, 2, 4 };
	long long wake, now;
	struct errbuf e;
	char key[16];
	int i, n, round;

	c.max_attempts = 10;
	p = producer_new(&c, NULL);
	for (i = 1; i <= 500; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		add(p, i, key, 0);
	}
	is_int(producer_next_batch(p, 0, 1, "s", &b, &call, &wake, &e), 500,
	    "500 sent");
	for (now = 10, round = 2; round <= 4; round++) {
		producer_call_failed(p, &call, &ce, now);
		n = producer_next_batch(p, now, 0, "s", &b, &call, &wake, &e);
		ok(n == 0 && wake >= now, "throttled call %d: a retry time",
		    round - 1);
		now = wake;
		n = producer_next_batch(p, now, 0, "s", &b, &call, &wake, &e);
		ok(n == 500, "attempt %d: all 500 again in one call (got %d)",
		    round, n);
	}
	producer_free(p);

	p = producer_new(&c, NULL);
	for (i = 1; i <= 5; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		add(p, i, key, 0);
	}
	producer_next_batch(p, 0, 1, "s", &b, &call, &wake, &e);
	results_ok(res, 5, "InternalFailure", fail, 3);
	producer_call_done(p, &call, res, 10);
	is_int(producer_next_batch(p, 10, 0, "s", &b, &call, &wake, &e), 0,
	    "partial failure: none due at once");
	is_int(producer_next_batch(p, wake, 0, "s", &b, &call, &wake, &e), 3,
	    "the three failed entries go again in one call");
	kinesis_batch_free(&b);
	producer_free(p);
}

static void
test_give_up(void)
{
	struct producer_config c = config();
	struct producer *p = producer_new(&c, NULL);
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct producer_call call;
	struct producer_report rep;
	struct producer_call_error ce = { "InternalFailure", "boom", ERR_TEMP,
	    1, 0, -1 };
	struct producer_call_error bad = { "ValidationException", "no",
	    ERR_DATA, 0, 0, -1 };
	long long wake, now = 0;
	struct errbuf e;
	int n = 0;

	add(p, 1, "k", 0);
	while (producer_next_batch(p, now, 1, "s", &b, &call, &wake, &e) == 1) {
		n++;
		producer_call_failed(p, &call, &ce, now);
		now += 100000;
	}
	is_int(n, 3, "max_attempts sends");
	ok(producer_next_report(p, &rep) && !rep.delivered &&
	    rep.kind == ERR_TEMP && rep.attempts == 3, "then failed, temporary");
	is_str(rep.code, "InternalFailure", "with the last code");
	is_str(rep.message, "boom (3 attempts)", "and message");
	add(p, 2, "k", now);
	producer_next_batch(p, now, 1, "s", &b, &call, &wake, &e);
	producer_call_failed(p, &call, &bad, now);
	ok(producer_next_report(p, &rep) && !rep.delivered &&
	    rep.kind == ERR_DATA && rep.attempts == 1,
	    "a refused request is not retried");
	kinesis_batch_free(&b);
	producer_free(p);
}

static void
test_timeout(void)
{
	struct producer_config c = config();
	struct producer *p;
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct producer_call call;
	struct producer_report rep;
	struct producer_call_error ce = { "ThrottlingException", "slow",
	    ERR_TEMP, 1, 1, 5000 };
	long long wake;
	struct errbuf e;

	c.timeout_ms = 3000;
	c.max_attempts = 50;
	p = producer_new(&c, NULL);
	add(p, 1, "k", 0);
	producer_next_batch(p, 0, 1, "s", &b, &call, &wake, &e);
	producer_call_failed(p, &call, &ce, 10);
	ok(producer_next_report(p, &rep) && !rep.delivered &&
	    strstr(rep.message, "delivery timeout") != NULL,
	    "Retry-After beyond the timeout: given up");
	kinesis_batch_free(&b);
	producer_free(p);
}

static void
test_refusals(void)
{
	struct producer_config c = config();
	struct producer *p = producer_new(&c, NULL);
	struct producer_report rep;
	char key[300];
	char *big = calloc(1, KINESIS_MAX_RECORD_BYTES);
	struct errbuf e;

	memset(key, 'k', sizeof(key));
	producer_add(p, "{}", 2, key, 257, 0, 0, 1, 0, &e);
	producer_add(p, "{}", 2, "", 0, 0, 0, 2, 0, &e);
	producer_add(p, big, KINESIS_MAX_RECORD_BYTES, "k", 1, 0, 0, 3, 0, &e);
	producer_add_failed(p, "x", 1, 0, 4, PRODUCER_E_JSON, "bad", &e);
	ok(producer_next_report(p, &rep) && !rep.delivered &&
	    strcmp(rep.code, PRODUCER_E_KEY) == 0, "257-char key refused");
	ok(producer_next_report(p, &rep) && strcmp(rep.code, PRODUCER_E_KEY)
	    == 0, "empty key refused");
	ok(producer_next_report(p, &rep) && strcmp(rep.code,
	    PRODUCER_E_TOOLARGE) == 0 && rep.len == KINESIS_MAX_RECORD_BYTES,
	    "1 MiB + key refused, data kept for the dead letter");
	ok(producer_next_report(p, &rep) && rep.line == 4 &&
	    strcmp(rep.message, "bad") == 0, "invalid input keeps its place");
	is_int(ndjson_utf8_chars("\xc3\xa9t\xc3\xa9", 5), 3,
	    "characters, not bytes");
	producer_free(p);
	free(big);
}

static void
test_ordered(void)
{
	struct producer_config c = config();
	struct producer *p;
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct kinesis_put_result res[4];
	struct producer_call c1, c2;
	long long wake;
	struct errbuf e;

	c.ordered = 1;
	p = producer_new(&c, NULL);
	add(p, 1, "a", 0);
	add(p, 2, "a", 0);
	add(p, 3, "b", 0);
	is_int(producer_next_batch(p, 0, 1, "s", &b, &c1, &wake, &e), 2,
	    "ordered: one record per key in flight");
	is_int(producer_next_batch(p, 0, 1, "s", &b, &c2, &wake, &e), 0,
	    "the second 'a' waits");
	results_ok(res, 2, NULL, NULL, 0);
	producer_call_done(p, &c1, res, 5);
	is_int(producer_next_batch(p, 5, 1, "s", &b, &c2, &wake, &e), 1,
	    "after the first is acknowledged, it goes");
	kinesis_batch_free(&b);
	producer_free(p);
}

static void
test_aggregate(void)
{
	struct producer_config c = config();
	struct producer *p;
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct kinesis_put_result res[4];
	struct producer_call call;
	/* zeroed: ok()'s arguments may be read before the report fills it */
	struct producer_report rep = { 0 };
	struct kpl_record *kr;
	unsigned char *raw;
	size_t n, rawlen, i;
	long long wake;
	struct errbuf e;
	json_t *recs;

	c.aggregate_size = 51200;
	c.ngroups = 2;
	p = producer_new(&c, NULL);
	producer_add(p, "one", 3, "a", 1, 0, 0, 1, 0, &e);
	producer_add(p, "two", 3, "b", 1, 1, 0, 2, 0, &e);
	producer_add(p, "three", 5, "c", 1, 0, 0, 3, 0, &e);
	is_int(producer_next_batch(p, 0, 1, "s", &b, &call, &wake, &e), 2,
	    "two groups: two Kinesis records");
	recs = records_of(&b);
	raw = malloc(1000);
	rawlen = unbase64(json_string_value(json_object_get(
	    json_array_get(recs, 0), "Data")), raw);
	ok(kpl_decode(raw, rawlen, &kr, &n, &e) == 0 && n == 2,
	    "group 0 is a KPL aggregate of two");
	if (n == 2) {
		is_mem((const char *)kr[1].data, kr[1].len, "three", 5,
		    "second sub-record");
		is_mem(kr[1].key, kr[1].key_len, "c", 1, "with its key");
		free(kr);
	}
	is_str(json_string_value(json_object_get(json_array_get(recs, 1),
	    "Data")), "dHdv", "a lone record goes unaggregated");
	json_decref(recs);
	free(raw);
	results_ok(res, 2, NULL, NULL, 0);
	producer_call_done(p, &call, res, 1);
	for (i = 0; i < 3; i++)
		ok(producer_next_report(p, &rep) && rep.line == i + 1 &&
		    rep.subseq == (i == 0 ? 0 : i == 1 ? -1 : 1),
		    "report %zu in input order, subseq %ld", i + 1,
		    rep.subseq);
	kinesis_batch_free(&b);
	producer_free(p);
}

#define HASH_MID "170141183460469231731687303715884105728"

/* A map of open shards (id, first hash) and closed ones (start "x"). */
static void
map_of(struct producer_shard_map *m, const char *const *ids,
    const char *const *starts, size_t n)
{
	struct kinesis_shard s[4];
	struct kinesis_shard_list l = { s, 0, 0 };
	struct errbuf e;
	size_t i;

	memset(s, 0, sizeof(s));
	for (i = 0; i < n; i++) {
		snprintf(s[i].id, sizeof(s[i].id), "%s", ids[i]);
		snprintf(s[i].hash_start, sizeof(s[i].hash_start), "%s",
		    strcmp(starts[i], "x") == 0 ? "0" : starts[i]);
		if (strcmp(starts[i], "x") == 0)
			snprintf(s[i].end_seq, sizeof(s[i].end_seq), "9");
	}
	l.n = n;
	producer_shard_map_free(m);
	producer_shard_map_init(m, &l, &e);
}

/* The data of the sub-records of the batch's only Kinesis record. */
static void
is_subrecords(const struct kinesis_batch *b, const char *want,
    const char *what)
{
	json_t *recs = records_of(b);
	const char *d = json_string_value(json_object_get(json_array_get(recs,
	    0), "Data"));
	unsigned char raw[1000];
	struct kpl_record *kr = NULL;
	struct buf got = BUF_INIT;
	struct errbuf e;
	size_t n = 0, i;

	if (json_array_size(recs) == 1 && d != NULL &&
	    kpl_decode(raw, unbase64(d, raw), &kr, &n, &e) == 0)
		for (i = 0; i < n; i++)
			buf_printf(&got, "%s%.*s", i ? " " : "",
			    (int)kr[i].len, (const char *)kr[i].data);
	is_str(got.data ? got.data : "", want, what);
	free(kr);
	buf_free(&got);
	json_decref(recs);
}

/*
 * A split while records are aggregated: shard 0 became shards 1 (lower
 * half of the hash range) and 2 (upper half). The aggregate built for
 * shard 0 lands on shard 1: its records whose keys hash into shard 1 are
 * delivered there, the others go again in an aggregate for shard 2, with
 * the record that was waiting in an aggregate for shard 0.
 */
static void
test_reshard(void)
{
	static const char *const one[] = { "shardId-0" };
	static const char *const one_at[] = { "0" };
	static const char *const split[] = { "shardId-0", "shardId-1",
	    "shardId-2" };
	static const char *const split_at[] = { "x", "0", HASH_MID };
	struct producer_config c = config();
	struct producer_shard_map m = { NULL, 0 };
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct kinesis_put_result res[2];
	struct producer_call call;
	struct producer_report rep;
	struct producer *p;
	struct errbuf e;
	long long wake;
	/* md5("a") = 0cc1...: lower half; md5("b") = 92eb...: upper half */
	static const char *const keys[] = { "a", "b", "a", "b", "b" };
	static const char *const shard_of[] = { "shardId-1", "shardId-2",
	    "shardId-1", "shardId-2", "shardId-2" };
	static const long subseq_of[] = { 0, 0, 2, 1, 2 };
	int i;

	map_of(&m, one, one_at, 1);
	c.aggregate_size = 51200;
	c.map = &m;
	p = producer_new(&c, NULL);
	for (i = 0; i < 4; i++)
		add(p, i + 1, keys[i], 0);
	is_int(producer_next_batch(p, 0, 1, "s", &b, &call, &wake, &e), 1,
	    "one aggregate for shard 0");
	results_ok(res, 1, NULL, NULL, 0);
	snprintf(res[0].shard, sizeof(res[0].shard), "shardId-1");
	producer_call_done(p, &call, res, 1);
	ok(producer_needs_map(p), "landed on shard 1: the map is stale");
	is_int(producer_stats(p)->landed, 1, "counted");
	ok(!producer_next_report(p, &rep), "no report before the new map");
	add(p, 5, "b", 2);	/* joins an aggregate for shard 0 */
	map_of(&m, split, split_at, 3);
	ok(producer_remap(p, 3, &e) == 0 && !producer_needs_map(p),
	    "remapped to the two children");
	ok(producer_next_report(p, &rep) && rep.delivered && rep.line == 1 &&
	    strcmp(rep.shard, "shardId-1") == 0 && rep.subseq == 0,
	    "record 1 (in shard 1's range) delivered where it landed");
	ok(!producer_next_report(p, &rep), "record 2 waits: it goes again");
	kinesis_batch_free(&b);
	memset(&b, 0, sizeof(b));
	is_int(producer_next_batch(p, 4, 1, "s", &b, &call, &wake, &e), 1,
	    "one new aggregate");
	is_subrecords(&b, "{\"n\":2} {\"n\":4} {\"n\":5}",
	    "for shard 2: the records outside shard 1, and the waiting one");
	results_ok(res, 1, NULL, NULL, 0);
	snprintf(res[0].shard, sizeof(res[0].shard), "shardId-2");
	producer_call_done(p, &call, res, 5);
	ok(!producer_needs_map(p), "it landed where it was built for");
	for (i = 1; i < 5; i++)
		ok(producer_next_report(p, &rep) && rep.delivered &&
		    rep.line == (unsigned long)i + 1 &&
		    strcmp(rep.shard, shard_of[i]) == 0 &&
		    rep.subseq == subseq_of[i], "record %d: %s, subseq %ld",
		    i + 1, shard_of[i], subseq_of[i]);
	ok(producer_idle(p), "every record reported once");
	kinesis_batch_free(&b);
	producer_free(p);

	/* stopping with a landed aggregate: its records are reported */
	map_of(&m, one, one_at, 1);
	p = producer_new(&c, NULL);
	add(p, 1, "a", 0);
	add(p, 2, "b", 0);
	memset(&b, 0, sizeof(b));
	producer_next_batch(p, 0, 1, "s", &b, &call, &wake, &e);
	results_ok(res, 1, NULL, NULL, 0);
	snprintf(res[0].shard, sizeof(res[0].shard), "shardId-1");
	producer_call_done(p, &call, res, 1);
	producer_abandon(p, PRODUCER_E_STOPPED, "stopped", ERR_TEMP);
	ok(producer_next_report(p, &rep) && !rep.delivered &&
	    strcmp(rep.code, PRODUCER_E_WRONG_SHARD) == 0 &&
	    strstr(rep.message, "stored on shardId-1, built for shardId-0"),
	    "abandoned while landed: reported %s (%s)", rep.code ? rep.code :
	    "", rep.message ? rep.message : "");
	ok(producer_next_report(p, &rep) && !rep.delivered,
	    "both records, to be sent again");
	kinesis_batch_free(&b);
	producer_free(p);
	producer_shard_map_free(&m);
}

static void
test_abandon(void)
{
	struct producer_config c = config();
	struct producer *p = producer_new(&c, NULL);
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct producer_call call;
	struct producer_report rep;
	long long wake;
	struct errbuf e;

	add(p, 1, "k", 0);
	producer_next_batch(p, 0, 1, "s", &b, &call, &wake, &e);
	add(p, 2, "k", 0);
	producer_abandon(p, PRODUCER_E_STOPPED, "stopped", ERR_TEMP);
	ok(producer_next_report(p, &rep) && !rep.delivered &&
	    rep.attempts == 1, "in flight: reported undelivered");
	ok(producer_next_report(p, &rep) && !rep.delivered &&
	    rep.attempts == 0 && rep.kind == ERR_TEMP, "queued: too");
	ok(producer_idle(p), "nothing held");
	kinesis_batch_free(&b);
	producer_free(p);
}

static void
test_shard_map(void)
{
	struct kinesis_shard_list l = { NULL, 0, 0 };
	struct kinesis_shard s[3];
	struct producer_shard_map m;
	struct errbuf e;
	char h[40];

	memset(s, 0, sizeof(s));
	snprintf(s[0].id, sizeof(s[0].id), "shardId-1");
	snprintf(s[0].hash_start, 40, "170141183460469231731687303715884105728");
	snprintf(s[1].id, sizeof(s[1].id), "shardId-0");
	snprintf(s[1].hash_start, 40, "0");
	snprintf(s[2].id, sizeof(s[2].id), "closed");
	snprintf(s[2].hash_start, 40, "0");
	snprintf(s[2].end_seq, 130, "1");
	l.v = s;
	l.n = 3;
	ok(producer_shard_map_init(&m, &l, &e) == 0 && m.n == 2,
	    "open shards only");
	is_str(m.v[0].id, "shardId-0", "sorted by range");
	/* md5("a") = 0cc175b9...: lower half */
	is_int(producer_shard_group(&m, "a", 1), 0, "'a' in the lower half");
	kinesis_key_hash("b", 1, h);
	ok(h[0] != '\0', "hash of 'b'");
	is_int(producer_shard_group(&m, "b", 1), 1,
	    "'b' (92eb5ffe...) in the upper half");
	producer_shard_map_free(&m);
}

/* The partition key of the only record of the next batch. */
static void
is_key(struct producer *p, const char *want, const char *what)
{
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct producer_call call;
	struct errbuf e;
	long long wake;
	json_t *recs;

	ok(producer_next_batch(p, 0, 1, "s", &b, &call, &wake, &e) == 1,
	    "%s: one record sent", what);
	recs = records_of(&b);
	is_str(json_string_value(json_object_get(json_array_get(recs, 0),
	    "PartitionKey")), want, what);
	json_decref(recs);
	kinesis_batch_free(&b);
	producer_abandon(p, PRODUCER_E_STOPPED, "", ERR_TEMP);
	while (producer_next_report(p, &(struct producer_report){ 0 }))
		;
}

static void
is_refused(struct producer *p, const char *code, const char *msg,
    const char *what)
{
	struct producer_report rep;

	ok(producer_next_report(p, &rep) && !rep.delivered &&
	    rep.attempts == 0 && rep.line == 5, "%s: reported", what);
	is_str(rep.code, code, what);
	if (msg != NULL)
		is_str(rep.message, msg, what);
}

/* Lines through a reader: a too long one and, under strict, a stop. */
static void
test_drain(void)
{
	struct producer_config c = config();
	struct producer *p = producer_new(&c, NULL);
	struct producer_intake in;
	struct producer_report rep;
	struct ndjson_reader *r;
	struct errbuf e;
	int fds[2];
	static const char text[] = "{\"a\":1}\n{\"a\":\"0123456789\"}\n"
	    "nope\n{\"a\":3}\n";

	memset(&in, 0, sizeof(in));
	in.rng = 1;
	if (pipe(fds) == -1 || write(fds[1], text, sizeof(text) - 1) !=
	    (ssize_t)(sizeof(text) - 1))
		abort();
	close(fds[1]);
	r = ndjson_reader_new(fds[0], "in", 12, &e);
	is_int(producer_drain(p, &in, r, 2, 0, &e), NDJSON_AGAIN,
	    "drain: nothing read yet");
	ndjson_reader_fill(r, &e);
	in.strict = 1;
	is_int(producer_drain(p, &in, r, 2, 0, &e), NDJSON_LINE,
	    "drain: strict stops at the first refusal");
	is_int(in.refused, 1, "drain: one refused");
	is_int(producer_stats(p)->records, 2, "drain: the line before it "
	    "and the too long one");
	ok(producer_next_report(p, &rep) == 0, "drain: the first is pending");
	in.strict = 0;
	is_int(producer_drain(p, &in, r, 2, 0, &e), NDJSON_AGAIN,
	    "drain: on until more must be read");
	is_int(in.refused, 2, "drain: not JSON, refused too");
	ndjson_reader_fill(r, &e);
	is_int(producer_drain(p, &in, r, 2, 0, &e), NDJSON_EOF, "drain: EOF");
	is_int(producer_stats(p)->records, 4, "drain: four records");
	producer_abandon(p, PRODUCER_E_STOPPED, "", ERR_TEMP);
	ok(producer_next_report(p, &rep) && rep.line == 1 && rep.file == 2,
	    "drain: line 1 of input 2 first");
	ok(producer_next_report(p, &rep) && rep.line == 2 && rep.attempts ==
	    0, "drain: then the too long line, never sent");
	is_str(rep.code, PRODUCER_E_LINE, "drain: too long");
	is_str(rep.message, "line longer than 12 bytes", "drain: the limit "
	    "of the reader");
	ok(producer_next_report(p, &rep) && rep.line == 3, "drain: line 3");
	is_str(rep.code, PRODUCER_E_JSON, "drain: not JSON");
	ok(producer_next_report(p, &rep) && rep.line == 4 &&
	    producer_next_report(p, &rep) == 0, "drain: line 4 last");
	ndjson_reader_free(r);
	close(fds[0]);
	producer_intake_free(&in);
	producer_free(p);
}

static void
test_add_line(void)
{
	struct producer_config c = config();
	struct producer *p = producer_new(&c, NULL);
	struct producer_intake in;
	struct errbuf e;

#define LINE(s) producer_add_line(p, &in, s, strlen(s), 0, 5, 0, &e)
	memset(&in, 0, sizeof(in));
	in.rng = 1;
	is_int(LINE(" \t"), 0, "a blank line is skipped");
	ok(producer_idle(p), "and not added");
	is_int(LINE("{\"a\":"), 1, "invalid JSON refused");
	is_refused(p, PRODUCER_E_JSON, NULL, "invalid JSON");
	is_int(LINE("{\"a\":1}"), 0, "random key");
	is_key(p, "47e4ce4b896cdd1d", "random keys from the seed");
	in.key_fixed = "fixed";
	is_int(LINE("{\"a\":1}"), 0, "fixed key");
	is_key(p, "fixed", "the fixed key");
	in.key_fixed = NULL;
	in.key_field = "k.id";
	is_int(LINE("{\"k\":{\"id\":\"a\\u00e9\"}}"), 0, "key field");
	is_key(p, "a\xc3\xa9", "a string key, decoded");
	is_int(LINE("{\"k\":{\"id\":-1.5e3}}"), 0, "number key");
	is_key(p, "-1.5e3", "a number key as written");
	is_int(LINE("{\"k\":{}}"), 1, "no key field");
	is_refused(p, PRODUCER_E_KEY, "no field 'k.id' for the partition key",
	    "missing key field");
	is_int(LINE("{\"k\":{\"id\":null}}"), 1, "null key");
	is_refused(p, PRODUCER_E_KEY, "partition key field is not a string, "
	    "number or boolean", "null key");
	in.key_field = NULL;
	in.raw = 1;
	in.rng = 1;
	is_int(LINE("not json"), 0, "raw: any bytes");
	is_key(p, "47e4ce4b896cdd1d", "raw: random keys, the same seed the same key");
#undef LINE
	producer_intake_free(&in);
	producer_free(p);
}

/* Checks the line formatted into b against want, byte for byte. */
static void
is_line(struct buf *b, int rc, const char *want, const char *what)
{
	ok(rc == 0, "%s: formatted", what);
	is_mem(b->data, b->len, want, strlen(want), what);
	buf_reset(b);
}

static void
test_report_lines(void)
{
	struct producer_report r;
	struct buf b = BUF_INIT;
	static const char bin[] = "a\xff\"b";

	memset(&r, 0, sizeof(r));
	r.line = 7;
	r.delivered = 1;
	r.shard = "shardId-000000000001";
	r.seq = "4960";
	r.subseq = -1;
	r.attempts = 2;
	is_line(&b, producer_report_tee(&b, &r, NULL),
	    "{\"line\":7,\"shard\":\"shardId-000000000001\",\"seq\":\"4960\","
	    "\"attempts\":2}\n", "tee, one input, delivered");
	r.subseq = 3;
	is_line(&b, producer_report_tee(&b, &r, "in \"a\".json"),
	    "{\"line\":7,\"file\":\"in \\\"a\\\".json\",\"shard\":"
	    "\"shardId-000000000001\",\"seq\":\"4960\",\"subseq\":3,"
	    "\"attempts\":2}\n", "tee, two inputs, in an aggregate");
	memset(&r, 0, sizeof(r));
	r.line = 9;
	r.code = "ProvisionedThroughputExceededException";
	r.message = "Rate exceeded\n";
	r.attempts = 10;
	r.data = "{\"p\":\"\xc3\xa9\"}";
	r.len = strlen(r.data);
	is_line(&b, producer_report_tee(&b, &r, NULL),
	    "{\"line\":9,\"error\":\"ProvisionedThroughputExceededException\","
	    "\"attempts\":10}\n", "tee, failed");
	is_line(&b, producer_report_dead_letter(&b, &r, "<stdin>"),
	    "{\"line\":9,\"file\":\"<stdin>\",\"error\":"
	    "\"ProvisionedThroughputExceededException\",\"message\":"
	    "\"Rate exceeded\\n\",\"data\":\"{\\\"p\\\":\\\"\xc3\xa9\\\"}\"}\n",
	    "dead letter, UTF-8 data as a string");
	r.data = bin;
	r.len = sizeof(bin) - 1;
	is_line(&b, producer_report_dead_letter(&b, &r, "x"),
	    "{\"line\":9,\"file\":\"x\",\"error\":"
	    "\"ProvisionedThroughputExceededException\",\"message\":"
	    "\"Rate exceeded\\n\",\"data_b64\":\"Yf8iYg==\"}\n",
	    "dead letter, other bytes as base64");
	r.data = NULL;
	r.len = 0;
	r.code = PRODUCER_E_LINE;
	r.message = "line longer than 1048576 bytes";
	is_line(&b, producer_report_dead_letter(&b, &r, "x"),
	    "{\"line\":9,\"file\":\"x\",\"error\":\"LineTooLong\","
	    "\"message\":\"line longer than 1048576 bytes\",\"data\":null}\n",
	    "dead letter, no data kept");
	buf_free(&b);
}

int
main(void)
{
	test_linger_and_limits();
	test_byte_limit();
	test_partial_retry_in_order();
	test_retry_together();
	test_give_up();
	test_timeout();
	test_refusals();
	test_ordered();
	test_aggregate();
	test_reshard();
	test_abandon();
	test_shard_map();
	test_report_lines();
	test_add_line();
	test_drain();
	return tap_done();
}
