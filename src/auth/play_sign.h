/*
 * play_sign: signed playback URLs (docs/playback.md).  Pure.
 *
 * A signed URL puts one path segment, the token, before the object's key:
 *
 *     /vsig.<expires>.<depth>.<sig>/<key>
 *
 *   expires  Unix seconds after which the URL is refused (1..10 digits);
 *   depth    what the token covers: 0, the key exactly; d > 0, every key
 *            whose first d segments are the signed ones (a directory: a
 *            video's, so that an HLS playlist's relative URLs, which keep
 *            the token segment, are covered too);
 *   sig      the first 32 hex digits (128 bits) of
 *            HMAC-SHA256(account playback key, "vsig1\n" expires "\n" path)
 *            where path is "/" + the key (depth 0) or "/" + its first d
 *            segments + "/" (depth d).
 *
 * The signed path and the expiry are all a CDN in front needs to check the
 * same URL with the same key (Alibaba's and Tencent's "type A/B/C" URL
 * authentication work the same way, with MD5).  fileKeys never start with
 * "vsig.", so a token segment cannot be mistaken for a key's.
 */
#ifndef VODUP_AUTH_PLAY_SIGN_H
#define VODUP_AUTH_PLAY_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLAY_SIGN_PREFIX "vsig."
#define PLAY_SIGN_SIG_HEX 32
#define PLAY_SIGN_TOKEN_MAX 64   /* "vsig." + 10 + "." + 2 + "." + 32, and room */
#define PLAY_SIGN_DEPTH_MAX 16
#define PLAY_SIGN_KEY_LEN 32     /* bytes of an account's playback key */

typedef struct play_sign_token {
    int64_t expires;
    int depth;
    char sig[PLAY_SIGN_SIG_HEX + 1];
} play_sign_token_t;

enum play_sign_result { PLAY_SIGN_OK = 0, PLAY_SIGN_EXPIRED, PLAY_SIGN_BAD };

/* The token segment for `file_key` (no leading '/') covering `depth`
 * segments (0: the key itself), valid until `expires`; false when the key
 * has fewer than depth + 1 segments or out doesn't fit. */
bool play_sign_token(const uint8_t key[PLAY_SIGN_KEY_LEN], const char *file_key, int depth, int64_t expires,
                     char out[PLAY_SIGN_TOKEN_MAX]);

/* Splits a request path "/vsig.E.D.S/<key>": the token into *t and a
 * pointer to the key (after the token's '/') into *file_key.  False when the
 * path has no token segment or it is malformed (then *file_key is NULL). */
bool play_sign_parse(const char *path, play_sign_token_t *t, const char **file_key);

/* Checks a parsed token against the key it was sent with, at `now` (Unix
 * seconds): OK, EXPIRED (a valid signature past its time) or BAD. */
enum play_sign_result play_sign_verify(const uint8_t key[PLAY_SIGN_KEY_LEN], const play_sign_token_t *t,
                                       const char *file_key, int64_t now);

#endif
