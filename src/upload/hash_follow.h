/*
 * hash_follow: the MD5 of a chunk (the `checksum` of a mkblk/bput answer),
 * computed by a hashing thread that follows the poll thread through the
 * page cache.  The poll thread only receives, CRCs and writes the chunk;
 * MD5, the slowest step of the chunk path, runs on another core meanwhile,
 * so a chunk's answer waits for the slower of the two instead of their sum.
 *
 * Owns a reader of the block, the MD5 state and a read buffer.  Jobs run
 * on the pool given (not the upload workers, which wait for them).  One
 * follower per chunk request: hash_follow_written is called by the thread
 * that writes, hash_follow_finish or hash_follow_cancel by one thread once
 * writing has stopped.
 */
#ifndef VODUP_HASH_FOLLOW_H
#define VODUP_HASH_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"

typedef struct workpool workpool_t;
typedef struct hash_follow hash_follow_t;

/* Follows the bytes written to block `block_id` from offset `start` on,
 * into a new MD5.  NULL when out of memory or the block cannot be read. */
hash_follow_t *hash_follow_start(workpool_t *pool, blob_t *blob, const char *block_id, int64_t start);
/* The same, feeding the bytes, in order, to update(state, ...) instead
 * (false from it counts as a failure); state is the caller's, untouched
 * after hash_follow_end or hash_follow_cancel returns. */
typedef bool (*hash_follow_update_fn)(void *state, const void *data, size_t len);
hash_follow_t *hash_follow_start_with(workpool_t *pool, blob_t *blob, const char *block_id, int64_t start,
                                      hash_follow_update_fn update, void *state);
/* `bytes` more bytes were written, right after the earlier ones. */
void hash_follow_written(hash_follow_t *f, size_t bytes);
/* Writing is over: waits for the hashing thread, hashes what it left,
 * writes the MD5 of every byte written and frees f.  false (f freed too)
 * when reading the block back failed. */
bool hash_follow_finish(hash_follow_t *f, unsigned char md5[16]);
/* The same for a follower of hash_follow_start_with: every byte written
 * has gone to update (true), or a read or an update failed (false). */
bool hash_follow_end(hash_follow_t *f);
/* Writing was abandoned: stops the hashing thread and frees f (NULL: no-op). */
void hash_follow_cancel(hash_follow_t *f);

#endif
