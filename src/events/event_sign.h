/*
 * event_sign: the signature of a webhook delivery, in the header
 *
 *     X-Vodup-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t "." body)>
 *
 * (the scheme Stripe uses, so receivers can reuse what they know).  The key
 * is the whole secret string as the account sees it, "whsec_" prefix
 * included, taken as bytes: a receiver copies the secret and uses it as is,
 * with nothing to decode.  The signed text is the decimal t, one '.', then
 * the request body byte for byte, so the timestamp cannot be moved to
 * another body and an old delivery cannot be replayed once it falls outside
 * the receiver's tolerance.
 *
 * Test vector (asserted in tests/unit/test_event_sign.c; also reproducible
 * with `printf '%s' "$t.$body" | openssl dgst -sha256 -hmac "$secret"`):
 *
 *     secret  whsec_000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
 *     t       1767225600   (2026-01-01T00:00:00Z)
 *     body    {"eventId":"evt_1","eventType":"VideoDeleted","eventTime":"2026-01-01T00:00:00.000Z","videoId":"v1","data":{}}
 *     header  t=1767225600,v1=de2241406eee09cfabb239425e8b3102e575314bf049457741cce35e028196de
 *
 * A header may carry several v1 entries (a sender rotating secrets signs
 * with both); it verifies when any of them matches.  Entries with other
 * names (v0, a future v2) are ignored, so the scheme can grow.
 *
 * Everything but event_sign_secret_new() is pure.  Nothing here logs: a
 * secret or a signature must never reach a log.
 */
#ifndef VODUP_EVENT_SIGN_H
#define VODUP_EVENT_SIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_SIGN_HEADER_NAME "X-Vodup-Signature"
#define EVENT_SIGN_SECRET_PREFIX "whsec_"
#define EVENT_SIGN_SECRET_BYTES 32                  /* random bytes behind the prefix */
#define EVENT_SIGN_SECRET_LEN (6 + 2 * EVENT_SIGN_SECRET_BYTES) /* "whsec_" + 64 hex digits */
#define EVENT_SIGN_HEX_LEN 64                       /* one v1 value */
/* "t=" + up to 19 digits + ",v1=" + 64 hex digits + NUL, rounded up. */
#define EVENT_SIGN_HEADER_MAX 96
/* A received header longer than this is refused before it is parsed: it
 * bounds the work an attacker can ask of a receiver (at most a dozen v1s). */
#define EVENT_SIGN_VERIFY_HEADER_MAX 1024
#define EVENT_SIGN_DEFAULT_TOLERANCE_S 300

/* A fresh secret: "whsec_" + 64 lowercase hex digits of RAND_bytes.  out
 * holds EVENT_SIGN_SECRET_LEN + 1 bytes.  False when the CSPRNG fails (out
 * is then ""). */
bool event_sign_secret_new(char out[EVENT_SIGN_SECRET_LEN + 1]);

/* True when `secret` has the form event_sign_secret_new() produces (for
 * checking a secret an operator pastes in). */
bool event_sign_secret_valid(const char *secret);

/*
 * The header value for `body` (len bytes) sent at unix_time, into out
 * (outlen >= EVENT_SIGN_HEADER_MAX is always enough).  False when secret is
 * empty, unix_time is negative, out is too small or the HMAC fails; out is
 * then "".
 */
bool event_sign_header(const char *secret, int64_t unix_time, const void *body, size_t len, char *out,
                       size_t outlen);

/*
 * A receiver's check of `header_value` against `body`: exactly one t= (1 to
 * 19 digits), at least one v1=, entries separated by ',' (spaces around
 * them ignored), and |now - t| <= tolerance_s.  The window is symmetric: a
 * t far in the future would otherwise stay replayable for as long.  A
 * negative tolerance_s turns the time check off (replaying a log in tests).
 * Every v1 is compared in constant time.
 *
 * Returns true when valid.  *why (may be NULL) receives a static reason:
 * "ok", "malformed", "too old", "too new" or "mismatch".
 */
bool event_sign_verify(const char *secret, const char *header_value, const void *body, size_t len, int64_t now,
                       int64_t tolerance_s, const char **why);

#endif
