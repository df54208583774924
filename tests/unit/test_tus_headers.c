/* Unit tests for upload/tus_headers (the parsers of tus request headers)
 * and upload/tus_id (the signed upload id). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "upload/block_ctx.h"
#include "upload/tus_headers.h"
#include "upload/tus_id.h"

static void test_sizes(void **state)
{
    (void)state;
    int64_t v = -1;
    assert_true(tus_parse_size("0", &v));
    assert_int_equal(v, 0);
    assert_true(tus_parse_size("1073741824", &v));
    assert_int_equal(v, 1073741824);
    const char *bad[] = {"", "-1", "+1", " 1", "1 ", "1.0", "0x10", "1234567890123456789", "1e3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(tus_parse_size(bad[i], &v));
    assert_false(tus_parse_size(NULL, &v));
}

static void test_metadata(void **state)
{
    (void)state;
    /* The protocol's own example, plus a key without value. */
    const char *m = "filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential,filetype dmlkZW8vbXA0";
    assert_true(tus_metadata_valid(m));
    buf_t b;
    buf_init(&b, 0);
    assert_true(tus_metadata_get(m, "filename", &b));
    assert_int_equal(b.len, strlen("world_domination_plan.pdf"));
    assert_memory_equal(b.data, "world_domination_plan.pdf", b.len);
    buf_reset(&b);
    assert_true(tus_metadata_get(m, "is_confidential", &b));
    assert_int_equal(b.len, 0);
    assert_false(tus_metadata_get(m, "missing", &b));
    buf_reset(&b);
    assert_true(tus_metadata_get("a YQ==, b Yg==", "b", &b)); /* a space after the comma */
    assert_memory_equal(b.data, "b", 1);
    buf_free(&b);
    const char *bad[] = {"", ",", "a YQ==,", " ", "a  YQ==", "a YQ", "a Y-==", "a YQ==,a Yg==", "a b c",
                         "a\x01 YQ==", "a YQ==,,b"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(tus_metadata_valid(bad[i]));
    char *big = malloc(TUS_METADATA_MAX + 2);
    memset(big, 'k', TUS_METADATA_MAX + 1);
    big[TUS_METADATA_MAX + 1] = '\0';
    assert_false(tus_metadata_valid(big));
    big[TUS_METADATA_MAX] = '\0';
    assert_true(tus_metadata_valid(big));
    free(big);
}

static void test_checksums(void **state)
{
    (void)state;
    tus_checksum_t c;
    /* SHA-1 of "hello", MD5 of "hello", CRC-32 of "hello" (0x3610a686). */
    assert_int_equal(tus_checksum_parse("sha1 qvTGHdzF6KLavt4PO0gs2a6pQ00=", &c), TUS_CK_OK);
    assert_int_equal(c.alg, TUS_CK_SHA1);
    assert_int_equal(c.digest_len, 20);
    assert_int_equal(tus_checksum_parse("md5 XUFAKrxLKna5cZ2REBfFkg==", &c), TUS_CK_OK);
    assert_int_equal(c.alg, TUS_CK_MD5);
    assert_int_equal(tus_checksum_parse("crc32 NhCmhg==", &c), TUS_CK_OK);
    assert_int_equal(c.alg, TUS_CK_CRC32);
    assert_memory_equal(c.digest, "\x36\x10\xa6\x86", 4);
    assert_int_equal(tus_checksum_parse("sha256 LPJNul+wow4m6DsqxbninhsWHlwfp0JecwQzYpOLmCQ=", &c), TUS_CK_UNKNOWN);
    const char *bad[] = {"", "sha1", "sha1 ", " qvTG", "md5 qvTGHdzF6KLavt4PO0gs2a6pQ00=", "crc32 NhCm",
                         "md5 XUFAKrxLKna5cZ2REBfFkg", "sha1 qvTGHdzF6KLavt4PO0gs2a6pQ00=x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(tus_checksum_parse(bad[i], &c), TUS_CK_MALFORMED);
}

static void test_concat(void **state)
{
    (void)state;
    tus_concat_t c;
    assert_true(tus_concat_parse("partial", &c));
    assert_int_equal(c.kind, TUS_CONCAT_PARTIAL);
    tus_concat_free(&c);
    assert_true(tus_concat_parse("final;/files/a http://host:1/base/files/b https://h/files/c", &c));
    assert_int_equal(c.kind, TUS_CONCAT_FINAL);
    assert_int_equal(c.count, 3);
    assert_string_equal(c.ids[0], "a");
    assert_string_equal(c.ids[1], "b");
    assert_string_equal(c.ids[2], "c");
    tus_concat_free(&c);
    const char *bad[] = {"", "partial;", "final", "final;", "final; ", "final;/files/", "final;/other/a",
                         "final;/files/a/b", "Partial"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_false(tus_concat_parse(bad[i], &c));
}

static void test_http_date(void **state)
{
    (void)state;
    char d[40];
    tus_http_date(784111777000LL, d);
    assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT");
}

static const unsigned char secret[32] = "0123456789abcdef0123456789abcde";

static void test_id_round_trip(void **state)
{
    (void)state;
    tus_id_t id = {.kind = STORE_TUS_PARTIAL}, back;
    memcpy(id.block_id, "00000000000100abcdef0123456789ab", 33);
    assert_true(block_ctx_key_hash("b", "video/x.mp4", id.key_hash));
    char text[TUS_ID_TEXT_LEN + 1];
    assert_true(tus_id_encode(&id, secret, text));
    assert_int_equal(strlen(text), TUS_ID_TEXT_LEN);
    assert_true(tus_id_decode(text, strlen(text), secret, &back));
    assert_string_equal(back.block_id, id.block_id);
    assert_int_equal(back.kind, STORE_TUS_PARTIAL);
    assert_memory_equal(back.key_hash, id.key_hash, 8);
    /* Any changed character, another secret, another length: refused. */
    for (size_t i = 0; i < TUS_ID_TEXT_LEN; i++) {
        char t[TUS_ID_TEXT_LEN + 1];
        memcpy(t, text, sizeof(t));
        t[i] = t[i] == 'A' ? 'B' : 'A';
        assert_false(tus_id_decode(t, strlen(t), secret, &back));
    }
    unsigned char other[32] = "ffffffffffffffffffffffffffffffff";
    assert_false(tus_id_decode(text, strlen(text), other, &back));
    assert_false(tus_id_decode(text, strlen(text) - 1, secret, &back));
    id.kind = 3;
    assert_false(tus_id_encode(&id, secret, text));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),      cmocka_unit_test(test_metadata),     cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_concat),     cmocka_unit_test(test_http_date),    cmocka_unit_test(test_id_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
