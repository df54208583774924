/* filekey: originFileName -> storage key; see filekey.h. */
#include "api/filekey.h"

#include <ctype.h>
#include <string.h>
#include <time.h>

/* Length of the UTF-8 sequence starting at s[i], or 0 when invalid. */
static size_t filekey_utf8_seq(const unsigned char *s, size_t len, size_t i)
{
    unsigned char c = s[i];
    size_t n;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + n > len)
        return 0;
    for (size_t k = 1; k < n; k++) {
        if ((s[i + k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

long filekey_utf8_length(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    long count = 0;
    for (size_t i = 0; i < len;) {
        size_t n = filekey_utf8_seq(u, len, i);
        if (n == 0)
            return -1;
        i += n;
        count++;
    }
    return count;
}

bool filekey_has_control(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return true;
    }
    return false;
}

static const char *filekey_last_dot(const char *name, size_t len)
{
    for (size_t i = len; i > 0; i--)
        if (name[i - 1] == '.')
            return name + i - 1;
    return NULL;
}

bool filekey_extension(const char *name, size_t len, char ext[FILEKEY_MAX_EXTENSION + 1])
{
    const char *dot = filekey_last_dot(name, len);
    if (!dot)
        return false;
    size_t n = len - (size_t)(dot + 1 - name);
    if (n == 0 || n > FILEKEY_MAX_EXTENSION)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)dot[1 + i];
        if (!isascii(c) || !isalnum(c))
            return false;
        ext[i] = (char)tolower(c);
    }
    ext[n] = '\0';
    return true;
}

bool filekey_build(const char *name, size_t len, const char *video_id, int64_t now_ms, buf_t *out)
{
    char ext[FILEKEY_MAX_EXTENSION + 1];
    if (!filekey_extension(name, len, ext))
        return false;
    time_t secs = (time_t)(now_ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    if (!buf_printf(out, "video/%04d%02d%02d/%s/", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, video_id))
        return false;
    const unsigned char *u = (const unsigned char *)name;
    size_t stem_len = (size_t)(filekey_last_dot(name, len) - name);
    size_t start = out->len;
    for (size_t i = 0; i < stem_len;) {
        unsigned char c = u[i];
        size_t n = filekey_utf8_seq(u, stem_len, i);
        if (n == 0)
            n = 1; /* a stray byte is replaced like a whole code point */
        char keep = (isascii(c) && (isalnum(c) || c == '-' || c == '_')) ? (char)c : '_';
        if (!buf_append(out, &keep, 1))
            return false;
        i += n;
    }
    /* ".mp4" has no stem; give the object a readable one. */
    if (out->len == start && !buf_append_str(out, "video"))
        return false;
    return buf_printf(out, ".%s", ext);
}
