/*
 * test_store_backup: the store's whole-database calls (store.h, "whole
 * databases") on real SQLite files: the backup copy (a consistent, plain,
 * checked file; never over an existing one; the source neither migrated
 * nor written), the integrity check, the walk over the objects and
 * resources the rows refer to, and the schema's version and notes.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "schema_v6.h"
#include "store/store.h"
#include "unit_tmpdir.h"

static char dir[128];

static char *path_of(const char *name)
{
    static char p[4][256];
    static int next;
    char *s = p[next++ % 4];
    snprintf(s, sizeof(p[0]), "%s/%s", dir, name);
    return s;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* A current database with a video, two served files and two resources. */
static const char *make_current(const char *name)
{
    const char *path = path_of(name);
    store_sqlite_options_t opt = {.path = path, .sync_full = true, .read_connections = 1};
    store_t *s = store_sqlite_open(&opt);
    assert_non_null(s);
    store_key_t k;
    assert_int_equal(s->ops->key_create(s, "acme", &k), STORE_OK);
    store_key_free(&k);
    s->ops->close(s);
    raw_exec(path, "INSERT INTO videos (video_id, account_id, name, file_key, bucket, created_ms, size, object_id)"
                   " VALUES ('v1', 1, 'a.mp4', 'video/x/v1/a.mp4', 'b', 1, 1234, 'aaaa'),"
                   " ('v2', 1, 'b.mp4', 'video/x/v2/b.mp4', 'b', 1, -1, NULL);"
                   "INSERT INTO output_files (key, video_id, object_id, size, content_type, created_ms) VALUES"
                   " ('video/x/v1/cover.jpg', 'v1', 'bbbb', 56, 'image/jpeg', 2),"
                   " ('video/x/v1/sd.mp4', 'v1', 'cccc', 789, 'video/mp4', 2);"
                   "INSERT INTO resources (account_id, kind, id, name, spec, created_ms) VALUES"
                   " (1, 'watermark', 'logo', 'logo', '{\"image\":\"resources/1/watermarks/logo.png\"}', 3),"
                   " (1, 'template', 'sd', 'sd', '{}', 3);");
    return path;
}

typedef struct seen {
    int objects, resources;
    int64_t bytes;
    bool has_logo;
} seen_t;

static bool collect(void *arg, const store_ref_t *ref)
{
    seen_t *s = arg;
    if (ref->kind == STORE_REF_OBJECT) {
        s->objects++;
        s->bytes += ref->size;
    } else {
        s->resources++;
        if (ref->resource_kind == STORE_WATERMARK && !strcmp(ref->id, "logo") && strstr(ref->spec, "logo.png"))
            s->has_logo = true;
    }
    return true;
}

static bool stop_at_first(void *arg, const store_ref_t *ref)
{
    (void)ref;
    (*(int *)arg)++;
    return false;
}

/* ---- the tests ---- */

static void test_copy_is_a_plain_checked_file_with_every_row(void **state)
{
    (void)state;
    const char *src = make_current("live.db");
    raw_exec(src, "PRAGMA journal_mode = WAL");
    const char *dst = path_of("copy.db");
    char err[256] = "";
    int version = -1;
    assert_int_equal(store_backup_copy(src, dst, &version, err, sizeof(err)), STORE_OK);
    assert_int_equal(version, store_schema_target());
    struct stat st;
    assert_int_equal(stat(dst, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* it holds every SecretKey */
    assert_int_equal(raw_int(dst, "SELECT count(*) FROM access_keys"), 1);
    assert_int_equal(raw_int(dst, "SELECT count(*) FROM videos"), 2);
    char wal[300];
    snprintf(wal, sizeof(wal), "%s-wal", dst);
    assert_int_equal(access(wal, F_OK), -1); /* one file, no WAL beside it */
    assert_int_equal(store_check(dst, err, sizeof(err)), STORE_OK);

    seen_t seen = {0};
    assert_int_equal(store_refs_walk(dst, collect, &seen, err, sizeof(err)), STORE_OK);
    assert_int_equal(seen.objects, 3);
    assert_int_equal(seen.bytes, 1234 + 56 + 789);
    assert_int_equal(seen.resources, 2);
    assert_true(seen.has_logo);
    int calls = 0;
    assert_int_equal(store_refs_walk(dst, stop_at_first, &calls, err, sizeof(err)), STORE_ERROR);
    assert_int_equal(calls, 1);

    /* Never over an existing file; nothing from nothing. */
    assert_int_equal(store_backup_copy(src, dst, NULL, err, sizeof(err)), STORE_ERROR);
    assert_non_null(strstr(err, "cannot create"));
    assert_int_equal(raw_int(dst, "SELECT count(*) FROM videos"), 2);
    assert_int_not_equal(store_backup_copy(path_of("missing.db"), path_of("copy2.db"), NULL, err, sizeof(err)),
                         STORE_OK);
    assert_int_equal(access(path_of("missing.db"), F_OK), -1);
    assert_int_equal(access(path_of("copy2.db"), F_OK), -1);
}

static void test_old_database_is_copied_as_it_is(void **state)
{
    (void)state;
    const char *src = path_of("v6.db");
    raw_exec(src, schema_v6);
    raw_exec(src, "PRAGMA user_version = 6");
    char err[256];
    int version = -1;
    assert_int_equal(store_schema_version(src, &version, err, sizeof(err)), STORE_OK);
    assert_int_equal(version, 6);
    assert_int_equal(store_backup_copy(src, path_of("v6-copy.db"), &version, err, sizeof(err)), STORE_OK);
    assert_int_equal(version, 6);
    assert_int_equal(raw_int(src, "PRAGMA user_version"), 6); /* not migrated */
    assert_int_equal(raw_int(path_of("v6-copy.db"), "PRAGMA user_version"), 6);
    assert_int_equal(store_schema_version(path_of("absent.db"), &version, err, sizeof(err)), STORE_UNAVAILABLE);
    assert_int_equal(access(path_of("absent.db"), F_OK), -1);
}

static void test_check_finds_a_damaged_file(void **state)
{
    (void)state;
    const char *path = make_current("damaged.db");
    raw_exec(path, "PRAGMA journal_mode = DELETE");
    /* Overwrite the middle of a page that holds rows (not the header). */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    char junk[512];
    memset(junk, 0x5a, sizeof(junk));
    for (long at = 4096 + 100; at + (long)sizeof(junk) < size; at += 4096) {
        fseek(f, at, SEEK_SET);
        fwrite(junk, 1, sizeof(junk), f);
    }
    fclose(f);
    char err[256] = "";
    assert_int_not_equal(store_check(path, err, sizeof(err)), STORE_OK);
    assert_true(err[0] != '\0');
}

/* A file that opens and reads fine but whose index no longer matches its
 * table: integrity_check answers with rows that name the problem. */
static void test_check_finds_an_index_out_of_step(void **state)
{
    (void)state;
    const char *path = path_of("skewed.db");
    raw_exec(path, "CREATE TABLE t (a INTEGER, b INTEGER); CREATE INDEX t_a ON t(a);"
                   "INSERT INTO t VALUES (1, 10), (2, 20), (3, 30);"
                   "PRAGMA writable_schema = ON;"
                   "UPDATE sqlite_schema SET sql = 'CREATE INDEX t_a ON t(b)' WHERE name = 't_a';");
    char err[256] = "";
    assert_int_equal(store_check(path, err, sizeof(err)), STORE_ERROR);
    assert_non_null(strstr(err, "integrity check failed"));
    assert_non_null(strstr(err, "t_a"));
    char copy_err[256] = "";
    assert_int_equal(store_backup_copy(path, path_of("skewed-copy.db"), NULL, copy_err, sizeof(copy_err)), STORE_ERROR);
    assert_int_equal(access(path_of("skewed-copy.db"), F_OK), -1); /* no copy that looks finished */
}

static void test_every_step_has_a_note(void **state)
{
    (void)state;
    int target = store_schema_target();
    assert_true(target >= 7);
    for (int v = 1; v <= target; v++) {
        const char *note = store_schema_step_note(v);
        assert_non_null(note);
        assert_true(strlen(note) > 10);
        assert_null(strchr(note, '\n')); /* one line each */
    }
    assert_null(store_schema_step_note(0));
    assert_null(store_schema_step_note(target + 1));
}

static int setup(void **state)
{
    (void)state;
    return unit_tmpdir_make(dir, sizeof(dir), "store-backup") ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    unit_tmpdir_remove(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_is_a_plain_checked_file_with_every_row),
        cmocka_unit_test(test_old_database_is_copied_as_it_is),
        cmocka_unit_test(test_check_finds_a_damaged_file),
        cmocka_unit_test(test_check_finds_an_index_out_of_step),
        cmocka_unit_test(test_every_step_has_a_note),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
