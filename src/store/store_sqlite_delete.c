/*
 * store_sqlite_delete: removing videos.  deleteVideo's one transaction
 * (store.h, video_delete): the VideoDeleted event first, then the video row, which
 * takes its tasks, listed outputs, served files and category links along
 * (ON DELETE CASCADE), after the ids of the objects that held its bytes are
 * read for the caller to remove.
 *
 * A worker still running the video's task finds its task gone at its next
 * heartbeat (and task_succeed refuses a gone task); an upload completing
 * after the delete finds no video (video_set_uploaded: STORE_NOT_FOUND) and
 * removes its object.  So a delete racing either leaves no row, and no
 * object that a row names.
 *
 * And the expiry of registrations never uploaded (video_expire): they hold
 * no object, no output and no event, so removing the row is all there is.
 */
#include "store/store_sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

/* One delete job's arguments and outputs, on the waiting caller's stack. */
typedef struct store_sqlite_delete_job {
    int64_t account_id;
    const char *video_id;
    const char *event_data;
    int64_t now_ms;
    store_id_list_t objects;
} store_sqlite_delete_job_t;

static int store_sqlite_delete_objects(store_sqlite_conn_t *c, store_sqlite_delete_job_t *j)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_OBJECTS, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK, src;
    size_t cap = 0;
    bool ok = true;
    store_sqlite_bind_text(st, 1, j->video_id, &err);
    store_sqlite_bind_int64(st, 2, j->account_id, &err);
    while (ok && (src = err != SQLITE_OK ? err : sqlite3_step(st)) == SQLITE_ROW) {
        ok = store_sqlite_grow((void **)&j->objects.items, &cap, j->objects.count, sizeof(char *));
        if (ok)
            j->objects.items[j->objects.count++] = store_sqlite_col_text(st, 0, &ok);
    }
    rc = !ok ? STORE_ERROR : src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "video objects");
    store_sqlite_release(st);
    return rc;
}

static int store_sqlite_run_video_delete(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_delete_job_t *j = w->ctx;
    int rc = store_sqlite_video_exists(c, j->account_id, j->video_id);
    if (rc == STORE_OK)
        rc = store_sqlite_delete_objects(c, j);
    if (rc == STORE_OK)
        rc = store_sqlite_event_emit(c, j->account_id, j->video_id, STORE_EVENT_VIDEO_DELETED, j->now_ms,
                                     j->event_data);
    sqlite3_stmt *st;
    if (rc == STORE_OK)
        rc = store_sqlite_prepare(c, SQ_VIDEO_DELETE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, j->video_id, &err);
    store_sqlite_bind_int64(st, 2, j->account_id, &err);
    return store_sqlite_step_done(c, st, err, "delete video");
}

int store_sqlite_video_delete(store_t *base, int64_t account_id, const char *video_id, int64_t now_ms,
                              const char *event_data, store_id_list_t *objects)
{
    if (objects)
        memset(objects, 0, sizeof(*objects));
    if (!video_id)
        return STORE_INVALID;
    store_sqlite_delete_job_t j = {
        .account_id = account_id, .video_id = video_id, .event_data = event_data, .now_ms = now_ms};
    store_sqlite_write_t w = {.run = store_sqlite_run_video_delete, .ctx = &j};
    int rc = store_sqlite_write_sync((store_sqlite_t *)base, &w);
    /* A job whose batch failed after it ran deleted nothing. */
    if (rc == STORE_OK && objects)
        *objects = j.objects;
    else
        store_id_list_free(&j.objects);
    return rc;
}

typedef struct store_sqlite_expire_job {
    int64_t before_ms;
    int limit;
    int64_t removed;
} store_sqlite_expire_job_t;

static int store_sqlite_run_video_expire(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_expire_job_t *j = w->ctx;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_EXPIRE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, j->before_ms, &err);
    store_sqlite_bind_int64(st, 2, j->limit, &err);
    rc = store_sqlite_step_done(c, st, err, "expire registrations");
    j->removed = rc == STORE_OK ? sqlite3_changes(c->db) : 0;
    return rc;
}

int store_sqlite_video_expire(store_t *base, int64_t before_ms, int limit, int64_t *removed)
{
    *removed = 0;
    if (limit <= 0)
        return STORE_INVALID;
    store_sqlite_expire_job_t j = {.before_ms = before_ms, .limit = limit};
    store_sqlite_write_t w = {.run = store_sqlite_run_video_expire, .ctx = &j};
    int rc = store_sqlite_write_sync((store_sqlite_t *)base, &w);
    if (rc == STORE_OK)
        *removed = j.removed;
    return rc;
}
