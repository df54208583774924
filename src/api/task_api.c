/*
 * task_api: getTaskInfo, reprocessVideo and cancelTask, the processing
 * side of the API (docs/api.md).  Like the video calls they only see the
 * caller's account: another account's task or video is as absent as one
 * that never existed (404).
 *
 * They run on a reader thread (api.c defers them): reprocessVideo and
 * cancelTask wait for a durable store write, which must never happen on an
 * HTTP poll thread.  A task's steps come from its frozen plan, so they show
 * what the task was asked to do when it was queued, whatever the resources
 * look like now.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "api/api_handlers.h"
#include "api/errors.h"
#include "api/task_steps.h"
#include "api/token_request.h"
#include "common/timeutil.h"
#include "process/plan_freeze.h"
#include "process/worker.h"

static json_t *task_api_time(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char out[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(ms, out);
    return json_string(out);
}

static json_t *task_api_to_json(const store_task_t *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "taskId", json_string(t->task_id));
    json_object_set_new(o, "videoId", json_string(t->video_id));
    json_object_set_new(o, "state", json_string(store_task_state_name(t->state)));
    json_object_set_new(o, "progress", json_integer(t->progress));
    json_object_set_new(o, "attempts", json_integer(t->attempts));
    json_object_set_new(o, "error", t->error ? json_string(t->error) : json_null());
    json_object_set_new(o, "createdAt", task_api_time(t->created_ms));
    json_object_set_new(o, "startedAt", task_api_time(t->started_ms));
    json_object_set_new(o, "finishedAt", task_api_time(t->finished_ms));
    json_object_set_new(o, "steps", task_steps_json(t->plan, t->state, t->error));
    return o;
}

/* A required id parameter; NULL with the response set when missing. */
static const char *task_api_required(api_call_t *call, const params_t *params, const char *name)
{
    const param_t *p = params_get(params, name);
    if (p && p->value_len > 0)
        return p->value;
    char msg[64];
    snprintf(msg, sizeof(msg), "Parameter %s is required.", name);
    api_call_error(call, API_ERR_PARAM, msg);
    return NULL;
}

/* A task call's store error: an unknown task (or another account's) is
 * 404, a finished one (only task_cancel says so) 409. */
static void task_api_store_error(api_call_t *call, int rc)
{
    if (rc == STORE_NOT_FOUND)
        api_call_error(call, API_ERR_TASK_NOT_FOUND, NULL);
    else if (rc == STORE_CONFLICT)
        api_call_error(call, API_ERR_TASK_FINISHED, NULL);
    else
        api_call_store_error(call, rc);
}

/* Answers with the task `task_id` of the caller's account. */
static void task_api_answer(const api_ctx_t *ctx, api_call_t *call, const char *task_id)
{
    store_task_t t = {0};
    int rc = ctx->store->ops->task_get(ctx->store, call->key.account_id, task_id, &t);
    if (rc == STORE_OK)
        api_call_success(call, task_api_to_json(&t));
    else
        task_api_store_error(call, rc);
    store_task_free(&t);
}

bool task_api_get_task_info(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    const char *task_id = task_api_required(call, params, "taskId");
    if (task_id)
        task_api_answer(ctx, call, task_id);
    return true;
}

bool task_api_cancel_task(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    const char *task_id = task_api_required(call, params, "taskId");
    if (!task_id)
        return true;
    int rc = ctx->store->ops->task_cancel(ctx->store, call->key.account_id, task_id, timeutil_now_ms());
    if (rc == STORE_OK)
        task_api_answer(ctx, call, task_id);
    else
        task_api_store_error(call, rc);
    return true;
}

/* The settings a reprocess uses: those given (parsed with getUploadToken's
 * rules and precedence, and existing in the caller's account), else the
 * video's own.  False with the response set when a given one is refused. */
static bool task_api_settings(const api_ctx_t *ctx, api_call_t *call, const token_request_t *req,
                              const store_video_t *v, plan_settings_t *out)
{
    bool given = req->workflow_id || req->watermark_name || req->template_name || req->subtitle_id;
    if (given && !token_api_resources_exist(ctx, call, req))
        return false;
    *out = given ? (plan_settings_t){req->workflow_id, req->template_name, req->watermark_name, req->subtitle_id}
                 : (plan_settings_t){v->workflow_id, v->template_name, v->watermark_name, v->subtitle_id};
    return true;
}

static void task_api_enqueue(const api_ctx_t *ctx, api_call_t *call, const store_video_t *v,
                             const plan_settings_t *settings)
{
    char *plan = NULL;
    char task_id[STORE_TASK_ID_LEN + 1] = "";
    int rc = plan_freeze(ctx->store, call->key.account_id, settings, v->object_id, v->file_key, &plan);
    if (rc == STORE_OK)
        rc = ctx->store->ops->task_enqueue(ctx->store, call->key.account_id, v->video_id, plan, NULL, timeutil_now_ms(),
                                           task_id);
    free(plan);
    if (rc != STORE_OK) {
        if (rc == STORE_CONFLICT)
            api_call_error(call, API_ERR_NOT_UPLOADED, NULL);
        else
            api_call_store_error(call, rc);
        return;
    }
    process_pool_wake(ctx->processing);
    api_call_success(call, json_pack("{s:s}", "taskId", task_id));
}

/* Checks run in the order of the API's error rules: the parameters as
 * written (400), the video (404), the named resources (400), and last the
 * video's state (409), as getUploadToken checks its 409 last. */
bool task_api_reprocess_video(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    const char *video_id = task_api_required(call, params, "videoId");
    if (!video_id)
        return true;
    store_video_t v = {0};
    token_request_t req;
    plan_settings_t settings;
    char detail[256];
    int err = token_request_parse_processing(params, &req, detail, sizeof(detail));
    if (err != API_OK) {
        api_call_error(call, err, detail);
        goto out;
    }
    int rc = ctx->store->ops->video_get(ctx->store, call->key.account_id, video_id, &v);
    if (rc != STORE_OK) {
        api_call_store_error(call, rc); /* 404: not this account's video */
        goto out;
    }
    if (!task_api_settings(ctx, call, &req, &v, &settings))
        goto out;
    if (!v.object_id)
        api_call_error(call, API_ERR_NOT_UPLOADED, NULL);
    else
        task_api_enqueue(ctx, call, &v, &settings);
out:
    token_request_free(&req);
    store_video_free(&v);
    return true;
}
