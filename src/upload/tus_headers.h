/*
 * tus_headers: the parsers of tus 1.0's request headers (Upload-Length,
 * Upload-Offset, Upload-Metadata, Upload-Checksum, Upload-Concat) and the
 * HTTP date of Upload-Expires.  Pure functions over the header text, for
 * upload/tus.c; each has a fuzz target (fuzz/fuzz_tus_headers.c).
 */
#ifndef VODUP_TUS_HEADERS_H
#define VODUP_TUS_HEADERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define TUS_METADATA_MAX 4096 /* bytes of an Upload-Metadata header */
#define TUS_CONCAT_MAX_PARTS 256
#define TUS_DIGEST_MAX 20     /* the longest digest of a checksum algorithm (SHA-1) */

/* A non-negative decimal of 1..18 digits, nothing else. */
bool tus_parse_size(const char *s, int64_t *out);

/* Whether `s` is a well-formed Upload-Metadata value: comma-separated
 * pairs "key base64value" or "key" alone, keys non-empty, printable ASCII
 * without spaces or commas, unique; values standard base64 (padding
 * required where the length needs it); at most TUS_METADATA_MAX bytes. */
bool tus_metadata_valid(const char *s);
/* The decoded value of `key` in a valid Upload-Metadata value, appended to
 * out (empty for a key without value).  false when the key is absent. */
bool tus_metadata_get(const char *s, const char *key, buf_t *out);

enum tus_checksum_alg { TUS_CK_NONE = 0, TUS_CK_SHA1, TUS_CK_MD5, TUS_CK_CRC32 };
enum tus_checksum_rc { TUS_CK_OK = 0, TUS_CK_MALFORMED, TUS_CK_UNKNOWN };

typedef struct tus_checksum {
    int alg; /* enum tus_checksum_alg */
    uint8_t digest[TUS_DIGEST_MAX];
    size_t digest_len; /* 20, 16 or 4 */
} tus_checksum_t;

/* Parses "<algorithm> <base64 digest>"; the digest must have the
 * algorithm's length (crc32: 4 bytes, big-endian).  enum tus_checksum_rc. */
int tus_checksum_parse(const char *s, tus_checksum_t *out);

enum tus_concat_kind { TUS_CONCAT_NONE = 0, TUS_CONCAT_PARTIAL, TUS_CONCAT_FINAL };

typedef struct tus_concat {
    int kind;        /* enum tus_concat_kind */
    size_t count;    /* final: the parts */
    char **ids;      /* final: each part's upload id (the last path segment of its URL) */
} tus_concat_t;

/* Parses "partial" or "final;<url> <url> ..." (URLs absolute or paths,
 * each ending in /files/<id>; 1..TUS_CONCAT_MAX_PARTS of them).  false when
 * malformed (out is then empty). */
bool tus_concat_parse(const char *s, tus_concat_t *out);
void tus_concat_free(tus_concat_t *c);

/* An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") for a Unix time in ms. */
void tus_http_date(int64_t ms, char out[40]);

#endif
