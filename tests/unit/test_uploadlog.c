/* test_uploadlog: the log of open multipart uploads, across "kills". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "errbuf.h"
#include "uploadlog.h"
#include "tap.h"

static char dir[] = "/tmp/test_uploadlog.XXXXXX";
static char path[64];

static int
exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

/* A run killed with uploads open: the child exits without closing. */
static void
killed_run(void)
{
	struct uploadlog l;
	struct errbuf e;
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (uploadlog_open(&l, path, "test", &e) == -1 ||
		    uploadlog_begin(&l, "b", "k1", 1000.5, &e) == -1 ||
		    uploadlog_opened(&l, "b", "k1", "u1", &e) == -1 ||
		    uploadlog_begin(&l, "b", "done", 1001, &e) == -1 ||
		    uploadlog_opened(&l, "b", "done", "u2", &e) == -1 ||
		    uploadlog_ended(&l, "b", "done", "u2", &e) == -1 ||
		    uploadlog_begin(&l, "b", "failed", 1002, &e) == -1 ||
		    uploadlog_ended(&l, "b", "failed", NULL, &e) == -1 ||
		    uploadlog_begin(&l, "c", "k\n\"3", 1003, &e) == -1)
			_exit(1);
		_exit(0);
	}
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0, "a run writes its log and is killed");
}

static void
test_left_open(void)
{
	struct uploadlog l;
	struct errbuf e;
	int fd;

	killed_run();
	/* a kill in the middle of a line */
	fd = open(path, O_WRONLY | O_APPEND);
	ok(fd != -1 && write(fd, "{\"open\":\"u9\",\"ke", 16) == 16,
	    "a torn last line");
	close(fd);
	if (!ok(uploadlog_open(&l, path, "test", &e) == 0, "reopened"))
		printf("#   %s\n", e.msg);
	is_int(l.n, 2, "two uploads left: one with its id, one in flight");
	if (l.n == 2) {
		is_str(l.v[0].key, "k1", "the first: its key");
		is_str(l.v[0].upload_id, "u1", "the first: its id");
		ok(l.v[0].at == 1000.5, "the first: when it was begun");
		is_str(l.v[1].bucket, "c", "the second: its own bucket");
		is_str(l.v[1].key, "k\n\"3", "the second: a key JSON escapes");
		ok(l.v[1].upload_id == NULL, "the second: no id yet");
	}
	uploadlog_close(&l);
	ok(exists(path), "close keeps a log with uploads open");
}

static void
test_in_use(void)
{
	struct uploadlog l;
	struct errbuf e;
	pid_t pid;
	int status;

	if (!ok(uploadlog_open(&l, path, "test", &e) == 0, "held"))
		return;
	pid = fork();
	if (pid == 0) {
		struct uploadlog other;
		struct errbuf oe;
		char want[128];

		snprintf(want, sizeof(want), "%s: in use by another s3-putcsv",
		    path);
		_exit(uploadlog_open(&other, path, "s3-putcsv", &oe) == -1 &&
		    oe.kind == ERR_CONFIG && strcmp(oe.msg, want) == 0 &&
		    exists(path) ? 0 : 1);
	}
	ok(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0,
	    "a second process is refused, and does not remove the log");
	uploadlog_close(&l);
}

static void
test_compact(void)
{
	struct uploadlog l;
	struct errbuf e;
	struct stat st;
	char line[256];
	FILE *f;
	int lines = 0;

	if (!ok(uploadlog_open(&l, path, "test", &e) == 0, "open"))
		return;
	ok(uploadlog_ended(&l, l.v[0].bucket, l.v[0].key, l.v[0].upload_id,
	    &e) == 0 && l.n == 1, "ended with the entry's own strings");
	ok(uploadlog_compact(&l, &e) == 0, "compacted");
	f = fopen(path, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		lines++;
	if (f != NULL)
		fclose(f);
	is_int(lines, 1, "one line left: the begin in flight");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "the new file is 0600");
	ok(uploadlog_opened(&l, "c", "k\n\"3", "u3", &e) == 0 &&
	    uploadlog_ended(&l, "c", "k\n\"3", "u3", &e) == 0 && l.n == 0,
	    "events go on in the new file");
	uploadlog_close(&l);
	ok(!exists(path), "close removes a log with nothing open");
	ok(uploadlog_open(&l, "/nonexistent/dir/x", "test", &e) == -1 &&
	    e.kind == ERR_CONFIG && strstr(e.msg, "/nonexistent/dir/x: ") ==
	    e.msg, "an unwritable place: ERR_CONFIG naming it");
}

int
main(void)
{
	if (mkdtemp(dir) == NULL) {
		ok(0, "mkdtemp: %s", strerror(errno));
		return tap_done();
	}
	snprintf(path, sizeof(path), "%s/st.json.uploads", dir);
	test_left_open();
	test_in_use();
	test_compact();
	unlink(path);
	rmdir(dir);
	return tap_done();
}
