/* errbuf: how lib/ reports a failure to its caller without printing. */
#ifndef COINPIPE_ERRBUF_H
#define COINPIPE_ERRBUF_H

#include <stddef.h>

#define ERRBUF_LEN 512

/*
 * What kind of failure it was, so that cmd/ can map it to the shared exit
 * code table (STYLE.md section 3) without parsing the message.
 */
enum errbuf_kind {
	ERR_NONE = 0,
	ERR_DATA = 1,	/* one record or input line was bad */
	ERR_USAGE = 2,	/* caller passed something invalid */
	ERR_CONFIG = 3,	/* configuration, credentials, 4xx auth */
	ERR_TEMP = 4,	/* temporary: network, 5xx, throttling */
	ERR_SYSTEM = 6	/* out of memory, I/O error on a local file */
};

struct errbuf {
	enum errbuf_kind kind;
	char msg[ERRBUF_LEN];	/* one line, no trailing newline or period */
};

/* Sets kind and message; returns -1 so callers can `return errbuf_set(...)`. */
int errbuf_set(struct errbuf *e, enum errbuf_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prepends "context: " to an existing message (keeps the kind). */
int errbuf_prefix(struct errbuf *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void errbuf_clear(struct errbuf *e);

#endif
