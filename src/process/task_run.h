/*
 * task_run: one attempt of one task, on a worker thread (worker.h gives the
 * order of the steps and how failures are classed).  Internal to the pool.
 *
 * While it runs, a heartbeat thread renews the lease every
 * PROCESS_HEARTBEAT_MS with the progress so far; when the store says the
 * task is no longer this worker's (canceled, overwritten) or the pool is
 * stopping, it raises the attempt's cancel flag, which kills ffmpeg within
 * RUNNER_POLL_MS: a cancel takes effect within about 1.1 s.
 */
#ifndef VODUP_PROCESS_TASK_RUN_H
#define VODUP_PROCESS_TASK_RUN_H

#include <stdatomic.h>
#include <stdbool.h>

#include "blob/blob.h"
#include "process/worker.h"
#include "store/store.h"

typedef struct task_env {
    store_t *store;
    blob_t *blob;
    const process_options_t *opt;
    const char *worker_id;
    const atomic_bool *stopping; /* the pool is stopping: give the task up (its lease runs out) */
} task_env_t;

/* Runs the claimed task to its end: succeeded, failed (final or retried
 * later), or given up when canceled or stopping. */
void task_run(const task_env_t *env, const store_task_t *task);

#endif
