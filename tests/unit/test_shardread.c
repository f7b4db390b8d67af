/* test_shardread: the GetRecords engine against a stub Kinesis. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "awsconf.h"
#include "buf.h"
#include "checkpoint.h"
#include "creds.h"
#include "errbuf.h"
#include "shardread.h"
#include "stubsrv.h"
#include "tap.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* 2015-08-30T12:36:00Z */
#define T0 1440938160

#define LIST_BODY "{\"Shards\":[{\"ShardId\":\"shardId-000000000000\"," \
	"\"HashKeyRange\":{\"StartingHashKey\":\"0\",\"EndingHashKey\":" \
	"\"340282366920938463463374607431768211455\"}," \
	"\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"1\"}}]}"
#define ITER_BODY "{\"ShardIterator\":\"it-1\"}"
/* one record "hi", caught up */
#define PAGE_BODY "{\"Records\":[{\"SequenceNumber\":\"100\"," \
	"\"ApproximateArrivalTimestamp\":1440938160,\"Data\":\"aGk=\"," \
	"\"PartitionKey\":\"k\"}],\"NextShardIterator\":\"it-2\"," \
	"\"MillisBehindLatest\":0}"

struct fixture {
	struct stubsrv srv;
	struct stubsrv_log log;
	struct creds_provider *creds;
	struct aws_client *client;
	struct http_options http;
	struct checkpoint cp;
	struct shardread_options so;
	struct shardread *sr;
	struct errbuf err;
	struct buf out;
	struct buf notices;
	long long mono;
	time_t now;
	long long wall_step_ms;	/* each wall_ms reading moves on this much */
	long long wall_moved_ms;
	volatile sig_atomic_t stop;
};

static time_t
fake_now(void *arg)
{
	return ((struct fixture *)arg)->now;
}

static uint32_t
fake_random(void *arg)
{
	(void)arg;
	return 0;
}

static void
fake_sleep(void *arg, long ms)
{
	(void)arg;
	(void)ms;
}

static long long
fake_mono(void *arg)
{
	return ((struct fixture *)arg)->mono;
}

static long long
fake_wall(void *arg)
{
	struct fixture *f = arg;
	long long t = (long long)f->now * 1000 + f->wall_moved_ms;

	f->wall_moved_ms += f->wall_step_ms;
	return t;
}

/* Waiting moves the fake clock instead. */
static void
fake_pause(void *arg, int ms)
{
	((struct fixture *)arg)->mono += ms;
}

static int
on_record(void *arg, const struct consumer_record *cr, struct errbuf *err)
{
	struct fixture *f = arg;

	(void)err;
	buf_append(&f->out, cr->data, cr->len);
	buf_puts(&f->out, "\n");
	return 0;
}

static void
on_notice(void *arg, int level, const char *msg)
{
	struct fixture *f = arg;

	buf_printf(&f->notices, "%d %s\n", level, msg);
}

static int
fixture_client(struct fixture *f)
{
	char endpoint[64], region[] = "us-east-1";
	struct awsconf conf;
	struct aws_options o;

	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d",
	    f->srv.port);
	memset(&conf, 0, sizeof(conf));
	conf.region = region;
	conf.endpoint = endpoint;
	conf.custom_endpoint = 1;
	memset(&o, 0, sizeof(o));
	o.conf = &conf;
	o.service = "kinesis";
	o.stop = &f->stop;
	o.now_fn = fake_now;
	o.random_fn = fake_random;
	o.sleep_fn = fake_sleep;
	o.hook_arg = f;
	if ((f->creds = creds_provider_new(NULL, &f->err)) == NULL)
		return -1;
	o.get_creds = creds_supply;
	o.creds_arg = f->creds;
	f->client = aws_client_new(&o, &f->err);
	return f->client != NULL ? 0 : -1;
}

/* --from of the next fixture_start (it resets it to TRIM_HORIZON) */
static enum kinesis_start next_from = KINESIS_TRIM_HORIZON;

/* Starts the stub with script, a client and a reader of shard 0. */
static int
fixture_start(struct fixture *f, const struct stubsrv_response *script,
    size_t n, long limit)
{
	struct shardread_options *so = &f->so;

	memset(f, 0, sizeof(*f));
	f->now = T0;
	f->mono = 1000000;
	if (stubsrv_start(&f->srv, script, n) != 0 || fixture_client(f) != 0)
		return -1;
	f->http.user_agent = "test_shardread";
	so->client = f->client;
	so->http = &f->http;
	so->stream = "gecko";
	so->start.type = next_from;
	next_from = KINESIS_TRIM_HORIZON;
	so->limit = limit;
	so->cp = &f->cp;
	so->stop = &f->stop;
	so->record = on_record;
	so->notice = on_notice;
	so->arg = f;
	so->mono_ms = fake_mono;
	so->wall_ms = fake_wall;
	so->pause_ms = fake_pause;
	so->hook_arg = f;
	if ((f->sr = shardread_new(so, &f->err)) == NULL)
		return -1;
	return shardread_start(f->sr, &f->err);
}

static void
fixture_stop(struct fixture *f)
{
	shardread_free(f->sr);
	stubsrv_log_free(&f->log);
	stubsrv_stop(&f->srv);
	aws_client_free(f->client);
	creds_provider_free(f->creds);
	checkpoint_free(&f->cp);
	buf_free(&f->out);
	buf_free(&f->notices);
}

static const char *
notices(struct fixture *f)
{
	return f->notices.len ? f->notices.data : "";
}

static void
test_500_then_200(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = LIST_BODY },
		{ .status = 200, .body = ITER_BODY },
		{ .status = 500, .body = "{\"__type\":\"InternalFailure\"}" },
		{ .status = 200, .body = PAGE_BODY },
	};
	struct fixture f;
	const struct shardread_stats *st;

	if (fixture_start(&f, script, LEN(script), 10000) != 0) {
		ok(0, "start: %s", f.err.msg);
		fixture_stop(&f);
		return;
	}
	is_int(shardread_run(f.sr, &f.err), 0, "a 500 is retried");
	st = shardread_stats(f.sr);
	is_int(st->calls, 2, "two GetRecords calls");
	is_int(st->records, 1, "the record of the second answer");
	is_int(st->throttled, 0, "a 500 is no throttling");
	ok(f.out.len == 3 && memcmp(f.out.data, "hi\n", 3) == 0,
	    "the record handed over once");
	ok(strstr(notices(&f), "1 GetRecords shardId-000000000000: ") &&
	    strstr(notices(&f), "; retrying in "),
	    "the retry is a level-1 notice");
	stubsrv_read(&f.srv, &f.log);
	is_int(f.log.n, 4, "four requests");
	if (f.log.n == 4)
		ok(strstr(f.log.req[3].body, "\"it-1\"") != NULL,
		    "the retry reuses the iterator");
	fixture_stop(&f);
}

static void
test_throttled(void)
{
	static const struct stubsrv_response t = { .status = 400,
	    .body = "{\"__type\":\"ProvisionedThroughputExceededException\"}" };
	static const struct stubsrv_response head[] = {
		{ .status = 200, .body = LIST_BODY },
		{ .status = 200, .body = ITER_BODY },
	};
	static const struct stubsrv_response page = { .status = 200,
	    .body = PAGE_BODY };
	struct stubsrv_response script[8];
	struct fixture f;
	const struct shardread_stats *st;
	long long before;
	size_t i;

	/* more throttled answers than the attempts a failure gets */
	script[0] = head[0];
	script[1] = head[1];
	for (i = 2; i < 7; i++)
		script[i] = t;
	script[7] = page;
	if (fixture_start(&f, script, LEN(script), 10000) != 0) {
		ok(0, "start: %s", f.err.msg);
		fixture_stop(&f);
		return;
	}
	before = f.mono;
	is_int(shardread_run(f.sr, &f.err), 0,
	    "throttling is not a failure: no attempt limit");
	st = shardread_stats(f.sr);
	is_int(st->throttled, 5, "five throttled answers counted");
	is_int(st->calls, 6, "six GetRecords calls");
	is_int(st->records, 1, "then the record");
	ok(f.mono > before, "the reader backed off on its clock");
	ok(strstr(notices(&f), "throttled; retrying in ") != NULL,
	    "the backoff is a notice");
	fixture_stop(&f);
}

static void
test_expired(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = LIST_BODY },
		{ .status = 200, .body = ITER_BODY },
		/* a full page, not caught up */
		{ .status = 200, .body = "{\"Records\":[{\"SequenceNumber\":"
		    "\"100\",\"ApproximateArrivalTimestamp\":1440938160,"
		    "\"Data\":\"YQ==\",\"PartitionKey\":\"k\"}],"
		    "\"NextShardIterator\":\"it-2\",\"MillisBehindLatest\":"
		    "5000}" },
		{ .status = 400,
		    .body = "{\"__type\":\"ExpiredIteratorException\"}" },
		{ .status = 200, .body = "{\"ShardIterator\":\"it-3\"}" },
		{ .status = 200, .body = "{\"Records\":[],"
		    "\"NextShardIterator\":\"it-4\","
		    "\"MillisBehindLatest\":0}" },
	};
	struct fixture f;
	const struct shardread_stats *st;

	if (fixture_start(&f, script, LEN(script), 1) != 0) {
		ok(0, "start: %s", f.err.msg);
		fixture_stop(&f);
		return;
	}
	is_int(shardread_run(f.sr, &f.err), 0,
	    "an expired iterator is renewed");
	st = shardread_stats(f.sr);
	is_int(st->renewed, 1, "one renewal");
	is_int(st->records, 1, "the record before the expiry, once");
	stubsrv_read(&f.srv, &f.log);
	is_int(f.log.n, 6, "six requests");
	if (f.log.n == 6) {
		ok(strstr(f.log.req[4].body, "AFTER_SEQUENCE_NUMBER") &&
		    strstr(f.log.req[4].body, "\"100\""),
		    "renewed after the last sequence number handled");
		ok(strstr(f.log.req[5].body, "\"it-3\"") != NULL,
		    "read on with the new iterator");
	}
	fixture_stop(&f);
}

/* --from latest: an iterator that expires before any record was read is
 * renewed at the time LATEST meant, not at a new LATEST. */
static void
test_expired_at_latest(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = LIST_BODY },
		{ .status = 200, .body = ITER_BODY },
		{ .status = 400,
		    .body = "{\"__type\":\"ExpiredIteratorException\"}" },
		{ .status = 200, .body = "{\"ShardIterator\":\"it-3\"}" },
		{ .status = 200, .body = PAGE_BODY },
	};
	struct fixture f;

	next_from = KINESIS_LATEST;
	if (fixture_start(&f, script, LEN(script), 10000) != 0) {
		ok(0, "start: %s", f.err.msg);
		fixture_stop(&f);
		return;
	}
	f.wall_step_ms = 600000;	/* ten minutes between readings */
	is_int(shardread_run(f.sr, &f.err), 0, "latest: expiry renewed");
	is_int(shardread_stats(f.sr)->records, 1, "the record, once");
	stubsrv_read(&f.srv, &f.log);
	is_int(f.log.n, 5, "five requests");
	if (f.log.n == 5) {
		ok(strstr(f.log.req[1].body, "\"LATEST\"") != NULL,
		    "the first iterator is LATEST");
		ok(strstr(f.log.req[3].body, "\"AT_TIMESTAMP\"") &&
		    strstr(f.log.req[3].body, "\"Timestamp\":1440938159") &&
		    strstr(f.log.req[3].body, "LATEST") == NULL,
		    "renewed AT_TIMESTAMP of the first call, a second early "
		    "(%s)", f.log.req[3].body);
	}
	fixture_stop(&f);
}

static void
test_not_retried(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = LIST_BODY },
		{ .status = 200, .body = ITER_BODY },
		{ .status = 400, .body = "{\"__type\":\"ValidationException\","
		    "\"message\":\"bad\"}" },
	};
	struct fixture f;

	if (fixture_start(&f, script, LEN(script), 10000) != 0) {
		ok(0, "start: %s", f.err.msg);
		fixture_stop(&f);
		return;
	}
	is_int(shardread_run(f.sr, &f.err), -1, "a 400 is not retried");
	ok(strncmp(f.err.msg, "GetRecords shardId-000000000000: ", 33) == 0,
	    "the error names the call and the shard");
	is_int(shardread_stats(f.sr)->calls, 1, "one call");
	fixture_stop(&f);
}

int
main(void)
{
	stubsrv_static_creds_env();
	test_500_then_200();
	test_throttled();
	test_expired();
	test_expired_at_latest();
	test_not_retried();
	return tap_done();
}
