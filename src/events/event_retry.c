/*
 * event_retry.c: the webhook back-off schedule; see event_retry.h.
 */
#include "events/event_retry.h"

#include <math.h>

int64_t event_retry_nominal_ms(unsigned attempt)
{
    if (attempt == 0 || attempt > EVENT_RETRY_MAX_ATTEMPTS)
        return -1;
    if (attempt == 1)
        return 0;
    int64_t wait = EVENT_RETRY_FIRST_WAIT_MS;
    /* Stops doubling at the cap, so no attempt number can overflow. */
    for (unsigned n = 2; n < attempt && wait < EVENT_RETRY_MAX_WAIT_MS; n++)
        wait *= 2;
    return wait < EVENT_RETRY_MAX_WAIT_MS ? wait : EVENT_RETRY_MAX_WAIT_MS;
}

static double event_retry_clamp01(double r)
{
    if (isnan(r) || r < 0.0)
        return 0.0;
    return r > 1.0 ? 1.0 : r;
}

int64_t event_retry_delay_ms(unsigned attempt, double random01)
{
    int64_t nominal = event_retry_nominal_ms(attempt);
    if (nominal <= 0)
        return nominal;
    /* The cut is rounded down, so a wait never drops below 80% of nominal:
     * the 24 h guarantee in the header rests on that floor. */
    double cut = (double)nominal * EVENT_RETRY_JITTER_PERMILLE / 1000.0 * event_retry_clamp01(random01);
    return nominal - (int64_t)cut;
}

bool event_retry_exhausted(unsigned attempts_made)
{
    return attempts_made >= EVENT_RETRY_MAX_ATTEMPTS;
}
