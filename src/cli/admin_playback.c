/*
 * admin_playback: `vodup admin playback show|set`, an account's playback
 * access (docs/playback.md): public, or signed URLs only.  `show` and `set`
 * print the account's playback key in hex, because a CDN in front of vodup
 * that checks the same URLs needs it; it is drawn (RAND_bytes) when the
 * account first turns signed, and replaced only with --rotate-key, which
 * invalidates every URL signed before.
 */
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "cli/admin_internal.h"

static int admin_playback_print(const admin_ctx_t *ctx, const store_playback_t *pb)
{
    char hex[2 * STORE_PLAYBACK_KEY_LEN + 1] = "";
    for (int i = 0; pb->has_key && i < STORE_PLAYBACK_KEY_LEN; i++)
        snprintf(hex + 2 * i, 3, "%02x", pb->key[i]);
    const char *access = pb->access == STORE_PLAYBACK_SIGNED ? "signed" : "public";
    if (ctx->json)
        return admin_print_json(json_pack("{s:s, s:s?}", "access", access, "key", pb->has_key ? hex : NULL));
    admin_print_pairs((const char *const[]){"Access", access, "Key", pb->has_key ? hex : "(none yet)"}, 2);
    return 0;
}

static int admin_playback_show(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, NULL, NULL);
    if (r < 0)
        r = admin_expect_args(ctx, "show", 0, "");
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    store_playback_t pb;
    int rc = ctx->store->ops->playback_get(ctx->store, account_id, &pb);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "reading the playback access");
    r = admin_playback_print(ctx, &pb);
    memset(&pb, 0, sizeof(pb));
    return r;
}

static int admin_playback_set_opt(void *state, int id, const char *arg)
{
    (void)arg;
    if (id != 'r')
        return admin_usage_error("unexpected option");
    *(bool *)state = true;
    return -1;
}

static int admin_playback_set(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"rotate-key", no_argument, NULL, 'r'}, ADMIN_COMMON_OPTIONS};
    bool rotate = false;
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, admin_playback_set_opt, &rotate);
    if (r < 0)
        r = admin_expect_args(ctx, "set", 1, "public or signed");
    bool is_signed = r < 0 && !strcmp(ctx->pos[0], "signed");
    if (r < 0 && !is_signed && strcmp(ctx->pos[0], "public") != 0)
        r = admin_usage_error("'playback set' takes public or signed, not '%s'", ctx->pos[0]);
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    unsigned char key[STORE_PLAYBACK_KEY_LEN];
    if (RAND_bytes(key, sizeof(key)) != 1)
        return admin_fail("cannot draw a key");
    store_playback_t pb;
    int rc = ctx->store->ops->playback_set(ctx->store, account_id,
                                           is_signed ? STORE_PLAYBACK_SIGNED : STORE_PLAYBACK_PUBLIC, key, rotate, &pb);
    memset(key, 0, sizeof(key));
    if (rc != STORE_OK)
        return admin_store_fail(rc, "setting the playback access");
    r = admin_playback_print(ctx, &pb);
    memset(&pb, 0, sizeof(pb));
    return r;
}

const admin_verb_t admin_playback_verbs[] = {{"show", admin_playback_show}, {"set", admin_playback_set}, {NULL, NULL}};
