/*
 * base64: RFC 4648 section 4 (standard alphabet, '=' padding), the one
 * encoder and decoder (Kinesis Data members, kin-get's data_b64, kin-put's
 * dead letters). OpenSSL's EVP_EncodeBlock/EVP_DecodeBlock do the work;
 * this module adds what they leave to the caller: an int length, the
 * padding that EVP_DecodeBlock counts as data, and strict refusal.
 */
#ifndef COINPIPE_BASE64_H
#define COINPIPE_BASE64_H

#include <stddef.h>

#include "buf.h"

/* Appends the encoding of data (padded, no line breaks). 0 or -1 (memory). */
int base64_append(struct buf *b, const void *data, size_t len);

/*
 * Decodes s[0..n): whole 4-character groups of the alphabet, '=' only as
 * the last one or two characters; anything else (white space included)
 * is refused. Returns a malloc'd buffer owned by the caller with *len set
 * (NUL-terminated after the data, for convenience), or NULL when s is not
 * base64 or memory ran out.
 */
unsigned char *base64_decode(const char *s, size_t n, size_t *len);

#endif
