/*
 * tus_id: the id of a tus upload, the last segment of its URL
 * (/files/<id>): a capability signed by the server, like the block
 * protocol's ctx (block_ctx.h).
 *
 * It names the blob block that holds the upload's bytes (whose name
 * records the owner, for the staging quota), whether the upload is an
 * ordinary, partial or final one, and the fileKey it belongs to (the first
 * bytes of SHA-256(bucket ":" fileKey), as in a ctx).  An id is trusted
 * without a table lookup: a forged or mangled one fails its MAC and is
 * answered 404 before the store is read; one of another fileKey fails the
 * key check (403).  So ids stay valid across server restarts and, with a
 * shared secret, across nodes.
 *
 * Wire form: url-safe base64 without padding of 42 bytes = 56 characters:
 * version, kind, block id (16 bytes), key hash (8), a reserved zero byte,
 * and the first 15 bytes of HMAC-SHA256 under the server's "upload-ctx"
 * secret over "tus:" and those 27 bytes.
 */
#ifndef VODUP_TUS_ID_H
#define VODUP_TUS_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"

#define TUS_ID_TEXT_LEN 56

typedef struct tus_id {
    char block_id[BLOB_ID_LEN + 1]; /* 32 lowercase hex */
    int kind;                       /* enum store_tus_kind */
    uint8_t key_hash[8];
} tus_id_t;

bool tus_id_encode(const tus_id_t *id, const unsigned char secret[32], char out[TUS_ID_TEXT_LEN + 1]);
/* Parses and authenticates; false when malformed or forged. */
bool tus_id_decode(const char *text, size_t len, const unsigned char secret[32], tus_id_t *out);

#endif
