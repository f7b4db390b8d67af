#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "xml.h"

/* The '>' ending an opening tag of name tag at p, or NULL. */
static const char *
open_tag(const char *p, const char *end, const char *tag, size_t tl)
{
	char c;

	if ((size_t)(end - p) < tl + 2 || p[0] != '<' ||
	    memcmp(p + 1, tag, tl) != 0)
		return NULL;
	c = p[1 + tl];
	if (c != '>' && c != '/' && !isspace((unsigned char)c))
		return NULL;
	return memchr(p, '>', (size_t)(end - p));
}

int
xml_element(const char *s, size_t n, const char *tag, const char **text,
    size_t *len)
{
	const char *end, *q, *gt = NULL;
	size_t i, tl = strlen(tag);

	/* indices, not pointers: s may be NULL when n is 0 (an empty body) */
	for (i = 0; i + tl + 2 <= n && gt == NULL; i++)
		gt = open_tag(s + i, s + n, tag, tl);
	if (gt == NULL)
		return 0;
	end = s + n;
	*text = gt + 1;
	*len = 0;
	if (gt[-1] == '/')
		return 1;
	for (q = gt + 1; (size_t)(end - q) >= tl + 3; q++)
		if (q[0] == '<' && q[1] == '/' && memcmp(q + 2, tag, tl) == 0 &&
		    q[2 + tl] == '>') {
			*len = (size_t)(q - *text);
			return 1;
		}
	return 0;
}

static int
digit_value(char c, int hex)
{
	if (isdigit((unsigned char)c))
		return c - '0';
	if (hex && isxdigit((unsigned char)c))
		return tolower((unsigned char)c) - 'a' + 10;
	return -1;
}

/* "&#NN;" or "&#xHH;" at s[0..n) below U+0080: the character, its length
 * in *used; 0 when there is none. */
static int
char_ref(const char *s, size_t n, size_t *used)
{
	int hex = n > 2 && s[2] == 'x', d;
	size_t i = 2 + (size_t)hex;
	unsigned cp = 0;

	if (n < 4 || s[1] != '#')
		return 0;
	for (; i < n && cp < 0x80 && (d = digit_value(s[i], hex)) >= 0; i++)
		cp = cp * (hex ? 16 : 10) + (unsigned)d;
	if (i == 2 + (size_t)hex || i >= n || s[i] != ';' || cp == 0 ||
	    cp >= 0x80)
		return 0;
	*used = i + 1;
	return (int)cp;
}

/* The character an '&' at s[0..n) stands for, its length in *used; a lone
 * '&' stands for itself. */
static int
entity(const char *s, size_t n, size_t *used)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	size_t k, el;
	int c;

	for (k = 0; k < sizeof(ents) / sizeof(ents[0]); k++) {
		el = strlen(ents[k].ent);
		if (n >= el && memcmp(s, ents[k].ent, el) == 0) {
			*used = el;
			return ents[k].c;
		}
	}
	if ((c = char_ref(s, n, used)) != 0)
		return c;
	*used = 1;
	return '&';
}

int
xml_unescape(struct buf *b, const char *s, size_t n)
{
	size_t i, el;
	int c;

	for (i = 0; i < n; i += el) {
		el = 1;
		c = s[i] == '&' ? entity(s + i, n - i, &el) : s[i];
		if (buf_putc(b, (char)c) == -1)
			return -1;
	}
	return 0;
}

char *
xml_text(const char *s, size_t n, const char *tag)
{
	struct buf b = BUF_INIT;
	const char *t;
	size_t len;

	if (!xml_element(s, n, tag, &t, &len))
		return NULL;
	/* one allocation (decoding only shortens): a secret's text leaves no
	 * copy behind in a block that realloc gave up */
	if (buf_reserve(&b, len) == -1 || xml_unescape(&b, t, len) == -1) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}
