/*
 * sweep: removes what no client can use any more: registrations never
 * uploaded past registration-ttl, blocks not written for block-max-age
 * (their ctx values expire with them), staged objects a crash left behind,
 * published objects no registry row names (a crash between publish and
 * the row), and tus uploads not written for block-max-age (their rows, and
 * the blocks of the unfinished ones).  Runs on its own thread so that a large directory
 * walk never holds up uploads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "common/ids.h"
#include "common/log.h"
#include "upload/quota.h"
#include "upload/upload.h"

#define UPLOAD_EXPIRE_BATCH 500

struct upload_sweeper {
    const upload_ctx_t *ctx;
    int64_t interval_ms;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
};

/* The sweep's callbacks; arg is the upload_ctx_t. */
static bool upload_object_in_use(void *arg, const char *object_id)
{
    store_t *store = ((const upload_ctx_t *)arg)->store;
    bool in_use = true; /* when in doubt, keep */
    if (store->ops->object_in_use(store, object_id, &in_use) != STORE_OK)
        return true;
    return in_use;
}

static void upload_block_gone(void *arg, const char *block_id)
{
    quota_block_set(((const upload_ctx_t *)arg)->quota, block_id, 0);
}

static void upload_block_found(void *arg, const char *block_id, int64_t size)
{
    quota_block_set(arg, block_id, size);
}

bool upload_quota_load(const upload_ctx_t *ctx)
{
    return ctx->blob->ops->block_walk(ctx->blob, upload_block_found, ctx->quota) == BLOB_OK;
}

/* How long a registration never uploaded is kept: registration-ttl, or by
 * default the token's lifetime plus the blocks' (an upload can go on for as
 * long as its token is valid and its blocks are kept). */
int64_t upload_registration_ttl_s(const config_t *cfg)
{
    return cfg->registration_ttl > 0 ? cfg->registration_ttl : cfg->token_lifetime + cfg->block_max_age;
}

/* Removes registrations never uploaded past their time, a batch at a time. */
static int64_t upload_expire_registrations(const upload_ctx_t *ctx, int64_t now_ms)
{
    int64_t before = now_ms - upload_registration_ttl_s(ctx->cfg) * 1000, total = 0, n = 0;
    int rc;
    do {
        rc = ctx->store->ops->video_expire(ctx->store, before, UPLOAD_EXPIRE_BATCH, &n);
        total += n;
    } while (rc == STORE_OK && n == UPLOAD_EXPIRE_BATCH);
    if (rc != STORE_OK)
        log_warn("sweep: expiring registrations: %s", store_rc_name(rc));
    if (total > 0)
        log_info("sweep: removed %lld registrations never uploaded", (long long)total);
    return total;
}

/* Removes tus uploads past their expiry, a batch at a time, with their
 * blocks (a block of a published upload is gone already: no matter). */
static int64_t upload_expire_tus(const upload_ctx_t *ctx, int64_t now_ms)
{
    int64_t before = now_ms - ctx->cfg->block_max_age * 1000, total = 0;
    store_id_list_t gone;
    size_t n = 0;
    int rc;
    do {
        rc = ctx->store->ops->tus_expire(ctx->store, before, UPLOAD_EXPIRE_BATCH, &gone);
        if (rc != STORE_OK)
            break;
        for (size_t i = 0; i < gone.count; i++) {
            ctx->blob->ops->block_remove(ctx->blob, gone.items[i]);
            quota_block_set(ctx->quota, gone.items[i], 0);
        }
        n = gone.count;
        total += (int64_t)n;
        store_id_list_free(&gone);
    } while (n == UPLOAD_EXPIRE_BATCH);
    if (rc != STORE_OK)
        log_warn("sweep: expiring tus uploads: %s", store_rc_name(rc));
    if (total > 0)
        log_info("sweep: removed %lld expired tus uploads", (long long)total);
    return total;
}

int64_t upload_sweep_once(const upload_ctx_t *ctx, int64_t now_ms)
{
    int64_t expired = upload_expire_registrations(ctx, now_ms) + upload_expire_tus(ctx, now_ms);
    int64_t n = ctx->blob->ops->sweep(ctx->blob, now_ms, ctx->cfg->block_max_age * 1000, upload_object_in_use,
                                      upload_block_gone, (void *)ctx);
    if (n > 0)
        log_info("sweep: removed %lld expired blocks or orphaned objects", (long long)n);
    return n + expired;
}

static void *upload_sweeper_main(void *arg)
{
    upload_sweeper_t *sw = arg;
    pthread_mutex_lock(&sw->mu);
    while (!sw->stop) {
        pthread_mutex_unlock(&sw->mu);
        upload_sweep_once(sw->ctx, ids_now_ms());
        pthread_mutex_lock(&sw->mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += sw->interval_ms / 1000;
        until.tv_nsec += (sw->interval_ms % 1000) * 1000000;
        if (until.tv_nsec >= 1000000000) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000;
        }
        while (!sw->stop && pthread_cond_timedwait(&sw->cv, &sw->mu, &until) == 0)
            ;
    }
    pthread_mutex_unlock(&sw->mu);
    return NULL;
}

upload_sweeper_t *upload_sweeper_start(const upload_ctx_t *ctx, int64_t interval_ms)
{
    upload_sweeper_t *sw = calloc(1, sizeof(*sw));
    if (!sw)
        return NULL;
    sw->ctx = ctx;
    sw->interval_ms = interval_ms;
    pthread_mutex_init(&sw->mu, NULL);
    pthread_cond_init(&sw->cv, NULL);
    if (pthread_create(&sw->thread, NULL, upload_sweeper_main, sw) != 0) {
        pthread_mutex_destroy(&sw->mu);
        pthread_cond_destroy(&sw->cv);
        free(sw);
        return NULL;
    }
    return sw;
}

void upload_sweeper_stop(upload_sweeper_t *sw)
{
    if (!sw)
        return;
    pthread_mutex_lock(&sw->mu);
    sw->stop = true;
    pthread_cond_signal(&sw->cv);
    pthread_mutex_unlock(&sw->mu);
    pthread_join(sw->thread, NULL);
    pthread_mutex_destroy(&sw->mu);
    pthread_cond_destroy(&sw->cv);
    free(sw);
}
