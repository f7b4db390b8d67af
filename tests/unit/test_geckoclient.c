#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "geckoclient.h"
#include "tap.h"

static enum gecko_plan plan;
static char *key;
static struct errbuf e;

static int
resolve(int plan_set, enum gecko_plan p, const char *file)
{
	gecko_key_free(key);
	key = NULL;
	errbuf_clear(&e);
	return gecko_key_resolve(plan_set, p, file, &plan, &key, &e);
}

int
main(void)
{
	char path[] = "/tmp/test_geckoclient.XXXXXX";
	FILE *f;
	int fd;

	unsetenv("COINGECKO_PRO_API_KEY");
	unsetenv("COINGECKO_DEMO_API_KEY");
	ok(resolve(0, GECKO_PUBLIC, NULL) == 0 && plan == GECKO_PUBLIC &&
	    key == NULL, "no key: the public API");
	setenv("COINGECKO_DEMO_API_KEY", "CG-demo", 1);
	ok(resolve(0, GECKO_PUBLIC, NULL) == 0 && plan == GECKO_DEMO &&
	    strcmp(key, "CG-demo") == 0, "a Demo key: demo");
	setenv("COINGECKO_PRO_API_KEY", "CG-pro", 1);
	ok(resolve(0, GECKO_PUBLIC, NULL) == 0 && plan == GECKO_PRO &&
	    strcmp(key, "CG-pro") == 0, "a Pro key wins");
	ok(resolve(1, GECKO_DEMO, NULL) == 0 && plan == GECKO_DEMO &&
	    strcmp(key, "CG-demo") == 0, "--plan demo takes the Demo key");
	unsetenv("COINGECKO_DEMO_API_KEY");
	ok(resolve(1, GECKO_DEMO, NULL) == -1 && e.kind == ERR_CONFIG,
	    "--plan demo without its key refused");
	is_str(e.msg, "--plan demo needs a key: set COINGECKO_DEMO_API_KEY or "
	    "use --api-key-file", "message names the variable");
	setenv("COINGECKO_PRO_API_KEY", "", 1);
	ok(resolve(0, GECKO_PUBLIC, NULL) == 0 && plan == GECKO_PUBLIC,
	    "an empty variable is no key");
	if ((fd = mkstemp(path)) == -1 || (f = fdopen(fd, "w")) == NULL)
		return tap_done();
	fputs("  \n", f);
	fflush(f);
	ok(resolve(0, GECKO_PUBLIC, path) == -1 && strstr(e.msg,
	    "no key on the first line") != NULL, "file: empty line refused");
	rewind(f);
	fputs("CG-file \t\nsecond\n", f);
	fclose(f);
	ok(resolve(0, GECKO_PUBLIC, path) == 0 && plan == GECKO_DEMO &&
	    strcmp(key, "CG-file") == 0, "file: first word, demo by default");
	ok(resolve(1, GECKO_PRO, path) == 0 && plan == GECKO_PRO,
	    "file: with --plan pro");
	unlink(path);
	ok(resolve(0, GECKO_PUBLIC, path) == -1 && e.kind == ERR_CONFIG,
	    "file: missing refused");
	gecko_key_free(key);
	return tap_done();
}
