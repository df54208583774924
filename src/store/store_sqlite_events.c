/*
 * store_sqlite_events: an account's webhooks, the events written with the
 * state changes they report, and their deliveries: claimed with a lease by
 * a dispatcher, recorded attempt by attempt, listed for `vodup admin
 * webhook deliveries`, and pruned once old and finished (store.h, "events
 * and webhooks").
 *
 * store_sqlite_event_emit runs inside the job of the state change (upload
 * published, task succeeded or failed, video deleted), so the event and
 * the change commit together or not at all.  Every other write is a job of
 * the writer thread too, sharing its group commits.  It must never return
 * another account's webhook or delivery to an account-scoped call.
 */
#include "store/store_sqlite_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/ids.h"

#define STORE_SQLITE_EVENT_HEX "0123456789abcdef"
#define STORE_SQLITE_URL_MAX 2048
#define STORE_SQLITE_DELIVERY_LIST_MAX 1000

/* One events job's arguments and outputs, on the waiting caller's stack. */
typedef struct store_sqlite_event_job {
    int64_t account_id;
    int64_t delivery_id;
    const char *id;        /* webhook id, event id */
    const char *worker_id;
    const char *text;      /* the url (add), the data (set_data) */
    const char *secret;
    unsigned events;
    int64_t now_ms;
    int64_t lease_ms;
    const store_delivery_attempt_t *attempt;
    bool found;
    store_delivery_t *delivery; /* claim's result */
    char *data_out;             /* set_data's result */
    char webhook_id[STORE_WEBHOOK_ID_LEN + 1];
} store_sqlite_event_job_t;

static int store_sqlite_event_write(store_t *base, store_sqlite_write_fn run, store_sqlite_event_job_t *j)
{
    store_sqlite_write_t w = {.run = run, .ctx = j};
    return store_sqlite_write_sync((store_sqlite_t *)base, &w);
}

/* ---- emitting ---- */

static int store_sqlite_event_fanout(store_sqlite_conn_t *c, int64_t seq, int64_t account_id, int type,
                                     int64_t now_ms)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_DELIVERY_FANOUT, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, seq, &err);
    store_sqlite_bind_int64(st, 2, account_id, &err);
    store_sqlite_bind_int64(st, 3, 1LL << type, &err);
    store_sqlite_bind_int64(st, 4, now_ms, &err);
    return store_sqlite_step_done(c, st, err, "fan out event");
}

int store_sqlite_event_emit(store_sqlite_conn_t *c, int64_t account_id, const char *video_id, int type,
                            int64_t now_ms, const char *data)
{
    const char *name = store_event_type_name(type);
    if (!name || !video_id)
        return STORE_INVALID;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_EVENT_INSERT, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    store_sqlite_bind_text(st, 2, video_id, &err);
    store_sqlite_bind_text(st, 3, name, &err);
    store_sqlite_bind_int64(st, 4, now_ms, &err);
    store_sqlite_bind_text(st, 5, data, &err);
    store_sqlite_bind_int64(st, 6, 1LL << type, &err);
    rc = store_sqlite_step_done(c, st, err, "insert event");
    if (rc != STORE_OK || sqlite3_changes(c->db) == 0)
        return rc; /* no webhook wants it */
    return store_sqlite_event_fanout(c, sqlite3_last_insert_rowid(c->db), account_id, type, now_ms);
}

/* ---- persistent jobs' notifications ---- */

int store_sqlite_job_notify(store_sqlite_conn_t *c, const char *task_id, int64_t now_ms)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_JOB_NOTIFY_EVENT, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, task_id, &err);
    store_sqlite_bind_int64(st, 2, now_ms, &err);
    rc = store_sqlite_step_done(c, st, err, "insert job notification");
    if (rc != STORE_OK || sqlite3_changes(c->db) == 0)
        return rc; /* not a job with a notify_url */
    int64_t seq = sqlite3_last_insert_rowid(c->db);
    rc = store_sqlite_prepare(c, SQ_JOB_NOTIFY_DELIVERY, &st);
    if (rc != STORE_OK)
        return rc;
    store_sqlite_bind_text(st, 1, task_id, &err);
    store_sqlite_bind_int64(st, 2, seq, &err);
    store_sqlite_bind_int64(st, 3, now_ms, &err);
    return store_sqlite_step_done(c, st, err, "insert job notification delivery");
}

static int store_sqlite_notify_state_read(store_sqlite_conn_t *c, const char *task_id, int *state)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_JOB_NOTIFY_STATE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, task_id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    *state = -1;
    if (src == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        for (int i = STORE_DELIVERY_PENDING; name && i <= STORE_DELIVERY_FAILED; i++)
            if (!strcmp(name, store_delivery_state_name(i)))
                *state = i;
    }
    rc = src == SQLITE_ROW || src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, "job notification");
    store_sqlite_release(st);
    return rc;
}

int store_sqlite_job_notify_state(store_t *base, const char *task_id, int *state)
{
    *state = -1;
    if (!task_id)
        return STORE_INVALID;
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    int rc = store_sqlite_notify_state_read(c, task_id, state);
    store_sqlite_reader_put(s, c);
    return rc;
}

/* ---- webhooks ---- */

static int store_sqlite_run_webhook_add(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_event_job_t *j = w->ctx;
    int rc = STORE_EXISTS;
    for (int i = 0; i < STORE_SQLITE_ID_RETRIES && rc == STORE_EXISTS; i++) {
        if (!ids_random_string("wh", STORE_SQLITE_EVENT_HEX, STORE_WEBHOOK_ID_LEN, j->webhook_id))
            return STORE_ERROR;
        sqlite3_stmt *st;
        rc = store_sqlite_prepare(c, SQ_WEBHOOK_INSERT, &st);
        if (rc != STORE_OK)
            return rc;
        int err = SQLITE_OK;
        store_sqlite_bind_text(st, 1, j->webhook_id, &err);
        store_sqlite_bind_int64(st, 2, j->account_id, &err);
        store_sqlite_bind_text(st, 3, j->text, &err);
        store_sqlite_bind_int64(st, 4, j->events, &err);
        store_sqlite_bind_text(st, 5, j->secret, &err);
        store_sqlite_bind_int64(st, 6, j->now_ms, &err);
        rc = store_sqlite_step_done(c, st, err, "insert webhook");
    }
    return rc;
}

int store_sqlite_webhook_add(store_t *base, int64_t account_id, const char *url, unsigned events, const char *secret,
                             store_webhook_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!url || !url[0] || strlen(url) > STORE_SQLITE_URL_MAX || !secret || !secret[0] || events == 0 ||
        (events & ~STORE_EVENT_ALL) != 0)
        return STORE_INVALID;
    store_sqlite_event_job_t j = {
        .account_id = account_id, .text = url, .secret = secret, .events = events, .now_ms = ids_now_ms()};
    int rc = store_sqlite_event_write(base, store_sqlite_run_webhook_add, &j);
    if (rc != STORE_OK)
        return rc;
    out->webhook_id = strdup(j.webhook_id);
    out->url = strdup(url);
    out->secret = strdup(secret);
    out->events = events;
    out->created_ms = j.now_ms;
    if (!out->webhook_id || !out->url || !out->secret) {
        store_webhook_free(out);
        return STORE_ERROR;
    }
    return STORE_OK;
}

static int store_sqlite_webhook_row(sqlite3_stmt *st, store_webhook_t *out)
{
    bool ok = true;
    out->webhook_id = store_sqlite_col_text(st, 0, &ok);
    out->url = store_sqlite_col_text(st, 1, &ok);
    out->events = (unsigned)sqlite3_column_int64(st, 2);
    out->secret = store_sqlite_col_text(st, 3, &ok);
    out->created_ms = sqlite3_column_int64(st, 4);
    return ok ? STORE_OK : STORE_ERROR;
}

static int store_sqlite_webhook_rows(store_sqlite_conn_t *c, int64_t account_id, store_webhook_list_t *out)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_WEBHOOK_LIST, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK, src;
    size_t cap = 0;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    while (rc == STORE_OK && (src = err != SQLITE_OK ? err : sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_sqlite_grow((void **)&out->items, &cap, out->count, sizeof(*out->items)))
            rc = STORE_ERROR;
        else
            rc = store_sqlite_webhook_row(st, memset(&out->items[out->count++], 0, sizeof(*out->items)));
    }
    if (rc == STORE_OK && src != SQLITE_DONE)
        rc = store_sqlite_map(c->db, src, "list webhooks");
    store_sqlite_release(st);
    return rc;
}

int store_sqlite_webhook_list(store_t *base, int64_t account_id, store_webhook_list_t *out)
{
    memset(out, 0, sizeof(*out));
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    int rc = store_sqlite_webhook_rows(c, account_id, out);
    store_sqlite_reader_put(s, c);
    if (rc != STORE_OK)
        store_webhook_list_free(out);
    return rc;
}

static int store_sqlite_run_webhook_remove(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_event_job_t *j = w->ctx;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_WEBHOOK_DELETE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, j->account_id, &err);
    store_sqlite_bind_text(st, 2, j->id, &err);
    rc = store_sqlite_step_done(c, st, err, "remove webhook");
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        rc = STORE_NOT_FOUND;
    return rc;
}

int store_sqlite_webhook_remove(store_t *base, int64_t account_id, const char *webhook_id)
{
    if (!webhook_id)
        return STORE_INVALID;
    store_sqlite_event_job_t j = {.account_id = account_id, .id = webhook_id};
    return store_sqlite_event_write(base, store_sqlite_run_webhook_remove, &j);
}

/* ---- deliveries ---- */

static int store_sqlite_delivery_row(sqlite3_stmt *st, store_delivery_t *out)
{
    bool ok = true;
    char *type = store_sqlite_col_text(st, DC_TYPE, &ok), *state = store_sqlite_col_text(st, DC_STATE, &ok);
    out->delivery_id = sqlite3_column_int64(st, DC_DELIVERY_ID);
    out->event_id = store_sqlite_col_text(st, DC_EVENT_ID, &ok);
    out->event_type = store_event_type_parse(type);
    out->account_id = sqlite3_column_int64(st, DC_ACCOUNT_ID);
    out->video_id = store_sqlite_col_text(st, DC_VIDEO_ID, &ok);
    out->event_ms = sqlite3_column_int64(st, DC_CREATED_MS);
    out->data = store_sqlite_col_text(st, DC_DATA, &ok);
    out->webhook_id = store_sqlite_col_text(st, DC_WEBHOOK_ID, &ok);
    out->url = store_sqlite_col_text(st, DC_URL, &ok);
    out->secret = store_sqlite_col_text(st, DC_SECRET, &ok);
    out->state = !state ? -1 : !strcmp(state, "pending") ? STORE_DELIVERY_PENDING
                             : !strcmp(state, "delivered") ? STORE_DELIVERY_DELIVERED : STORE_DELIVERY_FAILED;
    out->attempts = sqlite3_column_int(st, DC_ATTEMPTS);
    out->next_attempt_ms = sqlite3_column_int64(st, DC_NEXT_ATTEMPT_MS);
    out->last_status = sqlite3_column_int(st, DC_LAST_STATUS);
    out->last_error = store_sqlite_col_text(st, DC_LAST_ERROR, &ok);
    out->last_attempt_ms = sqlite3_column_int64(st, DC_LAST_ATTEMPT_MS);
    out->task_id = store_sqlite_col_text(st, DC_TASK_ID, &ok);
    out->access_key = store_sqlite_col_text(st, DC_ACCESS_KEY, &ok);
    free(type);
    free(state);
    if (!ok)
        store_delivery_free(out);
    return ok ? STORE_OK : STORE_ERROR;
}

/* The id of the delivery to claim next; STORE_NOT_FOUND when none is due. */
static int store_sqlite_delivery_pick(store_sqlite_conn_t *c, int64_t now_ms, int64_t *id)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_DELIVERY_PICK, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, now_ms, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        *id = sqlite3_column_int64(st, 0);
    rc = src == SQLITE_ROW ? STORE_OK : src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "pick");
    store_sqlite_release(st);
    return rc;
}

static int store_sqlite_delivery_read(store_sqlite_conn_t *c, int64_t id, store_delivery_t *out)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_DELIVERY_GET, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        rc = store_sqlite_delivery_row(st, out);
    else
        rc = src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "read delivery");
    store_sqlite_release(st);
    return rc;
}

static int store_sqlite_run_delivery_claim(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_event_job_t *j = w->ctx;
    int64_t id = 0;
    int rc = store_sqlite_delivery_pick(c, j->now_ms, &id);
    if (rc == STORE_NOT_FOUND)
        return STORE_OK; /* found stays false */
    sqlite3_stmt *st;
    if (rc == STORE_OK)
        rc = store_sqlite_prepare(c, SQ_DELIVERY_TAKE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, id, &err);
    store_sqlite_bind_text(st, 2, j->worker_id, &err);
    store_sqlite_bind_int64(st, 3, j->now_ms + j->lease_ms, &err);
    rc = store_sqlite_step_done(c, st, err, "take delivery");
    if (rc == STORE_OK)
        rc = store_sqlite_delivery_read(c, id, j->delivery);
    j->found = rc == STORE_OK;
    return rc;
}

int store_sqlite_delivery_claim(store_t *base, const char *worker_id, int64_t now_ms, int64_t lease_ms,
                                store_delivery_t *out)
{
    memset(out, 0, sizeof(*out));
    if (!worker_id || !worker_id[0] || lease_ms <= 0 || now_ms < 0 || now_ms > INT64_MAX - lease_ms)
        return STORE_INVALID;
    store_sqlite_event_job_t j = {.worker_id = worker_id, .now_ms = now_ms, .lease_ms = lease_ms, .delivery = out};
    int rc = store_sqlite_event_write(base, store_sqlite_run_delivery_claim, &j);
    if (rc == STORE_OK && !j.found)
        rc = STORE_NOT_FOUND;
    if (rc != STORE_OK)
        store_delivery_free(out); /* a batch that failed after the job ran keeps nothing */
    return rc;
}

static int store_sqlite_run_delivery_set_data(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_event_job_t *j = w->ctx;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_EVENT_SET_DATA, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_text(st, 1, j->id, &err);
    store_sqlite_bind_text(st, 2, j->text, &err);
    rc = store_sqlite_step_done(c, st, err, "freeze event data");
    if (rc == STORE_OK)
        rc = store_sqlite_prepare(c, SQ_EVENT_DATA, &st);
    if (rc != STORE_OK)
        return rc;
    store_sqlite_bind_text(st, 1, j->id, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    bool ok = true;
    if (src == SQLITE_ROW)
        j->data_out = store_sqlite_col_text(st, 0, &ok);
    rc = src != SQLITE_ROW ? (src == SQLITE_DONE ? STORE_NOT_FOUND : store_sqlite_map(c->db, src, "event data"))
         : ok && j->data_out ? STORE_OK
                             : STORE_ERROR;
    store_sqlite_release(st);
    return rc;
}

int store_sqlite_delivery_set_data(store_t *base, const char *event_id, const char *data, char **data_out)
{
    *data_out = NULL;
    if (!event_id || !data)
        return STORE_INVALID;
    store_sqlite_event_job_t j = {.id = event_id, .text = data};
    int rc = store_sqlite_event_write(base, store_sqlite_run_delivery_set_data, &j);
    if (rc == STORE_OK)
        *data_out = j.data_out;
    else
        free(j.data_out);
    return rc;
}

static const char *store_sqlite_attempt_state(const store_delivery_attempt_t *a)
{
    return a->delivered ? "delivered" : a->next_attempt_ms > 0 ? "pending" : "failed";
}

static int store_sqlite_run_delivery_record(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_event_job_t *j = w->ctx;
    const store_delivery_attempt_t *a = j->attempt;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_DELIVERY_RECORD, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, j->delivery_id, &err);
    store_sqlite_bind_text(st, 2, j->worker_id, &err);
    store_sqlite_bind_text(st, 3, store_sqlite_attempt_state(a), &err);
    store_sqlite_bind_int64(st, 4, a->delivered ? 0 : a->next_attempt_ms, &err);
    store_sqlite_bind_int64(st, 5, a->status, &err);
    store_sqlite_bind_text(st, 6, a->delivered ? NULL : a->error, &err);
    store_sqlite_bind_int64(st, 7, j->now_ms, &err);
    rc = store_sqlite_step_done(c, st, err, "record delivery");
    if (rc == STORE_OK && sqlite3_changes(c->db) == 0)
        rc = STORE_CONFLICT;
    return rc;
}

int store_sqlite_delivery_record(store_t *base, int64_t delivery_id, const char *worker_id, int64_t now_ms,
                                 const store_delivery_attempt_t *a)
{
    if (!worker_id || !a || a->next_attempt_ms < 0)
        return STORE_INVALID;
    store_sqlite_event_job_t j = {.delivery_id = delivery_id, .worker_id = worker_id, .now_ms = now_ms, .attempt = a};
    return store_sqlite_event_write(base, store_sqlite_run_delivery_record, &j);
}

static int store_sqlite_delivery_rows(store_sqlite_conn_t *c, int64_t account_id, const char *webhook_id,
                                      size_t limit, store_delivery_list_t *out)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_DELIVERY_LIST, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK, src;
    size_t cap = 0;
    store_sqlite_bind_int64(st, 1, account_id, &err);
    store_sqlite_bind_text(st, 2, webhook_id, &err);
    store_sqlite_bind_int64(st, 3, (int64_t)limit, &err);
    while (rc == STORE_OK && (src = err != SQLITE_OK ? err : sqlite3_step(st)) == SQLITE_ROW) {
        if (!store_sqlite_grow((void **)&out->items, &cap, out->count, sizeof(*out->items)))
            rc = STORE_ERROR;
        else
            rc = store_sqlite_delivery_row(st, memset(&out->items[out->count++], 0, sizeof(*out->items)));
    }
    if (rc == STORE_OK && src != SQLITE_DONE)
        rc = store_sqlite_map(c->db, src, "list deliveries");
    store_sqlite_release(st);
    return rc;
}

int store_sqlite_delivery_list(store_t *base, int64_t account_id, const char *webhook_id, size_t limit,
                               store_delivery_list_t *out)
{
    memset(out, 0, sizeof(*out));
    if (limit == 0 || limit > STORE_SQLITE_DELIVERY_LIST_MAX)
        return STORE_INVALID;
    store_sqlite_t *s = (store_sqlite_t *)base;
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    int rc = store_sqlite_delivery_rows(c, account_id, webhook_id, limit, out);
    store_sqlite_reader_put(s, c);
    if (rc != STORE_OK)
        store_delivery_list_free(out);
    return rc;
}

int store_sqlite_delivery_pending_count(store_t *base, int64_t *count)
{
    *count = 0;
    return store_sqlite_read_int64((store_sqlite_t *)base, SQ_DELIVERY_PENDING, NULL, count, "count deliveries");
}

static int store_sqlite_run_delivery_prune(store_sqlite_conn_t *c, store_sqlite_write_t *w)
{
    store_sqlite_event_job_t *j = w->ctx;
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, SQ_DELIVERY_PRUNE, &st);
    if (rc != STORE_OK)
        return rc;
    int err = SQLITE_OK;
    store_sqlite_bind_int64(st, 1, j->now_ms, &err);
    rc = store_sqlite_step_done(c, st, err, "prune deliveries");
    return rc == STORE_OK ? store_sqlite_exec(c, SQ_EVENT_PRUNE, "prune events") : rc;
}

int store_sqlite_delivery_prune(store_t *base, int64_t before_ms)
{
    store_sqlite_event_job_t j = {.now_ms = before_ms};
    return store_sqlite_event_write(base, store_sqlite_run_delivery_prune, &j);
}
