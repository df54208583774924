/*
 * The schema of a version-6 database (vodup before persistent jobs), as
 * `sqlite3 .schema` printed it for a database that version made: the
 * starting point of the tests that migrate version 6 to the current one.
 */
#ifndef VODUP_TEST_SCHEMA_V6_H
#define VODUP_TEST_SCHEMA_V6_H

static const char schema_v6[] =
    "CREATE TABLE accounts (  id INTEGER PRIMARY KEY,  name TEXT NOT NULL UNIQUE,  bucket TEXT NOT NULL UNIQUE,  created_ms INTEGER NOT NULL, playback_access TEXT NOT NULL DEFAULT 'public', playback_key BLOB);\n"
    "CREATE TABLE access_keys (  access_key TEXT PRIMARY KEY,  secret_key TEXT NOT NULL,  account_id INTEGER NOT NULL REFERENCES accounts(id),  enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),  created_ms INTEGER NOT NULL);\n"
    "CREATE INDEX access_keys_account ON access_keys(account_id);\n"
    "CREATE TABLE domains (  account_id INTEGER NOT NULL REFERENCES accounts(id),  name TEXT NOT NULL COLLATE NOCASE,  is_default INTEGER NOT NULL DEFAULT 0 CHECK (is_default IN (0, 1)),  created_ms INTEGER NOT NULL,  UNIQUE (account_id, name));\n"
    "CREATE UNIQUE INDEX domains_one_default ON domains(account_id) WHERE is_default = 1;\n"
    "CREATE TABLE resources (  account_id INTEGER NOT NULL REFERENCES accounts(id),  kind TEXT NOT NULL CHECK (kind IN ('workflow', 'watermark', 'template', 'subtitle')),  id TEXT NOT NULL,  name TEXT NOT NULL,  spec TEXT NOT NULL,  created_ms INTEGER NOT NULL,  UNIQUE (account_id, kind, name),  UNIQUE (account_id, kind, id));\n"
    "CREATE TABLE categories (  id INTEGER PRIMARY KEY,  account_id INTEGER NOT NULL REFERENCES accounts(id),  parent_name TEXT NOT NULL,  child_name TEXT NOT NULL,  UNIQUE (account_id, parent_name, child_name));\n"
    "CREATE TABLE videos (  video_id TEXT PRIMARY KEY,  account_id INTEGER NOT NULL REFERENCES accounts(id),  file_id TEXT,  name TEXT NOT NULL,  file_key TEXT NOT NULL,  bucket TEXT NOT NULL,  domain TEXT NOT NULL DEFAULT '',  status TEXT NOT NULL DEFAULT 'created' CHECK (status IN    ('created', 'uploading', 'uploaded', 'processing', 'ready', 'failed')),  fail_reason TEXT,  size INTEGER NOT NULL DEFAULT -1,  md5 TEXT,  etag TEXT,  mime_type TEXT,  expected_size INTEGER NOT NULL DEFAULT -1,  expected_md5 TEXT,  overwrite INTEGER NOT NULL DEFAULT 0 CHECK (overwrite IN (0, 1)),  workflow_id TEXT,  cmd TEXT,  watermark_name TEXT,  template_name TEXT,  subtitle_id TEXT,  created_ms INTEGER NOT NULL,  uploaded_ms INTEGER NOT NULL DEFAULT 0,  duration REAL NOT NULL DEFAULT -1,  width INTEGER NOT NULL DEFAULT 0,  height INTEGER NOT NULL DEFAULT 0,  codecs TEXT, object_id TEXT, token_ms INTEGER);\n"
    "CREATE UNIQUE INDEX videos_file_id ON videos(account_id, file_id) WHERE file_id IS NOT NULL;\n"
    "CREATE INDEX videos_newest ON videos(account_id, created_ms DESC, video_id DESC);\n"
    "CREATE TABLE video_categories (  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,  category_id INTEGER NOT NULL REFERENCES categories(id),  position INTEGER NOT NULL,  PRIMARY KEY (video_id, category_id)) WITHOUT ROWID;\n"
    "CREATE INDEX video_categories_category ON video_categories(category_id);\n"
    "CREATE UNIQUE INDEX videos_file_key ON videos(file_key);\n"
    "CREATE UNIQUE INDEX videos_object_id ON videos(object_id) WHERE object_id IS NOT NULL;\n"
    "CREATE TABLE secrets (  name TEXT PRIMARY KEY,  value BLOB NOT NULL);\n"
    "CREATE TABLE tasks (  seq INTEGER PRIMARY KEY,  task_id TEXT NOT NULL UNIQUE,  account_id INTEGER NOT NULL REFERENCES accounts(id),  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,  state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN    ('queued', 'running', 'succeeded', 'failed', 'canceled')),  plan TEXT NOT NULL,  attempts INTEGER NOT NULL DEFAULT 0,  error TEXT,  progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),  lease_owner TEXT,  lease_expires_ms INTEGER NOT NULL DEFAULT 0,  next_attempt_ms INTEGER NOT NULL DEFAULT 0,  created_ms INTEGER NOT NULL,  started_ms INTEGER NOT NULL DEFAULT 0,  finished_ms INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE UNIQUE INDEX tasks_one_unfinished ON tasks(video_id) WHERE state IN ('queued', 'running');\n"
    "CREATE INDEX tasks_unfinished ON tasks(created_ms, seq) WHERE state IN ('queued', 'running');\n"
    "CREATE INDEX tasks_video ON tasks(video_id, created_ms);\n"
    "CREATE TABLE outputs (  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,  position INTEGER NOT NULL,  type TEXT NOT NULL CHECK (type IN ('mp4', 'webm', 'mkv', 'hls', 'vtt', 'cover')),  template_name TEXT,  key TEXT NOT NULL,  width INTEGER NOT NULL DEFAULT 0,  height INTEGER NOT NULL DEFAULT 0,  duration REAL NOT NULL DEFAULT 0,  size INTEGER NOT NULL,  bitrate INTEGER NOT NULL DEFAULT 0,  codecs TEXT,  language TEXT,  PRIMARY KEY (video_id, position)) WITHOUT ROWID;\n"
    "CREATE TABLE output_files (  key TEXT PRIMARY KEY,  video_id TEXT NOT NULL REFERENCES videos(video_id) ON DELETE CASCADE,  object_id TEXT NOT NULL,  size INTEGER NOT NULL,  content_type TEXT NOT NULL,  created_ms INTEGER NOT NULL);\n"
    "CREATE UNIQUE INDEX output_files_object_id ON output_files(object_id);\n"
    "CREATE INDEX output_files_video ON output_files(video_id);\n"
    "CREATE TABLE webhooks (  webhook_id TEXT PRIMARY KEY,  account_id INTEGER NOT NULL REFERENCES accounts(id),  url TEXT NOT NULL,  events INTEGER NOT NULL CHECK (events > 0),  secret TEXT NOT NULL,  created_ms INTEGER NOT NULL);\n"
    "CREATE INDEX webhooks_account ON webhooks(account_id);\n"
    "CREATE TABLE events (  seq INTEGER PRIMARY KEY,  event_id TEXT NOT NULL UNIQUE,  account_id INTEGER NOT NULL,  video_id TEXT NOT NULL,  type TEXT NOT NULL CHECK (type IN ('FileUploadComplete', 'ProcessingComplete', 'ProcessingFailed',    'VideoDeleted')),  created_ms INTEGER NOT NULL,  data TEXT);\n"
    "CREATE TABLE deliveries (  delivery_id INTEGER PRIMARY KEY,  event_seq INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,  webhook_id TEXT NOT NULL REFERENCES webhooks(webhook_id) ON DELETE CASCADE,  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),  attempts INTEGER NOT NULL DEFAULT 0,  next_attempt_ms INTEGER NOT NULL,  lease_owner TEXT,  lease_expires_ms INTEGER NOT NULL DEFAULT 0,  last_status INTEGER NOT NULL DEFAULT 0,  last_error TEXT,  last_attempt_ms INTEGER NOT NULL DEFAULT 0);\n"
    "CREATE INDEX deliveries_due ON deliveries(next_attempt_ms, delivery_id) WHERE state = 'pending';\n"
    "CREATE INDEX deliveries_webhook ON deliveries(webhook_id, last_attempt_ms);\n"
    "CREATE INDEX deliveries_event ON deliveries(event_seq);\n"
    "CREATE INDEX deliveries_finished ON deliveries(last_attempt_ms) WHERE state != 'pending';\n"
    "CREATE INDEX videos_never_uploaded ON videos(COALESCE(token_ms, created_ms)) WHERE object_id IS NULL;\n";

#endif
