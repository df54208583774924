/*
 * form: POST /file/upload, the multipart form upload.
 *
 * libmicrohttpd's PostProcessor parses the multipart body (any field
 * order, sized or chunked).  The `file` part streams into a staged blob
 * object while MD5 and the etag are computed.  When the token comes first
 * it is checked before any byte is stored; when it comes after the file
 * (the browser SDK's order) the file is held in memory, neither stored nor
 * hashed, within preauth-spool bytes per request and preauth-spool-total
 * over all requests, and dropped at once if the token then fails.  A
 * second `file` part is refused: two parts must never become one object.
 * Bytes being received count against the owner's staging quota.  Once the
 * file is published, the answer is the upload callback's when the token
 * has a callbackUrl (callback.h; returnUrl is then ignored), else the WCS
 * form answer below.
 */
#include <jansson.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"
#include "upload/callback.h"
#include "upload/return_body.h"
#include "upload/upload_internal.h"

#define FORM_PARSER_BUFFER (16 * 1024)

static bool form_authorise(upload_call_t *call)
{
    upload_form_state_t *st = &call->u.form;
    char *request_key = st->key_field.len ? strndup(st->key_field.data, st->key_field.len) : NULL;
    bool ok = upload_auth_verify(call, st->token.data ? st->token.data : "", st->token.len, request_key);
    free(request_key);
    return ok && upload_check_overwrite(call);
}

/* Opens the staged object and the hashes: only once the token is verified. */
static bool form_stage(upload_call_t *call)
{
    blob_t *blob = call->ctx->blob;
    int rc = blob->ops->object_stage(blob, &call->writer);
    if (rc != BLOB_OK) {
        upload_fail_blob(call, rc);
        return false;
    }
    if (!upload_hash_begin(call, true)) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    return true;
}

/* Stores file bytes of an authorised upload, charged to its owner. */
static bool form_store(upload_call_t *call, const char *data, size_t size)
{
    if (!upload_check_size(call, call->received + (int64_t)size) ||
        !upload_quota_take(call, &call->owner, (int64_t)size))
        return false;
    call->quota_taken += (int64_t)size;
    upload_mark_uploading(call);
    return upload_payload(call, data, size);
}

/* File bytes before the token: kept in memory, unhashed, within the
 * per-request and server-wide bounds (an unauthenticated client must not
 * make the server store or hash anything). */
static bool form_spool(upload_call_t *call, const char *data, size_t size)
{
    upload_form_state_t *st = &call->u.form;
    const config_t *cfg = call->ctx->cfg;
    if ((int64_t)(st->spool.len + size) > cfg->preauth_spool) {
        upload_fail(call, 401, "The file part came before the token and is larger than the server takes before "
                               "authentication (preauth-spool): send the token field first.");
        return false;
    }
    if (!quota_preauth_take(call->ctx->quota, (int64_t)size)) {
        upload_fail(call, 503, "Too many unauthenticated form uploads in progress; try again.");
        return false;
    }
    st->preauth_taken += (int64_t)size;
    if (!buf_append(&st->spool, data, size)) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    return true;
}

static bool form_file_data(upload_call_t *call, const char *data, size_t size, uint64_t off)
{
    upload_form_state_t *st = &call->u.form;
    if (st->file_started && off == 0) {
        upload_fail(call, 400, "The form has more than one file part.");
        return false;
    }
    if (!st->file_started) {
        st->file_started = true;
        /* The file part has begun, so a token sent before it is complete. */
        if (st->token.len > 0 && (!form_authorise(call) || !form_stage(call)))
            return false;
    }
    if (size == 0)
        return true;
    return call->authorised ? form_store(call, data, size) : form_spool(call, data, size);
}

/* After the token came last: the spooled file is stored and hashed now. */
static bool form_unspool(upload_call_t *call)
{
    upload_form_state_t *st = &call->u.form;
    if (!form_stage(call))
        return false;
    bool ok = st->spool.len == 0 || form_store(call, st->spool.data, st->spool.len);
    buf_free(&st->spool);
    buf_init(&st->spool, 0);
    quota_preauth_give(call->ctx->quota, st->preauth_taken);
    st->preauth_taken = 0;
    return ok;
}

static bool form_field_append(upload_call_t *call, buf_t *b, const char *data, size_t size)
{
    if (b->len + size > UPLOAD_MAX_FIELD) {
        upload_fail(call, 400, "A form field is too long.");
        return false;
    }
    if (!buf_append(b, data, size)) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    return true;
}

/* The fields vodup reads; others (deadline, desc, ...) are skipped unread. */
static bool form_field_wanted(const char *name)
{
    return strcmp(name, "token") == 0 || strcmp(name, "key") == 0 || strcmp(name, "mimeType") == 0 ||
           (strncmp(name, "x:", 2) == 0 && strlen(name) < 128);
}

static bool form_field_copy(buf_t *to, const buf_t *from)
{
    buf_reset(to);
    return buf_append(to, from->data ? from->data : "", from->len);
}

/* The pending field is complete (its part has ended): hand its value on.
 * libmicrohttpd gives a value in as many pieces as it likes, so nothing
 * is read from a field before this. */
static void form_field_end(upload_call_t *call)
{
    upload_form_state_t *st = &call->u.form;
    const char *name = st->field_name;
    if (!name)
        return;
    const buf_t *v = &st->field;
    bool ok = true;
    if (strcmp(name, "token") == 0)
        ok = form_field_copy(&st->token, v);
    else if (strcmp(name, "key") == 0)
        ok = form_field_copy(&st->key_field, v);
    else if (strcmp(name, "mimeType") == 0)
        ok = upload_set_mime_type(call, v->data ? v->data : "", v->len);
    else
        ok = upload_add_xvar(call, name, v->data ? v->data : "", v->len);
    if (!ok)
        upload_fail(call, 500, "Internal error.");
    free(st->field_name);
    st->field_name = NULL;
    buf_reset(&st->field);
}

static void form_field_data(upload_call_t *call, const char *key, const char *data, uint64_t off, size_t size)
{
    upload_form_state_t *st = &call->u.form;
    if (off == 0 && form_field_wanted(key)) {
        st->field_name = strdup(key);
        if (!st->field_name) {
            upload_fail(call, 500, "Internal error.");
            return;
        }
    }
    if (st->field_name)
        form_field_append(call, &st->field, data, size);
}

static enum MHD_Result form_iterate(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                    const char *content_type, const char *transfer_encoding, const char *data,
                                    uint64_t off, size_t size)
{
    (void)kind;
    (void)filename;
    (void)content_type;
    (void)transfer_encoding;
    upload_call_t *call = cls;
    upload_form_state_t *st = &call->u.form;
    if (call->failed)
        return MHD_YES; /* keep parsing so the body drains; nothing more is stored */
    if (!key) { /* libmicrohttpd passes NULL for a part without a name (found by fuzz_form_upload) */
        upload_fail(call, 400, "A form part has no name.");
        return MHD_YES;
    }
    if (off == 0)
        form_field_end(call); /* a new part: the one before it is complete */
    if (strcmp(key, "file") == 0) {
        if (st->file_ended)
            upload_fail(call, 400, "The form has more than one file part.");
        else
            form_file_data(call, data, size, off);
    } else {
        if (st->file_started)
            st->file_ended = true;
        form_field_data(call, key, data, off, size);
    }
    return MHD_YES;
}

void form_begin(upload_call_t *call)
{
    upload_form_state_t *st = &call->u.form;
    buf_init(&st->token, 0);
    buf_init(&st->key_field, 0);
    buf_init(&st->spool, 0);
    buf_init(&st->field, 0);
    const char *ctype = call->req.header(call->req.header_arg, "content-type");
    if (!ctype || strncasecmp(ctype, "multipart/form-data", 19) != 0) {
        upload_fail(call, 400, "The form upload must be multipart/form-data.");
        return;
    }
    /* The body is the file plus a little form overhead. */
    if (call->req.content_length > call->ctx->cfg->max_upload_size + 65536) {
        upload_fail(call, 413, "The file is larger than the server allows.");
        return;
    }
    st->pp = MHD_create_post_processor(call->req.conn, FORM_PARSER_BUFFER, form_iterate, call);
    if (!st->pp)
        upload_fail(call, 400, "The multipart body cannot be parsed (boundary missing?).");
}

bool form_body(upload_call_t *call, const char *data, size_t len)
{
    upload_form_state_t *st = &call->u.form;
    if (MHD_post_process(st->pp, data, len) != MHD_YES && !call->failed)
        upload_fail(call, 400, "The multipart body is malformed.");
    return true;
}

/* The WCS form answer: URL-safe base64 of the returnBody's query text and
 * hash=<etag> (and persistentId=<id> when the upload queued a job), or a
 * 303 to returnUrl with that query. */
static void form_answer(upload_call_t *call, const char *etag, const return_vars_t *vars)
{
    buf_t query;
    buf_init(&query, 0);
    bool ok = true;
    if (call->policy.return_body && call->policy.return_body[0])
        ok = return_body_expand(call->policy.return_body, vars, &query) && buf_append_str(&query, "&");
    ok = ok && buf_printf(&query, "hash=%s", etag);
    if (ok && call->persistent_id[0])
        ok = buf_printf(&query, "&persistentId=%s", call->persistent_id);
    if (ok && call->policy.return_url && call->policy.return_url[0]) {
        buf_t loc;
        buf_init(&loc, 0);
        ok = buf_printf(&loc, "%s%s%s", call->policy.return_url, strchr(call->policy.return_url, '?') ? "&" : "?",
                        query.data);
        if (ok) {
            call->location = buf_steal(&loc);
            call->status = 303;
            buf_reset(&call->body);
            call->content_type = "text/plain; charset=utf-8";
        }
        buf_free(&loc);
    } else if (ok) {
        buf_reset(&call->body);
        ok = encoding_b64url_encode(query.data, query.len, &call->body);
        call->status = 200;
        call->content_type = "text/plain; charset=utf-8";
    }
    buf_free(&query);
    if (!ok)
        upload_fail(call, 500, "Internal error.");
}

static void form_work(upload_call_t *call)
{
    unsigned char md5[EVP_MAX_MD_SIZE];
    unsigned int md5_len = 0;
    char md5_hex[33], etag[29];
    if (!EVP_DigestFinal_ex(call->md5, md5, &md5_len) || !etag_final(&call->etag, etag)) {
        upload_fail(call, 500, "Internal error.");
        return;
    }
    encoding_hex(md5, 16, md5_hex);
    if (!upload_publish(call, md5_hex, etag, call->received))
        return;
    return_vars_t vars;
    upload_return_vars(call, etag, call->received, &vars);
    if (!upload_callback_answer(call, &vars))
        form_answer(call, etag, &vars);
}

void form_finish(upload_call_t *call)
{
    upload_form_state_t *st = &call->u.form;
    enum MHD_Result parsed = MHD_destroy_post_processor(st->pp);
    st->pp = NULL;
    if (!call->failed)
        form_field_end(call);
    if (call->failed)
        return;
    if (parsed != MHD_YES) {
        upload_fail(call, 400, "The multipart body is malformed or incomplete.");
        return;
    }
    if (!st->file_started) {
        upload_fail(call, 400, "The form has no file part.");
        return;
    }
    if (!call->authorised && (!form_authorise(call) || !form_unspool(call)))
        return;
    if (!upload_check_size(call, call->received))
        return;
    upload_mark_uploading(call);
    call->work = form_work;
}

void form_free(upload_call_t *call)
{
    upload_form_state_t *st = &call->u.form;
    if (st->pp)
        MHD_destroy_post_processor(st->pp);
    buf_free(&st->token);
    buf_free(&st->key_field);
    buf_free(&st->spool);
    buf_free(&st->field);
    free(st->field_name);
    quota_preauth_give(call->ctx->quota, st->preauth_taken);
    quota_give(call->ctx->quota, &call->owner, call->quota_taken);
}
