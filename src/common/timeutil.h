/*
 * timeutil: clocks and the one timestamp format vodup prints
 * (ISO 8601 UTC with milliseconds, e.g. 2026-11-24T18:42:21.123Z).
 */
#ifndef VODUP_TIMEUTIL_H
#define VODUP_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TIMEUTIL_ISO_LEN 40

/* Wall clock, Unix milliseconds. */
int64_t timeutil_now_ms(void);
/* Monotonic clock, nanoseconds (for durations and rate limits). */
int64_t timeutil_monotonic_ns(void);
/* The monotonic time `ms` from now, for pthread_cond_timedwait on a
 * condition whose clock is CLOCK_MONOTONIC (a wall-clock step must not
 * stretch or cut a wait). */
struct timespec timeutil_monotonic_deadline(int64_t ms);
/* Formats Unix milliseconds; out must hold TIMEUTIL_ISO_LEN bytes. */
void timeutil_iso8601(int64_t ms, char out[TIMEUTIL_ISO_LEN]);

#endif
