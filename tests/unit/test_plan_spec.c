/*
 * test_plan_spec: a task's frozen plan as the store keeps it (plan_spec.h).
 * The canonical text of a full plan is pinned (it is what older tasks hold
 * when a later vodup reads them); every accepted text survives
 * parse -> serialise -> parse as a fixed point; one table of stored texts
 * that are refused, each with the start of its reason; then the rules on
 * structs built in code, the lookups and the default rendition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "process/plan_spec.h"

#define OBJECT "0123456789abcdef0123456789abcdef"
#define KEY "video/20261204/0123456789abcdef0123456789abcdef/a.mp4"
#define HEAD "{\"version\":1,\"objectId\":\"" OBJECT "\",\"fileKey\":\"" KEY "\","
#define TEMPLATE_HD                                                                                                 \
    "{\"container\":\"hls\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":0,"                   \
    "\"renditions\":[{\"width\":1280,\"height\":720,\"videoBitrate\":0}]}"
#define TEMPLATE_SD                                                                                                 \
    "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":0,"                   \
    "\"renditions\":[{\"width\":640,\"height\":360,\"videoBitrate\":800}]}"
#define WATERMARK                                                                                                   \
    "{\"image\":\"resources/1/watermarks/logo.png\",\"position\":\"top-left\",\"offsetX\":8,\"offsetY\":8,"      \
    "\"opacity\":0.3}"
#define SUBTITLE "{\"file\":\"resources/1/subtitles/en.srt\",\"format\":\"srt\",\"language\":\"en\",\"mode\":\"soft\"}"
#define STEP_HD "{\"kind\":\"transcode\",\"name\":\"hd\",\"template\":" TEMPLATE_HD "}"
#define STEP_SD "{\"kind\":\"transcode\",\"name\":\"sd\",\"template\":" TEMPLATE_SD "}"
#define STEP_LOGO "{\"kind\":\"watermark\",\"name\":\"logo\",\"watermark\":" WATERMARK "}"
#define STEP_SUB "{\"kind\":\"subtitle\",\"name\":\"sub1\",\"subtitle\":" SUBTITLE "}"
/* A fops' steps (fops_plan.h): keyed outputs, a segment length, frames. */
#define STEP_KEYED_HLS                                                                                              \
    "{\"kind\":\"transcode\",\"name\":\"fops1\",\"template\":" TEMPLATE_HD ",\"key\":\"hls/main.m3u8\","         \
    "\"segmentSeconds\":2}"
#define STEP_KEYED_SD "{\"kind\":\"transcode\",\"name\":\"fops2\",\"template\":" TEMPLATE_SD ",\"key\":\"a/b.mp4\"}"
#define STEP_FRAME "{\"kind\":\"snapshot\",\"key\":\"thumbs/1.jpg\",\"atMs\":1500,\"width\":320}"
#define TEMPLATE_SD2                                                                                                \
    "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":0,"                   \
    "\"renditions\":[{\"width\":640,\"height\":360,\"videoBitrate\":0},{\"width\":320,\"height\":180,"          \
    "\"videoBitrate\":0}]}"
#define SNAP(extra) HEAD "\"steps\":[{\"kind\":\"snapshot\"" extra "}]}"
#define KEYED(template, extra)                                                                                      \
    HEAD "\"steps\":[{\"kind\":\"transcode\",\"name\":\"fops1\",\"template\":" template extra "}]}"
#define FRAME_N(n) "{\"kind\":\"snapshot\",\"key\":\"" #n ".jpg\"}"

/* Every step kind, in the order plan_freeze writes them without a workflow. */
static const char full_plan[] = HEAD "\"steps\":[{\"kind\":\"probe\"},{\"kind\":\"snapshot\"}," STEP_HD "," STEP_LOGO
                                     "," STEP_SUB "]}";
/* A fops job (fops_plan.h) in canonical text: every keyed member, a frame
 * at offset 0 and one at the cover's time (no atMs). */
static const char fops_plan[] = HEAD "\"steps\":[{\"kind\":\"probe\"},{\"kind\":\"snapshot\"}," STEP_KEYED_HLS
                                     "," STEP_KEYED_SD "," STEP_FRAME
                                     ",{\"kind\":\"snapshot\",\"key\":\"0.jpg\",\"atMs\":0,\"height\":90},"
                                     "{\"kind\":\"snapshot\",\"key\":\"mid.jpg\",\"width\":64,\"height\":64}],"
                                     "\"fops\":true}";

/* ---- helpers ---- */

static plan_spec_t *parse_ok(const char *text)
{
    plan_spec_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX] = "";
    assert_non_null(p);
    if (!plan_spec_parse(text, p, err, sizeof(err)))
        fail_msg("refused (%s): %s", err, text);
    return p;
}

static void assert_round_trip(const char *text)
{
    plan_spec_t *a = parse_ok(text);
    char *once = plan_spec_to_json(a);
    assert_non_null(once);
    plan_spec_t *b = parse_ok(once);
    char *twice = plan_spec_to_json(b);
    assert_non_null(twice);
    assert_string_equal(once, twice);
    assert_int_equal(a->step_count, b->step_count);
    assert_string_equal(a->error, b->error);
    free(once);
    free(twice);
    free(a);
    free(b);
}

/* ---- the stored text ---- */

static void test_canonical_text_is_pinned(void **state)
{
    (void)state;
    plan_spec_t *p = parse_ok(full_plan);
    char *text = plan_spec_to_json(p);
    assert_string_equal(text, full_plan);
    free(text);
    free(p);
}

static void test_fields_are_read(void **state)
{
    (void)state;
    plan_spec_t *p = parse_ok(full_plan);
    assert_string_equal(p->object_id, OBJECT);
    assert_string_equal(p->file_key, KEY);
    assert_int_equal(p->step_count, 5);
    assert_int_equal(p->steps[0].kind, SPEC_STEP_PROBE);
    assert_string_equal(p->steps[0].name, "");
    assert_int_equal(p->steps[2].u.template_spec.container, SPEC_CONTAINER_HLS);
    assert_int_equal(p->steps[2].u.template_spec.renditions[0].height, 720);
    assert_int_equal(p->steps[3].u.watermark.offset_x, 8);
    assert_true(p->steps[3].u.watermark.opacity > 0.29 && p->steps[3].u.watermark.opacity < 0.31);
    assert_int_equal(p->steps[4].u.subtitle.mode, SPEC_SUBTITLE_SOFT);
    assert_string_equal(p->error, "");
    free(p);
}

static const char *const accepted[] = {
    full_plan,
    /* A plan that could not be frozen: its error is the whole plan. */
    HEAD "\"steps\":[],\"error\":\"transcode: template \\\"gone\\\" no longer exists\"}",
    /* A workflow's order, two transcodes, no snapshot. */
    HEAD "\"steps\":[" STEP_SD ",{\"kind\":\"probe\"}," STEP_LOGO "," STEP_HD "]}",
    /* The default rendition. */
    HEAD "\"steps\":[{\"kind\":\"probe\"},{\"kind\":\"transcode\",\"name\":\"" PLAN_DEFAULT_TEMPLATE
         "\",\"template\":{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":0,"
         "\"renditions\":[{\"width\":0,\"height\":0,\"videoBitrate\":0}]}}," STEP_SUB "]}",
    /* A fops job: keyed outputs, frames beside the cover, "fops". */
    fops_plan,
    /* A keyed file's name is free; members at their defaults; a keyed HLS
     * ladder; a fops' 8 keyed steps after a workflow's steps. */
    KEYED(TEMPLATE_SD, ",\"key\":\"clips/raw\""),
    SNAP(",\"key\":\"a.jpg\",\"atMs\":86400000,\"width\":0,\"height\":0"),
    HEAD "\"steps\":[{\"kind\":\"transcode\",\"name\":\"fops1\",\"template\":{\"container\":\"hls\","
         "\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":0,\"renditions\":[{\"width\":1280,"
         "\"height\":720,\"videoBitrate\":0},{\"width\":640,\"height\":360,\"videoBitrate\":0}]},"
         "\"key\":\"a/b/c/f.m3u8\",\"segmentSeconds\":120}]}",
    HEAD "\"steps\":[{\"kind\":\"probe\"},{\"kind\":\"snapshot\"}," STEP_HD "," STEP_LOGO "," STEP_SUB "," FRAME_N(1)
         "," FRAME_N(2) "," FRAME_N(3) "," FRAME_N(4) "," FRAME_N(5) "," FRAME_N(6) "," FRAME_N(7) "," FRAME_N(8)
         "],\"fops\":false}",
    /* A template stored in the older one-rendition shape is read as one rendition. */
    HEAD "\"steps\":[{\"kind\":\"transcode\",\"name\":\"old\",\"template\":{\"container\":\"mp4\","
         "\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":96,\"width\":640,\"height\":360,"
         "\"videoBitrate\":700}}]}",
};

static void test_accepted_texts_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
        assert_round_trip(accepted[i]);
}

static void test_error_plan(void **state)
{
    (void)state;
    plan_spec_t *p = parse_ok(accepted[1]);
    assert_string_equal(p->error, "transcode: template \"gone\" no longer exists");
    assert_int_equal(p->step_count, 0);
    free(p);
}

/* ---- refused texts ---- */

typedef struct refused_case {
    const char *text;
    const char *reason; /* the start of the message */
} refused_case_t;

static const refused_case_t refused[] = {
    {HEAD "\"steps\":[{\"kind\":\"transcode\",\"name\":\"fops1\",\"template\":" TEMPLATE_HD
          ",\"key\":\"x.m3u8\"}," STEP_SUB "]}",
     "plan: step 1's HLS key must be <directory>/<name>.m3u8 with a soft subtitle"},
    {HEAD "\"steps\":[{\"kind\":\"snapshot\",\"key\":\"a/b/c/d/e.jpg\",\"atMs\":1}]}",
     "plan: step 1's key has more than 4 segments"},
    /* Keyed steps' rules: the key's form. */
    {KEYED(TEMPLATE_SD, ",\"key\":\"\""), "plan: 'key' is empty"},
    {KEYED(TEMPLATE_SD, ",\"key\":5"), "plan: 'key' must be a string"},
    {SNAP(",\"key\":\"../a.jpg\""), "plan: step 1's key is not a key of 1..64-byte segments"},
    {SNAP(",\"key\":\"a//b.jpg\""), "plan: step 1's key is not a key of 1..64-byte segments"},
    {SNAP(",\"key\":\"/a.jpg\""), "plan: step 1's key is not a key of 1..64-byte segments"},
    {SNAP(",\"key\":\"a/\""), "plan: step 1's key is not a key of 1..64-byte segments"},
    {SNAP(",\"key\":\"a/.b.jpg\""), "plan: step 1's key is not a key of 1..64-byte segments"},
    {SNAP(",\"key\":\"a b.jpg\""), "plan: step 1's key is not a key of 1..64-byte segments"},
    {SNAP(",\"key\":\"" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.jpg\""), /* 69 bytes */
     "plan: step 1's key is not a key of 1..64-byte segments"},
    {SNAP(",\"key\":\"a.png\""), "plan: step 1's key must end in .jpg"},
    {SNAP(",\"key\":\".jpg\""), "plan: step 1's key is not a key"},
    {KEYED(TEMPLATE_HD, ",\"key\":\"hls/main.mp4\""), "plan: step 1's key must end in .m3u8"},
    {SNAP(",\"key\":\"a.mp4\""), "plan: step 1's key is the original's own name"},
    {KEYED(TEMPLATE_SD, ",\"key\":\"a.mp4\""), "plan: step 1's key is the original's own name"},
    {SNAP(",\"key\":\"a.mp4/x.jpg\""), "plan: step 1's key is under the original's own name"},
    {SNAP(",\"key\":\"cover.jpg\""), "plan: step 1's key is the cover's (cover.jpg)"},
    /* ... against the other keys. */
    {HEAD "\"steps\":[" STEP_FRAME "," STEP_FRAME "]}", "plan: steps 1 and 2 have the same key"},
    {HEAD "\"steps\":[" STEP_KEYED_SD ",{\"kind\":\"snapshot\",\"key\":\"a/b.mp4\"}]}",
     "plan: step 2's key must end in .jpg"},
    {HEAD "\"steps\":[" STEP_KEYED_SD ",{\"kind\":\"snapshot\",\"key\":\"a/b.mp4/c.jpg\"}]}",
     "plan: steps 1 and 2 have keys where one is the other's directory"},
    {HEAD "\"steps\":[{\"kind\":\"snapshot\",\"key\":\"x/y.jpg\"},{\"kind\":\"transcode\",\"name\":\"t\","
          "\"template\":" TEMPLATE_SD ",\"key\":\"x\"}]}",
     "plan: steps 1 and 2 have keys where one is the other's directory"},
    {HEAD "\"steps\":[" FRAME_N(1) "," FRAME_N(2) "," FRAME_N(3) "," FRAME_N(4) "," FRAME_N(5) "," FRAME_N(6) ","
          FRAME_N(7) "," FRAME_N(8) "," FRAME_N(9) "]}",
     "plan: it has more than 8 keyed steps"},
    /* A keyed transcode: one file, a segment length only for HLS. */
    {KEYED(TEMPLATE_SD2, ",\"key\":\"b.mp4\""), "plan: step 1 has a key and 2 renditions (a file is one)"},
    {KEYED(TEMPLATE_SD, ",\"segmentSeconds\":2"), "plan: step 1's segmentSeconds must be 1..120, on an HLS template"},
    {KEYED(TEMPLATE_HD, ",\"segmentSeconds\":0"), "plan: 'segmentSeconds' must be an integer in 1..120"},
    {KEYED(TEMPLATE_HD, ",\"segmentSeconds\":121"), "plan: 'segmentSeconds' must be an integer in 1..120"},
    {KEYED(TEMPLATE_HD, ",\"segmentSeconds\":2.5"), "plan: 'segmentSeconds' must be an integer in 1..120"},
    {KEYED(TEMPLATE_HD, ",\"width\":320"), "plan: a step has an unknown member 'width'"},
    {KEYED(TEMPLATE_HD, ",\"atMs\":1"), "plan: a step has an unknown member 'atMs'"},
    /* A frame's time and box; the cover takes neither. */
    {SNAP(",\"atMs\":1"), "plan: only a snapshot with a key (a frame) takes atMs"},
    {SNAP(",\"width\":320"), "plan: step 1 is the cover (no key): it takes no time or box"},
    {SNAP(",\"key\":\"a.jpg\",\"atMs\":-1"), "plan: 'atMs' must be an integer in 0..86400000"},
    {SNAP(",\"key\":\"a.jpg\",\"atMs\":86400001"), "plan: 'atMs' must be an integer in 0..86400000"},
    {SNAP(",\"key\":\"a.jpg\",\"atMs\":1.5"), "plan: 'atMs' must be an integer in 0..86400000"},
    {SNAP(",\"key\":\"a.jpg\",\"width\":8"), "plan: step 1's box sides must be 0 or 16..8192"},
    {SNAP(",\"key\":\"a.jpg\",\"height\":8193"), "plan: 'height' must be an integer in 0..8192"},
    {SNAP(",\"key\":\"a.jpg\",\"segmentSeconds\":2"), "plan: a step has an unknown member 'segmentSeconds'"},
    {HEAD "\"steps\":[{\"kind\":\"snapshot\"},{\"kind\":\"snapshot\"}]}", "plan: steps 1 and 2 are both 'snapshot'"},
    /* Only transcodes and snapshots have keys; "fops" is a boolean. */
    {HEAD "\"steps\":[{\"kind\":\"probe\",\"key\":\"a.jpg\"}]}", "plan: a step has an unknown member 'key'"},
    {HEAD "\"steps\":[{\"kind\":\"watermark\",\"name\":\"logo\",\"watermark\":" WATERMARK ",\"key\":\"a.jpg\"}]}",
     "plan: a step has an unknown member 'key'"},
    {HEAD "\"steps\":[],\"fops\":1}", "plan: 'fops' must be a boolean"},
    {NULL, "plan: not valid JSON"},
    {"", "plan: not valid JSON"},
    {"{\"version\":1,", "plan: not valid JSON"},
    {"[1]", "plan: not a JSON object"},
    {"{\"objectId\":\"" OBJECT "\",\"fileKey\":\"" KEY "\",\"steps\":[]}", "plan: 'version' must be an integer"},
    {"{\"version\":\"1\",\"objectId\":\"" OBJECT "\",\"fileKey\":\"" KEY "\",\"steps\":[]}",
     "plan: 'version' must be an integer"},
    {"{\"version\":2,\"objectId\":\"" OBJECT "\",\"fileKey\":\"" KEY "\",\"steps\":[]}",
     "plan: version 2 is not one this vodup reads (it reads 1)"},
    {HEAD "\"steps\":[],\"priority\":1}", "plan: the plan has an unknown member 'priority'"},
    {HEAD "\"steps\":[],\"steps\":[]}", "plan: not valid JSON"}, /* a duplicate member */
    {"{\"version\":1,\"objectId\":\"0123\",\"fileKey\":\"" KEY "\",\"steps\":[]}",
     "plan: the objectId must be 32 lowercase hex digits"},
    {"{\"version\":1,\"objectId\":\"0123456789ABCDEF0123456789ABCDEF\",\"fileKey\":\"" KEY "\",\"steps\":[]}",
     "plan: the objectId must be 32 lowercase hex digits"},
    {"{\"version\":1,\"objectId\":\"" OBJECT "\",\"steps\":[]}", "plan: 'fileKey' must be a string"},
    {"{\"version\":1,\"objectId\":\"" OBJECT "\",\"fileKey\":\"\",\"steps\":[]}", "plan: the fileKey must be"},
    {HEAD "\"steps\":{}}", "plan: 'steps' must be an array"},
    {HEAD "\"steps\":[],\"error\":7}", "plan: 'error' must be a string"},
    {HEAD "\"steps\":[\"probe\"]}", "plan: each step must be an object"},
    {HEAD "\"steps\":[{\"kind\":\"thumbnail\"}]}", "plan: a step's 'kind' must be"},
    {HEAD "\"steps\":[{\"kind\":\"probe\",\"name\":\"x\"}]}", "plan: a step has an unknown member 'name'"},
    {HEAD "\"steps\":[{\"kind\":\"transcode\",\"template\":" TEMPLATE_HD "}]}", "plan: 'name' must be a string"},
    {HEAD "\"steps\":[{\"kind\":\"transcode\",\"name\":\"hd\"}]}",
     "plan: 'template' of a transcode step must be an object"},
    {HEAD "\"steps\":[{\"kind\":\"transcode\",\"name\":\"hd\",\"template\":\"" "hls" "\"}]}",
     "plan: 'template' of a transcode step must be an object"},
    {HEAD "\"steps\":[{\"kind\":\"transcode\",\"name\":\"hd\",\"template\":" TEMPLATE_HD ",\"watermark\":{}}]}",
     "plan: a step has an unknown member 'watermark'"},
    {HEAD "\"steps\":[{\"kind\":\"transcode\",\"name\":\"../x\",\"template\":" TEMPLATE_HD "}]}",
     "plan: step 1 ('transcode') needs a name"},
    /* The embedded specs are checked by spec.c, and the reason names the step. */
    {HEAD "\"steps\":[{\"kind\":\"transcode\",\"name\":\"hd\",\"template\":{\"container\":\"avi\"}}]}",
     "transcode: template spec: 'container' must be"},
    {HEAD "\"steps\":[{\"kind\":\"watermark\",\"name\":\"w\",\"watermark\":{\"image\":\"../etc/passwd\","
          "\"position\":\"top-left\",\"offsetX\":0,\"offsetY\":0,\"opacity\":1}}]}",
     "watermark: the image must be a path under the data directory"},
    {HEAD "\"steps\":[{\"kind\":\"subtitle\",\"name\":\"s\",\"subtitle\":{\"file\":\"a.srt\",\"format\":\"srt\","
          "\"language\":\"english!\"}}]}",
     "subtitle: 'english!' is not a language code"},
    /* One of each, a transcode once per template. */
    {HEAD "\"steps\":[{\"kind\":\"probe\"},{\"kind\":\"probe\"}]}", "plan: steps 1 and 2 are both 'probe'"},
    {HEAD "\"steps\":[" STEP_LOGO "," STEP_LOGO "]}", "plan: steps 1 and 2 are both 'watermark=logo'"},
    {HEAD "\"steps\":[" STEP_HD ",{\"kind\":\"probe\"}," STEP_HD "]}", "plan: steps 1 and 3 are both 'transcode=hd'"},
};

static void test_refused_texts(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        plan_spec_t *p = calloc(1, sizeof(*p));
        char err[PLAN_ERROR_MAX] = "";
        assert_non_null(p);
        bool ok = plan_spec_parse(refused[i].text, p, err, sizeof(err));
        if (ok || strncmp(err, refused[i].reason, strlen(refused[i].reason)) != 0)
            fail_msg("case %zu: %s\n  got: %s\n  want: %s...", i, refused[i].text ? refused[i].text : "(null)",
                     ok ? "(accepted)" : err, refused[i].reason);
        free(p);
    }
}

static void test_too_many_steps(void **state)
{
    (void)state;
    char text[4096], want[64];
    size_t n = (size_t)snprintf(text, sizeof(text), HEAD "\"steps\":[");
    for (int i = 0; i <= PLAN_STEPS_MAX; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s{\"kind\":\"probe\"}", i ? "," : "");
    snprintf(text + n, sizeof(text) - n, "]}");
    plan_spec_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX] = "";
    assert_false(plan_spec_parse(text, p, err, sizeof(err)));
    snprintf(want, sizeof(want), "plan: it has more than %d steps", PLAN_STEPS_MAX);
    assert_string_equal(err, want);
    free(p);
}

/* ---- structs built in code ---- */

static plan_step_t *add_step(plan_spec_t *p, enum spec_step_kind kind, const char *name)
{
    plan_step_t *s = &p->steps[p->step_count++];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    snprintf(s->name, sizeof(s->name), "%s", name);
    return s;
}

static plan_spec_t *built_plan(void)
{
    plan_spec_t *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    snprintf(p->object_id, sizeof(p->object_id), OBJECT);
    snprintf(p->file_key, sizeof(p->file_key), KEY);
    add_step(p, SPEC_STEP_PROBE, "");
    plan_default_template(&add_step(p, SPEC_STEP_TRANSCODE, PLAN_DEFAULT_TEMPLATE)->u.template_spec);
    spec_watermark_t *w = &add_step(p, SPEC_STEP_WATERMARK, "logo")->u.watermark;
    spec_watermark_init(w);
    snprintf(w->image, sizeof(w->image), "resources/1/watermarks/logo.png");
    return p;
}

static void test_check_built_plans(void **state)
{
    (void)state;
    char err[PLAN_ERROR_MAX] = "";
    plan_spec_t *p = built_plan();
    if (!plan_spec_check(p, err, sizeof(err)))
        fail_msg("%s", err);

    p->steps[0].kind = (enum spec_step_kind)9;
    assert_false(plan_spec_check(p, err, sizeof(err)));
    assert_string_equal(err, "plan: step 1 has an unknown kind");
    p->steps[0].kind = SPEC_STEP_SNAPSHOT;
    snprintf(p->steps[0].name, sizeof(p->steps[0].name), "x");
    assert_false(plan_spec_check(p, err, sizeof(err)));
    assert_string_equal(err, "plan: step 1 ('snapshot') takes no name");
    p->steps[0].name[0] = '\0';

    p->steps[1].u.template_spec.rendition_count = 0;
    assert_false(plan_spec_check(p, err, sizeof(err)));
    assert_string_equal(err, "transcode: template: it needs at least one rendition");
    p->steps[1].u.template_spec.rendition_count = 1;

    p->steps[2].u.watermark.opacity = 2;
    assert_false(plan_spec_check(p, err, sizeof(err)));
    assert_string_equal(err, "watermark: the opacity must be a number 0..1");
    p->steps[2].u.watermark.opacity = 1;

    p->step_count = PLAN_STEPS_MAX + 1;
    assert_false(plan_spec_check(p, err, sizeof(err)));
    assert_string_equal(err, "plan: it has more than 42 steps"); /* a workflow's 32, probe, cover, a fops' 8 */
    free(p);
}

/* More transcodes than a workflow may have (SPEC_WORKFLOW_STEPS_MAX) are refused. */
static void test_check_transcode_count(void **state)
{
    (void)state;
    plan_spec_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX] = "", name[16];
    snprintf(p->object_id, sizeof(p->object_id), OBJECT);
    snprintf(p->file_key, sizeof(p->file_key), KEY);
    for (int i = 0; i <= SPEC_WORKFLOW_STEPS_MAX; i++) {
        snprintf(name, sizeof(name), "t%d", i);
        plan_default_template(&add_step(p, SPEC_STEP_TRANSCODE, name)->u.template_spec);
    }
    assert_false(plan_spec_check(p, err, sizeof(err)));
    assert_string_equal(err, "plan: it has more than 32 transcodes");
    p->step_count--;
    assert_true(plan_spec_check(p, err, sizeof(err)));
    free(p);
}

/* A workflow's 32 steps, probe and cover, then a fops' 8 keyed steps:
 * PLAN_STEPS_MAX, and keyed transcodes do not count against the workflow's. */
static void test_largest_plan_fits(void **state)
{
    (void)state;
    plan_spec_t *p = calloc(1, sizeof(*p));
    char err[PLAN_ERROR_MAX] = "", name[16];
    snprintf(p->object_id, sizeof(p->object_id), OBJECT);
    snprintf(p->file_key, sizeof(p->file_key), KEY);
    add_step(p, SPEC_STEP_PROBE, "");
    add_step(p, SPEC_STEP_SNAPSHOT, "");
    for (int i = 0; i < SPEC_WORKFLOW_STEPS_MAX + PLAN_KEYED_MAX; i++) {
        bool keyed = i >= SPEC_WORKFLOW_STEPS_MAX;
        snprintf(name, sizeof(name), "t%d", i);
        plan_step_t *s = add_step(p, SPEC_STEP_TRANSCODE, name);
        plan_default_template(&s->u.template_spec);
        if (keyed)
            snprintf(s->key, sizeof(s->key), "%s.mp4", name);
    }
    assert_int_equal(p->step_count, PLAN_STEPS_MAX);
    if (!plan_spec_check(p, err, sizeof(err)))
        fail_msg("%s", err);
    char *text = plan_spec_to_json(p);
    assert_round_trip(text);
    free(text);
    p->steps[2].key[0] = 'k'; /* a ninth keyed step */
    p->steps[2].key[1] = '\0';
    assert_false(plan_spec_check(p, err, sizeof(err)));
    assert_string_equal(err, "plan: it has more than 8 keyed steps");
    free(p);
}

/* A fops plan's canonical text is pinned, and each member is read. */
static void test_fops_plan_text(void **state)
{
    (void)state;
    plan_spec_t *p = parse_ok(fops_plan);
    char *text = plan_spec_to_json(p);
    assert_string_equal(text, fops_plan);
    free(text);
    assert_true(p->fops);
    assert_int_equal(p->step_count, 7);
    assert_string_equal(p->steps[1].key, ""); /* the cover */
    assert_int_equal(p->steps[1].at_ms, PLAN_FRAME_AT_COVER);
    assert_string_equal(p->steps[2].key, "hls/main.m3u8");
    assert_int_equal(p->steps[2].segment_seconds, 2);
    assert_string_equal(p->steps[3].key, "a/b.mp4");
    assert_int_equal(p->steps[3].segment_seconds, 0);
    assert_int_equal(p->steps[3].at_ms, 0);
    static const struct {
        const char *key;
        int64_t at_ms;
        int width, height;
    } frames[] = {{"thumbs/1.jpg", 1500, 320, 0}, {"0.jpg", 0, 0, 90}, {"mid.jpg", PLAN_FRAME_AT_COVER, 64, 64}};
    for (size_t i = 0; i < 3; i++) {
        const plan_step_t *s = &p->steps[4 + i];
        assert_int_equal(s->kind, SPEC_STEP_SNAPSHOT);
        assert_string_equal(s->key, frames[i].key);
        assert_int_equal(s->at_ms, frames[i].at_ms);
        assert_int_equal(s->width, frames[i].width);
        assert_int_equal(s->height, frames[i].height);
    }
    free(p);
    p = parse_ok(full_plan);
    assert_false(p->fops);
    assert_string_equal(p->steps[2].key, "");
    free(p);
}

static void assert_check(const plan_spec_t *p, const char *want)
{
    char err[PLAN_ERROR_MAX] = "";
    bool ok = plan_spec_check(p, err, sizeof(err));
    if (want ? ok || strcmp(err, want) != 0 : !ok)
        fail_msg("got %s, want %s", ok ? "(accepted)" : err, want ? want : "(accepted)");
}

/* The keyed members on structs built in code (plan_freeze, fops_plan.c):
 * a zeroed step is every kind's default. */
static void test_check_keyed_built(void **state)
{
    (void)state;
    plan_spec_t *p = built_plan(); /* probe, default transcode, watermark */
    plan_step_t *frame = add_step(p, SPEC_STEP_SNAPSHOT, "");
    snprintf(frame->key, sizeof(frame->key), "f.jpg");
    assert_check(p, NULL); /* at 0 ms */
    p->steps[2].at_ms = 5;
    assert_check(p, "plan: step 3 ('watermark') takes no key, box, time or segment length");
    p->steps[2].at_ms = PLAN_FRAME_AT_COVER;
    assert_check(p, NULL);
    p->steps[2].key[0] = 'w';
    assert_check(p, "plan: step 3 ('watermark') takes no key, box, time or segment length");
    p->steps[2].key[0] = '\0';
    p->steps[1].width = 320;
    assert_check(p, "plan: step 2 (a transcode) takes no box or time");
    p->steps[1].width = 0;
    p->steps[1].at_ms = 7;
    assert_check(p, "plan: step 2 (a transcode) takes no box or time");
    p->steps[1].at_ms = 0;
    p->steps[1].u.template_spec.container = SPEC_CONTAINER_HLS;
    p->steps[1].segment_seconds = PLAN_SEGMENT_S_MAX;
    assert_check(p, NULL);
    p->steps[1].segment_seconds = -1;
    assert_check(p, "plan: step 2's segmentSeconds must be 1..120, on an HLS template");
    p->steps[1].segment_seconds = 0;
    frame->segment_seconds = 2;
    assert_check(p, "plan: step 4 (a snapshot) takes no segment length");
    frame->segment_seconds = 0;
    frame->at_ms = PLAN_FRAME_AT_MS_MAX + 1;
    assert_check(p, "plan: step 4's atMs must be 0..86400000");
    frame->at_ms = -2;
    assert_check(p, "plan: step 4's atMs must be 0..86400000");
    frame->at_ms = PLAN_FRAME_AT_COVER;
    frame->key[0] = '\0'; /* now the cover */
    assert_check(p, NULL);
    frame->at_ms = 1000;
    assert_check(p, "plan: step 4 is the cover (no key): it takes no time or box");
    free(p);
}

/* The whole key must fit PLAN_KEY_MAX beside a long fileKey; a key must be
 * a string. */
static void test_check_key_length(void **state)
{
    (void)state;
    plan_spec_t *p = built_plan();
    plan_step_t *frame = add_step(p, SPEC_STEP_SNAPSHOT, "");
    memset(p->file_key, 'd', 1000);
    snprintf(p->file_key + 1000, sizeof(p->file_key) - 1000, "/a.mp4");
    memset(frame->key, 'k', 60);
    snprintf(frame->key + 60, sizeof(frame->key) - 60, "/a.jpg"); /* 1001 + 66 bytes: fits */
    assert_check(p, NULL);
    memset(frame->key, 'k', 64);
    for (size_t i = 64; i < 200; i += 65) {
        frame->key[i] = '/';
        memset(frame->key + i + 1, 'k', 64);
    }
    snprintf(frame->key + 194, sizeof(frame->key) - 194, "/a.jpg"); /* 1001 + 200 bytes: too long */
    assert_check(p, "plan: step 4's key is not a key of 1..64-byte segments of A-Z a-z 0-9 . _ - that fits beside "
                    "the original");
    memset(frame->key, 'k', sizeof(frame->key));
    assert_check(p, "plan: step 4's key is too long");
    /* An HLS output's variants and segments need 14 bytes more than its key:
     * 1001 + 185 + 14 is too long, 1001 + 184 + 14 fits. */
    frame->key[0] = '\0'; /* now the cover */
    plan_step_t *hls = &p->steps[1];
    hls->u.template_spec.container = SPEC_CONTAINER_HLS;
    memset(hls->key, 'k', 180);
    snprintf(hls->key + 180, sizeof(hls->key) - 180, ".m3u8"); /* one segment: 185 bytes */
    hls->key[64] = hls->key[129] = '/';
    assert_check(p, "plan: step 2's key is not a key of 1..64-byte segments of A-Z a-z 0-9 . _ - that fits beside "
                    "the original");
    snprintf(hls->key + 179, sizeof(hls->key) - 179, ".m3u8");
    assert_check(p, NULL);
    free(p);
}

/* The built plan serialises to text that parses back to it. */
static void test_built_plan_round_trip(void **state)
{
    (void)state;
    plan_spec_t *p = built_plan();
    snprintf(p->error, sizeof(p->error), "watermark: \"logo\" no longer exists");
    char *text = plan_spec_to_json(p);
    assert_non_null(text);
    assert_non_null(strstr(text, "\"error\":\"watermark: \\\"logo\\\" no longer exists\""));
    assert_round_trip(text);
    free(text);
    free(p);
}

/* ---- lookups and the default rendition ---- */

static void test_lookups(void **state)
{
    (void)state;
    plan_spec_t *p = parse_ok(accepted[2]); /* sd, probe, logo, hd */
    const plan_step_t *t[4];
    assert_int_equal(plan_spec_transcodes(p, t, 4), 2);
    assert_string_equal(t[0]->name, "sd");
    assert_string_equal(t[1]->name, "hd");
    assert_int_equal(plan_spec_transcodes(p, t, 1), 1); /* up to max */
    assert_string_equal(plan_spec_watermark(p)->name, "logo");
    assert_null(plan_spec_subtitle(p));
    assert_false(plan_spec_has_snapshot(p));
    free(p);
    p = parse_ok(full_plan);
    assert_true(plan_spec_has_snapshot(p));
    assert_string_equal(plan_spec_subtitle(p)->name, "sub1");
    free(p);
    /* Frames are not the cover; keyed transcodes are transcodes. */
    p = parse_ok(HEAD "\"steps\":[" STEP_FRAME "," STEP_KEYED_SD "]}");
    assert_false(plan_spec_has_snapshot(p));
    assert_int_equal(plan_spec_transcodes(p, t, 4), 1);
    assert_string_equal(t[0]->key, "a/b.mp4");
    free(p);
}

static void test_default_template(void **state)
{
    (void)state;
    spec_template_t t;
    spec_error_t err;
    plan_default_template(&t);
    assert_int_equal(t.container, SPEC_CONTAINER_MP4);
    assert_int_equal(t.video_codec, SPEC_VIDEO_H264);
    assert_int_equal(t.audio_codec, SPEC_AUDIO_AAC);
    assert_int_equal(t.rendition_count, 1);
    assert_int_equal(t.renditions[0].width, 0);
    assert_int_equal(t.renditions[0].height, 0);
    assert_int_equal(t.renditions[0].video_bitrate, 0);
    assert_true(spec_template_check(&t, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canonical_text_is_pinned),
        cmocka_unit_test(test_fields_are_read),
        cmocka_unit_test(test_accepted_texts_round_trip),
        cmocka_unit_test(test_error_plan),
        cmocka_unit_test(test_refused_texts),
        cmocka_unit_test(test_too_many_steps),
        cmocka_unit_test(test_check_built_plans),
        cmocka_unit_test(test_check_transcode_count),
        cmocka_unit_test(test_largest_plan_fits),
        cmocka_unit_test(test_fops_plan_text),
        cmocka_unit_test(test_check_keyed_built),
        cmocka_unit_test(test_check_key_length),
        cmocka_unit_test(test_built_plan_round_trip),
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_default_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
