/* log: see log.h. */
#include <stddef.h>

#include "common/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
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
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof(line), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s ", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
                     names[level < 0 || level > LOG_ERROR ? LOG_ERROR : level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len >= sizeof(line))
        len = sizeof(line) - 1;
    log_line(line, len);
}
