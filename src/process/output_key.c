/* output_key: output object keys beside the original; see output_key.h. */
#include "process/output_key.h"

#include <ctype.h>
#include <string.h>

bool output_key_segment_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > OUTPUT_KEY_SEGMENT_MAX || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-')
            return false;
    return true;
}

/* Starts `out` with the fileKey's directory, its trailing '/' included. */
static bool output_key_dir(const char *file_key, buf_t *out)
{
    const char *slash = file_key ? strrchr(file_key, '/') : NULL;
    buf_reset(out);
    return slash && slash != file_key && buf_append(out, file_key, (size_t)(slash - file_key + 1));
}

bool output_key_cover(const char *file_key, buf_t *out)
{
    return output_key_dir(file_key, out) && buf_append_str(out, OUTPUT_KEY_COVER_NAME);
}

bool output_key_rendition(const char *file_key, const char *template_name, int width, int height, const char *ext,
                          buf_t *out)
{
    return output_key_segment_ok(template_name) && output_key_segment_ok(ext) && width > 0 && height > 0 &&
           output_key_dir(file_key, out) && buf_printf(out, "%s/%dx%d.%s", template_name, width, height, ext);
}

bool output_key_hls_master(const char *file_key, const char *template_name, buf_t *out)
{
    return output_key_segment_ok(template_name) && output_key_dir(file_key, out) &&
           buf_printf(out, "%s/index.m3u8", template_name);
}

bool output_key_hls_variant(const char *file_key, const char *template_name, int width, int height, buf_t *out)
{
    return output_key_segment_ok(template_name) && width > 0 && height > 0 && output_key_dir(file_key, out) &&
           buf_printf(out, "%s/%dx%d/index.m3u8", template_name, width, height);
}

bool output_key_subtitle(const char *file_key, const char *language, buf_t *out)
{
    return output_key_segment_ok(language) && output_key_dir(file_key, out) &&
           buf_printf(out, "subtitles/%s.vtt", language);
}

/* Every '/'-separated segment of rel passes output_key_segment_ok. */
static bool output_key_segments_ok(const char *rel)
{
    char seg[OUTPUT_KEY_SEGMENT_MAX + 1];
    const char *p = rel;
    for (;;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || n > OUTPUT_KEY_SEGMENT_MAX)
            return false;
        memcpy(seg, p, n);
        seg[n] = '\0';
        if (!output_key_segment_ok(seg))
            return false;
        if (!p[n])
            return true;
        p += n + 1;
    }
}

bool output_key_keyed(const char *file_key, const char *rel, buf_t *out)
{
    return rel && output_key_segments_ok(rel) && output_key_dir(file_key, out) && buf_append_str(out, rel);
}
