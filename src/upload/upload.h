/*
 * upload: the WCS upload endpoint (../shared/spec/upload-protocol.md) that
 * getUploadToken's uploadUrl points at: form upload (/file/upload) and the
 * breakpoint-resume block protocol (/mkblk, /bput, /mkfile).
 *
 * The HTTP layer (http/server.c) drives one upload_call_t per request:
 *   1. upload_call_begin() once the headers are in: route, token, key,
 *      declared sizes.  An error found here is answered before the body is
 *      read (libmicrohttpd then closes the connection).
 *   2. upload_call_body() for each piece of the body, on the poll thread:
 *      hashes and page-cache writes only.  An error found here (a limit
 *      passed) is remembered; the rest of the body is discarded, up to
 *      UPLOAD_DRAIN_LIMIT bytes, then the connection is cut.
 *   3. upload_call_finish() with the body complete.  Durable work (fsync,
 *      assembling, publishing, registry writes) runs on the upload workpool;
 *      call->on_complete then resumes the connection and
 *      upload_call_response() gives the answer.
 * Handlers reach bytes only through blob and metadata only through store.
 */
#ifndef VODUP_UPLOAD_H
#define VODUP_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"
#include "common/config.h"
#include "store/store.h"

typedef struct keycache keycache_t;
typedef struct workpool workpool_t;
typedef struct digest_cache digest_cache_t;
typedef struct quota quota_t;
typedef struct process_pool process_pool_t;
struct MHD_Connection;

/* Bytes of a refused body that are read and dropped so that the client
 * sees its error; past this the connection is cut. */
#define UPLOAD_DRAIN_LIMIT (64 * 1024 * 1024)

/* Nice value of the chunk hashing threads (hash_follow): under CPU
 * contention they give way to the HTTP threads, so API calls stay fast
 * while uploads saturate the machine. */
#define UPLOAD_HASH_NICE 10

/* Shared by all calls; read-only after start-up. */
typedef struct upload_ctx {
    const config_t *cfg;
    store_t *store;
    blob_t *blob;
    keycache_t *keys;
    workpool_t *workers;           /* fsync, assembly, publish, registry writes */
    digest_cache_t *digests;       /* background hashes of finished blocks (may be NULL) */
    workpool_t *hashers;           /* chunk MD5s alongside the poll threads (may be NULL) */
    quota_t *quota;                /* staged bytes per account and token (quota.h) */
    process_pool_t *processing;    /* woken when an upload queues its task (may be NULL) */
    struct tus_slots *tus_slots;   /* who writes each tus upload (tus_slot.h) */
    unsigned char ctx_secret[32];  /* signs block ctx values (store secret "upload-ctx") */
} upload_ctx_t;

enum upload_route {
    UPLOAD_ROUTE_NONE = 0,
    UPLOAD_ROUTE_FORM,   /* POST /file/upload */
    UPLOAD_ROUTE_MKBLK,  /* POST /mkblk/<blockSize>[/<index>] */
    UPLOAD_ROUTE_BPUT,   /* POST /bput/<ctx>/<offset> */
    UPLOAD_ROUTE_MKFILE, /* POST /mkfile/<fileSize>[/<name>/<b64 value>]... */
    UPLOAD_ROUTE_TUS,    /* tus 1.0: OPTIONS, POST /files/; HEAD, PATCH, DELETE /files/<id> */
};

/* The route for a path (any method), UPLOAD_ROUTE_NONE if not an upload path. */
int upload_route_find(const char *path);

typedef const char *(*upload_header_fn)(void *arg, const char *name);

typedef struct upload_call upload_call_t;
typedef void (*upload_complete_fn)(void *arg);

/* How to cut a request's connection from another thread (a request that
 * takes an upload over cuts the one it took it from): fn(arg, id) shuts
 * down the connection `id` names if it is still open.  Plain values, valid
 * after the request is gone. */
typedef struct upload_cut {
    void (*fn)(void *arg, uint64_t id);
    void *arg;
    uint64_t id;
} upload_cut_t;

/* What the HTTP layer needs to answer a request. */
typedef struct upload_request {
    int route;
    const char *method;           /* the request's (the tus route takes several) */
    const char *path;             /* decoded URL path */
    const char *request_id;
    struct MHD_Connection *conn;  /* for the multipart parser of the form route */
    upload_header_fn header;      /* request header by name (case-insensitive) */
    void *header_arg;
    int64_t content_length;       /* -1 when unknown (chunked) */
    upload_complete_fn on_complete; /* called from a worker when a pending finish is done */
    void *complete_arg;
    upload_cut_t cut;             /* this request's connection (fn NULL: cannot be cut) */
} upload_request_t;

/* A header of an answer (tus). */
typedef struct upload_header {
    const char *name; /* static */
    char *value;      /* owned by the call */
} upload_header_t;

/* The answer: status, body, content type, a Location (303, tus 201), and
 * more headers (tus). */
typedef struct upload_response {
    int status;
    const char *body; /* owned by the call */
    size_t body_len;
    const char *content_type;
    const char *location; /* NULL unless 303 or tus */
    const upload_header_t *headers;
    size_t header_count;
} upload_response_t;

/* Returns a new call (never NULL unless out of memory).  When it returns,
 * upload_call_failed() tells whether the answer is already decided. */
upload_call_t *upload_call_begin(const upload_ctx_t *ctx, const upload_request_t *req);
bool upload_call_failed(const upload_call_t *call);
/* Decides an error answer from outside (405, 503 while draining); the
 * first decided answer wins. */
void upload_call_fail(upload_call_t *call, int status, const char *message);
/* Consumes body bytes.  False: cut the connection (a refused body went past
 * UPLOAD_DRAIN_LIMIT, or an internal error made the rest pointless). */
bool upload_call_body(upload_call_t *call, const char *data, size_t len);
/* The body is complete.  True: the response is ready now.  False: it will be
 * ready when req->on_complete(complete_arg) runs on a worker thread. */
bool upload_call_finish(upload_call_t *call);
/* The answer (its strings live as long as the call). */
void upload_call_response(upload_call_t *call, upload_response_t *out);
/* The AccessKey of the token, for the access log ("" when unknown). */
const char *upload_call_access_key(const upload_call_t *call);
/* Frees the call; discards staged bytes of an unfinished upload.  Must not
 * be called while a finish is pending (the HTTP layer waits for resume). */
void upload_call_free(upload_call_t *call);

/* The sweep of unfinished blocks and orphaned objects older than
 * block-max-age: one pass now, then one every interval on its own thread
 * (sweep.c). */
int64_t upload_sweep_once(const upload_ctx_t *ctx, int64_t now_ms);
/* Seconds a registration never uploaded is kept (registration-ttl, or
 * token-lifetime + block-max-age). */
int64_t upload_registration_ttl_s(const config_t *cfg);
typedef struct upload_sweeper upload_sweeper_t;
upload_sweeper_t *upload_sweeper_start(const upload_ctx_t *ctx, int64_t interval_ms);
void upload_sweeper_stop(upload_sweeper_t *sw);
/* Charges every block on disk to the owner its id names (at start-up,
 * before the endpoint takes requests).  False when the blocks could not
 * all be listed (logged). */
bool upload_quota_load(const upload_ctx_t *ctx);

#endif
