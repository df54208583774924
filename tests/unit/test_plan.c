/*
 * test_plan: the planner's ffmpeg command lines (plan.h), argument by
 * argument, for representative plans: one mp4 rendition with its cover, a
 * 3-rung HLS ladder, HLS with a watermark and a burned subtitle, a soft
 * subtitle, a video-only source, a rotated one, an audio-only one, the
 * codecs of every container in one run, a copy template, a ladder above a
 * small source, a short source's cover, the default rendition, a fops'
 * keyed outputs (files at any key, HLS named after its key with its own
 * segment length, frames at a time in every shape of box), and the plans
 * refused (frames past the end or without picture, keyed outputs that
 * would write another's file).  Then the bitrate ladder, the filter-graph
 * escaping, the directories the worker makes, the largest plans and HLS
 * segment names.  test_plan_media runs such lists on real files.
 *
 * The macros below name the argument sequences every list repeats (the
 * hardening before the source, an encoder's settings, the hls muxer's); a
 * case spells out everything else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "process/plan.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define SOURCE_PATH "/var/lib/vodup/work/t1-1/source"
#define WORK "/var/lib/vodup/work/t1-1/out"
#define DATA "/var/lib/vodup"
#define VIDEO_DIR "video/20261204/0123456789abcdef0123456789abcdef"
#define MAX_PIXELS 8847360

/* ---- the argument vocabulary ---- */

#define COMMON FFMPEG, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-progress", "pipe:1"
#define SOURCE                                                                                                    \
    "-protocol_whitelist", "file", "-format_whitelist", PROBE_FORMAT_WHITELIST, "-max_pixels", "8847360", "-i",   \
        "file:" SOURCE_PATH
#define WATERMARK_INPUT                                                                                           \
    "-protocol_whitelist", "file", "-format_whitelist", "image2,png_pipe,jpeg_pipe,webp_pipe,bmp_pipe,gif",       \
        "-max_pixels", "8847360", "-i", "file:" DATA "/resources/1/watermarks/logo.png"
#define SUBTITLE_INPUT                                                                                            \
    "-protocol_whitelist", "file", "-format_whitelist", "srt,webvtt,ass", "-i",                                   \
        "file:" DATA "/resources/1/subtitles/en.srt"
#define OUT(key) "file:" WORK "/" VIDEO_DIR "/" key
/* geometry_fit into 1920x1080 (either orientation) as scale expressions. */
#define COVER_FIT "min(1,min(if(gt(ih,iw),1080,1920)/iw,if(gt(ih,iw),1920,1080)/ih))"
#define COVER_SCALE                                                                                               \
    "scale=w='max(2,2*floor((iw*" COVER_FIT "+1e-9)/2))':h='max(2,2*floor((ih*" COVER_FIT "+1e-9)/2))',setsar=1"
#define COVER(at)                                                                                                 \
    COMMON, "-ss", at, SOURCE, "-map", "0:V:0", "-frames:v", "1", "-vf", COVER_SCALE, "-c:v", "mjpeg", "-q:v",    \
        "2", "-f", "image2", "-update", "1", OUT("cover.jpg"), NULL
#define KEYFRAMES "-pix_fmt", "yuv420p", "-force_key_frames", "expr:gte(t,n_forced*2)"
#define H264 "-c:v", "libx264", "-preset:v", "veryfast", KEYFRAMES
#define RATE(i, kbps, max, buf) "-b:v:" i, kbps "k", "-maxrate:v:" i, max "k", "-bufsize:v:" i, buf "k"
#define AAC "-c:a", "aac", "-b:a", "128k"
#define AUDIO "-map", "0:a:0"
#define MP4 "-movflags", "+faststart", "-f", "mp4"
#define HLS(template, variants)                                                                                   \
    "-f", "hls", "-hls_time", "6", "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts",                   \
        "-hls_segment_filename", WORK "/" VIDEO_DIR "/" template "/%v/seg_%05d.ts", "-master_pl_name",            \
        "index.m3u8", "-var_stream_map", variants, WORK "/" VIDEO_DIR "/" template "/%v/index.m3u8"
#define VTT "-map", "1:s:0", "-c:s", "webvtt", "-f", "webvtt", OUT("subtitles/en.vtt")

/* ---- sources ---- */

static const probe_result_t landscape = {
    .duration = 10, .has_video = true, .has_audio = true, .width = 1920, .height = 1080,
    .display_width = 1920, .display_height = 1080, .frame_rate = 25, .codecs = "h264,aac",
    .video_codec = "h264", .audio_codec = "aac",
};
static const probe_result_t silent = {
    .duration = 10, .has_video = true, .width = 1920, .height = 1080,
    .display_width = 1920, .display_height = 1080, .frame_rate = 25, .codecs = "h264",
};
/* A phone video: coded landscape, tagged 90 degrees. */
static const probe_result_t rotated = {
    .duration = 10, .has_video = true, .has_audio = true, .width = 1920, .height = 1080, .rotation = 90,
    .display_width = 1080, .display_height = 1920, .frame_rate = 30, .codecs = "h264,aac",
};
static const probe_result_t audio_only = {.duration = 10, .has_audio = true, .codecs = "aac"};
static const probe_result_t odd = {
    .duration = 10, .has_video = true, .has_audio = true, .width = 641, .height = 359,
    .display_width = 641, .display_height = 359, .frame_rate = 25, .codecs = "h264,aac",
};
static const probe_result_t small = {
    .duration = 10, .has_video = true, .has_audio = true, .width = 640, .height = 360,
    .display_width = 640, .display_height = 360, .frame_rate = 25, .codecs = "h264,aac",
};
static const probe_result_t short_clip = {
    .duration = 1.5, .has_video = true, .has_audio = true, .width = 1920, .height = 1080,
    .display_width = 1920, .display_height = 1080, .frame_rate = 25, .codecs = "h264,aac",
};

/* ---- plans ---- */

static plan_step_t *add_step(plan_spec_t *p, enum spec_step_kind kind, const char *name)
{
    plan_step_t *s = &p->steps[p->step_count++];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    snprintf(s->name, sizeof(s->name), "%s", name);
    return s;
}

/* probe (always), and snapshot when asked: plan_freeze's first steps. */
static void begin(plan_spec_t *p, bool snapshot)
{
    snprintf(p->object_id, sizeof(p->object_id), "0123456789abcdef0123456789abcdef");
    snprintf(p->file_key, sizeof(p->file_key), VIDEO_DIR "/a.mp4");
    add_step(p, SPEC_STEP_PROBE, "");
    if (snapshot)
        add_step(p, SPEC_STEP_SNAPSHOT, "");
}

static spec_template_t *add_template(plan_spec_t *p, const char *name, enum spec_container container)
{
    spec_template_t *t = &add_step(p, SPEC_STEP_TRANSCODE, name)->u.template_spec;
    spec_template_init(t, container);
    return t;
}

static void add_rendition(spec_template_t *t, int width, int height, int kbps)
{
    t->renditions[t->rendition_count++] = (spec_rendition_t){width, height, kbps};
}

static void add_watermark(plan_spec_t *p, enum spec_position position, int x, int y, double opacity)
{
    spec_watermark_t *w = &add_step(p, SPEC_STEP_WATERMARK, "logo")->u.watermark;
    spec_watermark_init(w);
    snprintf(w->image, sizeof(w->image), "resources/1/watermarks/logo.png");
    w->position = position;
    w->offset_x = x;
    w->offset_y = y;
    w->opacity = opacity;
}

static void add_subtitle(plan_spec_t *p, enum spec_subtitle_mode mode)
{
    spec_subtitle_t *s = &add_step(p, SPEC_STEP_SUBTITLE, "sub0123")->u.subtitle;
    spec_subtitle_init(s);
    snprintf(s->file, sizeof(s->file), "resources/1/subtitles/en.srt");
    snprintf(s->language, sizeof(s->language), "en");
    s->mode = mode;
}

static void plan_one_mp4(plan_spec_t *p)
{
    begin(p, true);
    add_rendition(add_template(p, "sd", SPEC_CONTAINER_MP4), 1280, 720, 2500);
}

static void plan_hls_ladder(plan_spec_t *p)
{
    begin(p, false);
    spec_template_t *t = add_template(p, "hd", SPEC_CONTAINER_HLS);
    add_rendition(t, 1920, 1080, 0);
    add_rendition(t, 1280, 720, 0);
    add_rendition(t, 640, 360, 0);
}

static void plan_hls_watermark_burn(plan_spec_t *p)
{
    begin(p, true);
    spec_template_t *t = add_template(p, "hd", SPEC_CONTAINER_HLS);
    add_rendition(t, 1280, 720, 0);
    add_rendition(t, 640, 360, 0);
    add_watermark(p, SPEC_POSITION_TOP_RIGHT, 16, 16, 0.5);
    add_subtitle(p, SPEC_SUBTITLE_BURN);
}

static void plan_hls_soft(plan_spec_t *p)
{
    begin(p, false);
    add_rendition(add_template(p, "hd", SPEC_CONTAINER_HLS), 1280, 720, 0);
    add_subtitle(p, SPEC_SUBTITLE_SOFT);
}

static void plan_mp4_and_hls(plan_spec_t *p)
{
    begin(p, false);
    add_rendition(add_template(p, "sd", SPEC_CONTAINER_MP4), 1280, 720, 2500);
    add_rendition(add_template(p, "hd", SPEC_CONTAINER_HLS), 640, 360, 0);
}

static void plan_watermark_and_copy(plan_spec_t *p)
{
    begin(p, true);
    spec_template_t *t = add_template(p, "copy", SPEC_CONTAINER_MP4);
    t->video_codec = SPEC_VIDEO_COPY;
    add_rendition(t, 0, 0, 0);
    add_watermark(p, SPEC_POSITION_TOP_LEFT, 0, 0, 1);
}

static void plan_burn_and_copy(plan_spec_t *p)
{
    begin(p, true);
    add_rendition(add_template(p, "sd", SPEC_CONTAINER_MP4), 640, 360, 0);
    spec_template_t *t = add_template(p, "copy", SPEC_CONTAINER_MKV);
    t->video_codec = SPEC_VIDEO_COPY;
    add_rendition(t, 0, 0, 0);
    add_subtitle(p, SPEC_SUBTITLE_BURN);
}

static void plan_copy_and_soft(plan_spec_t *p)
{
    begin(p, false);
    spec_template_t *t = add_template(p, "orig", SPEC_CONTAINER_MP4);
    t->video_codec = SPEC_VIDEO_COPY;
    t->audio_codec = SPEC_AUDIO_COPY;
    add_rendition(t, 0, 0, 0);
    add_subtitle(p, SPEC_SUBTITLE_SOFT);
}

static void plan_default_watermark(plan_spec_t *p)
{
    begin(p, true);
    plan_default_template(&add_step(p, SPEC_STEP_TRANSCODE, PLAN_DEFAULT_TEMPLATE)->u.template_spec);
    add_watermark(p, SPEC_POSITION_TOP_LEFT, 10, 20, 1);
}

static void plan_codecs(plan_spec_t *p)
{
    begin(p, false);
    add_rendition(add_template(p, "web", SPEC_CONTAINER_WEBM), 640, 360, 0);
    spec_template_t *t = add_template(p, "arch", SPEC_CONTAINER_MKV);
    t->video_codec = SPEC_VIDEO_AV1;
    t->audio_codec = SPEC_AUDIO_MP3;
    t->audio_bitrate = 192;
    add_rendition(t, 640, 360, 0);
    t = add_template(p, "hevc", SPEC_CONTAINER_MP4);
    t->video_codec = SPEC_VIDEO_H265;
    add_rendition(t, 640, 360, 0);
}

static void plan_snapshot_only(plan_spec_t *p)
{
    begin(p, true);
}

static plan_step_t *add_frame(plan_spec_t *p, const char *key, int64_t at_ms, int width, int height)
{
    plan_step_t *s = add_step(p, SPEC_STEP_SNAPSHOT, "");
    snprintf(s->key, sizeof(s->key), "%s", key);
    s->at_ms = at_ms;
    s->width = width;
    s->height = height;
    return s;
}

/* What a fops makes of "avthumb/mp4/s/640x360|saveas/..;avthumb/m3u8/segtime/2/s/640x360|saveas/..;
 * vframe/jpg/offset/1.5/w/320|saveas/..;vframe/jpg/offset/0" (fops_plan.c), after the cover. */
static void plan_fops_keyed(plan_spec_t *p)
{
    begin(p, true);
    spec_template_t *t = add_template(p, "fops1", SPEC_CONTAINER_MP4);
    add_rendition(t, 640, 360, 0);
    snprintf(p->steps[p->step_count - 1].key, PLAN_FILE_KEY_MAX, "out/small.mp4");
    t = add_template(p, "fops2", SPEC_CONTAINER_HLS);
    add_rendition(t, 640, 360, 0);
    snprintf(p->steps[p->step_count - 1].key, PLAN_FILE_KEY_MAX, "hls/main.m3u8");
    p->steps[p->step_count - 1].segment_seconds = 2;
    add_frame(p, "thumbs/a.jpg", 1500, 320, 0);
    add_frame(p, "fops4.jpg", 0, 0, 0);
}

static void plan_frame_past_the_end(plan_spec_t *p)
{
    begin(p, false);
    add_frame(p, "late.jpg", 10000, 0, 0);
}

/* The cover is skipped on a source without picture; a frame fails. */
static void plan_cover_and_frame(plan_spec_t *p)
{
    begin(p, true);
    add_frame(p, "thumbs/a.jpg", 1000, 0, 0);
}

static void plan_frame_in_a_box(plan_spec_t *p)
{
    begin(p, false);
    add_frame(p, "box.jpg", 2000, 100, 100); /* 1080x1920 into 100x100: 56x100, the box not turned */
}

static void plan_frame_boxes(plan_spec_t *p)
{
    begin(p, false);
    add_frame(p, "w.jpg", 2500, 320, 0);
    add_frame(p, "h.jpg", 0, 0, 90);
    add_frame(p, "wh.jpg", 9999, 200, 200);
    add_frame(p, "none.jpg", 5000, 0, 0);
    add_frame(p, "big.jpg", 1000, 3840, 2160); /* never upscaled */
    add_frame(p, "at-cover.jpg", PLAN_FRAME_AT_COVER, 0, 0);
}

static void plan_frame_at_cover(plan_spec_t *p)
{
    begin(p, false);
    add_frame(p, "t.jpg", PLAN_FRAME_AT_COVER, 0, 0);
}

static plan_step_t *add_keyed(plan_spec_t *p, const char *name, enum spec_container container, const char *key)
{
    spec_template_init(&add_step(p, SPEC_STEP_TRANSCODE, name)->u.template_spec, container);
    plan_step_t *s = &p->steps[p->step_count - 1];
    snprintf(s->key, sizeof(s->key), "%s", key);
    return s;
}

/* Keys of any depth; a file's key needs no extension (the template's
 * container is what ffmpeg writes). */
static void plan_keyed_files(plan_spec_t *p)
{
    begin(p, false);
    add_rendition(&add_keyed(p, "fops1", SPEC_CONTAINER_MP4, "a/b/c/clip.mp4")->u.template_spec, 640, 360, 0);
    add_rendition(&add_keyed(p, "fops2", SPEC_CONTAINER_MP4, "clip-small")->u.template_spec, 320, 180, 0);
}

static void plan_keyed_hls_top(plan_spec_t *p)
{
    begin(p, false);
    plan_step_t *s = add_keyed(p, "fops1", SPEC_CONTAINER_HLS, "play.m3u8");
    add_rendition(&s->u.template_spec, 1280, 720, 0);
    s->segment_seconds = 10;
}

/* In vodup's own template directory: the variant directory is shared, the
 * names are not (index.m3u8 and seg_*, main.m3u8 and main_*). */
static void plan_keyed_hls_beside_template(plan_spec_t *p)
{
    begin(p, false);
    add_rendition(add_template(p, "hd", SPEC_CONTAINER_HLS), 640, 360, 0);
    plan_step_t *s = add_keyed(p, "fops1", SPEC_CONTAINER_HLS, "hd/main.m3u8");
    add_rendition(&s->u.template_spec, 1280, 720, 0);
    add_rendition(&s->u.template_spec, 640, 360, 0);
    s->segment_seconds = 4;
}

/* ---- keyed outputs that would meet another output ---- */

static void plan_clash_rendition(plan_spec_t *p)
{
    begin(p, false);
    add_rendition(add_template(p, "sd", SPEC_CONTAINER_MP4), 640, 360, 0);
    add_rendition(&add_keyed(p, "fops1", SPEC_CONTAINER_MP4, "sd/640x360.mp4")->u.template_spec, 640, 360, 0);
}

static void plan_clash_segments(plan_spec_t *p)
{
    begin(p, false);
    add_rendition(add_template(p, "hd", SPEC_CONTAINER_HLS), 640, 360, 0);
    add_rendition(&add_keyed(p, "fops1", SPEC_CONTAINER_HLS, "hd/seg.m3u8")->u.template_spec, 640, 360, 0);
}

static void plan_clash_segment_file(plan_spec_t *p)
{
    begin(p, false);
    add_rendition(&add_keyed(p, "fops1", SPEC_CONTAINER_HLS, "hls/main.m3u8")->u.template_spec, 640, 360, 0);
    add_rendition(&add_keyed(p, "fops2", SPEC_CONTAINER_MP4, "hls/640x360/main_00000.ts")->u.template_spec, 640,
                  360, 0);
}

static void plan_clash_variant_dir(plan_spec_t *p)
{
    begin(p, false);
    add_rendition(&add_keyed(p, "fops1", SPEC_CONTAINER_HLS, "hls/main.m3u8")->u.template_spec, 640, 360, 0);
    add_rendition(&add_keyed(p, "fops2", SPEC_CONTAINER_MP4, "hls/640x360")->u.template_spec, 640, 360, 0);
}

static void plan_clash_variant_playlist(plan_spec_t *p)
{
    begin(p, false);
    add_rendition(&add_keyed(p, "fops1", SPEC_CONTAINER_HLS, "a/x.m3u8")->u.template_spec, 640, 360, 0);
    add_rendition(&add_keyed(p, "fops2", SPEC_CONTAINER_HLS, "a/640x360/x.m3u8")->u.template_spec, 320, 180, 0);
}

/* ---- the table ---- */

typedef struct want_output {
    enum plan_output_kind kind;
    const char *key; /* under VIDEO_DIR; NULL ends the list */
    int width, height;
    const char *template_name;
    const char *language;
    bool soft_subtitle;
    const char *variants; /* HLS: "WxH WxH ..." */
    const char *codecs;   /* file and HLS: ffprobe's names */
} want_output_t;

typedef struct plan_case {
    const char *name;
    void (*build)(plan_spec_t *p);
    const probe_result_t *probe;
    const char *const *runs[PLAN_RUNS_MAX + 1]; /* NULL after the last */
    want_output_t outputs[PLAN_RUNS_MAX];
    const char *error; /* refused: the whole message */
} plan_case_t;

#define RUN(...) ((const char *const[]){__VA_ARGS__})
#define COVER_OUT(w, h) {.kind = PLAN_OUTPUT_COVER, .key = "cover.jpg", .width = (w), .height = (h)}
#define FILE_OUT(template, key_, w, h, codecs_)                                                                   \
    {.kind = PLAN_OUTPUT_FILE, .key = (key_), .width = (w), .height = (h), .template_name = (template),           \
     .codecs = (codecs_)}
#define HLS_OUT(template, w, h, sizes, codecs_)                                                                   \
    {.kind = PLAN_OUTPUT_HLS, .key = template "/index.m3u8", .width = (w), .height = (h),                         \
     .template_name = (template), .variants = (sizes), .codecs = (codecs_)}
#define VTT_OUT(lang) {.kind = PLAN_OUTPUT_VTT, .key = "subtitles/" lang ".vtt", .language = (lang)}
#define FRAME_OUT(key_, w, h) {.kind = PLAN_OUTPUT_FRAME, .key = (key_), .width = (w), .height = (h)}
#define FRAME(at, scale, key)                                                                                     \
    COMMON, "-ss", at, SOURCE, "-map", "0:V:0", "-frames:v", "1", "-vf", scale, "-c:v", "mjpeg", "-q:v", "2",     \
        "-f", "image2", "-update", "1", OUT(key), NULL
/* A keyed HLS output: master <dir>/<stem>.m3u8, variants and segments named after it. */
#define KEYED_HLS(dir, stem, seconds, variants)                                                                   \
    "-f", "hls", "-hls_time", seconds, "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts",               \
        "-hls_segment_filename", WORK "/" VIDEO_DIR dir "/%v/" stem "_%05d.ts", "-master_pl_name", stem ".m3u8",  \
        "-var_stream_map", variants, WORK "/" VIDEO_DIR dir "/%v/" stem ".m3u8"
#define KEYED_HLS_OUT(template, key_, w, h, sizes)                                                                \
    {.kind = PLAN_OUTPUT_HLS, .key = (key_), .width = (w), .height = (h), .template_name = (template),             \
     .variants = (sizes), .codecs = "h264,aac"}
#define CLASH(a, b) "plan: " VIDEO_DIR "/" a " and " VIDEO_DIR "/" b " are one file, or one is the other's directory"

/* Long arguments (filter graphs) are written as adjacent literals. */
/* NOLINTBEGIN(bugprone-suspicious-missing-comma) */

static const plan_case_t cases[] = {
    {
        .name = "one mp4 rendition, and the cover",
        .build = plan_one_mp4,
        .probe = &landscape,
        .runs = {RUN(COVER("1.000")),
                 RUN(COMMON, SOURCE, "-filter_complex", "[0:V:0]split=1[s0];[s0]scale=1280:720,setsar=1[v0]", "-map",
                     "[v0]", AUDIO, H264, RATE("0", "2500", "3750", "5000"), AAC, MP4, OUT("sd/1280x720.mp4"), NULL)},
        .outputs = {COVER_OUT(1920, 1080),
                    FILE_OUT("sd", "sd/1280x720.mp4", 1280, 720, "h264,aac")},
    },
    {
        .name = "a 3-rung HLS ladder: one output, default bitrates, no snapshot step",
        .build = plan_hls_ladder,
        .probe = &landscape,
        .runs = {RUN(COMMON, SOURCE, "-filter_complex",
                     "[0:V:0]split=3[s0][s1][s2];[s0]scale=1920:1080,setsar=1[v0];[s1]scale=1280:720,setsar=1[v1];"
                     "[s2]scale=640:360,setsar=1[v2]",
                     "-map", "[v0]", AUDIO, "-map", "[v1]", AUDIO, "-map", "[v2]", AUDIO, H264,
                     RATE("0", "5000", "7500", "10000"), RATE("1", "2500", "3750", "5000"),
                     RATE("2", "800", "1200", "1600"), AAC,
                     HLS("hd", "v:0,a:0,name:1920x1080 v:1,a:1,name:1280x720 v:2,a:2,name:640x360"), NULL)},
        .outputs = {HLS_OUT("hd", 1920, 1080, "1920x1080 1280x720 640x360", "h264,aac")},
    },
    {
        .name = "HLS with a watermark and a burned subtitle (the cover has neither)",
        .build = plan_hls_watermark_burn,
        .probe = &landscape,
        .runs = {RUN(COVER("1.000")),
                 RUN(COMMON, SOURCE, WATERMARK_INPUT, "-filter_complex",
                     "[0:V:0]subtitles=filename=file\\\\:" DATA "/resources/1/subtitles/en.srt:force_style=FontName="
                     "DejaVu Sans,split=2[s0][s1];"
                     "[1:v:0]format=rgba,colorchannelmixer=aa=0.5,split=2[w0][w1];"
                     "[s0]scale=1280:720,setsar=1[t0];[t0][w0]overlay=x=main_w-overlay_w-16:y=16[v0];"
                     "[s1]scale=640:360,setsar=1[t1];[t1][w1]overlay=x=main_w-overlay_w-16:y=16[v1]",
                     "-map", "[v0]", AUDIO, "-map", "[v1]", AUDIO, H264, RATE("0", "2500", "3750", "5000"),
                     RATE("1", "800", "1200", "1600"), AAC,
                     HLS("hd", "v:0,a:0,name:1280x720 v:1,a:1,name:640x360"), NULL)},
        .outputs = {COVER_OUT(1920, 1080),
                    HLS_OUT("hd", 1280, 720, "1280x720 640x360", "h264,aac")},
    },
    {
        .name = "a soft subtitle: a WebVTT sidecar from the same run, and the HLS subtitle group",
        .build = plan_hls_soft,
        .probe = &landscape,
        .runs = {RUN(COMMON, SOURCE, SUBTITLE_INPUT, "-filter_complex",
                     "[0:V:0]split=1[s0];[s0]scale=1280:720,setsar=1[v0]", "-map", "[v0]", AUDIO, H264,
                     RATE("0", "2500", "3750", "5000"), AAC, HLS("hd", "v:0,a:0,name:1280x720"), VTT, NULL)},
        .outputs = {{.kind = PLAN_OUTPUT_HLS, .key = "hd/index.m3u8", .width = 1280, .height = 720,
                     .template_name = "hd", .language = "en", .soft_subtitle = true, .variants = "1280x720",
                     .codecs = "h264,aac"},
                    VTT_OUT("en")},
    },
    {
        .name = "a video-only source: no audio map, two templates in one run",
        .build = plan_mp4_and_hls,
        .probe = &silent,
        .runs = {RUN(COMMON, SOURCE, "-filter_complex",
                     "[0:V:0]split=2[s0][s1];[s0]scale=1280:720,setsar=1[v0];[s1]scale=640:360,setsar=1[v1]", "-map",
                     "[v0]", H264, RATE("0", "2500", "3750", "5000"), MP4, OUT("sd/1280x720.mp4"), "-map", "[v1]",
                     H264, RATE("0", "800", "1200", "1600"), HLS("hd", "v:0,name:640x360"), NULL)},
        .outputs = {FILE_OUT("sd", "sd/1280x720.mp4", 1280, 720, "h264"),
                    HLS_OUT("hd", 640, 360, "640x360", "h264")},
    },
    {
        .name = "a rotated source: portrait cover and rendition",
        .build = plan_one_mp4,
        .probe = &rotated,
        .runs = {RUN(COVER("1.000")),
                 RUN(COMMON, SOURCE, "-filter_complex", "[0:V:0]split=1[s0];[s0]scale=720:1280,setsar=1[v0]", "-map",
                     "[v0]", AUDIO, H264, RATE("0", "2500", "3750", "5000"), AAC, MP4, OUT("sd/720x1280.mp4"), NULL)},
        .outputs = {COVER_OUT(1080, 1920),
                    FILE_OUT("sd", "sd/720x1280.mp4", 720, 1280, "h264,aac")},
    },
    {
        .name = "an audio-only source: no cover, no renditions, nothing to run",
        .build = plan_hls_watermark_burn,
        .probe = &audio_only,
    },
    {
        .name = "a copy template under a watermark is refused",
        .build = plan_watermark_and_copy,
        .probe = &landscape,
        .error = "transcode: template \"copy\" copies the video, so it cannot carry a watermark",
    },
    {
        .name = "a copy template under a burned subtitle is refused, even beside another template",
        .build = plan_burn_and_copy,
        .probe = &landscape,
        .error = "transcode: template \"copy\" copies the video, so it cannot carry a burned subtitle",
    },
    {
        .name = "a copy template: the source's streams as they are; a soft subtitle beside it",
        .build = plan_copy_and_soft,
        .probe = &landscape,
        .runs = {RUN(COMMON, SOURCE, SUBTITLE_INPUT, "-map", "0:V:0", AUDIO, "-c:v", "copy", "-c:a", "copy", MP4,
                     OUT("orig/1920x1080.mp4"), VTT, NULL)},
        .outputs = {FILE_OUT("orig", "orig/1920x1080.mp4", 1920, 1080, "h264,aac"),
                    VTT_OUT("en")},
    },
    {
        .name = "the default rendition carries a watermark: source size, evened (641x359 -> 640x358)",
        .build = plan_default_watermark,
        .probe = &odd,
        .runs = {RUN(COVER("1.000")),
                 RUN(COMMON, SOURCE, WATERMARK_INPUT, "-filter_complex",
                     "[0:V:0]split=1[s0];[1:v:0]format=rgba,colorchannelmixer=aa=1,split=1[w0];"
                     "[s0]scale=640:358,setsar=1[t0];[t0][w0]overlay=x=10:y=20[v0]",
                     "-map", "[v0]", AUDIO, H264, RATE("0", "793", "1189", "1586"), AAC, MP4,
                     OUT(PLAN_DEFAULT_TEMPLATE "/640x358.mp4"), NULL)},
        .outputs = {COVER_OUT(640, 358),
                    FILE_OUT(PLAN_DEFAULT_TEMPLATE, PLAN_DEFAULT_TEMPLATE "/640x358.mp4", 640, 358, "h264,aac")},
    },
    {
        .name = "every encoder's settings: webm vp9/opus, mkv av1/mp3, mp4 h265 (hvc1)",
        .build = plan_codecs,
        .probe = &landscape,
        .runs = {RUN(COMMON, SOURCE, "-filter_complex",
                     "[0:V:0]split=3[s0][s1][s2];[s0]scale=640:360,setsar=1[v0];[s1]scale=640:360,setsar=1[v1];"
                     "[s2]scale=640:360,setsar=1[v2]",
                     "-map", "[v0]", AUDIO, "-c:v", "libvpx-vp9", "-deadline:v", "realtime", "-cpu-used:v", "8",
                     "-row-mt:v", "1", KEYFRAMES, RATE("0", "800", "1200", "1600"), "-c:a", "libopus", "-b:a", "96k",
                     "-f", "webm", OUT("web/640x360.webm"),
                     "-map", "[v1]", AUDIO, "-c:v", "libsvtav1", "-preset:v", "10", "-g:v", "50", KEYFRAMES,
                     RATE("0", "800", "1200", "1600"), "-c:a", "libmp3lame", "-b:a", "192k", "-f", "matroska",
                     OUT("arch/640x360.mkv"),
                     "-map", "[v2]", AUDIO, "-c:v", "libx265", "-preset:v", "veryfast", "-x265-params:v",
                     "log-level=error", "-tag:v", "hvc1", KEYFRAMES, RATE("0", "800", "1200", "1600"), AAC, MP4,
                     OUT("hevc/640x360.mp4"), NULL)},
        .outputs = {FILE_OUT("web", "web/640x360.webm", 640, 360, "vp9,opus"),
                    FILE_OUT("arch", "arch/640x360.mkv", 640, 360, "av1,mp3"),
                    FILE_OUT("hevc", "hevc/640x360.mp4", 640, 360, "hevc,aac")},
    },
    {
        .name = "a ladder above a small source collapses to one variant (nothing upscaled)",
        .build = plan_hls_ladder,
        .probe = &small,
        .runs = {RUN(COMMON, SOURCE, "-filter_complex", "[0:V:0]split=1[s0];[s0]scale=640:360,setsar=1[v0]", "-map",
                     "[v0]", AUDIO, H264, RATE("0", "800", "1200", "1600"), AAC,
                     HLS("hd", "v:0,a:0,name:640x360"), NULL)},
        .outputs = {HLS_OUT("hd", 640, 360, "640x360", "h264,aac")},
    },
    {
        .name = "a source shorter than 2 s: the cover is its middle frame",
        .build = plan_snapshot_only,
        .probe = &short_clip,
        .runs = {RUN(COVER("0.750"))},
        .outputs = {COVER_OUT(1920, 1080)},
    },
    {
        .name = "a fops: keyed mp4 and HLS (segtime 2), two frames, and the cover",
        .build = plan_fops_keyed,
        .probe = &landscape,
        .runs = {RUN(COVER("1.000")), RUN(FRAME("1.500", "scale=320:180,setsar=1", "thumbs/a.jpg")),
                 RUN(FRAME("0.000", "scale=1920:1080,setsar=1", "fops4.jpg")),
                 RUN(COMMON, SOURCE, "-filter_complex",
                     "[0:V:0]split=2[s0][s1];[s0]scale=640:360,setsar=1[v0];[s1]scale=640:360,setsar=1[v1]", "-map",
                     "[v0]", AUDIO, H264, RATE("0", "800", "1200", "1600"), AAC, MP4, OUT("out/small.mp4"), "-map",
                     "[v1]", AUDIO, H264, RATE("0", "800", "1200", "1600"), AAC, "-f", "hls", "-hls_time", "2",
                     "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts", "-hls_segment_filename",
                     WORK "/" VIDEO_DIR "/hls/%v/main_%05d.ts", "-master_pl_name", "main.m3u8", "-var_stream_map",
                     "v:0,a:0,name:640x360", WORK "/" VIDEO_DIR "/hls/%v/main.m3u8", NULL)},
        .outputs = {COVER_OUT(1920, 1080), FRAME_OUT("thumbs/a.jpg", 320, 180), FRAME_OUT("fops4.jpg", 1920, 1080),
                    FILE_OUT("fops1", "out/small.mp4", 640, 360, "h264,aac"),
                    {.kind = PLAN_OUTPUT_HLS, .key = "hls/main.m3u8", .width = 640, .height = 360,
                     .template_name = "fops2", .variants = "640x360", .codecs = "h264,aac"}},
    },
    {
        .name = "a frame fits its box as given (w bounds the width), never turned",
        .build = plan_frame_in_a_box,
        .probe = &rotated,
        .runs = {RUN(FRAME("2.000", "scale=56:100,setsar=1", "box.jpg"))},
        .outputs = {FRAME_OUT("box.jpg", 56, 100)},
    },
    {
        .name = "a frame past the source's end is refused",
        .build = plan_frame_past_the_end,
        .probe = &landscape,
        .error = "snapshot: offset 10.000 s is past the source's end (10.000 s)",
    },
    {
        .name = "a frame of a source without picture is refused",
        .build = plan_frame_past_the_end,
        .probe = &audio_only,
        .error = "snapshot: the source has no picture for the frame late.jpg",
    },
    {
        .name = "without picture, the cover is skipped but a frame asked for by name is refused",
        .build = plan_cover_and_frame,
        .probe = &audio_only,
        .error = "snapshot: the source has no picture for the frame thumbs/a.jpg",
    },
    {
        .name = "keyed files: one rendition each at <dir>/<key>, any depth, any name",
        .build = plan_keyed_files,
        .probe = &landscape,
        .runs = {RUN(COMMON, SOURCE, "-filter_complex",
                     "[0:V:0]split=2[s0][s1];[s0]scale=640:360,setsar=1[v0];[s1]scale=320:180,setsar=1[v1]", "-map",
                     "[v0]", AUDIO, H264, RATE("0", "800", "1200", "1600"), AAC, MP4, OUT("a/b/c/clip.mp4"),
                     "-map", "[v1]", AUDIO, H264, RATE("0", "300", "450", "600"), AAC, MP4, OUT("clip-small"), NULL)},
        .outputs = {FILE_OUT("fops1", "a/b/c/clip.mp4", 640, 360, "h264,aac"),
                    FILE_OUT("fops2", "clip-small", 320, 180, "h264,aac")},
    },
    {
        .name = "a keyed HLS output in the video's directory: 10 s segments, variants in <W>x<H>/",
        .build = plan_keyed_hls_top,
        .probe = &landscape,
        .runs = {RUN(COMMON, SOURCE, "-filter_complex", "[0:V:0]split=1[s0];[s0]scale=1280:720,setsar=1[v0]", "-map",
                     "[v0]", AUDIO, H264, RATE("0", "2500", "3750", "5000"), AAC,
                     KEYED_HLS("", "play", "10", "v:0,a:0,name:1280x720"), NULL)},
        .outputs = {KEYED_HLS_OUT("fops1", "play.m3u8", 1280, 720, "1280x720")},
    },
    {
        .name = "a keyed HLS ladder in a template's directory: 4 s segments, its own names beside the template's",
        .build = plan_keyed_hls_beside_template,
        .probe = &landscape,
        .runs = {RUN(COMMON, SOURCE, "-filter_complex",
                     "[0:V:0]split=3[s0][s1][s2];[s0]scale=640:360,setsar=1[v0];[s1]scale=1280:720,setsar=1[v1];"
                     "[s2]scale=640:360,setsar=1[v2]",
                     "-map", "[v0]", AUDIO, H264, RATE("0", "800", "1200", "1600"), AAC,
                     HLS("hd", "v:0,a:0,name:640x360"), "-map", "[v1]", AUDIO, "-map", "[v2]", AUDIO, H264,
                     RATE("0", "2500", "3750", "5000"), RATE("1", "800", "1200", "1600"), AAC,
                     KEYED_HLS("/hd", "main", "4", "v:0,a:0,name:1280x720 v:1,a:1,name:640x360"), NULL)},
        .outputs = {HLS_OUT("hd", 640, 360, "640x360", "h264,aac"),
                    KEYED_HLS_OUT("fops1", "hd/main.m3u8", 1280, 720, "1280x720 640x360")},
    },
    {
        .name = "frames in boxes: w only, h only, both, none, above the source, and at the cover's time",
        .build = plan_frame_boxes,
        .probe = &landscape,
        .runs = {RUN(FRAME("2.500", "scale=320:180,setsar=1", "w.jpg")),
                 RUN(FRAME("0.000", "scale=160:90,setsar=1", "h.jpg")),
                 RUN(FRAME("9.999", "scale=200:112,setsar=1", "wh.jpg")),
                 RUN(FRAME("5.000", "scale=1920:1080,setsar=1", "none.jpg")),
                 RUN(FRAME("1.000", "scale=1920:1080,setsar=1", "big.jpg")),
                 RUN(FRAME("1.000", "scale=1920:1080,setsar=1", "at-cover.jpg"))},
        .outputs = {FRAME_OUT("w.jpg", 320, 180), FRAME_OUT("h.jpg", 160, 90), FRAME_OUT("wh.jpg", 200, 112),
                    FRAME_OUT("none.jpg", 1920, 1080), FRAME_OUT("big.jpg", 1920, 1080),
                    FRAME_OUT("at-cover.jpg", 1920, 1080)},
    },
    {
        .name = "a frame at the cover's time of a short source is its middle",
        .build = plan_frame_at_cover,
        .probe = &short_clip,
        .runs = {RUN(FRAME("0.750", "scale=1920:1080,setsar=1", "t.jpg"))},
        .outputs = {FRAME_OUT("t.jpg", 1920, 1080)},
    },
    {
        .name = "a frame of an odd source has even sides (641x359 -> 640x358)",
        .build = plan_frame_at_cover,
        .probe = &odd,
        .runs = {RUN(FRAME("1.000", "scale=640:358,setsar=1", "t.jpg"))},
        .outputs = {FRAME_OUT("t.jpg", 640, 358)},
    },
    {
        .name = "a keyed file on a template's rendition is refused",
        .build = plan_clash_rendition,
        .probe = &landscape,
        .error = CLASH("sd/640x360.mp4", "sd/640x360.mp4"),
    },
    {
        .name = "a keyed HLS output that would write a template's segments is refused",
        .build = plan_clash_segments,
        .probe = &landscape,
        .error = "plan: two HLS outputs would write the segments " VIDEO_DIR "/hd/640x360/seg_NNNNN.ts",
    },
    {
        .name = "a keyed file named like an HLS output's segment is refused",
        .build = plan_clash_segment_file,
        .probe = &landscape,
        .error = "plan: " VIDEO_DIR "/hls/640x360/main_00000.ts would be an HLS segment",
    },
    {
        .name = "a keyed file where an HLS output needs its variant directory is refused",
        .build = plan_clash_variant_dir,
        .probe = &landscape,
        .error = CLASH("hls/640x360/main.m3u8", "hls/640x360"),
    },
    {
        .name = "a keyed HLS master on another's variant playlist is refused",
        .build = plan_clash_variant_playlist,
        .probe = &landscape,
        .error = CLASH("a/640x360/x.m3u8", "a/640x360/x.m3u8"),
    },
};
/* NOLINTEND(bugprone-suspicious-missing-comma) */

/* ---- running a case ---- */

static plan_spec_t *build_spec(const plan_case_t *c)
{
    plan_spec_t *spec = calloc(1, sizeof(*spec));
    char err[PLAN_ERROR_MAX];
    assert_non_null(spec);
    c->build(spec);
    if (!plan_spec_check(spec, err, sizeof(err))) /* the planner is given checked plans */
        fail_msg("%s: the test's plan is not valid: %s", c->name, err);
    return spec;
}

static plan_input_t input_for(const plan_spec_t *spec, const probe_result_t *probe)
{
    return (plan_input_t){.spec = spec, .probe = probe, .ffmpeg = FFMPEG, .source = SOURCE_PATH,
                          .work_dir = WORK, .data_dir = DATA, .max_pixels = MAX_PIXELS};
}

static void print_argv(const char *label, const char *const *argv)
{
    print_message("  %s:", label);
    for (size_t i = 0; argv[i]; i++)
        print_message(" [%s]", argv[i]);
    print_message("\n");
}

static void assert_run(const char *name, size_t index, const plan_run_t *run, const char *const *want)
{
    size_t n = 0;
    while (want[n])
        n++;
    const char *const *got = (const char *const *)run->argv;
    for (size_t i = 0; i <= n && i <= run->argc; i++) {
        bool same = (!got[i] && !want[i]) || (got[i] && want[i] && !strcmp(got[i], want[i]));
        if (!same) {
            print_argv("want", want);
            print_argv("got ", got);
            fail_msg("%s: run %zu, argument %zu: got [%s], want [%s]", name, index, i, got[i] ? got[i] : "(end)",
                     want[i] ? want[i] : "(end)");
        }
    }
    assert_int_equal(run->argc, n);
    /* The main run writes renditions; the cover's and the frames' runs, one JPEG each. */
    size_t last = strlen(want[n - 1]);
    assert_int_equal(run->transcode, last < 4 || strcmp(want[n - 1] + last - 4, ".jpg") != 0);
    assert_int_equal(run->cover, strstr(want[n - 1], "/cover.jpg") != NULL);
}

static void format_variants(const plan_output_t *o, char *out, size_t len)
{
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < o->variant_count && used < len; i++)
        used += (size_t)snprintf(out + used, len - used, "%s%dx%d", i ? " " : "", o->variants[i].width,
                                 o->variants[i].height);
}

static void assert_output(const char *name, const plan_output_t *got, const want_output_t *want)
{
    char key[PLAN_KEY_MAX], variants[256];
    snprintf(key, sizeof(key), VIDEO_DIR "/%s", want->key);
    format_variants(got, variants, sizeof(variants));
    const char *template_name = want->template_name ? want->template_name : "";
    const char *language = want->language ? want->language : "";
    if (got->kind != want->kind || strcmp(got->key, key) != 0 || got->width != want->width ||
        got->height != want->height || strcmp(got->template_name, template_name) != 0 ||
        strcmp(got->language, language) != 0 || got->soft_subtitle != want->soft_subtitle ||
        strcmp(variants, want->variants ? want->variants : "") != 0 ||
        strcmp(got->codecs, want->codecs ? want->codecs : "") != 0)
        fail_msg("%s: output %s: got kind %d %s %dx%d template '%s' language '%s' soft %d variants '%s' codecs '%s'",
                 name, want->key, got->kind, got->key, got->width, got->height, got->template_name, got->language,
                 got->soft_subtitle, variants, got->codecs);
}

static void run_case(const plan_case_t *c)
{
    plan_spec_t *spec = build_spec(c);
    plan_input_t in = input_for(spec, c->probe);
    plan_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX] = "";
    bool ok = plan_build(&in, p, err, sizeof(err));
    if (c->error) {
        if (ok || strcmp(err, c->error) != 0)
            fail_msg("%s: got %s, want the error: %s", c->name, ok ? "a plan" : err, c->error);
        assert_int_equal(p->run_count, 0); /* nothing of a refused plan is left */
        assert_int_equal(p->output_count, 0);
    } else if (!ok) {
        fail_msg("%s: refused: %s", c->name, err);
    }
    size_t runs = 0, outputs = 0;
    while (runs < PLAN_RUNS_MAX && c->runs[runs])
        runs++;
    while (outputs < sizeof(c->outputs) / sizeof(c->outputs[0]) && c->outputs[outputs].key)
        outputs++;
    assert_int_equal(p->run_count, runs);
    for (size_t i = 0; i < runs; i++)
        assert_run(c->name, i, &p->runs[i], c->runs[i]);
    assert_int_equal(p->output_count, outputs);
    for (size_t i = 0; i < outputs; i++)
        assert_output(c->name, &p->outputs[i], &c->outputs[i]);
    plan_free(p);
    plan_free(p); /* idempotent: the worker frees in every case */
    free(p);
    free(spec);
}

static void test_plans(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

/* ---- the main run is the transcode; no -max_pixels when unbounded ---- */

/* ---- the cover run a worker starts beside the probe ---- */

/* It is the plan's own cover run for a source of 2 s or more (the worker
 * then skips the plan's), built without the probe; the cover time is 1 s,
 * or the middle of a shorter source. */
static void test_cover_run_without_probe(void **state)
{
    (void)state;
    plan_spec_t *spec = build_spec(&cases[0]);
    plan_input_t in = input_for(spec, &landscape);
    plan_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX];
    assert_true(plan_build(&in, p, err, sizeof(err)));
    in.probe = NULL;
    plan_run_t early;
    assert_true(plan_cover_run(&in, plan_cover_time(landscape.duration), &early));
    assert_false(early.transcode);
    assert_int_equal(early.argc, p->runs[0].argc);
    for (size_t i = 0; i < early.argc; i++)
        assert_string_equal(early.argv[i], p->runs[0].argv[i]);
    assert_null(early.argv[early.argc]);
    plan_run_free(&early);
    plan_run_free(&early); /* idempotent */
    in.spec = NULL;
    assert_false(plan_cover_run(&in, 1.0, &early));
    assert_float_equal(plan_cover_time(10), 1.0, 1e-9);
    assert_float_equal(plan_cover_time(2), 1.0, 1e-9);
    assert_float_equal(plan_cover_time(1.5), 0.75, 1e-9);
    assert_float_equal(plan_cover_time(0), 1.0, 1e-9);
    plan_free(p);
    free(p);
    free(spec);
}

static void test_run_flags_and_unbounded_pixels(void **state)
{
    (void)state;
    plan_spec_t *spec = build_spec(&cases[0]);
    plan_input_t in = input_for(spec, &landscape);
    in.max_pixels = 0;
    plan_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX];
    assert_true(plan_build(&in, p, err, sizeof(err)));
    assert_int_equal(p->run_count, 2);
    assert_false(p->runs[0].transcode); /* the cover */
    assert_true(p->runs[1].transcode);  /* its progress is the task's */
    for (size_t r = 0; r < p->run_count; r++) {
        assert_null(p->runs[r].argv[p->runs[r].argc]);
        for (size_t i = 0; i < p->runs[r].argc; i++)
            assert_string_not_equal(p->runs[r].argv[i], "-max_pixels");
    }
    plan_free(p);
    free(p);
    free(spec);
}

/* ---- plans refused for where things are ---- */

static void assert_refused(plan_input_t in, const char *want)
{
    plan_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX] = "";
    assert_false(plan_build(&in, p, err, sizeof(err)));
    assert_string_equal(err, want);
    assert_int_equal(p->run_count, 0);
    plan_free(p);
    free(p);
}

static void test_refused_inputs(void **state)
{
    (void)state;
    plan_spec_t *spec = build_spec(&cases[1]); /* HLS */
    plan_input_t in = input_for(spec, &landscape);
    /* The hls muxer reads '%' in its paths as a pattern. */
    in.work_dir = "/var/lib/vod%dup/out";
    assert_refused(in, "transcode: the work directory's path has a '%', which the HLS muxer reads as a pattern");
    in = input_for(spec, &landscape);
    in.work_dir = "relative/out";
    assert_refused(in, "plan: the planner needs the plan, the probe and absolute paths");
    in = input_for(spec, &landscape);
    in.source = NULL;
    assert_refused(in, "plan: the planner needs the plan, the probe and absolute paths");
    /* A fileKey without a directory: output_key.h makes no key beside it. */
    snprintf(spec->file_key, sizeof(spec->file_key), "a.mp4");
    in = input_for(spec, &landscape);
    assert_refused(in, "transcode: template \"hd\": no output key for it");
    /* A plan built in code that breaks plan_spec.h's rules. */
    snprintf(spec->file_key, sizeof(spec->file_key), VIDEO_DIR "/a.mp4");
    snprintf(spec->steps[1].name, sizeof(spec->steps[1].name), "h/d");
    in = input_for(spec, &landscape);
    assert_refused(in, "plan: step 2 ('transcode') needs a name of 1..64 of A-Z a-z 0-9 . _ -");
    spec->steps[1].name[0] = 'h';
    spec->steps[1].name[1] = 'd';
    spec->steps[1].name[2] = '\0';
    spec->steps[1].u.template_spec.video_codec = (enum spec_video_codec)42;
    assert_refused(in, "transcode: template: unknown container or codec");
    free(spec);
}

/* ---- the bitrate ladder ---- */

static void test_default_bitrate(void **state)
{
    (void)state;
    static const struct {
        int width, height, kbps;
    } ladder[] = {
        {426, 240, 400},    {640, 360, 800},     {854, 480, 1200},   {1280, 720, 2500},  {1920, 1080, 5000},
        {2560, 1440, 8000}, {3840, 2160, 14000}, {7680, 4320, 14000},
        {720, 1280, 2500},  /* portrait: the short side */
        {960, 540, 1525},   /* between 480 (1200) and 720 (2500) */
        {640, 358, 793},    /* just under 360 */
        {160, 120, 200},    /* under 240: in proportion to it */
        {2, 2, 3},          {0, 0, 400},
    };
    for (size_t i = 0; i < sizeof(ladder) / sizeof(ladder[0]); i++)
        if (plan_default_bitrate(ladder[i].width, ladder[i].height) != ladder[i].kbps)
            fail_msg("%dx%d: got %d kbps, want %d", ladder[i].width, ladder[i].height,
                     plan_default_bitrate(ladder[i].width, ladder[i].height), ladder[i].kbps);
}

/* ---- filter-graph escaping ---- */

static void test_filter_escape(void **state)
{
    (void)state;
    static const struct {
        const char *in, *out;
    } table[] = {
        {"/data/resources/1/en.srt", "/data/resources/1/en.srt"},
        {"file:/data/en.srt", "file\\\\:/data/en.srt"},     /* : -> \: -> \\: */
        {"it's", "it\\\\\\'s"},                             /* ' -> \' -> \\\' */
        {"a\\b", "a\\\\\\\\b"},                             /* \ -> \\ -> \\\\ */
        {"[in],x;y", "\\[in\\]\\,x\\;y"},                   /* the graph's own */
        {"DejaVu Sans=1", "DejaVu Sans=1"},
        {"", ""},
    };
    char out[64];
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        assert_true(plan_filter_escape(table[i].in, out, sizeof(out)));
        assert_string_equal(out, table[i].out);
    }
    /* Too small: "a:b" escapes to 5 bytes and its NUL. */
    assert_false(plan_filter_escape("a:b", out, 5));
    assert_true(plan_filter_escape("a:b", out, 6));
    assert_false(plan_filter_escape("", out, 0));
}

/* ---- directories ---- */

static void test_dirs(void **state)
{
    (void)state;
    /* The cover, an HLS template's master and variants, the sidecar. */
    plan_spec_t *spec = calloc(1, sizeof(*spec));
    begin(spec, true);
    spec_template_t *t = add_template(spec, "hd", SPEC_CONTAINER_HLS);
    add_rendition(t, 1280, 720, 0);
    add_rendition(t, 640, 360, 0);
    add_rendition(add_template(spec, "sd", SPEC_CONTAINER_MP4), 640, 360, 0);
    add_rendition(add_template(spec, "sd2", SPEC_CONTAINER_MP4), 320, 180, 0);
    add_subtitle(spec, SPEC_SUBTITLE_SOFT);
    plan_input_t in = input_for(spec, &landscape);
    plan_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX];
    assert_true(plan_build(&in, p, err, sizeof(err)));
    char(*dirs)[PLAN_KEY_MAX] = calloc(PLAN_DIRS_MAX, sizeof(*dirs));
    static const char *const want[] = {VIDEO_DIR,          VIDEO_DIR "/hd", VIDEO_DIR "/hd/1280x720",
                                       VIDEO_DIR "/hd/640x360", VIDEO_DIR "/sd", VIDEO_DIR "/sd2",
                                       VIDEO_DIR "/subtitles"};
    size_t n = plan_dirs(p, dirs, PLAN_DIRS_MAX);
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; i++)
        assert_string_equal(dirs[i], want[i]); /* each once, parents first */
    /* Fewer places than directories: the first ones, and the whole count. */
    memset(dirs, 0, PLAN_DIRS_MAX * sizeof(*dirs));
    assert_int_equal(plan_dirs(p, dirs, 2), n);
    assert_true(dirs[0][0] && dirs[1][0] && !dirs[2][0]);
    assert_int_equal(plan_dirs(p, NULL, 0), n);
    plan_free(p);
    /* Nothing planned, nothing to make. */
    assert_int_equal(plan_dirs(p, dirs, PLAN_DIRS_MAX), 0);
    free(dirs);
    free(p);
    free(spec);
}

/* Keyed outputs' directories: their keys', and a keyed HLS's variants
 * beside its master. */
static void test_dirs_keyed(void **state)
{
    (void)state;
    plan_spec_t *spec = calloc(1, sizeof(*spec));
    begin(spec, false);
    add_frame(spec, "thumbs/a.jpg", 0, 0, 0);
    plan_step_t *s = add_keyed(spec, "fops1", SPEC_CONTAINER_HLS, "hls/main.m3u8");
    add_rendition(&s->u.template_spec, 1280, 720, 0);
    add_rendition(&s->u.template_spec, 640, 360, 0);
    add_rendition(&add_keyed(spec, "fops2", SPEC_CONTAINER_MP4, "clip.mp4")->u.template_spec, 640, 360, 0);
    plan_input_t in = input_for(spec, &landscape);
    plan_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX];
    if (!plan_build(&in, p, err, sizeof(err)))
        fail_msg("%s", err);
    char(*dirs)[PLAN_KEY_MAX] = calloc(PLAN_DIRS_MAX, sizeof(*dirs));
    static const char *const want[] = {VIDEO_DIR, VIDEO_DIR "/hls", VIDEO_DIR "/hls/1280x720",
                                       VIDEO_DIR "/hls/640x360", VIDEO_DIR "/thumbs"};
    size_t n = plan_dirs(p, dirs, PLAN_DIRS_MAX);
    assert_int_equal(n, sizeof(want) / sizeof(want[0]));
    for (size_t i = 0; i < n; i++)
        assert_string_equal(dirs[i], want[i]);
    plan_free(p);
    free(dirs);
    free(p);
    free(spec);
}

/* ---- the largest plans fit ---- */

static plan_t *build_or_fail(const plan_spec_t *spec)
{
    plan_input_t in = input_for(spec, &landscape);
    plan_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX];
    if (!plan_spec_check(spec, err, sizeof(err)) || !plan_build(&in, p, err, sizeof(err)))
        fail_msg("%s", err);
    return p;
}

/* A workflow's 32 templates of 8 renditions, and a fops' 8 keyed HLS
 * ladders of 8: every rendition is planned (none dropped at a limit). */
static void test_largest_transcode_plan(void **state)
{
    (void)state;
    static const int sizes[SPEC_RENDITIONS_MAX][2] = {{1920, 1080}, {1600, 900}, {1280, 720}, {960, 540},
                                                      {854, 480},   {640, 360},  {426, 240},  {320, 180}};
    plan_spec_t *spec = calloc(1, sizeof(*spec));
    char name[16], key[32];
    begin(spec, true);
    for (int i = 0; i < SPEC_WORKFLOW_STEPS_MAX + PLAN_KEYED_MAX; i++) {
        bool keyed = i >= SPEC_WORKFLOW_STEPS_MAX;
        snprintf(name, sizeof(name), keyed ? "fops%d" : "t%d", keyed ? i - SPEC_WORKFLOW_STEPS_MAX + 1 : i);
        snprintf(key, sizeof(key), "k%d/main.m3u8", i);
        spec_template_t *t = keyed ? &add_keyed(spec, name, SPEC_CONTAINER_HLS, key)->u.template_spec
                                   : add_template(spec, name, SPEC_CONTAINER_MP4);
        for (int r = 0; r < SPEC_RENDITIONS_MAX; r++)
            add_rendition(t, sizes[r][0], sizes[r][1], 0);
    }
    assert_int_equal(spec->step_count, PLAN_STEPS_MAX);
    plan_t *p = build_or_fail(spec);
    assert_int_equal(p->run_count, 2);
    assert_int_equal(p->output_count, 1 + SPEC_WORKFLOW_STEPS_MAX * SPEC_RENDITIONS_MAX + PLAN_KEYED_MAX);
    const plan_output_t *last = &p->outputs[p->output_count - 1];
    assert_int_equal(last->kind, PLAN_OUTPUT_HLS);
    assert_int_equal(last->variant_count, SPEC_RENDITIONS_MAX);
    assert_true(plan_dirs(p, NULL, 0) <= PLAN_DIRS_MAX);
    plan_free(p);
    free(p);
    free(spec);
}

/* The cover, a fops' 8 frames and the transcode: PLAN_RUNS_MAX runs. */
static void test_largest_run_plan(void **state)
{
    (void)state;
    plan_spec_t *spec = calloc(1, sizeof(*spec));
    char key[32];
    begin(spec, true);
    for (int i = 0; i < PLAN_FRAMES_MAX; i++) {
        snprintf(key, sizeof(key), "f/%d.jpg", i);
        add_frame(spec, key, (int64_t)i * 1000, 0, 0);
    }
    add_rendition(add_template(spec, "sd", SPEC_CONTAINER_MP4), 640, 360, 0);
    plan_t *p = build_or_fail(spec);
    assert_int_equal(p->run_count, PLAN_RUNS_MAX);
    assert_true(p->runs[0].cover);
    for (size_t i = 1; i + 1 < p->run_count; i++)
        assert_false(p->runs[i].cover || p->runs[i].transcode);
    assert_true(p->runs[PLAN_RUNS_MAX - 1].transcode);
    plan_free(p);
    free(p);
    free(spec);
}

/* ---- HLS segment names ---- */

static void test_hls_segment_prefix(void **state)
{
    (void)state;
    static const struct {
        const char *master, *prefix; /* NULL: refused */
    } table[] = {
        {VIDEO_DIR "/hd/index.m3u8", "seg"}, /* vodup's own */
        {VIDEO_DIR "/hls/main.m3u8", "main"},
        {"main.m3u8", "main"},
        {VIDEO_DIR "/a.b.m3u8", "a.b"},
        {VIDEO_DIR "/.m3u8", NULL},
        {VIDEO_DIR "/main.mp4", NULL},
        {VIDEO_DIR "/m3u8", NULL},
    };
    char out[64];
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        bool ok = plan_hls_segment_prefix(table[i].master, out, sizeof(out));
        assert_int_equal(ok, table[i].prefix != NULL);
        if (ok)
            assert_string_equal(out, table[i].prefix);
    }
    assert_false(plan_hls_segment_prefix("main.m3u8", out, 4)); /* "main" and its NUL */
    assert_true(plan_hls_segment_prefix("main.m3u8", out, 5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_run_flags_and_unbounded_pixels),
        cmocka_unit_test(test_cover_run_without_probe),
        cmocka_unit_test(test_refused_inputs),
        cmocka_unit_test(test_default_bitrate),
        cmocka_unit_test(test_filter_escape),
        cmocka_unit_test(test_dirs),
        cmocka_unit_test(test_dirs_keyed),
        cmocka_unit_test(test_largest_transcode_plan),
        cmocka_unit_test(test_largest_run_plan),
        cmocka_unit_test(test_hls_segment_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
