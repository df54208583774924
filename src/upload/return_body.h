/*
 * return_body: expands a put policy's returnBody template
 * ("k=$(var)&...", upload-protocol.md section 1) with the values of a
 * finished upload.  Pure; unknown variables expand to nothing, and text
 * outside $(...) is copied as is.
 */
#ifndef VODUP_RETURN_BODY_H
#define VODUP_RETURN_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct return_vars {
    const char *bucket, *key, *fname, *hash, *mime_type;
    int64_t fsize;
    const char *const *x_names; /* "x:name" custom variables, names with the "x:" prefix */
    const char *const *x_values;
    size_t x_count;
} return_vars_t;

/* Appends the expansion of tmpl to out. */
bool return_body_expand(const char *tmpl, const return_vars_t *vars, buf_t *out);

#endif
