/* playback: GET/HEAD /<fileKey>; see playback.h. */
#include "http/playback.h"

#include <inttypes.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/play_sign.h"
#include "common/log.h"
#include "http/media_type.h"

/* The playback origin is the API's and the upload endpoint's origin too:
 * whatever an uploader stored must never run there as a page.  nosniff
 * stops browsers from guessing a type we did not send.  The policy, should
 * a browser render an answer anyway, allows no script (script-src falls
 * back to 'none', and the sandbox lacks allow-scripts), no form, no popup,
 * no plugin and no subresource but media from here.  media-src 'self' and
 * allow-same-origin are what a video or audio URL opened directly needs:
 * the browser's media document loads the URL again as media, and from an
 * opaque origin Chromium makes that a CORS request and refuses to play.
 * Without scripts, the real origin gives the document nothing to use.
 * Players loading media or manifests (a <video> element, XHR) are not
 * documents and ignore the policy. */
#define PLAYBACK_CSP "default-src 'none'; media-src 'self'; sandbox allow-same-origin"

void playback_security_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Content-Security-Policy", PLAYBACK_CSP);
}

static bool playback_parse_num(const char **p, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;
    int digits = 0;
    while (*s >= '0' && *s <= '9') {
        if (++digits > 18)
            return false;
        v = v * 10 + (*s++ - '0');
    }
    if (digits == 0)
        return false;
    *out = v;
    *p = s;
    return true;
}

playback_range_kind_t playback_parse_range(const char *header, int64_t size, int64_t *first, int64_t *last)
{
    if (!header || strncmp(header, "bytes=", 6) != 0 || strchr(header, ','))
        return PLAYBACK_RANGE_NONE;
    const char *p = header + 6;
    while (*p == ' ')
        p++;
    int64_t a = -1, b = -1;
    if (*p == '-') {
        p++;
        int64_t n;
        if (!playback_parse_num(&p, &n) || *p)
            return PLAYBACK_RANGE_NONE;
        if (n == 0 || size == 0)
            return PLAYBACK_RANGE_UNSATISFIABLE;
        a = n >= size ? 0 : size - n;
        b = size - 1;
    } else {
        if (!playback_parse_num(&p, &a) || *p++ != '-')
            return PLAYBACK_RANGE_NONE;
        if (*p) {
            if (!playback_parse_num(&p, &b) || *p || b < a)
                return PLAYBACK_RANGE_NONE;
        }
        if (a >= size)
            return PLAYBACK_RANGE_UNSATISFIABLE;
        if (b < 0 || b >= size)
            b = size - 1;
    }
    *first = a;
    *last = b;
    return PLAYBACK_RANGE_OK;
}

static struct MHD_Response *playback_error(int code, const char *message, const char *request_id, int *status,
                                           uint64_t *length)
{
    /* The API's error shape: playback is not the WCS upload endpoint. */
    char body[320];
    snprintf(body, sizeof(body), "{\"code\":%d,\"message\":\"%s\",\"requestId\":\"%s\"}", code, message,
             request_id);
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_COPY);
    *length = strlen(body);
    if (r) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
        playback_security_headers(r);
    }
    *status = code;
    return r;
}

bool playback_path(const char *path)
{
    return path[0] == '/' && path[1] && strncmp(path, "/vod/", 5) != 0 && strcmp(path, "/vod") != 0;
}

typedef struct playback_stream {
    blob_t *blob;
    blob_reader_t *reader;
    int64_t first;
} playback_stream_t;

/* For blob implementations without a file descriptor (S3 later). */
static ssize_t playback_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    playback_stream_t *s = cls;
    int64_t n = s->blob->ops->read_at(s->reader, buf, max, s->first + (int64_t)pos);
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return (ssize_t)n;
}

static void playback_stream_free(void *cls)
{
    playback_stream_t *s = cls;
    s->blob->ops->reader_close(s->reader);
    free(s);
}

/* What a playback key names: an original (a video's fileKey) or a file of
 * its published outputs.  Strings are owned. */
typedef struct playback_object {
    int64_t account_id; /* whose playback access applies */
    char *object_id;
    int64_t size;
    char *etag;      /* without quotes */
    char *mime_type; /* as recorded; filtered by media_type.h before it goes out */
    int64_t modified_ms;
} playback_object_t;

static void playback_object_free(playback_object_t *o)
{
    free(o->object_id);
    free(o->etag);
    free(o->mime_type);
}

static int playback_original(const upload_ctx_t *ctx, const char *key, playback_object_t *out)
{
    store_video_t v = {0};
    int rc = ctx->store->ops->video_find_by_key(ctx->store, -1, key, &v);
    if (rc == STORE_OK && !v.object_id)
        rc = STORE_NOT_FOUND; /* registered, not uploaded yet */
    if (rc == STORE_OK) {
        *out = (playback_object_t){v.account_id, v.object_id, v.size, v.etag ? v.etag : strdup(v.object_id),
                                   v.mime_type, v.uploaded_ms};
        v.object_id = v.etag = v.mime_type = NULL;
    }
    store_video_free(&v);
    return rc;
}

/* An output's ETag is its object id: a new task's files get new objects. */
static int playback_output(const upload_ctx_t *ctx, const char *key, playback_object_t *out)
{
    store_output_file_t f = {0};
    int rc = ctx->store->ops->output_file_find(ctx->store, key, &f);
    if (rc == STORE_OK) {
        *out = (playback_object_t){f.account_id, f.object_id, f.size, strdup(f.object_id), f.content_type,
                                   f.created_ms};
        f.object_id = f.content_type = NULL;
    }
    store_output_file_free(&f);
    return rc;
}

static int playback_resolve(const upload_ctx_t *ctx, const char *key, playback_object_t *out)
{
    int rc = playback_original(ctx, key, out);
    return rc == STORE_NOT_FOUND ? playback_output(ctx, key, out) : rc;
}

/* Whether the request may have the object: a signed URL checked with its
 * account's key, or any URL of an account whose playback is public.  NULL
 * when it may, else the refusal's message (403). */
static const char *playback_refusal(const upload_ctx_t *ctx, const playback_object_t *obj, bool signed_url,
                                    const play_sign_token_t *token, const char *key)
{
    store_playback_t pb;
    if (ctx->store->ops->playback_get(ctx->store, obj->account_id, &pb) != STORE_OK)
        return "Forbidden.";
    if (!signed_url)
        return pb.access == STORE_PLAYBACK_SIGNED ? "This URL must be signed." : NULL;
    enum play_sign_result r = pb.has_key ? play_sign_verify(pb.key, token, key, (int64_t)time(NULL)) : PLAY_SIGN_BAD;
    memset(pb.key, 0, sizeof(pb.key));
    return r == PLAY_SIGN_OK ? NULL : r == PLAY_SIGN_EXPIRED ? "This URL has expired." : "Bad URL signature.";
}

struct MHD_Response *playback_respond(const upload_ctx_t *ctx, struct MHD_Connection *conn, const char *path,
                                      const char *request_id, int *status, uint64_t *out_length)
{
    if (strcmp(ctx->cfg->playback, "public") != 0 || path[0] != '/' || !path[1])
        return playback_error(404, "Not found.", request_id, status, out_length);
    play_sign_token_t token;
    const char *key = NULL;
    bool signed_url = play_sign_parse(path, &token, &key);
    if (!signed_url)
        key = path + 1;
    playback_object_t obj = {0};
    blob_reader_t *reader = NULL;
    struct MHD_Response *resp = NULL;
    blob_t *blob = ctx->blob;
    int rc = playback_resolve(ctx, key, &obj);
    if (rc != STORE_OK) {
        resp = rc == STORE_NOT_FOUND ? playback_error(404, "Not found.", request_id, status, out_length)
                                     : playback_error(503, "Service unavailable.", request_id, status, out_length);
        goto out;
    }
    const char *refusal = playback_refusal(ctx, &obj, signed_url, &token, key);
    if (refusal) {
        resp = playback_error(403, refusal, request_id, status, out_length);
        goto out;
    }
    /* Size and time come from the row that names the object (written at
     * publish from the same bytes); a stat would walk a multi-part object
     * a second time. */
    int64_t size = obj.size;
    if (size < 0 || blob->ops->object_read_open(blob, obj.object_id, &reader) != BLOB_OK) {
        /* The row was replaced between the lookup and the open: the caller
         * may retry; never serve anything else. */
        resp = playback_error(404, "Not found.", request_id, status, out_length);
        goto out;
    }
    int64_t first = 0, last = size - 1;
    const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_RANGE);
    playback_range_kind_t kind = playback_parse_range(range, size, &first, &last);
    char content_range[96];
    if (kind == PLAYBACK_RANGE_UNSATISFIABLE) {
        resp = playback_error(416, "Range not satisfiable.", request_id, status, out_length);
        snprintf(content_range, sizeof(content_range), "bytes */%" PRId64, size);
        if (resp)
            MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
        goto out;
    }
    if (kind == PLAYBACK_RANGE_NONE) {
        first = 0;
        last = size - 1;
    }
    uint64_t length = (uint64_t)(last - first + 1);
    int fd = blob->ops->reader_fd(reader);
    if (fd >= 0) {
        int own = dup(fd);
        if (own < 0)
            goto out;
        /* libmicrohttpd owns and closes this descriptor (sendfile). */
        resp = MHD_create_response_from_fd_at_offset64(length, own, (uint64_t)first);
        if (!resp)
            close(own);
    } else {
        playback_stream_t *s = calloc(1, sizeof(*s));
        if (!s)
            goto out;
        *s = (playback_stream_t){blob, reader, first};
        resp = MHD_create_response_from_callback(length, 64 * 1024, playback_stream_read, s, playback_stream_free);
        if (!resp)
            free(s);
        else
            reader = NULL;
    }
    if (!resp)
        goto out;
    *status = kind == PLAYBACK_RANGE_OK ? 206 : 200;
    *out_length = length;
    if (kind == PLAYBACK_RANGE_OK) {
        snprintf(content_range, sizeof(content_range), "bytes %" PRId64 "-%" PRId64 "/%" PRId64, first, last,
                 size);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
    }
    char etag[64], modified[64];
    snprintf(etag, sizeof(etag), "\"%s\"", obj.etag ? obj.etag : obj.object_id);
    time_t t = (time_t)(obj.modified_ms / 1000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(modified, sizeof(modified), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    /* The uploader chose mime_type: only allow-listed media types go out as
     * they are (see media_type.h). */
    media_type_answer_t type;
    media_type_for_playback(obj.mime_type, &type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type.content_type);
    if (type.attachment)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_DISPOSITION, "attachment");
    playback_security_headers(resp);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, etag);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_LAST_MODIFIED, modified);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
out:
    if (reader)
        blob->ops->reader_close(reader);
    playback_object_free(&obj);
    return resp;
}
