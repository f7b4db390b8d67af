/*
 * sigv4: AWS Signature Version 4, as the published stages:
 *   task 1  canonical request
 *   task 2  string to sign
 *   task 3  signing key and signature
 *   task 4  add the signature: Authorization header or query string
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html
 *
 * Pure: no I/O, no clock, no environment. Everything that holds the secret
 * key or a derived key is wiped with OPENSSL_cleanse before it is freed;
 * strings that may hold the session token are grown without realloc() so no
 * stale copy is left behind (see bput).
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "buf.h"
#include "sigv4.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_TERMINATOR "aws4_request"	/* last credential scope part */
#define SHA256_LEN 32
#define NADD_MAX (sizeof(((struct sigv4_result *)0)->add_headers) / \
	sizeof(((struct sigv4_result *)0)->add_headers[0]))

/* One header to sign; order keeps repeated names in the caller's order. */
struct shdr {
	const char *name;
	const char *value;
	size_t order;
};

/* One query parameter, both parts already URI-encoded (task 1, step 4). */
struct qparam {
	char *name;
	char *value;
};

struct qlist {
	struct qparam *v;
	size_t n;
	size_t cap;
};

/* One signing: the checked inputs and what the early stages derived. */
struct signing {
	const struct sigv4_request *req;
	const struct sigv4_params *p;
	const struct sigv4_credentials *c;
	int presign;
	const char *token;	/* NULL when there is none */
	int token_signed;	/* the canonical request holds the token */
	char amz_date[17];
	char date[9];
	const char *payload_hash;
	char payload_buf[SIGV4_HEX_SHA256_LEN + 1];
	char *scope;		/* DATE/REGION/SERVICE/aws4_request */
	struct shdr *hdrs;	/* the caller's headers plus the signer's */
	size_t nhdrs;
	size_t pathlen;		/* target bytes before the first '?' */
};

/* Buffers that may hold the token grow without realloc(); see bput. */
static int
bput(struct buf *b, const void *p, size_t n)
{
	struct buf nb = BUF_INIT;

	if (b->data != NULL && n < b->cap - b->len)
		return buf_append(b, p, n);
	if (n > SIZE_MAX / 4 - b->len)
		return -1;
	if (buf_reserve(&nb, 2 * (b->len + n)) == -1)
		return -1;
	(void)buf_append(&nb, b->data, b->len);
	buf_wipe(b);
	*b = nb;
	return buf_append(b, p, n);
}

static int
bputs(struct buf *b, const char *s)
{
	return bput(b, s, strlen(s));
}

static int
bputc(struct buf *b, char c)
{
	return bput(b, &c, 1);
}

static void
free_secret(char *s)
{
	if (s != NULL)
		OPENSSL_clear_free(s, strlen(s));
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* RFC 3986 section 2.3 unreserved characters: never percent-encoded. */
static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	    c == '~';
}

static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
hex_encode(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * n] = '\0';
}

static int
sha256_hex(const void *data, size_t len, char out[SIGV4_HEX_SHA256_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	out[0] = '\0';
	if (data == NULL)
		data = "";
	if (EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
	    mdlen != SHA256_LEN)
		return -1;
	hex_encode(md, SHA256_LEN, out);
	return 0;
}

static int
hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
    unsigned char out[SHA256_LEN])
{
	unsigned int outlen = 0;

	if (klen > INT_MAX)
		return -1;
	if (HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out,
	    &outlen) == NULL || outlen != SHA256_LEN)
		return -1;
	return 0;
}

char *
sigv4_uri_encode(const char *s, size_t len, int keep_slash)
{
	static const char digits[] = "0123456789ABCDEF";
	size_t i, n = 0;
	char *out, *o;

	if (len > (SIZE_MAX - 1) / 3)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		n += unreserved(c) || (keep_slash && c == '/') ? 1 : 3;
	}
	if ((out = malloc(n + 1)) == NULL)
		return NULL;
	for (o = out, i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/')) {
			*o++ = (char)c;
			continue;
		}
		*o++ = '%';
		*o++ = digits[c >> 4];
		*o++ = digits[c & 0xf];
	}
	*o = '\0';
	return out;
}

static void
put_digits(char *o, int v, int width)
{
	while (width-- > 0) {
		o[width] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* ISO 8601 basic format, the only date form SigV4 accepts. */
static int
format_amz_date(time_t when, char out[17])
{
	struct tm tm;

	out[0] = '\0';
	if (gmtime_r(&when, &tm) == NULL || tm.tm_year < -1900 ||
	    tm.tm_year > 9999 - 1900)
		return -1;
	put_digits(out, tm.tm_year + 1900, 4);
	put_digits(out + 4, tm.tm_mon + 1, 2);
	put_digits(out + 6, tm.tm_mday, 2);
	out[8] = 'T';
	put_digits(out + 9, tm.tm_hour, 2);
	put_digits(out + 11, tm.tm_min, 2);
	put_digits(out + 13, tm.tm_sec, 2);
	out[15] = 'Z';
	out[16] = '\0';
	return 0;
}

/* ---- input checks ------------------------------------------------------ */

/* Anything that would split a line of the canonical request. */
static int
has_ctl(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t')
			return 1;
	return 0;
}

/* RFC 9110 field names are tokens: no controls, space, ':' or DEL. */
static int
valid_name(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || *s == ':' || *s == 0x7f)
			return 0;
	return 1;
}

static int
name_is(const char *a, const char *b)
{
	while (*a != '\0' && lower((unsigned char)*a) ==
	    lower((unsigned char)*b))
		a++, b++;
	return *a == '\0' && *b == '\0';
}

/* Headers the signer adds must not come from the caller as well. */
static int
check_reserved(const struct signing *s, const char *name, struct errbuf *err)
{
	int add_sha = !s->presign &&
	    (s->p->flags & SIGV4_ADD_CONTENT_SHA256) != 0;

	if (name_is(name, "Authorization") ||
	    (!s->presign && name_is(name, "X-Amz-Date")) ||
	    (!s->presign && s->token != NULL &&
	    name_is(name, "X-Amz-Security-Token")) ||
	    (add_sha && name_is(name, "X-Amz-Content-SHA256")))
		return errbuf_set(err, ERR_USAGE,
		    "sigv4: header %s is added by the signer", name);
	return 0;
}

static int
check_headers(const struct signing *s, struct errbuf *err)
{
	const struct sigv4_request *r = s->req;
	size_t i;
	int host = 0;

	if (r->nheaders > 0 && r->headers == NULL)
		return errbuf_set(err, ERR_USAGE, "sigv4: no header array");
	for (i = 0; i < r->nheaders; i++) {
		const struct sigv4_header *h = &r->headers[i];
		if (!valid_name(h->name))
			return errbuf_set(err, ERR_USAGE,
			    "sigv4: invalid header name");
		if (h->value == NULL || has_ctl(h->value))
			return errbuf_set(err, ERR_USAGE,
			    "sigv4: header %s: invalid value", h->name);
		if (check_reserved(s, h->name, err) == -1)
			return -1;
		host |= name_is(h->name, "Host");
	}
	if (!host)
		return errbuf_set(err, ERR_USAGE, "sigv4: no Host header");
	return 0;
}

static int
check_request(const struct signing *s, struct errbuf *err)
{
	const struct sigv4_request *r = s->req;
	const char *m;

	if (r->method == NULL || *r->method == '\0')
		return errbuf_set(err, ERR_USAGE, "sigv4: no method");
	for (m = r->method; *m != '\0'; m++)
		if ((unsigned char)*m <= 0x20 || *m == 0x7f)
			return errbuf_set(err, ERR_USAGE,
			    "sigv4: invalid method");
	if (r->target == NULL || has_ctl(r->target) ||
	    strchr(r->target, '\t') != NULL)
		return errbuf_set(err, ERR_USAGE,
		    "sigv4: invalid request target");
	if (r->payload_hash != NULL && (*r->payload_hash == '\0' ||
	    has_ctl(r->payload_hash)))
		return errbuf_set(err, ERR_USAGE,
		    "sigv4: invalid payload hash");
	if (r->body == NULL && r->body_len > 0)
		return errbuf_set(err, ERR_USAGE, "sigv4: no body");
	return check_headers(s, err);
}

/* A credential scope part must not contain the scope separator '/'. */
static int
scope_part_ok(const char *s)
{
	return s != NULL && *s != '\0' && strchr(s, '/') == NULL &&
	    !has_ctl(s);
}

static int
check_params(struct signing *s, struct errbuf *err)
{
	const struct sigv4_params *p = s->p;
	const struct sigv4_credentials *c = s->c;

	if (!scope_part_ok(p->region))
		return errbuf_set(err, ERR_USAGE, "sigv4: invalid region");
	if (!scope_part_ok(p->service))
		return errbuf_set(err, ERR_USAGE, "sigv4: invalid service");
	if (!scope_part_ok(c->access_key))
		return errbuf_set(err, ERR_CONFIG,
		    "sigv4: invalid access key id");
	if (c->secret_key == NULL || *c->secret_key == '\0')
		return errbuf_set(err, ERR_CONFIG, "sigv4: no secret key");
	if (c->token != NULL && has_ctl(c->token))
		return errbuf_set(err, ERR_CONFIG,
		    "sigv4: invalid session token");
	if (s->presign && (p->expires < 1 ||
	    p->expires > SIGV4_PRESIGN_MAX_EXPIRES))
		return errbuf_set(err, ERR_USAGE,
		    "sigv4: X-Amz-Expires %ld out of range 1..%d",
		    p->expires, SIGV4_PRESIGN_MAX_EXPIRES);
	if (format_amz_date(p->when, s->amz_date) == -1)
		return errbuf_set(err, ERR_USAGE,
		    "sigv4: signing time out of range");
	return 0;
}

/* ---- task 1: canonical request ----------------------------------------- */

static int
shdr_cmp(const void *a, const void *b)
{
	const struct shdr *x = a, *y = b;
	const unsigned char *p = (const unsigned char *)x->name;
	const unsigned char *q = (const unsigned char *)y->name;

	while (*p != '\0' && lower(*p) == lower(*q))
		p++, q++;
	if (lower(*p) != lower(*q))
		return lower(*p) - lower(*q);
	return x->order < y->order ? -1 : x->order > y->order;
}

static void
add_shdr(struct signing *s, const char *name, const char *value)
{
	s->hdrs[s->nhdrs].name = name;
	s->hdrs[s->nhdrs].value = value;
	s->hdrs[s->nhdrs].order = s->nhdrs;
	s->nhdrs++;
}

/* Task 1 step 1: the caller's headers plus those the signer must sign. */
static int
collect_headers(struct signing *s)
{
	const struct sigv4_request *r = s->req;
	size_t i;

	if (r->nheaders > SIZE_MAX / sizeof(*s->hdrs) - 3)
		return -1;
	if ((s->hdrs = calloc(r->nheaders + 3, sizeof(*s->hdrs))) == NULL)
		return -1;
	for (i = 0; i < r->nheaders; i++)
		add_shdr(s, r->headers[i].name, r->headers[i].value);
	if (!s->presign) {
		add_shdr(s, "X-Amz-Date", s->amz_date);
		if (s->token_signed)
			add_shdr(s, "X-Amz-Security-Token", s->token);
		if (s->p->flags & SIGV4_ADD_CONTENT_SHA256)
			add_shdr(s, "X-Amz-Content-SHA256", s->payload_hash);
	}
	qsort(s->hdrs, s->nhdrs, sizeof(*s->hdrs), shdr_cmp);
	return 0;
}

/* Trimall: no outer whitespace, inner runs of it become one space. */
static int
put_trimmed(struct buf *b, const char *v)
{
	int gap = 0, any = 0;

	for (; *v != '\0'; v++) {
		if (*v == ' ' || *v == '\t') {
			gap = any;
			continue;
		}
		if ((gap && bputc(b, ' ') == -1) || bputc(b, *v) == -1)
			return -1;
		gap = 0;
		any = 1;
	}
	return 0;
}

static int
put_lower(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		if (bputc(b, (char)lower((unsigned char)*s)) == -1)
			return -1;
	return 0;
}

/*
 * Task 1 steps 5-6: "name:value\n" per distinct lowercase name, repeated
 * names joined with ',' in the order given; signed headers joined by ';'.
 */
static int
canon_headers(const struct signing *s, struct buf *ch, struct buf *sh)
{
	size_t i, j;

	for (i = 0; i < s->nhdrs; i = j) {
		if ((i > 0 && bputc(sh, ';') == -1) ||
		    put_lower(sh, s->hdrs[i].name) == -1 ||
		    put_lower(ch, s->hdrs[i].name) == -1 ||
		    bputc(ch, ':') == -1)
			return -1;
		for (j = i; j < s->nhdrs &&
		    name_is(s->hdrs[j].name, s->hdrs[i].name); j++)
			if ((j > i && bputc(ch, ',') == -1) ||
			    put_trimmed(ch, s->hdrs[j].value) == -1)
				return -1;
		if (bputc(ch, '\n') == -1)
			return -1;
	}
	return 0;
}

/*
 * RFC 3986 section 5.2.4 as SigV4 applies it: drop empty and "." segments,
 * ".." removes the one before; the result is absolute, and keeps a trailing
 * slash when the input had one and any segment is left.
 */
static int
normalize_path(const char *path, size_t len, struct buf *out)
{
	size_t *seg = NULL, nseg = 0, i, start;
	int rc = -1;

	if ((seg = calloc(len + 1, 2 * sizeof(*seg))) == NULL)
		goto out;
	for (start = 0; start <= len; start = i + 1) {
		for (i = start; i < len && path[i] != '/'; i++)
			;
		if (i == start || (i - start == 1 && path[start] == '.'))
			continue;
		if (i - start == 2 && memcmp(path + start, "..", 2) == 0) {
			nseg -= nseg > 0;
			continue;
		}
		seg[2 * nseg] = start;
		seg[2 * nseg++ + 1] = i - start;
	}
	for (i = 0; i < nseg; i++)
		if (bputc(out, '/') == -1 ||
		    bput(out, path + seg[2 * i], seg[2 * i + 1]) == -1)
			goto out;
	if ((nseg == 0 || (len > 0 && path[len - 1] == '/')) &&
	    bputc(out, '/') == -1)
		goto out;
	rc = 0;
out:
	free(seg);
	return rc;
}

/*
 * Task 1 step 2: S3 signs the wire path as it is; other services sign it
 * normalised and URI-encoded once more.
 */
static int
canon_uri(const struct signing *s, struct buf *out)
{
	struct buf norm = BUF_INIT;
	const char *path = s->req->target;
	size_t len = s->pathlen;
	char *enc = NULL;
	int rc = -1;

	if (s->p->flags & SIGV4_NORMALIZE_PATH) {
		if (normalize_path(path, len, &norm) == -1)
			goto out;
		path = norm.data;
		len = norm.len;
	}
	if (len == 0) {
		path = "/";
		len = 1;
	}
	if (s->p->flags & SIGV4_DOUBLE_ENCODE) {
		if ((enc = sigv4_uri_encode(path, len, 1)) == NULL)
			goto out;
		path = enc;
		len = strlen(enc);
	}
	rc = bput(out, path, len);
out:
	free(enc);
	buf_free(&norm);
	return rc;
}

/* Percent-decodes %XX; a '%' not followed by two hex digits stays. */
static size_t
pct_decode(const char *s, size_t len, char *out)
{
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len &&
		    (hi = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (lo = hexval((unsigned char)s[i + 2])) >= 0) {
			out[n++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			out[n++] = s[i];
	}
	return n;
}

static void
qlist_free(struct qlist *q)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		free_secret(q->v[i].name);
		free_secret(q->v[i].value);
	}
	free(q->v);
	q->v = NULL;
	q->n = q->cap = 0;
}

static int
qlist_grow(struct qlist *q)
{
	struct qparam *v;
	size_t cap = q->cap * 2 + 8;

	if (q->n < q->cap)
		return 0;
	if (cap > SIZE_MAX / sizeof(*v) ||
	    (v = realloc(q->v, cap * sizeof(*v))) == NULL)
		return -1;
	q->v = v;
	q->cap = cap;
	return 0;
}

/* Task 1 step 3: the caller's parts are decoded first, then encoded. */
static char *
reencode(const char *s, size_t len, int decode)
{
	char *tmp, *enc;

	if (!decode)
		return sigv4_uri_encode(s, len, 0);
	if (len == SIZE_MAX || (tmp = malloc(len + 1)) == NULL)
		return NULL;
	enc = sigv4_uri_encode(tmp, pct_decode(s, len, tmp), 0);
	OPENSSL_clear_free(tmp, len + 1);
	return enc;
}

static int
qlist_add(struct qlist *q, const char *name, size_t nlen, const char *value,
    size_t vlen, int decode)
{
	struct qparam *v;

	if (qlist_grow(q) == -1)
		return -1;
	v = &q->v[q->n++];
	v->name = reencode(name, nlen, decode);
	v->value = reencode(value, vlen, decode);
	return v->name != NULL && v->value != NULL ? 0 : -1;
}

/* Task 1 step 3: split on '&' (empty pieces skipped) and the first '='. */
static int
qlist_parse(struct qlist *q, const char *query, size_t len)
{
	const char *amp, *eq;
	size_t start, end, nlen;

	for (start = 0; start < len; start = end + 1) {
		amp = memchr(query + start, '&', len - start);
		end = amp != NULL ? (size_t)(amp - query) : len;
		if (end == start)
			continue;
		eq = memchr(query + start, '=', end - start);
		nlen = eq != NULL ? (size_t)(eq - query) - start : end - start;
		if (qlist_add(q, query + start, nlen, eq != NULL ? eq + 1 : "",
		    eq != NULL ? end - start - nlen - 1 : 0, 1) == -1)
			return -1;
	}
	return 0;
}

static int
qparam_cmp(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c != 0 ? c : strcmp(x->value, y->value);
}

static int
qlist_add_str(struct qlist *q, const char *name, const char *value)
{
	return qlist_add(q, name, strlen(name), value, strlen(value), 0);
}

/* Presigning puts the authentication parameters themselves in the query. */
static int
qlist_add_auth(const struct signing *s, struct qlist *q, const char *sh)
{
	struct buf cred = BUF_INIT;
	char exp[24];
	int rc = -1;

	if (buf_printf(&cred, "%s/%s", s->c->access_key, s->scope) == -1)
		goto out;
	if (snprintf(exp, sizeof(exp), "%ld", s->p->expires) < 0)
		goto out;
	if (qlist_add_str(q, "X-Amz-Algorithm", SIGV4_ALGORITHM) == -1 ||
	    qlist_add_str(q, "X-Amz-Credential", cred.data) == -1 ||
	    qlist_add_str(q, "X-Amz-Date", s->amz_date) == -1 ||
	    qlist_add_str(q, "X-Amz-Expires", exp) == -1 ||
	    qlist_add_str(q, "X-Amz-SignedHeaders", sh) == -1 ||
	    (s->token_signed &&
	    qlist_add_str(q, "X-Amz-Security-Token", s->token) == -1))
		goto out;
	rc = 0;
out:
	buf_free(&cred);
	return rc;
}

/* The caller's query must not already carry what presigning adds. */
static int
check_query(const struct signing *s, const struct qlist *q,
    struct errbuf *err)
{
	static const char *const reserved[] = { "X-Amz-Algorithm",
	    "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires",
	    "X-Amz-SignedHeaders", "X-Amz-Security-Token",
	    "X-Amz-Signature" };
	size_t i, j;

	if (!s->presign)
		return 0;
	for (i = 0; i < q->n; i++)
		for (j = 0; j < sizeof(reserved) / sizeof(reserved[0]); j++)
			if (strcmp(q->v[i].name, reserved[j]) == 0)
				return errbuf_set(err, ERR_USAGE,
				    "sigv4: query already has %s",
				    reserved[j]);
	return 0;
}

/*
 * Task 1 step 3: every parameter decoded then encoded the AWS way, sorted
 * by encoded name then encoded value, joined with '&'.
 */
static int
canon_query(const struct signing *s, const char *sh, struct buf *out,
    struct errbuf *err)
{
	struct qlist q = { NULL, 0, 0 };
	const char *t = s->req->target;
	size_t i;
	int rc = -1;

	if (t[s->pathlen] == '?' && qlist_parse(&q, t + s->pathlen + 1,
	    strlen(t + s->pathlen + 1)) == -1)
		goto nomem;
	if (check_query(s, &q, err) == -1)
		goto out;
	if (s->presign && qlist_add_auth(s, &q, sh) == -1)
		goto nomem;
	if (q.n > 0)
		qsort(q.v, q.n, sizeof(*q.v), qparam_cmp);
	for (i = 0; i < q.n; i++)
		if ((i > 0 && bputc(out, '&') == -1) ||
		    bputs(out, q.v[i].name) == -1 || bputc(out, '=') == -1 ||
		    bputs(out, q.v[i].value) == -1)
			goto nomem;
	rc = 0;
	goto out;
nomem:
	errbuf_set(err, ERR_SYSTEM, "sigv4: canonical query: out of memory");
out:
	qlist_free(&q);
	return rc;
}

/* Task 1 step 7: the canonical request, lines joined with '\n'. */
static int
canonical_request(const struct signing *s, struct sigv4_result *out,
    struct errbuf *err)
{
	struct buf creq = BUF_INIT, ch = BUF_INIT, sh = BUF_INIT;
	struct buf q = BUF_INIT, uri = BUF_INIT;
	int rc = -1;

	if (canon_headers(s, &ch, &sh) == -1 || canon_uri(s, &uri) == -1)
		goto nomem;
	if (canon_query(s, sh.len > 0 ? sh.data : "", &q, err) == -1)
		goto out;
	if (bputs(&creq, s->req->method) == -1 || bputc(&creq, '\n') == -1 ||
	    bput(&creq, uri.data, uri.len) == -1 ||
	    bputc(&creq, '\n') == -1 || bput(&creq, q.data, q.len) == -1 ||
	    bputc(&creq, '\n') == -1 || bput(&creq, ch.data, ch.len) == -1 ||
	    bputc(&creq, '\n') == -1 || bput(&creq, sh.data, sh.len) == -1 ||
	    bputc(&creq, '\n') == -1 || bputs(&creq, s->payload_hash) == -1)
		goto nomem;
	out->canonical_request = buf_steal(&creq);
	out->signed_headers = buf_steal(&sh);
	rc = 0;
	goto out;
nomem:
	errbuf_set(err, ERR_SYSTEM, "sigv4: canonical request: out of memory");
out:
	buf_wipe(&creq);
	buf_wipe(&ch);
	buf_free(&sh);
	buf_wipe(&q);
	buf_free(&uri);
	return rc;
}

/* ---- task 2: string to sign -------------------------------------------- */

static int
string_to_sign(const struct signing *s, struct sigv4_result *out,
    struct errbuf *err)
{
	struct buf sts = BUF_INIT;
	char hash[SIGV4_HEX_SHA256_LEN + 1];
	int rc = -1;

	if (sha256_hex(out->canonical_request,
	    strlen(out->canonical_request), hash) == -1) {
		errbuf_set(err, ERR_SYSTEM, "sigv4: SHA-256 failed");
		goto out;
	}
	if (buf_printf(&sts, "%s\n%s\n%s\n%s", SIGV4_ALGORITHM, s->amz_date,
	    s->scope, hash) == -1 ||
	    (out->string_to_sign = buf_steal(&sts)) == NULL) {
		errbuf_set(err, ERR_SYSTEM,
		    "sigv4: string to sign: out of memory");
		goto out;
	}
	rc = 0;
out:
	buf_free(&sts);
	return rc;
}

/* ---- task 3: signing key and signature --------------------------------- */

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), ...)) */
static int
signing_key(const struct signing *s, unsigned char key[SHA256_LEN])
{
	unsigned char kdate[SHA256_LEN], kregion[SHA256_LEN];
	unsigned char kservice[SHA256_LEN];
	size_t slen = strlen(s->c->secret_key);
	char *k0 = NULL;
	int rc = -1;

	if (slen > SIZE_MAX - 5 || (k0 = malloc(slen + 5)) == NULL)
		goto out;
	memcpy(k0, "AWS4", 4);
	memcpy(k0 + 4, s->c->secret_key, slen + 1);
	if (hmac_sha256(k0, slen + 4, s->date, 8, kdate) == -1 ||
	    hmac_sha256(kdate, SHA256_LEN, s->p->region,
	    strlen(s->p->region), kregion) == -1 ||
	    hmac_sha256(kregion, SHA256_LEN, s->p->service,
	    strlen(s->p->service), kservice) == -1 ||
	    hmac_sha256(kservice, SHA256_LEN, SIGV4_TERMINATOR,
	    strlen(SIGV4_TERMINATOR), key) == -1)
		goto out;
	rc = 0;
out:
	if (k0 != NULL)
		OPENSSL_clear_free(k0, slen + 5);
	OPENSSL_cleanse(kdate, sizeof(kdate));
	OPENSSL_cleanse(kregion, sizeof(kregion));
	OPENSSL_cleanse(kservice, sizeof(kservice));
	return rc;
}

static int
signature(const struct signing *s, struct sigv4_result *out,
    struct errbuf *err)
{
	unsigned char key[SHA256_LEN], mac[SHA256_LEN];
	int rc = -1;

	if (signing_key(s, key) == -1 || hmac_sha256(key, SHA256_LEN,
	    out->string_to_sign, strlen(out->string_to_sign), mac) == -1) {
		errbuf_set(err, ERR_SYSTEM, "sigv4: HMAC-SHA256 failed");
		goto out;
	}
	hex_encode(mac, SHA256_LEN, out->signature);
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* ---- task 4: add the signature to the request -------------------------- */

static int
add_header(struct sigv4_result *out, const char *name, const char *value)
{
	struct buf b = BUF_INIT;

	if (out->nadd >= NADD_MAX || bputs(&b, value) == -1)
		return -1;
	snprintf(out->add_headers[out->nadd].name,
	    sizeof(out->add_headers[0].name), "%s", name);
	out->add_headers[out->nadd++].value = buf_steal(&b);
	return 0;
}

/* Header mode: the Authorization value and every header to send. */
static int
finish_header(const struct signing *s, struct sigv4_result *out,
    struct errbuf *err)
{
	struct buf a = BUF_INIT;

	if (buf_printf(&a, "%s Credential=%s/%s, SignedHeaders=%s, "
	    "Signature=%s", SIGV4_ALGORITHM, s->c->access_key, s->scope,
	    out->signed_headers, out->signature) == -1 ||
	    (out->authorization = buf_steal(&a)) == NULL)
		goto nomem;
	if (add_header(out, "X-Amz-Date", s->amz_date) == -1 ||
	    (s->token != NULL &&
	    add_header(out, "X-Amz-Security-Token", s->token) == -1) ||
	    ((s->p->flags & SIGV4_ADD_CONTENT_SHA256) &&
	    add_header(out, "X-Amz-Content-SHA256", s->payload_hash) == -1) ||
	    add_header(out, "Authorization", out->authorization) == -1)
		goto nomem;
	return 0;
nomem:
	buf_free(&a);
	return errbuf_set(err, ERR_SYSTEM, "sigv4: out of memory");
}

/* Appends name=value (value URI-encoded), after '&' unless one ends b. */
static int
put_param(struct buf *b, const char *name, const char *value)
{
	char *enc;
	char last = b->len > 0 ? b->data[b->len - 1] : '?';
	int rc;

	if ((enc = sigv4_uri_encode(value, strlen(value), 0)) == NULL)
		return -1;
	rc = ((last != '?' && last != '&' && bputc(b, '&') == -1) ||
	    bputs(b, name) == -1 || bputc(b, '=') == -1 ||
	    bputs(b, enc) == -1) ? -1 : 0;
	free_secret(enc);
	return rc;
}

/*
 * Task 4, query mode: the caller's target as given, then the authentication
 * parameters; a token that is not signed goes in only now.
 */
static int
finish_query(const struct signing *s, struct sigv4_result *out,
    struct errbuf *err)
{
	struct buf b = BUF_INIT, cred = BUF_INIT;
	char exp[24];
	int rc = -1;

	snprintf(exp, sizeof(exp), "%ld", s->p->expires);
	if (buf_printf(&cred, "%s/%s", s->c->access_key, s->scope) == -1 ||
	    bputs(&b, s->req->target) == -1 ||
	    (s->req->target[s->pathlen] != '?' && bputc(&b, '?') == -1))
		goto nomem;
	if (put_param(&b, "X-Amz-Algorithm", SIGV4_ALGORITHM) == -1 ||
	    put_param(&b, "X-Amz-Credential", cred.data) == -1 ||
	    put_param(&b, "X-Amz-Date", s->amz_date) == -1 ||
	    put_param(&b, "X-Amz-SignedHeaders", out->signed_headers) == -1 ||
	    put_param(&b, "X-Amz-Expires", exp) == -1 ||
	    (s->token != NULL &&
	    put_param(&b, "X-Amz-Security-Token", s->token) == -1) ||
	    put_param(&b, "X-Amz-Signature", out->signature) == -1 ||
	    (out->presigned_target = buf_steal(&b)) == NULL)
		goto nomem;
	rc = 0;
	goto out;
nomem:
	errbuf_set(err, ERR_SYSTEM, "sigv4: presigned target: out of memory");
out:
	buf_free(&cred);
	buf_wipe(&b);
	return rc;
}

/* ---- front end --------------------------------------------------------- */

/* Checks the inputs and derives what every stage shares. */
static int
prepare(struct signing *s, struct errbuf *err)
{
	struct buf scope = BUF_INIT;
	const struct sigv4_request *r = s->req;

	if (s->c->token != NULL && *s->c->token != '\0')
		s->token = s->c->token;
	s->token_signed = s->token != NULL &&
	    (s->p->flags & SIGV4_TOKEN_UNSIGNED) == 0;
	if (check_params(s, err) == -1 || check_request(s, err) == -1)
		return -1;
	memcpy(s->date, s->amz_date, 8);
	s->date[8] = '\0';
	s->pathlen = strcspn(r->target, "?");
	s->payload_hash = r->payload_hash;
	if (s->payload_hash == NULL) {
		if (sha256_hex(r->body, r->body_len, s->payload_buf) == -1)
			return errbuf_set(err, ERR_SYSTEM,
			    "sigv4: SHA-256 failed");
		s->payload_hash = s->payload_buf;
	}
	if (buf_printf(&scope, "%s/%s/%s/%s", s->date, s->p->region,
	    s->p->service, SIGV4_TERMINATOR) == -1 ||
	    (s->scope = buf_steal(&scope)) == NULL ||
	    collect_headers(s) == -1) {
		buf_free(&scope);
		return errbuf_set(err, ERR_SYSTEM, "sigv4: out of memory");
	}
	return 0;
}

/* Runs the four tasks in order; on failure out is left empty. */
static int
sign_request(struct signing *s, struct sigv4_result *out, struct errbuf *err)
{
	int rc = -1;

	if (out == NULL)
		return errbuf_set(err, ERR_USAGE, "sigv4: no result");
	memset(out, 0, sizeof(*out));
	if (s->req == NULL || s->p == NULL || s->c == NULL) {
		errbuf_set(err, ERR_USAGE, "sigv4: missing argument");
		goto out;
	}
	if (prepare(s, err) == -1 ||
	    canonical_request(s, out, err) == -1 ||
	    string_to_sign(s, out, err) == -1 ||
	    signature(s, out, err) == -1)
		goto out;
	if ((s->presign ? finish_query(s, out, err) :
	    finish_header(s, out, err)) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		sigv4_result_free(out);
	free(s->scope);
	free(s->hdrs);
	return rc;
}

int
sigv4_sign(const struct sigv4_request *req, const struct sigv4_params *p,
    const struct sigv4_credentials *c, struct sigv4_result *out,
    struct errbuf *err)
{
	struct signing s;

	memset(&s, 0, sizeof(s));
	s.req = req;
	s.p = p;
	s.c = c;
	return sign_request(&s, out, err);
}

int
sigv4_presign(const struct sigv4_request *req,
    const struct sigv4_params *p, const struct sigv4_credentials *c,
    struct sigv4_result *out, struct errbuf *err)
{
	struct signing s;

	memset(&s, 0, sizeof(s));
	s.req = req;
	s.p = p;
	s.c = c;
	s.presign = 1;
	return sign_request(&s, out, err);
}

/* The results may hold the session token: wipe every string. */
void
sigv4_result_free(struct sigv4_result *r)
{
	size_t i;

	if (r == NULL)
		return;
	free_secret(r->canonical_request);
	free_secret(r->string_to_sign);
	free_secret(r->signed_headers);
	free_secret(r->authorization);
	free_secret(r->presigned_target);
	for (i = 0; i < NADD_MAX; i++)
		free_secret(r->add_headers[i].value);
	OPENSSL_cleanse(r, sizeof(*r));
}
