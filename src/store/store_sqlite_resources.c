/*
 * store_sqlite_resources: an account's processing resources (workflows,
 * watermarks, templates, subtitles): adding one (an admin write on the write
 * connection, under write_mu), listing them and reading one.
 *
 * It must never store a spec that is not a JSON object (the processing stage
 * parses it later, where a bad one would surface far from its cause), and
 * never return another account's resource.
 */
#include "store/store_sqlite_internal.h"

#include <jansson.h>
#include <string.h>

#include "common/ids.h"

#define STORE_SQLITE_HEX "0123456789abcdef"
#define STORE_SQLITE_RESOURCE_ID_LEN 32  /* "wf" + 30 hex, "sub" + 29 hex */

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

int store_sqlite_resource_add(store_t *base, int64_t account_id, int kind, const char *name,
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

int store_sqlite_resource_list(store_t *base, int64_t account_id, int kind, store_resource_list_t *out)
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

int store_sqlite_resource_get(store_t *base, int64_t account_id, int kind, const char *id,
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
