/* Unit tests for the store's tus uploads (store.h, "tus uploads"):
 * create, read, progress, removal, expiry, and that they survive a reopen;
 * and for upload links ("upload links"): create, read, claims counted once. */
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

#define ID_A "00000000000100abcdef0123456789ab"
#define ID_B "00000000000100abcdef0123456789ac"

static int setup(void **state)
{
    (void)new_video; /* the fixture's; these tests need no video */
    return store_fixture_setup(state, "store-tus");
}

static int teardown(void **state)
{
    return store_fixture_teardown(state);
}

static store_tus_t sample(const char *id, int64_t account, int kind, int64_t updated)
{
    store_tus_t u = {.account_id = account, .file_key = "video/a.mp4", .kind = kind, .length = -1,
                     .metadata = "filetype dmlkZW8vbXA0", .created_ms = updated, .updated_ms = updated};
    snprintf(u.upload_id, sizeof(u.upload_id), "%s", id);
    return u;
}

static void test_create_get_update(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    store_tus_t u = sample(ID_A, f->account, STORE_TUS_PARTIAL, T0);
    assert_int_equal(s->ops->tus_create(s, &u, 0), STORE_OK);
    assert_int_equal(s->ops->tus_create(s, &u, 0), STORE_EXISTS);
    store_tus_t r;
    assert_int_equal(s->ops->tus_get(s, ID_A, &r), STORE_OK);
    assert_string_equal(r.file_key, "video/a.mp4");
    assert_string_equal(r.metadata, "filetype dmlkZW8vbXA0");
    assert_null(r.parts);
    assert_int_equal(r.kind, STORE_TUS_PARTIAL);
    assert_int_equal(r.state, STORE_TUS_OPEN);
    assert_int_equal(r.length, -1);
    assert_int_equal(r.offset, 0);
    store_tus_free(&r);
    store_tus_progress_t p = {4096, 8192, STORE_TUS_OPEN, T0 + 5};
    assert_int_equal(s->ops->tus_update(s, ID_A, &p), STORE_OK);
    p = (store_tus_progress_t){8192, 8192, STORE_TUS_DONE, T0 + 9};
    assert_int_equal(s->ops->tus_update(s, ID_A, &p), STORE_OK);
    /* Durable: a reopened store reads what was acknowledged. */
    s->ops->close(s);
    s = f->store = open_store(f->path);
    assert_int_equal(s->ops->tus_get(s, ID_A, &r), STORE_OK);
    assert_int_equal(r.offset, 8192);
    assert_int_equal(r.length, 8192);
    assert_int_equal(r.state, STORE_TUS_DONE);
    assert_int_equal(r.updated_ms, T0 + 9);
    store_tus_free(&r);
    assert_int_equal(s->ops->tus_update(s, ID_B, &p), STORE_NOT_FOUND);
    assert_int_equal(s->ops->tus_get(s, ID_B, &r), STORE_NOT_FOUND);
    assert_int_equal(s->ops->tus_get(s, "not-an-id", &r), STORE_NOT_FOUND);
    p.offset = -1;
    assert_int_equal(s->ops->tus_update(s, ID_A, &p), STORE_INVALID);
}

static void test_remove_and_expire(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    store_tus_t a = sample(ID_A, f->account, STORE_TUS_SINGLE, T0), b = sample(ID_B, f->account, STORE_TUS_FINAL, T0 + 100);
    b.parts = "final;/files/x /files/y";
    assert_int_equal(s->ops->tus_create(s, &a, 0), STORE_OK);
    assert_int_equal(s->ops->tus_create(s, &b, 0), STORE_OK);
    assert_int_equal(raw_count_at(f->path, "SELECT count(*) FROM tus_uploads"), 2);
    /* A write moves the expiry on; a row aged behind the store's back does not. */
    store_tus_progress_t p = {1, -1, STORE_TUS_OPEN, T0 + 60};
    assert_int_equal(s->ops->tus_update(s, ID_A, &p), STORE_OK);
    raw_exec_at(f->path, "UPDATE tus_uploads SET updated_ms = " "1700000000010" " WHERE upload_id = '" ID_A "'");
    store_id_list_t gone;
    assert_int_equal(s->ops->tus_expire(s, T0 + 50, 10, &gone), STORE_OK);
    assert_int_equal(gone.count, 1);
    assert_string_equal(gone.items[0], ID_A);
    store_id_list_free(&gone);
    store_tus_t r;
    assert_int_equal(s->ops->tus_get(s, ID_A, &r), STORE_NOT_FOUND);
    assert_int_equal(s->ops->tus_get(s, ID_B, &r), STORE_OK);
    assert_string_equal(r.parts, "final;/files/x /files/y");
    store_tus_free(&r);
    assert_int_equal(s->ops->tus_remove(s, ID_B), STORE_OK);
    assert_int_equal(s->ops->tus_remove(s, ID_B), STORE_NOT_FOUND);
    assert_int_equal(s->ops->tus_expire(s, T0 + 1000, 10, &gone), STORE_OK);
    assert_int_equal(gone.count, 0);
    store_id_list_free(&gone);
}

#define ID_C "00000000000100abcdef0123456789ad"

/* max_open bounds the unfinished uploads of one account's fileKey: a full
 * fileKey refuses (nothing written) until one finishes or goes, while
 * another fileKey or another account is not affected. */
static void test_create_bounded_per_file(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    store_tus_t a = sample(ID_A, f->account, STORE_TUS_PARTIAL, T0), b = sample(ID_B, f->account, STORE_TUS_PARTIAL, T0);
    store_tus_t c = sample(ID_C, f->account, STORE_TUS_SINGLE, T0);
    assert_int_equal(s->ops->tus_create(s, &a, 2), STORE_OK);
    assert_int_equal(s->ops->tus_create(s, &b, 2), STORE_OK);
    assert_int_equal(s->ops->tus_create(s, &c, 2), STORE_CONFLICT);
    store_tus_t r;
    assert_int_equal(s->ops->tus_get(s, ID_C, &r), STORE_NOT_FOUND);
    c.file_key = "video/b.mp4";
    assert_int_equal(s->ops->tus_create(s, &c, 1), STORE_OK);
    assert_int_equal(s->ops->tus_remove(s, ID_C), STORE_OK);
    c.file_key = "video/a.mp4";
    c.account_id = f->account + 1;
    assert_int_equal(s->ops->tus_create(s, &c, 2), STORE_OK);
    assert_int_equal(s->ops->tus_remove(s, ID_C), STORE_OK);
    c.account_id = f->account;
    /* A finished upload no longer counts; a removed one neither. */
    store_tus_progress_t done = {10, 10, STORE_TUS_DONE, T0 + 1};
    assert_int_equal(s->ops->tus_update(s, ID_A, &done), STORE_OK);
    assert_int_equal(s->ops->tus_create(s, &c, 2), STORE_OK);
    assert_int_equal(s->ops->tus_remove(s, ID_C), STORE_OK);
    assert_int_equal(s->ops->tus_remove(s, ID_B), STORE_OK);
    assert_int_equal(s->ops->tus_create(s, &c, 1), STORE_OK);
}

#define LINK "ul_0123456789abcdef0123456789abcdef"

static void test_links(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    store_link_t l = {.account_id = f->account, .access_key = "AKTEST", .expires_ms = T0 + 1000, .max_size = 10,
                      .uses = 2, .template_name = "web", .created_ms = T0};
    snprintf(l.link_id, sizeof(l.link_id), "%s", LINK);
    assert_int_equal(s->ops->link_create(s, &l), STORE_OK);
    assert_int_equal(s->ops->link_create(s, &l), STORE_EXISTS);
    store_link_t r;
    assert_int_equal(s->ops->link_get(s, LINK, &r), STORE_OK);
    assert_string_equal(r.access_key, "AKTEST");
    assert_string_equal(r.template_name, "web");
    assert_null(r.workflow_id);
    assert_int_equal(r.uses, 2);
    assert_int_equal(r.used, 0);
    store_link_free(&r);
    /* Two files count; a third is refused and leaves nothing behind; a file
     * counted before is counted once, also with no use left. */
    assert_int_equal(s->ops->link_claim(s, LINK, "fa", T0), STORE_OK);
    assert_int_equal(s->ops->link_claim(s, LINK, "fa", T0), STORE_OK);
    assert_int_equal(s->ops->link_claim(s, LINK, "fb", T0), STORE_OK);
    assert_int_equal(s->ops->link_claim(s, LINK, "fc", T0), STORE_CONFLICT);
    assert_int_equal(s->ops->link_claim(s, LINK, "fa", T0), STORE_OK);
    assert_int_equal(s->ops->link_has_file(s, LINK, "fb"), STORE_OK);
    assert_int_equal(s->ops->link_has_file(s, LINK, "fc"), STORE_NOT_FOUND);
    assert_int_equal(s->ops->link_get(s, LINK, &r), STORE_OK);
    assert_int_equal(r.used, 2);
    store_link_free(&r);
    assert_int_equal(s->ops->link_claim(s, "ul_ffffffffffffffffffffffffffffffff", "fa", T0), STORE_NOT_FOUND);
    assert_int_equal(s->ops->link_get(s, "ul_nothex", &r), STORE_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_get_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_and_expire, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_bounded_per_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_links, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
