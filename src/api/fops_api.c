/*
 * fops_api: the vendor's persistent-processing calls, so that the WCS SDKs'
 * fops() and fopsStatus() work against vodup unchanged.
 *
 *   POST /fops  (management token, auth/mgr_token.h)
 *     form: bucket, key, fops, notifyURL (each URL-safe base64), force, separate
 *     -> 200 {"persistentId":"<id>"}
 *   GET /status/get/prefop?persistentId=<id>  (no token: the id is the capability)
 *     -> 200 the job's status (fops_status.h)
 *
 * A job runs the fops on the video whose fileKey is `key` (the account's
 * bucket, an uploaded video); its outputs join the video's earlier ones
 * (an output of the same key is replaced), as the vendor's do.
 * force and separate are accepted (0 or 1) and change nothing: vodup always
 * runs the job, and always notifies once per job.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/errors.h"
#include "api/fops_status.h"
#include "api/params.h"
#include "common/encoding.h"
#include "common/timeutil.h"
#include "events/event_url.h"
#include "process/fops_plan.h"
#include "process/plan_freeze.h"
#include "process/worker.h"

#define FOPS_API_FIELD_MAX 8192 /* encoded bytes of one form field */

/* One job submission, as read from the form. */
typedef struct fops_api_job {
    char *bucket, *key, *fops, *notify_url;
    fops_t parsed;
} fops_api_job_t;

static void fops_api_job_free(fops_api_job_t *j)
{
    free(j->bucket);
    free(j->key);
    free(j->fops);
    free(j->notify_url);
}

/* The URL-safe base64 field `name`, decoded (NUL-terminated, no NUL
 * inside), into *out; false (response set) when missing or malformed. */
static bool fops_api_field(api_call_t *call, const params_t *p, const char *name, bool required, char **out)
{
    const param_t *v = params_get(p, name);
    char msg[128];
    if (!v || v->value_len == 0) {
        if (required) {
            snprintf(msg, sizeof(msg), "Parameter %s is required.", name);
            api_call_error(call, API_ERR_PARAM, msg);
        }
        return !required;
    }
    buf_t b;
    buf_init(&b, 0);
    bool ok = v->value_len <= FOPS_API_FIELD_MAX && encoding_b64url_decode(v->value, v->value_len, &b) &&
              buf_append(&b, "", 1) && strlen(b.data) + 1 == b.len;
    if (!ok) {
        buf_free(&b);
        snprintf(msg, sizeof(msg), "Parameter %s must be URL-safe base64 of text.", name);
        api_call_error(call, API_ERR_PARAM, msg);
        return false;
    }
    *out = b.data;
    return true;
}

static bool fops_api_flag(api_call_t *call, const params_t *p, const char *name)
{
    const param_t *v = params_get(p, name);
    if (!v || (v->value_len == 1 && (v->value[0] == '0' || v->value[0] == '1')))
        return true;
    char msg[64];
    snprintf(msg, sizeof(msg), "Parameter %s is neither 0 nor 1.", name);
    api_call_error(call, API_ERR_PARAM, msg);
    return false;
}


static bool fops_api_read(const api_ctx_t *ctx, api_call_t *call, const params_t *p, fops_api_job_t *j)
{
    char err[FOPS_ERROR_MAX + 64];
    if (!fops_api_field(call, p, "bucket", true, &j->bucket) || !fops_api_field(call, p, "key", true, &j->key) ||
        !fops_api_field(call, p, "fops", true, &j->fops) ||
        !fops_api_field(call, p, "notifyURL", false, &j->notify_url) || !fops_api_flag(call, p, "force") ||
        !fops_api_flag(call, p, "separate"))
        return false;
    if (strcmp(j->bucket, call->key.bucket) != 0) {
        api_call_error(call, API_ERR_PARAM, "Parameter bucket is not this account's bucket.");
        return false;
    }
    if (!fops_plan_parse(j->fops, strlen(j->fops), call->key.bucket, &j->parsed, err, sizeof(err)) ||
        (j->notify_url && !event_url_permitted(j->notify_url, ctx->cfg->callback_allow_hosts, err, sizeof(err)))) {
        api_call_error(call, API_ERR_PARAM, err);
        return false;
    }
    return true;
}

/* Queues the job on video v; false (response set) when it cannot run. */
static bool fops_api_enqueue(const api_ctx_t *ctx, api_call_t *call, const store_video_t *v, fops_api_job_t *j,
                             char task_id[STORE_TASK_ID_LEN + 1])
{
    char err[FOPS_ERROR_MAX + 64] = "";
    char *plan = NULL;
    if (!v->object_id) { /* registered, never uploaded: nothing to process */
        api_call_error(call, API_ERR_NOT_UPLOADED, NULL);
        return false;
    }
    int rc = plan_freeze_fops(ctx->store, call->key.account_id, NULL, &j->parsed, v->object_id, v->file_key, &plan,
                              err, sizeof(err));
    store_task_job_t job = {j->fops, j->notify_url, call->key.access_key};
    if (rc == STORE_OK)
        rc = ctx->store->ops->task_enqueue(ctx->store, call->key.account_id, v->video_id, plan, &job,
                                           timeutil_now_ms(), task_id);
    free(plan);
    if (rc == STORE_INVALID && err[0])
        api_call_error(call, API_ERR_PARAM, err);
    else if (rc == STORE_CONFLICT)
        api_call_error(call, API_ERR_NOT_UPLOADED, NULL);
    else if (rc != STORE_OK)
        api_call_store_error(call, rc);
    return rc == STORE_OK;
}

static void fops_api_answer(api_call_t *call, json_t *root)
{
    char *text = root ? api_json_text(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!text) {
        api_call_error(call, API_ERR_INTERNAL, NULL);
        return;
    }
    free(call->response);
    call->response = text;
    call->status = 200;
}

bool fops_api_submit(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    fops_api_job_t j = {0};
    store_video_t v;
    char task_id[STORE_TASK_ID_LEN + 1];
    if (fops_api_read(ctx, call, params, &j)) {
        int rc = ctx->store->ops->video_find_by_key(ctx->store, call->key.account_id, j.key, &v);
        if (rc != STORE_OK) {
            api_call_error(call, rc == STORE_NOT_FOUND ? API_ERR_VIDEO_NOT_FOUND : API_ERR_INTERNAL,
                           rc == STORE_NOT_FOUND ? "No video of this account has that key." : NULL);
        } else {
            if (fops_api_enqueue(ctx, call, &v, &j, task_id)) {
                if (ctx->processing)
                    process_pool_wake(ctx->processing);
                fops_api_answer(call, json_pack("{s:s}", "persistentId", task_id));
            }
            store_video_free(&v);
        }
    }
    fops_api_job_free(&j);
    return true;
}

bool fops_api_status(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    const param_t *id = params_get(params, "persistentId");
    store_task_t t;
    if (!id || id->value_len != STORE_TASK_ID_LEN || memchr(id->value, '\0', id->value_len)) {
        api_call_error(call, API_ERR_PARAM, "Parameter persistentId is missing or malformed.");
        return true;
    }
    int rc = ctx->store->ops->task_get(ctx->store, -1, id->value, &t);
    char *text = rc == STORE_OK ? fops_status_text(ctx, &t, false) : NULL;
    if (rc == STORE_OK)
        store_task_free(&t);
    if (text) {
        free(call->response);
        call->response = text;
        call->status = 200;
    } else if (rc == STORE_OK || rc == STORE_NOT_FOUND) {
        api_call_error(call, API_ERR_TASK_NOT_FOUND, "No persistent job has that persistentId.");
    } else {
        api_call_store_error(call, rc);
    }
    return true;
}
