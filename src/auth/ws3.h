/*
 * ws3: the WS3-HMAC-SHA256 request signature of the vodup API.
 *
 * Owns the canonical request, string-to-sign and signature computation of
 * ../shared/spec/api.md section 1, and the parser of the Authorization
 * header.  Pure functions: no I/O, no logging (callers must never log a
 * secret or a full signature), no allocation beyond the buf_t they are given.
 * Used by the server to verify and by clients, tests and benchmarks to sign.
 */
#ifndef VODUP_WS3_H
#define VODUP_WS3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define WS3_ALGORITHM "WS3-HMAC-SHA256"
#define WS3_SIGNATURE_HEX_LEN 64
#define WS3_MAX_CREDENTIAL 128
#define WS3_MAX_SIGNED_HEADERS 512

/* The parsed Authorization header.  All strings are NUL-terminated copies. */
typedef struct ws3_auth_header {
    char credential[WS3_MAX_CREDENTIAL + 1];
    char signed_headers[WS3_MAX_SIGNED_HEADERS + 1]; /* as sent, e.g. "content-type;host" */
    char signature[WS3_SIGNATURE_HEX_LEN + 1];       /* 64 lowercase hex digits */
} ws3_auth_header_t;

/*
 * Parses `WS3-HMAC-SHA256 Credential=<AK>, SignedHeaders=<h1;h2>, Signature=<hex>`.
 * The three members may come in any order, separated by commas with optional
 * spaces; each must appear exactly once.  Credential is 1..128 printable
 * ASCII without spaces or commas; SignedHeaders is a non-empty ';'-list of
 * header-name tokens; Signature is exactly 64 hex digits (either case; stored
 * lowercase).  `value` need not be NUL-terminated.  Returns true on success.
 */
bool ws3_auth_header_parse(const char *value, size_t len, ws3_auth_header_t *out);

/* One decoded name/value pair (of the query string, or a header). */
typedef struct ws3_pair {
    const char *name;
    size_t name_len;
    const char *value; /* may be NULL for a query name without '=' (treated as "") */
    size_t value_len;
} ws3_pair_t;

/*
 * Returns the value of a request header by lowercase name, or NULL when the
 * request does not carry it.  The string must stay valid until the call that
 * was given the lookup returns.
 */
typedef const char *(*ws3_header_lookup_fn)(void *ctx, const char *lowercase_name);

typedef struct ws3_request {
    const char *method;          /* "GET", "POST" */
    const char *path;            /* decoded path, no query, e.g. "/vod/videoManage/getUploadToken" */
    const ws3_pair_t *query;     /* decoded query pairs, any order */
    size_t query_count;
    ws3_header_lookup_fn header_lookup;
    void *header_ctx;
    uint8_t body_sha256[32];     /* SHA-256 of the raw body (of "" when there is none) */
} ws3_request_t;

/* CanonicalQuery: pairs re-encoded per RFC 3986, sorted by name then value,
 * joined with '&'; appends nothing for an empty query. */
bool ws3_canonical_query(const ws3_pair_t *pairs, size_t count, buf_t *out);

/* CanonicalRequest for the given SignedHeaders list.  Returns false when a
 * signed header is missing from the request or the list is malformed. */
bool ws3_canonical_request(const ws3_request_t *req, const char *signed_headers, buf_t *out);

/* StringToSign = "WS3-HMAC-SHA256\n" timestamp "\n" hex(SHA256(canonical)). */
bool ws3_string_to_sign(const char *timestamp, const char *canonical, size_t canonical_len, buf_t *out);

/* out_hex receives 64 lowercase hex digits and a NUL. */
void ws3_signature(const char *secret_key, const char *string_to_sign, size_t len,
                   char out_hex[WS3_SIGNATURE_HEX_LEN + 1]);

/* Constant-time comparison of two signatures (hex, any case for `given`). */
bool ws3_signature_equal(const char *expected_hex, const char *given_hex);

/* Convenience for clients: the full signature of `req` at `timestamp`. */
bool ws3_sign(const ws3_request_t *req, const char *signed_headers, const char *timestamp,
              const char *secret_key, char out_hex[WS3_SIGNATURE_HEX_LEN + 1]);

/* True when `list` (';'-separated, any case) names `lowercase_name`. */
bool ws3_signed_headers_contain(const char *list, const char *lowercase_name);

#endif
