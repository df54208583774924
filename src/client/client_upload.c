/*
 * client_upload.c: the upload engine; see client_upload.h.
 *
 * Threads: the calling thread runs the flow, draws the progress bar and is
 * the only writer of the record file; N workers send blocks; one thread
 * computes the MD5 when the record does not have it.  Shared state lives in
 * upload_t under `mu` (blocks, record, failure) and `token_mu` (the current
 * grant and the API handle used to renew it).  A failure anywhere sets
 * `stop`, which aborts every transfer under way through libcurl's progress
 * callback; the first failure's message is the one reported.
 */
#include "client/client_upload.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client/client_hash.h"
#include "client/client_progress.h"
#include "client/client_record.h"
#include "common/timeutil.h"
#include "common/video_status.h"

#define UPLOAD_TICK_MS 100                  /* progress and record flush period */
#define UPLOAD_RECORD_SLOW_SIZE ((size_t)1024 * 1024) /* larger records are written at most once a second */
#define UPLOAD_BLOCK_RESTARTS 2             /* 701: start a block again at most this often */
#define UPLOAD_ROUNDS 2                     /* mkfile 412: send the dropped blocks once more */

typedef struct upload upload_t;

typedef struct upload_worker {
    upload_t *u;
    pthread_t thread;
    client_conn_t conn;
} upload_worker_t;

struct upload {
    const client_config_t *cfg;
    const client_upload_opts_t *opts;
    atomic_int *stop;                /* the caller's flag: set by a signal, or here on failure */
    atomic_int own_stop;             /* the flag when the caller has none */

    int fd;
    char abs_path[PATH_MAX];
    char name[PATH_MAX];             /* originFileName */
    client_identity_t identity;
    int64_t size;
    int64_t block_size;
    char file_id[CLIENT_FILE_ID_MAX + 1];
    client_token_params_t params;    /* what every getUploadToken of this upload sends */
    client_retry_policy_t retry;

    /* The grant, renewed by whichever thread first meets a 401. */
    pthread_mutex_t token_mu;
    client_api_t api;
    client_grant_t grant;
    unsigned token_gen;

    /* Blocks, record and failure. */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    client_record_t rec;
    bool *resumed;                   /* the block's ctx came from the record */
    bool record_on;
    char record_file[CLIENT_PATH_MAX + 64];
    bool dirty;
    int64_t last_flush_ns;
    size_t *todo;
    size_t todo_count, todo_next;
    int workers_running;
    bool failed;
    int exit_code;
    char error[1024];

    /* The MD5, when the record did not have it. */
    pthread_t hasher;
    bool hasher_started;
    atomic_int hash_state;           /* 0 running, 1 done, -1 failed */
    atomic_llong hashed;
    char hash_error[256];

    client_counters_t counters;
    int64_t resumed_bytes;
    client_progress_t progress;
};

/* ---- failure ------------------------------------------------------------------- */

static void upload_fail(upload_t *u, int exit_code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void upload_fail(upload_t *u, int exit_code, const char *fmt, ...)
{
    pthread_mutex_lock(&u->mu);
    if (!u->failed) {
        u->failed = true;
        u->exit_code = exit_code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(u->error, sizeof(u->error), fmt, ap);
        va_end(ap);
    }
    atomic_store(u->stop, 1);
    pthread_cond_broadcast(&u->cond);
    pthread_mutex_unlock(&u->mu);
}

static bool upload_failed(upload_t *u)
{
    pthread_mutex_lock(&u->mu);
    bool f = u->failed;
    pthread_mutex_unlock(&u->mu);
    return f;
}

/* True once stopped.  A stop that no failure explains came from a signal. */
static bool upload_check_signal(upload_t *u)
{
    if (!atomic_load(u->stop))
        return false;
    pthread_mutex_lock(&u->mu);
    if (!u->failed) {
        u->failed = true;
        u->exit_code = CLIENT_EXIT_INTERRUPTED;
        snprintf(u->error, sizeof(u->error), "interrupted; run the same command again to resume");
    }
    pthread_mutex_unlock(&u->mu);
    return true;
}

/* What went wrong with the last request of a connection, as one line. */
static void upload_describe(const client_conn_t *c, const char *what, const char *url, char *out, size_t outlen)
{
    if (c->why[0])
        snprintf(out, outlen, "%s: %s", what, c->why);
    else
        client_response_describe(&c->resp, what, url, out, outlen);
}

/* ---- record ---------------------------------------------------------------------- */

/* True when a change waits to be written now; called with mu held.  A
 * record of thousands of blocks is written at most once a second. */
static bool upload_flush_due(upload_t *u, bool force)
{
    if (!u->dirty)
        return false;
    if (!u->record_on) {
        u->dirty = false;
        return false;
    }
    bool big = u->rec.block_count * (size_t)(CLIENT_CTX_MAX / 2) > UPLOAD_RECORD_SLOW_SIZE;
    return force || !big || timeutil_monotonic_ns() - u->last_flush_ns >= 1000000000LL;
}

/* Writes the record when it changed. */
static void upload_flush_record(upload_t *u, bool force)
{
    pthread_mutex_lock(&u->mu);
    int64_t now = timeutil_monotonic_ns();
    if (!upload_flush_due(u, force)) {
        pthread_mutex_unlock(&u->mu);
        return;
    }
    char *json = client_record_to_json(&u->rec);
    u->dirty = false;
    u->last_flush_ns = now;
    pthread_mutex_unlock(&u->mu);
    char err[512];
    if (!json || !client_record_save(u->record_file, json, err, sizeof(err))) {
        client_progress_end(&u->progress);
        fprintf(stderr, "vodup upload: warning: %s; continuing without a resume record\n",
                json ? err : "out of memory");
        pthread_mutex_lock(&u->mu);
        u->record_on = false;
        pthread_mutex_unlock(&u->mu);
    }
    free(json);
}

static void upload_remove_record(upload_t *u)
{
    if (u->record_file[0])
        unlink(u->record_file);
}

/* Opens the record for this file: a matching one is reused, others go. */
static bool upload_open_record(upload_t *u, bool block_size_given)
{
    char dir[CLIENT_PATH_MAX];
    client_record_t old;
    bool have_old = false;
    if (!client_cache_dir(dir, sizeof(dir)) || !client_mkdirs(dir)) {
        fprintf(stderr, "vodup upload: warning: no cache directory (set HOME or XDG_CACHE_HOME); "
                        "this upload cannot be resumed\n");
    } else {
        snprintf(u->record_file, sizeof(u->record_file), "%s/%s.json", dir, u->file_id);
        u->record_on = true;
        client_record_purge(dir, u->abs_path, &u->identity);
        have_old = client_record_load(u->record_file, &old);
        if (have_old && !client_record_matches(&old, u->abs_path, u->cfg->endpoint, u->cfg->access_key,
                                                &u->identity)) {
            /* Made for other bytes (the file changed), or for another server or key. */
            client_record_free(&old);
            have_old = false;
            unlink(u->record_file);
        }
    }
    if (have_old && old.block_size != u->block_size) {
        if (block_size_given) {
            client_record_free(&old);
            have_old = false;
        } else {
            u->block_size = old.block_size; /* the same command again: keep the blocks it made */
        }
    }
    if (have_old) {
        u->rec = old;
    } else if (!client_record_init(&u->rec, u->abs_path, u->cfg->endpoint, u->cfg->access_key, u->file_id,
                                   &u->identity, u->block_size)) {
        snprintf(u->error, sizeof(u->error), "out of memory");
        return false;
    }
    u->resumed = calloc(u->rec.block_count ? u->rec.block_count : 1, sizeof(*u->resumed));
    u->todo = calloc(u->rec.block_count ? u->rec.block_count : 1, sizeof(*u->todo));
    if (!u->resumed || !u->todo) {
        snprintf(u->error, sizeof(u->error), "out of memory");
        return false;
    }
    return true;
}

static int64_t upload_block_len(const upload_t *u, size_t index)
{
    int64_t off = (int64_t)index * u->block_size;
    return u->size - off < u->block_size ? u->size - off : u->block_size;
}

/* Forgets ctx values: the resumed ones, or all when none was resumed. */
static void upload_drop_ctx(upload_t *u)
{
    bool any_resumed = false;
    for (size_t i = 0; i < u->rec.block_count; i++)
        any_resumed = any_resumed || u->resumed[i];
    for (size_t i = 0; i < u->rec.block_count; i++) {
        if (any_resumed && !u->resumed[i])
            continue;
        free(u->rec.ctx[i]);
        u->rec.ctx[i] = NULL;
        if (u->resumed[i])
            u->resumed_bytes -= upload_block_len(u, i);
        u->resumed[i] = false;
    }
    u->dirty = true;
}

/* ---- tokens and the API -------------------------------------------------------------- */

/* getUploadToken with this upload's parameters; called with token_mu held. */
static bool upload_grant_locked(upload_t *u, int *exit_code, char *err, size_t errlen)
{
    buf_t form;
    buf_init(&form, 0);
    client_response_t r;
    client_response_init(&r);
    client_grant_t g;
    bool ok = false;
    if (!client_token_form(&u->params, &form, err, errlen)) {
        *exit_code = CLIENT_EXIT_USAGE;
        goto out;
    }
    if (!client_api_post(&u->api, CLIENT_PATH_TOKEN, form.data, &r)) {
        client_response_describe(&r, "getUploadToken", u->cfg->endpoint, err, errlen);
        *exit_code = client_response_exit_code(&r);
        if (r.status == 409)
            *exit_code = 409; /* the caller looks at the video before giving up */
        goto out;
    }
    if (!client_grant_parse(r.json, &g)) {
        snprintf(err, errlen, "getUploadToken: the answer lacks videoId, fileKey, uploadUrl or uploadToken");
        *exit_code = CLIENT_EXIT_FAILURE;
        goto out;
    }
    if (u->grant.video_id[0] && strcmp(g.video_id, u->grant.video_id) != 0) {
        snprintf(err, errlen, "getUploadToken: fileId %s now names another video (%s, was %s)", u->file_id,
                 g.video_id, u->grant.video_id);
        *exit_code = CLIENT_EXIT_FAILURE;
        goto out;
    }
    u->grant = g;
    u->token_gen++;
    ok = true;
out:
    client_response_free(&r);
    buf_free(&form);
    return ok;
}

/* A fresh token after a 401 with the token of generation `gen`.  Only the
 * first thread to ask renews; the others find the newer token. */
static bool upload_renew_token(upload_t *u, unsigned gen)
{
    char err[1024];
    int code = CLIENT_EXIT_FAILURE;
    pthread_mutex_lock(&u->token_mu);
    bool ok = u->token_gen != gen || upload_grant_locked(u, &code, err, sizeof(err));
    pthread_mutex_unlock(&u->token_mu);
    if (!ok)
        upload_fail(u, code == 409 ? CLIENT_EXIT_FAILURE : code, "%s", err);
    return ok;
}

static unsigned upload_token_snapshot(upload_t *u, char *token, size_t token_len, char *url, size_t url_len)
{
    pthread_mutex_lock(&u->token_mu);
    snprintf(token, token_len, "%s", u->grant.token);
    snprintf(url, url_len, "%s", u->grant.upload_url);
    unsigned gen = u->token_gen;
    pthread_mutex_unlock(&u->token_mu);
    return gen;
}

/*
 * getVideoInfo: true when the video is published with this file's size and
 * MD5 (an answer lost after the server published it, or an earlier run that
 * finished).  Fills the etag and playUrl.
 */
static bool upload_check_published(upload_t *u, const char *md5, client_upload_result_t *res)
{
    buf_t form;
    buf_init(&form, 0);
    client_response_t r;
    client_response_init(&r);
    bool done = false;
    if (!buf_append_str(&form, "videoId=") || !buf_append_str(&form, u->grant.video_id))
        goto out;
    pthread_mutex_lock(&u->token_mu);
    bool ok = client_api_post(&u->api, CLIENT_PATH_INFO, form.data, &r);
    pthread_mutex_unlock(&u->token_mu);
    json_t *d = ok ? json_object_get(r.json, "data") : NULL;
    if (!json_is_object(d))
        goto out;
    const char *status = json_string_value(json_object_get(d, "status"));
    const char *got_md5 = json_string_value(json_object_get(d, "md5"));
    const char *etag = json_string_value(json_object_get(d, "etag"));
    const char *play = json_string_value(json_object_get(d, "playUrl"));
    json_t *size = json_object_get(d, "size");
    bool published = video_status_uploaded(video_status_parse(status));
    if (play)
        snprintf(res->play_url, sizeof(res->play_url), "%s", play);
    done = published && md5 && got_md5 && !strcmp(got_md5, md5) && json_is_integer(size) &&
           json_integer_value(size) == u->size && etag;
    if (done)
        snprintf(res->etag, sizeof(res->etag), "%s", etag);
out:
    client_response_free(&r);
    buf_free(&form);
    return done;
}

/* ---- blocks ------------------------------------------------------------------------ */

/*
 * Sends block `index` (mkblk, then bput chunks) and returns its last ctx in
 * ctx_out.  False after calling upload_fail (or when stopped).
 */
static bool upload_block(upload_t *u, upload_worker_t *w, size_t index, char ctx_out[CLIENT_CTX_MAX + 1])
{
    int64_t start = (int64_t)index * u->block_size;
    int64_t len = upload_block_len(u, (size_t)index);
    char token[CLIENT_TOKEN_MAX], url[CLIENT_UPLOAD_URL_MAX], what[96];
    client_chunk_answer_t a;
    int restarts = 0;
again:
    ctx_out[0] = '\0';
    for (int64_t pos = 0; pos < len;) {
        int64_t n = len - pos < CLIENT_CHUNK_SIZE ? len - pos : CLIENT_CHUNK_SIZE;
        snprintf(what, sizeof(what), "%s of block %zu", pos ? "bput" : "mkblk", index);
        int failures = 0;
        bool renewed = false;
        for (;;) {
            unsigned gen = upload_token_snapshot(u, token, sizeof(token), url, sizeof(url));
            client_chunk_t k = {.upload_url = url, .token = token, .fd = u->fd, .file_offset = start + pos,
                                .len = (size_t)n, .block_size = len, .block_index = (int64_t)index,
                                .ctx = pos ? ctx_out : NULL, .block_offset = pos};
            enum client_send_result r = client_chunk_send(&w->conn, &k, &a);
            if (r == CLIENT_SEND_OK)
                break;
            if (atomic_load(u->stop))
                return false;
            char why[1024];
            upload_describe(&w->conn, what, url, why, sizeof(why));
            if (r == CLIENT_SEND_RETRY) {
                if (++failures >= u->retry.max_tries) {
                    upload_fail(u, CLIENT_EXIT_FAILURE, "%s (after %d tries)", why, failures);
                    return false;
                }
                if (!client_retry_sleep(client_retry_delay_ms(&u->retry, failures, client_retry_random()),
                                        u->stop))
                    return false;
                continue;
            }
            if (w->conn.read_errno || w->conn.short_file) {
                upload_fail(u, CLIENT_EXIT_FAILURE, "cannot read %s: %s", u->opts->file,
                            w->conn.short_file ? "the file became shorter during the upload"
                                               : strerror(w->conn.read_errno));
                return false;
            }
            long status = w->conn.resp.status;
            if (status == 401 && !renewed) {
                renewed = true;
                if (!upload_renew_token(u, gen))
                    return false;
                continue;
            }
            if (status == 701 && pos > 0 && restarts < UPLOAD_BLOCK_RESTARTS) {
                restarts++; /* the server lost track of this block: start it again */
                goto again;
            }
            upload_fail(u, client_response_exit_code(&w->conn.resp), "%s", why);
            return false;
        }
        snprintf(ctx_out, CLIENT_CTX_MAX + 1, "%s", a.ctx);
        pos += n;
    }
    return true;
}

static void *upload_worker_main(void *arg)
{
    upload_worker_t *w = arg;
    upload_t *u = w->u;
    char ctx[CLIENT_CTX_MAX + 1];
    for (;;) {
        pthread_mutex_lock(&u->mu);
        if (u->failed || atomic_load(u->stop) || u->todo_next >= u->todo_count) {
            pthread_mutex_unlock(&u->mu);
            break;
        }
        size_t index = u->todo[u->todo_next++];
        pthread_mutex_unlock(&u->mu);
        if (!upload_block(u, w, index, ctx))
            break;
        char *copy = strdup(ctx);
        pthread_mutex_lock(&u->mu);
        free(u->rec.ctx[index]);
        u->rec.ctx[index] = copy;
        u->dirty = true;
        pthread_cond_broadcast(&u->cond);
        pthread_mutex_unlock(&u->mu);
        if (!copy) {
            upload_fail(u, CLIENT_EXIT_FAILURE, "out of memory");
            break;
        }
    }
    pthread_mutex_lock(&u->mu);
    u->workers_running--;
    pthread_cond_broadcast(&u->cond);
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

static void *upload_hasher_main(void *arg)
{
    upload_t *u = arg;
    char md5[33];
    bool ok = client_file_md5(u->fd, u->size, md5, &u->hashed, u->stop, u->hash_error, sizeof(u->hash_error));
    pthread_mutex_lock(&u->mu);
    if (ok) {
        memcpy(u->rec.md5, md5, sizeof(md5));
        u->dirty = true;
    }
    atomic_store(&u->hash_state, ok ? 1 : -1);
    pthread_cond_broadcast(&u->cond);
    pthread_mutex_unlock(&u->mu);
    return NULL;
}

/* Waits up to one tick for a change, then flushes the record and redraws. */
static void upload_tick(upload_t *u, const char *label, int64_t done, int64_t total)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += UPLOAD_TICK_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&u->mu);
    if (!upload_flush_due(u, false) && !u->failed)
        pthread_cond_timedwait(&u->cond, &u->mu, &ts);
    pthread_mutex_unlock(&u->mu);
    upload_check_signal(u);
    upload_flush_record(u, false);
    u->progress.total = total;
    client_progress_update(&u->progress, done, label, false);
}

/* Sends every block without a ctx, with `concurrency` workers. */
static bool upload_send_blocks(upload_t *u)
{
    u->todo_count = u->todo_next = 0;
    for (size_t i = 0; i < u->rec.block_count; i++)
        if (!u->rec.ctx[i])
            u->todo[u->todo_count++] = i;
    if (u->todo_count == 0)
        return true;
    int n = u->opts->concurrency;
    if ((size_t)n > u->todo_count)
        n = (int)u->todo_count;
    upload_worker_t *workers = calloc((size_t)n, sizeof(*workers));
    if (!workers) {
        upload_fail(u, CLIENT_EXIT_FAILURE, "out of memory");
        return false;
    }
    int64_t per_conn_rate = u->opts->limit_rate > 0 ? (u->opts->limit_rate + n - 1) / n : 0;
    int started = 0;
    for (int i = 0; i < n; i++) {
        workers[i].u = u;
        if (!client_conn_init(&workers[i].conn, &u->counters, u->stop, per_conn_rate, u->opts->stall_s)) {
            client_conn_free(&workers[i].conn);
            upload_fail(u, CLIENT_EXIT_FAILURE, "cannot set up a connection");
            break;
        }
        workers[i].conn.cacert = u->api.cfg->cacert;
        pthread_mutex_lock(&u->mu);
        u->workers_running++;
        pthread_mutex_unlock(&u->mu);
        if (pthread_create(&workers[i].thread, NULL, upload_worker_main, &workers[i]) != 0) {
            pthread_mutex_lock(&u->mu);
            u->workers_running--;
            pthread_mutex_unlock(&u->mu);
            client_conn_free(&workers[i].conn);
            upload_fail(u, CLIENT_EXIT_FAILURE, "cannot start a thread");
            break;
        }
        started++;
    }
    for (;;) {
        pthread_mutex_lock(&u->mu);
        int running = u->workers_running;
        pthread_mutex_unlock(&u->mu);
        if (running == 0)
            break;
        upload_tick(u, "upload", u->resumed_bytes + atomic_load(&u->counters.progress), u->size);
    }
    for (int i = 0; i < started; i++) {
        pthread_join(workers[i].thread, NULL);
        client_conn_free(&workers[i].conn);
    }
    free(workers);
    upload_flush_record(u, true);
    upload_check_signal(u);
    return !upload_failed(u);
}

/* mkfile with retries.  Returns 0 on success, the HTTP status of a final
 * refusal (for the caller to decide), or -1 after upload_fail. */
static long upload_mkfile(upload_t *u, client_conn_t *conn, client_upload_result_t *res)
{
    buf_t list;
    buf_init(&list, 0);
    long outcome = -1;
    bool ok = buf_append(&list, "", 0);
    for (size_t i = 0; ok && i < u->rec.block_count; i++)
        ok = (i == 0 || buf_append(&list, ",", 1)) && buf_append_str(&list, u->rec.ctx[i]);
    if (!ok) {
        upload_fail(u, CLIENT_EXIT_FAILURE, "out of memory");
        goto out;
    }
    char token[CLIENT_TOKEN_MAX], url[CLIENT_UPLOAD_URL_MAX], why[1024];
    int failures = 0;
    bool renewed = false;
    for (;;) {
        unsigned gen = upload_token_snapshot(u, token, sizeof(token), url, sizeof(url));
        enum client_send_result r = client_mkfile_send(conn, url, token, u->size, list.data, res->etag);
        if (r == CLIENT_SEND_OK) {
            outcome = 0;
            break;
        }
        if (upload_check_signal(u) || atomic_load(u->stop))
            break;
        upload_describe(conn, "mkfile", url, why, sizeof(why));
        if (r == CLIENT_SEND_RETRY) {
            if (++failures >= u->retry.max_tries) {
                upload_fail(u, CLIENT_EXIT_FAILURE, "%s (after %d tries)", why, failures);
                break;
            }
            if (!client_retry_sleep(client_retry_delay_ms(&u->retry, failures, client_retry_random()), u->stop))
                break;
            continue;
        }
        if (conn->resp.status == 401 && !renewed) {
            renewed = true;
            if (!upload_renew_token(u, gen))
                break;
            continue;
        }
        if (conn->resp.status >= 400 && conn->resp.status < 500) {
            outcome = conn->resp.status;
            snprintf(u->error, sizeof(u->error), "%s", why); /* reported if the caller gives up */
            u->exit_code = client_response_exit_code(&conn->resp);
            break;
        }
        upload_fail(u, CLIENT_EXIT_FAILURE, "%s", why);
        break;
    }
out:
    buf_free(&list);
    return outcome;
}

/* ---- the flows ------------------------------------------------------------------------ */

static bool upload_first_grant(upload_t *u, client_upload_result_t *res, bool *already_done)
{
    char err[1024];
    int code = CLIENT_EXIT_FAILURE;
    *already_done = false;
    pthread_mutex_lock(&u->token_mu);
    bool ok = upload_grant_locked(u, &code, err, sizeof(err));
    pthread_mutex_unlock(&u->token_mu);
    if (ok)
        return true;
    if (code == 409) {
        /* This fileId's upload completed earlier (perhaps the answer of the
         * last mkfile was lost): done if the video holds these bytes. */
        if (u->rec.video_id[0] && u->rec.md5[0]) {
            snprintf(u->grant.video_id, sizeof(u->grant.video_id), "%s", u->rec.video_id);
            if (upload_check_published(u, u->rec.md5, res)) {
                *already_done = true;
                return true;
            }
            u->grant.video_id[0] = '\0';
        }
        upload_fail(u, CLIENT_EXIT_FAILURE, "%s (pass --overwrite to upload it again, or --file-id for a new video)",
                    err);
        return false;
    }
    upload_fail(u, code, "%s", err);
    return false;
}

static int upload_form_flow(upload_t *u, client_upload_result_t *res)
{
    char md5[33], err[512];
    if (!client_file_md5(u->fd, u->size, md5, NULL, u->stop, err, sizeof(err))) {
        upload_fail(u, CLIENT_EXIT_FAILURE, "cannot read %s: %s", u->opts->file, err);
        return -1;
    }
    memcpy(u->rec.md5, md5, sizeof(md5));
    u->params.file_md5 = u->rec.md5;
    bool done = false;
    if (!upload_first_grant(u, res, &done))
        return -1;
    if (done)
        return 0;
    client_conn_t conn;
    if (!client_conn_init(&conn, &u->counters, u->stop, u->opts->limit_rate, u->opts->stall_s)) {
        client_conn_free(&conn);
        upload_fail(u, CLIENT_EXIT_FAILURE, "cannot set up a connection");
        return -1;
    }
    conn.cacert = u->api.cfg->cacert;
    char token[CLIENT_TOKEN_MAX], url[CLIENT_UPLOAD_URL_MAX], why[1024];
    int failures = 0, rc = -1;
    bool renewed = false;
    const char *base = strrchr(u->name, '/');
    for (;;) {
        unsigned gen = upload_token_snapshot(u, token, sizeof(token), url, sizeof(url));
        client_progress_update(&u->progress, atomic_load(&u->counters.progress), "upload", false);
        enum client_send_result r = client_form_send(&conn, url, token, u->fd, u->size, base ? base + 1 : u->name,
                                                     res->etag);
        if (r == CLIENT_SEND_OK) {
            rc = 0;
            break;
        }
        if (upload_check_signal(u) || atomic_load(u->stop))
            break;
        upload_describe(&conn, "form upload", url, why, sizeof(why));
        if (r == CLIENT_SEND_RETRY) {
            if (++failures >= u->retry.max_tries) {
                upload_fail(u, CLIENT_EXIT_FAILURE, "%s (after %d tries)", why, failures);
                break;
            }
            if (!client_retry_sleep(client_retry_delay_ms(&u->retry, failures, client_retry_random()), u->stop))
                break;
            continue;
        }
        if (conn.read_errno || conn.short_file) {
            upload_fail(u, CLIENT_EXIT_FAILURE, "cannot read %s: %s", u->opts->file,
                        conn.short_file ? "the file became shorter during the upload" : strerror(conn.read_errno));
            break;
        }
        if (conn.resp.status == 401 && !renewed) {
            renewed = true;
            if (!upload_renew_token(u, gen))
                break;
            continue;
        }
        /* A retry after a lost answer finds the object already there. */
        if (failures > 0 && conn.resp.status == 406 && upload_check_published(u, md5, res)) {
            rc = 0;
            break;
        }
        upload_fail(u, client_response_exit_code(&conn.resp), "%s", why);
        break;
    }
    client_conn_free(&conn);
    return rc;
}

static int upload_block_flow(upload_t *u, client_upload_result_t *res)
{
    /* Blocks the record holds are not sent again. */
    for (size_t i = 0; i < u->rec.block_count; i++) {
        u->resumed[i] = u->rec.ctx[i] != NULL;
        if (u->resumed[i])
            u->resumed_bytes += upload_block_len(u, i);
    }
    if (u->rec.md5[0])
        u->params.file_md5 = u->rec.md5;
    bool done = false;
    if (!upload_first_grant(u, res, &done))
        return -1;
    if (done) {
        res->resumed_bytes = u->size;
        u->resumed_bytes = u->size;
        return 0;
    }
    pthread_mutex_lock(&u->mu);
    if (u->rec.video_id[0] && strcmp(u->rec.video_id, u->grant.video_id) != 0) {
        /* The server registered a new video for this fileId (its data was
         * reset, say): the old ctx values belong to another upload. */
        for (size_t i = 0; i < u->rec.block_count; i++) {
            free(u->rec.ctx[i]);
            u->rec.ctx[i] = NULL;
            u->resumed[i] = false;
        }
        u->resumed_bytes = 0;
    }
    snprintf(u->rec.video_id, sizeof(u->rec.video_id), "%s", u->grant.video_id);
    u->dirty = true;
    pthread_mutex_unlock(&u->mu);
    upload_flush_record(u, true);

    if (!u->rec.md5[0]) {
        if (pthread_create(&u->hasher, NULL, upload_hasher_main, u) != 0) {
            upload_fail(u, CLIENT_EXIT_FAILURE, "cannot start a thread");
            return -1;
        }
        u->hasher_started = true;
    } else {
        atomic_store(&u->hash_state, 1);
    }

    client_conn_t conn;
    bool conn_ok = client_conn_init(&conn, &u->counters, u->stop, 0, u->opts->stall_s);
    conn.cacert = u->api.cfg->cacert;
    int rc = -1;
    for (int round = 0; conn_ok && round < UPLOAD_ROUNDS; round++) {
        if (!upload_send_blocks(u))
            break;
        /* The MD5 must be known before mkfile: wait for the hasher. */
        while (atomic_load(&u->hash_state) == 0 && !upload_failed(u))
            upload_tick(u, "md5", atomic_load(&u->hashed), u->size);
        if (upload_failed(u))
            break;
        if (atomic_load(&u->hash_state) < 0) {
            upload_fail(u, CLIENT_EXIT_FAILURE, "cannot read %s: %s", u->opts->file, u->hash_error);
            break;
        }
        upload_flush_record(u, true);
        struct stat st;
        client_identity_t now;
        if (fstat(u->fd, &st) != 0) {
            upload_fail(u, CLIENT_EXIT_FAILURE, "cannot stat %s: %s", u->opts->file, strerror(errno));
            break;
        }
        client_identity_from_stat(&st, &now);
        if (!client_identity_equal(&now, &u->identity)) {
            upload_remove_record(u);
            upload_fail(u, CLIENT_EXIT_FAILURE, "%s changed during the upload; run the command again",
                        u->opts->file);
            break;
        }
        if (!u->params.file_md5) {
            /* Same fileId: same video, a fresh token, and the server now knows the MD5 to check. */
            u->params.file_md5 = u->rec.md5;
            char err[1024];
            int code = CLIENT_EXIT_FAILURE;
            pthread_mutex_lock(&u->token_mu);
            bool ok = upload_grant_locked(u, &code, err, sizeof(err));
            pthread_mutex_unlock(&u->token_mu);
            if (!ok) {
                upload_fail(u, code == 409 ? CLIENT_EXIT_FAILURE : code, "%s", err);
                break;
            }
        }
        client_progress_update(&u->progress, u->size, "mkfile", true);
        long outcome = upload_mkfile(u, &conn, res);
        if (outcome == 0) {
            rc = 0;
            break;
        }
        if (outcome < 0)
            break;
        /* A final refusal: maybe an earlier try did publish (its answer was lost). */
        if (upload_check_published(u, u->rec.md5, res)) {
            rc = 0;
            break;
        }
        if ((outcome == 412 || outcome == 401) && round + 1 < UPLOAD_ROUNDS) {
            /* A block is gone or its ctx is no longer accepted: send the resumed blocks again. */
            pthread_mutex_lock(&u->mu);
            upload_drop_ctx(u);
            pthread_mutex_unlock(&u->mu);
            upload_flush_record(u, true);
            continue;
        }
        char msg[1024];
        snprintf(msg, sizeof(msg), "%s", u->error);
        int code = u->exit_code ? u->exit_code : CLIENT_EXIT_FAILURE;
        u->error[0] = '\0';
        upload_fail(u, code, "%s", msg);
        break;
    }
    if (!conn_ok)
        upload_fail(u, CLIENT_EXIT_FAILURE, "cannot set up a connection");
    client_conn_free(&conn);
    return rc;
}

/* ---- setup ------------------------------------------------------------------------------- */

static bool upload_open_file(upload_t *u)
{
    const char *file = u->opts->file;
    u->fd = open(file, O_RDONLY | O_CLOEXEC);
    if (u->fd < 0) {
        snprintf(u->error, sizeof(u->error), "cannot open %s: %s", file, strerror(errno));
        return false;
    }
    struct stat st;
    if (fstat(u->fd, &st) != 0) {
        snprintf(u->error, sizeof(u->error), "cannot stat %s: %s", file, strerror(errno));
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(u->error, sizeof(u->error), "%s is not a regular file", file);
        return false;
    }
    /* Reading one byte proves the file is readable now, before any registration. */
    char probe;
    if (st.st_size > 0 && pread(u->fd, &probe, 1, 0) < 0) {
        snprintf(u->error, sizeof(u->error), "cannot read %s: %s", file, strerror(errno));
        return false;
    }
    client_identity_from_stat(&st, &u->identity);
    u->size = (int64_t)st.st_size;
    if (!realpath(file, u->abs_path)) {
        snprintf(u->error, sizeof(u->error), "cannot resolve %s: %s", file, strerror(errno));
        return false;
    }
    if (u->opts->params.name) {
        snprintf(u->name, sizeof(u->name), "%s", u->opts->params.name);
    } else {
        const char *slash = strrchr(u->abs_path, '/');
        snprintf(u->name, sizeof(u->name), "%s", slash ? slash + 1 : u->abs_path);
    }
    return true;
}

int client_upload(const client_config_t *cfg, const client_upload_opts_t *o, atomic_int *stop,
                  client_upload_result_t *res)
{
    memset(res, 0, sizeof(*res));
    upload_t *u = calloc(1, sizeof(*u));
    if (!u) {
        snprintf(res->error, sizeof(res->error), "out of memory");
        return CLIENT_EXIT_FAILURE;
    }
    int64_t started = timeutil_monotonic_ns();
    int rc = CLIENT_EXIT_FAILURE;
    u->cfg = cfg;
    u->opts = o;
    u->stop = stop ? stop : &u->own_stop;
    u->fd = -1;
    pthread_mutex_init(&u->mu, NULL);
    pthread_mutex_init(&u->token_mu, NULL);
    pthread_cond_init(&u->cond, NULL);
    client_retry_policy_from_env(&u->retry);
    bool api_ok = client_api_init(&u->api, cfg, u->stop);
    if (!api_ok) {
        snprintf(u->error, sizeof(u->error), "cannot initialise libcurl");
        goto out;
    }
    if (!upload_open_file(u))
        goto out;
    u->block_size = o->block_size > 0 ? o->block_size : CLIENT_DEFAULT_BLOCK_SIZE;
    if (o->params.file_id) {
        snprintf(u->file_id, sizeof(u->file_id), "%s", o->params.file_id);
    } else if (!client_file_id_derive(cfg->endpoint, cfg->access_key, u->abs_path, &u->identity, u->file_id)) {
        snprintf(u->error, sizeof(u->error), "cannot derive a fileId");
        goto out;
    }
    bool form = u->size <= CLIENT_FORM_MAX;
    if (form) {
        if (!client_record_init(&u->rec, u->abs_path, cfg->endpoint, cfg->access_key, u->file_id, &u->identity,
                                u->block_size)) {
            snprintf(u->error, sizeof(u->error), "out of memory");
            goto out;
        }
    } else if (!upload_open_record(u, o->block_size > 0)) {
        goto out;
    }
    u->params = o->params;
    u->params.name = u->name;
    u->params.file_id = u->file_id;
    u->params.file_size = u->size;
    u->params.file_md5 = NULL;
    client_progress_init(&u->progress, u->size, o->progress);

    int flow = form ? upload_form_flow(u, res) : upload_block_flow(u, res);
    if (u->hasher_started) {
        /* Finished on success; stopped (u->stop) on failure. */
        pthread_join(u->hasher, NULL);
        u->hasher_started = false;
    }
    client_progress_end(&u->progress);
    if (flow == 0) {
        upload_remove_record(u);
        if (!res->play_url[0])
            upload_check_published(u, u->rec.md5, res); /* for playUrl */
        snprintf(res->video_id, sizeof(res->video_id), "%s", u->grant.video_id);
        snprintf(res->file_key, sizeof(res->file_key), "%s", u->grant.file_key);
        snprintf(res->md5, sizeof(res->md5), "%s", u->rec.md5);
        rc = CLIENT_EXIT_OK;
        u->error[0] = '\0';
    } else {
        rc = u->exit_code ? u->exit_code : CLIENT_EXIT_FAILURE;
    }
out:
    if (rc != CLIENT_EXIT_OK)
        snprintf(res->error, sizeof(res->error), "%s", u->error[0] ? u->error : "the upload failed");
    snprintf(res->file_id, sizeof(res->file_id), "%s", u->file_id);
    res->size = u->size;
    res->bytes_sent = atomic_load(&u->counters.sent);
    res->resumed_bytes = res->resumed_bytes ? res->resumed_bytes : u->resumed_bytes;
    res->form = u->size <= CLIENT_FORM_MAX && u->fd >= 0;
    res->seconds = (double)(timeutil_monotonic_ns() - started) / 1e9;
    if (u->fd >= 0)
        close(u->fd);
    if (api_ok)
        client_api_free(&u->api);
    client_record_free(&u->rec);
    free(u->resumed);
    free(u->todo);
    pthread_cond_destroy(&u->cond);
    pthread_mutex_destroy(&u->token_mu);
    pthread_mutex_destroy(&u->mu);
    free(u);
    return rc;
}
