/*
 * plan_spec: a task's frozen plan (processing contract, section 1), as a
 * struct and as the JSON text the store keeps in the task row.
 *
 * A plan is frozen when its task is queued: the specs of the workflow,
 * template, watermark and subtitle it uses are copied into it, so editing
 * or removing a resource later changes nothing of a queued or running task.
 * It is the whole input of the task besides the source's bytes and probe.
 *
 *   {"version":1,"objectId":"<32 hex>","fileKey":"video/20261204/<videoId>/a.mp4",
 *    "steps":[{"kind":"probe"},
 *             {"kind":"snapshot"},
 *             {"kind":"transcode","name":"hd","template":{...template spec, spec.h...}},
 *             {"kind":"watermark","name":"logo","watermark":{...watermark spec...}},
 *             {"kind":"subtitle","name":"sub...","subtitle":{...subtitle spec...}}],
 *    "error":"transcode: template \"hd\" does not exist"}          (only when freezing failed)
 *
 * Rules (checked by plan_spec_parse and plan_spec_check):
 *  - steps in workflow order; at most one probe, snapshot, watermark and
 *    subtitle step; 0..SPEC_WORKFLOW_STEPS_MAX transcodes of distinct names;
 *  - watermark and subtitle apply to every transcode of the plan;
 *  - a transcode step's name is a template name, or PLAN_DEFAULT_TEMPLATE for
 *    the default rendition (H.264/AAC MP4 at the source's size) that carries
 *    a watermark or subtitle asked for without a template;
 *  - "error": a plan that could not be frozen (a resource gone between the
 *    token and the upload): the task fails with it at once, not retried;
 *  - keyed steps (a fops', fops_plan.h): "key" names the output relative to
 *    the video's directory: 1..PLAN_KEY_SEGMENTS_MAX '/'-separated
 *    output_key_segment_ok segments,
 *    distinct across steps, neither a directory of another key nor under
 *    one, not the original's own name nor under it, not "cover.jpg" (the
 *    cover's), the whole key within PLAN_KEY_MAX (an HLS key's with 14
 *    bytes to spare, for its variants' and segments' names); an HLS key
 *    ends in ".m3u8", a frame's in ".jpg" (a file's is free: its container
 *    is the template's); at most PLAN_KEYED_MAX keyed steps;
 *  - a keyed mp4/webm/mkv transcode has one rendition (one file), a keyed
 *    HLS one any number; "segmentSeconds" (1..PLAN_SEGMENT_S_MAX) only on
 *    HLS transcodes;
 *  - a snapshot with a key is a frame: "atMs" (0..PLAN_FRAME_AT_MS_MAX;
 *    absent: -1, the cover's time) and a box "width"/"height" (0 or
 *    SPEC_DIMENSION_MIN..MAX, 0 leaving that side unbounded); one without
 *    a key is the cover (at most one), which takes neither: its time and
 *    box are vodup's own, so the worker can start it beside the probe
 *    (task_cover.h);
 *  - "fops": true marks a POST /fops job (its outputs join the video's).
 * The probe always runs (every output is planned from it); "probe" is listed
 * for getTaskInfo.  Pure: no I/O.
 */
#ifndef VODUP_PROCESS_PLAN_SPEC_H
#define VODUP_PROCESS_PLAN_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process/spec.h"

#define PLAN_SPEC_VERSION 1
#define PLAN_DEFAULT_TEMPLATE "default"
#define PLAN_ERROR_MAX 256
#define PLAN_FILE_KEY_MAX 1024
#define PLAN_KEY_MAX 1200 /* an output's full key */
/* Keyed steps of a plan: a fops' tasks (FOPS_TASKS_MAX), each one output. */
#define PLAN_KEYED_MAX 8
/* A key's '/'-separated segments: the work tree the worker publishes
 * (publish.c walks at most 8 levels: video/<date>/<id>, 4 of the key, an
 * HLS variant's directory) stays shallow. */
#define PLAN_KEY_SEGMENTS_MAX 4
#define PLAN_FRAMES_MAX PLAN_KEYED_MAX /* frames are keyed steps */
/* A workflow's steps, or probe, snapshot, transcode, watermark, subtitle;
 * then a fops' steps (plan_freeze_fops). */
#define PLAN_STEPS_MAX (SPEC_WORKFLOW_STEPS_MAX + 2 + PLAN_KEYED_MAX)
#define PLAN_SEGMENT_S_MAX 120      /* an HLS transcode's segmentSeconds (the vendor's segtime range) */
#define PLAN_FRAME_AT_MS_MAX INT64_C(86400000) /* a frame's time: 24 h (FOPS_OFFSET_MS_MAX) */
#define PLAN_FRAME_AT_COVER (-1)    /* a frame's at_ms: the cover's time (plan_cover_time) */

typedef struct plan_step {
    enum spec_step_kind kind;
    char name[SPEC_NAME_MAX + 1]; /* template, watermark name, subtitleId; "" for probe and snapshot */
    /* Transcode and snapshot: the output's key relative to the video's
     * directory (a fops' saveas, fops_plan.h); "" for vodup's own keys.  A
     * snapshot without a key is the cover; with one, a frame. */
    char key[PLAN_FILE_KEY_MAX];
    int segment_seconds;          /* HLS transcode: the segment target, 1..PLAN_SEGMENT_S_MAX; 0: PLAN_HLS_SEGMENT_S */
    /* Frame: its time in ms from the start, or PLAN_FRAME_AT_COVER.  Any
     * other step leaves it 0 (a zeroed step) or -1 (the reader's default). */
    int64_t at_ms;
    int width, height;            /* frame: its box, a side of 0 unbounded; 0 0 on every other step */
    union {
        spec_template_t template_spec;  /* transcode */
        spec_watermark_t watermark;     /* watermark */
        spec_subtitle_t subtitle;       /* subtitle */
    } u;
} plan_step_t;

typedef struct plan_spec {
    char object_id[33];                 /* the source's blob object */
    char file_key[PLAN_FILE_KEY_MAX];   /* the original's key: outputs live beside it */
    size_t step_count;
    plan_step_t steps[PLAN_STEPS_MAX];
    char error[PLAN_ERROR_MAX];         /* "" unless freezing failed */
    bool fops;                          /* a POST /fops job: its outputs join the video's (publish.h) */
} plan_spec_t;

/* The default rendition's template: mp4, h264/aac, one rendition 0x0 (the
 * source's size). */
void plan_default_template(spec_template_t *out);

/* Lookups over the steps; NULL when the plan has none. */
const plan_step_t *plan_spec_watermark(const plan_spec_t *p);
const plan_step_t *plan_spec_subtitle(const plan_spec_t *p);
bool plan_spec_has_snapshot(const plan_spec_t *p); /* the cover's step */
/* The transcode steps, in order: fills up to max pointers, returns the count. */
size_t plan_spec_transcodes(const plan_spec_t *p, const plan_step_t **out, size_t max);

/* Checks the rules above (each step's spec with spec.h's checks). */
bool plan_spec_check(const plan_spec_t *p, char *err, size_t errlen);
/* Parses and checks the stored text.  False with err when it is not a plan
 * of a version this vodup reads. */
bool plan_spec_parse(const char *json_text, plan_spec_t *out, char *err, size_t errlen);
/* The canonical JSON text, malloc'd (caller frees); NULL when out of memory. */
char *plan_spec_to_json(const plan_spec_t *p);

#endif
