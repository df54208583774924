/*
 * client_url: the pieces of an http(s) URL that a WS3 signature covers.
 *
 * A signature covers the Host header exactly as the client sends it, the
 * decoded path and the decoded query pairs.  This module splits a URL the
 * way curl sends it (curl drops a default port from Host: http://h:80/ is
 * sent as "Host: h"), so that `vodup sign` and the client's own requests
 * sign what actually goes on the wire.  Pure functions, no allocation beyond
 * the struct's own copies, freed with client_url_free().
 */
#ifndef VODUP_CLIENT_URL_H
#define VODUP_CLIENT_URL_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/ws3.h"

#define CLIENT_URL_MAX_QUERY 128 /* the server refuses more query parameters */

typedef struct client_url {
    char *scheme;      /* "http" or "https", lowercase */
    char *host;        /* the Host header value: authority without userinfo and without a default port */
    char *path;        /* percent-decoded path, "/" when the URL has none */
    char *raw_path;    /* the path as written */
    char *query;       /* the raw query after '?', "" when none */
    /* Decoded query pairs (names and values point into `pair_store`). */
    ws3_pair_t pairs[CLIENT_URL_MAX_QUERY];
    size_t pair_count;
    char *pair_store;
} client_url_t;

/*
 * Parses scheme://authority[/path][?query] (a '#fragment' is refused).
 * Returns false with a one-line reason in err.  On success free with
 * client_url_free().
 */
bool client_url_parse(const char *url, client_url_t *out, char *err, size_t errlen);

void client_url_free(client_url_t *u);

/* Decodes %XX escapes (not '+') of len bytes into out (size >= len + 1).
 * Returns false on a malformed escape or a NUL byte. */
bool client_url_percent_decode(const char *in, size_t len, char *out);

#endif
