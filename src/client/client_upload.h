/*
 * client_upload: `vodup upload`'s engine, one local file to one video.
 *
 *  1. The file's identity gives a stable fileId (unless one is given) and
 *     finds the resume record (client_record.h); a record made for other
 *     bytes, another endpoint or another key is discarded.
 *  2. getUploadToken with fileId, fileSize and, when the record knows it,
 *     fileMd5.  Otherwise the MD5 is computed on a thread while the blocks
 *     go out, and a second getUploadToken (same fileId: same video, fresh
 *     token) hands it to the server before mkfile, which then verifies it.
 *  3. Files up to CLIENT_FORM_MAX go in one form upload.  Larger ones are
 *     cut into blocks; N workers send the blocks the record does not hold
 *     (mkblk, then bput for blocks larger than a chunk), each on its own
 *     keep-alive connection; every acknowledged block is written to the
 *     record at once, so a kill at any moment loses at most the blocks in
 *     flight.  mkfile joins them; the record is removed after it succeeds.
 *
 * Failures: transport errors, 5xx and 429 are retried with backoff
 * (client_retry.h); a 401 from the upload endpoint fetches a fresh token
 * once; 701 restarts a block; a 412 at mkfile (a block swept or unknown)
 * drops the resumed ctx values and sends those blocks again, once; any
 * other 4xx stops everything with the server's message.  When an answer
 * was lost after the server had published (the retry then meets 406 or
 * 409), getVideoInfo decides: the same size and MD5 mean done.
 *
 * Memory is bounded by N libcurl upload buffers plus the MD5 buffer,
 * whatever the file size.  The engine prints nothing but the progress bar
 * (when asked) and a warning when the record cannot be written.
 */
#ifndef VODUP_CLIENT_UPLOAD_H
#define VODUP_CLIENT_UPLOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/client_api.h"
#include "client/client_config.h"
#include "client/client_transfer.h"

#define CLIENT_MIB (1024LL * 1024)
#define CLIENT_CHUNK_SIZE (4 * CLIENT_MIB)        /* bytes per mkblk/bput request */
#define CLIENT_DEFAULT_BLOCK_SIZE (4 * CLIENT_MIB)
#define CLIENT_MAX_BLOCK_SIZE (1024 * CLIENT_MIB) /* the server's default max-block-size */
#define CLIENT_FORM_MAX (4 * CLIENT_MIB)          /* files up to this size go in one form upload */
#define CLIENT_DEFAULT_CONCURRENCY 4
#define CLIENT_MAX_CONCURRENCY 64

typedef struct client_upload_opts {
    const char *file;               /* as given on the command line */
    client_token_params_t params;   /* name NULL: the file's base name; file_size, file_md5 are filled in */
    int concurrency;                /* 1..CLIENT_MAX_CONCURRENCY */
    int64_t block_size;             /* bytes, a multiple of 4 MiB; 0: the record's, else the default */
    bool progress;                  /* draw the progress bar on stderr */
    int64_t limit_rate;             /* bytes/s for the whole upload, 0: none */
    long stall_s;                   /* a try with no byte moving this long fails; 0: default */
} client_upload_opts_t;

typedef struct client_upload_result {
    char video_id[CLIENT_VIDEO_ID_MAX];
    char file_key[CLIENT_FILE_KEY_MAX];
    char etag[CLIENT_ETAG_MAX];
    char play_url[2048];            /* "" when getVideoInfo could not tell */
    char md5[33];
    char file_id[CLIENT_FILE_ID_MAX + 1];
    int64_t size;
    int64_t bytes_sent;             /* request-body bytes sent, retries included */
    int64_t resumed_bytes;          /* bytes of blocks the server already held */
    double seconds;
    bool form;                      /* sent as one form upload */
    char error[1024];               /* one line, when the result is not CLIENT_EXIT_OK */
} client_upload_result_t;

/*
 * Uploads o->file.  *stop (may be NULL) is the stop flag: a signal handler
 * sets it to interrupt the upload (the record is kept), and the engine sets
 * it itself to abort every transfer after a failure.  Returns a CLIENT_EXIT_*
 * code (or CLIENT_EXIT_INTERRUPTED); res->error says why when it is not 0.
 */
int client_upload(const client_config_t *cfg, const client_upload_opts_t *o, atomic_int *stop,
                  client_upload_result_t *res);

#endif
