/*
 * aws: signed and unsigned requests, the retry loop of whole requests, AWS
 * error parsing.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>

#include "aws.h"
#include "buf.h"
#include "clock.h"
#include "retry.h"
#include "sigv4.h"
#include "urlhost.h"
#include "xml.h"

struct aws_client {
	char *region;
	char *service;
	char *endpoint;
	char *warning;			/* aws_client_warning(), or NULL */
	unsigned flags;			/* enum sigv4_flags */
	int max_attempts;
	struct http_client *http;
	struct aws_options o;		/* hooks, budget, stop */
};

/* ---- error classification ---- */

static int
in_list(const char *code, const char *const *list)
{
	if (code == NULL)
		return 0;
	for (; *list != NULL; list++)
		if (strcmp(code, *list) == 0)
			return 1;
	return 0;
}

/*
 * The throttling codes of the standard retry mode (botocore
 * retries/standard.py and the SDK reference guide), plus the KMS throttle
 * that Kinesis passes on for encrypted streams.
 */
static const char *const throttle_codes[] = {
	"Throttling", "ThrottlingException", "ThrottledException",
	"RequestThrottledException", "TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException", "RequestLimitExceeded",
	"BandwidthLimitExceeded", "LimitExceededException",
	"RequestThrottled", "SlowDown", "PriorRequestNotComplete",
	"EC2ThrottledException", "KMSThrottlingException", NULL
};

/* Transient codes of the standard mode, and server-side failures some
 * services report with a status that would not say so. */
static const char *const transient_codes[] = {
	"RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete",
	"InternalError", "InternalFailure", "InternalServerError",
	"ServiceUnavailable", "IDPCommunicationError", NULL
};

/* A retry cannot fix these: credentials, permissions, region, or a stream
 * or bucket that is not there (exit code 3). */
static const char *const config_codes[] = {
	"SignatureDoesNotMatch", "InvalidClientTokenId",
	"UnrecognizedClientException", "AccessDenied",
	"AccessDeniedException", "ResourceNotFoundException",
	"ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId",
	"InvalidToken", "MissingAuthenticationToken", "IncompleteSignature",
	"InvalidSignatureException", "AuthFailure",
	"AuthorizationHeaderMalformed", "PermanentRedirect", "NoSuchBucket",
	"RequestTimeTooSkewed", "OptInRequired", NULL
};

int
aws_error_is_throttle(const char *code)
{
	return in_list(code, throttle_codes);
}

int
aws_should_retry(long status, const char *code,
    enum errbuf_kind transport_kind)
{
	if (transport_kind != ERR_NONE)
		return transport_kind == ERR_TEMP;
	if (in_list(code, throttle_codes) || in_list(code, transient_codes))
		return 1;
	switch (status) {
	case 408: case 429: case 500: case 502: case 503: case 504:
		return 1;
	default:
		return 0;
	}
}

enum errbuf_kind
aws_error_kind(long status, const char *code)
{
	if (in_list(code, config_codes) || status == 401 || status == 403 ||
	    (status >= 300 && status < 400))
		return ERR_CONFIG;
	if (status >= 500 || aws_should_retry(status, code, ERR_NONE))
		return ERR_TEMP;
	return ERR_DATA;
}

/* ---- error parsing ---- */

/* Copies s[0..n) into out as one printable line, cut to fit. */
static void
copy_line(char *out, size_t outsz, const char *s, size_t n)
{
	size_t i, o = 0;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	for (i = 0; i < n && o + 1 < outsz; i++) {
		unsigned char c = (unsigned char)s[i];
		out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	out[o] = '\0';
}

static const char *
json_str(json_t *obj, const char *const *keys)
{
	json_t *v;

	for (; *keys != NULL; keys++)
		if ((v = json_object_get(obj, *keys)) != NULL &&
		    json_is_string(v))
			return json_string_value(v);
	return NULL;
}

/* JSON 1.0/1.1 and REST-JSON: {"__type":"ns#Code","message":"..."} */
static void
parse_json_error(const char *s, size_t n, struct aws_error *out)
{
	static const char *const code_keys[] = { "__type", "code", "Code",
	    NULL };
	static const char *const msg_keys[] = { "message", "Message",
	    "errorMessage", NULL };
	json_t *root = json_loadb(s, n, 0, NULL);
	const char *code, *msg, *hash;

	if (root == NULL)
		return;
	if (json_is_object(root)) {
		if ((code = json_str(root, code_keys)) != NULL) {
			hash = strrchr(code, '#');
			code = hash != NULL ? hash + 1 : code;
			copy_line(out->code, sizeof(out->code), code,
			    strcspn(code, ":"));
		}
		if ((msg = json_str(root, msg_keys)) != NULL)
			copy_line(out->message, sizeof(out->message), msg,
			    strlen(msg));
	}
	json_decref(root);
}

/* The text of the first element tag as one line into out; 0 when absent. */
static int
xml_line(const char *s, size_t n, const char *tag, char *out, size_t outsz)
{
	char *t = xml_text(s, n, tag);

	if (t == NULL)
		return 0;
	copy_line(out, outsz, t, strlen(t));
	free(t);
	return 1;
}

/* S3 <Error>, STS and query APIs <ErrorResponse><Error>, EC2
 * <Response><Errors><Error>: the first <Error> element holds the answer. */
static void
parse_xml_error(const char *s, size_t n, struct aws_error *out)
{
	const char *e;
	size_t elen;

	if (!xml_element(s, n, "Error", &e, &elen))
		return;
	xml_line(e, elen, "Code", out->code, sizeof(out->code));
	xml_line(e, elen, "Message", out->message, sizeof(out->message));
	if (out->request_id[0] == '\0' && !xml_line(s, n, "RequestId",
	    out->request_id, sizeof(out->request_id)))
		xml_line(s, n, "RequestID", out->request_id,
		    sizeof(out->request_id));
}

/* A message that quotes the canonical request quotes the session token:
 * it goes on stderr, into dead-letter files and --tee reports. */
static void
redact_message(char *msg, size_t size)
{
	char *r;

	if (msg[0] == '\0')
		return;
	if ((r = http_redact_text(msg)) == NULL)
		msg[0] = '\0';
	else
		snprintf(msg, size, "%s", r);
	free(r);
}

void
aws_error_parse(const struct http_response *r, struct aws_error *out)
{
	const char *s = r->body.data != NULL ? r->body.data : "";
	size_t n = r->body.len;
	const char *h;

	memset(out, 0, sizeof(*out));
	if ((h = http_response_header(r, "x-amzn-RequestId")) != NULL ||
	    (h = http_response_header(r, "x-amz-request-id")) != NULL)
		copy_line(out->request_id, sizeof(out->request_id), h,
		    strlen(h));
	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	/* never assume: a proxy's 4xx/5xx may be HTML or empty */
	if (n > 0 && *s == '{')
		parse_json_error(s, n, out);
	else if (n > 0 && *s == '<')
		parse_xml_error(s, n, out);
	/* REST-JSON: "ValidationException:http://internal..." */
	if (out->code[0] == '\0' &&
	    (h = http_response_header(r, "x-amzn-ErrorType")) != NULL)
		copy_line(out->code, sizeof(out->code), h, strcspn(h, ":"));
	if (out->code[0] == '\0' && (r->status < 200 || r->status >= 300))
		snprintf(out->code, sizeof(out->code), "HTTP %ld", r->status);
	redact_message(out->message, sizeof(out->message));
}

int
aws_error_set(struct errbuf *err, long status, const struct aws_error *e)
{
	enum errbuf_kind kind = aws_error_kind(status, e->code);

	if (strncmp(e->code, "HTTP ", 5) == 0)
		return errbuf_set(err, kind, "%s%s%s", e->code,
		    e->message[0] ? ": " : "", e->message);
	return errbuf_set(err, kind, "HTTP %ld %s%s%s", status, e->code,
	    e->message[0] ? ": " : "", e->message);
}

/* ---- plain HTTP ---- */

int
aws_url_is_plain_remote(const char *url, char *host, size_t hostsz)
{
	struct urlhost u;

	if (hostsz > 0)
		host[0] = '\0';
	/* no host to reach (curl refuses the URL): nothing is sent */
	if (urlhost_parse(url, &u) == -1 || u.https)
		return 0;
	if (hostsz > 0)
		snprintf(host, hostsz, "%s", u.host);
	/* a user@ part does not change where the request goes; "localhost."
	 * is the same name, fully qualified (RFC 6761 6.3: loopback) */
	return !urlhost_is_loopback(u.host) &&
	    strcasecmp(u.host, "localhost.") != 0;
}

/* ---- client ---- */

/* What aws_client_warning() says; %s is the host. */
#define PLAIN_HTTP_WARNING "requests to %s are signed and sent over plain " \
	"HTTP: the access key id, signatures and any session token can be " \
	"read on the way (use https://)"

static int
client_config(struct aws_client *c, const struct aws_options *o,
    struct errbuf *err)
{
	const struct awsconf *conf = o->conf;
	char host[256];
	int n;

	if (conf == NULL || o->service == NULL)
		return errbuf_set(err, ERR_USAGE, "aws: configuration and "
		    "service are required");
	if (conf->region == NULL || conf->region[0] == '\0')
		return errbuf_set(err, ERR_CONFIG, "no AWS region");
	if (conf->endpoint == NULL || strstr(conf->endpoint, "://") == NULL)
		return errbuf_set(err, ERR_CONFIG, "no endpoint URL for %s",
		    o->service);
	c->region = strdup(conf->region);
	c->service = strdup(o->service);
	c->endpoint = strdup(conf->endpoint);
	if (c->region == NULL || c->service == NULL || c->endpoint == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	/* unsigned requests carry no key id, signature or session token */
	if (o->get_creds != NULL &&
	    aws_url_is_plain_remote(conf->endpoint, host, sizeof(host))) {
		n = snprintf(NULL, 0, PLAIN_HTTP_WARNING, host);
		if (n < 0 || (c->warning = malloc((size_t)n + 1)) == NULL)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
		snprintf(c->warning, (size_t)n + 1, PLAIN_HTTP_WARNING, host);
	}
	c->flags = strcmp(o->service, "s3") == 0 ? SIGV4_S3 : SIGV4_DEFAULT;
	c->max_attempts = conf->max_attempts > 0 ? conf->max_attempts :
	    AWSCONF_DEFAULT_MAX_ATTEMPTS;
	if (c->max_attempts > AWS_MAX_ATTEMPTS_LIMIT)
		c->max_attempts = AWS_MAX_ATTEMPTS_LIMIT;
	c->o = *o;
	c->o.conf = NULL;	/* copied above; the caller may free it */
	return 0;
}

struct aws_client *
aws_client_new(const struct aws_options *o, struct errbuf *err)
{
	struct http_options h = { 0 };
	struct aws_client *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	if (o == NULL || client_config(c, o, err) != 0)
		goto fail;
	if (o->http != NULL)
		h = *o->http;
	if (h.ca_bundle == NULL)
		h.ca_bundle = o->conf->ca_bundle;
	c->o.http = NULL;
	if ((c->http = http_client_new(&h, err)) == NULL)
		goto fail;
	return c;
fail:
	if (o == NULL)
		errbuf_set(err, ERR_USAGE, "aws: no options");
	aws_client_free(c);
	return NULL;
}

void
aws_client_free(struct aws_client *c)
{
	if (c == NULL)
		return;
	http_client_free(c->http);
	free(c->region);
	free(c->service);
	free(c->endpoint);
	free(c->warning);
	free(c);
}

int
aws_client_max_attempts(const struct aws_client *c)
{
	return c->max_attempts;
}

const char *
aws_client_warning(const struct aws_client *c)
{
	return c != NULL ? c->warning : NULL;
}

static time_t
client_now(const struct aws_client *c)
{
	return c->o.now_fn != NULL ? c->o.now_fn(c->o.hook_arg) : time(NULL);
}

static uint32_t
client_random(const struct aws_client *c)
{
	if (c->o.random_fn != NULL)
		return c->o.random_fn(c->o.hook_arg);
	return retry_jitter();
}

static void
client_sleep(const struct aws_client *c, long ms)
{
	struct timespec ts;

	if (c->o.sleep_fn != NULL) {
		c->o.sleep_fn(c->o.hook_arg, ms);
		return;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	/* a signal (SIGTERM) ends the wait early; the stop flag decides */
	nanosleep(&ts, NULL);
}

/* ---- signing ---- */

void
aws_signed_free(struct aws_signed *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nvalues; i++)
		buf_wipe_str(s->values[i]);
	free(s->url);
	free(s->host);
	memset(s, 0, sizeof(*s));
}

/* The URL to request: req->url, or endpoint + path + ?query. */
static int
build_url(const struct aws_client *c, const struct aws_request *req,
    struct aws_signed *out, struct errbuf *err)
{
	struct buf b = BUF_INIT;
	const char *auth, *slash;

	if (req->url != NULL)
		buf_puts(&b, req->url);
	else {
		buf_puts(&b, c->endpoint);
		buf_puts(&b, req->path != NULL ? req->path : "/");
		if (req->query != NULL && req->query[0] != '\0')
			buf_printf(&b, "?%s", req->query);
	}
	if (b.data == NULL || (auth = strstr(b.data, "://")) == NULL) {
		buf_free(&b);
		return errbuf_set(err, ERR_USAGE, "aws: not an absolute URL");
	}
	auth += 3;
	slash = auth + strcspn(auth, "/?#");
	out->host = strndup(auth, (size_t)(slash - auth));
	out->url = buf_steal(&b);
	if (out->host == NULL || out->url == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

/* The target as signed: the URL from the path on ("/" when empty). */
static const char *
url_target(const char *url)
{
	const char *auth = url != NULL ? strstr(url, "://") : NULL;
	const char *t;

	if (auth == NULL)
		return "/";
	t = auth + 3 + strcspn(auth + 3, "/?#");
	return *t == '/' ? t : "/";
}

/* Host first, then the caller's headers; the signer requires Host. */
static int
add_fields(struct aws_signed *out, const struct aws_request *req,
    struct sigv4_header *sh, struct errbuf *err)
{
	size_t i, n = 0;

	if (req->nheaders > AWS_MAX_HEADERS)
		return errbuf_set(err, ERR_USAGE, "aws: more than %d headers",
		    AWS_MAX_HEADERS);
	out->fields[n].name = "Host";
	out->fields[n++].value = out->host;
	for (i = 0; i < req->nheaders; i++)
		out->fields[n++] = req->headers[i];
	for (i = 0; i < n; i++) {
		sh[i].name = out->fields[i].name;
		sh[i].value = out->fields[i].value;
	}
	out->http.headers = out->fields;
	out->http.nheaders = n;
	return 0;
}

/* X-Amz-Date, X-Amz-Security-Token, X-Amz-Content-SHA256, Authorization */
static int
add_signature(struct aws_signed *out, struct sigv4_result *res,
    struct errbuf *err)
{
	size_t i, n = out->http.nheaders;

	for (i = 0; i < res->nadd && i < sizeof(out->values) /
	    sizeof(out->values[0]); i++) {
		out->values[i] = strdup(res->add_headers[i].value);
		if (out->values[i] == NULL)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
		out->nvalues = i + 1;
		snprintf(out->names[i], sizeof(out->names[i]), "%s",
		    res->add_headers[i].name);
		out->fields[n].name = out->names[i];
		out->fields[n++].value = out->values[i];
	}
	out->http.nheaders = n;
	return 0;
}

/* SigV4 over the request out holds, with the credentials of this moment. */
static int
sign(struct aws_client *c, const struct aws_request *req,
    struct sigv4_header *sh, struct aws_signed *out, struct errbuf *err)
{
	struct sigv4_credentials cr;
	struct sigv4_request sreq;
	struct sigv4_params p;
	struct sigv4_result res;
	time_t now = client_now(c);
	int rc;

	if (c->o.get_creds(c->o.creds_arg, now, &cr, err) != 0)
		return -1;
	memset(&res, 0, sizeof(res));
	sreq.method = req->method;
	sreq.target = url_target(out->url);
	sreq.headers = sh;
	sreq.nheaders = out->http.nheaders;
	sreq.payload_hash = req->payload_hash;
	sreq.body = req->body;
	sreq.body_len = req->body_len;
	memset(&p, 0, sizeof(p));
	p.region = c->region;
	p.service = c->service;
	p.when = now;
	p.flags = c->flags;
	rc = sigv4_sign(&sreq, &p, &cr, &res, err) != 0 ||
	    add_signature(out, &res, err) != 0 ? -1 : 0;
	sigv4_result_free(&res);
	return rc;
}

int
aws_sign_request(struct aws_client *c, const struct aws_request *req,
    struct aws_signed *out, struct errbuf *err)
{
	struct sigv4_header sh[AWS_MAX_HEADERS + 1];

	memset(out, 0, sizeof(*out));
	if (build_url(c, req, out, err) != 0 ||
	    add_fields(out, req, sh, err) != 0 ||
	    (c->o.get_creds != NULL && sign(c, req, sh, out, err) != 0)) {
		aws_signed_free(out);
		return -1;
	}
	out->http.method = req->method;
	out->http.url = out->url;
	out->http.body = req->body;
	out->http.body_len = req->body_len;
	return 0;
}

/* ---- the retry loop ---- */

/*
 * One signed attempt. Returns 0 on 2xx, 1 on an error response (resp->error
 * and aerr set), -1 when no response arrived (aerr set).
 */
static int
attempt_once(struct aws_client *c, const struct aws_request *req,
    struct aws_response *resp, struct errbuf *aerr)
{
	struct aws_signed s;
	int rc;

	http_response_free(&resp->http);
	memset(&resp->error, 0, sizeof(resp->error));
	resp->status = 0;
	if (aws_sign_request(c, req, &s, aerr) != 0)
		return -1;
	rc = http_client_do(c->http, &s.http, &resp->http, aerr);
	aws_signed_free(&s);
	if (rc != 0)
		return -1;
	resp->status = resp->http.status;
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	aws_error_parse(&resp->http, &resp->error);
	aws_error_set(aerr, resp->status, &resp->error);
	return 1;
}

/* Backoff, or the server's Retry-After when that is longer. */
static long
retry_delay(struct aws_client *c, int attempt, const struct aws_response *r)
{
	int throttled = r->status == 429 || aws_error_is_throttle(r->error.code);
	const char *h = NULL;
	long ra = -1;

	if (r->status != 0)
		h = http_response_header(&r->http, "Retry-After");
	if (h != NULL)
		ra = http_retry_after_ms(h, (long)client_now(c));
	return retry_delay_ms(&retry_aws_standard, attempt, throttled, ra,
	    client_random(c));
}

static int
stopped(const struct aws_client *c)
{
	return c->o.stop != NULL && *c->o.stop != 0;
}

/* The last attempt's message, kind ERR_TEMP, and why we gave up. */
static int
give_up(struct errbuf *err, const struct errbuf *last, int attempts,
    const char *why)
{
	errbuf_set(err, ERR_TEMP, "%s (%d attempt%s%s%s)", last->msg, attempts,
	    attempts == 1 ? "" : "s", why[0] ? ", " : "", why);
	return -1;
}

int
aws_send(struct aws_client *c, const struct aws_request *req,
    struct aws_response *resp, struct errbuf *err)
{
	struct errbuf last;
	long long start = clock_mono_ms();
	long delay;
	int attempt, outcome, retry;

	for (attempt = 1;; attempt++) {
		errbuf_clear(&last);
		resp->attempts = attempt;
		outcome = attempt_once(c, req, resp, &last);
		if (outcome == 0)
			return 0;
		retry = outcome < 0 ? aws_should_retry(0, NULL, last.kind) :
		    aws_should_retry(resp->status, resp->error.code, ERR_NONE);
		if (!retry) {
			*err = last;
			return -1;
		}
		if (attempt >= c->max_attempts)
			return give_up(err, &last, attempt, "");
		delay = retry_delay(c, attempt, resp);
		if (c->o.budget_ms > 0 &&
		    clock_mono_ms() - start + delay > c->o.budget_ms)
			return give_up(err, &last, attempt,
			    "time budget spent");
		if (stopped(c))
			return give_up(err, &last, attempt, "stopped");
		client_sleep(c, delay);
		if (stopped(c))
			return give_up(err, &last, attempt, "stopped");
	}
}

void
aws_post_request(struct aws_request *req, const struct http_field *h,
    size_t nh, const void *body, size_t len)
{
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->path = "/";
	req->headers = h;
	req->nheaders = nh;
	req->body = body;
	req->body_len = len;
}

void
aws_json_request(struct aws_request *req, struct http_field h[2],
    const char *target, const void *body, size_t len)
{
	h[0].name = "Content-Type";
	h[0].value = "application/x-amz-json-1.1";
	h[1].name = "X-Amz-Target";
	h[1].value = target;
	aws_post_request(req, h, 2, body, len);
}

int
aws_json_call(struct aws_client *c, const char *target, const void *body,
    size_t len, struct aws_response *resp, struct errbuf *err)
{
	struct http_field h[2];
	struct aws_request req;

	aws_json_request(&req, h, target, body, len);
	return aws_send(c, &req, resp, err);
}

void
aws_response_free(struct aws_response *r)
{
	if (r == NULL)
		return;
	http_response_free(&r->http);
	memset(r, 0, sizeof(*r));
}
