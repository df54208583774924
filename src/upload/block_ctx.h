/*
 * block_ctx: the `ctx` value of the block protocol, a server-signed
 * description of one block's acknowledged state.
 *
 * vodup keeps no table of blocks: the ctx a client holds says which block
 * (its blob id), which position the client gave it, its declared size, how
 * many bytes the server acknowledged, and which fileKey it belongs to; the
 * blob store holds the bytes.  So a ctx stays valid across server restarts,
 * parallel blocks and newer tokens, and a client can only ever name bytes
 * the server acknowledged to it.  The MAC (HMAC-SHA256 under the server's
 * "upload-ctx" secret, truncated to 120 bits) makes it tamper-proof.
 *
 * Wire form: url-safe base64 without padding of 60 bytes = 80 characters
 * (URL-path-safe, no comma, under the 200 bytes the protocol allows).
 */
#ifndef VODUP_BLOCK_CTX_H
#define VODUP_BLOCK_CTX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"

#define BLOCK_CTX_TEXT_LEN 80

typedef struct block_ctx {
    char block_id[BLOB_ID_LEN + 1]; /* 32 lowercase hex */
    int32_t index;                  /* the client's block index, -1 when it sent none */
    int64_t block_size;             /* declared by mkblk */
    int64_t offset;                 /* bytes acknowledged */
    uint8_t key_hash[8];            /* first bytes of SHA-256(bucket ":" fileKey) */
} block_ctx_t;

/* key_hash for a bucket and key. */
bool block_ctx_key_hash(const char *bucket, const char *key, uint8_t out[8]);

/* Writes the 80-character text (plus NUL) for ctx into out. */
bool block_ctx_encode(const block_ctx_t *ctx, const unsigned char secret[32], char out[BLOCK_CTX_TEXT_LEN + 1]);

/* Parses and authenticates a ctx text; false when malformed or forged. */
bool block_ctx_decode(const char *text, size_t len, const unsigned char secret[32], block_ctx_t *out);

#endif
