/*
 * test_video_delete: deleteVideo over HTTP and what it leaves on disk, and
 * the expiry of registrations never uploaded:
 *  - an uploaded video: 200; then getVideoInfo 404, its playUrl 404, no
 *    object left under the data directory; a second delete, an unknown id
 *    and another account's video are 404; no videoId is 400;
 *  - a processed video (real ffmpeg on a 1 s clip): its original, cover and
 *    rendition answer 404 at once, and no object is left;
 *  - a video whose task is running (a fake ffmpeg that hangs): the ffmpeg
 *    is gone within 2 s and, once its worker has stopped, no object is
 *    left;
 *  - registrations never uploaded expire after registration-ttl, uploaded
 *    videos stay.
 */
#define _GNU_SOURCE /* nftw */
#include <ftw.h>
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

static harness_server_t *srv;

static int teardown(void **state)
{
    (void)state;
    int status = srv ? harness_server_finish(srv) : 0;
    srv = NULL;
    return status;
}

/* ---- helpers ---- */

static void delete_video(const harness_key_t *key, const char *id, long want_http)
{
    char *form = harness_strf("videoId=%s", id);
    json_t *d = harness_api(srv, key, "deleteVideo", form, want_http);
    if (d)
        assert_string_equal(harness_json_str(d, "videoId"), id);
    json_decref(d);
    free(form);
}

static json_t *info(const char *id, long want_http)
{
    char *form = harness_strf("videoId=%s", id);
    json_t *d = harness_api(srv, NULL, "getVideoInfo", form, want_http);
    free(form);
    return d;
}

/* Registers and form-uploads `len` bytes of data (with extra token
 * parameters); returns the getUploadToken data (the caller decrefs). */
static json_t *upload(const char *extra, const void *data, size_t len)
{
    char *form = harness_strf("originFileName=clip.mp4%s", extra ? extra : "");
    json_t *d = harness_api(srv, NULL, "getUploadToken", form, 200);
    free(form);
    harness_upload_response_t u;
    assert_true(harness_form_upload(srv, harness_json_str(d, "uploadToken"), data, len, &u));
    assert_int_equal(u.status, 200);
    harness_upload_response_free(&u);
    return d;
}

static long served(const char *key)
{
    harness_upload_response_t r;
    assert_true(harness_playback(srv, "GET", key, NULL, &r));
    long status = r.status;
    harness_upload_response_free(&r);
    return status;
}

/* The key part of a URL this server made ("http://host:port/" + key). */
static const char *url_key(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    assert_non_null(p);
    return p + 1;
}

static size_t files_found;

static int count_file(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)path;
    (void)st;
    (void)ftw;
    if (flag == FTW_F)
        files_found++;
    return 0;
}

/* Regular files under <data>/objects: the published objects. */
static size_t objects_on_disk(void)
{
    char *dir = harness_strf("%s/objects", srv->data_dir);
    files_found = 0;
    nftw(dir, count_file, 16, FTW_PHYS);
    free(dir);
    return files_found;
}

static json_t *wait_status(const char *id, const char *status)
{
    int64_t deadline = harness_now_ms() + WAIT_MS;
    for (;;) {
        json_t *d = info(id, 200);
        if (!strcmp(harness_json_str(d, "status"), status))
            return d;
        assert_string_not_equal(harness_json_str(d, "status"), "failed");
        json_decref(d);
        assert_true(harness_now_ms() < deadline);
        usleep(50 * 1000);
    }
}

static void make_clip(const char *path)
{
    char *cmd = harness_strf("%s -nostdin -v error -y -f lavfi -i testsrc2=size=160x120:rate=25:duration=1 "
                             "-c:v libx264 -preset ultrafast -pix_fmt yuv420p '%s'", FFMPEG, path);
    assert_int_equal(system(cmd), 0);
    free(cmd);
}

static void read_all(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    *data = malloc(1 << 20);
    *len = fread(*data, 1, 1 << 20, f);
    fclose(f);
}

/* ---- tests ---- */

static void test_delete_uploaded(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    assert_non_null(srv);
    json_t *d = upload(NULL, "some bytes", 10);
    const char *id = harness_json_str(d, "videoId");
    json_t *v = info(id, 200);
    char *play = strdup(harness_json_str(v, "playUrl"));
    json_decref(v);
    assert_int_equal(served(url_key(play)), 200);
    assert_int_equal(objects_on_disk(), 1);

    harness_key_t bob;
    assert_true(harness_admin_key_create(srv, "bob", &bob));
    delete_video(&bob, id, 404); /* another account's video is absent */
    harness_api(srv, NULL, "deleteVideo", "videoId=", 400);
    delete_video(NULL, "0123456789abcdef0123456789abcdef", 404);

    delete_video(NULL, id, 200);
    json_decref(info(id, 404));
    assert_int_equal(served(url_key(play)), 404);
    assert_int_equal(objects_on_disk(), 0);
    delete_video(NULL, id, 404);
    free(play);
    json_decref(d);
}

static void test_delete_processed(void **state)
{
    (void)state;
    const char *args[] = {"--processing", "on", NULL};
    srv = harness_server_start(args);
    assert_non_null(srv);
    assert_int_equal(harness_admin(srv, NULL, "template", "add", "sd", "--rendition", "160x120", NULL), 0);
    char *clip = harness_strf("%s/clip.mp4", srv->root), *data;
    size_t len;
    make_clip(clip);
    read_all(clip, &data, &len);
    json_t *d = upload("&transCodeCombineName=sd", data, len);
    const char *id = harness_json_str(d, "videoId");
    json_t *v = wait_status(id, "ready");
    char *keys[3] = {strdup(url_key(harness_json_str(v, "playUrl"))),
                     strdup(url_key(harness_json_str(v, "coverUrl"))),
                     strdup(url_key(harness_json_str(json_array_get(json_object_get(v, "outputs"), 0), "url")))};
    json_decref(v);
    for (int i = 0; i < 3; i++)
        assert_int_equal(served(keys[i]), 200);
    assert_true(objects_on_disk() >= 3);

    delete_video(NULL, id, 200);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(served(keys[i]), 404);
        free(keys[i]);
    }
    assert_int_equal(objects_on_disk(), 0);
    json_decref(d);
    free(data);
    free(clip);
}

static void test_delete_during_task(void **state)
{
    (void)state;
    char dir[] = "/tmp/vodup-fake-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *fake = harness_strf("%s/ffmpeg", dir), *pids = harness_strf("%s/pids", dir);
    FILE *fp = fopen(fake, "w");
    assert_non_null(fp);
    fprintf(fp, "#!/bin/sh\necho $$ >> '%s'\nexec sleep 60\n", pids);
    fclose(fp);
    assert_int_equal(chmod(fake, 0700), 0);
    const char *args[] = {"--processing", "on", "--ffmpeg", fake, NULL};
    srv = harness_server_start(args);
    assert_non_null(srv);
    char *clip = harness_strf("%s/clip.mp4", srv->root), *data;
    size_t len;
    make_clip(clip);
    read_all(clip, &data, &len);
    json_t *d = upload(NULL, data, len);
    const char *id = harness_json_str(d, "videoId");
    json_decref(wait_status(id, "processing"));
    int pid = 0;
    int64_t deadline = harness_now_ms() + WAIT_MS;
    while (pid == 0 && harness_now_ms() < deadline) {
        FILE *f = fopen(pids, "r");
        if (f && fscanf(f, "%d", &pid) != 1)
            pid = 0;
        if (f)
            fclose(f);
        usleep(20 * 1000);
    }
    assert_true(pid > 0);

    int64_t t0 = harness_now_ms();
    delete_video(NULL, id, 200);
    while (!harness_process_gone(pid)) {
        assert_true(harness_now_ms() - t0 < 2000);
        usleep(20 * 1000);
    }
    print_message("  ffmpeg gone %lld ms after deleteVideo\n", (long long)(harness_now_ms() - t0));
    assert_true(harness_server_log_wait(srv, "given up", 5000)); /* the worker let the task go */
    assert_int_equal(objects_on_disk(), 0);
    json_decref(info(id, 404));
    json_decref(d);
    free(data);
    free(clip);
    char *rm = harness_strf("rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
    free(rm);
    free(fake);
    free(pids);
}

/* Registrations never uploaded expire (registration-ttl); uploaded ones stay. */
static void test_registration_expiry(void **state)
{
    (void)state;
    const char *args[] = {"--registration-ttl", "1", "--sweep-interval", "1", NULL};
    srv = harness_server_start(args);
    assert_non_null(srv);
    json_t *kept = upload(NULL, "some bytes", 10);
    json_t *d = harness_api(srv, NULL, "getUploadToken", "originFileName=never.mp4", 200);
    const char *id = harness_json_str(d, "videoId");
    json_decref(info(id, 200));
    int64_t deadline = harness_now_ms() + 10000;
    for (;;) {
        char *form = harness_strf("videoId=%s", id);
        harness_response_t r;
        assert_true(harness_call(srv, NULL, "POST", "/vod/videoManage/getVideoInfo", form, HARNESS_FORM, &r));
        long status = r.status;
        harness_response_free(&r);
        free(form);
        if (status == 404)
            break;
        assert_int_equal(status, 200);
        assert_true(harness_now_ms() < deadline);
        usleep(200 * 1000);
    }
    json_decref(info(harness_json_str(kept, "videoId"), 200));
    assert_int_equal(objects_on_disk(), 1);
    assert_true(harness_server_log_wait(srv, "registrations never uploaded", 1000));
    json_decref(d);
    json_decref(kept);
}

int main(void)
{
    if (access(FFMPEG, X_OK) != 0) {
        fprintf(stderr, "test_video_delete: %s is required (scripts/install-deps.sh)\n", FFMPEG);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_delete_uploaded, teardown),
        cmocka_unit_test_teardown(test_delete_processed, teardown),
        cmocka_unit_test_teardown(test_delete_during_task, teardown),
        cmocka_unit_test_teardown(test_registration_expiry, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
