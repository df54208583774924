/*
 * store_sqlite_remove: the operator's removals (vodup admin): an AccessKey,
 * a playback domain, a processing resource (store.h).  Each is one job of
 * the writer thread.  They never touch videos: a video keeps the domain and
 * the resource names it was registered with, and a task keeps the plan
 * frozen into it when it was queued.
 */
#include "store/store_sqlite_internal.h"

#include <string.h>

typedef struct store_sqlite_remove_job {
    int64_t account_id;
    const char *kind;
    const char *name; /* access key, domain name, resource id */
} store_sqlite_remove_job_t;

/* Runs a DELETE bound to the job's fields in `order` ("a" account, "k"
 * kind, "n" name); STORE_NOT_FOUND when it removed nothing. */
static int store_sqlite_remove_run(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id, const char *order,
                                   const store_sqlite_remove_job_t *j)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    for (int i = 0; order[i]; i++) {
        if (order[i] == 'a')
            store_sqlite_bind_int64(st, i + 1, j->account_id, &err);
        else
            store_sqlite_bind_text(st, i + 1, order[i] == 'k' ? j->kind : j->name, &err);
    }
    rc = store_sqlite_step_done(c, st, err, "remove");
    return rc == STORE_OK && sqlite3_changes(c->db) == 0 ? STORE_NOT_FOUND : rc;
}

static int store_sqlite_remove_write(store_t *base, store_sqlite_write_fn run, store_sqlite_remove_job_t *j)
{
    store_sqlite_write_t w = {.run = run, .ctx = j};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}

/* ---- keys ---- */

static int store_sqlite_key_count(store_sqlite_conn_t *c, const char *access_key, int64_t *count)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_KEY_ACCOUNT_KEYS, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, access_key, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    store_sqlite_release(st);
    return src == SQLITE_ROW ? STORE_OK : store_sqlite_map(c->db, src, "count keys");
}

static int store_sqlite_run_key_delete(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_remove_job_t *j = w->ctx;
    int64_t keys = 0;
    int rc = store_sqlite_key_count(c, j->name, &keys);
    if (rc != STORE_OK)
        return rc;
    if (keys == 0)
        return STORE_NOT_FOUND;
    if (keys == 1)
        return STORE_CONFLICT;
    return store_sqlite_remove_run(c, SQ_KEY_DELETE, "n", j);
}

int store_sqlite_key_delete(store_t *base, const char *access_key)
{
    if (!access_key)
        return STORE_INVALID;
    store_sqlite_remove_job_t j = {.name = access_key};
    return store_sqlite_remove_write(base, store_sqlite_run_key_delete, &j);
}

/* ---- domains ---- */

static int store_sqlite_run_domain_remove(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_remove_job_t *j = w->ctx;
    int rc = store_sqlite_remove_run(c, SQ_DOMAIN_DELETE, "an", j);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st;
    rc = store_sqlite_prepare(c, SQ_DOMAIN_PROMOTE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, j->account_id, &err);
    return store_sqlite_step_done(c, st, err, "promote domain");
}

int store_sqlite_domain_remove(store_t *base, int64_t account_id, const char *name)
{
    if (!name)
        return STORE_INVALID;
    store_sqlite_remove_job_t j = {.account_id = account_id, .name = name};
    return store_sqlite_remove_write(base, store_sqlite_run_domain_remove, &j);
}

/* ---- resources ---- */

static int store_sqlite_run_resource_remove(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    return store_sqlite_remove_run(c, SQ_RESOURCE_DELETE, "akn", w->ctx);
}

int store_sqlite_resource_remove(store_t *base, int64_t account_id, int kind, const char *id)
{
    if (!id || (kind != STORE_WORKFLOW && kind != STORE_WATERMARK && kind != STORE_TEMPLATE && kind != STORE_SUBTITLE))
        return STORE_INVALID;
    store_sqlite_remove_job_t j = {.account_id = account_id, .kind = store_resource_kind_name(kind), .name = id};
    return store_sqlite_remove_write(base, store_sqlite_run_resource_remove, &j);
}
