/*
 * return_body: expands a put policy's returnBody template
 * ("k=$(var)&...", upload-protocol.md section 1) with the values of a
 * finished upload.  Pure; unknown variables expand to nothing, and text
 * outside $(...) is copied as is.
 *
 * The template is the account owner's; the values are not: the uploader
 * picks the x:name variables, the file name and the mimeType.  Each value
 * is therefore encoded for where it lands (the spec's rule), so that
 * "x:foo=1&hash=FAKE" can never add or change a field: percent-encoded in
 * the query text of the form answer and returnUrl, and split off by the
 * template's own '&' and '=' before expansion for mkfile's JSON members.
 */
#ifndef VODUP_RETURN_BODY_H
#define VODUP_RETURN_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/buf.h"

typedef struct return_vars {
    const char *bucket, *key, *fname, *hash, *mime_type;
    const char *persistent_id; /* $(persistentId): the queued job's, "" or NULL when none */
    int64_t fsize;
    const char *const *x_names; /* "x:name" custom variables, names with the "x:" prefix */
    const char *const *x_values;
    size_t x_count;
} return_vars_t;

/* Appends the expansion of tmpl to out as query text: every variable's
 * value percent-encoded per RFC 3986 (encoding_percent_encode), so that it
 * holds no '&', '=', '#' or space; a client's query parser gets the value
 * back as it was. */
bool return_body_expand(const char *tmpl, const return_vars_t *vars, buf_t *out);

/* Sets one string member of obj per "name=value" pair of tmpl (mkfile's
 * JSON answer).  The template is cut at its own '&' and first '=' (outside
 * $(...)) before expansion, so a value lands whole in its member, as the
 * uploader gave it, and can never start another; pairs without '=' or with
 * an empty name are skipped, and so are "hash", "key" and "persistentId",
 * the answer's own members.  False when out of memory. */
bool return_body_members(const char *tmpl, const return_vars_t *vars, json_t *obj);

#endif
