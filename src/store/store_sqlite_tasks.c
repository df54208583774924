/*
 * store_sqlite_tasks: the processing tasks, a durable queue in the tasks
 * table.  Queueing one (alone for reprocessVideo, or inside
 * video_set_uploaded's job so that the upload and its task commit
 * together), a worker's claim, heartbeat, success and failure, cancelTask,
 * and the reads of one task or of a video's latest.
 *
 * A killed worker's task is requeued by its lease running out: task_claim
 * takes a running task whose lease expired as readily as a queued one, so
 * there is no requeue sweep to schedule, and a restarted server resumes the
 * work simply by claiming.
 *
 * Every write is a job of the writer thread, run inside the batch's
 * transaction and its own savepoint: it must never begin or commit a
 * transaction itself.  A job that finds nothing to do still returns
 * STORE_OK (and says so in its context) whenever it wrote something first,
 * because a failing job's savepoint is rolled back and its writes with it.
 * It must never return another account's task to an account-scoped call.
 */
#include "store/store_sqlite_internal.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/ids.h"

#define STORE_SQLITE_TASK_HEX "0123456789abcdef"
#define STORE_SQLITE_TASK_PROGRESS_MAX 100

/* What a task whose worker vanished on its last attempt fails with. */
#define STORE_SQLITE_TASK_WORKER_LOST "worker lost: the task's lease ran out on its last attempt"

/* The wait before the next attempt, indexed by the attempts made - 1: long
 * enough for a full disk or a busy host to recover, short enough that a
 * user still sees the video processed within minutes. */
static const int64_t store_sqlite_task_backoff_ms[STORE_TASK_MAX_ATTEMPTS - 1] = {10000, 60000};

/* One task job's arguments and outputs; it lives on the waiting caller's
 * stack (store_sqlite_write_t.ctx). */
typedef struct store_sqlite_task_job {
    int64_t account_id; /* -1 for the worker's calls, which know only the task */
    const char *task_id;
    const char *video_id;
    const char *worker_id;
    const char *text; /* the plan (enqueue) or the error (fail) */
    int64_t now_ms;
    int64_t lease_ms;
    int progress;
    bool retryable;
    bool found;          /* claim: whether a task was taken */
    store_task_t *out;   /* claim's result */
    store_sqlite_publish_t *publish; /* succeed's result, checked already */
    const store_task_job_t *job;     /* enqueue's */
    char new_task_id[STORE_TASK_ID_LEN + 1];
} store_sqlite_task_job_t;

/* ---- statements ---- */

static int store_sqlite_task_row(sqlite3_stmt *st, store_task_t *out)
{
    bool ok = true;
    memset(out, 0, sizeof(*out));
    out->task_id = store_sqlite_col_text(st, TC_TASK_ID, &ok);
    out->account_id = sqlite3_column_int64(st, TC_ACCOUNT_ID);
    out->video_id = store_sqlite_col_text(st, TC_VIDEO_ID, &ok);
    out->state = store_task_state_parse((const char *)sqlite3_column_text(st, TC_STATE));
    out->plan = store_sqlite_col_text(st, TC_PLAN, &ok);
    out->attempts = sqlite3_column_int(st, TC_ATTEMPTS);
    out->error = store_sqlite_col_text(st, TC_ERROR, &ok);
    out->progress = sqlite3_column_int(st, TC_PROGRESS);
    out->lease_owner = store_sqlite_col_text(st, TC_LEASE_OWNER, &ok);
    out->lease_expires_ms = sqlite3_column_int64(st, TC_LEASE_EXPIRES_MS);
    out->next_attempt_ms = sqlite3_column_int64(st, TC_NEXT_ATTEMPT_MS);
    out->created_ms = sqlite3_column_int64(st, TC_CREATED_MS);
    out->started_ms = sqlite3_column_int64(st, TC_STARTED_MS);
    out->finished_ms = sqlite3_column_int64(st, TC_FINISHED_MS);
    out->fops = store_sqlite_col_text(st, TC_FOPS, &ok);
    out->notify_url = store_sqlite_col_text(st, TC_NOTIFY_URL, &ok);
    out->access_key = store_sqlite_col_text(st, TC_ACCESS_KEY, &ok);
    /* The CHECK constraint keeps state valid; -1 means a damaged file. */
    if (!ok || out->state < 0) {
        store_task_free(out);
        return STORE_ERROR;
    }
    return STORE_OK;
}

/* Reads the one task that statement `id` selects with ?1 = text and ?2 =
 * account_id, on connection c; STORE_NOT_FOUND when there is none. */
static int store_sqlite_task_read(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id, const char *text,
                                  int64_t account_id, store_task_t *out)
{
    memset(out, 0, sizeof(*out));
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, text, &err);
    store_sqlite_bind_int64(st, 2, account_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = store_sqlite_task_row(st, out);
    else
        rc = src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "read task");
    store_sqlite_release(st);
    return rc;
}

/* Sets a video's status and failReason (NULL clears it). */
static int store_sqlite_task_video_status(store_sqlite_conn_t *c, const char *video_id, const char *status,
                                          const char *fail_reason)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TASK_VIDEO_STATUS, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    store_sqlite_bind_text(st, 2, status, &err);
    store_sqlite_bind_text(st, 3, fail_reason, &err);
    return store_sqlite_step_done(c, st, err, "set video status");
}

/* A video with no task in progress: ready if a task of it ever succeeded,
 * else uploaded. */
static int store_sqlite_task_video_settle(store_sqlite_conn_t *c, const char *video_id)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TASK_VIDEO_SETTLE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    return store_sqlite_step_done(c, st, err, "settle video status");
}

/* Makes a task final: succeeded, failed or canceled. */
static int store_sqlite_task_finish(store_sqlite_conn_t *c, const store_task_t *t, int state, const char *error,
                                    int progress, int64_t now_ms)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TASK_FINISH, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, t->task_id, &err);
    store_sqlite_bind_text(st, 2, store_task_state_name(state), &err);
    store_sqlite_bind_text(st, 3, error, &err);
    store_sqlite_bind_int64(st, 4, progress, &err);
    store_sqlite_bind_int64(st, 5, now_ms, &err);
    return store_sqlite_step_done(c, st, err, "finish task");
}

/* ---- queueing: shared with video_set_uploaded ---- */

/* The plan must be a JSON object: the processing stage parses it later, and
 * a bad one would only surface there, far from its cause. */
bool store_sqlite_task_plan_valid(const char *plan_json)
{
    json_t *j = plan_json ? json_loads(plan_json, JSON_REJECT_DUPLICATES, NULL) : NULL;
    bool ok = j && json_is_object(j);
    json_decref(j);
    return ok;
}

/* Cancels the video's queued or running task, if any, without touching the
 * video: the caller decides its status.  A worker still running it learns
 * at its next heartbeat. */
int store_sqlite_task_cancel_unfinished(store_sqlite_conn_t *c, const char *video_id, int64_t now_ms)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TASK_CANCEL_UNFINISHED, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    store_sqlite_bind_int64(st, 2, now_ms, &err);
    return store_sqlite_step_done(c, st, err, "cancel unfinished task");
}

/* Inserts a queued task for the video (whose unfinished task the caller has
 * canceled: tasks_one_unfinished refuses a second).  A clash of random ids
 * is retried with a fresh one. */
int store_sqlite_task_insert(store_sqlite_conn_t *c, int64_t account_id, const char *video_id, const char *plan,
                             const store_task_job_t *job, int64_t now_ms, char task_id[STORE_TASK_ID_LEN + 1])
{
    int rc = STORE_EXISTS;
    for (int i = 0; i < STORE_SQLITE_ID_RETRIES && rc == STORE_EXISTS; i++) {
        if (!ids_random_string("tk", STORE_SQLITE_TASK_HEX, STORE_TASK_ID_LEN, task_id))
            return STORE_ERROR;
        sqlite3_stmt *st;
        rc = store_sqlite_prepare(c, SQ_TASK_INSERT, &st);
        if (rc != STORE_OK)
            return rc;
        int err = SQLITE_OK;
        store_sqlite_bind_text(st, 1, task_id, &err);
        store_sqlite_bind_int64(st, 2, account_id, &err);
        store_sqlite_bind_text(st, 3, video_id, &err);
        store_sqlite_bind_text(st, 4, plan, &err);
        store_sqlite_bind_int64(st, 5, now_ms, &err);
        store_sqlite_bind_text(st, 6, job ? job->fops : NULL, &err);
        store_sqlite_bind_text(st, 7, job ? job->notify_url : NULL, &err);
        store_sqlite_bind_text(st, 8, job ? job->access_key : NULL, &err);
        rc = store_sqlite_step_done(c, st, err, "insert task");
    }
    if (rc != STORE_OK)
        task_id[0] = '\0';
    return rc;
}

/* The video must have uploaded bytes: a task without them has nothing to
 * process. */
static int store_sqlite_task_video_has_bytes(store_sqlite_conn_t *c, int64_t account_id, const char *video_id)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_OBJECT, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    store_sqlite_bind_int64(st, 2, account_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = sqlite3_column_type(st, 0) == SQLITE_NULL ? STORE_CONFLICT : STORE_OK;
    else
        rc = src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "find video object");
    store_sqlite_release(st);
    return rc;
}

static int store_sqlite_run_task_enqueue(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_task_job_t *j = w->ctx;
    int rc = store_sqlite_task_video_has_bytes(c, j->account_id, j->video_id);
    if (rc == STORE_OK)
        rc = store_sqlite_task_cancel_unfinished(c, j->video_id, j->now_ms);
    if (rc == STORE_OK)
        rc = store_sqlite_task_insert(c, j->account_id, j->video_id, j->text, j->job, j->now_ms, j->new_task_id);
    /* Until the new task is claimed the video shows what it has now. */
    if (rc == STORE_OK)
        rc = store_sqlite_task_video_settle(c, j->video_id);
    return rc;
}

/* ---- claiming ---- */

typedef struct store_sqlite_expiring {
    int64_t account_id;
    char *video_id;
    char *task_id;
} store_sqlite_expiring_t;

/* The tasks about to be failed for a lost worker (few: tasks of workers
 * that died on a last attempt), read whole before anything is written. */
static int store_sqlite_task_expiring(store_sqlite_conn_t *c, int64_t now_ms, store_sqlite_expiring_t **rows,
                                      size_t *n)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TASK_EXPIRING, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK, src;
    size_t cap = 0;
    bool ok = true;
    store_sqlite_bind_int64(st, 1, now_ms, &err);
    store_sqlite_bind_int64(st, 2, STORE_TASK_MAX_ATTEMPTS, &err);
    while (ok && (src = err != SQLITE_OK ? err : sqlite3_step(st)) == SQLITE_ROW) {
        ok = store_sqlite_grow((void **)rows, &cap, *n, sizeof(**rows));
        if (ok) {
            (*rows)[*n].account_id = sqlite3_column_int64(st, 0);
            (*rows)[*n].video_id = store_sqlite_col_text(st, 1, &ok);
            (*rows)[(*n)++].task_id = store_sqlite_col_text(st, 2, &ok);
        }
    }
    rc = !ok ? STORE_ERROR : src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "expiring tasks");
    store_sqlite_release(st);
    return rc;
}

/* A ProcessingFailed event for each task about to be failed for a lost
 * worker, and its notification when it is a persistent job. */
static int store_sqlite_task_report_expiring(store_sqlite_conn_t *c, int64_t now_ms)
{
    store_sqlite_expiring_t *rows = NULL;
    size_t n = 0;
    int rc = store_sqlite_task_expiring(c, now_ms, &rows, &n);
    for (size_t i = 0; rc == STORE_OK && i < n; i++) {
        rc = rows[i].video_id && rows[i].task_id ? store_sqlite_event_emit(c, rows[i].account_id, rows[i].video_id,
                                                                           STORE_EVENT_PROCESSING_FAILED, now_ms, NULL)
                                                 : STORE_ERROR;
        if (rc == STORE_OK)
            rc = store_sqlite_job_notify(c, rows[i].task_id, now_ms);
    }
    for (size_t i = 0; i < n; i++) {
        free(rows[i].video_id);
        free(rows[i].task_id);
    }
    free(rows);
    return rc;
}

/* Fails the running tasks whose lease ran out on their last attempt, and
 * their videos: claiming them again would exceed the attempts allowed. */
static int store_sqlite_task_expire_exhausted(store_sqlite_conn_t *c, int64_t now_ms)
{
    static const enum store_sqlite_stmt_id ids[] = {SQ_TASK_EXPIRE_VIDEOS, SQ_TASK_EXPIRE};
    int rc0 = store_sqlite_task_report_expiring(c, now_ms);
    if (rc0 != STORE_OK)
        return rc0;
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        sqlite3_stmt *st;
        int rc = store_sqlite_prepare(c, ids[i], &st);
        if (rc != STORE_OK)
            return rc;
        int err = SQLITE_OK;
        store_sqlite_bind_int64(st, 1, now_ms, &err);
        store_sqlite_bind_int64(st, 2, STORE_TASK_MAX_ATTEMPTS, &err);
        store_sqlite_bind_text(st, 3, STORE_SQLITE_TASK_WORKER_LOST, &err);
        rc = store_sqlite_step_done(c, st, err, "expire exhausted tasks");
        if (rc != STORE_OK)
            return rc;
    }
    return STORE_OK;
}

/* The id of the task to claim next, or "" when none is due. */
static int store_sqlite_task_pick(store_sqlite_conn_t *c, int64_t now_ms, char task_id[STORE_TASK_ID_LEN + 1])
{
    task_id[0] = '\0';
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TASK_PICK, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, now_ms, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = store_sqlite_copy_field(task_id, STORE_TASK_ID_LEN + 1, (const char *)sqlite3_column_text(st, 0))
                 ? STORE_OK
                 : STORE_ERROR;
    else if (src != SQLITE_DONE)
        rc = store_sqlite_map(c->db, src, "pick task");
    store_sqlite_release(st);
    return rc;
}

static int store_sqlite_task_take(store_sqlite_conn_t *c, const store_sqlite_task_job_t *j, const char *task_id)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TASK_TAKE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, task_id, &err);
    store_sqlite_bind_text(st, 2, j->worker_id, &err);
    store_sqlite_bind_int64(st, 3, j->now_ms + j->lease_ms, &err);
    store_sqlite_bind_int64(st, 4, j->now_ms, &err);
    return store_sqlite_step_done(c, st, err, "take task");
}

/* Nothing due is STORE_OK with found false: the exhausted tasks failed on
 * the way must stay failed, and a job's error would roll them back. */
static int store_sqlite_run_task_claim(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_task_job_t *j = w->ctx;
    char task_id[STORE_TASK_ID_LEN + 1];
    int rc = store_sqlite_task_expire_exhausted(c, j->now_ms);
    if (rc == STORE_OK)
        rc = store_sqlite_task_pick(c, j->now_ms, task_id);
    if (rc != STORE_OK || !task_id[0])
        return rc;
    rc = store_sqlite_task_take(c, j, task_id);
    if (rc == STORE_OK)
        rc = store_sqlite_task_read(c, SQ_TASK_GET, task_id, -1, j->out);
    if (rc == STORE_OK)
        rc = store_sqlite_task_video_status(c, j->out->video_id, "processing", NULL);
    j->found = rc == STORE_OK;
    return rc == STORE_NOT_FOUND ? STORE_ERROR : rc; /* just taken: it cannot be missing */
}

/* ---- the worker's reports ---- */

/* Reads the task into t if it is still this worker's: running under its
 * lease.  STORE_CONFLICT when canceled, finished or claimed by another. */
static int store_sqlite_task_owned(store_sqlite_conn_t *c, const store_sqlite_task_job_t *j, store_task_t *t)
{
    int rc = store_sqlite_task_read(c, SQ_TASK_GET, j->task_id, -1, t);
    if (rc != STORE_OK)
        return rc;
    if (t->state == STORE_TASK_RUNNING && t->lease_owner && !strcmp(t->lease_owner, j->worker_id))
        return STORE_OK;
    store_task_free(t);
    return STORE_CONFLICT;
}

static int store_sqlite_run_task_heartbeat(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_task_job_t *j = w->ctx;
    store_task_t t;
    int rc = store_sqlite_task_owned(c, j, &t);
    if (rc != STORE_OK)
        return rc;
    sqlite3_stmt *st;
    rc = store_sqlite_prepare(c, SQ_TASK_HEARTBEAT, &st);
    if (rc == STORE_OK) {
        int err = SQLITE_OK;
        store_sqlite_bind_text(st, 1, t.task_id, &err);
        store_sqlite_bind_int64(st, 2, j->now_ms + j->lease_ms, &err);
        store_sqlite_bind_int64(st, 3, j->progress, &err);
        rc = store_sqlite_step_done(c, st, err, "task heartbeat");
    }
    store_task_free(&t);
    return rc;
}

/* The task, the video and the outputs change in one job: its savepoint
 * takes all three back if any fails (a key another video has, say), so a
 * video is never `ready` without its outputs nor lists half of them. */
static int store_sqlite_run_task_succeed(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_task_job_t *j = w->ctx;
    store_task_t t;
    int rc = store_sqlite_task_owned(c, j, &t);
    if (rc != STORE_OK)
        return rc;
    rc = store_sqlite_task_finish(c, &t, STORE_TASK_SUCCEEDED, NULL, STORE_SQLITE_TASK_PROGRESS_MAX, j->now_ms);
    if (rc == STORE_OK)
        rc = store_sqlite_task_video_status(c, t.video_id, "ready", NULL);
    if (rc == STORE_OK)
        rc = store_sqlite_publish_run(c, t.video_id, j->now_ms, j->publish);
    if (rc == STORE_OK)
        rc = store_sqlite_event_emit(c, t.account_id, t.video_id, STORE_EVENT_PROCESSING_COMPLETE, j->now_ms, NULL);
    if (rc == STORE_OK)
        rc = store_sqlite_job_notify(c, t.task_id, j->now_ms);
    store_task_free(&t);
    return rc;
}

/* Back to queued, claimable after the back-off for the attempts made.  The
 * video stays `processing`: its processing is not over. */
static int store_sqlite_task_requeue(store_sqlite_conn_t *c, const store_task_t *t, const char *error,
                                     int64_t now_ms)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_TASK_REQUEUE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, t->task_id, &err);
    store_sqlite_bind_text(st, 2, error, &err);
    store_sqlite_bind_int64(st, 3, now_ms + store_sqlite_task_backoff_ms[t->attempts - 1], &err);
    return store_sqlite_step_done(c, st, err, "requeue task");
}

static int store_sqlite_run_task_fail(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_task_job_t *j = w->ctx;
    store_task_t t;
    int rc = store_sqlite_task_owned(c, j, &t);
    if (rc != STORE_OK)
        return rc;
    /* attempts >= 1 here: the task was claimed to be running. */
    if (j->retryable && t.attempts >= 1 && t.attempts < STORE_TASK_MAX_ATTEMPTS) {
        rc = store_sqlite_task_requeue(c, &t, j->text, j->now_ms);
    } else {
        rc = store_sqlite_task_finish(c, &t, STORE_TASK_FAILED, j->text, t.progress, j->now_ms);
        if (rc == STORE_OK)
            rc = store_sqlite_task_video_status(c, t.video_id, "failed", j->text);
        if (rc == STORE_OK)
            rc = store_sqlite_event_emit(c, t.account_id, t.video_id, STORE_EVENT_PROCESSING_FAILED, j->now_ms, NULL);
        if (rc == STORE_OK)
            rc = store_sqlite_job_notify(c, t.task_id, j->now_ms);
    }
    store_task_free(&t);
    return rc;
}

static int store_sqlite_run_task_cancel(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_task_job_t *j = w->ctx;
    store_task_t t;
    int rc = store_sqlite_task_read(c, SQ_TASK_GET, j->task_id, j->account_id, &t);
    if (rc != STORE_OK)
        return rc;
    if (store_task_state_finished(t.state)) {
        rc = STORE_CONFLICT;
    } else {
        rc = store_sqlite_task_finish(c, &t, STORE_TASK_CANCELED, t.error, t.progress, j->now_ms);
        if (rc == STORE_OK)
            rc = store_sqlite_task_video_settle(c, t.video_id);
    }
    store_task_free(&t);
    return rc;
}

/* ---- ops ---- */

/* Runs a task job on the writer thread and waits until it is durable. */
static int store_sqlite_task_write(store_t *base, store_sqlite_write_fn run, store_sqlite_task_job_t *j)
{
    store_sqlite_write_t w = {.run = run, .ctx = j};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}

bool store_sqlite_task_job_valid(const store_task_job_t *job)
{
    return !job || (job->fops && job->fops[0] && (!job->notify_url || (job->access_key && job->access_key[0])));
}

int store_sqlite_task_enqueue(store_t *base, int64_t account_id, const char *video_id, const char *plan_json,
                              const store_task_job_t *job, int64_t now_ms, char task_id[STORE_TASK_ID_LEN + 1])
{
    if (task_id)
        task_id[0] = '\0';
    if (!video_id || !store_sqlite_task_plan_valid(plan_json) || !store_sqlite_task_job_valid(job))
        return STORE_INVALID;
    store_sqlite_task_job_t j = {
        .account_id = account_id, .video_id = video_id, .text = plan_json, .job = job, .now_ms = now_ms};
    int rc = store_sqlite_task_write(base, store_sqlite_run_task_enqueue, &j);
    if (rc == STORE_OK && task_id)
        memcpy(task_id, j.new_task_id, sizeof(j.new_task_id));
    return rc;
}

int store_sqlite_task_claim(store_t *base, const char *worker_id, int64_t now_ms, int64_t lease_ms,
                            store_task_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!worker_id || !worker_id[0] || lease_ms <= 0 || now_ms < 0 || now_ms > INT64_MAX - lease_ms)
        return STORE_INVALID;
    store_sqlite_task_job_t j = {.worker_id = worker_id, .now_ms = now_ms, .lease_ms = lease_ms, .out = out};
    int rc = store_sqlite_task_write(base, store_sqlite_run_task_claim, &j);
    if (rc == STORE_OK && !j.found)
        rc = STORE_NOT_FOUND;
    if (rc != STORE_OK)
        store_task_free(out); /* a batch that failed after the job ran keeps nothing */
    return rc;
}

int store_sqlite_task_heartbeat(store_t *base, const char *task_id, const char *worker_id, int64_t now_ms,
                                int64_t lease_ms, int progress)
{
    if (!task_id || !worker_id || lease_ms <= 0 || now_ms < 0 || now_ms > INT64_MAX - lease_ms || progress < 0 ||
        progress > STORE_SQLITE_TASK_PROGRESS_MAX)
        return STORE_INVALID;
    store_sqlite_task_job_t j = {
        .task_id = task_id, .worker_id = worker_id, .now_ms = now_ms, .lease_ms = lease_ms, .progress = progress};
    return store_sqlite_task_write(base, store_sqlite_run_task_heartbeat, &j);
}

int store_sqlite_task_succeed(store_t *base, const char *task_id, const char *worker_id, int64_t now_ms,
                              const store_task_result_t *result, store_id_list_t *old_objects)
{
    if (old_objects)
        memset(old_objects, 0, sizeof(*old_objects));
    if (!task_id || !worker_id)
        return STORE_INVALID;
    store_sqlite_publish_t p;
    int rc = store_sqlite_publish_prepare(&p, result);
    if (rc == STORE_OK) {
        store_sqlite_task_job_t j = {.task_id = task_id, .worker_id = worker_id, .now_ms = now_ms, .publish = &p};
        rc = store_sqlite_task_write(base, store_sqlite_run_task_succeed, &j);
    }
    /* A job whose batch failed after it ran replaced nothing. */
    if (rc == STORE_OK && old_objects)
        *old_objects = p.old_objects;
    else
        store_id_list_free(&p.old_objects);
    store_sqlite_publish_release(&p);
    return rc;
}

int store_sqlite_task_fail(store_t *base, const char *task_id, const char *worker_id, int64_t now_ms,
                           const char *error, bool retryable)
{
    if (!task_id || !worker_id || !error || !error[0])
        return STORE_INVALID;
    store_sqlite_task_job_t j = {
        .task_id = task_id, .worker_id = worker_id, .now_ms = now_ms, .text = error, .retryable = retryable};
    return store_sqlite_task_write(base, store_sqlite_run_task_fail, &j);
}

int store_sqlite_task_cancel(store_t *base, int64_t account_id, const char *task_id, int64_t now_ms)
{
    /* account_id < 0 means "any" to SQ_TASK_GET: never from this call. */
    if (!task_id || account_id < 0)
        return task_id ? STORE_NOT_FOUND : STORE_INVALID;
    store_sqlite_task_job_t j = {.account_id = account_id, .task_id = task_id, .now_ms = now_ms};
    return store_sqlite_task_write(base, store_sqlite_run_task_cancel, &j);
}

/* A read on a pooled connection. */
static int store_sqlite_task_read_pooled(store_t *base, enum store_sqlite_stmt_id id, const char *text,
                                         int64_t account_id, store_task_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!text)
        return STORE_INVALID;
    /* "Any account" is for the worker's writes and a job's status (task_get
     * by its id, the capability), never for a video's latest task. */
    if (account_id < 0 && id != SQ_TASK_GET)
        return STORE_NOT_FOUND;
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    int rc = store_sqlite_task_read(c, id, text, account_id, out);
    store_sqlite_reader_put(s, c);
    return rc;
}

int store_sqlite_task_get(store_t *base, int64_t account_id, const char *task_id, store_task_t *out)
{
    return store_sqlite_task_read_pooled(base, SQ_TASK_GET, task_id, account_id, out);
}

int store_sqlite_task_latest(store_t *base, int64_t account_id, const char *video_id, store_task_t *out)
{
    return store_sqlite_task_read_pooled(base, SQ_TASK_LATEST, video_id, account_id, out);
}
