/* return_body: returnBody template expansion; see return_body.h. */
#include "upload/return_body.h"

#include <inttypes.h>
#include <string.h>

static bool return_body_var(const char *name, size_t len, const return_vars_t *v, buf_t *out)
{
#define RETURN_IS(lit) (len == sizeof(lit) - 1 && memcmp(name, lit, len) == 0)
    const char *s = NULL;
    if (RETURN_IS("bucket"))
        s = v->bucket;
    else if (RETURN_IS("key"))
        s = v->key;
    else if (RETURN_IS("fname"))
        s = v->fname;
    else if (RETURN_IS("hash") || RETURN_IS("etag"))
        s = v->hash;
    else if (RETURN_IS("mimeType"))
        s = v->mime_type;
    else if (RETURN_IS("fsize"))
        return buf_printf(out, "%" PRId64, v->fsize);
    else
        for (size_t i = 0; i < v->x_count; i++)
            if (strlen(v->x_names[i]) == len && memcmp(v->x_names[i], name, len) == 0)
                s = v->x_values[i];
#undef RETURN_IS
    return s ? buf_append_str(out, s) : true;
}

bool return_body_expand(const char *tmpl, const return_vars_t *vars, buf_t *out)
{
    const char *p = tmpl;
    while (*p) {
        const char *open = strstr(p, "$(");
        if (!open)
            return buf_append_str(out, p);
        const char *close = strchr(open + 2, ')');
        if (!close)
            return buf_append_str(out, p);
        if (!buf_append(out, p, (size_t)(open - p)) ||
            !return_body_var(open + 2, (size_t)(close - open - 2), vars, out))
            return false;
        p = close + 1;
    }
    return true;
}
