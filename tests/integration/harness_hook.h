/*
 * harness_hook: a real HTTP receiver for tests (tests/tools/hookrecv),
 * started by a test and stopped by PID, whose log of requests the test
 * reads back (one parsed JSON object per request; hookrecv.c documents
 * its members and options).
 */
#ifndef VODUP_HARNESS_HOOK_H
#define VODUP_HARNESS_HOOK_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "harness.h"

typedef struct harness_hook {
    pid_t pid;
    int port;
    char log[400];
} harness_hook_t;

/* Starts the hookrecv at `tool` (a test's VODUP_TOOL_HOOKRECV) with
 * `args` (NULL-terminated, may be NULL), logging to <root>/<name>.log;
 * first stops the one h still holds (a failed test's).  h starts zeroed. */
void harness_hook_start(harness_hook_t *h, const harness_server_t *s, const char *tool, const char *name,
                        const char *const *args);
/* SIGTERM by PID, then waits for it. */
void harness_hook_stop(harness_hook_t *h);
/* The requests logged so far (the caller decrefs). */
json_t *harness_hook_requests(const harness_hook_t *h);
/* Waits (up to timeout_ms) until n requests are logged; returns them, or
 * fails the test. */
json_t *harness_hook_wait(const harness_hook_t *h, size_t n, int timeout_ms);

#endif
