/*
 * restore: `vodup restore --from BACKUP --data NEWDIR`, a data directory
 * made again from what `vodup backup` wrote.
 *
 * NEWDIR must be missing or an empty directory: a restore never mixes a
 * backup with other data.  The resource files and the objects go in first,
 * the database last: it is copied to NEWDIR/vodup.db.partial, then the
 * result is verified (the database's integrity check, every object it
 * names present in NEWDIR with the size it records, every resource file
 * present), and only then renamed to vodup.db.  A restore that fails
 * leaves no vodup.db behind, so a half-restored directory is never taken
 * for a restored one (remove it and run the restore again).
 *
 * It does not migrate: the restored database keeps the backup's schema
 * version, and `vodup migrate` (or the server's start) brings it up to
 * date.  A backup of a newer schema than this vodup knows is refused.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/backup_files.h"
#include "cli/cli.h"
#include "store/store.h"

typedef struct restore_run {
    const char *from_dir;
    const char *data_dir;
    const char *blob_dir;
    char from_db[BACKUP_PATH_MAX];
    char partial_db[BACKUP_PATH_MAX]; /* NEWDIR/vodup.db.partial */
    char final_db[BACKUP_PATH_MAX];
    blob_t *from, *to;
    int version;
    int64_t objects, bytes, resource_files, problems;
    bool verifying; /* the second walk: check, copy nothing */
} restore_run_t;

static void restore_usage(FILE *f)
{
    fprintf(f, "usage: vodup restore --from BACKUP --data NEWDIR [--blob-dir DIR]\n"
               "\n"
               "Makes the data directory NEWDIR (missing or empty) from a backup written\n"
               "by `vodup backup`, and verifies it: the database's integrity, and every\n"
               "object and resource file it refers to, present with its size.\n"
               "\n"
               "  --from BACKUP     the backup directory\n"
               "  --data NEWDIR     the data directory to make\n"
               "  --blob-dir DIR    where objects go, when the server will run with a\n"
               "                    blob-dir other than NEWDIR (missing or empty too)\n"
               "  -h, --help        print this help\n");
}

/* ---- checks before anything is written ---- */

/* The backup is one that `vodup backup` finished: its manifest is there. */
static int restore_check_backup(restore_run_t *r)
{
    char manifest[BACKUP_PATH_MAX], head[sizeof(BACKUP_MANIFEST_HEAD)] = "";
    if (!backup_join(manifest, sizeof(manifest), r->from_dir, BACKUP_MANIFEST_NAME) ||
        !backup_join(r->from_db, sizeof(r->from_db), r->from_dir, BACKUP_DB_NAME))
        return backup_fail("restore", "%s: path too long", r->from_dir);
    FILE *f = fopen(manifest, "r");
    size_t n = f ? fread(head, 1, sizeof(head) - 1, f) : 0;
    if (f)
        fclose(f);
    head[n] = '\0';
    if (strcmp(head, BACKUP_MANIFEST_HEAD) != 0 || access(r->from_db, R_OK) != 0)
        return backup_fail("restore", "%s is not a finished vodup backup (no %s or %s)", r->from_dir,
                           BACKUP_MANIFEST_NAME, BACKUP_DB_NAME);
    char err[512];
    if (store_schema_version(r->from_db, &r->version, err, sizeof(err)) != STORE_OK)
        return backup_fail("restore", "%s", err);
    if (r->version > store_schema_target())
        return backup_fail("restore",
                           "the backup's schema version %d is newer than this vodup's (%d): restore it with the"
                           " vodup that made it (docs/upgrading.md)",
                           r->version, store_schema_target());
    return 0;
}

static int restore_check_target(restore_run_t *r)
{
    bool exists = false;
    if (!backup_dir_fresh(r->data_dir, &exists))
        return backup_fail("restore", "%s is not empty: a restore goes into a new or empty directory", r->data_dir);
    if (r->blob_dir != r->data_dir && !backup_dir_fresh(r->blob_dir, &exists))
        return backup_fail("restore", "%s is not empty: a restore goes into a new or empty directory", r->blob_dir);
    if (!backup_join(r->partial_db, sizeof(r->partial_db), r->data_dir, BACKUP_DB_NAME ".partial") ||
        !backup_join(r->final_db, sizeof(r->final_db), r->data_dir, BACKUP_DB_NAME))
        return backup_fail("restore", "%s: path too long", r->data_dir);
    if (!backup_mkdirs(r->data_dir) || !backup_sync_parent(r->data_dir))
        return backup_fail("restore", "cannot create %s: %s", r->data_dir, strerror(errno));
    return 0;
}

/* ---- the walks over what the database names ---- */

static bool restore_object(restore_run_t *r, const store_ref_t *ref)
{
    r->objects++;
    r->bytes += ref->size;
    if (r->verifying) {
        if (backup_object_present(r->to, ref->id, ref->size))
            return true;
        r->problems++;
        fprintf(stderr, "vodup restore: object %s is missing or not %lld bytes\n", ref->id, (long long)ref->size);
        return true;
    }
    int res = backup_object_copy(r->from, r->to, ref->id, ref->size, NULL);
    if (res == BACKUP_GONE) {
        r->problems++;
        fprintf(stderr, "vodup restore: object %s is not in the backup\n", ref->id);
    }
    return res != BACKUP_FAILED;
}

static bool restore_take(void *arg, const store_ref_t *ref)
{
    restore_run_t *r = arg;
    if (ref->kind == STORE_REF_OBJECT)
        return restore_object(r, ref);
    char rel[BACKUP_PATH_MAX];
    if (backup_resource_file(ref, rel, sizeof(rel)) && !backup_file_exists(r->data_dir, rel)) {
        r->problems++;
        fprintf(stderr, "vodup restore: resource file %s is not in the backup\n", rel);
    }
    return true;
}

/* Walks the restored database: copying (verifying false) or checking. */
static int restore_walk(restore_run_t *r, bool verifying)
{
    char err[512];
    r->verifying = verifying;
    r->problems = r->objects = r->bytes = 0;
    if (store_refs_walk(r->partial_db, restore_take, r, err, sizeof(err)) != STORE_OK)
        return backup_fail("restore", "%s", err);
    if (r->problems)
        return backup_fail("restore", "%lld items the database refers to are missing: %s is incomplete",
                           (long long)r->problems, r->from_dir);
    return 0;
}

/* ---- the command ---- */

static int restore_run(restore_run_t *r)
{
    char err[512];
    int version = 0;
    if (!backup_resources_copy(r->from_dir, r->data_dir, &r->resource_files))
        return 1;
    if (store_backup_copy(r->from_db, r->partial_db, &version, err, sizeof(err)) != STORE_OK)
        return backup_fail("restore", "%s", err);
    r->from = blob_local_open(r->from_dir);
    r->to = blob_local_open(r->blob_dir);
    if (!r->from || !r->to)
        return backup_fail("restore", "cannot open the objects of %s or %s", r->from_dir, r->blob_dir);
    int status = restore_walk(r, false);
    /* The database was checked as it was copied (store_backup_copy); this
     * pass checks what it names against what is now in NEWDIR. */
    if (status == 0)
        status = restore_walk(r, true);
    if (status != 0)
        return status;
    if (rename(r->partial_db, r->final_db) != 0 || !backup_sync(r->data_dir))
        return backup_fail("restore", "cannot put %s in place: %s", r->final_db, strerror(errno));
    printf("restore: %s: schema version %d, %lld objects (%lld bytes) and %lld resource files, verified\n",
           r->data_dir, version, (long long)r->objects, (long long)r->bytes, (long long)r->resource_files);
    return 0;
}

static int restore_parse(int argc, char **argv, restore_run_t *r)
{
    static const struct option opts[] = {{"from", required_argument, NULL, 'f'},
                                         {"data", required_argument, NULL, 'd'},
                                         {"blob-dir", required_argument, NULL, 'b'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'f')
            r->from_dir = optarg;
        else if (c == 'd')
            r->data_dir = optarg;
        else if (c == 'b')
            r->blob_dir = optarg;
        else if (c == 'h')
            return restore_usage(stdout), 0;
        else
            return restore_usage(stderr), 2;
    }
    if (optind < argc || !r->from_dir || !r->data_dir || !*r->from_dir || !*r->data_dir) {
        fprintf(stderr, "vodup restore: %s\n",
                optind < argc ? "unexpected argument" : "--from and --data are required");
        return 2;
    }
    if (!r->blob_dir)
        r->blob_dir = r->data_dir;
    return -1;
}

int cli_restore(int argc, char **argv)
{
    restore_run_t *r = calloc(1, sizeof(*r));
    if (!r)
        return 1;
    int status = restore_parse(argc, argv, r);
    if (status < 0) {
        status = restore_check_backup(r);
        if (status == 0)
            status = restore_check_target(r);
        if (status == 0)
            status = restore_run(r);
    }
    if (r->from)
        r->from->ops->close(r->from);
    if (r->to)
        r->to->ops->close(r->to);
    free(r);
    return status;
}
