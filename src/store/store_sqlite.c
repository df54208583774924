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
 *
 * This file opens the store (the database file and its permissions, WAL,
 * the schema, the connections, the writer thread), closes it, and holds the
 * ops vtable; the rest is split by concern across store_sqlite_*.c, which
 * store_sqlite_internal.h lists.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "store/store_sqlite_internal.h"

#define STORE_SQLITE_DEFAULT_BUSY_MS 5000
#define STORE_SQLITE_DEFAULT_READERS 4
#define STORE_SQLITE_MAX_READERS 64

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
    struct stat st;
    if (stat(s->path, &st) == 0) {
        s->file_dev = st.st_dev;
        s->file_ino = st.st_ino;
    }
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
    .task_enqueue = store_sqlite_task_enqueue,
    .task_claim = store_sqlite_task_claim,
    .task_heartbeat = store_sqlite_task_heartbeat,
    .task_succeed = store_sqlite_task_succeed,
    .task_fail = store_sqlite_task_fail,
    .task_cancel = store_sqlite_task_cancel,
    .task_get = store_sqlite_task_get,
    .job_notify_state = store_sqlite_job_notify_state,
    .task_latest = store_sqlite_task_latest,
    .video_outputs = store_sqlite_video_outputs,
    .output_file_find = store_sqlite_output_file_find,
    .video_delete = store_sqlite_video_delete,
    .playback_get = store_sqlite_playback_get,
    .playback_set = store_sqlite_playback_set,
    .key_delete = store_sqlite_key_delete,
    .domain_remove = store_sqlite_domain_remove,
    .resource_remove = store_sqlite_resource_remove,
    .video_expire = store_sqlite_video_expire,
    .webhook_add = store_sqlite_webhook_add,
    .webhook_list = store_sqlite_webhook_list,
    .webhook_remove = store_sqlite_webhook_remove,
    .delivery_claim = store_sqlite_delivery_claim,
    .delivery_set_data = store_sqlite_delivery_set_data,
    .delivery_record = store_sqlite_delivery_record,
    .delivery_list = store_sqlite_delivery_list,
    .delivery_pending_count = store_sqlite_delivery_pending_count,
    .task_count = store_sqlite_task_count,
    .check = store_sqlite_check,
    .delivery_prune = store_sqlite_delivery_prune,
    .link_create = store_sqlite_link_create,
    .link_get = store_sqlite_link_get,
    .link_claim = store_sqlite_link_claim,
    .link_has_file = store_sqlite_link_has_file,
    .tus_create = store_sqlite_tus_create,
    .tus_get = store_sqlite_tus_get,
    .tus_update = store_sqlite_tus_update,
    .tus_remove = store_sqlite_tus_remove,
    .tus_expire = store_sqlite_tus_expire,
};
