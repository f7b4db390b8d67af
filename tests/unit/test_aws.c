/* test_aws: retry rules, error parsing, aws_send against a stub. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "awsconf.h"
#include "creds.h"
#include "errbuf.h"
#include "http.h"
#include "sigv4.h"
#include "stubsrv.h"
#include "tap.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* 2015-08-30T12:36:00Z, the SigV4 test suite's date */
#define T0 1440938160

static void
test_retry_table(void)
{
	static const struct {
		long status;
		const char *code;
		enum errbuf_kind transport;
		int retry;
	} t[] = {
		{ 500, "InternalFailure", ERR_NONE, 1 },
		{ 502, "HTTP 502", ERR_NONE, 1 },
		{ 503, "ServiceUnavailable", ERR_NONE, 1 },
		{ 504, "HTTP 504", ERR_NONE, 1 },
		{ 408, "HTTP 408", ERR_NONE, 1 },
		{ 429, "HTTP 429", ERR_NONE, 1 },
		{ 400, "ThrottlingException", ERR_NONE, 1 },
		{ 400, "ProvisionedThroughputExceededException", ERR_NONE, 1 },
		{ 400, "LimitExceededException", ERR_NONE, 1 },
		{ 400, "KMSThrottlingException", ERR_NONE, 1 },
		{ 400, "RequestTimeout", ERR_NONE, 1 },
		{ 400, "RequestTimeoutException", ERR_NONE, 1 },
		{ 400, "PriorRequestNotComplete", ERR_NONE, 1 },
		{ 503, "SlowDown", ERR_NONE, 1 },
		{ 400, "ValidationException", ERR_NONE, 0 },
		{ 400, "InvalidArgumentException", ERR_NONE, 0 },
		{ 403, "SignatureDoesNotMatch", ERR_NONE, 0 },
		{ 400, "ResourceNotFoundException", ERR_NONE, 0 },
		{ 404, "HTTP 404", ERR_NONE, 0 },
		{ 501, "NotImplemented", ERR_NONE, 0 },
		{ 0, NULL, ERR_TEMP, 1 },
		{ 0, NULL, ERR_CONFIG, 0 },
		{ 0, NULL, ERR_SYSTEM, 0 },
		{ 0, NULL, ERR_USAGE, 0 },
	};
	size_t i;

	for (i = 0; i < LEN(t); i++)
		is_int(aws_should_retry(t[i].status, t[i].code, t[i].transport),
		    t[i].retry, t[i].code ? t[i].code : "transport error");
}

static void
test_throttle_codes(void)
{
	static const char *const yes[] = {
		"Throttling", "ThrottlingException", "ThrottledException",
		"RequestThrottledException", "TooManyRequestsException",
		"ProvisionedThroughputExceededException",
		"TransactionInProgressException", "RequestLimitExceeded",
		"BandwidthLimitExceeded", "LimitExceededException",
		"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
		"EC2ThrottledException",
	};
	size_t i, n = 0;

	for (i = 0; i < LEN(yes); i++)
		n += aws_error_is_throttle(yes[i]);
	is_int(n, LEN(yes), "every standard-mode throttling code");
	ok(!aws_error_is_throttle("ValidationException"), "not throttling");
	ok(!aws_error_is_throttle("throttling"), "codes are case-sensitive");
	ok(!aws_error_is_throttle(NULL), "no code");
}

static void
test_error_kinds(void)
{
	is_int(aws_error_kind(403, "SignatureDoesNotMatch"), ERR_CONFIG,
	    "403 SignatureDoesNotMatch: config");
	is_int(aws_error_kind(400, "UnrecognizedClientException"), ERR_CONFIG,
	    "UnrecognizedClientException: config");
	is_int(aws_error_kind(400, "ResourceNotFoundException"), ERR_CONFIG,
	    "ResourceNotFoundException: config");
	is_int(aws_error_kind(403, "AccessDenied"), ERR_CONFIG,
	    "AccessDenied: config");
	is_int(aws_error_kind(403, "HTTP 403"), ERR_CONFIG, "bare 403: config");
	is_int(aws_error_kind(301, "PermanentRedirect"), ERR_CONFIG,
	    "S3 wrong region: config");
	is_int(aws_error_kind(400, "ValidationException"), ERR_DATA,
	    "ValidationException: data");
	is_int(aws_error_kind(503, "HTTP 503"), ERR_TEMP, "503: temporary");
	is_int(aws_error_kind(400, "ThrottlingException"), ERR_TEMP,
	    "throttled: temporary");
}

/* xorshift32: a reproducible stream of draws */
/* Parses body as the answer with status (and optional header). */
static void
parse(long status, const char *body, const char *hname, const char *hval,
    struct aws_error *e)
{
	struct http_response r;
	char *names[1], *values[1];

	memset(&r, 0, sizeof(r));
	r.status = status;
	buf_puts(&r.body, body);
	if (hname != NULL) {
		names[0] = (char *)(uintptr_t)hname;
		values[0] = (char *)(uintptr_t)hval;
		r.header_names = names;
		r.header_values = values;
		r.nheaders = 1;
	}
	aws_error_parse(&r, e);
	buf_free(&r.body);
}

static void
test_error_parse(void)
{
	struct aws_error e;

	parse(400, "{\"__type\":\"com.amazonaws.kinesis.v20131202#"
	    "ResourceNotFoundException\",\"message\":\"Stream gecko not "
	    "found\"}", "x-amzn-RequestId", "rid-1", &e);
	is_str(e.code, "ResourceNotFoundException", "JSON: prefix# dropped");
	is_str(e.message, "Stream gecko not found", "JSON: message");
	is_str(e.request_id, "rid-1", "request id from x-amzn-RequestId");

	parse(400, " {\"code\":\"ValidationException\",\"Message\":\"line1\\n"
	    "line2\"}", NULL, NULL, &e);
	is_str(e.code, "ValidationException", "JSON: code key");
	is_str(e.message, "line1 line2", "JSON: Message, made one line");

	parse(404, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
	    "NoSuchKey</Code><Message>Key &lt;a&amp;b&gt; does not exist"
	    "</Message><Key>a</Key><RequestId>4442587FB7D0A2F9</RequestId>"
	    "</Error>", "x-amz-request-id", "hdr-id", &e);
	is_str(e.code, "NoSuchKey", "XML Error: code");
	is_str(e.message, "Key <a&b> does not exist",
	    "XML Error: message, entities decoded");
	is_str(e.request_id, "hdr-id", "x-amz-request-id header first");

	parse(403, "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/"
	    "2011-06-15/\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>"
	    "InvalidClientTokenId</Code>\n    <Message>The security token "
	    "included in the request is invalid.</Message>\n  </Error>\n  "
	    "<RequestId>sts-id</RequestId>\n</ErrorResponse>\n", NULL, NULL, &e);
	is_str(e.code, "InvalidClientTokenId", "XML ErrorResponse: code");
	is_str(e.message, "The security token included in the request is "
	    "invalid.", "XML ErrorResponse: message");
	is_str(e.request_id, "sts-id", "XML ErrorResponse: RequestId");

	parse(503, "<html><head><title>503 Service Temporarily Unavailable"
	    "</title></head><body><h1>Error</h1></body></html>", NULL, NULL,
	    &e);
	is_str(e.code, "HTTP 503", "HTML 503: code is HTTP 503");
	is_str(e.message, "", "HTML 503: no message");

	parse(400, "", NULL, NULL, &e);
	is_str(e.code, "HTTP 400", "empty body: HTTP 400");
	parse(400, "{\"__type\":", NULL, NULL, &e);
	is_str(e.code, "HTTP 400", "cut-off JSON: HTTP 400");
	parse(400, "[1,2]", NULL, NULL, &e);
	is_str(e.code, "HTTP 400", "JSON that is not an object");
	parse(400, "{}", "x-amzn-ErrorType",
	    "ValidationException:http://internal.amazon.com/", &e);
	is_str(e.code, "ValidationException", "code from x-amzn-ErrorType");
	parse(200, "{}", NULL, NULL, &e);
	is_str(e.code, "", "no code for a 200");

	/* AWS quotes the canonical request, session token included */
	parse(400, "{\"__type\":\"InvalidSignatureException\",\"message\":"
	    "\"does not match.\\n\\nThe Canonical String for this request "
	    "should have been\\n'POST\\n/\\n\\nhost:h\\nx-amz-security-token:"
	    "FwoGZXIvYXdzEJr//+tok=\\nx-amz-target:K\\n'\"}", NULL, NULL, &e);
	is_str(e.message, "does not match.  The Canonical String for this "
	    "request should have been 'POST /  host:h x-amz-security-token:"
	    "REDACTED x-amz-target:K '", "JSON: a quoted session token is "
	    "redacted");
	parse(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>no; "
	    "X-Amz-Security-Token=FwoG%2Fx&amp;X-Amz-Date=1</Message></Error>",
	    NULL, NULL, &e);
	is_str(e.message, "no; X-Amz-Security-Token=REDACTED&X-Amz-Date=1",
	    "XML: a quoted session token is redacted");
}

/* ---- aws_send against the stub ---- */

struct hooks {
	time_t now;
	uint32_t rnd;
	long sleeps[8];
	int nsleep;
};

static time_t
fake_now(void *arg)
{
	struct hooks *h = arg;

	return h->now++;	/* every call a second later */
}

static uint32_t
fake_random(void *arg)
{
	return ((struct hooks *)arg)->rnd;
}

/* Records the wait instead of waiting: tests assert on what was asked. */
static void
fake_sleep(void *arg, long ms)
{
	struct hooks *h = arg;

	if (h->nsleep < (int)LEN(h->sleeps))
		h->sleeps[h->nsleep] = ms;
	h->nsleep++;
}

struct fixture {
	struct stubsrv srv;
	struct stubsrv_log log;
	struct hooks hooks;
	struct creds_provider *creds;
	struct aws_client *client;
	struct aws_response resp;
	struct errbuf err;
	volatile sig_atomic_t stop;
};

static void
set_env(void)
{
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY",
	    "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	setenv("AWS_SESSION_TOKEN", "session-token-value", 1);
	setenv("AWS_CONFIG_FILE", "/dev/null", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
}

/* Set by a test of unsigned requests: the next client has no get_creds. */
static int fixture_unsigned;

/* Starts the stub with script and a client for service against it. */
static int
fixture_start(struct fixture *f, const struct stubsrv_response *script,
    size_t n, const char *service, long budget_ms)
{
	char endpoint[64], region[] = "us-east-1";
	struct awsconf conf;
	struct aws_options o;

	memset(f, 0, sizeof(*f));
	f->hooks.now = T0;
	f->hooks.rnd = UINT32_MAX;	/* the longest backoff of each range */
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
	o.service = service;
	o.budget_ms = budget_ms;
	o.stop = &f->stop;
	o.now_fn = fake_now;
	o.random_fn = fake_random;
	o.sleep_fn = fake_sleep;
	o.hook_arg = &f->hooks;
	f->creds = creds_provider_new(NULL, &f->err);
	if (f->creds == NULL)
		return -1;
	if (!fixture_unsigned) {
		o.get_creds = creds_supply;
		o.creds_arg = f->creds;
	}
	f->client = aws_client_new(&o, &f->err);
	return f->client != NULL ? 0 : -1;
}

static void
fixture_read(struct fixture *f)
{
	stubsrv_read(&f->srv, &f->log);
}

static void
fixture_stop(struct fixture *f)
{
	stubsrv_log_free(&f->log);
	stubsrv_stop(&f->srv);
	aws_response_free(&f->resp);
	aws_client_free(f->client);
	creds_provider_free(f->creds);
}

static int
json_put(struct fixture *f)
{
	return aws_json_call(f->client, "Kinesis_20131202.PutRecords",
	    "{\"StreamName\":\"gecko\"}", 22, &f->resp, &f->err);
}

static const char *
hdr(const struct fixture *f, size_t i, const char *name)
{
	return i < f->log.n ? stubsrv_req_header(&f->log.req[i], name) : NULL;
}

#define SCOPE "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/" \
	"kinesis/aws4_request"

static void
test_send_500_then_200(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 500, .body = "{\"__type\":\"InternalFailure\"}" },
		{ .status = 200, .body = "{\"FailedRecordCount\":0}" },
	};
	struct fixture f;
	char host[32];
	const char *a0, *a1;

	if (!ok(fixture_start(&f, script, LEN(script), "kinesis", 0) == 0,
	    "fixture: %s", f.err.msg))
		return;
	ok(json_put(&f) == 0, "500 then 200 succeeds");
	is_int(f.resp.attempts, 2, "in two attempts");
	is_int(f.resp.status, 200, "final status");
	is_str(f.resp.http.body.data, "{\"FailedRecordCount\":0}", "body");
	is_int(f.hooks.nsleep, 1, "one wait");
	is_int(f.hooks.sleeps[0], 100, "of the 100 ms backoff range");
	fixture_read(&f);
	is_int(f.log.n, 2, "stub saw two requests");
	is_str(hdr(&f, 0, "X-Amz-Date"), "20150830T123600Z", "first date");
	is_str(hdr(&f, 1, "X-Amz-Date"), "20150830T123601Z",
	    "second attempt signed afresh with a new date");
	a0 = hdr(&f, 0, "Authorization");
	a1 = hdr(&f, 1, "Authorization");
	ok(a0 != NULL && strncmp(a0, SCOPE, strlen(SCOPE)) == 0,
	    "Authorization names key, date, region, service");
	ok(a0 != NULL && a1 != NULL && strcmp(a0, a1) != 0,
	    "and a different signature each attempt");
	is_str(hdr(&f, 0, "X-Amz-Security-Token"), "session-token-value",
	    "session token sent");
	is_str(hdr(&f, 0, "X-Amz-Target"), "Kinesis_20131202.PutRecords",
	    "X-Amz-Target");
	is_str(hdr(&f, 0, "Content-Type"), "application/x-amz-json-1.1",
	    "JSON 1.1 Content-Type");
	snprintf(host, sizeof(host), "127.0.0.1:%d", f.srv.port);
	is_str(hdr(&f, 0, "Host"), host, "Host with the port");
	if (f.log.n > 0) {
		is_str(f.log.req[0].method, "POST", "POST");
		is_str(f.log.req[0].target, "/", "to /");
		is_str(f.log.req[0].body, "{\"StreamName\":\"gecko\"}", "body");
	}
	fixture_stop(&f);
}

/* Without get_creds: the same request and retries, no signature. */
static void
test_send_unsigned(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 503, .body = "<ErrorResponse><Error><Code>"
		    "ServiceUnavailable</Code></Error></ErrorResponse>" },
		{ .status = 200, .body = "{}" },
	};
	struct fixture f;
	int rc;

	fixture_unsigned = 1;
	rc = fixture_start(&f, script, LEN(script), "sts", 0);
	fixture_unsigned = 0;
	if (!ok(rc == 0, "fixture: %s", f.err.msg))
		return;
	ok(json_put(&f) == 0, "unsigned 503 then 200 succeeds");
	is_int(f.resp.attempts, 2, "retried as a signed request is");
	fixture_read(&f);
	is_int(f.log.n, 2, "stub saw two requests");
	ok(hdr(&f, 0, "Authorization") == NULL &&
	    hdr(&f, 1, "Authorization") == NULL, "no Authorization");
	ok(hdr(&f, 0, "X-Amz-Date") == NULL &&
	    hdr(&f, 0, "X-Amz-Security-Token") == NULL,
	    "no X-Amz-Date, no session token");
	is_str(hdr(&f, 0, "X-Amz-Target"), "Kinesis_20131202.PutRecords",
	    "the caller's headers as given");
	fixture_stop(&f);
}

static void
test_send_429_retry_after(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 429, .headers = "Retry-After: 3" },
		{ .status = 200, .body = "{}" },
	};
	struct fixture f;

	if (!ok(fixture_start(&f, script, LEN(script), "kinesis", 0) == 0,
	    "fixture: %s", f.err.msg))
		return;
	ok(json_put(&f) == 0, "429 then 200 succeeds");
	is_int(f.resp.attempts, 2, "in two attempts");
	is_int(f.hooks.nsleep, 1, "one wait");
	is_int(f.hooks.sleeps[0], 3000,
	    "Retry-After: 3 beats the 1 s throttling backoff");
	fixture_read(&f);
	is_int(f.log.n, 2, "stub saw two requests");
	fixture_stop(&f);
}

static void
test_send_throttled_json(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 400, .body = "{\"__type\":\"ThrottlingException\","
		    "\"message\":\"Rate exceeded\"}" },
		{ .status = 200, .body = "{}" },
	};
	struct fixture f;

	if (!ok(fixture_start(&f, script, LEN(script), "kinesis", 0) == 0,
	    "fixture: %s", f.err.msg))
		return;
	ok(json_put(&f) == 0, "400 ThrottlingException is retried");
	is_int(f.resp.attempts, 2, "in two attempts");
	is_int(f.hooks.sleeps[0], 1000, "with the throttling backoff range");
	fixture_stop(&f);
}

static void
test_send_not_retried(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 400, .body = "{\"__type\":\"ValidationException\","
		    "\"message\":\"1 validation error detected\"}" },
		{ .status = 403, .headers = "x-amzn-RequestId: r-403",
		    .body = "{\"__type\":\"UnrecognizedClientException\","
		    "\"message\":\"The security token included in the request "
		    "is invalid.\"}" },
		{ .status = 200, .body = "{}" },
	};
	struct fixture f;

	if (!ok(fixture_start(&f, script, LEN(script), "kinesis", 0) == 0,
	    "fixture: %s", f.err.msg))
		return;
	ok(json_put(&f) == -1, "400 ValidationException fails");
	is_int(f.resp.attempts, 1, "without a retry");
	is_int(f.hooks.nsleep, 0, "and without a wait");
	is_int(f.err.kind, ERR_DATA, "as ERR_DATA");
	is_str(f.err.msg, "HTTP 400 ValidationException: 1 validation error "
	    "detected", "message shape");
	is_str(f.resp.error.code, "ValidationException", "code kept");
	aws_response_free(&f.resp);
	ok(json_put(&f) == -1, "403 UnrecognizedClientException fails");
	is_int(f.resp.attempts, 1, "without a retry");
	is_int(f.err.kind, ERR_CONFIG, "as ERR_CONFIG (exit 3)");
	is_str(f.resp.error.request_id, "r-403", "request id kept");
	fixture_read(&f);
	is_int(f.log.n, 2, "stub saw one request each");
	ok(strstr(f.err.msg, "wJalrXUtnFEMI") == NULL &&
	    strstr(f.err.msg, "session-token-value") == NULL,
	    "no secret in the message");
	fixture_stop(&f);
}

static void
test_send_exhausted(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 503, .body = "<Error><Code>SlowDown</Code><Message>"
		    "Please reduce your request rate.</Message></Error>" },
		{ .status = 503, .body = "<Error><Code>SlowDown</Code><Message>"
		    "Please reduce your request rate.</Message></Error>" },
		{ .status = 500, .body = "<Error><Code>InternalError</Code>"
		    "<Message>We encountered an internal error.</Message>"
		    "</Error>" },
		{ .status = 200 },
	};
	struct fixture f;

	if (!ok(fixture_start(&f, script, LEN(script), "s3", 0) == 0,
	    "fixture: %s", f.err.msg))
		return;
	{
		struct aws_request req = { .method = "GET", .path = "/bucket",
		    .query = "list-type=2" };
		ok(aws_send(f.client, &req, &f.resp, &f.err) == -1,
		    "three failures exhaust the default 3 attempts");
	}
	is_int(f.resp.attempts, 3, "three attempts");
	is_int(f.err.kind, ERR_TEMP, "as ERR_TEMP (exit 4)");
	is_str(f.err.msg, "HTTP 500 InternalError: We encountered an internal "
	    "error. (3 attempts)", "with the last error");
	is_int(f.hooks.nsleep, 2, "two waits");
	is_int(f.hooks.sleeps[0], 1000, "throttled: up to 1 s");
	is_int(f.hooks.sleeps[1], 2000, "throttled again: up to 2 s");
	fixture_read(&f);
	is_int(f.log.n, 3, "stub saw three requests");
	is_str(f.log.n > 0 ? f.log.req[0].target : NULL,
	    "/bucket?list-type=2", "path and query");
	ok(hdr(&f, 0, "X-Amz-Content-SHA256") != NULL,
	    "S3 rules: X-Amz-Content-SHA256 sent");
	fixture_stop(&f);
}

static void
test_send_transport(void)
{
	static const struct stubsrv_response script[] = {
		{ .flags = STUBSRV_DROP },
		{ .status = 200, .body = "{}" },
		{ .status = 500 },
		{ .status = 500 },
	};
	struct fixture f;

	if (!ok(fixture_start(&f, script, LEN(script), "kinesis", 0) == 0,
	    "fixture: %s", f.err.msg))
		return;
	ok(json_put(&f) == 0, "dropped connection, then 200");
	is_int(f.resp.attempts, 2, "in two attempts");
	aws_response_free(&f.resp);
	f.stop = 1;
	ok(json_put(&f) == -1, "stop flag: no retry");
	is_int(f.resp.attempts, 1, "one attempt");
	ok(strstr(f.err.msg, "stopped") != NULL, "says stopped: %s",
	    f.err.msg);
	aws_response_free(&f.resp);
	f.stop = 0;
	stubsrv_stop(&f.srv);
	ok(json_put(&f) == -1, "nothing listening");
	is_int(f.resp.attempts, 3, "three attempts");
	is_int(f.err.kind, ERR_TEMP, "as ERR_TEMP");
	ok(strstr(f.err.msg, "(3 attempts)") != NULL, "says so: %s",
	    f.err.msg);
	fixture_stop(&f);
}

static void
test_send_budget(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 500 },
		{ .status = 200 },
	};
	struct fixture f;

	/* the wait (100 ms) alone exceeds the 1 ms budget */
	if (!ok(fixture_start(&f, script, LEN(script), "kinesis", 1) == 0,
	    "fixture: %s", f.err.msg))
		return;
	ok(json_put(&f) == -1, "budget too small for a retry");
	is_int(f.resp.attempts, 1, "one attempt");
	is_int(f.err.kind, ERR_TEMP, "as ERR_TEMP");
	is_str(f.err.msg, "HTTP 500 (1 attempt, time budget spent)",
	    "says why");
	fixture_stop(&f);
}

/* kin-put's path: signed requests sent in parallel through http_multi. */
static void
test_signed_multi(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .flags = STUBSRV_ECHO },
		{ .status = 200, .flags = STUBSRV_ECHO },
	};
	struct http_field h[] = { { "X-Amz-Target", "Kinesis_20131202.Put" } };
	struct aws_request req = { .method = "POST", .headers = h,
	    .nheaders = 1, .body = "{}", .body_len = 2 };
	struct aws_signed sig[2];
	struct http_multi_done done[2];
	struct http_multi *m;
	struct fixture f;
	int n = 0, k, good = 0;

	if (!ok(fixture_start(&f, script, LEN(script), "kinesis", 0) == 0,
	    "fixture: %s", f.err.msg))
		return;
	m = http_multi_new(NULL, 2, &f.err);
	req.path = "/a";
	ok(aws_sign_request(f.client, &req, &sig[0], &f.err) == 0, "sign a");
	req.path = "/b";
	ok(aws_sign_request(f.client, &req, &sig[1], &f.err) == 0, "sign b");
	http_multi_add(m, &sig[0].http, &sig[0], &f.err);
	http_multi_add(m, &sig[1].http, &sig[1], &f.err);
	while (n < 2 && (k = http_multi_wait(m, -1, 5000, done + n, 2 - n,
	    NULL, &f.err)) > 0)
		n += k;
	is_int(n, 2, "both completed");
	for (k = 0; k < n; k++) {
		struct aws_signed *s = done[k].tag;
		good += done[k].resp.status == 200 && strcmp(
		    done[k].resp.body.data, s == &sig[0] ? "/a" : "/b") == 0;
		http_response_free(&done[k].resp);
	}
	is_int(good, 2, "each with its own answer");
	fixture_read(&f);
	ok(f.log.n == 2 && hdr(&f, 0, "Authorization") != NULL &&
	    hdr(&f, 1, "X-Amz-Date") != NULL, "both signed");
	aws_signed_free(&sig[0]);
	aws_signed_free(&sig[1]);
	http_multi_free(m);
	fixture_stop(&f);
}

/* Which endpoints make a client warn: plain HTTP beyond loopback only. */
static void
test_plain_remote(void)
{
	static const struct {
		const char *url, *host;
		int remote;
	} t[] = {
		{ "http://kinesis.example.com", "kinesis.example.com", 1 },
		{ "HTTP://Kinesis.Example.com:80/x?y", "Kinesis.Example.com", 1 },
		{ "http://10.0.0.5:4566", "10.0.0.5", 1 },
		{ "http://user:pw@s3.example.net/b", "s3.example.net", 1 },
		{ "http://[2001:db8::1]:9000/", "2001:db8::1", 1 },
		{ "http://128.0.0.1", "128.0.0.1", 1 },
		{ "http://127.1", "127.1", 1 },	/* not a dotted quad */
		{ "http://localhost.example.com", "localhost.example.com", 1 },
		{ "http://127.0.0.1:4566", "127.0.0.1", 0 },
		{ "http://127.255.0.9/", "127.255.0.9", 0 },
		{ "http://localhost:9000", "localhost", 0 },
		{ "http://LOCALHOST./", "LOCALHOST.", 0 },
		{ "http://[::1]:4566", "::1", 0 },
		{ "http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1", 0 },
		{ "https://kinesis.example.com", "", 0 },
		{ "https://10.0.0.5", "", 0 },
		{ "ftp://example.com", "", 0 },
		/* nothing curl would send: no host, or an unclosed '[' */
		{ "http://", "", 0 },
		{ "http://user@/", "", 0 },
		{ "http://[2001:db8::1/", "", 0 },
		{ "http://u@[::1]:80/", "::1", 0 },
		{ "http://a@127.0.0.1@example.com/", "example.com", 1 },
	};
	char host[64];
	size_t i;

	for (i = 0; i < LEN(t); i++) {
		is_int(aws_url_is_plain_remote(t[i].url, host, sizeof(host)),
		    t[i].remote, t[i].url);
		is_str(host, t[i].host, "host of the URL");
	}
	ok(aws_url_is_plain_remote("http://example.com", host, 0) == 1 &&
	    aws_url_is_plain_remote(NULL, host, sizeof(host)) == 0,
	    "no host buffer; no URL");
}

/* The client says it once, for the tool to print; not for loopback. */
static void
test_client_warning(void)
{
	char region[] = "us-east-1", ep[64];
	struct awsconf conf;
	struct aws_options o;
	struct creds_provider *cp;
	struct aws_client *c;
	struct errbuf err;
	const char *w;

	memset(&conf, 0, sizeof(conf));
	conf.region = region;
	conf.endpoint = ep;
	conf.custom_endpoint = 1;
	memset(&o, 0, sizeof(o));
	o.conf = &conf;
	o.service = "kinesis";
	cp = creds_provider_new(NULL, &err);
	o.get_creds = creds_supply;
	o.creds_arg = cp;
	snprintf(ep, sizeof(ep), "http://kinesis.example.com:4566");
	c = aws_client_new(&o, &err);
	w = aws_client_warning(c);
	ok(w != NULL && strstr(w, "kinesis.example.com") != NULL &&
	    strstr(w, "plain HTTP") != NULL && strchr(w, '\n') == NULL,
	    "plain HTTP to a remote host: one line naming the host");
	aws_client_free(c);
	snprintf(ep, sizeof(ep), "http://127.0.0.1:4566");
	c = aws_client_new(&o, &err);
	ok(c != NULL && aws_client_warning(c) == NULL, "loopback: no warning");
	aws_client_free(c);
	snprintf(ep, sizeof(ep), "https://kinesis.example.com");
	c = aws_client_new(&o, &err);
	ok(c != NULL && aws_client_warning(c) == NULL, "https: no warning");
	aws_client_free(c);
	snprintf(ep, sizeof(ep), "http://sts.example.com");
	o.get_creds = NULL;
	c = aws_client_new(&o, &err);
	ok(c != NULL && aws_client_warning(c) == NULL,
	    "unsigned: nothing secret to warn about");
	aws_client_free(c);
	creds_provider_free(cp);
}

static void
test_json_request(void)
{
	struct http_field h[2];
	struct aws_request req;

	aws_json_request(&req, h, "Kinesis_20131202.PutRecords", "{}", 2);
	ok(strcmp(req.method, "POST") == 0 && strcmp(req.path, "/") == 0 &&
	    req.query == NULL && req.url == NULL, "JSON 1.1: POST /");
	ok(req.headers == h && req.nheaders == 2 &&
	    strcmp(h[0].name, "Content-Type") == 0 &&
	    strcmp(h[0].value, "application/x-amz-json-1.1") == 0 &&
	    strcmp(h[1].name, "X-Amz-Target") == 0 &&
	    strcmp(h[1].value, "Kinesis_20131202.PutRecords") == 0,
	    "JSON 1.1: Content-Type and X-Amz-Target");
	ok(req.body_len == 2 && memcmp(req.body, "{}", 2) == 0 &&
	    req.payload_hash == NULL, "JSON 1.1: the body, hashed when signed");
}

int
main(void)
{
	set_env();
	test_retry_table();
	test_throttle_codes();
	test_error_kinds();
	test_error_parse();
	test_send_500_then_200();
	test_send_unsigned();
	test_send_429_retry_after();
	test_send_throttled_json();
	test_send_not_retried();
	test_send_exhausted();
	test_send_transport();
	test_send_budget();
	test_signed_multi();
	test_plain_remote();
	test_client_warning();
	test_json_request();
	return tap_done();
}
