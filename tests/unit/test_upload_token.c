/*
 * test_upload_token: the WCS upload token (auth/upload_token.c) against the
 * worked example of ../shared/spec/upload-protocol.md section 1, plus the
 * split, verification and put-policy rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "auth/upload_token.h"
#include "common/encoding.h"

#define EXAMPLE_POLICY "{\"scope\":\"mybucket:hello.txt\",\"deadline\":\"1700000000000\",\"overwrite\":1}"
#define EXAMPLE_SIGN "NjljNzYyNGUzOThlOWY0YWYxNjQ3YjgxNzgxYjRlY2RhMWNmMzViYQ=="
#define EXAMPLE_ENCODED_POLICY                                                                    \
    "eyJzY29wZSI6Im15YnVja2V0OmhlbGxvLnR4dCIsImRlYWRsaW5lIjoiMTcwMDAwMDAwMDAwMCIsIm92ZXJ3cml0ZSI6" \
    "MX0="
#define EXAMPLE_TOKEN "testak:" EXAMPLE_SIGN ":" EXAMPLE_ENCODED_POLICY

static bool verify(const char *token, const char *secret_key)
{
    upload_token_parts_t parts;
    return upload_token_split(token, strlen(token), &parts) &&
           upload_token_signature_valid(&parts, secret_key);
}

static void test_worked_example(void **state)
{
    buf_t out;
    buf_init(&out, 0);
    assert_true(upload_token_mint("testak", "testsk", EXAMPLE_POLICY, &out));
    assert_string_equal(out.data, EXAMPLE_TOKEN);
    assert_int_equal(out.len, strlen(EXAMPLE_TOKEN));

    upload_token_parts_t parts;
    assert_true(upload_token_split(out.data, out.len, &parts));
    assert_int_equal(parts.access_key_len, 6);
    assert_memory_equal(parts.access_key, "testak", 6);
    assert_int_equal(parts.encoded_sign_len, strlen(EXAMPLE_SIGN));
    assert_memory_equal(parts.encoded_sign, EXAMPLE_SIGN, strlen(EXAMPLE_SIGN));
    assert_int_equal(parts.encoded_policy_len, strlen(EXAMPLE_ENCODED_POLICY));
    assert_true(upload_token_signature_valid(&parts, "testsk"));

    upload_policy_t p;
    assert_true(upload_token_policy_parse(&parts, &p));
    assert_string_equal(p.scope, "mybucket:hello.txt");
    assert_string_equal(p.bucket, "mybucket");
    assert_string_equal(p.key, "hello.txt");
    assert_true(p.deadline_ms == INT64_C(1700000000000));
    assert_int_equal(p.overwrite, 1);
    assert_true(p.fsize_limit == 0);
    assert_null(p.return_body);
    upload_policy_free(&p);
    buf_free(&out);
}

static void test_mint_appends(void **state)
{
    buf_t out;
    buf_init(&out, 0);
    assert_true(buf_append_str(&out, "token="));
    assert_true(upload_token_mint("testak", "testsk", EXAMPLE_POLICY, &out));
    assert_string_equal(out.data, "token=" EXAMPLE_TOKEN);
    /* An access key with ':' could not be split back out: refused, nothing written. */
    assert_false(upload_token_mint("a:b", "testsk", EXAMPLE_POLICY, &out));
    assert_false(upload_token_mint("", "testsk", EXAMPLE_POLICY, &out));
    assert_string_equal(out.data, "token=" EXAMPLE_TOKEN);
    buf_free(&out);
}

static void test_split(void **state)
{
    static const struct {
        const char *token;
        bool ok;
        const char *ak, *sign, *policy;
    } cases[] = {
        {"ak:sign:policy", true, "ak", "sign", "policy"},
        {"ak:si:gn:policy", true, "ak", "si:gn", "policy"}, /* first and last ':' */
        {"ak::policy", false, NULL, NULL, NULL},
        {":sign:policy", false, NULL, NULL, NULL},
        {"ak:sign:", false, NULL, NULL, NULL},
        {"ak:policy", false, NULL, NULL, NULL},
        {"sign:policy", false, NULL, NULL, NULL},
        {"akpolicy", false, NULL, NULL, NULL},
        {"::", false, NULL, NULL, NULL},
        {":", false, NULL, NULL, NULL},
        {"", false, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        upload_token_parts_t parts;
        bool ok = upload_token_split(cases[i].token, strlen(cases[i].token), &parts);
        if (ok != cases[i].ok)
            fail_msg("\"%s\" %s", cases[i].token, ok ? "accepted" : "rejected");
        if (!ok)
            continue;
        assert_int_equal(parts.access_key_len, strlen(cases[i].ak));
        assert_memory_equal(parts.access_key, cases[i].ak, parts.access_key_len);
        assert_int_equal(parts.encoded_sign_len, strlen(cases[i].sign));
        assert_memory_equal(parts.encoded_sign, cases[i].sign, parts.encoded_sign_len);
        assert_int_equal(parts.encoded_policy_len, strlen(cases[i].policy));
        assert_memory_equal(parts.encoded_policy, cases[i].policy, parts.encoded_policy_len);
    }
    /* `len` bounds the token; it need not be NUL-terminated. */
    upload_token_parts_t parts;
    assert_true(upload_token_split("ak:s:p:extra", 5, &parts) == false);
    assert_true(upload_token_split("ak:s:pXX", 6, &parts));
    assert_int_equal(parts.encoded_policy_len, 1);
}

static void test_signature(void **state)
{
    assert_true(verify(EXAMPLE_TOKEN, "testsk"));
    /* Unpadded sign: SDKs differ on padding. */
    assert_true(verify("testak:NjljNzYyNGUzOThlOWY0YWYxNjQ3YjgxNzgxYjRlY2RhMWNmMzViYQ:" EXAMPLE_ENCODED_POLICY,
                       "testsk"));
    /* The HMAC covers the policy as received, so unpadded policy is a different message. */
    assert_false(verify("testak:" EXAMPLE_SIGN ":eyJzY29wZSI6Im15YnVja2V0OmhlbGxvLnR4dCIsImRlYWRsaW5lIjoiMTcwMDAwMDAwMDAwMCIsIm92ZXJ3cml0ZSI6MX0",
                        "testsk"));
    assert_false(verify(EXAMPLE_TOKEN, "testsK"));
    assert_false(verify(EXAMPLE_TOKEN, ""));
    /* Tampered sign (one character, one padding char too many, truncated). */
    assert_false(verify("testak:MjljNzYyNGUzOThlOWY0YWYxNjQ3YjgxNzgxYjRlY2RhMWNmMzViYQ==:" EXAMPLE_ENCODED_POLICY,
                        "testsk"));
    assert_false(verify("testak:NjljNzYyNGUzOThlOWY0YWYxNjQ3YjgxNzgxYjRlY2RhMWNmMzViYQ===:" EXAMPLE_ENCODED_POLICY,
                        "testsk"));
    assert_false(verify("testak:" EXAMPLE_SIGN ":" EXAMPLE_ENCODED_POLICY "x", "testsk"));
    assert_false(verify("testak:NjljNzYyNGUzOThlOWY0YWYxNjQ3YjgxNzgxYjRlY2RhMWNmMzVi:" EXAMPLE_ENCODED_POLICY,
                        "testsk"));
    assert_false(verify("testak:!!!:" EXAMPLE_ENCODED_POLICY, "testsk"));
    /* Tampered policy ("overwrite":0). */
    assert_false(verify("testak:" EXAMPLE_SIGN ":eyJzY29wZSI6Im15YnVja2V0OmhlbGxvLnR4dCIsImRlYWRsaW5lIjoiMTcwMDAwMDAwMDAwMCIsIm92ZXJ3cml0ZSI6MH0=",
                        "testsk"));

    /* A freshly minted token with an unpadded policy verifies as sent. */
    buf_t out;
    buf_init(&out, 0);
    assert_true(upload_token_mint("AK", "SK", "{\"scope\":\"b\",\"deadline\":1}", &out));
    assert_true(verify(out.data, "SK"));
    assert_false(verify(out.data, "sk"));
    buf_free(&out);
}

/* ---- policy --------------------------------------------------------------- */

/* Builds parts around the base64 of `json` (the signature plays no role here). */
static bool parse_json(const char *json, upload_policy_t *p)
{
    buf_t enc;
    buf_init(&enc, 0);
    assert_true(encoding_b64url_encode(json, strlen(json), &enc));
    upload_token_parts_t parts = {"ak", 2, "s", 1, enc.data, enc.len};
    bool ok = upload_token_policy_parse(&parts, p);
    buf_free(&enc);
    return ok;
}

typedef struct policy_case {
    const char *json;
    bool ok;
    const char *bucket, *key;
    int64_t deadline_ms;
    int overwrite;
    int64_t fsize_limit;
} policy_case_t;

static const policy_case_t policy_cases[] = {
    {"{\"scope\":\"b:k\",\"deadline\":1700000000000}", true, "b", "k", INT64_C(1700000000000), 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":\"1700000000000\"}", true, "b", "k", INT64_C(1700000000000), 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":1700000000000.0}", true, "b", "k", INT64_C(1700000000000), 0, 0},
    {"{\"scope\":\"bucket\",\"deadline\":5}", true, "bucket", NULL, 5, 0, 0},
    {"{\"scope\":\"b:key:with:colons\",\"deadline\":5}", true, "b", "key:with:colons", 5, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"overwrite\":\"1\"}", true, "b", "k", 5, 1, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"overwrite\":\"0\"}", true, "b", "k", 5, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"overwrite\":0}", true, "b", "k", 5, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"fsizeLimit\":1048576}", true, "b", "k", 5, 0, 1048576},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"fsizeLimit\":\"42\"}", true, "b", "k", 5, 0, 42},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"fsizeLimit\":0}", true, "b", "k", 5, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"unknown\":[1,{}],\"x:y\":null}", true, "b", "k", 5, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":9223372036854775807}", true, "b", "k", INT64_MAX, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":\"9223372036854775807\"}", true, "b", "k", INT64_MAX, 0, 0},
    /* rejected */
    {"not json", false, NULL, NULL, 0, 0, 0},
    {"", false, NULL, NULL, 0, 0, 0},
    {"[1,2]", false, NULL, NULL, 0, 0, 0},
    {"\"scope\"", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5} trailing", false, NULL, NULL, 0, 0, 0},
    {"{\"deadline\":5}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"\",\"deadline\":5}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":7,\"deadline\":5}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\":k\",\"deadline\":5}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:\",\"deadline\":5}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\"}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":\"soon\"}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":\"\"}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":\"-5\"}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":-5}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":1.5}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":\"9223372036854775808\"}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":true}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"overwrite\":2}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"overwrite\":\"yes\"}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"overwrite\":true}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"fsizeLimit\":-1}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"fsizeLimit\":\"-1\"}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"deadline\":5,\"returnBody\":1}", false, NULL, NULL, 0, 0, 0},
    {"{\"scope\":\"b:k\",\"scope\":\"c:k\",\"deadline\":5}", false, NULL, NULL, 0, 0, 0},
};

static void test_policy_parse(void **state)
{
    for (size_t i = 0; i < sizeof(policy_cases) / sizeof(policy_cases[0]); i++) {
        const policy_case_t *c = &policy_cases[i];
        upload_policy_t p;
        bool ok = parse_json(c->json, &p);
        if (ok != c->ok)
            fail_msg("%s %s", c->json, ok ? "accepted" : "rejected");
        if (!ok) {
            assert_null(p.scope); /* nothing left to free on failure */
            continue;
        }
        assert_string_equal(p.bucket, c->bucket);
        if (c->key)
            assert_string_equal(p.key, c->key);
        else
            assert_null(p.key);
        assert_true(p.deadline_ms == c->deadline_ms);
        assert_int_equal(p.overwrite, c->overwrite);
        assert_true(p.fsize_limit == c->fsize_limit);
        upload_policy_free(&p);
    }
}

static void test_policy_strings(void **state)
{
    upload_policy_t p;
    assert_true(parse_json("{\"scope\":\"b:video/20240101/x.mp4\",\"deadline\":5,"
                           "\"returnBody\":\"key=$(key)&hash=$(hash)\",\"returnUrl\":\"http://r/\","
                           "\"callbackUrl\":\"http://c/\",\"callbackBody\":\"k=$(key)\","
                           "\"persistentOps\":\"op\",\"persistentNotifyUrl\":\"http://n/\"}",
                           &p));
    assert_string_equal(p.scope, "b:video/20240101/x.mp4");
    assert_string_equal(p.key, "video/20240101/x.mp4");
    assert_string_equal(p.return_body, "key=$(key)&hash=$(hash)");
    assert_string_equal(p.return_url, "http://r/");
    assert_string_equal(p.callback_url, "http://c/");
    assert_string_equal(p.callback_body, "k=$(key)");
    assert_string_equal(p.persistent_ops, "op");
    assert_string_equal(p.persistent_notify_url, "http://n/");
    upload_policy_free(&p);
    assert_null(p.scope);
    upload_policy_free(&p); /* freeing twice is harmless */
}

static void test_policy_not_base64(void **state)
{
    upload_token_parts_t parts = {"ak", 2, "s", 1, "e30*", 4};
    upload_policy_t p;
    assert_false(upload_token_policy_parse(&parts, &p));
    /* Unpadded base64 is fine. */
    parts.encoded_policy = "eyJzY29wZSI6ImIiLCJkZWFkbGluZSI6MX0";
    parts.encoded_policy_len = strlen(parts.encoded_policy);
    assert_true(upload_token_policy_parse(&parts, &p));
    assert_string_equal(p.scope, "b");
    upload_policy_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_worked_example),
        cmocka_unit_test(test_mint_appends),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_policy_strings),
        cmocka_unit_test(test_policy_not_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
