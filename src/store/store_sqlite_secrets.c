/*
 * store_sqlite_secrets: server-wide secrets (keys of HMACs that every node
 * must agree on).  The first caller to ask for one makes it through the
 * writer thread; everyone after reads it on a pooled read connection.
 *
 * It must never log a secret's value, never hand out one of the wrong length
 * (a weak key), and never leave a copy unwiped outside the caller's buffer.
 */
#include "store/store_sqlite_internal.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

#include "common/log.h"

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

/* Reads first, on a pooled connection: the secret exists after its first
 * use, so only that first call waits for the writer thread and a commit. */
int store_sqlite_secret_get(store_t *base, const char *name, unsigned char out[32])
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
