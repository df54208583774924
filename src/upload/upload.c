/*
 * upload: the life cycle of an upload request (begin, body, finish on a
 * worker, answer) and what the routes share: answers, size and overwrite
 * checks, hashing, publishing.  See upload.h.
 */
#include "upload/upload.h"

#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/encoding.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/video_status.h"
#include "common/workpool.h"
#include "events/event_url.h"
#include "process/fops_plan.h"
#include "process/plan_freeze.h"
#include "process/worker.h"
#include "upload/upload_internal.h"

int upload_route_find(const char *path)
{
    if (strcmp(path, "/files") == 0 || strncmp(path, "/files/", 7) == 0)
        return UPLOAD_ROUTE_TUS;
    if (strcmp(path, "/file/upload") == 0)
        return UPLOAD_ROUTE_FORM;
    if (strncmp(path, "/mkblk/", 7) == 0)
        return UPLOAD_ROUTE_MKBLK;
    if (strncmp(path, "/bput/", 6) == 0)
        return UPLOAD_ROUTE_BPUT;
    if (strncmp(path, "/mkfile/", 8) == 0)
        return UPLOAD_ROUTE_MKFILE;
    return UPLOAD_ROUTE_NONE;
}

char *upload_b64_text(const char *s, size_t len)
{
    buf_t b;
    buf_init(&b, 0);
    char *r = NULL;
    if (encoding_b64url_decode(s, len, &b) && buf_append(&b, "", 0) && !memchr(b.data, '\0', b.len))
        r = buf_steal(&b);
    buf_free(&b);
    return r;
}

bool upload_parse_uint(const char *s, size_t len, int64_t *out)
{
    return encoding_parse_decimal(s, len, out);
}

/* ---- answers ---- */

void upload_fail(upload_call_t *call, int status, const char *message)
{
    if (call->failed)
        return;
    call->failed = true;
    call->status = status;
    buf_reset(&call->body);
    json_t *j = json_pack("{s:i,s:s,s:s,s:s}", "code", status, "message", message, "error", message, "requestId",
                          call->req.request_id ? call->req.request_id : "");
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (text)
        buf_append_str(&call->body, text);
    free(text);
    json_decref(j);
    call->content_type = "application/json; charset=utf-8";
}

bool upload_add_header(upload_call_t *call, const char *name, const char *value)
{
    if (call->header_count == UPLOAD_MAX_HEADERS)
        return false;
    char *v = strdup(value);
    if (!v)
        return false;
    call->headers[call->header_count++] = (upload_header_t){name, v};
    return true;
}

void upload_succeed_json(upload_call_t *call, void *json)
{
    json_t *j = json;
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        upload_fail(call, 500, "Internal error.");
        return;
    }
    call->status = 200;
    buf_reset(&call->body);
    buf_append_str(&call->body, text);
    free(text);
    call->content_type = "application/json; charset=utf-8";
}

void upload_fail_store(upload_call_t *call, int rc)
{
    switch (rc) {
    case STORE_CONFLICT:
        upload_fail(call, 406, "The file exists and the token does not allow overwriting it.");
        break;
    case STORE_NOT_FOUND:
        upload_fail(call, 401, "The key is not a fileKey registered by getUploadToken.");
        break;
    case STORE_UNAVAILABLE:
        upload_fail(call, 503, "The service is unavailable; try again.");
        break;
    default:
        upload_fail(call, 500, "Internal error.");
        break;
    }
}

void upload_fail_blob(upload_call_t *call, int rc)
{
    if (rc == BLOB_NO_SPACE)
        upload_fail(call, 503, "Storage is full.");
    else
        upload_fail(call, 500, "Internal error.");
}

/* ---- shared checks ---- */

bool upload_check_overwrite(upload_call_t *call)
{
    if (call->video.object_id && !call->policy.overwrite) {
        upload_fail(call, 406, "The file exists and the token does not allow overwriting it.");
        return false;
    }
    return true;
}

bool upload_check_size(upload_call_t *call, int64_t size)
{
    const upload_policy_t *p = &call->policy;
    if ((p->fsize_limit > 0 && size > p->fsize_limit) || size > call->ctx->cfg->max_upload_size) {
        upload_fail(call, 413, "The file is larger than the token or the server allows.");
        return false;
    }
    if (call->video.expected_size >= 0 && size > call->video.expected_size) {
        upload_fail(call, 413, "The file is larger than the fileSize registered with getUploadToken.");
        return false;
    }
    return true;
}

bool upload_quota_take(upload_call_t *call, const quota_owner_t *owner, int64_t bytes)
{
    int rc = quota_take(call->ctx->quota, owner, bytes);
    if (rc == QUOTA_ACCOUNT)
        upload_fail(call, 413, "The account holds too many unfinished uploads (max-staged-per-account); "
                               "finish or abandon some first.");
    else if (rc == QUOTA_TOKEN)
        upload_fail(call, 413, "This upload token holds too many unfinished uploads (max-staged-per-token).");
    return rc == QUOTA_OK;
}

/* The queued created -> uploading write of a call, shared by the call and
 * the job (freed by whichever lets go last). */
struct upload_mark {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int refs;
    store_t *store;
    int64_t account_id;
    char video_id[40];
};

static void upload_mark_release(upload_mark_t *m)
{
    pthread_mutex_lock(&m->mu);
    int left = --m->refs;
    pthread_mutex_unlock(&m->mu);
    if (left > 0)
        return;
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
    free(m);
}

static void upload_mark_run(void *arg)
{
    upload_mark_t *m = arg;
    int rc = m->store->ops->video_set_uploading(m->store, m->account_id, m->video_id);
    if (rc != STORE_OK && rc != STORE_NOT_FOUND)
        log_warn("video %s: cannot record status uploading: %s", m->video_id, store_rc_name(rc));
    pthread_mutex_lock(&m->mu);
    m->done = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    upload_mark_release(m);
}

void upload_mark_uploading(upload_call_t *call)
{
    if (call->marked_uploading || !call->authorised || !call->video.video_id)
        return;
    call->marked_uploading = true;
    if (!video_status_awaits_upload(call->video.status))
        return;
    upload_mark_t *m = calloc(1, sizeof(*m));
    if (!m)
        return;
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
    m->refs = 2;
    m->store = call->ctx->store;
    m->account_id = call->key.account_id;
    snprintf(m->video_id, sizeof(m->video_id), "%s", call->video.video_id);
    call->mark = m;
    if (!workpool_submit(call->ctx->workers, upload_mark_run, m)) {
        m->done = true;
        upload_mark_release(m);
    }
}

void upload_mark_wait(upload_call_t *call)
{
    /* The job was queued before the work that waits here, on the same
     * first-in first-out pool, so it has started already: no deadlock. */
    upload_mark_t *m = call->mark;
    if (!m)
        return;
    pthread_mutex_lock(&m->mu);
    while (!m->done)
        pthread_cond_wait(&m->cv, &m->mu);
    pthread_mutex_unlock(&m->mu);
}

static char *upload_strndup(const char *s, size_t len)
{
    char *r = malloc(len + 1);
    if (r) {
        memcpy(r, s, len);
        r[len] = '\0';
    }
    return r;
}

bool upload_add_xvar(upload_call_t *call, const char *name, const char *value, size_t value_len)
{
    for (size_t i = 0; i < call->xcount; i++)
        if (strcmp(call->xnames[i], name) == 0) {
            char *v = upload_strndup(value, value_len);
            if (!v)
                return false;
            free(call->xvalues[i]);
            call->xvalues[i] = v;
            return true;
        }
    if (call->xcount == UPLOAD_MAX_XVARS)
        return true; /* more custom variables than any returnBody uses: ignored */
    char *n = strdup(name), *v = upload_strndup(value, value_len);
    if (!n || !v) {
        free(n);
        free(v);
        return false;
    }
    call->xnames[call->xcount] = n;
    call->xvalues[call->xcount++] = v;
    return true;
}

bool upload_set_mime_type(upload_call_t *call, const char *value, size_t len)
{
    /* A media type is a short token/token pair; anything else is ignored
     * rather than stored and later sent back as Content-Type. */
    if (len == 0 || len > 127)
        return true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c <= 0x20 || c >= 0x7f || c == '"' || c == ',')
            return true;
    }
    char *m = upload_strndup(value, len);
    if (!m)
        return false;
    free(call->mime_type);
    call->mime_type = m;
    return true;
}

static const struct {
    const char *ext, *type;
} upload_mime_table[] = {
    {"mp4", "video/mp4"},        {"m4v", "video/mp4"},         {"mov", "video/quicktime"},
    {"mkv", "video/x-matroska"}, {"webm", "video/webm"},       {"avi", "video/x-msvideo"},
    {"flv", "video/x-flv"},      {"f4v", "video/mp4"},         {"wmv", "video/x-ms-wmv"},
    {"asf", "video/x-ms-asf"},   {"mpg", "video/mpeg"},        {"mpeg", "video/mpeg"},
    {"ts", "video/mp2t"},        {"mts", "video/mp2t"},        {"m2ts", "video/mp2t"},
    {"3gp", "video/3gpp"},       {"3g2", "video/3gpp2"},       {"ogv", "video/ogg"},
    {"mxf", "application/mxf"},  {"m3u8", "application/vnd.apple.mpegurl"},
    {"mp3", "audio/mpeg"},       {"m4a", "audio/mp4"},         {"aac", "audio/aac"},
    {"wav", "audio/wav"},        {"flac", "audio/flac"},       {"ogg", "audio/ogg"},
    {"oga", "audio/ogg"},        {"opus", "audio/opus"},       {"wma", "audio/x-ms-wma"},
    {"amr", "audio/amr"},
};

const char *upload_mime_type(const upload_call_t *call)
{
    if (call->mime_type)
        return call->mime_type;
    const char *key = call->file_key ? call->file_key : "";
    const char *dot = strrchr(key, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof(upload_mime_table) / sizeof(upload_mime_table[0]); i++)
            if (strcasecmp(dot + 1, upload_mime_table[i].ext) == 0)
                return upload_mime_table[i].type;
    return "application/octet-stream";
}

/* ---- hashing and writing ---- */

bool upload_hash_begin(upload_call_t *call, bool with_etag)
{
    call->md5 = EVP_MD_CTX_new();
    if (!call->md5 || !EVP_DigestInit_ex(call->md5, EVP_md5(), NULL))
        return false;
    if (with_etag) {
        if (!etag_init(&call->etag))
            return false;
        call->etag_ready = true;
    }
    return true;
}

bool upload_payload(upload_call_t *call, const char *data, size_t len)
{
    if (call->md5)
        EVP_DigestUpdate(call->md5, data, len);
    if (call->etag_ready)
        etag_update(&call->etag, data, len);
    call->received += (int64_t)len;
    int rc = call->ctx->blob->ops->write(call->writer, data, len);
    if (rc != BLOB_OK) {
        upload_fail_blob(call, rc);
        return false;
    }
    return true;
}

void upload_return_vars(const upload_call_t *call, const char *etag, int64_t fsize, return_vars_t *out)
{
    *out = (return_vars_t){
        .bucket = call->key.bucket,
        .key = call->file_key,
        .fname = call->video.name,
        .hash = etag,
        .mime_type = upload_mime_type(call),
        .persistent_id = call->persistent_id,
        .fsize = fsize,
        .x_names = (const char *const *)call->xnames,
        .x_values = (const char *const *)call->xvalues,
        .x_count = call->xcount,
    };
}

/* ---- publishing ---- */

/* Why the file may not become the video's, or NULL: what getUploadToken
 * registered (fileSize, fileMd5) is what the file must be. */
static const char *upload_publish_refusal(const upload_call_t *call, const char *md5_hex, int64_t size)
{
    if (call->video.expected_size >= 0 && size != call->video.expected_size)
        return "The file's size does not match the fileSize registered with getUploadToken.";
    if (call->video.expected_md5 && strcasecmp(call->video.expected_md5, md5_hex) != 0)
        return "The uploaded content does not match fileMd5.";
    return NULL;
}

/* The fops this upload runs as a persistent job: the policy's
 * persistentOps, else the cmd of the token's getUploadToken; NULL: none. */
static const char *upload_fops_text(const upload_call_t *call)
{
    if (call->policy.persistent_ops && call->policy.persistent_ops[0])
        return call->policy.persistent_ops;
    return call->video.cmd && call->video.cmd[0] ? call->video.cmd : NULL;
}

bool upload_check_persistent_ops(upload_call_t *call)
{
    const upload_policy_t *p = &call->policy;
    char err[FOPS_ERROR_MAX + 64];
    bool ok = true;
    if (p->persistent_ops && p->persistent_ops[0]) {
        fops_t *f = malloc(sizeof(*f));
        ok = f && fops_plan_parse(p->persistent_ops, strlen(p->persistent_ops), call->key.bucket, f, err,
                                  sizeof(err)) && fops_plan_check(f, call->file_key, err, sizeof(err));
        if (!f)
            snprintf(err, sizeof(err), "out of memory");
        free(f);
    }
    if (ok && p->persistent_notify_url && p->persistent_notify_url[0] &&
        !event_url_permitted(p->persistent_notify_url, call->ctx->cfg->callback_allow_hosts, err, sizeof(err)))
        ok = false;
    if (!ok) {
        char msg[sizeof(err) + 48];
        snprintf(msg, sizeof(msg), "The upload token's persistentOps cannot run: %s", err);
        upload_fail(call, 400, msg);
    }
    return ok;
}

/* The frozen plan of the task this upload queues, from the processing
 * settings of the token's latest getUploadToken (plan_freeze.h), with the
 * fops' steps when it runs one (job then filled; else job->fops NULL). */
static int upload_plan(const upload_call_t *call, const char *object_id, char **plan, store_task_job_t *job)
{
    const store_video_t *v = &call->video;
    plan_settings_t settings = {v->workflow_id, v->template_name, v->watermark_name, v->subtitle_id};
    const char *text = upload_fops_text(call);
    *job = (store_task_job_t){0};
    if (!text)
        return plan_freeze(call->ctx->store, call->key.account_id, &settings, object_id, v->file_key, plan);
    char err[FOPS_ERROR_MAX + 64] = "";
    fops_t *f = malloc(sizeof(*f));
    int rc = !f ? STORE_ERROR
         : !fops_plan_parse(text, strlen(text), call->key.bucket, f, err, sizeof(err))
             ? STORE_INVALID
             : plan_freeze_fops(call->ctx->store, call->key.account_id, &settings, f, object_id, v->file_key, plan,
                                err, sizeof(err));
    free(f);
    /* Checked when the token was made or the upload began: what fails now
     * (a resource changed since) fails the task, not the upload. */
    if (rc == STORE_INVALID)
        rc = plan_freeze_failed(object_id, v->file_key, err, plan);
    bool persistent_ops = text == call->policy.persistent_ops;
    *job = (store_task_job_t){text, persistent_ops && call->policy.persistent_notify_url &&
                                            call->policy.persistent_notify_url[0]
                                        ? call->policy.persistent_notify_url
                                        : NULL,
                              call->access_key};
    return rc;
}

bool upload_publish(upload_call_t *call, const char *md5_hex, const char *etag, int64_t size)
{
    const upload_ctx_t *ctx = call->ctx;
    blob_t *blob = ctx->blob;
    store_t *store = ctx->store;
    char *old_object = NULL;
    bool ok = false;
    upload_mark_wait(call); /* its "uploading" must not land after what is written here */
    const char *reason = upload_publish_refusal(call, md5_hex, size);
    if (reason) {
        blob->ops->writer_close(call->writer);
        call->writer = NULL;
        int rc = store->ops->video_set_failed(store, call->key.account_id, call->video.video_id, reason);
        if (rc != STORE_OK)
            log_warn("video %s: cannot record the failed upload: %s", call->video.video_id, store_rc_name(rc));
        upload_fail(call, 400, reason);
        goto out;
    }
    char object_id[BLOB_ID_LEN + 1];
    if (!ids_random_hex(BLOB_ID_LEN / 2, object_id)) {
        upload_fail(call, 500, "Internal error.");
        goto out;
    }
    int brc = blob->ops->object_publish(blob, call->writer, object_id);
    call->writer = NULL;
    if (brc != BLOB_OK) {
        upload_fail_blob(call, brc);
        goto out;
    }
    char task_id[STORE_TASK_ID_LEN + 1] = "";
    char *plan = NULL;
    store_task_job_t job;
    int rc = upload_plan(call, object_id, &plan, &job);
    store_video_upload_t u = {
        .account_id = call->key.account_id,
        .video_id = call->video.video_id,
        .object_id = object_id,
        .size = size,
        .md5 = md5_hex,
        .etag = etag,
        .mime_type = upload_mime_type(call),
        .overwrite = call->policy.overwrite != 0,
        .now_ms = ids_now_ms(),
        .task_plan = plan,
        .task_job = job.fops ? &job : NULL,
        .task_id = task_id,
    };
    if (rc == STORE_OK)
        rc = store->ops->video_set_uploaded(store, &u, &old_object);
    free(plan);
    if (rc == STORE_OK && task_id[0])
        process_pool_wake(call->ctx->processing);
    if (rc == STORE_OK && job.fops)
        snprintf(call->persistent_id, sizeof(call->persistent_id), "%s", task_id);
    if (rc != STORE_OK) {
        /* No row names the new object: remove it so nothing dangles. */
        blob->ops->object_remove(blob, object_id);
        upload_fail_store(call, rc);
        goto out;
    }
    if (old_object && blob->ops->object_remove(blob, old_object) != BLOB_OK)
        log_warn("video %s: replaced object %s not removed; the sweep will", call->video.video_id, old_object);
    ok = true;
out:
    free(old_object);
    return ok;
}

/* ---- life cycle ---- */

upload_call_t *upload_call_begin(const upload_ctx_t *ctx, const upload_request_t *req)
{
    upload_call_t *call = calloc(1, sizeof(*call));
    if (!call)
        return NULL;
    call->ctx = ctx;
    call->req = *req;
    buf_init(&call->body, 0);
    switch (req->route) {
    case UPLOAD_ROUTE_FORM:
        form_begin(call);
        break;
    case UPLOAD_ROUTE_MKBLK:
    case UPLOAD_ROUTE_BPUT:
        block_begin(call);
        break;
    case UPLOAD_ROUTE_MKFILE:
        mkfile_begin(call);
        break;
    case UPLOAD_ROUTE_TUS:
        tus_begin(call);
        break;
    default:
        break; /* refused by the HTTP layer (405, 503) */
    }
    return call;
}

void upload_call_fail(upload_call_t *call, int status, const char *message)
{
    upload_fail(call, status, message);
}

bool upload_call_failed(const upload_call_t *call)
{
    return call->failed;
}

bool upload_call_body(upload_call_t *call, const char *data, size_t len)
{
    if (call->failed) {
        call->drained += len;
        return call->drained <= UPLOAD_DRAIN_LIMIT;
    }
    switch (call->req.route) {
    case UPLOAD_ROUTE_FORM:
        return form_body(call, data, len);
    case UPLOAD_ROUTE_MKBLK:
    case UPLOAD_ROUTE_BPUT:
        return block_body(call, data, len);
    case UPLOAD_ROUTE_MKFILE:
        return mkfile_body(call, data, len);
    case UPLOAD_ROUTE_TUS:
        return tus_body(call, data, len);
    default:
        return true;
    }
}

static void upload_run(void *arg)
{
    upload_call_t *call = arg;
    call->work(call);
    call->req.on_complete(call->req.complete_arg);
}

bool upload_call_finish(upload_call_t *call)
{
    if (!call->failed) {
        switch (call->req.route) {
        case UPLOAD_ROUTE_FORM:
            form_finish(call);
            break;
        case UPLOAD_ROUTE_MKBLK:
        case UPLOAD_ROUTE_BPUT:
            block_finish(call);
            break;
        case UPLOAD_ROUTE_MKFILE:
            mkfile_finish(call);
            break;
        case UPLOAD_ROUTE_TUS:
            tus_finish(call);
            break;
        default:
            break;
        }
    }
    if (call->failed || !call->work)
        return true;
    if (!workpool_submit(call->ctx->workers, upload_run, call)) {
        call->work = NULL;
        upload_fail(call, 503, "The service is unavailable; try again.");
        return true;
    }
    return false;
}

void upload_call_response(upload_call_t *call, upload_response_t *out)
{
    if (call->req.route == UPLOAD_ROUTE_TUS)
        tus_answer_headers(call);
    out->status = call->status ? call->status : 500;
    out->body = call->body.data ? call->body.data : "";
    out->body_len = call->body.len;
    out->content_type = call->content_type ? call->content_type : "application/json; charset=utf-8";
    out->location = call->location;
    out->headers = call->headers;
    out->header_count = call->header_count;
}

const char *upload_call_access_key(const upload_call_t *call)
{
    return call->access_key;
}

void upload_call_free(upload_call_t *call)
{
    if (!call)
        return;
    if (call->req.route == UPLOAD_ROUTE_FORM)
        form_free(call);
    if (call->req.route == UPLOAD_ROUTE_MKFILE)
        mkfile_free(call);
    if (call->req.route == UPLOAD_ROUTE_MKBLK || call->req.route == UPLOAD_ROUTE_BPUT)
        block_free(call);
    if (call->req.route == UPLOAD_ROUTE_TUS)
        tus_free(call);
    for (size_t i = 0; i < call->header_count; i++)
        free(call->headers[i].value);
    if (call->writer)
        call->ctx->blob->ops->writer_close(call->writer);
    if (call->mark)
        upload_mark_release(call->mark);
    EVP_MD_CTX_free(call->md5);
    if (call->etag_ready)
        etag_free(&call->etag);
    store_key_free(&call->key);
    upload_policy_free(&call->policy);
    store_video_free(&call->video);
    free(call->file_key);
    free(call->mime_type);
    for (size_t i = 0; i < call->xcount; i++) {
        free(call->xnames[i]);
        free(call->xvalues[i]);
    }
    buf_free(&call->body);
    free(call->location);
    free(call);
}
