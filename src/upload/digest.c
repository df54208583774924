/* digest: background hashes of finished blocks for mkfile; see digest.h. */
#define _GNU_SOURCE /* pthread_setname_np */
#include "upload/digest.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "upload/etag.h"

#define DIGEST_BUCKETS 4096               /* power of two */
#define DIGEST_READ_BUFFER (1 << 20)      /* bytes read back at a time */
#define DIGEST_MAX_PIECE_BYTES (4 << 20)  /* piece digests held, all entries */

typedef struct digest_entry {
    char id[BLOB_ID_LEN + 1];
    uint64_t gen;        /* from the last digest_block_opened */
    bool hashed;         /* pieces hold this generation's bytes */
    bool queued;         /* in the job queue, for generation queued_gen (0: cancelled) */
    bool dead;           /* to be freed as soon as it is neither queued nor being hashed */
    uint64_t queued_gen;
    uint8_t key_hash[8];
    int32_t index;
    int64_t length;
    uint8_t *pieces;
    size_t npieces;
    uint64_t chain_id;   /* the chain whose MD5 covers this block, 0 for none */
    struct digest_entry *hnext;          /* bucket */
    struct digest_entry *older, *newer;  /* age list, for eviction */
    struct digest_entry *qnext;          /* job queue */
} digest_entry_t;

/* A running MD5 over blocks 0 .. next_index-1 of one key. */
typedef struct digest_chain {
    uint64_t id; /* 0: free slot */
    uint8_t key_hash[8];
    int32_t next_index;
    EVP_MD_CTX *md5;
    uint64_t used;
} digest_chain_t;

struct digest_cache {
    blob_t *blob;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a job was queued, or stop */
    pthread_cond_t idle; /* the thread finished a block */
    pthread_t thread;
    bool stopping;
    uint64_t seq; /* generations, chain ids and use stamps */
    digest_entry_t *buckets[DIGEST_BUCKETS];
    digest_entry_t *oldest, *newest;
    size_t entries;
    size_t piece_bytes;
    digest_entry_t *qhead, *qtail;
    digest_entry_t *current; /* being hashed, outside the lock */
    digest_chain_t chains[DIGEST_MAX_CHAINS];
};

static size_t digest_bucket(const char *id)
{
    /* Block ids are random hex: their first characters are hash enough. */
    size_t h = 0;
    for (int i = 0; i < 8 && id[i]; i++)
        h = h * 31 + (unsigned char)id[i];
    return h & (DIGEST_BUCKETS - 1);
}

static digest_entry_t *digest_find(digest_cache_t *dc, const char *id)
{
    for (digest_entry_t *e = dc->buckets[digest_bucket(id)]; e; e = e->hnext)
        if (strcmp(e->id, id) == 0)
            return e;
    return NULL;
}

static digest_chain_t *digest_chain_find(digest_cache_t *dc, const uint8_t key_hash[8])
{
    for (size_t i = 0; i < DIGEST_MAX_CHAINS; i++)
        if (dc->chains[i].id && memcmp(dc->chains[i].key_hash, key_hash, 8) == 0)
            return &dc->chains[i];
    return NULL;
}

static void digest_chain_drop(digest_chain_t *c)
{
    EVP_MD_CTX_free(c->md5);
    memset(c, 0, sizeof(*c));
}

/* Drops the chain a block's bytes are in: they are about to change or be forgotten. */
static void digest_unchain(digest_cache_t *dc, digest_entry_t *e)
{
    if (!e->chain_id)
        return;
    for (size_t i = 0; i < DIGEST_MAX_CHAINS; i++)
        if (dc->chains[i].id == e->chain_id)
            digest_chain_drop(&dc->chains[i]);
    e->chain_id = 0;
}

static void digest_forget_pieces(digest_cache_t *dc, digest_entry_t *e)
{
    dc->piece_bytes -= e->npieces * DIGEST_SHA1_LEN;
    free(e->pieces);
    e->pieces = NULL;
    e->npieces = 0;
    e->hashed = false;
}

static void digest_age_unlink(digest_cache_t *dc, digest_entry_t *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        dc->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        dc->newest = e->older;
    e->older = e->newer = NULL;
}

static void digest_age_push(digest_cache_t *dc, digest_entry_t *e)
{
    e->older = dc->newest;
    e->newer = NULL;
    if (dc->newest)
        dc->newest->newer = e;
    else
        dc->oldest = e;
    dc->newest = e;
}

static void digest_free_entry(digest_cache_t *dc, digest_entry_t *e)
{
    digest_entry_t **p = &dc->buckets[digest_bucket(e->id)];
    while (*p != e)
        p = &(*p)->hnext;
    *p = e->hnext;
    digest_age_unlink(dc, e);
    digest_unchain(dc, e);
    digest_forget_pieces(dc, e);
    dc->entries--;
    free(e);
}

/* Forgets an entry now, or as soon as the queue and the thread let go of it. */
static void digest_drop(digest_cache_t *dc, digest_entry_t *e)
{
    if (e->queued || e == dc->current) {
        e->dead = true;
        e->queued_gen = 0;
        e->gen = ++dc->seq; /* whatever the thread is hashing is void */
        digest_unchain(dc, e);
        digest_forget_pieces(dc, e);
        return;
    }
    digest_free_entry(dc, e);
}

/* Frees the oldest entry that nothing holds; false when there is none. */
static bool digest_evict_one(digest_cache_t *dc)
{
    for (digest_entry_t *e = dc->oldest; e; e = e->newer) {
        if (!e->queued && e != dc->current) {
            digest_free_entry(dc, e);
            return true;
        }
    }
    return false;
}

uint64_t digest_block_opened(digest_cache_t *dc, const char *block_id)
{
    if (!dc)
        return 0;
    uint64_t gen = 0;
    pthread_mutex_lock(&dc->mu);
    digest_entry_t *e = digest_find(dc, block_id);
    if (e) {
        digest_unchain(dc, e);
        digest_forget_pieces(dc, e);
        e->dead = false;
        digest_age_unlink(dc, e);
    } else {
        if (dc->entries >= DIGEST_MAX_BLOCKS && !digest_evict_one(dc))
            goto out;
        e = calloc(1, sizeof(*e));
        if (!e)
            goto out;
        snprintf(e->id, sizeof(e->id), "%s", block_id);
        size_t b = digest_bucket(e->id);
        e->hnext = dc->buckets[b];
        dc->buckets[b] = e;
        dc->entries++;
    }
    digest_age_push(dc, e);
    e->gen = gen = ++dc->seq;
out:
    pthread_mutex_unlock(&dc->mu);
    return gen;
}

/* Takes a queued entry out of the queue (it stays marked queued). */
static void digest_queue_unlink(digest_cache_t *dc, digest_entry_t *e)
{
    digest_entry_t *prev = NULL;
    for (digest_entry_t *q = dc->qhead; q && q != e; q = q->qnext)
        prev = q;
    if (prev)
        prev->qnext = e->qnext;
    else
        dc->qhead = e->qnext;
    if (dc->qtail == e)
        dc->qtail = prev;
    e->qnext = NULL;
}

/*
 * Queues e for generation gen.  `first`: at the head, because it is the
 * next block of its key's running MD5.  That MD5 is the part mkfile cannot
 * spread over threads, so the thread keeps it as far ahead as it can and
 * leaves the pieces of blocks that came early for later.
 */
static void digest_enqueue(digest_cache_t *dc, digest_entry_t *e, uint64_t gen, bool first)
{
    e->queued_gen = gen;
    if (e->queued) {
        if (!first || dc->qhead == e)
            return; /* already in line: it is hashed for the newer generation */
        digest_queue_unlink(dc, e);
    }
    e->queued = true;
    if (first) {
        e->qnext = dc->qhead;
        dc->qhead = e;
        if (!dc->qtail)
            dc->qtail = e;
    } else {
        e->qnext = NULL;
        if (dc->qtail)
            dc->qtail->qnext = e;
        else
            dc->qhead = e;
        dc->qtail = e;
    }
    pthread_cond_signal(&dc->work);
}

void digest_block_done(digest_cache_t *dc, const block_ctx_t *blk, uint64_t gen)
{
    if (!dc || gen == 0)
        return;
    pthread_mutex_lock(&dc->mu);
    digest_entry_t *e = digest_find(dc, blk->block_id);
    if (e && !e->dead && e->gen == gen && !e->hashed) {
        memcpy(e->key_hash, blk->key_hash, sizeof(e->key_hash));
        e->index = blk->index;
        e->length = blk->offset;
        const digest_chain_t *c = blk->index > 0 ? digest_chain_find(dc, blk->key_hash) : NULL;
        digest_enqueue(dc, e, gen, blk->index == 0 || (c && c->next_index == blk->index));
    }
    pthread_mutex_unlock(&dc->mu);
}

/* After a chain grew: the block that comes next may have completed early
 * (hashed for its pieces, or still in line). */
static void digest_catch_up(digest_cache_t *dc, const digest_chain_t *c)
{
    for (digest_entry_t *e = dc->newest; e; e = e->older) {
        if (!e->dead && e != dc->current && e->index == c->next_index && memcmp(e->key_hash, c->key_hash, 8) == 0 &&
            (e->hashed || (e->queued && e->queued_gen == e->gen))) {
            /* Hashed already (pieces only): again for the MD5; or waiting in line: now. */
            digest_enqueue(dc, e, e->gen, true);
            return;
        }
    }
}

/* A chain slot for a new chain of `key_hash`: its old chain, a free one, or the least used. */
static digest_chain_t *digest_chain_slot(digest_cache_t *dc, const uint8_t key_hash[8])
{
    digest_chain_t *slot = digest_chain_find(dc, key_hash);
    if (slot)
        return slot;
    slot = &dc->chains[0];
    for (size_t i = 0; i < DIGEST_MAX_CHAINS; i++) {
        if (!dc->chains[i].id)
            return &dc->chains[i];
        if (dc->chains[i].used < slot->used)
            slot = &dc->chains[i];
    }
    return slot;
}

/* What one pass over a block is to produce. */
typedef struct digest_job {
    char id[BLOB_ID_LEN + 1];
    int64_t length;
    bool want_pieces;
    EVP_MD_CTX *md5; /* NULL: no MD5 wanted */
    uint8_t *pieces;
    size_t npieces;
} digest_job_t;

/* Reads the block once, feeding SHA-1 per piece and/or the MD5. */
static bool digest_hash(digest_cache_t *dc, digest_job_t *job, char *buffer, EVP_MD_CTX *sha1)
{
    blob_reader_t *reader = NULL;
    bool ok = false;
    size_t npieces = job->length ? (size_t)((job->length + (int64_t)ETAG_PIECE_SIZE - 1) / (int64_t)ETAG_PIECE_SIZE) : 1;
    if (job->want_pieces && !(job->pieces = malloc(npieces * DIGEST_SHA1_LEN)))
        return false;
    job->npieces = job->want_pieces ? npieces : 0;
    if (dc->blob->ops->block_read_open(dc->blob, job->id, &reader) != BLOB_OK)
        goto out;
    size_t piece = 0;
    int64_t piece_end = 0;
    for (int64_t off = 0; off < job->length || (job->length == 0 && piece == 0);) {
        if (job->want_pieces && off == piece_end) {
            if (EVP_DigestInit_ex(sha1, EVP_sha1(), NULL) != 1)
                goto out;
            piece_end = off + (int64_t)ETAG_PIECE_SIZE < job->length ? off + (int64_t)ETAG_PIECE_SIZE : job->length;
        }
        int64_t stop = job->want_pieces ? piece_end : job->length;
        size_t want = stop - off > DIGEST_READ_BUFFER ? DIGEST_READ_BUFFER : (size_t)(stop - off);
        int64_t n = want ? dc->blob->ops->read_at(reader, buffer, want, off) : 0;
        if (n < 0 || (want && n == 0))
            goto out;
        if (job->md5 && EVP_DigestUpdate(job->md5, buffer, (size_t)n) != 1)
            goto out;
        if (job->want_pieces && EVP_DigestUpdate(sha1, buffer, (size_t)n) != 1)
            goto out;
        off += n;
        if (job->want_pieces && off == piece_end) {
            unsigned int len = 0;
            if (EVP_DigestFinal_ex(sha1, job->pieces + piece * DIGEST_SHA1_LEN, &len) != 1)
                goto out;
            piece++;
        }
        if (job->length == 0)
            break;
    }
    ok = true;
out:
    if (reader)
        dc->blob->ops->reader_close(reader);
    return ok;
}

/* With the lock held: takes the next job; false when stopping. */
static bool digest_next(digest_cache_t *dc, digest_job_t *job, digest_entry_t **out, uint64_t *chain_id)
{
    for (;;) {
        while (!dc->qhead && !dc->stopping) {
            pthread_cond_broadcast(&dc->idle); /* digest_wait_idle */
            pthread_cond_wait(&dc->work, &dc->mu);
        }
        if (dc->stopping)
            return false;
        digest_entry_t *e = dc->qhead;
        dc->qhead = e->qnext;
        if (!dc->qhead)
            dc->qtail = NULL;
        e->queued = false;
        if (e->dead) {
            digest_free_entry(dc, e);
            continue;
        }
        if (e->queued_gen != e->gen)
            continue; /* cancelled, or opened again since */
        memset(job, 0, sizeof(*job));
        memcpy(job->id, e->id, sizeof(job->id));
        job->length = e->length;
        job->want_pieces = !e->hashed;
        digest_chain_t *c = e->index >= 0 ? digest_chain_find(dc, e->key_hash) : NULL;
        *chain_id = 0;
        if (e->index == 0 || (c && c->next_index == e->index && e->chain_id != c->id)) {
            job->md5 = EVP_MD_CTX_new();
            bool ok = job->md5 && (e->index == 0 ? EVP_DigestInit_ex(job->md5, EVP_md5(), NULL) == 1
                                                 : EVP_MD_CTX_copy_ex(job->md5, c->md5) == 1);
            if (!ok) {
                EVP_MD_CTX_free(job->md5);
                job->md5 = NULL;
            } else if (e->index > 0) {
                *chain_id = c->id;
            }
        }
        if (!job->want_pieces && !job->md5)
            continue;
        *out = e;
        return true;
    }
}

/* With the lock held and e still dc->current: records a finished pass over e. */
static void digest_commit(digest_cache_t *dc, digest_entry_t *e, uint64_t gen, digest_job_t *job, uint64_t chain_id)
{
    if (e->dead) {
        digest_free_entry(dc, e);
        return;
    }
    if (e->gen != gen)
        return; /* opened again while being hashed */
    if (job->want_pieces) {
        size_t bytes = job->npieces * DIGEST_SHA1_LEN;
        while (dc->piece_bytes + bytes > DIGEST_MAX_PIECE_BYTES && digest_evict_one(dc))
            ; /* e is still dc->current: never evicted here */
        if (dc->piece_bytes + bytes <= DIGEST_MAX_PIECE_BYTES) {
            e->pieces = job->pieces;
            e->npieces = job->npieces;
            job->pieces = NULL;
            e->hashed = true;
            dc->piece_bytes += bytes;
        } /* else only the MD5 below is kept */
    }
    if (!job->md5)
        return;
    digest_chain_t *c = digest_chain_find(dc, e->key_hash);
    if (e->index == 0) {
        c = digest_chain_slot(dc, e->key_hash);
        digest_chain_drop(c);
        c->id = ++dc->seq;
        memcpy(c->key_hash, e->key_hash, 8);
        c->next_index = 0;
    } else if (!c || c->id != chain_id || c->next_index != e->index) {
        return; /* the chain changed meanwhile */
    }
    EVP_MD_CTX_free(c->md5);
    c->md5 = job->md5;
    job->md5 = NULL;
    c->next_index++;
    c->used = ++dc->seq;
    e->chain_id = c->id;
    digest_catch_up(dc, c);
}

static void *digest_main(void *arg)
{
    digest_cache_t *dc = arg;
    /* Normal priority, unlike the chunk hashers: mkfile waits for whatever
     * this thread leaves, and at nice 10 it fell behind by most of a 1 GiB
     * upload (mkfile 0.9-1.1 s instead of 0.05-0.5 s, vodup upload ~10%
     * slower). */
    char *buffer = malloc(DIGEST_READ_BUFFER);
    EVP_MD_CTX *sha1 = EVP_MD_CTX_new();
    pthread_mutex_lock(&dc->mu);
    for (;;) {
        digest_job_t job;
        digest_entry_t *e = NULL;
        uint64_t chain_id = 0;
        if (!digest_next(dc, &job, &e, &chain_id))
            break;
        uint64_t gen = e->gen;
        dc->current = e;
        pthread_mutex_unlock(&dc->mu);
        bool ok = buffer && sha1 && digest_hash(dc, &job, buffer, sha1);
        pthread_mutex_lock(&dc->mu);
        if (ok)
            digest_commit(dc, e, gen, &job, chain_id);
        else if (e->dead)
            digest_free_entry(dc, e);
        dc->current = NULL;
        free(job.pieces);
        EVP_MD_CTX_free(job.md5);
        pthread_cond_broadcast(&dc->idle);
    }
    pthread_mutex_unlock(&dc->mu);
    EVP_MD_CTX_free(sha1);
    free(buffer);
    return NULL;
}

digest_cache_t *digest_cache_start(blob_t *blob)
{
    digest_cache_t *dc = calloc(1, sizeof(*dc));
    if (!dc)
        return NULL;
    dc->blob = blob;
    pthread_mutex_init(&dc->mu, NULL);
    pthread_cond_init(&dc->work, NULL);
    pthread_cond_init(&dc->idle, NULL);
    if (pthread_create(&dc->thread, NULL, digest_main, dc) != 0) {
        log_error("digest: cannot start its thread");
        pthread_mutex_destroy(&dc->mu);
        pthread_cond_destroy(&dc->work);
        pthread_cond_destroy(&dc->idle);
        free(dc);
        return NULL;
    }
    pthread_setname_np(dc->thread, "vodup-digest");
    return dc;
}

void digest_cache_stop(digest_cache_t *dc)
{
    if (!dc)
        return;
    pthread_mutex_lock(&dc->mu);
    dc->stopping = true;
    pthread_cond_signal(&dc->work);
    pthread_mutex_unlock(&dc->mu);
    pthread_join(dc->thread, NULL);
    while (dc->oldest) {
        dc->oldest->queued = false;
        digest_free_entry(dc, dc->oldest);
    }
    for (size_t i = 0; i < DIGEST_MAX_CHAINS; i++)
        digest_chain_drop(&dc->chains[i]);
    pthread_mutex_destroy(&dc->mu);
    pthread_cond_destroy(&dc->work);
    pthread_cond_destroy(&dc->idle);
    free(dc);
}

/* Whether the thread is hashing one of `blocks` now. */
static bool digest_busy_with(const digest_cache_t *dc, const block_ctx_t *blocks, size_t count)
{
    if (!dc->current)
        return false;
    for (size_t i = 0; i < count; i++)
        if (strcmp(dc->current->id, blocks[i].block_id) == 0)
            return true;
    return false;
}

bool digest_take(digest_cache_t *dc, const block_ctx_t *blocks, size_t count, EVP_MD_CTX *md5, digest_known_t *known)
{
    known->md5_blocks = 0;
    known->pieces = calloc(count ? count : 1, sizeof(*known->pieces));
    if (!known->pieces)
        return false;
    if (!dc || count == 0)
        return true;
    pthread_mutex_lock(&dc->mu);
    for (;;) {
        /* Whatever is still queued for these blocks the caller hashes itself. */
        for (size_t i = 0; i < count; i++) {
            digest_entry_t *e = digest_find(dc, blocks[i].block_id);
            if (e && e->queued)
                e->queued_gen = 0;
        }
        if (!digest_busy_with(dc, blocks, count))
            break;
        pthread_cond_wait(&dc->idle, &dc->mu);
    }
    digest_chain_t *c = digest_chain_find(dc, blocks[0].key_hash);
    if (c && c->next_index > 0 && (size_t)c->next_index <= count) {
        size_t n = (size_t)c->next_index;
        bool whole = true;
        for (size_t j = 0; whole && j < n; j++) {
            const digest_entry_t *e = digest_find(dc, blocks[j].block_id);
            whole = e && !e->dead && e->chain_id == c->id && e->index == (int32_t)j && e->length == blocks[j].offset;
        }
        if (whole && EVP_MD_CTX_copy_ex(md5, c->md5) == 1)
            known->md5_blocks = n;
    }
    if (c)
        digest_chain_drop(c);
    for (size_t i = 0; i < count; i++) {
        digest_entry_t *e = digest_find(dc, blocks[i].block_id);
        if (!e)
            continue;
        if (e->hashed && !e->dead && e->length == blocks[i].offset) {
            known->pieces[i] = e->pieces; /* the entry goes: its digests change hands */
            dc->piece_bytes -= e->npieces * DIGEST_SHA1_LEN;
            e->pieces = NULL;
            e->npieces = 0;
            e->hashed = false;
        }
        digest_drop(dc, e);
    }
    pthread_mutex_unlock(&dc->mu);
    return true;
}

void digest_wait_idle(digest_cache_t *dc)
{
    if (!dc)
        return;
    pthread_mutex_lock(&dc->mu);
    while ((dc->qhead || dc->current) && !dc->stopping)
        pthread_cond_wait(&dc->idle, &dc->mu);
    pthread_mutex_unlock(&dc->mu);
}

void digest_known_free(digest_known_t *known, size_t count)
{
    if (!known->pieces)
        return;
    for (size_t i = 0; i < count; i++)
        free(known->pieces[i]);
    free(known->pieces);
    known->pieces = NULL;
}
