/* Unit tests for process/probe: ffprobe's command line and the reading of
 * its JSON (shapes as Debian's ffprobe 5.1 prints them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "process/probe.h"

#define UHD_PIXELS (3840 * 2160)

#define H264(w, h, extra)                                                                                          \
    "{\"index\":0,\"codec_name\":\"h264\",\"codec_type\":\"video\",\"width\":" #w ",\"height\":" #h             \
    ",\"r_frame_rate\":\"25/1\",\"avg_frame_rate\":\"25/1\",\"duration\":\"2.000000\",\"disposition\":"         \
    "{\"default\":1,\"attached_pic\":0}" extra "}"
#define AAC "{\"index\":1,\"codec_name\":\"aac\",\"codec_type\":\"audio\",\"duration\":\"2.000000\"}"
#define FORMAT(dur) "\"format\":{\"format_name\":\"mov,mp4,m4a,3gp,3g2,mj2\"" dur ",\"bit_rate\":\"735768\"}"
#define DUR ",\"duration\":\"2.000000\""

typedef struct probe_case {
    const char *name;
    const char *json;
    const char *error; /* NULL: accepted */
    const char *codecs;
    int display_width, display_height;
    double duration;
} probe_case_t;

static const probe_case_t probe_cases[] = {
    {"video and audio", "{\"streams\":[" H264(640, 360, "") "," AAC "]," FORMAT(DUR) "}", NULL, "h264,aac", 640, 360,
     2.0},
    {"rotated 90 (display matrix) is portrait",
     "{\"streams\":[" H264(640, 360, ",\"side_data_list\":[{\"side_data_type\":\"Display Matrix\",\"rotation\":90}]")
     "]," FORMAT(DUR) "}",
     NULL, "h264", 360, 640, 2.0},
    {"rotated -90 is portrait too",
     "{\"streams\":[" H264(640, 360, ",\"side_data_list\":[{\"rotation\":-90}]") "]," FORMAT(DUR) "}", NULL, "h264",
     360, 640, 2.0},
    {"rotate tag 180 keeps the size", "{\"streams\":[" H264(640, 360, ",\"tags\":{\"rotate\":\"180\"}") "]," FORMAT(DUR) "}",
     NULL, "h264", 640, 360, 2.0},
    {"audio only, cover art is not video",
     "{\"streams\":[{\"codec_name\":\"mjpeg\",\"codec_type\":\"video\",\"width\":600,\"height\":600,"
     "\"disposition\":{\"attached_pic\":1}},{\"codec_name\":\"mp3\",\"codec_type\":\"audio\"}]," FORMAT(DUR) "}",
     NULL, "mp3", 0, 0, 2.0},
    {"no container duration: the longest stream", "{\"streams\":[" H264(640, 360, "") "," AAC "]," FORMAT("") "}",
     NULL, "h264,aac", 640, 360, 2.0},
    {"no stream at all", "{\"streams\":[]," FORMAT(DUR) "}", "probe: the file has no audio or video stream", NULL, 0, 0, 0},
    {"zero duration",
     "{\"streams\":[{\"codec_name\":\"h264\",\"codec_type\":\"video\",\"width\":64,\"height\":64}]," FORMAT(
         ",\"duration\":\"0.000000\"") "}",
     "probe: the file's duration is unknown", NULL, 0, 0, 0},
    {"8K frame over the UHD bound", "{\"streams\":[" H264(8192, 4320, "") "]," FORMAT(DUR) "}",
     "probe: the video is 8192x4320, more than the 8294400 pixels allowed", NULL, 0, 0, 0},
    {"UHD itself is accepted", "{\"streams\":[" H264(3840, 2160, "") "]," FORMAT(DUR) "}", NULL, "h264", 3840, 2160,
     2.0},
    {"video without a size", "{\"streams\":[{\"codec_name\":\"h264\",\"codec_type\":\"video\"}]," FORMAT(DUR) "}",
     "probe: the video has no picture size", NULL, 0, 0, 0},
    {"what ffprobe prints for a text file", "{\n\n}", "probe: the file is not a media file ffprobe can read", NULL, 0, 0, 0},
    {"not JSON", "moov atom not found", "probe: the file is not a media file ffprobe can read", NULL, 0, 0, 0},
};

static void test_probe_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(probe_cases) / sizeof(probe_cases[0]); i++) {
        const probe_case_t *c = &probe_cases[i];
        probe_result_t r;
        char err[200] = "";
        bool ok = probe_parse(c->json, strlen(c->json), UHD_PIXELS, &r, err, sizeof(err));
        print_message("  %-44s -> %s\n", c->name, ok ? r.codecs : err);
        if (c->error) {
            assert_false(ok);
            assert_string_equal(err, c->error);
            continue;
        }
        assert_true(ok);
        assert_string_equal(r.codecs, c->codecs);
        assert_int_equal(r.display_width, c->display_width);
        assert_int_equal(r.display_height, c->display_height);
        assert_true(r.duration > c->duration - 1e-6 && r.duration < c->duration + 1e-6);
    }
}

static void test_probe_details(void **state)
{
    (void)state;
    static const char json[] = "{\"streams\":[{\"codec_name\":\"vp9\",\"codec_type\":\"video\",\"width\":641,"
                               "\"height\":359,\"avg_frame_rate\":\"30000/1001\"}]," FORMAT(DUR) "}";
    probe_result_t r;
    char err[200];
    assert_true(probe_parse(json, strlen(json), 0, &r, err, sizeof(err)));
    assert_true(r.has_video && !r.has_audio);
    assert_int_equal(r.width, 641); /* odd sizes are the planner's to even */
    assert_int_equal(r.height, 359);
    assert_true(r.frame_rate > 29.97 && r.frame_rate < 29.98);
    assert_int_equal(r.bit_rate, 735768);
    assert_string_equal(r.video_codec, "vp9");
    assert_string_equal(r.audio_codec, "");
}

static void test_probe_argv(void **state)
{
    (void)state;
    const char *argv[PROBE_ARGV_MAX + 1];
    char file_arg[64];
    size_t n = probe_argv("/usr/bin/ffprobe", "-evil.mp4", file_arg, sizeof(file_arg), argv);
    assert_true(n <= PROBE_ARGV_MAX);
    assert_null(argv[n]);
    assert_string_equal(argv[0], "/usr/bin/ffprobe");
    assert_string_equal(argv[n - 1], "file:-evil.mp4"); /* never read as an option */
    bool protocol = false, formats = false;
    for (size_t i = 1; i + 1 < n; i++) {
        protocol |= !strcmp(argv[i], "-protocol_whitelist") && !strcmp(argv[i + 1], "file");
        formats |= !strcmp(argv[i], "-format_whitelist") && !strstr(argv[i + 1], "hls");
    }
    assert_true(protocol);
    assert_true(formats);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_table),
        cmocka_unit_test(test_probe_details),
        cmocka_unit_test(test_probe_argv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
