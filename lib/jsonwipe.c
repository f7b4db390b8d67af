#include <stdint.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "jsonwipe.h"

/* jansson's strings are its own copies: writing through the const is the
 * only way to reach them, and they are freed right after. */
static void
wipe_text(const char *s, size_t n)
{
	OPENSSL_cleanse((void *)(uintptr_t)s, n);
}

static void
wipe(json_t *o)
{
	json_t *v;
	size_t i;
	void *it;

	if (json_is_string(o))
		wipe_text(json_string_value(o), json_string_length(o));
	else if (json_is_array(o))
		json_array_foreach(o, i, v)
			wipe(v);
	else
		for (it = json_object_iter(o); it != NULL;
		    it = json_object_iter_next(o, it))
			wipe(json_object_iter_value(it));
}

void
jsonwipe_decref(json_t *o)
{
	if (o == NULL)
		return;
	wipe(o);
	json_decref(o);
}

const char *
jsonwipe_str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;

	return s != NULL && *s != '\0' ? s : NULL;
}
