/*
 * test_task_api: getTaskInfo, reprocessVideo and cancelTask (docs/api.md)
 * against a real `vodup serve`, with signed calls.
 *
 * The first server runs no processing (--processing off, the harness's
 * default), so every task stays queued for as long as the test needs it:
 * the shapes, reprocessVideo with the video's own and with new settings,
 * cancel and its 409, a video never uploaded (409), another account's ids
 * (404), missing and unknown parameters (400).  A second server processes,
 * for the steps of a task that failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

static harness_server_t *srv;
static harness_key_t other; /* a key of another account */

/* A signed POST of a form to a call; returns data (a new reference) when 200. */
static json_t *call(harness_server_t *s, const harness_key_t *key, const char *name, const char *form, long want_http,
                    long want_code)
{
    char *path = harness_strf("/vod/videoManage/%s", name);
    harness_response_t r;
    assert_true(harness_call(s, key, "POST", path, form, HARNESS_FORM, &r));
    json_t *d = NULL;
    if (want_http == 200) {
        assert_api_ok(&r);
        d = json_incref(harness_data(&r));
    } else {
        assert_api_error(&r, want_http, want_code);
    }
    harness_response_free(&r);
    free(path);
    return d;
}

/* Registers a video (its id into id) and, when data is given, uploads it. */
static void video(harness_server_t *s, const char *extra, const char *data, char id[64])
{
    char *form = harness_strf("originFileName=a.mp4%s", extra ? extra : "");
    json_t *d = call(s, NULL, "getUploadToken", form, 200, 0);
    snprintf(id, 64, "%s", harness_json_str(d, "videoId"));
    if (data) {
        harness_upload_response_t u;
        assert_true(harness_form_upload(s, harness_json_str(d, "uploadToken"), data, strlen(data), &u));
        assert_int_equal(u.status, 200);
        harness_upload_response_free(&u);
    }
    json_decref(d);
    free(form);
}

static json_t *info(harness_server_t *s, const char *video_id)
{
    char *form = harness_strf("videoId=%s", video_id);
    json_t *d = call(s, NULL, "getVideoInfo", form, 200, 0);
    free(form);
    return d;
}

static json_t *task(harness_server_t *s, const harness_key_t *key, const char *name, const char *task_id,
                    long want_http, long want_code)
{
    char *form = harness_strf("taskId=%s", task_id);
    json_t *d = call(s, key, name, form, want_http, want_code);
    free(form);
    return d;
}

/* "kind[=name]:state" for each step, comma-separated. */
static void assert_steps(const json_t *t, const char *want)
{
    char got[512] = "";
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(t, "steps"), i, s)
    {
        size_t n = strlen(got);
        const char *name = harness_json_str(s, "name");
        snprintf(got + n, sizeof(got) - n, "%s%s%s%s:%s", i ? "," : "", harness_json_str(s, "kind"), name ? "=" : "",
                 name ? name : "", harness_json_str(s, "state"));
    }
    assert_string_equal(got, want);
}

static int setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    if (!srv || !harness_admin_key_create(srv, "other", &other))
        return -1;
    const char *tpl[] = {"--account", srv->key.access_key, "template", "add", "sd", "--rendition", "320x240", NULL};
    char *out = NULL;
    int rc = harness_adminv(srv, &out, tpl);
    free(out);
    return rc;
}

static int teardown(void **state)
{
    (void)state;
    return harness_server_finish(srv);
}

/* An upload queues a task; getVideoInfo names it; getTaskInfo shows it. */
static void test_upload_queues_a_task(void **state)
{
    (void)state;
    char id[64];
    video(srv, NULL, "not media, never processed here", id);
    json_t *v = info(srv, id);
    const char *task_id = harness_json_str(v, "taskId");
    assert_non_null(task_id);
    assert_int_equal(json_integer_value(json_object_get(v, "progress")), 0);
    json_t *t = task(srv, NULL, "getTaskInfo", task_id, 200, 0);
    assert_string_equal(harness_json_str(t, "taskId"), task_id);
    assert_string_equal(harness_json_str(t, "videoId"), id);
    assert_string_equal(harness_json_str(t, "state"), "queued");
    assert_int_equal(json_integer_value(json_object_get(t, "attempts")), 0);
    assert_true(json_is_null(json_object_get(t, "error")));
    assert_true(json_is_null(json_object_get(t, "startedAt")));
    assert_true(json_is_null(json_object_get(t, "finishedAt")));
    assert_non_null(harness_json_str(t, "createdAt"));
    assert_steps(t, "probe:queued,snapshot:queued");
    json_decref(t);
    json_decref(v);
}

/* reprocessVideo queues a new task with new settings and cancels the old. */
static void test_reprocess_then_cancel(void **state)
{
    (void)state;
    char id[64];
    video(srv, NULL, "bytes", id);
    json_t *v = info(srv, id);
    char *first = strdup(harness_json_str(v, "taskId"));
    json_decref(v);
    char *form = harness_strf("videoId=%s&transCodeCombineName=sd", id);
    json_t *r = call(srv, NULL, "reprocessVideo", form, 200, 0);
    free(form);
    char *second = strdup(harness_json_str(r, "taskId"));
    json_decref(r);
    assert_string_not_equal(first, second);
    json_t *t = task(srv, NULL, "getTaskInfo", first, 200, 0);
    assert_string_equal(harness_json_str(t, "state"), "canceled");
    json_decref(t);
    t = task(srv, NULL, "getTaskInfo", second, 200, 0);
    assert_steps(t, "probe:queued,snapshot:queued,transcode=sd:queued");
    json_decref(t);
    v = info(srv, id);
    assert_string_equal(harness_json_str(v, "taskId"), second);
    json_decref(v);
    t = task(srv, NULL, "cancelTask", second, 200, 0);
    assert_string_equal(harness_json_str(t, "state"), "canceled");
    assert_non_null(harness_json_str(t, "finishedAt"));
    json_decref(t);
    v = info(srv, id);
    assert_string_equal(harness_json_str(v, "status"), "uploaded");
    json_decref(v);
    task(srv, NULL, "cancelTask", second, 409, 409); /* finished already */
    free(first);
    free(second);
}

static void test_refusals(void **state)
{
    (void)state;
    char uploaded[64], registered[64];
    video(srv, NULL, "bytes", uploaded);
    video(srv, NULL, NULL, registered);
    char *form = harness_strf("videoId=%s", registered);
    call(srv, NULL, "reprocessVideo", form, 409, 409); /* nothing uploaded yet */
    free(form);
    form = harness_strf("videoId=%s&transCodeCombineName=nope", uploaded);
    call(srv, NULL, "reprocessVideo", form, 400, 400); /* as getUploadToken: does not exist */
    free(form);
    form = harness_strf("videoId=%s&transCodeCombineName=..", uploaded);
    call(srv, NULL, "reprocessVideo", form, 400, 400);
    free(form);
    call(srv, NULL, "reprocessVideo", "", 400, 400);
    call(srv, NULL, "getTaskInfo", "", 400, 400);
    call(srv, NULL, "cancelTask", "taskId=", 400, 400);
    task(srv, NULL, "getTaskInfo", "tk000000000000000000000000000000", 404, 404);
    /* Another account's ids are as absent as unknown ones. */
    json_t *v = info(srv, uploaded);
    const char *task_id = harness_json_str(v, "taskId");
    task(srv, &other, "getTaskInfo", task_id, 404, 404);
    task(srv, &other, "cancelTask", task_id, 404, 404);
    form = harness_strf("videoId=%s", uploaded);
    call(srv, &other, "reprocessVideo", form, 404, 404);
    free(form);
    json_t *t = task(srv, NULL, "getTaskInfo", task_id, 200, 0);
    assert_string_equal(harness_json_str(t, "state"), "queued"); /* untouched by the refusals */
    json_decref(t);
    json_decref(v);
}

/* A failed task: the step its error names failed, the later ones never ran. */
static void test_failed_task_steps(void **state)
{
    (void)state;
    const char *args[] = {"--processing", "on", NULL};
    harness_server_t *p = harness_server_start(args);
    assert_non_null(p);
    char id[64];
    video(p, NULL, "a text file is not a video", id);
    json_t *v = NULL;
    for (int i = 0; i < 300; i++) {
        json_decref(v);
        v = info(p, id);
        if (!strcmp(harness_json_str(v, "status"), "failed"))
            break;
        usleep(50 * 1000);
    }
    assert_string_equal(harness_json_str(v, "status"), "failed");
    json_t *t = task(p, NULL, "getTaskInfo", harness_json_str(v, "taskId"), 200, 0);
    assert_string_equal(harness_json_str(t, "state"), "failed");
    assert_int_equal(json_integer_value(json_object_get(t, "attempts")), 1); /* not media: not retried */
    assert_steps(t, "probe:failed,snapshot:canceled");
    json_t *probe = json_array_get(json_object_get(t, "steps"), 0);
    assert_int_equal(strncmp(harness_json_str(probe, "error"), "probe:", 6), 0);
    assert_string_equal(harness_json_str(probe, "error"), harness_json_str(v, "failReason"));
    json_decref(t);
    json_decref(v);
    assert_int_equal(harness_server_finish(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_queues_a_task),
        cmocka_unit_test(test_reprocess_then_cancel),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_failed_task_steps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
