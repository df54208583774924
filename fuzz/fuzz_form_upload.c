/*
 * fuzz_form_upload: the multipart form reader (POST /file/upload) as a
 * client reaches it: libmicrohttpd's PostProcessor, form.c's field rules
 * (token before or after the file, spool bounds, one file part, field
 * sizes), the token check, staging and publishing.  A whole server runs in
 * this process on a loopback port (store, blob and data in a temporary
 * directory, made once); each input is the body of one form POST, in which
 * every "@TOKEN@" becomes a valid upload token, so that the fuzzer reaches
 * the authorised paths from the seed corpus.  Sanitizers catch memory
 * errors; the answer must be an HTTP status line.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "api/api.h"
#include "api/keycache.h"
#include "api/ratelimit.h"
#include "auth/upload_token.h"
#include "blob/blob.h"
#include "common/buf.h"
#include "common/config.h"
#include "common/log.h"
#include "common/workpool.h"
#include "http/server.h"
#include "store/store.h"
#include "upload/quota.h"
#include "upload/upload.h"

#define FUZZ_KEY "fuzz/clip.mp4"

static config_t cfg;
static api_ctx_t api;
static upload_ctx_t upload;
static int port;
static char *token;
static store_key_t key; /* process-long, like the server */

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

static void fuzz_register(store_t *store, const store_key_t *k)
{
    store_video_reg_t reg = {.account_id = k->account_id, .video_id = "0123456789abcdef0123456789abcdef",
                             .name = "clip.mp4", .file_key = FUZZ_KEY, .bucket = k->bucket, .domain = "",
                             .expected_size = -1, .now_ms = 1};
    store_video_reg_result_t res;
    fuzz_check(store_video_register_sync(store, &reg, &res) == 0 && res.rc == STORE_OK);
    char policy[512];
    snprintf(policy, sizeof(policy), "{\"scope\":\"%s:%s\",\"deadline\":\"4102444800000\",\"overwrite\":1}",
             k->bucket, FUZZ_KEY);
    buf_t t;
    buf_init(&t, 0);
    fuzz_check(upload_token_mint(k->access_key, k->secret_key, policy, &t));
    token = buf_steal(&t);
}

/* The server, once per process. */
static void fuzz_start(void)
{
    char dir[] = "/tmp/vodup-fuzz-form-XXXXXX", path[256], err[256];
    fuzz_check(mkdtemp(dir) != NULL);
    signal(SIGPIPE, SIG_IGN);
    log_set_level(LOG_ERROR);
    config_defaults(&cfg);
    fuzz_check(config_set(&cfg, "data", dir, err, sizeof(err)) && config_set(&cfg, "access-log", "off", err, 0) &&
               config_set(&cfg, "preauth-spool", "65536", err, sizeof(err)) && config_finish(&cfg, err, sizeof(err)));
    snprintf(path, sizeof(path), "%s/vodup.db", dir);
    store_t *store = store_sqlite_open(&(store_sqlite_options_t){.path = path, .read_connections = 2});
    fuzz_check(store && store->ops->key_create(store, "fuzz", &key) == STORE_OK);
    fuzz_register(store, &key);
    keycache_t *keys = keycache_new(store, 1000);
    api = (api_ctx_t){.cfg = &cfg, .store = store, .ratelimit = ratelimit_new(0, 1), .readers = workpool_new(1),
                      .keys = keys, .public_url = "http://127.0.0.1"};
    upload = (upload_ctx_t){.cfg = &cfg, .store = store, .blob = blob_local_open(dir), .keys = keys,
                            .workers = workpool_new(2), .quota = quota_new(1 << 30, 1 << 30, 1 << 20)};
    fuzz_check(upload.blob && upload.workers && upload.quota && store->ops->secret_get(store, "upload-ctx",
                                                                                       upload.ctx_secret) == 0);
    int fd = http_listen("127.0.0.1", 0, &port, err, sizeof(err));
    fuzz_check(fd >= 0 && http_server_start(&cfg, &api, &upload, fd, err, sizeof(err)) != NULL);
}

/* The body with each "@TOKEN@" replaced by the token. */
static void fuzz_body(const uint8_t *data, size_t size, buf_t *body)
{
    static const char mark[] = "@TOKEN@";
    size_t i = 0;
    while (i < size) {
        const uint8_t *at = memmem(data + i, size - i, mark, sizeof(mark) - 1);
        size_t n = at ? (size_t)(at - data) - i : size - i;
        buf_append(body, (const char *)data + i, n);
        i += n;
        if (at) {
            buf_append_str(body, token);
            i += sizeof(mark) - 1;
        }
    }
}

static int fuzz_connect(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    fuzz_check(fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0);
    return fd;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!token)
        fuzz_start();
    buf_t body, req;
    buf_init(&body, 0);
    buf_init(&req, 0);
    fuzz_body(data, size, &body);
    buf_printf(&req,
               "POST /file/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
               "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: %zu\r\n\r\n",
               body.len);
    buf_append(&req, body.data ? body.data : "", body.len);
    int fd = fuzz_connect();
    /* The server may answer (and close) before the whole body is sent. */
    (void)!send(fd, req.data, req.len, MSG_NOSIGNAL);
    char answer[16] = {0};
    ssize_t n = recv(fd, answer, sizeof(answer) - 1, MSG_WAITALL);
    fuzz_check(n >= 12 && memcmp(answer, "HTTP/1.1 ", 9) == 0);
    close(fd);
    buf_free(&body);
    buf_free(&req);
    return 0;
}
