/*
 * probe: what a source file is, from ffprobe's JSON.
 *
 * The processing stage asks the ffprobe program (never a library, never a
 * shell) to describe an uploaded file and plans its outputs from the
 * answer.  probe.c builds that command line and reads the answer, running
 * nothing itself, so every rule is a pure function with a table test;
 * probe_run.c runs it.
 *
 * What the command allows: only the `file` protocol and a whitelist of
 * container formats (an HLS playlist named .mp4 that points at a local file
 * is a known file-disclosure attack; the whitelist refuses it), and the path
 * is passed as "file:<path>", so no byte of it is read as an option (it
 * never starts with '-') or as another protocol.
 *
 * What the answer must show, else the file is not media vodup processes
 * (the reason starts "probe: ", as failReason does):
 *  - at least one video or audio stream (attached pictures, such as cover
 *    art in an MP3, are not video);
 *  - a positive duration (from the container, else the longest stream);
 *  - a video no larger than the caller's pixel bound (an 8K frame decodes
 *    to ~190 MB per frame: bounded before ffmpeg ever runs).
 * The display size accounts for rotation (a phone video tagged 90 degrees
 * is portrait), which is what renditions are chosen from.
 */
#ifndef VODUP_PROCESS_PROBE_H
#define VODUP_PROCESS_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Containers ffprobe and ffmpeg may open (libavformat demuxer names). */
#define PROBE_FORMAT_WHITELIST                                                                                     \
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,mpeg,mpegvideo,ogg,wav,mp3,flac,aac,asf,mxf,"          \
    "h264,hevc"

#define PROBE_ARGV_MAX 16
#define PROBE_CODEC_MAX 32

typedef struct probe_result {
    double duration;       /* seconds, > 0 */
    bool has_video, has_audio;
    int width, height;     /* coded size of the video stream; 0 without video */
    int rotation;          /* 0, 90, 180 or 270: the display rotation the file asks for (ffmpeg applies it) */
    int display_width;     /* width and height once rotated: what a viewer sees */
    int display_height;
    double frame_rate;     /* of the video stream; 0 when unknown */
    int64_t bit_rate;      /* of the whole file, bits per second; 0 when unknown */
    char video_codec[PROBE_CODEC_MAX]; /* "" without video */
    char audio_codec[PROBE_CODEC_MAX]; /* "" without audio */
    char codecs[2 * PROBE_CODEC_MAX + 2]; /* "h264,aac", "vp9", "aac": for getVideoInfo's codecs */
} probe_result_t;

/*
 * Fills argv (at most PROBE_ARGV_MAX entries plus the NULL that ends it)
 * with the ffprobe command for `path`; `file_arg` (at least strlen(path) + 6
 * bytes) receives the "file:<path>" argument argv points at.  Returns the
 * number of arguments.
 */
size_t probe_argv(const char *ffprobe, const char *path, char *file_arg, size_t file_arg_size,
                  const char *argv[PROBE_ARGV_MAX + 1]);

/*
 * Reads ffprobe's JSON (-show_format -show_streams).  False when the file
 * is not media vodup processes, or the JSON is not ffprobe's; `err` then
 * says why, starting "probe: ".  max_pixels: the largest width x height
 * accepted (0: no bound).
 */
bool probe_parse(const char *json, size_t len, int64_t max_pixels, probe_result_t *out, char *err, size_t errlen);

/*
 * Runs ffprobe (probe_run.c, through runner.h: niced, limited, killed at
 * timeout_ms) on `path` and parses its answer.  False with `err` starting
 * "probe: " when ffprobe cannot read the file (its reason, without the
 * server's path), takes too long, or the answer fails probe_parse.
 */
bool probe_file(const char *ffprobe, const char *path, int64_t max_pixels, int64_t timeout_ms,
                probe_result_t *out, char *err, size_t errlen);

#endif
