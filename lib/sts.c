/*
 * sts: STS AssumeRole / AssumeRoleWithWebIdentity and the IAM Identity
 * Center portal's GetRoleCredentials.
 *
 * AssumeRole is signed, so it goes through lib/aws (signing, the standard
 * retry mode). The two unsigned calls cannot (aws_send always signs); they
 * have a small loop here that decides with aws_should_retry and
 * lib/retry's delay, as kin-put does for its parallel requests.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws.h"
#include "buf.h"
#include "creds.h"
#include "retry.h"
#include "sts.h"

#define SSO_TOKEN_FILE_MAX ((size_t)64 * 1024)	/* a cache entry: ~2 KiB */
#define FORM_TYPE "application/x-www-form-urlencoded; charset=utf-8"

static void
wipe_str(char *s)
{
	if (s != NULL)
		OPENSSL_cleanse(s, strlen(s));
	free(s);
}

void
sts_creds_free(struct sts_creds *c)
{
	if (c == NULL)
		return;
	wipe_str(c->access_key);
	wipe_str(c->secret_key);
	wipe_str(c->token);
	memset(c, 0, sizeof(*c));
}

/* Options for our own clients: bodies hold secrets, so no body trace. */
static void
http_opts(const struct sts_target *t, struct http_options *o)
{
	memset(o, 0, sizeof(*o));
	if (t->http != NULL)
		*o = *t->http;
	if (o->trace > 1)
		o->trace = 1;
	if (o->timeout_ms == 0)
		o->timeout_ms = STS_TIMEOUT_MS;
	o->max_response = STS_MAX_BODY;
	if (o->ca_bundle == NULL)
		o->ca_bundle = t->conf->ca_bundle;
}

/* ---- the query API form ---- */

static int
form_add(struct buf *b, const char *name, const char *value)
{
	char *enc;
	int rc;

	if ((enc = sigv4_uri_encode(value, strlen(value), 0)) == NULL)
		return -1;
	rc = buf_printf(b, "%s%s=%s", b->len ? "&" : "", name, enc);
	wipe_str(enc);
	return rc;
}

/* Action=...&Version=...&RoleArn=...&RoleSessionName=... (+ options) */
static int
role_form(struct buf *b, const char *action, const struct sts_role *r,
    const char *token, struct errbuf *err)
{
	char dur[24];
	int rc;

	rc = form_add(b, "Action", action) | form_add(b, "Version",
	    STS_API_VERSION) | form_add(b, "RoleArn", r->role_arn) |
	    form_add(b, "RoleSessionName", r->session_name);
	if (token == NULL && r->external_id != NULL)
		rc |= form_add(b, "ExternalId", r->external_id);
	if (r->duration_s > 0) {
		snprintf(dur, sizeof(dur), "%ld", r->duration_s);
		rc |= form_add(b, "DurationSeconds", dur);
	}
	if (token != NULL)
		rc |= form_add(b, "WebIdentityToken", token);
	if (rc != 0)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

/* ---- XML answers ---- */

/* The text of the first <tag>...</tag> (attributes allowed) in s[0..n). */
static int
xml_find(const char *s, size_t n, const char *tag, const char **text,
    size_t *len)
{
	const char *end = s + n, *p, *q, *gt;
	size_t tl = strlen(tag);
	char c;

	for (p = s; p + tl + 2 <= end; p++) {
		if (p[0] != '<' || memcmp(p + 1, tag, tl) != 0)
			continue;
		c = p[1 + tl];
		if (c != '>' && !isspace((unsigned char)c) && c != '/')
			continue;	/* <CredentialsX> is another element */
		if ((gt = memchr(p, '>', (size_t)(end - p))) == NULL)
			return 0;
		*text = gt + 1;
		*len = 0;
		if (gt[-1] == '/')
			return 1;	/* <tag/> */
		for (q = gt + 1; q + tl + 3 <= end; q++)
			if (q[0] == '<' && q[1] == '/' &&
			    memcmp(q + 2, tag, tl) == 0 && q[2 + tl] == '>') {
				*len = (size_t)(q - *text);
				return 1;
			}
		return 0;
	}
	return 0;
}

/* Element text with the five XML entities decoded, blanks trimmed. */
static char *
xml_value(const char *s, size_t n, const char *tag)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&lt;", '<' }, { "&gt;", '>' }, { "&amp;", '&' },
		{ "&quot;", '"' }, { "&apos;", '\'' }
	};
	const char *t;
	size_t len, i, k, o = 0, el;
	char *out;

	if (!xml_find(s, n, tag, &t, &len))
		return NULL;
	while (len > 0 && isspace((unsigned char)*t)) {
		t++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)t[len - 1]))
		len--;
	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	for (i = 0; i < len; i += el) {
		el = 1;
		out[o] = t[i];
		for (k = 0; t[i] == '&' && k < sizeof(ents) / sizeof(ents[0]);
		    k++)
			if (i + strlen(ents[k].ent) <= len &&
			    memcmp(t + i, ents[k].ent, strlen(ents[k].ent)) ==
			    0) {
				el = strlen(ents[k].ent);
				out[o] = ents[k].c;
				break;
			}
		o++;
	}
	out[o] = '\0';
	return out;
}

int
sts_parse_credentials(const char *body, size_t len, struct sts_creds *out,
    struct errbuf *err)
{
	static const char *const tags[] = {
		"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"
	};
	char *v[4] = { NULL, NULL, NULL, NULL };
	const char *cr;
	size_t crlen, i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (!xml_find(body, len, "Credentials", &cr, &crlen)) {
		errbuf_set(err, ERR_TEMP, "no <Credentials> in the answer");
		goto out;
	}
	for (i = 0; i < 4; i++)
		if ((v[i] = xml_value(cr, crlen, tags[i])) == NULL ||
		    v[i][0] == '\0') {
			errbuf_set(err, ERR_TEMP, "no <%s> in <Credentials>",
			    tags[i]);
			goto out;
		}
	if (creds_parse_iso8601(v[3], &out->expiration) == -1 ||
	    out->expiration == 0) {
		errbuf_set(err, ERR_TEMP, "<Expiration> is not an ISO 8601 "
		    "time");
		goto out;
	}
	out->access_key = v[0];
	out->secret_key = v[1];
	out->token = v[2];
	v[0] = v[1] = v[2] = NULL;
	rc = 0;
out:
	for (i = 0; i < 4; i++)
		wipe_str(v[i]);
	return rc;
}

/* ---- AssumeRole: signed, through lib/aws ---- */

static int
signed_post(const struct sts_target *t, const struct sigv4_credentials *src,
    const struct buf *form, struct aws_response *resp, struct errbuf *err)
{
	struct http_field h[] = { { "Content-Type", FORM_TYPE } };
	struct creds_provider *cp;
	struct aws_client *c = NULL;
	struct http_options ho;
	struct aws_options ao;
	struct aws_request req;
	int rc = -1;

	if ((cp = creds_provider_new_static(src, err)) == NULL)
		return -1;
	http_opts(t, &ho);
	memset(&ao, 0, sizeof(ao));
	ao.conf = t->conf;
	ao.service = "sts";
	ao.creds = cp;
	ao.http = &ho;
	if ((c = aws_client_new(&ao, err)) == NULL)
		goto out;
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.path = "/";
	req.headers = h;
	req.nheaders = 1;
	req.body = form->data;
	req.body_len = form->len;
	rc = aws_send(c, &req, resp, err);
out:
	aws_client_free(c);
	creds_provider_free(cp);
	return rc;
}

int
sts_assume_role(const struct sts_target *t,
    const struct sigv4_credentials *src, const struct sts_role *r,
    struct sts_creds *out, struct errbuf *err)
{
	struct buf form = BUF_INIT;
	struct aws_response resp;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	memset(out, 0, sizeof(*out));
	if (role_form(&form, "AssumeRole", r, NULL, err) == -1 ||
	    signed_post(t, src, &form, &resp, err) == -1 ||
	    sts_parse_credentials(resp.http.body.data ? resp.http.body.data :
	    "", resp.http.body.len, out, err) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		errbuf_prefix(err, "AssumeRole %s", r->role_arn);
	buf_wipe(&form);
	buf_wipe(&resp.http.body);
	aws_response_free(&resp);
	return rc;
}

/* ---- unsigned calls ---- */

static void
sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	nanosleep(&ts, NULL);
}

static int
max_attempts(const struct sts_target *t)
{
	int n = t->conf->max_attempts;

	if (n <= 0)
		return AWSCONF_DEFAULT_MAX_ATTEMPTS;
	return n > AWS_MAX_ATTEMPTS_LIMIT ? AWS_MAX_ATTEMPTS_LIMIT : n;
}

/*
 * One attempt's outcome into last: 0 on 2xx, else 1 with last set and
 * *retry saying whether the standard mode would try again.
 */
static int
judge(int sent, struct http_response *resp, struct errbuf *last, int *retry,
    int *throttled)
{
	struct aws_error ae;
	enum errbuf_kind kind;

	*throttled = 0;
	if (!sent) {
		*retry = aws_should_retry(0, NULL, last->kind);
		return 1;
	}
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	aws_error_parse(resp, &ae);
	kind = aws_error_kind(resp->status, ae.code);
	if (strncmp(ae.code, "HTTP ", 5) == 0)
		errbuf_set(last, kind, "%s%s%s", ae.code,
		    ae.message[0] ? ": " : "", ae.message);
	else
		errbuf_set(last, kind, "HTTP %ld %s%s%s", resp->status,
		    ae.code, ae.message[0] ? ": " : "", ae.message);
	*retry = aws_should_retry(resp->status, ae.code, ERR_NONE);
	*throttled = resp->status == 429 || aws_error_is_throttle(ae.code);
	return 1;
}

static int
unsigned_send(const struct sts_target *t, const struct http_request *req,
    struct http_response *resp, struct errbuf *err)
{
	struct http_options ho;
	struct http_client *hc;
	struct errbuf last;
	int attempt, retry = 0, throttled, max = max_attempts(t), rc = -1;

	http_opts(t, &ho);
	if ((hc = http_client_new(&ho, err)) == NULL)
		return -1;
	for (attempt = 1;; attempt++) {
		errbuf_clear(&last);
		buf_wipe(&resp->body);
		http_response_free(resp);
		memset(resp, 0, sizeof(*resp));
		if (judge(http_client_do(hc, req, resp, &last) == 0, resp,
		    &last, &retry, &throttled) == 0) {
			rc = 0;
			break;
		}
		if (!retry || attempt >= max)
			break;
		sleep_ms(retry_delay_ms(&retry_aws_standard, attempt,
		    throttled, -1, retry_jitter()));
	}
	if (rc == -1 && retry)
		errbuf_set(err, ERR_TEMP, "%s (%d attempt%s)", last.msg,
		    attempt, attempt == 1 ? "" : "s");
	else if (rc == -1)
		*err = last;
	http_client_free(hc);
	return rc;
}

int
sts_assume_role_web_identity(const struct sts_target *t,
    const struct sts_role *r, const char *token, struct sts_creds *out,
    struct errbuf *err)
{
	struct http_field h[] = {
		{ "Content-Type", FORM_TYPE },
		{ "Accept", "text/xml" }
	};
	struct http_request req;
	struct http_response resp;
	struct buf form = BUF_INIT;
	char *url = NULL;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	memset(out, 0, sizeof(*out));
	if (role_form(&form, "AssumeRoleWithWebIdentity", r, token, err) == -1)
		goto out;
	if ((url = malloc(strlen(t->conf->endpoint) + 2)) == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	snprintf(url, strlen(t->conf->endpoint) + 2, "%s/", t->conf->endpoint);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = url;
	req.headers = h;
	req.nheaders = 2;
	req.body = form.data;
	req.body_len = form.len;
	if (unsigned_send(t, &req, &resp, err) == -1 ||
	    sts_parse_credentials(resp.body.data ? resp.body.data : "",
	    resp.body.len, out, err) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		errbuf_prefix(err, "AssumeRoleWithWebIdentity %s", r->role_arn);
	free(url);
	buf_wipe(&form);
	buf_wipe(&resp.body);
	http_response_free(&resp);
	return rc;
}

/* ---- IAM Identity Center ---- */

/* jansson frees its strings without wiping them. */
static void
json_wipe(json_t *o)
{
	void *it;

	if (json_is_string(o)) {
		OPENSSL_cleanse((void *)(uintptr_t)json_string_value(o),
		    json_string_length(o));
		return;
	}
	for (it = json_object_iter(o); it != NULL;
	    it = json_object_iter_next(o, it))
		json_wipe(json_object_iter_value(it));
}

static void
json_wipe_free(json_t *o)
{
	if (o == NULL)
		return;
	json_wipe(o);
	json_decref(o);
}

static const char *
json_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;

	return s != NULL && *s != '\0' ? s : NULL;
}

static int
sso_fill(json_t *rc, struct sts_creds *out, struct errbuf *err)
{
	static const char *const keys[] = {
		"accessKeyId", "secretAccessKey", "sessionToken"
	};
	char **dst[3];
	json_t *e = json_object_get(rc, "expiration");
	size_t i;

	dst[0] = &out->access_key;
	dst[1] = &out->secret_key;
	dst[2] = &out->token;
	for (i = 0; i < 3; i++) {
		if (json_str(rc, keys[i]) == NULL)
			return errbuf_set(err, ERR_TEMP, "no %s in "
			    "roleCredentials", keys[i]);
		if ((*dst[i] = strdup(json_str(rc, keys[i]))) == NULL)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
	}
	/* epoch milliseconds (the SSO API's "expiration": long) */
	if (!json_is_number(e) || json_number_value(e) < 1000)
		return errbuf_set(err, ERR_TEMP, "no expiration in "
		    "roleCredentials");
	out->expiration = (time_t)(json_number_value(e) / 1000);
	return 0;
}

int
sts_sso_parse_credentials(const char *body, size_t len,
    struct sts_creds *out, struct errbuf *err)
{
	json_t *o;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	/* no parser text in messages: it may quote the document */
	if ((o = json_loadb(body, len, 0, NULL)) == NULL ||
	    !json_is_object(json_object_get(o, "roleCredentials"))) {
		errbuf_set(err, ERR_TEMP, "no roleCredentials object in the "
		    "answer");
		goto out;
	}
	rc = sso_fill(json_object_get(o, "roleCredentials"), out, err);
out:
	if (rc == -1)
		sts_creds_free(out);
	json_wipe_free(o);
	return rc;
}

static char *
sso_url(const char *endpoint, const char *account, const char *role)
{
	struct buf b = BUF_INIT;
	char *a = sigv4_uri_encode(account, strlen(account), 0);
	char *r = sigv4_uri_encode(role, strlen(role), 0);

	if (a != NULL && r != NULL)
		buf_printf(&b, "%s/federation/credentials?account_id=%s&"
		    "role_name=%s", endpoint, a, r);
	free(a);
	free(r);
	return buf_steal(&b);
}

int
sts_sso_role_credentials(const struct sts_target *t,
    const char *access_token, const char *account_id,
    const char *role_name, long *status, struct sts_creds *out,
    struct errbuf *err)
{
	struct http_field h[] = {
		{ "x-amz-sso_bearer_token", access_token },
		{ "Accept", "application/json" }
	};
	struct http_request req;
	struct http_response resp;
	char *url;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	memset(out, 0, sizeof(*out));
	*status = 0;
	if (strpbrk(access_token, "\r\n") != NULL)
		return errbuf_set(err, ERR_CONFIG, "the cached SSO access "
		    "token contains a line break");
	if ((url = sso_url(t->conf->endpoint, account_id, role_name)) ==
	    NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = url;
	req.headers = h;
	req.nheaders = 2;
	rc = unsigned_send(t, &req, &resp, err);
	*status = resp.status;
	if (rc == 0)
		rc = sts_sso_parse_credentials(resp.body.data ?
		    resp.body.data : "", resp.body.len, out, err);
	if (rc == -1)
		errbuf_prefix(err, "GetRoleCredentials %s/%s", account_id,
		    role_name);
	free(url);
	buf_wipe(&resp.body);
	http_response_free(&resp);
	return rc;
}

void
sts_sso_cache_key(const char *name, char out[41])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;

	out[0] = '\0';
	if (EVP_Digest(name, strlen(name), md, &n, EVP_sha1(), NULL) != 1)
		return;
	for (i = 0; i < n && i < 20; i++)
		snprintf(out + (size_t)i * 2, 3, "%02x", md[i]);
}

static int
read_small_file(int fd, const char *path, struct buf *b, struct errbuf *err)
{
	char chunk[1024];
	ssize_t r;
	int rc = 0;

	b->max = SSO_TOKEN_FILE_MAX;
	while ((r = read(fd, chunk, sizeof(chunk))) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || buf_append(b, chunk, (size_t)r) == -1) {
			rc = errbuf_set(err, ERR_CONFIG, "%s: %s", path,
			    r == -1 ? strerror(errno) : "file too large");
			break;
		}
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
	return rc;
}

/* expiresAt: RFC 3339, or the "2019-11-14T04:05:45UTC" of older CLIs */
static int
parse_expires(const char *s, time_t *out)
{
	char tmp[64];
	size_t n = strlen(s);

	if (n > 3 && n < sizeof(tmp) && strcmp(s + n - 3, "UTC") == 0) {
		snprintf(tmp, sizeof(tmp), "%.*sZ", (int)(n - 3), s);
		return creds_parse_iso8601(tmp, out);
	}
	return creds_parse_iso8601(s, out);
}

static int
token_fields(json_t *o, const char *path, char **token, time_t *expires,
    struct errbuf *err)
{
	const char *tok = json_str(o, "accessToken");
	const char *exp = json_str(o, "expiresAt");

	if (tok == NULL || exp == NULL)
		return errbuf_set(err, ERR_CONFIG, "%s: no %s", path,
		    tok == NULL ? "accessToken" : "expiresAt");
	if (parse_expires(exp, expires) == -1)
		return errbuf_set(err, ERR_CONFIG, "%s: expiresAt is not an "
		    "ISO 8601 time", path);
	if ((*token = strdup(tok)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

int
sts_sso_read_token(const char *path, char **token, time_t *expires,
    struct errbuf *err)
{
	struct buf b = BUF_INIT;
	json_t *o = NULL;
	int fd, rc = -1;

	*token = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		return errbuf_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	}
	if (read_small_file(fd, path, &b, err) == -1)
		goto out;
	if ((o = json_loadb(b.data ? b.data : "", b.len, 0, NULL)) == NULL ||
	    !json_is_object(o)) {
		errbuf_set(err, ERR_CONFIG, "%s: not a JSON object", path);
		goto out;
	}
	rc = token_fields(o, path, token, expires, err);
out:
	close(fd);
	json_wipe_free(o);
	buf_wipe(&b);
	return rc;
}
