/* play_sign: signed playback URLs; see play_sign.h. */
#include "auth/play_sign.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "auth/crypto.h"
#include "common/buf.h"

/* "/" + the first depth segments + "/" (depth > 0) or "/" + key; false when
 * the key has no segment past the signed ones. */
static bool play_sign_path(const char *file_key, int depth, buf_t *out)
{
    if (depth < 0 || depth > PLAY_SIGN_DEPTH_MAX || !file_key[0])
        return false;
    const char *end = file_key;
    for (int i = 0; i < depth; i++) {
        end = strchr(end, '/');
        if (!end || !end[1])
            return false;
        end++;
    }
    size_t n = depth ? (size_t)(end - file_key) : strlen(file_key);
    return buf_printf(out, "/%.*s", (int)n, file_key);
}

static bool play_sign_hex(const uint8_t key[PLAY_SIGN_KEY_LEN], const char *file_key, int depth, int64_t expires,
                          char sig[PLAY_SIGN_SIG_HEX + 1])
{
    buf_t msg;
    buf_init(&msg, 0);
    uint8_t mac[32];
    size_t len = 0;
    bool ok = buf_printf(&msg, "vsig1\n%lld\n", (long long)expires) && play_sign_path(file_key, depth, &msg) &&
              crypto_hmac(CRYPTO_SHA256, key, PLAY_SIGN_KEY_LEN, msg.data, msg.len, mac, &len) && len == 32;
    buf_free(&msg);
    for (int i = 0; ok && i < PLAY_SIGN_SIG_HEX / 2; i++)
        snprintf(sig + 2 * i, 3, "%02x", mac[i]);
    return ok;
}

bool play_sign_token(const uint8_t key[PLAY_SIGN_KEY_LEN], const char *file_key, int depth, int64_t expires,
                     char out[PLAY_SIGN_TOKEN_MAX])
{
    char sig[PLAY_SIGN_SIG_HEX + 1];
    if (expires <= 0 || expires > 9999999999LL || !play_sign_hex(key, file_key, depth, expires, sig))
        return false;
    int n = snprintf(out, PLAY_SIGN_TOKEN_MAX, PLAY_SIGN_PREFIX "%lld.%d.%s", (long long)expires, depth, sig);
    return n > 0 && n < PLAY_SIGN_TOKEN_MAX;
}

/* Reads 1..max decimal digits ending at `stop`; advances *p past it. */
static bool play_sign_number(const char **p, int max, char stop, int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    for (; **p >= '0' && **p <= '9' && n < max; (*p)++, n++)
        v = v * 10 + (**p - '0');
    if (n == 0 || **p != stop)
        return false;
    (*p)++;
    *out = v;
    return true;
}

bool play_sign_parse(const char *path, play_sign_token_t *t, const char **file_key)
{
    *file_key = NULL;
    memset(t, 0, sizeof(*t));
    size_t plen = strlen(PLAY_SIGN_PREFIX);
    if (!path || path[0] != '/' || strncmp(path + 1, PLAY_SIGN_PREFIX, plen) != 0)
        return false;
    const char *p = path + 1 + plen;
    int64_t expires, depth;
    if (!play_sign_number(&p, 10, '.', &expires) || !play_sign_number(&p, 2, '.', &depth) ||
        depth > PLAY_SIGN_DEPTH_MAX)
        return false;
    size_t n = strspn(p, "0123456789abcdef");
    if (n != PLAY_SIGN_SIG_HEX || p[n] != '/' || !p[n + 1])
        return false;
    t->expires = expires;
    t->depth = (int)depth;
    memcpy(t->sig, p, n);
    t->sig[n] = '\0';
    *file_key = p + n + 1;
    return true;
}

enum play_sign_result play_sign_verify(const uint8_t key[PLAY_SIGN_KEY_LEN], const play_sign_token_t *t,
                                       const char *file_key, int64_t now)
{
    char want[PLAY_SIGN_SIG_HEX + 1];
    if (!play_sign_hex(key, file_key, t->depth, t->expires, want) ||
        CRYPTO_memcmp(want, t->sig, PLAY_SIGN_SIG_HEX) != 0)
        return PLAY_SIGN_BAD;
    return now > t->expires ? PLAY_SIGN_EXPIRED : PLAY_SIGN_OK;
}
