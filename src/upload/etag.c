/* etag: the WCS etag of upload-protocol.md section 6; see etag.h. */
#include "upload/etag.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

#define ETAG_SHA1_LEN 20
#define ETAG_SINGLE 0x16
#define ETAG_MULTI 0x96

/* Fetched once per process, then read-only: OpenSSL 3 would otherwise look
 * the algorithm up by name, under locks, for every piece. */
static EVP_MD *etag_sha1;
static pthread_once_t etag_once = PTHREAD_ONCE_INIT;

static void etag_fetch(void)
{
    etag_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

bool etag_init(etag_t *e)
{
    memset(e, 0, sizeof(*e));
    pthread_once(&etag_once, etag_fetch);
    if (!etag_sha1)
        return false;
    e->piece = EVP_MD_CTX_new();
    e->outer = EVP_MD_CTX_new();
    if (!e->piece || !e->outer || EVP_DigestInit_ex2(e->piece, etag_sha1, NULL) != 1 ||
        EVP_DigestInit_ex2(e->outer, etag_sha1, NULL) != 1) {
        etag_free(e);
        return false;
    }
    return true;
}

void etag_free(etag_t *e)
{
    EVP_MD_CTX_free(e->piece);
    EVP_MD_CTX_free(e->outer);
    e->piece = NULL;
    e->outer = NULL;
}

/* Feeds the digest of piece number pieces_done + 1 (the second or a later
 * one) to the outer hash, after the first piece's digest held back until
 * now. */
static bool etag_outer_add(etag_t *e, const uint8_t digest[ETAG_SHA1_LEN])
{
    if (e->pieces_done == 1 && EVP_DigestUpdate(e->outer, e->first, ETAG_SHA1_LEN) != 1)
        return false;
    return EVP_DigestUpdate(e->outer, digest, ETAG_SHA1_LEN) == 1;
}

/* Records a complete piece that more content follows. */
static bool etag_push(etag_t *e, const uint8_t digest[ETAG_SHA1_LEN])
{
    if (e->pieces_done == 0)
        memcpy(e->first, digest, ETAG_SHA1_LEN);
    else if (!etag_outer_add(e, digest))
        return false;
    e->pieces_done++;
    return true;
}

/* Ends the current, full piece; called only when more content follows it,
 * so that a content of exactly 4 MiB stays a single piece. */
static bool etag_next_piece(etag_t *e)
{
    if (e->held) {
        /* Only the last piece may be short. */
        if (e->held_len != ETAG_PIECE_SIZE || !etag_push(e, e->held_digest))
            return false;
        e->held = false;
        return true;
    }
    uint8_t digest[ETAG_SHA1_LEN];
    unsigned int n = 0;
    if (EVP_DigestFinal_ex(e->piece, digest, &n) != 1 || n != ETAG_SHA1_LEN ||
        EVP_DigestInit_ex2(e->piece, etag_sha1, NULL) != 1 || !etag_push(e, digest))
        return false;
    e->piece_len = 0;
    return true;
}

bool etag_add_piece(etag_t *e, const uint8_t digest[ETAG_SHA1_LEN], size_t len)
{
    if (!e->piece || len > ETAG_PIECE_SIZE)
        return false;
    if (e->held || e->piece_len == ETAG_PIECE_SIZE) {
        if (!etag_next_piece(e))
            return false;
    } else if (e->piece_len != 0) {
        return false; /* not on a piece boundary */
    }
    memcpy(e->held_digest, digest, ETAG_SHA1_LEN);
    e->held_len = len;
    e->held = true;
    return true;
}

bool etag_update(etag_t *e, const void *data, size_t len)
{
    const uint8_t *p = data;
    if (!e->piece)
        return false;
    while (len > 0) {
        if ((e->held || e->piece_len == ETAG_PIECE_SIZE) && !etag_next_piece(e))
            return false;
        size_t n = ETAG_PIECE_SIZE - e->piece_len;
        if (n > len)
            n = len;
        if (EVP_DigestUpdate(e->piece, p, n) != 1)
            return false;
        e->piece_len += n;
        p += n;
        len -= n;
    }
    return true;
}

bool etag_final(etag_t *e, char out[ETAG_LEN + 1])
{
    bool ok = false;
    uint8_t raw[1 + ETAG_SHA1_LEN];
    uint8_t last[ETAG_SHA1_LEN];
    unsigned int n = 0;
    if (!e->piece)
        goto out;
    if (e->held)
        memcpy(last, e->held_digest, ETAG_SHA1_LEN);
    else if (EVP_DigestFinal_ex(e->piece, last, &n) != 1 || n != ETAG_SHA1_LEN)
        goto out;
    if (e->pieces_done == 0) {
        raw[0] = ETAG_SINGLE;
        memcpy(raw + 1, last, ETAG_SHA1_LEN);
    } else {
        raw[0] = ETAG_MULTI;
        if (!etag_outer_add(e, last) || EVP_DigestFinal_ex(e->outer, raw + 1, &n) != 1 || n != ETAG_SHA1_LEN)
            goto out;
    }
    /* 21 bytes are exactly 28 base64 characters, no padding; standard
     * base64 then becomes url-safe by swapping two characters. */
    if (EVP_EncodeBlock((unsigned char *)out, raw, (int)sizeof(raw)) != ETAG_LEN)
        goto out;
    for (char *c = out; *c; c++) {
        if (*c == '+')
            *c = '-';
        else if (*c == '/')
            *c = '_';
    }
    ok = true;
out:
    etag_free(e);
    return ok;
}
