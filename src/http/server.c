/*
 * http/server.c: libmicrohttpd glue; see server.h.
 *
 * Lifecycle of one request (libmicrohttpd calls http_access repeatedly):
 *   0. the request line is in: libmicrohttpd's URI log callback
 *      (http_request_arrived) allocates http_request_t and keeps the target
 *      as sent, before libmicrohttpd decodes it;
 *   1. first call, headers only: check the framing and headers
 *      (request_check.h; a refusal is a 400 with Connection: close), route,
 *      and run the API's header stage; an error queued here goes out
 *      without reading the body (with Connection: close);
 *   2. body calls: hash and buffer up to the API cap, consuming everything
 *      offered (unconsumed bytes would stall the connection);
 *   3. final call: run the API's body stage; if it must wait for the store,
 *      suspend the connection until http_request_complete resumes it, and
 *      queue the response on the call after the resume.
 * http_completed (libmicrohttpd's completion callback, also run on abort)
 * writes the access log line and frees the request.
 *
 * Each connection is also watched by conn_guard.c, which closes those that
 * never complete a request head (header-timeout) or that the client closed
 * between requests, and bounds the connections per client address
 * (connections-per-ip), trusted proxies excepted.
 */
#define _GNU_SOURCE /* strcasestr */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api/errors.h"
#include "common/ids.h"
#include "common/timeutil.h"
#include "common/log.h"
#include "common/version.h"
#include "http/access_log.h"
#include "http/conn_guard.h"
#include "http/cors.h"
#include "http/forwarded.h"
#include "http/metrics.h"
#include "http/metrics_server.h"
#include "http/playback.h"
#include "http/request_check.h"
#include "http/web_page.h"
#include "upload/quota.h"

/* libmicrohttpd reads at most about half of this per body call, and clears
 * the whole pool between requests on a keep-alive connection: 64 KiB keeps
 * an API body to one or two calls without a large memset per request. */
#define HTTP_CONNECTION_MEMORY (64 * 1024)
/* A chunked API body over the cap is drained (so the client gets its 413)
 * up to this many times the cap, then the connection is cut. */
#define HTTP_OVERFLOW_DRAIN_FACTOR 16
#define HTTP_MAX_QUERY_PAIRS 128

struct http_server {
    const config_t *cfg;
    const api_ctx_t *api;
    const upload_ctx_t *upload;
    struct MHD_Daemon *daemon;
    conn_guard_t *guard;
    forwarded_proxies_t proxies; /* trusted-proxies */
    metrics_t *metrics;
    metrics_server_t *metrics_server; /* metrics-listen; NULL when off */
    int metrics_port;
    atomic_int uploads_in_flight;
    EVP_MD *sha256;
    char request_id_prefix[13];
    atomic_ullong request_counter;
    atomic_int in_flight;
    atomic_bool draining;
};

enum http_stage {
    HTTP_STAGE_HEADERS = 0, /* the request line is in; the first http_access call has not happened */
    HTTP_STAGE_BODY,    /* reading the body */
    HTTP_STAGE_READY,   /* answer known, waiting for libmicrohttpd's next call to queue it */
    HTTP_STAGE_WAITING, /* suspended until the store completes the call */
    HTTP_STAGE_DONE,    /* response queued */
};

enum http_kind {
    HTTP_KIND_API = 0,
    HTTP_KIND_HEALTH,
    HTTP_KIND_READY,
    HTTP_KIND_UPLOAD,
    HTTP_KIND_PLAYBACK,
    HTTP_KIND_ASSET, /* the upload page's files */
};

/* The metrics' route table (metrics.h): these fixed rows, then one per
 * upload route (HTTP_METRICS_UPLOAD + route), then one per API route. */
enum http_metrics_route {
    HTTP_METRICS_OTHER = 0,
    HTTP_METRICS_HEALTH,
    HTTP_METRICS_READY,
    HTTP_METRICS_PLAYBACK,
    HTTP_METRICS_ASSET,
    HTTP_METRICS_UPLOAD, /* + UPLOAD_ROUTE_FORM .. UPLOAD_ROUTE_TUS */
    HTTP_METRICS_API = HTTP_METRICS_UPLOAD + UPLOAD_ROUTE_TUS + 1, /* + api route */
};

typedef struct http_request {
    http_server_t *srv;
    struct MHD_Connection *conn;
    int kind;
    int upload_route; /* HTTP_KIND_UPLOAD: enum upload_route */
    int stage;
    bool started;     /* http_request_start ran: counted in flight, logged at the end */
    bool refused;     /* request_check refused it: the answer closes the connection */
    char *raw_target; /* the request target as sent, before libmicrohttpd decodes it */
    struct timespec start;
    char request_id[32];
    uint64_t conn_serial;            /* conn_guard's name of the connection (conn_guard_cut) */
    char client[FORWARDED_ADDR_MAX]; /* the client's address, through trusted proxies */
    char user_agent[160];            /* for the access log, cut */
    char *public_url;                /* from a trusted proxy's headers, when public-url is unset */
    char method[16];
    char *path;
    ws3_pair_t query[HTTP_MAX_QUERY_PAIRS];
    size_t query_count;
    bool query_overflow;
    EVP_MD_CTX *sha;
    bool body_overflow;
    uint64_t bytes_in;
    api_call_t call;
    upload_call_t *upload; /* HTTP_KIND_UPLOAD */
    /* Guards the hand-over between the poll thread (suspend) and the store's
     * writer thread (completion + resume); see http_request_complete. */
    pthread_mutex_t mu;
    bool completed;
    bool suspended;
    int status;
    uint64_t bytes_out;
    /* An answer decided on the first call, queued on the next (see http_answer). */
    int ready_status;
    char *ready_body;
    struct MHD_Response *ready_resp; /* playback, preflight: built on the first call */
    uint64_t ready_length;
} http_request_t;

int http_listen(const char *host, int port, int *bound_port, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
    struct addrinfo *res = NULL;
    char portstr[16];
    int fd = -1;
    snprintf(portstr, sizeof(portstr), "%d", port);
    int gai = getaddrinfo(host, portstr, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(gai));
        return -1;
    }
    fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        goto fail;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, res->ai_addr, res->ai_addrlen) != 0) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", host, port, strerror(errno));
        goto fail;
    }
    if (listen(fd, 1024) != 0) {
        snprintf(err, errlen, "listen: %s", strerror(errno));
        goto fail;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    freeaddrinfo(res);
    return fd;
fail:
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return -1;
}

static const char *http_header_lookup(void *ctx, const char *lowercase_name)
{
    http_request_t *req = ctx;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, lowercase_name);
}

static enum MHD_Result http_collect_query(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                          const char *value, size_t value_size)
{
    (void)kind;
    http_request_t *req = cls;
    /* An empty segment ("a=1&&b=2") is not a pair; clients that build the
     * CanonicalQuery with URLSearchParams or parse_qsl drop it, so do we. */
    if (key_size == 0 && (value == NULL || value_size == 0))
        return MHD_YES;
    if (req->query_count == HTTP_MAX_QUERY_PAIRS) {
        req->query_overflow = true;
        return MHD_NO;
    }
    req->query[req->query_count++] = (ws3_pair_t){key, key_size, value, value ? value_size : 0};
    return MHD_YES;
}

/* Queues resp (and releases the caller's reference) as the answer. */
static enum MHD_Result http_queue(http_request_t *req, int status, struct MHD_Response *resp, uint64_t len)
{
    if (!resp)
        return MHD_NO;
    req->status = status;
    req->bytes_out = len;
    req->stage = HTTP_STAGE_DONE;
    enum MHD_Result r = MHD_queue_response(req->conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return r;
}

static enum MHD_Result http_send(http_request_t *req, int status, char *body, const char *content_type)
{
    size_t len = body ? strlen(body) : 0;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
    if (strncmp(content_type, "text/html", 9) == 0)
        web_page_policy_headers(resp);
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff"); /* JSON is never sniffed as a page */
    if (status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, POST");
    if (atomic_load(&req->srv->draining) || req->refused)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    return http_queue(req, status, resp, len);
}

static enum MHD_Result http_send_call(http_request_t *req)
{
    char *body = req->call.response;
    req->call.response = NULL;
    return http_send(req, req->call.status ? req->call.status : 500, body,
                     req->call.content_type ? req->call.content_type : "application/json; charset=utf-8");
}

static enum MHD_Result http_send_error(http_request_t *req, int err, const char *detail)
{
    api_call_error(&req->call, err, detail);
    return http_send_call(req);
}

/* Runs on a store or worker thread when a pending call has its answer. */
static void http_request_resume(http_request_t *req)
{
    pthread_mutex_lock(&req->mu);
    req->completed = true;
    if (req->suspended) {
        req->suspended = false;
        MHD_resume_connection(req->conn);
    }
    pthread_mutex_unlock(&req->mu);
}

static void http_request_complete(api_call_t *call)
{
    http_request_resume((http_request_t *)((char *)call - offsetof(http_request_t, call)));
}

static void http_upload_complete(void *arg)
{
    http_request_resume(arg);
}

/*
 * libmicrohttpd's URI log callback, run once the request line is in and
 * before libmicrohttpd decodes the target in place: the only sight of the
 * target as sent (request_check needs it to see a "%00").  What it returns
 * becomes the request's *con_cls; NULL makes http_access close the
 * connection.  The request is not in flight until http_request_start.
 */
static void *http_request_arrived(void *cls, const char *uri, struct MHD_Connection *conn)
{
    http_server_t *srv = cls;
    http_request_t *req = calloc(1, sizeof(*req));
    if (!req)
        return NULL;
    req->raw_target = uri ? strdup(uri) : NULL;
    if (uri && !req->raw_target) {
        free(req);
        return NULL;
    }
    req->srv = srv;
    req->conn = conn;
    pthread_mutex_init(&req->mu, NULL);
    api_call_init(&req->call, srv->api);
    return req;
}

/* The connection's peer as text ("" when libmicrohttpd cannot say). */
static void http_peer(struct MHD_Connection *conn, char out[FORWARDED_ADDR_MAX])
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    forwarded_sockaddr_text(ci ? ci->client_addr : NULL, out);
}

/* A Host header fit to start a URL: a name or address and a port, nothing
 * that could end the URL or the JSON string it is written into. */
static bool http_host_plain(const char *host)
{
    size_t n = host ? strlen(host) : 0;
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = host[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                  c == '-' || c == ':' || c == '[' || c == ']' || c == '_';
        if (!ok)
            return false;
    }
    return true;
}

/* Who sent the request (through trusted proxies), its user agent, and the
 * public URL its answer's URLs start with when public-url is not set: the
 * scheme a trusted proxy forwarded and the Host it preserved. */
static void http_request_identify(http_request_t *req)
{
    const forwarded_proxies_t *proxies = &req->srv->proxies;
    char peer[FORWARDED_ADDR_MAX];
    http_peer(req->conn, peer);
    const char *xff = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Forwarded-For");
    forwarded_client(proxies, peer, xff, req->client);
    const char *ua = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_USER_AGENT);
    snprintf(req->user_agent, sizeof(req->user_agent), "%s", ua ? ua : "");
    if (req->srv->cfg->public_url[0])
        return;
    const char *xfp = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
    const char *proto = forwarded_proto(proxies, peer, xfp);
    const char *host = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (proto && http_host_plain(host) && asprintf(&req->public_url, "%s://%s", proto, host) < 0)
        req->public_url = NULL;
    req->call.public_url = req->public_url;
}

/* The request head is complete (the first http_access call). */
static void http_request_start(http_request_t *req, const char *url, const char *method)
{
    http_server_t *srv = req->srv;
    clock_gettime(CLOCK_MONOTONIC, &req->start);
    unsigned long long n = atomic_fetch_add(&srv->request_counter, 1) + 1;
    snprintf(req->request_id, sizeof(req->request_id), "%s%012llx", srv->request_id_prefix, n);
    snprintf(req->method, sizeof(req->method), "%s", method);
    req->path = strdup(url);
    req->call.method = req->method;
    req->call.path = req->path ? req->path : "";
    req->call.request_id = req->request_id;
    req->call.header_lookup = http_header_lookup;
    req->call.header_ctx = req;
    req->call.on_complete = http_request_complete;
    http_request_identify(req);
    req->started = true;
    atomic_fetch_add(&srv->in_flight, 1);
    req->conn_serial = conn_guard_head_done(srv->guard, req->conn);
}

static void http_request_free(http_request_t *req)
{
    free(req->ready_body);
    if (req->ready_resp)
        MHD_destroy_response(req->ready_resp);
    upload_call_free(req->upload);
    api_call_reset(&req->call);
    EVP_MD_CTX_free(req->sha);
    pthread_mutex_destroy(&req->mu);
    free(req->path);
    free(req->raw_target);
    free(req->public_url);
    free(req);
}

static int64_t http_content_length(http_request_t *req)
{
    const char *cl = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (!cl)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(cl, &end, 10);
    return (errno || *end || v < 0) ? -1 : (int64_t)v;
}

static bool http_has_body(http_request_t *req)
{
    if (MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING))
        return true;
    return http_content_length(req) > 0;
}

/*
 * Answers a request from its first call.  libmicrohttpd closes the
 * connection after a response queued before the request was read, which is
 * what a refused body needs (it is never read) but would cost a bodiless
 * request its keep-alive connection: those answers wait for the next call.
 */
static enum MHD_Result http_answer(http_request_t *req, int status, char *body)
{
    if (http_has_body(req))
        return http_send(req, status, body, "application/json; charset=utf-8");
    req->ready_status = status;
    req->ready_body = body;
    req->stage = HTTP_STAGE_READY;
    return MHD_YES;
}

static enum MHD_Result http_answer_call(http_request_t *req)
{
    char *body = req->call.response;
    req->call.response = NULL;
    return http_answer(req, req->call.status ? req->call.status : 500, body);
}

/* ---- the upload endpoint and playback ---- */

/* Headers on every upload and playback answer: both request ids (the
 * Python SDK reads X-Reqid), CORS, and the Connection: close echo the
 * Python SDK's pooled sockets need. */
static void http_upload_headers(http_request_t *req, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    MHD_add_response_header(resp, "X-Reqid", req->request_id);
    cors_add_headers(req->srv->cfg, resp, MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, "Origin"));
    const char *connection = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONNECTION);
    if ((connection && strcasestr(connection, "close")) || atomic_load(&req->srv->draining) || req->refused)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
}

static enum MHD_Result http_send_upload(http_request_t *req)
{
    upload_response_t ur;
    upload_call_response(req->upload, &ur);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(ur.body_len, (void *)ur.body, MHD_RESPMEM_MUST_COPY);
    if (!resp)
        return MHD_NO;
    if (ur.body_len > 0 || ur.status != 204)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ur.content_type);
    if (ur.location)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, ur.location);
    for (size_t i = 0; i < ur.header_count; i++)
        MHD_add_response_header(resp, ur.headers[i].name, ur.headers[i].value);
    if (ur.status == 405)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW,
                                req->upload_route == UPLOAD_ROUTE_TUS ? "OPTIONS, POST, HEAD, PATCH, DELETE"
                                                                      : "POST, OPTIONS");
    if (strcmp(req->method, "OPTIONS") == 0)
        cors_add_preflight(resp, req->upload_route == UPLOAD_ROUTE_TUS);
    http_upload_headers(req, resp);
    return http_queue(req, ur.status, resp, ur.body_len);
}

static const char *http_upload_header(void *arg, const char *name)
{
    http_request_t *req = arg;
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

static enum MHD_Result http_begin_upload(http_request_t *req, int route)
{
    http_server_t *srv = req->srv;
    req->kind = HTTP_KIND_UPLOAD;
    req->upload_route = route;
    bool tus = route == UPLOAD_ROUTE_TUS; /* takes several methods: the upload module decides */
    if (!tus && strcmp(req->method, "OPTIONS") == 0) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        if (!resp)
            return MHD_NO;
        http_upload_headers(req, resp);
        cors_add_preflight(resp, false);
        req->ready_resp = resp;
        req->ready_status = 200;
        req->stage = HTTP_STAGE_READY;
        return MHD_YES;
    }
    bool post = tus || strcmp(req->method, "POST") == 0;
    bool draining = atomic_load(&srv->draining);
    upload_request_t ur = {
        .route = post && !draining ? route : UPLOAD_ROUTE_NONE,
        .method = req->method,
        .path = req->call.path,
        .request_id = req->request_id,
        .conn = req->conn,
        .header = http_upload_header,
        .header_arg = req,
        .content_length = http_has_body(req) ? http_content_length(req) : 0,
        .on_complete = http_upload_complete,
        .complete_arg = req,
        .cut = {conn_guard_cut, srv->guard, req->conn_serial},
    };
    req->upload = upload_call_begin(srv->upload, &ur);
    if (!req->upload)
        return MHD_NO;
    atomic_fetch_add(&srv->uploads_in_flight, 1);
    if (!post)
        upload_call_fail(req->upload, 405, "Use POST.");
    else if (draining)
        upload_call_fail(req->upload, 503, "The server is shutting down.");
    if (upload_call_failed(req->upload)) {
        /* A refused body is never read; a bodiless request keeps its
         * connection by answering on the next call (see http_answer). */
        if (http_has_body(req))
            return http_send_upload(req);
        req->stage = HTTP_STAGE_READY;
        return MHD_YES;
    }
    req->stage = HTTP_STAGE_BODY;
    return MHD_YES;
}

static enum MHD_Result http_finish_upload(http_request_t *req)
{
    req->stage = HTTP_STAGE_WAITING;
    if (upload_call_finish(req->upload))
        return http_send_upload(req);
    pthread_mutex_lock(&req->mu);
    bool done = req->completed;
    if (!done) {
        req->suspended = true;
        MHD_suspend_connection(req->conn);
    }
    pthread_mutex_unlock(&req->mu);
    return done ? http_send_upload(req) : MHD_YES;
}

static enum MHD_Result http_begin_playback(http_request_t *req)
{
    req->kind = HTTP_KIND_PLAYBACK;
    int status = 500;
    uint64_t length = 0;
    struct MHD_Response *resp =
        playback_respond(req->srv->upload, req->conn, req->call.path, req->request_id, &status, &length);
    if (!resp)
        return MHD_NO;
    http_upload_headers(req, resp);
    req->ready_resp = resp;
    req->ready_status = status;
    req->ready_length = length;
    req->stage = HTTP_STAGE_READY;
    return MHD_YES;
}

static enum MHD_Result http_begin_asset(http_request_t *req)
{
    req->kind = HTTP_KIND_ASSET;
    int status = 500;
    const char *inm = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);
    struct MHD_Response *resp = web_page_asset(req->call.path, inm, &status);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "X-Request-Id", req->request_id);
    req->ready_resp = resp;
    req->ready_status = status;
    req->stage = HTTP_STAGE_READY;
    return MHD_YES;
}

/* ---- refusals of malformed requests ---- */

static enum MHD_Result http_check_header(void *cls, enum MHD_ValueKind kind, const char *key, size_t key_size,
                                         const char *value, size_t value_size)
{
    (void)kind;
    request_check_header(cls, key, key_size, value, value_size);
    return MHD_YES;
}

/* NULL when the request passes request_check; else why not (in rc). */
static const char *http_check(http_request_t *req, const char *version, request_check_t *rc)
{
    request_check_begin(rc, version, req->raw_target);
    MHD_get_connection_values_n(req->conn, MHD_HEADER_KIND, http_check_header, rc);
    return request_check_end(rc);
}

/* Whether an error on this request takes the upload endpoint's format
 * ({"code","message","error","requestId"}, X-Reqid, CORS), as the upload
 * routes and playback answer; http_begin routes the same way. */
static bool http_upload_format(const http_request_t *req)
{
    const char *path = req->call.path;
    if (!req->srv->upload || strcmp(path, "/healthz") == 0)
        return false;
    if (upload_route_find(path) != UPLOAD_ROUTE_NONE)
        return true;
    return (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")) && playback_path(path) &&
           api_route_find(path) == API_ROUTE_NONE;
}

/*
 * Refuses a request that request_check rejects: 400, queued on the first
 * call so that its body is never read, with Connection: close so that
 * nothing after the head is ever taken for another request (the refusal
 * means vodup and a proxy in front may disagree on where it ends).
 */
static enum MHD_Result http_refuse(http_request_t *req, const char *why)
{
    req->refused = true;
    if (!http_upload_format(req))
        return http_send_error(req, API_ERR_PARAM, why);
    json_t *j = json_pack("{s:i,s:s,s:s,s:s}", "code", 400, "message", why, "error", why, "requestId",
                          req->request_id);
    char *body = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    size_t len = body ? strlen(body) : 0;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8");
    playback_security_headers(resp); /* nosniff and the CSP: the path may be a playback one */
    http_upload_headers(req, resp);
    return http_queue(req, 400, resp, len);
}

/* ---- health and readiness ---- */

/* Liveness: the process answers.  The version tells a fleet what runs. */
static enum MHD_Result http_health(http_request_t *req)
{
    req->kind = HTTP_KIND_HEALTH;
    bool draining = atomic_load(&req->srv->draining);
    json_t *j = json_pack("{s:s,s:s}", "status", draining ? "draining" : "ok", "version", version_number());
    char *body = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    return http_answer(req, draining ? 503 : 200, body);
}

/* Whether this node can take traffic: not draining, the store answers a
 * read, and both the database's and the objects' disks have ready-min-free
 * bytes free.  why names the first check that failed. */
static bool http_ready(http_server_t *srv, const char **why, int64_t *store_free, int64_t *blob_free)
{
    int64_t min = srv->cfg->ready_min_free;
    *store_free = *blob_free = -1;
    *why = NULL;
    if (atomic_load(&srv->draining))
        *why = "draining";
    else if (srv->api->store->ops->check(srv->api->store, store_free) != STORE_OK)
        *why = "store: the database does not answer";
    else if (*store_free >= 0 && *store_free < min)
        *why = "store: less than ready-min-free bytes free beside the database";
    if (srv->upload && srv->upload->blob->ops->free_space)
        *blob_free = srv->upload->blob->ops->free_space(srv->upload->blob);
    if (!*why && *blob_free >= 0 && *blob_free < min)
        *why = "blob: less than ready-min-free bytes free for uploads";
    return *why == NULL;
}

static enum MHD_Result http_readiness(http_request_t *req)
{
    req->kind = HTTP_KIND_READY;
    const char *why;
    int64_t store_free, blob_free;
    bool ready = http_ready(req->srv, &why, &store_free, &blob_free);
    json_t *j =
        ready ? json_pack("{s:s}", "status", "ready") : json_pack("{s:s,s:s}", "status", "unready", "reason", why);
    char *body = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    if (!ready)
        log_warn("readiness: %s", why);
    return http_answer(req, ready ? 200 : 503, body);
}

static enum MHD_Result http_begin(http_request_t *req)
{
    http_server_t *srv = req->srv;
    if (strcmp(req->call.path, "/healthz") == 0)
        return http_health(req);
    if (strcmp(req->call.path, "/readyz") == 0)
        return http_readiness(req);
    int upload_route = srv->upload ? upload_route_find(req->call.path) : UPLOAD_ROUTE_NONE;
    if (upload_route != UPLOAD_ROUTE_NONE)
        return http_begin_upload(req, upload_route);
    if ((!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")) && web_page_asset_path(req->call.path))
        return http_begin_asset(req);
    /* The vendor's management routes (/fops, /status/get/prefop) sit outside
     * /vod/ like playback keys; no key can be one of them (keys are under
     * video/). */
    if (srv->upload && (!strcmp(req->method, "GET") || !strcmp(req->method, "HEAD")) &&
        playback_path(req->call.path) && api_route_find(req->call.path) == API_ROUTE_NONE &&
        !atomic_load(&srv->draining))
        return http_begin_playback(req);
    if (atomic_load(&srv->draining)) {
        api_call_error(&req->call, API_ERR_UNAVAILABLE, "The server is shutting down.");
        return http_answer_call(req);
    }
    MHD_get_connection_values_n(req->conn, MHD_GET_ARGUMENT_KIND, http_collect_query, req);
    req->call.query = req->query;
    req->call.query_count = req->query_count;
    const char *ctype = MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!api_call_begin(srv->api, &req->call, http_content_length(req), ctype))
        return http_answer_call(req);
    if (req->query_overflow) {
        api_call_error(&req->call, API_ERR_PARAM, "Too many query parameters.");
        return http_answer_call(req);
    }
    req->sha = EVP_MD_CTX_new();
    if (!req->sha || !EVP_DigestInit_ex(req->sha, srv->sha256, NULL))
        return http_send_error(req, API_ERR_INTERNAL, NULL);
    req->stage = HTTP_STAGE_BODY;
    return MHD_YES;
}

static enum MHD_Result http_body(http_request_t *req, const char *data, size_t size)
{
    req->bytes_in += size;
    EVP_DigestUpdate(req->sha, data, size);
    if (!req->body_overflow && !buf_append(&req->call.body, data, size))
        req->body_overflow = true;
    if (req->body_overflow &&
        req->bytes_in > (uint64_t)req->srv->cfg->api_body_limit * HTTP_OVERFLOW_DRAIN_FACTOR)
        return MHD_NO;
    return MHD_YES;
}

static enum MHD_Result http_finish(http_request_t *req)
{
    unsigned int len = 0;
    EVP_DigestFinal_ex(req->sha, req->call.body_sha256, &len);
    req->stage = HTTP_STAGE_WAITING;
    if (api_call_finish(req->srv->api, &req->call, req->body_overflow))
        return http_send_call(req);
    pthread_mutex_lock(&req->mu);
    bool done = req->completed;
    if (!done) {
        req->suspended = true;
        MHD_suspend_connection(req->conn);
    }
    pthread_mutex_unlock(&req->mu);
    if (done)
        api_call_resume(req->srv->api, &req->call);
    return done ? http_send_call(req) : MHD_YES;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                   const char *version, const char *upload_data, size_t *upload_data_size,
                                   void **con_cls)
{
    (void)cls;
    (void)conn;
    http_request_t *req = *con_cls;
    if (!req)
        return MHD_NO; /* http_request_arrived ran out of memory */
    if (!req->started) {
        request_check_t rc;
        http_request_start(req, url, method);
        const char *why = http_check(req, version, &rc);
        return why ? http_refuse(req, why) : http_begin(req);
    }
    switch (req->stage) {
    case HTTP_STAGE_BODY:
        if (req->kind == HTTP_KIND_UPLOAD) {
            if (*upload_data_size == 0)
                return http_finish_upload(req);
            size_t n = *upload_data_size;
            *upload_data_size = 0;
            req->bytes_in += n;
            return upload_call_body(req->upload, upload_data, n) ? MHD_YES : MHD_NO;
        }
        if (*upload_data_size > 0) {
            size_t n = *upload_data_size;
            *upload_data_size = 0;
            return http_body(req, upload_data, n);
        }
        return http_finish(req);
    case HTTP_STAGE_READY: {
        *upload_data_size = 0;
        if (req->ready_resp) {
            struct MHD_Response *resp = req->ready_resp;
            req->ready_resp = NULL;
            return http_queue(req, req->ready_status, resp, req->ready_length);
        }
        if (req->kind == HTTP_KIND_UPLOAD)
            return http_send_upload(req);
        char *ready = req->ready_body;
        req->ready_body = NULL;
        *upload_data_size = 0;
        return http_send(req, req->ready_status, ready, "application/json; charset=utf-8");
    }
    case HTTP_STAGE_WAITING: {
        /* Called again after the resume. */
        pthread_mutex_lock(&req->mu);
        bool done = req->completed;
        pthread_mutex_unlock(&req->mu);
        if (!done)
            return MHD_YES;
        if (req->kind == HTTP_KIND_UPLOAD)
            return http_send_upload(req);
        api_call_resume(req->srv->api, &req->call);
        return http_send_call(req);
    }
    default:
        /* A response is queued already; swallow whatever body follows. */
        *upload_data_size = 0;
        return MHD_YES;
    }
}

static int http_metrics_route(const http_request_t *req)
{
    switch (req->kind) {
    case HTTP_KIND_HEALTH:
        return HTTP_METRICS_HEALTH;
    case HTTP_KIND_READY:
        return HTTP_METRICS_READY;
    case HTTP_KIND_PLAYBACK:
        return HTTP_METRICS_PLAYBACK;
    case HTTP_KIND_ASSET:
        return HTTP_METRICS_ASSET;
    case HTTP_KIND_UPLOAD:
        return HTTP_METRICS_UPLOAD + req->upload_route;
    default:
        return req->call.route != API_ROUTE_NONE ? HTTP_METRICS_API + req->call.route : HTTP_METRICS_OTHER;
    }
}

static void http_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                           enum MHD_RequestTerminationCode toe)
{
    http_server_t *srv = cls;
    http_request_t *req = *con_cls;
    if (!req)
        return;
    *con_cls = NULL;
    if (!req->started) {
        /* The head never completed (libmicrohttpd refused it, or the client
         * left): not a request vodup saw, so no log line, and the header
         * deadline still runs. */
        http_request_free(req);
        return;
    }
    conn_guard_request_done(srv->guard, conn);
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double ms = (double)(now.tv_sec - req->start.tv_sec) * 1e3 + (double)(now.tv_nsec - req->start.tv_nsec) / 1e6;
    bool answered = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK;
    metrics_request(srv->metrics, http_metrics_route(req), answered ? req->status : 0, ms / 1e3, req->bytes_in,
                    req->bytes_out);
    if (req->kind == HTTP_KIND_UPLOAD && req->upload)
        atomic_fetch_sub(&srv->uploads_in_flight, 1);
    if (srv->cfg->access_log) {
        access_log_write(&(access_log_entry_t){
            .request_id = req->request_id,
            .method = req->method,
            .path = req->call.path,
            .status = toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? req->status : 0,
            .bytes_in = req->bytes_in,
            .bytes_out = req->bytes_out,
            .duration_ms = ms,
            .access_key = req->upload ? upload_call_access_key(req->upload) : req->call.access_key,
            .client = req->client,
            .user_agent = req->user_agent,
            .aborted = toe != MHD_REQUEST_TERMINATED_COMPLETED_OK,
        });
    }
    http_request_free(req);
    atomic_fetch_sub(&srv->in_flight, 1);
}

static void http_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && msg[n - 1] == '\n')
        msg[--n] = '\0';
    log_debug("libmicrohttpd: %s", msg);
}

static struct MHD_Daemon *http_daemon_start(http_server_t *srv, int listen_fd)
{
    const config_t *cfg = srv->cfg;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, http_access, srv, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)cfg->http_threads, MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->connection_limit,
        MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)cfg->connection_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONNECTION_MEMORY,
        MHD_OPTION_URI_LOG_CALLBACK, http_request_arrived, srv, MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, conn_guard_notify, srv->guard, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, NULL,
        MHD_OPTION_END);
}

/* ---- metrics ---- */

static void http_metrics_routes(metrics_t *m)
{
    static const char *const fixed[] = {[HTTP_METRICS_HEALTH] = "/healthz", [HTTP_METRICS_READY] = "/readyz",
                                        [HTTP_METRICS_PLAYBACK] = "playback", [HTTP_METRICS_ASSET] = "/upload/assets/"};
    static const char *const upload[] = {[UPLOAD_ROUTE_FORM] = "/file/upload", [UPLOAD_ROUTE_MKBLK] = "/mkblk",
                                         [UPLOAD_ROUTE_BPUT] = "/bput", [UPLOAD_ROUTE_MKFILE] = "/mkfile",
                                         [UPLOAD_ROUTE_TUS] = "/files"};
    for (int i = HTTP_METRICS_HEALTH; i <= HTTP_METRICS_ASSET; i++)
        metrics_route_set(m, i, fixed[i]);
    for (int r = UPLOAD_ROUTE_FORM; r <= UPLOAD_ROUTE_TUS; r++)
        metrics_route_set(m, HTTP_METRICS_UPLOAD + r, upload[r]);
    for (int r = 1; api_route_path(r); r++)
        metrics_route_set(m, HTTP_METRICS_API + r, api_route_path(r));
}

/* A scrape's gauges (metrics_server.h's callback). */
static void http_metrics_gauges(void *arg, metrics_gauges_t *g)
{
    http_server_t *srv = arg;
    store_t *store = srv->api->store;
    const char *why;
    memset(g, 0, sizeof(*g));
    g->requests_in_flight = atomic_load(&srv->in_flight);
    g->uploads_in_flight = atomic_load(&srv->uploads_in_flight);
    g->staged_bytes = srv->upload ? quota_total(srv->upload->quota) : -1;
    g->ready = http_ready(srv, &why, &g->store_free_bytes, &g->blob_free_bytes);
    if (store->ops->task_count(store, STORE_TASK_QUEUED, &g->tasks_queued) != STORE_OK)
        g->tasks_queued = -1;
    if (store->ops->task_count(store, STORE_TASK_RUNNING, &g->tasks_running) != STORE_OK)
        g->tasks_running = -1;
    if (store->ops->delivery_pending_count(store, &g->deliveries_pending) != STORE_OK)
        g->deliveries_pending = -1;
}

/* The metrics listener, when metrics-listen names one. */
static bool http_metrics_start(http_server_t *srv, char *err, size_t errlen)
{
    if (!srv->cfg->metrics_listen[0])
        return true;
    char *host = NULL;
    int port = 0;
    if (!config_split_hostport("metrics-listen", srv->cfg->metrics_listen, &host, &port, err, errlen))
        return false;
    int fd = http_listen(host, port, &srv->metrics_port, err, errlen);
    free(host);
    if (fd < 0)
        return false;
    srv->metrics_server = metrics_server_start(srv->metrics, fd, http_metrics_gauges, srv, err, errlen);
    return srv->metrics_server != NULL;
}

int http_server_metrics_port(const http_server_t *srv)
{
    return srv->metrics_server ? srv->metrics_port : 0;
}

http_server_t *http_server_start(const config_t *cfg, const api_ctx_t *api, const upload_ctx_t *upload, int listen_fd,
                                 char *err, size_t errlen)
{
    http_server_t *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        close(listen_fd);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    srv->cfg = cfg;
    srv->api = api;
    srv->upload = upload;
    srv->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!srv->sha256 || !ids_random_hex(6, srv->request_id_prefix)) {
        snprintf(err, errlen, "OpenSSL initialisation failed");
        goto fail;
    }
    char why[160];
    if (!forwarded_proxies_parse(cfg->trusted_proxies, &srv->proxies, why, sizeof(why))) {
        snprintf(err, errlen, "trusted-proxies: %s", why);
        goto fail;
    }
    srv->metrics = metrics_new();
    if (!srv->metrics) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    http_metrics_routes(srv->metrics);
    srv->guard = conn_guard_start(cfg->header_timeout * 1000, cfg->connections_per_ip, &srv->proxies, err, errlen);
    if (!srv->guard || !http_metrics_start(srv, err, errlen))
        goto fail;
    srv->daemon = http_daemon_start(srv, listen_fd);
    if (!srv->daemon) {
        snprintf(err, errlen, "libmicrohttpd failed to start");
        goto fail;
    }
    return srv;
fail:
    metrics_server_stop(srv->metrics_server);
    metrics_free(srv->metrics);
    conn_guard_stop(srv->guard);
    EVP_MD_free(srv->sha256);
    close(listen_fd);
    free(srv);
    return NULL;
}

int http_server_drain(http_server_t *srv, int timeout_s)
{
    /* New requests are answered 503 with Connection: close from now on;
     * the listening socket stays open until http_server_stop.  Not
     * MHD_quiesce_daemon: with epoll and a thread pool it races a poll
     * thread removing the same socket from its epoll set, and libmicrohttpd
     * 0.9.75 then aborts the process ("Failed to remove listen FD from
     * epoll set"); test_server_ops's quick SIGTERM rounds caught it. */
    atomic_store(&srv->draining, true);
    int64_t deadline_ns = timeutil_monotonic_ns() + (int64_t)timeout_s * 1000000000;
    for (;;) {
        int left = atomic_load(&srv->in_flight);
        if (left == 0 || timeutil_monotonic_ns() >= deadline_ns)
            return left;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

void http_server_stop(http_server_t *srv)
{
    if (!srv)
        return;
    MHD_stop_daemon(srv->daemon);
    metrics_server_stop(srv->metrics_server);
    metrics_free(srv->metrics);
    conn_guard_stop(srv->guard); /* after the daemon: it reports every connection closed */
    EVP_MD_free(srv->sha256);
    free(srv);
}
