/*
 * media_type: which Content-Type the playback origin may send for an
 * object, given the mimeType its uploader chose.
 *
 * The playback origin is also the API's and the upload endpoint's origin,
 * and any uploader picks the mimeType (form field, MimeType header, mkfile
 * path).  Sent back verbatim, `text/html` or `image/svg+xml` would turn an
 * upload into a page with script on that origin.  So only media types a
 * browser plays or shows as media, never renders as a document, are sent
 * as they are (the allow-list in media_type.c, documented in
 * docs/upload.md "Playback"); anything else goes out as
 * application/octet-stream with Content-Disposition: attachment.
 *
 * Pure: no allocation, no I/O.
 */
#ifndef VODUP_HTTP_MEDIA_TYPE_H
#define VODUP_HTTP_MEDIA_TYPE_H

#include <stdbool.h>

/* Longest type/subtype sent; longer stored values are not media types. */
#define MEDIA_TYPE_MAX 127

typedef struct media_type_answer {
    char content_type[MEDIA_TYPE_MAX + 1];
    bool attachment; /* send Content-Disposition: attachment */
} media_type_answer_t;

/* Decides the Content-Type for a stored mimeType (NULL when none): an
 * allowed type in lower case without parameters, else
 * application/octet-stream as an attachment. */
void media_type_for_playback(const char *stored, media_type_answer_t *out);

#endif
