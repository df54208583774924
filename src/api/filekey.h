/*
 * filekey: turns an originFileName into the object key a video is stored
 * under, "video/<YYYYMMDD>/<videoId>/<safe stem>.<ext>".
 *
 * The key must be safe in a URL path, a file system path and an S3 key
 * whatever the user sent: the stem keeps ASCII letters, digits, '-' and '_'
 * and every other code point (or stray byte of invalid UTF-8) becomes one
 * '_', so '/', '.', '..', NUL and non-ASCII can never reach storage.
 * Pure functions.
 */
#ifndef VODUP_API_FILEKEY_H
#define VODUP_API_FILEKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define FILEKEY_MAX_EXTENSION 16

/* Number of Unicode code points in s, or -1 when s is not valid UTF-8
 * (overlong forms, surrogates and values above U+10FFFF are invalid). */
long filekey_utf8_length(const char *s, size_t len);

/* True when s has a C0 control character or DEL (including NUL). */
bool filekey_has_control(const char *s, size_t len);

/* The extension: the bytes after the last '.', lowercased, when there is a
 * dot, the extension is 1..16 ASCII letters/digits.  Otherwise false. */
bool filekey_extension(const char *name, size_t len, char ext[FILEKEY_MAX_EXTENSION + 1]);

/* Appends the fileKey for name (must have an extension) to out. */
bool filekey_build(const char *name, size_t len, const char *video_id, int64_t now_ms, buf_t *out);

#endif
