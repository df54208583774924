/*
 * store_sqlite_keys: accounts, their access keys and their playback domains.
 * The admin writes that create or change them run synchronously on the write
 * connection under write_mu, between the writer thread's batches; the reads
 * the request path makes (a key's lookup above all) run on a pooled read
 * connection.
 *
 * It must never log a secret key, never keep one past the result handed to
 * the caller (the copy it generates is wiped), and never read one into a
 * listing: a key listing selects NULL in its place.
 */
#include "store/store_sqlite_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"
#include "common/log.h"

#define STORE_SQLITE_UPPER_DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
#define STORE_SQLITE_ALNUM "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
#define STORE_SQLITE_ACCESS_KEY_LEN 20   /* "AK" + 18 */
#define STORE_SQLITE_SECRET_KEY_LEN 40

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

int store_sqlite_key_create(store_t *base, const char *account_name, store_key_t *out)
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

int store_sqlite_key_list(store_t *base, store_key_list_t *out)
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

int store_sqlite_key_set_enabled(store_t *base, const char *access_key, bool enabled)
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

int store_sqlite_key_lookup(store_t *base, const char *access_key, store_key_t *out)
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

int store_sqlite_account_find(store_t *base, const char *name_or_key, int64_t *account_id)
{
    if (!name_or_key || !name_or_key[0])
        return STORE_INVALID;
    return store_sqlite_read_int64((store_sqlite_t *)base, SQ_ACCOUNT_FIND, name_or_key, account_id,
                                   "find account");
}

int store_sqlite_account_count(store_t *base, int64_t *count)
{
    *count = 0;
    return store_sqlite_read_int64((store_sqlite_t *)base, SQ_ACCOUNT_COUNT, NULL, count, "count accounts");
}

/* ---- domains ---- */

int store_sqlite_domain_add(store_t *base, int64_t account_id, const char *name, bool make_default)
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

int store_sqlite_domain_list(store_t *base, int64_t account_id, store_domain_list_t *out)
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

int store_sqlite_domain_get(store_t *base, int64_t account_id, const char *name, store_domain_t *out)
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
