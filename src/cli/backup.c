/*
 * backup: `vodup backup --data DIR --to DEST`, a consistent copy of a data
 * directory while the server keeps running and taking uploads.
 *
 * What it copies: the database (one snapshot through the store's online
 * backup), every object that snapshot refers to (videos' uploads and the
 * files playback serves; finished objects only, never the staging area nor
 * the unfinished blocks of resumable uploads), and the resource files under
 * DIR/resources/ (watermark images, subtitle files; queued tasks may name
 * the file of a resource removed since, so the whole tree).  The server's
 * secrets and keys live in the database.  The configuration file is
 * wherever --config points and is the operator's to keep.
 *
 * Consistency: the database first, then the objects it names.  Objects are
 * immutable and never reused, so an object present in the data directory
 * is exactly the one the snapshot means; one uploaded later is not named
 * and not copied.  One deleted between the snapshot and its copy
 * (deleteVideo, an overwrite, a reprocessing that replaced outputs) cannot
 * be copied any more: then a new snapshot is taken and only what is still
 * missing is copied, up to BACKUP_ROUNDS times; what is still missing after
 * that is an object the database names but the directory lost, and the
 * backup fails, naming it.
 *
 * Everything is written into DEST.partial, synced, and renamed to DEST only
 * when complete, with a manifest; a half-made backup never carries DEST's
 * name.  DEST must be missing or an empty directory.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/backup_files.h"
#include "cli/cli.h"
#include "common/log.h"
#include "store/store.h"

/* Snapshots taken before giving up on objects deleted under the copy. */
#define BACKUP_ROUNDS 5

typedef struct backup_run {
    const char *data_dir;
    const char *blob_dir;
    char dest[BACKUP_PATH_MAX];
    char partial[BACKUP_PATH_MAX];
    char db[BACKUP_PATH_MAX];      /* the live database */
    char copy_db[BACKUP_PATH_MAX]; /* its snapshot in partial */
    blob_t *from, *to;
    int version;
    int64_t objects, bytes, copied, resource_files;
    int64_t gone;           /* this round: named but not in the directory */
    char gone_id[160];      /* the first of them, for the message */
    bool failed;
} backup_run_t;

static void backup_usage(FILE *f)
{
    fprintf(f, "usage: vodup backup --data DIR --to DEST [--blob-dir DIR]\n"
               "\n"
               "Copies the data directory DIR into DEST while `vodup serve` keeps running:\n"
               "a snapshot of the database, every object it refers to, and the resource\n"
               "files.  DEST must not exist or be empty; the copy is made in DEST.partial\n"
               "and renamed to DEST when complete.  Restore it with `vodup restore`.\n"
               "\n"
               "  --data DIR        the data directory (as given to vodup serve)\n"
               "  --to DEST         where the backup goes\n"
               "  --blob-dir DIR    the server's blob-dir, when it is not the data directory\n"
               "  -h, --help        print this help\n");
}

/* ---- one round ---- */

static bool backup_take_object(backup_run_t *r, const store_ref_t *ref)
{
    int64_t copied = 0;
    int res = backup_object_copy(r->from, r->to, ref->id, ref->size, &copied);
    if (res == BACKUP_FAILED) {
        r->failed = true;
        return false;
    }
    if (res == BACKUP_GONE) {
        if (r->gone++ == 0)
            snprintf(r->gone_id, sizeof(r->gone_id), "object %s", ref->id);
        return true;
    }
    r->objects++;
    r->bytes += ref->size;
    r->copied += copied;
    return true;
}

/* A resource's file must have come along with the tree: admin writes the
 * row first and places the file after, so a snapshot may name a file that
 * was not there yet when the tree was copied. */
static bool backup_take_resource(backup_run_t *r, const store_ref_t *ref)
{
    char rel[BACKUP_PATH_MAX];
    if (!backup_resource_file(ref, rel, sizeof(rel)) || backup_file_exists(r->partial, rel))
        return true;
    if (r->gone++ == 0)
        snprintf(r->gone_id, sizeof(r->gone_id), "resource file %.140s", rel);
    return true;
}

static bool backup_take(void *arg, const store_ref_t *ref)
{
    backup_run_t *r = arg;
    return ref->kind == STORE_REF_OBJECT ? backup_take_object(r, ref) : backup_take_resource(r, ref);
}

/* A snapshot of the database, the resource tree, then what the snapshot
 * names.  False on an error (printed); r->gone counts what was missing. */
static bool backup_round(backup_run_t *r)
{
    char err[512];
    r->objects = r->bytes = r->gone = 0;
    if (unlink(r->copy_db) != 0 && errno != ENOENT)
        return backup_fail("backup", "cannot replace %s: %s", r->copy_db, strerror(errno)), false;
    if (store_backup_copy(r->db, r->copy_db, &r->version, err, sizeof(err)) != STORE_OK)
        return backup_fail("backup", "%s", err), false;
    if (r->version > store_schema_target())
        fprintf(stderr, "vodup backup: note: the database's schema version %d is newer than this vodup's (%d)\n",
                r->version, store_schema_target());
    if (!backup_resources_copy(r->data_dir, r->partial, &r->resource_files))
        return false;
    if (store_refs_walk(r->copy_db, backup_take, r, err, sizeof(err)) != STORE_OK && !r->failed)
        return backup_fail("backup", "%s", err), false;
    return !r->failed;
}

/* ---- before and after ---- */

/* DEST missing or empty, DEST.partial not there, the paths worked out. */
static int backup_prepare(backup_run_t *r, const char *dest)
{
    size_t n = strlen(dest);
    while (n > 1 && dest[n - 1] == '/')
        n--;
    if (n >= sizeof(r->dest) - 16)
        return backup_fail("backup", "%s: %s", dest, "path too long");
    snprintf(r->dest, sizeof(r->dest), "%.*s", (int)n, dest);
    snprintf(r->partial, sizeof(r->partial), "%.*s.partial", (int)n, dest);
    bool exists = false;
    if (!backup_dir_fresh(r->dest, &exists))
        return backup_fail("backup", "%s exists and is not empty: a backup goes into a new or empty directory",
                           r->dest);
    struct stat st;
    if (lstat(r->partial, &st) == 0)
        return backup_fail("backup", "%s exists (left by an interrupted backup?): remove it first", r->partial);
    if (!backup_join(r->db, sizeof(r->db), r->data_dir, BACKUP_DB_NAME) ||
        !backup_join(r->copy_db, sizeof(r->copy_db), r->partial, BACKUP_DB_NAME))
        return backup_fail("backup", "%s: %s", r->data_dir, "path too long");
    if (access(r->db, F_OK) != 0)
        return backup_fail("backup", "no database at %s: %s", r->db, strerror(errno));
    if (!backup_mkdirs(r->partial))
        return backup_fail("backup", "cannot create %s: %s", r->partial, strerror(errno));
    return 0;
}

static bool backup_write_manifest(const backup_run_t *r)
{
    char path[BACKUP_PATH_MAX], when[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    if (!backup_join(path, sizeof(path), r->partial, BACKUP_MANIFEST_NAME))
        return false;
    FILE *f = fopen(path, "wx");
    if (!f)
        return false;
    fprintf(f, BACKUP_MANIFEST_HEAD "created: %s\nschema-version: %d\nobjects: %lld\nobject-bytes: %lld\n"
               "resource-files: %lld\n", when, r->version, (long long)r->objects, (long long)r->bytes,
            (long long)r->resource_files);
    bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
    return fclose(f) == 0 && ok;
}

/* The manifest, everything synced, and DEST.partial becomes DEST. */
static int backup_finish(backup_run_t *r)
{
    if (!backup_write_manifest(r) || !backup_sync(r->partial))
        return backup_fail("backup", "cannot finish %s: %s", r->partial, strerror(errno));
    if (rename(r->partial, r->dest) != 0)
        return backup_fail("backup", "cannot rename the finished backup to %s: %s", r->dest, strerror(errno));
    if (!backup_sync_parent(r->dest))
        return backup_fail("backup", "cannot sync the directory of %s: %s", r->dest, strerror(errno));
    printf("backup: %s: schema version %d, %lld objects (%lld bytes), %lld resource files\n", r->dest, r->version,
           (long long)r->objects, (long long)r->bytes, (long long)r->resource_files);
    return 0;
}

/* Rounds until a snapshot whose every object and file was copied. */
static int backup_rounds(backup_run_t *r)
{
    for (int round = 1; round <= BACKUP_ROUNDS; round++) {
        if (!backup_round(r))
            return 1;
        if (r->gone == 0)
            return backup_finish(r);
        fprintf(stderr, "vodup backup: %lld items the snapshot names were removed before they were copied"
                        " (%s): taking a new snapshot\n", (long long)r->gone, r->gone_id);
    }
    fprintf(stderr, "vodup backup: after %d snapshots, %lld items the database names are still not in %s"
                    " (%s): the data directory lost them, or the server keeps its objects elsewhere (--blob-dir);"
                    " %s is left for inspection\n",
            BACKUP_ROUNDS, (long long)r->gone, r->blob_dir, r->gone_id, r->partial);
    return 1;
}

/* ---- the command ---- */

static int backup_parse(int argc, char **argv, const char **data, const char **dest, const char **blob_dir)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"to", required_argument, NULL, 't'},
                                         {"blob-dir", required_argument, NULL, 'b'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            *data = optarg;
        else if (c == 't')
            *dest = optarg;
        else if (c == 'b')
            *blob_dir = optarg;
        else if (c == 'h')
            return backup_usage(stdout), 0;
        else
            return backup_usage(stderr), 2;
    }
    if (optind < argc || !*data || !*dest || !**data || !**dest) {
        fprintf(stderr, "vodup backup: %s\n", optind < argc ? "unexpected argument" : "--data and --to are required");
        return 2;
    }
    return -1;
}

int cli_backup(int argc, char **argv)
{
    const char *data = NULL, *dest = NULL, *blob_dir = NULL;
    int status = backup_parse(argc, argv, &data, &dest, &blob_dir);
    if (status >= 0)
        return status;
    backup_run_t *r = calloc(1, sizeof(*r));
    if (!r)
        return 1;
    r->data_dir = data;
    r->blob_dir = blob_dir ? blob_dir : data;
    status = backup_prepare(r, dest);
    if (status == 0) {
        r->from = blob_local_open(r->blob_dir);
        r->to = blob_local_open(r->partial);
        status = r->from && r->to ? backup_rounds(r) : 1;
    }
    if (r->from)
        r->from->ops->close(r->from);
    if (r->to)
        r->to->ops->close(r->to);
    free(r);
    return status;
}
