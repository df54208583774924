/*
 * test_hls: a soft subtitle's HLS rendition (hls.h): the master playlist
 * ffmpeg 5.1 writes, with the subtitle group added before the first variant
 * and named on every variant; the one-segment subtitle playlist that points
 * at the WebVTT sidecar; and the inputs refused (not a master, a language
 * that is not a safe key segment).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "process/hls.h"

/* What ffmpeg 5.1's hls muxer writes with -master_pl_name and a
 * var_stream_map of two variants (blank line after each). */
static const char ffmpeg_master[] =
    "#EXTM3U\n"
    "#EXT-X-VERSION:3\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=2890800,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\"\n"
    "1280x720/index.m3u8\n"
    "\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=1020800,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\"\n"
    "640x360/index.m3u8\n"
    "\n";

static const char master_with_subtitles[] =
    "#EXTM3U\n"
    "#EXT-X-VERSION:3\n"
    "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"pt-BR\",LANGUAGE=\"pt-BR\",DEFAULT=NO,AUTOSELECT=YES,"
    "URI=\"subtitles_pt-BR.m3u8\"\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=2890800,RESOLUTION=1280x720,CODECS=\"avc1.64001f,mp4a.40.2\",SUBTITLES=\"subs\"\n"
    "1280x720/index.m3u8\n"
    "\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=1020800,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\",SUBTITLES=\"subs\"\n"
    "640x360/index.m3u8\n"
    "\n";

static void assert_master(const char *in, const char *language, const char *want)
{
    buf_t out;
    buf_init(&out, 0);
    bool ok = hls_master_add_subtitles(in, strlen(in), language, &out);
    if (want) {
        assert_true(ok);
        assert_string_equal(out.data, want);
    } else {
        assert_false(ok);
    }
    buf_free(&out);
}

static void test_master_gains_the_group(void **state)
{
    (void)state;
    assert_master(ffmpeg_master, "pt-BR", master_with_subtitles);
}

/* CRLF line ends and a missing last newline are read; lines come out with \n. */
static void test_master_line_ends(void **state)
{
    (void)state;
    assert_master("#EXTM3U\r\n#EXT-X-STREAM-INF:BANDWIDTH=1\r\na/index.m3u8", "en",
                  "#EXTM3U\n"
                  "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"en\",LANGUAGE=\"en\",DEFAULT=NO,"
                  "AUTOSELECT=YES,URI=\"subtitles_en.m3u8\"\n"
                  "#EXT-X-STREAM-INF:BANDWIDTH=1,SUBTITLES=\"subs\"\n"
                  "a/index.m3u8\n");
}

/* The output buffer is reset first, so a reused one holds only the master. */
static void test_master_output_is_reset(void **state)
{
    (void)state;
    buf_t out;
    buf_init(&out, 0);
    assert_true(buf_append_str(&out, "stale"));
    assert_true(hls_master_add_subtitles(ffmpeg_master, strlen(ffmpeg_master), "pt-BR", &out));
    assert_string_equal(out.data, master_with_subtitles);
    buf_free(&out);
}

typedef struct refused_master {
    const char *text;
    const char *language;
} refused_master_t;

static const refused_master_t refused_masters[] = {
    {"", "en"},
    {"#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n", "en"},                     /* no #EXTM3U */
    {"#EXTM3U-ish\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n", "en"},        /* not the tag */
    {"#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:6,\nseg_00000.ts\n", "en"}, /* a media playlist */
    {ffmpeg_master, ""},
    {ffmpeg_master, "en\",URI=\"x"}, /* would break the attribute list */
    {ffmpeg_master, "../en"},
    {ffmpeg_master, ".en"},
    {ffmpeg_master, "en\n#EXT-X-ENDLIST"},
};

static void test_master_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refused_masters) / sizeof(refused_masters[0]); i++)
        assert_master(refused_masters[i].text, refused_masters[i].language, NULL);
    buf_t out;
    buf_init(&out, 0);
    assert_false(hls_master_add_subtitles(NULL, 0, "en", &out));
    assert_false(hls_master_add_subtitles(ffmpeg_master, strlen(ffmpeg_master), NULL, &out));
    buf_free(&out);
}

static void test_subtitle_playlist(void **state)
{
    (void)state;
    buf_t out;
    buf_init(&out, 0);
    assert_true(hls_subtitle_playlist("pt-BR", 61.25, &out));
    assert_string_equal(out.data, "#EXTM3U\n"
                                  "#EXT-X-VERSION:3\n"
                                  "#EXT-X-TARGETDURATION:62\n"
                                  "#EXT-X-PLAYLIST-TYPE:VOD\n"
                                  "#EXTINF:61.250,\n"
                                  "../subtitles/pt-BR.vtt\n"
                                  "#EXT-X-ENDLIST\n");
    /* A whole number of seconds is its own target duration. */
    assert_true(hls_subtitle_playlist("en", 2.0, &out));
    assert_non_null(strstr(out.data, "#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:2.000,\n"));
    assert_false(hls_subtitle_playlist("en", 0, &out));
    assert_false(hls_subtitle_playlist("en", -1, &out));
    assert_false(hls_subtitle_playlist("en", NAN, &out));
    assert_false(hls_subtitle_playlist("en", INFINITY, &out));
    assert_false(hls_subtitle_playlist("../en", 2, &out));
    assert_false(hls_subtitle_playlist("", 2, &out));
    buf_free(&out);
}

static void test_subtitle_playlist_name(void **state)
{
    (void)state;
    char name[64];
    assert_true(hls_subtitle_playlist_name("pt-BR", name, sizeof(name)));
    assert_string_equal(name, "subtitles_pt-BR.m3u8");
    assert_false(hls_subtitle_playlist_name("en/x", name, sizeof(name)));
    assert_false(hls_subtitle_playlist_name("", name, sizeof(name)));
    assert_false(hls_subtitle_playlist_name(NULL, name, sizeof(name)));
    /* "subtitles_en.m3u8" is 17 bytes and its NUL: 17 is too small. */
    assert_false(hls_subtitle_playlist_name("en", name, 17));
    assert_true(hls_subtitle_playlist_name("en", name, 18));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_master_gains_the_group),
        cmocka_unit_test(test_master_line_ends),
        cmocka_unit_test(test_master_output_is_reset),
        cmocka_unit_test(test_master_refused),
        cmocka_unit_test(test_subtitle_playlist),
        cmocka_unit_test(test_subtitle_playlist_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
