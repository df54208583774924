/* Unit tests for process/output_key: where outputs live. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "process/output_key.h"

#define KEY "video/20261204/0123456789abcdef0123456789abcdef/my_clip.mp4"
#define DIR "video/20261204/0123456789abcdef0123456789abcdef/"

static void test_output_keys(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 0);
    assert_true(output_key_cover(KEY, &b));
    assert_string_equal(b.data, DIR "cover.jpg");
    assert_true(output_key_rendition(KEY, "hd", 1280, 720, "mp4", &b));
    assert_string_equal(b.data, DIR "hd/1280x720.mp4");
    assert_true(output_key_hls_master(KEY, "ladder", &b));
    assert_string_equal(b.data, DIR "ladder/index.m3u8");
    assert_true(output_key_hls_variant(KEY, "ladder", 640, 360, &b));
    assert_string_equal(b.data, DIR "ladder/640x360/index.m3u8");
    assert_true(output_key_subtitle(KEY, "zh-Hans", &b));
    assert_string_equal(b.data, DIR "subtitles/zh-Hans.vtt");
    buf_free(&b);
}

static void test_unsafe_names_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "..", ".hidden", "a/b", "a b", "a\\b", "%2e%2e",
                                      "0123456789012345678901234567890123456789012345678901234567890123456789"};
    buf_t b;
    buf_init(&b, 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(output_key_segment_ok(bad[i]));
        assert_false(output_key_rendition(KEY, bad[i], 640, 360, "mp4", &b));
        assert_false(output_key_subtitle(KEY, bad[i], &b));
    }
    assert_false(output_key_segment_ok(NULL));
    assert_false(output_key_rendition(KEY, "hd", 0, 360, "mp4", &b));
    assert_false(output_key_cover("no-directory.mp4", &b));
    assert_false(output_key_cover("/rooted.mp4", &b));
    assert_true(output_key_segment_ok("hd-720_v2.1"));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_keys),
        cmocka_unit_test(test_unsafe_names_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
