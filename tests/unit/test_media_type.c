/* Unit tests for http/media_type: the Content-Type the playback origin
 * sends for an uploader-chosen mimeType (docs/upload.md "Playback"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/media_type.h"

#define OCTET "application/octet-stream"

static void test_media_type_table(void **state)
{
    (void)state;
    static const struct {
        const char *stored, *type;
        bool attachment;
    } cases[] = {
        /* The allow-list: sent as is, lower-cased, parameters dropped. */
        {"video/mp4", "video/mp4", false},
        {"video/webm", "video/webm", false},
        {"video/quicktime", "video/quicktime", false},
        {"video/mp2t", "video/mp2t", false},
        {"Video/MP4", "video/mp4", false},
        {"video/mp4;codecs=avc1.42E01E", "video/mp4", false},
        {"audio/mpeg", "audio/mpeg", false},
        {"audio/mp4", "audio/mp4", false},
        {"application/vnd.apple.mpegurl", "application/vnd.apple.mpegurl", false},
        {"application/x-mpegURL", "application/x-mpegurl", false},
        {"application/mxf", "application/mxf", false},
        {"text/vtt", "text/vtt", false},
        {"text/vtt;charset=utf-8", "text/vtt", false},
        {"image/jpeg", "image/jpeg", false},
        {"image/png", "image/png", false},
        {"image/webp", "image/webp", false},
        /* Allowed, but XML: an attachment, so a browser never renders it. */
        {"application/dash+xml", "application/dash+xml", true},
        /* Documents and script: never as they are. */
        {"text/html", OCTET, true},
        {"TEXT/HTML", OCTET, true},
        {"text/html;charset=utf-8", OCTET, true},
        {"image/svg+xml", OCTET, true},
        {"application/xhtml+xml", OCTET, true},
        {"text/xml", OCTET, true},
        {"application/xml", OCTET, true},
        {"text/javascript", OCTET, true},
        {"application/javascript", OCTET, true},
        {"application/json", OCTET, true},
        {"application/pdf", OCTET, true},
        {"text/plain", OCTET, true},
        {"image/gif", OCTET, true},
        {"multipart/x-mixed-replace", OCTET, true},
        /* A video or audio subtype that is XML would be rendered as XML. */
        {"video/x-evil+xml", OCTET, true},
        {"audio/foo+XML", OCTET, true},
        /* Lookalikes and malformed values. */
        {"video/", OCTET, true},
        {"/mp4", OCTET, true},
        {"video", OCTET, true},
        {"video/mp4/x", OCTET, true},
        {"video/mp4 ", OCTET, true},
        {"video /mp4", OCTET, true},
        {"videos/mp4", OCTET, true},
        {"xvideo/mp4", OCTET, true},
        {"text/vtt2", OCTET, true},
        {"image/pngx", OCTET, true},
        {"text/html,video/mp4", OCTET, true},
        {"video/mp4\r\nX-Injected: 1", OCTET, true},
        {"", OCTET, true},
        {NULL, OCTET, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        media_type_answer_t a;
        memset(&a, 'x', sizeof(a));
        media_type_for_playback(cases[i].stored, &a);
        print_message("  %-32s -> %s%s\n", cases[i].stored ? cases[i].stored : "(none)", a.content_type,
                      a.attachment ? " (attachment)" : "");
        assert_string_equal(a.content_type, cases[i].type);
        assert_int_equal(a.attachment, cases[i].attachment);
    }
}

static void test_media_type_length(void **state)
{
    (void)state;
    /* The longest essence that fits is kept whole; one more byte is not a
     * media type (never truncated into one). */
    char s[MEDIA_TYPE_MAX + 2];
    memset(s, 'a', sizeof(s));
    memcpy(s, "video/", 6);
    s[MEDIA_TYPE_MAX] = '\0';
    media_type_answer_t a;
    media_type_for_playback(s, &a);
    assert_string_equal(a.content_type, s);
    assert_false(a.attachment);
    s[MEDIA_TYPE_MAX] = 'a';
    s[MEDIA_TYPE_MAX + 1] = '\0';
    media_type_for_playback(s, &a);
    assert_string_equal(a.content_type, OCTET);
    assert_true(a.attachment);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_type_table),
        cmocka_unit_test(test_media_type_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
