/* mgr_token: the WCS management token; see mgr_token.h. */
#include "auth/mgr_token.h"

#include <openssl/crypto.h>
#include <string.h>

#include "auth/crypto.h"
#include "common/encoding.h"

#define MGR_TOKEN_SHA1_LEN 20
#define MGR_TOKEN_HEX_LEN (2 * MGR_TOKEN_SHA1_LEN)

/* hex receives lowercase_hex(HMAC-SHA1(secret, path_query "\n" body)). */
static bool mgr_token_hex(const char *secret_key, const char *path_query, const void *body, size_t len,
                          char hex[MGR_TOKEN_HEX_LEN + 1])
{
    buf_t msg;
    buf_init(&msg, 0);
    uint8_t mac[MGR_TOKEN_SHA1_LEN];
    size_t mac_len = 0;
    bool ok = buf_append_str(&msg, path_query) && buf_append_str(&msg, "\n") && buf_append(&msg, body, len) &&
              crypto_hmac(CRYPTO_SHA1, secret_key, strlen(secret_key), msg.data, msg.len, mac, &mac_len);
    if (ok)
        encoding_hex(mac, sizeof(mac), hex);
    OPENSSL_cleanse(mac, sizeof(mac));
    buf_free(&msg);
    return ok;
}

bool mgr_token_make(const char *access_key, const char *secret_key, const char *path_query, const void *body,
                    size_t len, buf_t *out)
{
    char hex[MGR_TOKEN_HEX_LEN + 1];
    bool ok = mgr_token_hex(secret_key, path_query, body, len, hex) && buf_append_str(out, access_key) &&
              buf_append_str(out, ":") && encoding_b64url_encode(hex, MGR_TOKEN_HEX_LEN, out);
    OPENSSL_cleanse(hex, sizeof(hex));
    return ok;
}

bool mgr_token_split(const char *value, char access_key[MGR_TOKEN_ACCESS_KEY_MAX + 1], const char **sign)
{
    const char *colon = value ? strchr(value, ':') : NULL;
    if (!colon || colon == value || !colon[1] || (size_t)(colon - value) > MGR_TOKEN_ACCESS_KEY_MAX)
        return false;
    memcpy(access_key, value, (size_t)(colon - value));
    access_key[colon - value] = '\0';
    *sign = colon + 1;
    return strcspn(access_key, " \t") == strlen(access_key);
}

bool mgr_token_valid(const char *secret_key, const char *path_query, const void *body, size_t len,
                     const char *sign)
{
    char expected[MGR_TOKEN_HEX_LEN + 1];
    buf_t given;
    buf_init(&given, 0);
    size_t sign_len = strlen(sign);
    /* The decode depends only on what the client sent, never on the secret. */
    bool ok = sign_len <= 4 * ((MGR_TOKEN_HEX_LEN + 2) / 3) && encoding_b64url_decode(sign, sign_len, &given) &&
              given.len == MGR_TOKEN_HEX_LEN && mgr_token_hex(secret_key, path_query, body, len, expected) &&
              CRYPTO_memcmp(expected, given.data, MGR_TOKEN_HEX_LEN) == 0;
    OPENSSL_cleanse(expected, sizeof(expected));
    buf_free(&given);
    return ok;
}
