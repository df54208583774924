/*
 * test_cli_upload: `vodup upload`, the real binary against a real server
 * (docs/cli.md; the issue "vodup upload: the command-line client with
 * breakpoint resume and progress").
 *
 * What must hold:
 *  - a small file (form upload) and a 100+ MiB file (blocks in parallel)
 *    arrive intact: the server's getVideoInfo shows the MD5 and etag of the
 *    local bytes, and --json prints exactly one line with the numbers;
 *  - SIGKILL of the client mid-upload, then the same command: it finishes
 *    with resumedBytes > 0 and fewer bytes sent than the file size;
 *  - SIGINT: exit 130, one line, the record kept, and the re-run resumes;
 *  - the server killed and restarted mid-upload: the client retries and
 *    finishes, silently (stderr is not a terminal);
 *  - a file changed between runs: the stale record is not reused (the new
 *    bytes arrive, resumedBytes is 0), with a derived and a given fileId;
 *  - blocks the server no longer holds (swept): mkfile's 412 makes the
 *    client send the recorded blocks again, and the upload completes;
 *  - wrong secret: exit 3 with the server's authentication message; a
 *    missing or unreadable file: exit 1, one line; usage errors: exit 2.
 *
 * Each run gets its own HOME (so its own ~/.cache/vodup) under the server's
 * temporary root.  The client is started by fork+execve with an explicit
 * environment and signalled only by the PID forked here.  Slow uploads,
 * needed to interrupt one at a known point, come from VODUP_LIMIT_RATE.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "harness.h"
#include "harness_cli.h"
#include "harness_upload.h"

#define MIB ((size_t)1024 * 1024)
#define CLI_RUN_TIMEOUT_MS 60000
#define CLI_WATCH_TIMEOUT_MS 30000

static harness_server_t *srv;

/* ---- running the client (harness_cli) ------------------------------------------------ */

typedef harness_cli_result_t cli_result_t;
typedef harness_cli_proc_t cli_proc_t;

static void cli_result_free(cli_result_t *r)
{
    harness_cli_result_free(r);
}

static int64_t cli_mono_ms(void)
{
    return harness_now_ms();
}

static void cli_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Starts `vodup args...` against the server with HOME=home; as_nobody drops root first. */
static bool cli_start(cli_proc_t *p, const char *home, const char *const *extra_env, bool as_nobody,
                      const char *const *args)
{
    harness_cli_opts_t o = {.home = home, .server_env = true, .extra_env = extra_env, .as_nobody = as_nobody};
    return harness_cli_start(srv, &o, args, p);
}

/* Waits for the client; fills r (JSON only when stdout is exactly one line).  SIGKILLs it after timeout_ms. */
static void cli_finish(cli_proc_t *p, int timeout_ms, cli_result_t *r)
{
    harness_cli_finish(p, timeout_ms, r);
    size_t n = strlen(r->out);
    if (!(n > 0 && r->out[n - 1] == '\n' && strchr(r->out, '\n') == r->out + n - 1)) {
        json_decref(r->json);
        r->json = NULL;
    }
    if (r->status != 0)
        fprintf(stderr, "test: vodup exited %d; stderr: %s%s", r->status, r->err,
                !*r->err || r->err[strlen(r->err) - 1] != '\n' ? "\n" : "");
}

/* Runs `vodup args...` (NULL-terminated) to the end. */
static void cli_run(cli_result_t *r, const char *home, const char *const *extra_env, const char *const *args)
{
    cli_proc_t p;
    assert_true(cli_start(&p, home, extra_env, false, args));
    cli_finish(&p, CLI_RUN_TIMEOUT_MS, r);
}

/* ---- fixtures ------------------------------------------------------------------------ */

/* A fresh HOME under the server's root; malloc'd. */
static char *new_home(void)
{
    char *home = harness_cli_home(srv);
    assert_non_null(home);
    return home;
}

/* Writes `len` pattern bytes to ROOT/name; returns them (caller frees). */
static uint8_t *new_file(const char *name, size_t len, uint32_t seed, char *path, size_t path_len)
{
    uint8_t *data = harness_pattern(len, seed);
    assert_non_null(data);
    assert_true(harness_write_file(srv, name, data, len, path, path_len));
    return data;
}

/* Block ctx values the record in HOME's cache holds (-1: no record). */
static int record_blocks(const char *home, char *video_id, size_t video_id_len)
{
    char *dir = harness_strf("%s/.cache/vodup", home);
    DIR *d = opendir(dir);
    int best = -1;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0)
            continue;
        char *path = harness_strf("%s/%s", dir, e->d_name);
        json_t *rec = json_load_file(path, 0, NULL);
        free(path);
        json_t *blocks = json_object_get(rec, "blocks");
        int count = 0;
        for (size_t i = 0; i < json_array_size(blocks); i++)
            count += json_is_string(json_array_get(blocks, i));
        if (json_is_array(blocks) && count > best) {
            best = count;
            if (video_id)
                snprintf(video_id, video_id_len, "%s", harness_json_str(rec, "videoId") ?: "");
        }
        json_decref(rec);
    }
    if (d)
        closedir(d);
    free(dir);
    return best;
}

/* Records (*.json) in HOME's cache. */
static int record_count(const char *home)
{
    char *dir = harness_strf("%s/.cache/vodup", home);
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        n += len > 5 && strcmp(e->d_name + len - 5, ".json") == 0;
    }
    if (d)
        closedir(d);
    free(dir);
    return n;
}

/* Waits until the client's record holds at least `blocks` acknowledged
 * blocks while the client still runs. */
static void wait_for_blocks(cli_proc_t *p, const char *home, int blocks)
{
    int64_t deadline = cli_mono_ms() + CLI_WATCH_TIMEOUT_MS;
    for (;;) {
        int got = record_blocks(home, NULL, 0);
        if (got >= blocks)
            return;
        int st;
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            p->pid = 0;
            fail_msg("the client ended before %d blocks were recorded (exit %d)", blocks,
                     WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        }
        if (cli_mono_ms() > deadline) {
            kill(p->pid, SIGKILL);
            fail_msg("no record with %d blocks after %d ms (saw %d)", blocks, CLI_WATCH_TIMEOUT_MS, got);
        }
        cli_sleep_ms(10);
    }
}

/* stderr holds exactly one non-empty line. */
static void assert_one_line(const char *text)
{
    size_t n = strlen(text);
    if (n < 2 || text[n - 1] != '\n' || strchr(text, '\n') != text + n - 1)
        fail_msg("expected one line on stderr, got: '%s'", text);
}

static int64_t json_int(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_integer(v));
    return json_integer_value(v);
}

/* The --json line: every member, with the given size; returns the videoId. */
static const char *check_json_line(const cli_result_t *r, size_t size)
{
    assert_int_equal(r->status, 0);
    if (!r->json)
        fail_msg("stdout is not exactly one JSON line: %s", r->out);
    assert_int_equal(json_object_size(r->json), 7);
    const char *video_id = harness_json_str(r->json, "videoId");
    const char *file_key = harness_json_str(r->json, "fileKey");
    const char *etag = harness_json_str(r->json, "etag");
    const char *play = harness_json_str(r->json, "playUrl");
    assert_true(harness_is_lower_hex(video_id, 32));
    assert_non_null(file_key);
    assert_non_null(strstr(file_key, video_id));
    assert_non_null(etag);
    assert_int_equal(strlen(etag), HARNESS_ETAG_LEN);
    assert_non_null(play);
    assert_non_null(strstr(play, file_key));
    assert_int_equal(json_int(r->json, "size"), (int64_t)size);
    assert_true(json_int(r->json, "bytesSent") >= 0);
    assert_true(json_int(r->json, "resumedBytes") >= 0);
    return video_id;
}

/* The server holds exactly `data` for the upload of r (md5, etag, size). */
static void check_on_server(const cli_result_t *r, const uint8_t *data, size_t len)
{
    harness_response_t info;
    const char *video_id = check_json_line(r, len);
    json_t *v = assert_uploaded(srv, NULL, video_id, data, len, NULL, &info);
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, len, etag);
    assert_string_equal(harness_json_str(r->json, "etag"), etag);
    assert_string_equal(harness_json_str(v, "playUrl"), harness_json_str(r->json, "playUrl"));
    harness_response_free(&info);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_small_file(void **state)
{
    (void)state;
    char *home = new_home();
    char path[512];
    size_t len = 1 * MIB + 4321; /* under 4 MiB: one form upload */
    uint8_t *data = new_file("small.mp4", len, 11, path, sizeof(path));
    cli_result_t r;
    cli_run(&r, home, NULL, (const char *const[]){"upload", path, "--json", NULL});
    check_on_server(&r, data, len);
    assert_int_equal(json_int(r.json, "bytesSent"), (int64_t)len);
    assert_int_equal(json_int(r.json, "resumedBytes"), 0);
    assert_string_equal(r.err, ""); /* stderr is not a terminal: no progress bar */
    assert_int_equal(record_count(home), 0);
    cli_result_free(&r);

    /* Without --json: a summary naming the video. */
    uint8_t *data2 = new_file("small2.mov", 1000, 12, path, sizeof(path));
    cli_run(&r, home, NULL, (const char *const[]){"upload", path, NULL});
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "uploaded "));
    assert_non_null(strstr(r.out, "  videoId  "));
    assert_non_null(strstr(r.out, "  playUrl  "));
    assert_string_equal(r.err, "");
    cli_result_free(&r);

    /* An empty file is a video of zero bytes. */
    uint8_t *empty = new_file("empty.mp4", 0, 13, path, sizeof(path));
    cli_run(&r, home, NULL, (const char *const[]){"upload", path, "--json", NULL});
    check_on_server(&r, (const uint8_t *)"", 0);
    cli_result_free(&r);
    free(empty);
    free(data2);
    free(data);
    free(home);
}

static void test_large_file(void **state)
{
    (void)state;
    char *home = new_home();
    char path[512];
    size_t len = 101 * MIB + 12345; /* 26 blocks, the last one short */
    uint8_t *data = new_file("large.mp4", len, 21, path, sizeof(path));
    cli_result_t r;
    int64_t t0 = cli_mono_ms();
    cli_run(&r, home, NULL, (const char *const[]){"upload", path, "--concurrency", "4", "--json", NULL});
    print_message("  101 MiB in %lld ms\n", (long long)(cli_mono_ms() - t0));
    check_on_server(&r, data, len);
    assert_int_equal(json_int(r.json, "bytesSent"), (int64_t)len);
    assert_int_equal(json_int(r.json, "resumedBytes"), 0);
    assert_string_equal(r.err, "");
    assert_int_equal(record_count(home), 0); /* removed after success */
    cli_result_free(&r);
    free(data);
    free(home);
}

static void test_options(void **state)
{
    (void)state;
    char *home = new_home();
    char path[512];
    /* 8 MiB blocks: every block is a mkblk and a bput. */
    size_t len = 20 * MIB + 1;
    uint8_t *data = new_file("opts.mp4", len, 31, path, sizeof(path));
    cli_result_t r;
    cli_run(&r, home, NULL,
            (const char *const[]){"upload", path, "--block-size", "8", "--concurrency", "2", "--name", "renamed.mkv",
                                  "--category", "sports/football", "--category", "news/local", "--file-id",
                                  "opts-file-1", "--json", NULL});
    check_on_server(&r, data, len);
    harness_response_t info;
    assert_true(harness_video_info(srv, NULL, harness_json_str(r.json, "videoId"), &info));
    json_t *v = harness_data(&info);
    assert_string_equal(harness_json_str(v, "videoName"), "renamed.mkv");
    assert_string_equal(harness_json_str(v, "fileId"), "opts-file-1");
    assert_string_equal(harness_json_str(v, "mimeType"), "video/x-matroska");
    assert_int_equal(json_array_size(json_object_get(v, "categories")), 2);
    harness_response_free(&info);
    char video_id[64];
    snprintf(video_id, sizeof(video_id), "%s", harness_json_str(r.json, "videoId"));
    cli_result_free(&r);

    /* The same fileId again: the server says the upload completed (409);
     * the client stops with that and the way out. */
    cli_run(&r, home, NULL, (const char *const[]){"upload", path, "--file-id", "opts-file-1", NULL});
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "HTTP 409"));
    assert_non_null(strstr(r.err, "--overwrite"));
    assert_one_line(r.err);
    cli_result_free(&r);
    /* --overwrite replaces it, as the same video. */
    cli_run(&r, home, NULL,
            (const char *const[]){"upload", path, "--file-id", "opts-file-1", "--overwrite", "--json", NULL});
    check_on_server(&r, data, len);
    assert_string_equal(harness_json_str(r.json, "videoId"), video_id);
    cli_result_free(&r);
    free(data);
    free(home);
}

static void test_sigkill_resume(void **state)
{
    (void)state;
    char *home = new_home();
    char path[512];
    size_t len = 48 * MIB + 4321; /* 13 blocks */
    uint8_t *data = new_file("killed.mp4", len, 41, path, sizeof(path));
    const char *slow[] = {"VODUP_LIMIT_RATE=24000000", NULL};
    cli_proc_t p;
    assert_true(cli_start(&p, home, slow, false, (const char *const[]){"upload", path, "--json", NULL}));
    wait_for_blocks(&p, home, 2);
    print_message("  SIGKILL with %d blocks recorded\n", record_blocks(home, NULL, 0));
    assert_int_equal(kill(p.pid, SIGKILL), 0);
    cli_result_t r;
    cli_finish(&p, CLI_RUN_TIMEOUT_MS, &r);
    assert_int_equal(r.status, 128 + SIGKILL);
    cli_result_free(&r);
    int recorded = record_blocks(home, NULL, 0);
    assert_true(recorded >= 2);

    cli_run(&r, home, NULL, (const char *const[]){"upload", path, "--json", NULL});
    check_on_server(&r, data, len);
    int64_t sent = json_int(r.json, "bytesSent"), resumed = json_int(r.json, "resumedBytes");
    print_message("  re-run: %lld bytes sent, %lld resumed of %zu\n", (long long)sent, (long long)resumed, len);
    assert_true(resumed >= (int64_t)recorded * 4 * (int64_t)MIB);
    assert_true(sent < (int64_t)len);
    assert_int_equal(sent + resumed, (int64_t)len);
    assert_int_equal(record_count(home), 0);
    cli_result_free(&r);
    free(data);
    free(home);
}

static void test_sigint_resume(void **state)
{
    (void)state;
    char *home = new_home();
    char path[512];
    size_t len = 24 * MIB + 99;
    uint8_t *data = new_file("interrupted.mp4", len, 51, path, sizeof(path));
    const char *slow[] = {"VODUP_LIMIT_RATE=12000000", NULL};
    cli_proc_t p;
    assert_true(cli_start(&p, home, slow, false, (const char *const[]){"upload", path, "--json", NULL}));
    wait_for_blocks(&p, home, 1);
    assert_int_equal(kill(p.pid, SIGINT), 0);
    cli_result_t r;
    cli_finish(&p, CLI_RUN_TIMEOUT_MS, &r);
    assert_int_equal(r.status, 130);
    assert_string_equal(r.out, ""); /* --json prints only on success */
    assert_non_null(strstr(r.err, "interrupted"));
    assert_one_line(r.err);
    cli_result_free(&r);
    assert_true(record_blocks(home, NULL, 0) >= 1);

    cli_run(&r, home, NULL, (const char *const[]){"upload", path, "--json", NULL});
    check_on_server(&r, data, len);
    assert_true(json_int(r.json, "resumedBytes") > 0);
    assert_true(json_int(r.json, "bytesSent") < (int64_t)len);
    cli_result_free(&r);
    free(data);
    free(home);
}

static void test_server_restart(void **state)
{
    (void)state;
    char *home = new_home();
    char path[512];
    size_t len = 40 * MIB + 99;
    uint8_t *data = new_file("restart.mp4", len, 61, path, sizeof(path));
    const char *env[] = {"VODUP_LIMIT_RATE=16000000", "VODUP_RETRY_BASE_MS=100", "VODUP_RETRY_MAX=12", NULL};
    cli_proc_t p;
    assert_true(cli_start(&p, home, env, false, (const char *const[]){"upload", path, "--json", NULL}));
    wait_for_blocks(&p, home, 1);

    print_message("  server killed (SIGKILL) and started again on port %d\n", srv->port);
    assert_true(harness_server_signal(srv, SIGKILL));
    harness_server_wait(srv, HARNESS_STOP_TIMEOUT_MS);
    char listen[64];
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", srv->port);
    int port = srv->port;
    assert_true(harness_server_restart(srv, (const char *const[]){"--listen", listen, NULL}));
    assert_int_equal(srv->port, port);

    cli_result_t r;
    cli_finish(&p, CLI_RUN_TIMEOUT_MS, &r);
    check_on_server(&r, data, len);
    assert_string_equal(r.err, ""); /* retries are silent when stderr is not a terminal */
    cli_result_free(&r);
    free(data);
    free(home);
}

/* Interrupts an upload of ROOT/name after one block, then rewrites the file. */
static uint8_t *interrupt_then_change(const char *home, const char *name, size_t len, const char *file_id,
                                      char *path, size_t path_len, char *video_id, size_t video_id_len)
{
    uint8_t *first = new_file(name, len, 71, path, path_len);
    const char *slow[] = {"VODUP_LIMIT_RATE=8000000", NULL};
    const char *args_id[] = {"upload", path, "--file-id", file_id, NULL};
    const char *args[] = {"upload", path, NULL};
    cli_proc_t p;
    assert_true(cli_start(&p, home, slow, false, file_id ? args_id : args));
    wait_for_blocks(&p, home, 1);
    kill(p.pid, SIGKILL);
    cli_result_t r;
    cli_finish(&p, CLI_RUN_TIMEOUT_MS, &r);
    cli_result_free(&r);
    assert_true(record_blocks(home, video_id, video_id_len) >= 1);
    free(first);
    /* Same name, same size, other bytes (and a newer mtime). */
    return new_file(name, len, 72, path, path_len);
}

static void test_file_changed(void **state)
{
    (void)state;
    char path[512], video_id[64];
    size_t len = 24 * MIB + 1;

    /* A given fileId: the same video, but the record's ctx values are not used. */
    char *home = new_home();
    uint8_t *data = interrupt_then_change(home, "changed.mp4", len, "changed-1", path, sizeof(path), video_id,
                                          sizeof(video_id));
    cli_result_t r;
    cli_run(&r, home, NULL, (const char *const[]){"upload", path, "--file-id", "changed-1", "--json", NULL});
    check_on_server(&r, data, len); /* the new bytes, MD5-checked by the server */
    assert_string_equal(harness_json_str(r.json, "videoId"), video_id);
    assert_int_equal(json_int(r.json, "resumedBytes"), 0);
    assert_int_equal(json_int(r.json, "bytesSent"), (int64_t)len);
    assert_int_equal(record_count(home), 0);
    cli_result_free(&r);
    free(data);
    free(home);

    /* A derived fileId: a new video, and the stale record is removed. */
    home = new_home();
    data = interrupt_then_change(home, "changed2.mp4", len, NULL, path, sizeof(path), video_id, sizeof(video_id));
    cli_run(&r, home, NULL, (const char *const[]){"upload", path, "--json", NULL});
    check_on_server(&r, data, len);
    assert_string_not_equal(harness_json_str(r.json, "videoId"), video_id);
    assert_int_equal(json_int(r.json, "resumedBytes"), 0);
    assert_int_equal(record_count(home), 0);
    cli_result_free(&r);
    free(data);
    free(home);
}

/* Removes every unfinished block the server holds (as its sweep would). */
static int remove_server_blocks(void)
{
    int removed = 0;
    for (int i = 0; i < 256; i++) {
        char *dir = harness_strf("%s/blocks/%02x", srv->data_dir, i);
        DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.')
                continue;
            char *file = harness_strf("%s/%s", dir, e->d_name);
            removed += unlink(file) == 0;
            free(file);
        }
        if (d)
            closedir(d);
        free(dir);
    }
    return removed;
}

static void test_blocks_gone(void **state)
{
    (void)state;
    char *home = new_home();
    char path[512];
    size_t len = 24 * MIB + 777;
    uint8_t *data = new_file("swept.mp4", len, 101, path, sizeof(path));
    cli_proc_t p;
    assert_true(cli_start(&p, home, (const char *const[]){"VODUP_LIMIT_RATE=12000000", NULL}, false,
                          (const char *const[]){"upload", path, "--json", NULL}));
    wait_for_blocks(&p, home, 2);
    kill(p.pid, SIGKILL);
    cli_result_t r;
    cli_finish(&p, CLI_RUN_TIMEOUT_MS, &r);
    cli_result_free(&r);
    cli_sleep_ms(200); /* let the server drop the requests the kill cut */
    int removed = remove_server_blocks();
    print_message("  %d block files removed on the server\n", removed);
    assert_true(removed >= 2);

    /* mkfile answers 412 for the recorded blocks: they are sent again, once. */
    cli_run(&r, home, NULL, (const char *const[]){"upload", path, "--json", NULL});
    check_on_server(&r, data, len);
    assert_int_equal(json_int(r.json, "resumedBytes"), 0);
    assert_int_equal(json_int(r.json, "bytesSent"), (int64_t)len);
    assert_int_equal(record_count(home), 0);
    char *refused = harness_strf("\"path\":\"/mkfile/%zu\",\"status\":412", len);
    assert_true(harness_server_log_wait(srv, refused, 1000));
    free(refused);
    cli_result_free(&r);
    free(data);
    free(home);
}

static void test_wrong_secret(void **state)
{
    (void)state;
    char *home = new_home();
    char path[512];
    uint8_t *data = new_file("auth.mp4", 5 * MIB, 81, path, sizeof(path));
    cli_result_t r;
    cli_run(&r, home, (const char *const[]){"VODUP_SECRET_KEY=not-the-secret", NULL},
            (const char *const[]){"upload", path, "--json", NULL});
    assert_int_equal(r.status, 3);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "vodup upload: getUploadToken: HTTP 401: Authentication failed"));
    assert_one_line(r.err);
    cli_result_free(&r);
    free(data);
    free(home);
}

static void test_bad_files(void **state)
{
    (void)state;
    char *home = new_home();
    char *missing = harness_strf("%s/no-such-file.mp4", srv->root);
    cli_result_t r;
    cli_run(&r, home, NULL, (const char *const[]){"upload", missing, NULL});
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "No such file or directory"));
    assert_one_line(r.err);
    cli_result_free(&r);

    /* Unreadable: mode 000; root reads anything, so the client runs as nobody then. */
    char path[512];
    uint8_t *data = new_file("secret.mp4", 1000, 91, path, sizeof(path));
    assert_int_equal(chmod(path, 0), 0);
    cli_proc_t p;
    /* (HOME=/nonexistent: nobody may not look into the test's root for a config file.) */
    assert_true(cli_start(&p, home, (const char *const[]){"HOME=/nonexistent", NULL}, geteuid() == 0,
                          (const char *const[]){"upload", path, NULL}));
    cli_finish(&p, CLI_RUN_TIMEOUT_MS, &r);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "Permission denied"));
    assert_one_line(r.err);
    cli_result_free(&r);

    cli_run(&r, home, NULL, (const char *const[]){"upload", srv->root, NULL});
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "not a regular file"));
    cli_result_free(&r);
    free(data);
    free(missing);
    free(home);
}

static void test_usage(void **state)
{
    (void)state;
    char *home = new_home();
    const char *const *const bad[] = {
        (const char *const[]){"upload", NULL},
        (const char *const[]){"upload", "a.mp4", "b.mp4", NULL},
        (const char *const[]){"upload", "a.mp4", "--block-size", "6", NULL},
        (const char *const[]){"upload", "a.mp4", "--block-size", "0", NULL},
        (const char *const[]){"upload", "a.mp4", "--concurrency", "0", NULL},
        (const char *const[]){"upload", "a.mp4", "--concurrency", "x", NULL},
        (const char *const[]){"upload", "a.mp4", "--file-id", "has space", NULL},
        (const char *const[]){"upload", "a.mp4", "--bogus", NULL},
        (const char *const[]){"upload", "a.mp4", "--name", NULL},
    };
    cli_result_t r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cli_run(&r, home, NULL, bad[i]);
        assert_int_equal(r.status, 2);
        assert_non_null(strstr(r.err, "vodup upload: "));
        cli_result_free(&r);
    }
    /* No key anywhere: a usage error that says how to configure. */
    cli_run(&r, home, (const char *const[]){"VODUP_ACCESS_KEY", "VODUP_SECRET_KEY", NULL},
            (const char *const[]){"upload", "a.mp4", NULL});
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "vodup configure"));
    cli_result_free(&r);
    cli_run(&r, home, NULL, (const char *const[]){"upload", "--help", NULL});
    assert_int_equal(r.status, 0);
    assert_true(strncmp(r.out, "usage: vodup upload FILE", 24) == 0);
    cli_result_free(&r);
    free(home);
}

/* ---- main --------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = harness_server_stop(srv) == 0 ? 0 : -1;
    srv = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_file),     cmocka_unit_test(test_large_file),
        cmocka_unit_test(test_options),        cmocka_unit_test(test_sigkill_resume),
        cmocka_unit_test(test_sigint_resume),  cmocka_unit_test(test_file_changed),
        cmocka_unit_test(test_blocks_gone),
        cmocka_unit_test(test_wrong_secret),   cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_usage),          cmocka_unit_test(test_server_restart),
    };
    return cmocka_run_group_tests_name("integration.test_cli_upload", tests, group_setup, group_teardown);
}
