/*
 * http: libcurl easy handles for sequential requests, a multi handle for
 * parallel ones, and a trace that never shows a secret.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "clock.h"
#include "http.h"

#define HTTP_MAX_RESPONSE_HEADERS 200	/* more is not a sane AWS reply */
#define HTTP_REDACTED "REDACTED"

#ifndef COINPIPE_VERSION
#define COINPIPE_VERSION "0"
#endif

/* The caller's options with the strings we own. */
struct http_opts {
	struct http_options o;
	char *user_agent;
	char *ca_bundle;
};

/* One easy handle and everything a transfer on it needs. */
struct http_xfer {
	CURL *easy;
	const struct http_opts *opts;
	const struct http_request *req;
	struct http_response *resp;	/* where the response goes */
	struct http_response own;	/* storage for multi transfers */
	struct curl_slist *hdrs;
	int busy;			/* multi: in flight */
	void *tag;
	int too_big, oom;
	int secret_body;		/* the response body is a credential */
	struct buf trace_out, trace_in;	/* first bytes of the bodies */
	size_t trace_out_total, trace_in_total;
	char errbuf[CURL_ERROR_SIZE];
};

struct http_client {
	struct http_opts opts;
	struct http_xfer x;
};

struct http_multi {
	CURLM *cm;
	struct http_opts opts;
	size_t max, pending;
	struct http_xfer x[HTTP_MULTI_MAX_HANDLES];
	volatile sig_atomic_t *stop;	/* http_multi_set_stop */
};

int
http_global_init(struct errbuf *err)
{
	static int done;
	CURLcode rc;

	if (done)
		return 0;
	rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rc != CURLE_OK)
		return errbuf_set(err, ERR_SYSTEM, "curl_global_init: %s",
		    curl_easy_strerror(rc));
	done = 1;
	return 0;
}

static int
opts_copy(struct http_opts *dst, const struct http_options *o,
    struct errbuf *err)
{
	static const struct http_options none;

	dst->o = o != NULL ? *o : none;
	dst->user_agent = strdup(dst->o.user_agent != NULL ?
	    dst->o.user_agent : "coinpipe/" COINPIPE_VERSION);
	dst->ca_bundle = dst->o.ca_bundle != NULL ?
	    strdup(dst->o.ca_bundle) : NULL;
	if (dst->user_agent == NULL ||
	    (dst->o.ca_bundle != NULL && dst->ca_bundle == NULL))
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	dst->o.user_agent = dst->user_agent;
	dst->o.ca_bundle = dst->ca_bundle;
	if (dst->o.connect_timeout_ms <= 0)
		dst->o.connect_timeout_ms = HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	if (dst->o.low_speed_time_s <= 0)
		dst->o.low_speed_time_s = HTTP_DEFAULT_LOW_SPEED_TIME_S;
	if (dst->o.max_response == 0)
		dst->o.max_response = HTTP_DEFAULT_MAX_RESPONSE;
	if (dst->o.trace_fn == NULL)
		dst->o.trace = 0;
	return 0;
}

static void
opts_free(struct http_opts *o)
{
	free(o->user_agent);
	free(o->ca_bundle);
	o->user_agent = o->ca_bundle = NULL;
}

/* ---- redaction: what a trace must never show ---- */

/* Names of headers, query parameters, JSON keys and XML elements whose
 * values are secrets (or let someone act as us). Matched as substrings. */
static int
is_secret_name(const char *name, size_t n)
{
	static const char *const words[] = {
		"authorization", "token", "secret", "password", "api-key",
		"api_key", "apikey", "signature", "cookie"
	};
	size_t i, j, k;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		k = strlen(words[i]);
		for (j = 0; j + k <= n; j++)
			if (strncasecmp(name + j, words[i], k) == 0)
				return 1;
	}
	return 0;
}

/* "a=1&secret_key=2" -> "a=1&secret_key=REDACTED", up to a space or end. */
static void
redact_query(const char *s, size_t n, struct buf *out)
{
	size_t i = 0, name, eq;

	while (i < n && s[i] != ' ') {
		name = i;
		while (i < n && s[i] != '=' && s[i] != '&' && s[i] != ' ')
			i++;
		eq = i;
		buf_append(out, s + name, eq - name);
		if (i < n && s[i] == '=') {
			while (i < n && s[i] != '&' && s[i] != ' ')
				i++;
			if (is_secret_name(s + name, eq - name))
				buf_puts(out, "=" HTTP_REDACTED);
			else
				buf_append(out, s + eq, i - eq);
		}
		if (i < n && s[i] == '&')
			buf_putc(out, s[i++]);
	}
	buf_append(out, s + i, n - i);
}

/* Characters a session token (base64) or its percent-encoded form uses. */
static int
is_token_char(unsigned char c)
{
	return isalnum(c) || (c != '\0' && strchr("+/=%-_.~", c) != NULL);
}

/*
 * Copies text, but the value after "x-amz-security-token:" or "=" becomes
 * REDACTED: AWS echoes its canonical request, session token included, in
 * SignatureDoesNotMatch and InvalidSignatureException answers.
 */
static int
redact_text(const char *s, size_t n, struct buf *out)
{
	static const char name[] = "x-amz-security-token";
	const size_t k = sizeof(name) - 1;
	size_t i = 0, start = 0;
	int rc = 0;

	while (i + k < n) {
		if (strncasecmp(s + i, name, k) != 0 ||
		    (s[i + k] != ':' && s[i + k] != '=')) {
			i++;
			continue;
		}
		i += k + 1;
		rc |= buf_append(out, s + start, i - start);
		rc |= buf_puts(out, HTTP_REDACTED);
		while (i < n && is_token_char((unsigned char)s[i]))
			i++;
		start = i;
	}
	return rc | buf_append(out, s + start, n - start);
}

char *
http_redact_text(const char *s)
{
	struct buf b = BUF_INIT;

	if (redact_text(s, strlen(s), &b) != 0) {
		buf_wipe(&b);
		return NULL;
	}
	return b.data != NULL ? buf_steal(&b) : strdup("");
}

/* A request line ("GET /p?q HTTP/1.1"), a URL, or a "Name: value" line. */
static void
redact_line(const char *s, size_t n, int is_header, struct buf *out)
{
	const char *q = memchr(s, '?', n);
	const char *colon = memchr(s, ':', n);

	if (is_header && colon != NULL) {
		if (is_secret_name(s, (size_t)(colon - s))) {
			buf_append(out, s, (size_t)(colon - s));
			buf_puts(out, ": " HTTP_REDACTED);
		} else
			buf_append(out, s, n);
		return;
	}
	if (q == NULL) {
		buf_append(out, s, n);
		return;
	}
	buf_append(out, s, (size_t)(q - s) + 1);
	redact_query(q + 1, n - (size_t)(q - s) - 1, out);
}

/* End of a JSON string whose opening quote is at s[i]: index of the
 * closing quote, or n when it is cut off. */
static size_t
json_string_end(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i;
	}
	return n;
}

/* At s[i] == '"': copies a string; a secret key's string value is
 * replaced. Returns the index after what was consumed. */
static size_t
redact_json_at(const char *s, size_t n, size_t i, struct buf *out)
{
	size_t kend = json_string_end(s, n, i), j, vend;

	redact_text(s + i, (kend < n ? kend + 1 : n) - i, out);
	if (kend >= n)
		return n;
	j = kend + 1;
	while (j < n && isspace((unsigned char)s[j]))
		j++;
	if (j >= n || s[j] != ':' || !is_secret_name(s + i + 1, kend - i - 1))
		return kend + 1;
	for (j++; j < n && isspace((unsigned char)s[j]); j++)
		;
	if (j >= n || s[j] != '"')
		return kend + 1;
	vend = json_string_end(s, n, j);
	buf_append(out, s + kend + 1, j - kend);
	buf_puts(out, HTTP_REDACTED);
	if (vend >= n)
		return n;
	buf_putc(out, '"');
	return vend + 1;
}

/* At s[i] == '<': copies a tag; a secret element's text is replaced. */
static size_t
redact_xml_at(const char *s, size_t n, size_t i, struct buf *out)
{
	size_t j = i + 1, name_end, gt;

	while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_' ||
	    s[j] == '-' || s[j] == ':'))
		j++;
	name_end = j;
	for (gt = j; gt < n && s[gt] != '>'; gt++)
		;
	buf_append(out, s + i, (gt < n ? gt + 1 : n) - i);
	if (gt >= n)
		return n;
	if (name_end == i + 1 || s[gt - 1] == '/' ||
	    !is_secret_name(s + i + 1, name_end - i - 1))
		return gt + 1;
	for (j = gt + 1; j < n && s[j] != '<'; j++)
		;
	buf_puts(out, HTTP_REDACTED);
	return j;
}

/* An application/x-www-form-urlencoded body (STS query API): one line of
 * name=value pairs, nothing JSON or XML would start with. */
static int
looks_like_form(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr(" \t\r\n\"<{[", s[i]) != NULL || s[i] == '\0')
			return 0;
	return memchr(s, '=', n) != NULL;
}

/* JSON and XML bodies in one pass, forms by parameter: secret values
 * become REDACTED. */
static void
redact_body(const char *s, size_t n, struct buf *out)
{
	size_t i = 0, start;

	if (looks_like_form(s, n)) {
		redact_query(s, n, out);
		return;
	}

	while (i < n) {
		if (s[i] == '"')
			i = redact_json_at(s, n, i, out);
		else if (s[i] == '<')
			i = redact_xml_at(s, n, i, out);
		else {
			for (start = i; i < n && s[i] != '"' && s[i] != '<';
			    i++)
				;
			redact_text(s + start, i - start, out);
		}
	}
}

/* ---- trace ---- */

/* Hands one line to the trace callback, control bytes made visible. */
static void
trace_emit(const struct http_xfer *x, const char *prefix, const char *s,
    size_t n)
{
	struct buf line = BUF_INIT;
	size_t i;

	buf_puts(&line, prefix);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 && c != '\t')
			buf_printf(&line, "\\x%02x", c);
		else
			buf_putc(&line, (char)c);
	}
	if (line.data != NULL)
		x->opts->o.trace_fn(x->opts->o.trace_arg, line.data);
	buf_free(&line);
}

/* Emits text line by line, dropping CR LF. */
static void
trace_lines(const struct http_xfer *x, const char *prefix, const char *s,
    size_t n)
{
	const char *end = s + n, *nl;
	size_t len;

	while (s < end) {
		nl = memchr(s, '\n', (size_t)(end - s));
		len = (size_t)((nl != NULL ? nl : end) - s);
		if (len > 0 && s[len - 1] == '\r')
			len--;
		if (len > 0)
			trace_emit(x, prefix, s, len);
		s = nl != NULL ? nl + 1 : end;
	}
}

/* A header block: level 1 keeps request and status lines only. */
static void
trace_head(const struct http_xfer *x, const char *prefix, const char *s,
    size_t n, int first_is_request)
{
	const char *end = s + n, *nl;
	struct buf red = BUF_INIT;
	size_t len;
	int first;

	for (first = first_is_request; s < end; first = 0) {
		nl = memchr(s, '\n', (size_t)(end - s));
		len = (size_t)((nl != NULL ? nl : end) - s);
		if (len > 0 && s[len - 1] == '\r')
			len--;
		first = first || (len >= 5 && memcmp(s, "HTTP/", 5) == 0);
		if (len > 0 && (first || x->opts->o.trace >= 2)) {
			buf_reset(&red);
			redact_line(s, len, !first, &red);
			if (red.data != NULL)
				trace_emit(x, prefix, red.data, red.len);
		}
		s = nl != NULL ? nl + 1 : end;
	}
	buf_wipe(&red);
}

static void
trace_keep(struct buf *b, size_t *total, const char *data, size_t n)
{
	size_t room = HTTP_TRACE_BODY_MAX - b->len;

	*total += n;
	buf_append(b, data, n < room ? n : room);
}

static int
on_debug(CURL *h, curl_infotype type, char *data, size_t n, void *arg)
{
	struct http_xfer *x = arg;
	int lvl = x->opts->o.trace;

	(void)h;
	if (type == CURLINFO_HEADER_OUT)
		trace_head(x, "> ", data, n, 1);
	else if (type == CURLINFO_HEADER_IN)
		trace_head(x, "< ", data, n, 0);
	else if (lvl >= 2 && type == CURLINFO_TEXT)
		trace_lines(x, "* ", data, n);
	else if (lvl >= 2 && type == CURLINFO_DATA_OUT)
		trace_keep(&x->trace_out, &x->trace_out_total, data, n);
	else if (lvl >= 2 && type == CURLINFO_DATA_IN)
		trace_keep(&x->trace_in, &x->trace_in_total, data, n);
	return 0;
}

/* Bodies are shown at the end of a transfer, so that a secret split
 * across two reads is still seen whole by the redaction. */
static void
trace_body(const struct http_xfer *x, const char *prefix, struct buf *b,
    size_t total, int secret)
{
	struct buf red = BUF_INIT;
	char note[80];

	if (total == 0)
		goto out;
	if (secret) {
		snprintf(note, sizeof(note), "[" HTTP_REDACTED " %zu bytes]",
		    total);
		trace_emit(x, prefix, note, strlen(note));
		goto out;
	}
	redact_body(b->data, b->len, &red);
	if (red.data != NULL)
		trace_lines(x, prefix, red.data, red.len);
	if (total > b->len) {
		snprintf(note, sizeof(note), "[%zu more bytes]",
		    total - b->len);
		trace_emit(x, prefix, note, strlen(note));
	}
out:
	buf_wipe(&red);
	buf_wipe(b);
}

/* ---- one transfer ---- */

static size_t
on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb;

	if (n > x->opts->o.max_response - x->resp->body.len) {
		x->too_big = 1;
		return 0;
	}
	if (buf_append(&x->resp->body, p, n) != 0) {
		x->oom = 1;
		return 0;
	}
	return n;
}

static void
headers_clear(struct http_response *r)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		free(r->header_names[i]);
		free(r->header_values[i]);
	}
	free(r->header_names);
	free(r->header_values);
	r->header_names = r->header_values = NULL;
	r->nheaders = 0;
}

static char *
dup_trimmed(const char *s, size_t n)
{
	char *d;

	while (n > 0 && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static int
headers_add(struct http_response *r, const char *line, size_t n)
{
	const char *colon = memchr(line, ':', n);
	char **nn, **nv;

	if (colon == NULL || r->nheaders >= HTTP_MAX_RESPONSE_HEADERS)
		return 0;
	nn = realloc(r->header_names, (r->nheaders + 1) * sizeof(*nn));
	if (nn != NULL)
		r->header_names = nn;
	nv = realloc(r->header_values, (r->nheaders + 1) * sizeof(*nv));
	if (nv != NULL)
		r->header_values = nv;
	if (nn == NULL || nv == NULL)
		return -1;
	nn[r->nheaders] = dup_trimmed(line, (size_t)(colon - line));
	nv[r->nheaders] = dup_trimmed(colon + 1,
	    n - (size_t)(colon - line) - 1);
	r->nheaders++;
	return nn[r->nheaders - 1] != NULL && nv[r->nheaders - 1] != NULL ?
	    0 : -1;
}

static size_t
on_header(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_xfer *x = arg;
	size_t n = size * nmemb;

	/* a new status line (after 100 Continue): keep the final headers */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
		headers_clear(x->resp);
	else if (headers_add(x->resp, p, n) != 0) {
		x->oom = 1;
		return 0;
	}
	return n;
}

static void
set_common(struct http_xfer *x)
{
	const struct http_options *o = &x->opts->o;
	CURL *h = x->easy;

	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms);
	if (o->timeout_ms > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	/* below 1 byte/s for this long counts as a dead connection */
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s);
	curl_easy_setopt(h, CURLOPT_USERAGENT, o->user_agent);
	if (o->ca_bundle != NULL)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_bundle);
	/* kin-get --follow keeps a connection for weeks through NATs */
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	/* an endpoint from the environment must not read file:// */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(h, CURLOPT_PRIVATE, x);
	if (o->trace > 0) {
		curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug);
		curl_easy_setopt(h, CURLOPT_DEBUGDATA, x);
		curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
	}
}

static int
has_field(const struct http_request *req, const char *name)
{
	size_t i;

	for (i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return 1;
	return 0;
}

static int
slist_add(struct curl_slist **l, const char *line)
{
	struct curl_slist *n = curl_slist_append(*l, line);

	if (n == NULL)
		return -1;
	*l = n;
	return 0;
}

/* The request's headers, plus an empty Expect: (no 100-continue round
 * trip) and no default form Content-Type on bodies. */
static int
build_headers(struct http_xfer *x, const struct http_request *req,
    struct errbuf *err)
{
	struct buf line = BUF_INIT;
	size_t i;
	int rc = -1;

	for (i = 0; i < req->nheaders; i++) {
		const struct http_field *f = &req->headers[i];
		if (strpbrk(f->name, "\r\n:") != NULL ||
		    strpbrk(f->value, "\r\n") != NULL) {
			errbuf_set(err, ERR_USAGE, "header %s: invalid bytes",
			    f->name);
			goto out;
		}
		buf_reset(&line);
		/* "Name;" is how curl sends a header with an empty value */
		if (buf_printf(&line, *f->value ? "%s: %s" : "%s;%s", f->name,
		    f->value) != 0 || slist_add(&x->hdrs, line.data) != 0)
			goto oom;
	}
	if (slist_add(&x->hdrs, "Expect:") != 0 ||
	    (!has_field(req, "Content-Type") &&
	    slist_add(&x->hdrs, "Content-Type:") != 0))
		goto oom;
	rc = 0;
	goto out;
oom:
	errbuf_set(err, ERR_SYSTEM, "out of memory");
out:
	buf_wipe(&line);	/* it held Authorization */
	return rc;
}

static void
set_method(CURL *h, const struct http_request *req)
{
	const char *m = req->method;

	if (strcmp(m, "GET") == 0)
		curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
	else if (strcmp(m, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(m, "DELETE") == 0 && req->body == NULL)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
	else {
		/* POST, PUT: the body goes out from the caller's buffer, with
		 * Content-Length even when empty (the IMDSv2 token PUT) */
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->body_len);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS,
		    req->body != NULL ? req->body : "");
		if (strcmp(m, "POST") != 0)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, m);
	}
}

/* The IMDSv2 token comes back as the whole body. */
static int
body_is_secret(const struct http_request *req)
{
	return has_field(req, "X-aws-ec2-metadata-token-ttl-seconds");
}

static int
xfer_setup(struct http_xfer *x, const struct http_request *req,
    struct http_response *resp, struct errbuf *err)
{
	if (req == NULL || req->method == NULL || req->url == NULL)
		return errbuf_set(err, ERR_USAGE, "http: no method or URL");
	curl_easy_reset(x->easy);	/* keeps the connection cache */
	x->req = req;
	x->resp = resp;
	resp->body.max = x->opts->o.max_response;
	x->too_big = x->oom = 0;
	x->secret_body = body_is_secret(req);
	x->errbuf[0] = '\0';
	set_common(x);
	if (build_headers(x, req, err) != 0)
		return -1;
	set_method(x->easy, req);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	if (curl_easy_setopt(x->easy, CURLOPT_URL, req->url) != CURLE_OK)
		return errbuf_set(err, ERR_CONFIG, "bad URL");
	return 0;
}

/* Whether another attempt might get through (lib/aws retries ERR_TEMP). */
static enum errbuf_kind
kind_of(CURLcode rc)
{
	switch (rc) {
	case CURLE_OUT_OF_MEMORY:
		return ERR_SYSTEM;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_NOT_BUILT_IN:
		return ERR_CONFIG;
	default:
		/* refused, reset, timed out, DNS, truncated: worth a retry */
		return ERR_TEMP;
	}
}

/* "POST https://host/path" without the query, which may hold a key. */
static void
url_for_message(const struct http_request *req, char *out, size_t n)
{
	size_t len = strcspn(req->url, "?#");

	snprintf(out, n, "%s %.*s", req->method, (int)len, req->url);
}

static int
xfer_finish(struct http_xfer *x, CURLcode rc, struct errbuf *err)
{
	char what[256];

	if (x->opts->o.trace >= 2) {
		trace_body(x, "} ", &x->trace_out, x->trace_out_total, 0);
		trace_body(x, "{ ", &x->trace_in, x->trace_in_total,
		    x->secret_body);
	}
	x->trace_out_total = x->trace_in_total = 0;
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->resp->status);
	if (rc == CURLE_OK)
		return 0;
	url_for_message(x->req, what, sizeof(what));
	if (x->too_big)
		return errbuf_set(err, ERR_SYSTEM, "%s: response body larger "
		    "than %zu bytes", what, x->opts->o.max_response);
	/* libcurl before 8.6 fails a response header line over its limit
	 * (CURL_MAX_HTTP_HEADER, 100 KiB) as out of memory, without a word
	 * in the error buffer. A real shortage shows up in our own
	 * callbacks or later; a server that sends such a header is far
	 * likelier, and worth a retry like any other broken answer. */
	if (rc == CURLE_OUT_OF_MEMORY && !x->oom)
		return errbuf_set(err, ERR_TEMP, "%s: a response header line "
		    "over libcurl's 100 KiB limit (or out of memory)%s%s",
		    what, x->errbuf[0] != '\0' ? ": " : "", x->errbuf);
	if (x->oom || rc == CURLE_OUT_OF_MEMORY)
		return errbuf_set(err, ERR_SYSTEM, "%s: out of memory", what);
	return errbuf_set(err, kind_of(rc), "%s: %s", what,
	    x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc));
}

static void
xfer_free(struct http_xfer *x)
{
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->hdrs);
	http_response_free(&x->own);
	buf_wipe(&x->trace_out);
	buf_wipe(&x->trace_in);
	memset(x, 0, sizeof(*x));
}

/* ---- sequential client ---- */

struct http_client *
http_client_new(const struct http_options *o, struct errbuf *err)
{
	struct http_client *c;

	if (http_global_init(err) != 0)
		return NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	if (opts_copy(&c->opts, o, err) != 0)
		goto fail;
	c->x.opts = &c->opts;
	if ((c->x.easy = curl_easy_init()) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "curl_easy_init failed");
		goto fail;
	}
	return c;
fail:
	http_client_free(c);
	return NULL;
}

void
http_client_free(struct http_client *c)
{
	if (c == NULL)
		return;
	xfer_free(&c->x);
	opts_free(&c->opts);
	free(c);
}

int
http_client_do(struct http_client *c, const struct http_request *req,
    struct http_response *resp, struct errbuf *err)
{
	CURLcode cc;

	resp->status = 0;
	if (xfer_setup(&c->x, req, resp, err) != 0) {
		curl_slist_free_all(c->x.hdrs);
		c->x.hdrs = NULL;
		return -1;
	}
	cc = curl_easy_perform(c->x.easy);
	return xfer_finish(&c->x, cc, err);
}

const char *
http_response_header(const struct http_response *r, const char *name)
{
	size_t i;

	/* the last one wins, as for a repeated Retry-After */
	for (i = r->nheaders; i-- > 0;)
		if (strcasecmp(r->header_names[i], name) == 0)
			return r->header_values[i];
	return NULL;
}

void
http_response_free(struct http_response *r)
{
	if (r == NULL)
		return;
	headers_clear(r);
	buf_free(&r->body);
	r->status = 0;
}

long
http_retry_after_ms(const char *value, long now)
{
	char *end;
	long secs;
	time_t when;

	if (value == NULL)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	if (isdigit((unsigned char)*value)) {
		/* RFC 9110 10.2.3: delay-seconds = 1*DIGIT */
		errno = 0;
		secs = strtol(value, &end, 10);
		while (*end == ' ' || *end == '\t')
			end++;
		if (*end != '\0')
			return -1;
		if (errno == ERANGE || secs > LONG_MAX / 1000)
			return LONG_MAX;
		return secs * 1000;
	}
	/* or an HTTP-date (IMF-fixdate, RFC 850, asctime) */
	when = curl_getdate(value, NULL);
	if (when == (time_t)-1)
		return -1;
	if ((long)when <= now)
		return 0;
	if ((long)when - now > LONG_MAX / 1000)
		return LONG_MAX;
	return ((long)when - now) * 1000;
}

/* ---- parallel transfers ---- */

struct http_multi *
http_multi_new(const struct http_options *o, size_t max_handles,
    struct errbuf *err)
{
	struct http_multi *m;

	if (max_handles < 1 || max_handles > HTTP_MULTI_MAX_HANDLES) {
		errbuf_set(err, ERR_USAGE, "http_multi: %zu handles: must be "
		    "1 to %d", max_handles, HTTP_MULTI_MAX_HANDLES);
		return NULL;
	}
	if (http_global_init(err) != 0)
		return NULL;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	m->max = max_handles;
	if (opts_copy(&m->opts, o, err) != 0)
		goto fail;
	if ((m->cm = curl_multi_init()) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "curl_multi_init failed");
		goto fail;
	}
	return m;
fail:
	http_multi_free(m);
	return NULL;
}

void
http_multi_free(struct http_multi *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->max; i++) {
		if (m->x[i].busy)
			curl_multi_remove_handle(m->cm, m->x[i].easy);
		xfer_free(&m->x[i]);
	}
	curl_multi_cleanup(m->cm);
	opts_free(&m->opts);
	free(m);
}

static struct http_xfer *
idle_xfer(struct http_multi *m, struct errbuf *err)
{
	struct http_xfer *x;
	size_t i;

	for (i = 0; i < m->max && m->x[i].busy; i++)
		;
	if (i == m->max) {
		errbuf_set(err, ERR_USAGE, "http_multi: %zu requests already "
		    "in flight", m->max);
		return NULL;
	}
	x = &m->x[i];
	x->opts = &m->opts;
	if (x->easy == NULL && (x->easy = curl_easy_init()) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "curl_easy_init failed");
		return NULL;
	}
	return x;
}

int
http_multi_add(struct http_multi *m, const struct http_request *req,
    void *tag, struct errbuf *err)
{
	struct http_xfer *x = idle_xfer(m, err);
	CURLMcode mc;

	if (x == NULL)
		return -1;
	http_response_free(&x->own);
	if (xfer_setup(x, req, &x->own, err) != 0)
		goto fail;
	if ((mc = curl_multi_add_handle(m->cm, x->easy)) != CURLM_OK) {
		errbuf_set(err, ERR_SYSTEM, "curl_multi_add_handle: %s",
		    curl_multi_strerror(mc));
		goto fail;
	}
	x->tag = tag;
	x->busy = 1;
	m->pending++;
	return 0;
fail:
	curl_slist_free_all(x->hdrs);
	x->hdrs = NULL;
	return -1;
}

/* Moves finished transfers to done[], at most max of them. */
static size_t
multi_collect(struct http_multi *m, struct http_multi_done *done, size_t max)
{
	struct http_multi_done *d;
	struct http_xfer *x;
	CURLMsg *msg;
	size_t n = 0;
	int left;
	char *priv;

	while (n < max && (msg = curl_multi_info_read(m->cm, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		x = (struct http_xfer *)(void *)priv;
		curl_multi_remove_handle(m->cm, x->easy);
		d = &done[n++];
		errbuf_clear(&d->err);
		d->tag = x->tag;
		d->rc = xfer_finish(x, msg->data.result, &d->err);
		d->resp = x->own;
		memset(&x->own, 0, sizeof(x->own));
		x->busy = 0;
		m->pending--;
	}
	return n;
}

static int
fd_readable(int fd)
{
	struct pollfd p;

	if (fd < 0)
		return 0;
	p.fd = fd;
	p.events = POLLIN;
	p.revents = 0;
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0;
}

void
http_multi_set_stop(struct http_multi *m, volatile sig_atomic_t *stop)
{
	m->stop = stop;
}

int
http_multi_wait(struct http_multi *m, int extra_fd, int timeout_ms,
    struct http_multi_done *done, size_t max, int *fd_ready,
    struct errbuf *err)
{
	struct curl_waitfd wfd;
	long long deadline = clock_mono_ms() + timeout_ms, left;
	CURLMcode mc;
	size_t n = 0;
	int running, ready = 0;

	for (;;) {
		mc = curl_multi_perform(m->cm, &running);
		if (mc != CURLM_OK)
			return errbuf_set(err, ERR_SYSTEM, "curl_multi_perform:"
			    " %s", curl_multi_strerror(mc));
		n = multi_collect(m, done, max);
		ready = fd_readable(extra_fd);
		left = timeout_ms < 0 ? 1000 : deadline - clock_mono_ms();
		if (n > 0 || ready || left <= 0 || max == 0 ||
		    (m->pending == 0 && extra_fd < 0) ||
		    (m->stop != NULL && *m->stop))
			break;
		wfd.fd = extra_fd;
		wfd.events = CURL_WAIT_POLLIN;
		wfd.revents = 0;
		mc = curl_multi_poll(m->cm, &wfd, extra_fd >= 0 ? 1 : 0,
		    left > INT_MAX ? INT_MAX : (int)left, NULL);
		if (mc != CURLM_OK)
			return errbuf_set(err, ERR_SYSTEM, "curl_multi_poll: "
			    "%s", curl_multi_strerror(mc));
	}
	if (fd_ready != NULL)
		*fd_ready = ready;
	return (int)n;
}
