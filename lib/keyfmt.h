/*
 * keyfmt: S3 object keys from a format, for s3-putcsv --key-format.
 *
 * The format is text with strftime conversions (%Y, %m, %d, %H, ... of the
 * object's time, in UTC; "%%" is a percent sign) and fields in braces:
 *	{uuid}		a random (version 4) UUID, one per object
 *	{n}		the object's number in this run, from 1, 6 digits
 *	{host}		the host name
 *	{shard}		the _shard of the object's rows
 *	{first_seq}	the _seq of its first row
 *	{last_seq}	the _seq of its last row
 *	{field:NAME}	the value of top-level member NAME in its first row
 * "{{" is a literal "{". Field values are inserted as they are: a '%' or
 * '{' inside a value is never expanded again. Pure: time and random bytes
 * are parameters.
 */
#ifndef COINPIPE_KEYFMT_H
#define COINPIPE_KEYFMT_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "errbuf.h"

#define KEYFMT_UUID_LEN 37	/* 36 characters and a NUL */

/* What a format uses. */
enum keyfmt_use {
	KEYFMT_USES_TIME = 1 << 0,
	KEYFMT_USES_UUID = 1 << 1,
	KEYFMT_USES_N = 1 << 2,
	KEYFMT_USES_HOST = 1 << 3,
	KEYFMT_USES_SHARD = 1 << 4,
	KEYFMT_USES_FIRST_SEQ = 1 << 5,
	KEYFMT_USES_LAST_SEQ = 1 << 6,
	KEYFMT_USES_FIELD = 1 << 7
};

struct keyfmt {
	char *fmt;
	unsigned uses;		/* enum keyfmt_use bits */
	char **fields;		/* the NAMEs of {field:NAME}, each once */
	size_t nfields;
};

struct keyfmt_vars {
	time_t time;
	const char *uuid;
	unsigned long long n;
	const char *host;
	const char *shard;	/* NULL: empty */
	const char *first_seq;
	const char *last_seq;
	const char *const *fields;	/* parallel to keyfmt.fields; NULL
					 * entries expand to nothing */
};

/* Checks fmt and notes what it uses. ERR_USAGE: "'{x}': unknown field". */
int keyfmt_parse(struct keyfmt *k, const char *fmt, struct errbuf *err);
void keyfmt_free(struct keyfmt *k);

/* Appends the expansion of k with v to out. 0, or -1 (memory). */
int keyfmt_expand(const struct keyfmt *k, const struct keyfmt_vars *v,
    struct buf *out, struct errbuf *err);

/* A version 4 UUID text from 16 random bytes. */
void keyfmt_uuid(const unsigned char rnd[16], char out[KEYFMT_UUID_LEN]);

#endif
