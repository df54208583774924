/*
 * metrics: the counters the HTTP layer keeps per request, and their
 * rendering in the Prometheus text exposition format (version 0.0.4).
 *
 * Requests are counted by route and status, their latency goes into a
 * histogram per route, and their bytes in and out into counters per route.
 * Routes are a fixed table of labels set once before the server starts
 * (metrics_route_set), so label cardinality is bounded whatever clients
 * send: an unknown path counts as route "other", an unlisted status as
 * code "other".  Updates are lock-free atomics on the request's completion.
 *
 * Gauges that describe the server now (requests and uploads in flight,
 * staged bytes, tasks, deliveries, free space) are not kept here: the
 * caller reads them at scrape time and passes them to metrics_render.
 */
#ifndef VODUP_HTTP_METRICS_H
#define VODUP_HTTP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"

#define METRICS_MAX_ROUTES 48

typedef struct metrics metrics_t;

/* A zeroed registry with only route 0 ("other").  NULL when out of memory. */
metrics_t *metrics_new(void);
void metrics_free(metrics_t *m);

/* Names route `index` (1..METRICS_MAX_ROUTES - 1) `label` (static text,
 * [a-zA-Z0-9/_.-] only).  Before any metrics_request or render. */
void metrics_route_set(metrics_t *m, int index, const char *label);

/* One finished request.  status 0: aborted before an answer. */
void metrics_request(metrics_t *m, int route, int status, double seconds, uint64_t bytes_in, uint64_t bytes_out);

/* The gauges of one scrape; a negative value is left out. */
typedef struct metrics_gauges {
    int64_t requests_in_flight;
    int64_t uploads_in_flight;
    int64_t staged_bytes;
    int64_t tasks_queued;
    int64_t tasks_running;
    int64_t deliveries_pending;
    int64_t store_free_bytes;
    int64_t blob_free_bytes;
    bool ready;
} metrics_gauges_t;

/* Appends the whole exposition to out.  False when out of memory. */
bool metrics_render(metrics_t *m, const metrics_gauges_t *g, buf_t *out);

#endif
