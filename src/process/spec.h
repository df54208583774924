/*
 * spec: the processing resources' specs as data (processing contract,
 * section 2).  `vodup admin` builds and validates them here before storing
 * their JSON text; the planner parses the same text here when it freezes a
 * task's plan, so the two can never disagree about what a spec means.
 *
 * Each kind has a C struct, a parser from the stored JSON text that
 * validates every rule (and fills documented defaults), a check of a struct
 * built in code, and a serialiser to the canonical JSON, so that
 * parse -> serialise -> parse gives the same struct.  Parsing never trusts
 * the text: a spec may have been written by an older vodup, or by hand.
 *
 *   template:  {"container":"hls","videoCodec":"h264","audioCodec":"aac","audioBitrate":128,
 *               "renditions":[{"width":1920,"height":1080,"videoBitrate":5000},...]}
 *              A template is a set of renditions in one container.  The older one-rendition
 *              shape {"container",...,"width","height","videoBitrate","audioBitrate"} is
 *              still read, as one rendition.
 *   watermark: {"image":"resources/1/watermarks/logo.png","position":"top-right",
 *               "offsetX":16,"offsetY":16,"opacity":1.0}
 *   subtitle:  {"file":"resources/1/subtitles/en.srt","format":"srt","language":"en","mode":"burn"}
 *              Without "mode" (subtitles stored before modes existed) it is burn.
 *   workflow:  {"steps":[{"kind":"probe"},{"kind":"transcode","template":"hd"},
 *               {"kind":"watermark","watermark":"logo"},{"kind":"subtitle","subtitle":"sub..."}]}
 *
 * A rendition's width and height are a box (either orientation): the planner
 * fits the source into it, never upscales and evens the sides (see
 * process/geometry.h), so any size in range is accepted here, odd ones too.
 * A side of 0 keeps the source's; a bitrate of 0 leaves it to the encoder.
 *
 * Pure: no I/O, no store.  Errors are a sentence in spec_error_t.
 */
#ifndef VODUP_PROCESS_SPEC_H
#define VODUP_PROCESS_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#define SPEC_ERROR_MAX 256
#define SPEC_NAME_MAX 64            /* resource names and workflow references */
#define SPEC_PATH_MAX 1024          /* a resource file's path under the data dir */
#define SPEC_LANGUAGE_MAX 35
#define SPEC_RENDITIONS_MAX 8       /* a template's ladder; 8 covers 240p..4K twice over */
#define SPEC_WORKFLOW_STEPS_MAX 32
#define SPEC_DIMENSION_MIN 16
#define SPEC_DIMENSION_MAX 8192
#define SPEC_VIDEO_BITRATE_MAX 100000 /* kbps */
#define SPEC_AUDIO_BITRATE_MAX 10000  /* kbps */
#define SPEC_OFFSET_MAX 100000        /* pixels */

typedef struct spec_error {
    char message[SPEC_ERROR_MAX];
} spec_error_t;

/* ---- names and fields shared by several kinds ---- */

/* A resource name (also a template or watermark reference, and an account
 * name): 1..64 of A-Z a-z 0-9 . _ -, not starting with '.'.  Names become
 * path segments and output keys, so "." and ".." must be impossible. */
bool spec_name_valid(const char *s);

/* A BCP 47-like language tag: 2..3 letters, then -subtags of 1..8 letters
 * and digits ("en", "pt-BR", "zh-Hans", "und"). */
bool spec_language_valid(const char *s);

/* A resource file's path relative to the data dir: segments of
 * A-Z a-z 0-9 . _ - not starting with '.', so it cannot leave the dir. */
bool spec_resource_path_valid(const char *s);

/* ---- enums: each has a name table; _parse is false for an unknown name ---- */

enum spec_container { SPEC_CONTAINER_MP4, SPEC_CONTAINER_WEBM, SPEC_CONTAINER_MKV, SPEC_CONTAINER_HLS };
enum spec_video_codec { SPEC_VIDEO_H264, SPEC_VIDEO_H265, SPEC_VIDEO_VP9, SPEC_VIDEO_AV1, SPEC_VIDEO_COPY };
enum spec_audio_codec { SPEC_AUDIO_AAC, SPEC_AUDIO_OPUS, SPEC_AUDIO_MP3, SPEC_AUDIO_COPY };
enum spec_position {
    SPEC_POSITION_TOP_LEFT,
    SPEC_POSITION_TOP_RIGHT,
    SPEC_POSITION_BOTTOM_LEFT,
    SPEC_POSITION_BOTTOM_RIGHT,
    SPEC_POSITION_CENTER
};
enum spec_subtitle_format { SPEC_SUBTITLE_SRT, SPEC_SUBTITLE_VTT, SPEC_SUBTITLE_ASS };
enum spec_subtitle_mode { SPEC_SUBTITLE_BURN, SPEC_SUBTITLE_SOFT };
enum spec_step_kind { SPEC_STEP_PROBE, SPEC_STEP_SNAPSHOT, SPEC_STEP_TRANSCODE, SPEC_STEP_WATERMARK, SPEC_STEP_SUBTITLE };

const char *spec_container_name(enum spec_container c);
bool spec_container_parse(const char *s, enum spec_container *out);
const char *spec_video_codec_name(enum spec_video_codec c);
bool spec_video_codec_parse(const char *s, enum spec_video_codec *out);
const char *spec_audio_codec_name(enum spec_audio_codec c);
bool spec_audio_codec_parse(const char *s, enum spec_audio_codec *out);
const char *spec_position_name(enum spec_position p);
bool spec_position_parse(const char *s, enum spec_position *out);
const char *spec_subtitle_format_name(enum spec_subtitle_format f);
bool spec_subtitle_format_parse(const char *s, enum spec_subtitle_format *out);
const char *spec_subtitle_mode_name(enum spec_subtitle_mode m);
bool spec_subtitle_mode_parse(const char *s, enum spec_subtitle_mode *out);
const char *spec_step_kind_name(enum spec_step_kind k);

/* HLS: a master playlist over segmented variants instead of one file per rendition. */
bool spec_container_is_segmented(enum spec_container c);
/* Whether the container can carry the codec; copy is always accepted (the
 * source's stream is not known here). */
bool spec_container_holds_video(enum spec_container c, enum spec_video_codec v);
bool spec_container_holds_audio(enum spec_container c, enum spec_audio_codec a);
/* The codecs a template gets when it names none: vp9/opus for webm, else h264/aac. */
enum spec_video_codec spec_container_default_video(enum spec_container c);
enum spec_audio_codec spec_container_default_audio(enum spec_container c);
/* Steps that name a resource: transcode, watermark, subtitle. */
bool spec_step_kind_takes_ref(enum spec_step_kind k);

/* ---- template ---- */

typedef struct spec_rendition {
    int width, height;      /* the box; 0 keeps the source's side */
    int video_bitrate;      /* kbps; 0 leaves it to the encoder */
} spec_rendition_t;

typedef struct spec_template {
    enum spec_container container;
    enum spec_video_codec video_codec;
    enum spec_audio_codec audio_codec;
    int audio_bitrate; /* kbps; 0 leaves it to the encoder */
    size_t rendition_count;
    spec_rendition_t renditions[SPEC_RENDITIONS_MAX];
} spec_template_t;

/* Field rules, for callers that report them in their own terms. */
bool spec_dimension_valid(long v);        /* 0, or SPEC_DIMENSION_MIN..MAX */
bool spec_video_bitrate_valid(long v);    /* 0..SPEC_VIDEO_BITRATE_MAX */
bool spec_audio_bitrate_valid(long v);    /* 0..SPEC_AUDIO_BITRATE_MAX */

/* Parses "WxH[@KBPS]" (the --rendition text): W and H in
 * SPEC_DIMENSION_MIN..MAX, KBPS in 1..SPEC_VIDEO_BITRATE_MAX. */
bool spec_rendition_parse_text(const char *text, spec_rendition_t *out, spec_error_t *err);
/* Writes the --rendition text of r ("1280x720@2500", "1280x720"; "source"
 * for 0x0), truncated to len. */
void spec_rendition_format(const spec_rendition_t *r, char *out, size_t len);

/* A template with the container's default codecs, no audio bitrate and no
 * renditions yet. */
void spec_template_init(spec_template_t *t, enum spec_container container);
/* Checks a template built in code: every field in range, codecs the
 * container holds, copy without sizes or bitrates, 1..SPEC_RENDITIONS_MAX
 * renditions of which no two have the same box (1280x720 and 720x1280 are
 * the same box: both would make the same output). */
bool spec_template_check(const spec_template_t *t, spec_error_t *err);
bool spec_template_parse(const char *json_text, spec_template_t *out, spec_error_t *err);
/* The canonical JSON (new shape), malloc'd (caller frees); NULL when out of memory. */
char *spec_template_to_json(const spec_template_t *t);

/* ---- watermark ---- */

typedef struct spec_watermark {
    char image[SPEC_PATH_MAX]; /* under the data dir */
    enum spec_position position;
    int offset_x, offset_y;    /* pixels from the position's edges, 0..SPEC_OFFSET_MAX */
    double opacity;            /* 0..1 */
} spec_watermark_t;

bool spec_offset_valid(long v);
bool spec_opacity_valid(double v);
/* Defaults: top-right, offsets 16, opacity 1, no image yet. */
void spec_watermark_init(spec_watermark_t *w);
bool spec_watermark_check(const spec_watermark_t *w, spec_error_t *err);
bool spec_watermark_parse(const char *json_text, spec_watermark_t *out, spec_error_t *err);
char *spec_watermark_to_json(const spec_watermark_t *w);

/* ---- subtitle ---- */

typedef struct spec_subtitle {
    char file[SPEC_PATH_MAX]; /* under the data dir */
    enum spec_subtitle_format format;
    char language[SPEC_LANGUAGE_MAX + 1];
    enum spec_subtitle_mode mode;
} spec_subtitle_t;

/* Defaults: language "und", mode burn, no file yet. */
void spec_subtitle_init(spec_subtitle_t *s);
bool spec_subtitle_check(const spec_subtitle_t *s, spec_error_t *err);
bool spec_subtitle_parse(const char *json_text, spec_subtitle_t *out, spec_error_t *err);
char *spec_subtitle_to_json(const spec_subtitle_t *s);

/* ---- workflow ---- */

typedef struct spec_step {
    enum spec_step_kind kind;
    char ref[SPEC_NAME_MAX + 1]; /* template, watermark name or subtitleId; "" for probe and snapshot */
} spec_step_t;

typedef struct spec_workflow {
    size_t step_count;
    spec_step_t steps[SPEC_WORKFLOW_STEPS_MAX];
} spec_workflow_t;

/* Parses "KIND[=REF]" (the --step text). */
bool spec_step_parse_text(const char *text, spec_step_t *out, spec_error_t *err);
/* Checks 1..SPEC_WORKFLOW_STEPS_MAX steps, each valid, with no step
 * repeated: watermark and subtitle apply to every transcode, so a second one
 * would be ambiguous, and a template twice would make the same outputs. */
bool spec_workflow_check(const spec_workflow_t *w, spec_error_t *err);
bool spec_workflow_parse(const char *json_text, spec_workflow_t *out, spec_error_t *err);
char *spec_workflow_to_json(const spec_workflow_t *w);
/* Writes "probe,transcode=hd,..." truncated to len. */
void spec_workflow_format(const spec_workflow_t *w, char *out, size_t len);

#endif
