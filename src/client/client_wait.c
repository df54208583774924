/*
 * client_wait.c: polling getVideoInfo until processing ends; see
 * client_wait.h.
 */
#include "client/client_wait.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "client/client_progress.h"
#include "client/client_retry.h"
#include "client/client_video_format.h"
#include "common/encoding.h"
#include "common/timeutil.h"
#include "common/video_status.h"

#define WAIT_NS_PER_MS 1000000LL

/* ---- one answer ----------------------------------------------------------------------------- */

/* The status as shown: control characters as '?', cut to fit. */
static void wait_status_copy(const char *status, char *out, size_t outlen)
{
    buf_t b;
    buf_init(&b, 0);
    snprintf(out, outlen, "%s", client_text_append_clean(&b, status) ? b.data : "?");
    buf_free(&b);
}

enum client_wait_verdict client_wait_decide(const json_t *video, client_wait_state_t *st, char *why, size_t whylen)
{
    memset(st, 0, sizeof(*st));
    st->progress = -1;
    if (!json_is_object(video)) {
        snprintf(why, whylen, "the answer holds no video");
        return CLIENT_WAIT_INVALID;
    }
    json_t *progress = json_object_get(video, "progress");
    if (json_is_number(progress) && isfinite(json_number_value(progress))) {
        double p = json_number_value(progress);
        st->progress = p < 0 ? 0 : p > 100 ? 100 : (int)p;
    }
    const char *status = json_string_value(json_object_get(video, "status"));
    if (!status || !*status) {
        snprintf(why, whylen, "the answer holds no status");
        return CLIENT_WAIT_INVALID;
    }
    wait_status_copy(status, st->status, sizeof(st->status));
    int state = video_status_parse(status);
    if (state == VIDEO_READY)
        return CLIENT_WAIT_READY;
    if (state == VIDEO_FAILED)
        return CLIENT_WAIT_FAILED;
    if (state == VIDEO_STATUS_UNKNOWN) {
        snprintf(why, whylen, "unexpected status '%s'", st->status);
        return CLIENT_WAIT_INVALID;
    }
    /* Not at an end yet: created or uploading (another upload of the video
     * under way), uploaded or processing (a task queued or running).  Every
     * completed upload queues a task in the same transaction, so an
     * uploaded video without one is a server that will never process it. */
    if (video_status_uploaded(state) && !json_is_string(json_object_get(video, "taskId"))) {
        snprintf(why, whylen, "the video is %s but has no processing task (taskId): this server does not process "
                              "videos",
                 st->status);
        return CLIENT_WAIT_INVALID;
    }
    return CLIENT_WAIT_PENDING;
}

bool client_wait_changed(const client_wait_state_t *a, const client_wait_state_t *b)
{
    return a->progress != b->progress || strcmp(a->status, b->status) != 0;
}

void client_wait_line(const client_wait_state_t *st, char *out, size_t outlen)
{
    /* A failed task's progress is where it stopped, which tells nothing. */
    if (st->progress >= 0 && video_status_parse(st->status) != VIDEO_FAILED)
        snprintf(out, outlen, "%s %d%%", st->status, st->progress);
    else
        snprintf(out, outlen, "%s", st->status);
}

int64_t client_wait_interval_ms(int64_t elapsed_ms)
{
    return elapsed_ms < CLIENT_WAIT_FAST_FOR_MS ? CLIENT_WAIT_FAST_MS : CLIENT_WAIT_SLOW_MS;
}

/* ---- the loop ---------------------------------------------------------------------------------- */

typedef struct wait_run {
    client_api_t *api;
    const client_wait_opts_t *o;
    client_wait_result_t *res;
    client_progress_t bar;
    client_wait_state_t shown; /* what stderr shows now */
    int64_t started_ns;
} wait_run_t;

static int64_t wait_elapsed_ms(const wait_run_t *w)
{
    return (timeutil_monotonic_ns() - w->started_ns) / WAIT_NS_PER_MS;
}

/* The bar, redrawn at every poll (its clock moves), or a line per change. */
static void wait_show(wait_run_t *w, const client_wait_state_t *st)
{
    if (w->o->bar) {
        client_progress_update_percent(&w->bar, st->status, st->progress, wait_elapsed_ms(w) / 1000);
    } else if (client_wait_changed(&w->shown, st)) {
        char line[CLIENT_WAIT_STATUS_MAX + 16];
        client_wait_line(st, line, sizeof(line));
        fprintf(stderr, "%s\n", line);
        fflush(stderr);
    }
    w->shown = *st;
}

/* The message for a video whose processing failed: its failReason, clean. */
static void wait_failed_reason(wait_run_t *w)
{
    const char *reason = json_string_value(json_object_get(w->res->video, "failReason"));
    buf_t b;
    buf_init(&b, 0);
    bool clean = reason && *reason && client_text_append_clean(&b, reason);
    snprintf(w->res->error, sizeof(w->res->error), "video %s failed: %s", w->o->video_id,
             clean ? b.data : "(the server gave no failReason)");
    buf_free(&b);
}

/*
 * One poll: getVideoInfo, the display, and the verdict.  Returns -1 to go
 * on polling, else the exit status (res->error set when it is not 0).
 */
static int wait_poll(wait_run_t *w, const char *form)
{
    client_response_t r;
    client_response_init(&r);
    int rc = -1;
    if (!client_api_post(w->api, CLIENT_PATH_INFO, form, &r)) {
        char msg[768];
        client_response_describe(&r, "getVideoInfo", w->api->cfg->endpoint, msg, sizeof(msg));
        snprintf(w->res->error, sizeof(w->res->error), "waiting for video %s: %s", w->o->video_id, msg);
        rc = client_response_exit_code(&r);
        goto out;
    }
    json_t *video = json_object_get(r.json, "data");
    client_wait_state_t st;
    char why[256];
    enum client_wait_verdict v = client_wait_decide(video, &st, why, sizeof(why));
    json_decref(w->res->video);
    w->res->video = json_is_object(video) ? json_incref(video) : NULL;
    if (v != CLIENT_WAIT_INVALID)
        wait_show(w, &st);
    if (v == CLIENT_WAIT_READY) {
        rc = CLIENT_EXIT_OK;
    } else if (v == CLIENT_WAIT_FAILED) {
        wait_failed_reason(w);
        rc = CLIENT_EXIT_PROCESSING;
    } else if (v == CLIENT_WAIT_INVALID) {
        snprintf(w->res->error, sizeof(w->res->error), "waiting for video %s: getVideoInfo: %s", w->o->video_id,
                 why);
        rc = CLIENT_EXIT_FAILURE;
    }
out:
    client_response_free(&r);
    return rc;
}

static int wait_interrupted(wait_run_t *w)
{
    snprintf(w->res->error, sizeof(w->res->error),
             "interrupted while waiting; the upload is complete and the server goes on processing "
             "(vodup info %s)",
             w->o->video_id);
    return CLIENT_EXIT_INTERRUPTED;
}

static int wait_timed_out(wait_run_t *w)
{
    char progress[16] = "";
    if (w->shown.progress >= 0)
        snprintf(progress, sizeof(progress), " (%d%%)", w->shown.progress);
    snprintf(w->res->error, sizeof(w->res->error),
             "video %s is still %s%s after the --wait-timeout of %lld s; the server goes on processing "
             "(vodup info %s)",
             w->o->video_id, w->shown.status, progress, (long long)(w->o->timeout_ms / 1000), w->o->video_id);
    return CLIENT_EXIT_TIMEOUT;
}

/* Polls until an end; the deadline allows one last poll when it comes. */
static int wait_loop(wait_run_t *w, const char *form)
{
    const atomic_int *stop = w->api->stop;
    for (;;) {
        int rc = wait_poll(w, form);
        /* An end that arrived with the signal is still the answer. */
        if (rc == CLIENT_EXIT_OK || rc == CLIENT_EXIT_PROCESSING)
            return rc;
        if (stop && atomic_load(stop))
            return wait_interrupted(w);
        if (rc >= 0)
            return rc;
        int64_t elapsed = wait_elapsed_ms(w);
        if (w->o->timeout_ms > 0 && elapsed >= w->o->timeout_ms)
            return wait_timed_out(w);
        int64_t pause = client_wait_interval_ms(elapsed);
        if (w->o->timeout_ms > 0 && pause > w->o->timeout_ms - elapsed)
            pause = w->o->timeout_ms - elapsed;
        if (!client_retry_sleep(pause, stop))
            return wait_interrupted(w);
    }
}

int client_wait_video(client_api_t *api, const client_wait_opts_t *o, client_wait_result_t *res)
{
    memset(res, 0, sizeof(*res));
    wait_run_t w = {.api = api, .o = o, .res = res, .started_ns = timeutil_monotonic_ns()};
    w.shown.progress = -2; /* differs from any state: the first answer is shown */
    client_progress_init(&w.bar, 100, o->bar);
    buf_t form;
    buf_init(&form, 0);
    int rc = CLIENT_EXIT_FAILURE;
    if (!buf_append_str(&form, "videoId=") || !encoding_percent_encode(o->video_id, strlen(o->video_id), &form))
        snprintf(res->error, sizeof(res->error), "out of memory");
    else
        rc = wait_loop(&w, form.data);
    client_progress_end(&w.bar);
    res->seconds = (double)(timeutil_monotonic_ns() - w.started_ns) / 1e9;
    buf_free(&form);
    return rc;
}
