/*
 * admin_link: `vodup admin upload-link create`, an upload link
 * (docs/upload-links.md) for the account: a URL that lets whoever holds it
 * upload through the page vodup serves.  The link hands out tokens signed
 * with the account's oldest enabled AccessKey.  The URL starts with --url,
 * else the public URL the server last started with on this data directory
 * (DIR/server-url), else http://127.0.0.1:8080 (`make run`'s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_internal.h"
#include "common/ids.h"
#include "common/timeutil.h"
#include "links/link.h"

#define ADMIN_LINK_DEFAULT_URL "http://127.0.0.1:8080"

typedef struct admin_link_opts {
    link_settings_t s;
    const char *url;
} admin_link_opts_t;

static int admin_link_opt(void *state, int id, const char *arg)
{
    admin_link_opts_t *o = state;
    switch (id) {
    case 'e':
        return link_parse_duration(arg, &o->s.expires_s) && o->s.expires_s > 0
                   ? -1
                   : admin_usage_error("--expires takes a duration like 90s, 30m, 24h or 7d");
    case 's':
        return link_parse_size(arg, &o->s.max_size) && o->s.max_size > 0
                   ? -1
                   : admin_usage_error("--max-size takes bytes, or a number with K, M or G");
    case 'n':
        return link_parse_size(arg, &o->s.uses) && o->s.uses > 0 && !strpbrk(arg, "KMG")
                   ? -1
                   : admin_usage_error("--uses takes a positive integer");
    case 't':
        o->s.template_name = arg;
        return -1;
    case 'w':
        o->s.workflow_id = arg;
        return -1;
    case 'u':
        o->url = arg;
        return -1;
    default:
        return admin_usage_error("unexpected option");
    }
}

/* The account's oldest enabled AccessKey (malloc'd), NULL when none. */
static char *admin_link_key(store_t *store, int64_t account_id)
{
    store_key_list_t l = {0};
    char *ak = NULL;
    if (store->ops->key_list(store, &l) == STORE_OK)
        for (size_t i = 0; i < l.count && !ak; i++)
            if (l.items[i].account_id == account_id && l.items[i].enabled)
                ak = strdup(l.items[i].access_key);
    store_key_list_free(&l);
    return ak;
}

/* --url, else DIR/server-url, else make run's address (malloc'd). */
static char *admin_link_base(const admin_ctx_t *ctx, const char *url)
{
    if (url)
        return strdup(url);
    char path[1024], line[512] = "";
    snprintf(path, sizeof(path), "%s/server-url", ctx->data_dir);
    FILE *f = fopen(path, "r");
    if (f && fgets(line, sizeof(line), f))
        line[strcspn(line, "\r\n")] = '\0';
    if (f)
        fclose(f);
    return strdup(line[0] ? line : ADMIN_LINK_DEFAULT_URL);
}

static int admin_link_print(const admin_ctx_t *ctx, const store_link_t *l, const char *url)
{
    char expires[TIMEUTIL_ISO_LEN], max[24], uses[24];
    timeutil_iso8601(l->expires_ms, expires);
    if (l->max_size > 0)
        snprintf(max, sizeof(max), "%lld", (long long)l->max_size);
    else
        snprintf(max, sizeof(max), "max-upload-size");
    snprintf(uses, sizeof(uses), "%lld", (long long)l->uses);
    if (ctx->json)
        return admin_print_json(json_pack("{s:s, s:s, s:s, s:o, s:I, s:s?, s:s?}", "linkId", l->link_id, "uploadLink",
                                          url, "expiresAt", expires, "maxSize",
                                          l->max_size > 0 ? json_integer(l->max_size) : json_null(), "uses",
                                          (json_int_t)l->uses, "transCodeCombineName", l->template_name, "workflowId",
                                          l->workflow_id));
    printf("%s\n", url);
    fprintf(stderr, "link %s: until %s, %s video%s of at most %s bytes%s%s\n", l->link_id, expires, uses,
            l->uses == 1 ? "" : "s", max, l->template_name ? ", template " : "",
            l->template_name ? l->template_name : "");
    return 0;
}

static int admin_link_create(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {
        {"expires", required_argument, NULL, 'e'},  {"max-size", required_argument, NULL, 's'},
        {"uses", required_argument, NULL, 'n'},     {"template", required_argument, NULL, 't'},
        {"workflow", required_argument, NULL, 'w'}, {"url", required_argument, NULL, 'u'},
        ADMIN_COMMON_OPTIONS};
    admin_link_opts_t o = {0};
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, admin_link_opt, &o);
    if (r < 0)
        r = admin_expect_args(ctx, "create", 0, "");
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    /* The server's max-upload-size is not known here: a link made without
     * --max-size takes whatever it is when a file comes (maxSize 0). */
    config_t cfg;
    config_defaults(&cfg);
    char *ak = admin_link_key(ctx->store, account_id), *base = admin_link_base(ctx, o.url), *url = NULL;
    store_link_t l = {0};
    int store_rc = STORE_OK;
    char msg[160];
    int rc = ak ? link_make(ctx->store, &cfg, account_id, ak, &o.s, ids_now_ms(), &l, &store_rc, msg, sizeof(msg))
                : LINK_BAD_SETTING;
    if (!ak)
        r = admin_fail("the account has no enabled AccessKey to sign the link's tokens");
    else if (rc == LINK_BAD_SETTING)
        r = admin_usage_error("%s", msg);
    else if (rc != LINK_MADE)
        r = admin_store_fail(store_rc, "recording the upload link");
    else if (!base || !(url = link_url(base, l.link_id)))
        r = admin_fail("out of memory");
    else
        r = admin_link_print(ctx, &l, url);
    store_link_free(&l);
    config_free(&cfg);
    free(ak);
    free(base);
    free(url);
    return r;
}

const admin_verb_t admin_link_verbs[] = {{"create", admin_link_create}, {NULL, NULL}};
