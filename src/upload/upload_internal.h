/*
 * upload_internal: the per-request state shared by the upload route files
 * (form.c, block.c, mkfile.c) and upload.c, which owns its life cycle.
 * Not for use outside src/upload.
 */
#ifndef VODUP_UPLOAD_INTERNAL_H
#define VODUP_UPLOAD_INTERNAL_H

#include <openssl/evp.h>

#include "auth/upload_token.h"
#include "common/buf.h"
#include "upload/block_ctx.h"
#include "upload/etag.h"
#include "upload/hash_follow.h"
#include "upload/quota.h"
#include "upload/return_body.h"
#include "upload/tus_headers.h"
#include "upload/tus_id.h"
#include "upload/tus_slot.h"
#include "upload/upload.h"

#define UPLOAD_MAX_XVARS 32
#define UPLOAD_MAX_FIELD 4096        /* token, key, mimeType, x:* values */
#define UPLOAD_MAX_MKFILE_BODY (4 << 20)

typedef struct upload_mark upload_mark_t;

/* Per-route state. */
typedef struct upload_form_state {
    struct MHD_PostProcessor *pp;
    buf_t token;
    buf_t key_field;
    char *field_name; /* the field being received, when vodup reads it */
    buf_t field;      /* its value so far (at most UPLOAD_MAX_FIELD bytes) */
    bool file_started, file_ended;
    /* File bytes that came before the token: held in memory (bounded by
     * preauth-spool, and preauth-spool-total over all requests), neither
     * stored nor hashed until the token is verified. */
    buf_t spool;
    int64_t preauth_taken; /* charged to the server-wide pre-auth bound */
} upload_form_state_t;

typedef struct upload_block_state {
    block_ctx_t ctx; /* the block's new state (offset grows as bytes arrive) */
    int64_t start;   /* offset this request appends at */
    uint32_t crc32;
    uint64_t digest_gen; /* from digest_block_opened */
    hash_follow_t *follow; /* the chunk's MD5, on a hashing thread (NULL: call->md5 inline) */
    quota_owner_t owner;   /* the block's, from its id */
    int64_t reserved;      /* room taken (quota and disk) for this chunk */
} upload_block_state_t;

typedef struct upload_mkfile_state {
    int64_t file_size;
    buf_t ctx_list;
    block_ctx_t *blocks;
    size_t block_count, block_alloc;
} upload_mkfile_state_t;

/* tus (tus.c, tus_create.c, tus_patch.c). */
typedef struct upload_tus_state {
    int method;              /* enum upload_tus_method */
    bool trailing_slash;     /* POST /files/ (Location "<id>") rather than /files ("files/<id>") */
    tus_id_t id;
    char id_text[TUS_ID_TEXT_LEN + 1];
    store_tus_t row;         /* the upload's state as last read or written */
    bool have_row;
    tus_slot_t *slot;        /* claimed: this request may write the upload */
    tus_handover_t handover; /* what a takeover handed to this request */
    bool claim_on_worker;    /* the holder was finishing: claim (waiting) on the worker */
    int64_t start;           /* the offset this request's bytes go to */
    int64_t new_length;      /* Upload-Length this request sets; -1: none */
    bool body;               /* the request carries upload bytes */
    tus_checksum_t checksum; /* Upload-Checksum; alg TUS_CK_NONE: none */
    EVP_MD_CTX *ck;          /* its digest of the bytes (sha1, md5) */
    hash_follow_t *follow;   /* feeds the slot's running digest (tus_slot_lend); NULL: none */
    uint32_t crc;            /* its crc32 */
    tus_concat_t concat;     /* POST: Upload-Concat */
    char *concat_text;       /* POST final: the header as sent */
    char *metadata;          /* POST: Upload-Metadata as sent */
    quota_owner_t owner;     /* the block's owner, from its id */
    int64_t reserved;        /* room (quota and disk) taken for this request's bytes */
    bool version_told;       /* Tus-Version added to a 412 */
} upload_tus_state_t;

#define UPLOAD_MAX_HEADERS 12

struct upload_call {
    const upload_ctx_t *ctx;
    upload_request_t req;

    /* The authorised target, once the token is verified. */
    bool authorised;
    char access_key[128];
    store_key_t key;
    upload_policy_t policy;
    store_video_t video;
    char *file_key; /* the resolved key (owned) */
    quota_owner_t owner; /* the account and token, for the staging quota */
    int64_t quota_taken; /* staged bytes charged to owner by this call (form) */

    /* Optional fields (form fields, mkfile path pairs, headers). */
    char *mime_type;
    char *xnames[UPLOAD_MAX_XVARS];
    char *xvalues[UPLOAD_MAX_XVARS];
    size_t xcount;

    /* Streaming state of the bytes being received. */
    blob_writer_t *writer;
    EVP_MD_CTX *md5;
    etag_t etag;
    bool etag_ready;
    int64_t received;  /* payload bytes (the file part, or the chunk) */
    uint64_t drained;  /* bytes discarded after an error */
    bool marked_uploading;
    upload_mark_t *mark; /* the queued "uploading" write, shared with its job */

    union {
        upload_form_state_t form;
        upload_block_state_t block;
        upload_mkfile_state_t mkfile;
        upload_tus_state_t tus;
    } u;

    /* Work run on the worker pool by upload_call_finish. */
    void (*work)(upload_call_t *call);

    /* The persistent job the upload queued (its fops: persistentOps or the
     * token's cmd), "" when none: the answer's persistentId. */
    char persistent_id[STORE_TASK_ID_LEN + 1];

    /* The answer. */
    bool failed;
    int status;
    buf_t body;
    const char *content_type;
    char *location;
    upload_header_t headers[UPLOAD_MAX_HEADERS];
    size_t header_count;
};

/* Adds a header to the answer (copies value); false when out of room. */
bool upload_add_header(upload_call_t *call, const char *name, const char *value);
/* Decides an error answer (the first one wins). */
void upload_fail(upload_call_t *call, int status, const char *message);
/* Sets a 200 JSON answer from a jansson object (takes the reference). */
void upload_succeed_json(upload_call_t *call, void *json);
/* The answer for a store or blob return code. */
void upload_fail_store(upload_call_t *call, int rc);
void upload_fail_blob(upload_call_t *call, int rc);

/* The returnBody and callbackBody variables of a finished upload. */
void upload_return_vars(const upload_call_t *call, const char *etag, int64_t fsize, return_vars_t *out);

/* Verifies an upload token (with or without the "UpToken " prefix),
 * resolves the key (scope key, else request_key, which may be NULL) and
 * loads its video.  On failure the call has its error (401, 631, ...). */
bool upload_auth_verify(upload_call_t *call, const char *token, size_t token_len, const char *request_key);
/* 406 when the video holds an upload already and the token may not replace it. */
bool upload_check_overwrite(upload_call_t *call);
/* The policy's persistentOps and persistentNotifyUrl can run (a 400 before
 * any byte is taken otherwise); upload_auth_verify's last check. */
bool upload_check_persistent_ops(upload_call_t *call);
/* 413 when `size` passes the token's fsizeLimit, the registered fileSize
 * or max-upload-size. */
bool upload_check_size(upload_call_t *call, int64_t size);
/* Charges `bytes` more of staged room to call->owner; 413 when the account
 * or the token has no room left. */
bool upload_quota_take(upload_call_t *call, const quota_owner_t *owner, int64_t bytes);
/* Queues (without waiting) the created -> uploading transition. */
void upload_mark_uploading(upload_call_t *call);
/* Waits until that transition is written (on a worker; a no-op when none
 * was queued), so that a status written next is not overtaken by it. */
void upload_mark_wait(upload_call_t *call);
/* Adds an x:name variable / sets mimeType (copies). */
bool upload_add_xvar(upload_call_t *call, const char *name, const char *value, size_t value_len);
bool upload_set_mime_type(upload_call_t *call, const char *value, size_t len);

/* Starts hashing (MD5, and the WCS etag when `with_etag`) of received bytes. */
bool upload_hash_begin(upload_call_t *call, bool with_etag);
/* Hashes (when upload_hash_begin ran) and writes payload bytes to call->writer. */
bool upload_payload(upload_call_t *call, const char *data, size_t len);

/*
 * Publishes call->writer (a staged object holding the whole file) as the
 * video's bytes: md5 check against fileMd5, blob publish, registry row,
 * removal of the replaced object.  Runs on a worker.  `md5_hex` and `etag`
 * describe the staged bytes.  On success call->status is left to the caller.
 */
bool upload_publish(upload_call_t *call, const char *md5_hex, const char *etag, int64_t size);
/* A file's hashes, when they are known without reading it. */
typedef struct upload_hashes {
    char md5_hex[33];
    char etag[ETAG_LEN + 1];
} upload_hashes_t;

/*
 * Publishes `blocks` (complete, of this fileKey, in file order, distinct)
 * as the file (assemble.c): staged without a copy, hashed (unless `known`
 * gives the hashes), published with upload_publish, then the blocks
 * removed.  Runs on a worker.  On success writes the etag; on failure the
 * call has its error.
 */
bool upload_assemble(upload_call_t *call, const block_ctx_t *blocks, size_t count, const upload_hashes_t *known,
                     char etag[ETAG_LEN + 1]);
/* mimeType to record: the given one, else from the key's extension. */
const char *upload_mime_type(const upload_call_t *call);

/* Decodes url-safe base64 to text (malloc'd); NULL when malformed or when
 * it decodes to bytes with a NUL (keys and media types are text). */
char *upload_b64_text(const char *s, size_t len);

/* Parses a non-negative decimal of 1..18 digits (no sign, no spaces). */
bool upload_parse_uint(const char *s, size_t len, int64_t *out);

/* Route handlers. */
void form_begin(upload_call_t *call);
bool form_body(upload_call_t *call, const char *data, size_t len);
void form_finish(upload_call_t *call);
void form_free(upload_call_t *call);

void block_begin(upload_call_t *call);
bool block_body(upload_call_t *call, const char *data, size_t len);
void block_finish(upload_call_t *call);
/* After a refused chunk: drops the bytes it wrote. */
void block_discard(upload_call_t *call);
/* Stops the chunk's hashing thread work, before the block may change. */
void block_free(upload_call_t *call);

void tus_begin(upload_call_t *call);
bool tus_body(upload_call_t *call, const char *data, size_t len);
void tus_finish(upload_call_t *call);
/* Before the answer goes out: the headers every tus answer carries. */
void tus_answer_headers(upload_call_t *call);
void tus_free(upload_call_t *call);

void mkfile_begin(upload_call_t *call);
bool mkfile_body(upload_call_t *call, const char *data, size_t len);
void mkfile_finish(upload_call_t *call);
void mkfile_free(upload_call_t *call);

#endif
