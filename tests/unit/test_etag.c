/*
 * test_etag: the WCS etag (upload/etag.c) against the five examples of
 * upload-protocol.md section 6, fed whole and in awkward splits (every byte
 * alone, pieces that end just before and just after the 4 MiB boundary,
 * random sizes), plus multi-piece contents checked against the formula
 * computed here with one-shot SHA-1s.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/encoding.h"
#include "upload/etag.h"

#define MIB ((size_t)1024 * 1024)

static const struct {
    const char *name;
    size_t len;
    bool zeros; /* else "hello" */
    const char *etag;
} etag_vectors[] = {
    {"empty", 0, true, "Fto5o-5ea0sNMlW_75VgGJCv2AcJ"},
    {"hello", 5, false, "Fqr0xh3cxeii2r7eDztILNmuqUNN"},
    {"4 MiB of zeros", 4 * MIB, true, "FivMvS848VwT631aif2dhfWV4jvD"},
    {"4 MiB + 1 of zeros", 4 * MIB + 1, true, "lhCFgki5yzon0rjN9uJusf6qtsF6"},
    {"5 MiB of zeros", 5 * MIB, true, "lrMhp7oU8rzWSRlmUeGJ73Q2pVa-"},
};

static uint8_t *vector_data(size_t i)
{
    uint8_t *data = calloc(1, etag_vectors[i].len + 1);
    assert_non_null(data);
    if (!etag_vectors[i].zeros)
        memcpy(data, "hello", 6); /* with the NUL: the buffer has len + 1 */
    return data;
}

/* Feeds `data` in chunks of the sizes in `split` (cycled; 0 = random size
 * up to 1 MiB from a fixed seed) and returns the etag in out. */
static void etag_split(const uint8_t *data, size_t len, const size_t *split, size_t nsplit, char out[ETAG_LEN + 1])
{
    etag_t e;
    assert_true(etag_init(&e));
    unsigned int seed = 12345;
    size_t off = 0;
    for (size_t k = 0; off < len; k++) {
        size_t n = split[k % nsplit];
        if (n == 0)
            n = (size_t)rand_r(&seed) % MIB; /* may be 0: an empty update is legal too */
        if (n > len - off)
            n = len - off;
        assert_true(etag_update(&e, data + off, n));
        off += n;
    }
    assert_true(etag_final(&e, out));
    assert_int_equal(strlen(out), ETAG_LEN);
}

static void test_vectors_whole(void **state)
{
    for (size_t i = 0; i < sizeof(etag_vectors) / sizeof(etag_vectors[0]); i++) {
        uint8_t *data = vector_data(i);
        etag_t e;
        char out[ETAG_LEN + 1];
        assert_true(etag_init(&e));
        assert_true(etag_update(&e, data, etag_vectors[i].len));
        assert_true(etag_final(&e, out));
        if (strcmp(out, etag_vectors[i].etag) != 0)
            fail_msg("%s: got %s, want %s", etag_vectors[i].name, out, etag_vectors[i].etag);
        free(data);
    }
}

static void test_vectors_split(void **state)
{
    static const size_t one[] = {1};
    static const size_t before[] = {4 * MIB - 1};
    static const size_t after[] = {4 * MIB + 1};
    static const size_t mixed[] = {3, 4 * MIB - 4, 1, 1, 7};
    static const size_t random[] = {0};
    static const struct {
        const size_t *sizes;
        size_t n;
    } splits[] = {{one, 1}, {before, 1}, {after, 1}, {mixed, 5}, {random, 1}};
    for (size_t i = 0; i < sizeof(etag_vectors) / sizeof(etag_vectors[0]); i++) {
        uint8_t *data = vector_data(i);
        for (size_t s = 0; s < sizeof(splits) / sizeof(splits[0]); s++) {
            char out[ETAG_LEN + 1];
            etag_split(data, etag_vectors[i].len, splits[s].sizes, splits[s].n, out);
            if (strcmp(out, etag_vectors[i].etag) != 0)
                fail_msg("%s, split %zu: got %s, want %s", etag_vectors[i].name, s, out, etag_vectors[i].etag);
        }
        free(data);
    }
}

/* len bytes from rand_r(seed): contents that differ from piece to piece. */
static uint8_t *random_bytes(size_t len, unsigned int seed)
{
    uint8_t *data = malloc(len);
    assert_non_null(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)rand_r(&seed);
    return data;
}

/* The formula of section 6, written out with one-shot SHA-1s. */
static void etag_reference(const uint8_t *data, size_t len, char out[ETAG_LEN + 1])
{
    uint8_t raw[21];
    size_t pieces = len <= 4 * MIB ? 1 : (len + 4 * MIB - 1) / (4 * MIB);
    if (pieces == 1) {
        raw[0] = 0x16;
        assert_int_equal(EVP_Digest(data, len, raw + 1, NULL, EVP_sha1(), NULL), 1);
    } else {
        uint8_t *digests = malloc(pieces * 20);
        assert_non_null(digests);
        for (size_t i = 0; i < pieces; i++) {
            size_t n = i + 1 < pieces ? 4 * MIB : len - i * 4 * MIB;
            assert_int_equal(EVP_Digest(data + i * 4 * MIB, n, digests + i * 20, NULL, EVP_sha1(), NULL), 1);
        }
        raw[0] = 0x96;
        assert_int_equal(EVP_Digest(digests, pieces * 20, raw + 1, NULL, EVP_sha1(), NULL), 1);
        free(digests);
    }
    buf_t b;
    buf_init(&b, 0);
    assert_true(encoding_b64url_encode(raw, sizeof(raw), &b));
    assert_int_equal(b.len, ETAG_LEN);
    snprintf(out, ETAG_LEN + 1, "%s", b.data);
    buf_free(&b);
}

/* Three pieces and more, which the spec's examples do not reach, with
 * contents that differ from piece to piece so an order mistake shows. */
static void test_many_pieces(void **state)
{
    static const size_t lens[] = {8 * MIB, 8 * MIB + 1, 12 * MIB - 1, 13 * MIB + 12345};
    static const size_t sizes[] = {0};
    static const size_t boundary[] = {4 * MIB - 1, 2};
    uint8_t *data = random_bytes(13 * MIB + 12345, 42);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        char want[ETAG_LEN + 1], got[ETAG_LEN + 1];
        etag_reference(data, lens[i], want);
        assert_int_equal(want[0], 'l'); /* 0x96 prefix */
        etag_split(data, lens[i], sizes, 1, got);
        assert_string_equal(got, want);
        etag_split(data, lens[i], boundary, 2, got);
        assert_string_equal(got, want);
        etag_split(data, lens[i], &lens[i], 1, got);
        assert_string_equal(got, want);
    }
    free(data);
}

/* An upload abandoned half-way frees its state without finishing (the
 * sanitizer build reports a leak otherwise), and free is idempotent. */
static void test_free_unfinished(void **state)
{
    etag_t e;
    assert_true(etag_init(&e));
    static const uint8_t bytes[16];
    assert_true(etag_update(&e, bytes, sizeof(bytes)));
    etag_free(&e);
    etag_free(&e);

    char out[ETAG_LEN + 1];
    assert_true(etag_init(&e));
    assert_true(etag_final(&e, out));
    assert_string_equal(out, "Fto5o-5ea0sNMlW_75VgGJCv2AcJ");
    etag_free(&e); /* after final: nothing left to free */
    assert_false(etag_update(&e, bytes, 1));
}

/* Pieces given as digests (the digest thread's work, etag_add_piece), mixed
 * with pieces given as bytes, in every pattern: same etag as the bytes. */
static void test_known_pieces(void **state)
{
    static const size_t lens[] = {1, 4 * MIB, 4 * MIB + 1, 8 * MIB, 13 * MIB + 12345};
    uint8_t *data = random_bytes(13 * MIB + 12345, 7);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t len = lens[i], pieces = (len + 4 * MIB - 1) / (4 * MIB);
        char want[ETAG_LEN + 1], got[ETAG_LEN + 1];
        etag_reference(data, len, want);
        /* Bit p of `mask` set: piece p goes as its digest. */
        for (unsigned mask = 0; mask < (1u << pieces); mask++) {
            etag_t e;
            assert_true(etag_init(&e));
            for (size_t p = 0; p < pieces; p++) {
                size_t n = p + 1 < pieces ? 4 * MIB : len - p * 4 * MIB;
                if (mask & (1u << p)) {
                    uint8_t d[20];
                    assert_int_equal(EVP_Digest(data + p * 4 * MIB, n, d, NULL, EVP_sha1(), NULL), 1);
                    assert_true(etag_add_piece(&e, d, n));
                } else {
                    assert_true(etag_update(&e, data + p * 4 * MIB, n));
                }
            }
            assert_true(etag_final(&e, got));
            if (strcmp(got, want) != 0)
                fail_msg("%zu bytes, mask %u: got %s, want %s", len, mask, got, want);
        }
    }
    free(data);
}

/* A digest only on a piece boundary, and nothing after a short piece. */
static void test_known_pieces_misplaced(void **state)
{
    static const uint8_t d[20], bytes[8];
    etag_t e;
    assert_true(etag_init(&e));
    assert_true(etag_update(&e, bytes, sizeof(bytes)));
    assert_false(etag_add_piece(&e, d, 4 * MIB)); /* mid-piece */
    etag_free(&e);

    assert_true(etag_init(&e));
    assert_true(etag_add_piece(&e, d, 100));
    assert_false(etag_add_piece(&e, d, 4 * MIB)); /* after a short piece */
    assert_false(etag_update(&e, bytes, 1));
    etag_free(&e);

    assert_true(etag_init(&e));
    assert_false(etag_add_piece(&e, d, 4 * MIB + 1)); /* longer than a piece */
    etag_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_whole),
        cmocka_unit_test(test_vectors_split),
        cmocka_unit_test(test_many_pieces),
        cmocka_unit_test(test_free_unfinished),
        cmocka_unit_test(test_known_pieces),
        cmocka_unit_test(test_known_pieces_misplaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
