/*
 * fuzz_s3_xml: the S3 XML readers, xml_text and s3_list_uploads_parse,
 * on arbitrary bytes handed over with no NUL after them (an S3-compatible
 * server or a proxy chooses them). Properties: no read outside the input;
 * every listed upload has a key and an upload id; and escaping is undone
 * exactly: xml_text("<T>" + s3_xml_escape(x) + "</T>", "T") == x.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fuzz.h"
#include "s3.h"
#include "xml.h"

const char fuzz_name[] = "s3_xml";

static const char *const tags[] = {
	"Key", "UploadId", "ETag", "Code", "Message", "Upload", "Bucket",
	"NextKeyMarker"
};
#define NTAGS (sizeof(tags) / sizeof(tags[0]))

static void
text(const char *xml, size_t len, const char *tag)
{
	char *t = xml_text(xml, len, tag);

	/* decoding never lengthens: a bound that catches runaway copies */
	FUZZ_CHECK(t == NULL || strlen(t) <= len, "text longer than input");
	free(t);
}

static void
uploads(const char *xml, size_t len)
{
	struct s3_upload *u;
	struct errbuf err;
	size_t n, i;

	if (s3_list_uploads_parse(xml, len, &u, &n, &err) == -1) {
		FUZZ_CHECK(u == NULL && n == 0, "failed parse left uploads");
		return;
	}
	for (i = 0; i < n; i++)
		FUZZ_CHECK(u[i].key != NULL && u[i].upload_id != NULL,
		    "upload %zu lacks a key or id", i);
	s3_uploads_free(u, n);
}

/* The input up to its first NUL, escaped, wrapped in a tag, read back. */
static void
round_trip(const uint8_t *data, size_t size, const char *tag)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t n = nul != NULL ? (size_t)(nul - data) : size;
	char *x = fuzz_alloc(n + 1), *got, *doc;
	struct buf b = BUF_INIT;

	if (n > 0)
		memcpy(x, data, n);
	if (buf_printf(&b, "<%s>", tag) == -1 || s3_xml_escape(&b, x) == -1 ||
	    buf_printf(&b, "</%s>", tag) == -1)
		fuzz_fail("out of memory");
	doc = fuzz_memdup(b.data, b.len);
	got = xml_text(doc, b.len, tag);
	FUZZ_CHECK(got != NULL && strcmp(got, x) == 0,
	    "escape then xml_text changed the text");
	free(got);
	free(doc);
	free(x);
	buf_free(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *tag;
	char *xml;

	if (size < 1)
		return 0;
	tag = tags[data[0] % NTAGS];
	xml = fuzz_memdup(data + 1, size - 1);
	text(xml, size - 1, tag);
	uploads(xml, size - 1);
	round_trip(data + 1, size - 1, tag);
	free(xml);
	return 0;
}
