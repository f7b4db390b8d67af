#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "geckoclient.h"

/* The key's first line, trimmed; the file is the user's, so it is read
 * into memory we wipe. */
static int
read_key_file(const char *path, char **key, struct errbuf *err)
{
	char line[GECKO_MAX_KEY_LEN + 2];
	FILE *f;
	size_t n;

	if ((f = fopen(path, "r")) == NULL)
		return errbuf_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, " \t\r\n");
	if (n == 0 || n > GECKO_MAX_KEY_LEN) {
		OPENSSL_cleanse(line, sizeof(line));
		return errbuf_set(err, ERR_CONFIG, "%s: %s", path,
		    n == 0 ? "no key on the first line" : "key too long");
	}
	*key = strndup(line, n);
	OPENSSL_cleanse(line, sizeof(line));
	return *key == NULL ? errbuf_set(err, ERR_SYSTEM, "out of memory") : 0;
}

int
gecko_key_resolve(int plan_set, enum gecko_plan plan, const char *key_file,
    enum gecko_plan *plan_out, char **key, struct errbuf *err)
{
	const char *pro = getenv("COINGECKO_PRO_API_KEY");
	const char *demo = getenv("COINGECKO_DEMO_API_KEY");
	const char *env = NULL;

	*key = NULL;
	if (pro != NULL && *pro == '\0')
		pro = NULL;
	if (demo != NULL && *demo == '\0')
		demo = NULL;
	if (key_file != NULL) {
		*plan_out = plan_set ? plan : GECKO_DEMO;
		return read_key_file(key_file, key, err);
	}
	if (plan_set)
		*plan_out = plan;
	else
		*plan_out = pro ? GECKO_PRO : demo ? GECKO_DEMO : GECKO_PUBLIC;
	if (*plan_out == GECKO_PRO)
		env = pro;
	else if (*plan_out == GECKO_DEMO)
		env = demo;
	if (*plan_out != GECKO_PUBLIC && env == NULL)
		return errbuf_set(err, ERR_CONFIG, "--plan %s needs a key: set "
		    "COINGECKO_%s_API_KEY or use --api-key-file",
		    gecko_plan_name(*plan_out),
		    *plan_out == GECKO_PRO ? "PRO" : "DEMO");
	if (env != NULL && (*key = strdup(env)) == NULL)
		return errbuf_set(err, ERR_SYSTEM, "out of memory");
	return 0;
}

void
gecko_key_free(char *key)
{
	if (key == NULL)
		return;
	OPENSSL_cleanse(key, strlen(key));
	free(key);
}
