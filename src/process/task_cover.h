/*
 * task_cover: a task's cover run, started beside its probe.
 *
 * The cover's command line needs nothing of the probe but the time of the
 * frame (plan.h), and that is PLAN_COVER_AT_S for every source of 2 s or
 * more.  So a worker starts that run on a thread of its own as soon as the
 * source is in its work directory, and the probe runs meanwhile: the probe
 * (an ffprobe start-up and a read of the header, ~0.2 s) hides under the
 * cover (~0.5 s for a 720p source) instead of adding to the task's time,
 * and the first ffmpeg starts as soon as the task is claimed.
 *
 * The run has the hardening of every run (plan.h: the file protocol, the
 * format whitelist, -max_pixels on the source), so starting it before the
 * probe has looked at the file exposes nothing more; what the probe refuses
 * still fails the task with the probe's reason, and the run is then killed.
 *
 * After the probe the worker settles it: when the plan's cover is this one
 * (the source has video and lasts 2 s or more) the run's result is the
 * cover's and the plan's own cover run is skipped; otherwise the run is
 * killed if still running, whatever it wrote is removed, and the plan's
 * cover run (at the middle of a short source) runs in its turn.
 */
#ifndef VODUP_PROCESS_TASK_COVER_H
#define VODUP_PROCESS_TASK_COVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "process/plan.h"
#include "process/runner.h"
#include "process/workdir.h"

typedef struct task_cover {
    plan_run_t run;
    runner_limits_t limits; /* .cancel is &cancel */
    atomic_bool cancel;
    atomic_bool done;       /* the run has ended: the thread is about to return */
    runner_result_t result;
    bool succeeded;
    bool started;
    pthread_t thread;
    char path[WORKDIR_PATH_MAX]; /* what it writes: <out>/<cover key> */
} task_cover_t;

/* Starts the cover run at PLAN_COVER_AT_S of in's source into work's out
 * directory (creating the cover key's directory), with limits (its cancel
 * flag is replaced by the cover's own).  False when it could not start: the
 * plan's cover run then runs in its turn. */
bool task_cover_start(task_cover_t *c, const plan_input_t *in, const workdir_t *work, const runner_limits_t *limits);

/* Waits for the run to end, killing it first when `keep` is false, or as
 * soon as *abort is raised (the task's cancel: it must stop ffmpeg within
 * RUNNER_POLL_MS like any run), and then removes what it wrote unless the
 * run is kept and succeeded.  Returns whether it succeeded (exit status 0;
 * c->result says how it ended).  Safe to call again, and on a cover never
 * started (false). */
bool task_cover_finish(task_cover_t *c, bool keep, const atomic_bool *abort);

#endif
