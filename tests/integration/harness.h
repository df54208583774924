/*
 * harness: support for the integration tests, which run the real `vodup`
 * binary (VODUP_BIN) and talk to it over loopback HTTP like a user would.
 *
 * A harness_server_t is one `vodup serve --listen 127.0.0.1:0` process with
 * its own temporary directory:
 *
 *     /tmp/vodup-it-XXXXXX/          root (mkdtemp, removed by harness_server_stop)
 *         data/                      --data; created by the server itself
 *         server.log                 the server's stderr (access log, messages)
 *         <fixtures>                 small files for watermarks, subtitles
 *
 * Processes are only ever signalled by the PID the harness forked, never by
 * name.  Requests are signed with the project's own ws3_sign() and can be
 * broken on purpose through the knobs of harness_request_t.
 *
 * Every function that allocates says who frees.  Nothing here logs a secret;
 * the harness remembers every signature it sends so that the tests can prove
 * the server's log does not hold one either.
 */
#ifndef VODUP_HARNESS_H
#define VODUP_HARNESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>

#define HARNESS_KEY_MAX 160
#define HARNESS_START_TIMEOUT_MS 20000
#define HARNESS_STOP_TIMEOUT_MS 30000

#define HARNESS_PATH_TOKEN "/vod/videoManage/getUploadToken"
#define HARNESS_PATH_INFO "/vod/videoManage/getVideoInfo"
#define HARNESS_PATH_LIST "/vod/videoManage/getVideoList"

#define HARNESS_FORM "application/x-www-form-urlencoded"
#define HARNESS_JSON "application/json; charset=utf-8"

typedef struct harness_key {
    char access_key[HARNESS_KEY_MAX];
    char secret_key[HARNESS_KEY_MAX];
} harness_key_t;

typedef struct harness_server {
    pid_t pid;              /* 0 when not running */
    int stdout_fd;          /* read end of the server's stdout, -1 when closed */
    int port;
    char root[256];
    char data_dir[320];
    char log_path[320];
    char host[64];          /* "127.0.0.1:PORT": the Host header that is signed */
    char base_url[96];      /* "http://127.0.0.1:PORT" */
    harness_key_t key;      /* the first-start key (kept across restarts) */
    bool printed_key;       /* the latest start printed an AccessKey block */
    char *stdout_text;      /* what the latest start printed up to "listening" */

    /* Strings the log must never contain (signatures, secrets, tokens). */
    pthread_mutex_t mu;
    char **secrets;
    size_t secret_count, secret_alloc;
} harness_server_t;

/* ---- the server process -------------------------------------------------- */

/*
 * Starts `vodup serve --listen 127.0.0.1:0 --data ROOT/data [extra...]` in a
 * new temporary root and waits (HARNESS_START_TIMEOUT_MS) for its listening
 * line.  extra_args: NULL-terminated list, or NULL.  Returns NULL on failure,
 * after printing the reason and the server's log to stderr.  Free with
 * harness_server_stop().
 */
harness_server_t *harness_server_start(const char *const *extra_args);

/* Starts the server again on the same root (after harness_server_terminate). */
bool harness_server_restart(harness_server_t *s, const char *const *extra_args);

/* Sends a signal to the server's PID (not to anything else). */
bool harness_server_signal(harness_server_t *s, int sig);

/*
 * Waits for the server to exit, up to timeout_ms, then SIGKILLs it.  Returns
 * the exit status (0..255), 128+N when killed by signal N, -1 on error or
 * when it had to be killed.
 */
int harness_server_wait(harness_server_t *s, int timeout_ms);

/* SIGTERM and harness_server_wait(HARNESS_STOP_TIMEOUT_MS); keeps the root. */
int harness_server_terminate(harness_server_t *s);

/*
 * Terminates the server if it runs, removes the root and frees `s`.
 * Returns the exit status of the termination (0 when it was not running).
 * A non-zero status is reported on stderr with the tail of the log.
 */
int harness_server_stop(harness_server_t *s);

/* The whole server log (its stderr); malloc'd, caller frees.  NULL if unreadable. */
char *harness_server_log(const harness_server_t *s);

/* Polls the log until it contains `needle` (timeout_ms).  */
bool harness_server_log_wait(const harness_server_t *s, const char *needle, int timeout_ms);

/* Remembers a string the server's log must never contain. */
void harness_note_secret(harness_server_t *s, const char *secret);

/* Returns the first remembered secret found in the log (a pointer into the
 * harness's list), or NULL when the log holds none of them. */
const char *harness_log_find_secret(harness_server_t *s);

/* The end of a test group's server: reports on stderr a remembered secret
 * found in its log, then stops it.  0 when the log was clean and the server
 * exited 0, else -1. */
int harness_server_finish(harness_server_t *s);

/* Writes a fixture file under the root; `path` receives its absolute path. */
bool harness_write_file(const harness_server_t *s, const char *name, const void *data, size_t len, char *path,
                        size_t path_len);

/* ---- vodup admin --------------------------------------------------------- */

/*
 * Runs `vodup admin --data ROOT/data args...` (args NULL-terminated) and
 * returns its exit status (-1 when it could not run).  *out, when out is not
 * NULL, receives its stdout (malloc'd, caller frees).
 */
int harness_adminv(const harness_server_t *s, char **out, const char *const *args);
int harness_admin(const harness_server_t *s, char **out, ...) __attribute__((sentinel));

/* `admin key create --name ACCOUNT --json`: a key of (a new or existing) account. */
bool harness_admin_key_create(harness_server_t *s, const char *account, harness_key_t *out);

/* ---- the database (for states only the upload stage can reach) ------------ */

/*
 * Opens ROOT/data/vodup.db and runs one statement with up to two text
 * parameters (NULL: not bound).  Returns the number of changed rows, -1 on error.
 */
int harness_db_exec(const harness_server_t *s, const char *sql, const char *arg1, const char *arg2);

/* ---- requests ------------------------------------------------------------- */

enum harness_omit {
    HARNESS_OMIT_ACCESS_KEY = 1,
    HARNESS_OMIT_TIMESTAMP = 2,
    HARNESS_OMIT_AUTHORIZATION = 4,
    HARNESS_OMIT_ALL_AUTH = 7,
};

/*
 * One request.  Zero-initialised knobs give a correctly signed request:
 * SignedHeaders "content-type;host" with a body, "host" without, Host
 * "127.0.0.1:PORT", X-WS-Timestamp now.
 */
typedef struct harness_request {
    const char *method;       /* NULL: POST with a body, GET without */
    const char *path;         /* path plus optional query, already percent-encoded */
    const char *body;         /* NULL: no body */
    size_t body_len;          /* 0: strlen(body) */
    const char *content_type; /* NULL: no Content-Type header at all */
    const harness_key_t *key; /* NULL: the server's first key */

    /* Knobs that break the request on purpose. */
    const char *sign_secret;  /* sign with this instead of the key's secret */
    const char *credential;   /* Credential= this instead of the AccessKey */
    int64_t timestamp_offset; /* seconds added to now */
    const char *timestamp;    /* this X-WS-Timestamp verbatim */
    unsigned omit;            /* HARNESS_OMIT_* */
    const char *signed_headers; /* this SignedHeaders list */
    const char *signed_body;  /* sign this body, send `body` */
    const char *signed_path;  /* sign this path (and query), send `path` */
    const char *signed_method; /* sign this method, send `method` */
    const char *authorization; /* this Authorization header verbatim */
    const char *const *extra_headers; /* NULL-terminated "Name: value" lines */
    bool quiet;               /* no message on stderr when the transfer fails */
} harness_request_t;

typedef struct harness_response {
    long status;              /* HTTP status, 0 when the transfer failed */
    CURLcode curl_code;
    char *body;               /* NUL-terminated */
    size_t body_len;
    json_t *json;             /* the parsed body, NULL when not JSON */
    char request_id[64];      /* X-Request-Id, "" when absent */
    char allow[64];
    char connection[64];
    char content_type[128];
    char signature[65];       /* the signature that was sent, "" when none */
} harness_response_t;

void harness_response_free(harness_response_t *r);

/*
 * The full header list of a request (Content-Type, Expect, X-WS-*,
 * Authorization, extras), for tests that drive curl themselves.  Caller
 * frees with curl_slist_free_all.  `signature` (65 bytes, may be NULL)
 * receives the signature.  NULL on failure.
 */
struct curl_slist *harness_request_headers(harness_server_t *s, const harness_request_t *req, char *signature);

/* Sends the request; false only when the harness itself failed (the
 * response then has status 0).  Free the response with harness_response_free. */
bool harness_request(harness_server_t *s, const harness_request_t *req, harness_response_t *resp);

/*
 * Repeats `req` until it answers HTTP `want` or timeout_ms passes (for
 * changes that take effect within a cache lifetime, e.g. key-cache-ttl).
 * Returns the last status seen; *elapsed_ms (may be NULL) how long it took.
 */
long harness_poll_status(harness_server_t *s, const harness_request_t *req, long want, int timeout_ms,
                         int64_t *elapsed_ms);

/* A correctly signed request with `key` (NULL: the first key). */
bool harness_call(harness_server_t *s, const harness_key_t *key, const char *method, const char *path,
                  const char *body, const char *content_type, harness_response_t *resp);

/* POST getUploadToken with a form body, signed with `key` (NULL: first key). */
bool harness_upload_token(harness_server_t *s, const harness_key_t *key, const char *form,
                          harness_response_t *resp);

/* GET getVideoInfo?videoId=ID. */
bool harness_video_info(harness_server_t *s, const harness_key_t *key, const char *video_id,
                        harness_response_t *resp);

/* "http://127.0.0.1:PORT" + path; malloc'd. */
char *harness_url(const harness_server_t *s, const char *path);

/* ---- small utilities ---------------------------------------------------- */

/* RFC 3986 percent-encoding of a string; malloc'd. */
char *harness_escape(const char *s);

/* A form body "n1=v1&n2=v2..." from alternating names and values
 * (NULL-terminated), each percent-encoded; malloc'd. */
char *harness_formv(const char *const *names_values);
char *harness_form(const char *name, ...) __attribute__((sentinel));

/* printf into a new string; malloc'd. */
char *harness_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Wall clock in Unix ms. */
/* CLOCK_MONOTONIC in ms (what tests/tools/hookrecv logs as recv_ms). */
int64_t harness_mono_ms(void);
/* Sleeps ms milliseconds, through signals. */
void harness_sleep_ms(int ms);
/* The whole file as a NUL-terminated string; malloc'd, caller frees.  NULL if unreadable. */
char *harness_read_file(const char *path);
/* Whether process pid has exited (gone, or a zombie no one reaped yet). */
bool harness_process_gone(pid_t pid);
int64_t harness_now_ms(void);

/* response.json["data"] when it is an object, else NULL. */
json_t *harness_data(const harness_response_t *r);

/* obj[key] as a string, NULL when missing or not a string. */
const char *harness_json_str(const json_t *obj, const char *key);

/* True when s is exactly n lowercase hex digits. */
bool harness_is_lower_hex(const char *s, size_t n);

/* ---- assertions (cmocka) ------------------------------------------------- */

/*
 * An API error: HTTP status `http`, body exactly {"code":code,"message":
 * <non-empty string>,"requestId":<id>} with requestId equal to the
 * X-Request-Id header (24 lowercase hex).
 */
#define assert_api_error(resp, http, code) harness_assert_error_at((resp), (http), (code), __FILE__, __LINE__)
/* Success: HTTP 200, {"code":200,"message":"Operation successfully","data":{...}}, X-Request-Id set. */
#define assert_api_ok(resp) harness_assert_ok_at((resp), __FILE__, __LINE__)

/* A signed form POST to /vod/videoManage/<name> with `key` (NULL: the
 * server's first key): its data (the caller decrefs) when want_http is 200
 * and the answer is a success, else NULL after checking the error is
 * want_http with the same code.  Fails the test otherwise. */
json_t *harness_api_at(harness_server_t *s, const harness_key_t *key, const char *name, const char *form,
                       long want_http, const char *file, int line);
#define harness_api(s, key, name, form, want_http) harness_api_at((s), (key), (name), (form), (want_http), __FILE__, __LINE__)

void harness_assert_error_at(const harness_response_t *r, long http, long code, const char *file, int line);
void harness_assert_ok_at(const harness_response_t *r, const char *file, int line);

#endif
