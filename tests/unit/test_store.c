/*
 * test_store: the SQLite store against the contract in store/store.h.
 *
 * Each test opens a fresh database in its own mkdtemp directory under /tmp
 * and removes it afterwards.  A raw sqlite3 connection sets statuses that
 * only the task queue reaches (processing, ready; the queue itself is
 * tested in test_store_tasks.c) and builds databases of an older schema
 * for the migration tests.
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ids.h"
#include "common/video_status.h"
#include "store/store.h"
#include "unit_tmpdir.h"

typedef struct fixture {
    char dir[64];
    char path[128];
    store_t *store;
} fixture_t;

static store_t *open_store(const char *path)
{
    store_sqlite_options_t opt = {.path = path, .sync_full = false, .busy_timeout_ms = 5000, .read_connections = 4};
    return store_sqlite_open(&opt);
}

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    if (!unit_tmpdir_make(f->dir, sizeof(f->dir), "store")) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/vodup.db", f->dir);
    f->store = open_store(f->path);
    if (!f->store) {
        rmdir(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->store)
        f->store->ops->close(f->store);
    unit_tmpdir_remove(f->dir);
    free(f);
    return 0;
}

/* Runs SQL (one or more statements) on a separate raw connection to a file. */
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

static void raw_exec(fixture_t *f, const char *sql)
{
    raw_exec_at(f->path, sql);
}

/* The first column of the first row of a query, as an integer. */
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

static int64_t raw_count(fixture_t *f, const char *sql)
{
    return raw_count_at(f->path, sql);
}

static bool all_chars(const char *s, const char *alphabet)
{
    for (; *s; s++)
        if (!strchr(alphabet, *s))
            return false;
    return true;
}

#define HEX "0123456789abcdef"
#define UPPER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

static int64_t new_account(store_t *s, const char *name)
{
    store_key_t k;
    assert_int_equal(s->ops->key_create(s, name, &k), STORE_OK);
    int64_t id = k.account_id;
    store_key_free(&k);
    return id;
}

/* A registration with only the required fields; video_id is fresh. */
static void reg_init(store_video_reg_t *r, char video_id[IDS_VIDEO_ID_LEN + 1], int64_t account_id,
                     const char *name, const char *file_id, int64_t now_ms)
{
    static _Thread_local char file_key[128]; /* one per thread: workers race otherwise */
    assert_true(ids_video_id(now_ms, video_id));
    memset(r, 0, sizeof(*r));
    r->account_id = account_id;
    r->video_id = video_id;
    r->file_id = file_id;
    r->name = name;
    snprintf(file_key, sizeof(file_key), "video/20240101/%s/clip.mp4", video_id);
    r->file_key = file_key;
    r->bucket = "vod-0000000000000000";
    r->domain = "";
    r->expected_size = -1;
    r->now_ms = now_ms;
}

/* ---- keys and accounts ---- */

static void test_key_create_formats(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    store_key_t k;
    assert_int_equal(s->ops->key_create(s, NULL, &k), STORE_OK);
    assert_int_equal(strlen(k.access_key), 20);
    assert_memory_equal(k.access_key, "AK", 2);
    assert_true(all_chars(k.access_key, UPPER_DIGITS));
    assert_int_equal(strlen(k.secret_key), 40);
    assert_true(all_chars(k.secret_key, ALNUM));
    assert_int_equal(strlen(k.account_name), 16);
    assert_memory_equal(k.account_name, "account-", 8);
    assert_true(all_chars(k.account_name + 8, HEX));
    assert_int_equal(strlen(k.bucket), 20);
    assert_memory_equal(k.bucket, "vod-", 4);
    assert_true(all_chars(k.bucket + 4, HEX));
    assert_true(k.enabled);
    assert_true(k.created_ms > 0);
    store_key_free(&k);

    assert_int_equal(s->ops->key_create(s, "", &k), STORE_INVALID);
}

static void test_key_list_lookup_enable(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    store_key_t a1, a2, b;
    assert_int_equal(s->ops->key_create(s, "alice", &a1), STORE_OK);
    assert_int_equal(s->ops->key_create(s, "alice", &a2), STORE_OK);
    assert_int_equal(s->ops->key_create(s, "bob", &b), STORE_OK);
    /* A second key joins the existing account. */
    assert_int_equal(a1.account_id, a2.account_id);
    assert_string_equal(a1.bucket, a2.bucket);
    assert_string_equal(a2.account_name, "alice");
    assert_string_not_equal(a1.access_key, a2.access_key);
    assert_int_not_equal(a1.account_id, b.account_id);

    store_key_list_t l;
    assert_int_equal(s->ops->key_list(s, &l), STORE_OK);
    assert_int_equal(l.count, 3);
    for (size_t i = 0; i < l.count; i++) {
        assert_null(l.items[i].secret_key); /* listings never carry secrets */
        assert_non_null(l.items[i].account_name);
        assert_true(l.items[i].enabled);
    }
    store_key_list_free(&l);

    store_key_t k;
    assert_int_equal(s->ops->key_lookup(s, a1.access_key, &k), STORE_OK);
    assert_string_equal(k.secret_key, a1.secret_key);
    assert_string_equal(k.account_name, "alice");
    assert_string_equal(k.bucket, a1.bucket);
    assert_int_equal(k.account_id, a1.account_id);
    assert_true(k.enabled);
    store_key_free(&k);

    assert_int_equal(s->ops->key_set_enabled(s, a1.access_key, false), STORE_OK);
    assert_int_equal(s->ops->key_lookup(s, a1.access_key, &k), STORE_OK);
    assert_false(k.enabled);
    store_key_free(&k);
    assert_int_equal(s->ops->key_lookup(s, a2.access_key, &k), STORE_OK);
    assert_true(k.enabled); /* only that key */
    store_key_free(&k);
    assert_int_equal(s->ops->key_set_enabled(s, a1.access_key, true), STORE_OK);
    assert_int_equal(s->ops->key_lookup(s, a1.access_key, &k), STORE_OK);
    assert_true(k.enabled);
    store_key_free(&k);

    assert_int_equal(s->ops->key_set_enabled(s, "AKNOSUCHKEY000000000", false), STORE_NOT_FOUND);
    assert_int_equal(s->ops->key_lookup(s, "AKNOSUCHKEY000000000", &k), STORE_NOT_FOUND);
    store_key_free(&a1);
    store_key_free(&a2);
    store_key_free(&b);
}

static void test_accounts_buckets_find(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t n = -1;
    assert_int_equal(s->ops->account_count(s, &n), STORE_OK);
    assert_int_equal(n, 0);

    store_key_t a, b;
    assert_int_equal(s->ops->key_create(s, NULL, &a), STORE_OK);
    assert_int_equal(s->ops->key_create(s, NULL, &b), STORE_OK);
    assert_int_not_equal(a.account_id, b.account_id);
    assert_string_not_equal(a.bucket, b.bucket);
    assert_string_not_equal(a.account_name, b.account_name);
    assert_int_equal(s->ops->account_count(s, &n), STORE_OK);
    assert_int_equal(n, 2);

    int64_t id = 0;
    assert_int_equal(s->ops->account_find(s, a.account_name, &id), STORE_OK);
    assert_int_equal(id, a.account_id);
    assert_int_equal(s->ops->account_find(s, b.access_key, &id), STORE_OK);
    assert_int_equal(id, b.account_id);
    assert_int_equal(s->ops->account_find(s, "nobody", &id), STORE_NOT_FOUND);
    store_key_free(&a);
    store_key_free(&b);
}

static void test_file_modes(void **state)
{
    fixture_t *f = *state;
    new_account(f->store, NULL);
    const char *suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char p[160];
        struct stat st;
        snprintf(p, sizeof(p), "%s%s", f->path, suffixes[i]);
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
    }
}

static void test_reopen_keeps_data(void **state)
{
    fixture_t *f = *state;
    store_key_t k, k2;
    assert_int_equal(f->store->ops->key_create(f->store, "keep", &k), STORE_OK);
    f->store->ops->close(f->store);
    f->store = open_store(f->path);
    assert_non_null(f->store);
    assert_int_equal(f->store->ops->key_lookup(f->store, k.access_key, &k2), STORE_OK);
    assert_string_equal(k2.secret_key, k.secret_key);
    store_key_free(&k);
    store_key_free(&k2);
}

/* ---- domains ---- */

static void test_domains(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    store_domain_t d;
    assert_int_equal(s->ops->domain_get(s, a, NULL, &d), STORE_NOT_FOUND);

    assert_int_equal(s->ops->domain_add(s, a, "one.example.com", false), STORE_OK);
    assert_int_equal(s->ops->domain_add(s, a, "two.example.com", false), STORE_OK);
    assert_int_equal(s->ops->domain_get(s, a, NULL, &d), STORE_OK);
    assert_string_equal(d.name, "one.example.com"); /* the first one */
    assert_true(d.is_default);
    free(d.name);

    assert_int_equal(s->ops->domain_add(s, a, "three.example.com", true), STORE_OK);
    assert_int_equal(s->ops->domain_get(s, a, NULL, &d), STORE_OK);
    assert_string_equal(d.name, "three.example.com");
    free(d.name);
    assert_int_equal(s->ops->domain_get(s, a, "one.example.com", &d), STORE_OK);
    assert_false(d.is_default);
    free(d.name);
    assert_int_equal(s->ops->domain_get(s, a, "four.example.com", &d), STORE_NOT_FOUND);

    assert_int_equal(s->ops->domain_add(s, a, "two.example.com", false), STORE_EXISTS);
    /* --default on a known domain (any case) switches the default to it... */
    assert_int_equal(s->ops->domain_add(s, a, "TWO.example.com", true), STORE_OK);
    assert_int_equal(s->ops->domain_get(s, a, NULL, &d), STORE_OK);
    assert_string_equal(d.name, "two.example.com");
    free(d.name);
    /* ...and back. */
    assert_int_equal(s->ops->domain_add(s, a, "three.example.com", true), STORE_OK);

    store_domain_list_t l;
    assert_int_equal(s->ops->domain_list(s, a, &l), STORE_OK);
    assert_int_equal(l.count, 3);
    int defaults = 0;
    for (size_t i = 0; i < l.count; i++)
        defaults += l.items[i].is_default;
    assert_int_equal(defaults, 1);
    assert_string_equal(l.items[0].name, "three.example.com"); /* default first */
    assert_true(l.items[0].is_default);
    store_domain_list_free(&l);

    /* Another account has its own domains, and may reuse the name. */
    int64_t b = new_account(s, "b");
    assert_int_equal(s->ops->domain_list(s, b, &l), STORE_OK);
    assert_int_equal(l.count, 0);
    store_domain_list_free(&l);
    assert_int_equal(s->ops->domain_get(s, b, "one.example.com", &d), STORE_NOT_FOUND);
    assert_int_equal(s->ops->domain_add(s, b, "one.example.com", false), STORE_OK);
    assert_int_equal(s->ops->domain_add(s, 999999, "x.example.com", false), STORE_NOT_FOUND);
}

/* ---- resources ---- */

static void test_resources(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    store_resource_t r;

    assert_int_equal(s->ops->resource_add(s, a, STORE_TEMPLATE, "hd", "{\"container\":\"mp4\"}", &r), STORE_OK);
    assert_string_equal(r.id, "hd");
    assert_string_equal(r.name, "hd");
    store_resource_free(&r);
    assert_int_equal(s->ops->resource_add(s, a, STORE_WATERMARK, "logo", "{\"image\":\"x.png\"}", &r), STORE_OK);
    assert_string_equal(r.id, "logo");
    store_resource_free(&r);

    char wf[64], sub[64];
    assert_int_equal(s->ops->resource_add(s, a, STORE_WORKFLOW, "flow", "{\"steps\":[]}", &r), STORE_OK);
    assert_int_equal(strlen(r.id), 32);
    assert_memory_equal(r.id, "wf", 2);
    assert_true(all_chars(r.id + 2, HEX));
    snprintf(wf, sizeof(wf), "%s", r.id);
    store_resource_free(&r);
    assert_int_equal(s->ops->resource_add(s, a, STORE_SUBTITLE, "en", "{\"format\":\"srt\"}", &r), STORE_OK);
    assert_int_equal(strlen(r.id), 32);
    assert_memory_equal(r.id, "sub", 3);
    assert_true(all_chars(r.id + 3, HEX));
    snprintf(sub, sizeof(sub), "%s", r.id);
    store_resource_free(&r);

    /* Names are unique per kind; the same name under another kind is fine. */
    assert_int_equal(s->ops->resource_add(s, a, STORE_TEMPLATE, "hd", "{}", &r), STORE_EXISTS);
    assert_int_equal(s->ops->resource_add(s, a, STORE_WORKFLOW, "flow", "{}", &r), STORE_EXISTS);
    assert_int_equal(s->ops->resource_add(s, a, STORE_WATERMARK, "hd", "{}", &r), STORE_OK);
    store_resource_free(&r);
    assert_int_equal(s->ops->resource_add(s, a, STORE_TEMPLATE, "bad", "[1]", &r), STORE_INVALID);
    assert_int_equal(s->ops->resource_add(s, a, STORE_TEMPLATE, "bad", "{", &r), STORE_INVALID);
    assert_int_equal(s->ops->resource_add(s, a, 42, "bad", "{}", &r), STORE_INVALID);

    assert_int_equal(s->ops->resource_get(s, a, STORE_WORKFLOW, wf, &r), STORE_OK);
    assert_string_equal(r.name, "flow");
    assert_string_equal(r.spec, "{\"steps\":[]}");
    assert_true(r.created_ms > 0);
    store_resource_free(&r);
    assert_int_equal(s->ops->resource_get(s, a, STORE_WORKFLOW, "flow", &r), STORE_NOT_FOUND); /* by id only */
    assert_int_equal(s->ops->resource_get(s, a, STORE_SUBTITLE, sub, &r), STORE_OK);
    store_resource_free(&r);
    assert_int_equal(s->ops->resource_get(s, a, STORE_TEMPLATE, "hd", &r), STORE_OK);
    assert_string_equal(r.spec, "{\"container\":\"mp4\"}");
    store_resource_free(&r);
    assert_int_equal(s->ops->resource_get(s, a, STORE_TEMPLATE, "logo", &r), STORE_NOT_FOUND);

    static const struct {
        int kind;
        size_t count;
    } counts[] = {{STORE_WORKFLOW, 1}, {STORE_WATERMARK, 2}, {STORE_TEMPLATE, 1}, {STORE_SUBTITLE, 1}};
    for (size_t i = 0; i < 4; i++) {
        store_resource_list_t l;
        assert_int_equal(s->ops->resource_list(s, a, counts[i].kind, &l), STORE_OK);
        assert_int_equal(l.count, counts[i].count);
        store_resource_list_free(&l);
    }
}

/* ---- isolation ---- */

static void test_cross_account_isolation(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a"), b = new_account(s, "b");
    store_resource_t r;
    assert_int_equal(s->ops->resource_add(s, a, STORE_WORKFLOW, "flow", "{}", &r), STORE_OK);
    store_resource_t other;
    assert_int_equal(s->ops->resource_get(s, b, STORE_WORKFLOW, r.id, &other), STORE_NOT_FOUND);
    store_resource_list_t l;
    assert_int_equal(s->ops->resource_list(s, b, STORE_WORKFLOW, &l), STORE_OK);
    assert_int_equal(l.count, 0);
    store_resource_list_free(&l);
    store_resource_free(&r);

    char vid[33];
    store_video_reg_t reg;
    store_video_reg_result_t res;
    reg_init(&reg, vid, a, "a.mp4", "shared-file-id", ids_now_ms());
    assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_OK);
    store_video_t v;
    assert_int_equal(s->ops->video_get(s, b, res.video_id, &v), STORE_NOT_FOUND);
    assert_int_equal(s->ops->video_get(s, a, res.video_id, &v), STORE_OK);
    store_video_free(&v);

    /* The same fileId in another account is another video. */
    char vid_b[33];
    store_video_reg_result_t res_b;
    reg_init(&reg, vid_b, b, "b.mp4", "shared-file-id", ids_now_ms());
    assert_int_equal(store_video_register_sync(s, &reg, &res_b), STORE_OK);
    assert_false(res_b.existed);
    assert_string_not_equal(res_b.video_id, res.video_id);

    store_video_filter_t flt = {.page_index = 1, .page_size = 100};
    store_video_page_t p;
    assert_int_equal(s->ops->video_list(s, b, &flt, &p), STORE_OK);
    assert_int_equal(p.total, 1);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.items[0].video_id, res_b.video_id);
    assert_int_equal(p.items[0].account_id, b);
    store_video_page_free(&p);
}

/* ---- registration ---- */

static void test_register_resume_conflict(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    char vid[33];
    store_video_reg_t reg;
    store_video_reg_result_t res, res2;
    store_category_t cats1[] = {{"sports", "football"}};
    reg_init(&reg, vid, a, "clip.mp4", "f1", ids_now_ms());
    reg.domain = "cdn.example.com";
    reg.template_name = "hd";
    reg.expected_size = 1000;
    reg.expected_md5 = "0123456789abcdef0123456789abcdef";
    reg.categories = cats1;
    reg.category_count = 1;
    assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_OK);
    assert_false(res.existed);
    assert_string_equal(res.video_id, vid);
    assert_string_equal(res.file_key, reg.file_key);

    store_video_t v;
    assert_int_equal(s->ops->video_get(s, a, vid, &v), STORE_OK);
    assert_int_equal(v.status, VIDEO_CREATED);
    assert_int_equal(v.size, -1);
    assert_true(v.duration < 0);
    assert_string_equal(v.name, "clip.mp4");
    assert_string_equal(v.file_id, "f1");
    assert_string_equal(v.domain, "cdn.example.com");
    assert_string_equal(v.template_name, "hd");
    assert_null(v.workflow_id);
    assert_int_equal(v.expected_size, 1000);
    assert_int_equal(v.category_count, 1);
    assert_string_equal(v.categories[0].parent_name, "sports");
    assert_string_equal(v.categories[0].child_name, "football");
    store_video_free(&v);

    /* Resume: same video, settings replaced. */
    char vid2[33];
    store_category_t cats2[] = {{"music", "jazz"}, {"music", "blues"}};
    reg_init(&reg, vid2, a, "other-name.mp4", "f1", ids_now_ms());
    reg.workflow_id = "wf0123";
    reg.categories = cats2;
    reg.category_count = 2;
    assert_int_equal(store_video_register_sync(s, &reg, &res2), STORE_OK);
    assert_true(res2.existed);
    assert_string_equal(res2.video_id, vid);
    assert_string_equal(res2.file_key, res.file_key);
    assert_int_equal(s->ops->video_get(s, a, vid, &v), STORE_OK);
    assert_string_equal(v.name, "clip.mp4"); /* the name stays */
    assert_string_equal(v.domain, "");
    assert_null(v.template_name);
    assert_null(v.expected_md5);
    assert_int_equal(v.expected_size, -1);
    assert_string_equal(v.workflow_id, "wf0123");
    assert_int_equal(v.category_count, 2);
    assert_string_equal(v.categories[0].child_name, "jazz");
    assert_string_equal(v.categories[1].child_name, "blues");
    store_video_free(&v);
    assert_int_equal(s->ops->video_get(s, a, vid2, &v), STORE_NOT_FOUND);

    /* Completed uploads conflict unless overwrite is set. */
    static const char *const completed[] = {"uploaded", "processing", "ready"};
    for (size_t i = 0; i < 3; i++) {
        char sql[128];
        snprintf(sql, sizeof(sql), "UPDATE videos SET status = '%s' WHERE video_id = '%s'", completed[i], vid);
        raw_exec(f, sql);
        reg_init(&reg, vid2, a, "clip.mp4", "f1", ids_now_ms());
        assert_int_equal(store_video_register_sync(s, &reg, &res2), STORE_CONFLICT);
        reg.overwrite = true;
        assert_int_equal(store_video_register_sync(s, &reg, &res2), STORE_OK);
        assert_true(res2.existed);
        assert_string_equal(res2.video_id, vid);
    }
    assert_int_equal(s->ops->video_get(s, a, vid, &v), STORE_OK);
    assert_true(v.overwrite);
    store_video_free(&v);

    /* A failed upload may be resumed. */
    raw_exec(f, "UPDATE videos SET status = 'failed'");
    reg_init(&reg, vid2, a, "clip.mp4", "f1", ids_now_ms());
    assert_int_equal(store_video_register_sync(s, &reg, &res2), STORE_OK);
    assert_string_equal(res2.video_id, vid);

    /* Without a fileId every registration is a new video. */
    reg_init(&reg, vid2, a, "clip.mp4", NULL, ids_now_ms());
    assert_int_equal(store_video_register_sync(s, &reg, &res2), STORE_OK);
    assert_false(res2.existed);
    assert_string_equal(res2.video_id, vid2);

    /* Registrations for an unknown account fail alone. */
    reg_init(&reg, vid2, 999999, "clip.mp4", NULL, ids_now_ms());
    assert_int_not_equal(store_video_register_sync(s, &reg, &res2), STORE_OK);
}

/* The registration outlives the caller's strings: they are copied. */
static void test_register_copies_strings(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    char vid[33];
    store_video_reg_t reg;
    reg_init(&reg, vid, a, "x", NULL, ids_now_ms());
    char *name = strdup("copied.mp4"), *parent = strdup("p"), *child = strdup("c");
    store_category_t cat = {parent, child};
    reg.name = name;
    reg.categories = &cat;
    reg.category_count = 1;
    store_video_reg_result_t res;
    assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_OK);
    free(name);
    free(parent);
    free(child);
    store_video_t v;
    assert_int_equal(s->ops->video_get(s, a, vid, &v), STORE_OK);
    assert_string_equal(v.name, "copied.mp4");
    assert_string_equal(v.categories[0].parent_name, "p");
    store_video_free(&v);
}

/* ---- concurrency ---- */

#define CONCURRENT_THREADS 8
#define CONCURRENT_PER_THREAD 50
#define CONCURRENT_TOTAL ((size_t)CONCURRENT_THREADS * CONCURRENT_PER_THREAD)

typedef struct collector {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t done;
    store_video_reg_result_t results[CONCURRENT_TOTAL];
} collector_t;

typedef struct slot {
    collector_t *c;
    size_t index;
} slot_t;

static void collect_done(void *arg, const store_video_reg_result_t *result)
{
    slot_t *slot = arg;
    collector_t *c = slot->c;
    pthread_mutex_lock(&c->mu);
    c->results[slot->index] = *result;
    c->done++;
    pthread_cond_broadcast(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static void collector_wait(collector_t *c, size_t n)
{
    pthread_mutex_lock(&c->mu);
    while (c->done < n)
        pthread_cond_wait(&c->cv, &c->mu);
    pthread_mutex_unlock(&c->mu);
}

typedef struct worker {
    store_t *store;
    int64_t account_id;
    size_t first;
    slot_t *slots;
    collector_t *c;
} worker_t;

static void *register_worker(void *arg)
{
    worker_t *w = arg;
    for (size_t i = 0; i < CONCURRENT_PER_THREAD; i++) {
        char vid[33];
        store_video_reg_t reg;
        store_category_t cat = {"shared", "same"};
        reg_init(&reg, vid, w->account_id, "race.mp4", "same-file-id", ids_now_ms());
        reg.categories = &cat;
        reg.category_count = 1;
        slot_t *slot = &w->slots[w->first + i];
        slot->c = w->c;
        slot->index = w->first + i;
        w->store->ops->video_register(w->store, &reg, collect_done, slot);
    }
    return NULL;
}

static void test_concurrent_same_file_id(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    collector_t *c = calloc(1, sizeof(*c));
    slot_t *slots = calloc(CONCURRENT_TOTAL, sizeof(*slots));
    assert_non_null(c);
    assert_non_null(slots);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    pthread_t threads[CONCURRENT_THREADS];
    worker_t workers[CONCURRENT_THREADS];
    for (size_t t = 0; t < CONCURRENT_THREADS; t++) {
        workers[t] = (worker_t){s, a, t * CONCURRENT_PER_THREAD, slots, c};
        assert_int_equal(pthread_create(&threads[t], NULL, register_worker, &workers[t]), 0);
    }
    for (size_t t = 0; t < CONCURRENT_THREADS; t++)
        pthread_join(threads[t], NULL);
    collector_wait(c, CONCURRENT_TOTAL);

    size_t fresh = 0;
    for (size_t i = 0; i < CONCURRENT_TOTAL; i++) {
        assert_int_equal(c->results[i].rc, STORE_OK);
        assert_string_equal(c->results[i].video_id, c->results[0].video_id);
        assert_string_equal(c->results[i].file_key, c->results[0].file_key);
        fresh += !c->results[i].existed;
    }
    assert_int_equal(fresh, 1);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM videos"), 1);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM categories"), 1);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(slots);
    free(c);
}

static void test_close_drains_queue(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    collector_t *c = calloc(1, sizeof(*c));
    slot_t *slots = calloc(CONCURRENT_TOTAL, sizeof(*slots));
    assert_non_null(c);
    assert_non_null(slots);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    for (size_t i = 0; i < CONCURRENT_TOTAL; i++) {
        char vid[33];
        store_video_reg_t reg;
        reg_init(&reg, vid, a, "drain.mp4", NULL, ids_now_ms());
        slots[i] = (slot_t){c, i};
        s->ops->video_register(s, &reg, collect_done, &slots[i]);
    }
    s->ops->close(s);
    f->store = NULL;
    /* close() returned, so every callback has run already. */
    assert_int_equal(c->done, CONCURRENT_TOTAL);
    for (size_t i = 0; i < CONCURRENT_TOTAL; i++)
        assert_int_equal(c->results[i].rc, STORE_OK);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM videos"), CONCURRENT_TOTAL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(slots);
    free(c);
}

/*
 * One batch with mixed outcomes.  A raw connection holds the write lock
 * while a first job is in flight, so the writer thread waits in BEGIN and
 * the jobs queued meanwhile all land in the next batch together.
 */
static void test_batch_failures_are_isolated(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    char done_vid[33];
    store_video_reg_t reg;
    store_video_reg_result_t res;
    reg_init(&reg, done_vid, a, "done.mp4", "completed", ids_now_ms());
    assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_OK);
    raw_exec(f, "UPDATE videos SET status = 'ready'");

    collector_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    slot_t slots[6];
    char vids[6][33];

    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    /* 0: the blocker; 1: new; 2: completed fileId -> conflict; 3: unknown
     * account; 4 and 5: the same new fileId twice. */
    static const struct {
        const char *file_id;
        bool bad_account;
        int rc;
    } jobs[6] = {
        {NULL, false, STORE_OK},         {NULL, false, STORE_OK}, {"completed", false, STORE_CONFLICT},
        {NULL, true, STORE_NOT_FOUND},   {"twice", false, STORE_OK}, {"twice", false, STORE_OK},
    };
    for (size_t i = 0; i < 6; i++) {
        reg_init(&reg, vids[i], jobs[i].bad_account ? 999999 : a, "batch.mp4", jobs[i].file_id, ids_now_ms());
        slots[i] = (slot_t){c, i};
        s->ops->video_register(s, &reg, collect_done, &slots[i]);
        if (i == 0)
            usleep(100 * 1000); /* let the writer take the blocker alone */
    }
    usleep(100 * 1000);
    assert_int_equal(c->done, 0); /* nothing is reported before it is durable */
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    collector_wait(c, 6);

    for (size_t i = 0; i < 6; i++)
        assert_int_equal(c->results[i].rc, jobs[i].rc);
    assert_string_equal(c->results[1].video_id, vids[1]);
    assert_string_equal(c->results[4].video_id, vids[4]);
    assert_false(c->results[4].existed);
    assert_string_equal(c->results[5].video_id, vids[4]); /* same video */
    assert_true(c->results[5].existed);
    store_video_t v;
    assert_int_equal(s->ops->video_get(s, a, vids[1], &v), STORE_OK);
    store_video_free(&v);
    assert_int_equal(s->ops->video_get(s, a, vids[5], &v), STORE_NOT_FOUND);
    /* done, blocker, new, twice. */
    assert_int_equal(raw_count(f, "SELECT count(*) FROM videos"), 4);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- categories and listing ---- */

static void test_categories_shared(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a"), b = new_account(s, "b");
    store_category_t cats[] = {{"sports", "football"}, {"sports", "tennis"}, {"sports", "football"}};
    for (int i = 0; i < 3; i++) {
        char vid[33];
        store_video_reg_t reg;
        store_video_reg_result_t res;
        reg_init(&reg, vid, i < 2 ? a : b, "c.mp4", NULL, ids_now_ms());
        reg.categories = cats;
        reg.category_count = 3;
        assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_OK);
        store_video_t v;
        assert_int_equal(s->ops->video_get(s, reg.account_id, vid, &v), STORE_OK);
        assert_int_equal(v.category_count, 2); /* a repeat joins once */
        assert_string_equal(v.categories[0].child_name, "football");
        assert_string_equal(v.categories[1].child_name, "tennis");
        store_video_free(&v);
    }
    /* Two per account: created once, shared by both of a's videos. */
    assert_int_equal(raw_count(f, "SELECT count(*) FROM categories"), 4);
    assert_int_equal(raw_count(f, "SELECT count(DISTINCT category_id) FROM video_categories"), 4);
}

static void test_video_list(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    int64_t base = ids_now_ms() - 100000;
    char ids[25][33];
    store_category_t news = {"news", "local"}, fun = {"fun", "cats"};
    for (int i = 0; i < 25; i++) {
        char name[64];
        store_video_reg_t reg;
        store_video_reg_result_t res;
        if (i == 7)
            snprintf(name, sizeof(name), "100%%_Special.mp4");
        else
            snprintf(name, sizeof(name), "%s-%02d.mp4", i % 2 ? "Holiday" : "work", i);
        reg_init(&reg, ids[i], a, name, NULL, base + (int64_t)i * 10);
        reg.categories = i % 5 == 0 ? &news : &fun;
        reg.category_count = 1;
        assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_OK);
    }
    char sql[128];
    snprintf(sql, sizeof(sql), "UPDATE videos SET status = 'ready' WHERE video_id IN ('%s', '%s')", ids[3], ids[4]);
    raw_exec(f, sql);

    store_video_filter_t flt = {.page_index = 1, .page_size = 10};
    store_video_page_t p;
    assert_int_equal(s->ops->video_list(s, a, &flt, &p), STORE_OK);
    assert_int_equal(p.total, 25);
    assert_int_equal(p.count, 10);
    for (size_t i = 0; i < p.count; i++)
        assert_string_equal(p.items[i].video_id, ids[24 - i]); /* newest first */
    assert_int_equal(p.items[0].category_count, 1);
    store_video_page_free(&p);

    flt.page_index = 2;
    assert_int_equal(s->ops->video_list(s, a, &flt, &p), STORE_OK);
    assert_int_equal(p.total, 25);
    assert_int_equal(p.count, 10);
    assert_string_equal(p.items[0].video_id, ids[14]);
    store_video_page_free(&p);
    flt.page_index = 3;
    assert_int_equal(s->ops->video_list(s, a, &flt, &p), STORE_OK);
    assert_int_equal(p.count, 5);
    assert_string_equal(p.items[4].video_id, ids[0]);
    store_video_page_free(&p);
    flt.page_index = 4;
    assert_int_equal(s->ops->video_list(s, a, &flt, &p), STORE_OK);
    assert_int_equal(p.total, 25);
    assert_int_equal(p.count, 0);
    store_video_page_free(&p);

    /* Name substring, case-insensitive; LIKE wildcards are literal. */
    static const struct {
        const char *name, *status, *category;
        int64_t total;
    } cases[] = {
        {"holiday", NULL, NULL, 11}, /* odd i except 7 */
        {"HOLIDAY-0", NULL, NULL, 4},
        {"%", NULL, NULL, 1},
        {"0%_", NULL, NULL, 1},
        {"_", NULL, NULL, 1},
        {"nothing", NULL, NULL, 0},
        {NULL, "ready", NULL, 2},
        {NULL, "created", NULL, 23},
        {NULL, NULL, "news", 5},  /* parent name */
        {NULL, NULL, "cats", 20}, /* child name */
        {NULL, NULL, "sports", 0},
        {"holiday", "ready", NULL, 1},
        {"", NULL, "local", 5},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        store_video_filter_t cf = {.name_substring = cases[i].name,
                                   .by_status = cases[i].status != NULL,
                                   .status = video_status_parse(cases[i].status),
                                   .category_name = cases[i].category,
                                   .page_index = 1,
                                   .page_size = 100};
        assert_int_equal(s->ops->video_list(s, a, &cf, &p), STORE_OK);
        if (p.total != cases[i].total)
            fail_msg("case %zu: total %lld, want %lld", i, (long long)p.total, (long long)cases[i].total);
        assert_int_equal(p.count, (size_t)cases[i].total);
        store_video_page_free(&p);
    }

    store_video_filter_t bad = {.page_index = 0, .page_size = 10};
    assert_int_equal(s->ops->video_list(s, a, &bad, &p), STORE_INVALID);
    bad = (store_video_filter_t){.page_index = 1, .page_size = 101};
    assert_int_equal(s->ops->video_list(s, a, &bad, &p), STORE_INVALID);
    bad = (store_video_filter_t){.page_index = INT64_MAX, .page_size = 100};
    assert_int_equal(s->ops->video_list(s, a, &bad, &p), STORE_INVALID);
}

/* Reads still answer while another connection holds the write lock. */
static void test_reads_during_write_lock(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    store_key_t k, k2;
    assert_int_equal(s->ops->key_create(s, "a", &k), STORE_OK);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE; INSERT INTO accounts (name, bucket, created_ms)"
                                      " VALUES ('locker', 'vod-locker', 1)", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(s->ops->key_lookup(s, k.access_key, &k2), STORE_OK);
    store_key_free(&k2);
    int64_t n = 0;
    assert_int_equal(s->ops->account_count(s, &n), STORE_OK);
    assert_int_equal(n, 1); /* the uncommitted account is invisible */
    assert_int_equal(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(s->ops->account_count(s, &n), STORE_OK);
    assert_int_equal(n, 2);
    store_key_free(&k);
}

/* ---- the upload path ---- */

#define MD5_A "0123456789abcdef0123456789abcdef"
#define MD5_B "fedcba9876543210fedcba9876543210"
#define OBJ_1 "00000000000000000000000000000001"
#define OBJ_2 "00000000000000000000000000000002"
#define OBJ_3 "00000000000000000000000000000003"

/* Registers a new video (no fileId); its ids go to vid and key. */
static void new_video(store_t *s, int64_t account_id, char vid[33], char key[1024])
{
    store_video_reg_t reg;
    store_video_reg_result_t res;
    reg_init(&reg, vid, account_id, "clip.mp4", NULL, ids_now_ms());
    assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_OK);
    if (key)
        snprintf(key, 1024, "%s", res.file_key);
}

static store_video_upload_t upload_of(int64_t account_id, const char *video_id, const char *object_id,
                                      int64_t size, const char *md5, bool overwrite)
{
    return (store_video_upload_t){
        .account_id = account_id,
        .video_id = video_id,
        .object_id = object_id,
        .size = size,
        .md5 = md5,
        .etag = "FhQ3rQ2V6TuGRUHm8-h2k8cKOnYq",
        .mime_type = "video/mp4",
        .overwrite = overwrite,
        .now_ms = 1700000000123,
    };
}

static void assert_video_status(store_t *s, int64_t account_id, const char *vid, const char *status,
                                const char *fail_reason, const char *object_id)
{
    store_video_t v;
    assert_int_equal(s->ops->video_get(s, account_id, vid, &v), STORE_OK);
    assert_string_equal(video_status_name(v.status), status);
    if (fail_reason)
        assert_string_equal(v.fail_reason, fail_reason);
    else
        assert_null(v.fail_reason);
    if (object_id)
        assert_string_equal(v.object_id, object_id);
    else
        assert_null(v.object_id);
    store_video_free(&v);
}

static void test_find_by_key(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a"), b = new_account(s, "b");
    char vid[33], key[1024];
    new_video(s, a, vid, key);
    store_category_t cat = {"p", "c"};
    char vid2[33];
    store_video_reg_t reg;
    store_video_reg_result_t res;
    reg_init(&reg, vid2, a, "other.mp4", NULL, ids_now_ms());
    reg.categories = &cat;
    reg.category_count = 1;
    assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_OK);

    static const struct {
        int account; /* 0: a, 1: b, -1: any */
        bool known_key;
        int rc;
    } cases[] = {
        {0, true, STORE_OK}, {1, true, STORE_NOT_FOUND}, {-1, true, STORE_OK},
        {0, false, STORE_NOT_FOUND}, {-1, false, STORE_NOT_FOUND},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t account = cases[i].account < 0 ? -1 : cases[i].account == 0 ? a : b;
        store_video_t v;
        int rc = s->ops->video_find_by_key(s, account, cases[i].known_key ? key : "video/20240101/none/x.mp4", &v);
        if (rc != cases[i].rc)
            fail_msg("case %zu: %s, want %s", i, store_rc_name(rc), store_rc_name(cases[i].rc));
        if (rc == STORE_OK) {
            assert_string_equal(v.video_id, vid);
            assert_string_equal(v.file_key, key);
            assert_int_equal(v.account_id, a);
            assert_int_equal(v.status, VIDEO_CREATED);
            assert_null(v.object_id);
        }
        store_video_free(&v);
    }

    /* Categories come along, as with video_get. */
    store_video_t v;
    assert_int_equal(s->ops->video_find_by_key(s, -1, res.file_key, &v), STORE_OK);
    assert_string_equal(v.video_id, vid2);
    assert_int_equal(v.category_count, 1);
    assert_string_equal(v.categories[0].child_name, "c");
    store_video_free(&v);
    assert_int_equal(s->ops->video_find_by_key(s, a, NULL, &v), STORE_INVALID);

    /* After an upload every read fills object_id. */
    store_video_upload_t u = upload_of(a, vid, OBJ_1, 10, MD5_A, false);
    assert_int_equal(s->ops->video_set_uploaded(s, &u, NULL), STORE_OK);
    assert_int_equal(s->ops->video_find_by_key(s, -1, key, &v), STORE_OK);
    assert_string_equal(v.object_id, OBJ_1);
    store_video_free(&v);
    assert_video_status(s, a, vid, "uploaded", NULL, OBJ_1);
    store_video_filter_t flt = {.page_index = 1, .page_size = 10};
    store_video_page_t p;
    assert_int_equal(s->ops->video_list(s, a, &flt, &p), STORE_OK);
    assert_int_equal(p.count, 2);
    for (size_t i = 0; i < p.count; i++) {
        if (!strcmp(p.items[i].video_id, vid))
            assert_string_equal(p.items[i].object_id, OBJ_1);
        else
            assert_null(p.items[i].object_id);
    }
    store_video_page_free(&p);
}

/* fileKeys are unique across the whole database. */
static void test_file_key_unique(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a"), b = new_account(s, "b");
    char vid[33], vid2[33];
    store_video_reg_t reg;
    store_video_reg_result_t res;
    reg_init(&reg, vid, a, "x.mp4", NULL, ids_now_ms());
    reg.file_key = "video/20240101/same/x.mp4";
    assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_OK);
    reg_init(&reg, vid2, b, "x.mp4", NULL, ids_now_ms());
    reg.file_key = "video/20240101/same/x.mp4";
    assert_int_equal(store_video_register_sync(s, &reg, &res), STORE_EXISTS);
}

static void test_set_uploading_transitions(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a"), b = new_account(s, "b");
    static const struct {
        const char *before, *reason_before;
        const char *after, *reason_after;
    } cases[] = {
        {"created", NULL, "uploading", NULL},
        {"failed", "The uploaded content does not match fileMd5.", "uploading", NULL},
        {"uploading", NULL, "uploading", NULL},
        {"uploaded", NULL, "uploaded", NULL},
        {"processing", NULL, "processing", NULL},
        {"ready", NULL, "ready", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char vid[33], sql[256];
        new_video(s, a, vid, NULL);
        snprintf(sql, sizeof(sql), "UPDATE videos SET status = '%s', fail_reason = %s%s%s WHERE video_id = '%s'",
                 cases[i].before, cases[i].reason_before ? "'" : "",
                 cases[i].reason_before ? cases[i].reason_before : "NULL", cases[i].reason_before ? "'" : "", vid);
        raw_exec(f, sql);
        /* Another account's video is as absent as an unknown one. */
        assert_int_equal(s->ops->video_set_uploading(s, b, vid), STORE_NOT_FOUND);
        assert_video_status(s, a, vid, cases[i].before, cases[i].reason_before, NULL);
        assert_int_equal(s->ops->video_set_uploading(s, a, vid), STORE_OK);
        assert_video_status(s, a, vid, cases[i].after, cases[i].reason_after, NULL);
        assert_int_equal(s->ops->video_set_uploading(s, a, vid), STORE_OK); /* idempotent */
        assert_video_status(s, a, vid, cases[i].after, cases[i].reason_after, NULL);
    }
    assert_int_equal(s->ops->video_set_uploading(s, a, "00000000000000000000000000000000"), STORE_NOT_FOUND);
    assert_int_equal(s->ops->video_set_uploading(s, a, NULL), STORE_INVALID);
}

static void test_set_uploaded_conflict_overwrite(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a"), b = new_account(s, "b");
    char vid[33], other[33];
    new_video(s, a, vid, NULL);
    new_video(s, a, other, NULL);
    assert_int_equal(s->ops->video_set_uploading(s, a, vid), STORE_OK);

    /* First upload: nothing replaced. */
    char *old = (char *)"sentinel";
    store_video_upload_t u = upload_of(a, vid, OBJ_1, 1000, MD5_A, false);
    assert_int_equal(s->ops->video_set_uploaded(s, &u, &old), STORE_OK);
    assert_null(old);
    store_video_t v;
    assert_int_equal(s->ops->video_get(s, a, vid, &v), STORE_OK);
    assert_int_equal(v.status, VIDEO_UPLOADED);
    assert_null(v.fail_reason);
    assert_int_equal(v.size, 1000);
    assert_string_equal(v.md5, MD5_A);
    assert_string_equal(v.etag, "FhQ3rQ2V6TuGRUHm8-h2k8cKOnYq");
    assert_string_equal(v.mime_type, "video/mp4");
    assert_string_equal(v.object_id, OBJ_1);
    assert_int_equal(v.uploaded_ms, 1700000000123);
    store_video_free(&v);

    /* A second upload without overwrite conflicts and changes nothing. */
    old = (char *)"sentinel";
    u = upload_of(a, vid, OBJ_2, 2000, MD5_B, false);
    assert_int_equal(s->ops->video_set_uploaded(s, &u, &old), STORE_CONFLICT);
    assert_null(old);
    assert_int_equal(s->ops->video_get(s, a, vid, &v), STORE_OK);
    assert_string_equal(v.object_id, OBJ_1);
    assert_int_equal(v.size, 1000);
    assert_string_equal(v.md5, MD5_A);
    store_video_free(&v);

    /* With overwrite it replaces the object and hands back the old one;
     * probe results of the old bytes are dropped. */
    char sql[256];
    snprintf(sql, sizeof(sql), "UPDATE videos SET status = 'ready', duration = 12.5, width = 640, height = 360,"
                               " codecs = 'h264,aac' WHERE video_id = '%s'", vid);
    raw_exec(f, sql);
    u = upload_of(a, vid, OBJ_2, 2000, MD5_B, true);
    u.mime_type = "video/quicktime";
    u.now_ms = 1700000000999;
    assert_int_equal(s->ops->video_set_uploaded(s, &u, &old), STORE_OK);
    assert_non_null(old);
    assert_string_equal(old, OBJ_1);
    free(old);
    assert_int_equal(s->ops->video_get(s, a, vid, &v), STORE_OK);
    assert_int_equal(v.status, VIDEO_UPLOADED);
    assert_string_equal(v.object_id, OBJ_2);
    assert_int_equal(v.size, 2000);
    assert_string_equal(v.md5, MD5_B);
    assert_string_equal(v.mime_type, "video/quicktime");
    assert_int_equal(v.uploaded_ms, 1700000000999);
    assert_true(v.duration < 0);
    assert_int_equal(v.width, 0);
    assert_int_equal(v.height, 0);
    assert_null(v.codecs);
    store_video_free(&v);

    /* Publishing the same object again replaces nothing. */
    assert_int_equal(s->ops->video_set_uploaded(s, &u, &old), STORE_OK);
    assert_null(old);

    /* Failures leave *old_object_id NULL and the row alone. */
    static const struct {
        bool other_account, unknown_video, other_videos_object, bad_args;
        int rc;
    } bad[] = {
        {true, false, false, false, STORE_NOT_FOUND},
        {false, true, false, false, STORE_NOT_FOUND},
        {false, false, true, false, STORE_EXISTS}, /* one object, one video */
        {false, false, false, true, STORE_INVALID},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        u = upload_of(bad[i].other_account ? b : a, bad[i].unknown_video ? "00000000000000000000000000000000" : other,
                      bad[i].other_videos_object ? OBJ_2 : OBJ_3, 5, MD5_A, true);
        if (bad[i].bad_args)
            u.object_id = NULL;
        old = (char *)"sentinel";
        int rc = s->ops->video_set_uploaded(s, &u, &old);
        if (rc != bad[i].rc)
            fail_msg("case %zu: %s, want %s", i, store_rc_name(rc), store_rc_name(bad[i].rc));
        assert_null(old);
        assert_video_status(s, a, other, "created", NULL, NULL);
    }
    assert_int_equal(s->ops->video_set_uploaded(s, NULL, &old), STORE_INVALID);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM videos WHERE object_id IS NOT NULL"), 1);
}

static void test_set_failed(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a"), b = new_account(s, "b");
    const char *reason = "The uploaded content does not match fileMd5.";
    char vid[33];
    new_video(s, a, vid, NULL);

    /* Before any upload: failed, with the reason; a retry may start again. */
    assert_int_equal(s->ops->video_set_uploading(s, a, vid), STORE_OK);
    assert_int_equal(s->ops->video_set_failed(s, b, vid, reason), STORE_NOT_FOUND);
    assert_video_status(s, a, vid, "uploading", NULL, NULL);
    assert_int_equal(s->ops->video_set_failed(s, a, vid, reason), STORE_OK);
    assert_video_status(s, a, vid, "failed", reason, NULL);
    assert_int_equal(s->ops->video_set_uploading(s, a, vid), STORE_OK);
    assert_video_status(s, a, vid, "uploading", NULL, NULL);

    /* After an upload was published, a refused replacement changes nothing:
     * the published bytes are still what the video is. */
    store_video_upload_t u = upload_of(a, vid, OBJ_1, 10, MD5_A, true);
    assert_int_equal(s->ops->video_set_uploaded(s, &u, NULL), STORE_OK);
    assert_int_equal(s->ops->video_set_failed(s, a, vid, reason), STORE_OK);
    assert_video_status(s, a, vid, "uploaded", NULL, OBJ_1);

    assert_int_equal(s->ops->video_set_failed(s, a, "00000000000000000000000000000000", reason), STORE_NOT_FOUND);
    assert_int_equal(s->ops->video_set_failed(s, a, vid, NULL), STORE_INVALID);
    assert_int_equal(s->ops->video_set_failed(s, a, NULL, reason), STORE_INVALID);

    /* The upload succeeding after a failure clears the reason. */
    char vid2[33];
    new_video(s, a, vid2, NULL);
    assert_int_equal(s->ops->video_set_failed(s, a, vid2, reason), STORE_OK);
    u = upload_of(a, vid2, OBJ_2, 10, MD5_A, false);
    assert_int_equal(s->ops->video_set_uploaded(s, &u, NULL), STORE_OK);
    assert_video_status(s, a, vid2, "uploaded", NULL, OBJ_2);
}

static void test_object_in_use(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    char vid[33];
    new_video(s, a, vid, NULL);
    static const struct {
        const char *publish; /* NULL: check only */
        bool in_use[3];      /* OBJ_1, OBJ_2, OBJ_3 */
    } steps[] = {
        {NULL, {false, false, false}},
        {OBJ_1, {true, false, false}},
        {OBJ_2, {false, true, false}}, /* replaced: OBJ_1 is free */
    };
    const char *objs[] = {OBJ_1, OBJ_2, OBJ_3};
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (steps[i].publish) {
            store_video_upload_t u = upload_of(a, vid, steps[i].publish, 1, MD5_A, true);
            char *old = NULL;
            assert_int_equal(s->ops->video_set_uploaded(s, &u, &old), STORE_OK);
            free(old);
        }
        for (size_t j = 0; j < 3; j++) {
            bool in_use = !steps[i].in_use[j];
            assert_int_equal(s->ops->object_in_use(s, objs[j], &in_use), STORE_OK);
            if (in_use != steps[i].in_use[j])
                fail_msg("step %zu object %zu: in_use %d", i, j, in_use);
        }
    }
    bool in_use = false;
    assert_int_equal(s->ops->object_in_use(s, NULL, &in_use), STORE_INVALID);
    assert_true(in_use); /* an error never says "free to remove" */
}

static void test_secret_get(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    unsigned char one[32], again[32], other[32], zero[32] = {0};
    assert_int_equal(s->ops->secret_get(s, "ctx", one), STORE_OK);
    assert_memory_not_equal(one, zero, 32);
    assert_int_equal(s->ops->secret_get(s, "ctx", again), STORE_OK);
    assert_memory_equal(one, again, 32);
    assert_int_equal(s->ops->secret_get(s, "other", other), STORE_OK);
    assert_memory_not_equal(one, other, 32);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM secrets"), 2);
    assert_int_equal(raw_count(f, "SELECT length(value) FROM secrets WHERE name = 'ctx'"), 32);
    assert_int_equal(s->ops->secret_get(s, "", again), STORE_INVALID);
    assert_int_equal(s->ops->secret_get(s, NULL, again), STORE_INVALID);

    /* Kept across a restart. */
    s->ops->close(s);
    f->store = s = open_store(f->path);
    assert_non_null(s);
    assert_int_equal(s->ops->secret_get(s, "ctx", again), STORE_OK);
    assert_memory_equal(one, again, 32);

    /* A value this code never made is refused, not used. */
    raw_exec(f, "INSERT INTO secrets (name, value) VALUES ('short', x'0102')");
    assert_int_equal(s->ops->secret_get(s, "short", again), STORE_ERROR);
}

/* Threads of two stores on one file (two nodes) all get the same secret. */
#define SECRET_THREADS 8

typedef struct secret_worker {
    store_t *store;
    unsigned char value[32];
    int rc;
} secret_worker_t;

static void *secret_worker_main(void *arg)
{
    secret_worker_t *w = arg;
    w->rc = w->store->ops->secret_get(w->store, "shared", w->value);
    return NULL;
}

static void test_secret_get_concurrent(void **state)
{
    fixture_t *f = *state;
    store_t *second = open_store(f->path);
    assert_non_null(second);
    pthread_t threads[SECRET_THREADS];
    secret_worker_t workers[SECRET_THREADS];
    for (size_t i = 0; i < SECRET_THREADS; i++) {
        workers[i] = (secret_worker_t){.store = i % 2 ? second : f->store, .rc = -1};
        assert_int_equal(pthread_create(&threads[i], NULL, secret_worker_main, &workers[i]), 0);
    }
    for (size_t i = 0; i < SECRET_THREADS; i++)
        pthread_join(threads[i], NULL);
    for (size_t i = 0; i < SECRET_THREADS; i++) {
        assert_int_equal(workers[i].rc, STORE_OK);
        assert_memory_equal(workers[i].value, workers[0].value, 32);
    }
    second->ops->close(second);
    assert_int_equal(raw_count(f, "SELECT count(*) FROM secrets"), 1);
}

/*
 * Upload-path writes share the writer thread's batches: while a raw
 * connection holds the write lock, a registration and an upload write queued
 * behind it both wait, and neither reports before the lock is released and
 * its batch committed.
 */
typedef struct upload_writer {
    store_t *store;
    int64_t account_id;
    const char *video_id;
    int rc;
    bool finished;
} upload_writer_t;

static void *upload_writer_main(void *arg)
{
    upload_writer_t *w = arg;
    w->rc = w->store->ops->video_set_uploading(w->store, w->account_id, w->video_id);
    __atomic_store_n(&w->finished, true, __ATOMIC_SEQ_CST);
    return NULL;
}

static void test_upload_writes_join_batches(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    char vid[33];
    new_video(s, a, vid, NULL);

    collector_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    char vid2[33];
    store_video_reg_t reg;
    reg_init(&reg, vid2, a, "queued.mp4", NULL, ids_now_ms());
    slot_t slot = {c, 0};
    s->ops->video_register(s, &reg, collect_done, &slot);
    upload_writer_t w = {.store = s, .account_id = a, .video_id = vid, .rc = -1};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, upload_writer_main, &w), 0);
    usleep(100 * 1000);
    assert_int_equal(c->done, 0);
    assert_false(__atomic_load_n(&w.finished, __ATOMIC_SEQ_CST));
    assert_int_equal(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    pthread_join(t, NULL);
    collector_wait(c, 1);
    assert_int_equal(w.rc, STORE_OK);
    assert_int_equal(c->results[0].rc, STORE_OK);
    assert_video_status(s, a, vid, "uploading", NULL, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* Many upload workers at once beside registrations: every write lands. */
#define UPLOAD_THREADS 4
#define UPLOAD_PER_THREAD 20

typedef struct upload_worker {
    store_t *store;
    int64_t account_id;
    int index;
    int failures;
} upload_worker_t;

static void *upload_worker_main(void *arg)
{
    upload_worker_t *w = arg;
    store_t *s = w->store;
    for (int i = 0; i < UPLOAD_PER_THREAD; i++) {
        char vid[33], obj[33];
        store_video_reg_t reg;
        store_video_reg_result_t res;
        reg_init(&reg, vid, w->account_id, "c.mp4", NULL, ids_now_ms());
        snprintf(obj, sizeof(obj), "%016x%016x", w->index, i);
        store_video_upload_t u = upload_of(w->account_id, vid, obj, i, MD5_A, false);
        char *old = NULL;
        if (store_video_register_sync(s, &reg, &res) != STORE_OK ||
            s->ops->video_set_uploading(s, w->account_id, vid) != STORE_OK ||
            s->ops->video_set_uploaded(s, &u, &old) != STORE_OK || old)
            w->failures++;
        free(old);
    }
    return NULL;
}

static void test_upload_writes_concurrent(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    int64_t a = new_account(s, "a");
    pthread_t threads[UPLOAD_THREADS];
    upload_worker_t workers[UPLOAD_THREADS];
    for (int i = 0; i < UPLOAD_THREADS; i++) {
        workers[i] = (upload_worker_t){s, a, i, 0};
        assert_int_equal(pthread_create(&threads[i], NULL, upload_worker_main, &workers[i]), 0);
    }
    for (int i = 0; i < UPLOAD_THREADS; i++) {
        pthread_join(threads[i], NULL);
        assert_int_equal(workers[i].failures, 0);
    }
    assert_int_equal(raw_count(f, "SELECT count(*) FROM videos WHERE status = 'uploaded' AND object_id IS NOT NULL"),
                     UPLOAD_THREADS * UPLOAD_PER_THREAD);
}

/* A registration callback runs on the writer thread: an upload-path write
 * from there is refused instead of waiting for itself forever. */
typedef struct reentrant {
    store_t *store;
    int64_t account_id;
    int rc;
    bool done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} reentrant_t;

static void reentrant_done(void *arg, const store_video_reg_result_t *result)
{
    reentrant_t *r = arg;
    int rc = r->store->ops->video_set_uploading(r->store, r->account_id, result->video_id);
    pthread_mutex_lock(&r->mu);
    r->rc = rc;
    r->done = true;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void test_upload_write_from_callback(void **state)
{
    fixture_t *f = *state;
    store_t *s = f->store;
    reentrant_t r = {.store = s, .account_id = new_account(s, "a"), .rc = -1};
    pthread_mutex_init(&r.mu, NULL);
    pthread_cond_init(&r.cv, NULL);
    char vid[33];
    store_video_reg_t reg;
    reg_init(&reg, vid, r.account_id, "x.mp4", NULL, ids_now_ms());
    s->ops->video_register(s, &reg, reentrant_done, &r);
    pthread_mutex_lock(&r.mu);
    while (!r.done)
        pthread_cond_wait(&r.cv, &r.mu);
    pthread_mutex_unlock(&r.mu);
    assert_int_equal(r.rc, STORE_ERROR);
    pthread_cond_destroy(&r.cv);
    pthread_mutex_destroy(&r.mu);
}

/* ---- migrations ---- */

/*
 * Schema version 1 exactly as releases before the upload path created it
 * (migration 1 is frozen: databases in the field ran it), so that migrating
 * a real older database is what the test exercises.
 */
static const char *const schema_v1 =
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  bucket TEXT NOT NULL UNIQUE,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE TABLE access_keys ("
    "  access_key TEXT PRIMARY KEY,"
    "  secret_key TEXT NOT NULL,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX access_keys_account ON access_keys(account_id);"
    "CREATE TABLE domains ("
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  name TEXT NOT NULL COLLATE NOCASE,"
    "  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (account_id, name));"
    "CREATE UNIQUE INDEX domains_one_default ON domains(account_id) WHERE is_default = 1;"
    "CREATE TABLE resources ("
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('workflow', 'watermark', 'template', 'subtitle')),"
    "  id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  spec TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (account_id, kind, name),"
    "  UNIQUE (account_id, kind, id));"
    "CREATE TABLE categories ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  parent_name TEXT NOT NULL,"
    "  child_name TEXT NOT NULL,"
    "  UNIQUE (account_id, parent_name, child_name));"
    "CREATE TABLE videos ("
    "  video_id TEXT PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  file_id TEXT,"
    "  name TEXT NOT NULL,"
    "  file_key TEXT NOT NULL,"
    "  bucket TEXT NOT NULL,"
    "  domain TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL DEFAULT 'created' CHECK (status IN"
    "    ('created', 'uploading', 'uploaded', 'processing', 'ready', 'failed')),"
    "  fail_reason TEXT,"
    "  size INTEGER NOT NULL DEFAULT -1,"
    "  md5 TEXT,"
    "  etag TEXT,"
    "  mime_type TEXT,"
    "  expected_size INTEGER NOT NULL DEFAULT -1,"
    "  expected_md5 TEXT,"
    "  overwrite INTEGER NOT NULL DEFAULT 0 CHECK (overwrite IN (0, 1)),"
    "  workflow_id TEXT,"
    "  cmd TEXT,"
    "  watermark_name TEXT,"
    "  template_name TEXT,"
    "  subtitle_id TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  uploaded_ms INTEGER NOT NULL DEFAULT 0,"
    "  duration REAL NOT NULL DEFAULT -1,"
    "  width INTEGER NOT NULL DEFAULT 0,"
    "  height INTEGER NOT NULL DEFAULT 0,"
    "  codecs TEXT);"
    "CREATE UNIQUE INDEX videos_file_id ON videos(account_id, file_id) WHERE file_id IS NOT NULL;"
    "CREATE INDEX videos_newest ON videos(account_id, created_ms DESC, video_id DESC);"
    "CREATE TABLE video_categories ("
    "  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,"
    "  category_id INTEGER NOT NULL REFERENCES categories(id),"
    "  position INTEGER NOT NULL,"
    "  PRIMARY KEY (video_id, category_id)) WITHOUT ROWID;"
    "CREATE INDEX video_categories_category ON video_categories(category_id);";

#define V1_VIDEO "0190000000000000000000000000000a"
#define V1_KEY "video/20240101/" V1_VIDEO "/old.mp4"

/* A version-1 database with one account, key and video, in a new file. */
static void make_v1_database(const char *path, bool duplicate_key)
{
    raw_exec_at(path, "PRAGMA journal_mode = WAL");
    raw_exec_at(path, schema_v1);
    raw_exec_at(path,
                "PRAGMA user_version = 1;"
                "INSERT INTO accounts (id, name, bucket, created_ms) VALUES (7, 'old', 'vod-00000000000000aa', 1);"
                "INSERT INTO access_keys (access_key, secret_key, account_id, created_ms)"
                " VALUES ('AKOLD00000000000000A', 'secret', 7, 1);"
                "INSERT INTO videos (video_id, account_id, name, file_key, bucket, status, created_ms)"
                " VALUES ('" V1_VIDEO "', 7, 'old.mp4', '" V1_KEY "', 'vod-00000000000000aa', 'uploading', 2);");
    if (duplicate_key)
        raw_exec_at(path, "INSERT INTO videos (video_id, account_id, name, file_key, bucket, created_ms)"
                          " VALUES ('0190000000000000000000000000000b', 7, 'dup.mp4', '" V1_KEY "',"
                          " 'vod-00000000000000aa', 3)");
}

static void test_migrate_from_v1(void **state)
{
    fixture_t *f = *state;
    char path[160];
    snprintf(path, sizeof(path), "%s/old.db", f->dir);
    make_v1_database(path, false);
    assert_int_equal(raw_count_at(path, "PRAGMA user_version"), 1);

    /* Straight to the current version (8: tus uploads); the tasks
     * of migration 3 are tested in test_store_tasks.c, the outputs of
     * migration 4 in test_store_outputs.c, the events of migration 5 in
     * test_store_events.c. */
    store_t *s = open_store(path);
    assert_non_null(s);
    assert_int_equal(raw_count_at(path, "PRAGMA user_version"), store_schema_target());

    /* The old rows are intact and the new column reads as NULL. */
    store_key_t k;
    assert_int_equal(s->ops->key_lookup(s, "AKOLD00000000000000A", &k), STORE_OK);
    assert_int_equal(k.account_id, 7);
    store_key_free(&k);
    store_video_t v;
    assert_int_equal(s->ops->video_find_by_key(s, -1, V1_KEY, &v), STORE_OK);
    assert_string_equal(v.video_id, V1_VIDEO);
    assert_int_equal(v.status, VIDEO_UPLOADING);
    assert_null(v.object_id);
    store_video_free(&v);

    /* The upload path works on the migrated file. */
    store_video_upload_t u = upload_of(7, V1_VIDEO, OBJ_1, 3, MD5_A, false);
    char *old = NULL;
    assert_int_equal(s->ops->video_set_uploaded(s, &u, &old), STORE_OK);
    assert_null(old);
    assert_video_status(s, 7, V1_VIDEO, "uploaded", NULL, OBJ_1);
    unsigned char secret[32], again[32];
    assert_int_equal(s->ops->secret_get(s, "ctx", secret), STORE_OK);
    s->ops->close(s);

    /* Reopening finds it current and keeps everything. */
    s = open_store(path);
    assert_non_null(s);
    assert_int_equal(raw_count_at(path, "PRAGMA user_version"), store_schema_target());
    assert_int_equal(s->ops->secret_get(s, "ctx", again), STORE_OK);
    assert_memory_equal(secret, again, 32);
    assert_video_status(s, 7, V1_VIDEO, "uploaded", NULL, OBJ_1);
    s->ops->close(s);
}

/* Rows that break the new UNIQUE index stop the migration as a whole: the
 * file stays at version 1, untouched, and the store does not open. */
static void test_migrate_refuses_duplicate_keys(void **state)
{
    fixture_t *f = *state;
    char path[160];
    snprintf(path, sizeof(path), "%s/dup.db", f->dir);
    make_v1_database(path, true);
    assert_null(open_store(path));
    assert_int_equal(raw_count_at(path, "PRAGMA user_version"), 1);
    assert_int_equal(raw_count_at(path, "SELECT count(*) FROM pragma_table_info('videos') WHERE name = 'object_id'"), 0);
    assert_int_equal(raw_count_at(path, "SELECT count(*) FROM sqlite_master WHERE name = 'secrets'"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_create_formats, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_list_lookup_enable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accounts_buckets_find, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_resources, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cross_account_isolation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_resume_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(test_register_copies_strings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_same_file_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_drains_queue, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_failures_are_isolated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_categories_shared, setup, teardown),
        cmocka_unit_test_setup_teardown(test_video_list, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_during_write_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_find_by_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_key_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_uploading_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_uploaded_conflict_overwrite, setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_get, setup, teardown),
        cmocka_unit_test_setup_teardown(test_secret_get_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_writes_join_batches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_writes_concurrent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_write_from_callback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrate_refuses_duplicate_keys, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
