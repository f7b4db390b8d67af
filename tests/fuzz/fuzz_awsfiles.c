/*
 * fuzz_awsfiles: the ~/.aws/credentials and ~/.aws/config parser on
 * arbitrary text. Another program, a colleague or a provisioning script
 * writes these files; the parser holds secrets, so it must never crash,
 * and what it hands out must keep the rules lib/awsfiles.h states:
 * names and values trimmed, key names lower-case, section names with no
 * runs of blanks, every entry found again by awsfiles_get.
 */
#include <ctype.h>
#include <string.h>

#include "awsfiles.h"
#include "fuzz.h"

const char fuzz_name[] = "awsfiles";

static int
is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int
trimmed(const char *s)
{
	size_t n = strlen(s);

	return n == 0 || (!is_blank(s[0]) && !is_blank(s[n - 1]));
}

static void
check_entry(const struct awsfiles_ini *f, size_t i)
{
	const struct awsfiles_entry *e = &f->v[i];
	const char *c, *got;

	FUZZ_CHECK(e->section != NULL && e->key != NULL && e->value != NULL,
	    "entry %zu: missing part", i);
	FUZZ_CHECK(e->section[0] != '\0' && trimmed(e->section) &&
	    strstr(e->section, "  ") == NULL && strchr(e->section, '\t') ==
	    NULL && strchr(e->section, ']') == NULL,
	    "entry %zu: section [%s] not normalised", i, e->section);
	FUZZ_CHECK(e->key[0] != '\0' && trimmed(e->key) &&
	    strchr(e->key, '=') == NULL, "entry %zu: bad key", i);
	for (c = e->key; *c != '\0'; c++)
		FUZZ_CHECK(!isupper((unsigned char)*c),
		    "entry %zu: key %s not lower-case", i, e->key);
	FUZZ_CHECK(trimmed(e->value), "entry %zu: value not trimmed", i);
	FUZZ_CHECK(strchr(e->section, '\n') == NULL &&
	    strchr(e->key, '\n') == NULL, "entry %zu: newline in a name", i);
	FUZZ_CHECK(e->line >= 1, "entry %zu: line %u", i, e->line);
	got = awsfiles_get(f, e->section, e->key, e->sub);
	FUZZ_CHECK(got != NULL, "entry %zu: awsfiles_get does not find it", i);
	FUZZ_CHECK(awsfiles_has_section(f, e->section),
	    "entry %zu: awsfiles_has_section does not find [%s]", i,
	    e->section);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct awsfiles_ini f;
	struct errbuf err;
	size_t i;

	memset(&f, 0, sizeof(f));
	if (awsfiles_parse(&f, "fuzz.ini", (const char *)data, size,
	    &err) == -1) {
		FUZZ_CHECK(err.kind == ERR_CONFIG &&
		    strncmp(err.msg, "fuzz.ini:", 9) == 0 &&
		    fuzz_is_one_line(err.msg, sizeof(err.msg)),
		    "bad error: kind %d, \"%s\"", err.kind, err.msg);
	} else {
		for (i = 0; i < f.n; i++)
			check_entry(&f, i);
	}
	awsfiles_ini_free(&f);
	return 0;
}
