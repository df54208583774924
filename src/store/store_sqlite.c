/*
 * store_sqlite: the embedded SQLite implementation of store.h.
 *
 * Owns the database file (created 0600, WAL journal), one write connection,
 * a small pool of read connections and the writer thread that group-commits
 * video registrations and the upload path's writes: every job queued while
 * the previous batch was being committed shares the next transaction and its
 * single fsync (a registration's caller is called back, an upload-path
 * writer waits).  Admin writes, rare and off the request path, take the
 * write connection directly between batches.  Reads never touch the write
 * connection, and WAL readers never wait for a writer, so a slow fsync
 * cannot hold up a request that only reads.
 *
 * It must never build SQL from input (every value is a bound parameter),
 * never log a secret key, and never call a `done` callback while holding one
 * of its locks (a callback may call back into the store).
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/ids.h"
#include "common/log.h"

#define STORE_SQLITE_DEFAULT_BUSY_MS 5000
#define STORE_SQLITE_DEFAULT_READERS 4
#define STORE_SQLITE_MAX_READERS 64
/* A batch bounds how long one transaction holds the write lock. */
#define STORE_SQLITE_BATCH_MAX 1024
/* Generated names are random; a collision is astronomically unlikely, but a
 * few retries make one harmless instead of an error. */
#define STORE_SQLITE_ID_RETRIES 8

#define STORE_SQLITE_HEX "0123456789abcdef"
#define STORE_SQLITE_UPPER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define STORE_SQLITE_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define STORE_SQLITE_ACCESS_KEY_LEN 20   /* "AK" + 18 */
#define STORE_SQLITE_SECRET_KEY_LEN 40
#define STORE_SQLITE_RESOURCE_ID_LEN 32  /* "wf" + 30 hex, "sub" + 29 hex */

/* ---- schema ---- */

/*
 * Migrations, applied in order inside one IMMEDIATE transaction; PRAGMA
 * user_version records how many have run.  Append new entries, never edit
 * an old one: databases in the field already ran it.
 */
static const char *const store_sqlite_migrations[] = {
    /* 1: the initial schema. */
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
    /* Host names are case-insensitive, so "CDN.example.com" duplicates
     * "cdn.example.com". */
    "CREATE TABLE domains ("
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  name TEXT NOT NULL COLLATE NOCASE,"
    "  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (account_id, name));"
    /* At most one default per account, enforced by the database itself. */
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
    /* getVideoList walks this index in order and stops after one page. */
    "CREATE INDEX videos_newest ON videos(account_id, created_ms DESC, video_id DESC);"
    /* position keeps the order the categories were given in. */
    "CREATE TABLE video_categories ("
    "  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,"
    "  category_id INTEGER NOT NULL REFERENCES categories(id),"
    "  position INTEGER NOT NULL,"
    "  PRIMARY KEY (video_id, category_id)) WITHOUT ROWID;"
    "CREATE INDEX video_categories_category ON video_categories(category_id);",

    /* 2: the upload path.  object_id names the blob object holding a
     * video's bytes (NULL until the first upload is published).  A fileKey
     * embeds its video's id, so keys already stored are distinct and the
     * playback origin can look one up without knowing the account; making
     * the index UNIQUE turns that invariant into the database's to keep.  No
     * two videos may share an object either: replacing one video's upload
     * removes the old object's bytes, which must not be another's.  The
     * object index also serves the blob sweep's "is this object in use?". */
    "ALTER TABLE videos ADD COLUMN object_id TEXT;"
    "CREATE UNIQUE INDEX videos_file_key ON videos(file_key);"
    "CREATE UNIQUE INDEX videos_object_id ON videos(object_id) WHERE object_id IS NOT NULL;"
    /* Server-wide secrets (keys of HMACs that every node must agree on). */
    "CREATE TABLE secrets ("
    "  name TEXT PRIMARY KEY,"
    "  value BLOB NOT NULL);",
};

#define STORE_SQLITE_SCHEMA_VERSION \
    ((int)(sizeof(store_sqlite_migrations) / sizeof(store_sqlite_migrations[0])))

/* ---- statements ---- */

/* The column list every video read selects, in store_sqlite_video_col order. */
#define STORE_SQLITE_VIDEO_COLUMNS                                                              \
    "v.video_id, v.account_id, v.file_id, v.name, v.file_key, v.bucket, v.domain, v.status, "   \
    "v.fail_reason, v.size, v.md5, v.etag, v.mime_type, v.expected_size, v.expected_md5, "       \
    "v.overwrite, v.workflow_id, v.cmd, v.watermark_name, v.template_name, v.subtitle_id, "      \
    "v.created_ms, v.uploaded_ms, v.duration, v.width, v.height, v.codecs, v.object_id"

enum store_sqlite_video_col {
    VC_VIDEO_ID, VC_ACCOUNT_ID, VC_FILE_ID, VC_NAME, VC_FILE_KEY, VC_BUCKET, VC_DOMAIN, VC_STATUS,
    VC_FAIL_REASON, VC_SIZE, VC_MD5, VC_ETAG, VC_MIME_TYPE, VC_EXPECTED_SIZE, VC_EXPECTED_MD5,
    VC_OVERWRITE, VC_WORKFLOW_ID, VC_CMD, VC_WATERMARK_NAME, VC_TEMPLATE_NAME, VC_SUBTITLE_ID,
    VC_CREATED_MS, VC_UPLOADED_MS, VC_DURATION, VC_WIDTH, VC_HEIGHT, VC_CODECS, VC_OBJECT_ID,
};

/* The WHERE clause shared by the count and the page of getVideoList:
 * ?1 account, ?2 LIKE pattern or NULL, ?3 status or NULL, ?4 category or NULL. */
#define STORE_SQLITE_VIDEO_FILTER                                                          \
    " FROM videos v WHERE v.account_id = ?1"                                               \
    " AND (?2 IS NULL OR v.name LIKE ?2 ESCAPE '\\')"                                      \
    " AND (?3 IS NULL OR v.status = ?3)"                                                   \
    " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM video_categories vc"                        \
    "   JOIN categories c ON c.id = vc.category_id"                                       \
    "   WHERE vc.video_id = v.video_id AND (c.parent_name = ?4 OR c.child_name = ?4)))"

enum store_sqlite_stmt_id {
    SQ_BEGIN,
    SQ_BEGIN_IMMEDIATE,
    SQ_COMMIT,
    SQ_ROLLBACK,
    SQ_SAVEPOINT,
    SQ_RELEASE,
    SQ_ROLLBACK_TO,
    SQ_KEY_LOOKUP,
    SQ_KEY_LIST,
    SQ_KEY_INSERT,
    SQ_KEY_SET_ENABLED,
    SQ_ACCOUNT_BY_NAME,
    SQ_ACCOUNT_INSERT,
    SQ_ACCOUNT_FIND,
    SQ_ACCOUNT_COUNT,
    SQ_DOMAIN_COUNT,
    SQ_DOMAIN_CLEAR_DEFAULT,
    SQ_DOMAIN_INSERT,
    SQ_DOMAIN_UPSERT_DEFAULT,
    SQ_DOMAIN_LIST,
    SQ_DOMAIN_GET,
    SQ_DOMAIN_GET_DEFAULT,
    SQ_RESOURCE_NAME_TAKEN,
    SQ_RESOURCE_INSERT,
    SQ_RESOURCE_LIST,
    SQ_RESOURCE_GET,
    SQ_VIDEO_BY_FILE_ID,
    SQ_VIDEO_INSERT,
    SQ_VIDEO_RESUME,
    SQ_VIDEO_CATEGORIES_CLEAR,
    SQ_CATEGORY_INSERT,
    SQ_CATEGORY_ID,
    SQ_VIDEO_CATEGORY_INSERT,
    SQ_VIDEO_GET,
    SQ_VIDEO_CATEGORIES,
    SQ_VIDEO_COUNT,
    SQ_VIDEO_PAGE,
    SQ_VIDEO_BY_KEY,
    SQ_VIDEO_EXISTS,
    SQ_VIDEO_OBJECT,
    SQ_VIDEO_SET_UPLOADING,
    SQ_VIDEO_SET_UPLOADED,
    SQ_VIDEO_SET_FAILED,
    SQ_OBJECT_IN_USE,
    SQ_SECRET_GET,
    SQ_SECRET_INSERT,
    SQ_COUNT
};

static const char *const store_sqlite_sql[SQ_COUNT] = {
    [SQ_BEGIN] = "BEGIN",
    [SQ_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT registration",
    [SQ_RELEASE] = "RELEASE registration",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO registration",
    [SQ_KEY_LOOKUP] = "SELECT k.access_key, k.secret_key, k.account_id, a.name, a.bucket, k.enabled,"
                      " k.created_ms FROM access_keys k JOIN accounts a ON a.id = k.account_id"
                      " WHERE k.access_key = ?1",
    /* Listing never reads the secrets: they have no business in a listing. */
    [SQ_KEY_LIST] = "SELECT k.access_key, NULL, k.account_id, a.name, a.bucket, k.enabled,"
                    " k.created_ms FROM access_keys k JOIN accounts a ON a.id = k.account_id"
                    " ORDER BY k.created_ms, k.access_key",
    [SQ_KEY_INSERT] = "INSERT INTO access_keys (access_key, secret_key, account_id, enabled, created_ms)"
                      " VALUES (?1, ?2, ?3, 1, ?4)",
    [SQ_KEY_SET_ENABLED] = "UPDATE access_keys SET enabled = ?2 WHERE access_key = ?1",
    [SQ_ACCOUNT_BY_NAME] = "SELECT id, name, bucket FROM accounts WHERE name = ?1",
    [SQ_ACCOUNT_INSERT] = "INSERT INTO accounts (name, bucket, created_ms) VALUES (?1, ?2, ?3)",
    /* A name wins over an AccessKey that happens to be spelled the same. */
    [SQ_ACCOUNT_FIND] = "SELECT id FROM ("
                        " SELECT id, 0 AS rank FROM accounts WHERE name = ?1"
                        " UNION ALL SELECT account_id, 1 FROM access_keys WHERE access_key = ?1)"
                        " ORDER BY rank LIMIT 1",
    [SQ_ACCOUNT_COUNT] = "SELECT count(*) FROM accounts",
    [SQ_DOMAIN_COUNT] = "SELECT count(*) FROM domains WHERE account_id = ?1",
    [SQ_DOMAIN_CLEAR_DEFAULT] = "UPDATE domains SET is_default = 0 WHERE account_id = ?1 AND is_default = 1",
    [SQ_DOMAIN_INSERT] = "INSERT INTO domains (account_id, name, is_default, created_ms) VALUES (?1, ?2, ?3, ?4)",
    /* `domain add NAME --default` on a known domain makes it the default. */
    [SQ_DOMAIN_UPSERT_DEFAULT] = "INSERT INTO domains (account_id, name, is_default, created_ms) VALUES (?1, ?2, ?3, ?4)"
                                 " ON CONFLICT (account_id, name) DO UPDATE SET is_default = 1",
    [SQ_DOMAIN_LIST] = "SELECT name, is_default FROM domains WHERE account_id = ?1"
                       " ORDER BY is_default DESC, name",
    [SQ_DOMAIN_GET] = "SELECT name, is_default FROM domains WHERE account_id = ?1 AND name = ?2",
    [SQ_DOMAIN_GET_DEFAULT] = "SELECT name, is_default FROM domains WHERE account_id = ?1 AND is_default = 1",
    [SQ_RESOURCE_NAME_TAKEN] = "SELECT 1 FROM resources WHERE account_id = ?1 AND kind = ?2 AND name = ?3",
    [SQ_RESOURCE_INSERT] = "INSERT INTO resources (account_id, kind, id, name, spec, created_ms)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SQ_RESOURCE_LIST] = "SELECT id, name, spec, created_ms FROM resources"
                         " WHERE account_id = ?1 AND kind = ?2 ORDER BY created_ms, name",
    [SQ_RESOURCE_GET] = "SELECT id, name, spec, created_ms FROM resources"
                        " WHERE account_id = ?1 AND kind = ?2 AND id = ?3",
    [SQ_VIDEO_BY_FILE_ID] = "SELECT video_id, file_key, status FROM videos WHERE account_id = ?1 AND file_id = ?2",
    [SQ_VIDEO_INSERT] = "INSERT INTO videos (video_id, account_id, file_id, name, file_key, bucket, domain,"
                        " status, size, expected_size, expected_md5, overwrite, workflow_id, cmd,"
                        " watermark_name, template_name, subtitle_id, created_ms, duration)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'created', -1, ?8, ?9, ?10, ?11, ?12,"
                        " ?13, ?14, ?15, ?16, -1)",
    [SQ_VIDEO_RESUME] = "UPDATE videos SET domain = ?2, expected_size = ?3, expected_md5 = ?4,"
                        " overwrite = ?5, workflow_id = ?6, cmd = ?7, watermark_name = ?8,"
                        " template_name = ?9, subtitle_id = ?10 WHERE video_id = ?1",
    [SQ_VIDEO_CATEGORIES_CLEAR] = "DELETE FROM video_categories WHERE video_id = ?1",
    [SQ_CATEGORY_INSERT] = "INSERT INTO categories (account_id, parent_name, child_name) VALUES (?1, ?2, ?3)"
                           " ON CONFLICT DO NOTHING",
    [SQ_CATEGORY_ID] = "SELECT id FROM categories WHERE account_id = ?1 AND parent_name = ?2 AND child_name = ?3",
    [SQ_VIDEO_CATEGORY_INSERT] = "INSERT INTO video_categories (video_id, category_id, position)"
                                 " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    [SQ_VIDEO_GET] = "SELECT " STORE_SQLITE_VIDEO_COLUMNS " FROM videos v"
                     " WHERE v.video_id = ?1 AND v.account_id = ?2",
    [SQ_VIDEO_CATEGORIES] = "SELECT c.parent_name, c.child_name FROM video_categories vc"
                            " JOIN categories c ON c.id = vc.category_id WHERE vc.video_id = ?1"
                            " ORDER BY vc.position",
    [SQ_VIDEO_COUNT] = "SELECT count(*)" STORE_SQLITE_VIDEO_FILTER,
    [SQ_VIDEO_PAGE] = "SELECT " STORE_SQLITE_VIDEO_COLUMNS STORE_SQLITE_VIDEO_FILTER
                      " ORDER BY v.created_ms DESC, v.video_id DESC LIMIT ?5 OFFSET ?6",
    /* ?2 < 0: any account (the playback origin knows only the key). */
    [SQ_VIDEO_BY_KEY] = "SELECT " STORE_SQLITE_VIDEO_COLUMNS " FROM videos v"
                        " WHERE v.file_key = ?1 AND (?2 < 0 OR v.account_id = ?2)",
    [SQ_VIDEO_EXISTS] = "SELECT 1 FROM videos WHERE video_id = ?1 AND account_id = ?2",
    [SQ_VIDEO_OBJECT] = "SELECT object_id FROM videos WHERE video_id = ?1 AND account_id = ?2",
    /* A failed upload may be retried; its reason goes with the failure. */
    [SQ_VIDEO_SET_UPLOADING] = "UPDATE videos SET status = 'uploading', fail_reason = NULL"
                               " WHERE video_id = ?1 AND account_id = ?2 AND status IN ('created', 'failed')",
    /* New bytes make the probe results of the old ones meaningless, so they
     * are reset to "not probed" along with the upload's own fields. */
    [SQ_VIDEO_SET_UPLOADED] = "UPDATE videos SET status = 'uploaded', fail_reason = NULL, size = ?3, md5 = ?4,"
                              " etag = ?5, mime_type = ?6, object_id = ?7, uploaded_ms = ?8,"
                              " duration = -1, width = 0, height = 0, codecs = NULL"
                              " WHERE video_id = ?1 AND account_id = ?2",
    [SQ_VIDEO_SET_FAILED] = "UPDATE videos SET status = 'failed', fail_reason = ?3"
                            " WHERE video_id = ?1 AND account_id = ?2 AND object_id IS NULL",
    [SQ_OBJECT_IN_USE] = "SELECT EXISTS (SELECT 1 FROM videos WHERE object_id = ?1)",
    [SQ_SECRET_GET] = "SELECT value FROM secrets WHERE name = ?1",
    /* The first writer wins; everyone then reads the winner's value. */
    [SQ_SECRET_INSERT] = "INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)",
};

/* ---- types ---- */

/* One connection and its prepared statements, used by one thread at a time. */
typedef struct store_sqlite_conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[SQ_COUNT];
} store_sqlite_conn_t;

typedef struct store_sqlite_write store_sqlite_write_t;

/* A queued job: a registration or, when `write` is set, one of the upload
 * path's synchronous writes.  A registration's strings and categories are
 * copied into the same allocation, because the caller frees its own as soon
 * as video_register returns; a write's job lives on its caller's stack, as
 * the caller waits until the write is durable. */
typedef struct store_sqlite_job {
    struct store_sqlite_job *next;
    store_sqlite_write_t *write;
    store_video_reg_t reg;
    store_reg_done_fn done;
    void *arg;
    store_video_reg_result_t result;
    store_category_t categories[]; /* followed by the copied strings */
} store_sqlite_job_t;

typedef struct store_sqlite {
    store_t base; /* first, so a store_t * is a store_sqlite_t * */
    char *path;

    /* The write connection: the writer thread's batches and the synchronous
     * admin writes take turns on it under write_mu. */
    pthread_mutex_t write_mu;
    store_sqlite_conn_t writer;

    /* Read connections; free_readers is a stack of the idle ones. */
    pthread_mutex_t pool_mu;
    pthread_cond_t pool_cv;
    store_sqlite_conn_t *readers;
    store_sqlite_conn_t **free_readers;
    size_t reader_count, free_count;

    /* Registrations waiting for the writer thread. */
    pthread_mutex_t queue_mu;
    pthread_cond_t queue_cv;
    store_sqlite_job_t *queue_head, *queue_tail;
    bool stopping;
    bool writer_started;
    pthread_t writer_thread;
} store_sqlite_t;

/* ---- small helpers ---- */

/* Maps an SQLite result code to a store code, logging what is unexpected. */
static int store_sqlite_map(sqlite3 *db, int src, const char *what)
{
    switch (src & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return STORE_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
        log_warn("store: %s: %s", what, sqlite3_errstr(src));
        return STORE_UNAVAILABLE;
    case SQLITE_CONSTRAINT:
        if (src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY)
            return STORE_EXISTS;
        if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
            return STORE_NOT_FOUND; /* the account (or video) referred to does not exist */
        log_warn("store: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
        return STORE_INVALID;
    default:
        /* Messages name tables and columns, never bound values, so no secret
         * can reach the log this way. */
        log_error("store: %s: %s (sqlite %d)", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(src), src);
        return STORE_ERROR;
    }
}

/* Returns the cached statement `id` of connection `c`, preparing it once. */
static int store_sqlite_prepare(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id, sqlite3_stmt **out)
{
    *out = NULL;
    if (!c->stmts[id]) {
        int src = sqlite3_prepare_v3(c->db, store_sqlite_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                     &c->stmts[id], NULL);
        if (src != SQLITE_OK) {
            c->stmts[id] = NULL;
            return store_sqlite_map(c->db, src, "prepare");
        }
    }
    *out = c->stmts[id];
    return STORE_OK;
}

/* Makes a cached statement ready for its next use and ends its read of the
 * database (an unreset statement would pin an old WAL snapshot). */
static void store_sqlite_release(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* Binding helpers: each records the first failure in *err, so a run of
 * binds needs one check.  Text is bound SQLITE_STATIC: the caller's string
 * outlives the statement's use of it. */
static void store_sqlite_bind_text(sqlite3_stmt *st, int i, const char *s, int *err)
{
    int src = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
    if (src != SQLITE_OK && *err == SQLITE_OK)
        *err = src;
}

static void store_sqlite_bind_int64(sqlite3_stmt *st, int i, int64_t v, int *err)
{
    int src = sqlite3_bind_int64(st, i, v);
    if (src != SQLITE_OK && *err == SQLITE_OK)
        *err = src;
}

/* Runs a statement that returns no rows (transaction control, simple writes). */
static int store_sqlite_exec(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id, const char *what)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        return rc;
    int src = sqlite3_step(st);
    rc = src == SQLITE_DONE || src == SQLITE_ROW ? STORE_OK : store_sqlite_map(c->db, src, what);
    store_sqlite_release(st);
    return rc;
}

/* Ends whatever transaction is open on `c`, discarding it. */
static void store_sqlite_rollback(store_sqlite_conn_t *c)
{
    if (!sqlite3_get_autocommit(c->db))
        (void)store_sqlite_exec(c, SQ_ROLLBACK, "rollback");
}

/* Commits, and on failure leaves no transaction open. */
static int store_sqlite_commit(store_sqlite_conn_t *c)
{
    int rc = store_sqlite_exec(c, SQ_COMMIT, "commit");
    if (rc != STORE_OK)
        store_sqlite_rollback(c);
    return rc;
}

/* Copies a text column; NULL stays NULL.  Sets *ok false when out of memory. */
static char *store_sqlite_col_text(sqlite3_stmt *st, int col, bool *ok)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    const unsigned char *t = sqlite3_column_text(st, col);
    char *s = t ? strdup((const char *)t) : NULL;
    if (!s)
        *ok = false;
    return s;
}

/* Grows an array of `size`-byte items so one more fits. */
static bool store_sqlite_grow(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap > SIZE_MAX / size)
        return false;
    void *n = realloc(*items, ncap * size);
    if (!n)
        return false;
    *items = n;
    *cap = ncap;
    return true;
}

/* Copies src into a fixed result field; false when it does not fit. */
static bool store_sqlite_copy_field(char *dst, size_t dstlen, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (!src || n >= dstlen)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* ---- the read pool ---- */

/* Takes an idle read connection, waiting while all are busy (reads are
 * short, so the wait is too). */
static store_sqlite_conn_t *store_sqlite_reader_get(store_sqlite_t *s)
{
    pthread_mutex_lock(&s->pool_mu);
    while (s->free_count == 0)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    store_sqlite_conn_t *c = s->free_readers[--s->free_count];
    pthread_mutex_unlock(&s->pool_mu);
    return c;
}

static void store_sqlite_reader_put(store_sqlite_t *s, store_sqlite_conn_t *c)
{
    /* A read transaction left open would pin its snapshot and stop the WAL
     * from being checkpointed. */
    store_sqlite_rollback(c);
    pthread_mutex_lock(&s->pool_mu);
    s->free_readers[s->free_count++] = c;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

/* ---- opening ---- */

/* Creates the database file 0600 before SQLite sees it, so it never exists
 * with wider permissions, and narrows an existing file that is wider: it
 * holds every secret key. */
static bool store_sqlite_create_file(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        log_error("store: cannot create %s: %s", path, strerror(errno));
        return false;
    }
    struct stat st;
    bool ok = true;
    if (fstat(fd, &st) != 0) {
        log_error("store: cannot stat %s: %s", path, strerror(errno));
        ok = false;
    } else if (!S_ISREG(st.st_mode)) {
        log_error("store: %s is not a regular file", path);
        ok = false;
    } else if ((st.st_mode & 077) && fchmod(fd, 0600) != 0) {
        log_error("store: cannot chmod %s to 0600: %s", path, strerror(errno));
        ok = false;
    }
    close(fd);
    return ok;
}

/* SQLite gives -wal and -shm the main file's mode, but an older file or a
 * copied directory may carry wider ones; both hold database pages. */
static void store_sqlite_narrow_sidecars(const char *path)
{
    static const char *const suffixes[] = {"-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char p[4096];
        int n = snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
        if (n < 0 || (size_t)n >= sizeof(p))
            continue;
        struct stat st;
        if (stat(p, &st) == 0 && (st.st_mode & 077) && chmod(p, 0600) != 0)
            log_warn("store: cannot chmod %s to 0600: %s", p, strerror(errno));
    }
}

static void store_sqlite_conn_close(store_sqlite_conn_t *c)
{
    for (size_t i = 0; i < SQ_COUNT; i++) {
        sqlite3_finalize(c->stmts[i]);
        c->stmts[i] = NULL;
    }
    if (c->db)
        sqlite3_close(c->db);
    c->db = NULL;
}

/*
 * Opens one connection.  Connections are NOMUTEX: each is used by one thread
 * at a time (the pool or write_mu sees to that), so SQLite's own per-call
 * mutex would be pure overhead.  Read connections are opened read-write but
 * set query_only: a SQLITE_OPEN_READONLY connection cannot rebuild the -shm
 * index after a crash and would fail instead.
 */
static int store_sqlite_conn_open(store_sqlite_conn_t *c, const char *path, int busy_ms, bool reader)
{
    memset(c, 0, sizeof(*c));
    int src = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        log_error("store: cannot open %s: %s", path, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(src));
        store_sqlite_conn_close(c);
        return src == SQLITE_CANTOPEN ? STORE_UNAVAILABLE : STORE_ERROR;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, busy_ms);
    src = sqlite3_exec(c->db, reader ? "PRAGMA query_only = ON" : "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        int rc = store_sqlite_map(c->db, src, "configure connection");
        store_sqlite_conn_close(c);
        return rc;
    }
    return STORE_OK;
}

/* Switches the file to WAL (a no-op once done: the mode is persistent). */
static int store_sqlite_set_wal(store_sqlite_conn_t *c)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    int rc = STORE_OK;
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = store_sqlite_map(c->db, src, "journal_mode");
    } else if (sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
        /* WAL is what lets readers run beside the writer; without it every
         * commit would stall the request path. */
        log_error("store: cannot switch the database to WAL (file system without shared memory?)");
        rc = STORE_ERROR;
    }
    sqlite3_finalize(st);
    return rc;
}

static int store_sqlite_user_version(store_sqlite_conn_t *c, int *version)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    int rc = src == SQLITE_ROW ? STORE_OK : store_sqlite_map(c->db, src, "user_version");
    if (rc == STORE_OK)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* Brings the schema up to date.  An up-to-date database is only read, so
 * opening never waits for another process's write; otherwise BEGIN IMMEDIATE
 * makes a server and an admin process that open a new directory at once take
 * turns, and the version is read again under that lock. */
static int store_sqlite_migrate(store_sqlite_conn_t *c)
{
    int version = 0;
    int rc = store_sqlite_user_version(c, &version);
    if (rc != STORE_OK || version == STORE_SQLITE_SCHEMA_VERSION)
        return rc;
    rc = store_sqlite_exec(c, SQ_BEGIN_IMMEDIATE, "begin migration");
    if (rc != STORE_OK)
        return rc;
    rc = store_sqlite_user_version(c, &version);
    if (rc != STORE_OK)
        goto out;
    if (version > STORE_SQLITE_SCHEMA_VERSION) {
        log_error("store: database schema version %d is newer than this vodup (%d)", version,
                  STORE_SQLITE_SCHEMA_VERSION);
        rc = STORE_ERROR;
        goto out;
    }
    for (int v = version; v < STORE_SQLITE_SCHEMA_VERSION; v++) {
        int src = sqlite3_exec(c->db, store_sqlite_migrations[v], NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            /* Logged here: the mapping stays silent about constraint
             * failures (a UNIQUE index over rows that break it), and a
             * database that cannot be migrated stops the server. */
            log_error("store: migration to schema version %d failed: %s", v + 1, sqlite3_errmsg(c->db));
            rc = store_sqlite_map(c->db, src, "migration");
            goto out;
        }
        /* PRAGMA takes no bound parameters; the value is our own constant. */
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
        src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            rc = store_sqlite_map(c->db, src, "migration");
            goto out;
        }
        log_info("store: database schema migrated to version %d", v + 1);
    }
    rc = store_sqlite_commit(c);
out:
    if (rc != STORE_OK)
        store_sqlite_rollback(c);
    return rc;
}

static void *store_sqlite_writer_main(void *arg);
static const struct store_ops store_sqlite_ops;

static void store_sqlite_destroy(store_sqlite_t *s)
{
    for (size_t i = 0; i < s->reader_count; i++)
        store_sqlite_conn_close(&s->readers[i]);
    store_sqlite_conn_close(&s->writer);
    free(s->readers);
    free(s->free_readers);
    pthread_mutex_destroy(&s->write_mu);
    pthread_mutex_destroy(&s->pool_mu);
    pthread_cond_destroy(&s->pool_cv);
    pthread_mutex_destroy(&s->queue_mu);
    pthread_cond_destroy(&s->queue_cv);
    free(s->path);
    free(s);
}

store_t *store_sqlite_open(const store_sqlite_options_t *opt)
{
    if (!opt || !opt->path || !opt->path[0]) {
        log_error("store: no database path");
        return NULL;
    }
    /* SQLite's allocation statistics take a process-wide mutex on every
     * malloc, which every connection and thread would contend for.  The
     * call only succeeds before SQLite's first use; later it is a no-op. */
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    store_sqlite_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->base.ops = &store_sqlite_ops;
    pthread_mutex_init(&s->write_mu, NULL);
    pthread_mutex_init(&s->pool_mu, NULL);
    pthread_cond_init(&s->pool_cv, NULL);
    pthread_mutex_init(&s->queue_mu, NULL);
    pthread_cond_init(&s->queue_cv, NULL);

    int busy_ms = opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : STORE_SQLITE_DEFAULT_BUSY_MS;
    size_t nreaders = opt->read_connections > 0 ? (size_t)opt->read_connections : STORE_SQLITE_DEFAULT_READERS;
    if (nreaders > STORE_SQLITE_MAX_READERS)
        nreaders = STORE_SQLITE_MAX_READERS;

    s->path = strdup(opt->path);
    s->readers = calloc(nreaders, sizeof(*s->readers));
    s->free_readers = calloc(nreaders, sizeof(store_sqlite_conn_t *));
    if (!s->path || !s->readers || !s->free_readers)
        goto fail;
    if (!store_sqlite_create_file(s->path))
        goto fail;

    if (store_sqlite_conn_open(&s->writer, s->path, busy_ms, false) != STORE_OK)
        goto fail;
    if (store_sqlite_set_wal(&s->writer) != STORE_OK)
        goto fail;
    /* Per connection; only the writer commits, so only it needs setting.
     * FULL syncs the WAL on every commit; NORMAL only at checkpoints. */
    if (sqlite3_exec(s->writer.db, opt->sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK) {
        log_error("store: cannot set synchronous: %s", sqlite3_errmsg(s->writer.db));
        goto fail;
    }
    if (store_sqlite_migrate(&s->writer) != STORE_OK)
        goto fail;
    store_sqlite_narrow_sidecars(s->path);

    for (size_t i = 0; i < nreaders; i++) {
        if (store_sqlite_conn_open(&s->readers[i], s->path, busy_ms, true) != STORE_OK)
            goto fail;
        s->reader_count++;
        s->free_readers[s->free_count++] = &s->readers[i];
    }

    if (pthread_create(&s->writer_thread, NULL, store_sqlite_writer_main, s) != 0) {
        log_error("store: cannot start the writer thread");
        goto fail;
    }
    s->writer_started = true;
    return &s->base;

fail:
    store_sqlite_destroy(s);
    return NULL;
}

/* Drains the registration queue (every queued job gets its callback), then
 * closes every connection. */
static void store_sqlite_close(store_t *base)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    if (!s)
        return;
    pthread_mutex_lock(&s->queue_mu);
    s->stopping = true;
    pthread_cond_broadcast(&s->queue_cv);
    pthread_mutex_unlock(&s->queue_mu);
    if (s->writer_started)
        pthread_join(s->writer_thread, NULL);
    store_sqlite_destroy(s);
}

/* ---- keys and accounts ---- */

/* Reads a key row (the column order of SQ_KEY_LOOKUP and SQ_KEY_LIST) into out. */
static int store_sqlite_key_row(sqlite3_stmt *st, store_key_t *out)
{
    bool ok = true;
    out->access_key = store_sqlite_col_text(st, 0, &ok);
    out->secret_key = store_sqlite_col_text(st, 1, &ok);
    out->account_id = sqlite3_column_int64(st, 2);
    out->account_name = store_sqlite_col_text(st, 3, &ok);
    out->bucket = store_sqlite_col_text(st, 4, &ok);
    out->enabled = sqlite3_column_int(st, 5) != 0;
    out->created_ms = sqlite3_column_int64(st, 6);
    if (!ok) {
        store_key_free(out);
        return STORE_ERROR;
    }
    return STORE_OK;
}

/*
 * Finds the account named `name`, or creates it (with a generated name when
 * name is NULL) with a fresh bucket.  Runs inside the caller's transaction
 * on the write connection.  *out_name and *out_bucket are malloc'd.
 */
static int store_sqlite_account_ensure(store_sqlite_conn_t *c, const char *name, int64_t now_ms,
                                       int64_t *account_id, char **out_name, char **out_bucket)
{
    sqlite3_stmt *st = NULL;
    int rc, err = SQLITE_OK;
    if (name) {
        rc = store_sqlite_prepare(c, SQ_ACCOUNT_BY_NAME, &st);
        if (rc != STORE_OK)
            return rc;
        store_sqlite_bind_text(st, 1, name, &err);
        int src = err != SQLITE_OK ? err : sqlite3_step(st);
        if (src == SQLITE_ROW) {
            bool ok = true;
            *account_id = sqlite3_column_int64(st, 0);
            *out_name = store_sqlite_col_text(st, 1, &ok);
            *out_bucket = store_sqlite_col_text(st, 2, &ok);
            store_sqlite_release(st);
            return ok ? STORE_OK : STORE_ERROR;
        }
        store_sqlite_release(st);
        if (src != SQLITE_DONE)
            return store_sqlite_map(c->db, src, "find account");
    }

    rc = store_sqlite_prepare(c, SQ_ACCOUNT_INSERT, &st);
    if (rc != STORE_OK)
        return rc;
    char gen_name[sizeof("account-") + 8], bucket[sizeof("vod-") + 16];
    for (int attempt = 0; attempt < STORE_SQLITE_ID_RETRIES; attempt++) {
        char name_hex[9], bucket_hex[17];
        if (!name) {
            if (!ids_random_hex(4, name_hex))
                return STORE_ERROR;
            snprintf(gen_name, sizeof(gen_name), "account-%s", name_hex);
        }
        /* Buckets are lowercase hex so they are valid DNS labels and S3
         * bucket names wherever the objects end up. */
        if (!ids_random_hex(8, bucket_hex))
            return STORE_ERROR;
        snprintf(bucket, sizeof(bucket), "vod-%s", bucket_hex);
        err = SQLITE_OK;
        store_sqlite_bind_text(st, 1, name ? name : gen_name, &err);
        store_sqlite_bind_text(st, 2, bucket, &err);
        store_sqlite_bind_int64(st, 3, now_ms, &err);
        int src = err != SQLITE_OK ? err : sqlite3_step(st);
        store_sqlite_release(st);
        if (src == SQLITE_DONE) {
            *account_id = sqlite3_last_insert_rowid(c->db);
            *out_name = strdup(name ? name : gen_name);
            *out_bucket = strdup(bucket);
            return *out_name && *out_bucket ? STORE_OK : STORE_ERROR;
        }
        rc = store_sqlite_map(c->db, src, "create account");
        if (rc != STORE_EXISTS)
            return rc;
        /* A generated name or bucket collided: draw again. */
    }
    log_error("store: could not generate a unique account name and bucket");
    return STORE_ERROR;
}

static int store_sqlite_key_create(store_t *base, const char *account_name, store_key_t *out)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = &s->writer;
    memset(out, 0, sizeof(*out));
    if (account_name && !account_name[0])
        return STORE_INVALID;

    char access_key[STORE_SQLITE_ACCESS_KEY_LEN + 1];
    char secret_key[STORE_SQLITE_SECRET_KEY_LEN + 1] = "";
    int64_t now = ids_now_ms();
    sqlite3_stmt *st;
    pthread_mutex_lock(&s->write_mu);
    int rc = store_sqlite_exec(c, SQ_BEGIN_IMMEDIATE, "begin key creation");
    if (rc != STORE_OK)
        goto out;
    rc = store_sqlite_account_ensure(c, account_name, now, &out->account_id, &out->account_name, &out->bucket);
    if (rc != STORE_OK)
        goto out;

    rc = store_sqlite_prepare(c, SQ_KEY_INSERT, &st);
    if (rc != STORE_OK)
        goto out;
    rc = STORE_ERROR;
    for (int attempt = 0; attempt < STORE_SQLITE_ID_RETRIES; attempt++) {
        if (!ids_random_string("AK", STORE_SQLITE_UPPER_DIGITS, STORE_SQLITE_ACCESS_KEY_LEN, access_key) ||
            !ids_random_string("", STORE_SQLITE_ALNUM, STORE_SQLITE_SECRET_KEY_LEN, secret_key)) {
            rc = STORE_ERROR;
            break;
        }
        int err = SQLITE_OK;
        store_sqlite_bind_text(st, 1, access_key, &err);
        store_sqlite_bind_text(st, 2, secret_key, &err);
        store_sqlite_bind_int64(st, 3, out->account_id, &err);
        store_sqlite_bind_int64(st, 4, now, &err);
        int src = err != SQLITE_OK ? err : sqlite3_step(st);
        store_sqlite_release(st);
        rc = src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "create key");
        if (rc != STORE_EXISTS)
            break;
    }
    if (rc != STORE_OK)
        goto out;
    rc = store_sqlite_commit(c);
    if (rc != STORE_OK)
        goto out;
    out->access_key = strdup(access_key);
    out->secret_key = strdup(secret_key);
    out->enabled = true;
    out->created_ms = now;
    if (!out->access_key || !out->secret_key)
        rc = STORE_ERROR;
out:
    store_sqlite_rollback(c);
    pthread_mutex_unlock(&s->write_mu);
    explicit_bzero(secret_key, sizeof(secret_key));
    if (rc != STORE_OK)
        store_key_free(out);
    return rc;
}

static int store_sqlite_key_list(store_t *base, store_key_list_t *out)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    memset(out, 0, sizeof(*out));
    size_t cap = 0;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    int rc = store_sqlite_prepare(c, SQ_KEY_LIST, &st);
    if (rc != STORE_OK)
        goto out;
    int src;
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_sqlite_grow((void **)&out->items, &cap, out->count, sizeof(*out->items))) {
            rc = STORE_ERROR;
            goto out;
        }
        memset(&out->items[out->count], 0, sizeof(out->items[0]));
        rc = store_sqlite_key_row(st, &out->items[out->count]);
        if (rc != STORE_OK)
            goto out;
        out->count++;
    }
    rc = store_sqlite_map(c->db, src, "list keys");
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c);
    if (rc != STORE_OK)
        store_key_list_free(out);
    return rc;
}

static int store_sqlite_key_set_enabled(store_t *base, const char *access_key, bool enabled)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    if (!access_key)
        return STORE_INVALID;
    store_sqlite_conn_t *c = &s->writer;
    pthread_mutex_lock(&s->write_mu);
    sqlite3_stmt *st = NULL;
    int rc = store_sqlite_prepare(c, SQ_KEY_SET_ENABLED, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, access_key, &err);
    store_sqlite_bind_int64(st, 2, enabled ? 1 : 0, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    rc = store_sqlite_map(c->db, src, "set key state");
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        rc = STORE_NOT_FOUND;
out:
    store_sqlite_release(st);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

static int store_sqlite_key_lookup(store_t *base, const char *access_key, store_key_t *out)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    memset(out, 0, sizeof(*out));
    if (!access_key)
        return STORE_INVALID;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    int rc = store_sqlite_prepare(c, SQ_KEY_LOOKUP, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, access_key, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = store_sqlite_key_row(st, out);
    else if (src == SQLITE_DONE)
        rc = STORE_NOT_FOUND;
    else
        rc = store_sqlite_map(c->db, src, "look up key");
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c);
    return rc;
}

/* Runs a read statement whose first row's first column is an integer. */
static int store_sqlite_read_int64(store_sqlite_t *s, enum store_sqlite_stmt_id id, const char *text_arg,
                                   int64_t *value, const char *what)
{
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK;
    if (text_arg)
        store_sqlite_bind_text(st, 1, text_arg, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        *value = sqlite3_column_int64(st, 0);
    else if (src == SQLITE_DONE)
        rc = STORE_NOT_FOUND;
    else
        rc = store_sqlite_map(c->db, src, what);
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c);
    return rc;
}

static int store_sqlite_account_find(store_t *base, const char *name_or_key, int64_t *account_id)
{
    if (!name_or_key || !name_or_key[0])
        return STORE_INVALID;
    return store_sqlite_read_int64((store_sqlite_t *)base, SQ_ACCOUNT_FIND, name_or_key, account_id,
                                   "find account");
}

static int store_sqlite_account_count(store_t *base, int64_t *count)
{
    *count = 0;
    return store_sqlite_read_int64((store_sqlite_t *)base, SQ_ACCOUNT_COUNT, NULL, count, "count accounts");
}

/* ---- domains ---- */

static int store_sqlite_domain_add(store_t *base, int64_t account_id, const char *name, bool make_default)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    if (!name || !name[0])
        return STORE_INVALID;
    store_sqlite_conn_t *c = &s->writer;
    sqlite3_stmt *st = NULL;
    int err = SQLITE_OK, src;
    pthread_mutex_lock(&s->write_mu);
    int rc = store_sqlite_exec(c, SQ_BEGIN_IMMEDIATE, "begin domain add");
    if (rc != STORE_OK)
        goto out;

    /* The first domain of an account becomes its default. */
    rc = store_sqlite_prepare(c, SQ_DOMAIN_COUNT, &st);
    if (rc != STORE_OK)
        goto out;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = store_sqlite_map(c->db, src, "count domains");
        goto out;
    }
    bool is_default = make_default || sqlite3_column_int64(st, 0) == 0;
    store_sqlite_release(st);
    st = NULL;

    if (is_default) {
        rc = store_sqlite_prepare(c, SQ_DOMAIN_CLEAR_DEFAULT, &st);
        if (rc != STORE_OK)
            goto out;
        store_sqlite_bind_int64(st, 1, account_id, &err);
        src = err != SQLITE_OK ? err : sqlite3_step(st);
        rc = store_sqlite_map(c->db, src, "clear default domain");
        store_sqlite_release(st);
        st = NULL;
        if (rc != STORE_OK)
            goto out;
    }

    rc = store_sqlite_prepare(c, make_default ? SQ_DOMAIN_UPSERT_DEFAULT : SQ_DOMAIN_INSERT, &st);
    if (rc != STORE_OK)
        goto out;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    store_sqlite_bind_text(st, 2, name, &err);
    store_sqlite_bind_int64(st, 3, is_default ? 1 : 0, &err);
    store_sqlite_bind_int64(st, 4, ids_now_ms(), &err);
    src = err != SQLITE_OK ? err : sqlite3_step(st);
    rc = store_sqlite_map(c->db, src, "add domain");
    store_sqlite_release(st);
    st = NULL;
    if (rc == STORE_OK)
        rc = store_sqlite_commit(c);
out:
    store_sqlite_release(st);
    store_sqlite_rollback(c);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

static int store_sqlite_domain_row(sqlite3_stmt *st, store_domain_t *out)
{
    bool ok = true;
    out->name = store_sqlite_col_text(st, 0, &ok);
    out->is_default = sqlite3_column_int(st, 1) != 0;
    if (!ok || !out->name) {
        free(out->name);
        out->name = NULL;
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int store_sqlite_domain_list(store_t *base, int64_t account_id, store_domain_list_t *out)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    memset(out, 0, sizeof(*out));
    size_t cap = 0;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    int rc = store_sqlite_prepare(c, SQ_DOMAIN_LIST, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK, src;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    if (err != SQLITE_OK) {
        rc = store_sqlite_map(c->db, err, "list domains");
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_sqlite_grow((void **)&out->items, &cap, out->count, sizeof(*out->items))) {
            rc = STORE_ERROR;
            goto out;
        }
        rc = store_sqlite_domain_row(st, &out->items[out->count]);
        if (rc != STORE_OK)
            goto out;
        out->count++;
    }
    rc = store_sqlite_map(c->db, src, "list domains");
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c);
    if (rc != STORE_OK)
        store_domain_list_free(out);
    return rc;
}

static int store_sqlite_domain_get(store_t *base, int64_t account_id, const char *name, store_domain_t *out)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    memset(out, 0, sizeof(*out));
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    int rc = store_sqlite_prepare(c, name ? SQ_DOMAIN_GET : SQ_DOMAIN_GET_DEFAULT, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    if (name)
        store_sqlite_bind_text(st, 2, name, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = store_sqlite_domain_row(st, out);
    else if (src == SQLITE_DONE)
        rc = STORE_NOT_FOUND;
    else
        rc = store_sqlite_map(c->db, src, "get domain");
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c);
    return rc;
}

/* ---- processing resources ---- */

static bool store_sqlite_kind_valid(int kind)
{
    return kind == STORE_WORKFLOW || kind == STORE_WATERMARK || kind == STORE_TEMPLATE || kind == STORE_SUBTITLE;
}

/* The spec must be a JSON object: the processing stage parses it later and
 * a bad one would only surface then, far from its cause. */
static bool store_sqlite_spec_valid(const char *spec)
{
    json_t *j = spec ? json_loads(spec, JSON_REJECT_DUPLICATES, NULL) : NULL;
    bool ok = j && json_is_object(j);
    json_decref(j);
    return ok;
}

/* Draws a resource id; watermarks and templates are known by name. */
static bool store_sqlite_resource_id(int kind, const char *name, char *out, size_t outlen)
{
    if (kind == STORE_WORKFLOW)
        return ids_random_string("wf", STORE_SQLITE_HEX, STORE_SQLITE_RESOURCE_ID_LEN, out);
    if (kind == STORE_SUBTITLE)
        return ids_random_string("sub", STORE_SQLITE_HEX, STORE_SQLITE_RESOURCE_ID_LEN, out);
    return store_sqlite_copy_field(out, outlen, name);
}

static int store_sqlite_resource_row(sqlite3_stmt *st, store_resource_t *out)
{
    bool ok = true;
    out->id = store_sqlite_col_text(st, 0, &ok);
    out->name = store_sqlite_col_text(st, 1, &ok);
    out->spec = store_sqlite_col_text(st, 2, &ok);
    out->created_ms = sqlite3_column_int64(st, 3);
    if (!ok) {
        store_resource_free(out);
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int store_sqlite_resource_add(store_t *base, int64_t account_id, int kind, const char *name,
                                     const char *spec_json, store_resource_t *out)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    memset(out, 0, sizeof(*out));
    if (!store_sqlite_kind_valid(kind) || !name || !name[0] || strlen(name) > 255 ||
        !store_sqlite_spec_valid(spec_json))
        return STORE_INVALID;
    const char *kind_name = store_resource_kind_name(kind);
    char id[256];
    int64_t now = ids_now_ms();
    store_sqlite_conn_t *c = &s->writer;
    sqlite3_stmt *st = NULL;
    int err = SQLITE_OK, src;
    pthread_mutex_lock(&s->write_mu);
    int rc = store_sqlite_exec(c, SQ_BEGIN_IMMEDIATE, "begin resource add");
    if (rc != STORE_OK)
        goto out;

    /* Checked first so that a unique failure on insert can only mean a
     * generated id collided, which is worth another draw. */
    rc = store_sqlite_prepare(c, SQ_RESOURCE_NAME_TAKEN, &st);
    if (rc != STORE_OK)
        goto out;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    store_sqlite_bind_text(st, 2, kind_name, &err);
    store_sqlite_bind_text(st, 3, name, &err);
    src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    st = NULL;
    if (src == SQLITE_ROW) {
        rc = STORE_EXISTS;
        goto out;
    }
    if (src != SQLITE_DONE) {
        rc = store_sqlite_map(c->db, src, "check resource name");
        goto out;
    }

    rc = store_sqlite_prepare(c, SQ_RESOURCE_INSERT, &st);
    if (rc != STORE_OK)
        goto out;
    for (int attempt = 0; attempt < STORE_SQLITE_ID_RETRIES; attempt++) {
        if (!store_sqlite_resource_id(kind, name, id, sizeof(id))) {
            rc = STORE_ERROR;
            break;
        }
        err = SQLITE_OK;
        store_sqlite_bind_int64(st, 1, account_id, &err);
        store_sqlite_bind_text(st, 2, kind_name, &err);
        store_sqlite_bind_text(st, 3, id, &err);
        store_sqlite_bind_text(st, 4, name, &err);
        store_sqlite_bind_text(st, 5, spec_json, &err);
        store_sqlite_bind_int64(st, 6, now, &err);
        src = err != SQLITE_OK ? err : sqlite3_step(st);
        store_sqlite_release(st);
        rc = store_sqlite_map(c->db, src, "add resource");
        if (rc != STORE_EXISTS || (kind != STORE_WORKFLOW && kind != STORE_SUBTITLE))
            break;
    }
    st = NULL;
    if (rc != STORE_OK)
        goto out;
    rc = store_sqlite_commit(c);
    if (rc != STORE_OK)
        goto out;
    out->id = strdup(id);
    out->name = strdup(name);
    out->spec = strdup(spec_json);
    out->created_ms = now;
    if (!out->id || !out->name || !out->spec) {
        store_resource_free(out);
        rc = STORE_ERROR;
    }
out:
    store_sqlite_release(st);
    store_sqlite_rollback(c);
    pthread_mutex_unlock(&s->write_mu);
    return rc;
}

static int store_sqlite_resource_list(store_t *base, int64_t account_id, int kind, store_resource_list_t *out)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    memset(out, 0, sizeof(*out));
    if (!store_sqlite_kind_valid(kind))
        return STORE_INVALID;
    size_t cap = 0;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    int rc = store_sqlite_prepare(c, SQ_RESOURCE_LIST, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK, src;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    store_sqlite_bind_text(st, 2, store_resource_kind_name(kind), &err);
    if (err != SQLITE_OK) {
        rc = store_sqlite_map(c->db, err, "list resources");
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_sqlite_grow((void **)&out->items, &cap, out->count, sizeof(*out->items))) {
            rc = STORE_ERROR;
            goto out;
        }
        memset(&out->items[out->count], 0, sizeof(out->items[0]));
        rc = store_sqlite_resource_row(st, &out->items[out->count]);
        if (rc != STORE_OK)
            goto out;
        out->count++;
    }
    rc = store_sqlite_map(c->db, src, "list resources");
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c);
    if (rc != STORE_OK)
        store_resource_list_free(out);
    return rc;
}

static int store_sqlite_resource_get(store_t *base, int64_t account_id, int kind, const char *id,
                                     store_resource_t *out)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    memset(out, 0, sizeof(*out));
    if (!store_sqlite_kind_valid(kind) || !id)
        return STORE_INVALID;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    int rc = store_sqlite_prepare(c, SQ_RESOURCE_GET, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    store_sqlite_bind_text(st, 2, store_resource_kind_name(kind), &err);
    store_sqlite_bind_text(st, 3, id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = store_sqlite_resource_row(st, out);
    else if (src == SQLITE_DONE)
        rc = STORE_NOT_FOUND;
    else
        rc = store_sqlite_map(c->db, src, "get resource");
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c);
    return rc;
}

/* ---- the upload path: synchronous writes through the writer thread ---- */

#define STORE_SQLITE_SECRET_LEN 32

/*
 * One of the upload path's writes.  Upload workers call these concurrently
 * with the registrations the writer thread group-commits; rather than take
 * the write connection from it (and pay an fsync each), a write joins the
 * queue as one more job: it runs in the next batch's transaction, under its
 * own savepoint, and shares that batch's single commit.  The caller sleeps
 * until the batch is durable, then reads rc and the outputs.
 */
typedef int (*store_sqlite_write_fn)(store_sqlite_conn_t *c, store_sqlite_write_t *w);

struct store_sqlite_write {
    store_sqlite_write_fn run;
    /* Arguments, borrowed from the caller (who waits, so they outlive the
     * job). */
    int64_t account_id;
    const char *video_id;
    const char *text; /* video_set_failed's reason; secret_get's name */
    const store_video_upload_t *upload;
    /* Outputs, valid only when rc is STORE_OK. */
    char *old_object_id;
    unsigned char secret[STORE_SQLITE_SECRET_LEN];
    /* The hand-over from the writer thread to the caller. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int rc;
};

/* Called by the writer thread once the write's batch has committed (or
 * failed): records the outcome and wakes the caller.  A write whose batch
 * failed after it ran keeps none of its outputs. */
static void store_sqlite_write_finish(store_sqlite_write_t *w, int rc)
{
    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    if (rc != STORE_OK) {
        free(w->old_object_id);
        w->old_object_id = NULL;
        OPENSSL_cleanse(w->secret, sizeof(w->secret));
    }
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* Queues `w` for the writer thread and waits until it is durable.  Returns
 * its rc; STORE_UNAVAILABLE when the store is closing. */
static int store_sqlite_write_sync(store_sqlite_t *s, store_sqlite_write_t *w)
{
    /* From a registration callback this would wait for the writer thread
     * on the writer thread, forever. */
    if (s->writer_started && pthread_equal(pthread_self(), s->writer_thread)) {
        log_error("store: an upload-path write was called from a store callback");
        return STORE_ERROR;
    }
    store_sqlite_job_t job;
    memset(&job, 0, sizeof(job));
    job.write = w;
    w->done = false;
    w->rc = STORE_ERROR;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);

    int rc;
    pthread_mutex_lock(&s->queue_mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->queue_mu);
        rc = STORE_UNAVAILABLE;
        goto out;
    }
    if (s->queue_tail)
        s->queue_tail->next = &job;
    else
        s->queue_head = &job;
    s->queue_tail = &job;
    pthread_cond_signal(&s->queue_cv);
    pthread_mutex_unlock(&s->queue_mu);

    pthread_mutex_lock(&w->mu);
    while (!w->done)
        pthread_cond_wait(&w->cv, &w->mu);
    rc = w->rc;
    pthread_mutex_unlock(&w->mu);
out:
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    return rc;
}

/* STORE_OK when the account has the video, else STORE_NOT_FOUND: tells "no
 * change was due" from "no such video" after an UPDATE changed no row. */
static int store_sqlite_video_exists(store_sqlite_conn_t *c, int64_t account_id, const char *video_id)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_EXISTS, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    store_sqlite_bind_int64(st, 2, account_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    if (src == SQLITE_ROW)
        return STORE_OK;
    return src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "find video");
}

/* Runs an UPDATE bound to (?1 video_id, ?2 account_id[, ?3 text]); a
 * statement that changed no row answers whether the video exists. */
static int store_sqlite_video_update(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id,
                                     const store_sqlite_write_t *w, const char *what)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, w->video_id, &err);
    store_sqlite_bind_int64(st, 2, w->account_id, &err);
    if (w->text)
        store_sqlite_bind_text(st, 3, w->text, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    if (src != SQLITE_DONE)
        return store_sqlite_map(c->db, src, what);
    if (sqlite3_changes(c->db) > 0)
        return STORE_OK;
    return store_sqlite_video_exists(c, w->account_id, w->video_id);
}

static int store_sqlite_run_set_uploading(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    return store_sqlite_video_update(c, SQ_VIDEO_SET_UPLOADING, w, "set video uploading");
}

static int store_sqlite_run_set_failed(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    return store_sqlite_video_update(c, SQ_VIDEO_SET_FAILED, w, "set video failed");
}

/* The check and the set run in one transaction, which holds the database's
 * write lock throughout (BEGIN IMMEDIATE): no other upload, thread or
 * process can publish between them. */
static int store_sqlite_run_set_uploaded(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    const store_video_upload_t *u = w->upload;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_OBJECT, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, u->video_id, &err);
    store_sqlite_bind_int64(st, 2, u->account_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src != SQLITE_ROW) {
        store_sqlite_release(st);
        return src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "find video object");
    }
    bool ok = true;
    char *old = store_sqlite_col_text(st, 0, &ok);
    store_sqlite_release(st);
    if (!ok)
        return STORE_ERROR;
    if (old && !u->overwrite) {
        free(old);
        return STORE_CONFLICT;
    }
    /* Publishing the same object again replaces nothing: reporting it as
     * replaced would have the caller delete the bytes it just published. */
    if (old && !strcmp(old, u->object_id)) {
        free(old);
        old = NULL;
    }

    rc = store_sqlite_prepare(c, SQ_VIDEO_SET_UPLOADED, &st);
    if (rc != STORE_OK)
        goto out;
    store_sqlite_bind_text(st, 1, u->video_id, &err);
    store_sqlite_bind_int64(st, 2, u->account_id, &err);
    store_sqlite_bind_int64(st, 3, u->size, &err);
    store_sqlite_bind_text(st, 4, u->md5, &err);
    store_sqlite_bind_text(st, 5, u->etag, &err);
    store_sqlite_bind_text(st, 6, u->mime_type, &err);
    store_sqlite_bind_text(st, 7, u->object_id, &err);
    store_sqlite_bind_int64(st, 8, u->now_ms, &err);
    src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    /* STORE_EXISTS here: the object already belongs to another video. */
    rc = src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "set video uploaded");
out:
    if (rc == STORE_OK)
        w->old_object_id = old;
    else
        free(old);
    return rc;
}

/* Reads the secret `name` into `out`; STORE_NOT_FOUND when there is none. */
static int store_sqlite_secret_read(store_sqlite_conn_t *c, const char *name,
                                    unsigned char out[STORE_SQLITE_SECRET_LEN])
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_SECRET_GET, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, name, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW) {
        const void *value = sqlite3_column_blob(st, 0);
        if (value && sqlite3_column_bytes(st, 0) == STORE_SQLITE_SECRET_LEN) {
            memcpy(out, value, STORE_SQLITE_SECRET_LEN);
            rc = STORE_OK;
        } else {
            /* Never made by this code: refuse rather than use a weak key. */
            log_error("store: secret %s in the database is not %d bytes", name, STORE_SQLITE_SECRET_LEN);
            rc = STORE_ERROR;
        }
    } else {
        rc = src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "read secret");
    }
    store_sqlite_release(st);
    return rc;
}

/* Makes the secret unless another thread or process made it first, then
 * reads whichever value won, so that everyone agrees on it. */
static int store_sqlite_run_secret_make(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    unsigned char fresh[STORE_SQLITE_SECRET_LEN];
    if (RAND_bytes(fresh, sizeof(fresh)) != 1) {
        log_error("store: RAND_bytes failed");
        return STORE_ERROR;
    }
    sqlite3_stmt *st;
    int err = SQLITE_OK, src;
    int rc = store_sqlite_prepare(c, SQ_SECRET_INSERT, &st);
    if (rc != STORE_OK)
        goto out;
    store_sqlite_bind_text(st, 1, w->text, &err);
    if (err == SQLITE_OK)
        err = sqlite3_bind_blob(st, 2, fresh, (int)sizeof(fresh), SQLITE_STATIC);
    src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    rc = src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "make secret");
    if (rc == STORE_OK)
        rc = store_sqlite_secret_read(c, w->text, w->secret);
    if (rc == STORE_NOT_FOUND)
        rc = STORE_ERROR; /* inserted or already there: it cannot be missing */
out:
    OPENSSL_cleanse(fresh, sizeof(fresh));
    return rc;
}

static int store_sqlite_video_set_uploading(store_t *base, int64_t account_id, const char *video_id)
{
    if (!video_id)
        return STORE_INVALID;
    store_sqlite_write_t w = {.run = store_sqlite_run_set_uploading, .account_id = account_id, .video_id = video_id};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}

static int store_sqlite_video_set_uploaded(store_t *base, const store_video_upload_t *u, char **old_object_id)
{
    if (old_object_id)
        *old_object_id = NULL;
    if (!u || !u->video_id || !u->object_id || !u->object_id[0] || u->size < 0)
        return STORE_INVALID;
    store_sqlite_write_t w = {.run = store_sqlite_run_set_uploaded, .upload = u};
    int rc = store_sqlite_write_sync((store_sqlite_t *)base, &w);
    if (old_object_id)
        *old_object_id = w.old_object_id;
    else
        free(w.old_object_id); /* the caller leaves the old bytes to the sweep */
    return rc;
}

static int store_sqlite_video_set_failed(store_t *base, int64_t account_id, const char *video_id,
                                         const char *reason)
{
    if (!video_id || !reason)
        return STORE_INVALID;
    store_sqlite_write_t w = {
        .run = store_sqlite_run_set_failed, .account_id = account_id, .video_id = video_id, .text = reason};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}

/* Reads first, on a pooled connection: the secret exists after its first
 * use, so only that first call waits for the writer thread and a commit. */
static int store_sqlite_secret_get(store_t *base, const char *name, unsigned char out[32])
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    if (!name || !name[0])
        return STORE_INVALID;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    int rc = store_sqlite_secret_read(c, name, out);
    store_sqlite_reader_put(s, c);
    if (rc != STORE_NOT_FOUND)
        return rc;
    store_sqlite_write_t w = {.run = store_sqlite_run_secret_make, .text = name};
    rc = store_sqlite_write_sync(s, &w);
    if (rc == STORE_OK)
        memcpy(out, w.secret, STORE_SQLITE_SECRET_LEN);
    OPENSSL_cleanse(w.secret, sizeof(w.secret));
    return rc;
}

/* ---- video registration: the writer thread ---- */

static bool store_sqlite_status_completed(const char *status)
{
    return status && (!strcmp(status, "uploaded") || !strcmp(status, "processing") || !strcmp(status, "ready"));
}

/* Creates missing categories and links the video to each, in order. */
static int store_sqlite_link_categories(store_sqlite_conn_t *c, const store_video_reg_t *r, const char *video_id)
{
    sqlite3_stmt *ins, *sel, *link;
    int rc = store_sqlite_prepare(c, SQ_CATEGORY_INSERT, &ins);
    if (rc == STORE_OK)
        rc = store_sqlite_prepare(c, SQ_CATEGORY_ID, &sel);
    if (rc == STORE_OK)
        rc = store_sqlite_prepare(c, SQ_VIDEO_CATEGORY_INSERT, &link);
    for (size_t i = 0; rc == STORE_OK && i < r->category_count; i++) {
        /* NULL would defeat the unique constraint (NULLs are all distinct). */
        const char *parent = r->categories[i].parent_name ? r->categories[i].parent_name : "";
        const char *child = r->categories[i].child_name ? r->categories[i].child_name : "";
        int err = SQLITE_OK;
        store_sqlite_bind_int64(ins, 1, r->account_id, &err);
        store_sqlite_bind_text(ins, 2, parent, &err);
        store_sqlite_bind_text(ins, 3, child, &err);
        int src = err != SQLITE_OK ? err : sqlite3_step(ins);
        store_sqlite_release(ins);
        if (src != SQLITE_DONE)
            return store_sqlite_map(c->db, src, "create category");

        store_sqlite_bind_int64(sel, 1, r->account_id, &err);
        store_sqlite_bind_text(sel, 2, parent, &err);
        store_sqlite_bind_text(sel, 3, child, &err);
        src = err != SQLITE_OK ? err : sqlite3_step(sel);
        int64_t category_id = src == SQLITE_ROW ? sqlite3_column_int64(sel, 0) : 0;
        store_sqlite_release(sel);
        if (src != SQLITE_ROW)
            return src == SQLITE_DONE ? STORE_ERROR : store_sqlite_map(c->db, src, "find category");

        store_sqlite_bind_text(link, 1, video_id, &err);
        store_sqlite_bind_int64(link, 2, category_id, &err);
        store_sqlite_bind_int64(link, 3, (int64_t)i, &err);
        src = err != SQLITE_OK ? err : sqlite3_step(link);
        store_sqlite_release(link);
        if (src != SQLITE_DONE)
            return store_sqlite_map(c->db, src, "link category");
    }
    return rc;
}

/* Replaces the processing settings of a video found by fileId. */
static int store_sqlite_resume_video(store_sqlite_conn_t *c, const store_video_reg_t *r, const char *video_id)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_RESUME, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    store_sqlite_bind_text(st, 2, r->domain ? r->domain : "", &err);
    store_sqlite_bind_int64(st, 3, r->expected_size, &err);
    store_sqlite_bind_text(st, 4, r->expected_md5, &err);
    store_sqlite_bind_int64(st, 5, r->overwrite ? 1 : 0, &err);
    store_sqlite_bind_text(st, 6, r->workflow_id, &err);
    store_sqlite_bind_text(st, 7, r->cmd, &err);
    store_sqlite_bind_text(st, 8, r->watermark_name, &err);
    store_sqlite_bind_text(st, 9, r->template_name, &err);
    store_sqlite_bind_text(st, 10, r->subtitle_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    if (src != SQLITE_DONE)
        return store_sqlite_map(c->db, src, "update video");

    rc = store_sqlite_prepare(c, SQ_VIDEO_CATEGORIES_CLEAR, &st);
    if (rc != STORE_OK)
        return rc;
    store_sqlite_bind_text(st, 1, video_id, &err);
    src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    return src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "clear video categories");
}

static int store_sqlite_insert_video(store_sqlite_conn_t *c, const store_video_reg_t *r)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_INSERT, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, r->video_id, &err);
    store_sqlite_bind_int64(st, 2, r->account_id, &err);
    store_sqlite_bind_text(st, 3, r->file_id, &err);
    store_sqlite_bind_text(st, 4, r->name, &err);
    store_sqlite_bind_text(st, 5, r->file_key, &err);
    store_sqlite_bind_text(st, 6, r->bucket, &err);
    store_sqlite_bind_text(st, 7, r->domain ? r->domain : "", &err);
    store_sqlite_bind_int64(st, 8, r->expected_size, &err);
    store_sqlite_bind_text(st, 9, r->expected_md5, &err);
    store_sqlite_bind_int64(st, 10, r->overwrite ? 1 : 0, &err);
    store_sqlite_bind_text(st, 11, r->workflow_id, &err);
    store_sqlite_bind_text(st, 12, r->cmd, &err);
    store_sqlite_bind_text(st, 13, r->watermark_name, &err);
    store_sqlite_bind_text(st, 14, r->template_name, &err);
    store_sqlite_bind_text(st, 15, r->subtitle_id, &err);
    store_sqlite_bind_int64(st, 16, r->now_ms, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    return src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "insert video");
}

/* One registration, inside the batch's transaction and its own savepoint. */
static int store_sqlite_register_one(store_sqlite_conn_t *c, const store_video_reg_t *r,
                                     store_video_reg_result_t *res)
{
    if (!r->name || !r->bucket)
        return STORE_INVALID;
    if (r->file_id) {
        sqlite3_stmt *st;
        int rc = store_sqlite_prepare(c, SQ_VIDEO_BY_FILE_ID, &st);
        if (rc != STORE_OK)
            return rc;
        int err = SQLITE_OK;
        store_sqlite_bind_int64(st, 1, r->account_id, &err);
        store_sqlite_bind_text(st, 2, r->file_id, &err);
        int src = err != SQLITE_OK ? err : sqlite3_step(st);
        if (src == SQLITE_ROW) {
            /* Resume: the existing video keeps its ids and name. */
            bool fits = store_sqlite_copy_field(res->video_id, sizeof(res->video_id),
                                                (const char *)sqlite3_column_text(st, 0)) &&
                        store_sqlite_copy_field(res->file_key, sizeof(res->file_key),
                                                (const char *)sqlite3_column_text(st, 1));
            bool completed = store_sqlite_status_completed((const char *)sqlite3_column_text(st, 2));
            store_sqlite_release(st);
            if (!fits)
                return STORE_ERROR;
            if (completed && !r->overwrite)
                return STORE_CONFLICT;
            res->existed = true;
            rc = store_sqlite_resume_video(c, r, res->video_id);
            return rc == STORE_OK ? store_sqlite_link_categories(c, r, res->video_id) : rc;
        }
        store_sqlite_release(st);
        if (src != SQLITE_DONE)
            return store_sqlite_map(c->db, src, "find video by fileId");
    }

    if (!r->video_id || !r->file_key ||
        !store_sqlite_copy_field(res->video_id, sizeof(res->video_id), r->video_id) ||
        !store_sqlite_copy_field(res->file_key, sizeof(res->file_key), r->file_key))
        return STORE_INVALID;
    res->existed = false;
    int rc = store_sqlite_insert_video(c, r);
    return rc == STORE_OK ? store_sqlite_link_categories(c, r, res->video_id) : rc;
}

static void store_sqlite_job_fail(store_sqlite_job_t *job, int rc)
{
    memset(&job->result, 0, sizeof(job->result));
    job->result.rc = rc;
}

static void store_sqlite_batch_fail(store_sqlite_job_t *batch, int rc)
{
    for (store_sqlite_job_t *j = batch; j; j = j->next)
        store_sqlite_job_fail(j, rc);
}

/* A failed commit means nothing in the batch is durable: the store's
 * contract allows only these two answers then. */
static int store_sqlite_commit_failure_rc(int rc)
{
    return rc == STORE_UNAVAILABLE ? STORE_UNAVAILABLE : STORE_ERROR;
}

/*
 * Writes one batch: one IMMEDIATE transaction, a savepoint per job so a
 * failing job does not take the others with it, and a single COMMIT (the
 * batch's one fsync).  Fills each job's result; calls no callback.
 */
static void store_sqlite_run_batch(store_sqlite_t *s, store_sqlite_job_t *batch)
{
    store_sqlite_conn_t *c = &s->writer;
    pthread_mutex_lock(&s->write_mu);
    int rc = store_sqlite_exec(c, SQ_BEGIN_IMMEDIATE, "begin registration batch");
    if (rc != STORE_OK) {
        store_sqlite_batch_fail(batch, store_sqlite_commit_failure_rc(rc));
        goto out;
    }
    for (store_sqlite_job_t *j = batch; j; j = j->next) {
        memset(&j->result, 0, sizeof(j->result));
        rc = store_sqlite_exec(c, SQ_SAVEPOINT, "savepoint");
        if (rc != STORE_OK)
            break;
        int jrc = j->write ? j->write->run(c, j->write) : store_sqlite_register_one(c, &j->reg, &j->result);
        if (jrc == STORE_OK) {
            rc = store_sqlite_exec(c, SQ_RELEASE, "release savepoint");
            if (rc != STORE_OK)
                break;
            continue;
        }
        store_sqlite_job_fail(j, jrc);
        /* SQLite rolls the whole transaction back by itself after some
         * errors (disk full, I/O error): then the batch is lost. */
        if (sqlite3_get_autocommit(c->db)) {
            rc = jrc;
            break;
        }
        rc = store_sqlite_exec(c, SQ_ROLLBACK_TO, "rollback to savepoint");
        if (rc == STORE_OK)
            rc = store_sqlite_exec(c, SQ_RELEASE, "release savepoint");
        if (rc != STORE_OK)
            break;
    }
    if (rc == STORE_OK)
        rc = store_sqlite_commit(c);
    if (rc != STORE_OK) {
        store_sqlite_rollback(c);
        store_sqlite_batch_fail(batch, store_sqlite_commit_failure_rc(rc));
    }
out:
    pthread_mutex_unlock(&s->write_mu);
}

static void *store_sqlite_writer_main(void *arg)
{
    store_sqlite_t *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->queue_mu);
        while (!s->queue_head && !s->stopping)
            pthread_cond_wait(&s->queue_cv, &s->queue_mu);
        store_sqlite_job_t *batch = s->queue_head;
        if (!batch) {
            /* Stopping and drained. */
            pthread_mutex_unlock(&s->queue_mu);
            break;
        }
        store_sqlite_job_t *last = batch;
        for (size_t n = 1; last->next && n < STORE_SQLITE_BATCH_MAX; n++)
            last = last->next;
        s->queue_head = last->next;
        if (!s->queue_head)
            s->queue_tail = NULL;
        last->next = NULL;
        pthread_mutex_unlock(&s->queue_mu);

        store_sqlite_run_batch(s, batch);

        /* Callbacks run with no lock held: they may call into the store. */
        while (batch) {
            store_sqlite_job_t *next = batch->next;
            if (batch->write) {
                /* The job belongs to the waiting caller: not touched after. */
                store_sqlite_write_finish(batch->write, batch->result.rc);
            } else {
                batch->done(batch->arg, &batch->result);
                free(batch);
            }
            batch = next;
        }
    }
    return NULL;
}

static size_t store_sqlite_str_size(const char *str)
{
    return str ? strlen(str) + 1 : 0;
}

static const char *store_sqlite_str_copy(char **cursor, const char *str)
{
    if (!str)
        return NULL;
    size_t n = strlen(str) + 1;
    char *dst = *cursor;
    memcpy(dst, str, n);
    *cursor += n;
    return dst;
}

/* Deep-copies a registration into one allocation. */
static store_sqlite_job_t *store_sqlite_job_new(const store_video_reg_t *r)
{
    if (r->category_count && !r->categories)
        return NULL;
    if (r->category_count > (SIZE_MAX / 2 - sizeof(store_sqlite_job_t)) / sizeof(store_category_t))
        return NULL;
    const char *const strs[] = {r->video_id, r->file_id, r->name, r->file_key, r->bucket, r->domain,
                                r->expected_md5, r->workflow_id, r->cmd, r->watermark_name,
                                r->template_name, r->subtitle_id};
    size_t size = sizeof(store_sqlite_job_t) + r->category_count * sizeof(store_category_t);
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
        size += store_sqlite_str_size(strs[i]);
    for (size_t i = 0; i < r->category_count; i++)
        size += store_sqlite_str_size(r->categories[i].parent_name) +
                store_sqlite_str_size(r->categories[i].child_name);

    store_sqlite_job_t *job = malloc(size);
    if (!job)
        return NULL;
    memset(job, 0, sizeof(*job));
    char *cursor = (char *)&job->categories[r->category_count];
    job->reg = *r;
    store_video_reg_t *c = &job->reg;
    c->video_id = store_sqlite_str_copy(&cursor, r->video_id);
    c->file_id = store_sqlite_str_copy(&cursor, r->file_id);
    c->name = store_sqlite_str_copy(&cursor, r->name);
    c->file_key = store_sqlite_str_copy(&cursor, r->file_key);
    c->bucket = store_sqlite_str_copy(&cursor, r->bucket);
    c->domain = store_sqlite_str_copy(&cursor, r->domain);
    c->expected_md5 = store_sqlite_str_copy(&cursor, r->expected_md5);
    c->workflow_id = store_sqlite_str_copy(&cursor, r->workflow_id);
    c->cmd = store_sqlite_str_copy(&cursor, r->cmd);
    c->watermark_name = store_sqlite_str_copy(&cursor, r->watermark_name);
    c->template_name = store_sqlite_str_copy(&cursor, r->template_name);
    c->subtitle_id = store_sqlite_str_copy(&cursor, r->subtitle_id);
    for (size_t i = 0; i < r->category_count; i++) {
        job->categories[i].parent_name = (char *)store_sqlite_str_copy(&cursor, r->categories[i].parent_name);
        job->categories[i].child_name = (char *)store_sqlite_str_copy(&cursor, r->categories[i].child_name);
    }
    c->categories = r->category_count ? job->categories : NULL;
    return job;
}

/*
 * Queues a registration for the writer thread.  `done` runs on the writer
 * thread once the batch is durable, except in two cases where it runs before
 * this returns: the copy could not be allocated (STORE_ERROR) or the store
 * is closing (STORE_UNAVAILABLE).
 */
static void store_sqlite_video_register(store_t *base, const store_video_reg_t *reg, store_reg_done_fn done,
                                        void *arg)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_video_reg_result_t fail = {.rc = STORE_ERROR};
    store_sqlite_job_t *job = store_sqlite_job_new(reg);
    if (!job) {
        done(arg, &fail);
        return;
    }
    job->done = done;
    job->arg = arg;
    pthread_mutex_lock(&s->queue_mu);
    if (s->stopping) {
        pthread_mutex_unlock(&s->queue_mu);
        free(job);
        fail.rc = STORE_UNAVAILABLE;
        done(arg, &fail);
        return;
    }
    if (s->queue_tail)
        s->queue_tail->next = job;
    else
        s->queue_head = job;
    s->queue_tail = job;
    pthread_cond_signal(&s->queue_cv);
    pthread_mutex_unlock(&s->queue_mu);
}

/* ---- video reads ---- */

/* Reads a video row (STORE_SQLITE_VIDEO_COLUMNS order) into out. */
static int store_sqlite_video_row(sqlite3_stmt *st, store_video_t *out)
{
    static const struct {
        int col;
        size_t offset;
    } texts[] = {
        {VC_VIDEO_ID, offsetof(store_video_t, video_id)},
        {VC_FILE_ID, offsetof(store_video_t, file_id)},
        {VC_NAME, offsetof(store_video_t, name)},
        {VC_FILE_KEY, offsetof(store_video_t, file_key)},
        {VC_BUCKET, offsetof(store_video_t, bucket)},
        {VC_DOMAIN, offsetof(store_video_t, domain)},
        {VC_STATUS, offsetof(store_video_t, status)},
        {VC_FAIL_REASON, offsetof(store_video_t, fail_reason)},
        {VC_MD5, offsetof(store_video_t, md5)},
        {VC_ETAG, offsetof(store_video_t, etag)},
        {VC_MIME_TYPE, offsetof(store_video_t, mime_type)},
        {VC_EXPECTED_MD5, offsetof(store_video_t, expected_md5)},
        {VC_WORKFLOW_ID, offsetof(store_video_t, workflow_id)},
        {VC_CMD, offsetof(store_video_t, cmd)},
        {VC_WATERMARK_NAME, offsetof(store_video_t, watermark_name)},
        {VC_TEMPLATE_NAME, offsetof(store_video_t, template_name)},
        {VC_SUBTITLE_ID, offsetof(store_video_t, subtitle_id)},
        {VC_CODECS, offsetof(store_video_t, codecs)},
        {VC_OBJECT_ID, offsetof(store_video_t, object_id)},
    };
    memset(out, 0, sizeof(*out));
    bool ok = true;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        *(char **)((char *)out + texts[i].offset) = store_sqlite_col_text(st, texts[i].col, &ok);
    out->account_id = sqlite3_column_int64(st, VC_ACCOUNT_ID);
    out->size = sqlite3_column_int64(st, VC_SIZE);
    out->expected_size = sqlite3_column_int64(st, VC_EXPECTED_SIZE);
    out->overwrite = sqlite3_column_int(st, VC_OVERWRITE) != 0;
    out->created_ms = sqlite3_column_int64(st, VC_CREATED_MS);
    out->uploaded_ms = sqlite3_column_int64(st, VC_UPLOADED_MS);
    out->duration = sqlite3_column_double(st, VC_DURATION);
    out->width = sqlite3_column_int(st, VC_WIDTH);
    out->height = sqlite3_column_int(st, VC_HEIGHT);
    if (!ok) {
        store_video_free(out);
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int store_sqlite_video_categories(store_sqlite_conn_t *c, store_video_t *v)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_CATEGORIES, &st);
    if (rc != STORE_OK)
        return rc;
    size_t cap = 0;
    int err = SQLITE_OK, src;
    store_sqlite_bind_text(st, 1, v->video_id, &err);
    if (err != SQLITE_OK) {
        rc = store_sqlite_map(c->db, err, "video categories");
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_sqlite_grow((void **)&v->categories, &cap, v->category_count, sizeof(*v->categories))) {
            rc = STORE_ERROR;
            goto out;
        }
        bool ok = true;
        store_category_t *cat = &v->categories[v->category_count];
        cat->parent_name = store_sqlite_col_text(st, 0, &ok);
        cat->child_name = store_sqlite_col_text(st, 1, &ok);
        v->category_count++; /* counted even when half-filled, so the free sees it */
        if (!ok) {
            rc = STORE_ERROR;
            goto out;
        }
    }
    rc = store_sqlite_map(c->db, src, "video categories");
out:
    store_sqlite_release(st);
    return rc;
}

/* Reads the one video that statement `id` selects with ?1 = text and ?2 =
 * account_id, with its categories. */
static int store_sqlite_video_read_one(store_sqlite_t *s, enum store_sqlite_stmt_id id, const char *text,
                                       int64_t account_id, store_video_t *out)
{
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    /* One snapshot for the row and its categories. */
    int rc = store_sqlite_exec(c, SQ_BEGIN, "begin read");
    if (rc != STORE_OK)
        goto out;
    rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, text, &err);
    store_sqlite_bind_int64(st, 2, account_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = store_sqlite_video_row(st, out);
    else if (src == SQLITE_DONE)
        rc = STORE_NOT_FOUND;
    else
        rc = store_sqlite_map(c->db, src, "get video");
    store_sqlite_release(st);
    st = NULL;
    if (rc == STORE_OK)
        rc = store_sqlite_video_categories(c, out);
    if (rc != STORE_OK)
        store_video_free(out);
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c); /* ends the read transaction */
    return rc;
}

static int store_sqlite_video_get(store_t *base, int64_t account_id, const char *video_id, store_video_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!video_id)
        return STORE_INVALID;
    return store_sqlite_video_read_one((store_sqlite_t *)base, SQ_VIDEO_GET, video_id, account_id, out);
}

/* A key is unique in the whole database (videos_file_key), so at most one
 * row matches even across accounts. */
static int store_sqlite_video_find_by_key(store_t *base, int64_t account_id, const char *file_key,
                                          store_video_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!file_key)
        return STORE_INVALID;
    return store_sqlite_video_read_one((store_sqlite_t *)base, SQ_VIDEO_BY_KEY, file_key,
                                       account_id < 0 ? -1 : account_id, out);
}

static int store_sqlite_object_in_use(store_t *base, const char *object_id, bool *in_use)
{
    /* A missing answer must not read as "free to delete". */
    *in_use = true;
    if (!object_id)
        return STORE_INVALID;
    int64_t n = 0;
    int rc = store_sqlite_read_int64((store_sqlite_t *)base, SQ_OBJECT_IN_USE, object_id, &n, "object in use");
    *in_use = rc != STORE_OK || n != 0;
    return rc;
}

/* "%" + name with LIKE's wildcards escaped + "%"; malloc'd. */
static char *store_sqlite_like_pattern(const char *sub)
{
    size_t n = strlen(sub);
    char *p = malloc(2 * n + 3);
    if (!p)
        return NULL;
    size_t j = 0;
    p[j++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (sub[i] == '%' || sub[i] == '_' || sub[i] == '\\')
            p[j++] = '\\';
        p[j++] = sub[i];
    }
    p[j++] = '%';
    p[j] = '\0';
    return p;
}

static void store_sqlite_bind_filter(sqlite3_stmt *st, int64_t account_id, const char *like,
                                     const store_video_filter_t *f, int *err)
{
    store_sqlite_bind_int64(st, 1, account_id, err);
    store_sqlite_bind_text(st, 2, like, err);
    store_sqlite_bind_text(st, 3, f->status && f->status[0] ? f->status : NULL, err);
    store_sqlite_bind_text(st, 4, f->category_name && f->category_name[0] ? f->category_name : NULL, err);
}

static int store_sqlite_video_list(store_t *base, int64_t account_id, const store_video_filter_t *filter,
                                   store_video_page_t *out)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    memset(out, 0, sizeof(*out));
    if (!filter || filter->page_index < 1 || filter->page_size < 1 || filter->page_size > 100 ||
        filter->page_index > INT64_MAX / filter->page_size)
        return STORE_INVALID;
    char *like = NULL;
    if (filter->name_substring && filter->name_substring[0]) {
        like = store_sqlite_like_pattern(filter->name_substring);
        if (!like)
            return STORE_ERROR;
    }
    size_t cap = 0;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    int err = SQLITE_OK, src;
    /* The total and the page come from one snapshot, so they agree. */
    int rc = store_sqlite_exec(c, SQ_BEGIN, "begin read");
    if (rc != STORE_OK)
        goto out;

    rc = store_sqlite_prepare(c, SQ_VIDEO_COUNT, &st);
    if (rc != STORE_OK)
        goto out;
    store_sqlite_bind_filter(st, account_id, like, filter, &err);
    src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = store_sqlite_map(c->db, src, "count videos");
        goto out;
    }
    out->total = sqlite3_column_int64(st, 0);
    store_sqlite_release(st);
    st = NULL;

    rc = store_sqlite_prepare(c, SQ_VIDEO_PAGE, &st);
    if (rc != STORE_OK)
        goto out;
    store_sqlite_bind_filter(st, account_id, like, filter, &err);
    store_sqlite_bind_int64(st, 5, filter->page_size, &err);
    store_sqlite_bind_int64(st, 6, (filter->page_index - 1) * filter->page_size, &err);
    if (err != SQLITE_OK) {
        rc = store_sqlite_map(c->db, err, "list videos");
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_sqlite_grow((void **)&out->items, &cap, out->count, sizeof(*out->items))) {
            rc = STORE_ERROR;
            goto out;
        }
        rc = store_sqlite_video_row(st, &out->items[out->count]);
        if (rc != STORE_OK)
            goto out;
        out->count++;
    }
    rc = store_sqlite_map(c->db, src, "list videos");
    store_sqlite_release(st);
    st = NULL;
    for (size_t i = 0; rc == STORE_OK && i < out->count; i++)
        rc = store_sqlite_video_categories(c, &out->items[i]);
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c);
    free(like);
    if (rc != STORE_OK)
        store_video_page_free(out);
    return rc;
}

static const struct store_ops store_sqlite_ops = {
    .close = store_sqlite_close,
    .key_create = store_sqlite_key_create,
    .key_list = store_sqlite_key_list,
    .key_set_enabled = store_sqlite_key_set_enabled,
    .key_lookup = store_sqlite_key_lookup,
    .account_find = store_sqlite_account_find,
    .account_count = store_sqlite_account_count,
    .domain_add = store_sqlite_domain_add,
    .domain_list = store_sqlite_domain_list,
    .domain_get = store_sqlite_domain_get,
    .resource_add = store_sqlite_resource_add,
    .resource_list = store_sqlite_resource_list,
    .resource_get = store_sqlite_resource_get,
    .video_register = store_sqlite_video_register,
    .video_get = store_sqlite_video_get,
    .video_list = store_sqlite_video_list,
    .video_find_by_key = store_sqlite_video_find_by_key,
    .video_set_uploading = store_sqlite_video_set_uploading,
    .video_set_uploaded = store_sqlite_video_set_uploaded,
    .video_set_failed = store_sqlite_video_set_failed,
    .object_in_use = store_sqlite_object_in_use,
    .secret_get = store_sqlite_secret_get,
};
