/*
 * admin_webhook: `vodup admin webhook add|list|remove|deliveries`, an
 * account's webhooks (docs/events.md).
 *
 * `add` draws the signing secret and prints it once, as `key create` prints
 * a SecretKey: `list` shows it too, since a receiver's operator needs it to
 * verify signatures and has the database anyway.  It checks the URL as the
 * dispatcher will (http or https, a host, no user:password@); the
 * allow-list is the server's (webhook-allow-hosts) and is applied when a
 * delivery is sent, since it is configuration this command does not read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/admin_internal.h"
#include "common/timeutil.h"
#include "events/event_sign.h"
#include "events/event_url.h"

#define ADMIN_WEBHOOK_LIST_DEFAULT 20
#define ADMIN_WEBHOOK_LIST_MAX 1000

/* "FileUploadComplete,ProcessingFailed" -> its bit mask; 0 when a name is unknown. */
static unsigned admin_webhook_events(const char *list)
{
    unsigned mask = 0;
    char *copy = strdup(list), *save = NULL;
    for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save)) {
        int type = store_event_type_parse(t);
        if (type < 0) {
            mask = 0;
            break;
        }
        mask |= 1u << type;
    }
    free(copy);
    return mask;
}

/* The mask's names, comma-separated, into out. */
static void admin_webhook_event_names(unsigned mask, char *out, size_t len)
{
    size_t n = 0;
    out[0] = '\0';
    for (int t = 0; t < STORE_EVENT_TYPE_COUNT; t++)
        if (mask & (1u << t)) {
            int w = snprintf(out + n, len - n, "%s%s", n ? "," : "", store_event_type_name(t));
            n = w > 0 && (size_t)w < len - n ? n + (size_t)w : len - 1;
        }
}

static int admin_webhook_add_opt(void *state, int id, const char *arg)
{
    if (id != 'e')
        return admin_usage_error("unexpected option");
    *(unsigned *)state = admin_webhook_events(arg);
    if (*(unsigned *)state == 0)
        return admin_usage_error("--events takes a comma-separated list of FileUploadComplete, "
                                 "ProcessingComplete, ProcessingFailed, VideoDeleted");
    return -1;
}

static json_t *admin_webhook_json(const store_webhook_t *w)
{
    char events[160], created[TIMEUTIL_ISO_LEN];
    admin_webhook_event_names(w->events, events, sizeof(events));
    timeutil_iso8601(w->created_ms, created);
    return json_pack("{s:s, s:s, s:s, s:s, s:s}", "webhookId", w->webhook_id, "url", w->url, "events", events,
                     "secret", w->secret, "createdAt", created);
}

static int admin_webhook_add(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"events", required_argument, NULL, 'e'}, ADMIN_COMMON_OPTIONS};
    unsigned events = STORE_EVENT_ALL;
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, admin_webhook_add_opt, &events);
    if (r < 0)
        r = admin_expect_args(ctx, "add", 1, "a URL");
    char why[EVENT_URL_ERROR_MAX];
    if (r < 0 && !event_url_check(ctx->pos[0], why, sizeof(why)))
        r = admin_usage_error("%s: %s", ctx->pos[0], why);
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    char secret[EVENT_SIGN_SECRET_LEN + 1];
    if (!event_sign_secret_new(secret))
        return admin_fail("cannot draw a secret");
    store_webhook_t w;
    int rc = ctx->store->ops->webhook_add(ctx->store, account_id, ctx->pos[0], events, secret, &w);
    memset(secret, 0, sizeof(secret));
    if (rc != STORE_OK)
        return admin_store_fail(rc, "adding the webhook");
    char names[160];
    admin_webhook_event_names(w.events, names, sizeof(names));
    if (ctx->json)
        r = admin_print_json(admin_webhook_json(&w));
    else
        admin_print_pairs((const char *const[]){"WebhookId", w.webhook_id, "URL", w.url, "Events", names, "Secret",
                                                w.secret},
                          4);
    store_webhook_free(&w);
    return r < 0 ? 0 : r;
}

static bool admin_webhook_row(admin_ctx_t *ctx, json_t *arr, admin_table_t *t, const store_webhook_t *w)
{
    if (ctx->json)
        return json_array_append_new(arr, admin_webhook_json(w)) == 0;
    char events[160];
    admin_webhook_event_names(w->events, events, sizeof(events));
    return admin_table_add(t, (const char *const[]){w->webhook_id, w->url, events, w->secret});
}

static int admin_webhook_list(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, NULL, NULL);
    if (r < 0)
        r = admin_expect_args(ctx, "list", 0, "");
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    store_webhook_list_t l;
    int rc = ctx->store->ops->webhook_list(ctx->store, account_id, &l);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "listing webhooks");
    json_t *arr = ctx->json ? json_array() : NULL;
    admin_table_t t = {.ncols = 4};
    bool ok = ctx->json ? arr != NULL : admin_table_add(&t, (const char *const[]){"WEBHOOK", "URL", "EVENTS", "SECRET"});
    for (size_t i = 0; ok && i < l.count; i++)
        ok = admin_webhook_row(ctx, arr, &t, &l.items[i]);
    store_webhook_list_free(&l);
    return admin_list_output(ctx, arr, &t, ok);
}

static int admin_webhook_remove(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {ADMIN_COMMON_OPTIONS};
    int64_t account_id = 0;
    int r = admin_parse_verb(ctx, argc, argv, opts, NULL, NULL);
    if (r < 0)
        r = admin_expect_args(ctx, "remove", 1, "a webhook id");
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    int rc = ctx->store->ops->webhook_remove(ctx->store, account_id, ctx->pos[0]);
    if (rc == STORE_NOT_FOUND)
        return admin_fail("the account has no webhook %s", ctx->pos[0]);
    return rc == STORE_OK ? 0 : admin_store_fail(rc, "removing the webhook");
}

/* ---- deliveries ---- */

static int admin_webhook_limit_opt(void *state, int id, const char *arg)
{
    long v;
    if (id != 'n' || !admin_parse_int(arg, 1, ADMIN_WEBHOOK_LIST_MAX, &v))
        return admin_usage_error("--limit takes 1..%d", ADMIN_WEBHOOK_LIST_MAX);
    *(size_t *)state = (size_t)v;
    return -1;
}

static json_t *admin_delivery_json(const store_delivery_t *d)
{
    char event_at[TIMEUTIL_ISO_LEN], last_at[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(d->event_ms, event_at);
    timeutil_iso8601(d->last_attempt_ms, last_at);
    return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s?, s:s?}", "eventId", d->event_id, "eventType",
                     store_event_type_name(d->event_type) ? store_event_type_name(d->event_type) : "unknown",
                     "videoId", d->video_id, "webhookId", d->webhook_id, "eventTime", event_at, "state",
                     store_delivery_state_name(d->state), "attempts", d->attempts, "lastStatus", d->last_status,
                     "lastAttemptAt", d->last_attempt_ms > 0 ? last_at : NULL, "lastError", d->last_error);
}

static bool admin_delivery_row(admin_ctx_t *ctx, json_t *arr, admin_table_t *t, const store_delivery_t *d)
{
    if (ctx->json)
        return json_array_append_new(arr, admin_delivery_json(d)) == 0;
    char attempts[16], status[16], last[TIMEUTIL_ISO_LEN];
    snprintf(attempts, sizeof(attempts), "%d", d->attempts);
    snprintf(status, sizeof(status), "%d", d->last_status);
    if (d->last_attempt_ms > 0)
        timeutil_iso8601(d->last_attempt_ms, last);
    else
        snprintf(last, sizeof(last), "-");
    const char *type = store_event_type_name(d->event_type);
    return admin_table_add(t, (const char *const[]){d->event_id, type ? type : "unknown", d->webhook_id,
                                                    store_delivery_state_name(d->state), attempts,
                                                    d->last_status ? status : "-", last,
                                                    d->last_error ? d->last_error : ""});
}

static int admin_webhook_deliveries(admin_ctx_t *ctx, int argc, char **argv)
{
    static const struct option opts[] = {{"limit", required_argument, NULL, 'n'}, ADMIN_COMMON_OPTIONS};
    int64_t account_id = 0;
    size_t limit = ADMIN_WEBHOOK_LIST_DEFAULT;
    int r = admin_parse_verb(ctx, argc, argv, opts, admin_webhook_limit_opt, &limit);
    if (r < 0 && ctx->npos > 1)
        r = admin_usage_error("unexpected argument '%s'", ctx->pos[1]);
    if (r < 0)
        r = admin_open_account(ctx, &account_id);
    if (r >= 0)
        return r;
    store_delivery_list_t l;
    int rc = ctx->store->ops->delivery_list(ctx->store, account_id, ctx->npos ? ctx->pos[0] : NULL, limit, &l);
    if (rc != STORE_OK)
        return admin_store_fail(rc, "listing deliveries");
    json_t *arr = ctx->json ? json_array() : NULL;
    admin_table_t t = {.ncols = 8};
    bool ok = ctx->json ? arr != NULL
                        : admin_table_add(&t, (const char *const[]){"EVENT", "TYPE", "WEBHOOK", "STATE", "ATTEMPTS",
                                                                    "STATUS", "LAST ATTEMPT", "ERROR"});
    for (size_t i = 0; ok && i < l.count; i++)
        ok = admin_delivery_row(ctx, arr, &t, &l.items[i]);
    store_delivery_list_free(&l);
    return admin_list_output(ctx, arr, &t, ok);
}

const admin_verb_t admin_webhook_verbs[] = {
    {"add", admin_webhook_add},       {"list", admin_webhook_list},
    {"remove", admin_webhook_remove}, {"deliveries", admin_webhook_deliveries},
    {NULL, NULL}};
