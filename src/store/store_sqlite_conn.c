/*
 * store_sqlite_conn: the plumbing every other file of the SQLite store runs
 * its statements through.  Owns the text of every statement (indexed by
 * enum store_sqlite_stmt_id), opening and closing one connection, the
 * per-connection cache of prepared statements, the binding and column
 * helpers, the mapping of SQLite's result codes to store codes, and the pool
 * of read connections.
 *
 * It must never build SQL from input: every statement is a constant here and
 * every value reaches SQLite as a bound parameter.  It must never log a
 * bound value (messages name tables and columns only), and never hold the
 * pool's mutex longer than it takes to hand a connection out or take it back.
 */
#include "store/store_sqlite_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"

/* ---- statements ---- */

/* The WHERE clause shared by the count and the page of getVideoList:
 * ?1 account, ?2 LIKE pattern or NULL, ?3 status or NULL, ?4 category or NULL. */
#define STORE_SQLITE_VIDEO_FILTER                                                          \
    " FROM videos v WHERE v.account_id = ?1"                                               \
    " AND (?2 IS NULL OR v.name LIKE ?2 ESCAPE '\\')"                                      \
    " AND (?3 IS NULL OR v.status = ?3)"                                                   \
    " AND (?4 IS NULL OR EXISTS (SELECT 1 FROM video_categories vc"                        \
    "   JOIN categories c ON c.id = vc.category_id"                                       \
    "   WHERE vc.video_id = v.video_id AND (c.parent_name = ?4 OR c.child_name = ?4)))"

static const char *const store_sqlite_sql[SQ_COUNT] = {
    [SQ_BEGIN] = "BEGIN",
    [SQ_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
    [SQ_COMMIT] = "COMMIT",
    [SQ_ROLLBACK] = "ROLLBACK",
    [SQ_SAVEPOINT] = "SAVEPOINT registration",
    [SQ_RELEASE] = "RELEASE registration",
    [SQ_ROLLBACK_TO] = "ROLLBACK TO registration",
    [SQ_KEY_LOOKUP] = "SELECT k.access_key, k.secret_key, k.account_id, a.name, a.bucket, k.enabled,"
                      " k.created_ms FROM access_keys k JOIN accounts a ON a.id = k.account_id"
                      " WHERE k.access_key = ?1",
    /* Listing never reads the secrets: they have no business in a listing. */
    [SQ_KEY_LIST] = "SELECT k.access_key, NULL, k.account_id, a.name, a.bucket, k.enabled,"
                    " k.created_ms FROM access_keys k JOIN accounts a ON a.id = k.account_id"
                    " ORDER BY k.created_ms, k.access_key",
    [SQ_KEY_INSERT] = "INSERT INTO access_keys (access_key, secret_key, account_id, enabled, created_ms)"
                      " VALUES (?1, ?2, ?3, 1, ?4)",
    [SQ_KEY_SET_ENABLED] = "UPDATE access_keys SET enabled = ?2 WHERE access_key = ?1",
    [SQ_ACCOUNT_BY_NAME] = "SELECT id, name, bucket FROM accounts WHERE name = ?1",
    [SQ_ACCOUNT_INSERT] = "INSERT INTO accounts (name, bucket, created_ms) VALUES (?1, ?2, ?3)",
    /* A name wins over an AccessKey that happens to be spelled the same. */
    [SQ_ACCOUNT_FIND] = "SELECT id FROM ("
                        " SELECT id, 0 AS rank FROM accounts WHERE name = ?1"
                        " UNION ALL SELECT account_id, 1 FROM access_keys WHERE access_key = ?1)"
                        " ORDER BY rank LIMIT 1",
    [SQ_ACCOUNT_COUNT] = "SELECT count(*) FROM accounts",
    [SQ_DOMAIN_COUNT] = "SELECT count(*) FROM domains WHERE account_id = ?1",
    [SQ_DOMAIN_CLEAR_DEFAULT] = "UPDATE domains SET is_default = 0 WHERE account_id = ?1 AND is_default = 1",
    [SQ_DOMAIN_INSERT] = "INSERT INTO domains (account_id, name, is_default, created_ms) VALUES (?1, ?2, ?3, ?4)",
    /* `domain add NAME --default` on a known domain makes it the default. */
    [SQ_DOMAIN_UPSERT_DEFAULT] = "INSERT INTO domains (account_id, name, is_default, created_ms) VALUES (?1, ?2, ?3, ?4)"
                                 " ON CONFLICT (account_id, name) DO UPDATE SET is_default = 1",
    [SQ_DOMAIN_LIST] = "SELECT name, is_default FROM domains WHERE account_id = ?1"
                       " ORDER BY is_default DESC, name",
    [SQ_DOMAIN_GET] = "SELECT name, is_default FROM domains WHERE account_id = ?1 AND name = ?2",
    [SQ_DOMAIN_GET_DEFAULT] = "SELECT name, is_default FROM domains WHERE account_id = ?1 AND is_default = 1",
    [SQ_RESOURCE_NAME_TAKEN] = "SELECT 1 FROM resources WHERE account_id = ?1 AND kind = ?2 AND name = ?3",
    [SQ_RESOURCE_INSERT] = "INSERT INTO resources (account_id, kind, id, name, spec, created_ms)"
                           " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SQ_RESOURCE_LIST] = "SELECT id, name, spec, created_ms FROM resources"
                         " WHERE account_id = ?1 AND kind = ?2 ORDER BY created_ms, name",
    [SQ_RESOURCE_GET] = "SELECT id, name, spec, created_ms FROM resources"
                        " WHERE account_id = ?1 AND kind = ?2 AND id = ?3",
    [SQ_VIDEO_BY_FILE_ID] = "SELECT video_id, file_key, status FROM videos WHERE account_id = ?1 AND file_id = ?2",
    [SQ_VIDEO_INSERT] = "INSERT INTO videos (video_id, account_id, file_id, name, file_key, bucket, domain,"
                        " status, size, expected_size, expected_md5, overwrite, workflow_id, cmd,"
                        " watermark_name, template_name, subtitle_id, created_ms, duration)"
                        " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'created', -1, ?8, ?9, ?10, ?11, ?12,"
                        " ?13, ?14, ?15, ?16, -1)",
    [SQ_VIDEO_RESUME] = "UPDATE videos SET domain = ?2, expected_size = ?3, expected_md5 = ?4,"
                        " overwrite = ?5, workflow_id = ?6, cmd = ?7, watermark_name = ?8,"
                        " template_name = ?9, subtitle_id = ?10, token_ms = ?11 WHERE video_id = ?1",
    [SQ_VIDEO_CATEGORIES_CLEAR] = "DELETE FROM video_categories WHERE video_id = ?1",
    [SQ_CATEGORY_INSERT] = "INSERT INTO categories (account_id, parent_name, child_name) VALUES (?1, ?2, ?3)"
                           " ON CONFLICT DO NOTHING",
    [SQ_CATEGORY_ID] = "SELECT id FROM categories WHERE account_id = ?1 AND parent_name = ?2 AND child_name = ?3",
    [SQ_VIDEO_CATEGORY_INSERT] = "INSERT INTO video_categories (video_id, category_id, position)"
                                 " VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
    [SQ_VIDEO_GET] = "SELECT " STORE_SQLITE_VIDEO_COLUMNS " FROM videos v"
                     " WHERE v.video_id = ?1 AND v.account_id = ?2",
    [SQ_VIDEO_CATEGORIES] = "SELECT c.parent_name, c.child_name FROM video_categories vc"
                            " JOIN categories c ON c.id = vc.category_id WHERE vc.video_id = ?1"
                            " ORDER BY vc.position",
    [SQ_VIDEO_COUNT] = "SELECT count(*)" STORE_SQLITE_VIDEO_FILTER,
    [SQ_VIDEO_PAGE] = "SELECT " STORE_SQLITE_VIDEO_COLUMNS STORE_SQLITE_VIDEO_FILTER
                      " ORDER BY v.created_ms DESC, v.video_id DESC LIMIT ?5 OFFSET ?6",
    /* ?2 < 0: any account (the playback origin knows only the key). */
    [SQ_VIDEO_BY_KEY] = "SELECT " STORE_SQLITE_VIDEO_COLUMNS " FROM videos v"
                        " WHERE v.file_key = ?1 AND (?2 < 0 OR v.account_id = ?2)",
    [SQ_VIDEO_EXISTS] = "SELECT 1 FROM videos WHERE video_id = ?1 AND account_id = ?2",
    [SQ_VIDEO_OBJECT] = "SELECT object_id FROM videos WHERE video_id = ?1 AND account_id = ?2",
    /* A failed upload may be retried; its reason goes with the failure. */
    [SQ_VIDEO_SET_UPLOADING] = "UPDATE videos SET status = 'uploading', fail_reason = NULL"
                               " WHERE video_id = ?1 AND account_id = ?2 AND status IN ('created', 'failed')",
    /* New bytes make the probe results of the old ones meaningless, so they
     * are reset to "not probed" along with the upload's own fields. */
    [SQ_VIDEO_SET_UPLOADED] = "UPDATE videos SET status = 'uploaded', fail_reason = NULL, size = ?3, md5 = ?4,"
                              " etag = ?5, mime_type = ?6, object_id = ?7, uploaded_ms = ?8,"
                              " duration = -1, width = 0, height = 0, codecs = NULL"
                              " WHERE video_id = ?1 AND account_id = ?2",
    [SQ_VIDEO_SET_FAILED] = "UPDATE videos SET status = 'failed', fail_reason = ?3"
                            " WHERE video_id = ?1 AND account_id = ?2 AND object_id IS NULL",
    /* An upload's object or a served output file's: the sweep must spare both. */
    [SQ_OBJECT_IN_USE] = "SELECT EXISTS (SELECT 1 FROM videos WHERE object_id = ?1)"
                         " OR EXISTS (SELECT 1 FROM output_files WHERE object_id = ?1)",
    [SQ_SECRET_GET] = "SELECT value FROM secrets WHERE name = ?1",
    /* The first writer wins; everyone then reads the winner's value. */
    [SQ_SECRET_INSERT] = "INSERT OR IGNORE INTO secrets (name, value) VALUES (?1, ?2)",
    /* A new task is claimable at once: next_attempt_ms = created_ms. */
    [SQ_TASK_INSERT] = "INSERT INTO tasks (task_id, account_id, video_id, plan, created_ms, next_attempt_ms, fops,"
                       " notify_url, access_key) VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6, ?7, ?8)",
    /* A finished persistent job with a notify_url: its PersistentNotify
     * event, then that event's one delivery. */
    [SQ_JOB_NOTIFY_EVENT] = "INSERT INTO events (event_id, account_id, video_id, type, created_ms, task_id)"
                            " SELECT 'ev' || lower(hex(randomblob(15))), account_id, video_id, 'PersistentNotify', ?2,"
                            " task_id FROM tasks WHERE task_id = ?1 AND notify_url IS NOT NULL",
    [SQ_JOB_NOTIFY_DELIVERY] = "INSERT INTO deliveries (event_seq, url, access_key, state, next_attempt_ms)"
                               " SELECT ?2, notify_url, access_key, 'pending', ?3 FROM tasks WHERE task_id = ?1",
    [SQ_JOB_NOTIFY_STATE] = "SELECT d.state FROM events e JOIN deliveries d ON d.event_seq = e.seq"
                            " WHERE e.task_id = ?1 AND e.type = 'PersistentNotify' ORDER BY e.seq DESC LIMIT 1",
    [SQ_TASK_CANCEL_UNFINISHED] = "UPDATE tasks SET state = 'canceled', lease_owner = NULL, lease_expires_ms = 0,"
                                  " finished_ms = ?2 WHERE video_id = ?1 AND state IN ('queued', 'running')",
    /* ?2 < 0: any account (a worker knows only the task id). */
    [SQ_TASK_GET] = "SELECT " STORE_SQLITE_TASK_COLUMNS " FROM tasks WHERE task_id = ?1"
                    " AND (?2 < 0 OR account_id = ?2)",
    [SQ_TASK_LATEST] = "SELECT " STORE_SQLITE_TASK_COLUMNS " FROM tasks WHERE video_id = ?1 AND account_id = ?2"
                       " ORDER BY created_ms DESC, seq DESC LIMIT 1",
    /* Running tasks whose lease ran out after the last attempt allowed
     * (?2): their video fails first, then the tasks.  The state IN term
     * lets SQLite use the partial index of unfinished tasks. */
    [SQ_TASK_EXPIRE_VIDEOS] = "UPDATE videos SET status = 'failed', fail_reason = ?3 WHERE video_id IN"
                              " (SELECT video_id FROM tasks WHERE state IN ('queued', 'running')"
                              " AND state = 'running' AND lease_expires_ms <= ?1 AND attempts >= ?2)",
    [SQ_TASK_EXPIRE] = "UPDATE tasks SET state = 'failed', error = ?3, lease_owner = NULL, lease_expires_ms = 0,"
                       " finished_ms = ?1 WHERE state IN ('queued', 'running')"
                       " AND state = 'running' AND lease_expires_ms <= ?1 AND attempts >= ?2",
    /* claim's pick.  PostgreSQL: the same query with FOR UPDATE SKIP
     * LOCKED, so concurrent claimers pass over each other's rows. */
    [SQ_TASK_PICK] = "SELECT task_id FROM tasks WHERE state IN ('queued', 'running')"
                     " AND ((state = 'queued' AND next_attempt_ms <= ?1)"
                     "   OR (state = 'running' AND lease_expires_ms <= ?1))"
                     " ORDER BY created_ms, seq LIMIT 1",
    /* started_ms keeps the first claim: startedAt is when work began. */
    [SQ_TASK_TAKE] = "UPDATE tasks SET state = 'running', lease_owner = ?2, lease_expires_ms = ?3,"
                     " attempts = attempts + 1, progress = 0,"
                     " started_ms = CASE WHEN started_ms = 0 THEN ?4 ELSE started_ms END WHERE task_id = ?1",
    [SQ_TASK_HEARTBEAT] = "UPDATE tasks SET lease_expires_ms = ?2, progress = ?3 WHERE task_id = ?1",
    [SQ_TASK_REQUEUE] = "UPDATE tasks SET state = 'queued', error = ?2, lease_owner = NULL, lease_expires_ms = 0,"
                        " next_attempt_ms = ?3 WHERE task_id = ?1",
    [SQ_TASK_FINISH] = "UPDATE tasks SET state = ?2, error = ?3, progress = ?4, lease_owner = NULL,"
                       " lease_expires_ms = 0, finished_ms = ?5 WHERE task_id = ?1",
    [SQ_TASK_VIDEO_STATUS] = "UPDATE videos SET status = ?2, fail_reason = ?3 WHERE video_id = ?1",
    /* Without a task in progress a video is ready with the outputs of the
     * last success, or merely uploaded when no task ever succeeded. */
    [SQ_TASK_VIDEO_SETTLE] = "UPDATE videos SET fail_reason = NULL, status = CASE WHEN EXISTS"
                             " (SELECT 1 FROM tasks WHERE video_id = ?1 AND state = 'succeeded')"
                             " THEN 'ready' ELSE 'uploaded' END WHERE video_id = ?1",
    /* The probe of the bytes a succeeding task processed. */
    [SQ_OUTPUT_SET_PROBE] = "UPDATE videos SET duration = ?2, width = ?3, height = ?4, codecs = ?5"
                            " WHERE video_id = ?1",
    [SQ_OUTPUT_OLD_OBJECTS] = "SELECT object_id FROM output_files WHERE video_id = ?1",
    [SQ_OUTPUT_DELETE_LISTED] = "DELETE FROM outputs WHERE video_id = ?1",
    [SQ_OUTPUT_DELETE_FILES] = "DELETE FROM output_files WHERE video_id = ?1",
    /* A result that adds (store_task_result_t.adds): only what it replaces. */
    [SQ_OUTPUT_OLD_OBJECT_KEY] = "SELECT object_id FROM output_files WHERE video_id = ?1 AND key = ?2",
    [SQ_OUTPUT_DELETE_FILE_KEY] = "DELETE FROM output_files WHERE video_id = ?1 AND key = ?2",
    [SQ_OUTPUT_DELETE_LISTED_KEY] = "DELETE FROM outputs WHERE video_id = ?1 AND key = ?2",
    [SQ_OUTPUT_NEXT_POSITION] = "SELECT COALESCE(MAX(position) + 1, 0) FROM outputs WHERE video_id = ?1",
    [SQ_OUTPUT_INSERT_FILE] = "INSERT INTO output_files (key, video_id, object_id, size, content_type, created_ms)"
                              " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SQ_OUTPUT_INSERT_LISTED] = "INSERT INTO outputs (video_id, position, type, template_name, key, width, height,"
                                " duration, size, bitrate, codecs, language)"
                                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    /* A video's new files against the videos table: a key must not be any
     * video's fileKey, an object not any video's upload.  (output_files'
     * own indexes keep keys and objects unique among the files.) */
    [SQ_OUTPUT_CLASH] = "SELECT EXISTS (SELECT 1 FROM output_files f JOIN videos v ON v.file_key = f.key"
                        " WHERE f.video_id = ?1)"
                        " OR EXISTS (SELECT 1 FROM output_files f JOIN videos v ON v.object_id = f.object_id"
                        " WHERE f.video_id = ?1)",
    [SQ_OUTPUT_OBJECT_SERVED] = "SELECT EXISTS (SELECT 1 FROM output_files WHERE object_id = ?1)",
    [SQ_OUTPUT_LIST] = "SELECT " STORE_SQLITE_OUTPUT_COLUMNS " FROM outputs WHERE video_id = ?1 ORDER BY position",
    [SQ_OUTPUT_FILE_GET] = "SELECT " STORE_SQLITE_OUTPUT_FILE_FIND_COLUMNS
                           " FROM output_files f JOIN videos v USING (video_id) WHERE f.key = ?1",
    [SQ_WEBHOOK_INSERT] = "INSERT INTO webhooks (webhook_id, account_id, url, events, secret, created_ms)"
                          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [SQ_WEBHOOK_LIST] = "SELECT webhook_id, url, events, secret, created_ms FROM webhooks WHERE account_id = ?1"
                        " ORDER BY created_ms, rowid",
    [SQ_WEBHOOK_DELETE] = "DELETE FROM webhooks WHERE account_id = ?1 AND webhook_id = ?2",
    /* Only when a webhook wants it: most accounts have none, and then a
     * state change costs one indexed lookup, not a row.  The id is drawn by
     * SQLite (15 random bytes, as hex), so bulk reporters need no loop. */
    [SQ_EVENT_INSERT] = "INSERT INTO events (event_id, account_id, video_id, type, created_ms, data)"
                        " SELECT 'ev' || lower(hex(randomblob(15))), ?1, ?2, ?3, ?4, ?5"
                        " WHERE EXISTS (SELECT 1 FROM webhooks WHERE account_id = ?1 AND (events & ?6) != 0)",
    [SQ_DELIVERY_FANOUT] = "INSERT INTO deliveries (event_seq, webhook_id, state, next_attempt_ms)"
                           " SELECT ?1, webhook_id, 'pending', ?4 FROM webhooks"
                           " WHERE account_id = ?2 AND (events & ?3) != 0",
    /* claim's pick.  PostgreSQL: the same query with FOR UPDATE SKIP LOCKED. */
    [SQ_DELIVERY_PICK] = "SELECT delivery_id FROM deliveries WHERE state = 'pending' AND next_attempt_ms <= ?1"
                         " AND lease_expires_ms <= ?1 ORDER BY next_attempt_ms, delivery_id LIMIT 1",
    [SQ_DELIVERY_TAKE] = "UPDATE deliveries SET lease_owner = ?2, lease_expires_ms = ?3 WHERE delivery_id = ?1",
    [SQ_DELIVERY_GET] = "SELECT " STORE_SQLITE_DELIVERY_COLUMNS STORE_SQLITE_DELIVERY_FROM " WHERE d.delivery_id = ?1",
    [SQ_DELIVERY_RECORD] = "UPDATE deliveries SET state = ?3, attempts = attempts + 1, next_attempt_ms = ?4,"
                           " lease_owner = NULL, lease_expires_ms = 0, last_status = ?5, last_error = ?6,"
                           " last_attempt_ms = ?7 WHERE delivery_id = ?1 AND lease_owner = ?2"
                           " AND state = 'pending'",
    [SQ_DELIVERY_LIST] = "SELECT " STORE_SQLITE_DELIVERY_COLUMNS STORE_SQLITE_DELIVERY_FROM
                         " WHERE w.account_id = ?1 AND (?2 IS NULL OR d.webhook_id = ?2)"
                         " ORDER BY d.last_attempt_ms DESC, e.created_ms DESC, d.delivery_id DESC LIMIT ?3",
    [SQ_DELIVERY_PENDING] = "SELECT count(*) FROM deliveries WHERE state = 'pending'",
    /* The IN term is the partial index tasks_unfinished's own condition,
     * so the count walks that index, never the whole history. */
    [SQ_TASK_COUNT_UNFINISHED] =
        "SELECT count(*) FROM tasks WHERE state IN ('queued', 'running') AND state = ?1",
    [SQ_DELIVERY_PRUNE] = "DELETE FROM deliveries WHERE state != 'pending' AND last_attempt_ms < ?1",
    [SQ_EVENT_PRUNE] = "DELETE FROM events WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = events.seq)",
    [SQ_EVENT_SET_DATA] = "UPDATE events SET data = ?2 WHERE event_id = ?1 AND data IS NULL",
    [SQ_EVENT_DATA] = "SELECT data FROM events WHERE event_id = ?1",
    /* The tasks claim is about to fail for a lost worker (SQ_TASK_EXPIRE's
     * WHERE): each gets its ProcessingFailed event first. */
    /* Every object a video's bytes are in: its upload and its served files. */
    [SQ_VIDEO_OBJECTS] = "SELECT object_id FROM videos WHERE video_id = ?1 AND account_id = ?2"
                         " AND object_id IS NOT NULL"
                         " UNION ALL SELECT f.object_id FROM output_files f JOIN videos v USING (video_id)"
                         " WHERE f.video_id = ?1 AND v.account_id = ?2",
    /* Its tasks, outputs, files and category links go with it (ON DELETE CASCADE). */
    [SQ_VIDEO_DELETE] = "DELETE FROM videos WHERE video_id = ?1 AND account_id = ?2",
    /* Registrations never uploaded whose last token is older than ?1: a
     * batch of them at a time (?2), so one sweep never holds the writer long. */
    [SQ_VIDEO_EXPIRE] = "DELETE FROM videos WHERE video_id IN (SELECT video_id FROM videos WHERE object_id IS NULL"
                        " AND COALESCE(token_ms, created_ms) < ?1 AND status IN ('created', 'uploading', 'failed')"
                        " LIMIT ?2)",
    /* How many keys the key's account has (0: no such key). */
    [SQ_KEY_ACCOUNT_KEYS] = "SELECT count(*) FROM access_keys WHERE account_id ="
                            " (SELECT account_id FROM access_keys WHERE access_key = ?1)",
    [SQ_KEY_DELETE] = "DELETE FROM access_keys WHERE access_key = ?1",
    [SQ_DOMAIN_DELETE] = "DELETE FROM domains WHERE account_id = ?1 AND name = ?2",
    /* After the default was removed: the oldest remaining one, if any. */
    [SQ_DOMAIN_PROMOTE] = "UPDATE domains SET is_default = 1 WHERE rowid = (SELECT rowid FROM domains"
                          " WHERE account_id = ?1 ORDER BY created_ms, rowid LIMIT 1)"
                          " AND NOT EXISTS (SELECT 1 FROM domains WHERE account_id = ?1 AND is_default = 1)",
    [SQ_RESOURCE_DELETE] = "DELETE FROM resources WHERE account_id = ?1 AND kind = ?2 AND id = ?3",
    [SQ_PLAYBACK_GET] = "SELECT playback_access, playback_key FROM accounts WHERE id = ?1",
    [SQ_LINK_INSERT] = "INSERT INTO upload_links (link_id, account_id, access_key, expires_ms, max_size, uses, used,"
                       " template_name, workflow_id, created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9)",
    [SQ_LINK_GET] = "SELECT link_id, account_id, access_key, expires_ms, max_size, uses, used, template_name,"
                    " workflow_id, created_ms FROM upload_links WHERE link_id = ?1",
    [SQ_LINK_FILE_INSERT] = "INSERT OR IGNORE INTO upload_link_files (link_id, file_id, created_ms) VALUES (?1, ?2, ?3)",
    [SQ_LINK_USE] = "UPDATE upload_links SET used = used + 1 WHERE link_id = ?1 AND used < uses",
    [SQ_LINK_FILE_GET] = "SELECT 1 FROM upload_link_files WHERE link_id = ?1 AND file_id = ?2",
    [SQ_TUS_INSERT] = "INSERT INTO tus_uploads (upload_id, account_id, file_key, kind, state, length, received,"
                      " metadata, parts, created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [SQ_TUS_COUNT_OPEN] = "SELECT count(*) FROM (SELECT 1 FROM tus_uploads"
                          " WHERE account_id = ?1 AND file_key = ?2 AND state = 0 LIMIT ?3)",
    [SQ_TUS_GET] = "SELECT upload_id, account_id, file_key, kind, state, length, received, metadata, parts,"
                   " created_ms, updated_ms FROM tus_uploads WHERE upload_id = ?1",
    [SQ_TUS_UPDATE] = "UPDATE tus_uploads SET received = ?2, length = ?3, state = ?4, updated_ms = ?5"
                      " WHERE upload_id = ?1",
    [SQ_TUS_DELETE] = "DELETE FROM tus_uploads WHERE upload_id = ?1",
    [SQ_TUS_EXPIRED] = "DELETE FROM tus_uploads WHERE upload_id IN (SELECT upload_id FROM tus_uploads"
                       " WHERE updated_ms < ?1 ORDER BY updated_ms LIMIT ?2) RETURNING upload_id",
    [SQ_PLAYBACK_SET] = "UPDATE accounts SET playback_access = ?2,"
                        " playback_key = CASE WHEN ?4 OR playback_key IS NULL THEN ?3 ELSE playback_key END"
                        " WHERE id = ?1",
    [SQ_TASK_EXPIRING] = "SELECT account_id, video_id, task_id FROM tasks WHERE state IN ('queued', 'running')"
                         " AND state = 'running' AND lease_expires_ms <= ?1 AND attempts >= ?2",
};

/* ---- small helpers ---- */

/* Maps an SQLite result code to a store code, logging what is unexpected. */
int store_sqlite_map(sqlite3 *db, int src, const char *what)
{
    switch (src & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return STORE_OK;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
        log_warn("store: %s: %s", what, sqlite3_errstr(src));
        return STORE_UNAVAILABLE;
    case SQLITE_CONSTRAINT:
        if (src == SQLITE_CONSTRAINT_UNIQUE || src == SQLITE_CONSTRAINT_PRIMARYKEY)
            return STORE_EXISTS;
        if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
            return STORE_NOT_FOUND; /* the account (or video) referred to does not exist */
        log_warn("store: %s: %s", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
        return STORE_INVALID;
    default:
        /* Messages name tables and columns, never bound values, so no secret
         * can reach the log this way. */
        log_error("store: %s: %s (sqlite %d)", what, db ? sqlite3_errmsg(db) : sqlite3_errstr(src), src);
        return STORE_ERROR;
    }
}

/* Returns the cached statement `id` of connection `c`, preparing it once. */
int store_sqlite_prepare(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id, sqlite3_stmt **out)
{
    *out = NULL;
    if (!c->stmts[id]) {
        int src = sqlite3_prepare_v3(c->db, store_sqlite_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                     &c->stmts[id], NULL);
        if (src != SQLITE_OK) {
            c->stmts[id] = NULL;
            return store_sqlite_map(c->db, src, "prepare");
        }
    }
    *out = c->stmts[id];
    return STORE_OK;
}

/* Makes a cached statement ready for its next use and ends its read of the
 * database (an unreset statement would pin an old WAL snapshot). */
void store_sqlite_release(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* Binding helpers: each records the first failure in *err, so a run of
 * binds needs one check.  Text is bound SQLITE_STATIC: the caller's string
 * outlives the statement's use of it. */
void store_sqlite_bind_text(sqlite3_stmt *st, int i, const char *s, int *err)
{
    int src = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
    if (src != SQLITE_OK && *err == SQLITE_OK)
        *err = src;
}

void store_sqlite_bind_int64(sqlite3_stmt *st, int i, int64_t v, int *err)
{
    int src = sqlite3_bind_int64(st, i, v);
    if (src != SQLITE_OK && *err == SQLITE_OK)
        *err = src;
}

void store_sqlite_bind_double(sqlite3_stmt *st, int i, double v, int *err)
{
    int src = sqlite3_bind_double(st, i, v);
    if (src != SQLITE_OK && *err == SQLITE_OK)
        *err = src;
}

/* Steps a bound statement that returns no rows and makes it ready for
 * reuse; err is the binds' first failure, reported instead of stepping. */
int store_sqlite_step_done(store_sqlite_conn_t *c, sqlite3_stmt *st, int err, const char *what)
{
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    store_sqlite_release(st);
    return src == SQLITE_DONE ? STORE_OK : store_sqlite_map(c->db, src, what);
}

/* Runs a statement that returns no rows (transaction control, simple writes). */
int store_sqlite_exec(store_sqlite_conn_t *c, enum store_sqlite_stmt_id id, const char *what)
{
    sqlite3_stmt *st;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        return rc;
    int src = sqlite3_step(st);
    rc = src == SQLITE_DONE || src == SQLITE_ROW ? STORE_OK : store_sqlite_map(c->db, src, what);
    store_sqlite_release(st);
    return rc;
}

/* Ends whatever transaction is open on `c`, discarding it. */
void store_sqlite_rollback(store_sqlite_conn_t *c)
{
    if (!sqlite3_get_autocommit(c->db))
        (void)store_sqlite_exec(c, SQ_ROLLBACK, "rollback");
}

/* Commits, and on failure leaves no transaction open. */
int store_sqlite_commit(store_sqlite_conn_t *c)
{
    int rc = store_sqlite_exec(c, SQ_COMMIT, "commit");
    if (rc != STORE_OK)
        store_sqlite_rollback(c);
    return rc;
}

/* Copies a text column; NULL stays NULL.  Sets *ok false when out of memory. */
char *store_sqlite_col_text(sqlite3_stmt *st, int col, bool *ok)
{
    if (sqlite3_column_type(st, col) == SQLITE_NULL)
        return NULL;
    const unsigned char *t = sqlite3_column_text(st, col);
    char *s = t ? strdup((const char *)t) : NULL;
    if (!s)
        *ok = false;
    return s;
}

/* Grows an array of `size`-byte items so one more fits. */
bool store_sqlite_grow(void **items, size_t *cap, size_t count, size_t size)
{
    if (count < *cap)
        return true;
    size_t ncap = *cap ? *cap * 2 : 8;
    if (ncap > SIZE_MAX / size)
        return false;
    void *n = realloc(*items, ncap * size);
    if (!n)
        return false;
    *items = n;
    *cap = ncap;
    return true;
}

/* Copies src into a fixed result field; false when it does not fit. */
bool store_sqlite_copy_field(char *dst, size_t dstlen, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (!src || n >= dstlen)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

/* ---- the read pool ---- */

/* Takes an idle read connection, waiting while all are busy (reads are
 * short, so the wait is too). */
store_sqlite_conn_t *store_sqlite_reader_get(store_sqlite_t *s)
{
    pthread_mutex_lock(&s->pool_mu);
    while (s->free_count == 0)
        pthread_cond_wait(&s->pool_cv, &s->pool_mu);
    store_sqlite_conn_t *c = s->free_readers[--s->free_count];
    pthread_mutex_unlock(&s->pool_mu);
    return c;
}

void store_sqlite_reader_put(store_sqlite_t *s, store_sqlite_conn_t *c)
{
    /* A read transaction left open would pin its snapshot and stop the WAL
     * from being checkpointed. */
    store_sqlite_rollback(c);
    pthread_mutex_lock(&s->pool_mu);
    s->free_readers[s->free_count++] = c;
    pthread_cond_signal(&s->pool_cv);
    pthread_mutex_unlock(&s->pool_mu);
}

/* ---- connections ---- */

void store_sqlite_conn_close(store_sqlite_conn_t *c)
{
    for (size_t i = 0; i < SQ_COUNT; i++) {
        sqlite3_finalize(c->stmts[i]);
        c->stmts[i] = NULL;
    }
    if (c->db)
        sqlite3_close(c->db);
    c->db = NULL;
}

/*
 * Opens one connection.  Connections are NOMUTEX: each is used by one thread
 * at a time (the pool or write_mu sees to that), so SQLite's own per-call
 * mutex would be pure overhead.  Read connections are opened read-write but
 * set query_only: a SQLITE_OPEN_READONLY connection cannot rebuild the -shm
 * index after a crash and would fail instead.
 */
int store_sqlite_conn_open(store_sqlite_conn_t *c, const char *path, int busy_ms, bool reader)
{
    memset(c, 0, sizeof(*c));
    int src = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        log_error("store: cannot open %s: %s", path, c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(src));
        store_sqlite_conn_close(c);
        return src == SQLITE_CANTOPEN ? STORE_UNAVAILABLE : STORE_ERROR;
    }
    sqlite3_extended_result_codes(c->db, 1);
    sqlite3_busy_timeout(c->db, busy_ms);
    src = sqlite3_exec(c->db, reader ? "PRAGMA query_only = ON" : "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    if (src != SQLITE_OK) {
        int rc = store_sqlite_map(c->db, src, "configure connection");
        store_sqlite_conn_close(c);
        return rc;
    }
    return STORE_OK;
}

/* ---- reads of one integer ---- */

/* Runs a read statement whose first row's first column is an integer. */
int store_sqlite_read_int64(store_sqlite_t *s, enum store_sqlite_stmt_id id, const char *text_arg,
                            int64_t *value, const char *what)
{
    store_sqlite_conn_t *c = store_sqlite_reader_get(s);
    sqlite3_stmt *st = NULL;
    int rc = store_sqlite_prepare(c, id, &st);
    if (rc != STORE_OK)
        goto out;
    int err = SQLITE_OK;
    if (text_arg)
        store_sqlite_bind_text(st, 1, text_arg, &err);
    int src = err != SQLITE_OK ? err : sqlite3_step(st);
    if (src == SQLITE_ROW)
        *value = sqlite3_column_int64(st, 0);
    else if (src == SQLITE_DONE)
        rc = STORE_NOT_FOUND;
    else
        rc = store_sqlite_map(c->db, src, what);
out:
    store_sqlite_release(st);
    store_sqlite_reader_put(s, c);
    return rc;
}
