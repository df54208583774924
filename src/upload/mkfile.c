/*
 * mkfile: the last step of the block protocol.  Checks that the ctx list
 * names complete blocks of this fileKey, in order, summing to fileSize;
 * then, on a worker, stages the blocks as the parts of an object (no copy),
 * hashes them (MD5 for the registry and fileMd5, SHA-1 pieces for the
 * etag) and publishes it.  Block names are removed only after the registry
 * row is written, so a crash at any point leaves them for a retry.  The
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

#define MKFILE_COPY_BUFFER (1 << 20) /* read size while hashing */

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

/* Feeds blocks[from .. to), in file order, to `update`. */
static bool mkfile_read_blocks(blob_t *blob, const block_ctx_t *blocks, size_t from, size_t to, char *buffer,
                               bool (*update)(void *state, const void *data, size_t len), void *state)
{
    for (size_t i = from; i < to; i++) {
        blob_reader_t *reader = NULL;
        if (blob->ops->block_read_open(blob, blocks[i].block_id, &reader) != BLOB_OK)
            return false;
        bool ok = true;
        for (int64_t off = 0; ok && off < blocks[i].offset;) {
            int64_t left = blocks[i].offset - off;
            size_t want = left > MKFILE_COPY_BUFFER ? MKFILE_COPY_BUFFER : (size_t)left;
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

static bool mkfile_md5_update(void *state, const void *data, size_t len)
{
    return EVP_DigestUpdate(state, data, len) == 1;
}

static bool mkfile_etag_update(void *state, const void *data, size_t len)
{
    return etag_update(state, data, len);
}

/* The hashing left to mkfile after what the digest thread did. */
typedef struct mkfile_hashing {
    upload_call_t *call;
    digest_known_t known;
    char *buffer; /* the etag half's own read buffer */
    bool etag_ok;
} mkfile_hashing_t;

/* The etag: the digest thread's piece digests where a block starts and
 * ends on piece boundaries (blocks are 4 MiB multiples but the last), the
 * block's bytes otherwise. */
static bool mkfile_etag(mkfile_hashing_t *h)
{
    upload_mkfile_state_t *st = &h->call->u.mkfile;
    blob_t *blob = h->call->ctx->blob;
    int64_t at = 0;
    for (size_t i = 0; i < st->block_count; i++) {
        int64_t len = st->blocks[i].offset;
        bool aligned = at % (int64_t)ETAG_PIECE_SIZE == 0 &&
                       (i + 1 == st->block_count || len % (int64_t)ETAG_PIECE_SIZE == 0);
        const uint8_t *pieces = h->known.pieces[i];
        if (pieces && aligned) {
            for (int64_t off = 0, p = 0; off < len || (len == 0 && p == 0); off += (int64_t)ETAG_PIECE_SIZE, p++) {
                int64_t piece = len - off < (int64_t)ETAG_PIECE_SIZE ? len - off : (int64_t)ETAG_PIECE_SIZE;
                if (!etag_add_piece(&h->call->etag, pieces + p * DIGEST_SHA1_LEN, (size_t)piece))
                    return false;
            }
        } else if (!mkfile_read_blocks(blob, st->blocks, i, i + 1, h->buffer, mkfile_etag_update, &h->call->etag)) {
            return false;
        }
        at += len;
    }
    return true;
}

static void *mkfile_etag_main(void *arg)
{
    mkfile_hashing_t *h = arg;
    h->etag_ok = mkfile_etag(h);
    return NULL;
}

/*
 * Hashes the frozen blocks: MD5 (registry, fileMd5) and the etag's SHA-1
 * pieces.  The digest thread has usually hashed all but the last block or
 * two while they arrived; what it has not, this reads back: MD5 here and
 * the etag on a second thread, so the client waits for the slower of the
 * two rather than their sum.
 */
static bool mkfile_hash_blocks(upload_call_t *call, char *buffer)
{
    upload_mkfile_state_t *st = &call->u.mkfile;
    mkfile_hashing_t h = {.call = call};
    bool ok = false;
    if (!digest_take(call->ctx->digests, st->blocks, st->block_count, call->md5, &h.known))
        goto out;
    h.buffer = malloc(MKFILE_COPY_BUFFER);
    pthread_t thread;
    bool threaded = h.buffer && pthread_create(&thread, NULL, mkfile_etag_main, &h) == 0;
    ok = mkfile_read_blocks(call->ctx->blob, st->blocks, h.known.md5_blocks, st->block_count, buffer,
                            mkfile_md5_update, call->md5);
    if (threaded) {
        pthread_join(thread, NULL);
    } else {
        /* No second thread: the etag after the MD5, in its own buffer or, failing that, the MD5's. */
        char *own = h.buffer;
        h.buffer = own ? own : buffer;
        h.etag_ok = mkfile_etag(&h);
        h.buffer = own;
    }
    ok = ok && h.etag_ok;
out:
    free(h.buffer);
    digest_known_free(&h.known, st->block_count);
    if (!ok) {
        upload_fail(call, 500, "Internal error.");
        return false;
    }
    for (size_t i = 0; i < st->block_count; i++)
        call->received += st->blocks[i].offset;
    return true;
}

/*
 * The blocks become the object's parts without a copy: staging freezes
 * them (no chunk can change them any more), then they are hashed and the
 * object published.  Blocks stay usable for a retry until the registry row
 * is written; a refused object (fileMd5) unfreezes them.
 */
static void mkfile_work(upload_call_t *call)
{
    upload_mkfile_state_t *st = &call->u.mkfile;
    blob_t *blob = call->ctx->blob;
    char *buffer = malloc(MKFILE_COPY_BUFFER);
    const char **ids = calloc(st->block_count ? st->block_count : 1, sizeof(*ids));
    int64_t *lengths = calloc(st->block_count ? st->block_count : 1, sizeof(*lengths));
    if (!buffer || !ids || !lengths || !upload_hash_begin(call, true)) {
        upload_fail(call, 500, "Internal error.");
        goto out;
    }
    for (size_t i = 0; i < st->block_count; i++) {
        ids[i] = st->blocks[i].block_id;
        lengths[i] = st->blocks[i].offset;
    }
    int rc = blob->ops->object_stage_blocks(blob, ids, lengths, st->block_count, &call->writer);
    if (rc == BLOB_NOT_FOUND) {
        upload_fail(call, 412, "mkfile: a block is gone (swept or never stored); upload it again.");
        goto out;
    }
    if (rc == BLOB_BUSY) {
        upload_fail(call, 412, "mkfile: a block is still being written.");
        goto out;
    }
    if (rc != BLOB_OK) {
        upload_fail_blob(call, rc);
        goto out;
    }
    if (!mkfile_hash_blocks(call, buffer))
        goto out;
    unsigned char md5[EVP_MAX_MD_SIZE];
    unsigned int md5_len = 0;
    char md5_hex[33], etag[29];
    if (!EVP_DigestFinal_ex(call->md5, md5, &md5_len) || !etag_final(&call->etag, etag)) {
        upload_fail(call, 500, "Internal error.");
        goto out;
    }
    encoding_hex(md5, 16, md5_hex);
    if (!upload_publish(call, md5_hex, etag, call->received))
        goto out;
    for (size_t i = 0; i < st->block_count; i++) {
        blob->ops->block_remove(blob, st->blocks[i].block_id);
        quota_block_set(call->ctx->quota, st->blocks[i].block_id, 0);
    }
    return_vars_t vars;
    upload_return_vars(call, etag, st->file_size, &vars);
    if (upload_callback_answer(call, &vars))
        goto out;
    json_t *answer = json_pack("{s:s,s:s}", "hash", etag, "key", call->file_key);
    if (answer && !mkfile_return_members(call, answer, &vars)) {
        json_decref(answer);
        answer = NULL;
    }
    upload_succeed_json(call, answer);
out:
    free(buffer);
    free(ids);
    free(lengths);
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
