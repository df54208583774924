/*
 * test_cli_faults: the `vodup upload` client over a network that breaks, and
 * the fault-injecting proxy (tests/tools/faultproxy.c) the test uses for it.
 *
 * The client's contract (the issue): credentials and endpoint from
 * VODUP_ACCESS_KEY / VODUP_SECRET_KEY / VODUP_ENDPOINT; getUploadToken with
 * fileSize and fileMd5; mkblk/bput/mkfile, N blocks in parallel; resume
 * records under $XDG_CACHE_HOME/vodup; retries with backoff on 5xx and
 * network errors, stops on 4xx; with --json one final JSON line on stdout
 * (videoId, fileKey, etag, size, bytesSent, resumedBytes, playUrl); exit 0
 * when done, else non-zero with a one-line reason on stderr.
 *
 * How the upload traffic reaches the proxy: getUploadToken's uploadUrl is
 * the server's --public-url, so that must name the proxy, and the proxy must
 * name the server; both ports are ephemeral.  The proxy is started first with
 * TARGET "-" (it listens and prints its port, then waits for the target on
 * stdin, holding early connections in its backlog), the server second with
 * --public-url http://127.0.0.1:<proxy port>, and then the proxy is told the
 * server's port.  Restarting the server instead would move it to a new
 * ephemeral port (the harness always listens on port 0), and binding a port
 * chosen in advance could race with other processes.
 *
 * Every client run gets HOME and XDG_CACHE_HOME in the test's own temporary
 * directory (so no resume record of another run is found) and no *_proxy
 * variables (libcurl would obey them).
 *
 * Until `vodup upload` exists, the client tests fail at the step that runs
 * it, saying "vodup upload exited 2: unknown command"; everything before
 * that step (proxy, server, file, fault rules) runs.
 */
#define _GNU_SOURCE /* environ, pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

#ifndef VODUP_TOOL_FAULTPROXY
#error "VODUP_TOOL_FAULTPROXY (the path of tests/tools/faultproxy) is set by CMakeLists.txt"
#endif

#define MIB HARNESS_MIB
#define UPLOAD_SIZE (24 * MIB)
#define PROXY_START_MS 10000
#define PROXY_STOP_MS 10000
#define CLI_TIMEOUT_MS 180000   /* retries with backoff, under the sanitizers */
#define CLI_4XX_LIMIT_MS 20000  /* a 4xx must not be retried for long */
#define PROXY_LISTEN_PREFIX "faultproxy: listening on 127.0.0.1:"
#define PROXY_DROP_TEXT " dropped after "

extern char **environ;

/* ---- one test's resources (freed by teardown even when an assertion jumps out) ---- */

typedef struct proxy {
    pid_t pid;    /* 0 when not running */
    int stdin_fd; /* write end of its stdin, -1 when closed */
    int port;
    char out_path[128]; /* its stdout and stderr */
} proxy_t;

typedef struct cli_result {
    int status; /* exit status; -1 when it had to be killed */
    char *out;  /* stdout, malloc'd */
    char *err;  /* stderr, malloc'd */
    int64_t elapsed_ms;
} cli_result_t;

typedef struct fixture {
    char dir[64];
    proxy_t proxy;
    harness_server_t *srv;
    cli_result_t cli;  /* the latest run of vodup upload */
    uint8_t *data;     /* the uploaded file's bytes */
    char *public_url;
} fixture_t;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* The whole file as a NUL-terminated string; malloc'd, caller frees.  NULL if unreadable. */
static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    char chunk[8192];
    size_t n;
    while (m && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    if (!m)
        return NULL;
    fclose(m);
    return text;
}

static bool write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Waits up to timeout_ms for pid, then SIGKILLs it.  The exit status
 * (0..255), 128+N when killed by signal N, -1 when it had to be killed. */
static int wait_pid(pid_t pid, int timeout_ms)
{
    int st = 0;
    int64_t deadline = mono_ms() + timeout_ms;
    bool killed = false;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (!killed && mono_ms() > deadline) {
            fprintf(stderr, "test: pid %d did not exit in %d ms; sending SIGKILL\n", (int)pid, timeout_ms);
            kill(pid, SIGKILL);
            killed = true;
        }
        sleep_ms(5);
    }
    if (killed)
        return -1;
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

/* ---- the proxy ---------------------------------------------------------------- */

static void proxy_print_output(const proxy_t *p)
{
    char *out = read_text(p->out_path);
    fprintf(stderr, "---- faultproxy output (%s) ----\n%s---- end ----\n", p->out_path, out ? out : "");
    free(out);
}

/*
 * Starts faultproxy TARGET [args...] (args NULL-terminated, may be NULL) with
 * its output in f->dir/faultproxy.out and waits for its port.  TARGET "-":
 * give the target later with proxy_set_target().
 */
static bool proxy_start(fixture_t *f, const char *target, const char *const *args)
{
    proxy_t *p = &f->proxy;
    const char *argv[32];
    int argc = 0;
    argv[argc++] = VODUP_TOOL_FAULTPROXY;
    for (size_t i = 0; args && args[i] && argc < 30; i++)
        argv[argc++] = args[i];
    argv[argc++] = target;
    argv[argc] = NULL;

    snprintf(p->out_path, sizeof(p->out_path), "%s/faultproxy.out", f->dir);
    int out = open(p->out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int in[2];
    if (out < 0)
        return false;
    if (pipe2(in, O_CLOEXEC) != 0) {
        close(out);
        return false;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        /* async-signal-safe calls only: the test process may have threads */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(126);
        dup2(in[0], STDIN_FILENO);
        dup2(out, STDOUT_FILENO);
        dup2(out, STDERR_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out);
    if (pid < 0) {
        close(in[1]);
        return false;
    }
    p->pid = pid;
    p->stdin_fd = in[1];

    int64_t deadline = mono_ms() + PROXY_START_MS;
    while (mono_ms() < deadline) {
        char *text = read_text(p->out_path);
        const char *line = text ? strstr(text, PROXY_LISTEN_PREFIX) : NULL;
        if (line && strchr(line, '\n'))
            p->port = atoi(line + strlen(PROXY_LISTEN_PREFIX));
        free(text);
        if (p->port > 0)
            return true;
        if (waitpid(pid, NULL, WNOHANG) == pid) {
            p->pid = 0;
            break;
        }
        sleep_ms(10);
    }
    fprintf(stderr, "test: faultproxy printed no listening line\n");
    proxy_print_output(p);
    return false;
}

static bool proxy_set_target(proxy_t *p, int port)
{
    char line[64];
    int n = snprintf(line, sizeof(line), "127.0.0.1:%d\n", port);
    return write(p->stdin_fd, line, (size_t)n) == n;
}

/* SIGTERM; returns its exit status (printing its output when not 0). */
static int proxy_stop(proxy_t *p)
{
    if (p->stdin_fd >= 0) {
        close(p->stdin_fd);
        p->stdin_fd = -1;
    }
    if (p->pid <= 0)
        return 0;
    kill(p->pid, SIGTERM);
    int status = wait_pid(p->pid, PROXY_STOP_MS);
    p->pid = 0;
    if (status != 0) {
        fprintf(stderr, "test: faultproxy exited with status %d\n", status);
        proxy_print_output(p);
    }
    return status;
}

/* How many drop lines the proxy has printed. */
static int proxy_drops(const proxy_t *p)
{
    char *text = read_text(p->out_path);
    int n = 0;
    for (const char *s = text; s && (s = strstr(s, PROXY_DROP_TEXT)) != NULL; s++)
        n++;
    free(text);
    return n;
}

static bool proxy_said(const proxy_t *p, const char *needle)
{
    char *text = read_text(p->out_path);
    bool found = text && strstr(text, needle);
    free(text);
    return found;
}

/* ---- fixtures ------------------------------------------------------------------ */

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    f->proxy.stdin_fd = -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/vodup-cli-XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    if (f->proxy.pid > 0 || f->proxy.stdin_fd >= 0)
        proxy_stop(&f->proxy);
    harness_server_stop(f->srv);
    free(f->cli.out);
    free(f->cli.err);
    free(f->data);
    free(f->public_url);
    if (strncmp(f->dir, "/tmp/vodup-cli-", 15) == 0)
        nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f);
    return 0;
}

/* ---- vodup upload ----------------------------------------------------------------- */

/* A copy of this process's environment without the variables that would
 * change the client's behaviour, plus `extra` (NULL-terminated); the array
 * is malloc'd, the strings are not copied. */
static char **cli_env(const char *const *extra)
{
    static const char *const drop[] = {"VODUP_", "HOME=", "XDG_CACHE_HOME=", "http_proxy=", "HTTP_PROXY=",
                                       "https_proxy=", "HTTPS_PROXY=", "all_proxy=", "ALL_PROXY=", "no_proxy=",
                                       "NO_PROXY=", NULL};
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    for (size_t i = 0; extra[i]; i++)
        n++;
    char **env = calloc(n + 1, sizeof(*env));
    if (!env)
        return NULL;
    for (size_t i = 0; environ[i]; i++) {
        bool keep = true;
        for (size_t d = 0; drop[d] && keep; d++)
            keep = strncmp(environ[i], drop[d], strlen(drop[d])) != 0;
        if (keep)
            env[k++] = environ[i];
    }
    for (size_t i = 0; extra[i]; i++)
        env[k++] = (char *)extra[i];
    env[k] = NULL;
    return env;
}

/*
 * Runs `vodup upload args...` with VODUP_ENDPOINT=endpoint and the key's
 * credentials in the environment, HOME and XDG_CACHE_HOME under f->dir.
 */
static void cli_run(const fixture_t *f, const char *endpoint, const harness_key_t *key, const char *const *args,
                    cli_result_t *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof(*r));
    r->status = -1;
    char home[128], cache[128], out_path[128], err_path[128];
    snprintf(home, sizeof(home), "%s/home", f->dir);
    snprintf(cache, sizeof(cache), "%s/cache", f->dir);
    snprintf(out_path, sizeof(out_path), "%s/cli.out", f->dir);
    snprintf(err_path, sizeof(err_path), "%s/cli.err", f->dir);
    mkdir(home, 0700);
    mkdir(cache, 0700);

    char *e_home = harness_strf("HOME=%s", home);
    char *e_cache = harness_strf("XDG_CACHE_HOME=%s", cache);
    char *e_endpoint = harness_strf("VODUP_ENDPOINT=%s", endpoint);
    char *e_ak = harness_strf("VODUP_ACCESS_KEY=%s", key->access_key);
    char *e_sk = harness_strf("VODUP_SECRET_KEY=%s", key->secret_key);
    const char *extra[] = {e_home, e_cache, e_endpoint, e_ak, e_sk, "NO_PROXY=*", NULL};
    char **env = e_home && e_cache && e_endpoint && e_ak && e_sk ? cli_env(extra) : NULL;

    const char *argv[32];
    int argc = 0;
    argv[argc++] = VODUP_BIN;
    argv[argc++] = "upload";
    for (size_t i = 0; args[i] && argc < 31; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;

    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    pid_t pid = -1;
    int64_t t0 = mono_ms();
    if (env && out >= 0 && err >= 0) {
        fflush(stdout);
        fflush(stderr);
        pid_t parent = getpid();
        pid = fork();
        if (pid == 0) {
            if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
                _exit(126);
            int devnull = open("/dev/null", O_RDONLY);
            if (devnull >= 0)
                dup2(devnull, STDIN_FILENO);
            dup2(out, STDOUT_FILENO);
            dup2(err, STDERR_FILENO);
            execve(argv[0], (char *const *)argv, env);
            _exit(127);
        }
    }
    if (out >= 0)
        close(out);
    if (err >= 0)
        close(err);
    if (pid > 0)
        r->status = wait_pid(pid, CLI_TIMEOUT_MS);
    else
        fprintf(stderr, "test: cannot run %s upload\n", VODUP_BIN);
    r->elapsed_ms = mono_ms() - t0;
    r->out = read_text(out_path);
    r->err = read_text(err_path);
    free(env);
    free(e_home);
    free(e_cache);
    free(e_endpoint);
    free(e_ak);
    free(e_sk);
}

/* The first non-empty line of text (its reason), copied into buf. */
static const char *first_line(const char *text, char *buf, size_t len)
{
    const char *p = text ? text : "";
    while (*p == '\n' || *p == '\r')
        p++;
    size_t n = strcspn(p, "\r\n");
    snprintf(buf, len, "%.*s", (int)n, p);
    return buf;
}

/* The last non-empty line of text (the client's final reason, after any
 * progress lines), copied into buf. */
static const char *last_line(const char *text, char *buf, size_t len)
{
    const char *t = text ? text : "";
    size_t end = strlen(t);
    while (end > 0 && (t[end - 1] == '\n' || t[end - 1] == '\r'))
        end--;
    size_t start = end;
    while (start > 0 && t[start - 1] != '\n')
        start--;
    snprintf(buf, len, "%.*s", (int)(end - start), t + start);
    return buf;
}

/* True when the binary does not know the command at all (the client is
 * not there yet): then no other outcome of the run means anything. */
static bool cli_unknown_command(const cli_result_t *r)
{
    return r->status == 2 && r->err && strstr(r->err, "unknown command");
}

/* Fails the test unless the client existed and exited 0. */
static void assert_cli_ok(const cli_result_t *r)
{
    char reason[300];
    if (cli_unknown_command(r))
        fail_msg("vodup upload exited 2: unknown command (this vodup has no upload command yet: '%s')",
                 first_line(r->err, reason, sizeof(reason)));
    if (r->status != 0) {
        fprintf(stderr, "---- vodup upload stdout ----\n%s---- stderr ----\n%s---- end ----\n", r->out ? r->out : "",
                r->err ? r->err : "");
        fail_msg("vodup upload exited %d after %lld ms: %s", r->status, (long long)r->elapsed_ms,
                 last_line(r->err, reason, sizeof(reason)));
    }
}

/* The last non-empty line of stdout as a JSON object; the caller decrefs. */
static json_t *cli_json(const cli_result_t *r)
{
    const char *text = r->out ? r->out : "";
    size_t end = strlen(text);
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r'))
        end--;
    size_t start = end;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    json_error_t e;
    json_t *j = json_loadb(text + start, end - start, 0, &e);
    if (!json_is_object(j)) {
        json_decref(j);
        fail_msg("vodup upload --json: the last line of stdout is not a JSON object (%s): '%.*s'", e.text,
                 (int)(end - start), text + start);
    }
    return j;
}

static json_int_t json_int_member(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v))
        fail_msg("vodup upload --json: \"%s\" is missing or not an integer", name);
    return json_integer_value(v);
}

static const char *json_str_member(const json_t *o, const char *name)
{
    const char *v = harness_json_str(o, name);
    if (!v || !*v)
        fail_msg("vodup upload --json: \"%s\" is missing or not a non-empty string", name);
    return v;
}

/* ---- a small libcurl client for the proxy's own tests ------------------------------- */

typedef struct fetch {
    long status; /* 0 when the transfer failed */
    CURLcode code;
    char body[4096];
    size_t body_len;
} fetch_t;

static size_t fetch_write(char *data, size_t size, size_t nmemb, void *arg)
{
    fetch_t *f = arg;
    size_t n = size * nmemb, room = sizeof(f->body) - 1 - f->body_len;
    memcpy(f->body + f->body_len, data, n < room ? n : room);
    f->body_len += n < room ? n : room;
    f->body[f->body_len] = '\0';
    return n;
}

/*
 * One request on handle c (NULL: a new handle, so a new connection).  With
 * a body: POST it with the extra header `header` (may be NULL).
 */
static void fetch(CURL *c, const char *url, const char *header, const void *body, size_t body_len, fetch_t *out)
{
    memset(out, 0, sizeof(*out));
    CURL *own = c ? NULL : curl_easy_init();
    CURL *h = c ? c : own;
    struct curl_slist *hdrs = NULL;
    if (!h) {
        out->code = CURLE_FAILED_INIT;
        return;
    }
    curl_easy_reset(h);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, fetch_write);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, out);
    if (header)
        hdrs = curl_slist_append(hdrs, header);
    hdrs = curl_slist_append(hdrs, "Expect:");
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    out->code = curl_easy_perform(h);
    if (out->code == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hdrs);
    if (own)
        curl_easy_cleanup(own);
}

static char *proxy_url(const proxy_t *p, const char *path)
{
    return harness_strf("http://127.0.0.1:%d%s", p->port, path);
}

/* Starts a server and a proxy aimed at it with the fault flags `args`. */
static void start_server_and_proxy(fixture_t *f, const char *const *args)
{
    f->srv = harness_server_start(NULL);
    assert_non_null(f->srv);
    char target[32];
    snprintf(target, sizeof(target), "127.0.0.1:%d", f->srv->port);
    assert_true(proxy_start(f, target, args));
}

/* ---- the proxy's own tests -------------------------------------------------------- */

/*
 * Without fault flags the proxy is transparent: /healthz answers as it does
 * directly, and an 8 MiB mkblk arrives intact (the server's MD5 checksum of
 * the block matches).  It exits 0 on SIGTERM with a kept-alive connection
 * still open.
 */
static void test_proxy_passes_traffic_through(void **state)
{
    fixture_t *f = *state;
    start_server_and_proxy(f, NULL);

    fetch_t direct, via;
    char *health = harness_url(f->srv, "/healthz");
    char *health_via = proxy_url(&f->proxy, "/healthz");
    fetch(NULL, health, NULL, NULL, 0, &direct);
    assert_int_equal(direct.code, CURLE_OK);
    assert_int_equal(direct.status, 200);

    CURL *kept = curl_easy_init();
    assert_non_null(kept);
    fetch(kept, health_via, NULL, NULL, 0, &via);
    assert_int_equal(via.code, CURLE_OK);
    assert_int_equal(via.status, 200);
    assert_string_equal(via.body, direct.body);

    /* Bulk bytes both ways through the proxy, on the same connection. */
    const size_t len = 8 * MIB;
    uint8_t *block = harness_pattern(len, 7);
    assert_non_null(block);
    harness_grant_t g;
    assert_true(harness_grant(f->srv, NULL, &g));
    char *auth = harness_strf("Authorization: UpToken %s", g.token);
    char *mkblk = proxy_url(&f->proxy, "/mkblk/8388608/0");
    fetch(kept, mkblk, auth, block, len, &via);
    assert_int_equal(via.code, CURLE_OK);
    assert_int_equal(via.status, 200);
    json_t *answer = json_loads(via.body, 0, NULL);
    char md5[33];
    harness_md5_hex(block, len, md5);
    assert_non_null(harness_json_str(answer, "checksum"));
    assert_string_equal(harness_json_str(answer, "checksum"), md5);
    assert_int_equal(json_integer_value(json_object_get(answer, "offset")), (json_int_t)len);
    json_decref(answer);

    assert_int_equal(proxy_drops(&f->proxy), 0);
    assert_int_equal(proxy_stop(&f->proxy), 0); /* `kept` still holds its connection */
    assert_true(proxy_said(&f->proxy, " connections, 0 dropped\n"));
    curl_easy_cleanup(kept);
    free(mkblk);
    free(auth);
    free(block);
    free(health);
    free(health_via);
}

/* --drop-after-bytes: a request longer than N bytes fails on the client. */
static void test_proxy_drop_after_bytes_breaks_the_request(void **state)
{
    fixture_t *f = *state;
    const char *args[] = {"--drop-after-bytes", "10", NULL};
    start_server_and_proxy(f, args);

    fetch_t via;
    char *url = proxy_url(&f->proxy, "/healthz");
    fetch(NULL, url, NULL, NULL, 0, &via);
    if (via.code == CURLE_OK)
        fail_msg("GET /healthz through a proxy that drops after 10 bytes succeeded (HTTP %ld)", via.status);
    assert_int_equal(via.status, 0);
    assert_int_equal(proxy_drops(&f->proxy), 1);
    assert_true(proxy_said(&f->proxy, "faultproxy: connection 1 dropped after 10 bytes from the client"));
    assert_int_equal(proxy_stop(&f->proxy), 0);
    free(url);
}

/* --drop-every 2 --drop-count 1: of four connections only the second fails. */
static void test_proxy_drop_every_and_count(void **state)
{
    fixture_t *f = *state;
    const char *args[] = {"--drop-after-bytes", "10", "--drop-every", "2", "--drop-count", "1", NULL};
    start_server_and_proxy(f, args);

    char *url = proxy_url(&f->proxy, "/healthz");
    for (int i = 1; i <= 4; i++) {
        fetch_t via;
        fetch(NULL, url, NULL, NULL, 0, &via); /* a new handle: a new connection */
        bool ok = via.code == CURLE_OK && via.status == 200;
        if (ok != (i != 2))
            fail_msg("connection %d: expected %s, got curl code %d, HTTP %ld", i, i == 2 ? "a failure" : "200",
                     (int)via.code, via.status);
    }
    assert_int_equal(proxy_stop(&f->proxy), 0);
    assert_int_equal(proxy_drops(&f->proxy), 1);
    assert_true(proxy_said(&f->proxy, "faultproxy: connection 2 dropped after 10 bytes"));
    assert_true(proxy_said(&f->proxy, "faultproxy: exiting: 4 connections, 1 dropped"));
    free(url);
}

/* ---- vodup upload ------------------------------------------------------------------ */

/*
 * A 24 MiB file in 4 MiB blocks, 4 at a time, through a proxy that resets
 * every second connection once it has carried 1.5 MiB + 7 bytes from the
 * client (mid-body of a block), three times in all, so a client that retries
 * a block at least three times survives even if every drop hits the same
 * block.  The upload still finishes; the server holds exactly the file.
 */
static void test_upload_survives_dropped_connections(void **state)
{
    fixture_t *f = *state;
    const char *args[] = {"--drop-after-bytes", "1572871", "--drop-every", "2", "--drop-count", "3", NULL};
    assert_true(proxy_start(f, "-", args));
    f->public_url = harness_strf("http://127.0.0.1:%d", f->proxy.port);
    const char *server_args[] = {"--public-url", f->public_url, NULL};
    f->srv = harness_server_start(server_args);
    assert_non_null(f->srv);
    assert_true(proxy_set_target(&f->proxy, f->srv->port));

    const uint8_t *data = f->data = harness_pattern(UPLOAD_SIZE, 24);
    assert_non_null(data);
    char path[128];
    snprintf(path, sizeof(path), "%s/clip.mp4", f->dir);
    assert_true(write_bytes(path, data, UPLOAD_SIZE));

    cli_result_t *r = &f->cli;
    const char *cli_args[] = {path, "--json", "--concurrency", "4", "--block-size", "4", NULL};
    cli_run(f, f->public_url, &f->srv->key, cli_args, r);
    assert_cli_ok(r);

    int drops = proxy_drops(&f->proxy);
    if (drops < 1) {
        proxy_print_output(&f->proxy);
        fail_msg("the proxy dropped no connection, so this run proved nothing (did the client use one connection?)");
    }
    fprintf(stderr, "test: the upload finished in %lld ms through %d dropped connection(s)\n",
            (long long)r->elapsed_ms, drops);

    json_t *j = cli_json(r);
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, UPLOAD_SIZE, etag);
    assert_int_equal(json_int_member(j, "size"), UPLOAD_SIZE);
    assert_true(json_int_member(j, "bytesSent") >= UPLOAD_SIZE); /* every block went whole at least once */
    assert_int_equal(json_int_member(j, "resumedBytes"), 0);    /* a fresh cache: nothing to resume */
    assert_string_equal(json_str_member(j, "etag"), etag);
    json_str_member(j, "playUrl");
    const char *video_id = json_str_member(j, "videoId");

    harness_response_t info;
    json_t *v = assert_uploaded(f->srv, NULL, video_id, data, UPLOAD_SIZE, NULL, &info);
    assert_string_equal(harness_json_str(v, "fileKey"), json_str_member(j, "fileKey"));
    harness_response_free(&info);
    json_decref(j);

    assert_int_equal(proxy_stop(&f->proxy), 0);
}

/*
 * A wrong SecretKey: getUploadToken answers 401, which no retry can fix, so
 * the client stops at once with a non-zero status and a reason on stderr.
 */
static void test_upload_stops_on_4xx(void **state)
{
    fixture_t *f = *state;
    f->srv = harness_server_start(NULL);
    assert_non_null(f->srv);
    const size_t len = 1 * MIB;
    const uint8_t *data = f->data = harness_pattern(len, 4);
    assert_non_null(data);
    char path[128];
    snprintf(path, sizeof(path), "%s/small.mp4", f->dir);
    assert_true(write_bytes(path, data, len));

    harness_key_t wrong = f->srv->key;
    wrong.secret_key[0] = wrong.secret_key[0] == 'A' ? 'B' : 'A';
    cli_result_t *r = &f->cli;
    const char *cli_args[] = {path, "--json", NULL};
    cli_run(f, f->srv->base_url, &wrong, cli_args, r);
    char reason[300];
    if (cli_unknown_command(r))
        fail_msg("vodup upload exited 2: unknown command (this vodup has no upload command yet: '%s')",
                 first_line(r->err, reason, sizeof(reason)));
    if (r->status == 0 || r->status == -1)
        fail_msg("vodup upload with a wrong SecretKey: expected a non-zero exit, got %d after %lld ms", r->status,
                 (long long)r->elapsed_ms);
    if (r->status >= 128)
        fail_msg("vodup upload died of signal %d", r->status - 128);
    if (!*last_line(r->err, reason, sizeof(reason)))
        fail_msg("vodup upload exited %d with nothing on stderr", r->status);
    if (r->elapsed_ms > CLI_4XX_LIMIT_MS)
        fail_msg("vodup upload took %lld ms to give up on a 401: a 4xx must not be retried",
                 (long long)r->elapsed_ms);
    fprintf(stderr, "test: wrong SecretKey: exit %d in %lld ms: %s\n", r->status, (long long)r->elapsed_ms, reason);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_proxy_passes_traffic_through, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proxy_drop_after_bytes_breaks_the_request, setup, teardown),
        cmocka_unit_test_setup_teardown(test_proxy_drop_every_and_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_survives_dropped_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_upload_stops_on_4xx, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
