/*
 * http/server: the libmicrohttpd daemon, request lifecycle and routing.
 *
 * Owns the listening socket, the per-request state (one struct per request,
 * freed in the completion callback, which also runs on abort), response
 * headers common to every answer (X-Request-Id), the access log, and
 * graceful shutdown.  Handlers never block a poll thread on a commit: API
 * calls that must write suspend their connection and are resumed by the
 * store's writer thread (see api.h).
 */
#ifndef VODUP_HTTP_SERVER_H
#define VODUP_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"
#include "common/config.h"
#include "upload/upload.h"

typedef struct http_server http_server_t;

/* Binds host:port (port 0: any free port) and returns the socket, with the
 * port actually bound in *bound_port; -1 on failure with err set. */
int http_listen(const char *host, int port, int *bound_port, char *err, size_t errlen);

/* Starts serving on listen_fd (takes ownership).  upload NULL: no upload
 * endpoint or playback (API only).  NULL on failure. */
http_server_t *http_server_start(const config_t *cfg, const api_ctx_t *api, const upload_ctx_t *upload,
                                 int listen_fd, char *err, size_t errlen);

/* Graceful stop, step 1: stop accepting, answer new requests on open
 * connections with 503, and wait up to timeout_s for in-flight requests.
 * Returns the number still in flight. */
int http_server_drain(http_server_t *srv, int timeout_s);

/* The port GET /metrics answers on (metrics-listen; its port 0 picks one),
 * 0 when metrics are off. */
int http_server_metrics_port(const http_server_t *srv);

/* Step 2: stop the daemon and free everything.  Call after the store has
 * completed its queued work (which resumes any suspended connection). */
void http_server_stop(http_server_t *srv);

#endif
