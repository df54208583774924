/* Unit tests for links/link: the rules of upload links' settings and the
 * fileId a link registers a file under. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "links/link.h"

static void test_durations(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_true(link_parse_duration("90s", &v));
    assert_int_equal(v, 90);
    assert_true(link_parse_duration("30m", &v));
    assert_int_equal(v, 1800);
    assert_true(link_parse_duration("24h", &v));
    assert_int_equal(v, 86400);
    assert_true(link_parse_duration("7d", &v));
    assert_int_equal(v, 604800);
    assert_true(link_parse_duration("120", &v));
    assert_int_equal(v, 120);
    const char *bad[] = {"", "h", "1x", "1hh", "-1h", "1.5h", " 1h", "1h ", "9999999999999999d"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(link_parse_duration(bad[i], &v));
}

static void test_sizes(void **state)
{
    (void)state;
    int64_t v = 0;
    assert_true(link_parse_size("10M", &v));
    assert_int_equal(v, 10 * 1024 * 1024);
    assert_true(link_parse_size("2G", &v));
    assert_int_equal(v, 2LL * 1024 * 1024 * 1024);
    assert_true(link_parse_size("512", &v));
    assert_int_equal(v, 512);
    assert_false(link_parse_size("2T", &v));
    assert_false(link_parse_size("2m", &v));
    assert_false(link_parse_size("G", &v));
}

static void test_file_ids(void **state)
{
    (void)state;
    assert_true(link_client_file_id_valid("abc_DEF-123"));
    assert_true(link_client_file_id_valid("01234567890123456789012345678901"));
    assert_false(link_client_file_id_valid("012345678901234567890123456789012"));
    assert_false(link_client_file_id_valid(""));
    assert_false(link_client_file_id_valid("a/b"));
    assert_false(link_client_file_id_valid("a b"));
    char a[LINK_FILE_ID_MAX + 1], b[LINK_FILE_ID_MAX + 1], c[LINK_FILE_ID_MAX + 1];
    const char *l1 = "ul_00000000000000000000000000000001", *l2 = "ul_00000000000000000000000000000002";
    assert_true(link_file_id(l1, "file", a));
    assert_true(link_file_id(l1, "file", b));
    assert_true(link_file_id(l2, "file", c));
    assert_string_equal(a, b);        /* the same file of the same link: the same video */
    assert_string_not_equal(a, c);    /* another link never reaches it */
    assert_int_equal(strlen(a), LINK_FILE_ID_MAX);
    assert_true(link_client_file_id_valid(a)); /* a valid getUploadToken fileId */
}

static void test_urls(void **state)
{
    (void)state;
    char *u = link_url("https://vod.example.com/", "ul_x");
    assert_string_equal(u, "https://vod.example.com/upload/ul_x");
    free(u);
    u = link_url("http://127.0.0.1:8080", "ul_y");
    assert_string_equal(u, "http://127.0.0.1:8080/upload/ul_y");
    free(u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_file_ids),
        cmocka_unit_test(test_urls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
