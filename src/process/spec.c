/*
 * spec: parse, check and serialise the processing resources' specs (see
 * spec.h for the shapes and the rules).  Every rule lives here once: admin
 * reports a rule's message as a usage error, the planner as the reason a
 * task cannot be planned.  Nothing here reads files or the store.
 */
#include "process/spec.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPEC_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SPEC_SEGMENT_MAX 255 /* a file name under the data dir */
/* Enough for a real number to survive a round trip in practice, without
 * printing 0.3 as 0.29999999999999999. */
#define SPEC_REAL_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

__attribute__((format(printf, 2, 3))) static bool spec_fail(spec_error_t *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return false;
}

/* ---- enums ---- */

static const char *const spec_container_names[] = {"mp4", "webm", "mkv", "hls"};
static const char *const spec_video_codec_names[] = {"h264", "h265", "vp9", "av1", "copy"};
static const char *const spec_audio_codec_names[] = {"aac", "opus", "mp3", "copy"};
static const char *const spec_position_names[] = {"top-left", "top-right", "bottom-left", "bottom-right", "center"};
static const char *const spec_subtitle_format_names[] = {"srt", "vtt", "ass"};
static const char *const spec_subtitle_mode_names[] = {"burn", "soft"};
static const char *const spec_step_kind_names[] = {"probe", "snapshot", "transcode", "watermark", "subtitle"};
/* The member of a step object that holds its reference, by kind. */
static const char *const spec_step_ref_members[] = {NULL, NULL, "template", "watermark", "subtitle"};

static const char *spec_enum_name(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n ? names[v] : NULL;
}

static bool spec_enum_parse(const char *const *names, size_t n, const char *s, int *out)
{
    for (size_t i = 0; s && i < n; i++) {
        if (!strcmp(s, names[i])) {
            *out = (int)i;
            return true;
        }
    }
    return false;
}

/* "a, b, c or d": the choices of a message, from the table, so the two
 * cannot drift apart. */
static const char *spec_enum_choices(const char *const *names, size_t n, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = snprintf(buf + used, len - used, "%s%s", sep, names[i]);
        used += w > 0 ? (size_t)w : 0;
    }
    return buf;
}

/* `enum type` names a tag, which cannot be parenthesised. */
/* NOLINTBEGIN(bugprone-macro-parentheses) */
#define SPEC_ENUM_FUNCTIONS(prefix, type, table)                              \
    const char *prefix##_name(enum type v)                                    \
    {                                                                         \
        return spec_enum_name(table, SPEC_ARRAY_LEN(table), (int)v);          \
    }                                                                         \
    bool prefix##_parse(const char *s, enum type *out)                        \
    {                                                                         \
        int v;                                                                \
        if (!spec_enum_parse(table, SPEC_ARRAY_LEN(table), s, &v))            \
            return false;                                                     \
        *out = (enum type)v;                                                  \
        return true;                                                          \
    }
/* NOLINTEND(bugprone-macro-parentheses) */

SPEC_ENUM_FUNCTIONS(spec_container, spec_container, spec_container_names)
SPEC_ENUM_FUNCTIONS(spec_video_codec, spec_video_codec, spec_video_codec_names)
SPEC_ENUM_FUNCTIONS(spec_audio_codec, spec_audio_codec, spec_audio_codec_names)
SPEC_ENUM_FUNCTIONS(spec_position, spec_position, spec_position_names)
SPEC_ENUM_FUNCTIONS(spec_subtitle_format, spec_subtitle_format, spec_subtitle_format_names)
SPEC_ENUM_FUNCTIONS(spec_subtitle_mode, spec_subtitle_mode, spec_subtitle_mode_names)

const char *spec_step_kind_name(enum spec_step_kind k)
{
    return spec_enum_name(spec_step_kind_names, SPEC_ARRAY_LEN(spec_step_kind_names), (int)k);
}

bool spec_container_is_segmented(enum spec_container c)
{
    return c == SPEC_CONTAINER_HLS;
}

/* webm is defined for VP8/VP9/AV1 and Vorbis/Opus only; HLS segments are
 * MPEG-TS (processing contract), which carries H.264/H.265 and AAC/MP3.
 * mp4 and mkv take all of ours. */
bool spec_container_holds_video(enum spec_container c, enum spec_video_codec v)
{
    if (v == SPEC_VIDEO_COPY)
        return true;
    if (c == SPEC_CONTAINER_WEBM)
        return v == SPEC_VIDEO_VP9 || v == SPEC_VIDEO_AV1;
    if (c == SPEC_CONTAINER_HLS)
        return v == SPEC_VIDEO_H264 || v == SPEC_VIDEO_H265;
    return true;
}

bool spec_container_holds_audio(enum spec_container c, enum spec_audio_codec a)
{
    if (a == SPEC_AUDIO_COPY)
        return true;
    if (c == SPEC_CONTAINER_WEBM)
        return a == SPEC_AUDIO_OPUS;
    if (c == SPEC_CONTAINER_HLS)
        return a == SPEC_AUDIO_AAC || a == SPEC_AUDIO_MP3;
    return true;
}

enum spec_video_codec spec_container_default_video(enum spec_container c)
{
    return c == SPEC_CONTAINER_WEBM ? SPEC_VIDEO_VP9 : SPEC_VIDEO_H264;
}

enum spec_audio_codec spec_container_default_audio(enum spec_container c)
{
    return c == SPEC_CONTAINER_WEBM ? SPEC_AUDIO_OPUS : SPEC_AUDIO_AAC;
}

bool spec_step_kind_takes_ref(enum spec_step_kind k)
{
    return spec_enum_name(spec_step_ref_members, SPEC_ARRAY_LEN(spec_step_ref_members), (int)k) != NULL;
}

/* ---- names, paths, languages ---- */

static bool spec_segment_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-';
}

/* 1..max of the path-safe alphabet, not starting with '.'. */
static bool spec_segment_valid(const char *s, size_t n, size_t max)
{
    if (n == 0 || n > max || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!spec_segment_char(s[i]))
            return false;
    return true;
}

bool spec_name_valid(const char *s)
{
    return s && spec_segment_valid(s, strlen(s), SPEC_NAME_MAX);
}

bool spec_resource_path_valid(const char *s)
{
    if (!s || strlen(s) >= SPEC_PATH_MAX)
        return false;
    for (;;) {
        const char *slash = strchr(s, '/');
        size_t n = slash ? (size_t)(slash - s) : strlen(s);
        if (!spec_segment_valid(s, n, SPEC_SEGMENT_MAX))
            return false;
        if (!slash)
            return true;
        s = slash + 1;
    }
}

bool spec_language_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0, i = 0;
    if (n > SPEC_LANGUAGE_MAX)
        return false;
    while (i < n && isalpha((unsigned char)s[i]))
        i++;
    if (i < 2 || i > 3)
        return false;
    while (i < n) {
        if (s[i++] != '-')
            return false;
        size_t start = i;
        while (i < n && isalnum((unsigned char)s[i]))
            i++;
        if (i == start || i - start > 8)
            return false;
    }
    return true;
}

/* ---- JSON reading ---- */

/* Loads a spec's text; it must be one JSON object.  The caller decrefs. */
static json_t *spec_json_load(const char *text, const char *kind, spec_error_t *err)
{
    json_error_t je;
    json_t *o = text ? json_loads(text, JSON_REJECT_DUPLICATES, &je) : NULL;
    if (!o) {
        spec_fail(err, "%s spec: not valid JSON (%s)", kind, text ? je.text : "no text");
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        spec_fail(err, "%s spec: not a JSON object", kind);
        return NULL;
    }
    return o;
}

/* Refuses members the shape does not have: a typo must not pass as a
 * default. */
static bool spec_json_only(json_t *o, const char *const *allowed, size_t n, const char *kind, spec_error_t *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int unused;
        if (!spec_enum_parse(allowed, n, key, &unused))
            return spec_fail(err, "%s spec: unknown member '%s'", kind, key);
    }
    return true;
}

static bool spec_json_string(json_t *o, const char *key, const char *kind, const char **out, spec_error_t *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return spec_fail(err, "%s spec: '%s' is missing", kind, key);
    if (!json_is_string(v))
        return spec_fail(err, "%s spec: '%s' must be a string", kind, key);
    *out = json_string_value(v);
    return true;
}

/* An integer member; the range is the caller's rule, this only keeps it
 * within int. */
static bool spec_json_int(json_t *o, const char *key, const char *kind, int *out, spec_error_t *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return spec_fail(err, "%s spec: '%s' is missing", kind, key);
    json_int_t i = json_integer_value(v);
    if (!json_is_integer(v) || i < -1000000000 || i > 1000000000)
        return spec_fail(err, "%s spec: '%s' must be an integer", kind, key);
    *out = (int)i;
    return true;
}

static bool spec_json_enum(json_t *o, const char *key, const char *kind, const char *const *names, size_t n,
                           int *out, spec_error_t *err)
{
    const char *s;
    char choices[128];
    if (!spec_json_string(o, key, kind, &s, err))
        return false;
    if (!spec_enum_parse(names, n, s, out))
        return spec_fail(err, "%s spec: '%s' must be %s, not '%s'", kind, key,
                         spec_enum_choices(names, n, choices, sizeof(choices)), s);
    return true;
}

static bool spec_json_copy(json_t *o, const char *key, const char *kind, char *out, size_t len, spec_error_t *err)
{
    const char *s;
    if (!spec_json_string(o, key, kind, &s, err))
        return false;
    if (strlen(s) >= len)
        return spec_fail(err, "%s spec: '%s' is too long", kind, key);
    memcpy(out, s, strlen(s) + 1);
    return true;
}

/* Dumps and releases a built object; NULL when building failed. */
static char *spec_json_finish(json_t *o)
{
    char *text = o ? json_dumps(o, SPEC_REAL_FLAGS) : NULL;
    json_decref(o);
    return text;
}

/* ---- template: fields and renditions ---- */

bool spec_dimension_valid(long v)
{
    return v == 0 || (v >= SPEC_DIMENSION_MIN && v <= SPEC_DIMENSION_MAX);
}

bool spec_video_bitrate_valid(long v)
{
    return v >= 0 && v <= SPEC_VIDEO_BITRATE_MAX;
}

bool spec_audio_bitrate_valid(long v)
{
    return v >= 0 && v <= SPEC_AUDIO_BITRATE_MAX;
}

/* Reads 1..9 decimal digits at *p (no sign, no space). */
static bool spec_read_number(const char **p, long *out)
{
    const char *s = *p;
    long v = 0;
    while (isdigit((unsigned char)*s) && s - *p < 9)
        v = v * 10 + (*s++ - '0');
    if (s == *p || isdigit((unsigned char)*s))
        return false;
    *p = s;
    *out = v;
    return true;
}

bool spec_rendition_parse_text(const char *text, spec_rendition_t *out, spec_error_t *err)
{
    const char *p = text;
    long w, h, kbps = 0;
    bool ok = spec_read_number(&p, &w) && *p++ == 'x' && spec_read_number(&p, &h);
    bool has_kbps = ok && *p == '@';
    if (has_kbps) {
        p++;
        ok = spec_read_number(&p, &kbps);
    }
    if (!ok || *p)
        return spec_fail(err, "rendition '%s' is not WxH[@KBPS], e.g. 1280x720@2500", text);
    if (w < SPEC_DIMENSION_MIN || w > SPEC_DIMENSION_MAX || h < SPEC_DIMENSION_MIN || h > SPEC_DIMENSION_MAX)
        return spec_fail(err, "rendition '%s': width and height must be %d..%d", text, SPEC_DIMENSION_MIN,
                         SPEC_DIMENSION_MAX);
    if (has_kbps && (kbps < 1 || kbps > SPEC_VIDEO_BITRATE_MAX))
        return spec_fail(err, "rendition '%s': the bitrate must be 1..%d kbps", text, SPEC_VIDEO_BITRATE_MAX);
    *out = (spec_rendition_t){(int)w, (int)h, (int)kbps};
    return true;
}

void spec_rendition_format(const spec_rendition_t *r, char *out, size_t len)
{
    if (len == 0)
        return;
    if (!r->width && !r->height && !r->video_bitrate)
        snprintf(out, len, "source");
    else if (r->video_bitrate)
        snprintf(out, len, "%dx%d@%d", r->width, r->height, r->video_bitrate);
    else
        snprintf(out, len, "%dx%d", r->width, r->height);
}

/* Renditions are numbered from 1 in messages, as an operator counts them. */
static bool spec_rendition_check(const spec_rendition_t *r, size_t index, spec_error_t *err)
{
    if (!spec_dimension_valid(r->width) || !spec_dimension_valid(r->height))
        return spec_fail(err, "template: rendition %zu: width and height must be 0 (the source's) or %d..%d", index + 1,
                         SPEC_DIMENSION_MIN, SPEC_DIMENSION_MAX);
    if (!spec_video_bitrate_valid(r->video_bitrate))
        return spec_fail(err, "template: rendition %zu: the video bitrate must be 0 (the encoder's choice) or 1..%d kbps",
                         index + 1, SPEC_VIDEO_BITRATE_MAX);
    return true;
}

/* Boxes are orientation-free (process/geometry.h), so compare them sorted. */
static bool spec_rendition_same_box(const spec_rendition_t *a, const spec_rendition_t *b)
{
    int a_long = a->width > a->height ? a->width : a->height, a_short = a->width + a->height - a_long;
    int b_long = b->width > b->height ? b->width : b->height, b_short = b->width + b->height - b_long;
    return a_long == b_long && a_short == b_short;
}

/* ---- template: the whole ---- */

void spec_template_init(spec_template_t *t, enum spec_container container)
{
    memset(t, 0, sizeof(*t));
    t->container = container;
    t->video_codec = spec_container_default_video(container);
    t->audio_codec = spec_container_default_audio(container);
}

/* The codecs a container holds, for a message ("vp9 or av1"). */
static const char *spec_held_video(enum spec_container c, char *buf, size_t len)
{
    const char *held[SPEC_ARRAY_LEN(spec_video_codec_names)];
    size_t n = 0;
    for (int v = 0; v < SPEC_VIDEO_COPY; v++)
        if (spec_container_holds_video(c, (enum spec_video_codec)v))
            held[n++] = spec_video_codec_names[v];
    return spec_enum_choices(held, n, buf, len);
}

static const char *spec_held_audio(enum spec_container c, char *buf, size_t len)
{
    const char *held[SPEC_ARRAY_LEN(spec_audio_codec_names)];
    size_t n = 0;
    for (int a = 0; a < SPEC_AUDIO_COPY; a++)
        if (spec_container_holds_audio(c, (enum spec_audio_codec)a))
            held[n++] = spec_audio_codec_names[a];
    return spec_enum_choices(held, n, buf, len);
}

static bool spec_template_check_codecs(const spec_template_t *t, spec_error_t *err)
{
    const char *container = spec_container_name(t->container);
    char held[64];
    if (!container || !spec_video_codec_name(t->video_codec) || !spec_audio_codec_name(t->audio_codec))
        return spec_fail(err, "template: unknown container or codec");
    if (!spec_container_holds_video(t->container, t->video_codec))
        return spec_fail(err, "template: %s cannot hold %s video (it holds %s)", container,
                         spec_video_codec_name(t->video_codec), spec_held_video(t->container, held, sizeof(held)));
    if (!spec_container_holds_audio(t->container, t->audio_codec))
        return spec_fail(err, "template: %s cannot hold %s audio (it holds %s)", container,
                         spec_audio_codec_name(t->audio_codec), spec_held_audio(t->container, held, sizeof(held)));
    if (!spec_audio_bitrate_valid(t->audio_bitrate))
        return spec_fail(err, "template: the audio bitrate must be 0 (the encoder's choice) or 1..%d kbps",
                         SPEC_AUDIO_BITRATE_MAX);
    if (t->audio_codec == SPEC_AUDIO_COPY && t->audio_bitrate)
        return spec_fail(err, "template: audio codec copy keeps the source's audio: it takes no audio bitrate");
    return true;
}

/* copy passes the source's picture through: one rendition, the source's. */
static bool spec_template_check_copy(const spec_template_t *t, spec_error_t *err)
{
    const spec_rendition_t *r = &t->renditions[0];
    if (t->video_codec != SPEC_VIDEO_COPY)
        return true;
    if (t->rendition_count != 1 || r->width || r->height || r->video_bitrate)
        return spec_fail(err, "template: video codec copy keeps the source's picture: it takes no rendition "
                              "size or video bitrate");
    return true;
}

static bool spec_template_check_renditions(const spec_template_t *t, spec_error_t *err)
{
    if (t->rendition_count == 0)
        return spec_fail(err, "template: it needs at least one rendition");
    if (t->rendition_count > SPEC_RENDITIONS_MAX)
        return spec_fail(err, "template: it has at most %d renditions", SPEC_RENDITIONS_MAX);
    for (size_t i = 0; i < t->rendition_count; i++) {
        if (!spec_rendition_check(&t->renditions[i], i, err))
            return false;
        for (size_t j = 0; j < i; j++)
            if (spec_rendition_same_box(&t->renditions[j], &t->renditions[i]))
                return spec_fail(err, "template: renditions %zu and %zu have the same size %dx%d (in either "
                                      "orientation), so they would make the same output",
                                 j + 1, i + 1, t->renditions[i].width, t->renditions[i].height);
    }
    return true;
}

bool spec_template_check(const spec_template_t *t, spec_error_t *err)
{
    return spec_template_check_codecs(t, err) && spec_template_check_renditions(t, err) &&
           spec_template_check_copy(t, err);
}

/* container, videoCodec, audioCodec, audioBitrate: in both shapes. */
static bool spec_template_read_common(json_t *o, spec_template_t *t, spec_error_t *err)
{
    int c, v, a;
    bool ok = spec_json_enum(o, "container", "template", spec_container_names, SPEC_ARRAY_LEN(spec_container_names),
                             &c, err) &&
              spec_json_enum(o, "videoCodec", "template", spec_video_codec_names,
                             SPEC_ARRAY_LEN(spec_video_codec_names), &v, err) &&
              spec_json_enum(o, "audioCodec", "template", spec_audio_codec_names,
                             SPEC_ARRAY_LEN(spec_audio_codec_names), &a, err) &&
              spec_json_int(o, "audioBitrate", "template", &t->audio_bitrate, err);
    t->container = (enum spec_container)(ok ? c : 0);
    t->video_codec = (enum spec_video_codec)(ok ? v : 0);
    t->audio_codec = (enum spec_audio_codec)(ok ? a : 0);
    return ok;
}

static bool spec_rendition_read(json_t *o, spec_rendition_t *r, spec_error_t *err)
{
    static const char *const members[] = {"width", "height", "videoBitrate"};
    if (!json_is_object(o))
        return spec_fail(err, "template spec: each rendition must be an object");
    return spec_json_only(o, members, SPEC_ARRAY_LEN(members), "template", err) &&
           spec_json_int(o, "width", "template", &r->width, err) &&
           spec_json_int(o, "height", "template", &r->height, err) &&
           spec_json_int(o, "videoBitrate", "template", &r->video_bitrate, err);
}

static bool spec_template_read_new(json_t *o, spec_template_t *t, spec_error_t *err)
{
    static const char *const members[] = {"container", "videoCodec", "audioCodec", "audioBitrate", "renditions"};
    json_t *list = json_object_get(o, "renditions");
    if (!spec_json_only(o, members, SPEC_ARRAY_LEN(members), "template", err) ||
        !spec_template_read_common(o, t, err))
        return false;
    if (!json_is_array(list))
        return spec_fail(err, "template spec: 'renditions' must be an array");
    if (json_array_size(list) > SPEC_RENDITIONS_MAX)
        return spec_fail(err, "template: it has at most %d renditions", SPEC_RENDITIONS_MAX);
    t->rendition_count = json_array_size(list);
    for (size_t i = 0; i < t->rendition_count; i++)
        if (!spec_rendition_read(json_array_get(list, i), &t->renditions[i], err))
            return false;
    return true;
}

/* The shape stored before templates had renditions: its one size is the
 * one rendition. */
static bool spec_template_read_old(json_t *o, spec_template_t *t, spec_error_t *err)
{
    static const char *const members[] = {"container", "videoCodec", "audioCodec", "audioBitrate",
                                          "width",     "height",     "videoBitrate"};
    spec_rendition_t *r = &t->renditions[0];
    t->rendition_count = 1;
    return spec_json_only(o, members, SPEC_ARRAY_LEN(members), "template", err) &&
           spec_template_read_common(o, t, err) && spec_json_int(o, "width", "template", &r->width, err) &&
           spec_json_int(o, "height", "template", &r->height, err) &&
           spec_json_int(o, "videoBitrate", "template", &r->video_bitrate, err);
}

bool spec_template_parse(const char *json_text, spec_template_t *out, spec_error_t *err)
{
    json_t *o = spec_json_load(json_text, "template", err);
    if (!o)
        return false;
    memset(out, 0, sizeof(*out));
    bool ok = json_object_get(o, "renditions") ? spec_template_read_new(o, out, err)
                                               : spec_template_read_old(o, out, err);
    json_decref(o);
    return ok && spec_template_check(out, err);
}

char *spec_template_to_json(const spec_template_t *t)
{
    json_t *list = json_array();
    for (size_t i = 0; list && i < t->rendition_count && i < SPEC_RENDITIONS_MAX; i++) {
        const spec_rendition_t *r = &t->renditions[i];
        if (json_array_append_new(list, json_pack("{s:i, s:i, s:i}", "width", r->width, "height", r->height,
                                                  "videoBitrate", r->video_bitrate)) != 0) {
            json_decref(list);
            return NULL;
        }
    }
    if (!list || !spec_container_name(t->container) || !spec_video_codec_name(t->video_codec) ||
        !spec_audio_codec_name(t->audio_codec)) {
        json_decref(list);
        return NULL;
    }
    return spec_json_finish(json_pack("{s:s, s:s, s:s, s:i, s:o}", "container", spec_container_name(t->container),
                                      "videoCodec", spec_video_codec_name(t->video_codec), "audioCodec",
                                      spec_audio_codec_name(t->audio_codec), "audioBitrate", t->audio_bitrate,
                                      "renditions", list));
}

/* ---- watermark ---- */

bool spec_offset_valid(long v)
{
    return v >= 0 && v <= SPEC_OFFSET_MAX;
}

bool spec_opacity_valid(double v)
{
    return isfinite(v) && v >= 0 && v <= 1;
}

void spec_watermark_init(spec_watermark_t *w)
{
    memset(w, 0, sizeof(*w));
    w->position = SPEC_POSITION_TOP_RIGHT;
    w->offset_x = w->offset_y = 16;
    w->opacity = 1.0;
}

bool spec_watermark_check(const spec_watermark_t *w, spec_error_t *err)
{
    if (!spec_resource_path_valid(w->image))
        return spec_fail(err, "watermark: the image must be a path under the data directory");
    if (!spec_position_name(w->position))
        return spec_fail(err, "watermark: unknown position");
    if (!spec_offset_valid(w->offset_x) || !spec_offset_valid(w->offset_y))
        return spec_fail(err, "watermark: offsets must be 0..%d pixels", SPEC_OFFSET_MAX);
    if (!spec_opacity_valid(w->opacity))
        return spec_fail(err, "watermark: the opacity must be a number 0..1");
    return true;
}

static bool spec_json_number(json_t *o, const char *key, const char *kind, double *out, spec_error_t *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return spec_fail(err, "%s spec: '%s' is missing", kind, key);
    if (!json_is_number(v))
        return spec_fail(err, "%s spec: '%s' must be a number", kind, key);
    *out = json_number_value(v);
    return true;
}

bool spec_watermark_parse(const char *json_text, spec_watermark_t *out, spec_error_t *err)
{
    static const char *const members[] = {"image", "position", "offsetX", "offsetY", "opacity"};
    json_t *o = spec_json_load(json_text, "watermark", err);
    if (!o)
        return false;
    spec_watermark_init(out);
    int position = 0;
    bool ok = spec_json_only(o, members, SPEC_ARRAY_LEN(members), "watermark", err) &&
              spec_json_copy(o, "image", "watermark", out->image, sizeof(out->image), err) &&
              spec_json_enum(o, "position", "watermark", spec_position_names, SPEC_ARRAY_LEN(spec_position_names),
                             &position, err) &&
              spec_json_int(o, "offsetX", "watermark", &out->offset_x, err) &&
              spec_json_int(o, "offsetY", "watermark", &out->offset_y, err) &&
              spec_json_number(o, "opacity", "watermark", &out->opacity, err);
    out->position = (enum spec_position)position;
    json_decref(o);
    return ok && spec_watermark_check(out, err);
}

char *spec_watermark_to_json(const spec_watermark_t *w)
{
    if (!spec_position_name(w->position))
        return NULL;
    return spec_json_finish(json_pack("{s:s, s:s, s:i, s:i, s:f}", "image", w->image, "position",
                                      spec_position_name(w->position), "offsetX", w->offset_x, "offsetY",
                                      w->offset_y, "opacity", w->opacity));
}

/* ---- subtitle ---- */

void spec_subtitle_init(spec_subtitle_t *s)
{
    memset(s, 0, sizeof(*s));
    s->format = SPEC_SUBTITLE_SRT;
    memcpy(s->language, "und", 4);
    s->mode = SPEC_SUBTITLE_BURN;
}

bool spec_subtitle_check(const spec_subtitle_t *s, spec_error_t *err)
{
    if (!spec_resource_path_valid(s->file))
        return spec_fail(err, "subtitle: the file must be a path under the data directory");
    if (!spec_subtitle_format_name(s->format))
        return spec_fail(err, "subtitle: unknown format");
    if (!spec_language_valid(s->language))
        return spec_fail(err, "subtitle: '%s' is not a language code like en or pt-BR", s->language);
    if (!spec_subtitle_mode_name(s->mode))
        return spec_fail(err, "subtitle: unknown mode");
    return true;
}

bool spec_subtitle_parse(const char *json_text, spec_subtitle_t *out, spec_error_t *err)
{
    static const char *const members[] = {"file", "format", "language", "mode"};
    json_t *o = spec_json_load(json_text, "subtitle", err);
    if (!o)
        return false;
    spec_subtitle_init(out);
    int format = 0, mode = SPEC_SUBTITLE_BURN; /* subtitles stored before modes burn */
    bool ok = spec_json_only(o, members, SPEC_ARRAY_LEN(members), "subtitle", err) &&
              spec_json_copy(o, "file", "subtitle", out->file, sizeof(out->file), err) &&
              spec_json_enum(o, "format", "subtitle", spec_subtitle_format_names,
                             SPEC_ARRAY_LEN(spec_subtitle_format_names), &format, err) &&
              spec_json_copy(o, "language", "subtitle", out->language, sizeof(out->language), err) &&
              (!json_object_get(o, "mode") ||
               spec_json_enum(o, "mode", "subtitle", spec_subtitle_mode_names,
                              SPEC_ARRAY_LEN(spec_subtitle_mode_names), &mode, err));
    out->format = (enum spec_subtitle_format)format;
    out->mode = (enum spec_subtitle_mode)mode;
    json_decref(o);
    return ok && spec_subtitle_check(out, err);
}

char *spec_subtitle_to_json(const spec_subtitle_t *s)
{
    if (!spec_subtitle_format_name(s->format) || !spec_subtitle_mode_name(s->mode))
        return NULL;
    return spec_json_finish(json_pack("{s:s, s:s, s:s, s:s}", "file", s->file, "format",
                                      spec_subtitle_format_name(s->format), "language", s->language, "mode",
                                      spec_subtitle_mode_name(s->mode)));
}

/* ---- workflow ---- */

/* What a step's reference is, for messages. */
static const char *spec_step_ref_what(enum spec_step_kind k)
{
    return k == SPEC_STEP_SUBTITLE ? "a subtitleId" : k == SPEC_STEP_WATERMARK ? "a watermark name" : "a template name";
}

static bool spec_step_check(const spec_step_t *s, size_t index, spec_error_t *err)
{
    const char *kind = spec_step_kind_name(s->kind);
    if (!kind)
        return spec_fail(err, "workflow: step %zu has an unknown kind", index + 1);
    if (!spec_step_kind_takes_ref(s->kind) && s->ref[0])
        return spec_fail(err, "workflow: step '%s' takes no argument", kind);
    if (spec_step_kind_takes_ref(s->kind) && !spec_name_valid(s->ref))
        return spec_fail(err, "workflow: step '%s' needs %s (1..%d of A-Z a-z 0-9 . _ -): %s=NAME", kind,
                         spec_step_ref_what(s->kind), SPEC_NAME_MAX, kind);
    return true;
}

bool spec_step_parse_text(const char *text, spec_step_t *out, spec_error_t *err)
{
    const char *eq = strchr(text, '=');
    size_t klen = eq ? (size_t)(eq - text) : strlen(text);
    char kind[16];
    int k;
    snprintf(kind, sizeof(kind), "%.*s", (int)(klen < sizeof(kind) ? klen : sizeof(kind) - 1), text);
    if (klen >= sizeof(kind) ||
        !spec_enum_parse(spec_step_kind_names, SPEC_ARRAY_LEN(spec_step_kind_names), kind, &k))
        return spec_fail(err, "workflow: unknown step '%.*s' (probe, snapshot, transcode=TEMPLATE, "
                              "watermark=NAME or subtitle=SUBTITLEID)",
                         (int)klen, text);
    memset(out, 0, sizeof(*out));
    out->kind = (enum spec_step_kind)k;
    if (eq && !spec_step_kind_takes_ref(out->kind))
        return spec_fail(err, "workflow: step '%s' takes no argument", kind);
    if (eq && strlen(eq + 1) > SPEC_NAME_MAX)
        return spec_fail(err, "workflow: step '%s': the name is longer than %d", kind, SPEC_NAME_MAX);
    if (eq)
        memcpy(out->ref, eq + 1, strlen(eq + 1) + 1);
    return spec_step_check(out, 0, err);
}

/* Steps of the same kind: probe, snapshot, watermark and subtitle once
 * each; transcode once per template. */
static bool spec_steps_clash(const spec_step_t *a, const spec_step_t *b)
{
    return a->kind == b->kind && (a->kind != SPEC_STEP_TRANSCODE || !strcmp(a->ref, b->ref));
}

bool spec_workflow_check(const spec_workflow_t *w, spec_error_t *err)
{
    if (w->step_count == 0)
        return spec_fail(err, "workflow: it needs at least one step");
    if (w->step_count > SPEC_WORKFLOW_STEPS_MAX)
        return spec_fail(err, "workflow: it has at most %d steps", SPEC_WORKFLOW_STEPS_MAX);
    for (size_t i = 0; i < w->step_count; i++) {
        if (!spec_step_check(&w->steps[i], i, err))
            return false;
        for (size_t j = 0; j < i; j++)
            if (spec_steps_clash(&w->steps[j], &w->steps[i]))
                return spec_fail(err, "workflow: steps %zu and %zu are both '%s%s%s'%s", j + 1, i + 1,
                                 spec_step_kind_name(w->steps[i].kind), w->steps[i].ref[0] ? "=" : "",
                                 w->steps[i].ref,
                                 w->steps[i].kind == SPEC_STEP_TRANSCODE ? ""
                                                                         : "; a workflow has one of each");
    }
    return true;
}

static bool spec_step_read(json_t *o, spec_step_t *s, spec_error_t *err)
{
    int k;
    if (!json_is_object(o))
        return spec_fail(err, "workflow spec: each step must be an object");
    if (!spec_json_enum(o, "kind", "workflow", spec_step_kind_names, SPEC_ARRAY_LEN(spec_step_kind_names), &k, err))
        return false;
    s->kind = (enum spec_step_kind)k;
    const char *member = spec_step_ref_members[k];
    const char *members[] = {"kind", member};
    return spec_json_only(o, members, member ? 2 : 1, "workflow", err) &&
           (!member || spec_json_copy(o, member, "workflow", s->ref, sizeof(s->ref), err));
}

bool spec_workflow_parse(const char *json_text, spec_workflow_t *out, spec_error_t *err)
{
    static const char *const members[] = {"steps"};
    json_t *o = spec_json_load(json_text, "workflow", err);
    if (!o)
        return false;
    memset(out, 0, sizeof(*out));
    json_t *steps = json_object_get(o, "steps");
    bool ok = spec_json_only(o, members, 1, "workflow", err);
    if (ok && !json_is_array(steps))
        ok = spec_fail(err, "workflow spec: 'steps' must be an array");
    if (ok && json_array_size(steps) > SPEC_WORKFLOW_STEPS_MAX)
        ok = spec_fail(err, "workflow: it has at most %d steps", SPEC_WORKFLOW_STEPS_MAX);
    for (size_t i = 0; ok && i < json_array_size(steps); i++, out->step_count++)
        ok = spec_step_read(json_array_get(steps, i), &out->steps[i], err);
    json_decref(o);
    return ok && spec_workflow_check(out, err);
}

static json_t *spec_step_to_json(const spec_step_t *s)
{
    const char *member = spec_step_ref_members[s->kind];
    if (member)
        return json_pack("{s:s, s:s}", "kind", spec_step_kind_name(s->kind), member, s->ref);
    return json_pack("{s:s}", "kind", spec_step_kind_name(s->kind));
}

char *spec_workflow_to_json(const spec_workflow_t *w)
{
    json_t *steps = json_array();
    for (size_t i = 0; steps && i < w->step_count && i < SPEC_WORKFLOW_STEPS_MAX; i++) {
        if (!spec_step_kind_name(w->steps[i].kind) ||
            json_array_append_new(steps, spec_step_to_json(&w->steps[i])) != 0) {
            json_decref(steps);
            return NULL;
        }
    }
    return steps ? spec_json_finish(json_pack("{s:o}", "steps", steps)) : NULL;
}

void spec_workflow_format(const spec_workflow_t *w, char *out, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    out[0] = '\0';
    for (size_t i = 0; i < w->step_count && used < len; i++) {
        const spec_step_t *s = &w->steps[i];
        int n = snprintf(out + used, len - used, "%s%s%s%s", i ? "," : "", spec_step_kind_name(s->kind),
                         s->ref[0] ? "=" : "", s->ref);
        used += n > 0 ? (size_t)n : 0;
    }
}
