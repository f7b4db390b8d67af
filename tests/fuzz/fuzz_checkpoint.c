/*
 * fuzz_checkpoint: checkpoint_load on a file holding the input.
 *
 * A checkpoint file is written by us, but it sits on disk for weeks, may be
 * cut short by a full disk or edited by hand, and kin-get --resume trusts
 * it. When a file loads, every shard must hold a valid position, and
 * saving then loading again must give the same checkpoint.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fuzz.h"

const char fuzz_name[] = "checkpoint";

static char dir[256], in_path[300], out_path[300];

static void
remove_files(void)
{
	unlink(in_path);
	unlink(out_path);
	rmdir(dir);
}

/* One private directory per process, removed at exit. */
static void
make_dir(void)
{
	const char *tmp = getenv("TMPDIR");

	if (dir[0] != '\0')
		return;
	snprintf(dir, sizeof(dir), "%s/fuzz_checkpoint.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL)
		fuzz_fail("mkdtemp %s failed", dir);
	snprintf(in_path, sizeof(in_path), "%s/in.json", dir);
	snprintf(out_path, sizeof(out_path), "%s/out.json", dir);
	atexit(remove_files);
}

static void
write_input(const uint8_t *data, size_t size)
{
	FILE *f = fopen(in_path, "wb");

	if (f == NULL || (size > 0 && fwrite(data, 1, size, f) != size) ||
	    fclose(f) != 0)
		fuzz_fail("cannot write %s", in_path);
}

static int
valid_seq(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 129 && strspn(s, "0123456789") == n &&
	    (s[0] != '0' || n == 1);
}

static void
check_shards(const struct checkpoint *cp)
{
	size_t i;

	for (i = 0; i < cp->n; i++) {
		const struct checkpoint_shard *s = &cp->shards[i];
		FUZZ_CHECK(s->shard_id != NULL, "shard %zu has no id", i);
		FUZZ_CHECK(s->seq == NULL || valid_seq(s->seq),
		    "shard %zu: '%s' is not a sequence number", i, s->seq);
		FUZZ_CHECK(s->subseq >= CHECKPOINT_NO_SUBSEQ,
		    "shard %zu: subseq %ld", i, s->subseq);
		FUZZ_CHECK(checkpoint_find(cp, s->shard_id) == s,
		    "shard %zu: id is not unique", i);
	}
}

/* The same shards with the same positions, in any order. */
static void
same(const struct checkpoint *a, const struct checkpoint *b)
{
	size_t i;

	FUZZ_CHECK(a->n == b->n, "%zu shards came back as %zu", a->n, b->n);
	for (i = 0; i < a->n; i++) {
		const struct checkpoint_shard *x = &a->shards[i];
		const struct checkpoint_shard *y = checkpoint_find(b,
		    x->shard_id);
		FUZZ_CHECK(y != NULL, "shard %zu lost in save/load", i);
		FUZZ_CHECK((x->seq == NULL) == (y->seq == NULL) &&
		    (x->seq == NULL || strcmp(x->seq, y->seq) == 0) &&
		    x->subseq == y->subseq && x->finished == y->finished,
		    "shard %zu changed in save/load", i);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct checkpoint cp, again;
	struct errbuf err;

	make_dir();
	write_input(data, size);
	if (checkpoint_load(in_path, &cp, &err) == -1) {
		FUZZ_CHECK(cp.n == 0 && cp.shards == NULL,
		    "failed load left shards behind");
		FUZZ_CHECK(err.kind == ERR_CONFIG &&
		    fuzz_is_one_line(err.msg, sizeof(err.msg)),
		    "failed load without a one-line ERR_CONFIG error");
		return 0;
	}
	check_shards(&cp);
	FUZZ_CHECK(checkpoint_save(out_path, &cp, &err) == 0,
	    "save of a loaded checkpoint failed: %s", err.msg);
	FUZZ_CHECK(checkpoint_load(out_path, &again, &err) == 0,
	    "a saved checkpoint does not load: %s", err.msg);
	same(&cp, &again);
	checkpoint_free(&cp);
	checkpoint_free(&again);
	return 0;
}
