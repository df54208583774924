/*
 * The vendor's persistent processing against a real vodup serve: fops
 * given as getUploadToken's cmd, as an SDK-minted token's persistentOps
 * with persistentNotifyUrl, and through POST /fops with the management
 * token; the status query GET /status/get/prefop; and the notification,
 * received by a real HTTP receiver (tests/tools/hookrecv) that the test
 * starts and stops by PID.  Every request is built the way the WCS Python
 * and Node SDKs build theirs (form fields in URL-safe base64, the
 * management token over "<path>\n<body>", an unauthenticated status GET).
 * Media is made at test time with ffmpeg; outputs are fetched over HTTP.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"
#include "harness_hook.h"
#include "harness_upload.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define DONE_TIMEOUT_MS 90000

static harness_server_t *srv;
static harness_hook_t hook;
static char clip[600];

/* ---- helpers ---- */

static uint8_t *slurp(const char *path, size_t *len)
{
    char *text = harness_read_file(path);
    assert_non_null(text);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    fclose(fp);
    return (uint8_t *)text;
}

/* urlsafe_b64(hex(HMAC-SHA1(sk, msg))): the WCS sign, made here with
 * OpenSSL directly rather than with vodup's code. */
static char *wcs_sign(const char *sk, const char *msg, size_t len)
{
    unsigned char mac[20];
    unsigned int mac_len = 0;
    HMAC(EVP_sha1(), sk, (int)strlen(sk), (const unsigned char *)msg, len, mac, &mac_len);
    char hex[41];
    for (int i = 0; i < 20; i++)
        sprintf(hex + 2 * i, "%02x", mac[i]);
    return harness_b64url(hex, 40);
}

static char *b64(const char *s)
{
    return harness_b64url(s, strlen(s));
}

/* POST /fops with `body` as the SDKs send it: the management token of
 * access_key over "/fops\n" + body, with the server key's secret, or sign
 * when it is not NULL.  Returns the status; pid (may be NULL) receives the
 * persistentId of a 200. */
static long post_fops(const char *body, const char *access_key, const char *sign, char pid[64])
{
    char *signed_text = harness_strf("/fops\n%s", body);
    char *made = sign ? NULL : wcs_sign(srv->key.secret_key, signed_text, strlen(signed_text));
    char *authz = harness_strf("%s:%s", access_key ? access_key : srv->key.access_key, sign ? sign : made);
    harness_request_t req = {.path = "/fops", .body = body, .authorization = authz};
    harness_response_t r;
    assert_true(harness_request(srv, &req, &r));
    print_message("  POST /fops: %ld %s\n", r.status, r.body);
    if (pid && r.status == 200)
        snprintf(pid, 64, "%s", harness_json_str(r.json, "persistentId"));
    long status = r.status;
    harness_response_free(&r);
    free(authz);
    free(made);
    free(signed_text);
    return status;
}

/* GET /status/get/prefop with no credentials at all (the Python SDK's). */
static json_t *status_of(const char *id, long want_http)
{
    char *path = harness_strf("/status/get/prefop?persistentId=%s", id);
    harness_request_t req = {.method = "GET", .path = path, .omit = HARNESS_OMIT_ALL_AUTH};
    harness_response_t r;
    assert_true(harness_request(srv, &req, &r));
    if (r.status != want_http)
        fail_msg("status %s: HTTP %ld, want %ld: %s", id, r.status, want_http, r.body);
    json_t *j = json_incref(r.json);
    harness_response_free(&r);
    free(path);
    return j;
}

/* Polls the status until its code is at least `want` (3: done). */
static json_t *status_wait(const char *id, int want)
{
    int64_t deadline = harness_now_ms() + DONE_TIMEOUT_MS;
    for (;;) {
        json_t *j = status_of(id, 200);
        if (json_integer_value(json_object_get(j, "code")) >= want)
            return j;
        json_decref(j);
        if (harness_now_ms() > deadline)
            fail_msg("job %s did not reach code %d", id, want);
        harness_sleep_ms(200);
    }
}

static json_t *item(json_t *status, size_t i)
{
    json_t *it = json_array_get(json_object_get(status, "items"), i);
    assert_non_null(it);
    return it;
}

/* Fetches an item's url; checks the answer starts with `magic`. */
static void fetch_starts_with(json_t *it, const void *magic, size_t n)
{
    const char *url = harness_json_str(it, "url");
    assert_non_null(url);
    const char *path = strstr(url + strlen("http://"), "/");
    harness_request_t req = {.method = "GET", .path = path, .omit = HARNESS_OMIT_ALL_AUTH};
    harness_response_t r;
    assert_true(harness_request(srv, &req, &r));
    assert_int_equal(r.status, 200);
    assert_true(r.body_len > n);
    assert_memory_equal(r.body, magic, n);
    harness_response_free(&r);
}

/* getUploadToken with `extra` members, then a form upload of the clip;
 * returns the upload's answer (the caller frees). */
static void upload_with(const char *extra, long want_token_http, harness_upload_response_t *u, harness_grant_t *g)
{
    char *form = harness_strf("originFileName=clip.mp4%s", extra ? extra : "");
    harness_response_t r;
    assert_true(harness_upload_token(srv, NULL, form, &r));
    free(form);
    if (r.status != want_token_http)
        fail_msg("getUploadToken: HTTP %ld, want %ld: %s", r.status, want_token_http, r.body);
    if (want_token_http != 200) {
        memcpy(u, &(harness_upload_response_t){0}, sizeof(*u));
        u->body = strdup(r.body);
        harness_response_free(&r);
        return;
    }
    json_t *d = harness_data(&r);
    snprintf(g->video_id, sizeof(g->video_id), "%s", harness_json_str(d, "videoId"));
    snprintf(g->file_key, sizeof(g->file_key), "%s", harness_json_str(d, "fileKey"));
    snprintf(g->bucket, sizeof(g->bucket), "%s", harness_json_str(d, "bucketName"));
    snprintf(g->token, sizeof(g->token), "%s", harness_json_str(d, "uploadToken"));
    harness_response_free(&r);
    size_t len;
    uint8_t *data = slurp(clip, &len);
    assert_true(harness_form_upload(srv, g->token, data, len, u));
    free(data);
}

/* The persistentId of a form upload's answer (URL-safe base64 of
 * "hash=...&persistentId=..."), into id; false when it has none. */
static bool form_persistent_id(const harness_upload_response_t *u, char id[64])
{
    size_t len;
    char *query = harness_b64url_decode(u->body, &len);
    const char *p = query ? strstr(query, "persistentId=") : NULL;
    if (p)
        snprintf(id, 64, "%.*s", (int)strcspn(p + 13, "&"), p + 13);
    free(query);
    return p != NULL;
}

/* Waits for the receiver to log a notification to `path` about job `id`;
 * returns that request's decoded status JSON text (static), or fails. */
static const char *notification_to(const char *path, const char *id)
{
    static char text[8192];
    int64_t deadline = harness_now_ms() + DONE_TIMEOUT_MS;
    while (harness_now_ms() < deadline) {
        json_t *all = harness_hook_requests(&hook);
        for (size_t i = 0; i < json_array_size(all); i++) {
            json_t *r = json_array_get(all, i);
            const char *body = harness_json_str(r, "body");
            size_t len = 0;
            char *json = body && !strcmp(harness_json_str(r, "path"), path) ? harness_b64url_decode(body, &len) : NULL;
            bool found = json && strstr(json, id);
            if (found)
                snprintf(text, sizeof(text), "%.*s", (int)len, json);
            free(json);
            if (found) {
                json_decref(all);
                return text;
            }
        }
        json_decref(all);
        harness_sleep_ms(100);
    }
    fail_msg("no notification of %s reached %s", id, path);
    return NULL;
}

/* The fileKey's directory, "video/<date>/<id>". */
static char *dir_of(const char *file_key)
{
    return strndup(file_key, (size_t)(strrchr(file_key, '/') - file_key));
}

/* The bucket of the server's account (from a throw-away registration). */
static char *account_bucket(void)
{
    harness_grant_t g;
    harness_grant_opts_t o = {0};
    assert_true(harness_grant(srv, &o, &g));
    return strdup(g.bucket);
}

/* ---- fixtures ---- */

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--processing", "on", "--webhook-retry-first", "200", NULL};
    srv = harness_server_start(args);
    if (!srv)
        return -1;
    snprintf(clip, sizeof(clip), "%s/clip.mp4", srv->root);
    char *cmd = harness_strf("%s -nostdin -v error -y -f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -f lavfi "
                             "-i sine=duration=2 -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest "
                             "'%s'",
                             FFMPEG, clip);
    int rc = system(cmd);
    free(cmd);
    if (rc != 0)
        return -1;
    harness_hook_start(&hook, srv, VODUP_TOOL_HOOKRECV, "notify", NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    harness_hook_stop(&hook);
    return harness_server_finish(srv);
}

/* ---- cases ---- */

/* cmd at getUploadToken: the upload answers with a persistentId whose
 * status goes to 3 with each task's output made, keyed and served. */
static void test_cmd_runs_after_upload(void **state)
{
    (void)state;
    char *bucket = account_bucket();
    char *entry_plain = harness_strf("%s:thumbs/one.jpg", bucket);
    char *entry = b64(entry_plain);
    char *cmd = harness_strf("avthumb/mp4/s/160x120/vb/200k;vframe/jpg/offset/1/w/80|saveas/%s", entry);
    char *esc = harness_escape(cmd);
    char *extra = harness_strf("&cmd=%s", esc);
    harness_upload_response_t u;
    harness_grant_t g;
    upload_with(extra, 200, &u, &g);
    assert_int_equal(u.status, 200);
    char pid[64];
    assert_true(form_persistent_id(&u, pid));
    harness_upload_response_free(&u);

    json_t *st = status_wait(pid, 3);
    assert_string_equal(harness_json_str(st, "id"), pid);
    assert_int_equal(json_integer_value(json_object_get(st, "code")), 3);
    assert_string_equal(harness_json_str(st, "inputkey"), g.file_key);
    assert_string_equal(harness_json_str(st, "inputbucket"), bucket);
    char *dir = dir_of(g.file_key);
    char *mp4_key = harness_strf("%s/fops1.mp4", dir), *jpg_key = harness_strf("%s/thumbs/one.jpg", dir);
    json_t *mp4 = item(st, 0), *jpg = item(st, 1);
    assert_string_equal(harness_json_str(mp4, "cmd"), "avthumb/mp4/s/160x120/vb/200k");
    assert_int_equal(json_integer_value(json_object_get(mp4, "code")), 3);
    assert_string_equal(harness_json_str(mp4, "key"), mp4_key);
    assert_string_equal(harness_json_str(mp4, "resolution"), "160x120");
    fetch_starts_with(mp4, "\0\0\0", 3); /* an ISO BMFF box size */
    assert_int_equal(json_integer_value(json_object_get(jpg, "code")), 3);
    assert_string_equal(harness_json_str(jpg, "key"), jpg_key);
    assert_string_equal(harness_json_str(jpg, "resolution"), "80x60");
    fetch_starts_with(jpg, "\xff\xd8\xff", 3);
    json_decref(st);
    free(mp4_key);
    free(jpg_key);
    free(dir);
    free(extra);
    free(esc);
    free(cmd);
    free(entry);
    free(entry_plain);
    free(bucket);
}

/* A cmd vodup cannot run is a 400 at getUploadToken, naming the part. */
static void test_cmd_that_cannot_run_is_refused(void **state)
{
    (void)state;
    static const struct {
        const char *cmd, *says;
    } cases[] = {
        {"imageMogr2/thumbnail/100x", "imageMogr2"},
        {"avthumb/flv", "flv"},
        {"avthumb/mp4/wmImage/aGVsbG8=", "wmImage"},
        {"vframe/jpg/offset/1|saveas/b3RoZXI6YS5qcGc=", "other"}, /* another bucket: "other:a.jpg" */
        {"vframe/jpg/offset/1|saveas/", "original's own name"},  /* + <bucket>:clip.mp4 */
    };
    char *bucket = account_bucket();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *entry_plain = harness_strf("%s:clip.mp4", bucket), *entry = b64(entry_plain);
        bool own = cases[i].cmd[strlen(cases[i].cmd) - 1] == '/';
        char *cmd = harness_strf("%s%s", cases[i].cmd, own ? entry : "");
        char *esc = harness_escape(cmd), *extra = harness_strf("&cmd=%s", esc);
        harness_upload_response_t u;
        harness_grant_t g;
        upload_with(extra, 400, &u, &g);
        if (!strstr(u.body, cases[i].says) || !strstr(u.body, "cmd"))
            fail_msg("cmd %s: %s does not say \"%s\"", cmd, u.body, cases[i].says);
        free(u.body);
        free(extra);
        free(esc);
        free(cmd);
        free(entry);
        free(entry_plain);
    }
    free(bucket);
}

/* POST /fops as the SDKs send it: the job runs, the notification reaches
 * the notifyURL signed with the AccessKey's secret, and the status then
 * says the notification was delivered (6). */
static void test_post_fops_notifies(void **state)
{
    (void)state;
    harness_upload_response_t u;
    harness_grant_t g;
    upload_with(NULL, 200, &u, &g);
    assert_int_equal(u.status, 200);
    char none[64];
    assert_false(form_persistent_id(&u, none)); /* no fops: no job */
    harness_upload_response_free(&u);

    char *url = harness_strf("http://127.0.0.1:%d/notify?from=vodup", hook.port);
    char *b_bucket = b64(g.bucket), *b_key = b64(g.file_key), *b_fops = b64("avthumb/m3u8/segtime/2/s/160x120"),
         *b_url = b64(url);
    char *body = harness_strf("bucket=%s&key=%s&fops=%s&force=0&separate=0&notifyURL=%s", b_bucket, b_key, b_fops,
                              b_url);
    char pid[64];
    assert_int_equal(post_fops(body, NULL, NULL, pid), 200);

    json_t *got = harness_hook_wait(&hook, 1, DONE_TIMEOUT_MS);
    json_t *n = json_array_get(got, json_array_size(got) - 1);
    json_t *headers = json_object_get(n, "headers");
    assert_string_equal(harness_json_str(headers, "content-type"), "text/plain; charset=UTF-8");
    const char *sent = harness_json_str(n, "body");
    char *msg = harness_strf("%s\n%s", url, sent);
    char *want_sign = wcs_sign(srv->key.secret_key, msg, strlen(msg));
    char *want_authz = harness_strf("%s:%s", srv->key.access_key, want_sign);
    assert_string_equal(harness_json_str(headers, "authorization"), want_authz);
    size_t len;
    char *decoded = harness_b64url_decode(sent, &len);
    json_t *job = json_loadb(decoded, len, 0, NULL);
    assert_non_null(job);
    assert_string_equal(harness_json_str(job, "id"), pid);
    assert_int_equal(json_integer_value(json_object_get(job, "code")), 3);
    json_t *hls = item(job, 0);
    assert_int_equal(json_integer_value(json_object_get(hls, "code")), 3);
    char *dir = dir_of(g.file_key), *m3u8 = harness_strf("%s/fops1.m3u8", dir);
    assert_string_equal(harness_json_str(hls, "key"), m3u8);
    fetch_starts_with(hls, "#EXTM3U", 7);

    json_t *st = status_wait(pid, 6);
    assert_int_equal(json_integer_value(json_object_get(st, "code")), 6);
    json_decref(st);
    json_decref(job);
    json_decref(got);
    free(decoded);
    free(m3u8);
    free(dir);
    free(want_authz);
    free(want_sign);
    free(msg);
    free(body);
    free(b_url);
    free(b_fops);
    free(b_key);
    free(b_bucket);
    free(url);
}

/* What POST /fops and the status query refuse. */
static void test_fops_refusals(void **state)
{
    (void)state;
    char *bucket = account_bucket();
    char *b_bucket = b64(bucket), *b_key = b64("video/20260101/nosuch/a.mp4"), *b_fops = b64("vframe/jpg/offset/1");
    char *body = harness_strf("bucket=%s&key=%s&fops=%s", b_bucket, b_key, b_fops);
    /* Signed well, but no such key: 404; a wrong sign or an unknown AccessKey: 401. */
    assert_int_equal(post_fops(body, NULL, NULL, NULL), 404);
    assert_int_equal(post_fops(body, NULL, "bm90LXRoZS1zaWdu", NULL), 401);
    assert_int_equal(post_fops(body, "nosuchkey", NULL, NULL), 401);
    /* A video registered but never uploaded has nothing to process: 409. */
    harness_grant_t g;
    harness_grant_opts_t o = {.name = "later.mp4"};
    assert_true(harness_grant(srv, &o, &g));
    char *b_later = b64(g.file_key);
    char *later = harness_strf("bucket=%s&key=%s&fops=%s", b_bucket, b_later, b_fops);
    assert_int_equal(post_fops(later, NULL, NULL, NULL), 409);
    free(later);
    free(b_later);
    json_decref(status_of("tk000000000000000000000000000000", 404));
    json_decref(status_of("short", 400));
    free(body);
    free(b_fops);
    free(b_key);
    free(b_bucket);
    free(bucket);
}

/* An SDK-minted token with persistentOps: refused before any byte when it
 * cannot run; otherwise the upload answers its persistentId. */
static void test_policy_persistent_ops(void **state)
{
    (void)state;
    harness_grant_t g;
    harness_grant_opts_t o = {.name = "mine.mp4"};
    assert_true(harness_grant(srv, &o, &g));
    char *scope = harness_strf("%s:%s", g.bucket, g.file_key);
    char *bad = harness_mint_policy(srv, &srv->key, scope, harness_now_ms() + 600000,
                                    ",\"persistentOps\":\"avthumb/mp4/r/30\"");
    size_t len;
    uint8_t *data = slurp(clip, &len);
    harness_upload_response_t u;
    assert_true(harness_form_upload(srv, bad, data, len, &u));
    assert_int_equal(u.status, 400);
    assert_non_null(strstr(u.body, "persistentOps"));
    harness_upload_response_free(&u);
    char *extra = harness_strf(",\"persistentOps\":\"vframe/jpg/offset/0\",\"persistentNotifyUrl\":"
                               "\"http://127.0.0.1:%d/policy\"",
                               hook.port);
    char *good = harness_mint_policy(srv, &srv->key, scope, harness_now_ms() + 600000, extra);
    assert_true(harness_form_upload(srv, good, data, len, &u));
    assert_int_equal(u.status, 200);
    char pid[64];
    assert_true(form_persistent_id(&u, pid));
    json_t *st = status_wait(pid, 3);
    assert_int_equal(json_integer_value(json_object_get(item(st, 0), "code")), 3);
    json_decref(st);
    harness_upload_response_free(&u);
    /* Its notification went to the policy's persistentNotifyUrl. */
    assert_non_null(notification_to("/policy", pid));
    free(good);
    free(extra);
    free(data);
    free(bad);
    free(scope);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_runs_after_upload),
        cmocka_unit_test(test_cmd_that_cannot_run_is_refused),
        cmocka_unit_test(test_post_fops_notifies),
        cmocka_unit_test(test_fops_refusals),
        cmocka_unit_test(test_policy_persistent_ops),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
