/*
 * video_status: the states of a video in the registry, their names (the
 * API's `status` values, the database's, the webhook events'), and what
 * each state allows, so that no layer compares status strings itself.
 *
 *   created -> uploading -> uploaded -> processing -> ready
 *                  |            |            |
 *                  +-> failed <-+------------+
 *
 * `failed` is also a refused completion (size or fileMd5); a failed video
 * takes an upload again.
 */
#ifndef VODUP_COMMON_VIDEO_STATUS_H
#define VODUP_COMMON_VIDEO_STATUS_H

#include <stdbool.h>

enum video_status {
    VIDEO_STATUS_UNKNOWN = -1, /* a name that is none of the below */
    VIDEO_CREATED = 0,         /* registered by getUploadToken, no byte yet */
    VIDEO_UPLOADING,           /* bytes are arriving */
    VIDEO_UPLOADED,            /* the upload completed; no task queued (processing off or none) */
    VIDEO_PROCESSING,          /* the upload completed; its task runs or waits */
    VIDEO_READY,               /* processed */
    VIDEO_FAILED,              /* the upload or the processing failed */
    VIDEO_STATUS_COUNT
};

/* The name ("created", ...), NULL for a value out of range. */
const char *video_status_name(int status);
/* The state a name stands for; VIDEO_STATUS_UNKNOWN for NULL or another name. */
int video_status_parse(const char *name);

/* The upload completed: the video holds its file (uploaded, processing, ready). */
bool video_status_uploaded(int status);
/* An upload that starts now makes the video `uploading` (created, failed). */
bool video_status_awaits_upload(int status);

#endif
