/*
 * video_api: getVideoInfo and getVideoList, the read side of the video
 * registry.  Both only ever see the caller's account: the account id comes
 * from the authenticated key, never from a parameter.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/errors.h"
#include "api/play_url.h"
#include "common/timeutil.h"
#include "common/video_status.h"

#define VIDEO_API_MAX_PAGE_SIZE 100
#define VIDEO_API_DEFAULT_PAGE_SIZE 10
#define VIDEO_API_MAX_PLAY_TTL 604800 /* a week: longer-lived URLs are as good as public */

static json_t *video_api_time(int64_t ms)
{
    if (ms <= 0)
        return json_null();
    char out[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(ms, out);
    return json_string(out);
}

static json_t *video_api_string(const char *s)
{
    return s ? json_string(s) : json_null();
}

static void video_api_task_fields(const api_ctx_t *ctx, const store_video_t *v, json_t *o);
static void video_api_output_fields(const play_url_t *u, const store_video_t *v, json_t *o);

/* The video's data; its URLs signed for ttl_s when its account plays signed.
 * NULL when out of memory or the URLs cannot be made. */
static json_t *video_api_to_json(const api_ctx_t *ctx, const char *base, const store_video_t *v, int64_t ttl_s)
{
    play_url_t u;
    if (!play_url_begin(&u, ctx, base, v, ttl_s))
        return NULL;
    json_t *cats = json_array();
    for (size_t i = 0; i < v->category_count; i++)
        json_array_append_new(cats, json_pack("{s:s, s:s}", "parentName", v->categories[i].parent_name,
                                              "childName", v->categories[i].child_name));
    char *play = play_url_for(&u, v->file_key);
    json_t *o = json_object();
    json_object_set_new(o, "videoId", video_api_string(v->video_id));
    json_object_set_new(o, "videoName", video_api_string(v->name));
    json_object_set_new(o, "fileId", video_api_string(v->file_id));
    json_object_set_new(o, "fileKey", video_api_string(v->file_key));
    json_object_set_new(o, "bucketName", video_api_string(v->bucket));
    json_object_set_new(o, "status", video_api_string(video_status_name(v->status)));
    json_object_set_new(o, "failReason", video_api_string(v->fail_reason));
    json_object_set_new(o, "size", v->size >= 0 ? json_integer(v->size) : json_null());
    json_object_set_new(o, "md5", video_api_string(v->md5));
    json_object_set_new(o, "etag", video_api_string(v->etag));
    json_object_set_new(o, "mimeType", video_api_string(v->mime_type));
    json_object_set_new(o, "domain", video_api_string(v->domain));
    json_object_set_new(o, "playUrl", video_api_string(play));
    json_object_set_new(o, "categories", cats);
    json_object_set_new(o, "workflowId", video_api_string(v->workflow_id));
    json_object_set_new(o, "cmd", video_api_string(v->cmd));
    json_object_set_new(o, "waterMarkName", video_api_string(v->watermark_name));
    json_object_set_new(o, "transCodeCombineName", video_api_string(v->template_name));
    json_object_set_new(o, "subtitleId", video_api_string(v->subtitle_id));
    json_object_set_new(o, "expectedSize", v->expected_size >= 0 ? json_integer(v->expected_size) : json_null());
    json_object_set_new(o, "expectedMd5", video_api_string(v->expected_md5));
    json_object_set_new(o, "createdAt", video_api_time(v->created_ms));
    json_object_set_new(o, "uploadedAt", video_api_time(v->uploaded_ms));
    json_object_set_new(o, "duration", v->duration >= 0 ? json_real(v->duration) : json_null());
    json_object_set_new(o, "width", v->width > 0 ? json_integer(v->width) : json_null());
    json_object_set_new(o, "height", v->height > 0 ? json_integer(v->height) : json_null());
    json_object_set_new(o, "codecs", video_api_string(v->codecs));
    video_api_task_fields(ctx, v, o);
    video_api_output_fields(&u, v, o);
    json_object_set_new(o, "urlsExpireAt", u.is_signed ? video_api_time(u.expires * 1000) : json_null());
    free(play);
    return o;
}

/* ---- processing fields (docs/api.md, getVideoInfo) ---- */

/* taskId and progress from the video's latest task: progress is the task's
 * while it is queued or running, 100 once the video is ready, null before
 * any task.  The task's state comes first: after reprocessVideo a `ready`
 * video (its earlier outputs still served) has a queued task at 0, and a
 * client polling progress must not read 100 for work not done yet. */
static void video_api_task_fields(const api_ctx_t *ctx, const store_video_t *v, json_t *o)
{
    store_task_t t = {0};
    int rc = ctx->store->ops->task_latest(ctx->store, v->account_id, v->video_id, &t);
    bool has = rc == STORE_OK;
    bool unfinished = has && !store_task_state_finished(t.state);
    int progress = !unfinished && v->status == VIDEO_READY ? 100 : t.progress;
    json_object_set_new(o, "taskId", has ? json_string(t.task_id) : json_null());
    json_object_set_new(o, "progress", has ? json_integer(progress) : json_null());
    store_task_free(&t);
}

static json_t *video_api_output_json(const play_url_t *u, const store_output_t *out)
{
    char *url = play_url_for(u, out->key);
    json_t *o = json_object();
    json_object_set_new(o, "type", json_string(store_output_type_name(out->type)));
    json_object_set_new(o, "template", video_api_string(out->template_name));
    json_object_set_new(o, "url", video_api_string(url));
    json_object_set_new(o, "width", out->width > 0 ? json_integer(out->width) : json_null());
    json_object_set_new(o, "height", out->height > 0 ? json_integer(out->height) : json_null());
    json_object_set_new(o, "duration", out->duration > 0 ? json_real(out->duration) : json_null());
    json_object_set_new(o, "size", json_integer(out->size));
    json_object_set_new(o, "bitrate", out->bitrate > 0 ? json_integer(out->bitrate) : json_null());
    json_object_set_new(o, "codecs", video_api_string(out->codecs));
    if (out->type == STORE_OUTPUT_VTT)
        json_object_set_new(o, "language", video_api_string(out->language));
    free(url);
    return o;
}

/* coverUrl and outputs from the video's published outputs (the cover is
 * coverUrl, not an item of outputs). */
static void video_api_output_fields(const play_url_t *u, const store_video_t *v, json_t *o)
{
    const api_ctx_t *ctx = u->ctx;
    store_output_list_t l = {0};
    json_t *outputs = json_array();
    char *cover = NULL;
    if (ctx->store->ops->video_outputs(ctx->store, v->account_id, v->video_id, &l) == STORE_OK)
        for (size_t i = 0; i < l.count; i++) {
            if (l.items[i].type == STORE_OUTPUT_COVER && !cover)
                cover = play_url_for(u, l.items[i].key);
            else if (l.items[i].type != STORE_OUTPUT_COVER)
                json_array_append_new(outputs, video_api_output_json(u, &l.items[i]));
        }
    json_object_set_new(o, "coverUrl", video_api_string(cover));
    json_object_set_new(o, "outputs", outputs);
    free(cover);
    store_output_list_free(&l);
}

/* Answers data, or an internal error when it could not be built. */
static void video_api_answer(api_call_t *call, json_t *data)
{
    if (data)
        api_call_success(call, data);
    else
        api_call_error(call, API_ERR_INTERNAL, NULL);
}

bool video_api_get_video_info(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    const param_t *id = params_get(params, "videoId");
    if (!id || id->value_len == 0) {
        api_call_error(call, API_ERR_PARAM, "Parameter videoId is required.");
        return true;
    }
    store_video_t v = {0};
    int rc = ctx->store->ops->video_get(ctx->store, call->key.account_id, id->value, &v);
    if (rc != STORE_OK) {
        /* Another account's video is as absent as one that never existed. */
        api_call_store_error(call, rc);
        store_video_free(&v);
        return true;
    }
    video_api_answer(call, video_api_to_json(ctx, api_call_public_url(ctx, call), &v, ctx->cfg->play_url_ttl));
    store_video_free(&v);
    return true;
}

json_t *video_api_video_json(const api_ctx_t *ctx, const api_call_t *call, const store_video_t *v)
{
    return video_api_to_json(ctx, api_call_public_url(ctx, call), v, ctx->cfg->play_url_ttl);
}

char *video_api_info_text(const api_ctx_t *ctx, int64_t account_id, const char *video_id)
{
    store_video_t v = {0};
    if (ctx->store->ops->video_get(ctx->store, account_id, video_id, &v) != STORE_OK) {
        store_video_free(&v);
        return NULL;
    }
    json_t *o = video_api_to_json(ctx, NULL, &v, ctx->cfg->play_url_ttl);
    char *text = o ? api_json_text(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    store_video_free(&v);
    return text;
}

/* Parses a positive decimal integer parameter within [min, max]. */
static bool video_api_int(const param_t *v, int64_t min, int64_t max, int64_t *out);

/* getPlayInfo: the video's playable URLs, signed for `expires` seconds
 * (default play-url-ttl) when its account plays signed. */
bool video_api_get_play_info(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    const param_t *id = params_get(params, "videoId"), *exp = params_get(params, "expires");
    int64_t ttl = ctx->cfg->play_url_ttl;
    if (!id || id->value_len == 0) {
        api_call_error(call, API_ERR_PARAM, "Parameter videoId is required.");
        return true;
    }
    if (exp && !video_api_int(exp, 1, VIDEO_API_MAX_PLAY_TTL, &ttl)) {
        api_call_error(call, API_ERR_PARAM, "Parameter expires must be an integer from 1 to 604800 (seconds).");
        return true;
    }
    store_video_t v = {0};
    int rc = ctx->store->ops->video_get(ctx->store, call->key.account_id, id->value, &v);
    json_t *all = rc == STORE_OK ? video_api_to_json(ctx, api_call_public_url(ctx, call), &v, ttl) : NULL;
    store_video_free(&v);
    if (rc != STORE_OK) {
        api_call_store_error(call, rc);
        return true;
    }
    static const char *const fields[] = {"videoId", "status", "urlsExpireAt", "playUrl", "coverUrl", "outputs"};
    json_t *o = all ? json_object() : NULL;
    for (size_t i = 0; o && i < sizeof(fields) / sizeof(fields[0]); i++)
        json_object_set(o, fields[i], json_object_get(all, fields[i]));
    json_decref(all);
    video_api_answer(call, o);
    return true;
}

static bool video_api_int(const param_t *v, int64_t min, int64_t max, int64_t *out)
{
    if (v->value_len == 0 || v->value_len > 12)
        return false;
    int64_t n = 0;
    for (size_t i = 0; i < v->value_len; i++) {
        if (v->value[i] < '0' || v->value[i] > '9')
            return false;
        n = n * 10 + (v->value[i] - '0');
    }
    if (n < min || n > max)
        return false;
    *out = n;
    return true;
}

bool video_api_get_video_list(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    store_video_filter_t f = {.page_index = 1, .page_size = VIDEO_API_DEFAULT_PAGE_SIZE};
    const param_t *p;
    if ((p = params_get(params, "videoName")) && p->value_len > 0)
        f.name_substring = p->value;
    if ((p = params_get(params, "status")) && p->value_len > 0) {
        f.status = video_status_parse(p->value);
        if (f.status == VIDEO_STATUS_UNKNOWN) {
            api_call_error(call, API_ERR_PARAM,
                           "Parameter status must be one of created, uploading, uploaded, processing, ready, failed.");
            return true;
        }
        f.by_status = true;
    }
    if ((p = params_get(params, "categoryName")) && p->value_len > 0)
        f.category_name = p->value;
    if ((p = params_get(params, "pageIndex")) && !video_api_int(p, 1, 1000000000, &f.page_index)) {
        api_call_error(call, API_ERR_PARAM, "Parameter pageIndex must be an integer from 1.");
        return true;
    }
    if ((p = params_get(params, "pageSize")) && !video_api_int(p, 1, VIDEO_API_MAX_PAGE_SIZE, &f.page_size)) {
        api_call_error(call, API_ERR_PARAM, "Parameter pageSize must be an integer from 1 to 100.");
        return true;
    }
    store_video_page_t page = {0};
    int rc = ctx->store->ops->video_list(ctx->store, call->key.account_id, &f, &page);
    if (rc != STORE_OK) {
        api_call_store_error(call, rc);
        store_video_page_free(&page);
        return true;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < page.count; i++)
        json_array_append_new(list, video_api_to_json(ctx, api_call_public_url(ctx, call), &page.items[i],
                                                         ctx->cfg->play_url_ttl));
    json_t *data = json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)page.total, "pageIndex",
                             (json_int_t)f.page_index, "pageSize", (json_int_t)f.page_size, "list", list);
    api_call_success(call, data);
    store_video_page_free(&page);
    return true;
}
