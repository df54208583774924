/*
 * plan: a frozen plan + the source's probe -> ffmpeg command lines and the
 * outputs they make (see plan.h for the runs and the encoding rules).
 *
 * Everything here is pure string building: no file is read, nothing runs,
 * so every argument list is a table test (tests/unit/test_plan.c) and the
 * media test (test_plan_media.c) runs the same lists on real files.  Nothing
 * a request sent reaches a command line: the names that become paths were
 * checked by spec.h and output_key.h, and the only free text (the data and
 * work directories, from the configuration) is escaped where a filter graph
 * reads it.
 */
#define _GNU_SOURCE /* asprintf, vasprintf */
#include "process/plan.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "process/output_key.h"

#define PLAN_RUNGS_MAX ((size_t)PLAN_RENDITIONS_MAX)
/* Demuxers a watermark image and a subtitle file may be opened with: the
 * source's whitelist would let a playlist or a video pass as either. */
#define PLAN_IMAGE_FORMAT_WHITELIST "image2,png_pipe,jpeg_pipe,webp_pipe,bmp_pipe,gif"
#define PLAN_SUBTITLE_FORMAT_WHITELIST "srt,webvtt,ass"
/* libass draws burned text with it; scripts/install-deps.sh installs it. */
#define PLAN_SUBTITLE_FONT "DejaVu Sans"
#define PLAN_KEYFRAMES "expr:gte(t,n_forced*2)" /* PLAN_KEYFRAME_S */
#define PLAN_FPS_UNKNOWN 25.0
#define PLAN_COVER_QUALITY "2" /* mjpeg -q:v: 2 is near the best, still small at 1080p */

/* ---- argument lists ---- */

typedef struct plan_args {
    char **v;
    size_t n, alloc;
    bool failed; /* out of memory: every later append is a no-op */
} plan_args_t;

static void plan_args_push(plan_args_t *a, char *s)
{
    if (!s || a->failed) {
        free(s);
        a->failed = true;
        return;
    }
    if (a->n + 2 > a->alloc) {
        size_t alloc = a->alloc ? 2 * a->alloc : 64;
        char **v = realloc(a->v, alloc * sizeof(*v));
        if (!v) {
            free(s);
            a->failed = true;
            return;
        }
        a->v = v;
        a->alloc = alloc;
    }
    a->v[a->n++] = s;
    a->v[a->n] = NULL;
}

static void plan_arg(plan_args_t *a, const char *s)
{
    plan_args_push(a, s ? strdup(s) : NULL);
}

__attribute__((format(printf, 2, 3))) static void plan_argf(plan_args_t *a, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    plan_args_push(a, s);
}

static void plan_args_add(plan_args_t *a, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        plan_arg(a, list[i]);
}

/* Appends literal arguments: PLAN_ARGS(a, "-f", "mp4"). */
#define PLAN_ARGS(a, ...)                                                                                         \
    plan_args_add((a), (const char *const[]){__VA_ARGS__},                                                        \
                  sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))
#define PLAN_STRINGIFY(x) #x
#define PLAN_STR(x) PLAN_STRINGIFY(x)

static void plan_args_free(plan_args_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* ---- what the build works from ---- */

/* One rendition of one transcode step: an output file, or an HLS variant. */
typedef struct plan_rung {
    const plan_step_t *step;
    geometry_size_t size;
    int kbps;   /* the video bitrate; 0 for copy */
    size_t pad; /* its picture in the graph is [v<pad>]; unused for copy */
} plan_rung_t;

typedef struct plan_ctx {
    const plan_input_t *in;
    plan_t *p;
    const spec_watermark_t *watermark; /* NULL: none */
    const spec_subtitle_t *burn;       /* a burned subtitle, NULL: none */
    const spec_subtitle_t *soft;       /* a soft subtitle, NULL: none */
    int watermark_input, soft_input;   /* ffmpeg's input index; -1: none */
    plan_rung_t rungs[PLAN_RUNGS_MAX];
    size_t rung_count;
    size_t filtered; /* rungs drawn through the graph (all but copies) */
    char *err;
    size_t errlen;
} plan_ctx_t;

__attribute__((format(printf, 2, 3))) static bool plan_fail(plan_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (c->errlen)
        vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return false;
}

static bool plan_is_copy(const plan_step_t *s)
{
    return s->u.template_spec.video_codec == SPEC_VIDEO_COPY;
}

/* Copies a key built by output_key.h into an output; false when it could
 * not be built or does not fit. */
static bool plan_set_key(plan_output_t *o, bool built, const buf_t *key)
{
    if (!built || !key->data || key->len >= sizeof(o->key))
        return false;
    memcpy(o->key, key->data, key->len + 1);
    return true;
}

static plan_output_t *plan_add_output(plan_t *p, enum plan_output_kind kind)
{
    if (p->output_count >= PLAN_OUTPUTS_MAX)
        return NULL;
    plan_output_t *o = &p->outputs[p->output_count++];
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    return o;
}

static bool plan_add_run(plan_ctx_t *c, plan_args_t *a, bool transcode, bool cover)
{
    plan_t *p = c->p;
    if (a->failed || p->run_count >= PLAN_RUNS_MAX) {
        plan_args_free(a);
        return plan_fail(c, "%s: out of memory", transcode ? "transcode" : "snapshot");
    }
    p->runs[p->run_count++] = (plan_run_t){.argv = a->v, .argc = a->n, .transcode = transcode, .cover = cover};
    memset(a, 0, sizeof(*a));
    return true;
}

/* ---- bitrates and sizes ---- */

int plan_default_bitrate(int width, int height)
{
    static const int table[][2] = {{240, 400},   {360, 800},   {480, 1200},  {720, 2500},
                                   {1080, 5000}, {1440, 8000}, {2160, 14000}};
    const size_t n = sizeof(table) / sizeof(table[0]);
    int h = width < height ? width : height;
    if (h <= 0)
        return table[0][1];
    if (h < table[0][0]) /* below the first step: in proportion to it */
        return (int)lround((double)table[0][1] * h / table[0][0]);
    for (size_t i = 0; i + 1 < n; i++)
        if (h < table[i + 1][0])
            return (int)lround(table[i][1] + (double)(table[i + 1][1] - table[i][1]) * (h - table[i][0]) /
                                                 (table[i + 1][0] - table[i][0]));
    return table[n - 1][1];
}

/* A rendition's size.  Its box is orientation-free (geometry.h); a side of
 * 0 "keeps the source's", i.e. does not bound the picture, which
 * geometry_fit then never scales past the source. */
static bool plan_rung_size(const probe_result_t *probe, const spec_rendition_t *r, bool copy, geometry_size_t *out)
{
    geometry_size_t src = {probe->display_width, probe->display_height};
    if (copy) { /* passed through as it is, odd sides included */
        *out = src;
        return src.width > 0 && src.height > 0;
    }
    geometry_size_t box = {r->width ? r->width : SPEC_DIMENSION_MAX, r->height ? r->height : SPEC_DIMENSION_MAX};
    return geometry_fit(src, box, out);
}

/* A template's renditions that collapse to one size (a ladder above a
 * small source: nothing is upscaled) make one output, not several
 * writing the same key. */
static bool plan_rung_exists(const plan_ctx_t *c, const plan_step_t *step, geometry_size_t size)
{
    for (size_t i = 0; i < c->rung_count; i++)
        if (c->rungs[i].step == step && c->rungs[i].size.width == size.width &&
            c->rungs[i].size.height == size.height)
            return true;
    return false;
}

static bool plan_add_rungs(plan_ctx_t *c, const plan_step_t *step)
{
    const spec_template_t *t = &step->u.template_spec;
    bool copy = plan_is_copy(step);
    for (size_t i = 0; i < t->rendition_count && i < SPEC_RENDITIONS_MAX; i++) {
        const spec_rendition_t *r = &t->renditions[i];
        geometry_size_t size;
        if (!plan_rung_size(c->in->probe, r, copy, &size))
            return plan_fail(c, "transcode: the source has no picture size");
        if (plan_rung_exists(c, step, size) || c->rung_count >= PLAN_RUNGS_MAX)
            continue;
        int kbps = copy ? 0 : r->video_bitrate ? r->video_bitrate : plan_default_bitrate(size.width, size.height);
        c->rungs[c->rung_count++] = (plan_rung_t){step, size, kbps, copy ? 0 : c->filtered++};
    }
    return true;
}

/* A copied picture cannot be drawn on. */
static bool plan_check_copy(plan_ctx_t *c, const plan_step_t *step)
{
    if (!plan_is_copy(step))
        return true;
    if (c->watermark)
        return plan_fail(c, "transcode: template \"%s\" copies the video, so it cannot carry a watermark", step->name);
    if (c->burn)
        return plan_fail(c, "transcode: template \"%s\" copies the video, so it cannot carry a burned subtitle",
                         step->name);
    return true;
}

/* ---- filter graph ---- */

/* Appends c to out, after a backslash when it is one of specials. */
static bool plan_escape_put(char c, const char *specials, char *out, size_t len, size_t *n)
{
    bool special = strchr(specials, c) != NULL;
    if (*n + 1 + special >= len)
        return false;
    if (special)
        out[(*n)++] = '\\';
    out[(*n)++] = c;
    return true;
}

/* Two escapings, the inner one first: the option value's (\ ' and the
 * ':' that separates options), then the graph's (\ ' and [ ] , ;) over
 * the result, so "a:b" becomes a\\:b and "it's" it\\\'s. */
bool plan_filter_escape(const char *in, char *out, size_t len)
{
    static const char graph[] = "\\'[],;";
    size_t n = 0;
    if (!in || len == 0)
        return false;
    for (const char *s = in; *s; s++) {
        bool option = *s == '\\' || *s == '\'' || *s == ':';
        if ((option && !plan_escape_put('\\', graph, out, len, &n)) || !plan_escape_put(*s, graph, out, len, &n))
            return false;
    }
    out[n] = '\0';
    return true;
}

/* Where the watermark sits: its offsets from the position's edges (the
 * centre has no edges, so offsets do not move it). */
static void plan_overlay_xy(const spec_watermark_t *w, char *out, size_t len)
{
    bool right = w->position == SPEC_POSITION_TOP_RIGHT || w->position == SPEC_POSITION_BOTTOM_RIGHT;
    bool bottom = w->position == SPEC_POSITION_BOTTOM_LEFT || w->position == SPEC_POSITION_BOTTOM_RIGHT;
    if (w->position == SPEC_POSITION_CENTER)
        snprintf(out, len, "x=(main_w-overlay_w)/2:y=(main_h-overlay_h)/2");
    else
        snprintf(out, len, "x=%s%d:y=%s%d", right ? "main_w-overlay_w-" : "", w->offset_x,
                 bottom ? "main_h-overlay_h-" : "", w->offset_y);
}

/* "file:<dir>/<path>" escaped for a filter graph, malloc'd; NULL when out
 * of memory. */
static char *plan_filter_path(const char *dir, const char *path)
{
    char *raw = NULL, *escaped = NULL;
    if (asprintf(&raw, "file:%s/%s", dir, path) < 0)
        return NULL;
    size_t len = 4 * strlen(raw) + 1; /* at worst a byte becomes four: \\ and ' */
    escaped = malloc(len);
    if (escaped && !plan_filter_escape(raw, escaped, len)) {
        free(escaped);
        escaped = NULL;
    }
    free(raw);
    return escaped;
}

/* [0:V:0] (the first picture that is not cover art), the burned subtitle
 * drawn once at the source's size, then one split per rendition. */
static bool plan_graph_source(plan_ctx_t *c, buf_t *g)
{
    bool ok = buf_append_str(g, "[0:V:0]");
    if (c->burn) {
        char *escaped = plan_filter_path(c->in->data_dir, c->burn->file);
        ok = ok && escaped &&
             buf_printf(g, "subtitles=filename=%s:force_style=FontName=%s,", escaped, PLAN_SUBTITLE_FONT);
        free(escaped);
    }
    ok = ok && buf_printf(g, "split=%zu", c->filtered);
    for (size_t i = 0; i < c->filtered; i++)
        ok = ok && buf_printf(g, "[s%zu]", i);
    return ok || plan_fail(c, "transcode: out of memory");
}

/* The watermark made translucent once, then split like the picture. */
static bool plan_graph_watermark(plan_ctx_t *c, buf_t *g)
{
    bool ok = buf_printf(g, ";[%d:v:0]format=rgba,colorchannelmixer=aa=%.4g,split=%zu", c->watermark_input,
                         c->watermark->opacity, c->filtered);
    for (size_t i = 0; i < c->filtered; i++)
        ok = ok && buf_printf(g, "[w%zu]", i);
    return ok || plan_fail(c, "transcode: out of memory");
}

static bool plan_graph_rung(plan_ctx_t *c, const plan_rung_t *r, buf_t *g)
{
    char xy[128];
    bool ok = buf_printf(g, ";[s%zu]scale=%d:%d,setsar=1", r->pad, r->size.width, r->size.height);
    if (c->watermark) {
        plan_overlay_xy(c->watermark, xy, sizeof(xy));
        ok = ok && buf_printf(g, "[t%zu];[t%zu][w%zu]overlay=%s", r->pad, r->pad, r->pad, xy);
    }
    ok = ok && buf_printf(g, "[v%zu]", r->pad);
    return ok || plan_fail(c, "transcode: out of memory");
}

static bool plan_graph(plan_ctx_t *c, plan_args_t *a)
{
    if (c->filtered == 0) /* every rendition copies the video */
        return true;
    buf_t g;
    buf_init(&g, 0);
    bool ok = plan_graph_source(c, &g) && (!c->watermark || plan_graph_watermark(c, &g));
    for (size_t i = 0; ok && i < c->rung_count; i++)
        ok = plan_is_copy(c->rungs[i].step) || plan_graph_rung(c, &c->rungs[i], &g);
    if (ok) {
        plan_arg(a, "-filter_complex");
        plan_arg(a, g.data);
    }
    buf_free(&g);
    return ok;
}

/* ---- inputs ---- */

static void plan_add_common(const plan_input_t *in, plan_args_t *a)
{
    plan_arg(a, in->ffmpeg);
    PLAN_ARGS(a, "-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y", "-progress", "pipe:1");
}

/* -protocol_whitelist file -format_whitelist <formats> [-max_pixels N] -i file:<path> */
static void plan_add_input(const plan_input_t *in, plan_args_t *a, const char *formats, bool bounded,
                           const char *dir, const char *path)
{
    PLAN_ARGS(a, "-protocol_whitelist", "file", "-format_whitelist", formats);
    if (bounded && in->max_pixels > 0) {
        plan_arg(a, "-max_pixels");
        plan_argf(a, "%lld", (long long)in->max_pixels);
    }
    plan_arg(a, "-i");
    plan_argf(a, "file:%s%s%s", dir ? dir : "", dir ? "/" : "", path);
}

/* The source, then the watermark image and the soft subtitle's file when
 * the run reads them; their input indexes go to c. */
static void plan_add_inputs(plan_ctx_t *c, plan_args_t *a)
{
    const plan_input_t *in = c->in;
    int next = 1;
    plan_add_input(in, a, PROBE_FORMAT_WHITELIST, true, NULL, in->source);
    if (c->watermark && c->filtered) {
        c->watermark_input = next++;
        plan_add_input(in, a, PLAN_IMAGE_FORMAT_WHITELIST, true, in->data_dir, c->watermark->image);
    }
    if (c->soft) {
        c->soft_input = next++;
        plan_add_input(in, a, PLAN_SUBTITLE_FORMAT_WHITELIST, false, in->data_dir, c->soft->file);
    }
}

/* ---- encoding ---- */

static const char *plan_video_encoder(enum spec_video_codec v)
{
    static const char *const names[] = {"libx264", "libx265", "libvpx-vp9", "libsvtav1", "copy"};
    return names[v];
}

static const char *plan_audio_encoder(enum spec_audio_codec a)
{
    static const char *const names[] = {"aac", "libopus", "libmp3lame", "copy"};
    return names[a];
}

static int plan_audio_kbps(const spec_template_t *t)
{
    if (t->audio_bitrate)
        return t->audio_bitrate;
    return t->audio_codec == SPEC_AUDIO_OPUS ? 96 : 128;
}

/* Each encoder's speed settings (plan.h). */
static const char *const plan_encoder_options[][7] = {
    [SPEC_VIDEO_H264] = {"-preset:v", "veryfast"},
    /* Without log-level, x265 prints its settings to stderr, where the
     * failure reason is read. */
    [SPEC_VIDEO_H265] = {"-preset:v", "veryfast", "-x265-params:v", "log-level=error"},
    [SPEC_VIDEO_VP9] = {"-deadline:v", "realtime", "-cpu-used:v", "8", "-row-mt:v", "1"},
    [SPEC_VIDEO_AV1] = {"-preset:v", "10"},
};

static void plan_add_encoder_options(const plan_ctx_t *c, const spec_template_t *t, plan_args_t *a)
{
    for (const char *const *o = plan_encoder_options[t->video_codec]; *o; o++)
        plan_arg(a, *o);
    if (t->video_codec == SPEC_VIDEO_H265 && t->container == SPEC_CONTAINER_MP4) {
        plan_arg(a, "-tag:v"); /* what Apple players require of HEVC in MP4 */
        plan_arg(a, "hvc1");
    }
    if (t->video_codec == SPEC_VIDEO_AV1) {
        /* ffmpeg 5.1's libsvtav1 ignores forced key frames: its GOP places them. */
        double fps = c->in->probe->frame_rate > 0 ? c->in->probe->frame_rate : PLAN_FPS_UNKNOWN;
        plan_arg(a, "-g:v");
        plan_argf(a, "%ld", lround(fps * PLAN_KEYFRAME_S));
    }
}

/* The video settings shared by an output's video streams. */
static void plan_add_video(const plan_ctx_t *c, const spec_template_t *t, plan_args_t *a)
{
    plan_arg(a, "-c:v");
    plan_arg(a, plan_video_encoder(t->video_codec));
    if (t->video_codec == SPEC_VIDEO_COPY)
        return;
    plan_add_encoder_options(c, t, a);
    PLAN_ARGS(a, "-pix_fmt", "yuv420p", "-force_key_frames", PLAN_KEYFRAMES);
}

/* The bitrate of the output's video stream `index`: capped peaks keep a
 * player's buffer estimate honest. */
static void plan_add_bitrate(const plan_rung_t *r, size_t index, plan_args_t *a)
{
    if (plan_is_copy(r->step))
        return;
    plan_argf(a, "-b:v:%zu", index);
    plan_argf(a, "%dk", r->kbps);
    plan_argf(a, "-maxrate:v:%zu", index);
    plan_argf(a, "%dk", r->kbps * 3 / 2);
    plan_argf(a, "-bufsize:v:%zu", index);
    plan_argf(a, "%dk", r->kbps * 2);
}

static void plan_add_audio(const plan_ctx_t *c, const spec_template_t *t, plan_args_t *a)
{
    if (!c->in->probe->has_audio)
        return;
    plan_arg(a, "-c:a");
    plan_arg(a, plan_audio_encoder(t->audio_codec));
    if (t->audio_codec != SPEC_AUDIO_COPY) {
        plan_arg(a, "-b:a");
        plan_argf(a, "%dk", plan_audio_kbps(t));
    }
}

/* -map of a rendition's picture (and the source's first audio). */
static void plan_add_maps(const plan_ctx_t *c, const plan_rung_t *r, plan_args_t *a)
{
    plan_arg(a, "-map");
    if (plan_is_copy(r->step))
        plan_arg(a, "0:V:0");
    else
        plan_argf(a, "[v%zu]", r->pad);
    if (c->in->probe->has_audio)
        PLAN_ARGS(a, "-map", "0:a:0");
}

/* ---- outputs ---- */

/* The codecs of a template's output on this source, in ffprobe's names. */
static void plan_output_codecs(const plan_ctx_t *c, const spec_template_t *t, plan_output_t *o)
{
    static const char *const video[] = {"h264", "hevc", "vp9", "av1", ""};
    static const char *const audio[] = {"aac", "opus", "mp3", ""};
    const probe_result_t *pr = c->in->probe;
    const char *v = t->video_codec == SPEC_VIDEO_COPY ? pr->video_codec : video[t->video_codec];
    const char *a = !pr->has_audio ? "" : t->audio_codec == SPEC_AUDIO_COPY ? pr->audio_codec : audio[t->audio_codec];
    snprintf(o->codecs, sizeof(o->codecs), "%s%s%s", v, v[0] && a[0] ? "," : "", a);
}

static const char *plan_extension(enum spec_container c)
{
    return c == SPEC_CONTAINER_WEBM ? "webm" : c == SPEC_CONTAINER_MKV ? "mkv" : "mp4";
}

static void plan_add_container(enum spec_container container, plan_args_t *a)
{
    if (container == SPEC_CONTAINER_MP4) /* the index first: playback starts before the download ends */
        PLAN_ARGS(a, "-movflags", "+faststart");
    plan_arg(a, "-f");
    plan_arg(a, container == SPEC_CONTAINER_WEBM ? "webm" : container == SPEC_CONTAINER_MKV ? "matroska" : "mp4");
}

/* One mp4/webm/mkv file for one rendition. */
static bool plan_add_file(plan_ctx_t *c, const plan_rung_t *r, plan_args_t *a)
{
    const spec_template_t *t = &r->step->u.template_spec;
    plan_output_t *o = plan_add_output(c->p, PLAN_OUTPUT_FILE);
    buf_t key;
    buf_init(&key, 0);
    const char *file_key = c->in->spec->file_key;
    bool built = r->step->key[0] ? output_key_keyed(file_key, r->step->key, &key)
                                 : output_key_rendition(file_key, r->step->name, r->size.width, r->size.height,
                                                        plan_extension(t->container), &key);
    bool ok = o && plan_set_key(o, built, &key);
    buf_free(&key);
    if (!ok)
        return plan_fail(c, "transcode: template \"%s\": no output key for it", r->step->name);
    o->container = t->container;
    snprintf(o->template_name, sizeof(o->template_name), "%s", r->step->name);
    o->width = r->size.width;
    o->height = r->size.height;
    plan_output_codecs(c, t, o);
    plan_add_maps(c, r, a);
    plan_add_video(c, t, a);
    plan_add_bitrate(r, 0, a);
    plan_add_audio(c, t, a);
    plan_add_container(t->container, a);
    plan_argf(a, "file:%s/%s", c->in->work_dir, o->key);
    return true;
}

/* The HLS output's bookkeeping: its master's key, its variants, and the
 * largest one's size (the output's). */
static bool plan_hls_output(plan_ctx_t *c, const plan_rung_t *rungs, size_t n, plan_output_t **out)
{
    const plan_step_t *step = rungs[0].step;
    plan_output_t *o = plan_add_output(c->p, PLAN_OUTPUT_HLS);
    buf_t key;
    buf_init(&key, 0);
    const char *file_key = c->in->spec->file_key;
    bool built = step->key[0] ? output_key_keyed(file_key, step->key, &key)
                              : output_key_hls_master(file_key, step->name, &key);
    bool ok = o && plan_set_key(o, built, &key);
    buf_free(&key);
    if (!ok)
        return plan_fail(c, "transcode: template \"%s\": no output key for it", step->name);
    o->container = SPEC_CONTAINER_HLS;
    snprintf(o->template_name, sizeof(o->template_name), "%s", step->name);
    plan_output_codecs(c, &step->u.template_spec, o);
    for (size_t i = 0; i < n && i < SPEC_RENDITIONS_MAX; i++) {
        o->variants[o->variant_count++] = rungs[i].size;
        if ((int64_t)rungs[i].size.width * rungs[i].size.height > (int64_t)o->width * o->height) {
            o->width = rungs[i].size.width;
            o->height = rungs[i].size.height;
        }
    }
    if (c->soft) {
        o->soft_subtitle = true;
        snprintf(o->language, sizeof(o->language), "%s", c->soft->language);
    }
    *out = o;
    return true;
}

/* "v:0,a:0,name:1280x720 v:1,a:1,name:640x360": each variant's streams,
 * and its directory's name (%v in the paths). */
static bool plan_var_stream_map(const plan_ctx_t *c, const plan_output_t *o, buf_t *map)
{
    bool ok = true;
    for (size_t i = 0; ok && i < o->variant_count; i++) {
        ok = buf_printf(map, "%sv:%zu", i ? " " : "", i);
        if (ok && c->in->probe->has_audio)
            ok = buf_printf(map, ",a:%zu", i);
        ok = ok && buf_printf(map, ",name:%dx%d", o->variants[i].width, o->variants[i].height);
    }
    return ok;
}

/* The hls muxer's settings.  Its output and segment paths are plain
 * absolute paths, not file:<path> as everywhere else: the muxer makes the
 * directory of a path with %v by mkdir -p of the text itself, so a "file:"
 * there makes a "file:" directory in ffmpeg's working directory (ffmpeg
 * 5.1).  A path that starts with '/' is read neither as an option nor as
 * another protocol.  The master goes to the parent of the %v directory. */
static bool plan_add_hls_muxer(plan_ctx_t *c, const plan_step_t *step, const plan_output_t *o, plan_args_t *a)
{
    const char *slash = strrchr(o->key, '/');
    char prefix[PLAN_KEY_MAX];
    if (strchr(c->in->work_dir, '%'))
        return plan_fail(c, "transcode: the work directory's path has a '%%', which the HLS muxer reads as a "
                            "pattern");
    if (!slash || !plan_hls_segment_prefix(o->key, prefix, sizeof(prefix)) || strchr(o->key, '%'))
        return plan_fail(c, "transcode: template \"%s\": no output key for it", step->name);
    buf_t map;
    buf_init(&map, 0);
    bool ok = plan_var_stream_map(c, o, &map);
    int dir_len = (int)(slash - o->key);
    PLAN_ARGS(a, "-f", "hls", "-hls_time");
    plan_argf(a, "%d", step->segment_seconds ? step->segment_seconds : PLAN_HLS_SEGMENT_S);
    PLAN_ARGS(a, "-hls_playlist_type", "vod", "-hls_segment_type", "mpegts", "-hls_segment_filename");
    plan_argf(a, "%s/%.*s/%%v/%s_%%05d.ts", c->in->work_dir, dir_len, o->key, prefix);
    PLAN_ARGS(a, "-master_pl_name", slash + 1, "-var_stream_map", ok ? map.data : NULL);
    plan_argf(a, "%s/%.*s/%%v/%s", c->in->work_dir, dir_len, o->key, slash + 1);
    buf_free(&map);
    return ok || plan_fail(c, "transcode: out of memory");
}

/* One HLS output for a template's renditions (n of them from rungs). */
static bool plan_add_hls(plan_ctx_t *c, const plan_rung_t *rungs, size_t n, plan_args_t *a)
{
    const spec_template_t *t = &rungs[0].step->u.template_spec;
    plan_output_t *o = NULL;
    if (!plan_hls_output(c, rungs, n, &o))
        return false;
    for (size_t i = 0; i < n; i++)
        plan_add_maps(c, &rungs[i], a);
    plan_add_video(c, t, a);
    for (size_t i = 0; i < n; i++)
        plan_add_bitrate(&rungs[i], i, a);
    plan_add_audio(c, t, a);
    return plan_add_hls_muxer(c, rungs[0].step, o, a);
}

/* The soft subtitle's WebVTT sidecar. */
static bool plan_add_vtt(plan_ctx_t *c, plan_args_t *a)
{
    plan_output_t *o = plan_add_output(c->p, PLAN_OUTPUT_VTT);
    buf_t key;
    buf_init(&key, 0);
    bool ok = o && plan_set_key(o, output_key_subtitle(c->in->spec->file_key, c->soft->language, &key), &key);
    buf_free(&key);
    if (!ok)
        return plan_fail(c, "subtitle: no output key for language \"%s\"", c->soft->language);
    snprintf(o->language, sizeof(o->language), "%s", c->soft->language);
    plan_arg(a, "-map");
    plan_argf(a, "%d:s:0", c->soft_input);
    PLAN_ARGS(a, "-c:s", "webvtt", "-f", "webvtt");
    plan_argf(a, "file:%s/%s", c->in->work_dir, o->key);
    return true;
}

/* Every template's outputs: a file per rendition, or one HLS output over
 * the template's renditions (they are contiguous in c->rungs). */
static bool plan_add_outputs(plan_ctx_t *c, plan_args_t *a)
{
    size_t i = 0;
    while (i < c->rung_count) {
        const plan_step_t *step = c->rungs[i].step;
        size_t n = 1;
        while (i + n < c->rung_count && c->rungs[i + n].step == step)
            n++;
        bool ok = step->u.template_spec.container == SPEC_CONTAINER_HLS ? plan_add_hls(c, &c->rungs[i], n, a)
                                                                          : plan_add_file(c, &c->rungs[i], a);
        if (!ok)
            return false;
        i += step->u.template_spec.container == SPEC_CONTAINER_HLS ? n : 1;
    }
    return !c->soft || plan_add_vtt(c, a);
}

bool plan_hls_segment_prefix(const char *master_key, char *out, size_t n)
{
    const char *slash = strrchr(master_key, '/'), *name = slash ? slash + 1 : master_key;
    size_t len = strlen(name);
    if (!strcmp(name, "index.m3u8"))
        return snprintf(out, n, "seg") < (int)n;
    if (len <= 5 || strcmp(name + len - 5, ".m3u8") != 0)
        return false;
    return snprintf(out, n, "%.*s", (int)(len - 5), name) < (int)n;
}

/* ---- the runs ---- */

/* The cover's output: its key, and the source's picture fitted into the box. */
static plan_output_t *plan_cover_output(plan_ctx_t *c)
{
    const plan_input_t *in = c->in;
    geometry_size_t size, box = {PLAN_COVER_BOX_W, PLAN_COVER_BOX_H};
    geometry_size_t src = {in->probe->display_width, in->probe->display_height};
    plan_output_t *o = plan_add_output(c->p, PLAN_OUTPUT_COVER);
    buf_t key;
    buf_init(&key, 0);
    bool ok = o && plan_set_key(o, output_key_cover(in->spec->file_key, &key), &key) && geometry_fit(src, box, &size);
    buf_free(&key);
    if (!ok) {
        plan_fail(c, "snapshot: no cover for this source (its key or its size)");
        return NULL;
    }
    o->width = size.width;
    o->height = size.height;
    return o;
}

double plan_cover_time(double duration)
{
    return duration > 0 ? fmin(PLAN_COVER_AT_S, duration / 2) : PLAN_COVER_AT_S;
}

/* geometry_fit into PLAN_COVER_BOX as one of ffmpeg's scale expressions, so
 * the cover run needs no probe: s = the largest scale, never above 1, that
 * fits the box turned to the picture's orientation; each side is
 * 2*floor((side*s + 1e-9)/2), at least 2.  Its sizes are geometry_fit's
 * (test_plan_media checks them on odd, portrait and large sources). */
static void plan_cover_scale(plan_args_t *a)
{
    char s[160];
    snprintf(s, sizeof(s), "min(1,min(if(gt(ih,iw),%d,%d)/iw,if(gt(ih,iw),%d,%d)/ih))", PLAN_COVER_BOX_H,
             PLAN_COVER_BOX_W, PLAN_COVER_BOX_W, PLAN_COVER_BOX_H);
    plan_argf(a, "scale=w='max(2,2*floor((iw*%s+1e-9)/2))':h='max(2,2*floor((ih*%s+1e-9)/2))',setsar=1", s, s);
}

/* One JPEG of the source's picture at at_s: fitted into the cover's box by
 * scale expressions (size NULL), or scaled to size (a frame's). */
static bool plan_picture_args(const plan_input_t *in, double at_s, const geometry_size_t *size, const char *key,
                              plan_args_t *a)
{
    plan_add_common(in, a);
    /* Before -i: a fast seek to the key frame before, then decoding to the time. */
    plan_arg(a, "-ss");
    plan_argf(a, "%.3f", at_s);
    plan_add_input(in, a, PROBE_FORMAT_WHITELIST, true, NULL, in->source);
    PLAN_ARGS(a, "-map", "0:V:0", "-frames:v", "1", "-vf");
    if (size)
        plan_argf(a, "scale=%d:%d,setsar=1", size->width, size->height);
    else
        plan_cover_scale(a);
    PLAN_ARGS(a, "-c:v", "mjpeg", "-q:v", PLAN_COVER_QUALITY, "-f", "image2", "-update", "1");
    plan_argf(a, "file:%s/%s", in->work_dir, key);
    return !a->failed;
}

static bool plan_build_cover(plan_ctx_t *c)
{
    const plan_input_t *in = c->in;
    const plan_output_t *o = plan_cover_output(c);
    if (!o)
        return false;
    plan_args_t a = {0};
    plan_picture_args(in, plan_cover_time(in->probe->duration), NULL, o->key, &a);
    return plan_add_run(c, &a, false, true);
}

/* ---- frames (keyed snapshots) ---- */

/* src fitted into a box that is not turned (w bounds the width, as the
 * vendor's vframe w/h do), a side of 0 unbounded; never upscaled, even
 * sides, at least 2 (geometry_fit's rounding). */
static geometry_size_t plan_frame_size(geometry_size_t src, int box_w, int box_h)
{
    double s = 1.0;
    if (box_w > 0)
        s = fmin(s, (double)box_w / src.width);
    if (box_h > 0)
        s = fmin(s, (double)box_h / src.height);
    int w = (int)floor(src.width * s + 1e-9), h = (int)floor(src.height * s + 1e-9);
    w -= w % 2;
    h -= h % 2;
    return (geometry_size_t){w < 2 ? 2 : w, h < 2 ? 2 : h};
}

static double plan_frame_time(const plan_step_t *step, double duration)
{
    return step->at_ms == PLAN_FRAME_AT_COVER ? plan_cover_time(duration) : (double)step->at_ms / 1000.0;
}

/* A frame's output: its key and size; NULL (the plan failed) when the
 * source cannot give it.  Unlike the cover, which a source without picture
 * simply lacks, a frame was asked for by name. */
static plan_output_t *plan_frame_output(plan_ctx_t *c, const plan_step_t *step)
{
    const probe_result_t *pr = c->in->probe;
    double at_s = plan_frame_time(step, pr->duration);
    if (!pr->has_video || pr->display_width <= 0 || pr->display_height <= 0) {
        plan_fail(c, "snapshot: the source has no picture for the frame %s", step->key);
        return NULL;
    }
    if (pr->duration > 0 && at_s >= pr->duration) {
        plan_fail(c, "snapshot: offset %.3f s is past the source's end (%.3f s)", at_s, pr->duration);
        return NULL;
    }
    plan_output_t *o = plan_add_output(c->p, PLAN_OUTPUT_FRAME);
    buf_t key;
    buf_init(&key, 0);
    bool ok = o && plan_set_key(o, output_key_keyed(c->in->spec->file_key, step->key, &key), &key);
    buf_free(&key);
    if (!ok) {
        plan_fail(c, "snapshot: no output key for the frame %s", step->key);
        return NULL;
    }
    geometry_size_t size =
        plan_frame_size((geometry_size_t){pr->display_width, pr->display_height}, step->width, step->height);
    o->width = size.width;
    o->height = size.height;
    return o;
}

static bool plan_build_frame(plan_ctx_t *c, const plan_step_t *step)
{
    const plan_output_t *o = plan_frame_output(c, step);
    if (!o)
        return false;
    plan_args_t a = {0};
    geometry_size_t size = {o->width, o->height};
    plan_picture_args(c->in, plan_frame_time(step, c->in->probe->duration), &size, o->key, &a);
    return plan_add_run(c, &a, false, false);
}

/* Every keyed snapshot of the plan, in step order. */
static bool plan_build_frames(plan_ctx_t *c)
{
    const plan_spec_t *spec = c->in->spec;
    for (size_t i = 0; i < spec->step_count; i++)
        if (spec->steps[i].kind == SPEC_STEP_SNAPSHOT && spec->steps[i].key[0] &&
            !plan_build_frame(c, &spec->steps[i]))
            return false;
    return true;
}

bool plan_cover_run(const plan_input_t *in, double at_s, plan_run_t *run)
{
    memset(run, 0, sizeof(*run));
    buf_t key;
    buf_init(&key, 0);
    plan_args_t a = {0};
    bool ok = in && in->spec && in->ffmpeg && in->source && in->work_dir &&
              output_key_cover(in->spec->file_key, &key) && plan_picture_args(in, at_s, NULL, key.data, &a);
    buf_free(&key);
    if (!ok) {
        plan_args_free(&a);
        return false;
    }
    *run = (plan_run_t){.argv = a.v, .argc = a.n, .transcode = false, .cover = true};
    return true;
}

void plan_run_free(plan_run_t *run)
{
    for (size_t j = 0; run->argv && j < run->argc; j++)
        free(run->argv[j]);
    free(run->argv);
    memset(run, 0, sizeof(*run));
}

static bool plan_build_main(plan_ctx_t *c)
{
    plan_args_t a = {0};
    plan_add_common(c->in, &a);
    plan_add_inputs(c, &a);
    if (!plan_graph(c, &a) || !plan_add_outputs(c, &a)) {
        plan_args_free(&a);
        return false;
    }
    return plan_add_run(c, &a, true, false);
}

/* The watermark and subtitle of the plan, and its renditions on this source. */
static bool plan_collect(plan_ctx_t *c)
{
    const plan_spec_t *spec = c->in->spec;
    const plan_step_t *w = plan_spec_watermark(spec), *s = plan_spec_subtitle(spec);
    const plan_step_t *steps[PLAN_STEPS_MAX];
    size_t n = plan_spec_transcodes(spec, steps, PLAN_STEPS_MAX);
    c->watermark = w ? &w->u.watermark : NULL;
    c->burn = s && s->u.subtitle.mode == SPEC_SUBTITLE_BURN ? &s->u.subtitle : NULL;
    c->soft = s && s->u.subtitle.mode == SPEC_SUBTITLE_SOFT ? &s->u.subtitle : NULL;
    for (size_t i = 0; i < n; i++)
        if (!plan_check_copy(c, steps[i]))
            return false;
    for (size_t i = 0; c->in->probe->has_video && i < n; i++)
        if (!plan_add_rungs(c, steps[i]))
            return false;
    return true;
}

/* ---- no two outputs in one file ----
 *
 * vodup's own keys never meet (a directory per template, names by size),
 * but a keyed output (a fops' saveas) may name any file beside them: the
 * cover, a template's rendition, another HLS output's variant playlist or
 * segment, or a file where another output needs a directory.  Two runs
 * writing one file would publish one output's bytes as another's, so such
 * a plan fails before anything runs. */

typedef struct plan_names {
    char (*v)[PLAN_KEY_MAX];
    size_t n;
} plan_names_t;

/* path is dir, or under it. */
static bool plan_within(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/* <dir of o's key>/<W>x<H of variant v>/<name> */
static bool plan_variant_path(const plan_output_t *o, size_t v, const char *name, char out[PLAN_KEY_MAX])
{
    const char *slash = strrchr(o->key, '/');
    int n = slash ? snprintf(out, PLAN_KEY_MAX, "%.*s/%dx%d/%s", (int)(slash - o->key), o->key,
                             o->variants[v].width, o->variants[v].height, name)
                  : -1;
    return n > 0 && n < PLAN_KEY_MAX;
}

/* The files the outputs are (each key, each HLS variant's playlist), and
 * each HLS variant's segment stem (<variant dir>/<prefix>_). */
static bool plan_names_fill(const plan_t *p, plan_names_t *files, plan_names_t *stems)
{
    for (size_t i = 0; i < p->output_count; i++) {
        const plan_output_t *o = &p->outputs[i];
        char stem[PLAN_KEY_MAX];
        memcpy(files->v[files->n++], o->key, PLAN_KEY_MAX);
        if (o->kind != PLAN_OUTPUT_HLS)
            continue;
        if (!plan_hls_segment_prefix(o->key, stem, sizeof(stem) - 1))
            return false;
        strcat(stem, "_");
        for (size_t v = 0; v < o->variant_count; v++)
            if (!plan_variant_path(o, v, strrchr(o->key, '/') + 1, files->v[files->n++]) ||
                !plan_variant_path(o, v, stem, stems->v[stems->n++]))
                return false;
    }
    return true;
}

/* name is a segment's: NNNNN.ts (five digits or more), or under one. */
static bool plan_segment_name(const char *name)
{
    size_t n = strspn(name, "0123456789");
    return n >= 5 && !strncmp(name + n, ".ts", 3) && (name[n + 3] == '\0' || name[n + 3] == '/');
}

static bool plan_names_clash(plan_ctx_t *c, const plan_names_t *files, const plan_names_t *stems)
{
    for (size_t i = 0; i < files->n; i++)
        for (size_t j = 0; j < i; j++)
            if (plan_within(files->v[i], files->v[j]) || plan_within(files->v[j], files->v[i]))
                return plan_fail(c, "plan: %.100s and %.100s are one file, or one is the other's directory",
                                 files->v[j], files->v[i]);
    for (size_t i = 0; i < stems->n; i++) {
        size_t len = strlen(stems->v[i]);
        for (size_t j = 0; j < i; j++)
            if (!strcmp(stems->v[i], stems->v[j]))
                return plan_fail(c, "plan: two HLS outputs would write the segments %.100sNNNNN.ts", stems->v[i]);
        for (size_t f = 0; f < files->n; f++)
            if (!strncmp(files->v[f], stems->v[i], len) && plan_segment_name(files->v[f] + len))
                return plan_fail(c, "plan: %.100s would be an HLS segment", files->v[f]);
    }
    return true;
}

static bool plan_check_clashes(plan_ctx_t *c)
{
    const plan_t *p = c->p;
    size_t variants = 0;
    for (size_t i = 0; i < p->output_count; i++)
        variants += p->outputs[i].kind == PLAN_OUTPUT_HLS ? p->outputs[i].variant_count : 0;
    plan_names_t files = {calloc(p->output_count + variants + 1, PLAN_KEY_MAX), 0};
    plan_names_t stems = {calloc(variants + 1, PLAN_KEY_MAX), 0};
    bool ok = files.v && stems.v;
    if (!ok)
        plan_fail(c, "plan: out of memory");
    else if (!plan_names_fill(p, &files, &stems))
        ok = plan_fail(c, "plan: an output's key is too long for its HLS variants");
    else
        ok = plan_names_clash(c, &files, &stems);
    free(files.v);
    free(stems.v);
    return ok;
}

static bool plan_input_ok(const plan_input_t *in)
{
    return in && in->spec && in->probe && in->ffmpeg && in->source && in->source[0] == '/' && in->work_dir &&
           in->work_dir[0] == '/' && in->data_dir && in->data_dir[0] == '/';
}

bool plan_build(const plan_input_t *in, plan_t *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    plan_ctx_t *c = calloc(1, sizeof(*c));
    bool ok = false;
    if (!c) {
        snprintf(err, errlen, "transcode: out of memory");
        return false;
    }
    *c = (plan_ctx_t){.in = in, .p = p, .watermark_input = -1, .soft_input = -1, .err = err, .errlen = errlen};
    if (!plan_input_ok(in)) {
        plan_fail(c, "plan: the planner needs the plan, the probe and absolute paths");
        goto out;
    }
    /* Parsed plans are checked already; one built in code may not be, and
     * an out-of-range codec would index the encoder tables. */
    if (!plan_spec_check(in->spec, err, errlen))
        goto out;
    ok = plan_collect(c) && (!plan_spec_has_snapshot(in->spec) || !in->probe->has_video || plan_build_cover(c)) &&
         plan_build_frames(c) && (c->rung_count == 0 || plan_build_main(c)) && plan_check_clashes(c);
out:
    if (!ok)
        plan_free(p);
    free(c);
    return ok;
}

void plan_free(plan_t *p)
{
    for (size_t i = 0; i < p->run_count && i < PLAN_RUNS_MAX; i++)
        plan_run_free(&p->runs[i]);
    memset(p, 0, sizeof(*p));
}

/* ---- directories ---- */

/* A directory that must exist: an output's key's, or (variant >= 0) the
 * directory of that HLS variant, beside its master. */
typedef struct plan_dir_ref {
    size_t output;
    int variant; /* -1: the key's own directory */
} plan_dir_ref_t;

static size_t plan_dir_refs(const plan_t *p, plan_dir_ref_t *refs)
{
    size_t n = 0;
    for (size_t i = 0; i < p->output_count && i < PLAN_OUTPUTS_MAX && n < PLAN_DIRS_MAX; i++) {
        refs[n++] = (plan_dir_ref_t){i, -1};
        for (size_t v = 0; v < p->outputs[i].variant_count && v < SPEC_RENDITIONS_MAX && n < PLAN_DIRS_MAX; v++)
            refs[n++] = (plan_dir_ref_t){i, (int)v};
    }
    return n;
}

static bool plan_dir_render(const plan_t *p, plan_dir_ref_t ref, char out[PLAN_KEY_MAX])
{
    const plan_output_t *o = &p->outputs[ref.output];
    const char *slash = strrchr(o->key, '/');
    if (!slash)
        return false;
    int n = ref.variant < 0 ? snprintf(out, PLAN_KEY_MAX, "%.*s", (int)(slash - o->key), o->key)
                            : snprintf(out, PLAN_KEY_MAX, "%.*s/%dx%d", (int)(slash - o->key), o->key,
                                       o->variants[ref.variant].width, o->variants[ref.variant].height);
    return n > 0 && n < PLAN_KEY_MAX;
}

static bool plan_dir_seen(const plan_t *p, const plan_dir_ref_t *refs, size_t before, const char *dir)
{
    char other[PLAN_KEY_MAX];
    for (size_t i = 0; i < before; i++)
        if (plan_dir_render(p, refs[i], other) && !strcmp(other, dir))
            return true;
    return false;
}

static int plan_dir_compare(const void *a, const void *b)
{
    return strcmp(a, b);
}

size_t plan_dirs(const plan_t *p, char (*dirs)[PLAN_KEY_MAX], size_t max)
{
    plan_dir_ref_t refs[PLAN_DIRS_MAX];
    size_t nrefs = plan_dir_refs(p, refs), n = 0;
    char dir[PLAN_KEY_MAX];
    for (size_t i = 0; i < nrefs; i++) {
        if (!plan_dir_render(p, refs[i], dir) || plan_dir_seen(p, refs, i, dir))
            continue;
        if (n < max)
            memcpy(dirs[n], dir, PLAN_KEY_MAX);
        n++;
    }
    /* A parent is a prefix of its child, so it sorts first. */
    if (n && max)
        qsort(dirs, n < max ? n : max, sizeof(*dirs), plan_dir_compare);
    return n;
}
