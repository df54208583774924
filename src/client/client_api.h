/*
 * client_api: signed calls to vodup's JSON API (getUploadToken,
 * getVideoInfo, getVideoList) over libcurl, with retries.
 *
 * Every call is a POST with a form body, signed with WS3 (client_sign.c)
 * afresh for each try, so a retry after a backoff never carries a stale
 * timestamp.  Transient failures are retried per client_retry.h; the
 * answer of the last try is what the caller sees.  Also here: the exit
 * codes every client command shares, the getUploadToken parameters (shared
 * by `vodup token` and `vodup upload`) and the parser of its answer.
 *
 * A client_api_t is used by one thread at a time.  Nothing here prints.
 */
#ifndef VODUP_CLIENT_API_H
#define VODUP_CLIENT_API_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "client/client_config.h"
#include "client/client_retry.h"
#include "common/buf.h"

/* Exit codes of the client commands (docs/cli.md). */
enum client_exit {
    CLIENT_EXIT_OK = 0,
    CLIENT_EXIT_FAILURE = 1, /* network, server errors after retries, refused requests, local I/O */
    CLIENT_EXIT_USAGE = 2,   /* bad flags or arguments, missing configuration */
    CLIENT_EXIT_AUTH = 3,    /* the server refused the credentials (401/403) */
    CLIENT_EXIT_PROCESSING = 4, /* upload --wait: the video's processing failed */
    CLIENT_EXIT_TIMEOUT = 5,    /* upload --wait: --wait-timeout passed before ready or failed */
    CLIENT_EXIT_INTERRUPTED = 130, /* SIGINT/SIGTERM: the shell's 128 + SIGINT */
};

#define CLIENT_PATH_TOKEN "/vod/videoManage/getUploadToken"
#define CLIENT_PATH_INFO "/vod/videoManage/getVideoInfo"
#define CLIENT_PATH_LIST "/vod/videoManage/getVideoList"
#define CLIENT_FORM_TYPE "application/x-www-form-urlencoded"
#define CLIENT_API_TIMEOUT_S 60
#define CLIENT_CONNECT_TIMEOUT_S 10
#define CLIENT_ANSWER_CAP ((size_t)1024 * 1024) /* an API answer is a few KiB; a page of 100 videos less than this */

typedef struct client_response {
    long status;                      /* HTTP status; 0 when no answer arrived */
    CURLcode curl_code;
    char curl_error[CURL_ERROR_SIZE];
    buf_t body;                       /* the answer's body (capped) */
    json_t *json;                     /* the body parsed, NULL when it is not JSON */
    char request_id[64];              /* X-Request-Id or X-Reqid, "" when absent */
    int tries;                        /* how many times the request was sent */
} client_response_t;

void client_response_init(client_response_t *r);
void client_response_reset(client_response_t *r);
void client_response_free(client_response_t *r);

/* The server's "message" (or "error"), NULL when the body has none. */
const char *client_response_message(const client_response_t *r);

/*
 * One line saying why `what` failed: "cannot reach http://h: <curl error>"
 * or "HTTP 401: Authentication failed: ... (requestId ...)".
 */
void client_response_describe(const client_response_t *r, const char *what, const char *url, char *out,
                              size_t outlen);

/* CLIENT_EXIT_AUTH for 401 and 403, CLIENT_EXIT_FAILURE otherwise. */
int client_response_exit_code(const client_response_t *r);

/* Installs the common libcurl options on a handle (timeouts, no signals,
 * the abort callback watching *stop, which may be NULL). */
void client_curl_defaults(CURL *c, const atomic_int *stop, const char *cacert);

typedef struct client_api {
    const client_config_t *cfg;
    CURL *curl;                   /* reused: keeps the connection alive between calls */
    client_retry_policy_t retry;
    const atomic_int *stop;       /* non-zero: abort transfers and retries */
} client_api_t;

bool client_api_init(client_api_t *api, const client_config_t *cfg, const atomic_int *stop);
void client_api_free(client_api_t *api);

/*
 * POSTs `form` (application/x-www-form-urlencoded) to cfg->endpoint + path,
 * signed, retrying transient failures.  Returns true when the answer is HTTP
 * 200 with "code":200; *r holds the last answer either way (free it).
 */
bool client_api_post(client_api_t *api, const char *path, const char *form, client_response_t *r);

/* ---- getUploadToken ---------------------------------------------------------- */

#define CLIENT_MAX_CATEGORIES 32

typedef struct client_token_params {
    const char *name;          /* originFileName (required) */
    const char *file_id;       /* NULL: not sent (same for every member below) */
    const char *workflow;      /* workflowId */
    const char *watermark;     /* waterMarkName */
    const char *template_name; /* transCodeCombineName */
    const char *subtitle;      /* subtitleId */
    const char *domain;
    const char *cmd;
    const char *categories[CLIENT_MAX_CATEGORIES]; /* "PARENT/CHILD" */
    size_t category_count;
    bool overwrite;
    int64_t file_size;         /* < 0: not sent */
    const char *file_md5;
} client_token_params_t;

/*
 * The form body of getUploadToken for p (percent-encoded pairs; categories
 * as the JSON array the API expects).  False with a reason when a category
 * is not PARENT/CHILD with both names non-empty.  Pure.
 */
bool client_token_form(const client_token_params_t *p, buf_t *out, char *err, size_t errlen);

#define CLIENT_VIDEO_ID_MAX 64
#define CLIENT_FILE_KEY_MAX 1024
#define CLIENT_UPLOAD_URL_MAX 1024
#define CLIENT_TOKEN_MAX 4096

/* What getUploadToken answered. */
typedef struct client_grant {
    char video_id[CLIENT_VIDEO_ID_MAX];
    char file_key[CLIENT_FILE_KEY_MAX];
    char upload_url[CLIENT_UPLOAD_URL_MAX]; /* normalised: no trailing '/' */
    char token[CLIENT_TOKEN_MAX];
} client_grant_t;

/* Reads data.videoId, fileKey, uploadUrl and uploadToken of a 200 answer.
 * False when one is missing or too long.  Pure. */
bool client_grant_parse(const json_t *answer, client_grant_t *g);

#endif
