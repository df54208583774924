/* progress: ffmpeg's -progress output, line by line; see progress.h. */
#include "process/progress.h"

#include <stdlib.h>
#include <string.h>

void progress_init(progress_parser_t *p, progress_fn fn, void *arg)
{
    memset(p, 0, sizeof(*p));
    p->out_time_us = -1;
    p->fn = fn;
    p->arg = arg;
}

/* "123456" -> 123456; -1 for "N/A", a sign or anything else. */
static int64_t progress_micros(const char *v)
{
    if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 18)
        return -1;
    return strtoll(v, NULL, 10);
}

static void progress_line(progress_parser_t *p)
{
    p->line[p->len] = '\0';
    char *eq = strchr(p->line, '=');
    if (!eq)
        return;
    *eq = '\0';
    const char *key = p->line, *value = eq + 1;
    if (strcmp(key, "out_time_us") == 0 || strcmp(key, "out_time_ms") == 0) {
        /* ffmpeg 5.1 writes microseconds under both names. */
        p->out_time_us = progress_micros(value);
    } else if (strcmp(key, "progress") == 0) {
        if (p->fn)
            p->fn(p->arg, p->out_time_us, strcmp(value, "end") == 0);
    }
}

void progress_feed(progress_parser_t *p, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c == '\n') {
            if (!p->overlong)
                progress_line(p);
            p->len = 0;
            p->overlong = false;
        } else if (c != '\r' && !p->overlong) {
            if (p->len + 1 >= sizeof(p->line))
                p->overlong = true;
            else
                p->line[p->len++] = c;
        }
    }
}

int progress_percent(int64_t out_time_us, double duration_s)
{
    if (out_time_us <= 0 || !(duration_s > 0))
        return 0;
    double pct = (double)out_time_us / (duration_s * 1e6) * 100.0;
    return pct >= 100.0 ? 100 : (int)pct;
}
