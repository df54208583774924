/*
 * event_dispatch: the threads that send webhook deliveries from the store's
 * outbox (store.h, "events and webhooks"; docs/events.md).
 *
 * Each of `workers` threads claims the delivery due longest with a lease
 * (EVENT_DISPATCH_LEASE_MS past the total time-out, so only a dead node's
 * claims are taken again), freezes its event's data on the first send (the
 * render callback: getVideoInfo's data), signs and POSTs it (event_http.h),
 * and records the attempt: delivered on a 2xx; otherwise tried again after
 * event_retry.h's back-off (10 s doubling to 1 h, at least 24 h in all)
 * and then given up.  A URL whose host the allow-list no longer permits is
 * given up at once, without a request.
 *
 * Nothing here holds an event in memory beyond the one being sent: the
 * pending ones stay in the store, so a receiver that is down for a day
 * costs disk rows, not memory, and a kill -9 loses none (their leases run
 * out and they are claimed again after a restart).  The API and uploads
 * never wait on a delivery: they only write rows.  With no due delivery a
 * worker sleeps EVENT_DISPATCH_POLL_MS (or until woken), so an event is
 * sent within about that long of its state change.
 */
#ifndef VODUP_EVENTS_EVENT_DISPATCH_H
#define VODUP_EVENTS_EVENT_DISPATCH_H

#include <stdint.h>

#include "store/store.h"

#define EVENT_DISPATCH_POLL_MS 250
#define EVENT_DISPATCH_LEASE_MS 5000   /* beyond the total time-out: a claim of a killed node is taken again that soon */
#define EVENT_DISPATCH_KEEP_MS (7LL * 24 * 3600 * 1000) /* finished deliveries kept for `deliveries` */
#define EVENT_DISPATCH_PRUNE_EVERY_MS (3600LL * 1000)
#define EVENT_DISPATCH_WORKERS_MAX 64

/* The video's getVideoInfo data as JSON object text (malloc'd), or NULL when
 * the video is gone. */
typedef char *(*event_render_fn)(void *arg, int64_t account_id, const char *video_id);

typedef struct event_dispatch_options {
    int workers;             /* concurrent deliveries; 0: none run here */
    long connect_timeout_ms; /* per attempt */
    long total_timeout_ms;   /* per attempt, connect included */
    const char *allow_hosts; /* event_url.h's allow-list; NULL or "": any host */
    /* The wait before the second attempt (event_retry.h: 10 s); every later
     * wait is scaled with it.  Below the default, the 24 h guarantee
     * shrinks in proportion: for tests, and receivers known to recover
     * fast.  0: the default. */
    int64_t retry_first_ms;
    event_render_fn render;
    void *render_arg;
    /* A persistent job's notification (PersistentNotify): its status JSON
     * by persistentId (render_arg is passed), sent by event_notify.h to
     * the job's notify URL, which must pass job_allow_hosts. */
    char *(*render_job)(void *arg, const char *task_id);
    const char *job_allow_hosts; /* NULL or "": any host */
} event_dispatch_options_t;

typedef struct event_dispatch event_dispatch_t;

/* Starts the workers; NULL on failure (logged). */
event_dispatch_t *event_dispatch_start(store_t *store, const event_dispatch_options_t *opt);
/* A state change may have written events: a sleeping worker looks now. */
void event_dispatch_wake(event_dispatch_t *d);
/* Stops and joins the workers (an attempt under way runs to its time-out at
 * most) and frees d.  NULL is fine. */
void event_dispatch_stop(event_dispatch_t *d);

/* One delivery's fate after a failed attempt (pure): when to try again
 * (unix ms), or 0 to give up.  attempts_made counts this one; random01 in
 * [0, 1] draws the jitter; first_ms as retry_first_ms. */
int64_t event_dispatch_next_attempt(int64_t now_ms, int attempts_made, double random01, int64_t first_ms);

#endif
