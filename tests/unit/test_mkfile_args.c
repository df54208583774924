/* Unit tests for upload/mkfile_args: mkfile's path pairs and ctx list. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "upload/mkfile_args.h"

typedef struct seen {
    char text[512];
    int calls;
} seen_t;

static bool collect_pair(void *arg, const char *name, size_t name_len, const char *value)
{
    seen_t *s = arg;
    size_t used = strlen(s->text);
    snprintf(s->text + used, sizeof(s->text) - used, "[%.*s=%s]", (int)name_len, name, value);
    s->calls++;
    return true;
}

static void test_path(void **state)
{
    (void)state;
    /* a2V5 = "key", dmlkZW8vd2VibQ = "video/webm", YQ== = "a" */
    static const struct {
        const char *args;
        bool ok;
        int64_t size;
        const char *pairs;
    } cases[] = {
        {"0", true, 0, ""},
        {"12345", true, 12345, ""},
        {"12345/", true, 12345, ""},
        {"10/key/a2V5", true, 10, "[key=key]"},
        {"10/mimeType/dmlkZW8vd2VibQ/x:n/YQ==", true, 10, "[mimeType=video/webm][x:n=a]"},
        {"10/empty/", true, 10, "[empty=]"},
        {"10/key", false, 10, ""}, /* a name without a value */
        {"", false, 0, ""},
        {"-1", false, 0, ""},
        {"1x", false, 0, ""},
        {"1234567890123456789", false, 0, ""},
        {"10/key/!!", false, 10, ""},
        {"10/key/AA", false, 10, ""}, /* decodes to a NUL byte */
        {"10//a2V5", true, 10, "[=key]"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        seen_t s = {{0}, 0};
        int64_t size = -1;
        bool ok = mkfile_args_parse_path(cases[i].args, &size, collect_pair, &s);
        print_message("  %-40s -> %d %lld %s\n", cases[i].args, ok, (long long)size, s.text);
        assert_int_equal(ok, cases[i].ok);
        if (ok) {
            assert_int_equal(size, cases[i].size);
            assert_string_equal(s.text, cases[i].pairs);
        }
    }
}

static bool collect_ctx(void *arg, const char *text, size_t len, size_t index)
{
    seen_t *s = arg;
    size_t used = strlen(s->text);
    snprintf(s->text + used, sizeof(s->text) - used, "[%zu:%.*s]", index, (int)len, text);
    s->calls++;
    return true;
}

static void test_ctx_list(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        long count;
        const char *items;
    } cases[] = {
        {"", 0, ""},
        {"  \r\n", 0, ""},
        {"a", 1, "[0:a]"},
        {"a,b,c", 3, "[0:a][1:b][2:c]"},
        {" a , b\n", 2, "[0:a][1:b]"},
        {"a,,b", -1, "[0:a]"},
        {"a,", -1, "[0:a]"},
        {",a", -1, ""},
        {",", -1, ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        seen_t s = {{0}, 0};
        long n = mkfile_args_split_ctx_list(cases[i].body, strlen(cases[i].body), collect_ctx, &s);
        assert_int_equal(n, cases[i].count);
        assert_string_equal(s.text, cases[i].items);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_path),
        cmocka_unit_test(test_ctx_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
