/*
 * output_key: where a task's outputs live in the object namespace, beside
 * the original (processing contract, section 3):
 *
 *     video/<YYYYMMDD>/<videoId>/<stem>.<ext>               the original (fileKey)
 *     video/<YYYYMMDD>/<videoId>/cover.jpg
 *     video/<YYYYMMDD>/<videoId>/<template>/<W>x<H>.<mp4|webm|mkv>
 *     video/<YYYYMMDD>/<videoId>/<template>/index.m3u8      HLS master
 *     video/<YYYYMMDD>/<videoId>/<template>/<W>x<H>/index.m3u8 and seg_NNNNN.ts
 *     video/<YYYYMMDD>/<videoId>/subtitles/<language>.vtt
 *     video/<YYYYMMDD>/<videoId>/<key>                      a keyed output (a fops' saveas)
 *
 * Pure.  Names that become path segments (a template name, a language) are
 * checked here once more, whatever admin allowed when they were made: a
 * segment is 1..64 of [A-Za-z0-9._-] and never starts with '.', so no key can
 * climb out of its video's directory or collide with the original's stem.
 */
#ifndef VODUP_PROCESS_OUTPUT_KEY_H
#define VODUP_PROCESS_OUTPUT_KEY_H

#include <stdbool.h>

#include "common/buf.h"

#define OUTPUT_KEY_SEGMENT_MAX 64
#define OUTPUT_KEY_COVER_NAME "cover.jpg" /* the cover, in the video's directory */

/* True when `s` may be one path segment of an output key. */
bool output_key_segment_ok(const char *s);

/* Each appends the key to `out` (after buf_reset); false when the fileKey
 * has no directory or a name is not a safe segment. */
bool output_key_cover(const char *file_key, buf_t *out);
bool output_key_rendition(const char *file_key, const char *template_name, int width, int height, const char *ext,
                          buf_t *out);
bool output_key_hls_master(const char *file_key, const char *template_name, buf_t *out);
bool output_key_hls_variant(const char *file_key, const char *template_name, int width, int height, buf_t *out);
bool output_key_subtitle(const char *file_key, const char *language, buf_t *out);
/* A keyed output (a fops' saveas, plan_spec.h): the fileKey's directory,
 * '/', then rel, whose '/'-separated segments must each be safe. */
bool output_key_keyed(const char *file_key, const char *rel, buf_t *out);

#endif
