/*
 * jsonwipe: jansson frees its strings without wiping them, and the JSON
 * documents of credential sources (credential_process, container, IMDS,
 * the SSO portal and its token cache) hold keys and tokens. The one place
 * that cleanses a parsed document before it is freed, and the one reader
 * of its members.
 */
#ifndef COINPIPE_JSONWIPE_H
#define COINPIPE_JSONWIPE_H

#include <jansson.h>

/* Cleanses every string value in o (objects and arrays, at any depth; the
 * keys are field names, not secrets), then drops the caller's reference,
 * which must be the only one; NULL is fine. */
void jsonwipe_decref(json_t *o);

/* Member key of o as a string, or NULL when it is missing, not a string or
 * empty (a credential field that is "" is as good as absent). Borrowed
 * from o. */
const char *jsonwipe_str(json_t *o, const char *key);

#endif
