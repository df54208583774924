/*
 * test_header_line: reading one header's value from a raw response header
 * line (common/header_line.c), as libcurl hands the lines over.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/header_line.h"

/* The value of `name` in `line`, or "(none)" when the line is another header. */
static const char *value_of(const char *line, const char *name, char *out, size_t outlen)
{
    out[0] = '\0';
    return header_line_value(line, strlen(line), name, out, outlen) ? out : "(none)";
}

static void test_matches_case_insensitively_and_trims(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(value_of("X-Request-Id: abc123\r\n", "X-Request-Id", out, sizeof(out)), "abc123");
    assert_string_equal(value_of("x-request-id:abc123\r\n", "X-Request-Id", out, sizeof(out)), "abc123");
    assert_string_equal(value_of("Connection: \t close \t\r\n", "Connection", out, sizeof(out)), "close");
    assert_string_equal(value_of("Allow: GET, POST\n", "Allow", out, sizeof(out)), "GET, POST");
    /* An empty value is found, and empty. */
    assert_string_equal(value_of("X-Reqid:\r\n", "X-Reqid", out, sizeof(out)), "");
}

static void test_other_headers_are_not_matched(void **state)
{
    (void)state;
    char out[64];
    /* A longer name that starts with the one asked for is another header. */
    assert_string_equal(value_of("X-Request-Ids: a\r\n", "X-Request-Id", out, sizeof(out)), "(none)");
    assert_string_equal(value_of("HTTP/1.1 200 OK\r\n", "X-Request-Id", out, sizeof(out)), "(none)");
    assert_string_equal(value_of("\r\n", "Allow", out, sizeof(out)), "(none)");
    assert_string_equal(value_of("Allow", "Allow", out, sizeof(out)), "(none)");
    assert_string_equal(value_of("Content-Type: text/plain\r\n", "Content-Length", out, sizeof(out)), "(none)");
    /* What the caller had stays. */
    strcpy(out, "kept");
    assert_false(header_line_value("Allow: GET\r\n", strlen("Allow: GET\r\n"), "Connection", out, sizeof(out)));
    assert_string_equal(out, "kept");
}

static void test_long_values_are_truncated(void **state)
{
    (void)state;
    char out[5];
    assert_string_equal(value_of("X-Request-Id: 0123456789\r\n", "X-Request-Id", out, sizeof(out)), "0123");
    char one[1];
    assert_true(header_line_value("Allow: GET\r\n", strlen("Allow: GET\r\n"), "Allow", one, sizeof(one)));
    assert_string_equal(one, "");
}

/* The line is not NUL-terminated: only `len` bytes may be read. */
static void test_reads_only_len_bytes(void **state)
{
    (void)state;
    const char raw[] = "Allow: GET, POSTjunk";
    char out[64];
    assert_true(header_line_value(raw, strlen("Allow: GET, POST"), "Allow", out, sizeof(out)));
    assert_string_equal(out, "GET, POST");
    assert_false(header_line_value(raw, strlen("Allo"), "Allow", out, sizeof(out)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_case_insensitively_and_trims),
        cmocka_unit_test(test_other_headers_are_not_matched),
        cmocka_unit_test(test_long_values_are_truncated),
        cmocka_unit_test(test_reads_only_len_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
