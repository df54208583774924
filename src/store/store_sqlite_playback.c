/*
 * store_sqlite_playback: an account's playback access (public or signed)
 * and the key its signed URLs are checked with (store.h, "playback
 * access").  The key never leaves through a listing: only playback_get and
 * playback_set return it, to the playback origin, the API that signs URLs
 * and `vodup admin playback`.
 */
#include "store/store_sqlite_internal.h"

#include <string.h>

static int store_sqlite_playback_row(sqlite3_stmt *st, store_playback_t *out)
{
    const char *access = (const char *)sqlite3_column_text(st, 0);
    out->access = access && !strcmp(access, "signed") ? STORE_PLAYBACK_SIGNED : STORE_PLAYBACK_PUBLIC;
    int n = sqlite3_column_bytes(st, 1);
    const void *key = sqlite3_column_blob(st, 1);
    out->has_key = key && n == STORE_PLAYBACK_KEY_LEN;
    if (out->has_key)
        memcpy(out->key, key, STORE_PLAYBACK_KEY_LEN);
    return STORE_OK;
}

static int store_sqlite_playback_read(store_sqlite_conn_t *c, int64_t account_id, store_playback_t *out)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_PLAYBACK_GET, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    rc = src == SQLITE_ROW    ? store_sqlite_playback_row(st, out)
         : src == SQLITE_DONE ? STORE_NOT_FOUND
                              : store_sqlite_map(c->db, src, "read playback access");
    store_sqlite_release(st);
    return rc;
}

int store_sqlite_playback_get(store_t *base, int64_t account_id, store_playback_t *out)
{
    memset(out, 0, sizeof(*out));
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    int rc = store_sqlite_playback_read(c, account_id, out);
    store_sqlite_reader_put(s, c);
    return rc;
}

typedef struct store_sqlite_playback_job {
    int64_t account_id;
    int access;
    const unsigned char *new_key;
    bool rotate;
    store_playback_t *out;
} store_sqlite_playback_job_t;

static int store_sqlite_run_playback_set(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_playback_job_t *j = w->ctx;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_PLAYBACK_SET, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, j->account_id, &err);
    store_sqlite_bind_text(st, 2, j->access == STORE_PLAYBACK_SIGNED ? "signed" : "public", &err);
    if (err == SQLITE_OK)
        err = sqlite3_bind_blob(st, 3, j->new_key, STORE_PLAYBACK_KEY_LEN, SQLITE_TRANSIENT);
    store_sqlite_bind_int64(st, 4, j->rotate ? 1 : 0, &err);
    rc = store_sqlite_step_done(c, st, err, "set playback access");
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        rc = STORE_NOT_FOUND;
    return rc == STORE_OK ? store_sqlite_playback_read(c, j->account_id, j->out) : rc;
}

int store_sqlite_playback_set(store_t *base, int64_t account_id, int access, const unsigned char *new_key,
                              bool rotate, store_playback_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!new_key || (access != STORE_PLAYBACK_PUBLIC && access != STORE_PLAYBACK_SIGNED))
        return STORE_INVALID;
    store_sqlite_playback_job_t j = {account_id, access, new_key, rotate, out};
    store_sqlite_write_t w = {.run = store_sqlite_run_playback_set, .ctx = &j};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}
