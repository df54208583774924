/*
 * test_video_registry: getVideoInfo and getVideoList against a real
 * `vodup serve`: the fields a registered video shows, playback URLs with and
 * without a domain, 404/400, paging and filters, and that accounts never see
 * each other's videos (../shared/spec/api.md section 4,
 * docs/behaviour-notes.md 5-7).
 *
 * Each test that counts videos uses an account of its own, so the counts do
 * not depend on the order the tests run in.
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

#include "harness.h"

static harness_server_t *srv;

/* The members of a video in getVideoInfo and getVideoList (behaviour-notes 6). */
static const char *const video_fields[] = {
    "videoId", "videoName", "fileId", "fileKey", "bucketName", "status", "failReason", "size", "md5", "etag",
    "mimeType", "domain", "playUrl", "categories", "workflowId", "cmd", "waterMarkName", "transCodeCombineName",
    "subtitleId", "expectedSize", "expectedMd5", "createdAt", "uploadedAt", "duration", "width", "height", "codecs",
    "taskId", "progress", "coverUrl", "outputs", "urlsExpireAt",
};

#define FIELD_COUNT (sizeof(video_fields) / sizeof(video_fields[0]))

/* ---- helpers -------------------------------------------------------------- */

typedef struct video {
    char id[33];
    char file_key[512];
    char bucket[128];
} video_t;

/* Registers a video with a form body; fills *v. */
static void make_video(const harness_key_t *key, const char *form, video_t *v)
{
    harness_response_t r;
    assert_true(harness_upload_token(srv, key, form, &r));
    assert_api_ok(&r);
    json_t *d = harness_data(&r);
    snprintf(v->id, sizeof(v->id), "%s", harness_json_str(d, "videoId"));
    snprintf(v->file_key, sizeof(v->file_key), "%s", harness_json_str(d, "fileKey"));
    snprintf(v->bucket, sizeof(v->bucket), "%s", harness_json_str(d, "bucketName"));
    harness_response_free(&r);
}

static void make_named_video(const harness_key_t *key, const char *name, const char *categories, video_t *v)
{
    char *form = categories ? harness_form("originFileName", name, "categoryNames", categories, NULL)
                            : harness_form("originFileName", name, NULL);
    make_video(key, form, v);
    free(form);
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

static void assert_video_shape(const json_t *v)
{
    assert_true(json_is_object(v));
    for (size_t i = 0; i < FIELD_COUNT; i++) {
        if (!json_object_get(v, video_fields[i])) {
            print_error("video lacks member %s\n", video_fields[i]);
            fail();
        }
    }
    assert_int_equal(json_object_size(v), FIELD_COUNT);
}

/* GET getVideoList?query with `key`; the response stays in *r. */
static json_t *list(const harness_key_t *key, const char *query, harness_response_t *r)
{
    char *path = harness_strf("%s%s%s", HARNESS_PATH_LIST, query[0] ? "?" : "", query);
    assert_true(harness_call(srv, key, "GET", path, NULL, NULL, r));
    free(path);
    assert_api_ok(r);
    json_t *d = harness_data(r);
    assert_int_equal(json_object_size(d), 4);
    assert_true(json_is_integer(json_object_get(d, "total")));
    assert_true(json_is_integer(json_object_get(d, "pageIndex")));
    assert_true(json_is_integer(json_object_get(d, "pageSize")));
    assert_true(json_is_array(json_object_get(d, "list")));
    return d;
}

static json_int_t list_total(const harness_key_t *key, const char *query)
{
    harness_response_t r;
    json_t *d = list(key, query, &r);
    json_int_t total = json_integer_value(json_object_get(d, "total"));
    /* Every filtered page holds only matching videos: checked by the callers' counts. */
    harness_response_free(&r);
    return total;
}

static void list_error(const harness_key_t *key, const char *query)
{
    harness_response_t r;
    char *path = harness_strf("%s?%s", HARNESS_PATH_LIST, query);
    assert_true(harness_call(srv, key, "GET", path, NULL, NULL, &r));
    print_message("  %s -> %ld\n", query, r.status);
    assert_api_error(&r, 400, 400);
    harness_response_free(&r);
    free(path);
}

static int cmp_desc(const void *a, const void *b)
{
    return -strcmp(((const video_t *)a)->id, ((const video_t *)b)->id);
}

/* ---- getVideoInfo ----------------------------------------------------------- */

static void test_video_info_fields(void **state)
{
    (void)state;
    video_t v;
    int64_t before = harness_now_ms();
    make_video(NULL,
               "originFileName=Info%20Test.mp4&fileSize=42&categoryNames=%5B%7B%22parentName%22%3A%22Docs%22%2C"
               "%22childName%22%3A%22Intro%22%7D%5D",
               &v);
    int64_t after = harness_now_ms();

    harness_response_t r;
    assert_true(harness_video_info(srv, NULL, v.id, &r));
    assert_api_ok(&r);
    json_t *d = harness_data(&r);
    assert_video_shape(d);
    assert_string_equal(harness_json_str(d, "videoId"), v.id);
    assert_string_equal(harness_json_str(d, "videoName"), "Info Test.mp4");
    assert_json_null(d, "fileId");
    assert_string_equal(harness_json_str(d, "fileKey"), v.file_key);
    assert_string_equal(harness_json_str(d, "bucketName"), v.bucket);
    assert_string_equal(harness_json_str(d, "status"), "created");
    assert_json_null(d, "failReason");
    assert_json_null(d, "size");
    assert_json_null(d, "md5");
    assert_json_null(d, "etag");
    assert_json_null(d, "workflowId");
    assert_json_null(d, "cmd");
    assert_json_null(d, "waterMarkName");
    assert_json_null(d, "transCodeCombineName");
    assert_json_null(d, "subtitleId");
    assert_int_equal(json_integer_value(json_object_get(d, "expectedSize")), 42);
    assert_json_null(d, "expectedMd5");
    assert_json_null(d, "uploadedAt");
    assert_json_null(d, "duration");
    assert_json_null(d, "width");
    assert_json_null(d, "height");
    assert_json_null(d, "codecs");
    /* Nothing processed before an upload: no task, no cover, no outputs. */
    assert_json_null(d, "taskId");
    assert_json_null(d, "progress");
    assert_json_null(d, "coverUrl");
    assert_json_null(d, "urlsExpireAt"); /* playback is public: URLs do not expire */
    assert_int_equal(json_array_size(json_object_get(d, "outputs")), 0);
    assert_true(json_is_array(json_object_get(d, "outputs")));
    json_t *cats = json_object_get(d, "categories");
    assert_int_equal(json_array_size(cats), 1);
    assert_string_equal(harness_json_str(json_array_get(cats, 0), "parentName"), "Docs");
    assert_string_equal(harness_json_str(json_array_get(cats, 0), "childName"), "Intro");

    /* Without any domain, playback is vodup's own origin. */
    const char *domain = harness_json_str(d, "domain");
    assert_true(json_is_null(json_object_get(d, "domain")) || (domain && domain[0] == '\0'));
    char *play = harness_strf("%s/%s", srv->base_url, v.file_key);
    assert_string_equal(harness_json_str(d, "playUrl"), play);
    free(play);

    /* createdAt: ISO 8601 UTC with milliseconds, the time of the videoId. */
    const char *created = harness_json_str(d, "createdAt");
    assert_non_null(created);
    assert_int_equal(strlen(created), 24);
    struct tm tm = {0};
    int msec = -1;
    assert_int_equal(sscanf(created, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &msec),
                     7);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    int64_t created_ms = (int64_t)timegm(&tm) * 1000 + msec;
    assert_in_range(created_ms, before - 5000, after + 5000);
    char head[13];
    memcpy(head, v.id, 12);
    head[12] = '\0';
    assert_int_equal(created_ms, strtoll(head, NULL, 16));
    harness_response_free(&r);

    /* POST with a form body or JSON works the same. */
    char *form = harness_strf("videoId=%s", v.id);
    assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_INFO, form, HARNESS_FORM, &r));
    assert_api_ok(&r);
    assert_string_equal(harness_json_str(harness_data(&r), "videoId"), v.id);
    harness_response_free(&r);
    free(form);
    char *json = harness_strf("{\"videoId\":\"%s\"}", v.id);
    assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_INFO, json, HARNESS_JSON, &r));
    assert_api_ok(&r);
    harness_response_free(&r);
    free(json);
}

static void test_video_info_errors(void **state)
{
    (void)state;
    harness_response_t r;
    assert_true(harness_video_info(srv, NULL, "00000000000000000000000000000000", &r));
    assert_api_error(&r, 404, 404);
    harness_response_free(&r);
    assert_true(harness_video_info(srv, NULL, "ffffffffffffffffffffffffffffffff", &r));
    assert_api_error(&r, 404, 404);
    harness_response_free(&r);
    assert_true(harness_call(srv, NULL, "GET", HARNESS_PATH_INFO, NULL, NULL, &r));
    assert_api_error(&r, 400, 400);
    assert_non_null(strstr(harness_json_str(r.json, "message"), "videoId"));
    harness_response_free(&r);
    assert_true(harness_call(srv, NULL, "GET", HARNESS_PATH_INFO "?videoId=", NULL, NULL, &r));
    assert_api_error(&r, 400, 400);
    harness_response_free(&r);
    assert_true(harness_call(srv, NULL, "POST", HARNESS_PATH_INFO, "other=1", HARNESS_FORM, &r));
    assert_api_error(&r, 400, 400);
    harness_response_free(&r);
}

static void test_play_url_with_domains(void **state)
{
    (void)state;
    harness_key_t k;
    assert_true(harness_admin_key_create(srv, "with-domain", &k));
    assert_int_equal(harness_admin(srv, NULL, "--account", "with-domain", "domain", "add", "cdn.example.com", NULL),
                     0);
    video_t a;
    make_named_video(&k, "a.mp4", NULL, &a);
    harness_response_t r;
    assert_true(harness_video_info(srv, &k, a.id, &r));
    assert_api_ok(&r);
    assert_string_equal(harness_json_str(harness_data(&r), "domain"), "cdn.example.com");
    char *play = harness_strf("https://cdn.example.com/%s", a.file_key);
    assert_string_equal(harness_json_str(harness_data(&r), "playUrl"), play);
    free(play);
    harness_response_free(&r);

    /* A second domain made the default takes over for new videos only. */
    assert_int_equal(harness_admin(srv, NULL, "--account", "with-domain", "domain", "add", "media.example.org",
                                   "--default", NULL),
                     0);
    /* A server may reuse the account's default domain for key-cache-ttl
     * (default 1 s, docs/configuration.md): wait for the change. */
    video_t b, c;
    int64_t deadline = harness_now_ms() + 5000;
    for (;;) {
        make_named_video(&k, "b.mp4", NULL, &b);
        assert_true(harness_video_info(srv, &k, b.id, &r));
        assert_api_ok(&r);
        const char *dom = harness_json_str(harness_data(&r), "domain");
        if (strcmp(dom, "media.example.org") == 0 || harness_now_ms() > deadline)
            break;
        assert_string_equal(dom, "cdn.example.com");
        harness_response_free(&r);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    play = harness_strf("https://media.example.org/%s", b.file_key);
    assert_string_equal(harness_json_str(harness_data(&r), "playUrl"), play);
    free(play);
    harness_response_free(&r);
    assert_true(harness_video_info(srv, &k, a.id, &r));
    assert_api_ok(&r);
    assert_string_equal(harness_json_str(harness_data(&r), "domain"), "cdn.example.com");
    harness_response_free(&r);

    /* The domain parameter picks any of the account's domains. */
    make_video(&k, "originFileName=c.mp4&domain=cdn.example.com", &c);
    assert_true(harness_video_info(srv, &k, c.id, &r));
    assert_api_ok(&r);
    play = harness_strf("https://cdn.example.com/%s", c.file_key);
    assert_string_equal(harness_json_str(harness_data(&r), "playUrl"), play);
    free(play);
    harness_response_free(&r);

    /* Domain names are case-insensitive; a domain with a scheme is used as it is. */
    video_t e, f;
    make_video(&k, "originFileName=e.mp4&domain=CDN.Example.COM", &e);
    assert_true(harness_video_info(srv, &k, e.id, &r));
    assert_api_ok(&r);
    play = harness_strf("https://cdn.example.com/%s", e.file_key);
    assert_string_equal(harness_json_str(harness_data(&r), "playUrl"), play);
    free(play);
    harness_response_free(&r);
    assert_int_equal(harness_admin(srv, NULL, "--account", "with-domain", "domain", "add",
                                   "http://media.example.net:8080", NULL),
                     0);
    make_video(&k, "originFileName=f.mp4&domain=http%3A%2F%2Fmedia.example.net%3A8080", &f);
    assert_true(harness_video_info(srv, &k, f.id, &r));
    assert_api_ok(&r);
    play = harness_strf("http://media.example.net:8080/%s", f.file_key);
    assert_string_equal(harness_json_str(harness_data(&r), "playUrl"), play);
    free(play);
    harness_response_free(&r);

    /* The default account still has no domain. */
    video_t d;
    make_named_video(NULL, "d.mp4", NULL, &d);
    assert_true(harness_video_info(srv, NULL, d.id, &r));
    assert_api_ok(&r);
    play = harness_strf("%s/%s", srv->base_url, d.file_key);
    assert_string_equal(harness_json_str(harness_data(&r), "playUrl"), play);
    free(play);
    harness_response_free(&r);
}

/* ---- accounts ----------------------------------------------------------------- */

static void test_accounts_are_isolated(void **state)
{
    (void)state;
    harness_key_t a, b;
    assert_true(harness_admin_key_create(srv, "iso-a", &a));
    assert_true(harness_admin_key_create(srv, "iso-b", &b));
    video_t va, vb;
    make_named_video(&a, "secret-a.mp4", NULL, &va);
    make_named_video(&b, "secret-b.mp4", NULL, &vb);
    assert_string_not_equal(va.bucket, vb.bucket);
    assert_null(strstr(vb.file_key, va.id));

    /* B cannot read A's video, and the answer is the same as for no video. */
    harness_response_t r;
    assert_true(harness_video_info(srv, &b, va.id, &r));
    assert_api_error(&r, 404, 404);
    harness_response_t none;
    assert_true(harness_video_info(srv, &b, "00000000000000000000000000000000", &none));
    assert_string_equal(harness_json_str(r.json, "message"), harness_json_str(none.json, "message"));
    harness_response_free(&none);
    harness_response_free(&r);
    assert_true(harness_video_info(srv, &a, vb.id, &r));
    assert_api_error(&r, 404, 404);
    harness_response_free(&r);
    assert_true(harness_video_info(srv, NULL, va.id, &r));
    assert_api_error(&r, 404, 404);
    harness_response_free(&r);

    /* B's list holds exactly B's video, whatever the filter. */
    static const char *const queries[] = {"", "videoName=secret", "videoName=secret-a", "status=created",
                                          "pageSize=100"};
    for (size_t i = 0; i < sizeof(queries) / sizeof(queries[0]); i++) {
        json_t *d = list(&b, queries[i], &r);
        json_t *items = json_object_get(d, "list");
        for (size_t k = 0; k < json_array_size(items); k++)
            assert_string_equal(harness_json_str(json_array_get(items, k), "videoId"), vb.id);
        assert_true(json_integer_value(json_object_get(d, "total")) <= 1);
        harness_response_free(&r);
    }
    assert_int_equal(list_total(&b, ""), 1);
    assert_int_equal(list_total(&b, "videoName=secret-a"), 0);
    assert_int_equal(list_total(&a, ""), 1);

    /* A second key of account A sees A's video: the account, not the key, owns it. */
    harness_key_t a2;
    assert_true(harness_admin_key_create(srv, "iso-a", &a2));
    assert_true(harness_video_info(srv, &a2, va.id, &r));
    assert_api_ok(&r);
    harness_response_free(&r);
    video_t va2;
    make_named_video(&a2, "secret-a2.mp4", NULL, &va2);
    assert_string_equal(va2.bucket, va.bucket);
}

/* ---- getVideoList --------------------------------------------------------------- */

static void test_video_list_paging(void **state)
{
    (void)state;
    enum { N = 25 };
    harness_key_t k;
    assert_true(harness_admin_key_create(srv, "pager", &k));
    video_t v[N];
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof(name), "page-%02d.mp4", i + 1);
        make_named_video(&k, name, NULL, &v[i]);
    }
    /* Newest first: by creation time (ms), ties by id; the videoId, whose first
     * 12 hex digits are that time, sorts exactly so.  Two videos made in the
     * same millisecond may come in either order of creation. */
    video_t sorted[N];
    memcpy(sorted, v, sizeof(v));
    qsort(sorted, N, sizeof(sorted[0]), cmp_desc);

    harness_response_t r;
    json_t *d = list(&k, "", &r);
    assert_int_equal(json_integer_value(json_object_get(d, "total")), N);
    assert_int_equal(json_integer_value(json_object_get(d, "pageIndex")), 1);
    assert_int_equal(json_integer_value(json_object_get(d, "pageSize")), 10);
    json_t *items = json_object_get(d, "list");
    assert_int_equal(json_array_size(items), 10);
    assert_video_shape(json_array_get(items, 0));
    for (size_t i = 0; i < 10; i++)
        assert_string_equal(harness_json_str(json_array_get(items, i), "videoId"), sorted[i].id);
    harness_response_free(&r);

    d = list(&k, "pageIndex=3&pageSize=10", &r);
    assert_int_equal(json_integer_value(json_object_get(d, "total")), N);
    assert_int_equal(json_integer_value(json_object_get(d, "pageIndex")), 3);
    items = json_object_get(d, "list");
    assert_int_equal(json_array_size(items), 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(harness_json_str(json_array_get(items, i), "videoId"), sorted[20 + i].id);
    harness_response_free(&r);

    d = list(&k, "pageSize=100", &r);
    items = json_object_get(d, "list");
    assert_int_equal(json_array_size(items), N);
    for (size_t i = 0; i < N; i++)
        assert_string_equal(harness_json_str(json_array_get(items, i), "videoId"), sorted[i].id);
    harness_response_free(&r);

    d = list(&k, "pageIndex=4&pageSize=10", &r);
    assert_int_equal(json_integer_value(json_object_get(d, "total")), N);
    assert_int_equal(json_array_size(json_object_get(d, "list")), 0);
    harness_response_free(&r);

    d = list(&k, "pageIndex=2&pageSize=7", &r);
    items = json_object_get(d, "list");
    assert_int_equal(json_array_size(items), 7);
    assert_string_equal(harness_json_str(json_array_get(items, 0), "videoId"), sorted[7].id);
    harness_response_free(&r);

    d = list(&k, "pageSize=1", &r);
    assert_int_equal(json_array_size(json_object_get(d, "list")), 1);
    harness_response_free(&r);

    /* POST, form or JSON (numbers allowed). */
    assert_true(harness_call(srv, &k, "POST", HARNESS_PATH_LIST, "pageIndex=3&pageSize=10", HARNESS_FORM, &r));
    assert_api_ok(&r);
    assert_int_equal(json_array_size(json_object_get(harness_data(&r), "list")), 5);
    harness_response_free(&r);
    assert_true(harness_call(srv, &k, "POST", HARNESS_PATH_LIST, "{\"pageIndex\":3,\"pageSize\":10}",
                             HARNESS_JSON, &r));
    assert_api_ok(&r);
    assert_int_equal(json_array_size(json_object_get(harness_data(&r), "list")), 5);
    harness_response_free(&r);

    list_error(&k, "pageSize=101");
    list_error(&k, "pageSize=0");
    list_error(&k, "pageSize=-1");
    list_error(&k, "pageSize=abc");
    list_error(&k, "pageSize=");
    list_error(&k, "pageIndex=0");
    list_error(&k, "pageIndex=-1");
    list_error(&k, "pageIndex=1.5");
    list_error(&k, "pageIndex=x");
    list_error(&k, "pageIndex=1&pageIndex=2");
}

static void test_video_list_filters(void **state)
{
    (void)state;
    harness_key_t k;
    assert_true(harness_admin_key_create(srv, "filters", &k));
    video_t v[6];
    make_named_video(&k, "Holiday Beach.mp4", "[{\"parentName\":\"Travel\",\"childName\":\"Beach\"}]", &v[0]);
    make_named_video(&k, "holiday-city.mov", "[{\"parentName\":\"Travel\",\"childName\":\"City\"}]", &v[1]);
    make_named_video(&k, "Work Meeting.mp4", "[{\"parentName\":\"Work\",\"childName\":\"Meetings\"}]", &v[2]);
    make_named_video(&k, "beach volleyball.mp4", "[{\"parentName\":\"Sports\",\"childName\":\"Beach\"}]", &v[3]);
    make_named_video(&k, "notes.mp3", NULL, &v[4]);
    make_named_video(&k, "\xe8\xa7\x86\xe9\xa2\x91 clip.mp4",
                     "[{\"parentName\":\"Travel\",\"childName\":\"City\"},"
                     "{\"parentName\":\"Work\",\"childName\":\"Talks\"}]",
                     &v[5]);
    assert_int_equal(harness_db_exec(srv, "UPDATE videos SET status = 'uploaded' WHERE video_id = ?1", v[2].id, NULL),
                     1);
    assert_int_equal(harness_db_exec(srv, "UPDATE videos SET status = 'failed' WHERE video_id = ?1", v[4].id, NULL),
                     1);

    static const struct {
        const char *query;
        int total;
    } cases[] = {
        {"", 6},
        {"videoName=holiday", 2},
        {"videoName=HOLIDAY", 2},
        {"videoName=beach", 2},
        {"videoName=.mp4", 4},
        {"videoName=%E8%A7%86%E9%A2%91", 1},
        {"videoName=nothing", 0},
        {"videoName=%25", 0},   /* '%' is a character, not a wildcard */
        {"videoName=_", 0},     /* so is '_' */
        {"videoName=h%25y", 0},
        {"videoName=", 6},      /* empty means any */
        {"status=created", 4},
        {"status=uploaded", 1},
        {"status=failed", 1},
        {"status=ready", 0},
        {"categoryName=Travel", 3},
        {"categoryName=Beach", 2},
        {"categoryName=Meetings", 1},
        {"categoryName=Work", 2},
        {"categoryName=Talks", 1},
        {"categoryName=Nope", 0},
        {"videoName=beach&categoryName=Sports", 1},
        {"videoName=holiday&status=created&categoryName=Travel", 2},
        {"status=uploaded&categoryName=Travel", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        harness_response_t r;
        json_t *d = list(&k, cases[i].query, &r);
        json_int_t total = json_integer_value(json_object_get(d, "total"));
        print_message("  %-55s total %lld\n", cases[i].query, (long long)total);
        assert_int_equal(total, cases[i].total);
        assert_int_equal(json_array_size(json_object_get(d, "list")), cases[i].total);
        harness_response_free(&r);
    }
    /* The uploaded one really is that video. */
    harness_response_t r;
    json_t *d = list(&k, "status=uploaded", &r);
    json_t *item = json_array_get(json_object_get(d, "list"), 0);
    assert_string_equal(harness_json_str(item, "videoId"), v[2].id);
    assert_string_equal(harness_json_str(item, "status"), "uploaded");
    harness_response_free(&r);

    list_error(&k, "status=bogus");
    list_error(&k, "status=CREATED");
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
    int rc = harness_server_stop(srv) == 0 ? 0 : -1;
    srv = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_video_info_fields),
        cmocka_unit_test(test_video_info_errors),
        cmocka_unit_test(test_play_url_with_domains),
        cmocka_unit_test(test_accounts_are_isolated),
        cmocka_unit_test(test_video_list_paging),
        cmocka_unit_test(test_video_list_filters),
    };
    return cmocka_run_group_tests_name("integration.test_video_registry", tests, group_setup, group_teardown);
}
