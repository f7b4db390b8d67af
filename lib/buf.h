/* buf: a growable byte buffer, always NUL-terminated, with an optional cap. */
#ifndef COINPIPE_BUF_H
#define COINPIPE_BUF_H

#include <stddef.h>

struct buf {
	char *data;	/* NULL until the first append or reserve; then
			 * data[len] == '\0' */
	size_t len;
	size_t cap;	/* allocated bytes */
	size_t max;	/* 0: no limit; else appends beyond max bytes fail */
};

#define BUF_INIT { NULL, 0, 0, 0 }

/* All return 0, or -1 on allocation failure or when max would be exceeded. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_reserve(struct buf *b, size_t extra);

void buf_reset(struct buf *b);		/* len = 0, keeps memory */
void buf_free(struct buf *b);		/* releases memory */
void buf_wipe(struct buf *b);		/* cleanses, then releases (secrets) */

/* The one secret wipe for a C string: cleanses strlen(s) bytes with
 * OPENSSL_cleanse (which the compiler cannot drop), then frees; NULL is
 * fine. */
void buf_wipe_str(char *s);

/* Hands over the string (never NULL on success); b is left empty. */
char *buf_steal(struct buf *b);

#endif
