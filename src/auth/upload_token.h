/*
 * upload_token: the WCS upload token of ../shared/spec/upload-protocol.md
 * section 1:  AccessKey ":" urlsafe_b64(hex(HMAC-SHA1(SK, EncodedPolicy))) ":" EncodedPolicy
 *
 * Minting (for getUploadToken) and parsing/verifying (for the upload
 * endpoint).  Pure functions; verification compares in constant time and
 * checks the HMAC over the policy exactly as received, never re-serialised.
 */
#ifndef VODUP_UPLOAD_TOKEN_H
#define VODUP_UPLOAD_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

/* The put-policy members vodup honours.  Strings are owned (free with
 * upload_policy_free); absent members are NULL / 0. */
typedef struct upload_policy {
    char *scope;          /* "bucket" or "bucket:key" */
    char *bucket;         /* scope up to the first ':' */
    char *key;            /* scope after the first ':' (may contain ':'), or NULL */
    int64_t deadline_ms;  /* Unix ms; JSON number or numeric string */
    int overwrite;        /* 0 or 1 */
    int64_t fsize_limit;  /* 0 = none */
    char *return_body;
    char *return_url;
    char *callback_url;
    char *callback_body;
    char *persistent_ops;
    char *persistent_notify_url;
} upload_policy_t;

void upload_policy_free(upload_policy_t *p);

/* Appends the token for the given policy JSON text to `out`. */
bool upload_token_mint(const char *access_key, const char *secret_key, const char *policy_json,
                       buf_t *out);

/* A token split into its three parts (views into the caller's string). */
typedef struct upload_token_parts {
    const char *access_key;
    size_t access_key_len;
    const char *encoded_sign;
    size_t encoded_sign_len;
    const char *encoded_policy;
    size_t encoded_policy_len;
} upload_token_parts_t;

/* Splits on the first and the last ':'; false when either is missing or a part is empty. */
bool upload_token_split(const char *token, size_t len, upload_token_parts_t *out);

/* True when the sign part matches HMAC-SHA1(secret_key, encoded_policy) (constant time). */
bool upload_token_signature_valid(const upload_token_parts_t *parts, const char *secret_key);

/* Decodes and parses the policy JSON; false when malformed (not base64, not
 * a JSON object, scope missing or empty, deadline missing or not numeric,
 * overwrite not 0/1, fsizeLimit negative). */
bool upload_token_policy_parse(const upload_token_parts_t *parts, upload_policy_t *out);

#endif
