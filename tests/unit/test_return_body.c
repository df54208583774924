/* Unit tests for upload/return_body (returnBody templates) and
 * http/playback's Range parser: pure functions of the upload endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "http/playback.h"
#include "upload/return_body.h"

static void test_return_body(void **state)
{
    (void)state;
    const char *xn[] = {"x:user", "x:empty"};
    const char *xv[] = {"alice", ""};
    return_vars_t v = {.bucket = "b", .key = "video/k.mp4", .fname = "k.mp4", .hash = "Fh", .mime_type = "video/mp4",
                       .fsize = 1234, .x_names = xn, .x_values = xv, .x_count = 2};
    static const struct {
        const char *tmpl, *want;
    } cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"key=$(key)&hash=$(hash)", "key=video/k.mp4&hash=Fh"},
        {"b=$(bucket)&n=$(fname)&s=$(fsize)&m=$(mimeType)", "b=b&n=k.mp4&s=1234&m=video/mp4"},
        {"u=$(x:user)&e=$(x:empty)&z=$(x:missing)", "u=alice&e=&z="},
        {"unknown=$(nope)", "unknown="},
        {"open=$(key", "open=$(key"},
        {"$(key)$(key)", "video/k.mp4video/k.mp4"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t b;
        buf_init(&b, 0);
        assert_true(return_body_expand(cases[i].tmpl, &v, &b));
        assert_string_equal(b.data ? b.data : "", cases[i].want);
        buf_free(&b);
    }
}

static void test_range(void **state)
{
    (void)state;
    static const struct {
        const char *header;
        int64_t size;
        playback_range_kind_t kind;
        int64_t first, last;
    } cases[] = {
        {NULL, 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=0-9", 100, PLAYBACK_RANGE_OK, 0, 9},
        {"bytes=90-", 100, PLAYBACK_RANGE_OK, 90, 99},
        {"bytes=90-200", 100, PLAYBACK_RANGE_OK, 90, 99},
        {"bytes=-10", 100, PLAYBACK_RANGE_OK, 90, 99},
        {"bytes=-1000", 100, PLAYBACK_RANGE_OK, 0, 99},
        {"bytes=99-99", 100, PLAYBACK_RANGE_OK, 99, 99},
        {"bytes=100-", 100, PLAYBACK_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=-0", 100, PLAYBACK_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=0-", 0, PLAYBACK_RANGE_UNSATISFIABLE, 0, 0},
        {"bytes=5-4", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=0-1,5-6", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"items=0-1", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=a-b", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=1-2x", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=-", 100, PLAYBACK_RANGE_NONE, 0, 0},
        {"bytes=9999999999999999999-", 100, PLAYBACK_RANGE_NONE, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t first = -1, last = -1;
        playback_range_kind_t k = playback_parse_range(cases[i].header, cases[i].size, &first, &last);
        print_message("  %s (size %lld) -> %d %lld-%lld\n", cases[i].header ? cases[i].header : "(none)",
                      (long long)cases[i].size, k, (long long)first, (long long)last);
        assert_int_equal(k, cases[i].kind);
        if (k == PLAYBACK_RANGE_OK) {
            assert_int_equal(first, cases[i].first);
            assert_int_equal(last, cases[i].last);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_return_body),
        cmocka_unit_test(test_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
