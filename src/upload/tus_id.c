/* tus_id: the signed id of a tus upload; see tus_id.h. */
#include "upload/tus_id.h"

#include <openssl/crypto.h>
#include <string.h>

#include "auth/crypto.h"
#include "common/buf.h"
#include "common/encoding.h"
#include "store/store.h"

#define TUS_ID_VERSION 1
#define TUS_ID_RAW_LEN 42
#define TUS_ID_MAC_LEN 15
#define TUS_ID_BODY_LEN (TUS_ID_RAW_LEN - TUS_ID_MAC_LEN)

static bool tus_id_mac(const uint8_t *body, const unsigned char secret[32], uint8_t out[TUS_ID_MAC_LEN])
{
    uint8_t msg[4 + TUS_ID_BODY_LEN] = {'t', 'u', 's', ':'};
    memcpy(msg + 4, body, TUS_ID_BODY_LEN);
    uint8_t mac[32];
    size_t mac_len = 0;
    if (!crypto_hmac(CRYPTO_SHA256, secret, 32, msg, sizeof(msg), mac, &mac_len))
        return false;
    memcpy(out, mac, TUS_ID_MAC_LEN);
    return true;
}

static int tus_id_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool tus_id_encode(const tus_id_t *id, const unsigned char secret[32], char out[TUS_ID_TEXT_LEN + 1])
{
    uint8_t raw[TUS_ID_RAW_LEN] = {TUS_ID_VERSION, (uint8_t)id->kind};
    if (id->kind < STORE_TUS_SINGLE || id->kind > STORE_TUS_FINAL || strlen(id->block_id) != BLOB_ID_LEN)
        return false;
    for (int i = 0; i < 16; i++) {
        int hi = tus_id_hexval(id->block_id[2 * i]), lo = tus_id_hexval(id->block_id[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        raw[2 + i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(raw + 18, id->key_hash, 8);
    raw[26] = 0;
    if (!tus_id_mac(raw, secret, raw + TUS_ID_BODY_LEN))
        return false;
    buf_t b;
    buf_init(&b, 0);
    bool ok = encoding_b64url_encode(raw, sizeof(raw), &b) && b.len == TUS_ID_TEXT_LEN;
    if (ok)
        memcpy(out, b.data, TUS_ID_TEXT_LEN + 1);
    buf_free(&b);
    return ok;
}

bool tus_id_decode(const char *text, size_t len, const unsigned char secret[32], tus_id_t *out)
{
    if (len != TUS_ID_TEXT_LEN)
        return false;
    buf_t b;
    buf_init(&b, 0);
    bool ok = false;
    if (!encoding_b64url_decode(text, len, &b) || b.len != TUS_ID_RAW_LEN)
        goto out;
    const uint8_t *raw = (const uint8_t *)b.data;
    uint8_t mac[TUS_ID_MAC_LEN];
    if (raw[0] != TUS_ID_VERSION || raw[1] > STORE_TUS_FINAL || raw[26] != 0 || !tus_id_mac(raw, secret, mac) ||
        CRYPTO_memcmp(mac, raw + TUS_ID_BODY_LEN, TUS_ID_MAC_LEN) != 0)
        goto out;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out->block_id[2 * i] = hex[raw[2 + i] >> 4];
        out->block_id[2 * i + 1] = hex[raw[2 + i] & 15];
    }
    out->block_id[BLOB_ID_LEN] = '\0';
    out->kind = raw[1];
    memcpy(out->key_hash, raw + 18, 8);
    ok = true;
out:
    buf_free(&b);
    return ok;
}
