/*
 * test_store_expire: video_expire, the removal of registrations never
 * uploaded (store.h): a registration older than the cut goes, with its
 * category links; an uploaded one stays whatever its age; a fileId resume
 * renews a registration's time; a refused upload (status failed, no
 * object) and an unfinished one (uploading) go; the limit bounds one call.
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
#define HOUR INT64_C(3600000)

#include "unit_store_fixture.h"

static int setup(void **state)
{
    return store_fixture_setup(state, "store-expire");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

/* Registers (or, with a fileId already used, resumes) at now_ms. */
static void register_at(fixture_t *f, const char *file_id, int64_t now_ms, char vid[IDS_VIDEO_ID_LEN + 1])
{
    char fresh[IDS_VIDEO_ID_LEN + 1], key[128];
    assert_true(ids_video_id(now_ms, fresh));
    snprintf(key, sizeof(key), "video/20240101/%s/clip.mp4", fresh);
    store_category_t cat = {.parent_name = "p", .child_name = "c"};
    store_video_reg_t reg = {
        .account_id = f->account, .video_id = fresh, .file_id = file_id, .name = "clip.mp4", .file_key = key,
        .bucket = "vod-0000000000000000", .domain = "", .expected_size = -1, .categories = &cat,
        .category_count = 1, .now_ms = now_ms};
    store_video_reg_result_t res;
    assert_int_equal(store_video_register_sync(f->store, &reg, &res), STORE_OK);
    snprintf(vid, IDS_VIDEO_ID_LEN + 1, "%s", res.video_id);
}

static int64_t expire(fixture_t *f, int64_t before_ms, int limit)
{
    int64_t n = -1;
    assert_int_equal(f->store->ops->video_expire(f->store, before_ms, limit, &n), STORE_OK);
    return n;
}

static bool exists(fixture_t *f, const char *vid)
{
    store_video_t v;
    int rc = f->store->ops->video_get(f->store, f->account, vid, &v);
    store_video_free(&v);
    return rc == STORE_OK;
}

static void test_expire(void **state)
{
    fixture_t *f = *state;
    char old[33], resumed[33], uploaded[33], refused[33], fresh[33];
    new_video(f->store, f->account, old); /* registered at T0, no category */
    register_at(f, "resume-me", T0, resumed);
    register_at(f, NULL, T0, uploaded);
    register_at(f, NULL, T0, refused);
    register_at(f, NULL, T0 + 10 * HOUR, fresh);
    /* First bytes arrived, the upload never completed: it expires as well. */
    raw_exec_at(f->path, "UPDATE videos SET status = 'uploading' WHERE created_ms > 1700000000000");
    store_video_upload_t u = {
        .account_id = f->account, .video_id = uploaded, .object_id = "0123456789abcdef0123456789abcdef",
        .size = 1, .md5 = "0123456789abcdef0123456789abcdef", .etag = "Fto5o-5ea0sNMlW_75VgGJCv2AcJ",
        .mime_type = "video/mp4", .now_ms = T0};
    assert_int_equal(f->store->ops->video_set_uploaded(f->store, &u, NULL), STORE_OK);
    assert_int_equal(f->store->ops->video_set_failed(f->store, f->account, refused, "fileMd5 mismatch"), STORE_OK);
    char again[33];
    register_at(f, "resume-me", T0 + 9 * HOUR, again); /* a new token for the same fileId */
    assert_string_equal(again, resumed);

    assert_int_equal(expire(f, T0, 100), 0); /* nothing is older than T0 */
    assert_int_equal(expire(f, T0 + 5 * HOUR, 1), 1); /* the limit bounds one call */
    assert_int_equal(expire(f, T0 + 5 * HOUR, 100), 1);
    assert_false(exists(f, old));
    assert_false(exists(f, refused));
    assert_true(exists(f, resumed));
    assert_true(exists(f, uploaded));
    assert_true(exists(f, fresh));
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM video_categories"), 3); /* refused's went with it */
    /* Later, the resumed and the fresh one go too; the uploaded one never. */
    assert_int_equal(expire(f, T0 + 100 * HOUR, 100), 2);
    assert_true(exists(f, uploaded));
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM videos"), 1);
    int64_t n;
    assert_int_equal(f->store->ops->video_expire(f->store, T0, 0, &n), STORE_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_expire, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
