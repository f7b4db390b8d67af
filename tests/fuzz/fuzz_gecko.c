/*
 * fuzz_gecko: the CoinGecko response readers: gecko_scan_prices on a
 * /simple/price body and gecko_error_from_body on an error body, whatever
 * the API, its CDN or a captive portal sends.
 *
 * Input: one byte picks the HTTP status for the error reader; the rest is
 * the body, with no NUL after it. Properties: every value span the
 * scanner hands out lies inside the body and is one JSON value by
 * jansson, ids and keys are valid UTF-8 (they are decoded), a body the
 * scanner accepts jansson accepts too (see not_compared for the
 * exceptions), and the error message is one printable line.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "fuzz.h"
#include "gecko.h"
#include "ndjson.h"

const char fuzz_name[] = "gecko";

struct body {
	const char *p;
	size_t n;
};

static void
inside(const struct body *b, struct gecko_span s, const char *what)
{
	FUZZ_CHECK(s.p >= b->p && s.n <= b->n &&
	    (size_t)(s.p - b->p) <= b->n - s.n, "%s span outside the body",
	    what);
}

/*
 * Refusals of jansson's that are not compared: numbers beyond its range
 * (the scanner keeps the digits, on purpose). Since the scanner is
 * built on ndjson, its strings follow jansson's rules (ndjson.h).
 */
static int
not_compared(const json_error_t *e)
{
	return strstr(e->text, "too big") != NULL ||
	    strstr(e->text, "real number overflow") != NULL;
}

static int
member(void *arg, struct gecko_span id, struct gecko_span key,
    struct gecko_span value)
{
	const struct body *b = arg;
	json_error_t e;
	json_t *j;

	FUZZ_CHECK(ndjson_utf8_prefix(id.p, id.n) == id.n, "id not UTF-8");
	FUZZ_CHECK(ndjson_utf8_prefix(key.p, key.n) == key.n,
	    "key not UTF-8");
	inside(b, value, "value");
	j = json_loadb(value.p, value.n, JSON_DECODE_ANY, &e);
	FUZZ_CHECK(j != NULL || not_compared(&e),
	    "value is not one JSON value: %s", e.text);
	json_decref(j);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = { 400, 401, 404, 429, 500, 503, 403,
	    200 };
	struct errbuf err;
	struct body b;
	json_error_t e;
	json_t *j;
	char *s;

	if (size < 1)
		return 0;
	s = fuzz_memdup(data + 1, size - 1);
	b.p = s;
	b.n = size - 1;
	if (gecko_scan_prices(s, b.n, member, &b, &err) == 0) {
		j = json_loadb(s, b.n, 0, &e);
		FUZZ_CHECK(j != NULL || not_compared(&e),
		    "scanner accepts what jansson refuses: %s", e.text);
		json_decref(j);
	} else {
		FUZZ_CHECK(fuzz_is_one_line(err.msg, sizeof(err.msg)),
		    "scan error is not one line");
	}
	memset(&err, 0, sizeof(err));
	gecko_error_from_body(statuses[data[0] & 7], s, b.n,
	    (enum gecko_plan)((data[0] >> 3) % 3), &err);
	FUZZ_CHECK(err.kind == ERR_CONFIG || err.kind == ERR_TEMP,
	    "error kind %d", err.kind);
	FUZZ_CHECK(err.msg[0] != '\0' && fuzz_is_one_line(err.msg,
	    sizeof(err.msg)), "error message is not one printable line");
	free(s);
	return 0;
}
