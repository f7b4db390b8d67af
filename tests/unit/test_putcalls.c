/* test_putcalls: a producer's PutRecords calls against the stub server. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "awsconf.h"
#include "clock.h"
#include "creds.h"
#include "http.h"
#include "producer.h"
#include "putcalls.h"
#include "stubsrv.h"
#include "tap.h"

#define NREC 3
#define RUN_LIMIT_MS 20000LL	/* the longest backoff here is ~1 s */

struct fixture {
	struct stubsrv srv;
	struct stubsrv_log log;
	struct creds_provider *creds;
	struct aws_client *client;
	struct producer *p;
	struct putcalls *calls;
	struct producer_report rep[NREC];
	int nrep, rc;
	struct errbuf why, err;
};

static int
fixture_start(struct fixture *f, const struct stubsrv_response *script,
    size_t n)
{
	char endpoint[64], region[] = "us-east-1";
	struct awsconf conf;
	struct aws_options o;
	struct producer_config pc;
	struct putcalls_options co;
	struct http_options ho;

	memset(f, 0, sizeof(*f));
	if (stubsrv_start(&f->srv, script, n) != 0)
		return -1;
	snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d",
	    f->srv.port);
	memset(&conf, 0, sizeof(conf));
	conf.region = region;
	conf.endpoint = endpoint;
	conf.custom_endpoint = 1;
	memset(&o, 0, sizeof(o));
	o.conf = &conf;
	o.service = "kinesis";
	if ((f->creds = creds_provider_new(NULL, &f->err)) == NULL)
		return -1;
	o.get_creds = creds_supply;
	o.creds_arg = f->creds;
	if ((f->client = aws_client_new(&o, &f->err)) == NULL)
		return -1;
	memset(&pc, 0, sizeof(pc));
	pc.max_attempts = 3;
	pc.ngroups = 1;
	pc.seed = 7;
	if ((f->p = producer_new(&pc, &f->err)) == NULL)
		return -1;
	memset(&ho, 0, sizeof(ho));
	memset(&co, 0, sizeof(co));
	co.client = f->client;
	co.http = &ho;
	co.inflight = 2;
	co.stream = "gecko";
	f->calls = putcalls_new(&co, f->p, &f->err);
	return f->calls != NULL ? 0 : -1;
}

static void
fixture_stop(struct fixture *f)
{
	stubsrv_log_free(&f->log);
	stubsrv_stop(&f->srv);
	putcalls_free(f->calls);
	producer_free(f->p);
	aws_client_free(f->client);
	creds_provider_free(f->creds);
}

/* Adds NREC records, then drives the calls as kin-put's loop does until
 * every report is out, a refusal stops them, or the time limit. */
static void
deliver(struct fixture *f)
{
	long long wake, end = clock_mono_ms() + RUN_LIMIT_MS;
	char data[32];
	int i, ready;

	for (i = 0; i < NREC; i++) {
		snprintf(data, sizeof(data), "{\"n\":%d}", i + 1);
		producer_add(f->p, data, strlen(data), "k", 1, 0, 0,
		    (unsigned long)i + 1, clock_mono_ms(), &f->err);
	}
	while (clock_mono_ms() < end && f->rc == 0) {
		while (f->nrep < NREC &&
		    producer_next_report(f->p, &f->rep[f->nrep]))
			f->nrep++;
		if (producer_idle(f->p) && putcalls_busy(f->calls) == 0)
			break;
		if (putcalls_send(f->calls, 1, &wake, &f->err) == -1 ||
		    (f->rc = putcalls_wait(f->calls, -1, 50, &ready, &f->why,
		    &f->err)) == -1)
			break;
	}
	while (f->nrep < NREC && producer_next_report(f->p, &f->rep[f->nrep]))
		f->nrep++;
	stubsrv_read(&f->srv, &f->log);
}

/* 1 when the request's body carries exactly the records named, in order
 * (base64 of {"n":1} is eyJuIjoxfQ==, and so on). */
static int
body_has(const struct stubsrv_req *q, const char *which)
{
	static const char *b64[] = { "eyJuIjoxfQ==", "eyJuIjoyfQ==",
	    "eyJuIjozfQ==" };
	const char *at = q->body;
	int i, want;

	for (i = 0; i < NREC; i++) {
		want = strchr(which, '1' + i) != NULL;
		if ((strstr(q->body, b64[i]) != NULL) != want)
			return 0;
		if (want && (at = strstr(at, b64[i])) == NULL)
			return 0;
	}
	return 1;
}

static void
test_partial_failure(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = "{\"FailedRecordCount\":1,\"Records\":["
		    "{\"SequenceNumber\":\"11\",\"ShardId\":\"shardId-0\"},"
		    "{\"ErrorCode\":\"ProvisionedThroughputExceededException\","
		    "\"ErrorMessage\":\"Rate exceeded\"},"
		    "{\"SequenceNumber\":\"13\",\"ShardId\":\"shardId-0\"}]}" },
		{ .status = 200, .body = "{\"FailedRecordCount\":0,\"Records\":["
		    "{\"SequenceNumber\":\"12\",\"ShardId\":\"shardId-1\"}]}" },
	};
	struct fixture f;

	if (fixture_start(&f, script, 2) != 0) {
		ok(0, "fixture: %s", f.err.msg);
		fixture_stop(&f);
		return;
	}
	deliver(&f);
	is_int(f.rc, 0, "partial failure: no refusal");
	is_int(f.log.n, 2, "partial failure: two calls");
	ok(f.log.n == 2 && body_has(&f.log.req[0], "123"),
	    "first call carries every record");
	ok(f.log.n == 2 && body_has(&f.log.req[1], "2"),
	    "second call carries only the failed one");
	ok(f.log.n > 0 && stubsrv_req_header(&f.log.req[0], "Authorization")
	    != NULL, "calls are signed");
	is_str(f.log.n > 0 ? stubsrv_req_header(&f.log.req[0],
	    "X-Amz-Target") : NULL, "Kinesis_20131202.PutRecords",
	    "calls are PutRecords");
	is_int(f.nrep, 3, "three reports");
	ok(f.nrep == 3 && f.rep[0].delivered && f.rep[1].delivered &&
	    f.rep[2].delivered, "all delivered");
	ok(f.nrep == 3 && strcmp(f.rep[1].seq, "12") == 0 &&
	    strcmp(f.rep[1].shard, "shardId-1") == 0 &&
	    strcmp(f.rep[2].seq, "13") == 0, "each has its own answer");
	ok(f.nrep == 3 && f.rep[0].attempts == 1 && f.rep[1].attempts == 2 &&
	    f.rep[2].attempts == 1, "attempts counted per record");
	fixture_stop(&f);
}

static void
test_500_then_200(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 500, .headers = "Content-Type: "
		    "application/x-amz-json-1.1", .body = "{\"__type\":"
		    "\"InternalFailure\",\"message\":\"try again\"}" },
		{ .status = 200, .body = "{\"FailedRecordCount\":0,\"Records\":["
		    "{\"SequenceNumber\":\"1\",\"ShardId\":\"shardId-0\"},"
		    "{\"SequenceNumber\":\"2\",\"ShardId\":\"shardId-0\"},"
		    "{\"SequenceNumber\":\"3\",\"ShardId\":\"shardId-0\"}]}" },
	};
	struct fixture f;

	if (fixture_start(&f, script, 2) != 0) {
		ok(0, "fixture: %s", f.err.msg);
		fixture_stop(&f);
		return;
	}
	deliver(&f);
	is_int(f.rc, 0, "500: no refusal");
	is_int(f.log.n, 2, "500: two calls");
	ok(f.log.n == 2 && body_has(&f.log.req[1], "123"),
	    "the whole call goes again");
	ok(f.log.n == 2 && stubsrv_req_header(&f.log.req[1],
	    "X-Amz-Date") != NULL, "the retry is signed too");
	ok(f.nrep == 3 && f.rep[0].delivered && f.rep[2].delivered &&
	    f.rep[0].attempts == 2, "delivered on the second attempt");
	is_int(producer_stats(f.p)->calls, 2, "two calls counted");
	fixture_stop(&f);
}

static void
test_refused(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 400, .headers = "Content-Type: "
		    "application/x-amz-json-1.1", .body = "{\"__type\":"
		    "\"ResourceNotFoundException\",\"message\":"
		    "\"Stream gecko not found\"}" },
	};
	struct fixture f;

	if (fixture_start(&f, script, 1) != 0) {
		ok(0, "fixture: %s", f.err.msg);
		fixture_stop(&f);
		return;
	}
	deliver(&f);
	is_int(f.rc, 1, "a missing stream stops the calls");
	is_int(f.why.kind, ERR_CONFIG, "as a configuration error");
	ok(strstr(f.why.msg, "Stream gecko not found") != NULL,
	    "why says what the service said: %s", f.why.msg);
	ok(putcalls_stopped(f.calls) && putcalls_busy(f.calls) == 0,
	    "nothing in flight, nothing sent again");
	is_int(f.log.n, 1, "one call");
	ok(f.nrep == 3 && !f.rep[0].delivered && !f.rep[2].delivered,
	    "every record reported as not delivered");
	ok(producer_idle(f.p), "the producer holds nothing");
	fixture_stop(&f);
}

int
main(void)
{
	stubsrv_static_creds_env();
	test_partial_failure();
	test_500_then_200();
	test_refused();
	return tap_done();
}
