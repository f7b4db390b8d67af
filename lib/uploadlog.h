/*
 * uploadlog: the multipart uploads an s3-putcsv run has open, kept on disk
 * beside its checkpoint or in its spool, so that the next run with the same
 * checkpoint or spool aborts what a kill left open. S3 keeps, and bills, the
 * parts of an upload that is neither completed nor aborted.
 *
 * The log is a file of JSON lines, appended:
 *	{"begin":KEY,"bucket":B,"at":EPOCH}	before CreateMultipartUpload
 *	{"open":ID,"key":KEY,"bucket":B}	once S3 gave the upload its id
 *	{"end":ID or null,"key":KEY,"bucket":B}	completed, aborted, or the
 *						create failed
 * "begin" and "open" are synced before the upload is used, so a kill at any
 * moment leaves a trace of every upload that may exist. An upload is this
 * log's when its id is in it, or, for a "begin" without its "open" (a kill
 * while the create was in flight), when it has that key and was initiated
 * at or after "at": uploads other writers have under the same prefix are
 * never touched. The file is locked (fcntl) while a run holds it, and a log
 * another running process holds is refused, so what the log names is owned
 * by no running process.
 * jansson: each line is a small object read member by member.
 */
#ifndef COINPIPE_UPLOADLOG_H
#define COINPIPE_UPLOADLOG_H

#include <stddef.h>

#include "errbuf.h"

struct uploadlog_entry {
	char *bucket;
	char *key;
	char *upload_id;	/* NULL: the create was in flight */
	double at;		/* epoch seconds the create was begun */
};

struct uploadlog {
	int fd;			/* -1: not open */
	char *path;
	struct uploadlog_entry *v;	/* begun and not ended */
	size_t n;
	int held;		/* locked and read: close may remove it */
};

/*
 * Opens path (created 0600), locks it and reads what earlier runs left
 * open into l->v. ERR_CONFIG "path: in use by another PROG" when another
 * process holds it, or "path: reason". A torn last line (a kill while it
 * was written) is ignored. 0 or -1.
 */
int uploadlog_open(struct uploadlog *l, const char *path, const char *prog,
    struct errbuf *err);

/* The three events, each one line; begin and open are synced. 0, or -1
 * with err set (ERR_SYSTEM: the log cannot be written). ended's strings
 * may be those of the entry it removes. */
int uploadlog_begin(struct uploadlog *l, const char *bucket,
    const char *key, double now, struct errbuf *err);
int uploadlog_opened(struct uploadlog *l, const char *bucket,
    const char *key, const char *upload_id, struct errbuf *err);
int uploadlog_ended(struct uploadlog *l, const char *bucket,
    const char *key, const char *upload_id, struct errbuf *err);

/* Rewrites the file with only what is open now (l->v): after the uploads
 * earlier runs left were aborted and ended. 0 or -1. */
int uploadlog_compact(struct uploadlog *l, struct errbuf *err);

/* Removes the file when nothing is open, unlocks and frees. */
void uploadlog_close(struct uploadlog *l);

#endif
