/*
 * test_client_video_format: getVideoInfo's video as `vodup info` and
 * `vodup upload --wait` print it (client/client_video_format.c), fed with
 * the JSON texts a server answers (docs/cli.md, docs/api.md):
 *
 *  - the summary: one line per known field, the progress while processing,
 *    the failReason when failed, "outputs none" or a table whose columns
 *    line up whatever the values' widths; fields a server does not send
 *    (one older than processing) or sends with the wrong type are left out
 *    rather than failing;
 *  - the playable URLs: playUrl, coverUrl, then HLS before the other
 *    outputs, missing ones left out;
 *  - text from the server never reaches the terminal with a control
 *    character in it (ESC, BEL, newline, DEL, C1 CSI);
 *  - the duration and bitrate formats at their edges;
 *  - a getVideoList page as `vodup list` prints it: the heading with the
 *    page count, then a table whose columns line up, the name last.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "client/client_video_format.h"

#define VIDEO_READY                                                                                               \
    "{\"videoId\":\"01a20f4b9434cb7c038b451aaa5af20d\",\"videoName\":\"clip.mp4\",\"status\":\"ready\","        \
    "\"failReason\":null,\"size\":1572864,\"duration\":12.04,\"width\":1920,\"height\":1080,"                     \
    "\"codecs\":\"h264,aac\",\"taskId\":\"t0123\",\"progress\":100,\"playUrl\":\"http://v/clip.mp4\","           \
    "\"coverUrl\":\"http://v/cover.jpg\",\"outputs\":["                                                          \
    "{\"type\":\"mp4\",\"template\":\"sd\",\"url\":\"http://v/sd/640x360.mp4\",\"width\":640,\"height\":360,"    \
    "\"duration\":12.0,\"size\":1048576,\"bitrate\":800000,\"codecs\":\"h264,aac\"},"                           \
    "{\"type\":\"hls\",\"template\":\"ladder\",\"url\":\"http://v/ladder/index.m3u8\",\"width\":1280,"         \
    "\"height\":720,\"duration\":12.04,\"size\":412,\"bitrate\":2500000,\"codecs\":\"avc1.64001f,mp4a.40.2\"}," \
    "{\"type\":\"vtt\",\"template\":null,\"url\":\"http://v/subtitles/en.vtt\",\"width\":null,\"height\":null," \
    "\"duration\":0,\"size\":300,\"bitrate\":0,\"codecs\":null,\"language\":\"en\"}]}"

static json_t *parse(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v)
        fail_msg("bad test JSON: %s at %d", e.text, e.position);
    return v;
}

/* Formats `text` and compares the summary with `want`. */
static void assert_summary(const char *text, const char *want)
{
    json_t *v = parse(text);
    buf_t out;
    buf_init(&out, 0);
    assert_true(client_video_format_summary(v, &out));
    const char *got = out.data ? out.data : "";
    if (strcmp(got, want) != 0)
        fail_msg("summary:\n%s\nwanted:\n%s", got, want);
    buf_free(&out);
    json_decref(v);
}

static void assert_urls(const char *text, const char *want, size_t want_count)
{
    json_t *v = parse(text);
    buf_t out;
    buf_init(&out, 0);
    size_t count = 99;
    assert_true(client_video_format_urls(v, &out, &count));
    const char *got = out.data ? out.data : ""; /* an untouched buf has no storage */
    if (strcmp(got, want) != 0)
        fail_msg("urls:\n%s\nwanted:\n%s", got, want);
    assert_int_equal(count, want_count);
    buf_free(&out);
    json_decref(v);
}

static void test_summary_ready(void **state)
{
    (void)state;
    assert_summary(VIDEO_READY,
                   "videoId     01a20f4b9434cb7c038b451aaa5af20d\n"
                   "videoName   clip.mp4\n"
                   "status      ready\n"
                   "size        1.50 MiB (1572864 bytes)\n"
                   "duration    12.0 s\n"
                   "resolution  1920x1080\n"
                   "codecs      h264,aac\n"
                   "taskId      t0123\n"
                   "playUrl     http://v/clip.mp4\n"
                   "coverUrl    http://v/cover.jpg\n"
                   "outputs     3\n"
                   "  TYPE    TEMPLATE  SIZE      WxH       DURATION  BITRATE    URL\n"
                   "  mp4     sd        1.00 MiB  640x360   12.0 s    800 kb/s   http://v/sd/640x360.mp4\n"
                   "  hls     ladder    412 B     1280x720  12.0 s    2500 kb/s  http://v/ladder/index.m3u8\n"
                   "  vtt:en  -         300 B     -         -         -          http://v/subtitles/en.vtt\n");
}

static void test_summary_processing(void **state)
{
    (void)state;
    assert_summary("{\"videoId\":\"v2\",\"videoName\":\"a.mov\",\"status\":\"processing\",\"progress\":42,"
                   "\"failReason\":null,\"size\":100,\"duration\":null,\"width\":null,\"height\":null,"
                   "\"codecs\":null,\"taskId\":\"t2\",\"playUrl\":\"http://v/a.mov\",\"coverUrl\":null,"
                   "\"outputs\":[]}",
                   "videoId     v2\n"
                   "videoName   a.mov\n"
                   "status      processing 42%\n"
                   "size        100 B\n"
                   "taskId      t2\n"
                   "playUrl     http://v/a.mov\n"
                   "outputs     none\n");
    /* The progress is for `processing` only; out of range is clamped. */
    assert_summary("{\"status\":\"uploaded\",\"progress\":0,\"outputs\":[]}",
                   "status      uploaded\n"
                   "outputs     none\n");
    assert_summary("{\"status\":\"processing\",\"progress\":140.5}", "status      processing 100%\n");
    assert_summary("{\"status\":\"processing\",\"progress\":null}", "status      processing\n");
}

static void test_summary_failed(void **state)
{
    (void)state;
    assert_summary("{\"videoId\":\"v3\",\"status\":\"failed\",\"failReason\":\"probe: not a media file "
                   "(Invalid data found when processing input)\",\"progress\":0,\"outputs\":[]}",
                   "videoId     v3\n"
                   "status      failed\n"
                   "failReason  probe: not a media file (Invalid data found when processing input)\n"
                   "outputs     none\n");
}

/* A server older than processing: no progress, taskId, coverUrl, outputs. */
static void test_summary_old_server(void **state)
{
    (void)state;
    assert_summary("{\"videoId\":\"v4\",\"videoName\":\"b.mp4\",\"status\":\"uploaded\",\"failReason\":null,"
                   "\"size\":5000,\"md5\":\"x\",\"playUrl\":\"http://v/b.mp4\"}",
                   "videoId     v4\n"
                   "videoName   b.mp4\n"
                   "status      uploaded\n"
                   "size        4.88 KiB (5000 bytes)\n"
                   "playUrl     http://v/b.mp4\n");
}

/* Wrong types count as absent; outputs that are not objects are skipped;
 * an output without anything shows dashes. */
static void test_summary_wrong_types(void **state)
{
    (void)state;
    assert_summary("{\"videoId\":7,\"status\":\"ready\",\"size\":\"big\",\"duration\":\"long\",\"width\":\"1920\","
                   "\"height\":1080,\"codecs\":[],\"playUrl\":\"\",\"outputs\":[1,\"x\",null,{},"
                   "{\"type\":\"webm\",\"template\":\"w\",\"width\":0,\"height\":360,\"size\":-1,"
                   "\"duration\":-3,\"bitrate\":\"fast\",\"url\":\"http://v/w.webm\"}]}",
                   "status      ready\n"
                   "outputs     2\n"
                   "  TYPE  TEMPLATE  SIZE  WxH  DURATION  BITRATE  URL\n"
                   "  -     -         -     -    -         -        -\n"
                   "  webm  w         -     -    -         -        http://v/w.webm\n");
    json_t *v = parse("[1]");
    buf_t out;
    buf_init(&out, 0);
    assert_false(client_video_format_summary(v, &out));
    assert_false(client_video_format_urls(v, &out, NULL));
    assert_false(client_video_format_summary(NULL, &out));
    buf_free(&out);
    json_decref(v);
}

/* Columns follow the widest cell, in characters rather than bytes. */
static void test_table_widths(void **state)
{
    (void)state;
    assert_summary("{\"outputs\":[{\"type\":\"mkv\",\"template\":\"très-long-nom\",\"size\":123456789012,"
                   "\"width\":3840,\"height\":2160,\"duration\":7384.6,\"bitrate\":14000000,\"url\":\"u1\"},"
                   "{\"type\":\"vtt\",\"language\":\"pt-BR\",\"size\":1,\"bitrate\":499,\"url\":\"u2\"}]}",
                   "outputs     2\n"
                   "  TYPE       TEMPLATE       SIZE       WxH        DURATION  BITRATE     URL\n"
                   "  mkv        très-long-nom  115.0 GiB  3840x2160  2:03:05   14000 kb/s  u1\n"
                   "  vtt:pt-BR  -              1 B        -          -         <1 kb/s     u2\n");
}

static void test_control_characters(void **state)
{
    (void)state;
    /* ESC sequences, BEL, newlines, DEL and the C1 CSI (U+009B) become '?';
     * other non-ASCII text (é, a no-break space) is kept. */
    assert_summary("{\"videoName\":\"a\\u001b]0;owned\\u0007b\",\"status\":\"failed\","
                   "\"failReason\":\"probe: \\u001b[31mbad\\r\\nline2\\u007f\\u009b2J \\u00e9\\u00a0!\","
                   "\"outputs\":[{\"type\":\"mp4\\u001b\",\"template\":\"t\\n\",\"url\":\"http://v/\\u001b[Ax\"}]}",
                   "videoName   a?]0;owned?b\n"
                   "status      failed\n"
                   "failReason  probe: ?[31mbad??line2??2J \xc3\xa9\xc2\xa0!\n"
                   "outputs     1\n"
                   "  TYPE  TEMPLATE  SIZE  WxH  DURATION  BITRATE  URL\n"
                   "  mp4?  t?        -     -    -         -        http://v/?[Ax\n");
    assert_urls("{\"playUrl\":\"http://v/\\u001b[2J\",\"outputs\":[]}", "  playUrl   http://v/?[2J\n", 1);
    buf_t out;
    buf_init(&out, 0);
    assert_true(client_text_append_clean(&out, "x\x01\x1f\x7f\xc2\x80\xc2\x9f\xc2\xa0y"));
    assert_string_equal(out.data, "x?????\xc2\xa0y");
    buf_free(&out);
}

static void test_urls(void **state)
{
    (void)state;
    assert_urls(VIDEO_READY,
                "  playUrl   http://v/clip.mp4\n"
                "  coverUrl  http://v/cover.jpg\n"
                "  hls       http://v/ladder/index.m3u8\n"
                "  mp4       http://v/sd/640x360.mp4\n"
                "  vtt:en    http://v/subtitles/en.vtt\n",
                5);
    /* Every HLS output first, each group in the server's order; no cover,
     * an output without url, and non-objects are left out. */
    assert_urls("{\"playUrl\":\"p\",\"coverUrl\":null,\"outputs\":[{\"type\":\"webm\",\"url\":\"w\"},"
                "{\"type\":\"hls\",\"url\":\"h1\"},{\"type\":\"mp4\"},7,{\"type\":\"hls\",\"url\":\"h2\"},"
                "{\"type\":\"vtt\",\"language\":\"pt-BR\",\"url\":\"s\"}]}",
                "  playUrl   p\n"
                "  hls       h1\n"
                "  hls       h2\n"
                "  webm      w\n"
                "  vtt:pt-BR  s\n",
                5);
    assert_urls("{\"status\":\"ready\"}", "", 0);
}

static void test_duration(void **state)
{
    (void)state;
    static const struct {
        double in;
        const char *out;
    } cases[] = {
        {0, "0.0 s"},       {1.0, "1.0 s"},      {12.04, "12.0 s"},    {59.94, "59.9 s"}, {59.96, "1:00"},
        {60, "1:00"},       {754.4, "12:34"},    {3599.6, "1:00:00"},  {3723, "1:02:03"}, {-0.5, "-"},
        {NAN, "-"},         {INFINITY, "-"},
    };
    char out[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        client_format_duration(cases[i].in, out, sizeof(out));
        assert_string_equal(out, cases[i].out);
    }
}

static void test_bitrate(void **state)
{
    (void)state;
    static const struct {
        int64_t in;
        const char *out;
    } cases[] = {
        {-1, "-"},           {0, "-"},
        {1, "<1 kb/s"},      {499, "<1 kb/s"},
        {500, "1 kb/s"},     {98765, "99 kb/s"},
        {800000, "800 kb/s"}, {2500000, "2500 kb/s"},
    };
    char out[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        client_format_bitrate(cases[i].in, out, sizeof(out));
        assert_string_equal(out, cases[i].out);
    }
}

/* Formats a getVideoList `data` and compares with `want`. */
static void assert_list(const char *text, const char *want)
{
    json_t *v = parse(text);
    buf_t out;
    buf_init(&out, 0);
    assert_true(client_video_format_list(v, &out));
    const char *got = out.data ? out.data : "";
    if (strcmp(got, want) != 0)
        fail_msg("list:\n%s\nwanted:\n%s", got, want);
    buf_free(&out);
    json_decref(v);
}

static void test_list(void **state)
{
    (void)state;
    assert_list("{\"total\":12,\"pageIndex\":2,\"pageSize\":10,\"list\":["
                "{\"videoId\":\"01a2\",\"videoName\":\"clip.mp4\",\"status\":\"ready\",\"size\":1572864,"
                "\"duration\":75.2,\"width\":1920,\"height\":1080,\"createdAt\":\"2026-12-04T12:44:51.897Z\"},"
                "{\"videoId\":\"01a3\",\"videoName\":\"a\\u001b[2Jb.mov\",\"status\":\"processing\",\"progress\":42,"
                "\"size\":null,\"duration\":null,\"createdAt\":\"bogus\"}]}",
                "12 videos, page 2 of 2 (10 per page)\n"
                "VIDEOID  STATUS          SIZE      DURATION  WxH        CREATED (UTC)        NAME\n"
                "01a2     ready           1.50 MiB  1:15      1920x1080  2026-12-04 12:44:51  clip.mp4\n"
                "01a3     processing 42%  -         -         -          -                    a?[2Jb.mov\n");
    assert_list("{\"total\":0,\"pageIndex\":1,\"pageSize\":10,\"list\":[]}", "no videos\n");
    assert_list("{\"total\":1,\"pageIndex\":1,\"pageSize\":10,\"list\":[{\"videoId\":\"x\"}]}",
                "1 video, page 1 of 1 (10 per page)\n"
                "VIDEOID  STATUS  SIZE  DURATION  WxH  CREATED (UTC)  NAME\n"
                "x        -       -     -         -    -              -\n");
    buf_t out;
    buf_init(&out, 0);
    json_t *bad = parse("{\"total\":1}");
    assert_false(client_video_format_list(bad, &out));
    json_decref(bad);
    buf_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_summary_ready),     cmocka_unit_test(test_summary_processing),
        cmocka_unit_test(test_summary_failed),    cmocka_unit_test(test_summary_old_server),
        cmocka_unit_test(test_summary_wrong_types), cmocka_unit_test(test_table_widths),
        cmocka_unit_test(test_control_characters), cmocka_unit_test(test_urls),
        cmocka_unit_test(test_duration),          cmocka_unit_test(test_bitrate),
        cmocka_unit_test(test_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
