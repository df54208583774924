/*
 * test_playback: GET / HEAD /<fileKey>, vodup's own playback origin
 * (docs/upload.md "Playback"), against a real `vodup serve`: full answers
 * with Content-Type, ETag (the WCS etag, quoted), Last-Modified and
 * Accept-Ranges; single byte ranges (206 with Content-Range, 416); 404 for
 * unknown keys and for videos not (completely) uploaded; `--playback off`.
 *
 * The objects are put there with form uploads (test_upload_form covers
 * those); about 1 MiB is uploaded in all.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#define SAMPLE_LEN 300007
#define UNKNOWN_KEY "video/20200101/0123456789abcdef0123456789abcdef/nope.mp4"

static harness_server_t *srv;

/* The sample object, uploaded by the first test that needs it. */
static struct {
    bool ready;
    harness_grant_t grant;
    uint8_t *data;
    size_t len;
    char etag[HARNESS_ETAG_LEN + 1];
    char mime[128];
    int64_t before_ms, after_ms; /* the upload happened in between */
} sample;

/* Uploads `len` bytes with a form upload (and a mimeType field when not NULL). */
static void upload_ok(harness_server_t *s, const harness_grant_t *g, const uint8_t *data, size_t len, const char *mime)
{
    harness_form_part_t parts[3];
    size_t n = 0;
    parts[n++] = (harness_form_part_t){.name = "token", .data = g->token};
    if (mime)
        parts[n++] = (harness_form_part_t){.name = "mimeType", .data = mime};
    parts[n++] = (harness_form_part_t){.name = "file", .data = data, .len = len, .filename = "x.bin"};
    harness_form_t f = {.parts = parts, .count = n};
    harness_upload_response_t r;
    assert_true(harness_form_post(s, &f, &r));
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, len, etag);
    char *q = harness_strf("hash=%s", etag);
    assert_form_ok(&r, q);
    free(q);
    harness_upload_response_free(&r);
}

static void sample_ready(void)
{
    if (sample.ready)
        return;
    assert_true(harness_grant(srv, &(harness_grant_opts_t){.name = "movie.mp4"}, &sample.grant));
    sample.len = SAMPLE_LEN;
    free(sample.data); /* from an earlier attempt that failed half-way */
    sample.data = harness_pattern(sample.len, 77);
    harness_etag(sample.data, sample.len, sample.etag);
    sample.before_ms = harness_now_ms();
    upload_ok(srv, &sample.grant, sample.data, sample.len, NULL);
    sample.after_ms = harness_now_ms();
    harness_response_t info;
    json_t *v = assert_uploaded(srv, NULL, sample.grant.video_id, sample.data, sample.len, NULL, &info);
    snprintf(sample.mime, sizeof(sample.mime), "%s", harness_json_str(v, "mimeType"));
    harness_response_free(&info);
    sample.ready = true;
}

static void assert_header_equal(const harness_upload_response_t *r, const char *name, const char *want)
{
    const char *got = harness_header(r, name);
    if (!got || strcmp(got, want) != 0) {
        print_error("%s: expected '%s', got '%s'\n", name, want, got ? got : "(absent)");
        fail();
    }
}

/* The headers every 200 of the sample carries. */
static void assert_sample_headers(const harness_upload_response_t *r)
{
    char quoted[HARNESS_ETAG_LEN + 3];
    snprintf(quoted, sizeof(quoted), "\"%s\"", sample.etag);
    assert_header_equal(r, "ETag", quoted);
    assert_true(harness_list_has(harness_header(r, "Accept-Ranges"), "bytes"));
    const char *type = harness_header(r, "Content-Type");
    assert_non_null(type);
    assert_int_equal(strncmp(type, sample.mime, strlen(sample.mime)), 0); /* a "; charset" may follow */
    const char *lm = harness_header(r, "Last-Modified");
    assert_non_null(lm);
    time_t t = curl_getdate(lm, NULL);
    print_message("  Last-Modified %s (upload between %lld and %lld ms)\n", lm, (long long)sample.before_ms,
                  (long long)sample.after_ms);
    assert_true(t > 0);
    /* HTTP dates have whole seconds. */
    assert_in_range((int64_t)t, sample.before_ms / 1000 - 1, sample.after_ms / 1000 + 1);
}

/* ---- tests ---------------------------------------------------------------- */

static void test_get_full(void **state)
{
    (void)state;
    sample_ready();
    harness_upload_response_t r;
    assert_true(harness_playback(srv, "GET", sample.grant.file_key, NULL, &r));
    print_message("  GET /%s -> %ld, %zu bytes, Content-Type %s, ETag %s\n", sample.grant.file_key, r.status,
                  r.body_len, harness_header(&r, "Content-Type") ? harness_header(&r, "Content-Type") : "(none)",
                  harness_header(&r, "ETag") ? harness_header(&r, "ETag") : "(none)");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, sample.len);
    assert_memory_equal(r.body, sample.data, sample.len);
    char len[32];
    snprintf(len, sizeof(len), "%zu", sample.len);
    assert_header_equal(&r, "Content-Length", len);
    assert_sample_headers(&r);
    assert_string_equal(sample.mime, "video/mp4");
    harness_upload_response_free(&r);
}

static void test_head(void **state)
{
    (void)state;
    sample_ready();
    harness_upload_response_t r;
    assert_true(harness_playback(srv, "HEAD", sample.grant.file_key, NULL, &r));
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    char len[32];
    snprintf(len, sizeof(len), "%zu", sample.len);
    assert_header_equal(&r, "Content-Length", len);
    assert_sample_headers(&r);
    harness_upload_response_free(&r);
}

static void test_ranges(void **state)
{
    (void)state;
    sample_ready();
    const long long n = (long long)sample.len;
    struct {
        const char *what;
        char range[64];
        long status;
        long long first, last; /* the bytes a 206 holds */
    } cases[] = {
        {"first ten bytes", "", 206, 0, 9},
        {"a middle range", "", 206, 100, 199},
        {"suffix: the last ten bytes", "", 206, n - 10, n - 1},
        {"open-ended: from size-5", "", 206, n - 5, n - 1},
        {"open-ended from 0", "", 206, 0, n - 1},
        {"the last byte", "", 206, n - 1, n - 1},
        {"end past the size is clipped", "", 206, n - 10, n - 1},
        {"suffix longer than the object", "", 206, 0, n - 1},
        {"start at the size", "", 416, 0, 0},
        {"start past the size", "", 416, 0, 0},
    };
    snprintf(cases[0].range, sizeof(cases[0].range), "bytes=0-9");
    snprintf(cases[1].range, sizeof(cases[1].range), "bytes=100-199");
    snprintf(cases[2].range, sizeof(cases[2].range), "bytes=-10");
    snprintf(cases[3].range, sizeof(cases[3].range), "bytes=%lld-", n - 5);
    snprintf(cases[4].range, sizeof(cases[4].range), "bytes=0-");
    snprintf(cases[5].range, sizeof(cases[5].range), "bytes=%lld-%lld", n - 1, n - 1);
    snprintf(cases[6].range, sizeof(cases[6].range), "bytes=%lld-%lld", n - 10, n + 100);
    snprintf(cases[7].range, sizeof(cases[7].range), "bytes=-%lld", n + 100);
    snprintf(cases[8].range, sizeof(cases[8].range), "bytes=%lld-", n);
    snprintf(cases[9].range, sizeof(cases[9].range), "bytes=%lld-%lld", n + 10, n + 20);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char header[96];
        snprintf(header, sizeof(header), "Range: %s", cases[i].range);
        const char *const headers[] = {header, NULL};
        harness_upload_response_t r;
        assert_true(harness_playback(srv, "GET", sample.grant.file_key, headers, &r));
        const char *cr = harness_header(&r, "Content-Range");
        print_message("  %-34s %-24s -> %ld, Content-Range %s, %zu bytes\n", cases[i].what, cases[i].range, r.status,
                      cr ? cr : "(none)", r.body_len);
        assert_int_equal(r.status, cases[i].status);
        if (cases[i].status == 206) {
            size_t count = (size_t)(cases[i].last - cases[i].first + 1);
            assert_int_equal(r.body_len, count);
            assert_memory_equal(r.body, sample.data + cases[i].first, count);
            char want[96];
            snprintf(want, sizeof(want), "bytes %lld-%lld/%lld", cases[i].first, cases[i].last, n);
            assert_header_equal(&r, "Content-Range", want);
            char len[32];
            snprintf(len, sizeof(len), "%zu", count);
            assert_header_equal(&r, "Content-Length", len);
            assert_sample_headers(&r);
        }
        harness_upload_response_free(&r);
    }
}

static void test_unknown_key(void **state)
{
    (void)state;
    static const char *const keys[] = {UNKNOWN_KEY, "nope.mp4", "video/20200101/nope"};
    static const char *const methods[] = {"GET", "HEAD"};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        for (size_t m = 0; m < 2; m++) {
            harness_upload_response_t r;
            assert_true(harness_playback(srv, methods[m], keys[i], NULL, &r));
            print_message("  %s /%s -> %ld\n", methods[m], keys[i], r.status);
            assert_int_equal(r.status, 404);
            harness_upload_response_free(&r);
        }
    }
}

static void assert_not_served(harness_server_t *s, const char *file_key, const char *when)
{
    static const char *const methods[] = {"GET", "HEAD"};
    for (size_t m = 0; m < 2; m++) {
        harness_upload_response_t r;
        assert_true(harness_playback(s, methods[m], file_key, NULL, &r));
        print_message("  %s: %s -> %ld\n", when, methods[m], r.status);
        assert_int_equal(r.status, 404);
        harness_upload_response_free(&r);
    }
}

static void test_not_uploaded(void **state)
{
    (void)state;
    harness_grant_t g;
    assert_true(harness_grant(srv, NULL, &g));
    assert_not_served(srv, g.file_key, "registered, nothing uploaded");

    /* Half a block arrived. */
    char *auth = harness_uptoken(g.token);
    uint8_t *data = harness_pattern(2000, 78);
    harness_upload_response_t r;
    assert_true(harness_mkblk(srv, auth, 2000, 0, data, 1000, &r));
    assert_upload_status(&r, 200);
    harness_upload_response_free(&r);
    assert_not_served(srv, g.file_key, "half a block uploaded");

    /* A whole block, but no mkfile. */
    char ctx[HARNESS_CTX_MAX];
    assert_true(harness_put_block(srv, auth, data, 2000, 0, 2000, ctx));
    assert_not_served(srv, g.file_key, "a whole block, no mkfile");

    /* A form upload refused (fsizeLimit). */
    harness_grant_t small;
    assert_true(harness_grant(srv, &(harness_grant_opts_t){.file_size = "10"}, &small));
    assert_true(harness_form_upload(srv, small.token, data, 2000, &r));
    assert_upload_error(&r, 413);
    harness_upload_response_free(&r);
    assert_not_served(srv, small.file_key, "a refused form upload");
    free(data);
    free(auth);
}

static void test_mime_type_and_empty_object(void **state)
{
    (void)state;
    harness_grant_t g;
    assert_true(harness_grant(srv, NULL, &g));
    uint8_t *data = harness_pattern(5000, 79);
    upload_ok(srv, &g, data, 5000, "video/webm");
    harness_upload_response_t r;
    assert_true(harness_playback(srv, "GET", g.file_key, NULL, &r));
    print_message("  mimeType video/webm -> Content-Type %s\n",
                  harness_header(&r, "Content-Type") ? harness_header(&r, "Content-Type") : "(none)");
    assert_int_equal(r.status, 200);
    const char *type = harness_header(&r, "Content-Type");
    assert_non_null(type);
    assert_int_equal(strncmp(type, "video/webm", strlen("video/webm")), 0);
    assert_int_equal(r.body_len, 5000);
    assert_memory_equal(r.body, data, 5000);
    harness_upload_response_free(&r);
    free(data);

    harness_grant_t e;
    assert_true(harness_grant(srv, NULL, &e));
    upload_ok(srv, &e, (const uint8_t *)"", 0, NULL);
    assert_true(harness_playback(srv, "GET", e.file_key, NULL, &r));
    print_message("  empty object -> %ld, %zu bytes, ETag %s\n", r.status, r.body_len,
                  harness_header(&r, "ETag") ? harness_header(&r, "ETag") : "(none)");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    assert_header_equal(&r, "ETag", "\"Fto5o-5ea0sNMlW_75VgGJCv2AcJ\"");
    harness_upload_response_free(&r);
}

/* A server with --playback off: uploads work, nothing is served. */
static void test_playback_off(void **state)
{
    (void)state;
    static const char *const args[] = {"--playback", "off", NULL};
    harness_server_t *s2 = harness_server_start(args);
    assert_non_null(s2);
    harness_grant_t g;
    assert_true(harness_grant(s2, NULL, &g));
    uint8_t *data = harness_pattern(4000, 80);
    upload_ok(s2, &g, data, 4000, NULL);
    harness_response_t info;
    assert_uploaded(s2, NULL, g.video_id, data, 4000, NULL, &info);
    harness_response_free(&info);
    assert_not_served(s2, g.file_key, "playback off");
    assert_not_served(s2, UNKNOWN_KEY, "playback off, unknown key");
    assert_null(harness_log_find_secret(s2));
    assert_int_equal(harness_server_stop(s2), 0);
    free(data);
}

/* --blob-dir: upload bytes live there, not in the data directory, and are
 * served from there. */
static void test_blob_dir(void **state)
{
    (void)state;
    char dir[] = "/tmp/vodup-blobdir-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *blobs = harness_strf("%s/blobs", dir);
    const char *const args[] = {"--blob-dir", blobs, NULL};
    harness_server_t *s2 = harness_server_start(args);
    assert_non_null(s2);
    harness_grant_t g;
    assert_true(harness_grant(s2, NULL, &g));
    uint8_t *data = harness_pattern(5000, 81);
    upload_ok(s2, &g, data, 5000, NULL);
    harness_response_t info;
    assert_uploaded(s2, NULL, g.video_id, data, 5000, NULL, &info);
    harness_response_free(&info);
    char *objects = harness_strf("%s/objects", blobs);
    char *in_data = harness_strf("%s/objects", s2->data_dir);
    struct stat st;
    assert_int_equal(stat(objects, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    assert_int_not_equal(stat(in_data, &st), 0); /* nothing under the data directory */
    assert_int_equal(harness_server_stop(s2), 0);
    char *rm = harness_strf("rm -rf '%s'", dir);
    assert_int_equal(system(rm), 0);
    free(rm);
    free(objects);
    free(in_data);
    free(blobs);
    free(data);
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
    free(sample.data);
    sample.data = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_full),
        cmocka_unit_test(test_head),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_unknown_key),
        cmocka_unit_test(test_not_uploaded),
        cmocka_unit_test(test_mime_type_and_empty_object),
        cmocka_unit_test(test_playback_off),
        cmocka_unit_test(test_blob_dir),
    };
    return cmocka_run_group_tests_name("integration.test_playback", tests, group_setup, group_teardown);
}
