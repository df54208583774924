/*
 * api: the signed JSON API (getUploadToken, getVideoInfo, getVideoList),
 * independent of the HTTP library.
 *
 * The HTTP layer (http/server.c) fills an api_call_t from the request and
 * drives it in two stages:
 *   1. api_call_begin() once the headers are in: routing (404), method (405),
 *      header authentication (401, 403), rate limit (429) and framing checks
 *      that need no body (413 on a declared length, 415).
 *   2. api_call_finish() once the whole body is in: signature over the body
 *      (401), parameters, store.  It either completes at once or later,
 *      through call->on_complete: a registration from the store's writer
 *      thread (group commit), a registry query from a reader thread (a
 *      listing of a large account must not stall a poll thread).
 * The response is call->status plus the JSON text in call->response (owned by
 * the call; api_call_reset frees it).
 */
#ifndef VODUP_API_H
#define VODUP_API_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/ws3.h"
#include "common/buf.h"
#include "common/config.h"
#include "store/store.h"

typedef struct ratelimit ratelimit_t;
typedef struct workpool workpool_t;
typedef struct keycache keycache_t;
typedef struct blob blob_t;

/* Shared, read-only after start-up (the store and rate limiter are
 * internally synchronised). */
typedef struct api_ctx {
    const config_t *cfg;
    store_t *store;
    ratelimit_t *ratelimit;
    workpool_t *readers;    /* runs registry queries off the poll threads */
    keycache_t *keys;       /* AccessKey lookups, kept for key-cache-ttl */
    const char *public_url; /* base of uploadUrl and playUrl, no trailing '/' */
    struct process_pool *processing; /* woken when reprocessVideo queues a task (may be NULL) */
    blob_t *blob;           /* deleteVideo removes a video's objects (may be NULL: the sweep does) */
} api_ctx_t;

/* A call's route is 1 + the row of api.c's route table (path, handler,
 * where it runs) that its path matched; adding a call is adding a row. */
/* The video's getVideoInfo `data` object as compact JSON text (malloc'd), or
 * NULL when it is not the account's or is gone: the data of a webhook event
 * (event_dispatch.h's render callback, with ctx as its argument). */
char *video_api_info_text(const api_ctx_t *ctx, int64_t account_id, const char *video_id);

enum api_route { API_ROUTE_NONE = 0 };

/* The route for a path, API_ROUTE_NONE when it is not an API path. */
int api_route_find(const char *path);

/* The path of route 1, 2, ...; NULL past the last (metrics label them). */
const char *api_route_path(int route);

enum api_body_type { API_BODY_NONE = 0, API_BODY_FORM, API_BODY_JSON };

typedef struct api_call api_call_t;
typedef void (*api_complete_fn)(api_call_t *call);

struct api_call {
    /* Inputs, set by the HTTP layer. */
    int route;
    const char *method;
    const char *path;
    ws3_pair_t *query; /* decoded query pairs, owned by the HTTP layer */
    size_t query_count;
    ws3_header_lookup_fn header_lookup;
    void *header_ctx;
    const char *request_id;
    const char *public_url;   /* this request's public URL (a trusted proxy's scheme and Host); NULL: ctx's */
    buf_t body;               /* raw body, capped at api-body-limit */
    uint8_t body_sha256[32];
    int body_type;            /* from Content-Type, set by api_call_begin */
    api_complete_fn on_complete; /* called (on a store thread) when a pending call can resume */

    /* Set by a handler that went pending: run by api_call_resume on the
     * poll thread after the resume, to build the response there rather than
     * on the store's single writer thread. */
    void (*continuation)(const api_ctx_t *ctx, api_call_t *call);
    void *pending;

    /* Results. */
    char access_key[WS3_MAX_CREDENTIAL + 1]; /* for the access log; "" if unknown */
    store_key_t key;          /* the authenticated key and its account */
    char *default_domain;     /* the account's default playback domain, "" if none */
    ws3_auth_header_t auth;
    int status;               /* HTTP status of the response */
    char *response;           /* JSON text, malloc'd */
    const char *content_type; /* of the response when it is not JSON (the upload page); NULL: JSON */
};

/* Zeroes the call and initialises its body buffer with the API body cap. */
void api_call_init(api_call_t *call, const api_ctx_t *ctx);
/* Frees everything the call owns (not the inputs owned by the HTTP layer). */
void api_call_reset(api_call_t *call);

/*
 * Stage 1.  content_length is -1 when unknown (chunked).  Returns true when
 * the call may go on to read its body; false when call->status/response hold
 * an error to send now.
 */
bool api_call_begin(const api_ctx_t *ctx, api_call_t *call, int64_t content_length,
                    const char *content_type);

/*
 * Stage 2, with the body complete (body_overflow: more than the cap arrived).
 * Returns true when the response is ready now; false when it will be ready
 * when call->on_complete(call) runs (on another thread).
 */
bool api_call_finish(const api_ctx_t *ctx, api_call_t *call, bool body_overflow);

/* After on_complete: finishes a pending call on the calling (poll) thread. */
void api_call_resume(const api_ctx_t *ctx, api_call_t *call);

/* The base of the URLs in this call's answer: call->public_url when the HTTP
 * layer set one, else ctx->public_url. */
const char *api_call_public_url(const api_ctx_t *ctx, const api_call_t *call);

/* Fills call->status/response with an error; `detail` (may be NULL)
 * replaces the table's message (e.g. to name a parameter). */
void api_call_error(api_call_t *call, int err, const char *detail);

/* Fills call->status/response with the error for a store return code. */
void api_call_store_error(api_call_t *call, int rc);

/* Builds {"code":200,"message":"Operation successfully","data":<data>} and
 * takes ownership of data (a jansson json_t*). */
void api_call_success(api_call_t *call, void *json_data);

/* Sets a response outside the API's envelope (the upload page's routes):
 * status, a body (taken; JSON when content_type is NULL). */
void api_call_respond(api_call_t *call, int status, char *body, const char *content_type);

#endif
