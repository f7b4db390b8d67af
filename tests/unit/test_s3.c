#include <stdlib.h>

#include "s3.h"
#include "tap.h"
#include "xml.h"

static void
test_url_parse(void)
{
	char *b, *p;
	struct errbuf e;

	ok(s3_url_parse("s3://bucket/raw/csv/", &b, &p, &e) == 0 &&
	    strcmp(b, "bucket") == 0 && strcmp(p, "raw/csv/") == 0,
	    "bucket and prefix");
	free(b);
	free(p);
	b = p = NULL;
	ok(s3_url_parse("s3://bucket", &b, &p, &e) == 0 && strcmp(p, "") == 0,
	    "no prefix");
	free(b);
	free(p);
	ok(s3_url_parse("http://bucket/x", &b, &p, &e) == -1 &&
	    e.kind == ERR_USAGE, "not s3://");
	ok(s3_url_parse("s3:///x", &b, &p, &e) == -1, "empty bucket");
}

static void
test_virtual_hostable(void)
{
	static const struct {
		const char *name;
		int want;
	} cases[] = {
		{ "my-bucket", 1 }, { "abc", 1 }, { "0-9", 1 },
		{ "ab", 0 }, { "a.b.c", 0 }, { "My-Bucket", 0 },
		{ "my_bucket", 0 }, { "-abc", 0 }, { "abc-", 0 },
		{ "a234567890123456789012345678901234567890123456789012345678901"
		  "23", 1 },
		{ "a234567890123456789012345678901234567890123456789012345678901"
		  "234", 0 },
		{ "", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		is_int(s3_bucket_virtual_hostable(cases[i].name), cases[i].want,
		    cases[i].name);
}

static void
test_object_url(void)
{
	char *u, *h;
	struct errbuf e;

	s3_object_url("http://127.0.0.1:4566", "b", "raw/a b+c=é.csv", 1,
	    &u, &h, &e);
	is_str(u, "http://127.0.0.1:4566/b/raw/a%20b%2Bc%3D%C3%A9.csv",
	    "path style: bucket in path, key encoded once, / kept");
	is_str(h, "127.0.0.1:4566", "path style host");
	free(u);
	free(h);
	s3_object_url("https://s3.eu-west-1.amazonaws.com", "my-bucket",
	    "x/y%z", 0, &u, &h, &e);
	is_str(u, "https://my-bucket.s3.eu-west-1.amazonaws.com/x/y%25z",
	    "virtual-hosted: bucket in host");
	is_str(h, "my-bucket.s3.eu-west-1.amazonaws.com", "virtual host");
	free(u);
	free(h);
	s3_object_url("https://s3.us-east-1.amazonaws.com", "logs.example.com",
	    "k", 0, &u, &h, &e);
	is_str(u, "https://s3.us-east-1.amazonaws.com/logs.example.com/k",
	    "a dotted bucket on AWS: path style, the TLS name stays s3's");
	is_str(h, "s3.us-east-1.amazonaws.com", "dotted bucket: s3's host");
	free(u);
	free(h);
	s3_object_url("https://s3.amazonaws.com", "Old_Bucket", NULL, 0, &u,
	    &h, &e);
	is_str(u, "https://s3.amazonaws.com/Old_Bucket/",
	    "capitals and underscores: path style");
	free(u);
	free(h);
	s3_object_url("http://minio:9000/base", "b", NULL, 1, &u, &h, &e);
	is_str(u, "http://minio:9000/base/b/", "bucket URL under a base path");
	free(u);
	free(h);
	ok(s3_object_url("minio:9000", "b", "k", 1, &u, &h, &e) == -1 &&
	    e.kind == ERR_CONFIG, "endpoint without scheme refused");
}

static void
test_part_size(void)
{
	is_int(s3_part_size(8ULL << 20, 64ULL << 20), 8ULL << 20, "default 8 MiB");
	is_int(s3_part_size(1, 1), S3_MIN_PART_SIZE, "at least 5 MiB");
	is_int(s3_part_size(8ULL << 20, 1ULL << 40), 105ULL << 20,
	    "1 TiB fits in 10,000 parts (rounded up to whole MiB)");
	ok(s3_part_size(8ULL << 20, 1ULL << 40) * S3_MAX_PARTS >= 1ULL << 40,
	    "and really fits");
	is_int(s3_part_size(8ULL << 30, 0), S3_MAX_PART_SIZE, "at most 5 GiB");
}

static void
test_xml(void)
{
	static const char init[] = "<?xml version=\"1.0\"?><Initiate"
	    "MultipartUploadResult><Bucket>b</Bucket><Key>a&amp;b&#39;c</Key>"
	    "<UploadId>VXBsb2Fk</UploadId></InitiateMultipartUploadResult>";
	static const char list[] = "<ListMultipartUploadsResult><Upload>"
	    "<Key>k1</Key><UploadId>u1</UploadId></Upload><Upload><Key>k&lt;2"
	    "</Key><UploadId>u2</UploadId><Initiated>2015-08-30T12:36:00.000Z"
	    "</Initiated></Upload></ListMultipartUploadsResult>";
	char *const etags[] = { "\"e1\"", "\"e2\"" };
	struct s3_upload *u;
	struct buf b = BUF_INIT;
	struct errbuf e;
	char *t, md5[25];
	size_t n;

	t = xml_text(init, strlen(init), "UploadId");
	is_str(t, "VXBsb2Fk", "UploadId");
	free(t);
	t = xml_text(init, strlen(init), "Key");
	is_str(t, "a&b'c", "entities decoded");
	free(t);
	ok(xml_text(init, strlen(init), "ETag") == NULL, "absent tag");
	ok(s3_list_uploads_parse(list, strlen(list), &u, &n, &e) == 0 && n == 2,
	    "two uploads listed");
	is_str(u[1].key, "k<2", "second key decoded");
	is_str(u[1].upload_id, "u2", "second id");
	is_int(u[1].initiated, 1440938160, "Initiated read as UTC");
	is_int(u[0].initiated, 0, "no Initiated: 0");
	s3_uploads_free(u, n);
	ok(s3_list_uploads_parse("<L></L>", 7, &u, &n, &e) == 0 && n == 0,
	    "no uploads");
	s3_uploads_free(u, n);
	s3_complete_body(&b, etags, 2);
	is_str(b.data, "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws"
	    ".com/doc/2006-03-01/\"><Part><PartNumber>1</PartNumber><ETag>&quot;"
	    "e1&quot;</ETag></Part><Part><PartNumber>2</PartNumber><ETag>&quot;"
	    "e2&quot;</ETag></Part></CompleteMultipartUpload>", "complete body");
	buf_free(&b);
	/* python3 -c 'import base64,hashlib;print(base64.b64encode(
	 * hashlib.md5(b"hello").digest()))' */
	s3_content_md5("hello", 5, md5);
	is_str(md5, "XUFAKrxLKna5cZ2REBfFkg==", "Content-MD5");
}

int
main(void)
{
	test_url_parse();
	test_virtual_hostable();
	test_object_url();
	test_part_size();
	test_xml();
	return tap_done();
}
