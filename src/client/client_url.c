/*
 * client_url.c: URL splitting for signatures; see client_url.h.
 */
#include "client/client_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/encoding.h"

static int client_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool client_url_percent_decode(const char *in, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (in[i] == '\0')
            return false;
        if (in[i] != '%') {
            out[o++] = in[i];
            continue;
        }
        if (len - i < 3)
            return false;
        int hi = client_hex_value(in[i + 1]), lo = client_hex_value(in[i + 2]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return false;
        out[o++] = (char)(hi * 16 + lo);
        i += 2;
    }
    out[o] = '\0';
    return true;
}

void client_url_free(client_url_t *u)
{
    if (!u)
        return;
    free(u->scheme);
    free(u->host);
    free(u->path);
    free(u->raw_path);
    free(u->query);
    free(u->pair_store);
    memset(u, 0, sizeof(*u));
}

/* Splits the raw query into decoded pairs, as the server does: '&'
 * separated, empty segments skipped, '+' and %XX decoded. */
static bool client_url_pairs(client_url_t *u, char *err, size_t errlen)
{
    if (!u->query[0])
        return true;
    u->pair_store = strdup(u->query);
    if (!u->pair_store) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    char *save = NULL;
    for (char *seg = strtok_r(u->pair_store, "&", &save); seg; seg = strtok_r(NULL, "&", &save)) {
        if (u->pair_count == CLIENT_URL_MAX_QUERY) {
            snprintf(err, errlen, "more than %d query parameters", CLIENT_URL_MAX_QUERY);
            return false;
        }
        char *eq = strchr(seg, '=');
        if (eq)
            *eq = '\0';
        ws3_pair_t *p = &u->pairs[u->pair_count++];
        p->name = seg;
        p->name_len = encoding_form_unescape(seg, strlen(seg));
        if (eq) {
            p->value = eq + 1;
            p->value_len = encoding_form_unescape(eq + 1, strlen(eq + 1));
        } else {
            p->value = NULL;
            p->value_len = 0;
        }
    }
    return true;
}

bool client_url_parse(const char *url, client_url_t *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *p = strstr(url, "://");
    if (!p) {
        snprintf(err, errlen, "'%.200s' is not an http:// or https:// URL", url);
        return false;
    }
    size_t scheme_len = (size_t)(p - url);
    bool https;
    if (scheme_len == 4 && strncasecmp(url, "http", 4) == 0)
        https = false;
    else if (scheme_len == 5 && strncasecmp(url, "https", 5) == 0)
        https = true;
    else {
        snprintf(err, errlen, "'%.200s': only http:// and https:// URLs are supported", url);
        return false;
    }
    if (strchr(url, '#')) {
        snprintf(err, errlen, "'%.200s': a URL fragment ('#') is not sent to the server; remove it", url);
        return false;
    }
    for (const char *c = url; *c; c++) {
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f) {
            snprintf(err, errlen, "'%.200s': spaces and non-ASCII characters must be percent-encoded", url);
            return false;
        }
    }
    const char *auth = p + 3;
    size_t auth_len = strcspn(auth, "/?");
    const char *at = memchr(auth, '@', auth_len);
    if (at) {
        auth_len -= (size_t)(at + 1 - auth);
        auth = at + 1;
    }
    if (auth_len == 0) {
        snprintf(err, errlen, "'%.200s' has no host", url);
        return false;
    }
    const char *rest = auth + auth_len;
    size_t path_len = strcspn(rest, "?");
    const char *q = rest[path_len] == '?' ? rest + path_len + 1 : "";

    /* curl leaves a default port out of the Host header. */
    size_t host_len = auth_len;
    const char *default_port = https ? ":443" : ":80";
    size_t dp = strlen(default_port);
    if (host_len > dp && memcmp(auth + host_len - dp, default_port, dp) == 0 && auth[host_len - dp - 1] != ':')
        host_len -= dp;

    out->scheme = strdup(https ? "https" : "http");
    out->host = strndup(auth, host_len);
    out->raw_path = path_len ? strndup(rest, path_len) : strdup("/");
    out->query = strdup(q);
    out->path = malloc(path_len + 2);
    if (!out->scheme || !out->host || !out->raw_path || !out->query || !out->path) {
        snprintf(err, errlen, "out of memory");
        client_url_free(out);
        return false;
    }
    if (!client_url_percent_decode(out->raw_path, strlen(out->raw_path), out->path)) {
        snprintf(err, errlen, "'%.200s': the path has a malformed %%-escape", url);
        client_url_free(out);
        return false;
    }
    if (!client_url_pairs(out, err, errlen)) {
        client_url_free(out);
        return false;
    }
    return true;
}
