/*
 * plan: the planner.  Turns a frozen plan, the source's probe and where
 * things are on disk into the ffmpeg command lines of a task and the list
 * of outputs they make (processing contract, section 2).  Pure: it runs
 * nothing and reads no file, so its argument lists are table-tested.
 *
 * Runs (at most PLAN_RUNS_MAX, in order):
 *  1. the cover, when the plan has a snapshot step and the source has video:
 *     one frame at PLAN_COVER_AT_S (the middle of shorter sources), fitted
 *     into PLAN_COVER_BOX by ffmpeg's scale expressions, JPEG.  Its command
 *     line needs nothing of the probe but the time, so a worker may start
 *     the same run (plan_cover_run) beside the probe and skip this one when
 *     the time is the same;
 *  2. each frame (a keyed snapshot, a fops' vframe), in step order: one
 *     JPEG at its time (PLAN_FRAME_AT_COVER: the cover's), fast-seeked,
 *     fitted into its box (a side of 0 unbounded; never upscaled, even
 *     sides, the box not turned: w is the width), with the cover's JPEG
 *     settings; a frame past the source's end, or of a source without
 *     picture, fails the plan;
 *  3. every transcode output in one ffmpeg run (one decode of the source,
 *     split once per rendition: ~20% less CPU than a run per rendition),
 *     plus the WebVTT sidecar of a soft subtitle.
 * A keyed step's output is at <the video's directory>/<key>; a keyed HLS
 * master K keeps its variants in <dir of K>/<W>x<H>/ named like K, with
 * segments <stem of K>_NNNNN.ts (plan_hls_segment_prefix), so two HLS
 * outputs in one directory never share a file.
 * A plan without transcodes has only the cover run; a source without video
 * (audio only) gets no cover and no renditions (its outputs are empty).
 *
 * What every run is given (input hardening, section 5):
 *   -nostdin -hide_banner -nostats -loglevel error -y -progress pipe:1
 *   and before the source: -protocol_whitelist file -format_whitelist
 *   PROBE_FORMAT_WHITELIST -max_pixels <max_pixels> -i file:<source>
 *   (ffmpeg 5.1 takes both whitelists and -max_pixels as input options:
 *   they bind the demuxer and the decoders of the -i that follows).
 * The watermark image and a soft subtitle's file are inputs of their own,
 * with the file protocol and their own format whitelists (image demuxers;
 * srt, webvtt, ass), the image with -max_pixels too.
 * Every path is passed as "file:<absolute path>", so nothing of it is read
 * as an option or a protocol, with one exception: the hls muxer's output
 * and segment paths are plain absolute paths, because ffmpeg 5.1 makes the
 * directory of a path with %v by mkdir -p of the text itself (with "file:"
 * it would make a "file:" tree in its working directory, then fail to open
 * the segments and still exit 0); a path starting with '/' is read neither
 * as an option nor as a protocol either.  The paths the planner makes come
 * from output_key.h, and a resource's file is under data_dir at a path
 * spec.h checked.  Paths inside a filter graph (burned subtitles) are
 * escaped for both levels of ffmpeg's filter syntax (plan_filter_escape).
 *
 * Outputs are written under work_dir at their keys: the file with key K is
 * <work_dir>/<K>, so the worker publishes each file under work_dir as the
 * object of its relative path.  HLS variants and segments are not listed
 * (their count is known only after the run), only their master, whose
 * plan_output_t gives each variant's size: variant <W>x<H> is the
 * var_stream_map name and the %v of <template>/<W>x<H>/index.m3u8 and
 * seg_%05d.ts (output_key_hls_variant); ffmpeg writes -master_pl_name in
 * the parent of the %v directory, <template>/index.m3u8, with BANDWIDTH,
 * RESOLUTION and CODECS on every EXT-X-STREAM-INF.
 *
 * Encoding, per rendition (geometry.h gives the size: never upscaled, even,
 * display aspect kept, rotation applied by ffmpeg's autorotate; a box side
 * of 0 does not bound the picture, and renditions of one template that
 * come out the same size, a ladder above a small source, make one output):
 *  - scale=W:H,setsar=1 after one split of the decoded source; a burned
 *    subtitle is drawn once before the split, a watermark overlaid after the
 *    scale at the image's own size;
 *  - h264 libx264 -preset veryfast, h265 libx265 -preset veryfast (tag hvc1),
 *    vp9 libvpx-vp9 -deadline realtime -cpu-used 8 -row-mt 1, av1 libsvtav1
 *    -preset 10; -pix_fmt yuv420p; a key frame every 2 s (HLS segments cut
 *    at 6 s land on them): forced by time, and for libsvtav1, which ignores
 *    forced key frames in ffmpeg 5.1, by its GOP (-g, from the frame rate);
 *  - bitrate: the rendition's, else plan_default_bitrate(); -maxrate
 *    1.5x and -bufsize 2x of it;
 *  - audio (when the source has it): aac 128k, opus 96k, mp3 128k unless the
 *    template sets audioBitrate; copy copies;
 *  - mp4: -movflags +faststart; hls: MPEG-TS segments of ~6 s, VOD
 *    playlists, one master with one variant per rendition, each variant
 *    with its own copy of the audio (the widest player support);
 *  - the picture is the source's first video stream that is not cover art
 *    (0:V:0), the audio its first audio stream; other streams are dropped.
 */
#ifndef VODUP_PROCESS_PLAN_H
#define VODUP_PROCESS_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process/geometry.h"
#include "process/plan_spec.h"
#include "process/probe.h"

/* The cover, each frame, the transcode run. */
#define PLAN_RUNS_MAX (2 + PLAN_FRAMES_MAX)
/* A rendition of every unkeyed template, one output per keyed step, the
 * cover and the WebVTT sidecar. */
#define PLAN_OUTPUTS_MAX (SPEC_WORKFLOW_STEPS_MAX * SPEC_RENDITIONS_MAX + PLAN_KEYED_MAX + 2)
/* Renditions of every template, keyed ones included (HLS variants). */
#define PLAN_RENDITIONS_MAX ((SPEC_WORKFLOW_STEPS_MAX + PLAN_KEYED_MAX) * SPEC_RENDITIONS_MAX)
#define PLAN_COVER_AT_S 1.0
#define PLAN_COVER_BOX_W 1920
#define PLAN_COVER_BOX_H 1080
#define PLAN_HLS_SEGMENT_S 6
#define PLAN_KEYFRAME_S 2

typedef struct plan_input {
    const plan_spec_t *spec;
    const probe_result_t *probe;
    const char *ffmpeg;      /* the program's path: argv[0] */
    const char *source;      /* absolute path of the source's local copy */
    const char *work_dir;    /* absolute; outputs go to <work_dir>/<key> */
    const char *data_dir;    /* absolute; resource files are <data_dir>/<path> */
    int64_t max_pixels;      /* -max_pixels; 0: not passed */
} plan_input_t;

typedef struct plan_run {
    char **argv;            /* NULL-terminated, malloc'd strings */
    size_t argc;
    bool transcode;         /* the main run (its progress is the task's) */
    bool cover;             /* the cover run (a worker may have made it beside the probe) */
} plan_run_t;

enum plan_output_kind { PLAN_OUTPUT_FILE, PLAN_OUTPUT_HLS, PLAN_OUTPUT_VTT, PLAN_OUTPUT_COVER, PLAN_OUTPUT_FRAME };

typedef struct plan_output {
    enum plan_output_kind kind;
    enum spec_container container;       /* PLAN_OUTPUT_FILE and HLS */
    char template_name[SPEC_NAME_MAX + 1]; /* "" for vtt and cover */
    char key[PLAN_KEY_MAX];              /* mp4/webm/mkv file, HLS master, .vtt, cover.jpg */
    int width, height;                   /* the picture (HLS: the largest variant); 0 for vtt */
    /* File and HLS: the codecs it carries in ffprobe's names, "h264,aac"
     * ("hevc" for h265; a copy is the source's codec; no audio when the
     * source has none), for getVideoInfo without probing the output. */
    char codecs[2 * PROBE_CODEC_MAX + 2];
    char language[SPEC_LANGUAGE_MAX + 1]; /* vtt, and HLS with a soft subtitle: its track's */
    bool soft_subtitle;                  /* HLS: the master needs the subtitle group (hls.h) */
    /* HLS: its variants' pictures, in the master's order; each one's
     * playlist and segments are in <W>x<H>/ beside the master. */
    size_t variant_count;
    geometry_size_t variants[SPEC_RENDITIONS_MAX];
} plan_output_t;

typedef struct plan {
    size_t run_count;
    plan_run_t runs[PLAN_RUNS_MAX];
    size_t output_count;
    plan_output_t outputs[PLAN_OUTPUTS_MAX];
} plan_t;

/* Builds the runs and outputs.  False with err (starting with the step,
 * "transcode: ...", "snapshot: ...", "subtitle: ...") when the plan cannot
 * run on this source: a template that copies video with a watermark or a
 * burned subtitle, a key that output_key.h refuses, a work_dir with a '%'
 * (the hls muxer's pattern character), a frame past the source's end or of
 * a source without picture, out of memory; "plan: ..." when in lacks
 * something or a path is not absolute, or when a keyed output would be
 * another output's file (a rendition, an HLS variant playlist or segment,
 * the cover) or a file where another needs a directory; plan_spec_check's
 * message when the spec breaks its rules.  p is freed with plan_free in every case
 * (after a failure it is already empty). */
bool plan_build(const plan_input_t *in, plan_t *p, char *err, size_t errlen);
void plan_free(plan_t *p);

/* When the cover is taken of a source of `duration` s: PLAN_COVER_AT_S, or
 * the middle of a shorter source (duration <= 0, unknown: PLAN_COVER_AT_S). */
double plan_cover_time(double duration);
/* The cover run at at_s, as plan_build makes it for a source whose cover
 * time is at_s, without the probe (in->probe is not read).  False when in
 * lacks something or out of memory; *run is freed with plan_run_free. */
bool plan_cover_run(const plan_input_t *in, double at_s, plan_run_t *run);
void plan_run_free(plan_run_t *run);

/* The segment file prefix of an HLS output whose master is master_key:
 * "seg" for vodup's own index.m3u8, else the master's name without
 * ".m3u8" (a keyed output).  False when it does not fit in n. */
bool plan_hls_segment_prefix(const char *master_key, char *out, size_t n);

/* The directories, relative to work_dir, that must exist before the runs
 * (ffmpeg creates none but the hls muxer's %v directories, and those are
 * made beforehand too): the directory of every listed output's key and of
 * every HLS variant, each once.  Sorted, so parents come before children;
 * the worker creates each with its parents.  Fills up to max entries;
 * returns the number there are (which may exceed max). */
#define PLAN_DIRS_MAX (PLAN_OUTPUTS_MAX + PLAN_RENDITIONS_MAX)
size_t plan_dirs(const plan_t *p, char (*dirs)[PLAN_KEY_MAX], size_t max);

/* The bitrate (kbps) of a rendition that sets none, by its height (the
 * short side): 240 400, 360 800, 480 1200, 720 2500, 1080 5000, 1440 8000,
 * 2160 and above 14000, interpolated linearly between steps (540 -> 1525);
 * below 240 in proportion to 240's (120 -> 200). */
int plan_default_bitrate(int width, int height);

/* Escapes a path for use as a filter option value inside a filter graph,
 * both levels: the option value's ('\\' '\'' ':'), then the graph's over the
 * result ('\\' '\'' '[' ']' ',' ';'), so ':' becomes \\: and '\'' \\\'.
 * False when it does not fit in len (4 * strlen(in) + 1 always does). */
bool plan_filter_escape(const char *in, char *out, size_t len);

#endif
