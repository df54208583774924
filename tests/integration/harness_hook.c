/* harness_hook: a hookrecv receiver for tests; see harness_hook.h. */
#include "harness_hook.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cmocka.h>

#define HARNESS_HOOK_ARGS_MAX 16

void harness_hook_start(harness_hook_t *h, const harness_server_t *s, const char *tool, const char *name,
                        const char *const *args)
{
    harness_hook_stop(h); /* one a failed test left running */
    snprintf(h->log, sizeof(h->log), "%s/%s.log", s->root, name);
    const char *argv[HARNESS_HOOK_ARGS_MAX] = {tool, "--log", h->log};
    size_t n = 3;
    for (size_t i = 0; args && args[i] && n < HARNESS_HOOK_ARGS_MAX - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    h->pid = fork();
    assert_true(h->pid >= 0);
    if (h->pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    FILE *f = fdopen(fds[0], "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "port=%d", &h->port), 1);
    fclose(f);
}

void harness_hook_stop(harness_hook_t *h)
{
    if (h->pid > 0) {
        kill(h->pid, SIGTERM);
        waitpid(h->pid, NULL, 0);
        h->pid = 0;
    }
}

json_t *harness_hook_requests(const harness_hook_t *h)
{
    json_t *all = json_array();
    FILE *f = fopen(h->log, "r");
    static char line[1 << 20];
    while (f && fgets(line, sizeof(line), f)) {
        json_t *j = json_loads(line, 0, NULL);
        if (j)
            json_array_append_new(all, j);
    }
    if (f)
        fclose(f);
    return all;
}

json_t *harness_hook_wait(const harness_hook_t *h, size_t n, int timeout_ms)
{
    int64_t deadline = harness_now_ms() + timeout_ms;
    for (;;) {
        json_t *all = harness_hook_requests(h);
        if (json_array_size(all) >= n)
            return all;
        json_decref(all);
        if (harness_now_ms() > deadline)
            fail_msg("the receiver did not get %zu requests", n);
        harness_sleep_ms(50);
    }
}
