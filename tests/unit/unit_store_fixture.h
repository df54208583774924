/*
 * unit_store_fixture: what the store's unit tests share: a fresh SQLite
 * store in a private directory with one account, raw SQL on the same file
 * (to inspect or age rows behind the store's back), and a registered video.
 * Include after cmocka, sqlite3.h, common/ids.h, store/store.h and
 * unit_tmpdir.h, with T0 (the tests' clock) defined.
 */
#ifndef VODUP_UNIT_STORE_FIXTURE_H
#define VODUP_UNIT_STORE_FIXTURE_H

typedef struct fixture {
    char dir[64];
    char path[128];
    store_t *store;
    int64_t account; /* an account with a key, made by setup */
    int objects;     /* object ids handed out, so each is new */
} fixture_t;

static store_t *open_store(const char *path)
{
    store_sqlite_options_t opt = {.path = path, .sync_full = false, .busy_timeout_ms = 5000, .read_connections = 4};
    return store_sqlite_open(&opt);
}

static int64_t new_account(store_t *s, const char *name)
{
    store_key_t k;
    assert_int_equal(s->ops->key_create(s, name, &k), STORE_OK);
    int64_t id = k.account_id;
    store_key_free(&k);
    return id;
}

/* Opens a fresh database (in /tmp/vodup-test-<name>-*) with the account
 * "alice"; -1 when it cannot. */
static int store_fixture_setup(void **state, const char *name)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    if (!unit_tmpdir_make(f->dir, sizeof(f->dir), name)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/vodup.db", f->dir);
    f->store = open_store(f->path);
    if (!f->store) {
        unit_tmpdir_remove(f->dir);
        free(f);
        return -1;
    }
    f->account = new_account(f->store, "alice");
    *state = f;
    return 0;
}

static int store_fixture_teardown(void **state)
{
    fixture_t *f = *state;
    if (f->store)
        f->store->ops->close(f->store);
    unit_tmpdir_remove(f->dir);
    free(f);
    return 0;
}

/* Runs SQL on a separate raw connection to a file. */
static void raw_exec_at(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    int src = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (src != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
}

/* The single integer a query answers, on a raw connection. */
static int64_t raw_count_at(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* Registers a new video of the account (no bytes yet); its id goes to vid. */
static void new_video(store_t *s, int64_t account_id, char vid[IDS_VIDEO_ID_LEN + 1])
{
    char key[128];
    assert_true(ids_video_id(T0, vid));
    snprintf(key, sizeof(key), "video/20240101/%s/clip.mp4", vid);
    store_video_reg_t reg = {
        .account_id = account_id, .video_id = vid, .name = "clip.mp4", .file_key = key,
        .bucket = "vod-0000000000000000", .domain = "", .expected_size = -1, .now_ms = T0};
    store_video_reg_result_t res;
    assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_OK);
}

#endif
