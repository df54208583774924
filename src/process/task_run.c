/* task_run: one attempt of one task; see task_run.h and worker.h. */
#include "process/task_run.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "process/hls.h"
#include "process/output_check.h"
#include "process/plan.h"
#include "process/plan_spec.h"
#include "process/progress.h"
#include "process/publish.h"
#include "process/runner.h"
#include "process/task_cover.h"
#include "process/workdir.h"

#define TASK_PROBE_TIMEOUT_MS 60000
#define TASK_COVER_TIMEOUT_S 120
/* A transcode may take processing-timeout (300 s) plus 8 s per second of
 * source and output (a realtime factor of 1/8 per output: far slower than
 * any machine vodup runs on, so only a stuck ffmpeg reaches it). */
#define TASK_TIMEOUT_PER_S 8
#define TASK_ADDRESS_SPACE (16LL << 30)
#define TASK_ERROR_MAX 512

/* ---- the heartbeat ---- */

typedef struct task_beat {
    const task_env_t *env;
    const char *task_id;
    atomic_int progress;
    atomic_bool cancel; /* runner_limits_t.cancel of every run */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    bool started;
    pthread_t thread;
} task_beat_t;

static void task_beat_once(task_beat_t *b)
{
    const task_env_t *env = b->env;
    if (atomic_load(env->stopping)) {
        atomic_store(&b->cancel, true);
        return;
    }
    int rc = env->store->ops->task_heartbeat(env->store, b->task_id, env->worker_id, ids_now_ms(), PROCESS_LEASE_MS,
                                             atomic_load(&b->progress));
    if (rc == STORE_CONFLICT || rc == STORE_NOT_FOUND)
        atomic_store(&b->cancel, true); /* canceled, overwritten, or taken by another worker */
    else if (rc != STORE_OK)
        log_warn("task %s: heartbeat: %s", b->task_id, store_rc_name(rc));
}

static void *task_beat_main(void *arg)
{
    task_beat_t *b = arg;
    pthread_mutex_lock(&b->mu);
    while (!b->stop) {
        struct timespec ts = timeutil_monotonic_deadline(PROCESS_HEARTBEAT_MS);
        if (pthread_cond_timedwait(&b->cv, &b->mu, &ts) == ETIMEDOUT && !b->stop) {
            pthread_mutex_unlock(&b->mu);
            task_beat_once(b);
            pthread_mutex_lock(&b->mu);
        }
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

static bool task_beat_start(task_beat_t *b, const task_env_t *env, const char *task_id)
{
    b->env = env;
    b->task_id = task_id;
    atomic_init(&b->progress, 0);
    atomic_init(&b->cancel, false);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->cv, &attr);
    pthread_condattr_destroy(&attr);
    b->started = pthread_create(&b->thread, NULL, task_beat_main, b) == 0;
    return b->started;
}

static void task_beat_stop(task_beat_t *b)
{
    if (b->started) {
        pthread_mutex_lock(&b->mu);
        b->stop = true;
        pthread_cond_signal(&b->cv);
        pthread_mutex_unlock(&b->mu);
        pthread_join(b->thread, NULL);
        b->started = false;
    }
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
}

/* ---- one attempt ---- */

typedef struct task_attempt {
    const task_env_t *env;
    const store_task_t *task;
    plan_spec_t spec;
    probe_result_t probe;
    plan_t plan;
    workdir_t work;
    task_beat_t beat;
    task_cover_t cover;    /* the cover run beside the probe (task_cover.h) */
    bool cover_made;       /* it made the plan's cover: the plan's cover run is skipped */
    output_measure_t measures[PLAN_OUTPUTS_MAX];
    int64_t source_size;
    int64_t run_end_us;    /* the transcode run's last out_time (-1: none yet): how long its outputs last */
    char error[TASK_ERROR_MAX];
    bool retryable;
    bool given_up; /* canceled or stopping: the task is not this worker's to end */
} task_attempt_t;

/* Records the attempt's error, "<step>: <detail>" (step NULL: detail has
 * its step already), and whether another attempt may do better. */
static bool task_fail_with(task_attempt_t *a, bool retryable, const char *step, const char *detail)
{
    /* A longer reason is cut: failReason is a sentence, not a log. */
    snprintf(a->error, sizeof(a->error), "%.32s%s%.400s", step ? step : "", step ? ": " : "", detail);
    a->retryable = retryable;
    return false;
}

/* The last non-empty line of ffmpeg's stderr: its reason. */
static void task_last_line(const char *tail, char *out, size_t len)
{
    size_t n = strlen(tail);
    while (n && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
        n--;
    size_t start = n;
    while (start && tail[start - 1] != '\n')
        start--;
    snprintf(out, len, "%.*s", (int)(n - start), tail + start);
    if (!out[0])
        snprintf(out, len, "ffmpeg failed without a message");
}

/* Replaces each `path` in line (of size len) with `label`: ffmpeg names the
 * files it failed on, and failReason goes out to API clients, who must not
 * learn the server's directories.  What does not fit is cut. */
static void task_scrub(char *line, size_t len, const char *path, const char *label)
{
    char out[RUNNER_STDERR_TAIL];
    size_t n = 0, plen = strlen(path);
    if (plen == 0)
        return;
    for (const char *p = line; *p && n + 1 < sizeof(out);) {
        bool hit = strncmp(p, path, plen) == 0;
        for (const char *l = label; hit && *l && n + 1 < sizeof(out); l++)
            out[n++] = *l;
        if (hit)
            p += plen;
        else
            out[n++] = *p++;
    }
    out[n] = '\0';
    snprintf(line, len, "%s", out);
}

/* ffmpeg's last line, without the server's paths. */
static void task_reason(const task_attempt_t *a, const char *tail, char *out, size_t len)
{
    task_last_line(tail, out, len);
    task_scrub(out, len, a->work.out, "<output>");
    task_scrub(out, len, a->work.source, "<source>");
    task_scrub(out, len, a->work.root, "<work>");
    task_scrub(out, len, a->env->opt->data_dir, "<data>");
}

static bool task_on_progress(void *arg, int64_t out_time_us, bool end)
{
    task_attempt_t *a = arg;
    (void)end;
    if (out_time_us >= 0)
        a->run_end_us = out_time_us;
    int pct = progress_percent(out_time_us, a->probe.duration);
    atomic_store(&a->beat.progress, pct > 99 ? 99 : pct); /* 100 only once published */
    return !atomic_load(&a->beat.cancel);
}

/* Outputs may be larger than the source (a high bitrate over a tiny
 * source), but not without bound: a runaway write stops at this. */
static int64_t task_file_size_limit(int64_t source_size)
{
    return 4 * source_size + (1LL << 30);
}

static runner_limits_t task_limits(const task_attempt_t *a, const plan_run_t *run)
{
    size_t outputs = a->plan.output_count ? a->plan.output_count : 1;
    int64_t base_s = a->env->opt->timeout_s;
    int64_t timeout_s = base_s + (int64_t)(a->probe.duration * TASK_TIMEOUT_PER_S * (double)outputs);
    if (!run->transcode)
        timeout_s = base_s < TASK_COVER_TIMEOUT_S ? base_s : TASK_COVER_TIMEOUT_S; /* one frame */
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return (runner_limits_t){
        .timeout_ms = timeout_s * 1000,
        .address_space = TASK_ADDRESS_SPACE,
        .file_size = task_file_size_limit(a->source_size),
        .cpu_seconds = timeout_s * (cpus > 0 ? cpus : 1),
        .nice = a->env->opt->nice,
        .cancel = &a->beat.cancel,
    };
}

/* Classes a failed run of `step` (transcode, snapshot): canceled (given
 * up), transient (retried) or final. */
static bool task_run_failed(task_attempt_t *a, const char *step, const runner_result_t *r)
{
    char line[RUNNER_STDERR_TAIL];
    switch (r->outcome) {
    case RUNNER_CANCELED:
        a->given_up = true;
        return false;
    case RUNNER_TIMED_OUT:
        return task_fail_with(a, true, step, "ffmpeg timed out");
    case RUNNER_SIGNALED:
        snprintf(line, sizeof(line), "ffmpeg killed by signal %d (a resource limit?)", r->signal);
        return task_fail_with(a, true, step, line);
    case RUNNER_START_FAILED:
        task_reason(a, r->stderr_tail, line, sizeof(line));
        return task_fail_with(a, true, step, line);
    default:
        task_reason(a, r->stderr_tail, line, sizeof(line));
        /* A full disk passes; a source ffmpeg cannot decode does not. */
        return task_fail_with(a, strstr(r->stderr_tail, "No space left") != NULL, step, line);
    }
}

static bool task_run_all(task_attempt_t *a)
{
    for (size_t i = 0; i < a->plan.run_count; i++) {
        const plan_run_t *run = &a->plan.runs[i];
        if (run->cover && a->cover_made)
            continue;
        runner_limits_t lim = task_limits(a, run);
        runner_result_t r;
        if (!runner_run((const char *const *)run->argv, &lim, run->transcode ? task_on_progress : NULL, a, &r))
            return task_run_failed(a, run->transcode ? "transcode" : "snapshot", &r);
    }
    return true;
}

/* ---- steps ---- */

static bool task_prepare(task_attempt_t *a)
{
    char err[PLAN_ERROR_MAX];
    if (!plan_spec_parse(a->task->plan, &a->spec, err, sizeof(err)))
        return task_fail_with(a, false, "plan", err);
    if (a->spec.error[0])
        return task_fail_with(a, false, NULL, a->spec.error);
    if (!workdir_make(&a->work, a->env->opt->data_dir, a->task->task_id, a->task->attempts))
        return task_fail_with(a, true, "work", "cannot create the work directory");
    blob_t *blob = a->env->blob;
    int rc = blob->ops->object_materialize(blob, a->spec.object_id, a->work.source);
    if (rc == BLOB_NOT_FOUND)
        return task_fail_with(a, false, "source", "the original is gone");
    if (rc != BLOB_OK)
        return task_fail_with(a, true, "source", rc == BLOB_NO_SPACE ? "disk full" : "cannot read the original");
    struct stat st;
    a->source_size = stat(a->work.source, &st) == 0 ? (int64_t)st.st_size : 0;
    return true;
}

/* What the planner is given; the probe is a->probe (read only by plan_build). */
static plan_input_t task_plan_input(const task_attempt_t *a)
{
    const process_options_t *opt = a->env->opt;
    return (plan_input_t){
        .spec = &a->spec, .probe = &a->probe, .ffmpeg = opt->ffmpeg, .source = a->work.source,
        .work_dir = a->work.out, .data_dir = opt->data_dir, .max_pixels = opt->max_pixels,
    };
}

/* Starts the cover run beside the probe when the plan has a snapshot step
 * (task_cover.h); when it cannot start, the plan's cover run stands. */
static void task_cover_begin(task_attempt_t *a)
{
    if (!plan_spec_has_snapshot(&a->spec))
        return;
    plan_input_t in = task_plan_input(a);
    plan_run_t shape = {.transcode = false};
    runner_limits_t lim = task_limits(a, &shape);
    task_cover_start(&a->cover, &in, &a->work, &lim);
}

/* After the probe: the early cover is the plan's when the source has video
 * and the plan's cover time is the same; else it is killed and cleared. */
static bool task_cover_settle(task_attempt_t *a, bool probed)
{
    bool wanted = probed && a->probe.has_video && plan_cover_time(a->probe.duration) == PLAN_COVER_AT_S &&
                  !atomic_load(&a->beat.cancel);
    if (!a->cover.started)
        return true;
    bool ok = task_cover_finish(&a->cover, wanted, &a->beat.cancel);
    if (!wanted)
        return true;
    a->cover_made = ok;
    return ok || task_run_failed(a, "snapshot", &a->cover.result);
}

static bool task_probe(task_attempt_t *a)
{
    const process_options_t *opt = a->env->opt;
    char err[TASK_ERROR_MAX];
    task_cover_begin(a);
    bool probed = probe_file(opt->ffprobe, a->work.source, opt->max_pixels, TASK_PROBE_TIMEOUT_MS, &a->probe, err,
                             sizeof(err));
    if (!task_cover_settle(a, probed))
        return false;
    if (!probed)
        return task_fail_with(a, false, NULL, err); /* "probe: ...": not media, never retried */
    if (atomic_load(&a->beat.cancel)) {
        a->given_up = true;
        return false;
    }
    return true;
}

static bool task_plan(task_attempt_t *a)
{
    plan_input_t in = task_plan_input(a);
    char err[TASK_ERROR_MAX];
    if (!plan_build(&in, &a->plan, err, sizeof(err)))
        return task_fail_with(a, false, NULL, err);
    char(*dirs)[PLAN_KEY_MAX] = calloc(PLAN_DIRS_MAX, sizeof(*dirs));
    size_t n = dirs ? plan_dirs(&a->plan, dirs, PLAN_DIRS_MAX) : 0;
    bool ok = dirs && n <= PLAN_DIRS_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = workdir_mkdirs(&a->work, dirs[i]);
    free(dirs);
    return ok || task_fail_with(a, true, "work", "cannot create an output directory");
}

/* Writes text to <out>/<key>, replacing what is there. */
static bool task_write_file(const task_attempt_t *a, const char *key, const buf_t *text)
{
    char path[WORKDIR_PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", a->work.out, key);
    FILE *fp = n > 0 && (size_t)n < sizeof(path) ? fopen(path, "wb") : NULL;
    if (!fp)
        return false;
    bool ok = fwrite(text->data, 1, text->len, fp) == text->len;
    return fclose(fp) == 0 && ok;
}

static bool task_read_file(const task_attempt_t *a, const char *key, buf_t *text)
{
    char path[WORKDIR_PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", a->work.out, key);
    FILE *fp = n > 0 && (size_t)n < sizeof(path) ? fopen(path, "rb") : NULL;
    if (!fp)
        return false;
    char chunk[4096];
    size_t got;
    bool ok = true;
    while (ok && (got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        ok = buf_append(text, chunk, got);
    fclose(fp);
    return ok;
}

/* A soft subtitle in an HLS template: its group in the master and its
 * playlist beside it (hls.h). */
static bool task_hls_subtitles(task_attempt_t *a, const plan_output_t *po)
{
    buf_t master, out;
    buf_init(&master, 0);
    buf_init(&out, 0);
    char name[PLAN_KEY_MAX], key[PLAN_KEY_MAX];
    const char *slash = strrchr(po->key, '/');
    bool ok = slash && task_read_file(a, po->key, &master) &&
              hls_master_add_subtitles(master.data, master.len, po->language, &out) &&
              task_write_file(a, po->key, &out) && hls_subtitle_playlist_name(po->language, name, sizeof(name));
    int n = ok ? snprintf(key, sizeof(key), "%.*s/%s", (int)(slash - po->key), po->key, name) : -1;
    ok = ok && n > 0 && (size_t)n < sizeof(key) && hls_subtitle_playlist(po->language, a->probe.duration, &out) &&
         task_write_file(a, key, &out);
    buf_free(&master);
    buf_free(&out);
    return ok || task_fail_with(a, true, "transcode", "cannot write the HLS subtitle playlists");
}

/* Finishes and measures the outputs: the renditions first, so that a
 * truncated source is reported by what it did to them, the pictures (the
 * cover, frames) last. */
static bool task_finish_outputs(task_attempt_t *a)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < a->plan.output_count; i++) {
            const plan_output_t *po = &a->plan.outputs[i];
            if ((po->kind == PLAN_OUTPUT_COVER || po->kind == PLAN_OUTPUT_FRAME) != (pass == 1))
                continue;
            if (po->kind == PLAN_OUTPUT_HLS && po->soft_subtitle && !task_hls_subtitles(a, po))
                return false;
            char err[TASK_ERROR_MAX];
            double run_s = a->run_end_us >= 0 ? (double)a->run_end_us / 1e6 : -1;
            if (!output_check(a->work.out, po, a->probe.duration, run_s, &a->measures[i], err, sizeof(err)))
                return task_fail_with(a, false, NULL, err);
        }
    return true;
}

static void task_publish(task_attempt_t *a)
{
    publish_input_t in = {
        .store = a->env->store, .blob = a->env->blob, .task_id = a->task->task_id,
        .worker_id = a->env->worker_id, .out_dir = a->work.out, .probe = &a->probe, .plan = &a->plan,
        .measures = a->measures, .adds = a->spec.fops,
    };
    char err[TASK_ERROR_MAX];
    int outcome = publish_task(&in, err, sizeof(err));
    if (outcome == PUBLISH_CANCELED)
        a->given_up = true;
    else if (outcome == PUBLISH_RETRY)
        task_fail_with(a, true, NULL, err);
}

static void task_record_failure(const task_attempt_t *a)
{
    const task_env_t *env = a->env;
    int rc = env->store->ops->task_fail(env->store, a->task->task_id, env->worker_id, ids_now_ms(), a->error,
                                        a->retryable);
    if (rc != STORE_OK && rc != STORE_CONFLICT)
        log_warn("task %s: cannot record its failure (%s): %s", a->task->task_id, a->error, store_rc_name(rc));
    log_info("task %s: attempt %d failed%s: %s", a->task->task_id, a->task->attempts,
             a->retryable ? " (will retry)" : "", a->error);
}

void task_run(const task_env_t *env, const store_task_t *task)
{
    task_attempt_t *a = calloc(1, sizeof(*a));
    if (!a) {
        log_error("task %s: out of memory", task->task_id);
        return; /* the lease runs out and the task is claimed again */
    }
    a->env = env;
    a->task = task;
    a->run_end_us = -1;
    bool beating = task_beat_start(&a->beat, env, task->task_id);
    bool ok = beating && task_prepare(a) && task_probe(a) && task_plan(a) && task_run_all(a) &&
              task_finish_outputs(a);
    task_cover_finish(&a->cover, false, NULL); /* a failure before the probe ended leaves it running */
    task_beat_stop(&a->beat);
    if (!beating)
        task_fail_with(a, true, "work", "cannot start the heartbeat");
    else if (ok && atomic_load(&a->beat.cancel))
        a->given_up = true;
    else if (ok)
        task_publish(a);
    if (a->error[0] && !a->given_up)
        task_record_failure(a);
    log_info("task %s: attempt %d %s", task->task_id, task->attempts,
             a->given_up ? "given up (canceled or stopping)" : a->error[0] ? "failed" : "succeeded");
    plan_free(&a->plan);
    if (a->work.root[0])
        workdir_remove(&a->work);
    free(a);
}
