/* ratelimit: token buckets per AccessKey; see ratelimit.h. */
#include "api/ratelimit.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define RATELIMIT_STRIPES 64

typedef struct ratelimit_bucket {
    struct ratelimit_bucket *next;
    double tokens;
    int64_t last_ns;
    char key[];
} ratelimit_bucket_t;

typedef struct ratelimit_stripe {
    pthread_mutex_t mu;
    ratelimit_bucket_t *head;
} ratelimit_stripe_t;

struct ratelimit {
    double rate, burst;
    ratelimit_stripe_t stripes[RATELIMIT_STRIPES];
};

ratelimit_t *ratelimit_new(int64_t rate, int64_t burst)
{
    ratelimit_t *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    rl->rate = (double)rate;
    rl->burst = (double)(burst > 0 ? burst : 1);
    for (int i = 0; i < RATELIMIT_STRIPES; i++)
        pthread_mutex_init(&rl->stripes[i].mu, NULL);
    return rl;
}

void ratelimit_free(ratelimit_t *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < RATELIMIT_STRIPES; i++) {
        ratelimit_bucket_t *b = rl->stripes[i].head;
        while (b) {
            ratelimit_bucket_t *next = b->next;
            free(b);
            b = next;
        }
        pthread_mutex_destroy(&rl->stripes[i].mu);
    }
    free(rl);
}

static unsigned ratelimit_hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

bool ratelimit_take(ratelimit_t *rl, const char *key, int64_t now_ns)
{
    if (rl->rate <= 0)
        return true;
    ratelimit_stripe_t *st = &rl->stripes[ratelimit_hash(key) % RATELIMIT_STRIPES];
    bool allowed = false;
    pthread_mutex_lock(&st->mu);
    ratelimit_bucket_t *b = st->head;
    while (b && strcmp(b->key, key) != 0)
        b = b->next;
    if (!b) {
        size_t klen = strlen(key);
        b = malloc(sizeof(*b) + klen + 1);
        if (!b) {
            /* Out of memory: failing open keeps the API usable. */
            allowed = true;
            goto out;
        }
        memcpy(b->key, key, klen + 1);
        b->tokens = rl->burst;
        b->last_ns = now_ns;
        b->next = st->head;
        st->head = b;
    }
    double elapsed = (double)(now_ns - b->last_ns) / 1e9;
    if (elapsed > 0) {
        b->tokens += elapsed * rl->rate;
        if (b->tokens > rl->burst)
            b->tokens = rl->burst;
        b->last_ns = now_ns;
    }
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        allowed = true;
    }
out:
    pthread_mutex_unlock(&st->mu);
    return allowed;
}
