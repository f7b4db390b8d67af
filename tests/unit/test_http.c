/* test_http: lib/http against the loopback stub server. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "errbuf.h"
#include "http.h"
#include "stubsrv.h"
#include "tap.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static char *
url_for(const struct stubsrv *s, const char *path)
{
	static char url[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", s->port, path);
	return url;
}

static void
test_keepalive(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = "one" },
		{ .status = 201, .body = "two" },
	};
	struct http_field h[] = { { "X-Test", "yes" }, { "X-Empty", "" } };
	struct http_request req = { "GET", NULL, h, 2, NULL, 0 };
	struct http_response r1, r2;
	struct http_options o = { .user_agent = "test-http/1" };
	struct http_client *c;
	struct stubsrv s;
	struct stubsrv_log log;
	struct errbuf err;

	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	if (!ok(stubsrv_start(&s, script, LEN(script)) == 0, "stub starts"))
		return;
	c = http_client_new(&o, &err);
	req.url = url_for(&s, "/a?x=1");
	ok(http_client_do(c, &req, &r1, &err) == 0, "first request");
	req.url = url_for(&s, "/b");
	ok(http_client_do(c, &req, &r2, &err) == 0, "second request");
	is_int(r1.status, 200, "first status");
	is_str(r1.body.data, "one", "first body");
	is_int(r2.status, 201, "second status");
	is_str(r2.body.data, "two", "second body");
	stubsrv_read(&s, &log);
	if (is_int(log.n, 2, "stub saw two requests")) {
		is_int(log.req[0].conn, log.req[1].conn,
		    "both over one connection (keep-alive)");
		is_str(log.req[0].target, "/a?x=1", "first target");
		is_str(log.req[1].method, "GET", "method");
		is_str(stubsrv_req_header(&log.req[0], "user-agent"),
		    "test-http/1", "User-Agent from options");
		is_str(stubsrv_req_header(&log.req[0], "x-test"), "yes",
		    "caller's header sent");
		is_str(stubsrv_req_header(&log.req[0], "x-empty"), "",
		    "empty header sent empty");
	}
	stubsrv_log_free(&log);
	http_response_free(&r1);
	http_response_free(&r2);
	http_client_free(c);
	stubsrv_stop(&s);
}

static void
test_post_and_headers(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 400, .headers = "X-Amzn-RequestId: abc-123\n"
		    "Retry-After:   7  \nContent-Type: application/json",
		    .body = "{\"__type\":\"x\"}" },
		{ .status = 200 },
	};
	static const char body[] = "{\"a\":1}";
	struct http_field h[] = { { "Content-Type", "application/json" } };
	struct http_request req = { "POST", NULL, h, 1, body, 7 };
	struct http_request put = { "PUT", NULL, NULL, 0, NULL, 0 };
	struct http_response r;
	struct http_client *c;
	struct stubsrv s;
	struct stubsrv_log log;
	struct errbuf err;

	memset(&r, 0, sizeof(r));
	if (!ok(stubsrv_start(&s, script, LEN(script)) == 0, "stub starts"))
		return;
	c = http_client_new(NULL, &err);
	req.url = url_for(&s, "/post");
	ok(http_client_do(c, &req, &r, &err) == 0,
	    "a 400 is a response, not a failure");
	is_int(r.status, 400, "status 400 kept");
	is_str(http_response_header(&r, "x-amzn-requestid"), "abc-123",
	    "header lookup ignores case");
	is_str(http_response_header(&r, "Retry-After"), "7",
	    "header value trimmed");
	ok(http_response_header(&r, "X-Missing") == NULL, "absent header");
	http_response_free(&r);
	put.url = url_for(&s, "/put");
	ok(http_client_do(c, &put, &r, &err) == 0, "PUT without body");
	stubsrv_read(&s, &log);
	if (is_int(log.n, 2, "stub saw both")) {
		is_str(log.req[0].method, "POST", "POST sent");
		is_str(log.req[0].body, body, "body sent as given");
		is_str(stubsrv_req_header(&log.req[0], "content-type"),
		    "application/json", "caller's Content-Type");
		ok(stubsrv_req_header(&log.req[0], "expect") == NULL,
		    "no Expect: 100-continue");
		is_str(log.req[1].method, "PUT", "PUT sent");
		is_str(stubsrv_req_header(&log.req[1], "content-length"), "0",
		    "empty PUT says Content-Length: 0");
		ok(stubsrv_req_header(&log.req[1], "content-type") == NULL,
		    "no default form Content-Type");
	}
	stubsrv_log_free(&log);
	http_response_free(&r);
	http_client_free(c);
	stubsrv_stop(&s);
}

static void
test_body_cap(void)
{
	static const struct stubsrv_response script[] = {
		{ .status = 200, .body = "0123456789" },
		{ .status = 200, .body = "0123456789A" },
	};
	struct http_options o = { .max_response = 10 };
	struct http_request req = { "GET", NULL, NULL, 0, NULL, 0 };
	struct http_response r;
	struct http_client *c;
	struct stubsrv s;
	struct errbuf err;

	memset(&r, 0, sizeof(r));
	if (!ok(stubsrv_start(&s, script, LEN(script)) == 0, "stub starts"))
		return;
	c = http_client_new(&o, &err);
	req.url = url_for(&s, "/cap");
	ok(http_client_do(c, &req, &r, &err) == 0, "body at the cap is kept");
	is_int(r.body.len, 10, "all 10 bytes");
	http_response_free(&r);
	ok(http_client_do(c, &req, &r, &err) == -1, "body over the cap fails");
	is_int(err.kind, ERR_SYSTEM, "as ERR_SYSTEM");
	ok(strstr(err.msg, "larger than 10 bytes") != NULL,
	    "message says the cap: %s", err.msg);
	http_response_free(&r);
	http_client_free(c);
	stubsrv_stop(&s);
}

static void
test_transport_errors(void)
{
	static const struct stubsrv_response script[] = {
		{ .flags = STUBSRV_DROP },
		{ .status = 200, .body = "0123456789", .flags = STUBSRV_TRUNCATE },
	};
	struct http_request req = { "GET", NULL, NULL, 0, NULL, 0 };
	struct http_response r;
	struct http_client *c;
	struct stubsrv s;
	struct errbuf err;

	memset(&r, 0, sizeof(r));
	if (!ok(stubsrv_start(&s, script, LEN(script)) == 0, "stub starts"))
		return;
	c = http_client_new(NULL, &err);
	req.url = url_for(&s, "/x?secret_key=hide");
	ok(http_client_do(c, &req, &r, &err) == -1, "dropped connection");
	is_int(err.kind, ERR_TEMP, "dropped is ERR_TEMP");
	ok(strstr(err.msg, "hide") == NULL, "no query in message: %s",
	    err.msg);
	http_response_free(&r);
	ok(http_client_do(c, &req, &r, &err) == -1, "truncated body");
	is_int(err.kind, ERR_TEMP, "truncated is ERR_TEMP");
	http_response_free(&r);
	stubsrv_stop(&s);
	/* the stub is gone, so nothing listens on its port any more */
	req.url = url_for(&s, "/refused");
	ok(http_client_do(c, &req, &r, &err) == -1, "connection refused");
	is_int(err.kind, ERR_TEMP, "refused is ERR_TEMP");
	is_int(r.status, 0, "no status without a response");
	ok(strncmp(err.msg, "GET http://127.0.0.1:", 21) == 0,
	    "message names method and URL: %s", err.msg);
	http_response_free(&r);
	http_client_free(c);
}

static void
test_retry_after(void)
{
	/* 1445412480 is Wed, 21 Oct 2015 07:28:00 GMT */
	const long t = 1445412480L;

	is_int(http_retry_after_ms("120", t), 120000, "delta seconds");
	is_int(http_retry_after_ms(" 0 ", t), 0, "zero, with spaces");
	is_int(http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", t - 10),
	    10000, "IMF-fixdate ten seconds ahead");
	is_int(http_retry_after_ms("Wednesday, 21-Oct-15 07:28:00 GMT", t - 3),
	    3000, "RFC 850 date");
	is_int(http_retry_after_ms("Wed, 21 Oct 2015 07:28:00 GMT", t + 60),
	    0, "date in the past: no wait");
	is_int(http_retry_after_ms("12abc", t), -1, "junk after digits");
	is_int(http_retry_after_ms("soon", t), -1, "not a date");
	is_int(http_retry_after_ms("", t), -1, "empty");
	is_int(http_retry_after_ms(NULL, t), -1, "absent");
}

static void
collect_trace(void *arg, const char *line)
{
	buf_puts(arg, line);
	buf_putc(arg, '\n');
}

/* Runs the request of the redaction test at one trace level. */
static void
traced_run(int level, struct buf *trace, int port)
{
	static const char body[] = "{\"AccessKeyId\":\"AKIDEXAMPLE\","
	    "\"SecretAccessKey\" : \"SECRET-a\",\"Token\":\"SECRET-b\"}";
	struct http_field h[] = {
		{ "Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
		    "x, Signature=SECRET-c" },
		{ "X-Amz-Security-Token", "SECRET-d" },
		{ "x-cg-demo-api-key", "SECRET-e" },
		{ "X-aws-ec2-metadata-token", "SECRET-f" },
		{ "x-cg-pro-api-key", "SECRET-g" },
	};
	struct http_field tokh[] = {
		{ "X-aws-ec2-metadata-token-ttl-seconds", "21600" }
	};
	struct http_options o = { .trace = level, .trace_fn = collect_trace,
	    .trace_arg = trace };
	struct http_request req = { "POST", NULL, h, LEN(h), body,
	    sizeof(body) - 1 };
	struct http_request tok = { "PUT", NULL, tokh, 1, NULL, 0 };
	static const char form[] = "Action=AssumeRoleWithWebIdentity&"
	    "WebIdentityToken=SECRET-o&RoleArn=arn%3Aaws%3Aiam";
	struct http_request get = { "POST", NULL, NULL, 0, form,
	    sizeof(form) - 1 };
	struct http_response r;
	struct http_client *c;
	struct errbuf err;
	char url[128];

	memset(&r, 0, sizeof(r));
	c = http_client_new(&o, &err);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/p?x_cg_demo_api_key="
	    "SECRET-h&a=1", port);
	req.url = url;
	ok(http_client_do(c, &req, &r, &err) == 0, "traced request, level %d",
	    level);
	http_response_free(&r);
	tok.url = url;
	ok(http_client_do(c, &tok, &r, &err) == 0, "token request, level %d",
	    level);
	http_response_free(&r);
	get.url = url;
	ok(http_client_do(c, &get, &r, &err) == 0, "XML reply, level %d",
	    level);
	http_response_free(&r);
	http_client_free(c);
}

static void
test_trace_redaction(void)
{
#define JSON_REPLY { .status = 200,					\
	.headers = "Content-Type: application/json",			\
	.body = "{\"Credentials\":{\"SecretAccessKey\":\"SECRET-i\","	\
	"\"SessionToken\":\"SECRET-j\"},\"x\":\"<Token>\","		\
	"\"message\":\"should have been 'POST\\nx-amz-security-token:"	\
	"SECRET-p\\nx-amz-target:K'\"}" }
#define XML_REPLY { .status = 200, .headers = "Content-Type: text/xml",	\
	.body = "<R><SecretAccessKey>SECRET-l</SecretAccessKey>"		\
	"<SessionToken>SECRET-m</SessionToken><Code>ok</Code>"		\
	"<CanonicalRequest>PUT\n/b\nX-Amz-Security-Token=SECRET-q%2B&amp;"	\
	"a=1\nx-amz-security-token:SECRET-r\n</CanonicalRequest></R>" }
	static const struct stubsrv_response script[] = {
		JSON_REPLY, { .status = 200, .body = "SECRET-k" }, XML_REPLY,
		JSON_REPLY, { .status = 200, .body = "SECRET-n" }, XML_REPLY,
	};
	struct buf t1 = BUF_INIT, t2 = BUF_INIT;
	struct stubsrv s;

	if (!ok(stubsrv_start(&s, script, LEN(script)) == 0, "stub starts"))
		return;
	traced_run(2, &t2, s.port);
	traced_run(1, &t1, s.port);
	stubsrv_stop(&s);
	ok(t2.data != NULL && strstr(t2.data, "SECRET") == NULL,
	    "level 2 trace shows no secret");
	ok(t2.data != NULL && strstr(t2.data, "REDACTED") != NULL,
	    "level 2 trace says REDACTED");
	ok(t2.data != NULL && strstr(t2.data, "> POST /p?x_cg_demo_api_key="
	    "REDACTED&a=1 HTTP/1.1\n") != NULL, "request line, key redacted");
	ok(t2.data != NULL && strstr(t2.data, "AKIDEXAMPLE") != NULL,
	    "the access key id is not a secret");
	ok(t2.data != NULL && strstr(t2.data, "{ [REDACTED 8 bytes]") != NULL,
	    "IMDS token body redacted whole");
	ok(t2.data != NULL && strstr(t2.data, "{ <R><SecretAccessKey>REDACTED"
	    "</SecretAccessKey>") != NULL, "XML element redacted");
	ok(t2.data != NULL && strstr(t2.data, "} Action=AssumeRoleWith"
	    "WebIdentity&WebIdentityToken=REDACTED&RoleArn=arn%3Aaws%3Aiam")
	    != NULL, "form body: secret parameter redacted, others kept");
	ok(t2.data != NULL && strstr(t2.data, "\\nx-amz-security-token:"
	    "REDACTED\\nx-amz-target") != NULL && strstr(t2.data,
	    "{ x-amz-security-token:REDACTED") != NULL, "session token quoted "
	    "in an error body (canonical request) redacted");
	ok(t2.data != NULL && strstr(t2.data, "< HTTP/1.1 200") != NULL,
	    "status line traced");
	ok(t1.data != NULL && strstr(t1.data, "SECRET") == NULL,
	    "level 1 trace shows no secret");
	is_str(t1.data, "> POST /p?x_cg_demo_api_key=REDACTED&a=1 HTTP/1.1\n"
	    "< HTTP/1.1 200 Stub\n> PUT /p?x_cg_demo_api_key=REDACTED&a=1 "
	    "HTTP/1.1\n< HTTP/1.1 200 Stub\n> POST /p?x_cg_demo_api_key="
	    "REDACTED&a=1 HTTP/1.1\n< HTTP/1.1 200 Stub\n",
	    "level 1: request and status lines only");
	if (t2.data != NULL && strstr(t2.data, "SECRET") != NULL)
		tap_diag_value("trace", t2.data, t2.len);
	buf_free(&t1);
	buf_free(&t2);
}

/* What aws_error_parse leans on for messages: tokens quoted in text. */
static void
test_redact_text(void)
{
	char *r;

	r = http_redact_text("have been 'POST / host:h "
	    "X-Amz-Security-Token:IQoJb3JpZ2luX2VjE+/a== x-amz-date:1' and "
	    "?X-Amz-Security-Token=IQo%2Fb&X-Amz-Date=2");
	is_str(r, "have been 'POST / host:h X-Amz-Security-Token:REDACTED "
	    "x-amz-date:1' and ?X-Amz-Security-Token=REDACTED&X-Amz-Date=2",
	    "http_redact_text: header and query forms, case ignored");
	free(r);
	r = http_redact_text("x-amz-security-token");
	is_str(r, "x-amz-security-token", "http_redact_text: a name alone");
	free(r);
	r = http_redact_text("");
	is_str(r, "", "http_redact_text: empty");
	free(r);
}

#define NPAR 4

/* Adds NPAR requests /b<batch>-<i>, waits for all, checks the tags. */
static void
multi_batch(struct http_multi *m, int port, int batch)
{
	struct http_request req[NPAR];
	struct http_multi_done done[NPAR];
	char url[NPAR][96], want[32];
	int seen[NPAR] = { 0 }, n, i, k, added, got = 0, right = 0;
	struct errbuf err;

	for (i = 0; i < NPAR; i++) {
		snprintf(url[i], sizeof(url[i]), "http://127.0.0.1:%d/b%d-%d",
		    port, batch, i);
		memset(&req[i], 0, sizeof(req[i]));
		req[i].method = "GET";
		req[i].url = url[i];
		if (http_multi_add(m, &req[i], &seen[i], &err) != 0)
			break;
	}
	added = i;
	is_int(added, NPAR, "all added");
	while (got < added) {
		n = http_multi_wait(m, -1, 5000, done, NPAR, NULL, &err);
		if (n <= 0)
			break;
		for (k = 0; k < n; k++) {
			i = (int)((int *)done[k].tag - seen);
			snprintf(want, sizeof(want), "/b%d-%d", batch, i);
			seen[i]++;
			got++;
			right += done[k].rc == 0 && done[k].resp.status == 200 &&
			    done[k].resp.body.data != NULL &&
			    strcmp(done[k].resp.body.data, want) == 0;
			http_response_free(&done[k].resp);
		}
	}
	is_int(got, NPAR, "every request completed once");
	is_int(right, NPAR, "each tag came back with its own response");
}

static void
test_multi(void)
{
	struct stubsrv_response script[2 * NPAR];
	struct http_request req = { "GET", NULL, NULL, 0, NULL, 0 };
	struct http_multi_done done[1];
	struct http_multi *m;
	struct stubsrv s;
	struct stubsrv_log log;
	struct errbuf err;
	int ready = -1, fds[2], conns = 0;
	size_t i;

	memset(script, 0, sizeof(script));
	for (i = 0; i < LEN(script); i++) {
		script[i].status = 200;
		script[i].flags = STUBSRV_ECHO;
	}
	if (!ok(stubsrv_start(&s, script, LEN(script)) == 0, "stub starts"))
		return;
	m = http_multi_new(NULL, NPAR, &err);
	multi_batch(m, s.port, 0);
	multi_batch(m, s.port, 1);
	stubsrv_read(&s, &log);
	is_int(log.n, 2 * NPAR, "stub saw every request");
	for (i = 0; i < log.n; i++)
		if (log.req[i].conn + 1 > conns)
			conns = log.req[i].conn + 1;
	ok(conns <= NPAR, "second batch reused the connections (%d for %d "
	    "requests)", conns, 2 * NPAR);
	stubsrv_log_free(&log);
	stubsrv_stop(&s);

	req.url = "http://127.0.0.1:1/";
	for (i = 0; i < NPAR; i++)
		http_multi_add(m, &req, NULL, &err);
	ok(http_multi_add(m, &req, NULL, &err) == -1 && err.kind == ERR_USAGE,
	    "one more than max_handles is refused");
	http_multi_free(m);	/* with transfers in flight */

	m = http_multi_new(NULL, 1, &err);
	if (pipe(fds) == 0) {
		is_int(http_multi_wait(m, fds[0], 0, done, 1, &ready, &err), 0,
		    "idle wait returns nothing");
		is_int(ready, 0, "fd not ready");
		ok(write(fds[1], "x", 1) == 1, "write to the pipe");
		is_int(http_multi_wait(m, fds[0], 5000, done, 1, &ready, &err),
		    0, "wait on the extra fd");
		is_int(ready, 1, "fd ready reported");
		close(fds[0]);
		close(fds[1]);
	}
	http_multi_free(m);
}

/* A set stop flag ends a wait that would otherwise last until the (slow)
 * answer arrives; the transfer stays pending. */
static void
test_multi_stop(void)
{
	struct stubsrv_response script[1];
	struct http_request req = { "GET", NULL, NULL, 0, NULL, 0 };
	struct http_multi_done done[1];
	volatile sig_atomic_t stop = 1;
	struct http_multi *m;
	struct stubsrv s;
	struct errbuf err;
	char url[64];

	memset(script, 0, sizeof(script));
	script[0].status = 200;
	script[0].delay_ms = 2000;
	if (!ok(stubsrv_start(&s, script, 1) == 0, "slow stub starts"))
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/slow", s.port);
	req.url = url;
	m = http_multi_new(NULL, 1, &err);
	http_multi_set_stop(m, &stop);
	http_multi_add(m, &req, NULL, &err);
	is_int(http_multi_wait(m, -1, -1, done, 1, NULL, &err), 0,
	    "a set stop flag returns before the answer");
	stop = 0;
	is_int(http_multi_wait(m, -1, 10000, done, 1, NULL, &err), 1,
	    "cleared, the wait gets the answer");
	is_int(done[0].resp.status, 200, "answer 200");
	http_response_free(&done[0].resp);
	http_multi_free(m);
	stubsrv_stop(&s);
}

int
main(void)
{
	test_keepalive();
	test_post_and_headers();
	test_body_cap();
	test_transport_errors();
	test_retry_after();
	test_trace_redaction();
	test_redact_text();
	test_multi();
	test_multi_stop();
	return tap_done();
}
