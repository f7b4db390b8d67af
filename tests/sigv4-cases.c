/*
 * sigv4-cases: runs lib/sigv4 over SigV4 test cases in the format of
 * tests/fixtures/sigv4/README.md and compares every stage byte for byte.
 *
 *	sigv4-cases CASE_DIR...
 *
 * One TAP line per case, with "#" lines naming the stage that differed and
 * showing got and want. Exits 1 when a case fails or cannot be read, 2 on a
 * usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sigv4.h"

#define MAX_HEADERS 64

struct kv {
	char *key;
	char *value;
};

/* One case: its context, the parsed request.txt and where it lives. */
struct tcase {
	const char *dir;
	struct kv *ctx;
	size_t nctx;
	char *raw;		/* request.txt; method/target point into it */
	size_t rawlen;
	char *method;
	char *target;
	struct sigv4_header hdrs[MAX_HEADERS];
	size_t nhdrs;
	const char *body;
	size_t body_len;
	char why[512];		/* why the case could not be read */
};

static int
read_file(const char *dir, const char *name, char **data, size_t *len)
{
	char path[4096];
	FILE *f = NULL;
	char *p = NULL;
	long n;
	int rc = -1;

	*data = NULL;
	*len = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "rb")) == NULL || fseek(f, 0, SEEK_END) != 0 ||
	    (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
		goto out;
	if ((p = malloc((size_t)n + 1)) == NULL ||
	    fread(p, 1, (size_t)n, f) != (size_t)n)
		goto out;
	p[n] = '\0';
	*data = p;
	*len = (size_t)n;
	p = NULL;
	rc = 0;
out:
	free(p);
	if (f != NULL)
		fclose(f);
	return rc;
}

static void
case_free(struct tcase *tc)
{
	size_t i;

	for (i = 0; i < tc->nctx; i++) {
		free(tc->ctx[i].key);
		free(tc->ctx[i].value);
	}
	free(tc->ctx);
	for (i = 0; i < tc->nhdrs; i++) {
		free((char *)(size_t)tc->hdrs[i].name);
		free((char *)(size_t)tc->hdrs[i].value);
	}
	free(tc->raw);
}

static const char *
ctx_get(const struct tcase *tc, const char *key)
{
	size_t i;

	for (i = tc->nctx; i > 0; i--)
		if (strcmp(tc->ctx[i - 1].key, key) == 0)
			return tc->ctx[i - 1].value;
	return NULL;
}

static int
ctx_add(struct tcase *tc, const char *line, const char *eq)
{
	struct kv *v;

	if ((v = realloc(tc->ctx, (tc->nctx + 1) * sizeof(*v))) == NULL)
		return -1;
	tc->ctx = v;
	v = &tc->ctx[tc->nctx];
	v->key = strndup(line, (size_t)(eq - line));
	v->value = strdup(eq + 1);
	if (v->key == NULL || v->value == NULL) {
		free(v->key);
		free(v->value);
		return -1;
	}
	tc->nctx++;
	return 0;
}

/* context: key=value lines, value never trimmed, '#' lines skipped. */
static int
read_context(struct tcase *tc)
{
	char path[4096], *line = NULL, *eq;
	size_t cap = 0;
	ssize_t n;
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/context", tc->dir);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(tc->why, sizeof(tc->why), "%s/context: %s", tc->dir,
		    strerror(errno));
		return -1;
	}
	while (rc == 0 && (n = getline(&line, &cap, f)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (line[0] == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		if ((rc = ctx_add(tc, line, eq)) == -1)
			snprintf(tc->why, sizeof(tc->why), "out of memory");
	}
	free(line);
	fclose(f);
	return rc;
}

/* A line starting with SP or HTAB continues the previous one (obs-fold). */
static int
fold_header(struct tcase *tc, const char *line)
{
	char *v, *old;

	if (tc->nhdrs == 0)
		return -1;
	line += strspn(line, " \t");
	old = (char *)(size_t)tc->hdrs[tc->nhdrs - 1].value;
	if ((v = malloc(strlen(old) + strlen(line) + 2)) == NULL)
		return -1;
	sprintf(v, "%s %s", old, line);
	free(old);
	tc->hdrs[tc->nhdrs - 1].value = v;
	return 0;
}

static int
add_header(struct tcase *tc, const char *line)
{
	const char *colon = strchr(line, ':');
	char *name, *value;

	if (*line == ' ' || *line == '\t')
		return fold_header(tc, line);
	if (colon == NULL || tc->nhdrs == MAX_HEADERS)
		return -1;
	name = strndup(line, (size_t)(colon - line));
	value = strdup(colon + 1);
	if (name == NULL || value == NULL) {
		free(name);
		free(value);
		return -1;
	}
	tc->hdrs[tc->nhdrs].name = name;
	tc->hdrs[tc->nhdrs++].value = value;
	return 0;
}

/*
 * request.txt: request line, header lines, an empty line, the body. The
 * target runs from the first to the last space of the request line.
 */
static int
parse_request(struct tcase *tc)
{
	char *end, *line, *hdrs, *nl, *sp1, *sp2;

	if ((end = strstr(tc->raw, "\n\n")) == NULL)
		return -1;
	*end = '\0';
	tc->body = end + 2;
	tc->body_len = tc->rawlen - (size_t)(end + 2 - tc->raw);
	hdrs = end;
	if ((nl = strchr(tc->raw, '\n')) != NULL) {
		*nl = '\0';
		hdrs = nl + 1;
	}
	sp1 = strchr(tc->raw, ' ');
	sp2 = strrchr(tc->raw, ' ');
	if (sp1 == NULL || sp2 == sp1)
		return -1;
	*sp1 = *sp2 = '\0';
	tc->method = tc->raw;
	tc->target = sp1 + 1;
	for (line = hdrs; line < end; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = end;
		*nl = '\0';
		if (add_header(tc, line) == -1)
			return -1;
	}
	return 0;
}

static int
load_case(struct tcase *tc)
{
	if (read_context(tc) == -1)
		return -1;
	if (read_file(tc->dir, "request.txt", &tc->raw, &tc->rawlen) == -1) {
		snprintf(tc->why, sizeof(tc->why), "%s/request.txt: %s",
		    tc->dir, strerror(errno));
		return -1;
	}
	if (parse_request(tc) == -1) {
		snprintf(tc->why, sizeof(tc->why),
		    "%s/request.txt: malformed request", tc->dir);
		return -1;
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (no timegm in C11). */
static long
days_from_civil(long y, long m, long d)
{
	long era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

/* "YYYYMMDDTHHMMSSZ" to seconds since the epoch, UTC. */
static int
parse_timestamp(const char *s, time_t *when)
{
	long v[6];
	static const int off[6] = { 0, 4, 6, 9, 11, 13 };
	static const int width[6] = { 4, 2, 2, 2, 2, 2 };
	int i, j;

	if (s == NULL || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
		return -1;
	for (i = 0; i < 6; i++) {
		v[i] = 0;
		for (j = 0; j < width[i]; j++) {
			char c = s[off[i] + j];
			if (c < '0' || c > '9')
				return -1;
			v[i] = v[i] * 10 + (c - '0');
		}
	}
	*when = (time_t)(days_from_civil(v[0], v[1], v[2]) * 86400L +
	    v[3] * 3600 + v[4] * 60 + v[5]);
	return 0;
}

static int
flag_set(const struct tcase *tc, const char *key, int dflt)
{
	const char *v = ctx_get(tc, key);

	return v == NULL ? dflt : strcmp(v, "1") == 0;
}

/* Maps the context keys to the signer's parameters. */
static int
setup(const struct tcase *tc, struct sigv4_request *req,
    struct sigv4_params *p, struct sigv4_credentials *c, char *why,
    size_t whylen)
{
	const char *mode = ctx_get(tc, "token_mode");
	const char *payload = ctx_get(tc, "payload");
	const char *exp = ctx_get(tc, "expires");
	int s3 = flag_set(tc, "s3_mode", 0);
	char *end;

	memset(req, 0, sizeof(*req));
	memset(p, 0, sizeof(*p));
	c->access_key = ctx_get(tc, "access_key");
	c->secret_key = ctx_get(tc, "secret_key");
	c->token = mode != NULL && strcmp(mode, "none") != 0 ?
	    ctx_get(tc, "token") : NULL;
	p->region = ctx_get(tc, "region");
	p->service = ctx_get(tc, "service");
	if (flag_set(tc, "normalize_path", !s3))
		p->flags |= SIGV4_NORMALIZE_PATH;
	if (flag_set(tc, "double_encode", !s3))
		p->flags |= SIGV4_DOUBLE_ENCODE;
	if (flag_set(tc, "add_content_sha256", s3))
		p->flags |= SIGV4_ADD_CONTENT_SHA256;
	if (mode != NULL && strcmp(mode, "unsigned") == 0)
		p->flags |= SIGV4_TOKEN_UNSIGNED;
	if (exp != NULL)
		p->expires = strtol(exp, &end, 10);
	req->method = tc->method;
	req->target = tc->target;
	req->headers = tc->hdrs;
	req->nheaders = tc->nhdrs;
	req->body = tc->body;
	req->body_len = tc->body_len;
	if (payload != NULL && strcmp(payload, "unsigned") == 0)
		req->payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	if (parse_timestamp(ctx_get(tc, "timestamp"), &p->when) == -1 ||
	    c->access_key == NULL || c->secret_key == NULL ||
	    p->region == NULL || p->service == NULL ||
	    (exp != NULL && (*exp == '\0' || *end != '\0'))) {
		snprintf(why, whylen, "%s/context: missing or bad key",
		    tc->dir);
		return -1;
	}
	return 0;
}

/* Prints one value as "#" lines, a line of the value per line. */
static void
diag_value(FILE *d, const char *label, const char *s, size_t n)
{
	size_t i;
	int bol = 1;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (bol)
			fprintf(d, "#   %s | ", label);
		bol = ch == '\n';
		if (ch == '\n')
			putc('\n', d);
		else if (ch < 0x20 || ch == 0x7f)
			fprintf(d, "\\x%02x", ch);
		else
			putc(ch, d);
	}
	if (n == 0)
		fprintf(d, "#   %s | (empty)", label);
	putc('\n', d);
}

/* Compares one stage with its expected file; 0 when equal. */
static int
check_stage(FILE *d, const char *dir, const char *stage, const char *file,
    const char *got)
{
	char *want = NULL;
	size_t wn, gn = got != NULL ? strlen(got) : 0, i, line = 1;
	int rc = 0;

	if (read_file(dir, file, &want, &wn) == -1) {
		fprintf(d, "# %s: cannot read %s/%s: %s\n", stage, dir, file,
		    strerror(errno));
		return 1;
	}
	if (got == NULL || gn != wn || memcmp(got, want, wn) != 0) {
		for (i = 0; got != NULL && i < gn && i < wn &&
		    got[i] == want[i]; i++)
			line += got[i] == '\n';
		fprintf(d, "# %s differs from %s (line %zu, byte %zu)\n",
		    stage, file, line, i);
		diag_value(d, "got ", got != NULL ? got : "", gn);
		diag_value(d, "want", want, wn);
		rc = 1;
	}
	free(want);
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Splits the query of a target at '&' into sorted pieces (in place). */
static size_t
split_query(char *target, char **v, size_t max)
{
	char *q = strchr(target, '?'), *tok, *save = NULL;
	size_t n = 0;

	if (q == NULL)
		return 0;
	*q++ = '\0';
	for (tok = strtok_r(q, "&", &save); tok != NULL && n < max;
	    tok = strtok_r(NULL, "&", &save))
		v[n++] = tok;
	qsort(v, n, sizeof(*v), cmp_str);
	return n;
}

/*
 * Query mode: the presigned target carries the signature, has the path of
 * presigned-target.txt and the same parameters (order is the reference's).
 */
static int
check_presigned(FILE *d, const char *dir, const struct sigv4_result *r)
{
	char *want = NULL, *got = NULL, *gv[64], *wv[64], needle[128];
	size_t wn, gn, nw, ng, i;
	int bad = 0;

	snprintf(needle, sizeof(needle), "X-Amz-Signature=%s", r->signature);
	if (r->presigned_target == NULL ||
	    strstr(r->presigned_target, needle) == NULL) {
		fprintf(d, "# presigned target lacks %s\n", needle);
		bad = 1;
	}
	if (r->presigned_target == NULL ||
	    read_file(dir, "presigned-target.txt", &want, &wn) == -1) {
		fprintf(d, "# cannot read %s/presigned-target.txt\n", dir);
		return 1;
	}
	if ((got = strdup(r->presigned_target)) == NULL)
		abort();
	gn = strlen(got);
	ng = split_query(got, gv, 64);
	nw = split_query(want, wv, 64);
	bad |= strcmp(got, want) != 0 || ng != nw;
	for (i = 0; !bad && i < ng; i++)
		bad |= strcmp(gv[i], wv[i]) != 0;
	free(got);
	free(want);
	if (bad) {
		fprintf(d, "# presigned target differs from "
		    "presigned-target.txt (path or parameter set)\n");
		diag_value(d, "got ", r->presigned_target, gn);
		if (read_file(dir, "presigned-target.txt", &want, &wn) == 0)
			diag_value(d, "want", want, wn);
		free(want);
	}
	return bad;
}

/* Header mode: the headers to send end with the Authorization header. */
static int
check_add_headers(FILE *d, const struct tcase *tc,
    const struct sigv4_result *r)
{
	const char *mode = ctx_get(tc, "token_mode");
	size_t want = 2 + (mode != NULL && strcmp(mode, "none") != 0) +
	    flag_set(tc, "add_content_sha256", flag_set(tc, "s3_mode", 0));

	if (r->nadd == want && strcmp(r->add_headers[0].name,
	    "X-Amz-Date") == 0 && strcmp(r->add_headers[r->nadd - 1].name,
	    "Authorization") == 0 && r->authorization != NULL &&
	    strcmp(r->add_headers[r->nadd - 1].value, r->authorization) == 0)
		return 0;
	fprintf(d, "# headers to add: got %zu, want %zu (X-Amz-Date first, "
	    "Authorization last)\n", r->nadd, want);
	return 1;
}

/* Signs one case and compares every stage; 0 when all match. */
static int
sign_and_check(FILE *d, const struct tcase *tc)
{
	struct sigv4_request req;
	struct sigv4_params p;
	struct sigv4_credentials c;
	struct sigv4_result r;
	struct errbuf err = { ERR_NONE, "" };
	const char *signing = ctx_get(tc, "signing");
	int query = signing != NULL && strcmp(signing, "query") == 0;
	int bad = 0;

	memset(&r, 0, sizeof(r));
	if (setup(tc, &req, &p, &c, err.msg, sizeof(err.msg)) == -1 ||
	    (query ? sigv4_presign(&req, &p, &c, &r, &err) :
	    sigv4_sign(&req, &p, &c, &r, &err)) == -1) {
		fprintf(d, "# signing failed: %s\n", err.msg);
		return 1;
	}
	bad |= check_stage(d, tc->dir, "canonical request", "creq.txt",
	    r.canonical_request);
	bad |= check_stage(d, tc->dir, "string to sign", "sts.txt",
	    r.string_to_sign);
	bad |= check_stage(d, tc->dir, "signature", "signature.txt",
	    r.signature);
	if (query)
		bad |= check_presigned(d, tc->dir, &r);
	else {
		bad |= check_stage(d, tc->dir, "Authorization", "authz.txt",
		    r.authorization);
		bad |= check_add_headers(d, tc, &r);
	}
	sigv4_result_free(&r);
	return bad;
}

/*
 * Runs case number n. TAP wants the diagnostics after the test line, so
 * they are collected in memory first.
 */
static int
run_case(const char *dir, int n)
{
	struct tcase tc;
	char *diag = NULL;
	size_t diaglen = 0;
	FILE *d;
	int bad;

	memset(&tc, 0, sizeof(tc));
	tc.dir = dir;
	if ((d = open_memstream(&diag, &diaglen)) == NULL) {
		perror("sigv4-cases: open_memstream");
		exit(1);
	}
	if (load_case(&tc) == -1) {
		fprintf(d, "# cannot read case: %s\n", tc.why);
		bad = 1;
	} else
		bad = sign_and_check(d, &tc);
	fclose(d);
	printf("%sok %d - %s\n%s", bad ? "not " : "", n, dir, diag);
	fflush(stdout);
	free(diag);
	case_free(&tc);
	return bad;
}

int
main(int argc, char *argv[])
{
	int i, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: sigv4-cases CASE_DIR...\n");
		return 2;
	}
	for (i = 1; i < argc; i++)
		failed += run_case(argv[i], i);
	printf("1..%d\n", argc - 1);
	printf("# %d passed, %d failed\n", argc - 1 - failed, failed);
	return failed != 0;
}
