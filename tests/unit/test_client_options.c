/*
 * test_client_options: command-line pieces shared by the client commands
 * (client/client_options.c): number parsing and the shared options.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client/client_options.h"

static void test_parse_int(void **state)
{
    (void)state;
    int64_t v = -1;
    assert_true(client_parse_int("0", 0, 10, &v));
    assert_int_equal(v, 0);
    assert_true(client_parse_int("10", 0, 10, &v));
    assert_int_equal(v, 10);
    assert_true(client_parse_int("9223372036854775807", 0, INT64_MAX, &v));
    assert_int_equal(v, INT64_MAX);
    static const char *const bad[] = {"", "11", "-1", "+1", " 1", "1 ", "1x", "0x10", "1e3", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(client_parse_int(bad[i], 0, 10, &v));
    assert_false(client_parse_int(NULL, 0, 10, &v));
    assert_false(client_parse_int("3", 4, 10, &v));
}

static void test_common_options(void **state)
{
    (void)state;
    client_config_flags_t flags = {0};
    client_token_params_t p = {.file_size = -1};
    assert_int_equal(client_option_common("t", CLIENT_OPT_ENDPOINT, "http://h", &flags, NULL), 1);
    assert_int_equal(client_option_common("t", CLIENT_OPT_ACCESS_KEY, "AK", &flags, NULL), 1);
    assert_int_equal(client_option_common("t", CLIENT_OPT_SECRET_KEY, "SK", &flags, NULL), 1);
    assert_int_equal(client_option_common("t", CLIENT_OPT_CONFIG, "/c", &flags, NULL), 1);
    assert_string_equal(flags.endpoint, "http://h");
    assert_string_equal(flags.access_key, "AK");
    assert_string_equal(flags.secret_key, "SK");
    assert_string_equal(flags.config_path, "/c");
    /* Token options only where the command takes them. */
    assert_int_equal(client_option_common("t", CLIENT_OPT_FILE_ID, "f", &flags, NULL), 0);
    assert_int_equal(client_option_common("t", CLIENT_OPT_FILE_ID, "f", &flags, &p), 1);
    assert_int_equal(client_option_common("t", CLIENT_OPT_OVERWRITE, NULL, &flags, &p), 1);
    assert_int_equal(client_option_common("t", CLIENT_OPT_TEMPLATE, "hd", &flags, &p), 1);
    assert_string_equal(p.file_id, "f");
    assert_true(p.overwrite);
    assert_string_equal(p.template_name, "hd");
    assert_int_equal(client_option_common("t", 'x', "?", &flags, &p), 0);
    for (int i = 0; i < CLIENT_MAX_CATEGORIES; i++)
        assert_int_equal(client_option_common("t", CLIENT_OPT_CATEGORY, "a/b", &flags, &p), 1);
    assert_int_equal(p.category_count, CLIENT_MAX_CATEGORIES);
    assert_int_equal(client_option_common("t", CLIENT_OPT_CATEGORY, "a/b", &flags, &p), -1); /* one too many */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_common_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
