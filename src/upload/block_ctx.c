/* block_ctx: signed block state for the block protocol; see block_ctx.h. */
#include "upload/block_ctx.h"

#include <openssl/crypto.h>
#include <string.h>

#include "auth/crypto.h"
#include "common/buf.h"
#include "common/encoding.h"

#define BLOCK_CTX_VERSION 1
#define BLOCK_CTX_RAW_LEN 60
#define BLOCK_CTX_MAC_LEN 15
#define BLOCK_CTX_BODY_LEN (BLOCK_CTX_RAW_LEN - BLOCK_CTX_MAC_LEN)

static void block_ctx_put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t block_ctx_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

static int block_ctx_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool block_ctx_key_hash(const char *bucket, const char *key, uint8_t out[8])
{
    buf_t b;
    buf_init(&b, 0);
    bool ok = buf_printf(&b, "%s:%s", bucket, key);
    uint8_t digest[32];
    ok = ok && crypto_sha256(b.data, b.len, digest);
    if (ok)
        memcpy(out, digest, 8);
    buf_free(&b);
    return ok;
}

static bool block_ctx_mac(const uint8_t *body, const unsigned char secret[32], uint8_t out[BLOCK_CTX_MAC_LEN])
{
    uint8_t mac[32];
    size_t mac_len = 0;
    if (!crypto_hmac(CRYPTO_SHA256, secret, 32, body, BLOCK_CTX_BODY_LEN, mac, &mac_len))
        return false;
    memcpy(out, mac, BLOCK_CTX_MAC_LEN);
    return true;
}

bool block_ctx_encode(const block_ctx_t *ctx, const unsigned char secret[32], char out[BLOCK_CTX_TEXT_LEN + 1])
{
    uint8_t raw[BLOCK_CTX_RAW_LEN];
    raw[0] = BLOCK_CTX_VERSION;
    for (int i = 0; i < 16; i++) {
        int hi = block_ctx_hexval(ctx->block_id[2 * i]), lo = block_ctx_hexval(ctx->block_id[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        raw[1 + i] = (uint8_t)(hi << 4 | lo);
    }
    uint32_t index = (uint32_t)ctx->index;
    for (int i = 0; i < 4; i++)
        raw[17 + i] = (uint8_t)(index >> (24 - 8 * i));
    block_ctx_put64(raw + 21, (uint64_t)ctx->block_size);
    block_ctx_put64(raw + 29, (uint64_t)ctx->offset);
    memcpy(raw + 37, ctx->key_hash, 8);
    if (!block_ctx_mac(raw, secret, raw + BLOCK_CTX_BODY_LEN))
        return false;
    buf_t b;
    buf_init(&b, 0);
    bool ok = encoding_b64url_encode(raw, sizeof(raw), &b) && b.len == BLOCK_CTX_TEXT_LEN;
    if (ok)
        memcpy(out, b.data, BLOCK_CTX_TEXT_LEN + 1);
    buf_free(&b);
    return ok;
}

bool block_ctx_decode(const char *text, size_t len, const unsigned char secret[32], block_ctx_t *out)
{
    if (len != BLOCK_CTX_TEXT_LEN)
        return false;
    buf_t b;
    buf_init(&b, 0);
    bool ok = false;
    if (!encoding_b64url_decode(text, len, &b) || b.len != BLOCK_CTX_RAW_LEN)
        goto out;
    const uint8_t *raw = (const uint8_t *)b.data;
    uint8_t mac[BLOCK_CTX_MAC_LEN];
    if (raw[0] != BLOCK_CTX_VERSION || !block_ctx_mac(raw, secret, mac) ||
        CRYPTO_memcmp(mac, raw + BLOCK_CTX_BODY_LEN, BLOCK_CTX_MAC_LEN) != 0)
        goto out;
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out->block_id[2 * i] = hex[raw[1 + i] >> 4];
        out->block_id[2 * i + 1] = hex[raw[1 + i] & 15];
    }
    out->block_id[BLOB_ID_LEN] = '\0';
    uint32_t index = (uint32_t)raw[17] << 24 | (uint32_t)raw[18] << 16 | (uint32_t)raw[19] << 8 | raw[20];
    out->index = (int32_t)index;
    out->block_size = (int64_t)block_ctx_get64(raw + 21);
    out->offset = (int64_t)block_ctx_get64(raw + 29);
    memcpy(out->key_hash, raw + 37, 8);
    ok = out->block_size > 0 && out->offset >= 0 && out->offset <= out->block_size && out->index >= -1;
out:
    buf_free(&b);
    return ok;
}
