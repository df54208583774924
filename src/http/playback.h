/*
 * playback: the origin behind playUrl on the embedded default.
 * GET/HEAD /<fileKey> serves the published object that the registry row
 * names (never a staged or half-published one), with single byte ranges
 * (206/416), ETag (the WCS etag), Last-Modified, Content-Type (only
 * allow-listed media types, see media_type.h) and Accept-Ranges.  Every
 * answer, errors included, carries X-Content-Type-Options: nosniff and a
 * sandboxing Content-Security-Policy.  `playback = off` turns it into 404s.
 */
#ifndef VODUP_HTTP_PLAYBACK_H
#define VODUP_HTTP_PLAYBACK_H

#include <stdbool.h>
#include <stdint.h>

#include "upload/upload.h"

struct MHD_Connection;
struct MHD_Response;

typedef enum playback_range_kind {
    PLAYBACK_RANGE_NONE = 0, /* no usable Range header: the whole object */
    PLAYBACK_RANGE_OK,
    PLAYBACK_RANGE_UNSATISFIABLE,
} playback_range_kind_t;

/* Parses a Range header value against an object of `size` bytes (pure).
 * Only a single bytes range is honoured; anything else serves the whole. */
playback_range_kind_t playback_parse_range(const char *header, int64_t size, int64_t *first, int64_t *last);

/* Builds the answer for path (the decoded request path, starting with '/').
 * Returns the response (the caller adds common headers, queues and
 * destroys it), its status in *status and body length in *length; NULL
 * when out of memory. */
struct MHD_Response *playback_respond(const upload_ctx_t *ctx, struct MHD_Connection *conn, const char *path,
                                      const char *request_id, int *status, uint64_t *length);

/* Whether a GET/HEAD of `path` is a playback request: anything but "/" and
 * the API's /vod/ namespace (fileKeys never start with "vod/"). */
bool playback_path(const char *path);

/* X-Content-Type-Options: nosniff and the playback origin's
 * Content-Security-Policy, on every answer of a playback path (the HTTP
 * layer's own refusals too). */
void playback_security_headers(struct MHD_Response *r);

#endif
