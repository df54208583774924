/*
 * test_output_check: the pure parts of measuring a task's outputs: how short
 * an output may be before the task fails, and what is read from HLS
 * playlists (a variant's duration, the master's largest bandwidth).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "process/output_check.h"

static void test_long_enough(void **state)
{
    (void)state;
    static const struct {
        double out, src;
        bool ok;
    } cases[] = {
        {2.0, 2.0, true},    {1.56, 2.0, true},   /* 0.5 s of slack on short sources */
        {1.4, 2.0, false},   {95.0, 100.0, true}, /* 5% on long ones */
        {94.0, 100.0, false}, {50.0, 100.0, false}, /* half a truncated source */
        {10.2, 10.0, true},  {0.0, 1.0, false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (output_check_long_enough(cases[i].out, cases[i].src) != cases[i].ok)
            fail_msg("case %zu: %.2f of %.2f", i, cases[i].out, cases[i].src);
    }
}

static void test_playlist_duration(void **state)
{
    (void)state;
    const char *v = "#EXTM3U\r\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXTINF:6.000000,\nseg_00000.ts\n"
                    "#EXTINF:6.000000,\nseg_00001.ts\n#EXTINF:1.520000,\nseg_00002.ts\n#EXT-X-ENDLIST\n";
    assert_true(output_check_playlist_duration(v, strlen(v)) > 13.51);
    assert_true(output_check_playlist_duration(v, strlen(v)) < 13.53);
    assert_true(output_check_playlist_duration("", 0) == 0.0);
    const char *junk = "#EXTINF:-5,\n#EXTINF:abc,\n#EXTINF:";
    assert_true(output_check_playlist_duration(junk, strlen(junk)) == 0.0);
}

static void test_master_bandwidth(void **state)
{
    (void)state;
    const char *m = "#EXTM3U\n#EXT-X-VERSION:3\n"
                    "#EXT-X-STREAM-INF:AVERAGE-BANDWIDTH=9999999,BANDWIDTH=1240800,RESOLUTION=1280x720\n"
                    "1280x720/index.m3u8\n"
                    "#EXT-X-STREAM-INF:BANDWIDTH=440000,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\"\n"
                    "640x360/index.m3u8\n";
    assert_int_equal(output_check_master_bandwidth(m, strlen(m)), 1240800);
    const char *none = "#EXTM3U\n#EXTINF:2,\nx.ts\n";
    assert_int_equal(output_check_master_bandwidth(none, strlen(none)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_enough),
        cmocka_unit_test(test_playlist_duration),
        cmocka_unit_test(test_master_bandwidth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
