/*
 * web_page: the HTTP side of the upload page (docs/upload-links.md): its
 * static files under /upload/assets/ (web/web_assets.h), and the headers
 * every page answer carries.  The page's own routes under /upload/<linkId>
 * are API routes (api/link_api.c); this only serves bytes and headers.
 */
#ifndef VODUP_HTTP_WEB_PAGE_H
#define VODUP_HTTP_WEB_PAGE_H

#include <stdbool.h>

struct MHD_Response;

#define WEB_PAGE_ASSETS "/upload/assets/"

/* Whether path names an asset route (any file under /upload/assets/). */
bool web_page_asset_path(const char *path);

/* The answer for GET or HEAD of an asset path: 200 with its bytes, 304
 * when if_none_match (may be NULL) holds its ETag, else 404.  NULL when
 * out of memory.  *status receives the code. */
struct MHD_Response *web_page_asset(const char *path, const char *if_none_match, int *status);

/* The page's security headers: nosniff, and a Content-Security-Policy that
 * lets only vodup's own scripts and styles run while media and requests
 * may reach the playback domains. */
void web_page_headers(struct MHD_Response *r);
/* The same without nosniff (for answers that carry it already). */
void web_page_policy_headers(struct MHD_Response *r);

#endif
