/*
 * store_sqlite_videos: the videos table and the categories linked to it.
 * Registration (one job of the writer thread's batch: a new video, or a
 * resumed one found by fileId), the upload path's state changes (uploading,
 * uploaded with its processing task, failed: synchronous jobs of the writer
 * thread), and the reads:
 * one video by id or by fileKey, a filtered page of them, and whether a blob
 * object still belongs to a video.
 *
 * Its writes run only as jobs on the writer thread, inside the batch's
 * transaction and their own savepoint: it must never begin or commit a
 * transaction on the write connection itself.  It must never return another
 * account's video (find_by_key with account_id < 0, for the playback origin,
 * is the one read across accounts), and never answer "not in use" for an
 * object it could not check.
 */
#include "store/store_sqlite_internal.h"

#include "common/video_status.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the upload path: synchronous writes through the writer thread ---- */

/* STORE_OK when the account has the video, else STORE_NOT_FOUND: tells "no
 * change was due" from "no such video" after an UPDATE changed no row. */
int store_sqlite_video_exists(store_sqlite_conn_t *c, int64_t account_id, const char *video_id)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_EXISTS, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    store_sqlite_bind_int64(st, 2, account_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    if (src == SQLITE_ROW)
        return STORE_OK;
    return src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "find video");
}

/* Runs an UPDATE bound to (?1 video_id, ?2 account_id[, ?3 text]); a
 * statement that changed no row answers whether the video exists. */
static int store_sqlite_video_update(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id,
                                     const store_sqlite_write_t *w, const char *what)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, w->video_id, &err);
    store_sqlite_bind_int64(st, 2, w->account_id, &err);
    if (w->text)
        store_sqlite_bind_text(st, 3, w->text, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    if (src != SQLITE_DONE)
        return store_sqlite_map(c->db, src, what);
    if (sqlite3_changes(c->db) > 0)
        return STORE_OK;
    return store_sqlite_video_exists(c, w->account_id, w->video_id);
}

static int store_sqlite_run_set_uploading(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    return store_sqlite_video_update(c, SQ_VIDEO_SET_UPLOADING, w, "set video uploading");
}

static int store_sqlite_run_set_failed(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    return store_sqlite_video_update(c, SQ_VIDEO_SET_FAILED, w, "set video failed");
}

/* The old bytes' unfinished task is canceled (its outputs would describe
 * bytes that are gone), and the new bytes' task queued in the same
 * transaction as the upload itself: a crash cannot separate the two. */
static int store_sqlite_upload_queue_task(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    const store_video_upload_t *u = w->upload;
    int rc = store_sqlite_task_cancel_unfinished(c, u->video_id, u->now_ms);
    if (rc == STORE_OK && u->task_plan)
        rc = store_sqlite_task_insert(c, u->account_id, u->video_id, u->task_plan, u->task_job, u->now_ms, w->task_id);
    return rc;
}

/* The check and the set run in one transaction, which holds the database's
 * write lock throughout (BEGIN IMMEDIATE): no other upload, thread or
 * process can publish between them. */
static int store_sqlite_run_set_uploaded(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    const store_video_upload_t *u = w->upload;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_OBJECT, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, u->video_id, &err);
    store_sqlite_bind_int64(st, 2, u->account_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src != SQLITE_ROW) {
        store_sqlite_release(st);
        return src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "find video object");
    }
    bool ok = true;
    char *old = store_sqlite_col_text(st, 0, &ok);
    store_sqlite_release(st);
    if (!ok)
        return STORE_ERROR;
    if (old && !u->overwrite) {
        free(old);
        return STORE_CONFLICT;
    }
    /* Publishing the same object again replaces nothing: reporting it as
     * replaced would have the caller delete the bytes it just published. */
    if (old && !strcmp(old, u->object_id)) {
        free(old);
        old = NULL;
    }

    /* An object is never shared, with an output file either: replacing
     * that file would remove this upload's bytes. */
    rc = store_sqlite_output_object_served(c, u->object_id);
    if (rc != STORE_OK)
        goto out;
    rc = store_sqlite_prepare(c, SQ_VIDEO_SET_UPLOADED, &st);
    if (rc != STORE_OK)
        goto out;
    store_sqlite_bind_text(st, 1, u->video_id, &err);
    store_sqlite_bind_int64(st, 2, u->account_id, &err);
    store_sqlite_bind_int64(st, 3, u->size, &err);
    store_sqlite_bind_text(st, 4, u->md5, &err);
    store_sqlite_bind_text(st, 5, u->etag, &err);
    store_sqlite_bind_text(st, 6, u->mime_type, &err);
    store_sqlite_bind_text(st, 7, u->object_id, &err);
    store_sqlite_bind_int64(st, 8, u->now_ms, &err);
    src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    /* STORE_EXISTS here: the object already belongs to another video. */
    rc = src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "set video uploaded");
    if (rc == STORE_OK)
        rc = store_sqlite_upload_queue_task(c, w);
    if (rc == STORE_OK)
        rc = store_sqlite_event_emit(c, u->account_id, u->video_id, STORE_EVENT_UPLOAD_COMPLETE, u->now_ms, NULL);
out:
    if (rc == STORE_OK)
        w->old_object_id = old;
    else
        free(old);
    return rc;
}

int store_sqlite_video_set_uploading(store_t *base, int64_t account_id, const char *video_id)
{
    if (!video_id)
        return STORE_INVALID;
    store_sqlite_write_t w = {.run = store_sqlite_run_set_uploading, .account_id = account_id, .video_id = video_id};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}

int store_sqlite_video_set_uploaded(store_t *base, const store_video_upload_t *u, char **old_object_id)
{
    if (old_object_id)
        *old_object_id = NULL;
    if (u && u->task_id)
        u->task_id[0] = '\0';
    if (!u || !u->video_id || !u->object_id || !u->object_id[0] || u->size < 0)
        return STORE_INVALID;
    /* Parsed here, not on the writer thread, which every upload waits on. */
    if ((u->task_plan && !store_sqlite_task_plan_valid(u->task_plan)) || !store_sqlite_task_job_valid(u->task_job))
        return STORE_INVALID;
    store_sqlite_write_t w = {.run = store_sqlite_run_set_uploaded, .upload = u};
    int rc = store_sqlite_write_sync((store_sqlite_t *)base, &w);
    if (rc == STORE_OK && u->task_id)
        memcpy(u->task_id, w.task_id, sizeof(w.task_id));
    if (old_object_id)
        *old_object_id = w.old_object_id;
    else
        free(w.old_object_id); /* the caller leaves the old bytes to the sweep */
    return rc;
}

int store_sqlite_video_set_failed(store_t *base, int64_t account_id, const char *video_id,
                                  const char *reason)
{
    if (!video_id || !reason)
        return STORE_INVALID;
    store_sqlite_write_t w = {
        .run = store_sqlite_run_set_failed, .account_id = account_id, .video_id = video_id, .text = reason};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}

/* ---- video registration: one job of the writer thread's batch ---- */

/* Creates missing categories and links the video to each, in order. */
static int store_sqlite_link_categories(store_sqlite_conn_t *c, const store_video_reg_t *r, const char *video_id)
{
    sqlite3_stmt *ins, *sel, *link;
    int rc = store_sqlite_prepare(c, SQ_CATEGORY_INSERT, &ins);
    if (rc == STORE_OK)
        rc = store_sqlite_prepare(c, SQ_CATEGORY_ID, &sel);
    if (rc == STORE_OK)
        rc = store_sqlite_prepare(c, SQ_VIDEO_CATEGORY_INSERT, &link);
    for (size_t i = 0; rc == STORE_OK && i < r->category_count; i++) {
        /* NULL would defeat the unique constraint (NULLs are all distinct). */
        const char *parent = r->categories[i].parent_name ? r->categories[i].parent_name : "";
        const char *child = r->categories[i].child_name ? r->categories[i].child_name : "";
        int err = SQLITE_OK;
        store_sqlite_bind_int64(ins, 1, r->account_id, &err);
        store_sqlite_bind_text(ins, 2, parent, &err);
        store_sqlite_bind_text(ins, 3, child, &err);
        int src = err != SQLITE_OK ? err : sqlite3_step(ins);
        store_sqlite_release(ins);
        if (src != SQLITE_DONE)
            return store_sqlite_map(c->db, src, "create category");

        store_sqlite_bind_int64(sel, 1, r->account_id, &err);
        store_sqlite_bind_text(sel, 2, parent, &err);
        store_sqlite_bind_text(sel, 3, child, &err);
        src = err != SQLITE_OK ? err : sqlite3_step(sel);
        int64_t category_id = src == SQLITE_ROW ? sqlite3_column_int64(sel, 0) : 0;
        store_sqlite_release(sel);
        if (src != SQLITE_ROW)
            return src == SQLITE_DONE ? STORE_ERROR : store_sqlite_map(c->db, src, "find category");

        store_sqlite_bind_text(link, 1, video_id, &err);
        store_sqlite_bind_int64(link, 2, category_id, &err);
        store_sqlite_bind_int64(link, 3, (int64_t)i, &err);
        src = err != SQLITE_OK ? err : sqlite3_step(link);
        store_sqlite_release(link);
        if (src != SQLITE_DONE)
            return store_sqlite_map(c->db, src, "link category");
    }
    return rc;
}

/* Replaces the processing settings of a video found by fileId. */
static int store_sqlite_resume_video(store_sqlite_conn_t *c, const store_video_reg_t *r, const char *video_id)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_RESUME, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    store_sqlite_bind_text(st, 2, r->domain ? r->domain : "", &err);
    store_sqlite_bind_int64(st, 3, r->expected_size, &err);
    store_sqlite_bind_text(st, 4, r->expected_md5, &err);
    store_sqlite_bind_int64(st, 5, r->overwrite ? 1 : 0, &err);
    store_sqlite_bind_text(st, 6, r->workflow_id, &err);
    store_sqlite_bind_text(st, 7, r->cmd, &err);
    store_sqlite_bind_text(st, 8, r->watermark_name, &err);
    store_sqlite_bind_text(st, 9, r->template_name, &err);
    store_sqlite_bind_text(st, 10, r->subtitle_id, &err);
    store_sqlite_bind_int64(st, 11, r->now_ms, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    if (src != SQLITE_DONE)
        return store_sqlite_map(c->db, src, "update video");

    rc = store_sqlite_prepare(c, SQ_VIDEO_CATEGORIES_CLEAR, &st);
    if (rc != STORE_OK)
        return rc;
    store_sqlite_bind_text(st, 1, video_id, &err);
    src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    return src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "clear video categories");
}

static int store_sqlite_insert_video(store_sqlite_conn_t *c, const store_video_reg_t *r)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_INSERT, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, r->video_id, &err);
    store_sqlite_bind_int64(st, 2, r->account_id, &err);
    store_sqlite_bind_text(st, 3, r->file_id, &err);
    store_sqlite_bind_text(st, 4, r->name, &err);
    store_sqlite_bind_text(st, 5, r->file_key, &err);
    store_sqlite_bind_text(st, 6, r->bucket, &err);
    store_sqlite_bind_text(st, 7, r->domain ? r->domain : "", &err);
    store_sqlite_bind_int64(st, 8, r->expected_size, &err);
    store_sqlite_bind_text(st, 9, r->expected_md5, &err);
    store_sqlite_bind_int64(st, 10, r->overwrite ? 1 : 0, &err);
    store_sqlite_bind_text(st, 11, r->workflow_id, &err);
    store_sqlite_bind_text(st, 12, r->cmd, &err);
    store_sqlite_bind_text(st, 13, r->watermark_name, &err);
    store_sqlite_bind_text(st, 14, r->template_name, &err);
    store_sqlite_bind_text(st, 15, r->subtitle_id, &err);
    store_sqlite_bind_int64(st, 16, r->now_ms, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    return src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "insert video");
}

/* One registration, inside the batch's transaction and its own savepoint. */
int store_sqlite_register_one(store_sqlite_conn_t *c, const store_video_reg_t *r,
                              store_video_reg_result_t *res)
{
    if (!r->name || !r->bucket)
        return STORE_INVALID;
    if (r->file_id) {
        sqlite3_stmt *st;
        int rc = store_sqlite_prepare(c, SQ_VIDEO_BY_FILE_ID, &st);
        if (rc != STORE_OK)
            return rc;
        int err = SQLITE_OK;
        store_sqlite_bind_int64(st, 1, r->account_id, &err);
        store_sqlite_bind_text(st, 2, r->file_id, &err);
        int src = err != SQLITE_OK ? err : sqlite3_step(st);
        if (src == SQLITE_ROW) {
            /* Resume: the existing video keeps its ids and name. */
            bool fits = store_sqlite_copy_field(res->video_id, sizeof(res->video_id),
                                                (const char *)sqlite3_column_text(st, 0)) &&
                        store_sqlite_copy_field(res->file_key, sizeof(res->file_key),
                                                (const char *)sqlite3_column_text(st, 1));
            bool completed = video_status_uploaded(video_status_parse((const char *)sqlite3_column_text(st, 2)));
            store_sqlite_release(st);
            if (!fits)
                return STORE_ERROR;
            if (completed && !r->overwrite)
                return STORE_CONFLICT;
            res->existed = true;
            rc = store_sqlite_resume_video(c, r, res->video_id);
            return rc == STORE_OK ? store_sqlite_link_categories(c, r, res->video_id) : rc;
        }
        store_sqlite_release(st);
        if (src != SQLITE_DONE)
            return store_sqlite_map(c->db, src, "find video by fileId");
    }

    if (!r->video_id || !r->file_key ||
        !store_sqlite_copy_field(res->video_id, sizeof(res->video_id), r->video_id) ||
        !store_sqlite_copy_field(res->file_key, sizeof(res->file_key), r->file_key))
        return STORE_INVALID;
    res->existed = false;
    int rc = store_sqlite_insert_video(c, r);
    return rc == STORE_OK ? store_sqlite_link_categories(c, r, res->video_id) : rc;
}

/* ---- video reads ---- */

/* Reads a video row (STORE_SQLITE_VIDEO_COLUMNS order) into out. */
static int store_sqlite_video_row(sqlite3_stmt *st, store_video_t *out)
{
    static const struct {
        int col;
        size_t offset;
    } texts[] = {
        {VC_VIDEO_ID, offsetof(store_video_t, video_id)},
        {VC_FILE_ID, offsetof(store_video_t, file_id)},
        {VC_NAME, offsetof(store_video_t, name)},
        {VC_FILE_KEY, offsetof(store_video_t, file_key)},
        {VC_BUCKET, offsetof(store_video_t, bucket)},
        {VC_DOMAIN, offsetof(store_video_t, domain)},
        {VC_FAIL_REASON, offsetof(store_video_t, fail_reason)},
        {VC_MD5, offsetof(store_video_t, md5)},
        {VC_ETAG, offsetof(store_video_t, etag)},
        {VC_MIME_TYPE, offsetof(store_video_t, mime_type)},
        {VC_EXPECTED_MD5, offsetof(store_video_t, expected_md5)},
        {VC_WORKFLOW_ID, offsetof(store_video_t, workflow_id)},
        {VC_CMD, offsetof(store_video_t, cmd)},
        {VC_WATERMARK_NAME, offsetof(store_video_t, watermark_name)},
        {VC_TEMPLATE_NAME, offsetof(store_video_t, template_name)},
        {VC_SUBTITLE_ID, offsetof(store_video_t, subtitle_id)},
        {VC_CODECS, offsetof(store_video_t, codecs)},
        {VC_OBJECT_ID, offsetof(store_video_t, object_id)},
    };
    memset(out, 0, sizeof(*out));
    bool ok = true;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
        *(char **)((char *)out + texts[i].offset) = store_sqlite_col_text(st, texts[i].col, &ok);
    out->status = video_status_parse((const char *)sqlite3_column_text(st, VC_STATUS));
    ok = ok && out->status != VIDEO_STATUS_UNKNOWN;
    out->account_id = sqlite3_column_int64(st, VC_ACCOUNT_ID);
    out->size = sqlite3_column_int64(st, VC_SIZE);
    out->expected_size = sqlite3_column_int64(st, VC_EXPECTED_SIZE);
    out->overwrite = sqlite3_column_int(st, VC_OVERWRITE) != 0;
    out->created_ms = sqlite3_column_int64(st, VC_CREATED_MS);
    out->uploaded_ms = sqlite3_column_int64(st, VC_UPLOADED_MS);
    out->duration = sqlite3_column_double(st, VC_DURATION);
    out->width = sqlite3_column_int(st, VC_WIDTH);
    out->height = sqlite3_column_int(st, VC_HEIGHT);
    if (!ok) {
        store_video_free(out);
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int store_sqlite_video_categories(store_sqlite_conn_t *c, store_video_t *v)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_VIDEO_CATEGORIES, &st);
    if (rc != STORE_OK)
        return rc;
    size_t cap = 0;
    int err = SQLITE_OK, src;
    store_sqlite_bind_text(st, 1, v->video_id, &err);
    if (err != SQLITE_OK) {
        rc = store_sqlite_map(c->db, err, "video categories");
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_sqlite_grow((void **)&v->categories, &cap, v->category_count, sizeof(*v->categories))) {
            rc = STORE_ERROR;
            goto out;
        }
        bool ok = true;
        store_category_t *cat = &v->categories[v->category_count];
        cat->parent_name = store_sqlite_col_text(st, 0, &ok);
        cat->child_name = store_sqlite_col_text(st, 1, &ok);
        v->category_count++; /* counted even when half-filled, so the free sees it */
        if (!ok) {
            rc = STORE_ERROR;
            goto out;
        }
    }
    rc = store_sqlite_map(c->db, src, "video categories");
out:
    store_sqlite_release(st);
    return rc;
}

/* Reads the one video that statement `id` selects with ?1 = text and ?2 =
 * account_id, with its categories. */
static int store_sqlite_video_read_one(store_sqlite_t *s, enum store_sqlite_stmt_id id, const char *text,
                                       int64_t account_id, store_video_t *out)
{
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    /* One snapshot for the row and its categories. */
    int rc = store_sqlite_exec(c, SQ_BEGIN, "begin read");
    if (rc != STORE_OK)
        goto out;
    rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, text, &err);
    store_sqlite_bind_int64(st, 2, account_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = store_sqlite_video_row(st, out);
    else if (src == SQLITE_DONE)
        rc = STORE_NOT_FOUND;
    else
        rc = store_sqlite_map(c->db, src, "get video");
    store_sqlite_release(st);
    st = NULL;
    if (rc == STORE_OK)
        rc = store_sqlite_video_categories(c, out);
    if (rc != STORE_OK)
        store_video_free(out);
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c); /* ends the read transaction */
    return rc;
}

int store_sqlite_video_get(store_t *base, int64_t account_id, const char *video_id, store_video_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!video_id)
        return STORE_INVALID;
    return store_sqlite_video_read_one((store_sqlite_t *)base, SQ_VIDEO_GET, video_id, account_id, out);
}

/* A key is unique in the whole database (videos_file_key), so at most one
 * row matches even across accounts. */
int store_sqlite_video_find_by_key(store_t *base, int64_t account_id, const char *file_key,
                                   store_video_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!file_key)
        return STORE_INVALID;
    return store_sqlite_video_read_one((store_sqlite_t *)base, SQ_VIDEO_BY_KEY, file_key,
                                       account_id < 0 ? -1 : account_id, out);
}

int store_sqlite_object_in_use(store_t *base, const char *object_id, bool *in_use)
{
    /* A missing answer must not read as "free to delete". */
    *in_use = true;
    if (!object_id)
        return STORE_INVALID;
    int64_t n = 0;
    int rc = store_sqlite_read_int64((store_sqlite_t *)base, SQ_OBJECT_IN_USE, object_id, &n, "object in use");
    *in_use = rc != STORE_OK || n != 0;
    return rc;
}

/* "%" + name with LIKE's wildcards escaped + "%"; malloc'd. */
static char *store_sqlite_like_pattern(const char *sub)
{
    size_t n = strlen(sub);
    char *p = malloc(2 * n + 3);
    if (!p)
        return NULL;
    size_t j = 0;
    p[j++] = '%';
    for (size_t i = 0; i < n; i++) {
        if (sub[i] == '%' || sub[i] == '_' || sub[i] == '\\')
            p[j++] = '\\';
        p[j++] = sub[i];
    }
    p[j++] = '%';
    p[j] = '\0';
    return p;
}

static void store_sqlite_bind_filter(sqlite3_stmt *st, int64_t account_id, const char *like,
                                     const store_video_filter_t *f, int *err)
{
    store_sqlite_bind_int64(st, 1, account_id, err);
    store_sqlite_bind_text(st, 2, like, err);
    store_sqlite_bind_text(st, 3, f->by_status ? video_status_name(f->status) : NULL, err);
    store_sqlite_bind_text(st, 4, f->category_name && f->category_name[0] ? f->category_name : NULL, err);
}

int store_sqlite_video_list(store_t *base, int64_t account_id, const store_video_filter_t *filter,
                            store_video_page_t *out)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    memset(out, 0, sizeof(*out));
    if (!filter || filter->page_index < 1 || filter->page_size < 1 || filter->page_size > 100 ||
        filter->page_index > INT64_MAX / filter->page_size || (filter->by_status && !video_status_name(filter->status)))
        return STORE_INVALID;
    char *like = NULL;
    if (filter->name_substring && filter->name_substring[0]) {
        like = store_sqlite_like_pattern(filter->name_substring);
        if (!like)
            return STORE_ERROR;
    }
    size_t cap = 0;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    int err = SQLITE_OK, src;
    /* The total and the page come from one snapshot, so they agree. */
    int rc = store_sqlite_exec(c, SQ_BEGIN, "begin read");
    if (rc != STORE_OK)
        goto out;

    rc = store_sqlite_prepare(c, SQ_VIDEO_COUNT, &st);
    if (rc != STORE_OK)
        goto out;
    store_sqlite_bind_filter(st, account_id, like, filter, &err);
    src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src != SQLITE_ROW) {
        rc = store_sqlite_map(c->db, src, "count videos");
        goto out;
    }
    out->total = sqlite3_column_int64(st, 0);
    store_sqlite_release(st);
    st = NULL;

    rc = store_sqlite_prepare(c, SQ_VIDEO_PAGE, &st);
    if (rc != STORE_OK)
        goto out;
    store_sqlite_bind_filter(st, account_id, like, filter, &err);
    store_sqlite_bind_int64(st, 5, filter->page_size, &err);
    store_sqlite_bind_int64(st, 6, (filter->page_index - 1) * filter->page_size, &err);
    if (err != SQLITE_OK) {
        rc = store_sqlite_map(c->db, err, "list videos");
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_sqlite_grow((void **)&out->items, &cap, out->count, sizeof(*out->items))) {
            rc = STORE_ERROR;
            goto out;
        }
        rc = store_sqlite_video_row(st, &out->items[out->count]);
        if (rc != STORE_OK)
            goto out;
        out->count++;
    }
    rc = store_sqlite_map(c->db, src, "list videos");
    store_sqlite_release(st);
    st = NULL;
    for (size_t i = 0; rc == STORE_OK && i < out->count; i++)
        rc = store_sqlite_video_categories(c, &out->items[i]);
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c);
    free(like);
    if (rc != STORE_OK)
        store_video_page_free(out);
    return rc;
}
