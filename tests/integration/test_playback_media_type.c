/*
 * test_playback_media_type: the playback origin never serves an upload as
 * a page (security review, issue 10, finding 7; docs/upload.md
 * "Playback").  The uploader chooses mimeType (form field, MimeType header
 * of mkfile); playback sends only allow-listed media types as they are and
 * anything else as application/octet-stream with Content-Disposition:
 * attachment; every playback answer, errors included, has
 * X-Content-Type-Options: nosniff and a sandboxing Content-Security-Policy.
 * API JSON answers carry nosniff too.
 *
 * media_type's table is unit-tested in tests/unit/test_media_type.c; this
 * file checks that playback applies it, against a real `vodup serve`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#define OCTET "application/octet-stream"
#define CSP "default-src 'none'; media-src 'self'; sandbox allow-same-origin"
#define PAGE "<html><body><script>alert(document.domain)</script></body></html>"
#define UNKNOWN_KEY "video/20200101/0123456789abcdef0123456789abcdef/nope.mp4"

static harness_server_t *srv;

/* The security headers every playback answer must carry. */
static void assert_playback_guarded(const harness_upload_response_t *r)
{
    const char *nosniff = harness_header(r, "X-Content-Type-Options");
    const char *csp = harness_header(r, "Content-Security-Policy");
    print_message("    X-Content-Type-Options %s, Content-Security-Policy %s\n", nosniff ? nosniff : "(none)",
                  csp ? csp : "(none)");
    assert_non_null(nosniff);
    assert_string_equal(nosniff, "nosniff");
    assert_non_null(csp);
    assert_string_equal(csp, CSP);
}

/* Checks a 200 playback answer: the bytes, the type, the disposition. */
static void assert_served_as(const harness_upload_response_t *r, const void *data, size_t len, const char *type,
                             bool attachment)
{
    const char *ctype = harness_header(r, "Content-Type");
    const char *disposition = harness_header(r, "Content-Disposition");
    print_message("    HTTP %ld, Content-Type %s, Content-Disposition %s\n", r->status, ctype ? ctype : "(none)",
                  disposition ? disposition : "(none)");
    assert_upload_status(r, 200);
    assert_int_equal(r->body_len, len);
    assert_memory_equal(r->body, data, len);
    assert_non_null(ctype);
    assert_string_equal(ctype, type);
    if (attachment) {
        assert_non_null(disposition);
        assert_string_equal(disposition, "attachment");
    } else {
        assert_null(disposition);
    }
    assert_playback_guarded(r);
}

/* Form upload of data with a mimeType field (none when mime is NULL). */
static void form_upload(const harness_grant_t *g, const void *data, size_t len, const char *mime)
{
    harness_form_part_t parts[3];
    size_t n = 0;
    parts[n++] = (harness_form_part_t){.name = "token", .data = g->token};
    if (mime)
        parts[n++] = (harness_form_part_t){.name = "mimeType", .data = mime};
    parts[n++] = (harness_form_part_t){.name = "file", .data = data, .len = len, .filename = "x.bin"};
    harness_form_t f = {.parts = parts, .count = n};
    harness_upload_response_t r;
    assert_true(harness_form_post(srv, &f, &r));
    assert_upload_status(&r, 200);
    harness_upload_response_free(&r);
}

static void test_form_mime_types(void **state)
{
    (void)state;
    static const struct {
        const char *name, *mime; /* originFileName; the uploader's mimeType (NULL: none) */
        const char *type;        /* the Content-Type playback must send */
        bool attachment;
    } cases[] = {
        {"page.mp4", "text/html", OCTET, true},
        {"page.mp4", "text/html;charset=utf-8", OCTET, true},
        {"page.mp4", "image/svg+xml", OCTET, true},
        {"page.mp4", "application/xhtml+xml", OCTET, true},
        {"page.mp4", "text/xml", OCTET, true},
        {"page.mp4", "application/javascript", OCTET, true},
        {"page.mp4", "video/x-evil+xml", OCTET, true},
        {"clip.mp4", "video/mp4", "video/mp4", false},
        {"clip.mp4", "Video/WebM", "video/webm", false},
        {"clip.mp4", NULL, "video/mp4", false},
        {"list.m3u8", NULL, "application/vnd.apple.mpegurl", false},
        {"clip.mxf", NULL, "application/mxf", false},
        {"song.mp3", NULL, "audio/mpeg", false},
        {"clip.mp4", "text/vtt", "text/vtt", false},
        {"clip.mp4", "image/jpeg", "image/jpeg", false},
        {"clip.mp4", "application/dash+xml", "application/dash+xml", true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s, mimeType %s\n", cases[i].name, cases[i].mime ? cases[i].mime : "(none)");
        harness_grant_t g;
        assert_true(harness_grant(srv, &(harness_grant_opts_t){.name = cases[i].name}, &g));
        form_upload(&g, PAGE, strlen(PAGE), cases[i].mime);
        harness_upload_response_t r;
        assert_true(harness_playback(srv, "GET", g.file_key, NULL, &r));
        assert_served_as(&r, PAGE, strlen(PAGE), cases[i].type, cases[i].attachment);
        harness_upload_response_free(&r);
    }
}

/* The stored mimeType is still what the uploader said (getVideoInfo is
 * JSON, where it is inert); only playback's Content-Type changes. */
static void test_video_info_keeps_mime_type(void **state)
{
    (void)state;
    harness_grant_t g;
    assert_true(harness_grant(srv, &(harness_grant_opts_t){.name = "page.mp4"}, &g));
    form_upload(&g, PAGE, strlen(PAGE), "text/html");
    harness_response_t info;
    assert_uploaded(srv, NULL, g.video_id, PAGE, strlen(PAGE), "text/html", &info);
    harness_response_free(&info);
}

/* mkfile's MimeType header and mimeType path pair take the same way. */
static void test_mkfile_mime_type(void **state)
{
    (void)state;
    static const struct {
        const char *header, *pair_b64; /* MimeType header; /mimeType/<b64> (NULL: none) */
    } cases[] = {
        {"MimeType: text/html", NULL},
        {NULL, "aW1hZ2Uvc3ZnK3htbA=="}, /* image/svg+xml */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  mkfile with %s\n", cases[i].header ? cases[i].header : "/mimeType/image/svg+xml");
        harness_grant_t g;
        assert_true(harness_grant(srv, &(harness_grant_opts_t){.name = "page.mp4"}, &g));
        char *auth = harness_uptoken(g.token);
        char ctx[HARNESS_CTX_MAX];
        assert_true(harness_put_block(srv, auth, (const uint8_t *)PAGE, strlen(PAGE), 0, strlen(PAGE), ctx));
        const char *headers[] = {cases[i].header, NULL};
        char *suffix = cases[i].pair_b64 ? harness_strf("/mimeType/%s", cases[i].pair_b64) : NULL;
        harness_upload_response_t r;
        assert_true(harness_mkfile(srv, auth, (int64_t)strlen(PAGE), suffix, ctx, headers, &r));
        assert_upload_status(&r, 200);
        harness_upload_response_free(&r);
        assert_true(harness_playback(srv, "GET", g.file_key, NULL, &r));
        assert_served_as(&r, PAGE, strlen(PAGE), OCTET, true);
        harness_upload_response_free(&r);
        free(suffix);
        free(auth);
    }
}

/* Ranges, HEAD and errors of the playback route carry the headers too. */
static void test_every_answer_guarded(void **state)
{
    (void)state;
    harness_grant_t g;
    assert_true(harness_grant(srv, &(harness_grant_opts_t){.name = "page.mp4"}, &g));
    form_upload(&g, PAGE, strlen(PAGE), "text/html");
    static const struct {
        const char *what, *method, *range; /* range: a "Range: ..." line or NULL */
        bool unknown;                      /* ask for a key nobody registered */
        long status;
    } cases[] = {
        {"HEAD", "HEAD", NULL, false, 200},
        {"a range", "GET", "Range: bytes=0-5", false, 206},
        {"an unsatisfiable range", "GET", "Range: bytes=100000-", false, 416},
        {"an unknown key", "GET", NULL, true, 404},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s\n", cases[i].what);
        const char *headers[] = {cases[i].range, NULL};
        harness_upload_response_t r;
        assert_true(harness_playback(srv, cases[i].method, cases[i].unknown ? UNKNOWN_KEY : g.file_key, headers, &r));
        assert_upload_status(&r, cases[i].status);
        if (cases[i].status < 400) {
            const char *ctype = harness_header(&r, "Content-Type");
            assert_non_null(ctype);
            assert_string_equal(ctype, OCTET);
            assert_non_null(harness_header(&r, "Content-Disposition"));
        }
        assert_playback_guarded(&r);
        harness_upload_response_free(&r);
    }
}

/* The API's JSON answers (here an unsigned request's 401) say nosniff. */
static void test_api_json_nosniff(void **state)
{
    (void)state;
    harness_upload_request_t req = {.method = "GET", .path = "/vod/videoManage/getVideoInfo?videoId=x"};
    harness_upload_response_t r;
    assert_true(harness_upload_send(srv, &req, &r));
    const char *nosniff = harness_header(&r, "X-Content-Type-Options");
    print_message("  HTTP %ld, X-Content-Type-Options %s\n", r.status, nosniff ? nosniff : "(none)");
    assert_int_equal(r.status, 401);
    assert_non_null(nosniff);
    assert_string_equal(nosniff, "nosniff");
    harness_upload_response_free(&r);
}

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
        cmocka_unit_test(test_form_mime_types),
        cmocka_unit_test(test_video_info_keeps_mime_type),
        cmocka_unit_test(test_mkfile_mime_type),
        cmocka_unit_test(test_every_answer_guarded),
        cmocka_unit_test(test_api_json_nosniff),
    };
    return cmocka_run_group_tests_name("integration.test_playback_media_type", tests, group_setup, group_teardown);
}
