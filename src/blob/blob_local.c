/*
 * blob_local: the local-directory implementation of blob.h.
 *
 * Owns everything under the directory given to blob_local_open:
 *
 *     blocks/<id[0..1]>/<id>     unfinished blocks of resumable uploads
 *     staging/<random hex>       objects being written, invisible to readers
 *     objects/<id[0..1]>/<id>    published objects
 *
 * An object staged from blocks (object_stage_blocks) is a directory of
 * parts named 0, 1, 2... that are hard links to the block files, each cut
 * to its acknowledged length: publishing it copies nothing, and the block
 * names can be removed afterwards.  A block file with more than one link is
 * frozen: block_open refuses it, so no chunk can change published bytes.
 * Writers hold an exclusive flock on their block, which the freezing takes
 * too, so a write and a freeze never overlap.
 *
 * Directories are 0700 and files 0600.  The 256 fan-out subdirectories of
 * blocks/ and objects/ are made (and fsynced) at open, so no request ever
 * creates a directory: a directory made on demand would need its parent
 * fsynced before a file in it could be acknowledged, and of two threads
 * racing to make it, the loser could not know when that had happened.
 *
 * Every path is relative to a directory descriptor opened once, and every id
 * is checked to be exactly 32 lowercase hex characters before it becomes part
 * of a path, so a caller bug cannot reach outside the directory.  The blob_t
 * holds nothing mutable after open, which is what makes it thread-safe
 * without a lock.
 *
 * It must never log the bytes it stores, never hold them in memory beyond
 * one write call, and never leave a staged file behind a failed publish.
 */
#define _GNU_SOURCE /* fallocate, sync_file_range */
#include "blob/blob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#include "common/ids.h"
#include "common/log.h"

#define BLOB_LOCAL_DIR_MODE 0700
#define BLOB_LOCAL_FILE_MODE 0600
#define BLOB_LOCAL_FANOUT 256
/* Staged names are 128 random bits; a collision is astronomically unlikely,
 * but a few retries make one harmless instead of an error. */
#define BLOB_LOCAL_STAGE_RETRIES 8
/* "ab/" + id + NUL: a file's name relative to its area. */
#define BLOB_LOCAL_NAME_LEN (3 + BLOB_ID_LEN + 1)

#define BLOB_LOCAL_OPEN_DIR (O_RDONLY | O_DIRECTORY | O_CLOEXEC)
/* Written bytes handed to writeback at a time, ahead of the sync. */
#define BLOB_LOCAL_WRITEBACK (1 << 20)
/* A block holding this much more disk than bytes has room reserved past its
 * end (filesystem blocks round up by far less). */
#define BLOB_LOCAL_TRIM_SLACK (1 << 20)

enum blob_local_area { BLOB_LOCAL_BLOCKS = 0, BLOB_LOCAL_STAGING, BLOB_LOCAL_OBJECTS, BLOB_LOCAL_AREAS };

static const char *const blob_local_area_names[BLOB_LOCAL_AREAS] = {"blocks", "staging", "objects"};

typedef struct blob_local {
    blob_t base; /* first, so a blob_t * is a blob_local_t * */
    char *dir;   /* for log messages only */
    int root_fd;
    int area_fd[BLOB_LOCAL_AREAS];
} blob_local_t;

struct blob_writer {
    blob_local_t *b;
    int fd;
    int64_t pos;   /* where the next write goes */
    int64_t queued; /* bytes before this offset were handed to writeback */
    int64_t reserved_end; /* room was reserved (fallocate) up to this offset */
    bool staged;   /* a staged object, else a block */
    bool parts;    /* a staged object made of block parts: fd is its directory */
    bool sync_dir; /* the block's directory entry is not yet known to be durable */
    /* A failed fdatasync leaves the page cache in an unknown state and Linux
     * reports the error only once, so a later sync could "succeed" without
     * the bytes on disk: after one failure the writer refuses everything. */
    bool failed;
    char name[BLOB_LOCAL_NAME_LEN]; /* relative to the area's directory */
};

struct blob_reader {
    int fd;         /* the file; for an object of parts, the open part (-1: none) */
    int dir_fd;     /* an object of parts: its directory, else -1 */
    size_t count;   /* parts */
    int64_t *ends;  /* ends[i]: object offset just past part i */
    size_t current; /* the part `fd` holds */
};

/* ---- helpers ---- */

static bool blob_local_id_valid(const char *id)
{
    if (!id)
        return false;
    for (size_t i = 0; i < BLOB_ID_LEN; i++) {
        char c = id[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false; /* also stops at a NUL before 32 chars */
    }
    return id[BLOB_ID_LEN] == '\0';
}

/* "ab/abcd..." for a valid id. */
static void blob_local_name(const char *id, char out[BLOB_LOCAL_NAME_LEN])
{
    out[0] = id[0];
    out[1] = id[1];
    out[2] = '/';
    memcpy(out + 3, id, BLOB_ID_LEN + 1);
}

static int blob_local_rc_of(int err)
{
    return err == ENOSPC || err == EDQUOT ? BLOB_NO_SPACE : BLOB_ERROR;
}

/* Logs a failed system call on an entry and maps its errno to a blob_rc. */
static int blob_local_fail(const blob_local_t *b, const char *what, int area, const char *name, int err)
{
    log_error("blob: %s %s/%s/%s: %s", what, b->dir, blob_local_area_names[area], name ? name : "", strerror(err));
    return blob_local_rc_of(err);
}

static int blob_local_invalid_id(const char *what)
{
    /* The id itself is not logged: it is not one this module would accept. */
    log_error("blob: %s: invalid id", what);
    return BLOB_ERROR;
}

static int64_t blob_local_mtime_ms(const struct stat *st)
{
    return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/* fsyncs `sub` (a fan-out subdirectory, or "." for the area itself). */
static int blob_local_sync_dir(const blob_local_t *b, int area, const char *sub)
{
    int fd = openat(b->area_fd[area], sub, BLOB_LOCAL_OPEN_DIR);
    if (fd < 0)
        return blob_local_fail(b, "open directory", area, sub, errno);
    int rc = BLOB_OK;
    if (fsync(fd) != 0)
        rc = blob_local_fail(b, "fsync directory", area, sub, errno);
    close(fd);
    return rc;
}

/* ---- open / close ---- */

/* fsyncs the directory that holds `path`, so that a newly made `path`
 * survives a crash. */
static bool blob_local_sync_parent(const char *path)
{
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/')
        len--;
    while (len > 0 && path[len - 1] != '/')
        len--;
    while (len > 1 && path[len - 1] == '/')
        len--;
    char *parent = len == 0 ? strdup(".") : strndup(path, len);
    if (!parent)
        return false;
    bool ok = false;
    int err = 0;
    int fd = open(parent, BLOB_LOCAL_OPEN_DIR);
    if (fd < 0) {
        err = errno;
    } else {
        ok = fsync(fd) == 0;
        err = errno;
        close(fd);
    }
    if (!ok)
        log_error("blob: fsync %s: %s", parent, strerror(err));
    free(parent);
    return ok;
}

/* Makes `name` under dir_fd unless it exists; *made tells which. */
static bool blob_local_mkdir(int dir_fd, const char *name, bool *made)
{
    if (mkdirat(dir_fd, name, BLOB_LOCAL_DIR_MODE) == 0) {
        *made = true;
        return true;
    }
    return errno == EEXIST;
}

static bool blob_local_open_area(blob_local_t *b, int area)
{
    const char *name = blob_local_area_names[area];
    bool root_changed = false;
    if (!blob_local_mkdir(b->root_fd, name, &root_changed)) {
        log_error("blob: mkdir %s/%s: %s", b->dir, name, strerror(errno));
        return false;
    }
    b->area_fd[area] = openat(b->root_fd, name, BLOB_LOCAL_OPEN_DIR);
    if (b->area_fd[area] < 0) {
        log_error("blob: open %s/%s: %s", b->dir, name, strerror(errno));
        return false;
    }
    if (area != BLOB_LOCAL_STAGING) {
        bool changed = false;
        for (int i = 0; i < BLOB_LOCAL_FANOUT; i++) {
            char sub[3];
            snprintf(sub, sizeof(sub), "%02x", i);
            if (!blob_local_mkdir(b->area_fd[area], sub, &changed)) {
                log_error("blob: mkdir %s/%s/%s: %s", b->dir, name, sub, strerror(errno));
                return false;
            }
        }
        if (changed && fsync(b->area_fd[area]) != 0) {
            log_error("blob: fsync %s/%s: %s", b->dir, name, strerror(errno));
            return false;
        }
    }
    if (root_changed && fsync(b->root_fd) != 0) {
        log_error("blob: fsync %s: %s", b->dir, strerror(errno));
        return false;
    }
    return true;
}

static void blob_local_close(blob_t *base)
{
    blob_local_t *b = (blob_local_t *)base;
    if (!b)
        return;
    for (int i = 0; i < BLOB_LOCAL_AREAS; i++)
        if (b->area_fd[i] >= 0)
            close(b->area_fd[i]);
    if (b->root_fd >= 0)
        close(b->root_fd);
    free(b->dir);
    free(b);
}

/* ---- blocks ---- */

static void blob_local_writer_free(blob_writer_t *w)
{
    if (w->fd >= 0)
        close(w->fd);
    free(w);
}

static int blob_local_block_open(blob_t *base, const char *block_id, int64_t offset, blob_writer_t **out)
{
    blob_local_t *b = (blob_local_t *)base;
    *out = NULL;
    if (!blob_local_id_valid(block_id))
        return blob_local_invalid_id("block_open");
    if (offset < 0) {
        log_error("blob: block_open: negative offset");
        return BLOB_ERROR;
    }
    int rc = BLOB_OK;
    int fd_blocks = b->area_fd[BLOB_LOCAL_BLOCKS];
    blob_writer_t *w = calloc(1, sizeof(*w));
    if (!w) {
        log_error("blob: block_open: out of memory");
        return BLOB_ERROR;
    }
    w->b = b;
    w->fd = -1;
    w->pos = w->queued = offset;
    blob_local_name(block_id, w->name);
    if (offset == 0)
        w->fd = openat(fd_blocks, w->name, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, BLOB_LOCAL_FILE_MODE);
    else
        w->fd = openat(fd_blocks, w->name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (w->fd < 0) {
        rc = errno == ENOENT ? BLOB_NOT_FOUND : blob_local_fail(b, "open", BLOB_LOCAL_BLOCKS, w->name, errno);
        goto out;
    }
    /* Held until the writer closes: object_stage_blocks takes it too. */
    if (flock(w->fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? BLOB_BUSY : blob_local_fail(b, "lock", BLOB_LOCAL_BLOCKS, w->name, errno);
        goto out;
    }
    struct stat st;
    if (fstat(w->fd, &st) != 0) {
        rc = blob_local_fail(b, "stat", BLOB_LOCAL_BLOCKS, w->name, errno);
        goto out;
    }
    if (st.st_nlink > 1) {
        /* Frozen: its bytes are part of a staged or published object. */
        rc = BLOB_NOT_FOUND;
        goto out;
    }
    if (offset == 0) {
        if (st.st_size > 0 && ftruncate(w->fd, 0) != 0) {
            rc = blob_local_fail(b, "truncate", BLOB_LOCAL_BLOCKS, w->name, errno);
            goto out;
        }
        /* Also when the file already existed: an earlier writer may have
         * created it and gone away before its first sync. */
        w->sync_dir = true;
        goto out;
    }
    if (st.st_size < offset) {
        log_error("blob: block %s holds %lld bytes, fewer than offset %lld", w->name, (long long)st.st_size,
                  (long long)offset);
        rc = BLOB_ERROR;
        goto out;
    }
    /* Bytes past the acknowledged offset may be torn by a crash or belong
     * to a chunk the client is re-sending: drop them. */
    if (st.st_size > offset && ftruncate(w->fd, offset) != 0) {
        rc = blob_local_fail(b, "truncate", BLOB_LOCAL_BLOCKS, w->name, errno);
        goto out;
    }
    /* Reopening counts as a write for sweep, which goes by mtime: a block
     * being resumed is not the abandoned one it looks for. */
    if (futimens(w->fd, NULL) != 0) {
        rc = blob_local_fail(b, "touch", BLOB_LOCAL_BLOCKS, w->name, errno);
        goto out;
    }
out:
    if (rc != BLOB_OK)
        blob_local_writer_free(w);
    else
        *out = w;
    return rc;
}

static int blob_local_block_size(blob_t *base, const char *block_id, int64_t *size)
{
    blob_local_t *b = (blob_local_t *)base;
    if (!blob_local_id_valid(block_id))
        return blob_local_invalid_id("block_size");
    char name[BLOB_LOCAL_NAME_LEN];
    blob_local_name(block_id, name);
    struct stat st;
    if (fstatat(b->area_fd[BLOB_LOCAL_BLOCKS], name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? BLOB_NOT_FOUND : blob_local_fail(b, "stat", BLOB_LOCAL_BLOCKS, name, errno);
    *size = st.st_size;
    return BLOB_OK;
}

static int blob_local_remove(blob_local_t *b, int area, const char *id, const char *what)
{
    if (!blob_local_id_valid(id))
        return blob_local_invalid_id(what);
    char name[BLOB_LOCAL_NAME_LEN];
    blob_local_name(id, name);
    if (unlinkat(b->area_fd[area], name, 0) != 0)
        return errno == ENOENT ? BLOB_NOT_FOUND : blob_local_fail(b, "remove", area, name, errno);
    return BLOB_OK;
}

static int blob_local_block_remove(blob_t *base, const char *block_id)
{
    return blob_local_remove((blob_local_t *)base, BLOB_LOCAL_BLOCKS, block_id, "block_remove");
}

/* ---- objects of parts ---- */

/* Removes the directory `name` under parent_fd with the parts in it;
 * returns 0 or an errno value. */
static int blob_local_remove_parts(int parent_fd, const char *name)
{
    int err = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = openat(parent_fd, name, BLOB_LOCAL_OPEN_DIR | O_NOFOLLOW);
        if (fd < 0)
            return errno == ENOENT ? 0 : errno;
        DIR *d = fdopendir(fd);
        if (!d) {
            err = errno;
            close(fd);
            return err;
        }
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
                unlinkat(dirfd(d), e->d_name, 0) != 0 && errno != ENOENT)
                err = errno;
        closedir(d);
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
            return err;
        /* An entry readdir did not show while we removed others: once more. */
        if (errno != ENOTEMPTY)
            return errno;
    }
    return ENOTEMPTY;
}

/* The object offsets at which the parts 0, 1, ... of dir_fd end.  *ends is
 * malloc'd (NULL when there are no parts). */
static bool blob_local_part_ends(int dir_fd, int64_t **ends, size_t *count)
{
    *ends = NULL;
    *count = 0;
    size_t cap = 0;
    int64_t total = 0;
    for (size_t i = 0;; i++) {
        char part[24];
        snprintf(part, sizeof(part), "%zu", i);
        struct stat st;
        if (fstatat(dir_fd, part, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno == ENOENT)
                return true;
            log_error("blob: stat part %s: %s", part, strerror(errno));
            break;
        }
        if (*count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            int64_t *n = realloc(*ends, ncap * sizeof(**ends));
            if (!n)
                break;
            *ends = n;
            cap = ncap;
        }
        total += st.st_size;
        (*ends)[(*count)++] = total;
    }
    free(*ends);
    *ends = NULL;
    return false;
}

/* ---- readers ---- */

static int blob_local_read_open(blob_local_t *b, int area, const char *id, const char *what, blob_reader_t **out)
{
    *out = NULL;
    if (!blob_local_id_valid(id))
        return blob_local_invalid_id(what);
    char name[BLOB_LOCAL_NAME_LEN];
    blob_local_name(id, name);
    blob_reader_t *r = malloc(sizeof(*r));
    if (!r) {
        log_error("blob: %s: out of memory", what);
        return BLOB_ERROR;
    }
    r->dir_fd = -1;
    r->ends = NULL;
    r->fd = openat(b->area_fd[area], name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (r->fd < 0) {
        int rc = errno == ENOENT ? BLOB_NOT_FOUND : blob_local_fail(b, "open", area, name, errno);
        free(r);
        return rc;
    }
    struct stat st;
    if (area == BLOB_LOCAL_OBJECTS && fstat(r->fd, &st) == 0 && S_ISDIR(st.st_mode)) {
        r->dir_fd = r->fd;
        r->fd = -1;
        if (!blob_local_part_ends(r->dir_fd, &r->ends, &r->count)) {
            close(r->dir_fd);
            free(r);
            return BLOB_ERROR;
        }
    }
    *out = r;
    return BLOB_OK;
}

static int blob_local_block_read_open(blob_t *base, const char *block_id, blob_reader_t **out)
{
    return blob_local_read_open((blob_local_t *)base, BLOB_LOCAL_BLOCKS, block_id, "block_read_open", out);
}

/* Points r->fd at part i of an object of parts. */
static bool blob_local_reader_part(blob_reader_t *r, size_t i)
{
    if (r->fd >= 0 && r->current == i)
        return true;
    if (r->fd >= 0)
        close(r->fd);
    char part[24];
    snprintf(part, sizeof(part), "%zu", i);
    r->fd = openat(r->dir_fd, part, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    r->current = i;
    if (r->fd < 0)
        log_error("blob: open part %s: %s", part, strerror(errno));
    return r->fd >= 0;
}

static int64_t blob_local_pread_all(int fd, char *buf, size_t len, int64_t offset)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(offset + (int64_t)done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("blob: read: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    return (int64_t)done;
}

static int64_t blob_local_read_at(blob_reader_t *r, void *buf, size_t len, int64_t offset)
{
    if (offset < 0 || len > (size_t)INT64_MAX)
        return -1;
    if (r->dir_fd < 0)
        return blob_local_pread_all(r->fd, buf, len, offset);
    /* An object of parts: the first part that ends past offset, then on. */
    size_t lo = 0, hi = r->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->ends[mid] <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t done = 0;
    for (size_t i = lo; i < r->count && done < len; i++) {
        int64_t start = i == 0 ? 0 : r->ends[i - 1];
        int64_t at = offset + (int64_t)done - start;
        int64_t left = r->ends[i] - start - at;
        size_t want = (int64_t)(len - done) < left ? len - done : (size_t)left;
        if (!blob_local_reader_part(r, i))
            return -1;
        int64_t n = blob_local_pread_all(r->fd, (char *)buf + done, want, at);
        if (n < 0)
            return -1;
        done += (size_t)n;
        if ((size_t)n < want)
            break; /* the part is shorter than when the reader opened */
    }
    return (int64_t)done;
}

static int blob_local_reader_fd(blob_reader_t *r)
{
    if (r->dir_fd < 0)
        return r->fd;
    /* A single part can be sent as is. */
    return r->count == 1 && blob_local_reader_part(r, 0) ? r->fd : -1;
}

static void blob_local_reader_close(blob_reader_t *r)
{
    if (!r)
        return;
    if (r->fd >= 0)
        close(r->fd);
    if (r->dir_fd >= 0)
        close(r->dir_fd);
    free(r->ends);
    free(r);
}

/* ---- writers ---- */

static int blob_local_writer_area(const blob_writer_t *w)
{
    return w->staged ? BLOB_LOCAL_STAGING : BLOB_LOCAL_BLOCKS;
}

static int blob_local_write(blob_writer_t *w, const void *data, size_t len)
{
    if (w->parts) {
        log_error("blob: write to an object staged from blocks");
        return BLOB_ERROR;
    }
    if (w->failed) {
        log_error("blob: write to %s after a failed sync", w->name);
        return BLOB_ERROR;
    }
    const char *p = data;
    int64_t start = w->pos;
    while (len > 0) {
        ssize_t n = pwrite(w->fd, p, len, (off_t)w->pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int err = n < 0 ? errno : EIO; /* 0 for a non-empty write: no progress possible */
            /* Give back the space a partial write took, so a full disk is
             * not made fuller by bytes the caller was told did not land. */
            if (ftruncate(w->fd, start) == 0)
                w->pos = start;
            else
                w->failed = true;
            return blob_local_fail(w->b, "write", blob_local_writer_area(w), w->name, err);
        }
        p += n;
        len -= (size_t)n;
        w->pos += n;
    }
    /* Start writing back what a sync will wait for while the rest still
     * arrives, so that the sync at the end of a chunk has only the tail
     * left.  A hint: its errors show up in the sync. */
    if (w->pos - w->queued >= BLOB_LOCAL_WRITEBACK) {
        (void)sync_file_range(w->fd, (off_t)w->queued, (off_t)(w->pos - w->queued), SYNC_FILE_RANGE_WRITE);
        w->queued = w->pos;
    }
    return BLOB_OK;
}

/*
 * Preallocates (unwritten extents, size unchanged).  Besides refusing a
 * block the disk cannot hold before any byte is read, this keeps block
 * allocation out of the writes: on ext4 a commit of the filesystem journal
 * then does not wait for these blocks' data, so SQLite's commits stay fast
 * while uploads stream.
 */
static int blob_local_reserve(blob_writer_t *w, int64_t bytes)
{
    if (w->parts || w->failed || bytes <= 0)
        return BLOB_OK;
    if (fallocate(w->fd, FALLOC_FL_KEEP_SIZE, (off_t)w->pos, (off_t)bytes) == 0) {
        if (w->pos + bytes > w->reserved_end)
            w->reserved_end = w->pos + bytes;
        return BLOB_OK;
    }
    if (errno == ENOSPC || errno == EDQUOT)
        return blob_local_fail(w->b, "reserve", blob_local_writer_area(w), w->name, errno);
    return BLOB_OK; /* EOPNOTSUPP and the like: just no reservation */
}

static int blob_local_sync(blob_writer_t *w)
{
    if (w->failed || w->parts) {
        log_error("blob: sync of %s after a failed sync", w->name);
        return BLOB_ERROR;
    }
    if (fdatasync(w->fd) != 0) {
        w->failed = true;
        return blob_local_fail(w->b, "fdatasync", blob_local_writer_area(w), w->name, errno);
    }
    if (w->sync_dir) {
        char sub[3] = {w->name[0], w->name[1], '\0'};
        int rc = blob_local_sync_dir(w->b, BLOB_LOCAL_BLOCKS, sub);
        if (rc != BLOB_OK) {
            w->failed = true;
            return rc;
        }
        w->sync_dir = false;
    }
    return BLOB_OK;
}

/*
 * Gives back the room reserved past a block's end.  On ext4 a truncate to
 * the current size frees preallocated extents past it, where punching a
 * hole there is a no-op; a failure only leaves the room for the sweep.
 */
static void blob_local_release_reserve(blob_writer_t *w)
{
    if (w->reserved_end <= w->pos || w->failed)
        return;
    if (ftruncate(w->fd, (off_t)w->pos) != 0)
        blob_local_fail(w->b, "release reserved room of", BLOB_LOCAL_BLOCKS, w->name, errno);
    w->reserved_end = w->pos;
}

static void blob_local_writer_close(blob_writer_t *w)
{
    if (!w)
        return;
    if (!w->staged)
        blob_local_release_reserve(w);
    if (w->parts) {
        /* Unlinking the parts unfreezes the blocks. */
        int err = blob_local_remove_parts(w->b->area_fd[BLOB_LOCAL_STAGING], w->name);
        if (err)
            blob_local_fail(w->b, "remove", BLOB_LOCAL_STAGING, w->name, err);
    } else if (w->staged) {
        /* ENOENT: a sweep took it first, which is what we wanted anyway. */
        if (unlinkat(w->b->area_fd[BLOB_LOCAL_STAGING], w->name, 0) != 0 && errno != ENOENT)
            blob_local_fail(w->b, "remove", BLOB_LOCAL_STAGING, w->name, errno);
    }
    blob_local_writer_free(w);
}

/* ---- objects ---- */

static int blob_local_object_stage(blob_t *base, blob_writer_t **out)
{
    blob_local_t *b = (blob_local_t *)base;
    *out = NULL;
    blob_writer_t *w = calloc(1, sizeof(*w));
    if (!w) {
        log_error("blob: object_stage: out of memory");
        return BLOB_ERROR;
    }
    w->b = b;
    w->fd = -1;
    w->staged = true;
    int err = EEXIST;
    for (int i = 0; i < BLOB_LOCAL_STAGE_RETRIES && w->fd < 0 && err == EEXIST; i++) {
        if (!ids_random_hex(BLOB_ID_LEN / 2, w->name)) {
            log_error("blob: object_stage: no random bytes");
            free(w);
            return BLOB_ERROR;
        }
        w->fd = openat(b->area_fd[BLOB_LOCAL_STAGING], w->name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                       BLOB_LOCAL_FILE_MODE);
        err = errno;
    }
    if (w->fd < 0) {
        int rc = blob_local_fail(b, "create", BLOB_LOCAL_STAGING, w->name, err);
        free(w);
        return rc;
    }
    *out = w;
    return BLOB_OK;
}

/* Freezes one block as part `index` of the staged directory w->fd. */
static int blob_local_stage_part(blob_writer_t *w, const char *block_id, int64_t length, size_t index)
{
    blob_local_t *b = w->b;
    if (!blob_local_id_valid(block_id))
        return blob_local_invalid_id("object_stage_blocks");
    char name[BLOB_LOCAL_NAME_LEN], part[24];
    blob_local_name(block_id, name);
    snprintf(part, sizeof(part), "%zu", index);
    int rc = BLOB_OK;
    int fd = openat(b->area_fd[BLOB_LOCAL_BLOCKS], name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? BLOB_NOT_FOUND : blob_local_fail(b, "open", BLOB_LOCAL_BLOCKS, name, errno);
    struct stat st;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        rc = errno == EWOULDBLOCK ? BLOB_BUSY : blob_local_fail(b, "lock", BLOB_LOCAL_BLOCKS, name, errno);
    } else if (fstat(fd, &st) != 0) {
        rc = blob_local_fail(b, "stat", BLOB_LOCAL_BLOCKS, name, errno);
    } else if (st.st_size < length) {
        rc = BLOB_NOT_FOUND;
    } else if (st.st_size > length && ftruncate(fd, length) != 0) {
        /* Bytes past the acknowledged length were never the client's. */
        rc = blob_local_fail(b, "truncate", BLOB_LOCAL_BLOCKS, name, errno);
    } else if (st.st_size > length && fdatasync(fd) != 0) {
        rc = blob_local_fail(b, "fdatasync", BLOB_LOCAL_BLOCKS, name, errno);
    } else if (linkat(b->area_fd[BLOB_LOCAL_BLOCKS], name, w->fd, part, 0) != 0) {
        rc = blob_local_fail(b, "link", BLOB_LOCAL_BLOCKS, name, errno);
    }
    close(fd); /* releases the lock: from here the link count keeps writers out */
    return rc;
}

static int blob_local_object_stage_blocks(blob_t *base, const char *const *block_ids, const int64_t *lengths,
                                          size_t count, blob_writer_t **out)
{
    blob_local_t *b = (blob_local_t *)base;
    *out = NULL;
    blob_writer_t *w = calloc(1, sizeof(*w));
    if (!w) {
        log_error("blob: object_stage_blocks: out of memory");
        return BLOB_ERROR;
    }
    w->b = b;
    w->fd = -1;
    w->staged = true;
    w->parts = true;
    int err = EEXIST;
    bool made = false;
    for (int i = 0; i < BLOB_LOCAL_STAGE_RETRIES && !made && err == EEXIST; i++) {
        if (!ids_random_hex(BLOB_ID_LEN / 2, w->name)) {
            log_error("blob: object_stage_blocks: no random bytes");
            free(w);
            return BLOB_ERROR;
        }
        made = mkdirat(b->area_fd[BLOB_LOCAL_STAGING], w->name, BLOB_LOCAL_DIR_MODE) == 0;
        err = errno;
    }
    if (!made) {
        int rc = blob_local_fail(b, "mkdir", BLOB_LOCAL_STAGING, w->name, err);
        free(w);
        return rc;
    }
    int rc = BLOB_OK;
    w->fd = openat(b->area_fd[BLOB_LOCAL_STAGING], w->name, BLOB_LOCAL_OPEN_DIR | O_NOFOLLOW);
    if (w->fd < 0)
        rc = blob_local_fail(b, "open", BLOB_LOCAL_STAGING, w->name, errno);
    for (size_t i = 0; rc == BLOB_OK && i < count; i++)
        rc = blob_local_stage_part(w, block_ids[i], lengths[i], i);
    if (rc == BLOB_OK && fsync(w->fd) != 0)
        rc = blob_local_fail(b, "fsync directory", BLOB_LOCAL_STAGING, w->name, errno);
    if (rc != BLOB_OK) {
        blob_local_writer_close(w);
        return rc;
    }
    *out = w;
    return BLOB_OK;
}

static int blob_local_object_publish(blob_t *base, blob_writer_t *w, const char *object_id)
{
    blob_local_t *b = (blob_local_t *)base;
    if (!w)
        return BLOB_ERROR;
    if (!w->staged) {
        log_error("blob: object_publish: %s is a block, not a staged object", w->name);
        blob_local_writer_close(w);
        return BLOB_ERROR;
    }
    int rc = BLOB_OK;
    bool renamed = false;
    char name[BLOB_LOCAL_NAME_LEN];
    char sub[3];
    if (!blob_local_id_valid(object_id)) {
        rc = blob_local_invalid_id("object_publish");
        goto out;
    }
    if (w->failed) {
        log_error("blob: publish of %s after a failed sync", w->name);
        rc = BLOB_ERROR;
        goto out;
    }
    blob_local_name(object_id, name);
    /* mtime is the publish time: sweep measures the age of an object that
     * no registry row names from here, so an object is not swept in the
     * moment between its publish and the commit of its row, however long
     * the staging took. */
    if (futimens(w->fd, NULL) != 0) {
        rc = blob_local_fail(b, "touch", BLOB_LOCAL_STAGING, w->name, errno);
        goto out;
    }
    /* For an object of parts the parts are durable already (every chunk was
     * synced before its answer) and this makes the directory's entries so. */
    if ((w->parts ? fsync(w->fd) : fdatasync(w->fd)) != 0) {
        rc = blob_local_fail(b, "fdatasync", BLOB_LOCAL_STAGING, w->name, errno);
        goto out;
    }
    if (renameat(b->area_fd[BLOB_LOCAL_STAGING], w->name, b->area_fd[BLOB_LOCAL_OBJECTS], name) != 0) {
        rc = blob_local_fail(b, "rename to objects", BLOB_LOCAL_STAGING, w->name, errno);
        goto out;
    }
    renamed = true;
    snprintf(sub, sizeof(sub), "%.2s", name);
    rc = blob_local_sync_dir(b, BLOB_LOCAL_OBJECTS, sub);
    if (rc != BLOB_OK) {
        /* Not known to be durable, so the caller writes no row: the object
         * would be garbage, and must not stay visible until a sweep. */
        int err = w->parts ? blob_local_remove_parts(b->area_fd[BLOB_LOCAL_OBJECTS], name)
                           : (unlinkat(b->area_fd[BLOB_LOCAL_OBJECTS], name, 0) != 0 ? errno : 0);
        if (err)
            blob_local_fail(b, "remove", BLOB_LOCAL_OBJECTS, name, err);
    }
out:
    if (renamed)
        blob_local_writer_free(w);
    else
        blob_local_writer_close(w); /* removes the staged file */
    return rc;
}

static int blob_local_object_stat(blob_t *base, const char *object_id, blob_object_info_t *out)
{
    blob_local_t *b = (blob_local_t *)base;
    if (!blob_local_id_valid(object_id))
        return blob_local_invalid_id("object_stat");
    char name[BLOB_LOCAL_NAME_LEN];
    blob_local_name(object_id, name);
    struct stat st;
    if (fstatat(b->area_fd[BLOB_LOCAL_OBJECTS], name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? BLOB_NOT_FOUND : blob_local_fail(b, "stat", BLOB_LOCAL_OBJECTS, name, errno);
    out->size = st.st_size;
    out->mtime_ms = blob_local_mtime_ms(&st);
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(b->area_fd[BLOB_LOCAL_OBJECTS], name, BLOB_LOCAL_OPEN_DIR | O_NOFOLLOW);
        if (fd < 0)
            return errno == ENOENT ? BLOB_NOT_FOUND : blob_local_fail(b, "open", BLOB_LOCAL_OBJECTS, name, errno);
        int64_t *ends = NULL;
        size_t count = 0;
        bool ok = blob_local_part_ends(fd, &ends, &count);
        close(fd);
        out->size = count ? ends[count - 1] : 0;
        free(ends);
        if (!ok)
            return BLOB_ERROR;
    }
    return BLOB_OK;
}

static int blob_local_object_read_open(blob_t *base, const char *object_id, blob_reader_t **out)
{
    return blob_local_read_open((blob_local_t *)base, BLOB_LOCAL_OBJECTS, object_id, "object_read_open", out);
}

static int blob_local_object_remove(blob_t *base, const char *object_id)
{
    blob_local_t *b = (blob_local_t *)base;
    if (!blob_local_id_valid(object_id))
        return blob_local_invalid_id("object_remove");
    char name[BLOB_LOCAL_NAME_LEN];
    blob_local_name(object_id, name);
    struct stat st;
    if (fstatat(b->area_fd[BLOB_LOCAL_OBJECTS], name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
        int err = blob_local_remove_parts(b->area_fd[BLOB_LOCAL_OBJECTS], name);
        return err ? blob_local_fail(b, "remove", BLOB_LOCAL_OBJECTS, name, err) : BLOB_OK;
    }
    return blob_local_remove(b, BLOB_LOCAL_OBJECTS, object_id, "object_remove");
}

/* ---- files for programs (processing) ---- */

#define BLOB_LOCAL_COPY_CHUNK (1 << 20)

/* Copies an object's bytes (one file or parts) into the new file `path`. */
static int blob_local_copy_out(blob_local_t *b, const char *object_id, const char *path)
{
    blob_reader_t *r = NULL;
    int rc = blob_local_read_open(b, BLOB_LOCAL_OBJECTS, object_id, "object_materialize", &r);
    if (rc != BLOB_OK)
        return rc;
    char *chunk = malloc(BLOB_LOCAL_COPY_CHUNK);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, BLOB_LOCAL_FILE_MODE);
    int err = !chunk ? ENOMEM : fd < 0 ? errno : 0;
    for (int64_t off = 0; !err;) {
        int64_t n = blob_local_read_at(r, chunk, BLOB_LOCAL_COPY_CHUNK, off);
        if (n <= 0) {
            err = n < 0 ? EIO : 0;
            break;
        }
        if (write(fd, chunk, (size_t)n) != (ssize_t)n)
            err = errno ? errno : ENOSPC;
        off += n;
    }
    if (fd >= 0 && close(fd) != 0 && !err)
        err = errno;
    if (err && fd >= 0)
        unlink(path);
    free(chunk);
    blob_local_reader_close(r);
    if (err)
        log_error("blob: object_materialize %s: %s", object_id, strerror(err));
    return err ? blob_local_rc_of(err) : BLOB_OK;
}

static int blob_local_object_materialize(blob_t *base, const char *object_id, const char *path)
{
    blob_local_t *b = (blob_local_t *)base;
    if (!blob_local_id_valid(object_id))
        return blob_local_invalid_id("object_materialize");
    char name[BLOB_LOCAL_NAME_LEN];
    blob_local_name(object_id, name);
    struct stat st;
    if (fstatat(b->area_fd[BLOB_LOCAL_OBJECTS], name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? BLOB_NOT_FOUND : blob_local_fail(b, "stat", BLOB_LOCAL_OBJECTS, name, errno);
    /* One file: a link shares its bytes at no cost (the caller only reads). */
    if (S_ISREG(st.st_mode) && linkat(b->area_fd[BLOB_LOCAL_OBJECTS], name, AT_FDCWD, path, 0) == 0)
        return BLOB_OK;
    if (S_ISREG(st.st_mode) && errno != EXDEV && errno != EPERM)
        return blob_local_fail(b, "link out", BLOB_LOCAL_OBJECTS, name, errno);
    return blob_local_copy_out(b, object_id, path);
}

/* Imports by copying into a staged object (path on another filesystem). */
static int blob_local_import_copy(blob_t *base, int fd, const char *path, const char *object_id)
{
    blob_writer_t *w = NULL;
    int rc = blob_local_object_stage(base, &w);
    char *chunk = rc == BLOB_OK ? malloc(BLOB_LOCAL_COPY_CHUNK) : NULL;
    if (rc == BLOB_OK && !chunk)
        rc = BLOB_ERROR;
    ssize_t n = 0;
    while (rc == BLOB_OK && (n = read(fd, chunk, BLOB_LOCAL_COPY_CHUNK)) > 0)
        rc = blob_local_write(w, chunk, (size_t)n);
    if (rc == BLOB_OK && n < 0)
        rc = blob_local_fail(w->b, "read import", BLOB_LOCAL_STAGING, w->name, errno);
    free(chunk);
    if (rc != BLOB_OK) {
        if (w)
            blob_local_writer_close(w);
        return rc;
    }
    rc = blob_local_object_publish(base, w, object_id);
    if (rc == BLOB_OK)
        unlink(path);
    return rc;
}

static int blob_local_object_import(blob_t *base, const char *path, const char *object_id)
{
    blob_local_t *b = (blob_local_t *)base;
    if (!blob_local_id_valid(object_id))
        return blob_local_invalid_id("object_import");
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int err = errno;
        log_error("blob: object_import: open %s: %s", path, strerror(err));
        return err == ENOENT ? BLOB_NOT_FOUND : blob_local_rc_of(err);
    }
    char name[BLOB_LOCAL_NAME_LEN], sub[3];
    blob_local_name(object_id, name);
    snprintf(sub, sizeof(sub), "%.2s", name);
    struct stat st = {0};
    int rc = BLOB_OK;
    /* Durable before visible, and aged from now for the sweep (see publish). */
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || futimens(fd, NULL) != 0 || fdatasync(fd) != 0) {
        log_error("blob: object_import %s: %s", path, S_ISREG(st.st_mode) ? strerror(errno) : "not a file");
        rc = BLOB_ERROR;
    } else if (renameat(AT_FDCWD, path, b->area_fd[BLOB_LOCAL_OBJECTS], name) != 0) {
        rc = errno == EXDEV ? blob_local_import_copy(base, fd, path, object_id)
                            : blob_local_fail(b, "import", BLOB_LOCAL_OBJECTS, name, errno);
    } else if ((rc = blob_local_sync_dir(b, BLOB_LOCAL_OBJECTS, sub)) != BLOB_OK) {
        unlinkat(b->area_fd[BLOB_LOCAL_OBJECTS], name, 0); /* not known durable: not visible */
    }
    close(fd);
    return rc;
}

/* ---- sweep ---- */

typedef struct blob_local_sweep {
    blob_local_t *b;
    int area;
    int64_t cutoff_ms; /* entries last modified before this go */
    bool (*in_use)(void *arg, const char *object_id);
    void (*block_gone)(void *arg, const char *block_id);
    void (*walk)(void *arg, const char *block_id, int64_t size); /* block_walk: list, remove nothing */
    void *arg;
    int64_t removed;
    bool ok;
} blob_local_sweep_t;

static bool blob_local_is_fanout(const char *name)
{
    const char *hex = "0123456789abcdef";
    return name[0] && strchr(hex, name[0]) && name[1] && strchr(hex, name[1]) && name[2] == '\0';
}

/*
 * Gives back room a crash left reserved past a block's bytes (the writer
 * that would have released it never closed).  A block open for writing
 * holds its lock and is left alone: its writer releases its own room.
 */
static void blob_local_trim(blob_local_t *b, int dir_fd, const char *name, const struct stat *st)
{
    int64_t held = (int64_t)st->st_blocks * 512;
    if (held <= st->st_size + BLOB_LOCAL_TRIM_SLACK)
        return;
    int fd = openat(dir_fd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return;
    struct stat now;
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &now) == 0 && now.st_nlink == 1 &&
        ftruncate(fd, now.st_size) != 0)
        log_warn("blob: trim %s/blocks/%s: %s", b->dir, name, strerror(errno));
    close(fd);
}

/* Sweeps the files of one directory: `sub` of the area, or "." for it. */
static void blob_local_sweep_dir(blob_local_sweep_t *s, const char *sub)
{
    int fd = openat(s->b->area_fd[s->area], sub, BLOB_LOCAL_OPEN_DIR);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        blob_local_fail(s->b, "open directory", s->area, sub, errno);
        if (fd >= 0)
            close(fd);
        s->ok = false;
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char where[BLOB_LOCAL_NAME_LEN + 2]; /* sub/id, for log messages */
        /* Names this module did not make (including . and ..) are not its
         * to remove. */
        if (!blob_local_id_valid(e->d_name))
            continue;
        snprintf(where, sizeof(where), "%.2s/%.32s", sub, e->d_name); /* a valid id: 32 */
        struct stat st;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) {
                blob_local_fail(s->b, "stat", s->area, where, errno);
                s->ok = false;
            }
            continue;
        }
        if (s->walk) {
            if (S_ISREG(st.st_mode))
                s->walk(s->arg, e->d_name, st.st_size);
            continue;
        }
        /* Staged and published objects of parts are directories. */
        bool parts = S_ISDIR(st.st_mode) && s->area != BLOB_LOCAL_BLOCKS;
        if (!S_ISREG(st.st_mode) && !parts)
            continue;
        if (blob_local_mtime_ms(&st) >= s->cutoff_ms) {
            if (s->area == BLOB_LOCAL_BLOCKS)
                blob_local_trim(s->b, fd, e->d_name, &st);
            continue;
        }
        /* Age first: it is free, while in_use may query the registry. */
        if (s->in_use && s->in_use(s->arg, e->d_name))
            continue;
        int err = parts ? blob_local_remove_parts(fd, e->d_name) : (unlinkat(fd, e->d_name, 0) != 0 ? errno : 0);
        if (err) {
            if (err != ENOENT) {
                blob_local_fail(s->b, "remove", s->area, where, err);
                s->ok = false;
            }
            continue;
        }
        s->removed++;
        if (s->area == BLOB_LOCAL_BLOCKS && s->block_gone)
            s->block_gone(s->arg, e->d_name);
    }
    closedir(d);
}

static void blob_local_sweep_area(blob_local_sweep_t *s)
{
    if (s->area == BLOB_LOCAL_STAGING) {
        blob_local_sweep_dir(s, ".");
        return;
    }
    /* Walk what is there rather than the 256 names open made, so nothing
     * depends on open having run on this exact tree. */
    int fd = openat(s->b->area_fd[s->area], ".", BLOB_LOCAL_OPEN_DIR);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        blob_local_fail(s->b, "open directory", s->area, ".", errno);
        if (fd >= 0)
            close(fd);
        s->ok = false;
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (blob_local_is_fanout(e->d_name))
            blob_local_sweep_dir(s, e->d_name);
    closedir(d);
}

static int64_t blob_local_sweep(blob_t *base, int64_t now_ms, int64_t max_age_ms,
                                bool (*in_use)(void *arg, const char *object_id),
                                void (*block_gone)(void *arg, const char *block_id), void *arg)
{
    if (max_age_ms < 0) {
        log_error("blob: sweep: negative max age %lld", (long long)max_age_ms);
        return -1;
    }
    blob_local_sweep_t s = {
        .b = (blob_local_t *)base, .cutoff_ms = now_ms - max_age_ms, .ok = true, .block_gone = block_gone, .arg = arg};
    s.area = BLOB_LOCAL_BLOCKS;
    blob_local_sweep_area(&s);
    s.area = BLOB_LOCAL_STAGING;
    blob_local_sweep_area(&s);
    if (in_use) { /* without a registry to ask, every object is kept */
        s.area = BLOB_LOCAL_OBJECTS;
        s.in_use = in_use;
        blob_local_sweep_area(&s);
    }
    return s.ok ? s.removed : -1;
}

static int64_t blob_local_free_space(blob_t *base)
{
    struct statvfs st;
    if (fstatvfs(((blob_local_t *)base)->root_fd, &st) != 0)
        return 0;
    return (int64_t)st.f_bavail * (int64_t)st.f_frsize;
}

static int64_t blob_local_staging_clear(blob_t *base)
{
    blob_local_sweep_t s = {
        .b = (blob_local_t *)base, .area = BLOB_LOCAL_STAGING, .cutoff_ms = INT64_MAX, .ok = true};
    blob_local_sweep_area(&s);
    return s.ok ? s.removed : -1;
}

static int blob_local_block_walk(blob_t *base, void (*fn)(void *arg, const char *block_id, int64_t size), void *arg)
{
    blob_local_sweep_t s = {.b = (blob_local_t *)base, .area = BLOB_LOCAL_BLOCKS, .walk = fn, .arg = arg, .ok = true};
    blob_local_sweep_area(&s);
    return s.ok ? BLOB_OK : BLOB_ERROR;
}

/* ---- vtable ---- */

static const struct blob_ops blob_local_ops = {
    .close = blob_local_close,
    .block_open = blob_local_block_open,
    .block_size = blob_local_block_size,
    .block_read_open = blob_local_block_read_open,
    .block_remove = blob_local_block_remove,
    .object_stage = blob_local_object_stage,
    .object_stage_blocks = blob_local_object_stage_blocks,
    .object_publish = blob_local_object_publish,
    .object_stat = blob_local_object_stat,
    .object_read_open = blob_local_object_read_open,
    .object_remove = blob_local_object_remove,
    .object_materialize = blob_local_object_materialize,
    .object_import = blob_local_object_import,
    .write = blob_local_write,
    .reserve = blob_local_reserve,
    .sync = blob_local_sync,
    .writer_close = blob_local_writer_close,
    .read_at = blob_local_read_at,
    .reader_fd = blob_local_reader_fd,
    .reader_close = blob_local_reader_close,
    .sweep = blob_local_sweep,
    .block_walk = blob_local_block_walk,
    .staging_clear = blob_local_staging_clear,
    .free_space = blob_local_free_space,
};

blob_t *blob_local_open(const char *dir)
{
    if (!dir || !*dir) {
        log_error("blob: no directory given");
        return NULL;
    }
    blob_local_t *b = calloc(1, sizeof(*b));
    if (!b || !(b->dir = strdup(dir))) {
        log_error("blob: out of memory");
        free(b);
        return NULL;
    }
    b->base.ops = &blob_local_ops;
    b->root_fd = -1;
    for (int i = 0; i < BLOB_LOCAL_AREAS; i++)
        b->area_fd[i] = -1;

    bool made = false;
    if (!blob_local_mkdir(AT_FDCWD, dir, &made)) {
        log_error("blob: mkdir %s: %s", dir, strerror(errno));
        goto fail;
    }
    b->root_fd = open(dir, BLOB_LOCAL_OPEN_DIR);
    if (b->root_fd < 0) {
        log_error("blob: open %s: %s", dir, strerror(errno));
        goto fail;
    }
    for (int i = 0; i < BLOB_LOCAL_AREAS; i++)
        if (!blob_local_open_area(b, i))
            goto fail;
    if (made && !blob_local_sync_parent(dir))
        goto fail;
    return &b->base;
fail:
    blob_local_close(&b->base);
    return NULL;
}
