/*
 * test_ws3: the WS3-HMAC-SHA256 signature (auth/ws3.c) against the test
 * vectors of ../shared/spec/api.md section 1, the canonical forms, and the
 * Authorization header parser's accept/reject rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "auth/ws3.h"

#define TEST_AK "AKDEMO0000000000"
#define TEST_SK "SKDEMO00000000000000000000000000"
#define TEST_TS "1700000000"
#define TEST_PATH "/vod/videoManage/getUploadToken"

/* ---- a request fixture ------------------------------------------------- */

typedef struct test_header {
    const char *name; /* lowercase */
    const char *value;
} test_header_t;

typedef struct test_headers {
    const test_header_t *list;
    size_t count;
} test_headers_t;

static const char *test_header_lookup(void *ctx, const char *lowercase_name)
{
    const test_headers_t *h = ctx;
    for (size_t i = 0; i < h->count; i++)
        if (strcmp(h->list[i].name, lowercase_name) == 0)
            return h->list[i].value;
    return NULL;
}

static void test_sha256(const char *body, uint8_t out[32])
{
    unsigned int len = 0;
    assert_int_equal(EVP_Digest(body, strlen(body), out, &len, EVP_sha256(), NULL), 1);
    assert_int_equal(len, 32);
}

static void test_request(ws3_request_t *req, const char *method, const ws3_pair_t *query,
                         size_t query_count, test_headers_t *headers, const char *body)
{
    memset(req, 0, sizeof(*req));
    req->method = method;
    req->path = TEST_PATH;
    req->query = query;
    req->query_count = query_count;
    req->header_lookup = test_header_lookup;
    req->header_ctx = headers;
    test_sha256(body, req->body_sha256);
}

#define PAIR(n, v) {(n), sizeof(n) - 1, (v), sizeof(v) - 1}

/* ---- the spec's test vectors ------------------------------------------ */

typedef struct vector {
    const char *method;
    const char *host;
    const char *content_type; /* NULL: not sent */
    const char *body;
    const char *signed_headers;
    const ws3_pair_t *query;
    size_t query_count;
    const char *canonical_query;
    const char *signature;
} vector_t;

static const ws3_pair_t vector3_query[] = {
    PAIR("overwrite", "1"),
    PAIR("originFileName", "\xe8\xa7\x86\xe9\xa2\x91 a.mp4"), /* "视频 a.mp4" */
};

static const vector_t vectors[] = {
    {"POST", "127.0.0.1:8080", "application/x-www-form-urlencoded; charset=utf-8",
     "originFileName=uploadtest.mp4", "content-type;host", NULL, 0, "",
     "5cde05e4cdcadda72ada003ddb2b41fa0847e91fe854acbe0a9fed3d382db9a9"},
    {"POST", "api.example.com", "application/json; charset=utf-8",
     "{\"originFileName\":\"uploadtest.mp4\",\"overwrite\":\"1\"}", "content-type;host", NULL, 0, "",
     "18a8266e94c7648d68bbd5616a0e7586bfad07cb4fc122352cfc380e7b7fc63b"},
    {"GET", "127.0.0.1:8080", NULL, "", "host", vector3_query, 2,
     "originFileName=%E8%A7%86%E9%A2%91%20a.mp4&overwrite=1",
     "db88a2e463623208cfb1de28638dc7e500f36e9902a5b1861db21352053163f4"},
};

static void test_vectors(void **state)
{
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const vector_t *v = &vectors[i];
        test_header_t list[2] = {{"host", v->host}, {"content-type", v->content_type}};
        test_headers_t headers = {list, v->content_type ? 2 : 1};
        ws3_request_t req;
        test_request(&req, v->method, v->query, v->query_count, &headers, v->body);

        buf_t q;
        buf_init(&q, 0);
        assert_true(ws3_canonical_query(v->query, v->query_count, &q));
        assert_int_equal(q.len, strlen(v->canonical_query));
        if (q.len)
            assert_string_equal(q.data, v->canonical_query);
        buf_free(&q);

        char sig[WS3_SIGNATURE_HEX_LEN + 1];
        assert_true(ws3_sign(&req, v->signed_headers, TEST_TS, TEST_SK, sig));
        assert_string_equal(sig, v->signature);
        assert_true(ws3_signature_equal(sig, v->signature));
    }
}

/* The pieces of vector 1, spelled out, so a failure points at the stage. */
static void test_vector1_stages(void **state)
{
    test_header_t list[] = {{"host", "127.0.0.1:8080"},
                            {"content-type", "application/x-www-form-urlencoded; charset=utf-8"}};
    test_headers_t headers = {list, 2};
    ws3_request_t req;
    test_request(&req, "POST", NULL, 0, &headers, "originFileName=uploadtest.mp4");

    buf_t canonical, to_sign;
    buf_init(&canonical, 0);
    buf_init(&to_sign, 0);
    assert_true(ws3_canonical_request(&req, "Content-Type;Host", &canonical));
    char expect_prefix[] = "POST\n" TEST_PATH "\n\n"
                           "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
                           "host:127.0.0.1:8080\n"
                           "\n"
                           "content-type;host\n";
    assert_true(canonical.len == strlen(expect_prefix) + 64);
    assert_memory_equal(canonical.data, expect_prefix, strlen(expect_prefix));

    assert_true(ws3_string_to_sign(TEST_TS, canonical.data, canonical.len, &to_sign));
    assert_int_equal(to_sign.len, strlen("WS3-HMAC-SHA256\n" TEST_TS "\n") + 64);
    assert_memory_equal(to_sign.data, "WS3-HMAC-SHA256\n" TEST_TS "\n", 27);

    char sig[WS3_SIGNATURE_HEX_LEN + 1];
    ws3_signature(TEST_SK, to_sign.data, to_sign.len, sig);
    assert_string_equal(sig, vectors[0].signature);
    buf_free(&canonical);
    buf_free(&to_sign);
}

static void test_body_changes_signature(void **state)
{
    test_header_t list[] = {{"host", "127.0.0.1:8080"}, {"content-type", "text/plain"}};
    test_headers_t headers = {list, 2};
    ws3_request_t a, b;
    test_request(&a, "POST", NULL, 0, &headers, "originFileName=uploadtest.mp4");
    test_request(&b, "POST", NULL, 0, &headers, "originFileName=uploadtest.mp5");
    char sa[WS3_SIGNATURE_HEX_LEN + 1], sb[WS3_SIGNATURE_HEX_LEN + 1];
    assert_true(ws3_sign(&a, "content-type;host", TEST_TS, TEST_SK, sa));
    assert_true(ws3_sign(&b, "content-type;host", TEST_TS, TEST_SK, sb));
    assert_string_not_equal(sa, sb);
    assert_false(ws3_signature_equal(sa, sb));

    /* So do the timestamp and the key. */
    assert_true(ws3_sign(&a, "content-type;host", "1700000001", TEST_SK, sb));
    assert_string_not_equal(sa, sb);
    assert_true(ws3_sign(&a, "content-type;host", TEST_TS, "other", sb));
    assert_string_not_equal(sa, sb);
}

/* ---- CanonicalQuery ----------------------------------------------------- */

typedef struct query_case {
    const char *what;
    ws3_pair_t pairs[4];
    size_t count;
    const char *expect;
} query_case_t;

static const query_case_t query_cases[] = {
    {"empty", {{0}}, 0, ""},
    {"sorted by name", {PAIR("b", "1"), PAIR("a", "2"), PAIR("c", "0")}, 3, "a=2&b=1&c=0"},
    {"same name sorted by value", {PAIR("a", "z"), PAIR("a", "b"), PAIR("a", "")}, 3, "a=&a=b&a=z"},
    {"duplicate pairs kept", {PAIR("x", "1"), PAIR("x", "1")}, 2, "x=1&x=1"},
    {"no '=' counts as empty", {{"k", 1, NULL, 0}, PAIR("j", "v")}, 2, "j=v&k="},
    {"bytewise, uppercase first", {PAIR("a", "1"), PAIR("B", "2"), PAIR("Z", "3")}, 3, "B=2&Z=3&a=1"},
    {"prefix sorts first", {PAIR("ab", "1"), PAIR("a", "2")}, 2, "a=2&ab=1"},
    {"tilde kept, space escaped", {PAIR("t~x", "a b")}, 1, "t~x=a%20b"},
    {"reserved escaped", {PAIR("a&b=c", "+/?#%")}, 1, "a%26b%3Dc=%2B%2F%3F%23%25"},
    {"unreserved kept", {PAIR("Az09-_.~", "x")}, 1, "Az09-_.~=x"},
    {"UTF-8 uppercase hex", {PAIR("n", "\xc3\xa9")}, 1, "n=%C3%A9"},
    {"NUL byte", {{"n", 1, "a\0b", 3}}, 1, "n=a%00b"},
};

static void test_canonical_query(void **state)
{
    for (size_t i = 0; i < sizeof(query_cases) / sizeof(query_cases[0]); i++) {
        const query_case_t *c = &query_cases[i];
        buf_t out;
        buf_init(&out, 0);
        assert_true(buf_append_str(&out, "prefix|")); /* appends, never overwrites */
        assert_true(ws3_canonical_query(c->pairs, c->count, &out));
        if (strcmp(out.data + 7, c->expect) != 0)
            fail_msg("%s: got \"%s\", want \"%s\"", c->what, out.data + 7, c->expect);
        assert_int_equal(out.len, 7 + strlen(c->expect));
        buf_free(&out);
    }
}

/* A larger query still comes out sorted (exercises the in-buffer index). */
static void test_canonical_query_many(void **state)
{
    static char names[200][4];
    ws3_pair_t pairs[200];
    for (size_t i = 0; i < 200; i++) {
        size_t k = (i * 7919) % 200; /* a permutation of 0..199 */
        names[i][0] = (char)('a' + k / 26 % 26);
        names[i][1] = (char)('a' + k % 26);
        names[i][2] = (char)('0' + k / 100);
        pairs[i] = (ws3_pair_t){names[i], 3, "v", 1};
    }
    buf_t out;
    buf_init(&out, 0);
    assert_true(ws3_canonical_query(pairs, 200, &out));
    assert_int_equal(out.len, 200 * 5 + 199);
    for (size_t i = 1; i < 200; i++)
        assert_true(memcmp(out.data + (i - 1) * 6, out.data + i * 6, 3) < 0);
    buf_free(&out);
}

/* ---- CanonicalHeaders --------------------------------------------------- */

static void test_header_folding(void **state)
{
    static const struct {
        const char *value;
        const char *expect;
    } cases[] = {
        {"  a   b  ", "a b"},
        {"a\t\tb", "a b"},
        {"\t a \t b \t c\t", "a b c"},
        {"plain", "plain"},
        {"   ", ""},
        {"", ""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_header_t list[] = {{"x-h", cases[i].value}};
        test_headers_t headers = {list, 1};
        ws3_request_t req;
        test_request(&req, "GET", NULL, 0, &headers, "");
        buf_t out, expect;
        buf_init(&out, 0);
        buf_init(&expect, 0);
        assert_true(ws3_canonical_request(&req, "X-H", &out));
        assert_true(buf_printf(&expect, "GET\n" TEST_PATH "\n\nx-h:%s\n\nx-h\n"
                               "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                               cases[i].expect));
        assert_string_equal(out.data, expect.data);
        buf_free(&out);
        buf_free(&expect);
    }
}

static void test_canonical_request_rejects(void **state)
{
    static const char *bad_lists[] = {"", ";", "host;", ";host", "host;;x-a", "host;missing",
                                      "ho st", "host,x-a"};
    test_header_t list[] = {{"host", "h"}, {"x-a", "1"}};
    test_headers_t headers = {list, 2};
    ws3_request_t req;
    test_request(&req, "GET", NULL, 0, &headers, "");
    for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
        buf_t out;
        buf_init(&out, 0);
        assert_true(buf_append_str(&out, "keep"));
        if (ws3_canonical_request(&req, bad_lists[i], &out))
            fail_msg("accepted SignedHeaders \"%s\"", bad_lists[i]);
        assert_string_equal(out.data, "keep"); /* nothing half-written */
        buf_free(&out);
        char sig[WS3_SIGNATURE_HEX_LEN + 1];
        assert_false(ws3_sign(&req, bad_lists[i], TEST_TS, TEST_SK, sig));
        assert_string_equal(sig, "");
    }
    /* Signing a header more than once, in any order, is well defined. */
    buf_t out;
    buf_init(&out, 0);
    assert_true(ws3_canonical_request(&req, "x-a;HOST;x-a", &out));
    assert_non_null(strstr(out.data, "\n\nx-a:1\nhost:h\nx-a:1\n\nx-a;host;x-a\n"));
    buf_free(&out);
}

/* ---- Authorization header ----------------------------------------------- */

#define SIG64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define CRED128                                                                                   \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" \
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"

typedef struct header_case {
    const char *value;
    bool ok;
    const char *credential; /* expected when ok */
    const char *signed_headers;
    const char *signature;
} header_case_t;

static const header_case_t header_cases[] = {
    /* accepted */
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=content-type;host, Signature=" SIG64,
     true, TEST_AK, "content-type;host", SIG64},
    {"WS3-HMAC-SHA256 Signature=" SIG64 ", Credential=" TEST_AK ", SignedHeaders=host", true,
     TEST_AK, "host", SIG64},
    {"WS3-HMAC-SHA256 SignedHeaders=host,Signature=" SIG64 ",Credential=" TEST_AK, true, TEST_AK,
     "host", SIG64},
    {"  WS3-HMAC-SHA256   Credential=" TEST_AK "  ,   SignedHeaders=host ,Signature=" SIG64 "  ",
     true, TEST_AK, "host", SIG64},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=Content-Type;HOST, Signature="
     "0123456789ABCDEF0123456789ABCDEF0123456789abcdef0123456789ABCDEF",
     true, TEST_AK, "Content-Type;HOST", SIG64},
    {"WS3-HMAC-SHA256 Credential=" CRED128 ", SignedHeaders=host, Signature=" SIG64, true, CRED128,
     "host", SIG64},
    {"WS3-HMAC-SHA256 Credential=a!~=/+, SignedHeaders=host, Signature=" SIG64, true, "a!~=/+",
     "host", SIG64},
    /* rejected */
    {"", false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256", false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 ", false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=host", false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", Credential=" TEST_AK ", SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=host, Signature=" SIG64 ", Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA1 Credential=" TEST_AK ", SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"ws3-hmac-sha256 Credential=" TEST_AK ", SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256Credential=" TEST_AK ", SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=host, Signature=" "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde", false, NULL, NULL, NULL}, /* 63 */
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=host, Signature=" SIG64 "0", false, NULL, NULL, NULL}, /* 65 */
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=host, Signature=" "g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=, SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=AK DEMO, SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential= " TEST_AK ", SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" CRED128 "A, SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=\xc3\xa9, SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=a;;b, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=host;, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=ho st, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=host:x, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=host, Signature=" SIG64 ",", false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ",, SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 , Credential=" TEST_AK ", SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK " SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential=" TEST_AK ", SignedHeaders=host, Signature=" SIG64 ", Extra=1", false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 credential=" TEST_AK ", SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
    {"WS3-HMAC-SHA256 Credential =" TEST_AK ", SignedHeaders=host, Signature=" SIG64, false, NULL, NULL, NULL},
};

static void test_auth_header_parse(void **state)
{
    for (size_t i = 0; i < sizeof(header_cases) / sizeof(header_cases[0]); i++) {
        const header_case_t *c = &header_cases[i];
        ws3_auth_header_t h;
        memset(&h, 0x5a, sizeof(h));
        bool ok = ws3_auth_header_parse(c->value, strlen(c->value), &h);
        if (ok != c->ok)
            fail_msg("case %zu: \"%s\" %s", i, c->value, ok ? "accepted" : "rejected");
        if (!ok)
            continue;
        assert_string_equal(h.credential, c->credential);
        assert_string_equal(h.signed_headers, c->signed_headers);
        assert_string_equal(h.signature, c->signature);
    }
}

static void test_auth_header_not_nul_terminated(void **state)
{
    static const char text[] = "WS3-HMAC-SHA256 Credential=AK, SignedHeaders=host, Signature=" SIG64;
    char copy[sizeof(text) + 8];
    memcpy(copy, text, sizeof(text) - 1);
    memcpy(copy + sizeof(text) - 1, "ffXXXXXXX", 9); /* trailing garbage outside len */
    ws3_auth_header_t h;
    assert_true(ws3_auth_header_parse(copy, sizeof(text) - 1, &h));
    assert_string_equal(h.signature, SIG64);
    /* An embedded NUL is not a valid character anywhere. */
    char nul[] = "WS3-HMAC-SHA256 Credential=A\0B, SignedHeaders=host, Signature=" SIG64;
    assert_false(ws3_auth_header_parse(nul, sizeof(nul) - 1, &h));
}

/* ---- signature comparison, SignedHeaders lookup --------------------------- */

static void test_signature_equal(void **state)
{
    assert_true(ws3_signature_equal(SIG64, SIG64));
    assert_true(ws3_signature_equal(SIG64, "0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF"));
    assert_false(ws3_signature_equal(SIG64, "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
    assert_false(ws3_signature_equal(SIG64, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdee"));
    assert_false(ws3_signature_equal(SIG64, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde"));
    assert_false(ws3_signature_equal(SIG64, SIG64 "0"));
    assert_false(ws3_signature_equal(SIG64, ""));
    assert_false(ws3_signature_equal("", ""));
    assert_false(ws3_signature_equal(SIG64, NULL));
}

static void test_signed_headers_contain(void **state)
{
    assert_true(ws3_signed_headers_contain("content-type;host", "host"));
    assert_true(ws3_signed_headers_contain("Content-Type;HOST", "host"));
    assert_true(ws3_signed_headers_contain("Content-Type;HOST", "content-type"));
    assert_true(ws3_signed_headers_contain("host", "host"));
    assert_false(ws3_signed_headers_contain("content-type;host", "content"));
    assert_false(ws3_signed_headers_contain("content-type;hostx", "host"));
    assert_false(ws3_signed_headers_contain("xhost", "host"));
    assert_false(ws3_signed_headers_contain("", "host"));
    assert_false(ws3_signed_headers_contain("a;;b", ""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_vector1_stages),
        cmocka_unit_test(test_body_changes_signature),
        cmocka_unit_test(test_canonical_query),
        cmocka_unit_test(test_canonical_query_many),
        cmocka_unit_test(test_header_folding),
        cmocka_unit_test(test_canonical_request_rejects),
        cmocka_unit_test(test_auth_header_parse),
        cmocka_unit_test(test_auth_header_not_nul_terminated),
        cmocka_unit_test(test_signature_equal),
        cmocka_unit_test(test_signed_headers_contain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
