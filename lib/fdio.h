/*
 * fdio: writing a whole buffer to a file descriptor. The one write loop of
 * the tools (stdout, dead letters, spool files, the checkpoint's temporary
 * file, s3out's spill file), and the one way a tool opens a file it
 * appends to (kin-put's and s3-putcsv's dead-letter files).
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

/*
 * Opens path for appending, created 0600 (a dead letter holds the data
 * itself) and close-on-exec. The descriptor, or -1 with err set to
 * ERR_CONFIG "path: reason": a path the user named that cannot be written
 * is a configuration to fix, not a failure to retry.
 */
int fdio_open_append(const char *path, struct errbuf *err);

/* A write lock on the whole file (fcntl, so a killed holder releases it
 * and a forked child does not share it), without waiting. 0, or -1 with
 * errno set (EAGAIN or EACCES: another process holds it). */
int fdio_try_lock(int fd);

/*
 * Replaces path with data atomically: a temporary file beside it (mode
 * 0600, made by mkstemp), fsync, rename, fsync of the directory. A crash
 * leaves the old file or the new one, never a mix. 0, or -1 with err set
 * to ERR_SYSTEM naming the file.
 */
int fdio_replace(const char *path, const void *data, size_t n,
    struct errbuf *err);

/* fsync of the directory holding path, which makes a rename or a creation
 * in it durable. 0, or -1 with errno set. */
int fdio_sync_dir_of(const char *path);

#endif
