/* metrics_server: GET /metrics on its own listener; see metrics_server.h. */
#include "http/metrics_server.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"

struct metrics_server {
    metrics_t *metrics;
    metrics_gauges_fn gauges;
    void *arg;
    struct MHD_Daemon *daemon;
};

static enum MHD_Result metrics_server_send(struct MHD_Connection *conn, unsigned status, char *body,
                                           const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    if (status == 405)
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result metrics_server_access(void *cls, struct MHD_Connection *conn, const char *url,
                                             const char *method, const char *version, const char *upload_data,
                                             size_t *upload_data_size, void **con_cls)
{
    metrics_server_t *s = cls;
    if (*upload_data_size > 0) { /* a body is never wanted: drop it */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(url, "/metrics") != 0)
        return metrics_server_send(conn, 404, strdup("not found: only /metrics here\n"), "text/plain");
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return metrics_server_send(conn, 405, strdup("use GET\n"), "text/plain");
    metrics_gauges_t g;
    s->gauges(s->arg, &g);
    buf_t out;
    buf_init(&out, 0);
    if (!metrics_render(s->metrics, &g, &out)) {
        buf_free(&out);
        return metrics_server_send(conn, 500, strdup("out of memory\n"), "text/plain");
    }
    return metrics_server_send(conn, 200, buf_steal(&out), "text/plain; version=0.0.4; charset=utf-8");
}

metrics_server_t *metrics_server_start(metrics_t *m, int listen_fd, metrics_gauges_fn gauges, void *arg, char *err,
                                       size_t errlen)
{
    metrics_server_t *s = calloc(1, sizeof(*s));
    if (!s) {
        close(listen_fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *s = (metrics_server_t){.metrics = m, .gauges = gauges, .arg = arg};
    s->daemon = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, 0, NULL, NULL,
                                 metrics_server_access, s, MHD_OPTION_LISTEN_SOCKET, listen_fd,
                                 MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_END);
    if (!s->daemon) {
        close(listen_fd);
        free(s);
        snprintf(err, errlen, "metrics-listen: libmicrohttpd failed to start");
        return NULL;
    }
    return s;
}

void metrics_server_stop(metrics_server_t *s)
{
    if (!s)
        return;
    MHD_stop_daemon(s->daemon);
    free(s);
}
