/* tus_slot: the holder of each tus upload, with takeover; see tus_slot.h. */
#include "upload/tus_slot.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TUS_SLOT_BUCKETS 1024

struct tus_slot {
    tus_slot_t *next;   /* in its bucket (under the table lock) */
    char id[BLOB_ID_LEN + 1];
    int refs;           /* under the table lock */
    pthread_mutex_t mu; /* the rest */
    pthread_cond_t cv;  /* a finishing holder let go */
    const void *holder; /* NULL: free */
    bool finishing;
    blob_writer_t *writer;
    int64_t start, written;
    bool checked;
};

struct tus_slots {
    pthread_mutex_t mu;
    tus_slot_t *buckets[TUS_SLOT_BUCKETS];
};

tus_slots_t *tus_slots_new(void)
{
    tus_slots_t *ss = calloc(1, sizeof(*ss));
    if (ss)
        pthread_mutex_init(&ss->mu, NULL);
    return ss;
}

void tus_slots_free(tus_slots_t *ss)
{
    if (!ss)
        return;
    pthread_mutex_destroy(&ss->mu);
    free(ss); /* every slot was released with its request */
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
    if (s)
        s->refs++;
    pthread_mutex_unlock(&ss->mu);
    return s;
}

static void tus_slot_unref(tus_slots_t *ss, tus_slot_t *s)
{
    pthread_mutex_lock(&ss->mu);
    bool last = --s->refs == 0;
    if (last) {
        tus_slot_t **p = &ss->buckets[tus_slot_bucket(s->id)];
        while (*p != s)
            p = &(*p)->next;
        *p = s->next;
    }
    pthread_mutex_unlock(&ss->mu);
    if (last) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
        free(s);
    }
}

int tus_slot_claim(tus_slots_t *ss, const char *upload_id, const void *who, bool wait, tus_slot_t **out,
                   tus_handover_t *handover)
{
    memset(handover, 0, sizeof(*handover));
    *out = NULL;
    tus_slot_t *s = tus_slot_ref(ss, upload_id);
    if (!s)
        return TUS_CLAIM_ERROR;
    pthread_mutex_lock(&s->mu);
    while (s->holder && s->finishing && wait)
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->holder && s->finishing) {
        pthread_mutex_unlock(&s->mu);
        tus_slot_unref(ss, s);
        return TUS_CLAIM_BUSY;
    }
    if (s->holder) /* receiving: its next body call finds it is no longer the holder */
        *handover = (tus_handover_t){s->writer, s->start, s->written, s->checked};
    s->holder = who;
    s->writer = NULL;
    s->start = s->written = 0;
    s->checked = false;
    pthread_mutex_unlock(&s->mu);
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
        if (*rc == BLOB_OK)
            s->written += (int64_t)len;
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
    if (s->holder == from)
        s->holder = to;
    pthread_mutex_unlock(&s->mu);
}

void tus_slot_release(tus_slots_t *ss, tus_slot_t *s, const void *who)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->holder == who) {
        s->holder = NULL;
        s->finishing = false;
        s->writer = NULL;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    tus_slot_unref(ss, s);
}
