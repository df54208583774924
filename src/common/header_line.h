/*
 * header_line: the value of one raw HTTP header line, as libcurl hands each
 * line to a header callback ("Name: value\r\n", not NUL-terminated).  Used by
 * the client and by the integration test harness, which read the same
 * response headers.
 */
#ifndef VODUP_HEADER_LINE_H
#define VODUP_HEADER_LINE_H

#include <stdbool.h>
#include <stddef.h>

/* When `line` (len bytes) is header `name` (matched case-insensitively),
 * copies its value, trimmed of surrounding blanks and the line end, into
 * `out` (truncated to outlen - 1 bytes, always NUL-terminated) and returns
 * true; otherwise leaves `out` alone and returns false.  outlen must be > 0. */
bool header_line_value(const char *line, size_t len, const char *name, char *out, size_t outlen);

#endif
