/*
 * rows: NDJSON objects to CSV rows, without building a tree.
 *
 * A row is parsed once with the ndjson tokenizer (validating the whole
 * line), the values of the wanted columns are kept as borrowed raw text,
 * then written into a csv_writer:
 *  - a missing member or null: the null text ("" unless set);
 *  - a string: its decoded UTF-8;
 *  - a number: its text exactly as the input wrote it;
 *  - true/false: those words;
 *  - an array or object: compact JSON text (whitespace outside strings
 *    removed; nothing else changes, so nested numbers keep their digits).
 *
 * Columns come from rows_add_columns ("a,b.c,name=d.e": dotted paths reach
 * into nested objects, name=path renames) or, when none were given, from
 * the keys of the first record (rows_columns_from), in their order, each
 * key taken whole (a key holding '.' is not split).
 *
 * Hidden columns ("captures") are read the same way but not written: the
 * caller uses them for meta fields (_shard, _seq) and key-format fields.
 * The meta fields kin-get --format meta adds (_shard, _seq, _subseq,
 * _arrival, _key) are never columns unless named, and never "unknown".
 * Every other top-level key that no column uses is passed once to the
 * unknown-key callback.
 */
#ifndef COINPIPE_ROWS_H
#define COINPIPE_ROWS_H

#include <stddef.h>

#include "csv.h"
#include "errbuf.h"

#define ROWS_MAX_COLUMNS 4096	/* a bound on memory, not a CSV limit */

struct rows;

/* null_text is copied; NULL means "". Returns NULL when out of memory. */
struct rows *rows_new(const char *null_text);
void rows_free(struct rows *r);

/* Adds visible columns from a comma-separated spec. ERR_USAGE on a bad
 * spec (empty item, empty path component). */
int rows_add_columns(struct rows *r, const char *spec, struct errbuf *err);

/*
 * Adds a hidden column reading path (dotted when dotted is set, else one
 * key taken whole). Returns its index for rows_capture, or -1.
 */
long rows_add_capture(struct rows *r, const char *path, int dotted,
    struct errbuf *err);

/*
 * When no visible column exists yet, adds one per top-level key of line,
 * meta fields left out; call it before the first rows_parse so those keys
 * are not reported as unknown. -1 with ERR_DATA when line is not a valid
 * JSON object (no column is added then).
 */
int rows_columns_from(struct rows *r, const char *line, size_t len,
    struct errbuf *err);

/* Writes the header row: the column names. */
int rows_header(const struct rows *r, struct csv_writer *w);

/*
 * Validates line as one JSON object and gathers the column values; the
 * line must stay unchanged until rows_write/rows_capture are done with it.
 * Returns 0, or -1 with err set: ERR_DATA for bad JSON or a non-object
 * ("invalid JSON: ..." / "a JSON array, not an object"), ERR_SYSTEM for
 * memory.
 */
int rows_parse(struct rows *r, const char *line, size_t len,
    struct errbuf *err);

/* Writes the row gathered by the last rows_parse. 0, or -1 (memory). */
int rows_write(struct rows *r, struct csv_writer *w);

/*
 * The cell text of capture idx in the last parsed row. Returns 1 (present,
 * p and n set; valid until the next rows_parse), 0 (missing or null).
 */
int rows_capture(struct rows *r, long idx, const char **p, size_t *n);

/* Called once for each top-level key no column uses (key not NUL-ended). */
void rows_on_unknown(struct rows *r,
    void (*fn)(void *arg, const char *key, size_t len), void *arg);

/*
 * Appends the JSON text p[0..n) with whitespace outside strings removed.
 * The text must be valid JSON (raw control characters cannot occur inside
 * its strings). Returns 0 or -1 (memory).
 */
int rows_compact(struct buf *out, const char *p, size_t n);

#endif
