#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "aws.h"
#include "s3.h"
#include "sigv4.h"
#include "timetext.h"
#include "xml.h"

int
s3_url_parse(const char *url, char **bucket, char **prefix,
    struct errbuf *err)
{
	const char *b, *slash;

	*bucket = *prefix = NULL;
	if (strncmp(url, "s3://", 5) != 0)
		return errbuf_set(err, ERR_USAGE, "'%s': not an s3:// URL", url);
	b = url + 5;
	slash = strchr(b, '/');
	if (slash == b || *b == '\0')
		return errbuf_set(err, ERR_USAGE, "'%s': no bucket name", url);
	if (slash == NULL)
		slash = b + strlen(b);
	*bucket = strndup(b, (size_t)(slash - b));
	*prefix = strdup(*slash == '/' ? slash + 1 : "");
	if (*bucket == NULL || *prefix == NULL) {
		free(*bucket);
		free(*prefix);
		*bucket = *prefix = NULL;
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	}
	return 0;
}

/* Splits endpoint into "scheme://" + "host[:port]" + "/base". */
static int
split_endpoint(const char *ep, const char **host, size_t *host_len,
    const char **base)
{
	const char *h = strstr(ep, "://"), *p;

	if (h == NULL)
		return -1;
	h += 3;
	p = strchr(h, '/');
	*host = h;
	*host_len = p ? (size_t)(p - h) : strlen(h);
	*base = p ? p : "";
	return *host_len > 0 ? 0 : -1;
}

int
s3_bucket_virtual_hostable(const char *bucket)
{
	size_t i, n = strlen(bucket);

	if (n < 3 || n > 63 || bucket[0] == '-' || bucket[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!(bucket[i] >= 'a' && bucket[i] <= 'z') &&
		    !(bucket[i] >= '0' && bucket[i] <= '9') && bucket[i] != '-')
			return 0;
	return 1;
}

int
s3_object_url(const char *endpoint, const char *bucket, const char *key,
    int path_style, char **url, char **host, struct errbuf *err)
{
	struct buf u = BUF_INIT, hb = BUF_INIT;
	const char *h, *base;
	char *enc = NULL;
	size_t hlen;
	int rc = -1;

	*url = *host = NULL;
	if (split_endpoint(endpoint, &h, &hlen, &base) == -1)
		return errbuf_set(err, ERR_CONFIG, "'%s': not an endpoint URL",
		    endpoint);
	if (key != NULL && (enc = sigv4_uri_encode(key, strlen(key), 1)) ==
	    NULL)
		goto nomem;
	if (!s3_bucket_virtual_hostable(bucket))
		path_style = 1;
	if (!path_style && buf_printf(&hb, "%s.", bucket) == -1)
		goto nomem;
	if (buf_append(&hb, h, hlen) == -1 ||
	    buf_append(&u, endpoint, (size_t)(h - endpoint)) == -1 ||
	    buf_puts(&u, hb.data) == -1 || buf_puts(&u, base) == -1)
		goto nomem;
	if (path_style && buf_printf(&u, "/%s", bucket) == -1)
		goto nomem;
	if (buf_printf(&u, "/%s", enc ? enc : "") == -1)
		goto nomem;
	*url = buf_steal(&u);
	*host = buf_steal(&hb);
	rc = 0;
	goto out;
nomem:
	errbuf_set(err, ERR_SYSTEM, "out of memory");
out:
	buf_free(&u);
	buf_free(&hb);
	free(enc);
	return rc;
}

unsigned long long
s3_part_size(unsigned long long requested, unsigned long long max_object)
{
	unsigned long long size = requested, need;

	if (size < S3_MIN_PART_SIZE)
		size = S3_MIN_PART_SIZE;
	need = (max_object + S3_MAX_PARTS - 1) / S3_MAX_PARTS;
	if (size < need)
		size = need;
	/* round up to whole MiB so the sizes read well in logs */
	size = (size + (1ULL << 20) - 1) & ~((1ULL << 20) - 1);
	return size > S3_MAX_PART_SIZE ? S3_MAX_PART_SIZE : size;
}

int
s3_xml_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		int rc;
		switch (*s) {
		case '&': rc = buf_puts(b, "&amp;"); break;
		case '<': rc = buf_puts(b, "&lt;"); break;
		case '>': rc = buf_puts(b, "&gt;"); break;
		case '"': rc = buf_puts(b, "&quot;"); break;
		case '\'': rc = buf_puts(b, "&apos;"); break;
		default: rc = buf_putc(b, *s);
		}
		if (rc == -1)
			return -1;
	}
	return 0;
}

int
s3_complete_body(struct buf *b, char *const *etags, size_t n)
{
	size_t i;

	if (buf_puts(b, "<CompleteMultipartUpload xmlns=\""
	    "http://s3.amazonaws.com/doc/2006-03-01/\">") == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (buf_printf(b, "<Part><PartNumber>%zu</PartNumber><ETag>",
		    i + 1) == -1 || s3_xml_escape(b, etags[i]) == -1 ||
		    buf_puts(b, "</ETag></Part>") == -1)
			return -1;
	return buf_puts(b, "</CompleteMultipartUpload>");
}

void
s3_content_md5(const void *data, size_t len, char out[25])
{
	unsigned char md[16];
	unsigned int mdlen = sizeof(md);

	EVP_Digest(data, len, md, &mdlen, EVP_md5(), NULL);
	EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
}

static time_t
initiated(const char *s, size_t n)
{
	char *text = xml_text(s, n, "Initiated");
	time_t t = 0;

	if (text != NULL && timetext_iso8601(text, TIMETEXT_ZONE, &t,
	    NULL) == -1)
		t = 0;
	free(text);
	return t;
}

int
s3_list_uploads_parse(const char *xml, size_t len, struct s3_upload **out,
    size_t *n, struct errbuf *err)
{
	const char *p = xml, *end = xml + len, *t;
	struct s3_upload *v = NULL, *grown;
	size_t count = 0, tl;

	*out = NULL;
	*n = 0;
	while (xml_element(p, (size_t)(end - p), "Upload", &t, &tl)) {
		if ((grown = realloc(v, (count + 1) * sizeof(*v))) == NULL)
			goto nomem;
		v = grown;
		v[count].key = xml_text(t, tl, "Key");
		v[count].upload_id = xml_text(t, tl, "UploadId");
		v[count].initiated = initiated(t, tl);
		count++;
		if (v[count - 1].key == NULL || v[count - 1].upload_id == NULL) {
			s3_uploads_free(v, count);
			return errbuf_set(err, ERR_TEMP, "ListMultipartUploads: "
			    "an Upload without Key or UploadId");
		}
		p = t + tl;
	}
	*out = v;
	*n = count;
	return 0;
nomem:
	s3_uploads_free(v, count);
	return errbuf_set(err, ERR_SYSTEM, "out of memory");
}

void
s3_uploads_free(struct s3_upload *u, size_t n)
{
	size_t i;

	for (i = 0; u != NULL && i < n; i++) {
		free(u[i].key);
		free(u[i].upload_id);
	}
	free(u);
}

/* ---- calls ---- */

#define MAX_OBJECT_HEADERS 8

/* The headers of opts, appended to f[*n]. */
static void
object_headers(const struct s3_object_opts *o, struct http_field *f,
    size_t *n)
{
	if (o == NULL)
		return;
	if (o->content_type != NULL)
		f[(*n)++] = (struct http_field){ "Content-Type", o->content_type };
	if (o->content_encoding != NULL)
		f[(*n)++] = (struct http_field){ "Content-Encoding",
		    o->content_encoding };
	if (o->sse != NULL)
		f[(*n)++] = (struct http_field){ "x-amz-server-side-encryption",
		    o->sse };
	if (o->sse_kms_key_id != NULL)
		f[(*n)++] = (struct http_field){
		    "x-amz-server-side-encryption-aws-kms-key-id",
		    o->sse_kms_key_id };
	if (o->storage_class != NULL)
		f[(*n)++] = (struct http_field){ "x-amz-storage-class",
		    o->storage_class };
}

/* One S3 call: method, key (NULL: bucket), wire query, headers, body. */
static int
s3_call(struct aws_client *c, const struct s3_bucket *b, const char *method,
    const char *key, const char *query, const struct http_field *f,
    size_t nf, const void *body, size_t len, struct aws_response *resp,
    struct errbuf *err)
{
	struct aws_request req;
	struct buf url = BUF_INIT;
	char *base = NULL, *host = NULL;
	int rc = -1;

	memset(resp, 0, sizeof(*resp));
	if (s3_object_url(b->endpoint, b->name, key, b->path_style, &base,
	    &host, err) == -1)
		goto out;
	if (buf_puts(&url, base) == -1 || (query != NULL &&
	    buf_printf(&url, "?%s", query) == -1)) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url.data;
	req.headers = f;
	req.nheaders = nf;
	req.body = body;
	req.body_len = len;
	rc = aws_send(c, &req, resp, err);
out:
	buf_free(&url);
	free(base);
	free(host);
	return rc;
}

static void
copy_etag(const struct aws_response *r, char etag[S3_ETAG_MAX])
{
	const char *e = http_response_header(&r->http, "ETag");

	snprintf(etag, S3_ETAG_MAX, "%s", e ? e : "");
}

int
s3_put_object(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const void *body, size_t len,
    const struct s3_object_opts *o, char etag[S3_ETAG_MAX],
    struct errbuf *err)
{
	struct http_field f[MAX_OBJECT_HEADERS];
	struct aws_response resp;
	char md5[25];
	size_t n = 0;
	int rc;

	s3_content_md5(body, len, md5);
	f[n++] = (struct http_field){ "Content-MD5", md5 };
	object_headers(o, f, &n);
	rc = s3_call(c, b, "PUT", key, NULL, f, n, body, len, &resp, err);
	if (rc == 0)
		copy_etag(&resp, etag);
	else
		errbuf_prefix(err, "PutObject s3://%s/%s", b->name, key);
	aws_response_free(&resp);
	return rc;
}

int
s3_multipart_create(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const struct s3_object_opts *o, char **upload_id,
    struct errbuf *err)
{
	struct http_field f[MAX_OBJECT_HEADERS];
	struct aws_response resp;
	size_t n = 0;
	int rc;

	*upload_id = NULL;
	object_headers(o, f, &n);
	rc = s3_call(c, b, "POST", key, "uploads", f, n, "", 0, &resp, err);
	if (rc == 0 && (*upload_id = xml_text(resp.http.body.data,
	    resp.http.body.len, "UploadId")) == NULL)
		rc = errbuf_set(err, ERR_TEMP, "no UploadId in the answer");
	if (rc == -1)
		errbuf_prefix(err, "CreateMultipartUpload s3://%s/%s",
		    b->name, key);
	aws_response_free(&resp);
	return rc;
}

/* "partNumber=N&uploadId=ID" with the id encoded for a query. */
static char *
part_query(int part, const char *upload_id)
{
	char *enc = sigv4_uri_encode(upload_id, strlen(upload_id), 0);
	struct buf q = BUF_INIT;

	if (enc == NULL)
		return NULL;
	if (part > 0)
		buf_printf(&q, "partNumber=%d&", part);
	buf_printf(&q, "uploadId=%s", enc);
	free(enc);
	return buf_steal(&q);
}

int
s3_multipart_part(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const char *upload_id, int part, const void *body,
    size_t len, char etag[S3_ETAG_MAX], struct errbuf *err)
{
	struct http_field f[1];
	struct aws_response resp;
	char md5[25], *q = part_query(part, upload_id);
	int rc;

	if (q == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	s3_content_md5(body, len, md5);
	f[0] = (struct http_field){ "Content-MD5", md5 };
	rc = s3_call(c, b, "PUT", key, q, f, 1, body, len, &resp, err);
	if (rc == 0)
		copy_etag(&resp, etag);
	if (rc == 0 && etag[0] == '\0')
		rc = errbuf_set(err, ERR_TEMP, "no ETag in the answer");
	if (rc == -1)
		errbuf_prefix(err, "UploadPart %d s3://%s/%s", part, b->name,
		    key);
	aws_response_free(&resp);
	free(q);
	return rc;
}

/* A 200 answer to CompleteMultipartUpload may still carry an <Error>. */
static int
complete_once(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const char *q, const struct buf *body,
    char etag[S3_ETAG_MAX], struct errbuf *err)
{
	struct http_field f[2];
	struct aws_response resp;
	char md5[25], *code = NULL, *msg = NULL;
	int rc;

	s3_content_md5(body->data, body->len, md5);
	f[0] = (struct http_field){ "Content-MD5", md5 };
	f[1] = (struct http_field){ "Content-Type", "application/xml" };
	rc = s3_call(c, b, "POST", key, q, f, 2, body->data, body->len, &resp,
	    err);
	if (rc == 0 && (code = xml_text(resp.http.body.data,
	    resp.http.body.len, "Code")) != NULL) {
		msg = xml_text(resp.http.body.data, resp.http.body.len,
		    "Message");
		rc = errbuf_set(err, ERR_TEMP, "HTTP 200 %s: %s", code,
		    msg ? msg : "");
	} else if (rc == 0) {
		char *e = xml_text(resp.http.body.data, resp.http.body.len,
		    "ETag");
		snprintf(etag, S3_ETAG_MAX, "%s", e ? e : "");
		free(e);
	}
	free(code);
	free(msg);
	aws_response_free(&resp);
	return rc;
}

int
s3_multipart_complete(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const char *upload_id, char *const *etags, size_t n,
    char etag[S3_ETAG_MAX], struct errbuf *err)
{
	struct buf body = BUF_INIT;
	char *q = part_query(0, upload_id);
	int attempt, rc = -1;

	if (q == NULL || s3_complete_body(&body, etags, n) == -1) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	/* only the 200-with-<Error> case loops here; aws_send retries the
	 * rest itself */
	for (attempt = 1; attempt <= aws_client_max_attempts(c); attempt++) {
		rc = complete_once(c, b, key, q, &body, etag, err);
		if (rc == 0 || strncmp(err->msg, "HTTP 200 ", 9) != 0)
			break;
	}
	if (rc == -1)
		errbuf_prefix(err, "CompleteMultipartUpload s3://%s/%s",
		    b->name, key);
out:
	buf_free(&body);
	free(q);
	return rc;
}

int
s3_multipart_abort(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const char *upload_id, struct errbuf *err)
{
	struct aws_response resp;
	char *q = part_query(0, upload_id);
	int rc;

	if (q == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	rc = s3_call(c, b, "DELETE", key, q, NULL, 0, NULL, 0, &resp, err);
	if (rc == -1 && resp.status == 404 &&
	    strcmp(resp.error.code, "NoSuchUpload") == 0)
		rc = 0;
	if (rc == -1)
		errbuf_prefix(err, "AbortMultipartUpload s3://%s/%s", b->name,
		    key);
	aws_response_free(&resp);
	free(q);
	return rc;
}

int
s3_multipart_list(struct aws_client *c, const struct s3_bucket *b,
    const char *prefix, struct s3_upload **out, size_t *n,
    struct errbuf *err)
{
	struct aws_response resp;
	struct buf q = BUF_INIT;
	char *enc = sigv4_uri_encode(prefix, strlen(prefix), 0);
	int rc = -1;

	*out = NULL;
	*n = 0;
	memset(&resp, 0, sizeof(resp));
	if (enc == NULL || buf_printf(&q, "prefix=%s&uploads=", enc) == -1) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		goto out;
	}
	rc = s3_call(c, b, "GET", NULL, q.data, NULL, 0, NULL, 0, &resp, err);
	if (rc == 0)
		rc = s3_list_uploads_parse(resp.http.body.data,
		    resp.http.body.len, out, n, err);
	if (rc == -1)
		errbuf_prefix(err, "ListMultipartUploads s3://%s", b->name);
out:
	aws_response_free(&resp);
	buf_free(&q);
	free(enc);
	return rc;
}
