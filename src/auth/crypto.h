/*
 * crypto: the hash and MAC primitives the auth code needs, over OpenSSL 3.
 *
 * OpenSSL 3 looks an algorithm up by name (with locks) on every implicit
 * use, which costs more than hashing a small request; these functions fetch
 * each algorithm once per process and reuse it.  The fetched handles are
 * immutable after that first use (pthread_once), so they are shared by all
 * threads without further locking.
 */
#ifndef VODUP_CRYPTO_H
#define VODUP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum crypto_digest { CRYPTO_SHA1 = 0, CRYPTO_SHA256 };

/* out receives 32 bytes. */
bool crypto_sha256(const void *data, size_t len, uint8_t out[32]);

/* HMAC with the given digest; out must hold 32 bytes (SHA-256) or 20 (SHA-1).
 * *out_len receives the MAC length. */
bool crypto_hmac(int digest, const void *key, size_t key_len, const void *data, size_t len, uint8_t *out,
                 size_t *out_len);

#endif
