/*
 * worker: the processing worker pool.  Each worker thread claims a task from
 * the store's queue (store.h, "processing tasks"), runs it and publishes
 * its outputs:
 *
 *   claim (lease) -> the source as a local file (blob object_materialize)
 *   -> probe -> plan (plan.h) -> ffmpeg runs (runner.h), heartbeats carrying
 *   progress and renewing the lease -> check the outputs (ffprobe: each video
 *   output lasts as long as the source) -> import every file into the blob
 *   store -> task_succeed (one transaction: listed and served at once) ->
 *   remove the objects it replaced.
 *
 * Failures: "probe: ..." (not media) and plan errors are final; a run that
 * times out, is killed by a signal or a resource limit, or fails with disk
 * full is retried (store back-off, 3 attempts); a run that exits non-zero on
 * a probed source is final with ffmpeg's last stderr line.  A cancel (or an
 * overwrite) is seen at the next heartbeat and kills ffmpeg.
 *
 * Workers wait for work on a condition: process_pool_wake (after an upload
 * or reprocessVideo queued a task) starts a claim at once, and they poll the
 * store every PROCESS_POLL_MS for back-offs, expired leases and other nodes.
 */
#ifndef VODUP_PROCESS_WORKER_H
#define VODUP_PROCESS_WORKER_H

#include <stdint.h>

#include "blob/blob.h"
#include "store/store.h"

#define PROCESS_POLL_MS 1000
#define PROCESS_LEASE_MS 10000
#define PROCESS_HEARTBEAT_MS 1000

typedef struct process_options {
    int workers;            /* threads; 0 runs none (processing off) */
    const char *ffmpeg;     /* program paths */
    const char *ffprobe;
    const char *data_dir;   /* absolute: resources live under it, work dirs in <data_dir>/work */
    int64_t max_pixels;     /* largest source picture (width x height) */
    int nice;               /* added niceness of ffmpeg and ffprobe */
    int64_t timeout_s;      /* a run's time-out before the part that scales with the source */
} process_options_t;

typedef struct process_pool process_pool_t;

/* Starts the workers (none when opt->workers is 0).  NULL on failure, logged. */
process_pool_t *process_pool_start(store_t *store, blob_t *blob, const process_options_t *opt);
/* Wakes an idle worker to claim at once.  NULL-safe. */
void process_pool_wake(process_pool_t *p);
/* Stops the workers: running ffmpeg processes are killed, their tasks left
 * running in the store (their lease runs out and another worker or the next
 * start takes them).  NULL-safe. */
void process_pool_stop(process_pool_t *p);

#endif
