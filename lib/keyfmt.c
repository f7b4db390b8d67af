#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "keyfmt.h"

/* The conversions strftime has in C11 and POSIX; others are refused so a
 * typo does not reach the key as libc-specific text. */
static const char conversions[] = "aAbBcCdDeFgGhHIjmMnprRStTuUVwWxXyYzZ";

static const struct {
	const char *name;
	unsigned use;
} names[] = {
	{ "uuid", KEYFMT_USES_UUID },
	{ "n", KEYFMT_USES_N },
	{ "host", KEYFMT_USES_HOST },
	{ "shard", KEYFMT_USES_SHARD },
	{ "first_seq", KEYFMT_USES_FIRST_SEQ },
	{ "last_seq", KEYFMT_USES_LAST_SEQ },
};
#define NNAMES (sizeof(names) / sizeof(names[0]))
#define FIELD "field:"

void
keyfmt_free(struct keyfmt *k)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < k->nfields; i++)
		free(k->fields[i]);
	free(k->fields);
	free(k->fmt);
	memset(k, 0, sizeof(*k));
}

static long
field_index(const struct keyfmt *k, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < k->nfields; i++)
		if (strlen(k->fields[i]) == n &&
		    memcmp(k->fields[i], name, n) == 0)
			return (long)i;
	return -1;
}

static int
add_field(struct keyfmt *k, const char *name, size_t n, struct errbuf *err)
{
	char **v;

	if (n == 0)
		return errbuf_set(err, ERR_USAGE, "'{field:}': empty field name");
	if (field_index(k, name, n) >= 0)
		return 0;
	if ((v = realloc(k->fields, (k->nfields + 1) * sizeof(*v))) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	k->fields = v;
	if ((v[k->nfields] = strndup(name, n)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	k->nfields++;
	k->uses |= KEYFMT_USES_FIELD;
	return 0;
}

/* The brace field at p ("{...}"); *next gets the byte after it. */
static int
parse_brace(struct keyfmt *k, const char *p, const char **next,
    struct errbuf *err)
{
	const char *close = strchr(p, '}');
	size_t n, i;

	if (close == NULL)
		return errbuf_set(err, ERR_USAGE, "'%s': '}' expected", p);
	n = (size_t)(close - p - 1);
	*next = close + 1;
	if (n >= strlen(FIELD) && strncmp(p + 1, FIELD, strlen(FIELD)) == 0)
		return add_field(k, p + 1 + strlen(FIELD), n - strlen(FIELD),
		    err);
	for (i = 0; i < NNAMES; i++)
		if (strlen(names[i].name) == n &&
		    strncmp(p + 1, names[i].name, n) == 0) {
			k->uses |= names[i].use;
			return 0;
		}
	return errbuf_set(err, ERR_USAGE, "'%.*s': unknown key field "
	    "(known: uuid, n, host, shard, first_seq, last_seq, field:NAME)",
	    (int)n + 2, p);
}

/* The conversion at p ("%Y", "%EY", "%Od", "%%"); *next after it. */
static int
parse_percent(struct keyfmt *k, const char *p, const char **next,
    struct errbuf *err)
{
	const char *c = p + 1;

	if (*c == '%') {
		*next = c + 1;
		return 0;
	}
	if (*c == 'E' || *c == 'O')
		c++;
	if (*c == '\0' || strchr(conversions, *c) == NULL)
		return errbuf_set(err, ERR_USAGE,
		    "'%.*s': unknown time conversion", (int)(c - p + (*c != 0)),
		    p);
	k->uses |= KEYFMT_USES_TIME;
	*next = c + 1;
	return 0;
}

int
keyfmt_parse(struct keyfmt *k, const char *fmt, struct errbuf *err)
{
	const char *p = fmt;

	memset(k, 0, sizeof(*k));
	if ((k->fmt = strdup(fmt)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	while (*p != '\0') {
		int rc = 0;
		if (p[0] == '{' && p[1] == '{')
			p += 2;
		else if (*p == '{')
			rc = parse_brace(k, p, &p, err);
		else if (*p == '%')
			rc = parse_percent(k, p, &p, err);
		else
			p++;
		if (rc == -1) {
			keyfmt_free(k);
			return -1;
		}
	}
	return 0;
}

/* The format is one conversion that parse_percent accepted. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static int
put_time(struct buf *out, const char *spec, size_t n, const struct tm *tm)
{
	char f[8], t[128];
	size_t len;

	memcpy(f, spec, n);
	f[n] = '\0';
	/* "%p" may be empty in some locales: strftime's 0 is not an error */
	len = strftime(t, sizeof(t), f, tm);
	return buf_append(out, t, len);
}
#pragma GCC diagnostic pop

static int
put_brace(const struct keyfmt *k, const struct keyfmt_vars *v,
    const char *name, size_t n, struct buf *out)
{
	const char *s = NULL;
	long i;

	if (n > strlen(FIELD) && strncmp(name, FIELD, strlen(FIELD)) == 0) {
		i = field_index(k, name + strlen(FIELD), n - strlen(FIELD));
		s = i >= 0 && v->fields != NULL ? v->fields[i] : NULL;
	} else if (n == 1 && *name == 'n') {
		return buf_printf(out, "%06llu", v->n);
	} else if (strncmp(name, "uuid", n) == 0) {
		s = v->uuid;
	} else if (strncmp(name, "host", n) == 0) {
		s = v->host;
	} else if (strncmp(name, "shard", n) == 0) {
		s = v->shard;
	} else if (strncmp(name, "first_seq", n) == 0) {
		s = v->first_seq;
	} else if (strncmp(name, "last_seq", n) == 0) {
		s = v->last_seq;
	}
	return s != NULL ? buf_puts(out, s) : 0;
}

int
keyfmt_expand(const struct keyfmt *k, const struct keyfmt_vars *v,
    struct buf *out, struct errbuf *err)
{
	const char *p = k->fmt, *q;
	struct tm tm;
	int rc = 0;

	if (gmtime_r(&v->time, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	while (*p != '\0' && rc == 0) {
		if (p[0] == '{' && p[1] == '{') {
			rc = buf_putc(out, '{');
			p += 2;
		} else if (*p == '{') {
			q = strchr(p, '}');
			rc = put_brace(k, v, p + 1, (size_t)(q - p - 1), out);
			p = q + 1;
		} else if (p[0] == '%' && p[1] == '%') {
			rc = buf_putc(out, '%');
			p += 2;
		} else if (*p == '%') {
			q = p + 1 + (p[1] == 'E' || p[1] == 'O');
			rc = put_time(out, p, (size_t)(q - p + 1), &tm);
			p = q + 1;
		} else {
			q = p + strcspn(p, "{%");
			rc = buf_append(out, p, (size_t)(q - p));
			p = q;
		}
	}
	if (rc == -1)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

void
keyfmt_uuid(const unsigned char rnd[16], char out[KEYFMT_UUID_LEN])
{
	unsigned char b[16];

	memcpy(b, rnd, 16);
	/* RFC 9562 section 5.4: version 4, variant 10 */
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, KEYFMT_UUID_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	    b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	    b[15]);
}
