/*
 * buf: a growable byte buffer with an optional hard cap.
 *
 * Owns its storage; buf_free() releases it.  Appends past `cap` (when cap is
 * non-zero) fail instead of growing, which is how request bodies stay bounded.
 * The data is always NUL-terminated (the terminator is not counted in len),
 * so text can be handed to C string functions, but it may also hold NULs.
 */
#ifndef VODUP_BUF_H
#define VODUP_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct buf {
    char *data;
    size_t len;
    size_t alloc;
    size_t cap; /* 0 = unbounded */
} buf_t;

void buf_init(buf_t *b, size_t cap);
void buf_free(buf_t *b);
void buf_reset(buf_t *b);
/* Makes room for `extra` more bytes plus the NUL without changing len.
 * Returns false when out of memory or past the cap; the buffer is unchanged. */
bool buf_grow(buf_t *b, size_t extra);
/* Returns false when out of memory or past the cap; the buffer is unchanged. */
bool buf_append(buf_t *b, const void *data, size_t len);
bool buf_append_str(buf_t *b, const char *s);
bool buf_printf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool buf_vprintf(buf_t *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hands the storage to the caller (free() it); the buffer becomes empty. */
char *buf_steal(buf_t *b);

#endif
