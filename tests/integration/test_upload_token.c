/*
 * test_upload_token: getUploadToken against a real `vodup serve`, as a
 * client sees it: the three ways to pass parameters, the response and the
 * token it carries, the fileKey rules, every error code of
 * ../shared/spec/api.md section 3 with its HTTP status, the order of the
 * checks (docs/behaviour-notes.md 1), processing resources, and fileId
 * resume with its 409.
 *
 * One server serves the whole file; tests that need a clean slate use an
 * account of their own, created with `vodup admin`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "auth/upload_token.h"
#include "common/buf.h"
#include "common/encoding.h"
#include "harness.h"
#include "harness_upload.h"

/* Keep these in step with config.c's defaults and the spec. */
#define MAX_UPLOAD_SIZE "68719476736" /* 64 GiB */
#define TOKEN_LIFETIME_MS (3600 * 1000LL)
/* Clock slack between this process and the server (same machine). */
#define SLACK_MS 5000

static harness_server_t *srv;

/* ---- helpers -------------------------------------------------------------- */

/* The Unix ms in the first 12 hex digits of a videoId. */
static int64_t video_id_ms(const char *video_id)
{
    char head[13];
    memcpy(head, video_id, 12);
    head[12] = '\0';
    return (int64_t)strtoll(head, NULL, 16);
}

/* The policy of an upload token, decoded; NULL when malformed. */
static json_t *token_policy(const char *token)
{
    upload_token_parts_t parts;
    if (!upload_token_split(token, strlen(token), &parts))
        return NULL;
    buf_t b;
    buf_init(&b, 0);
    json_t *policy = NULL;
    if (encoding_b64url_decode(parts.encoded_policy, parts.encoded_policy_len, &b))
        policy = json_loadb(b.data ? b.data : "", b.len, 0, NULL);
    buf_free(&b);
    return policy;
}

/*
 * Checks everything a successful getUploadToken answer promises, for a
 * request made between before_ms and after_ms with `key`.  expect_size < 0:
 * no fileSize was given.  `stem_ext` (may be NULL) is the expected last
 * part of the fileKey.
 */
static void check_token_response(const harness_response_t *r, const harness_key_t *key, int64_t before_ms,
                                 int64_t after_ms, int overwrite, long long expect_size, const char *stem_ext)
{
    assert_api_ok(r);
    json_t *data = harness_data(r);
    assert_int_equal(json_object_size(data), 7);
    const char *video_id = harness_json_str(data, "videoId");
    const char *file_key = harness_json_str(data, "fileKey");
    const char *upload_url = harness_json_str(data, "uploadUrl");
    const char *token = harness_json_str(data, "uploadToken");
    const char *bucket = harness_json_str(data, "bucketName");
    assert_non_null(video_id);
    assert_non_null(file_key);
    assert_non_null(upload_url);
    assert_non_null(token);
    assert_non_null(bucket);
    assert_true(bucket[0] != '\0');
    assert_string_equal(harness_json_str(data, "httpDnsServer"), "");
    assert_string_equal(harness_json_str(data, "speedDomainlUrl"), "");
    harness_note_secret(srv, token);

    /* videoId: 32 lowercase hex, time-ordered. */
    assert_true(harness_is_lower_hex(video_id, 32));
    int64_t ms = video_id_ms(video_id);
    assert_in_range(ms, before_ms - SLACK_MS, after_ms + SLACK_MS);

    /* fileKey: video/YYYYMMDD/<videoId>/<stem>.<ext>, the date of the videoId (UTC). */
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "video/%04d%02d%02d/%s/", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             video_id);
    assert_memory_equal(file_key, prefix, strlen(prefix));
    const char *last = file_key + strlen(prefix);
    assert_null(strchr(last, '/'));
    assert_null(strstr(file_key, ".."));
    for (const char *p = file_key; *p; p++)
        assert_non_null(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./", *p));
    if (stem_ext)
        assert_string_equal(last, stem_ext);

    assert_string_equal(upload_url, srv->base_url);

    /* uploadToken: AK:sign:policy, signed with the caller's secret. */
    int colons = 0;
    for (const char *p = token; *p; p++)
        colons += *p == ':';
    assert_int_equal(colons, 2);
    upload_token_parts_t parts;
    assert_true(upload_token_split(token, strlen(token), &parts));
    assert_int_equal(parts.access_key_len, strlen(key->access_key));
    assert_memory_equal(parts.access_key, key->access_key, parts.access_key_len);
    assert_true(upload_token_signature_valid(&parts, key->secret_key));
    assert_false(upload_token_signature_valid(&parts, "not-the-secret-key"));

    json_t *policy = token_policy(token);
    assert_non_null(policy);
    char scope[1200];
    snprintf(scope, sizeof(scope), "%s:%s", bucket, file_key);
    assert_string_equal(harness_json_str(policy, "scope"), scope);
    const char *deadline = harness_json_str(policy, "deadline");
    assert_non_null(deadline);
    for (const char *p = deadline; *p; p++)
        assert_true(*p >= '0' && *p <= '9');
    assert_in_range(strtoll(deadline, NULL, 10), before_ms + TOKEN_LIFETIME_MS - SLACK_MS,
                    after_ms + TOKEN_LIFETIME_MS + SLACK_MS);
    json_t *ow = json_object_get(policy, "overwrite");
    assert_true(json_is_integer(ow));
    assert_int_equal(json_integer_value(ow), overwrite);
    json_t *fsize = json_object_get(policy, "fsizeLimit");
    /* Absent without fileSize, and for fileSize 0 too: WCS reads fsizeLimit 0
     * as "no limit" (docs/api.md). */
    if (expect_size <= 0) {
        assert_null(fsize);
        assert_int_equal(json_object_size(policy), 3);
    } else {
        assert_true(json_is_integer(fsize));
        assert_int_equal(json_integer_value(fsize), expect_size);
        assert_int_equal(json_object_size(policy), 4);
    }
    json_decref(policy);

    /* The project's own parser agrees. */
    upload_policy_t parsed = {0};
    assert_true(upload_token_policy_parse(&parts, &parsed));
    assert_string_equal(parsed.bucket, bucket);
    assert_string_equal(parsed.key, file_key);
    assert_int_equal(parsed.overwrite, overwrite);
    upload_policy_free(&parsed);
}

/* A form POST that must succeed; the response is left in *r. */
static void token_ok(const harness_key_t *key, const char *form, harness_response_t *r)
{
    assert_true(harness_upload_token(srv, key, form, r));
    assert_api_ok(r);
}

/* getVideoInfo of an id that must exist; returns data (owned by *r). */
static json_t *info_ok(const harness_key_t *key, const char *video_id, harness_response_t *r)
{
    assert_true(harness_video_info(srv, key, video_id, r));
    assert_api_ok(r);
    return harness_data(r);
}

static void assert_json_null(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_null(v)) {
        char *text = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
        print_error("%s: expected null, got %s\n", name, text ? text : "(missing)");
        free(text);
        fail();
    }
}

/* A new account with its own key. */
static void new_account(const char *name, harness_key_t *key)
{
    assert_true(harness_admin_key_create(srv, name, key));
}

/* ---- success paths ---------------------------------------------------------- */

static void test_form_post(void **state)
{
    (void)state;
    harness_response_t r;
    int64_t before = harness_now_ms();
    token_ok(NULL, "originFileName=demo.mp4", &r);
    check_token_response(&r, &srv->key, before, harness_now_ms(), 0, -1, "demo.mp4");
    assert_string_equal(r.content_type, "application/json; charset=utf-8");
    harness_response_free(&r);
}

static void test_form_post_with_charset_and_all_basic_params(void **state)
{
    (void)state;
    harness_response_t r;
    char *form = harness_form("originFileName", "Holiday Clip.MOV", "overwrite", "1", "fileSize", "123456",
                              "fileMd5", "0123456789ABCDEF0123456789abcdef", "cmd", "avthumb/mp4", NULL);
    int64_t before = harness_now_ms();
    assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_TOKEN, form,
                             "application/x-www-form-urlencoded; charset=utf-8", &r));
    check_token_response(&r, &srv->key, before, harness_now_ms(), 1, 123456, "Holiday_Clip.mov");

    harness_response_t info;
    json_t *v = info_ok(NULL, harness_json_str(harness_data(&r), "videoId"), &info);
    assert_string_equal(harness_json_str(v, "videoName"), "Holiday Clip.MOV");
    assert_int_equal(json_integer_value(json_object_get(v, "expectedSize")), 123456);
    assert_string_equal(harness_json_str(v, "expectedMd5"), "0123456789abcdef0123456789abcdef");
    assert_string_equal(harness_json_str(v, "cmd"), "avthumb/mp4");
    harness_response_free(&info);
    harness_response_free(&r);
    free(form);
}

static void test_json_numbers_and_array_categories(void **state)
{
    (void)state;
    harness_response_t r, info;
    const char *body = "{\"originFileName\":\"clip.mov\",\"overwrite\":1,\"fileSize\":1048576,"
                       "\"categoryNames\":[{\"parentName\":\"Sports\",\"childName\":\"Football\"},"
                       "{\"parentName\":\"Sports\",\"childName\":\"Tennis\"}]}";
    int64_t before = harness_now_ms();
    assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_TOKEN, body, HARNESS_JSON, &r));
    check_token_response(&r, &srv->key, before, harness_now_ms(), 1, 1048576, "clip.mov");

    json_t *v = info_ok(NULL, harness_json_str(harness_data(&r), "videoId"), &info);
    json_t *cats = json_object_get(v, "categories");
    assert_int_equal(json_array_size(cats), 2);
    assert_string_equal(harness_json_str(json_array_get(cats, 0), "parentName"), "Sports");
    assert_string_equal(harness_json_str(json_array_get(cats, 0), "childName"), "Football");
    assert_string_equal(harness_json_str(json_array_get(cats, 1), "childName"), "Tennis");
    assert_int_equal(json_integer_value(json_object_get(v, "expectedSize")), 1048576);
    harness_response_free(&info);
    harness_response_free(&r);
}

static void test_json_strings_and_string_categories(void **state)
{
    (void)state;
    harness_response_t r, info;
    const char *body = "{\"originFileName\":\"clip.mkv\",\"overwrite\":\"0\",\"fileSize\":\"0\","
                       "\"categoryNames\":\"[{\\\"parentName\\\":\\\"Music\\\",\\\"childName\\\":\\\"Jazz\\\"}]\","
                       "\"unknownParameter\":\"ignored\",\"domain\":null}";
    int64_t before = harness_now_ms();
    assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_TOKEN, body, "application/json", &r));
    check_token_response(&r, &srv->key, before, harness_now_ms(), 0, 0, "clip.mkv");

    json_t *v = info_ok(NULL, harness_json_str(harness_data(&r), "videoId"), &info);
    json_t *cats = json_object_get(v, "categories");
    assert_int_equal(json_array_size(cats), 1);
    assert_string_equal(harness_json_str(json_array_get(cats, 0), "parentName"), "Music");
    assert_string_equal(harness_json_str(json_array_get(cats, 0), "childName"), "Jazz");
    assert_int_equal(json_integer_value(json_object_get(v, "expectedSize")), 0);
    harness_response_free(&info);
    harness_response_free(&r);
}

static void test_get_query_utf8_name(void **state)
{
    (void)state;
    harness_response_t r, info;
    int64_t before = harness_now_ms();
    assert_true(harness_call(srv, NULL, "GET",
                             HARNESS_PATH_TOKEN "?overwrite=1&originFileName=%E8%A7%86%E9%A2%91%20a.MP4", NULL,
                             NULL, &r));
    check_token_response(&r, &srv->key, before, harness_now_ms(), 1, -1, "___a.mp4");
    json_t *v = info_ok(NULL, harness_json_str(harness_data(&r), "videoId"), &info);
    assert_string_equal(harness_json_str(v, "videoName"), "\xe8\xa7\x86\xe9\xa2\x91 a.MP4");
    harness_response_free(&info);
    harness_response_free(&r);
}

/* Query and form encodings a client may use: '+' for a space, escaped
 * names and separators. */
static void test_query_and_form_encodings(void **state)
{
    (void)state;
    static const struct {
        const char *method;
        const char *query; /* after '?' (GET) or the body (POST) */
        const char *name;  /* the videoName the registry shows */
        const char *stem_ext;
    } cases[] = {
        {"GET", "originFileName=a+b.mp4", "a b.mp4", "a_b.mp4"},
        {"POST", "originFileName=a+b.mp4", "a b.mp4", "a_b.mp4"},
        {"GET", "originFileName=a%2Bb.mp4", "a+b.mp4", "a_b.mp4"},
        {"GET", "originFileName=a%26b.mp4&", "a&b.mp4", "a_b.mp4"},
        {"POST", "originFileName=a%26b%3Dc.mp4", "a&b=c.mp4", "a_b_c.mp4"},
        {"GET", "origin%46ileName=esc.mp4", "esc.mp4", "esc.mp4"},
        {"GET", "originFileName=%e8%a7%86.mp4", "\xe8\xa7\x86.mp4", "_.mp4"},
        {"GET", "x=%zz&originFileName=bad-escape.mp4", "bad-escape.mp4", "bad-escape.mp4"},
        {"GET", "originFileName=tilde~dot.mp4&y=%7E", "tilde~dot.mp4", "tilde_dot.mp4"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        harness_response_t r, info;
        bool get = strcmp(cases[i].method, "GET") == 0;
        char *path = get ? harness_strf("%s?%s", HARNESS_PATH_TOKEN, cases[i].query) : strdup(HARNESS_PATH_TOKEN);
        print_message("  %s %s\n", cases[i].method, cases[i].query);
        assert_true(harness_call(srv, NULL, cases[i].method, path, get ? NULL : cases[i].query,
                                 get ? NULL : HARNESS_FORM, &r));
        int64_t before = harness_now_ms() - 60000;
        check_token_response(&r, &srv->key, before, harness_now_ms(), 0, -1, cases[i].stem_ext);
        json_t *v = info_ok(NULL, harness_json_str(harness_data(&r), "videoId"), &info);
        assert_string_equal(harness_json_str(v, "videoName"), cases[i].name);
        harness_response_free(&info);
        harness_response_free(&r);
        free(path);
    }
}

/*
 * Empty segments ("a=1&&b=2", a leading or doubled '&') are not name=value
 * pairs, so a client that canonicalises the query per the spec (like
 * URLSearchParams, Go's url.ParseQuery or Python's parse_qsl, which drop
 * them) leaves them out of CanonicalQuery.  The server must do the same.
 */
static void test_query_empty_segments(void **state)
{
    (void)state;
    static const char *const queries[] = {
        "&originFileName=seg0.mp4",
        "originFileName=seg1.mp4&&",
        "&&originFileName=seg2.mp4",
        "overwrite=0&&originFileName=seg3.mp4",
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        char *path = harness_strf("%s?%s", HARNESS_PATH_TOKEN, queries[i]);
        harness_response_t r;
        assert_true(harness_call(srv, NULL, "GET", path, NULL, NULL, &r));
        print_message("  GET ?%-40s -> HTTP %ld %s\n", queries[i], r.status,
                      r.status == 200 ? "" : harness_json_str(r.json, "message"));
        failures += r.status != 200;
        harness_response_free(&r);
        free(path);
    }
    assert_int_equal(failures, 0);
}

static void test_post_query_and_body_combine(void **state)
{
    (void)state;
    harness_response_t r;
    int64_t before = harness_now_ms();
    assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_TOKEN "?fileSize=10", "originFileName=q.mp4",
                             HARNESS_FORM, &r));
    check_token_response(&r, &srv->key, before, harness_now_ms(), 0, 10, "q.mp4");
    harness_response_free(&r);
}

/* Every code point of the stem that is not [A-Za-z0-9_-] becomes one '_'. */
static void test_file_key_sanitising(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *stem_ext;
    } cases[] = {
        {"\xe8\xa7\x86\xe9\xa2\x91 a.MP4", "___a.mp4"},
        {"../x.mp4", "___x.mp4"},
        {".mp4", "video.mp4"},
        {"my-Video_1.mov", "my-Video_1.mov"},
        {"a b.c.mkv", "a_b_c.mkv"},
        {"/etc/passwd.avi", "_etc_passwd.avi"},
        {"..\\..\\win.webm", "______win.webm"},
        {"%2e%2e.mp4", "_2e_2e.mp4"},
        {"caf\xc3\xa9 \xf0\x9f\x8e\xac.flv", "caf___.flv"},
        {"UPPER.M4A", "UPPER.m4a"},
        {"a:b?c#d.ts", "a_b_c_d.ts"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        harness_response_t r;
        char *form = harness_form("originFileName", cases[i].name, NULL);
        int64_t before = harness_now_ms();
        assert_true(harness_upload_token(srv, NULL, form, &r));
        print_message("  name %-20s -> %s\n", cases[i].name, harness_json_str(harness_data(&r), "fileKey"));
        check_token_response(&r, &srv->key, before, harness_now_ms(), 0, -1, cases[i].stem_ext);
        harness_response_free(&r);
        free(form);
    }
}

/* 40 code points pass, 41 fail, whatever their byte length. */
static void test_name_length_limits(void **state)
{
    (void)state;
    static const struct {
        const char *unit; /* one code point */
        int count;        /* stem code points; ".mp4" adds 4 */
        long http, code;
    } cases[] = {
        {"a", 36, 200, 200},
        {"a", 37, 400, 1500},
        {"\xe8\xa7\x86", 36, 200, 200},            /* 40 code points, 112 bytes */
        {"\xe8\xa7\x86", 37, 400, 1500},
        {"\xf0\x9f\x8e\xac", 36, 200, 200},        /* 4-byte code points */
        {"\xf0\x9f\x8e\xac", 37, 400, 1500},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char name[256] = "";
        for (int k = 0; k < cases[i].count; k++)
            strcat(name, cases[i].unit);
        strcat(name, ".mp4");
        char *form = harness_form("originFileName", name, NULL);
        harness_response_t r;
        assert_true(harness_upload_token(srv, NULL, form, &r));
        if (cases[i].http == 200)
            assert_api_ok(&r);
        else
            assert_api_error(&r, cases[i].http, cases[i].code);
        harness_response_free(&r);
        free(form);
    }
}

static void test_file_size_limit_boundary(void **state)
{
    (void)state;
    harness_response_t r;
    int64_t before = harness_now_ms();
    token_ok(NULL, "originFileName=big.mp4&fileSize=" MAX_UPLOAD_SIZE, &r);
    check_token_response(&r, &srv->key, before, harness_now_ms(), 0, 68719476736LL, "big.mp4");
    harness_response_free(&r);
}

/* ---- errors ------------------------------------------------------------------ */

typedef struct token_case {
    const char *what;
    const char *params[13]; /* name, value, ..., NULL */
    long http, code;
    const char *message_has; /* for 400: the parameter the message must name */
} token_case_t;

#define NAME "originFileName", "a.mp4"

static const token_case_t error_cases[] = {
    {"originFileName missing", {"fileSize", "1", NULL}, 400, 1606, NULL},
    {"originFileName empty", {"originFileName", "", NULL}, 400, 1606, NULL},
    {"no extension", {"originFileName", "video", NULL}, 400, 1607, NULL},
    {"extension .txt", {"originFileName", "notes.txt", NULL}, 400, 1607, NULL},
    {"empty extension", {"originFileName", "video.", NULL}, 400, 1607, NULL},
    {"extension .exe", {"originFileName", "setup.exe", NULL}, 400, 1607, NULL},
    {"overwrite 2", {NAME, "overwrite", "2", NULL}, 400, 1608, NULL},
    {"overwrite empty", {NAME, "overwrite", "", NULL}, 400, 1608, NULL},
    {"overwrite true", {NAME, "overwrite", "true", NULL}, 400, 1608, NULL},
    {"overwrite 01", {NAME, "overwrite", "01", NULL}, 400, 1608, NULL},
    {"fileSize -1", {NAME, "fileSize", "-1", NULL}, 400, 1609, NULL},
    {"fileSize 1.5", {NAME, "fileSize", "1.5", NULL}, 400, 1609, NULL},
    {"fileSize abc", {NAME, "fileSize", "abc", NULL}, 400, 1609, NULL},
    {"fileSize empty", {NAME, "fileSize", "", NULL}, 400, 1609, NULL},
    {"fileSize 1e3", {NAME, "fileSize", "1e3", NULL}, 400, 1609, NULL},
    {"fileSize 64 GiB + 1", {NAME, "fileSize", "68719476737", NULL}, 400, 1610, NULL},
    {"fileSize 30 digits", {NAME, "fileSize", "123456789012345678901234567890", NULL}, 400, 1610, NULL},
    {"fileMd5 empty", {NAME, "fileMd5", "", NULL}, 400, 1604, NULL},
    {"fileMd5 33 chars", {NAME, "fileMd5", "0123456789abcdef0123456789abcdef0", NULL}, 400, 1605, NULL},
    {"fileMd5 32 non-hex", {NAME, "fileMd5", "0123456789abcdef0123456789abcdeg", NULL}, 400, 400, "fileMd5"},
    {"fileMd5 31 hex", {NAME, "fileMd5", "0123456789abcdef0123456789abcde", NULL}, 400, 400, "fileMd5"},
    {"fileId 33 chars", {NAME, "fileId", "abcdefghijklmnopqrstuvwxyz0123456", NULL}, 400, 400, "fileId"},
    {"fileId a/b", {NAME, "fileId", "a/b", NULL}, 400, 400, "fileId"},
    {"fileId empty", {NAME, "fileId", "", NULL}, 400, 400, "fileId"},
    {"fileId with space", {NAME, "fileId", "a b", NULL}, 400, 400, "fileId"},
    {"categoryNames not JSON", {NAME, "categoryNames", "Sports/Football", NULL}, 400, 400, "categoryNames"},
    {"categoryNames an object", {NAME, "categoryNames", "{\"parentName\":\"a\",\"childName\":\"b\"}", NULL},
     400, 400, "categoryNames"},
    {"categoryNames of numbers", {NAME, "categoryNames", "[1,2]", NULL}, 400, 400, "categoryNames"},
    {"categoryNames without childName", {NAME, "categoryNames", "[{\"parentName\":\"a\"}]", NULL}, 400, 400,
     "categoryNames"},
    {"categoryNames with an empty name", {NAME, "categoryNames", "[{\"parentName\":\"\",\"childName\":\"b\"}]",
                                          NULL},
     400, 400, "categoryNames"},
    {"categoryNames with a number name", {NAME, "categoryNames", "[{\"parentName\":1,\"childName\":\"b\"}]",
                                          NULL},
     400, 400, "categoryNames"},
    {"unknown domain", {NAME, "domain", "nosuch.example.com", NULL}, 400, 400, "domain"},
    {"unknown workflowId", {NAME, "workflowId", "wf0123456789abcdef0123456789abcd", NULL}, 400, 400,
     "workflowId"},
    {"unknown waterMarkName", {NAME, "waterMarkName", "nosuch", NULL}, 400, 400, "waterMarkName"},
    {"unknown transCodeCombineName", {NAME, "transCodeCombineName", "nosuch", NULL}, 400, 400,
     "transCodeCombineName"},
    {"unknown subtitleId", {NAME, "subtitleId", "sub0123456789abcdef0123456789a", NULL}, 400, 400, "subtitleId"},
    {"duplicate originFileName", {NAME, "originFileName", "b.mp4", NULL}, 400, 400, "originFileName"},
    {"duplicate fileSize", {NAME, "fileSize", "1", "fileSize", "1", NULL}, 400, 400, "fileSize"},
};

/* The first failing rule wins, in the order of behaviour-notes.md 1. */
static const token_case_t order_cases[] = {
    {"empty name + bad overwrite", {"originFileName", "", "overwrite", "2", NULL}, 400, 1606, NULL},
    {"missing name + every other error",
     {"overwrite", "2", "fileSize", "x", "fileMd5", "", "fileId", "a/b", "domain", "nosuch.example", NULL}, 400,
     1606, NULL},
    {"41 code points + no extension", {"originFileName", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", NULL}, 400,
     1500, NULL},
    {"41 code points + .txt", {"originFileName", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.txt", NULL}, 400, 1500,
     NULL},
    {"bad extension + bad overwrite", {"originFileName", "a.txt", "overwrite", "2", NULL}, 400, 1607, NULL},
    {"bad overwrite + bad fileSize", {NAME, "overwrite", "2", "fileSize", "abc", NULL}, 400, 1608, NULL},
    {"bad fileSize + empty md5", {NAME, "fileSize", "abc", "fileMd5", "", NULL}, 400, 1609, NULL},
    {"too big fileSize + empty md5", {NAME, "fileSize", "99999999999999", "fileMd5", "", NULL}, 400, 1610, NULL},
    {"empty md5 + bad fileId", {NAME, "fileMd5", "", "fileId", "a/b", NULL}, 400, 1604, NULL},
    {"bad fileId + long md5", {NAME, "fileId", "a/b", "fileMd5", "0123456789abcdef0123456789abcdef0", NULL}, 400,
     1605, NULL},
    {"bad fileId + non-hex md5", {NAME, "fileId", "a/b", "fileMd5", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", NULL}, 400,
     400, "fileId"},
    {"bad categoryNames + unknown domain", {NAME, "categoryNames", "nope", "domain", "nosuch.example", NULL}, 400,
     400, "categoryNames"},
    {"non-hex md5 + unknown domain", {NAME, "fileMd5", "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz", "domain",
                                      "nosuch.example", NULL},
     400, 400, "fileMd5"},
    {"unknown domain + unknown workflow", {NAME, "domain", "nosuch.example", "workflowId", "wfnosuch", NULL}, 400,
     400, "domain"},
    {"unknown watermark + unknown template", {NAME, "waterMarkName", "nosuch", "transCodeCombineName", "nosuch",
                                              NULL},
     400, 400, "waterMarkName"},
    {"unknown template + unknown subtitle", {NAME, "transCodeCombineName", "nosuch", "subtitleId", "subnosuch",
                                             NULL},
     400, 400, "transCodeCombineName"},
    {"duplicate parameter + empty name", {"originFileName", "", "originFileName", "", NULL}, 400, 400,
     "originFileName"},
};

static void run_token_cases(const token_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const token_case_t *c = &cases[i];
        char *form = harness_formv(c->params);
        harness_response_t r;
        print_message("  %-40s %s\n", c->what, form);
        assert_true(harness_upload_token(srv, NULL, form, &r));
        assert_api_error(&r, c->http, c->code);
        if (c->message_has) {
            const char *msg = harness_json_str(r.json, "message");
            if (!strstr(msg, c->message_has)) {
                print_error("%s: message \"%s\" does not name %s\n", c->what, msg, c->message_has);
                fail();
            }
        }
        harness_response_free(&r);
        free(form);
    }
}

static void test_error_codes(void **state)
{
    (void)state;
    run_token_cases(error_cases, sizeof(error_cases) / sizeof(error_cases[0]));
}

static void test_error_order(void **state)
{
    (void)state;
    run_token_cases(order_cases, sizeof(order_cases) / sizeof(order_cases[0]));
}

/* The longest fops of vframes: 8 tasks, each saved under a key of 4
 * segments of 60 bytes (the longest a plan takes: plan_spec.h), into cmd. */
static void long_fops(const char *bucket, char *cmd, size_t len)
{
    size_t used = 0;
    for (int i = 1; i <= 8; i++) {
        char entry[400];
        int n = snprintf(entry, sizeof(entry), "%s:", bucket);
        for (int seg = 0; seg < 4; seg++)
            n += snprintf(entry + n, sizeof(entry) - (size_t)n, "%s%d%059d", seg ? "/" : "", i, 0);
        n += snprintf(entry + n, sizeof(entry) - (size_t)n, ".jpg");
        char *b = harness_b64url(entry, (size_t)n);
        used += (size_t)snprintf(cmd + used, len - used, "%svframe/jpg/offset/%d|saveas/%s", i > 1 ? ";" : "", i, b);
        free(b);
    }
}

/* Rules whose inputs are easier to build than to write down. */
static void test_generated_limits(void **state)
{
    (void)state;
    /* cmd is a fops: the longest one a plan takes is accepted (its byte
     * limit, 4096, is past what 8 tasks with the longest keys reach). */
    harness_grant_t g;
    harness_grant_opts_t o = {0};
    assert_true(harness_grant(srv, &o, &g));
    char cmd[4098];
    long_fops(g.bucket, cmd, sizeof(cmd));
    assert_true(strlen(cmd) > 3000 && strlen(cmd) < 4096);
    char cat64[65], cat65[66];
    memset(cat64, 'n', 64);
    cat64[64] = '\0';
    memset(cat65, 'n', 65);
    cat65[65] = '\0';
    char *cats64 = harness_strf("[{\"parentName\":\"%s\",\"childName\":\"c\"}]", cat64);
    char *cats65 = harness_strf("[{\"parentName\":\"p\",\"childName\":\"%s\"}]", cat65);
    char cats32[2048] = "[", cats33[2048] = "[";
    for (int i = 0; i < 33; i++) {
        char one[64];
        snprintf(one, sizeof(one), "%s{\"parentName\":\"p\",\"childName\":\"c%d\"}", i ? "," : "", i);
        if (i < 32)
            strcat(cats32, one);
        strcat(cats33, one);
    }
    strcat(cats32, "]");
    strcat(cats33, "]");
    char long_ctl[64];
    snprintf(long_ctl, sizeof(long_ctl), "%s", "\x01" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.mp4"); /* 45 code points */
    const token_case_t cases[] = {
        {"cmd: the longest fops (8 tasks, 4-segment keys)", {NAME, "cmd", cmd, NULL}, 200, 200, NULL},
        {"categoryNames name of 64 code points", {NAME, "categoryNames", cats64, NULL}, 200, 200, NULL},
        {"32 categories", {NAME, "categoryNames", cats32, NULL}, 200, 200, NULL},
        {"categoryNames name of 65 code points", {NAME, "categoryNames", cats65, NULL}, 400, 400, "categoryNames"},
        {"33 categories", {NAME, "categoryNames", cats33, NULL}, 400, 400, "categoryNames"},
        {"originFileName not UTF-8", {"originFileName", "\xff\xfe.mp4", NULL}, 400, 400, "originFileName"},
        {"originFileName with a control character", {"originFileName", "a\x01b.mp4", NULL}, 400, 400,
         "originFileName"},
        {"originFileName with a tab, bad extension", {"originFileName", "a\tb.txt", NULL}, 400, 400,
         "originFileName"},
        {"originFileName overlong UTF-8", {"originFileName", "\xc0\xaf.mp4", NULL}, 400, 400, "originFileName"},
        {"41 code points with a control character", {"originFileName", long_ctl, NULL}, 400, 1500, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const token_case_t *c = &cases[i];
        char *form = harness_formv(c->params);
        harness_response_t r;
        print_message("  %s\n", c->what);
        assert_true(harness_upload_token(srv, NULL, form, &r));
        if (c->http == 200) {
            assert_api_ok(&r);
        } else {
            assert_api_error(&r, c->http, c->code);
            if (c->message_has)
                assert_non_null(strstr(harness_json_str(r.json, "message"), c->message_has));
        }
        harness_response_free(&r);
        free(form);
    }
    /* cmd one byte over its limit: 400 naming it. */
    memset(cmd, 'c', 4097);
    cmd[4097] = '\0';
    char *form = harness_form("originFileName", "a.mp4", "cmd", cmd, NULL);
    harness_response_t r;
    assert_true(harness_upload_token(srv, NULL, form, &r));
    assert_api_error(&r, 400, 400);
    assert_non_null(strstr(harness_json_str(r.json, "message"), "cmd"));
    harness_response_free(&r);
    free(form);
    free(cats64);
    free(cats65);
}

/* Bytes and shapes that are easy to get wrong: NULs, repeated categories. */
static void test_nul_bytes_and_repeated_categories(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *content_type;
        long http, code;
    } cases[] = {
        {"originFileName=a%00b.mp4", HARNESS_FORM, 400, 400},
        {"{\"originFileName\":\"a\\u0000b.mp4\"}", HARNESS_JSON, 400, 400},
        {"originFileName=a.mp4&fileId=a%00b", HARNESS_FORM, 400, 400},
        {"originFileName=a.mp4&fileMd5=0123456789abcdef0123456789abcde%00", HARNESS_FORM, 400, 400},
        {"originFileName=a.mp4&cmd=x%00y", HARNESS_FORM, 400, 400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        harness_response_t r;
        print_message("  %s\n", cases[i].body);
        assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_TOKEN, cases[i].body, cases[i].content_type, &r));
        assert_api_error(&r, cases[i].http, cases[i].code);
        harness_response_free(&r);
    }

    /* The same category twice: the video joins it once. */
    harness_response_t r, info;
    char *form = harness_form("originFileName", "twice.mp4", "categoryNames",
                              "[{\"parentName\":\"Twice\",\"childName\":\"Same\"},"
                              "{\"parentName\":\"Twice\",\"childName\":\"Same\"}]",
                              NULL);
    assert_true(harness_upload_token(srv, NULL, form, &r));
    free(form);
    print_message("  the same category twice -> HTTP %ld\n", r.status);
    assert_api_ok(&r);
    json_t *v = info_ok(NULL, harness_json_str(harness_data(&r), "videoId"), &info);
    assert_int_equal(json_array_size(json_object_get(v, "categories")), 1);
    harness_response_free(&info);
    harness_response_free(&r);
}

static void test_error_codes_get(void **state)
{
    (void)state;
    static const struct {
        const char *query;
        long http, code;
    } cases[] = {
        {"", 400, 1606},
        {"?originFileName=", 400, 1606},
        {"?originFileName=a.mp4&overwrite=2", 400, 1608},
        {"?originFileName=a.mp4&fileSize=-1", 400, 1609},
        {"?originFileName=a.mp4&originFileName=a.mp4", 400, 400},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *path = harness_strf("%s%s", HARNESS_PATH_TOKEN, cases[i].query);
        harness_response_t r;
        assert_true(harness_call(srv, NULL, "GET", path, NULL, NULL, &r));
        assert_api_error(&r, cases[i].http, cases[i].code);
        harness_response_free(&r);
        free(path);
    }
}

static void test_duplicate_across_query_and_body(void **state)
{
    (void)state;
    harness_response_t r;
    assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_TOKEN "?originFileName=a.mp4",
                             "originFileName=a.mp4", HARNESS_FORM, &r));
    assert_api_error(&r, 400, 400);
    assert_non_null(strstr(harness_json_str(r.json, "message"), "originFileName"));
    harness_response_free(&r);
}

static void test_malformed_json_bodies(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        "{\"originFileName\":\"a.mp4\"",                         /* truncated */
        "{not json}",
        "[\"originFileName\",\"a.mp4\"]",                        /* not an object */
        "\"a.mp4\"",
        "{\"originFileName\":[\"a.mp4\"]}",                      /* array for a plain parameter */
        "{\"originFileName\":{\"x\":1}}",
        "{\"originFileName\":true}",                             /* not a string or number */
        "{\"originFileName\":\"a.mp4\",\"originFileName\":\"b.mp4\"}", /* duplicate */
        "{\"originFileName\":\"a.mp4\"} trailing",               /* garbage after the object */
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        harness_response_t r;
        print_message("  %s\n", bodies[i]);
        assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_TOKEN, bodies[i], HARNESS_JSON, &r));
        assert_api_error(&r, 400, 400);
        harness_response_free(&r);
    }
    /* Errors of the parameter table keep their codes in JSON too. */
    static const struct {
        const char *body;
        long code;
    } coded[] = {
        {"{\"originFileName\":\"\"}", 1606},
        {"{\"originFileName\":\"a.mp4\",\"overwrite\":2}", 1608},
        {"{\"originFileName\":\"a.mp4\",\"fileSize\":-1}", 1609},
        {"{\"originFileName\":\"a.mp4\",\"fileSize\":1.5}", 1609},
        {"{\"originFileName\":\"a.mp4\",\"fileSize\":68719476737}", 1610},
        {"{\"originFileName\":\"a.mp4\",\"fileMd5\":\"\"}", 1604},
    };
    for (size_t i = 0; i < sizeof(coded) / sizeof(coded[0]); i++) {
        harness_response_t r;
        print_message("  %s\n", coded[i].body);
        assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_TOKEN, coded[i].body, HARNESS_JSON, &r));
        assert_api_error(&r, 400, coded[i].code);
        harness_response_free(&r);
    }
}

/* ---- processing resources -------------------------------------------------- */

static harness_key_t res_key;
static char workflow_id[128], subtitle_id[128];

/* The id printed by `admin --json <resource> add`, e.g. {"workflowId":"wf..."}. */
static bool admin_id(const char *out, const char *member, char *id, size_t idlen)
{
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    const char *s = harness_json_str(j, member);
    bool ok = s && strlen(s) < idlen;
    if (ok)
        snprintf(id, idlen, "%s", s);
    else
        fprintf(stderr, "admin printed no %s: %s\n", member, out ? out : "(nothing)");
    json_decref(j);
    return ok;
}

static int setup_resources(void)
{
    char *out = NULL;
    char png[512], srt[512];
    static const unsigned char png_bytes[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0};
    static const char srt_text[] = "1\n00:00:00,000 --> 00:00:01,000\nHello\n";
    if (!harness_admin_key_create(srv, "resources", &res_key))
        return -1;
    if (!harness_write_file(srv, "logo.png", png_bytes, sizeof(png_bytes), png, sizeof(png)) ||
        !harness_write_file(srv, "en.srt", srt_text, sizeof(srt_text) - 1, srt, sizeof(srt)))
        return -1;
    if (harness_admin(srv, NULL, "--account", "resources", "domain", "add", "cdn.resources.example", NULL) != 0 ||
        harness_admin(srv, NULL, "--account", "resources", "domain", "add", "alt.resources.example", NULL) != 0)
        return -1;
    if (harness_admin(srv, NULL, "--account", "resources", "template", "add", "hd", "--container", "mp4",
                      "--video-codec", "h264", "--width", "1280", "--height", "720", NULL) != 0)
        return -1;
    if (harness_admin(srv, NULL, "--account", "resources", "watermark", "add", "logo", "--image", png, NULL) != 0)
        return -1;
    bool ok = harness_admin(srv, &out, "--account", "resources", "--json", "workflow", "add", "standard", "--step",
                            "probe", "--step", "transcode=hd", NULL) == 0 &&
              admin_id(out, "workflowId", workflow_id, sizeof(workflow_id));
    free(out);
    out = NULL;
    ok = ok && harness_admin(srv, &out, "--account", "resources", "--json", "subtitle", "add", "english", "--file",
                             srt, "--language", "en", NULL) == 0 &&
         admin_id(out, "subtitleId", subtitle_id, sizeof(subtitle_id));
    free(out);
    return ok ? 0 : -1;
}

static void test_existing_resources_accepted(void **state)
{
    (void)state;
    assert_int_equal(setup_resources(), 0);
    harness_response_t r, info;
    char *form = harness_form("originFileName", "res.mp4", "domain", "alt.resources.example", "waterMarkName",
                              "logo", "transCodeCombineName", "hd", "subtitleId", subtitle_id, "cmd", "avthumb/mp4/s/640x360", NULL);
    int64_t before = harness_now_ms();
    token_ok(&res_key, form, &r);
    check_token_response(&r, &res_key, before, harness_now_ms(), 0, -1, "res.mp4");
    const char *file_key = harness_json_str(harness_data(&r), "fileKey");
    json_t *v = info_ok(&res_key, harness_json_str(harness_data(&r), "videoId"), &info);
    assert_string_equal(harness_json_str(v, "domain"), "alt.resources.example");
    char *play = harness_strf("https://alt.resources.example/%s", file_key);
    assert_string_equal(harness_json_str(v, "playUrl"), play);
    assert_string_equal(harness_json_str(v, "waterMarkName"), "logo");
    assert_string_equal(harness_json_str(v, "transCodeCombineName"), "hd");
    assert_string_equal(harness_json_str(v, "subtitleId"), subtitle_id);
    assert_string_equal(harness_json_str(v, "cmd"), "avthumb/mp4/s/640x360");
    assert_json_null(v, "workflowId");
    free(play);
    free(form);
    harness_response_free(&info);
    harness_response_free(&r);

    /* Without a domain parameter, the account's first domain is the default. */
    token_ok(&res_key, "originFileName=default-domain.mp4", &r);
    v = info_ok(&res_key, harness_json_str(harness_data(&r), "videoId"), &info);
    assert_string_equal(harness_json_str(v, "domain"), "cdn.resources.example");
    harness_response_free(&info);
    harness_response_free(&r);

    /* Another account cannot use these resources. */
    char *other = harness_form("originFileName", "x.mp4", "subtitleId", subtitle_id, NULL);
    assert_true(harness_upload_token(srv, NULL, other, &r));
    assert_api_error(&r, 400, 400);
    assert_non_null(strstr(harness_json_str(r.json, "message"), "subtitleId"));
    harness_response_free(&r);
    free(other);
    other = harness_form("originFileName", "x.mp4", "workflowId", workflow_id, NULL);
    assert_true(harness_upload_token(srv, NULL, other, &r));
    assert_api_error(&r, 400, 400);
    harness_response_free(&r);
    free(other);
    assert_true(harness_upload_token(srv, NULL, "originFileName=x.mp4&domain=cdn.resources.example", &r));
    assert_api_error(&r, 400, 400);
    harness_response_free(&r);
}

static void test_workflow_overrides_processing_params(void **state)
{
    (void)state;
    assert_true(workflow_id[0] != '\0');
    harness_response_t r, info;
    /* The others are not even checked for existence when a workflow is given. */
    char *form = harness_form("originFileName", "wf.mp4", "workflowId", workflow_id, "cmd", "ignored",
                              "waterMarkName", "nosuch", "transCodeCombineName", "nosuch", "subtitleId",
                              "subnosuch", NULL);
    token_ok(&res_key, form, &r);
    json_t *v = info_ok(&res_key, harness_json_str(harness_data(&r), "videoId"), &info);
    assert_string_equal(harness_json_str(v, "workflowId"), workflow_id);
    assert_json_null(v, "cmd");
    assert_json_null(v, "waterMarkName");
    assert_json_null(v, "transCodeCombineName");
    assert_json_null(v, "subtitleId");
    harness_response_free(&info);
    harness_response_free(&r);
    free(form);
}

/* ---- fileId resume and 409 -------------------------------------------------- */

static void test_file_id_resume(void **state)
{
    (void)state;
    harness_response_t a, b, info;
    token_ok(NULL, "originFileName=resume.mp4&fileId=resume-1&fileSize=100&categoryNames="
                   "%5B%7B%22parentName%22%3A%22P%22%2C%22childName%22%3A%22C1%22%7D%5D",
             &a);
    /* The second call may even name the file differently: name and key stay. */
    token_ok(NULL, "originFileName=renamed.mkv&fileId=resume-1&fileSize=200&categoryNames="
                   "%5B%7B%22parentName%22%3A%22P%22%2C%22childName%22%3A%22C2%22%7D%5D",
             &b);
    json_t *da = harness_data(&a), *db = harness_data(&b);
    assert_string_equal(harness_json_str(da, "videoId"), harness_json_str(db, "videoId"));
    assert_string_equal(harness_json_str(da, "fileKey"), harness_json_str(db, "fileKey"));
    assert_string_not_equal(harness_json_str(da, "uploadToken"), harness_json_str(db, "uploadToken"));
    json_t *pb = token_policy(harness_json_str(db, "uploadToken"));
    assert_int_equal(json_integer_value(json_object_get(pb, "fsizeLimit")), 200);
    json_decref(pb);

    json_t *v = info_ok(NULL, harness_json_str(da, "videoId"), &info);
    assert_string_equal(harness_json_str(v, "fileId"), "resume-1");
    assert_string_equal(harness_json_str(v, "videoName"), "resume.mp4");
    assert_int_equal(json_integer_value(json_object_get(v, "expectedSize")), 200);
    json_t *cats = json_object_get(v, "categories");
    assert_int_equal(json_array_size(cats), 1);
    assert_string_equal(harness_json_str(json_array_get(cats, 0), "childName"), "C2");
    assert_string_equal(harness_json_str(v, "status"), "created");
    harness_response_free(&info);

    /* fileIds are per account: another account gets its own video. */
    harness_key_t other;
    new_account("resume-other", &other);
    harness_response_t c;
    token_ok(&other, "originFileName=resume.mp4&fileId=resume-1", &c);
    assert_string_not_equal(harness_json_str(harness_data(&c), "videoId"), harness_json_str(da, "videoId"));
    harness_response_free(&c);
    harness_response_free(&a);
    harness_response_free(&b);
}

static void test_file_id_completed_conflict(void **state)
{
    (void)state;
    harness_response_t a, r;
    token_ok(NULL, "originFileName=done.mp4&fileId=done-1", &a);
    char video_id[33];
    snprintf(video_id, sizeof(video_id), "%s", harness_json_str(harness_data(&a), "videoId"));
    const char *file_key = harness_json_str(harness_data(&a), "fileKey");

    /* Only the upload stage (not written yet) can complete an upload. */
    assert_int_equal(harness_db_exec(srv, "UPDATE videos SET status = 'uploaded' WHERE video_id = ?1", video_id,
                                     NULL),
                     1);
    assert_true(harness_upload_token(srv, NULL, "originFileName=done.mp4&fileId=done-1", &r));
    assert_api_error(&r, 409, 409);
    harness_response_free(&r);
    assert_true(harness_upload_token(srv, NULL, "originFileName=done.mp4&fileId=done-1&overwrite=0", &r));
    assert_api_error(&r, 409, 409);
    harness_response_free(&r);

    int64_t before = harness_now_ms();
    token_ok(NULL, "originFileName=done.mp4&fileId=done-1&overwrite=1", &r);
    check_token_response(&r, &srv->key, before - 60000, harness_now_ms(), 1, -1, "done.mp4");
    assert_string_equal(harness_json_str(harness_data(&r), "videoId"), video_id);
    assert_string_equal(harness_json_str(harness_data(&r), "fileKey"), file_key);
    harness_response_free(&r);

    /* processing and ready count as completed too; failed does not. */
    static const struct {
        const char *status;
        long http;
    } states[] = {{"processing", 409}, {"ready", 409}, {"failed", 200}, {"uploading", 200}};
    for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
        assert_int_equal(harness_db_exec(srv, "UPDATE videos SET status = ?1 WHERE video_id = ?2", states[i].status,
                                         video_id),
                         1);
        assert_true(harness_upload_token(srv, NULL, "originFileName=done.mp4&fileId=done-1", &r));
        print_message("  status %s -> %ld\n", states[i].status, r.status);
        if (states[i].http == 200)
            assert_api_ok(&r);
        else
            assert_api_error(&r, states[i].http, 409);
        harness_response_free(&r);
    }
    harness_response_free(&a);
}

/*
 * Unicode controls in originFileName (security review, issue 10, finding
 * 13): Cc, Cf, Zl and Zp code points are refused like the ASCII controls,
 * with the same 400, whichever way the parameter comes.  Names that merely
 * use other scripts or emoji still register.
 */
static void test_name_unicode_controls(void **state)
{
    (void)state;
    static const struct {
        const char *what, *name;
        bool ok;
    } cases[] = {
        {"RLO U+202E (reads as abcmp4.jpg)", "abc\xe2\x80\xaegpj.mp4", false},
        {"LRO U+202D", "a\xe2\x80\xad" "b.mp4", false},
        {"LRE U+202A", "a\xe2\x80\xaa" "b.mp4", false},
        {"RLI U+2067", "a\xe2\x81\xa7" "b.mp4", false},
        {"PDI U+2069", "a\xe2\x81\xa9" "b.mp4", false},
        {"RLM U+200F", "a\xe2\x80\x8f" "b.mp4", false},
        {"LRM U+200E", "a\xe2\x80\x8e" "b.mp4", false},
        {"zero width space U+200B", "a\xe2\x80\x8b" "b.mp4", false},
        {"zero width joiner U+200D", "a\xe2\x80\x8d" "b.mp4", false},
        {"BOM U+FEFF", "\xef\xbb\xbf" "a.mp4", false},
        {"line separator U+2028", "a\xe2\x80\xa8" "b.mp4", false},
        {"paragraph separator U+2029", "a\xe2\x80\xa9" "b.mp4", false},
        {"NEL U+0085", "a\xc2\x85" "b.mp4", false},
        {"C1 U+0080", "a\xc2\x80" "b.mp4", false},
        {"C1 U+009F", "a\xc2\x9f" "b.mp4", false},
        {"Latin letters", "vid\xc3\xa9o.mp4", true},
        {"Hebrew letters (right-to-left by themselves)", "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d.mp4", true},
        {"emoji", "\xf0\x9f\x8e\xac clip.mp4", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s\n", cases[i].what);
        /* As a form body (percent-encoded UTF-8) and as a JSON body with
         * \uXXXX escapes, which the server's JSON parser decodes. */
        char *form = harness_form("originFileName", cases[i].name, NULL);
        json_t *obj = json_pack("{s:s}", "originFileName", cases[i].name);
        char *json = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
        assert_non_null(json);
        harness_response_t r[2];
        assert_true(harness_upload_token(srv, NULL, form, &r[0]));
        assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_TOKEN, json, HARNESS_JSON, &r[1]));
        for (int k = 0; k < 2; k++) {
            if (cases[i].ok) {
                assert_api_ok(&r[k]);
                continue;
            }
            assert_api_error(&r[k], 400, 400);
            assert_string_equal(harness_json_str(r[k].json, "message"),
                                "Parameter originFileName contains control characters.");
        }
        harness_response_free(&r[0]);
        harness_response_free(&r[1]);
        free(json);
        json_decref(obj);
        free(form);
    }
}

/* ---- main ------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = harness_server_finish(srv);
    srv = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_post),
        cmocka_unit_test(test_form_post_with_charset_and_all_basic_params),
        cmocka_unit_test(test_json_numbers_and_array_categories),
        cmocka_unit_test(test_json_strings_and_string_categories),
        cmocka_unit_test(test_get_query_utf8_name),
        cmocka_unit_test(test_post_query_and_body_combine),
        cmocka_unit_test(test_query_and_form_encodings),
        cmocka_unit_test(test_query_empty_segments),
        cmocka_unit_test(test_file_key_sanitising),
        cmocka_unit_test(test_name_length_limits),
        cmocka_unit_test(test_file_size_limit_boundary),
        cmocka_unit_test(test_error_codes),
        cmocka_unit_test(test_error_order),
        cmocka_unit_test(test_generated_limits),
        cmocka_unit_test(test_nul_bytes_and_repeated_categories),
        cmocka_unit_test(test_error_codes_get),
        cmocka_unit_test(test_duplicate_across_query_and_body),
        cmocka_unit_test(test_malformed_json_bodies),
        cmocka_unit_test(test_existing_resources_accepted),
        cmocka_unit_test(test_workflow_overrides_processing_params),
        cmocka_unit_test(test_file_id_resume),
        cmocka_unit_test(test_file_id_completed_conflict),
        cmocka_unit_test(test_name_unicode_controls),
    };
    return cmocka_run_group_tests_name("integration.test_upload_token", tests, group_setup, group_teardown);
}
