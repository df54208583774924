/* timeutil: see timeutil.h. */
#include "common/timeutil.h"

#include <stdio.h>
#include <time.h>

int64_t timeutil_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t timeutil_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

struct timespec timeutil_monotonic_deadline(int64_t ms)
{
    int64_t ns = timeutil_monotonic_ns() + ms * 1000000;
    return (struct timespec){.tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000)};
}

void timeutil_iso8601(int64_t ms, char out[TIMEUTIL_ISO_LEN])
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    /* Fields are bounded by struct tm's ranges; the year fits in 4-5 digits. */
    snprintf(out, TIMEUTIL_ISO_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year % 100000 + 1900,
             (tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100, tm.tm_sec % 100,
             (int)(ms % 1000));
}
