/*
 * publish: makes a succeeded attempt's files the video's outputs, all at once.
 *
 * Every file under the attempt's out/ directory becomes a blob object
 * (object_import: durable, then visible under a fresh object id), and then
 * one store call, task_succeed, lists the outputs and maps each key to its
 * object in the same transaction that makes the video `ready`.  Until that
 * commit no row names the new objects, so nothing of the task is listed or
 * served; a crash before it leaves objects that the sweep removes, and the
 * task runs again when its lease runs out.  After it, the objects of the
 * outputs it replaced are removed.  When the task was canceled meanwhile
 * (STORE_CONFLICT), the new objects are removed and nothing changes.
 */
#ifndef VODUP_PROCESS_PUBLISH_H
#define VODUP_PROCESS_PUBLISH_H

#include <stddef.h>

#include "blob/blob.h"
#include "process/output_check.h"
#include "process/plan.h"
#include "process/probe.h"
#include "store/store.h"

enum publish_outcome {
    PUBLISH_DONE = 0,
    PUBLISH_CANCELED, /* the task is no longer the worker's: nothing published */
    PUBLISH_RETRY,    /* storage failed (disk full, store unavailable): try again later */
};

typedef struct publish_input {
    store_t *store;
    blob_t *blob;
    const char *task_id;
    const char *worker_id;
    const char *out_dir;               /* files at <out_dir>/<key> */
    const probe_result_t *probe;       /* the source's: the video's probe fields */
    const plan_t *plan;
    const output_measure_t *measures;  /* one per plan->outputs[i] */
    bool adds;                         /* the outputs join the video's (store_task_result_t.adds) */
} publish_input_t;

/* Publishes; on PUBLISH_RETRY err says why. */
int publish_task(const publish_input_t *in, char *err, size_t errlen);

/* The Content-Type an output file is served with, by its extension
 * ("application/octet-stream" for one the planner never makes). */
const char *publish_content_type(const char *key);

#endif
