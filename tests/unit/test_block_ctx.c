/* Unit tests for upload/block_ctx: the signed ctx of the block protocol. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "upload/block_ctx.h"

static const unsigned char secret[32] = "0123456789abcdef0123456789abcde";
static const unsigned char other_secret[32] = "ffffffffffffffffffffffffffffffff";

static block_ctx_t sample(void)
{
    block_ctx_t c = {.index = 2, .block_size = 4194304, .offset = 1048576};
    memcpy(c.block_id, "00112233445566778899aabbccddeeff", 33);
    assert_true(block_ctx_key_hash("vod-bucket", "video/20261124/abc/a.mp4", c.key_hash));
    return c;
}

static void test_round_trip(void **state)
{
    (void)state;
    static const struct {
        int32_t index;
        int64_t size, offset;
    } cases[] = {{-1, 1, 0}, {-1, 1, 1}, {0, 4194304, 4194304}, {7, 4194304, 123}, {2147483647, 1LL << 40, 1LL << 39}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        block_ctx_t c = sample(), d;
        c.index = cases[i].index;
        c.block_size = cases[i].size;
        c.offset = cases[i].offset;
        char text[BLOCK_CTX_TEXT_LEN + 1];
        assert_true(block_ctx_encode(&c, secret, text));
        assert_int_equal(strlen(text), BLOCK_CTX_TEXT_LEN);
        /* URL-path-safe and comma-free: url-safe base64 without padding. */
        assert_int_equal(strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
                         BLOCK_CTX_TEXT_LEN);
        assert_true(block_ctx_decode(text, strlen(text), secret, &d));
        assert_string_equal(d.block_id, c.block_id);
        assert_int_equal(d.index, c.index);
        assert_int_equal(d.block_size, c.block_size);
        assert_int_equal(d.offset, c.offset);
        assert_memory_equal(d.key_hash, c.key_hash, 8);
    }
}

static void test_tampering_is_refused(void **state)
{
    (void)state;
    block_ctx_t c = sample(), d;
    char text[BLOCK_CTX_TEXT_LEN + 1];
    assert_true(block_ctx_encode(&c, secret, text));
    /* Every single-character change anywhere is refused. */
    for (size_t i = 0; i < BLOCK_CTX_TEXT_LEN; i++) {
        char t[BLOCK_CTX_TEXT_LEN + 1];
        memcpy(t, text, sizeof(t));
        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_false(block_ctx_decode(t, BLOCK_CTX_TEXT_LEN, secret, &d));
    }
    assert_false(block_ctx_decode(text, BLOCK_CTX_TEXT_LEN, other_secret, &d));
    assert_false(block_ctx_decode(text, BLOCK_CTX_TEXT_LEN - 1, secret, &d));
    assert_false(block_ctx_decode("", 0, secret, &d));
    char longer[BLOCK_CTX_TEXT_LEN + 2];
    memcpy(longer, text, BLOCK_CTX_TEXT_LEN);
    longer[BLOCK_CTX_TEXT_LEN] = 'A';
    longer[BLOCK_CTX_TEXT_LEN + 1] = '\0';
    assert_false(block_ctx_decode(longer, BLOCK_CTX_TEXT_LEN + 1, secret, &d));
}

static void test_invalid_states_are_not_encoded_or_decoded(void **state)
{
    (void)state;
    block_ctx_t c = sample(), d;
    char text[BLOCK_CTX_TEXT_LEN + 1];
    /* A block id that is not hex cannot be encoded. */
    memcpy(c.block_id, "zz112233445566778899aabbccddeeff", 33);
    assert_false(block_ctx_encode(&c, secret, text));
    /* An offset past the block size is signed but refused when read. */
    c = sample();
    c.offset = c.block_size + 1;
    assert_true(block_ctx_encode(&c, secret, text));
    assert_false(block_ctx_decode(text, BLOCK_CTX_TEXT_LEN, secret, &d));
    c = sample();
    c.block_size = 0;
    c.offset = 0;
    assert_true(block_ctx_encode(&c, secret, text));
    assert_false(block_ctx_decode(text, BLOCK_CTX_TEXT_LEN, secret, &d));
}

static void test_key_hash_separates_keys(void **state)
{
    (void)state;
    uint8_t a[8], b[8], c[8];
    assert_true(block_ctx_key_hash("bucket", "video/x/a.mp4", a));
    assert_true(block_ctx_key_hash("bucket", "video/x/b.mp4", b));
    assert_true(block_ctx_key_hash("bucket2", "video/x/a.mp4", c));
    assert_memory_not_equal(a, b, 8);
    assert_memory_not_equal(a, c, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_tampering_is_refused),
        cmocka_unit_test(test_invalid_states_are_not_encoded_or_decoded),
        cmocka_unit_test(test_key_hash_separates_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
