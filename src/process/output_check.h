/*
 * output_check: measures each listed output a task's runs made (for
 * getVideoInfo's `outputs`) and refuses a short one.
 *
 * An mp4/webm/mkv file is probed with ffprobe; an HLS output is measured
 * from its playlists (duration: the sum of the largest variant's EXTINF,
 * bitrate: the master's largest BANDWIDTH) and its first segment's probe
 * (codecs).  A video output that lasts less than the source (a truncated
 * source that ffmpeg read to its break without an error) fails the task:
 * the contract says a short output is a failure, not a success.
 */
#ifndef VODUP_PROCESS_OUTPUT_CHECK_H
#define VODUP_PROCESS_OUTPUT_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process/plan.h"
#include "process/probe.h"

typedef struct output_measure {
    int type;               /* enum store_output_type */
    int width, height;
    double duration;        /* 0 for vtt and cover */
    int64_t size;           /* bytes of the output's key */
    int64_t bitrate;        /* bits per second; 0 unknown */
    char codecs[2 * PROBE_CODEC_MAX + 2]; /* "" when not media */
} output_measure_t;

/* Measures po, written under out_dir at its key.  False with err (starting
 * "transcode: ") when a file is missing or unreadable, or a video output is
 * short of source_duration. */
bool output_check(const char *ffprobe, const char *out_dir, const plan_output_t *po, double source_duration,
                  int64_t timeout_ms, output_measure_t *m, char *err, size_t errlen);

/* Pure parts, for tests. */
/* Whether an output of `duration` s covers a source of `source` s: it may
 * be short by the larger of 0.5 s and 5% (container and codec rounding). */
bool output_check_long_enough(double duration, double source);
/* The sum of a media playlist's #EXTINF durations. */
double output_check_playlist_duration(const char *text, size_t len);
/* The largest BANDWIDTH of a master playlist's #EXT-X-STREAM-INF lines (0: none). */
int64_t output_check_master_bandwidth(const char *text, size_t len);

#endif
