/* hash_follow: a chunk's MD5 on a hashing thread; see hash_follow.h. */
#include "upload/hash_follow.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/workpool.h"

#define HASH_FOLLOW_BUFFER (128 * 1024)
/* Written but unhashed bytes that are worth waking a hashing thread for;
 * a smaller rest is hashed by hash_follow_finish. */
#define HASH_FOLLOW_MIN (128 * 1024)

struct hash_follow {
    workpool_t *pool;
    blob_t *blob;
    blob_reader_t *reader;
    EVP_MD_CTX *md5;                 /* the chunk MD5's (hash_follow_start) */
    hash_follow_update_fn update;    /* what the bytes are fed to */
    void *state;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    int64_t written; /* block offset up to which bytes are written */
    int64_t hashed;  /* block offset up to which they are hashed */
    bool running;    /* a job is queued or running */
    bool stop;       /* cancelled: the job ends at its next step */
    bool failed;     /* a read-back failed */
    char buffer[HASH_FOLLOW_BUFFER];
};

/* Hashes [hashed, written) in buffer-sized steps, without the lock while
 * reading and hashing; returns when caught up, stopped or failed. */
static void hash_follow_catch_up(hash_follow_t *f)
{
    while (!f->stop && !f->failed && f->hashed < f->written) {
        int64_t from = f->hashed;
        size_t n = f->written - from > HASH_FOLLOW_BUFFER ? HASH_FOLLOW_BUFFER : (size_t)(f->written - from);
        pthread_mutex_unlock(&f->mu);
        int64_t got = f->blob->ops->read_at(f->reader, f->buffer, n, from);
        bool ok = got == (int64_t)n && f->update(f->state, f->buffer, n);
        pthread_mutex_lock(&f->mu);
        if (ok) {
            f->hashed += (int64_t)n;
        } else {
            /* The chunk's answer becomes a 500: say why (seen once under load). */
            log_error("upload: reading a block back for its chunk MD5 failed at offset %lld: %lld of %zu bytes",
                      (long long)from, (long long)got, n);
            f->failed = true;
        }
    }
}

static void hash_follow_job(void *arg)
{
    hash_follow_t *f = arg;
    pthread_mutex_lock(&f->mu);
    hash_follow_catch_up(f);
    f->running = false;
    pthread_cond_broadcast(&f->idle);
    pthread_mutex_unlock(&f->mu);
}

static void hash_follow_free(hash_follow_t *f)
{
    if (f->reader)
        f->blob->ops->reader_close(f->reader);
    EVP_MD_CTX_free(f->md5);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->idle);
    free(f);
}

hash_follow_t *hash_follow_start_with(workpool_t *pool, blob_t *blob, const char *block_id, int64_t start,
                                      hash_follow_update_fn update, void *state)
{
    hash_follow_t *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->pool = pool;
    f->blob = blob;
    f->update = update;
    f->state = state;
    f->written = f->hashed = start;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->idle, NULL);
    if (blob->ops->block_read_open(blob, block_id, &f->reader) != BLOB_OK) {
        hash_follow_free(f);
        return NULL;
    }
    return f;
}

static bool hash_follow_md5_update(void *state, const void *data, size_t len)
{
    return EVP_DigestUpdate(state, data, len) == 1;
}

hash_follow_t *hash_follow_start(workpool_t *pool, blob_t *blob, const char *block_id, int64_t start)
{
    EVP_MD_CTX *md5 = EVP_MD_CTX_new();
    hash_follow_t *f = md5 && EVP_DigestInit_ex(md5, EVP_md5(), NULL) == 1
                           ? hash_follow_start_with(pool, blob, block_id, start, hash_follow_md5_update, md5)
                           : NULL;
    if (!f)
        EVP_MD_CTX_free(md5);
    else
        f->md5 = md5;
    return f;
}

void hash_follow_written(hash_follow_t *f, size_t bytes)
{
    pthread_mutex_lock(&f->mu);
    f->written += (int64_t)bytes;
    if (!f->running && !f->failed && f->written - f->hashed >= HASH_FOLLOW_MIN) {
        f->running = true;
        if (!workpool_submit(f->pool, hash_follow_job, f))
            f->running = false; /* hash_follow_finish does it all */
    }
    pthread_mutex_unlock(&f->mu);
}

/* With the lock held: waits until no job holds f. */
static void hash_follow_wait(hash_follow_t *f)
{
    while (f->running)
        pthread_cond_wait(&f->idle, &f->mu);
}

bool hash_follow_end(hash_follow_t *f)
{
    pthread_mutex_lock(&f->mu);
    hash_follow_wait(f);
    hash_follow_catch_up(f);
    bool ok = !f->failed;
    pthread_mutex_unlock(&f->mu);
    hash_follow_free(f);
    return ok;
}

bool hash_follow_finish(hash_follow_t *f, unsigned char md5[16])
{
    EVP_MD_CTX *md5_ctx = f->md5;
    f->md5 = NULL;
    unsigned int len = 0;
    bool ok = hash_follow_end(f) && EVP_DigestFinal_ex(md5_ctx, md5, &len) == 1 && len == 16;
    EVP_MD_CTX_free(md5_ctx);
    return ok;
}

void hash_follow_cancel(hash_follow_t *f)
{
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    hash_follow_wait(f);
    pthread_mutex_unlock(&f->mu);
    hash_follow_free(f);
}
