/*
 * fops_plan: a parsed fops (fops.h) as steps of a frozen plan (plan_spec.h),
 * and the key of each of its outputs.
 *
 * Task i (1-based) of a fops becomes one step:
 *   avthumb/mp4|m3u8/...  a transcode step named "fops<i>" with the
 *                         one-rendition template fops_transcode_template()
 *                         describes and the task's segtime;
 *   vframe/jpg/...        a snapshot step at the task's offset, in the box
 *                         of its w and h.
 * Every such step has a key, relative to the video's directory (the
 * directory of its fileKey): the saveas key, else "fops<i>.mp4",
 * "fops<i>.m3u8" or "fops<i>.jpg".  vodup keeps every file of a video under
 * that directory (one signature covers a video's playback, one delete
 * removes it whole), so a saveas key names the output inside it; the status
 * query and the notification give each output's full key and URL.
 *
 * A watermark or subtitle the plan already has (from getUploadToken's
 * settings) applies to the fops' transcodes too, as to every transcode of a
 * plan.  Pure: no I/O.
 */
#ifndef VODUP_PROCESS_FOPS_PLAN_H
#define VODUP_PROCESS_FOPS_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"
#include "process/fops.h"
#include "process/plan_spec.h"

/* fops_parse(), then each saveas bucket must be `bucket` (the caller's
 * account's: an app names its own bucket).  err: one line. */
bool fops_plan_parse(const char *text, size_t len, const char *bucket, fops_t *out, char *err, size_t errlen);

/* Task i's (0-based) key relative to the video's directory, into out
 * (after buf_reset). */
bool fops_plan_task_key(const fops_t *f, size_t i, buf_t *out);

/* Appends the fops' steps to plan and checks the result (plan_spec_check).
 * False with err (the check's sentence, or "fops: the plan has no room for
 * N more steps") when the plan cannot run; plan is then unchanged. */
bool fops_plan_append(plan_spec_t *plan, const fops_t *f, char *err, size_t errlen);

/* Whether the fops can run on a video with this fileKey, before it exists
 * (getUploadToken's cmd, an upload's persistentOps): the probe and the
 * fops' steps pass plan_spec_check.  err: one line. */
bool fops_plan_check(const fops_t *f, const char *file_key, char *err, size_t errlen);

#endif
