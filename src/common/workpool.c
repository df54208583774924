/* workpool: threads running queued jobs; see workpool.h. */
#define _GNU_SOURCE /* gettid */
#include "common/workpool.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

typedef struct workpool_job {
    struct workpool_job *next;
    workpool_fn fn;
    void *arg;
} workpool_job_t;

struct workpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    workpool_job_t *head, *tail;
    bool stopping;
    int nice;
    size_t count;
    pthread_t threads[];
};

void workpool_lower_priority(int nice)
{
    /* On Linux a thread id names just that thread: the rest of the process keeps its priority.
     * Raising one's own nice value needs no privilege; failing to is harmless. */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), nice);
}

static void *workpool_main(void *arg)
{
    workpool_t *wp = arg;
    if (wp->nice)
        workpool_lower_priority(wp->nice);
    for (;;) {
        pthread_mutex_lock(&wp->mu);
        while (!wp->head && !wp->stopping)
            pthread_cond_wait(&wp->cv, &wp->mu);
        workpool_job_t *job = wp->head;
        if (!job) {
            pthread_mutex_unlock(&wp->mu);
            return NULL;
        }
        wp->head = job->next;
        if (!wp->head)
            wp->tail = NULL;
        pthread_mutex_unlock(&wp->mu);
        job->fn(job->arg);
        free(job);
    }
}

workpool_t *workpool_new(size_t threads)
{
    return workpool_new_nice(threads, 0);
}

workpool_t *workpool_new_nice(size_t threads, int nice)
{
    workpool_t *wp = calloc(1, sizeof(*wp) + threads * sizeof(pthread_t));
    if (!wp)
        return NULL;
    wp->nice = nice;
    pthread_mutex_init(&wp->mu, NULL);
    pthread_cond_init(&wp->cv, NULL);
    for (; wp->count < threads; wp->count++)
        if (pthread_create(&wp->threads[wp->count], NULL, workpool_main, wp) != 0)
            break;
    if (wp->count == 0) {
        workpool_free(wp);
        return NULL;
    }
    return wp;
}

void workpool_shutdown(workpool_t *wp)
{
    if (!wp)
        return;
    pthread_mutex_lock(&wp->mu);
    wp->stopping = true;
    pthread_cond_broadcast(&wp->cv);
    pthread_mutex_unlock(&wp->mu);
    for (size_t i = 0; i < wp->count; i++)
        pthread_join(wp->threads[i], NULL);
    wp->count = 0;
}

void workpool_free(workpool_t *wp)
{
    if (!wp)
        return;
    workpool_shutdown(wp);
    pthread_cond_destroy(&wp->cv);
    pthread_mutex_destroy(&wp->mu);
    free(wp);
}

bool workpool_submit(workpool_t *wp, workpool_fn fn, void *arg)
{
    workpool_job_t *job = malloc(sizeof(*job));
    if (!job)
        return false;
    *job = (workpool_job_t){NULL, fn, arg};
    pthread_mutex_lock(&wp->mu);
    if (wp->stopping) {
        pthread_mutex_unlock(&wp->mu);
        free(job);
        return false;
    }
    if (wp->tail)
        wp->tail->next = job;
    else
        wp->head = job;
    wp->tail = job;
    pthread_cond_signal(&wp->cv);
    pthread_mutex_unlock(&wp->mu);
    return true;
}
