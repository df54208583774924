/*
 * client_transfer.c: mkblk, bput, mkfile and form upload requests; see
 * client_transfer.h.
 */
#include "client/client_transfer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <zlib.h>

#include "common/encoding.h"

#define CLIENT_REQUEST_URL_MAX (CLIENT_UPLOAD_URL_MAX + CLIENT_CTX_MAX + 64)
#define CLIENT_MKFILE_MIN_TIMEOUT_S 600
#define CLIENT_MKFILE_BYTES_PER_S (20LL * 1024 * 1024) /* a slow server still assembles this fast */

bool client_conn_init(client_conn_t *c, client_counters_t *counters, const atomic_int *stop,
                      int64_t max_send_speed, long stall_s)
{
    memset(c, 0, sizeof(*c));
    c->counters = counters;
    c->stop = stop;
    c->max_send_speed = max_send_speed;
    c->stall_s = stall_s > 0 ? stall_s : CLIENT_DEFAULT_STALL_S;
    client_response_init(&c->resp);
    c->curl = curl_easy_init();
    return c->curl != NULL;
}

void client_conn_free(client_conn_t *c)
{
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
    client_response_free(&c->resp);
}

/* ---- the body: a range of the file ------------------------------------------- */

typedef struct client_body {
    client_conn_t *conn;
    int fd;
    int64_t offset;  /* of the range in the file */
    size_t len;
    size_t pos;      /* bytes handed to curl in this try */
    uLong crc;
} client_body_t;

static size_t client_body_read(char *out, size_t size, size_t nmemb, void *arg)
{
    client_body_t *b = arg;
    size_t want = size * nmemb;
    if (want > b->len - b->pos)
        want = b->len - b->pos;
    if (want == 0)
        return 0;
    ssize_t n;
    do {
        n = pread(b->fd, out, want, b->offset + (off_t)b->pos);
    } while (n < 0 && errno == EINTR);
    if (n <= 0) {
        /* A read error, or the file is shorter than when the upload began. */
        b->conn->read_errno = n < 0 ? errno : 0;
        b->conn->short_file = n == 0;
        return CURL_READFUNC_ABORT;
    }
    b->crc = crc32(b->crc, (const Bytef *)out, (uInt)n);
    b->pos += (size_t)n;
    atomic_fetch_add(&b->conn->counters->sent, (long long)n);
    atomic_fetch_add(&b->conn->counters->progress, (long long)n);
    return (size_t)n;
}

/* libcurl rewinds when it must send the body again on a new connection. */
static int client_body_seek(void *arg, curl_off_t offset, int origin)
{
    client_body_t *b = arg;
    if (origin != SEEK_SET || offset != 0)
        return CURL_SEEKFUNC_CANTSEEK;
    atomic_fetch_sub(&b->conn->counters->progress, (long long)b->pos);
    b->pos = 0;
    b->crc = crc32(0L, Z_NULL, 0);
    return CURL_SEEKFUNC_OK;
}

/* Takes back the progress of a try that did not succeed. */
static void client_body_unwind(client_body_t *b)
{
    atomic_fetch_sub(&b->conn->counters->progress, (long long)b->pos);
    b->pos = 0;
}

/* ---- one request ---------------------------------------------------------------- */

static size_t client_conn_write(char *data, size_t size, size_t nmemb, void *arg)
{
    client_response_t *r = arg;
    return buf_append(&r->body, data, size * nmemb) ? size * nmemb : 0;
}

static size_t client_conn_header(char *data, size_t size, size_t nmemb, void *arg)
{
    client_response_t *r = arg;
    size_t len = size * nmemb;
    static const char name[] = "X-Reqid:";
    if (len > sizeof(name) - 1 && strncasecmp(data, name, sizeof(name) - 1) == 0) {
        const char *v = data + sizeof(name) - 1;
        size_t n = len - (sizeof(name) - 1);
        while (n > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            n--;
        }
        while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
            n--;
        if (n >= sizeof(r->request_id))
            n = sizeof(r->request_id) - 1;
        memcpy(r->request_id, v, n);
        r->request_id[n] = '\0';
    }
    return len;
}

/* Headers: Authorization with the token, a content type, no Expect (it
 * would cost a round trip per chunk). */
static struct curl_slist *client_conn_headers(const char *token, const char *content_type)
{
    char auth[CLIENT_TOKEN_MAX + 32], ct[128];
    snprintf(auth, sizeof(auth), "Authorization: UpToken %s", token);
    struct curl_slist *h = NULL, *n;
    const char *lines[] = {auth, ct, "Expect:", NULL};
    snprintf(ct, sizeof(ct), "Content-Type: %s", content_type ? content_type : "");
    if (!content_type)
        lines[1] = "Content-Type:";
    for (size_t i = 0; lines[i]; i++) {
        n = curl_slist_append(h, lines[i]);
        if (!n) {
            curl_slist_free_all(h);
            return NULL;
        }
        h = n;
    }
    return h;
}

/* Common options, the request, and the response into c->resp. */
static void client_conn_perform(client_conn_t *c, const char *url, struct curl_slist *headers, long timeout_s,
                                bool stall_check)
{
    CURL *h = c->curl;
    client_response_reset(&c->resp);
    c->read_errno = 0;
    c->short_file = false;
    c->why[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, client_conn_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->resp);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, client_conn_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &c->resp);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->resp.curl_error);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    if (stall_check) {
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, c->stall_s);
    }
    if (c->max_send_speed > 0)
        curl_easy_setopt(h, CURLOPT_MAX_SEND_SPEED_LARGE, (curl_off_t)c->max_send_speed);
    c->resp.curl_code = curl_easy_perform(h);
    if (c->resp.curl_code == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->resp.status);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    if (c->resp.body.len > 0)
        c->resp.json = json_loadb(c->resp.body.data, c->resp.body.len, JSON_DECODE_ANY, NULL);
}

/* Resets the handle but keeps its connection, and sets what every request shares. */
static void client_conn_begin(client_conn_t *c)
{
    curl_easy_reset(c->curl);
    client_curl_defaults(c->curl, c->stop, c->cacert);
}

static enum client_send_result client_conn_verdict(const client_conn_t *c)
{
    if (c->read_errno || c->short_file)
        return CLIENT_SEND_FAIL;
    switch (client_retry_classify(c->resp.curl_code, c->resp.status)) {
    case CLIENT_RETRY_DONE:
        return CLIENT_SEND_OK;
    case CLIENT_RETRY_AGAIN:
        return CLIENT_SEND_RETRY;
    default:
        return CLIENT_SEND_FAIL;
    }
}

/* ---- mkblk / bput ------------------------------------------------------------------ */

static bool client_chunk_parse(const client_conn_t *c, uLong crc, client_chunk_answer_t *a)
{
    const json_t *j = c->resp.json;
    json_t *ctx = json_is_object(j) ? json_object_get(j, "ctx") : NULL;
    json_t *off = json_is_object(j) ? json_object_get(j, "offset") : NULL;
    json_t *sum = json_is_object(j) ? json_object_get(j, "crc32") : NULL;
    if (!json_is_string(ctx) || !client_ctx_valid(json_string_value(ctx)) || !json_is_integer(off))
        return false;
    /* The contract makes crc32 an unsigned decimal; compare it when present. */
    if (sum && (!json_is_integer(sum) || (uLong)json_integer_value(sum) != crc))
        return false;
    snprintf(a->ctx, sizeof(a->ctx), "%s", json_string_value(ctx));
    a->offset = json_integer_value(off);
    return true;
}

enum client_send_result client_chunk_send(client_conn_t *c, const client_chunk_t *k, client_chunk_answer_t *a)
{
    char url[CLIENT_REQUEST_URL_MAX];
    if (k->ctx)
        snprintf(url, sizeof(url), "%s/bput/%s/%lld", k->upload_url, k->ctx, (long long)k->block_offset);
    else
        snprintf(url, sizeof(url), "%s/mkblk/%lld/%lld", k->upload_url, (long long)k->block_size,
                 (long long)k->block_index);
    struct curl_slist *headers = client_conn_headers(k->token, "application/octet-stream");
    if (!headers) {
        client_response_reset(&c->resp);
        c->resp.curl_code = CURLE_OUT_OF_MEMORY;
        return CLIENT_SEND_FAIL;
    }
    client_body_t body = {.conn = c, .fd = k->fd, .offset = k->file_offset, .len = k->len,
                          .crc = crc32(0L, Z_NULL, 0)};
    client_conn_begin(c);
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)k->len);
    curl_easy_setopt(h, CURLOPT_READFUNCTION, client_body_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &body);
    curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, client_body_seek);
    curl_easy_setopt(h, CURLOPT_SEEKDATA, &body);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, (long)CLIENT_UPLOAD_BUFFER);
    /* No overall limit: a slow link is fine as long as bytes move (stall check). */
    client_conn_perform(c, url, headers, 0L, true);
    curl_slist_free_all(headers);

    enum client_send_result v = client_conn_verdict(c);
    if (v == CLIENT_SEND_OK) {
        /* What the server holds must be what was read: the whole chunk, and its CRC. */
        if (body.pos != k->len || !client_chunk_parse(c, body.crc, a) ||
            a->offset != k->block_offset + (int64_t)k->len) {
            snprintf(c->why, sizeof(c->why), "the server's acknowledgement does not match the chunk sent");
            v = CLIENT_SEND_RETRY;
        }
    }
    if (v != CLIENT_SEND_OK)
        client_body_unwind(&body);
    return v;
}

/* ---- mkfile ------------------------------------------------------------------------ */

enum client_send_result client_mkfile_send(client_conn_t *c, const char *upload_url, const char *token,
                                           int64_t size, const char *ctx_list, char etag[CLIENT_ETAG_MAX])
{
    char url[CLIENT_REQUEST_URL_MAX];
    snprintf(url, sizeof(url), "%s/mkfile/%lld", upload_url, (long long)size);
    struct curl_slist *headers = client_conn_headers(token, "text/plain");
    if (!headers) {
        client_response_reset(&c->resp);
        c->resp.curl_code = CURLE_OUT_OF_MEMORY;
        return CLIENT_SEND_FAIL;
    }
    client_conn_begin(c);
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, ctx_list);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(ctx_list));
    /* The server assembles and hashes the whole file before it answers: no
     * stall check, a timeout that grows with the size. */
    long timeout = CLIENT_MKFILE_MIN_TIMEOUT_S + (long)(size / CLIENT_MKFILE_BYTES_PER_S);
    client_conn_perform(c, url, headers, timeout, false);
    curl_slist_free_all(headers);
    enum client_send_result v = client_conn_verdict(c);
    if (v == CLIENT_SEND_OK) {
        json_t *hash = json_is_object(c->resp.json) ? json_object_get(c->resp.json, "hash") : NULL;
        if (!json_is_string(hash) || json_string_length(hash) >= CLIENT_ETAG_MAX) {
            snprintf(c->why, sizeof(c->why), "mkfile answered without a hash");
            return CLIENT_SEND_RETRY;
        }
        snprintf(etag, CLIENT_ETAG_MAX, "%s", json_string_value(hash));
    }
    return v;
}

/* ---- form upload --------------------------------------------------------------------- */

bool client_form_answer_etag(const char *body, size_t len, char etag[CLIENT_ETAG_MAX])
{
    buf_t b;
    buf_init(&b, 4096);
    while (len > 0 && (body[len - 1] == '\n' || body[len - 1] == '\r' || body[len - 1] == ' '))
        len--;
    bool ok = len > 0 && encoding_b64url_decode(body, len, &b) && b.data;
    const char *hash = NULL;
    if (ok) {
        /* "hash=<etag>", possibly after returnBody pairs: the last hash= wins. */
        for (const char *p = b.data; (p = strstr(p, "hash=")) != NULL; p += 5)
            if (p == b.data || p[-1] == '&')
                hash = p + 5;
    }
    size_t n = hash ? strcspn(hash, "&") : 0;
    ok = ok && hash && n > 0 && n < CLIENT_ETAG_MAX;
    if (ok) {
        memcpy(etag, hash, n);
        etag[n] = '\0';
    }
    buf_free(&b);
    return ok;
}

static size_t client_form_read(char *out, size_t size, size_t nmemb, void *arg)
{
    return client_body_read(out, size, nmemb, arg);
}

static int client_form_seek(void *arg, curl_off_t offset, int origin)
{
    client_body_t *b = arg;
    if (origin != SEEK_SET || offset < 0 || (uint64_t)offset > b->len)
        return CURL_SEEKFUNC_CANTSEEK;
    atomic_fetch_sub(&b->conn->counters->progress, (long long)b->pos - (long long)offset);
    b->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

enum client_send_result client_form_send(client_conn_t *c, const char *upload_url, const char *token, int fd,
                                         int64_t size, const char *filename, char etag[CLIENT_ETAG_MAX])
{
    char url[CLIENT_REQUEST_URL_MAX];
    snprintf(url, sizeof(url), "%s/file/upload", upload_url);
    client_body_t body = {.conn = c, .fd = fd, .offset = 0, .len = (size_t)size, .crc = crc32(0L, Z_NULL, 0)};
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    client_conn_begin(c);
    curl_mime *mime = curl_mime_init(c->curl);
    curl_mimepart *part = mime ? curl_mime_addpart(mime) : NULL;
    bool ok = headers && part && curl_mime_name(part, "token") == CURLE_OK &&
              curl_mime_data(part, token, CURL_ZERO_TERMINATED) == CURLE_OK;
    part = ok ? curl_mime_addpart(mime) : NULL;
    ok = ok && part && curl_mime_name(part, "file") == CURLE_OK && curl_mime_filename(part, filename) == CURLE_OK &&
         curl_mime_type(part, "application/octet-stream") == CURLE_OK &&
         curl_mime_data_cb(part, (curl_off_t)size, client_form_read, client_form_seek, NULL, &body) == CURLE_OK;
    if (!ok) {
        curl_mime_free(mime);
        curl_slist_free_all(headers);
        client_response_reset(&c->resp);
        c->resp.curl_code = CURLE_OUT_OF_MEMORY;
        return CLIENT_SEND_FAIL;
    }
    curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, mime);
    curl_easy_setopt(c->curl, CURLOPT_UPLOAD_BUFFERSIZE, (long)CLIENT_UPLOAD_BUFFER);
    client_conn_perform(c, url, headers, 0L, true);
    curl_mime_free(mime);
    curl_slist_free_all(headers);
    enum client_send_result v = client_conn_verdict(c);
    if (v == CLIENT_SEND_OK && !client_form_answer_etag(c->resp.body.data, c->resp.body.len, etag)) {
        snprintf(c->why, sizeof(c->why), "the form upload answered without a hash");
        v = CLIENT_SEND_RETRY;
    }
    if (v != CLIENT_SEND_OK)
        client_body_unwind(&body);
    return v;
}
