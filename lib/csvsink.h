/*
 * csvsink: the CSV object engine of s3-putcsv. NDJSON lines in, CSV
 * objects out.
 *
 * Each line becomes a row (lib/rows; the first good record fixes the
 * columns unless they were given, and the default key format). The key
 * format's {shard} and {field:NAME} split rows into partitions; each
 * partition has one open object, closed ("rotated") when the next row
 * would pass max_bytes, when it holds max_rows, or max_age_ms after it
 * was opened (csvsink_tick). A closed object goes to the store; after it
 * is durable the checkpoint moves, for each shard it held, to the highest
 * uploaded _seq/_subseq, unless another open object still holds rows of
 * that shard. With a spool directory every row is also appended to its
 * object's spool file until the object is uploaded; csvsink_recover
 * uploads what an earlier run left there.
 *
 * The engine never prints and never reads the clock or the network
 * itself: its clocks, its object store and everything the tool shows are
 * hooks. Ownership: the engine owns its rows, objects, spool files and
 * lock, and the checkpoint it loads and saves; the config strings, the
 * store and the hooks are borrowed and must outlive it.
 */
#ifndef COINPIPE_CSVSINK_H
#define COINPIPE_CSVSINK_H

#include <stddef.h>
#include <time.h>

#include "errbuf.h"
#include "s3.h"

struct buf;
struct ndjson_reader;
struct s3out_target;

/* Returned by csvsink_put_line and csvsink_recover besides 0 and -1. */
#define CSVSINK_STOPPED (-2)	/* the stopped hook said so */
#define CSVSINK_STRICT (-3)	/* the bad_line hook said so */

/*
 * Where objects go. An object is begun (key NULL when the format names the
 * last row's _seq), written, then finished with its key, or discarded
 * (which aborts what is unfinished). Every call but discard returns -1 or
 * NULL with err set on failure; after a failed finish the object is only
 * discarded.
 */
struct csvsink_store {
	void *(*begin)(void *arg, const char *key, struct errbuf *err);
	int (*write)(void *obj, const void *p, size_t n, struct errbuf *err);
	int (*finish)(void *obj, const char *key, char etag[S3_ETAG_MAX],
	    struct errbuf *err);
	unsigned long long (*stored)(void *obj);	/* bytes as stored */
	int (*multipart)(void *obj);
	void (*discard)(void *obj);
	void *arg;
};

/* One object that went up, for the tool's report and --tee line. */
struct csvsink_upload {
	const char *key, *etag;
	const char *first_seq, *last_seq;	/* NULL without _seq */
	const char *why;	/* max-rows, max-bytes, max-age, end of input,
				 * signal, strict, error, spool */
	unsigned long long rows, bytes;
	int multipart;
};

/* Appends u as the one JSON line of s3-putcsv --tee:
 * {"bucket":..,"key":..,"rows":N,"bytes":N,"etag":..,"first_seq":..,
 * "last_seq":..}\n (the seqs null when absent). 0, or -1 (memory). */
int csvsink_upload_json(struct buf *b, const char *bucket,
    const struct csvsink_upload *u);

struct csvsink_hooks {
	long long (*mono_ms)(void *arg);	/* for max_age_ms */
	time_t (*wall)(void *arg);		/* for the keys' times */
	int (*stopped)(void *arg);		/* 1: stop reading */
	void (*warn)(void *arg, const char *msg);
	void (*note)(void *arg, const char *msg);	/* verbose only */
	/*
	 * A line that is not a record: where is "NAME:LINE", why its reason.
	 * Returns 0 (go on), CSVSINK_STRICT (stop), or -1 with err set when
	 * a local file (dead letters) failed.
	 */
	int (*bad_line)(void *arg, const char *where, const char *line,
	    size_t len, const struct errbuf *why, struct errbuf *err);
	/* After an object is durable and the checkpoint moved; -1 with err
	 * set stops the run (the object stays uploaded). */
	int (*uploaded)(void *arg, const struct csvsink_upload *u,
	    struct errbuf *err);
	/* to_stdout: CSV bytes to write; -1 with err set */
	int (*out)(void *arg, const char *p, size_t n, struct errbuf *err);
	void *arg;
};

struct csvsink_config {
	const char *prefix;		/* key prefix; "" for none */
	const char *columns;		/* NULL: the first record's keys */
	const char *null_text;
	const char *key_format;		/* NULL: the default for the input */
	int no_header, lf, gzip;	/* gzip: the default key ends .gz */
	long long max_rows, max_age_ms;	/* 0: no limit */
	unsigned long long max_bytes;	/* > 0 */
	const char *checkpoint;		/* file, or NULL */
	const char *spool;		/* directory, or NULL */
	const char *prog;		/* for "in use by another PROG" */
	int to_stdout;			/* CSV through hooks.out, no objects */
	int dry_run;			/* no checkpoint is written */
};

/*
 * The production store: lib/s3out objects to t. Fills in t what follows
 * from c (part_size, raised when needed for the largest object max_bytes
 * allows; gzip; the content type and encoding); the caller sets t's
 * client (NULL: a dry run, bytes are counted and dropped), bucket and
 * SSE/storage class. t is borrowed.
 */
void csvsink_store_s3(struct csvsink_store *store, struct s3out_target *t,
    const struct csvsink_config *c, unsigned long long part_size);

/*
 * Sets up the rows, loads the checkpoint and takes the spool directory
 * (made 0700 when missing, locked for this engine alone). NULL with err
 * set (ERR_CONFIG for a bad checkpoint file or a spool in use).
 */
struct csvsink *csvsink_new(const struct csvsink_config *c,
    const struct csvsink_store *store, const struct csvsink_hooks *h,
    struct errbuf *err);
void csvsink_free(struct csvsink *s);

/* Uploads the rows an earlier run left in the spool, oldest file first. */
int csvsink_recover(struct csvsink *s);

/*
 * One input line (without its newline) from where:lineno. 0, -1 (see
 * csvsink_error), CSVSINK_STRICT, or CSVSINK_STOPPED. A line longer than
 * the reader takes is csvsink_put_toolong.
 */
int csvsink_put_line(struct csvsink *s, const char *line, size_t len,
    const char *where, unsigned long lineno);
int csvsink_put_toolong(struct csvsink *s, size_t max, const char *where,
    unsigned long lineno);

/*
 * Hands the lines r has buffered to csvsink_put_line (too long ones to
 * csvsink_put_toolong). NDJSON_AGAIN when more must be read (poll, then
 * ndjson_reader_fill), NDJSON_EOF (0) at the end, else what put_line
 * returned.
 */
int csvsink_drain(struct csvsink *s, struct ndjson_reader *r);

/* Closes the objects past max_age_ms and flushes to_stdout output; *next
 * receives the ms until the next object is due (-1: none). */
int csvsink_tick(struct csvsink *s, long long *next);

/* Closes every open object (why goes to the report), or flushes the CSV
 * of to_stdout. On failure the objects that did not go up stay open. */
int csvsink_finish(struct csvsink *s, const char *why);

/* Objects still open (not uploaded). */
size_t csvsink_pending(const struct csvsink *s);

/* The error of the last call that returned -1. */
const struct errbuf *csvsink_error(const struct csvsink *s);

/* 1 when that error is about a local file (spool, checkpoint, dead
 * letters): what was read before can still go up. csvsink_forget_local
 * clears the mark once the tool has said so. */
int csvsink_local_failed(const struct csvsink *s);
void csvsink_forget_local(struct csvsink *s);

#endif
