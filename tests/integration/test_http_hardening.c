/*
 * test_http_hardening: requests whose framing or headers are ambiguous
 * (security review, issue 10, findings 6, 10 and 11), against a real
 * `vodup serve`.  Each must be answered 400 with Connection: close and the
 * connection closed, in the API's error format on API paths and in the
 * upload endpoint's on upload and playback paths, and keep its access log
 * line:
 *   - Content-Length with Transfer-Encoding, two Content-Length headers,
 *     "Transfer-Encoding :" (a space before the colon), a coding other than
 *     chunked, HTTP/1.1 without Host (sent over raw sockets, since curl
 *     will not send them);
 *   - "%00" in an API path (signed as if it were not there) and after a
 *     playback fileKey ("/<fileKey>%00.jpg", which served the object);
 *   - a second Host, Authorization, Content-Type, X-WS-AccessKey,
 *     X-WS-Timestamp, Key or Origin, which was ignored, the first winning.
 * Requests that merely look alike (HTTP/1.0 without Host, repeatable
 * headers twice, "%2500") are still answered as before.
 */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#define RAW_WAIT_MS 5000
#define RAW_REPLY_MAX 16384

static harness_server_t *srv;

/* ---- raw requests ----------------------------------------------------------- */

typedef struct raw_reply {
    char text[RAW_REPLY_MAX + 1];
    size_t len;
    bool closed;       /* the server closed the connection within RAW_WAIT_MS */
    long status;       /* of the first answer, 0 when none */
    int answers;       /* status lines seen: 2 means a smuggled second request was answered */
    json_t *json;      /* the first answer's body */
    char request_id[64];
} raw_reply_t;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int raw_connect(const harness_server_t *s)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Reads until the server closes or RAW_WAIT_MS pass (a kept-alive
 * connection after a complete answer ends the wait early). */
static void raw_read(int fd, raw_reply_t *r)
{
    int64_t deadline = mono_ms() + RAW_WAIT_MS;
    while (r->len < RAW_REPLY_MAX) {
        int left = (int)(deadline - mono_ms());
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&p, 1, left) <= 0)
            return;
        ssize_t n = recv(fd, r->text + r->len, RAW_REPLY_MAX - r->len, 0);
        if (n <= 0) {
            r->closed = true;
            return;
        }
        r->len += (size_t)n;
        r->text[r->len] = '\0';
        if (strstr(r->text, "{\"status\":\"ok\"}") && !strstr(r->text, "Connection: close"))
            deadline = mono_ms() + 300; /* a keep-alive answer: only wait for a second one */
    }
}

static void raw_parse(raw_reply_t *r)
{
    for (const char *p = r->text; (p = strstr(p, "HTTP/1.")) != NULL; p++)
        if (p == r->text || p[-1] == '\n' || p[-1] == '}')
            r->answers++;
    sscanf(r->text, "HTTP/1.%*d %ld", &r->status);
    const char *id = strcasestr(r->text, "\r\nX-Request-Id: ");
    if (id)
        sscanf(id + 16, "%63[0-9a-f]", r->request_id);
    const char *body = strstr(r->text, "\r\n\r\n");
    if (body) {
        json_error_t e;
        r->json = json_loads(body + 4, JSON_DISABLE_EOF_CHECK, &e);
    }
}

/* Sends `request` byte for byte on a new connection and reads the answer. */
static void raw_exchange(const char *request, raw_reply_t *r)
{
    memset(r, 0, sizeof(*r));
    int fd = raw_connect(srv);
    size_t len = strlen(request);
    assert_int_equal(send(fd, request, len, MSG_NOSIGNAL), (ssize_t)len);
    raw_read(fd, r);
    close(fd);
    raw_parse(r);
}

static void raw_reply_free(raw_reply_t *r)
{
    json_decref(r->json);
    r->json = NULL;
}

/* ---- what a refusal looks like -------------------------------------------- */

/* The server log has the access line of this request, with status 400. */
static void assert_logged_400(const char *request_id)
{
    char *needle = harness_strf("\"requestId\":\"%s\",", request_id);
    assert_true(harness_server_log_wait(srv, needle, 5000));
    char *log = harness_server_log(srv);
    const char *line = strstr(log, needle);
    assert_non_null(line);
    size_t n = strcspn(line, "\n");
    char *one = harness_strf("%.*s", (int)n, line);
    if (!strstr(one, "\"status\":400")) {
        print_error("access line without status 400: %s\n", one);
        fail();
    }
    free(one);
    free(log);
    free(needle);
}

/* 400, one answer only, Connection: close, the connection closed, the
 * reason naming `why`, the error format of the path, and an access line.
 * False (reported) when the answer is not that 400, so that a table goes on
 * and reports every case. */
static bool raw_refused(const char *what, raw_reply_t *r, const char *why, bool upload_format)
{
    const char *msg = r->json ? json_string_value(json_object_get(r->json, "message")) : NULL;
    print_message("  %-44s -> %ld %s\n", what, r->status, msg ? msg : "(no message)");
    if (r->status != 400 || r->answers != 1 || !r->closed || !strcasestr(r->text, "\r\nConnection: close\r\n") ||
        !msg || !strstr(msg, why)) {
        print_error("%s: expected one 400 naming '%s', Connection: close and the connection closed; got "
                    "%d answer(s), %s:\n%s\n",
                    what, why, r->answers, r->closed ? "closed" : "left open", r->text);
        return false;
    }
    json_t *code = json_object_get(r->json, "code");
    assert_true(json_is_integer(code) && json_integer_value(code) == 400);
    assert_true(harness_is_lower_hex(r->request_id, 24));
    assert_string_equal(json_string_value(json_object_get(r->json, "requestId")), r->request_id);
    assert_int_equal(json_object_get(r->json, "error") != NULL, upload_format);
    if (upload_format)
        assert_non_null(strcasestr(r->text, "\r\nX-Reqid: "));
    assert_logged_400(r->request_id);
    return true;
}

/* ---- finding 6: ambiguous framing; finding 11 over raw sockets -------------- */

typedef struct raw_case {
    const char *what;
    const char *request;
    const char *why;      /* a piece of the reason */
    bool upload_format;
} raw_case_t;

#define SMUGGLED "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

static const raw_case_t raw_cases[] = {
    {"Content-Length and Transfer-Encoding",
     "POST /vod/videoManage/getVideoList HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n"
     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" SMUGGLED,
     "Content-Length and Transfer-Encoding", false},
    {"Transfer-Encoding then Content-Length",
     "POST /mkblk/4 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n0\r\n\r\n" SMUGGLED,
     "Content-Length and Transfer-Encoding", true},
    {"two different Content-Length",
     "POST /vod/videoManage/getVideoList HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 36\r\n\r\n" SMUGGLED,
     "The Content-Length header appears more than once.", false},
    {"two equal Content-Length",
     "POST /file/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab",
     "The Content-Length header appears more than once.", true},
    {"'Transfer-Encoding :' (space before colon)",
     "POST /vod/videoManage/getVideoList HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n"
     "Content-Length: 5\r\n\r\n0\r\n\r\n" SMUGGLED,
     "header name", false},
    {"Transfer-Encoding: gzip, chunked",
     "POST /vod/videoManage/getVideoList HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
     "Transfer-Encoding must be chunked.", false},
    {"Transfer-Encoding on HTTP/1.0",
     "POST /vod/videoManage/getVideoList HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     "Transfer-Encoding needs HTTP/1.1.", false},
    {"HTTP/1.1 without Host (API)", "GET /vod/videoManage/getVideoList HTTP/1.1\r\n\r\n",
     "The Host header is missing.", false},
    {"HTTP/1.1 without Host (healthz)", "GET /healthz HTTP/1.1\r\nAccept: */*\r\n\r\n",
     "The Host header is missing.", false},
    {"HTTP/1.1 without Host (playback)", "GET /video/20200101/x/y.mp4 HTTP/1.1\r\n\r\n",
     "The Host header is missing.", true},
    {"two Host (API)", "GET /vod/videoManage/getVideoList HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
     "The Host header appears more than once.", false},
    {"two Host (upload)", "POST /mkblk/4 HTTP/1.1\r\nHost: a\r\nhost: a\r\nContent-Length: 4\r\n\r\nabcd",
     "The Host header appears more than once.", true},
    {"%00 in an API path, unsigned", "GET /vod/videoManage/getVideoList%00 HTTP/1.1\r\nHost: x\r\n\r\n",
     "%00", false},
    {"space inside the target", "GET /vod/videoManage/getVideoList x HTTP/1.1\r\nHost: x\r\n\r\n",
     "space or a control character", false},
};

static void test_ambiguous_framing_refused(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(raw_cases) / sizeof(raw_cases[0]); i++) {
        raw_reply_t r;
        raw_exchange(raw_cases[i].request, &r);
        failures += !raw_refused(raw_cases[i].what, &r, raw_cases[i].why, raw_cases[i].upload_format);
        raw_reply_free(&r);
    }
    assert_int_equal(failures, 0);
}

/* What only looks like the cases above is answered as before, and keeps
 * its connection. */
static void test_lookalikes_answered(void **state)
{
    (void)state;
    static const char *const fine[] = {
        "GET /healthz HTTP/1.0\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nAccept: a\r\nAccept: b\r\nX-Forwarded-For: 1\r\nX-Forwarded-For: 2\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
        raw_reply_t r;
        raw_exchange(fine[i], &r);
        print_message("  %-44.*s -> %ld\n", (int)strcspn(fine[i], "\r"), fine[i], r.status);
        assert_int_equal(r.status, 200);
        assert_int_equal(r.answers, 1);
        raw_reply_free(&r);
    }
    /* HTTP/1.1 keeps the connection open after a good request. */
    raw_reply_t r;
    raw_exchange("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.status, 200);
    assert_false(r.closed);
    raw_reply_free(&r);
}

/* ---- finding 10: %00 in signed API paths ------------------------------------ */

/* A signed request must be answered 400 with Connection: close; false
 * (reported) when it got another status, so that a table goes on. */
static bool signed_refused(const char *what, const harness_request_t *req, const char *why)
{
    harness_response_t r;
    assert_true(harness_request(srv, req, &r));
    const char *msg = harness_json_str(r.json, "message");
    print_message("  %-44s -> %ld %s\n", what, r.status, msg ? msg : "");
    if (r.status != 400) {
        print_error("%s: expected 400, got %ld\n", what, r.status);
        harness_response_free(&r);
        return false;
    }
    assert_api_error(&r, 400, 400);
    if (!strstr(msg, why)) {
        print_error("%s: expected a message naming '%s'\n", what, why);
        fail();
    }
    assert_string_equal(r.connection, "close");
    assert_logged_400(r.request_id);
    harness_response_free(&r);
    return true;
}

static void test_encoded_nul_in_api_path(void **state)
{
    (void)state;
    harness_response_t ok;
    assert_true(harness_call(srv, NULL, "GET", HARNESS_PATH_LIST, NULL, NULL, &ok));
    assert_api_ok(&ok);
    harness_response_free(&ok);
    /* Signed over what the server decodes, which an old server routed and answered 200. */
    int failures = 0;
    failures += !signed_refused(
        "signed getVideoList%00.json",
        &(harness_request_t){.path = HARNESS_PATH_LIST "%00.json", .signed_path = HARNESS_PATH_LIST}, "%00");
    failures += !signed_refused("signed getVideoList?pageSize=5%00",
                                &(harness_request_t){.path = HARNESS_PATH_LIST "?pageSize=5%00",
                                                     .signed_path = HARNESS_PATH_LIST "?pageSize=5"},
                                "%00");
    assert_int_equal(failures, 0);
    /* "%2500" is a literal "%00" in the decoded path: no NUL, routed as usual (404). */
    harness_response_t r;
    assert_true(harness_call(srv, NULL, "GET", HARNESS_PATH_LIST "%2500", NULL, NULL, &r));
    assert_api_error(&r, 404, 404);
    harness_response_free(&r);
}

/* ---- finding 11: duplicated headers on signed API calls ---------------------- */

static void test_duplicate_headers_api(void **state)
{
    (void)state;
    char timestamp[64];
    snprintf(timestamp, sizeof(timestamp), "X-WS-Timestamp: %lld", (long long)(harness_now_ms() / 1000));
    char access_key[HARNESS_KEY_MAX + 32];
    snprintf(access_key, sizeof(access_key), "X-WS-AccessKey: %s", srv->key.access_key);
    static const char bogus_auth[] = "Authorization: WS3-HMAC-SHA256 Credential=AKX, SignedHeaders=host, "
                                     "Signature=0000000000000000000000000000000000000000000000000000000000000000";
    const struct {
        const char *header;
        const char *name;
        bool post;
    } dups[] = {
        {bogus_auth, "Authorization", false},
        {timestamp, "X-WS-Timestamp", false},
        {access_key, "X-WS-AccessKey", false},
        {"Content-Type: text/plain", "Content-Type", true},
        {"Origin: https://evil.example", "Origin", false},
    };
    int failures = 0;
    for (size_t i = 0; i < sizeof(dups) / sizeof(dups[0]); i++) {
        const char *extra[] = {dups[i].header, NULL};
        harness_request_t req = {.path = HARNESS_PATH_LIST, .extra_headers = extra};
        if (dups[i].post) {
            req.body = "pageSize=5";
            req.content_type = HARNESS_FORM;
        }
        if (!strcmp(dups[i].name, "Origin")) {
            static const char *const two_origins[] = {"Origin: https://a.example", "Origin: https://b.example", NULL};
            req.extra_headers = two_origins;
        }
        char what[64], why[96];
        snprintf(what, sizeof(what), "signed getVideoList, two %s", dups[i].name);
        snprintf(why, sizeof(why), "The %s header appears more than once.", dups[i].name);
        failures += !signed_refused(what, &req, why);
    }
    assert_int_equal(failures, 0);
}

/* ---- findings 10 and 11 on the upload endpoint and playback ------------------- */

/* The upload endpoint's 400 with Connection: close; false (reported) when
 * the answer had another status. */
static bool upload_refused(const char *what, harness_upload_response_t *r, const char *why)
{
    const char *msg = r->json ? json_string_value(json_object_get(r->json, "message")) : NULL;
    print_message("  %-44s -> %ld %s\n", what, r->status, msg ? msg : "");
    if (r->status != 400) {
        print_error("%s: expected 400, got %ld\n", what, r->status);
        return false;
    }
    assert_upload_error(r, 400);
    if (!msg || !strstr(msg, why)) {
        print_error("%s: expected a message naming '%s'\n", what, why);
        fail();
    }
    const char *connection = harness_header(r, "Connection");
    assert_non_null(connection);
    assert_true(harness_list_has(connection, "close"));
    assert_logged_400(harness_header(r, "X-Reqid"));
    return true;
}

/* Uploads a small object; its grant goes to *g. */
static void upload_sample(harness_grant_t *g, const uint8_t *data, size_t len)
{
    assert_true(harness_grant(srv, &(harness_grant_opts_t){.name = "clip.mp4"}, g));
    harness_upload_response_t r;
    assert_true(harness_form_upload(srv, g->token, data, len, &r));
    assert_int_equal(r.status, 200);
    harness_upload_response_free(&r);
}

static void test_encoded_nul_in_playback_path(void **state)
{
    (void)state;
    enum { LEN = 1000 };
    uint8_t *data = harness_pattern(LEN, 10);
    harness_grant_t g;
    upload_sample(&g, data, LEN);
    assert_playback(srv, g.file_key, data, LEN);

    char *aliased = harness_strf("%s%%00.jpg", g.file_key);
    harness_upload_response_t r;
    assert_true(harness_playback(srv, "GET", aliased, NULL, &r));
    int failures = !upload_refused("GET /<fileKey>%00.jpg", &r, "%00");
    /* A refusal on a playback path carries the playback origin's headers too. */
    assert_non_null(harness_header(&r, "Content-Security-Policy"));
    assert_string_equal(harness_header(&r, "X-Content-Type-Options"), "nosniff");
    harness_upload_response_free(&r);
    assert_true(harness_playback(srv, "HEAD", aliased, NULL, &r));
    print_message("  %-44s -> %ld\n", "HEAD /<fileKey>%00.jpg", r.status);
    failures += r.status != 400; /* HEAD: no body to read the reason from */
    assert_true(r.status != 400 || harness_list_has(harness_header(&r, "Connection"), "close"));
    harness_upload_response_free(&r);
    assert_int_equal(failures, 0);
    free(aliased);
    free(data);
}

static void test_duplicate_headers_upload(void **state)
{
    (void)state;
    enum { LEN = 100 };
    uint8_t *data = harness_pattern(LEN, 11);
    harness_grant_t g;
    upload_sample(&g, data, LEN);

    static const char *const two_keys[] = {"Key: a", "Key: b", NULL};
    harness_upload_request_t mkblk = {.path = "/mkblk/4", .body = "abcd", .body_len = 4, .headers = two_keys};
    harness_upload_response_t r;
    assert_true(harness_upload_send(srv, &mkblk, &r));
    int failures = !upload_refused("mkblk with two Key", &r, "The Key header appears more than once.");
    harness_upload_response_free(&r);

    static const char *const two_origins[] = {"Origin: https://a.example", "Origin: https://b.example", NULL};
    assert_true(harness_playback(srv, "GET", g.file_key, two_origins, &r));
    failures += !upload_refused("playback with two Origin", &r, "The Origin header appears more than once.");
    harness_upload_response_free(&r);

    static const char *const two_ranges[] = {"Range: bytes=0-9", "Range: bytes=10-19", NULL};
    assert_true(harness_playback(srv, "GET", g.file_key, two_ranges, &r));
    failures += !upload_refused("playback with two Range", &r, "The Range header appears more than once.");
    harness_upload_response_free(&r);
    free(data);
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
    int rc = harness_server_finish(srv);
    srv = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ambiguous_framing_refused),
        cmocka_unit_test(test_lookalikes_answered),
        cmocka_unit_test(test_encoded_nul_in_api_path),
        cmocka_unit_test(test_duplicate_headers_api),
        cmocka_unit_test(test_encoded_nul_in_playback_path),
        cmocka_unit_test(test_duplicate_headers_upload),
    };
    return cmocka_run_group_tests_name("integration.test_http_hardening", tests, group_setup, group_teardown);
}
