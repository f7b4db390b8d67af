#include "csv.h"
#include "tap.h"

static void
row(struct buf *b, const char *eol, const char *const *cells, size_t n)
{
	struct csv_writer w;
	size_t i;

	buf_reset(b);
	csv_writer_init(&w, b, ',', eol);
	for (i = 0; i < n; i++)
		csv_cell(&w, cells[i], strlen(cells[i]));
	csv_end_row(&w);
}

static void
test_quoting(void)
{
	static const struct { const char *cell, *want; } cases[] = {
		{ "plain", "plain\r\n" },
		{ "", "\r\n" },
		{ "a,b", "\"a,b\"\r\n" },
		{ "say \"hi\"", "\"say \"\"hi\"\"\"\r\n" },
		{ "\"", "\"\"\"\"\r\n" },
		{ "line\nbreak", "\"line\nbreak\"\r\n" },
		{ "cr\rhere", "\"cr\rhere\"\r\n" },
		{ " spaced ", " spaced \r\n" },
		{ "0.00095032", "0.00095032\r\n" },
		{ "日本", "日本\r\n" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		row(&b, "\r\n", &cases[i].cell, 1);
		is_str(b.data, cases[i].want, cases[i].cell);
	}
	buf_free(&b);
}

static void
test_rows(void)
{
	const char *cells[] = { "ts", "crypto", "", "a\"b,c" };
	struct buf b = BUF_INIT;
	struct csv_writer w;

	row(&b, "\n", cells, 4);
	is_str(b.data, "ts,crypto,,\"a\"\"b,c\"\n", "cells joined, LF rows");
	buf_reset(&b);
	csv_writer_init(&w, &b, ';', "\n");
	csv_cell(&w, "a;b", 3);
	csv_cell(&w, "c,d", 3);
	csv_end_row(&w);
	csv_cell(&w, "x", 1);
	csv_end_row(&w);
	is_str(b.data, "\"a;b\";c,d\nx\n", "another separator; a row resets");
	ok(csv_needs_quotes("a\0b", 3, ',') == 0, "NUL alone needs no quotes");
	is_int(csv_cell(&w, "a\0b", 3), 0, "cell with NUL written");
	is_int(b.len, strlen("\"a;b\";c,d\nx\n") + 3, "NUL cell keeps all bytes");
	buf_free(&b);
}

int
main(void)
{
	test_quoting();
	test_rows();
	return tap_done();
}
