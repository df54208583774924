/* probe: ffprobe's command line and the reading of its JSON; see probe.h. */
#include "process/probe.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t probe_argv(const char *ffprobe, const char *path, char *file_arg, size_t file_arg_size,
                  const char *argv[PROBE_ARGV_MAX + 1])
{
    snprintf(file_arg, file_arg_size, "file:%s", path);
    static const char *const fixed[] = {
        "-v", "error", "-protocol_whitelist", "file", "-format_whitelist", PROBE_FORMAT_WHITELIST,
        "-print_format", "json", "-show_format", "-show_streams",
    };
    size_t n = 0;
    argv[n++] = ffprobe;
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        argv[n++] = fixed[i];
    argv[n++] = file_arg;
    argv[n] = NULL;
    return n;
}

/* ffprobe writes most numbers as JSON strings ("2.000000"); some as numbers. */
static double probe_number(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_number(v))
        return json_number_value(v);
    if (!json_is_string(v))
        return 0;
    char *end;
    double d = strtod(json_string_value(v), &end);
    return end != json_string_value(v) && isfinite(d) ? d : 0;
}

/* "30000/1001" -> 29.97; 0 when unknown ("0/0"). */
static double probe_rate(const json_t *stream, const char *key)
{
    const char *s = json_string_value(json_object_get(stream, key));
    int num = 0, den = 0;
    if (!s || sscanf(s, "%d/%d", &num, &den) != 2 || num <= 0 || den <= 0)
        return 0;
    return (double)num / den;
}

/* The display rotation, from the display matrix or the older "rotate"
 * tag, as 0, 90, 180 or 270: only whether it turns the picture on its side
 * matters here (ffmpeg rotates when it decodes). */
static int probe_rotation(const json_t *stream)
{
    double r = 0;
    size_t i;
    const json_t *sd;
    json_array_foreach(json_object_get(stream, "side_data_list"), i, sd)
        if (json_object_get(sd, "rotation"))
            r = probe_number(sd, "rotation");
    if (r == 0)
        r = probe_number(json_object_get(stream, "tags"), "rotate");
    int deg = ((int)lround(r / 90.0) * 90) % 360;
    return deg < 0 ? deg + 360 : deg;
}

static bool probe_is_attached_picture(const json_t *stream)
{
    return probe_number(json_object_get(stream, "disposition"), "attached_pic") != 0;
}

static void probe_codec(const json_t *stream, char out[PROBE_CODEC_MAX])
{
    const char *c = json_string_value(json_object_get(stream, "codec_name"));
    snprintf(out, PROBE_CODEC_MAX, "%s", c ? c : "unknown");
}

static void probe_video(probe_result_t *r, const json_t *stream)
{
    r->has_video = true;
    r->width = (int)probe_number(stream, "width");
    r->height = (int)probe_number(stream, "height");
    r->rotation = probe_rotation(stream);
    bool turned = r->rotation == 90 || r->rotation == 270;
    r->display_width = turned ? r->height : r->width;
    r->display_height = turned ? r->width : r->height;
    r->frame_rate = probe_rate(stream, "avg_frame_rate");
    if (r->frame_rate == 0)
        r->frame_rate = probe_rate(stream, "r_frame_rate");
    probe_codec(stream, r->video_codec);
}

/* The first video and the first audio stream describe the file; the
 * longest stream stands in for a container without a duration. */
static double probe_streams(probe_result_t *r, const json_t *streams)
{
    double longest = 0;
    size_t i;
    const json_t *s;
    json_array_foreach(streams, i, s)
    {
        const char *type = json_string_value(json_object_get(s, "codec_type"));
        double d = probe_number(s, "duration");
        if (d > longest)
            longest = d;
        if (type && strcmp(type, "video") == 0 && !r->has_video && !probe_is_attached_picture(s))
            probe_video(r, s);
        else if (type && strcmp(type, "audio") == 0 && !r->has_audio) {
            r->has_audio = true;
            probe_codec(s, r->audio_codec);
        }
    }
    return longest;
}

static bool probe_check(const probe_result_t *r, int64_t max_pixels, char *err, size_t errlen)
{
    if (!r->has_video && !r->has_audio)
        snprintf(err, errlen, "probe: the file has no audio or video stream");
    else if (!(r->duration > 0))
        snprintf(err, errlen, "probe: the file's duration is unknown");
    else if (r->has_video && (r->width <= 0 || r->height <= 0))
        snprintf(err, errlen, "probe: the video has no picture size");
    else if (max_pixels > 0 && r->has_video && (int64_t)r->width * r->height > max_pixels)
        snprintf(err, errlen, "probe: the video is %dx%d, more than the %lld pixels allowed", r->width, r->height,
                 (long long)max_pixels);
    else
        return true;
    return false;
}

bool probe_parse(const char *json, size_t len, int64_t max_pixels, probe_result_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    json_t *root = json_loadb(json, len, 0, NULL);
    const json_t *streams = json_object_get(root, "streams");
    const json_t *format = json_object_get(root, "format");
    bool ok = false;
    if (!json_is_object(root) || !json_is_array(streams) || !json_is_object(format)) {
        snprintf(err, errlen, "probe: the file is not a media file ffprobe can read");
        goto out;
    }
    double longest = probe_streams(out, streams);
    out->duration = probe_number(format, "duration");
    if (!(out->duration > 0))
        out->duration = longest;
    out->bit_rate = (int64_t)probe_number(format, "bit_rate");
    snprintf(out->codecs, sizeof(out->codecs), "%s%s%s", out->video_codec,
             out->has_video && out->has_audio ? "," : "", out->audio_codec);
    ok = probe_check(out, max_pixels, err, errlen);
out:
    json_decref(root);
    return ok;
}
