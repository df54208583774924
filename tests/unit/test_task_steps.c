/*
 * test_task_steps: the steps getTaskInfo shows (api/task_steps.h).  One
 * table: a plan, the task's state and error, and the steps as
 * "kind[=name]:state[!error]" joined with ','.  The rule: a step's state is
 * the task's, except in a failed task, where the step whose kind starts the
 * error failed with it, the ones before succeeded, the ones after were
 * canceled; an error that names no step fails every step without an error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/task_steps.h"
#include "store/store.h"

#define HEAD                                                                                                       \
    "{\"version\":1,\"objectId\":\"0123456789abcdef0123456789abcdef\","                                            \
    "\"fileKey\":\"video/20261204/0123456789abcdef0123456789abcdef/a.mp4\","
#define TEMPLATE                                                                                                   \
    "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\",\"audioBitrate\":0,"                    \
    "\"renditions\":[{\"width\":640,\"height\":360,\"videoBitrate\":800}]}"
#define WATERMARK                                                                                                  \
    "{\"image\":\"resources/1/watermarks/logo.png\",\"position\":\"top-left\",\"offsetX\":8,\"offsetY\":8,"       \
    "\"opacity\":0.3}"
#define SUBTITLE "{\"file\":\"resources/1/subtitles/en.srt\",\"format\":\"srt\",\"language\":\"en\",\"mode\":\"soft\"}"

/* probe, snapshot: a video uploaded without settings. */
static const char bare[] = HEAD "\"steps\":[{\"kind\":\"probe\"},{\"kind\":\"snapshot\"}]}";
/* every kind, two transcodes: a workflow's plan. */
static const char full[] = HEAD "\"steps\":[{\"kind\":\"probe\"},{\"kind\":\"snapshot\"},"
                                "{\"kind\":\"transcode\",\"name\":\"sd\",\"template\":" TEMPLATE "},"
                                "{\"kind\":\"transcode\",\"name\":\"hd\",\"template\":" TEMPLATE "},"
                                "{\"kind\":\"watermark\",\"name\":\"logo\",\"watermark\":" WATERMARK "},"
                                "{\"kind\":\"subtitle\",\"name\":\"sub1\",\"subtitle\":" SUBTITLE "}]}";

static const struct {
    const char *plan;
    int state;
    const char *error;
    const char *want;
} cases[] = {
    /* Not failed: every step has the task's state, and no error. */
    {bare, STORE_TASK_QUEUED, NULL, "probe:queued,snapshot:queued"},
    {full, STORE_TASK_RUNNING, NULL,
     "probe:running,snapshot:running,transcode=sd:running,transcode=hd:running,watermark=logo:running,"
     "subtitle=sub1:running"},
    {bare, STORE_TASK_SUCCEEDED, NULL, "probe:succeeded,snapshot:succeeded"},
    {bare, STORE_TASK_CANCELED, NULL, "probe:canceled,snapshot:canceled"},
    /* A queued task keeps its last attempt's error (a retry waits): not a step's. */
    {bare, STORE_TASK_QUEUED, "probe: ffprobe took longer than 1000 ms", "probe:queued,snapshot:queued"},
    /* Failed: the step the error names, those before, those after. */
    {bare, STORE_TASK_FAILED, "probe: the file is not a media file ffprobe can read",
     "probe:failed!probe: the file is not a media file ffprobe can read,snapshot:canceled"},
    {bare, STORE_TASK_FAILED, "snapshot: no frame could be read for the cover",
     "probe:succeeded,snapshot:failed!snapshot: no frame could be read for the cover"},
    {full, STORE_TASK_FAILED, "transcode: output lasts 1.00 s of the source's 2.00 s",
     "probe:succeeded,snapshot:succeeded,transcode=sd:failed!transcode: output lasts 1.00 s of the source's 2.00 s,"
     "transcode=hd:canceled,watermark=logo:canceled,subtitle=sub1:canceled"},
    {full, STORE_TASK_FAILED, "watermark: the image is gone",
     "probe:succeeded,snapshot:succeeded,transcode=sd:succeeded,transcode=hd:succeeded,"
     "watermark=logo:failed!watermark: the image is gone,subtitle=sub1:canceled"},
    {full, STORE_TASK_FAILED, "subtitle: no output key for language \"en\"",
     "probe:succeeded,snapshot:succeeded,transcode=sd:succeeded,transcode=hd:succeeded,watermark=logo:succeeded,"
     "subtitle=sub1:failed!subtitle: no output key for language \"en\""},
    /* An error that names no step of the plan: every step failed, none blamed. */
    {full, STORE_TASK_FAILED, "publish: store: unavailable",
     "probe:failed,snapshot:failed,transcode=sd:failed,transcode=hd:failed,watermark=logo:failed,"
     "subtitle=sub1:failed"},
    {bare, STORE_TASK_FAILED, "transcode: a kind this plan does not have", "probe:failed,snapshot:failed"},
    {bare, STORE_TASK_FAILED, NULL, "probe:failed,snapshot:failed"},
    {bare, STORE_TASK_FAILED, "", "probe:failed,snapshot:failed"},
    /* The kind must be the whole prefix, followed by ':'. */
    {bare, STORE_TASK_FAILED, "prober: x", "probe:failed,snapshot:failed"},
    {bare, STORE_TASK_FAILED, "probe x", "probe:failed,snapshot:failed"},
    {bare, STORE_TASK_FAILED, "probe", "probe:failed,snapshot:failed"},
    {bare, STORE_TASK_FAILED, " probe: x", "probe:failed,snapshot:failed"},
    /* A plan this vodup cannot read shows no steps rather than failing the call. */
    {"{\"version\":99,\"steps\":[]}", STORE_TASK_QUEUED, NULL, ""},
    {"not json", STORE_TASK_FAILED, "probe: x", ""},
    {NULL, STORE_TASK_QUEUED, NULL, ""},
};

/* The steps as "kind[=name]:state[!error]", joined with ','; malloc'd. */
static char *steps_text(const json_t *steps)
{
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    assert_non_null(out);
    size_t i;
    const json_t *s;
    json_array_foreach(steps, i, s)
    {
        assert_int_equal(json_object_size(s), 4); /* kind, name, state, error: nothing else */
        const json_t *name = json_object_get(s, "name");
        const json_t *error = json_object_get(s, "error");
        assert_true(json_is_null(name) || json_is_string(name));
        assert_true(json_is_null(error) || json_is_string(error));
        len += (size_t)snprintf(out + len, cap - len, "%s%s%s%s:%s%s%s", i ? "," : "",
                                json_string_value(json_object_get(s, "kind")), json_is_string(name) ? "=" : "",
                                json_is_string(name) ? json_string_value(name) : "",
                                json_string_value(json_object_get(s, "state")), json_is_string(error) ? "!" : "",
                                json_is_string(error) ? json_string_value(error) : "");
        assert_true(len < cap);
    }
    return out;
}

static void test_steps_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *steps = task_steps_json(cases[i].plan, cases[i].state, cases[i].error);
        assert_non_null(steps);
        assert_true(json_is_array(steps));
        char *got = steps_text(steps);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu (%s, %s):\n  want %s\n  got  %s", i, store_task_state_name(cases[i].state),
                     cases[i].error ? cases[i].error : "no error", cases[i].want, got);
        free(got);
        json_decref(steps);
    }
}

/* probe and snapshot have no name: null, not "". */
static void test_unnamed_steps_are_null(void **state)
{
    (void)state;
    json_t *steps = task_steps_json(bare, STORE_TASK_QUEUED, NULL);
    assert_int_equal(json_array_size(steps), 2);
    assert_true(json_is_null(json_object_get(json_array_get(steps, 0), "name")));
    assert_true(json_is_null(json_object_get(json_array_get(steps, 1), "name")));
    json_decref(steps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_steps_table),
        cmocka_unit_test(test_unnamed_steps_are_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
