/*
 * harness_upload: the client side of the upload endpoint
 * (../shared/spec/upload-protocol.md, docs/upload.md) for the integration
 * tests, built on harness.h.
 *
 *  - grants: getUploadToken with fileId / fileSize / fileMd5 / overwrite;
 *  - tokens the account owner mints itself (section 1), to reach put-policy
 *    members getUploadToken never sets (returnBody, returnUrl, a past
 *    deadline, a foreign scope);
 *  - form upload through libcurl's mime API with the part order, chunked
 *    transfer and Expect: 100-continue under the test's control;
 *  - raw mkblk / bput / mkfile, and whole blocks cut into chunks;
 *  - reference values computed here, independently of the server's code:
 *    MD5, zlib CRC-32, the WCS etag (section 6, with OpenSSL SHA-1) and
 *    url-safe base64.
 *
 * The request functions return false only when the harness itself failed
 * (the transfer, memory); the HTTP outcome is in the response.  They are
 * thread-safe and never call cmocka's assertions, so that tests may run
 * them on several threads; the assert_* macros are for the test thread.
 * Every function that allocates says who frees.
 */
#ifndef VODUP_HARNESS_UPLOAD_H
#define VODUP_HARNESS_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jansson.h>

#include "harness.h"

#define HARNESS_MIB (1024 * 1024)
#define HARNESS_ETAG_PIECE (4 * HARNESS_MIB) /* the etag's piece, and the block-size unit */
#define HARNESS_ETAG_LEN 28
#define HARNESS_CTX_MAX 512                  /* room for a ctx (the contract says under 200) */
#define HARNESS_TOKEN_MAX 2048
#define HARNESS_PATH_FORM "/file/upload"

/* ---- reference values ------------------------------------------------------ */

/* 32 lowercase hex digits and a NUL. */
void harness_md5_hex(const void *data, size_t len, char out[33]);
/* zlib's CRC-32. */
uint32_t harness_crc32(const void *data, size_t len);
/* The WCS etag (28 url-safe base64 chars) and a NUL. */
void harness_etag(const void *data, size_t len, char out[HARNESS_ETAG_LEN + 1]);

/* Url-safe base64 with '=' padding; malloc'd, caller frees. */
char *harness_b64url(const void *data, size_t len);
/* Decodes url-safe base64 with or without padding; malloc'd (NUL-terminated,
 * *out_len the byte count), caller frees.  NULL when malformed. */
char *harness_b64url_decode(const char *text, size_t *out_len);

/* `len` bytes of a reproducible pseudo-random pattern; malloc'd, caller frees. */
uint8_t *harness_pattern(size_t len, uint32_t seed);

/* Request-body bytes the upload helpers have sent so far (all threads). */
uint64_t harness_upload_bytes_sent(void);

/* ---- tokens ---------------------------------------------------------------- */

/* What getUploadToken answered. */
typedef struct harness_grant {
    char video_id[64];
    char file_key[512];
    char bucket[128];
    char upload_url[128];
    char token[HARNESS_TOKEN_MAX];
} harness_grant_t;

/* getUploadToken parameters; zero-initialised: originFileName "clip.mp4",
 * nothing else, the server's first key. */
typedef struct harness_grant_opts {
    const char *name;       /* originFileName */
    const char *file_id;    /* NULL: not sent */
    const char *file_size;  /* decimal; NULL: not sent */
    const char *file_md5;   /* NULL: not sent */
    bool overwrite;         /* sends overwrite=1 */
    const harness_key_t *key;
} harness_grant_opts_t;

/*
 * Calls getUploadToken and fills *g.  False (with the answer printed) unless
 * it answered 200 with every member.  The token is remembered as a string
 * the server's log must not hold.
 */
bool harness_grant(harness_server_t *s, const harness_grant_opts_t *o, harness_grant_t *g);

/* AccessKey ":" EncodedSign ":" EncodedPutPolicy over `policy_json` exactly as
 * given (section 1); malloc'd, caller frees. */
char *harness_mint(const char *access_key, const char *secret_key, const char *policy_json);

/*
 * A token for `key` with the policy {"scope":SCOPE,"deadline":"<ms>"<extra>}.
 * extra: NULL, or more members starting with a comma, e.g.
 * ",\"overwrite\":1".  The token is remembered as a log secret.  malloc'd,
 * caller frees.
 */
char *harness_mint_policy(harness_server_t *s, const harness_key_t *key, const char *scope, int64_t deadline_ms,
                          const char *extra);

/* "UpToken " + token; malloc'd, caller frees. */
char *harness_uptoken(const char *token);

/* ---- responses ------------------------------------------------------------- */

#define HARNESS_MAX_HEADERS 64

typedef struct harness_upload_response {
    long status;        /* the final status; 0 when the transfer failed */
    CURLcode curl_code;
    char *body;         /* NUL-terminated (the body may hold NULs: use body_len) */
    size_t body_len;
    json_t *json;       /* the body parsed as JSON (any type), NULL when it is not */
    /* The headers of the final answer (after any 100 Continue). */
    size_t header_count;
    char *header_names[HARNESS_MAX_HEADERS];
    char *header_values[HARNESS_MAX_HEADERS];
} harness_upload_response_t;

void harness_upload_response_free(harness_upload_response_t *r);

/* The value of header `name` (any case) in the final answer; NULL when absent. */
const char *harness_header(const harness_upload_response_t *r, const char *name);

/* True when the comma-separated list `list` holds `item` (any case, spaces trimmed). */
bool harness_list_has(const char *list, const char *item);

/* ---- raw requests ---------------------------------------------------------- */

typedef struct harness_upload_request {
    const char *method;          /* NULL: POST */
    const char *path;            /* path and optional query */
    const void *body;            /* NULL: no body (an empty POST body when method is POST) */
    size_t body_len;
    const char *authorization;   /* the Authorization value; NULL: no header */
    const char *content_type;    /* NULL: no Content-Type header */
    const char *const *headers;  /* more "Name: value" lines, NULL-terminated */
    bool chunked;                /* Transfer-Encoding: chunked instead of Content-Length */
} harness_upload_request_t;

bool harness_upload_send(harness_server_t *s, const harness_upload_request_t *req, harness_upload_response_t *r);

/* ---- form upload ----------------------------------------------------------- */

typedef struct harness_form_part {
    const char *name;     /* "file", "token", "key", "x:foo", ... */
    const void *data;     /* the field's value or the file's bytes */
    size_t len;           /* file parts: the byte count; fields: 0 means strlen(data) */
    const char *filename; /* non-NULL: a file part with this filename */
    const char *type;     /* the part's Content-Type; NULL: none */
} harness_form_part_t;

enum harness_expect {
    HARNESS_EXPECT_NONE = 0,   /* no Expect header */
    HARNESS_EXPECT_WAIT,       /* Expect: 100-continue; the body waits for 100 Continue (up to 5 s) */
    HARNESS_EXPECT_NO_WAIT,    /* Expect: 100-continue; the body follows at once */
};

typedef struct harness_form {
    const harness_form_part_t *parts; /* in the order they are sent */
    size_t count;
    bool chunked;                /* Transfer-Encoding: chunked (body of unknown length) */
    enum harness_expect expect;
    const char *const *headers;  /* more "Name: value" lines, NULL-terminated */
    const char *path;            /* NULL: /file/upload */
} harness_form_t;

bool harness_form_post(harness_server_t *s, const harness_form_t *f, harness_upload_response_t *r);

/* The plain case: fields token (when not NULL) then file (named filename). */
bool harness_form_upload(harness_server_t *s, const char *token, const void *data, size_t len,
                         harness_upload_response_t *r);

/* ---- slice upload ---------------------------------------------------------- */

/* A mkblk / bput answer. */
typedef struct harness_block_answer {
    char ctx[HARNESS_CTX_MAX];
    int64_t offset;
    int64_t crc32;      /* -1 when missing or not a non-negative integer */
    char checksum[80];
} harness_block_answer_t;

/* Parses a 200 mkblk / bput answer; false when a member is missing or mistyped. */
bool harness_block_answer(const harness_upload_response_t *r, harness_block_answer_t *a);

/* POST /mkblk/<block_size>[/<index>] (index < 0: left out). */
bool harness_mkblk(harness_server_t *s, const char *authorization, int64_t block_size, int64_t index,
                   const void *data, size_t len, harness_upload_response_t *r);
/* POST /bput/<ctx>/<offset>. */
bool harness_bput(harness_server_t *s, const char *authorization, const char *ctx, int64_t offset, const void *data,
                  size_t len, harness_upload_response_t *r);
/* POST /mkfile/<file_size><suffix> with body ctx_list (text/plain) and
 * extra headers (NULL-terminated, may be NULL).  suffix: NULL or
 * "/name/<b64>..." */
bool harness_mkfile(harness_server_t *s, const char *authorization, int64_t file_size, const char *suffix,
                    const char *ctx_list, const char *const *headers, harness_upload_response_t *r);

/*
 * Uploads one block (its bytes: data, len) as mkblk plus bputs of `chunk`
 * bytes, checking every answer (200, offset, crc32, checksum).  The last ctx
 * goes to ctx_out.  False, with the reason on stderr, when a step fails.
 */
bool harness_put_block(harness_server_t *s, const char *authorization, const uint8_t *data, size_t len,
                       int64_t index, size_t chunk, char ctx_out[HARNESS_CTX_MAX]);

/*
 * A whole file by slice upload: blocks of 4 MiB (the last shorter) in chunks
 * of `chunk` bytes, then mkfile; *mkfile receives mkfile's answer.
 * False when a block step failed (then *mkfile has status 0).
 */
bool harness_put_file(harness_server_t *s, const char *authorization, const uint8_t *data, size_t len,
                      size_t chunk, harness_upload_response_t *mkfile);

/* GET (or HEAD, ...) /<file_key> with extra headers; the playback origin. */
bool harness_playback(harness_server_t *s, const char *method, const char *file_key, const char *const *headers,
                      harness_upload_response_t *r);

/* ---- assertions (cmocka, test thread only) ---------------------------------- */

/* An answer of the upload endpoint: X-Reqid set (and equal to X-Request-Id when that is sent). */
#define assert_upload_answer(r) harness_assert_upload_answer_at((r), __FILE__, __LINE__)
/* An upload error: HTTP status, JSON object with code == status, non-empty message and error. */
#define assert_upload_error(r, http) harness_assert_upload_error_at((r), (http), __FILE__, __LINE__)
/* A form upload success: exactly 200, a body that is not JSON and decodes to
 * expect_query (e.g. "hash=<etag>"). */
#define assert_form_ok(r, expect_query) harness_assert_form_ok_at((r), (expect_query), __FILE__, __LINE__)
/* A mkfile success: exactly 200, JSON with hash == etag and key == file_key. */
#define assert_mkfile_ok(r, etag, file_key) harness_assert_mkfile_ok_at((r), (etag), (file_key), __FILE__, __LINE__)
/* A mkblk/bput success for `chunk`, leaving `offset` bytes held; *a receives it. */
#define assert_block_ok(r, chunk, chunk_len, offset, a)                                                            \
    harness_assert_block_ok_at((r), (chunk), (chunk_len), (offset), (a), __FILE__, __LINE__)
/* Any answer with an exact status (and X-Reqid). */
#define assert_upload_status(r, http) harness_assert_upload_status_at((r), (http), __FILE__, __LINE__)

void harness_assert_upload_answer_at(const harness_upload_response_t *r, const char *file, int line);
void harness_assert_upload_status_at(const harness_upload_response_t *r, long http, const char *file, int line);
void harness_assert_upload_error_at(const harness_upload_response_t *r, long http, const char *file, int line);
void harness_assert_form_ok_at(const harness_upload_response_t *r, const char *expect_query, const char *file,
                               int line);
void harness_assert_mkfile_ok_at(const harness_upload_response_t *r, const char *etag, const char *file_key,
                                 const char *file, int line);
void harness_assert_block_ok_at(const harness_upload_response_t *r, const void *chunk, size_t chunk_len,
                                int64_t offset, harness_block_answer_t *a, const char *file, int line);

/*
 * getVideoInfo of a video that must have been published with exactly
 * `data`: status uploaded, size, md5, etag, uploadedAt set; mimeType equal
 * to expect_mime when not NULL.  Returns the info object (owned by *info).
 */
json_t *harness_assert_uploaded_at(harness_server_t *s, const harness_key_t *key, const char *video_id,
                                   const void *data, size_t len, const char *expect_mime, harness_response_t *info,
                                   const char *file, int line);
#define assert_uploaded(s, key, video_id, data, len, mime, info)                                                   \
    harness_assert_uploaded_at((s), (key), (video_id), (data), (len), (mime), (info), __FILE__, __LINE__)

/* GET /<file_key> must answer 200 with exactly `data`. */
void harness_assert_playback_at(harness_server_t *s, const char *file_key, const void *data, size_t len,
                                const char *file, int line);
#define assert_playback(s, file_key, data, len)                                                                    \
    harness_assert_playback_at((s), (file_key), (data), (len), __FILE__, __LINE__)

/* The etag examples of upload-protocol.md section 6: `text` bytes, or
 * `len` zero bytes when text is NULL. */
typedef struct harness_etag_example {
    const char *what;
    size_t len;
    const char *text;
    const char *etag;
} harness_etag_example_t;

#define HARNESS_ETAG_EXAMPLES 5
extern const harness_etag_example_t harness_etag_examples[HARNESS_ETAG_EXAMPLES];

#endif
