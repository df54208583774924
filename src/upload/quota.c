/* quota: the staged-bytes ledger; see quota.h.  Trees are glibc's tsearch. */
#define _GNU_SOURCE /* tdestroy */
#include "upload/quota.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"

#define QUOTA_ACCOUNT_TOTAL (-1) /* the `token` of a usage entry that sums an account */
#define QUOTA_ACCOUNT_HEX 12
#define QUOTA_TOKEN_HEX 6

/* Bytes charged to (account, token), or to the whole account. */
typedef struct quota_usage {
    int64_t account_id;
    int64_t token;
    int64_t bytes;
} quota_usage_t;

typedef struct quota_block {
    char id[BLOB_ID_LEN + 1];
    int64_t bytes;
} quota_block_t;

struct quota {
    pthread_mutex_t mu;
    int64_t per_account, per_token, preauth_total;
    int64_t preauth_used;
    int64_t total; /* every owner's bytes together */
    void *usage;  /* tree of quota_usage_t */
    void *blocks; /* tree of quota_block_t */
};

static int quota_usage_cmp(const void *a, const void *b)
{
    const quota_usage_t *x = a, *y = b;
    if (x->account_id != y->account_id)
        return x->account_id < y->account_id ? -1 : 1;
    return x->token < y->token ? -1 : x->token > y->token;
}

static int quota_block_cmp(const void *a, const void *b)
{
    return strcmp(((const quota_block_t *)a)->id, ((const quota_block_t *)b)->id);
}

quota_t *quota_new(int64_t per_account, int64_t per_token, int64_t preauth_total)
{
    quota_t *q = calloc(1, sizeof(*q));
    if (!q)
        return NULL;
    pthread_mutex_init(&q->mu, NULL);
    q->per_account = per_account;
    q->per_token = per_token;
    q->preauth_total = preauth_total;
    return q;
}

void quota_free(quota_t *q)
{
    if (!q)
        return;
    tdestroy(q->usage, free);
    tdestroy(q->blocks, free);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* Current bytes of (account, token); 0 when there is no entry. */
static int64_t quota_get(quota_t *q, int64_t account_id, int64_t token)
{
    quota_usage_t key = {account_id, token, 0};
    quota_usage_t **found = tfind(&key, &q->usage, quota_usage_cmp);
    return found ? (*found)->bytes : 0;
}

/* Adds delta to (account, token); an entry that reaches 0 is removed, so
 * the tree holds only owners with something staged. */
static void quota_add(quota_t *q, int64_t account_id, int64_t token, int64_t delta)
{
    quota_usage_t key = {account_id, token, 0};
    quota_usage_t **found = tfind(&key, &q->usage, quota_usage_cmp);
    if (!found) {
        quota_usage_t *u = malloc(sizeof(*u));
        if (u)
            *u = key;
        if (!u || !(found = tsearch(u, &q->usage, quota_usage_cmp))) {
            free(u); /* out of memory: this charge is not recorded */
            return;
        }
    }
    quota_usage_t *u = *found;
    u->bytes += delta;
    if (u->bytes <= 0) {
        tdelete(u, &q->usage, quota_usage_cmp);
        free(u);
    }
}

static void quota_charge(quota_t *q, const quota_owner_t *o, int64_t delta)
{
    q->total += delta;
    quota_add(q, o->account_id, o->token, delta);
    quota_add(q, o->account_id, QUOTA_ACCOUNT_TOTAL, delta);
}

int quota_take(quota_t *q, const quota_owner_t *o, int64_t bytes)
{
    int rc = QUOTA_OK;
    pthread_mutex_lock(&q->mu);
    if (quota_get(q, o->account_id, QUOTA_ACCOUNT_TOTAL) > q->per_account - bytes)
        rc = QUOTA_ACCOUNT;
    else if (quota_get(q, o->account_id, o->token) > q->per_token - bytes)
        rc = QUOTA_TOKEN;
    else
        quota_charge(q, o, bytes);
    pthread_mutex_unlock(&q->mu);
    return rc;
}

void quota_give(quota_t *q, const quota_owner_t *o, int64_t bytes)
{
    if (bytes <= 0)
        return;
    pthread_mutex_lock(&q->mu);
    quota_charge(q, o, -bytes);
    pthread_mutex_unlock(&q->mu);
}

bool quota_preauth_take(quota_t *q, int64_t bytes)
{
    pthread_mutex_lock(&q->mu);
    bool ok = q->preauth_used <= q->preauth_total - bytes;
    if (ok)
        q->preauth_used += bytes;
    pthread_mutex_unlock(&q->mu);
    return ok;
}

void quota_preauth_give(quota_t *q, int64_t bytes)
{
    pthread_mutex_lock(&q->mu);
    q->preauth_used -= bytes;
    pthread_mutex_unlock(&q->mu);
}

void quota_block_set(quota_t *q, const char *block_id, int64_t bytes)
{
    quota_block_t key;
    snprintf(key.id, sizeof(key.id), "%s", block_id);
    quota_owner_t o;
    block_id_owner(block_id, &o);
    pthread_mutex_lock(&q->mu);
    quota_block_t **found = tfind(&key, &q->blocks, quota_block_cmp);
    int64_t before = found ? (*found)->bytes : 0;
    if (!found && bytes > 0) {
        quota_block_t *b = malloc(sizeof(*b));
        if (b) {
            *b = key;
            b->bytes = 0;
        }
        if (!b || !(found = tsearch(b, &q->blocks, quota_block_cmp)))
            free(b);
    }
    if (found) {
        quota_block_t *b = *found;
        b->bytes = bytes;
        quota_charge(q, &o, bytes - before);
        if (bytes <= 0) {
            tdelete(b, &q->blocks, quota_block_cmp);
            free(b);
        }
    }
    pthread_mutex_unlock(&q->mu);
}

int64_t quota_used(quota_t *q, const quota_owner_t *o)
{
    pthread_mutex_lock(&q->mu);
    int64_t n = quota_get(q, o->account_id, o->token);
    pthread_mutex_unlock(&q->mu);
    return n;
}

int64_t quota_account_used(quota_t *q, int64_t account_id)
{
    pthread_mutex_lock(&q->mu);
    int64_t n = quota_get(q, account_id, QUOTA_ACCOUNT_TOTAL);
    pthread_mutex_unlock(&q->mu);
    return n;
}

int64_t quota_total(quota_t *q)
{
    pthread_mutex_lock(&q->mu);
    int64_t n = q->total;
    pthread_mutex_unlock(&q->mu);
    return n;
}

/* ---- block ids ---- */

bool block_id_make(const quota_owner_t *o, char out[BLOB_ID_LEN + 1])
{
    char random[BLOB_ID_LEN + 1];
    if (!ids_random_hex((BLOB_ID_LEN - QUOTA_ACCOUNT_HEX - QUOTA_TOKEN_HEX) / 2, random))
        return false;
    snprintf(out, BLOB_ID_LEN + 1, "%012llx%06x%.14s", (unsigned long long)o->account_id & 0xffffffffffffULL,
             (unsigned)o->token & 0xffffffu, random);
    return true;
}

static uint64_t block_id_hex(const char *s, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && s[i]; i++) {
        char c = s[i];
        v = v * 16 + (uint64_t)(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
    }
    return v;
}

void block_id_owner(const char *block_id, quota_owner_t *o)
{
    o->account_id = (int64_t)block_id_hex(block_id, QUOTA_ACCOUNT_HEX);
    o->token = strlen(block_id) >= QUOTA_ACCOUNT_HEX + QUOTA_TOKEN_HEX
                   ? (uint32_t)block_id_hex(block_id + QUOTA_ACCOUNT_HEX, QUOTA_TOKEN_HEX)
                   : 0;
}

uint32_t quota_token_of(const char *token, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    if (!EVP_Digest(token, len, md, &md_len, EVP_sha256(), NULL))
        return 0;
    return (uint32_t)md[0] << 16 | (uint32_t)md[1] << 8 | md[2];
}
