#include "hash.h"

uint64_t
hash_fnv1a64(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = HASH_FNV64_OFFSET;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= HASH_FNV64_PRIME;
	}
	return h;
}
