/*
 * tus_slot: who may write a tus upload right now, in this process.
 *
 * A client that notices a dead connection resumes (HEAD, then PATCH) while
 * the server may still hold the old PATCH open.  As tusd does, the newer
 * request takes the upload over: the old request is cut at its next body
 * call and its open writer, with the bytes it received, is handed to the
 * newer one (which makes them durable, or drops them when the old request
 * had a checksum to check first).  A holder that is already finishing (its
 * body complete: syncing, recording, publishing) is waited for instead.
 *
 * One slot per upload with a request on it, found by upload id in a table;
 * a slot lives while a request refers to it.  The holder writes its bytes
 * through tus_slot_write, under the slot's lock, so that a takeover never
 * races a write.  All functions are thread-safe.
 *
 * A slot also keeps the running MD5 and etag of the upload's bytes as they
 * are written from offset 0 on, so that completion need not read them all
 * back.  Nothing depends on it for correctness: a digest is used only when
 * it covers exactly the upload's bytes [0, length); any write that does
 * not continue it (a truncation, a restart, another node) drops it, and
 * the completion then reads the bytes back.  A slot with a digest stays in
 * the table between requests, at most TUS_SLOT_IDLE_MAX of them.
 */
#ifndef VODUP_TUS_SLOT_H
#define VODUP_TUS_SLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "blob/blob.h"
#include "upload/etag.h"
#include "upload/upload.h"

typedef struct tus_slots tus_slots_t;
typedef struct tus_slot tus_slot_t;

tus_slots_t *tus_slots_new(void);
void tus_slots_free(tus_slots_t *ss);

/* What a takeover hands over: the old holder's writer (NULL: none), the
 * offset it appended at, the bytes it wrote, and whether they wait for a
 * checksum (then they must be dropped). */
typedef struct tus_handover {
    blob_writer_t *writer;
    int64_t start;
    int64_t written;
    bool checked;
} tus_handover_t;

enum tus_claim_rc {
    TUS_CLAIM_OK = 0, /* `who` holds the slot; *out set, the handover filled */
    TUS_CLAIM_BUSY,   /* the holder is finishing and wait was false */
    TUS_CLAIM_ERROR,  /* out of memory */
};

/* Makes `who` the holder of upload `upload_id`'s slot, taking it over from
 * a holder that is receiving, whose connection is then cut (with its `cut`,
 * given when it claimed): its client is gone or has given up on it, and it
 * would otherwise hold a connection until the idle timeout.  wait: sleep
 * while a holder finishes (worker threads only; never on an HTTP poll
 * thread). */
int tus_slot_claim(tus_slots_t *ss, const char *upload_id, const void *who, const upload_cut_t *cut, bool wait,
                   tus_slot_t **out, tus_handover_t *handover);
/* The holder's writer, appending at `start`; `checked`: its bytes count only
 * once a checksum matches. */
void tus_slot_set_writer(tus_slot_t *s, const void *who, blob_writer_t *w, int64_t start, bool checked);
/* Writes through the holder's writer.  false with *rc BLOB_OK when `who`
 * is no longer the holder (taken over); else *rc is blob's. */
bool tus_slot_write(tus_slot_t *s, const void *who, blob_t *blob, const void *data, size_t len, int *rc);
/* The holder's body is complete: it keeps the slot, marked finishing (a
 * takeover waits), and takes its writer back (NULL if it had none).  false
 * when it was taken over. */
bool tus_slot_finishing(tus_slot_t *s, const void *who, blob_writer_t **writer);
/* The running digest, lent to `who` (the holder) for a hash_follow that
 * feeds it with tus_slot_digest_update while the bytes arrive, when it
 * continues exactly at the holder's start; NULL otherwise (the bytes are
 * then hashed inline by tus_slot_write, when a digest goes on at all).
 * The borrower gives it back with tus_slot_giveback, also after it lost
 * the slot: ok false drops it (its follower stopped short). */
void *tus_slot_lend(tus_slot_t *s, const void *who);
bool tus_slot_digest_update(void *digest, const void *data, size_t len);
void tus_slot_giveback(tus_slot_t *s, const void *who, bool ok);
/* Takes the running digest when it covers exactly [0, length): writes the
 * lowercase hex MD5 and the etag and returns true.  Drops it either way. */
bool tus_slot_digest(tus_slot_t *s, int64_t length, char md5_hex[33], char etag[ETAG_LEN + 1]);
/* Drops the running digest (the upload is gone). */
void tus_slot_forget(tus_slot_t *s);
/* Hands the holder's place to `to` (a job that finishes for a request
 * that is gone). */
void tus_slot_pass(tus_slot_t *s, const void *from, const void *to);
/* Lets go of the slot (holder or not) and drops the reference. */
void tus_slot_release(tus_slots_t *ss, tus_slot_t *s, const void *who);

#endif
