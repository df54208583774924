/*
 * fops: the vendor's fops text read into vodup tasks; see fops.h for the
 * contract and the grammar.
 *
 * The text is walked in place as spans (pointer and length): it is never
 * copied whole, never NUL-terminated and never trusted to be text.  Only the
 * short pieces that a NUL-terminated check needs (a key segment, the decoded
 * saveas entry) are copied, into fixed buffers on the stack.  Each command
 * is a table of parameters with one handler each, so a parameter the engine
 * gains later is one row and one function.
 */
#include "process/fops.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "process/output_key.h"

#define FOPS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
/* A quoted part: the quotes, FOPS_QUOTE_MAX characters, "..." and the NUL. */
#define FOPS_QUOTE_BUF (FOPS_QUOTE_MAX + 6)
/* The decoded saveas entry: bucket ":" key. */
#define FOPS_ENTRY_MAX (FOPS_BUCKET_MAX + 1 + FOPS_KEY_MAX)
/* The longest base64 text that can decode to FOPS_ENTRY_MAX bytes, padded. */
#define FOPS_ENTRY_ENCODED_MAX ((size_t)(FOPS_ENTRY_MAX + 2) / 3 * 4)
/* 9 decimal digits cannot overflow any integer type used here. */
#define FOPS_DIGITS_MAX 9

/* Bytes of the caller's text. */
typedef struct fops_span {
    const char *p;
    size_t n;
} fops_span_t;

typedef struct fops_ctx fops_ctx_t;
typedef struct fops_param fops_param_t;

/* Applies one parameter's value to the task; reports its own error. */
typedef bool (*fops_param_fn)(fops_ctx_t *c, const fops_param_t *p, fops_span_t value);

struct fops_param {
    const char *name;
    fops_param_fn apply;
};

typedef struct fops_command {
    const char *name;
    const char *example; /* shown when the format is missing */
    bool (*format)(fops_ctx_t *c, fops_span_t format);
    const fops_param_t *params;
    size_t param_count;
    bool (*finish)(fops_ctx_t *c); /* rules between parameters, once all are read */
} fops_command_t;

/* One task's parse: where its errors go and what they name. */
struct fops_ctx {
    fops_error_t *err;
    size_t index; /* 1-based, as the message shows it */
    fops_task_t *task;
    const fops_command_t *command;
    unsigned seen; /* bit i: the command's parameter i was given */
};

/* ---- errors ---- */

/* Renders s between quotes for a one-line message: bytes outside printable
 * ASCII, '"' and '\' as \xNN, cut at FOPS_QUOTE_MAX characters. */
static const char *fops_quote(fops_span_t s, char out[FOPS_QUOTE_BUF])
{
    size_t o = 0;
    out[o++] = '"';
    for (size_t i = 0; i < s.n; i++) {
        unsigned char ch = (unsigned char)s.p[i];
        bool plain = ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\';
        if (o - 1 + (plain ? 1 : 4) > FOPS_QUOTE_MAX) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (plain)
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, 5, "\\x%02x", ch);
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

static const char *fops_quote_str(const char *s, char out[FOPS_QUOTE_BUF])
{
    return fops_quote((fops_span_t){s, strlen(s)}, out);
}

__attribute__((format(printf, 3, 0))) static bool fops_vfail(fops_error_t *err, size_t task, const char *fmt,
                                                              va_list ap)
{
    if (!err)
        return false;
    int n = task ? snprintf(err->message, FOPS_ERROR_MAX, "fops: task %zu: ", task)
                 : snprintf(err->message, FOPS_ERROR_MAX, "fops: ");
    vsnprintf(err->message + n, FOPS_ERROR_MAX - (size_t)n, fmt, ap);
    return false;
}

/* A fault of the whole text (task 0) or of one task. */
__attribute__((format(printf, 3, 4))) static bool fops_fail(fops_error_t *err, size_t task, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fops_vfail(err, task, fmt, ap);
    va_end(ap);
    return false;
}

__attribute__((format(printf, 2, 3))) static bool fops_task_fail(fops_ctx_t *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fops_vfail(c->err, c->index, fmt, ap);
    va_end(ap);
    return false;
}

/* "<command> parameter "<name>" value "<value>" <why>". */
static bool fops_bad_value(fops_ctx_t *c, const fops_param_t *p, fops_span_t value, const char *why)
{
    char q[FOPS_QUOTE_BUF];
    return fops_task_fail(c, "%s parameter \"%s\" value %s %s", c->command->name, p->name, fops_quote(value, q), why);
}

/* ---- spans and numbers ---- */

/* Cuts *s at its first `sep`: *head gets what precedes it and *s what
 * follows.  Without a `sep`, *head gets all of *s, *s is left empty and the
 * answer is false. */
static bool fops_cut(fops_span_t *s, char sep, fops_span_t *head)
{
    const char *at = s->n ? memchr(s->p, sep, s->n) : NULL;
    size_t used = at ? (size_t)(at - s->p) + 1 : s->n;
    *head = (fops_span_t){s->p, at ? used - 1 : used};
    s->p += used;
    s->n -= used;
    return at != NULL;
}

static bool fops_is(fops_span_t s, const char *word)
{
    return s.n == strlen(word) && memcmp(s.p, word, s.n) == 0;
}

/* 1..FOPS_DIGITS_MAX decimal digits: no sign, space, exponent or base. */
static bool fops_digits(fops_span_t s, long *out)
{
    long v = 0;
    if (s.n == 0 || s.n > FOPS_DIGITS_MAX)
        return false;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        v = v * 10 + (s.p[i] - '0');
    }
    *out = v;
    return true;
}

/* digits ["." 1..places digits], read as an integer count of
 * 10^-places units ("1.25" with 6 places is 1250000): exact, no float. */
static bool fops_decimal(fops_span_t s, int places, int64_t *out)
{
    fops_span_t whole;
    long w, f = 0;
    bool dot = fops_cut(&s, '.', &whole);
    if (!fops_digits(whole, &w))
        return false;
    if (dot && (s.n > (size_t)places || !fops_digits(s, &f)))
        return false;
    for (size_t i = dot ? s.n : 0; i < (size_t)places; i++)
        f *= 10;
    int64_t unit = 1;
    for (int i = 0; i < places; i++)
        unit *= 10;
    *out = (int64_t)w * unit + f;
    return true;
}

/* A bitrate in bits per second with an optional k or m, to kb/s rounded to
 * the nearest.  The suffix sets how many decimals make sense: "2.5k" is
 * 2500 b/s, "1.25m" 1250000 b/s, a plain number has none. */
static bool fops_bitrate(fops_span_t s, int64_t *kbps)
{
    int places = 0;
    char last = '\0';
    if (s.n)
        last = s.p[s.n - 1];
    if (last == 'k' || last == 'K')
        places = 3;
    else if (last == 'm' || last == 'M')
        places = 6;
    if (places)
        s.n--;
    int64_t bps;
    if (!fops_decimal(s, places, &bps))
        return false;
    *kbps = (bps + 500) / 1000;
    return true;
}

/* A side of a box: a decimal in vodup's rendition range. */
static bool fops_side(fops_span_t s, int *out)
{
    long v;
    if (!fops_digits(s, &v) || v < SPEC_DIMENSION_MIN || v > SPEC_DIMENSION_MAX)
        return false;
    *out = (int)v;
    return true;
}

/* ---- the saveas entry ---- */

static int fops_b64_value(unsigned char ch)
{
    if (ch >= 'A' && ch <= 'Z')
        return ch - 'A';
    if (ch >= 'a' && ch <= 'z')
        return ch - 'a' + 26;
    if (ch >= '0' && ch <= '9')
        return ch - '0' + 52;
    return ch == '-' ? 62 : ch == '_' ? 63 : -1;
}

/* URL-safe base64 with the rules of encoding_b64url_decode (padding
 * optional, at most two '=', zero leftover bits: one text, one encoding),
 * into a fixed buffer, since this parser allocates nothing.  `out` has room
 * for 3/4 of s.n bytes. */
static bool fops_b64url_decode(fops_span_t s, char *out, size_t *len)
{
    size_t pad = 0, o = 0;
    uint32_t acc = 0;
    int bits = 0;
    while (s.n > 0 && s.p[s.n - 1] == '=' && pad < 2) {
        s.n--;
        pad++;
    }
    if (s.n == 0 || s.n % 4 == 1 || (pad > 0 && (s.n + pad) % 4 != 0))
        return false;
    for (size_t i = 0; i < s.n; i++) {
        int v = fops_b64_value((unsigned char)s.p[i]);
        if (v < 0)
            return false;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (char)(acc >> bits);
        }
    }
    *len = o;
    return bits == 0 || (acc & ((1u << bits) - 1)) == 0;
}

/* Every '/'-separated segment passes output_key_segment_ok, the rule every
 * output key vodup makes obeys; that leaves no "..", no empty segment and
 * no byte that needs escaping anywhere a key goes. */
static bool fops_key_segments_ok(const char *key)
{
    for (const char *p = key;;) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);
        char segment[OUTPUT_KEY_SEGMENT_MAX + 1];
        if (n > OUTPUT_KEY_SEGMENT_MAX)
            return false;
        memcpy(segment, p, n);
        segment[n] = '\0';
        if (!output_key_segment_ok(segment))
            return false;
        if (!slash)
            return true;
        p = slash + 1;
    }
}

static bool fops_saveas_bucket(fops_ctx_t *c, fops_span_t bucket)
{
    char q[FOPS_QUOTE_BUF];
    if (bucket.n > FOPS_BUCKET_MAX)
        return fops_task_fail(c, "saveas bucket %s is longer than %d bytes", fops_quote(bucket, q), FOPS_BUCKET_MAX);
    memcpy(c->task->bucket, bucket.p, bucket.n);
    c->task->bucket[bucket.n] = '\0';
    if (!spec_name_valid(c->task->bucket))
        return fops_task_fail(c, "saveas bucket %s is not a bucket name (A-Z a-z 0-9 . _ -, not starting with '.')",
                              fops_quote(bucket, q));
    return true;
}

static bool fops_saveas_key(fops_ctx_t *c, fops_span_t key)
{
    char q[FOPS_QUOTE_BUF];
    if (key.n == 0)
        return fops_task_fail(c, "saveas names bucket %s but no key", fops_quote_str(c->task->bucket, q));
    if (key.n > FOPS_KEY_MAX)
        return fops_task_fail(c, "saveas key %s is longer than %d bytes", fops_quote(key, q), FOPS_KEY_MAX);
    memcpy(c->task->key, key.p, key.n);
    c->task->key[key.n] = '\0';
    if (!fops_key_segments_ok(c->task->key))
        return fops_task_fail(c, "saveas key %s is not a key vodup stores ('/'-separated segments of 1..%d of "
                                 "A-Z a-z 0-9 . _ -, none starting with '.')",
                              fops_quote(key, q), OUTPUT_KEY_SEGMENT_MAX);
    /* The playback origin leaves /vod/ to the API: such an object could never be served. */
    if (strcmp(c->task->key, "vod") == 0 || strncmp(c->task->key, "vod/", 4) == 0)
        return fops_task_fail(c, "saveas key %s is in vodup's API namespace \"vod/\"", fops_quote(key, q));
    return true;
}

/* "saveas/<entry>" after the task's '|'. */
static bool fops_saveas_parse(fops_ctx_t *c, fops_span_t s)
{
    char q[FOPS_QUOTE_BUF], entry[FOPS_ENTRY_MAX];
    fops_span_t step, bucket;
    size_t n;
    bool has_value = fops_cut(&s, '/', &step);
    if (step.n == 0 && !has_value)
        return fops_task_fail(c, "nothing follows \"|\" (saveas/<entry> may)");
    if (!fops_is(step, "saveas"))
        return fops_task_fail(c, "only saveas may follow \"|\", not %s", fops_quote(step, q));
    if (!has_value || s.n == 0)
        return fops_task_fail(c, "saveas has no value");
    if (s.n > FOPS_ENTRY_ENCODED_MAX)
        return fops_task_fail(c, "saveas value is longer than %zu bytes", FOPS_ENTRY_ENCODED_MAX);
    if (!fops_b64url_decode(s, entry, &n))
        return fops_task_fail(c, "saveas value %s is not URL-safe base64", fops_quote(s, q));
    fops_span_t key = {entry, n};
    if (memchr(entry, '\0', n) || !fops_cut(&key, ':', &bucket) || bucket.n == 0)
        return fops_task_fail(c, "saveas value decodes to %s, not \"bucket:key\"",
                              fops_quote((fops_span_t){entry, n}, q));
    c->task->has_saveas = true;
    return fops_saveas_bucket(c, bucket) && fops_saveas_key(c, key);
}

/* ---- avthumb ---- */

static bool fops_av_format(fops_ctx_t *c, fops_span_t format)
{
    char q[FOPS_QUOTE_BUF];
    fops_transcode_t *t = &c->task->transcode;
    c->task->kind = FOPS_TRANSCODE;
    if (fops_is(format, "mp4"))
        t->container = SPEC_CONTAINER_MP4;
    else if (fops_is(format, "m3u8"))
        t->container = SPEC_CONTAINER_HLS;
    else
        return fops_task_fail(c, "avthumb format %s is not supported (mp4 or m3u8)", fops_quote(format, q));
    t->video_codec = spec_container_default_video(t->container);
    t->audio_codec = spec_container_default_audio(t->container);
    return true;
}

static bool fops_av_size(fops_ctx_t *c, const fops_param_t *p, fops_span_t value)
{
    fops_span_t width, height = value;
    fops_transcode_t *t = &c->task->transcode;
    if (!fops_cut(&height, 'x', &width) || !fops_side(width, &t->width) || !fops_side(height, &t->height))
        return fops_bad_value(c, p, value, "is not a size WxH with sides of 16..8192, such as 1280x720");
    return true;
}

/* vb and ab: the same syntax, each with vodup's own range. */
static bool fops_av_bitrate(fops_ctx_t *c, const fops_param_t *p, fops_span_t value, int max, int *out)
{
    char why[96];
    int64_t kbps;
    if (!fops_bitrate(value, &kbps))
        return fops_bad_value(c, p, value, "is not a bitrate in bit/s such as 2500k, 1.25m or 2500000");
    if (kbps < 1 || kbps > max) {
        snprintf(why, sizeof(why), "is not within 1..%d kb/s", max);
        return fops_bad_value(c, p, value, why);
    }
    *out = (int)kbps;
    return true;
}

static bool fops_av_video_bitrate(fops_ctx_t *c, const fops_param_t *p, fops_span_t value)
{
    return fops_av_bitrate(c, p, value, SPEC_VIDEO_BITRATE_MAX, &c->task->transcode.video_bitrate);
}

static bool fops_av_audio_bitrate(fops_ctx_t *c, const fops_param_t *p, fops_span_t value)
{
    return fops_av_bitrate(c, p, value, SPEC_AUDIO_BITRATE_MAX, &c->task->transcode.audio_bitrate);
}

/* The vendor's codec names (ffmpeg's encoders, and WCS's own libws265) onto
 * vodup's.  Plain "libvpx" is not here: the vendor uses it for VP8 too. */
static const struct {
    const char *name;
    enum spec_video_codec codec;
} fops_video_codecs[] = {
    {"libx264", SPEC_VIDEO_H264},  {"libx265", SPEC_VIDEO_H265},    {"libws265", SPEC_VIDEO_H265},
    {"libvpx-vp9", SPEC_VIDEO_VP9}, {"libsvtav1", SPEC_VIDEO_AV1},  {"libaom-av1", SPEC_VIDEO_AV1},
    {"copy", SPEC_VIDEO_COPY},
};

static const struct {
    const char *name;
    enum spec_audio_codec codec;
} fops_audio_codecs[] = {
    {"libfdk_aac", SPEC_AUDIO_AAC}, {"libfaac", SPEC_AUDIO_AAC}, {"aac", SPEC_AUDIO_AAC},
    {"libmp3lame", SPEC_AUDIO_MP3}, {"libopus", SPEC_AUDIO_OPUS}, {"opus", SPEC_AUDIO_OPUS},
    {"copy", SPEC_AUDIO_COPY},
};

static bool fops_av_vcodec(fops_ctx_t *c, const fops_param_t *p, fops_span_t value)
{
    fops_transcode_t *t = &c->task->transcode;
    for (size_t i = 0; i < FOPS_ARRAY_LEN(fops_video_codecs); i++) {
        if (!fops_is(value, fops_video_codecs[i].name))
            continue;
        t->video_codec = fops_video_codecs[i].codec;
        if (!spec_container_holds_video(t->container, t->video_codec))
            return fops_bad_value(c, p, value, "cannot go in m3u8 (libx264, libx265, libws265 or copy)");
        return true;
    }
    return fops_bad_value(c, p, value,
                          "is not supported (libx264, libx265, libws265, libvpx-vp9, libsvtav1, libaom-av1 or copy)");
}

static bool fops_av_acodec(fops_ctx_t *c, const fops_param_t *p, fops_span_t value)
{
    fops_transcode_t *t = &c->task->transcode;
    for (size_t i = 0; i < FOPS_ARRAY_LEN(fops_audio_codecs); i++) {
        if (!fops_is(value, fops_audio_codecs[i].name))
            continue;
        t->audio_codec = fops_audio_codecs[i].codec;
        if (!spec_container_holds_audio(t->container, t->audio_codec))
            return fops_bad_value(c, p, value, "cannot go in m3u8 (libfdk_aac, libfaac, aac, libmp3lame or copy)");
        return true;
    }
    return fops_bad_value(c, p, value,
                          "is not supported (libfdk_aac, libfaac, aac, libmp3lame, libopus, opus or copy)");
}

static bool fops_av_segtime(fops_ctx_t *c, const fops_param_t *p, fops_span_t value)
{
    long v;
    if (c->task->transcode.container != SPEC_CONTAINER_HLS)
        return fops_task_fail(c, "avthumb parameter \"segtime\" is for m3u8 only");
    if (!fops_digits(value, &v) || v < 1 || v > FOPS_SEGMENT_SECONDS_MAX)
        return fops_bad_value(c, p, value, "is not a whole number of seconds within 1..120");
    c->task->transcode.segment_seconds = (int)v;
    return true;
}

/* an/vn: 1 drops a track, which no vodup template does; 0 is the default. */
static bool fops_av_keep_track(fops_ctx_t *c, const fops_param_t *p, fops_span_t value)
{
    if (fops_is(value, "0"))
        return true;
    if (fops_is(value, "1"))
        return fops_bad_value(c, p, value, "is not supported: vodup keeps every track");
    return fops_bad_value(c, p, value, "is not 0 or 1");
}

/* A copied stream keeps its own size and bitrate (spec_template_check). */
static bool fops_av_finish(fops_ctx_t *c)
{
    const fops_transcode_t *t = &c->task->transcode;
    if (t->video_codec == SPEC_VIDEO_COPY && (t->width || t->video_bitrate))
        return fops_task_fail(c, "avthumb vcodec \"copy\" keeps the source's picture: it takes no s or vb");
    if (t->audio_codec == SPEC_AUDIO_COPY && t->audio_bitrate)
        return fops_task_fail(c, "avthumb acodec \"copy\" keeps the source's audio: it takes no ab");
    return true;
}

static const fops_param_t fops_avthumb_params[] = {
    {"s", fops_av_size},         {"vb", fops_av_video_bitrate}, {"ab", fops_av_audio_bitrate},
    {"vcodec", fops_av_vcodec},  {"acodec", fops_av_acodec},    {"segtime", fops_av_segtime},
    {"an", fops_av_keep_track},  {"vn", fops_av_keep_track},
};

/* ---- vframe ---- */

static bool fops_vf_format(fops_ctx_t *c, fops_span_t format)
{
    char q[FOPS_QUOTE_BUF];
    c->task->kind = FOPS_SNAPSHOT;
    if (!fops_is(format, "jpg"))
        return fops_task_fail(c, "vframe format %s is not supported (jpg only)", fops_quote(format, q));
    c->task->snapshot.offset_ms = -1; /* until "offset" is read: it is required */
    return true;
}

static bool fops_vf_offset(fops_ctx_t *c, const fops_param_t *p, fops_span_t value)
{
    int64_t ms;
    if (!fops_decimal(value, 3, &ms))
        return fops_bad_value(c, p, value, "is not a time in seconds such as 7 or 7.25 (at most 3 decimals)");
    if (ms > FOPS_OFFSET_MS_MAX)
        return fops_bad_value(c, p, value, "is past 86400 s");
    c->task->snapshot.offset_ms = ms;
    return true;
}

static bool fops_vf_side(fops_ctx_t *c, const fops_param_t *p, fops_span_t value, int *out)
{
    if (!fops_side(value, out))
        return fops_bad_value(c, p, value, "is not a whole number of pixels within 16..8192");
    return true;
}

static bool fops_vf_width(fops_ctx_t *c, const fops_param_t *p, fops_span_t value)
{
    return fops_vf_side(c, p, value, &c->task->snapshot.width);
}

static bool fops_vf_height(fops_ctx_t *c, const fops_param_t *p, fops_span_t value)
{
    return fops_vf_side(c, p, value, &c->task->snapshot.height);
}

static bool fops_vf_finish(fops_ctx_t *c)
{
    if (c->task->snapshot.offset_ms < 0)
        return fops_task_fail(c, "vframe needs an offset, as in vframe/jpg/offset/1");
    return true;
}

static const fops_param_t fops_vframe_params[] = {
    {"offset", fops_vf_offset},
    {"w", fops_vf_width},
    {"h", fops_vf_height},
};

static const fops_command_t fops_commands[] = {
    {"avthumb", "avthumb/mp4", fops_av_format, fops_avthumb_params, FOPS_ARRAY_LEN(fops_avthumb_params),
     fops_av_finish},
    {"vframe", "vframe/jpg/offset/1", fops_vf_format, fops_vframe_params, FOPS_ARRAY_LEN(fops_vframe_params),
     fops_vf_finish},
};

/* ---- one task ---- */

static bool fops_param_apply(fops_ctx_t *c, fops_span_t name, fops_span_t value)
{
    char q[FOPS_QUOTE_BUF];
    const fops_command_t *cmd = c->command;
    for (size_t i = 0; i < cmd->param_count; i++) {
        if (!fops_is(name, cmd->params[i].name))
            continue;
        if (c->seen & (1u << i))
            return fops_task_fail(c, "%s parameter \"%s\" is given twice", cmd->name, cmd->params[i].name);
        c->seen |= 1u << i;
        if (value.n == 0)
            return fops_task_fail(c, "%s parameter \"%s\" has no value", cmd->name, cmd->params[i].name);
        return cmd->params[i].apply(c, &cmd->params[i], value);
    }
    return fops_task_fail(c, "%s parameter %s is not supported", cmd->name, fops_quote(name, q));
}

/* The name/value pairs after the format. */
static bool fops_params_parse(fops_ctx_t *c, fops_span_t s, bool more)
{
    while (more) {
        fops_span_t name, value;
        (void)fops_cut(&s, '/', &name); /* no "/": s is left empty, so no value */
        if (name.n == 0)
            return fops_task_fail(c, "%s has an empty segment (\"//\" or a trailing \"/\")", c->command->name);
        more = fops_cut(&s, '/', &value); /* without a value: empty, and the last */
        if (!fops_param_apply(c, name, value))
            return false;
    }
    return true;
}

static const fops_command_t *fops_command_find(fops_span_t name)
{
    for (size_t i = 0; i < FOPS_ARRAY_LEN(fops_commands); i++)
        if (fops_is(name, fops_commands[i].name))
            return &fops_commands[i];
    return NULL;
}

/* "<command>/<format>[/<name>/<value>]...". */
static bool fops_command_parse(fops_ctx_t *c, fops_span_t s)
{
    char q[FOPS_QUOTE_BUF];
    fops_span_t name, format = {"", 0};
    bool more = fops_cut(&s, '/', &name);
    c->command = fops_command_find(name);
    if (!c->command)
        return fops_task_fail(c, "command %s is not supported (avthumb or vframe)", fops_quote(name, q));
    if (more)
        more = fops_cut(&s, '/', &format);
    if (format.n == 0)
        return fops_task_fail(c, "%s has no format, as in %s", c->command->name, c->command->example);
    return c->command->format(c, format) && fops_params_parse(c, s, more) && c->command->finish(c);
}

static bool fops_task_parse(fops_span_t text, size_t offset, size_t index, fops_task_t *t, fops_error_t *err)
{
    fops_ctx_t c = {.err = err, .index = index, .task = t};
    fops_span_t command;
    t->text_offset = offset;
    t->text_len = text.n;
    if (text.n == 0)
        return fops_fail(err, 0, "task %zu is empty (a \";\" too many?)", index);
    bool piped = fops_cut(&text, '|', &command);
    return fops_command_parse(&c, command) && (!piped || fops_saveas_parse(&c, text));
}

/* ---- the whole text ---- */

static bool fops_same_command(const fops_task_t *a, const fops_task_t *b)
{
    if (a->kind != b->kind)
        return false;
    if (a->kind == FOPS_SNAPSHOT)
        return a->snapshot.offset_ms == b->snapshot.offset_ms && a->snapshot.width == b->snapshot.width &&
               a->snapshot.height == b->snapshot.height;
    const fops_transcode_t *x = &a->transcode, *y = &b->transcode;
    return x->container == y->container && x->video_codec == y->video_codec && x->audio_codec == y->audio_codec &&
           x->width == y->width && x->height == y->height && x->video_bitrate == y->video_bitrate &&
           x->audio_bitrate == y->audio_bitrate && x->segment_seconds == y->segment_seconds;
}

/* The last task against the ones before it: two outputs at one place, or
 * one output made twice, is a mistake in the request. */
static bool fops_task_unique(const fops_t *f, fops_error_t *err)
{
    const fops_task_t *last = &f->tasks[f->task_count - 1];
    char qb[FOPS_QUOTE_BUF], qk[FOPS_QUOTE_BUF];
    for (size_t i = 0; i + 1 < f->task_count; i++) {
        const fops_task_t *t = &f->tasks[i];
        if (t->has_saveas && last->has_saveas && !strcmp(t->bucket, last->bucket) && !strcmp(t->key, last->key))
            return fops_fail(err, 0, "tasks %zu and %zu both save to bucket %s key %s", i + 1, f->task_count,
                             fops_quote_str(t->bucket, qb), fops_quote_str(t->key, qk));
        if (!t->has_saveas && !last->has_saveas && fops_same_command(t, last))
            return fops_fail(err, 0, "tasks %zu and %zu are the same", i + 1, f->task_count);
    }
    return true;
}

static bool fops_abort(fops_t *out)
{
    memset(out, 0, sizeof(*out));
    return false;
}

bool fops_parse(const char *text, size_t len, fops_t *out, fops_error_t *err)
{
    memset(out, 0, sizeof(*out));
    if (!text || len == 0)
        return fops_fail(err, 0, "the text is empty");
    if (len > FOPS_TEXT_MAX)
        return fops_fail(err, 0, "the text is longer than %d bytes", FOPS_TEXT_MAX);
    fops_span_t rest = {text, len}, task;
    for (bool more = true; more;) {
        more = fops_cut(&rest, ';', &task);
        if (out->task_count == FOPS_TASKS_MAX) {
            fops_abort(out);
            return fops_fail(err, 0, "more than %d tasks", FOPS_TASKS_MAX);
        }
        out->task_count++;
        if (!fops_task_parse(task, (size_t)(task.p - text), out->task_count, &out->tasks[out->task_count - 1], err) ||
            !fops_task_unique(out, err))
            return fops_abort(out);
    }
    return true;
}

void fops_transcode_template(const fops_transcode_t *t, spec_template_t *out)
{
    spec_template_init(out, t->container);
    out->video_codec = t->video_codec;
    out->audio_codec = t->audio_codec;
    out->audio_bitrate = t->audio_bitrate;
    out->rendition_count = 1;
    out->renditions[0] = (spec_rendition_t){t->width, t->height, t->video_bitrate};
}

const char *fops_kind_name(enum fops_kind k)
{
    switch (k) {
    case FOPS_TRANSCODE:
        return "transcode";
    case FOPS_SNAPSHOT:
        return "snapshot";
    }
    return NULL;
}
