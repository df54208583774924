/*
 * api.c: routing, the two stages of every API call (see api.h), request
 * authentication and the JSON envelopes.  Handlers for each API family live
 * in token_api.c and video_api.c.
 *
 * Order of checks, as docs/api.md states it: route (404), method (405),
 * authentication headers (401), declared body size (413), then with the body
 * in: signature (401), key disabled (403), rate limit (429), content type
 * (415), body syntax (400), and the parameters in the order of the error
 * table.  A disabled key or an exhausted rate limit is only reported to a
 * caller who proved it holds the secret, so neither leaks to a stranger.
 */
#include "api/api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/api_handlers.h"
#include "api/errors.h"
#include "api/params.h"
#include "api/keycache.h"
#include "api/ratelimit.h"
#include "auth/mgr_token.h"
#include "common/log.h"
#include "common/workpool.h"
#include "common/timeutil.h"

typedef bool (*api_handler_fn)(const api_ctx_t *ctx, api_call_t *call, const params_t *params);

/* Every API call: its path, its handler, and whether it runs on a reader
 * thread (registry reads and the task calls' durable writes) rather than
 * on the poll thread (getUploadToken, which hands its write to the store's
 * group commit and resumes later). */
/* How a route's caller proves who it is: a WS3-HMAC-SHA256 signature (the
 * VoD API), the WCS management token (the vendor SDKs' management calls,
 * auth/mgr_token.h; the body is a form whatever its Content-Type, as the
 * SDKs send none), or nothing (a persistent job's status: its id is the
 * capability, as with the vendor, whose Python SDK sends no token). */
enum api_auth { API_AUTH_WS3 = 0, API_AUTH_MANAGE, API_AUTH_NONE };

/* A path matches a row exactly, or, for a prefix row, by its start (the
 * upload page's routes under /upload/<linkId>/, whose link id in the path
 * is the capability: API_AUTH_NONE, the handler checks it). */
static const struct api_route_row {
    const char *path;
    api_handler_fn handler;
    bool deferred;
    enum api_auth auth;
    bool prefix;
} api_routes[] = {
    {"/vod/videoManage/getUploadToken", token_api_get_upload_token, false, API_AUTH_WS3, false},
    {"/vod/videoManage/getVideoInfo", video_api_get_video_info, true, API_AUTH_WS3, false},
    {"/vod/videoManage/getVideoList", video_api_get_video_list, true, API_AUTH_WS3, false},
    {"/vod/videoManage/getTaskInfo", task_api_get_task_info, true, API_AUTH_WS3, false},
    {"/vod/videoManage/reprocessVideo", task_api_reprocess_video, true, API_AUTH_WS3, false},
    {"/vod/videoManage/cancelTask", task_api_cancel_task, true, API_AUTH_WS3, false},
    {"/vod/videoManage/deleteVideo", delete_api_delete_video, true, API_AUTH_WS3, false},
    {"/vod/videoManage/getPlayInfo", video_api_get_play_info, true, API_AUTH_WS3, false},
    {"/fops", fops_api_submit, true, API_AUTH_MANAGE, false},
    {"/status/get/prefop", fops_api_status, true, API_AUTH_NONE, false},
    {"/vod/videoManage/createUploadLink", link_api_create, true, API_AUTH_WS3, false},
    {"/upload/", link_api_page, true, API_AUTH_NONE, true},
};

#define API_ROUTE_COUNT (sizeof(api_routes) / sizeof(api_routes[0]))

int api_route_find(const char *path)
{
    for (size_t i = 0; i < API_ROUTE_COUNT; i++) {
        const struct api_route_row *r = &api_routes[i];
        if (r->prefix ? strncmp(r->path, path, strlen(r->path)) == 0 : strcmp(r->path, path) == 0)
            return (int)i + 1;
    }
    return API_ROUTE_NONE;
}

static const struct api_route_row *api_route_row(int route)
{
    return route > API_ROUTE_NONE && (size_t)route <= API_ROUTE_COUNT ? &api_routes[route - 1] : NULL;
}

const char *api_route_path(int route)
{
    const struct api_route_row *row = api_route_row(route);
    return row ? row->path : NULL;
}

void api_call_init(api_call_t *call, const api_ctx_t *ctx)
{
    memset(call, 0, sizeof(*call));
    buf_init(&call->body, (size_t)ctx->cfg->api_body_limit);
}

void api_call_resume(const api_ctx_t *ctx, api_call_t *call)
{
    if (call->continuation) {
        void (*fn)(const api_ctx_t *, api_call_t *) = call->continuation;
        call->continuation = NULL;
        fn(ctx, call);
    }
}

void api_call_reset(api_call_t *call)
{
    buf_free(&call->body);
    store_key_free(&call->key);
    free(call->default_domain);
    call->default_domain = NULL;
    free(call->pending);
    call->pending = NULL;
    free(call->response);
    call->response = NULL;
}

char *api_json_text(const json_t *root, size_t flags)
{
    /* Most answers fit the stack buffer: one exact-size malloc instead of
     * jansson's growing buffer. */
    char stackbuf[4096];
    size_t n = root ? json_dumpb(root, stackbuf, sizeof(stackbuf), flags) : 0;
    if (n == 0 || n > sizeof(stackbuf))
        return root ? json_dumps(root, flags) : NULL;
    char *text = malloc(n + 1);
    if (text) {
        memcpy(text, stackbuf, n);
        text[n] = '\0';
    }
    return text;
}

static void api_call_set_json(api_call_t *call, int status, json_t *root)
{
    free(call->response);
    call->content_type = NULL;
    call->status = status;
    call->response = api_json_text(root, JSON_COMPACT);
    json_decref(root);
    if (!call->response) {
        /* Out of memory: a fixed body still tells the client what happened. */
        char fallback[160];
        snprintf(fallback, sizeof(fallback), "{\"code\":500,\"message\":\"Internal error.\",\"requestId\":\"%.40s\"}",
                 call->request_id ? call->request_id : "");
        call->status = 500;
        call->response = strdup(fallback);
    }
}

const char *api_call_public_url(const api_ctx_t *ctx, const api_call_t *call)
{
    return call->public_url ? call->public_url : ctx->public_url;
}

void api_call_respond(api_call_t *call, int status, char *body, const char *content_type)
{
    free(call->response);
    call->status = status;
    call->response = body;
    call->content_type = content_type;
    if (!body)
        api_call_error(call, API_ERR_INTERNAL, NULL);
}

void api_call_error(api_call_t *call, int err, const char *detail)
{
    const api_error_info_t *info = api_error_info(err);
    json_t *root = json_pack("{s:i, s:s, s:s}", "code", info->code, "message", detail ? detail : info->message,
                             "requestId", call->request_id ? call->request_id : "");
    api_call_set_json(call, info->http_status, root);
}

void api_call_store_error(api_call_t *call, int rc)
{
    switch (rc) {
    case STORE_NOT_FOUND:
        api_call_error(call, API_ERR_VIDEO_NOT_FOUND, NULL);
        break;
    case STORE_CONFLICT:
        api_call_error(call, API_ERR_CONFLICT, NULL);
        break;
    case STORE_UNAVAILABLE:
        api_call_error(call, API_ERR_UNAVAILABLE, "The database is unavailable; try again later.");
        break;
    default:
        log_error("request %s: store error: %s", call->request_id, store_rc_name(rc));
        api_call_error(call, API_ERR_INTERNAL, NULL);
        break;
    }
}

void api_call_success(api_call_t *call, void *json_data)
{
    json_t *root = json_object();
    if (root) {
        json_object_set_new_nocheck(root, "code", json_integer(200));
        json_object_set_new_nocheck(root, "message", json_string_nocheck(api_error_info(API_OK)->message));
    }
    if (!root || json_object_set_new_nocheck(root, "data", (json_t *)json_data) != 0) {
        json_decref(root);
        api_call_error(call, API_ERR_INTERNAL, NULL);
        return;
    }
    api_call_set_json(call, 200, root);
}

static const char *api_header(const api_call_t *call, const char *lowercase_name)
{
    return call->header_lookup(call->header_ctx, lowercase_name);
}

/* Parses X-WS-Timestamp: decimal seconds, nothing else. */
static bool api_parse_timestamp(const char *s, int64_t *out)
{
    int64_t v = 0;
    if (!s || !*s || strlen(s) > 12)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

static int api_body_type_of(const char *content_type)
{
    if (!content_type)
        return API_BODY_NONE;
    size_t n = strcspn(content_type, ";");
    while (n > 0 && content_type[n - 1] == ' ')
        n--;
    const char *s = content_type;
    while (*s == ' ' && n > 0) {
        s++;
        n--;
    }
    if (n == strlen("application/x-www-form-urlencoded") &&
        strncasecmp(s, "application/x-www-form-urlencoded", n) == 0)
        return API_BODY_FORM;
    if (n == strlen("application/json") && strncasecmp(s, "application/json", n) == 0)
        return API_BODY_JSON;
    return -1;
}

/* Stage-1 authentication of a management call: its AccessKey. */
static bool api_authenticate_manage(const api_ctx_t *ctx, api_call_t *call)
{
    const char *sign = NULL;
    char ak[MGR_TOKEN_ACCESS_KEY_MAX + 1];
    if (!mgr_token_split(api_header(call, "authorization"), ak, &sign)) {
        api_call_error(call, API_ERR_AUTH, "Authentication failed: Authorization must be <AccessKey>:<sign>.");
        return false;
    }
    if (strlen(ak) <= WS3_MAX_CREDENTIAL)
        snprintf(call->access_key, sizeof(call->access_key), "%s", ak);
    int rc = keycache_lookup(ctx->keys, ak, timeutil_monotonic_ns(), &call->key, &call->default_domain);
    if (rc == STORE_NOT_FOUND)
        api_call_error(call, API_ERR_AUTH, "Authentication failed: unknown AccessKey.");
    else if (rc != STORE_OK)
        api_call_store_error(call, rc);
    return rc == STORE_OK;
}

/* Stage-1 authentication: everything that needs no body. */
static bool api_authenticate_headers(const api_ctx_t *ctx, api_call_t *call)
{
    const char *ak = api_header(call, "x-ws-accesskey");
    const char *ts = api_header(call, "x-ws-timestamp");
    const char *authz = api_header(call, "authorization");
    int64_t ts_value;

    if (ak && strlen(ak) <= WS3_MAX_CREDENTIAL)
        snprintf(call->access_key, sizeof(call->access_key), "%s", ak);
    if (!ak || !ts || !authz) {
        api_call_error(call, API_ERR_AUTH,
                       "Authentication failed: X-WS-AccessKey, X-WS-Timestamp and Authorization are required.");
        return false;
    }
    if (!ws3_auth_header_parse(authz, strlen(authz), &call->auth)) {
        api_call_error(call, API_ERR_AUTH, "Authentication failed: malformed Authorization header.");
        return false;
    }
    if (strcmp(call->auth.credential, ak) != 0) {
        api_call_error(call, API_ERR_AUTH, "Authentication failed: Credential does not match X-WS-AccessKey.");
        return false;
    }
    if (!ws3_signed_headers_contain(call->auth.signed_headers, "host")) {
        api_call_error(call, API_ERR_AUTH, "Authentication failed: the host header must be signed.");
        return false;
    }
    if (!api_parse_timestamp(ts, &ts_value)) {
        api_call_error(call, API_ERR_AUTH, "Authentication failed: malformed X-WS-Timestamp.");
        return false;
    }
    int64_t now = (int64_t)time(NULL);
    if (ts_value < now - ctx->cfg->clock_skew || ts_value > now + ctx->cfg->clock_skew) {
        api_call_error(call, API_ERR_AUTH, "Authentication failed: X-WS-Timestamp is outside the allowed window.");
        return false;
    }
    int rc = keycache_lookup(ctx->keys, ak, timeutil_monotonic_ns(), &call->key, &call->default_domain);
    if (rc == STORE_NOT_FOUND) {
        api_call_error(call, API_ERR_AUTH, "Authentication failed: unknown AccessKey.");
        return false;
    }
    if (rc != STORE_OK) {
        api_call_store_error(call, rc);
        return false;
    }
    return true;
}

bool api_call_begin(const api_ctx_t *ctx, api_call_t *call, int64_t content_length, const char *content_type)
{
    call->route = api_route_find(call->path);
    if (call->route == API_ROUTE_NONE) {
        api_call_error(call, API_ERR_NOT_FOUND, NULL);
        return false;
    }
    if (strcmp(call->method, "GET") != 0 && strcmp(call->method, "POST") != 0) {
        api_call_error(call, API_ERR_METHOD, NULL);
        return false;
    }
    enum api_auth auth = api_route_row(call->route)->auth;
    if (auth == API_AUTH_WS3 && !api_authenticate_headers(ctx, call))
        return false;
    if (auth == API_AUTH_MANAGE && !api_authenticate_manage(ctx, call))
        return false;
    /* A declared oversize body is refused before it is read: the signature
     * over it cannot be checked without reading it, and reading it is the
     * cost the limit exists to avoid. */
    if (content_length > ctx->cfg->api_body_limit) {
        api_call_error(call, API_ERR_BODY_TOO_LARGE, NULL);
        return false;
    }
    call->body_type = auth == API_AUTH_MANAGE ? API_BODY_FORM : api_body_type_of(content_type);
    return true;
}

/* The canonical request shown in a signature-mismatch answer is cut here:
 * enough for every header and a long query, bounded for a hostile one. */
#define API_MISMATCH_CANONICAL_MAX 2048
#define API_MISMATCH_FIELD_MAX 256

/* Copies at most outlen - 1 bytes of s, with anything but printable ASCII
 * (and '\n' when keep_newlines) replaced by '?': the answer must stay valid
 * JSON whatever the client sent.  Returns whether s was cut. */
static bool api_printable(const char *s, size_t len, char *out, size_t outlen, bool keep_newlines)
{
    size_t n = len < outlen - 1 ? len : outlen - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = (c == '\n' && keep_newlines) || (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[n] = '\0';
    return n < len;
}

/*
 * A signature mismatch says what the server signed: first the Host and
 * path it saw (what a rewriting proxy changes; short enough for a client
 * that shows one line), then the whole canonical request, which holds the
 * method, path, query, the signed headers' values and the body's hash,
 * never a secret.  AWS's SignatureDoesNotMatch does the same.
 */
static void api_signature_mismatch(api_call_t *call, const buf_t *canonical)
{
    const char *host = api_header(call, "host");
    char shown_host[API_MISMATCH_FIELD_MAX], shown_path[API_MISMATCH_FIELD_MAX];
    char shown[API_MISMATCH_CANONICAL_MAX + 1];
    api_printable(host ? host : "", host ? strlen(host) : 0, shown_host, sizeof(shown_host), false);
    api_printable(call->path, strlen(call->path), shown_path, sizeof(shown_path), false);
    bool cut = api_printable(canonical->data, canonical->len, shown, sizeof(shown), true);
    buf_t msg;
    buf_init(&msg, 0);
    bool ok = buf_printf(&msg,
                         "Authentication failed: signature mismatch. The server saw host \"%s\" and path \"%s\"; "
                         "if your client signed others, a proxy rewrote them (docs/deploy.md). The canonical "
                         "request the server signed:\n%s%s",
                         shown_host, shown_path, shown, cut ? "..." : "");
    api_call_error(call, API_ERR_AUTH, ok ? msg.data : "Authentication failed: signature mismatch.");
    buf_free(&msg);
}

/* Stage-2 authentication: the signature over the whole request. */
static bool api_verify_signature(api_call_t *call)
{
    bool ok = false;
    buf_t canonical, sts;
    buf_init(&canonical, 0);
    buf_init(&sts, 0);
    char expected[WS3_SIGNATURE_HEX_LEN + 1];
    ws3_request_t req = {
        .method = call->method,
        .path = call->path,
        .query = call->query,
        .query_count = call->query_count,
        .header_lookup = call->header_lookup,
        .header_ctx = call->header_ctx,
    };
    memcpy(req.body_sha256, call->body_sha256, sizeof(req.body_sha256));
    if (call->body.len > 0 && !ws3_signed_headers_contain(call->auth.signed_headers, "content-type")) {
        api_call_error(call, API_ERR_AUTH, "Authentication failed: the content-type header must be signed.");
        goto out;
    }
    if (!ws3_canonical_request(&req, call->auth.signed_headers, &canonical)) {
        api_call_error(call, API_ERR_AUTH, "Authentication failed: a signed header is missing.");
        goto out;
    }
    if (!ws3_string_to_sign(api_header(call, "x-ws-timestamp"), canonical.data, canonical.len, &sts)) {
        api_call_error(call, API_ERR_INTERNAL, NULL);
        goto out;
    }
    ws3_signature(call->key.secret_key, sts.data, sts.len, expected);
    if (!ws3_signature_equal(expected, call->auth.signature)) {
        api_signature_mismatch(call, &canonical);
        goto out;
    }
    ok = true;
out:
    buf_free(&canonical);
    buf_free(&sts);
    return ok;
}

/* The management token over "<path>\n<body>" (the management routes take
 * no query). */
static bool api_verify_manage(api_call_t *call)
{
    const char *sign = NULL;
    char ak[MGR_TOKEN_ACCESS_KEY_MAX + 1];
    bool ok = mgr_token_split(api_header(call, "authorization"), ak, &sign) &&
              mgr_token_valid(call->key.secret_key, call->path, call->body.data ? call->body.data : "",
                              call->body.len, sign);
    if (!ok)
        api_call_error(call, API_ERR_AUTH, "Authentication failed: the management token's signature does not "
                                           "match (it signs \"<path>\\n<body>\" with the SecretKey).");
    return ok;
}

/* The caller's signature for its route: false (response set) when refused. */
static bool api_verify_caller(api_call_t *call)
{
    enum api_auth auth = api_route_row(call->route)->auth;
    if (auth == API_AUTH_NONE)
        return true;
    return auth == API_AUTH_WS3 ? api_verify_signature(call) : api_verify_manage(call);
}

/* A verified caller's key must be enabled and within its rate. */
static bool api_admit_caller(const api_ctx_t *ctx, api_call_t *call)
{
    if (api_route_row(call->route)->auth == API_AUTH_NONE)
        return true;
    if (!call->key.enabled) {
        api_call_error(call, API_ERR_KEY_DISABLED, NULL);
        return false;
    }
    if (!ratelimit_take(ctx->ratelimit, call->key.access_key, timeutil_monotonic_ns())) {
        api_call_error(call, API_ERR_RATE_LIMIT, NULL);
        return false;
    }
    return true;
}

/* A registry query running on a reader thread. */
typedef struct api_deferred {
    const api_ctx_t *ctx;
    api_call_t *call;
    params_t params;
} api_deferred_t;

static void api_run_deferred(void *arg)
{
    api_deferred_t *d = arg;
    api_route_row(d->call->route)->handler(d->ctx, d->call, &d->params);
    params_free(&d->params);
    api_call_t *call = d->call;
    free(d);
    call->on_complete(call);
}

/* Moves the call to a reader thread; false (response set) when it cannot. */
static bool api_defer(const api_ctx_t *ctx, api_call_t *call, params_t *params)
{
    api_deferred_t *d = malloc(sizeof(*d));
    if (!d) {
        api_call_error(call, API_ERR_INTERNAL, NULL);
        return false;
    }
    d->ctx = ctx;
    d->call = call;
    d->params = *params;
    params_init(params);
    if (!workpool_submit(ctx->readers, api_run_deferred, d)) {
        *params = d->params;
        free(d);
        api_call_error(call, API_ERR_UNAVAILABLE, NULL);
        return false;
    }
    return true;
}

/* Names whose JSON value may be an array or object (kept as JSON text). */
static const char *const api_structured_params[] = {"categoryNames", NULL};

bool api_call_finish(const api_ctx_t *ctx, api_call_t *call, bool body_overflow)
{
    bool ready = true;
    params_t params;
    params_init(&params);
    char err[256];

    if (!api_verify_caller(call))
        goto out;
    if (body_overflow) {
        api_call_error(call, API_ERR_BODY_TOO_LARGE, NULL);
        goto out;
    }
    if (!api_admit_caller(ctx, call))
        goto out;
    /* Only POST bodies carry parameters; a body on GET is covered by the
     * signature but otherwise ignored. */
    bool post_body = strcmp(call->method, "POST") == 0 && call->body.len > 0;
    if (post_body && call->body_type <= API_BODY_NONE) {
        api_call_error(call, API_ERR_MEDIA_TYPE, NULL);
        goto out;
    }
    if (!params_add_pairs(&params, call->query, call->query_count)) {
        api_call_error(call, API_ERR_INTERNAL, NULL);
        goto out;
    }
    if (post_body && call->body_type == API_BODY_FORM) {
        if (!params_parse_form(&params, call->body.data, call->body.len)) {
            api_call_error(call, API_ERR_INTERNAL, NULL);
            goto out;
        }
    } else if (post_body && call->body_type == API_BODY_JSON) {
        if (!params_parse_json(&params, call->body.data, call->body.len, api_structured_params, err,
                               sizeof(err))) {
            api_call_error(call, API_ERR_PARAM, err);
            goto out;
        }
    }
    if (params.duplicate[0]) {
        snprintf(err, sizeof(err), "Parameter %s is given more than once.", params.duplicate);
        api_call_error(call, API_ERR_PARAM, err);
        goto out;
    }
    const struct api_route_row *row = api_route_row(call->route);
    if (!row)
        api_call_error(call, API_ERR_NOT_FOUND, NULL);
    else if (row->deferred && ctx->readers)
        ready = !api_defer(ctx, call, &params);
    else
        ready = row->handler(ctx, call, &params);
out:
    params_free(&params);
    return ready;
}
