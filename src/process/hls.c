/*
 * hls: a soft subtitle's HLS rendition, as text (see hls.h for the lines).
 *
 * The WebVTT sidecar is an output of its own (subtitles/<language>.vtt),
 * so rather than have the hls muxer segment another copy of it into every
 * HLS template, the master points at the sidecar through a one-segment
 * playlist: this file rewrites the master ffmpeg wrote and writes that
 * playlist.  Pure text processing: the worker reads and writes the files.  The language is the only free text that
 * reaches a playlist, and it must be a safe key segment (no quote, comma or
 * newline can break a tag's attribute list).
 */
#include "process/hls.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "process/output_key.h"

#define HLS_STREAM_INF "#EXT-X-STREAM-INF:"
#define HLS_HEADER "#EXTM3U"

/* The length of the line at s (end at most s + left), without its "\n" or
 * "\r\n"; *next is where the following line starts. */
static size_t hls_line(const char *s, size_t left, const char **next)
{
    const char *nl = memchr(s, '\n', left);
    size_t n = nl ? (size_t)(nl - s) : left;
    *next = nl ? nl + 1 : s + left;
    return n && s[n - 1] == '\r' ? n - 1 : n;
}

static bool hls_starts(const char *line, size_t n, const char *prefix)
{
    size_t p = strlen(prefix);
    return n >= p && !memcmp(line, prefix, p);
}

/* A master playlist: #EXTM3U first, and at least one variant. */
static bool hls_is_master(const char *master, size_t len)
{
    const char *next, *end = master + len;
    size_t n = hls_line(master, len, &next);
    if (n != strlen(HLS_HEADER) || !hls_starts(master, n, HLS_HEADER))
        return false;
    for (const char *s = next; s < end; s = next)
        if (hls_starts(s, hls_line(s, (size_t)(end - s), &next), HLS_STREAM_INF))
            return true;
    return false;
}

static bool hls_append_media(const char *language, buf_t *out)
{
    char name[OUTPUT_KEY_SEGMENT_MAX + 32];
    return hls_subtitle_playlist_name(language, name, sizeof(name)) &&
           buf_printf(out,
                      "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"%s\",NAME=\"%s\",LANGUAGE=\"%s\",DEFAULT=NO,"
                      "AUTOSELECT=YES,URI=\"%s\"\n",
                      HLS_SUBTITLE_GROUP, language, language, name);
}

/* One line of the master, copied; a variant's gets the group. */
static bool hls_copy_line(const char *line, size_t n, const char *language, bool *media_done, buf_t *out)
{
    bool variant = hls_starts(line, n, HLS_STREAM_INF);
    bool ok = true;
    if (variant && !*media_done) {
        ok = hls_append_media(language, out);
        *media_done = true;
    }
    ok = ok && buf_append(out, line, n);
    if (variant)
        ok = ok && buf_printf(out, ",SUBTITLES=\"%s\"", HLS_SUBTITLE_GROUP);
    return ok && buf_append_str(out, "\n");
}

bool hls_master_add_subtitles(const char *master, size_t len, const char *language, buf_t *out)
{
    buf_reset(out);
    if (!master || !output_key_segment_ok(language) || !hls_is_master(master, len))
        return false;
    const char *next, *end = master + len;
    bool media_done = false;
    for (const char *s = master; s < end; s = next) {
        size_t n = hls_line(s, (size_t)(end - s), &next);
        if (!hls_copy_line(s, n, language, &media_done, out))
            return false;
    }
    return true;
}

bool hls_subtitle_playlist(const char *language, double duration_s, buf_t *out)
{
    buf_reset(out);
    if (!output_key_segment_ok(language) || !isfinite(duration_s) || duration_s <= 0)
        return false;
    /* One segment, the whole sidecar: players take that for VOD, and the
     * target duration must be at least the segment's, rounded up. */
    return buf_printf(out,
                      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%.0f\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                      "#EXTINF:%.3f,\n../subtitles/%s.vtt\n#EXT-X-ENDLIST\n",
                      ceil(duration_s), duration_s, language);
}

bool hls_subtitle_playlist_name(const char *language, char *out, size_t len)
{
    if (!output_key_segment_ok(language))
        return false;
    int n = snprintf(out, len, "subtitles_%s.m3u8", language);
    return n > 0 && (size_t)n < len;
}
