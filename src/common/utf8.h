/*
 * utf8: checks that text a person will read (a file name shown in a list)
 * is well-formed UTF-8 and holds nothing that changes how it displays.
 *
 * A bidi override turns "abc\u202Egpj.mp4" into what reads as
 * "abcmp4.jpg"; zero-width characters make two names that look the same
 * differ; line separators and C1 controls break one-line displays and
 * logs.  So the Unicode general categories Cc (C0, DEL, C1), Cf (format:
 * bidi embeddings, overrides, isolates and marks, zero-width characters,
 * the BOM, tags, ...), Zl (U+2028) and Zp (U+2029) are refused, per
 * Unicode 15.1; the table is in utf8.c.
 *
 * Pure; no allocation.
 */
#ifndef VODUP_COMMON_UTF8_H
#define VODUP_COMMON_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum utf8_verdict {
    UTF8_TEXT_OK = 0,
    UTF8_TEXT_INVALID, /* not UTF-8: a stray or missing continuation byte, an
                        * overlong form, a surrogate, above U+10FFFF */
    UTF8_TEXT_CONTROL, /* valid, but holds a Cc, Cf, Zl or Zp code point */
} utf8_verdict_t;

/* Decodes the sequence at s[i] (i < len) into *cp; returns its length in
 * bytes, 0 when it is not valid UTF-8. */
size_t utf8_decode(const char *s, size_t len, size_t i, uint32_t *cp);

/* True for a code point of category Cc, Cf, Zl or Zp. */
bool utf8_is_control(uint32_t cp);

/* The verdict on s[0..len): INVALID when any sequence is invalid, else
 * CONTROL when any code point is a control, else OK. */
utf8_verdict_t utf8_check_text(const char *s, size_t len);

#endif
