/*
 * fuzz_sigv4: SigV4 signing of a request built from the input, and the
 * query encoding.
 *
 * Input: one flags byte, then NUL-separated fields: method, target, body,
 * then up to 8 headers "name:value" (a Host header is added unless the
 * flags say not to). NUL separates because no field may hold one anyway.
 * Properties, beyond not crashing:
 *  - a successful signing is self-consistent: the canonical request starts
 *    with the method, ends with the payload hash, carries the signed
 *    headers; the string to sign ends with the canonical request's hash;
 *    the signature is 64 hex digits and appears where the mode puts it;
 *  - the canonical query is a fixed point: signing path?<canonical query>
 *    gives the same canonical query again;
 *  - sigv4_uri_encode round-trips: decoding its output gives the input
 *    back, and the output holds only unreserved characters and %XX.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "buf.h"
#include "fuzz.h"
#include "sigv4.h"

const char fuzz_name[] = "sigv4";

#define MAX_HEADERS 8

enum {
	F_S3 = 1 << 0,		/* SIGV4_S3 rules, else SIGV4_DEFAULT */
	F_PRESIGN = 1 << 1,
	F_TOKEN = 1 << 2,
	F_TOKEN_UNSIGNED = 1 << 3,
	F_UNSIGNED_PAYLOAD = 1 << 4,
	F_NO_HOST = 1 << 5,
	F_OLD_DATE = 1 << 6	/* another signing time */
};

struct req {
	struct sigv4_request r;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_header h[MAX_HEADERS + 1];
};

/* Lowercase hex SHA-256, from OpenSSL directly rather than the signer's. */
static void
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	int i;

	SHA256(data, len, md);
	for (i = 0; i < SHA256_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The harness's own decoder: strict, uppercase hex as the encoder writes. */
static size_t
pct_decode(const char *s, char *out)
{
	size_t n = 0;
	int hi, lo;

	for (; *s != '\0'; s++) {
		if (*s != '%') {
			out[n++] = *s;
			continue;
		}
		hi = hexval((unsigned char)s[1]);
		lo = hi < 0 ? -1 : hexval((unsigned char)s[2]);
		FUZZ_CHECK(hi >= 0 && lo >= 0, "encoder wrote a bad %%XX");
		out[n++] = (char)(hi << 4 | lo);
		s += 2;
	}
	return n;
}

static int
unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

static void
check_encoding(const uint8_t *data, size_t size, int keep_slash)
{
	char *enc = sigv4_uri_encode((const char *)data, size, keep_slash);
	char *dec;
	size_t i, n;

	FUZZ_CHECK(enc != NULL, "sigv4_uri_encode failed on %zu bytes", size);
	for (i = 0; enc[i] != '\0'; i++)
		FUZZ_CHECK(unreserved((unsigned char)enc[i]) ||
		    enc[i] == '%' || (keep_slash && enc[i] == '/'),
		    "encoded output holds byte 0x%02x",
		    (unsigned char)enc[i]);
	dec = fuzz_memdup(enc, strlen(enc) + 1);
	n = pct_decode(enc, dec);
	FUZZ_CHECK(n == size && (size == 0 || memcmp(dec, data, size) == 0),
	    "decode(encode(x)) != x (keep_slash %d)", keep_slash);
	free(dec);
	free(enc);
}

/* Line k (0-based) of s, or NULL; *len gets its length. */
static const char *
line_of(const char *s, int k, size_t *len)
{
	for (; k > 0 && s != NULL; k--)
		if ((s = strchr(s, '\n')) != NULL)
			s++;
	if (s == NULL)
		return NULL;
	*len = strcspn(s, "\n");
	return s;
}

static int
ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

/* The last two lines of the canonical request: signed headers, hash. */
static void
check_tail(const struct req *q, const struct sigv4_result *out)
{
	const char *cr = out->canonical_request, *last, *prev;
	char hash[65];

	if (q->r.payload_hash == NULL)
		sha256_hex(q->r.body, q->r.body_len, hash);
	else
		snprintf(hash, sizeof(hash), "%s", q->r.payload_hash);
	last = strrchr(cr, '\n');
	FUZZ_CHECK(last != NULL && strcmp(last + 1, hash) == 0,
	    "canonical request does not end with the payload hash");
	for (prev = last; prev > cr && prev[-1] != '\n'; prev--)
		;
	FUZZ_CHECK((size_t)(last - prev) == strlen(out->signed_headers) &&
	    memcmp(prev, out->signed_headers, (size_t)(last - prev)) == 0,
	    "signed headers line differs from signed_headers");
}

static void
check_result(const struct req *q, const struct sigv4_result *out, int presign)
{
	char hash[65], sig[80];
	const char *l;
	size_t len, i;

	l = line_of(out->canonical_request, 0, &len);
	FUZZ_CHECK(l != NULL && len == strlen(q->r.method) &&
	    memcmp(l, q->r.method, len) == 0,
	    "canonical request does not start with the method");
	check_tail(q, out);
	sha256_hex(out->canonical_request,
	    strlen(out->canonical_request), hash);
	FUZZ_CHECK(ends_with(out->string_to_sign, hash),
	    "string to sign does not end with the canonical request's hash");
	FUZZ_CHECK(strlen(out->signature) == 64, "signature length");
	for (i = 0; i < 64; i++)
		FUZZ_CHECK(strchr("0123456789abcdef", out->signature[i]) !=
		    NULL, "signature is not lowercase hex");
	snprintf(sig, sizeof(sig), "Signature=%s", out->signature);
	if (presign)
		FUZZ_CHECK(out->presigned_target != NULL &&
		    strncmp(out->presigned_target, q->r.target,
		    strlen(q->r.target)) == 0 &&
		    strstr(out->presigned_target, sig) != NULL,
		    "presigned target lacks the target or the signature");
	else
		FUZZ_CHECK(out->authorization != NULL &&
		    ends_with(out->authorization, sig),
		    "Authorization does not end with the signature");
}

/* Signing path?<canonical query> must give that canonical query again. */
static void
check_fixed_point(const struct req *q, const struct sigv4_result *out)
{
	struct sigv4_result again;
	struct errbuf err;
	struct req q2 = *q;
	const char *cq;
	size_t cqlen, pathlen = strcspn(q->r.target, "?"), n2;
	struct buf target = BUF_INIT;

	cq = line_of(out->canonical_request, 2, &cqlen);
	FUZZ_CHECK(cq != NULL, "canonical request has no query line");
	if (buf_append(&target, q->r.target, pathlen) == -1 ||
	    buf_putc(&target, '?') == -1 || buf_append(&target, cq, cqlen) == -1)
		fuzz_fail("out of memory");
	q2.r.target = target.data;
	FUZZ_CHECK(sigv4_sign(&q2.r, &q2.p, &q2.c, &again, &err) == 0,
	    "signing the canonical query failed: %s", err.msg);
	cq = line_of(again.canonical_request, 2, &n2);
	FUZZ_CHECK(n2 == cqlen && memcmp(cq, line_of(out->canonical_request,
	    2, &cqlen), cqlen) == 0, "canonical query is not a fixed point");
	sigv4_result_free(&again);
	buf_free(&target);
}

static void
build(struct req *q, unsigned flags, const struct fuzz_parts *parts)
{
	size_t i, nh = 0;
	char *colon;

	memset(q, 0, sizeof(*q));
	q->r.method = parts->p[0];
	q->r.target = parts->n > 1 ? parts->p[1] : "/";
	q->r.body = parts->n > 2 ? parts->p[2] : "";
	q->r.body_len = parts->n > 2 ? parts->len[2] : 0;
	q->r.payload_hash = flags & F_UNSIGNED_PAYLOAD ?
	    SIGV4_UNSIGNED_PAYLOAD : NULL;
	if (!(flags & F_NO_HOST)) {
		q->h[nh].name = "Host";
		q->h[nh++].value = "kinesis.us-east-1.amazonaws.com";
	}
	for (i = 3; i < parts->n && nh <= MAX_HEADERS; i++) {
		/* the name ends at the first ':' (cut in place) */
		if ((colon = strchr(parts->p[i], ':')) != NULL)
			*colon = '\0';
		q->h[nh].name = parts->p[i];
		q->h[nh++].value = colon != NULL ? colon + 1 : "";
	}
	q->r.headers = q->h;
	q->r.nheaders = nh;
	q->p.region = "us-east-1";
	q->p.service = flags & F_S3 ? "s3" : "kinesis";
	q->p.when = flags & F_OLD_DATE ? 0 : 1440938160;
	q->p.flags = (flags & F_S3 ? SIGV4_S3 : SIGV4_DEFAULT) |
	    (flags & F_TOKEN_UNSIGNED ? SIGV4_TOKEN_UNSIGNED : 0);
	q->p.expires = 3600;
	q->c.access_key = "AKIDEXAMPLE";
	q->c.secret_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
	q->c.token = flags & F_TOKEN ? "IQoJb3JpZ2luX2VjEXAMPLETOKEN" : NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_parts parts;
	struct sigv4_result out;
	struct errbuf err;
	struct req q;
	unsigned flags;
	int presign, rc;

	check_encoding(data, size, 0);
	check_encoding(data, size, 1);
	if (size == 0)
		return 0;
	flags = data[0];
	presign = (flags & F_PRESIGN) != 0;
	fuzz_split(data + 1, size - 1, '\0', 3 + MAX_HEADERS, &parts);
	build(&q, flags, &parts);
	rc = presign ? sigv4_presign(&q.r, &q.p, &q.c, &out, &err) :
	    sigv4_sign(&q.r, &q.p, &q.c, &out, &err);
	if (rc == 0) {
		check_result(&q, &out, presign);
		if (!presign)
			check_fixed_point(&q, &out);
		sigv4_result_free(&out);
	} else {
		FUZZ_CHECK(err.kind != ERR_NONE &&
		    fuzz_is_one_line(err.msg, sizeof(err.msg)),
		    "failure without a one-line error");
	}
	fuzz_parts_free(&parts);
	return 0;
}
