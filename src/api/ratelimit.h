/*
 * ratelimit: a token bucket per AccessKey for the API (429 when empty).
 *
 * Owns one bucket per key that has made a request; keys are only added
 * after authentication, so the table is bounded by the number of real keys.
 * Thread-safe: buckets are spread over striped mutexes.
 */
#ifndef VODUP_API_RATELIMIT_H
#define VODUP_API_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ratelimit ratelimit_t;

/* rate: tokens per second (0 disables limiting); burst: bucket size. */
ratelimit_t *ratelimit_new(int64_t rate, int64_t burst);
void ratelimit_free(ratelimit_t *rl);

/* Takes one token for key at time now_ns (monotonic); false when empty. */
bool ratelimit_take(ratelimit_t *rl, const char *key, int64_t now_ns);

#endif
