/*
 * test_client_api: the pure parts of the client's API calls
 * (client/client_api.c) and upload answers (client/client_transfer.c): the
 * getUploadToken form, its answer, the one-line error messages and exit
 * codes, and the etag of a form upload's answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/client_api.h"
#include "client/client_transfer.h"

static char *form_of(const client_token_params_t *p)
{
    buf_t b;
    char err[256];
    buf_init(&b, 0);
    assert_true(client_token_form(p, &b, err, sizeof(err)));
    return buf_steal(&b);
}

static void test_token_form(void **state)
{
    (void)state;
    client_token_params_t p = {.name = "my clip.mp4", .file_size = -1};
    char *f = form_of(&p);
    assert_string_equal(f, "originFileName=my%20clip.mp4");
    free(f);

    client_token_params_t all = {
        .name = "视频.mp4",
        .file_id = "fid_1",
        .workflow = "wf",
        .watermark = "logo",
        .template_name = "hd",
        .subtitle = "sub",
        .domain = "cdn.example.com",
        .cmd = "a&b=c",
        .categories = {"sports/foot ball", "news/local/city"},
        .category_count = 2,
        .overwrite = true,
        .file_size = 0,
        .file_md5 = "0123456789abcdef0123456789abcdef",
    };
    f = form_of(&all);
    assert_string_equal(f, "originFileName=%E8%A7%86%E9%A2%91.mp4&overwrite=1&fileSize=0"
                           "&fileMd5=0123456789abcdef0123456789abcdef&fileId=fid_1&domain=cdn.example.com"
                           "&workflowId=wf&cmd=a%26b%3Dc"
                           "&categoryNames=%5B%7B%22parentName%22%3A%22sports%22%2C%22childName%22%3A%22foot%20ball"
                           "%22%7D%2C%7B%22parentName%22%3A%22news%22%2C%22childName%22%3A%22local%2Fcity%22%7D%5D"
                           "&waterMarkName=logo&transCodeCombineName=hd&subtitleId=sub");
    free(f);

    static const char *const bad_categories[] = {"nochild", "/child", "parent/", ""};
    for (size_t i = 0; i < sizeof(bad_categories) / sizeof(bad_categories[0]); i++) {
        client_token_params_t b = {.name = "a.mp4", .file_size = -1, .categories = {bad_categories[i]},
                                   .category_count = 1};
        buf_t out;
        char err[256] = "";
        buf_init(&out, 0);
        assert_false(client_token_form(&b, &out, err, sizeof(err)));
        assert_non_null(strstr(err, "PARENT/CHILD"));
        buf_free(&out);
    }
}

static void test_grant(void **state)
{
    (void)state;
    json_t *ok = json_loads("{\"code\":200,\"data\":{\"videoId\":\"v1\",\"fileKey\":\"video/k.mp4\","
                            "\"uploadUrl\":\"http://h:1//\",\"uploadToken\":\"AK:s:p\",\"bucketName\":\"b\"}}",
                            0, NULL);
    client_grant_t g;
    assert_true(client_grant_parse(ok, &g));
    assert_string_equal(g.video_id, "v1");
    assert_string_equal(g.file_key, "video/k.mp4");
    assert_string_equal(g.upload_url, "http://h:1");
    assert_string_equal(g.token, "AK:s:p");
    json_decref(ok);
    static const char *const bad[] = {
        "{}",
        "{\"data\":[]}",
        "{\"data\":{\"videoId\":\"v1\",\"fileKey\":\"k\",\"uploadUrl\":\"u\"}}",
        "{\"data\":{\"videoId\":\"v1\",\"fileKey\":\"k\",\"uploadUrl\":\"\",\"uploadToken\":\"t\"}}",
        "{\"data\":{\"videoId\":1,\"fileKey\":\"k\",\"uploadUrl\":\"u\",\"uploadToken\":\"t\"}}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *j = json_loads(bad[i], 0, NULL);
        assert_false(client_grant_parse(j, &g));
        json_decref(j);
    }
    assert_false(client_grant_parse(NULL, &g));
}

static void set_body(client_response_t *r, long status, const char *body)
{
    client_response_reset(r);
    r->status = status;
    buf_append_str(&r->body, body);
    r->json = json_loads(body, 0, NULL);
}

static void test_describe(void **state)
{
    (void)state;
    client_response_t r;
    char out[512];
    client_response_init(&r);

    set_body(&r, 401, "{\"code\":401,\"message\":\"Authentication failed: signature mismatch.\",\"requestId\":\"x\"}");
    snprintf(r.request_id, sizeof(r.request_id), "65a1c0ffee0b00000000002a");
    client_response_describe(&r, "getUploadToken", "http://h", out, sizeof(out));
    assert_string_equal(out, "getUploadToken: HTTP 401: Authentication failed: signature mismatch. "
                             "(requestId 65a1c0ffee0b00000000002a)");
    assert_int_equal(client_response_exit_code(&r), CLIENT_EXIT_AUTH);

    set_body(&r, 403, "{\"code\":403,\"message\":\"The AccessKey is disabled.\"}");
    assert_int_equal(client_response_exit_code(&r), CLIENT_EXIT_AUTH);

    /* The upload endpoint's errors carry "message" and "error". */
    set_body(&r, 412, "{\"code\":412,\"error\":\"mkfile: a block is gone\"}");
    r.tries = 1;
    client_response_describe(&r, "mkfile", NULL, out, sizeof(out));
    assert_string_equal(out, "mkfile: HTTP 412: mkfile: a block is gone");
    assert_int_equal(client_response_exit_code(&r), CLIENT_EXIT_FAILURE);

    /* Not JSON (a proxy's page): its start, on one line. */
    set_body(&r, 502, "<html>\n<b>Bad gateway</b></html>");
    r.tries = 6;
    client_response_describe(&r, "mkblk of block 0", NULL, out, sizeof(out));
    assert_string_equal(out, "mkblk of block 0: HTTP 502: <html> <b>Bad gateway</b></html> (after 6 tries)");

    client_response_reset(&r);
    r.curl_code = CURLE_COULDNT_CONNECT;
    snprintf(r.curl_error, sizeof(r.curl_error), "Failed to connect to 127.0.0.1 port 1");
    r.tries = 2;
    client_response_describe(&r, "getVideoInfo", "http://127.0.0.1:1", out, sizeof(out));
    assert_string_equal(out, "getVideoInfo: cannot reach http://127.0.0.1:1: Failed to connect to 127.0.0.1 port 1 "
                             "(after 2 tries)");
    assert_int_equal(client_response_exit_code(&r), CLIENT_EXIT_FAILURE);
    client_response_free(&r);
}

static void test_form_answer(void **state)
{
    (void)state;
    char etag[CLIENT_ETAG_MAX];
    /* base64url("hash=Fqr0xh3cxeii2r7eDztILNmuqUNN") */
    assert_true(client_form_answer_etag("aGFzaD1GcXIweGgzY3hlaWkycjdlRHp0SUxObXVxVU5O", 44, etag));
    assert_string_equal(etag, "Fqr0xh3cxeii2r7eDztILNmuqUNN");
    /* base64url("key=a&hash=Fqr0") with a newline after it. */
    assert_true(client_form_answer_etag("a2V5PWEmaGFzaD1GcXIw\n", 21, etag));
    assert_string_equal(etag, "Fqr0");
    /* base64url("nohash=1") */
    assert_false(client_form_answer_etag("bm9oYXNoPTE=", 12, etag));
    assert_false(client_form_answer_etag("{\"hash\":\"x\"}", 12, etag));
    assert_false(client_form_answer_etag("", 0, etag));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_form),
        cmocka_unit_test(test_grant),
        cmocka_unit_test(test_describe),
        cmocka_unit_test(test_form_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
