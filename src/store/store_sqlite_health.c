/*
 * store_sqlite_health: what the metrics and the readiness check ask of the
 * database: counts of unfinished tasks, and whether a read succeeds and how
 * much room is left beside the database file.
 */
#include "store/store_sqlite_internal.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "common/log.h"

int store_sqlite_task_count(store_t *base, int state, int64_t *count)
{
    *count = 0;
    if (state != STORE_TASK_QUEUED && state != STORE_TASK_RUNNING)
        return STORE_INVALID;
    return store_sqlite_read_int64((store_sqlite_t *)base, SQ_TASK_COUNT_UNFINISHED, store_task_state_name(state),
                                   count, "count tasks");
}

/* The database file is still the one opened: a data directory removed or
 * restored under a running server leaves it writing to a file nobody will
 * ever read again, and a read alone would not notice (pages are cached). */
static bool store_sqlite_same_file(const store_sqlite_t *s)
{
    struct stat st;
    if (stat(s->path, &st) != 0) {
        log_error("store: the database file %s is gone", s->path);
        return false;
    }
    if (st.st_dev != s->file_dev || st.st_ino != s->file_ino) {
        log_error("store: the database file %s was replaced while open", s->path);
        return false;
    }
    return true;
}

/* The file is the one opened, a read on a reader connection answers, and
 * the free space of the database's directory (statvfs: what an
 * unprivileged process may still write). */
int store_sqlite_check(store_t *base, int64_t *free_bytes)
{
    store_sqlite_t *s = (store_sqlite_t *)base;
    int64_t n;
    *free_bytes = -1;
    if (!store_sqlite_same_file(s))
        return STORE_UNAVAILABLE;
    int rc = store_sqlite_account_count(base, &n);
    if (rc != STORE_OK)
        return rc;
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", s->path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    struct statvfs st;
    if (statvfs(slash ? dir : ".", &st) == 0)
        *free_bytes = (int64_t)st.f_bavail * (int64_t)st.f_frsize;
    return STORE_OK;
}
