/*
 * event_http.c: one bounded POST to an outside receiver; see event_http.h.
 *
 * Every resource of an attempt (the easy handle, the header list) is
 * acquired and released inside event_http_post(); nothing outlives it.
 */
#include "events/event_http.h"

#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "common/timeutil.h"
#include "events/event_sign.h"

#define EVENT_HTTP_PROTOCOLS "http,https"
#define EVENT_HTTP_EVENT_ID_MAX 128

/* Where the body goes while libcurl reads it. */
typedef struct event_http_sink {
    event_http_response_t *response; /* NULL: keep nothing */
    bool overflowed;                 /* more than fits came; the transfer was stopped */
} event_http_sink_t;

const char *event_http_outcome_name(enum event_http_outcome outcome)
{
    switch (outcome) {
    case EVENT_HTTP_DELIVERED:
        return "delivered";
    case EVENT_HTTP_HTTP_ERROR:
        return "http_error";
    case EVENT_HTTP_TIMEOUT:
        return "timeout";
    case EVENT_HTTP_CONNECT_FAILED:
        return "connect_failed";
    default:
        return "other";
    }
}

static bool event_http_fail(event_http_result_t *r, enum event_http_outcome outcome, const char *why)
{
    r->outcome = outcome;
    snprintf(r->error, sizeof(r->error), "%s", why);
    return false;
}

/* Keeps what fits; at the first byte that does not, stops the transfer
 * (returning short makes libcurl end it with CURLE_WRITE_ERROR). */
static size_t event_http_write(char *data, size_t size, size_t nmemb, void *arg)
{
    event_http_sink_t *sink = arg;
    event_http_response_t *resp = sink->response;
    size_t n = size * nmemb;
    size_t room = resp ? EVENT_HTTP_RESPONSE_MAX - resp->len : 0;
    size_t keep = n < room ? n : room;
    if (keep > 0) {
        memcpy(resp->data + resp->len, data, keep);
        resp->len += keep;
        resp->data[resp->len] = '\0';
    }
    if (keep == n)
        return n;
    sink->overflowed = true;
    if (resp)
        resp->truncated = true;
    return keep;
}

/* The caller's lines plus "Expect:" (no 100-continue round trip).  NULL
 * when a line is missing its ':', holds CR or LF, there are too many, or
 * memory runs out; *why says which. */
static struct curl_slist *event_http_header_list(const char *const *headers, const char **why)
{
    struct curl_slist *list = NULL, *next;
    size_t count = 0;
    *why = "a header line is malformed or holds CR/LF, or there are too many";
    for (; headers && headers[count]; count++) {
        const char *line = headers[count];
        if (count == EVENT_HTTP_HEADERS_MAX || !strchr(line, ':') || line[0] == ':' || strpbrk(line, "\r\n"))
            goto fail;
        if (!(next = curl_slist_append(list, line)))
            goto oom;
        list = next;
    }
    if ((next = curl_slist_append(list, "Expect:")))
        return next;
oom:
    *why = "out of memory";
fail:
    curl_slist_free_all(list);
    return NULL;
}

/* What keeps an attempt bounded and on http(s); each one is checked, since a
 * silently ignored option here would be a hole, not a degraded feature. */
static bool event_http_set_limits(CURL *c, const event_http_limits_t *limits)
{
    const char *proxy = limits->proxy ? limits->proxy : ""; /* "": none, whatever the environment says */
    return curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, EVENT_HTTP_PROTOCOLS) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, EVENT_HTTP_PROTOCOLS) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_HTTP09_ALLOWED, 0L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, limits->connect_timeout_ms) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, limits->total_timeout_ms) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_PROXY, proxy) == CURLE_OK;
}

static bool event_http_set_request(CURL *c, const char *url, struct curl_slist *headers, const void *body,
                                   size_t len, event_http_sink_t *sink, char *curl_error)
{
    return curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "") == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, event_http_write) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_WRITEDATA, sink) == CURLE_OK &&
           curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_error) == CURLE_OK;
}

/* The outcome when no status came back: libcurl's code decides. */
static void event_http_classify_transport(CURLcode rc, bool connected, const char *curl_error,
                                          const event_http_limits_t *limits, event_http_result_t *r)
{
    const char *text = rc == CURLE_OK ? "the answer had no HTTP status"
                       : curl_error[0] ? curl_error
                                       : curl_easy_strerror(rc);
    r->outcome = EVENT_HTTP_OTHER;
    if (rc == CURLE_OPERATION_TIMEDOUT && connected) {
        r->outcome = EVENT_HTTP_TIMEOUT;
        snprintf(r->error, sizeof(r->error), "no answer within %ld ms", limits->total_timeout_ms);
        return;
    }
    if (rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
        rc == CURLE_COULDNT_RESOLVE_PROXY)
        r->outcome = EVENT_HTTP_CONNECT_FAILED;
    snprintf(r->error, sizeof(r->error), "%s", text);
}

/* A status, when there is one, is the receiver's word, whatever happened
 * to the body afterwards (cut short by us or by the network). */
static void event_http_classify(CURLcode rc, long status, bool connected, const event_http_sink_t *sink,
                                const char *curl_error, const event_http_limits_t *limits, event_http_result_t *r)
{
    r->status = status;
    if (status <= 0) {
        r->status = 0;
        event_http_classify_transport(rc, connected, curl_error, limits, r);
        return;
    }
    r->outcome = status >= 200 && status <= 299 ? EVENT_HTTP_DELIVERED : EVENT_HTTP_HTTP_ERROR;
    if (r->outcome == EVENT_HTTP_HTTP_ERROR)
        snprintf(r->error, sizeof(r->error), "HTTP %ld", status);
    else if (rc != CURLE_OK && !sink->overflowed)
        snprintf(r->error, sizeof(r->error), "HTTP %ld, then the answer broke off", status);
}

/* Runs the prepared handle and records what came of it. */
static void event_http_perform(CURL *c, const event_http_sink_t *sink, const char *curl_error,
                               const event_http_limits_t *limits, event_http_result_t *r)
{
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_off_t connect_us = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c, CURLINFO_CONNECT_TIME_T, &connect_us);
    event_http_classify(rc, status, connect_us > 0, sink, curl_error, limits, r);
}

static bool event_http_limits_valid(const event_http_limits_t *limits)
{
    /* libcurl reads a timeout of 0 as "none": never let that through. */
    return limits && limits->connect_timeout_ms > 0 && limits->total_timeout_ms > 0;
}

/* Both out-parameters start empty, whatever the caller left in them. */
static void event_http_reset(event_http_result_t *result, event_http_response_t *response)
{
    memset(result, 0, sizeof(*result));
    result->outcome = EVENT_HTTP_OTHER;
    if (response)
        memset(response, 0, sizeof(*response));
}

bool event_http_post(const char *url, const char *const *headers, const void *body, size_t len,
                     const event_http_limits_t *limits, event_http_result_t *result,
                     event_http_response_t *response)
{
    int64_t start_ns = timeutil_monotonic_ns();
    char curl_error[CURL_ERROR_SIZE] = "";
    event_http_sink_t sink = {.response = response};
    const char *why = "invalid arguments";
    struct curl_slist *list = NULL;
    CURL *c = NULL;

    event_http_reset(result, response);
    if (!url || (!body && len > 0) || !event_http_limits_valid(limits))
        goto fail;
    if (!(list = event_http_header_list(headers, &why)))
        goto fail;
    why = "libcurl refused an option";
    if (!(c = curl_easy_init()) || !event_http_set_limits(c, limits) ||
        !event_http_set_request(c, url, list, body, len, &sink, curl_error))
        goto fail;
    event_http_perform(c, &sink, curl_error, limits, result);
    goto out;
fail:
    event_http_fail(result, EVENT_HTTP_OTHER, why);
out:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(list);
    result->elapsed_ms = (timeutil_monotonic_ns() - start_ns) / 1000000;
    return result->outcome == EVENT_HTTP_DELIVERED;
}

bool event_http_deliver(const char *url, const char *secret, const char *event_id, int64_t unix_time,
                        const void *body, size_t len, const event_http_limits_t *limits,
                        event_http_result_t *result, event_http_response_t *response)
{
    static const char user_agent_line[] = "User-Agent: " EVENT_HTTP_USER_AGENT;
    char signature[EVENT_SIGN_HEADER_MAX];
    char sig_line[sizeof(EVENT_SIGN_HEADER_NAME) + 2 + EVENT_SIGN_HEADER_MAX];
    char id_line[sizeof(EVENT_HTTP_EVENT_ID_HEADER) + 2 + EVENT_HTTP_EVENT_ID_MAX];
    const char *headers[] = {"Content-Type: application/json", user_agent_line, id_line, sig_line, NULL};

    event_http_reset(result, response);
    if (!event_id || !*event_id || strlen(event_id) > EVENT_HTTP_EVENT_ID_MAX)
        return event_http_fail(result, EVENT_HTTP_OTHER, "the event id is empty or too long");
    if (!event_sign_header(secret, unix_time, body, len, signature, sizeof(signature)))
        return event_http_fail(result, EVENT_HTTP_OTHER, "the delivery could not be signed");
    snprintf(id_line, sizeof(id_line), "%s: %s", EVENT_HTTP_EVENT_ID_HEADER, event_id);
    snprintf(sig_line, sizeof(sig_line), "%s: %s", EVENT_SIGN_HEADER_NAME, signature);
    return event_http_post(url, headers, body, len, limits, result, response);
}
