#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "buf.h"
#include "checkpoint.h"
#include "csv.h"
#include "csvsink.h"
#include "fdio.h"
#include "keyfmt.h"
#include "ndjson.h"
#include "rows.h"
#include "s3out.h"

#define STDOUT_FLUSH_BYTES ((size_t)1 << 20)
/* Default keys: Hive-style partitions, sortable by time, unique by uuid. */
#define KEY_HIVE "dt=%Y-%m-%d/hr=%H/%Y%m%dT%H%M%SZ-{n}-{uuid}.csv"
/* Input from kin-get --format meta: a replay rewrites the same objects. */
#define KEY_REPLAY "{shard}/{first_seq}.csv"
#define SPOOL_SUFFIX ".ndjson"
#define SPOOL_LOCK ".lock"
#define CT_HEADER "text/csv; charset=utf-8; header=present"
#define CT_NO_HEADER "text/csv; charset=utf-8; header=absent"
/* deflate may grow incompressible input a little (zlib: 5 bytes per
 * 16 KiB block plus a header); parts are sized for this much more. */
#define GZIP_SLACK(n) ((n) / 1024 + 1024)

/* One open object; owned by the engine's list until it is uploaded. */
struct object {
	char *part;			/* partition: shard and field values */
	void *h;			/* the store's object */
	char *key;			/* NULL until known */
	unsigned long long rows, n, raw;	/* raw: CSV bytes written */
	long long opened_ms;		/* monotonic, for max_age_ms */
	time_t opened;			/* wall clock, for the key */
	char uuid[KEYFMT_UUID_LEN];
	char *shard, *first_seq, *last_seq;
	char **fields;			/* keyfmt field values of row one */
	struct checkpoint marks;	/* last _seq per shard in it */
	int spool_fd;
	char *spool_path;
	int spool_dirty;		/* rows written since the last sync */
};

struct csvsink {
	struct csvsink_config c;
	const struct csvsink_store *store;
	struct csvsink_hooks h;
	struct rows *rows;
	long cap_shard, cap_seq, cap_subseq, *cap_fields;
	struct keyfmt kf;
	int kf_ready;
	struct object **objs;
	size_t nobjs;
	struct buf row, header, out, scratch;
	struct csv_writer w;
	const char *eol;
	struct checkpoint cp;
	struct checkpoint uploaded;	/* highest uploaded per shard */
	unsigned long long nobjects;
	char host[256];
	int columns_ready, header_done;
	int spool_lock_fd, recovering;
	int local_failed;	/* err is about a local file */
	const char *where;	/* the line being handled, for messages */
	unsigned long lineno;
	struct errbuf err;
};

static void __attribute__((format(printf, 2, 3)))
warn(struct csvsink *s, const char *fmt, ...)
{
	char msg[ERRBUF_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (s->h.warn != NULL)
		s->h.warn(s->h.arg, msg);
}

static int
nomem(struct csvsink *s)
{
	return errbuf_set(&s->err, ERR_SYSTEM, "out of memory");
}

static char *
xstrndup(const char *p, size_t n)
{
	char *d = malloc(n + 1);

	if (d != NULL) {
		memcpy(d, p, n);
		d[n] = '\0';
	}
	return d;
}

/* ---- objects ---- */

static void
object_free(struct csvsink *s, struct object *ob)
{
	size_t i;

	if (ob == NULL)
		return;
	if (ob->h != NULL)
		s->store->discard(ob->h);
	free(ob->part);
	free(ob->key);
	free(ob->shard);
	free(ob->first_seq);
	free(ob->last_seq);
	for (i = 0; ob->fields != NULL && i < s->kf.nfields; i++)
		free(ob->fields[i]);
	free(ob->fields);
	checkpoint_free(&ob->marks);
	if (ob->spool_fd != -1)
		close(ob->spool_fd);
	free(ob->spool_path);
	free(ob);
}

/* The text of capture idx in the current row, copied; NULL when absent. */
static char *
capture_dup(struct csvsink *s, long idx)
{
	const char *p;
	size_t n;

	if (idx < 0 || !rows_capture(s->rows, idx, &p, &n))
		return NULL;
	return xstrndup(p, n);
}

/* The partition of the current row: the key fields that split objects. */
static int
row_partition(struct csvsink *s, struct buf *b)
{
	const char *p;
	size_t i, n;

	buf_reset(b);
	if (buf_putc(b, '/') == -1)
		return -1;
	if ((s->kf.uses & KEYFMT_USES_SHARD) &&
	    rows_capture(s->rows, s->cap_shard, &p, &n) &&
	    buf_append(b, p, n) == -1)
		return -1;
	for (i = 0; i < s->kf.nfields; i++) {
		/* a unit separator cannot be in a sane key part */
		if (buf_putc(b, '\x1f') == -1)
			return -1;
		if (rows_capture(s->rows, s->cap_fields[i], &p, &n) &&
		    buf_append(b, p, n) == -1)
			return -1;
	}
	return 0;
}

static struct object *
find_object(struct csvsink *s, const char *part)
{
	size_t i;

	for (i = 0; i < s->nobjs; i++)
		if (strcmp(s->objs[i]->part, part) == 0)
			return s->objs[i];
	return NULL;
}

/* PREFIX/expanded-format for ob; owned by the caller. */
static char *
object_key(struct csvsink *s, struct object *ob)
{
	struct keyfmt_vars v;
	struct buf key = BUF_INIT;
	const char *pre = s->c.prefix;

	memset(&v, 0, sizeof(v));
	v.time = ob->opened;
	v.uuid = ob->uuid;
	v.n = ob->n;
	v.host = s->host;
	v.shard = ob->shard;
	v.first_seq = ob->first_seq;
	v.last_seq = ob->last_seq;
	v.fields = (const char *const *)ob->fields;
	if (buf_puts(&key, pre) == -1 || (*pre != '\0' &&
	    pre[strlen(pre) - 1] != '/' && buf_putc(&key, '/') == -1)) {
		nomem(s);
		goto fail;
	}
	if (keyfmt_expand(&s->kf, &v, &key, &s->err) == -1)
		goto fail;
	return buf_steal(&key);
fail:
	buf_free(&key);
	return NULL;
}

static int
spool_open(struct csvsink *s, struct object *ob)
{
	struct buf p = BUF_INIT;

	if (s->c.spool == NULL || s->recovering)
		return 0;
	/* time first, so a recovery takes the files in the order written */
	if (buf_printf(&p, "%s/%lld-%ld-%06llu%s", s->c.spool,
	    (long long)ob->opened, (long)getpid(), ob->n, SPOOL_SUFFIX) == -1)
		return nomem(s);
	ob->spool_path = buf_steal(&p);
	ob->spool_fd = open(ob->spool_path, O_WRONLY | O_CREAT | O_EXCL |
	    O_APPEND | O_CLOEXEC, 0600);
	/* the new name must survive a power loss as well as its rows */
	if (ob->spool_fd == -1 || fdio_sync_dir_of(ob->spool_path) == -1)
		return errbuf_set(&s->err, ERR_SYSTEM, "%s: %s",
		    ob->spool_path, strerror(errno));
	return 0;
}

/*
 * Before more input is read, the rows taken so far are on disk: what a
 * producer that cannot replay (a pipe) handed over survives a power loss.
 * Only files written since the last sync are synced.
 */
static int
spool_sync(struct csvsink *s)
{
	size_t i;

	for (i = 0; i < s->nobjs; i++) {
		struct object *ob = s->objs[i];

		if (ob->spool_fd == -1 || !ob->spool_dirty)
			continue;
		if (fdatasync(ob->spool_fd) == -1) {
			s->local_failed = 1;
			return errbuf_set(&s->err, ERR_SYSTEM, "%s: %s",
			    ob->spool_path, strerror(errno));
		}
		ob->spool_dirty = 0;
	}
	return 0;
}

static int
object_fill(struct csvsink *s, struct object *ob)
{
	unsigned char rnd[16];
	size_t i;

	ob->n = ++s->nobjects;
	ob->opened = s->h.wall(s->h.arg);
	ob->opened_ms = s->h.mono_ms(s->h.arg);
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return errbuf_set(&s->err, ERR_SYSTEM, "no random bytes");
	keyfmt_uuid(rnd, ob->uuid);
	ob->shard = capture_dup(s, s->cap_shard);
	ob->first_seq = capture_dup(s, s->cap_seq);
	if (s->kf.nfields > 0 &&
	    (ob->fields = calloc(s->kf.nfields, sizeof(char *))) == NULL)
		return nomem(s);
	for (i = 0; i < s->kf.nfields; i++)
		ob->fields[i] = capture_dup(s, s->cap_fields[i]);
	return 0;
}

/* Opens an object for the current row's partition. */
static struct object *
object_open(struct csvsink *s, const char *part)
{
	struct object *ob = calloc(1, sizeof(*ob)), **v;

	if (ob == NULL || (ob->part = strdup(part)) == NULL)
		goto nomem;
	ob->spool_fd = -1;
	if (object_fill(s, ob) == -1)
		goto fail;
	if (!(s->kf.uses & KEYFMT_USES_LAST_SEQ) &&
	    (ob->key = object_key(s, ob)) == NULL)
		goto fail;
	if ((ob->h = s->store->begin(s->store->arg, ob->key, &s->err))
	    == NULL || spool_open(s, ob) == -1)
		goto fail;
	if (!s->c.no_header) {
		if (s->store->write(ob->h, s->header.data, s->header.len,
		    &s->err) == -1)
			goto fail;
		ob->raw = s->header.len;
	}
	/* an array of pointers: each object is allocated on its own */
	v = realloc(s->objs, (s->nobjs + 1) * sizeof(struct object *));
	if (v == NULL)
		goto nomem;
	s->objs = v;
	s->objs[s->nobjs++] = ob;
	return ob;
nomem:
	nomem(s);
fail:
	object_free(s, ob);
	return NULL;
}

/* ---- uploads ---- */

static int
shard_in_open_object(struct csvsink *s, const char *shard,
    const struct object *except)
{
	size_t i;

	for (i = 0; i < s->nobjs; i++)
		if (s->objs[i] != except &&
		    checkpoint_find(&s->objs[i]->marks, shard) != NULL)
			return 1;
	return 0;
}

/*
 * After ob is durable: a shard's checkpoint moves to the highest uploaded
 * _seq only when no other open object still holds rows of that shard,
 * since those rows are older than that _seq and not uploaded yet.
 */
static int
checkpoint_after(struct csvsink *s, const struct object *ob)
{
	const struct checkpoint_shard *m, *u;
	size_t i;
	int moved = 0;

	for (i = 0; i < ob->marks.n; i++) {
		m = &ob->marks.shards[i];
		if (checkpoint_advance(&s->uploaded, m->shard_id, m->seq,
		    m->subseq, &s->err) == -1)
			return -1;
		if (s->c.checkpoint == NULL ||
		    shard_in_open_object(s, m->shard_id, ob))
			continue;
		u = checkpoint_find(&s->uploaded, m->shard_id);
		if (checkpoint_set(&s->cp, u->shard_id, u->seq, u->subseq,
		    &s->err) == -1)
			return -1;
		moved = 1;
	}
	if (moved && checkpoint_save(s->c.checkpoint, &s->cp, &s->err) == -1)
		return -1;
	return 0;
}

/* Removes ob from the open list (it stays allocated). */
static void
object_unlist(struct csvsink *s, const struct object *ob)
{
	size_t i;

	for (i = 0; i < s->nobjs; i++)
		if (s->objs[i] == ob) {
			memmove(&s->objs[i], &s->objs[i + 1],
			    (s->nobjs - i - 1) * sizeof(struct object *));
			s->nobjs--;
			return;
		}
}

/* A JSON string, or null for NULL. */
static int
json_str(struct buf *b, const char *v)
{
	return v != NULL ? ndjson_append_string(b, v, strlen(v)) :
	    buf_puts(b, "null");
}

int
csvsink_upload_json(struct buf *b, const char *bucket,
    const struct csvsink_upload *u)
{
	if (buf_puts(b, "{\"bucket\":") == -1 || json_str(b, bucket) == -1 ||
	    buf_puts(b, ",\"key\":") == -1 || json_str(b, u->key) == -1 ||
	    buf_printf(b, ",\"rows\":%llu,\"bytes\":%llu,\"etag\":", u->rows,
	    u->bytes) == -1 || json_str(b, u->etag) == -1 ||
	    buf_puts(b, ",\"first_seq\":") == -1 ||
	    json_str(b, u->first_seq) == -1 ||
	    buf_puts(b, ",\"last_seq\":") == -1 ||
	    json_str(b, u->last_seq) == -1 || buf_puts(b, "}\n") == -1)
		return -1;
	return 0;
}

static int
report(struct csvsink *s, const struct object *ob, const char *etag,
    const char *why)
{
	struct csvsink_upload u;

	if (s->h.uploaded == NULL)
		return 0;
	memset(&u, 0, sizeof(u));
	u.key = ob->key;
	u.etag = etag;
	u.first_seq = ob->first_seq;
	u.last_seq = ob->last_seq;
	u.why = why;
	u.rows = ob->rows;
	u.bytes = s->store->stored(ob->h);
	u.multipart = s->store->multipart(ob->h);
	return s->h.uploaded(s->h.arg, &u, &s->err);
}

/*
 * Uploads ob, then checkpoint, report and spool, and frees it. On failure
 * ob stays listed (and its spool file in place) so the run reports it.
 */
static int
object_close(struct csvsink *s, struct object *ob, const char *why)
{
	struct errbuf first;
	char etag[S3_ETAG_MAX];
	int rc = 0;

	if (ob->key == NULL && (ob->key = object_key(s, ob)) == NULL)
		return -1;
	if (s->store->finish(ob->h, ob->key, etag, &s->err) == -1)
		return -1;
	object_unlist(s, ob);
	if (!s->c.dry_run && checkpoint_after(s, ob) == -1) {
		s->local_failed = s->err.kind == ERR_SYSTEM;
		rc = -1;
	}
	/* the object is in S3 even when its checkpoint could not be
	 * saved: the report still says so, and the first error is kept */
	first = s->err;
	if (report(s, ob, etag, why) == -1) {
		if (rc == -1)
			s->err = first;
		rc = -1;
	}
	if (ob->spool_path != NULL && unlink(ob->spool_path) == -1)
		warn(s, "%s: %s", ob->spool_path, strerror(errno));
	object_free(s, ob);
	return rc;
}

static int
close_all(struct csvsink *s, const char *why)
{
	struct errbuf first;
	struct object *ob;
	int rc = 0;

	while (s->nobjs > 0) {
		ob = s->objs[0];
		if (object_close(s, ob, why) == 0)
			continue;
		if (rc == 0)
			first = s->err;
		rc = -1;
		/* an upload that failed leaves its object listed: stop; one
		 * that went up (its checkpoint failed) lets the others go */
		if (s->nobjs > 0 && s->objs[0] == ob)
			break;
	}
	if (rc == -1)
		s->err = first;
	return rc;
}

static int
flush_out(struct csvsink *s)
{
	if (s->out.len == 0)
		return 0;
	if (s->h.out(s->h.arg, s->out.data, s->out.len, &s->err) == -1)
		return -1;
	buf_reset(&s->out);
	return 0;
}

int
csvsink_tick(struct csvsink *s, long long *next)
{
	long long now, due;
	size_t i = 0;

	*next = -1;
	if (s->c.max_age_ms > 0 && s->nobjs > 0) {
		now = s->h.mono_ms(s->h.arg);
		while (i < s->nobjs) {
			due = s->objs[i]->opened_ms + s->c.max_age_ms;
			if (due <= now) {
				if (object_close(s, s->objs[i], "max-age")
				    == -1) {
					*next = -1;
					return -1;
				}
				continue;
			}
			if (*next == -1 || due - now < *next)
				*next = due - now;
			i++;
		}
	}
	return s->c.to_stdout ? flush_out(s) : 0;
}

int
csvsink_finish(struct csvsink *s, const char *why)
{
	if (s->c.to_stdout)
		return flush_out(s);
	return close_all(s, why);
}

/* ---- lines ---- */

static void
on_unknown(void *arg, const char *key, size_t len)
{
	struct csvsink *s = arg;

	if (s->where != NULL)
		warn(s, "%s:%lu: key '%.*s' is not a column (reported once)",
		    s->where, s->lineno, (int)len, key);
	else
		warn(s, "key '%.*s' is not a column (reported once)",
		    (int)len, key);
}

/* A line that could not be converted: the tool reports and keeps it. */
static int
bad_line(struct csvsink *s, const char *line, size_t len,
    const struct errbuf *why)
{
	char where[ERRBUF_LEN];
	int rc;

	if (s->h.bad_line == NULL)
		return 0;
	snprintf(where, sizeof(where), "%s:%lu", s->where ? s->where : "-",
	    s->lineno);
	rc = s->h.bad_line(s->h.arg, where, line, len, why, &s->err);
	if (rc == -1)
		s->local_failed = 1;
	return rc;
}

/* The first good record fixes the columns and, unless given, the key.
 * 1: a bad record (why set). */
static int
first_record(struct csvsink *s, const char *line, size_t len,
    struct errbuf *why)
{
	const char *fmt = s->c.key_format;
	const char *p;
	size_t n;

	if (!s->columns_ready) {
		if (rows_columns_from(s->rows, line, len, why) == -1)
			return 1;
		s->columns_ready = 1;
	}
	if (s->kf_ready)
		return 0;
	if (rows_parse(s->rows, line, len, why) == -1)
		return 1;
	if (fmt == NULL)
		fmt = rows_capture(s->rows, s->cap_shard, &p, &n) &&
		    rows_capture(s->rows, s->cap_seq, &p, &n) ?
		    (s->c.gzip ? KEY_REPLAY ".gz" : KEY_REPLAY) :
		    (s->c.gzip ? KEY_HIVE ".gz" : KEY_HIVE);
	if (keyfmt_parse(&s->kf, fmt, &s->err) == -1)
		return -1;
	s->kf_ready = 1;
	buf_reset(&s->header);
	csv_writer_init(&s->w, &s->header, ',', s->eol);
	return rows_header(s->rows, &s->w) == -1 ? nomem(s) : 0;
}

/*
 * The row's _subseq. Absent: CHECKPOINT_NO_SUBSEQ (a whole record). One
 * that is not a number: NO_SUBSEQ would claim the whole record was
 * handled (a resume reads after it, losing its later sub-records), so 0,
 * the earliest position of the record a checkpoint can hold: at worst
 * duplicates.
 */
static long
row_subseq(struct csvsink *s)
{
	const char *p;
	char t[24], *end = t;
	long subseq = 0;
	size_t n;

	if (!rows_capture(s->rows, s->cap_subseq, &p, &n))
		return CHECKPOINT_NO_SUBSEQ;
	if (n < 20) {
		memcpy(t, p, n);
		t[n] = '\0';
		subseq = strtol(t, &end, 10);
	}
	if (n >= 20 || *end != '\0' || subseq < 0)
		subseq = 0;
	return subseq;
}

/* Notes the row's _shard/_seq/_subseq in ob. */
static int
note_seq(struct csvsink *s, struct object *ob)
{
	char *shard = capture_dup(s, s->cap_shard);
	char *seq = capture_dup(s, s->cap_seq);
	int rc = 0;

	if (seq != NULL) {
		free(ob->last_seq);
		ob->last_seq = strdup(seq);
		if (ob->last_seq == NULL)
			rc = nomem(s);
		else if (shard != NULL && checkpoint_advance(&ob->marks, shard,
		    seq, row_subseq(s), &s->err) == -1)
			rc = -1;
	}
	free(shard);
	free(seq);
	return rc;
}

static int
object_append(struct csvsink *s, struct object *ob, const char *line,
    size_t len)
{
	if (s->store->write(ob->h, s->row.data, s->row.len, &s->err) == -1)
		return -1;
	ob->raw += s->row.len;
	ob->rows++;
	if (note_seq(s, ob) == -1)
		return -1;
	/* after the object took the row, so that a full disk loses nothing:
	 * the object is still uploaded */
	if (ob->spool_fd != -1 && (fdio_write_all(ob->spool_fd, line, len,
	    ob->spool_path, &s->err) == -1 || fdio_write_all(ob->spool_fd,
	    "\n", 1, ob->spool_path, &s->err) == -1)) {
		s->local_failed = 1;
		return -1;
	}
	ob->spool_dirty = ob->spool_fd != -1;
	return 0;
}

/* The row is converted into s->row: it goes into its partition's object. */
static int
route_row(struct csvsink *s, const char *line, size_t len)
{
	struct object *ob;

	if (row_partition(s, &s->scratch) == -1)
		return nomem(s);
	ob = find_object(s, s->scratch.data);
	if (ob != NULL && ob->rows > 0 &&
	    ob->raw + s->row.len > s->c.max_bytes) {
		if (object_close(s, ob, "max-bytes") == -1)
			return -1;
		ob = NULL;
	}
	if (ob == NULL) {
		/* object_close may have used scratch */
		if (row_partition(s, &s->scratch) == -1)
			return nomem(s);
		if ((ob = object_open(s, s->scratch.data)) == NULL)
			return -1;
	}
	if (object_append(s, ob, line, len) == -1)
		return -1;
	if (s->c.max_rows > 0 && ob->rows >= (unsigned long long)
	    s->c.max_rows)
		return object_close(s, ob, "max-rows");
	return 0;
}

static int
stdout_row(struct csvsink *s)
{
	csv_writer_init(&s->w, &s->out, ',', s->eol);
	if (!s->header_done && !s->c.no_header &&
	    rows_header(s->rows, &s->w) == -1)
		return nomem(s);
	s->header_done = 1;
	if (rows_write(s->rows, &s->w) == -1)
		return nomem(s);
	if (s->out.len >= STDOUT_FLUSH_BYTES)
		return flush_out(s);
	return 0;
}

static int
handle_line(struct csvsink *s, const char *line, size_t len)
{
	struct errbuf why;
	size_t i;
	int rc;

	for (i = 0; i < len && strchr(" \t\r", line[i]) != NULL; i++)
		;
	if (i == len)
		return 0;	/* blank lines separate nothing in NDJSON */
	if (!s->kf_ready && (rc = first_record(s, line, len, &why)) != 0)
		return rc == 1 ? bad_line(s, line, len, &why) : -1;
	if (rows_parse(s->rows, line, len, &why) == -1) {
		if (why.kind == ERR_SYSTEM)
			return errbuf_set(&s->err, ERR_SYSTEM, "%s", why.msg);
		return bad_line(s, line, len, &why);
	}
	if (s->c.to_stdout)
		return stdout_row(s);
	buf_reset(&s->row);
	csv_writer_init(&s->w, &s->row, ',', s->eol);
	if (rows_write(s->rows, &s->w) == -1)
		return nomem(s);
	return route_row(s, line, len);
}

int
csvsink_put_line(struct csvsink *s, const char *line, size_t len,
    const char *where, unsigned long lineno)
{
	int rc;

	s->where = where;
	s->lineno = lineno;
	rc = handle_line(s, line, len);
	if (rc == 0 && s->h.stopped != NULL && s->h.stopped(s->h.arg))
		rc = CSVSINK_STOPPED;
	return rc;
}

int
csvsink_put_toolong(struct csvsink *s, size_t max, const char *where,
    unsigned long lineno)
{
	struct errbuf why;
	int rc;

	s->where = where;
	s->lineno = lineno;
	/* the tool names the line; the reader's text does too */
	errbuf_set(&why, ERR_DATA, "line longer than %zu bytes", max);
	rc = bad_line(s, NULL, 0, &why);
	if (rc == 0 && s->h.stopped != NULL && s->h.stopped(s->h.arg))
		rc = CSVSINK_STOPPED;
	return rc;
}

int
csvsink_drain(struct csvsink *s, struct ndjson_reader *r)
{
	const char *line;
	size_t len;
	struct errbuf e;
	int rc;

	for (;;) {
		rc = ndjson_reader_next(r, &line, &len, &e);
		if (rc == NDJSON_LINE)
			rc = csvsink_put_line(s, line, len,
			    ndjson_reader_name(r), ndjson_reader_lineno(r));
		else if (rc == NDJSON_TOOLONG)
			rc = csvsink_put_toolong(s, ndjson_reader_max_line(r),
			    ndjson_reader_name(r), ndjson_reader_lineno(r));
		else if (rc == NDJSON_ERROR)
			return errbuf_set(&s->err, e.kind, "%s", e.msg);
		else
			return spool_sync(s) == -1 ? -1 : rc;
		if (rc < 0)
			return rc;
	}
}

/* ---- spool ---- */

static int
spool_name_filter(const struct dirent *d)
{
	size_t n = strlen(d->d_name), k = strlen(SPOOL_SUFFIX);

	return d->d_name[0] != '.' && n > k &&
	    strcmp(d->d_name + n - k, SPOOL_SUFFIX) == 0;
}

/* Takes the spool directory (made 0700 if missing) for this run alone. */
static int
spool_lock(struct csvsink *s)
{
	struct buf p = BUF_INIT;
	const char *dir = s->c.spool;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return errbuf_set(&s->err, ERR_CONFIG, "%s: %s", dir,
		    strerror(errno));
	if (buf_printf(&p, "%s/%s", dir, SPOOL_LOCK) == -1)
		return nomem(s);
	s->spool_lock_fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	buf_free(&p);
	if (s->spool_lock_fd == -1)
		return errbuf_set(&s->err, ERR_CONFIG, "%s: %s", dir,
		    strerror(errno));
	if (fdio_try_lock(s->spool_lock_fd) == -1)
		return errbuf_set(&s->err, ERR_CONFIG, "%s: in use by another "
		    "%s", dir, s->c.prog ? s->c.prog : "process");
	return 0;
}

/* Reads one spool file to its end (a regular file: no poll needed, but
 * max_age_ms still counts between reads, as for any input). */
static int
spool_read(struct csvsink *s, const char *path)
{
	struct ndjson_reader *r;
	struct errbuf e;
	long long next;
	int rc;

	if ((r = ndjson_reader_open(path, 0, &e)) == NULL)
		return errbuf_set(&s->err, ERR_CONFIG, "%s", e.msg);
	for (;;) {
		if ((rc = csvsink_drain(s, r)) != NDJSON_AGAIN)
			break;
		if ((rc = csvsink_tick(s, &next)) == -1)
			break;
		if (s->h.stopped != NULL && s->h.stopped(s->h.arg)) {
			rc = CSVSINK_STOPPED;
			break;
		}
		if (ndjson_reader_fill(r, &e) == NDJSON_ERROR) {
			rc = errbuf_set(&s->err, e.kind, "%s", e.msg);
			break;
		}
	}
	s->where = NULL;
	ndjson_reader_free(r);
	return rc;
}

int
csvsink_recover(struct csvsink *s)
{
	struct dirent **names = NULL;
	struct buf path = BUF_INIT;
	int i, n, rc = 0;

	if (s->c.spool == NULL)
		return 0;
	if ((n = scandir(s->c.spool, &names, spool_name_filter,
	    alphasort)) == -1)
		return errbuf_set(&s->err, ERR_CONFIG, "%s: %s", s->c.spool,
		    strerror(errno));
	s->recovering = 1;
	for (i = 0; i < n && rc == 0; i++) {
		buf_reset(&path);
		if (buf_printf(&path, "%s/%s", s->c.spool,
		    names[i]->d_name) == -1) {
			rc = nomem(s);
			break;
		}
		if (s->h.note != NULL) {
			char msg[ERRBUF_LEN];
			snprintf(msg, sizeof(msg), "%s: uploading rows left by "
			    "an earlier run", path.data);
			s->h.note(s->h.arg, msg);
		}
		if ((rc = spool_read(s, path.data)) == 0 &&
		    (rc = close_all(s, "spool")) == 0 &&
		    unlink(path.data) == -1)
			warn(s, "%s: %s", path.data, strerror(errno));
	}
	s->recovering = 0;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	buf_free(&path);
	return rc;
}

/* ---- setup ---- */

static int
setup_rows(struct csvsink *s)
{
	const struct csvsink_config *c = &s->c;
	size_t i;

	if ((s->rows = rows_new(c->null_text)) == NULL)
		return nomem(s);
	rows_on_unknown(s->rows, on_unknown, s);
	if (c->columns != NULL) {
		if (rows_add_columns(s->rows, c->columns, &s->err) == -1)
			return -1;
		s->columns_ready = 1;
	}
	if ((s->cap_shard = rows_add_capture(s->rows, "_shard", 0,
	    &s->err)) == -1 || (s->cap_seq = rows_add_capture(s->rows,
	    "_seq", 0, &s->err)) == -1 || (s->cap_subseq =
	    rows_add_capture(s->rows, "_subseq", 0, &s->err)) == -1)
		return -1;
	/* the format's fields are read from every row; the format itself is
	 * settled at the first row (the default depends on it) */
	if (c->key_format != NULL &&
	    keyfmt_parse(&s->kf, c->key_format, &s->err) == -1)
		return -1;
	if (s->kf.nfields > 0 && (s->cap_fields = calloc(s->kf.nfields,
	    sizeof(long))) == NULL)
		return nomem(s);
	for (i = 0; i < s->kf.nfields; i++)
		if ((s->cap_fields[i] = rows_add_capture(s->rows,
		    s->kf.fields[i], 1, &s->err)) == -1)
			return -1;
	keyfmt_free(&s->kf);
	return 0;
}

static int
setup(struct csvsink *s)
{
	s->eol = s->c.lf ? "\n" : "\r\n";
	if (gethostname(s->host, sizeof(s->host) - 1) == -1)
		snprintf(s->host, sizeof(s->host), "localhost");
	if (setup_rows(s) == -1)
		return -1;
	if (s->c.to_stdout)
		return 0;
	if (s->c.checkpoint != NULL &&
	    checkpoint_load(s->c.checkpoint, &s->cp, &s->err) == -1)
		return -1;
	if (s->c.spool != NULL && spool_lock(s) == -1)
		return -1;
	return 0;
}

struct csvsink *
csvsink_new(const struct csvsink_config *c, const struct csvsink_store *store,
    const struct csvsink_hooks *h, struct errbuf *err)
{
	struct csvsink *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	s->c = *c;
	if (s->c.prefix == NULL)
		s->c.prefix = "";
	s->store = store;
	s->h = *h;
	s->spool_lock_fd = -1;
	if (setup(s) == -1) {
		*err = s->err;
		csvsink_free(s);
		return NULL;
	}
	return s;
}

void
csvsink_free(struct csvsink *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nobjs; i++)
		object_free(s, s->objs[i]);
	free(s->objs);
	rows_free(s->rows);
	free(s->cap_fields);
	keyfmt_free(&s->kf);
	buf_free(&s->row);
	buf_free(&s->header);
	buf_free(&s->out);
	buf_free(&s->scratch);
	checkpoint_free(&s->cp);
	checkpoint_free(&s->uploaded);
	if (s->spool_lock_fd != -1)
		close(s->spool_lock_fd);
	free(s);
}

size_t
csvsink_pending(const struct csvsink *s)
{
	return s->nobjs;
}

const struct errbuf *
csvsink_error(const struct csvsink *s)
{
	return &s->err;
}

int
csvsink_local_failed(const struct csvsink *s)
{
	return s->local_failed;
}

void
csvsink_forget_local(struct csvsink *s)
{
	s->local_failed = 0;
}

/* ---- the production store: lib/s3out ---- */

static void *
s3_begin(void *arg, const char *key, struct errbuf *err)
{
	struct s3out *o = malloc(sizeof(*o));

	if (o == NULL) {
		errbuf_set(err, ERR_SYSTEM, "out of memory");
		return NULL;
	}
	if (s3out_begin(o, arg, key, err) == -1) {
		s3out_free(o);
		free(o);
		return NULL;
	}
	return o;
}

static int
s3_write(void *obj, const void *p, size_t n, struct errbuf *err)
{
	return s3out_write(obj, p, n, err);
}

static int
s3_finish(void *obj, const char *key, char etag[S3_ETAG_MAX],
    struct errbuf *err)
{
	struct s3out *o = obj;

	if (o->key == NULL && s3out_set_key(o, key, err) == -1)
		return -1;
	return s3out_finish(o, etag, err);
}

static unsigned long long
s3_stored(void *obj)
{
	return ((struct s3out *)obj)->stored;
}

static int
s3_multipart(void *obj)
{
	return s3out_is_multipart(obj);
}

static void
s3_discard(void *obj)
{
	s3out_free(obj);
	free(obj);
}

void
csvsink_store_s3(struct csvsink_store *store, struct s3out_target *t,
    const struct csvsink_config *c, unsigned long long part_size)
{
	unsigned long long max_stored;

	max_stored = c->max_bytes + (c->gzip ? GZIP_SLACK(c->max_bytes) : 0);
	t->part_size = (size_t)s3_part_size(part_size, max_stored);
	t->gzip = c->gzip;
	t->opts.content_type = c->no_header ? CT_NO_HEADER : CT_HEADER;
	t->opts.content_encoding = c->gzip ? "gzip" : NULL;
	store->begin = s3_begin;
	store->write = s3_write;
	store->finish = s3_finish;
	store->stored = s3_stored;
	store->multipart = s3_multipart;
	store->discard = s3_discard;
	store->arg = t;
}
