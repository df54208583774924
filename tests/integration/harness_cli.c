/* harness_cli: the client commands as child processes; see harness_cli.h. */
#define _GNU_SOURCE /* setgroups */
#include "harness_cli.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"

#define HARNESS_CLI_MAX_ARGS 48
#define HARNESS_CLI_MAX_ENV 256

static int harness_cli_seq;

void harness_cli_result_free(harness_cli_result_t *r)
{
    free(r->out);
    free(r->err);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

static char *harness_cli_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    buf_t b;
    buf_init(&b, 0);
    buf_append(&b, "", 0);
    if (f) {
        char chunk[8192];
        size_t n;
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            buf_append(&b, chunk, n);
        fclose(f);
    }
    return buf_steal(&b);
}

/* Sets NAME=VALUE in env (replacing NAME), or removes NAME when the entry has no '='. */
static void harness_cli_env_set(char **env, size_t *n, const char *entry)
{
    size_t name_len = strcspn(entry, "=");
    for (size_t i = 0; i < *n; i++) {
        if (strncmp(env[i], entry, name_len) == 0 && env[i][name_len] == '=') {
            free(env[i]);
            env[i] = env[--*n];
            break;
        }
    }
    if (entry[name_len] == '=' && *n < HARNESS_CLI_MAX_ENV - 1)
        env[(*n)++] = strdup(entry);
    env[*n] = NULL;
}

/* Ours without VODUP_*, XDG_* and HOME; then HOME, the server, fast
 * retries, then the extras. */
static char **harness_cli_env(const harness_server_t *s, const harness_cli_opts_t *o)
{
    extern char **environ;
    char **env = calloc(HARNESS_CLI_MAX_ENV, sizeof(*env));
    if (!env)
        return NULL;
    size_t n = 0;
    for (char **e = environ; *e && n < HARNESS_CLI_MAX_ENV - 16; e++) {
        if (!strncmp(*e, "VODUP_", 6) || !strncmp(*e, "XDG_", 4) || !strncmp(*e, "HOME=", 5))
            continue;
        env[n++] = strdup(*e);
    }
    char line[512];
    snprintf(line, sizeof(line), "HOME=%s", o->home ? o->home : s->root);
    harness_cli_env_set(env, &n, line);
    if (o->server_env) {
        snprintf(line, sizeof(line), "VODUP_ENDPOINT=%s", s->base_url);
        harness_cli_env_set(env, &n, line);
        snprintf(line, sizeof(line), "VODUP_ACCESS_KEY=%s", s->key.access_key);
        harness_cli_env_set(env, &n, line);
        snprintf(line, sizeof(line), "VODUP_SECRET_KEY=%s", s->key.secret_key);
        harness_cli_env_set(env, &n, line);
    }
    harness_cli_env_set(env, &n, "VODUP_RETRY_BASE_MS=20");
    for (size_t i = 0; o->extra_env && o->extra_env[i]; i++)
        harness_cli_env_set(env, &n, o->extra_env[i]);
    return env;
}

static void harness_cli_env_free(char **env)
{
    for (size_t i = 0; env && env[i]; i++)
        free(env[i]);
    free(env);
}

bool harness_cli_start(harness_server_t *s, const harness_cli_opts_t *o, const char *const *args,
                       harness_cli_proc_t *p)
{
    const char *bin = o->argv0 ? o->argv0 : VODUP_BIN;
    char *argv[HARNESS_CLI_MAX_ARGS];
    int argc = 0;
    argv[argc++] = (char *)bin;
    for (size_t i = 0; args[i] && argc < HARNESS_CLI_MAX_ARGS - 1; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    int seq = __atomic_add_fetch(&harness_cli_seq, 1, __ATOMIC_RELAXED);
    char in_path[320];
    snprintf(in_path, sizeof(in_path), "%s/cli-%d.in", s->root, seq);
    snprintf(p->out_path, sizeof(p->out_path), "%s/cli-%d.out", s->root, seq);
    snprintf(p->err_path, sizeof(p->err_path), "%s/cli-%d.err", s->root, seq);
    if (o->input) {
        FILE *f = fopen(in_path, "w");
        if (!f)
            return false;
        fputs(o->input, f);
        fclose(f);
    }
    char **env = harness_cli_env(s, o);
    if (!env)
        return false;
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    p->pid = fork();
    if (p->pid == 0) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        int in = open(o->input ? in_path : "/dev/null", O_RDONLY);
        int out = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        int err = open(p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (in < 0 || out < 0 || err < 0)
            _exit(125);
        dup2(in, STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(err, STDERR_FILENO);
        if (o->as_nobody &&
            (setgroups(0, NULL) != 0 || setgid(HARNESS_CLI_NOBODY) != 0 || setuid(HARNESS_CLI_NOBODY) != 0))
            _exit(124);
        execve(bin, argv, env);
        _exit(127);
    }
    harness_cli_env_free(env);
    return p->pid > 0;
}

void harness_cli_finish(harness_cli_proc_t *p, int timeout_ms, harness_cli_result_t *r)
{
    memset(r, 0, sizeof(*r));
    int st = 0;
    int64_t deadline = harness_now_ms() + timeout_ms;
    r->status = -1;
    for (;;) {
        pid_t w = waitpid(p->pid, &st, WNOHANG);
        if (w == p->pid) {
            r->status = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
        if (harness_now_ms() > deadline) {
            fprintf(stderr, "test: vodup (pid %d) still runs after %d ms; killing it\n", (int)p->pid, timeout_ms);
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            break;
        }
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    p->pid = 0;
    r->out = harness_cli_read_file(p->out_path);
    r->err = harness_cli_read_file(p->err_path);
    r->json = json_loads(r->out, 0, NULL);
}

bool harness_cli_run(harness_server_t *s, const harness_cli_opts_t *o, const char *const *args, int timeout_ms,
                     harness_cli_result_t *r)
{
    harness_cli_proc_t p;
    if (!harness_cli_start(s, o, args, &p)) {
        memset(r, 0, sizeof(*r));
        r->status = -1;
        return false;
    }
    harness_cli_finish(&p, timeout_ms, r);
    return true;
}

char *harness_cli_home(harness_server_t *s)
{
    char *home = harness_strf("%s/home-%d", s->root, __atomic_add_fetch(&harness_cli_seq, 1, __ATOMIC_RELAXED));
    if (home && mkdir(home, 0700) != 0) {
        free(home);
        return NULL;
    }
    return home;
}
