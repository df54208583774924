/*
 * token_api: POST|GET /vod/videoManage/getUploadToken.
 *
 * Validates the parameters (token_request.c), checks that the named domain
 * and processing resources exist in the caller's account, registers the
 * video through the store's group commit, and answers with the ids, the
 * uploadUrl and a WCS upload token for scope bucket:fileKey.  The answer is
 * built only after the store reports the registration durable (group
 * commit), so a client never holds a token for a video the registry could
 * forget; it is built on the poll thread after the resume, keeping the
 * store's single writer thread free of JSON and HMAC work.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_handlers.h"
#include "process/fops_plan.h"
#include "api/errors.h"
#include "api/filekey.h"
#include "api/token_request.h"
#include "auth/upload_token.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timeutil.h"

/* What the continuation needs once the store has answered. */
typedef struct token_api_pending {
    bool overwrite;
    int64_t file_size;
    int64_t now_ms;
    store_video_reg_result_t result;
} token_api_pending_t;

/* Checks one named resource; false with the response set when missing. */
static bool token_api_resource_exists(const api_ctx_t *ctx, api_call_t *call, int kind, const char *id,
                                      const char *param)
{
    store_resource_t r = {0};
    int rc = ctx->store->ops->resource_get(ctx->store, call->key.account_id, kind, id, &r);
    store_resource_free(&r);
    if (rc == STORE_OK)
        return true;
    if (rc == STORE_NOT_FOUND) {
        char msg[128];
        snprintf(msg, sizeof(msg), "Parameter %s does not exist.", param);
        api_call_error(call, API_ERR_PARAM, msg);
    } else {
        api_call_store_error(call, rc);
    }
    return false;
}

bool token_api_resources_exist(const api_ctx_t *ctx, api_call_t *call, const token_request_t *req)
{
    return (!req->workflow_id || token_api_resource_exists(ctx, call, STORE_WORKFLOW, req->workflow_id, "workflowId")) &&
           (!req->watermark_name ||
            token_api_resource_exists(ctx, call, STORE_WATERMARK, req->watermark_name, "waterMarkName")) &&
           (!req->template_name ||
            token_api_resource_exists(ctx, call, STORE_TEMPLATE, req->template_name, "transCodeCombineName")) &&
           (!req->subtitle_id || token_api_resource_exists(ctx, call, STORE_SUBTITLE, req->subtitle_id, "subtitleId"));
}

/* Resolves the playback domain: the named one, else the account default
 * (from the key lookup), else "" (playUrl then uses the server's own
 * public URL). */
static bool token_api_domain(const api_ctx_t *ctx, api_call_t *call, const char *name, char **out)
{
    if (!name) {
        *out = strdup(call->default_domain ? call->default_domain : "");
        if (!*out)
            api_call_error(call, API_ERR_INTERNAL, NULL);
        return *out != NULL;
    }
    store_domain_t d = {0};
    int rc = ctx->store->ops->domain_get(ctx->store, call->key.account_id, name, &d);
    if (rc == STORE_OK) {
        *out = d.name;
        return true;
    }
    free(d.name);
    if (rc == STORE_NOT_FOUND)
        api_call_error(call, API_ERR_PARAM, "Parameter domain is not configured for this account.");
    else
        api_call_store_error(call, rc);
    return false;
}

static json_t *token_api_policy(const char *bucket, const char *file_key, int64_t deadline_ms, bool overwrite,
                                int64_t fsize_limit)
{
    char scope[1400];
    char deadline[32];
    snprintf(scope, sizeof(scope), "%s:%s", bucket, file_key);
    snprintf(deadline, sizeof(deadline), "%lld", (long long)deadline_ms);
    json_t *policy = json_pack("{s:s, s:s, s:i}", "scope", scope, "deadline", deadline, "overwrite", overwrite ? 1 : 0);
    /* fsizeLimit 0 means "no limit" to WCS, so an expected size of 0 is not
     * put in the token; the upload endpoint enforces the registered
     * expected size itself. */
    if (policy && fsize_limit > 0)
        json_object_set_new(policy, "fsizeLimit", json_integer(fsize_limit));
    return policy;
}

/* Poll thread, after the resume: mint the token and build the answer. */
static void token_api_respond(const api_ctx_t *ctx, api_call_t *call)
{
    token_api_pending_t *pending = call->pending;
    const store_video_reg_result_t *result = &pending->result;
    const config_t *cfg = ctx->cfg;
    buf_t token;
    buf_init(&token, 0);
    char *policy_text = NULL;
    json_t *policy = NULL;

    if (result->rc != STORE_OK) {
        api_call_store_error(call, result->rc);
        goto out;
    }
    policy = token_api_policy(call->key.bucket, result->file_key, pending->now_ms + cfg->token_lifetime * 1000,
                              pending->overwrite, pending->file_size);
    policy_text = policy ? api_json_text(policy, JSON_COMPACT) : NULL;
    if (!policy_text || !upload_token_mint(call->key.access_key, call->key.secret_key, policy_text, &token)) {
        api_call_error(call, API_ERR_INTERNAL, NULL);
        goto out;
    }
    /* Ids, keys, tokens and buckets are ASCII by construction, so they skip
     * jansson's UTF-8 check; configured strings do not. */
    json_t *data = json_object();
    if (data) {
        json_object_set_new_nocheck(data, "videoId", json_string_nocheck(result->video_id));
        json_object_set_new_nocheck(data, "fileKey", json_string_nocheck(result->file_key));
        json_object_set_new_nocheck(data, "uploadUrl", json_string(api_call_public_url(ctx, call)));
        json_object_set_new_nocheck(data, "uploadToken", json_string_nocheck(token.data));
        json_object_set_new_nocheck(data, "bucketName", json_string_nocheck(call->key.bucket));
        json_object_set_new_nocheck(data, "httpDnsServer", json_string(cfg->http_dns_server));
        json_object_set_new_nocheck(data, "speedDomainlUrl", json_string(cfg->speed_domain_url));
    }
    if (!data || json_object_size(data) != 7) {
        json_decref(data);
        api_call_error(call, API_ERR_INTERNAL, NULL);
        goto out;
    }
    api_call_success(call, data);
out:
    free(policy_text);
    json_decref(policy);
    buf_free(&token);
    free(pending);
    call->pending = NULL;
}

/* Store writer thread: keep the result and wake the connection; nothing
 * else, because every microsecond here is serial across all requests. */
static void token_api_registered(void *arg, const store_video_reg_result_t *result)
{
    api_call_t *call = arg;
    ((token_api_pending_t *)call->pending)->result = *result;
    call->on_complete(call);
}

/* cmd is the vendor's fops (process/fops.h): one that cannot run on this
 * video is refused now, not discovered after the upload. */
static bool token_api_cmd_ok(api_call_t *call, const char *cmd, const char *file_key)
{
    fops_t *f = malloc(sizeof(*f));
    char err[FOPS_ERROR_MAX + 64];
    bool ok = f && fops_plan_parse(cmd, strlen(cmd), call->key.bucket, f, err, sizeof(err)) &&
              fops_plan_check(f, file_key, err, sizeof(err));
    free(f);
    if (!ok) {
        char msg[sizeof(err) + 32];
        snprintf(msg, sizeof(msg), "Parameter cmd: %s", f ? err : "out of memory");
        api_call_error(call, API_ERR_PARAM, msg);
    }
    return ok;
}

/* A registration being built: the request parsed, its ids and key made. */
typedef struct token_api_reg {
    token_request_t req;
    char video_id[IDS_VIDEO_ID_LEN + 1];
    char *domain;
    buf_t file_key;
    int64_t now_ms;
    store_video_reg_t reg;
} token_api_reg_t;

static void token_api_reg_free(token_api_reg_t *r)
{
    free(r->domain);
    buf_free(&r->file_key);
    token_request_free(&r->req);
}

/* Parses and checks the request and fills r->reg; false with the response
 * set.  r must be freed either way. */
static bool token_api_prepare(const api_ctx_t *ctx, api_call_t *call, const params_t *params, token_api_reg_t *r)
{
    char detail[256];
    memset(r, 0, sizeof(*r));
    buf_init(&r->file_key, 0);
    int err = token_request_parse(params, ctx->cfg, &r->req, detail, sizeof(detail));
    if (err != API_OK) {
        api_call_error(call, err, detail);
        return false;
    }
    const token_request_t *req = &r->req;
    if (!token_api_domain(ctx, call, req->domain, &r->domain) || !token_api_resources_exist(ctx, call, req))
        return false;
    r->now_ms = timeutil_now_ms();
    if (!ids_video_id(r->now_ms, r->video_id) || !filekey_build(req->name, req->name_len, r->video_id, r->now_ms,
                                                                 &r->file_key)) {
        api_call_error(call, API_ERR_INTERNAL, NULL);
        return false;
    }
    if (req->cmd && !token_api_cmd_ok(call, req->cmd, r->file_key.data))
        return false;
    r->reg = (store_video_reg_t){
        .account_id = call->key.account_id,
        .video_id = r->video_id,
        .file_id = req->file_id,
        .name = req->name,
        .file_key = r->file_key.data,
        .bucket = call->key.bucket,
        .domain = r->domain,
        .expected_size = req->file_size,
        .expected_md5 = req->file_md5[0] ? req->file_md5 : NULL,
        .overwrite = req->overwrite,
        .workflow_id = req->workflow_id,
        .cmd = req->cmd,
        .watermark_name = req->watermark_name,
        .template_name = req->template_name,
        .subtitle_id = req->subtitle_id,
        .categories = req->categories,
        .category_count = req->category_count,
        .now_ms = r->now_ms,
    };
    return true;
}

static token_api_pending_t *token_api_pending_new(api_call_t *call, const token_api_reg_t *r)
{
    token_api_pending_t *pending = malloc(sizeof(*pending));
    if (!pending) {
        api_call_error(call, API_ERR_INTERNAL, NULL);
        return NULL;
    }
    *pending = (token_api_pending_t){.overwrite = r->req.overwrite, .file_size = r->req.file_size, .now_ms = r->now_ms};
    call->pending = pending;
    return pending;
}

bool token_api_get_upload_token(const api_ctx_t *ctx, api_call_t *call, const params_t *params)
{
    token_api_reg_t r;
    bool ready = true;
    if (token_api_prepare(ctx, call, params, &r) && token_api_pending_new(call, &r)) {
        call->continuation = token_api_respond;
        /* From here the call belongs to the store's writer thread until
         * token_api_registered runs. */
        ready = false;
        ctx->store->ops->video_register(ctx->store, &r.reg, token_api_registered, call);
    }
    token_api_reg_free(&r);
    return ready;
}

/* Drops the getUploadToken envelope: the upload page gets its data. */
static void token_api_unwrap(api_call_t *call)
{
    json_t *root = call->status == 200 && call->response ? json_loads(call->response, 0, NULL) : NULL;
    json_t *data = root ? json_object_get(root, "data") : NULL;
    char *text = data ? api_json_text(data, JSON_COMPACT) : NULL;
    if (text)
        api_call_respond(call, 200, text, NULL);
    json_decref(root);
}

bool token_api_register_now(const api_ctx_t *ctx, api_call_t *call, const params_t *params,
                            store_video_reg_result_t *result)
{
    token_api_reg_t r;
    token_api_pending_t *pending = NULL;
    memset(result, 0, sizeof(*result));
    result->rc = STORE_INVALID;
    if (token_api_prepare(ctx, call, params, &r) && (pending = token_api_pending_new(call, &r)) != NULL) {
        pending->result.rc = store_video_register_sync(ctx->store, &r.reg, &pending->result);
        *result = pending->result;
        token_api_respond(ctx, call);
        token_api_unwrap(call);
    }
    token_api_reg_free(&r);
    return true;
}
