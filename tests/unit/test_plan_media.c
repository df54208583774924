/*
 * test_plan_media: the planner's command lines run by the runner with the
 * real ffmpeg 5.1 on short clips made at test time with lavfi sources, and
 * the outputs checked with ffprobe and by their pixels: every encoder and
 * container, the cover, an HLS ladder's master (one variant per rendition,
 * with BANDWIDTH, RESOLUTION and CODECS) and its segments, a watermark where
 * its position and offsets put it (and nowhere else, on the first frame and
 * the last), a burned subtitle only in the bottom band, a soft subtitle's
 * WebVTT sidecar and HLS group, a rotated source's portrait outputs, a
 * video-only source's video-only outputs, a 641x359 source's even,
 * never upscaled renditions, covers of odd, large and portrait sources at
 * the size the plan lists, and a fops' keyed outputs (an HLS ladder with
 * its own segment length, a frame at an offset in a box) where their keys
 * say, accepted by output_check.
 *
 * The resources sit under a data directory whose name has every character
 * a filter graph treats specially (",[1]'s:x"), so the burned subtitle's
 * path proves plan_filter_escape against the real parser.
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#include <errno.h>
#include <math.h>
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

#include "common/buf.h"
#include "process/hls.h"
#include "process/output_check.h"
#include "process/output_key.h"
#include "process/plan.h"
#include "process/runner.h"
#include "store/store.h"
#include "unit_tmpdir.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define FFPROBE "/usr/bin/ffprobe"
#define TIMEOUT_MS 60000
#define MAX_PIXELS (3840LL * 2160)
#define VIDEO_DIR "video/20261204/0123456789abcdef0123456789abcdef"
#define DATA_NAME "data,[1]'s:x"
#define WATERMARK_IMAGE "resources/1/watermarks/red.png"
#define SUBTITLE_FILE "resources/1/subtitles/en.srt"
#define SUBTITLE_TEXT "Hello world"
#define RGB_MAX (1280 * 720 * 3)

static char dir[256];
static char data_dir[320];

/* ---- fixtures ---- */

static const char *media(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return path;
}

/* ffmpeg -v error -y <args> <dir>/<name>: the test's own fixture maker. */
static void make(const char *name, const char *args)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), FFMPEG " -nostdin -v error -y %s '%s'", args, media(name));
    assert_int_equal(system(cmd), 0);
}

static bool mkdirs(const char *path)
{
    char p[1024];
    snprintf(p, sizeof(p), "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return false;
        *s = '/';
    }
    return mkdir(p, 0700) == 0 || errno == EEXIST;
}

/* Places a fixture file under the data directory, at a resource path. */
static void place(const char *name, const char *resource)
{
    char to[1024], parent[1024];
    snprintf(to, sizeof(to), "%s/%s", data_dir, resource);
    snprintf(parent, sizeof(parent), "%s", to);
    *strrchr(parent, '/') = '\0';
    assert_true(mkdirs(parent));
    assert_int_equal(rename(media(name), to), 0);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- plans ---- */

static plan_step_t *add_step(plan_spec_t *p, enum spec_step_kind kind, const char *name)
{
    plan_step_t *s = &p->steps[p->step_count++];
    memset(s, 0, sizeof(*s));
    s->kind = kind;
    snprintf(s->name, sizeof(s->name), "%s", name);
    return s;
}

static plan_spec_t *new_plan(bool snapshot)
{
    plan_spec_t *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    snprintf(p->object_id, sizeof(p->object_id), "0123456789abcdef0123456789abcdef");
    snprintf(p->file_key, sizeof(p->file_key), VIDEO_DIR "/a.mp4");
    add_step(p, SPEC_STEP_PROBE, "");
    if (snapshot)
        add_step(p, SPEC_STEP_SNAPSHOT, "");
    return p;
}

static spec_template_t *add_template(plan_spec_t *p, const char *name, enum spec_container container,
                                     enum spec_video_codec video, enum spec_audio_codec audio)
{
    spec_template_t *t = &add_step(p, SPEC_STEP_TRANSCODE, name)->u.template_spec;
    spec_template_init(t, container);
    t->video_codec = video;
    t->audio_codec = audio;
    return t;
}

static void add_rendition(spec_template_t *t, int width, int height)
{
    t->renditions[t->rendition_count++] = (spec_rendition_t){width, height, 0};
}

static void add_watermark(plan_spec_t *p, enum spec_position position, int x, int y, double opacity)
{
    spec_watermark_t *w = &add_step(p, SPEC_STEP_WATERMARK, "red")->u.watermark;
    spec_watermark_init(w);
    snprintf(w->image, sizeof(w->image), WATERMARK_IMAGE);
    w->position = position;
    w->offset_x = x;
    w->offset_y = y;
    w->opacity = opacity;
}

static void add_subtitle(plan_spec_t *p, enum spec_subtitle_mode mode)
{
    spec_subtitle_t *s = &add_step(p, SPEC_STEP_SUBTITLE, "sub1")->u.subtitle;
    spec_subtitle_init(s);
    snprintf(s->file, sizeof(s->file), SUBTITLE_FILE);
    snprintf(s->language, sizeof(s->language), "en");
    s->mode = mode;
}

/* ---- planning and running ---- */

typedef struct job {
    char work[320];
    probe_result_t probe;
    plan_t plan;
} job_t;

/* Probes the source, plans, makes the directories plan_dirs lists and runs
 * every run, as the worker does.  The caller frees with job_free. */
static job_t *run_plan(const char *source, plan_spec_t *spec)
{
    static int serial;
    job_t *j = calloc(1, sizeof(*j));
    char err[512] = "";
    assert_non_null(j);
    if (!probe_file(FFPROBE, media(source), MAX_PIXELS, TIMEOUT_MS, &j->probe, err, sizeof(err)))
        fail_msg("%s: %s", source, err);
    assert_true(plan_spec_check(spec, err, sizeof(err)));
    snprintf(j->work, sizeof(j->work), "%s/work-%d", dir, ++serial);
    assert_true(mkdirs(j->work));
    plan_input_t in = {.spec = spec, .probe = &j->probe, .ffmpeg = FFMPEG, .source = media(source),
                       .work_dir = j->work, .data_dir = data_dir, .max_pixels = MAX_PIXELS};
    if (!plan_build(&in, &j->plan, err, sizeof(err)))
        fail_msg("%s: %s", source, err);
    char(*dirs)[PLAN_KEY_MAX] = calloc(PLAN_DIRS_MAX, sizeof(*dirs));
    size_t n = plan_dirs(&j->plan, dirs, PLAN_DIRS_MAX);
    for (size_t i = 0; i < n; i++) {
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", j->work, dirs[i]);
        assert_true(mkdirs(path));
    }
    free(dirs);
    runner_limits_t limits = {.timeout_ms = TIMEOUT_MS};
    for (size_t i = 0; i < j->plan.run_count; i++) {
        runner_result_t r;
        if (!runner_run((const char *const *)j->plan.runs[i].argv, &limits, NULL, NULL, &r))
            fail_msg("%s: run %zu failed (outcome %d, exit %d): %s", source, i, r.outcome, r.exit_code,
                     r.stderr_tail);
    }
    free(spec);
    return j;
}

static void job_free(job_t *j)
{
    plan_free(&j->plan);
    free(j);
}

/* <work>/<key> */
static const char *out_path(const job_t *j, const char *key)
{
    static char path[2048];
    snprintf(path, sizeof(path), "%s/%s", j->work, key);
    return path;
}

static const plan_output_t *find_output(const job_t *j, enum plan_output_kind kind, const char *template_name)
{
    for (size_t i = 0; i < j->plan.output_count; i++)
        if (j->plan.outputs[i].kind == kind && !strcmp(j->plan.outputs[i].template_name, template_name))
            return &j->plan.outputs[i];
    fail_msg("no output of kind %d for '%s'", kind, template_name);
    return NULL;
}

/* ---- checks ---- */

/* One line of ffprobe's csv for the first video stream's entries. */
static void ffprobe_video(const char *path, const char *entries, char *out, size_t len)
{
    char cmd[3200];
    snprintf(cmd, sizeof(cmd), FFPROBE " -v error -select_streams v:0 -show_entries %s -of csv=p=0 '%s'", entries,
             path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    out[0] = '\0';
    if (!fgets(out, (int)len, f))
        out[0] = '\0';
    pclose(f);
    out[strcspn(out, "\r\n")] = '\0';
}

/* A rendition file: its codecs, picture and duration as ffprobe reads them. */
static void assert_media(const char *path, const char *codecs, int width, int height, double duration)
{
    probe_result_t r;
    char err[512];
    if (!probe_file(FFPROBE, path, 0, TIMEOUT_MS, &r, err, sizeof(err)))
        fail_msg("%s: %s", path, err);
    if (strcmp(r.codecs, codecs) != 0 || r.display_width != width || r.display_height != height ||
        fabs(r.duration - duration) > 0.3)
        fail_msg("%s: got %s %dx%d %.2f s, want %s %dx%d %.2f s", path, r.codecs, r.display_width, r.display_height,
                 r.duration, codecs, width, height, duration);
    assert_int_equal(r.rotation, 0); /* the picture itself is upright */
    assert_int_equal(r.width % 2, 0);
    assert_int_equal(r.height % 2, 0);
}

static void assert_file_output(const job_t *j, const char *template_name, const char *codecs, int width,
                               int height)
{
    const plan_output_t *o = find_output(j, PLAN_OUTPUT_FILE, template_name);
    assert_int_equal(o->width, width);
    assert_int_equal(o->height, height);
    assert_media(out_path(j, o->key), codecs, width, height, j->probe.duration);
}

static void read_text(const char *path, buf_t *out)
{
    char chunk[4096];
    size_t n;
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("%s is missing", path);
    buf_reset(out);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        assert_true(buf_append(out, chunk, n));
    fclose(f);
}

/* One frame at `at` seconds, as width*height RGB triplets. */
static void read_frame(const char *path, double at, int width, int height, unsigned char *rgb)
{
    char cmd[3200], raw[512];
    snprintf(raw, sizeof(raw), "%s/frame.rgb", dir);
    snprintf(cmd, sizeof(cmd), FFMPEG " -nostdin -v error -y -ss %.2f -i '%s' -frames:v 1 -f rawvideo "
             "-pix_fmt rgb24 '%s'", at, path, raw);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(raw, "rb");
    assert_non_null(f);
    assert_int_equal(fread(rgb, 1, (size_t)width * height * 3, f), (size_t)width * height * 3);
    fclose(f);
}

static const unsigned char *pixel(const unsigned char *rgb, int width, int x, int y)
{
    return rgb + ((size_t)y * width + x) * 3;
}

static bool is_black(const unsigned char *p)
{
    return p[0] < 40 && p[1] < 40 && p[2] < 40;
}

/* ---- every encoder and container, the cover ---- */

static void test_renditions_and_cover(void **state)
{
    (void)state;
    plan_spec_t *spec = new_plan(true);
    spec_template_t *sd = add_template(spec, "sd", SPEC_CONTAINER_MP4, SPEC_VIDEO_H264, SPEC_AUDIO_AAC);
    add_rendition(sd, 320, 240);
    add_rendition(sd, 160, 120);
    add_rendition(add_template(spec, "web", SPEC_CONTAINER_WEBM, SPEC_VIDEO_VP9, SPEC_AUDIO_OPUS), 160, 120);
    add_rendition(add_template(spec, "arch", SPEC_CONTAINER_MKV, SPEC_VIDEO_AV1, SPEC_AUDIO_MP3), 160, 120);
    add_rendition(add_template(spec, "hevc", SPEC_CONTAINER_MP4, SPEC_VIDEO_H265, SPEC_AUDIO_AAC), 160, 120);
    job_t *j = run_plan("clip.mp4", spec);
    assert_int_equal(j->plan.output_count, 6);
    assert_file_output(j, "sd", "h264,aac", 320, 240);
    assert_media(out_path(j, VIDEO_DIR "/sd/160x120.mp4"), "h264,aac", 160, 120, j->probe.duration);
    assert_file_output(j, "web", "vp9,opus", 160, 120);
    assert_file_output(j, "arch", "av1,mp3", 160, 120);
    assert_file_output(j, "hevc", "hevc,aac", 160, 120);
    char line[256];
    ffprobe_video(out_path(j, VIDEO_DIR "/hevc/160x120.mp4"), "stream=codec_tag_string", line, sizeof(line));
    assert_string_equal(line, "hvc1");
    /* +faststart: the index before the media data. */
    buf_t text;
    buf_init(&text, 0);
    read_text(out_path(j, VIDEO_DIR "/sd/320x240.mp4"), &text);
    char *moov = memmem(text.data, text.len, "moov", 4), *mdat = memmem(text.data, text.len, "mdat", 4);
    assert_true(moov && mdat && moov < mdat);
    buf_free(&text);
    const plan_output_t *cover = find_output(j, PLAN_OUTPUT_COVER, "");
    assert_string_equal(cover->key, VIDEO_DIR "/cover.jpg");
    ffprobe_video(out_path(j, cover->key), "stream=codec_name,width,height", line, sizeof(line));
    assert_string_equal(line, "mjpeg,320,240");
    job_free(j);
}

/* ---- HLS ---- */

/* The variants' total duration, from their EXTINF lines. */
static double playlist_duration(const char *text)
{
    double total = 0;
    for (const char *s = strstr(text, "#EXTINF:"); s; s = strstr(s + 1, "#EXTINF:"))
        total += strtod(s + 8, NULL);
    return total;
}

/* The master's line for variant i: "#EXT-X-STREAM-INF:BANDWIDTH=<n>,
 * RESOLUTION=<W>x<H>,CODECS="avc1.<profile>[,mp4a.40.2]"" then its playlist's
 * URI, <W>x<H>/index.m3u8. */
static void assert_master_line(const char *master, geometry_size_t v, bool audio)
{
    char resolution[64], uri[64];
    snprintf(resolution, sizeof(resolution), ",RESOLUTION=%dx%d,CODECS=\"avc1.", v.width, v.height);
    snprintf(uri, sizeof(uri), "\n%dx%d/index.m3u8\n", v.width, v.height);
    const char *at = strstr(master, resolution), *line = at;
    if (!at)
        fail_msg("the master has no variant %dx%d:\n%s", v.width, v.height, master);
    while (line > master && line[-1] != '\n')
        line--;
    assert_true(strncmp(line, "#EXT-X-STREAM-INF:BANDWIDTH=", 28) == 0 && atoi(line + 28) > 0);
    const char *codecs = at + strlen(resolution), *end = codecs + strcspn(codecs, ",\"");
    assert_int_equal(end - codecs, 6); /* avc1.PPCCLL: profile, constraints, level */
    const char *rest = audio ? ",mp4a.40.2\"" : "\"";
    assert_int_equal(strncmp(end, rest, strlen(rest)), 0);
    assert_int_equal(strncmp(end + strlen(rest), uri, strlen(uri)), 0);
}

/* Each variant: its line in the master, its playlist where output_key.h
 * says, and its first segment's streams. */
static void assert_variant(const job_t *j, const plan_output_t *o, const char *master, geometry_size_t v,
                           const char *codecs)
{
    assert_master_line(master, v, j->probe.has_audio);
    buf_t key, text;
    buf_init(&key, 0);
    buf_init(&text, 0);
    assert_true(output_key_hls_variant(VIDEO_DIR "/a.mp4", o->template_name, v.width, v.height, &key));
    read_text(out_path(j, key.data), &text);
    assert_non_null(strstr(text.data, "#EXT-X-PLAYLIST-TYPE:VOD\n"));
    assert_non_null(strstr(text.data, "\nseg_00000.ts\n"));
    assert_true(fabs(playlist_duration(text.data) - j->probe.duration) < 0.3);
    char segment[2048];
    snprintf(segment, sizeof(segment), "%s", out_path(j, key.data));
    snprintf(strrchr(segment, '/'), 32, "/seg_00000.ts");
    assert_media(segment, codecs, v.width, v.height, j->probe.duration);
    buf_free(&key);
    buf_free(&text);
}

static size_t count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *s = strstr(text, what); s; s = strstr(s + 1, what))
        n++;
    return n;
}

/* The HLS output of template_name: its master, with one variant per
 * rendition (sizes in order). */
static void assert_hls(const job_t *j, const char *template_name, const char *codecs, const geometry_size_t *sizes,
                       size_t n)
{
    const plan_output_t *o = find_output(j, PLAN_OUTPUT_HLS, template_name);
    buf_t master;
    buf_init(&master, 0);
    read_text(out_path(j, o->key), &master);
    assert_true(strncmp(master.data, "#EXTM3U\n", 8) == 0);
    assert_int_equal(count(master.data, "#EXT-X-STREAM-INF:"), n);
    assert_int_equal(o->variant_count, n);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(o->variants[i].width, sizes[i].width);
        assert_int_equal(o->variants[i].height, sizes[i].height);
        assert_variant(j, o, master.data, sizes[i], codecs);
    }
    assert_int_equal(o->width, sizes[0].width); /* the largest comes first here */
    assert_int_equal(o->height, sizes[0].height);
    buf_free(&master);
}

static void test_hls_ladder(void **state)
{
    (void)state;
    plan_spec_t *spec = new_plan(false);
    spec_template_t *t = add_template(spec, "hd", SPEC_CONTAINER_HLS, SPEC_VIDEO_H264, SPEC_AUDIO_AAC);
    add_rendition(t, 320, 240);
    add_rendition(t, 256, 144); /* a 16:9 box: the 4:3 source fits it at 192x144 */
    add_rendition(t, 160, 120);
    job_t *j = run_plan("clip.mp4", spec);
    static const geometry_size_t sizes[] = {{320, 240}, {192, 144}, {160, 120}};
    assert_hls(j, "hd", "h264,aac", sizes, 3);
    assert_string_equal(find_output(j, PLAN_OUTPUT_HLS, "hd")->key, VIDEO_DIR "/hd/index.m3u8");
    assert_int_equal(j->plan.output_count, 1); /* no snapshot step: no cover */
    job_free(j);
}

/* ---- watermark ---- */

/* Red inside the rectangle [x0, x1) x [y0, y1) (the watermark, 32x16),
 * black around it; `red` is the red channel expected inside.  Edges are
 * kept 2 pixels clear of 4:2:0 chroma and compression at the border. */
static void assert_red_box(const unsigned char *rgb, int width, int x0, int y0, int red)
{
    static const int inside[][2] = {{2, 2}, {16, 8}, {29, 13}};
    static const int outside[][2] = {{-3, 8}, {35, 8}, {16, -3}, {16, 19}, {-3, -3}, {35, 19}};
    for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
        const unsigned char *p = pixel(rgb, width, x0 + inside[i][0], y0 + inside[i][1]);
        if (abs(p[0] - red) > 30 || p[1] > 40 || p[2] > 40)
            fail_msg("(%d,%d) is %d,%d,%d, want red %d", x0 + inside[i][0], y0 + inside[i][1], p[0], p[1], p[2], red);
    }
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        const unsigned char *p = pixel(rgb, width, x0 + outside[i][0], y0 + outside[i][1]);
        if (!is_black(p))
            fail_msg("(%d,%d) is %d,%d,%d, want black", x0 + outside[i][0], y0 + outside[i][1], p[0], p[1], p[2]);
    }
}

/* Nothing but the box is drawn: every pixel outside it, 2 pixels clear, is black. */
static void assert_only_box(const unsigned char *rgb, int width, int height, int x0, int y0)
{
    for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++) {
            bool near = x >= x0 - 2 && x < x0 + 34 && y >= y0 - 2 && y < y0 + 18;
            if (!near && !is_black(pixel(rgb, width, x, y)))
                fail_msg("(%d,%d) is not black", x, y);
        }
}

static void test_watermark_pixels(void **state)
{
    (void)state;
    static unsigned char rgb[RGB_MAX];
    /* Top-left at offsets 10, 20, opaque, on the default rendition. */
    plan_spec_t *spec = new_plan(false);
    plan_default_template(&add_step(spec, SPEC_STEP_TRANSCODE, PLAN_DEFAULT_TEMPLATE)->u.template_spec);
    add_watermark(spec, SPEC_POSITION_TOP_LEFT, 10, 20, 1.0);
    job_t *j = run_plan("black.mp4", spec);
    const char *path = out_path(j, VIDEO_DIR "/" PLAN_DEFAULT_TEMPLATE "/320x240.mp4");
    for (int k = 0; k < 2; k++) { /* the first frame and the last: the still image lasts */
        read_frame(path, k ? 0.9 : 0, 320, 240, rgb);
        assert_red_box(rgb, 320, 10, 20, 255);
        assert_only_box(rgb, 320, 240, 10, 20);
    }
    job_free(j);
    /* Bottom-right at offsets 10, 20, half opaque, on a smaller rendition. */
    spec = new_plan(false);
    add_rendition(add_template(spec, "sd", SPEC_CONTAINER_MP4, SPEC_VIDEO_H264, SPEC_AUDIO_AAC), 160, 120);
    add_watermark(spec, SPEC_POSITION_BOTTOM_RIGHT, 10, 20, 0.5);
    j = run_plan("black.mp4", spec);
    read_frame(out_path(j, VIDEO_DIR "/sd/160x120.mp4"), 0.5, 160, 120, rgb);
    assert_red_box(rgb, 160, 160 - 10 - 32, 120 - 20 - 16, 128); /* drawn at its own size, not scaled */
    assert_only_box(rgb, 160, 120, 160 - 10 - 32, 120 - 20 - 16);
    job_free(j);
}

/* ---- subtitles ---- */

static void test_burned_subtitle_bottom_band(void **state)
{
    (void)state;
    static unsigned char rgb[RGB_MAX];
    plan_spec_t *spec = new_plan(false);
    add_rendition(add_template(spec, "sd", SPEC_CONTAINER_MP4, SPEC_VIDEO_H264, SPEC_AUDIO_AAC), 320, 240);
    add_subtitle(spec, SPEC_SUBTITLE_BURN);
    job_t *j = run_plan("black.mp4", spec);
    read_frame(out_path(j, VIDEO_DIR "/sd/320x240.mp4"), 0.5, 320, 240, rgb);
    int top = 240, bottom = -1, left = 320, right = -1;
    for (int y = 0; y < 240; y++)
        for (int x = 0; x < 320; x++)
            if (!is_black(pixel(rgb, 320, x, y))) {
                top = y < top ? y : top, bottom = y > bottom ? y : bottom;
                left = x < left ? x : left, right = x > right ? x : right;
            }
    print_message("  text drawn in x %d..%d, y %d..%d\n", left, right, top, bottom);
    assert_true(bottom >= 0);       /* drawn */
    assert_true(top >= 240 * 3 / 4); /* only in the bottom band */
    assert_true(abs((left + right) / 2 - 160) < 16); /* centred */
    job_free(j);
}

static void test_soft_subtitle(void **state)
{
    (void)state;
    plan_spec_t *spec = new_plan(false);
    add_rendition(add_template(spec, "hd", SPEC_CONTAINER_HLS, SPEC_VIDEO_H264, SPEC_AUDIO_AAC), 160, 120);
    add_rendition(add_template(spec, "sd", SPEC_CONTAINER_MP4, SPEC_VIDEO_H264, SPEC_AUDIO_AAC), 160, 120);
    add_subtitle(spec, SPEC_SUBTITLE_SOFT);
    job_t *j = run_plan("clip.mp4", spec);
    const plan_output_t *vtt = find_output(j, PLAN_OUTPUT_VTT, "");
    assert_string_equal(vtt->key, VIDEO_DIR "/subtitles/en.vtt");
    buf_t text, out;
    buf_init(&text, 0);
    buf_init(&out, 0);
    read_text(out_path(j, vtt->key), &text);
    assert_true(strncmp(text.data, "WEBVTT", 6) == 0);
    assert_non_null(strstr(text.data, "00:00.000 --> 00:02.000\n" SUBTITLE_TEXT));
    /* The mp4 is not burned into: its picture is the source's. */
    assert_file_output(j, "sd", "h264,aac", 160, 120);
    /* The worker's step after the run: the master gains the group (hls.h). */
    const plan_output_t *hls = find_output(j, PLAN_OUTPUT_HLS, "hd");
    assert_true(hls->soft_subtitle);
    assert_string_equal(hls->language, "en");
    read_text(out_path(j, hls->key), &text);
    assert_true(hls_master_add_subtitles(text.data, text.len, hls->language, &out));
    assert_non_null(strstr(out.data, "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"en\""));
    assert_non_null(strstr(out.data, "mp4a.40.2\",SUBTITLES=\"subs\"\n160x120/index.m3u8\n"));
    job_free(j);
    buf_free(&text);
    buf_free(&out);
}

/* ---- sources of every shape ---- */

static void test_rotated_source_portrait(void **state)
{
    (void)state;
    plan_spec_t *spec = new_plan(true);
    add_rendition(add_template(spec, "sd", SPEC_CONTAINER_MP4, SPEC_VIDEO_H264, SPEC_AUDIO_AAC), 320, 240);
    add_rendition(add_template(spec, "hd", SPEC_CONTAINER_HLS, SPEC_VIDEO_H264, SPEC_AUDIO_AAC), 160, 120);
    job_t *j = run_plan("rotated.mp4", spec);
    assert_int_equal(j->probe.rotation, 90);
    assert_file_output(j, "sd", "h264,aac", 240, 320);
    static const geometry_size_t sizes[] = {{120, 160}};
    assert_hls(j, "hd", "h264,aac", sizes, 1);
    char line[256];
    ffprobe_video(out_path(j, VIDEO_DIR "/cover.jpg"), "stream=width,height", line, sizeof(line));
    assert_string_equal(line, "240,320");
    job_free(j);
}

static void test_video_only_source(void **state)
{
    (void)state;
    plan_spec_t *spec = new_plan(false);
    add_rendition(add_template(spec, "sd", SPEC_CONTAINER_MP4, SPEC_VIDEO_H264, SPEC_AUDIO_AAC), 320, 240);
    add_rendition(add_template(spec, "hd", SPEC_CONTAINER_HLS, SPEC_VIDEO_H264, SPEC_AUDIO_AAC), 160, 120);
    job_t *j = run_plan("video-only.mp4", spec);
    assert_false(j->probe.has_audio);
    assert_file_output(j, "sd", "h264", 320, 240);
    static const geometry_size_t sizes[] = {{160, 120}};
    assert_hls(j, "hd", "h264", sizes, 1);
    job_free(j);
}

/* 641x359: even sides, and larger boxes do not upscale: a ladder above the
 * source collapses to one output. */
static void test_odd_source(void **state)
{
    (void)state;
    plan_spec_t *spec = new_plan(false);
    plan_default_template(&add_step(spec, SPEC_STEP_TRANSCODE, PLAN_DEFAULT_TEMPLATE)->u.template_spec);
    spec_template_t *t = add_template(spec, "hd", SPEC_CONTAINER_MP4, SPEC_VIDEO_H264, SPEC_AUDIO_AAC);
    add_rendition(t, 1920, 1080);
    add_rendition(t, 1280, 720);
    job_t *j = run_plan("odd.mp4", spec);
    assert_int_equal(j->probe.display_width, 641);
    assert_int_equal(j->plan.output_count, 2);
    assert_file_output(j, PLAN_DEFAULT_TEMPLATE, "h264", 640, 358);
    assert_file_output(j, "hd", "h264", 640, 358);
    job_free(j);
}

/* The cover is fitted by ffmpeg's own scale expressions (it runs before the
 * probe): on odd, large and portrait sources they give the size the plan
 * lists, which is geometry_fit's. */
static void test_cover_size_is_listed_size(void **state)
{
    (void)state;
    static const struct {
        const char *source;
        int width, height;
    } cases[] = {{"odd.mp4", 640, 358}, {"wide.mp4", 1920, 958}, {"tall.mp4", 1080, 1918}, {"rotated.mp4", 240, 320}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        job_t *j = run_plan(cases[i].source, new_plan(true));
        const plan_output_t *cover = find_output(j, PLAN_OUTPUT_COVER, "");
        char line[64], want[64];
        ffprobe_video(out_path(j, cover->key), "stream=width,height", line, sizeof(line));
        snprintf(want, sizeof(want), "%d,%d", cover->width, cover->height);
        assert_string_equal(line, want);
        snprintf(want, sizeof(want), "%d,%d", cases[i].width, cases[i].height);
        assert_string_equal(line, want);
        job_free(j);
    }
}

/* ---- keyed outputs (a fops') ---- */

/* The mean absolute difference of two RGB pictures. */
static double rgb_distance(const unsigned char *a, const unsigned char *b, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += abs(a[i] - b[i]);
    return sum / (double)n;
}

/* A picture as width*height RGB triplets: path's first (a JPEG: no seek,
 * which ffmpeg 5.1 answers with no frame at all on a single image), or the
 * source's at `at` s, scaled as the frame is. */
static void picture_rgb(const char *path, double at, int width, int height, unsigned char *rgb)
{
    char cmd[3200], raw[512], seek[32] = "";
    snprintf(raw, sizeof(raw), "%s/picture.rgb", dir);
    if (at >= 0)
        snprintf(seek, sizeof(seek), "-ss %.2f", at);
    snprintf(cmd, sizeof(cmd), FFMPEG " -nostdin -v error -y %s -i '%s' -frames:v 1 -vf scale=%d:%d "
             "-f rawvideo -pix_fmt rgb24 '%s'", seek, path, width, height, raw);
    assert_int_equal(system(cmd), 0);
    FILE *f = fopen(raw, "rb");
    assert_non_null(f);
    assert_int_equal(fread(rgb, 1, (size_t)width * height * 3, f), (size_t)width * height * 3);
    fclose(f);
}

/* A frame at 3.5 s in a 100-wide box: 100x74, at its key, and the source's
 * picture of that time, not of another. */
static void assert_keyed_frame(const job_t *j)
{
    static unsigned char got[100 * 74 * 3], want[100 * 74 * 3], early[100 * 74 * 3];
    const plan_output_t *o = find_output(j, PLAN_OUTPUT_FRAME, "");
    assert_string_equal(o->key, VIDEO_DIR "/thumbs/at.jpg");
    assert_int_equal(o->width, 100);
    assert_int_equal(o->height, 74); /* 320x240 at 100 wide: 75, evened */
    char line[64];
    ffprobe_video(out_path(j, o->key), "stream=codec_name,width,height", line, sizeof(line));
    assert_string_equal(line, "mjpeg,100,74");
    picture_rgb(out_path(j, o->key), -1, 100, 74, got);
    picture_rgb(media("long.mp4"), 3.5, 100, 74, want);
    picture_rgb(media("long.mp4"), 0.5, 100, 74, early);
    double near = rgb_distance(got, want, sizeof(got)), far = rgb_distance(got, early, sizeof(got));
    print_message("  frame vs the source at 3.5 s: %.2f, at 0.5 s: %.2f\n", near, far);
    assert_true(near < 12 && far > 3 * near); /* JPEG loss is ~5; another time is ~35 */
}

/* A keyed HLS ladder with 2 s segments on a 6 s source: its master at its
 * key, each variant <W>x<H>/hd.m3u8 with three segments hd_0000N.ts, and
 * nothing under vodup's own names. */
static void assert_keyed_hls(const job_t *j)
{
    const plan_output_t *o = find_output(j, PLAN_OUTPUT_HLS, "fops1");
    assert_string_equal(o->key, VIDEO_DIR "/out/hd.m3u8");
    buf_t text;
    buf_init(&text, 0);
    read_text(out_path(j, o->key), &text);
    assert_non_null(strstr(text.data, "\n320x240/hd.m3u8\n"));
    assert_non_null(strstr(text.data, "\n160x120/hd.m3u8\n"));
    static const char *const variants[] = {"320x240", "160x120"};
    char key[512];
    for (size_t v = 0; v < 2; v++) {
        snprintf(key, sizeof(key), VIDEO_DIR "/out/%s/hd.m3u8", variants[v]);
        read_text(out_path(j, key), &text);
        assert_non_null(strstr(text.data, "#EXT-X-TARGETDURATION:2\n"));
        assert_int_equal(count(text.data, "#EXTINF:"), 3);
        assert_non_null(strstr(text.data, "\nhd_00002.ts\n"));
        for (int n = 0; n < 3; n++) {
            snprintf(key, sizeof(key), VIDEO_DIR "/out/%s/hd_%05d.ts", variants[v], n);
            assert_int_equal(access(out_path(j, key), R_OK), 0);
        }
        snprintf(key, sizeof(key), VIDEO_DIR "/out/%s/seg_00000.ts", variants[v]);
        assert_int_not_equal(access(out_path(j, key), F_OK), 0);
        snprintf(key, sizeof(key), VIDEO_DIR "/out/%s/index.m3u8", variants[v]);
        assert_int_not_equal(access(out_path(j, key), F_OK), 0);
    }
    buf_free(&text);
}

static void test_keyed_outputs(void **state)
{
    (void)state;
    plan_spec_t *spec = new_plan(true);
    plan_step_t *hls = add_step(spec, SPEC_STEP_TRANSCODE, "fops1");
    spec_template_init(&hls->u.template_spec, SPEC_CONTAINER_HLS);
    add_rendition(&hls->u.template_spec, 320, 240);
    add_rendition(&hls->u.template_spec, 160, 120);
    snprintf(hls->key, sizeof(hls->key), "out/hd.m3u8");
    hls->segment_seconds = 2;
    plan_step_t *frame = add_step(spec, SPEC_STEP_SNAPSHOT, "");
    snprintf(frame->key, sizeof(frame->key), "thumbs/at.jpg");
    frame->at_ms = 3500;
    frame->width = 100;
    job_t *j = run_plan("long.mp4", spec);
    assert_int_equal(j->plan.output_count, 3); /* the cover, the frame, the HLS output */
    assert_keyed_hls(j);
    assert_keyed_frame(j);
    static const int types[] = {STORE_OUTPUT_COVER, STORE_OUTPUT_JPG, STORE_OUTPUT_HLS};
    for (size_t i = 0; i < j->plan.output_count; i++) {
        output_measure_t m;
        char err[512] = "";
        if (!output_check(j->work, &j->plan.outputs[i], j->probe.duration, j->probe.duration, &m, err, sizeof(err)))
            fail_msg("%s: %s", j->plan.outputs[i].key, err);
        assert_int_equal(m.type, types[i]);
        assert_true(m.size > 0);
    }
    job_free(j);
}

/* ---- setup ---- */

static int group_setup(void **state)
{
    (void)state;
    if (!unit_tmpdir_make(dir, sizeof(dir), "plan-media"))
        return -1;
    snprintf(data_dir, sizeof(data_dir), "%s/" DATA_NAME, dir);
    make("clip.mp4", "-f lavfi -i testsrc2=s=320x240:d=2 -f lavfi -i sine=d=2 -shortest -c:v libx264 "
                     "-preset ultrafast -c:a aac");
    make("long.mp4", "-f lavfi -i testsrc2=s=320x240:d=6 -f lavfi -i sine=d=6 -shortest -c:v libx264 "
                     "-preset ultrafast -c:a aac");
    make("black.mp4", "-f lavfi -i color=c=black:s=320x240:d=1 -c:v libx264 -preset ultrafast");
    make("video-only.mp4", "-f lavfi -i testsrc2=s=320x240:d=1 -c:v libx264 -preset ultrafast");
    /* lavfi sources round to even sizes in yuv420p: scale after, in 4:4:4. */
    make("odd.mp4", "-f lavfi -i testsrc2=s=640x360:d=1 -vf scale=641:359 -pix_fmt yuv444p -c:v libx264 "
                    "-preset ultrafast");
    make("wide.mp4", "-f lavfi -i testsrc2=s=640x360:d=1:r=5 -vf scale=2001:999 -pix_fmt yuv444p -c:v libx264 "
                     "-preset ultrafast");
    make("tall.mp4", "-f lavfi -i testsrc2=s=360x640:d=1:r=5 -vf scale=1081:1921 -pix_fmt yuv444p -c:v libx264 "
                     "-preset ultrafast");
    char args[600];
    /* A display matrix of 90 degrees (the rotate tag is written as one). */
    snprintf(args, sizeof(args), "-i '%s' -c copy -metadata:s:v:0 rotate=90", media("clip.mp4"));
    make("rotated.mp4", args);
    make("red.png", "-f lavfi -i color=c=red:s=32x16 -frames:v 1");
    place("red.png", WATERMARK_IMAGE);
    write_text(media("en.srt"), "1\n00:00:00,000 --> 00:00:02,000\n" SUBTITLE_TEXT "\n");
    place("en.srt", SUBTITLE_FILE);
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
        fprintf(stderr, "test_plan_media: %s and %s are required (scripts/install-deps.sh)\n", FFMPEG, FFPROBE);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_renditions_and_cover),
        cmocka_unit_test(test_hls_ladder),
        cmocka_unit_test(test_watermark_pixels),
        cmocka_unit_test(test_burned_subtitle_bottom_band),
        cmocka_unit_test(test_soft_subtitle),
        cmocka_unit_test(test_rotated_source_portrait),
        cmocka_unit_test(test_video_only_source),
        cmocka_unit_test(test_odd_source),
        cmocka_unit_test(test_cover_size_is_listed_size),
        cmocka_unit_test(test_keyed_outputs),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
