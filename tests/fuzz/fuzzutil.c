/* fuzzutil: helpers shared by the harnesses (see fuzz.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

void
fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_%s: property failed: ", fuzz_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Out of memory in a harness is not a finding: stop loudly. */
static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL) {
		fprintf(stderr, "fuzz_%s: out of memory\n", fuzz_name);
		abort();
	}
	return p;
}

char *
fuzz_memdup(const void *p, size_t n)
{
	char *c = xmalloc(n);

	if (n > 0)
		memcpy(c, p, n);
	return c;
}

void *
fuzz_alloc(size_t n)
{
	void *p = xmalloc(n);

	memset(p, 0, n ? n : 1);
	return p;
}

void
fuzz_split(const uint8_t *data, size_t size, int sep, size_t max,
    struct fuzz_parts *out)
{
	size_t start = 0, end;
	const uint8_t *hit;

	if (max > FUZZ_MAX_PARTS)
		max = FUZZ_MAX_PARTS;
	memset(out, 0, sizeof(*out));
	while (out->n < max) {
		hit = NULL;
		if (out->n + 1 < max && start < size)
			hit = memchr(data + start, sep, size - start);
		end = hit != NULL ? (size_t)(hit - data) : size;
		out->len[out->n] = end - start;
		out->p[out->n] = xmalloc(end - start + 1);
		if (end > start)
			memcpy(out->p[out->n], data + start, end - start);
		out->p[out->n][end - start] = '\0';
		out->n++;
		if (hit == NULL)
			break;
		start = end + 1;
	}
}

void
fuzz_parts_free(struct fuzz_parts *parts)
{
	size_t i;

	for (i = 0; i < parts->n; i++)
		free(parts->p[i]);
	memset(parts, 0, sizeof(*parts));
}

int
fuzz_is_one_line(const char *s, size_t size)
{
	size_t i;

	for (i = 0; i < size && s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return i < size;
}
