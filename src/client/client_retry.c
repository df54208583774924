/*
 * client_retry.c: retry classification and backoff; see client_retry.h.
 */
#include "client/client_retry.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define CLIENT_RETRY_SLICE_MS 50

/* A positive decimal below `max`, else -1. */
static long client_env_number(const char *name, long max)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return -1;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || *end || n < 0 || n > max)
        return -1;
    return n;
}

void client_retry_policy_from_env(client_retry_policy_t *p)
{
    p->max_tries = CLIENT_RETRY_DEFAULT_MAX;
    p->base_ms = CLIENT_RETRY_DEFAULT_BASE_MS;
    p->max_delay_ms = CLIENT_RETRY_MAX_DELAY_MS;
    long tries = client_env_number("VODUP_RETRY_MAX", CLIENT_RETRY_LIMIT);
    if (tries >= 1)
        p->max_tries = (int)tries;
    long base = client_env_number("VODUP_RETRY_BASE_MS", CLIENT_RETRY_MAX_DELAY_MS);
    if (base >= 0)
        p->base_ms = (int)base;
}

enum client_retry_verdict client_retry_classify(CURLcode code, long status)
{
    switch (code) {
    case CURLE_OK:
        if (status == 200)
            return CLIENT_RETRY_DONE;
        if ((status >= 500 && status <= 599) || status == 429)
            return CLIENT_RETRY_AGAIN;
        return CLIENT_RETRY_STOP;
    /* The network or the server went away, or was too slow: worth another try. */
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
        return CLIENT_RETRY_AGAIN;
    /* Ours to fix (a bad URL, a refused read, an abort we asked for). */
    default:
        return CLIENT_RETRY_STOP;
    }
}

int64_t client_retry_delay_ms(const client_retry_policy_t *p, int failures, uint32_t jitter)
{
    if (failures < 1)
        failures = 1;
    int64_t d = p->base_ms;
    for (int i = 1; i < failures && d < p->max_delay_ms; i++)
        d *= 2;
    if (d > p->max_delay_ms)
        d = p->max_delay_ms;
    /* Jitter: between half and all of the backoff. */
    return d / 2 + (int64_t)((uint64_t)(d - d / 2) * jitter >> 32);
}

uint32_t client_retry_random(void)
{
    static __thread uint32_t state;
    if (state == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        state = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid() ^ (uint32_t)(uintptr_t)&ts;
        if (state == 0)
            state = 0x9e3779b9u;
    }
    /* xorshift32 */
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
}

bool client_retry_sleep(int64_t ms, const atomic_int *stop)
{
    while (ms > 0) {
        if (stop && atomic_load(stop))
            return false;
        int64_t slice = ms < CLIENT_RETRY_SLICE_MS ? ms : CLIENT_RETRY_SLICE_MS;
        struct timespec ts = {0, (long)slice * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
            if (stop && atomic_load(stop))
                return false;
        }
        ms -= slice;
    }
    return !(stop && atomic_load(stop));
}
