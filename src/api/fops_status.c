/* fops_status: a persistent job's status JSON; see fops_status.h. */
#include "api/fops_status.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/play_url.h"
#include "process/fops.h"
#include "process/fops_plan.h"

enum { FOPS_ITEM_PENDING = 0, FOPS_ITEM_PROCESSING = 1, FOPS_ITEM_FAILED = 2, FOPS_ITEM_DONE = 3 };

/* What every item of the job shares. */
typedef struct fops_status_ctx {
    const store_task_t *task;
    const store_video_t *video;
    const store_output_list_t *outputs;
    const play_url_t *urls;
    const fops_t *fops;
    const char *dir; /* the video's directory, "video/<date>/<id>" */
    size_t dir_len;
} fops_status_ctx_t;

static const store_output_t *fops_status_output(const fops_status_ctx_t *c, const char *key)
{
    for (size_t i = 0; i < c->outputs->count; i++)
        if (c->outputs->items[i].key && !strcmp(c->outputs->items[i].key, key))
            return &c->outputs->items[i];
    return NULL;
}

static int fops_status_item_code(const fops_status_ctx_t *c, const store_output_t *o)
{
    switch (c->task->state) {
    case STORE_TASK_QUEUED: return FOPS_ITEM_PENDING;
    case STORE_TASK_RUNNING: return FOPS_ITEM_PROCESSING;
    case STORE_TASK_SUCCEEDED: return o ? FOPS_ITEM_DONE : FOPS_ITEM_FAILED;
    default: return FOPS_ITEM_FAILED;
    }
}

static const char *fops_status_item_error(const fops_status_ctx_t *c, int code)
{
    if (code != FOPS_ITEM_FAILED)
        return NULL;
    if (c->task->state == STORE_TASK_CANCELED)
        return "canceled";
    if (c->task->state == STORE_TASK_SUCCEEDED)
        return "the output was not made (the source has no picture or no sound for it)";
    return c->task->error ? c->task->error : "failed";
}

static void fops_status_measures(const fops_status_ctx_t *c, const store_output_t *o, json_t *item)
{
    char *url = play_url_for(c->urls, o->key);
    char text[32];
    json_object_set_new(item, "url", url ? json_string(url) : json_null());
    free(url);
    json_object_set_new(item, "fsize", json_integer(o->size));
    json_object_set_new(item, "duration", json_real(o->duration));
    snprintf(text, sizeof(text), "%dx%d", o->width, o->height);
    json_object_set_new(item, "resolution", json_string(text));
    snprintf(text, sizeof(text), "%lld", (long long)o->bitrate);
    json_object_set_new(item, "bit_rate", json_string(text));
}

static const char *const fops_status_item_desc[] = {
    [FOPS_ITEM_PENDING] = "The fop is waiting.",
    [FOPS_ITEM_PROCESSING] = "The fop is processing.",
    [FOPS_ITEM_FAILED] = "The fop failed.",
    [FOPS_ITEM_DONE] = "The fop was completed successfully.",
};

static json_t *fops_status_item(const fops_status_ctx_t *c, size_t i, buf_t *key)
{
    const fops_task_t *t = &c->fops->tasks[i];
    buf_t path;
    buf_init(&path, 0);
    char *full = fops_plan_task_key(c->fops, i, key) &&
                         buf_printf(&path, "%.*s/%s", (int)c->dir_len, c->dir, key->data)
                     ? buf_steal(&path)
                     : NULL;
    buf_free(&path);
    const store_output_t *o = full ? fops_status_output(c, full) : NULL;
    int code = fops_status_item_code(c, o);
    const char *error = fops_status_item_error(c, code);
    json_t *item = json_pack("{s:s%,s:i,s:s,s:o,s:s?}", "cmd", c->task->fops + t->text_offset, t->text_len, "code",
                             code, "desc", fops_status_item_desc[code], "error",
                             error ? json_string(error) : json_null(), "key", full);
    if (item && o)
        fops_status_measures(c, o, item);
    free(full);
    return item;
}

static const char *fops_status_job_desc(int code)
{
    switch (code) {
    case 0: return "The job is pending.";
    case 1: return "The job is processing.";
    case 4: return "The job is done; its notification is being sent.";
    case 5: return "The job is done; its notification failed.";
    case 6: return "The job is done; its notification was delivered.";
    default: return "The job is done.";
    }
}

/* The job's code: its task's state, and its notification's once done. */
static int fops_status_job_code(const api_ctx_t *ctx, const store_task_t *t, bool notification)
{
    if (t->state == STORE_TASK_QUEUED)
        return 0;
    if (t->state == STORE_TASK_RUNNING)
        return 1;
    int state = -1;
    if (notification || !t->notify_url ||
        ctx->store->ops->job_notify_state(ctx->store, t->task_id, &state) != STORE_OK)
        return 3;
    return state == STORE_DELIVERY_PENDING ? 4 : state == STORE_DELIVERY_FAILED ? 5
                                             : state == STORE_DELIVERY_DELIVERED ? 6 : 3;
}

static json_t *fops_status_json(const api_ctx_t *ctx, fops_status_ctx_t *c, bool notification)
{
    const store_video_t *v = c->video;
    int code = fops_status_job_code(ctx, c->task, notification);
    json_t *items = json_array();
    buf_t key;
    buf_init(&key, 0);
    for (size_t i = 0; items && i < c->fops->task_count; i++)
        if (json_array_append_new(items, fops_status_item(c, i, &key)) != 0)
            json_decref(items), items = NULL;
    buf_free(&key);
    return json_pack("{s:s,s:i,s:s,s:i,s:s,s:s,s:I,s:o?}", "id", c->task->task_id, "code", code, "desc",
                     fops_status_job_desc(code), "separate", 0, "inputkey", v->file_key, "inputbucket",
                     v->bucket, "inputfsize", (json_int_t)(v->size > 0 ? v->size : 0), "items", items);
}

/* Reads what the JSON needs besides the task, then builds it. */
static char *fops_status_build(const api_ctx_t *ctx, const store_task_t *t, const store_video_t *v,
                               bool notification)
{
    fops_t *f = calloc(1, sizeof(*f));
    fops_error_t ferr;
    store_output_list_t outputs = {0};
    play_url_t urls;
    char *text = NULL;
    const char *slash = strrchr(v->file_key, '/');
    if (f && slash && fops_parse(t->fops, strlen(t->fops), f, &ferr) &&
        ctx->store->ops->video_outputs(ctx->store, v->account_id, v->video_id, &outputs) == STORE_OK &&
        play_url_begin(&urls, ctx, NULL, v, ctx->cfg->play_url_ttl)) {
        fops_status_ctx_t c = {t, v, &outputs, &urls, f, v->file_key, (size_t)(slash - v->file_key)};
        json_t *root = fops_status_json(ctx, &c, notification);
        text = root ? api_json_text(root, JSON_COMPACT) : NULL;
        json_decref(root);
    }
    store_output_list_free(&outputs);
    free(f);
    return text;
}

char *fops_status_text(const api_ctx_t *ctx, const store_task_t *t, bool notification)
{
    if (!t->fops)
        return NULL;
    store_video_t v;
    if (ctx->store->ops->video_get(ctx->store, t->account_id, t->video_id, &v) != STORE_OK)
        return NULL;
    char *text = fops_status_build(ctx, t, &v, notification);
    store_video_free(&v);
    return text;
}

char *fops_status_render(void *arg, const char *task_id)
{
    const api_ctx_t *ctx = arg;
    store_task_t t;
    if (ctx->store->ops->task_get(ctx->store, -1, task_id, &t) != STORE_OK)
        return NULL;
    char *text = fops_status_text(ctx, &t, true);
    store_task_free(&t);
    return text;
}
