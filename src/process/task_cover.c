/* task_cover: the cover run beside the probe; see task_cover.h. */
#include "process/task_cover.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "process/output_key.h"

static void *task_cover_main(void *arg)
{
    task_cover_t *c = arg;
    c->succeeded = runner_run((const char *const *)c->run.argv, &c->limits, NULL, NULL, &c->result);
    atomic_store(&c->done, true);
    return NULL;
}

/* The cover key's path under work->out, and its directory made. */
static bool task_cover_place(task_cover_t *c, const plan_input_t *in, const workdir_t *work)
{
    buf_t key;
    buf_init(&key, 0);
    bool ok = output_key_cover(in->spec->file_key, &key);
    int n = ok ? snprintf(c->path, sizeof(c->path), "%s/%s", work->out, key.data) : -1;
    ok = n > 0 && (size_t)n < sizeof(c->path);
    char *slash = ok ? strrchr(key.data, '/') : NULL;
    if (slash) {
        *slash = '\0';
        ok = workdir_mkdirs(work, key.data);
    }
    buf_free(&key);
    return ok;
}

bool task_cover_start(task_cover_t *c, const plan_input_t *in, const workdir_t *work, const runner_limits_t *limits)
{
    memset(c, 0, sizeof(*c));
    atomic_init(&c->cancel, false);
    atomic_init(&c->done, false);
    c->limits = *limits;
    c->limits.cancel = &c->cancel;
    if (!task_cover_place(c, in, work) || !plan_cover_run(in, PLAN_COVER_AT_S, &c->run))
        return false;
    c->started = pthread_create(&c->thread, NULL, task_cover_main, c) == 0;
    if (!c->started) {
        log_warn("cover: cannot start its thread; it runs after the probe");
        plan_run_free(&c->run);
    }
    return c->started;
}

bool task_cover_finish(task_cover_t *c, bool keep, const atomic_bool *abort)
{
    if (!c->started)
        return false;
    if (!keep)
        atomic_store(&c->cancel, true);
    while (!atomic_load(&c->done)) {
        if (abort && atomic_load(abort))
            atomic_store(&c->cancel, true);
        usleep(5 * 1000); /* a few ms added to a task, no CPU to speak of */
    }
    pthread_join(c->thread, NULL);
    c->started = false;
    plan_run_free(&c->run);
    c->succeeded = c->succeeded && keep;
    if (!c->succeeded)
        unlink(c->path); /* a frame at 1 s of a short source, or a cut-off file */
    return c->succeeded;
}
