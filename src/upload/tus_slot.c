/* tus_slot: the holder of each tus upload, with takeover; see tus_slot.h. */
#include "upload/tus_slot.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"
#include "upload/etag.h"

#define TUS_SLOT_BUCKETS 1024
/* Slots kept with no request on them, for their running digest; past this
 * many, one is dropped for each new one (its upload's completion then
 * reads the bytes back). */
#define TUS_SLOT_IDLE_MAX 4096

/* The MD5 and etag of an upload's bytes [0, hashed), as they were written. */
typedef struct tus_digest {
    EVP_MD_CTX *md5;
    etag_t etag;
    int64_t hashed;
} tus_digest_t;

struct tus_slot {
    tus_slot_t *next;   /* in its bucket (under the table lock) */
    char id[BLOB_ID_LEN + 1];
    int refs;           /* under the table lock */
    pthread_mutex_t mu; /* the rest */
    pthread_cond_t cv;  /* a finishing holder let go */
    const void *holder; /* NULL: free */
    upload_cut_t cut;   /* the holder's connection */
    bool finishing;
    blob_writer_t *writer;
    int64_t start, written;
    bool checked;
    tus_digest_t *digest; /* NULL: none (the bytes were not all seen here) */
    const void *lent_to;  /* the request whose follower feeds the digest; NULL: hashed inline */
};

struct tus_slots {
    pthread_mutex_t mu;
    tus_slot_t *buckets[TUS_SLOT_BUCKETS];
    size_t idle; /* slots kept with refs 0 (they hold a digest) */
};

static void tus_digest_free(tus_digest_t *d)
{
    if (!d)
        return;
    EVP_MD_CTX_free(d->md5);
    etag_free(&d->etag);
    free(d);
}

static tus_digest_t *tus_digest_new(void)
{
    tus_digest_t *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->md5 = EVP_MD_CTX_new();
    if (!d->md5 || !EVP_DigestInit_ex(d->md5, EVP_md5(), NULL) || !etag_init(&d->etag)) {
        EVP_MD_CTX_free(d->md5);
        free(d);
        return NULL;
    }
    return d;
}

tus_slots_t *tus_slots_new(void)
{
    tus_slots_t *ss = calloc(1, sizeof(*ss));
    if (ss)
        pthread_mutex_init(&ss->mu, NULL);
    return ss;
}

static void tus_slot_destroy(tus_slot_t *s)
{
    tus_digest_free(s->digest);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}

void tus_slots_free(tus_slots_t *ss)
{
    if (!ss)
        return;
    for (size_t b = 0; b < TUS_SLOT_BUCKETS; b++)
        for (tus_slot_t *s = ss->buckets[b], *next; s; s = next) {
            next = s->next;
            tus_slot_destroy(s); /* idle ones: every request released its own */
        }
    pthread_mutex_destroy(&ss->mu);
    free(ss);
}

/* With the table lock: unlinks and frees one idle slot (the first found). */
static void tus_slot_evict_one(tus_slots_t *ss)
{
    for (size_t b = 0; b < TUS_SLOT_BUCKETS; b++)
        for (tus_slot_t **p = &ss->buckets[b]; *p; p = &(*p)->next)
            if ((*p)->refs == 0) {
                tus_slot_t *s = *p;
                *p = s->next;
                ss->idle--;
                tus_slot_destroy(s);
                return;
            }
}

static size_t tus_slot_bucket(const char *id)
{
    size_t h = 5381;
    for (const char *p = id; *p; p++)
        h = h * 33 + (unsigned char)*p;
    return h % TUS_SLOT_BUCKETS;
}

/* The slot of `id`, created if needed, with one more reference. */
static tus_slot_t *tus_slot_ref(tus_slots_t *ss, const char *id)
{
    size_t b = tus_slot_bucket(id);
    pthread_mutex_lock(&ss->mu);
    tus_slot_t *s = ss->buckets[b];
    while (s && strcmp(s->id, id) != 0)
        s = s->next;
    if (!s && (s = calloc(1, sizeof(*s))) != NULL) {
        snprintf(s->id, sizeof(s->id), "%s", id);
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, NULL);
        s->next = ss->buckets[b];
        ss->buckets[b] = s;
    }
    if (s && s->refs++ == 0 && s->digest)
        ss->idle--; /* was kept idle */
    pthread_mutex_unlock(&ss->mu);
    return s;
}

/* Drops a reference; the last one frees the slot, unless it holds a
 * digest worth keeping for the upload's next request. */
static void tus_slot_unref(tus_slots_t *ss, tus_slot_t *s)
{
    pthread_mutex_lock(&ss->mu);
    bool last = --s->refs == 0, keep = last && s->digest; /* no holder now: digest is stable */
    if (keep && ++ss->idle > TUS_SLOT_IDLE_MAX)
        tus_slot_evict_one(ss); /* may be s itself */
    else if (last && !keep) {
        tus_slot_t **p = &ss->buckets[tus_slot_bucket(s->id)];
        while (*p != s)
            p = &(*p)->next;
        *p = s->next;
        tus_slot_destroy(s);
    }
    pthread_mutex_unlock(&ss->mu);
}

int tus_slot_claim(tus_slots_t *ss, const char *upload_id, const void *who, const upload_cut_t *cut, bool wait,
                   tus_slot_t **out, tus_handover_t *handover)
{
    memset(handover, 0, sizeof(*handover));
    *out = NULL;
    tus_slot_t *s = tus_slot_ref(ss, upload_id);
    if (!s)
        return TUS_CLAIM_ERROR;
    pthread_mutex_lock(&s->mu);
    /* Only a holder receiving bytes is taken over; one that is finishing,
     * or has no bytes to receive (a HEAD, a DELETE, a bodiless PATCH), is
     * about to let go and is waited for. */
    while (s->holder && (s->finishing || !s->writer) && wait)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->holder && (s->finishing || !s->writer)) {
        pthread_mutex_unlock(&s->mu);
        tus_slot_unref(ss, s);
        return TUS_CLAIM_BUSY;
    }
    upload_cut_t old = {0};
    if (s->holder) { /* receiving: its next body call finds it is no longer the holder */
        *handover = (tus_handover_t){s->writer, s->start, s->written, s->checked};
        old = s->cut;
    }
    s->holder = who;
    s->cut = cut ? *cut : (upload_cut_t){0};
    s->writer = NULL;
    s->start = s->written = 0;
    s->checked = false;
    pthread_mutex_unlock(&s->mu);
    if (old.fn)
        old.fn(old.arg, old.id);
    *out = s;
    return TUS_CLAIM_OK;
}

void tus_slot_set_writer(tus_slot_t *s, const void *who, blob_writer_t *w, int64_t start, bool checked)
{
    pthread_mutex_lock(&s->mu);
    if (s->holder == who) {
        s->writer = w;
        s->start = start;
        s->written = 0;
        s->checked = checked;
        /* The digest goes on only where its bytes end; an upload begins one. */
        if (s->digest && !s->lent_to && s->digest->hashed != start) {
            tus_digest_free(s->digest);
            s->digest = NULL;
        }
        if (!s->digest && start == 0)
            s->digest = tus_digest_new();
    }
    pthread_mutex_unlock(&s->mu);
}

bool tus_slot_digest_update(void *digest, const void *data, size_t len)
{
    tus_digest_t *d = digest;
    if (EVP_DigestUpdate(d->md5, data, len) != 1 || !etag_update(&d->etag, data, len))
        return false;
    d->hashed += (int64_t)len;
    return true;
}

void *tus_slot_lend(tus_slot_t *s, const void *who)
{
    pthread_mutex_lock(&s->mu);
    tus_digest_t *d = s->holder == who && !s->lent_to && s->digest && s->digest->hashed == s->start ? s->digest : NULL;
    if (d)
        s->lent_to = who;
    pthread_mutex_unlock(&s->mu);
    return d;
}

void tus_slot_giveback(tus_slot_t *s, const void *who, bool ok)
{
    pthread_mutex_lock(&s->mu);
    if (s->lent_to == who) {
        s->lent_to = NULL;
        if (!ok) {
            tus_digest_free(s->digest);
            s->digest = NULL;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

/* With the slot lock: hashes bytes written at `offset` (unless a follower
 * does), or drops the digest when they do not follow its bytes. */
static void tus_slot_hash(tus_slot_t *s, int64_t offset, const void *data, size_t len)
{
    tus_digest_t *d = s->digest;
    if (!d || s->lent_to)
        return;
    if (d->hashed == offset && EVP_DigestUpdate(d->md5, data, len) == 1 && etag_update(&d->etag, data, len)) {
        d->hashed += (int64_t)len;
        return;
    }
    tus_digest_free(d);
    s->digest = NULL;
}

bool tus_slot_digest(tus_slot_t *s, int64_t length, char md5_hex[33], char etag[ETAG_LEN + 1])
{
    pthread_mutex_lock(&s->mu);
    tus_digest_t *d = s->lent_to ? NULL : s->digest;
    if (d)
        s->digest = NULL;
    pthread_mutex_unlock(&s->mu);
    unsigned char md5[EVP_MAX_MD_SIZE];
    unsigned int md5_len = 0;
    bool ok = d && d->hashed == length && EVP_DigestFinal_ex(d->md5, md5, &md5_len) == 1 && md5_len == 16 &&
              etag_final(&d->etag, etag);
    if (ok)
        encoding_hex(md5, 16, md5_hex);
    tus_digest_free(d);
    return ok;
}

void tus_slot_forget(tus_slot_t *s)
{
    pthread_mutex_lock(&s->mu);
    if (!s->lent_to) {
        tus_digest_free(s->digest);
        s->digest = NULL;
    }
    pthread_mutex_unlock(&s->mu);
}

bool tus_slot_write(tus_slot_t *s, const void *who, blob_t *blob, const void *data, size_t len, int *rc)
{
    *rc = BLOB_OK;
    pthread_mutex_lock(&s->mu);
    bool mine = s->holder == who && s->writer;
    if (mine) {
        *rc = blob->ops->write(s->writer, data, len);
        if (*rc == BLOB_OK) {
            tus_slot_hash(s, s->start + s->written, data, len);
            s->written += (int64_t)len;
        }
    }
    pthread_mutex_unlock(&s->mu);
    return mine && *rc == BLOB_OK;
}

bool tus_slot_finishing(tus_slot_t *s, const void *who, blob_writer_t **writer)
{
    *writer = NULL;
    pthread_mutex_lock(&s->mu);
    bool mine = s->holder == who;
    if (mine) {
        s->finishing = true;
        *writer = s->writer;
        s->writer = NULL;
    }
    pthread_mutex_unlock(&s->mu);
    return mine;
}

void tus_slot_pass(tus_slot_t *s, const void *from, const void *to)
{
    pthread_mutex_lock(&s->mu);
    if (s->holder == from) {
        s->holder = to;
        s->cut = (upload_cut_t){0}; /* a job has no connection */
    }
    pthread_mutex_unlock(&s->mu);
}

void tus_slot_release(tus_slots_t *ss, tus_slot_t *s, const void *who)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->holder == who) {
        s->holder = NULL;
        s->cut = (upload_cut_t){0};
        s->finishing = false;
        s->writer = NULL;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    tus_slot_unref(ss, s);
}
