/*
 * harness_upload.c: the upload-endpoint client of the integration tests;
 * see harness_upload.h.
 *
 * The reference values (etag, base64, token signatures) are computed here
 * from OpenSSL and zlib primitives, not with the server's own functions, so
 * that a bug shared by both sides cannot hide itself.
 */
#define _GNU_SOURCE /* strcasecmp, strndup */
#include "harness_upload.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <zlib.h>

#include "common/buf.h"

#define HARNESS_UPLOAD_TIMEOUT_S 60
#define HARNESS_EXPECT_WAIT_MS 5000L

static uint64_t harness_upload_sent;

uint64_t harness_upload_bytes_sent(void)
{
    return __atomic_load_n(&harness_upload_sent, __ATOMIC_RELAXED);
}

static void harness_upload_count(size_t n)
{
    __atomic_add_fetch(&harness_upload_sent, (uint64_t)n, __ATOMIC_RELAXED);
}

/* ---- reference values ------------------------------------------------------ */

void harness_md5_hex(const void *data, size_t len, char out[33])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    if (EVP_Digest(data ? data : "", len, md, &n, EVP_md5(), NULL) != 1 || n != 16) {
        out[0] = '\0';
        return;
    }
    for (unsigned i = 0; i < 16; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[32] = '\0';
}

uint32_t harness_crc32(const void *data, size_t len)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    const Bytef *p = data;
    /* zlib takes a uInt length: feed large buffers in pieces. */
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;
        crc = crc32(crc, p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)crc;
}

char *harness_b64url(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    if (!out)
        return NULL;
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    out[n < 0 ? 0 : n] = '\0';
    for (char *p = out; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    return out;
}

char *harness_b64url_decode(const char *text, size_t *out_len)
{
    size_t len = strlen(text);
    while (len > 0 && text[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return NULL;
    size_t padded = (len + 3) / 4 * 4;
    char *std = malloc(padded + 1);
    char *out = malloc(padded / 4 * 3 + 1);
    if (!std || !out)
        goto fail;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (c == '-')
            c = '+';
        else if (c == '_')
            c = '/';
        else if (!isalnum((unsigned char)c))
            goto fail;
        std[i] = c;
    }
    for (size_t i = len; i < padded; i++)
        std[i] = '=';
    std[padded] = '\0';
    int n = padded ? EVP_DecodeBlock((unsigned char *)out, (unsigned char *)std, (int)padded) : 0;
    if (n < 0)
        goto fail;
    n -= (int)(padded - len); /* EVP_DecodeBlock counts the padding as zero bytes */
    out[n] = '\0';
    if (out_len)
        *out_len = (size_t)n;
    free(std);
    return out;
fail:
    free(std);
    free(out);
    return NULL;
}

static bool harness_sha1(const void *data, size_t len, unsigned char md[20])
{
    unsigned int n = 0;
    return EVP_Digest(data ? data : "", len, md, &n, EVP_sha1(), NULL) == 1 && n == 20;
}

void harness_etag(const void *data, size_t len, char out[HARNESS_ETAG_LEN + 1])
{
    unsigned char tagged[21];
    out[0] = '\0';
    if (len <= HARNESS_ETAG_PIECE) {
        /* One piece (an empty file is one empty piece): 0x16 || SHA1(piece). */
        tagged[0] = 0x16;
        if (!harness_sha1(data, len, tagged + 1))
            return;
    } else {
        /* Several: 0x96 || SHA1(SHA1(p1) || SHA1(p2) || ...). */
        size_t pieces = (len + HARNESS_ETAG_PIECE - 1) / HARNESS_ETAG_PIECE;
        unsigned char *sums = malloc(pieces * 20);
        if (!sums)
            return;
        const unsigned char *p = data;
        bool ok = true;
        for (size_t i = 0; i < pieces && ok; i++) {
            size_t n = len - i * HARNESS_ETAG_PIECE;
            ok = harness_sha1(p + i * HARNESS_ETAG_PIECE, n > HARNESS_ETAG_PIECE ? HARNESS_ETAG_PIECE : n,
                              sums + 20 * i);
        }
        tagged[0] = 0x96;
        ok = ok && harness_sha1(sums, pieces * 20, tagged + 1);
        free(sums);
        if (!ok)
            return;
    }
    char *b64 = harness_b64url(tagged, sizeof(tagged));
    if (b64 && strlen(b64) == HARNESS_ETAG_LEN)
        memcpy(out, b64, HARNESS_ETAG_LEN + 1);
    free(b64);
}

uint8_t *harness_pattern(size_t len, uint32_t seed)
{
    uint8_t *out = malloc(len ? len : 1);
    if (!out)
        return NULL;
    uint32_t x = seed ? seed : 0x9e3779b9u;
    for (size_t i = 0; i < len; i++) {
        /* xorshift32: fast, and every byte differs from its neighbours. */
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        out[i] = (uint8_t)(x >> 24);
    }
    return out;
}

/* ---- tokens ---------------------------------------------------------------- */

bool harness_grant(harness_server_t *s, const harness_grant_opts_t *o, harness_grant_t *g)
{
    static const harness_grant_opts_t none = {0};
    if (!o)
        o = &none;
    const char *nv[16];
    size_t n = 0;
    nv[n++] = "originFileName";
    nv[n++] = o->name ? o->name : "clip.mp4";
    if (o->file_id) {
        nv[n++] = "fileId";
        nv[n++] = o->file_id;
    }
    if (o->file_size) {
        nv[n++] = "fileSize";
        nv[n++] = o->file_size;
    }
    if (o->file_md5) {
        nv[n++] = "fileMd5";
        nv[n++] = o->file_md5;
    }
    if (o->overwrite) {
        nv[n++] = "overwrite";
        nv[n++] = "1";
    }
    nv[n] = NULL;
    memset(g, 0, sizeof(*g));
    char *form = harness_formv(nv);
    harness_response_t r = {0};
    bool ok = form && harness_upload_token(s, o->key, form, &r);
    json_t *d = ok && r.status == 200 ? harness_data(&r) : NULL;
    const char *video_id = harness_json_str(d, "videoId"), *file_key = harness_json_str(d, "fileKey");
    const char *bucket = harness_json_str(d, "bucketName"), *url = harness_json_str(d, "uploadUrl");
    const char *token = harness_json_str(d, "uploadToken");
    ok = video_id && file_key && bucket && url && token && strlen(video_id) < sizeof(g->video_id) &&
         strlen(file_key) < sizeof(g->file_key) && strlen(bucket) < sizeof(g->bucket) &&
         strlen(url) < sizeof(g->upload_url) && strlen(token) < sizeof(g->token);
    if (ok) {
        snprintf(g->video_id, sizeof(g->video_id), "%s", video_id);
        snprintf(g->file_key, sizeof(g->file_key), "%s", file_key);
        snprintf(g->bucket, sizeof(g->bucket), "%s", bucket);
        snprintf(g->upload_url, sizeof(g->upload_url), "%s", url);
        snprintf(g->token, sizeof(g->token), "%s", token);
        harness_note_secret(s, token);
    } else {
        fprintf(stderr, "harness: getUploadToken %s: HTTP %ld %.400s\n", form ? form : "", r.status,
                r.body ? r.body : "");
    }
    harness_response_free(&r);
    free(form);
    return ok;
}

char *harness_mint(const char *access_key, const char *secret_key, const char *policy_json)
{
    static const char hex[] = "0123456789abcdef";
    char *encoded_policy = harness_b64url(policy_json, strlen(policy_json));
    char *encoded_sign = NULL, *token = NULL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char sign_hex[2 * EVP_MAX_MD_SIZE + 1];
    if (!encoded_policy)
        goto out;
    /* The HMAC is over the encoded policy, as it travels. */
    if (!HMAC(EVP_sha1(), secret_key, (int)strlen(secret_key), (const unsigned char *)encoded_policy,
              strlen(encoded_policy), md, &mdlen))
        goto out;
    for (unsigned i = 0; i < mdlen; i++) {
        sign_hex[2 * i] = hex[md[i] >> 4];
        sign_hex[2 * i + 1] = hex[md[i] & 15];
    }
    sign_hex[2 * mdlen] = '\0';
    encoded_sign = harness_b64url(sign_hex, 2 * mdlen);
    if (encoded_sign)
        token = harness_strf("%s:%s:%s", access_key, encoded_sign, encoded_policy);
out:
    free(encoded_sign);
    free(encoded_policy);
    return token;
}

char *harness_mint_policy(harness_server_t *s, const harness_key_t *key, const char *scope, int64_t deadline_ms,
                          const char *extra)
{
    if (!key)
        key = &s->key;
    /* scope is put into the JSON as is: the tests only use JSON-safe text. */
    char *policy = harness_strf("{\"scope\":\"%s\",\"deadline\":\"%lld\"%s}", scope, (long long)deadline_ms,
                                extra ? extra : "");
    char *token = policy ? harness_mint(key->access_key, key->secret_key, policy) : NULL;
    if (token)
        harness_note_secret(s, token);
    free(policy);
    return token;
}

char *harness_uptoken(const char *token)
{
    return harness_strf("UpToken %s", token);
}

/* ---- responses ------------------------------------------------------------- */

static void harness_headers_clear(harness_upload_response_t *r)
{
    for (size_t i = 0; i < r->header_count; i++) {
        free(r->header_names[i]);
        free(r->header_values[i]);
    }
    r->header_count = 0;
}

void harness_upload_response_free(harness_upload_response_t *r)
{
    if (!r)
        return;
    harness_headers_clear(r);
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

const char *harness_header(const harness_upload_response_t *r, const char *name)
{
    for (size_t i = 0; i < r->header_count; i++)
        if (strcasecmp(r->header_names[i], name) == 0)
            return r->header_values[i];
    return NULL;
}

bool harness_list_has(const char *list, const char *item)
{
    if (!list)
        return false;
    size_t want = strlen(item);
    const char *p = list;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        size_t n = strcspn(p, ",");
        size_t t = n;
        while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
            t--;
        if (t == want && strncasecmp(p, item, want) == 0)
            return true;
        p += n;
    }
    return false;
}

static size_t harness_upload_header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    harness_upload_response_t *r = arg;
    size_t len = size * nmemb;
    /* A status line starts a new header block (after "100 Continue"). */
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        harness_headers_clear(r);
        return len;
    }
    const char *colon = memchr(data, ':', len);
    if (!colon || r->header_count >= HARNESS_MAX_HEADERS)
        return len;
    size_t name_len = (size_t)(colon - data);
    const char *v = colon + 1;
    size_t vlen = len - name_len - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
        vlen--;
    char *name = strndup(data, name_len), *value = strndup(v, vlen);
    if (!name || !value) {
        free(name);
        free(value);
        return 0;
    }
    r->header_names[r->header_count] = name;
    r->header_values[r->header_count] = value;
    r->header_count++;
    return len;
}

static size_t harness_upload_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    buf_t *b = arg;
    return buf_append(b, data, size * nmemb) ? size * nmemb : 0;
}

/* A body fed to curl by a read callback (chunked transfer). */
typedef struct harness_reader {
    const uint8_t *data;
    size_t len, pos;
} harness_reader_t;

static size_t harness_read_cb(char *out, size_t size, size_t nmemb, void *arg)
{
    harness_reader_t *rd = arg;
    size_t n = size * nmemb;
    /* Small pieces, so that a chunked body really arrives in several chunks. */
    if (n > 65536)
        n = 65536;
    if (n > rd->len - rd->pos)
        n = rd->len - rd->pos;
    memcpy(out, rd->data + rd->pos, n);
    rd->pos += n;
    return n;
}

static bool harness_slist_push(struct curl_slist **list, const char *line)
{
    struct curl_slist *n = curl_slist_append(*list, line);
    if (!n)
        return false;
    *list = n;
    return true;
}

static bool harness_has_header(const char *const *headers, const char *name)
{
    size_t n = strlen(name);
    for (size_t i = 0; headers && headers[i]; i++)
        if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
            return true;
    return false;
}

/* Runs a prepared handle and fills *r (body, JSON, status). */
static bool harness_perform(CURL *c, const char *method, const char *path, harness_upload_response_t *r)
{
    buf_t body;
    buf_init(&body, 0);
    buf_append(&body, "", 0);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)HARNESS_UPLOAD_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, harness_upload_write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, harness_upload_header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    r->curl_code = curl_easy_perform(c);
    bool ok = r->curl_code == CURLE_OK;
    if (ok)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    else
        fprintf(stderr, "harness: %s %.200s: %s\n", method, path, curl_easy_strerror(r->curl_code));
    r->body_len = body.len;
    r->body = buf_steal(&body);
    if (!r->body)
        r->body = strdup("");
    else
        r->json = json_loadb(r->body, r->body_len, JSON_DECODE_ANY, NULL);
    buf_free(&body);
    return ok;
}

bool harness_upload_send(harness_server_t *s, const harness_upload_request_t *req, harness_upload_response_t *r)
{
    memset(r, 0, sizeof(*r));
    const char *method = req->method ? req->method : "POST";
    char *url = harness_url(s, req->path);
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    harness_reader_t reader = {.data = req->body, .len = req->body ? req->body_len : 0};
    bool ok = url && c;
    char line[HARNESS_TOKEN_MAX + 64];
    if (ok && req->authorization) {
        snprintf(line, sizeof(line), "Authorization: %s", req->authorization);
        ok = harness_slist_push(&h, line);
    }
    if (ok && req->content_type) {
        snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
        ok = harness_slist_push(&h, line);
    } else if (ok && strcmp(method, "POST") == 0) {
        ok = harness_slist_push(&h, "Content-Type:"); /* curl would add its own */
    }
    for (size_t i = 0; ok && req->headers && req->headers[i]; i++)
        ok = harness_slist_push(&h, req->headers[i]);
    if (ok && !harness_has_header(req->headers, "Expect"))
        ok = harness_slist_push(&h, "Expect:");
    if (ok && req->chunked)
        ok = harness_slist_push(&h, "Transfer-Encoding: chunked");
    if (!ok) {
        fprintf(stderr, "harness: cannot prepare %s %s\n", method, req->path);
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "POST") == 0 || req->body) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        if (req->chunked) {
            curl_easy_setopt(c, CURLOPT_READFUNCTION, harness_read_cb);
            curl_easy_setopt(c, CURLOPT_READDATA, &reader);
        } else {
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)reader.len);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
        }
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
        harness_upload_count(reader.len);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    ok = harness_perform(c, method, req->path, r);
out:
    if (!r->body)
        r->body = strdup("");
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(url);
    return ok;
}

/* ---- form upload ----------------------------------------------------------- */

bool harness_form_post(harness_server_t *s, const harness_form_t *f, harness_upload_response_t *r)
{
    memset(r, 0, sizeof(*r));
    const char *path = f->path ? f->path : HARNESS_PATH_FORM;
    char *url = harness_url(s, path);
    CURL *c = curl_easy_init();
    curl_mime *mime = c ? curl_mime_init(c) : NULL;
    struct curl_slist *h = NULL;
    harness_reader_t readers[16];
    bool ok = url && c && mime && f->count <= sizeof(readers) / sizeof(readers[0]);
    for (size_t i = 0; ok && i < f->count; i++) {
        const harness_form_part_t *p = &f->parts[i];
        curl_mimepart *part = curl_mime_addpart(mime);
        ok = part && curl_mime_name(part, p->name) == CURLE_OK;
        if (ok && p->filename)
            ok = curl_mime_filename(part, p->filename) == CURLE_OK;
        if (ok && p->type)
            ok = curl_mime_type(part, p->type) == CURLE_OK;
        size_t len = p->filename ? p->len : p->len ? p->len : strlen(p->data);
        harness_upload_count(len);
        if (ok && p->filename && f->chunked) {
            /* A part of unknown size makes the whole body chunked. */
            readers[i] = (harness_reader_t){.data = p->data, .len = len};
            ok = curl_mime_data_cb(part, -1, harness_read_cb, NULL, NULL, &readers[i]) == CURLE_OK;
        } else if (ok) {
            ok = curl_mime_data(part, len ? p->data : "", len) == CURLE_OK;
        }
    }
    for (size_t i = 0; ok && f->headers && f->headers[i]; i++)
        ok = harness_slist_push(&h, f->headers[i]);
    if (ok)
        ok = harness_slist_push(&h, f->expect == HARNESS_EXPECT_NONE ? "Expect:" : "Expect: 100-continue");
    if (!ok) {
        fprintf(stderr, "harness: cannot prepare the form for %s\n", path);
        goto out;
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_MIMEPOST, mime);
    /* Waiting: the server's 100 Continue releases the body (or, since the
     * contract only asks the server to tolerate the header, a few seconds
     * without it).  Not waiting: the body follows the headers at once, as
     * clients that ignore 100 Continue send it. */
    long expect_ms = f->expect == HARNESS_EXPECT_NO_WAIT ? 1L : HARNESS_EXPECT_WAIT_MS;
    curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, expect_ms);
    ok = harness_perform(c, "POST", path, r);
out:
    if (!r->body)
        r->body = strdup("");
    curl_mime_free(mime);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    free(url);
    return ok;
}

bool harness_form_upload(harness_server_t *s, const char *token, const void *data, size_t len,
                         harness_upload_response_t *r)
{
    harness_form_part_t parts[2];
    size_t n = 0;
    if (token)
        parts[n++] = (harness_form_part_t){.name = "token", .data = token};
    parts[n++] = (harness_form_part_t){.name = "file", .data = data, .len = len, .filename = "clip.mp4"};
    harness_form_t f = {.parts = parts, .count = n};
    return harness_form_post(s, &f, r);
}

/* ---- slice upload ---------------------------------------------------------- */

bool harness_block_answer(const harness_upload_response_t *r, harness_block_answer_t *a)
{
    memset(a, 0, sizeof(*a));
    a->crc32 = -1;
    a->offset = -1;
    if (!json_is_object(r->json))
        return false;
    const char *ctx = harness_json_str(r->json, "ctx");
    const char *sum = harness_json_str(r->json, "checksum");
    json_t *off = json_object_get(r->json, "offset"), *crc = json_object_get(r->json, "crc32");
    if (ctx && strlen(ctx) < sizeof(a->ctx))
        snprintf(a->ctx, sizeof(a->ctx), "%s", ctx);
    if (sum && strlen(sum) < sizeof(a->checksum))
        snprintf(a->checksum, sizeof(a->checksum), "%s", sum);
    if (json_is_integer(off))
        a->offset = (int64_t)json_integer_value(off);
    if (json_is_integer(crc) && json_integer_value(crc) >= 0)
        a->crc32 = (int64_t)json_integer_value(crc);
    return a->ctx[0] && a->checksum[0] && a->offset >= 0 && a->crc32 >= 0;
}

bool harness_mkblk(harness_server_t *s, const char *authorization, int64_t block_size, int64_t index,
                   const void *data, size_t len, harness_upload_response_t *r)
{
    char path[96];
    if (index >= 0)
        snprintf(path, sizeof(path), "/mkblk/%lld/%lld", (long long)block_size, (long long)index);
    else
        snprintf(path, sizeof(path), "/mkblk/%lld", (long long)block_size);
    harness_upload_request_t req = {.path = path,
                                    .body = data,
                                    .body_len = len,
                                    .authorization = authorization,
                                    .content_type = "application/octet-stream"};
    return harness_upload_send(s, &req, r);
}

bool harness_bput(harness_server_t *s, const char *authorization, const char *ctx, int64_t offset, const void *data,
                  size_t len, harness_upload_response_t *r)
{
    char *path = harness_strf("/bput/%s/%lld", ctx, (long long)offset);
    harness_upload_request_t req = {.path = path,
                                    .body = data,
                                    .body_len = len,
                                    .authorization = authorization,
                                    .content_type = "application/octet-stream"};
    bool ok = path && harness_upload_send(s, &req, r);
    free(path);
    return ok;
}

bool harness_mkfile(harness_server_t *s, const char *authorization, int64_t file_size, const char *suffix,
                    const char *ctx_list, const char *const *headers, harness_upload_response_t *r)
{
    char *path = harness_strf("/mkfile/%lld%s", (long long)file_size, suffix ? suffix : "");
    harness_upload_request_t req = {.path = path,
                                    .body = ctx_list,
                                    .body_len = strlen(ctx_list),
                                    .authorization = authorization,
                                    .content_type = "text/plain",
                                    .headers = headers};
    bool ok = path && harness_upload_send(s, &req, r);
    free(path);
    return ok;
}

/* Checks a mkblk/bput answer without cmocka (usable on any thread). */
static bool harness_block_check(const harness_upload_response_t *r, const uint8_t *chunk, size_t len,
                                int64_t offset, harness_block_answer_t *a, const char *what)
{
    char md5[33];
    harness_md5_hex(chunk, len, md5);
    bool ok = r->status == 200 && harness_block_answer(r, a) && a->offset == offset &&
              a->crc32 == (int64_t)harness_crc32(chunk, len) && strcasecmp(a->checksum, md5) == 0;
    if (!ok)
        fprintf(stderr,
                "harness: %s (chunk of %zu bytes, expected offset %lld, crc32 %u, checksum %s): HTTP %ld %.400s\n",
                what, len, (long long)offset, harness_crc32(chunk, len), md5, r->status, r->body ? r->body : "");
    return ok;
}

bool harness_put_block(harness_server_t *s, const char *authorization, const uint8_t *data, size_t len,
                       int64_t index, size_t chunk, char ctx_out[HARNESS_CTX_MAX])
{
    if (len == 0 || chunk == 0)
        return false;
    harness_block_answer_t a;
    harness_upload_response_t r;
    size_t n = len < chunk ? len : chunk;
    bool ok = harness_mkblk(s, authorization, (int64_t)len, index, data, n, &r) &&
              harness_block_check(&r, data, n, (int64_t)n, &a, "mkblk");
    harness_upload_response_free(&r);
    size_t pos = n;
    while (ok && pos < len) {
        n = len - pos < chunk ? len - pos : chunk;
        ok = harness_bput(s, authorization, a.ctx, (int64_t)pos, data + pos, n, &r) &&
             harness_block_check(&r, data + pos, n, (int64_t)(pos + n), &a, "bput");
        harness_upload_response_free(&r);
        pos += n;
    }
    if (ok)
        memcpy(ctx_out, a.ctx, sizeof(a.ctx));
    return ok;
}

bool harness_put_file(harness_server_t *s, const char *authorization, const uint8_t *data, size_t len,
                      size_t chunk, harness_upload_response_t *mkfile)
{
    memset(mkfile, 0, sizeof(*mkfile));
    size_t blocks = (len + HARNESS_ETAG_PIECE - 1) / HARNESS_ETAG_PIECE;
    buf_t list;
    buf_init(&list, 0);
    bool ok = len > 0 && buf_append(&list, "", 0);
    for (size_t i = 0; ok && i < blocks; i++) {
        char ctx[HARNESS_CTX_MAX];
        size_t off = i * HARNESS_ETAG_PIECE;
        size_t n = len - off > HARNESS_ETAG_PIECE ? HARNESS_ETAG_PIECE : len - off;
        ok = harness_put_block(s, authorization, data + off, n, (int64_t)i, chunk, ctx) &&
             (i == 0 || buf_append(&list, ",", 1)) && buf_append(&list, ctx, strlen(ctx));
    }
    if (ok)
        ok = harness_mkfile(s, authorization, (int64_t)len, NULL, list.data, NULL, mkfile);
    buf_free(&list);
    return ok;
}

bool harness_playback(harness_server_t *s, const char *method, const char *file_key, const char *const *headers,
                      harness_upload_response_t *r)
{
    char *path = harness_strf("/%s", file_key);
    harness_upload_request_t req = {.method = method ? method : "GET", .path = path, .headers = headers};
    bool ok = path && harness_upload_send(s, &req, r);
    free(path);
    return ok;
}

/* ---- assertions ------------------------------------------------------------ */

static void harness_upload_fail(const harness_upload_response_t *r, const char *file, int line, const char *what)
{
    print_error("%s:%d: %s\n  HTTP %ld (curl: %s), X-Reqid '%s', body: %.600s\n", file, line, what, r->status,
                curl_easy_strerror(r->curl_code), harness_header(r, "X-Reqid") ? harness_header(r, "X-Reqid") : "",
                r->body ? r->body : "(none)");
    _fail(file, line);
}

void harness_assert_upload_answer_at(const harness_upload_response_t *r, const char *file, int line)
{
    const char *reqid = harness_header(r, "X-Reqid");
    const char *request_id = harness_header(r, "X-Request-Id");
    if (!reqid || !*reqid)
        harness_upload_fail(r, file, line, "expected an X-Reqid header");
    if (request_id && strcmp(reqid, request_id) != 0)
        harness_upload_fail(r, file, line, "expected X-Reqid equal to X-Request-Id");
}

void harness_assert_upload_status_at(const harness_upload_response_t *r, long http, const char *file, int line)
{
    if (r->status != http) {
        char what[64];
        snprintf(what, sizeof(what), "expected HTTP %ld", http);
        harness_upload_fail(r, file, line, what);
    }
    harness_assert_upload_answer_at(r, file, line);
}

void harness_assert_upload_error_at(const harness_upload_response_t *r, long http, const char *file, int line)
{
    harness_assert_upload_status_at(r, http, file, line);
    if (!json_is_object(r->json))
        harness_upload_fail(r, file, line, "expected a JSON object");
    json_t *code = json_object_get(r->json, "code");
    if (!json_is_integer(code) || json_integer_value(code) != http)
        harness_upload_fail(r, file, line, "expected \"code\" equal to the HTTP status");
    const char *message = harness_json_str(r->json, "message");
    const char *error = harness_json_str(r->json, "error");
    if (!message || !*message)
        harness_upload_fail(r, file, line, "expected a non-empty \"message\"");
    if (!error || !*error)
        harness_upload_fail(r, file, line, "expected a non-empty \"error\"");
}

void harness_assert_form_ok_at(const harness_upload_response_t *r, const char *expect_query, const char *file,
                               int line)
{
    harness_assert_upload_status_at(r, 200, file, line);
    if (r->json)
        harness_upload_fail(r, file, line, "expected a body that is not JSON");
    size_t n = 0;
    char *text = harness_b64url_decode(r->body, &n);
    if (!text)
        harness_upload_fail(r, file, line, "expected a url-safe base64 body");
    if (n != strlen(expect_query) || memcmp(text, expect_query, n) != 0) {
        print_error("%s:%d: decoded body '%.*s', expected '%s'\n", file, line, (int)n, text, expect_query);
        free(text);
        _fail(file, line);
    }
    free(text);
}

void harness_assert_mkfile_ok_at(const harness_upload_response_t *r, const char *etag, const char *file_key,
                                 const char *file, int line)
{
    harness_assert_upload_status_at(r, 200, file, line);
    if (!json_is_object(r->json))
        harness_upload_fail(r, file, line, "expected a JSON object");
    const char *hash = harness_json_str(r->json, "hash");
    const char *key = harness_json_str(r->json, "key");
    if (!hash || strcmp(hash, etag) != 0) {
        print_error("%s:%d: expected hash %s\n", file, line, etag);
        harness_upload_fail(r, file, line, "wrong hash");
    }
    if (!key || strcmp(key, file_key) != 0) {
        print_error("%s:%d: expected key %s\n", file, line, file_key);
        harness_upload_fail(r, file, line, "wrong key");
    }
}

void harness_assert_block_ok_at(const harness_upload_response_t *r, const void *chunk, size_t chunk_len,
                                int64_t offset, harness_block_answer_t *a, const char *file, int line)
{
    harness_assert_upload_status_at(r, 200, file, line);
    harness_block_answer_t local;
    if (!a)
        a = &local;
    if (!harness_block_answer(r, a))
        harness_upload_fail(r, file, line, "expected JSON with ctx, offset, crc32 (unsigned), checksum");
    if (a->offset != offset) {
        print_error("%s:%d: expected offset %lld\n", file, line, (long long)offset);
        harness_upload_fail(r, file, line, "wrong offset");
    }
    if (a->crc32 != (int64_t)harness_crc32(chunk, chunk_len)) {
        print_error("%s:%d: expected crc32 %u\n", file, line, harness_crc32(chunk, chunk_len));
        harness_upload_fail(r, file, line, "wrong crc32");
    }
    char md5[33];
    harness_md5_hex(chunk, chunk_len, md5);
    if (strcasecmp(a->checksum, md5) != 0) {
        print_error("%s:%d: expected checksum %s\n", file, line, md5);
        harness_upload_fail(r, file, line, "wrong checksum");
    }
    /* ctx: opaque, URL-path-safe, no comma, under 200 bytes. */
    size_t n = strlen(a->ctx);
    if (n == 0 || n >= 200)
        harness_upload_fail(r, file, line, "expected a ctx of 1..199 bytes");
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)a->ctx[i];
        if (ch <= 0x20 || ch >= 0x7f || strchr("/?#%,", ch))
            harness_upload_fail(r, file, line, "expected a URL-path-safe ctx without a comma");
    }
}

json_t *harness_assert_uploaded_at(harness_server_t *s, const harness_key_t *key, const char *video_id,
                                   const void *data, size_t len, const char *expect_mime, harness_response_t *info,
                                   const char *file, int line)
{
    if (!harness_video_info(s, key, video_id, info))
        _fail(file, line);
    harness_assert_ok_at(info, file, line);
    json_t *v = harness_data(info);
    char md5[33], etag[HARNESS_ETAG_LEN + 1];
    harness_md5_hex(data, len, md5);
    harness_etag(data, len, etag);
    const char *status = harness_json_str(v, "status");
    const char *got_md5 = harness_json_str(v, "md5");
    const char *got_etag = harness_json_str(v, "etag");
    const char *mime = harness_json_str(v, "mimeType");
    const char *uploaded_at = harness_json_str(v, "uploadedAt");
    json_t *size = json_object_get(v, "size");
    bool ok = status && strcmp(status, "uploaded") == 0 && json_is_integer(size) &&
              json_integer_value(size) == (json_int_t)len && got_md5 && strcmp(got_md5, md5) == 0 && got_etag &&
              strcmp(got_etag, etag) == 0 && mime && *mime && uploaded_at && *uploaded_at &&
              (!expect_mime || strcmp(mime, expect_mime) == 0);
    if (!ok) {
        print_error("%s:%d: getVideoInfo: expected status uploaded, size %zu, md5 %s, etag %s, mimeType %s, "
                    "uploadedAt set; got %.900s\n",
                    file, line, len, md5, etag, expect_mime ? expect_mime : "(any)", info->body);
        _fail(file, line);
    }
    return v;
}

void harness_assert_playback_at(harness_server_t *s, const char *file_key, const void *data, size_t len,
                                const char *file, int line)
{
    harness_upload_response_t r;
    harness_playback(s, "GET", file_key, NULL, &r);
    bool ok = r.status == 200 && r.body_len == len && (len == 0 || memcmp(r.body, data, len) == 0);
    if (!ok) {
        print_error("%s:%d: GET /%s: expected 200 with the %zu uploaded bytes; got HTTP %ld, %zu bytes\n", file,
                    line, file_key, len, r.status, r.body_len);
        harness_upload_response_free(&r);
        _fail(file, line);
    }
    harness_upload_response_free(&r);
}

const harness_etag_example_t harness_etag_examples[HARNESS_ETAG_EXAMPLES] = {
    {"empty", 0, NULL, "Fto5o-5ea0sNMlW_75VgGJCv2AcJ"},
    {"hello", 5, "hello", "Fqr0xh3cxeii2r7eDztILNmuqUNN"},
    {"4 MiB of zeros", 4 * HARNESS_MIB, NULL, "FivMvS848VwT631aif2dhfWV4jvD"},
    {"4 MiB + 1 of zeros", 4 * HARNESS_MIB + 1, NULL, "lhCFgki5yzon0rjN9uJusf6qtsF6"},
    {"5 MiB of zeros", 5 * HARNESS_MIB, NULL, "lrMhp7oU8rzWSRlmUeGJ73Q2pVa-"},
};
