/*
 * fuzz_probe_parse: ffprobe's JSON describes an uploaded file, so every
 * string in it (tags, codec names, the rotation side data) is the
 * uploader's.  Feeds arbitrary text to probe_parse and checks what it hands
 * the planner: a positive duration, sizes within the pixel bound, even the
 * rotation one of 0/90/180/270, NUL-terminated strings, a "probe: " reason
 * on refusal.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "process/probe.h"

#define FUZZ_MAX_PIXELS (4096 * 2160)

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    probe_result_t r;
    char err[256];
    if (!probe_parse((const char *)data, size, FUZZ_MAX_PIXELS, &r, err, sizeof(err))) {
        fuzz_check(strncmp(err, "probe: ", 7) == 0);
        return 0;
    }
    fuzz_check(r.duration > 0);
    fuzz_check(r.has_video || r.has_audio);
    fuzz_check((int64_t)r.width * r.height <= FUZZ_MAX_PIXELS);
    fuzz_check(r.rotation == 0 || r.rotation == 90 || r.rotation == 180 || r.rotation == 270);
    fuzz_check(strlen(r.codecs) < sizeof(r.codecs) && strlen(r.video_codec) < sizeof(r.video_codec));
    return 0;
}
