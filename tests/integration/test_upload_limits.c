/*
 * test_upload_limits: what one token holder, or a client with no token,
 * can make the upload endpoint hold or do (docs/security.md), against a
 * real `vodup serve`:
 *
 *  - disk room tracks the bytes received: a 1-byte mkblk of a 1 GiB block,
 *    or a client that declares 1 GiB and leaves, holds about nothing;
 *  - the staging quota per token and per account (413), kept across a
 *    restart, given back by mkfile, and not shared between accounts;
 *  - a block may stand once in a mkfile list;
 *  - form bytes before the token: bounded per request (401) and over all
 *    requests (503), nothing stored;
 *  - the registered fileSize is the exact size (413 while streaming, 400 at
 *    completion, the video not uploaded);
 *  - a form with two file parts is refused, nothing published.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#define MIB (1 << 20)
#define GIB (1LL << 30)

static harness_server_t *srv;

/* ---- helpers ---------------------------------------------------------------- */

static void grant_ok(harness_server_t *s, const harness_grant_opts_t *o, harness_grant_t *g)
{
    assert_true(harness_grant(s, o, g));
}

static char *auth_of(const char *token)
{
    char *a = harness_uptoken(token);
    assert_non_null(a);
    return a;
}

/* Bytes of disk the files under DATA/<area> take (st_blocks, not sizes). */
static int64_t disk_used(const harness_server_t *s, const char *area)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", s->data_dir, area);
    DIR *top = opendir(path);
    if (!top)
        return 0;
    int64_t total = 0;
    struct dirent *e;
    while ((e = readdir(top)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[800];
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        struct stat st;
        if (stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
            total += (int64_t)st.st_blocks * 512;
            continue;
        }
        DIR *d = opendir(sub);
        struct dirent *f;
        while (d && (f = readdir(d)) != NULL) {
            char file[1200];
            snprintf(file, sizeof(file), "%s/%s", sub, f->d_name);
            if (f->d_name[0] != '.' && stat(file, &st) == 0)
                total += (int64_t)st.st_blocks * 512;
        }
        if (d)
            closedir(d);
    }
    closedir(top);
    return total;
}

/* Waits (up to 5 s) until DATA/<area> takes at most `bytes` of disk. */
static bool disk_drops_to(const harness_server_t *s, const char *area, int64_t bytes)
{
    for (int i = 0; i < 100; i++) {
        if (disk_used(s, area) <= bytes)
            return true;
        usleep(50 * 1000);
    }
    print_message("  %s still takes %lld bytes\n", area, (long long)disk_used(s, area));
    return false;
}

/* A loopback connection to the server that sends `head` (and `body`). */
static int raw_send(const harness_server_t *s, const char *head, const void *body, size_t len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_true(write(fd, head, strlen(head)) == (ssize_t)strlen(head));
    if (len)
        assert_true(write(fd, body, len) == (ssize_t)len);
    return fd;
}

/* One block in one chunk; index < 0: sent without an index. */
static void put_block_ok(harness_server_t *s, const char *auth, size_t len, int64_t index, uint32_t seed,
                         char ctx[HARNESS_CTX_MAX])
{
    uint8_t *data = harness_pattern(len, seed);
    assert_true(harness_put_block(s, auth, data, len, index, len, ctx));
    free(data);
}

static long mkblk_status(harness_server_t *s, const char *auth, size_t len)
{
    uint8_t *data = harness_pattern(len, 7);
    harness_upload_response_t r;
    assert_true(harness_mkblk(s, auth, (int64_t)len, 0, data, len, &r));
    long status = r.status;
    if (status != 200)
        print_message("  mkblk of %zu bytes -> %ld %s\n", len, status, r.body);
    harness_upload_response_free(&r);
    free(data);
    return status;
}

static const char *video_status(harness_server_t *s, const char *video_id, json_t **keep)
{
    harness_response_t r;
    assert_true(harness_video_info(s, NULL, video_id, &r));
    assert_int_equal(r.status, 200);
    *keep = json_incref(json_object_get(json_object_get(r.json, "data"), "status"));
    harness_response_free(&r);
    return json_string_value(*keep);
}

static void assert_not_uploaded(harness_server_t *s, const harness_grant_t *g)
{
    json_t *keep = NULL;
    const char *status = video_status(s, g->video_id, &keep);
    print_message("  getVideoInfo: status %s\n", status);
    assert_true(strcmp(status, "created") == 0 || strcmp(status, "uploading") == 0 ||
                strcmp(status, "failed") == 0);
    json_decref(keep);
    harness_upload_response_t r;
    assert_true(harness_playback(s, "GET", g->file_key, NULL, &r));
    assert_int_equal(r.status, 404);
    harness_upload_response_free(&r);
}

/* ---- 1. disk room tracks the bytes received ------------------------------------ */

static void test_small_chunk_of_large_block_holds_little(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(srv, NULL, &g);
    char *auth = auth_of(g.token);
    uint8_t byte = 'x';
    harness_upload_response_t r;
    print_message("  mkblk of a 1 GiB block with 1 byte -> 200, and the block holds about 1 byte of disk\n");
    assert_true(harness_mkblk(srv, auth, GIB, 0, &byte, 1, &r));
    assert_upload_status(&r, 200);
    harness_upload_response_free(&r);
    assert_true(disk_drops_to(srv, "blocks", 64 * 1024));
    free(auth);
}

static void test_client_leaving_gives_room_back(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(srv, NULL, &g);
    char *auth = auth_of(g.token);
    char *head = harness_strf("POST /mkblk/%lld/0 HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n"
                              "Content-Type: application/octet-stream\r\nContent-Length: %lld\r\n\r\n",
                              GIB, srv->host, auth, GIB);
    uint8_t *some = harness_pattern(256 * 1024, 3);
    int64_t before = disk_used(srv, "blocks"); /* other tests' blocks */
    print_message("  mkblk declaring 1 GiB sends 256 KiB: the server holds far less than 1 GiB meanwhile\n");
    int fd = raw_send(srv, head, some, 256 * 1024);
    usleep(300 * 1000);
    assert_true(disk_used(srv, "blocks") - before < 32 * MIB);
    print_message("  the client leaves: the unacknowledged block and its room go\n");
    close(fd);
    assert_true(disk_drops_to(srv, "blocks", before));
    free(some);
    free(head);
    free(auth);
}

/* ---- 1. the staging quota -------------------------------------------------------- */

static void test_staging_quota(void **state)
{
    (void)state;
    static const char *const limits[] = {"--max-staged-per-token", "8388608", "--max-staged-per-account", "12582912",
                                         NULL};
    harness_server_t *q = harness_server_start(limits);
    assert_non_null(q);
    harness_grant_t a, b, c;
    grant_ok(q, NULL, &a);
    grant_ok(q, NULL, &b);
    char *auth_a = auth_of(a.token), *auth_b = auth_of(b.token);
    char ctx1[HARNESS_CTX_MAX], ctx2[HARNESS_CTX_MAX], ctx3[HARNESS_CTX_MAX];
    print_message("  token A: two 4 MiB blocks, then a third -> 413 (per token, 8 MiB)\n");
    put_block_ok(q, auth_a, 4 * MIB, 0, 1, ctx1);
    put_block_ok(q, auth_a, 4 * MIB, 1, 2, ctx2);
    assert_int_equal(mkblk_status(q, auth_a, 4 * MIB), 413);
    print_message("  token B of the same account: one block, then -> 413 (per account, 12 MiB)\n");
    put_block_ok(q, auth_b, 4 * MIB, 0, 3, ctx3);
    assert_int_equal(mkblk_status(q, auth_b, 4 * MIB), 413);

    print_message("  another account is not held up\n");
    harness_key_t other;
    assert_true(harness_admin_key_create(q, "other", &other));
    grant_ok(q, &(harness_grant_opts_t){.key = &other}, &c);
    char *auth_c = auth_of(c.token);
    assert_int_equal(mkblk_status(q, auth_c, 4 * MIB), 200);

    print_message("  after a restart the blocks still count: B -> 413\n");
    assert_int_equal(harness_server_terminate(q), 0);
    assert_true(harness_server_restart(q, limits));
    assert_int_equal(mkblk_status(q, auth_b, 4 * MIB), 413);

    print_message("  mkfile of A's blocks gives their room back: B -> 200\n");
    char *list = harness_strf("%s,%s", ctx1, ctx2);
    harness_upload_response_t r;
    assert_true(harness_mkfile(q, auth_a, 8 * MIB, NULL, list, NULL, &r));
    assert_upload_status(&r, 200);
    harness_upload_response_free(&r);
    assert_int_equal(mkblk_status(q, auth_b, 4 * MIB), 200);
    free(list);
    free(auth_a);
    free(auth_b);
    free(auth_c);
    assert_int_equal(harness_server_finish(q), 0);
}

/* ---- 2. a block once per file ------------------------------------------------------ */

static void test_block_listed_twice(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(srv, NULL, &g);
    char *auth = auth_of(g.token);
    char ctx[HARNESS_CTX_MAX];
    put_block_ok(srv, auth, 4096, -1, 11, ctx);
    char *list = harness_strf("%s,%s,%s", ctx, ctx, ctx);
    harness_upload_response_t r;
    print_message("  mkfile listing one 4 KiB block three times as a 12 KiB file -> 400\n");
    assert_true(harness_mkfile(srv, auth, 3 * 4096, NULL, list, NULL, &r));
    assert_upload_error(&r, 400);
    assert_non_null(strstr(r.body, "more than once"));
    harness_upload_response_free(&r);
    assert_not_uploaded(srv, &g);
    print_message("  the block alone still makes the file\n");
    assert_true(harness_mkfile(srv, auth, 4096, NULL, ctx, NULL, &r));
    assert_upload_status(&r, 200);
    harness_upload_response_free(&r);
    free(list);
    free(auth);
}

/* ---- 5. form bytes before the token ------------------------------------------------- */

static void form_file_first(harness_server_t *s, const harness_grant_t *g, const void *data, size_t len,
                            harness_upload_response_t *r)
{
    harness_form_part_t parts[] = {
        {.name = "file", .data = data, .len = len, .filename = "clip.mp4"},
        {.name = "token", .data = g->token},
    };
    assert_true(harness_form_post(s, &(harness_form_t){.parts = parts, .count = 2}, r));
}

static void test_preauth_spool_per_request(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(srv, NULL, &g);
    size_t len = 9 * MIB;
    uint8_t *data = harness_pattern(len, 21);
    harness_upload_response_t r;
    print_message("  a 9 MiB file part before the token -> 401 (preauth-spool 8 MiB), nothing staged\n");
    form_file_first(srv, &g, data, len, &r);
    assert_upload_error(&r, 401);
    assert_non_null(strstr(r.body, "before the token"));
    harness_upload_response_free(&r);
    assert_true(disk_drops_to(srv, "staging", 0));
    assert_not_uploaded(srv, &g);
    print_message("  100 KiB before the token (the browser SDK's order) -> 200\n");
    form_file_first(srv, &g, data, 100 * 1024, &r);
    assert_upload_status(&r, 200);
    harness_upload_response_free(&r);
    print_message("  9 MiB with the token first -> 200\n");
    grant_ok(srv, NULL, &g);
    assert_true(harness_form_upload(srv, g.token, data, len, &r));
    assert_upload_status(&r, 200);
    harness_upload_response_free(&r);
    free(data);
}

static void test_preauth_spool_total(void **state)
{
    (void)state;
    static const char *const limits[] = {"--preauth-spool", "1048576", "--preauth-spool-total", "1048576", NULL};
    harness_server_t *q = harness_server_start(limits);
    assert_non_null(q);
    harness_grant_t g;
    grant_ok(q, NULL, &g);
    print_message("  one request holds 800 KiB of file before its token and waits\n");
    char *head = harness_strf("POST /file/upload HTTP/1.1\r\nHost: %s\r\n"
                              "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 9000000\r\n\r\n"
                              "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n\r\n",
                              q->host);
    uint8_t *data = harness_pattern(800 * 1024, 5);
    int fd = raw_send(q, head, data, 800 * 1024);
    usleep(300 * 1000);
    print_message("  a second one with 500 KiB before its token -> 503\n");
    harness_upload_response_t r;
    form_file_first(q, &g, data, 500 * 1024, &r);
    assert_upload_error(&r, 503);
    harness_upload_response_free(&r);
    print_message("  the first leaves: the second goes through\n");
    close(fd);
    usleep(300 * 1000);
    form_file_first(q, &g, data, 500 * 1024, &r);
    assert_upload_status(&r, 200);
    harness_upload_response_free(&r);
    free(data);
    free(head);
    assert_int_equal(harness_server_finish(q), 0);
}

/* ---- 8. the registered fileSize ---------------------------------------------------- */

static void test_file_size_form(void **state)
{
    (void)state;
    uint8_t six[6] = "abcdef";
    harness_upload_response_t r;
    harness_grant_t g;
    print_message("  fileSize 0, a 6-byte form upload -> 413\n");
    grant_ok(srv, &(harness_grant_opts_t){.file_size = "0"}, &g);
    assert_true(harness_form_upload(srv, g.token, six, 6, &r));
    assert_upload_error(&r, 413);
    harness_upload_response_free(&r);
    assert_not_uploaded(srv, &g);
    print_message("  fileSize 3, a 2-byte form upload -> 400\n");
    grant_ok(srv, &(harness_grant_opts_t){.file_size = "3"}, &g);
    assert_true(harness_form_upload(srv, g.token, six, 2, &r));
    assert_upload_error(&r, 400);
    assert_non_null(strstr(r.body, "fileSize"));
    harness_upload_response_free(&r);
    assert_not_uploaded(srv, &g);
    print_message("  fileSize 3, 3 bytes -> 200\n");
    assert_true(harness_form_upload(srv, g.token, six, 3, &r));
    assert_upload_status(&r, 200);
    harness_upload_response_free(&r);
}

static void test_file_size_blocks(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(srv, &(harness_grant_opts_t){.file_size = "1000"}, &g);
    char *auth = auth_of(g.token);
    print_message("  fileSize 1000: mkblk of a 2000-byte block -> 413\n");
    assert_int_equal(mkblk_status(srv, auth, 2000), 413);
    print_message("  a 900-byte block, mkfile of 900 -> 400, not uploaded\n");
    char ctx[HARNESS_CTX_MAX];
    put_block_ok(srv, auth, 900, 0, 4, ctx);
    harness_upload_response_t r;
    assert_true(harness_mkfile(srv, auth, 900, NULL, ctx, NULL, &r));
    assert_upload_error(&r, 400);
    harness_upload_response_free(&r);
    assert_not_uploaded(srv, &g);
    free(auth);
}

/* ---- 12. one file part -------------------------------------------------------------- */

static void test_two_file_parts(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(srv, NULL, &g);
    harness_form_part_t parts[] = {
        {.name = "token", .data = g.token},
        {.name = "file", .data = "first", .len = 5, .filename = "a.mp4"},
        {.name = "file", .data = "second", .len = 6, .filename = "b.mp4"},
    };
    harness_upload_response_t r;
    print_message("  token, file, file -> 400, nothing published\n");
    assert_true(harness_form_post(srv, &(harness_form_t){.parts = parts, .count = 3}, &r));
    assert_upload_error(&r, 400);
    harness_upload_response_free(&r);
    assert_not_uploaded(srv, &g);
    print_message("  file, file, token -> 400\n");
    harness_form_part_t late[] = {parts[1], parts[2], parts[0]};
    assert_true(harness_form_post(srv, &(harness_form_t){.parts = late, .count = 3}, &r));
    assert_upload_error(&r, 400);
    harness_upload_response_free(&r);
    assert_not_uploaded(srv, &g);
    assert_true(disk_drops_to(srv, "staging", 0));
}

/* A part without a name crashed the server (a NULL field name, found by
 * fuzz_form_upload): an unauthenticated request that stopped the service. */
static void test_nameless_part(void **state)
{
    (void)state;
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; filename=\"a.mp4\"\r\n\r\nabc\r\n--XyZ--\r\n";
    char *head = harness_strf("POST /file/upload HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                              "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: %zu\r\n\r\n",
                              srv->host, sizeof(body) - 1);
    print_message("  a form part without a name -> 400, and the server lives on\n");
    int fd = raw_send(srv, head, body, sizeof(body) - 1);
    char answer[64] = {0};
    assert_true(recv(fd, answer, sizeof(answer) - 1, MSG_WAITALL) > 12);
    close(fd);
    assert_non_null(strstr(answer, "HTTP/1.1 400"));
    harness_grant_t g;
    grant_ok(srv, NULL, &g);
    free(head);
}

static int group_setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    return harness_server_finish(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_chunk_of_large_block_holds_little),
        cmocka_unit_test(test_client_leaving_gives_room_back),
        cmocka_unit_test(test_staging_quota),
        cmocka_unit_test(test_block_listed_twice),
        cmocka_unit_test(test_preauth_spool_per_request),
        cmocka_unit_test(test_preauth_spool_total),
        cmocka_unit_test(test_file_size_form),
        cmocka_unit_test(test_file_size_blocks),
        cmocka_unit_test(test_two_file_parts),
        cmocka_unit_test(test_nameless_part),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
