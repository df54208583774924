/*
 * block: /mkblk and /bput, the chunks of the breakpoint-resume protocol.
 *
 * A chunk is written to its block in the blob store as it arrives (page
 * cache, poll thread), then made durable on a worker before the answer, so
 * a ctx the client receives always names bytes that survive a crash.
 * Re-sending a chunk with an earlier ctx (a client that lost an answer)
 * cuts the block back to that acknowledged offset.
 */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/encoding.h"
#include "common/log.h"
#include "upload/digest.h"
#include "upload/upload_internal.h"

/* Room (quota and disk) a chunk takes at a time, ahead of its bytes. */
#define BLOCK_RESERVE_STEP (8 << 20)

/* The request's Key header (url-safe base64 of the key), decoded; NULL when absent or malformed. */
static char *block_header_key(upload_call_t *call)
{
    const char *h = call->req.header(call->req.header_arg, "key");
    return h && h[0] ? upload_b64_text(h, strlen(h)) : NULL;
}

static bool block_authorise(upload_call_t *call)
{
    const char *auth = call->req.header(call->req.header_arg, "authorization");
    char *request_key = block_header_key(call);
    bool ok = upload_auth_verify(call, auth ? auth : "", auth ? strlen(auth) : 0, request_key);
    free(request_key);
    return ok;
}

/* Takes `bytes` more room for the chunk: quota first, then disk. */
static bool block_reserve(upload_call_t *call, int64_t bytes)
{
    upload_block_state_t *st = &call->u.block;
    if (bytes <= 0)
        return true;
    if (!upload_quota_take(call, &st->owner, bytes))
        return false;
    st->reserved += bytes;
    int rc = call->ctx->blob->ops->reserve(call->writer, bytes);
    if (rc != BLOB_OK) {
        upload_fail_blob(call, rc);
        return false;
    }
    return true;
}

static void block_begin_mkblk(upload_call_t *call, const char *args)
{
    upload_block_state_t *st = &call->u.block;
    const char *slash = strchr(args, '/');
    size_t size_len = slash ? (size_t)(slash - args) : strlen(args);
    int64_t block_size = 0, index = -1;
    if (!upload_parse_uint(args, size_len, &block_size) || block_size <= 0) {
        upload_fail(call, 400, "mkblk: the block size must be a positive integer.");
        return;
    }
    if (slash && slash[1]) {
        const char *idx = slash + 1;
        size_t idx_len = strcspn(idx, "/");
        if (!upload_parse_uint(idx, idx_len, &index) || index > INT32_MAX) {
            upload_fail(call, 400, "mkblk: the block index must be a non-negative integer.");
            return;
        }
    }
    if (!block_authorise(call))
        return;
    if (block_size > call->ctx->cfg->max_block_size) {
        upload_fail(call, 400, "mkblk: the block size is larger than the server allows.");
        return;
    }
    /* A block larger than the whole file could only be refused at mkfile. */
    if (!upload_check_size(call, block_size))
        return;
    /* The id names the block's owner, so its bytes are charged to it even
     * after a restart (quota.h). */
    if (!block_ctx_key_hash(call->key.bucket, call->file_key, st->ctx.key_hash) ||
        !block_id_make(&call->owner, st->ctx.block_id)) {
        upload_fail(call, 500, "Internal error.");
        return;
    }
    st->ctx.index = (int32_t)index;
    st->ctx.block_size = block_size;
    st->start = 0;
}

static void block_begin_bput(upload_call_t *call, const char *args)
{
    upload_block_state_t *st = &call->u.block;
    const char *slash = strchr(args, '/');
    int64_t offset = 0;
    if (!slash || !upload_parse_uint(slash + 1, strlen(slash + 1), &offset)) {
        upload_fail(call, 400, "bput: expected /bput/<ctx>/<offset>.");
        return;
    }
    if (!block_authorise(call))
        return;
    uint8_t key_hash[8];
    if (!block_ctx_decode(args, (size_t)(slash - args), call->ctx->ctx_secret, &st->ctx)) {
        upload_fail(call, 701, "bput: the ctx is not valid.");
        return;
    }
    if (!block_ctx_key_hash(call->key.bucket, call->file_key, key_hash)) {
        upload_fail(call, 500, "Internal error.");
        return;
    }
    if (memcmp(key_hash, st->ctx.key_hash, sizeof(key_hash)) != 0) {
        upload_fail(call, 701, "bput: the ctx belongs to another file.");
        return;
    }
    if (offset != st->ctx.offset) {
        upload_fail(call, 701, "bput: the offset does not match the ctx.");
        return;
    }
    st->start = offset;
}

void block_begin(upload_call_t *call)
{
    upload_block_state_t *st = &call->u.block;
    const char *path = call->req.path;
    if (call->req.route == UPLOAD_ROUTE_MKBLK)
        block_begin_mkblk(call, path + strlen("/mkblk/"));
    else
        block_begin_bput(call, path + strlen("/bput/"));
    if (call->failed)
        return;
    int64_t room = st->ctx.block_size - st->start;
    if (call->req.content_length > room) {
        upload_fail(call, 400, "The chunk is larger than what is left of its block.");
        return;
    }
    block_id_owner(st->ctx.block_id, &st->owner);
    blob_t *blob = call->ctx->blob;
    /* Before the bytes can change: an earlier background hash of this block is void. */
    st->digest_gen = digest_block_opened(call->ctx->digests, st->ctx.block_id);
    int rc = blob->ops->block_open(blob, st->ctx.block_id, st->start, &call->writer);
    if (rc != BLOB_OK) {
        if (call->req.route == UPLOAD_ROUTE_BPUT && (rc == BLOB_NOT_FOUND || rc == BLOB_ERROR))
            upload_fail(call, 701, "bput: the block is gone or shorter than the ctx says; upload it again.");
        else
            upload_fail_blob(call, rc);
        return;
    }
    /* Room for the chunk's first step (a usual 4 MiB chunk whole): a full
     * disk or a spent quota is refused before any byte, and a client that
     * declares much and sends little holds about what it sent. */
    int64_t want = call->req.content_length >= 0 && call->req.content_length < BLOCK_RESERVE_STEP
                       ? call->req.content_length
                       : BLOCK_RESERVE_STEP;
    if (!block_reserve(call, want < room ? want : room))
        return;
    if (call->ctx->hashers)
        st->follow = hash_follow_start(call->ctx->hashers, blob, st->ctx.block_id, st->start);
    if (!st->follow && !upload_hash_begin(call, false)) {
        upload_fail(call, 500, "Internal error.");
        return;
    }
    st->crc32 = (uint32_t)crc32(0L, Z_NULL, 0);
}

bool block_body(upload_call_t *call, const char *data, size_t len)
{
    upload_block_state_t *st = &call->u.block;
    int64_t room = st->ctx.block_size - st->start;
    if (call->received + (int64_t)len > room) {
        upload_fail(call, 400, "The chunk is larger than what is left of its block.");
        call->drained = len;
        return true;
    }
    int64_t need = call->received + (int64_t)len - st->reserved;
    if (need > 0) { /* the next step, never past the block */
        int64_t step = need > BLOCK_RESERVE_STEP ? need : BLOCK_RESERVE_STEP;
        if (!block_reserve(call, step < room - st->reserved ? step : room - st->reserved)) {
            call->drained = len;
            return true;
        }
    }
    upload_mark_uploading(call);
    st->crc32 = (uint32_t)crc32(st->crc32, (const Bytef *)data, (uInt)len);
    if (upload_payload(call, data, len) && st->follow)
        hash_follow_written(st->follow, len);
    return true;
}

static void block_work(upload_call_t *call)
{
    upload_block_state_t *st = &call->u.block;
    blob_t *blob = call->ctx->blob;
    upload_mark_wait(call); /* an answered chunk has its video "uploading" already */
    int rc = blob->ops->sync(call->writer); /* while the hashing thread finishes the MD5 */
    blob->ops->writer_close(call->writer);
    call->writer = NULL;
    if (rc != BLOB_OK) {
        upload_fail_blob(call, rc);
        return;
    }
    st->ctx.offset = st->start + call->received;
    char text[BLOCK_CTX_TEXT_LEN + 1];
    unsigned char md5[EVP_MAX_MD_SIZE];
    unsigned int md5_len = 0;
    char md5_hex[33];
    bool hashed = st->follow ? hash_follow_finish(st->follow, md5) : EVP_DigestFinal_ex(call->md5, md5, &md5_len) == 1;
    st->follow = NULL;
    if (!hashed || !block_ctx_encode(&st->ctx, call->ctx->ctx_secret, text)) {
        upload_fail(call, 500, "Internal error.");
        return;
    }
    encoding_hex(md5, 16, md5_hex);
    quota_block_set(call->ctx->quota, st->ctx.block_id, st->ctx.offset);
    if (st->ctx.offset == st->ctx.block_size)
        digest_block_done(call->ctx->digests, &st->ctx, st->digest_gen);
    upload_succeed_json(call, json_pack("{s:s,s:I,s:I,s:s}", "ctx", text, "offset", (json_int_t)st->ctx.offset,
                                        "crc32", (json_int_t)st->crc32, "checksum", md5_hex));
}

void block_discard(upload_call_t *call)
{
    /* A refused chunk gives back what it wrote: a new block goes, an older
     * one is cut back to its acknowledged offset.  Otherwise a full disk
     * would stay full of bytes nobody can use until the sweep. */
    upload_block_state_t *st = &call->u.block;
    blob_t *blob = call->ctx->blob;
    if (!call->writer)
        return;
    /* Opening cut the block to st->start already: that is what it holds
     * for the ledger, whatever an earlier, longer ctx said. */
    quota_block_set(call->ctx->quota, st->ctx.block_id, st->start);
    if (call->received == 0 && st->start > 0)
        return; /* a new block goes even when empty: nothing will name it */
    blob->ops->writer_close(call->writer);
    call->writer = NULL;
    if (st->start == 0) {
        blob->ops->block_remove(blob, st->ctx.block_id);
    } else if (blob->ops->block_open(blob, st->ctx.block_id, st->start, &call->writer) == BLOB_OK) {
        blob->ops->writer_close(call->writer);
        call->writer = NULL;
    }
}

void block_free(upload_call_t *call)
{
    upload_block_state_t *st = &call->u.block;
    hash_follow_cancel(st->follow);
    st->follow = NULL;
    /* Refused, or the client left before its answer: what it wrote was
     * never acknowledged, so it goes (and with it the room it held). */
    if (call->writer)
        block_discard(call);
    quota_give(call->ctx->quota, &st->owner, st->reserved);
    st->reserved = 0;
}

void block_finish(upload_call_t *call)
{
    if (call->received == 0) {
        upload_fail(call, 400, "The chunk is empty.");
        return;
    }
    call->work = block_work;
}
