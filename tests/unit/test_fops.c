/*
 * Unit tests for process/fops: the vendor's fops language as vodup reads it
 * (the grammar in fops.h).  Two tables: texts vodup accepts with every field
 * they parse to, and texts it refuses with the exact message.  Every accepted
 * transcode must make a template spec_template_check accepts.  Then what a
 * table of C strings cannot hold: the length limits, NUL bytes, a missing
 * error struct, and where each task's own text lies.
 *
 * saveas entries are URL-safe base64 of "bucket:key"; each is decoded in a
 * comment beside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "process/fops.h"

/* ---- saveas entries ---- */

#define E_MP4 "dm9kLTAxMjM0NTY3ODlhYmNkZWY6b3V0LzcyMHAubXA0"         /* vod-0123456789abcdef:out/720p.mp4 */
#define E_JPG "dm9kLTAxMjM0NTY3ODlhYmNkZWY6b3V0L2NvdmVyLmpwZw=="     /* vod-0123456789abcdef:out/cover.jpg */
#define E_JPG_NOPAD "dm9kLTAxMjM0NTY3ODlhYmNkZWY6b3V0L2NvdmVyLmpwZw" /* the same, unpadded */
#define E_HLS "dm9kLTAxMjM0NTY3ODlhYmNkZWY6aGxzL2luZGV4Lm0zdTg="     /* vod-0123456789abcdef:hls/index.m3u8 */
#define E_BK "Yjpr"                                                  /* b:k */
#define E_BK1 "YjprMQ=="                                             /* b:k1 */
#define BUCKET "vod-0123456789abcdef"

/* ---- accepted texts ---- */

typedef struct want_task {
    enum fops_kind kind;
    /* transcode */
    enum spec_container container;
    enum spec_video_codec video_codec;
    enum spec_audio_codec audio_codec;
    int width, height, video_bitrate, audio_bitrate, segment_seconds;
    /* snapshot */
    int64_t offset_ms;
    int snap_width, snap_height;
    /* saveas; NULL bucket: none */
    const char *bucket, *key;
} want_task_t;

#define AV(cont, vc, ac, w, h, vb, ab, seg)                                                                      \
    {.kind = FOPS_TRANSCODE, .container = SPEC_CONTAINER_##cont, .video_codec = SPEC_VIDEO_##vc,                 \
     .audio_codec = SPEC_AUDIO_##ac, .width = (w), .height = (h), .video_bitrate = (vb), .audio_bitrate = (ab),  \
     .segment_seconds = (seg)
#define VF(ms, w, h) {.kind = FOPS_SNAPSHOT, .offset_ms = (ms), .snap_width = (w), .snap_height = (h)
#define SAVE(b, k) , .bucket = (b), .key = (k) }
#define NOSAVE }
/* The defaults of each container: h264/aac, the source's size, vodup's bitrates. */
#define MP4 AV(MP4, H264, AAC, 0, 0, 0, 0, 0)
#define HLS AV(HLS, H264, AAC, 0, 0, 0, 0, 0)

typedef struct accept_case {
    const char *what;
    const char *text;
    size_t count;
    want_task_t tasks[FOPS_TASKS_MAX];
} accept_case_t;

static const accept_case_t accept_cases[] = {
    {"the bare mp4", "avthumb/mp4", 1, {MP4 NOSAVE}},
    {"the bare m3u8", "avthumb/m3u8", 1, {HLS NOSAVE}},
    {"the brief's first example", "avthumb/mp4/s/1280x720/vb/2500k;vframe/jpg/offset/1|saveas/" E_JPG, 2,
     {AV(MP4, H264, AAC, 1280, 720, 2500, 0, 0) NOSAVE, VF(1000, 0, 0) SAVE(BUCKET, "out/cover.jpg")}},
    {"the brief's second example", "avthumb/m3u8/segtime/6/vb/1.25m/s/640x360|saveas/" E_HLS, 1,
     {AV(HLS, H264, AAC, 640, 360, 1250, 0, 6) SAVE(BUCKET, "hls/index.m3u8")}},
    {"the Java SDK demo's ops", "avthumb/mp4/s/640x360/vb/1.25m|saveas/" E_MP4, 1,
     {AV(MP4, H264, AAC, 640, 360, 1250, 0, 0) SAVE(BUCKET, "out/720p.mp4")}},
    {"the Python SDK demo's ops", "vframe/jpg/offset/1", 1, {VF(1000, 0, 0) NOSAVE}},

    /* vb and ab: bits per second, k and m, rounded to the nearest kb/s */
    {"vb in plain bit/s", "avthumb/mp4/vb/2500000", 1, {AV(MP4, H264, AAC, 0, 0, 2500, 0, 0) NOSAVE}},
    {"vb in m with decimals", "avthumb/mp4/vb/2.5m", 1, {AV(MP4, H264, AAC, 0, 0, 2500, 0, 0) NOSAVE}},
    {"vb with a capital K", "avthumb/mp4/vb/2500K", 1, {AV(MP4, H264, AAC, 0, 0, 2500, 0, 0) NOSAVE}},
    {"vb with a capital M", "avthumb/mp4/vb/5M", 1, {AV(MP4, H264, AAC, 0, 0, 5000, 0, 0) NOSAVE}},
    {"vb in k with decimals", "avthumb/mp4/vb/2.5k", 1, {AV(MP4, H264, AAC, 0, 0, 3, 0, 0) NOSAVE}},
    {"a half kb/s rounds up", "avthumb/mp4/vb/1.0005m", 1, {AV(MP4, H264, AAC, 0, 0, 1001, 0, 0) NOSAVE}},
    {"below half a kb/s rounds down", "avthumb/mp4/vb/1499", 1, {AV(MP4, H264, AAC, 0, 0, 1, 0, 0) NOSAVE}},
    {"the smallest vb", "avthumb/mp4/vb/500", 1, {AV(MP4, H264, AAC, 0, 0, 1, 0, 0) NOSAVE}},
    {"the largest vb", "avthumb/mp4/vb/100m", 1, {AV(MP4, H264, AAC, 0, 0, 100000, 0, 0) NOSAVE}},
    {"ab in k", "avthumb/mp4/ab/64k", 1, {AV(MP4, H264, AAC, 0, 0, 0, 64, 0) NOSAVE}},
    {"ab in bit/s", "avthumb/mp4/ab/128000", 1, {AV(MP4, H264, AAC, 0, 0, 0, 128, 0) NOSAVE}},
    {"the largest ab", "avthumb/mp4/ab/10m", 1, {AV(MP4, H264, AAC, 0, 0, 0, 10000, 0) NOSAVE}},
    {"the vendor's doc example but in mp4", "avthumb/mp4/ab/64k/vb/128k", 1,
     {AV(MP4, H264, AAC, 0, 0, 128, 64, 0) NOSAVE}},

    /* s */
    {"the smallest box", "avthumb/mp4/s/16x16", 1, {AV(MP4, H264, AAC, 16, 16, 0, 0, 0) NOSAVE}},
    {"the largest box", "avthumb/mp4/s/8192x8192", 1, {AV(MP4, H264, AAC, 8192, 8192, 0, 0, 0) NOSAVE}},
    {"a portrait box", "avthumb/mp4/s/720x1280", 1, {AV(MP4, H264, AAC, 720, 1280, 0, 0, 0) NOSAVE}},
    {"an odd box (the planner evens it)", "avthumb/mp4/s/853x481", 1, {AV(MP4, H264, AAC, 853, 481, 0, 0, 0) NOSAVE}},

    /* codecs */
    {"libx264", "avthumb/mp4/vcodec/libx264", 1, {MP4 NOSAVE}},
    {"libx265", "avthumb/mp4/vcodec/libx265", 1, {AV(MP4, H265, AAC, 0, 0, 0, 0, 0) NOSAVE}},
    {"the vendor's libws265", "avthumb/m3u8/vcodec/libws265", 1, {AV(HLS, H265, AAC, 0, 0, 0, 0, 0) NOSAVE}},
    {"libvpx-vp9 in mp4", "avthumb/mp4/vcodec/libvpx-vp9", 1, {AV(MP4, VP9, AAC, 0, 0, 0, 0, 0) NOSAVE}},
    {"libsvtav1", "avthumb/mp4/vcodec/libsvtav1", 1, {AV(MP4, AV1, AAC, 0, 0, 0, 0, 0) NOSAVE}},
    {"libaom-av1", "avthumb/mp4/vcodec/libaom-av1", 1, {AV(MP4, AV1, AAC, 0, 0, 0, 0, 0) NOSAVE}},
    {"video copy", "avthumb/mp4/vcodec/copy", 1, {AV(MP4, COPY, AAC, 0, 0, 0, 0, 0) NOSAVE}},
    {"video copy, audio re-encoded at a bitrate", "avthumb/m3u8/vcodec/copy/ab/96k", 1,
     {AV(HLS, COPY, AAC, 0, 0, 0, 96, 0) NOSAVE}},
    {"libfdk_aac", "avthumb/mp4/acodec/libfdk_aac", 1, {MP4 NOSAVE}},
    {"libfaac", "avthumb/mp4/acodec/libfaac", 1, {MP4 NOSAVE}},
    {"aac", "avthumb/m3u8/acodec/aac", 1, {HLS NOSAVE}},
    {"libmp3lame in m3u8", "avthumb/m3u8/acodec/libmp3lame", 1, {AV(HLS, H264, MP3, 0, 0, 0, 0, 0) NOSAVE}},
    {"libopus in mp4", "avthumb/mp4/acodec/libopus", 1, {AV(MP4, H264, OPUS, 0, 0, 0, 0, 0) NOSAVE}},
    {"opus in mp4", "avthumb/mp4/acodec/opus", 1, {AV(MP4, H264, OPUS, 0, 0, 0, 0, 0) NOSAVE}},
    {"audio copy, video sized", "avthumb/mp4/acodec/copy/s/1280x720", 1,
     {AV(MP4, H264, COPY, 1280, 720, 0, 0, 0) NOSAVE}},
    {"both copied", "avthumb/m3u8/vcodec/copy/acodec/copy/segtime/10", 1,
     {AV(HLS, COPY, COPY, 0, 0, 0, 0, 10) NOSAVE}},
    {"every avthumb parameter at once",
     "avthumb/m3u8/s/1920x1080/vb/5m/ab/128k/vcodec/libx265/acodec/libmp3lame/segtime/4/an/0/vn/0", 1,
     {AV(HLS, H265, MP3, 1920, 1080, 5000, 128, 4) NOSAVE}},

    /* segtime, an, vn */
    {"the shortest segments", "avthumb/m3u8/segtime/1", 1, {AV(HLS, H264, AAC, 0, 0, 0, 0, 1) NOSAVE}},
    {"the longest segments", "avthumb/m3u8/segtime/120", 1, {AV(HLS, H264, AAC, 0, 0, 0, 0, 120) NOSAVE}},
    {"an/0 and vn/0 keep the tracks", "avthumb/mp4/an/0/vn/0", 1, {MP4 NOSAVE}},

    /* vframe */
    {"offset 0", "vframe/jpg/offset/0", 1, {VF(0, 0, 0) NOSAVE}},
    {"an offset with decimals", "vframe/jpg/offset/7.25", 1, {VF(7250, 0, 0) NOSAVE}},
    {"a millisecond", "vframe/jpg/offset/0.001", 1, {VF(1, 0, 0) NOSAVE}},
    {"the latest offset", "vframe/jpg/offset/86400", 1, {VF(86400000, 0, 0) NOSAVE}},
    {"the vendor's w and h", "vframe/jpg/offset/7/w/480/h/360", 1, {VF(7000, 480, 360) NOSAVE}},
    {"w alone", "vframe/jpg/offset/7/w/480", 1, {VF(7000, 480, 0) NOSAVE}},
    {"parameters in any order", "vframe/jpg/h/360/offset/3/w/480", 1, {VF(3000, 480, 360) NOSAVE}},

    /* saveas */
    {"saveas without its padding", "vframe/jpg/offset/1|saveas/" E_JPG_NOPAD, 1,
     {VF(1000, 0, 0) SAVE(BUCKET, "out/cover.jpg")}},
    {"a one-letter bucket and key", "avthumb/mp4|saveas/" E_BK, 1, {MP4 SAVE("b", "k")}},
    {"a key under video/: whether it is free is the caller's check",
     "avthumb/mp4|saveas/Yjp2aWRlby8yMDI2MTIwNC94L2EubXA0" /* b:video/20261204/x/a.mp4 */, 1,
     {MP4 SAVE("b", "video/20261204/x/a.mp4")}},
    {"a first segment that only starts with vod", "avthumb/mp4|saveas/Yjp2b2RhL3g=" /* b:voda/x */, 1,
     {MP4 SAVE("b", "voda/x")}},

    /* several tasks */
    {"one command saved twice", "avthumb/mp4|saveas/" E_BK ";avthumb/mp4|saveas/" E_BK1, 2,
     {MP4 SAVE("b", "k"), MP4 SAVE("b", "k1")}},
    {"one command saved once and named by the caller once", "avthumb/mp4;avthumb/mp4|saveas/" E_BK, 2,
     {MP4 NOSAVE, MP4 SAVE("b", "k")}},
    {"a ladder of eight",
     "avthumb/m3u8/s/256x144;avthumb/m3u8/s/426x240;avthumb/m3u8/s/640x360;avthumb/m3u8/s/854x480;"
     "avthumb/m3u8/s/1280x720;avthumb/m3u8/s/1920x1080;avthumb/m3u8/s/2560x1440;avthumb/m3u8/s/3840x2160",
     8,
     {AV(HLS, H264, AAC, 256, 144, 0, 0, 0) NOSAVE, AV(HLS, H264, AAC, 426, 240, 0, 0, 0) NOSAVE,
      AV(HLS, H264, AAC, 640, 360, 0, 0, 0) NOSAVE, AV(HLS, H264, AAC, 854, 480, 0, 0, 0) NOSAVE,
      AV(HLS, H264, AAC, 1280, 720, 0, 0, 0) NOSAVE, AV(HLS, H264, AAC, 1920, 1080, 0, 0, 0) NOSAVE,
      AV(HLS, H264, AAC, 2560, 1440, 0, 0, 0) NOSAVE, AV(HLS, H264, AAC, 3840, 2160, 0, 0, 0) NOSAVE}},
};

static void check_task(const accept_case_t *c, size_t i, const fops_task_t *got)
{
    const want_task_t *w = &c->tasks[i];
    if (got->kind != w->kind)
        fail_msg("%s: task %zu is a %s", c->what, i + 1, fops_kind_name(got->kind));
    if (w->kind == FOPS_TRANSCODE) {
        const fops_transcode_t *t = &got->transcode;
        if (t->container != w->container || t->video_codec != w->video_codec || t->audio_codec != w->audio_codec ||
            t->width != w->width || t->height != w->height || t->video_bitrate != w->video_bitrate ||
            t->audio_bitrate != w->audio_bitrate || t->segment_seconds != w->segment_seconds)
            fail_msg("%s: task %zu is %s %s/%s %dx%d vb %d ab %d seg %d", c->what, i + 1,
                     spec_container_name(t->container), spec_video_codec_name(t->video_codec),
                     spec_audio_codec_name(t->audio_codec), t->width, t->height, t->video_bitrate, t->audio_bitrate,
                     t->segment_seconds);
    } else if (got->snapshot.offset_ms != w->offset_ms || got->snapshot.width != w->snap_width ||
               got->snapshot.height != w->snap_height) {
        fail_msg("%s: task %zu is a snapshot at %lld ms, %dx%d", c->what, i + 1, (long long)got->snapshot.offset_ms,
                 got->snapshot.width, got->snapshot.height);
    }
    if (got->has_saveas != (w->bucket != NULL))
        fail_msg("%s: task %zu %s a saveas", c->what, i + 1, got->has_saveas ? "has" : "lacks");
    if (w->bucket && (strcmp(got->bucket, w->bucket) != 0 || strcmp(got->key, w->key) != 0))
        fail_msg("%s: task %zu saves to '%s' '%s'", c->what, i + 1, got->bucket, got->key);
}

static void test_accepted(void **state)
{
    (void)state;
    static fops_t f;
    for (size_t n = 0; n < sizeof(accept_cases) / sizeof(accept_cases[0]); n++) {
        const accept_case_t *c = &accept_cases[n];
        fops_error_t err = {{0}};
        if (!fops_parse(c->text, strlen(c->text), &f, &err))
            fail_msg("%s: refused: %s", c->what, err.message);
        if (f.task_count != c->count)
            fail_msg("%s: %zu tasks", c->what, f.task_count);
        for (size_t i = 0; i < f.task_count; i++)
            check_task(c, i, &f.tasks[i]);
    }
}

/* The mapping onto templates is direct: every accepted transcode is a valid
 * one-rendition template with the same fields. */
static void test_accepted_transcodes_are_templates(void **state)
{
    (void)state;
    static fops_t f;
    for (size_t n = 0; n < sizeof(accept_cases) / sizeof(accept_cases[0]); n++) {
        const accept_case_t *c = &accept_cases[n];
        fops_error_t err;
        assert_true(fops_parse(c->text, strlen(c->text), &f, &err));
        for (size_t i = 0; i < f.task_count; i++) {
            const fops_transcode_t *t = &f.tasks[i].transcode;
            spec_template_t tpl;
            spec_error_t serr;
            if (f.tasks[i].kind != FOPS_TRANSCODE)
                continue;
            fops_transcode_template(t, &tpl);
            if (!spec_template_check(&tpl, &serr))
                fail_msg("%s: task %zu: %s", c->what, i + 1, serr.message);
            assert_int_equal(tpl.container, t->container);
            assert_int_equal(tpl.video_codec, t->video_codec);
            assert_int_equal(tpl.audio_codec, t->audio_codec);
            assert_int_equal(tpl.audio_bitrate, t->audio_bitrate);
            assert_int_equal(tpl.rendition_count, 1);
            assert_int_equal(tpl.renditions[0].width, t->width);
            assert_int_equal(tpl.renditions[0].height, t->height);
            assert_int_equal(tpl.renditions[0].video_bitrate, t->video_bitrate);
        }
    }
}

/* ---- refused texts ---- */

typedef struct refuse_case {
    const char *text;
    const char *error; /* the whole message */
} refuse_case_t;

#define T1 "fops: task 1: "
#define NOT_BITRATE "is not a bitrate in bit/s such as 2500k, 1.25m or 2500000"
#define NOT_SIZE "is not a size WxH with sides of 16..8192, such as 1280x720"
#define NOT_OFFSET "is not a time in seconds such as 7 or 7.25 (at most 3 decimals)"
#define NOT_KEY                                                                                              \
    "is not a key vodup stores ('/'-separated segments of 1..64 of A-Z a-z 0-9 . _ -, none starting with '.')"
#define NOT_BUCKET "is not a bucket name (A-Z a-z 0-9 . _ -, not starting with '.')"
#define VCODECS "(libx264, libx265, libws265, libvpx-vp9, libsvtav1, libaom-av1 or copy)"
#define ACODECS "(libfdk_aac, libfaac, aac, libmp3lame, libopus, opus or copy)"

static const refuse_case_t refuse_cases[] = {
    /* tasks */
    {";", "fops: task 1 is empty (a \";\" too many?)"},
    {"avthumb/mp4;", "fops: task 2 is empty (a \";\" too many?)"},
    {"avthumb/mp4;;vframe/jpg/offset/1", "fops: task 2 is empty (a \";\" too many?)"},
    {"avthumb/mp4;avthumb/mp4;avthumb/mp4;avthumb/mp4;avthumb/mp4;avthumb/mp4;avthumb/mp4;avthumb/mp4;avthumb/mp4",
     "fops: tasks 1 and 2 are the same"},
    {"avthumb/m3u8/s/256x144;avthumb/m3u8/s/426x240;avthumb/m3u8/s/640x360;avthumb/m3u8/s/854x480;"
     "avthumb/m3u8/s/1280x720;avthumb/m3u8/s/1920x1080;avthumb/m3u8/s/2560x1440;avthumb/m3u8/s/3840x2160;"
     "vframe/jpg/offset/1",
     "fops: more than 8 tasks"},
    {"avthumb/mp4/vb/1m;avthumb/mp4/vb/1000k", "fops: tasks 1 and 2 are the same"},
    {"vframe/jpg/offset/1;avthumb/mp4;vframe/jpg/offset/1.000", "fops: tasks 1 and 3 are the same"},
    {"avthumb/mp4|saveas/" E_BK ";vframe/jpg/offset/1|saveas/" E_BK,
     "fops: tasks 1 and 2 both save to bucket \"b\" key \"k\""},

    /* commands and formats */
    {"imageMogr2/jpg/crop/500x500", T1 "command \"imageMogr2\" is not supported (avthumb or vframe)"},
    {"avconcat/mp4", T1 "command \"avconcat\" is not supported (avthumb or vframe)"},
    {"AVTHUMB/mp4", T1 "command \"AVTHUMB\" is not supported (avthumb or vframe)"},
    {"/avthumb/mp4", T1 "command \"\" is not supported (avthumb or vframe)"},
    {"avthumb/mp4; vframe/jpg/offset/1", "fops: task 2: command \" vframe\" is not supported (avthumb or vframe)"},
    {"avthumb", T1 "avthumb has no format, as in avthumb/mp4"},
    {"avthumb/", T1 "avthumb has no format, as in avthumb/mp4"},
    {"avthumb//vb/1k", T1 "avthumb has no format, as in avthumb/mp4"},
    {"vframe", T1 "vframe has no format, as in vframe/jpg/offset/1"},
    {"avthumb/flv/ab/64k/vb/128k", T1 "avthumb format \"flv\" is not supported (mp4 or m3u8)"},
    {"avthumb/mpd", T1 "avthumb format \"mpd\" is not supported (mp4 or m3u8)"},
    {"avthumb/MP4", T1 "avthumb format \"MP4\" is not supported (mp4 or m3u8)"},
    {"vframe/png/offset/1", T1 "vframe format \"png\" is not supported (jpg only)"},
    {"vframe/gif/offset/10/t/10", T1 "vframe format \"gif\" is not supported (jpg only)"},

    /* parameters the engine has no use for */
    {"avthumb/mp4/s/1280x720;avthumb/mp4/wmImage/aHR0cDovL3g",
     "fops: task 2: avthumb parameter \"wmImage\" is not supported"},
    {"avthumb/mp4/r/30", T1 "avthumb parameter \"r\" is not supported"},
    {"avthumb/mp4/ar/44100", T1 "avthumb parameter \"ar\" is not supported"},
    {"avthumb/mp4/aq/5", T1 "avthumb parameter \"aq\" is not supported"},
    {"avthumb/mp4/ss/125/t/100", T1 "avthumb parameter \"ss\" is not supported"},
    {"avthumb/mp4/autoscale/1", T1 "avthumb parameter \"autoscale\" is not supported"},
    {"avthumb/mp4/VB/1k", T1 "avthumb parameter \"VB\" is not supported"},
    {"avthumb/mp4/wmImage", T1 "avthumb parameter \"wmImage\" is not supported"},
    {"vframe/jpg/offset/1/rotate/90", T1 "vframe parameter \"rotate\" is not supported"},
    {"vframe/jpg/offset/1/vb/1k", T1 "vframe parameter \"vb\" is not supported"},
    {"avthumb/mp4/offset/1", T1 "avthumb parameter \"offset\" is not supported"},
    {"avthumb/mp4/\xe6\xb0\xb4/1", T1 "avthumb parameter \"\\xe6\\xb0\\xb4\" is not supported"},
    {"avthumb/mp4/a\"b/1", T1 "avthumb parameter \"a\\x22b\" is not supported"},
    {"avthumb/mp4/0123456789012345678901234567890123456789012345678901234567890123456789/1",
     T1 "avthumb parameter \"012345678901234567890123456789012345678901234567...\" is not supported"},

    /* segments and pairs */
    {"avthumb/mp4/vb", T1 "avthumb parameter \"vb\" has no value"},
    {"avthumb/mp4/vb/", T1 "avthumb parameter \"vb\" has no value"},
    {"avthumb/mp4//vb/1k", T1 "avthumb has an empty segment (\"//\" or a trailing \"/\")"},
    {"avthumb/mp4/vb/1k/", T1 "avthumb has an empty segment (\"//\" or a trailing \"/\")"},
    {"avthumb/mp4/", T1 "avthumb has an empty segment (\"//\" or a trailing \"/\")"},
    {"avthumb/mp4/vb/1k/vb/2k", T1 "avthumb parameter \"vb\" is given twice"},
    {"avthumb/mp4/vb/1k/vb/1k", T1 "avthumb parameter \"vb\" is given twice"},
    {"avthumb/mp4/an/0/an/0", T1 "avthumb parameter \"an\" is given twice"},
    {"vframe/jpg/offset/1/offset/2", T1 "vframe parameter \"offset\" is given twice"},

    /* vb and ab */
    {"avthumb/mp4/vb/2500kb", T1 "avthumb parameter \"vb\" value \"2500kb\" " NOT_BITRATE},
    {"avthumb/mp4/vb/-1k", T1 "avthumb parameter \"vb\" value \"-1k\" " NOT_BITRATE},
    {"avthumb/mp4/vb/+1k", T1 "avthumb parameter \"vb\" value \"+1k\" " NOT_BITRATE},
    {"avthumb/mp4/vb/1e6", T1 "avthumb parameter \"vb\" value \"1e6\" " NOT_BITRATE},
    {"avthumb/mp4/vb/0x10", T1 "avthumb parameter \"vb\" value \"0x10\" " NOT_BITRATE},
    {"avthumb/mp4/vb/2500.5", T1 "avthumb parameter \"vb\" value \"2500.5\" " NOT_BITRATE},
    {"avthumb/mp4/vb/1.2345k", T1 "avthumb parameter \"vb\" value \"1.2345k\" " NOT_BITRATE},
    {"avthumb/mp4/vb/1.0000001m", T1 "avthumb parameter \"vb\" value \"1.0000001m\" " NOT_BITRATE},
    {"avthumb/mp4/vb/k", T1 "avthumb parameter \"vb\" value \"k\" " NOT_BITRATE},
    {"avthumb/mp4/vb/.5m", T1 "avthumb parameter \"vb\" value \".5m\" " NOT_BITRATE},
    {"avthumb/mp4/vb/5.m", T1 "avthumb parameter \"vb\" value \"5.m\" " NOT_BITRATE},
    {"avthumb/mp4/vb/1.2.3m", T1 "avthumb parameter \"vb\" value \"1.2.3m\" " NOT_BITRATE},
    {"avthumb/mp4/vb/2500 k", T1 "avthumb parameter \"vb\" value \"2500 k\" " NOT_BITRATE},
    {"avthumb/mp4/vb/1000000000", T1 "avthumb parameter \"vb\" value \"1000000000\" " NOT_BITRATE},
    {"avthumb/mp4/vb/2500k\n", T1 "avthumb parameter \"vb\" value \"2500k\\x0a\" " NOT_BITRATE},
    {"avthumb/mp4/vb/499", T1 "avthumb parameter \"vb\" value \"499\" is not within 1..100000 kb/s"},
    {"avthumb/mp4/vb/0", T1 "avthumb parameter \"vb\" value \"0\" is not within 1..100000 kb/s"},
    {"avthumb/mp4/vb/101m", T1 "avthumb parameter \"vb\" value \"101m\" is not within 1..100000 kb/s"},
    {"avthumb/mp4/vb/100000.5k", T1 "avthumb parameter \"vb\" value \"100000.5k\" is not within 1..100000 kb/s"},
    {"avthumb/mp4/ab/10001k", T1 "avthumb parameter \"ab\" value \"10001k\" is not within 1..10000 kb/s"},
    {"avthumb/mp4/ab/64kbps", T1 "avthumb parameter \"ab\" value \"64kbps\" " NOT_BITRATE},

    /* s */
    {"avthumb/mp4/s/1280*720", T1 "avthumb parameter \"s\" value \"1280*720\" " NOT_SIZE},
    {"avthumb/mp4/s/1280x", T1 "avthumb parameter \"s\" value \"1280x\" " NOT_SIZE},
    {"avthumb/mp4/s/x720", T1 "avthumb parameter \"s\" value \"x720\" " NOT_SIZE},
    {"avthumb/mp4/s/1280", T1 "avthumb parameter \"s\" value \"1280\" " NOT_SIZE},
    {"avthumb/mp4/s/1280X720", T1 "avthumb parameter \"s\" value \"1280X720\" " NOT_SIZE},
    {"avthumb/mp4/s/1280x720x2", T1 "avthumb parameter \"s\" value \"1280x720x2\" " NOT_SIZE},
    {"avthumb/mp4/s/15x720", T1 "avthumb parameter \"s\" value \"15x720\" " NOT_SIZE},
    {"avthumb/mp4/s/1280x8193", T1 "avthumb parameter \"s\" value \"1280x8193\" " NOT_SIZE},
    {"avthumb/mp4/s/0x0", T1 "avthumb parameter \"s\" value \"0x0\" " NOT_SIZE},
    {"avthumb/mp4/s/1280.5x720", T1 "avthumb parameter \"s\" value \"1280.5x720\" " NOT_SIZE},

    /* codecs */
    {"avthumb/mp4/vcodec/libtheora", T1 "avthumb parameter \"vcodec\" value \"libtheora\" is not supported " VCODECS},
    {"avthumb/mp4/vcodec/libvpx", T1 "avthumb parameter \"vcodec\" value \"libvpx\" is not supported " VCODECS},
    {"avthumb/mp4/vcodec/h264", T1 "avthumb parameter \"vcodec\" value \"h264\" is not supported " VCODECS},
    {"avthumb/mp4/vcodec/vvc", T1 "avthumb parameter \"vcodec\" value \"vvc\" is not supported " VCODECS},
    {"avthumb/m3u8/vcodec/libvpx-vp9",
     T1 "avthumb parameter \"vcodec\" value \"libvpx-vp9\" cannot go in m3u8 (libx264, libx265, libws265 or copy)"},
    {"avthumb/m3u8/vcodec/libsvtav1",
     T1 "avthumb parameter \"vcodec\" value \"libsvtav1\" cannot go in m3u8 (libx264, libx265, libws265 or copy)"},
    {"avthumb/mp4/acodec/libvorbis", T1 "avthumb parameter \"acodec\" value \"libvorbis\" is not supported " ACODECS},
    {"avthumb/m3u8/acodec/opus",
     T1 "avthumb parameter \"acodec\" value \"opus\" cannot go in m3u8 (libfdk_aac, libfaac, aac, libmp3lame or copy)"},
    {"avthumb/mp4/vcodec/copy/s/1280x720",
     T1 "avthumb vcodec \"copy\" keeps the source's picture: it takes no s or vb"},
    {"avthumb/mp4/vb/1m/vcodec/copy", T1 "avthumb vcodec \"copy\" keeps the source's picture: it takes no s or vb"},
    {"avthumb/mp4/acodec/copy/ab/128k", T1 "avthumb acodec \"copy\" keeps the source's audio: it takes no ab"},

    /* segtime, an, vn */
    {"avthumb/mp4/segtime/6", T1 "avthumb parameter \"segtime\" is for m3u8 only"},
    {"avthumb/m3u8/segtime/0",
     T1 "avthumb parameter \"segtime\" value \"0\" is not a whole number of seconds within 1..120"},
    {"avthumb/m3u8/segtime/121",
     T1 "avthumb parameter \"segtime\" value \"121\" is not a whole number of seconds within 1..120"},
    {"avthumb/m3u8/segtime/6.5",
     T1 "avthumb parameter \"segtime\" value \"6.5\" is not a whole number of seconds within 1..120"},
    {"avthumb/mp4/an/1", T1 "avthumb parameter \"an\" value \"1\" is not supported: vodup keeps every track"},
    {"avthumb/mp4/vn/1", T1 "avthumb parameter \"vn\" value \"1\" is not supported: vodup keeps every track"},
    {"avthumb/mp4/an/yes", T1 "avthumb parameter \"an\" value \"yes\" is not 0 or 1"},
    {"avthumb/mp4/an/00", T1 "avthumb parameter \"an\" value \"00\" is not 0 or 1"},

    /* vframe */
    {"vframe/jpg", T1 "vframe needs an offset, as in vframe/jpg/offset/1"},
    {"vframe/jpg/w/480/h/360", T1 "vframe needs an offset, as in vframe/jpg/offset/1"},
    {"vframe/jpg/offset/-1", T1 "vframe parameter \"offset\" value \"-1\" " NOT_OFFSET},
    {"vframe/jpg/offset/1.2345", T1 "vframe parameter \"offset\" value \"1.2345\" " NOT_OFFSET},
    {"vframe/jpg/offset/1,5", T1 "vframe parameter \"offset\" value \"1,5\" " NOT_OFFSET},
    {"vframe/jpg/offset/1s", T1 "vframe parameter \"offset\" value \"1s\" " NOT_OFFSET},
    {"vframe/jpg/offset/86400.001", T1 "vframe parameter \"offset\" value \"86400.001\" is past 86400 s"},
    {"vframe/jpg/offset/1/w/15",
     T1 "vframe parameter \"w\" value \"15\" is not a whole number of pixels within 16..8192"},
    {"vframe/jpg/offset/1/h/8193",
     T1 "vframe parameter \"h\" value \"8193\" is not a whole number of pixels within 16..8192"},
    {"vframe/jpg/offset/1/h/auto",
     T1 "vframe parameter \"h\" value \"auto\" is not a whole number of pixels within 16..8192"},

    /* the '|' step */
    {"avthumb/mp4|", T1 "nothing follows \"|\" (saveas/<entry> may)"},
    {"avthumb/mp4|avthumb/m3u8", T1 "only saveas may follow \"|\", not \"avthumb\""},
    {"avthumb/mp4|saveAs/" E_BK, T1 "only saveas may follow \"|\", not \"saveAs\""},
    {"avthumb/mp4|saveas", T1 "saveas has no value"},
    {"avthumb/mp4|saveas/", T1 "saveas has no value"},

    /* the saveas entry's encoding */
    {"avthumb/mp4|saveas/" E_BK "|saveas/" E_BK1,
     T1 "saveas value \"Yjpr|saveas/YjprMQ==\" is not URL-safe base64"},
    {"avthumb/mp4|saveas/Yjpr/x", T1 "saveas value \"Yjpr/x\" is not URL-safe base64"},
    {"avthumb/mp4|saveas/Yjp+" /* b:~ in the standard alphabet */, T1 "saveas value \"Yjp+\" is not URL-safe base64"},
    {"avthumb/mp4|saveas/Yjo/" /* b:? in the standard alphabet */, T1 "saveas value \"Yjo/\" is not URL-safe base64"},
    {"avthumb/mp4|saveas/Yjpr=", T1 "saveas value \"Yjpr=\" is not URL-safe base64"},
    {"avthumb/mp4|saveas/YjprMQ=", T1 "saveas value \"YjprMQ=\" is not URL-safe base64"},
    {"avthumb/mp4|saveas/YjprMQ===" /* the Go SDK example's over-padding */,
     T1 "saveas value \"YjprMQ===\" is not URL-safe base64"},
    {"avthumb/mp4|saveas/YjprMR" /* leftover bits */, T1 "saveas value \"YjprMR\" is not URL-safe base64"},
    {"avthumb/mp4|saveas/Y", T1 "saveas value \"Y\" is not URL-safe base64"},
    {"avthumb/mp4|saveas/==", T1 "saveas value \"==\" is not URL-safe base64"},
    {"avthumb/mp4|saveas/b:k", T1 "saveas value \"b:k\" is not URL-safe base64"},

    /* what the entry decodes to */
    {"avthumb/mp4|saveas/YnVja2V0" /* bucket */, T1 "saveas value decodes to \"bucket\", not \"bucket:key\""},
    {"avthumb/mp4|saveas/Oms=" /* :k */, T1 "saveas value decodes to \":k\", not \"bucket:key\""},
    {"avthumb/mp4|saveas/YjphAGI=" /* b:a NUL b */, T1 "saveas value decodes to \"b:a\\x00b\", not \"bucket:key\""},
    {"avthumb/mp4|saveas/Yjo=" /* b: */, T1 "saveas names bucket \"b\" but no key"},
    {"avthumb/mp4|saveas/LmI6aw==" /* .b:k */, T1 "saveas bucket \".b\" " NOT_BUCKET},
    {"avthumb/mp4|saveas/YSBiOms=" /* a b:k */, T1 "saveas bucket \"a b\" " NOT_BUCKET},
    {"avthumb/mp4|saveas/YjouLi94" /* b:../x */, T1 "saveas key \"../x\" " NOT_KEY},
    {"avthumb/mp4|saveas/YjphLy9i" /* b:a//b */, T1 "saveas key \"a//b\" " NOT_KEY},
    {"avthumb/mp4|saveas/YjovYQ==" /* b:/a */, T1 "saveas key \"/a\" " NOT_KEY},
    {"avthumb/mp4|saveas/YjphLw==" /* b:a/ */, T1 "saveas key \"a/\" " NOT_KEY},
    {"avthumb/mp4|saveas/YjouaGlkZGVu" /* b:.hidden */, T1 "saveas key \".hidden\" " NOT_KEY},
    {"avthumb/mp4|saveas/YjphIGI=" /* b:a b */, T1 "saveas key \"a b\" " NOT_KEY},
    {"avthumb/mp4|saveas/YjphOmI=" /* b:a:b */, T1 "saveas key \"a:b\" " NOT_KEY},
    {"avthumb/mp4|saveas/Yjp-" /* b:~ */, T1 "saveas key \"~\" " NOT_KEY},
    {"avthumb/mp4|saveas/YjrDqS5tcDQ=" /* b:é.mp4 */, T1 "saveas key \"\\xc3\\xa9.mp4\" " NOT_KEY},
    {"avthumb/mp4|saveas/Yjp2b2QveA==" /* b:vod/x */, T1 "saveas key \"vod/x\" is in vodup's API namespace \"vod/\""},
    {"avthumb/mp4|saveas/Yjp2b2Q=" /* b:vod */, T1 "saveas key \"vod\" is in vodup's API namespace \"vod/\""},
};

static void test_refused(void **state)
{
    (void)state;
    static fops_t f;
    for (size_t n = 0; n < sizeof(refuse_cases) / sizeof(refuse_cases[0]); n++) {
        const refuse_case_t *c = &refuse_cases[n];
        fops_error_t err = {{0}};
        if (fops_parse(c->text, strlen(c->text), &f, &err))
            fail_msg("accepted: %s", c->text);
        if (strcmp(err.message, c->error) != 0)
            fail_msg("%s\n  said:     %s\n  expected: %s", c->text, err.message, c->error);
        assert_int_equal(f.task_count, 0);
    }
}

/* ---- what the tables cannot hold ---- */

static void expect_refusal(const char *text, size_t len, const char *error)
{
    static fops_t f;
    fops_error_t err = {{0}};
    assert_false(fops_parse(text, len, &f, &err));
    assert_string_equal(err.message, error);
    assert_int_equal(f.task_count, 0);
}

static void test_text_limits(void **state)
{
    (void)state;
    static char text[FOPS_TEXT_MAX + 1];
    expect_refusal("", 0, "fops: the text is empty");
    expect_refusal(NULL, 0, "fops: the text is empty");
    memset(text, 'a', sizeof(text));
    expect_refusal(text, FOPS_TEXT_MAX + 1, "fops: the text is longer than 4096 bytes");
    /* FOPS_TEXT_MAX bytes are read, and the quote of a long part is cut. */
    expect_refusal(text, FOPS_TEXT_MAX,
                   "fops: task 1: command \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not supported "
                   "(avthumb or vframe)");
}

static void test_nul_is_a_byte(void **state)
{
    (void)state;
    static const char text[] = "avthumb/mp4\0;vframe/jpg/offset/1";
    expect_refusal(text, sizeof(text) - 1, "fops: task 1: avthumb format \"mp4\\x00\" is not supported (mp4 or m3u8)");
    /* len bounds the read: the NUL-free prefix alone is fine. */
    static fops_t f;
    fops_error_t err;
    assert_true(fops_parse(text, 11, &f, &err));
    assert_int_equal(f.task_count, 1);
}

static void test_no_error_struct(void **state)
{
    (void)state;
    static fops_t f;
    assert_false(fops_parse("avthumb/flv", 11, &f, NULL));
    assert_true(fops_parse("avthumb/mp4", 11, &f, NULL));
}

/* Writes bucket ":" key, URL-safe base64 encoded without padding, into
 * out: the key is `key_len` bytes of 'k' with a '/' after every `segment`. */
static void encode_entry(const char *bucket, size_t key_len, size_t segment, char *out)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char raw[FOPS_BUCKET_MAX + 2 + FOPS_KEY_MAX + 8];
    size_t n = (size_t)snprintf(raw, sizeof(raw), "%s:", bucket), o = 0;
    for (size_t i = 0; i < key_len; i++)
        raw[n++] = (i % (segment + 1) == segment) ? '/' : 'k';
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)raw[i] << 16;
        v |= i + 1 < n ? (uint32_t)(unsigned char)raw[i + 1] << 8 : 0;
        v |= i + 2 < n ? (uint32_t)(unsigned char)raw[i + 2] : 0;
        out[o++] = alphabet[(v >> 18) & 63];
        out[o++] = alphabet[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = alphabet[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = alphabet[v & 63];
    }
    out[o] = '\0';
}

/* Parses "avthumb/mp4|saveas/<entry>"; the error (if any) in *err. */
static bool parse_saveas(const char *bucket, size_t key_len, size_t segment, fops_t *f, fops_error_t *err)
{
    static char text[FOPS_TEXT_MAX + 1], entry[2048];
    encode_entry(bucket, key_len, segment, entry);
    snprintf(text, sizeof(text), "avthumb/mp4|saveas/%s", entry);
    return fops_parse(text, strlen(text), f, err);
}

static void test_saveas_limits(void **state)
{
    (void)state;
    static fops_t f;
    static char text[FOPS_TEXT_MAX + 1];
    fops_error_t err;
    char bucket[FOPS_BUCKET_MAX + 2];
    memset(bucket, 'b', FOPS_BUCKET_MAX);
    bucket[FOPS_BUCKET_MAX] = '\0';

    /* The longest bucket and the longest key at once, in 64-byte segments. */
    if (!parse_saveas(bucket, FOPS_KEY_MAX, 64, &f, &err))
        fail_msg("%s", err.message);
    assert_int_equal(strlen(f.tasks[0].key), FOPS_KEY_MAX);
    assert_string_equal(f.tasks[0].bucket, bucket);

    assert_false(parse_saveas("b", FOPS_KEY_MAX + 1, 64, &f, &err));
    assert_string_equal(err.message, "fops: task 1: saveas key \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...\" "
                                     "is longer than 1000 bytes");
    assert_false(parse_saveas("b", 65, 65, &f, &err));
    assert_string_equal(err.message, "fops: task 1: saveas key \"kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...\" "
                                     NOT_KEY);
    bucket[FOPS_BUCKET_MAX] = 'b';
    bucket[FOPS_BUCKET_MAX + 1] = '\0';
    assert_false(parse_saveas(bucket, 1, 64, &f, &err));
    assert_string_equal(err.message,
                        "fops: task 1: saveas bucket \"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb...\" "
                        "is longer than 64 bytes");

    /* An entry longer than any bucket and key encode to is not decoded. */
    strcpy(text, "avthumb/mp4|saveas/");
    memset(text + 19, 'A', 1424);
    expect_refusal(text, 19 + 1424, "fops: task 1: saveas value is longer than 1420 bytes");
}

/* text_offset and text_len give each task's own text, saveas included: the
 * "cmd" of the vendor's status and notify items. */
static void test_task_text(void **state)
{
    (void)state;
    static fops_t f;
    fops_error_t err;
    const char *text = "avthumb/mp4/s/1280x720/vb/2500k;vframe/jpg/offset/1|saveas/" E_JPG;
    assert_true(fops_parse(text, strlen(text), &f, &err));
    assert_int_equal(f.tasks[0].text_offset, 0);
    assert_int_equal(f.tasks[0].text_len, strlen("avthumb/mp4/s/1280x720/vb/2500k"));
    assert_int_equal(f.tasks[1].text_offset, strlen("avthumb/mp4/s/1280x720/vb/2500k;"));
    assert_int_equal(f.tasks[1].text_len, strlen("vframe/jpg/offset/1|saveas/" E_JPG));
}

static void test_kind_names(void **state)
{
    (void)state;
    assert_string_equal(fops_kind_name(FOPS_TRANSCODE), "transcode");
    assert_string_equal(fops_kind_name(FOPS_SNAPSHOT), "snapshot");
    assert_null(fops_kind_name((enum fops_kind)2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),
        cmocka_unit_test(test_accepted_transcodes_are_templates),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_text_limits),
        cmocka_unit_test(test_nul_is_a_byte),
        cmocka_unit_test(test_no_error_struct),
        cmocka_unit_test(test_saveas_limits),
        cmocka_unit_test(test_task_text),
        cmocka_unit_test(test_kind_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
