/*
 * quota: what unfinished uploads may hold on the server's disk, so that one
 * account, or one upload token, cannot fill it for everybody else.
 *
 * "Staged" bytes are those of uploads that are not files yet:
 *  - the acknowledged bytes of every block not yet made into a file by
 *    mkfile (held until mkfile, or the sweep after block-max-age);
 *  - the room a request in flight has taken for its body (a chunk's
 *    Content-Length, or steps of it when chunked; a form's file bytes as
 *    they arrive), given back when the request ends, whatever its end.
 * Each is charged to an owner, the pair (account, upload token), and both
 * the owner's and the account's totals are bounded (max-staged-per-token,
 * max-staged-per-account).
 *
 * A block's owner is written into its blob id (block_id_make), so the
 * ledger of held blocks can be rebuilt from the block names alone when the
 * server starts (quota_block_set for each block the blob store lists):
 * no table of blocks, and a restart forgets nothing.
 *
 * Form bytes that arrive before the token (the browser SDK sends the file
 * first) have no owner yet: they count against a separate server-wide
 * bound (preauth-spool-total) until the token is verified.
 *
 * Thread-safe: one mutex; every call is a few tree operations.
 */
#ifndef VODUP_UPLOAD_QUOTA_H
#define VODUP_UPLOAD_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"

/* Who is charged: the account and 24 bits of the token's digest. */
typedef struct quota_owner {
    int64_t account_id; /* 0 .. 2^48 - 1 */
    uint32_t token;     /* 0 .. 2^24 - 1 */
} quota_owner_t;

enum quota_rc {
    QUOTA_OK = 0,
    QUOTA_ACCOUNT, /* the account's bound would be passed */
    QUOTA_TOKEN,   /* the token's bound would be passed */
};

typedef struct quota quota_t;

/* Bounds in bytes.  NULL when out of memory. */
quota_t *quota_new(int64_t per_account, int64_t per_token, int64_t preauth_total);
void quota_free(quota_t *q);

/* Charges `bytes` to the owner when both bounds allow it (else nothing). */
int quota_take(quota_t *q, const quota_owner_t *o, int64_t bytes);
/* Gives back what quota_take charged. */
void quota_give(quota_t *q, const quota_owner_t *o, int64_t bytes);

/* The same for bytes received before any token: false when over the bound. */
bool quota_preauth_take(quota_t *q, int64_t bytes);
void quota_preauth_give(quota_t *q, int64_t bytes);

/* Records that block `block_id` now holds `bytes` acknowledged bytes (0:
 * it is gone), charged to the owner its id names.  Never refused: the
 * bytes are on disk already (the request that wrote them took room first). */
void quota_block_set(quota_t *q, const char *block_id, int64_t bytes);

/* What an owner or an account holds now (for tests and logs). */
int64_t quota_used(quota_t *q, const quota_owner_t *o);
int64_t quota_account_used(quota_t *q, int64_t account_id);
/* Everything staged, all owners together (the metrics' staged bytes). */
int64_t quota_total(quota_t *q);

/* A fresh block id for the owner: 12 hex digits of the account, 6 of the
 * token, 14 random.  out: BLOB_ID_LEN + 1 bytes. */
bool block_id_make(const quota_owner_t *o, char out[BLOB_ID_LEN + 1]);
/* The owner a block id names. */
void block_id_owner(const char *block_id, quota_owner_t *o);

/* The token part of an owner: 24 bits of SHA-256 of the token text. */
uint32_t quota_token_of(const char *token, size_t len);

#endif
