/*
 * test_webhooks: account webhooks end to end, against a real receiver
 * (tests/tools/hookrecv, started here and stopped by PID) that logs every
 * request:
 *  - an upload's FileUploadComplete reaches the receiver signed: the
 *    X-Vodup-Signature header is checked here with OpenSSL's HMAC directly
 *    (t + "." + body under the secret `webhook add` printed), the body has
 *    the event's fields and the video's getVideoInfo data;
 *  - a 500 is retried with the same eventId (a duplicate the receiver can
 *    drop) until a 2xx; `webhook deliveries` shows the attempts;
 *  - kill -9 of the server with a delivery pending: it is sent after the
 *    restart;
 *  - a receiver slower than webhook-timeout: the attempt is cut and
 *    recorded as a time-out, and the API answers meanwhile;
 *  - `webhook remove`: nothing more is sent to it;
 *  - deleteVideo's VideoDeleted event carries the video as it was.
 * Processing is off (the harness's default): only FileUploadComplete.
 */
#define _GNU_SOURCE
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_hook.h"
#include "harness_upload.h"

#define WAIT_MS 15000

/* `webhook add URL`: its id and secret. */
static void webhook_add(harness_server_t *s, const harness_hook_t *r, char id[64], char secret[128])
{
    char *url = harness_strf("http://127.0.0.1:%d/hook", r->port), *out = NULL;
    assert_int_equal(harness_admin(s, &out, "webhook", "add", url, "--json", NULL), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    snprintf(id, 64, "%s", harness_json_str(j, "webhookId"));
    snprintf(secret, 128, "%s", harness_json_str(j, "secret"));
    harness_note_secret(s, secret);
    json_decref(j);
    free(out);
    free(url);
}

/* Registers and form-uploads a small file; its videoId into id. */
static void upload(harness_server_t *s, char id[64])
{
    harness_response_t r;
    assert_true(harness_upload_token(s, NULL, "originFileName=a.mp4", &r));
    assert_api_ok(&r);
    json_t *d = harness_data(&r);
    snprintf(id, 64, "%s", harness_json_str(d, "videoId"));
    harness_upload_response_t u;
    assert_true(harness_form_upload(s, harness_json_str(d, "uploadToken"), "some bytes", 10, &u));
    assert_int_equal(u.status, 200);
    harness_upload_response_free(&u);
    harness_response_free(&r);
}

/* The header's t and v1 checked against HMAC-SHA256(secret, t "." body), by
 * OpenSSL here rather than vodup's own code. */
static void assert_signed(const json_t *req, const char *secret)
{
    const char *sig = harness_json_str(json_object_get(req, "headers"), "x-vodup-signature");
    const char *body = harness_json_str(req, "body");
    assert_non_null(sig);
    assert_non_null(body);
    long long t = 0;
    char v1[65] = "";
    assert_int_equal(sscanf(sig, "t=%lld,v1=%64[0-9a-f]", &t, v1), 2);
    assert_true(llabs(t - (long long)time(NULL)) < 60);
    char *msg = harness_strf("%lld.%s", t, body);
    unsigned char mac[32];
    unsigned int len = sizeof(mac);
    assert_non_null(HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, strlen(msg), mac, &len));
    char hex[65];
    for (unsigned i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", mac[i]);
    assert_string_equal(v1, hex);
    free(msg);
}

static json_t *body_of(const json_t *req)
{
    json_t *b = json_loads(harness_json_str(req, "body"), 0, NULL);
    assert_non_null(b);
    return b;
}

/* `webhook deliveries --json`, parsed. */
static json_t *deliveries(harness_server_t *s)
{
    char *out = NULL;
    assert_int_equal(harness_admin(s, &out, "webhook", "deliveries", "--json", NULL), 0);
    json_t *j = json_loads(out, 0, NULL);
    assert_non_null(j);
    free(out);
    return j;
}

/* Each test's server and receiver, stopped by the teardown even when an
 * assertion fails half-way (a receiver left running would hold the test
 * runner's output open). */
static harness_server_t *s;
static harness_hook_t r;

static int teardown(void **state)
{
    (void)state;
    harness_hook_stop(&r);
    memset(&r, 0, sizeof(r));
    int status = s ? harness_server_finish(s) : 0;
    s = NULL;
    return status;
}

static void test_signed_and_retried(void **state)
{
    (void)state;
    const char *args[] = {"--webhook-retry-first", "300", NULL};
    s = harness_server_start(args);
    assert_non_null(s);
    harness_hook_start(&r, s, VODUP_TOOL_HOOKRECV, "retried", (const char *const[]){"--statuses", "500,200", NULL});
    char hook[64], secret[128], id[64];
    webhook_add(s, &r, hook, secret);
    upload(s, id);
    json_t *reqs = harness_hook_wait(&r, 2, WAIT_MS);
    json_t *first = json_array_get(reqs, 0), *second = json_array_get(reqs, 1);
    assert_int_equal(json_integer_value(json_object_get(first, "status")), 500);
    assert_int_equal(json_integer_value(json_object_get(second, "status")), 200);
    assert_signed(first, secret);
    assert_signed(second, secret);
    json_t *b1 = body_of(first), *b2 = body_of(second);
    /* The same event again: its id lets the receiver drop the duplicate. */
    assert_string_equal(harness_json_str(b1, "eventId"), harness_json_str(b2, "eventId"));
    assert_string_equal(harness_json_str(json_object_get(first, "headers"), "x-vodup-event-id"),
                        harness_json_str(b1, "eventId"));
    assert_string_equal(harness_json_str(b1, "eventType"), "FileUploadComplete");
    assert_string_equal(harness_json_str(b1, "videoId"), id);
    json_t *data = json_object_get(b1, "data");
    assert_string_equal(harness_json_str(data, "videoId"), id);
    assert_string_equal(harness_json_str(data, "status"), "uploaded");
    assert_true(json_equal(data, json_object_get(b2, "data"))); /* frozen at the first send */
    int64_t gap = json_integer_value(json_object_get(second, "recv_ms")) -
                  json_integer_value(json_object_get(first, "recv_ms"));
    assert_true(gap >= 200); /* the back-off, jitter at most 20% */
    json_decref(b1);
    json_decref(b2);
    json_decref(reqs);
    usleep(300 * 1000); /* the record follows the answer */
    json_t *dl = deliveries(s);
    assert_int_equal(json_array_size(dl), 1);
    json_t *d0 = json_array_get(dl, 0);
    assert_string_equal(harness_json_str(d0, "state"), "delivered");
    assert_int_equal(json_integer_value(json_object_get(d0, "attempts")), 2);
    assert_int_equal(json_integer_value(json_object_get(d0, "lastStatus")), 200);
    assert_string_equal(harness_json_str(d0, "webhookId"), hook);
    json_decref(dl);
}

static void test_pending_survives_kill9(void **state)
{
    (void)state;
    const char *args[] = {"--webhook-retry-first", "1500", NULL};
    s = harness_server_start(args);
    assert_non_null(s);
    harness_hook_start(&r, s, VODUP_TOOL_HOOKRECV, "kill9", (const char *const[]){"--statuses", "503,200", NULL});
    char hook[64], secret[128], id[64];
    webhook_add(s, &r, hook, secret);
    upload(s, id);
    json_decref(harness_hook_wait(&r, 1, WAIT_MS));
    usleep(200 * 1000); /* the failed attempt is recorded: pending, due in ~1.5 s */
    assert_true(harness_server_signal(s, SIGKILL));
    harness_server_wait(s, 5000);
    int64_t restarted = harness_mono_ms();
    assert_true(harness_server_restart(s, args));
    json_t *reqs = harness_hook_wait(&r, 2, WAIT_MS);
    json_t *second = json_array_get(reqs, 1);
    assert_true(json_integer_value(json_object_get(second, "recv_ms")) >= restarted);
    assert_int_equal(json_integer_value(json_object_get(second, "status")), 200);
    assert_signed(second, secret);
    json_t *b = body_of(second);
    assert_string_equal(harness_json_str(b, "videoId"), id);
    json_decref(b);
    json_decref(reqs);
}

static void test_slow_receiver_times_out(void **state)
{
    (void)state;
    const char *args[] = {"--webhook-timeout", "500", "--webhook-retry-first", "60000", NULL};
    s = harness_server_start(args);
    assert_non_null(s);
    harness_hook_start(&r, s, VODUP_TOOL_HOOKRECV, "slow", (const char *const[]){"--delay-ms", "5000", NULL});
    char hook[64], secret[128], id[64];
    webhook_add(s, &r, hook, secret);
    upload(s, id);
    json_decref(harness_hook_wait(&r, 1, WAIT_MS));
    /* The API does not wait for the receiver. */
    int64_t t0 = harness_now_ms();
    harness_response_t info;
    assert_true(harness_video_info(s, NULL, id, &info));
    assert_api_ok(&info);
    harness_response_free(&info);
    assert_true(harness_now_ms() - t0 < 1000);
    int64_t deadline = harness_now_ms() + WAIT_MS;
    json_t *dl = NULL;
    for (;;) {
        dl = deliveries(s);
        json_t *d0 = json_array_get(dl, 0);
        if (d0 && json_integer_value(json_object_get(d0, "attempts")) == 1)
            break;
        json_decref(dl);
        assert_true(harness_now_ms() < deadline);
        usleep(100 * 1000);
    }
    json_t *d0 = json_array_get(dl, 0);
    assert_string_equal(harness_json_str(d0, "state"), "pending"); /* tried again in a minute */
    assert_int_equal(json_integer_value(json_object_get(d0, "lastStatus")), 0);
    assert_string_equal(harness_json_str(d0, "lastError"), "no answer within 500 ms");
    json_decref(dl);
}

static void test_removed_webhook_gets_nothing(void **state)
{
    (void)state;
    s = harness_server_start(NULL);
    assert_non_null(s);
    harness_hook_start(&r, s, VODUP_TOOL_HOOKRECV, "removed", NULL);
    char hook[64], secret[128], id[64];
    webhook_add(s, &r, hook, secret);
    upload(s, id);
    json_decref(harness_hook_wait(&r, 1, WAIT_MS));
    assert_int_equal(harness_admin(s, NULL, "webhook", "remove", hook, NULL), 0);
    assert_int_equal(harness_admin(s, NULL, "webhook", "remove", hook, NULL), 1);
    upload(s, id);
    usleep(1000 * 1000); /* four times the dispatcher's poll */
    json_t *reqs = harness_hook_requests(&r);
    assert_int_equal(json_array_size(reqs), 1);
    json_decref(reqs);
}

static void test_video_deleted_event(void **state)
{
    (void)state;
    s = harness_server_start(NULL);
    assert_non_null(s);
    harness_hook_start(&r, s, VODUP_TOOL_HOOKRECV, "deleted", NULL);
    char hook[64], secret[128], id[64];
    webhook_add(s, &r, hook, secret);
    upload(s, id);
    json_decref(harness_hook_wait(&r, 1, WAIT_MS));
    char *form = harness_strf("videoId=%s", id);
    harness_response_t resp;
    assert_true(harness_call(s, NULL, "POST", "/vod/videoManage/deleteVideo", form, HARNESS_FORM, &resp));
    assert_api_ok(&resp);
    harness_response_free(&resp);
    free(form);
    json_t *reqs = harness_hook_wait(&r, 2, WAIT_MS);
    json_t *second = json_array_get(reqs, 1);
    assert_signed(second, secret);
    json_t *b = body_of(second);
    assert_string_equal(harness_json_str(b, "eventType"), "VideoDeleted");
    assert_string_equal(harness_json_str(b, "videoId"), id);
    /* The video as it was just before: getVideoInfo cannot show it any more. */
    assert_string_equal(harness_json_str(json_object_get(b, "data"), "videoId"), id);
    assert_string_equal(harness_json_str(json_object_get(b, "data"), "status"), "uploaded");
    json_decref(b);
    json_decref(reqs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_signed_and_retried, teardown),
        cmocka_unit_test_teardown(test_pending_survives_kill9, teardown),
        cmocka_unit_test_teardown(test_slow_receiver_times_out, teardown),
        cmocka_unit_test_teardown(test_removed_webhook_gets_nothing, teardown),
        cmocka_unit_test_teardown(test_video_deleted_event, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
