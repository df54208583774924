/*
 * hookrecv: a webhook receiver for tests, which logs every request and
 * answers as told, well or badly.
 *
 *   hookrecv --log FILE [--status N | --statuses N,N,...] [--delay-ms N]
 *            [--redirect URL] [--garbage] [--response-bytes N] [--body TEXT] [--secret S]
 *
 * Listens on 127.0.0.1, on a port the kernel picks, and prints "port=N" as
 * the first line of stdout (flushed at once).  For every request it appends
 * one JSON line to FILE, written and flushed before the answer goes out, so
 * a client that has its answer finds the line already there:
 *
 *   {"seq":1,"recv_ms":123456,"method":"POST","path":"/hook",
 *    "headers":{"content-type":"application/json",...},
 *    "body":"...","body_len":123,"body_truncated":false,"status":200,
 *    "sig_ok":true,"sig_why":"ok"}
 *
 * seq counts requests from 1.  recv_ms is CLOCK_MONOTONIC in ms when the
 * whole body had arrived (the clock the tests read too).  Header names are
 * lowercased; a repeated header's values are joined with ", ".  "body" is
 * the body as a JSON string when it is UTF-8, otherwise "body_b64url" holds
 * it in url-safe base64.  Bodies are kept up to 1 MiB ("body_truncated"
 * says when more came; body_len counts every byte).  "status" is what it
 * answered (0: --garbage).  sig_ok and sig_why appear with --secret: the
 * X-Vodup-Signature header checked with event_sign_verify() against the
 * whole body, now, and a tolerance of 300 s.
 *
 * Answers:
 *   --status N          N for every request (default 200);
 *   --statuses A,B,C    A to the first request, B to the second, C to the
 *                       third and every later one (the last repeats);
 *   --delay-ms N        sleeps N ms after logging, before answering;
 *   --redirect URL      302 with Location: URL (instead of the status);
 *   --response-bytes N  a body of N 'x' bytes, generated as it is sent
 *                       (never held in memory), to test a client's cap;
 *   --body TEXT         TEXT as the body, Content-Type application/json
 *                       (an upload callback's answer);
 *   --garbage           no HTTP at all: writes a fixed non-HTTP byte
 *                       sequence ("\x00\xffGARBAGE\r\n\r\n\x01...") straight
 *                       to the connection's socket, then has
 *                       libmicrohttpd close the connection (the handler
 *                       returns MHD_NO, so no status line is ever sent).
 *
 * One thread per connection (libmicrohttpd's MHD_USE_THREAD_PER_CONNECTION),
 * so a delayed answer never holds up another request.  SIGTERM or SIGINT:
 * delays are cut short, connections are closed, the log is closed, exit 0.
 * Exit 2 on a usage error, 1 when it cannot listen or open the log.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

#include "common/buf.h"
#include "common/encoding.h"
#include "events/event_sign.h"

#define HR_STATUSES_MAX 64
#define HR_BODY_MAX ((size_t)1024 * 1024)  /* bytes of a request body kept for the log */
#define HR_SLICE_MS 20                     /* a delay checks for SIGTERM this often */
#define HR_CONNECTION_TIMEOUT_S 60         /* an idle client is dropped after this */
#define HR_FILL_BLOCK ((size_t)32 * 1024)  /* --response-bytes is sent in blocks of this */
#define HR_TOLERANCE_S 300

typedef struct hr_options {
    const char *log_path;
    int statuses[HR_STATUSES_MAX]; /* one entry for --status */
    size_t status_count;
    long delay_ms;
    const char *redirect;
    bool garbage;
    uint64_t response_bytes; /* 0: a short text body */
    const char *body;        /* NULL: a short text body */
    const char *secret;
} hr_options_t;

typedef struct hr_state {
    hr_options_t opt;
    FILE *log;
    pthread_mutex_t log_mu; /* one line at a time, whole */
    atomic_ulong seq;
} hr_state_t;

/* One request's body, as it arrives (freed in hr_completed). */
typedef struct hr_request {
    buf_t body;
    uint64_t body_len; /* every byte, kept or not */
} hr_request_t;

static atomic_int hr_stopping;

/* ---- options ------------------------------------------------------------------ */

static void hr_usage(FILE *f)
{
    fprintf(f, "usage: hookrecv --log FILE [--status N | --statuses N,N,...] [--delay-ms N]\n"
               "                [--redirect URL] [--garbage] [--response-bytes N] [--body TEXT] [--secret S]\n");
}

static bool hr_parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!text || !isdigit((unsigned char)text[0]))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* "500,500,200": statuses 100..599, at least one, at most HR_STATUSES_MAX. */
static bool hr_parse_statuses(const char *text, hr_options_t *o)
{
    char copy[HR_STATUSES_MAX * 4 + 1], *save = NULL;
    if (!text || strlen(text) >= sizeof(copy))
        return false;
    snprintf(copy, sizeof(copy), "%s", text);
    o->status_count = 0;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        uint64_t n;
        if (o->status_count == HR_STATUSES_MAX || !hr_parse_u64(t, 100, 599, &n))
            return false;
        o->statuses[o->status_count++] = (int)n;
    }
    return o->status_count > 0;
}

/* One option with its value; false on a bad value or an unknown option. */
static bool hr_parse_option(const char *a, const char *v, hr_options_t *o)
{
    uint64_t n;
    if (!strcmp(a, "--log") && v)
        o->log_path = v;
    else if (!strcmp(a, "--status"))
        return hr_parse_statuses(v, o) && o->status_count == 1;
    else if (!strcmp(a, "--statuses"))
        return hr_parse_statuses(v, o);
    else if (!strcmp(a, "--delay-ms") && hr_parse_u64(v, 0, 3600000, &n))
        o->delay_ms = (long)n;
    else if (!strcmp(a, "--redirect") && v && *v)
        o->redirect = v;
    else if (!strcmp(a, "--response-bytes") && hr_parse_u64(v, 1, UINT64_MAX / 2, &n))
        o->response_bytes = n;
    else if (!strcmp(a, "--secret") && v && *v)
        o->secret = v;
    else if (!strcmp(a, "--body") && v)
        o->body = v;
    else
        return false;
    return true;
}

static bool hr_parse_args(int argc, char **argv, hr_options_t *o)
{
    *o = (hr_options_t){.statuses = {200}, .status_count = 1};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            hr_usage(stdout);
            exit(0);
        }
        if (!strcmp(argv[i], "--garbage")) {
            o->garbage = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!hr_parse_option(argv[i], v, o)) {
            fprintf(stderr, "hookrecv: bad option or value: %s\n", argv[i]);
            return false;
        }
        i++;
    }
    if (!o->log_path)
        fprintf(stderr, "hookrecv: --log FILE is required\n");
    return o->log_path != NULL;
}

/* ---- the log line ------------------------------------------------------------- */

static int64_t hr_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* MHD_KeyValueIterator: adds one header, name lowercased, repeats joined. */
static enum MHD_Result hr_add_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    json_t *headers = cls;
    char name[256];
    size_t i = 0;
    for (; key[i] && i + 1 < sizeof(name); i++)
        name[i] = (char)tolower((unsigned char)key[i]);
    name[i] = '\0';
    const char *old = json_string_value(json_object_get(headers, name));
    char *joined = NULL;
    if (old && asprintf(&joined, "%s, %s", old, value ? value : "") < 0)
        joined = NULL;
    json_t *v = json_string(joined ? joined : value ? value : "");
    free(joined);
    if (v) /* a value that is not UTF-8 is left out rather than failing the line */
        json_object_set_new(headers, name, v);
    return MHD_YES;
}

/* "body" when the body is UTF-8, else "body_b64url". */
static void hr_add_body(json_t *line, const hr_request_t *rq)
{
    json_t *text = json_stringn(rq->body.data, rq->body.len);
    if (text) {
        json_object_set_new(line, "body", text);
    } else {
        buf_t b64;
        buf_init(&b64, 0);
        if (encoding_b64url_encode(rq->body.data, rq->body.len, &b64))
            json_object_set_new(line, "body_b64url", json_stringn(b64.data, b64.len));
        buf_free(&b64);
    }
    json_object_set_new(line, "body_len", json_integer((json_int_t)rq->body_len));
    json_object_set_new(line, "body_truncated", json_boolean(rq->body_len > rq->body.len));
}

static void hr_add_signature(json_t *line, const hr_state_t *st, struct MHD_Connection *conn, const hr_request_t *rq)
{
    const char *header = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, EVENT_SIGN_HEADER_NAME);
    const char *why = "no signature header";
    bool ok = false;
    if (rq->body_len > rq->body.len)
        why = "body truncated";
    else if (header)
        ok = event_sign_verify(st->opt.secret, header, rq->body.data, rq->body.len, (int64_t)time(NULL),
                               HR_TOLERANCE_S, &why);
    json_object_set_new(line, "sig_ok", json_boolean(ok));
    json_object_set_new(line, "sig_why", json_string(why));
}

static void hr_log(hr_state_t *st, struct MHD_Connection *conn, const char *url, const char *method,
                   const hr_request_t *rq, unsigned long seq, int status)
{
    json_t *line = json_object(), *headers = json_object();
    json_object_set_new(line, "seq", json_integer((json_int_t)seq));
    json_object_set_new(line, "recv_ms", json_integer(hr_monotonic_ms()));
    json_object_set_new(line, "method", json_string(method));
    json_object_set_new(line, "path", json_string(url));
    MHD_get_connection_values(conn, MHD_HEADER_KIND, hr_add_header, headers);
    json_object_set_new(line, "headers", headers);
    hr_add_body(line, rq);
    json_object_set_new(line, "status", json_integer(status));
    if (st->opt.secret)
        hr_add_signature(line, st, conn, rq);
    char *text = json_dumps(line, JSON_COMPACT);
    pthread_mutex_lock(&st->log_mu);
    if (text)
        fprintf(st->log, "%s\n", text);
    fflush(st->log);
    pthread_mutex_unlock(&st->log_mu);
    free(text);
    json_decref(line);
}

/* ---- answers ------------------------------------------------------------------ */

/* The status for request number seq (from 1); 0 for --garbage. */
static int hr_status_for(const hr_options_t *o, unsigned long seq)
{
    if (o->garbage)
        return 0;
    if (o->redirect)
        return MHD_HTTP_FOUND;
    size_t i = seq - 1 < o->status_count ? seq - 1 : o->status_count - 1;
    return o->statuses[i];
}

/* Sleeps in slices so that SIGTERM is not held up by a long delay. */
static void hr_delay(long ms)
{
    int64_t end = hr_monotonic_ms() + ms;
    while (!atomic_load(&hr_stopping)) {
        int64_t left = end - hr_monotonic_ms();
        if (left <= 0)
            return;
        if (left > HR_SLICE_MS)
            left = HR_SLICE_MS;
        struct timespec ts = {0, (long)left * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* Raw bytes on the socket, then MHD_NO: libmicrohttpd closes the connection
 * without writing a status line of its own. */
static enum MHD_Result hr_send_garbage(struct MHD_Connection *conn)
{
    static const char garbage[] = "\x00\xff" "GARBAGE\r\n\r\n\x01\x02\x03 this is not HTTP \xfe\xfd\r\n";
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (info && send(info->connect_fd, garbage, sizeof(garbage) - 1, MSG_NOSIGNAL) < 0)
        fprintf(stderr, "hookrecv: garbage not sent: %s\n", strerror(errno));
    return MHD_NO;
}

/* MHD_ContentReaderCallback for --response-bytes: 'x' up to the total. */
static ssize_t hr_fill(void *cls, uint64_t pos, char *buf, size_t max)
{
    const uint64_t *total = cls;
    if (pos >= *total)
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = *total - pos < max ? (size_t)(*total - pos) : max;
    memset(buf, 'x', n);
    return (ssize_t)n;
}

static struct MHD_Response *hr_make_response(hr_state_t *st, int status)
{
    if (st->opt.response_bytes > 0)
        return MHD_create_response_from_callback(st->opt.response_bytes, HR_FILL_BLOCK, hr_fill,
                                                 &st->opt.response_bytes, NULL);
    if (st->opt.body) {
        struct MHD_Response *r =
            MHD_create_response_from_buffer(strlen(st->opt.body), (void *)st->opt.body, MHD_RESPMEM_PERSISTENT);
        if (r)
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        return r;
    }
    char text[64];
    int n = snprintf(text, sizeof(text), "hookrecv: %d\n", status);
    return MHD_create_response_from_buffer((size_t)n, text, MHD_RESPMEM_MUST_COPY);
}

static enum MHD_Result hr_answer(hr_state_t *st, struct MHD_Connection *conn, const char *url,
                                 const char *method, const hr_request_t *rq)
{
    unsigned long seq = atomic_fetch_add(&st->seq, 1) + 1;
    int status = hr_status_for(&st->opt, seq);
    hr_log(st, conn, url, method, rq, seq, status);
    hr_delay(st->opt.delay_ms);
    if (st->opt.garbage || atomic_load(&hr_stopping))
        return st->opt.garbage ? hr_send_garbage(conn) : MHD_NO;
    struct MHD_Response *resp = hr_make_response(st, status);
    if (!resp)
        return MHD_NO;
    if (st->opt.redirect)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, st->opt.redirect);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* MHD_AccessHandlerCallback: collects the body, then logs and answers. */
static enum MHD_Result hr_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    (void)version;
    hr_request_t *rq = *con_cls;
    if (!rq) {
        if (!(rq = calloc(1, sizeof(*rq))))
            return MHD_NO;
        buf_init(&rq->body, HR_BODY_MAX);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        rq->body_len += *upload_data_size;
        size_t room = HR_BODY_MAX - rq->body.len;
        buf_append(&rq->body, upload_data, *upload_data_size < room ? *upload_data_size : room);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return hr_answer(cls, conn, url, method, rq);
}

static void hr_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)conn;
    (void)code;
    hr_request_t *rq = *con_cls;
    if (rq) {
        buf_free(&rq->body);
        free(rq);
    }
    *con_cls = NULL;
}

/* ---- main ----------------------------------------------------------------------- */

static struct MHD_Daemon *hr_start(hr_state_t *st)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    return MHD_start_daemon(flags, 0, NULL, NULL, hr_access, st, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
                            MHD_OPTION_NOTIFY_COMPLETED, hr_completed, st, MHD_OPTION_CONNECTION_TIMEOUT,
                            (unsigned)HR_CONNECTION_TIMEOUT_S, MHD_OPTION_END);
}

/* Blocks SIGTERM, SIGINT (taken by sigwait) and SIGPIPE in every thread:
 * the daemon's threads inherit this mask. */
static void hr_block_signals(sigset_t *wait_set)
{
    sigset_t all;
    sigemptyset(wait_set);
    sigaddset(wait_set, SIGTERM);
    sigaddset(wait_set, SIGINT);
    all = *wait_set;
    sigaddset(&all, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
}

/* Returns when SIGTERM or SIGINT arrives. */
static void hr_wait_for_stop(const sigset_t *wait_set)
{
    int sig = 0;
    while (sig != SIGTERM && sig != SIGINT)
        if (sigwait(wait_set, &sig) != 0)
            return;
}

int main(int argc, char **argv)
{
    static hr_state_t st = {.log_mu = PTHREAD_MUTEX_INITIALIZER};
    sigset_t wait_set;
    if (!hr_parse_args(argc, argv, &st.opt)) {
        hr_usage(stderr);
        return 2;
    }
    if (!(st.log = fopen(st.opt.log_path, "a"))) {
        fprintf(stderr, "hookrecv: cannot open %s: %s\n", st.opt.log_path, strerror(errno));
        return 1;
    }
    hr_block_signals(&wait_set);
    struct MHD_Daemon *d = hr_start(&st);
    const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || info->port == 0) {
        fprintf(stderr, "hookrecv: cannot listen on 127.0.0.1\n");
        return 1;
    }
    printf("port=%u\n", (unsigned)info->port);
    fflush(stdout);
    hr_wait_for_stop(&wait_set);
    atomic_store(&hr_stopping, 1); /* cuts delays short, so stopping the daemon does not wait for them */
    MHD_stop_daemon(d);
    fclose(st.log);
    fprintf(stderr, "hookrecv: exiting after %lu requests\n", (unsigned long)atomic_load(&st.seq));
    return 0;
}
