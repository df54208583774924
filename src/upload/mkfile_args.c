/* mkfile_args: mkfile's path and body syntax; see mkfile_args.h. */
#include "upload/mkfile_args.h"

#include <stdlib.h>
#include <string.h>

#include "upload/upload_internal.h"

static bool mkfile_args_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool mkfile_args_parse_path(const char *args, int64_t *file_size, mkfile_pair_fn pair, void *arg)
{
    size_t size_len = strcspn(args, "/");
    if (!upload_parse_uint(args, size_len, file_size))
        return false;
    const char *p = args + size_len;
    while (*p == '/') {
        p++;
        const char *name_end = strchr(p, '/');
        if (!name_end)
            return *p == '\0';
        const char *value = name_end + 1;
        size_t value_len = strcspn(value, "/");
        char *decoded = upload_b64_text(value, value_len);
        bool ok = decoded && pair(arg, p, (size_t)(name_end - p), decoded);
        free(decoded);
        if (!ok)
            return false;
        p = value + value_len;
    }
    return *p == '\0';
}

long mkfile_args_split_ctx_list(const char *body, size_t len, mkfile_ctx_fn item, void *arg)
{
    const char *p = body, *end = body + len;
    size_t count = 0;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *a = p, *b = comma ? comma : end;
        while (a < b && mkfile_args_space(*a))
            a++;
        while (b > a && mkfile_args_space(b[-1]))
            b--;
        if (a == b)
            return count == 0 && !comma ? 0 : -1;
        if (!item(arg, a, (size_t)(b - a), count))
            return -1;
        count++;
        if (!comma)
            return (long)count;
        p = comma + 1;
    }
}
