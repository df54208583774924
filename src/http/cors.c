/* cors: CORS headers; see cors.h. */
#include "http/cors.h"

#include <microhttpd.h>
#include <string.h>

bool cors_origin_allowed(const char *allowed, const char *origin)
{
    if (!origin || !origin[0])
        return false;
    size_t olen = strlen(origin);
    const char *p = allowed;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && p[m - 1] == ' ')
            m--;
        if (m == olen && memcmp(p, origin, olen) == 0)
            return true;
        p += n;
    }
    return false;
}

void cors_add_headers(const config_t *cfg, struct MHD_Response *resp, const char *origin)
{
    const char *allowed = cfg->cors_origins;
    if (strcmp(allowed, "*") == 0) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
    } else if (cors_origin_allowed(allowed, origin)) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(resp, "Vary", "Origin");
    } else {
        return;
    }
    MHD_add_response_header(resp, "Access-Control-Expose-Headers",
                            "X-Reqid, X-Request-Id, ETag, Content-Range, Content-Length, Location, Upload-Offset, "
                            "Upload-Length, Upload-Metadata, Upload-Defer-Length, Upload-Expires, Upload-Concat, "
                            "Tus-Resumable, Tus-Version, Tus-Extension, Tus-Max-Size, Tus-Checksum-Algorithm");
}

void cors_add_preflight(struct MHD_Response *resp, bool tus)
{
    if (tus) {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "POST, HEAD, PATCH, DELETE, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "authorization, content-type, tus-resumable, upload-length, upload-offset, "
                                "upload-metadata, upload-defer-length, upload-concat, upload-checksum, "
                                "x-http-method-override, x-requested-with");
    } else {
        MHD_add_response_header(resp, "Access-Control-Allow-Methods", "POST, OPTIONS");
        MHD_add_response_header(resp, "Access-Control-Allow-Headers",
                                "authorization, uploadbatch, key, mimetype, deadline, content-type");
    }
    MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
}
