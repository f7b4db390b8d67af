/*
 * s3: the S3 REST calls coinpipe uses. This part is pure: object URLs and
 * paths for both addressing styles, the multipart part-size rule, and the
 * XML the multipart API sends and expects.
 */
#ifndef COINPIPE_S3_H
#define COINPIPE_S3_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "errbuf.h"

/* Service limits, from the S3 multipart upload documentation. */
#define S3_MIN_PART_SIZE (5UL << 20)		/* all parts but the last */
#define S3_MAX_PART_SIZE (5ULL << 30)
#define S3_MAX_PARTS 10000
#define S3_MAX_KEY_BYTES 1024

/* "s3://bucket/some/prefix" -> bucket and prefix (may be ""); malloc'd. */
int s3_url_parse(const char *url, char **bucket, char **prefix,
    struct errbuf *err);

/*
 * The request target and URL for an object (key NULL: the bucket itself),
 * with the key URI-encoded once, "/" kept (S3 signs the path as sent).
 * endpoint is scheme://host[:port][/base]; path_style puts the bucket in the
 * path, else in the host name, unless the bucket is not a DNS label (then
 * the path too, as in the AWS CLI). Both strings are malloc'd.
 */
int s3_object_url(const char *endpoint, const char *bucket, const char *key,
    int path_style, char **url, char **host, struct errbuf *err);

/*
 * 1 when bucket can lead a virtual-hosted name: 3 to 63 characters of
 * a-z, 0-9 and '-', starting and ending with a letter or digit (botocore's
 * check_dns_name). A dot would need a certificate for *.b.s3...: no TLS
 * name check accepts "a.b.s3.amazonaws.com" against *.s3.amazonaws.com;
 * capitals and underscores (buckets from before 2018 in us-east-1) are not
 * host names at all.
 */
int s3_bucket_virtual_hostable(const char *bucket);

/* The part size to use: at least requested and S3_MIN_PART_SIZE, and large
 * enough that max_object bytes fit in S3_MAX_PARTS parts. */
unsigned long long s3_part_size(unsigned long long requested,
    unsigned long long max_object);

/* Appends s with the XML special characters escaped. */
int s3_xml_escape(struct buf *b, const char *s);

/* <CompleteMultipartUpload> for parts 1..n with their ETags. */
int s3_complete_body(struct buf *b, char *const *etags, size_t n);

/* base64 of the MD5 of data, for Content-MD5; out must hold 25 bytes. */
void s3_content_md5(const void *data, size_t len, char out[25]);

/* One entry of ListMultipartUploads. */
struct s3_upload {
	char *key;
	char *upload_id;
	time_t initiated;	/* 0 when absent or unreadable */
};

/* Parses a ListMultipartUploads answer; *out is malloc'd. */
int s3_list_uploads_parse(const char *xml, size_t len,
    struct s3_upload **out, size_t *n, struct errbuf *err);
void s3_uploads_free(struct s3_upload *u, size_t n);

/* ---- calls (through lib/aws, with its retries) ---- */

struct aws_client;

struct s3_bucket {
	const char *endpoint;	/* from awsconf */
	const char *name;
	int path_style;
};

/* Headers every object gets; NULL members are not sent. */
struct s3_object_opts {
	const char *content_type;
	const char *content_encoding;	/* "gzip" */
	const char *sse;		/* "AES256" or "aws:kms" */
	const char *sse_kms_key_id;
	const char *storage_class;
};

#define S3_ETAG_MAX 130

/* PutObject with Content-MD5; etag receives the ETag header. */
int s3_put_object(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const void *body, size_t len,
    const struct s3_object_opts *o, char etag[S3_ETAG_MAX],
    struct errbuf *err);

/* CreateMultipartUpload; *upload_id is malloc'd. */
int s3_multipart_create(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const struct s3_object_opts *o, char **upload_id,
    struct errbuf *err);
/* UploadPart number part (1..10000) with Content-MD5. */
int s3_multipart_part(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const char *upload_id, int part, const void *body,
    size_t len, char etag[S3_ETAG_MAX], struct errbuf *err);
/* CompleteMultipartUpload; S3 may answer 200 with an <Error> body, which
 * counts as a failure. */
int s3_multipart_complete(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const char *upload_id, char *const *etags, size_t n,
    char etag[S3_ETAG_MAX], struct errbuf *err);
/* AbortMultipartUpload; NoSuchUpload (completed or aborted already)
 * counts as done: the upload is gone either way. */
int s3_multipart_abort(struct aws_client *c, const struct s3_bucket *b,
    const char *key, const char *upload_id, struct errbuf *err);
/* ListMultipartUploads under prefix (first page, up to 1000). */
int s3_multipart_list(struct aws_client *c, const struct s3_bucket *b,
    const char *prefix, struct s3_upload **out, size_t *n,
    struct errbuf *err);

#endif
