/* Unit tests for process/geometry: rendition sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "process/geometry.h"

typedef struct fit_case {
    const char *name;
    int sw, sh, bw, bh; /* source display size, rendition box */
    int w, h;           /* expected */
} fit_case_t;

static const fit_case_t fit_cases[] = {
    {"1080p landscape into 720p", 1920, 1080, 1280, 720, 1280, 720},
    {"portrait phone into 720p: box turned", 1080, 1920, 1280, 720, 720, 1280},
    {"box given portrait, source landscape", 1920, 1080, 720, 1280, 1280, 720},
    {"no upscaling", 640, 360, 1280, 720, 640, 360},
    {"odd source kept below, even sides", 641, 359, 1280, 720, 640, 358},
    {"4:3 into 16:9 box: height bound", 1440, 1080, 1280, 720, 960, 720},
    {"ultra-wide: width bound", 2560, 1080, 1280, 720, 1280, 540},
    {"square", 1080, 1080, 1280, 720, 720, 720},
    {"tiny source", 3, 3, 1280, 720, 2, 2},
    {"a box of odd width: rounded down to even", 1920, 1080, 854, 480, 852, 480},
};

static void test_fit_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fit_cases) / sizeof(fit_cases[0]); i++) {
        const fit_case_t *c = &fit_cases[i];
        geometry_size_t out;
        assert_true(geometry_fit((geometry_size_t){c->sw, c->sh}, (geometry_size_t){c->bw, c->bh}, &out));
        print_message("  %-40s %dx%d in %dx%d -> %dx%d\n", c->name, c->sw, c->sh, c->bw, c->bh, out.width,
                      out.height);
        assert_int_equal(out.width, c->w);
        assert_int_equal(out.height, c->h);
        assert_int_equal(out.width % 2, 0);
        assert_int_equal(out.height % 2, 0);
    }
}

static void test_fit_refuses_nonsense(void **state)
{
    (void)state;
    geometry_size_t out;
    assert_false(geometry_fit((geometry_size_t){0, 720}, (geometry_size_t){1280, 720}, &out));
    assert_false(geometry_fit((geometry_size_t){1280, 720}, (geometry_size_t){1280, -1}, &out));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fit_table),
        cmocka_unit_test(test_fit_refuses_nonsense),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
