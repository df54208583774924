/*
 * link_api: upload links (docs/upload-links.md).  createUploadLink, a
 * signed call, makes one; the routes under /upload/<linkId> are what the
 * upload page calls, with the link id in the path as their only
 * credential: the page itself, the link's limits, registering a video
 * (getUploadToken's work, under the link's AccessKey, fileSize and
 * processing), and reading a video the link registered.  All run on
 * reader threads (they read and write the store synchronously).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "api/errors.h"
#include "api/keycache.h"
#include "api/ratelimit.h"
#include "common/ids.h"
#include "common/timeutil.h"
#include "links/link.h"
#include "web/web_assets.h"

/* ---- createUploadLink ---- */

/* An optional integer parameter in [min, max]; false with the response set. */
static bool link_api_int(api_call_t *call, const params_t *params, const char *name, int64_t *out)
{
    const param_t *p = params_get(params, name);
    if (!p)
        return true;
    char *end = NULL;
    long long v = p->value_len > 0 && p->value_len < 19 ? strtoll(p->value, &end, 10) : -1;
    if (v < 1 || !end || *end) {
        char msg[96];
        snprintf(msg, sizeof(msg), "Parameter %s must be a positive integer.", name);
        api_call_error(call, API_ERR_PARAM, msg);
        return false;
    }
    *out = v;
    return true;
}

static const char *link_api_text(const params_t *params, const char *name)
{
    const param_t *p = params_get(params, name);
    return p && p->value_len > 0 ? p->value : NULL;
}

static json_t *link_api_json(const api_ctx_t *ctx, const store_link_t *l, const char *url)
{
    char expires[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(l->expires_ms, expires);
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:s?, s:s?}", "linkId", l->link_id, "uploadLink", url, "expiresAt",
                     expires, "maxSize", (json_int_t)link_max_size(l, ctx->cfg), "uses", (json_int_t)l->uses,
                     "transCodeCombineName", l->template_name, "workflowId", l->workflow_id);
}

bool link_api_create(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    link_settings_t s = {.template_name = link_api_text(params, "transCodeCombineName"),
                         .workflow_id = link_api_text(params, "workflowId")};
    if (!link_api_int(call, params, "expiresIn", &s.expires_s) || !link_api_int(call, params, "maxSize", &s.max_size) ||
        !link_api_int(call, params, "uses", &s.uses))
        return true;
    store_link_t l;
    int store_rc = STORE_OK;
    char msg[160];
    int rc = link_make(ctx->store, ctx->cfg, call->key.account_id, call->key.access_key, &s, timeutil_now_ms(), &l,
                       &store_rc, msg, sizeof(msg));
    if (rc == LINK_BAD_SETTING) {
        char detail[200];
        snprintf(detail, sizeof(detail), "Parameter %s", msg);
        api_call_error(call, API_ERR_PARAM, detail);
        return true;
    }
    if (rc != LINK_MADE) {
        api_call_store_error(call, store_rc);
        return true;
    }
    char *url = link_url(api_call_public_url(ctx, call), l.link_id);
    json_t *data = url ? link_api_json(ctx, &l, url) : NULL;
    if (data)
        api_call_success(call, data);
    else
        api_call_error(call, API_ERR_INTERNAL, NULL);
    free(url);
    store_link_free(&l);
    return true;
}

/* ---- the page's routes ---- */

/* {"code":status,"message":msg}, the page routes' errors. */
static void link_api_fail(api_call_t *call, int status, const char *msg)
{
    json_t *j = json_pack("{s:i, s:s, s:s}", "code", status, "message", msg, "requestId",
                          call->request_id ? call->request_id : "");
    char *text = j ? api_json_text(j, JSON_COMPACT) : NULL;
    json_decref(j);
    api_call_respond(call, status, text, NULL);
}

enum link_api_state { LINK_OK = 0, LINK_UNKNOWN, LINK_GONE };

/* The link of the path, and whether it is still valid.  One with no uses
 * left stays valid: files it registered may still be chosen again (and
 * resumed); only new ones are refused (link_claim). */
static int link_api_load(const api_ctx_t *ctx, const char *link_id, store_link_t *l, int *store_rc)
{
    *store_rc = ctx->store->ops->link_get(ctx->store, link_id, l);
    if (*store_rc != STORE_OK)
        return LINK_UNKNOWN;
    return l->expires_ms < timeutil_now_ms() ? LINK_GONE : LINK_OK;
}

/* The page itself: 200, or the same page with 404 or 410 (it says why). */
static void link_api_page_html(api_call_t *call, int state)
{
    const web_asset_t *a = web_asset_find("index.html");
    char *body = a ? malloc(a->len + 1) : NULL;
    if (body) {
        memcpy(body, a->data, a->len);
        body[a->len] = '\0';
    }
    int status = state == LINK_OK ? 200 : state == LINK_GONE ? 410 : 404;
    api_call_respond(call, status, body, "text/html; charset=utf-8");
}

static void link_api_info(const api_ctx_t *ctx, api_call_t *call, const store_link_t *l)
{
    char expires[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(l->expires_ms, expires);
    json_t *ext = json_array();
    for (const char *p = ctx->cfg->media_extensions; ext && *p;) {
        size_t n = strcspn(p, ", ");
        if (n > 0)
            json_array_append_new(ext, json_stringn(p, n));
        p += n;
        p += strspn(p, ", ");
    }
    json_t *j = json_pack("{s:I, s:I, s:s, s:o?}", "maxSize", (json_int_t)link_max_size(l, ctx->cfg), "usesLeft",
                          (json_int_t)(l->uses - l->used), "expiresAt", expires, "extensions", ext);
    char *text = j ? api_json_text(j, JSON_COMPACT) : NULL;
    json_decref(j);
    api_call_respond(call, 200, text, NULL);
}

/* The link's AccessKey becomes the call's: its account, bucket and secret. */
static bool link_api_key(const api_ctx_t *ctx, api_call_t *call, const store_link_t *l)
{
    store_key_free(&call->key);
    free(call->default_domain);
    call->default_domain = NULL;
    int rc = keycache_lookup(ctx->keys, l->access_key, timeutil_monotonic_ns(), &call->key, &call->default_domain);
    if (rc != STORE_OK || !call->key.enabled || call->key.account_id != l->account_id) {
        link_api_fail(call, 410, "The upload link's AccessKey is disabled or gone.");
        return false;
    }
    /* A registration is a durable write: the link's holder spends the
     * rate of the key the link signs with, as the key's own calls do. */
    if (!ratelimit_take(ctx->ratelimit, call->key.access_key, timeutil_monotonic_ns())) {
        api_call_error(call, API_ERR_RATE_LIMIT, NULL);
        return false;
    }
    return true;
}

/* The body's name, size and fileId, as getUploadToken's parameters. */
static bool link_api_video_params(const api_ctx_t *ctx, api_call_t *call, const store_link_t *l, const params_t *in,
                                  params_t *out)
{
    const param_t *name = params_get(in, "name"), *size = params_get(in, "size"), *fid = params_get(in, "fileId");
    char file_id[LINK_FILE_ID_MAX + 1];
    char *end = NULL;
    long long n = size && size->value_len > 0 && size->value_len < 19 ? strtoll(size->value, &end, 10) : -1;
    if (!name || n < 0 || !end || *end || !fid || !link_client_file_id_valid(fid->value)) {
        link_api_fail(call, 400, "Send JSON {\"name\", \"size\", \"fileId\"} (fileId: 1..32 of A-Z a-z 0-9 _ -).");
        return false;
    }
    if (n > link_max_size(l, ctx->cfg)) {
        link_api_fail(call, 413, "The file is larger than this upload link allows.");
        return false;
    }
    char size_text[24];
    snprintf(size_text, sizeof(size_text), "%lld", n);
    bool ok = link_file_id(l->link_id, fid->value, file_id) &&
              params_add(out, "originFileName", 14, name->value, name->value_len) &&
              params_add(out, "fileSize", 8, size_text, strlen(size_text)) &&
              params_add(out, "fileId", 6, file_id, strlen(file_id)) &&
              (!l->workflow_id || params_add(out, "workflowId", 10, l->workflow_id, strlen(l->workflow_id))) &&
              (!l->template_name ||
               params_add(out, "transCodeCombineName", 20, l->template_name, strlen(l->template_name)));
    if (!ok)
        link_api_fail(call, 500, "Internal error.");
    return ok;
}

/* An error of getUploadToken's work, in the page routes' form: the HTTP
 * status as the code, the message kept. */
static void link_api_rewrap(api_call_t *call)
{
    json_t *root = call->response ? json_loads(call->response, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(root, "message"));
    char *text = msg ? strdup(msg) : NULL;
    json_decref(root);
    link_api_fail(call, call->status, text ? text : "Internal error.");
    free(text);
}

/* The answer for a file of the link whose upload completed: its video,
 * with no token (there is nothing left to upload). */
static void link_api_uploaded(const api_ctx_t *ctx, api_call_t *call, const store_video_reg_result_t *reg)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:n, s:b}", "videoId", reg->video_id, "fileKey", reg->file_key, "uploadUrl",
                          api_call_public_url(ctx, call), "uploadToken", "uploaded", 1);
    api_call_respond(call, 200, j ? api_json_text(j, JSON_COMPACT) : NULL, NULL);
    json_decref(j);
}

/* Registers a video (getUploadToken's work), then counts it against the
 * link's uses, once per fileId: a refused request spends nothing, and a
 * registration the count then refuses is never handed out (it expires
 * unused, as any registration never uploaded). */
static void link_api_register(const api_ctx_t *ctx, api_call_t *call, const store_link_t *l, const params_t *in)
{
    params_t p;
    params_init(&p);
    char file_id[LINK_FILE_ID_MAX + 1];
    if (!link_api_key(ctx, call, l) || !link_api_video_params(ctx, call, l, in, &p))
        goto out;
    const param_t *fid = params_get(in, "fileId");
    if (!link_file_id(l->link_id, fid->value, file_id)) {
        link_api_fail(call, 500, "Internal error.");
        goto out;
    }
    store_video_reg_result_t reg;
    token_api_register_now(ctx, call, &p, &reg);
    if (reg.rc == STORE_CONFLICT && reg.video_id[0]) {
        link_api_uploaded(ctx, call, &reg); /* the same file again, its upload done: the video */
        goto out;
    }
    if (call->status != 200) {
        link_api_rewrap(call);
        goto out;
    }
    int rc = ctx->store->ops->link_claim(ctx->store, l->link_id, file_id, timeutil_now_ms());
    if (rc == STORE_CONFLICT)
        link_api_fail(call, 410, "This upload link has no videos left.");
    else if (rc != STORE_OK)
        link_api_fail(call, rc == STORE_UNAVAILABLE ? 503 : 500, "The database could not count the upload; try again.");
out:
    params_free(&p);
}

/* A video the link registered, as getVideoInfo's data. */
static void link_api_video(const api_ctx_t *ctx, api_call_t *call, const store_link_t *l, const char *video_id)
{
    store_video_t v = {0};
    int rc = ctx->store->ops->video_get(ctx->store, l->account_id, video_id, &v);
    if (rc == STORE_OK && (!v.file_id || ctx->store->ops->link_has_file(ctx->store, l->link_id, v.file_id) != STORE_OK))
        rc = STORE_NOT_FOUND;
    if (rc == STORE_NOT_FOUND) {
        link_api_fail(call, 404, "No such video on this upload link.");
    } else if (rc != STORE_OK) {
        api_call_store_error(call, rc);
    } else {
        json_t *j = video_api_video_json(ctx, call, &v);
        api_call_respond(call, 200, j ? api_json_text(j, JSON_COMPACT) : NULL, NULL);
        json_decref(j);
    }
    store_video_free(&v);
}

/* Splits /upload/<linkId>[/<what>[/<id>]]; false when malformed. */
static bool link_api_path(const char *path, char link_id[STORE_LINK_ID_LEN + 1], const char **what, const char **id)
{
    const char *p = path + strlen("/upload/");
    size_t n = strcspn(p, "/");
    if (n != STORE_LINK_ID_LEN)
        return false;
    memcpy(link_id, p, n);
    link_id[n] = '\0';
    *what = p[n] ? p + n + 1 : "";
    const char *slash = strchr(*what, '/');
    *id = slash ? slash + 1 : NULL;
    return !*id || (**id && !strchr(*id, '/'));
}

static bool link_api_is(const char *what, const char *name)
{
    size_t n = strlen(name);
    return strncmp(what, name, n) == 0 && (what[n] == '\0' || what[n] == '/');
}

bool link_api_page(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    char link_id[STORE_LINK_ID_LEN + 1];
    const char *what = NULL, *id = NULL;
    bool get = strcmp(call->method, "GET") == 0;
    store_link_t l = {0};
    int store_rc = STORE_OK;
    bool known = link_api_path(call->path, link_id, &what, &id);
    bool page = get && (known ? !what[0] : !strchr(call->path + strlen("/upload/"), '/'));
    int state = known ? link_api_load(ctx, link_id, &l, &store_rc) : LINK_UNKNOWN;
    if (state == LINK_UNKNOWN && store_rc != STORE_OK && store_rc != STORE_NOT_FOUND)
        api_call_store_error(call, store_rc);
    else if (page)
        link_api_page_html(call, state);
    else if (state == LINK_UNKNOWN)
        link_api_fail(call, 404, "No such upload link.");
    else if (get && link_api_is(what, "videos") && id) /* an open page follows its videos after the expiry */
        link_api_video(ctx, call, &l, id);
    else if (state == LINK_GONE)
        link_api_fail(call, 410, "This upload link expired.");
    else if (get && !strcmp(what, "info"))
        link_api_info(ctx, call, &l);
    else if (!get && !strcmp(what, "videos"))
        link_api_register(ctx, call, &l, params);
    else
        link_api_fail(call, 404, "No such route of an upload link.");
    store_link_free(&l);
    return true;
}
