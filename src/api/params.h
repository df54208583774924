/*
 * params: the parameters of one API call, gathered from the query string
 * and the body (application/x-www-form-urlencoded or application/json).
 *
 * Owns copies of every name and value.  Names are case-sensitive, as in
 * the vendor's API.  A name given twice (twice in one source, or in both the
 * query and the body) is an error the caller reports as 400, so that no
 * layer has to guess which copy wins.
 */
#ifndef VODUP_API_PARAMS_H
#define VODUP_API_PARAMS_H

#include <stdbool.h>
#include <stddef.h>

#include "auth/ws3.h"

typedef struct param {
    char *name;
    size_t name_len;
    char *value; /* NUL-terminated; may contain NULs before value_len */
    size_t value_len;
} param_t;

typedef struct params {
    param_t *items;
    size_t count, alloc;
    char duplicate[64]; /* first name seen twice, "" when none */
} params_t;

void params_init(params_t *p);
void params_free(params_t *p);

/* Adds one pair (copies); records a duplicate name.  False on OOM. */
bool params_add(params_t *p, const char *name, size_t name_len, const char *value, size_t value_len);

/* Adds decoded query pairs (a NULL value counts as ""). */
bool params_add_pairs(params_t *p, const ws3_pair_t *pairs, size_t count);

/* Parses "a=1&b=2" ('+' is a space, %XX decoded; empty segments skipped). */
bool params_parse_form(params_t *p, const char *body, size_t len);

/*
 * Parses a JSON object whose values are strings or numbers (null counts as
 * absent).  Arrays and objects are accepted only for the names listed in
 * `structured` (NULL-terminated), and are kept as their compact JSON text.
 * On error returns false and writes a message naming the problem to err.
 */
bool params_parse_json(params_t *p, const char *body, size_t len, const char *const *structured,
                       char *err, size_t errlen);

/* The value of `name`, or NULL when absent. */
const param_t *params_get(const params_t *p, const char *name);

#endif
