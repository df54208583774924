/* link: upload links' rules and making; see link.h. */
#define _GNU_SOURCE /* asprintf */
#include "links/link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/crypto.h"
#include "common/buf.h"
#include "common/encoding.h"
#include "common/ids.h"

/* A decimal of 1..15 digits and an optional suffix from `units`. */
static bool link_parse_scaled(const char *s, const char *units, const int64_t *scale, int64_t *out)
{
    size_t n = s ? strspn(s, "0123456789") : 0;
    if (n == 0 || n > 15)
        return false;
    int64_t v = strtoll(s, NULL, 10), k = 1;
    const char *u = s[n] ? strchr(units, s[n]) : NULL;
    if (s[n] && (!u || s[n + 1]))
        return false;
    if (u)
        k = scale[u - units];
    if (v > INT64_MAX / k)
        return false;
    *out = v * k;
    return true;
}

bool link_parse_duration(const char *s, int64_t *seconds)
{
    static const int64_t scale[] = {1, 60, 3600, 86400};
    return link_parse_scaled(s, "smhd", scale, seconds);
}

bool link_parse_size(const char *s, int64_t *bytes)
{
    static const int64_t scale[] = {1024, 1024 * 1024, 1024 * 1024 * 1024};
    return link_parse_scaled(s, "KMG", scale, bytes);
}

/* Why the settings cannot make a link, or NULL; fills the defaults. */
static const char *link_settings_check(link_settings_t *s, const config_t *cfg)
{
    if (s->expires_s == 0)
        s->expires_s = LINK_DEFAULT_EXPIRES_S;
    if (s->uses == 0)
        s->uses = 1;
    if (s->expires_s < LINK_MIN_EXPIRES_S || s->expires_s > LINK_MAX_EXPIRES_S)
        return "expiresIn must be 60 .. 2592000 seconds (1 minute .. 30 days).";
    if (s->max_size < 0 || s->max_size > cfg->max_upload_size)
        return "maxSize must be 1 .. max-upload-size bytes.";
    if (s->uses < 1 || s->uses > LINK_MAX_USES)
        return "uses must be 1 .. 1000.";
    return NULL;
}

/* The named resource exists in the account; STORE_OK, else its rc. */
static int link_resource(store_t *store, int64_t account_id, int kind, const char *id)
{
    if (!id)
        return STORE_OK;
    store_resource_t r = {0};
    int rc = store->ops->resource_get(store, account_id, kind, id, &r);
    store_resource_free(&r);
    return rc;
}

int link_make(store_t *store, const config_t *cfg, int64_t account_id, const char *access_key,
              const link_settings_t *settings, int64_t now_ms, store_link_t *out, int *store_rc, char *msg,
              size_t msglen)
{
    link_settings_t s = *settings;
    memset(out, 0, sizeof(*out));
    const char *why = link_settings_check(&s, cfg);
    int rc = why ? STORE_OK : link_resource(store, account_id, STORE_TEMPLATE, s.template_name);
    if (!why && rc == STORE_NOT_FOUND)
        why = "transCodeCombineName does not exist.";
    rc = why || rc != STORE_OK ? rc : link_resource(store, account_id, STORE_WORKFLOW, s.workflow_id);
    if (!why && rc == STORE_NOT_FOUND)
        why = "workflowId does not exist.";
    if (why) {
        snprintf(msg, msglen, "%s", why);
        return LINK_BAD_SETTING;
    }
    char hex[33];
    *store_rc = rc;
    if (rc != STORE_OK || !ids_random_hex(16, hex))
        return LINK_STORE_ERROR;
    *out = (store_link_t){.account_id = account_id, .access_key = strdup(access_key),
                          .expires_ms = now_ms + s.expires_s * 1000, .max_size = s.max_size, .uses = s.uses,
                          .template_name = s.template_name ? strdup(s.template_name) : NULL,
                          .workflow_id = s.workflow_id ? strdup(s.workflow_id) : NULL, .created_ms = now_ms};
    snprintf(out->link_id, sizeof(out->link_id), "ul_%s", hex);
    *store_rc = out->access_key ? store->ops->link_create(store, out) : STORE_ERROR;
    if (*store_rc != STORE_OK)
        store_link_free(out);
    return *store_rc == STORE_OK ? LINK_MADE : LINK_STORE_ERROR;
}

int64_t link_max_size(const store_link_t *l, const config_t *cfg)
{
    return l->max_size > 0 && l->max_size < cfg->max_upload_size ? l->max_size : cfg->max_upload_size;
}

char *link_url(const char *base, const char *link_id)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    char *url = NULL;
    if (asprintf(&url, "%.*s/upload/%s", (int)n, base, link_id) < 0)
        return NULL;
    return url;
}

bool link_client_file_id_valid(const char *s)
{
    return s && ids_token_chars(s, strlen(s), LINK_FILE_ID_MAX);
}

bool link_file_id(const char *link_id, const char *client_file_id, char out[LINK_FILE_ID_MAX + 1])
{
    buf_t in, enc;
    buf_init(&in, 0);
    buf_init(&enc, 0);
    uint8_t digest[32];
    bool ok = buf_printf(&in, "%s:%s", link_id, client_file_id) && crypto_sha256(in.data, in.len, digest) &&
              encoding_b64url_encode(digest, 24, &enc) && enc.len >= LINK_FILE_ID_MAX;
    if (ok) {
        memcpy(out, enc.data, LINK_FILE_ID_MAX);
        out[LINK_FILE_ID_MAX] = '\0';
    }
    buf_free(&in);
    buf_free(&enc);
    return ok;
}
