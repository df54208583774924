/* video_status: a video's states and what they allow; see video_status.h. */
#include "common/video_status.h"

#include <string.h>

static const char *const video_status_names[VIDEO_STATUS_COUNT] = {
    [VIDEO_CREATED] = "created",       [VIDEO_UPLOADING] = "uploading", [VIDEO_UPLOADED] = "uploaded",
    [VIDEO_PROCESSING] = "processing", [VIDEO_READY] = "ready",         [VIDEO_FAILED] = "failed",
};

const char *video_status_name(int status)
{
    return status >= 0 && status < VIDEO_STATUS_COUNT ? video_status_names[status] : NULL;
}

int video_status_parse(const char *name)
{
    for (int s = 0; name && s < VIDEO_STATUS_COUNT; s++)
        if (strcmp(video_status_names[s], name) == 0)
            return s;
    return VIDEO_STATUS_UNKNOWN;
}

bool video_status_uploaded(int status)
{
    return status == VIDEO_UPLOADED || status == VIDEO_PROCESSING || status == VIDEO_READY;
}

bool video_status_awaits_upload(int status)
{
    return status == VIDEO_CREATED || status == VIDEO_FAILED;
}
