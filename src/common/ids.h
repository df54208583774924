/*
 * ids: identifiers that vodup hands out.
 *
 * videoId is 32 lowercase hex digits: 12 of Unix milliseconds (so ids sort
 * by creation time) then 20 of CSPRNG output.  Other ids (AccessKeys,
 * resource ids) come from the same CSPRNG.  All draw from OpenSSL RAND_bytes.
 */
#ifndef VODUP_IDS_H
#define VODUP_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IDS_VIDEO_ID_LEN 32

/* Milliseconds since the Unix epoch (same as timeutil_now_ms). */
int64_t ids_now_ms(void);

/* out: 33 bytes. */
bool ids_video_id(int64_t now_ms, char out[IDS_VIDEO_ID_LEN + 1]);

/* `prefix` followed by random characters from `alphabet` up to total_len;
 * out must hold total_len + 1 bytes. */
bool ids_random_string(const char *prefix, const char *alphabet, size_t total_len, char *out);

/* Lowercase hex of n random bytes; out must hold 2n+1. */
bool ids_random_hex(size_t nbytes, char *out);

/* Whether s[0..len) is 1..max characters of [A-Za-z0-9_-], the alphabet of
 * the ids clients choose (fileId) and of resource ids. */
bool ids_token_chars(const char *s, size_t len, size_t max);

#endif
