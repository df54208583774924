/*
 * encoding: hex, url-safe base64 and RFC 3986 percent-encoding.
 *
 * Pure functions over caller-provided buffers or buf_t; no allocation other
 * than growing the buf_t the caller owns.
 */
#ifndef VODUP_ENCODING_H
#define VODUP_ENCODING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* Writes 2*len lowercase hex digits plus a NUL to out (size >= 2*len+1). */
void encoding_hex(const uint8_t *in, size_t len, char *out);

/* RFC 4648 url-safe alphabet (-_), '=' padding kept. */
bool encoding_b64url_encode(const void *in, size_t len, buf_t *out);
/* Accepts input with or without padding (at most two '='); rejects any
 * character outside the url-safe alphabet and non-zero leftover bits.
 * Returns false on malformed input. */
bool encoding_b64url_decode(const char *in, size_t len, buf_t *out);

/* A non-negative decimal of 1..18 digits (no sign, no spaces): false
 * otherwise. */
bool encoding_parse_decimal(const char *s, size_t len, int64_t *out);

/* Percent-encodes per RFC 3986: A-Z a-z 0-9 - _ . ~ kept, else %XX upper. */
bool encoding_percent_encode(const char *in, size_t len, buf_t *out);

/* Decodes an application/x-www-form-urlencoded component in place: '+'
 * becomes a space and %XX is decoded (malformed escapes are kept as they
 * are, as browsers do).  Returns the new length; the result may hold NULs. */
size_t encoding_form_unescape(char *s, size_t len);

#endif
