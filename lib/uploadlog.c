#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "fdio.h"
#include "uploadlog.h"

#define LOG_MAX_BYTES ((off_t)64 << 20)	/* far past any real log */

static int
nomem(struct errbuf *err)
{
	return errbuf_set(err, ERR_SYSTEM, "out of memory");
}

static void
entry_free(struct uploadlog_entry *e)
{
	free(e->bucket);
	free(e->key);
	free(e->upload_id);
	memset(e, 0, sizeof(*e));
}

static int
same_object(const struct uploadlog_entry *e, const char *bucket,
    const char *key)
{
	return strcmp(e->bucket, bucket) == 0 && strcmp(e->key, key) == 0;
}

/* The last entry of bucket/key whose id is id (NULL: not known yet). */
static struct uploadlog_entry *
find(struct uploadlog *l, const char *bucket, const char *key,
    const char *id)
{
	size_t i;

	for (i = l->n; i-- > 0;) {
		struct uploadlog_entry *e = &l->v[i];

		if (!same_object(e, bucket, key))
			continue;
		if (id == NULL ? e->upload_id == NULL :
		    e->upload_id != NULL && strcmp(e->upload_id, id) == 0)
			return e;
	}
	return NULL;
}

static int
add(struct uploadlog *l, const char *bucket, const char *key,
    const char *id, double at)
{
	struct uploadlog_entry *v, *e;

	if ((v = realloc(l->v, (l->n + 1) * sizeof(*v))) == NULL)
		return -1;
	l->v = v;
	e = &v[l->n];
	memset(e, 0, sizeof(*e));
	e->bucket = strdup(bucket);
	e->key = strdup(key);
	e->upload_id = id ? strdup(id) : NULL;
	e->at = at;
	if (e->bucket == NULL || e->key == NULL || (id && !e->upload_id)) {
		entry_free(e);
		return -1;
	}
	l->n++;
	return 0;
}

static void
drop(struct uploadlog *l, struct uploadlog_entry *e)
{
	size_t i = (size_t)(e - l->v);

	entry_free(e);
	memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof(*l->v));
	l->n--;
}

/* ---- the events, in memory ---- */

static int
apply_open(struct uploadlog *l, const char *bucket, const char *key,
    const char *id)
{
	struct uploadlog_entry *e = find(l, bucket, key, NULL);

	if (e == NULL)
		return add(l, bucket, key, id, 0);
	return (e->upload_id = strdup(id)) != NULL ? 0 : -1;
}

static void
apply_end(struct uploadlog *l, const char *bucket, const char *key,
    const char *id)
{
	struct uploadlog_entry *e = find(l, bucket, key, id);

	if (e != NULL)
		drop(l, e);
}

/* One line of the file; lines that are not an event (a torn last line)
 * are skipped. 0, or -1 out of memory. */
static int
apply_line(struct uploadlog *l, const char *s, size_t n)
{
	json_t *o = json_loadb(s, n, 0, NULL);
	const char *bucket = json_string_value(json_object_get(o, "bucket"));
	const char *key = json_string_value(json_object_get(o, "key"));
	json_t *v;
	int rc = 0;

	if (o == NULL || bucket == NULL)
		goto out;
	if ((v = json_object_get(o, "begin")) != NULL && json_is_string(v))
		rc = add(l, bucket, json_string_value(v), NULL,
		    json_number_value(json_object_get(o, "at")));
	else if (key == NULL)
		goto out;
	else if ((v = json_object_get(o, "open")) != NULL && json_is_string(v))
		rc = apply_open(l, bucket, key, json_string_value(v));
	else if ((v = json_object_get(o, "end")) != NULL)
		apply_end(l, bucket, key, json_string_value(v));
out:
	json_decref(o);
	return rc;
}

static int
read_all(struct uploadlog *l, struct errbuf *err)
{
	struct buf b = BUF_INIT;
	char chunk[65536];
	const char *p, *nl, *end;
	ssize_t got;

	while ((got = read(l->fd, chunk, sizeof(chunk))) != 0) {
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1 || (off_t)b.len > LOG_MAX_BYTES) {
			buf_free(&b);
			return errbuf_set(err, ERR_CONFIG, "%s: %s", l->path,
			    got == -1 ? strerror(errno) : "too large");
		}
		if (buf_append(&b, chunk, (size_t)got) == -1)
			goto nomem;
	}
	end = b.data + b.len;
	for (p = b.data; p != NULL && p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;	/* torn: no newline yet */
		if (apply_line(l, p, (size_t)(nl - p)) == -1)
			goto nomem;
	}
	buf_free(&b);
	return 0;
nomem:
	buf_free(&b);
	return nomem(err);
}

int
uploadlog_open(struct uploadlog *l, const char *path, const char *prog,
    struct errbuf *err)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if ((l->path = strdup(path)) == NULL)
		return nomem(err);
	l->fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (l->fd == -1) {
		errbuf_set(err, ERR_CONFIG, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (fdio_try_lock(l->fd) == -1) {
		errbuf_set(err, ERR_CONFIG, "%s: in use by another %s", path,
		    prog ? prog : "process");
		goto fail;
	}
	if (read_all(l, err) == -1)
		goto fail;
	l->held = 1;
	return 0;
fail:
	uploadlog_close(l);
	return -1;
}

/* ---- the events, on disk ---- */

static int
append(struct uploadlog *l, json_t *o, int sync, struct errbuf *err)
{
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	int rc = -1;

	json_decref(o);
	if (text == NULL)
		return nomem(err);
	if (fdio_write_all(l->fd, text, strlen(text), l->path, err) == 0 &&
	    fdio_write_all(l->fd, "\n", 1, l->path, err) == 0)
		rc = 0;
	free(text);
	if (rc == 0 && sync && fdatasync(l->fd) == -1)
		rc = errbuf_set(err, ERR_SYSTEM, "%s: %s", l->path,
		    strerror(errno));
	return rc;
}

int
uploadlog_begin(struct uploadlog *l, const char *bucket, const char *key,
    double now, struct errbuf *err)
{
	if (add(l, bucket, key, NULL, now) == -1)
		return nomem(err);
	return append(l, json_pack("{s:s, s:s, s:f}", "begin", key, "bucket",
	    bucket, "at", now), 1, err);
}

int
uploadlog_opened(struct uploadlog *l, const char *bucket, const char *key,
    const char *upload_id, struct errbuf *err)
{
	if (apply_open(l, bucket, key, upload_id) == -1)
		return nomem(err);
	return append(l, json_pack("{s:s, s:s, s:s}", "open", upload_id,
	    "key", key, "bucket", bucket), 1, err);
}

/*
 * Not synced: an end that a crash loses makes the next run abort an
 * upload that is gone, which S3 answers with NoSuchUpload. The line is
 * made first: the arguments may be the strings of the entry that goes.
 */
int
uploadlog_ended(struct uploadlog *l, const char *bucket, const char *key,
    const char *upload_id, struct errbuf *err)
{
	json_t *line = json_pack("{s:s?, s:s, s:s}", "end", upload_id, "key",
	    key, "bucket", bucket);

	apply_end(l, bucket, key, upload_id);
	return append(l, line, 0, err);
}

/* The lines that say l->v is open: a begin, and its open when known. */
static int
write_state(const struct uploadlog *l, struct uploadlog *to,
    struct errbuf *err)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct uploadlog_entry *e = &l->v[i];

		if (append(to, json_pack("{s:s, s:s, s:f}", "begin", e->key,
		    "bucket", e->bucket, "at", e->at), 0, err) == -1)
			return -1;
		if (e->upload_id != NULL && append(to, json_pack("{s:s, s:s, "
		    "s:s}", "open", e->upload_id, "key", e->key, "bucket",
		    e->bucket), 0, err) == -1)
			return -1;
	}
	return 0;
}

/*
 * A new file, locked before it replaces the old one, so no other process
 * can take the path between the rename and the close of the old file.
 */
int
uploadlog_compact(struct uploadlog *l, struct errbuf *err)
{
	struct uploadlog to;
	struct buf tmp = BUF_INIT;
	int rc = -1;

	memset(&to, 0, sizeof(to));
	to.fd = -1;
	if (buf_printf(&tmp, "%s.tmp.XXXXXX", l->path) == -1)
		return nomem(err);
	to.path = tmp.data;
	/* mkstemp: created 0600; only this process writes it, so the
	 * offset stays at its end without O_APPEND */
	if ((to.fd = mkstemp(tmp.data)) == -1 ||
	    fcntl(to.fd, F_SETFD, FD_CLOEXEC) == -1 || fdio_try_lock(to.fd) == -1) {
		errbuf_set(err, ERR_SYSTEM, "%s: %s", tmp.data,
		    strerror(errno));
		goto out;
	}
	if (write_state(l, &to, err) == -1)
		goto out;
	if (fsync(to.fd) == -1 || rename(tmp.data, l->path) == -1 ||
	    fdio_sync_dir_of(l->path) == -1) {
		errbuf_set(err, ERR_SYSTEM, "%s: %s", l->path, strerror(errno));
		goto out;
	}
	close(l->fd);
	l->fd = to.fd;
	to.fd = -1;
	rc = 0;
out:
	if (to.fd != -1) {
		close(to.fd);
		unlink(tmp.data);
	}
	buf_free(&tmp);
	return rc;
}

void
uploadlog_close(struct uploadlog *l)
{
	size_t i;

	if (l == NULL)
		return;
	if (l->fd != -1) {
		/* still locked: no other process can be using the path */
		if (l->held && l->n == 0)
			unlink(l->path);
		close(l->fd);
	}
	for (i = 0; i < l->n; i++)
		entry_free(&l->v[i]);
	free(l->v);
	free(l->path);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}
