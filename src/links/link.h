/*
 * link: upload links (docs/upload-links.md), the part the API, the page's
 * routes and `vodup admin upload-link` share: the settings' rules, making
 * a link, and the fileId a link registers a file under.
 *
 * A link is a capability: its id ("ul_" and 128 random bits in hex) in the
 * page's URL is all a holder needs; the store row says which account it
 * serves, under which AccessKey's tokens, until when, for how many videos
 * of which size and with which processing.
 */
#ifndef VODUP_LINK_H
#define VODUP_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "store/store.h"

#define LINK_DEFAULT_EXPIRES_S 86400
#define LINK_MIN_EXPIRES_S 60
#define LINK_MAX_EXPIRES_S (30 * 86400)
#define LINK_MAX_USES 1000
#define LINK_FILE_ID_MAX 32 /* a client's fileId: 1..32 of [A-Za-z0-9_-] */

/* What a link is made with; 0 / NULL: the default (max_size 0: the
 * server's max-upload-size, whatever it is when a file comes). */
typedef struct link_settings {
    int64_t expires_s;
    int64_t max_size;
    int64_t uses;
    const char *template_name;
    const char *workflow_id;
} link_settings_t;

/* "90s", "30m", "24h", "7d" or plain seconds. */
bool link_parse_duration(const char *s, int64_t *seconds);
/* Bytes, or with a K, M or G suffix (powers of 1024). */
bool link_parse_size(const char *s, int64_t *bytes);

enum link_make_rc {
    LINK_MADE = 0,
    LINK_BAD_SETTING,  /* msg names it */
    LINK_STORE_ERROR,  /* *store_rc */
};

/* Checks the settings (ranges, and that the template and workflow exist in
 * the account), fills the defaults and records the link, signing with
 * `access_key`.  out: the link made (store_link_free).  msg: why not. */
int link_make(store_t *store, const config_t *cfg, int64_t account_id, const char *access_key,
              const link_settings_t *settings, int64_t now_ms, store_link_t *out, int *store_rc, char *msg,
              size_t msglen);

/* The largest file the link takes now: its maxSize, at most the server's
 * max-upload-size. */
int64_t link_max_size(const store_link_t *l, const config_t *cfg);

/* The page's URL for a link: base (no trailing slash needed) + "/upload/" + id (malloc'd). */
char *link_url(const char *base, const char *link_id);

/* Whether s is a client fileId (1..32 of [A-Za-z0-9_-]). */
bool link_client_file_id_valid(const char *s);
/* The fileId a link registers a client's fileId under: unique to the
 * pair, 32 of [A-Za-z0-9_-], so that another link's holder can never reach
 * this link's videos by naming the same fileId. */
bool link_file_id(const char *link_id, const char *client_file_id, char out[LINK_FILE_ID_MAX + 1]);

#endif
