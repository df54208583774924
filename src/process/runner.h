/*
 * runner: runs one media program (ffmpeg) as a child process for a task.
 *
 * Never through a shell: argv goes to execv as built by the planner.  The
 * child is its own process group (a cancel or a time-out kills ffmpeg and
 * anything it started), dies with its parent (PR_SET_PDEATHSIG: no ffmpeg
 * outlives a killed server), runs at a lower priority than the HTTP threads,
 * with resource limits (address space, file size, CPU time, no core
 * files), stdin from /dev/null, and no descriptor of the server but its two
 * pipes: stdout carries `-progress pipe:1`, stderr is kept as a short tail
 * for the failure reason.
 *
 * runner_run blocks its (worker) thread until the child is gone; the
 * progress callback, run on that thread, can cancel by returning false, and
 * another thread by setting limits->cancel (the process group gets SIGKILL
 * at once, so a cancel takes effect within one poll interval,
 * RUNNER_POLL_MS, even while the child writes nothing).
 */
#ifndef VODUP_PROCESS_RUNNER_H
#define VODUP_PROCESS_RUNNER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define RUNNER_POLL_MS 100
#define RUNNER_STDERR_TAIL 1024

typedef struct runner_limits {
    int64_t timeout_ms;    /* wall clock; 0: none */
    int64_t address_space; /* RLIMIT_AS, bytes; 0: none */
    int64_t file_size;     /* RLIMIT_FSIZE, bytes; 0: none */
    int64_t cpu_seconds;   /* RLIMIT_CPU; 0: none */
    int nice;              /* added to the child's niceness */
    /* Set by another thread (a heartbeat that learns of a cancel) to stop
     * the run: it is killed within RUNNER_POLL_MS.  NULL: none. */
    const atomic_bool *cancel;
} runner_limits_t;

enum runner_outcome {
    RUNNER_EXITED = 0,   /* exit_code says how */
    RUNNER_SIGNALED,     /* killed by `signal` (a crash, a resource limit) */
    RUNNER_TIMED_OUT,    /* past timeout_ms: killed */
    RUNNER_CANCELED,     /* the callback asked: killed */
    RUNNER_START_FAILED, /* fork, pipe or exec failed (stderr_tail says which) */
};

typedef struct runner_result {
    int outcome;
    int exit_code;
    int signal;
    char stderr_tail[RUNNER_STDERR_TAIL]; /* the last bytes of stderr, NUL-terminated */
} runner_result_t;

/* Called for each -progress block; false cancels the run. */
typedef bool (*runner_progress_fn)(void *arg, int64_t out_time_us, bool end);

/* True when the run ended with exit status 0. */
bool runner_succeeded(const runner_result_t *r);

/* Runs argv[0] (a path) with argv; fills *out.  Returns runner_succeeded(out). */
bool runner_run(const char *const argv[], const runner_limits_t *limits, runner_progress_fn fn, void *arg,
                runner_result_t *out);

/* The same for a program whose stdout is its answer (ffprobe's JSON): the
 * first `max` bytes of stdout are appended to `text`; more is a failure
 * (RUNNER_EXITED with exit_code -1 and a reason in stderr_tail). */
bool runner_capture(const char *const argv[], const runner_limits_t *limits, buf_t *text, size_t max,
                    runner_result_t *out);

#endif
