/*
 * mkfile: the last step of the block protocol.  Checks that the ctx list
 * names complete blocks of this fileKey, in order, summing to fileSize;
 * then, on a worker, publishes them as the file (upload_assemble, which
 * tus completion shares).  The
 * answer is the upload callback's when the token has a callbackUrl
 * (callback.h), else JSON: hash, key, persistentId when a job was queued,
 * and the returnBody's members.
 */
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"
#include "common/log.h"
#include "upload/callback.h"
#include "upload/digest.h"
#include "upload/mkfile_args.h"
#include "upload/return_body.h"
#include "upload/upload_internal.h"

typedef struct mkfile_pairs {
    upload_call_t *call;
    char *request_key;
} mkfile_pairs_t;

/* One /<name>/<value> pair of the path: key, mimeType, x:<name>; others are ignored. */
static bool mkfile_pair(void *arg, const char *name, size_t name_len, const char *value)
{
    mkfile_pairs_t *pairs = arg;
    if (name_len == 3 && memcmp(name, "key", 3) == 0) {
        free(pairs->request_key);
        pairs->request_key = strdup(value);
        return pairs->request_key != NULL;
    }
    if (name_len == 8 && memcmp(name, "mimeType", 8) == 0)
        return upload_set_mime_type(pairs->call, value, strlen(value));
    if (name_len > 2 && memcmp(name, "x:", 2) == 0 && name_len < 128) {
        char xname[128];
        memcpy(xname, name, name_len);
        xname[name_len] = '\0';
        return upload_add_xvar(pairs->call, xname, value, strlen(value));
    }
    return true;
}

void mkfile_begin(upload_call_t *call)
{
    upload_mkfile_state_t *st = &call->u.mkfile;
    buf_init(&st->ctx_list, 0);
    mkfile_pairs_t pairs = {.call = call};
    if (!mkfile_args_parse_path(call->req.path + strlen("/mkfile/"), &st->file_size, mkfile_pair, &pairs)) {
        upload_fail(call, 400, "mkfile: expected /mkfile/<fileSize>[/<name>/<base64 value>]...");
        goto out;
    }
    const char *mime = call->req.header(call->req.header_arg, "mimetype");
    if (mime && !call->mime_type && !upload_set_mime_type(call, mime, strlen(mime))) {
        upload_fail(call, 500, "Internal error.");
        goto out;
    }
    char *request_key = pairs.request_key; /* the key pair of the path, else the Key header */
    if (!request_key) {
        const char *h = call->req.header(call->req.header_arg, "key");
        if (h && h[0])
            request_key = upload_b64_text(h, strlen(h));
    }
    const char *auth = call->req.header(call->req.header_arg, "authorization");
    bool ok = upload_auth_verify(call, auth ? auth : "", auth ? strlen(auth) : 0, request_key);
    if (request_key != pairs.request_key)
        free(request_key);
    if (!ok)
        goto out;
    if (!upload_check_size(call, st->file_size) || !upload_check_overwrite(call))
        goto out;
    if (call->video.expected_size >= 0 && st->file_size != call->video.expected_size) {
        upload_fail(call, 400, "mkfile: fileSize differs from the fileSize registered with getUploadToken.");
        goto out;
    }
    if (call->req.content_length > UPLOAD_MAX_MKFILE_BODY)
        upload_fail(call, 400, "mkfile: the ctx list is too long.");
out:
    free(pairs.request_key);
}

bool mkfile_body(upload_call_t *call, const char *data, size_t len)
{
    upload_mkfile_state_t *st = &call->u.mkfile;
    if (st->ctx_list.len + len > UPLOAD_MAX_MKFILE_BODY) {
        upload_fail(call, 400, "mkfile: the ctx list is too long.");
        return true;
    }
    if (!buf_append(&st->ctx_list, data, len))
        upload_fail(call, 500, "Internal error.");
    return true;
}

typedef struct mkfile_check {
    upload_call_t *call;
    uint8_t key_hash[8];
    int64_t total;
} mkfile_check_t;

/* One ctx of the list: authentic, of this fileKey, in order, complete. */
static bool mkfile_check_ctx(void *arg, const char *text, size_t len, size_t index)
{
    mkfile_check_t *check = arg;
    upload_call_t *call = check->call;
    upload_mkfile_state_t *st = &call->u.mkfile;
    if (st->block_count == st->block_alloc) {
        size_t n = st->block_alloc ? st->block_alloc * 2 : 16;
        block_ctx_t *blocks = realloc(st->blocks, n * sizeof(*blocks));
        if (!blocks) {
            upload_fail(call, 500, "Internal error.");
            return false;
        }
        st->blocks = blocks;
        st->block_alloc = n;
    }
    block_ctx_t *blk = &st->blocks[st->block_count];
    if (!block_ctx_decode(text, len, call->ctx->ctx_secret, blk)) {
        upload_fail(call, 401, "mkfile: a ctx is not valid.");
        return false;
    }
    if (memcmp(blk->key_hash, check->key_hash, sizeof(check->key_hash)) != 0) {
        upload_fail(call, 412, "mkfile: a ctx belongs to another file.");
        return false;
    }
    if (blk->index >= 0 && (size_t)blk->index != index) {
        upload_fail(call, 412, "mkfile: the ctx list is not in block order.");
        return false;
    }
    if (blk->offset != blk->block_size) {
        upload_fail(call, 412, "mkfile: a block is incomplete.");
        return false;
    }
    check->total += blk->block_size;
    st->block_count++;
    return true;
}

static int mkfile_id_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * A block may stand once in a file.  Otherwise one 4 MiB block listed a
 * thousand times becomes a 4 GiB object that the workers must hash: work
 * out of all proportion to the bytes the client sent.
 */
static bool mkfile_check_distinct(upload_call_t *call)
{
    upload_mkfile_state_t *st = &call->u.mkfile;
    const char **ids = malloc((st->block_count ? st->block_count : 1) * sizeof(*ids));
    if (!ids) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    for (size_t i = 0; i < st->block_count; i++)
        ids[i] = st->blocks[i].block_id;
    qsort(ids, st->block_count, sizeof(*ids), mkfile_id_cmp);
    bool distinct = true;
    for (size_t i = 1; i < st->block_count && distinct; i++)
        distinct = strcmp(ids[i - 1], ids[i]) != 0;
    free(ids);
    if (!distinct)
        upload_fail(call, 400, "mkfile: a block appears more than once in the ctx list.");
    return distinct;
}

/* Splits and checks the ctx list; on failure the call has its error. */
static bool mkfile_check_blocks(upload_call_t *call)
{
    upload_mkfile_state_t *st = &call->u.mkfile;
    mkfile_check_t check = {.call = call};
    if (!block_ctx_key_hash(call->key.bucket, call->file_key, check.key_hash)) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    long n = mkfile_args_split_ctx_list(st->ctx_list.data ? st->ctx_list.data : "", st->ctx_list.len,
                                        mkfile_check_ctx, &check);
    if (n < 0) {
        upload_fail(call, 412, "mkfile: the ctx list has an empty entry.");
        return false;
    }
    if (check.total != st->file_size) {
        upload_fail(call, 412, "mkfile: the blocks do not add up to the file size.");
        return false;
    }
    return mkfile_check_distinct(call);
}

/* Appends the returnBody variables, when the policy has a returnBody, as
 * string members of the mkfile answer (each value whole in its member: see
 * return_body_members). */
static bool mkfile_return_members(upload_call_t *call, json_t *obj, const return_vars_t *vars)
{
    if (call->persistent_id[0] && json_object_set_new(obj, "persistentId", json_string(call->persistent_id)) != 0)
        return false;
    return !call->policy.return_body || return_body_members(call->policy.return_body, vars, obj);
}

/* Publishes the listed blocks (assemble.c), then answers: the upload
 * callback's answer when the token has one, else JSON. */
static void mkfile_work(upload_call_t *call)
{
    upload_mkfile_state_t *st = &call->u.mkfile;
    char etag[ETAG_LEN + 1];
    if (!upload_assemble(call, st->blocks, st->block_count, NULL, etag))
        return;
    return_vars_t vars;
    upload_return_vars(call, etag, st->file_size, &vars);
    if (upload_callback_answer(call, &vars))
        return;
    json_t *answer = json_pack("{s:s,s:s}", "hash", etag, "key", call->file_key);
    if (answer && !mkfile_return_members(call, answer, &vars)) {
        json_decref(answer);
        answer = NULL;
    }
    upload_succeed_json(call, answer);
}

void mkfile_finish(upload_call_t *call)
{
    if (!mkfile_check_blocks(call))
        return;
    call->work = mkfile_work;
}

void mkfile_free(upload_call_t *call)
{
    buf_free(&call->u.mkfile.ctx_list);
    free(call->u.mkfile.blocks);
}
