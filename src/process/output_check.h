/*
 * output_check: measures each listed output a task's runs made (for
 * getVideoInfo's `outputs`) and refuses a short one, without running
 * anything: one ffprobe per output cost a task 200-280 ms on a 2-core
 * machine (ffprobe's start-up alone is ~110 ms), as much as 6% of a 10 s
 * 720p rendition, for facts the plan and ffmpeg have already given.
 *
 * Sizes and codecs are the plan's (plan.h: what ffmpeg was told to make;
 * ffmpeg exits non-zero when an encoder or a muxer cannot make it).  An
 * mp4/webm/mkv file covers the source when ffmpeg's last -progress block
 * says the run got to the source's end (out_time: the furthest output
 * stream's last packet; every output of the run is fed from the one decode
 * of the source); it then lasts as long as the source, and its bitrate is
 * its size over that.  An HLS output is measured from its playlists (duration:
 * the sum of the largest variant's EXTINF, bitrate: the master's largest
 * BANDWIDTH), and its largest variant's first segment must exist.  A video
 * output that lasts less than the source (a truncated source that ffmpeg
 * read to its break without an error) fails the task: the contract says a
 * short output is a failure, not a success.
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
    char codecs[2 * PROBE_CODEC_MAX + 2]; /* "" for vtt and cover */
} output_measure_t;

/* Measures po, written under out_dir at its key, for a source of
 * source_duration s whose transcode run got to run_duration s (ffmpeg's last
 * out_time; negative when it reported none).  False with err (starting
 * "transcode: ", or "snapshot: " for a missing cover) when a file is
 * missing, or a video output is short of the source. */
bool output_check(const char *out_dir, const plan_output_t *po, double source_duration, double run_duration,
                  output_measure_t *m, char *err, size_t errlen);

/* Pure parts, for tests. */
/* Whether an output of `duration` s covers a source of `source` s: it may
 * be short by the larger of 0.5 s and 5% (container and codec rounding). */
bool output_check_long_enough(double duration, double source);
/* The sum of a media playlist's #EXTINF durations. */
double output_check_playlist_duration(const char *text, size_t len);
/* The largest BANDWIDTH of a master playlist's #EXT-X-STREAM-INF lines (0: none). */
int64_t output_check_master_bandwidth(const char *text, size_t len);

#endif
