/*
 * store_sqlite_links: upload links and the fileIds each one registered
 * (store.h, "upload links").  A claim is one writer job: the file's row and
 * the use it counts commit together or not at all (a job that fails is
 * rolled back to its savepoint).
 */
#include "store/store_sqlite_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool store_sqlite_link_id_valid(const char *id)
{
    if (!id || strlen(id) != STORE_LINK_ID_LEN || strncmp(id, "ul_", 3) != 0)
        return false;
    for (const char *p = id + 3; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return false;
    return true;
}

static int store_sqlite_link_row(sqlite3_stmt *st, store_link_t *out)
{
    bool ok = true;
    const char *id = (const char *)sqlite3_column_text(st, 0);
    snprintf(out->link_id, sizeof(out->link_id), "%s", id ? id : "");
    out->account_id = sqlite3_column_int64(st, 1);
    out->access_key = store_sqlite_col_text(st, 2, &ok);
    out->expires_ms = sqlite3_column_int64(st, 3);
    out->max_size = sqlite3_column_int64(st, 4);
    out->uses = sqlite3_column_int64(st, 5);
    out->used = sqlite3_column_int64(st, 6);
    out->template_name = store_sqlite_col_text(st, 7, &ok);
    out->workflow_id = store_sqlite_col_text(st, 8, &ok);
    out->created_ms = sqlite3_column_int64(st, 9);
    if (ok && out->access_key)
        return STORE_OK;
    store_link_free(out);
    return STORE_ERROR;
}

int store_sqlite_link_get(store_t *base, const char *link_id, store_link_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!store_sqlite_link_id_valid(link_id))
        return STORE_NOT_FOUND;
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_LINK_GET, &st);
    if (rc == STORE_OK) {
        int err = SQLITE_OK;
        store_sqlite_bind_text(st, 1, link_id, &err);
        int src = err != SQLITE_OK ? err : sqlite3_step(st);
        rc = src == SQLITE_ROW    ? store_sqlite_link_row(st, out)
             : src == SQLITE_DONE ? STORE_NOT_FOUND
                                  : store_sqlite_map(c->db, src, "read upload link");
        store_sqlite_release(st);
    }
    store_sqlite_reader_put(s, c);
    return rc;
}

int store_sqlite_link_has_file(store_t *base, const char *link_id, const char *file_id)
{
    if (!store_sqlite_link_id_valid(link_id) || !file_id)
        return STORE_NOT_FOUND;
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_LINK_FILE_GET, &st);
    if (rc == STORE_OK) {
        int err = SQLITE_OK;
        store_sqlite_bind_text(st, 1, link_id, &err);
        store_sqlite_bind_text(st, 2, file_id, &err);
        int src = err != SQLITE_OK ? err : sqlite3_step(st);
        rc = src == SQLITE_ROW    ? STORE_OK
             : src == SQLITE_DONE ? STORE_NOT_FOUND
                                  : store_sqlite_map(c->db, src, "read upload link file");
        store_sqlite_release(st);
    }
    store_sqlite_reader_put(s, c);
    return rc;
}

typedef struct store_sqlite_link_job {
    const store_link_t *link;
    const char *link_id;
    const char *file_id;
    int64_t now_ms;
} store_sqlite_link_job_t;

static int store_sqlite_run_link_create(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    const store_link_t *l = ((store_sqlite_link_job_t *)w->ctx)->link;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_LINK_INSERT, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, l->link_id, &err);
    store_sqlite_bind_int64(st, 2, l->account_id, &err);
    store_sqlite_bind_text(st, 3, l->access_key, &err);
    store_sqlite_bind_int64(st, 4, l->expires_ms, &err);
    store_sqlite_bind_int64(st, 5, l->max_size, &err);
    store_sqlite_bind_int64(st, 6, l->uses, &err);
    store_sqlite_bind_text(st, 7, l->template_name, &err);
    store_sqlite_bind_text(st, 8, l->workflow_id, &err);
    store_sqlite_bind_int64(st, 9, l->created_ms, &err);
    return store_sqlite_step_done(c, st, err, "record upload link");
}

int store_sqlite_link_create(store_t *base, const store_link_t *l)
{
    if (!l || !store_sqlite_link_id_valid(l->link_id) || !l->access_key || l->uses < 1 || l->max_size < 0)
        return STORE_INVALID;
    store_sqlite_link_job_t j = {.link = l};
    store_sqlite_write_t w = {.run = store_sqlite_run_link_create, .ctx = &j};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}

/* Runs one of the claim's statements on (link_id[, file_id, now]); its changes. */
static int store_sqlite_link_step(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id,
                                  const store_sqlite_link_job_t *j, int *changes)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, j->link_id, &err);
    if (id == SQ_LINK_FILE_INSERT) {
        store_sqlite_bind_text(st, 2, j->file_id, &err);
        store_sqlite_bind_int64(st, 3, j->now_ms, &err);
    }
    rc = store_sqlite_step_done(c, st, err, "claim an upload link's use");
    *changes = sqlite3_changes(c->db);
    return rc;
}

static int store_sqlite_run_link_claim(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    const store_sqlite_link_job_t *j = w->ctx;
    int changes = 0;
    int rc = store_sqlite_link_step(c, SQ_LINK_FILE_INSERT, j, &changes);
    if (rc != STORE_OK || changes == 0)
        return rc; /* counted before */
    rc = store_sqlite_link_step(c, SQ_LINK_USE, j, &changes);
    return rc == STORE_OK && changes == 0 ? STORE_CONFLICT : rc;
}

int store_sqlite_link_claim(store_t *base, const char *link_id, const char *file_id, int64_t now_ms)
{
    if (!store_sqlite_link_id_valid(link_id))
        return STORE_NOT_FOUND;
    if (!file_id || !file_id[0])
        return STORE_INVALID;
    store_link_t l;
    int rc = store_sqlite_link_get(base, link_id, &l);
    store_link_free(&l);
    if (rc != STORE_OK)
        return rc;
    store_sqlite_link_job_t j = {.link_id = link_id, .file_id = file_id, .now_ms = now_ms};
    store_sqlite_write_t w = {.run = store_sqlite_run_link_claim, .ctx = &j};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}
