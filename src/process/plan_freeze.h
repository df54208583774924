/*
 * plan_freeze: builds a task's frozen plan (plan_spec.h) from a video's
 * processing settings, reading the resources they name from the store.
 *
 * Called where a task is queued: when an upload completes (upload.c) and by
 * reprocessVideo.  Precedence as getUploadToken's: with a workflow, its
 * steps decide and the other settings are ignored; without one, the steps
 * are probe, snapshot, transcode=<template> (or the default rendition when a
 * watermark or subtitle is set without a template), watermark, subtitle.
 *
 * A resource that no longer exists does not fail the caller: the plan then
 * carries an "error" and its task fails with it (failReason), so an upload
 * never fails for a resource removed after its token was issued.
 */
#ifndef VODUP_PROCESS_PLAN_FREEZE_H
#define VODUP_PROCESS_PLAN_FREEZE_H

#include <stdint.h>

#include "process/fops.h"
#include "store/store.h"

typedef struct plan_settings {
    const char *workflow_id;     /* NULL for none, each */
    const char *template_name;
    const char *watermark_name;
    const char *subtitle_id;
} plan_settings_t;

/* *plan_json receives the plan's JSON text (malloc'd; caller frees).
 * STORE_OK, or the store's code when a lookup failed for another reason
 * than a missing resource (STORE_UNAVAILABLE, STORE_ERROR). */
int plan_freeze(store_t *store, int64_t account_id, const plan_settings_t *settings, const char *object_id,
                const char *file_key, char **plan_json);

/* A persistent job's plan (fops_plan.h).  settings: the video's
 * getUploadToken settings, frozen as plan_freeze does, with the fops' steps
 * appended (an upload's persistentOps or cmd); NULL: the probe and the
 * fops' steps only, marked `fops` so that its outputs join the video's
 * earlier ones instead of replacing them (POST /fops).  STORE_INVALID with
 * err (one line) when the fops cannot run on this video; a resource gone
 * since the token is the plan's error, as with plan_freeze. */
int plan_freeze_fops(store_t *store, int64_t account_id, const plan_settings_t *settings, const fops_t *f,
                     const char *object_id, const char *file_key, char **plan_json, char *err, size_t errlen);

/* A plan that is only its error (the task fails with it at once). */
int plan_freeze_failed(const char *object_id, const char *file_key, const char *error, char **plan_json);

#endif
