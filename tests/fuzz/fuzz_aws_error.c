/*
 * fuzz_aws_error: aws_error_parse on whatever a server or a proxy in
 * between sends back: JSON, XML, HTML or garbage, with or without the
 * request-id and error-type headers.
 *
 * Input: a status byte, a header byte, then the body. When the header
 * byte asks for headers, their values come first, each ended by a NUL
 * (header values never hold one), and the body is the rest.
 * The code, message and request id go into error messages of one line,
 * so each must be NUL-terminated within its array, free of control
 * bytes, and the code never empty for a status outside 2xx.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aws.h"
#include "fuzz.h"

const char fuzz_name[] = "aws_error";

static const long statuses[] = {
	400, 403, 404, 429, 500, 503, 200, 204, 301, 0, 100, 599, 999, -1
};

static const char *const content_types[] = {
	"application/x-amz-json-1.1", "application/xml", "text/html",
	"application/json"
};

/* The next NUL-ended header value, or NULL when none is left. */
static char *
take_value(const uint8_t **p, size_t *n)
{
	const uint8_t *nul = memchr(*p, '\0', *n);
	char *v;

	if (nul == NULL)
		return NULL;
	v = fuzz_memdup(*p, (size_t)(nul - *p) + 1);
	*n -= (size_t)(nul - *p) + 1;
	*p = nul + 1;
	return v;
}

static void
check(const struct aws_error *e, long status)
{
	FUZZ_CHECK(fuzz_is_one_line(e->code, sizeof(e->code)),
	    "code is not one terminated line");
	FUZZ_CHECK(fuzz_is_one_line(e->message, sizeof(e->message)),
	    "message is not one terminated line");
	FUZZ_CHECK(fuzz_is_one_line(e->request_id, sizeof(e->request_id)),
	    "request id is not one terminated line");
	FUZZ_CHECK((status >= 200 && status < 300) || e->code[0] != '\0',
	    "empty code for HTTP %ld", status);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[3] = { "x-amzn-RequestId",
	    "x-amz-request-id", "x-amzn-ErrorType" };
	char *hnames[4], *hvalues[4], *v;
	struct http_response r;
	struct aws_error e;
	size_t i, nh = 0;
	unsigned which;

	if (size < 2)
		return 0;
	memset(&r, 0, sizeof(r));
	r.status = statuses[data[0] % (sizeof(statuses) / sizeof(*statuses))];
	which = data[1];
	data += 2;
	size -= 2;
	hnames[nh] = (char *)(uintptr_t)"Content-Type";
	hvalues[nh++] = fuzz_memdup(content_types[(which >> 4) & 3],
	    strlen(content_types[(which >> 4) & 3]) + 1);
	for (i = 0; i < 3; i++) {
		if (!(which & (1u << i)) || (v = take_value(&data, &size)) ==
		    NULL)
			continue;
		hnames[nh] = (char *)(uintptr_t)names[i];
		hvalues[nh++] = v;
	}
	r.header_names = hnames;
	r.header_values = hvalues;
	r.nheaders = nh;
	/* as http.c delivers it: a buf, NUL-terminated after len bytes */
	if (buf_append(&r.body, data, size) == -1)
		return 0;
	memset(&e, 0x55, sizeof(e));
	aws_error_parse(&r, &e);
	check(&e, r.status);
	buf_free(&r.body);
	for (i = 0; i < nh; i++)
		free(hvalues[i]);
	return 0;
}
