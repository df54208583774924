/*
 * client_video_format: getVideoInfo's video as text for people: the summary
 * that `vodup info` prints, the list of playable URLs that
 * `vodup upload --wait` prints once the video is ready, and the table of
 * a getVideoList page that `vodup list` prints (docs/cli.md).
 *
 * Every value comes from the server and is distrusted: control characters
 * in its strings (C0, DEL and C1, ESC included) are shown as '?', so that a
 * video name or an ffmpeg message in a failReason can neither move the
 * cursor nor rewrite the terminal; a member of the wrong type counts as
 * absent rather than failing the whole summary, so a newer server with
 * other fields still gets a readable answer.
 *
 * Everything here is pure: text is appended to a buf_t, nothing is printed.
 * The functions returning bool fail only when `video` is not an object or
 * memory runs out; `out` may then hold part of the text.
 */
#ifndef VODUP_CLIENT_VIDEO_FORMAT_H
#define VODUP_CLIENT_VIDEO_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"

/*
 * The summary of `video` (getVideoInfo's `data`): one "LABEL  value" line
 * for each field the video has (videoId, videoName, status with the
 * progress while processing, failReason, size, duration, resolution,
 * codecs, taskId, playUrl, coverUrl), then "outputs" and, when there are
 * any, a table with the columns TYPE TEMPLATE SIZE WxH DURATION BITRATE URL
 * ("-" for an unknown value; a vtt output's TYPE is "vtt:LANGUAGE").
 */
bool client_video_format_summary(const json_t *video, buf_t *out);

/*
 * The playable URLs of `video`, one "  LABEL  URL" line each: playUrl, then
 * coverUrl, then every output's url, hls outputs first and the others in
 * the server's order, each labelled with its TYPE as in the table.  URLs
 * the video does not have are left out; *count (may be NULL) receives how
 * many lines were appended.
 */
bool client_video_format_urls(const json_t *video, buf_t *out, size_t *count);

/*
 * getVideoList's `data` as a heading, "N videos, page P of Q (S per page)"
 * (or "no videos"), then a table with the columns VIDEOID STATUS SIZE
 * DURATION WxH CREATED (UTC) NAME, one row per video of the page ("-" for
 * an unknown value; the status carries the progress while processing).
 */
bool client_video_format_list(const json_t *data, buf_t *out);

/* "0.0 s", "59.9 s" under a minute, then "1:00", "12:34", "1:02:03" (whole
 * seconds, rounded); "-" when seconds is negative or not finite. */
void client_format_duration(double seconds, char *out, size_t outlen);

/* Bits per second as "98 kb/s" (rounded to the kb/s, the unit of a
 * template's --rendition WxH@KBPS), "<1 kb/s" below 500; "-" when bps <= 0. */
void client_format_bitrate(int64_t bps, char *out, size_t outlen);

/* Appends s with every control character (C0, DEL, C1) replaced by '?'. */
bool client_text_append_clean(buf_t *out, const char *s);

#endif
