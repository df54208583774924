/*
 * test_processing: what happens to a video after its upload (docs/processing.md),
 * end to end: real uploads to a real `vodup serve --processing on`, real
 * ffmpeg and ffprobe, media made at test time with ffmpeg's lavfi sources,
 * outputs fetched from the playback origin and checked with ffprobe and by
 * their pixels.
 *
 * The clips are short and small (2 s, 320x240) so the whole file runs in
 * well under a minute on two cores.  The fault cases use a fake ffmpeg (a
 * shell script given with --ffmpeg) where real media cannot make the fault
 * happen on demand: a run that hangs (kill -9 of the server, cancel).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define FFPROBE "/usr/bin/ffprobe"
#define READY_TIMEOUT_MS 90000

static harness_server_t *srv;
static char media_dir[400];

/* ---- media made at test time ---- */

static const char *media(const char *name)
{
    static char path[4][600];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof(path[0]), "%s/%s", media_dir, name);
    return p;
}

/* ffmpeg -v error -y <args> <media_dir>/<name> */
static void make(const char *name, const char *args)
{
    char *cmd = harness_strf("%s -nostdin -v error -y %s '%s'", FFMPEG, args, media(name));
    int rc = system(cmd);
    if (rc != 0)
        print_error("fixture failed: %s\n", cmd);
    assert_int_equal(rc, 0);
    free(cmd);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return data;
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* ---- the API ---- */

typedef struct video {
    char id[64];
    char key[512];
    json_t *info; /* the latest getVideoInfo data */
} video_t;

/* getUploadToken with `extra` form members, then a form upload of `path`. */
static void upload(const char *name, const char *extra, const char *path, video_t *v)
{
    char *form = harness_strf("originFileName=%s%s", name, extra ? extra : "");
    harness_response_t r;
    assert_true(harness_upload_token(srv, NULL, form, &r));
    assert_api_ok(&r);
    json_t *d = harness_data(&r);
    snprintf(v->id, sizeof(v->id), "%s", harness_json_str(d, "videoId"));
    snprintf(v->key, sizeof(v->key), "%s", harness_json_str(d, "fileKey"));
    char *token = strdup(harness_json_str(d, "uploadToken"));
    harness_response_free(&r);
    free(form);
    size_t len;
    uint8_t *data = slurp(path, &len);
    harness_upload_response_t u;
    assert_true(harness_form_upload(srv, token, data, len, &u));
    assert_int_equal(u.status, 200);
    harness_upload_response_free(&u);
    free(data);
    free(token);
    v->info = NULL;
}

static json_t *video_info(const video_t *v)
{
    harness_response_t r;
    assert_true(harness_video_info(srv, NULL, v->id, &r));
    assert_api_ok(&r);
    json_t *d = json_incref(harness_data(&r)); /* outlives the response */
    harness_response_free(&r);
    return d;
}

/* Polls getVideoInfo until the status is `want` (or the time is up). */
static void wait_status(video_t *v, const char *want)
{
    int64_t deadline = harness_now_ms() + READY_TIMEOUT_MS;
    for (;;) {
        json_decref(v->info);
        v->info = video_info(v);
        const char *status = harness_json_str(v->info, "status");
        if (status && !strcmp(status, want))
            return;
        bool final = status && (!strcmp(status, "ready") || !strcmp(status, "failed"));
        if (final || harness_now_ms() > deadline) {
            char *text = json_dumps(v->info, JSON_COMPACT);
            print_error("video %s: expected status %s, got %s\n", v->id, want, text);
            free(text);
            fail();
        }
        usleep(100 * 1000);
    }
}

static void video_done(video_t *v)
{
    json_decref(v->info);
    v->info = NULL;
}

/* The path part of an output's URL: what the playback origin is asked. */
static const char *url_key(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    assert_non_null(p);
    return p + 1;
}

/* GETs key and writes the bytes to media/<name>; returns the Content-Type. */
static char *fetch(const char *key, const char *name, long want)
{
    harness_upload_response_t r;
    assert_true(harness_playback(srv, "GET", key, NULL, &r));
    if (r.status != want)
        print_error("GET /%s: %ld, want %ld\n", key, r.status, want);
    assert_int_equal(r.status, want);
    FILE *fp = fopen(media(name), "wb");
    assert_non_null(fp);
    fwrite(r.body, 1, r.body_len, fp);
    fclose(fp);
    const char *ct = harness_header(&r, "Content-Type");
    char *type = strdup(ct ? ct : "");
    harness_upload_response_free(&r);
    return type;
}

/* ffprobe's one-line answer about a file (csv, no keys). */
static char *probe(const char *path, const char *entries)
{
    char *cmd = harness_strf("%s -v error -select_streams v:0 -show_entries %s -of csv=p=0 '%s'", FFPROBE, entries,
                             path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256] = "";
    if (!fgets(line, sizeof(line), p))
        line[0] = '\0';
    pclose(p);
    free(cmd);
    line[strcspn(line, "\r\n")] = '\0';
    return strdup(line);
}

static json_t *output_of(json_t *info, const char *type)
{
    json_t *outs = json_object_get(info, "outputs");
    assert_true(json_is_array(outs));
    size_t i;
    json_t *o;
    json_array_foreach(outs, i, o)
    {
        if (!strcmp(harness_json_str(o, "type"), type))
            return o;
    }
    return NULL;
}

/* The last word admin printed ("subtitleId  sub..." -> the id). */
static const char *admin_last_word(char *out)
{
    size_t n = strlen(out);
    while (n && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    while (n && out[n - 1] != ' ' && out[n - 1] != '\n' && out[n - 1] != '\t')
        n--;
    return out + n;
}

/* ---- fixtures ---- */

static char subtitle_burn[64], subtitle_soft[64], workflow_id[64];

static void admin_ok(const char *const *args)
{
    char *out = NULL;
    int rc = harness_adminv(srv, &out, args);
    if (rc != 0)
        print_error("admin failed: %s\n", out ? out : "");
    assert_int_equal(rc, 0);
    free(out);
}

static void add_subtitle(const char *name, const char *mode, char *id_out, size_t len)
{
    const char *args[] = {"--account", srv->key.access_key, "subtitle", "add", name, "--file", media("en.srt"),
                          "--language", "en", "--mode", mode, NULL};
    char *out = NULL;
    assert_int_equal(harness_adminv(srv, &out, args), 0);
    snprintf(id_out, len, "%s", admin_last_word(out));
    free(out);
}

static void make_resources(void)
{
    const char *ak = srv->key.access_key;
    const char *sd[] = {"--account", ak, "template", "add", "sd", "--container", "mp4", "--rendition", "320x240@400",
                        NULL};
    const char *ladder[] = {"--account", ak, "template", "add", "ladder", "--container", "hls", "--rendition",
                            "320x240@400", "--rendition", "160x120@150", NULL};
    const char *logo[] = {"--account", ak, "watermark", "add", "logo", "--image", media("logo.png"), "--position",
                          "top-left", "--offset-x", "8", "--offset-y", "8", NULL};
    admin_ok(sd);
    admin_ok(ladder);
    admin_ok(logo);
    add_subtitle("burned", "burn", subtitle_burn, sizeof(subtitle_burn));
    add_subtitle("soft", "soft", subtitle_soft, sizeof(subtitle_soft));
    /* No snapshot step: a workflow makes only what its steps say. */
    const char *wf[] = {"--account", ak, "workflow", "add", "both", "--step", "probe", "--step", "transcode=sd",
                        "--step", "transcode=ladder", "--step", "watermark=logo", NULL};
    char *out = NULL;
    assert_int_equal(harness_adminv(srv, &out, wf), 0);
    snprintf(workflow_id, sizeof(workflow_id), "%s", admin_last_word(out));
    free(out);
}

/* The first half of a file, as an interrupted copy leaves it. */
static void half_of(const char *from, const char *to)
{
    size_t len;
    uint8_t *data = slurp(media(from), &len);
    FILE *fp = fopen(media(to), "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len / 2, fp), len / 2);
    fclose(fp);
    free(data);
}

static void make_media(void)
{
    make("clip.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -f lavfi -i sine=duration=2 "
                     "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest");
    make("black.mp4", "-f lavfi -i color=black:size=320x240:rate=25:duration=2 -c:v libx264 -preset ultrafast "
                      "-pix_fmt yuv420p");
    make("logo.png", "-f lavfi -i color=red:size=32x16 -frames:v 1");
    char *rotate = harness_strf("-i '%s' -c copy -metadata:s:v:0 rotate=90", media("clip.mp4"));
    make("rotated.mp4", rotate); /* a phone's portrait video: landscape pixels, a 90-degree display matrix */
    free(rotate);
    write_text(media("en.srt"), "1\n00:00:00,000 --> 00:00:02,000\nHELLO WORLD\n");
    write_text(media("notes.mp4"), "this is a text file, not a video\n");
    write_text(media("empty.mp4"), "");
    make("webm-named.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -c:v libvpx-vp9 -deadline realtime "
                           "-cpu-used 8 -f webm");
    make("moov-at-end.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -c:v libx264 -preset ultrafast "
                            "-pix_fmt yuv420p"); /* ffmpeg's default: the index after the data */
    make("odd.mp4", "-f lavfi -i testsrc2=size=641x359:rate=25:duration=1 -c:v libx264 -preset ultrafast "
                    "-pix_fmt yuv444p");
    make("silent.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25:duration=1 -c:v libx264 -preset ultrafast "
                       "-pix_fmt yuv420p -an");
    make("8k.mp4", "-f lavfi -i color=gray:size=7680x4320:rate=1:duration=1 -frames:v 1 -c:v libx264 "
                   "-preset ultrafast -pix_fmt yuv420p");
    /* Cut in half: with its index at the end (not readable at all), and
     * with its index first (readable, promising 2 s, holding about 1). */
    char *faststart = harness_strf("-i '%s' -c copy -movflags +faststart", media("clip.mp4"));
    make("faststart.mp4", faststart);
    free(faststart);
    half_of("clip.mp4", "truncated.mp4");
    half_of("faststart.mp4", "truncated-faststart.mp4");
    /* A playlist named .mp4 that points at a local file: must never be read. */
    char *hls = harness_strf("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n%s\n#EXT-X-ENDLIST\n", media("clip.mp4"));
    write_text(media("playlist.mp4"), hls);
    free(hls);
}

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--processing", "on", NULL};
    srv = harness_server_start(args);
    if (!srv)
        return -1;
    snprintf(media_dir, sizeof(media_dir), "%s/media", srv->root);
    if (mkdir(media_dir, 0700) != 0)
        return -1;
    make_media();
    make_resources();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    return harness_server_finish(srv);
}

/* ---- what a task makes ---- */

/* No setting: probe fields and a cover, no renditions; the original still plays. */
static void test_probe_and_cover(void **state)
{
    (void)state;
    video_t v;
    upload("plain.mp4", NULL, media("clip.mp4"), &v);
    wait_status(&v, "ready");
    json_t *i = v.info;
    assert_true(json_real_value(json_object_get(i, "duration")) > 1.9);
    assert_int_equal(json_integer_value(json_object_get(i, "width")), 320);
    assert_int_equal(json_integer_value(json_object_get(i, "height")), 240);
    assert_string_equal(harness_json_str(i, "codecs"), "h264,aac");
    assert_int_equal(json_integer_value(json_object_get(i, "progress")), 100);
    assert_int_equal(json_array_size(json_object_get(i, "outputs")), 0);
    const char *cover = harness_json_str(i, "coverUrl");
    assert_non_null(cover);
    char *type = fetch(url_key(cover), "cover.jpg", 200);
    assert_string_equal(type, "image/jpeg");
    char *p = probe(media("cover.jpg"), "stream=codec_name,width,height");
    assert_string_equal(p, "mjpeg,320,240");
    free(p);
    free(type);
    type = fetch(v.key, "original.mp4", 200); /* the original, unchanged */
    free(type);
    video_done(&v);
}

/* A template of one mp4 rendition: served as video/mp4 with Range and ETag. */
static void test_mp4_rendition(void **state)
{
    (void)state;
    video_t v;
    upload("sd.mp4", "&transCodeCombineName=sd", media("clip.mp4"), &v);
    wait_status(&v, "ready");
    json_t *o = output_of(v.info, "mp4");
    assert_non_null(o);
    assert_string_equal(harness_json_str(o, "template"), "sd");
    assert_int_equal(json_integer_value(json_object_get(o, "width")), 320);
    assert_int_equal(json_integer_value(json_object_get(o, "height")), 240);
    assert_true(json_real_value(json_object_get(o, "duration")) > 1.9);
    assert_string_equal(harness_json_str(o, "codecs"), "h264,aac");
    const char *key = url_key(harness_json_str(o, "url"));
    assert_non_null(strstr(key, "/sd/320x240.mp4"));
    char *type = fetch(key, "sd.mp4", 200);
    assert_string_equal(type, "video/mp4");
    free(type);
    char *p = probe(media("sd.mp4"), "stream=codec_name,width,height");
    assert_string_equal(p, "h264,320,240");
    free(p);
    const char *range[] = {"Range: bytes=0-99", NULL};
    harness_upload_response_t r;
    assert_true(harness_playback(srv, "GET", key, range, &r));
    assert_int_equal(r.status, 206);
    assert_int_equal(r.body_len, 100);
    assert_non_null(harness_header(&r, "ETag"));
    harness_upload_response_free(&r);
    video_done(&v);
}

/* An HLS ladder: a master with one variant per rendition, playlists and
 * MPEG-TS segments served with their types. */
static void test_hls_ladder(void **state)
{
    (void)state;
    video_t v;
    upload("ladder.mp4", "&transCodeCombineName=ladder", media("clip.mp4"), &v);
    wait_status(&v, "ready");
    json_t *o = output_of(v.info, "hls");
    assert_non_null(o);
    const char *key = url_key(harness_json_str(o, "url"));
    assert_non_null(strstr(key, "/ladder/index.m3u8"));
    char *type = fetch(key, "master.m3u8", 200);
    assert_string_equal(type, "application/vnd.apple.mpegurl");
    free(type);
    size_t len;
    char *master = (char *)slurp(media("master.m3u8"), &len);
    master[len] = '\0';
    int variants = 0;
    for (const char *p = master; (p = strstr(p, "#EXT-X-STREAM-INF")); p++)
        variants++;
    assert_int_equal(variants, 2);
    assert_non_null(strstr(master, "RESOLUTION=320x240"));
    assert_non_null(strstr(master, "RESOLUTION=160x120"));
    assert_non_null(strstr(master, "BANDWIDTH="));
    free(master);
    char *variant = harness_strf("%.*s/160x120/index.m3u8", (int)(strrchr(key, '/') - key), key);
    type = fetch(variant, "variant.m3u8", 200);
    free(type);
    char *seg = harness_strf("%.*s/160x120/seg_00000.ts", (int)(strrchr(key, '/') - key), key);
    type = fetch(seg, "seg.ts", 200);
    assert_string_equal(type, "video/mp2t");
    char *p = probe(media("seg.ts"), "stream=codec_name,width,height");
    assert_string_equal(p, "h264,160,120");
    free(p);
    free(type);
    free(seg);
    free(variant);
    video_done(&v);
}

/* Reads one decoded frame (at 1 s) of a video as rgb24. */
static uint8_t *frame_rgb(const char *path, int w, int h)
{
    char *cmd = harness_strf("%s -nostdin -v error -ss 1 -i '%s' -frames:v 1 -f rawvideo -pix_fmt rgb24 -", FFMPEG,
                             path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t n = (size_t)w * (size_t)h * 3;
    uint8_t *px = malloc(n);
    assert_non_null(px);
    assert_int_equal(fread(px, 1, n, p), n);
    pclose(p);
    free(cmd);
    return px;
}

static bool reddish(const uint8_t *px, int w, int x, int y)
{
    const uint8_t *c = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
    return c[0] > 180 && c[1] < 80 && c[2] < 80;
}

/* The watermark (red, 32x16, top-left at 8,8) is where it should be, and
 * nowhere else. */
static void test_watermark_pixels(void **state)
{
    (void)state;
    video_t v;
    upload("logo.mp4", "&transCodeCombineName=sd&waterMarkName=logo", media("black.mp4"), &v);
    wait_status(&v, "ready");
    json_t *o = output_of(v.info, "mp4");
    assert_non_null(o);
    char *type = fetch(url_key(harness_json_str(o, "url")), "logo.mp4", 200);
    free(type);
    uint8_t *px = frame_rgb(media("logo.mp4"), 320, 240);
    assert_true(reddish(px, 320, 8 + 16, 8 + 8));   /* inside */
    assert_true(reddish(px, 320, 9, 9));
    assert_false(reddish(px, 320, 4, 4));           /* the offset stays clear */
    assert_false(reddish(px, 320, 8 + 40, 8 + 8));  /* right of it */
    assert_false(reddish(px, 320, 300, 220));       /* far away */
    free(px);
    video_done(&v);
}

/* Whether a rectangle of the frame is plain black (the source's colour). */
static bool black_band(const uint8_t *px, int w, int y0, int y1)
{
    for (int y = y0; y < y1; y++)
        for (int x = 0; x < w; x++) {
            const uint8_t *c = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
            if (c[0] > 40 || c[1] > 40 || c[2] > 40)
                return false;
        }
    return true;
}

/* A burned subtitle changes the bottom band of the picture and nothing above. */
static void test_burned_subtitle_pixels(void **state)
{
    (void)state;
    video_t v;
    char *extra = harness_strf("&subtitleId=%s", subtitle_burn);
    upload("burn.mp4", extra, media("black.mp4"), &v);
    free(extra);
    wait_status(&v, "ready");
    json_t *o = output_of(v.info, "mp4"); /* the default rendition carries it */
    assert_non_null(o);
    assert_string_equal(harness_json_str(o, "template"), "default");
    char *type = fetch(url_key(harness_json_str(o, "url")), "burn.mp4", 200);
    free(type);
    uint8_t *px = frame_rgb(media("burn.mp4"), 320, 240);
    assert_true(black_band(px, 320, 0, 160));   /* the top two thirds untouched */
    assert_false(black_band(px, 320, 160, 240)); /* the text is in the bottom band */
    free(px);
    video_done(&v);
}

/* A soft subtitle: a WebVTT sidecar and an HLS subtitle group. */
static void test_soft_subtitle(void **state)
{
    (void)state;
    video_t v;
    char *extra = harness_strf("&transCodeCombineName=ladder&subtitleId=%s", subtitle_soft);
    upload("soft.mp4", extra, media("clip.mp4"), &v);
    free(extra);
    wait_status(&v, "ready");
    json_t *vtt = output_of(v.info, "vtt");
    assert_non_null(vtt);
    char *type = fetch(url_key(harness_json_str(vtt, "url")), "en.vtt", 200);
    assert_string_equal(type, "text/vtt");
    free(type);
    size_t len;
    char *text = (char *)slurp(media("en.vtt"), &len);
    text[len] = '\0';
    assert_non_null(strstr(text, "WEBVTT"));
    assert_non_null(strstr(text, "HELLO WORLD"));
    free(text);
    json_t *hls = output_of(v.info, "hls");
    type = fetch(url_key(harness_json_str(hls, "url")), "soft.m3u8", 200);
    free(type);
    text = (char *)slurp(media("soft.m3u8"), &len);
    text[len] = '\0';
    assert_non_null(strstr(text, "TYPE=SUBTITLES"));
    assert_non_null(strstr(text, "SUBTITLES=\"subs\""));
    free(text);
    video_done(&v);
}

/* A workflow: its steps, in order; the watermark on every transcode; the
 * token's own settings ignored; no cover without a snapshot step. */
static void test_workflow(void **state)
{
    (void)state;
    video_t v;
    char *extra = harness_strf("&workflowId=%s&transCodeCombineName=nope", workflow_id);
    upload("wf.mp4", extra, media("black.mp4"), &v);
    free(extra);
    wait_status(&v, "ready");
    assert_true(json_is_null(json_object_get(v.info, "coverUrl")));
    assert_int_equal(json_array_size(json_object_get(v.info, "outputs")), 2);
    json_t *mp4 = output_of(v.info, "mp4"), *hls = output_of(v.info, "hls");
    assert_non_null(mp4);
    assert_non_null(hls);
    assert_string_equal(harness_json_str(mp4, "template"), "sd");
    assert_string_equal(harness_json_str(hls, "template"), "ladder");
    char *type = fetch(url_key(harness_json_str(mp4, "url")), "wf.mp4", 200);
    free(type);
    uint8_t *px = frame_rgb(media("wf.mp4"), 320, 240);
    assert_true(reddish(px, 320, 8 + 16, 8 + 8)); /* the workflow's watermark */
    free(px);
    video_done(&v);
}

/* A phone video tagged 90 degrees stays portrait. */
static void test_rotated_stays_portrait(void **state)
{
    (void)state;
    video_t v;
    upload("rotated.mp4", "&transCodeCombineName=sd", media("rotated.mp4"), &v);
    wait_status(&v, "ready");
    assert_int_equal(json_integer_value(json_object_get(v.info, "width")), 240);
    assert_int_equal(json_integer_value(json_object_get(v.info, "height")), 320);
    json_t *o = output_of(v.info, "mp4");
    assert_int_equal(json_integer_value(json_object_get(o, "width")), 240);
    assert_int_equal(json_integer_value(json_object_get(o, "height")), 320);
    video_done(&v);
}

/* ---- bad input ---- */

static void expect_failure(const char *name, const char *file, const char *reason_prefix)
{
    video_t v;
    upload(name, "&transCodeCombineName=sd", media(file), &v);
    wait_status(&v, "failed");
    const char *reason = harness_json_str(v.info, "failReason");
    assert_non_null(reason);
    if (strncmp(reason, reason_prefix, strlen(reason_prefix)) != 0)
        print_error("%s: failReason %s, want it to start %s\n", file, reason, reason_prefix);
    assert_int_equal(strncmp(reason, reason_prefix, strlen(reason_prefix)), 0);
    assert_int_equal(json_array_size(json_object_get(v.info, "outputs")), 0);
    char *type = fetch(v.key, "failed.orig", 200); /* the original stays downloadable */
    free(type);
    video_done(&v);
}

static void test_text_file_fails_probe(void **state)
{
    (void)state;
    expect_failure("notes.mp4", "notes.mp4", "probe:");
}

static void test_empty_file_fails_probe(void **state)
{
    (void)state;
    expect_failure("empty.mp4", "empty.mp4", "probe:");
}

static void test_disguised_playlist_refused(void **state)
{
    (void)state;
    expect_failure("playlist.mp4", "playlist.mp4", "probe:");
}

/* Sources that must not fool the stage: each with the sd template (a
 * 320x240 box), what it comes to. */
static void test_source_corpus(void **state)
{
    (void)state;
    static const struct {
        const char *file;
        const char *status;
        const char *codecs;    /* getVideoInfo's, from the probe */
        int width, height;     /* the mp4 output's; 0: none */
        const char *reason;    /* failReason prefix when failed */
    } cases[] = {
        {"webm-named.mp4", "ready", "vp9", 320, 240, NULL},   /* read by its content, not its name */
        {"moov-at-end.mp4", "ready", "h264", 320, 240, NULL},
        {"odd.mp4", "ready", "h264", 320, 178, NULL},         /* fitted, even sides, never upscaled */
        {"silent.mp4", "ready", "h264", 320, 240, NULL},      /* video-only in, video-only out */
        {"8k.mp4", "failed", NULL, 0, 0, "probe:"},           /* past max-source-pixels, before any decode */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        video_t v;
        upload(cases[i].file, "&transCodeCombineName=sd", media(cases[i].file), &v);
        wait_status(&v, cases[i].status);
        print_message("  %s: %s %s\n", cases[i].file, cases[i].status,
                      cases[i].reason ? harness_json_str(v.info, "failReason") : harness_json_str(v.info, "codecs"));
        if (cases[i].reason) {
            const char *reason = harness_json_str(v.info, "failReason");
            assert_int_equal(strncmp(reason, cases[i].reason, strlen(cases[i].reason)), 0);
        } else {
            assert_string_equal(harness_json_str(v.info, "codecs"), cases[i].codecs);
            json_t *o = output_of(v.info, "mp4");
            assert_non_null(o);
            assert_int_equal(json_integer_value(json_object_get(o, "width")), cases[i].width);
            assert_int_equal(json_integer_value(json_object_get(o, "height")), cases[i].height);
            if (!strcmp(cases[i].file, "silent.mp4"))
                assert_string_equal(harness_json_str(o, "codecs"), "h264");
        }
        video_done(&v);
    }
}

/* Half an MP4 with its index at the end: no index, not media. */
static void test_truncated_index_at_end_fails_probe(void **state)
{
    (void)state;
    expect_failure("truncated.mp4", "truncated.mp4", "probe:");
}

/* Half an MP4 with its index first: it probes as 2 s, ffmpeg reads to the
 * break without an error, and the output comes out short: a failure. */
static void test_truncated_output_is_short(void **state)
{
    (void)state;
    expect_failure("cut.mp4", "truncated-faststart.mp4", "transcode: output lasts");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_and_cover),
        cmocka_unit_test(test_mp4_rendition),
        cmocka_unit_test(test_hls_ladder),
        cmocka_unit_test(test_watermark_pixels),
        cmocka_unit_test(test_burned_subtitle_pixels),
        cmocka_unit_test(test_soft_subtitle),
        cmocka_unit_test(test_workflow),
        cmocka_unit_test(test_rotated_stays_portrait),
        cmocka_unit_test(test_text_file_fails_probe),
        cmocka_unit_test(test_empty_file_fails_probe),
        cmocka_unit_test(test_disguised_playlist_refused),
        cmocka_unit_test(test_source_corpus),
        cmocka_unit_test(test_truncated_index_at_end_fails_probe),
        cmocka_unit_test(test_truncated_output_is_short),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
