/*
 * store.c: implementation-independent parts of the store interface: result
 * frees, names (of return codes, resource kinds, task states and output
 * types), and the
 * synchronous wrapper around video_register.
 */
#include "store/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

const char *store_rc_name(int rc)
{
    switch (rc) {
    case STORE_OK: return "ok";
    case STORE_NOT_FOUND: return "not found";
    case STORE_EXISTS: return "already exists";
    case STORE_CONFLICT: return "conflict";
    case STORE_INVALID: return "invalid";
    case STORE_UNAVAILABLE: return "unavailable";
    default: return "error";
    }
}

const char *store_resource_kind_name(int kind)
{
    switch (kind) {
    case STORE_WORKFLOW: return "workflow";
    case STORE_WATERMARK: return "watermark";
    case STORE_TEMPLATE: return "template";
    case STORE_SUBTITLE: return "subtitle";
    default: return "resource";
    }
}

/* Indexed by enum store_task_state; the database stores the same words. */
static const char *const store_task_state_names[] = {
    [STORE_TASK_QUEUED] = "queued",
    [STORE_TASK_RUNNING] = "running",
    [STORE_TASK_SUCCEEDED] = "succeeded",
    [STORE_TASK_FAILED] = "failed",
    [STORE_TASK_CANCELED] = "canceled",
};

#define STORE_TASK_STATE_COUNT ((int)(sizeof(store_task_state_names) / sizeof(store_task_state_names[0])))

const char *store_task_state_name(int state)
{
    return state >= 0 && state < STORE_TASK_STATE_COUNT ? store_task_state_names[state] : "unknown";
}

int store_task_state_parse(const char *name)
{
    for (int i = 0; name && i < STORE_TASK_STATE_COUNT; i++)
        if (!strcmp(name, store_task_state_names[i]))
            return i;
    return -1;
}

bool store_task_state_finished(int state)
{
    return state == STORE_TASK_SUCCEEDED || state == STORE_TASK_FAILED || state == STORE_TASK_CANCELED;
}

/* Indexed by enum store_output_type; the database stores the same words. */
static const char *const store_output_type_names[] = {
    [STORE_OUTPUT_MP4] = "mp4",
    [STORE_OUTPUT_WEBM] = "webm",
    [STORE_OUTPUT_MKV] = "mkv",
    [STORE_OUTPUT_HLS] = "hls",
    [STORE_OUTPUT_VTT] = "vtt",
    [STORE_OUTPUT_COVER] = "cover",
    [STORE_OUTPUT_JPG] = "jpg",
};

#define STORE_OUTPUT_TYPE_COUNT ((int)(sizeof(store_output_type_names) / sizeof(store_output_type_names[0])))

const char *store_output_type_name(int type)
{
    return type >= 0 && type < STORE_OUTPUT_TYPE_COUNT ? store_output_type_names[type] : NULL;
}

int store_output_type_parse(const char *name)
{
    for (int i = 0; name && i < STORE_OUTPUT_TYPE_COUNT; i++)
        if (!strcmp(name, store_output_type_names[i]))
            return i;
    return -1;
}

void store_key_free(store_key_t *k)
{
    if (!k)
        return;
    free(k->access_key);
    if (k->secret_key) {
        /* Secrets do not linger in freed heap memory. */
        memset(k->secret_key, 0, strlen(k->secret_key));
        free(k->secret_key);
    }
    free(k->account_name);
    free(k->bucket);
    memset(k, 0, sizeof(*k));
}

void store_key_list_free(store_key_list_t *l)
{
    for (size_t i = 0; i < l->count; i++)
        store_key_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void store_domain_list_free(store_domain_list_t *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].name);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void store_resource_free(store_resource_t *r)
{
    if (!r)
        return;
    free(r->id);
    free(r->name);
    free(r->spec);
    memset(r, 0, sizeof(*r));
}

void store_resource_list_free(store_resource_list_t *l)
{
    for (size_t i = 0; i < l->count; i++)
        store_resource_free(&l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void store_video_free(store_video_t *v)
{
    if (!v)
        return;
    char **strs[] = {&v->video_id, &v->file_id, &v->name, &v->file_key, &v->bucket, &v->domain,
                     &v->fail_reason, &v->md5, &v->etag, &v->mime_type, &v->expected_md5,
                     &v->workflow_id, &v->cmd, &v->watermark_name, &v->template_name, &v->subtitle_id,
                     &v->codecs, &v->object_id};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        free(*strs[i]);
    for (size_t i = 0; i < v->category_count; i++) {
        free(v->categories[i].parent_name);
        free(v->categories[i].child_name);
    }
    free(v->categories);
    memset(v, 0, sizeof(*v));
}

void store_video_page_free(store_video_page_t *p)
{
    for (size_t i = 0; i < p->count; i++)
        store_video_free(&p->items[i]);
    free(p->items);
    memset(p, 0, sizeof(*p));
}

void store_task_free(store_task_t *t)
{
    if (!t)
        return;
    free(t->task_id);
    free(t->video_id);
    free(t->plan);
    free(t->error);
    free(t->lease_owner);
    free(t->fops);
    free(t->notify_url);
    free(t->access_key);
    memset(t, 0, sizeof(*t));
}

void store_output_list_free(store_output_list_t *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].template_name);
        free(l->items[i].key);
        free(l->items[i].codecs);
        free(l->items[i].language);
    }
    free(l->items);
    memset(l, 0, sizeof(*l));
}

void store_output_file_free(store_output_file_t *f)
{
    if (!f)
        return;
    free(f->key);
    free(f->object_id);
    free(f->content_type);
    free(f->video_id);
    memset(f, 0, sizeof(*f));
}

void store_id_list_free(store_id_list_t *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i]);
    free(l->items);
    memset(l, 0, sizeof(*l));
}

typedef struct store_sync_wait {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    store_video_reg_result_t *out;
} store_sync_wait_t;

static void store_sync_done(void *arg, const store_video_reg_result_t *result)
{
    store_sync_wait_t *w = arg;
    pthread_mutex_lock(&w->mu);
    *w->out = *result;
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int store_video_register_sync(store_t *s, const store_video_reg_t *reg, store_video_reg_result_t *out)
{
    store_sync_wait_t w = {.done = false, .out = out};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    s->ops->video_register(s, reg, store_sync_done, &w);
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    return out->rc;
}

/* ---- events and webhooks ---- */

/* Indexed by enum store_event_type: the names webhooks carry (eventType). */
static const char *const store_event_type_names[] = {
    [STORE_EVENT_UPLOAD_COMPLETE] = "FileUploadComplete",
    [STORE_EVENT_PROCESSING_COMPLETE] = "ProcessingComplete",
    [STORE_EVENT_PROCESSING_FAILED] = "ProcessingFailed",
    [STORE_EVENT_VIDEO_DELETED] = "VideoDeleted",
    [STORE_EVENT_PERSISTENT_NOTIFY] = "PersistentNotify",
};

const char *store_event_type_name(int type)
{
    return type >= 0 && type < STORE_EVENT_KIND_COUNT ? store_event_type_names[type] : NULL;
}

int store_event_type_parse(const char *name)
{
    for (int i = 0; name && i < STORE_EVENT_KIND_COUNT; i++)
        if (!strcmp(name, store_event_type_names[i]))
            return i;
    return -1;
}

/* Indexed by enum store_delivery_state; the database stores the same words. */
static const char *const store_delivery_state_names[] = {
    [STORE_DELIVERY_PENDING] = "pending",
    [STORE_DELIVERY_DELIVERED] = "delivered",
    [STORE_DELIVERY_FAILED] = "failed",
};

const char *store_delivery_state_name(int state)
{
    return state >= 0 && state <= STORE_DELIVERY_FAILED ? store_delivery_state_names[state] : "unknown";
}

void store_webhook_free(store_webhook_t *w)
{
    if (!w)
        return;
    free(w->webhook_id);
    free(w->url);
    if (w->secret) {
        memset(w->secret, 0, strlen(w->secret));
        free(w->secret);
    }
    memset(w, 0, sizeof(*w));
}

void store_webhook_list_free(store_webhook_list_t *l)
{
    for (size_t i = 0; l && i < l->count; i++)
        store_webhook_free(&l->items[i]);
    if (l) {
        free(l->items);
        memset(l, 0, sizeof(*l));
    }
}

void store_delivery_free(store_delivery_t *d)
{
    if (!d)
        return;
    free(d->event_id);
    free(d->video_id);
    free(d->data);
    free(d->webhook_id);
    free(d->url);
    if (d->secret) {
        memset(d->secret, 0, strlen(d->secret));
        free(d->secret);
    }
    free(d->last_error);
    free(d->task_id);
    free(d->access_key);
    memset(d, 0, sizeof(*d));
}

void store_delivery_list_free(store_delivery_list_t *l)
{
    for (size_t i = 0; l && i < l->count; i++)
        store_delivery_free(&l->items[i]);
    if (l) {
        free(l->items);
        memset(l, 0, sizeof(*l));
    }
}

void store_tus_free(store_tus_t *u)
{
    if (!u)
        return;
    free(u->file_key);
    free(u->metadata);
    free(u->parts);
    u->file_key = u->metadata = u->parts = NULL;
}

void store_link_free(store_link_t *l)
{
    if (!l)
        return;
    free(l->access_key);
    free(l->template_name);
    free(l->workflow_id);
    l->access_key = l->template_name = l->workflow_id = NULL;
}
