/*
 * test_event_http: one webhook delivery attempt (src/events/event_http.c)
 * against a real receiver, the test tool hookrecv (tests/tools/hookrecv.c),
 * told to answer well or badly.
 *
 * The contract under test: 2xx is DELIVERED and the receiver can verify the
 * signature; any other status is HTTP_ERROR with that status; a receiver
 * slower than the total timeout is TIMEOUT within the timeout plus a
 * second; a redirect is not followed; a closed port is CONNECT_FAILED; a
 * receiver that streams a huge body does not hold the caller (only 4 KiB is
 * kept); garbage is OTHER; the proxy environment is ignored; nothing goes
 * out when the request itself is refused.  The tests also check hookrecv
 * itself (the status sequence, concurrent delays) since other tests will
 * count requests from its log.
 *
 * hookrecv runs in a temporary directory per test and is stopped by its PID
 * (SIGTERM, then SIGKILL after a timeout), never by name.  The vodup server
 * is not involved.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "events/event_http.h"
#include "events/event_sign.h"
#include "harness.h"

#ifndef VODUP_TOOL_HOOKRECV
#error "VODUP_TOOL_HOOKRECV (the path of tests/tools/hookrecv) is set by CMakeLists.txt"
#endif

#define HOOK_START_MS 10000
#define HOOK_STOP_MS 10000
#define SECRET "whsec_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define BODY "{\"eventId\":\"evt_1\",\"eventType\":\"ProcessingComplete\",\"data\":{}}"

typedef struct hook {
    pid_t pid; /* 0 when not running */
    int port;
    char dir[64];
    char log_path[128];
    char out_path[128]; /* its stdout and stderr */
    char url[96];       /* http://127.0.0.1:PORT/hook */
} hook_t;

static const event_http_limits_t LIMITS = {.connect_timeout_ms = 2000, .total_timeout_ms = 5000};

/* ---- hookrecv ------------------------------------------------------------------- */

/* Forks hookrecv --log DIR/hook.log args... with its output in DIR/hook.out. */
static bool hook_spawn(hook_t *h, const char *const *args)
{
    const char *argv[32];
    int argc = 0;
    argv[argc++] = VODUP_TOOL_HOOKRECV;
    argv[argc++] = "--log";
    argv[argc++] = h->log_path;
    for (size_t i = 0; args && args[i] && argc < 30; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    int out = open(h->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (out < 0)
        return false;
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* async-signal-safe calls only */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(out);
    h->pid = pid > 0 ? pid : 0;
    return pid > 0;
}

/* Starts hookrecv and waits for "port=N" on its first line. */
static bool hook_start(hook_t *h, const char *const *args)
{
    if (!hook_spawn(h, args))
        return false;
    int64_t deadline = harness_mono_ms() + HOOK_START_MS;
    while (harness_mono_ms() < deadline && h->port == 0) {
        char *text = harness_read_file(h->out_path);
        if (text && strncmp(text, "port=", 5) == 0 && strchr(text, '\n'))
            h->port = atoi(text + 5);
        free(text);
        if (h->port == 0 && waitpid(h->pid, NULL, WNOHANG) == h->pid)
            h->pid = 0;
        if (h->port == 0 && h->pid == 0)
            break;
        harness_sleep_ms(5);
    }
    snprintf(h->url, sizeof(h->url), "http://127.0.0.1:%d/hook", h->port);
    return h->port > 0;
}

/* SIGTERM by PID; SIGKILL after HOOK_STOP_MS.  The exit status, -1 when killed. */
static int hook_stop(hook_t *h)
{
    if (h->pid == 0)
        return 0;
    int st = 0;
    kill(h->pid, SIGTERM);
    int64_t deadline = harness_mono_ms() + HOOK_STOP_MS;
    while (waitpid(h->pid, &st, WNOHANG) == 0) {
        if (harness_mono_ms() > deadline) {
            kill(h->pid, SIGKILL);
            waitpid(h->pid, &st, 0);
            h->pid = 0;
            return -1;
        }
        harness_sleep_ms(5);
    }
    h->pid = 0;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The log's lines, parsed; a JSON array the caller decrefs.  Fails the test
 * on a line that is not JSON. */
static json_t *hook_lines(const hook_t *h)
{
    json_t *lines = json_array();
    char *text = harness_read_file(h->log_path);
    char *save = NULL;
    for (char *l = text ? strtok_r(text, "\n", &save) : NULL; l; l = strtok_r(NULL, "\n", &save)) {
        json_t *j = json_loads(l, 0, NULL);
        if (!j)
            fail_msg("hookrecv log line is not JSON: %s", l);
        json_array_append_new(lines, j);
    }
    free(text);
    return lines;
}

static const char *line_str(const json_t *lines, size_t i, const char *key)
{
    return json_string_value(json_object_get(json_array_get(lines, i), key));
}

static const char *line_header(const json_t *lines, size_t i, const char *name)
{
    json_t *headers = json_object_get(json_array_get(lines, i), "headers");
    return json_string_value(json_object_get(headers, name));
}

static size_t line_count(const hook_t *h)
{
    json_t *lines = hook_lines(h);
    size_t n = json_array_size(lines);
    json_decref(lines);
    return n;
}

/* ---- fixture -------------------------------------------------------------------- */

static int setup(void **state)
{
    hook_t *h = calloc(1, sizeof(*h));
    if (!h)
        return -1;
    snprintf(h->dir, sizeof(h->dir), "/tmp/vodup-hook-XXXXXX");
    if (!mkdtemp(h->dir)) {
        free(h);
        return -1;
    }
    snprintf(h->log_path, sizeof(h->log_path), "%s/hook.log", h->dir);
    snprintf(h->out_path, sizeof(h->out_path), "%s/hook.out", h->dir);
    *state = h;
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static int teardown(void **state)
{
    hook_t *h = *state;
    int rc = hook_stop(h);
    if (rc != 0) {
        char *out = harness_read_file(h->out_path);
        fprintf(stderr, "hookrecv exited %d; its output:\n%s\n", rc, out ? out : "");
        free(out);
    }
    nftw(h->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(h);
    return rc == 0 ? 0 : -1;
}

static hook_t *started(void **state, const char *const *args)
{
    hook_t *h = *state;
    if (!hook_start(h, args)) {
        char *out = harness_read_file(h->out_path);
        fail_msg("hookrecv did not start; its output:\n%s", out ? out : "");
    }
    return h;
}

static bool deliver(const char *url, const char *secret, event_http_result_t *r, event_http_response_t *resp,
                    const event_http_limits_t *limits)
{
    return event_http_deliver(url, secret, "evt_1", (int64_t)time(NULL), BODY, strlen(BODY), limits, r, resp);
}

/* ---- tests ---------------------------------------------------------------------- */

/* 200: delivered, with every header of the contract, and the receiver's own
 * check of the signature passes. */
static void test_delivered_and_verified(void **state)
{
    static const char *const args[] = {"--secret", SECRET, NULL};
    hook_t *h = started(state, args);
    event_http_result_t r;
    event_http_response_t resp;
    assert_true(deliver(h->url, SECRET, &r, &resp, &LIMITS));
    assert_int_equal(r.outcome, EVENT_HTTP_DELIVERED);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.error, "");
    assert_true(r.elapsed_ms >= 0 && r.elapsed_ms < LIMITS.total_timeout_ms);
    assert_string_equal(resp.data, "hookrecv: 200\n");
    assert_false(resp.truncated);

    json_t *lines = hook_lines(h);
    assert_int_equal(json_array_size(lines), 1);
    assert_string_equal(line_str(lines, 0, "method"), "POST");
    assert_string_equal(line_str(lines, 0, "path"), "/hook");
    assert_string_equal(line_str(lines, 0, "body"), BODY);
    assert_string_equal(line_header(lines, 0, "content-type"), "application/json");
    assert_string_equal(line_header(lines, 0, "user-agent"), "vodup-webhook/1");
    assert_string_equal(line_header(lines, 0, "x-vodup-event-id"), "evt_1");
    assert_null(line_header(lines, 0, "expect"));
    assert_true(json_is_true(json_object_get(json_array_get(lines, 0), "sig_ok")));
    json_decref(lines);
}

/* The receiver's check is real: a delivery signed with another secret is
 * still answered 200 by hookrecv, but logged with sig_ok false. */
static void test_wrong_secret_is_detected(void **state)
{
    static const char *const args[] = {"--secret", SECRET, NULL};
    hook_t *h = started(state, args);
    event_http_result_t r;
    assert_true(deliver(h->url, SECRET "0", &r, NULL, &LIMITS));
    json_t *lines = hook_lines(h);
    assert_int_equal(json_array_size(lines), 1);
    assert_true(json_is_false(json_object_get(json_array_get(lines, 0), "sig_ok")));
    assert_string_equal(line_str(lines, 0, "sig_why"), "mismatch");
    json_decref(lines);
}

static void test_500_is_http_error(void **state)
{
    static const char *const args[] = {"--status", "500", NULL};
    hook_t *h = started(state, args);
    event_http_result_t r;
    assert_false(deliver(h->url, SECRET, &r, NULL, &LIMITS));
    assert_int_equal(r.outcome, EVENT_HTTP_HTTP_ERROR);
    assert_int_equal(r.status, 500);
    assert_string_equal(r.error, "HTTP 500");
    assert_string_equal(event_http_outcome_name(r.outcome), "http_error");
}

/* --statuses: each request the next status, the last one repeating; any
 * 2xx (204 here) is delivered. */
static void test_status_sequence(void **state)
{
    static const char *const args[] = {"--statuses", "500,503,204", NULL};
    static const struct {
        enum event_http_outcome outcome;
        long status;
    } want[] = {{EVENT_HTTP_HTTP_ERROR, 500}, {EVENT_HTTP_HTTP_ERROR, 503}, {EVENT_HTTP_DELIVERED, 204},
                {EVENT_HTTP_DELIVERED, 204}};
    hook_t *h = started(state, args);
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        event_http_result_t r;
        deliver(h->url, SECRET, &r, NULL, &LIMITS);
        assert_int_equal(r.outcome, want[i].outcome);
        assert_int_equal(r.status, want[i].status);
    }
    json_t *lines = hook_lines(h);
    assert_int_equal(json_array_size(lines), 4); /* four copies of one event: the duplicates a receiver sees */
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(json_integer_value(json_object_get(json_array_get(lines, i), "seq")), (json_int_t)i + 1);
        assert_string_equal(line_header(lines, i, "x-vodup-event-id"), "evt_1");
    }
    json_decref(lines);
}

/* A receiver slower than the total timeout: TIMEOUT, within the timeout
 * plus a second, and the request did arrive. */
static void test_slow_receiver_times_out(void **state)
{
    static const char *const args[] = {"--delay-ms", "8000", NULL};
    const event_http_limits_t limits = {.connect_timeout_ms = 1000, .total_timeout_ms = 1000};
    hook_t *h = started(state, args);
    event_http_result_t r;
    assert_false(deliver(h->url, SECRET, &r, NULL, &limits));
    assert_int_equal(r.outcome, EVENT_HTTP_TIMEOUT);
    assert_int_equal(r.status, 0);
    assert_true(r.elapsed_ms >= 900 && r.elapsed_ms <= 2000);
    assert_non_null(strstr(r.error, "1000 ms"));
    assert_int_equal(line_count(h), 1);
}

/* A 302 is a failed attempt and is not followed: the Location names the
 * same receiver, so a follow-up would show in its log as a second request. */
static void test_redirect_not_followed(void **state)
{
    static const char *const args[] = {"--redirect", "/elsewhere", NULL};
    hook_t *h = started(state, args);
    event_http_result_t r;
    assert_false(deliver(h->url, SECRET, &r, NULL, &LIMITS));
    assert_int_equal(r.outcome, EVENT_HTTP_HTTP_ERROR);
    assert_int_equal(r.status, 302);
    harness_sleep_ms(300);
    json_t *lines = hook_lines(h);
    assert_int_equal(json_array_size(lines), 1);
    assert_string_equal(line_str(lines, 0, "path"), "/hook");
    json_decref(lines);
}

/* A port where nothing listens: bound (so no one else takes it) but never
 * listening, so the kernel refuses connections to it. */
static void test_refused_port_is_connect_failed(void **state)
{
    (void)state;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sin);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
    char url[64];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/hook", ntohs(sin.sin_port));
    event_http_result_t r;
    bool ok = deliver(url, SECRET, &r, NULL, &LIMITS);
    close(fd);
    assert_false(ok);
    assert_int_equal(r.outcome, EVENT_HTTP_CONNECT_FAILED);
    assert_int_equal(r.status, 0);
    assert_true(r.elapsed_ms < 1000);
    assert_true(r.error[0] != '\0');
}

/* 20 GB of answer: only 4 KiB is kept and the transfer stops there, so the
 * attempt is delivered at once instead of running into the timeout. */
static void test_huge_response_is_capped(void **state)
{
    static const char *const args[] = {"--response-bytes", "20000000000", NULL};
    hook_t *h = started(state, args);
    event_http_result_t r;
    event_http_response_t resp;
    assert_true(deliver(h->url, SECRET, &r, &resp, &LIMITS));
    assert_int_equal(r.status, 200);
    assert_int_equal(resp.len, EVENT_HTTP_RESPONSE_MAX);
    assert_true(resp.truncated);
    assert_int_equal(resp.data[0], 'x');
    assert_int_equal(resp.data[EVENT_HTTP_RESPONSE_MAX - 1], 'x');
    assert_int_equal(resp.data[EVENT_HTTP_RESPONSE_MAX], '\0');
    assert_true(r.elapsed_ms < 2000);
    /* Without a response buffer nothing is kept, and it still ends at once. */
    assert_true(deliver(h->url, SECRET, &r, NULL, &LIMITS));
    assert_true(r.elapsed_ms < 2000);
}

/* A body over 1 MiB goes out without "Expect: 100-continue" (libcurl would
 * otherwise add it and wait for the receiver's go-ahead); hookrecv logs the
 * first 1 MiB and says the rest was cut. */
static void test_large_body_without_expect(void **state)
{
    hook_t *h = started(state, NULL);
    size_t len = (size_t)2 * 1024 * 1024;
    char *body = malloc(len);
    assert_non_null(body);
    memset(body, 'b', len);
    static const char *const headers[] = {"Content-Type: application/octet-stream", NULL};
    event_http_result_t r;
    bool ok = event_http_post(h->url, headers, body, len, &LIMITS, &r, NULL);
    free(body);
    assert_true(ok);
    json_t *lines = hook_lines(h);
    json_t *line = json_array_get(lines, 0);
    assert_null(line_header(lines, 0, "expect"));
    assert_string_equal(line_header(lines, 0, "content-type"), "application/octet-stream");
    assert_int_equal(json_integer_value(json_object_get(line, "body_len")), (json_int_t)len);
    assert_true(json_is_true(json_object_get(line, "body_truncated")));
    assert_int_equal(strlen(line_str(lines, 0, "body")), (size_t)1024 * 1024);
    json_decref(lines);
}

/* Bytes that are not HTTP, then a close: OTHER, no status. */
static void test_garbage_is_other(void **state)
{
    static const char *const args[] = {"--garbage", NULL};
    hook_t *h = started(state, args);
    event_http_result_t r;
    assert_false(deliver(h->url, SECRET, &r, NULL, &LIMITS));
    assert_int_equal(r.outcome, EVENT_HTTP_OTHER);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.error, "HTTP/0.9")); /* libcurl's words: it was refused, not read as an answer */
    assert_int_equal(line_count(h), 1);
}

static void set_proxy_env(const char *value)
{
    static const char *const names[] = {"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
                                        "all_proxy",  "ALL_PROXY"};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (value)
            setenv(names[i], value, 1);
        else
            unsetenv(names[i]);
    }
}

/* The proxy variables of the environment are ignored; limits.proxy is not. */
static void test_proxy_environment_ignored(void **state)
{
    hook_t *h = started(state, NULL);
    set_proxy_env("http://127.0.0.1:9"); /* the discard port: nothing listens there */
    event_http_result_t r;
    bool ok = deliver(h->url, SECRET, &r, NULL, &LIMITS);
    set_proxy_env(NULL);
    assert_true(ok);
    json_t *lines = hook_lines(h);
    assert_string_equal(line_str(lines, 0, "path"), "/hook"); /* direct: a proxied request would not arrive */
    json_decref(lines);
    event_http_limits_t limits = LIMITS;
    limits.proxy = "http://127.0.0.1:9";
    assert_false(deliver(h->url, SECRET, &r, NULL, &limits));
    assert_int_equal(r.outcome, EVENT_HTTP_CONNECT_FAILED);
    assert_int_equal(line_count(h), 1);
}

/* Requests refused before anything is sent: the receiver sees none. */
static void test_refused_requests_send_nothing(void **state)
{
    hook_t *h = started(state, NULL);
    event_http_result_t r;
    char url[128];
    assert_false(event_http_deliver(h->url, SECRET, "evt\r\nX-Injected: 1", 1, BODY, strlen(BODY), &LIMITS, &r,
                                    NULL));
    assert_int_equal(r.outcome, EVENT_HTTP_OTHER);
    assert_false(event_http_deliver(h->url, "", "evt_1", 1, BODY, strlen(BODY), &LIMITS, &r, NULL));
    assert_int_equal(r.outcome, EVENT_HTTP_OTHER);
    const event_http_limits_t no_timeout = {.connect_timeout_ms = 1000, .total_timeout_ms = 0};
    assert_false(deliver(h->url, SECRET, &r, NULL, &no_timeout)); /* 0 would mean "none" to libcurl */
    assert_int_equal(r.outcome, EVENT_HTTP_OTHER);
    static const char *const bad_header[] = {"X-A: 1\nX-B: 2", NULL};
    assert_false(event_http_post(h->url, bad_header, "x", 1, &LIMITS, &r, NULL));
    assert_int_equal(r.outcome, EVENT_HTTP_OTHER);
    snprintf(url, sizeof(url), "ftp://127.0.0.1:%d/hook", h->port);
    assert_false(deliver(url, SECRET, &r, NULL, &LIMITS));
    assert_int_equal(r.outcome, EVENT_HTTP_OTHER);
    assert_false(deliver("file:///etc/hostname", SECRET, &r, NULL, &LIMITS));
    assert_int_equal(r.outcome, EVENT_HTTP_OTHER);
    assert_int_equal(line_count(h), 0);
}

/* ---- concurrency: event_http from several threads, hookrecv's delays in parallel ---- */

typedef struct parallel_call {
    const hook_t *h;
    event_http_result_t r;
} parallel_call_t;

static void *parallel_deliver(void *arg)
{
    parallel_call_t *c = arg;
    deliver(c->h->url, SECRET, &c->r, NULL, &LIMITS);
    return NULL;
}

/* Four deliveries at once to a receiver that waits 1.5 s per answer: all
 * delivered in about 1.5 s, not 6 (its delays do not queue up, and
 * event_http keeps no state shared between threads). */
static void test_parallel_delays(void **state)
{
    static const char *const args[] = {"--delay-ms", "1500", NULL};
    hook_t *h = started(state, args);
    parallel_call_t calls[4];
    pthread_t threads[4];
    int64_t start = harness_mono_ms();
    for (int i = 0; i < 4; i++) {
        calls[i] = (parallel_call_t){.h = h};
        assert_int_equal(pthread_create(&threads[i], NULL, parallel_deliver, &calls[i]), 0);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(threads[i], NULL);
    int64_t elapsed = harness_mono_ms() - start;
    for (int i = 0; i < 4; i++)
        assert_int_equal(calls[i].r.outcome, EVENT_HTTP_DELIVERED);
    assert_true(elapsed >= 1400 && elapsed < 3000);
    assert_int_equal(line_count(h), 4);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_delivered_and_verified, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_secret_is_detected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_500_is_http_error, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_receiver_times_out, setup, teardown),
        cmocka_unit_test_setup_teardown(test_redirect_not_followed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_port_is_connect_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_response_is_capped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_body_without_expect, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_is_other, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proxy_environment_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_requests_send_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parallel_delays, setup, teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
