/*
 * event_http: one HTTP POST to a receiver vodup does not control (a webhook
 * delivery, later the vendor's upload callback), and what came of it.
 *
 * A receiver may be down, slow, answer 500, redirect, stream gigabytes or
 * answer garbage; none of that may block the caller for longer than the
 * limits it passes or grow memory.  So each call:
 *   - uses its own libcurl easy handle (no state shared between threads,
 *     nothing kept between attempts), with CURLOPT_NOSIGNAL (threads);
 *   - speaks http and https only (CURLOPT_PROTOCOLS_STR), never follows a
 *     redirect (a 3xx is a failed attempt: following one would let a
 *     receiver send vodup to a host the allow-list never saw), never accepts
 *     an HTTP/0.9 answer, asks for no compression (no decompression bombs);
 *   - ignores the proxy environment variables (http_proxy, ALL_PROXY...):
 *     a daemon's environment is not its configuration; limits.proxy sets one;
 *   - is bounded in time by limits.connect_timeout_ms and
 *     limits.total_timeout_ms (name resolution included: this libcurl
 *     resolves asynchronously);
 *   - keeps at most EVENT_HTTP_RESPONSE_MAX bytes of the response body in
 *     the caller's event_http_response_t and stops reading at the first
 *     byte beyond it: the status line already said what the receiver did,
 *     and a receiver that streams forever must not hold a dispatcher thread.
 *
 * Outcomes: DELIVERED when the receiver answered 2xx, even if its body was
 * then cut short (the status is the receiver's acknowledgement; the error
 * text says what happened to the body); HTTP_ERROR for any other status
 * (3xx included); TIMEOUT when the total timeout expired; CONNECT_FAILED
 * when no connection was made (refused, unreachable, name not resolved, or
 * the connect timeout); OTHER for everything else (TLS, a garbled answer,
 * a refused URL or header).  Only DELIVERED ends the retries.
 *
 * Not covered: a permitted host name that resolves to an internal address
 * (SSRF).  event_url's allow-list is the operator's control for that.
 *
 * The process must call curl_global_init() once before threads start
 * (vodup serve does for its client code too).  The error text never holds
 * the URL, a header or the body, so it may go to the deliveries log.
 */
#ifndef VODUP_EVENT_HTTP_H
#define VODUP_EVENT_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EVENT_HTTP_RESPONSE_MAX 4096 /* bytes of a response body kept */
#define EVENT_HTTP_ERROR_MAX 128     /* the error text, NUL included */
#define EVENT_HTTP_HEADERS_MAX 32    /* caller's header lines per request */
#define EVENT_HTTP_USER_AGENT "vodup-webhook/1"
#define EVENT_HTTP_EVENT_ID_HEADER "X-Vodup-Event-Id"

typedef struct event_http_limits {
    long connect_timeout_ms; /* > 0 */
    long total_timeout_ms;   /* > 0, the whole attempt, connect included */
    const char *proxy;       /* NULL or "": no proxy; else libcurl's proxy string */
} event_http_limits_t;

enum event_http_outcome {
    EVENT_HTTP_DELIVERED = 0, /* 2xx */
    EVENT_HTTP_HTTP_ERROR,    /* any other status; result.status says which */
    EVENT_HTTP_TIMEOUT,
    EVENT_HTTP_CONNECT_FAILED,
    EVENT_HTTP_OTHER,
};

typedef struct event_http_result {
    enum event_http_outcome outcome;
    long status;                      /* the HTTP status, 0 when none was received */
    int64_t elapsed_ms;               /* the whole call, monotonic clock */
    char error[EVENT_HTTP_ERROR_MAX]; /* "" when delivered cleanly; else a short reason */
} event_http_result_t;

/* The start of the response body.  The caller owns it (4 KiB: a stack
 * variable is fine); nothing is allocated for it. */
typedef struct event_http_response {
    char data[EVENT_HTTP_RESPONSE_MAX + 1]; /* NUL-terminated; may hold NULs; untrusted */
    size_t len;                             /* <= EVENT_HTTP_RESPONSE_MAX */
    bool truncated;                         /* more came; it was not read */
} event_http_response_t;

/* "delivered", "http_error", "timeout", "connect_failed", "other": the
 * names for the deliveries log. */
const char *event_http_outcome_name(enum event_http_outcome outcome);

/*
 * POSTs body (len bytes) to url with the extra header lines `headers`
 * ("Name: value", NULL-terminated, at most EVENT_HTTP_HEADERS_MAX, may be
 * NULL; a line with CR or LF is refused: header injection) and no
 * "Expect: 100-continue".  Blocks for at most about the total timeout.
 * result is always filled; response (may be NULL) receives the start of
 * the body.  Returns true when the outcome is DELIVERED.
 */
bool event_http_post(const char *url, const char *const *headers, const void *body, size_t len,
                     const event_http_limits_t *limits, event_http_result_t *result,
                     event_http_response_t *response);

/*
 * One webhook delivery attempt: event_http_post() with Content-Type:
 * application/json, User-Agent: vodup-webhook/1, X-Vodup-Event-Id: event_id
 * and X-Vodup-Signature signed with `secret` at unix_time (the caller's
 * clock, so a test can fix it; normally time(NULL) at the attempt).  A
 * failure to sign is OTHER, with nothing sent.
 */
bool event_http_deliver(const char *url, const char *secret, const char *event_id, int64_t unix_time,
                        const void *body, size_t len, const event_http_limits_t *limits,
                        event_http_result_t *result, event_http_response_t *response);

#endif
