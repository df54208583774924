/*
 * backup_files: the copies and checks `vodup backup` and `vodup restore`
 * share (backup_files.h).  Objects go through the blob interface only, so
 * this file knows no object path; the resource files are plain files under
 * the data directory's resources/, which `vodup admin` writes.
 *
 * It must never write into the source, never leave a destination file
 * visible before its bytes are synced, and never follow a symbolic link
 * out of the trees it copies.
 */
#define _GNU_SOURCE /* nftw's FTW_ACTIONRETVAL */
#include "cli/backup_files.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process/spec.h"

#define BACKUP_CHUNK (1 << 20)
#define BACKUP_NFTW_FDS 16

/* ---- paths and directories ---- */

bool backup_join(char *out, size_t out_len, const char *dir, const char *name)
{
    int n = snprintf(out, out_len, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < out_len;
}

bool backup_mkdirs(const char *path)
{
    char p[BACKUP_PATH_MAX];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(p))
        return false;
    memcpy(p, path, n + 1);
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return false;
        *s = saved;
        if (!saved)
            break;
    }
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool backup_dir_fresh(const char *path, bool *exists)
{
    *exists = false;
    DIR *d = opendir(path);
    if (!d)
        return errno == ENOENT;
    *exists = true;
    struct dirent *e;
    bool empty = true;
    while (empty && (e = readdir(d)) != NULL)
        empty = !strcmp(e->d_name, ".") || !strcmp(e->d_name, "..");
    closedir(d);
    return empty;
}

bool backup_sync(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

bool backup_sync_parent(const char *path)
{
    char parent[BACKUP_PATH_MAX];
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    while (n > 0 && path[n - 1] != '/')
        n--;
    if (n >= sizeof(parent))
        return false;
    if (n == 0)
        snprintf(parent, sizeof(parent), ".");
    else
        snprintf(parent, sizeof(parent), "%.*s", (int)n, path);
    return backup_sync(parent);
}

bool backup_file_exists(const char *dir, const char *rel)
{
    char p[BACKUP_PATH_MAX];
    struct stat st;
    return backup_join(p, sizeof(p), dir, rel) && lstat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* ---- objects ---- */

bool backup_object_present(blob_t *b, const char *id, int64_t size)
{
    blob_object_info_t info;
    return b->ops->object_stat(b, id, &info) == BLOB_OK && info.size == size;
}

/* Streams a reader into a writer; *total receives the bytes moved. */
static int backup_pipe(blob_t *from, blob_reader_t *r, blob_t *to, blob_writer_t *w, int64_t *total)
{
    char *chunk = malloc(BACKUP_CHUNK);
    int rc = chunk ? BLOB_OK : BLOB_ERROR;
    *total = 0;
    while (rc == BLOB_OK) {
        int64_t n = from->ops->read_at(r, chunk, BACKUP_CHUNK, *total);
        if (n <= 0) {
            rc = n < 0 ? BLOB_ERROR : BLOB_OK;
            break;
        }
        rc = to->ops->write(w, chunk, (size_t)n);
        *total += n;
    }
    free(chunk);
    return rc;
}

/* A failed read of an object that is no longer there is a deletion that
 * raced the copy, not an error. */
static int backup_copy_failed(blob_t *from, const char *id, const char *why)
{
    blob_object_info_t info;
    if (from->ops->object_stat(from, id, &info) == BLOB_NOT_FOUND)
        return BACKUP_GONE;
    fprintf(stderr, "vodup: object %s: %s\n", id, why);
    return BACKUP_FAILED;
}

int backup_object_copy(blob_t *from, blob_t *to, const char *id, int64_t size, int64_t *copied)
{
    if (copied)
        *copied = 0;
    if (backup_object_present(to, id, size))
        return BACKUP_COPIED;
    blob_reader_t *r = NULL;
    int rc = from->ops->object_read_open(from, id, &r);
    if (rc == BLOB_NOT_FOUND)
        return BACKUP_GONE;
    if (rc != BLOB_OK)
        return backup_copy_failed(from, id, "cannot be read");
    blob_writer_t *w = NULL;
    int64_t total = 0;
    rc = to->ops->object_stage(to, &w);
    if (rc == BLOB_OK)
        rc = backup_pipe(from, r, to, w, &total);
    from->ops->reader_close(r);
    if (rc != BLOB_OK || total != size) {
        if (w)
            to->ops->writer_close(w);
        return rc != BLOB_OK ? backup_copy_failed(from, id, "copy failed")
                             : backup_copy_failed(from, id, "its size is not the one the database records");
    }
    if (to->ops->object_publish(to, w, id) != BLOB_OK) {
        fprintf(stderr, "vodup: object %s: cannot be written to the destination\n", id);
        return BACKUP_FAILED;
    }
    if (copied)
        *copied = total;
    return BACKUP_COPIED;
}

/* ---- resource files ---- */

bool backup_resource_file(const store_ref_t *ref, char *rel, size_t rel_len)
{
    spec_error_t err;
    if (ref->kind != STORE_REF_RESOURCE || !ref->spec)
        return false;
    if (ref->resource_kind == STORE_WATERMARK) {
        spec_watermark_t w;
        return spec_watermark_parse(ref->spec, &w, &err) && snprintf(rel, rel_len, "%s", w.image) < (int)rel_len;
    }
    if (ref->resource_kind == STORE_SUBTITLE) {
        spec_subtitle_t s;
        return spec_subtitle_parse(ref->spec, &s, &err) && snprintf(rel, rel_len, "%s", s.file) < (int)rel_len;
    }
    return false;
}

/* Copies the regular file `from` to `to` through a synced temporary file
 * in to's directory; false on an error, printed. */
static bool backup_file_copy(const char *from, const char *to)
{
    char tmp[BACKUP_PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", to) >= (int)sizeof(tmp))
        return false;
    int in = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    int out = in >= 0 ? mkstemp(tmp) : -1;
    char buf[65536];
    ssize_t n = 0;
    bool ok = out >= 0;
    while (ok && (n = read(in, buf, sizeof(buf))) > 0)
        ok = write(out, buf, (size_t)n) == n;
    ok = ok && n == 0 && fdatasync(out) == 0;
    if (out >= 0 && close(out) != 0)
        ok = false;
    if (in >= 0)
        close(in);
    ok = ok && rename(tmp, to) == 0 && backup_sync_parent(to);
    if (!ok) {
        fprintf(stderr, "vodup: cannot copy %s to %s: %s\n", from, to, strerror(errno));
        if (out >= 0)
            unlink(tmp);
    }
    return ok;
}

/* nftw has no argument for its callback: the one tree being copied. */
static struct {
    size_t from_len;
    const char *to_dir;
    int64_t files;
} backup_tree;

static int backup_tree_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    const char *rel = path + backup_tree.from_len; /* "resources/..." */
    char to[BACKUP_PATH_MAX];
    if (path[ftw->base] == '.' && ftw->level > 0)
        return type == FTW_D ? FTW_SKIP_SUBTREE : FTW_CONTINUE; /* unfinished copies (admin's .incoming-*) */
    if (!backup_join(to, sizeof(to), backup_tree.to_dir, rel))
        return FTW_STOP;
    if (type == FTW_D)
        return backup_mkdirs(to) && backup_sync_parent(to) ? FTW_CONTINUE : FTW_STOP;
    if (type != FTW_F)
        return FTW_CONTINUE; /* symbolic links and the like are not vodup's */
    backup_tree.files++;
    struct stat have;
    if (lstat(to, &have) == 0 && S_ISREG(have.st_mode) && have.st_size == st->st_size)
        return FTW_CONTINUE;
    return backup_file_copy(path, to) ? FTW_CONTINUE : FTW_STOP;
}

bool backup_resources_copy(const char *from_dir, const char *to_dir, int64_t *files)
{
    char root[BACKUP_PATH_MAX];
    struct stat st;
    *files = 0;
    if (!backup_join(root, sizeof(root), from_dir, BACKUP_RESOURCES_DIR))
        return false;
    if (lstat(root, &st) != 0)
        return errno == ENOENT; /* no resource with a file was ever added */
    backup_tree.from_len = strlen(from_dir) + 1;
    backup_tree.to_dir = to_dir;
    backup_tree.files = 0;
    int r = nftw(root, backup_tree_entry, BACKUP_NFTW_FDS, FTW_PHYS | FTW_ACTIONRETVAL);
    *files = backup_tree.files;
    if (r != 0)
        fprintf(stderr, "vodup: cannot copy the resource files of %s\n", from_dir);
    return r == 0;
}

int backup_fail(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vodup %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}
