/*
 * event_retry: when a webhook delivery is tried again, and when it is given
 * up.  Pure: the caller passes the random number, so the schedule is
 * testable and the dispatcher chooses its own source of randomness.
 *
 * Attempt 1 goes out at once.  The wait before attempt n >= 2 is
 * 10 s * 2^(n-2), capped at 1 h, then shortened by jitter: multiplied by
 * (1 - 0.2 * r) for the caller's r in [0, 1], so every wait lies in
 * [80%, 100%] of its nominal value and never exceeds 1 h.  Jitter only
 * shortens, so the nominal schedule is the longest one.  Its purpose: events
 * that failed together (a receiver that was down) must not all come back in
 * the same second, every hour, for a day.
 *
 *     attempt   1    2    3    4    5     6     7      8      9      10     11..39
 *     wait      0   10s  20s  40s  80s  160s  320s   640s  1280s  2560s   3600s each
 *
 * The nominal waits before attempts 2..10 add up to 5110 s; attempts 11..39
 * add 29 * 3600 s.  An event is given up after attempt EVENT_RETRY_MAX_ATTEMPTS
 * (39) fails, which is, counted from the first attempt:
 *
 *     nominal (r = 0 every time)     109510 s = 30 h 25 min 10 s
 *     shortest (r = 1 every time)     87608 s = 24 h 20 min 8 s
 *
 * so a receiver that is down for up to 24 h still gets the event whatever
 * the jitter drew.  39 is the smallest count with that guarantee (38 would
 * give 84728 s at worst); tests/unit/test_event_retry.c checks both.
 * Times spent in the attempts themselves (up to their timeout) come on top.
 */
#ifndef VODUP_EVENT_RETRY_H
#define VODUP_EVENT_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#define EVENT_RETRY_FIRST_WAIT_MS 10000LL       /* before attempt 2 */
#define EVENT_RETRY_MAX_WAIT_MS 3600000LL       /* no single wait is longer */
#define EVENT_RETRY_JITTER_PERMILLE 200         /* a wait is cut by up to 20% */
#define EVENT_RETRY_MAX_ATTEMPTS 39u            /* the first attempt included */
#define EVENT_RETRY_SPAN_NOMINAL_MS 109510000LL /* first attempt to the last, r = 0 */
#define EVENT_RETRY_SPAN_MIN_MS 87608000LL      /* first attempt to the last, r = 1 */
#define EVENT_RETRY_GUARANTEE_MS 86400000LL     /* 24 h: what SPAN_MIN must reach */

/* The wait before attempt `attempt` (1-based) without jitter: 0 for attempt
 * 1, -1 for attempt 0 or one past EVENT_RETRY_MAX_ATTEMPTS (there is none). */
int64_t event_retry_nominal_ms(unsigned attempt);

/*
 * The wait before attempt `attempt`, jitter applied with random01 (in
 * [0, 1]; values outside, and NaN, are clamped into it, NaN to 0).  0 for
 * attempt 1; -1 when there is no such attempt: the event is given up.
 */
int64_t event_retry_delay_ms(unsigned attempt, double random01);

/* True when an event that has failed `attempts_made` attempts must be given
 * up (no attempt is left). */
bool event_retry_exhausted(unsigned attempts_made);

#endif
