/*
 * client_wait: `vodup upload --wait`, waiting for the server to process a
 * video it has just received (docs/cli.md, docs/processing.md).
 *
 * getVideoInfo is polled, CLIENT_WAIT_FAST_MS apart during the first
 * CLIENT_WAIT_FAST_FOR_MS (a short clip is ready within seconds), then
 * CLIENT_WAIT_SLOW_MS apart, until the status is `ready` or `failed`, the
 * deadline passes, or a signal sets the stop flag.  Each poll is one
 * client_api_post, so a transient failure (the network, a 5xx, a 429) is
 * retried with its backoff and only one that outlives those retries ends
 * the wait; the server restarting mid-wait is therefore survived.
 *
 * While it waits, stderr shows the status and `progress`: a bar redrawn in
 * place when stderr is a terminal (client_progress.h), else one line per
 * change, "processing 42%".  Nothing goes to stdout: the caller prints the
 * outcome.
 *
 * Waiting only makes sense for a video the server will process.  A video
 * still `uploaded` or `processing` without a `taskId` (a server older than
 * processing, or one that queued no task) ends the wait at once with a
 * reason, rather than polling until the deadline.
 *
 * client_wait_decide, client_wait_line and client_wait_interval_ms are pure.
 */
#ifndef VODUP_CLIENT_WAIT_H
#define VODUP_CLIENT_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "client/client_api.h"

#define CLIENT_WAIT_FAST_MS 500
#define CLIENT_WAIT_FAST_FOR_MS 10000
#define CLIENT_WAIT_SLOW_MS 1000
#define CLIENT_WAIT_TIMEOUT_MAX_S 604800 /* the largest --wait-timeout: a week */
#define CLIENT_WAIT_STATUS_MAX 32

enum client_wait_verdict {
    CLIENT_WAIT_PENDING = 0, /* uploaded or processing (or another upload over it under way): poll again */
    CLIENT_WAIT_READY,       /* status ready */
    CLIENT_WAIT_FAILED,      /* status failed: failReason says why */
    CLIENT_WAIT_INVALID,     /* no status, an unknown one, or nothing that will ever process the video */
};

/* What one answer said, for the display. */
typedef struct client_wait_state {
    char status[CLIENT_WAIT_STATUS_MAX]; /* control characters shown as '?'; "" when none */
    int progress;                        /* 0..100; -1 when the server gave none */
} client_wait_state_t;

/*
 * Reads `video` (getVideoInfo's `data`) into *st and says what to do next.
 * For CLIENT_WAIT_INVALID, `why` receives the reason (one line).
 */
enum client_wait_verdict client_wait_decide(const json_t *video, client_wait_state_t *st, char *why, size_t whylen);

/* True when b differs from a in status or progress (a line is due). */
bool client_wait_changed(const client_wait_state_t *a, const client_wait_state_t *b);

/* "processing 42%", or the status alone when the progress is unknown or
 * the status is failed. */
void client_wait_line(const client_wait_state_t *st, char *out, size_t outlen);

/* The pause before the next poll, `elapsed_ms` into the wait. */
int64_t client_wait_interval_ms(int64_t elapsed_ms);

typedef struct client_wait_opts {
    const char *video_id;
    int64_t timeout_ms; /* 0: no deadline */
    bool bar;           /* stderr is a terminal: redraw a bar, else print lines */
} client_wait_opts_t;

typedef struct client_wait_result {
    json_t *video;      /* the last getVideoInfo data seen, NULL when none (caller json_decref's it) */
    double seconds;     /* how long the wait lasted */
    char error[1024];   /* one line, when the result is not CLIENT_EXIT_OK */
} client_wait_result_t;

/*
 * Waits for o->video_id with `api` (whose stop flag interrupts it).
 * Returns CLIENT_EXIT_OK when ready, CLIENT_EXIT_PROCESSING when failed
 * (error: "video ID failed: REASON"), CLIENT_EXIT_TIMEOUT,
 * CLIENT_EXIT_INTERRUPTED, or the exit code of a getVideoInfo that failed
 * after its retries (CLIENT_EXIT_FAILURE, CLIENT_EXIT_AUTH).
 */
int client_wait_video(client_api_t *api, const client_wait_opts_t *o, client_wait_result_t *res);

#endif
