#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "tap.h"

static char dir[] = "/tmp/test_checkpoint.XXXXXX";

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void
test_seq_order(void)
{
	ok(checkpoint_seq_cmp("9", "10") < 0, "shorter sequence is older");
	ok(checkpoint_seq_cmp("49590338271490256608559692538361571095921575989136588898",
	    "49590338271490256608559692538361571095921575989136588899") < 0,
	    "56-digit sequences compare by value");
	ok(checkpoint_seq_cmp("123", "123") == 0, "equal sequences");
}

static void
test_set_never_moves_back(void)
{
	struct checkpoint cp = { 0 };
	const struct checkpoint_shard *s;
	struct errbuf e;

	checkpoint_set(&cp, "shardId-000000000000", "200", CHECKPOINT_NO_SUBSEQ, &e);
	checkpoint_set(&cp, "shardId-000000000000", "100", CHECKPOINT_NO_SUBSEQ, &e);
	s = checkpoint_find(&cp, "shardId-000000000000");
	is_str(s->seq, "200", "an older sequence does not move it back");
	checkpoint_set(&cp, "shardId-000000000000", "300", 2, &e);
	checkpoint_set(&cp, "shardId-000000000000", "300", 1, &e);
	is_int(s->subseq, 2, "an older sub-sequence does not move it back");
	checkpoint_set(&cp, "shardId-000000000000", "300", CHECKPOINT_NO_SUBSEQ, &e);
	is_int(s->subseq, CHECKPOINT_NO_SUBSEQ, "a whole record beats a part of it");
	ok(checkpoint_set(&cp, "s", "12a", 0, &e) == -1, "non-digit refused");
	ok(checkpoint_set(&cp, "s", "", 0, &e) == -1, "empty refused");
	ok(checkpoint_set(&cp, "s", "012", 0, &e) == -1, "leading zero refused");
	is_int(cp.n, 1, "refused entries add no shard");
	checkpoint_free(&cp);
}

/*
 * CHECKPOINT_NO_SUBSEQ is the end of its record, after every sub-record:
 * s3-putcsv's own per-object marks used to rank it before sub-record 0,
 * so a record's end did not move them and a sub-record moved them back
 * into a record already handled whole.
 */
static void
test_no_subseq_is_end_of_record(void)
{
	struct checkpoint cp = { 0 };
	const struct checkpoint_shard *s;
	struct errbuf e;

	checkpoint_advance(&cp, "a", "300", 4, &e);
	checkpoint_advance(&cp, "a", "300", CHECKPOINT_NO_SUBSEQ, &e);
	s = checkpoint_find(&cp, "a");
	is_int(s->subseq, CHECKPOINT_NO_SUBSEQ, "sub-record 4, then the "
	    "record's end: at its end");
	checkpoint_advance(&cp, "a", "300", 2, &e);
	is_int(s->subseq, CHECKPOINT_NO_SUBSEQ, "a sub-record after the "
	    "record's end does not move it back");
	checkpoint_advance(&cp, "a", "301", 0, &e);
	ok(strcmp(s->seq, "301") == 0 && s->subseq == 0,
	    "a later record's first sub-record moves it on");
	ok(checkpoint_advance(&cp, "b", "x1", 0, &e) == 0 &&
	    checkpoint_set(&cp, "b", "x1", 0, &e) == -1 && e.kind == ERR_DATA,
	    "advance keeps any seq, set refuses a bad one");
	checkpoint_free(&cp);
}

static void
test_round_trip(void)
{
	struct checkpoint cp = { 0 }, back;
	const struct checkpoint_shard *s;
	char path[256];
	struct errbuf e;
	struct stat st;

	snprintf(path, sizeof(path), "%s/st.json", dir);
	ok(checkpoint_load(path, &back, &e) == 0 && back.n == 0,
	    "a missing file is an empty checkpoint");
	checkpoint_set(&cp, "shardId-000000000000", "4959", 3, &e);
	checkpoint_set(&cp, "shardId-000000000001", "5000", CHECKPOINT_NO_SUBSEQ, &e);
	checkpoint_finish(&cp, "shardId-000000000001", &e);
	ok(checkpoint_save(path, &cp, &e) == 0, "save");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	    "file is created 0600");
	ok(checkpoint_load(path, &back, &e) == 0, "load");
	is_int(back.n, 2, "two shards back");
	s = checkpoint_find(&back, "shardId-000000000000");
	ok(s && strcmp(s->seq, "4959") == 0 && s->subseq == 3 && !s->finished,
	    "shard 0: seq and subseq");
	s = checkpoint_find(&back, "shardId-000000000001");
	ok(s && strcmp(s->seq, "5000") == 0 && s->finished &&
	    s->subseq == CHECKPOINT_NO_SUBSEQ, "shard 1: finished");
	checkpoint_free(&back);
	checkpoint_free(&cp);
	checkpoint_free(NULL);
}

static void
test_malformed(void)
{
	static const struct { const char *text, *want; } bad[] = {
		{ "{\"version\":1", "st.json:1: " },
		{ "[]", "not a checkpoint file" },
		{ "{\"shards\":{\"a\":{\"seq\":12}}}", "shard a: malformed" },
		{ "{\"shards\":{\"a\":{\"seq\":\"x1\"}}}", "not a sequence" },
		{ "{\"shards\":{\"a\":{\"subseq\":-1}}}", "malformed" },
	};
	struct checkpoint cp;
	char path[256];
	struct errbuf e;
	size_t i;

	snprintf(path, sizeof(path), "%s/st.json", dir);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(path, bad[i].text);
		ok(checkpoint_load(path, &cp, &e) == -1 && e.kind == ERR_CONFIG &&
		    strstr(e.msg, bad[i].want) != NULL && cp.n == 0,
		    "malformed checkpoint %zu refused: %s", i, e.msg);
	}
	snprintf(path, sizeof(path), "%s/no-such-dir/st.json", dir);
	ok(checkpoint_save(path, &cp, &e) == -1 && e.kind == ERR_SYSTEM &&
	    strstr(e.msg, "no-such-dir") != NULL, "save into a missing "
	    "directory fails with the path");
}

int
main(void)
{
	char cmd[300];

	if (mkdtemp(dir) == NULL)
		return 1;
	test_seq_order();
	test_set_never_moves_back();
	test_no_subseq_is_end_of_record();
	test_round_trip();
	test_malformed();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		ok(0, "cleanup");
	return tap_done();
}
