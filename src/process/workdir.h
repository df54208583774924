/*
 * workdir: a task's scratch directory, <data>/work/<taskId>-<attempt>/:
 *   source     the original's bytes as one file (blob object_materialize)
 *   out/<key>  what ffmpeg writes, at each output's key (plan.h)
 * Only the worker that claimed the attempt writes there; it is removed when
 * the attempt ends, whatever its end, and the whole work/ directory is
 * cleared when the pool starts (a killed server leaves its attempts' files;
 * their tasks run again from the start).
 */
#ifndef VODUP_PROCESS_WORKDIR_H
#define VODUP_PROCESS_WORKDIR_H

#include <stdbool.h>
#include <stddef.h>

#define WORKDIR_PATH_MAX 4096

typedef struct workdir {
    char root[WORKDIR_PATH_MAX];   /* <data>/work/<taskId>-<attempt> */
    char source[WORKDIR_PATH_MAX]; /* root/source */
    char out[WORKDIR_PATH_MAX];    /* root/out */
} workdir_t;

/* Creates root and out (replacing what an earlier run left).  False, logged,
 * on failure. */
bool workdir_make(workdir_t *w, const char *data_dir, const char *task_id, int attempt);
/* Removes root and everything below it. */
void workdir_remove(const workdir_t *w);
/* Removes <data>/work and everything below it (start-up). */
void workdir_clear_all(const char *data_dir);
/* Creates <out>/<rel> and its parents (mode 0700).  False, logged, on failure. */
bool workdir_mkdirs(const workdir_t *w, const char *rel);

#endif
