/*
 * mgr_token: the WCS management token, which the vendor's SDKs send as the
 * Authorization of their management calls (POST /fops) and which the
 * vendor's servers put on the requests they make to an app (a persistent
 * job's notification, the upload callback):
 *
 *     Authorization: <AccessKey> ":" urlsafe_b64(lowercase_hex(HMAC-SHA1(SecretKey, signing)))
 *     signing = path [ "?" query ] "\n" body
 *
 * path and query as they appear in the request line (the SDKs sign the URL's
 * path and raw query); body exactly as sent, possibly empty.  Pure; the
 * check decodes the given sign with or without base64 padding and compares
 * in constant time.
 */
#ifndef VODUP_MGR_TOKEN_H
#define VODUP_MGR_TOKEN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

#define MGR_TOKEN_ACCESS_KEY_MAX 128

/* Appends "<access_key>:<encoded sign>" to out. */
bool mgr_token_make(const char *access_key, const char *secret_key, const char *path_query, const void *body,
                    size_t len, buf_t *out);

/* Splits an Authorization value at its first ':' (surrounding blanks and a
 * "QBox " or "WCS " scheme word are not accepted: the SDKs send neither).
 * access_key receives the part before it (NUL-terminated); *sign points
 * after it.  False when either part is empty or the key is too long. */
bool mgr_token_split(const char *value, char access_key[MGR_TOKEN_ACCESS_KEY_MAX + 1], const char **sign);

/* True when sign (the part after ':') is the one secret_key makes. */
bool mgr_token_valid(const char *secret_key, const char *path_query, const void *body, size_t len,
                     const char *sign);

#endif
