/*
 * test_output_check: measuring a task's outputs: how short an output may be
 * before the task fails, what is read from HLS playlists (a variant's
 * duration, the master's largest bandwidth), and output_check on files laid
 * out in a directory as ffmpeg leaves them: a file's duration and bitrate
 * from the run's end and its size, its codecs and size the plan's, and the
 * refusals (short, no progress, missing file, segment or cover); a keyed
 * HLS output's names and a frame.
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "process/output_check.h"
#include "store/store.h"
#include "unit_tmpdir.h"

static char dir[256];

static void put(const char *key, size_t size)
{
    char path[512], sub[512];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    snprintf(sub, sizeof(sub), "%s", path);
    for (char *p = strchr(sub + strlen(dir) + 1, '/'); p; p = strchr(p + 1, '/')) {
        *p = '\0';
        mkdir(sub, 0700);
        *p = '/';
    }
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (size_t i = 0; i < size; i++)
        fputc('x', f);
    fclose(f);
}

static void put_text(const char *key, const char *text)
{
    put(key, 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, key);
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

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

static plan_output_t file_output(void)
{
    plan_output_t po = {.kind = PLAN_OUTPUT_FILE, .container = SPEC_CONTAINER_MP4, .key = "v/sd/320x240.mp4",
                        .width = 320, .height = 240, .codecs = "h264,aac"};
    return po;
}

static void test_file_output(void **state)
{
    (void)state;
    put("v/sd/320x240.mp4", 25000);
    plan_output_t po = file_output();
    output_measure_t m;
    char err[256] = "";
    /* out_time is the last packet's, a frame short of the source's end. */
    assert_true(output_check(dir, &po, 2.0, 1.92, &m, err, sizeof(err)));
    assert_int_equal(m.type, STORE_OUTPUT_MP4);
    assert_float_equal(m.duration, 2.0, 1e-9);
    assert_int_equal(m.size, 25000);
    assert_int_equal(m.bitrate, 100000);
    assert_int_equal(m.width, 320);
    assert_int_equal(m.height, 240);
    assert_string_equal(m.codecs, "h264,aac");
    assert_false(output_check(dir, &po, 10.0, 5.0, &m, err, sizeof(err)));
    assert_string_equal(err, "transcode: output lasts 5.00 s of the source's 10.00 s (a truncated source?)");
    assert_false(output_check(dir, &po, 10.0, -1, &m, err, sizeof(err)));
    assert_string_equal(err, "transcode: ffmpeg did not report how far it got");
    snprintf(po.key, sizeof(po.key), "v/sd/none.mp4");
    assert_false(output_check(dir, &po, 2.0, 2.0, &m, err, sizeof(err)));
    assert_string_equal(err, "transcode: output missing: v/sd/none.mp4");
}

static void test_hls_output(void **state)
{
    (void)state;
    plan_output_t po = {.kind = PLAN_OUTPUT_HLS, .container = SPEC_CONTAINER_HLS, .key = "v/hd/index.m3u8",
                        .width = 640, .height = 360, .codecs = "h264", .variant_count = 1,
                        .variants = {{640, 360}}};
    put_text("v/hd/index.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=640x360\n"
                                 "640x360/index.m3u8\n");
    put_text("v/hd/640x360/index.m3u8", "#EXTM3U\n#EXTINF:6.0,\nseg_00000.ts\n#EXTINF:4.0,\nseg_00001.ts\n");
    output_measure_t m;
    char err[256] = "";
    assert_false(output_check(dir, &po, 10.0, 10.0, &m, err, sizeof(err)));
    assert_string_equal(err, "transcode: HLS segment missing: v/hd/index.m3u8");
    put("v/hd/640x360/seg_00000.ts", 188);
    assert_true(output_check(dir, &po, 10.0, 10.0, &m, err, sizeof(err)));
    assert_int_equal(m.type, STORE_OUTPUT_HLS);
    assert_float_equal(m.duration, 10.0, 1e-9);
    assert_int_equal(m.bitrate, 900000);
    assert_string_equal(m.codecs, "h264");
    assert_false(output_check(dir, &po, 20.0, 20.0, &m, err, sizeof(err)));
    assert_string_equal(err, "transcode: output lasts 10.00 s of the source's 20.00 s (a truncated source?)");
}

static void test_cover_output(void **state)
{
    (void)state;
    plan_output_t po = {.kind = PLAN_OUTPUT_COVER, .key = "v/cover.jpg", .width = 640, .height = 358};
    output_measure_t m;
    char err[256] = "";
    assert_false(output_check(dir, &po, 10.0, -1, &m, err, sizeof(err)));
    assert_string_equal(err, "snapshot: no frame could be read for the cover");
    put("v/cover.jpg", 1234);
    assert_true(output_check(dir, &po, 10.0, -1, &m, err, sizeof(err))); /* no run of its own to report */
    assert_int_equal(m.type, STORE_OUTPUT_COVER);
    assert_int_equal(m.size, 1234);
    assert_int_equal(m.width, 640);
    assert_string_equal(m.codecs, "");
}

/* A keyed HLS output (plan.h): its variants are named like its master,
 * and its segments after its stem, not index.m3u8 and seg_. */
static void test_keyed_hls_output(void **state)
{
    (void)state;
    plan_output_t po = {.kind = PLAN_OUTPUT_HLS, .container = SPEC_CONTAINER_HLS, .key = "v/out/main.m3u8",
                        .width = 640, .height = 360, .codecs = "h264", .variant_count = 1,
                        .variants = {{640, 360}}};
    put_text("v/out/main.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=700000,RESOLUTION=640x360\n"
                                "640x360/main.m3u8\n");
    /* What an unkeyed output would have: not this one's. */
    put_text("v/out/640x360/index.m3u8", "#EXTM3U\n#EXTINF:10.0,\nseg_00000.ts\n");
    put("v/out/640x360/seg_00000.ts", 188);
    output_measure_t m;
    char err[256] = "";
    assert_false(output_check(dir, &po, 10.0, 10.0, &m, err, sizeof(err)));
    assert_string_equal(err, "transcode: HLS playlist missing: v/out/main.m3u8");
    put_text("v/out/640x360/main.m3u8", "#EXTM3U\n#EXTINF:4.0,\nmain_00000.ts\n#EXTINF:4.0,\nmain_00001.ts\n"
                                        "#EXTINF:2.0,\nmain_00002.ts\n");
    assert_false(output_check(dir, &po, 10.0, 10.0, &m, err, sizeof(err)));
    assert_string_equal(err, "transcode: HLS segment missing: v/out/main.m3u8");
    put("v/out/640x360/main_00000.ts", 188);
    assert_true(output_check(dir, &po, 10.0, 10.0, &m, err, sizeof(err)));
    assert_int_equal(m.type, STORE_OUTPUT_HLS);
    assert_float_equal(m.duration, 10.0, 1e-9);
    assert_int_equal(m.bitrate, 700000);
}

/* A frame is measured as the cover is (a JPEG of the planned size), and
 * listed as a jpg output. */
static void test_frame_output(void **state)
{
    (void)state;
    plan_output_t po = {.kind = PLAN_OUTPUT_FRAME, .key = "v/thumbs/a.jpg", .width = 320, .height = 180};
    output_measure_t m;
    char err[256] = "";
    assert_false(output_check(dir, &po, 10.0, -1, &m, err, sizeof(err)));
    assert_string_equal(err, "snapshot: no frame could be read for v/thumbs/a.jpg");
    put("v/thumbs/a.jpg", 999);
    assert_true(output_check(dir, &po, 10.0, -1, &m, err, sizeof(err)));
    assert_int_equal(m.type, STORE_OUTPUT_JPG);
    assert_int_equal(m.size, 999);
    assert_int_equal(m.width, 320);
    assert_int_equal(m.height, 180);
    assert_float_equal(m.duration, 0, 1e-9);
    assert_string_equal(m.codecs, "");
}

static int setup(void **state)
{
    (void)state;
    return unit_tmpdir_make(dir, sizeof(dir), "output-check") ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    unit_tmpdir_remove(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_enough),
        cmocka_unit_test(test_playlist_duration),
        cmocka_unit_test(test_master_bandwidth),
        cmocka_unit_test(test_file_output),
        cmocka_unit_test(test_hls_output),
        cmocka_unit_test(test_cover_output),
        cmocka_unit_test(test_keyed_hls_output),
        cmocka_unit_test(test_frame_output),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
