/* fops_plan: a fops as plan steps; see fops_plan.h. */
#include "process/fops_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool fops_plan_parse(const char *text, size_t len, const char *bucket, fops_t *out, char *err, size_t errlen)
{
    fops_error_t ferr;
    if (!fops_parse(text, len, out, &ferr)) {
        snprintf(err, errlen, "%s", ferr.message);
        return false;
    }
    for (size_t i = 0; i < out->task_count; i++)
        if (out->tasks[i].has_saveas && strcmp(out->tasks[i].bucket, bucket) != 0) {
            snprintf(err, errlen, "fops: task %zu: saveas names bucket \"%.64s\", not this account's", i + 1,
                     out->tasks[i].bucket);
            return false;
        }
    return true;
}

bool fops_plan_task_key(const fops_t *f, size_t i, buf_t *out)
{
    buf_reset(out);
    if (i >= f->task_count)
        return false;
    const fops_task_t *t = &f->tasks[i];
    if (t->has_saveas)
        return buf_append_str(out, t->key);
    const char *ext = t->kind == FOPS_SNAPSHOT                                 ? "jpg"
                      : t->transcode.container == SPEC_CONTAINER_HLS ? "m3u8"
                                                                       : "mp4";
    return buf_printf(out, "fops%zu.%s", i + 1, ext);
}

/* Fills step with task i's: its kind, name, spec and key. */
static bool fops_plan_step(const fops_t *f, size_t i, plan_step_t *step)
{
    const fops_task_t *t = &f->tasks[i];
    memset(step, 0, sizeof(*step));
    buf_t key;
    buf_init(&key, 0);
    bool ok = fops_plan_task_key(f, i, &key) && key.len < sizeof(step->key);
    if (ok)
        memcpy(step->key, key.data, key.len + 1);
    buf_free(&key);
    if (t->kind == FOPS_SNAPSHOT) {
        step->kind = SPEC_STEP_SNAPSHOT;
        step->at_ms = t->snapshot.offset_ms;
        step->width = t->snapshot.width;
        step->height = t->snapshot.height;
    } else {
        step->kind = SPEC_STEP_TRANSCODE;
        snprintf(step->name, sizeof(step->name), "fops%zu", i + 1);
        fops_transcode_template(&t->transcode, &step->u.template_spec);
        step->segment_seconds = t->transcode.segment_seconds;
    }
    return ok;
}

bool fops_plan_append(plan_spec_t *plan, const fops_t *f, char *err, size_t errlen)
{
    if (plan->step_count + f->task_count > PLAN_STEPS_MAX) {
        snprintf(err, errlen, "fops: the plan has no room for %zu more steps", f->task_count);
        return false;
    }
    plan_spec_t *next = malloc(sizeof(*next));
    if (!next) {
        snprintf(err, errlen, "fops: out of memory");
        return false;
    }
    *next = *plan;
    bool ok = true;
    for (size_t i = 0; ok && i < f->task_count; i++)
        ok = fops_plan_step(f, i, &next->steps[next->step_count++]);
    if (!ok)
        snprintf(err, errlen, "fops: an output key is too long");
    ok = ok && plan_spec_check(next, err, errlen);
    if (ok)
        *plan = *next;
    free(next);
    return ok;
}

bool fops_plan_check(const fops_t *f, const char *file_key, char *err, size_t errlen)
{
    plan_spec_t *plan = calloc(1, sizeof(*plan));
    if (!plan) {
        snprintf(err, errlen, "fops: out of memory");
        return false;
    }
    snprintf(plan->object_id, sizeof(plan->object_id), "%032d", 0);
    snprintf(plan->file_key, sizeof(plan->file_key), "%s", file_key);
    plan->steps[plan->step_count++].kind = SPEC_STEP_PROBE;
    bool ok = fops_plan_append(plan, f, err, errlen);
    free(plan);
    return ok;
}
