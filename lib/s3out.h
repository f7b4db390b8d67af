/*
 * s3out: one S3 object written as a stream, in memory bounded by about one
 * part whatever its size.
 *
 * Bytes go into a part buffer (gzip-compressed first with --gzip). While
 * the whole object fits in one part nothing is sent; s3out_finish then
 * makes one PutObject. When the buffer passes the part size, a multipart
 * upload is created and each full part goes up at once, so the object is
 * streamed; s3out_finish sends the last part and completes. Any failure
 * after the upload was created aborts it, so no multipart upload is left
 * behind. With a log (lib/uploadlog) every upload is noted before it is
 * used, and s3out_abort_left aborts what a kill left open; without one,
 * S3's lifecycle rule AbortIncompleteMultipartUpload is the safety net.
 *
 * The key may be unknown until the end (a key format that names the last
 * row's sequence number): full parts then go to an unlinked temporary file
 * and are sent from it by s3out_finish, still one part in memory.
 */
#ifndef COINPIPE_S3OUT_H
#define COINPIPE_S3OUT_H

#include <stddef.h>

#include <zlib.h>

#include "buf.h"
#include "errbuf.h"
#include "s3.h"

struct aws_client;
struct uploadlog;

struct s3out_target {
	struct aws_client *client;	/* NULL: dry run, bytes are counted
					 * and dropped */
	struct s3_bucket bucket;
	struct s3_object_opts opts;
	size_t part_size;		/* >= S3_MIN_PART_SIZE */
	int gzip;
	const char *tmpdir;		/* for the spill file; NULL: TMPDIR
					 * or /tmp */
	struct uploadlog *log;		/* multipart uploads noted; NULL */
};

struct s3out {
	const struct s3out_target *t;
	char *key;			/* NULL until known */
	struct buf part;
	int spill_fd;			/* -1 when not spilled */
	unsigned long long spilled;	/* bytes in the spill file */
	char *upload_id;		/* while a multipart upload is open */
	char **etags;
	size_t nparts;
	z_stream z;
	int zinit;
	unsigned long long raw;		/* bytes written by the caller */
	unsigned long long stored;	/* bytes of the object as stored */
};

/* Starts an object; key may be NULL (set it before s3out_finish). */
int s3out_begin(struct s3out *o, const struct s3out_target *t,
    const char *key, struct errbuf *err);
int s3out_set_key(struct s3out *o, const char *key, struct errbuf *err);

/* Appends bytes, uploading full parts when the key is known. 0 or -1;
 * after -1 the object is dead (any multipart upload already aborted). */
int s3out_write(struct s3out *o, const void *p, size_t n,
    struct errbuf *err);

/*
 * Sends what is left and completes the object; etag receives its ETag
 * without quotes. 0 or -1 with err set (ERR_CONFIG, ERR_TEMP, ... from
 * lib/s3); a multipart upload is aborted on failure.
 */
int s3out_finish(struct s3out *o, char etag[S3_ETAG_MAX],
    struct errbuf *err);

/* Releases memory; aborts an unfinished multipart upload. */
void s3out_free(struct s3out *o);

/* 1 once the object went (or is going) up as a multipart upload. */
int s3out_is_multipart(const struct s3out *o);

/* SigV4 refuses a request from a clock further off than this, so no
 * upload a run created can look older to S3 than its log says by more. */
#define S3_SKEW_S 900

/* What s3out_abort_left did with one upload: err NULL when aborted (or
 * found gone), else why it stays in the log for the next run. */
typedef void (*s3out_left_fn)(void *arg, const char *bucket,
    const char *key, const char *upload_id, const struct errbuf *err);

/*
 * Aborts the uploads t->log says earlier runs left open, in their own
 * buckets (t's endpoint), each reported to said; for a create that was in
 * flight, the uploads of that key initiated since (ListMultipartUploads,
 * with S3_SKEW_S of clock slack). Then rewrites the log with what is left.
 * Returns how many were aborted, or -1 with err set when the log cannot
 * be rewritten.
 */
long s3out_abort_left(const struct s3out_target *t, s3out_left_fn said,
    void *arg, struct errbuf *err);

#endif
