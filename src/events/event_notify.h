/*
 * event_notify: one attempt at a persistent job's notification, in the
 * vendor's format, so that an app's notify handler written for it works
 * unchanged:
 *
 *   POST <notifyURL>
 *   Content-Type: text/plain; charset=UTF-8
 *   Authorization: <AccessKey>:<urlsafe_b64(hex(HMAC-SHA1(SecretKey, notifyURL "\n" body)))>
 *
 *   urlsafe_b64(<the job's status JSON, fops_status.h>)
 *
 * The Authorization is the management token (auth/mgr_token.h) over the
 * whole notify URL, query included, and the body as sent: the receiver
 * recomputes it with the AccessKey's SecretKey to know vodup sent it.
 * Delivery is what event_http_post() makes of it (2xx delivered; no
 * redirects; bounded time and answer).
 */
#ifndef VODUP_EVENT_NOTIFY_H
#define VODUP_EVENT_NOTIFY_H

#include <stdbool.h>

#include "common/buf.h"
#include "events/event_http.h"

/* The body (urlsafe base64 of json) and the Authorization value, appended
 * to body and authorization.  Pure. */
bool event_notify_build(const char *url, const char *access_key, const char *secret_key, const char *json,
                        buf_t *body, buf_t *authorization);

/* Builds and POSTs it; result as event_http_post's. */
bool event_notify_post(const char *url, const char *access_key, const char *secret_key, const char *json,
                       const event_http_limits_t *limits, event_http_result_t *result);

#endif
