/*
 * csv: an RFC 4180 writer. A cell is quoted when it holds the separator, a
 * double quote, CR or LF; quotes inside are doubled. Nothing else changes:
 * the bytes of a cell are written as given.
 */
#ifndef COINPIPE_CSV_H
#define COINPIPE_CSV_H

#include <stddef.h>

#include "buf.h"

struct csv_writer {
	struct buf *out;
	char sep;		/* ',' */
	const char *eol;	/* "\r\n" (RFC 4180) or "\n" */
	size_t cells;		/* cells in the current row */
};

void csv_writer_init(struct csv_writer *w, struct buf *out, char sep,
    const char *eol);

/* Appends one cell (separator first unless it is the row's first cell).
 * Returns 0, or -1 when the buffer cannot grow. */
int csv_cell(struct csv_writer *w, const char *p, size_t n);

/* Ends the row. */
int csv_end_row(struct csv_writer *w);

/* 1 when a cell with these bytes must be quoted. */
int csv_needs_quotes(const char *p, size_t n, char sep);

#endif
