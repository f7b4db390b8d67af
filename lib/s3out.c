#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fdio.h"
#include "s3out.h"
#include "uploadlog.h"

#define GZIP_WINDOW (15 + 16)	/* zlib: 32 KiB window, gzip wrapper */
#define DEFLATE_CHUNK 65536

int
s3out_is_multipart(const struct s3out *o)
{
	return o->upload_id != NULL || o->nparts > 0;
}

int
s3out_begin(struct s3out *o, const struct s3out_target *t, const char *key,
    struct errbuf *err)
{
	memset(o, 0, sizeof(*o));
	o->t = t;
	o->spill_fd = -1;
	if (key != NULL && (o->key = strdup(key)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	if (t->gzip) {
		if (deflateInit2(&o->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED,
		    GZIP_WINDOW, 8, Z_DEFAULT_STRATEGY) != Z_OK)
			return errbuf_set(err, ERR_SYSTEM,
			    "zlib: cannot start a gzip stream");
		o->zinit = 1;
	}
	return 0;
}

int
s3out_set_key(struct s3out *o, const char *key, struct errbuf *err)
{
	char *k = strdup(key);

	if (k == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	free(o->key);
	o->key = k;
	return 0;
}

/* An upload that is gone (completed or aborted) leaves the log; one
 * whose abort failed stays in it for the next run. */
static void
upload_ended(struct s3out *o)
{
	struct errbuf ignored;

	if (o->t->log != NULL)
		uploadlog_ended(o->t->log, o->t->bucket.name, o->key,
		    o->upload_id, &ignored);
	free(o->upload_id);
	o->upload_id = NULL;
}

static void
abort_upload(struct s3out *o)
{
	struct errbuf ignored;

	if (o->upload_id == NULL)
		return;
	/* the abort is best effort: the error that led here is reported */
	if (s3_multipart_abort(o->t->client, &o->t->bucket, o->key,
	    o->upload_id, &ignored) == 0) {
		upload_ended(o);
		return;
	}
	free(o->upload_id);
	o->upload_id = NULL;
}

/*
 * CreateMultipartUpload, logged before (the key) and after (its id), each
 * synced, so a kill at any moment leaves the upload findable. A failed
 * create keeps its "begin": the upload may exist all the same (a timeout
 * after S3 made it), and the next run looks.
 */
static int
create_upload(struct s3out *o, struct errbuf *err)
{
	struct uploadlog *l = o->t->log;
	const char *b = o->t->bucket.name;

	if (l != NULL && uploadlog_begin(l, b, o->key,
	    (double)clock_wall_ms() / 1000.0, err) == -1)
		return -1;
	if (s3_multipart_create(o->t->client, &o->t->bucket, o->key,
	    &o->t->opts, &o->upload_id, err) == -1)
		return -1;
	if (l != NULL && uploadlog_opened(l, b, o->key, o->upload_id,
	    err) == -1)
		return -1;	/* the caller's fail() aborts it */
	return 0;
}

static int
fail(struct s3out *o)
{
	abort_upload(o);
	return -1;
}

/* Sends one part (numbered by its place), creating the upload first. */
static int
send_part(struct s3out *o, const char *p, size_t n, struct errbuf *err)
{
	char etag[S3_ETAG_MAX], **v;

	o->stored += n;
	if (o->t->client == NULL)
		return 0;
	if (o->upload_id == NULL && create_upload(o, err) == -1)
		return -1;
	if (o->nparts >= S3_MAX_PARTS)
		return errbuf_set(err, ERR_DATA, "s3://%s/%s: more than %d "
		    "parts", o->t->bucket.name, o->key, S3_MAX_PARTS);
	if (s3_multipart_part(o->t->client, &o->t->bucket, o->key,
	    o->upload_id, (int)o->nparts + 1, p, n, etag, err) == -1)
		return -1;
	if ((v = realloc(o->etags, (o->nparts + 1) * sizeof(*v))) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	o->etags = v;
	if ((v[o->nparts] = strdup(etag)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	o->nparts++;
	return 0;
}

static int
open_spill(struct s3out *o, struct errbuf *err)
{
	const char *dir = o->t->tmpdir;
	char path[4096];

	if (dir == NULL && (dir = getenv("TMPDIR")) == NULL)
		dir = "/tmp";
	snprintf(path, sizeof(path), "%s/s3-putcsv.XXXXXX", dir);
	if ((o->spill_fd = mkstemp(path)) == -1)
		return errbuf_set(err, ERR_SYSTEM, "%s: %s", path,
		    strerror(errno));
	unlink(path);	/* gone at exit, whatever happens */
	return 0;
}

/* Moves full parts out of the buffer: to S3, or to the spill file. */
static int
drain_parts(struct s3out *o, struct errbuf *err)
{
	size_t ps = o->t->part_size, off = 0;

	while (o->part.len - off >= ps) {
		if (o->key == NULL) {
			if ((o->spill_fd == -1 && open_spill(o, err) == -1) ||
			    fdio_write_all(o->spill_fd, o->part.data + off,
			    ps, "temporary file", err) == -1)
				return -1;
			o->spilled += ps;
		} else if (send_part(o, o->part.data + off, ps, err) == -1) {
			return -1;
		}
		off += ps;
	}
	if (off > 0) {
		memmove(o->part.data, o->part.data + off, o->part.len - off);
		o->part.len -= off;
		o->part.data[o->part.len] = '\0';
	}
	return 0;
}

/* Runs the deflate stream over p[0..n) (flush: Z_NO_FLUSH or Z_FINISH). */
static int
deflate_into(struct s3out *o, const void *p, size_t n, int flush,
    struct errbuf *err)
{
	int rc;

	o->z.next_in = (Bytef *)(uintptr_t)p;
	o->z.avail_in = (uInt)n;
	do {
		if (buf_reserve(&o->part, DEFLATE_CHUNK) == -1)
			return errbuf_set(err, ERR_SYSTEM, "out of memory");
		o->z.next_out = (Bytef *)o->part.data + o->part.len;
		o->z.avail_out = DEFLATE_CHUNK;
		rc = deflate(&o->z, flush);
		if (rc == Z_STREAM_ERROR)
			return errbuf_set(err, ERR_SYSTEM, "zlib: deflate "
			    "failed");
		o->part.len += DEFLATE_CHUNK - o->z.avail_out;
		o->part.data[o->part.len] = '\0';
	} while (o->z.avail_out == 0 || (flush == Z_FINISH &&
	    rc != Z_STREAM_END));
	return 0;
}

int
s3out_write(struct s3out *o, const void *p, size_t n, struct errbuf *err)
{
	int rc;

	o->raw += n;
	if (o->zinit)
		rc = deflate_into(o, p, n, Z_NO_FLUSH, err);
	else
		rc = buf_append(&o->part, p, n) == -1 ?
		    errbuf_set(err, ERR_SYSTEM, "out of memory") : 0;
	if (rc == 0 && o->part.len >= o->t->part_size)
		rc = drain_parts(o, err);
	return rc == -1 ? fail(o) : 0;
}

/* The spill file's parts, read back one at a time. */
static int
send_spilled(struct s3out *o, struct errbuf *err)
{
	struct buf chunk = BUF_INIT;
	size_t ps = o->t->part_size;
	unsigned long long left = o->spilled;
	ssize_t r;
	int rc = -1;

	if (lseek(o->spill_fd, 0, SEEK_SET) == -1 ||
	    buf_reserve(&chunk, ps) == -1) {
		errbuf_set(err, ERR_SYSTEM, "temporary file: %s",
		    strerror(errno));
		goto out;
	}
	for (; left > 0; left -= ps) {
		size_t got = 0;
		while (got < ps) {
			r = read(o->spill_fd, chunk.data + got, ps - got);
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				errbuf_set(err, ERR_SYSTEM, "temporary file: %s",
				    r == 0 ? "short read" : strerror(errno));
				goto out;
			}
			got += (size_t)r;
		}
		if (send_part(o, chunk.data, ps, err) == -1)
			goto out;
	}
	rc = 0;
out:
	buf_free(&chunk);
	return rc;
}

static void
strip_quotes(const char *in, char out[S3_ETAG_MAX])
{
	size_t n = strlen(in);

	if (n >= 2 && in[0] == '"' && in[n - 1] == '"')
		snprintf(out, S3_ETAG_MAX, "%.*s", (int)(n - 2), in + 1);
	else
		snprintf(out, S3_ETAG_MAX, "%s", in);
}

static int
finish_upload(struct s3out *o, char etag[S3_ETAG_MAX], struct errbuf *err)
{
	char e[S3_ETAG_MAX] = "";

	if (o->spill_fd != -1 && send_spilled(o, err) == -1)
		return -1;
	if (o->nparts == 0 && o->upload_id == NULL) {
		o->stored += o->part.len;
		if (o->t->client != NULL && s3_put_object(o->t->client,
		    &o->t->bucket, o->key, o->part.data ? o->part.data : "",
		    o->part.len, &o->t->opts, e, err) == -1)
			return -1;
	} else {
		if (o->part.len > 0 && send_part(o, o->part.data, o->part.len,
		    err) == -1)
			return -1;
		if (o->t->client != NULL && s3_multipart_complete(o->t->client,
		    &o->t->bucket, o->key, o->upload_id, o->etags, o->nparts,
		    e, err) == -1)
			return -1;
		upload_ended(o);
	}
	strip_quotes(e, etag);
	return 0;
}

int
s3out_finish(struct s3out *o, char etag[S3_ETAG_MAX], struct errbuf *err)
{
	etag[0] = '\0';
	if (o->key == NULL)
		return errbuf_set(err, ERR_USAGE, "object finished without a "
		    "key");
	if (o->zinit && deflate_into(o, "", 0, Z_FINISH, err) == -1)
		return fail(o);
	if (finish_upload(o, etag, err) == -1)
		return fail(o);
	return 0;
}

void
s3out_free(struct s3out *o)
{
	size_t i;

	if (o == NULL)
		return;
	if (o->upload_id != NULL && o->key != NULL && o->t->client != NULL)
		abort_upload(o);
	free(o->upload_id);
	for (i = 0; i < o->nparts; i++)
		free(o->etags[i]);
	free(o->etags);
	free(o->key);
	buf_free(&o->part);
	if (o->spill_fd != -1)
		close(o->spill_fd);
	if (o->zinit)
		deflateEnd(&o->z);
	memset(o, 0, sizeof(*o));
	o->spill_fd = -1;
}

/* ---- what earlier runs left open ---- */

/* The uploads of e's key that a create in flight may have made. 1 all
 * aborted, 0 one could not be (reported). */
static int
abort_begun(const struct s3out_target *t, const struct s3_bucket *b,
    const struct uploadlog_entry *e, s3out_left_fn said, void *arg,
    long *aborted)
{
	struct s3_upload *u;
	struct errbuf err;
	size_t i, n;
	int all = 1;

	if (s3_multipart_list(t->client, b, e->key, &u, &n, &err) == -1) {
		said(arg, e->bucket, e->key, NULL, &err);
		return 0;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(u[i].key, e->key) != 0 || u[i].initiated == 0 ||
		    (double)u[i].initiated < e->at - S3_SKEW_S)
			continue;
		if (s3_multipart_abort(t->client, b, e->key, u[i].upload_id,
		    &err) == -1) {
			said(arg, e->bucket, e->key, u[i].upload_id, &err);
			all = 0;
			continue;
		}
		said(arg, e->bucket, e->key, u[i].upload_id, NULL);
		(*aborted)++;
	}
	s3_uploads_free(u, n);
	return all;
}

/* One entry of the log: 1 dealt with (it leaves the log), 0 it stays. */
static int
abort_entry(const struct s3out_target *t, const struct uploadlog_entry *e,
    s3out_left_fn said, void *arg, long *aborted)
{
	struct s3_bucket b = t->bucket;
	struct errbuf err;

	b.name = e->bucket;
	if (e->upload_id == NULL)
		return abort_begun(t, &b, e, said, arg, aborted);
	if (s3_multipart_abort(t->client, &b, e->key, e->upload_id,
	    &err) == -1) {
		said(arg, e->bucket, e->key, e->upload_id, &err);
		return 0;
	}
	said(arg, e->bucket, e->key, e->upload_id, NULL);
	(*aborted)++;
	return 1;
}

long
s3out_abort_left(const struct s3out_target *t, s3out_left_fn said,
    void *arg, struct errbuf *err)
{
	struct uploadlog *l = t->log;
	struct errbuf ignored;
	long aborted = 0;
	size_t i = 0;

	if (l == NULL || t->client == NULL || l->n == 0)
		return 0;
	while (i < l->n) {
		struct uploadlog_entry *e = &l->v[i];

		if (!abort_entry(t, e, said, arg, &aborted)) {
			i++;
			continue;
		}
		/* removes entry i (or one just like it) */
		uploadlog_ended(l, e->bucket, e->key, e->upload_id, &ignored);
	}
	return uploadlog_compact(l, err) == -1 ? -1 : aborted;
}
