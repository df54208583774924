/*
 * test_event_retry: the webhook back-off schedule (events/event_retry.c):
 * the table and the totals its header states, the jitter bounds, and the
 * 24-hour guarantee with the smallest attempt count that gives it.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "events/event_retry.h"

#define S 1000LL

/* The table of event_retry.h. */
static void test_nominal_table(void **state)
{
    (void)state;
    static const int64_t want[] = {
        -1,     0,      10 * S,   20 * S,   40 * S,   80 * S,   160 * S,  320 * S,
        640 * S, 1280 * S, 2560 * S, 3600 * S, 3600 * S, 3600 * S,
    };
    for (unsigned a = 0; a < sizeof(want) / sizeof(want[0]); a++)
        if (event_retry_nominal_ms(a) != want[a])
            fail_msg("attempt %u: %lld", a, (long long)event_retry_nominal_ms(a));
    for (unsigned a = 11; a <= EVENT_RETRY_MAX_ATTEMPTS; a++)
        assert_int_equal(event_retry_nominal_ms(a), EVENT_RETRY_MAX_WAIT_MS);
    assert_int_equal(event_retry_nominal_ms(EVENT_RETRY_MAX_ATTEMPTS + 1), -1);
    assert_int_equal(event_retry_nominal_ms(UINT32_MAX), -1);
}

/* Jitter only shortens, by at most 20%, and r = 0 is the nominal wait. */
static void test_jitter_bounds(void **state)
{
    (void)state;
    static const double rs[] = {0.0, 0.001, 0.25, 0.5, 0.999, 1.0};
    for (unsigned a = 2; a <= EVENT_RETRY_MAX_ATTEMPTS; a++) {
        int64_t nominal = event_retry_nominal_ms(a);
        assert_int_equal(event_retry_delay_ms(a, 0.0), nominal);
        assert_int_equal(event_retry_delay_ms(a, 1.0), nominal * 4 / 5);
        int64_t previous = nominal;
        for (size_t i = 0; i < sizeof(rs) / sizeof(rs[0]); i++) {
            int64_t d = event_retry_delay_ms(a, rs[i]);
            assert_true(d >= nominal * 4 / 5 && d <= nominal && d <= EVENT_RETRY_MAX_WAIT_MS);
            assert_true(d <= previous); /* a larger r never waits longer */
            previous = d;
        }
    }
    /* 0.5 cuts 10%: the wait before attempt 2 is 9 s. */
    assert_int_equal(event_retry_delay_ms(2, 0.5), 9 * S);
}

static void test_jitter_clamped(void **state)
{
    (void)state;
    assert_int_equal(event_retry_delay_ms(5, -3.0), 80 * S);
    assert_int_equal(event_retry_delay_ms(5, NAN), 80 * S);
    assert_int_equal(event_retry_delay_ms(5, 7.0), 64 * S);
    assert_int_equal(event_retry_delay_ms(5, INFINITY), 64 * S);
    assert_int_equal(event_retry_delay_ms(5, -INFINITY), 80 * S);
}

static void test_edges(void **state)
{
    (void)state;
    assert_int_equal(event_retry_delay_ms(1, 0.7), 0); /* the first attempt goes out at once */
    assert_int_equal(event_retry_delay_ms(0, 0.7), -1);
    assert_int_equal(event_retry_delay_ms(EVENT_RETRY_MAX_ATTEMPTS + 1, 0.7), -1);
    assert_false(event_retry_exhausted(0));
    assert_false(event_retry_exhausted(EVENT_RETRY_MAX_ATTEMPTS - 1));
    assert_true(event_retry_exhausted(EVENT_RETRY_MAX_ATTEMPTS));
    assert_true(event_retry_exhausted(UINT32_MAX));
}

/* The sum of the waits before attempts 2..last. */
static int64_t span_ms(unsigned last, double r)
{
    int64_t sum = 0;
    for (unsigned a = 2; a <= last; a++)
        sum += event_retry_delay_ms(a, r);
    return sum;
}

/* The totals stated in the header, and the 24 h guarantee at the worst jitter. */
static void test_totals(void **state)
{
    (void)state;
    assert_int_equal(span_ms(EVENT_RETRY_MAX_ATTEMPTS, 0.0), EVENT_RETRY_SPAN_NOMINAL_MS);
    assert_int_equal(EVENT_RETRY_SPAN_NOMINAL_MS, (30 * 3600 + 25 * 60 + 10) * S);
    assert_int_equal(span_ms(EVENT_RETRY_MAX_ATTEMPTS, 1.0), EVENT_RETRY_SPAN_MIN_MS);
    assert_int_equal(EVENT_RETRY_SPAN_MIN_MS, (24 * 3600 + 20 * 60 + 8) * S);
    assert_true(EVENT_RETRY_SPAN_MIN_MS >= EVENT_RETRY_GUARANTEE_MS);
    assert_int_equal(span_ms(10, 0.0), 5110 * S);
    /* Any draw of r stays within the two. */
    srand(12345);
    for (int round = 0; round < 200; round++) {
        int64_t sum = 0;
        for (unsigned a = 2; a <= EVENT_RETRY_MAX_ATTEMPTS; a++)
            sum += event_retry_delay_ms(a, (double)rand() / RAND_MAX);
        assert_true(sum >= EVENT_RETRY_SPAN_MIN_MS && sum <= EVENT_RETRY_SPAN_NOMINAL_MS);
    }
}

/* One attempt fewer would not cover 24 h at the worst jitter: the count is
 * the smallest that keeps the promise, not a guess with slack. */
static void test_count_is_minimal(void **state)
{
    (void)state;
    assert_true(span_ms(EVENT_RETRY_MAX_ATTEMPTS - 1, 1.0) < EVENT_RETRY_GUARANTEE_MS);
    assert_int_equal(span_ms(EVENT_RETRY_MAX_ATTEMPTS - 1, 1.0), 84728 * S);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nominal_table), cmocka_unit_test(test_jitter_bounds),
        cmocka_unit_test(test_jitter_clamped), cmocka_unit_test(test_edges),
        cmocka_unit_test(test_totals),        cmocka_unit_test(test_count_is_minimal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
