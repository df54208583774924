/*
 * task_steps: a task's steps as the API shows them (task_steps.h has the
 * rule and why it is derived).
 */
#include <stdlib.h>
#include <string.h>

#include "api/task_steps.h"
#include "store/store.h"

long task_steps_failed(const plan_spec_t *plan, const char *error)
{
    for (size_t i = 0; error && i < plan->step_count; i++) {
        const char *kind = spec_step_kind_name(plan->steps[i].kind);
        size_t n = kind ? strlen(kind) : 0;
        if (n > 0 && !strncmp(error, kind, n) && error[n] == ':')
            return (long)i;
    }
    return -1;
}

const char *task_steps_state(int task_state, long failed, size_t i)
{
    if (task_state != STORE_TASK_FAILED || failed < 0)
        return store_task_state_name(task_state);
    if ((long)i < failed)
        return store_task_state_name(STORE_TASK_SUCCEEDED);
    return store_task_state_name((long)i == failed ? STORE_TASK_FAILED : STORE_TASK_CANCELED);
}

static json_t *task_steps_step(const plan_step_t *s, const char *state, const char *error)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "kind", json_string(spec_step_kind_name(s->kind)));
    json_object_set_new(o, "name", s->name[0] ? json_string(s->name) : json_null());
    json_object_set_new(o, "state", json_string(state));
    json_object_set_new(o, "error", error ? json_string(error) : json_null());
    return o;
}

json_t *task_steps_json(const char *plan_json, int task_state, const char *error)
{
    json_t *steps = json_array();
    /* A plan holds every step's spec: too large for a reader thread's stack. */
    plan_spec_t *plan = calloc(1, sizeof(*plan));
    char err[PLAN_ERROR_MAX];
    if (!steps || !plan || !plan_json || !plan_spec_parse(plan_json, plan, err, sizeof(err)))
        goto out; /* a plan this vodup cannot read: no steps to show */
    long failed = task_state == STORE_TASK_FAILED ? task_steps_failed(plan, error) : -1;
    for (size_t i = 0; i < plan->step_count; i++) {
        const char *step_error = (long)i == failed ? error : NULL;
        json_array_append_new(steps, task_steps_step(&plan->steps[i], task_steps_state(task_state, failed, i),
                                                     step_error));
    }
out:
    free(plan);
    return steps;
}
