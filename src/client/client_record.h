/*
 * client_record: the resume record of `vodup upload`, and the identity of
 * the file it belongs to.
 *
 * A file's identity is (device, inode, size, mtime in ns): it changes when
 * the file is rewritten, so a record made for other bytes is never reused.
 * The fileId that getUploadToken receives is derived from the identity, the
 * absolute path, the endpoint and the AccessKey (SHA-256, 32 hex digits), so
 * running the same command again after any interruption names the same
 * video and finds the same record.
 *
 * The record, CACHE/<fileId>.json, holds that identity, the file's MD5 once
 * computed (so a re-run does not read the whole file again), the block
 * size, the videoId, and the final ctx of every acknowledged block.  It is
 * replaced atomically (temp file + rename) so a crash at any moment leaves
 * the previous or the next version, never half of one.  Its ctx values are
 * the server's signed block states: they grant nothing without a token.
 *
 * Serialisation and validation are pure; load/save/purge do file I/O only.
 */
#ifndef VODUP_CLIENT_RECORD_H
#define VODUP_CLIENT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#define CLIENT_FILE_ID_MAX 32  /* the API's limit for fileId */
#define CLIENT_CTX_MAX 255     /* the contract promises under 200 bytes */
#define CLIENT_RECORD_VERSION 1
#define CLIENT_RECORD_FILE_MAX ((size_t)64 * 1024 * 1024) /* larger files are not records */

typedef struct client_identity {
    uint64_t dev;
    uint64_t ino;
    int64_t size;
    int64_t mtime_ns;
} client_identity_t;

void client_identity_from_stat(const struct stat *st, client_identity_t *id);
bool client_identity_equal(const client_identity_t *a, const client_identity_t *b);

/* 1 to 32 of A-Z a-z 0-9 _ - (what getUploadToken accepts). */
bool client_file_id_valid(const char *s);

/* The derived fileId: the first 32 hex digits of SHA-256 over the inputs. */
bool client_file_id_derive(const char *endpoint, const char *access_key, const char *abs_path,
                           const client_identity_t *id, char out[CLIENT_FILE_ID_MAX + 1]);

typedef struct client_record {
    char *path;        /* the file's absolute path */
    char *endpoint;
    char *access_key;
    char file_id[CLIENT_FILE_ID_MAX + 1];
    client_identity_t identity;
    char md5[33];      /* lowercase hex; "" until known */
    int64_t block_size;
    char video_id[64]; /* "" until getUploadToken answered */
    size_t block_count;
    char **ctx;        /* block_count entries, NULL for a block not acknowledged */
} client_record_t;

/* Blocks of `block_size` a file of `size` bytes has (an empty file has none). */
size_t client_block_count(int64_t size, int64_t block_size);

/* A record with no block acknowledged.  False when out of memory or the
 * arguments are invalid.  Free with client_record_free(). */
bool client_record_init(client_record_t *r, const char *path, const char *endpoint, const char *access_key,
                        const char *file_id, const client_identity_t *id, int64_t block_size);
void client_record_free(client_record_t *r);

/* True when r was made for this file, endpoint and AccessKey. */
bool client_record_matches(const client_record_t *r, const char *path, const char *endpoint, const char *access_key,
                           const client_identity_t *id);

/* A syntactically acceptable ctx: 1..CLIENT_CTX_MAX printable characters, none of / ? # % , or space. */
bool client_ctx_valid(const char *ctx);

/* The record as JSON text (malloc'd, caller frees); NULL when out of memory. */
char *client_record_to_json(const client_record_t *r);

/* Parses and validates a record; false (r zeroed) when anything is off. */
bool client_record_from_json(const char *text, size_t len, client_record_t *r);

/* Reads a record file; false when it is missing, unreadable or invalid. */
bool client_record_load(const char *file, client_record_t *r);

/* Replaces `file` with `json` atomically.  False with a reason. */
bool client_record_save(const char *file, const char *json, char *err, size_t errlen);

/*
 * Removes the records in `dir` that were made for `abs_path` with another
 * identity (the file has changed since) and any leftover temp files of
 * them.  Returns how many were removed.
 */
size_t client_record_purge(const char *dir, const char *abs_path, const client_identity_t *id);

#endif
