/*
 * upload_token: mints, splits, verifies and parses the WCS upload token of
 * ../shared/spec/upload-protocol.md section 1; see upload_token.h.
 *
 * The HMAC is always checked over the encoded policy exactly as it arrived:
 * SDKs serialise JSON differently, so re-serialising would reject their
 * tokens.  This file must never log a token's sign or a secret key, and it
 * decides nothing about buckets, keys or deadlines: that is the caller's job.
 */
#include "auth/upload_token.h"
#include "auth/crypto.h"

#include <jansson.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"

#define UPLOAD_TOKEN_SHA1_LEN 20
#define UPLOAD_TOKEN_SIGN_HEX_LEN (2 * UPLOAD_TOKEN_SHA1_LEN)

/* hex(HMAC-SHA1(secret_key, msg)) into `hex` (41 bytes); false on failure. */
static bool upload_token_hmac_hex(const char *secret_key, const char *msg, size_t len,
                                  char hex[UPLOAD_TOKEN_SIGN_HEX_LEN + 1])
{
    uint8_t mac[UPLOAD_TOKEN_SHA1_LEN];
    size_t mac_len = 0;
    if (!crypto_hmac(CRYPTO_SHA1, secret_key, strlen(secret_key), msg, len, mac, &mac_len))
        return false;
    encoding_hex(mac, sizeof(mac), hex);
    OPENSSL_cleanse(mac, sizeof(mac));
    return true;
}

bool upload_token_mint(const char *access_key, const char *secret_key, const char *policy_json,
                       buf_t *out)
{
    const size_t start = out->len;
    char hex[UPLOAD_TOKEN_SIGN_HEX_LEN + 1];
    buf_t policy;
    bool ok = false;

    buf_init(&policy, 0);
    /* The access key is the text before the first ':', so it cannot hold one. */
    if (access_key == NULL || secret_key == NULL || policy_json == NULL || access_key[0] == '\0' ||
        strchr(access_key, ':') != NULL)
        goto out;
    if (!encoding_b64url_encode(policy_json, strlen(policy_json), &policy) ||
        !upload_token_hmac_hex(secret_key, policy.data, policy.len, hex))
        goto out;
    if (!buf_append_str(out, access_key) || !buf_append(out, ":", 1) ||
        !encoding_b64url_encode(hex, UPLOAD_TOKEN_SIGN_HEX_LEN, out) || !buf_append(out, ":", 1) ||
        !buf_append(out, policy.data, policy.len))
        goto out;
    ok = true;
out:
    if (!ok && out->data) {
        out->len = start;
        out->data[start] = '\0';
    }
    buf_free(&policy);
    return ok;
}

bool upload_token_split(const char *token, size_t len, upload_token_parts_t *out)
{
    if (token == NULL || out == NULL || len == 0)
        return false;
    const char *first = memchr(token, ':', len);
    if (first == NULL)
        return false;
    const char *last = token + len - 1;
    while (*last != ':') /* stops at `first` at the latest */
        last--;
    if (last == first)
        return false;
    const char *end = token + len;
    upload_token_parts_t p = {
        .access_key = token,
        .access_key_len = (size_t)(first - token),
        .encoded_sign = first + 1,
        .encoded_sign_len = (size_t)(last - first - 1),
        .encoded_policy = last + 1,
        .encoded_policy_len = (size_t)(end - last - 1),
    };
    if (p.access_key_len == 0 || p.encoded_sign_len == 0 || p.encoded_policy_len == 0)
        return false;
    *out = p;
    return true;
}

bool upload_token_signature_valid(const upload_token_parts_t *parts, const char *secret_key)
{
    char expected[UPLOAD_TOKEN_SIGN_HEX_LEN + 1];
    buf_t given;
    bool ok = false;

    buf_init(&given, 0);
    if (parts == NULL || secret_key == NULL || parts->encoded_sign == NULL ||
        parts->encoded_policy == NULL)
        goto out;
    if (!upload_token_hmac_hex(secret_key, parts->encoded_policy, parts->encoded_policy_len,
                               expected))
        goto out;
    /* Compare decoded signs, so a sign with or without padding verifies.  The
     * decode depends only on what the client sent, never on the secret. */
    if (parts->encoded_sign_len > 4 * ((UPLOAD_TOKEN_SIGN_HEX_LEN + 2) / 3) ||
        !encoding_b64url_decode(parts->encoded_sign, parts->encoded_sign_len, &given) ||
        given.len != UPLOAD_TOKEN_SIGN_HEX_LEN)
        goto out;
    ok = CRYPTO_memcmp(expected, given.data, UPLOAD_TOKEN_SIGN_HEX_LEN) == 0;
out:
    OPENSSL_cleanse(expected, sizeof(expected));
    buf_free(&given);
    return ok;
}

/* ---- policy ------------------------------------------------------------- */

void upload_policy_free(upload_policy_t *p)
{
    if (p == NULL)
        return;
    free(p->scope);
    free(p->bucket);
    free(p->key);
    free(p->return_body);
    free(p->return_url);
    free(p->callback_url);
    free(p->callback_body);
    free(p->persistent_ops);
    free(p->persistent_notify_url);
    memset(p, 0, sizeof(*p));
}

/* A decimal string of 1..19 digits that fits in int64_t. */
static bool upload_policy_parse_digits(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        int d = *s - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/*
 * A non-negative integer given as a JSON integer, an integral JSON real
 * (some SDKs compute milliseconds in floating point) or a numeric string.
 */
static bool upload_policy_nonnegative(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);
        if (i < 0)
            return false;
        *out = (int64_t)i;
        return true;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        /* 2^63 is exactly representable; anything below it converts safely. */
        if (!(d >= 0.0 && d < 9223372036854775808.0) || d != floor(d))
            return false;
        *out = (int64_t)d;
        return true;
    }
    if (json_is_string(v))
        return upload_policy_parse_digits(json_string_value(v), out);
    return false;
}

/* Copies an optional string member; absent or null leaves *out NULL. */
static bool upload_policy_string(const json_t *obj, const char *name, char **out)
{
    const json_t *v = json_object_get(obj, name);
    if (v == NULL || json_is_null(v))
        return true;
    if (!json_is_string(v))
        return false;
    *out = strdup(json_string_value(v));
    return *out != NULL;
}

static bool upload_policy_scope(const json_t *obj, upload_policy_t *p)
{
    const char *scope = json_string_value(json_object_get(obj, "scope"));
    if (scope == NULL || scope[0] == '\0')
        return false;
    const char *colon = strchr(scope, ':');
    /* "bucket:" and ":key" name nothing a client could have meant. */
    if (colon == scope || (colon != NULL && colon[1] == '\0'))
        return false;
    p->scope = strdup(scope);
    p->bucket = colon ? strndup(scope, (size_t)(colon - scope)) : strdup(scope);
    if (colon)
        p->key = strdup(colon + 1);
    return p->scope != NULL && p->bucket != NULL && (colon == NULL || p->key != NULL);
}

bool upload_token_policy_parse(const upload_token_parts_t *parts, upload_policy_t *out)
{
    buf_t json_text;
    json_t *root = NULL;
    bool ok = false;

    buf_init(&json_text, 0);
    memset(out, 0, sizeof(*out));
    if (parts == NULL || parts->encoded_policy == NULL)
        goto out;
    if (!encoding_b64url_decode(parts->encoded_policy, parts->encoded_policy_len, &json_text))
        goto out;
    /* Duplicate members would let two readers of one policy disagree. */
    root = json_loadb(json_text.data ? json_text.data : "", json_text.len,
                      JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(root))
        goto out;

    if (!upload_policy_scope(root, out))
        goto out;

    const json_t *deadline = json_object_get(root, "deadline");
    if (deadline == NULL || !upload_policy_nonnegative(deadline, &out->deadline_ms))
        goto out;

    const json_t *overwrite = json_object_get(root, "overwrite");
    if (overwrite != NULL) {
        /* Exactly 0 or 1, as a number or a string; anything else is a
         * policy the minter did not mean. */
        const char *text = json_string_value(overwrite);
        json_int_t n = json_is_integer(overwrite) ? json_integer_value(overwrite) : -1;
        if (text != NULL)
            n = strcmp(text, "0") == 0 ? 0 : strcmp(text, "1") == 0 ? 1 : -1;
        if (n != 0 && n != 1)
            goto out;
        out->overwrite = (int)n;
    }

    const json_t *fsize = json_object_get(root, "fsizeLimit");
    if (fsize != NULL && !upload_policy_nonnegative(fsize, &out->fsize_limit))
        goto out;

    if (!upload_policy_string(root, "returnBody", &out->return_body) ||
        !upload_policy_string(root, "returnUrl", &out->return_url) ||
        !upload_policy_string(root, "callbackUrl", &out->callback_url) ||
        !upload_policy_string(root, "callbackBody", &out->callback_body) ||
        !upload_policy_string(root, "persistentOps", &out->persistent_ops) ||
        !upload_policy_string(root, "persistentNotifyUrl", &out->persistent_notify_url))
        goto out;
    ok = true;
out:
    if (!ok)
        upload_policy_free(out);
    json_decref(root);
    buf_free(&json_text);
    return ok;
}
