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
#include <string.h>

#include "api/api_handlers.h"
#include "api/errors.h"
#include "api/token_request.h"
#include "common/timeutil.h"
#include "process/plan_freeze.h"
#include "process/plan_spec.h"
#include "process/worker.h"

static json_t *task_api_time(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char out[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(ms, out);
    return json_string(out);
}

/* The index of the step a failed task's error names by its prefix
 * ("probe: ...", "transcode: ..."), or -1 when it names none. */
static long task_api_failed_step(const plan_spec_t *plan, const char *error)
{
    for (size_t i = 0; error && i < plan->step_count; i++) {
        const char *kind = spec_step_kind_name(plan->steps[i].kind);
        size_t n = strlen(kind);
        if (!strncmp(error, kind, n) && error[n] == ':')
            return (long)i;
    }
    return -1;
}

/* A step's state: the task's, except in a failed task, where the step its
 * error names failed, those before it succeeded and those after it never
 * ran (canceled). */
static const char *task_api_step_state(const store_task_t *t, long failed, size_t i)
{
    if (t->state != STORE_TASK_FAILED || failed < 0)
        return store_task_state_name(t->state);
    return (long)i < failed ? "succeeded" : (long)i == failed ? "failed" : "canceled";
}

static json_t *task_api_steps(const store_task_t *t)
{
    json_t *steps = json_array();
    plan_spec_t *plan = calloc(1, sizeof(*plan));
    char err[PLAN_ERROR_MAX];
    if (!plan || !plan_spec_parse(t->plan, plan, err, sizeof(err))) {
        free(plan);
        return steps; /* a plan this vodup cannot read: no steps to show */
    }
    long failed = task_api_failed_step(plan, t->error);
    for (size_t i = 0; i < plan->step_count; i++) {
        const plan_step_t *s = &plan->steps[i];
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string(spec_step_kind_name(s->kind)));
        json_object_set_new(o, "name", s->name[0] ? json_string(s->name) : json_null());
        json_object_set_new(o, "state", json_string(task_api_step_state(t, failed, i)));
        json_object_set_new(o, "error", (long)i == failed ? json_string(t->error) : json_null());
        json_array_append_new(steps, o);
    }
    free(plan);
    return steps;
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
    json_object_set_new(o, "steps", task_api_steps(t));
    return o;
}

/* A required id parameter; false with the response set when missing. */
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

static void task_api_store_error(api_call_t *call, int rc, int conflict)
{
    if (rc == STORE_NOT_FOUND)
        api_call_error(call, API_ERR_TASK_NOT_FOUND, NULL);
    else if (rc == STORE_CONFLICT)
        api_call_error(call, conflict, NULL);
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
        task_api_store_error(call, rc, API_ERR_CONFLICT);
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
        task_api_store_error(call, rc, API_ERR_TASK_FINISHED);
    return true;
}

/* The settings a reprocess uses: those given (getUploadToken's rules and
 * precedence), else the video's own. */
static bool task_api_settings(const api_ctx_t *ctx, api_call_t *call, const params_t *params, const store_video_t *v,
                              token_request_t *req, plan_settings_t *out)
{
    char detail[256];
    int err = token_request_parse_processing(params, req, detail, sizeof(detail));
    if (err != API_OK) {
        api_call_error(call, err, detail);
        return false;
    }
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
        rc = ctx->store->ops->task_enqueue(ctx->store, call->key.account_id, v->video_id, plan, timeutil_now_ms(),
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

bool task_api_reprocess_video(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    const char *video_id = task_api_required(call, params, "videoId");
    if (!video_id)
        return true;
    store_video_t v = {0};
    token_request_t req;
    memset(&req, 0, sizeof(req));
    plan_settings_t settings;
    int rc = ctx->store->ops->video_get(ctx->store, call->key.account_id, video_id, &v);
    if (rc != STORE_OK)
        api_call_store_error(call, rc); /* 404: not this account's video */
    else if (!v.object_id)
        api_call_error(call, API_ERR_NOT_UPLOADED, NULL);
    else if (task_api_settings(ctx, call, params, &v, &req, &settings))
        task_api_enqueue(ctx, call, &v, &settings);
    token_request_free(&req);
    store_video_free(&v);
    return true;
}
