/*
 * client_transfer: single requests to the upload endpoint
 * (../shared/spec/upload-protocol.md): mkblk, bput, mkfile and the form
 * upload, over one libcurl handle per connection.
 *
 * Request bodies are streamed from the file with pread straight into
 * libcurl's upload buffer: memory stays bounded by that buffer per
 * connection whatever the chunk size, and a retry simply reads again.  The
 * CRC-32 of every chunk is computed as it is sent and compared with the
 * server's acknowledgement, so a chunk the server stored differently is
 * never taken for done.
 *
 * Each function makes one attempt and says what happened; retries, backoff
 * and token renewal belong to the caller (client_upload.c).  A connection
 * is used by one thread at a time.
 */
#ifndef VODUP_CLIENT_TRANSFER_H
#define VODUP_CLIENT_TRANSFER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "client/client_api.h"
#include "client/client_record.h"

#define CLIENT_UPLOAD_BUFFER (512 * 1024)   /* libcurl's upload buffer per connection */
#define CLIENT_DEFAULT_STALL_S 60           /* no byte moving for this long: the try failed */
#define CLIENT_ETAG_MAX 64

/* Counters shared by every connection of an upload. */
typedef struct client_counters {
    atomic_llong sent;      /* request-body bytes handed to the network, every try included */
    atomic_llong progress;  /* bytes of chunks acknowledged or under way (tries that failed are taken back) */
} client_counters_t;

typedef struct client_conn {
    CURL *curl;
    const atomic_int *stop;       /* non-zero: abort the transfer under way */
    client_counters_t *counters;
    int64_t max_send_speed;       /* bytes/s, 0: unlimited */
    long stall_s;
    const char *cacert;           /* client_config_t's, set by the caller after init; NULL: the system's CAs */
    client_response_t resp;       /* the answer of the last request */
    int read_errno;               /* set when the last request could not read the file */
    bool short_file;              /* the file ended before the chunk did */
    char why[256];                /* a local reason the last request failed ("" when none) */
} client_conn_t;

bool client_conn_init(client_conn_t *c, client_counters_t *counters, const atomic_int *stop,
                      int64_t max_send_speed, long stall_s);
void client_conn_free(client_conn_t *c);

enum client_send_result {
    CLIENT_SEND_OK = 0,   /* 200 and a well-formed, matching answer */
    CLIENT_SEND_RETRY,    /* transient: network, 5xx, 429, or an answer that does not match what was sent */
    CLIENT_SEND_FAIL,     /* final: a 4xx or a local error (see resp and read_errno) */
};

/* One chunk of a block: mkblk when ctx is NULL, else bput. */
typedef struct client_chunk {
    const char *upload_url;
    const char *token;
    int fd;
    int64_t file_offset;   /* where the chunk starts in the file */
    size_t len;            /* 1..block_size */
    int64_t block_size;
    int64_t block_index;
    const char *ctx;       /* NULL: the block's first chunk */
    int64_t block_offset;  /* bytes of the block already held (bput) */
} client_chunk_t;

typedef struct client_chunk_answer {
    char ctx[CLIENT_CTX_MAX + 1];
    int64_t offset;
} client_chunk_answer_t;

enum client_send_result client_chunk_send(client_conn_t *c, const client_chunk_t *k, client_chunk_answer_t *a);

/* POST /mkfile/<size> with the comma-joined ctx list.  etag receives "hash". */
enum client_send_result client_mkfile_send(client_conn_t *c, const char *upload_url, const char *token,
                                           int64_t size, const char *ctx_list, char etag[CLIENT_ETAG_MAX]);

/* POST /file/upload: fields token then file (name `filename`), streamed
 * from fd.  etag receives the hash decoded from the answer. */
enum client_send_result client_form_send(client_conn_t *c, const char *upload_url, const char *token, int fd,
                                         int64_t size, const char *filename, char etag[CLIENT_ETAG_MAX]);

/* Reads "hash=<etag>" out of a form upload's answer (url-safe base64 of a
 * query text).  Pure. */
bool client_form_answer_etag(const char *body, size_t len, char etag[CLIENT_ETAG_MAX]);

#endif
