/*
 * hls: the text a soft subtitle adds to an HLS template's outputs.  Pure.
 *
 * ffmpeg writes the master playlist and the variants; a soft subtitle (its
 * WebVTT sidecar at subtitles/<language>.vtt, made in the same run) becomes
 * an HLS subtitle rendition:
 *  - a media playlist beside the master, <template>/subtitles_<language>.m3u8:
 *      #EXTM3U / #EXT-X-VERSION:3 / #EXT-X-TARGETDURATION:<ceil duration> /
 *      #EXT-X-PLAYLIST-TYPE:VOD / #EXTINF:<duration>, / ../subtitles/<language>.vtt /
 *      #EXT-X-ENDLIST
 *    (one segment: the whole sidecar, which players accept for VOD);
 *  - in the master, before the first #EXT-X-STREAM-INF:
 *      #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="<language>",LANGUAGE="<language>",
 *       DEFAULT=NO,AUTOSELECT=YES,URI="subtitles_<language>.m3u8"
 *    and ,SUBTITLES="subs" appended to every #EXT-X-STREAM-INF line.
 */
#ifndef VODUP_PROCESS_HLS_H
#define VODUP_PROCESS_HLS_H

#include <stdbool.h>
#include <stddef.h>

#include "common/buf.h"

#define HLS_SUBTITLE_GROUP "subs"

/* The master playlist `master` (len bytes) with the subtitle group added,
 * into out (reset first).  False when master is not a master playlist (no
 * #EXTM3U first line or no #EXT-X-STREAM-INF) or language is not a safe
 * segment (output_key_segment_ok). */
bool hls_master_add_subtitles(const char *master, size_t len, const char *language, buf_t *out);

/* The subtitle media playlist's text, into out (reset first). */
bool hls_subtitle_playlist(const char *language, double duration_s, buf_t *out);

/* The subtitle playlist's file name beside the master: "subtitles_<language>.m3u8". */
bool hls_subtitle_playlist_name(const char *language, char *out, size_t len);

#endif
