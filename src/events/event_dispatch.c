/* event_dispatch: the webhook delivery threads; see event_dispatch.h. */
#include "events/event_dispatch.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/ids.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "events/event_body.h"
#include "events/event_http.h"
#include "events/event_notify.h"
#include "events/event_retry.h"
#include "events/event_url.h"

#define EVENT_DISPATCH_ID_MAX 128

typedef struct event_worker {
    event_dispatch_t *d;
    pthread_t thread;
    bool started;
    int index;
    char id[EVENT_DISPATCH_ID_MAX];
} event_worker_t;

struct event_dispatch {
    store_t *store;
    event_dispatch_options_t opt;
    char *allow_hosts;     /* opt's, owned */
    char *job_allow_hosts; /* opt's, owned */
    atomic_bool stopping;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned wakes;
    int64_t next_prune_ms; /* worker 0's */
    int count;
    event_worker_t workers[];
};

int64_t event_dispatch_next_attempt(int64_t now_ms, int attempts_made, double random01, int64_t first_ms)
{
    if (attempts_made < 1 || event_retry_exhausted((unsigned)attempts_made))
        return 0;
    int64_t wait = event_retry_delay_ms((unsigned)attempts_made + 1, random01);
    if (wait < 0)
        return 0;
    if (first_ms > 0 && first_ms != EVENT_RETRY_FIRST_WAIT_MS)
        wait = (int64_t)((double)wait * (double)first_ms / (double)EVENT_RETRY_FIRST_WAIT_MS);
    return now_ms + (wait > 0 ? wait : 1);
}

/* ---- one delivery ---- */

/* What the event's data is now: the video (getVideoInfo's data), or a
 * job's status for its notification. */
static char *event_dispatch_render(event_dispatch_t *d, const store_delivery_t *dl)
{
    if (dl->event_type == STORE_EVENT_PERSISTENT_NOTIFY)
        return d->opt.render_job && dl->task_id ? d->opt.render_job(d->opt.render_arg, dl->task_id) : NULL;
    char *rendered = d->opt.render ? d->opt.render(d->opt.render_arg, dl->account_id, dl->video_id) : NULL;
    return rendered ? rendered : event_body_gone_data(dl->video_id);
}

/* The event's data, frozen by the first send: rendered now if nobody has. */
static char *event_dispatch_data(event_dispatch_t *d, const store_delivery_t *dl)
{
    if (dl->data)
        return strdup(dl->data);
    char *rendered = event_dispatch_render(d, dl);
    char *frozen = NULL;
    int rc = rendered ? d->store->ops->delivery_set_data(d->store, dl->event_id, rendered, &frozen) : STORE_ERROR;
    if (rc != STORE_OK)
        log_warn("webhook: event %s: cannot freeze its data: %s", dl->event_id, store_rc_name(rc));
    free(rendered);
    return frozen;
}

static double event_dispatch_random(void)
{
    char hex[9];
    if (!ids_random_hex(4, hex))
        return 0.5;
    return (double)strtoul(hex, NULL, 16) / 4294967295.0;
}

static void event_dispatch_record(event_dispatch_t *d, const event_worker_t *w, const store_delivery_t *dl,
                                  const event_http_result_t *r, bool give_up)
{
    int64_t now = ids_now_ms();
    bool delivered = r->outcome == EVENT_HTTP_DELIVERED;
    store_delivery_attempt_t a = {
        .delivered = delivered,
        .status = (int)r->status,
        .error = delivered ? NULL : r->error[0] ? r->error : event_http_outcome_name(r->outcome),
        .next_attempt_ms = delivered || give_up ? 0
                                                : event_dispatch_next_attempt(now, dl->attempts + 1,
                                                                              event_dispatch_random(),
                                                                              d->opt.retry_first_ms),
    };
    int rc = d->store->ops->delivery_record(d->store, dl->delivery_id, w->id, now, &a);
    if (rc != STORE_OK)
        log_warn("webhook: delivery %lld: cannot record its attempt: %s", (long long)dl->delivery_id,
                 store_rc_name(rc));
    log_info("webhook: event %s (%s) to %s: attempt %d %s%s%s", dl->event_id, store_event_type_name(dl->event_type),
             dl->webhook_id ? dl->webhook_id : "its notify URL", dl->attempts + 1,
             delivered ? "delivered" : event_http_outcome_name(r->outcome),
             a.next_attempt_ms ? ", will retry" : "", !delivered && !a.next_attempt_ms ? ", given up" : "");
}

/* A persistent job's notification (event_notify.h). */
static void event_dispatch_send_job(event_dispatch_t *d, const event_worker_t *w, const store_delivery_t *dl,
                                    event_http_result_t *r)
{
    char *data = event_dispatch_data(d, dl);
    if (!data) {
        snprintf(r->error, sizeof(r->error), "not sent: the job's status could not be built");
        event_dispatch_record(d, w, dl, r, false);
        return;
    }
    event_http_limits_t lim = {.connect_timeout_ms = d->opt.connect_timeout_ms,
                               .total_timeout_ms = d->opt.total_timeout_ms};
    event_notify_post(dl->url, dl->access_key, dl->secret, data, &lim, r);
    free(data);
    event_dispatch_record(d, w, dl, r, false);
}

static void event_dispatch_send(event_dispatch_t *d, const event_worker_t *w, const store_delivery_t *dl)
{
    event_http_result_t r = {.outcome = EVENT_HTTP_OTHER};
    char why[EVENT_URL_ERROR_MAX];
    bool job = dl->event_type == STORE_EVENT_PERSISTENT_NOTIFY;
    if (!event_url_permitted(dl->url, job ? d->opt.job_allow_hosts : d->opt.allow_hosts, why, sizeof(why))) {
        snprintf(r.error, sizeof(r.error), "not sent: %s", why);
        event_dispatch_record(d, w, dl, &r, true);
        return;
    }
    if (job) {
        event_dispatch_send_job(d, w, dl, &r);
        return;
    }
    char *data = event_dispatch_data(d, dl);
    char *body = data ? event_body_json(dl->event_id, dl->event_type, dl->event_ms, dl->video_id, data) : NULL;
    free(data);
    if (!body) {
        snprintf(r.error, sizeof(r.error), "not sent: the event's body could not be built");
        event_dispatch_record(d, w, dl, &r, false);
        return;
    }
    event_http_limits_t lim = {.connect_timeout_ms = d->opt.connect_timeout_ms,
                               .total_timeout_ms = d->opt.total_timeout_ms};
    event_http_deliver(dl->url, dl->secret, dl->event_id, (int64_t)time(NULL), body, strlen(body), &lim, &r, NULL);
    free(body);
    event_dispatch_record(d, w, dl, &r, false);
}

/* ---- the threads ---- */

static void event_dispatch_wait(event_dispatch_t *d)
{
    pthread_mutex_lock(&d->mu);
    if (!d->wakes && !atomic_load(&d->stopping)) {
        struct timespec ts = timeutil_monotonic_deadline(EVENT_DISPATCH_POLL_MS);
        pthread_cond_timedwait(&d->cv, &d->mu, &ts);
    }
    if (d->wakes)
        d->wakes--;
    pthread_mutex_unlock(&d->mu);
}

static void event_dispatch_prune(event_dispatch_t *d)
{
    int64_t now = ids_now_ms();
    if (now < d->next_prune_ms)
        return;
    d->next_prune_ms = now + EVENT_DISPATCH_PRUNE_EVERY_MS;
    int rc = d->store->ops->delivery_prune(d->store, now - EVENT_DISPATCH_KEEP_MS);
    if (rc != STORE_OK)
        log_warn("webhook: pruning old deliveries: %s", store_rc_name(rc));
}

/* Claims and sends one delivery; false when none was due. */
static bool event_dispatch_step(event_worker_t *w)
{
    event_dispatch_t *d = w->d;
    store_delivery_t dl;
    int64_t lease = d->opt.total_timeout_ms + EVENT_DISPATCH_LEASE_MS;
    int rc = d->store->ops->delivery_claim(d->store, w->id, ids_now_ms(), lease, &dl);
    if (rc != STORE_OK) {
        if (rc != STORE_NOT_FOUND && rc != STORE_UNAVAILABLE)
            log_warn("webhook: claim: %s", store_rc_name(rc));
        return false;
    }
    event_dispatch_send(d, w, &dl);
    store_delivery_free(&dl);
    return true;
}

static void *event_dispatch_main(void *arg)
{
    event_worker_t *w = arg;
    event_dispatch_t *d = w->d;
    while (!atomic_load(&d->stopping)) {
        if (w->index == 0)
            event_dispatch_prune(d);
        if (!event_dispatch_step(w))
            event_dispatch_wait(d);
    }
    return NULL;
}

static void event_dispatch_free(event_dispatch_t *d)
{
    pthread_cond_destroy(&d->cv);
    pthread_mutex_destroy(&d->mu);
    free(d->allow_hosts);
    free(d->job_allow_hosts);
    free(d);
}

static event_dispatch_t *event_dispatch_alloc(store_t *store, const event_dispatch_options_t *opt)
{
    int n = opt->workers < 0 ? 0 : opt->workers > EVENT_DISPATCH_WORKERS_MAX ? EVENT_DISPATCH_WORKERS_MAX : opt->workers;
    event_dispatch_t *d = calloc(1, sizeof(*d) + (size_t)n * sizeof(event_worker_t));
    if (!d)
        return NULL;
    d->store = store;
    d->opt = *opt;
    d->count = n;
    d->allow_hosts = opt->allow_hosts ? strdup(opt->allow_hosts) : NULL;
    d->job_allow_hosts = opt->job_allow_hosts ? strdup(opt->job_allow_hosts) : NULL;
    d->opt.allow_hosts = d->allow_hosts;
    atomic_init(&d->stopping, false);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cv, &attr);
    pthread_condattr_destroy(&attr);
    if (opt->allow_hosts && !d->allow_hosts) {
        event_dispatch_free(d);
        return NULL;
    }
    return d;
}

event_dispatch_t *event_dispatch_start(store_t *store, const event_dispatch_options_t *opt)
{
    event_dispatch_t *d = event_dispatch_alloc(store, opt);
    char boot[9], host[64] = "host";
    if (!d || !ids_random_hex(4, boot)) {
        log_error("webhooks: out of memory");
        if (d)
            event_dispatch_free(d);
        return NULL;
    }
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    for (int i = 0; i < d->count; i++) {
        event_worker_t *w = &d->workers[i];
        w->d = d;
        w->index = i;
        snprintf(w->id, sizeof(w->id), "%s/%d/%s/hook%d", host, (int)getpid(), boot, i);
        w->started = pthread_create(&w->thread, NULL, event_dispatch_main, w) == 0;
        if (!w->started) {
            log_error("webhooks: cannot start sender %d", i);
            event_dispatch_stop(d);
            return NULL;
        }
    }
    return d;
}

void event_dispatch_wake(event_dispatch_t *d)
{
    if (!d || d->count == 0)
        return;
    pthread_mutex_lock(&d->mu);
    if (d->wakes < (unsigned)d->count)
        d->wakes++;
    pthread_cond_signal(&d->cv);
    pthread_mutex_unlock(&d->mu);
}

void event_dispatch_stop(event_dispatch_t *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    atomic_store(&d->stopping, true);
    pthread_cond_broadcast(&d->cv);
    pthread_mutex_unlock(&d->mu);
    for (int i = 0; i < d->count; i++)
        if (d->workers[i].started)
            pthread_join(d->workers[i].thread, NULL);
    event_dispatch_free(d);
}
