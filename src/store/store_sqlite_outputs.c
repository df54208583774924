/*
 * store_sqlite_outputs: a video's processing outputs in the outputs table
 * (what getVideoInfo lists) and the output_files table (every key the
 * playback origin serves, mapped to its blob object).  A succeeding task's
 * result is checked on the caller's thread, then published as a part of
 * task_succeed's job on the writer thread; the reads are one video's listed
 * outputs and the served file at one key.
 *
 * Its writes run only inside task_succeed's job, in the batch's transaction
 * and the job's savepoint: it must never begin or commit a transaction on
 * the write connection itself, and any failure it returns takes back the
 * whole job, so that a result is published entirely or not at all.  It must
 * never list another account's outputs, and never report as replaced an
 * object that the new result still serves (the caller removes those bytes).
 */
#include "store/store_sqlite_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- checking a result: on the caller's thread ---- */

static int store_sqlite_compare_text(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool store_sqlite_text_given(const char *s)
{
    return s && s[0];
}

static bool store_sqlite_output_valid(const store_output_t *o)
{
    return store_output_type_name(o->type) && store_sqlite_text_given(o->key) && o->width >= 0 &&
           o->height >= 0 && isfinite(o->duration) && o->duration >= 0 && o->size >= 0 && o->bitrate >= 0;
}

static bool store_sqlite_output_file_valid(const store_output_file_t *f)
{
    return store_sqlite_text_given(f->key) && store_sqlite_text_given(f->object_id) &&
           store_sqlite_text_given(f->content_type) && f->size >= 0;
}

/* In a sorted array, equal strings are neighbours. */
static bool store_sqlite_sorted_has_duplicate(const char **sorted, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (!strcmp(sorted[i - 1], sorted[i]))
            return true;
    return false;
}

/* Sorts the result's file keys and object ids: two files with one key or
 * one object are refused here, where the fault is plain, rather than read
 * as a clash with another video by the database's unique indexes. */
static int store_sqlite_publish_index(store_sqlite_publish_t *p, const store_task_result_t *r)
{
    size_t n = r->file_count ? r->file_count : 1;
    if (n > SIZE_MAX / sizeof(*p->keys))
        return STORE_INVALID;
    p->keys = malloc(n * sizeof(*p->keys));
    p->objects = malloc(n * sizeof(*p->objects));
    if (!p->keys || !p->objects)
        return STORE_ERROR;
    for (size_t i = 0; i < r->file_count; i++) {
        if (!store_sqlite_output_file_valid(&r->files[i]))
            return STORE_INVALID;
        p->keys[i] = r->files[i].key;
        p->objects[i] = r->files[i].object_id;
    }
    qsort(p->keys, r->file_count, sizeof(*p->keys), store_sqlite_compare_text);
    qsort(p->objects, r->file_count, sizeof(*p->objects), store_sqlite_compare_text);
    if (store_sqlite_sorted_has_duplicate(p->keys, r->file_count) ||
        store_sqlite_sorted_has_duplicate(p->objects, r->file_count))
        return STORE_INVALID;
    return STORE_OK;
}

/* Checks a result before it is queued: STORE_INVALID when it breaks
 * store.h's rules, STORE_ERROR when out of memory. */
int store_sqlite_publish_prepare(store_sqlite_publish_t *p, const store_task_result_t *r)
{
    memset(p, 0, sizeof(*p));
    p->result = r;
    if (!r)
        return STORE_OK;
    if ((r->output_count && !r->outputs) || (r->file_count && !r->files) || !isfinite(r->duration) ||
        r->width < 0 || r->height < 0)
        return STORE_INVALID;
    int rc = store_sqlite_publish_index(p, r);
    for (size_t i = 0; rc == STORE_OK && i < r->output_count; i++) {
        const store_output_t *o = &r->outputs[i];
        /* A listed output that the origin would not serve is a dead link. */
        if (!store_sqlite_output_valid(o) ||
            !bsearch(&o->key, p->keys, r->file_count, sizeof(*p->keys), store_sqlite_compare_text))
            rc = STORE_INVALID;
    }
    return rc;
}

void store_sqlite_publish_release(store_sqlite_publish_t *p)
{
    free(p->keys);
    free(p->objects);
    p->keys = NULL;
    p->objects = NULL;
}

/* ---- publishing: a part of task_succeed's job ---- */

static int store_sqlite_publish_probe(store_sqlite_conn_t *c, const char *video_id, const store_task_result_t *r)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_OUTPUT_SET_PROBE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    store_sqlite_bind_double(st, 2, r->duration, &err);
    store_sqlite_bind_int64(st, 3, r->width, &err);
    store_sqlite_bind_int64(st, 4, r->height, &err);
    store_sqlite_bind_text(st, 5, r->codecs, &err);
    return store_sqlite_step_done(c, st, err, "set video probe");
}

/* Whether the new result serves `object_id` (the caller keeps its bytes). */
static bool store_sqlite_publish_serves(const store_sqlite_publish_t *p, const char *object_id)
{
    size_t n = p->result ? p->result->file_count : 0;
    return n && bsearch(&object_id, p->objects, n, sizeof(*p->objects), store_sqlite_compare_text);
}

static int store_sqlite_publish_keep_old(store_sqlite_publish_t *p, const char *object_id)
{
    if (!object_id || store_sqlite_publish_serves(p, object_id))
        return STORE_OK;
    store_id_list_t *l = &p->old_objects;
    if (!store_sqlite_grow((void **)&l->items, &p->old_cap, l->count, sizeof(*l->items)))
        return STORE_ERROR;
    l->items[l->count] = strdup(object_id);
    return l->items[l->count++] ? STORE_OK : STORE_ERROR;
}

/* Collects into p->old_objects the objects of the video's served files:
 * all of them (key NULL), or the one with that key. */
static int store_sqlite_publish_collect_old(store_sqlite_conn_t *c, const char *video_id, const char *key,
                                            store_sqlite_publish_t *p)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, key ? SQ_OUTPUT_OLD_OBJECT_KEY : SQ_OUTPUT_OLD_OBJECTS, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK, src;
    store_sqlite_bind_text(st, 1, video_id, &err);
    if (key)
        store_sqlite_bind_text(st, 2, key, &err);
    if (err != SQLITE_OK) {
        rc = store_sqlite_map(c->db, err, "old output files");
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        rc = store_sqlite_publish_keep_old(p, (const char *)sqlite3_column_text(st, 0));
        if (rc != STORE_OK)
            goto out;
    }
    rc = store_sqlite_map(c->db, src, "old output files");
out:
    store_sqlite_release(st);
    return rc;
}

/* Runs a DELETE bound to ?1 = video_id (and ?2 = key, when not NULL). */
static int store_sqlite_publish_delete(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id, const char *video_id,
                                       const char *key)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    if (key)
        store_sqlite_bind_text(st, 2, key, &err);
    return store_sqlite_step_done(c, st, err, "delete old outputs");
}

/* STORE_EXISTS when another video's file has the key or the object. */
static int store_sqlite_publish_file(store_sqlite_conn_t *c, const char *video_id, const store_output_file_t *f,
                                     int64_t now_ms)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_OUTPUT_INSERT_FILE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, f->key, &err);
    store_sqlite_bind_text(st, 2, video_id, &err);
    store_sqlite_bind_text(st, 3, f->object_id, &err);
    store_sqlite_bind_int64(st, 4, f->size, &err);
    store_sqlite_bind_text(st, 5, f->content_type, &err);
    store_sqlite_bind_int64(st, 6, now_ms, &err);
    return store_sqlite_step_done(c, st, err, "insert output file");
}

static int store_sqlite_publish_output(store_sqlite_conn_t *c, const char *video_id, size_t position,
                                       const store_output_t *o)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_OUTPUT_INSERT_LISTED, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    store_sqlite_bind_int64(st, 2, (int64_t)position, &err);
    store_sqlite_bind_text(st, 3, store_output_type_name(o->type), &err);
    store_sqlite_bind_text(st, 4, o->template_name, &err);
    store_sqlite_bind_text(st, 5, o->key, &err);
    store_sqlite_bind_int64(st, 6, o->width, &err);
    store_sqlite_bind_int64(st, 7, o->height, &err);
    store_sqlite_bind_double(st, 8, o->duration, &err);
    store_sqlite_bind_int64(st, 9, o->size, &err);
    store_sqlite_bind_int64(st, 10, o->bitrate, &err);
    store_sqlite_bind_text(st, 11, o->codecs, &err);
    store_sqlite_bind_text(st, 12, o->language, &err);
    return store_sqlite_step_done(c, st, err, "insert output");
}

/* The one integer statement `id` answers with ?1 = video_id. */
static int store_sqlite_publish_int(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id, const char *video_id,
                                    const char *what, int64_t *out)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, video_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        *out = sqlite3_column_int64(st, 0);
    else
        rc = store_sqlite_map(c->db, src == SQLITE_DONE ? SQLITE_ERROR : src, what);
    store_sqlite_release(st);
    return rc;
}

/* STORE_EXISTS when a new file's key is a video's fileKey or its object a
 * video's upload: one playback key, one object, one owner. */
static int store_sqlite_publish_clash(store_sqlite_conn_t *c, const char *video_id)
{
    int64_t clash = 0;
    int rc = store_sqlite_publish_int(c, SQ_OUTPUT_CLASH, video_id, "output clash", &clash);
    return rc == STORE_OK && clash ? STORE_EXISTS : rc;
}

/* The position after the video's last listed output (0 when none). */
static int store_sqlite_publish_next_position(store_sqlite_conn_t *c, const char *video_id, size_t *pos)
{
    int64_t next = 0;
    int rc = store_sqlite_publish_int(c, SQ_OUTPUT_NEXT_POSITION, video_id, "next output position", &next);
    *pos = (size_t)next;
    return rc;
}

/* Inserts the result's files, then its listed outputs in their order
 * (after the video's earlier ones when the result adds). */
static int store_sqlite_publish_insert(store_sqlite_conn_t *c, const char *video_id, int64_t now_ms,
                                       const store_task_result_t *r)
{
    size_t first = 0;
    int rc = r->adds ? store_sqlite_publish_next_position(c, video_id, &first) : STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < r->file_count; i++)
        rc = store_sqlite_publish_file(c, video_id, &r->files[i], now_ms);
    for (size_t i = 0; rc == STORE_OK && i < r->output_count; i++)
        rc = store_sqlite_publish_output(c, video_id, first + i, &r->outputs[i]);
    if (rc == STORE_OK && r->file_count)
        rc = store_sqlite_publish_clash(c, video_id);
    return rc;
}

/* Removes every earlier file and listed output of the video. */
static int store_sqlite_publish_clear_all(store_sqlite_conn_t *c, const char *video_id, store_sqlite_publish_t *p)
{
    int rc = store_sqlite_publish_collect_old(c, video_id, NULL, p);
    if (rc == STORE_OK)
        rc = store_sqlite_publish_delete(c, SQ_OUTPUT_DELETE_LISTED, video_id, NULL);
    if (rc == STORE_OK)
        rc = store_sqlite_publish_delete(c, SQ_OUTPUT_DELETE_FILES, video_id, NULL);
    return rc;
}

/* Removes the earlier files and listed outputs the result has again. */
static int store_sqlite_publish_clear_keys(store_sqlite_conn_t *c, const char *video_id, store_sqlite_publish_t *p)
{
    const store_task_result_t *r = p->result;
    int rc = STORE_OK;
    for (size_t i = 0; rc == STORE_OK && i < r->file_count; i++) {
        rc = store_sqlite_publish_collect_old(c, video_id, r->files[i].key, p);
        if (rc == STORE_OK)
            rc = store_sqlite_publish_delete(c, SQ_OUTPUT_DELETE_FILE_KEY, video_id, r->files[i].key);
    }
    for (size_t i = 0; rc == STORE_OK && i < r->output_count; i++)
        rc = store_sqlite_publish_delete(c, SQ_OUTPUT_DELETE_LISTED_KEY, video_id, r->outputs[i].key);
    return rc;
}

/* Replaces the video's outputs with p's result (none when it is NULL), or
 * adds the result to them (result->adds), and sets its probe fields from
 * it; p->old_objects receives the objects of the files replaced. */
int store_sqlite_publish_run(store_sqlite_conn_t *c, const char *video_id, int64_t now_ms,
                             store_sqlite_publish_t *p)
{
    const store_task_result_t *r = p->result;
    int rc = r ? store_sqlite_publish_probe(c, video_id, r) : STORE_OK;
    if (rc == STORE_OK)
        rc = r && r->adds ? store_sqlite_publish_clear_keys(c, video_id, p)
                          : store_sqlite_publish_clear_all(c, video_id, p);
    if (rc == STORE_OK && r)
        rc = store_sqlite_publish_insert(c, video_id, now_ms, r);
    return rc;
}

/* STORE_EXISTS when a served output file holds `object_id`
 * (video_set_uploaded's check: an upload never shares an object). */
int store_sqlite_output_object_served(store_sqlite_conn_t *c, const char *object_id)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_OUTPUT_OBJECT_SERVED, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, object_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = sqlite3_column_int(st, 0) ? STORE_EXISTS : STORE_OK;
    else
        rc = store_sqlite_map(c->db, src == SQLITE_DONE ? SQLITE_ERROR : src, "output object");
    store_sqlite_release(st);
    return rc;
}

/* ---- reads ---- */

/* Reads an outputs row (STORE_SQLITE_OUTPUT_COLUMNS order) into o, which
 * the caller frees with its list even on failure. */
static int store_sqlite_output_row(sqlite3_stmt *st, store_output_t *o)
{
    bool ok = true;
    memset(o, 0, sizeof(*o));
    /* The CHECK constraint keeps type valid; -1 means a damaged file. */
    o->type = store_output_type_parse((const char *)sqlite3_column_text(st, OC_TYPE));
    o->template_name = store_sqlite_col_text(st, OC_TEMPLATE_NAME, &ok);
    o->key = store_sqlite_col_text(st, OC_KEY, &ok);
    o->width = sqlite3_column_int(st, OC_WIDTH);
    o->height = sqlite3_column_int(st, OC_HEIGHT);
    o->duration = sqlite3_column_double(st, OC_DURATION);
    o->size = sqlite3_column_int64(st, OC_SIZE);
    o->bitrate = sqlite3_column_int64(st, OC_BITRATE);
    o->codecs = store_sqlite_col_text(st, OC_CODECS, &ok);
    o->language = store_sqlite_col_text(st, OC_LANGUAGE, &ok);
    return ok && o->type >= 0 && o->key ? STORE_OK : STORE_ERROR;
}

static int store_sqlite_output_rows(store_sqlite_conn_t *c, const char *video_id, store_output_list_t *out)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_OUTPUT_LIST, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK, src;
    size_t cap = 0;
    store_sqlite_bind_text(st, 1, video_id, &err);
    if (err != SQLITE_OK) {
        rc = store_sqlite_map(c->db, err, "list outputs");
        goto out;
    }
    while ((src = sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_sqlite_grow((void **)&out->items, &cap, out->count, sizeof(*out->items))) {
            rc = STORE_ERROR;
            goto out;
        }
        rc = store_sqlite_output_row(st, &out->items[out->count++]); /* counted so the free sees it */
        if (rc != STORE_OK)
            goto out;
    }
    rc = store_sqlite_map(c->db, src, "list outputs");
out:
    store_sqlite_release(st);
    return rc;
}

int store_sqlite_video_outputs(store_t *base, int64_t account_id, const char *video_id, store_output_list_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!video_id)
        return STORE_INVALID;
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    /* One snapshot: the account check and the rows it allows. */
    int rc = store_sqlite_exec(c, SQ_BEGIN, "begin read");
    if (rc == STORE_OK)
        rc = store_sqlite_video_exists(c, account_id, video_id);
    if (rc == STORE_OK)
        rc = store_sqlite_output_rows(c, video_id, out);
    store_sqlite_reader_put(s, c); /* ends the read transaction */
    if (rc != STORE_OK)
        store_output_list_free(out);
    return rc;
}

static int store_sqlite_output_file_row(sqlite3_stmt *st, store_output_file_t *out)
{
    bool ok = true;
    out->key = store_sqlite_col_text(st, OFC_KEY, &ok);
    out->object_id = store_sqlite_col_text(st, OFC_OBJECT_ID, &ok);
    out->size = sqlite3_column_int64(st, OFC_SIZE);
    out->content_type = store_sqlite_col_text(st, OFC_CONTENT_TYPE, &ok);
    out->video_id = store_sqlite_col_text(st, OFC_VIDEO_ID, &ok);
    out->created_ms = sqlite3_column_int64(st, OFC_CREATED_MS);
    out->account_id = sqlite3_column_count(st) > OFC_ACCOUNT_ID ? sqlite3_column_int64(st, OFC_ACCOUNT_ID) : 0;
    if (ok)
        return STORE_OK;
    store_output_file_free(out);
    return STORE_ERROR;
}

/* Keys are unique across the database, so one row at most, whatever the
 * account: the playback origin knows only the key. */
int store_sqlite_output_file_find(store_t *base, const char *key, store_output_file_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!key)
        return STORE_INVALID;
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_OUTPUT_FILE_GET, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, key, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = store_sqlite_output_file_row(st, out);
    else
        rc = src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "find output file");
    store_sqlite_release(st);
out:
    store_sqlite_reader_put(s, c);
    return rc;
}
