/*
 * test_task_api: getTaskInfo, reprocessVideo and cancelTask (docs/api.md)
 * against a real `vodup serve`, with signed calls.
 *
 * The first server runs no processing (--processing off, the harness's
 * default), so every task stays queued for as long as the test needs it:
 * the shapes, reprocessVideo with the video's own and with new settings,
 * cancel and its 409, a video never uploaded (409), another account's ids
 * (404), missing and unknown parameters (400, checked before the 404 and
 * 409 that need the video), unsigned calls (401), GET with a query.  A
 * second server processes, for the steps of a task that failed and for a
 * video made ready and then reprocessed (its progress follows the new
 * task, not the earlier outputs).
 */
#define _GNU_SOURCE /* strptime, timegm */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define WAIT_MS 60000

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

/* A refused signed POST whose message must be `want_message`. */
static void refused(const char *name, const char *form, long want_http, const char *want_message)
{
    char *path = harness_strf("/vod/videoManage/%s", name);
    harness_response_t r;
    assert_true(harness_call(srv, NULL, "POST", path, form, HARNESS_FORM, &r));
    assert_api_error(&r, want_http, want_http);
    assert_string_equal(harness_json_str(r.json, "message"), want_message);
    harness_response_free(&r);
    free(path);
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
    task(srv, NULL, "cancelTask", "tk000000000000000000000000000000", 404, 404);
    /* The documented messages, and the order of the checks: parameters as
     * written, then the video (404), then the named resources, then the
     * video's state (409), as getUploadToken checks its 409 last. */
    refused("reprocessVideo", "", 400, "Parameter videoId is required.");
    refused("getTaskInfo", "taskId=", 400, "Parameter taskId is required.");
    refused("cancelTask", "", 400, "Parameter taskId is required.");
    refused("getTaskInfo", "taskId=tk000000000000000000000000000000", 404, "The task does not exist.");
    refused("reprocessVideo", "videoId=00000000000000000000000000000000", 404, "The video does not exist.");
    refused("reprocessVideo", "videoId=00000000000000000000000000000000&transCodeCombineName=a%2Fb", 400,
            "Parameter transCodeCombineName does not exist.");
    form = harness_strf("videoId=%s&transCodeCombineName=nope", registered);
    refused("reprocessVideo", form, 400, "Parameter transCodeCombineName does not exist.");
    free(form);
    form = harness_strf("videoId=%s&subtitleId=..", registered);
    refused("reprocessVideo", form, 400, "Parameter subtitleId does not exist.");
    free(form);
    /* With a workflow the other settings are ignored, unchecked (getUploadToken's precedence). */
    form = harness_strf("videoId=%s&workflowId=nope&transCodeCombineName=..", registered);
    refused("reprocessVideo", form, 400, "Parameter workflowId does not exist.");
    free(form);
    form = harness_strf("videoId=%s", registered);
    refused("reprocessVideo", form, 409, "The video has no uploaded bytes to process yet.");
    free(form);
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

/* Every task call is signed like the others: no signature, 401; and GET
 * with the parameters in the query works like POST. */
static void test_signing_and_get(void **state)
{
    (void)state;
    char id[64];
    video(srv, NULL, "bytes", id);
    json_t *v = info(srv, id);
    const char *task_id = harness_json_str(v, "taskId");
    static const char *const names[] = {"getTaskInfo", "reprocessVideo", "cancelTask"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *path = harness_strf("/vod/videoManage/%s", names[i]);
        char *body = harness_strf("taskId=%s&videoId=%s", task_id, id);
        harness_request_t req = {.path = path, .body = body, .content_type = HARNESS_FORM,
                                 .omit = HARNESS_OMIT_ALL_AUTH};
        harness_response_t r;
        assert_true(harness_request(srv, &req, &r));
        assert_api_error(&r, 401, 401);
        harness_response_free(&r);
        req = (harness_request_t){.path = path, .body = body, .content_type = HARNESS_FORM,
                                  .sign_secret = "not the secret"};
        assert_true(harness_request(srv, &req, &r));
        assert_api_error(&r, 401, 401);
        harness_response_free(&r);
        free(body);
        free(path);
    }
    /* Nothing was queued or canceled by the refused calls. */
    json_t *t = task(srv, NULL, "getTaskInfo", task_id, 200, 0);
    assert_string_equal(harness_json_str(t, "state"), "queued");
    json_decref(t);
    json_t *again = info(srv, id);
    assert_string_equal(harness_json_str(again, "taskId"), task_id);
    json_decref(again);

    char *path = harness_strf("/vod/videoManage/getTaskInfo?taskId=%s", task_id);
    harness_response_t r;
    assert_true(harness_call(srv, NULL, "GET", path, NULL, NULL, &r));
    assert_api_ok(&r);
    assert_string_equal(harness_json_str(harness_data(&r), "taskId"), task_id);
    harness_response_free(&r);
    free(path);
    path = harness_strf("/vod/videoManage/reprocessVideo?videoId=%s", id);
    assert_true(harness_call(srv, NULL, "GET", path, NULL, NULL, &r));
    assert_api_ok(&r);
    char *second = strdup(harness_json_str(harness_data(&r), "taskId"));
    harness_response_free(&r);
    free(path);
    path = harness_strf("/vod/videoManage/cancelTask?taskId=%s", second);
    assert_true(harness_call(srv, NULL, "GET", path, NULL, NULL, &r));
    assert_api_ok(&r);
    assert_string_equal(harness_json_str(harness_data(&r), "state"), "canceled");
    harness_response_free(&r);
    free(path);
    free(second);
    json_decref(v);
}

/* A small real video (1 s, 160x120, H.264), made with ffmpeg; malloc'd bytes. */
static void *clip(const harness_server_t *s, size_t *len)
{
    char *path = harness_strf("%s/clip.mp4", s->root);
    char *cmd = harness_strf("%s -nostdin -v error -y -f lavfi -i testsrc2=size=160x120:rate=10:duration=1 "
                             "-c:v libx264 -preset ultrafast -pix_fmt yuv420p '%s'",
                             FFMPEG, path);
    assert_int_equal(system(cmd), 0);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    void *data = malloc(1 << 20);
    assert_non_null(data);
    *len = fread(data, 1, 1 << 20, fp);
    assert_true(*len > 0 && *len < (1 << 20));
    fclose(fp);
    free(cmd);
    free(path);
    return data;
}

static json_t *wait_status(harness_server_t *s, const char *id, const char *want)
{
    int64_t deadline = harness_now_ms() + WAIT_MS;
    json_t *v = info(s, id);
    while (strcmp(harness_json_str(v, "status"), want) != 0 && harness_now_ms() < deadline) {
        json_decref(v);
        usleep(50 * 1000);
        v = info(s, id);
    }
    assert_string_equal(harness_json_str(v, "status"), want);
    return v;
}

/* "2026-12-04T10:15:30.123Z" as Unix ms. */
static int64_t iso_ms(const char *iso)
{
    struct tm tm = {0};
    int ms = 0;
    assert_non_null(iso);
    const char *rest = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(rest);
    assert_int_equal(sscanf(rest, ".%3dZ", &ms), 1);
    return (int64_t)timegm(&tm) * 1000 + ms;
}

/* reprocessVideo wakes an idle worker: the task is claimed at once, not at
 * the worker's next poll (PROCESS_POLL_MS, 1 s).  Three rounds, so that a
 * missing wake (a claim 0..1000 ms later) passes all three by chance at
 * most 0.3^3 of the time; with the wake a claim takes milliseconds. */
static void assert_reprocess_wakes(harness_server_t *p, const char *id)
{
    char *form = harness_strf("videoId=%s", id);
    for (int round = 0; round < 3; round++) {
        json_t *r = call(p, NULL, "reprocessVideo", form, 200, 0);
        char *task_id = strdup(harness_json_str(r, "taskId"));
        json_decref(r);
        json_t *t = NULL;
        int64_t deadline = harness_now_ms() + WAIT_MS;
        for (;;) {
            json_decref(t);
            t = task(p, NULL, "getTaskInfo", task_id, 200, 0);
            if (strcmp(harness_json_str(t, "state"), "queued") != 0 || harness_now_ms() > deadline)
                break;
            usleep(20 * 1000);
        }
        int64_t waited = iso_ms(harness_json_str(t, "startedAt")) - iso_ms(harness_json_str(t, "createdAt"));
        print_message("  reprocessVideo round %d: claimed %lld ms after it was queued\n", round, (long long)waited);
        assert_true(waited >= 0 && waited < 300);
        json_decref(t);
        json_decref(wait_status(p, id, "ready"));
        free(task_id);
    }
    free(form);
}

/* A video made ready, then reprocessed with no worker running: it stays
 * `ready` (its earlier cover still served) but its taskId and progress are
 * the new queued task's, not 100; the finished task cannot be canceled. */
static void test_ready_video_reprocessed(void **state)
{
    (void)state;
    const char *args[] = {"--processing", "on", NULL};
    harness_server_t *p = harness_server_start(args);
    assert_non_null(p);
    json_t *d = call(p, NULL, "getUploadToken", "originFileName=clip.mp4", 200, 0);
    char id[64];
    snprintf(id, sizeof(id), "%s", harness_json_str(d, "videoId"));
    size_t len;
    void *data = clip(p, &len);
    harness_upload_response_t u;
    assert_true(harness_form_upload(p, harness_json_str(d, "uploadToken"), data, len, &u));
    assert_int_equal(u.status, 200);
    harness_upload_response_free(&u);
    free(data);
    json_decref(d);

    json_t *v = wait_status(p, id, "ready");
    char *first = strdup(harness_json_str(v, "taskId"));
    /* The restarted server listens on another port: compare from the key on. */
    char *cover = strdup(strstr(harness_json_str(v, "coverUrl"), "/video/"));
    assert_int_equal(json_integer_value(json_object_get(v, "progress")), 100);
    assert_int_equal(json_array_size(json_object_get(v, "outputs")), 0); /* the cover is coverUrl, not an output */
    json_decref(v);
    json_t *t = task(p, NULL, "getTaskInfo", first, 200, 0);
    assert_string_equal(harness_json_str(t, "state"), "succeeded");
    assert_int_equal(json_integer_value(json_object_get(t, "progress")), 100);
    assert_int_equal(json_integer_value(json_object_get(t, "attempts")), 1);
    assert_non_null(harness_json_str(t, "startedAt"));
    assert_non_null(harness_json_str(t, "finishedAt"));
    assert_steps(t, "probe:succeeded,snapshot:succeeded");
    json_decref(t);
    task(p, NULL, "cancelTask", first, 409, 409); /* succeeded: finished already */
    assert_reprocess_wakes(p, id);

    /* No worker from here on: the new task stays queued. */
    assert_int_equal(harness_server_terminate(p), 0);
    assert_true(harness_server_restart(p, NULL));
    char *form = harness_strf("videoId=%s", id);
    json_t *r = call(p, NULL, "reprocessVideo", form, 200, 0);
    char *second = strdup(harness_json_str(r, "taskId"));
    json_decref(r);
    free(form);
    v = info(p, id);
    assert_string_equal(harness_json_str(v, "status"), "ready");
    assert_string_equal(strstr(harness_json_str(v, "coverUrl"), "/video/"), cover);
    assert_string_equal(harness_json_str(v, "taskId"), second);
    assert_int_equal(json_integer_value(json_object_get(v, "progress")), 0);
    json_decref(v);
    t = task(p, NULL, "cancelTask", second, 200, 0);
    assert_string_equal(harness_json_str(t, "state"), "canceled");
    assert_steps(t, "probe:canceled,snapshot:canceled");
    json_decref(t);
    v = info(p, id); /* back to ready with its earlier outputs */
    assert_string_equal(harness_json_str(v, "status"), "ready");
    assert_int_equal(json_integer_value(json_object_get(v, "progress")), 100);
    json_decref(v);
    free(second);
    free(cover);
    free(first);
    assert_int_equal(harness_server_finish(p), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_queues_a_task),
        cmocka_unit_test(test_reprocess_then_cancel),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_failed_task_steps),
        cmocka_unit_test(test_signing_and_get),
        cmocka_unit_test(test_ready_video_reprocessed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
