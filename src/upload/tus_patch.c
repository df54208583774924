/*
 * tus_patch: PATCH, and the bytes of any tus request (a PATCH's, or a
 * creation-with-upload POST's).
 *
 * Bytes are written to the upload's block as they arrive (page cache, poll
 * thread, through the slot so a takeover never races a write), then made
 * durable on a worker before the offset is recorded and answered.  With
 * Upload-Checksum they count only when it matches; otherwise the block is
 * cut back.  A request whose client leaves keeps what it received: a job
 * makes it durable and records it, holding the slot meanwhile.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/workpool.h"
#include "upload/quota.h"
#include "upload/tus_internal.h"

/* Room (quota and disk) taken at a time, ahead of the bytes. */
#define TUS_RESERVE_STEP (8 << 20)

void tus_truncate(upload_call_t *call, int64_t offset)
{
    blob_t *blob = call->ctx->blob;
    const char *block = call->u.tus.id.block_id;
    blob_writer_t *w = NULL;
    if (offset == 0)
        blob->ops->block_remove(blob, block);
    else if (blob->ops->block_open(blob, block, offset, &w) == BLOB_OK)
        blob->ops->writer_close(w);
    quota_block_set(call->ctx->quota, block, offset);
}

bool tus_reserve(upload_call_t *call, blob_writer_t *w, int64_t bytes)
{
    upload_tus_state_t *st = &call->u.tus;
    if (bytes <= 0)
        return true;
    if (!upload_quota_take(call, &st->owner, bytes))
        return false;
    st->reserved += bytes;
    int rc = w ? call->ctx->blob->ops->reserve(w, bytes) : BLOB_OK;
    if (rc != BLOB_OK)
        upload_fail_blob(call, rc);
    return rc == BLOB_OK;
}

/* The length the bytes may not pass: this request's Upload-Length, else
 * the upload's (-1: deferred). */
static int64_t tus_length(const upload_call_t *call)
{
    const upload_tus_state_t *st = &call->u.tus;
    return st->new_length >= 0 ? st->new_length : st->row.length;
}

static bool tus_checksum_begin(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    if (st->checksum.alg == TUS_CK_CRC32)
        st->crc = (uint32_t)crc32(0L, Z_NULL, 0);
    if (st->checksum.alg != TUS_CK_SHA1 && st->checksum.alg != TUS_CK_MD5)
        return true;
    st->ck = EVP_MD_CTX_new();
    return st->ck && EVP_DigestInit_ex(st->ck, st->checksum.alg == TUS_CK_SHA1 ? EVP_sha1() : EVP_md5(), NULL);
}

static bool tus_checksum_matches(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    uint8_t got[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (st->checksum.alg == TUS_CK_NONE)
        return true;
    if (st->checksum.alg == TUS_CK_CRC32) {
        for (int i = 0; i < 4; i++)
            got[i] = (uint8_t)(st->crc >> (24 - 8 * i));
        len = 4;
    } else if (!EVP_DigestFinal_ex(st->ck, got, &len)) {
        return false;
    }
    return len == st->checksum.digest_len && memcmp(got, st->checksum.digest, len) == 0;
}

bool tus_bytes_begin(upload_call_t *call, blob_writer_t *w)
{
    upload_tus_state_t *st = &call->u.tus;
    int64_t want = call->req.content_length >= 0 && call->req.content_length < TUS_RESERVE_STEP
                       ? call->req.content_length
                       : TUS_RESERVE_STEP;
    tus_slot_set_writer(st->slot, call, w, st->start, st->checksum.alg != TUS_CK_NONE);
    /* The file's MD5 and etag on a hashing thread, off this poll thread. */
    void *digest = call->ctx->hashers ? tus_slot_lend(st->slot, call) : NULL;
    if (digest) {
        st->follow = hash_follow_start_with(call->ctx->hashers, call->ctx->blob, st->id.block_id, st->start,
                                            tus_slot_digest_update, digest);
        if (!st->follow)
            tus_slot_giveback(st->slot, call, false);
    }
    if (!tus_checksum_begin(call)) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    st->body = true;
    return tus_reserve(call, w, want);
}

/* A refused body: its bytes are dropped and the upload let go now, before
 * the answer, so that the client's next request finds it free. */
static bool tus_body_refused(upload_call_t *call, size_t len)
{
    call->drained = len;
    tus_let_go(call);
    return true;
}

bool tus_body(upload_call_t *call, const char *data, size_t len)
{
    upload_tus_state_t *st = &call->u.tus;
    int64_t end = st->start + call->received + (int64_t)len, length = tus_length(call);
    if (!st->body || (length >= 0 && end > length)) {
        upload_fail(call, 413, "The request carries bytes past Upload-Length.");
        return tus_body_refused(call, len);
    }
    if (!upload_check_size(call, end))
        return tus_body_refused(call, len);
    int64_t need = call->received + (int64_t)len - st->reserved;
    if (need > 0 && !tus_reserve(call, NULL, need > TUS_RESERVE_STEP ? need : TUS_RESERVE_STEP))
        return tus_body_refused(call, len);
    upload_mark_uploading(call);
    if (st->checksum.alg == TUS_CK_CRC32)
        st->crc = (uint32_t)crc32(st->crc, (const Bytef *)data, (uInt)len);
    else if (st->ck)
        EVP_DigestUpdate(st->ck, data, len);
    int rc;
    if (!tus_slot_write(st->slot, call, call->ctx->blob, data, len, &rc)) {
        if (rc == BLOB_OK)
            return false; /* taken over by a newer request: cut this one */
        upload_fail_blob(call, rc);
        return tus_body_refused(call, len);
    }
    if (st->follow)
        hash_follow_written(st->follow, len);
    call->received += (int64_t)len;
    return true;
}

/* The follower stops (end: after the last byte; else at once) and the
 * digest goes back to the slot, kept only when it saw every byte. */
static void tus_follow_stop(upload_call_t *call, bool end)
{
    upload_tus_state_t *st = &call->u.tus;
    if (!st->follow)
        return;
    bool ok = end && hash_follow_end(st->follow);
    if (!end)
        hash_follow_cancel(st->follow);
    st->follow = NULL;
    tus_slot_giveback(st->slot, call, ok);
}

bool tus_bytes_end(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    blob_t *blob = call->ctx->blob;
    blob_writer_t *w = NULL;
    bool mine = tus_slot_finishing(st->slot, call, &w);
    tus_follow_stop(call, mine);
    if (!mine) {
        upload_fail(call, 409, "A newer request took this upload over.");
        return false;
    }
    upload_mark_wait(call);
    if (!w)
        return true;
    if (!tus_checksum_matches(call)) {
        blob->ops->writer_close(w);
        tus_truncate(call, st->start);
        upload_fail(call, 460, "Upload-Checksum does not match the bytes received; nothing was kept.");
        return false;
    }
    int rc = blob->ops->sync(w);
    blob->ops->writer_close(w);
    if (rc != BLOB_OK) {
        tus_truncate(call, st->start);
        upload_fail_blob(call, rc);
    }
    return rc == BLOB_OK;
}

/* ---- PATCH ---- */

/* Upload-Offset, Upload-Checksum, Upload-Length and Content-Type. */
static bool tus_patch_headers(upload_call_t *call, int64_t *offset)
{
    upload_tus_state_t *st = &call->u.tus;
    const char *type = tus_header(call, "content-type");
    const char *ck = tus_header(call, "upload-checksum");
    const char *len = tus_header(call, "upload-length");
    if (!type || strncasecmp(type, TUS_OCTET_STREAM, strlen(TUS_OCTET_STREAM)) != 0) {
        upload_fail(call, 415, "A PATCH carries Content-Type: application/offset+octet-stream.");
        return false;
    }
    if (!tus_parse_size(tus_header(call, "upload-offset"), offset)) {
        upload_fail(call, 400, "Upload-Offset is missing or not a non-negative integer.");
        return false;
    }
    int ckrc = ck ? tus_checksum_parse(ck, &st->checksum) : TUS_CK_OK;
    if (ckrc != TUS_CK_OK) {
        upload_fail(call, 400, ckrc == TUS_CK_UNKNOWN ? "Upload-Checksum names an unsupported algorithm (sha1, md5, crc32)."
                                                      : "Upload-Checksum is malformed.");
        return false;
    }
    if (len && (!tus_parse_size(len, &st->new_length) ||
                (st->row.length >= 0 && st->new_length != st->row.length))) {
        upload_fail(call, 400, "Upload-Length is malformed or differs from the upload's length.");
        return false;
    }
    if (st->row.length >= 0)
        st->new_length = -1;
    return true;
}

/* A deferred length, given now: within the limits and the fileSize. */
static bool tus_patch_length(upload_call_t *call, int64_t offset)
{
    upload_tus_state_t *st = &call->u.tus;
    if (st->new_length < 0)
        return true;
    if (!upload_check_size(call, st->new_length))
        return false;
    bool bad = st->new_length < offset ||
               (st->row.kind == STORE_TUS_SINGLE && call->video.expected_size >= 0 &&
                st->new_length != call->video.expected_size);
    if (bad)
        upload_fail(call, 400, "Upload-Length is below the offset or differs from the registered fileSize.");
    return !bad;
}

/* The writer the bytes go to: the one a takeover handed over when the
 * offset continues it, else the block opened at the durable offset. */
static bool tus_patch_writer(upload_call_t *call, int64_t offset, blob_writer_t **w)
{
    upload_tus_state_t *st = &call->u.tus;
    tus_handover_t *h = &st->handover;
    blob_t *blob = call->ctx->blob;
    int64_t current = h->writer ? h->start + h->written : st->row.offset;
    *w = NULL;
    if (offset != current) {
        upload_fail(call, 409, "Upload-Offset differs from the upload's offset; ask with HEAD.");
        return false;
    }
    if (h->writer) {
        *w = h->writer;
        h->writer = NULL;
        return true;
    }
    int rc = blob->ops->block_open(blob, st->id.block_id, offset, w);
    if (rc == BLOB_BUSY)
        upload_fail(call, 423, "The upload is being written by another request; try again.");
    else if (rc == BLOB_NOT_FOUND || (rc == BLOB_ERROR && offset > 0))
        upload_fail(call, 410, "The upload's bytes are gone (expired).");
    else if (rc != BLOB_OK)
        upload_fail_blob(call, rc);
    return rc == BLOB_OK;
}

void tus_patch_begin(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    int64_t offset = 0;
    if (st->row.kind == STORE_TUS_FINAL) {
        upload_fail(call, 403, "A final upload takes no PATCH.");
        return;
    }
    if (!tus_patch_headers(call, &offset) || !tus_patch_length(call, offset))
        return;
    int rc = tus_slot_claim(call->ctx->tus_slots, st->id.block_id, call, &call->req.cut, false, &st->slot, &st->handover);
    if (rc != TUS_CLAIM_OK) {
        upload_fail(call, rc == TUS_CLAIM_BUSY ? 423 : 500,
                    rc == TUS_CLAIM_BUSY ? "The upload is being completed; try again." : "Internal error.");
        return;
    }
    if (st->handover.writer && st->handover.checked) { /* unchecked bytes: dropped */
        call->ctx->blob->ops->writer_close(st->handover.writer);
        st->handover.writer = NULL;
    }
    store_tus_free(&st->row);
    if (call->ctx->store->ops->tus_get(call->ctx->store, st->id.block_id, &st->row) != STORE_OK) {
        upload_fail(call, 404, "No such upload.");
        return;
    }
    int64_t length = tus_length(call);
    if (length >= 0 && call->req.content_length > 0 && offset + call->req.content_length > length) {
        upload_fail(call, 413, "The request carries bytes past Upload-Length.");
        return;
    }
    blob_writer_t *w = NULL;
    if (st->row.state == STORE_TUS_DONE || call->req.content_length == 0) {
        if (offset != (st->handover.writer ? st->handover.start + st->handover.written : st->row.offset))
            upload_fail(call, 409, "Upload-Offset differs from the upload's offset; ask with HEAD.");
        return; /* no bytes: the work records a length, or completes */
    }
    if (!tus_patch_writer(call, offset, &w))
        return;
    st->start = offset;
    tus_bytes_begin(call, w);
}

void tus_patch_work(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    if (st->body && !tus_bytes_end(call))
        goto out;
    if (st->row.state == STORE_TUS_OPEN && (call->received > 0 || st->new_length >= 0 || st->handover.writer)) {
        if (st->handover.writer) { /* an empty PATCH after a takeover keeps what was handed over */
            blob_t *blob = call->ctx->blob;
            int rc = blob->ops->sync(st->handover.writer);
            st->row.offset = rc == BLOB_OK ? st->handover.start + st->handover.written : st->row.offset;
            blob->ops->writer_close(st->handover.writer);
            st->handover.writer = NULL;
        }
        st->row.offset = st->body ? st->start + call->received : st->row.offset;
        st->row.length = tus_length(call);
        quota_block_set(call->ctx->quota, st->id.block_id, st->row.offset);
        if (!tus_record(call))
            goto out;
    }
    if (tus_needs_completion(&st->row) && !tus_complete(call))
        goto out;
    if (tus_add_number(call, "Upload-Offset", st->row.offset) && tus_add_expires(call, &st->row))
        tus_succeed(call, 204);
    else
        upload_fail(call, 500, "Internal error.");
out:
    tus_slot_release(call->ctx->tus_slots, st->slot, call);
    st->slot = NULL;
}

/* ---- a request whose client left ---- */

typedef struct tus_save {
    const upload_ctx_t *ctx;
    tus_slot_t *slot;
    blob_writer_t *writer;
    char upload_id[BLOB_ID_LEN + 1];
    store_tus_progress_t progress;
} tus_save_t;

static void tus_save_run(void *arg)
{
    tus_save_t *s = arg;
    blob_t *blob = s->ctx->blob;
    store_t *store = s->ctx->store;
    int rc = blob->ops->sync(s->writer);
    blob->ops->writer_close(s->writer);
    if (rc == BLOB_OK) {
        s->progress.now_ms = ids_now_ms();
        int src = store->ops->tus_update(store, s->upload_id, &s->progress);
        if (src != STORE_OK)
            log_warn("tus: upload %s: the bytes of a dropped request were not recorded: %s", s->upload_id,
                     store_rc_name(src));
        else
            quota_block_set(s->ctx->quota, s->upload_id, s->progress.offset);
    }
    tus_slot_release(s->ctx->tus_slots, s->slot, s);
    free(s);
}

/* Queues the job that keeps the bytes a writer holds up to `offset` (a
 * left PATCH's, or what a takeover handed over and nothing used); false:
 * not queued. */
static bool tus_save(upload_call_t *call, blob_writer_t *w, int64_t offset)
{
    upload_tus_state_t *st = &call->u.tus;
    tus_save_t *s = calloc(1, sizeof(*s));
    if (!s)
        return false;
    *s = (tus_save_t){call->ctx, st->slot, w, "", {offset, tus_length(call), STORE_TUS_OPEN, 0}};
    memcpy(s->upload_id, st->id.block_id, sizeof(s->upload_id));
    tus_slot_pass(st->slot, call, s);
    if (!workpool_submit(call->ctx->workers, tus_save_run, s)) {
        tus_slot_pass(st->slot, s, call);
        free(s);
        return false;
    }
    st->slot = NULL; /* the job releases it */
    return true;
}

void tus_patch_abandon(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    blob_writer_t *w = NULL;
    tus_follow_stop(call, false);
    if (!tus_slot_finishing(st->slot, call, &w) || !w)
        return;
    bool keep = st->method == TUS_M_PATCH && st->have_row && !call->failed && st->checksum.alg == TUS_CK_NONE &&
                call->received > 0;
    if (keep && tus_save(call, w, st->start + call->received))
        return;
    call->ctx->blob->ops->writer_close(w);
    tus_truncate(call, st->start);
}

void tus_handover_keep(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    tus_handover_t *h = &st->handover;
    if (!h->writer)
        return;
    blob_writer_t *w = h->writer;
    h->writer = NULL;
    if (st->slot && st->have_row && !h->checked && h->written > 0 && tus_save(call, w, h->start + h->written))
        return;
    call->ctx->blob->ops->writer_close(w); /* the next writer cuts the block back */
}
