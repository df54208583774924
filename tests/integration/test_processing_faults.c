/*
 * test_processing_faults: processing under faults (docs/processing.md,
 * "Failure, restart and limits"), against real `vodup serve` processes whose
 * --ffmpeg is a shell script standing in for ffmpeg where a fault must
 * happen on demand: a run that hangs, a run that crashes.
 *
 *  - kill -9 of the server mid-task: its ffmpeg dies with it, nothing
 *    partial is listed or served, and after a restart the task runs again
 *    (once the dead worker's lease has run out) and succeeds;
 *  - cancelTask stops a running ffmpeg within 2 s, and the video goes back
 *    to `uploaded`;
 *  - an overwrite cancels the task of the old bytes;
 *  - a crashing ffmpeg is retried later, with the attempt counted, and so
 *    is one that hangs past processing-timeout.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define WAIT_MS 60000

typedef struct rig {
    harness_server_t *srv;
    char dir[400];      /* the fake's files: its pids, its markers */
    char fake[500];     /* the script */
    char clip[500];     /* a real 1 s clip */
} rig_t;

/* Starts a server whose ffmpeg is `body` (a sh script; DIR is its
 * directory), with --processing-timeout `timeout` when not NULL. */
static rig_t *rig_start_timeout(const char *body, const char *timeout)
{
    rig_t *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    char tmpl[] = "/tmp/vodup-fake-XXXXXX";
    assert_non_null(mkdtemp(tmpl));
    snprintf(r->dir, sizeof(r->dir), "%s", tmpl);
    snprintf(r->fake, sizeof(r->fake), "%s/ffmpeg", r->dir);
    snprintf(r->clip, sizeof(r->clip), "%s/clip.mp4", r->dir);
    FILE *fp = fopen(r->fake, "w");
    assert_non_null(fp);
    fprintf(fp, "#!/bin/sh\nDIR='%s'\necho $$ >> \"$DIR/pids\"\n%s\n", r->dir, body);
    fclose(fp);
    assert_int_equal(chmod(r->fake, 0700), 0);
    char *cmd = harness_strf("%s -nostdin -v error -y -f lavfi -i testsrc2=size=160x120:rate=25:duration=1 "
                             "-c:v libx264 -preset ultrafast -pix_fmt yuv420p '%s'", FFMPEG, r->clip);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    const char *args[] = {"--processing", "on", "--ffmpeg", r->fake, timeout ? "--processing-timeout" : NULL, timeout,
                          NULL};
    r->srv = harness_server_start(args);
    assert_non_null(r->srv);
    return r;
}

static rig_t *rig_start(const char *body)
{
    return rig_start_timeout(body, NULL);
}

static void rig_stop(rig_t *r)
{
    assert_int_equal(harness_server_finish(r->srv), 0);
    char *cmd = harness_strf("rm -rf '%s'", r->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(r);
}

/* The pid the fake wrote on its n-th start (from 1), waiting for it. */
static pid_t fake_pid(const rig_t *r, int n)
{
    char path[600];
    snprintf(path, sizeof(path), "%s/pids", r->dir);
    int64_t deadline = harness_now_ms() + WAIT_MS;
    while (harness_now_ms() < deadline) {
        FILE *fp = fopen(path, "r");
        int pid = 0, seen = 0;
        while (fp && seen < n && fscanf(fp, "%d", &pid) == 1)
            seen++;
        if (fp)
            fclose(fp);
        if (seen == n)
            return (pid_t)pid;
        usleep(50 * 1000);
    }
    fail_msg("the fake ffmpeg was not started %d times", n);
    return 0;
}

/* Milliseconds until pid is gone (fails past limit_ms). */
static int64_t wait_gone(pid_t pid, int64_t limit_ms)
{
    int64_t t0 = harness_now_ms();
    while (!harness_process_gone(pid)) {
        if (harness_now_ms() - t0 > limit_ms)
            fail_msg("process %d still running after %lld ms", (int)pid, (long long)limit_ms);
        usleep(20 * 1000);
    }
    return harness_now_ms() - t0;
}

typedef struct video {
    char id[64];
    char key[512];
    char token[4096];
} video_t;

static void grant(harness_server_t *s, const char *extra, video_t *v)
{
    char *form = harness_strf("originFileName=clip.mp4&transCodeCombineName=t%s", extra ? extra : "");
    harness_response_t r;
    assert_true(harness_upload_token(s, NULL, form, &r));
    assert_api_ok(&r);
    json_t *d = harness_data(&r);
    snprintf(v->id, sizeof(v->id), "%s", harness_json_str(d, "videoId"));
    snprintf(v->key, sizeof(v->key), "%s", harness_json_str(d, "fileKey"));
    snprintf(v->token, sizeof(v->token), "%s", harness_json_str(d, "uploadToken"));
    harness_response_free(&r);
    free(form);
}

static void send_file(harness_server_t *s, const video_t *v, const char *path)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    uint8_t buf[1 << 16];
    size_t len = fread(buf, 1, sizeof(buf), fp);
    fclose(fp);
    harness_upload_response_t u;
    assert_true(harness_form_upload(s, v->token, buf, len, &u));
    assert_int_equal(u.status, 200);
    harness_upload_response_free(&u);
}

static void upload(rig_t *r, const char *extra, video_t *v)
{
    const char *tpl[] = {"--account", r->srv->key.access_key, "template", "add", "t", "--rendition", "160x120",
                         NULL};
    char *out = NULL;
    harness_adminv(r->srv, &out, tpl); /* once per server; "exists" afterwards */
    free(out);
    grant(r->srv, extra, v);
    send_file(r->srv, v, r->clip);
}

static json_t *info(harness_server_t *s, const char *video_id)
{
    harness_response_t r;
    assert_true(harness_video_info(s, NULL, video_id, &r));
    assert_api_ok(&r);
    json_t *d = json_incref(harness_data(&r)); /* outlives the response */
    harness_response_free(&r);
    return d;
}

static json_t *wait_status(harness_server_t *s, const char *video_id, const char *want)
{
    int64_t deadline = harness_now_ms() + WAIT_MS;
    for (;;) {
        json_t *d = info(s, video_id);
        const char *st = harness_json_str(d, "status");
        if (st && !strcmp(st, want))
            return d;
        if (harness_now_ms() > deadline) {
            char *t = json_dumps(d, JSON_COMPACT);
            fail_msg("video %s: want %s, got %s", video_id, want, t);
        }
        json_decref(d);
        usleep(100 * 1000);
    }
}

static json_t *task_call(harness_server_t *s, const char *call, const char *task_id, long want_http)
{
    char *path = harness_strf("/vod/videoManage/%s", call);
    char *body = harness_strf("taskId=%s", task_id);
    harness_response_t r;
    assert_true(harness_call(s, NULL, "POST", path, body, HARNESS_FORM, &r));
    assert_int_equal(r.status, want_http);
    json_t *d = want_http == 200 ? json_incref(harness_data(&r)) : NULL;
    harness_response_free(&r);
    free(body);
    free(path);
    return d;
}

static long served(harness_server_t *s, const char *key)
{
    harness_upload_response_t r;
    assert_true(harness_playback(s, "GET", key, NULL, &r));
    long status = r.status;
    harness_upload_response_free(&r);
    return status;
}

/* <the video's directory>/cover.jpg */
static char *cover_key(const video_t *v)
{
    return harness_strf("%.*s/cover.jpg", (int)(strrchr(v->key, '/') - v->key), v->key);
}

/* The video's latest task, once its error contains `needle`. */
static json_t *wait_task_error(rig_t *r, const char *video_id, const char *needle)
{
    int64_t deadline = harness_now_ms() + WAIT_MS;
    for (;;) {
        json_t *d = info(r->srv, video_id);
        json_t *task = task_call(r->srv, "getTaskInfo", harness_json_str(d, "taskId"), 200);
        json_decref(d);
        const char *err = harness_json_str(task, "error");
        if (err && strstr(err, needle))
            return task;
        json_decref(task);
        assert_true(harness_now_ms() < deadline);
        usleep(100 * 1000);
    }
}

/* ---- tests ---- */

static void test_kill9_mid_task_runs_again(void **state)
{
    (void)state;
    /* The first run hangs (as a long transcode would); later ones are real. */
    rig_t *r = rig_start("if [ ! -e \"$DIR/once\" ]; then touch \"$DIR/once\"; exec sleep 60; fi\n"
                         "exec " FFMPEG " \"$@\"");
    video_t v;
    upload(r, NULL, &v);
    pid_t pid = fake_pid(r, 1);
    json_t *d = wait_status(r->srv, v.id, "processing");
    json_decref(d);
    assert_true(harness_server_signal(r->srv, SIGKILL));
    harness_server_wait(r->srv, 5000);
    int64_t ms = wait_gone(pid, 2000); /* no ffmpeg outlives its server */
    print_message("  ffmpeg gone %lld ms after kill -9 of the server\n", (long long)ms);
    const char *args[] = {"--processing", "on", "--ffmpeg", r->fake, NULL};
    assert_true(harness_server_restart(r->srv, args));
    char *cover = cover_key(&v);
    assert_int_equal(served(r->srv, cover), 404); /* nothing partial */
    d = info(r->srv, v.id);
    assert_int_equal(json_array_size(json_object_get(d, "outputs")), 0);
    json_decref(d);
    d = wait_status(r->srv, v.id, "ready");
    assert_int_equal(json_array_size(json_object_get(d, "outputs")), 1);
    assert_int_equal(served(r->srv, cover), 200);
    json_t *task = task_call(r->srv, "getTaskInfo", harness_json_str(d, "taskId"), 200);
    assert_int_equal(json_integer_value(json_object_get(task, "attempts")), 2);
    assert_string_equal(harness_json_str(task, "state"), "succeeded");
    json_decref(task);
    json_decref(d);
    free(cover);
    rig_stop(r);
}

static void test_cancel_stops_ffmpeg(void **state)
{
    (void)state;
    rig_t *r = rig_start("exec sleep 60");
    video_t v;
    upload(r, NULL, &v);
    pid_t pid = fake_pid(r, 1);
    json_t *d = wait_status(r->srv, v.id, "processing");
    int64_t t0 = harness_now_ms();
    json_t *task = task_call(r->srv, "cancelTask", harness_json_str(d, "taskId"), 200);
    assert_string_equal(harness_json_str(task, "state"), "canceled");
    wait_gone(pid, 2000);
    int64_t ms = harness_now_ms() - t0;
    print_message("  ffmpeg gone %lld ms after cancelTask was sent\n", (long long)ms);
    assert_true(ms < 2000);
    json_decref(task);
    json_t *after = wait_status(r->srv, v.id, "uploaded");
    json_decref(after);
    task_call(r->srv, "cancelTask", harness_json_str(d, "taskId"), 409); /* finished already */
    json_decref(d);
    rig_stop(r);
}

static void test_overwrite_cancels_old_task(void **state)
{
    (void)state;
    rig_t *r = rig_start("exec sleep 60");
    video_t v;
    upload(r, "&fileId=same&overwrite=1", &v);
    pid_t pid = fake_pid(r, 1);
    json_t *d = wait_status(r->srv, v.id, "processing");
    char *old_task = strdup(harness_json_str(d, "taskId"));
    json_decref(d);
    video_t again;
    grant(r->srv, "&fileId=same&overwrite=1", &again);
    assert_string_equal(again.id, v.id);
    send_file(r->srv, &again, r->clip);
    int64_t ms = wait_gone(pid, 2000);
    print_message("  old ffmpeg gone %lld ms after the overwrite\n", (long long)ms);
    json_t *task = task_call(r->srv, "getTaskInfo", old_task, 200);
    assert_string_equal(harness_json_str(task, "state"), "canceled");
    json_decref(task);
    d = info(r->srv, v.id);
    assert_string_not_equal(harness_json_str(d, "taskId"), old_task);
    json_decref(d);
    free(old_task);
    rig_stop(r);
}

static void test_crash_is_retried(void **state)
{
    (void)state;
    rig_t *r = rig_start("kill -SEGV $$");
    video_t v;
    upload(r, NULL, &v);
    fake_pid(r, 1);
    json_t *task = wait_task_error(r, v.id, "signal 11");
    /* Queued again for a later attempt, not failed: a crash may be transient. */
    assert_string_equal(harness_json_str(task, "state"), "queued");
    assert_int_equal(json_integer_value(json_object_get(task, "attempts")), 1);
    json_decref(task);
    rig_stop(r);
}

/* A run that hangs past processing-timeout is killed and retried later. */
static void test_timeout_is_retried(void **state)
{
    (void)state;
    rig_t *r = rig_start_timeout("exec sleep 60", "1");
    video_t v;
    upload(r, NULL, &v);
    pid_t pid = fake_pid(r, 1);
    wait_gone(pid, 4000); /* killed at 1 s (the cover run's time-out), not at 60 */
    json_t *task = wait_task_error(r, v.id, "");
    assert_string_equal(harness_json_str(task, "error"), "snapshot: ffmpeg timed out");
    assert_string_equal(harness_json_str(task, "state"), "queued"); /* to be retried */
    json_decref(task);
    rig_stop(r);
}

/* An ffmpeg error names the files it failed on; failReason, which API
 * clients read, must not show the server's directories. */
static void test_fail_reason_hides_server_paths(void **state)
{
    (void)state;
    rig_t *r = rig_start("echo \"failed on: $*\" >&2; exit 1");
    video_t v;
    upload(r, NULL, &v);
    json_t *d = wait_status(r->srv, v.id, "failed");
    const char *reason = harness_json_str(d, "failReason");
    print_message("  failReason: %.160s...\n", reason);
    assert_int_equal(strncmp(reason, "snapshot: failed on: ", 21), 0); /* not retried: ffmpeg said no */
    assert_non_null(strstr(reason, "<source>"));
    assert_null(strstr(reason, r->srv->data_dir));
    assert_null(strstr(reason, "/work/"));
    json_decref(d);
    rig_stop(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kill9_mid_task_runs_again),
        cmocka_unit_test(test_cancel_stops_ffmpeg),
        cmocka_unit_test(test_overwrite_cancels_old_task),
        cmocka_unit_test(test_crash_is_retried),
        cmocka_unit_test(test_timeout_is_retried),
        cmocka_unit_test(test_fail_reason_hides_server_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
