/* log: see log.h. */
#include <stddef.h>

#include "common/log.h"
#include "common/timeutil.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The minimum level is part of the loaded configuration: written once at
 * start-up before any thread exists, only read afterwards. */
static int log_min_level = LOG_INFO;

void log_set_level(int level)
{
    log_min_level = level;
}

void log_line(const char *line, size_t len)
{
    char stackbuf[4096];
    if (len + 1 <= sizeof(stackbuf)) {
        memcpy(stackbuf, line, len);
        stackbuf[len] = '\n';
        (void)!write(STDERR_FILENO, stackbuf, len + 1);
    } else {
        (void)!write(STDERR_FILENO, line, len);
        (void)!write(STDERR_FILENO, "\n", 1);
    }
}

/* Bytes that would break a terminal or the line: control characters
 * become '?'; UTF-8 passes (jansson checks it and escapes what JSON needs). */
static void log_clean(char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            s[i] = '?';
}

void log_msg(int level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < log_min_level)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    size_t len = m < 0 ? 0 : (size_t)m < sizeof(msg) ? (size_t)m : sizeof(msg) - 1;
    log_clean(msg, len);
    char ts[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(timeutil_now_ms(), ts);
    json_t *text = json_stringn(msg, len);
    if (!text) { /* not UTF-8 (a client's bytes): keep the ASCII */
        for (size_t i = 0; i < len; i++)
            msg[i] = (unsigned char)msg[i] >= 0x80 ? '?' : msg[i];
        text = json_stringn_nocheck(msg, len);
    }
    json_t *o = json_pack("{s:s,s:s,s:o}", "ts", ts, "level", names[level < 0 || level > LOG_ERROR ? LOG_ERROR : level],
                          "msg", text);
    char line[4096];
    size_t n = o ? json_dumpb(o, line, sizeof(line), JSON_COMPACT | JSON_PRESERVE_ORDER) : 0;
    json_decref(o);
    if (n > 0 && n <= sizeof(line))
        log_line(line, n);
}
