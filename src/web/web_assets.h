/*
 * web_assets: the files of the upload page (docs/upload-links.md), built
 * into the binary so that vodup serves them with nothing to install: the
 * page's own HTML, script and styles from web/upload/, and the npm packages
 * it uses (tus-js-client, hls.js), bundled when vodup is built from the
 * versions pinned in web/package-lock.json.  The table is generated at
 * build time (cmake/web_assets.cmake -> web_assets_data.c).
 */
#ifndef VODUP_WEB_ASSETS_H
#define VODUP_WEB_ASSETS_H

#include <stddef.h>

typedef struct web_asset {
    const char *name;         /* "index.html", "app.js", "tus.min.js", ... (no slash) */
    const char *content_type; /* with charset for text */
    const unsigned char *data;
    size_t len;
    const char *etag;         /* quoted, from the content's SHA-256 */
} web_asset_t;

/* The asset called `name`, NULL when there is none. */
const web_asset_t *web_asset_find(const char *name);

#endif
