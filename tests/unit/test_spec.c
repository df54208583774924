/*
 * Unit tests for process/spec: the processing resources' specs (processing
 * contract, section 2).  One table of stored JSON texts, each valid or
 * refused with its message; every valid one must survive
 * parse -> serialise -> parse unchanged, and its serialisation must be a
 * fixed point.  Then the text forms (--rendition, --step), the field rules,
 * the enums' predicates and the shapes stored before renditions and modes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "process/spec.h"

/* ---- the four kinds behind one interface, for the tables ---- */

typedef union any_spec {
    spec_template_t template_;
    spec_watermark_t watermark;
    spec_subtitle_t subtitle;
    spec_workflow_t workflow;
} any_spec_t;

typedef struct kind_ops {
    const char *name;
    bool (*parse)(const char *text, any_spec_t *out, spec_error_t *err);
    char *(*to_json)(const any_spec_t *s);
    bool (*equal)(const any_spec_t *a, const any_spec_t *b);
} kind_ops_t;

static bool template_parse(const char *t, any_spec_t *o, spec_error_t *e) { return spec_template_parse(t, &o->template_, e); }
static bool watermark_parse(const char *t, any_spec_t *o, spec_error_t *e) { return spec_watermark_parse(t, &o->watermark, e); }
static bool subtitle_parse(const char *t, any_spec_t *o, spec_error_t *e) { return spec_subtitle_parse(t, &o->subtitle, e); }
static bool workflow_parse(const char *t, any_spec_t *o, spec_error_t *e) { return spec_workflow_parse(t, &o->workflow, e); }
static char *template_json(const any_spec_t *s) { return spec_template_to_json(&s->template_); }
static char *watermark_json(const any_spec_t *s) { return spec_watermark_to_json(&s->watermark); }
static char *subtitle_json(const any_spec_t *s) { return spec_subtitle_to_json(&s->subtitle); }
static char *workflow_json(const any_spec_t *s) { return spec_workflow_to_json(&s->workflow); }

static bool template_equal(const any_spec_t *x, const any_spec_t *y)
{
    const spec_template_t *a = &x->template_, *b = &y->template_;
    if (a->container != b->container || a->video_codec != b->video_codec || a->audio_codec != b->audio_codec ||
        a->audio_bitrate != b->audio_bitrate || a->rendition_count != b->rendition_count)
        return false;
    for (size_t i = 0; i < a->rendition_count; i++)
        if (a->renditions[i].width != b->renditions[i].width || a->renditions[i].height != b->renditions[i].height ||
            a->renditions[i].video_bitrate != b->renditions[i].video_bitrate)
            return false;
    return true;
}

static bool watermark_equal(const any_spec_t *x, const any_spec_t *y)
{
    const spec_watermark_t *a = &x->watermark, *b = &y->watermark;
    return !strcmp(a->image, b->image) && a->position == b->position && a->offset_x == b->offset_x &&
           a->offset_y == b->offset_y && a->opacity == b->opacity;
}

static bool subtitle_equal(const any_spec_t *x, const any_spec_t *y)
{
    const spec_subtitle_t *a = &x->subtitle, *b = &y->subtitle;
    return !strcmp(a->file, b->file) && a->format == b->format && !strcmp(a->language, b->language) &&
           a->mode == b->mode;
}

static bool workflow_equal(const any_spec_t *x, const any_spec_t *y)
{
    const spec_workflow_t *a = &x->workflow, *b = &y->workflow;
    if (a->step_count != b->step_count)
        return false;
    for (size_t i = 0; i < a->step_count; i++)
        if (a->steps[i].kind != b->steps[i].kind || strcmp(a->steps[i].ref, b->steps[i].ref) != 0)
            return false;
    return true;
}

static const kind_ops_t TEMPLATE = {"template", template_parse, template_json, template_equal};
static const kind_ops_t WATERMARK = {"watermark", watermark_parse, watermark_json, watermark_equal};
static const kind_ops_t SUBTITLE = {"subtitle", subtitle_parse, subtitle_json, subtitle_equal};
static const kind_ops_t WORKFLOW = {"workflow", workflow_parse, workflow_json, workflow_equal};

/* ---- the table of stored specs ---- */

typedef struct parse_case {
    const kind_ops_t *kind;
    const char *what;
    const char *json;
    const char *error; /* a part of the message; NULL: valid */
} parse_case_t;

/* New-shape template heads. */
#define T_MP4 "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":128,"
#define T_HLS "{\"container\":\"hls\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":128,"
#define R(w, h, b) "{\"width\":" #w ",\"height\":" #h ",\"videoBitrate\":" #b "}"
#define T_ONE(head, w, h, b) head "\"renditions\":[" R(w, h, b) "]}"
/* The shape stored before renditions. */
#define T_OLD(container, video, audio, w, h, vb, ab)                                                         \
    "{\"container\":\"" container "\",\"videoCodec\":\"" video "\",\"audioCodec\":\"" audio "\",\"width\":" #w \
    ",\"height\":" #h ",\"videoBitrate\":" #vb ",\"audioBitrate\":" #ab "}"
#define W(image, pos, x, y, op)                                                                                 \
    "{\"image\":\"" image "\",\"position\":\"" pos "\",\"offsetX\":" #x ",\"offsetY\":" #y ",\"opacity\":" #op \
    "}"
#define S(file, format, lang) "{\"file\":\"" file "\",\"format\":\"" format "\",\"language\":\"" lang "\""
#define S_MODE(file, format, lang, mode) S(file, format, lang) ",\"mode\":\"" mode "\"}"
#define STEP(kind) "{\"kind\":\"" kind "\"}"
#define STEP_REF(kind, member, ref) "{\"kind\":\"" kind "\",\"" member "\":\"" ref "\"}"

static const parse_case_t parse_cases[] = {
    /* templates: the new shape */
    {&TEMPLATE, "one rendition", T_ONE(T_MP4, 1280, 720, 2500), NULL},
    {&TEMPLATE, "an HLS ladder",
     T_HLS "\"renditions\":[" R(1920, 1080, 5000) "," R(1280, 720, 2500) "," R(640, 360, 800) "]}", NULL},
    {&TEMPLATE, "odd sizes are the planner's to even", T_ONE(T_MP4, 853, 481, 0), NULL},
    {&TEMPLATE, "the smallest and largest sides", T_MP4 "\"renditions\":[" R(16, 16, 1) "," R(8192, 8192, 100000) "]}",
     NULL},
    {&TEMPLATE, "0x0: the source's size", T_ONE(T_MP4, 0, 0, 0), NULL},
    {&TEMPLATE, "webm with vp9/opus",
     "{\"container\":\"webm\",\"videoCodec\":\"vp9\",\"audioCodec\":\"opus\",\"audioBitrate\":96,\"renditions\":["
     R(1280, 720, 0) "]}", NULL},
    {&TEMPLATE, "video and audio copy",
     "{\"container\":\"mkv\",\"videoCodec\":\"copy\",\"audioCodec\":\"copy\",\"audioBitrate\":0,\"renditions\":["
     R(0, 0, 0) "]}", NULL},
    {&TEMPLATE, "no renditions", T_MP4 "\"renditions\":[]}", "at least one rendition"},
    {&TEMPLATE, "nine renditions",
     T_MP4 "\"renditions\":[" R(100, 100, 0) "," R(200, 200, 0) "," R(300, 300, 0) "," R(400, 400, 0) "," R(500, 500, 0)
           "," R(600, 600, 0) "," R(700, 700, 0) "," R(800, 800, 0) "," R(900, 900, 0) "]}",
     "at most 8 renditions"},
    {&TEMPLATE, "the same box twice", T_MP4 "\"renditions\":[" R(1280, 720, 2500) "," R(1280, 720, 1000) "]}",
     "renditions 1 and 2 have the same size"},
    {&TEMPLATE, "the same box turned", T_MP4 "\"renditions\":[" R(1280, 720, 0) "," R(720, 1280, 0) "]}",
     "in either orientation"},
    {&TEMPLATE, "a side below 16", T_ONE(T_MP4, 15, 720, 0), "rendition 1: width and height must be 0"},
    {&TEMPLATE, "a side above 8192", T_ONE(T_MP4, 1280, 8193, 0), "16..8192"},
    {&TEMPLATE, "a negative side", T_ONE(T_MP4, -2, 720, 0), "width and height"},
    {&TEMPLATE, "a video bitrate above 100000", T_ONE(T_MP4, 1280, 720, 100001), "video bitrate must be 0"},
    {&TEMPLATE, "a negative video bitrate", T_ONE(T_MP4, 1280, 720, -1), "video bitrate"},
    {&TEMPLATE, "an audio bitrate above 10000",
     "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":10001,\"renditions\":["
     R(1280, 720, 0) "]}", "audio bitrate must be 0"},
    {&TEMPLATE, "an unknown container", "{\"container\":\"avi\"}", "'container' must be mp4, webm, mkv or hls, not 'avi'"},
    {&TEMPLATE, "an unknown video codec",
     "{\"container\":\"mp4\",\"videoCodec\":\"mpeg2\",\"audioCodec\":\"aac\",\"audioBitrate\":0,\"renditions\":[]}",
     "'videoCodec' must be h264, h265, vp9, av1 or copy"},
    {&TEMPLATE, "an unknown audio codec",
     "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"flac\",\"audioBitrate\":0,\"renditions\":[]}",
     "'audioCodec' must be aac, opus, mp3 or copy"},
    {&TEMPLATE, "webm cannot hold h264",
     "{\"container\":\"webm\",\"videoCodec\":\"h264\",\"audioCodec\":\"opus\",\"audioBitrate\":0,\"renditions\":["
     R(640, 360, 0) "]}", "webm cannot hold h264 video (it holds vp9 or av1)"},
    {&TEMPLATE, "webm cannot hold aac",
     "{\"container\":\"webm\",\"videoCodec\":\"vp9\",\"audioCodec\":\"aac\",\"audioBitrate\":0,\"renditions\":["
     R(640, 360, 0) "]}", "webm cannot hold aac audio (it holds opus)"},
    {&TEMPLATE, "hls cannot hold vp9",
     "{\"container\":\"hls\",\"videoCodec\":\"vp9\",\"audioCodec\":\"aac\",\"audioBitrate\":0,\"renditions\":["
     R(640, 360, 0) "]}", "hls cannot hold vp9 video (it holds h264 or h265)"},
    {&TEMPLATE, "hls cannot hold opus",
     "{\"container\":\"hls\",\"videoCodec\":\"h264\",\"audioCodec\":\"opus\",\"audioBitrate\":0,\"renditions\":["
     R(640, 360, 0) "]}", "hls cannot hold opus audio (it holds aac or mp3)"},
    {&TEMPLATE, "video copy with a size",
     "{\"container\":\"mp4\",\"videoCodec\":\"copy\",\"audioCodec\":\"aac\",\"audioBitrate\":0,\"renditions\":["
     R(640, 360, 0) "]}", "video codec copy keeps the source's picture"},
    {&TEMPLATE, "video copy with two renditions",
     "{\"container\":\"mp4\",\"videoCodec\":\"copy\",\"audioCodec\":\"aac\",\"audioBitrate\":0,\"renditions\":["
     R(0, 0, 0) "," R(640, 360, 0) "]}", "video codec copy"},
    {&TEMPLATE, "audio copy with a bitrate",
     "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"copy\",\"audioBitrate\":128,\"renditions\":["
     R(0, 0, 0) "]}", "audio codec copy keeps the source's audio"},
    {&TEMPLATE, "renditions not an array", T_MP4 "\"renditions\":{}}", "'renditions' must be an array"},
    {&TEMPLATE, "a rendition not an object", T_MP4 "\"renditions\":[1]}", "each rendition must be an object"},
    {&TEMPLATE, "a rendition without height", T_MP4 "\"renditions\":[{\"width\":640,\"videoBitrate\":0}]}",
     "'height' is missing"},
    {&TEMPLATE, "a width as a string", T_MP4 "\"renditions\":[{\"width\":\"640\",\"height\":360,\"videoBitrate\":0}]}",
     "'width' must be an integer"},
    {&TEMPLATE, "an unknown member in a rendition",
     T_MP4 "\"renditions\":[{\"width\":640,\"height\":360,\"videoBitrate\":0,\"fps\":30}]}", "unknown member 'fps'"},
    {&TEMPLATE, "the two shapes mixed", T_MP4 "\"width\":640,\"renditions\":[" R(640, 360, 0) "]}",
     "unknown member 'width'"},
    {&TEMPLATE, "a missing audio codec", "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"renditions\":[]}",
     "'audioCodec' is missing"},
    {&TEMPLATE, "not JSON", "{\"container\":", "template spec: not valid JSON"},
    {&TEMPLATE, "not an object", "[1,2]", "template spec: not a JSON object"},
    {&TEMPLATE, "a duplicated member", "{\"container\":\"mp4\",\"container\":\"hls\"}", "not valid JSON"},
    /* templates: the shape stored before renditions (store.h) */
    {&TEMPLATE, "old shape", T_OLD("mp4", "h264", "aac", 1280, 720, 2500, 128), NULL},
    {&TEMPLATE, "old shape, the source's size", T_OLD("hls", "h264", "aac", 0, 0, 0, 0), NULL},
    {&TEMPLATE, "old shape, one side kept", T_OLD("mp4", "h264", "aac", 1280, 0, 0, 0), NULL},
    {&TEMPLATE, "old shape, video copy", T_OLD("mkv", "copy", "copy", 0, 0, 0, 0), NULL},
    {&TEMPLATE, "old shape, webm with h264", T_OLD("webm", "h264", "opus", 0, 0, 0, 0), "webm cannot hold h264"},
    {&TEMPLATE, "old shape, a side out of range", T_OLD("mp4", "h264", "aac", 16384, 720, 0, 0),
     "rendition 1: width and height"},
    {&TEMPLATE, "old shape without width",
     "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"height\":720,\"videoBitrate\":0,"
     "\"audioBitrate\":0}", "'width' is missing"},
    {&TEMPLATE, "old shape with an unknown member",
     "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"width\":0,\"height\":0,"
     "\"videoBitrate\":0,\"audioBitrate\":0,\"crf\":23}", "unknown member 'crf'"},

    /* watermarks */
    {&WATERMARK, "all fields", W("resources/1/watermarks/logo.png", "top-right", 16, 16, 1.0), NULL},
    {&WATERMARK, "each corner and the centre", W("resources/1/watermarks/logo.png", "bottom-left", 0, 100000, 0.5),
     NULL},
    {&WATERMARK, "center, opacity 0", W("resources/1/watermarks/logo.png", "center", 0, 0, 0), NULL},
    {&WATERMARK, "opacity as an integer", W("resources/1/watermarks/logo.png", "top-left", 1, 2, 1), NULL},
    {&WATERMARK, "an odd opacity", W("resources/1/watermarks/logo.png", "bottom-right", 1, 2, 0.3), NULL},
    {&WATERMARK, "an unknown position", W("resources/1/watermarks/logo.png", "middle", 0, 0, 1),
     "'position' must be top-left, top-right, bottom-left, bottom-right or center, not 'middle'"},
    {&WATERMARK, "a negative offset", W("resources/1/watermarks/logo.png", "center", -1, 0, 1), "offsets must be 0..100000"},
    {&WATERMARK, "an offset too far", W("resources/1/watermarks/logo.png", "center", 0, 100001, 1), "offsets must be"},
    {&WATERMARK, "opacity above 1", W("resources/1/watermarks/logo.png", "center", 0, 0, 1.5), "opacity must be a number 0..1"},
    {&WATERMARK, "negative opacity", W("resources/1/watermarks/logo.png", "center", 0, 0, -0.1), "opacity must be"},
    {&WATERMARK, "opacity as a string", W("resources/1/watermarks/logo.png", "center", 0, 0, "1"), "'opacity' must be a number"},
    {&WATERMARK, "an absolute image path", W("/etc/passwd", "center", 0, 0, 1), "image must be a path under the data directory"},
    {&WATERMARK, "an image path that climbs", W("resources/../../etc/passwd", "center", 0, 0, 1), "under the data directory"},
    {&WATERMARK, "an empty image path", W("", "center", 0, 0, 1), "under the data directory"},
    {&WATERMARK, "a hidden segment", W("resources/1/.x/logo.png", "center", 0, 0, 1), "under the data directory"},
    {&WATERMARK, "no image", "{\"position\":\"center\",\"offsetX\":0,\"offsetY\":0,\"opacity\":1}", "'image' is missing"},
    {&WATERMARK, "an unknown member", "{\"image\":\"a.png\",\"position\":\"center\",\"offsetX\":0,\"offsetY\":0,"
                                      "\"opacity\":1,\"scale\":2}", "unknown member 'scale'"},

    /* subtitles */
    {&SUBTITLE, "burn", S_MODE("resources/1/subtitles/en.srt", "srt", "en", "burn"), NULL},
    {&SUBTITLE, "soft", S_MODE("resources/1/subtitles/pt.vtt", "vtt", "pt-BR", "soft"), NULL},
    {&SUBTITLE, "ass, und", S_MODE("resources/1/subtitles/x.ass", "ass", "und", "burn"), NULL},
    {&SUBTITLE, "old shape without mode", S("resources/1/subtitles/en.srt", "srt", "en") "}", NULL},
    {&SUBTITLE, "an unknown mode", S_MODE("resources/1/subtitles/en.srt", "srt", "en", "hard"),
     "'mode' must be burn or soft, not 'hard'"},
    {&SUBTITLE, "an unknown format", S_MODE("resources/1/subtitles/en.sub", "sub", "en", "burn"),
     "'format' must be srt, vtt or ass, not 'sub'"},
    {&SUBTITLE, "a bad language", S_MODE("resources/1/subtitles/en.srt", "srt", "english-language-x", "burn"),
     "'english-language-x' is not a language code"},
    {&SUBTITLE, "a one-letter language", S_MODE("resources/1/subtitles/en.srt", "srt", "e", "burn"),
     "not a language code"},
    {&SUBTITLE, "a file that climbs", S_MODE("../en.srt", "srt", "en", "burn"), "file must be a path under the data"},
    {&SUBTITLE, "no language", "{\"file\":\"a.srt\",\"format\":\"srt\"}", "'language' is missing"},
    {&SUBTITLE, "mode not a string", S("resources/1/subtitles/en.srt", "srt", "en") ",\"mode\":1}",
     "'mode' must be a string"},

    /* workflows */
    {&WORKFLOW, "all kinds",
     "{\"steps\":[" STEP("probe") "," STEP("snapshot") "," STEP_REF("transcode", "template", "hd") ","
     STEP_REF("transcode", "template", "sd") "," STEP_REF("watermark", "watermark", "logo") ","
     STEP_REF("subtitle", "subtitle", "sub0123456789abcdef0123456789a") "]}", NULL},
    {&WORKFLOW, "one step", "{\"steps\":[" STEP("probe") "]}", NULL},
    {&WORKFLOW, "no steps", "{\"steps\":[]}", "at least one step"},
    {&WORKFLOW, "steps not an array", "{\"steps\":\"probe\"}", "'steps' must be an array"},
    {&WORKFLOW, "a step not an object", "{\"steps\":[\"probe\"]}", "each step must be an object"},
    {&WORKFLOW, "an unknown kind", "{\"steps\":[" STEP("encode") "]}",
     "'kind' must be probe, snapshot, transcode, watermark or subtitle, not 'encode'"},
    {&WORKFLOW, "probe with a reference", "{\"steps\":[" STEP_REF("probe", "template", "hd") "]}",
     "unknown member 'template'"},
    {&WORKFLOW, "transcode without a template", "{\"steps\":[" STEP("transcode") "]}", "'template' is missing"},
    {&WORKFLOW, "transcode with another kind's member", "{\"steps\":[" STEP_REF("transcode", "watermark", "hd") "]}",
     "unknown member 'watermark'"},
    {&WORKFLOW, "a reference that is not a name", "{\"steps\":[" STEP_REF("transcode", "template", "../hd") "]}",
     "step 'transcode' needs a template name"},
    {&WORKFLOW, "two watermarks",
     "{\"steps\":[" STEP_REF("watermark", "watermark", "a") "," STEP_REF("watermark", "watermark", "b") "]}",
     "steps 1 and 2 are both 'watermark=b'; a workflow has one of each"},
    {&WORKFLOW, "two subtitles",
     "{\"steps\":[" STEP_REF("subtitle", "subtitle", "a") "," STEP_REF("subtitle", "subtitle", "b") "]}",
     "a workflow has one of each"},
    {&WORKFLOW, "a template twice",
     "{\"steps\":[" STEP_REF("transcode", "template", "hd") "," STEP("probe") "," STEP_REF("transcode", "template", "hd")
     "]}", "steps 1 and 3 are both 'transcode=hd'"},
    {&WORKFLOW, "probe twice", "{\"steps\":[" STEP("probe") "," STEP("probe") "]}", "both 'probe'"},
    {&WORKFLOW, "an unknown member", "{\"steps\":[" STEP("probe") "],\"name\":\"x\"}", "unknown member 'name'"},
};

static void test_parse_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const parse_case_t *c = &parse_cases[i];
        any_spec_t s;
        spec_error_t err = {{0}};
        bool ok = c->kind->parse(c->json, &s, &err);
        print_message("  %-9s %-40s %s\n", c->kind->name, c->what, ok ? "ok" : err.message);
        if (ok != (c->error == NULL))
            fail_msg("%s '%s': expected %s, got %s", c->kind->name, c->what, c->error ? c->error : "valid",
                     ok ? "valid" : err.message);
        if (c->error && !strstr(err.message, c->error))
            fail_msg("%s '%s': message '%s' lacks '%s'", c->kind->name, c->what, err.message, c->error);
    }
}

/* parse -> serialise -> parse gives the same struct, and serialising that
 * gives the same text (the canonical form is a fixed point). */
static void test_round_trip(void **state)
{
    (void)state;
    size_t checked = 0;
    for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
        const parse_case_t *c = &parse_cases[i];
        if (c->error)
            continue;
        any_spec_t first, second;
        spec_error_t err;
        assert_true(c->kind->parse(c->json, &first, &err));
        char *text = c->kind->to_json(&first);
        assert_non_null(text);
        if (!c->kind->parse(text, &second, &err))
            fail_msg("%s '%s': its serialisation %s does not parse: %s", c->kind->name, c->what, text, err.message);
        if (!c->kind->equal(&first, &second))
            fail_msg("%s '%s': %s parses to another spec", c->kind->name, c->what, text);
        char *again = c->kind->to_json(&second);
        assert_non_null(again);
        assert_string_equal(text, again);
        free(again);
        free(text);
        checked++;
    }
    assert_true(checked >= 20);
}

/* ---- the shapes stored before renditions and modes ---- */

static void test_old_template_is_one_rendition(void **state)
{
    (void)state;
    spec_template_t t;
    spec_error_t err;
    assert_true(spec_template_parse(T_OLD("hls", "h265", "mp3", 1280, 720, 2500, 128), &t, &err));
    assert_int_equal(t.container, SPEC_CONTAINER_HLS);
    assert_int_equal(t.video_codec, SPEC_VIDEO_H265);
    assert_int_equal(t.audio_codec, SPEC_AUDIO_MP3);
    assert_int_equal(t.audio_bitrate, 128);
    assert_int_equal(t.rendition_count, 1);
    assert_int_equal(t.renditions[0].width, 1280);
    assert_int_equal(t.renditions[0].height, 720);
    assert_int_equal(t.renditions[0].video_bitrate, 2500);
    /* It is written back in the new shape. */
    char *text = spec_template_to_json(&t);
    assert_string_equal(text, "{\"container\":\"hls\",\"videoCodec\":\"h265\",\"audioCodec\":\"mp3\",\"audioBitrate\":128,"
                              "\"renditions\":[{\"width\":1280,\"height\":720,\"videoBitrate\":2500}]}");
    free(text);
}

static void test_old_subtitle_burns(void **state)
{
    (void)state;
    spec_subtitle_t s;
    spec_error_t err;
    assert_true(spec_subtitle_parse(S("resources/1/subtitles/en.srt", "srt", "en") "}", &s, &err));
    assert_int_equal(s.mode, SPEC_SUBTITLE_BURN);
    assert_string_equal(s.file, "resources/1/subtitles/en.srt");
    assert_string_equal(s.language, "en");
    char *text = spec_subtitle_to_json(&s);
    assert_string_equal(text, "{\"file\":\"resources/1/subtitles/en.srt\",\"format\":\"srt\",\"language\":\"en\","
                              "\"mode\":\"burn\"}");
    free(text);
    assert_true(spec_subtitle_parse(S_MODE("a.vtt", "vtt", "en", "soft"), &s, &err));
    assert_int_equal(s.mode, SPEC_SUBTITLE_SOFT);
}

/* ---- the text forms ---- */

typedef struct rendition_case {
    const char *text;
    int w, h, kbps;    /* expected when error is NULL */
    const char *error; /* a part of the message */
} rendition_case_t;

static const rendition_case_t rendition_cases[] = {
    {"1280x720", 1280, 720, 0, NULL},
    {"1280x720@2500", 1280, 720, 2500, NULL},
    {"720x1280@1", 720, 1280, 1, NULL},
    {"853x481", 853, 481, 0, NULL}, /* odd: the planner evens it */
    {"16x16", 16, 16, 0, NULL},
    {"8192x8192@100000", 8192, 8192, 100000, NULL},
    {"15x720", 0, 0, 0, "width and height must be 16..8192"},
    {"1280x8193", 0, 0, 0, "width and height must be 16..8192"},
    {"0x0", 0, 0, 0, "width and height must be 16..8192"},
    {"1280x720@0", 0, 0, 0, "the bitrate must be 1..100000 kbps"},
    {"1280x720@100001", 0, 0, 0, "the bitrate must be 1..100000 kbps"},
    {"1280x720@", 0, 0, 0, "is not WxH[@KBPS]"},
    {"1280X720", 0, 0, 0, "is not WxH[@KBPS]"},
    {"1280*720", 0, 0, 0, "is not WxH[@KBPS]"},
    {"1280x", 0, 0, 0, "is not WxH[@KBPS]"},
    {"x720", 0, 0, 0, "is not WxH[@KBPS]"},
    {"-1280x720", 0, 0, 0, "is not WxH[@KBPS]"},
    {"+1280x720", 0, 0, 0, "is not WxH[@KBPS]"},
    {" 1280x720", 0, 0, 0, "is not WxH[@KBPS]"},
    {"1280x720 ", 0, 0, 0, "is not WxH[@KBPS]"},
    {"1280x720@2500k", 0, 0, 0, "is not WxH[@KBPS]"},
    {"1280x720x2", 0, 0, 0, "is not WxH[@KBPS]"},
    {"99999999999x720", 0, 0, 0, "is not WxH[@KBPS]"},
    {"", 0, 0, 0, "is not WxH[@KBPS]"},
};

static void test_rendition_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rendition_cases) / sizeof(rendition_cases[0]); i++) {
        const rendition_case_t *c = &rendition_cases[i];
        spec_rendition_t r;
        spec_error_t err = {{0}};
        bool ok = spec_rendition_parse_text(c->text, &r, &err);
        print_message("  %-20s %s\n", c->text, ok ? "ok" : err.message);
        if (ok != (c->error == NULL))
            fail_msg("'%s': expected %s", c->text, c->error ? c->error : "valid");
        if (c->error) {
            assert_non_null(strstr(err.message, c->error));
            continue;
        }
        assert_int_equal(r.width, c->w);
        assert_int_equal(r.height, c->h);
        assert_int_equal(r.video_bitrate, c->kbps);
        /* Written back as the same text. */
        char back[48];
        spec_rendition_format(&r, back, sizeof(back));
        assert_string_equal(back, c->text);
    }
    char text[48];
    spec_rendition_format(&(spec_rendition_t){0, 0, 0}, text, sizeof(text));
    assert_string_equal(text, "source");
}

typedef struct step_case {
    const char *text;
    enum spec_step_kind kind;
    const char *ref;
    const char *error;
} step_case_t;

static const step_case_t step_cases[] = {
    {"probe", SPEC_STEP_PROBE, "", NULL},
    {"snapshot", SPEC_STEP_SNAPSHOT, "", NULL},
    {"transcode=hd", SPEC_STEP_TRANSCODE, "hd", NULL},
    {"watermark=logo.v2", SPEC_STEP_WATERMARK, "logo.v2", NULL},
    {"subtitle=sub0123456789abcdef0123456789a", SPEC_STEP_SUBTITLE, "sub0123456789abcdef0123456789a", NULL},
    {"probe=x", 0, NULL, "step 'probe' takes no argument"},
    {"snapshot=", 0, NULL, "step 'snapshot' takes no argument"},
    {"transcode", 0, NULL, "step 'transcode' needs a template name"},
    {"transcode=", 0, NULL, "needs a template name"},
    {"watermark", 0, NULL, "step 'watermark' needs a watermark name"},
    {"subtitle", 0, NULL, "step 'subtitle' needs a subtitleId"},
    {"transcode=../x", 0, NULL, "needs a template name"},
    {"transcode=.hidden", 0, NULL, "needs a template name"},
    {"transcode=0123456789012345678901234567890123456789012345678901234567890123456789", 0, NULL, "longer than 64"},
    {"encode=hd", 0, NULL, "unknown step 'encode'"},
    {"averyveryverylongkind", 0, NULL, "unknown step 'averyveryverylongkind'"},
    {"", 0, NULL, "unknown step ''"},
};

static void test_step_text(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(step_cases) / sizeof(step_cases[0]); i++) {
        const step_case_t *c = &step_cases[i];
        spec_step_t s;
        spec_error_t err = {{0}};
        bool ok = spec_step_parse_text(c->text, &s, &err);
        print_message("  %-30s %s\n", c->text, ok ? "ok" : err.message);
        if (ok != (c->error == NULL))
            fail_msg("'%s': expected %s", c->text, c->error ? c->error : "valid");
        if (c->error) {
            assert_non_null(strstr(err.message, c->error));
            continue;
        }
        assert_int_equal(s.kind, c->kind);
        assert_string_equal(s.ref, c->ref);
    }
}

static void test_workflow_format(void **state)
{
    (void)state;
    spec_workflow_t w = {.step_count = 3};
    spec_error_t err;
    assert_true(spec_step_parse_text("probe", &w.steps[0], &err));
    assert_true(spec_step_parse_text("transcode=hd", &w.steps[1], &err));
    assert_true(spec_step_parse_text("watermark=logo", &w.steps[2], &err));
    assert_true(spec_workflow_check(&w, &err));
    char text[128];
    spec_workflow_format(&w, text, sizeof(text));
    assert_string_equal(text, "probe,transcode=hd,watermark=logo");
    char *json = spec_workflow_to_json(&w);
    assert_string_equal(json, "{\"steps\":[{\"kind\":\"probe\"},{\"kind\":\"transcode\",\"template\":\"hd\"},"
                              "{\"kind\":\"watermark\",\"watermark\":\"logo\"}]}");
    free(json);
}

/* ---- structs built in code (admin's path) ---- */

static void test_template_built_in_code(void **state)
{
    (void)state;
    spec_template_t t;
    spec_error_t err;
    spec_template_init(&t, SPEC_CONTAINER_WEBM);
    assert_int_equal(t.video_codec, SPEC_VIDEO_VP9);
    assert_int_equal(t.audio_codec, SPEC_AUDIO_OPUS);
    assert_false(spec_template_check(&t, &err)); /* no rendition yet */
    assert_non_null(strstr(err.message, "at least one rendition"));
    t.renditions[t.rendition_count++] = (spec_rendition_t){1280, 720, 2500};
    assert_true(spec_template_check(&t, &err));
    t.rendition_count = SPEC_RENDITIONS_MAX + 1;
    assert_false(spec_template_check(&t, &err));
    assert_non_null(strstr(err.message, "at most 8 renditions"));
    t.rendition_count = 1;
    t.container = (enum spec_container)42;
    assert_false(spec_template_check(&t, &err));
    assert_null(spec_template_to_json(&t));

    spec_template_init(&t, SPEC_CONTAINER_MP4);
    assert_int_equal(t.video_codec, SPEC_VIDEO_H264);
    assert_int_equal(t.audio_codec, SPEC_AUDIO_AAC);
}

static void test_watermark_and_subtitle_defaults(void **state)
{
    (void)state;
    spec_watermark_t w;
    spec_error_t err;
    spec_watermark_init(&w);
    assert_int_equal(w.position, SPEC_POSITION_TOP_RIGHT);
    assert_int_equal(w.offset_x, 16);
    assert_int_equal(w.offset_y, 16);
    assert_true(w.opacity == 1.0);
    assert_false(spec_watermark_check(&w, &err)); /* no image yet */
    strcpy(w.image, "resources/1/watermarks/logo.png");
    assert_true(spec_watermark_check(&w, &err));
    char *text = spec_watermark_to_json(&w);
    assert_string_equal(text, "{\"image\":\"resources/1/watermarks/logo.png\",\"position\":\"top-right\","
                              "\"offsetX\":16,\"offsetY\":16,\"opacity\":1.0}");
    free(text);

    spec_subtitle_t s;
    spec_subtitle_init(&s);
    assert_string_equal(s.language, "und");
    assert_int_equal(s.mode, SPEC_SUBTITLE_BURN);
    assert_false(spec_subtitle_check(&s, &err)); /* no file yet */
}

/* ---- field rules and enums ---- */

static void test_field_rules(void **state)
{
    (void)state;
    static const struct {
        long v;
        bool dimension, video, audio, offset;
    } cases[] = {
        {-1, false, false, false, false},     {0, true, true, true, true},       {1, false, true, true, true},
        {15, false, true, true, true},        {16, true, true, true, true},      {8192, true, true, true, true},
        {8193, false, true, true, true},      {10000, false, true, true, true},  {10001, false, true, false, true},
        {100000, false, true, false, true},   {100001, false, false, false, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(spec_dimension_valid(cases[i].v), cases[i].dimension);
        assert_int_equal(spec_video_bitrate_valid(cases[i].v), cases[i].video);
        assert_int_equal(spec_audio_bitrate_valid(cases[i].v), cases[i].audio);
        assert_int_equal(spec_offset_valid(cases[i].v), cases[i].offset);
    }
    assert_true(spec_opacity_valid(0) && spec_opacity_valid(1) && spec_opacity_valid(0.5));
    assert_false(spec_opacity_valid(-0.01) || spec_opacity_valid(1.01) || spec_opacity_valid(0.0 / 0.0));
}

static void test_names_paths_languages(void **state)
{
    (void)state;
    static const char *const good_names[] = {"hd", "a", "HD-720p_v2.1", "sub0123456789abcdef0123456789a",
                                             "0123456789012345678901234567890123456789012345678901234567890123"};
    static const char *const bad_names[] = {"", ".", "..", ".hd", "a/b", "a b", "é",
                                            "01234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof(good_names) / sizeof(good_names[0]); i++)
        assert_true(spec_name_valid(good_names[i]));
    for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
        assert_false(spec_name_valid(bad_names[i]));
    assert_false(spec_name_valid(NULL));

    static const char *const good_paths[] = {"a.png", "resources/1/watermarks/logo.png"};
    static const char *const bad_paths[] = {"", "/abs", "a//b", "a/", "../a", "a/../b", "a/./b", "a/.b", "a b"};
    for (size_t i = 0; i < sizeof(good_paths) / sizeof(good_paths[0]); i++)
        assert_true(spec_resource_path_valid(good_paths[i]));
    for (size_t i = 0; i < sizeof(bad_paths) / sizeof(bad_paths[0]); i++)
        if (spec_resource_path_valid(bad_paths[i]))
            fail_msg("path '%s' accepted", bad_paths[i]);

    static const char *const good_langs[] = {"en", "und", "pt-BR", "zh-Hans", "sr-Latn-RS", "de-1996"};
    static const char *const bad_langs[] = {"", "e", "engl", "en_US", "en-", "-en", "en--US", "en-abcdefghi", "e1"};
    for (size_t i = 0; i < sizeof(good_langs) / sizeof(good_langs[0]); i++)
        assert_true(spec_language_valid(good_langs[i]));
    for (size_t i = 0; i < sizeof(bad_langs) / sizeof(bad_langs[0]); i++)
        if (spec_language_valid(bad_langs[i]))
            fail_msg("language '%s' accepted", bad_langs[i]);
}

static void test_container_predicates(void **state)
{
    (void)state;
    /* Rows: mp4, webm, mkv, hls.  Columns: the codecs in enum order. */
    static const bool video[4][5] = {
        {1, 1, 1, 1, 1}, {0, 0, 1, 1, 1}, {1, 1, 1, 1, 1}, {1, 1, 0, 0, 1}};
    static const bool audio[4][4] = {{1, 1, 1, 1}, {0, 1, 0, 1}, {1, 1, 1, 1}, {1, 0, 1, 1}};
    for (int c = 0; c < 4; c++) {
        assert_int_equal(spec_container_is_segmented((enum spec_container)c), c == SPEC_CONTAINER_HLS);
        for (int v = 0; v < 5; v++)
            assert_int_equal(spec_container_holds_video((enum spec_container)c, (enum spec_video_codec)v), video[c][v]);
        for (int a = 0; a < 4; a++)
            assert_int_equal(spec_container_holds_audio((enum spec_container)c, (enum spec_audio_codec)a), audio[c][a]);
        /* A container's defaults are codecs it holds. */
        assert_true(spec_container_holds_video((enum spec_container)c,
                                               spec_container_default_video((enum spec_container)c)));
        assert_true(spec_container_holds_audio((enum spec_container)c,
                                               spec_container_default_audio((enum spec_container)c)));
    }
    assert_true(spec_step_kind_takes_ref(SPEC_STEP_TRANSCODE) && spec_step_kind_takes_ref(SPEC_STEP_WATERMARK) &&
                spec_step_kind_takes_ref(SPEC_STEP_SUBTITLE));
    assert_false(spec_step_kind_takes_ref(SPEC_STEP_PROBE) || spec_step_kind_takes_ref(SPEC_STEP_SNAPSHOT));
}

static void test_enum_names(void **state)
{
    (void)state;
    static const char *const containers[] = {"mp4", "webm", "mkv", "hls"};
    for (int i = 0; i < 4; i++) {
        enum spec_container c;
        assert_string_equal(spec_container_name((enum spec_container)i), containers[i]);
        assert_true(spec_container_parse(containers[i], &c));
        assert_int_equal(c, i);
    }
    enum spec_container c;
    enum spec_position p;
    enum spec_subtitle_mode m;
    enum spec_subtitle_format f;
    enum spec_video_codec v;
    enum spec_audio_codec a;
    assert_false(spec_container_parse("MP4", &c));
    assert_false(spec_container_parse(NULL, &c));
    assert_null(spec_container_name((enum spec_container)4));
    assert_true(spec_position_parse("bottom-right", &p) && p == SPEC_POSITION_BOTTOM_RIGHT);
    assert_true(spec_subtitle_mode_parse("soft", &m) && m == SPEC_SUBTITLE_SOFT);
    assert_false(spec_subtitle_mode_parse("", &m));
    assert_true(spec_subtitle_format_parse("ass", &f) && f == SPEC_SUBTITLE_ASS);
    assert_true(spec_video_codec_parse("av1", &v) && v == SPEC_VIDEO_AV1);
    assert_true(spec_audio_codec_parse("mp3", &a) && a == SPEC_AUDIO_MP3);
    assert_string_equal(spec_step_kind_name(SPEC_STEP_SNAPSHOT), "snapshot");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_old_template_is_one_rendition),
        cmocka_unit_test(test_old_subtitle_burns),
        cmocka_unit_test(test_rendition_text),
        cmocka_unit_test(test_step_text),
        cmocka_unit_test(test_workflow_format),
        cmocka_unit_test(test_template_built_in_code),
        cmocka_unit_test(test_watermark_and_subtitle_defaults),
        cmocka_unit_test(test_field_rules),
        cmocka_unit_test(test_names_paths_languages),
        cmocka_unit_test(test_container_predicates),
        cmocka_unit_test(test_enum_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
