/*
 * test_probe_media: probe_file against the real ffprobe, on media made at
 * test time with ffmpeg's lavfi sources (nothing large is committed): the
 * inputs that must not fool the processing stage (docs/processing notes:
 * empty and text files, a truncated MP4, a WebM named .mp4, an MP4 with its
 * index at the end, odd and rotated sizes, video without audio, an 8K
 * frame, and an HLS playlist disguised as .mp4 that points at a local file).
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "process/probe.h"
#include "unit_tmpdir.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define FFPROBE "/usr/bin/ffprobe"
#define UHD_PIXELS (3840 * 2160)
#define TIMEOUT_MS 20000

static char dir[256];

static const char *media(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

/* ffmpeg -v error -y <args> <dir>/<name>; the test's own fixture maker. */
static void make(const char *name, const char *args)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), FFMPEG " -nostdin -v error -y %s '%s'", args, media(name));
    assert_int_equal(system(cmd), 0);
}

static void write_text(const char *name, const char *text)
{
    FILE *f = fopen(media(name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

typedef struct media_case {
    const char *name;
    const char *error;  /* expected failReason start, NULL: accepted */
    const char *codecs; /* when accepted */
    int width, height;  /* display size when accepted */
} media_case_t;

static const media_case_t media_cases[] = {
    {"clip.mp4", NULL, "h264,aac", 320, 240},
    {"faststart.mp4", NULL, "h264,aac", 320, 240},
    {"webm-named.mp4", NULL, "vp8,vorbis", 320, 240},
    {"odd.mp4", NULL, "h264", 641, 359},
    {"rotated.mp4", NULL, "h264,aac", 240, 320},
    {"video-only.mp4", NULL, "h264", 320, 240},
    {"audio-only.m4a", NULL, "aac", 0, 0},
    {"empty.mp4", "probe: ", NULL, 0, 0},
    {"text.mp4", "probe: ", NULL, 0, 0},
    {"truncated.mp4", "probe: ", NULL, 0, 0},
    {"8k.mkv", "probe: the video is 8192x4320, more than the 8294400 pixels allowed", NULL, 0, 0},
    {"hls-disguised.mp4", "probe: ", NULL, 0, 0},
};

static void test_probe_real_media(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(media_cases) / sizeof(media_cases[0]); i++) {
        const media_case_t *c = &media_cases[i];
        probe_result_t r;
        char err[300] = "";
        bool ok = probe_file(FFPROBE, media(c->name), UHD_PIXELS, TIMEOUT_MS, &r, err, sizeof(err));
        print_message("  %-20s -> %s", c->name, ok ? r.codecs : err);
        if (ok)
            print_message(" %dx%d %.2f s", r.display_width, r.display_height, r.duration);
        print_message("\n");
        if (c->error) {
            assert_false(ok);
            assert_true(strncmp(err, c->error, strlen(c->error)) == 0);
            assert_null(strstr(err, dir)); /* the server's paths stay private */
            continue;
        }
        assert_true(ok);
        assert_string_equal(r.codecs, c->codecs);
        assert_int_equal(r.display_width, c->width);
        assert_int_equal(r.display_height, c->height);
        assert_true(r.duration > 0.9 && r.duration < 1.2);
    }
}

/* The disguised playlist names a file the server can read; probing must
 * not open it (the whitelist refuses the hls demuxer). */
static void test_probe_hls_disguise_refused_by_whitelist(void **state)
{
    (void)state;
    probe_result_t r;
    char err[300] = "";
    assert_false(probe_file(FFPROBE, media("hls-disguised.mp4"), UHD_PIXELS, TIMEOUT_MS, &r, err, sizeof(err)));
    assert_non_null(strstr(err, "whitelist"));
}

static int group_setup(void **state)
{
    (void)state;
    if (!unit_tmpdir_make(dir, sizeof(dir), "probe"))
        return -1;
    const char *av = "-f lavfi -i testsrc2=s=320x240:d=1 -f lavfi -i sine=d=1 -shortest";
    char args[600];
    snprintf(args, sizeof(args), "%s -c:v libx264 -preset ultrafast -c:a aac", av);
    make("clip.mp4", args);
    snprintf(args, sizeof(args), "%s -c:v libx264 -preset ultrafast -c:a aac -movflags +faststart", av);
    make("faststart.mp4", args);
    snprintf(args, sizeof(args), "%s -c:v libvpx -c:a libvorbis -f webm", av);
    make("webm-named.mp4", args);
    /* lavfi sources round to even sizes in yuv420p: scale after, in 4:4:4. */
    make("odd.mp4", "-f lavfi -i testsrc2=s=640x360:d=1 -vf scale=641:359 -pix_fmt yuv444p -c:v libx264 "
                    "-preset ultrafast");
    char in[600];
    snprintf(in, sizeof(in), "-i '%s' -c copy -metadata:s:v:0 rotate=90", media("clip.mp4"));
    make("rotated.mp4", in);
    make("video-only.mp4", "-f lavfi -i testsrc2=s=320x240:d=1 -c:v libx264 -preset ultrafast");
    make("audio-only.m4a", "-f lavfi -i sine=d=1 -c:a aac");
    make("8k.mkv", "-f lavfi -i color=c=black:s=8192x4320:d=1:r=1 -c:v mjpeg -q:v 31");
    write_text("empty.mp4", "");
    write_text("text.mp4", "this is not a video\n");
    char cmd[1200];
    /* An MP4 whose index (moov, at the end without faststart) is cut off. */
    snprintf(cmd, sizeof(cmd), "head -c 4000 '%s/clip.mp4' > '%s/truncated.mp4'", dir, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\nfile:%s/clip.mp4\n#EXT-X-ENDLIST\n",
             dir);
    write_text("hls-disguised.mp4", cmd);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    unit_tmpdir_remove(dir);
    return 0;
}

int main(void)
{
    if (access(FFMPEG, X_OK) != 0 || access(FFPROBE, X_OK) != 0) {
        /* scripts/install-deps.sh installs ffmpeg for `make test`: missing is a failure, not a skip. */
        fprintf(stderr, "test_probe_media: %s and %s are required (scripts/install-deps.sh)\n", FFMPEG, FFPROBE);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_real_media),
        cmocka_unit_test(test_probe_hls_disguise_refused_by_whitelist),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
