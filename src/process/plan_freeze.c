/* plan_freeze: a video's processing settings -> a frozen plan; see plan_freeze.h. */
#include "process/plan_freeze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "process/fops_plan.h"
#include "process/plan_spec.h"

/* What freezing fills besides the plan: a missing resource's sentence. */
typedef struct plan_freeze_job {
    store_t *store;
    int64_t account_id;
    plan_spec_t *plan;
} plan_freeze_job_t;

static const char *plan_freeze_kind_label(int kind)
{
    switch (kind) {
    case STORE_WORKFLOW: return "workflow";
    case STORE_TEMPLATE: return "template";
    case STORE_WATERMARK: return "watermark";
    default: return "subtitle";
    }
}

/* Records "<step>: <detail>" as the plan's error (the first one wins). */
static void plan_freeze_error(plan_spec_t *plan, const char *step, const char *detail)
{
    if (!plan->error[0])
        snprintf(plan->error, sizeof(plan->error), "%s: %s", step, detail);
}

/* Reads resource `id` of `kind`: STORE_OK with its spec text in *spec,
 * STORE_NOT_FOUND (recorded as the plan's error), or the store's failure. */
static int plan_freeze_resource(plan_freeze_job_t *job, int kind, const char *id, const char *step, char **spec)
{
    store_resource_t r = {0};
    int rc = job->store->ops->resource_get(job->store, job->account_id, kind, id, &r);
    if (rc == STORE_NOT_FOUND) {
        char detail[SPEC_NAME_MAX + 64];
        snprintf(detail, sizeof(detail), "%s \"%s\" no longer exists", plan_freeze_kind_label(kind), id);
        plan_freeze_error(job->plan, step, detail);
    }
    if (rc == STORE_OK) {
        *spec = r.spec;
        r.spec = NULL;
    }
    store_resource_free(&r);
    return rc;
}

/* Fills step->u from the resource the step names (transcode, watermark,
 * subtitle); a missing or unreadable resource becomes the plan's error. */
static int plan_freeze_step_spec(plan_freeze_job_t *job, plan_step_t *step)
{
    static const int kinds[] = {[SPEC_STEP_TRANSCODE] = STORE_TEMPLATE,
                                [SPEC_STEP_WATERMARK] = STORE_WATERMARK,
                                [SPEC_STEP_SUBTITLE] = STORE_SUBTITLE};
    const char *label = spec_step_kind_name(step->kind);
    char *text = NULL;
    int rc = plan_freeze_resource(job, kinds[step->kind], step->name, label, &text);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? STORE_OK : rc;
    spec_error_t err = {{0}};
    bool ok = step->kind == SPEC_STEP_TRANSCODE   ? spec_template_parse(text, &step->u.template_spec, &err)
              : step->kind == SPEC_STEP_WATERMARK ? spec_watermark_parse(text, &step->u.watermark, &err)
                                                  : spec_subtitle_parse(text, &step->u.subtitle, &err);
    if (!ok)
        plan_freeze_error(job->plan, label, err.message);
    free(text);
    return STORE_OK;
}

static plan_step_t *plan_freeze_add(plan_spec_t *plan, enum spec_step_kind kind, const char *name)
{
    if (plan->step_count >= PLAN_STEPS_MAX)
        return NULL;
    plan_step_t *step = &plan->steps[plan->step_count++];
    memset(step, 0, sizeof(*step));
    step->kind = kind;
    snprintf(step->name, sizeof(step->name), "%s", name ? name : "");
    return step;
}

/* Adds a step and freezes the spec it names. */
static int plan_freeze_add_ref(plan_freeze_job_t *job, enum spec_step_kind kind, const char *name)
{
    plan_step_t *step = plan_freeze_add(job->plan, kind, name);
    if (!step)
        return STORE_INVALID;
    return spec_step_kind_takes_ref(kind) ? plan_freeze_step_spec(job, step) : STORE_OK;
}

/* The default rendition that carries a watermark or subtitle asked for
 * without a template (never a template of that name: it is built in). */
static int plan_freeze_add_default(plan_freeze_job_t *job)
{
    plan_step_t *step = plan_freeze_add(job->plan, SPEC_STEP_TRANSCODE, PLAN_DEFAULT_TEMPLATE);
    if (!step)
        return STORE_INVALID;
    plan_default_template(&step->u.template_spec);
    return STORE_OK;
}

/* The workflow's steps, in its order. */
static int plan_freeze_workflow(plan_freeze_job_t *job, const char *workflow_id)
{
    char *text = NULL;
    int rc = plan_freeze_resource(job, STORE_WORKFLOW, workflow_id, "workflow", &text);
    if (rc != STORE_OK)
        return rc == STORE_NOT_FOUND ? STORE_OK : rc;
    spec_workflow_t wf;
    spec_error_t err = {{0}};
    if (!spec_workflow_parse(text, &wf, &err))
        plan_freeze_error(job->plan, "workflow", err.message);
    else
        for (size_t i = 0; i < wf.step_count && rc == STORE_OK; i++)
            rc = plan_freeze_add_ref(job, wf.steps[i].kind, wf.steps[i].ref);
    free(text);
    return rc;
}

/* Without a workflow: probe, snapshot, then what the settings name. */
static int plan_freeze_settings(plan_freeze_job_t *job, const plan_settings_t *set)
{
    plan_freeze_add(job->plan, SPEC_STEP_PROBE, NULL);
    plan_freeze_add(job->plan, SPEC_STEP_SNAPSHOT, NULL);
    int rc = STORE_OK;
    if (set->template_name)
        rc = plan_freeze_add_ref(job, SPEC_STEP_TRANSCODE, set->template_name);
    else if (set->watermark_name || set->subtitle_id)
        rc = plan_freeze_add_default(job);
    if (rc == STORE_OK && set->watermark_name)
        rc = plan_freeze_add_ref(job, SPEC_STEP_WATERMARK, set->watermark_name);
    if (rc == STORE_OK && set->subtitle_id)
        rc = plan_freeze_add_ref(job, SPEC_STEP_SUBTITLE, set->subtitle_id);
    return rc;
}

/* A new empty plan for the object and its key; NULL when out of memory. */
static plan_spec_t *plan_freeze_new(const char *object_id, const char *file_key)
{
    plan_spec_t *plan = calloc(1, sizeof(*plan));
    if (plan) {
        snprintf(plan->object_id, sizeof(plan->object_id), "%s", object_id);
        snprintf(plan->file_key, sizeof(plan->file_key), "%s", file_key);
    }
    return plan;
}

/* Fills plan's steps from the settings (the error instead, when a
 * resource is gone or the plan cannot run). */
static int plan_freeze_fill(store_t *store, int64_t account_id, const plan_settings_t *settings, plan_spec_t *plan)
{
    plan_freeze_job_t job = {store, account_id, plan};
    int rc = settings->workflow_id ? plan_freeze_workflow(&job, settings->workflow_id)
                                   : plan_freeze_settings(&job, settings);
    if (rc == STORE_OK && !plan->error[0] && !plan_spec_check(plan, plan->error, sizeof(plan->error)))
        log_warn("plan for %s cannot run: %s", plan->file_key, plan->error);
    if (rc == STORE_OK && plan->error[0])
        plan->step_count = 0; /* the error is the whole plan: nothing of it runs */
    return rc;
}

/* *plan_json receives the plan's text when rc is STORE_OK; frees plan. */
static int plan_freeze_emit(int rc, plan_spec_t *plan, char **plan_json)
{
    if (rc == STORE_OK && !(*plan_json = plan_spec_to_json(plan)))
        rc = STORE_ERROR;
    free(plan);
    return rc;
}

int plan_freeze(store_t *store, int64_t account_id, const plan_settings_t *settings, const char *object_id,
                const char *file_key, char **plan_json)
{
    *plan_json = NULL;
    plan_spec_t *plan = plan_freeze_new(object_id, file_key);
    if (!plan)
        return STORE_ERROR;
    return plan_freeze_emit(plan_freeze_fill(store, account_id, settings, plan), plan, plan_json);
}

int plan_freeze_fops(store_t *store, int64_t account_id, const plan_settings_t *settings, const fops_t *f,
                     const char *object_id, const char *file_key, char **plan_json, char *err, size_t errlen)
{
    *plan_json = NULL;
    plan_spec_t *plan = plan_freeze_new(object_id, file_key);
    if (!plan)
        return STORE_ERROR;
    int rc = STORE_OK;
    if (settings) {
        rc = plan_freeze_fill(store, account_id, settings, plan);
    } else {
        plan_freeze_add(plan, SPEC_STEP_PROBE, NULL);
        plan->fops = true;
    }
    /* A plan that failed to freeze keeps its error: its task fails with it. */
    if (rc == STORE_OK && !plan->error[0] && !fops_plan_append(plan, f, err, errlen))
        rc = STORE_INVALID;
    return plan_freeze_emit(rc, plan, plan_json);
}

int plan_freeze_failed(const char *object_id, const char *file_key, const char *error, char **plan_json)
{
    *plan_json = NULL;
    plan_spec_t *plan = plan_freeze_new(object_id, file_key);
    if (!plan)
        return STORE_ERROR;
    snprintf(plan->error, sizeof(plan->error), "%s", error[0] ? error : "fops: cannot run");
    return plan_freeze_emit(STORE_OK, plan, plan_json);
}
