/*
 * tus: tus 1.0 at /files/ (docs/upload.md, "tus 1.0 uploads"): the request
 * dispatch, OPTIONS, HEAD, DELETE, and completion, which is mkfile's
 * (upload_assemble).  POST is tus_create.c, PATCH tus_patch.c.
 *
 * An upload is a blob block named by its signed id (tus_id.h) and a store
 * row holding its durable offset, length, metadata and parts.  Each
 * request that may change an upload first claims its slot (tus_slot.h),
 * taking it over from a PATCH still open on a dead connection.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/ids.h"
#include "common/log.h"
#include "upload/callback.h"
#include "upload/quota.h"
#include "upload/tus_internal.h"

#define TUS_EXTENSIONS \
    "creation,creation-with-upload,creation-defer-length,expiration,checksum,termination,concatenation"

const char *tus_header(const upload_call_t *call, const char *name)
{
    return call->req.header(call->req.header_arg, name);
}

int64_t tus_expires_ms(const upload_call_t *call, const store_tus_t *row)
{
    return row->updated_ms + call->ctx->cfg->block_max_age * 1000;
}

bool tus_add_expires(upload_call_t *call, const store_tus_t *row)
{
    if (row->state != STORE_TUS_OPEN)
        return true;
    char date[40];
    tus_http_date(tus_expires_ms(call, row), date);
    return upload_add_header(call, "Upload-Expires", date);
}

bool tus_add_number(upload_call_t *call, const char *name, int64_t v)
{
    char text[24];
    snprintf(text, sizeof(text), "%lld", (long long)v);
    return upload_add_header(call, name, text);
}

void tus_succeed(upload_call_t *call, int status)
{
    call->status = status;
    buf_reset(&call->body);
    call->content_type = "text/plain; charset=utf-8";
}

bool tus_needs_completion(const store_tus_t *row)
{
    return row->state == STORE_TUS_OPEN && row->kind != STORE_TUS_PARTIAL && row->length >= 0 &&
           row->offset == row->length;
}

bool tus_record(upload_call_t *call)
{
    store_tus_t *row = &call->u.tus.row;
    row->updated_ms = ids_now_ms();
    store_tus_progress_t p = {row->offset, row->length, row->state, row->updated_ms};
    store_t *store = call->ctx->store;
    int rc = store->ops->tus_update(store, row->upload_id, &p);
    if (rc != STORE_OK)
        upload_fail_store(call, rc == STORE_NOT_FOUND ? STORE_ERROR : rc);
    return rc == STORE_OK;
}

static int tus_method(const upload_call_t *call)
{
    static const struct {
        const char *name;
        int method;
    } methods[] = {{"OPTIONS", TUS_M_OPTIONS}, {"POST", TUS_M_POST}, {"HEAD", TUS_M_HEAD},
                   {"PATCH", TUS_M_PATCH},     {"DELETE", TUS_M_DELETE}};
    const char *m = call->req.method ? call->req.method : "";
    const char *override = tus_header(call, "x-http-method-override");
    if (strcmp(m, "POST") == 0 && override && override[0])
        m = override;
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].method;
    return TUS_M_OTHER;
}

static void tus_options(upload_call_t *call)
{
    char max[24];
    snprintf(max, sizeof(max), "%lld", (long long)call->ctx->cfg->max_upload_size);
    if (!upload_add_header(call, "Tus-Version", "1.0.0") || !upload_add_header(call, "Tus-Extension", TUS_EXTENSIONS) ||
        !upload_add_header(call, "Tus-Max-Size", max) ||
        !upload_add_header(call, "Tus-Checksum-Algorithm", "sha1,md5,crc32")) {
        upload_fail(call, 500, "Internal error.");
        return;
    }
    tus_succeed(call, 204);
}

void tus_answer_headers(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    if (call->status == 412 && !st->version_told && st->method != TUS_M_OPTIONS)
        st->version_told = upload_add_header(call, "Tus-Version", "1.0.0");
}

/* ---- the upload of a /files/<id> request ---- */

bool tus_verify_token(upload_call_t *call, const char *request_key)
{
    const char *auth = tus_header(call, "authorization");
    if (upload_auth_verify(call, auth ? auth : "", auth ? strlen(auth) : 0, request_key))
        return true;
    if (call->status == 631) { /* the WCS code for a foreign bucket: tus clients know 403 */
        call->failed = false;
        upload_fail(call, 403, "The upload token's bucket is not its account's.");
    }
    return false;
}


/* The id decoded, the row read, the token verified and matched to it. */
static bool tus_resource_load(upload_call_t *call, const char *id)
{
    upload_tus_state_t *st = &call->u.tus;
    store_t *store = call->ctx->store;
    if (!tus_id_decode(id, strlen(id), call->ctx->ctx_secret, &st->id)) {
        upload_fail(call, 404, "No such upload.");
        return false;
    }
    snprintf(st->id_text, sizeof(st->id_text), "%s", id);
    int rc = store->ops->tus_get(store, st->id.block_id, &st->row);
    if (rc != STORE_OK) {
        upload_fail(call, rc == STORE_NOT_FOUND ? 404 : 500, rc == STORE_NOT_FOUND ? "No such upload." : "Internal error.");
        return false;
    }
    st->have_row = true;
    if (!tus_verify_token(call, st->row.file_key)) /* the key: the scope's, else the upload's own */
        return false;
    uint8_t key_hash[8];
    if (!block_ctx_key_hash(call->key.bucket, call->file_key, key_hash) ||
        memcmp(key_hash, st->id.key_hash, sizeof(key_hash)) != 0 || st->row.account_id != call->key.account_id) {
        upload_fail(call, 403, "The upload belongs to another file than the token's.");
        return false;
    }
    block_id_owner(st->id.block_id, &st->owner);
    if (st->row.state == STORE_TUS_OPEN && tus_expires_ms(call, &st->row) < ids_now_ms()) {
        upload_fail(call, 410, "The upload expired.");
        return false;
    }
    return true;
}

/* Re-reads the row (after a claim: a holder may have moved it on). */
static bool tus_reload(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    store_t *store = call->ctx->store;
    store_tus_free(&st->row);
    int rc = store->ops->tus_get(store, st->id.block_id, &st->row);
    if (rc != STORE_OK) {
        st->have_row = false;
        upload_fail(call, rc == STORE_NOT_FOUND ? 404 : 500, rc == STORE_NOT_FOUND ? "No such upload." : "Internal error.");
        return false;
    }
    return true;
}

/* Makes what a takeover handed over durable (or drops it when it waited
 * for a checksum).  On a worker. */
static bool tus_adopt(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    tus_handover_t *h = &st->handover;
    blob_t *blob = call->ctx->blob;
    if (!h->writer)
        return true;
    blob_writer_t *w = h->writer;
    h->writer = NULL;
    if (h->checked || h->written == 0) {
        blob->ops->writer_close(w);
        tus_truncate(call, st->row.offset);
        return true;
    }
    int rc = blob->ops->sync(w);
    blob->ops->writer_close(w);
    if (rc != BLOB_OK) {
        upload_fail_blob(call, rc);
        return false;
    }
    st->row.offset = h->start + h->written;
    quota_block_set(call->ctx->quota, st->id.block_id, st->row.offset);
    return tus_record(call);
}

static bool tus_claim(upload_call_t *call, bool wait)
{
    upload_tus_state_t *st = &call->u.tus;
    int rc = tus_slot_claim(call->ctx->tus_slots, st->id.block_id, call, &call->req.cut, wait, &st->slot, &st->handover);
    if (rc == TUS_CLAIM_BUSY)
        upload_fail(call, 423, "The upload is being completed; try again.");
    else if (rc != TUS_CLAIM_OK)
        upload_fail(call, 500, "Internal error.");
    return rc == TUS_CLAIM_OK;
}

static void tus_release(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    tus_slot_release(call->ctx->tus_slots, st->slot, call);
    st->slot = NULL;
}

static void tus_head_answer(upload_call_t *call)
{
    const store_tus_t *row = &call->u.tus.row;
    bool ok = tus_add_number(call, "Upload-Offset", row->offset) &&
              (row->length >= 0 ? tus_add_number(call, "Upload-Length", row->length)
                                : upload_add_header(call, "Upload-Defer-Length", "1")) &&
              (!row->metadata || upload_add_header(call, "Upload-Metadata", row->metadata)) &&
              (row->kind != STORE_TUS_PARTIAL || upload_add_header(call, "Upload-Concat", "partial")) &&
              (row->kind != STORE_TUS_FINAL || !row->parts || upload_add_header(call, "Upload-Concat", row->parts)) &&
              tus_add_expires(call, row) && upload_add_header(call, "Cache-Control", "no-store");
    if (!ok)
        upload_fail(call, 500, "Internal error.");
    else
        tus_succeed(call, 200);
}

/* HEAD on a worker: after a takeover, a crash before publishing, or a
 * holder that is finishing. */
static void tus_head_work(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    if ((st->claim_on_worker && !tus_claim(call, true)) || !tus_reload(call) || !tus_adopt(call))
        goto out;
    if (tus_needs_completion(&st->row) && !tus_complete(call))
        goto out;
    tus_head_answer(call);
out:
    tus_release(call);
}

static void tus_head_begin(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    int rc = tus_slot_claim(call->ctx->tus_slots, st->id.block_id, call, &call->req.cut, false, &st->slot, &st->handover);
    if (rc == TUS_CLAIM_ERROR) {
        upload_fail(call, 500, "Internal error.");
        return;
    }
    st->claim_on_worker = rc == TUS_CLAIM_BUSY;
    if (st->claim_on_worker || st->handover.writer || tus_needs_completion(&st->row)) {
        call->work = tus_head_work;
        return;
    }
    tus_head_answer(call);
    tus_release(call);
}

static void tus_delete_work(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    blob_t *blob = call->ctx->blob;
    store_t *store = call->ctx->store;
    if (!tus_claim(call, true))
        return;
    if (st->handover.writer)
        blob->ops->writer_close(st->handover.writer);
    st->handover.writer = NULL;
    tus_slot_forget(st->slot);
    int rc = store->ops->tus_remove(store, st->id.block_id);
    if (rc == STORE_OK || rc == STORE_NOT_FOUND) {
        if (st->row.kind != STORE_TUS_FINAL && st->row.state == STORE_TUS_OPEN) {
            blob->ops->block_remove(blob, st->id.block_id);
            quota_block_set(call->ctx->quota, st->id.block_id, 0);
        }
        tus_succeed(call, 204);
    } else {
        upload_fail_store(call, rc);
    }
    tus_release(call);
}

static void tus_resource_begin(upload_call_t *call, const char *id)
{
    upload_tus_state_t *st = &call->u.tus;
    if (!tus_resource_load(call, id))
        return;
    if (st->method == TUS_M_HEAD)
        tus_head_begin(call);
    else if (st->method == TUS_M_PATCH)
        tus_patch_begin(call);
    else
        call->work = tus_delete_work;
}

void tus_begin(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    st->new_length = -1;
    st->method = tus_method(call);
    if (st->method == TUS_M_OPTIONS) {
        tus_options(call);
        return;
    }
    if (!upload_add_header(call, "Tus-Resumable", "1.0.0")) {
        upload_fail(call, 500, "Internal error.");
        return;
    }
    const char *version = tus_header(call, "tus-resumable");
    if (!version || strcmp(version, "1.0.0") != 0) {
        upload_fail(call, 412, "This server speaks tus 1.0.0: send Tus-Resumable: 1.0.0.");
        return;
    }
    const char *rest = call->req.path + strlen("/files");
    bool collection = !rest[0] || !strcmp(rest, "/");
    if (collection ? st->method != TUS_M_POST : (st->method == TUS_M_POST || st->method == TUS_M_OTHER)) {
        upload_fail(call, 405, collection ? "Create an upload with POST." : "Use HEAD, PATCH or DELETE on an upload.");
        return;
    }
    if (!collection && strchr(rest + 1, '/')) {
        upload_fail(call, 404, "No such upload.");
        return;
    }
    st->trailing_slash = rest[0] == '/';
    if (collection)
        tus_create_begin(call);
    else
        tus_resource_begin(call, rest + 1);
    if (call->failed)
        tus_let_go(call);
}

void tus_finish(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    if (st->method == TUS_M_POST)
        call->work = tus_create_work;
    else if (st->method == TUS_M_PATCH)
        call->work = tus_patch_work;
}

void tus_let_go(upload_call_t *call)
{
    if (!call->u.tus.slot)
        return;
    tus_patch_abandon(call);
    tus_handover_keep(call);
    tus_release(call);
}

void tus_free(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    tus_let_go(call);
    tus_handover_keep(call); /* with no slot: closes a writer handed over */
    quota_give(call->ctx->quota, &st->owner, st->reserved);
    EVP_MD_CTX_free(st->ck);
    tus_concat_free(&st->concat);
    free(st->concat_text);
    free(st->metadata);
    store_tus_free(&st->row);
}

/* ---- completion ---- */

bool tus_final_parts(upload_call_t *call, const tus_concat_t *concat, tus_id_t **ids)
{
    uint8_t key_hash[8];
    *ids = calloc(concat->count, sizeof(**ids));
    if (!*ids || !block_ctx_key_hash(call->key.bucket, call->file_key, key_hash)) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    for (size_t i = 0; i < concat->count; i++) {
        tus_id_t *id = &(*ids)[i];
        if (!tus_id_decode(concat->ids[i], strlen(concat->ids[i]), call->ctx->ctx_secret, id) ||
            id->kind != STORE_TUS_PARTIAL) {
            upload_fail(call, 400, "Upload-Concat names an upload that is not a partial upload of this server.");
            break;
        }
        if (memcmp(id->key_hash, key_hash, sizeof(key_hash)) != 0) {
            upload_fail(call, 403, "Upload-Concat names a partial upload of another file.");
            break;
        }
    }
    if (!call->failed)
        return true;
    free(*ids);
    *ids = NULL;
    return false;
}

/* Each part's row: a finished partial upload of this account, not joined
 * yet.  Fills blocks and the total. */
static bool tus_part_blocks(upload_call_t *call, const tus_id_t *ids, size_t count, block_ctx_t *blocks,
                            int64_t *total)
{
    store_t *store = call->ctx->store;
    *total = 0;
    for (size_t i = 0; i < count; i++) {
        store_tus_t part;
        int rc = store->ops->tus_get(store, ids[i].block_id, &part);
        if (rc != STORE_OK && rc != STORE_NOT_FOUND) {
            upload_fail_store(call, rc);
            return false;
        }
        bool usable = rc == STORE_OK && part.account_id == call->key.account_id && part.state == STORE_TUS_OPEN &&
                      part.length >= 0 && part.offset == part.length;
        int64_t len = part.length;
        store_tus_free(&part);
        if (!usable) {
            upload_fail(call, 400, "Upload-Concat names a partial upload that is unfinished, joined already or gone.");
            return false;
        }
        blocks[i] = (block_ctx_t){.index = (int32_t)i, .block_size = len, .offset = len};
        memcpy(blocks[i].block_id, ids[i].block_id, sizeof(blocks[i].block_id));
        memcpy(blocks[i].key_hash, ids[i].key_hash, sizeof(blocks[i].key_hash));
        *total += len;
    }
    return true;
}

/* The partial uploads of a published final upload are consumed: their
 * blocks are the file's now, their ids answer 404. */
static void tus_parts_done(upload_call_t *call, const tus_id_t *ids, size_t count)
{
    store_t *store = call->ctx->store;
    for (size_t i = 0; i < count; i++)
        if (store->ops->tus_remove(store, ids[i].block_id) != STORE_OK)
            log_warn("tus: partial upload %s not removed; the sweep will", ids[i].block_id);
}

/* Publishes the blocks, then the callback (whose body a tus answer has no
 * room for: only its failure, 579, is told).  known: the hashes, when the
 * slot's running digest had them. */
static bool tus_publish(upload_call_t *call, const block_ctx_t *blocks, size_t count, const upload_hashes_t *known)
{
    upload_tus_state_t *st = &call->u.tus;
    buf_t filetype;
    buf_init(&filetype, 0);
    if (!call->mime_type && st->row.metadata && tus_metadata_get(st->row.metadata, "filetype", &filetype))
        upload_set_mime_type(call, filetype.data ? filetype.data : "", filetype.len);
    buf_free(&filetype);
    char etag[ETAG_LEN + 1];
    if (!upload_check_overwrite(call) || !upload_assemble(call, blocks, count, known, etag))
        return false;
    st->row.state = STORE_TUS_DONE;
    if (!tus_record(call))
        log_warn("tus: upload %s published but not marked done", st->row.upload_id);
    return_vars_t vars;
    upload_return_vars(call, etag, st->row.length, &vars);
    return !upload_callback_answer(call, &vars) || !call->failed;
}

/* Whether an earlier completion published these blocks and a crash came
 * before the upload was marked done: publishing consumes the blocks, so
 * the video then holds an object of the upload's length and none of the
 * blocks is left.  Publishing again could only fail on the missing blocks
 * (or on overwrite 0); the upload is done. */
static bool tus_published_before(upload_call_t *call, const block_ctx_t *blocks, size_t count)
{
    if (!call->video.object_id || call->video.size != call->u.tus.row.length)
        return false;
    blob_t *blob = call->ctx->blob;
    for (size_t i = 0; i < count; i++) {
        int64_t size;
        if (blob->ops->block_size(blob, blocks[i].block_id, &size) != BLOB_NOT_FOUND)
            return false;
    }
    log_info("tus: upload %s was published before a restart; marking it done", call->u.tus.row.upload_id);
    call->u.tus.row.state = STORE_TUS_DONE;
    return true;
}

bool tus_complete(upload_call_t *call)
{
    upload_tus_state_t *st = &call->u.tus;
    if (st->row.kind == STORE_TUS_SINGLE) {
        block_ctx_t b = {.index = 0, .block_size = st->row.length, .offset = st->row.length};
        memcpy(b.block_id, st->id.block_id, sizeof(b.block_id));
        memcpy(b.key_hash, st->id.key_hash, sizeof(b.key_hash));
        if (tus_published_before(call, &b, 1))
            return tus_record(call);
        upload_hashes_t known;
        bool have = st->slot && tus_slot_digest(st->slot, st->row.length, known.md5_hex, known.etag);
        return tus_publish(call, &b, 1, have ? &known : NULL);
    }
    tus_concat_t concat;
    tus_id_t *ids = NULL;
    block_ctx_t *blocks = NULL;
    int64_t total = 0;
    bool ok = tus_concat_parse(st->row.parts, &concat) && concat.kind == TUS_CONCAT_FINAL;
    if (!ok)
        upload_fail(call, 500, "Internal error.");
    ok = ok && tus_final_parts(call, &concat, &ids) && (blocks = calloc(concat.count, sizeof(*blocks))) != NULL &&
         tus_part_blocks(call, ids, concat.count, blocks, &total);
    if (ok)
        ok = tus_published_before(call, blocks, concat.count) ? tus_record(call)
                                                              : tus_publish(call, blocks, concat.count, NULL);
    if (ok)
        tus_parts_done(call, ids, concat.count);
    else if (!call->failed)
        upload_fail(call, 500, "Internal error.");
    free(blocks);
    free(ids);
    tus_concat_free(&concat);
    return ok;
}
