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

/* 1 for the 64 letters of the standard alphabet (RFC 4648 table 1). */
static const unsigned char alphabet[256] = {
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1,
	['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1,
	['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
	['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1,
	['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1,
	['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1,
	['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1, ['0'] = 1, ['1'] = 1,
	['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['+'] = 1, ['/'] = 1
};

/*
 * The alphabet, and '=' where padding may stand; EVP_DecodeBlock itself
 * skips white space and accepts '=' inside. A table, since kin-get runs
 * this over every byte it reads.
 */
static int
well_formed(const char *s, size_t n, size_t *pad)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i;

	if (n % 4 != 0 || n > INT_MAX)
		return 0;
	*pad = 0;
	if (n > 0 && s[n - 1] == '=')
		(*pad)++;
	if (n > 1 && s[n - 2] == '=')
		(*pad)++;
	for (i = 0; i < n - *pad; i++)
		if (!alphabet[u[i]])
			return 0;
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
