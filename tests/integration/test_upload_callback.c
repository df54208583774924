/*
 * The vendor's upload callback against a real vodup serve and a real
 * receiver (tests/tools/hookrecv, started and stopped by PID): a token
 * minted with callbackUrl and callbackBody, as an app does with a WCS SDK.
 * The receiver sees the expanded body and a management-token Authorization
 * (checked here with OpenSSL, not vodup's code); the uploader gets the
 * receiver's JSON answer, or 579 when the callback fails, and the upload
 * stays stored either way.  URLs a token may not name are refused before
 * any byte is taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"
#include "harness_hook.h"
#include "harness_upload.h"

#define WAIT_MS 15000
#define ANSWER "{\"ok\":true,\"from\":\"app\"}"
#define DATA_LEN 4096

static harness_server_t *srv;
static harness_hook_t hook;
static uint8_t *data;

static int setup(void **state)
{
    (void)state;
    /* 127.0.0.1 is allowed, "localhost" is not: the allow-list at work. */
    const char *args[] = {"--processing", "off", "--callback-timeout", "1500", "--callback-allow-hosts",
                          "127.0.0.1", NULL};
    srv = harness_server_start(args);
    data = harness_pattern(DATA_LEN, 7);
    return srv && data ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    harness_hook_stop(&hook);
    free(data);
    return harness_server_finish(srv);
}

/* A fresh registration and a token for it with `extra` policy members. */
static char *token_with(const char *extra, harness_grant_t *g)
{
    harness_grant_opts_t o = {0};
    assert_true(harness_grant(srv, &o, g));
    char *scope = harness_strf("%s:%s", g->bucket, g->file_key);
    char *token = harness_mint_policy(srv, &srv->key, scope, harness_now_ms() + 600000, extra);
    free(scope);
    return token;
}

static char *callback_policy(const char *url)
{
    return harness_strf(",\"callbackUrl\":\"%s\",\"callbackBody\":\"key=$(key)&size=$(fsize)&etag=$(hash)"
                        "&v=$(x:v)\"",
                        url);
}

/* A form upload with the field x:v = `v`. */
static void form_upload(const char *token, const char *v, harness_upload_response_t *u)
{
    harness_form_part_t parts[] = {
        {.name = "token", .data = token},
        {.name = "x:v", .data = v},
        {.name = "file", .data = data, .len = DATA_LEN, .filename = "clip.mp4", .type = "video/mp4"},
    };
    harness_form_t f = {.parts = parts, .count = 3};
    assert_true(harness_form_post(srv, &f, u));
}

static const char *video_status(const char *video_id)
{
    static char status[32];
    harness_response_t r;
    assert_true(harness_video_info(srv, NULL, video_id, &r));
    snprintf(status, sizeof(status), "%s", harness_json_str(harness_data(&r), "status"));
    harness_response_free(&r);
    return status;
}

/* The Authorization the receiver must have seen: the WCS management token
 * over the request line's path and query, a newline and the body. */
static char *expected_authorization(const char *path_query, const char *body)
{
    char *msg = harness_strf("%s\n%s", path_query, body);
    unsigned char mac[20];
    unsigned int mac_len = 0;
    HMAC(EVP_sha1(), srv->key.secret_key, (int)strlen(srv->key.secret_key), (const unsigned char *)msg,
         strlen(msg), mac, &mac_len);
    char hex[41];
    for (int i = 0; i < 20; i++)
        sprintf(hex + 2 * i, "%02x", mac[i]);
    char *sign = harness_b64url(hex, 40);
    char *authz = harness_strf("%s:%s", srv->key.access_key, sign);
    free(sign);
    free(msg);
    return authz;
}

/* A form upload: the callback gets the expanded, signed body and the
 * uploader gets its JSON answer (not the 303 of the token's returnUrl,
 * ignored when there is a callback). */
static void test_form_upload_answers_with_the_callback(void **state)
{
    (void)state;
    harness_hook_start(&hook, srv, VODUP_TOOL_HOOKRECV, "form", (const char *const[]){"--body", ANSWER, NULL});
    char *url = harness_strf("http://127.0.0.1:%d/cb?app=1", hook.port);
    char *policy = callback_policy(url);
    char *extra = harness_strf("%s,\"returnUrl\":\"http://127.0.0.1:9/r\"", policy);
    free(policy);
    harness_grant_t g;
    char *token = token_with(extra, &g);
    harness_upload_response_t u;
    form_upload(token, "a&b=c", &u);
    assert_int_equal(u.status, 200);
    assert_string_equal(u.body, ANSWER);
    assert_non_null(strstr(harness_header(&u, "Content-Type"), "application/json"));
    harness_upload_response_free(&u);

    json_t *got = harness_hook_wait(&hook, 1, WAIT_MS);
    json_t *req = json_array_get(got, 0);
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, DATA_LEN, etag);
    char *key_esc = harness_escape(g.file_key);
    char *body = harness_strf("key=%s&size=%d&etag=%s&v=a%%26b%%3Dc", key_esc, DATA_LEN, etag);
    assert_string_equal(harness_json_str(req, "body"), body);
    json_t *headers = json_object_get(req, "headers");
    assert_string_equal(harness_json_str(headers, "content-type"), "application/x-www-form-urlencoded");
    assert_string_equal(harness_json_str(req, "path"), "/cb"); /* hookrecv logs no query */
    char *authz = expected_authorization("/cb?app=1", body);
    assert_string_equal(harness_json_str(headers, "authorization"), authz);
    assert_string_equal(video_status(g.video_id), "uploaded");
    json_decref(got);
    harness_hook_stop(&hook);
    free(authz);
    free(body);
    free(key_esc);
    free(token);
    free(extra);
    free(url);
}

/* The block protocol's mkfile answers with the callback too. */
static void test_mkfile_answers_with_the_callback(void **state)
{
    (void)state;
    harness_hook_start(&hook, srv, VODUP_TOOL_HOOKRECV, "mkfile", (const char *const[]){"--body", ANSWER, NULL});
    char *url = harness_strf("http://127.0.0.1:%d/cb", hook.port);
    char *extra = callback_policy(url);
    harness_grant_t g;
    char *token = token_with(extra, &g);
    char *authz = harness_uptoken(token);
    harness_upload_response_t u;
    assert_true(harness_mkblk(srv, authz, DATA_LEN, 0, data, DATA_LEN, &u));
    assert_int_equal(u.status, 200);
    harness_block_answer_t a;
    assert_true(harness_block_answer(&u, &a));
    harness_upload_response_free(&u);
    assert_true(harness_mkfile(srv, authz, DATA_LEN, NULL, a.ctx, NULL, &u));
    assert_int_equal(u.status, 200);
    assert_string_equal(u.body, ANSWER);
    harness_upload_response_free(&u);
    json_decref(harness_hook_wait(&hook, 1, WAIT_MS));
    assert_string_equal(video_status(g.video_id), "uploaded");
    harness_hook_stop(&hook);
    free(authz);
    free(token);
    free(extra);
    free(url);
}

/* True when id looks like a task id: "tk" and 30 lowercase hex digits. */
static bool is_task_id(const char *id)
{
    return id && strlen(id) == 32 && !strncmp(id, "tk", 2) && strspn(id + 2, "0123456789abcdef") == 30;
}

/* An upload that queues a persistent job (the token's persistentOps)
 * answers its persistentId: a member of mkfile's JSON, and $(persistentId)
 * in a callbackBody. */
static void test_persistent_id_in_answers(void **state)
{
    (void)state;
    harness_grant_t g;
    char *token = token_with(",\"persistentOps\":\"vframe/jpg/offset/0\"", &g);
    char *authz = harness_uptoken(token);
    harness_upload_response_t u;
    assert_true(harness_mkblk(srv, authz, DATA_LEN, 0, data, DATA_LEN, &u));
    harness_block_answer_t a;
    assert_true(harness_block_answer(&u, &a));
    harness_upload_response_free(&u);
    assert_true(harness_mkfile(srv, authz, DATA_LEN, NULL, a.ctx, NULL, &u));
    print_message("  mkfile: %ld %s\n", u.status, u.body);
    assert_int_equal(u.status, 200);
    assert_true(is_task_id(harness_json_str(u.json, "persistentId")));
    harness_upload_response_free(&u);
    free(authz);
    free(token);

    harness_hook_start(&hook, srv, VODUP_TOOL_HOOKRECV, "pid", (const char *const[]){"--body", ANSWER, NULL});
    char *extra = harness_strf(",\"persistentOps\":\"vframe/jpg/offset/0\",\"callbackUrl\":\"http://127.0.0.1:%d/"
                               "cb\",\"callbackBody\":\"p=$(persistentId)\"",
                               hook.port);
    token = token_with(extra, &g);
    form_upload(token, "x", &u);
    assert_int_equal(u.status, 200);
    harness_upload_response_free(&u);
    json_t *got = harness_hook_wait(&hook, 1, WAIT_MS);
    const char *body = harness_json_str(json_array_get(got, 0), "body");
    print_message("  callback body: %s\n", body);
    assert_true(!strncmp(body, "p=", 2) && is_task_id(body + 2));
    json_decref(got);
    harness_hook_stop(&hook);
    free(token);
    free(extra);
}

/* Each way a callback fails is a 579 that says which, after which the
 * video is uploaded all the same. */
static void test_failed_callbacks_are_579(void **state)
{
    (void)state;
    static const char *const status500[] = {"--status", "500", "--body", ANSWER, NULL};
    static const char *const slow[] = {"--delay-ms", "4000", "--body", ANSWER, NULL};
    static const char *const redirect[] = {"--redirect", "http://127.0.0.1:9/", NULL};
    static const struct {
        const char *name;
        const char *const *args;
        const char *says;
        int64_t min_ms, max_ms; /* callback-timeout is 1.5 s */
    } cases[] = {
        {"status500", status500, "http_error (HTTP 500)", 0, 1500},
        {"notjson", NULL, "not a JSON object", 0, 1500},
        {"slow", slow, "timeout", 1400, 3500},
        {"redirect", redirect, "http_error (HTTP 302)", 0, 1500},
        {"down", NULL, "connect_failed", 0, 1000},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        harness_hook_start(&hook, srv, VODUP_TOOL_HOOKRECV, cases[i].name, cases[i].args);
        int port = hook.port;
        if (!strcmp(cases[i].name, "down"))
            harness_hook_stop(&hook); /* nothing listens there now */
        char *url = harness_strf("http://127.0.0.1:%d/cb", port);
        char *extra = callback_policy(url);
        harness_grant_t g;
        char *token = token_with(extra, &g);
        harness_upload_response_t u;
        int64_t t0 = harness_now_ms();
        form_upload(token, "x", &u);
        int64_t took = harness_now_ms() - t0;
        print_message("  %s: %ld in %lld ms: %s\n", cases[i].name, u.status, (long long)took, u.body);
        assert_int_equal(u.status, 579);
        assert_int_equal(json_integer_value(json_object_get(u.json, "code")), 579);
        assert_non_null(strstr(harness_json_str(u.json, "message"), cases[i].says));
        assert_string_equal(harness_json_str(u.json, "error"), harness_json_str(u.json, "message"));
        assert_null(strstr(u.body, "/cb")); /* the URL is never quoted */
        assert_true(took < cases[i].max_ms);
        assert_true(took >= cases[i].min_ms);
        harness_upload_response_free(&u);
        assert_string_equal(video_status(g.video_id), "uploaded");
        harness_hook_stop(&hook);
        free(token);
        free(extra);
        free(url);
    }
}

/* A callbackUrl that is not http(s), holds user information or names a
 * host off the allow-list is refused before the upload, by the form upload
 * and by mkblk: 400, the video not uploaded. */
static void test_refused_callback_urls(void **state)
{
    (void)state;
    static const char *const urls[] = {"ftp://127.0.0.1/cb", "http://localhost:9/cb", "http://u:p@127.0.0.1/cb"};
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        char *extra = callback_policy(urls[i]);
        harness_grant_t g;
        char *token = token_with(extra, &g);
        harness_upload_response_t u;
        form_upload(token, "x", &u);
        print_message("  %s: %ld %s\n", urls[i], u.status, u.body);
        assert_int_equal(u.status, 400);
        assert_non_null(strstr(harness_json_str(u.json, "message"), "callbackUrl"));
        harness_upload_response_free(&u);
        assert_string_equal(video_status(g.video_id), "created");
        /* The block protocol refuses it at the first chunk, unstored. */
        char *authz = harness_uptoken(token);
        assert_true(harness_mkblk(srv, authz, DATA_LEN, 0, data, DATA_LEN, &u));
        assert_int_equal(u.status, 400);
        assert_non_null(strstr(harness_json_str(u.json, "message"), "callbackUrl"));
        harness_upload_response_free(&u);
        assert_string_equal(video_status(g.video_id), "created");
        free(authz);
        free(token);
        free(extra);
    }
}

/* A malformed callback-allow-hosts stops the server at start, saying
 * which option, instead of refusing every callback later. */
static void test_bad_allow_list_stops_the_server(void **state)
{
    (void)state;
    char *cmd = harness_strf("timeout 10 '%s' serve --listen 127.0.0.1:0 --data '%s/bad' --processing off "
                             "--callback-allow-hosts 'a b,,' 2>&1 </dev/null",
                             VODUP_BIN, srv->root);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096] = "";
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    print_message("  %s", out);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) != 0);
    assert_non_null(strstr(out, "callback-allow-hosts"));
    free(cmd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_upload_answers_with_the_callback),
        cmocka_unit_test(test_mkfile_answers_with_the_callback),
        cmocka_unit_test(test_persistent_id_in_answers),
        cmocka_unit_test(test_failed_callbacks_are_579),
        cmocka_unit_test(test_refused_callback_urls),
        cmocka_unit_test(test_bad_allow_list_stops_the_server),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
