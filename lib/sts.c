/*
 * sts: STS AssumeRole / AssumeRoleWithWebIdentity and the IAM Identity
 * Center portal's GetRoleCredentials.
 *
 * An ordinary client of lib/aws: every call goes through aws_send and its
 * standard retry mode. AssumeRole is signed with the source credentials
 * the caller hands over; AssumeRoleWithWebIdentity and GetRoleCredentials
 * go unsigned (a client without get_creds), the token being the proof.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws.h"
#include "buf.h"
#include "fdio.h"
#include "jsonwipe.h"
#include "sts.h"
#include "timetext.h"
#include "xml.h"

#define SSO_TOKEN_FILE_MAX ((size_t)64 * 1024)	/* a cache entry: ~2 KiB */
#define FORM_TYPE "application/x-www-form-urlencoded; charset=utf-8"

void
sts_creds_free(struct sts_creds *c)
{
	if (c == NULL)
		return;
	buf_wipe_str(c->access_key);
	buf_wipe_str(c->secret_key);
	buf_wipe_str(c->token);
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
	buf_wipe_str(enc);
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

/* Element text, entities decoded, blanks trimmed; NULL when absent. */
static char *
xml_value(const char *s, size_t n, const char *tag)
{
	char *v = xml_text(s, n, tag);
	size_t a = 0, z, len;

	if (v == NULL)
		return NULL;
	z = len = strlen(v);
	while (a < z && isspace((unsigned char)v[a]))
		a++;
	while (z > a && isspace((unsigned char)v[z - 1]))
		z--;
	memmove(v, v + a, z - a);
	/* the tail left behind the moved text may be part of a secret */
	OPENSSL_cleanse(v + (z - a), len - (z - a));
	return v;
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
	if (!xml_element(body, len, "Credentials", &cr, &crlen)) {
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
	if (timetext_iso8601(v[3], TIMETEXT_ZONE, &out->expiration, NULL) ==
	    -1 || out->expiration == 0) {
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
		buf_wipe_str(v[i]);
	return rc;
}

/* ---- calls ---- */

/* aws_creds_fn handing out the caller's source credentials as they are */
static int
source_creds(void *arg, time_t now, struct sigv4_credentials *out,
    struct errbuf *err)
{
	(void)now;
	(void)err;
	*out = *(const struct sigv4_credentials *)arg;
	return 0;
}

/* One call through a client of its own: signed with src, or unsigned. */
static int
sts_send(const struct sts_target *t, const char *service,
    const struct sigv4_credentials *src, const struct aws_request *req,
    struct aws_response *resp, struct errbuf *err)
{
	struct sigv4_credentials copy;
	struct aws_client *c;
	struct http_options ho;
	struct aws_options ao;
	int rc;

	http_opts(t, &ho);
	memset(&ao, 0, sizeof(ao));
	ao.conf = t->conf;
	ao.service = service;
	ao.http = &ho;
	if (src != NULL) {
		copy = *src;
		ao.get_creds = source_creds;
		ao.creds_arg = &copy;
	}
	if ((c = aws_client_new(&ao, err)) == NULL)
		return -1;
	rc = aws_send(c, req, resp, err);
	aws_client_free(c);
	return rc;
}

/* POST / of the query API form */
static int
form_post(const struct sts_target *t, const struct sigv4_credentials *src,
    const struct buf *form, struct aws_response *resp, struct errbuf *err)
{
	struct http_field h[] = {
		{ "Content-Type", FORM_TYPE },
		{ "Accept", "text/xml" }
	};
	struct aws_request req;

	aws_post_request(&req, h, 2, form->data, form->len);
	return sts_send(t, "sts", src, &req, resp, err);
}

/* The credentials in an answer's body, which is then wiped. */
static int
answer_creds(struct aws_response *resp, struct sts_creds *out,
    struct errbuf *err)
{
	const char *body = resp->http.body.data;
	int rc;

	rc = sts_parse_credentials(body != NULL ? body : "",
	    resp->http.body.len, out, err);
	buf_wipe(&resp->http.body);
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
	if (role_form(&form, "AssumeRole", r, NULL, err) == 0 &&
	    form_post(t, src, &form, &resp, err) == 0)
		rc = answer_creds(&resp, out, err);
	if (rc == -1)
		errbuf_prefix(err, "AssumeRole %s", r->role_arn);
	buf_wipe(&form);
	aws_response_free(&resp);
	return rc;
}

int
sts_assume_role_web_identity(const struct sts_target *t,
    const struct sts_role *r, const char *token, struct sts_creds *out,
    struct errbuf *err)
{
	struct buf form = BUF_INIT;
	struct aws_response resp;
	int rc = -1;

	memset(&resp, 0, sizeof(resp));
	memset(out, 0, sizeof(*out));
	if (role_form(&form, "AssumeRoleWithWebIdentity", r, token, err) ==
	    0 && form_post(t, NULL, &form, &resp, err) == 0)
		rc = answer_creds(&resp, out, err);
	if (rc == -1)
		errbuf_prefix(err, "AssumeRoleWithWebIdentity %s", r->role_arn);
	buf_wipe(&form);
	aws_response_free(&resp);
	return rc;
}

/* ---- IAM Identity Center ---- */

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
		if (jsonwipe_str(rc, keys[i]) == NULL)
			return errbuf_set(err, ERR_TEMP, "no %s in "
			    "roleCredentials", keys[i]);
		if ((*dst[i] = strdup(jsonwipe_str(rc, keys[i]))) == NULL)
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
	jsonwipe_decref(o);
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
	struct aws_response resp;
	struct aws_request req;
	char *url;
	int rc;

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
	rc = sts_send(t, "awsssoportal", NULL, &req, &resp, err);
	*status = resp.status;
	if (rc == 0)
		rc = sts_sso_parse_credentials(resp.http.body.data ?
		    resp.http.body.data : "", resp.http.body.len, out, err);
	if (rc == -1)
		errbuf_prefix(err, "GetRoleCredentials %s/%s", account_id,
		    role_name);
	free(url);
	buf_wipe(&resp.http.body);
	aws_response_free(&resp);
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
		return timetext_iso8601(tmp, TIMETEXT_ZONE, out, NULL);
	}
	return timetext_iso8601(s, TIMETEXT_ZONE, out, NULL);
}

static int
token_fields(json_t *o, const char *path, char **token, time_t *expires,
    struct errbuf *err)
{
	const char *tok = jsonwipe_str(o, "accessToken");
	const char *exp = jsonwipe_str(o, "expiresAt");

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
	jsonwipe_decref(o);
	buf_wipe(&b);
	return rc;
}

/* ---- SSO OIDC: refreshing the cached token ---- */

/* The cache file's document, or NULL with err set. */
static json_t *
read_cache(const char *path, struct errbuf *err)
{
	struct buf b = BUF_INIT;
	json_t *o = NULL;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errbuf_set(err, ERR_CONFIG, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (read_small_file(fd, path, &b, err) == 0 &&
	    ((o = json_loadb(b.data ? b.data : "", b.len, 0, NULL)) == NULL ||
	    !json_is_object(o))) {
		jsonwipe_decref(o);
		o = NULL;
		errbuf_set(err, ERR_CONFIG, "%s: not a JSON object", path);
	}
	close(fd);
	buf_wipe(&b);
	return o;
}

/* 1 when the document holds a refresh token and a live registration. */
static int
refreshable(json_t *cache, time_t now)
{
	const char *reg = jsonwipe_str(cache, "registrationExpiresAt");
	time_t until;

	if (jsonwipe_str(cache, "refreshToken") == NULL ||
	    jsonwipe_str(cache, "clientId") == NULL ||
	    jsonwipe_str(cache, "clientSecret") == NULL)
		return 0;
	return reg == NULL || (parse_expires(reg, &until) == 0 && now < until);
}

/* CreateToken; the answer's document, or NULL with err and *status. */
static json_t *
create_token(const struct sts_target *t, json_t *cache, long *status,
    struct errbuf *err)
{
	struct http_field h[] = {
		{ "Content-Type", "application/json" },
		{ "Accept", "application/json" }
	};
	struct aws_response resp;
	struct aws_request req;
	struct buf url = BUF_INIT;
	json_t *body, *answer = NULL;
	char *text;

	memset(&resp, 0, sizeof(resp));
	body = json_pack("{s:s, s:s, s:s, s:s}", "clientId",
	    jsonwipe_str(cache, "clientId"), "clientSecret",
	    jsonwipe_str(cache, "clientSecret"), "grantType", "refresh_token",
	    "refreshToken", jsonwipe_str(cache, "refreshToken"));
	text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	jsonwipe_decref(body);
	if (text == NULL || buf_printf(&url, "%s/token", t->conf->endpoint) ==
	    -1) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	aws_post_request(&req, h, 2, text, strlen(text));
	req.url = url.data;
	if (sts_send(t, "sso-oauth", NULL, &req, &resp, err) == 0 &&
	    (answer = json_loadb(resp.http.body.data ? resp.http.body.data : "",
	    resp.http.body.len, 0, NULL)) == NULL)
		errbuf_set(err, ERR_TEMP, "not a JSON answer");
	if (answer == NULL)
		errbuf_prefix(err, "SSO OIDC CreateToken");
out:
	*status = resp.status;
	buf_wipe_str(text);
	buf_free(&url);
	buf_wipe(&resp.http.body);
	aws_response_free(&resp);
	return answer;
}

/* The answer's token into the cache document and out. */
static int
take_token(json_t *cache, json_t *answer, time_t now, char **token,
    time_t *expires, struct errbuf *err)
{
	const char *tok = jsonwipe_str(answer, "accessToken");
	const char *refresh = jsonwipe_str(answer, "refreshToken");
	json_int_t in = json_integer_value(json_object_get(answer,
	    "expiresIn"));
	char when[32];
	struct tm tm;

	if (tok == NULL || in <= 0)
		return errbuf_set(err, ERR_TEMP, "SSO OIDC CreateToken: no "
		    "accessToken or expiresIn in the answer");
	*expires = now + (time_t)in;
	gmtime_r(expires, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (json_object_set_new(cache, "accessToken", json_string(tok)) ||
	    json_object_set_new(cache, "expiresAt", json_string(when)) ||
	    (refresh != NULL && json_object_set_new(cache, "refreshToken",
	    json_string(refresh))) || (*token = strdup(tok)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

static int
write_cache(const char *path, json_t *cache, struct errbuf *err)
{
	char *text = json_dumps(cache, JSON_INDENT(2));
	int rc;

	if (text == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	rc = fdio_replace(path, text, strlen(text), err);
	buf_wipe_str(text);
	return rc;
}

int
sts_sso_refresh_token(const struct sts_target *t, const char *path,
    time_t now, char **token, time_t *expires, long *status,
    struct errbuf *err)
{
	json_t *cache, *answer = NULL;
	int rc = -1;

	*token = NULL;
	*status = 0;
	if ((cache = read_cache(path, err)) == NULL)
		return -1;
	if (!refreshable(cache, now)) {
		rc = 1;
		goto out;
	}
	if ((answer = create_token(t, cache, status, err)) == NULL)
		goto out;
	if (take_token(cache, answer, now, token, expires, err) == 0 &&
	    write_cache(path, cache, err) == 0)
		rc = 0;
	if (rc == -1) {
		buf_wipe_str(*token);
		*token = NULL;
	}
out:
	jsonwipe_decref(answer);
	jsonwipe_decref(cache);
	return rc;
}
