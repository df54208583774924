/*
 * test_plan_freeze: a video's processing settings become a frozen plan
 * (docs/processing.md "What a task makes"), read from a real SQLite store:
 * the steps without a workflow, the default rendition that carries a
 * watermark or subtitle asked for without a template, a workflow's steps in
 * its order, the specs copied in (so a later edit cannot reach the plan),
 * and a resource gone since the token: a plan whose error fails the task.
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "process/plan_freeze.h"
#include "process/plan_spec.h"
#include "store/store.h"
#include "unit_tmpdir.h"

#define OBJECT "0123456789abcdef0123456789abcdef"
#define KEY "video/20261204/0123456789abcdef0123456789abcdef/a.mp4"
/* A template's spec as admin stores it. */
#define TEMPLATE(container, w, h)                                                                                  \
    "{\"container\":\"" container "\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":0,"      \
    "\"renditions\":[{\"width\":" w ",\"height\":" h ",\"videoBitrate\":0}]}"

typedef struct fixture {
    char dir[64];
    store_t *store;
    int64_t account;
    char subtitle_id[64];
    char workflow_id[64];
} fixture_t;

static void add(fixture_t *f, int kind, const char *name, const char *spec, char *id_out, size_t len)
{
    store_resource_t r;
    assert_int_equal(f->store->ops->resource_add(f->store, f->account, kind, name, spec, &r), STORE_OK);
    if (id_out)
        snprintf(id_out, len, "%s", r.id);
    store_resource_free(&r);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f || !unit_tmpdir_make(f->dir, sizeof(f->dir), "plan-freeze"))
        return -1;
    char path[128];
    snprintf(path, sizeof(path), "%s/vodup.db", f->dir);
    store_sqlite_options_t opt = {.path = path, .busy_timeout_ms = 5000, .read_connections = 2};
    f->store = store_sqlite_open(&opt);
    if (!f->store)
        return -1;
    store_key_t k;
    assert_int_equal(f->store->ops->key_create(f->store, "alice", &k), STORE_OK);
    f->account = k.account_id;
    store_key_free(&k);
    add(f, STORE_TEMPLATE, "hd", TEMPLATE("hls", "1280", "720"), NULL, 0);
    add(f, STORE_TEMPLATE, "sd", TEMPLATE("mp4", "640", "360"), NULL, 0);
    add(f, STORE_WATERMARK, "logo", "{\"image\":\"resources/1/watermarks/logo.png\",\"position\":\"top-left\",\"offsetX\":8,"
                                   "\"offsetY\":8,\"opacity\":1.0}", NULL,
        0);
    add(f, STORE_SUBTITLE, "en", "{\"file\":\"resources/1/subtitles/en.srt\",\"format\":\"srt\",\"language\":\"en\",\"mode\":\"burn\"}",
        f->subtitle_id, sizeof(f->subtitle_id));
    add(f, STORE_WORKFLOW, "wf",
        "{\"steps\":[{\"kind\":\"transcode\",\"template\":\"sd\"},{\"kind\":\"probe\"},"
        "{\"kind\":\"watermark\",\"watermark\":\"logo\"},{\"kind\":\"transcode\",\"template\":\"hd\"}]}",
        f->workflow_id, sizeof(f->workflow_id));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    f->store->ops->close(f->store);
    unit_tmpdir_remove(f->dir);
    free(f);
    return 0;
}

/* Freezes and parses back; the plan is returned on the heap. */
static plan_spec_t *freeze(fixture_t *f, const plan_settings_t *set)
{
    char *json = NULL;
    assert_int_equal(plan_freeze(f->store, f->account, set, OBJECT, KEY, &json), STORE_OK);
    assert_non_null(json);
    plan_spec_t *p = calloc(1, sizeof(*p));
    char err[256];
    if (!plan_spec_parse(json, p, err, sizeof(err)))
        fail_msg("plan does not parse (%s): %s", err, json);
    free(json);
    assert_string_equal(p->object_id, OBJECT);
    assert_string_equal(p->file_key, KEY);
    return p;
}

static void assert_steps(const plan_spec_t *p, const char *want)
{
    char got[512] = "";
    for (size_t i = 0; i < p->step_count; i++) {
        size_t n = strlen(got);
        snprintf(got + n, sizeof(got) - n, "%s%s%s%s", i ? "," : "", spec_step_kind_name(p->steps[i].kind),
                 p->steps[i].name[0] ? "=" : "", p->steps[i].name);
    }
    assert_string_equal(got, want);
}

static void test_nothing_set(void **state)
{
    fixture_t *f = *state;
    plan_settings_t set = {0};
    plan_spec_t *p = freeze(f, &set);
    assert_steps(p, "probe,snapshot");
    assert_string_equal(p->error, "");
    free(p);
}

static void test_template_watermark_subtitle(void **state)
{
    fixture_t *f = *state;
    plan_settings_t set = {.template_name = "hd", .watermark_name = "logo", .subtitle_id = f->subtitle_id};
    plan_spec_t *p = freeze(f, &set);
    char want[256];
    snprintf(want, sizeof(want), "probe,snapshot,transcode=hd,watermark=logo,subtitle=%s", f->subtitle_id);
    assert_steps(p, want);
    /* The specs are copied in. */
    assert_int_equal(p->steps[2].u.template_spec.container, SPEC_CONTAINER_HLS);
    assert_int_equal(p->steps[2].u.template_spec.renditions[0].width, 1280);
    assert_int_equal(p->steps[3].u.watermark.position, SPEC_POSITION_TOP_LEFT);
    assert_string_equal(p->steps[4].u.subtitle.language, "en");
    free(p);
}

/* A watermark without a template: the built-in default rendition carries it. */
static void test_default_rendition(void **state)
{
    fixture_t *f = *state;
    plan_settings_t set = {.watermark_name = "logo"};
    plan_spec_t *p = freeze(f, &set);
    assert_steps(p, "probe,snapshot,transcode=" PLAN_DEFAULT_TEMPLATE ",watermark=logo");
    const spec_template_t *t = &p->steps[2].u.template_spec;
    assert_int_equal(t->container, SPEC_CONTAINER_MP4);
    assert_int_equal(t->video_codec, SPEC_VIDEO_H264);
    assert_int_equal(t->rendition_count, 1);
    assert_int_equal(t->renditions[0].width, 0); /* the source's size */
    free(p);
}

/* With a workflow its steps decide, in its order; the rest is ignored. */
static void test_workflow_order(void **state)
{
    fixture_t *f = *state;
    plan_settings_t set = {.workflow_id = f->workflow_id, .template_name = "hd", .subtitle_id = f->subtitle_id};
    plan_spec_t *p = freeze(f, &set);
    assert_steps(p, "transcode=sd,probe,watermark=logo,transcode=hd");
    assert_int_equal(p->steps[0].u.template_spec.renditions[0].width, 640);
    free(p);
}

/* A resource removed since the token: the upload goes on, its task fails. */
static void test_missing_resource_is_the_plans_error(void **state)
{
    fixture_t *f = *state;
    plan_settings_t set = {.template_name = "gone"};
    plan_spec_t *p = freeze(f, &set);
    assert_string_equal(p->error, "transcode: template \"gone\" no longer exists");
    assert_int_equal(p->step_count, 0);
    free(p);
    plan_settings_t wf = {.workflow_id = "wf00000000000000000000000000000000"};
    p = freeze(f, &wf);
    assert_non_null(strstr(p->error, "workflow"));
    free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nothing_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_template_watermark_subtitle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_default_rendition, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workflow_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_resource_is_the_plans_error, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
