/*
 * task_steps: the `steps` of getTaskInfo and cancelTask, from a task's
 * frozen plan, its state and its error (docs/api.md, getTaskInfo).
 *
 * The store keeps one state and one error per task, not per step, so a
 * step's state is derived: it is the task's, except in a failed task, where
 * the step whose kind starts the error ("probe: ...", "transcode: ...")
 * failed with that error, the steps before it succeeded and those after it
 * never ran (canceled).  An error that names no step ("publish: ...",
 * "source: ...") leaves every step failed with a null error.  The first
 * step of a kind takes the blame: a plan runs its transcodes in one ffmpeg
 * run, so the error cannot say which rendition broke it.
 *
 * Pure: no store, no I/O; the unit test pins the rule.
 */
#ifndef VODUP_API_TASK_STEPS_H
#define VODUP_API_TASK_STEPS_H

#include <stddef.h>

#include <jansson.h>

#include "process/plan_spec.h"

/* The index of the step that a failed task's error names by its prefix
 * (a step kind, then ':'), or -1 when error is NULL or names none. */
long task_steps_failed(const plan_spec_t *plan, const char *error);

/* The state name of step i of a task in task_state (enum store_task_state)
 * whose failed step is `failed` (task_steps_failed). */
const char *task_steps_state(int task_state, long failed, size_t i);

/* [{"kind","name","state","error"}, ...] for the stored plan text; an empty
 * array for a plan this vodup cannot read (or NULL).  A new reference; NULL
 * only when out of memory. */
json_t *task_steps_json(const char *plan_json, int task_state, const char *error);

#endif
