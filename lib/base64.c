#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "base64.h"

/* EVP_EncodeBlock takes an int: encode in pieces of a multiple of 3. */
#define PIECE ((size_t)3 << 20)

int
base64_append(struct buf *b, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t off = 0, chunk;
	int w;

	if (buf_reserve(b, (len + 2) / 3 * 4 + 1) == -1)
		return -1;
	while (off < len) {
		chunk = len - off > PIECE ? PIECE : len - off;
		w = EVP_EncodeBlock((unsigned char *)b->data + b->len, p + off,
		    (int)chunk);
		b->len += (size_t)w;
		off += chunk;
	}
	if (b->data != NULL)
		b->data[b->len] = '\0';
	return 0;
}

/* The alphabet, and '=' where padding may stand; EVP_DecodeBlock itself
 * skips white space and accepts '=' inside. */
static int
well_formed(const char *s, size_t n, size_t *pad)
{
	size_t i;

	if (n % 4 != 0 || n > INT_MAX)
		return 0;
	*pad = 0;
	if (n > 0 && s[n - 1] == '=')
		(*pad)++;
	if (n > 1 && s[n - 2] == '=')
		(*pad)++;
	for (i = 0; i < n - *pad; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '+' || c == '/'))
			return 0;
	}
	return 1;
}

unsigned char *
base64_decode(const char *s, size_t n, size_t *len)
{
	unsigned char *out;
	size_t pad;
	int got;

	if (!well_formed(s, n, &pad))
		return NULL;
	if ((out = malloc(n / 4 * 3 + 1)) == NULL)
		return NULL;
	got = EVP_DecodeBlock(out, (const unsigned char *)s, (int)n);
	if (got < 0 || (size_t)got < pad) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts padding as zero bytes of data */
	*len = (size_t)got - pad;
	out[*len] = '\0';
	return out;
}
