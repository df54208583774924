/*
 * fuzz_fops: a fops text comes from the network (an upload policy's
 * persistentOps, the fops field of POST /fops), so whatever bytes arrive,
 * fops_parse must answer within its contract (process/fops.h):
 *   - refused: the message starts "fops: ", ends within FOPS_ERROR_MAX and
 *     is one line of printable ASCII, and the result holds no task;
 *   - accepted: 1..FOPS_TASKS_MAX tasks, each task's text lies inside the
 *     input and parses alone to the same task, every transcode makes a
 *     template spec_template_check accepts, and every saveas bucket and key
 *     obey the rules the header states (no "." or ".." segment, no empty
 *     segment, not under vod/).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "process/fops.h"
#include "process/spec.h"

static void fuzz_check(int cond)
{
    if (!cond)
        __builtin_trap();
}

static void fuzz_refusal(const fops_t *f, const fops_error_t *err)
{
    size_t n = strnlen(err->message, FOPS_ERROR_MAX);
    fuzz_check(n < FOPS_ERROR_MAX && strncmp(err->message, "fops: ", 6) == 0);
    for (size_t i = 0; i < n; i++)
        fuzz_check(err->message[i] >= 0x20 && err->message[i] < 0x7f);
    fuzz_check(f->task_count == 0);
}

static void fuzz_key(const fops_task_t *t)
{
    size_t n = strnlen(t->key, sizeof(t->key));
    fuzz_check(spec_name_valid(t->bucket));
    fuzz_check(n >= 1 && n <= FOPS_KEY_MAX && t->key[0] != '/' && t->key[n - 1] != '/');
    /* No empty, "." or ".." segment: no segment starts with '.'. */
    fuzz_check(!strstr(t->key, "//") && t->key[0] != '.' && !strstr(t->key, "/.") && strncmp(t->key, "vod/", 4) != 0);
}

static int fuzz_same_task(const fops_task_t *a, const fops_task_t *b)
{
    if (a->kind != b->kind || a->has_saveas != b->has_saveas)
        return 0;
    if (a->has_saveas && (strcmp(a->bucket, b->bucket) != 0 || strcmp(a->key, b->key) != 0))
        return 0;
    if (a->kind == FOPS_SNAPSHOT)
        return memcmp(&a->snapshot, &b->snapshot, sizeof(a->snapshot)) == 0;
    return memcmp(&a->transcode, &b->transcode, sizeof(a->transcode)) == 0;
}

/* Task i of the whole text, parsed on its own, gives the same task. */
static void fuzz_task_alone(const uint8_t *data, const fops_task_t *t)
{
    static fops_t alone;
    fops_error_t err;
    fuzz_check(fops_parse((const char *)data + t->text_offset, t->text_len, &alone, &err));
    fuzz_check(alone.task_count == 1 && fuzz_same_task(&alone.tasks[0], t));
}

static void fuzz_task(const uint8_t *data, size_t size, const fops_task_t *t)
{
    fuzz_check(t->text_offset + t->text_len <= size && t->text_len > 0);
    fuzz_check(fops_kind_name(t->kind) != NULL);
    if (t->kind == FOPS_TRANSCODE) {
        spec_template_t tpl;
        spec_error_t serr;
        fops_transcode_template(&t->transcode, &tpl);
        fuzz_check(spec_template_check(&tpl, &serr));
        fuzz_check(t->transcode.segment_seconds >= 0 && t->transcode.segment_seconds <= FOPS_SEGMENT_SECONDS_MAX);
    } else {
        fuzz_check(t->snapshot.offset_ms >= 0 && t->snapshot.offset_ms <= FOPS_OFFSET_MS_MAX);
    }
    if (t->has_saveas)
        fuzz_key(t);
    fuzz_task_alone(data, t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fops_t f;
    fops_error_t err;
    if (!fops_parse((const char *)data, size, &f, &err)) {
        fuzz_refusal(&f, &err);
        return 0;
    }
    fuzz_check(f.task_count >= 1 && f.task_count <= FOPS_TASKS_MAX && size <= FOPS_TEXT_MAX);
    for (size_t i = 0; i < f.task_count; i++)
        fuzz_task(data, size, &f.tasks[i]);
    return 0;
}
