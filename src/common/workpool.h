/*
 * workpool: a fixed set of threads that run queued jobs, for work that may
 * block (a long SQLite query) and so must not run on an HTTP poll thread.
 *
 * Owns its threads and its queue.  Jobs run in submission order, several at
 * once; workpool_free waits for every queued job to run.
 */
#ifndef VODUP_WORKPOOL_H
#define VODUP_WORKPOOL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct workpool workpool_t;
typedef void (*workpool_fn)(void *arg);

workpool_t *workpool_new(size_t threads);
/* The same, with threads at nice value `nice` (1..19: yield the CPU to the
 * process's other threads when it is scarce), for bulk background work. */
workpool_t *workpool_new_nice(size_t threads, int nice);
/* Sets the calling thread's nice value (only that thread's). */
void workpool_lower_priority(int nice);
/* Runs every job still queued, then stops the threads; the pool stays
 * allocated and refuses new jobs (workpool_submit false) until freed. */
void workpool_shutdown(workpool_t *wp);
/* Runs every job still queued, then stops the threads and frees the pool. */
void workpool_free(workpool_t *wp);
/* Queues fn(arg).  False (and fn is not run) when out of memory or stopping. */
bool workpool_submit(workpool_t *wp, workpool_fn fn, void *arg);

#endif
