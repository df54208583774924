/*
 * store_sqlite_backup: whole-database operations on an SQLite file for
 * `vodup backup` and `vodup restore` (store.h, "whole databases"): the
 * consistent copy through SQLite's online backup API, the integrity check,
 * and the walk over what the rows refer to outside the database (objects,
 * resources).
 *
 * The copy reads the source in one sqlite3_backup_step(-1): one read
 * transaction, so the copy is one committed state of the database, and in
 * WAL mode a reader never blocks the server's writer (nor is blocked by it).
 * Stepping in pieces instead would restart the copy whenever another
 * process commits, which a busy server does all the time.
 *
 * It must never write to nor migrate the source (connections to it are
 * query_only), never overwrite an existing destination, and never leave a
 * destination that has not passed the integrity check without saying so.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store_sqlite_internal.h"

#define STORE_BACKUP_BUSY_MS 5000
/* SQLITE_BUSY or SQLITE_LOCKED from a backup step: retry this often, this
 * long apart (a WAL reader is refused only while a crashed writer's WAL is
 * being recovered, which is short). */
#define STORE_BACKUP_RETRIES 100
#define STORE_BACKUP_RETRY_MS 50

/* ---- helpers ---- */

static int store_backup_fail(char *err, size_t errlen, int rc, const char *what, const char *path, const char *why)
{
    snprintf(err, errlen, "%s %s: %s", what, path, why);
    return rc;
}

/* fsyncs a file, or the directory holding it when dir is true. */
static bool store_backup_sync(const char *path, bool dir)
{
    char parent[4096];
    if (dir) {
        const char *slash = strrchr(path, '/');
        int n = slash ? snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path)
                      : snprintf(parent, sizeof(parent), ".");
        if (n < 0 || (size_t)n >= sizeof(parent))
            return false;
        if (!parent[0])
            snprintf(parent, sizeof(parent), "/");
        path = parent;
    }
    int fd = open(path, (dir ? O_RDONLY | O_DIRECTORY : O_RDWR) | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

/* Runs a PRAGMA that answers one text row and copies the answer. */
static int store_backup_pragma_text(sqlite3 *db, const char *sql, char *out, size_t outlen)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    if (src == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(out, outlen, "%s", t ? (const char *)t : "");
        src = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return src;
}

/* ---- the integrity check ---- */

static int store_backup_integrity(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    char answer[512];
    int src = store_backup_pragma_text(db, "PRAGMA integrity_check", answer, sizeof(answer));
    if (src != SQLITE_OK)
        return store_backup_fail(err, errlen, STORE_ERROR, "cannot check", path, sqlite3_errmsg(db));
    if (strcmp(answer, "ok") != 0)
        return store_backup_fail(err, errlen, STORE_ERROR, "integrity check failed on", path, answer);
    return STORE_OK;
}

int store_check(const char *location, char *err, size_t errlen)
{
    store_sqlite_conn_t c;
    if (store_sqlite_conn_open(&c, location, STORE_BACKUP_BUSY_MS, true) != STORE_OK)
        return store_backup_fail(err, errlen, STORE_UNAVAILABLE, "cannot open", location, "no such database");
    int rc = store_backup_integrity(c.db, location, err, errlen);
    store_sqlite_conn_close(&c);
    return rc;
}

/* ---- the copy ---- */

/* The destination, created 0600 (it holds every SecretKey) and never over
 * an existing file. */
static int store_backup_open_dest(const char *path, sqlite3 **db, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return store_backup_fail(err, errlen, STORE_ERROR, "cannot create", path, strerror(errno));
    close(fd);
    int src = sqlite3_open_v2(path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK)
        return store_backup_fail(err, errlen, STORE_ERROR, "cannot open", path,
                                 *db ? sqlite3_errmsg(*db) : sqlite3_errstr(src));
    return STORE_OK;
}

/* Copies every page of `from` into `to` in one step (see the top). */
static int store_backup_pages(sqlite3 *from, sqlite3 *to)
{
    sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
    if (!b)
        return sqlite3_errcode(to);
    int src;
    for (int i = 0; (src = sqlite3_backup_step(b, -1)) == SQLITE_BUSY || src == SQLITE_LOCKED; i++) {
        if (i >= STORE_BACKUP_RETRIES)
            break;
        sqlite3_sleep(STORE_BACKUP_RETRY_MS);
    }
    int fin = sqlite3_backup_finish(b);
    return src == SQLITE_DONE ? fin : src;
}

/* The copy as one plain file: out of WAL mode (no -wal or -shm beside it;
 * the server switches it back when it opens it), checked, its version read. */
static int store_backup_settle(sqlite3 *db, const char *path, int *version, char *err, size_t errlen)
{
    char answer[32];
    if (store_backup_pragma_text(db, "PRAGMA journal_mode = DELETE", answer, sizeof(answer)) != SQLITE_OK)
        return store_backup_fail(err, errlen, STORE_ERROR, "cannot finish", path, sqlite3_errmsg(db));
    int rc = store_backup_integrity(db, path, err, errlen);
    if (rc == STORE_OK && version &&
        store_backup_pragma_text(db, "PRAGMA user_version", answer, sizeof(answer)) == SQLITE_OK)
        *version = atoi(answer);
    return rc;
}

int store_backup_copy(const char *location, const char *dest_path, int *version, char *err, size_t errlen)
{
    store_sqlite_conn_t from;
    sqlite3 *to = NULL;
    if (store_sqlite_conn_open(&from, location, STORE_BACKUP_BUSY_MS, true) != STORE_OK)
        return store_backup_fail(err, errlen, STORE_UNAVAILABLE, "cannot open", location, "no such database");
    int rc = store_backup_open_dest(dest_path, &to, err, errlen);
    bool made = rc == STORE_OK;
    if (rc == STORE_OK) {
        int src = store_backup_pages(from.db, to);
        if (src != SQLITE_OK)
            rc = store_backup_fail(err, errlen, STORE_ERROR, "cannot copy", location, sqlite3_errstr(src));
    }
    if (rc == STORE_OK)
        rc = store_backup_settle(to, dest_path, version, err, errlen);
    if (to && sqlite3_close(to) != SQLITE_OK && rc == STORE_OK)
        rc = store_backup_fail(err, errlen, STORE_ERROR, "cannot close", dest_path, "busy");
    store_sqlite_conn_close(&from);
    if (rc == STORE_OK && (!store_backup_sync(dest_path, false) || !store_backup_sync(dest_path, true)))
        rc = store_backup_fail(err, errlen, STORE_ERROR, "cannot sync", dest_path, strerror(errno));
    if (rc != STORE_OK && made)
        unlink(dest_path); /* never a copy that looks finished but is not */
    return rc;
}

/* ---- what the rows refer to ---- */

/* Objects by schema version: videos hold one since version 2, served
 * output files since version 4. */
static const char *store_backup_objects_sql(int version)
{
    if (version >= 4)
        return "SELECT object_id, size FROM videos WHERE object_id IS NOT NULL"
               " UNION ALL SELECT object_id, size FROM output_files";
    if (version >= 2)
        return "SELECT object_id, size FROM videos WHERE object_id IS NOT NULL";
    return NULL;
}

static int store_backup_kind_of(const char *name)
{
    for (int k = STORE_WORKFLOW; k <= STORE_SUBTITLE; k++)
        if (name && !strcmp(name, store_resource_kind_name(k)))
            return k;
    return -1;
}

/* Fills ref from a row of the objects query (kind 0) or the resources one. */
static void store_backup_row(sqlite3_stmt *st, int kind, store_ref_t *ref)
{
    memset(ref, 0, sizeof(*ref));
    ref->kind = kind;
    if (kind == STORE_REF_OBJECT) {
        ref->id = (const char *)sqlite3_column_text(st, 0);
        ref->size = sqlite3_column_int64(st, 1);
        return;
    }
    ref->resource_kind = store_backup_kind_of((const char *)sqlite3_column_text(st, 0));
    ref->id = (const char *)sqlite3_column_text(st, 1);
    ref->spec = (const char *)sqlite3_column_text(st, 2);
}

/* Runs one query and hands each row to fn. */
static int store_backup_walk_query(sqlite3 *db, const char *sql, int kind, bool (*fn)(void *, const store_ref_t *),
                                   void *arg, char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    store_ref_t ref;
    bool go = true;
    while (src == SQLITE_OK && go && (src = sqlite3_step(st)) == SQLITE_ROW) {
        store_backup_row(st, kind, &ref);
        go = fn(arg, &ref);
        src = SQLITE_OK;
    }
    int rc = !go ? STORE_ERROR : src == SQLITE_DONE ? STORE_OK : STORE_ERROR;
    if (go && rc != STORE_OK)
        snprintf(err, errlen, "cannot read the database: %s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
    return rc;
}

int store_refs_walk(const char *location, bool (*fn)(void *arg, const store_ref_t *ref), void *arg, char *err,
                    size_t errlen)
{
    store_sqlite_conn_t c;
    if (store_sqlite_conn_open(&c, location, STORE_BACKUP_BUSY_MS, true) != STORE_OK)
        return store_backup_fail(err, errlen, STORE_UNAVAILABLE, "cannot open", location, "no such database");
    char answer[32];
    int rc = STORE_OK;
    int version = 0;
    if (store_backup_pragma_text(c.db, "PRAGMA user_version", answer, sizeof(answer)) == SQLITE_OK)
        version = atoi(answer);
    const char *objects = store_backup_objects_sql(version);
    if (objects)
        rc = store_backup_walk_query(c.db, objects, STORE_REF_OBJECT, fn, arg, err, errlen);
    if (rc == STORE_OK && version >= 1)
        rc = store_backup_walk_query(c.db, "SELECT kind, id, spec FROM resources ORDER BY rowid", STORE_REF_RESOURCE,
                                     fn, arg, err, errlen);
    store_sqlite_conn_close(&c);
    return rc;
}
