/*
 * client_retry: which failed requests the client tries again, and when.
 *
 * A request is retried when the failure may go away by itself: a transport
 * error (connection refused or reset, timeout, an answer cut short: curl's
 * equivalent of the 599 that other clients report), a 5xx, or a 429.  A 4xx
 * (and WCS's own 6xx/7xx codes, such as 701) is the server's final word and
 * stops the command at once with the server's message.  Retries wait an exponential backoff with jitter, so a
 * fleet of clients that lost the same server does not come back in step.
 *
 * The policy can be tightened for tests through the environment:
 * VODUP_RETRY_MAX (tries per request, including the first) and
 * VODUP_RETRY_BASE_MS (the first wait).  Everything but client_retry_sleep
 * is pure.
 */
#ifndef VODUP_CLIENT_RETRY_H
#define VODUP_CLIENT_RETRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <curl/curl.h>

#define CLIENT_RETRY_DEFAULT_MAX 6
#define CLIENT_RETRY_DEFAULT_BASE_MS 500
#define CLIENT_RETRY_MAX_DELAY_MS 30000
#define CLIENT_RETRY_LIMIT 100 /* the largest VODUP_RETRY_MAX accepted */

typedef struct client_retry_policy {
    int max_tries;    /* >= 1 */
    int base_ms;      /* the wait after the first failure, before jitter */
    int max_delay_ms; /* no single wait is longer */
} client_retry_policy_t;

enum client_retry_verdict {
    CLIENT_RETRY_DONE = 0, /* HTTP 200 */
    CLIENT_RETRY_AGAIN,    /* transient: try again after a backoff */
    CLIENT_RETRY_STOP,     /* final: a 4xx, another status, or a local error */
};

/* Defaults, then VODUP_RETRY_MAX and VODUP_RETRY_BASE_MS when they are
 * valid numbers (invalid values are ignored). */
void client_retry_policy_from_env(client_retry_policy_t *p);

/* The verdict for a transfer that ended with `code` and, when code is
 * CURLE_OK, HTTP `status`. */
enum client_retry_verdict client_retry_classify(CURLcode code, long status);

/*
 * The wait in ms after the `failures`-th failure (1 = after the first try):
 * base * 2^(failures-1), capped at max_delay_ms, then scaled into
 * [50%, 100%) by `jitter` (any 32-bit value).
 */
int64_t client_retry_delay_ms(const client_retry_policy_t *p, int failures, uint32_t jitter);

/* A random 32-bit value for the jitter (not for anything secret). */
uint32_t client_retry_random(void);

/* Sleeps ms milliseconds in short slices; returns early (false) when *stop
 * becomes non-zero.  stop may be NULL. */
bool client_retry_sleep(int64_t ms, const atomic_int *stop);

#endif
