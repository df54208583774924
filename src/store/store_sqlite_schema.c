/*
 * store_sqlite_schema: the database's schema, as the ordered list of
 * migrations that build it (each with the one-line note `vodup migrate`
 * prints), and the code that brings a file up to date and records how far
 * it got in PRAGMA user_version, or reads that version without changing
 * anything (store.h, "whole databases").
 *
 * It must never edit a migration that has shipped (databases in the field
 * already ran it: append a new one instead), and never open a database whose
 * schema is newer than this build knows.
 */
#include "store/store_sqlite_internal.h"

#include <stdio.h>

#include "common/log.h"

/* ---- schema ---- */

/*
 * Migrations, applied in order inside one IMMEDIATE transaction; PRAGMA
 * user_version records how many have run.  Append new entries, never edit
 * an old one: databases in the field already ran it.
 */
static const char *const store_sqlite_migrations[] = {
    /* 1: the initial schema. */
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  bucket TEXT NOT NULL UNIQUE,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE TABLE access_keys ("
    "  access_key TEXT PRIMARY KEY,"
    "  secret_key TEXT NOT NULL,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX access_keys_account ON access_keys(account_id);"
    /* Host names are case-insensitive, so "CDN.example.com" duplicates
     * "cdn.example.com". */
    "CREATE TABLE domains ("
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  name TEXT NOT NULL COLLATE NOCASE,"
    "  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (account_id, name));"
    /* At most one default per account, enforced by the database itself. */
    "CREATE UNIQUE INDEX domains_one_default ON domains(account_id) WHERE is_default = 1;"
    "CREATE TABLE resources ("
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  kind TEXT NOT NULL CHECK (kind IN ('workflow', 'watermark', 'template', 'subtitle')),"
    "  id TEXT NOT NULL,"
    "  name TEXT NOT NULL,"
    "  spec TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (account_id, kind, name),"
    "  UNIQUE (account_id, kind, id));"
    "CREATE TABLE categories ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  parent_name TEXT NOT NULL,"
    "  child_name TEXT NOT NULL,"
    "  UNIQUE (account_id, parent_name, child_name));"
    "CREATE TABLE videos ("
    "  video_id TEXT PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  file_id TEXT,"
    "  name TEXT NOT NULL,"
    "  file_key TEXT NOT NULL,"
    "  bucket TEXT NOT NULL,"
    "  domain TEXT NOT NULL DEFAULT '',"
    "  status TEXT NOT NULL DEFAULT 'created' CHECK (status IN"
    "    ('created', 'uploading', 'uploaded', 'processing', 'ready', 'failed')),"
    "  fail_reason TEXT,"
    "  size INTEGER NOT NULL DEFAULT -1,"
    "  md5 TEXT,"
    "  etag TEXT,"
    "  mime_type TEXT,"
    "  expected_size INTEGER NOT NULL DEFAULT -1,"
    "  expected_md5 TEXT,"
    "  overwrite INTEGER NOT NULL DEFAULT 0 CHECK (overwrite IN (0, 1)),"
    "  workflow_id TEXT,"
    "  cmd TEXT,"
    "  watermark_name TEXT,"
    "  template_name TEXT,"
    "  subtitle_id TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  uploaded_ms INTEGER NOT NULL DEFAULT 0,"
    "  duration REAL NOT NULL DEFAULT -1,"
    "  width INTEGER NOT NULL DEFAULT 0,"
    "  height INTEGER NOT NULL DEFAULT 0,"
    "  codecs TEXT);"
    "CREATE UNIQUE INDEX videos_file_id ON videos(account_id, file_id) WHERE file_id IS NOT NULL;"
    /* getVideoList walks this index in order and stops after one page. */
    "CREATE INDEX videos_newest ON videos(account_id, created_ms DESC, video_id DESC);"
    /* position keeps the order the categories were given in. */
    "CREATE TABLE video_categories ("
    "  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,"
    "  category_id INTEGER NOT NULL REFERENCES categories(id),"
    "  position INTEGER NOT NULL,"
    "  PRIMARY KEY (video_id, category_id)) WITHOUT ROWID;"
    "CREATE INDEX video_categories_category ON video_categories(category_id);",

    /* 2: the upload path.  object_id names the blob object holding a
     * video's bytes (NULL until the first upload is published).  A fileKey
     * embeds its video's id, so keys already stored are distinct and the
     * playback origin can look one up without knowing the account; making
     * the index UNIQUE turns that invariant into the database's to keep.  No
     * two videos may share an object either: replacing one video's upload
     * removes the old object's bytes, which must not be another's.  The
     * object index also serves the blob sweep's "is this object in use?". */
    "ALTER TABLE videos ADD COLUMN object_id TEXT;"
    "CREATE UNIQUE INDEX videos_file_key ON videos(file_key);"
    "CREATE UNIQUE INDEX videos_object_id ON videos(object_id) WHERE object_id IS NOT NULL;"
    /* Server-wide secrets (keys of HMACs that every node must agree on). */
    "CREATE TABLE secrets ("
    "  name TEXT PRIMARY KEY,"
    "  value BLOB NOT NULL);",

    /* 3: processing tasks, a durable queue.  seq orders tasks created in
     * the same millisecond (task ids are random).  plan is the frozen plan,
     * copied at enqueue.  Times are Unix ms, 0 for "not yet". */
    "CREATE TABLE tasks ("
    "  seq INTEGER PRIMARY KEY,"
    "  task_id TEXT NOT NULL UNIQUE,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,"
    "  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN"
    "    ('queued', 'running', 'succeeded', 'failed', 'canceled')),"
    "  plan TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  error TEXT,"
    "  progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),"
    "  lease_owner TEXT,"
    "  lease_expires_ms INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  started_ms INTEGER NOT NULL DEFAULT 0,"
    "  finished_ms INTEGER NOT NULL DEFAULT 0);"
    /* A video has at most one unfinished task: two would race to publish
     * outputs of different bytes.  The database keeps that invariant. */
    "CREATE UNIQUE INDEX tasks_one_unfinished ON tasks(video_id) WHERE state IN ('queued', 'running');"
    /* claim walks the unfinished tasks oldest first; finished ones, the
     * bulk of the table over time, are not in this index at all. */
    "CREATE INDEX tasks_unfinished ON tasks(created_ms, seq) WHERE state IN ('queued', 'running');"
    /* A video's latest task, and whether an earlier one succeeded. */
    "CREATE INDEX tasks_video ON tasks(video_id, created_ms);",

    /* 4: processing outputs, published by a task's success.  outputs are
     * what getVideoInfo lists, in the task's order (position); output_files
     * map every key the playback origin serves for a video to its blob
     * object.  A key is unique across the database (the key is the primary
     * key, as a fileKey is unique in videos) and so is an object: removing
     * a replaced file's object must never remove another's bytes.  The
     * object index also serves the blob sweep's "is this object in use?",
     * the video index the replacement of a video's files.  Deleting a video
     * takes its outputs along; the sweep then removes their objects. */
    "CREATE TABLE outputs ("
    "  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,"
    "  position INTEGER NOT NULL,"
    "  type TEXT NOT NULL CHECK (type IN ('mp4', 'webm', 'mkv', 'hls', 'vtt', 'cover')),"
    "  template_name TEXT,"
    "  key TEXT NOT NULL,"
    "  width INTEGER NOT NULL DEFAULT 0,"
    "  height INTEGER NOT NULL DEFAULT 0,"
    "  duration REAL NOT NULL DEFAULT 0,"
    "  size INTEGER NOT NULL,"
    "  bitrate INTEGER NOT NULL DEFAULT 0,"
    "  codecs TEXT,"
    "  language TEXT,"
    "  PRIMARY KEY (video_id, position)) WITHOUT ROWID;"
    "CREATE TABLE output_files ("
    "  key TEXT PRIMARY KEY,"
    "  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,"
    "  object_id TEXT NOT NULL,"
    "  size INTEGER NOT NULL,"
    "  content_type TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX output_files_object_id ON output_files(object_id);"
    "CREATE INDEX output_files_video ON output_files(video_id);",

    /* 5: events and webhooks, and the expiry of registrations.  An event row is written with the state
     * change it reports, together with one delivery per subscribed webhook
     * (store.h, "events and webhooks").  events.video_id has no foreign key:
     * a VideoDeleted event outlives its video.  Removing a webhook takes its
     * deliveries along; events left without deliveries are pruned.  The due
     * index holds only pending deliveries, the bulk of the table over time
     * being finished ones. */
    "CREATE TABLE webhooks ("
    "  webhook_id TEXT PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  url TEXT NOT NULL,"
    "  events INTEGER NOT NULL CHECK (events > 0),"
    "  secret TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE INDEX webhooks_account ON webhooks(account_id);"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  event_id TEXT NOT NULL UNIQUE,"
    "  account_id INTEGER NOT NULL,"
    "  video_id TEXT NOT NULL,"
    "  type TEXT NOT NULL CHECK (type IN ('FileUploadComplete', 'ProcessingComplete', 'ProcessingFailed',"
    "    'VideoDeleted')),"
    "  created_ms INTEGER NOT NULL,"
    "  data TEXT);"
    "CREATE TABLE deliveries ("
    "  delivery_id INTEGER PRIMARY KEY,"
    "  event_seq INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,"
    "  webhook_id TEXT NOT NULL REFERENCES webhooks(webhook_id) ON DELETE CASCADE,"
    "  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL,"
    "  lease_owner TEXT,"
    "  lease_expires_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_status INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  last_attempt_ms INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX deliveries_due ON deliveries(next_attempt_ms, delivery_id) WHERE state = 'pending';"
    "CREATE INDEX deliveries_webhook ON deliveries(webhook_id, last_attempt_ms);"
    "CREATE INDEX deliveries_event ON deliveries(event_seq);"
    "CREATE INDEX deliveries_finished ON deliveries(last_attempt_ms) WHERE state != 'pending';"
    /* A registration's last getUploadToken (NULL: its creation), for the
     * expiry of registrations never uploaded; the index holds only those. */
    "ALTER TABLE videos ADD COLUMN token_ms INTEGER;"
    "CREATE INDEX videos_never_uploaded ON videos(COALESCE(token_ms, created_ms)) WHERE object_id IS NULL;",

    /* 6: playback access per account ('public' or 'signed') and the key
     * signed URLs are checked with (32 bytes, drawn when first needed). */
    ("ALTER TABLE accounts ADD COLUMN playback_access TEXT NOT NULL DEFAULT 'public';"
     "ALTER TABLE accounts ADD COLUMN playback_key BLOB;"),

    /* 7: persistent jobs (the vendor's fops).  A task may carry the fops
     * text it runs, the URL to notify when it finishes and the AccessKey
     * that signs that notification; frames get their own output type; an
     * event may be a job's notification, whose one delivery has its own url
     * instead of a webhook.  SQLite cannot change a CHECK or a NOT NULL in
     * place, so outputs, events and deliveries are rebuilt: the new tables
     * are filled first and the old ones dropped child first, so no DROP
     * cascades into rows that are kept (foreign keys stay on; RENAME
     * rewrites deliveries' reference to events_v7). */
    ("ALTER TABLE tasks ADD COLUMN fops TEXT;"
     "ALTER TABLE tasks ADD COLUMN notify_url TEXT;"
     "ALTER TABLE tasks ADD COLUMN access_key TEXT;"
     "CREATE TABLE outputs_v7 ("
     "  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,"
     "  position INTEGER NOT NULL,"
     "  type TEXT NOT NULL CHECK (type IN ('mp4', 'webm', 'mkv', 'hls', 'vtt', 'cover', 'jpg')),"
     "  template_name TEXT,"
     "  key TEXT NOT NULL,"
     "  width INTEGER NOT NULL DEFAULT 0,"
     "  height INTEGER NOT NULL DEFAULT 0,"
     "  duration REAL NOT NULL DEFAULT 0,"
     "  size INTEGER NOT NULL,"
     "  bitrate INTEGER NOT NULL DEFAULT 0,"
     "  codecs TEXT,"
     "  language TEXT,"
     "  PRIMARY KEY (video_id, position)) WITHOUT ROWID;"
     "INSERT INTO outputs_v7 SELECT video_id, position, type, template_name, key, width, height, duration, size,"
     "  bitrate, codecs, language FROM outputs;"
     "DROP TABLE outputs;"
     "ALTER TABLE outputs_v7 RENAME TO outputs;"
     "CREATE TABLE events_v7 ("
     "  seq INTEGER PRIMARY KEY,"
     "  event_id TEXT NOT NULL UNIQUE,"
     "  account_id INTEGER NOT NULL,"
     "  video_id TEXT NOT NULL,"
     "  type TEXT NOT NULL CHECK (type IN ('FileUploadComplete', 'ProcessingComplete', 'ProcessingFailed',"
     "    'VideoDeleted', 'PersistentNotify')),"
     "  created_ms INTEGER NOT NULL,"
     "  data TEXT,"
     "  task_id TEXT);"
     "INSERT INTO events_v7 (seq, event_id, account_id, video_id, type, created_ms, data)"
     "  SELECT seq, event_id, account_id, video_id, type, created_ms, data FROM events;"
     "CREATE TABLE deliveries_v7 ("
     "  delivery_id INTEGER PRIMARY KEY,"
     "  event_seq INTEGER NOT NULL REFERENCES events_v7(seq) ON DELETE CASCADE,"
     "  webhook_id TEXT REFERENCES webhooks(webhook_id) ON DELETE CASCADE,"
     "  url TEXT,"
     "  access_key TEXT,"
     "  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),"
     "  attempts INTEGER NOT NULL DEFAULT 0,"
     "  next_attempt_ms INTEGER NOT NULL,"
     "  lease_owner TEXT,"
     "  lease_expires_ms INTEGER NOT NULL DEFAULT 0,"
     "  last_status INTEGER NOT NULL DEFAULT 0,"
     "  last_error TEXT,"
     "  last_attempt_ms INTEGER NOT NULL DEFAULT 0,"
     "  CHECK ((webhook_id IS NULL) != (url IS NULL)));"
     "INSERT INTO deliveries_v7 (delivery_id, event_seq, webhook_id, state, attempts, next_attempt_ms, lease_owner,"
     "  lease_expires_ms, last_status, last_error, last_attempt_ms)"
     "  SELECT delivery_id, event_seq, webhook_id, state, attempts, next_attempt_ms, lease_owner,"
     "  lease_expires_ms, last_status, last_error, last_attempt_ms FROM deliveries;"
     "DROP TABLE deliveries;"
     "DROP TABLE events;"
     "ALTER TABLE events_v7 RENAME TO events;"
     "ALTER TABLE deliveries_v7 RENAME TO deliveries;"
     "CREATE INDEX deliveries_due ON deliveries(next_attempt_ms, delivery_id) WHERE state = 'pending';"
     "CREATE INDEX deliveries_webhook ON deliveries(webhook_id, last_attempt_ms);"
     "CREATE INDEX deliveries_event ON deliveries(event_seq);"
     "CREATE INDEX deliveries_finished ON deliveries(last_attempt_ms) WHERE state != 'pending';"
     "CREATE INDEX events_task ON events(task_id) WHERE task_id IS NOT NULL;"),
    /* 8: tus uploads; upload links and the files (fileIds) each one registered */
    ("CREATE TABLE tus_uploads ("
     "  upload_id TEXT PRIMARY KEY,"
     "  account_id INTEGER NOT NULL,"
     "  file_key TEXT NOT NULL,"
     "  kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),"
     "  state INTEGER NOT NULL CHECK (state IN (0, 1)),"
     "  length INTEGER NOT NULL,"
     "  received INTEGER NOT NULL,"
     "  metadata TEXT,"
     "  parts TEXT,"
     "  created_ms INTEGER NOT NULL,"
     "  updated_ms INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE INDEX tus_uploads_updated ON tus_uploads(updated_ms);"
     "CREATE TABLE upload_links ("
     "  link_id TEXT PRIMARY KEY,"
     "  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,"
     "  access_key TEXT NOT NULL,"
     "  expires_ms INTEGER NOT NULL,"
     "  max_size INTEGER NOT NULL,"
     "  uses INTEGER NOT NULL,"
     "  used INTEGER NOT NULL DEFAULT 0,"
     "  template_name TEXT,"
     "  workflow_id TEXT,"
     "  created_ms INTEGER NOT NULL) WITHOUT ROWID;"
     "CREATE TABLE upload_link_files ("
     "  link_id TEXT NOT NULL REFERENCES upload_links(link_id) ON DELETE CASCADE,"
     "  file_id TEXT NOT NULL,"
     "  created_ms INTEGER NOT NULL,"
     "  PRIMARY KEY (link_id, file_id)) WITHOUT ROWID;"),
    /* 9: the unfinished tus uploads of one fileKey, counted at creation */
    ("CREATE INDEX tus_uploads_file ON tus_uploads(account_id, file_key, state);"),
};

#define STORE_SQLITE_SCHEMA_VERSION \
    ((int)(sizeof(store_sqlite_migrations) / sizeof(store_sqlite_migrations[0])))

/*
 * One line per migration, what `vodup migrate` shows (entry i reaches
 * version i + 1).  A table beside the migrations rather than in them, so
 * the shipped SQL texts stay byte for byte what databases in the field ran;
 * the assertion keeps the two the same length.
 */
static const char *const store_sqlite_migration_notes[] = {
    "the initial schema: accounts, AccessKeys, domains, resources, categories, videos",
    "the upload path: a video's object, unique fileKeys and objects, server secrets",
    "processing tasks: a durable queue with leases and retries",
    "processing outputs: the listed outputs and the files playback serves",
    "webhooks, events and deliveries; the expiry of registrations never uploaded",
    "playback access per account (public or signed) and its signing key",
    ("persistent jobs (fops): a task's fops and notify URL, frame outputs, job notifications (rebuilds outputs, "
     "events and deliveries)"),
    "tus uploads (the durable offset, length, metadata and parts of each) and upload links",
    "an index of tus uploads by fileKey, for max-tus-uploads-per-file",
};

_Static_assert(sizeof(store_sqlite_migration_notes) / sizeof(store_sqlite_migration_notes[0]) ==
                   sizeof(store_sqlite_migrations) / sizeof(store_sqlite_migrations[0]),
               "every migration has its one-line note");

int store_schema_target(void)
{
    return STORE_SQLITE_SCHEMA_VERSION;
}

const char *store_schema_step_note(int version)
{
    if (version < 1 || version > STORE_SQLITE_SCHEMA_VERSION)
        return NULL;
    return store_sqlite_migration_notes[version - 1];
}

/* ---- migrating ---- */

static int store_sqlite_user_version(store_sqlite_conn_t *c, int *version)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL);
    if (src == SQLITE_OK)
        src = sqlite3_step(st);
    int rc = src == SQLITE_ROW ? STORE_OK : store_sqlite_map(c->db, src, "user_version");
    if (rc == STORE_OK)
        *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

/* Brings the schema up to date.  An up-to-date database is only read, so
 * opening never waits for another process's write; otherwise BEGIN IMMEDIATE
 * makes a server and an admin process that open a new directory at once take
 * turns, and the version is read again under that lock. */
int store_sqlite_migrate(store_sqlite_conn_t *c)
{
    int version = 0;
    int rc = store_sqlite_user_version(c, &version);
    if (rc != STORE_OK || version == STORE_SQLITE_SCHEMA_VERSION)
        return rc;
    rc = store_sqlite_exec(c, SQ_BEGIN_IMMEDIATE, "begin migration");
    if (rc != STORE_OK)
        return rc;
    rc = store_sqlite_user_version(c, &version);
    if (rc != STORE_OK)
        goto out;
    if (version > STORE_SQLITE_SCHEMA_VERSION) {
        log_error("store: the database's schema version %d is newer than this vodup's (%d): run the vodup that"
                  " migrated it, or restore a backup made before the upgrade (docs/upgrading.md)",
                  version, STORE_SQLITE_SCHEMA_VERSION);
        rc = STORE_ERROR;
        goto out;
    }
    if (version > 0)
        log_info("store: migrating the database schema from version %d to %d (back up first: docs/upgrading.md)",
                 version, STORE_SQLITE_SCHEMA_VERSION);
    for (int v = version; v < STORE_SQLITE_SCHEMA_VERSION; v++) {
        int src = sqlite3_exec(c->db, store_sqlite_migrations[v], NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            /* Logged here: the mapping stays silent about constraint
             * failures (a UNIQUE index over rows that break it), and a
             * database that cannot be migrated stops the server. */
            log_error("store: migration to schema version %d failed: %s", v + 1, sqlite3_errmsg(c->db));
            rc = store_sqlite_map(c->db, src, "migration");
            goto out;
        }
        /* PRAGMA takes no bound parameters; the value is our own constant. */
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
        src = sqlite3_exec(c->db, sql, NULL, NULL, NULL);
        if (src != SQLITE_OK) {
            rc = store_sqlite_map(c->db, src, "migration");
            goto out;
        }
        log_info("store: database schema migrated to version %d", v + 1);
    }
    rc = store_sqlite_commit(c);
out:
    if (rc != STORE_OK)
        store_sqlite_rollback(c);
    return rc;
}

/* ---- reading the version of a database file (vodup migrate) ---- */

/* Opens nothing that is missing: a database that does not exist is an
 * error here, not a new empty one, and the file is only read. */
int store_schema_version(const char *location, int *version, char *err, size_t errlen)
{
    store_sqlite_conn_t c;
    int rc = store_sqlite_conn_open(&c, location, 5000, true);
    if (rc != STORE_OK) {
        snprintf(err, errlen, "cannot open the database %s", location);
        return rc;
    }
    rc = store_sqlite_user_version(&c, version);
    if (rc != STORE_OK)
        snprintf(err, errlen, "cannot read the schema version of %s (not a vodup database?)", location);
    store_sqlite_conn_close(&c);
    return rc;
}
