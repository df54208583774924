/* Unit tests for api/filekey: originFileName -> fileKey sanitising. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "api/filekey.h"

#define VID "0123456789abcdef0123456789abcdef"
/* 2026-11-24T12:00:00Z */
#define NOW_MS 1795521600000LL

typedef struct filekey_case {
    const char *name;
    size_t len; /* 0: strlen(name) */
    const char *want; /* NULL: no fileKey (no usable extension) */
} filekey_case_t;

static const filekey_case_t filekey_cases[] = {
    {"uploadtest.mp4", 0, "video/20261124/" VID "/uploadtest.mp4"},
    {"My Movie (final).MOV", 0, "video/20261124/" VID "/My_Movie__final_.mov"},
    {"a-b_c.mkv", 0, "video/20261124/" VID "/a-b_c.mkv"},
    {"../../etc/passwd.mp4", 0, "video/20261124/" VID "/______etc_passwd.mp4"},
    {"..mp4", 0, "video/20261124/" VID "/_.mp4"},
    {"a/b\\c.mp4", 0, "video/20261124/" VID "/a_b_c.mp4"},
    {".mp4", 0, "video/20261124/" VID "/video.mp4"},
    {"a.b.c.webm", 0, "video/20261124/" VID "/a_b_c.webm"},
    /* Each non-ASCII code point becomes exactly one '_'. */
    {"\xe8\xa7\x86\xe9\xa2\x91 a.mp4", 0, "video/20261124/" VID "/___a.mp4"},
    {"caf\xc3\xa9.mp4", 0, "video/20261124/" VID "/caf_.mp4"},
    {"\xf0\x9f\x8e\xac.mp4", 0, "video/20261124/" VID "/_.mp4"},
    /* A stray byte of invalid UTF-8 is one '_' too. */
    {"a\xff" "b.mp4", 0, "video/20261124/" VID "/a_b.mp4"},
    /* NUL inside the name never reaches the key. */
    {"a\0b.mp4", 7, "video/20261124/" VID "/a_b.mp4"},
    {"noext", 0, NULL},
    {"trailingdot.", 0, NULL},
    {"bad.ex t", 0, NULL},
    {"bad.m/p4", 0, NULL},
    {"x.abcdefghijklmnopq", 0, NULL}, /* 17-character extension */
};

static void test_filekey_build_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(filekey_cases) / sizeof(filekey_cases[0]); i++) {
        const filekey_case_t *c = &filekey_cases[i];
        size_t len = c->len ? c->len : strlen(c->name);
        buf_t out;
        buf_init(&out, 0);
        bool ok = filekey_build(c->name, len, VID, NOW_MS, &out);
        if (c->want) {
            assert_true(ok);
            assert_string_equal(out.data, c->want);
            /* Whatever the input, the key is URL-safe and has no "..". */
            assert_null(strstr(out.data, ".."));
            for (size_t k = 0; k < out.len; k++) {
                char ch = out.data[k];
                assert_true((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                            ch == '-' || ch == '_' || ch == '.' || ch == '/');
            }
        } else {
            assert_false(ok);
        }
        buf_free(&out);
    }
}

static void test_filekey_utf8_length(void **state)
{
    (void)state;
    assert_int_equal(filekey_utf8_length("", 0), 0);
    assert_int_equal(filekey_utf8_length("abc", 3), 3);
    assert_int_equal(filekey_utf8_length("\xe8\xa7\x86\xe9\xa2\x91", 6), 2);
    assert_int_equal(filekey_utf8_length("\xf0\x9f\x8e\xac", 4), 1);
    assert_int_equal(filekey_utf8_length("\xff", 1), -1);            /* invalid lead byte */
    assert_int_equal(filekey_utf8_length("\xc0\xaf", 2), -1);        /* overlong '/' */
    assert_int_equal(filekey_utf8_length("\xe0\x80\xaf", 3), -1);    /* overlong */
    assert_int_equal(filekey_utf8_length("\xed\xa0\x80", 3), -1);    /* surrogate */
    assert_int_equal(filekey_utf8_length("\xf4\x90\x80\x80", 4), -1); /* > U+10FFFF */
    assert_int_equal(filekey_utf8_length("\xe8\xa7", 2), -1);        /* truncated */
}

static void test_filekey_extension(void **state)
{
    (void)state;
    char ext[FILEKEY_MAX_EXTENSION + 1];
    assert_true(filekey_extension("a.MP4", 5, ext));
    assert_string_equal(ext, "mp4");
    assert_true(filekey_extension("a.tar.M2TS", 10, ext));
    assert_string_equal(ext, "m2ts");
    assert_false(filekey_extension("mp4", 3, ext));
    assert_false(filekey_extension("a.", 2, ext));
    assert_false(filekey_extension("a.\xe8\xa7\x86", 5, ext));
}

static void test_filekey_control(void **state)
{
    (void)state;
    assert_false(filekey_has_control("normal name.mp4", 15));
    assert_true(filekey_has_control("a\0b", 3));
    assert_true(filekey_has_control("a\nb", 3));
    assert_true(filekey_has_control("a\x7f", 2));
    assert_false(filekey_has_control("\xe8\xa7\x86", 3));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filekey_build_table),
        cmocka_unit_test(test_filekey_utf8_length),
        cmocka_unit_test(test_filekey_extension),
        cmocka_unit_test(test_filekey_control),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
