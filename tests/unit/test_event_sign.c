/*
 * test_event_sign: webhook signatures (events/event_sign.c): the documented
 * test vector, what a receiver accepts and what it refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/event_sign.h"

/* The vector of event_sign.h, byte for byte. */
#define VEC_SECRET "whsec_000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define VEC_T 1767225600LL
#define VEC_BODY                                                                                                   \
    "{\"eventId\":\"evt_1\",\"eventType\":\"VideoDeleted\",\"eventTime\":\"2026-01-01T00:00:00.000Z\","           \
    "\"videoId\":\"v1\",\"data\":{}}"
#define VEC_SIG "de2241406eee09cfabb239425e8b3102e575314bf049457741cce35e028196de"
#define VEC_HEADER "t=1767225600,v1=" VEC_SIG

static bool verify(const char *header, const char *body, int64_t now, int64_t tolerance, const char **why)
{
    return event_sign_verify(VEC_SECRET, header, body, strlen(body), now, tolerance, why);
}

static void test_vector(void **state)
{
    (void)state;
    char out[EVENT_SIGN_HEADER_MAX];
    assert_true(event_sign_header(VEC_SECRET, VEC_T, VEC_BODY, strlen(VEC_BODY), out, sizeof(out)));
    assert_string_equal(out, VEC_HEADER);
    const char *why = NULL;
    assert_true(verify(VEC_HEADER, VEC_BODY, VEC_T, EVENT_SIGN_DEFAULT_TOLERANCE_S, &why));
    assert_string_equal(why, "ok");
}

/* Any change to the signature, the body, the timestamp or the secret fails. */
static void test_tampering(void **state)
{
    (void)state;
    const char *why = NULL;
    char header[] = VEC_HEADER;
    header[strlen(header) - 1] ^= 1; /* the last hex digit: 'e' -> 'd' */
    assert_false(verify(header, VEC_BODY, VEC_T, 300, &why));
    assert_string_equal(why, "mismatch");

    char body[] = VEC_BODY;
    body[10] ^= 1;
    assert_false(verify(VEC_HEADER, body, VEC_T, 300, &why));
    assert_string_equal(why, "mismatch");

    assert_false(verify("t=1767225601,v1=" VEC_SIG, VEC_BODY, VEC_T, 300, &why));
    assert_string_equal(why, "mismatch");

    assert_false(event_sign_verify(VEC_SECRET "0", VEC_HEADER, VEC_BODY, strlen(VEC_BODY), VEC_T, 300, &why));
    assert_string_equal(why, "mismatch");

    /* Hex digits are lowercase, as sent; an uppercase copy is not the signature. */
    char upper[] = VEC_HEADER;
    for (char *p = upper + strlen("t=1767225600,v1="); *p; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    assert_false(verify(upper, VEC_BODY, VEC_T, 300, &why));
}

static void test_tolerance(void **state)
{
    (void)state;
    const char *why = NULL;
    static const struct {
        int64_t now, tolerance;
        bool ok;
        const char *why;
    } cases[] = {
        {VEC_T, 0, true, "ok"},
        {VEC_T + 300, 300, true, "ok"},
        {VEC_T + 301, 300, false, "too old"},
        {VEC_T - 300, 300, true, "ok"},
        {VEC_T - 301, 300, false, "too new"},
        {VEC_T + 1000000000, -1, true, "ok"}, /* no time check */
        {INT64_MAX, 300, false, "too old"},
        {INT64_MIN, 300, false, "too new"},
        {-1, 300, false, "too new"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        bool ok = verify(VEC_HEADER, VEC_BODY, cases[i].now, cases[i].tolerance, &why);
        if (ok != cases[i].ok || strcmp(why, cases[i].why) != 0)
            fail_msg("case %zu: %d %s", i, ok, why);
    }
}

/* Several v1 entries (a sender rotating secrets), unknown entries, blanks. */
static void test_header_forms(void **state)
{
    (void)state;
    static const char *const accepted[] = {
        "t=1767225600,v1=" VEC_SIG ",v1=0000000000000000000000000000000000000000000000000000000000000000",
        "t=1767225600,v1=0000000000000000000000000000000000000000000000000000000000000000,v1=" VEC_SIG,
        "v1=" VEC_SIG ",t=1767225600",
        "t=1767225600,v0=anything,v2=later,v1=" VEC_SIG,
        "t=1767225600, v1=" VEC_SIG,
        "  t=1767225600 ,\tv1=" VEC_SIG "  ",
        "t=1767225600,v1=short,v1=" VEC_SIG,
        "t=0001767225600,v1=" VEC_SIG, /* the same number */
    };
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
        if (!verify(accepted[i], VEC_BODY, VEC_T, 300, NULL))
            fail_msg("refused: %s", accepted[i]);
}

static void test_malformed(void **state)
{
    (void)state;
    static const char *const refused[] = {
        "",
        ",",
        "t=1767225600",
        "v1=" VEC_SIG,
        "t=,v1=" VEC_SIG,
        "t=abc,v1=" VEC_SIG,
        "t=-1767225600,v1=" VEC_SIG,
        "t=+1767225600,v1=" VEC_SIG,
        "t=1767225600.5,v1=" VEC_SIG,
        "t=99999999999999999999,v1=" VEC_SIG, /* 20 digits */
        "t=9223372036854775808,v1=" VEC_SIG,  /* INT64_MAX + 1 */
        "t=1767225600,t=1767225600,v1=" VEC_SIG,
        "t=1767225600,,v1=" VEC_SIG,
        ",t=1767225600,v1=" VEC_SIG,
        "t=1767225600,v1=" VEC_SIG ",",
        "t=1767225600,=x,v1=" VEC_SIG,
        "t=1767225600,junk,v1=" VEC_SIG,
        "t = 1767225600,v1=" VEC_SIG,
    };
    const char *why = NULL;
    for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
        if (verify(refused[i], VEC_BODY, VEC_T, 300, &why) || strcmp(why, "malformed") != 0)
            fail_msg("accepted or not malformed (%s): %s", why, refused[i]);
    }
    assert_false(event_sign_verify(NULL, VEC_HEADER, VEC_BODY, 10, VEC_T, 300, NULL));
    assert_false(event_sign_verify("", VEC_HEADER, VEC_BODY, 10, VEC_T, 300, NULL));
    assert_false(event_sign_verify(VEC_SECRET, NULL, VEC_BODY, 10, VEC_T, 300, NULL));
    assert_false(event_sign_verify(VEC_SECRET, VEC_HEADER, NULL, 10, VEC_T, 300, NULL));
}

/* Bounded work: too long a header or too many v1 entries is refused unread. */
static void test_limits(void **state)
{
    (void)state;
    char *h = malloc(EVENT_SIGN_VERIFY_HEADER_MAX + 200);
    assert_non_null(h);
    int n = snprintf(h, EVENT_SIGN_VERIFY_HEADER_MAX + 200, "t=1767225600,v1=%s", VEC_SIG);
    while ((size_t)n < EVENT_SIGN_VERIFY_HEADER_MAX - 5)
        h[n++] = ' '; /* blanks are fine, up to the limit */
    h[n] = '\0';
    assert_true(verify(h, VEC_BODY, VEC_T, 300, NULL));
    while ((size_t)n <= EVENT_SIGN_VERIFY_HEADER_MAX)
        h[n++] = ' ';
    h[n] = '\0';
    assert_false(verify(h, VEC_BODY, VEC_T, 300, NULL));

    n = snprintf(h, EVENT_SIGN_VERIFY_HEADER_MAX + 200, "t=1767225600");
    for (int i = 0; i < 16; i++)
        n += snprintf(h + n, (size_t)(EVENT_SIGN_VERIFY_HEADER_MAX + 200 - n), ",v1=%d", i);
    snprintf(h + n, (size_t)(EVENT_SIGN_VERIFY_HEADER_MAX + 200 - n), ",v1=%s", VEC_SIG); /* the 17th */
    assert_false(verify(h, VEC_BODY, VEC_T, 300, NULL));
    free(h);
}

static void test_header_arguments(void **state)
{
    (void)state;
    char out[EVENT_SIGN_HEADER_MAX];
    assert_false(event_sign_header(VEC_SECRET, VEC_T, VEC_BODY, strlen(VEC_BODY), out, strlen(VEC_HEADER)));
    assert_string_equal(out, "");
    assert_true(event_sign_header(VEC_SECRET, VEC_T, VEC_BODY, strlen(VEC_BODY), out, strlen(VEC_HEADER) + 1));
    assert_false(event_sign_header(VEC_SECRET, -1, VEC_BODY, 1, out, sizeof(out)));
    assert_false(event_sign_header("", VEC_T, VEC_BODY, 1, out, sizeof(out)));
    assert_false(event_sign_header(NULL, VEC_T, VEC_BODY, 1, out, sizeof(out)));
    assert_false(event_sign_header(VEC_SECRET, VEC_T, NULL, 1, out, sizeof(out)));
    /* An empty body is signed like any other, and the longest t fits. */
    assert_true(event_sign_header(VEC_SECRET, INT64_MAX, NULL, 0, out, sizeof(out)));
    assert_true(event_sign_verify(VEC_SECRET, out, "", 0, INT64_MAX, 0, NULL));
    /* A body with NULs is signed to its length, not to the first NUL. */
    static const char nul_body[] = {'a', '\0', 'b'};
    assert_true(event_sign_header(VEC_SECRET, VEC_T, nul_body, 3, out, sizeof(out)));
    assert_true(event_sign_verify(VEC_SECRET, out, nul_body, 3, VEC_T, 0, NULL));
    assert_false(event_sign_verify(VEC_SECRET, out, nul_body, 1, VEC_T, 0, NULL));
}

static void test_secret(void **state)
{
    (void)state;
    char a[EVENT_SIGN_SECRET_LEN + 1], b[EVENT_SIGN_SECRET_LEN + 1];
    assert_true(event_sign_secret_new(a));
    assert_true(event_sign_secret_new(b));
    assert_int_equal(strlen(a), EVENT_SIGN_SECRET_LEN);
    assert_memory_equal(a, "whsec_", 6);
    assert_true(event_sign_secret_valid(a));
    assert_string_not_equal(a, b);
    /* All 64 digits are random: across 16 secrets, each position takes more
     * than one value (a fixed position survives this with odds 16^-15). */
    bool varies[EVENT_SIGN_SECRET_LEN] = {false};
    for (int k = 0; k < 16; k++) {
        assert_true(event_sign_secret_new(b));
        for (size_t i = 6; i < EVENT_SIGN_SECRET_LEN; i++)
            varies[i] |= a[i] != b[i];
    }
    for (size_t i = 6; i < EVENT_SIGN_SECRET_LEN; i++)
        if (!varies[i])
            fail_msg("digit %zu never changes", i);
    assert_true(event_sign_secret_valid(VEC_SECRET));
    static const char *const invalid[] = {
        "",
        "whsec_",
        "whsec_000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1",   /* 63 digits */
        "whsec_000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f0", /* 65 */
        "whsec_000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f",  /* uppercase */
        "whsek_000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        "whsec_00010203040506070809 a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
    };
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        if (event_sign_secret_valid(invalid[i]))
            fail_msg("accepted: %s", invalid[i]);
    assert_false(event_sign_secret_valid(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),      cmocka_unit_test(test_tampering),
        cmocka_unit_test(test_tolerance),   cmocka_unit_test(test_header_forms),
        cmocka_unit_test(test_malformed),   cmocka_unit_test(test_limits),
        cmocka_unit_test(test_header_arguments), cmocka_unit_test(test_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
