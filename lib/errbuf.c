#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "errbuf.h"

int
errbuf_set(struct errbuf *e, enum errbuf_kind kind, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->kind = kind;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
errbuf_prefix(struct errbuf *e, const char *fmt, ...)
{
	char old[ERRBUF_LEN];
	va_list ap;
	int n;

	if (e == NULL)
		return -1;
	memcpy(old, e->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	/* the message is cut at ERRBUF_LEN; the context comes first */
	if (n >= 0 && (size_t)n < sizeof(e->msg) - 2) {
		memcpy(e->msg + n, ": ", 2);
		memcpy(e->msg + n + 2, old, sizeof(e->msg) - n - 2);
		e->msg[sizeof(e->msg) - 1] = '\0';
	}
	return -1;
}

void
errbuf_clear(struct errbuf *e)
{
	if (e == NULL)
		return;
	e->kind = ERR_NONE;
	e->msg[0] = '\0';
}
