/*
 * hash: FNV-1a, 64 bits (http://www.isthe.com/chongo/tech/comp/fnv/): for
 * hash tables and ordering keys, where no adversary matters (a bad input
 * only slows its own handling). Header only.
 */
#ifndef COINPIPE_HASH_H
#define COINPIPE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV64_OFFSET 0xcbf29ce484222325ULL	/* 14695981039346656037 */
#define HASH_FNV64_PRIME 0x100000001b3ULL

/* Inline: it runs once per member of every row (lib/rows' lookups), and
 * a call across objects costs as much as the hashing of a short name. */
static inline uint64_t
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

#endif
