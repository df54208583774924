/* keycache: AccessKey lookups kept for a short TTL; see keycache.h. */
#include "api/keycache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define KEYCACHE_BUCKETS 256
/* Bounds memory whatever keys clients send: only real keys are cached, and
 * a full bucket drops its oldest entry. */
#define KEYCACHE_BUCKET_MAX 16

typedef struct keycache_entry {
    struct keycache_entry *next;
    store_key_t key;
    char *default_domain;
    int64_t fetched_ns;
} keycache_entry_t;

typedef struct keycache_bucket {
    pthread_mutex_t mu;
    keycache_entry_t *head;
    size_t count;
} keycache_bucket_t;

struct keycache {
    store_t *store;
    int64_t ttl_ns;
    keycache_bucket_t buckets[KEYCACHE_BUCKETS];
};

keycache_t *keycache_new(store_t *store, int64_t ttl_ms)
{
    keycache_t *kc = calloc(1, sizeof(*kc));
    if (!kc)
        return NULL;
    kc->store = store;
    kc->ttl_ns = ttl_ms * 1000000;
    for (int i = 0; i < KEYCACHE_BUCKETS; i++)
        pthread_mutex_init(&kc->buckets[i].mu, NULL);
    return kc;
}

static void keycache_entry_free(keycache_entry_t *e)
{
    store_key_free(&e->key);
    free(e->default_domain);
    free(e);
}

void keycache_free(keycache_t *kc)
{
    if (!kc)
        return;
    for (int i = 0; i < KEYCACHE_BUCKETS; i++) {
        keycache_entry_t *e = kc->buckets[i].head;
        while (e) {
            keycache_entry_t *next = e->next;
            keycache_entry_free(e);
            e = next;
        }
        pthread_mutex_destroy(&kc->buckets[i].mu);
    }
    free(kc);
}

static char *keycache_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Deep copy; false on OOM (dst then holds whatever was copied; free it). */
static bool keycache_copy_key(const store_key_t *src, store_key_t *dst)
{
    *dst = *src;
    dst->access_key = keycache_strdup(src->access_key);
    dst->secret_key = keycache_strdup(src->secret_key);
    dst->account_name = keycache_strdup(src->account_name);
    dst->bucket = keycache_strdup(src->bucket);
    return dst->access_key && dst->secret_key && dst->account_name && dst->bucket;
}

static unsigned keycache_hash(const char *s)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Reads the key and its default domain from the store. */
static int keycache_fetch(keycache_t *kc, const char *access_key, store_key_t *key, char **domain)
{
    int rc = kc->store->ops->key_lookup(kc->store, access_key, key);
    if (rc != STORE_OK)
        return rc;
    store_domain_t d = {0};
    rc = kc->store->ops->domain_get(kc->store, key->account_id, NULL, &d);
    if (rc == STORE_NOT_FOUND) {
        free(d.name);
        d.name = strdup("");
        rc = d.name ? STORE_OK : STORE_ERROR;
    }
    if (rc != STORE_OK) {
        free(d.name);
        store_key_free(key);
        return rc;
    }
    *domain = d.name;
    return STORE_OK;
}

int keycache_lookup(keycache_t *kc, const char *access_key, int64_t now_ns, store_key_t *key,
                    char **default_domain)
{
    char *domain = NULL;
    int rc = STORE_OK;
    memset(key, 0, sizeof(*key));
    if (kc->ttl_ns > 0) {
        keycache_bucket_t *b = &kc->buckets[keycache_hash(access_key) % KEYCACHE_BUCKETS];
        bool hit = false;
        pthread_mutex_lock(&b->mu);
        for (keycache_entry_t *e = b->head; e; e = e->next) {
            if (strcmp(e->key.access_key, access_key) != 0)
                continue;
            if (now_ns - e->fetched_ns < kc->ttl_ns) {
                hit = keycache_copy_key(&e->key, key);
                domain = hit ? strdup(e->default_domain) : NULL;
                hit = hit && domain;
            }
            break;
        }
        pthread_mutex_unlock(&b->mu);
        if (hit)
            goto out;
        store_key_free(key);
        free(domain);
        domain = NULL;
    }
    rc = keycache_fetch(kc, access_key, key, &domain);
    if (rc != STORE_OK || kc->ttl_ns <= 0)
        goto out;

    /* Store a copy for the next requests; failing to is not an error. */
    keycache_entry_t *fresh = calloc(1, sizeof(*fresh));
    if (!fresh)
        goto out;
    fresh->fetched_ns = now_ns;
    fresh->default_domain = strdup(domain);
    if (!fresh->default_domain || !keycache_copy_key(key, &fresh->key)) {
        keycache_entry_free(fresh);
        goto out;
    }
    keycache_bucket_t *b = &kc->buckets[keycache_hash(access_key) % KEYCACHE_BUCKETS];
    pthread_mutex_lock(&b->mu);
    keycache_entry_t **pp = &b->head;
    while (*pp && strcmp((*pp)->key.access_key, access_key) != 0)
        pp = &(*pp)->next;
    if (*pp) {
        keycache_entry_t *old = *pp;
        *pp = old->next;
        keycache_entry_free(old);
        b->count--;
    }
    if (b->count >= KEYCACHE_BUCKET_MAX) {
        /* Drop the last (oldest inserted) entry. */
        keycache_entry_t **last = &b->head;
        while ((*last)->next)
            last = &(*last)->next;
        keycache_entry_free(*last);
        *last = NULL;
        b->count--;
    }
    fresh->next = b->head;
    b->head = fresh;
    b->count++;
    pthread_mutex_unlock(&b->mu);
out:
    if (rc == STORE_OK && default_domain)
        *default_domain = domain;
    else
        free(domain);
    return rc;
}
