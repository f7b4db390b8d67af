#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "tap.h"

static void
enc_is(const char *in, size_t n, const char *want, const char *name)
{
	struct buf b = BUF_INIT;

	ok(base64_append(&b, in, n) == 0, "%s: appended", name);
	is_str(b.len == 0 ? "" : b.data, want, name);
	buf_free(&b);
}

static void
dec_is(const char *in, const char *want, size_t wn, const char *name)
{
	unsigned char *out;
	size_t n = 99;

	out = base64_decode(in, strlen(in), &n);
	if (want == NULL) {
		ok(out == NULL, "%s", name);
	} else {
		ok(out != NULL && n == wn && memcmp(out, want, wn) == 0,
		    "%s", name);
		ok(out != NULL && out[n] == '\0', "%s: NUL after", name);
	}
	free(out);
}

static void
test_encode(void)
{
	struct buf b = BUF_INIT;
	char *big;
	size_t n = ((size_t)3 << 20) + 2, i;

	/* RFC 4648 section 10 test vectors */
	enc_is("", 0, "", "empty");
	enc_is("f", 1, "Zg==", "one byte: two pads");
	enc_is("fo", 2, "Zm8=", "two bytes: one pad");
	enc_is("foo", 3, "Zm9v", "three bytes: no pad");
	enc_is("foobar", 6, "Zm9vYmFy", "six bytes");
	enc_is("\xff\xfe\x00", 3, "//4A", "high bytes and NUL");
	buf_puts(&b, "x:");
	base64_append(&b, "foob", 4);
	is_str(b.data, "x:Zm9vYg==", "appends after what is there");
	buf_free(&b);
	/* longer than one EVP_EncodeBlock piece: the pieces join cleanly */
	if ((big = malloc(n)) == NULL)
		return;
	for (i = 0; i < n; i++)
		big[i] = (char)(i * 7);
	ok(base64_append(&b, big, n) == 0 && b.len == (n + 2) / 3 * 4,
	    "piecewise: length");
	ok(b.data[b.len - 1] == '=' && strchr(b.data, '=') ==
	    b.data + b.len - 1, "piecewise: padding only at the end");
	free(big);
	buf_free(&b);
}

static void
test_decode(void)
{
	dec_is("", "", 0, "empty");
	dec_is("Zg==", "f", 1, "two pads");
	dec_is("Zm8=", "fo", 2, "one pad");
	dec_is("Zm9vYmFy", "foobar", 6, "no pad");
	dec_is("//4A", "\xff\xfe\x00", 3, "NUL in the data");
	dec_is("Zg=", NULL, 0, "length not a multiple of 4");
	dec_is("Zg", NULL, 0, "padding missing");
	dec_is("Z===", NULL, 0, "three pads");
	dec_is("Zg==Zg==", NULL, 0, "padding inside");
	dec_is("Zm9v YmFy", NULL, 0, "white space inside");
	dec_is(" Zm9vYmF", NULL, 0, "leading white space");
	dec_is("Zm9v\n", NULL, 0, "trailing newline");
	dec_is("Zm9-", NULL, 0, "URL-safe alphabet");
	dec_is("Zm9*", NULL, 0, "not the alphabet");
}

int
main(void)
{
	test_encode();
	test_decode();
	return tap_done();
}
