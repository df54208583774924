/*
 * test_fops_plan: a parsed fops as plan steps (process/fops_plan.c): the
 * bucket a saveas may name, each task's key (its saveas, else fops<i>.<ext>),
 * the steps it appends and what the plan's check then refuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "process/fops_plan.h"

#define BUCKET "vod-00000000000000aa"
#define FILE_KEY "video/20261204/0123456789abcdef0123456789abcdef/clip.mp4"
/* urlsafe_b64("vod-00000000000000aa:thumbs/one.jpg") and of "other:a.jpg". */
#define SAVE_ONE "dm9kLTAwMDAwMDAwMDAwMDAwYWE6dGh1bWJzL29uZS5qcGc="
#define SAVE_OTHER "b3RoZXI6YS5qcGc="
#define SAVE_ORIGINAL "dm9kLTAwMDAwMDAwMDAwMDAwYWE6Y2xpcC5tcDQ=" /* ...:clip.mp4 */

static fops_t *parsed(const char *text)
{
    fops_t *f = calloc(1, sizeof(*f));
    char err[FOPS_ERROR_MAX + 64];
    assert_non_null(f);
    if (!fops_plan_parse(text, strlen(text), BUCKET, f, err, sizeof(err)))
        fail_msg("%s: %s", text, err);
    return f;
}

static void test_keys(void **state)
{
    (void)state;
    fops_t *f = parsed("avthumb/mp4/s/640x360;avthumb/m3u8;vframe/jpg/offset/1|saveas/" SAVE_ONE
                       ";vframe/jpg/offset/2");
    static const char *const want[] = {"fops1.mp4", "fops2.m3u8", "thumbs/one.jpg", "fops4.jpg"};
    buf_t key;
    buf_init(&key, 0);
    for (size_t i = 0; i < 4; i++) {
        assert_true(fops_plan_task_key(f, i, &key));
        assert_string_equal(key.data, want[i]);
    }
    assert_false(fops_plan_task_key(f, 4, &key));
    buf_free(&key);
    free(f);
}

static void test_other_bucket_refused(void **state)
{
    (void)state;
    fops_t f;
    char err[FOPS_ERROR_MAX + 64];
    const char *text = "vframe/jpg/offset/1|saveas/" SAVE_OTHER;
    assert_false(fops_plan_parse(text, strlen(text), BUCKET, &f, err, sizeof(err)));
    assert_string_equal(err, "fops: task 1: saveas names bucket \"other\", not this account's");
    text = "imageMogr2/thumbnail/100x";
    assert_false(fops_plan_parse(text, strlen(text), BUCKET, &f, err, sizeof(err)));
    assert_non_null(strstr(err, "imageMogr2"));
}

/* The steps appended: kinds, names, keys, segment length, frame time and box. */
static void test_append(void **state)
{
    (void)state;
    fops_t *f = parsed("avthumb/m3u8/segtime/4/s/640x360;vframe/jpg/offset/1.25/w/320|saveas/" SAVE_ONE);
    plan_spec_t *p = calloc(1, sizeof(*p));
    assert_non_null(p);
    snprintf(p->object_id, sizeof(p->object_id), "0123456789abcdef0123456789abcdef");
    snprintf(p->file_key, sizeof(p->file_key), FILE_KEY);
    p->steps[p->step_count++].kind = SPEC_STEP_PROBE;
    char err[PLAN_ERROR_MAX];
    assert_true(fops_plan_append(p, f, err, sizeof(err)));
    assert_int_equal(p->step_count, 3);
    assert_int_equal(p->steps[1].kind, SPEC_STEP_TRANSCODE);
    assert_string_equal(p->steps[1].name, "fops1");
    assert_string_equal(p->steps[1].key, "fops1.m3u8");
    assert_int_equal(p->steps[1].segment_seconds, 4);
    assert_int_equal(p->steps[1].u.template_spec.container, SPEC_CONTAINER_HLS);
    assert_int_equal(p->steps[1].u.template_spec.renditions[0].width, 640);
    assert_int_equal(p->steps[2].kind, SPEC_STEP_SNAPSHOT);
    assert_string_equal(p->steps[2].key, "thumbs/one.jpg");
    assert_int_equal(p->steps[2].at_ms, 1250);
    assert_int_equal(p->steps[2].width, 320);
    assert_int_equal(p->steps[2].height, 0);
    free(p);
    free(f);
}

/* A fops the plan's rules refuse leaves the plan as it was. */
static void test_check_refuses(void **state)
{
    (void)state;
    char err[PLAN_ERROR_MAX];
    fops_t *f = parsed("vframe/jpg/offset/1|saveas/" SAVE_ORIGINAL);
    assert_false(fops_plan_check(f, FILE_KEY, err, sizeof(err)));
    assert_string_equal(err, "plan: step 2's key is the original's own name");
    free(f);
    f = parsed("vframe/jpg/offset/1;vframe/jpg/offset/2");
    assert_true(fops_plan_check(f, FILE_KEY, err, sizeof(err)));
    free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_other_bucket_refused),
        cmocka_unit_test(test_append),
        cmocka_unit_test(test_check_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
