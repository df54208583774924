/*
 * assemble: publishing blocks as a file, the completion that mkfile and
 * tus share (upload_internal.h): the blocks are staged as the parts of an
 * object (no copy), hashed (MD5 for the registry and fileMd5, SHA-1 pieces
 * for the etag; what the digest thread hashed already is taken, the rest
 * read back) and published.  Block names are removed only after the
 * registry row is written, so a crash at any point leaves them for a retry.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"
#include "upload/digest.h"
#include "upload/upload_internal.h"

#define ASSEMBLE_COPY_BUFFER (1 << 20) /* read size while hashing */

/* Feeds blocks[from .. to), in file order, to `update`. */
static bool assemble_read_blocks(blob_t *blob, const block_ctx_t *blocks, size_t from, size_t to, char *buffer,
                               bool (*update)(void *state, const void *data, size_t len), void *state)
{
    for (size_t i = from; i < to; i++) {
        blob_reader_t *reader = NULL;
        if (blob->ops->block_read_open(blob, blocks[i].block_id, &reader) != BLOB_OK)
            return false;
        bool ok = true;
        for (int64_t off = 0; ok && off < blocks[i].offset;) {
            int64_t left = blocks[i].offset - off;
            size_t want = left > ASSEMBLE_COPY_BUFFER ? ASSEMBLE_COPY_BUFFER : (size_t)left;
            int64_t n = blob->ops->read_at(reader, buffer, want, off);
            ok = n > 0 && update(state, buffer, (size_t)n);
            off += n;
        }
        blob->ops->reader_close(reader);
        if (!ok)
            return false;
    }
    return true;
}

static bool assemble_md5_update(void *state, const void *data, size_t len)
{
    return EVP_DigestUpdate(state, data, len) == 1;
}

static bool assemble_etag_update(void *state, const void *data, size_t len)
{
    return etag_update(state, data, len);
}

/* The hashing left to do after what the digest thread did. */
typedef struct assemble_hashing {
    upload_call_t *call;
    const block_ctx_t *blocks;
    size_t count;
    digest_known_t known;
    char *buffer; /* the etag half's own read buffer */
    bool etag_ok;
} assemble_hashing_t;

/* The etag: the digest thread's piece digests where a block starts and
 * ends on piece boundaries (blocks are 4 MiB multiples but the last), the
 * block's bytes otherwise. */
static bool assemble_etag(assemble_hashing_t *h)
{
    blob_t *blob = h->call->ctx->blob;
    int64_t at = 0;
    for (size_t i = 0; i < h->count; i++) {
        int64_t len = h->blocks[i].offset;
        bool aligned = at % (int64_t)ETAG_PIECE_SIZE == 0 &&
                       (i + 1 == h->count || len % (int64_t)ETAG_PIECE_SIZE == 0);
        const uint8_t *pieces = h->known.pieces[i];
        if (pieces && aligned) {
            for (int64_t off = 0, p = 0; off < len || (len == 0 && p == 0); off += (int64_t)ETAG_PIECE_SIZE, p++) {
                int64_t piece = len - off < (int64_t)ETAG_PIECE_SIZE ? len - off : (int64_t)ETAG_PIECE_SIZE;
                if (!etag_add_piece(&h->call->etag, pieces + p * DIGEST_SHA1_LEN, (size_t)piece))
                    return false;
            }
        } else if (!assemble_read_blocks(blob, h->blocks, i, i + 1, h->buffer, assemble_etag_update, &h->call->etag)) {
            return false;
        }
        at += len;
    }
    return true;
}

static void *assemble_etag_main(void *arg)
{
    assemble_hashing_t *h = arg;
    h->etag_ok = assemble_etag(h);
    return NULL;
}

/*
 * Hashes the frozen blocks: MD5 (registry, fileMd5) and the etag's SHA-1
 * pieces.  The digest thread has usually hashed all but the last block or
 * two while they arrived; what it has not, this reads back: MD5 here and
 * the etag on a second thread, so the client waits for the slower of the
 * two rather than their sum.
 */
static bool assemble_hash_blocks(upload_call_t *call, const block_ctx_t *blocks, size_t count, char *buffer)
{
    assemble_hashing_t h = {.call = call, .blocks = blocks, .count = count};
    bool ok = false;
    if (!digest_take(call->ctx->digests, blocks, count, call->md5, &h.known))
        goto out;
    h.buffer = malloc(ASSEMBLE_COPY_BUFFER);
    pthread_t thread;
    bool threaded = h.buffer && pthread_create(&thread, NULL, assemble_etag_main, &h) == 0;
    ok = assemble_read_blocks(call->ctx->blob, blocks, h.known.md5_blocks, count, buffer, assemble_md5_update,
                              call->md5);
    if (threaded) {
        pthread_join(thread, NULL);
    } else {
        /* No second thread: the etag after the MD5, in its own buffer or, failing that, the MD5's. */
        char *own = h.buffer;
        h.buffer = own ? own : buffer;
        h.etag_ok = assemble_etag(&h);
        h.buffer = own;
    }
    ok = ok && h.etag_ok;
out:
    free(h.buffer);
    digest_known_free(&h.known, count);
    if (!ok) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    return true;
}

/* Blocks that cannot be staged, in the words of the route that asked: the
 * block protocol's 412, or tus's 410 (expired) and 423 (retry); 412 means
 * something else to a tus client (Tus-Resumable). */
static void assemble_refuse(upload_call_t *call, bool busy)
{
    if (call->req.route == UPLOAD_ROUTE_TUS)
        upload_fail(call, busy ? 423 : 410,
                    busy ? "The upload is being written by another request; try again."
                         : "The upload's bytes are gone (expired).");
    else
        upload_fail(call, 412, busy ? "mkfile: a block is still being written."
                                    : "mkfile: a block is gone (swept or never stored); upload it again.");
}

/* The MD5 (hex) and etag of the frozen blocks; false with the call's error. */
static bool assemble_hashes(upload_call_t *call, const block_ctx_t *blocks, size_t count, char *buffer,
                            char md5_hex[33], char etag[ETAG_LEN + 1])
{
    unsigned char md5[EVP_MAX_MD_SIZE];
    unsigned int md5_len = 0;
    if (!assemble_hash_blocks(call, blocks, count, buffer))
        return false;
    if (!EVP_DigestFinal_ex(call->md5, md5, &md5_len) || !etag_final(&call->etag, etag)) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    encoding_hex(md5, 16, md5_hex);
    return true;
}

/*
 * The blocks become the object's parts without a copy: staging freezes
 * them (no chunk can change them any more), then they are hashed and the
 * object published (`known`: their hashes, computed while they arrived).
 * Blocks stay usable for a retry until the registry row is written; a
 * refused object (fileMd5) unfreezes them.
 */
bool upload_assemble(upload_call_t *call, const block_ctx_t *blocks, size_t count, const upload_hashes_t *known,
                     char etag[ETAG_LEN + 1])
{
    blob_t *blob = call->ctx->blob;
    bool ok = false;
    char *buffer = malloc(ASSEMBLE_COPY_BUFFER);
    const char **ids = calloc(count ? count : 1, sizeof(*ids));
    int64_t *lengths = calloc(count ? count : 1, sizeof(*lengths));
    if (!buffer || !ids || !lengths || !upload_hash_begin(call, true)) {
        upload_fail(call, 500, "Internal error.");
        goto out;
    }
    for (size_t i = 0; i < count; i++) {
        ids[i] = blocks[i].block_id;
        lengths[i] = blocks[i].offset;
    }
    int rc = blob->ops->object_stage_blocks(blob, ids, lengths, count, &call->writer);
    if (rc == BLOB_NOT_FOUND || rc == BLOB_BUSY) {
        assemble_refuse(call, rc == BLOB_BUSY);
        goto out;
    }
    if (rc != BLOB_OK) {
        upload_fail_blob(call, rc);
        goto out;
    }
    char md5_hex[33];
    if (known) {
        memcpy(md5_hex, known->md5_hex, sizeof(md5_hex));
        memcpy(etag, known->etag, ETAG_LEN + 1);
    } else if (!assemble_hashes(call, blocks, count, buffer, md5_hex, etag)) {
        goto out;
    }
    int64_t size = 0;
    for (size_t i = 0; i < count; i++)
        size += blocks[i].offset;
    if (!upload_publish(call, md5_hex, etag, size))
        goto out;
    for (size_t i = 0; i < count; i++) {
        blob->ops->block_remove(blob, blocks[i].block_id);
        quota_block_set(call->ctx->quota, blocks[i].block_id, 0);
    }
    ok = true;
out:
    free(buffer);
    free(ids);
    free(lengths);
    return ok;
}
