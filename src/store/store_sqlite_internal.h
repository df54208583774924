/*
 * store_sqlite_internal: what the files of the SQLite store share with each
 * other: the constants more than one of them needs, the statement ids, the
 * column order of a video read, the connection, store and upload-path write
 * types, and the functions one file defines for the others.
 *
 * Private to src/store: only the store_sqlite*.c files include it, and
 * nothing outside src/store may.  The rest of vodup reaches the store through
 * store.h alone, so that PostgreSQL can replace this implementation without
 * touching a caller.
 *
 * The files, one concern each:
 *   store_sqlite.c            open and close, the ops vtable
 *   store_sqlite_schema.c     migrations, PRAGMA user_version
 *   store_sqlite_conn.c       statement text, connections, prepared
 *                             statements, bind and column helpers, error
 *                             mapping, the read pool
 *   store_sqlite_writer.c     the writer thread, its job queue, batches and
 *                             group commit, synchronous upload-path writes
 *   store_sqlite_keys.c       accounts, access keys, domains
 *   store_sqlite_playback.c   an account's playback access and key
 *   store_sqlite_resources.c  processing resources
 *   store_sqlite_remove.c     admin removals: keys, domains, resources
 *   store_sqlite_videos.c     video registration, the upload path's state
 *                             changes, video reads, objects in use
 *   store_sqlite_secrets.c    server-wide secrets
 *   store_sqlite_tasks.c      processing tasks: enqueue (alone or with an
 *                             upload), claim, heartbeat, finish, cancel,
 *                             reads
 *   store_sqlite_outputs.c    processing outputs: a succeeding task's
 *                             result checked and published, the listed
 *                             outputs and served files read
 *   store_sqlite_delete.c     deleteVideo's transaction, the expiry of
 *                             registrations never uploaded
 *   store_sqlite_tus.c        tus uploads' durable state
 *   store_sqlite_links.c      upload links and the files they registered
 *   store_sqlite_events.c     webhooks, events written with the state
 *                             changes they report, deliveries claimed,
 *                             recorded, listed and pruned
 */
#ifndef VODUP_STORE_SQLITE_INTERNAL_H
#define VODUP_STORE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Generated names are random; a collision is astronomically unlikely, but a
 * few retries make one harmless instead of an error. */
#define STORE_SQLITE_ID_RETRIES 8

/* Every server-wide secret is this long (secret_get's out[32]). */
#define STORE_SQLITE_SECRET_LEN 32

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

/* The column list every task read selects, in store_sqlite_task_col order. */
#define STORE_SQLITE_TASK_COLUMNS                                                                  \
    "task_id, account_id, video_id, state, plan, attempts, error, progress, lease_owner, "         \
    "lease_expires_ms, next_attempt_ms, created_ms, started_ms, finished_ms, fops, notify_url, access_key"

enum store_sqlite_task_col {
    TC_TASK_ID, TC_ACCOUNT_ID, TC_VIDEO_ID, TC_STATE, TC_PLAN, TC_ATTEMPTS, TC_ERROR, TC_PROGRESS,
    TC_LEASE_OWNER, TC_LEASE_EXPIRES_MS, TC_NEXT_ATTEMPT_MS, TC_CREATED_MS, TC_STARTED_MS, TC_FINISHED_MS,
    TC_FOPS, TC_NOTIFY_URL, TC_ACCESS_KEY,
};

/* The column lists of the outputs reads, in store_sqlite_output_col and
 * store_sqlite_output_file_col order. */
#define STORE_SQLITE_OUTPUT_COLUMNS \
    "type, template_name, key, width, height, duration, size, bitrate, codecs, language"

enum store_sqlite_output_col {
    OC_TYPE, OC_TEMPLATE_NAME, OC_KEY, OC_WIDTH, OC_HEIGHT, OC_DURATION, OC_SIZE, OC_BITRATE, OC_CODECS,
    OC_LANGUAGE,
};

#define STORE_SQLITE_OUTPUT_FILE_COLUMNS "key, object_id, size, content_type, video_id, created_ms"
/* The same for output_file_find, with the video's account. */
#define STORE_SQLITE_OUTPUT_FILE_FIND_COLUMNS \
    "f.key, f.object_id, f.size, f.content_type, f.video_id, f.created_ms, v.account_id"

enum store_sqlite_output_file_col {
    OFC_KEY, OFC_OBJECT_ID, OFC_SIZE, OFC_CONTENT_TYPE, OFC_VIDEO_ID, OFC_CREATED_MS, OFC_ACCOUNT_ID,
};

/* The column list every delivery read selects, in store_sqlite_delivery_col
 * order, and the join it reads from (a delivery with its event and webhook). */
#define STORE_SQLITE_DELIVERY_COLUMNS                                                                  \
    "d.delivery_id, e.event_id, e.type, e.account_id, e.video_id, e.created_ms, e.data, d.webhook_id, " \
    "COALESCE(w.url, d.url), COALESCE(w.secret, k.secret_key), d.state, d.attempts, d.next_attempt_ms, "  \
    "d.last_status, d.last_error, d.last_attempt_ms, e.task_id, d.access_key"
/* A webhook's delivery has its webhook; a persistent job's notification has
 * its own url and the AccessKey whose secret signs it. */
#define STORE_SQLITE_DELIVERY_FROM                                                                      \
    " FROM deliveries d JOIN events e ON e.seq = d.event_seq LEFT JOIN webhooks w ON w.webhook_id = d.webhook_id" \
    " LEFT JOIN access_keys k ON k.access_key = d.access_key"

enum store_sqlite_delivery_col {
    DC_DELIVERY_ID, DC_EVENT_ID, DC_TYPE, DC_ACCOUNT_ID, DC_VIDEO_ID, DC_CREATED_MS, DC_DATA, DC_WEBHOOK_ID, DC_URL,
    DC_SECRET, DC_STATE, DC_ATTEMPTS, DC_NEXT_ATTEMPT_MS, DC_LAST_STATUS, DC_LAST_ERROR, DC_LAST_ATTEMPT_MS,
    DC_TASK_ID, DC_ACCESS_KEY,
};

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
    SQ_OUTPUT_OLD_OBJECT_KEY,
    SQ_OUTPUT_DELETE_FILE_KEY,
    SQ_OUTPUT_DELETE_LISTED_KEY,
    SQ_OUTPUT_NEXT_POSITION,
    SQ_TASK_INSERT,
    SQ_JOB_NOTIFY_EVENT,
    SQ_JOB_NOTIFY_DELIVERY,
    SQ_JOB_NOTIFY_STATE,
    SQ_TASK_CANCEL_UNFINISHED,
    SQ_TASK_GET,
    SQ_TASK_LATEST,
    SQ_TASK_EXPIRE_VIDEOS,
    SQ_TASK_EXPIRE,
    SQ_TASK_PICK,
    SQ_TASK_TAKE,
    SQ_TASK_HEARTBEAT,
    SQ_TASK_REQUEUE,
    SQ_TASK_FINISH,
    SQ_TASK_VIDEO_STATUS,
    SQ_TASK_VIDEO_SETTLE,
    SQ_OUTPUT_SET_PROBE,
    SQ_OUTPUT_OLD_OBJECTS,
    SQ_OUTPUT_DELETE_LISTED,
    SQ_OUTPUT_DELETE_FILES,
    SQ_OUTPUT_INSERT_FILE,
    SQ_OUTPUT_INSERT_LISTED,
    SQ_OUTPUT_CLASH,
    SQ_OUTPUT_OBJECT_SERVED,
    SQ_OUTPUT_LIST,
    SQ_OUTPUT_FILE_GET,
    SQ_WEBHOOK_INSERT,
    SQ_WEBHOOK_LIST,
    SQ_WEBHOOK_DELETE,
    SQ_EVENT_INSERT,
    SQ_DELIVERY_FANOUT,
    SQ_DELIVERY_PICK,
    SQ_DELIVERY_TAKE,
    SQ_DELIVERY_GET,
    SQ_DELIVERY_RECORD,
    SQ_DELIVERY_LIST,
    SQ_DELIVERY_PENDING,
    SQ_TASK_COUNT_UNFINISHED,
    SQ_DELIVERY_PRUNE,
    SQ_EVENT_PRUNE,
    SQ_EVENT_SET_DATA,
    SQ_EVENT_DATA,
    SQ_TASK_EXPIRING,
    SQ_VIDEO_OBJECTS,
    SQ_VIDEO_DELETE,
    SQ_VIDEO_EXPIRE,
    SQ_KEY_ACCOUNT_KEYS,
    SQ_KEY_DELETE,
    SQ_DOMAIN_DELETE,
    SQ_DOMAIN_PROMOTE,
    SQ_RESOURCE_DELETE,
    SQ_PLAYBACK_GET,
    SQ_PLAYBACK_SET,
    SQ_TUS_INSERT,
    SQ_TUS_COUNT_OPEN,
    SQ_TUS_GET,
    SQ_TUS_UPDATE,
    SQ_TUS_DELETE,
    SQ_TUS_EXPIRED,
    SQ_LINK_INSERT,
    SQ_LINK_GET,
    SQ_LINK_FILE_INSERT,
    SQ_LINK_USE,
    SQ_LINK_FILE_GET,
    SQ_COUNT
};

/* ---- types ---- */

/* One connection and its prepared statements, used by one thread at a time. */
typedef struct store_sqlite_conn {
    sqlite3 *db;
    sqlite3_stmt *stmts[SQ_COUNT];
} store_sqlite_conn_t;

typedef struct store_sqlite_write store_sqlite_write_t;

typedef struct store_sqlite_job store_sqlite_job_t; /* store_sqlite_writer.c */

typedef struct store_sqlite {
    store_t base; /* first, so a store_t * is a store_sqlite_t * */
    char *path;
    dev_t file_dev; /* the database file opened, so that the readiness check */
    ino_t file_ino; /* sees it deleted or replaced under the server */

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
    /* A job's own arguments and outputs (store_sqlite_tasks.c), borrowed
     * from the caller; the caller discards the outputs unless rc is
     * STORE_OK. */
    void *ctx;
    /* Outputs, valid only when rc is STORE_OK. */
    char *old_object_id;
    unsigned char secret[STORE_SQLITE_SECRET_LEN];
    char task_id[STORE_TASK_ID_LEN + 1]; /* video_set_uploaded's new task, "" for none */
    /* The hand-over from the writer thread to the caller. */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int rc;
};

/* ---- store_sqlite_conn.c: helpers every other file uses ---- */

int store_sqlite_map(sqlite3 *db, int src, const char *what);
int store_sqlite_prepare(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id, sqlite3_stmt **out);
void store_sqlite_release(sqlite3_stmt *st);
void store_sqlite_bind_text(sqlite3_stmt *st, int i, const char *s, int *err);
void store_sqlite_bind_int64(sqlite3_stmt *st, int i, int64_t v, int *err);
void store_sqlite_bind_double(sqlite3_stmt *st, int i, double v, int *err);
int store_sqlite_step_done(store_sqlite_conn_t *c, sqlite3_stmt *st, int err, const char *what);
int store_sqlite_exec(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id, const char *what);
void store_sqlite_rollback(store_sqlite_conn_t *c);
int store_sqlite_commit(store_sqlite_conn_t *c);
char *store_sqlite_col_text(sqlite3_stmt *st, int col, bool *ok);
bool store_sqlite_grow(void **items, size_t *cap, size_t count, size_t size);
bool store_sqlite_copy_field(char *dst, size_t dstlen, const char *src);
store_sqlite_conn_t *store_sqlite_reader_get(store_sqlite_t *s);
void store_sqlite_reader_put(store_sqlite_t *s, store_sqlite_conn_t *c);
void store_sqlite_conn_close(store_sqlite_conn_t *c);
int store_sqlite_conn_open(store_sqlite_conn_t *c, const char *path, int busy_ms, bool reader);
int store_sqlite_read_int64(store_sqlite_t *s, enum store_sqlite_stmt_id id, const char *text_arg,
                            int64_t *value, const char *what);

/* ---- store_sqlite_schema.c: called by store_sqlite_open ---- */

int store_sqlite_migrate(store_sqlite_conn_t *c);

/* ---- store_sqlite_writer.c: the queue, the thread, and the video_register op ---- */

int store_sqlite_write_sync(store_sqlite_t *s, store_sqlite_write_t *w);
void *store_sqlite_writer_main(void *arg);
void store_sqlite_video_register(store_t *base, const store_video_reg_t *reg, store_reg_done_fn done,
                                 void *arg);

/* ---- store_sqlite_keys.c: ops ---- */

int store_sqlite_key_create(store_t *base, const char *account_name, store_key_t *out);
int store_sqlite_key_list(store_t *base, store_key_list_t *out);
int store_sqlite_key_set_enabled(store_t *base, const char *access_key, bool enabled);
int store_sqlite_key_lookup(store_t *base, const char *access_key, store_key_t *out);
int store_sqlite_account_find(store_t *base, const char *name_or_key, int64_t *account_id);
int store_sqlite_account_count(store_t *base, int64_t *count);
int store_sqlite_domain_add(store_t *base, int64_t account_id, const char *name, bool make_default);
int store_sqlite_domain_list(store_t *base, int64_t account_id, store_domain_list_t *out);
int store_sqlite_domain_get(store_t *base, int64_t account_id, const char *name, store_domain_t *out);
int store_sqlite_playback_get(store_t *base, int64_t account_id, store_playback_t *out);
int store_sqlite_playback_set(store_t *base, int64_t account_id, int access, const unsigned char *new_key,
                              bool rotate, store_playback_t *out);

/* ---- store_sqlite_resources.c: ops ---- */

int store_sqlite_resource_add(store_t *base, int64_t account_id, int kind, const char *name,
                              const char *spec_json, store_resource_t *out);
int store_sqlite_resource_list(store_t *base, int64_t account_id, int kind, store_resource_list_t *out);
int store_sqlite_resource_get(store_t *base, int64_t account_id, int kind, const char *id,
                              store_resource_t *out);

/* ---- store_sqlite_videos.c: ops, and register_one for the writer thread ---- */

int store_sqlite_video_exists(store_sqlite_conn_t *c, int64_t account_id, const char *video_id);
int store_sqlite_video_set_uploading(store_t *base, int64_t account_id, const char *video_id);
int store_sqlite_video_set_uploaded(store_t *base, const store_video_upload_t *u, char **old_object_id);
int store_sqlite_video_set_failed(store_t *base, int64_t account_id, const char *video_id,
                                  const char *reason);
int store_sqlite_register_one(store_sqlite_conn_t *c, const store_video_reg_t *r,
                              store_video_reg_result_t *res);
int store_sqlite_video_get(store_t *base, int64_t account_id, const char *video_id, store_video_t *out);
int store_sqlite_video_find_by_key(store_t *base, int64_t account_id, const char *file_key,
                                   store_video_t *out);
int store_sqlite_object_in_use(store_t *base, const char *object_id, bool *in_use);
int store_sqlite_video_delete(store_t *base, int64_t account_id, const char *video_id, int64_t now_ms,
                              const char *event_data, store_id_list_t *objects);
int store_sqlite_video_expire(store_t *base, int64_t before_ms, int limit, int64_t *removed);
int store_sqlite_video_list(store_t *base, int64_t account_id, const store_video_filter_t *filter,
                            store_video_page_t *out);

/* ---- store_sqlite_secrets.c: ops ---- */

int store_sqlite_secret_get(store_t *base, const char *name, unsigned char out[32]);

/* ---- store_sqlite_tasks.c: ops, and what video_set_uploaded shares ---- */

bool store_sqlite_task_plan_valid(const char *plan_json);
int store_sqlite_task_cancel_unfinished(store_sqlite_conn_t *c, const char *video_id, int64_t now_ms);
bool store_sqlite_task_job_valid(const store_task_job_t *job);
int store_sqlite_task_insert(store_sqlite_conn_t *c, int64_t account_id, const char *video_id, const char *plan,
                             const store_task_job_t *job, int64_t now_ms, char task_id[STORE_TASK_ID_LEN + 1]);
int store_sqlite_task_enqueue(store_t *base, int64_t account_id, const char *video_id, const char *plan_json,
                              const store_task_job_t *job, int64_t now_ms, char task_id[STORE_TASK_ID_LEN + 1]);
int store_sqlite_task_claim(store_t *base, const char *worker_id, int64_t now_ms, int64_t lease_ms,
                            store_task_t *out);
int store_sqlite_task_heartbeat(store_t *base, const char *task_id, const char *worker_id, int64_t now_ms,
                                int64_t lease_ms, int progress);
int store_sqlite_task_succeed(store_t *base, const char *task_id, const char *worker_id, int64_t now_ms,
                              const store_task_result_t *result, store_id_list_t *old_objects);
int store_sqlite_task_fail(store_t *base, const char *task_id, const char *worker_id, int64_t now_ms,
                           const char *error, bool retryable);
int store_sqlite_task_cancel(store_t *base, int64_t account_id, const char *task_id, int64_t now_ms);
int store_sqlite_task_get(store_t *base, int64_t account_id, const char *task_id, store_task_t *out);
int store_sqlite_task_latest(store_t *base, int64_t account_id, const char *video_id, store_task_t *out);

/* ---- store_sqlite_outputs.c: ops, and what task_succeed's job shares ---- */

/*
 * A succeeding task's result on its way to the writer thread.  prepare
 * checks the result on the caller's thread (the writer thread, which every
 * upload waits on, only writes) and indexes it; run publishes it inside
 * task_succeed's job; release frees the index (old_objects is the caller's
 * to take or free).  release is due after any prepare, failed or not.
 */
typedef struct store_sqlite_publish {
    const store_task_result_t *result; /* NULL: publish no outputs, keep the probe fields */
    const char **keys;                 /* the result's file keys, sorted */
    const char **objects;              /* the result's object ids, sorted */
    store_id_list_t old_objects;       /* run's output: the replaced files' objects */
    size_t old_cap;                    /* old_objects' allocated items */
} store_sqlite_publish_t;

int store_sqlite_publish_prepare(store_sqlite_publish_t *p, const store_task_result_t *result);
int store_sqlite_publish_run(store_sqlite_conn_t *c, const char *video_id, int64_t now_ms,
                             store_sqlite_publish_t *p);
void store_sqlite_publish_release(store_sqlite_publish_t *p);
int store_sqlite_output_object_served(store_sqlite_conn_t *c, const char *object_id);
int store_sqlite_video_outputs(store_t *base, int64_t account_id, const char *video_id, store_output_list_t *out);
int store_sqlite_output_file_find(store_t *base, const char *key, store_output_file_t *out);

/* ---- store_sqlite_remove.c: ops ---- */

int store_sqlite_key_delete(store_t *base, const char *access_key);
int store_sqlite_domain_remove(store_t *base, int64_t account_id, const char *name);
int store_sqlite_resource_remove(store_t *base, int64_t account_id, int kind, const char *id);

/* ---- store_sqlite_events.c: ops, and the emit every reporting job calls ---- */

/* Writes an event of `type` about the video, with its deliveries, when a
 * webhook of the account subscribes to it (else writes nothing).  data:
 * NULL, or the event's data (JSON object text).  Inside a job. */
int store_sqlite_event_emit(store_sqlite_conn_t *c, int64_t account_id, const char *video_id, int type,
                            int64_t now_ms, const char *data);
/* A finished persistent job's PersistentNotify event and its delivery,
 * when the task has a notify_url (else nothing).  Inside a job. */
int store_sqlite_job_notify(store_sqlite_conn_t *c, const char *task_id, int64_t now_ms);
int store_sqlite_job_notify_state(store_t *base, const char *task_id, int *state);
int store_sqlite_webhook_add(store_t *base, int64_t account_id, const char *url, unsigned events, const char *secret,
                             store_webhook_t *out);
int store_sqlite_webhook_list(store_t *base, int64_t account_id, store_webhook_list_t *out);
int store_sqlite_webhook_remove(store_t *base, int64_t account_id, const char *webhook_id);
int store_sqlite_delivery_claim(store_t *base, const char *worker_id, int64_t now_ms, int64_t lease_ms,
                                store_delivery_t *out);
int store_sqlite_delivery_set_data(store_t *base, const char *event_id, const char *data, char **data_out);
int store_sqlite_delivery_record(store_t *base, int64_t delivery_id, const char *worker_id, int64_t now_ms,
                                 const store_delivery_attempt_t *a);
int store_sqlite_delivery_list(store_t *base, int64_t account_id, const char *webhook_id, size_t limit,
                               store_delivery_list_t *out);
int store_sqlite_delivery_pending_count(store_t *base, int64_t *count);
int store_sqlite_task_count(store_t *base, int state, int64_t *count);
int store_sqlite_check(store_t *base, int64_t *free_bytes);
int store_sqlite_delivery_prune(store_t *base, int64_t before_ms);

/* ---- store_sqlite_links.c: ops ---- */

int store_sqlite_link_create(store_t *base, const store_link_t *l);
int store_sqlite_link_get(store_t *base, const char *link_id, store_link_t *out);
int store_sqlite_link_claim(store_t *base, const char *link_id, const char *file_id, int64_t now_ms);
int store_sqlite_link_has_file(store_t *base, const char *link_id, const char *file_id);

/* ---- store_sqlite_tus.c: ops ---- */

int store_sqlite_tus_create(store_t *base, const store_tus_t *u, int64_t max_open);
int store_sqlite_tus_get(store_t *base, const char *upload_id, store_tus_t *out);
int store_sqlite_tus_update(store_t *base, const char *upload_id, const store_tus_progress_t *p);
int store_sqlite_tus_remove(store_t *base, const char *upload_id);
int store_sqlite_tus_expire(store_t *base, int64_t before_ms, int limit, store_id_list_t *removed);

#endif /* VODUP_STORE_SQLITE_INTERNAL_H */
