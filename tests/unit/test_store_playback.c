/*
 * test_store_playback: an account's playback access and key (store.h):
 * public with no key at first; turning signed takes the caller's key; the
 * key is kept across switches unless rotated; accounts do not share it; an
 * unknown account is not found; output_file_find names the file's account.
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ids.h"
#include "store/store.h"
#include "unit_tmpdir.h"

#define T0 INT64_C(1700000000000)

#include "unit_store_fixture.h"

static int setup(void **state)
{
    return store_fixture_setup(state, "store-playback");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

static void test_access_and_key(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    unsigned char k1[STORE_PLAYBACK_KEY_LEN], k2[STORE_PLAYBACK_KEY_LEN];
    memset(k1, 0x11, sizeof(k1));
    memset(k2, 0x22, sizeof(k2));
    store_playback_t pb;
    assert_int_equal(s->ops->playback_get(s, f->account, &pb), STORE_OK);
    assert_int_equal(pb.access, STORE_PLAYBACK_PUBLIC);
    assert_false(pb.has_key);
    assert_int_equal(s->ops->playback_set(s, f->account, STORE_PLAYBACK_SIGNED, k1, false, &pb), STORE_OK);
    assert_int_equal(pb.access, STORE_PLAYBACK_SIGNED);
    assert_true(pb.has_key);
    assert_memory_equal(pb.key, k1, sizeof(k1));
    /* Kept across switches; replaced only when rotated. */
    assert_int_equal(s->ops->playback_set(s, f->account, STORE_PLAYBACK_PUBLIC, k2, false, &pb), STORE_OK);
    assert_int_equal(pb.access, STORE_PLAYBACK_PUBLIC);
    assert_memory_equal(pb.key, k1, sizeof(k1));
    assert_int_equal(s->ops->playback_set(s, f->account, STORE_PLAYBACK_SIGNED, k2, false, &pb), STORE_OK);
    assert_memory_equal(pb.key, k1, sizeof(k1));
    assert_int_equal(s->ops->playback_set(s, f->account, STORE_PLAYBACK_SIGNED, k2, true, &pb), STORE_OK);
    assert_memory_equal(pb.key, k2, sizeof(k2));
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM accounts WHERE playback_access = 'signed'"), 1);
    /* Read from the database each time: no copy goes stale. */
    raw_exec_at(f->path, "UPDATE accounts SET playback_access = 'public'");
    assert_int_equal(s->ops->playback_get(s, f->account, &pb), STORE_OK);
    assert_int_equal(pb.access, STORE_PLAYBACK_PUBLIC);
    /* Another account is its own. */
    int64_t bob = new_account(s, "bob");
    assert_int_equal(s->ops->playback_get(s, bob, &pb), STORE_OK);
    assert_int_equal(pb.access, STORE_PLAYBACK_PUBLIC);
    assert_false(pb.has_key);
    assert_int_equal(s->ops->playback_get(s, 999999, &pb), STORE_NOT_FOUND);
    assert_int_equal(s->ops->playback_set(s, 999999, STORE_PLAYBACK_SIGNED, k1, false, &pb), STORE_NOT_FOUND);
    assert_int_equal(s->ops->playback_set(s, f->account, 7, k1, false, &pb), STORE_INVALID);
    assert_int_equal(s->ops->playback_set(s, f->account, STORE_PLAYBACK_SIGNED, NULL, false, &pb), STORE_INVALID);
}

static void test_output_file_names_its_account(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    char vid[33], tid[STORE_TASK_ID_LEN + 1], key[200];
    new_video(s, f->account, vid);
    store_video_upload_t u = {
        .account_id = f->account, .video_id = vid, .object_id = "0123456789abcdef0123456789abcdef", .size = 1,
        .md5 = "0123456789abcdef0123456789abcdef", .etag = "Fto5o-5ea0sNMlW_75VgGJCv2AcJ", .mime_type = "video/mp4",
        .now_ms = T0, .task_plan = "{}", .task_id = tid};
    assert_int_equal(s->ops->video_set_uploaded(s, &u, NULL), STORE_OK);
    store_task_t t;
    assert_int_equal(s->ops->task_claim(s, "w1", T0, 10000, &t), STORE_OK);
    snprintf(key, sizeof(key), "video/20240101/%s/cover.jpg", vid);
    store_output_file_t file = {.key = key, .object_id = "fedcba9876543210fedcba9876543210", .size = 3,
                                .content_type = "image/jpeg"};
    store_output_t out = {.type = STORE_OUTPUT_COVER, .key = key, .size = 3};
    store_task_result_t r = {.outputs = &out, .output_count = 1, .files = &file, .file_count = 1};
    assert_int_equal(s->ops->task_succeed(s, t.task_id, "w1", T0 + 1, &r, NULL), STORE_OK);
    store_task_free(&t);
    store_output_file_t found;
    assert_int_equal(s->ops->output_file_find(s, key, &found), STORE_OK);
    assert_int_equal(found.account_id, f->account);
    assert_string_equal(found.video_id, vid);
    store_output_file_free(&found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_access_and_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_file_names_its_account, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
