/*
 * migrate: `vodup migrate --data DIR [--dry-run]`, the schema upgrade as
 * an explicit step of an upgrade (docs/upgrading.md).
 *
 * It shows the database's schema version, this vodup's, and one line per
 * migration between them; --dry-run stops there, changing nothing (the
 * version is read through a query_only connection).  Otherwise the store
 * applies them as it does when a server opens the database: in one
 * transaction, so a failure leaves the old schema whole.  A database newer
 * than this vodup is refused with the same words the server uses.  It
 * never creates a database: a missing one is an error, not version 0.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/store.h"

#define MIGRATE_PATH_MAX 4096

static void migrate_usage(FILE *f)
{
    fprintf(f, "usage: vodup migrate --data DIR [--dry-run]\n"
               "\n"
               "Shows the schema version of DIR/vodup.db, this vodup's, and the migrations\n"
               "between them, and applies them.  Stop the server and back up first\n"
               "(docs/upgrading.md).\n"
               "\n"
               "  --data DIR    the data directory\n"
               "  --dry-run     only show what would be done\n"
               "  -h, --help    print this help\n");
}

/* The database's version, or a message and -1. */
static int migrate_version(const char *db)
{
    char err[512];
    int version = 0;
    if (access(db, F_OK) != 0) {
        fprintf(stderr, "vodup migrate: no database at %s: %s\n", db, strerror(errno));
        return -1;
    }
    if (store_schema_version(db, &version, err, sizeof(err)) != STORE_OK) {
        fprintf(stderr, "vodup migrate: %s\n", err);
        return -1;
    }
    return version;
}

static void migrate_show(const char *db, int version, int target)
{
    printf("database: %s\nschema version: %d\nthis vodup's schema version: %d\n", db, version, target);
    if (version == target) {
        printf("nothing to do\n");
        return;
    }
    if (version > target)
        return;
    printf("steps:\n");
    for (int v = version + 1; v <= target; v++)
        printf("  %d  %s\n", v, store_schema_step_note(v));
}

/* Opening the store migrates it; the version is read again afterwards. */
static int migrate_apply(const char *db, int target)
{
    store_sqlite_options_t opt = {.path = db, .sync_full = true, .busy_timeout_ms = 5000, .read_connections = 1};
    store_t *s = store_sqlite_open(&opt);
    if (!s) {
        fprintf(stderr, "vodup migrate: the migration failed; the database keeps its schema\n");
        return 1;
    }
    s->ops->close(s);
    int version = migrate_version(db);
    if (version != target)
        return 1;
    printf("migrated: schema version %d\n", version);
    return 0;
}

static int migrate_parse(int argc, char **argv, const char **data, bool *dry_run)
{
    static const struct option opts[] = {{"data", required_argument, NULL, 'd'},
                                         {"dry-run", no_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'd')
            *data = optarg;
        else if (c == 'n')
            *dry_run = true;
        else if (c == 'h')
            return migrate_usage(stdout), 0;
        else
            return migrate_usage(stderr), 2;
    }
    if (optind < argc || !*data || !**data) {
        fprintf(stderr, "vodup migrate: %s\n", optind < argc ? "unexpected argument" : "--data DIR is required");
        return 2;
    }
    return -1;
}

int cli_migrate(int argc, char **argv)
{
    const char *data = NULL;
    bool dry_run = false;
    int status = migrate_parse(argc, argv, &data, &dry_run);
    if (status >= 0)
        return status;
    char db[MIGRATE_PATH_MAX];
    if (snprintf(db, sizeof(db), "%s/vodup.db", data) >= (int)sizeof(db)) {
        fprintf(stderr, "vodup migrate: path too long\n");
        return 1;
    }
    int version = migrate_version(db), target = store_schema_target();
    if (version < 0)
        return 1;
    migrate_show(db, version, target);
    if (version > target) {
        fprintf(stderr, "vodup migrate: the database's schema version %d is newer than this vodup's (%d): run the"
                        " vodup that migrated it, or restore a backup made before the upgrade"
                        " (docs/upgrading.md)\n", version, target);
        return 1;
    }
    if (version == target)
        return 0;
    if (dry_run) {
        printf("dry run: nothing changed\n");
        return 0;
    }
    return migrate_apply(db, target);
}
