/*
 * cors: Cross-Origin Resource Sharing headers for the upload endpoint and
 * the playback origin, so that browser SDKs served from another origin can
 * upload (upload-protocol.md section 7).  Allowed origins come from the
 * `cors-origins` option: "*" or a comma-separated list of exact origins.
 * Errors carry the headers too, or a browser hides the error from the page.
 */
#ifndef VODUP_HTTP_CORS_H
#define VODUP_HTTP_CORS_H

#include <stdbool.h>

#include "common/config.h"

struct MHD_Response;

/* Adds Access-Control-Allow-Origin (and Vary, Expose-Headers) when
 * `origin` (the request's Origin header, may be NULL) is allowed. */
void cors_add_headers(const config_t *cfg, struct MHD_Response *resp, const char *origin);

/* Adds the preflight answer's Allow-Methods, Allow-Headers and Max-Age:
 * the tus route's (tus) or the block protocol's. */
void cors_add_preflight(struct MHD_Response *resp, bool tus);

/* Whether `origin` is allowed (exact, case-sensitive match of an entry). */
bool cors_origin_allowed(const char *allowed, const char *origin);

#endif
