/* workdir: a task's scratch directory; see workdir.h. */
#define _GNU_SOURCE /* nftw's FTW_DEPTH | FTW_PHYS */
#include "process/workdir.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"

#define WORKDIR_MODE 0700
#define WORKDIR_FDS 16

static int workdir_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if ((flag == FTW_DP ? rmdir(path) : unlink(path)) != 0 && errno != ENOENT)
        log_warn("work: cannot remove %s: %s", path, strerror(errno));
    return 0;
}

static void workdir_remove_tree(const char *path)
{
    if (nftw(path, workdir_remove_entry, WORKDIR_FDS, FTW_DEPTH | FTW_PHYS) != 0 && errno != ENOENT)
        log_warn("work: cannot walk %s: %s", path, strerror(errno));
}

static bool workdir_mkdir(const char *path)
{
    if (mkdir(path, WORKDIR_MODE) == 0 || errno == EEXIST)
        return true;
    log_error("work: cannot create %s: %s", path, strerror(errno));
    return false;
}

static bool workdir_fits(int n, size_t len)
{
    return n > 0 && (size_t)n < len;
}

bool workdir_make(workdir_t *w, const char *data_dir, const char *task_id, int attempt)
{
    char top[WORKDIR_PATH_MAX];
    bool fits = workdir_fits(snprintf(top, sizeof(top), "%s/work", data_dir), sizeof(top)) &&
                workdir_fits(snprintf(w->root, sizeof(w->root), "%s/%s-%d", top, task_id, attempt), sizeof(w->root)) &&
                workdir_fits(snprintf(w->source, sizeof(w->source), "%s/source", w->root), sizeof(w->source)) &&
                workdir_fits(snprintf(w->out, sizeof(w->out), "%s/out", w->root), sizeof(w->out));
    if (!fits) {
        log_error("work: data directory path too long");
        return false;
    }
    workdir_remove_tree(w->root);
    return workdir_mkdir(top) && workdir_mkdir(w->root) && workdir_mkdir(w->out);
}

void workdir_remove(const workdir_t *w)
{
    workdir_remove_tree(w->root);
}

void workdir_clear_all(const char *data_dir)
{
    char top[WORKDIR_PATH_MAX];
    if (workdir_fits(snprintf(top, sizeof(top), "%s/work", data_dir), sizeof(top)))
        workdir_remove_tree(top);
}

bool workdir_mkdirs(const workdir_t *w, const char *rel)
{
    char path[WORKDIR_PATH_MAX];
    if (!workdir_fits(snprintf(path, sizeof(path), "%s/%s", w->out, rel), sizeof(path)))
        return false;
    for (char *p = path + strlen(w->out) + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        bool ok = workdir_mkdir(path);
        *p = '/';
        if (!ok)
            return false;
    }
    return workdir_mkdir(path);
}
