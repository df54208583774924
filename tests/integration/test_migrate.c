/*
 * test_migrate: `vodup migrate` and the server's refusal of a newer schema
 * (docs/upgrading.md): a current database has nothing to do; a version-6
 * database (tests/unit/schema_v6.h, with rows in it) lists the steps 7..N
 * on --dry-run without changing its version, then migrates and keeps its
 * rows; a database at version N+1 makes both `vodup serve` and `vodup
 * migrate` exit non-zero naming both versions and the upgrade document; a
 * missing database is not created.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "../unit/schema_v6.h"
#include "harness.h"
#include "harness_cli.h"
#include "store/store.h"

#define CLI_TIMEOUT_MS 30000

static harness_server_t *srv;

static harness_cli_result_t run_cli(const char *const *args)
{
    harness_cli_result_t r;
    harness_cli_opts_t o = {0};
    harness_cli_run(srv, &o, args, CLI_TIMEOUT_MS, &r);
    return r;
}

static void db_exec(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        print_error("sql: %s\n", msg);
    sqlite3_free(msg);
    sqlite3_close(db);
    assert_int_equal(rc, SQLITE_OK);
}

static int db_int(const char *path, const char *sql)
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

/* A new data directory ROOT/name holding a version-6 database with rows. */
static char *make_v6(const char *name)
{
    char *dir = harness_strf("%s/%s", srv->root, name);
    assert_int_equal(mkdir(dir, 0700), 0);
    char *db = harness_strf("%s/vodup.db", dir);
    db_exec(db, schema_v6);
    db_exec(db, "PRAGMA user_version = 6;"
                "INSERT INTO accounts (id, name, bucket, created_ms) VALUES (7, 'old', 'vod-00000000000000aa', 1);"
                "INSERT INTO videos (video_id, account_id, name, file_key, bucket, status, size, created_ms,"
                " uploaded_ms) VALUES ('v6v6', 7, 'old.mp4', 'video/20240101/v6v6/old.mp4',"
                " 'vod-00000000000000aa', 'uploaded', 42, 2, 3);");
    free(db);
    return dir;
}

static void assert_newer_message(const char *text, int newer)
{
    char *versions = harness_strf("schema version %d is newer than this vodup's (%d)", newer, store_schema_target());
    if (!strstr(text, versions) || !strstr(text, "docs/upgrading.md"))
        print_error("expected \"%s\" and docs/upgrading.md in:\n%s\n", versions, text);
    assert_non_null(strstr(text, versions));
    assert_non_null(strstr(text, "docs/upgrading.md"));
    free(versions);
}

/* ---- the tests ---- */

static void test_current_database_has_nothing_to_do(void **state)
{
    (void)state;
    const char *args[] = {"migrate", "--data", srv->data_dir, "--dry-run", NULL};
    harness_cli_result_t r = run_cli(args);
    assert_int_equal(r.status, 0);
    char *line = harness_strf("schema version: %d\n", store_schema_target());
    assert_non_null(strstr(r.out, line));
    free(line);
    assert_non_null(strstr(r.out, "nothing to do"));
    assert_null(strstr(r.out, "steps:"));
    harness_cli_result_free(&r);
    const char *apply[] = {"migrate", "--data", srv->data_dir, NULL};
    r = run_cli(apply);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "nothing to do"));
    harness_cli_result_free(&r);
}

static void test_version_6_lists_then_applies_the_steps(void **state)
{
    (void)state;
    char *dir = make_v6("v6");
    char *db = harness_strf("%s/vodup.db", dir);
    const char *dry[] = {"migrate", "--data", dir, "--dry-run", NULL};
    harness_cli_result_t r = run_cli(dry);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "schema version: 6\n"));
    for (int v = 7; v <= store_schema_target(); v++) {
        char *step = harness_strf("  %d  %s\n", v, store_schema_step_note(v));
        assert_non_null(strstr(r.out, step));
        free(step);
    }
    assert_null(strstr(r.out, "  6  "));
    assert_non_null(strstr(r.out, "dry run: nothing changed"));
    harness_cli_result_free(&r);
    assert_int_equal(db_int(db, "PRAGMA user_version"), 6);

    const char *apply[] = {"migrate", "--data", dir, NULL};
    r = run_cli(apply);
    assert_int_equal(r.status, 0);
    char *done = harness_strf("migrated: schema version %d\n", store_schema_target());
    assert_non_null(strstr(r.out, done));
    free(done);
    harness_cli_result_free(&r);
    assert_int_equal(db_int(db, "PRAGMA user_version"), store_schema_target());
    assert_int_equal(db_int(db, "SELECT count(*) FROM videos WHERE video_id = 'v6v6' AND size = 42"), 1);
    free(db);
    free(dir);
}

static void test_newer_schema_is_refused(void **state)
{
    (void)state;
    int newer = store_schema_target() + 1;
    assert_int_equal(harness_server_terminate(srv), 0);
    char *db = harness_strf("%s/vodup.db", srv->data_dir);
    char *sql = harness_strf("PRAGMA user_version = %d", newer);
    db_exec(db, sql);
    free(sql);

    const char *serve[] = {"serve", "--listen", "127.0.0.1:0", "--data", srv->data_dir, NULL};
    harness_cli_result_t r = run_cli(serve);
    assert_int_not_equal(r.status, 0);
    assert_true(r.status < 128); /* it exited by itself, it was not killed after listening */
    assert_null(strstr(r.out, "listening"));
    assert_newer_message(r.err, newer);
    harness_cli_result_free(&r);

    for (int dry = 0; dry < 2; dry++) {
        const char *migrate[] = {"migrate", "--data", srv->data_dir, dry ? "--dry-run" : NULL, NULL};
        r = run_cli(migrate);
        assert_int_equal(r.status, 1);
        assert_newer_message(r.err, newer);
        harness_cli_result_free(&r);
    }
    assert_int_equal(db_int(db, "PRAGMA user_version"), newer);
    /* Back to this vodup's version, so the group's server stops cleanly. */
    sql = harness_strf("PRAGMA user_version = %d", store_schema_target());
    db_exec(db, sql);
    free(sql);
    free(db);
    assert_true(harness_server_restart(srv, NULL));
}

static void test_missing_database_is_not_created(void **state)
{
    (void)state;
    char *dir = harness_strf("%s/nothing-here", srv->root);
    assert_int_equal(mkdir(dir, 0700), 0);
    const char *args[] = {"migrate", "--data", dir, NULL};
    harness_cli_result_t r = run_cli(args);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "no database"));
    harness_cli_result_free(&r);
    char *db = harness_strf("%s/vodup.db", dir);
    assert_int_equal(access(db, F_OK), -1);
    free(db);
    free(dir);
}

static int setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    return srv ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return harness_server_finish(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_current_database_has_nothing_to_do),
        cmocka_unit_test(test_version_6_lists_then_applies_the_steps),
        cmocka_unit_test(test_newer_schema_is_refused),
        cmocka_unit_test(test_missing_database_is_not_created),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
