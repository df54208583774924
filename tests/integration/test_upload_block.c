/*
 * test_upload_block: the slice (breakpoint-resume) upload, mkblk / bput /
 * mkfile, against a real `vodup serve` (../shared/spec/upload-protocol.md
 * sections 1-3, 5-8; docs/upload.md "What vodup decides").
 *
 * Covered: a 3-block file in 1 MiB chunks with every answer checked
 * (offset, crc32, checksum, ctx shape); blocks out of order and in
 * parallel; the accepted request shapes (no Content-Type, query string, no
 * index, UploadBatch, mkfile Content-Types); 701 on offset and ctx
 * mismatches; 401 on a bad ctx at mkfile; 412 on every wrong ctx list;
 * 400 on block-size violations; both Authorization forms and the token
 * errors; 413 from fsizeLimit and max-upload-size; 406 and overwrite;
 * resume with a fresh token; the scope key winning over Key; mimeType;
 * chunk retry; fileMd5; a ctx surviving a server restart.
 *
 * One server serves most tests (it is restarted once); a second one runs
 * with small --max-block-size and --max-upload-size.  About 50 MiB are
 * uploaded in all.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#define MIB HARNESS_MIB
#define BLOCK (4 * MIB)
#define HOUR_MS (3600 * 1000LL)
#define MD5_MISMATCH "The uploaded content does not match fileMd5."

static harness_server_t *srv;

/* ---- helpers -------------------------------------------------------------- */

static void grant_ok(const harness_grant_opts_t *o, harness_grant_t *g)
{
    assert_true(harness_grant(srv, o, g));
}

/* "UpToken <token>"; malloc'd. */
static char *auth_of(const char *token)
{
    char *a = harness_uptoken(token);
    assert_non_null(a);
    return a;
}

/* A token the account owner mints for the grant's key; malloc'd. */
static char *mint_for(const harness_grant_t *g, int64_t deadline_ms, const char *extra)
{
    char *scope = harness_strf("%s:%s", g->bucket, g->file_key);
    char *token = harness_mint_policy(srv, NULL, scope, deadline_ms, extra);
    free(scope);
    assert_non_null(token);
    return token;
}

/*
 * One block (data, len) as mkblk plus bputs of `chunk` bytes, with every
 * answer asserted; the last ctx goes to ctx.
 */
static void put_block_checked(harness_server_t *s, const char *auth, const uint8_t *data, size_t len, int64_t index,
                              size_t chunk, char ctx[HARNESS_CTX_MAX])
{
    harness_upload_response_t r;
    harness_block_answer_t a;
    size_t n = len < chunk ? len : chunk;
    assert_true(harness_mkblk(s, auth, (int64_t)len, index, data, n, &r));
    assert_block_ok(&r, data, n, (int64_t)n, &a);
    harness_upload_response_free(&r);
    for (size_t pos = n; pos < len; pos += n) {
        n = len - pos < chunk ? len - pos : chunk;
        assert_true(harness_bput(s, auth, a.ctx, (int64_t)pos, data + pos, n, &r));
        assert_block_ok(&r, data + pos, n, (int64_t)(pos + n), &a);
        harness_upload_response_free(&r);
    }
    memcpy(ctx, a.ctx, HARNESS_CTX_MAX);
}

/* mkblk of a first chunk that must succeed; its answer goes to *a. */
static void mkblk_ok(const char *auth, int64_t block_size, int64_t index, const uint8_t *data, size_t len,
                     harness_block_answer_t *a)
{
    harness_upload_response_t r;
    assert_true(harness_mkblk(srv, auth, block_size, index, data, len, &r));
    assert_block_ok(&r, data, len, (int64_t)len, a);
    harness_upload_response_free(&r);
}

/* bput that must succeed, leaving `offset + len` held. */
static void bput_ok(const char *auth, const char *ctx, int64_t offset, const uint8_t *data, size_t len,
                    harness_block_answer_t *a)
{
    harness_upload_response_t r;
    assert_true(harness_bput(srv, auth, ctx, offset, data, len, &r));
    assert_block_ok(&r, data, len, offset + (int64_t)len, a);
    harness_upload_response_free(&r);
}

/* mkfile that must succeed with the etag of data and the grant's key. */
static void mkfile_ok(harness_server_t *s, const char *auth, const harness_grant_t *g, const uint8_t *data, size_t len,
                      const char *ctx_list)
{
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, len, etag);
    harness_upload_response_t r;
    assert_true(harness_mkfile(s, auth, (int64_t)len, NULL, ctx_list, NULL, &r));
    assert_mkfile_ok(&r, etag, g->file_key);
    harness_upload_response_free(&r);
}

static void mkfile_error(const char *auth, int64_t size, const char *ctx_list, long status)
{
    harness_upload_response_t r;
    assert_true(harness_mkfile(srv, auth, size, NULL, ctx_list, NULL, &r));
    print_message("    mkfile -> %ld %s\n", r.status, r.body);
    assert_upload_error(&r, status);
    harness_upload_response_free(&r);
}

static void bput_error(const char *auth, const char *ctx, int64_t offset, const uint8_t *data, size_t len, long status)
{
    harness_upload_response_t r;
    assert_true(harness_bput(srv, auth, ctx, offset, data, len, &r));
    print_message("    bput -> %ld %s\n", r.status, r.body);
    assert_upload_error(&r, status);
    harness_upload_response_free(&r);
}

/* A copy of `s` with one character in its middle changed (within the url-safe alphabet). */
static char *flip_middle(const char *s)
{
    char *t = strdup(s);
    assert_non_null(t);
    size_t n = strlen(t);
    assert_true(n > 2);
    char *p = t + n / 2;
    *p = *p == 'A' ? 'B' : 'A';
    return t;
}

static void check_published(harness_server_t *s, const harness_grant_t *g, const uint8_t *data, size_t len,
                            const char *mime)
{
    harness_response_t info;
    assert_uploaded(s, NULL, g->video_id, data, len, mime, &info);
    harness_response_free(&info);
    assert_playback(s, g->file_key, data, len);
}

/* ---- whole files ------------------------------------------------------------ */

static void test_three_blocks_in_chunks(void **state)
{
    (void)state;
    const size_t sizes[3] = {BLOCK, BLOCK, 1 * MIB};
    size_t len = sizes[0] + sizes[1] + sizes[2];
    uint8_t *data = harness_pattern(len, 1);
    harness_grant_t g;
    grant_ok(NULL, &g);
    char *auth = auth_of(g.token);
    char ctx[3][HARNESS_CTX_MAX];
    size_t off = 0;
    for (int b = 0; b < 3; b++) {
        print_message("  block %d: %zu bytes in 1 MiB chunks\n", b, sizes[b]);
        put_block_checked(srv, auth, data + off, sizes[b], b, MIB, ctx[b]);
        off += sizes[b];
    }
    char *list = harness_strf("%s,%s,%s", ctx[0], ctx[1], ctx[2]);
    mkfile_ok(srv, auth, &g, data, len, list);
    check_published(srv, &g, data, len, "video/mp4");
    free(list);
    free(auth);
    free(data);
}

/* The accepted shapes of mkblk and mkfile requests, each finishing a small file. */
static void test_request_shapes(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        int mkblk_path;             /* 0: /mkblk/<size>/0, 1: with a query string, 2: without index */
        const char *mkblk_type;     /* NULL: no Content-Type */
        const char *header;         /* one more header on every request, or NULL */
        const char *mkfile_type;    /* NULL: no Content-Type */
        bool bare_token;            /* Authorization: <token> instead of UpToken <token> */
    } cases[] = {
        {"octet-stream, text/plain", 0, "application/octet-stream", NULL, "text/plain", false},
        {"no Content-Type anywhere", 0, NULL, NULL, NULL, false},
        {"mkfile text/plain; charset=utf-8", 0, NULL, NULL, "text/plain; charset=utf-8", false},
        {"mkblk with a query string", 1, NULL, NULL, "text/plain", false},
        {"mkblk without a block index", 2, "application/octet-stream", NULL, "text/plain", false},
        {"UploadBatch header", 0, NULL, "UploadBatch: batch-1234 any text", "text/plain", false},
        {"Authorization: <token>", 0, NULL, NULL, "text/plain", true},
        {"Connection: close", 0, NULL, "Connection: close", "text/plain", false},
        {"Origin header", 0, NULL, "Origin: https://app.example", "text/plain", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s\n", cases[i].what);
        harness_grant_t g;
        grant_ok(NULL, &g);
        char *auth = cases[i].bare_token ? strdup(g.token) : auth_of(g.token);
        size_t len = 1500 + i;
        uint8_t *data = harness_pattern(len, 10 + (uint32_t)i);
        char path[128];
        if (cases[i].mkblk_path == 0)
            snprintf(path, sizeof(path), "/mkblk/%zu/0", len);
        else if (cases[i].mkblk_path == 1)
            snprintf(path, sizeof(path), "/mkblk/%zu/0?name=x&chunk=1", len);
        else
            snprintf(path, sizeof(path), "/mkblk/%zu", len);
        const char *const headers[] = {cases[i].header, NULL};
        harness_upload_request_t req = {.path = path,
                                        .body = data,
                                        .body_len = len,
                                        .authorization = auth,
                                        .content_type = cases[i].mkblk_type,
                                        .headers = cases[i].header ? headers : NULL};
        harness_upload_response_t r;
        harness_block_answer_t a;
        assert_true(harness_upload_send(srv, &req, &r));
        assert_block_ok(&r, data, len, (int64_t)len, &a);
        if (cases[i].header && strcmp(cases[i].header, "Connection: close") == 0)
            assert_true(harness_list_has(harness_header(&r, "Connection"), "close"));
        if (cases[i].header && strncmp(cases[i].header, "Origin:", 7) == 0)
            assert_non_null(harness_header(&r, "Access-Control-Allow-Origin"));
        harness_upload_response_free(&r);

        char mkfile_path[64];
        snprintf(mkfile_path, sizeof(mkfile_path), "/mkfile/%zu", len);
        harness_upload_request_t mk = {.path = mkfile_path,
                                       .body = a.ctx,
                                       .body_len = strlen(a.ctx),
                                       .authorization = auth,
                                       .content_type = cases[i].mkfile_type,
                                       .headers = cases[i].header ? headers : NULL};
        assert_true(harness_upload_send(srv, &mk, &r));
        char etag[HARNESS_ETAG_LEN + 1];
        harness_etag(data, len, etag);
        assert_mkfile_ok(&r, etag, g.file_key);
        if (cases[i].header && strcmp(cases[i].header, "Connection: close") == 0)
            assert_true(harness_list_has(harness_header(&r, "Connection"), "close"));
        harness_upload_response_free(&r);
        check_published(srv, &g, data, len, NULL);
        free(data);
        free(auth);
    }
}

/* crc32 is the unsigned decimal, also above 2^31; checksum the chunk's MD5. */
static void test_block_answer_members(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(NULL, &g);
    char *auth = auth_of(g.token);
    size_t len = 100000, first = 40000;
    uint8_t *data = NULL;
    for (uint32_t seed = 1; !data; seed++) {
        data = harness_pattern(len, seed);
        if (harness_crc32(data, first) < 0x80000000u) {
            free(data);
            data = NULL;
        }
    }
    uint32_t crc = harness_crc32(data, first);
    harness_upload_response_t r;
    harness_block_answer_t a;
    assert_true(harness_mkblk(srv, auth, (int64_t)len, 0, data, first, &r));
    print_message("  mkblk answer %s (local crc32 %u)\n", r.body, crc);
    assert_block_ok(&r, data, first, (int64_t)first, &a);
    char digits[16];
    snprintf(digits, sizeof(digits), "%u", crc);
    assert_non_null(strstr(r.body, digits));
    harness_upload_response_free(&r);
    harness_block_answer_t b;
    bput_ok(auth, a.ctx, (int64_t)first, data + first, len - first, &b);
    mkfile_ok(srv, auth, &g, data, len, b.ctx);
    free(data);
    free(auth);
}

static void test_blocks_out_of_order(void **state)
{
    (void)state;
    const size_t sizes[3] = {BLOCK, BLOCK, 3000};
    const size_t offs[3] = {0, BLOCK, 2 * BLOCK};
    size_t len = sizes[0] + sizes[1] + sizes[2];
    uint8_t *data = harness_pattern(len, 2);
    harness_grant_t g;
    grant_ok(NULL, &g);
    char *auth = auth_of(g.token);
    char ctx[3][HARNESS_CTX_MAX];
    static const int order[3] = {2, 0, 1};
    for (int k = 0; k < 3; k++) {
        int b = order[k];
        print_message("  block %d\n", b);
        put_block_checked(srv, auth, data + offs[b], sizes[b], b, 2 * MIB, ctx[b]);
    }
    char *list = harness_strf("%s,%s,%s", ctx[0], ctx[1], ctx[2]);
    mkfile_ok(srv, auth, &g, data, len, list);
    check_published(srv, &g, data, len, NULL);
    free(list);
    free(auth);
    free(data);
}

typedef struct block_job {
    harness_server_t *s;
    const char *auth;
    const uint8_t *data;
    size_t len;
    int64_t index;
    char ctx[HARNESS_CTX_MAX];
    bool ok;
} block_job_t;

static void *block_job_run(void *arg)
{
    block_job_t *j = arg;
    j->ok = harness_put_block(j->s, j->auth, j->data, j->len, j->index, 512 * 1024, j->ctx);
    return NULL;
}

static void test_blocks_in_parallel(void **state)
{
    (void)state;
    const size_t sizes[3] = {BLOCK, BLOCK, MIB / 2};
    size_t len = sizes[0] + sizes[1] + sizes[2];
    uint8_t *data = harness_pattern(len, 3);
    harness_grant_t g;
    grant_ok(NULL, &g);
    char *auth = auth_of(g.token);
    block_job_t jobs[3];
    pthread_t threads[3];
    size_t off = 0;
    for (int b = 0; b < 3; b++) {
        jobs[b] = (block_job_t){.s = srv, .auth = auth, .data = data + off, .len = sizes[b], .index = b};
        off += sizes[b];
    }
    /* Started last block first, so that the server sees them interleaved and out of order. */
    for (int b = 2; b >= 0; b--)
        assert_int_equal(pthread_create(&threads[b], NULL, block_job_run, &jobs[b]), 0);
    for (int b = 0; b < 3; b++)
        pthread_join(threads[b], NULL);
    for (int b = 0; b < 3; b++) {
        print_message("  block %d in parallel: %s\n", b, jobs[b].ok ? "ok" : "FAILED (see stderr)");
        assert_true(jobs[b].ok);
    }
    char *list = harness_strf("%s,%s,%s", jobs[0].ctx, jobs[1].ctx, jobs[2].ctx);
    mkfile_ok(srv, auth, &g, data, len, list);
    check_published(srv, &g, data, len, NULL);
    free(list);
    free(auth);
    free(data);
}

/* ---- ctx and offset rules ----------------------------------------------------- */

static void test_bput_offset_mismatch(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(NULL, &g);
    char *auth = auth_of(g.token);
    size_t len = 300000, chunk = 100000;
    uint8_t *data = harness_pattern(len, 4);
    harness_block_answer_t a, b, c;
    mkblk_ok(auth, (int64_t)len, 0, data, chunk, &a);
    static const int64_t wrong[] = {0, 99999, 100001, 200000, 300000};
    for (size_t i = 0; i < sizeof(wrong) / sizeof(wrong[0]); i++) {
        print_message("  bput at offset %lld, the ctx holds 100000 -> 701\n", (long long)wrong[i]);
        bput_error(auth, a.ctx, wrong[i], data + chunk, chunk, 701);
    }
    /* The block is unharmed: it continues at the right offset. */
    bput_ok(auth, a.ctx, (int64_t)chunk, data + chunk, chunk, &b);
    print_message("  a stale ctx after a newer chunk, at a wrong offset -> 701\n");
    bput_error(auth, b.ctx, (int64_t)chunk, data + chunk, chunk, 701);
    bput_ok(auth, b.ctx, 2 * (int64_t)chunk, data + 2 * chunk, chunk, &c);
    mkfile_ok(srv, auth, &g, data, len, c.ctx);
    check_published(srv, &g, data, len, NULL);
    free(data);
    free(auth);
}

static void test_bad_ctx(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(NULL, &g);
    char *auth = auth_of(g.token);
    size_t len = 200000, chunk = 100000;
    uint8_t *data = harness_pattern(len, 5);
    harness_block_answer_t a, b;
    mkblk_ok(auth, (int64_t)len, 0, data, chunk, &a);
    char *tampered = flip_middle(a.ctx);
    print_message("  bput with a tampered ctx (%s) -> 701\n", tampered);
    bput_error(auth, tampered, (int64_t)chunk, data + chunk, chunk, 701);
    print_message("  bput with a made-up ctx -> 701\n");
    bput_error(auth, "bm90LWEtY3R4", (int64_t)chunk, data + chunk, chunk, 701);

    bput_ok(auth, a.ctx, (int64_t)chunk, data + chunk, chunk, &b);
    char *tampered_final = flip_middle(b.ctx);
    print_message("  mkfile with a tampered ctx of a complete block -> 401\n");
    mkfile_error(auth, (int64_t)len, tampered_final, 401);
    print_message("  mkfile with a made-up ctx -> 401\n");
    mkfile_error(auth, (int64_t)len, "bm90LWEtY3R4", 401);
    mkfile_ok(srv, auth, &g, data, len, b.ctx);
    check_published(srv, &g, data, len, NULL);
    free(tampered_final);
    free(tampered);
    free(data);
    free(auth);
}

static void test_mkfile_wrong_lists(void **state)
{
    (void)state;
    const size_t sizes[3] = {BLOCK, BLOCK, 1000};
    size_t len = sizes[0] + sizes[1] + sizes[2];
    uint8_t *data = harness_pattern(len, 6);
    uint8_t *other = harness_pattern(1000, 66);
    harness_grant_t g, og;
    grant_ok(NULL, &g);
    grant_ok(NULL, &og);
    char *auth = auth_of(g.token), *oauth = auth_of(og.token);
    char c0[HARNESS_CTX_MAX], c1[HARNESS_CTX_MAX], c2[HARNESS_CTX_MAX], foreign[HARNESS_CTX_MAX];
    harness_block_answer_t partial, done;
    put_block_checked(srv, auth, data, sizes[0], 0, BLOCK, c0);
    mkblk_ok(auth, (int64_t)sizes[1], 1, data + BLOCK, MIB, &partial);
    put_block_checked(srv, auth, data + 2 * BLOCK, sizes[2], 2, sizes[2], c2);
    /* A complete block of the same size and index, of another upload. */
    put_block_checked(srv, oauth, other, 1000, 2, 1000, foreign);

    char *list = harness_strf("%s,%s,%s", c0, partial.ctx, c2);
    print_message("  a ctx of an incomplete block -> 412\n");
    mkfile_error(auth, (int64_t)len, list, 412);
    free(list);

    bput_ok(auth, partial.ctx, MIB, data + BLOCK + MIB, BLOCK - MIB, &done);
    memcpy(c1, done.ctx, sizeof(c1));

    struct {
        const char *what;
        char *list;
        int64_t size;
    } cases[] = {
        {"short list (sizes do not sum to fileSize)", harness_strf("%s,%s", c0, c1), (int64_t)len},
        {"fileSize one more than the blocks", harness_strf("%s,%s,%s", c0, c1, c2), (int64_t)len + 1},
        {"fileSize one less than the blocks", harness_strf("%s,%s,%s", c0, c1, c2), (int64_t)len - 1},
        {"blocks 0 and 1 swapped", harness_strf("%s,%s,%s", c1, c0, c2), (int64_t)len},
        {"block 0 twice", harness_strf("%s,%s,%s", c0, c0, c2), (int64_t)BLOCK * 2 + 1000},
        {"a ctx of another upload (foreign fileKey)", harness_strf("%s,%s,%s", c0, c1, foreign), (int64_t)len},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s -> 412\n", cases[i].what);
        mkfile_error(auth, cases[i].size, cases[i].list, 412);
        free(cases[i].list);
    }
    /* None of that used the blocks up. */
    list = harness_strf("%s,%s,%s", c0, c1, c2);
    mkfile_ok(srv, auth, &g, data, len, list);
    check_published(srv, &g, data, len, NULL);
    free(list);
    free(auth);
    free(oauth);
    free(other);
    free(data);
}

static void test_chunk_retry(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        /* 0: resend the last chunk; 1: resend after the block completed; 2: resend corrected bytes;
         * 3: correct a block that was completed (and hashed in the background) with wrong bytes */
        int kind;
    } cases[] = {
        {"the answer to chunk 2 was lost: send it again with the ctx before it", 0},
        {"after the block completed, send chunks 2 and 3 again from the ctx after chunk 1", 1},
        {"chunk 2 went wrong: send the right bytes with the ctx before it", 2},
        {"the block completed with a wrong chunk 3 and was hashed: send 2 and 3 again", 3},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s\n", cases[i].what);
        harness_grant_t g;
        grant_ok(NULL, &g);
        char *auth = auth_of(g.token);
        size_t len = 300000, chunk = 100000;
        uint8_t *data = harness_pattern(len, 70 + (uint32_t)i);
        uint8_t *junk = harness_pattern(chunk, 99);
        harness_block_answer_t a1, a2, a3;
        mkblk_ok(auth, (int64_t)len, 0, data, chunk, &a1);
        if (cases[i].kind == 0) {
            bput_ok(auth, a1.ctx, (int64_t)chunk, data + chunk, chunk, &a2); /* answer "lost" */
        } else if (cases[i].kind == 1) {
            bput_ok(auth, a1.ctx, (int64_t)chunk, data + chunk, chunk, &a2);
            bput_ok(auth, a2.ctx, 2 * (int64_t)chunk, data + 2 * chunk, chunk, &a3);
        } else if (cases[i].kind == 2) {
            bput_ok(auth, a1.ctx, (int64_t)chunk, junk, chunk, &a2);
        } else {
            bput_ok(auth, a1.ctx, (int64_t)chunk, data + chunk, chunk, &a2);
            bput_ok(auth, a2.ctx, 2 * (int64_t)chunk, junk, chunk, &a3);
            /* Time for the digest thread to hash the wrong block: mkfile must not use that. */
            nanosleep(&(struct timespec){.tv_nsec = 300 * 1000 * 1000}, NULL);
        }
        /* The retry: cut back to a1's offset, continue from there. */
        bput_ok(auth, a1.ctx, (int64_t)chunk, data + chunk, chunk, &a2);
        bput_ok(auth, a2.ctx, 2 * (int64_t)chunk, data + 2 * chunk, chunk, &a3);
        mkfile_ok(srv, auth, &g, data, len, a3.ctx);
        check_published(srv, &g, data, len, NULL);
        free(junk);
        free(data);
        free(auth);
    }
}

/* ---- sizes -------------------------------------------------------------------- */

static void test_block_size_rules(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(NULL, &g);
    char *auth = auth_of(g.token);
    uint8_t *data = harness_pattern(200, 8);
    static const struct {
        const char *what;
        const char *path;
        size_t len;
    } cases[] = {
        {"body longer than blockSize", "/mkblk/100/0", 101},
        {"blockSize 0", "/mkblk/0/0", 1},
        {"blockSize not a number", "/mkblk/abc/0", 10},
        {"blockSize negative", "/mkblk/-100/0", 10},
        {"empty body", "/mkblk/100/0", 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  mkblk: %s (%s, %zu bytes) -> 400\n", cases[i].what, cases[i].path, cases[i].len);
        harness_upload_request_t req = {.path = cases[i].path, .body = data, .body_len = cases[i].len,
                                        .authorization = auth};
        harness_upload_response_t r;
        assert_true(harness_upload_send(srv, &req, &r));
        print_message("    mkblk -> %ld %s\n", r.status, r.body);
        assert_upload_error(&r, 400);
        harness_upload_response_free(&r);
    }

    print_message("  bput past the end of the block -> 400; up to the end -> 200\n");
    harness_block_answer_t a, b;
    mkblk_ok(auth, 100, 0, data, 90, &a);
    bput_error(auth, a.ctx, 90, data + 90, 11, 400);
    bput_ok(auth, a.ctx, 90, data + 90, 10, &b);
    print_message("  bput on a complete block -> 400\n");
    bput_error(auth, b.ctx, 100, data + 100, 1, 400);
    mkfile_ok(srv, auth, &g, data, 100, b.ctx);
    free(data);
    free(auth);
}

/* A server with --max-block-size 4194304 --max-upload-size 4194304. */
static void test_server_size_limits(void **state)
{
    (void)state;
    static const char *const args[] = {"--max-block-size", "4194304", "--max-upload-size", "4194304", NULL};
    harness_server_t *s2 = harness_server_start(args);
    assert_non_null(s2);
    harness_grant_t g;
    assert_true(harness_grant(s2, NULL, &g));
    char *auth = auth_of(g.token);
    uint8_t *data = harness_pattern(BLOCK + 1, 9);

    static const int64_t too_big[] = {BLOCK + 1, 2 * BLOCK};
    for (size_t i = 0; i < sizeof(too_big) / sizeof(too_big[0]); i++) {
        print_message("  mkblk blockSize %lld above max-block-size -> 400\n", (long long)too_big[i]);
        harness_upload_response_t r;
        assert_true(harness_mkblk(s2, auth, too_big[i], 0, data, 1000, &r));
        print_message("    mkblk -> %ld %s\n", r.status, r.body);
        assert_upload_error(&r, 400);
        harness_upload_response_free(&r);
    }

    print_message("  blocks of exactly max-block-size and 1 byte; mkfile over max-upload-size -> 413\n");
    char c0[HARNESS_CTX_MAX], c1[HARNESS_CTX_MAX];
    put_block_checked(s2, auth, data, BLOCK, 0, BLOCK, c0);
    put_block_checked(s2, auth, data + BLOCK, 1, 1, 1, c1);
    char *list = harness_strf("%s,%s", c0, c1);
    harness_upload_response_t r;
    assert_true(harness_mkfile(s2, auth, BLOCK + 1, NULL, list, NULL, &r));
    print_message("    mkfile -> %ld %s\n", r.status, r.body);
    assert_upload_error(&r, 413);
    harness_upload_response_free(&r);

    print_message("  mkfile of exactly max-upload-size -> 200\n");
    mkfile_ok(s2, auth, &g, data, BLOCK, c0);
    check_published(s2, &g, data, BLOCK, NULL);
    const char *leak = harness_log_find_secret(s2);
    assert_null(leak);
    assert_int_equal(harness_server_stop(s2), 0);
    free(list);
    free(data);
    free(auth);
}

static void test_mkfile_fsize_limit(void **state)
{
    (void)state;
    harness_grant_t g;
    /* No fileSize registered (test_upload_limits covers that bound): only
     * the token's fsizeLimit applies. */
    grant_ok(NULL, &g);
    size_t len = 2000;
    uint8_t *data = harness_pattern(len, 12);
    /* The block goes up with a token without a limit, so that only mkfile can refuse. */
    char *free_token = mint_for(&g, harness_now_ms() + HOUR_MS, NULL);
    char *free_auth = auth_of(free_token);
    char ctx[HARNESS_CTX_MAX];
    put_block_checked(srv, free_auth, data, len, 0, len, ctx);

    char *auth = auth_of(g.token);
    print_message("  with a minted fsizeLimit 1999 -> 413\n");
    char *t1999 = mint_for(&g, harness_now_ms() + HOUR_MS, ",\"fsizeLimit\":1999");
    char *a1999 = auth_of(t1999);
    mkfile_error(a1999, (int64_t)len, ctx, 413);
    print_message("  with a minted fsizeLimit 2000 -> 200\n");
    char *t2000 = mint_for(&g, harness_now_ms() + HOUR_MS, ",\"fsizeLimit\":2000");
    char *a2000 = auth_of(t2000);
    mkfile_ok(srv, a2000, &g, data, len, ctx);
    check_published(srv, &g, data, len, NULL);
    free(a2000);
    free(t2000);
    free(a1999);
    free(t1999);
    free(auth);
    free(free_auth);
    free(free_token);
    free(data);
}

/* ---- tokens ------------------------------------------------------------------- */

static void test_authorization(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(NULL, &g);
    size_t len = 3000, half = 1500;
    uint8_t *data = harness_pattern(len, 13);
    int64_t now = harness_now_ms();
    char *expired = mint_for(&g, now - 60000, NULL);
    char *scope = harness_strf("%s:video/20200101/0123456789abcdef0123456789abcdef/never.mp4", g.bucket);
    char *unregistered = harness_mint_policy(srv, NULL, scope, now + HOUR_MS, NULL);
    char *no_bucket_scope = harness_strf("no-such-bucket-xyz:%s", g.file_key);
    char *no_bucket = harness_mint_policy(srv, NULL, no_bucket_scope, now + HOUR_MS, NULL);
    char *policy = harness_strf("{\"scope\":\"%s:%s\",\"deadline\":%lld}", g.bucket, g.file_key,
                                (long long)(now + HOUR_MS));
    char *wrong_secret = harness_mint(srv->key.access_key, "not-the-secret-key", policy);
    char *tampered = strdup(g.token);
    char *mid = strchr(tampered, ':') + 5;
    *mid = *mid == 'A' ? 'B' : 'A';

    char *up_expired = auth_of(expired), *up_unregistered = auth_of(unregistered), *up_no_bucket = auth_of(no_bucket),
         *up_wrong = auth_of(wrong_secret), *up_tampered = auth_of(tampered), *up_good = auth_of(g.token);
    const struct {
        const char *what;
        const char *authorization; /* NULL: none */
        long status;
    } cases[] = {
        {"no Authorization", NULL, 401},
        {"UpToken with a malformed token", "UpToken not-a-token", 401},
        {"UpToken with a changed signature", up_tampered, 401},
        {"signed with another secret", up_wrong, 401},
        {"expired token", up_expired, 401},
        {"bare expired token", expired, 401},
        {"scope key never registered", up_unregistered, 401},
        {"scope bucket does not exist", up_no_bucket, 631},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  mkblk, %s -> %ld\n", cases[i].what, cases[i].status);
        harness_upload_response_t r;
        assert_true(harness_mkblk(srv, cases[i].authorization, (int64_t)len, 0, data, half, &r));
        print_message("    mkblk -> %ld %s\n", r.status, r.body);
        assert_upload_error(&r, cases[i].status);
        harness_upload_response_free(&r);
    }

    print_message("  mkblk with UpToken <token> -> 200\n");
    harness_block_answer_t a, b;
    mkblk_ok(up_good, (int64_t)len, 0, data, half, &a);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  bput, %s -> %ld\n", cases[i].what, cases[i].status);
        bput_error(cases[i].authorization, a.ctx, (int64_t)half, data + half, len - half, cases[i].status);
    }
    print_message("  bput with the bare token -> 200\n");
    bput_ok(g.token, a.ctx, (int64_t)half, data + half, len - half, &b);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  mkfile, %s -> %ld\n", cases[i].what, cases[i].status);
        mkfile_error(cases[i].authorization, (int64_t)len, b.ctx, cases[i].status);
    }
    print_message("  mkfile with the bare token -> 200\n");
    mkfile_ok(srv, g.token, &g, data, len, b.ctx);
    check_published(srv, &g, data, len, NULL);

    free(up_expired);
    free(up_unregistered);
    free(up_no_bucket);
    free(up_wrong);
    free(up_tampered);
    free(up_good);
    free(tampered);
    free(wrong_secret);
    free(policy);
    free(no_bucket);
    free(no_bucket_scope);
    free(unregistered);
    free(scope);
    free(expired);
    free(data);
}

static void test_mkfile_overwrite(void **state)
{
    (void)state;
    harness_grant_opts_t o = {.file_id = "block-overwrite-1"};
    harness_grant_t g1, g2, g3;
    grant_ok(&o, &g1);
    grant_ok(&o, &g2);
    assert_string_equal(g1.file_key, g2.file_key);
    size_t len_a = 3000, len_b = 3500;
    uint8_t *a = harness_pattern(len_a, 14), *b = harness_pattern(len_b, 15);
    char *auth1 = auth_of(g1.token), *auth2 = auth_of(g2.token);
    char ca[HARNESS_CTX_MAX], cb[HARNESS_CTX_MAX];
    put_block_checked(srv, auth1, a, len_a, 0, len_a, ca);
    mkfile_ok(srv, auth1, &g1, a, len_a, ca);

    /* B's block goes up with a minted overwrite token, so that only mkfile decides. */
    char *ow = mint_for(&g1, harness_now_ms() + HOUR_MS, ",\"overwrite\":1");
    char *ow_auth = auth_of(ow);
    put_block_checked(srv, ow_auth, b, len_b, 0, len_b, cb);
    print_message("  mkfile with a second token without overwrite -> 406\n");
    mkfile_error(auth2, (int64_t)len_b, cb, 406);
    print_message("  mkfile with the first token again -> 406\n");
    mkfile_error(auth1, (int64_t)len_b, cb, 406);
    assert_playback(srv, g1.file_key, a, len_a);

    print_message("  getUploadToken overwrite=1, mkfile -> 200, B replaces A\n");
    o.overwrite = true;
    grant_ok(&o, &g3);
    char *auth3 = auth_of(g3.token);
    mkfile_ok(srv, auth3, &g1, b, len_b, cb);
    check_published(srv, &g1, b, len_b, NULL);
    free(auth3);
    free(ow_auth);
    free(ow);
    free(auth1);
    free(auth2);
    free(a);
    free(b);
}

static void test_resume_with_fresh_token(void **state)
{
    (void)state;
    harness_grant_opts_t o = {.file_id = "block-resume-1"};
    harness_grant_t g1, g2;
    grant_ok(&o, &g1);
    size_t len = BLOCK + 3000;
    uint8_t *data = harness_pattern(len, 16);
    char *auth1 = auth_of(g1.token);
    harness_block_answer_t a, b;
    print_message("  first token: block 0, chunks 1 and 2 of 4\n");
    mkblk_ok(auth1, BLOCK, 0, data, MIB, &a);
    bput_ok(auth1, a.ctx, MIB, data + MIB, MIB, &b);

    print_message("  the client restarts: getUploadToken with the same fileId, then chunks 3 and 4 and block 1\n");
    grant_ok(&o, &g2);
    assert_string_equal(g2.video_id, g1.video_id);
    assert_string_equal(g2.file_key, g1.file_key);
    char *auth2 = auth_of(g2.token);
    bput_ok(auth2, b.ctx, 2 * MIB, data + 2 * MIB, MIB, &a);
    bput_ok(auth2, a.ctx, 3 * MIB, data + 3 * MIB, MIB, &b);
    char c1[HARNESS_CTX_MAX];
    put_block_checked(srv, auth2, data + BLOCK, 3000, 1, 3000, c1);
    char *list = harness_strf("%s,%s", b.ctx, c1);
    mkfile_ok(srv, auth2, &g1, data, len, list);
    check_published(srv, &g1, data, len, NULL);
    free(list);
    free(auth1);
    free(auth2);
    free(data);
}

/* ---- key, mimeType, fileMd5 ---------------------------------------------------- */

/* A one-block upload of `len` pattern bytes whose mkfile carries the path
 * pairs `suffix` and the header `header` (either may be NULL); it must
 * publish under the token's fileKey with mimeType `mime` (NULL: from the
 * key's extension). */
static void one_block_mkfile(size_t len, uint32_t seed, const char *suffix, const char *header, const char *mime)
{
    harness_grant_t g;
    grant_ok(NULL, &g);
    char *auth = auth_of(g.token);
    uint8_t *data = harness_pattern(len, seed);
    char ctx[HARNESS_CTX_MAX];
    put_block_checked(srv, auth, data, len, 0, len, ctx);
    const char *const headers[] = {header, NULL};
    harness_upload_response_t r;
    assert_true(harness_mkfile(srv, auth, (int64_t)len, suffix, ctx, header ? headers : NULL, &r));
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, len, etag);
    assert_mkfile_ok(&r, etag, g.file_key);
    harness_upload_response_free(&r);
    check_published(srv, &g, data, len, mime);
    free(data);
    free(auth);
}

static void test_scope_key_wins(void **state)
{
    (void)state;
    char *b64 = harness_b64url("elsewhere/other.mp4", strlen("elsewhere/other.mp4"));
    char *key_header = harness_strf("Key: %s", b64);
    char *key_pair = harness_strf("/key/%s", b64);
    const struct {
        const char *what;
        const char *header;
        const char *suffix;
    } cases[] = {
        {"Key header", key_header, NULL},
        {"key path pair", NULL, key_pair},
        {"both", key_header, key_pair},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  mkfile with a %s naming another key -> the scope key\n", cases[i].what);
        one_block_mkfile(1200 + i, 17 + (uint32_t)i, cases[i].suffix, cases[i].header, NULL);
    }
    free(key_pair);
    free(key_header);
    free(b64);
}

static void test_mkfile_mime_type(void **state)
{
    (void)state;
    char *b64 = harness_b64url("video/webm", strlen("video/webm"));
    char *pair = harness_strf("/mimeType/%s", b64);
    const struct {
        const char *what;
        const char *suffix;
        const char *header;
        const char *mime;
    } cases[] = {
        {"mimeType path pair", pair, NULL, "video/webm"},
        {"MimeType header", NULL, "MimeType: video/x-matroska", "video/x-matroska"},
        {"neither: from the .mp4 extension", NULL, NULL, "video/mp4"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s -> %s\n", cases[i].what, cases[i].mime);
        one_block_mkfile(900 + i, 20 + (uint32_t)i, cases[i].suffix, cases[i].header, cases[i].mime);
    }
    free(pair);
    free(b64);
}

static void test_mkfile_file_md5_mismatch(void **state)
{
    (void)state;
    size_t len = 5000;
    uint8_t *good = harness_pattern(len, 23), *bad = harness_pattern(len, 24);
    char md5[33];
    harness_md5_hex(good, len, md5);
    harness_grant_opts_t o = {.file_id = "block-md5-1", .file_md5 = md5};
    harness_grant_t g;
    grant_ok(&o, &g);
    char *auth = auth_of(g.token);
    char ctx[HARNESS_CTX_MAX];
    put_block_checked(srv, auth, bad, len, 0, len, ctx);
    print_message("  mkfile of other bytes than fileMd5 says -> 400\n");
    harness_upload_response_t r;
    assert_true(harness_mkfile(srv, auth, (int64_t)len, NULL, ctx, NULL, &r));
    assert_upload_error(&r, 400);
    assert_string_equal(harness_json_str(r.json, "message"), MD5_MISMATCH);
    harness_upload_response_free(&r);
    harness_playback(srv, "GET", g.file_key, NULL, &r);
    assert_int_equal(r.status, 404);
    harness_upload_response_free(&r);
    harness_response_t info;
    assert_true(harness_video_info(srv, NULL, g.video_id, &info));
    assert_api_ok(&info);
    print_message("  getVideoInfo: status %s, failReason %s\n", harness_json_str(harness_data(&info), "status"),
                  harness_json_str(harness_data(&info), "failReason"));
    assert_string_equal(harness_json_str(harness_data(&info), "status"), "failed");
    assert_non_null(harness_json_str(harness_data(&info), "failReason"));
    harness_response_free(&info);

    print_message("  a fresh token and the right bytes -> 200\n");
    harness_grant_t g2;
    grant_ok(&o, &g2);
    char *auth2 = auth_of(g2.token);
    put_block_checked(srv, auth2, good, len, 0, len, ctx);
    mkfile_ok(srv, auth2, &g, good, len, ctx);
    check_published(srv, &g, good, len, NULL);
    free(auth2);
    free(auth);
    free(good);
    free(bad);
}

/* ---- restart -------------------------------------------------------------------- */

static void test_ctx_survives_restart(void **state)
{
    (void)state;
    harness_grant_t g;
    grant_ok(NULL, &g);
    char *auth = auth_of(g.token);
    size_t len = BLOCK + 2000;
    uint8_t *data = harness_pattern(len, 25);
    harness_block_answer_t a, b;
    char c1[HARNESS_CTX_MAX];
    mkblk_ok(auth, BLOCK, 0, data, MIB, &a);
    put_block_checked(srv, auth, data + BLOCK, 2000, 1, 2000, c1);

    print_message("  server restart (SIGTERM, start again on the same data)\n");
    assert_int_equal(harness_server_terminate(srv), 0);
    assert_true(harness_server_restart(srv, NULL));

    print_message("  block 0 continues from its ctx; mkfile with the ctx of block 1 from before\n");
    bput_ok(auth, a.ctx, MIB, data + MIB, 3 * MIB, &b);
    char *list = harness_strf("%s,%s", b.ctx, c1);
    mkfile_ok(srv, auth, &g, data, len, list);
    check_published(srv, &g, data, len, NULL);
    free(list);
    free(data);
    free(auth);
}

/* ---- main ------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = harness_server_finish(srv);
    srv = NULL;
    fprintf(stderr, "test_upload_block: %.1f MiB of request bodies sent\n",
            (double)harness_upload_bytes_sent() / HARNESS_MIB);
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_three_blocks_in_chunks),
        cmocka_unit_test(test_request_shapes),
        cmocka_unit_test(test_block_answer_members),
        cmocka_unit_test(test_blocks_out_of_order),
        cmocka_unit_test(test_blocks_in_parallel),
        cmocka_unit_test(test_bput_offset_mismatch),
        cmocka_unit_test(test_bad_ctx),
        cmocka_unit_test(test_mkfile_wrong_lists),
        cmocka_unit_test(test_chunk_retry),
        cmocka_unit_test(test_block_size_rules),
        cmocka_unit_test(test_server_size_limits),
        cmocka_unit_test(test_mkfile_fsize_limit),
        cmocka_unit_test(test_authorization),
        cmocka_unit_test(test_mkfile_overwrite),
        cmocka_unit_test(test_resume_with_fresh_token),
        cmocka_unit_test(test_scope_key_wins),
        cmocka_unit_test(test_mkfile_mime_type),
        cmocka_unit_test(test_mkfile_file_md5_mismatch),
        cmocka_unit_test(test_ctx_survives_restart),
    };
    return cmocka_run_group_tests_name("integration.test_upload_block", tests, group_setup, group_teardown);
}
