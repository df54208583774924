/*
 * store_sqlite_tus: the durable state of tus uploads (store.h, "tus
 * uploads").  Reads use the pool; writes are jobs of the writer thread, so
 * each is durable when it returns and shares the batch's commit.
 */
#include "store/store_sqlite_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool store_sqlite_tus_id_valid(const char *id)
{
    if (!id || strlen(id) != STORE_TUS_ID_LEN)
        return false;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static int store_sqlite_tus_row(sqlite3_stmt *st, store_tus_t *out)
{
    bool ok = true;
    const char *id = (const char *)sqlite3_column_text(st, 0);
    snprintf(out->upload_id, sizeof(out->upload_id), "%s", id ? id : "");
    out->account_id = sqlite3_column_int64(st, 1);
    out->file_key = store_sqlite_col_text(st, 2, &ok);
    out->kind = sqlite3_column_int(st, 3);
    out->state = sqlite3_column_int(st, 4);
    out->length = sqlite3_column_int64(st, 5);
    out->offset = sqlite3_column_int64(st, 6);
    out->metadata = store_sqlite_col_text(st, 7, &ok);
    out->parts = store_sqlite_col_text(st, 8, &ok);
    out->created_ms = sqlite3_column_int64(st, 9);
    out->updated_ms = sqlite3_column_int64(st, 10);
    if (ok && out->file_key)
        return STORE_OK;
    store_tus_free(out);
    return STORE_ERROR;
}

int store_sqlite_tus_get(store_t *base, const char *upload_id, store_tus_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!store_sqlite_tus_id_valid(upload_id))
        return STORE_NOT_FOUND;
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TUS_GET, &st);
    if (rc == STORE_OK) {
        int err = SQLITE_OK;
        store_sqlite_bind_text(st, 1, upload_id, &err);
        int src = err != SQLITE_OK ? err : sqlite3_step(st);
        rc = src == SQLITE_ROW    ? store_sqlite_tus_row(st, out)
             : src == SQLITE_DONE ? STORE_NOT_FOUND
                                  : store_sqlite_map(c->db, src, "read tus upload");
        store_sqlite_release(st);
    }
    store_sqlite_reader_put(s, c);
    return rc;
}

typedef struct store_sqlite_tus_job {
    const char *upload_id;
    const store_tus_t *upload;
    const store_tus_progress_t *progress;
    int64_t before_ms;
    int64_t max_open;
    int limit;
    store_id_list_t *removed;
} store_sqlite_tus_job_t;

static int store_sqlite_tus_write(store_t *base, store_sqlite_write_fn run, store_sqlite_tus_job_t *j)
{
    store_sqlite_write_t w = {.run = run, .ctx = j};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}

/* How many unfinished uploads the account has for the file_key, counting
 * no further than `max`: *out. */
static int store_sqlite_tus_count_open(store_sqlite_conn_t *c, const store_tus_t *u, int64_t max, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TUS_COUNT_OPEN, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, u->account_id, &err);
    store_sqlite_bind_text(st, 2, u->file_key, &err);
    store_sqlite_bind_int64(st, 3, max, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    rc = src == SQLITE_ROW ? STORE_OK : store_sqlite_map(c->db, src, "count tus uploads");
    *out = rc == STORE_OK ? sqlite3_column_int64(st, 0) : 0;
    store_sqlite_release(st);
    return rc;
}

static int store_sqlite_run_tus_create(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    const store_sqlite_tus_job_t *j = w->ctx;
    const store_tus_t *u = j->upload;
    int64_t open = 0;
    int rc = j->max_open > 0 ? store_sqlite_tus_count_open(c, u, j->max_open, &open) : STORE_OK;
    if (rc != STORE_OK)
        return rc;
    if (j->max_open > 0 && open >= j->max_open)
        return STORE_CONFLICT;
    sqlite3_stmt *st;
    rc = store_sqlite_prepare(c, SQ_TUS_INSERT, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, u->upload_id, &err);
    store_sqlite_bind_int64(st, 2, u->account_id, &err);
    store_sqlite_bind_text(st, 3, u->file_key, &err);
    store_sqlite_bind_int64(st, 4, u->kind, &err);
    store_sqlite_bind_int64(st, 5, u->state, &err);
    store_sqlite_bind_int64(st, 6, u->length, &err);
    store_sqlite_bind_int64(st, 7, u->offset, &err);
    store_sqlite_bind_text(st, 8, u->metadata, &err);
    store_sqlite_bind_text(st, 9, u->parts, &err);
    store_sqlite_bind_int64(st, 10, u->created_ms, &err);
    store_sqlite_bind_int64(st, 11, u->updated_ms, &err);
    return store_sqlite_step_done(c, st, err, "record tus upload");
}

int store_sqlite_tus_create(store_t *base, const store_tus_t *u, int64_t max_open)
{
    if (!u || !store_sqlite_tus_id_valid(u->upload_id) || !u->file_key || u->kind < STORE_TUS_SINGLE ||
        u->kind > STORE_TUS_FINAL || u->offset < 0 || u->length < -1)
        return STORE_INVALID;
    store_sqlite_tus_job_t j = {.upload = u, .max_open = max_open};
    return store_sqlite_tus_write(base, store_sqlite_run_tus_create, &j);
}

static int store_sqlite_run_tus_update(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_tus_job_t *j = w->ctx;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TUS_UPDATE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, j->upload_id, &err);
    store_sqlite_bind_int64(st, 2, j->progress->offset, &err);
    store_sqlite_bind_int64(st, 3, j->progress->length, &err);
    store_sqlite_bind_int64(st, 4, j->progress->state, &err);
    store_sqlite_bind_int64(st, 5, j->progress->now_ms, &err);
    rc = store_sqlite_step_done(c, st, err, "update tus upload");
    return rc == STORE_OK && sqlite3_changes(c->db) == 0 ? STORE_NOT_FOUND : rc;
}

int store_sqlite_tus_update(store_t *base, const char *upload_id, const store_tus_progress_t *p)
{
    if (!store_sqlite_tus_id_valid(upload_id) || !p || p->offset < 0 || p->length < -1 ||
        (p->state != STORE_TUS_OPEN && p->state != STORE_TUS_DONE))
        return STORE_INVALID;
    store_sqlite_tus_job_t j = {.upload_id = upload_id, .progress = p};
    return store_sqlite_tus_write(base, store_sqlite_run_tus_update, &j);
}

static int store_sqlite_run_tus_remove(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_tus_job_t *j = w->ctx;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TUS_DELETE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, j->upload_id, &err);
    rc = store_sqlite_step_done(c, st, err, "remove tus upload");
    return rc == STORE_OK && sqlite3_changes(c->db) == 0 ? STORE_NOT_FOUND : rc;
}

int store_sqlite_tus_remove(store_t *base, const char *upload_id)
{
    if (!store_sqlite_tus_id_valid(upload_id))
        return STORE_NOT_FOUND;
    store_sqlite_tus_job_t j = {.upload_id = upload_id};
    return store_sqlite_tus_write(base, store_sqlite_run_tus_remove, &j);
}

static int store_sqlite_tus_collect(sqlite3_stmt *st, store_id_list_t *out, size_t *cap)
{
    if (!store_sqlite_grow((void **)&out->items, cap, out->count, sizeof(*out->items)))
        return STORE_ERROR;
    const char *id = (const char *)sqlite3_column_text(st, 0);
    out->items[out->count] = strdup(id ? id : "");
    return out->items[out->count++] ? STORE_OK : STORE_ERROR;
}

static int store_sqlite_run_tus_expire(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_tus_job_t *j = w->ctx;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TUS_EXPIRED, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, j->before_ms, &err);
    store_sqlite_bind_int64(st, 2, j->limit, &err);
    size_t cap = 0;
    int src = err;
    while (rc == STORE_OK && err == SQLITE_OK && (src = sqlite3_step(st)) == SQLITE_ROW)
        rc = store_sqlite_tus_collect(st, j->removed, &cap);
    if (rc == STORE_OK && src != SQLITE_DONE)
        rc = store_sqlite_map(c->db, src, "expire tus uploads");
    store_sqlite_release(st);
    return rc;
}

int store_sqlite_tus_expire(store_t *base, int64_t before_ms, int limit, store_id_list_t *removed)
{
    memset(removed, 0, sizeof(*removed));
    if (limit <= 0)
        return STORE_INVALID;
    store_sqlite_tus_job_t j = {.before_ms = before_ms, .limit = limit, .removed = removed};
    int rc = store_sqlite_tus_write(base, store_sqlite_run_tus_expire, &j);
    if (rc != STORE_OK)
        store_id_list_free(removed);
    return rc;
}
