/* test_xml: the one XML element reader and entity decoder. */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "tap.h"
#include "xml.h"

static void
text_is(const char *doc, const char *tag, const char *want, const char *name)
{
	char *t = xml_text(doc, strlen(doc), tag);

	if (want == NULL)
		ok(t == NULL, "%s", name);
	else
		is_str(t, want, name);
	free(t);
}

static void
test_elements(void)
{
	const char *doc = "<R><CredentialsX>no</CredentialsX>"
	    "<Credentials a=\"1\">\n <Key>k</Key></Credentials><E/>"
	    "<Empty></Empty><Open>never closed</R>";
	const char *t;
	size_t len;

	text_is(doc, "CredentialsX", "no", "a longer name is its own element");
	ok(xml_element(doc, strlen(doc), "Credentials", &t, &len) == 1 &&
	    len == 14 && strncmp(t, "\n <Key>k</Key>", len) == 0,
	    "attributes allowed, raw content with its blanks");
	text_is(doc, "Key", "k", "nested element");
	text_is(doc, "E", "", "<E/> is empty");
	text_is(doc, "Empty", "", "<Empty></Empty> is empty");
	text_is(doc, "Open", NULL, "an element never closed is absent");
	text_is(doc, "Missing", NULL, "an absent element");
	ok(xml_element(NULL, 0, "Key", &t, &len) == 0,
	    "an empty body (NULL, 0) holds nothing");
	ok(xml_element("<Key>", 5, "Key", &t, &len) == 0, "cut after <Key>");
	ok(xml_element("<Ke", 3, "Key", &t, &len) == 0, "cut inside a tag");
}

static void
test_entities(void)
{
	static const struct { const char *in, *out; } c[] = {
		{ "a&amp;b&lt;c&gt;d&quot;e&apos;f", "a&b<c>d\"e'f" },
		{ "&#39;&#x41;&#x6a;&#65;", "'AjA" },
		{ "&#0;&#128;&#x20AC;&#;&#x;", "&#0;&#128;&#x20AC;&#;&#x;" },
		{ "&nbsp; & &am", "&nbsp; & &am" },
		{ "&#65", "&#65" },
		{ "&amp;lt;", "&lt;" },
	};
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		buf_reset(&b);
		ok(xml_unescape(&b, c[i].in, strlen(c[i].in)) == 0 &&
		    b.data != NULL && strcmp(b.data, c[i].out) == 0,
		    "\"%s\" decodes to \"%s\"", c[i].in, c[i].out);
	}
	buf_free(&b);
	text_is("<M>x &lt;y&gt;</M>", "M", "x <y>", "xml_text decodes");
}

int
main(void)
{
	test_elements();
	test_entities();
	return tap_done();
}
