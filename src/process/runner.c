/* runner: fork/exec of a media program with limits; see runner.h. */
#define _GNU_SOURCE /* close_range, pipe2 */
#include "process/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "process/progress.h"

typedef struct runner_run_state {
    pid_t pid;
    int out_fd, err_fd;
    progress_parser_t progress;
    runner_progress_fn fn;
    void *arg;
    bool cancel;
    buf_t *capture;       /* runner_capture: stdout is kept here, not parsed */
    size_t capture_max;
    bool overflow;
    char tail[RUNNER_STDERR_TAIL];
    size_t tail_len;
} runner_state_t;

bool runner_succeeded(const runner_result_t *r)
{
    return r->outcome == RUNNER_EXITED && r->exit_code == 0;
}

static void runner_limit(int resource, int64_t value)
{
    if (value > 0) {
        struct rlimit rl = {(rlim_t)value, (rlim_t)value};
        setrlimit(resource, &rl);
    }
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void runner_child(const char *const argv[], const runner_limits_t *lim, int out_fd, int err_fd, pid_t parent)
{
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) /* the parent died before the line above */
        _exit(127);
    struct rlimit none = {0, 0};
    setrlimit(RLIMIT_CORE, &none);
    runner_limit(RLIMIT_AS, lim->address_space);
    runner_limit(RLIMIT_FSIZE, lim->file_size);
    runner_limit(RLIMIT_CPU, lim->cpu_seconds);
    if (lim->nice > 0)
        (void)!nice(lim->nice);
    int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
        _exit(127);
    close_range(3, ~0U, 0);
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], (char *const *)argv);
    static const char msg[] = "runner: exec failed\n";
    (void)!write(2, msg, sizeof(msg) - 1);
    _exit(127);
}

static void runner_on_block(void *arg, int64_t out_time_us, bool end)
{
    runner_state_t *st = arg;
    if (st->fn && !st->fn(st->arg, out_time_us, end))
        st->cancel = true;
}

/* Keeps the last RUNNER_STDERR_TAIL - 1 bytes of stderr. */
static void runner_tail(runner_state_t *st, const char *data, size_t len)
{
    size_t cap = sizeof(st->tail) - 1;
    if (len >= cap) {
        memcpy(st->tail, data + len - cap, cap);
        st->tail_len = cap;
        return;
    }
    size_t keep = st->tail_len + len > cap ? cap - len : st->tail_len;
    memmove(st->tail, st->tail + st->tail_len - keep, keep);
    memcpy(st->tail + keep, data, len);
    st->tail_len = keep + len;
}

static void runner_keep(runner_state_t *st, const char *data, size_t len)
{
    if (st->overflow || st->capture->len + len > st->capture_max || !buf_append(st->capture, data, len))
        st->overflow = true;
}

/* Reads what one pipe has; false at its end. */
static bool runner_drain(runner_state_t *st, int fd)
{
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0)
        return errno == EINTR || errno == EAGAIN;
    if (n == 0)
        return false;
    if (fd == st->out_fd && st->capture)
        runner_keep(st, buf, (size_t)n);
    else if (fd == st->out_fd)
        progress_feed(&st->progress, buf, (size_t)n);
    else
        runner_tail(st, buf, (size_t)n);
    return true;
}

/* Until both pipes close, the deadline passes or the callback cancels. */
static int runner_wait_pipes(runner_state_t *st, const runner_limits_t *limits)
{
    int64_t timeout_ms = limits->timeout_ms;
    int64_t deadline = timeout_ms > 0 ? timeutil_monotonic_ns() / 1000000 + timeout_ms : 0;
    struct pollfd p[2] = {{st->out_fd, POLLIN, 0}, {st->err_fd, POLLIN, 0}};
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        if (st->cancel || (limits->cancel && atomic_load(limits->cancel)))
            return RUNNER_CANCELED;
        if (deadline && timeutil_monotonic_ns() / 1000000 >= deadline)
            return RUNNER_TIMED_OUT;
        if (poll(p, 2, RUNNER_POLL_MS) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; i++)
            if (p[i].fd >= 0 && (p[i].revents & (POLLIN | POLLHUP | POLLERR)) && !runner_drain(st, p[i].fd))
                p[i].fd = -1;
    }
    return RUNNER_EXITED;
}

static void runner_reap(runner_state_t *st, int outcome, runner_result_t *out)
{
    if (outcome != RUNNER_EXITED)
        kill(-st->pid, SIGKILL); /* the whole group: ffmpeg and anything it started */
    int status = 0;
    while (waitpid(st->pid, &status, 0) < 0 && errno == EINTR)
        ;
    out->outcome = outcome;
    if (outcome == RUNNER_EXITED && WIFSIGNALED(status)) {
        out->outcome = RUNNER_SIGNALED;
        out->signal = WTERMSIG(status);
    } else if (outcome == RUNNER_EXITED) {
        out->exit_code = WEXITSTATUS(status);
    }
    memcpy(out->stderr_tail, st->tail, st->tail_len);
    out->stderr_tail[st->tail_len] = '\0';
}

static bool runner_start_failed(runner_result_t *out, const char *what, int fds[4])
{
    for (int i = 0; i < 4; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    out->outcome = RUNNER_START_FAILED;
    snprintf(out->stderr_tail, sizeof(out->stderr_tail), "runner: %s: %s", what, strerror(errno));
    return false;
}

static bool runner_start(const char *const argv[], const runner_limits_t *limits, runner_state_t *st,
                         runner_result_t *out)
{
    memset(out, 0, sizeof(*out));
    int fds[4] = {-1, -1, -1, -1}; /* out read, out write, err read, err write */
    if (pipe2(fds, O_CLOEXEC) != 0 || pipe2(fds + 2, O_CLOEXEC) != 0)
        return runner_start_failed(out, "pipe", fds);
    st->out_fd = fds[0];
    st->err_fd = fds[2];
    progress_init(&st->progress, runner_on_block, st);
    pid_t parent = getpid();
    st->pid = fork();
    if (st->pid < 0)
        return runner_start_failed(out, "fork", fds);
    if (st->pid == 0)
        runner_child(argv, limits, fds[1], fds[3], parent);
    setpgid(st->pid, st->pid); /* also here: a kill of the group must not come before the child's own call */
    close(fds[1]);
    close(fds[3]);
    int outcome = runner_wait_pipes(st, limits);
    runner_reap(st, outcome, out);
    close(fds[0]);
    close(fds[2]);
    return true;
}

bool runner_run(const char *const argv[], const runner_limits_t *limits, runner_progress_fn fn, void *arg,
                runner_result_t *out)
{
    runner_state_t st = {.fn = fn, .arg = arg};
    return runner_start(argv, limits, &st, out) && runner_succeeded(out);
}

bool runner_capture(const char *const argv[], const runner_limits_t *limits, buf_t *text, size_t max,
                    runner_result_t *out)
{
    runner_state_t st = {.capture = text, .capture_max = max};
    if (!runner_start(argv, limits, &st, out))
        return false;
    if (st.overflow && runner_succeeded(out)) {
        out->exit_code = -1;
        snprintf(out->stderr_tail, sizeof(out->stderr_tail), "runner: more than %zu bytes of output", max);
    }
    return runner_succeeded(out);
}
