/*
 * metrics_server: the separate listener (metrics-listen) that answers
 * GET /metrics with metrics.h's exposition, so the numbers never share the
 * public port: the operator binds it to loopback or a private network for
 * Prometheus.  One thread; every other path is a 404, every other method
 * a 405.  The gauges are read at each scrape through the caller's callback.
 */
#ifndef VODUP_HTTP_METRICS_SERVER_H
#define VODUP_HTTP_METRICS_SERVER_H

#include <stddef.h>

#include "http/metrics.h"

typedef void (*metrics_gauges_fn)(void *arg, metrics_gauges_t *out);

typedef struct metrics_server metrics_server_t;

/* Serves on listen_fd (taken over, closed on failure too).  NULL with a
 * reason in err on failure.  m and arg must outlive the server. */
metrics_server_t *metrics_server_start(metrics_t *m, int listen_fd, metrics_gauges_fn gauges, void *arg, char *err,
                                       size_t errlen);

/* Stops answering and frees the server (NULL is fine). */
void metrics_server_stop(metrics_server_t *s);

#endif
