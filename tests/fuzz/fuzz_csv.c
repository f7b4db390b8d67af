/*
 * fuzz_csv: the RFC 4180 writer, by round trip. Cells come from the input
 * (0x1f ends a cell, 0x1e a row; anything else, NUL included, is cell
 * content), are written with lib/csv, and read back by a small reader
 * written here from RFC 4180 alone; it must give the same rows of cells.
 * The first byte picks the separator and the line end.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "csv.h"
#include "fuzz.h"

const char fuzz_name[] = "csv";

#define CELL_END 0x1f
#define ROW_END 0x1e

struct cell {
	const char *p;
	size_t n;
};

/* The cells, in input order, with the index of each row's first cell. */
struct table {
	struct cell *cells;
	size_t ncells;
	size_t *rows;
	size_t nrows;
};

static void
table_split(const uint8_t *d, size_t size, struct table *t)
{
	size_t i, start = 0;

	t->cells = fuzz_alloc((size + 1) * sizeof(*t->cells));
	t->rows = fuzz_alloc((size + 1) * sizeof(*t->rows));
	t->ncells = t->nrows = 0;
	t->rows[t->nrows++] = 0;
	for (i = 0; i <= size; i++) {
		if (i < size && d[i] != CELL_END && d[i] != ROW_END)
			continue;
		t->cells[t->ncells].p = (const char *)d + start;
		t->cells[t->ncells++].n = i - start;
		start = i + 1;
		if (i < size && d[i] == ROW_END)
			t->rows[t->nrows++] = t->ncells;
	}
}

/*
 * The reader: one field at *pos; quoted fields double their quotes.
 * Returns 1 when the row goes on, 0 at the end of the row, and
 * fails the run when the text is not well-formed CSV.
 */
static int
read_field(const char *s, size_t len, size_t *pos, char sep, const char *eol,
    struct buf *out)
{
	size_t i = *pos, el = strlen(eol);

	buf_reset(out);
	if (i < len && s[i] == '"') {
		for (i++;; i++) {
			FUZZ_CHECK(i < len, "quoted field not closed");
			if (s[i] != '"') {
				buf_putc(out, s[i]);
				continue;
			}
			if (i + 1 < len && s[i + 1] == '"') {
				buf_putc(out, '"');
				i++;
				continue;
			}
			i++;
			break;
		}
	} else {
		for (; i < len && s[i] != sep && s[i] != '"' &&
		    s[i] != '\r' && s[i] != '\n'; i++)
			buf_putc(out, s[i]);
	}
	if (i < len && s[i] == sep) {
		*pos = i + 1;
		return 1;
	}
	FUZZ_CHECK(i + el <= len && memcmp(s + i, eol, el) == 0,
	    "field not followed by separator or line end at byte %zu", i);
	*pos = i + el;
	return 0;
}

static void
read_back(const char *s, size_t len, char sep, const char *eol,
    const struct table *t)
{
	struct buf field = BUF_INIT;
	size_t pos = 0, row, c, end;
	int more;

	for (row = 0; row < t->nrows; row++) {
		end = row + 1 < t->nrows ? t->rows[row + 1] : t->ncells;
		for (c = t->rows[row];; c++) {
			FUZZ_CHECK(pos < len, "output ends early (row %zu)", row);
			more = read_field(s, len, &pos, sep, eol, &field);
			FUZZ_CHECK(c < end, "row %zu has extra cells", row);
			FUZZ_CHECK(field.len == t->cells[c].n &&
			    (field.len == 0 || memcmp(field.data,
			    t->cells[c].p, field.len) == 0),
			    "row %zu cell %zu differs", row, c - t->rows[row]);
			if (!more)
				break;
		}
		FUZZ_CHECK(c + 1 == end, "row %zu lost cells", row);
	}
	FUZZ_CHECK(pos == len, "output has %zu bytes after the rows",
	    len - pos);
	buf_free(&field);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char seps[] = { ',', ';', '\t', '|' };
	struct csv_writer w;
	struct buf out = BUF_INIT;
	struct table t;
	const char *eol;
	size_t r, c, end;
	char sep;

	if (size < 1)
		return 0;
	sep = seps[data[0] & 3];
	eol = data[0] & 4 ? "\n" : "\r\n";
	table_split(data + 1, size - 1, &t);
	csv_writer_init(&w, &out, sep, eol);
	for (r = 0; r < t.nrows; r++) {
		end = r + 1 < t.nrows ? t.rows[r + 1] : t.ncells;
		for (c = t.rows[r]; c < end; c++)
			FUZZ_CHECK(csv_cell(&w, t.cells[c].p, t.cells[c].n) == 0,
			    "csv_cell failed");
		FUZZ_CHECK(csv_end_row(&w) == 0, "csv_end_row failed");
	}
	read_back(out.data, out.len, sep, eol, &t);
	buf_free(&out);
	free(t.cells);
	free(t.rows);
	return 0;
}
