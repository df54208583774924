/* event_notify: a persistent job's notification; see event_notify.h. */
#include "events/event_notify.h"

#include <stdio.h>
#include <string.h>

#include "auth/mgr_token.h"
#include "common/encoding.h"

#define EVENT_NOTIFY_USER_AGENT "vodup-notify/1"

bool event_notify_build(const char *url, const char *access_key, const char *secret_key, const char *json,
                        buf_t *body, buf_t *authorization)
{
    size_t start = body->len;
    return encoding_b64url_encode(json, strlen(json), body) &&
           mgr_token_make(access_key, secret_key, url, body->data + start, body->len - start, authorization);
}

bool event_notify_post(const char *url, const char *access_key, const char *secret_key, const char *json,
                       const event_http_limits_t *limits, event_http_result_t *result)
{
    buf_t body, auth, line;
    buf_init(&body, 0);
    buf_init(&auth, 0);
    buf_init(&line, 0);
    bool built = access_key && secret_key &&
                 event_notify_build(url, access_key, secret_key, json, &body, &auth) &&
                 buf_printf(&line, "Authorization: %s", auth.data);
    const char *headers[] = {"Content-Type: text/plain; charset=UTF-8", "User-Agent: " EVENT_NOTIFY_USER_AGENT,
                             line.data, NULL};
    bool ok = false;
    if (built) {
        ok = event_http_post(url, headers, body.data, body.len, limits, result, NULL);
    } else {
        memset(result, 0, sizeof(*result));
        result->outcome = EVENT_HTTP_OTHER;
        snprintf(result->error, sizeof(result->error), "not sent: the notification could not be signed");
    }
    buf_free(&body);
    buf_free(&auth);
    buf_free(&line);
    return ok;
}
