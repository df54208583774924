/*
 * unit_tmpdir: a private directory under /tmp for the files of one unit
 * test (mkdtemp, mode 0700), and its removal with everything in it.
 * Include after defining _GNU_SOURCE (nftw).
 */
#ifndef VODUP_UNIT_TMPDIR_H
#define VODUP_UNIT_TMPDIR_H

#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

/* Makes /tmp/vodup-test-<name>-XXXXXX; its path goes to dir. */
static inline bool unit_tmpdir_make(char *dir, size_t size, const char *name)
{
    snprintf(dir, size, "/tmp/vodup-test-%s-XXXXXX", name);
    return mkdtemp(dir) != NULL;
}

static int unit_tmpdir_remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Removes dir and everything under it. */
static inline void unit_tmpdir_remove(const char *dir)
{
    nftw(dir, unit_tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
