/*
 * test_client_retry: which failures the client retries and how long it
 * waits (client/client_retry.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "client/client_retry.h"

static void test_classify(void **state)
{
    (void)state;
    static const struct {
        CURLcode code;
        long status;
        enum client_retry_verdict want;
    } cases[] = {
        {CURLE_OK, 200, CLIENT_RETRY_DONE},
        {CURLE_OK, 500, CLIENT_RETRY_AGAIN},
        {CURLE_OK, 502, CLIENT_RETRY_AGAIN},
        {CURLE_OK, 503, CLIENT_RETRY_AGAIN},
        {CURLE_OK, 599, CLIENT_RETRY_AGAIN},
        {CURLE_OK, 429, CLIENT_RETRY_AGAIN},
        {CURLE_OK, 400, CLIENT_RETRY_STOP},
        {CURLE_OK, 401, CLIENT_RETRY_STOP},
        {CURLE_OK, 403, CLIENT_RETRY_STOP},
        {CURLE_OK, 404, CLIENT_RETRY_STOP},
        {CURLE_OK, 406, CLIENT_RETRY_STOP},
        {CURLE_OK, 412, CLIENT_RETRY_STOP},
        {CURLE_OK, 413, CLIENT_RETRY_STOP},
        {CURLE_OK, 631, CLIENT_RETRY_STOP}, /* WCS: no such bucket */
        {CURLE_OK, 701, CLIENT_RETRY_STOP}, /* WCS: bput offset mismatch */
        {CURLE_OK, 204, CLIENT_RETRY_STOP}, /* the contract's success is exactly 200 */
        {CURLE_OK, 302, CLIENT_RETRY_STOP},
        {CURLE_COULDNT_CONNECT, 0, CLIENT_RETRY_AGAIN},
        {CURLE_OPERATION_TIMEDOUT, 0, CLIENT_RETRY_AGAIN},
        {CURLE_SEND_ERROR, 0, CLIENT_RETRY_AGAIN},
        {CURLE_RECV_ERROR, 0, CLIENT_RETRY_AGAIN},
        {CURLE_GOT_NOTHING, 0, CLIENT_RETRY_AGAIN},
        {CURLE_PARTIAL_FILE, 0, CLIENT_RETRY_AGAIN},
        {CURLE_COULDNT_RESOLVE_HOST, 0, CLIENT_RETRY_AGAIN},
        {CURLE_ABORTED_BY_CALLBACK, 0, CLIENT_RETRY_STOP},
        {CURLE_URL_MALFORMAT, 0, CLIENT_RETRY_STOP},
        {CURLE_UNSUPPORTED_PROTOCOL, 0, CLIENT_RETRY_STOP},
        {CURLE_READ_ERROR, 0, CLIENT_RETRY_STOP},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_int_equal(client_retry_classify(cases[i].code, cases[i].status), cases[i].want);
}

static void test_delay(void **state)
{
    (void)state;
    client_retry_policy_t p = {.max_tries = 6, .base_ms = 500, .max_delay_ms = 30000};
    /* Jitter keeps each wait within [half, all] of the exponential step. */
    static const int64_t steps[] = {500, 1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (int f = 1; f <= 8; f++) {
        int64_t lo = client_retry_delay_ms(&p, f, 0);
        int64_t hi = client_retry_delay_ms(&p, f, UINT32_MAX);
        assert_int_equal(lo, steps[f - 1] / 2);
        assert_true(hi <= steps[f - 1] && hi >= steps[f - 1] - 1);
        for (int k = 0; k < 50; k++) {
            int64_t d = client_retry_delay_ms(&p, f, client_retry_random());
            assert_true(d >= lo && d <= hi);
        }
    }
    /* Many failures never overflow. */
    assert_true(client_retry_delay_ms(&p, 1000, UINT32_MAX) <= 30000);
    p.base_ms = 0;
    assert_int_equal(client_retry_delay_ms(&p, 3, UINT32_MAX), 0);
}

static void test_env(void **state)
{
    (void)state;
    client_retry_policy_t p;
    unsetenv("VODUP_RETRY_MAX");
    unsetenv("VODUP_RETRY_BASE_MS");
    client_retry_policy_from_env(&p);
    assert_int_equal(p.max_tries, CLIENT_RETRY_DEFAULT_MAX);
    assert_int_equal(p.base_ms, CLIENT_RETRY_DEFAULT_BASE_MS);
    setenv("VODUP_RETRY_MAX", "12", 1);
    setenv("VODUP_RETRY_BASE_MS", "20", 1);
    client_retry_policy_from_env(&p);
    assert_int_equal(p.max_tries, 12);
    assert_int_equal(p.base_ms, 20);
    static const char *const bad[] = {"", "0", "-1", "x", "5x", "100000"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        setenv("VODUP_RETRY_MAX", bad[i], 1);
        client_retry_policy_from_env(&p);
        assert_int_equal(p.max_tries, CLIENT_RETRY_DEFAULT_MAX);
    }
    unsetenv("VODUP_RETRY_MAX");
    unsetenv("VODUP_RETRY_BASE_MS");
}

static void test_sleep_stops(void **state)
{
    (void)state;
    atomic_int stop = 1;
    assert_false(client_retry_sleep(10000, &stop)); /* returns at once */
    atomic_store(&stop, 0);
    assert_true(client_retry_sleep(1, &stop));
    assert_true(client_retry_sleep(0, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_delay),
        cmocka_unit_test(test_env),
        cmocka_unit_test(test_sleep_stops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
