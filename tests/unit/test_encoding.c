/*
 * test_encoding: hex, url-safe base64 (RFC 4648 test vectors), RFC 3986
 * percent-encoding and form unescaping (common/encoding.c), which the
 * signature and the upload token are built on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/encoding.h"

static void test_hex(void **state)
{
    static const uint8_t in[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
    char out[2 * sizeof(in) + 1];
    memset(out, 'x', sizeof(out));
    encoding_hex(in, sizeof(in), out);
    assert_string_equal(out, "00017f80abff");

    char empty[1] = {'x'};
    encoding_hex(in, 0, empty);
    assert_string_equal(empty, "");
}

/* RFC 4648 section 10, plus bytes that differ between the two alphabets. */
static const struct {
    const char *raw;
    size_t raw_len;
    const char *encoded;
} b64_cases[] = {
    {"", 0, ""},
    {"f", 1, "Zg=="},
    {"fo", 2, "Zm8="},
    {"foo", 3, "Zm9v"},
    {"foob", 4, "Zm9vYg=="},
    {"fooba", 5, "Zm9vYmE="},
    {"foobar", 6, "Zm9vYmFy"},
    {"\xfb\xff", 2, "-_8="},
    {"\xfb\xef\xbe", 3, "----"},
    {"\xff\xff\xff", 3, "____"},
    {"\0\0", 2, "AAA="},
};

static void test_b64url_encode(void **state)
{
    for (size_t i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
        buf_t out;
        buf_init(&out, 0);
        assert_true(buf_append_str(&out, ">"));
        assert_true(encoding_b64url_encode(b64_cases[i].raw, b64_cases[i].raw_len, &out));
        assert_string_equal(out.data + 1, b64_cases[i].encoded);
        assert_int_equal(out.len, 1 + strlen(b64_cases[i].encoded));
        buf_free(&out);
    }
}

static void test_b64url_decode(void **state)
{
    for (size_t i = 0; i < sizeof(b64_cases) / sizeof(b64_cases[0]); i++) {
        const char *enc = b64_cases[i].encoded;
        size_t unpadded = strlen(enc);
        while (unpadded > 0 && enc[unpadded - 1] == '=')
            unpadded--;
        /* With padding, then without. */
        for (int pass = 0; pass < 2; pass++) {
            buf_t out;
            buf_init(&out, 0);
            assert_true(encoding_b64url_decode(enc, pass ? unpadded : strlen(enc), &out));
            assert_int_equal(out.len, b64_cases[i].raw_len);
            if (out.len)
                assert_memory_equal(out.data, b64_cases[i].raw, out.len);
            buf_free(&out);
        }
    }
}

static void test_b64url_decode_rejects(void **state)
{
    static const char *bad[] = {
        "Z",        /* a lone character holds no whole byte */
        "Zm9vY",    /* 4n+1 characters */
        "Zm9v!",    /* outside both alphabets */
        "Zm 9v",    /* whitespace */
        "Zg==Zg==", /* padding in the middle */
        "Zm9v\n",
        "\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        buf_t out;
        buf_init(&out, 0);
        if (encoding_b64url_decode(bad[i], strlen(bad[i]), &out))
            fail_msg("accepted \"%s\"", bad[i]);
        buf_free(&out);
    }
    /* An embedded NUL is not alphabet either. */
    buf_t out;
    buf_init(&out, 0);
    assert_false(encoding_b64url_decode("Zm\0v", 4, &out));
    buf_free(&out);
}

static void test_percent_encode(void **state)
{
    static const struct {
        const char *in;
        size_t len;
        const char *out;
    } cases[] = {
        {"", 0, ""},
        {"ABCXYZabcxyz0189-_.~", 20, "ABCXYZabcxyz0189-_.~"},
        {" ", 1, "%20"},
        {"+", 1, "%2B"},
        {"!*'();:@&=$,/?#[]%", 18, "%21%2A%27%28%29%3B%3A%40%26%3D%24%2C%2F%3F%23%5B%5D%25"},
        {"\xe8\xa7\x86\xe9\xa2\x91 a.mp4", 12, "%E8%A7%86%E9%A2%91%20a.mp4"},
        {"\xff\x7f", 2, "%FF%7F"},
        {"a\0b", 3, "a%00b"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t out;
        buf_init(&out, 0);
        assert_true(encoding_percent_encode(cases[i].in, cases[i].len, &out));
        assert_int_equal(out.len, strlen(cases[i].out));
        if (out.len)
            assert_string_equal(out.data, cases[i].out);
        buf_free(&out);
    }
}

static void test_form_unescape(void **state)
{
    static const struct {
        const char *in;
        const char *out;
        size_t out_len;
    } cases[] = {
        {"", "", 0},
        {"plain", "plain", 5},
        {"a+b", "a b", 3},
        {"%41%62", "Ab", 2},
        {"%e8%A7%86", "\xe8\xa7\x86", 3},
        {"%2B+", "+ ", 2},
        {"%4", "%4", 2},        /* truncated escape kept */
        {"%zz", "%zz", 3},      /* not hex: kept */
        {"%%41", "%A", 2},      /* the second '%' starts a good escape */
        {"100%", "100%", 4},
        {"a%00b", "a\0b", 3},   /* NUL decoded, length tells */
        {"%2541", "%41", 3},    /* decoded once only */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char s[32];
        size_t len = strlen(cases[i].in);
        memcpy(s, cases[i].in, len + 1);
        size_t n = encoding_form_unescape(s, len);
        if (n != cases[i].out_len || memcmp(s, cases[i].out, n) != 0)
            fail_msg("\"%s\" -> \"%.*s\" (%zu)", cases[i].in, (int)n, s, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_b64url_encode),
        cmocka_unit_test(test_b64url_decode),
        cmocka_unit_test(test_b64url_decode_rejects),
        cmocka_unit_test(test_percent_encode),
        cmocka_unit_test(test_form_unescape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
