/*
 * probe_run: asks the ffprobe program about a file (through runner, with
 * limits and a time-out) and reads its answer with probe_parse.  Kept apart
 * from probe.c, whose rules stay pure.
 */
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "process/probe.h"
#include "process/runner.h"

/* ffprobe's JSON for one file is a few KiB; anything near this is not it. */
#define PROBE_OUTPUT_MAX (1 << 20)

/* Line `text` (len bytes) without the "file:<path>: " that ffprobe puts
 * before a generic error, or NULL when it has no such prefix. */
static const char *probe_generic(const char *text, size_t len, const char *file_arg)
{
    size_t prefix = strlen(file_arg);
    if (len > prefix + 2 && strncmp(text, file_arg, prefix) == 0 && strncmp(text + prefix, ": ", 2) == 0)
        return text + prefix + 2;
    return NULL;
}

/*
 * The failure reason from ffprobe's stderr.  ffprobe ends with a generic
 * "file:<path>: Invalid data found when processing input" after the
 * demuxer's own line ("[mov,mp4,... @ 0x55...] moov atom not found"): the
 * last line that is not the generic one says more.  Never the server's
 * path: a failReason is shown to API users.
 */
static void probe_reason(const char *tail, const char *file_arg, char *err, size_t errlen)
{
    const char *best = NULL, *generic = NULL;
    size_t best_len = 0, generic_len = 0;
    for (const char *line = tail; *line;) {
        size_t len = strcspn(line, "\r\n");
        const char *g = probe_generic(line, len, file_arg);
        if (g) {
            generic = g;
            generic_len = len - (size_t)(g - line);
        } else if (len > 0) {
            best = line;
            best_len = len;
        }
        line += len;
        line += strspn(line, "\r\n");
    }
    if (best && best[0] == '[' && memchr(best, ']', best_len)) { /* drop "[demuxer @ address] " */
        const char *b = memchr(best, ']', best_len);
        best_len -= (size_t)(b + 1 - best);
        best = b + 1;
        best_len -= strspn(best, " ");
        best += strspn(best, " ");
    }
    if (!best) {
        best = generic;
        best_len = generic_len;
    }
    if (best && best_len > 160)
        best_len = 160;
    snprintf(err, errlen, "probe: %.*s", best ? (int)best_len : 0, best ? best : "");
    if (!best || best_len == 0)
        snprintf(err, errlen, "probe: ffprobe cannot read the file");
}

bool probe_file(const char *ffprobe, const char *path, int64_t max_pixels, int64_t timeout_ms,
                probe_result_t *out, char *err, size_t errlen)
{
    char file_arg[4200];
    const char *argv[PROBE_ARGV_MAX + 1];
    if (strlen(path) + 6 > sizeof(file_arg)) {
        snprintf(err, errlen, "probe: the path is too long");
        return false;
    }
    probe_argv(ffprobe, path, file_arg, sizeof(file_arg), argv);
    runner_limits_t lim = {.timeout_ms = timeout_ms, .address_space = 1LL << 30, .file_size = 1 << 20,
                           .cpu_seconds = timeout_ms / 1000 + 1, .nice = 10};
    buf_t json;
    buf_init(&json, 0);
    runner_result_t r;
    bool ok = runner_capture(argv, &lim, &json, PROBE_OUTPUT_MAX, &r);
    if (!ok && r.outcome == RUNNER_TIMED_OUT)
        snprintf(err, errlen, "probe: ffprobe took longer than %lld ms", (long long)timeout_ms);
    else if (!ok)
        probe_reason(r.stderr_tail, file_arg, err, errlen);
    else
        ok = probe_parse(json.data ? json.data : "", json.len, max_pixels, out, err, errlen);
    buf_free(&json);
    return ok;
}
