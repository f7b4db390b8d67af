/* test_jsonwipe: every string of a parsed document is cleansed. */
#include <string.h>

#include <jansson.h>

#include "jsonwipe.h"
#include "tap.h"

static int
zeroed(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != '\0')
			return 0;
	return 1;
}

static void
test_str(void)
{
	json_t *o = json_loads("{\"a\":\"x\",\"e\":\"\",\"n\":1}", 0, NULL);

	is_str(jsonwipe_str(o, "a"), "x", "a string member");
	ok(jsonwipe_str(o, "e") == NULL, "an empty string is absent");
	ok(jsonwipe_str(o, "n") == NULL, "a number is not a string");
	ok(jsonwipe_str(o, "z") == NULL, "a missing member");
	jsonwipe_decref(o);
}

int
main(void)
{
	const char *doc = "{\"AccessKeyId\":\"AKIDEXAMPLE\",\"n\":1,"
	    "\"roleCredentials\":{\"secretAccessKey\":\"wJalrXUtnFEMI\"},"
	    "\"list\":[\"tok1\",{\"t\":\"tok2\"}]}";
	json_t *o = json_loads(doc, 0, NULL);
	const char *ak, *sk, *t1, *t2;

	ok(o != NULL, "document parsed");
	ak = json_string_value(json_object_get(o, "AccessKeyId"));
	sk = json_string_value(json_object_get(json_object_get(o,
	    "roleCredentials"), "secretAccessKey"));
	t1 = json_string_value(json_array_get(json_object_get(o, "list"), 0));
	t2 = json_string_value(json_object_get(json_array_get(
	    json_object_get(o, "list"), 1), "t"));
	/* a second reference keeps the memory readable after the wipe */
	json_incref(o);
	jsonwipe_decref(o);
	ok(zeroed(ak, 11), "top-level string cleansed");
	ok(zeroed(sk, 13), "string in a nested object cleansed");
	ok(zeroed(t1, 4) && zeroed(t2, 4), "strings in an array cleansed");
	ok(json_integer_value(json_object_get(o, "n")) == 1,
	    "numbers left as they are");
	json_decref(o);
	jsonwipe_decref(NULL);	/* accepted: a crash would fail the run */
	test_str();
	return tap_done();
}
