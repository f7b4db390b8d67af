#include <string.h>

#include "hash.h"
#include "tap.h"

/* Published FNV-1a 64-bit vectors (the FNV authors' test suite). */
static void
test_fnv1a64_vectors(void)
{
	static const struct { const char *in; uint64_t want; } v[] = {
		{ "", 0xcbf29ce484222325ULL },
		{ "a", 0xaf63dc4c8601ec8cULL },
		{ "b", 0xaf63df4c8601f1a5ULL },
		{ "foo", 0xdcb27518fed9d577ULL },
		{ "foobar", 0x85944171f73967e8ULL },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		ok(hash_fnv1a64(v[i].in, strlen(v[i].in)) == v[i].want,
		    "fnv1a64(\"%s\") = %016llx", v[i].in,
		    (unsigned long long)v[i].want);
	ok(HASH_FNV64_OFFSET == 14695981039346656037ULL,
	    "offset basis is 14695981039346656037");
	ok(hash_fnv1a64("a\0b", 3) != hash_fnv1a64("a", 1),
	    "bytes after a NUL count");
}

int
main(void)
{
	test_fnv1a64_vectors();
	return tap_done();
}
