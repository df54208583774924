/*
 * backup_files: what `vodup backup` and `vodup restore` share: copying one
 * object from one blob store to another (through the blob interface, so
 * the copy is staged, fdatasynced and published atomically like any
 * upload), copying the resource files under a data directory, finding the
 * file a resource's spec names, the manifest that marks a finished backup,
 * and the checks and syncs of the directories involved.
 *
 * Objects are immutable and their ids are never reused, so an object that
 * is present in the destination with its size is the right one: copies
 * are skipped for those, which makes a second pass cheap.
 */
#ifndef VODUP_CLI_BACKUP_FILES_H
#define VODUP_CLI_BACKUP_FILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"
#include "store/store.h"

#define BACKUP_PATH_MAX 4096
#define BACKUP_DB_NAME "vodup.db"
#define BACKUP_MANIFEST_NAME "vodup-backup.txt"
#define BACKUP_MANIFEST_HEAD "vodup backup\n"
#define BACKUP_RESOURCES_DIR "resources"

enum backup_copy_result {
    BACKUP_COPIED = 0, /* in the destination now (or already), with its size */
    BACKUP_GONE,       /* not in the source (deleted since the database named it) */
    BACKUP_FAILED,     /* an I/O error or a size that is not the database's; printed */
};

/* Copies object `id` of `size` bytes from `from` to `to` unless `to` holds
 * it already; *copied (may be NULL) receives the bytes copied now. */
int backup_object_copy(blob_t *from, blob_t *to, const char *id, int64_t size, int64_t *copied);

/* Prints "vodup CMD: message" on one line of stderr; returns 1, the exit
 * status of a runtime failure. */
int backup_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Whether `b` holds object `id` with exactly `size` bytes. */
bool backup_object_present(blob_t *b, const char *id, int64_t size);

/* The file a resource's spec names under the data directory (watermark
 * image, subtitle file) into rel; false for a resource without a file or
 * a spec that does not parse. */
bool backup_resource_file(const store_ref_t *ref, char *rel, size_t rel_len);

/* Copies every regular file under from_dir/resources to the same place
 * under to_dir (dot files, which are unfinished copies, skipped), each
 * synced before it is renamed into place; files present with the same size
 * are kept.  *files receives how many files the tree holds.  False on an
 * error, printed. */
bool backup_resources_copy(const char *from_dir, const char *to_dir, int64_t *files);

/* Whether `dir`/`rel` is a regular file. */
bool backup_file_exists(const char *dir, const char *rel);

/* A missing path or an empty directory (what backup and restore write
 * into); *exists says which. */
bool backup_dir_fresh(const char *path, bool *exists);

/* mkdir -p, mode 0700. */
bool backup_mkdirs(const char *path);

/* fsyncs a directory (or file). */
bool backup_sync(const char *path);

/* fsyncs the directory that holds `path`. */
bool backup_sync_parent(const char *path);

/* dir + "/" + name into out; false when it does not fit. */
bool backup_join(char *out, size_t out_len, const char *dir, const char *name);

#endif
