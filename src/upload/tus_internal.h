/*
 * tus_internal: what the files of the tus route share (tus.c: dispatch,
 * HEAD, DELETE, completion; tus_create.c: POST; tus_patch.c: PATCH and the
 * bytes of a request).  Not for use outside src/upload.
 */
#ifndef VODUP_TUS_INTERNAL_H
#define VODUP_TUS_INTERNAL_H

#include "upload/upload_internal.h"

#define TUS_OCTET_STREAM "application/offset+octet-stream"

enum upload_tus_method { TUS_M_OTHER = 0, TUS_M_OPTIONS, TUS_M_POST, TUS_M_HEAD, TUS_M_PATCH, TUS_M_DELETE };

/* A request header by lowercase name (NULL when absent). */
const char *tus_header(const upload_call_t *call, const char *name);
/* When an unfinished upload expires (block-max-age after its last write). */
int64_t tus_expires_ms(const upload_call_t *call, const store_tus_t *row);
/* Adds Upload-Expires for an open upload. */
bool tus_add_expires(upload_call_t *call, const store_tus_t *row);
bool tus_add_number(upload_call_t *call, const char *name, int64_t v);
/* Decides a bodiless success answer. */
void tus_succeed(upload_call_t *call, int status);

/* Verifies Authorization: UpToken (upload_auth_verify), with request_key
 * for a token whose scope names no key; a foreign bucket is 403 here. */
bool tus_verify_token(upload_call_t *call, const char *request_key);
/* Whether the upload has all its bytes and is not published yet. */
bool tus_needs_completion(const store_tus_t *row);
/* Publishes the upload of st->row (single: its block; final: its parts'
 * blocks) as the mkfile path does, then records it done.  On a worker.  On
 * failure the call has its error. */
bool tus_complete(upload_call_t *call);
/* Records st->row's progress (offset, length, state) now. */
bool tus_record(upload_call_t *call);
/* The decoded part ids of a final upload's Upload-Concat value, checked to
 * be partial uploads of this request's fileKey (400 / 403 otherwise). */
bool tus_final_parts(upload_call_t *call, const tus_concat_t *concat, tus_id_t **ids);

/* Room (quota and disk) for `bytes` more of this request's bytes. */
bool tus_reserve(upload_call_t *call, blob_writer_t *w, int64_t bytes);
/* Starts the request's bytes: the slot's writer appends at st->start. */
bool tus_bytes_begin(upload_call_t *call, blob_writer_t *w);
/* The request's bytes are complete: takes the writer back, checks the
 * checksum (460, bytes dropped), makes them durable.  false: the call has
 * its error (409 when taken over). */
bool tus_bytes_end(upload_call_t *call);
/* Cuts the block back to `offset` (drops bytes never acknowledged). */
void tus_truncate(upload_call_t *call, int64_t offset);

void tus_create_begin(upload_call_t *call);
void tus_create_work(upload_call_t *call);
void tus_patch_begin(upload_call_t *call);
void tus_patch_work(upload_call_t *call);
/* The request ended without its finish (the client left): keeps the bytes
 * a PATCH received (on a worker) or drops them. */
void tus_patch_abandon(upload_call_t *call);
/* The request ends holding what a takeover handed over and it did not use
 * (a PATCH whose offset did not match it, a HEAD that failed before its
 * work): the bytes are kept as the old request would have kept them. */
void tus_handover_keep(upload_call_t *call);
/* Lets the upload go now (if the request holds it): what the request wrote
 * is saved or cut back (tus_patch_abandon), bytes a takeover handed over are
 * kept (tus_handover_keep), and the slot is released.  A refused request
 * calls it before its answer goes out, so that the client's next request
 * finds the upload free instead of racing the release (423). */
void tus_let_go(upload_call_t *call);

#endif
