/*
 * xml: the one reader of the small XML documents AWS answers with (S3's
 * results, STS credentials, the query APIs' <ErrorResponse>). Not a
 * parser: it finds the first element of a name and decodes its text,
 * which is all these answers need; no DTD, no CDATA, no namespaces.
 * Below lib/aws, lib/s3 and lib/sts; pure.
 */
#ifndef COINPIPE_XML_H
#define COINPIPE_XML_H

#include <stddef.h>

#include "buf.h"

/*
 * The first element <tag ...>...</tag> in s[0..n): attributes allowed,
 * <tag/> is empty, <TagX> is another element. Its raw content (entities
 * not decoded) in *text, *len. Returns 1, or 0 when there is none or it
 * is not closed.
 */
int xml_element(const char *s, size_t n, const char *tag, const char **text,
    size_t *len);

/* Appends s[0..n) to b with the five predefined entities and numeric
 * references below U+0080 decoded (others are kept as written). 0 or -1. */
int xml_unescape(struct buf *b, const char *s, size_t n);

/* The decoded text of the first element tag, malloc'd in one piece (the
 * caller frees, or wipes: no other copy is left), or NULL when there is
 * none or memory ran out. */
char *xml_text(const char *s, size_t n, const char *tag);

#endif
