/* log: see log.h. */
#include <stddef.h>

#include "common/log.h"
#include "common/timeutil.h"

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

void log_msg(int level, const char *fmt, ...)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    if (level < log_min_level)
        return;
    char line[2048];
    char ts[TIMEUTIL_ISO_LEN];
    timeutil_iso8601(timeutil_now_ms(), ts);
    int n = snprintf(line, sizeof(line), "%s %s ", ts, names[level < 0 || level > LOG_ERROR ? LOG_ERROR : level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len >= sizeof(line))
        len = sizeof(line) - 1;
    log_line(line, len);
}
