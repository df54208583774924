/* worker: the processing worker pool; see worker.h. */
#include "process/worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "process/task_run.h"
#include "process/workdir.h"

#define PROCESS_WORKER_ID_MAX 128
#define PROCESS_WORKERS_MAX 64

typedef struct process_worker {
    process_pool_t *pool;
    pthread_t thread;
    bool started;
    char id[PROCESS_WORKER_ID_MAX];
} process_worker_t;

struct process_pool {
    store_t *store;
    blob_t *blob;
    process_options_t opt;
    char *data_dir; /* opt's strings, owned */
    char *ffmpeg;
    char *ffprobe;
    atomic_bool stopping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned wakes; /* process_pool_wake calls not yet answered by a claim */
    int count;
    process_worker_t workers[];
};

/* Waits up to PROCESS_POLL_MS, or until woken or stopping. */
static void process_pool_wait(process_pool_t *p)
{
    pthread_mutex_lock(&p->mu);
    if (!p->wakes && !atomic_load(&p->stopping)) {
        struct timespec ts = timeutil_monotonic_deadline(PROCESS_POLL_MS);
        pthread_cond_timedwait(&p->cv, &p->mu, &ts);
    }
    if (p->wakes)
        p->wakes--;
    pthread_mutex_unlock(&p->mu);
}

/* Claims and runs one task; false when there was none (or the store failed). */
static bool process_worker_step(process_worker_t *w, const task_env_t *env)
{
    process_pool_t *p = w->pool;
    store_task_t task = {0};
    int rc = p->store->ops->task_claim(p->store, w->id, ids_now_ms(), PROCESS_LEASE_MS, &task);
    if (rc != STORE_OK) {
        if (rc != STORE_NOT_FOUND)
            log_warn("worker %s: claim: %s", w->id, store_rc_name(rc));
        return false;
    }
    log_info("task %s: attempt %d of video %s on %s", task.task_id, task.attempts, task.video_id, w->id);
    task_run(env, &task);
    store_task_free(&task);
    return true;
}

static void *process_worker_main(void *arg)
{
    process_worker_t *w = arg;
    process_pool_t *p = w->pool;
    task_env_t env = {p->store, p->blob, &p->opt, w->id, &p->stopping};
    while (!atomic_load(&p->stopping))
        if (!process_worker_step(w, &env))
            process_pool_wait(p);
    return NULL;
}

/* host/pid/random/n: never another process's, nor this one's before a restart. */
static void process_worker_name(process_worker_t *w, const char *boot, int n)
{
    char host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    snprintf(w->id, sizeof(w->id), "%s/%d/%s/%d", host, (int)getpid(), boot, n);
}

static bool process_pool_copy_options(process_pool_t *p, const process_options_t *opt)
{
    p->opt = *opt;
    p->data_dir = strdup(opt->data_dir);
    p->ffmpeg = strdup(opt->ffmpeg);
    p->ffprobe = strdup(opt->ffprobe);
    p->opt.data_dir = p->data_dir;
    p->opt.ffmpeg = p->ffmpeg;
    p->opt.ffprobe = p->ffprobe;
    return p->data_dir && p->ffmpeg && p->ffprobe;
}

static void process_pool_free(process_pool_t *p)
{
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p->data_dir);
    free(p->ffmpeg);
    free(p->ffprobe);
    free(p);
}

static process_pool_t *process_pool_alloc(store_t *store, blob_t *blob, const process_options_t *opt)
{
    int n = opt->workers < 0 ? 0 : opt->workers > PROCESS_WORKERS_MAX ? PROCESS_WORKERS_MAX : opt->workers;
    process_pool_t *p = calloc(1, sizeof(*p) + (size_t)n * sizeof(process_worker_t));
    if (!p)
        return NULL;
    p->store = store;
    p->blob = blob;
    p->count = n;
    atomic_init(&p->stopping, false);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (!process_pool_copy_options(p, opt)) {
        process_pool_free(p);
        return NULL;
    }
    return p;
}

process_pool_t *process_pool_start(store_t *store, blob_t *blob, const process_options_t *opt)
{
    process_pool_t *p = process_pool_alloc(store, blob, opt);
    char boot[9];
    if (!p || !ids_random_hex(4, boot)) {
        log_error("processing: out of memory");
        if (p)
            process_pool_free(p);
        return NULL;
    }
    /* What killed attempts left: their tasks run again from the start. */
    if (p->count > 0)
        workdir_clear_all(p->opt.data_dir);
    for (int i = 0; i < p->count; i++) {
        process_worker_t *w = &p->workers[i];
        w->pool = p;
        process_worker_name(w, boot, i);
        w->started = pthread_create(&w->thread, NULL, process_worker_main, w) == 0;
        if (!w->started) {
            log_error("processing: cannot start worker %d", i);
            process_pool_stop(p);
            return NULL;
        }
    }
    if (p->count > 0)
        log_info("processing: %d worker(s), ffmpeg %s, ffprobe %s", p->count, p->opt.ffmpeg, p->opt.ffprobe);
    return p;
}

void process_pool_wake(process_pool_t *p)
{
    if (!p || p->count == 0)
        return;
    pthread_mutex_lock(&p->mu);
    if (p->wakes < (unsigned)p->count)
        p->wakes++;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

void process_pool_stop(process_pool_t *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stopping, true);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->count; i++)
        if (p->workers[i].started)
            pthread_join(p->workers[i].thread, NULL);
    process_pool_free(p);
}
