/* conn_guard: the header deadline and the reaping of half-closed connections; see conn_guard.h. */
#include "http/conn_guard.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"

enum conn_guard_state {
    CONN_GUARD_HEAD = 0, /* since the accept, no request head yet: deadline and peer watch */
    CONN_GUARD_REQUEST,  /* a request is in progress: left alone */
    CONN_GUARD_IDLE,     /* between keep-alive requests: peer watch only */
};

typedef struct conn_guard_entry {
    struct conn_guard_entry *prev, *next;
    int fd;
    int state;
    int64_t deadline_ns;   /* CONN_GUARD_HEAD only */
    bool peer_gone_seen;   /* the previous scan saw the peer gone */
    bool reaped;           /* shut down already; waiting for libmicrohttpd to close it */
    bool counted;          /* counts towards its address's connections-per-ip */
    uint64_t serial;       /* names the connection for conn_guard_cut; never reused */
    char peer[FORWARDED_ADDR_MAX];
} conn_guard_entry_t;

struct conn_guard {
    pthread_mutex_t mu; /* guards everything below, and every entry */
    pthread_cond_t wake;
    pthread_t thread;
    bool stop;
    int64_t header_timeout_ns;
    int64_t per_ip_limit;
    const forwarded_proxies_t *proxies; /* exempt from per_ip_limit */
    conn_guard_entry_t *head;
    uint64_t next_serial;
};

/* ---- the table, under g->mu ---- */

static void conn_guard_link(conn_guard_t *g, conn_guard_entry_t *e)
{
    e->prev = NULL;
    e->next = g->head;
    if (g->head)
        g->head->prev = e;
    g->head = e;
}

static void conn_guard_unlink(conn_guard_t *g, conn_guard_entry_t *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        g->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
}

static void conn_guard_reap(conn_guard_entry_t *e);

/* ---- connections-per-ip ---- */

static void conn_guard_peer(struct MHD_Connection *conn, char out[FORWARDED_ADDR_MAX])
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    forwarded_sockaddr_text(ci ? ci->client_addr : NULL, out);
}

/* Whether e, just linked, is one connection too many from its address.  A
 * linear walk: the table holds at most connection-limit entries, and the
 * walk runs once per accepted connection, under the mutex it needs anyway. */
static bool conn_guard_over_limit(conn_guard_t *g, const conn_guard_entry_t *e)
{
    if (!e->counted)
        return false;
    int64_t n = 0;
    for (const conn_guard_entry_t *o = g->head; o; o = o->next)
        n += o->counted && !o->reaped && strcmp(o->peer, e->peer) == 0;
    return n > g->per_ip_limit;
}

/* ---- libmicrohttpd's side: connections come and go ---- */

static void conn_guard_started(conn_guard_t *g, struct MHD_Connection *conn, void **socket_context)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    conn_guard_entry_t *e = calloc(1, sizeof(*e));
    *socket_context = NULL;
    if (!info || !e) {
        /* Untracked, it could trickle for ever: refuse it instead. */
        log_warn("conn_guard: cannot track a new connection; closing it");
        if (info)
            shutdown(info->connect_fd, SHUT_RDWR);
        free(e);
        return;
    }
    *socket_context = e;
    e->fd = info->connect_fd;
    e->state = CONN_GUARD_HEAD;
    e->deadline_ns = timeutil_monotonic_ns() + g->header_timeout_ns;
    conn_guard_peer(conn, e->peer);
    e->counted = e->peer[0] && !forwarded_is_trusted(g->proxies, e->peer);
    pthread_mutex_lock(&g->mu);
    e->serial = ++g->next_serial;
    conn_guard_link(g, e);
    bool refuse = conn_guard_over_limit(g, e);
    if (refuse)
        conn_guard_reap(e);
    pthread_mutex_unlock(&g->mu);
    if (refuse)
        log_debug("conn_guard: closed a connection from %s past connections-per-ip", e->peer);
}

/* libmicrohttpd calls this before it closes the socket (daemon.c,
 * MHD_cleanup_connections and the failure path of internal_add_connection),
 * so once the entry is unlinked under the mutex the reaper cannot reach a
 * descriptor that is closed or already reused. */
static void conn_guard_closed(conn_guard_t *g, void **socket_context)
{
    conn_guard_entry_t *e = *socket_context;
    if (!e)
        return;
    pthread_mutex_lock(&g->mu);
    conn_guard_unlink(g, e);
    pthread_mutex_unlock(&g->mu);
    free(e);
    *socket_context = NULL;
}

void conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
    if (code == MHD_CONNECTION_NOTIFY_STARTED)
        conn_guard_started(cls, conn, socket_context);
    else if (code == MHD_CONNECTION_NOTIFY_CLOSED)
        conn_guard_closed(cls, socket_context);
}

static void conn_guard_set_state(conn_guard_t *g, struct MHD_Connection *conn, int state)
{
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_guard_entry_t *e = info ? info->socket_context : NULL;
    if (!e)
        return;
    pthread_mutex_lock(&g->mu);
    e->state = state;
    e->peer_gone_seen = false;
    pthread_mutex_unlock(&g->mu);
}

uint64_t conn_guard_head_done(conn_guard_t *g, struct MHD_Connection *conn)
{
    conn_guard_set_state(g, conn, CONN_GUARD_REQUEST);
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn_guard_entry_t *e = info ? info->socket_context : NULL;
    pthread_mutex_lock(&g->mu);
    uint64_t serial = e ? e->serial : 0;
    pthread_mutex_unlock(&g->mu);
    return serial;
}

void conn_guard_cut(void *guard, uint64_t serial)
{
    conn_guard_t *g = guard;
    if (!g || serial == 0)
        return;
    pthread_mutex_lock(&g->mu);
    for (conn_guard_entry_t *e = g->head; e; e = e->next)
        if (e->serial == serial) {
            if (!e->reaped)
                conn_guard_reap(e);
            break;
        }
    pthread_mutex_unlock(&g->mu);
}

void conn_guard_request_done(conn_guard_t *g, struct MHD_Connection *conn)
{
    conn_guard_set_state(g, conn, CONN_GUARD_IDLE);
}

/* ---- the reaper ---- */

/*
 * Whether the client has closed its side: a peek that reads the end of the
 * stream (or an error) with nothing left unread.  Only a second sighting in
 * a row counts: between libmicrohttpd reading a whole request that ends
 * with a FIN and its calling the access handler (conn_guard_head_done),
 * the peek already reads the end, and that request deserves its answer.
 */
static bool conn_guard_peer_gone(conn_guard_entry_t *e)
{
    char byte;
    ssize_t n = recv(e->fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    bool gone = n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    bool confirmed = gone && e->peer_gone_seen;
    e->peer_gone_seen = gone;
    return confirmed;
}

/* Shuts the socket down; libmicrohttpd reads the end of the stream and
 * closes the connection in its own thread. */
static void conn_guard_reap(conn_guard_entry_t *e)
{
    shutdown(e->fd, SHUT_RDWR);
    e->reaped = true;
}

static void conn_guard_scan(conn_guard_t *g)
{
    int64_t now = timeutil_monotonic_ns();
    unsigned late = 0, gone = 0;
    for (conn_guard_entry_t *e = g->head; e; e = e->next) {
        if (e->reaped || e->state == CONN_GUARD_REQUEST)
            continue;
        if (e->state == CONN_GUARD_HEAD && now >= e->deadline_ns) {
            conn_guard_reap(e);
            late++;
        } else if (conn_guard_peer_gone(e)) {
            conn_guard_reap(e);
            gone++;
        }
    }
    if (late || gone)
        log_debug("conn_guard: closed %u connection(s) past header-timeout, %u closed by the client", late, gone);
}

static void conn_guard_wait(conn_guard_t *g)
{
    struct timespec until = timeutil_monotonic_deadline(CONN_GUARD_SCAN_MS);
    pthread_cond_timedwait(&g->wake, &g->mu, &until);
}

static void *conn_guard_run(void *arg)
{
    conn_guard_t *g = arg;
    pthread_mutex_lock(&g->mu);
    while (!g->stop) {
        conn_guard_scan(g);
        conn_guard_wait(g);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

static bool conn_guard_init_sync(conn_guard_t *g)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return false;
    bool ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 && pthread_cond_init(&g->wake, &attr) == 0;
    pthread_condattr_destroy(&attr);
    if (!ok)
        return false;
    if (pthread_mutex_init(&g->mu, NULL) != 0) {
        pthread_cond_destroy(&g->wake);
        return false;
    }
    return true;
}

conn_guard_t *conn_guard_start(int64_t header_timeout_ms, int64_t per_ip_limit, const forwarded_proxies_t *proxies,
                               char *err, size_t errlen)
{
    conn_guard_t *g = calloc(1, sizeof(*g));
    if (!g || !conn_guard_init_sync(g)) {
        snprintf(err, errlen, "conn_guard: out of memory");
        free(g);
        return NULL;
    }
    g->header_timeout_ns = header_timeout_ms * 1000000;
    g->per_ip_limit = per_ip_limit;
    g->proxies = proxies;
    int rc = pthread_create(&g->thread, NULL, conn_guard_run, g);
    if (rc != 0) {
        snprintf(err, errlen, "conn_guard: cannot start its thread: %s", strerror(rc));
        pthread_mutex_destroy(&g->mu);
        pthread_cond_destroy(&g->wake);
        free(g);
        return NULL;
    }
    return g;
}

void conn_guard_stop(conn_guard_t *g)
{
    if (!g)
        return;
    pthread_mutex_lock(&g->mu);
    g->stop = true;
    pthread_cond_signal(&g->wake);
    pthread_mutex_unlock(&g->mu);
    pthread_join(g->thread, NULL);
    /* MHD_stop_daemon reported every connection closed; anything left is
     * only memory. */
    while (g->head) {
        conn_guard_entry_t *e = g->head;
        conn_guard_unlink(g, e);
        free(e);
    }
    pthread_mutex_destroy(&g->mu);
    pthread_cond_destroy(&g->wake);
    free(g);
}
