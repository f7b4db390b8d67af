#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "errbuf.h"
#include "tap.h"

static void
test_buf_grows_and_terminates(void)
{
	struct buf b = BUF_INIT;
	char *s;
	int i;

	for (i = 0; i < 1000; i++)
		buf_putc(&b, 'x');
	is_int(b.len, 1000, "1000 appends give length 1000");
	ok(b.data[1000] == '\0', "buffer stays NUL-terminated");
	buf_reset(&b);
	is_int(b.len, 0, "reset empties");
	buf_printf(&b, "%s=%d", "n", 42);
	is_str(b.data, "n=42", "printf appends formatted text");
	s = buf_steal(&b);
	is_str(s, "n=42", "steal hands over the string");
	ok(b.data == NULL && b.len == 0, "steal leaves the buffer empty");
	free(s);
	s = buf_steal(&b);
	is_str(s, "", "steal of an empty buffer gives an empty string");
	free(s);
}

/* The header promises data[len] == '\0' once data is set, reserve too. */
static void
test_buf_reserve_terminates(void)
{
	struct buf b = BUF_INIT;
	char *junk, *s;
	int r;

	/* leave a freed block of the size reserve asks for full of bytes */
	if ((junk = malloc(128)) == NULL)
		return;
	memset(junk, 'x', 128);
	free(junk);
	r = buf_reserve(&b, 100);
	ok(r == 0 && b.data[0] == '\0', "reserve alone leaves an empty string");
	s = buf_steal(&b);
	is_str(s, "", "steal after reserve gives an empty string");
	free(s);
	buf_putc(&b, 'a');
	r = buf_reserve(&b, 1000);
	ok(r == 0 && strcmp(b.data, "a") == 0, "growing keeps the text");
	buf_free(&b);
}

static void
test_buf_cap(void)
{
	struct buf b = BUF_INIT;

	b.max = 8;
	ok(buf_puts(&b, "12345678") == 0, "append up to max succeeds");
	ok(buf_putc(&b, '9') == -1, "append past max fails");
	is_int(b.len, 8, "a failed append leaves the content");
	buf_wipe(&b);
	ok(b.data == NULL, "wipe releases");
}

static void
test_errbuf(void)
{
	struct errbuf e;

	ok(errbuf_set(&e, ERR_TEMP, "HTTP %d", 503) == -1, "set returns -1");
	is_str(e.msg, "HTTP 503", "message formatted");
	errbuf_prefix(&e, "PutRecords %s", "gecko");
	is_str(e.msg, "PutRecords gecko: HTTP 503", "prefix prepends context");
	is_int(e.kind, ERR_TEMP, "prefix keeps the kind");
	errbuf_clear(&e);
	is_str(e.msg, "", "clear empties");
}

int
main(void)
{
	test_buf_grows_and_terminates();
	test_buf_reserve_terminates();
	test_buf_cap();
	test_errbuf();
	return tap_done();
}
