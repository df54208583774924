/*
 * digest: hashes of finished blocks, computed on a background thread while
 * the rest of an upload is still arriving, so that mkfile need not read the
 * whole file again before it can answer.
 *
 * Owns an in-memory table of blocks and one thread.  For every block that
 * a chunk completes (offset == blockSize, synced), the thread reads it back
 * (from the page cache, moments after it was written) and keeps:
 *  - the SHA-1 of each 4 MiB piece of the block, for the etag;
 *  - per fileKey, a running MD5 of blocks 0, 1, 2, ... as long as they
 *    complete in order (a block that completes early waits in the table
 *    until its turn), for the file's MD5.
 * mkfile takes what is there for its blocks and hashes only the rest.
 *
 * Nothing here is needed for correctness: the table is lost with the
 * process, entries are evicted when it is full, and a block whose bytes
 * may have changed since it was hashed is never used.  That is guaranteed
 * by generations: digest_block_opened is called before any writer touches
 * a block and makes every earlier hash of it (done, queued or running)
 * unusable; digest_block_done queues a block only if no other writer opened
 * it since the caller did.  mkfile takes results only once blob has frozen
 * the blocks.
 *
 * Memory is bounded by DIGEST_MAX_BLOCKS entries and DIGEST_MAX_CHAINS
 * running MD5 states, whatever the file sizes.  All functions are
 * thread-safe; every function accepts a NULL cache and then does nothing.
 */
#ifndef VODUP_DIGEST_H
#define VODUP_DIGEST_H

#include <openssl/evp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"
#include "upload/block_ctx.h"

#define DIGEST_MAX_BLOCKS 8192
#define DIGEST_MAX_CHAINS 256
#define DIGEST_SHA1_LEN 20

typedef struct digest_cache digest_cache_t;

/* Starts the thread; NULL when out of memory or threads. */
digest_cache_t *digest_cache_start(blob_t *blob);
/* Stops the thread (a block being hashed is finished first) and frees all. */
void digest_cache_stop(digest_cache_t *dc);

/* A writer is about to change block `block_id`.  Returns the generation to
 * hand to digest_block_done when that writer has completed the block. */
uint64_t digest_block_opened(digest_cache_t *dc, const char *block_id);
/* The block of `blk` is complete (blk->offset == blk->block_size) and
 * synced by the writer that got `gen` from digest_block_opened; queues it
 * for hashing unless another writer opened it since. */
void digest_block_done(digest_cache_t *dc, const block_ctx_t *blk, uint64_t gen);

/* What mkfile gets for its blocks. */
typedef struct digest_known {
    /* The MD5 state passed to digest_take covers blocks[0 .. md5_blocks). */
    size_t md5_blocks;
    /* Per block, NULL or its piece digests: ceil(offset / 4 MiB) of them
     * (one for an empty block), DIGEST_SHA1_LEN bytes each.  Owned. */
    uint8_t **pieces;
} digest_known_t;

/*
 * For mkfile, once blob has frozen `blocks` (file order, all of one key):
 * fills `known` and, when md5_blocks > 0, sets `md5` (an initialised MD5
 * context) to the state after those blocks.  Waits for a block of this
 * list that the thread is hashing right now; drops the rest of the queue
 * for them (the caller hashes what is missing itself).  The entries are
 * consumed.  False only when out of memory (known is then empty).
 */
bool digest_take(digest_cache_t *dc, const block_ctx_t *blocks, size_t count, EVP_MD_CTX *md5, digest_known_t *known);
void digest_known_free(digest_known_t *known, size_t count);

/* Waits until every queued block is hashed (for tests). */
void digest_wait_idle(digest_cache_t *dc);

#endif
