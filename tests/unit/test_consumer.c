#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "consumer.h"
#include "ndjson.h"
#include "tap.h"

static void
test_time(void)
{
	struct errbuf e;
	char out[CONSUMER_TIME_LEN];
	double t;

	ok(consumer_parse_time("1970-01-01T00:00:00Z", &t, &e) == 0 && t == 0,
	    "epoch");
	ok(consumer_parse_time("2024-02-29T12:34:56.5Z", &t, &e) == 0 &&
	    t == 1709210096.5, "leap day with a fraction");
	ok(consumer_parse_time("2024-05-01", &t, &e) == 0 && t == 1714521600,
	    "date alone is midnight UTC");
	ok(consumer_parse_time("2024-05-01 10:00", &t, &e) == 0 &&
	    t == 1714557600, "space and no seconds");
	ok(consumer_parse_time("2023-02-29T00:00:00Z", &t, &e) == -1,
	    "no Feb 29 in 2023");
	ok(consumer_parse_time("2024-05-01T25:00:00Z", &t, &e) == -1,
	    "hour 25 refused");
	ok(consumer_parse_time("2024-05-01T10:00:00+02:00", &t, &e) == -1,
	    "offsets refused (UTC only)");
	ok(consumer_parse_time("yesterday", &t, &e) == -1 &&
	    e.kind == ERR_USAGE, "words refused as usage errors");
	consumer_format_time(1709210096.5, out);
	is_str(out, "2024-02-29T12:34:56.500Z", "format with milliseconds");
	consumer_format_time(1700000000.1239, out);
	is_str(out, "2023-11-14T22:13:20.124Z", "rounded to the millisecond");
	consumer_format_time(0, out);
	is_str(out, "1970-01-01T00:00:00.000Z", "format epoch");
}

static void
test_from(void)
{
	struct consumer_start s;
	struct checkpoint_shard cs;
	struct errbuf e;

	ok(consumer_parse_from("trim-horizon", 0, &s, &e) == 0 &&
	    s.type == KINESIS_TRIM_HORIZON, "trim-horizon");
	ok(consumer_parse_from("latest", 0, &s, &e) == 0 &&
	    s.type == KINESIS_LATEST, "latest");
	ok(consumer_parse_from("-90s", 1000000, &s, &e) == 0 &&
	    s.type == KINESIS_AT_TIMESTAMP && s.at == 910, "-90s before now");
	ok(consumer_parse_from("2024-05-01T00:00:00Z", 0, &s, &e) == 0 &&
	    s.type == KINESIS_AT_TIMESTAMP && s.at == 1714521600, "timestamp");
	ok(consumer_parse_from("at:123", 0, &s, &e) == 0 &&
	    s.type == KINESIS_AT_SEQUENCE && strcmp(s.seq, "123") == 0, "at:SEQ");
	ok(consumer_parse_from("after:456", 0, &s, &e) == 0 &&
	    s.type == KINESIS_AFTER_SEQUENCE && strcmp(s.seq, "456") == 0,
	    "after:SEQ");
	ok(consumer_parse_from("after:4x", 0, &s, &e) == -1, "bad SEQ");
	ok(consumer_parse_from("-soon", 0, &s, &e) == -1, "bad duration");
	ok(consumer_parse_from("earliest", 0, &s, &e) == -1 &&
	    e.kind == ERR_USAGE, "unknown word");

	memset(&cs, 0, sizeof(cs));
	cs.subseq = CHECKPOINT_NO_SUBSEQ;
	is_int(consumer_start_from_checkpoint(&cs, &s), 1,
	    "a checkpoint entry without seq gives no position");
	cs.seq = (char *)"777";
	ok(consumer_start_from_checkpoint(&cs, &s) == 0 &&
	    s.type == KINESIS_AFTER_SEQUENCE && strcmp(s.seq, "777") == 0,
	    "whole record: resume after it");
	cs.subseq = 4;
	ok(consumer_start_from_checkpoint(&cs, &s) == 0 &&
	    s.type == KINESIS_AT_SEQUENCE && s.skip_through == 4,
	    "inside an aggregate: at it, skipping sub-records 0..4");
}

static struct kinesis_shard
mk(const char *id, const char *parent, const char *adj, int closed)
{
	struct kinesis_shard s;

	memset(&s, 0, sizeof(s));
	snprintf(s.id, sizeof(s.id), "%s", id);
	snprintf(s.parent, sizeof(s.parent), "%s", parent);
	snprintf(s.adjacent_parent, sizeof(s.adjacent_parent), "%s", adj);
	if (closed)
		snprintf(s.end_seq, sizeof(s.end_seq), "99");
	return s;
}

static void
test_graph(void)
{
	struct kinesis_shard v[5];
	struct kinesis_shard_list l = { v, 0, 5 };
	struct consumer_graph g = { 0 };
	struct consumer_shard *a, *b, *c, *m;
	struct errbuf e;
	size_t added, i;

	v[0] = mk("shardId-000000000000", "", "", 1);
	v[1] = mk("shardId-000000000001", "", "", 0);
	v[2] = mk("shardId-000000000002", "shardId-000000000000", "", 0);
	l.n = 3;
	ok(consumer_graph_merge(&g, &l, &added, &e) == 0 && added == 3,
	    "three shards added");
	for (i = 0; i < g.n; i++)
		g.v[i]->selected = 1;
	a = consumer_graph_find(&g, "shardId-000000000000");
	b = consumer_graph_find(&g, "shardId-000000000001");
	c = consumer_graph_find(&g, "shardId-000000000002");
	ok(a && b && c && a->closed && !b->closed, "found, closed noted");
	ok(consumer_parents_done(&g, a), "no parent: ready");
	ok(!consumer_parents_done(&g, c), "child waits for its parent");
	a->finished = 1;
	ok(consumer_parents_done(&g, c), "child ready once the parent ended");
	a->finished = 0;
	a->selected = 0;
	ok(consumer_parents_done(&g, c),
	    "a parent this process does not read is not waited for");
	a->selected = 1;

	/* a merge of 1 and 2 into 3: both parents must end */
	v[3] = mk("shardId-000000000003", "shardId-000000000001",
	    "shardId-000000000002", 0);
	v[1].end_seq[0] = '9';
	l.n = 4;
	ok(consumer_graph_merge(&g, &l, &added, &e) == 0 && added == 1,
	    "re-listing adds only the new shard");
	ok(b->closed, "a shard closed since is noted");
	m = g.v[g.n - 1];
	is_str(m->id, "shardId-000000000003", "new shard is last");
	ok(m->selected == 0, "new shard not selected yet");
	b->finished = 1;
	ok(!consumer_parents_done(&g, m), "merge child waits for both parents");
	c->finished = 1;
	ok(consumer_parents_done(&g, m), "merge child ready after both");
	v[4] = mk("shardId-000000000004", "shardId-000000000999", "", 0);
	l.n = 5;
	consumer_graph_merge(&g, &l, NULL, &e);
	ok(consumer_parents_done(&g, g.v[g.n - 1]),
	    "a parent gone from the stream (expired) is not waited for");
	consumer_graph_free(&g);
	consumer_graph_free(NULL);
}

static void
test_slice(void)
{
	struct errbuf e;
	long i, n, k, hits;
	char id[32];

	is_int(consumer_shard_number("shardId-000000000012"), 12, "number");
	is_int(consumer_shard_number("shard-1"), -1, "other forms: -1");
	is_int(consumer_shard_number("shardId-"), -1, "no digits: -1");
	ok(consumer_parse_slice("1/3", &i, &n, &e) == 0 && i == 1 && n == 3,
	    "1/3");
	ok(consumer_parse_slice("3/3", &i, &n, &e) == -1, "I must be < N");
	ok(consumer_parse_slice("0/0", &i, &n, &e) == -1, "N >= 1");
	ok(consumer_parse_slice("-1/2", &i, &n, &e) == -1, "negative");
	ok(consumer_parse_slice("1/2x", &i, &n, &e) == -1, "trailing junk");
	hits = 0;
	for (k = 0; k < 10; k++) {
		snprintf(id, sizeof(id), "shardId-%012ld", k);
		for (i = 0; i < 3; i++)
			hits += consumer_shard_in_slice(id, 0, i, 3);
	}
	is_int(hits, 10, "every shard in exactly one of 3 slices");
	ok(consumer_shard_in_slice("odd", 4, 0, 2) &&
	    !consumer_shard_in_slice("odd", 4, 1, 2), "fallback index");
}

static void
test_pace(void)
{
	is_int(consumer_pace_next(1000, 1010, 0, 0, 0), 1200,
	    "5 calls a second");
	is_int(consumer_pace_next(1000, 1100, 4u << 20, 0, 0), 3000,
	    "4 MiB waits 2 s at 2 MiB/s");
	is_int(consumer_pace_next(1000, 1050, 10, 1, 1000), 2050,
	    "caught up: idle poll after the answer");
	is_int(consumer_pace_next(1000, 1050, 10, 1, 0), 1200,
	    "caught up without idle wait");
	ok(consumer_caught_up(0, 3, 100), "0 behind, short page: caught up");
	ok(!consumer_caught_up(0, 100, 100), "full page: more may wait");
	ok(!consumer_caught_up(5, 0, 100), "behind: not caught up");
	ok(!consumer_caught_up(-1, 0, 100), "no MillisBehindLatest: not");
}

static struct consumer_record
rec(const char *data, size_t len, long subseq)
{
	struct consumer_record r;

	memset(&r, 0, sizeof(r));
	r.stream = "gecko";
	r.shard = "shardId-000000000001";
	r.seq = "4959";
	r.subseq = subseq;
	r.arrival = 1714521600.25;
	r.key = "bitcoin";
	r.key_len = 7;
	r.data = (const unsigned char *)data;
	r.len = len;
	return r;
}

#define FMT(f, d, sub) (r = rec((d), sizeof(d) - 1, (sub)),		\
	buf_reset(&b), consumer_format_record(&b, (f), &r, &e))

static void
test_format(void)
{
	struct buf b = BUF_INIT;
	struct consumer_record r;
	struct errbuf e;

	ok(FMT(CONSUMER_DATA, "{\"p\":0.00095032}", -1) == 0, "data");
	is_str(b.data, "{\"p\":0.00095032}\n", "data and a newline");
	ok(FMT(CONSUMER_DATA, "line\n", -1) == 0 &&
	    strcmp(b.data, "line\n") == 0, "a trailing newline is kept, once");
	ok(FMT(CONSUMER_DATA, "a\nb", -1) == 1 && b.len == 0 &&
	    e.kind == ERR_DATA, "two lines refused, nothing written");
	ok(FMT(CONSUMER_DATA, "\xff\xfe", -1) == 1 &&
	    strstr(e.msg, "UTF-8") != NULL, "binary refused");
	ok(FMT(CONSUMER_DATA, "a\0b", -1) == 1, "NUL refused");
	ok(FMT(CONSUMER_DATA, "\xed\xa0\x80", -1) == 1, "surrogate refused");
	ok(FMT(CONSUMER_DATA, "\xc3\xa9t\xc3\xa9 \xf0\x9f\x98\x80", -1) == 0,
	    "UTF-8 accepted");

	FMT(CONSUMER_ENVELOPE, "{\"p\": 1.10,\n \"n\":12345678901234567890}",
	    -1);
	is_str(b.data, "{\"stream\":\"gecko\",\"shard\":\"shardId-000000000001\","
	    "\"seq\":\"4959\",\"subseq\":null,\"arrival\":\"2024-05-01T00:00:"
	    "00.250Z\",\"key\":\"bitcoin\",\"data\":{\"p\": 1.10, \"n\":"
	    "12345678901234567890}}\n",
	    "envelope: JSON data verbatim on one line");
	FMT(CONSUMER_ENVELOPE, "plain \"text\"", 3);
	ok(strstr(b.data, "\"subseq\":3,") != NULL &&
	    strstr(b.data, ",\"data\":\"plain \\\"text\\\"\"}\n") != NULL,
	    "envelope: text as a string, subseq of an aggregate");
	FMT(CONSUMER_ENVELOPE, "\x00\xff", -1);
	ok(strstr(b.data, ",\"data_b64\":\"AP8=\"}\n") != NULL,
	    "envelope: binary as base64");
	FMT(CONSUMER_ENVELOPE, "", -1);
	ok(strstr(b.data, ",\"data\":\"\"}\n") != NULL, "envelope: empty");

	ok(FMT(CONSUMER_META, " {\"p\":1.10}\n", -1) == 0, "meta");
	is_str(b.data, "{\"p\":1.10,\"_shard\":\"shardId-000000000001\","
	    "\"_seq\":\"4959\",\"_arrival\":\"2024-05-01T00:00:00.250Z\","
	    "\"_key\":\"bitcoin\"}\n", "meta: members appended, digits kept");
	ok(FMT(CONSUMER_META, "{ }", 2) == 0, "meta of {}");
	is_str(b.data, "{ \"_shard\":\"shardId-000000000001\",\"_seq\":"
	    "\"4959\",\"_subseq\":2,\"_arrival\":\"2024-05-01T00:00:00.250Z\","
	    "\"_key\":\"bitcoin\"}\n", "meta: no comma in an empty object");
	ok(FMT(CONSUMER_META, "[1]", -1) == 1 && b.len == 0 &&
	    strstr(e.msg, "array") != NULL, "meta refuses an array");
	ok(FMT(CONSUMER_META, "{\"a\":", -1) == 1 && e.kind == ERR_DATA,
	    "meta refuses invalid JSON");

	buf_reset(&b);
	ndjson_append_string_lossy(&b, "a\"\x01\xff" "b", 5);
	is_str(b.data, "\"a\\\"\\u0001\\ufffdb\"",
	    "strings escaped, invalid bytes replaced");
	is_int(ndjson_utf8_prefix("ab\xc0\x80", 4), 2,
	    "overlong form stops the prefix");
	buf_free(&b);
}

int
main(void)
{
	test_time();
	test_from();
	test_graph();
	test_slice();
	test_pace();
	test_format();
	return tap_done();
}
