#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "buf.h"
#include "checkpoint.h"
#include "fdio.h"

#define SEQ_MAX_DIGITS 128	/* Kinesis: SequenceNumber pattern 0|([1-9]\d{0,128}) */

int
checkpoint_seq_cmp(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la != lb)
		return la < lb ? -1 : 1;
	return strcmp(a, b);
}

static int
valid_seq(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SEQ_MAX_DIGITS + 1 || (s[0] == '0' && n > 1))
		return 0;
	return strspn(s, "0123456789") == n;
}

/* jansson quotes the offending bytes ("near '\x1b'") and shard ids may
 * hold any character: a damaged or hostile file must not put terminal
 * controls into our one-line messages. */
static void
printable(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* Index of shard, or cp->n when absent; a run has few shards. */
static size_t
index_of(const struct checkpoint *cp, const char *shard)
{
	size_t i;

	for (i = 0; i < cp->n; i++)
		if (strcmp(cp->shards[i].shard_id, shard) == 0)
			break;
	return i;
}

const struct checkpoint_shard *
checkpoint_find(const struct checkpoint *cp, const char *shard)
{
	size_t i = index_of(cp, shard);

	return i < cp->n ? &cp->shards[i] : NULL;
}

static struct checkpoint_shard *
find_or_add(struct checkpoint *cp, const char *shard, struct errbuf *err)
{
	struct checkpoint_shard *s;
	size_t i = index_of(cp, shard);

	if (i < cp->n)
		return &cp->shards[i];
	if (cp->n == cp->cap) {
		size_t cap = cp->cap ? cp->cap * 2 : 8;
		void *p = realloc(cp->shards, cap * sizeof(*cp->shards));
		if (p == NULL)
			goto nomem;
		cp->shards = p;
		cp->cap = cap;
	}
	s = &cp->shards[cp->n];
	memset(s, 0, sizeof(*s));
	s->subseq = CHECKPOINT_NO_SUBSEQ;
	if ((s->shard_id = strdup(shard)) == NULL)
		goto nomem;
	cp->n++;
	return s;
nomem:
	errbuf_set(err, ERR_SYSTEM, "out of memory");
	return NULL;
}

int
checkpoint_set(struct checkpoint *cp, const char *shard, const char *seq,
    long subseq, struct errbuf *err)
{
	if (!valid_seq(seq)) {
		char shown[41];
		snprintf(shown, sizeof(shown), "%s", seq);
		printable(shown);
		return errbuf_set(err, ERR_DATA, "'%s': not a sequence number",
		    shown);
	}
	return checkpoint_advance(cp, shard, seq, subseq, err);
}

int
checkpoint_advance(struct checkpoint *cp, const char *shard, const char *seq,
    long subseq, struct errbuf *err)
{
	struct checkpoint_shard *s;
	char *copy;
	int c;

	if ((s = find_or_add(cp, shard, err)) == NULL)
		return -1;
	if (s->seq != NULL) {
		c = checkpoint_seq_cmp(seq, s->seq);
		if (c < 0 || (c == 0 && (s->subseq == CHECKPOINT_NO_SUBSEQ ||
		    (subseq != CHECKPOINT_NO_SUBSEQ && subseq <= s->subseq))))
			return 0;
	}
	if ((copy = strdup(seq)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	free(s->seq);
	s->seq = copy;
	s->subseq = subseq;
	return 0;
}

int
checkpoint_finish(struct checkpoint *cp, const char *shard, struct errbuf *err)
{
	struct checkpoint_shard *s = find_or_add(cp, shard, err);

	if (s == NULL)
		return -1;
	s->finished = 1;
	return 0;
}

void
checkpoint_free(struct checkpoint *cp)
{
	size_t i;

	if (cp == NULL)
		return;
	for (i = 0; i < cp->n; i++) {
		free(cp->shards[i].shard_id);
		free(cp->shards[i].seq);
	}
	free(cp->shards);
	memset(cp, 0, sizeof(*cp));
}

/* One member of "shards": {"seq":"...","subseq":N,"finished":true}. */
static int
load_shard(struct checkpoint *cp, const char *id, json_t *v,
    struct errbuf *err)
{
	json_t *seq = json_object_get(v, "seq");
	json_t *sub = json_object_get(v, "subseq");
	json_t *fin = json_object_get(v, "finished");
	long subseq = CHECKPOINT_NO_SUBSEQ;
	char shown[64];

	snprintf(shown, sizeof(shown), "%s", id);
	printable(shown);
	if (!json_is_object(v) || (seq != NULL && !json_is_string(seq)) ||
	    (sub != NULL && (!json_is_integer(sub) ||
	    json_integer_value(sub) < 0)) ||
	    (fin != NULL && !json_is_boolean(fin)))
		return errbuf_set(err, ERR_CONFIG, "shard %s: malformed entry",
		    shown);
	if (sub != NULL)
		subseq = (long)json_integer_value(sub);
	if (seq != NULL && checkpoint_set(cp, id, json_string_value(seq),
	    subseq, err) == -1) {
		err->kind = ERR_CONFIG;
		return errbuf_prefix(err, "shard %s", shown);
	}
	if (json_is_true(fin) && checkpoint_finish(cp, id, err) == -1)
		return -1;
	return 0;
}

int
checkpoint_load(const char *path, struct checkpoint *cp, struct errbuf *err)
{
	json_error_t jerr;
	json_t *root, *shards, *v;
	const char *id;
	int rc = -1;

	memset(cp, 0, sizeof(*cp));
	if ((root = json_load_file(path, 0, &jerr)) == NULL) {
		if (access(path, F_OK) == -1 && errno == ENOENT)
			return 0;
		printable(jerr.text);
		return errbuf_set(err, ERR_CONFIG, "%s:%d: %s", path,
		    jerr.line, jerr.text);
	}
	shards = json_object_get(root, "shards");
	if (!json_is_object(root) || !json_is_object(shards)) {
		errbuf_set(err, ERR_CONFIG, "%s: not a checkpoint file "
		    "(no \"shards\" object)", path);
		goto out;
	}
	json_object_foreach(shards, id, v) {
		if (load_shard(cp, id, v, err) == -1) {
			errbuf_prefix(err, "%s", path);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(root);
	if (rc == -1)
		checkpoint_free(cp);
	return rc;
}

static json_t *
to_json(const struct checkpoint *cp)
{
	json_t *root = json_pack("{s:i, s:{}}", "version", CHECKPOINT_VERSION,
	    "shards");
	json_t *shards = json_object_get(root, "shards");
	size_t i;

	for (i = 0; root != NULL && i < cp->n; i++) {
		const struct checkpoint_shard *s = &cp->shards[i];
		json_t *o = json_object();
		if (o == NULL || json_object_set_new(shards, s->shard_id, o)) {
			json_decref(root);
			return NULL;
		}
		if (s->seq != NULL)
			json_object_set_new(o, "seq", json_string(s->seq));
		if (s->seq != NULL && s->subseq != CHECKPOINT_NO_SUBSEQ)
			json_object_set_new(o, "subseq",
			    json_integer(s->subseq));
		if (s->finished)
			json_object_set_new(o, "finished", json_true());
	}
	return root;
}

int
checkpoint_save(const char *path, const struct checkpoint *cp,
    struct errbuf *err)
{
	json_t *root = to_json(cp);
	char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	struct buf line = BUF_INIT;
	int rc = -1;

	if (text == NULL || buf_puts(&line, text) == -1 ||
	    buf_puts(&line, "\n") == -1)
		errbuf_set(err, ERR_SYSTEM, "%s: out of memory", path);
	else
		rc = fdio_replace(path, line.data, line.len, err);
	buf_free(&line);
	free(text);
	json_decref(root);
	return rc;
}
