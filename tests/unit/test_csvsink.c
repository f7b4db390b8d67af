/*
 * csvsink on a fake clock and an in-memory object store: rotation,
 * partitions, the checkpoint after durable uploads only, spool recovery
 * after a crash, failed uploads.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "checkpoint.h"
#include "csvsink.h"
#include "s3out.h"
#include "tap.h"

#define MAXOBJ 16

/* What the store and the hooks saw. */
struct world {
	long long now_ms;
	time_t wall;
	int fail;			/* the next finish fails */
	int begun, discarded;
	char *keys[MAXOBJ];		/* finished objects, in order */
	struct buf bodies[MAXOBJ];
	int nobj;
	char whys[MAXOBJ][16];		/* from the uploaded hook */
	int nup;
	char bad[1100];			/* the last bad line's "where: why" */
	int nbad;
	struct buf out;			/* to_stdout */
};

struct memobj {
	struct world *w;
	struct buf body;
};

static void *
mem_begin(void *arg, const char *key, struct errbuf *err)
{
	struct memobj *o = calloc(1, sizeof(*o));

	(void)key;
	(void)err;
	o->w = arg;
	o->w->begun++;
	return o;
}

static int
mem_write(void *obj, const void *p, size_t n, struct errbuf *err)
{
	struct memobj *o = obj;

	(void)err;
	return buf_append(&o->body, p, n);
}

static int
mem_finish(void *obj, const char *key, char etag[S3_ETAG_MAX],
    struct errbuf *err)
{
	struct memobj *o = obj;
	struct world *w = o->w;

	if (w->fail) {
		w->fail = 0;
		return errbuf_set(err, ERR_TEMP, "PutObject %s: HTTP 503 "
		    "SlowDown", key);
	}
	w->keys[w->nobj] = strdup(key);
	w->bodies[w->nobj] = o->body;
	o->body = (struct buf)BUF_INIT;
	snprintf(etag, S3_ETAG_MAX, "etag%d", w->nobj);
	w->nobj++;
	return 0;
}

static unsigned long long
mem_stored(void *obj)
{
	return ((struct memobj *)obj)->body.len;
}

static int
mem_multipart(void *obj)
{
	(void)obj;
	return 0;
}

static void
mem_discard(void *obj)
{
	struct memobj *o = obj;

	o->w->discarded++;
	buf_free(&o->body);
	free(o);
}

static long long
fake_mono(void *arg)
{
	return ((struct world *)arg)->now_ms;
}

static time_t
fake_wall(void *arg)
{
	return ((struct world *)arg)->wall;
}

static int
on_bad(void *arg, const char *where, const char *line, size_t len,
    const struct errbuf *why, struct errbuf *err)
{
	struct world *w = arg;

	(void)line;
	(void)len;
	(void)err;
	snprintf(w->bad, sizeof(w->bad), "%s: %s", where, why->msg);
	w->nbad++;
	return 0;
}

static int
on_uploaded(void *arg, const struct csvsink_upload *u, struct errbuf *err)
{
	struct world *w = arg;

	(void)err;
	snprintf(w->whys[w->nup++], sizeof(w->whys[0]), "%s", u->why);
	return 0;
}

static int
on_out(void *arg, const char *p, size_t n, struct errbuf *err)
{
	(void)err;
	return buf_append(&((struct world *)arg)->out, p, n);
}

static struct csvsink_store
mem_store(struct world *w)
{
	struct csvsink_store s = {
		mem_begin, mem_write, mem_finish, mem_stored, mem_multipart,
		mem_discard, NULL
	};

	s.arg = w;
	return s;
}

static struct csvsink_hooks
hooks(struct world *w)
{
	struct csvsink_hooks h;

	memset(&h, 0, sizeof(h));
	h.mono_ms = fake_mono;
	h.wall = fake_wall;
	h.bad_line = on_bad;
	h.uploaded = on_uploaded;
	h.out = on_out;
	h.arg = w;
	return h;
}

static struct csvsink_config
config(const char *key_format)
{
	struct csvsink_config c;

	memset(&c, 0, sizeof(c));
	c.prefix = "p";
	c.key_format = key_format;
	c.lf = 1;
	c.max_bytes = 1 << 20;
	c.prog = "test";
	return c;
}

static void
world_free(struct world *w)
{
	int i;

	for (i = 0; i < w->nobj; i++) {
		free(w->keys[i]);
		buf_free(&w->bodies[i]);
	}
	buf_free(&w->out);
	memset(w, 0, sizeof(*w));
}

static int
put(struct csvsink *s, const char *line, unsigned long n)
{
	return csvsink_put_line(s, line, strlen(line), "in", n);
}

static const char *
body(struct world *w, int i)
{
	return i < w->nobj && w->bodies[i].data ? w->bodies[i].data : "";
}

static const char *
key(struct world *w, int i)
{
	return i < w->nobj ? w->keys[i] : "";
}

static void
test_rotation_by_rows(void)
{
	struct world w = { 0 };
	struct csvsink_store st = mem_store(&w);
	struct csvsink_hooks h = hooks(&w);
	struct csvsink_config c = config("k-{n}.csv");
	struct csvsink *s;
	struct errbuf e;
	char line[32];
	int i;

	c.max_rows = 2;
	s = csvsink_new(&c, &st, &h, &e);
	for (i = 1; i <= 5; i++) {
		snprintf(line, sizeof(line), "{\"a\":%d}", i);
		put(s, line, (unsigned long)i);
	}
	is_int(w.nobj, 2, "5 rows, max-rows 2: two objects before the end");
	is_int(csvsink_pending(s), 1, "the fifth row waits in an open one");
	ok(csvsink_finish(s, "end of input") == 0, "finish");
	is_int(w.nobj, 3, "three objects");
	is_str(body(&w, 0), "a\n1\n2\n", "object 1: header and two rows");
	is_str(body(&w, 2), "a\n5\n", "object 3: the rest");
	is_str(key(&w, 1), "p/k-000002.csv", "keys: prefix, then the format");
	ok(strcmp(w.whys[0], "max-rows") == 0 &&
	    strcmp(w.whys[2], "end of input") == 0, "the reasons reported");
	csvsink_free(s);
	world_free(&w);
}

/* max 10: rows land at 5, 8 and exactly 10 bytes; max 9: the third row
 * would make 10, one byte too many. */
static void
test_rotation_by_bytes(void)
{
	struct world w = { 0 };
	struct csvsink_store st = mem_store(&w);
	struct csvsink_hooks h = hooks(&w);
	struct csvsink_config c = config("k-{n}.csv");
	struct csvsink *s;
	struct errbuf e;

	c.max_bytes = 10;
	s = csvsink_new(&c, &st, &h, &e);
	put(s, "{\"a\":10}", 1);
	put(s, "{\"a\":11}", 2);
	put(s, "{\"a\":1}", 3);
	is_int(w.nobj, 0, "exactly max-bytes fits");
	put(s, "{\"a\":2}", 4);
	is_int(w.nobj, 1, "the row that would pass max-bytes starts a new "
	    "object");
	is_str(body(&w, 0), "a\n10\n11\n1\n", "the full object");
	is_str(w.whys[0], "max-bytes", "reported as max-bytes");
	csvsink_finish(s, "end of input");
	is_str(body(&w, 1), "a\n2\n", "the next one starts with the header");
	csvsink_free(s);
	world_free(&w);

	c.max_bytes = 9;
	s = csvsink_new(&c, &st, &h, &e);
	put(s, "{\"a\":10}", 1);
	put(s, "{\"a\":11}", 2);
	put(s, "{\"a\":1}", 3);
	is_int(w.nobj, 1, "one byte over max-bytes: rotated");
	csvsink_free(s);
	world_free(&w);
}

static void
test_rotation_by_age(void)
{
	struct world w = { 0 };
	struct csvsink_store st = mem_store(&w);
	struct csvsink_hooks h = hooks(&w);
	struct csvsink_config c = config("k-{n}.csv");
	struct csvsink *s;
	struct errbuf e;
	long long next;

	c.max_age_ms = 1000;
	w.now_ms = 5000;
	s = csvsink_new(&c, &st, &h, &e);
	ok(csvsink_tick(s, &next) == 0 && next == -1, "nothing open: no "
	    "deadline");
	put(s, "{\"a\":1}", 1);
	w.now_ms = 5600;
	put(s, "{\"a\":2}", 2);
	ok(csvsink_tick(s, &next) == 0 && next == 400 && w.nobj == 0,
	    "600 ms later: 400 ms to go, nothing uploaded");
	w.now_ms = 5999;
	csvsink_tick(s, &next);
	is_int(w.nobj, 0, "1 ms before the age: still open");
	w.now_ms = 6000;
	ok(csvsink_tick(s, &next) == 0 && w.nobj == 1 && next == -1,
	    "at max-age from the first row: uploaded");
	is_str(body(&w, 0), "a\n1\n2\n", "with both rows");
	is_str(w.whys[0], "max-age", "reported as max-age");
	csvsink_free(s);
	world_free(&w);
}

static int
find_key(struct world *w, const char *k)
{
	int i;

	for (i = 0; i < w->nobj; i++)
		if (strcmp(w->keys[i], k) == 0)
			return i;
	return -1;
}

static void
test_partitions(void)
{
	static const char *const lines[] = {
		"{\"_shard\":\"s1\",\"_seq\":\"10\",\"coin\":\"btc\",\"p\":1}",
		"{\"_shard\":\"s2\",\"_seq\":\"20\",\"coin\":\"btc\",\"p\":2}",
		"{\"_shard\":\"s1\",\"_seq\":\"11\",\"coin\":\"eth\",\"p\":3}",
		"{\"_shard\":\"s1\",\"_seq\":\"12\",\"coin\":\"btc\",\"p\":4}",
	};
	struct world w = { 0 };
	struct csvsink_store st = mem_store(&w);
	struct csvsink_hooks h = hooks(&w);
	struct csvsink_config c =
	    config("{shard}/{field:coin}/{first_seq}.csv");
	struct csvsink *s;
	struct errbuf e;
	size_t i;
	int k;

	s = csvsink_new(&c, &st, &h, &e);
	for (i = 0; i < 4; i++)
		put(s, lines[i], (unsigned long)i + 1);
	is_int(csvsink_pending(s), 3, "three partitions open");
	csvsink_finish(s, "end of input");
	is_int(w.nobj, 3, "three objects");
	k = find_key(&w, "p/s1/btc/10.csv");
	ok(k >= 0 && strcmp(body(&w, k), "coin,p\nbtc,1\nbtc,4\n") == 0,
	    "s1/btc holds rows 1 and 4");
	k = find_key(&w, "p/s2/btc/20.csv");
	ok(k >= 0 && strcmp(body(&w, k), "coin,p\nbtc,2\n") == 0,
	    "s2/btc holds row 2");
	ok(find_key(&w, "p/s1/eth/11.csv") >= 0, "s1/eth apart");
	csvsink_free(s);
	world_free(&w);
}

static char tmp[256];

static const struct checkpoint_shard *
saved(struct checkpoint *cp, const char *path, const char *shard)
{
	struct errbuf e;

	checkpoint_free(cp);
	if (checkpoint_load(path, cp, &e) == -1)
		return NULL;
	return checkpoint_find(cp, shard);
}

static void
test_checkpoint_after_upload(void)
{
	struct world w = { 0 };
	struct csvsink_store st = mem_store(&w);
	struct csvsink_hooks h = hooks(&w);
	struct csvsink_config c = config("{shard}/{first_seq}.csv");
	struct checkpoint cp = { 0 };
	const struct checkpoint_shard *cs;
	char path[300];
	struct csvsink *s;
	struct errbuf e;

	snprintf(path, sizeof(path), "%s/cp.json", tmp);
	c.checkpoint = path;
	c.max_rows = 2;
	s = csvsink_new(&c, &st, &h, &e);
	put(s, "{\"_shard\":\"s1\",\"_seq\":\"100\",\"_subseq\":0,\"p\":1}", 1);
	ok(access(path, F_OK) == -1, "no upload yet: no checkpoint");
	put(s, "{\"_shard\":\"s1\",\"_seq\":\"100\",\"_subseq\":1,\"p\":2}", 2);
	cs = saved(&cp, path, "s1");
	ok(w.nobj == 1 && cs != NULL && strcmp(cs->seq, "100") == 0 &&
	    cs->subseq == 1, "after the upload: seq 100, subseq 1");
	put(s, "{\"_shard\":\"s1\",\"_seq\":\"200\",\"p\":3}", 3);
	w.fail = 1;
	ok(csvsink_finish(s, "end of input") == -1 &&
	    csvsink_error(s)->kind == ERR_TEMP &&
	    strstr(csvsink_error(s)->msg, "SlowDown") != NULL,
	    "a failed upload: ERR_TEMP with the store's reason");
	ok(csvsink_pending(s) == 1 && w.nup == 1, "the object stays open, "
	    "not reported");
	cs = saved(&cp, path, "s1");
	ok(cs != NULL && strcmp(cs->seq, "100") == 0 && cs->subseq == 1,
	    "the checkpoint did not move past the failed object");
	ok(csvsink_finish(s, "end of input") == 0, "a second try goes up");
	cs = saved(&cp, path, "s1");
	ok(cs != NULL && strcmp(cs->seq, "200") == 0 &&
	    cs->subseq == CHECKPOINT_NO_SUBSEQ, "then seq 200, whole");
	checkpoint_free(&cp);
	csvsink_free(s);
	world_free(&w);
	unlink(path);
}

/* A shard moves only when no open object holds older rows of it. */
static void
test_checkpoint_waits_for_open_objects(void)
{
	struct world w = { 0 };
	struct csvsink_store st = mem_store(&w);
	struct csvsink_hooks h = hooks(&w);
	struct csvsink_config c = config("{field:coin}/{first_seq}.csv");
	struct checkpoint cp = { 0 };
	const struct checkpoint_shard *cs;
	char path[300];
	struct csvsink *s;
	struct errbuf e;

	snprintf(path, sizeof(path), "%s/cp2.json", tmp);
	c.checkpoint = path;
	c.max_rows = 2;
	s = csvsink_new(&c, &st, &h, &e);
	put(s, "{\"_shard\":\"s1\",\"_seq\":\"1\",\"coin\":\"eth\"}", 1);
	put(s, "{\"_shard\":\"s1\",\"_seq\":\"2\",\"coin\":\"btc\"}", 2);
	put(s, "{\"_shard\":\"s1\",\"_seq\":\"3\",\"coin\":\"btc\"}", 3);
	ok(w.nobj == 1 && access(path, F_OK) == -1, "btc went up, but eth "
	    "still holds seq 1: no checkpoint");
	csvsink_finish(s, "end of input");
	cs = saved(&cp, path, "s1");
	ok(cs != NULL && strcmp(cs->seq, "3") == 0, "once eth is up too: "
	    "the highest uploaded, seq 3");
	checkpoint_free(&cp);
	csvsink_free(s);
	world_free(&w);
	unlink(path);
}

/* A _subseq that is not a number must not claim the whole record. */
static void
test_bad_subseq(void)
{
	struct world w = { 0 };
	struct csvsink_store st = mem_store(&w);
	struct csvsink_hooks h = hooks(&w);
	struct csvsink_config c = config("{shard}/{first_seq}.csv");
	struct checkpoint cp = { 0 };
	const struct checkpoint_shard *cs;
	char path[300];
	struct csvsink *s;
	struct errbuf e;

	snprintf(path, sizeof(path), "%s/cp3.json", tmp);
	c.checkpoint = path;
	s = csvsink_new(&c, &st, &h, &e);
	put(s, "{\"_shard\":\"s1\",\"_seq\":\"7\",\"_subseq\":\"x\"}", 1);
	csvsink_finish(s, "end of input");
	cs = saved(&cp, path, "s1");
	ok(cs != NULL && strcmp(cs->seq, "7") == 0 && cs->subseq == 0,
	    "seq 7 at sub-record 0, not the whole record");
	checkpoint_free(&cp);
	csvsink_free(s);
	world_free(&w);
	unlink(path);
}

static int
spool_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	while (d != NULL && (de = readdir(d)) != NULL)
		n += strstr(de->d_name, ".ndjson") != NULL;
	if (d != NULL)
		closedir(d);
	return n;
}

/* The lock is per process: another process must be refused. */
static int
locked_elsewhere(const struct csvsink_config *c)
{
	struct world w = { 0 };
	struct csvsink_store st = mem_store(&w);
	struct csvsink_hooks h = hooks(&w);
	struct errbuf e;
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct csvsink *s = csvsink_new(c, &st, &h, &e);
		_exit(s == NULL && e.kind == ERR_CONFIG &&
		    strstr(e.msg, "in use by another test") != NULL ? 0 : 1);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void
test_spool_recovery(void)
{
	struct world w = { 0 }, w2 = { 0 };
	struct csvsink_store st = mem_store(&w), st2 = mem_store(&w2);
	struct csvsink_hooks h = hooks(&w), h2 = hooks(&w2);
	struct csvsink_config c = config("k-{n}.csv");
	char dir[300];
	struct csvsink *s;
	struct errbuf e;

	snprintf(dir, sizeof(dir), "%s/spool", tmp);
	c.spool = dir;
	s = csvsink_new(&c, &st, &h, &e);
	ok(s != NULL, "a spool directory is made");
	put(s, "{\"a\":1}", 1);
	put(s, "{\"a\":2}", 2);
	is_int(spool_files(dir), 1, "the open object's rows are on disk");
	ok(locked_elsewhere(&c), "another process is refused the spool");
	/* a crash: nothing uploaded, the engine gone, its files left */
	csvsink_free(s);
	is_int(w.nobj, 0, "nothing went up before the crash");
	s = csvsink_new(&c, &st2, &h2, &e);
	ok(s != NULL && csvsink_recover(s) == 0, "a new engine recovers");
	ok(w2.nobj == 1 && strcmp(body(&w2, 0), "a\n1\n2\n") == 0,
	    "the rows left behind go up in one object");
	is_str(w2.whys[0], "spool", "reported as spool");
	is_int(spool_files(dir), 0, "the spool file is gone after the upload");
	put(s, "{\"a\":3}", 1);
	w2.fail = 1;
	ok(csvsink_finish(s, "end of input") == -1 && spool_files(dir) == 1,
	    "a failed upload keeps its spool file");
	csvsink_free(s);
	world_free(&w);
	world_free(&w2);
}

static void
test_bad_lines_and_stdout(void)
{
	struct world w = { 0 };
	struct csvsink_store st = mem_store(&w);
	struct csvsink_hooks h = hooks(&w);
	struct csvsink_config c = config(NULL);
	struct csvsink *s;
	struct errbuf e;

	c.to_stdout = 1;
	s = csvsink_new(&c, &st, &h, &e);
	put(s, "{\"a\":1,\"b\":\"x,y\"}", 1);
	ok(put(s, "{\"a\":", 2) == 0 && w.nbad == 1 &&
	    strncmp(w.bad, "in:2: ", 6) == 0, "a bad line goes to the hook "
	    "with its place: %s", w.bad);
	put(s, "   ", 3);
	is_int(w.nbad, 1, "a blank line is no record and no error");
	is_int(w.out.len, 0, "to_stdout buffers until a tick");
	csvsink_finish(s, "end of input");
	is_str(w.out.data ? w.out.data : "", "a,b\n1,\"x,y\"\n",
	    "to_stdout: header and the row, quoted");
	is_int(w.begun, 0, "and no object");
	csvsink_free(s);
	world_free(&w);
}

static unsigned long long reported_bytes;

static int
on_uploaded_bytes(void *arg, const struct csvsink_upload *u,
    struct errbuf *err)
{
	reported_bytes = u->bytes;
	return on_uploaded(arg, u, err);
}

/* The s3out store without a client (a dry run): the key is set at the
 * end when it names the last _seq, and the stored bytes are counted. */
static void
test_s3_store_dry_run(void)
{
	struct world w = { 0 };
	struct csvsink_store st;
	struct csvsink_hooks h = hooks(&w);
	struct csvsink_config c = config("{shard}/{first_seq}-{last_seq}.csv");
	struct s3out_target t;
	struct csvsink *s;
	struct errbuf e;

	memset(&t, 0, sizeof(t));
	c.dry_run = 1;
	csvsink_store_s3(&st, &t, &c, 0);
	ok(t.part_size >= S3_MIN_PART_SIZE && t.opts.content_type != NULL &&
	    strstr(t.opts.content_type, "header=present") != NULL,
	    "the target: a part size S3 takes, the CSV content type");
	h.uploaded = on_uploaded_bytes;
	s = csvsink_new(&c, &st, &h, &e);
	put(s, "{\"_shard\":\"s1\",\"_seq\":\"5\",\"a\":1}", 1);
	put(s, "{\"_shard\":\"s1\",\"_seq\":\"9\",\"a\":2}", 2);
	ok(csvsink_finish(s, "end of input") == 0 && w.nup == 1,
	    "a dry run \"uploads\" one object");
	is_int(reported_bytes, strlen("a\n1\n2\n"), "its bytes counted");
	csvsink_free(s);
	world_free(&w);
}

static void
test_upload_json(void)
{
	struct csvsink_upload u;
	struct buf b = BUF_INIT;

	memset(&u, 0, sizeof(u));
	u.key = "a/\"b\".csv";
	u.etag = "e1";
	u.rows = 3;
	u.bytes = 40;
	ok(csvsink_upload_json(&b, "bkt", &u) == 0, "tee line built");
	is_str(b.data, "{\"bucket\":\"bkt\",\"key\":\"a/\\\"b\\\".csv\","
	    "\"rows\":3,\"bytes\":40,\"etag\":\"e1\",\"first_seq\":null,"
	    "\"last_seq\":null}\n", "quoted key, null seqs");
	buf_reset(&b);
	u.first_seq = "1";
	u.last_seq = "9";
	csvsink_upload_json(&b, "bkt", &u);
	ok(strstr(b.data, "\"first_seq\":\"1\",\"last_seq\":\"9\"}") != NULL,
	    "seqs as strings");
	buf_free(&b);
}

int
main(void)
{
	char cmd[300];

	snprintf(tmp, sizeof(tmp), "/tmp/test_csvsink.XXXXXX");
	if (mkdtemp(tmp) == NULL)
		return 1;
	test_rotation_by_rows();
	test_rotation_by_bytes();
	test_rotation_by_age();
	test_partitions();
	test_checkpoint_after_upload();
	test_checkpoint_waits_for_open_objects();
	test_bad_subseq();
	test_spool_recovery();
	test_bad_lines_and_stdout();
	test_upload_json();
	test_s3_store_dry_run();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", tmp);
	return tap_done();
}
