/* callback: the vendor's upload callback; see callback.h. */
#include "upload/callback.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "auth/mgr_token.h"
#include "events/event_http.h"
#include "events/event_url.h"
#include "upload/upload_internal.h"

#define CALLBACK_USER_AGENT "vodup-callback/1"
#define CALLBACK_WHY_MAX 256 /* why a callback failed, for the 579's message */

static bool callback_wanted(const upload_call_t *call)
{
    return call->policy.callback_url && call->policy.callback_url[0];
}

bool upload_callback_check(upload_call_t *call)
{
    char why[EVENT_URL_ERROR_MAX], msg[EVENT_URL_ERROR_MAX + 64];
    if (!callback_wanted(call) ||
        event_url_permitted(call->policy.callback_url, call->ctx->cfg->callback_allow_hosts, why, sizeof(why)))
        return true;
    snprintf(msg, sizeof(msg), "The upload token's callbackUrl cannot be used: %s", why);
    upload_fail(call, 400, msg);
    return false;
}

/* Appends the path and query of url as libcurl puts them in the request
 * line ("/cb?a=1"; "/" when the URL has no path, no '?' when the query is
 * empty): what the WCS SDKs' management token signs, so a receiver that
 * computes it from its URL or from the request it got finds the same. */
static bool callback_path_query(const char *url, buf_t *out)
{
    CURLU *h = curl_url();
    char *path = NULL, *query = NULL;
    bool ok = h && curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(h, CURLUPART_PATH, &path, 0) == CURLUE_OK && buf_append_str(out, path);
    if (ok && curl_url_get(h, CURLUPART_QUERY, &query, 0) == CURLUE_OK && query && query[0])
        ok = buf_printf(out, "?%s", query);
    curl_free(path);
    curl_free(query);
    curl_url_cleanup(h);
    return ok;
}

/* line receives "Authorization: <AccessKey>:<sign>", the management token
 * (auth/mgr_token.h) of the token's key over the path, query and body. */
static bool callback_authorization(const upload_call_t *call, const buf_t *body, buf_t *line)
{
    buf_t path_query, token;
    buf_init(&path_query, 0);
    buf_init(&token, 0);
    bool ok = callback_path_query(call->policy.callback_url, &path_query) &&
              mgr_token_make(call->access_key, call->key.secret_key, path_query.data, body->data ? body->data : "",
                             body->len, &token) &&
              buf_printf(line, "Authorization: %s", token.data);
    buf_free(&path_query);
    buf_free(&token);
    return ok;
}

/* True when the receiver's answer may become the uploader's: a 2xx that
 * arrived whole and is a JSON object.  Else why says what it was. */
static bool callback_answer_ok(const event_http_result_t *r, const event_http_response_t *resp, char *why,
                               size_t len)
{
    json_t *j = NULL;
    if (r->outcome != EVENT_HTTP_DELIVERED)
        snprintf(why, len, "%s (%s)", event_http_outcome_name(r->outcome), r->error);
    else if (resp->truncated)
        snprintf(why, len, "its answer is longer than %d bytes", EVENT_HTTP_RESPONSE_MAX);
    else if (r->error[0])
        snprintf(why, len, "%s", r->error);
    else if (!json_is_object(j = json_loadb(resp->data, resp->len, 0, NULL)))
        snprintf(why, len, "its answer (HTTP %ld) is not a JSON object", r->status);
    bool ok = json_is_object(j);
    json_decref(j);
    return ok;
}

/* POSTs body to the callbackUrl; true with the answer in resp when the
 * receiver took it and answered what the uploader may get. */
static bool callback_post(const upload_call_t *call, const buf_t *body, event_http_response_t *resp, char *why,
                          size_t len)
{
    const config_t *cfg = call->ctx->cfg;
    event_http_limits_t lim = {.connect_timeout_ms = (long)cfg->webhook_connect_timeout,
                               .total_timeout_ms = (long)cfg->callback_timeout};
    event_http_result_t r;
    buf_t line;
    buf_init(&line, 0);
    bool ok = callback_authorization(call, body, &line);
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded", "User-Agent: " CALLBACK_USER_AGENT,
                             line.data, NULL};
    if (!ok)
        snprintf(why, len, "it could not be signed");
    else {
        event_http_post(call->policy.callback_url, headers, body->data ? body->data : "", body->len, &lim, &r, resp);
        ok = callback_answer_ok(&r, resp, why, len);
    }
    buf_free(&line);
    return ok;
}

/* The uploader's 200: the receiver's JSON object, as it sent it. */
static void callback_succeed(upload_call_t *call, const event_http_response_t *resp)
{
    call->status = 200;
    buf_reset(&call->body);
    if (!buf_append(&call->body, resp->data, resp->len))
        upload_fail(call, 500, "Internal error.");
    call->content_type = "application/json; charset=utf-8";
}

bool upload_callback_answer(upload_call_t *call, const return_vars_t *vars)
{
    if (!callback_wanted(call))
        return false;
    buf_t body;
    buf_init(&body, 0);
    event_http_response_t resp;
    char why[CALLBACK_WHY_MAX] = "";
    const char *tmpl = call->policy.callback_body ? call->policy.callback_body : "";
    if (!return_body_expand(tmpl, vars, &body))
        snprintf(why, sizeof(why), "its body could not be built");
    else if (callback_post(call, &body, &resp, why, sizeof(why)))
        callback_succeed(call, &resp);
    buf_free(&body);
    if (why[0]) {
        char msg[CALLBACK_WHY_MAX + 64];
        snprintf(msg, sizeof(msg), "The file is stored, but the upload callback failed: %s.", why);
        upload_fail(call, 579, msg);
    }
    return true;
}
