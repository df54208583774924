/*
 * client_api.c: signed API calls with retries; see client_api.h.
 */
#include "client/client_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/client_sign.h"
#include "client/client_url.h"
#include "common/encoding.h"
#include "common/header_line.h"
#include "common/version.h"

#define CLIENT_API_URL_MAX (CLIENT_CONFIG_VALUE_MAX + 128)

void client_response_init(client_response_t *r)
{
    memset(r, 0, sizeof(*r));
    buf_init(&r->body, CLIENT_ANSWER_CAP);
}

void client_response_reset(client_response_t *r)
{
    buf_reset(&r->body);
    json_decref(r->json);
    r->json = NULL;
    r->status = 0;
    r->curl_code = CURLE_OK;
    r->curl_error[0] = '\0';
    r->request_id[0] = '\0';
}

void client_response_free(client_response_t *r)
{
    if (!r)
        return;
    buf_free(&r->body);
    json_decref(r->json);
    r->json = NULL;
}

const char *client_response_message(const client_response_t *r)
{
    if (!json_is_object(r->json))
        return NULL;
    const char *keys[] = {"message", "error"};
    for (size_t i = 0; i < 2; i++) {
        json_t *m = json_object_get(r->json, keys[i]);
        if (json_is_string(m) && json_string_length(m) > 0)
            return json_string_value(m);
    }
    return NULL;
}

/* What to do about a TLS failure, "" for other failures: libcurl's own
 * text names the symptom, not the remedy. */
static const char *client_tls_hint(CURLcode code)
{
    switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
        return " (the server's certificate is not trusted or does not name this host: give the CA that "
               "signed it with --cacert FILE, VODUP_CACERT or 'cacert' in the config file, and use the name "
               "the certificate was made for)";
    case CURLE_SSL_CACERT_BADFILE:
        return " (the --cacert file cannot be read as PEM certificates)";
    case CURLE_SSL_CONNECT_ERROR:
        return " (the TLS handshake failed: is this an https:// endpoint on a port that speaks plain HTTP?)";
    default:
        return "";
    }
}

void client_response_describe(const client_response_t *r, const char *what, const char *url, char *out,
                              size_t outlen)
{
    char tries[48] = "";
    if (r->tries > 1)
        snprintf(tries, sizeof(tries), " (after %d tries)", r->tries);
    if (r->status == 0) {
        snprintf(out, outlen, "%s: cannot reach %s: %s%s%s", what, url ? url : "the server",
                 r->curl_error[0] ? r->curl_error : curl_easy_strerror(r->curl_code), client_tls_hint(r->curl_code),
                 tries);
        return;
    }
    const char *msg = client_response_message(r);
    char rid[96] = "";
    if (r->request_id[0])
        snprintf(rid, sizeof(rid), " (requestId %s)", r->request_id);
    if (msg) {
        snprintf(out, outlen, "%s: HTTP %ld: %.300s%s%s", what, r->status, msg, rid, tries);
    } else {
        /* Not the server's JSON (a proxy's page, say): show its start on one line. */
        char start[121];
        size_t n = r->body.len < sizeof(start) - 1 ? r->body.len : sizeof(start) - 1;
        for (size_t i = 0; i < n; i++) {
            char c = r->body.data[i];
            if (c < 0x20 || c == 0x7f)
                c = ' ';
            start[i] = c;
        }
        start[n] = '\0';
        snprintf(out, outlen, "%s: HTTP %ld%s%s%s%s", what, r->status, n ? ": " : "", start, rid, tries);
    }
}

int client_response_exit_code(const client_response_t *r)
{
    return r->status == 401 || r->status == 403 ? CLIENT_EXIT_AUTH : CLIENT_EXIT_FAILURE;
}

/* ---- libcurl ----------------------------------------------------------------- */

static int client_progress_abort(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
    const atomic_int *stop = arg;
    return stop && atomic_load(stop) ? 1 : 0;
}

void client_curl_defaults(CURL *c, const atomic_int *stop, const char *cacert)
{
    if (cacert && *cacert)
        curl_easy_setopt(c, CURLOPT_CAINFO, cacert);
    char agent[64]; /* libcurl keeps its own copy */
    snprintf(agent, sizeof(agent), "vodup/%s", version_number());
    curl_easy_setopt(c, CURLOPT_USERAGENT, agent);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CLIENT_CONNECT_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, client_progress_abort);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)stop);
}

static size_t client_api_write(char *data, size_t size, size_t nmemb, void *arg)
{
    client_response_t *r = arg;
    return buf_append(&r->body, data, size * nmemb) ? size * nmemb : 0;
}

static size_t client_api_header(char *data, size_t size, size_t nmemb, void *arg)
{
    client_response_t *r = arg;
    size_t len = size * nmemb;
    header_line_value(data, len, "X-Request-Id", r->request_id, sizeof(r->request_id));
    if (!r->request_id[0])
        header_line_value(data, len, "X-Reqid", r->request_id, sizeof(r->request_id));
    return len;
}

bool client_api_init(client_api_t *api, const client_config_t *cfg, const atomic_int *stop)
{
    memset(api, 0, sizeof(*api));
    api->cfg = cfg;
    api->stop = stop;
    client_retry_policy_from_env(&api->retry);
    api->curl = curl_easy_init();
    return api->curl != NULL;
}

void client_api_free(client_api_t *api)
{
    if (api->curl)
        curl_easy_cleanup(api->curl);
    api->curl = NULL;
}

/* One signed POST; fills r. */
static void client_api_once(client_api_t *api, const char *url, const client_url_t *u, const char *form,
                            client_response_t *r)
{
    struct curl_slist *h = NULL, *n;
    client_signature_t sig;
    char line[CLIENT_AUTH_HEADER_MAX + 64];
    client_sign_input_t in = {
        .method = "POST",
        .url = u,
        .content_type = CLIENT_FORM_TYPE,
        .body = form,
        .body_len = strlen(form),
        .access_key = api->cfg->access_key,
        .secret_key = api->cfg->secret_key,
        .timestamp = (int64_t)time(NULL),
    };
    client_response_reset(r);
    if (!client_sign(&in, &sig)) {
        r->curl_code = CURLE_BAD_FUNCTION_ARGUMENT;
        snprintf(r->curl_error, sizeof(r->curl_error),
                 "cannot sign the request (an AccessKey must be printable ASCII without spaces or commas)");
        return;
    }
    static const char content_type[] = "Content-Type: " CLIENT_FORM_TYPE;
    const char *lines[] = {content_type, "Expect:", NULL, NULL, NULL, NULL};
    char host[CLIENT_CONFIG_VALUE_MAX + 8], ak[CLIENT_CONFIG_VALUE_MAX + 32], ts[64];
    snprintf(host, sizeof(host), "Host: %s", u->host);
    snprintf(ak, sizeof(ak), "X-WS-AccessKey: %s", api->cfg->access_key);
    snprintf(ts, sizeof(ts), "X-WS-Timestamp: %s", sig.timestamp);
    snprintf(line, sizeof(line), "Authorization: %s", sig.authorization);
    lines[2] = host;
    lines[3] = ak;
    lines[4] = ts;
    bool ok = true;
    for (size_t i = 0; ok && lines[i]; i++) {
        ok = (n = curl_slist_append(h, lines[i])) != NULL;
        if (ok)
            h = n;
    }
    ok = ok && (n = curl_slist_append(h, line)) != NULL;
    if (ok)
        h = n;
    if (!ok) {
        curl_slist_free_all(h);
        r->curl_code = CURLE_OUT_OF_MEMORY;
        return;
    }
    CURL *c = api->curl;
    curl_easy_reset(c);
    client_curl_defaults(c, api->stop, api->cfg->cacert);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CLIENT_API_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(form));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, client_api_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, client_api_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_error);
    r->curl_error[0] = '\0';
    r->curl_code = curl_easy_perform(c);
    if (r->curl_code == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        r->status = 0;
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(h);
    if (r->body.len > 0)
        r->json = json_loadb(r->body.data, r->body.len, 0, NULL);
}

bool client_api_post(client_api_t *api, const char *path, const char *form, client_response_t *r)
{
    char url[CLIENT_API_URL_MAX];
    client_url_t u;
    char err[256];
    snprintf(url, sizeof(url), "%s%s", api->cfg->endpoint, path);
    r->tries = 0;
    if (!client_url_parse(url, &u, err, sizeof(err))) {
        client_response_reset(r);
        r->curl_code = CURLE_URL_MALFORMAT;
        snprintf(r->curl_error, sizeof(r->curl_error), "%s", err);
        return false;
    }
    for (;;) {
        client_api_once(api, url, &u, form, r);
        r->tries++;
        enum client_retry_verdict v = client_retry_classify(r->curl_code, r->status);
        if (v != CLIENT_RETRY_AGAIN || r->tries >= api->retry.max_tries)
            break;
        if (!client_retry_sleep(client_retry_delay_ms(&api->retry, r->tries, client_retry_random()), api->stop))
            break;
    }
    client_url_free(&u);
    json_t *code = json_is_object(r->json) ? json_object_get(r->json, "code") : NULL;
    return r->status == 200 && json_is_integer(code) && json_integer_value(code) == 200;
}

/* ---- getUploadToken ------------------------------------------------------------ */

static bool client_form_pair(buf_t *out, const char *name, const char *value)
{
    return (out->len == 0 || buf_append(out, "&", 1)) && encoding_percent_encode(name, strlen(name), out) &&
           buf_append(out, "=", 1) && encoding_percent_encode(value, strlen(value), out);
}

bool client_token_form(const client_token_params_t *p, buf_t *out, char *err, size_t errlen)
{
    char num[32];
    json_t *cats = NULL;
    char *cats_text = NULL;
    bool ok = false;
    if (!p->name || !*p->name) {
        snprintf(err, errlen, "a file name is required");
        return false;
    }
    if (p->category_count > CLIENT_MAX_CATEGORIES) {
        snprintf(err, errlen, "at most %d categories", CLIENT_MAX_CATEGORIES);
        return false;
    }
    if (p->category_count > 0) {
        cats = json_array();
        for (size_t i = 0; cats && i < p->category_count; i++) {
            const char *c = p->categories[i];
            const char *slash = strchr(c, '/');
            if (!slash || slash == c || !slash[1]) {
                snprintf(err, errlen, "category '%.100s' is not PARENT/CHILD", c);
                goto out;
            }
            json_t *o = json_pack("{s:s%, s:s}", "parentName", c, (size_t)(slash - c), "childName", slash + 1);
            if (!o || json_array_append_new(cats, o) != 0) {
                snprintf(err, errlen, "category '%.100s' is not valid UTF-8", c);
                goto out;
            }
        }
        cats_text = cats ? json_dumps(cats, JSON_COMPACT) : NULL;
        if (!cats_text) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    ok = client_form_pair(out, "originFileName", p->name);
    if (ok && p->overwrite)
        ok = client_form_pair(out, "overwrite", "1");
    if (ok && p->file_size >= 0) {
        snprintf(num, sizeof(num), "%lld", (long long)p->file_size);
        ok = client_form_pair(out, "fileSize", num);
    }
    const struct {
        const char *name;
        const char *value;
    } pairs[] = {
        {"fileMd5", p->file_md5},      {"fileId", p->file_id},       {"domain", p->domain},
        {"workflowId", p->workflow},   {"cmd", p->cmd},              {"categoryNames", cats_text},
        {"waterMarkName", p->watermark}, {"transCodeCombineName", p->template_name}, {"subtitleId", p->subtitle},
    };
    for (size_t i = 0; ok && i < sizeof(pairs) / sizeof(pairs[0]); i++)
        if (pairs[i].value)
            ok = client_form_pair(out, pairs[i].name, pairs[i].value);
    if (!ok)
        snprintf(err, errlen, "out of memory");
out:
    free(cats_text);
    json_decref(cats);
    return ok;
}

static bool client_grant_copy(const json_t *data, const char *key, char *out, size_t outlen)
{
    json_t *v = json_object_get(data, key);
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= outlen)
        return false;
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return strlen(out) == json_string_length(v); /* no NUL inside */
}

bool client_grant_parse(const json_t *answer, client_grant_t *g)
{
    memset(g, 0, sizeof(*g));
    json_t *data = json_is_object(answer) ? json_object_get(answer, "data") : NULL;
    if (!json_is_object(data))
        return false;
    if (!client_grant_copy(data, "videoId", g->video_id, sizeof(g->video_id)) ||
        !client_grant_copy(data, "fileKey", g->file_key, sizeof(g->file_key)) ||
        !client_grant_copy(data, "uploadUrl", g->upload_url, sizeof(g->upload_url)) ||
        !client_grant_copy(data, "uploadToken", g->token, sizeof(g->token)))
        return false;
    size_t n = strlen(g->upload_url);
    while (n > 0 && g->upload_url[n - 1] == '/')
        g->upload_url[--n] = '\0';
    return n > 0;
}
