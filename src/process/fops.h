/*
 * fops: the WCS persistent-processing language ("fops"), as an app sends it
 * in an upload policy's persistentOps or in the fops field of POST /fops,
 * read into the tasks vodup's ffmpeg engine can run.  vodup accepts the part
 * of the vendor's grammar that maps onto its own templates (process/spec.h)
 * and its cover snapshot, and refuses anything else with one English line,
 * so an app learns at submission what vodup will not do instead of getting
 * a different output than it asked for.
 *
 * Contract.  fops_parse() reads exactly `len` bytes of `text` (NUL is not a
 * terminator; it is an invalid byte), at most FOPS_TEXT_MAX of them.  It is
 * pure: no I/O, no allocation, no global state; the result is written into
 * the caller's fops_t and holds no pointer into `text` (a task's own text is
 * an offset and a length).  On failure it returns false, *out is left empty
 * (task_count 0) and err->message is "fops: " then, for a fault in one task,
 * "task N: " (1-based) and a sentence that quotes the offending part, e.g.
 *     fops: task 2: avthumb parameter "wmImage" is not supported
 * Quoted parts are cut to FOPS_QUOTE_MAX characters and any byte outside
 * printable ASCII is shown as \xNN, so the message is one printable line.
 *
 * Grammar (names and values are case-sensitive, as the vendor's are; no
 * spaces anywhere, as the vendor documents):
 *
 *   fops      = task *( ";" task )                 1..FOPS_TASKS_MAX tasks
 *   task      = command [ "|saveas/" entry ]       no empty task, no other "|" step
 *   command   = avthumb / vframe
 *   avthumb   = "avthumb/" ( "mp4" / "m3u8" ) *( "/" avparam )
 *   avparam   = "s/" size                          the rendition's box, WxH
 *             / "vb/" bitrate                      video, 1..SPEC_VIDEO_BITRATE_MAX kb/s
 *             / "ab/" bitrate                      audio, 1..SPEC_AUDIO_BITRATE_MAX kb/s
 *             / "vcodec/" vcodec
 *             / "acodec/" acodec
 *             / "segtime/" 1..FOPS_SEGMENT_SECONDS_MAX     m3u8 only
 *             / "an/0" / "vn/0"                    keep the track: what vodup does anyway
 *   vframe    = "vframe/jpg" *( "/" vfparam )      "offset" is required
 *   vfparam   = "offset/" seconds                  0..FOPS_OFFSET_MS_MAX ms, digits["."1*3digits]
 *             / "w/" side / "h/" side              one alone: the other follows the aspect ratio
 *   size      = side "x" side
 *   side      = SPEC_DIMENSION_MIN..SPEC_DIMENSION_MAX, decimal digits
 *   bitrate   = 1*9digit [ "." 1*6digit ] [ "k" / "K" / "m" / "M" ]
 *               bits per second; k = 1000, m = 1000000 (ffmpeg's and the vendor's
 *               "2500k", "1.25m", "2500000"); rounded to the nearest kb/s
 *   vcodec    = "libx264" (h264) / "libx265" / "libws265" (h265) / "libvpx-vp9" (vp9)
 *             / "libsvtav1" / "libaom-av1" (av1) / "copy"
 *   acodec    = "libfdk_aac" / "libfaac" / "aac" (aac) / "libmp3lame" (mp3)
 *             / "libopus" / "opus" (opus) / "copy"
 *   entry     = URL-safe base64 (RFC 4648 "-_" alphabet, padding optional) of
 *               bucket ":" key
 *
 * Each parameter may appear once, in any order.  A codec must be one the
 * container holds (spec_container_holds_video/audio), and "copy" takes no
 * size or bitrate: a copied stream keeps its own (spec_template_check's rule).
 * Without vcodec/acodec the task gets the container's default codecs
 * (h264/aac), as a vodup template does; the vendor would keep the source's.
 *
 * The saveas bucket is a resource name (spec_name_valid: vodup's buckets are
 * "vod-<hex>").  The key must be one vodup would store: at most FOPS_KEY_MAX
 * bytes (the vendor's limit) of '/'-separated segments that each pass
 * output_key_segment_ok() (1..64 of A-Z a-z 0-9 . _ -, not starting with '.',
 * the rule every output key vodup makes obeys), so no key can hold "..",
 * an empty segment, a leading or trailing '/', a control byte or a byte that
 * needs escaping in a URL, a file path or an S3 key; and its first segment is
 * not "vod", the API's namespace on the playback origin (http/playback.h).
 * Two tasks may not save to the same bucket and key, and two tasks without a
 * saveas may not be the same (they would make the same output twice).  Which
 * bucket is the caller's, and whether the key is free (not another video's
 * file or output), are for the caller to check against the store.
 *
 * Refused, each by name: any other command (imageMogr2, avconcat, ...), any
 * other format (flv, mpd, png, ...), any other parameter (r, ar, aq, ac, ss,
 * t, rotate, autoscale, wmImage, subtitle, ...), a value vodup cannot honour
 * (an/1, vn/1), a malformed or out-of-range number, a duplicate parameter or
 * task, an empty task or segment, more than FOPS_TASKS_MAX tasks, more than
 * FOPS_TEXT_MAX bytes, and a saveas that is not "|saveas/<entry>" or whose
 * entry does not decode to an acceptable bucket and key.
 */
#ifndef VODUP_PROCESS_FOPS_H
#define VODUP_PROCESS_FOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "process/spec.h"

#define FOPS_TEXT_MAX 4096            /* bytes of a whole fops text */
#define FOPS_TASKS_MAX 8              /* as many as a template's renditions */
#define FOPS_ERROR_MAX 256
#define FOPS_QUOTE_MAX 48             /* bytes of an offending part quoted in an error */
#define FOPS_BUCKET_MAX SPEC_NAME_MAX /* 64 */
#define FOPS_KEY_MAX 1000             /* the vendor's key limit; below PLAN_FILE_KEY_MAX */
#define FOPS_SEGMENT_SECONDS_MAX 120  /* the vendor's segtime range is 1..120 */
#define FOPS_OFFSET_MS_MAX 86400000   /* 24 h: past any source vodup's time-outs let finish */

typedef struct fops_error {
    char message[FOPS_ERROR_MAX];
} fops_error_t;

enum fops_kind { FOPS_TRANSCODE, FOPS_SNAPSHOT };

/* avthumb: one rendition of one template (see fops_transcode_template). */
typedef struct fops_transcode {
    enum spec_container container;     /* SPEC_CONTAINER_MP4 (mp4) or SPEC_CONTAINER_HLS (m3u8) */
    enum spec_video_codec video_codec; /* vcodec, else the container's default */
    enum spec_audio_codec audio_codec; /* acodec, else the container's default */
    int width, height;                 /* s; 0x0 when absent: the source's size */
    int video_bitrate;                 /* vb in kb/s; 0 when absent: vodup's ladder by size */
    int audio_bitrate;                 /* ab in kb/s; 0 when absent: the codec's default */
    int segment_seconds;               /* segtime; 0 when absent: vodup's segment length */
} fops_transcode_t;

/* vframe: one JPEG frame. */
typedef struct fops_snapshot {
    int64_t offset_ms; /* offset, in milliseconds */
    int width, height; /* w, h; 0 when absent: from the other side, or the source's */
} fops_snapshot_t;

typedef struct fops_task {
    enum fops_kind kind;
    fops_transcode_t transcode; /* meaningful for FOPS_TRANSCODE */
    fops_snapshot_t snapshot;   /* meaningful for FOPS_SNAPSHOT */
    bool has_saveas;            /* false: the caller names the output */
    char bucket[FOPS_BUCKET_MAX + 1];
    char key[FOPS_KEY_MAX + 1];
    /* The task's own bytes in the parsed text (saveas included), for the
     * "cmd" member of the vendor's status and notify items. */
    size_t text_offset, text_len;
} fops_task_t;

typedef struct fops {
    size_t task_count;
    fops_task_t tasks[FOPS_TASKS_MAX];
} fops_t;

/* Parses `len` bytes of `text` (see the contract above). */
bool fops_parse(const char *text, size_t len, fops_t *out, fops_error_t *err);

/* The one-rendition template a transcode task describes: it always passes
 * spec_template_check() for a task fops_parse() accepted. */
void fops_transcode_template(const fops_transcode_t *t, spec_template_t *out);

/* "transcode" or "snapshot"; NULL for an unknown kind. */
const char *fops_kind_name(enum fops_kind k);

#endif
