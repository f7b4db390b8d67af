/*
 * test_sigv4: the rules of lib/sigv4 one by one. The official suite runs
 * separately (tests/sigv4-cases); these cover the edges it does not.
 */
#include <stdlib.h>
#include <string.h>

#include "sigv4.h"
#include "tap.h"

#define AK "AKIDEXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define EMPTY_SHA256 \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define WHEN 1440938160		/* 20150830T123600Z, the suite's time */

static const struct sigv4_header host_only[] = {
	{ "Host", "example.amazonaws.com" }
};

static void
init(struct sigv4_request *req, struct sigv4_params *p,
    struct sigv4_credentials *c, const char *target, unsigned flags)
{
	memset(req, 0, sizeof(*req));
	memset(p, 0, sizeof(*p));
	req->method = "GET";
	req->target = target;
	req->headers = host_only;
	req->nheaders = 1;
	p->region = "us-east-1";
	p->service = "service";
	p->when = WHEN;
	p->flags = flags;
	p->expires = 3600;
	c->access_key = AK;
	c->secret_key = SK;
	c->token = NULL;
}

/* Line n (from 0) of s, malloc'd; NULL when there is no such line. */
static char *
line_of(const char *s, int n)
{
	const char *e;

	for (; s != NULL && n > 0; n--)
		if ((s = strchr(s, '\n')) != NULL)
			s++;
	if (s == NULL)
		return NULL;
	e = strchr(s, '\n');
	return e != NULL ? strndup(s, (size_t)(e - s)) : strdup(s);
}

/* Signs GET target (header mode) and returns canonical request line n. */
static char *
creq_line(const char *target, unsigned flags, int n)
{
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err;
	char *l = NULL;

	init(&req, &p, &c, target, flags);
	if (sigv4_sign(&req, &p, &c, &r, &err) == 0)
		l = line_of(r.canonical_request, n);
	else
		printf("# sign %s: %s\n", target, err.msg);
	sigv4_result_free(&r);
	return l;
}

static void
is_query(const char *target, const char *want)
{
	char *got = creq_line(target, SIGV4_DEFAULT, 2);

	is_str(got, want, target);
	free(got);
}

static void
is_uri(const char *target, unsigned flags, const char *want,
    const char *name)
{
	char *got = creq_line(target, flags, 1);

	is_str(got, want, name);
	free(got);
}

static void
is_enc(const char *in, size_t len, int keep_slash, const char *want,
    const char *name)
{
	char *got = sigv4_uri_encode(in, len, keep_slash);

	is_str(got, want, name);
	free(got);
}

static void
test_uri_encode(void)
{
	is_enc("a b/c", 5, 1, "a%20b/c", "keep_slash keeps /");
	is_enc("a b/c", 5, 0, "a%20b%2Fc", "no keep_slash encodes /");
	is_enc("-_.~AZaz09", 10, 0, "-_.~AZaz09", "unreserved stay");
	is_enc("%41", 3, 0, "%2541", "% itself is encoded");
	is_enc("\xc3\xa9\xe6\x97\xa5", 5, 1, "%C3%A9%E6%97%A5",
	    "UTF-8 bytes, uppercase hex");
	is_enc("+=,;:@&()'$!*", 13, 1,
	    "%2B%3D%2C%3B%3A%40%26%28%29%27%24%21%2A", "sub-delims encoded");
	is_enc("a\0b", 3, 0, "a%00b", "length, not NUL, ends the input");
	is_enc("", 0, 0, "", "empty input");
}

static void
test_query(void)
{
	is_query("/?uploads", "uploads=");
	is_query("/?a&b=", "a=&b=");
	is_query("/?q=a b", "q=a%20b");
	is_query("/?q=a%20b", "q=a%20b");
	is_query("/?q=a+b", "q=a%2Bb");
	is_query("/?q=%2B", "q=%2B");
	is_query("/?t=~x&u=%7E", "t=~x&u=~");
	is_query("/?k=%2f%2F", "k=%2F%2F");
	is_query("/?p=%E1%88%B4", "p=%E1%88%B4");
	is_query("/?p=\xe1\x88\xb4", "p=%E1%88%B4");
	is_query("/?bad=%zz&end=%4", "bad=%25zz&end=%254");
	is_query("/?b=1&a=2&a=1", "a=1&a=2&b=1");
	is_query("/?a-b=1&a=2", "a=2&a-b=1");
	is_query("/?b=1&B=2", "B=2&b=1");
	is_query("/?%7E=1&%21=2", "%21=2&~=1");
	is_query("/?&a=1&&b=2&", "a=1&b=2");
	is_query("/?a=b=c", "a=b%3Dc");
	is_query("/?", "");
	is_query("/", "");
}

/* S3 signs the object path exactly as it goes on the wire. */
static void
test_s3_key(void)
{
	const char *key = "dir/a+b=c,d;e:f@g&h(i)j'k%l \xc3\xa9 "
	    "\xe6\x97\xa5\xe6\x9c\xac.csv";
	const char *want = "/bucket/dir/a%2Bb%3Dc%2Cd%3Be%3Af%40g%26h%28i"
	    "%29j%27k%25l%20%C3%A9%20%E6%97%A5%E6%9C%AC.csv";
	char *enc, path[256];

	enc = sigv4_uri_encode(key, strlen(key), 1);
	snprintf(path, sizeof(path), "/bucket/%s", enc ? enc : "");
	is_str(path, want, "S3 key encodes to the wire path");
	is_uri(path, SIGV4_S3, want, "S3: canonical URI is the wire path");
	is_uri("/b/a%2Bb", SIGV4_DEFAULT, "/b/a%252Bb",
	    "other services encode the wire path again");
	is_uri("/a/./b/../c//d/", SIGV4_S3, "/a/./b/../c//d/",
	    "S3: no normalisation");
	is_uri("/a/./b/../c//d/", SIGV4_DEFAULT, "/a/c/d/",
	    "default: . .. and // removed, trailing / kept");
	is_uri("/a/b/../..", SIGV4_DEFAULT, "/", "default: .. to the root");
	is_uri("/../a", SIGV4_DEFAULT, "/a", "default: .. above the root");
	is_uri("?x=1", SIGV4_S3, "/", "empty path signs as /");
	free(enc);
}

static void
test_headers(void)
{
	static const struct sigv4_header h[] = {
		{ "X-B", "" },
		{ "Host", "example.amazonaws.com" },
		{ "X-A", "  a   b\t\tc  " },
		{ "x-a", "\"q   r\"" },
		{ "X-A", "a" },
	};
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err;

	init(&req, &p, &c, "/", SIGV4_DEFAULT);
	req.headers = h;
	req.nheaders = 5;
	ok(sigv4_sign(&req, &p, &c, &r, &err) == 0, "sign with headers");
	is_str(r.canonical_request, "GET\n/\n\n"
	    "host:example.amazonaws.com\n"
	    "x-a:a b c,\"q r\",a\n"
	    "x-amz-date:20150830T123600Z\n"
	    "x-b:\n\n"
	    "host;x-a;x-amz-date;x-b\n" EMPTY_SHA256,
	    "lowercase, trimall, duplicates joined in order, sorted");
	is_str(r.signed_headers, "host;x-a;x-amz-date;x-b", "signed headers");
	sigv4_result_free(&r);
}

static int
presign_rc(long expires)
{
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err = { ERR_NONE, "" };
	int rc;

	init(&req, &p, &c, "/", SIGV4_DEFAULT);
	p.expires = expires;
	rc = sigv4_presign(&req, &p, &c, &r, &err);
	if (rc == -1 && err.kind != ERR_USAGE)
		rc = -2;
	sigv4_result_free(&r);
	return rc;
}

static void
test_expires(void)
{
	is_int(presign_rc(0), -1, "X-Amz-Expires 0 rejected");
	is_int(presign_rc(-5), -1, "negative X-Amz-Expires rejected");
	is_int(presign_rc(604801), -1, "X-Amz-Expires 604801 rejected");
	is_int(presign_rc(1), 0, "X-Amz-Expires 1 accepted");
	is_int(presign_rc(604800), 0, "X-Amz-Expires 604800 accepted");
}

static void
test_token_header(void)
{
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err;

	init(&req, &p, &c, "/", SIGV4_DEFAULT);
	c.token = "TOK/EN+=";
	ok(sigv4_sign(&req, &p, &c, &r, &err) == 0, "sign with a token");
	is_str(r.signed_headers, "host;x-amz-date;x-amz-security-token",
	    "signed token: in SignedHeaders");
	ok(strstr(r.canonical_request, "\nx-amz-security-token:TOK/EN+=\n")
	    != NULL, "signed token: in the canonical headers");
	is_int(r.nadd, 3, "signed token: three headers to add");
	is_str(r.add_headers[1].name, "X-Amz-Security-Token", "token second");
	is_str(r.add_headers[1].value, "TOK/EN+=", "token value as given");
	sigv4_result_free(&r);

	p.flags |= SIGV4_TOKEN_UNSIGNED;
	ok(sigv4_sign(&req, &p, &c, &r, &err) == 0, "token unsigned");
	is_str(r.signed_headers, "host;x-amz-date",
	    "unsigned token: not in SignedHeaders");
	ok(strstr(r.canonical_request, "token") == NULL,
	    "unsigned token: not in the canonical request");
	is_str(r.add_headers[1].name, "X-Amz-Security-Token",
	    "unsigned token: still sent");
	sigv4_result_free(&r);

	c.token = "";
	ok(sigv4_sign(&req, &p, &c, &r, &err) == 0, "empty token");
	is_int(r.nadd, 2, "empty token: no token header");
	sigv4_result_free(&r);
}

static void
test_token_query(void)
{
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err;
	char *q;

	init(&req, &p, &c, "/p?b=2&a=1", SIGV4_DEFAULT);
	c.token = "TOK/EN+=";
	ok(sigv4_presign(&req, &p, &c, &r, &err) == 0, "presign with token");
	q = line_of(r.canonical_request, 2);
	ok(q != NULL && strstr(q, "&X-Amz-Security-Token=TOK%2FEN%2B%3D&") !=
	    NULL, "signed token: in the canonical query, encoded");
	free(q);
	ok(strncmp(r.presigned_target, "/p?b=2&a=1&X-Amz-Algorithm=", 27) ==
	    0, "presigned target keeps the caller's query first");
	ok(strstr(r.presigned_target, "X-Amz-Security-Token=TOK%2FEN%2B%3D")
	    != NULL, "presigned target carries the token");
	is_int(r.nadd, 0, "query mode adds no headers");
	ok(r.authorization == NULL, "query mode: no Authorization");
	sigv4_result_free(&r);

	p.flags |= SIGV4_TOKEN_UNSIGNED;
	ok(sigv4_presign(&req, &p, &c, &r, &err) == 0, "unsigned token");
	ok(strstr(r.canonical_request, "Token") == NULL,
	    "unsigned token: not in the canonical query");
	ok(strstr(r.presigned_target, "X-Amz-Security-Token=TOK%2FEN%2B%3D")
	    != NULL, "unsigned token: added to the presigned target");
	sigv4_result_free(&r);
}

/* The S3 documentation's presigned URL example, signature as published. */
static void
test_s3_presign_example(void)
{
	static const struct sigv4_header h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" }
	};
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err;
	char *last;

	init(&req, &p, &c, "/test.txt", SIGV4_S3);
	req.headers = h;
	req.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	p.region = "us-east-1";
	p.service = "s3";
	p.when = 1369353600;	/* 20130524T000000Z */
	p.expires = 86400;
	c.access_key = "AKIAIOSFODNN7EXAMPLE";
	c.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
	ok(sigv4_presign(&req, &p, &c, &r, &err) == 0, "S3 doc presign");
	is_str(r.signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c26595"
	    "7d157751f604d404", "S3 doc presigned URL signature");
	last = line_of(r.canonical_request, 6);
	is_str(last, "UNSIGNED-PAYLOAD", "UNSIGNED-PAYLOAD ends the creq");
	free(last);
	sigv4_result_free(&r);
}

static void
test_payload(void)
{
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err;
	char *last;

	init(&req, &p, &c, "/", SIGV4_S3);
	req.body = "Welcome to Amazon S3.";
	req.body_len = 21;
	ok(sigv4_sign(&req, &p, &c, &r, &err) == 0, "sign with a body");
	last = line_of(r.canonical_request, 8);
	is_str(last, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b"
	    "803f8b072", "payload hash computed from the body");
	free(last);
	is_str(r.add_headers[1].name, "X-Amz-Content-SHA256",
	    "S3 sends x-amz-content-sha256");
	is_str(r.add_headers[2].name, "Authorization", "Authorization last");
	sigv4_result_free(&r);

	req.body = NULL;
	req.body_len = 0;
	req.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	ok(sigv4_sign(&req, &p, &c, &r, &err) == 0, "sign unsigned payload");
	is_str(r.add_headers[1].value, "UNSIGNED-PAYLOAD",
	    "x-amz-content-sha256: UNSIGNED-PAYLOAD");
	ok(strstr(r.canonical_request,
	    "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n") != NULL,
	    "and it is signed");
	sigv4_result_free(&r);

	req.payload_hash = NULL;
	ok(sigv4_sign(&req, &p, &c, &r, &err) == 0, "sign with no body");
	is_str(r.add_headers[1].value, EMPTY_SHA256, "no body: empty hash");
	sigv4_result_free(&r);
}

/* The X-Amz-Date header the signer adds at time when. */
static void
check_amz_date(time_t when, const char *want, const char *what)
{
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err;

	init(&req, &p, &c, "/", SIGV4_S3);
	p.when = when;
	ok(sigv4_sign(&req, &p, &c, &r, &err) == 0 &&
	    strcmp(r.add_headers[0].name, "X-Amz-Date") == 0, "%s: signed",
	    what);
	is_str(r.add_headers[0].value, want, what);
	sigv4_result_free(&r);
}

static void
test_hash_and_date(void)
{
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err;

	init(&req, &p, &c, "/", SIGV4_S3);
	req.body = "abc";
	req.body_len = 3;
	ok(sigv4_sign(&req, &p, &c, &r, &err) == 0, "sign abc");
	is_str(r.add_headers[1].value, "ba7816bf8f01cfea414140de5dae2223b00361"
	    "a396177a9cb410ff61f20015ad", "SHA-256 of abc (FIPS 180-2)");
	sigv4_result_free(&r);
	check_amz_date(0, "19700101T000000Z", "amz date of the epoch");
	check_amz_date(WHEN, "20150830T123600Z", "amz date of the suite's time");
	check_amz_date(951782400, "20000229T000000Z", "amz date of a leap day");
}

/* Signs and returns the error kind (ERR_NONE on success). */
static int
sign_err(const struct sigv4_header *h, size_t nh, const char *target,
    int presign, const char *name)
{
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err = { ERR_NONE, "" };
	int rc;

	init(&req, &p, &c, target, SIGV4_DEFAULT);
	req.headers = h;
	req.nheaders = nh;
	rc = presign ? sigv4_presign(&req, &p, &c, &r, &err) :
	    sigv4_sign(&req, &p, &c, &r, &err);
	if (rc == 0)
		ok(r.canonical_request != NULL, "%s: result filled", name);
	else
		ok(r.canonical_request == NULL && r.nadd == 0 &&
		    err.msg[0] != '\0', "%s: result empty, message set (%s)",
		    name, err.msg);
	sigv4_result_free(&r);
	return rc == 0 ? ERR_NONE : (int)err.kind;
}

static const struct sigv4_header nohost[] = { { "X-A", "1" } };
static const struct sigv4_header crlf[] = {
	{ "Host", "h" }, { "X-A", "1\r\nX-B: 2" } };
static const struct sigv4_header authz[] = {
	{ "Host", "h" }, { "authorization", "x" } };
static const struct sigv4_header date[] = {
	{ "Host", "h" }, { "X-Amz-Date", "x" } };
static const struct sigv4_header badname[] = {
	{ "Host", "h" }, { "X A", "x" } };

static void
test_rejects(void)
{
	static const struct {
		const struct sigv4_header *h;
		size_t nh;
		const char *target;
		int presign;
		int kind;
		const char *name;
	} t[] = {
		{ nohost, 1, "/", 0, ERR_USAGE, "no Host" },
		{ crlf, 2, "/", 0, ERR_USAGE, "CR LF in a value" },
		{ authz, 2, "/", 0, ERR_USAGE, "caller's Authorization" },
		{ date, 2, "/", 0, ERR_USAGE, "caller's X-Amz-Date" },
		{ date, 2, "/", 1, ERR_NONE,
		    "caller's X-Amz-Date header is fine when presigning" },
		{ badname, 2, "/", 0, ERR_USAGE, "space in a header name" },
		{ host_only, 1, "/?X-Amz-Signature=1", 1, ERR_USAGE,
		    "presigning a query that has X-Amz-Signature" },
		{ host_only, 1, "/a\nb", 0, ERR_USAGE, "newline in target" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(sign_err(t[i].h, t[i].nh, t[i].target, t[i].presign,
		    t[i].name), t[i].kind, t[i].name);
}

static void
test_result_free(void)
{
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r, zero;
	struct errbuf err;

	memset(&zero, 0, sizeof(zero));
	memset(&r, 0, sizeof(r));
	sigv4_result_free(&r);
	ok(r.canonical_request == NULL && r.nadd == 0,
	    "result_free on a zeroed struct");
	/*
	 * A second free is safe only because the first leaves every pointer
	 * NULL: a filled result (token: all three added headers) must come
	 * back all zero, twice. NULL must return (a crash fails the test).
	 */
	init(&req, &p, &c, "/", SIGV4_DEFAULT);
	c.token = "TOKEN";
	ok(sigv4_sign(&req, &p, &c, &r, &err) == 0 && r.nadd == 3,
	    "result_free: a filled result to free");
	sigv4_result_free(&r);
	ok(memcmp(&r, &zero, sizeof(r)) == 0,
	    "result_free empties the result, every pointer NULL");
	sigv4_result_free(&r);
	ok(memcmp(&r, &zero, sizeof(r)) == 0, "result_free twice");
	sigv4_result_free(NULL);
}

int
main(void)
{
	test_uri_encode();
	test_query();
	test_s3_key();
	test_headers();
	test_expires();
	test_token_header();
	test_token_query();
	test_s3_presign_example();
	test_payload();
	test_hash_and_date();
	test_rejects();
	test_result_free();
	return tap_done();
}
