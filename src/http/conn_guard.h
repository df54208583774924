/*
 * conn_guard: closes connections that hold a slot without ever making a
 * request: those whose request head is not complete `header-timeout`
 * seconds after the accept, and those the client has closed while no
 * request is in progress.  It also bounds the connections one address may
 * hold (`connections-per-ip`), except for trusted proxies (forwarded.h):
 * every connection through a reverse proxy comes from the proxy, so
 * libmicrohttpd's own per-address bound would cap the whole service at
 * that number; the proxy bounds its clients instead (deploy/nginx.conf).
 *
 * Why it exists.  libmicrohttpd's connection timeout counts idle time, so a
 * client that trickles one header byte every few seconds keeps a slot for
 * ever; and with epoll, libmicrohttpd 0.9.75 misses a client's FIN that
 * arrives together with the last bytes it reads (it assumes a short read
 * drained the socket), so a connection closed mid-head sits in CLOSE-WAIT
 * until the idle timeout.  Enough of either fills `connection-limit`.
 *
 * How.  libmicrohttpd tells the guard of every connection
 * (MHD_OPTION_NOTIFY_CONNECTION: conn_guard_notify) and the HTTP layer of
 * every request head and request end.  A reaper thread looks at the
 * connections every CONN_GUARD_SCAN_MS and shuts down (shutdown(2), never
 * close(2)) the socket of those to close; libmicrohttpd then sees the end
 * of the stream and closes the connection itself, in its own thread.
 *
 * Invariants.  An entry exists from MHD_CONNECTION_NOTIFY_STARTED to
 * MHD_CONNECTION_NOTIFY_CLOSED, which libmicrohttpd runs before it closes
 * the socket; every entry access holds the guard's mutex, so the reaper
 * never touches a descriptor that was closed or reused.  The reaper never
 * calls into libmicrohttpd.  Once a request head is complete the
 * connection is no longer subject to the deadline (a slow upload is the
 * upload limits' business), and while a request is in progress it is left
 * alone entirely (a client may half-close after sending its request and
 * still wait for the answer).
 */
#ifndef VODUP_HTTP_CONN_GUARD_H
#define VODUP_HTTP_CONN_GUARD_H

#include <microhttpd.h>

#include "http/forwarded.h"
#include <stddef.h>
#include <stdint.h>

/* How often the reaper looks: the deadline is kept within this much. */
#define CONN_GUARD_SCAN_MS 200

typedef struct conn_guard conn_guard_t;

/* Starts the reaper thread.  A connection from an address that holds
 * per_ip_limit connections already is shut down at once, unless the
 * address is in proxies (which must outlive the guard).  NULL (with a
 * reason in err) on failure.  Free with conn_guard_stop. */
conn_guard_t *conn_guard_start(int64_t header_timeout_ms, int64_t per_ip_limit, const forwarded_proxies_t *proxies,
                               char *err, size_t errlen);

/* Stops the reaper and frees the guard.  Call after MHD_stop_daemon (which
 * reports every connection closed), never while libmicrohttpd still runs. */
void conn_guard_stop(conn_guard_t *guard);

/* The MHD_OPTION_NOTIFY_CONNECTION callback; cls is the guard. */
void conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);

/* The connection's request head is complete (the first access-handler
 * call): no deadline from now on, and no reaping until the request ends.
 * Returns the connection's serial (0 when it is not tracked). */
uint64_t conn_guard_head_done(conn_guard_t *g, struct MHD_Connection *conn);
/* Shuts down the connection `serial` names (conn_guard_head_done's
 * answer) if it is still open: libmicrohttpd then ends its request as
 * aborted.  For a request another one took over (a tus PATCH left on a dead
 * connection); a connection already closed is not touched, whatever reused
 * its descriptor.  guard: the conn_guard_t (void for callers that only
 * pass it along). */
void conn_guard_cut(void *guard, uint64_t serial);

/* The connection's request has ended (keep-alive): a client that closes it
 * now is reaped again; the deadline does not come back. */
void conn_guard_request_done(conn_guard_t *guard, struct MHD_Connection *conn);

#endif
