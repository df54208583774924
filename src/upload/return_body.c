/* return_body: returnBody template expansion; see return_body.h. */
#include "upload/return_body.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/encoding.h"

#define RETURN_BODY_NUM 24 /* room for an int64_t in decimal */

/* The value of the variable name[0..len), NULL when unknown; fsize is
 * written into num. */
static const char *return_body_lookup(const char *name, size_t len, const return_vars_t *v,
                                      char num[RETURN_BODY_NUM])
{
#define RETURN_IS(lit) (len == sizeof(lit) - 1 && memcmp(name, lit, len) == 0)
    if (RETURN_IS("bucket"))
        return v->bucket;
    if (RETURN_IS("key"))
        return v->key;
    if (RETURN_IS("fname"))
        return v->fname;
    if (RETURN_IS("hash") || RETURN_IS("etag"))
        return v->hash;
    if (RETURN_IS("mimeType"))
        return v->mime_type;
    if (RETURN_IS("persistentId"))
        return v->persistent_id;
    if (RETURN_IS("fsize")) {
        snprintf(num, RETURN_BODY_NUM, "%" PRId64, v->fsize);
        return num;
    }
#undef RETURN_IS
    const char *s = NULL;
    for (size_t i = 0; i < v->x_count; i++)
        if (strlen(v->x_names[i]) == len && memcmp(v->x_names[i], name, len) == 0)
            s = v->x_values[i];
    return s;
}

/* Appends the expansion of tmpl to out, each value percent-encoded when
 * `encode` (query text) or as it is (a JSON string escapes it itself). */
static bool return_body_expand_as(const char *tmpl, const return_vars_t *vars, bool encode, buf_t *out)
{
    const char *p = tmpl;
    while (*p) {
        const char *open = strstr(p, "$(");
        const char *close = open ? strchr(open + 2, ')') : NULL;
        if (!close)
            return buf_append_str(out, p);
        char num[RETURN_BODY_NUM];
        const char *value = return_body_lookup(open + 2, (size_t)(close - open - 2), vars, num);
        if (!buf_append(out, p, (size_t)(open - p)))
            return false;
        if (value && !(encode ? encoding_percent_encode(value, strlen(value), out) : buf_append_str(out, value)))
            return false;
        p = close + 1;
    }
    return true;
}

bool return_body_expand(const char *tmpl, const return_vars_t *vars, buf_t *out)
{
    return return_body_expand_as(tmpl, vars, true, out);
}

/* The first c in s outside a $(...) group, or NULL: a group is one
 * variable whatever its name holds.  An unclosed "$(" is literal text, as
 * the expansion treats it. */
static char *return_body_find(char *s, char c)
{
    for (; *s; s++) {
        if (s[0] == '$' && s[1] == '(') {
            char *close = strchr(s + 2, ')');
            if (!close)
                return strchr(s, c);
            s = close;
        } else if (*s == c) {
            return s;
        }
    }
    return NULL;
}

/* One "name=value" piece of the template (cut at its '&'), as a member. */
static bool return_body_member(char *pair, const return_vars_t *vars, json_t *obj)
{
    char *eq = return_body_find(pair, '=');
    if (!eq || eq == pair)
        return true;
    *eq = '\0';
    buf_t name, value;
    buf_init(&name, 0);
    buf_init(&value, 0);
    bool ok = return_body_expand_as(pair, vars, false, &name) && return_body_expand_as(eq + 1, vars, false, &value);
    const char *n = name.data ? name.data : "";
    /* json_string refuses invalid UTF-8: such a member is left out. */
    if (ok && *n && strcmp(n, "hash") != 0 && strcmp(n, "key") != 0 && strcmp(n, "persistentId") != 0)
        json_object_set_new(obj, n, json_string(value.data ? value.data : ""));
    buf_free(&name);
    buf_free(&value);
    return ok;
}

bool return_body_members(const char *tmpl, const return_vars_t *vars, json_t *obj)
{
    char *copy = strdup(tmpl);
    if (!copy)
        return false;
    bool ok = true;
    for (char *pair = copy; ok && pair;) {
        char *amp = return_body_find(pair, '&');
        if (amp)
            *amp = '\0';
        ok = return_body_member(pair, vars, obj);
        pair = amp ? amp + 1 : NULL;
    }
    free(copy);
    return ok;
}
