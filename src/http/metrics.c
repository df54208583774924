/* metrics: per-request counters and the Prometheus exposition; see metrics.h. */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "common/version.h"

/* The status codes vodup answers with (docs/api.md, docs/upload.md); any
 * other lands in the last slot, "other".  0 is a request aborted before an
 * answer. */
static const int metrics_codes[] = {0,   200, 201, 204, 206, 301, 302, 304, 400, 401, 403, 404, 405, 408, 409,
                                    411, 412, 413, 414, 415, 416, 429, 431, 460, 500, 501, 503, 579, 599};
#define METRICS_CODES (sizeof(metrics_codes) / sizeof(metrics_codes[0]))

/* Latency bucket bounds, seconds: from a cached API answer to a large mkfile. */
static const double metrics_bounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
#define METRICS_BOUNDS (sizeof(metrics_bounds) / sizeof(metrics_bounds[0]))

typedef struct metrics_route {
    const char *label;
    atomic_ullong by_code[METRICS_CODES + 1];
    atomic_ullong buckets[METRICS_BOUNDS]; /* non-cumulative; summed when rendered */
    atomic_ullong count;
    atomic_ullong sum_us;
    atomic_ullong bytes_in, bytes_out;
} metrics_route_t;

struct metrics {
    metrics_route_t routes[METRICS_MAX_ROUTES];
    time_t started;
};

metrics_t *metrics_new(void)
{
    metrics_t *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->routes[0].label = "other";
    m->started = time(NULL);
    return m;
}

void metrics_free(metrics_t *m)
{
    free(m);
}

void metrics_route_set(metrics_t *m, int index, const char *label)
{
    if (index > 0 && index < METRICS_MAX_ROUTES)
        m->routes[index].label = label;
}

static size_t metrics_code_slot(int status)
{
    for (size_t i = 0; i < METRICS_CODES; i++)
        if (metrics_codes[i] == status)
            return i;
    return METRICS_CODES;
}

void metrics_request(metrics_t *m, int route, int status, double seconds, uint64_t bytes_in, uint64_t bytes_out)
{
    metrics_route_t *r = &m->routes[route > 0 && route < METRICS_MAX_ROUTES && m->routes[route].label ? route : 0];
    atomic_fetch_add_explicit(&r->by_code[metrics_code_slot(status)], 1, memory_order_relaxed);
    size_t b = 0;
    while (b < METRICS_BOUNDS && seconds > metrics_bounds[b])
        b++;
    if (b < METRICS_BOUNDS)
        atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->sum_us, (unsigned long long)(seconds > 0 ? seconds * 1e6 : 0), memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bytes_in, bytes_in, memory_order_relaxed);
    atomic_fetch_add_explicit(&r->bytes_out, bytes_out, memory_order_relaxed);
}

static bool metrics_head(buf_t *out, const char *name, const char *type, const char *help)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static bool metrics_requests(const metrics_t *m, buf_t *out)
{
    bool ok = metrics_head(out, "vodup_http_requests_total", "counter",
                           "HTTP requests finished, by route and status code (0: aborted before an answer).");
    for (size_t i = 0; ok && i < METRICS_MAX_ROUTES; i++)
        for (size_t c = 0; ok && m->routes[i].label && c <= METRICS_CODES; c++) {
            unsigned long long n = atomic_load(&m->routes[i].by_code[c]);
            if (n == 0)
                continue;
            char code[16];
            snprintf(code, sizeof(code), c < METRICS_CODES ? "%d" : "other", c < METRICS_CODES ? metrics_codes[c] : 0);
            ok = buf_printf(out, "vodup_http_requests_total{route=\"%s\",code=\"%s\"} %llu\n", m->routes[i].label,
                            code, n);
        }
    return ok;
}

static bool metrics_histogram_route(const metrics_route_t *r, buf_t *out)
{
    const char *name = "vodup_http_request_duration_seconds";
    unsigned long long cumulative = 0;
    bool ok = true;
    for (size_t b = 0; ok && b < METRICS_BOUNDS; b++) {
        cumulative += atomic_load(&r->buckets[b]);
        ok = buf_printf(out, "%s_bucket{route=\"%s\",le=\"%g\"} %llu\n", name, r->label, metrics_bounds[b], cumulative);
    }
    unsigned long long count = atomic_load(&r->count);
    return ok && buf_printf(out, "%s_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", name, r->label, count) &&
           buf_printf(out, "%s_sum{route=\"%s\"} %.6f\n", name, r->label, (double)atomic_load(&r->sum_us) / 1e6) &&
           buf_printf(out, "%s_count{route=\"%s\"} %llu\n", name, r->label, count);
}

static bool metrics_per_route(const metrics_t *m, buf_t *out)
{
    bool ok = metrics_head(out, "vodup_http_request_duration_seconds", "histogram",
                           "Time from the request head to the end of the answer, by route.");
    for (size_t i = 0; ok && i < METRICS_MAX_ROUTES; i++)
        if (m->routes[i].label && atomic_load(&m->routes[i].count) > 0)
            ok = metrics_histogram_route(&m->routes[i], out);
    static const struct {
        const char *name, *help;
        size_t offset;
    } bytes[] = {
        {"vodup_http_received_bytes_total", "Request body bytes received, by route.",
         offsetof(metrics_route_t, bytes_in)},
        {"vodup_http_sent_bytes_total", "Answer body bytes sent, by route.", offsetof(metrics_route_t, bytes_out)},
    };
    for (size_t k = 0; ok && k < 2; k++) {
        ok = metrics_head(out, bytes[k].name, "counter", bytes[k].help);
        for (size_t i = 0; ok && i < METRICS_MAX_ROUTES; i++) {
            const metrics_route_t *r = &m->routes[i];
            if (r->label && atomic_load(&r->count) > 0)
                ok = buf_printf(out, "%s{route=\"%s\"} %llu\n", bytes[k].name, r->label,
                                atomic_load((atomic_ullong *)((char *)r + bytes[k].offset)));
        }
    }
    return ok;
}

static bool metrics_gauge(buf_t *out, const char *name, const char *help, int64_t value)
{
    if (value < 0)
        return true;
    return metrics_head(out, name, "gauge", help) && buf_printf(out, "%s %lld\n", name, (long long)value);
}

/* Resident memory from /proc/self/statm (pages); -1 when unreadable. */
static int64_t metrics_rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long size = 0, resident = -1;
    if (f) {
        if (fscanf(f, "%lld %lld", &size, &resident) != 2)
            resident = -1;
        fclose(f);
    }
    return resident < 0 ? -1 : (int64_t)resident * sysconf(_SC_PAGESIZE);
}

static bool metrics_gauges(const metrics_t *m, const metrics_gauges_t *g, buf_t *out)
{
    return metrics_gauge(out, "vodup_http_requests_in_flight", "Requests being served.", g->requests_in_flight) &&
           metrics_gauge(out, "vodup_uploads_in_flight", "Upload requests (form, mkblk, bput, mkfile) being served.",
                         g->uploads_in_flight) &&
           metrics_gauge(out, "vodup_upload_staged_bytes",
                         "Bytes of unfinished uploads held (blocks not yet in a file, bodies being received).",
                         g->staged_bytes) &&
           metrics_head(out, "vodup_tasks", "gauge", "Processing tasks not finished, by state (all nodes).") &&
           buf_printf(out, "vodup_tasks{state=\"queued\"} %lld\nvodup_tasks{state=\"running\"} %lld\n",
                      (long long)g->tasks_queued, (long long)g->tasks_running) &&
           metrics_gauge(out, "vodup_task_queue_depth", "Processing tasks waiting for a worker.", g->tasks_queued) &&
           metrics_gauge(out, "vodup_webhook_deliveries_pending",
                         "Webhook deliveries and notifications waiting to be sent or retried.",
                         g->deliveries_pending) &&
           metrics_gauge(out, "vodup_store_free_bytes", "Bytes free where the database lives.",
                         g->store_free_bytes) &&
           metrics_gauge(out, "vodup_blob_free_bytes", "Bytes free where the uploaded objects live.",
                         g->blob_free_bytes) &&
           metrics_gauge(out, "vodup_ready", "1 when GET /readyz answers 200.", g->ready ? 1 : 0) &&
           metrics_gauge(out, "vodup_process_resident_memory_bytes", "Resident memory of the vodup process.",
                         metrics_rss_bytes()) &&
           metrics_gauge(out, "vodup_process_start_time_seconds", "When the process started, Unix seconds.",
                         (int64_t)m->started);
}

bool metrics_render(metrics_t *m, const metrics_gauges_t *g, buf_t *out)
{
    return metrics_head(out, "vodup_build_info", "gauge", "The running vodup's version and commit.") &&
           buf_printf(out, "vodup_build_info{version=\"%s\",commit=\"%s\"} 1\n", version_number(),
                      version_commit()) &&
           metrics_requests(m, out) && metrics_per_route(m, out) && metrics_gauges(m, g, out);
}
