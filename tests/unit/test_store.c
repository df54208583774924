/*
 * test_store: the SQLite store against the contract in store/store.h.
 *
 * Each test opens a fresh database in its own mkdtemp directory under /tmp
 * and removes it afterwards.  A raw sqlite3 connection stands in for the
 * upload path where a test needs a video to have moved on (status uploaded).
 */
#define _GNU_SOURCE /* nftw */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <ftw.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ids.h"
#include "store/store.h"

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
    snprintf(f->dir, sizeof(f->dir), "/tmp/vodup-test-store-XXXXXX");
    if (!mkdtemp(f->dir)) {
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

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->store)
        f->store->ops->close(f->store);
    nftw(f->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* Runs one SQL statement on a separate raw connection to the file. */
static void raw_exec(fixture_t *f, const char *sql)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static int64_t raw_count(fixture_t *f, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
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
    assert_string_equal(v.status, "created");
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
        store_video_filter_t cf = {cases[i].name, cases[i].status, cases[i].category, 1, 100};
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
