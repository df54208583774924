/*
 * client_video_format.c: getVideoInfo's video as text; see
 * client_video_format.h.
 */
#include "client/client_video_format.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "client/client_progress.h"
#include "common/video_status.h"

#define VIDEO_LABEL_WIDTH 12 /* "resolution" and "failReason" plus two spaces */
#define VIDEO_URL_LABEL_WIDTH 10
#define VIDEO_CELL_MAX 256   /* a short cell (type, template, numbers) is cut here */

enum video_column { COL_TYPE, COL_TEMPLATE, COL_SIZE, COL_WXH, COL_DURATION, COL_BITRATE, COL_URL, COL_COUNT };

static const char *const video_column_names[COL_COUNT] = {"TYPE",     "TEMPLATE", "SIZE", "WxH",
                                                          "DURATION", "BITRATE",  "URL"};

/* ---- values from the server ----------------------------------------------------------- */

/* The length of the control character at s: 1 for C0 and DEL, 2 for C1
 * (U+0080..U+009F, which some terminals obey like ESC [), else 0. */
static size_t video_control_len(const unsigned char *s)
{
    if (s[0] < 0x20 || s[0] == 0x7f)
        return 1;
    if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f)
        return 2;
    return 0;
}

bool client_text_append_clean(buf_t *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t run = 0, ctl;
        while (p[run] && (ctl = video_control_len(p + run)) == 0)
            run++;
        if (run > 0 && !buf_append(out, p, run))
            return false;
        p += run;
        if (*p) {
            if (!buf_append(out, "?", 1))
                return false;
            p += video_control_len(p);
        }
    }
    return true;
}

/* obj[key] when it is a string, else NULL. */
static const char *video_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* obj[key] when it is a finite number. */
static bool video_num(const json_t *obj, const char *key, double *out)
{
    json_t *v = json_object_get(obj, key);
    if (!json_is_number(v) || !isfinite(json_number_value(v)))
        return false;
    *out = json_number_value(v);
    return true;
}

/* Display columns of UTF-8 text: one per character (continuation bytes do
 * not count).  Wide characters are rare in these names; they only shift a
 * row. */
static size_t video_columns_of(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        n += (*p & 0xc0) != 0x80;
    return n;
}

/* ---- number formats ------------------------------------------------------------------------ */

void client_format_duration(double seconds, char *out, size_t outlen)
{
    if (!isfinite(seconds) || seconds < 0) {
        snprintf(out, outlen, "-");
        return;
    }
    if (seconds < 59.95) {
        snprintf(out, outlen, "%.1f s", seconds);
        return;
    }
    long long s = llround(seconds);
    if (s >= 3600)
        snprintf(out, outlen, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, outlen, "%lld:%02lld", s / 60, s % 60);
}

void client_format_bitrate(int64_t bps, char *out, size_t outlen)
{
    if (bps <= 0)
        snprintf(out, outlen, "-");
    else if (bps < 500)
        snprintf(out, outlen, "<1 kb/s"); /* not "0 kb/s", which would read as none */
    else
        snprintf(out, outlen, "%lld kb/s", (long long)((bps + 500) / 1000));
}

/* "160x120" when both are positive whole numbers, else "-". */
static void video_format_wxh(const json_t *obj, char *out, size_t outlen)
{
    double w, h;
    if (video_num(obj, "width", &w) && video_num(obj, "height", &h) && w >= 1 && h >= 1 && w < 1e9 && h < 1e9)
        snprintf(out, outlen, "%.0fx%.0f", floor(w), floor(h));
    else
        snprintf(out, outlen, "-");
}

/* ---- the outputs table ------------------------------------------------------------------------ */

/* Copies the clean form of s into a short cell, cut at a character boundary. */
static bool video_cell_text(char *cell, const char *s)
{
    buf_t b;
    buf_init(&b, 0);
    bool ok = client_text_append_clean(&b, s);
    size_t n = ok ? b.len : 0;
    if (n >= VIDEO_CELL_MAX) {
        n = VIDEO_CELL_MAX - 1;
        while (n > 0 && ((unsigned char)b.data[n] & 0xc0) == 0x80)
            n--;
    }
    if (n > 0)
        memcpy(cell, b.data, n);
    cell[n] = '\0';
    buf_free(&b);
    return ok;
}

/* The TYPE cell: "mp4", "hls", "vtt:en" (a subtitle's language), "-". */
static bool video_type_cell(const json_t *o, char *cell)
{
    const char *type = video_str(o, "type");
    const char *lang = video_str(o, "language");
    if (!type || !*type)
        return video_cell_text(cell, "-");
    if (!lang || !*lang || strcmp(type, "vtt") != 0)
        return video_cell_text(cell, type);
    char both[VIDEO_CELL_MAX];
    snprintf(both, sizeof(both), "%s:%s", type, lang);
    return video_cell_text(cell, both);
}

/* The short cells of one output (all but the URL). */
static bool video_output_cells(const json_t *o, char cells[COL_URL][VIDEO_CELL_MAX])
{
    double n;
    const char *tmpl = video_str(o, "template");
    if (!video_type_cell(o, cells[COL_TYPE]) || !video_cell_text(cells[COL_TEMPLATE], tmpl && *tmpl ? tmpl : "-"))
        return false;
    if (video_num(o, "size", &n) && n >= 0)
        client_format_bytes(n, cells[COL_SIZE], VIDEO_CELL_MAX);
    else
        snprintf(cells[COL_SIZE], VIDEO_CELL_MAX, "-");
    video_format_wxh(o, cells[COL_WXH], VIDEO_CELL_MAX);
    /* A vtt or a still has no duration: 0 there means "none", not "0.0 s". */
    client_format_duration(video_num(o, "duration", &n) && n > 0 ? n : -1, cells[COL_DURATION], VIDEO_CELL_MAX);
    client_format_bitrate(video_num(o, "bitrate", &n) && n > 0 && n < 9e18 ? (int64_t)n : 0, cells[COL_BITRATE],
                          VIDEO_CELL_MAX);
    return true;
}

/* One row: `indent`, the ncols cells padded to their column's width, then
 * `last` (a URL or a name), unpadded, since nothing follows it. */
static bool video_table_row(buf_t *out, const char *indent, size_t ncols, const size_t *width,
                            char (*cells)[VIDEO_CELL_MAX], const char *last)
{
    bool ok = buf_append_str(out, indent);
    for (size_t c = 0; ok && c < ncols; c++)
        ok = buf_printf(out, "%s%*s  ", cells[c], (int)(width[c] - video_columns_of(cells[c])), "");
    return ok && client_text_append_clean(out, last) && buf_append_str(out, "\n");
}

/* Widens width[] to the cells of one row. */
static void video_table_measure(size_t ncols, size_t *width, char (*cells)[VIDEO_CELL_MAX])
{
    for (size_t c = 0; c < ncols; c++)
        if (video_columns_of(cells[c]) > width[c])
            width[c] = video_columns_of(cells[c]);
}

/*
 * The table of the outputs that are objects: a first pass measures the
 * columns, a second writes the rows, so that no row is kept in memory.
 */
static bool video_format_table(const json_t *outputs, buf_t *out)
{
    char cells[COL_URL][VIDEO_CELL_MAX];
    size_t width[COL_URL];
    for (size_t c = 0; c < COL_URL; c++)
        width[c] = strlen(video_column_names[c]);
    size_t i;
    json_t *o;
    json_array_foreach(outputs, i, o) {
        if (json_is_object(o) && video_output_cells(o, cells))
            video_table_measure(COL_URL, width, cells);
    }
    for (size_t c = 0; c < COL_URL; c++)
        snprintf(cells[c], VIDEO_CELL_MAX, "%s", video_column_names[c]);
    bool ok = video_table_row(out, "  ", COL_URL, width, cells, video_column_names[COL_URL]);
    json_array_foreach(outputs, i, o) {
        if (!ok)
            break;
        if (!json_is_object(o))
            continue;
        const char *url = video_str(o, "url");
        ok = video_output_cells(o, cells) && video_table_row(out, "  ", COL_URL, width, cells, url && *url ? url : "-");
    }
    return ok;
}

/* ---- the summary ------------------------------------------------------------------------------ */

/* "LABEL       " then the clean text of value and a newline. */
static bool video_line(buf_t *out, const char *label, const char *value)
{
    return buf_printf(out, "%-*s", VIDEO_LABEL_WIDTH, label) && client_text_append_clean(out, value) &&
           buf_append_str(out, "\n");
}

/* The line of a string member, when the video has a non-empty one. */
static bool video_string_line(buf_t *out, const json_t *video, const char *key)
{
    const char *v = video_str(video, key);
    return !v || !*v || video_line(out, key, v);
}

/* "processing 42%" while processing with a known progress, else the
 * status; "" when the video has none. */
static void video_status_text(const json_t *video, char *text, size_t textlen)
{
    const char *status = video_str(video, "status");
    double progress;
    if (!status)
        snprintf(text, textlen, "%s", "");
    else if (video_status_parse(status) != VIDEO_PROCESSING || !video_num(video, "progress", &progress))
        snprintf(text, textlen, "%s", status);
    else
        snprintf(text, textlen, "processing %.0f%%", progress < 0 ? 0 : progress > 100 ? 100 : floor(progress));
}

static bool video_status_line(buf_t *out, const json_t *video)
{
    char text[VIDEO_CELL_MAX];
    video_status_text(video, text, sizeof(text));
    return !text[0] || video_line(out, "status", text);
}

/* size, duration and resolution, each when known. */
static bool video_measure_lines(buf_t *out, const json_t *video)
{
    char text[96], human[32];
    double n;
    bool ok = true;
    if (video_num(video, "size", &n) && n >= 0) {
        client_format_bytes(n, human, sizeof(human));
        if (n >= 1024)
            snprintf(text, sizeof(text), "%s (%.0f bytes)", human, n);
        else
            snprintf(text, sizeof(text), "%s", human);
        ok = video_line(out, "size", text);
    }
    if (ok && video_num(video, "duration", &n) && n >= 0) {
        client_format_duration(n, text, sizeof(text));
        ok = video_line(out, "duration", text);
    }
    video_format_wxh(video, text, sizeof(text));
    if (ok && strcmp(text, "-") != 0)
        ok = video_line(out, "resolution", text);
    return ok;
}

/* "outputs     none", or "outputs     N" and the table; nothing when the
 * server does not list outputs at all (one older than processing). */
static bool video_outputs_lines(buf_t *out, const json_t *video)
{
    json_t *outputs = json_object_get(video, "outputs");
    if (!json_is_array(outputs))
        return true;
    size_t i, n = 0;
    json_t *o;
    json_array_foreach(outputs, i, o)
        n += json_is_object(o);
    if (n == 0)
        return video_line(out, "outputs", "none");
    char count[32];
    snprintf(count, sizeof(count), "%zu", n);
    return video_line(out, "outputs", count) && video_format_table(outputs, out);
}

bool client_video_format_summary(const json_t *video, buf_t *out)
{
    if (!json_is_object(video))
        return false;
    return video_string_line(out, video, "videoId") && video_string_line(out, video, "videoName") &&
           video_status_line(out, video) && video_string_line(out, video, "failReason") &&
           video_measure_lines(out, video) && video_string_line(out, video, "codecs") &&
           video_string_line(out, video, "taskId") && video_string_line(out, video, "playUrl") &&
           video_string_line(out, video, "coverUrl") && video_outputs_lines(out, video);
}

/* ---- the playable URLs -------------------------------------------------------------------------- */

static bool video_url_line(buf_t *out, const char *label, const char *url, size_t *count)
{
    if (!url || !*url)
        return true;
    (*count)++;
    size_t cols = video_columns_of(label);
    int pad = cols + 2 < VIDEO_URL_LABEL_WIDTH ? (int)(VIDEO_URL_LABEL_WIDTH - cols) : 2;
    return buf_append_str(out, "  ") && client_text_append_clean(out, label) && buf_printf(out, "%*s", pad, "") &&
           client_text_append_clean(out, url) && buf_append_str(out, "\n");
}

/* The outputs whose type is (hls_pass) or is not "hls", in the server's order. */
static bool video_output_urls(buf_t *out, const json_t *outputs, bool hls_pass, size_t *count)
{
    size_t i;
    json_t *o;
    char type[VIDEO_CELL_MAX];
    json_array_foreach(outputs, i, o) {
        const char *t = video_str(o, "type");
        if (!json_is_object(o) || (t && strcmp(t, "hls") == 0) != hls_pass)
            continue;
        if (!video_type_cell(o, type) || !video_url_line(out, type, video_str(o, "url"), count))
            return false;
    }
    return true;
}

bool client_video_format_urls(const json_t *video, buf_t *out, size_t *count)
{
    size_t n = 0;
    bool ok = json_is_object(video);
    json_t *outputs = ok ? json_object_get(video, "outputs") : NULL;
    ok = ok && video_url_line(out, "playUrl", video_str(video, "playUrl"), &n) &&
         video_url_line(out, "coverUrl", video_str(video, "coverUrl"), &n);
    /* HLS first: one URL that adapts to every screen is the one to hand out. */
    if (ok && json_is_array(outputs))
        ok = video_output_urls(out, outputs, true, &n) && video_output_urls(out, outputs, false, &n);
    if (count)
        *count = n;
    return ok;
}

/* ---- the list of videos ------------------------------------------------------------------------ */

enum list_column { LCOL_ID, LCOL_STATUS, LCOL_SIZE, LCOL_DURATION, LCOL_WXH, LCOL_CREATED, LCOL_NAME, LCOL_COUNT };

static const char *const list_column_names[LCOL_COUNT] = {"VIDEOID", "STATUS", "SIZE", "DURATION",
                                                          "WxH",     "CREATED (UTC)", "NAME"};

/* "2026-12-04T12:44:51.897Z" as "2026-12-04 12:44:51"; "-" when it is not
 * of that shape. */
static void video_created_cell(const json_t *video, char *cell)
{
    const char *t = video_str(video, "createdAt");
    if (!t || strlen(t) < 19 || t[10] != 'T') {
        snprintf(cell, VIDEO_CELL_MAX, "-");
        return;
    }
    snprintf(cell, VIDEO_CELL_MAX, "%.10s %.8s", t, t + 11);
    for (char *p = cell; *p; p++)
        if (video_control_len((const unsigned char *)p))
            *p = '?';
}

/* The short cells of one listed video (all but the name). */
static bool video_list_cells(const json_t *v, char cells[LCOL_NAME][VIDEO_CELL_MAX])
{
    double n;
    const char *id = video_str(v, "videoId");
    if (!video_cell_text(cells[LCOL_ID], id && *id ? id : "-"))
        return false;
    char status[VIDEO_CELL_MAX];
    video_status_text(v, status, sizeof(status));
    if (!video_cell_text(cells[LCOL_STATUS], status[0] ? status : "-"))
        return false;
    if (video_num(v, "size", &n) && n >= 0)
        client_format_bytes(n, cells[LCOL_SIZE], VIDEO_CELL_MAX);
    else
        snprintf(cells[LCOL_SIZE], VIDEO_CELL_MAX, "-");
    client_format_duration(video_num(v, "duration", &n) ? n : -1, cells[LCOL_DURATION], VIDEO_CELL_MAX);
    video_format_wxh(v, cells[LCOL_WXH], VIDEO_CELL_MAX);
    video_created_cell(v, cells[LCOL_CREATED]);
    return true;
}

/* "12 videos, page 1 of 2 (10 per page)", or "no videos". */
static bool video_list_heading(const json_t *data, buf_t *out)
{
    double total = 0, page = 1, size = 0;
    video_num(data, "total", &total);
    video_num(data, "pageIndex", &page);
    video_num(data, "pageSize", &size);
    if (total < 1)
        return buf_append_str(out, "no videos\n");
    double pages = size >= 1 ? ceil(total / size) : 1;
    return buf_printf(out, "%.0f video%s, page %.0f of %.0f (%.0f per page)\n", total, total == 1 ? "" : "s", page,
                      pages, size);
}

bool client_video_format_list(const json_t *data, buf_t *out)
{
    json_t *list = json_object_get(data, "list");
    if (!json_is_object(data) || !json_is_array(list))
        return false;
    char cells[LCOL_NAME][VIDEO_CELL_MAX];
    size_t width[LCOL_NAME], i;
    json_t *v;
    for (size_t c = 0; c < LCOL_NAME; c++)
        width[c] = strlen(list_column_names[c]);
    json_array_foreach(list, i, v) {
        if (json_is_object(v) && video_list_cells(v, cells))
            video_table_measure(LCOL_NAME, width, cells);
    }
    bool ok = video_list_heading(data, out);
    if (!ok || json_array_size(list) == 0)
        return ok;
    for (size_t c = 0; c < LCOL_NAME; c++)
        snprintf(cells[c], VIDEO_CELL_MAX, "%s", list_column_names[c]);
    ok = video_table_row(out, "", LCOL_NAME, width, cells, list_column_names[LCOL_NAME]);
    json_array_foreach(list, i, v) {
        if (!ok)
            break;
        const char *name = video_str(v, "videoName");
        ok = !json_is_object(v) ||
             (video_list_cells(v, cells) && video_table_row(out, "", LCOL_NAME, width, cells, name ? name : "-"));
    }
    return ok;
}
