/* Unit tests for common/video_status: names round-trip, anything else is
 * unknown, and the predicates hold for exactly the states they name. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/video_status.h"

static void test_names_round_trip(void **state)
{
    (void)state;
    static const char *const names[] = {"created", "uploading", "uploaded", "processing", "ready", "failed"};
    assert_int_equal(sizeof(names) / sizeof(names[0]), VIDEO_STATUS_COUNT);
    for (int s = 0; s < VIDEO_STATUS_COUNT; s++) {
        assert_string_equal(video_status_name(s), names[s]);
        assert_int_equal(video_status_parse(names[s]), s);
    }
    assert_null(video_status_name(VIDEO_STATUS_UNKNOWN));
    assert_null(video_status_name(VIDEO_STATUS_COUNT));
    assert_int_equal(video_status_parse(NULL), VIDEO_STATUS_UNKNOWN);
    assert_int_equal(video_status_parse(""), VIDEO_STATUS_UNKNOWN);
    assert_int_equal(video_status_parse("Ready"), VIDEO_STATUS_UNKNOWN);
    assert_int_equal(video_status_parse("ready "), VIDEO_STATUS_UNKNOWN);
}

static void test_predicates(void **state)
{
    (void)state;
    for (int s = VIDEO_STATUS_UNKNOWN; s < VIDEO_STATUS_COUNT; s++) {
        bool uploaded = s == VIDEO_UPLOADED || s == VIDEO_PROCESSING || s == VIDEO_READY;
        bool awaits = s == VIDEO_CREATED || s == VIDEO_FAILED;
        assert_int_equal(video_status_uploaded(s), uploaded);
        assert_int_equal(video_status_awaits_upload(s), awaits);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_predicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
