#include <stdlib.h>

#include <jansson.h>

#include "kinesis.h"
#include "tap.h"

static void
test_key_hash(void)
{
	char h[40];

	/* expected values: int(hashlib.md5(key).hexdigest(), 16) in Python */
	kinesis_key_hash("bitcoin", 7, h);
	is_str(h, "272964852428226278416255018681178478490", "md5 of bitcoin");
	kinesis_key_hash("", 0, h);
	is_str(h, "281949768489412648962353822266799178366", "md5 of empty");
	kinesis_key_hash("crypto", 6, h);
	is_str(h, "120844055648388579583204022015615363802", "md5 of crypto");
	ok(kinesis_hash_cmp("99", "100") < 0, "hash keys compare by value");
	ok(kinesis_hash_cmp("340282366920938463463374607431768211455",
	    "170141183460469231731687303715884105728") > 0, "max > half");
	ok(kinesis_hash_key_valid("0") && kinesis_hash_key_valid(
	    "340282366920938463463374607431768211455"), "0 and 2^128 - 1 are "
	    "hash keys");
	ok(!kinesis_hash_key_valid("340282366920938463463374607431768211456"),
	    "2^128 is not");
	ok(!kinesis_hash_key_valid("") && !kinesis_hash_key_valid("01") &&
	    !kinesis_hash_key_valid("-1") && !kinesis_hash_key_valid("1x") &&
	    !kinesis_hash_key_valid(" 1"), "nor empty, 01, -1, 1x, ' 1'");
}

static void
test_batch_body(void)
{
	struct kinesis_batch b = { BUF_INIT, 0, 0 };
	struct errbuf e;
	json_t *root, *recs;

	kinesis_batch_begin(&b, "gecko", &e);
	kinesis_batch_add(&b, "{\"crypto\":\"bitcoin\"}", 20, "bitcoin", 7,
	    NULL, &e);
	kinesis_batch_add(&b, "ab", 2, "k\"\\\n", 4, "12345", &e);
	ok(kinesis_batch_add(&b, "x", 1, "\xff", 1, NULL, &e) == -1 &&
	    e.kind == ERR_DATA, "a key that is not UTF-8 is refused");
	kinesis_batch_end(&b, &e);
	is_int(b.count, 2, "two records");
	is_int(b.bytes, 20 + 7 + 2 + 4, "bytes count data and keys");
	root = json_loadb(b.body.data, b.body.len, 0, NULL);
	ok(root != NULL, "body is JSON");
	is_str(json_string_value(json_object_get(root, "StreamName")), "gecko",
	    "stream by name");
	recs = json_object_get(root, "Records");
	is_str(json_string_value(json_object_get(json_array_get(recs, 0),
	    "Data")), "eyJjcnlwdG8iOiJiaXRjb2luIn0=", "data is base64");
	is_str(json_string_value(json_object_get(json_array_get(recs, 1),
	    "Data")), "YWI=", "padding");
	is_str(json_string_value(json_object_get(json_array_get(recs, 1),
	    "PartitionKey")), "k\"\\\n", "key escaped and back");
	is_str(json_string_value(json_object_get(json_array_get(recs, 1),
	    "ExplicitHashKey")), "12345", "explicit hash key");
	json_decref(root);
	kinesis_batch_begin(&b, "arn:aws:kinesis:us-east-1:1:stream/g", &e);
	kinesis_batch_end(&b, &e);
	is_str(b.body.data, "{\"StreamARN\":\"arn:aws:kinesis:us-east-1:1:"
	    "stream/g\",\"Records\":[]}", "stream by ARN; begin resets");
	kinesis_batch_free(&b);
}

static void
test_put_parse(void)
{
	static const char body[] = "{\"FailedRecordCount\":1,\"Records\":["
	    "{\"SequenceNumber\":\"4959\",\"ShardId\":\"shardId-000000000001\"},"
	    "{\"ErrorCode\":\"ProvisionedThroughputExceededException\","
	    "\"ErrorMessage\":\"Rate exceeded\"},"
	    "{\"SequenceNumber\":\"4960\",\"ShardId\":\"shardId-000000000002\"}]}";
	struct kinesis_put_result r[3];
	struct errbuf e;

	is_int(kinesis_put_parse(body, strlen(body), 3, r, &e), 1, "one failed");
	is_str(r[0].seq, "4959", "first delivered");
	is_str(r[0].shard, "shardId-000000000001", "its shard");
	is_str(r[1].error_code, "ProvisionedThroughputExceededException",
	    "second failed with its code");
	is_str(r[1].seq, "", "no sequence for the failed one");
	is_str(r[2].error_code, "", "third delivered");
	ok(kinesis_put_parse(body, strlen(body), 2, r, &e) == -1,
	    "a count mismatch is an error, never a silent success");
	ok(kinesis_put_parse("<html>", 6, 1, r, &e) == -1, "not JSON");
	is_int(kinesis_put_parse("{\"Records\":[{}]}", 16, 1, r, &e), 1,
	    "an entry with neither sequence nor error counts as failed");
}

static void
test_list_shards(void)
{
	static const char body[] = "{\"Shards\":[{\"ShardId\":\"shardId-0\","
	    "\"HashKeyRange\":{\"StartingHashKey\":\"0\",\"EndingHashKey\":\"9\"},"
	    "\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"1\","
	    "\"EndingSequenceNumber\":\"5\"}},{\"ShardId\":\"shardId-1\","
	    "\"ParentShardId\":\"shardId-0\",\"HashKeyRange\":{\"StartingHashKey\":"
	    "\"0\",\"EndingHashKey\":\"9\"},\"SequenceNumberRange\":"
	    "{\"StartingSequenceNumber\":\"6\"}}],\"NextToken\":\"tok\"}";
	struct kinesis_shard_list l = { 0 };
	const struct kinesis_shard *s;
	struct errbuf e;
	char *next;

	ok(kinesis_list_shards_parse(body, strlen(body), &l, &next, &e) == 0,
	    "parse");
	is_int(l.n, 2, "two shards");
	is_str(next, "tok", "next token");
	s = &l.v[1];
	ok(strcmp(s->id, "shardId-1") == 0 &&
	    strcmp(s->parent, "shardId-0") == 0 && s->end_seq[0] == '\0',
	    "child, in the order listed: parent known, open");
	s = &l.v[0];
	ok(strcmp(s->id, "shardId-0") == 0 && strcmp(s->end_seq, "5") == 0,
	    "parent closed");
	free(next);
	kinesis_list_shards_parse("{\"Shards\":[]}", 13, &l, &next, &e);
	ok(next == NULL && l.n == 2, "last page: no token; pages append");
	kinesis_shard_list_free(&l);
}

static void
test_get_records(void)
{
	static const char body[] = "{\"Records\":[{\"Data\":\"YWI=\","
	    "\"PartitionKey\":\"k\",\"SequenceNumber\":\"77\","
	    "\"ApproximateArrivalTimestamp\":1764331200.25}],"
	    "\"NextShardIterator\":null,\"MillisBehindLatest\":0,"
	    "\"ChildShards\":[{\"ShardId\":\"shardId-2\"},"
	    "{\"ShardId\":\"shardId-3\"}]}";
	static const char bad64[] = "{\"Records\":[{\"Data\":\"Y\","
	    "\"PartitionKey\":\"k\",\"SequenceNumber\":\"1\"}]}";
	struct kinesis_get_result r;
	struct errbuf e;

	ok(kinesis_get_parse(body, strlen(body), &r, &e) == 0, "parse");
	is_int(r.n, 1, "one record");
	is_mem((const char *)r.records[0].data, r.records[0].len, "ab", 2,
	    "data decoded");
	is_str(r.records[0].seq, "77", "sequence");
	ok(r.records[0].arrival == 1764331200.25, "arrival");
	ok(r.next_iterator == NULL, "null iterator: shard end");
	is_int(r.nchildren, 2, "two children");
	is_str(r.child_shards[1], "shardId-3", "child ids");
	kinesis_get_result_free(&r);
	ok(kinesis_get_parse(bad64, strlen(bad64), &r, &e) == -1 &&
	    strstr(e.msg, "record 0 is malformed") != NULL,
	    "bad base64 refused");
	ok(kinesis_get_parse("{}", 2, &r, &e) == -1, "no Records refused");
}

int
main(void)
{
	test_key_hash();
	test_batch_body();
	test_put_parse();
	test_list_shards();
	test_get_records();
	return tap_done();
}
