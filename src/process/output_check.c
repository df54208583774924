/* output_check: measuring a task's outputs; see output_check.h. */
#include "process/output_check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "store/store.h"

#define OUTPUT_CHECK_PLAYLIST_MAX (4 << 20) /* a 24 h variant at 6 s segments is ~1 MB */
#define OUTPUT_CHECK_PATH_MAX 4096

bool output_check_long_enough(double duration, double source)
{
    double slack = source * 0.05 > 0.5 ? source * 0.05 : 0.5;
    return duration + slack >= source;
}

/* Calls fn for each line of text (without its end of line). */
static void output_check_lines(const char *text, size_t len, void (*fn)(void *arg, const char *line, size_t n),
                               void *arg)
{
    for (size_t i = 0; i < len;) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (text + i)) : len - i;
        size_t m = n && text[i + n - 1] == '\r' ? n - 1 : n;
        fn(arg, text + i, m);
        i += n + 1;
    }
}

static void output_check_extinf(void *arg, const char *line, size_t n)
{
    static const char tag[] = "#EXTINF:";
    char num[64];
    if (n <= sizeof(tag) - 1 || memcmp(line, tag, sizeof(tag) - 1) != 0)
        return;
    size_t len = n - (sizeof(tag) - 1) < sizeof(num) - 1 ? n - (sizeof(tag) - 1) : sizeof(num) - 1;
    memcpy(num, line + sizeof(tag) - 1, len);
    num[len] = '\0';
    double d = strtod(num, NULL);
    if (d > 0)
        *(double *)arg += d;
}

double output_check_playlist_duration(const char *text, size_t len)
{
    double total = 0;
    output_check_lines(text, len, output_check_extinf, &total);
    return total;
}

static void output_check_bandwidth(void *arg, const char *line, size_t n)
{
    static const char tag[] = "#EXT-X-STREAM-INF:";
    char copy[1024];
    if (n <= sizeof(tag) - 1 || n >= sizeof(copy) || memcmp(line, tag, sizeof(tag) - 1) != 0)
        return;
    memcpy(copy, line, n);
    copy[n] = '\0';
    /* BANDWIDTH=, not AVERAGE-BANDWIDTH=: the attribute after ':' or ','. */
    for (char *p = strstr(copy, "BANDWIDTH="); p; p = strstr(p + 1, "BANDWIDTH=")) {
        if (p[-1] != ':' && p[-1] != ',')
            continue;
        long long v = strtoll(p + 10, NULL, 10);
        if (v > *(int64_t *)arg)
            *(int64_t *)arg = v;
    }
}

int64_t output_check_master_bandwidth(const char *text, size_t len)
{
    int64_t max = 0;
    output_check_lines(text, len, output_check_bandwidth, &max);
    return max;
}

static bool output_check_fail(char *err, size_t errlen, const char *what, const char *key)
{
    snprintf(err, errlen, "transcode: %s: %s", what, key);
    return false;
}

static bool output_check_duration(double duration, double source, char *err, size_t errlen)
{
    if (output_check_long_enough(duration, source))
        return true;
    snprintf(err, errlen, "transcode: output lasts %.2f s of the source's %.2f s (a truncated source?)", duration,
             source);
    return false;
}

/* Reads a small text file whole. */
static bool output_check_read(const char *path, buf_t *text)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return false;
    char chunk[8192];
    size_t n;
    bool ok = true;
    while (ok && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        ok = text->len + n <= OUTPUT_CHECK_PLAYLIST_MAX && buf_append(text, chunk, n);
    ok = ok && !ferror(fp);
    fclose(fp);
    return ok;
}

static bool output_check_path(char *out, size_t len, const char *dir, const char *key)
{
    int n = snprintf(out, len, "%s/%s", dir, key);
    return n > 0 && (size_t)n < len;
}

static int output_check_type(const plan_output_t *po)
{
    switch (po->kind) {
    case PLAN_OUTPUT_HLS: return STORE_OUTPUT_HLS;
    case PLAN_OUTPUT_VTT: return STORE_OUTPUT_VTT;
    case PLAN_OUTPUT_COVER: return STORE_OUTPUT_COVER;
    case PLAN_OUTPUT_FRAME: return STORE_OUTPUT_JPG;
    default:
        return po->container == SPEC_CONTAINER_WEBM  ? STORE_OUTPUT_WEBM
               : po->container == SPEC_CONTAINER_MKV ? STORE_OUTPUT_MKV
                                                      : STORE_OUTPUT_MP4;
    }
}

/* An mp4/webm/mkv rendition: it covers the source when ffmpeg's run got to
 * the source's end, and then lasts as long as the source.  (out_time is the
 * last packet's time, short of the end by a frame or two: 0.88 s of a 1 s
 * clip with B-frames.) */
static bool output_check_file(double source, double run_duration, output_measure_t *m, char *err, size_t errlen)
{
    if (run_duration < 0) {
        snprintf(err, errlen, "transcode: ffmpeg did not report how far it got");
        return false;
    }
    if (!output_check_duration(run_duration, source, err, errlen))
        return false;
    m->duration = source > 0 ? source : run_duration;
    m->bitrate = m->duration > 0 ? (int64_t)((double)m->size * 8 / m->duration) : 0;
    return true;
}

/* <dir of the master>/<W>x<H>/<name>: a variant's file (output_key.h). */
static bool output_check_variant_path(const char *master, const plan_output_t *po, const char *name, char *out,
                                      size_t len)
{
    const char *slash = strrchr(master, '/');
    if (!slash)
        return false;
    int n = snprintf(out, len, "%.*s/%dx%d/%s", (int)(slash - master), master, po->width, po->height, name);
    return n > 0 && (size_t)n < len;
}

/* An HLS template: its playlists, and its largest variant's first segment. */
static bool output_check_hls(const char *master, const plan_output_t *po, double source, output_measure_t *m,
                             char *err, size_t errlen)
{
    char playlist[OUTPUT_CHECK_PATH_MAX], segment[OUTPUT_CHECK_PATH_MAX], prefix[OUTPUT_CHECK_PATH_MAX],
        first[OUTPUT_CHECK_PATH_MAX];
    const char *slash = strrchr(po->key, '/'), *name = slash ? slash + 1 : po->key;
    buf_t text;
    buf_init(&text, 0);
    bool ok = output_check_read(master, &text) && plan_hls_segment_prefix(po->key, prefix, sizeof(prefix)) &&
              snprintf(first, sizeof(first), "%s_00000.ts", prefix) < (int)sizeof(first);
    m->bitrate = ok ? output_check_master_bandwidth(text.data, text.len) : 0;
    buf_reset(&text);
    /* The variants are named like the master (output_key.h, plan.h). */
    ok = ok && output_check_variant_path(master, po, name, playlist, sizeof(playlist)) &&
         output_check_variant_path(master, po, first, segment, sizeof(segment)) &&
         output_check_read(playlist, &text);
    m->duration = ok ? output_check_playlist_duration(text.data, text.len) : 0;
    buf_free(&text);
    if (!ok)
        return output_check_fail(err, errlen, "HLS playlist missing", po->key);
    struct stat st;
    if (stat(segment, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
        return output_check_fail(err, errlen, "HLS segment missing", po->key);
    return output_check_duration(m->duration, source, err, errlen);
}

bool output_check(const char *out_dir, const plan_output_t *po, double source_duration, double run_duration,
                  output_measure_t *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    m->type = output_check_type(po);
    char path[OUTPUT_CHECK_PATH_MAX];
    struct stat st;
    bool made = output_check_path(path, sizeof(path), out_dir, po->key) && stat(path, &st) == 0 && S_ISREG(st.st_mode);
    if (!made && (po->kind == PLAN_OUTPUT_COVER || po->kind == PLAN_OUTPUT_FRAME)) {
        /* ffmpeg exits 0 when the seek lands past the last frame it can read. */
        snprintf(err, errlen, "snapshot: no frame could be read for %s",
                 po->kind == PLAN_OUTPUT_COVER ? "the cover" : po->key);
        return false;
    }
    if (!made)
        return output_check_fail(err, errlen, "output missing", po->key);
    m->size = (int64_t)st.st_size;
    m->width = po->width;
    m->height = po->height;
    snprintf(m->codecs, sizeof(m->codecs), "%s", po->codecs);
    if (po->kind == PLAN_OUTPUT_FILE)
        return output_check_file(source_duration, run_duration, m, err, errlen);
    if (po->kind == PLAN_OUTPUT_HLS)
        return output_check_hls(path, po, source_duration, m, err, errlen);
    return true;
}
