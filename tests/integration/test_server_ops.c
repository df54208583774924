/*
 * test_server_ops: running `vodup serve` as an operator would: the first-start
 * key and the restart that keeps it, /healthz, the JSON access log, data file
 * permissions, concurrent getUploadToken calls, and a SIGTERM that lets the
 * requests in flight finish before exiting 0 (docs/behaviour-notes.md 9-12).
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/encoding.h"
#include "harness.h"

static harness_server_t *srv;

/* ---- first start, restart ---------------------------------------------------- */

static void test_first_start_prints_a_working_key(void **state)
{
    (void)state;
    assert_true(srv->printed_key);
    const char *out = srv->stdout_text;
    assert_non_null(strstr(out, "  AccessKey: "));
    assert_non_null(strstr(out, "  SecretKey: "));
    assert_true(strlen(srv->key.access_key) >= 16);
    assert_true(strlen(srv->key.secret_key) >= 32);
    /* The paste-able example names the same key and this server. */
    char *line = harness_strf("AK='%s' SK='%s' HOST='%s'", srv->key.access_key, srv->key.secret_key, srv->host);
    assert_non_null(strstr(out, line));
    free(line);
    assert_non_null(strstr(out, "curl "));
    line = harness_strf("vodup: listening on %s (data %s, uploadUrl %s)\n", srv->base_url, srv->data_dir,
                        srv->base_url);
    assert_non_null(strstr(out, line));
    free(line);

    harness_response_t r;
    assert_true(harness_upload_token(srv, NULL, "originFileName=first.mp4", &r));
    assert_api_ok(&r);
    harness_response_free(&r);
}

static void test_restart_keeps_key_and_videos(void **state)
{
    (void)state;
    harness_server_t *s = harness_server_start(NULL);
    assert_non_null(s);
    harness_key_t first = s->key;
    harness_response_t r;
    assert_true(harness_upload_token(s, NULL, "originFileName=before-restart.mp4", &r));
    assert_api_ok(&r);
    char video_id[33];
    snprintf(video_id, sizeof(video_id), "%s", harness_json_str(harness_data(&r), "videoId"));
    harness_response_free(&r);

    /* SIGINT stops it as cleanly as SIGTERM. */
    assert_true(harness_server_signal(s, SIGINT));
    assert_int_equal(harness_server_wait(s, HARNESS_STOP_TIMEOUT_MS), 0);

    assert_true(harness_server_restart(s, NULL));
    assert_false(s->printed_key);
    assert_null(strstr(s->stdout_text, "AccessKey"));
    assert_null(strstr(s->stdout_text, first.secret_key));
    assert_string_equal(s->key.access_key, first.access_key);
    assert_true(harness_video_info(s, NULL, video_id, &r));
    assert_api_ok(&r);
    assert_string_equal(harness_json_str(harness_data(&r), "videoName"), "before-restart.mp4");
    harness_response_free(&r);
    assert_true(harness_upload_token(s, NULL, "originFileName=after-restart.mp4", &r));
    assert_api_ok(&r);
    harness_response_free(&r);
    assert_int_equal(harness_server_terminate(s), 0);

    /* --print-example shows the existing key again, and no new one. */
    static const char *const print[] = {"--print-example", NULL};
    assert_true(harness_server_restart(s, print));
    assert_true(s->printed_key);
    assert_string_equal(s->key.access_key, first.access_key);
    assert_string_equal(s->key.secret_key, first.secret_key);
    assert_true(harness_upload_token(s, NULL, "originFileName=printed.mp4", &r));
    assert_api_ok(&r);
    harness_response_free(&r);
    assert_int_equal(harness_server_stop(s), 0);
}

/* ---- options ---------------------------------------------------------------- */

static void test_configured_options(void **state)
{
    (void)state;
    static const char *const flags[] = {
        "--public-url", "https://vod.example.com/", "--speed-domain-url", "https://speed.example.com",
        "--http-dns-server", "203.0.113.53", "--token-lifetime", "60", "--max-upload-size", "1000",
        "--media-extensions", "mp4, XYZ", "--clock-skew", "30", "--api-body-limit", "2048", NULL};
    harness_server_t *s = harness_server_start(flags);
    assert_non_null(s);
    char *line = harness_strf("vodup: listening on %s (data %s, uploadUrl https://vod.example.com)\n",
                              s->base_url, s->data_dir);
    assert_non_null(strstr(s->stdout_text, line));
    free(line);

    harness_response_t r;
    int64_t before = harness_now_ms();
    assert_true(harness_upload_token(s, NULL, "originFileName=a.xyz&fileSize=1000", &r));
    assert_api_ok(&r);
    json_t *d = harness_data(&r);
    assert_string_equal(harness_json_str(d, "uploadUrl"), "https://vod.example.com");
    assert_string_equal(harness_json_str(d, "speedDomainlUrl"), "https://speed.example.com");
    assert_string_equal(harness_json_str(d, "httpDnsServer"), "203.0.113.53");
    /* deadline = now + 60 s */
    const char *token = harness_json_str(d, "uploadToken");
    const char *policy_b64 = strrchr(token, ':') + 1;
    buf_t b;
    buf_init(&b, 0);
    assert_true(encoding_b64url_decode(policy_b64, strlen(policy_b64), &b));
    json_t *policy = json_loadb(b.data, b.len, 0, NULL);
    buf_free(&b);
    long long deadline = strtoll(harness_json_str(policy, "deadline"), NULL, 10);
    assert_in_range(deadline, before + 60000 - 5000, harness_now_ms() + 60000 + 5000);
    json_decref(policy);
    char *video_id = strdup(harness_json_str(d, "videoId"));
    char *file_key = strdup(harness_json_str(d, "fileKey"));
    harness_response_free(&r);

    /* playUrl without a domain uses the public URL. */
    assert_true(harness_video_info(s, NULL, video_id, &r));
    assert_api_ok(&r);
    char *play = harness_strf("https://vod.example.com/%s", file_key);
    assert_string_equal(harness_json_str(harness_data(&r), "playUrl"), play);
    free(play);
    harness_response_free(&r);
    free(video_id);
    free(file_key);

    assert_true(harness_upload_token(s, NULL, "originFileName=a.mp4&fileSize=1001", &r));
    assert_api_error(&r, 400, 1610);
    harness_response_free(&r);
    assert_true(harness_upload_token(s, NULL, "originFileName=a.mov", &r));
    assert_api_error(&r, 400, 1607);
    harness_response_free(&r);

    harness_request_t skewed = {.path = HARNESS_PATH_LIST, .timestamp_offset = -45};
    assert_true(harness_request(s, &skewed, &r));
    assert_api_error(&r, 401, 401);
    harness_response_free(&r);
    skewed.timestamp_offset = -20;
    assert_true(harness_request(s, &skewed, &r));
    assert_api_ok(&r);
    harness_response_free(&r);

    char body[3000];
    memset(body, 'x', sizeof(body) - 1);
    body[sizeof(body) - 1] = '\0';
    memcpy(body, "originFileName=a.mp4&pad=", 25);
    static const char *const expect[] = {"Expect: 100-continue", NULL};
    harness_request_t big = {.path = HARNESS_PATH_TOKEN, .body = body, .content_type = HARNESS_FORM,
                             .extra_headers = expect};
    assert_true(harness_request(s, &big, &r));
    assert_api_error(&r, 413, 413);
    harness_response_free(&r);
    assert_int_equal(harness_server_stop(s), 0);
}

/* ---- /healthz ----------------------------------------------------------------- */

static void test_healthz(void **state)
{
    (void)state;
    harness_request_t req = {.path = "/healthz", .omit = HARNESS_OMIT_ALL_AUTH};
    harness_response_t r;
    assert_true(harness_request(srv, &req, &r));
    assert_int_equal(r.status, 200);
    assert_true(harness_is_lower_hex(r.request_id, 24));
    assert_non_null(r.json);
    assert_string_equal(harness_json_str(r.json, "status"), "ok");
    assert_int_equal(strncmp(r.content_type, "application/json", 16), 0);
    harness_response_free(&r);
    /* A signed request to it is just as fine. */
    harness_request_t signed_req = {.path = "/healthz"};
    assert_true(harness_request(srv, &signed_req, &r));
    assert_int_equal(r.status, 200);
    harness_response_free(&r);
}

/* ---- the access log ---------------------------------------------------------- */

/* The access log line of a request id, parsed; NULL when there is none. */
static json_t *access_line(const char *log, const char *request_id)
{
    const char *p = log;
    while (p && *p) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0 && p[0] == '{') {
            json_t *j = json_loadb(p, len, 0, NULL);
            const char *id = harness_json_str(j, "requestId");
            if (id && strcmp(id, request_id) == 0)
                return j;
            json_decref(j);
        }
        p = end ? end + 1 : NULL;
    }
    return NULL;
}

static void test_access_log(void **state)
{
    (void)state;
    static const struct {
        harness_request_t req;
        long status;
        bool with_key;
    } cases[] = {
        {{.path = HARNESS_PATH_TOKEN "?originFileName=private-name.mp4&fileId=log-1"}, 200, true},
        {{.path = HARNESS_PATH_TOKEN, .body = "originFileName=posted.mp4", .content_type = HARNESS_FORM}, 200, true},
        {{.path = HARNESS_PATH_TOKEN "?originFileName=x.mp4", .sign_secret = "wrong"}, 401, true},
        {{.path = HARNESS_PATH_TOKEN "?originFileName=x.mp4", .omit = HARNESS_OMIT_ALL_AUTH}, 401, false},
        {{.path = "/no/such/api?q=1", .omit = HARNESS_OMIT_ALL_AUTH}, 404, false},
        {{.method = "DELETE", .path = HARNESS_PATH_LIST, .omit = HARNESS_OMIT_ALL_AUTH}, 405, false},
        {{.path = "/healthz", .omit = HARNESS_OMIT_ALL_AUTH}, 200, false},
    };
    enum { N = sizeof(cases) / sizeof(cases[0]) };
    char ids[N][64];
    for (size_t i = 0; i < N; i++) {
        harness_response_t r;
        assert_true(harness_request(srv, &cases[i].req, &r));
        assert_int_equal(r.status, cases[i].status);
        snprintf(ids[i], sizeof(ids[i]), "%s", r.request_id);
        harness_response_free(&r);
    }
    /* A line is written when its request completes, after the response. */
    assert_true(harness_server_log_wait(srv, ids[N - 1], 10000));
    for (size_t i = 0; i < N; i++)
        assert_true(harness_server_log_wait(srv, ids[i], 10000));

    char *log = harness_server_log(srv);
    assert_non_null(log);
    for (size_t i = 0; i < N; i++) {
        json_t *j = access_line(log, ids[i]);
        if (!j) {
            print_error("no JSON access log line for request %s\n", ids[i]);
            fail();
        }
        const char *method = cases[i].req.method ? cases[i].req.method : cases[i].req.body ? "POST" : "GET";
        char path[256];
        snprintf(path, sizeof(path), "%.*s", (int)strcspn(cases[i].req.path, "?"), cases[i].req.path);
        assert_string_equal(harness_json_str(j, "method"), method);
        assert_string_equal(harness_json_str(j, "path"), path);
        assert_int_equal(json_integer_value(json_object_get(j, "status")), cases[i].status);
        assert_non_null(harness_json_str(j, "ts"));
        assert_true(json_is_integer(json_object_get(j, "bytesIn")));
        assert_true(json_is_integer(json_object_get(j, "bytesOut")));
        assert_true(json_integer_value(json_object_get(j, "bytesOut")) > 0);
        assert_true(json_is_number(json_object_get(j, "durationMs")));
        const char *ak = harness_json_str(j, "accessKey");
        assert_non_null(ak);
        if (cases[i].with_key)
            assert_string_equal(ak, srv->key.access_key);
        else
            assert_string_equal(ak, "");
        if (cases[i].req.body)
            assert_int_equal(json_integer_value(json_object_get(j, "bytesIn")), strlen(cases[i].req.body));
        json_decref(j);
    }
    /* The query (which may hold names) stays out of the log, and no secret is in it. */
    assert_null(strstr(log, "private-name"));
    assert_null(strstr(log, srv->key.secret_key));
    free(log);
    assert_null(harness_log_find_secret(srv));
}

/* ---- files --------------------------------------------------------------------- */

static void assert_mode(const char *path, mode_t want, bool must_exist)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        if (must_exist) {
            print_error("%s does not exist\n", path);
            fail();
        }
        return;
    }
    if ((st.st_mode & 07777) != want) {
        print_error("%s has mode %04o, want %04o\n", path, (unsigned)(st.st_mode & 07777), (unsigned)want);
        fail();
    }
}

static void test_data_file_modes(void **state)
{
    (void)state;
    /* The process umask is not what makes them private. */
    mode_t old = umask(0);
    harness_server_t *s = harness_server_start(NULL);
    umask(old);
    assert_non_null(s);
    harness_response_t r;
    assert_true(harness_upload_token(s, NULL, "originFileName=modes.mp4", &r));
    assert_api_ok(&r);
    harness_response_free(&r);

    char path[512];
    assert_mode(s->data_dir, 0700, true);
    snprintf(path, sizeof(path), "%s/vodup.db", s->data_dir);
    assert_mode(path, 0600, true);
    snprintf(path, sizeof(path), "%s/vodup.db-wal", s->data_dir);
    assert_mode(path, 0600, false);
    snprintf(path, sizeof(path), "%s/vodup.db-shm", s->data_dir);
    assert_mode(path, 0600, false);
    assert_int_equal(harness_server_stop(s), 0);

    /* The shared server too (started with the test's own umask). */
    assert_mode(srv->data_dir, 0700, true);
    snprintf(path, sizeof(path), "%s/vodup.db", srv->data_dir);
    assert_mode(path, 0600, true);
}

/* ---- concurrency ---------------------------------------------------------------- */

#define THREADS 16
#define CALLS 50

typedef struct worker {
    pthread_t thread;
    pthread_barrier_t *barrier;
    const char *form;  /* NULL: a unique name per call */
    int calls;
    int index;
    int failures;
    long bad_status;
    char (*ids)[33];   /* calls entries */
    char (*keys)[256];
} worker_t;

static void *worker_run(void *arg)
{
    worker_t *w = arg;
    pthread_barrier_wait(w->barrier);
    for (int i = 0; i < w->calls; i++) {
        char name[96];
        const char *form = w->form;
        if (!form) {
            snprintf(name, sizeof(name), "originFileName=t%02d-c%02d.mp4", w->index, i);
            form = name;
        }
        harness_response_t r;
        bool ok = harness_upload_token(srv, NULL, form, &r);
        json_t *d = harness_data(&r);
        const char *id = harness_json_str(d, "videoId");
        const char *key = harness_json_str(d, "fileKey");
        if (!ok || r.status != 200 || !id || !key) {
            w->failures++;
            w->bad_status = r.status;
            w->ids[i][0] = '\0';
        } else {
            snprintf(w->ids[i], sizeof(w->ids[i]), "%s", id);
            snprintf(w->keys[i], sizeof(w->keys[i]), "%s", key);
        }
        harness_response_free(&r);
    }
    return NULL;
}

static int cmp_id(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* Runs n workers with the same barrier; cmocka asserts only on this thread. */
static void run_workers(worker_t *w, int n)
{
    pthread_barrier_t barrier;
    pthread_barrier_init(&barrier, NULL, (unsigned)n);
    for (int t = 0; t < n; t++) {
        w[t].barrier = &barrier;
        w[t].index = t;
        assert_int_equal(pthread_create(&w[t].thread, NULL, worker_run, &w[t]), 0);
    }
    for (int t = 0; t < n; t++)
        pthread_join(w[t].thread, NULL);
    pthread_barrier_destroy(&barrier);
    for (int t = 0; t < n; t++)
        if (w[t].failures) {
            print_error("thread %d: %d calls failed (last HTTP %ld)\n", t, w[t].failures, w[t].bad_status);
            fail();
        }
}

static void test_concurrent_upload_tokens(void **state)
{
    (void)state;
    static char ids[THREADS * CALLS][33];
    static char keys[THREADS * CALLS][256];
    worker_t w[THREADS];
    memset(w, 0, sizeof(w));
    for (int t = 0; t < THREADS; t++) {
        w[t].calls = CALLS;
        w[t].ids = &ids[t * CALLS];
        w[t].keys = &keys[t * CALLS];
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run_workers(w, THREADS);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    print_message("  %d getUploadToken calls on %d threads in %.2f s\n", THREADS * CALLS, THREADS,
                  (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    qsort(ids, THREADS * CALLS, sizeof(ids[0]), cmp_id);
    for (int i = 0; i < THREADS * CALLS; i++) {
        assert_true(harness_is_lower_hex(ids[i], 32));
        if (i > 0)
            assert_string_not_equal(ids[i - 1], ids[i]);
    }

    /* All of them are in the registry. */
    harness_response_t r;
    char *path = harness_strf("%s?videoName=c49.mp4&pageSize=100", HARNESS_PATH_LIST);
    assert_true(harness_call(srv, NULL, "GET", path, NULL, NULL, &r));
    free(path);
    assert_api_ok(&r);
    assert_int_equal(json_integer_value(json_object_get(harness_data(&r), "total")), THREADS);
    harness_response_free(&r);
}

static void test_concurrent_same_file_id(void **state)
{
    (void)state;
    enum { N = 8, ROUNDS = 3 };
    for (int round = 0; round < ROUNDS; round++) {
        char form[128];
        snprintf(form, sizeof(form), "originFileName=same.mp4&fileId=same-file-%d", round);
        char ids[N][33], keys[N][256];
        worker_t w[N];
        memset(w, 0, sizeof(w));
        for (int t = 0; t < N; t++) {
            w[t].calls = 1;
            w[t].form = form;
            w[t].ids = &ids[t];
            w[t].keys = &keys[t];
        }
        run_workers(w, N);
        for (int t = 1; t < N; t++) {
            assert_string_equal(ids[t], ids[0]);
            assert_string_equal(keys[t], keys[0]);
        }
        char *path = harness_strf("%s?videoName=same.mp4&pageSize=100", HARNESS_PATH_LIST);
        harness_response_t r;
        assert_true(harness_call(srv, NULL, "GET", path, NULL, NULL, &r));
        free(path);
        assert_api_ok(&r);
        assert_int_equal(json_integer_value(json_object_get(harness_data(&r), "total")), round + 1);
        harness_response_free(&r);
    }
}

/* ---- graceful shutdown ------------------------------------------------------------ */

#define IN_FLIGHT 4

typedef struct slow_upload {
    CURL *easy;
    struct curl_slist *headers;
    const char *body;
    size_t len, sent;
    bool released;
    bool got_continue;
    bool done;
    CURLcode result;
    long status;
    char connection[64];
    char response[2048];
    size_t response_len;
} slow_upload_t;

/* Holds the body back until the test releases it. */
static size_t slow_read(char *buf, size_t size, size_t nitems, void *arg)
{
    slow_upload_t *u = arg;
    if (!u->released)
        return CURL_READFUNC_PAUSE;
    size_t n = u->len - u->sent;
    if (n > size * nitems)
        n = size * nitems;
    memcpy(buf, u->body + u->sent, n);
    u->sent += n;
    return n;
}

static size_t slow_header(char *data, size_t size, size_t nmemb, void *arg)
{
    slow_upload_t *u = arg;
    size_t len = size * nmemb;
    if (len >= 12 && strncmp(data, "HTTP/1.1 100", 12) == 0)
        u->got_continue = true;
    if (len > 11 && strncasecmp(data, "Connection:", 11) == 0)
        snprintf(u->connection, sizeof(u->connection), "%.*s", (int)strcspn(data + 11, "\r\n"), data + 11);
    return len;
}

static size_t slow_write(char *data, size_t size, size_t nmemb, void *arg)
{
    slow_upload_t *u = arg;
    size_t len = size * nmemb;
    size_t room = sizeof(u->response) - 1 - u->response_len;
    size_t n = len < room ? len : room;
    memcpy(u->response + u->response_len, data, n);
    u->response_len += n;
    u->response[u->response_len] = '\0';
    return len;
}

/* Drives the multi handle for up to timeout_ms or until cond(arg) holds. */
static bool drive(CURLM *multi, slow_upload_t *u, int n, bool (*cond)(slow_upload_t *, int), int timeout_ms)
{
    int64_t deadline = harness_now_ms() + timeout_ms;
    while (!cond(u, n)) {
        if (harness_now_ms() > deadline)
            return false;
        int running = 0;
        curl_multi_perform(multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(multi, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            for (int i = 0; i < n; i++)
                if (u[i].easy == msg->easy_handle) {
                    u[i].done = true;
                    u[i].result = msg->data.result;
                    curl_easy_getinfo(u[i].easy, CURLINFO_RESPONSE_CODE, &u[i].status);
                }
        }
        curl_multi_poll(multi, NULL, 0, 20, NULL);
    }
    return true;
}

/* Every transfer got its "100 Continue" (or ended early, which fails below). */
static bool all_continued(slow_upload_t *u, int n)
{
    for (int i = 0; i < n; i++)
        if (!u[i].got_continue && !u[i].done)
            return false;
    return true;
}

static bool all_done(slow_upload_t *u, int n)
{
    for (int i = 0; i < n; i++)
        if (!u[i].done)
            return false;
    return true;
}

/* True once the server no longer takes new work: refused, or 503. */
static bool server_draining(harness_server_t *s)
{
    char *url = harness_url(s, "/healthz");
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, slow_write);
    slow_upload_t sink = {0};
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    free(url);
    return rc != CURLE_OK || status == 503;
}

/* One request on a handle the caller keeps, so that its connection stays
 * open between calls.  Returns the curl result; *connects is how many new
 * connections the transfer had to open (0: it reused the kept one). */
static CURLcode keepalive_request(CURL *c, harness_server_t *s, const harness_request_t *req, slow_upload_t *out,
                                  long *connects)
{
    memset(out, 0, sizeof(*out));
    struct curl_slist *h = harness_request_headers(s, req, NULL);
    char *url = harness_url(s, req->path);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, slow_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, out);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, slow_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, connects);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(h);
    free(url);
    return rc;
}

/* Adds n getUploadToken POSTs whose bodies wait for u[i].released. */
static void add_slow_uploads(harness_server_t *s, CURLM *multi, slow_upload_t *u, char (*bodies)[64], int n)
{
    memset(u, 0, sizeof(*u) * (size_t)n);
    static const char *const expect[] = {"Expect: 100-continue", NULL};
    for (int i = 0; i < n; i++) {
        snprintf(bodies[i], 64, "originFileName=in-flight-%d.mp4", i);
        harness_request_t req = {.path = HARNESS_PATH_TOKEN, .body = bodies[i], .content_type = HARNESS_FORM,
                                 .extra_headers = expect};
        u[i].body = bodies[i];
        u[i].len = strlen(bodies[i]);
        u[i].headers = harness_request_headers(s, &req, NULL);
        assert_non_null(u[i].headers);
        char *url = harness_url(s, HARNESS_PATH_TOKEN);
        CURL *e = u[i].easy = curl_easy_init();
        curl_easy_setopt(e, CURLOPT_URL, url);
        free(url); /* curl copies it */
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
        curl_easy_setopt(e, CURLOPT_EXPECT_100_TIMEOUT_MS, 60000L);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)u[i].len);
        curl_easy_setopt(e, CURLOPT_READFUNCTION, slow_read);
        curl_easy_setopt(e, CURLOPT_READDATA, &u[i]);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, u[i].headers);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, slow_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, &u[i]);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, slow_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, &u[i]);
        curl_multi_add_handle(multi, e);
    }
}

static void free_slow_uploads(CURLM *multi, slow_upload_t *u, int n)
{
    for (int i = 0; i < n; i++) {
        curl_multi_remove_handle(multi, u[i].easy);
        curl_easy_cleanup(u[i].easy);
        curl_slist_free_all(u[i].headers);
    }
    curl_multi_cleanup(multi);
}

static void test_sigterm_finishes_in_flight_requests(void **state)
{
    (void)state;
    harness_server_t *s = harness_server_start(NULL);
    assert_non_null(s);
    CURLM *multi = curl_multi_init();
    assert_non_null(multi);
    slow_upload_t u[IN_FLIGHT];
    char bodies[IN_FLIGHT][64];
    add_slow_uploads(s, multi, u, bodies, IN_FLIGHT);
    /* Two idle keep-alive connections, opened before the signal. */
    harness_request_t list_req = {.path = HARNESS_PATH_LIST};
    harness_request_t health_req = {.path = "/healthz", .omit = HARNESS_OMIT_ALL_AUTH};
    CURL *ka_api = curl_easy_init(), *ka_health = curl_easy_init();
    slow_upload_t ka;
    long connects = -1;
    assert_int_equal(keepalive_request(ka_api, s, &list_req, &ka, &connects), CURLE_OK);
    assert_int_equal(ka.status, 200);
    assert_int_equal(keepalive_request(ka_health, s, &health_req, &ka, &connects), CURLE_OK);
    assert_int_equal(ka.status, 200);

    /* "100 Continue" means the server has the request and waits for its body. */
    assert_true(drive(multi, u, IN_FLIGHT, all_continued, 20000));
    for (int i = 0; i < IN_FLIGHT; i++) {
        assert_false(u[i].done);
        assert_true(u[i].got_continue);
    }

    assert_true(harness_server_signal(s, SIGTERM));
    int64_t deadline = harness_now_ms() + 20000;
    bool draining = false;
    while (!draining && harness_now_ms() < deadline)
        draining = server_draining(s);
    assert_true(draining);

    /* While draining, a new request on an open connection gets 503 and the
     * connection is closed. */
    assert_int_equal(keepalive_request(ka_api, s, &list_req, &ka, &connects), CURLE_OK);
    print_message("  API call while draining: HTTP %ld, Connection:%s, new connections %ld\n", ka.status,
                  ka.connection, connects);
    assert_int_equal(connects, 0);
    assert_int_equal(ka.status, 503);
    assert_non_null(strstr(ka.connection, "close"));
    json_t *err = json_loads(ka.response, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(err, "code")), 503);
    assert_non_null(harness_json_str(err, "requestId"));
    json_decref(err);
    assert_int_equal(keepalive_request(ka_health, s, &health_req, &ka, &connects), CURLE_OK);
    assert_int_equal(connects, 0);
    assert_int_equal(ka.status, 503);
    assert_non_null(strstr(ka.response, "\"draining\""));
    curl_easy_cleanup(ka_api);
    curl_easy_cleanup(ka_health);

    for (int i = 0; i < IN_FLIGHT; i++) {
        u[i].released = true;
        curl_easy_pause(u[i].easy, CURLPAUSE_CONT);
    }
    bool finished = drive(multi, u, IN_FLIGHT, all_done, 30000);
    int status = harness_server_wait(s, HARNESS_STOP_TIMEOUT_MS);
    print_message("  server exit status %d\n", status);
    for (int i = 0; i < IN_FLIGHT; i++)
        print_message("  request %d: curl %d, HTTP %ld, Connection:%s\n", i, u[i].result, u[i].status,
                      u[i].connection);
    assert_true(finished);
    for (int i = 0; i < IN_FLIGHT; i++) {
        assert_int_equal(u[i].result, CURLE_OK);
        assert_int_equal(u[i].status, 200);
        /* Answered while draining: the connection is not kept. */
        assert_non_null(strstr(u[i].connection, "close"));
        json_t *j = json_loads(u[i].response, 0, NULL);
        assert_non_null(j);
        assert_int_equal(json_integer_value(json_object_get(j, "code")), 200);
        json_decref(j);
    }
    free_slow_uploads(multi, u, IN_FLIGHT);
    assert_int_equal(status, 0);
    assert_int_equal(harness_server_stop(s), 0);
}

/* A request that never finishes does not keep the server from stopping:
 * after --shutdown-timeout it exits 0 anyway. */
static void test_sigterm_gives_up_after_shutdown_timeout(void **state)
{
    (void)state;
    static const char *const flags[] = {"--shutdown-timeout", "1", NULL};
    harness_server_t *s = harness_server_start(flags);
    assert_non_null(s);
    CURLM *multi = curl_multi_init();
    slow_upload_t u[2];
    char bodies[2][64];
    add_slow_uploads(s, multi, u, bodies, 2);
    assert_true(drive(multi, u, 2, all_continued, 20000));
    int64_t t0 = harness_now_ms();
    assert_true(harness_server_signal(s, SIGTERM));
    int status = harness_server_wait(s, 20000);
    int64_t took = harness_now_ms() - t0;
    /* The clients find their connections closed once they send the rest. */
    for (int i = 0; i < 2; i++) {
        u[i].released = true;
        curl_easy_pause(u[i].easy, CURLPAUSE_CONT);
    }
    bool ended = drive(multi, u, 2, all_done, 20000);
    print_message("  exit status %d after %lld ms; transfers ended %d: curl %d/%d, HTTP %ld/%ld\n", status,
                  (long long)took, ended, u[0].result, u[1].result, u[0].status, u[1].status);
    free_slow_uploads(multi, u, 2);
    assert_int_equal(status, 0);
    assert_true(ended);
    assert_int_not_equal(u[0].result, CURLE_OK);
    assert_int_not_equal(u[1].result, CURLE_OK);
    /* It waited the full second (http_server_drain counts whole seconds of
     * the monotonic clock, so it may give up up to a second early). */
    assert_in_range(took, 1000, 15000);
    char *log = harness_server_log(s);
    assert_non_null(strstr(log, "still in flight"));
    free(log);
    assert_int_equal(harness_server_stop(s), 0);
}

/*
 * SIGTERM while new connections keep arriving: the server must still exit
 * 0.  Clients that lose the race get a 503 or a refused connection; that is
 * fine.  (This is where libmicrohttpd's quiesce of an epoll thread pool can
 * abort the process; see the report of this test.)
 */
#define LOAD_THREADS 4
#define LOAD_ROUNDS 5

typedef struct loader {
    pthread_t thread;
    harness_server_t *server;
    atomic_bool *stop;
    atomic_int done;
} loader_t;

static size_t discard(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    (void)arg;
    return size * nmemb;
}

/* Alternates getUploadToken (which suspends and resumes its connection
 * around the store's commit) and /healthz, each on a new connection. */
static void *loader_run(void *arg)
{
    loader_t *l = arg;
    char *url = harness_url(l->server, "/healthz");
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    while (!atomic_load(l->stop)) {
        harness_response_t r;
        harness_request_t req = {.path = HARNESS_PATH_TOKEN, .body = "originFileName=load.mp4",
                                 .content_type = HARNESS_FORM, .quiet = true};
        bool sent = harness_request(l->server, &req, &r);
        bool refused = r.curl_code == CURLE_COULDNT_CONNECT;
        harness_response_free(&r);
        if (refused || curl_easy_perform(c) == CURLE_COULDNT_CONNECT)
            break; /* the listener is gone */
        if (sent)
            atomic_fetch_add(&l->done, 1);
    }
    curl_easy_cleanup(c);
    free(url);
    return NULL;
}

static void test_sigterm_under_load_exits_zero(void **state)
{
    (void)state;
    for (int round = 0; round < LOAD_ROUNDS; round++) {
        harness_server_t *s = harness_server_start(NULL);
        assert_non_null(s);
        atomic_bool stop = false;
        loader_t l[LOAD_THREADS];
        for (int t = 0; t < LOAD_THREADS; t++) {
            l[t].server = s;
            l[t].stop = &stop;
            atomic_init(&l[t].done, 0);
            assert_int_equal(pthread_create(&l[t].thread, NULL, loader_run, &l[t]), 0);
        }
        /* Signal once every loader is busy. */
        int64_t deadline = harness_now_ms() + 20000;
        bool busy = false;
        while (!busy && harness_now_ms() < deadline) {
            busy = true;
            for (int t = 0; t < LOAD_THREADS; t++)
                busy = busy && atomic_load(&l[t].done) >= 10;
            if (!busy)
                sched_yield();
        }
        assert_true(harness_server_signal(s, SIGTERM));
        int status = harness_server_wait(s, HARNESS_STOP_TIMEOUT_MS);
        atomic_store(&stop, true);
        for (int t = 0; t < LOAD_THREADS; t++)
            pthread_join(l[t].thread, NULL);
        print_message("  round %d: exit status %d\n", round, status);
        assert_true(busy);
        assert_int_equal(status, 0);
        assert_int_equal(harness_server_stop(s), 0);
    }
}

/* SIGTERM right after a request completed, many times over. */
#define QUICK_ROUNDS 20

static void test_sigterm_right_after_request_exits_zero(void **state)
{
    (void)state;
    int failures = 0;
    for (int round = 0; round < QUICK_ROUNDS; round++) {
        harness_server_t *s = harness_server_start(NULL);
        assert_non_null(s);
        harness_response_t r;
        assert_true(harness_upload_token(s, NULL, "originFileName=quick.mp4", &r));
        assert_api_ok(&r);
        harness_response_free(&r);
        int status = harness_server_stop(s);
        if (status != 0) {
            print_message("  round %d: exit status %d\n", round, status);
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* ---- main ------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = harness_server_stop(srv) == 0 ? 0 : -1;
    srv = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_start_prints_a_working_key),
        cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_configured_options),
        cmocka_unit_test(test_access_log),
        cmocka_unit_test(test_data_file_modes),
        cmocka_unit_test(test_concurrent_upload_tokens),
        cmocka_unit_test(test_concurrent_same_file_id),
        cmocka_unit_test(test_restart_keeps_key_and_videos),
        cmocka_unit_test(test_sigterm_finishes_in_flight_requests),
        cmocka_unit_test(test_sigterm_gives_up_after_shutdown_timeout),
        cmocka_unit_test(test_sigterm_under_load_exits_zero),
        cmocka_unit_test(test_sigterm_right_after_request_exits_zero),
    };
    return cmocka_run_group_tests_name("integration.test_server_ops", tests, group_setup, group_teardown);
}
