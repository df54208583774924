/*
 * store_sqlite_writer: the writer thread and its queue.  Video registrations
 * and the upload path's synchronous writes are queued as jobs; the thread
 * takes every job queued while the previous batch was being committed and
 * writes them as one batch: one IMMEDIATE transaction on the write
 * connection, a savepoint per job so that a failing job does not take the
 * others with it, and a single COMMIT, the batch's one fsync (group commit).
 * A registration's caller is called back; an upload-path writer waits.
 *
 * It runs no SQL of its own beyond transaction control: what a job writes
 * belongs to store_sqlite_videos.c, store_sqlite_secrets.c and
 * store_sqlite_tasks.c.  It must never
 * call a `done` callback while holding one of its locks (a callback may call
 * back into the store), and never let the writer thread wait on itself (an
 * upload-path write called from a callback is refused).
 */
#include "store/store_sqlite_internal.h"

#include <openssl/crypto.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* A batch bounds how long one transaction holds the write lock. */
#define STORE_SQLITE_BATCH_MAX 1024

/* A queued job: a registration or, when `write` is set, one of the upload
 * path's synchronous writes.  A registration's strings and categories are
 * copied into the same allocation, because the caller frees its own as soon
 * as video_register returns; a write's job lives on its caller's stack, as
 * the caller waits until the write is durable. */
struct store_sqlite_job {
    struct store_sqlite_job *next;
    store_sqlite_write_t *write;
    store_video_reg_t reg;
    store_reg_done_fn done;
    void *arg;
    store_video_reg_result_t result;
    store_category_t categories[]; /* followed by the copied strings */
};

/* ---- the upload path: synchronous writes through the writer thread ---- */

/* Called by the writer thread once the write's batch has committed (or
 * failed): records the outcome and wakes the caller.  A write whose batch
 * failed after it ran keeps none of its outputs. */
static void store_sqlite_write_finish(store_sqlite_write_t *w, int rc)
{
    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    if (rc != STORE_OK) {
        free(w->old_object_id);
        w->old_object_id = NULL;
        OPENSSL_cleanse(w->secret, sizeof(w->secret));
    }
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Queues `w` for the writer thread and waits until it is durable.  Returns
 * its rc; STORE_UNAVAILABLE when the store is closing. */
int store_sqlite_write_sync(store_sqlite_t *s, store_sqlite_write_t *w)
{
    /* From a registration callback this would wait for the writer thread
     * on the writer thread, forever. */
    if (s->writer_started && pthread_equal(pthread_self(), s->writer_thread)) {
        log_error("store: an upload-path write was called from a store callback");
        return STORE_ERROR;
    }
    store_sqlite_job_t job;
    memset(&job, 0, sizeof(job));
    job.write = w;
    w->done = false;
    w->rc = STORE_ERROR;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);

    int rc;
    pthread_mutex_lock(&s->queue_mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->queue_mu);
        rc = STORE_UNAVAILABLE;
        goto out;
    }
    if (s->queue_tail)
        s->queue_tail->next = &job;
    else
        s->queue_head = &job;
    s->queue_tail = &job;
    pthread_cond_signal(&s->queue_cv);
    pthread_mutex_unlock(&s->queue_mu);

    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    rc = w->rc;
    pthread_mutex_unlock(&w->mu);
out:
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    return rc;
}

/* ---- batches ---- */

static void store_sqlite_job_fail(store_sqlite_job_t *job, int rc)
{
    memset(&job->result, 0, sizeof(job->result));
    job->result.rc = rc;
}

static void store_sqlite_batch_fail(store_sqlite_job_t *batch, int rc)
{
    for (store_sqlite_job_t *j = batch; j; j = j->next)
        store_sqlite_job_fail(j, rc);
}

/* A failed commit means nothing in the batch is durable: the store's
 * contract allows only these two answers then. */
static int store_sqlite_commit_failure_rc(int rc)
{
    return rc == STORE_UNAVAILABLE ? STORE_UNAVAILABLE : STORE_ERROR;
}

/*
 * Writes one batch: one IMMEDIATE transaction, a savepoint per job so a
 * failing job does not take the others with it, and a single COMMIT (the
 * batch's one fsync).  Fills each job's result; calls no callback.
 */
static void store_sqlite_run_batch(store_sqlite_t *s, store_sqlite_job_t *batch)
{
    store_sqlite_conn_t *c = &s->writer;
    pthread_mutex_lock(&s->write_mu);
    int rc = store_sqlite_exec(c, SQ_BEGIN_IMMEDIATE, "begin registration batch");
    if (rc != STORE_OK) {
        store_sqlite_batch_fail(batch, store_sqlite_commit_failure_rc(rc));
        goto out;
    }
    for (store_sqlite_job_t *j = batch; j; j = j->next) {
        memset(&j->result, 0, sizeof(j->result));
        rc = store_sqlite_exec(c, SQ_SAVEPOINT, "savepoint");
        if (rc != STORE_OK)
            break;
        int jrc = j->write ? j->write->run(c, j->write) : store_sqlite_register_one(c, &j->reg, &j->result);
        if (jrc == STORE_OK) {
            rc = store_sqlite_exec(c, SQ_RELEASE, "release savepoint");
            if (rc != STORE_OK)
                break;
            continue;
        }
        if (jrc == STORE_CONFLICT && !j->write)
            j->result.rc = jrc; /* a completed fileId: its ids stay, they name a durable video */
        else
            store_sqlite_job_fail(j, jrc);
        /* SQLite rolls the whole transaction back by itself after some
         * errors (disk full, I/O error): then the batch is lost. */
        if (sqlite3_get_autocommit(c->db)) {
            rc = jrc;
            break;
        }
        rc = store_sqlite_exec(c, SQ_ROLLBACK_TO, "rollback to savepoint");
        if (rc == STORE_OK)
            rc = store_sqlite_exec(c, SQ_RELEASE, "release savepoint");
        if (rc != STORE_OK)
            break;
    }
    if (rc == STORE_OK)
        rc = store_sqlite_commit(c);
    if (rc != STORE_OK) {
        store_sqlite_rollback(c);
        store_sqlite_batch_fail(batch, store_sqlite_commit_failure_rc(rc));
    }
out:
    pthread_mutex_unlock(&s->write_mu);
}

void *store_sqlite_writer_main(void *arg)
{
    store_sqlite_t *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->queue_mu);
        while (!s->queue_head && !s->stopping)
            pthread_cond_wait(&s->queue_cv, &s->queue_mu);
        store_sqlite_job_t *batch = s->queue_head;
        if (!batch) {
            /* Stopping and drained. */
            pthread_mutex_unlock(&s->queue_mu);
            break;
        }
        store_sqlite_job_t *last = batch;
        for (size_t n = 1; last->next && n < STORE_SQLITE_BATCH_MAX; n++)
            last = last->next;
        s->queue_head = last->next;
        if (!s->queue_head)
            s->queue_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->queue_mu);

        store_sqlite_run_batch(s, batch);

        /* Callbacks run with no lock held: they may call into the store. */
        while (batch) {
            store_sqlite_job_t *next = batch->next;
            if (batch->write) {
                /* The job belongs to the waiting caller: not touched after. */
                store_sqlite_write_finish(batch->write, batch->result.rc);
            } else {
                batch->done(batch->arg, &batch->result);
                free(batch);
            }
            batch = next;
        }
    }
    return NULL;
}

/* ---- registrations ---- */

static size_t store_sqlite_str_size(const char *str)
{
    return str ? strlen(str) + 1 : 0;
}

static const char *store_sqlite_str_copy(char **cursor, const char *str)
{
    if (!str)
        return NULL;
    size_t n = strlen(str) + 1;
    char *dst = *cursor;
    memcpy(dst, str, n);
    *cursor += n;
    return dst;
}

/* Deep-copies a registration into one allocation. */
static store_sqlite_job_t *store_sqlite_job_new(const store_video_reg_t *r)
{
    if (r->category_count && !r->categories)
        return NULL;
    if (r->category_count > (SIZE_MAX / 2 - sizeof(store_sqlite_job_t)) / sizeof(store_category_t))
        return NULL;
    const char *const strs[] = {r->video_id, r->file_id, r->name, r->file_key, r->bucket, r->domain,
                                r->expected_md5, r->workflow_id, r->cmd, r->watermark_name,
                                r->template_name, r->subtitle_id};
    size_t size = sizeof(store_sqlite_job_t) + r->category_count * sizeof(store_category_t);
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        size += store_sqlite_str_size(strs[i]);
    for (size_t i = 0; i < r->category_count; i++)
        size += store_sqlite_str_size(r->categories[i].parent_name) +
                store_sqlite_str_size(r->categories[i].child_name);

    store_sqlite_job_t *job = malloc(size);
    if (!job)
        return NULL;
    memset(job, 0, sizeof(*job));
    char *cursor = (char *)&job->categories[r->category_count];
    job->reg = *r;
    store_video_reg_t *c = &job->reg;
    c->video_id = store_sqlite_str_copy(&cursor, r->video_id);
    c->file_id = store_sqlite_str_copy(&cursor, r->file_id);
    c->name = store_sqlite_str_copy(&cursor, r->name);
    c->file_key = store_sqlite_str_copy(&cursor, r->file_key);
    c->bucket = store_sqlite_str_copy(&cursor, r->bucket);
    c->domain = store_sqlite_str_copy(&cursor, r->domain);
    c->expected_md5 = store_sqlite_str_copy(&cursor, r->expected_md5);
    c->workflow_id = store_sqlite_str_copy(&cursor, r->workflow_id);
    c->cmd = store_sqlite_str_copy(&cursor, r->cmd);
    c->watermark_name = store_sqlite_str_copy(&cursor, r->watermark_name);
    c->template_name = store_sqlite_str_copy(&cursor, r->template_name);
    c->subtitle_id = store_sqlite_str_copy(&cursor, r->subtitle_id);
    for (size_t i = 0; i < r->category_count; i++) {
        job->categories[i].parent_name = (char *)store_sqlite_str_copy(&cursor, r->categories[i].parent_name);
        job->categories[i].child_name = (char *)store_sqlite_str_copy(&cursor, r->categories[i].child_name);
    }
    c->categories = r->category_count ? job->categories : NULL;
    return job;
}

/*
 * Queues a registration for the writer thread.  `done` runs on the writer
 * thread once the batch is durable, except in two cases where it runs before
 * this returns: the copy could not be allocated (STORE_ERROR) or the store
 * is closing (STORE_UNAVAILABLE).
 */
void store_sqlite_video_register(store_t *base, const store_video_reg_t *reg, store_reg_done_fn done,
                                 void *arg)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_video_reg_result_t fail = {.rc = STORE_ERROR};
    store_sqlite_job_t *job = store_sqlite_job_new(reg);
    if (!job) {
        done(arg, &fail);
        return;
    }
    job->done = done;
    job->arg = arg;
    pthread_mutex_lock(&s->queue_mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->queue_mu);
        free(job);
        fail.rc = STORE_UNAVAILABLE;
        done(arg, &fail);
        return;
    }
    if (s->queue_tail)
        s->queue_tail->next = job;
    else
        s->queue_head = job;
    s->queue_tail = job;
    pthread_cond_signal(&s->queue_cv);
    pthread_mutex_unlock(&s->queue_mu);
}
