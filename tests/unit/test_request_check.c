/*
 * test_request_check: the framing and header rules of http/request_check.c,
 * one table row per case: the version, the raw target, the header lines
 * ("Name: value", split at the first colon as libmicrohttpd does, so
 * "Name : v" gives the name "Name ") and the expected verdict (NULL: the
 * request passes; else a piece of the reason).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/request_check.h"

#define MAX_LINES 8

typedef struct check_case {
    const char *what;
    const char *version;
    const char *target;
    const char *lines[MAX_LINES]; /* NULL-terminated */
    const char *refused;          /* NULL: passes; else a substring of the reason */
} check_case_t;

#define HOST "Host: 127.0.0.1:8080"

static const check_case_t cases[] = {
    /* Requests that pass. */
    {"plain GET", "HTTP/1.1", "/vod/videoManage/getVideoList?pageSize=5", {HOST}, NULL},
    {"HTTP/1.0 needs no Host", "HTTP/1.0", "/healthz", {NULL}, NULL},
    {"POST with a length", "HTTP/1.1", "/vod/videoManage/getUploadToken",
     {HOST, "Content-Type: application/json", "Content-Length: 42"}, NULL},
    {"chunked, any case, blanks", "HTTP/1.1", "/file/upload", {HOST, "Transfer-Encoding: ChunKed \t"}, NULL},
    {"repeatable headers may repeat", "HTTP/1.1", "/", {HOST, "Accept: a", "Accept: b", "Cookie: x", "Cookie: y"},
     NULL},
    {"an empty Host is a Host", "HTTP/1.1", "/", {"Host: "}, NULL},
    {"a literal %2500 is not a NUL", "HTTP/1.1", "/a%2500b", {HOST}, NULL},
    {"percent-encoded bytes", "HTTP/1.1", "/video/x/%E8%A7%86.mp4?a=%20", {HOST}, NULL},
    {"HTAB and UTF-8 in values", "HTTP/1.1", "/", {HOST, "X-Note: a\tb \xe8\xa7\x86"}, NULL},
    {"Content-Length 0", "HTTP/1.1", "/", {HOST, "Content-Length: 0"}, NULL},
    {"Content-Length INT64_MAX", "HTTP/1.1", "/", {HOST, "Content-Length: 9223372036854775807"}, NULL},

    /* The target (finding 10). */
    {"%00 in the path", "HTTP/1.1", "/video/20200101/abc/x.mp4%00.jpg", {HOST}, "%00"},
    {"%00 in an API path", "HTTP/1.1", "/vod/videoManage/getVideoList%00x", {HOST}, "%00"},
    {"%00 in the query", "HTTP/1.1", "/vod/videoManage/getVideoInfo?videoId=a%00b", {HOST}, "%00"},
    {"no target", "HTTP/1.1", NULL, {HOST}, "no target"},
    {"empty target", "HTTP/1.1", "", {HOST}, "no target"},
    {"space in the target", "HTTP/1.1", "/a b", {HOST}, "space or a control"},
    {"control byte in the target", "HTTP/1.1", "/a\x01", {HOST}, "space or a control"},
    {"DEL in the target", "HTTP/1.1", "/a\x7f", {HOST}, "space or a control"},
    {"the target is checked first", "HTTP/1.1", "/%00", {"Host: a", "Host: b"}, "%00"},

    /* Names and values (finding 6: a space before the colon). */
    {"space before the colon", "HTTP/1.1", "/file/upload",
     {HOST, "Transfer-Encoding : chunked", "Content-Length: 5"}, "header name"},
    {"tab before the colon", "HTTP/1.1", "/", {HOST, "Host\t: x"}, "header name"},
    {"empty name", "HTTP/1.1", "/", {HOST, ": x"}, "header name"},
    {"separator in a name", "HTTP/1.1", "/", {HOST, "X(y): x"}, "header name"},
    {"non-ASCII in a name", "HTTP/1.1", "/", {HOST, "X\xe8: x"}, "header name"},
    {"control byte in a value", "HTTP/1.1", "/", {HOST, "X-A: a\x01"}, "control character"},
    {"CR in a value", "HTTP/1.1", "/", {HOST, "X-A: a\rb"}, "control character"},
    {"DEL in a value", "HTTP/1.1", "/", {HOST, "X-A: a\x7f"}, "control character"},

    /* Duplicates (finding 11), any case. */
    {"two Host", "HTTP/1.1", "/", {HOST, "host: evil.example"}, "Host header appears more than once"},
    {"two Authorization", "HTTP/1.1", "/", {HOST, "Authorization: a", "AUTHORIZATION: b"},
     "Authorization header appears"},
    {"two Content-Type", "HTTP/1.1", "/", {HOST, "Content-Type: a/b", "Content-Type: a/b"}, "Content-Type header"},
    {"two Content-MD5", "HTTP/1.1", "/", {HOST, "Content-MD5: a", "Content-MD5: b"}, "Content-MD5 header"},
    {"two Key", "HTTP/1.1", "/", {HOST, "Key: a", "key: b"}, "Key header"},
    {"two MimeType", "HTTP/1.1", "/", {HOST, "MimeType: a", "mimetype: b"}, "MimeType header"},
    {"two X-WS-AccessKey", "HTTP/1.1", "/", {HOST, "X-WS-AccessKey: a", "x-ws-accesskey: a"}, "X-WS-AccessKey"},
    {"two X-WS-Timestamp", "HTTP/1.1", "/", {HOST, "X-WS-Timestamp: 1", "X-WS-Timestamp: 2"}, "X-WS-Timestamp"},
    {"two Origin", "HTTP/1.1", "/", {HOST, "Origin: a", "Origin: b"}, "Origin header"},
    {"two Range", "HTTP/1.1", "/", {HOST, "Range: bytes=0-1", "Range: bytes=2-3"}, "Range header"},
    {"two If-Range", "HTTP/1.1", "/", {HOST, "If-Range: a", "If-Range: a"}, "If-Range header"},

    /* Framing (finding 6). */
    {"two equal Content-Length", "HTTP/1.1", "/", {HOST, "Content-Length: 5", "Content-Length: 5"},
     "Content-Length header appears"},
    {"two different Content-Length", "HTTP/1.1", "/", {HOST, "Content-Length: 5", "Content-Length: 50"},
     "Content-Length header appears"},
    {"two Transfer-Encoding", "HTTP/1.1", "/", {HOST, "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"},
     "Transfer-Encoding header appears"},
    {"Content-Length with Transfer-Encoding", "HTTP/1.1", "/", {HOST, "Content-Length: 5", "Transfer-Encoding: chunked"},
     "together"},
    {"Transfer-Encoding then Content-Length", "HTTP/1.1", "/", {HOST, "Transfer-Encoding: chunked", "Content-Length: 0"},
     "together"},
    {"Transfer-Encoding on HTTP/1.0", "HTTP/1.0", "/", {"Transfer-Encoding: chunked"}, "HTTP/1.1"},
    {"another coding", "HTTP/1.1", "/", {HOST, "Transfer-Encoding: gzip"}, "must be chunked"},
    {"a coding list", "HTTP/1.1", "/", {HOST, "Transfer-Encoding: gzip, chunked"}, "must be chunked"},
    {"chunked twice in one value", "HTTP/1.1", "/", {HOST, "Transfer-Encoding: chunked, chunked"}, "must be chunked"},
    {"empty Transfer-Encoding", "HTTP/1.1", "/", {HOST, "Transfer-Encoding: "}, "must be chunked"},
    {"signed length", "HTTP/1.1", "/", {HOST, "Content-Length: +5"}, "decimal number"},
    {"length list", "HTTP/1.1", "/", {HOST, "Content-Length: 5, 5"}, "decimal number"},
    {"empty length", "HTTP/1.1", "/", {HOST, "Content-Length: "}, "decimal number"},
    {"length over INT64_MAX", "HTTP/1.1", "/", {HOST, "Content-Length: 9223372036854775808"}, "decimal number"},
    {"length of 30 digits", "HTTP/1.1", "/", {HOST, "Content-Length: 000000000000000000000000000001"}, NULL},
    {"HTTP/1.1 without Host", "HTTP/1.1", "/vod/videoManage/getVideoList", {"Accept: */*"}, "Host header is missing"},
    {"unknown version without Host", NULL, "/", {NULL}, "Host header is missing"},
};

/* Splits "Name: value" at the first colon; the value loses its leading blanks, as in libmicrohttpd. */
static request_check_header_t split_line(const char *line)
{
    const char *colon = strchr(line, ':');
    request_check_header_t h = {line, colon ? (size_t)(colon - line) : strlen(line), "", 0};
    if (colon) {
        const char *v = colon + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        h.value = v;
        h.value_len = strlen(v);
    }
    return h;
}

static const char *run_case(const check_case_t *c, request_check_t *rc)
{
    request_check_header_t headers[MAX_LINES];
    size_t n = 0;
    while (n < MAX_LINES && c->lines[n]) {
        headers[n] = split_line(c->lines[n]);
        n++;
    }
    return request_check_all(rc, c->version, c->target, headers, n);
}

static void test_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const check_case_t *c = &cases[i];
        request_check_t rc;
        const char *got = run_case(c, &rc);
        bool ok = c->refused ? got && strstr(got, c->refused) : got == NULL;
        if (!ok) {
            print_error("case '%s': expected %s%s, got %s\n", c->what, c->refused ? "refusal containing " : "pass",
                        c->refused ? c->refused : "", got ? got : "pass");
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* The streaming calls give the same verdict, and stop at the first broken rule. */
static void test_first_rule_wins(void **state)
{
    (void)state;
    request_check_t rc;
    request_check_begin(&rc, "HTTP/1.1", "/");
    request_check_header(&rc, "Host", 4, "a", 1);
    request_check_header(&rc, "Host", 4, "b", 1);
    request_check_header(&rc, "Bad Name", 8, "x", 1);
    const char *why = request_check_end(&rc);
    assert_non_null(why);
    assert_string_equal(why, "The Host header appears more than once.");
}

/* Only the given lengths are read: the bytes after a name or value do not count. */
static void test_reads_only_lengths(void **state)
{
    (void)state;
    request_check_t rc;
    request_check_begin(&rc, "HTTP/1.1", "/");
    request_check_header(&rc, "Hostile", 4, "a\x01", 1); /* "Host" with value "a" */
    request_check_header(&rc, "Content-Length: 5", 14, "12junk", 2);
    assert_null(request_check_end(&rc));
    /* A NULL value counts as empty. */
    request_check_begin(&rc, "HTTP/1.1", "/");
    request_check_header(&rc, "Host", 4, NULL, 3);
    assert_null(request_check_end(&rc));
}

/* The reason is a sentence a client can read: it names the duplicated header as listed. */
static void test_every_single_header_is_named(void **state)
{
    (void)state;
    static const char *const names[] = {REQUEST_CHECK_SINGLE_HEADERS};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        request_check_t rc;
        request_check_begin(&rc, "HTTP/1.1", "/");
        request_check_header(&rc, "Host", 4, "h", 1);
        const char *value = strcmp(names[i], "Content-Length") == 0 ? "1" : "chunked";
        if (strcmp(names[i], "Host") != 0)
            request_check_header(&rc, names[i], strlen(names[i]), value, strlen(value));
        request_check_header(&rc, names[i], strlen(names[i]), value, strlen(value));
        char want[REQUEST_CHECK_MESSAGE_MAX];
        snprintf(want, sizeof(want), "The %s header appears more than once.", names[i]);
        const char *got = request_check_end(&rc);
        assert_non_null(got);
        assert_string_equal(got, want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_first_rule_wins),
        cmocka_unit_test(test_reads_only_lengths),
        cmocka_unit_test(test_every_single_header_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
