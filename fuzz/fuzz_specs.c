/*
 * fuzz_specs: the processing specs and the frozen plan are JSON texts kept
 * in the database, which "parsing never trusts" (spec.h): an older vodup or
 * a hand-edited row may have written them.  Whatever parses must pass its
 * own check and survive serialise -> parse unchanged in meaning (the second
 * serialisation equals the first).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "process/plan_spec.h"
#include "process/spec.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

/* to_json(parse(to_json(x))) == to_json(x) for a parsed x. */
#define FUZZ_ROUND_TRIP(type, parse, to_json)                                                                      \
    do {                                                                                                             \
        type *a = calloc(1, sizeof(type)), *b = calloc(1, sizeof(type));                                             \
        spec_error_t e;                                                                                              \
        if (a && b && parse(text, a, &e)) {                                                                          \
            char *j1 = to_json(a);                                                                                   \
            fuzz_check(j1 && parse(j1, b, &e));                                                                      \
            char *j2 = to_json(b);                                                                                   \
            fuzz_check(j2 && strcmp(j1, j2) == 0);                                                                   \
            free(j1);                                                                                                \
            free(j2);                                                                                                \
        }                                                                                                            \
        free(a);                                                                                                     \
        free(b);                                                                                                     \
    } while (0)

static void fuzz_plan(const char *text)
{
    plan_spec_t *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
    char err[PLAN_ERROR_MAX];
    if (a && b && plan_spec_parse(text, a, err, sizeof(err))) {
        char *j1 = plan_spec_to_json(a);
        fuzz_check(j1 && plan_spec_parse(j1, b, err, sizeof(err)));
        char *j2 = plan_spec_to_json(b);
        fuzz_check(j2 && strcmp(j1, j2) == 0);
        free(j1);
        free(j2);
    }
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    FUZZ_ROUND_TRIP(spec_template_t, spec_template_parse, spec_template_to_json);
    FUZZ_ROUND_TRIP(spec_watermark_t, spec_watermark_parse, spec_watermark_to_json);
    FUZZ_ROUND_TRIP(spec_subtitle_t, spec_subtitle_parse, spec_subtitle_to_json);
    FUZZ_ROUND_TRIP(spec_workflow_t, spec_workflow_parse, spec_workflow_to_json);
    fuzz_plan(text);
    spec_rendition_t r;
    spec_step_t st;
    spec_error_t e;
    (void)spec_rendition_parse_text(text, &r, &e);
    (void)spec_step_parse_text(text, &st, &e);
    free(text);
    return 0;
}
