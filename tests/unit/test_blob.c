/*
 * test_blob: the local-directory blob (blob/blob_local.c) against the
 * contract in blob/blob.h: block append, reopen at an offset and truncation,
 * staged objects invisible until an atomic publish, ranged reads, removal,
 * sweep by age with a fake clock (mtimes set with utimensat), id checks and
 * file modes.
 *
 * Each test opens a fresh store in its own mkdtemp directory under /tmp and
 * removes it afterwards.
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#define _GNU_SOURCE /* fallocate */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/blob.h"
#include "common/timeutil.h"
#include "unit_tmpdir.h"

#define ID_A "0123456789abcdef0123456789abcdef"
#define ID_B "ab000000000000000000000000000001"
#define ID_C "ab000000000000000000000000000002"
#define ID_D "ff00000000000000000000000000000d"
#define ID_E "e0000000000000000000000000000000"

typedef struct fixture {
    char tmp[64];
    char dir[96];
    blob_t *blob;
    const struct blob_ops *ops;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    if (!unit_tmpdir_make(f->tmp, sizeof(f->tmp), "blob")) {
        free(f);
        return -1;
    }
    /* A directory that does not exist yet: open makes it. */
    snprintf(f->dir, sizeof(f->dir), "%s/blob", f->tmp);
    f->blob = blob_local_open(f->dir);
    if (!f->blob) {
        rmdir(f->tmp);
        free(f);
        return -1;
    }
    f->ops = f->blob->ops;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->blob)
        f->blob->ops->close(f->blob);
    unit_tmpdir_remove(f->tmp);
    free(f);
    return 0;
}

/* ---- helpers ---- */

static void path_of(const fixture_t *f, const char *area, const char *id, char *out, size_t size)
{
    if (id)
        snprintf(out, size, "%s/%s/%.2s/%s", f->dir, area, id, id);
    else
        snprintf(out, size, "%s/%s", f->dir, area);
}

static unsigned mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(lstat(path, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Entries of a directory other than . and ..; the first name goes to
 * first (when non-NULL). */
static int count_entries(const char *path, char *first, size_t size)
{
    DIR *d = opendir(path);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        if (n++ == 0 && first)
            snprintf(first, size, "%s", e->d_name);
    }
    closedir(d);
    return n;
}

static void set_mtime_ms(const char *path, int64_t ms)
{
    struct timespec ts[2] = {{.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000},
                             {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

static void put_block(fixture_t *f, const char *id, const char *data)
{
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->block_open(f->blob, id, 0, &w), BLOB_OK);
    assert_int_equal(f->ops->write(w, data, strlen(data)), BLOB_OK);
    assert_int_equal(f->ops->sync(w), BLOB_OK);
    f->ops->writer_close(w);
}

static void put_object(fixture_t *f, const char *id, const void *data, size_t len)
{
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->object_stage(f->blob, &w), BLOB_OK);
    assert_int_equal(f->ops->write(w, data, len), BLOB_OK);
    assert_int_equal(f->ops->object_publish(f->blob, w, id), BLOB_OK);
}

/* Reads a whole block or object (via `r`) into a NUL-terminated string. */
static void read_all(fixture_t *f, blob_reader_t *r, char *out, size_t size)
{
    int64_t n = f->ops->read_at(r, out, size - 1, 0);
    assert_true(n >= 0);
    out[n] = '\0';
    f->ops->reader_close(r);
}

static void assert_block(fixture_t *f, const char *id, const char *want)
{
    int64_t size = -1;
    assert_int_equal(f->ops->block_size(f->blob, id, &size), BLOB_OK);
    assert_int_equal(size, (int64_t)strlen(want));
    blob_reader_t *r = NULL;
    assert_int_equal(f->ops->block_read_open(f->blob, id, &r), BLOB_OK);
    char got[256];
    read_all(f, r, got, sizeof(got));
    assert_string_equal(got, want);
}

static void assert_object(fixture_t *f, const char *id, const char *want)
{
    blob_object_info_t info = {0};
    assert_int_equal(f->ops->object_stat(f->blob, id, &info), BLOB_OK);
    assert_int_equal(info.size, (int64_t)strlen(want));
    blob_reader_t *r = NULL;
    assert_int_equal(f->ops->object_read_open(f->blob, id, &r), BLOB_OK);
    char got[256];
    read_all(f, r, got, sizeof(got));
    assert_string_equal(got, want);
}

/* ---- open and layout ---- */

static void test_layout_and_modes(void **state)
{
    fixture_t *f = *state;
    char p[256];
    static const char *const areas[] = {"blocks", "staging", "objects"};
    assert_int_equal(mode_of(f->dir), 0700);
    for (size_t i = 0; i < 3; i++) {
        path_of(f, areas[i], NULL, p, sizeof(p));
        assert_int_equal(mode_of(p), 0700);
    }
    snprintf(p, sizeof(p), "%s/blocks/00", f->dir);
    assert_int_equal(mode_of(p), 0700);
    snprintf(p, sizeof(p), "%s/objects/ff", f->dir);
    assert_int_equal(mode_of(p), 0700);
    assert_int_equal(count_entries(f->dir, NULL, 0), 3);

    put_block(f, ID_A, "x");
    path_of(f, "blocks", ID_A, p, sizeof(p));
    assert_int_equal(mode_of(p), 0600);

    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->object_stage(f->blob, &w), BLOB_OK);
    char name[NAME_MAX + 1];
    path_of(f, "staging", NULL, p, sizeof(p));
    assert_int_equal(count_entries(p, name, sizeof(name)), 1);
    assert_int_equal(strlen(name), BLOB_ID_LEN);
    snprintf(p, sizeof(p), "%s/staging/%.*s", f->dir, BLOB_ID_LEN, name);
    assert_int_equal(mode_of(p), 0600);
    assert_int_equal(f->ops->write(w, "x", 1), BLOB_OK);
    assert_int_equal(f->ops->object_publish(f->blob, w, ID_B), BLOB_OK);
    path_of(f, "objects", ID_B, p, sizeof(p));
    assert_int_equal(mode_of(p), 0600);

    /* Reopening an existing tree keeps what is in it. */
    f->ops->close(f->blob);
    f->blob = blob_local_open(f->dir);
    assert_non_null(f->blob);
    assert_block(f, ID_A, "x");
    assert_object(f, ID_B, "x");
}

static void test_open_failures(void **state)
{
    fixture_t *f = *state;
    char p[256];
    snprintf(p, sizeof(p), "%s/missing/blob", f->tmp);
    assert_null(blob_local_open(p));
    snprintf(p, sizeof(p), "%s/file", f->tmp);
    int fd = open(p, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    assert_null(blob_local_open(p));
    assert_null(blob_local_open(""));
}

/* ---- blocks ---- */

static void test_block_append_and_reopen(void **state)
{
    fixture_t *f = *state;
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 0, &w), BLOB_OK);
    assert_int_equal(f->ops->write(w, "hello", 5), BLOB_OK);
    assert_int_equal(f->ops->write(w, " world", 6), BLOB_OK);
    assert_int_equal(f->ops->write(w, "", 0), BLOB_OK);
    assert_int_equal(f->ops->sync(w), BLOB_OK);
    assert_int_equal(f->ops->sync(w), BLOB_OK);
    f->ops->writer_close(w);
    assert_block(f, ID_A, "hello world");

    /* Append at the end. */
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 11, &w), BLOB_OK);
    assert_int_equal(f->ops->write(w, "!", 1), BLOB_OK);
    assert_int_equal(f->ops->sync(w), BLOB_OK);
    f->ops->writer_close(w);
    assert_block(f, ID_A, "hello world!");

    /* Reopening at a shorter offset drops the tail at once, before any
     * write, and appends from there. */
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 5, &w), BLOB_OK);
    assert_block(f, ID_A, "hello");
    assert_int_equal(f->ops->write(w, "XY", 2), BLOB_OK);
    assert_int_equal(f->ops->sync(w), BLOB_OK);
    f->ops->writer_close(w);
    assert_block(f, ID_A, "helloXY");

    /* An offset past the end is refused and changes nothing. */
    w = (blob_writer_t *)1;
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 8, &w), BLOB_ERROR);
    assert_null(w);
    assert_block(f, ID_A, "helloXY");

    /* Offset 0 empties an existing block. */
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 0, &w), BLOB_OK);
    assert_block(f, ID_A, "");
    assert_int_equal(f->ops->write(w, "new", 3), BLOB_OK);
    f->ops->writer_close(w); /* closing without sync keeps the bytes */
    assert_block(f, ID_A, "new");

    /* Blocks are independent of each other. */
    put_block(f, ID_B, "bee");
    assert_block(f, ID_A, "new");
    assert_block(f, ID_B, "bee");
}

static void test_block_large_write(void **state)
{
    fixture_t *f = *state;
    size_t len = 3 * 1024 * 1024 + 17;
    unsigned char *data = malloc(len), *back = malloc(len);
    assert_non_null(data);
    assert_non_null(back);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)(i * 7 + (i >> 12));
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->block_open(f->blob, ID_C, 0, &w), BLOB_OK);
    assert_int_equal(f->ops->write(w, data, len), BLOB_OK);
    assert_int_equal(f->ops->sync(w), BLOB_OK);
    f->ops->writer_close(w);
    int64_t size = 0;
    assert_int_equal(f->ops->block_size(f->blob, ID_C, &size), BLOB_OK);
    assert_int_equal(size, (int64_t)len);
    blob_reader_t *r = NULL;
    assert_int_equal(f->ops->block_read_open(f->blob, ID_C, &r), BLOB_OK);
    assert_int_equal(f->ops->read_at(r, back, len, 0), (int64_t)len);
    assert_memory_equal(back, data, len);
    f->ops->reader_close(r);
    free(data);
    free(back);
}

static void test_not_found(void **state)
{
    fixture_t *f = *state;
    blob_writer_t *w = (blob_writer_t *)1;
    blob_reader_t *r = (blob_reader_t *)1;
    int64_t size = -1;
    blob_object_info_t info;
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 3, &w), BLOB_NOT_FOUND);
    assert_null(w);
    assert_int_equal(f->ops->block_size(f->blob, ID_A, &size), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->block_read_open(f->blob, ID_A, &r), BLOB_NOT_FOUND);
    assert_null(r);
    assert_int_equal(f->ops->block_remove(f->blob, ID_A), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->object_stat(f->blob, ID_A, &info), BLOB_NOT_FOUND);
    r = (blob_reader_t *)1;
    assert_int_equal(f->ops->object_read_open(f->blob, ID_A, &r), BLOB_NOT_FOUND);
    assert_null(r);
    assert_int_equal(f->ops->object_remove(f->blob, ID_A), BLOB_NOT_FOUND);

    /* A block is not an object, nor the other way round. */
    put_block(f, ID_B, "b");
    put_object(f, ID_C, "c", 1);
    assert_int_equal(f->ops->object_stat(f->blob, ID_B, &info), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->block_size(f->blob, ID_C, &size), BLOB_NOT_FOUND);
}

/* 16 hex digits, a NUL, 16 more: 33 bytes in all, but not a 32-char id. */
static const char id_with_nul[] = "0123456789abcdef\0"
                                  "0123456789abcdef";

static void test_invalid_ids(void **state)
{
    fixture_t *f = *state;
    static const char *const bad[] = {
        NULL,
        "",
        "0123456789abcdef0123456789abcde",   /* 31 */
        "0123456789abcdef0123456789abcdef0", /* 33 */
        "0123456789ABCDEF0123456789ABCDEF",  /* upper case */
        "0123456789abcdef0123456789abcdeg",  /* not hex */
        "../../../../../../../../etc/passw",
        "ab/../../../../../../../../../tmp",
        id_with_nul,
        "0123456789abcdef0123456789abcde/",
        "0123456789abcdef0123456789abcde ",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        blob_writer_t *w = (blob_writer_t *)1;
        blob_reader_t *r = (blob_reader_t *)1;
        int64_t size;
        blob_object_info_t info;
        assert_int_equal(f->ops->block_open(f->blob, bad[i], 0, &w), BLOB_ERROR);
        assert_null(w);
        assert_int_equal(f->ops->block_size(f->blob, bad[i], &size), BLOB_ERROR);
        assert_int_equal(f->ops->block_read_open(f->blob, bad[i], &r), BLOB_ERROR);
        assert_null(r);
        assert_int_equal(f->ops->block_remove(f->blob, bad[i]), BLOB_ERROR);
        assert_int_equal(f->ops->object_stat(f->blob, bad[i], &info), BLOB_ERROR);
        assert_int_equal(f->ops->object_read_open(f->blob, bad[i], &r), BLOB_ERROR);
        assert_int_equal(f->ops->object_remove(f->blob, bad[i]), BLOB_ERROR);

        /* Publishing under a bad id fails and removes the staged bytes. */
        assert_int_equal(f->ops->object_stage(f->blob, &w), BLOB_OK);
        assert_int_equal(f->ops->write(w, "x", 1), BLOB_OK);
        assert_int_equal(f->ops->object_publish(f->blob, w, bad[i]), BLOB_ERROR);
    }
    char p[256];
    path_of(f, "staging", NULL, p, sizeof(p));
    assert_int_equal(count_entries(p, NULL, 0), 0);
    assert_int_equal(count_entries(f->dir, NULL, 0), 3);
    snprintf(p, sizeof(p), "%s/objects/01", f->dir);
    assert_int_equal(count_entries(p, NULL, 0), 0);
    snprintf(p, sizeof(p), "%s/blocks/01", f->dir);
    assert_int_equal(count_entries(p, NULL, 0), 0);
}

/* ---- objects ---- */

static void test_stage_and_publish(void **state)
{
    fixture_t *f = *state;
    blob_object_info_t info;
    blob_writer_t *w = NULL;
    char staging[256];
    path_of(f, "staging", NULL, staging, sizeof(staging));

    assert_int_equal(f->ops->object_stage(f->blob, &w), BLOB_OK);
    assert_int_equal(f->ops->write(w, "video ", 6), BLOB_OK);
    assert_int_equal(f->ops->write(w, "bytes", 5), BLOB_OK);
    assert_int_equal(f->ops->sync(w), BLOB_OK);
    /* Written and synced, still invisible. */
    assert_int_equal(f->ops->object_stat(f->blob, ID_A, &info), BLOB_NOT_FOUND);
    assert_int_equal(count_entries(staging, NULL, 0), 1);

    int64_t before = timeutil_now_ms();
    assert_int_equal(f->ops->object_publish(f->blob, w, ID_A), BLOB_OK);
    int64_t after = timeutil_now_ms();
    assert_int_equal(f->ops->object_stat(f->blob, ID_A, &info), BLOB_OK);
    assert_int_equal(info.size, 11);
    /* mtime is the publish time (file-system clocks are coarse). */
    assert_true(info.mtime_ms >= before - 1000 && info.mtime_ms <= after + 1000);
    assert_int_equal(count_entries(staging, NULL, 0), 0);
    assert_object(f, ID_A, "video bytes");

    /* An empty object is an object. */
    put_object(f, ID_E, "", 0);
    assert_object(f, ID_E, "");
}

static void test_publish_is_atomic_rename(void **state)
{
    fixture_t *f = *state;
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->object_stage(f->blob, &w), BLOB_OK);
    assert_int_equal(f->ops->write(w, "abc", 3), BLOB_OK);
    /* A reader opened on the published object sees the same inode that
     * was staged: publish renames, it does not copy. */
    char staging[256], name[64], p[320];
    path_of(f, "staging", NULL, staging, sizeof(staging));
    assert_int_equal(count_entries(staging, name, sizeof(name)), 1);
    snprintf(p, sizeof(p), "%s/%s", staging, name);
    struct stat staged, published;
    assert_int_equal(stat(p, &staged), 0);
    assert_int_equal(f->ops->object_publish(f->blob, w, ID_D), BLOB_OK);
    path_of(f, "objects", ID_D, p, sizeof(p));
    assert_int_equal(stat(p, &published), 0);
    assert_int_equal(staged.st_ino, published.st_ino);
    assert_object(f, ID_D, "abc");
}

static void test_publish_replaces(void **state)
{
    fixture_t *f = *state;
    put_object(f, ID_A, "old", 3);
    blob_reader_t *old_reader = NULL;
    assert_int_equal(f->ops->object_read_open(f->blob, ID_A, &old_reader), BLOB_OK);

    put_object(f, ID_A, "newer bytes", 11);
    assert_object(f, ID_A, "newer bytes");

    /* A reader opened before keeps the bytes it opened. */
    char got[16];
    read_all(f, old_reader, got, sizeof(got));
    assert_string_equal(got, "old");
}

static void test_stage_discard(void **state)
{
    fixture_t *f = *state;
    char staging[256];
    path_of(f, "staging", NULL, staging, sizeof(staging));
    blob_writer_t *a = NULL, *b = NULL;
    assert_int_equal(f->ops->object_stage(f->blob, &a), BLOB_OK);
    assert_int_equal(f->ops->object_stage(f->blob, &b), BLOB_OK);
    assert_int_equal(count_entries(staging, NULL, 0), 2);
    assert_int_equal(f->ops->write(a, "a", 1), BLOB_OK);
    f->ops->writer_close(a);
    assert_int_equal(count_entries(staging, NULL, 0), 1);
    f->ops->writer_close(b);
    assert_int_equal(count_entries(staging, NULL, 0), 0);
    f->ops->writer_close(NULL);
}

static void test_publish_block_writer_refused(void **state)
{
    fixture_t *f = *state;
    blob_writer_t *w = NULL;
    blob_object_info_t info;
    assert_int_equal(f->ops->block_open(f->blob, ID_B, 0, &w), BLOB_OK);
    assert_int_equal(f->ops->write(w, "blk", 3), BLOB_OK);
    assert_int_equal(f->ops->object_publish(f->blob, w, ID_C), BLOB_ERROR);
    assert_int_equal(f->ops->object_stat(f->blob, ID_C, &info), BLOB_NOT_FOUND);
    assert_block(f, ID_B, "blk");
}

/* ---- readers ---- */

static void test_read_at_ranges(void **state)
{
    fixture_t *f = *state;
    char data[1000];
    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = (char)('a' + i % 26);
    put_object(f, ID_A, data, sizeof(data));

    blob_reader_t *r = NULL;
    assert_int_equal(f->ops->object_read_open(f->blob, ID_A, &r), BLOB_OK);
    char buf[2000];
    assert_int_equal(f->ops->read_at(r, buf, sizeof(data), 0), 1000);
    assert_memory_equal(buf, data, 1000);
    assert_int_equal(f->ops->read_at(r, buf, 10, 500), 10);
    assert_memory_equal(buf, data + 500, 10);
    assert_int_equal(f->ops->read_at(r, buf, 1, 999), 1);
    assert_int_equal(buf[0], data[999]);
    /* Straddling the end: short; at or past the end: 0. */
    assert_int_equal(f->ops->read_at(r, buf, 100, 950), 50);
    assert_memory_equal(buf, data + 950, 50);
    assert_int_equal(f->ops->read_at(r, buf, sizeof(buf), 0), 1000);
    assert_int_equal(f->ops->read_at(r, buf, 10, 1000), 0);
    assert_int_equal(f->ops->read_at(r, buf, 10, 5000), 0);
    assert_int_equal(f->ops->read_at(r, buf, 0, 10), 0);
    assert_int_equal(f->ops->read_at(r, buf, 10, -1), -1);

    int fd = f->ops->reader_fd(r);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, 1000);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    f->ops->reader_close(r);
    f->ops->reader_close(NULL);

    /* Block readers read the same way. */
    put_block(f, ID_B, "0123456789");
    assert_int_equal(f->ops->block_read_open(f->blob, ID_B, &r), BLOB_OK);
    assert_int_equal(f->ops->read_at(r, buf, 4, 3), 4);
    assert_memory_equal(buf, "3456", 4);
    assert_true(f->ops->reader_fd(r) >= 0);
    f->ops->reader_close(r);
}

/* ---- remove ---- */

static void test_remove(void **state)
{
    fixture_t *f = *state;
    int64_t size;
    blob_object_info_t info;
    put_block(f, ID_A, "block");
    put_object(f, ID_A, "object", 6);
    assert_int_equal(f->ops->block_remove(f->blob, ID_A), BLOB_OK);
    assert_int_equal(f->ops->block_size(f->blob, ID_A, &size), BLOB_NOT_FOUND);
    assert_object(f, ID_A, "object"); /* same id, other namespace: untouched */
    assert_int_equal(f->ops->object_remove(f->blob, ID_A), BLOB_OK);
    assert_int_equal(f->ops->object_stat(f->blob, ID_A, &info), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->object_remove(f->blob, ID_A), BLOB_NOT_FOUND);
}

/* ---- sweep ---- */

#define NOW_MS 2000000000000LL /* a fake clock, far from the real one */
#define MAX_AGE_MS (7LL * 24 * 3600 * 1000)
#define OLD_MS (NOW_MS - MAX_AGE_MS - 1000)
#define YOUNG_MS (NOW_MS - MAX_AGE_MS + 1000)

/* Objects a registry row names: ID_C only.  Counts its calls. */
static bool fake_in_use(void *arg, const char *object_id)
{
    (*(int *)arg)++;
    return strcmp(object_id, ID_C) == 0;
}

static void stage_with_mtime(fixture_t *f, blob_writer_t **w, int64_t mtime_ms)
{
    char staging[256], name[64], before[64], p[320];
    path_of(f, "staging", NULL, staging, sizeof(staging));
    /* Find the new file: the one name that was not there before. */
    int n = count_entries(staging, before, sizeof(before));
    assert_int_equal(f->ops->object_stage(f->blob, w), BLOB_OK);
    assert_int_equal(f->ops->write(*w, "s", 1), BLOB_OK);
    DIR *d = opendir(staging);
    assert_non_null(d);
    struct dirent *e;
    name[0] = '\0';
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && (n == 0 || strcmp(e->d_name, before) != 0))
            snprintf(name, sizeof(name), "%.63s", e->d_name);
    closedir(d);
    assert_int_equal(strlen(name), BLOB_ID_LEN);
    snprintf(p, sizeof(p), "%s/%s", staging, name);
    set_mtime_ms(p, mtime_ms);
}

static void test_sweep(void **state)
{
    fixture_t *f = *state;
    char p[256];
    int64_t size;
    blob_object_info_t info;

    /* Blocks: ID_A old, ID_B young, ID_C exactly at the cut-off (kept:
     * only entries older than max_age go). */
    put_block(f, ID_A, "a");
    put_block(f, ID_B, "b");
    put_block(f, ID_C, "c");
    path_of(f, "blocks", ID_A, p, sizeof(p));
    set_mtime_ms(p, OLD_MS);
    path_of(f, "blocks", ID_B, p, sizeof(p));
    set_mtime_ms(p, YOUNG_MS);
    path_of(f, "blocks", ID_C, p, sizeof(p));
    set_mtime_ms(p, NOW_MS - MAX_AGE_MS);

    /* Staging: one old (a crash's leftover, here still open), one young. */
    blob_writer_t *old_stage = NULL, *young_stage = NULL;
    stage_with_mtime(f, &old_stage, OLD_MS);
    stage_with_mtime(f, &young_stage, YOUNG_MS);

    /* Objects: ID_A old and unnamed, ID_C old and named, ID_B young and
     * unnamed, ID_D old and unnamed. */
    put_object(f, ID_A, "a", 1);
    put_object(f, ID_B, "b", 1);
    put_object(f, ID_C, "c", 1);
    put_object(f, ID_D, "d", 1);
    path_of(f, "objects", ID_A, p, sizeof(p));
    set_mtime_ms(p, OLD_MS);
    path_of(f, "objects", ID_B, p, sizeof(p));
    set_mtime_ms(p, YOUNG_MS);
    path_of(f, "objects", ID_C, p, sizeof(p));
    set_mtime_ms(p, OLD_MS);
    path_of(f, "objects", ID_D, p, sizeof(p));
    set_mtime_ms(p, OLD_MS);

    /* A file this module did not make is left alone, however old. */
    snprintf(p, sizeof(p), "%s/blocks/ab/README", f->dir);
    int fd = open(p, O_CREAT | O_WRONLY, 0600);
    assert_true(fd >= 0);
    close(fd);
    set_mtime_ms(p, OLD_MS);

    /* Without in_use every object stays. */
    assert_int_equal(f->ops->sweep(f->blob, NOW_MS, MAX_AGE_MS, NULL, NULL, NULL), 2);
    assert_int_equal(f->ops->block_size(f->blob, ID_A, &size), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->block_size(f->blob, ID_B, &size), BLOB_OK);
    assert_int_equal(f->ops->block_size(f->blob, ID_C, &size), BLOB_OK);
    path_of(f, "staging", NULL, p, sizeof(p));
    assert_int_equal(count_entries(p, NULL, 0), 1);
    assert_int_equal(f->ops->object_stat(f->blob, ID_A, &info), BLOB_OK);
    assert_int_equal(f->ops->object_stat(f->blob, ID_D, &info), BLOB_OK);

    /* With a registry: old unnamed objects go; the registry is asked only
     * about old ones (ID_A, ID_C, ID_D). */
    int calls = 0;
    assert_int_equal(f->ops->sweep(f->blob, NOW_MS, MAX_AGE_MS, fake_in_use, NULL, &calls), 2);
    assert_int_equal(calls, 3);
    assert_int_equal(f->ops->object_stat(f->blob, ID_A, &info), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->object_stat(f->blob, ID_B, &info), BLOB_OK);
    assert_int_equal(f->ops->object_stat(f->blob, ID_C, &info), BLOB_OK);
    assert_int_equal(f->ops->object_stat(f->blob, ID_D, &info), BLOB_NOT_FOUND);
    snprintf(p, sizeof(p), "%s/blocks/ab/README", f->dir);
    assert_true(exists(p));

    /* Nothing more to do; a later clock takes the rest but named objects. */
    calls = 0;
    assert_int_equal(f->ops->sweep(f->blob, NOW_MS, MAX_AGE_MS, fake_in_use, NULL, &calls), 0);
    assert_int_equal(f->ops->sweep(f->blob, NOW_MS + 2000, MAX_AGE_MS, fake_in_use, NULL, &calls), 4);
    assert_int_equal(f->ops->block_size(f->blob, ID_B, &size), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->block_size(f->blob, ID_C, &size), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->object_stat(f->blob, ID_B, &info), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->object_stat(f->blob, ID_C, &info), BLOB_OK);
    path_of(f, "staging", NULL, p, sizeof(p));
    assert_int_equal(count_entries(p, NULL, 0), 0);

    /* Writers whose staged file a sweep took close quietly; one that is
     * published fails and leaves nothing. */
    f->ops->writer_close(old_stage);
    assert_int_equal(f->ops->object_publish(f->blob, young_stage, ID_E), BLOB_ERROR);
    assert_int_equal(f->ops->object_stat(f->blob, ID_E, &info), BLOB_NOT_FOUND);

    /* Nonsense ages are refused. */
    assert_int_equal(f->ops->sweep(f->blob, NOW_MS, -1, NULL, NULL, NULL), -1);
}

/* A resumed block is not abandoned: reopening it at an offset counts as a
 * write for sweep. */
static bool never_in_use(void *arg, const char *object_id)
{
    (void)arg;
    (void)object_id;
    return false;
}

/* An object staged from blocks: no copy, the blocks' acknowledged lengths
 * only, reads across part boundaries, blocks frozen while it exists. */
static void test_object_from_blocks(void **state)
{
    fixture_t *f = *state;
    put_block(f, ID_A, "hello ");
    put_block(f, ID_B, "wide world, and garbage"); /* only 10 bytes acknowledged */
    put_block(f, ID_C, "!");
    const char *ids[] = {ID_A, ID_B, ID_C};
    const int64_t lengths[] = {6, 10, 1};
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->object_stage_blocks(f->blob, ids, lengths, 3, &w), BLOB_OK);
    /* Frozen: no chunk can reach them now. */
    blob_writer_t *bw = NULL;
    assert_int_equal(f->ops->block_open(f->blob, ID_B, 10, &bw), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 0, &bw), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->write(w, "x", 1), BLOB_ERROR);
    blob_object_info_t info;
    assert_int_equal(f->ops->object_stat(f->blob, ID_D, &info), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->object_publish(f->blob, w, ID_D), BLOB_OK);
    /* The block names may go; the object keeps the bytes. */
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(f->ops->block_remove(f->blob, ids[i]), BLOB_OK);
    assert_int_equal(f->ops->object_stat(f->blob, ID_D, &info), BLOB_OK);
    assert_int_equal(info.size, 17);
    blob_reader_t *r = NULL;
    assert_int_equal(f->ops->object_read_open(f->blob, ID_D, &r), BLOB_OK);
    assert_int_equal(f->ops->reader_fd(r), -1); /* several parts: no single descriptor */
    static const struct {
        int64_t offset;
        size_t len;
        const char *want;
    } reads[] = {{0, 17, "hello wide world!"}, {4, 5, "o wid"}, {5, 12, " wide world!"}, {16, 5, "!"},
                 {17, 4, ""},     {6, 10, "wide world"}, {0, 100, "hello wide world!"}};
    for (size_t i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
        char buf[128] = {0};
        int64_t n = f->ops->read_at(r, buf, reads[i].len, reads[i].offset);
        assert_int_equal(n, (int64_t)strlen(reads[i].want));
        assert_memory_equal(buf, reads[i].want, (size_t)n);
    }
    f->ops->reader_close(r);
    assert_int_equal(f->ops->object_remove(f->blob, ID_D), BLOB_OK);
    assert_int_equal(f->ops->object_stat(f->blob, ID_D, &info), BLOB_NOT_FOUND);
}

static void test_object_from_blocks_refusals(void **state)
{
    fixture_t *f = *state;
    put_block(f, ID_A, "abc");
    const char *ids[] = {ID_A};
    blob_writer_t *w = NULL, *bw = NULL;
    /* Missing, or shorter than acknowledged. */
    const char *missing[] = {ID_E};
    const int64_t three[] = {3}, four[] = {4};
    assert_int_equal(f->ops->object_stage_blocks(f->blob, missing, three, 1, &w), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->object_stage_blocks(f->blob, ids, four, 1, &w), BLOB_NOT_FOUND);
    /* Being written by another request. */
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 3, &bw), BLOB_OK);
    assert_int_equal(f->ops->object_stage_blocks(f->blob, ids, three, 1, &w), BLOB_BUSY);
    /* ... and the other way round: one writer per block. */
    blob_writer_t *second = NULL;
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 3, &second), BLOB_BUSY);
    f->ops->writer_close(bw);
    /* Discarding the staged object unfreezes the block. */
    assert_int_equal(f->ops->object_stage_blocks(f->blob, ids, three, 1, &w), BLOB_OK);
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 3, &bw), BLOB_NOT_FOUND);
    char p[512];
    path_of(f, "staging", NULL, p, sizeof(p));
    assert_int_equal(count_entries(p, NULL, 0), 1);
    f->ops->writer_close(w);
    assert_int_equal(count_entries(p, NULL, 0), 0);
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 3, &bw), BLOB_OK);
    f->ops->writer_close(bw);
    /* A single part is served from its descriptor; a crash-left staged
     * directory goes at start-up. */
    assert_int_equal(f->ops->object_stage_blocks(f->blob, ids, three, 1, &w), BLOB_OK);
    assert_int_equal(f->ops->object_publish(f->blob, w, ID_B), BLOB_OK);
    blob_reader_t *r = NULL;
    assert_int_equal(f->ops->object_read_open(f->blob, ID_B, &r), BLOB_OK);
    assert_true(f->ops->reader_fd(r) >= 0);
    f->ops->reader_close(r);
    assert_int_equal(f->ops->object_stage_blocks(f->blob, ids, three, 1, &w), BLOB_OK);
    assert_int_equal(f->ops->staging_clear(f->blob), 1);
    f->ops->writer_close(w);
    /* The sweep takes an old object of parts that no row names. */
    assert_int_equal(f->ops->sweep(f->blob, INT64_MAX / 2, 0, never_in_use, NULL, NULL), 2); /* block + object */
    blob_object_info_t info;
    assert_int_equal(f->ops->object_stat(f->blob, ID_B, &info), BLOB_NOT_FOUND);
}

/* reserve is a hint: the block still holds exactly what was written. */
static void test_reserve_keeps_size(void **state)
{
    fixture_t *f = *state;
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 0, &w), BLOB_OK);
    assert_int_equal(f->ops->reserve(w, 4 << 20), BLOB_OK);
    assert_int_equal(f->ops->write(w, "abc", 3), BLOB_OK);
    assert_int_equal(f->ops->sync(w), BLOB_OK);
    f->ops->writer_close(w);
    int64_t size = -1;
    assert_int_equal(f->ops->block_size(f->blob, ID_A, &size), BLOB_OK);
    assert_int_equal(size, 3);
    assert_block(f, ID_A, "abc");
    /* (A reservation the disk cannot hold is BLOB_NO_SPACE: shown on a
     * small tmpfs by tests/scripts/test_disk_full.sh, where mkblk is then
     * refused before its body is read.) */
}

static int64_t disk_of(const fixture_t *f, const char *id)
{
    char p[256];
    path_of(f, "blocks", id, p, sizeof(p));
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return (int64_t)st.st_blocks * 512;
}

/* Room reserved past what a block holds is given back when its writer
 * closes: a client that declared much and sent little holds little. */
static void test_reserve_given_back_at_close(void **state)
{
    fixture_t *f = *state;
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 0, &w), BLOB_OK);
    assert_int_equal(f->ops->reserve(w, 64 << 20), BLOB_OK);
    assert_int_equal(f->ops->write(w, "abc", 3), BLOB_OK);
    if (disk_of(f, ID_A) < (32 << 20))
        skip(); /* a filesystem without fallocate: nothing was reserved (said by skip) */
    f->ops->writer_close(w);
    assert_true(disk_of(f, ID_A) < (1 << 20));
    assert_block(f, ID_A, "abc");
}

/* Room a crash left reserved (no writer closed) is given back by the sweep,
 * which keeps the block itself. */
static void test_sweep_trims_crash_reservations(void **state)
{
    fixture_t *f = *state;
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 0, &w), BLOB_OK);
    assert_int_equal(f->ops->write(w, "abc", 3), BLOB_OK);
    f->ops->writer_close(w);
    char p[256];
    path_of(f, "blocks", ID_A, p, sizeof(p));
    int fd = open(p, O_WRONLY);
    assert_true(fd >= 0);
    int reserved = fallocate(fd, FALLOC_FL_KEEP_SIZE, 3, 64 << 20);
    close(fd);
    if (reserved != 0)
        skip();
    assert_true(disk_of(f, ID_A) >= (64 << 20));
    assert_int_equal(f->ops->sweep(f->blob, timeutil_now_ms(), 60000, NULL, NULL, NULL), 0);
    assert_true(disk_of(f, ID_A) < (1 << 20));
    assert_block(f, ID_A, "abc");
}

/* Start-up removes every staged object (what a crash mid-assembly left),
 * and nothing else. */
static void test_staging_clear(void **state)
{
    fixture_t *f = *state;
    char p[512];
    put_block(f, ID_A, "kept");
    put_object(f, ID_B, "kept", 4);
    blob_writer_t *w1 = NULL, *w2 = NULL;
    assert_int_equal(f->ops->object_stage(f->blob, &w1), BLOB_OK);
    assert_int_equal(f->ops->object_stage(f->blob, &w2), BLOB_OK);
    assert_int_equal(f->ops->write(w1, "abc", 3), BLOB_OK);
    path_of(f, "staging", NULL, p, sizeof(p));
    assert_int_equal(count_entries(p, NULL, 0), 2);
    assert_int_equal(f->ops->staging_clear(f->blob), 2);
    assert_int_equal(count_entries(p, NULL, 0), 0);
    int64_t size = -1;
    assert_int_equal(f->ops->block_size(f->blob, ID_A, &size), BLOB_OK);
    assert_int_equal(size, 4);
    blob_object_info_t info;
    assert_int_equal(f->ops->object_stat(f->blob, ID_B, &info), BLOB_OK);
    f->ops->writer_close(w1);
    f->ops->writer_close(w2);
    assert_int_equal(f->ops->staging_clear(f->blob), 0);
}

static void test_sweep_spares_resumed_block(void **state)
{
    fixture_t *f = *state;
    char p[256];
    put_block(f, ID_A, "abc");
    path_of(f, "blocks", ID_A, p, sizeof(p));
    set_mtime_ms(p, timeutil_now_ms() - 10000);
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->block_open(f->blob, ID_A, 3, &w), BLOB_OK);
    assert_int_equal(f->ops->sweep(f->blob, timeutil_now_ms(), 5000, NULL, NULL, NULL), 0);
    f->ops->writer_close(w);
    assert_block(f, ID_A, "abc");
}


/* ---- files for programs (processing) ---- */

static void read_file(const char *path, char *out, size_t size)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(out, 1, size - 1, fp);
    out[n] = '\0';
    fclose(fp);
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
    assert_int_equal(fclose(fp), 0);
}

/* One file is linked (no copy), an object of parts is copied into one
 * file; either way the program reads the object's exact bytes. */
static void test_object_materialize(void **state)
{
    fixture_t *f = *state;
    char path[256], text[64];
    put_object(f, ID_A, "single file", 11);
    snprintf(path, sizeof(path), "%s/single", f->tmp);
    assert_int_equal(f->ops->object_materialize(f->blob, ID_A, path), BLOB_OK);
    read_file(path, text, sizeof(text));
    assert_string_equal(text, "single file");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_nlink, 2); /* shares the object's bytes */
    /* The object stays published whatever the caller does with its copy. */
    assert_int_equal(unlink(path), 0);
    blob_object_info_t info;
    assert_int_equal(f->ops->object_stat(f->blob, ID_A, &info), BLOB_OK);

    put_block(f, ID_B, "parts ");
    put_block(f, ID_C, "joined");
    const char *ids[] = {ID_B, ID_C};
    const int64_t lengths[] = {6, 6};
    blob_writer_t *w = NULL;
    assert_int_equal(f->ops->object_stage_blocks(f->blob, ids, lengths, 2, &w), BLOB_OK);
    assert_int_equal(f->ops->object_publish(f->blob, w, ID_D), BLOB_OK);
    snprintf(path, sizeof(path), "%s/parts", f->tmp);
    assert_int_equal(f->ops->object_materialize(f->blob, ID_D, path), BLOB_OK);
    read_file(path, text, sizeof(text));
    assert_string_equal(text, "parts joined");
    /* Never over an existing file, and a missing object is said so. */
    assert_int_not_equal(f->ops->object_materialize(f->blob, ID_D, path), BLOB_OK);
    snprintf(path, sizeof(path), "%s/missing", f->tmp);
    assert_int_equal(f->ops->object_materialize(f->blob, ID_E, path), BLOB_NOT_FOUND);
    assert_false(exists(path));
}

/* An imported file becomes the object (moved, not copied), readable and
 * fresh for the sweep; a failed import leaves nothing visible. */
static void test_object_import(void **state)
{
    fixture_t *f = *state;
    char path[256], text[64];
    snprintf(path, sizeof(path), "%s/made-by-ffmpeg", f->tmp);
    write_file(path, "output bytes");
    set_mtime_ms(path, 1000); /* written long ago: the sweep must still see it as new */
    assert_int_equal(f->ops->object_import(f->blob, path, ID_A), BLOB_OK);
    assert_false(exists(path));
    blob_object_info_t info;
    assert_int_equal(f->ops->object_stat(f->blob, ID_A, &info), BLOB_OK);
    assert_int_equal(info.size, 12);
    assert_true(info.mtime_ms > 1000000);
    assert_int_equal(f->ops->sweep(f->blob, timeutil_now_ms(), 60000, never_in_use, NULL, NULL), 0);
    char object_path[512];
    path_of(f, "objects", ID_A, object_path, sizeof(object_path));
    read_file(object_path, text, sizeof(text));
    assert_string_equal(text, "output bytes");
    assert_int_equal(f->ops->object_import(f->blob, path, ID_B), BLOB_NOT_FOUND); /* no such file */
    assert_int_equal(f->ops->object_stat(f->blob, ID_B, &info), BLOB_NOT_FOUND);
    assert_int_equal(f->ops->object_import(f->blob, f->tmp, ID_B), BLOB_ERROR); /* a directory */
    assert_int_equal(f->ops->object_stat(f->blob, ID_B, &info), BLOB_NOT_FOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_layout_and_modes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_append_and_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_block_large_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_and_publish, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_is_atomic_rename, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_replaces, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stage_discard, setup, teardown),
        cmocka_unit_test_setup_teardown(test_publish_block_writer_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_at_ranges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_spares_resumed_block, setup, teardown),
        cmocka_unit_test_setup_teardown(test_staging_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_keeps_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reserve_given_back_at_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_trims_crash_reservations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_from_blocks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_from_blocks_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_materialize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_object_import, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
