/* web_page: the upload page's assets and headers; see web_page.h. */
#include "http/web_page.h"

#include <microhttpd.h>
#include <string.h>

#include "web/web_assets.h"

#define WEB_PAGE_CSP                                                                                     \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob: http: https:; " \
    "media-src 'self' blob: http: https:; connect-src 'self' http: https:; worker-src 'self' blob:; "    \
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

bool web_page_asset_path(const char *path)
{
    return strncmp(path, WEB_PAGE_ASSETS, strlen(WEB_PAGE_ASSETS)) == 0;
}

void web_page_policy_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy", WEB_PAGE_CSP);
    MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
}

void web_page_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    web_page_policy_headers(r);
}

struct MHD_Response *web_page_asset(const char *path, const char *if_none_match, int *status)
{
    const char *name = path + strlen(WEB_PAGE_ASSETS);
    const web_asset_t *a = strchr(name, '/') ? NULL : web_asset_find(name);
    struct MHD_Response *r;
    if (!a) {
        static const char missing[] = "{\"code\":404,\"message\":\"No such file.\"}";
        r = MHD_create_response_from_buffer(sizeof(missing) - 1, (void *)missing, MHD_RESPMEM_PERSISTENT);
        *status = 404;
        if (r)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    } else {
        bool fresh = if_none_match && strstr(if_none_match, a->etag);
        r = MHD_create_response_from_buffer(fresh ? 0 : a->len, fresh ? NULL : (void *)a->data,
                                            MHD_RESPMEM_PERSISTENT);
        *status = fresh ? 304 : 200;
        if (r) {
            if (!fresh)
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, a->content_type);
            MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, a->etag);
            /* Names stay across versions: revalidate (a 304 is cheap). */
            MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        }
    }
    if (r)
        web_page_headers(r);
    return r;
}
