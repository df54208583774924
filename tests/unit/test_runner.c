/*
 * Unit tests for process/runner and process/progress: the runner drives
 * small fake programs (shell scripts written at test time) through the
 * paths a real ffmpeg takes rarely: progress, failure with a reason, a
 * time-out, a cancel that must also stop what the program started, a
 * resource limit, a program that cannot start.
 */
#define _GNU_SOURCE /* nftw, in unit_tmpdir.h */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "process/progress.h"
#include "process/runner.h"
#include "unit_tmpdir.h"

/* ---- progress (pure) ---- */

typedef struct seen {
    int blocks;
    int64_t last_us;
    bool end;
    int cancel_at; /* the block at which the runner callback says stop (0: never) */
} seen_t;

static void on_block(void *arg, int64_t out_time_us, bool end)
{
    seen_t *s = arg;
    s->blocks++;
    s->last_us = out_time_us;
    s->end = end;
}

static void test_progress_blocks_in_pieces(void **state)
{
    (void)state;
    static const char text[] = "frame=10\nout_time_us=500000\r\nprogress=continue\n"
                               "out_time_us=N/A\nprogress=continue\nout_time_ms=2000000\nspeed=1x\nprogress=end\n";
    for (size_t piece = 1; piece <= 7; piece++) {
        seen_t s = {0};
        progress_parser_t p;
        progress_init(&p, on_block, &s);
        for (size_t i = 0; i < sizeof(text) - 1; i += piece)
            progress_feed(&p, text + i, i + piece < sizeof(text) - 1 ? piece : sizeof(text) - 1 - i);
        assert_int_equal(s.blocks, 3);
        assert_int_equal(s.last_us, 2000000);
        assert_true(s.end);
    }
}

static void test_progress_overlong_line_dropped(void **state)
{
    (void)state;
    seen_t s = {0};
    progress_parser_t p;
    progress_init(&p, on_block, &s);
    char line[1000];
    memset(line, 'x', sizeof(line));
    memcpy(line, "out_time_us=", 12);
    progress_feed(&p, line, sizeof(line));
    progress_feed(&p, "\nout_time_us=7\nprogress=continue\n", 33);
    assert_int_equal(s.blocks, 1);
    assert_int_equal(s.last_us, 7);
    assert_int_equal(progress_percent(5000000, 10.0), 50);
    assert_int_equal(progress_percent(11000000, 10.0), 100);
    assert_int_equal(progress_percent(-1, 10.0), 0);
    assert_int_equal(progress_percent(5, 0), 0);
}

/* ---- runner ---- */

static char dir[256];

static const char *script(const char *name, const char *body)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0700);
    return path;
}

static bool runner_seen(void *arg, int64_t out_time_us, bool end)
{
    seen_t *s = arg;
    on_block(s, out_time_us, end);
    return s->cancel_at == 0 || s->blocks < s->cancel_at;
}

static const runner_limits_t no_limits = {0};

static void test_runner_progress_and_success(void **state)
{
    (void)state;
    const char *argv[] = {script("ok", "printf 'out_time_us=500000\\nprogress=continue\\n'\n"
                                       "printf 'out_time_us=1000000\\nprogress=end\\n'"),
                          NULL};
    seen_t s = {0};
    runner_result_t r;
    assert_true(runner_run(argv, &no_limits, runner_seen, &s, &r));
    assert_int_equal(r.outcome, RUNNER_EXITED);
    assert_int_equal(s.blocks, 2);
    assert_true(s.end);
}

static void test_runner_failure_keeps_stderr_tail(void **state)
{
    (void)state;
    const char *argv[] = {script("fail", "i=0; while [ $i -lt 300 ]; do echo \"noise line $i\" >&2; i=$((i+1)); done\n"
                                         "echo 'moov atom not found' >&2; exit 3"),
                          NULL};
    runner_result_t r;
    assert_false(runner_run(argv, &no_limits, NULL, NULL, &r));
    assert_int_equal(r.outcome, RUNNER_EXITED);
    assert_int_equal(r.exit_code, 3);
    assert_non_null(strstr(r.stderr_tail, "moov atom not found"));
    assert_null(strstr(r.stderr_tail, "noise line 0\n")); /* a tail, bounded */
    assert_true(strlen(r.stderr_tail) < RUNNER_STDERR_TAIL);
}

static void test_runner_timeout(void **state)
{
    (void)state;
    const char *argv[] = {script("slow", "exec sleep 30"), NULL};
    runner_limits_t lim = {.timeout_ms = 300};
    runner_result_t r;
    int64_t t0 = timeutil_monotonic_ns();
    assert_false(runner_run(argv, &lim, NULL, NULL, &r));
    int64_t ms = (timeutil_monotonic_ns() - t0) / 1000000;
    print_message("  time-out after %lld ms\n", (long long)ms);
    assert_int_equal(r.outcome, RUNNER_TIMED_OUT);
    assert_true(ms < 2000);
}

/* Whether pid is gone (or a zombie waiting for init: dead all the same). */
static bool process_gone(pid_t pid)
{
    char path[64], buf[256] = "";
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return true;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && (paren[2] == 'Z' || paren[2] == 'X');
}

static void test_runner_cancel_kills_the_group(void **state)
{
    (void)state;
    char body[600];
    snprintf(body, sizeof(body),
             "sleep 30 & echo $! > %s/child.pid\n"
             "while true; do printf 'out_time_us=1\\nprogress=continue\\n'; sleep 0.05; done", dir);
    const char *argv[] = {script("loop", body), NULL};
    seen_t s = {.cancel_at = 3};
    runner_result_t r;
    int64_t t0 = timeutil_monotonic_ns();
    assert_false(runner_run(argv, &no_limits, runner_seen, &s, &r));
    int64_t ms = (timeutil_monotonic_ns() - t0) / 1000000;
    print_message("  canceled after %d blocks, %lld ms\n", s.blocks, (long long)ms);
    assert_int_equal(r.outcome, RUNNER_CANCELED);
    assert_true(ms < 2000);
    char path[300];
    snprintf(path, sizeof(path), "%s/child.pid", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int child = 0;
    assert_int_equal(fscanf(f, "%d", &child), 1);
    fclose(f);
    bool gone = false;
    for (int i = 0; i < 40 && !gone; i++) {
        gone = process_gone((pid_t)child);
        if (!gone)
            usleep(50 * 1000);
    }
    assert_true(gone); /* what the program started went with it */
}

/* A cancel from another thread stops a run that writes nothing at all. */
typedef struct cancel_later {
    atomic_bool flag;
    int after_ms;
} cancel_later_t;

static void *cancel_later_run(void *arg)
{
    cancel_later_t *c = arg;
    usleep((useconds_t)c->after_ms * 1000);
    atomic_store(&c->flag, true);
    return NULL;
}

static void test_runner_cancel_flag_of_silent_child(void **state)
{
    (void)state;
    const char *argv[] = {script("silent", "exec sleep 30"), NULL};
    cancel_later_t c = {.after_ms = 200};
    atomic_init(&c.flag, false);
    runner_limits_t lim = {.cancel = &c.flag};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, cancel_later_run, &c), 0);
    runner_result_t r;
    int64_t t0 = timeutil_monotonic_ns();
    assert_false(runner_run(argv, &lim, NULL, NULL, &r));
    int64_t ms = (timeutil_monotonic_ns() - t0) / 1000000;
    pthread_join(t, NULL);
    print_message("  canceled by flag after %lld ms\n", (long long)ms);
    assert_int_equal(r.outcome, RUNNER_CANCELED);
    assert_true(ms < 200 + 3 * RUNNER_POLL_MS + 500);
}

static void test_runner_file_size_limit(void **state)
{
    (void)state;
    char of[300];
    snprintf(of, sizeof(of), "of=%s/big", dir);
    const char *argv[] = {"/bin/dd", "if=/dev/zero", of, "bs=1M", "count=4", NULL};
    runner_limits_t lim = {.file_size = 1 << 20, .address_space = 1LL << 30, .cpu_seconds = 10, .nice = 10};
    runner_result_t r;
    assert_false(runner_run(argv, &lim, NULL, NULL, &r));
    print_message("  dd past RLIMIT_FSIZE: outcome %d, signal %d\n", r.outcome, r.signal);
    assert_int_equal(r.outcome, RUNNER_SIGNALED);
    assert_int_equal(r.signal, SIGXFSZ);
}

static void test_runner_lower_priority_and_no_inherited_fds(void **state)
{
    (void)state;
    int leak = dup(1); /* a descriptor of the "server" the child must not see */
    char body[200];
    snprintf(body, sizeof(body), "awk '{print $19}' /proc/$$/stat >&2; [ -e /proc/$$/fd/%d ] && echo LEAK >&2; exit 0",
             leak);
    const char *argv[] = {script("nice", body), NULL};
    runner_limits_t lim = {.nice = 10};
    runner_result_t r;
    assert_true(runner_run(argv, &lim, NULL, NULL, &r));
    close(leak);
    print_message("  child niceness: %s", r.stderr_tail);
    assert_true(atoi(r.stderr_tail) >= 10);
    assert_null(strstr(r.stderr_tail, "LEAK"));
}

static void test_runner_exec_failure(void **state)
{
    (void)state;
    const char *argv[] = {"/nonexistent/ffmpeg", "-version", NULL};
    runner_result_t r;
    assert_false(runner_run(argv, &no_limits, NULL, NULL, &r));
    assert_int_equal(r.outcome, RUNNER_EXITED);
    assert_int_equal(r.exit_code, 127);
    assert_non_null(strstr(r.stderr_tail, "exec failed"));
}

static int group_setup(void **state)
{
    (void)state;
    return unit_tmpdir_make(dir, sizeof(dir), "runner") ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    unit_tmpdir_remove(dir);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_blocks_in_pieces),
        cmocka_unit_test(test_progress_overlong_line_dropped),
        cmocka_unit_test(test_runner_progress_and_success),
        cmocka_unit_test(test_runner_failure_keeps_stderr_tail),
        cmocka_unit_test(test_runner_timeout),
        cmocka_unit_test(test_runner_cancel_kills_the_group),
        cmocka_unit_test(test_runner_cancel_flag_of_silent_child),
        cmocka_unit_test(test_runner_file_size_limit),
        cmocka_unit_test(test_runner_lower_priority_and_no_inherited_fds),
        cmocka_unit_test(test_runner_exec_failure),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
