/*
 * test_backup: `vodup backup` and `vodup restore` as an operator runs them
 * (docs/upgrading.md): a backup taken while uploads keep arriving and
 * videos are being deleted, restored into a fresh directory, and a second
 * server on that directory serving every video the backup's database
 * lists byte for byte; uploads made during the backup present in full or
 * absent; the refusals (a non-empty destination, a non-empty restore
 * target, a directory that is not a finished backup) and a restore that
 * finds an object missing, which must fail and leave no database behind.
 *
 * Media for the processed video (a cover and an MP4 rendition with a
 * watermark, so the backup holds served output files and a resource file)
 * is made with ffmpeg at test time.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "harness.h"
#include "harness_cli.h"
#include "harness_upload.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define CLI_TIMEOUT_MS 120000
#define READY_TIMEOUT_MS 60000
#define MAX_VIDEOS 256
#define BIG_VIDEOS 4
#define BIG_SIZE (24 * HARNESS_MIB) /* copying these takes long enough for deletions to land */
#define DOOMED_VIDEOS 4

static harness_server_t *srv;

/* A video the test uploaded, and what it knows of its bytes. */
typedef struct tvideo {
    char id[64];
    char key[512];
    uint32_t seed;
    size_t len;
    const char *file;  /* bytes from this file instead of a pattern */
    bool uploaded;     /* the upload answered 200 */
    bool during;       /* uploaded by the loop that runs beside the backup */
    bool doomed;       /* deleted while the backup runs */
} tvideo_t;

static tvideo_t videos[MAX_VIDEOS];
static int video_count;
static pthread_mutex_t videos_mu = PTHREAD_MUTEX_INITIALIZER;
static char media_dir[400];

/* ---- helpers ---- */

static char *media(const char *name)
{
    return harness_strf("%s/%s", media_dir, name);
}

static void make(const char *name, const char *args)
{
    char *path = media(name);
    char *cmd = harness_strf("%s -nostdin -v error -y %s '%s'", FFMPEG, args, path);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    free(path);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *data = malloc((size_t)n + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    *len = (size_t)n;
    return data;
}

/* The bytes a video was uploaded with (malloc'd). */
static uint8_t *video_bytes(const tvideo_t *v, size_t *len)
{
    if (v->file)
        return slurp(v->file, len);
    *len = v->len;
    return harness_pattern(v->len, v->seed);
}

static harness_cli_result_t run_cli(const char *const *args)
{
    harness_cli_result_t r;
    harness_cli_opts_t o = {0};
    harness_cli_run(srv, &o, args, CLI_TIMEOUT_MS, &r);
    return r;
}

static char *root_path(const char *name)
{
    return harness_strf("%s/%s", srv->root, name);
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Registers and uploads one video (thread-safe, no assertions): a form
 * upload, or the block protocol (an object of parts) when blocks is true.
 * The registration is recorded before the bytes go, so a backup that
 * catches it in between is checked too. */
static tvideo_t *put_video(harness_server_t *s, const char *name, const char *extra, tvideo_t proto, bool blocks)
{
    char *form = harness_strf("originFileName=%s%s", name, extra ? extra : "");
    harness_response_t r;
    bool ok = harness_upload_token(s, NULL, form, &r) && r.status == 200;
    free(form);
    json_t *d = ok ? harness_data(&r) : NULL;
    char *token = d ? strdup(harness_json_str(d, "uploadToken")) : NULL;
    pthread_mutex_lock(&videos_mu);
    tvideo_t *v = d && video_count < MAX_VIDEOS ? &videos[video_count++] : NULL;
    if (v) {
        *v = proto;
        snprintf(v->id, sizeof(v->id), "%s", harness_json_str(d, "videoId"));
        snprintf(v->key, sizeof(v->key), "%s", harness_json_str(d, "fileKey"));
    }
    pthread_mutex_unlock(&videos_mu);
    harness_response_free(&r);
    if (!v || !token) {
        free(token);
        return NULL;
    }
    size_t len;
    uint8_t *data = v->file ? NULL : harness_pattern(v->len, v->seed);
    len = v->len;
    if (v->file) {
        FILE *fp = fopen(v->file, "rb");
        data = malloc(4 << 20);
        len = fp && data ? fread(data, 1, 4 << 20, fp) : 0;
        if (fp)
            fclose(fp);
    }
    harness_upload_response_t u = {0};
    char *auth = harness_uptoken(token);
    bool sent = blocks ? harness_put_file(s, auth, data, len, HARNESS_MIB, &u)
                       : harness_form_upload(s, token, data, len, &u);
    v->uploaded = sent && u.status == 200;
    harness_upload_response_free(&u);
    free(auth);
    free(token);
    free(data);
    return v;
}

static void delete_video(harness_server_t *s, const char *id)
{
    char *body = harness_strf("videoId=%s", id);
    harness_response_t r;
    harness_call(s, NULL, "POST", "/vod/videoManage/deleteVideo", body, HARNESS_FORM, &r);
    harness_response_free(&r);
    free(body);
}

static void wait_ready(const tvideo_t *v)
{
    int64_t deadline = harness_now_ms() + READY_TIMEOUT_MS;
    for (;;) {
        harness_response_t r;
        assert_true(harness_video_info(srv, NULL, v->id, &r));
        const char *status = harness_json_str(harness_data(&r), "status");
        bool ready = status && !strcmp(status, "ready");
        bool failed = status && !strcmp(status, "failed");
        harness_response_free(&r);
        if (ready)
            return;
        assert_false(failed);
        assert_true(harness_now_ms() < deadline);
        harness_sleep_ms(100);
    }
}

/* ---- the loop beside the backup ---- */

typedef struct loop {
    pthread_t uploader, deleter;
    atomic_bool stop;
    atomic_int done;      /* uploads finished */
    char trigger[512];    /* when this path appears (the snapshot is taken), delete the doomed */
    atomic_int deleted;
} loop_t;

/* Waits for the backup's first snapshot, then deletes the doomed videos
 * while it copies objects (the big ones take a while). */
static void *deleter_main(void *arg)
{
    loop_t *l = arg;
    while (!atomic_load(&l->stop) && !exists(l->trigger))
        usleep(500);
    for (int i = 0; i < DOOMED_VIDEOS + 3 + 1 + BIG_VIDEOS && !atomic_load(&l->stop); i++)
        if (videos[i].doomed) {
            delete_video(srv, videos[i].id);
            atomic_fetch_add(&l->deleted, 1);
        }
    return NULL;
}

static void *uploader_main(void *arg)
{
    loop_t *l = arg;
    for (int n = 0; !atomic_load(&l->stop); n++) {
        char name[32];
        snprintf(name, sizeof(name), "during-%d.mp4", n);
        tvideo_t proto = {.seed = 5000 + (uint32_t)n, .len = (size_t)(64 << 10) * (size_t)(1 + n % 24), .during = true};
        put_video(srv, name, NULL, proto, n % 3 == 2);
        atomic_fetch_add(&l->done, 1);
    }
    return NULL;
}

/* ---- checks on the restored server ---- */

typedef struct backup_rows {
    int videos_with_object, output_files;
} backup_rows_t;

/* Every video of the backup's database that holds an object plays back
 * from `s2` exactly as uploaded; every served output file exactly as the
 * original server serves it. */
static backup_rows_t check_restored(harness_server_t *s2, const char *backup_db)
{
    backup_rows_t n = {0};
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(backup_db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT video_id, file_key FROM videos WHERE object_id IS NOT NULL", -1,
                                        &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *id = (const char *)sqlite3_column_text(st, 0);
        const tvideo_t *v = NULL;
        for (int i = 0; i < video_count && !v; i++)
            if (!strcmp(videos[i].id, id))
                v = &videos[i];
        assert_non_null(v);
        size_t len;
        uint8_t *data = video_bytes(v, &len);
        assert_playback(s2, (const char *)sqlite3_column_text(st, 1), data, len);
        free(data);
        n.videos_with_object++;
    }
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT key FROM output_files", -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *key = (const char *)sqlite3_column_text(st, 0);
        harness_upload_response_t a, b;
        assert_true(harness_playback(srv, "GET", key, NULL, &a));
        assert_true(harness_playback(s2, "GET", key, NULL, &b));
        assert_int_equal(a.status, 200);
        assert_int_equal(b.status, 200);
        assert_int_equal(a.body_len, b.body_len);
        assert_memory_equal(a.body, b.body, a.body_len);
        harness_upload_response_free(&a);
        harness_upload_response_free(&b);
        n.output_files++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* A video uploaded beside the backup is in the restored server in full
 * (it plays back exactly) or not at all (unknown, or registered with no
 * bytes: nothing plays). */
static void check_during(harness_server_t *s2, const tvideo_t *v, int *present, int *absent)
{
    harness_upload_response_t p;
    assert_true(harness_playback(s2, "GET", v->key, NULL, &p));
    if (p.status == 404) {
        (*absent)++;
    } else {
        size_t len;
        uint8_t *data = video_bytes(v, &len);
        assert_int_equal(p.status, 200);
        assert_int_equal(p.body_len, len);
        assert_memory_equal(p.body, data, len);
        free(data);
        (*present)++;
    }
    harness_upload_response_free(&p);
}

/* ---- the tests ---- */

static void upload_before(void)
{
    static const size_t sizes[] = {300 << 10, HARNESS_MIB + 17, 9 * HARNESS_MIB + 5};
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof(name), "before-%d.mp4", i);
        tvideo_t *v = put_video(srv, name, NULL, (tvideo_t){.seed = 100 + (uint32_t)i, .len = sizes[i]}, i == 2);
        assert_non_null(v);
        assert_true(v->uploaded);
    }
    char *clip = media("clip.mp4");
    tvideo_t *v = put_video(srv, "clip.mp4", "&transCodeCombineName=sd&waterMarkName=logo",
                            (tvideo_t){.file = clip}, false);
    assert_non_null(v);
    assert_true(v->uploaded);
    wait_ready(v);
    for (int i = 0; i < BIG_VIDEOS; i++) {
        v = put_video(srv, "big.mp4", NULL, (tvideo_t){.seed = 200 + (uint32_t)i, .len = BIG_SIZE}, true);
        assert_non_null(v);
        assert_true(v->uploaded);
    }
    for (int i = 0; i < DOOMED_VIDEOS; i++) {
        v = put_video(srv, "doomed.mp4", NULL, (tvideo_t){.seed = 300 + (uint32_t)i, .len = 200 << 10, .doomed = true},
                      false);
        assert_non_null(v);
        assert_true(v->uploaded);
    }
}

/* Runs the backup while the loop uploads; returns its result. */
static harness_cli_result_t backup_beside_uploads(const char *dest, loop_t *l)
{
    snprintf(l->trigger, sizeof(l->trigger), "%s.partial/resources", dest);
    assert_int_equal(pthread_create(&l->uploader, NULL, uploader_main, l), 0);
    assert_int_equal(pthread_create(&l->deleter, NULL, deleter_main, l), 0);
    while (atomic_load(&l->done) < 2)
        harness_sleep_ms(10);
    const char *args[] = {"backup", "--data", srv->data_dir, "--to", dest, NULL};
    harness_cli_result_t r = run_cli(args);
    int during_backup = atomic_load(&l->done);
    harness_sleep_ms(200); /* a few more after it, which the backup must not hold */
    atomic_store(&l->stop, true);
    pthread_join(l->uploader, NULL);
    pthread_join(l->deleter, NULL);
    print_message("  %d uploads beside the backup (%d when it ended), %d deletions\n", atomic_load(&l->done),
                  during_backup, atomic_load(&l->deleted));
    return r;
}

/* A second server on a directory restored from `dest`. */
static harness_server_t *restored_server(const char *dest)
{
    harness_server_t *s2 = harness_server_start(NULL);
    assert_non_null(s2);
    assert_int_equal(harness_server_terminate(s2), 0);
    char *rm = harness_strf("rm -rf '%s'", s2->data_dir);
    assert_int_equal(system(rm), 0);
    free(rm);
    const char *args[] = {"restore", "--from", dest, "--data", s2->data_dir, NULL};
    harness_cli_result_t r = run_cli(args);
    if (r.status != 0)
        print_error("restore: %s%s", r.out, r.err);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "verified"));
    assert_null(strstr(r.out, " 0 objects")); /* it counts what it restored */
    harness_cli_result_free(&r);
    assert_true(harness_server_restart(s2, NULL));
    return s2;
}

static void test_backup_restore_beside_uploads(void **state)
{
    (void)state;
    upload_before();
    char *dest = root_path("backup");
    loop_t l = {0};
    harness_cli_result_t r = backup_beside_uploads(dest, &l);
    if (r.status != 0)
        print_error("backup: %s%s", r.out, r.err);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "backup: "));
    /* The deletions landed after the snapshot: the backup took another. */
    assert_true(atomic_load(&l.deleted) > 0);
    assert_non_null(strstr(r.err, "taking a new snapshot"));
    harness_cli_result_free(&r);
    char *partial = harness_strf("%s.partial", dest);
    assert_false(exists(partial));
    free(partial);
    char *manifest = harness_strf("%s/vodup-backup.txt", dest);
    assert_true(exists(manifest));
    free(manifest);

    harness_server_t *s2 = restored_server(dest);
    char *db = harness_strf("%s/vodup.db", dest);
    backup_rows_t rows = check_restored(s2, db);
    free(db);
    print_message("  restored: %d videos with bytes, %d served output files\n", rows.videos_with_object,
                  rows.output_files);
    assert_true(rows.videos_with_object >= 3 + 1 + BIG_VIDEOS);
    assert_true(rows.output_files >= 2); /* the clip's cover and its rendition */
    int present = 0, absent = 0;
    for (int i = 0; i < video_count; i++) {
        if (videos[i].during)
            check_during(s2, &videos[i], &present, &absent);
        if (videos[i].doomed) { /* deleted before the final snapshot */
            harness_upload_response_t p;
            assert_true(harness_playback(s2, "GET", videos[i].key, NULL, &p));
            assert_int_equal(p.status, 404);
            harness_upload_response_free(&p);
        }
    }
    print_message("  uploads beside the backup: %d in it, %d not\n", present, absent);
    assert_true(present + absent > 0);
    /* The restored keys work: the first server's key signs for the second. */
    harness_response_t info;
    assert_true(harness_video_info(s2, &srv->key, videos[0].id, &info));
    assert_api_ok(&info);
    harness_response_free(&info);
    assert_int_equal(harness_server_stop(s2), 0);
    free(dest);
}

static void test_backup_refuses_a_non_empty_destination(void **state)
{
    (void)state;
    char *dest = root_path("occupied");
    assert_int_equal(mkdir(dest, 0700), 0);
    char *file = harness_strf("%s/keep.txt", dest);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fputs("mine\n", fp);
    fclose(fp);
    const char *args[] = {"backup", "--data", srv->data_dir, "--to", dest, NULL};
    harness_cli_result_t r = run_cli(args);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "not empty"));
    harness_cli_result_free(&r);
    char *text = harness_read_file(file);
    assert_string_equal(text, "mine\n");
    free(text);
    char *partial = harness_strf("%s.partial", dest);
    assert_false(exists(partial));
    free(partial);
    free(file);
    free(dest);
}

/* A fresh backup of the server's directory, at ROOT/name. */
static char *fresh_backup(const char *name)
{
    char *dest = root_path(name);
    const char *args[] = {"backup", "--data", srv->data_dir, "--to", dest, NULL};
    harness_cli_result_t r = run_cli(args);
    assert_int_equal(r.status, 0);
    harness_cli_result_free(&r);
    return dest;
}

static void test_restore_refuses_a_non_empty_directory(void **state)
{
    (void)state;
    char *dest = fresh_backup("backup-2");
    char *target = root_path("occupied-data");
    assert_int_equal(mkdir(target, 0700), 0);
    char *file = harness_strf("%s/keep.txt", target);
    FILE *fp = fopen(file, "w");
    assert_non_null(fp);
    fclose(fp);
    const char *args[] = {"restore", "--from", dest, "--data", target, NULL};
    harness_cli_result_t r = run_cli(args);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "not empty"));
    harness_cli_result_free(&r);
    char *db = harness_strf("%s/vodup.db", target);
    assert_false(exists(db));
    free(db);
    /* Nor from a directory that is not a finished backup. */
    char *empty = root_path("restore-target");
    const char *bad[] = {"restore", "--from", target, "--data", empty, NULL};
    r = run_cli(bad);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "not a finished vodup backup"));
    harness_cli_result_free(&r);
    free(empty);
    free(file);
    free(target);
    free(dest);
}

/* An object gone from the backup: the restore's verification fails and
 * leaves no database, so the directory is never taken for a restored one. */
static void test_restore_verifies_the_objects(void **state)
{
    (void)state;
    char *dest = fresh_backup("backup-3");
    char *cmd = harness_strf("f=$(find '%s/objects' -type f -size +100k | head -1); test -n \"$f\" && rm \"$f\"", dest);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    char *target = root_path("restored-broken");
    const char *args[] = {"restore", "--from", dest, "--data", target, NULL};
    harness_cli_result_t r = run_cli(args);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "not in the backup"));
    assert_null(strstr(r.out, "verified"));
    harness_cli_result_free(&r);
    char *db = harness_strf("%s/vodup.db", target);
    assert_false(exists(db));
    free(db);
    free(target);
    free(dest);
}

/* A server whose objects live in a blob-dir of their own: the backup
 * needs --blob-dir to find them (without it, it fails and says so), and
 * the restore puts them in the blob-dir given to it. */
static void test_backup_and_restore_with_a_blob_dir(void **state)
{
    (void)state;
    char blobs[] = "/tmp/vodup-it-blobs-XXXXXX";
    assert_non_null(mkdtemp(blobs));
    const char *flags[] = {"--blob-dir", blobs, NULL};
    harness_server_t *s = harness_server_start(flags);
    assert_non_null(s);
    tvideo_t *v = put_video(s, "apart.mp4", NULL, (tvideo_t){.seed = 900, .len = 70000}, false);
    assert_non_null(v);
    assert_true(v->uploaded);
    char *dest = harness_strf("%s/backup", s->root);
    const char *without[] = {"backup", "--data", s->data_dir, "--to", dest, NULL};
    harness_cli_result_t r = run_cli(without);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "--blob-dir"));
    harness_cli_result_free(&r);
    char *rm = harness_strf("rm -rf '%s.partial'", dest);
    assert_int_equal(system(rm), 0);
    free(rm);
    const char *with[] = {"backup", "--data", s->data_dir, "--to", dest, "--blob-dir", blobs, NULL};
    r = run_cli(with);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, " 1 objects (70000 bytes)"));
    harness_cli_result_free(&r);

    assert_int_equal(harness_server_terminate(s), 0);
    rm = harness_strf("rm -rf '%s' '%s'", s->data_dir, blobs);
    assert_int_equal(system(rm), 0);
    free(rm);
    const char *restore[] = {"restore", "--from", dest, "--data", s->data_dir, "--blob-dir", blobs, NULL};
    r = run_cli(restore);
    assert_int_equal(r.status, 0);
    harness_cli_result_free(&r);
    assert_true(harness_server_restart(s, flags));
    size_t len;
    uint8_t *data = video_bytes(v, &len);
    assert_playback(s, v->key, data, len);
    free(data);
    assert_int_equal(harness_server_stop(s), 0);
    rm = harness_strf("rm -rf '%s'", blobs);
    assert_int_equal(system(rm), 0);
    free(rm);
    free(dest);
}

/* ---- set-up ---- */

static int setup(void **state)
{
    (void)state;
    const char *args[] = {"--processing", "on", NULL};
    srv = harness_server_start(args);
    if (!srv)
        return -1;
    snprintf(media_dir, sizeof(media_dir), "%s/media", srv->root);
    if (mkdir(media_dir, 0700) != 0)
        return -1;
    make("clip.mp4", "-f lavfi -i testsrc2=size=320x240:rate=25:duration=2 -f lavfi -i sine=duration=2 "
                     "-c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest");
    make("logo.png", "-f lavfi -i color=red:size=32x16 -frames:v 1");
    char *logo = media("logo.png");
    const char *ak = srv->key.access_key;
    const char *sd[] = {"--account", ak, "template", "add", "sd", "--container", "mp4", "--rendition", "320x240@400",
                        NULL};
    const char *wm[] = {"--account", ak, "watermark", "add", "logo", "--image", logo, NULL};
    int rc = harness_adminv(srv, NULL, sd) | harness_adminv(srv, NULL, wm);
    free(logo);
    return rc == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < video_count; i++)
        free((char *)videos[i].file);
    return harness_server_finish(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backup_restore_beside_uploads),
        cmocka_unit_test(test_backup_refuses_a_non_empty_destination),
        cmocka_unit_test(test_restore_refuses_a_non_empty_directory),
        cmocka_unit_test(test_restore_verifies_the_objects),
        cmocka_unit_test(test_backup_and_restore_with_a_blob_dir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
