/*
 * etag: the WCS etag ("hash") of an upload, computed as the bytes stream by
 * (upload-protocol.md section 6).
 *
 * The content is cut into 4 MiB pieces (an empty file is one empty piece).
 * One piece: 0x16 || SHA1(piece).  Several: 0x96 || SHA1(SHA1(p1) || SHA1(p2)
 * || ...).  The 21 bytes are then url-safe base64, 28 characters.
 *
 * Memory is constant whatever the size: the outer SHA-1 runs over piece
 * digests as pieces complete.  Only the first piece's digest is held back,
 * because whether it is the whole answer (0x16) or the first input of the
 * outer hash (0x96) is known only once a byte past 4 MiB arrives.
 *
 * An etag_t is used by one thread at a time.  etag_init allocates two
 * OpenSSL digest contexts: etag_final or etag_free releases them.
 */
#ifndef VODUP_ETAG_H
#define VODUP_ETAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ETAG_PIECE_SIZE ((size_t)4 * 1024 * 1024)
#define ETAG_LEN 28 /* characters, without the NUL */

typedef struct evp_md_ctx_st etag_md_ctx_t; /* OpenSSL's EVP_MD_CTX */

typedef struct etag {
    etag_md_ctx_t *piece; /* SHA-1 of the current piece */
    etag_md_ctx_t *outer; /* SHA-1 over the digests of pieces 1, 2, ... */
    uint8_t first[20];    /* digest of piece 1, once it is complete */
    uint64_t pieces_done; /* complete pieces before the current one */
    size_t piece_len;     /* bytes of the current piece so far */
    bool held;            /* the current piece came as a digest (etag_add_piece) */
    uint8_t held_digest[20];
    size_t held_len;
} etag_t;

/* Returns false (nothing to free) when OpenSSL fails. */
bool etag_init(etag_t *e);
/* Any split of the content gives the same etag.  false on OpenSSL failure;
 * the state must then only be freed. */
bool etag_update(etag_t *e, const void *data, size_t len);
/* Adds a piece whose SHA-1 is already known (hashed earlier, elsewhere):
 * the content so far must end on a piece boundary, and `len` is the
 * piece's length, ETAG_PIECE_SIZE or, for the last piece only, less.
 * false when the content is not at a boundary, after a short piece, or on
 * OpenSSL failure. */
bool etag_add_piece(etag_t *e, const uint8_t digest[20], size_t len);
/* Writes the 28 characters and a NUL, and frees the state (also on failure). */
bool etag_final(etag_t *e, char out[ETAG_LEN + 1]);
/* Frees an etag that will not be finished; safe after etag_final and twice. */
void etag_free(etag_t *e);

#endif
