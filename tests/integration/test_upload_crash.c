/*
 * test_upload_crash: `kill -9` of the server in the middle of block uploads
 * and in the middle of mkfile (docs/upload.md "Resume" and "Durability",
 * upload-protocol.md section 5).
 *
 * What must hold:
 *  - An acknowledged chunk survives the crash.  After a restart on the same
 *    data directory, a client that kept its ctx values resumes each block
 *    from its last acknowledged ctx/offset (blocks with no acknowledgement
 *    start again with mkblk), using a fresh token from getUploadToken with
 *    the same fileId, and mkfile publishes the right bytes.
 *  - mkfile is atomic: whenever the server dies, GET /<fileKey> answers 404
 *    or the whole, correct object, never anything else, and getVideoInfo
 *    says `uploaded` exactly when the object is served.  A poller thread
 *    GETs the object during the whole test to catch a torn object at any
 *    moment, while the server runs, dies and restarts.
 *
 * The test speaks the upload protocol with its own small libcurl helpers
 * (prefix crash_), so it depends on the wire contract only.  Worker threads
 * never call cmocka: they record what went wrong and the main thread asserts
 * once they are joined (a cmocka failure longjmps and must not leave a
 * thread running on freed state).
 */
#define _GNU_SOURCE /* nftw */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "common/buf.h"
#include "common/encoding.h"
#include "harness.h"

#define CRASH_MIB (1024 * 1024)
#define CRASH_BLOCK_SIZE (4 * CRASH_MIB) /* WCS block size, also the etag piece */
#define CRASH_CHUNK_SIZE (256 * 1024)    /* chunk size of the mid-block test */
#define CRASH_WORKERS 4                  /* blocks in flight at once */
/* Both sizes leave a short last block, the case clients hit most. */
#define CRASH_BLOCKS_FILE_SIZE ((int64_t)40 * CRASH_MIB + 123457)
#define CRASH_MKFILE_FILE_SIZE ((int64_t)64 * CRASH_MIB + 777)
#define CRASH_HTTP_TIMEOUT_S 30
#define CRASH_ANSWER_CAP (64 * 1024)
#define CRASH_CTX_MAX 200 /* upload-protocol.md 5: a ctx is under 200 bytes */
#define CRASH_TOKEN_MAX 2048
#define CRASH_URL_MAX 2048
#define CRASH_KILL_WAIT_MS 10000
#define CRASH_TRIGGER_TIMEOUT_MS 60000
#define CRASH_MKFILE_BUDGET_MS 20000 /* time for the series of mkfile kills */
#define CRASH_LANDMARK_WAIT_MS 5000  /* longest wait for staged bytes to appear */
#define CRASH_POLL_INTERVAL_MS 15
#define CRASH_POLLER_WAIT_MS 10000

static int64_t crash_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void crash_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- reference values ------------------------------------------------------ */

/* Deterministic pseudo-random bytes (xorshift64*), so a failure reproduces. */
static void crash_fill(uint8_t *p, int64_t n, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (int64_t i = 0; i < n; i += 8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        uint64_t v = x * 0x2545F4914F6CDD1DULL;
        size_t k = n - i < 8 ? (size_t)(n - i) : 8;
        memcpy(p + i, &v, k);
    }
}

static void crash_md5_hex(const void *data, size_t len, char out[33])
{
    uint8_t sum[16];
    unsigned int n = 0;
    if (EVP_Digest(data, len, sum, &n, EVP_md5(), NULL) != 1) {
        out[0] = '\0';
        return;
    }
    encoding_hex(sum, sizeof(sum), out);
}

/* The WCS etag (upload-protocol.md 6); out receives 28 characters and a NUL. */
static bool crash_etag(const uint8_t *data, int64_t size, char out[64])
{
    size_t pieces = size == 0 ? 1 : (size_t)((size + CRASH_BLOCK_SIZE - 1) / CRASH_BLOCK_SIZE);
    uint8_t *sums = malloc(pieces * 20);
    uint8_t raw[21];
    buf_t b;
    bool ok = sums != NULL;
    buf_init(&b, 0);
    for (size_t i = 0; ok && i < pieces; i++) {
        int64_t start = (int64_t)i * CRASH_BLOCK_SIZE;
        size_t len = (size_t)(size - start < CRASH_BLOCK_SIZE ? size - start : CRASH_BLOCK_SIZE);
        ok = EVP_Digest(data + start, len, sums + 20 * i, NULL, EVP_sha1(), NULL) == 1;
    }
    if (ok && pieces == 1) {
        raw[0] = 0x16;
        memcpy(raw + 1, sums, 20);
    } else if (ok) {
        raw[0] = 0x96;
        ok = EVP_Digest(sums, 20 * pieces, raw + 1, NULL, EVP_sha1(), NULL) == 1;
    }
    ok = ok && encoding_b64url_encode(raw, sizeof(raw), &b) && b.len < 64;
    if (ok)
        snprintf(out, 64, "%s", b.data);
    buf_free(&b);
    free(sums);
    return ok;
}

/* ---- upload requests (libcurl) ------------------------------------------------ */

typedef struct crash_http {
    long status;   /* 0 when no complete answer arrived */
    CURLcode code; /* CURLE_OK when the exchange completed */
    buf_t body;    /* the answer, NUL-terminated, capped at CRASH_ANSWER_CAP */
} crash_http_t;

static size_t crash_buf_write(char *data, size_t size, size_t nmemb, void *arg)
{
    return buf_append(arg, data, size * nmemb) ? size * nmemb : 0;
}

static void crash_http_free(crash_http_t *r)
{
    buf_free(&r->body);
}

/* POSTs body to url with "Authorization: UpToken <token>".  Free the answer
 * with crash_http_free whatever happened. */
static void crash_post(const char *url, const char *token, const char *content_type, const void *body, size_t len,
                       crash_http_t *out)
{
    memset(out, 0, sizeof(*out));
    out->code = CURLE_FAILED_INIT;
    buf_init(&out->body, CRASH_ANSWER_CAP);
    buf_append(&out->body, "", 0);
    char *auth = harness_strf("Authorization: UpToken %s", token);
    char *type = harness_strf("Content-Type: %s", content_type);
    struct curl_slist *headers = NULL;
    CURL *c = curl_easy_init();
    if (!auth || !type || !c)
        goto out;
    /* "Expect:" off: curl would wait for 100-continue before big bodies. */
    const char *lines[] = {auth, type, "Expect:"};
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        struct curl_slist *n = curl_slist_append(headers, lines[i]);
        if (!n)
            goto out;
        headers = n;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CRASH_HTTP_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, crash_buf_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
    out->code = curl_easy_perform(c);
    if (out->code == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
out:
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    free(type);
    free(auth);
}

/* ---- playback GETs -------------------------------------------------------------- */

typedef struct crash_get_result {
    long status; /* 0 when no status line arrived */
    CURLcode code;
    int64_t received;          /* body bytes */
    bool mismatch;             /* a body byte differs from the file, or the body is longer */
    curl_off_t content_length; /* -1 when not declared */
    char md5[33];              /* of the body, when asked for */
} crash_get_result_t;

typedef struct crash_get_sink {
    const uint8_t *expect;
    int64_t size;
    int64_t received;
    bool mismatch;
    EVP_MD_CTX *md5; /* NULL: no MD5 wanted */
} crash_get_sink_t;

/* Compares the body with the expected bytes as it streams in, so that a
 * 96 MiB object is checked without being buffered. */
static size_t crash_get_write(char *data, size_t size, size_t nmemb, void *arg)
{
    crash_get_sink_t *k = arg;
    size_t len = size * nmemb;
    if (k->received + (int64_t)len > k->size)
        k->mismatch = true;
    else if (!k->mismatch && memcmp(k->expect + k->received, data, len) != 0)
        k->mismatch = true;
    if (k->md5)
        EVP_DigestUpdate(k->md5, data, len);
    k->received += (int64_t)len;
    return len;
}

/* GET url; the body is compared with expect[0..size). */
static void crash_get(const char *url, const uint8_t *expect, int64_t size, bool want_md5, crash_get_result_t *out)
{
    memset(out, 0, sizeof(*out));
    out->code = CURLE_FAILED_INIT;
    out->content_length = -1;
    crash_get_sink_t sink = {.expect = expect, .size = size};
    CURL *c = curl_easy_init();
    if (want_md5)
        sink.md5 = EVP_MD_CTX_new();
    if (!c || (want_md5 && (!sink.md5 || EVP_DigestInit_ex(sink.md5, EVP_md5(), NULL) != 1)))
        goto out;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CRASH_HTTP_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, crash_get_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    out->code = curl_easy_perform(c);
    /* The status is known as soon as the head arrived, even when the body
     * was then cut off; a 200 with the wrong length counts as torn then. */
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &out->content_length);
    out->received = sink.received;
    out->mismatch = sink.mismatch;
    if (sink.md5) {
        uint8_t sum[16];
        unsigned int n = 0;
        if (EVP_DigestFinal_ex(sink.md5, sum, &n) == 1)
            encoding_hex(sum, sizeof(sum), out->md5);
    }
out:
    EVP_MD_CTX_free(sink.md5);
    curl_easy_cleanup(c);
}

/* ---- the playback poller ------------------------------------------------------ */

typedef struct crash_poller {
    pthread_t thread;
    bool running; /* main thread only */
    const uint8_t *data;
    int64_t size;

    pthread_mutex_t mu; /* guards everything below */
    char url[CRASH_URL_MAX];
    bool down;  /* the server is being killed or is not restarted yet */
    long kills; /* kills so far: a GET that overlapped one may be cut off */
    bool stop;
    long requests, complete, not_found, transport_errors, bad;
    char first_bad[512];
} crash_poller_t;

/* Classifies one GET.  Tolerated: 404 (nothing published, or an unrelated
 * server that took the old port), the whole correct object, and transfers
 * that failed or were cut off while the server was down or being killed,
 * as long as what did arrive was a correct prefix.  `quiet`: no kill and no
 * downtime overlapped the GET, so a failed transfer is the server's fault. */
static void crash_poller_count(crash_poller_t *p, const crash_get_result_t *g, bool quiet)
{
    char why[256] = "";
    bool ok200 = g->status == 200 && !g->mismatch;
    pthread_mutex_lock(&p->mu);
    p->requests++;
    if (g->code == CURLE_OK && ok200 && g->received == p->size)
        p->complete++;
    else if (g->code == CURLE_OK && g->status == 404)
        p->not_found++;
    else if (g->code != CURLE_OK && !quiet &&
             (g->status == 0 || g->status == 404 || (ok200 && (g->content_length < 0 || g->content_length == p->size))))
        p->transport_errors++;
    else
        snprintf(why, sizeof(why), "HTTP %ld, curl '%s', %lld bytes (Content-Length %lld), %s", g->status,
                 curl_easy_strerror(g->code), (long long)g->received, (long long)g->content_length,
                 g->mismatch ? "bytes differ from the file" : "bytes match so far");
    if (why[0]) {
        p->bad++;
        if (!p->first_bad[0])
            snprintf(p->first_bad, sizeof(p->first_bad), "%s", why);
    }
    pthread_mutex_unlock(&p->mu);
}

static void *crash_poller_main(void *arg)
{
    crash_poller_t *p = arg;
    char url[CRASH_URL_MAX];
    for (;;) {
        pthread_mutex_lock(&p->mu);
        bool stop = p->stop, down = p->down;
        long kills = p->kills;
        snprintf(url, sizeof(url), "%s", p->url);
        pthread_mutex_unlock(&p->mu);
        if (stop)
            break;
        if (url[0]) {
            crash_get_result_t g;
            crash_get(url, p->data, p->size, false, &g);
            pthread_mutex_lock(&p->mu);
            bool quiet = !down && !p->down && kills == p->kills;
            pthread_mutex_unlock(&p->mu);
            crash_poller_count(p, &g, quiet);
        }
        crash_sleep_ms(CRASH_POLL_INTERVAL_MS);
    }
    return NULL;
}

static void crash_poller_stop(crash_poller_t *p)
{
    if (!p->running)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_mutex_unlock(&p->mu);
    pthread_join(p->thread, NULL);
    p->running = false;
}

/* ---- block uploads by worker threads ------------------------------------------- */

typedef struct crash_block {
    int64_t start; /* offset in the file */
    int64_t size;
    int64_t acked;               /* bytes acknowledged; 0 = no ctx yet */
    char ctx[CRASH_CTX_MAX + 1]; /* the ctx of the last acknowledgement */
} crash_block_t;

/* One upload: the blocks and what the server acknowledged of them. */
typedef struct crash_upload {
    const uint8_t *data;
    int64_t size;
    int64_t chunk; /* bytes per mkblk/bput */
    crash_block_t *blocks;
    size_t block_count;
    char base_url[CRASH_URL_MAX]; /* uploadUrl; fixed while workers run */
    char token[CRASH_TOKEN_MAX];  /* fixed while workers run */

    pthread_mutex_t mu; /* guards everything below and the blocks' acked and ctx */
    size_t next_block;
    bool killed; /* the server is being killed: transport errors are expected */
    bool stop;   /* a worker hit an error: every worker stops */
    bool failed; /* something unexpected happened; `error` says what */
    char error[1024];
    int workers_done;
    long requests, acks, transport_errors;
} crash_upload_t;

/* Records an unexpected event (the first one wins) and stops every worker. */
static void crash_upload_fail(crash_upload_t *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void crash_upload_fail(crash_upload_t *u, const char *fmt, ...)
{
    pthread_mutex_lock(&u->mu);
    if (!u->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(u->error, sizeof(u->error), fmt, ap);
        va_end(ap);
        u->failed = true;
    }
    u->stop = true;
    pthread_mutex_unlock(&u->mu);
}

/* A ctx must be usable as a path segment and in the comma-joined mkfile body. */
static bool crash_ctx_ok(const char *ctx)
{
    size_t n = strlen(ctx);
    if (n == 0 || n >= CRASH_CTX_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ctx[i] <= ' ' || ctx[i] >= 0x7f || strchr(",/?#%", ctx[i]))
            return false;
    return true;
}

/* Checks a mkblk/bput answer and records the acknowledgement.  False: stop. */
static bool crash_chunk_answer(crash_upload_t *u, crash_block_t *b, size_t index, int64_t at, const uint8_t *chunk,
                               int64_t len, const crash_http_t *r)
{
    const char *what = at == 0 ? "mkblk" : "bput";
    if (r->code != CURLE_OK) {
        pthread_mutex_lock(&u->mu);
        bool expected = u->killed;
        if (expected) {
            u->transport_errors++;
            u->stop = true;
        }
        pthread_mutex_unlock(&u->mu);
        if (!expected)
            crash_upload_fail(u, "%s of block %zu at %lld with the server up: %s", what, index, (long long)at,
                              curl_easy_strerror(r->code));
        return false;
    }
    if (r->status != 200) {
        crash_upload_fail(u, "%s of block %zu at %lld: HTTP %ld: %.400s", what, index, (long long)at, r->status,
                          r->body.data);
        return false;
    }
    json_t *j = json_loadb(r->body.data, r->body.len, 0, NULL);
    const char *ctx = harness_json_str(j, "ctx");
    const char *checksum = harness_json_str(j, "checksum");
    json_t *offset = json_object_get(j, "offset");
    json_t *crc = json_object_get(j, "crc32");
    char md5[33];
    crash_md5_hex(chunk, (size_t)len, md5);
    uLong want_crc = crc32(crc32(0L, Z_NULL, 0), chunk, (uInt)len);
    bool ok = ctx && crash_ctx_ok(ctx) && json_is_integer(offset) && json_integer_value(offset) == at + len &&
              json_is_integer(crc) && (uLong)json_integer_value(crc) == want_crc && checksum &&
              strcmp(checksum, md5) == 0;
    if (ok) {
        pthread_mutex_lock(&u->mu);
        snprintf(b->ctx, sizeof(b->ctx), "%s", ctx);
        b->acked = at + len;
        u->acks++;
        pthread_mutex_unlock(&u->mu);
    }
    json_decref(j);
    if (!ok)
        crash_upload_fail(u, "%s of block %zu at %lld (%lld bytes, crc32 %lu, md5 %s): bad answer %.400s", what, index,
                          (long long)at, (long long)len, (unsigned long)want_crc, md5, r->body.data);
    return ok;
}

/* Sends the rest of one block from its last acknowledged ctx/offset: mkblk
 * when it has none, bput otherwise.  False when the worker must stop. */
static bool crash_upload_block(crash_upload_t *u, crash_block_t *b, size_t index)
{
    for (;;) {
        char ctx[CRASH_CTX_MAX + 1];
        pthread_mutex_lock(&u->mu);
        bool stop = u->stop;
        int64_t at = b->acked;
        snprintf(ctx, sizeof(ctx), "%s", b->ctx);
        if (!stop && at < b->size)
            u->requests++;
        pthread_mutex_unlock(&u->mu);
        if (stop)
            return false;
        if (at >= b->size)
            return true;
        int64_t len = b->size - at < u->chunk ? b->size - at : u->chunk;
        const uint8_t *chunk = u->data + b->start + at;
        char url[CRASH_URL_MAX + 300];
        if (at == 0)
            snprintf(url, sizeof(url), "%s/mkblk/%lld/%zu", u->base_url, (long long)b->size, index);
        else
            snprintf(url, sizeof(url), "%s/bput/%s/%lld", u->base_url, ctx, (long long)at);
        crash_http_t r;
        crash_post(url, u->token, "application/octet-stream", chunk, (size_t)len, &r);
        bool ok = crash_chunk_answer(u, b, index, at, chunk, len, &r);
        crash_http_free(&r);
        if (!ok)
            return false;
    }
}

/* A worker takes the next unfinished block until none is left. */
static void *crash_worker_main(void *arg)
{
    crash_upload_t *u = arg;
    for (;;) {
        crash_block_t *b = NULL;
        size_t index = 0;
        pthread_mutex_lock(&u->mu);
        while (!u->stop && u->next_block < u->block_count) {
            index = u->next_block++;
            if (u->blocks[index].acked < u->blocks[index].size) {
                b = &u->blocks[index];
                break;
            }
        }
        pthread_mutex_unlock(&u->mu);
        if (!b || !crash_upload_block(u, b, index))
            break;
    }
    pthread_mutex_lock(&u->mu);
    u->workers_done++;
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

static bool crash_upload_prepare(crash_upload_t *u, const uint8_t *data, int64_t size, int64_t chunk)
{
    u->data = data;
    u->size = size;
    u->chunk = chunk;
    u->block_count = (size_t)((size + CRASH_BLOCK_SIZE - 1) / CRASH_BLOCK_SIZE);
    u->blocks = calloc(u->block_count, sizeof(*u->blocks));
    if (!u->blocks)
        return false;
    for (size_t i = 0; i < u->block_count; i++) {
        u->blocks[i].start = (int64_t)i * CRASH_BLOCK_SIZE;
        u->blocks[i].size = size - u->blocks[i].start < CRASH_BLOCK_SIZE ? size - u->blocks[i].start : CRASH_BLOCK_SIZE;
    }
    pthread_mutex_init(&u->mu, NULL);
    return true;
}

/* Starts CRASH_WORKERS threads that send every unfinished block to base_url
 * with token.  False (nothing left running) when a thread cannot start. */
static bool crash_workers_start(crash_upload_t *u, const char *base_url, const char *token,
                                pthread_t threads[CRASH_WORKERS])
{
    snprintf(u->base_url, sizeof(u->base_url), "%s", base_url);
    snprintf(u->token, sizeof(u->token), "%s", token);
    u->next_block = 0;
    u->killed = u->stop = u->failed = false;
    u->error[0] = '\0';
    u->workers_done = 0;
    u->requests = u->acks = u->transport_errors = 0;
    for (int i = 0; i < CRASH_WORKERS; i++) {
        if (pthread_create(&threads[i], NULL, crash_worker_main, u) != 0) {
            crash_upload_fail(u, "pthread_create failed");
            for (int k = 0; k < i; k++)
                pthread_join(threads[k], NULL);
            return false;
        }
    }
    return true;
}

static void crash_workers_join(pthread_t threads[CRASH_WORKERS])
{
    for (int i = 0; i < CRASH_WORKERS; i++)
        pthread_join(threads[i], NULL);
}

/* "0:done 1:done 2:1.25MiB 3:none ..." (the caller holds u->mu or no worker runs). */
static void crash_block_states(const crash_upload_t *u, char *out, size_t outlen)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < u->block_count && n + 1 < outlen; i++) {
        const crash_block_t *b = &u->blocks[i];
        int w;
        if (b->acked == b->size)
            w = snprintf(out + n, outlen - n, "%s%zu:done", i ? " " : "", i);
        else if (b->acked == 0)
            w = snprintf(out + n, outlen - n, "%s%zu:none", i ? " " : "", i);
        else
            w = snprintf(out + n, outlen - n, "%s%zu:%.2fMiB", i ? " " : "", i, (double)b->acked / CRASH_MIB);
        if (w < 0)
            break;
        n += (size_t)w;
    }
}

/* ---- per-test state ---------------------------------------------------------------- */

typedef struct crash_state {
    harness_server_t *srv;
    const char *file_name; /* originFileName */
    const char *file_id;   /* the breakpoint-resume id of the whole test */
    uint8_t *data;
    int64_t size;
    char md5[33];
    char etag[64];
    char video_id[64];
    char file_key[512];
    char upload_url[128];
    char token[CRASH_TOKEN_MAX];
    char *ctx_list; /* the mkfile body, once every block is acknowledged */
    crash_upload_t up;
    crash_poller_t poller;
} crash_state_t;

static int crash_setup(void **state, const char *file_name, const char *file_id, int64_t size, int64_t chunk,
                       uint64_t seed)
{
    crash_state_t *st = calloc(1, sizeof(*st));
    if (!st)
        return -1;
    *state = st;
    pthread_mutex_init(&st->poller.mu, NULL);
    st->file_name = file_name;
    st->file_id = file_id;
    st->size = size;
    st->data = malloc((size_t)size);
    if (!st->data || !crash_upload_prepare(&st->up, st->data, size, chunk))
        return -1;
    crash_fill(st->data, size, seed);
    crash_md5_hex(st->data, (size_t)size, st->md5);
    if (!crash_etag(st->data, size, st->etag))
        return -1;
    st->srv = harness_server_start(NULL);
    return st->srv ? 0 : -1;
}

static int setup_blocks(void **state)
{
    return crash_setup(state, "crash-blocks.mp4", "crash-blocks", CRASH_BLOCKS_FILE_SIZE, CRASH_CHUNK_SIZE, 0x5eed01);
}

static int setup_mkfile(void **state)
{
    /* Whole blocks per mkblk: this test is about mkfile, not chunks. */
    return crash_setup(state, "crash-mkfile.mp4", "crash-mkfile", CRASH_MKFILE_FILE_SIZE, CRASH_BLOCK_SIZE, 0x5eed02);
}

static int teardown(void **state)
{
    crash_state_t *st = *state;
    if (!st)
        return 0;
    crash_poller_stop(&st->poller);
    int status = st->srv ? harness_server_stop(st->srv) : 0;
    if (st->up.blocks)
        pthread_mutex_destroy(&st->up.mu);
    free(st->up.blocks);
    free(st->ctx_list);
    pthread_mutex_destroy(&st->poller.mu);
    free(st->data);
    free(st);
    return status == 0 ? 0 : -1;
}

/* ---- steps the tests share (main thread) ---------------------------------------------- */

/* getUploadToken with the test's fileId.  The first call registers the
 * video; later ones must return the same videoId and fileKey with a fresh
 * token whose uploadUrl is the (possibly restarted) server. */
static void crash_new_token(crash_state_t *st)
{
    char *form = harness_form("originFileName", st->file_name, "fileId", st->file_id, NULL);
    assert_non_null(form);
    harness_response_t r;
    bool sent = harness_upload_token(st->srv, NULL, form, &r);
    free(form);
    assert_true(sent);
    assert_api_ok(&r);
    json_t *d = harness_data(&r);
    const char *video_id = harness_json_str(d, "videoId");
    const char *file_key = harness_json_str(d, "fileKey");
    const char *url = harness_json_str(d, "uploadUrl");
    const char *token = harness_json_str(d, "uploadToken");
    assert_non_null(video_id);
    assert_non_null(file_key);
    assert_non_null(url);
    assert_non_null(token);
    if (st->video_id[0]) {
        assert_string_equal(video_id, st->video_id);
        assert_string_equal(file_key, st->file_key);
    }
    assert_string_equal(url, st->srv->base_url);
    assert_true(strlen(token) < sizeof(st->token) && strlen(file_key) < sizeof(st->file_key));
    snprintf(st->video_id, sizeof(st->video_id), "%s", video_id);
    snprintf(st->file_key, sizeof(st->file_key), "%s", file_key);
    snprintf(st->upload_url, sizeof(st->upload_url), "%s", url);
    snprintf(st->token, sizeof(st->token), "%s", token);
    /* Logs must never carry a token (docs/architecture.md). */
    harness_note_secret(st->srv, token);
    harness_response_free(&r);
}

/* The server is up at its (new) address. */
static void crash_poller_set_url(crash_state_t *st)
{
    pthread_mutex_lock(&st->poller.mu);
    snprintf(st->poller.url, sizeof(st->poller.url), "%s/%s", st->srv->base_url, st->file_key);
    st->poller.down = false;
    pthread_mutex_unlock(&st->poller.mu);
}

/* Called just before a SIGKILL: from now until the restart, failed GETs are expected. */
static void crash_poller_down(crash_state_t *st)
{
    pthread_mutex_lock(&st->poller.mu);
    st->poller.down = true;
    st->poller.kills++;
    pthread_mutex_unlock(&st->poller.mu);
}

static void crash_poller_start(crash_state_t *st)
{
    crash_poller_t *p = &st->poller;
    p->data = st->data;
    p->size = st->size;
    crash_poller_set_url(st);
    assert_int_equal(pthread_create(&p->thread, NULL, crash_poller_main, p), 0);
    p->running = true;
}

/* Waits until the poller has seen the published object at least once (so
 * it verifiably checked content, not only 404s), stops it and asserts that
 * it never saw anything but 404 or the whole, correct object. */
static void crash_poller_finish(crash_state_t *st)
{
    crash_poller_t *p = &st->poller;
    int64_t deadline = crash_mono_ms() + CRASH_POLLER_WAIT_MS;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        long complete = p->complete;
        pthread_mutex_unlock(&p->mu);
        if (complete > 0 || crash_mono_ms() > deadline)
            break;
        crash_sleep_ms(10);
    }
    crash_poller_stop(p);
    print_message("playback poller: %ld GETs: %ld whole and correct, %ld 404, %ld failed around a kill, %ld bad\n",
                  p->requests, p->complete, p->not_found, p->transport_errors, p->bad);
    if (p->bad > 0)
        fail_msg("playback served something other than 404 or the whole object: %s", p->first_bad);
    assert_true(p->complete > 0);
}

/* SIGKILL and reap; the server is then down and the data dir kept. */
static void crash_kill(crash_state_t *st)
{
    crash_poller_down(st);
    assert_true(harness_server_signal(st->srv, SIGKILL));
    assert_int_equal(harness_server_wait(st->srv, CRASH_KILL_WAIT_MS), 128 + SIGKILL);
}

/* Restarts on the same data dir (a new port); the first-start key is kept
 * by the harness since the restart prints none. */
static void crash_restart(crash_state_t *st)
{
    char access_key[HARNESS_KEY_MAX];
    snprintf(access_key, sizeof(access_key), "%s", st->srv->key.access_key);
    assert_true(harness_server_restart(st->srv, NULL));
    assert_false(st->srv->printed_key);
    assert_string_equal(st->srv->key.access_key, access_key);
    crash_poller_set_url(st);
}

/*
 * What a client and a viewer see now: GET /<fileKey> is 404 or the whole,
 * correct object, and getVideoInfo says `uploaded` (with the right size, md5
 * and etag) exactly when the object is served, `created` or `uploading`
 * otherwise ("playback serves only what a row names").  Returns whether
 * the object is published.
 */
static bool crash_check_published(crash_state_t *st)
{
    char *url = harness_strf("%s/%s", st->srv->base_url, st->file_key);
    assert_non_null(url);
    crash_get_result_t g;
    crash_get(url, st->data, st->size, true, &g);
    free(url);
    if (g.code != CURLE_OK)
        fail_msg("GET /%s: %s", st->file_key, curl_easy_strerror(g.code));
    bool served = g.status == 200;
    if (served) {
        if (g.mismatch || g.received != st->size || strcmp(g.md5, st->md5) != 0)
            fail_msg("GET /%s: 200 with %lld bytes, md5 %s; the file has %lld bytes, md5 %s", st->file_key,
                     (long long)g.received, g.md5, (long long)st->size, st->md5);
    } else if (g.status != 404) {
        fail_msg("GET /%s: HTTP %ld (%lld bytes): only 404 or the whole object may be served", st->file_key, g.status,
                 (long long)g.received);
    }

    harness_response_t r;
    assert_true(harness_video_info(st->srv, NULL, st->video_id, &r));
    assert_api_ok(&r);
    json_t *d = harness_data(&r);
    const char *status = harness_json_str(d, "status");
    assert_non_null(status);
    if (served) {
        assert_string_equal(status, "uploaded");
        json_t *size = json_object_get(d, "size");
        assert_true(json_is_integer(size));
        assert_int_equal(json_integer_value(size), st->size);
        assert_non_null(harness_json_str(d, "md5"));
        assert_string_equal(harness_json_str(d, "md5"), st->md5);
        assert_non_null(harness_json_str(d, "etag"));
        assert_string_equal(harness_json_str(d, "etag"), st->etag);
    } else {
        if (strcmp(status, "created") != 0 && strcmp(status, "uploading") != 0)
            fail_msg("getVideoInfo status '%s' while GET /<fileKey> is 404", status);
        assert_true(json_is_null(json_object_get(d, "md5")));
    }
    harness_response_free(&r);
    return served;
}

/* The mkfile body: the last ctx of every block, in block order, comma-joined. */
static char *crash_ctx_list(const crash_upload_t *u)
{
    buf_t b;
    buf_init(&b, 0);
    bool ok = buf_append(&b, "", 0);
    for (size_t i = 0; ok && i < u->block_count; i++)
        ok = (i == 0 || buf_append(&b, ",", 1)) && buf_append_str(&b, u->blocks[i].ctx);
    if (!ok) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

static void crash_assert_all_blocks_acked(const crash_upload_t *u)
{
    for (size_t i = 0; i < u->block_count; i++)
        if (u->blocks[i].acked != u->blocks[i].size)
            fail_msg("block %zu: %lld of %lld bytes acknowledged", i, (long long)u->blocks[i].acked,
                     (long long)u->blocks[i].size);
}

/* Asserts a mkfile success answer: 200, JSON {"hash": the etag, "key": the
 * fileKey}.  Frees the answer in any case. */
static void crash_mkfile_check(const crash_state_t *st, crash_http_t *r)
{
    json_t *j = json_loadb(r->body.data, r->body.len, 0, NULL);
    const char *hash = harness_json_str(j, "hash");
    const char *key = harness_json_str(j, "key");
    bool ok = r->code == CURLE_OK && r->status == 200 && hash && key && strcmp(hash, st->etag) == 0 &&
              strcmp(key, st->file_key) == 0;
    char what[600];
    snprintf(what, sizeof(what), "HTTP %ld (%s): %.400s", r->status, curl_easy_strerror(r->code), r->body.data);
    json_decref(j);
    crash_http_free(r);
    if (!ok)
        fail_msg("mkfile: %s; expected 200 with hash %s and key %s", what, st->etag, st->file_key);
}

/* A mkfile sent from its own thread, so that the main thread can kill the
 * server while it runs. */
typedef struct crash_mkfile_call {
    char url[CRASH_URL_MAX];
    const char *token;
    const char *body;
    crash_http_t result;
    int64_t answered_ms; /* monotonic time the exchange ended */
    atomic_bool done;
} crash_mkfile_call_t;

static void *crash_mkfile_main(void *arg)
{
    crash_mkfile_call_t *m = arg;
    crash_post(m->url, m->token, "text/plain", m->body, strlen(m->body), &m->result);
    m->answered_ms = crash_mono_ms();
    atomic_store(&m->done, true);
    return NULL;
}

/* Bytes of the files under the data dir other than the database.  mkfile
 * stages the object there while it assembles, so the growth since mkfile was
 * sent shows how far the assembly got: the test uses it to aim kills at the
 * middle and the end of the assembly (which fixed delays hit only by luck),
 * and falls back to plain delays when no growth shows (another layout). */
static int64_t crash_du_total;

static int crash_du_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    if (flag == FTW_F && strncmp(path + ftw->base, "vodup.db", 8) != 0)
        crash_du_total += sb->st_size;
    return 0;
}

static int64_t crash_data_bytes(const harness_server_t *s)
{
    crash_du_total = 0;
    nftw(s->data_dir, crash_du_entry, 16, FTW_PHYS);
    return crash_du_total;
}

/* ---- the tests ------------------------------------------------------------------------- */

/* The reference etag must be right before it can judge the server. */
static void test_reference_etag(void **state)
{
    (void)state;
    static const struct {
        size_t len;
        const char *etag;
    } cases[] = {
        {0, "Fto5o-5ea0sNMlW_75VgGJCv2AcJ"},
        {4 * CRASH_MIB, "FivMvS848VwT631aif2dhfWV4jvD"},
        {4 * CRASH_MIB + 1, "lhCFgki5yzon0rjN9uJusf6qtsF6"},
        {5 * CRASH_MIB, "lrMhp7oU8rzWSRlmUeGJ73Q2pVa-"},
    };
    uint8_t *zeros = calloc(1, 5 * CRASH_MIB);
    assert_non_null(zeros);
    char etag[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_true(crash_etag(zeros, (int64_t)cases[i].len, etag));
        assert_string_equal(etag, cases[i].etag);
    }
    free(zeros);
    assert_true(crash_etag((const uint8_t *)"hello", 5, etag));
    assert_string_equal(etag, "Fqr0xh3cxeii2r7eDztILNmuqUNN");
}

/*
 * 40 MiB in 4 MiB blocks of 256 KiB chunks, 4 blocks in flight.  Once some
 * blocks are complete and others partial, kill -9 with requests in flight.
 * Restart, fresh token for the same fileId, resume every block from its last
 * acknowledged ctx/offset (the server may hold more of a block than it
 * acknowledged: it must cut back to the ctx's offset), then mkfile.
 */
static void test_kill_during_block_uploads(void **state)
{
    crash_state_t *st = *state;
    crash_upload_t *u = &st->up;
    pthread_t workers[CRASH_WORKERS];
    char states[1024] = "";

    crash_new_token(st);
    crash_poller_start(st);

    int64_t t0 = crash_mono_ms();
    assert_true(crash_workers_start(u, st->upload_url, st->token, workers));
    bool triggered = false, sent = false;
    for (;;) {
        pthread_mutex_lock(&u->mu);
        int complete = 0, partial = 0;
        for (size_t i = 0; i < u->block_count; i++) {
            complete += u->blocks[i].acked == u->blocks[i].size;
            partial += u->blocks[i].acked > 0 && u->blocks[i].acked < u->blocks[i].size;
        }
        bool stopped = u->failed || u->workers_done == CRASH_WORKERS;
        if (!stopped && complete >= 3 && partial >= 2) {
            /* Flag first: from now on, a cut-off request is what we asked for. */
            u->killed = true;
            triggered = true;
            crash_block_states(u, states, sizeof(states));
        }
        pthread_mutex_unlock(&u->mu);
        if (triggered) {
            crash_poller_down(st);
            sent = harness_server_signal(st->srv, SIGKILL);
            break;
        }
        if (stopped || crash_mono_ms() - t0 > CRASH_TRIGGER_TIMEOUT_MS)
            break;
        crash_sleep_ms(1);
    }
    crash_workers_join(workers);
    if (u->failed)
        fail_msg("before the kill: %s", u->error);
    if (!triggered) {
        crash_block_states(u, states, sizeof(states));
        fail_msg("never saw blocks complete and partial at once to kill the server: %s", states);
    }
    assert_true(sent);
    assert_int_equal(harness_server_wait(st->srv, CRASH_KILL_WAIT_MS), 128 + SIGKILL);
    print_message("kill -9 after %lld ms with %d blocks in flight; acknowledged when the kill was sent: %s\n",
                  (long long)(crash_mono_ms() - t0), CRASH_WORKERS, states);
    crash_block_states(u, states, sizeof(states));
    print_message("acknowledged in all: %s (%ld requests cut off)\n", states, u->transport_errors);

    crash_restart(st);
    assert_false(crash_check_published(st));
    crash_new_token(st);
    t0 = crash_mono_ms();
    assert_true(crash_workers_start(u, st->upload_url, st->token, workers));
    crash_workers_join(workers);
    if (u->failed)
        fail_msg("resuming after the restart: %s", u->error);
    crash_assert_all_blocks_acked(u);
    print_message("resumed in %lld ms with %ld requests\n", (long long)(crash_mono_ms() - t0), u->requests);

    st->ctx_list = crash_ctx_list(u);
    assert_non_null(st->ctx_list);
    char *url = harness_strf("%s/mkfile/%lld", st->upload_url, (long long)st->size);
    assert_non_null(url);
    crash_http_t r;
    crash_post(url, st->token, "text/plain", st->ctx_list, strlen(st->ctx_list), &r);
    free(url);
    crash_mkfile_check(st, &r);
    assert_true(crash_check_published(st));

    crash_poller_finish(st);
    assert_null(harness_log_find_secret(st->srv));
}

/* When the series kills the server after mkfile was sent: once `staged_pct`
 * percent of the file has been staged in the data dir (-1: at once), plus
 * delay_ms. */
typedef struct crash_kill_point {
    int staged_pct;
    int delay_ms;
} crash_kill_point_t;

/* Waits until the data dir grew by pct% of the file since `before`, or the
 * mkfile call ended, or CRASH_LANDMARK_WAIT_MS passed.  Returns how it ended. */
static const char *crash_wait_staged(crash_state_t *st, const crash_mkfile_call_t *call, int64_t before, int pct)
{
    int64_t want = st->size * pct / 100;
    int64_t deadline = crash_mono_ms() + CRASH_LANDMARK_WAIT_MS;
    for (;;) {
        if (crash_data_bytes(st->srv) - before >= want)
            return "reached";
        if (atomic_load(&call->done))
            return "mkfile ended first";
        if (crash_mono_ms() > deadline)
            return "not seen";
        crash_sleep_ms(1);
    }
}

/*
 * 64 MiB, every block acknowledged, then mkfile and kill -9: at fixed delays
 * (before the assembly starts), when a quarter, half and all of the file is
 * staged (during the copy, and during the publish that follows it: fsync,
 * rename, registry row), then at growing delays until a kill comes after the
 * publication.  After each kill: restart and check that the object is either
 * absent (404, status created/uploading) or whole and correct (status
 * uploaded); the next attempt is another mkfile with the same ctx list and a
 * fresh token for the same fileId, which is what a resuming client does.
 *
 * Decision for the attempt that publishes: the series stops at the first
 * attempt after which the object is published, whether mkfile answered
 * before the kill or not.  A client that lost the answer asks getUploadToken
 * again (same fileId, overwrite 0) and gets 409 "the upload of this fileId
 * has completed" (docs/api.md): the test asserts that and that the object is
 * right.  It does not re-run mkfile with overwrite=1: the contract does not
 * say that blocks outlive the mkfile that consumed them (vodup removes them).
 */
static void test_kill_during_mkfile(void **state)
{
    static const crash_kill_point_t points[] = {
        {-1, 0},   {-1, 5},   {-1, 20},  {25, 0},   {50, 0},    {100, 0},   {100, 5},
        {100, 15}, {100, 40}, {-1, 100}, {-1, 300}, {-1, 1000}, {-1, 2500}, {-1, 5000},
    };
    crash_state_t *st = *state;
    crash_upload_t *u = &st->up;
    pthread_t workers[CRASH_WORKERS];

    crash_new_token(st);
    crash_poller_start(st);
    int64_t t0 = crash_mono_ms();
    assert_true(crash_workers_start(u, st->upload_url, st->token, workers));
    crash_workers_join(workers);
    if (u->failed)
        fail_msg("uploading the blocks: %s", u->error);
    crash_assert_all_blocks_acked(u);
    print_message("%zu blocks acknowledged in %lld ms\n", u->block_count, (long long)(crash_mono_ms() - t0));
    st->ctx_list = crash_ctx_list(u);
    assert_non_null(st->ctx_list);

    bool published = false;
    int attempts = 0, staged_kills = 0;
    int64_t series_start = crash_mono_ms();
    for (size_t i = 0; i < sizeof(points) / sizeof(points[0]) && !published; i++) {
        if (crash_mono_ms() - series_start > CRASH_MKFILE_BUDGET_MS)
            break;
        attempts++;
        crash_new_token(st);
        int64_t bytes_before = crash_data_bytes(st->srv);
        crash_mkfile_call_t call = {.token = st->token, .body = st->ctx_list};
        atomic_init(&call.done, false);
        snprintf(call.url, sizeof(call.url), "%s/mkfile/%lld", st->upload_url, (long long)st->size);
        pthread_t thread;
        int64_t sent_ms = crash_mono_ms();
        assert_int_equal(pthread_create(&thread, NULL, crash_mkfile_main, &call), 0);
        char trigger[96];
        if (points[i].staged_pct >= 0)
            snprintf(trigger, sizeof(trigger), "%d%% staged (%s) + %d ms", points[i].staged_pct,
                     crash_wait_staged(st, &call, bytes_before, points[i].staged_pct), points[i].delay_ms);
        else
            snprintf(trigger, sizeof(trigger), "%d ms", points[i].delay_ms);
        crash_sleep_ms(points[i].delay_ms);
        crash_poller_down(st);
        bool sent = harness_server_signal(st->srv, SIGKILL);
        int64_t killed_ms = crash_mono_ms();
        pthread_join(thread, NULL);
        int exit_status = harness_server_wait(st->srv, CRASH_KILL_WAIT_MS);
        int64_t left = crash_data_bytes(st->srv) - bytes_before;

        /* Any complete answer must be the success; a kill only cuts answers off. */
        bool answered = call.result.code == CURLE_OK;
        char outcome[160];
        if (answered)
            snprintf(outcome, sizeof(outcome), "mkfile answered after %lld ms, before the kill",
                     (long long)(call.answered_ms - sent_ms));
        else
            snprintf(outcome, sizeof(outcome), "mkfile got no answer (%s)", curl_easy_strerror(call.result.code));
        if (answered)
            crash_mkfile_check(st, &call.result);
        else
            crash_http_free(&call.result);
        assert_true(sent);
        assert_int_equal(exit_status, 128 + SIGKILL);

        crash_restart(st);
        published = crash_check_published(st);
        if (answered)
            assert_true(published);
        if (!published && left > 0)
            staged_kills++;
        print_message("kill %d at %s, %lld ms after mkfile was sent: %s; the kill left %+lld bytes in the data "
                      "dir; after the restart the object is %s\n",
                      attempts, trigger, (long long)(killed_ms - sent_ms), outcome, (long long)left,
                      published ? "published, whole and correct" : "absent (404)");
    }
    print_message("%d mkfile kills, %d of them left staged bytes without publishing; data dir now %lld MiB\n", attempts,
                  staged_kills, (long long)(crash_data_bytes(st->srv) / CRASH_MIB));

    if (!published) {
        /* The series ran out: finish as a client would, fresh token, same ctx list. */
        crash_new_token(st);
        char *url = harness_strf("%s/mkfile/%lld", st->upload_url, (long long)st->size);
        assert_non_null(url);
        crash_http_t r;
        crash_post(url, st->token, "text/plain", st->ctx_list, strlen(st->ctx_list), &r);
        free(url);
        crash_mkfile_check(st, &r);
        assert_true(crash_check_published(st));
    } else {
        /* The client that lost the answer learns the upload completed. */
        char *form = harness_form("originFileName", st->file_name, "fileId", st->file_id, NULL);
        assert_non_null(form);
        harness_response_t r;
        bool ok = harness_upload_token(st->srv, NULL, form, &r);
        free(form);
        assert_true(ok);
        assert_api_error(&r, 409, 409);
        harness_response_free(&r);
    }

    /* A published object survives a kill as it is. */
    crash_kill(st);
    crash_restart(st);
    assert_true(crash_check_published(st));

    crash_poller_finish(st);
    assert_null(harness_log_find_secret(st->srv));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_etag),
        cmocka_unit_test_setup_teardown(test_kill_during_block_uploads, setup_blocks, teardown),
        cmocka_unit_test_setup_teardown(test_kill_during_mkfile, setup_mkfile, teardown),
    };
    return cmocka_run_group_tests_name("integration.test_upload_crash", tests, NULL, NULL);
}
