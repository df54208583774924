/*
 * test_client_progress: the text of `vodup upload`'s progress bars
 * (client/client_progress.c): sizes, ETA, and a line that always fits the
 * terminal; the processing bar of --wait (a percentage and the time
 * waited), which never draws a bar for an unknown percentage.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "client/client_progress.h"

#define MIB (1024.0 * 1024.0)

static void test_bytes(void **state)
{
    (void)state;
    static const struct {
        double in;
        const char *out;
    } cases[] = {
        {0, "0 B"},           {512, "512 B"},          {1023, "1023 B"},       {1024, "1.00 KiB"},
        {1536, "1.50 KiB"},   {10 * 1024, "10.0 KiB"}, {12.34 * MIB, "12.3 MiB"}, {1024 * MIB, "1.00 GiB"},
        {5.0 * 1024 * 1024 * MIB, "5.00 TiB"},
    };
    char out[32];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        client_format_bytes(cases[i].in, out, sizeof(out));
        assert_string_equal(out, cases[i].out);
    }
}

static void test_eta(void **state)
{
    (void)state;
    char out[32];
    client_format_eta(0, out, sizeof(out));
    assert_string_equal(out, "0:00");
    client_format_eta(7, out, sizeof(out));
    assert_string_equal(out, "0:07");
    client_format_eta(754, out, sizeof(out));
    assert_string_equal(out, "12:34");
    client_format_eta(3723, out, sizeof(out));
    assert_string_equal(out, "1:02:03");
    client_format_eta(-1, out, sizeof(out));
    assert_string_equal(out, "--:--");
}

static void test_line(void **state)
{
    (void)state;
    char line[CLIENT_PROGRESS_LINE_MAX];
    size_t n = client_progress_format(line, sizeof(line), 100, "upload", (int64_t)(25 * MIB), (int64_t)(100 * MIB),
                                      5 * MIB);
    assert_int_equal(n, strlen(line));
    assert_true(n <= 99);
    assert_non_null(strstr(line, "upload  25.0 MiB / 100.0 MiB  25% ["));
    assert_non_null(strstr(line, "]  5.00 MiB/s  ETA 0:15"));
    /* A quarter of the bar is full. */
    const char *open = strchr(line, '['), *close = strchr(line, ']');
    size_t cells = (size_t)(close - open - 1), full = 0;
    for (const char *p = open + 1; p < close; p++)
        full += *p == '#';
    assert_int_equal(full, cells / 4);

    /* Unknown rate; done; every width from tiny to wide fits. */
    client_progress_format(line, sizeof(line), 80, "upload", 0, (int64_t)MIB, -1);
    assert_non_null(strstr(line, "-- B/s  ETA --:--"));
    client_progress_format(line, sizeof(line), 80, "mkfile", (int64_t)MIB, (int64_t)MIB, -1);
    assert_non_null(strstr(line, "100%"));
    assert_non_null(strstr(line, "ETA 0:00"));
    for (int w = 1; w <= 300; w++) {
        n = client_progress_format(line, sizeof(line), w, "upload", (int64_t)(3 * MIB), (int64_t)(7 * MIB), MIB);
        assert_true((int)n <= (w > 1 ? w - 1 : 0));
        assert_int_equal(n, strlen(line));
    }
    /* More done than the total (a retry racing a report) is shown as the total. */
    client_progress_format(line, sizeof(line), 80, "", (int64_t)(2 * MIB), (int64_t)MIB, MIB);
    assert_non_null(strstr(line, "100%"));
}

/* The cells of the bar in `line`: how many, and how many are full. */
static size_t bar_cells(const char *line, size_t *full)
{
    const char *open = strchr(line, '['), *close = strchr(line, ']');
    *full = 0;
    if (!open || !close)
        return 0;
    for (const char *p = open + 1; p < close; p++)
        *full += *p == '#';
    return (size_t)(close - open - 1);
}

static void test_percent_line(void **state)
{
    (void)state;
    char line[CLIENT_PROGRESS_LINE_MAX];
    size_t full;
    size_t n = client_progress_format_percent(line, sizeof(line), 100, "processing", 42, 12);
    assert_int_equal(n, strlen(line));
    assert_true(strncmp(line, "processing   42% [", 18) == 0);
    assert_non_null(strstr(line, "]  elapsed 0:12"));
    size_t cells = bar_cells(line, &full);
    assert_true(cells >= 10);
    assert_int_equal(full, cells * 42 / 100);

    client_progress_format_percent(line, sizeof(line), 80, "ready", 100, 75);
    cells = bar_cells(line, &full);
    assert_int_equal(full, cells);
    assert_non_null(strstr(line, "ready       100% ["));
    assert_non_null(strstr(line, "elapsed 1:15"));
    client_progress_format_percent(line, sizeof(line), 80, "processing", 250, 0);
    assert_non_null(strstr(line, " 100% ["));

    /* Unknown: no bar at all (an empty one would say 0%). */
    client_progress_format_percent(line, sizeof(line), 80, "uploaded", -1, 3);
    assert_string_equal(line, "uploaded     --%  elapsed 0:03");
    client_progress_format_percent(line, sizeof(line), 80, "uploaded", 0, 3);
    assert_non_null(strstr(line, "uploaded      0% [....."));

    for (int w = 1; w <= 200; w++) {
        n = client_progress_format_percent(line, sizeof(line), w, "processing", 50, 5);
        assert_true((int)n <= (w > 1 ? w - 1 : 0));
        assert_int_equal(n, strlen(line));
    }
}

static void test_disabled_draws_nothing(void **state)
{
    (void)state;
    client_progress_t p;
    client_progress_init(&p, 100, false);
    client_progress_update(&p, 50, "upload", true);
    assert_false(p.drawn);
    client_progress_update_percent(&p, "processing", 50, 1);
    assert_false(p.drawn);
    client_progress_end(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes),
        cmocka_unit_test(test_eta),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_percent_line),
        cmocka_unit_test(test_disabled_draws_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
