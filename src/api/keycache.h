/*
 * keycache: a short-lived in-memory copy of AccessKey lookups for the API.
 *
 * Every signed request needs its key (secret, account, bucket, enabled) and
 * getUploadToken also the account's default domain.  Reading them from the
 * store costs a database read transaction each; with this cache a key is
 * read at most once per `key-cache-ttl` per server.  The price is that a
 * change made with `vodup admin` (a disabled key, a new default domain)
 * takes effect within that TTL (default 1 s; 0 turns the cache off).
 * Unknown keys are not cached, so a newly created key works at once.
 * Thread-safe; entries are copied out, never shared.
 */
#ifndef VODUP_API_KEYCACHE_H
#define VODUP_API_KEYCACHE_H

#include <stdint.h>

#include "store/store.h"

typedef struct keycache keycache_t;

/* ttl_ms 0: every lookup goes to the store. */
keycache_t *keycache_new(store_t *store, int64_t ttl_ms);
void keycache_free(keycache_t *kc);

/* Like store key_lookup: fills *key (caller frees with store_key_free) and,
 * when default_domain is not NULL, *default_domain with the account's
 * default domain or "" (caller frees).  Returns a store rc. */
int keycache_lookup(keycache_t *kc, const char *access_key, int64_t now_ns, store_key_t *key,
                    char **default_domain);

#endif
