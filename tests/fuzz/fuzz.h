/*
 * fuzz.h: what every harness in tests/fuzz/ shares.
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput and fuzz_name. Built
 * with clang -fsanitize=fuzzer it is a libFuzzer target (make fuzz); linked
 * with replay.c instead it is test_fuzz_<name>, which runs the committed
 * corpus and regression inputs and prints TAP (make check).
 *
 * A harness checks properties, not only the absence of crashes: a broken
 * property calls fuzz_fail(), which aborts, so libFuzzer keeps the input
 * as a crash and the replay counts it as "not ok".
 */
#ifndef COINPIPE_FUZZ_H
#define COINPIPE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry point; always returns 0. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "kpl": names tests/fuzz/corpus/kpl and tests/fuzz/regress/kpl. */
extern const char fuzz_name[];

/* Prints "fuzz_<name>: property failed: ..." to stderr and aborts. */
void fuzz_fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#define FUZZ_CHECK(cond, ...) do {					\
	if (!(cond))							\
		fuzz_fail(__VA_ARGS__);					\
} while (0)

/*
 * The input cut at each sep byte into at most max pieces (the last piece
 * keeps any further sep bytes). Every piece is its own allocation of
 * exactly len + 1 bytes, NUL-terminated, so an overread past a piece is
 * caught by ASan.
 */
#define FUZZ_MAX_PARTS 16

struct fuzz_parts {
	char *p[FUZZ_MAX_PARTS];
	size_t len[FUZZ_MAX_PARTS];
	size_t n;
};

void fuzz_split(const uint8_t *data, size_t size, int sep, size_t max,
    struct fuzz_parts *out);
void fuzz_parts_free(struct fuzz_parts *parts);

/* A copy of exactly n bytes (not NUL-terminated); never NULL. */
char *fuzz_memdup(const void *p, size_t n);
/* n zeroed bytes; never NULL. */
void *fuzz_alloc(size_t n);

/* 1 when s has a NUL within size bytes and no control byte before it. */
int fuzz_is_one_line(const char *s, size_t size);

#endif
