/*
 * tap.h: a tiny TAP producer for the unit tests of lib/.
 * Each test program includes it once, calls the check macros, and ends with
 * `return tap_done();`, which prints "# N passed, N failed" and returns the
 * exit status (non-zero when anything failed).
 */
#ifndef COINPIPE_TAP_H
#define COINPIPE_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_run, tap_failed;

static int __attribute__((format(printf, 4, 5), unused))
tap_check(int cond, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	tap_run++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		printf("#   failed at %s:%d\n", file, line);
	fflush(stdout);
	return cond;
}

/* Prints a possibly long or binary value on "# " lines for diagnosis. */
static void __attribute__((unused))
tap_diag_value(const char *label, const char *s, size_t n)
{
	size_t i;

	printf("#   %s: \"", label);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n')
			fputs("\\n", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	puts("\"");
}

static int __attribute__((unused))
tap_is_mem(const char *got, size_t gn, const char *want, size_t wn,
    const char *file, int line, const char *name)
{
	int same = got != NULL && want != NULL && gn == wn &&
	    memcmp(got, want, gn) == 0;

	if (got == NULL && want == NULL)
		same = 1;
	tap_check(same, file, line, "%s", name);
	if (!same) {
		if (got != NULL)
			tap_diag_value("got ", got, gn);
		else
			puts("#   got : NULL");
		if (want != NULL)
			tap_diag_value("want", want, wn);
		else
			puts("#   want: NULL");
	}
	return same;
}

static int __attribute__((unused))
tap_is_str(const char *got, const char *want, const char *file, int line,
    const char *name)
{
	return tap_is_mem(got, got ? strlen(got) : 0, want,
	    want ? strlen(want) : 0, file, line, name);
}

static int __attribute__((unused))
tap_is_int(intmax_t got, intmax_t want, const char *file, int line,
    const char *name)
{
	tap_check(got == want, file, line, "%s", name);
	if (got != want)
		printf("#   got %jd, want %jd\n", got, want);
	return got == want;
}

static int __attribute__((unused))
tap_done(void)
{
	printf("1..%d\n", tap_run);
	printf("# %d passed, %d failed\n", tap_run - tap_failed, tap_failed);
	return tap_failed != 0 || tap_run == 0;
}

#define ok(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_str(got, want, name)						\
	tap_is_str((got), (want), __FILE__, __LINE__, (name))
#define is_mem(got, gn, want, wn, name)					\
	tap_is_mem((got), (gn), (want), (wn), __FILE__, __LINE__, (name))
#define is_int(got, want, name)						\
	tap_is_int((intmax_t)(got), (intmax_t)(want), __FILE__, __LINE__, (name))

#endif
