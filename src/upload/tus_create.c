/*
 * tus_create: POST /files/, the creation of a tus upload (creation,
 * creation-with-upload, creation-defer-length, concatenation).
 *
 * The headers are checked and the token verified before any byte is read;
 * the new upload gets a block id that names its owner (quota.h) and a
 * signed id (tus_id.h).  On the worker the row is written (with the bytes
 * of a creation-with-upload, once durable), and an upload that is complete
 * already (all bytes in the POST, a zero length, a final concatenation)
 * is published before the 201.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ids.h"
#include "upload/quota.h"
#include "upload/tus_internal.h"

/* Upload-Concat, Upload-Length / Upload-Defer-Length, Upload-Metadata. */
static bool tus_create_headers(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    const char *concat = tus_header(call, "upload-concat"), *len = tus_header(call, "upload-length");
    const char *defer = tus_header(call, "upload-defer-length"), *meta = tus_header(call, "upload-metadata");
    const char *why = NULL;
    if (concat && !tus_concat_parse(concat, &st->concat))
        why = "Upload-Concat is malformed (partial, or final;<upload URL> ...).";
    else if (meta && !tus_metadata_valid(meta))
        why = "Upload-Metadata is malformed or longer than 4096 bytes.";
    else if (st->concat.kind == TUS_CONCAT_FINAL && (len || defer))
        why = "A final upload takes neither Upload-Length nor Upload-Defer-Length.";
    else if (st->concat.kind != TUS_CONCAT_FINAL && !len == !defer)
        why = "Send exactly one of Upload-Length and Upload-Defer-Length.";
    else if (defer && strcmp(defer, "1") != 0)
        why = "Upload-Defer-Length must be 1.";
    else if (len && !tus_parse_size(len, &st->row.length))
        why = "Upload-Length is not a non-negative integer.";
    if (why) {
        upload_fail(call, 400, why);
        return false;
    }
    st->row.length = len ? st->row.length : -1;
    st->row.kind = st->concat.kind == TUS_CONCAT_FINAL     ? STORE_TUS_FINAL
                   : st->concat.kind == TUS_CONCAT_PARTIAL ? STORE_TUS_PARTIAL
                                                           : STORE_TUS_SINGLE;
    st->metadata = meta && meta[0] ? strdup(meta) : NULL;
    st->concat_text = st->row.kind == STORE_TUS_FINAL ? strdup(concat) : NULL;
    if ((meta && meta[0] && !st->metadata) || (st->row.kind == STORE_TUS_FINAL && !st->concat_text)) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    return true;
}

/* The token, with the metadata's `key` for a token whose scope has none. */
static bool tus_create_authorise(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    buf_t key;
    buf_init(&key, 0);
    bool has_key = st->metadata && tus_metadata_get(st->metadata, "key", &key) && buf_append(&key, "", 1) &&
                   !memchr(key.data, '\0', key.len - 1);
    bool ok = tus_verify_token(call, has_key ? key.data : NULL);
    buf_free(&key);
    return ok;
}

/* Overwrite, sizes and fileSize, and the media type. */
static bool tus_create_checks(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    int64_t length = st->row.length;
    if (st->row.kind != STORE_TUS_PARTIAL && !upload_check_overwrite(call))
        return false;
    if (st->row.kind == STORE_TUS_SINGLE && length >= 0 && call->video.expected_size >= 0 &&
        length != call->video.expected_size) {
        upload_fail(call, 400, "Upload-Length differs from the fileSize registered with getUploadToken.");
        return false;
    }
    if (length >= 0 && !upload_check_size(call, length))
        return false;
    buf_t type;
    buf_init(&type, 0);
    if (st->metadata && tus_metadata_get(st->metadata, "filetype", &type))
        upload_set_mime_type(call, type.data ? type.data : "", type.len);
    buf_free(&type);
    return true;
}

/* The new upload's ids: its block (owned by the token) and its signed id. */
static bool tus_create_ids(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    st->id.kind = st->row.kind;
    st->owner = call->owner;
    if (!block_id_make(&call->owner, st->id.block_id) ||
        !block_ctx_key_hash(call->key.bucket, call->file_key, st->id.key_hash) ||
        !tus_id_encode(&st->id, call->ctx->ctx_secret, st->id_text)) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    return true;
}

/* A creation-with-upload's bytes: checked headers, a claimed slot and the
 * new block open for them. */
static void tus_create_body(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    const char *type = tus_header(call, "content-type");
    const char *ck = tus_header(call, "upload-checksum");
    if (!type || strncasecmp(type, TUS_OCTET_STREAM, strlen(TUS_OCTET_STREAM)) != 0) {
        upload_fail(call, 415, "Upload bytes in a POST carry Content-Type: application/offset+octet-stream.");
        return;
    }
    if (st->row.kind == STORE_TUS_FINAL) {
        upload_fail(call, 400, "A final upload carries no bytes.");
        return;
    }
    int ckrc = ck ? tus_checksum_parse(ck, &st->checksum) : TUS_CK_OK;
    if (ckrc != TUS_CK_OK) {
        upload_fail(call, 400, ckrc == TUS_CK_UNKNOWN ? "Upload-Checksum names an unsupported algorithm (sha1, md5, crc32)."
                                                      : "Upload-Checksum is malformed.");
        return;
    }
    if (st->row.length >= 0 && call->req.content_length > st->row.length) {
        upload_fail(call, 413, "The request carries bytes past Upload-Length.");
        return;
    }
    blob_t *blob = call->ctx->blob;
    blob_writer_t *w = NULL;
    tus_handover_t none;
    if (tus_slot_claim(call->ctx->tus_slots, st->id.block_id, call, &call->req.cut, false, &st->slot, &none) != TUS_CLAIM_OK) {
        upload_fail(call, 500, "Internal error.");
        return;
    }
    int rc = blob->ops->block_open(blob, st->id.block_id, 0, &w);
    if (rc != BLOB_OK) {
        upload_fail_blob(call, rc);
        return;
    }
    st->start = 0;
    tus_bytes_begin(call, w);
}

void tus_create_begin(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    if (!tus_create_headers(call) || !tus_create_authorise(call) || !tus_create_checks(call) ||
        !tus_create_ids(call))
        return;
    tus_id_t *ids = NULL;
    if (st->row.kind == STORE_TUS_FINAL && !tus_final_parts(call, &st->concat, &ids))
        return;
    free(ids);
    if (call->req.content_length != 0)
        tus_create_body(call);
}

/* An empty upload's block, so that completion finds one. */
static bool tus_create_empty(upload_call_t *call)
{
    blob_t *blob = call->ctx->blob;
    blob_writer_t *w = NULL;
    int rc = blob->ops->block_open(blob, call->u.tus.id.block_id, 0, &w);
    if (rc == BLOB_OK) {
        rc = blob->ops->sync(w);
        blob->ops->writer_close(w);
    }
    if (rc != BLOB_OK)
        upload_fail_blob(call, rc);
    return rc == BLOB_OK;
}

/* A final upload's length: the sum of its parts, within the limits. */
static bool tus_create_final_length(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    store_t *store = call->ctx->store;
    tus_id_t *ids = NULL;
    bool ok = tus_final_parts(call, &st->concat, &ids);
    int64_t total = 0;
    for (size_t i = 0; ok && i < st->concat.count; i++) {
        store_tus_t part;
        int rc = store->ops->tus_get(store, ids[i].block_id, &part);
        ok = rc == STORE_OK && part.account_id == call->key.account_id && part.state == STORE_TUS_OPEN &&
             part.length >= 0 && part.offset == part.length;
        total += ok ? part.length : 0;
        if (rc == STORE_OK)
            store_tus_free(&part);
        if (!ok)
            upload_fail(call, 400, "Upload-Concat names a partial upload that is unfinished, joined already or gone.");
    }
    free(ids);
    if (!ok || !upload_check_size(call, total))
        return false;
    if (call->video.expected_size >= 0 && total != call->video.expected_size) {
        upload_fail(call, 400, "The parts' total differs from the fileSize registered with getUploadToken.");
        return false;
    }
    st->row.length = st->row.offset = total;
    return true;
}

static bool tus_create_record(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    store_tus_t *row = &st->row;
    memcpy(row->upload_id, st->id.block_id, sizeof(row->upload_id));
    row->account_id = call->key.account_id;
    row->file_key = strdup(call->file_key);
    row->metadata = st->metadata ? strdup(st->metadata) : NULL;
    row->parts = st->concat_text ? strdup(st->concat_text) : NULL;
    row->state = STORE_TUS_OPEN;
    row->created_ms = row->updated_ms = ids_now_ms();
    st->have_row = true;
    store_t *store = call->ctx->store;
    int rc = row->file_key ? store->ops->tus_create(store, row, call->ctx->cfg->max_tus_uploads_per_file) : STORE_ERROR;
    if (rc == STORE_CONFLICT)
        upload_fail(call, 403,
                    "This fileKey has max-tus-uploads-per-file unfinished tus uploads: finish or terminate "
                    "(DELETE) one, or let one expire, before creating another.");
    else if (rc != STORE_OK)
        upload_fail_store(call, rc == STORE_UNAVAILABLE ? rc : STORE_ERROR);
    return rc == STORE_OK;
}

static void tus_create_answer(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    char location[TUS_ID_TEXT_LEN + 8];
    snprintf(location, sizeof(location), "%s%s", st->trailing_slash ? "" : "files/", st->id_text);
    call->location = strdup(location);
    if (call->location && tus_add_number(call, "Upload-Offset", st->row.offset) && tus_add_expires(call, &st->row))
        tus_succeed(call, 201);
    else
        upload_fail(call, 500, "Internal error.");
}

void tus_create_work(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    bool ok = true;
    if (st->row.kind == STORE_TUS_FINAL)
        ok = tus_create_final_length(call);
    else if (st->body)
        ok = tus_bytes_end(call);
    else if (st->row.length == 0)
        ok = tus_create_empty(call);
    if (ok && st->row.kind != STORE_TUS_FINAL)
        st->row.offset = call->received;
    if (ok && !tus_create_record(call)) {
        if (st->row.kind != STORE_TUS_FINAL)
            tus_truncate(call, 0);
        ok = false;
    }
    if (ok && st->row.kind != STORE_TUS_FINAL)
        quota_block_set(call->ctx->quota, st->id.block_id, st->row.offset);
    if (ok && tus_needs_completion(&st->row))
        ok = tus_complete(call);
    if (ok)
        tus_create_answer(call);
    if (st->slot) {
        tus_slot_release(call->ctx->tus_slots, st->slot, call);
        st->slot = NULL;
    }
}
