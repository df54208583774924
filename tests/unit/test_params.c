/* Unit tests for api/params: form, JSON and query parameter gathering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "api/params.h"

static const char *const structured[] = {"categoryNames", NULL};

static void test_params_form(void **state)
{
    (void)state;
    params_t p;
    params_init(&p);
    const char body[] = "originFileName=%E8%A7%86%E9%A2%91+a.mp4&&overwrite=1&flag&empty=&x%00y=a%00b";
    assert_true(params_parse_form(&p, body, strlen(body)));
    assert_string_equal(params_get(&p, "originFileName")->value, "\xe8\xa7\x86\xe9\xa2\x91 a.mp4");
    assert_string_equal(params_get(&p, "overwrite")->value, "1");
    assert_int_equal(params_get(&p, "flag")->value_len, 0);
    assert_int_equal(params_get(&p, "empty")->value_len, 0);
    assert_null(params_get(&p, "missing"));
    /* NULs survive with their lengths. */
    const param_t *nul = NULL;
    for (size_t i = 0; i < p.count; i++)
        if (p.items[i].name_len == 3 && memcmp(p.items[i].name, "x\0y", 3) == 0)
            nul = &p.items[i];
    assert_non_null(nul);
    assert_int_equal(nul->value_len, 3);
    assert_memory_equal(nul->value, "a\0b", 3);
    assert_string_equal(p.duplicate, "");
    params_free(&p);
}

static void test_params_duplicates(void **state)
{
    (void)state;
    params_t p;
    params_init(&p);
    ws3_pair_t q[] = {{"fileId", 6, "a", 1}};
    assert_true(params_add_pairs(&p, q, 1));
    assert_true(params_parse_form(&p, "fileId=b", 8));
    assert_string_equal(p.duplicate, "fileId");
    /* The first value is kept, but the caller refuses the request anyway. */
    assert_string_equal(params_get(&p, "fileId")->value, "a");
    params_free(&p);
}

static void test_params_json(void **state)
{
    (void)state;
    params_t p;
    params_init(&p);
    char err[128];
    const char body[] = "{\"originFileName\":\"a.mp4\",\"overwrite\":1,\"fileSize\":1.5,\"domain\":null,"
                        "\"categoryNames\":[{\"parentName\":\"p\",\"childName\":\"c\"}]}";
    assert_true(params_parse_json(&p, body, strlen(body), structured, err, sizeof(err)));
    assert_string_equal(params_get(&p, "overwrite")->value, "1");
    assert_string_equal(params_get(&p, "fileSize")->value, "1.5");
    assert_null(params_get(&p, "domain"));
    assert_string_equal(params_get(&p, "categoryNames")->value, "[{\"parentName\":\"p\",\"childName\":\"c\"}]");
    params_free(&p);
}

static void test_params_json_rejects(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "{",
        "[1,2]",
        "\"text\"",
        "{\"originFileName\":[\"a.mp4\"]}",
        "{\"overwrite\":true}",
        "{\"fileId\":{\"a\":1}}",
        "{\"a\":1,\"a\":2}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        params_t p;
        params_init(&p);
        char err[128] = "";
        assert_false(params_parse_json(&p, bad[i], strlen(bad[i]), structured, err, sizeof(err)));
        assert_true(err[0] != '\0');
        params_free(&p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_form),
        cmocka_unit_test(test_params_duplicates),
        cmocka_unit_test(test_params_json),
        cmocka_unit_test(test_params_json_rejects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
