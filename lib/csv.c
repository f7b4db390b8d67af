#include <string.h>

#include "csv.h"

void
csv_writer_init(struct csv_writer *w, struct buf *out, char sep,
    const char *eol)
{
	w->out = out;
	w->sep = sep;
	w->eol = eol;
	w->cells = 0;
}

int
csv_needs_quotes(const char *p, size_t n, char sep)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char c = p[i];
		if (c == sep || c == '"' || c == '\n' || c == '\r')
			return 1;
	}
	return 0;
}

/* RFC 4180 rule 7: a quote inside a quoted field is written twice. */
static int
put_quoted(struct buf *b, const char *p, size_t n)
{
	const char *q;

	if (buf_putc(b, '"') == -1)
		return -1;
	while ((q = memchr(p, '"', n)) != NULL) {
		size_t k = (size_t)(q - p) + 1;
		if (buf_append(b, p, k) == -1 || buf_putc(b, '"') == -1)
			return -1;
		p += k;
		n -= k;
	}
	if (buf_append(b, p, n) == -1)
		return -1;
	return buf_putc(b, '"');
}

int
csv_cell(struct csv_writer *w, const char *p, size_t n)
{
	if (w->cells++ > 0 && buf_putc(w->out, w->sep) == -1)
		return -1;
	if (csv_needs_quotes(p, n, w->sep))
		return put_quoted(w->out, p, n);
	return buf_append(w->out, p, n);
}

int
csv_end_row(struct csv_writer *w)
{
	w->cells = 0;
	return buf_puts(w->out, w->eol);
}
