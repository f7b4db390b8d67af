/*
 * fdio: writing a whole buffer to a file descriptor. The one write loop of
 * the tools (stdout, dead letters, spool files, the checkpoint's temporary
 * file, s3out's spill file).
 */
#ifndef COINPIPE_FDIO_H
#define COINPIPE_FDIO_H

#include <stddef.h>

#include "errbuf.h"

/*
 * Writes p[0..n) to fd, resuming after EINTR and short writes. 0, or -1
 * with err set to ERR_SYSTEM "what: reason" (EPIPE, ENOSPC, ...); errno
 * still holds the cause, so a caller can tell EPIPE apart.
 */
int fdio_write_all(int fd, const void *p, size_t n, const char *what,
    struct errbuf *err);

#endif
