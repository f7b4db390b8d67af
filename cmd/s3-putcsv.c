/*
 * s3-putcsv: NDJSON objects in, RFC 4180 CSV objects in S3 out: rotated by
 * rows, bytes and age, streamed as multipart uploads, replay-safe keys for
 * kin-get --format meta input, a checkpoint written after each durable
 * upload, and an optional on-disk spool for input that cannot be replayed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "awstool.h"
#include "buf.h"
#include "checkpoint.h"
#include "cli.h"
#include "csv.h"
#include "errbuf.h"
#include "keyfmt.h"
#include "ndjson.h"
#include "rows.h"
#include "s3.h"
#include "s3out.h"

#include "common/tool.h"

#define PROG "s3-putcsv"
#define DEFAULT_MAX_BYTES (64ULL << 20)
#define DEFAULT_PART_SIZE (8ULL << 20)
#define DEFAULT_MAX_AGE_MS (5LL * 60 * 1000)
#define STDOUT_FLUSH_BYTES ((size_t)1 << 20)
/* Default keys: Hive-style partitions, sortable by time, unique by uuid. */
#define KEY_HIVE "dt=%Y-%m-%d/hr=%H/%Y%m%dT%H%M%SZ-{n}-{uuid}.csv"
/* Input from kin-get --format meta: a replay rewrites the same objects. */
#define KEY_REPLAY "{shard}/{first_seq}.csv"
#define CT_HEADER "text/csv; charset=utf-8; header=present"
#define CT_NO_HEADER "text/csv; charset=utf-8; header=absent"
#define SPOOL_SUFFIX ".ndjson"
#define SPOOL_LOCK ".lock"
/* deflate may grow incompressible input a little (zlib: 5 bytes per
 * 16 KiB block plus a header); parts are sized for this much more. */
#define GZIP_SLACK(n) ((n) / 1024 + 1024)

/* Stopped by a signal: callers unwind and the object list is flushed. */
#define STOPPED (-2)
/* A bad line under --strict. */
#define STRICT_STOP (-3)
/* A local file (dead letters, spool, checkpoint) could not be written:
 * reading stops, and what was read before still goes up. */
#define LOCAL_STOP (-4)

struct opts {
	char *bucket, *prefix;
	const char *columns, *null_text, *key_format;
	int no_header, lf, gzip;
	long long max_rows, max_age_ms;
	unsigned long long max_bytes, part_size;
	const char *sse, *sse_kms_key_id, *storage_class;
	const char *checkpoint, *spool, *dead_letter;
	int tee, to_stdout, dry_run, strict;
	const char *region, *profile, *endpoint_url;
	int quiet, verbose;
	struct tool_common common;	/* parsed; copied to the five above */
	char **files;
	int nfiles;
};

/* The last _seq (and _subseq) of one shard. */
struct mark {
	char *shard;
	char *seq;
	long subseq;
};

struct marks {
	struct mark *v;
	size_t n;
};

/* One open object. */
struct object {
	char *part;			/* partition: shard and field values */
	struct s3out out;
	unsigned long long rows, n;
	long long opened_ms;		/* monotonic, for --max-age */
	time_t opened;			/* wall clock, for the key */
	char uuid[KEYFMT_UUID_LEN];
	char *shard, *first_seq, *last_seq;
	char **fields;			/* keyfmt field values of row one */
	struct marks marks;		/* last _seq per shard in it */
	int spool_fd;
	char *spool_path;
};

struct state {
	const struct opts *o;
	struct rows *rows;
	long cap_shard, cap_seq, cap_subseq, *cap_fields;
	struct keyfmt kf;
	int kf_ready;
	struct awstool aws;
	int aws_open;
	struct s3out_target target;
	struct object **objs;
	size_t nobjs;
	struct buf row, header, out, scratch;
	struct csv_writer w;
	const char *eol;
	struct checkpoint cp;
	struct marks uploaded;		/* highest uploaded per shard */
	unsigned long long nobjects;
	char host[256];
	int columns_ready, header_done;
	unsigned long bad;
	int dead_fd, spool_lock_fd, recovering;
	int local_failed;	/* st->err is about a local file */
	const struct ndjson_reader *reader;	/* for messages */
	struct errbuf err;
};

static int verbose, quiet;

static void
usage(FILE *f)
{
	fputs("usage: " PROG " s3://BUCKET[/PREFIX] [options] [FILE...]\n"
	    "       " PROG " --stdout [options] [FILE...]\n"
	    "CSV:\n"
	    "  -c, --columns LIST          columns: a,b.c,name=path "
	    "(default: first record's keys)\n"
	    "  -H, --no-header             no header row\n"
	    "  -N, --null STR              text for null and missing values\n"
	    "      --lf                    end rows with LF, not CRLF\n"
	    "objects:\n"
	    "  -r, --max-rows N            rows per object (default no limit)\n"
	    "  -b, --max-bytes SIZE        CSV bytes per object (default 64MiB)\n"
	    "  -a, --max-age DURATION      from an object's first row "
	    "(default 5m)\n"
	    "  -k, --key-format FMT        key under PREFIX: strftime, {uuid} "
	    "{n} {host} {shard}\n"
	    "                              {first_seq} {last_seq} "
	    "{field:NAME}\n"
	    "  -z, --gzip                  gzip objects (.csv.gz)\n"
	    "      --part-size SIZE        multipart part size "
	    "(default 8MiB, at least 5MiB)\n"
	    "      --sse AES256|aws:kms    server-side encryption\n"
	    "      --sse-kms-key-id ID     KMS key for aws:kms\n"
	    "      --storage-class CLASS   S3 storage class\n"
	    "safety:\n"
	    "  -C, --checkpoint FILE       last _seq per _shard uploaded "
	    "(kin-get --resume)\n"
	    "  -S, --spool DIR             keep rows on disk until uploaded\n"
	    "  -s, --strict                stop at the first bad line (exit 5)\n"
	    "  -D, --dead-letter FILE      append bad lines to FILE\n"
	    "output:\n"
	    "  -T, --tee                   one JSON line per uploaded object\n"
	    "  -o, --stdout                CSV to stdout, nothing uploaded\n"
	    "  -n, --dry-run               say what would be uploaded\n"
	    "AWS:\n"
	    "      --region REGION         --profile NAME   "
	    "--endpoint-url URL\n"
	    "  -q, --quiet                 no warnings\n"
	    "  -v, --verbose               each upload; -vv HTTP trace\n"
	    "  -h, --help                  this text\n"
	    "  -V, --version               version and library versions\n",
	    f);
}

/* The engine's old names, until it moves to lib/csvsink. */
#define warn(...) tool_notice(__VA_ARGS__)
#define trace_line tool_trace_line

static int
write_fd(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Writes and empties b on stdout; EPIPE ends the tool like any filter. */
static int
flush_stdout(struct state *st, struct buf *b)
{
	if (b->len == 0)
		return 0;
	if (write_fd(STDOUT_FILENO, b->data, b->len) == -1) {
		if (errno == EPIPE)
			cli_raise_sigpipe();
		return errbuf_set(&st->err, ERR_SYSTEM, "stdout: %s",
		    strerror(errno));
	}
	buf_reset(b);
	return 0;
}

static char *
xstrndup(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* ---- marks: the last _seq per shard ---- */

static struct mark *
mark_find(struct marks *m, const char *shard)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->v[i].shard, shard) == 0)
			return &m->v[i];
	return NULL;
}

/* Moves the mark of shard forward to seq/subseq (never back). */
static int
mark_set(struct marks *m, const char *shard, const char *seq, long subseq)
{
	struct mark *k = mark_find(m, shard), *v;
	char *s;
	int c;

	if (k == NULL) {
		if ((v = realloc(m->v, (m->n + 1) * sizeof(*v))) == NULL)
			return -1;
		m->v = v;
		k = &m->v[m->n];
		if ((k->shard = strdup(shard)) == NULL)
			return -1;
		k->seq = NULL;
		m->n++;
	}
	if (k->seq != NULL) {
		c = checkpoint_seq_cmp(seq, k->seq);
		if (c < 0 || (c == 0 && subseq <= k->subseq))
			return 0;
	}
	if ((s = strdup(seq)) == NULL)
		return -1;
	free(k->seq);
	k->seq = s;
	k->subseq = subseq;
	return 0;
}

static void
marks_free(struct marks *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].shard);
		free(m->v[i].seq);
	}
	free(m->v);
	m->v = NULL;
	m->n = 0;
}

/* ---- objects ---- */

static void
object_free(struct state *st, struct object *ob)
{
	size_t i;

	if (ob == NULL)
		return;
	s3out_free(&ob->out);
	free(ob->part);
	free(ob->shard);
	free(ob->first_seq);
	free(ob->last_seq);
	for (i = 0; ob->fields != NULL && i < st->kf.nfields; i++)
		free(ob->fields[i]);
	free(ob->fields);
	marks_free(&ob->marks);
	if (ob->spool_fd != -1)
		close(ob->spool_fd);
	free(ob->spool_path);
	free(ob);
}

/* The text of capture idx in the current row, copied; NULL when absent. */
static char *
capture_dup(struct state *st, long idx)
{
	const char *p;
	size_t n;

	if (idx < 0 || !rows_capture(st->rows, idx, &p, &n))
		return NULL;
	return xstrndup(p, n);
}

/* The partition of the current row: the key fields that split objects. */
static int
row_partition(struct state *st, struct buf *b)
{
	const char *p;
	size_t i, n;

	buf_reset(b);
	if (buf_putc(b, '/') == -1)
		return -1;
	if ((st->kf.uses & KEYFMT_USES_SHARD) &&
	    rows_capture(st->rows, st->cap_shard, &p, &n) &&
	    buf_append(b, p, n) == -1)
		return -1;
	for (i = 0; i < st->kf.nfields; i++) {
		/* a unit separator cannot be in a sane key part */
		if (buf_putc(b, '\x1f') == -1)
			return -1;
		if (rows_capture(st->rows, st->cap_fields[i], &p, &n) &&
		    buf_append(b, p, n) == -1)
			return -1;
	}
	return 0;
}

static struct object *
find_object(struct state *st, const char *part)
{
	size_t i;

	for (i = 0; i < st->nobjs; i++)
		if (strcmp(st->objs[i]->part, part) == 0)
			return st->objs[i];
	return NULL;
}

/* PREFIX/expanded-format for ob; appended to key. */
static int
object_key(struct state *st, struct object *ob, struct buf *key)
{
	struct keyfmt_vars v;
	const char *pre = st->o->prefix;

	memset(&v, 0, sizeof(v));
	v.time = ob->opened;
	v.uuid = ob->uuid;
	v.n = ob->n;
	v.host = st->host;
	v.shard = ob->shard;
	v.first_seq = ob->first_seq;
	v.last_seq = ob->last_seq;
	v.fields = (const char *const *)ob->fields;
	buf_reset(key);
	if (buf_puts(key, pre) == -1 || (*pre != '\0' &&
	    pre[strlen(pre) - 1] != '/' && buf_putc(key, '/') == -1))
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	return keyfmt_expand(&st->kf, &v, key, &st->err);
}

static int
spool_open(struct state *st, struct object *ob)
{
	struct buf p = BUF_INIT;

	if (st->o->spool == NULL || st->recovering)
		return 0;
	/* time first, so a recovery takes the files in the order written */
	if (buf_printf(&p, "%s/%lld-%ld-%06llu%s", st->o->spool,
	    (long long)ob->opened, (long)getpid(), ob->n, SPOOL_SUFFIX) == -1)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	ob->spool_path = buf_steal(&p);
	ob->spool_fd = open(ob->spool_path, O_WRONLY | O_CREAT | O_EXCL |
	    O_APPEND | O_CLOEXEC, 0600);
	if (ob->spool_fd == -1)
		return errbuf_set(&st->err, ERR_SYSTEM, "%s: %s",
		    ob->spool_path, strerror(errno));
	return 0;
}

static int
object_fill(struct state *st, struct object *ob)
{
	unsigned char rnd[16];
	size_t i;

	ob->n = ++st->nobjects;
	ob->opened = time(NULL);
	ob->opened_ms = cli_mono_ms();
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return errbuf_set(&st->err, ERR_SYSTEM, "no random bytes");
	keyfmt_uuid(rnd, ob->uuid);
	ob->shard = capture_dup(st, st->cap_shard);
	ob->first_seq = capture_dup(st, st->cap_seq);
	if (st->kf.nfields > 0 &&
	    (ob->fields = calloc(st->kf.nfields, sizeof(char *))) == NULL)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	for (i = 0; i < st->kf.nfields; i++)
		ob->fields[i] = capture_dup(st, st->cap_fields[i]);
	return 0;
}

/* Opens an object for the current row's partition. */
static struct object *
object_open(struct state *st, const char *part)
{
	struct object *ob = calloc(1, sizeof(*ob)), **v;
	struct buf key = BUF_INIT;
	const char *k = NULL;

	if (ob == NULL || (ob->part = strdup(part)) == NULL)
		goto nomem;
	ob->spool_fd = -1;
	ob->out.spill_fd = -1;
	if (object_fill(st, ob) == -1)
		goto fail;
	if (!(st->kf.uses & KEYFMT_USES_LAST_SEQ)) {
		if (object_key(st, ob, &key) == -1)
			goto fail;
		k = key.data;
	}
	if (s3out_begin(&ob->out, &st->target, k, &st->err) == -1 ||
	    spool_open(st, ob) == -1)
		goto fail;
	if (!st->o->no_header && s3out_write(&ob->out, st->header.data,
	    st->header.len, &st->err) == -1)
		goto fail;
	/* an array of pointers: each object is allocated on its own */
	v = realloc(st->objs, (st->nobjs + 1) * sizeof(struct object *));
	if (v == NULL)
		goto nomem;
	st->objs = v;
	st->objs[st->nobjs++] = ob;
	buf_free(&key);
	return ob;
nomem:
	errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
fail:
	buf_free(&key);
	object_free(st, ob);
	return NULL;
}

/* ---- uploads ---- */

static int
shard_in_open_object(struct state *st, const char *shard,
    const struct object *except)
{
	size_t i;

	for (i = 0; i < st->nobjs; i++)
		if (st->objs[i] != except &&
		    mark_find(&st->objs[i]->marks, shard) != NULL)
			return 1;
	return 0;
}

/*
 * After ob is durable: a shard's checkpoint moves to the highest uploaded
 * _seq only when no other open object still holds rows of that shard,
 * since those rows are older than that _seq and not uploaded yet.
 */
static int
checkpoint_after(struct state *st, const struct object *ob)
{
	const struct mark *m, *u;
	size_t i;
	int moved = 0;

	for (i = 0; i < ob->marks.n; i++) {
		m = &ob->marks.v[i];
		if (mark_set(&st->uploaded, m->shard, m->seq, m->subseq) == -1)
			return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
		if (st->o->checkpoint == NULL ||
		    shard_in_open_object(st, m->shard, ob))
			continue;
		u = mark_find(&st->uploaded, m->shard);
		if (checkpoint_set(&st->cp, u->shard, u->seq, u->subseq,
		    &st->err) == -1)
			return -1;
		moved = 1;
	}
	if (moved && checkpoint_save(st->o->checkpoint, &st->cp, &st->err)
	    == -1)
		return -1;
	return 0;
}

static int
tee_line(struct state *st, const struct object *ob, const char *key,
    const char *etag)
{
	struct buf *b = &st->scratch;

	buf_reset(b);
	if (buf_puts(b, "{\"bucket\":") == -1 ||
	    ndjson_append_string(b, st->o->bucket, strlen(st->o->bucket))
	    == -1 || buf_puts(b, ",\"key\":") == -1 ||
	    ndjson_append_string(b, key, strlen(key)) == -1 ||
	    buf_printf(b, ",\"rows\":%llu,\"bytes\":%llu,\"etag\":", ob->rows,
	    ob->out.stored) == -1 ||
	    ndjson_append_string(b, etag, strlen(etag)) == -1)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	if (buf_puts(b, ",\"first_seq\":") == -1 || (ob->first_seq ?
	    ndjson_append_string(b, ob->first_seq, strlen(ob->first_seq)) :
	    buf_puts(b, "null")) == -1 || buf_puts(b, ",\"last_seq\":") == -1 ||
	    (ob->last_seq ? ndjson_append_string(b, ob->last_seq,
	    strlen(ob->last_seq)) : buf_puts(b, "null")) == -1 ||
	    buf_puts(b, "}\n") == -1)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	return flush_stdout(st, b);
}

static void
report_upload(struct state *st, const struct object *ob, const char *key,
    const char *why)
{
	if (st->o->dry_run)
		fprintf(stderr, PROG ": dry run: would upload s3://%s/%s "
		    "(%llu rows, %llu bytes, %s)\n", st->o->bucket, key,
		    ob->rows, ob->out.stored, why);
	else if (verbose)
		fprintf(stderr, PROG ": uploaded s3://%s/%s (%llu rows, %llu "
		    "bytes, %s%s)\n", st->o->bucket, key, ob->rows,
		    ob->out.stored, why,
		    s3out_is_multipart(&ob->out) ? ", multipart" : "");
}

/* Removes ob from the open list (it stays allocated). */
static void
object_unlist(struct state *st, const struct object *ob)
{
	size_t i;

	for (i = 0; i < st->nobjs; i++)
		if (st->objs[i] == ob) {
			memmove(&st->objs[i], &st->objs[i + 1],
			    (st->nobjs - i - 1) * sizeof(struct object *));
			st->nobjs--;
			return;
		}
}

/*
 * Uploads ob, then checkpoint, tee and spool, and frees it. On failure ob
 * stays listed (and its spool file in place) so the run reports it.
 */
static int
object_close(struct state *st, struct object *ob, const char *why)
{
	struct buf key = BUF_INIT;
	struct errbuf first;
	char etag[S3_ETAG_MAX];
	int rc = -1;

	if (ob->out.key == NULL && (object_key(st, ob, &key) == -1 ||
	    s3out_set_key(&ob->out, key.data, &st->err) == -1))
		goto out;
	if (s3out_finish(&ob->out, etag, &st->err) == -1)
		goto out;
	report_upload(st, ob, ob->out.key, why);
	object_unlist(st, ob);
	rc = 0;
	if (!st->o->dry_run && checkpoint_after(st, ob) == -1) {
		st->local_failed = st->err.kind == ERR_SYSTEM;
		rc = -1;
	}
	/* the object is in S3 even when its checkpoint could not be
	 * saved: the tee still says so, and the first error is kept */
	if (st->o->tee) {
		first = st->err;
		if (tee_line(st, ob, ob->out.key, etag) == -1) {
			if (rc == -1)
				st->err = first;
			rc = -1;
		}
	}
	if (ob->spool_path != NULL && unlink(ob->spool_path) == -1)
		warn("%s: %s", ob->spool_path, strerror(errno));
	object_free(st, ob);
out:
	buf_free(&key);
	return rc;
}

static int
close_all(struct state *st, const char *why)
{
	struct errbuf first;
	struct object *ob;
	int rc = 0;

	while (st->nobjs > 0) {
		ob = st->objs[0];
		if (object_close(st, ob, why) == 0)
			continue;
		if (rc == 0)
			first = st->err;
		rc = -1;
		/* an upload that failed leaves its object listed: stop; one
		 * that went up (its checkpoint failed) lets the others go */
		if (st->nobjs > 0 && st->objs[0] == ob)
			break;
	}
	if (rc == -1)
		st->err = first;
	return rc;
}

/* Closes objects past --max-age; returns ms until the next one is due
 * (-1: none open or no age limit). */
static long long
close_aged(struct state *st, int *failed)
{
	long long now = cli_mono_ms(), next = -1, due;
	size_t i = 0;

	*failed = 0;
	if (st->o->max_age_ms <= 0)
		return -1;
	while (i < st->nobjs) {
		due = st->objs[i]->opened_ms + st->o->max_age_ms;
		if (due <= now) {
			if (object_close(st, st->objs[i], "max-age") == -1) {
				*failed = 1;
				return -1;
			}
			continue;
		}
		if (next == -1 || due - now < next)
			next = due - now;
		i++;
	}
	return next;
}

/* ---- lines ---- */

static void
on_unknown(void *arg, const char *key, size_t len)
{
	struct state *st = arg;

	if (st->reader != NULL)
		warn("%s:%lu: key '%.*s' is not a column (reported once)",
		    ndjson_reader_name(st->reader),
		    ndjson_reader_lineno(st->reader), (int)len, key);
	else
		warn("key '%.*s' is not a column (reported once)", (int)len,
		    key);
}

/* A line that could not be converted: reported, kept, counted. */
static int
bad_line(struct state *st, const char *line, size_t len,
    const struct errbuf *why)
{
	fprintf(stderr, PROG ": %s:%lu: %s\n", ndjson_reader_name(st->reader),
	    ndjson_reader_lineno(st->reader), why->msg);
	st->bad++;
	if (st->dead_fd != -1 && line != NULL &&
	    (write_fd(st->dead_fd, line, len) == -1 ||
	    write_fd(st->dead_fd, "\n", 1) == -1)) {
		st->local_failed = 1;
		return errbuf_set(&st->err, ERR_SYSTEM, "%s: %s",
		    st->o->dead_letter, strerror(errno));
	}
	return st->o->strict ? STRICT_STOP : 0;
}

/* The first good record fixes the columns and, unless given, the key. */
static int
first_record(struct state *st, const char *line, size_t len,
    struct errbuf *why)
{
	const char *fmt = st->o->key_format;
	const char *p;
	size_t n;

	if (!st->columns_ready) {
		if (rows_columns_from(st->rows, line, len, why) == -1)
			return 1;
		st->columns_ready = 1;
	}
	if (st->kf_ready)
		return 0;
	if (rows_parse(st->rows, line, len, why) == -1)
		return 1;
	if (fmt == NULL)
		fmt = rows_capture(st->rows, st->cap_shard, &p, &n) &&
		    rows_capture(st->rows, st->cap_seq, &p, &n) ?
		    (st->o->gzip ? KEY_REPLAY ".gz" : KEY_REPLAY) :
		    (st->o->gzip ? KEY_HIVE ".gz" : KEY_HIVE);
	if (keyfmt_parse(&st->kf, fmt, &st->err) == -1)
		return -1;
	st->kf_ready = 1;
	buf_reset(&st->header);
	csv_writer_init(&st->w, &st->header, ',', st->eol);
	return rows_header(st->rows, &st->w) == -1 ?
	    errbuf_set(&st->err, ERR_SYSTEM, "out of memory") : 0;
}

/* Notes the row's _shard/_seq/_subseq in ob. */
static int
note_seq(struct state *st, struct object *ob)
{
	const char *p;
	size_t n;
	char *shard = capture_dup(st, st->cap_shard);
	char *seq = capture_dup(st, st->cap_seq);
	long subseq = CHECKPOINT_NO_SUBSEQ;
	int rc = 0;

	if (rows_capture(st->rows, st->cap_subseq, &p, &n) && n < 20) {
		char t[24], *end;
		memcpy(t, p, n);
		t[n] = '\0';
		subseq = strtol(t, &end, 10);
		if (*end != '\0' || subseq < 0)
			subseq = CHECKPOINT_NO_SUBSEQ;
	}
	if (seq != NULL) {
		free(ob->last_seq);
		ob->last_seq = strdup(seq);
		if (ob->last_seq == NULL ||
		    (shard != NULL && mark_set(&ob->marks, shard, seq,
		    subseq) == -1))
			rc = errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	}
	free(shard);
	free(seq);
	return rc;
}

static int
object_append(struct state *st, struct object *ob, const char *line,
    size_t len)
{
	if (s3out_write(&ob->out, st->row.data, st->row.len, &st->err) == -1)
		return -1;
	ob->rows++;
	if (note_seq(st, ob) == -1)
		return -1;
	/* after the object took the row, so that a full disk loses nothing:
	 * the object is still uploaded (LOCAL_STOP) */
	if (ob->spool_fd != -1 && (write_fd(ob->spool_fd, line, len) == -1 ||
	    write_fd(ob->spool_fd, "\n", 1) == -1)) {
		st->local_failed = 1;
		return errbuf_set(&st->err, ERR_SYSTEM, "%s: %s",
		    ob->spool_path, strerror(errno));
	}
	return 0;
}

/* The row is converted into st->row: it goes into its partition's object. */
static int
route_row(struct state *st, const char *line, size_t len)
{
	struct object *ob;

	if (row_partition(st, &st->scratch) == -1)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	ob = find_object(st, st->scratch.data);
	if (ob != NULL && ob->rows > 0 &&
	    ob->out.raw + st->row.len > st->o->max_bytes) {
		if (object_close(st, ob, "max-bytes") == -1)
			return -1;
		ob = NULL;
	}
	if (ob == NULL) {
		/* object_close may have used scratch */
		if (row_partition(st, &st->scratch) == -1)
			return errbuf_set(&st->err, ERR_SYSTEM,
			    "out of memory");
		if ((ob = object_open(st, st->scratch.data)) == NULL)
			return -1;
	}
	if (object_append(st, ob, line, len) == -1)
		return -1;
	if (st->o->max_rows > 0 && ob->rows >= (unsigned long long)
	    st->o->max_rows)
		return object_close(st, ob, "max-rows");
	return 0;
}

static int
stdout_row(struct state *st)
{
	csv_writer_init(&st->w, &st->out, ',', st->eol);
	if (!st->header_done && !st->o->no_header &&
	    rows_header(st->rows, &st->w) == -1)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	st->header_done = 1;
	if (rows_write(st->rows, &st->w) == -1)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	if (st->out.len >= STDOUT_FLUSH_BYTES)
		return flush_stdout(st, &st->out);
	return 0;
}

static int
handle_line(struct state *st, const char *line, size_t len)
{
	struct errbuf why;
	size_t i;
	int rc;

	for (i = 0; i < len && strchr(" \t\r", line[i]) != NULL; i++)
		;
	if (i == len)
		return 0;	/* blank lines separate nothing in NDJSON */
	if (!st->kf_ready && (rc = first_record(st, line, len, &why)) != 0)
		return rc == 1 ? bad_line(st, line, len, &why) : -1;
	if (rows_parse(st->rows, line, len, &why) == -1) {
		if (why.kind == ERR_SYSTEM)
			return errbuf_set(&st->err, ERR_SYSTEM, "%s", why.msg);
		return bad_line(st, line, len, &why);
	}
	if (st->o->to_stdout)
		return stdout_row(st);
	buf_reset(&st->row);
	csv_writer_init(&st->w, &st->row, ',', st->eol);
	if (rows_write(st->rows, &st->w) == -1)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	return route_row(st, line, len);
}

/* Hands out the lines already read; NDJSON_AGAIN or NDJSON_EOF at the end. */
static int
drain_lines(struct state *st, struct ndjson_reader *r)
{
	const char *line;
	size_t len;
	struct errbuf e;
	int rc;

	for (;;) {
		rc = ndjson_reader_next(r, &line, &len, &e);
		if (rc == NDJSON_LINE)
			rc = handle_line(st, line, len);
		else if (rc == NDJSON_TOOLONG) {
			/* bad_line names the line; the reader's text does too */
			errbuf_set(&e, ERR_DATA, "line longer than %zu bytes",
			    (size_t)NDJSON_DEFAULT_MAX_LINE);
			rc = bad_line(st, NULL, 0, &e);
		}
		else if (rc == NDJSON_ERROR)
			return errbuf_set(&st->err, e.kind, "%s", e.msg);
		else
			return rc;
		if (rc < 0)
			return rc;
		if (cli_stop_signal)
			return STOPPED;
	}
}

/* Waits for input or the next --max-age deadline; 1 when readable. */
static int
wait_input(struct state *st, int fd)
{
	struct pollfd p = { fd, POLLIN, 0 };
	long long next;
	int failed, n;

	next = close_aged(st, &failed);
	if (failed)
		return -1;
	if (st->o->to_stdout && flush_stdout(st, &st->out) == -1)
		return -1;
	if (cli_stop_signal)
		return STOPPED;
	n = poll(&p, 1, next < 0 ? -1 : next > INT_MAX ? INT_MAX : (int)next);
	if (n == -1 && errno != EINTR)
		return errbuf_set(&st->err, ERR_SYSTEM, "poll: %s",
		    strerror(errno));
	if (cli_stop_signal)
		return STOPPED;
	return n > 0;
}

/* Reads one input to its end, honouring --max-age while it is idle. */
static int
read_input(struct state *st, struct ndjson_reader *r)
{
	struct errbuf e;
	int rc;

	st->reader = r;
	for (;;) {
		if ((rc = drain_lines(st, r)) != NDJSON_AGAIN)
			return rc == NDJSON_EOF ? 0 : rc;
		if ((rc = wait_input(st, ndjson_reader_fd(r))) < 0)
			return rc;
		if (rc == 1 && ndjson_reader_fill(r, &e) == NDJSON_ERROR)
			return errbuf_set(&st->err, e.kind, "%s", e.msg);
	}
}

static int
read_path(struct state *st, const char *path)
{
	struct ndjson_reader *r;
	struct errbuf e;
	int rc;

	if ((r = ndjson_reader_open(path, 0, &e)) == NULL)
		return errbuf_set(&st->err, ERR_CONFIG, "%s", e.msg);
	rc = read_input(st, r);
	st->reader = NULL;
	ndjson_reader_free(r);
	return rc;
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
spool_lock(struct state *st)
{
	struct flock fl;
	struct buf p = BUF_INIT;
	const char *dir = st->o->spool;

	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return errbuf_set(&st->err, ERR_CONFIG, "%s: %s", dir,
		    strerror(errno));
	if (buf_printf(&p, "%s/%s", dir, SPOOL_LOCK) == -1)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	st->spool_lock_fd = open(p.data, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	buf_free(&p);
	if (st->spool_lock_fd == -1)
		return errbuf_set(&st->err, ERR_CONFIG, "%s: %s", dir,
		    strerror(errno));
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(st->spool_lock_fd, F_SETLK, &fl) == -1)
		return errbuf_set(&st->err, ERR_CONFIG, "%s: in use by another "
		    PROG, dir);
	return 0;
}

/* Uploads the rows an earlier run left in the spool, oldest file first. */
static int
spool_recover(struct state *st)
{
	struct dirent **names = NULL;
	struct buf path = BUF_INIT;
	int i, n, rc = 0;

	if ((n = scandir(st->o->spool, &names, spool_name_filter,
	    alphasort)) == -1)
		return errbuf_set(&st->err, ERR_CONFIG, "%s: %s",
		    st->o->spool, strerror(errno));
	st->recovering = 1;
	for (i = 0; i < n && rc == 0; i++) {
		buf_reset(&path);
		if (buf_printf(&path, "%s/%s", st->o->spool,
		    names[i]->d_name) == -1) {
			rc = errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
			break;
		}
		if (verbose)
			fprintf(stderr, PROG ": %s: uploading rows left by an "
			    "earlier run\n", path.data);
		if ((rc = read_path(st, path.data)) == 0 &&
		    (rc = close_all(st, "spool")) == 0 &&
		    unlink(path.data) == -1)
			warn("%s: %s", path.data, strerror(errno));
	}
	st->recovering = 0;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	buf_free(&path);
	return rc;
}

/* ---- setup and run ---- */

static int
setup_rows(struct state *st)
{
	const struct opts *o = st->o;
	size_t i;

	if ((st->rows = rows_new(o->null_text)) == NULL)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	rows_on_unknown(st->rows, on_unknown, st);
	if (o->columns != NULL) {
		if (rows_add_columns(st->rows, o->columns, &st->err) == -1)
			return -1;
		st->columns_ready = 1;
	}
	if ((st->cap_shard = rows_add_capture(st->rows, "_shard", 0,
	    &st->err)) == -1 || (st->cap_seq = rows_add_capture(st->rows,
	    "_seq", 0, &st->err)) == -1 || (st->cap_subseq =
	    rows_add_capture(st->rows, "_subseq", 0, &st->err)) == -1)
		return -1;
	/* the format's fields are read from every row; the format itself is
	 * settled at the first row (the default depends on it) */
	if (o->key_format != NULL &&
	    keyfmt_parse(&st->kf, o->key_format, &st->err) == -1)
		return -1;
	if (st->kf.nfields > 0 && (st->cap_fields = calloc(st->kf.nfields,
	    sizeof(long))) == NULL)
		return errbuf_set(&st->err, ERR_SYSTEM, "out of memory");
	for (i = 0; i < st->kf.nfields; i++)
		if ((st->cap_fields[i] = rows_add_capture(st->rows,
		    st->kf.fields[i], 1, &st->err)) == -1)
			return -1;
	keyfmt_free(&st->kf);
	return 0;
}

static int
setup_aws(struct state *st)
{
	const struct opts *o = st->o;
	struct awstool_options ao;

	memset(&ao, 0, sizeof(ao));
	ao.prog = PROG;
	ao.service = "s3";
	ao.region = o->region;
	ao.profile = o->profile;
	ao.endpoint_url = o->endpoint_url;
	ao.trace = verbose > 1 ? verbose - 1 : 0;
	ao.trace_fn = trace_line;
	/* no stop flag: after SIGTERM the open objects must still go up */
	if (awstool_open(&ao, &st->aws, &st->err) == -1)
		return -1;
	st->aws_open = 1;
	if (aws_client_warning(st->aws.client) != NULL)
		warn("%s", aws_client_warning(st->aws.client));
	st->target.client = st->aws.client;
	st->target.bucket.endpoint = st->aws.conf.endpoint;
	st->target.bucket.path_style = st->aws.conf.path_style;
	return 0;
}

static int
setup(struct state *st)
{
	const struct opts *o = st->o;
	unsigned long long max_stored;

	st->eol = o->lf ? "\n" : "\r\n";
	st->dead_fd = st->spool_lock_fd = -1;
	if (gethostname(st->host, sizeof(st->host) - 1) == -1)
		snprintf(st->host, sizeof(st->host), "localhost");
	if (setup_rows(st) == -1)
		return -1;
	if (o->dead_letter != NULL && (st->dead_fd = open(o->dead_letter,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600)) == -1)
		return errbuf_set(&st->err, ERR_CONFIG, "%s: %s",
		    o->dead_letter, strerror(errno));
	if (o->to_stdout)
		return 0;
	if (o->checkpoint != NULL &&
	    checkpoint_load(o->checkpoint, &st->cp, &st->err) == -1)
		return -1;
	if (o->spool != NULL && spool_lock(st) == -1)
		return -1;
	max_stored = o->max_bytes + (o->gzip ? GZIP_SLACK(o->max_bytes) : 0);
	st->target.part_size = (size_t)s3_part_size(o->part_size, max_stored);
	st->target.gzip = o->gzip;
	st->target.bucket.name = o->bucket;
	st->target.opts.content_type = o->no_header ? CT_NO_HEADER : CT_HEADER;
	st->target.opts.content_encoding = o->gzip ? "gzip" : NULL;
	st->target.opts.sse = o->sse;
	st->target.opts.sse_kms_key_id = o->sse_kms_key_id;
	st->target.opts.storage_class = o->storage_class;
	if (!o->dry_run && setup_aws(st) == -1)
		return -1;
	return 0;
}

static void
teardown(struct state *st)
{
	size_t i;

	for (i = 0; i < st->nobjs; i++)
		object_free(st, st->objs[i]);
	free(st->objs);
	rows_free(st->rows);
	free(st->cap_fields);
	keyfmt_free(&st->kf);
	if (st->aws_open)
		awstool_close(&st->aws);
	buf_free(&st->row);
	buf_free(&st->header);
	buf_free(&st->out);
	buf_free(&st->scratch);
	checkpoint_free(&st->cp);
	marks_free(&st->uploaded);
	if (st->dead_fd != -1)
		close(st->dead_fd);
	if (st->spool_lock_fd != -1)
		close(st->spool_lock_fd);
}

static int
read_all(struct state *st)
{
	int i, rc = 0;

	if (st->o->spool != NULL && (rc = spool_recover(st)) != 0)
		return rc;
	if (st->o->nfiles == 0)
		return read_path(st, "-");
	for (i = 0; i < st->o->nfiles && rc == 0; i++)
		rc = read_path(st, st->o->files[i]);
	return rc;
}

/* Ends the run: what is open goes up (also after a signal). */
static int
finish(struct state *st, int rc)
{
	if (rc == -1)
		return -1;
	if (st->o->to_stdout)
		return flush_stdout(st, &st->out);
	return close_all(st, cli_stop_signal ? "signal" : rc == STRICT_STOP ?
	    "strict" : rc == LOCAL_STOP ? "error" : "end of input");
}

static int
run(const struct opts *o)
{
	struct state st;
	enum errbuf_kind local = ERR_NONE;
	int rc;

	memset(&st, 0, sizeof(st));
	st.o = o;
	if ((rc = setup(&st)) == 0) {
		rc = read_all(&st);
		if (rc == -1 && st.local_failed) {
			/* said now; what was read before still goes out */
			fprintf(stderr, PROG ": %s\n", st.err.msg);
			local = st.err.kind;
			st.local_failed = 0;
			rc = LOCAL_STOP;
		}
		if (finish(&st, rc) == -1)
			rc = -1;
	}
	if (rc == -1 && local != ERR_NONE && st.local_failed) {
		/* the same local file again: said once already */
		rc = cli_exit_for(local);
		if (st.nobjs > 0)
			fprintf(stderr, PROG ": %zu object(s) not uploaded%s\n",
			    st.nobjs, o->spool ? "; their rows stay in the spool"
			    : "");
	} else if (rc == -1) {
		fprintf(stderr, PROG ": %s\n", st.err.msg);
		if (st.nobjs > 0)
			fprintf(stderr, PROG ": %zu object(s) not uploaded%s\n",
			    st.nobjs, o->spool ? "; their rows stay in the spool"
			    : "");
		rc = cli_exit_for(st.err.kind);
	} else if (cli_stop_signal) {
		rc = EXIT_SIGNAL_BASE + cli_stop_signal;
	} else if (rc == LOCAL_STOP) {
		rc = cli_exit_for(local);
	} else if (rc == STRICT_STOP) {
		rc = EXIT_BAD_INPUT;
	} else {
		rc = st.bad > 0 ? EXIT_SOME_FAILED : EXIT_ALL_HANDLED;
	}
	teardown(&st);
	return rc;
}

/* ---- options ---- */

enum {
	OPT_LF = 256, OPT_PART_SIZE, OPT_SSE, OPT_SSE_KMS, OPT_STORAGE
};

static const struct option longopts[] = {
	{ "columns", required_argument, NULL, 'c' },
	{ "no-header", no_argument, NULL, 'H' },
	{ "null", required_argument, NULL, 'N' },
	{ "lf", no_argument, NULL, OPT_LF },
	{ "max-rows", required_argument, NULL, 'r' },
	{ "max-bytes", required_argument, NULL, 'b' },
	{ "max-age", required_argument, NULL, 'a' },
	{ "key-format", required_argument, NULL, 'k' },
	{ "gzip", no_argument, NULL, 'z' },
	{ "part-size", required_argument, NULL, OPT_PART_SIZE },
	{ "sse", required_argument, NULL, OPT_SSE },
	{ "sse-kms-key-id", required_argument, NULL, OPT_SSE_KMS },
	{ "storage-class", required_argument, NULL, OPT_STORAGE },
	{ "checkpoint", required_argument, NULL, 'C' },
	{ "spool", required_argument, NULL, 'S' },
	{ "strict", no_argument, NULL, 's' },
	{ "dead-letter", required_argument, NULL, 'D' },
	{ "tee", no_argument, NULL, 'T' },
	{ "stdout", no_argument, NULL, 'o' },
	{ "dry-run", no_argument, NULL, 'n' },
	TOOL_AWS_LONGOPTS,
	TOOL_COMMON_LONGOPTS,
	{ NULL, 0, NULL, 0 }
};

static int
parse_number_opt(int c, const char *arg, struct opts *o, struct errbuf *e)
{
	switch (c) {
	case 'r':
		return cli_parse_llong(arg, 0, LLONG_MAX, &o->max_rows, e);
	case 'b':
		if (cli_parse_size(arg, &o->max_bytes, e) == -1)
			return -1;
		return o->max_bytes == 0 ? errbuf_set(e, ERR_USAGE,
		    "'%s': must be more than 0", arg) : 0;
	case 'a':
		return cli_parse_duration_ms(arg, &o->max_age_ms, e);
	default:
		if (cli_parse_size(arg, &o->part_size, e) == -1)
			return -1;
		if (o->part_size < S3_MIN_PART_SIZE ||
		    o->part_size > S3_MAX_PART_SIZE)
			return errbuf_set(e, ERR_USAGE, "'%s': a part is 5MiB "
			    "to 5GiB (S3 limits)", arg);
		return 0;
	}
}

/* 0 handled, 1 not a value option, -1 bad value (e set). */
static int
parse_value_opt(int c, const char *arg, struct opts *o, struct errbuf *e)
{
	switch (c) {
	case 'c': o->columns = arg; return 0;
	case 'N': o->null_text = arg; return 0;
	case 'k': o->key_format = arg; return 0;
	case OPT_SSE: o->sse = arg; return 0;
	case OPT_SSE_KMS: o->sse_kms_key_id = arg; return 0;
	case OPT_STORAGE: o->storage_class = arg; return 0;
	case 'C': o->checkpoint = arg; return 0;
	case 'S': o->spool = arg; return 0;
	case 'D': o->dead_letter = arg; return 0;
	case 'r': case 'b': case 'a': case OPT_PART_SIZE:
		return parse_number_opt(c, arg, o, e);
	}
	return 1;
}

/* 0 go on, else the exit code of a usage error. */
static int
parse_flag(int c, struct opts *o)
{
	switch (c) {
	case 'H': o->no_header = 1; break;
	case OPT_LF: o->lf = 1; break;
	case 'z': o->gzip = 1; break;
	case 's': o->strict = 1; break;
	case 'T': o->tee = 1; break;
	case 'o': o->to_stdout = 1; break;
	case 'n': o->dry_run = 1; break;
	default:
		return tool_usage_error("unknown option");
	}
	return 0;
}

static int
validate(struct opts *o)
{
	struct errbuf e;
	struct keyfmt k;

	if (o->to_stdout && (o->checkpoint || o->spool || o->tee ||
	    o->dry_run))
		return tool_usage_error("--stdout uploads nothing: no "
		    "--checkpoint, --spool, --tee or --dry-run with it");
	if (o->sse != NULL && strcmp(o->sse, "AES256") != 0 &&
	    strcmp(o->sse, "aws:kms") != 0)
		return tool_usage_error("--sse: '%s': AES256 or aws:kms",
		    o->sse);
	if (o->sse_kms_key_id != NULL && (o->sse == NULL ||
	    strcmp(o->sse, "aws:kms") != 0))
		return tool_usage_error("--sse-kms-key-id needs --sse aws:kms");
	if (o->key_format != NULL) {
		if (keyfmt_parse(&k, o->key_format, &e) == -1)
			return tool_usage_error("--key-format: %s", e.msg);
		keyfmt_free(&k);
	}
	if (o->columns != NULL) {
		struct rows *r = rows_new(NULL);
		int bad = r == NULL || rows_add_columns(r, o->columns, &e) == -1;
		rows_free(r);
		if (bad)
			return tool_usage_error("--columns: %s", r ? e.msg :
			    "out of memory");
	}
	return 0;
}

static int
parse_operands(struct opts *o, int argc, char **argv)
{
	struct errbuf e;

	if (optind < argc && strncmp(argv[optind], "s3://", 5) == 0) {
		if (s3_url_parse(argv[optind], &o->bucket, &o->prefix, &e)
		    == -1)
			return tool_usage_error("%s", e.msg);
		optind++;
	} else if (!o->to_stdout) {
		return tool_usage_error("s3://BUCKET[/PREFIX] expected first");
	}
	o->files = argv + optind;
	o->nfiles = argc - optind;
	return 0;
}

/* One of s3-putcsv's own options: 0, or the exit code of a usage error. */
static int
parse_own(int c, const char *arg, struct opts *o)
{
	struct errbuf e;
	int rc = parse_value_opt(c, arg, o, &e);

	if (rc == -1)
		return tool_usage_error("%s", e.msg);
	return rc == 1 ? parse_flag(c, o) : 0;
}

/* 0 to run (or with o->common.done after --help/--version), else the exit
 * code. */
static int
parse_args(struct opts *o, int argc, char **argv)
{
	int c, rc;

	o->max_bytes = DEFAULT_MAX_BYTES;
	o->part_size = DEFAULT_PART_SIZE;
	o->max_age_ms = DEFAULT_MAX_AGE_MS;
	opterr = 0;	/* our own words, with PROG, not argv[0] */
	while ((c = getopt_long(argc, argv, ":c:HN:r:b:a:k:zC:S:sD:Ton"
	    TOOL_SHORTOPTS, longopts, NULL)) != -1) {
		rc = tool_common_option(&o->common, c, optarg, argv);
		if (rc == TOOL_NOT_COMMON)
			rc = parse_own(c, optarg, o);
		if (rc != 0 || o->common.done)
			return rc;
	}
	o->region = o->common.region;
	o->profile = o->common.profile;
	o->endpoint_url = o->common.endpoint_url;
	o->quiet = o->common.quiet;
	o->verbose = o->common.verbose;
	if ((rc = parse_operands(o, argc, argv)) != 0)
		return rc;
	return validate(o);
}

int
main(int argc, char **argv)
{
	struct opts o;
	char zlib[64];
	int rc;

	memset(&o, 0, sizeof(o));
	tool_init(PROG, usage, &o.common);
	snprintf(zlib, sizeof(zlib), ", zlib %s", zlibVersion());
	tool_set_version_extra(zlib);
	rc = parse_args(&o, argc, argv);
	if (rc == 0 && !o.common.done) {
		verbose = o.verbose;
		quiet = o.quiet;
		if (cli_signals_install() == -1) {
			tool_warnx("sigaction: %s", strerror(errno));
			rc = EXIT_TEMPORARY;
		} else {
			rc = run(&o);
		}
	}
	free(o.bucket);
	free(o.prefix);
	return rc;
}
