/*
 * harness.c: the integration-test harness; see harness.h.
 *
 * Process rules: the harness forks and execs VODUP_BIN, signals only the PIDs
 * it forked, and always reaps them.  Between fork and exec the child calls
 * async-signal-safe functions only, because the test process may have
 * threads (curl, the concurrency tests).
 */
#define _GNU_SOURCE /* pipe2, vasprintf, nftw */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <sqlite3.h>

#include "auth/ws3.h"
#include "common/buf.h"
#include "common/encoding.h"
#include "common/header_line.h"

#define HARNESS_MAX_ARGS 64
#define HARNESS_MAX_QUERY 64
#define HARNESS_ADMIN_TIMEOUT_MS 30000
#define HARNESS_CURL_TIMEOUT_S 60
#define HARNESS_LISTEN_PREFIX "vodup: listening on http://127.0.0.1:"

static pthread_once_t harness_curl_once = PTHREAD_ONCE_INIT;

/* Every server not stopped yet, so that a test that fails half-way (cmocka
 * jumps out of it) leaves no process and no directory behind. */
static pthread_mutex_t harness_servers_mu = PTHREAD_MUTEX_INITIALIZER;
static harness_server_t *harness_servers[64];

static void harness_servers_stop_all(void)
{
    for (size_t i = 0; i < sizeof(harness_servers) / sizeof(harness_servers[0]); i++)
        if (harness_servers[i])
            harness_server_stop(harness_servers[i]);
}

static void harness_servers_track(harness_server_t *s, bool add)
{
    pthread_mutex_lock(&harness_servers_mu);
    for (size_t i = 0; i < sizeof(harness_servers) / sizeof(harness_servers[0]); i++) {
        if (add && !harness_servers[i]) {
            harness_servers[i] = s;
            break;
        }
        if (!add && harness_servers[i] == s) {
            harness_servers[i] = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&harness_servers_mu);
}

static void harness_curl_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* atexit runs in reverse: servers stop first, then curl is released
     * (so that the sanitizer build sees no leak). */
    atexit(curl_global_cleanup);
    atexit(harness_servers_stop_all);
}

bool harness_process_gone(pid_t pid)
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

int64_t harness_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t harness_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void harness_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

char *harness_strf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0)
        out = NULL;
    va_end(ap);
    return out;
}

char *harness_escape(const char *s)
{
    buf_t b;
    buf_init(&b, 0);
    if (!encoding_percent_encode(s, strlen(s), &b) || !buf_append(&b, "", 0)) {
        buf_free(&b);
        return NULL;
    }
    if (!b.data)
        return strdup("");
    return buf_steal(&b);
}

char *harness_formv(const char *const *nv)
{
    buf_t b;
    buf_init(&b, 0);
    bool ok = buf_append(&b, "", 0);
    for (size_t i = 0; ok && nv[i] && nv[i + 1]; i += 2) {
        ok = (i == 0 || buf_append(&b, "&", 1)) && encoding_percent_encode(nv[i], strlen(nv[i]), &b) &&
             buf_append(&b, "=", 1) && encoding_percent_encode(nv[i + 1], strlen(nv[i + 1]), &b);
    }
    if (!ok) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

char *harness_form(const char *name, ...)
{
    const char *nv[HARNESS_MAX_ARGS];
    size_t n = 0;
    va_list ap;
    va_start(ap, name);
    for (const char *a = name; a && n < HARNESS_MAX_ARGS - 1; a = va_arg(ap, const char *))
        nv[n++] = a;
    va_end(ap);
    nv[n] = NULL;
    return harness_formv(nv);
}

bool harness_is_lower_hex(const char *s, size_t n)
{
    if (!s || strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

char *harness_url(const harness_server_t *s, const char *path)
{
    return harness_strf("%s%s", s->base_url, path);
}

/* ---- files --------------------------------------------------------------- */

char *harness_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    buf_t b;
    buf_init(&b, 0);
    char chunk[8192];
    size_t n;
    bool ok = buf_append(&b, "", 0);
    while (ok && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        ok = buf_append(&b, chunk, n);
    fclose(f);
    if (!ok) {
        buf_free(&b);
        return NULL;
    }
    return buf_steal(&b);
}

bool harness_write_file(const harness_server_t *s, const char *name, const void *data, size_t len, char *path,
                        size_t path_len)
{
    snprintf(path, path_len, "%s/%s", s->root, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return false;
    bool ok = fwrite(data, 1, len, f) == len;
    return fclose(f) == 0 && ok;
}

static int harness_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0)
        fprintf(stderr, "harness: cannot remove %s: %s\n", path, strerror(errno));
    return 0;
}

static void harness_rm_tree(const char *root)
{
    if (root[0] && strncmp(root, "/tmp/vodup-it-", 14) == 0)
        nftw(root, harness_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *harness_server_log(const harness_server_t *s)
{
    return harness_read_file(s->log_path);
}

bool harness_server_log_wait(const harness_server_t *s, const char *needle, int timeout_ms)
{
    int64_t deadline = harness_mono_ms() + timeout_ms;
    for (;;) {
        char *log = harness_server_log(s);
        bool found = log && strstr(log, needle);
        free(log);
        if (found)
            return true;
        if (harness_mono_ms() > deadline)
            return false;
        harness_sleep_ms(20);
    }
}

static void harness_print_log_tail(const harness_server_t *s)
{
    char *log = harness_server_log(s);
    if (!log)
        return;
    size_t n = strlen(log);
    const char *tail = n > 6000 ? log + n - 6000 : log;
    fprintf(stderr, "---- server log (%s), last part ----\n%s\n---- end of log ----\n", s->log_path, tail);
    free(log);
}

void harness_note_secret(harness_server_t *s, const char *secret)
{
    if (!secret || !*secret)
        return;
    pthread_mutex_lock(&s->mu);
    if (s->secret_count == s->secret_alloc) {
        size_t n = s->secret_alloc ? s->secret_alloc * 2 : 64;
        char **items = realloc(s->secrets, n * sizeof(*items));
        if (!items) {
            pthread_mutex_unlock(&s->mu);
            return;
        }
        s->secrets = items;
        s->secret_alloc = n;
    }
    char *copy = strdup(secret);
    if (copy)
        s->secrets[s->secret_count++] = copy;
    pthread_mutex_unlock(&s->mu);
}

const char *harness_log_find_secret(harness_server_t *s)
{
    const char *found = NULL;
    char *log = harness_server_log(s);
    if (!log)
        return NULL;
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->secret_count && !found; i++)
        if (strstr(log, s->secrets[i]))
            found = s->secrets[i];
    pthread_mutex_unlock(&s->mu);
    free(log);
    return found;
}

/* ---- processes ----------------------------------------------------------- */

/* fork + exec VODUP_BIN with argv; stdout to a new pipe (*out_fd), stderr
 * appended to stderr_path (NULL: inherited), stdin from /dev/null. */
static pid_t harness_spawn(char *const argv[], const char *stderr_path, int *out_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    if (pid == 0) {
        /* If the test process dies (a ctest timeout, a crash), the server
         * is told to stop instead of outliving it. */
        if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
            _exit(126);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        dup2(p[1], STDOUT_FILENO);
        if (stderr_path) {
            int fd = open(stderr_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0)
                dup2(fd, STDERR_FILENO);
        }
        execv(VODUP_BIN, argv);
        _exit(127);
    }
    close(p[1]);
    *out_fd = p[0];
    return pid;
}

/* Reads what is available on fd into b, waiting up to timeout_ms.
 * Returns 1 on data, 0 on timeout, -1 on EOF or error. */
static int harness_read_some(int fd, buf_t *b, int timeout_ms)
{
    struct pollfd pfd = {.fd = fd, .events = POLLIN};
    int r = poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    if (r == 0)
        return 0;
    char chunk[4096];
    ssize_t n = read(fd, chunk, sizeof(chunk));
    if (n < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (n == 0)
        return -1;
    return buf_append(b, chunk, (size_t)n) ? 1 : -1;
}

/* The value after "  Name: " on a line of text, copied into out. */
static bool harness_line_value(const char *text, const char *label, char *out, size_t outlen)
{
    const char *p = strstr(text, label);
    if (!p)
        return false;
    p += strlen(label);
    size_t n = strcspn(p, "\r\n");
    if (n == 0 || n >= outlen)
        return false;
    memcpy(out, p, n);
    out[n] = '\0';
    return true;
}

static bool harness_spawn_server(harness_server_t *s, const char *const *extra_args)
{
    char *argv[HARNESS_MAX_ARGS];
    int argc = 0;
    argv[argc++] = (char *)VODUP_BIN;
    argv[argc++] = (char *)"serve";
    argv[argc++] = (char *)"--listen";
    argv[argc++] = (char *)"127.0.0.1:0";
    argv[argc++] = (char *)"--data";
    argv[argc++] = s->data_dir;
    /* Most tests upload bytes that are not media: without processing their
     * videos stay `uploaded`, as those tests expect.  A test of processing
     * passes --processing on (a later flag wins). */
    argv[argc++] = (char *)"--processing";
    argv[argc++] = (char *)"off";
    for (size_t i = 0; extra_args && extra_args[i] && argc < HARNESS_MAX_ARGS - 1; i++)
        argv[argc++] = (char *)extra_args[i];
    argv[argc] = NULL;

    free(s->stdout_text);
    s->stdout_text = NULL;
    s->printed_key = false;
    s->pid = harness_spawn(argv, s->log_path, &s->stdout_fd);
    if (s->pid <= 0) {
        s->pid = 0;
        fprintf(stderr, "harness: cannot start %s: %s\n", VODUP_BIN, strerror(errno));
        return false;
    }

    buf_t out;
    buf_init(&out, 0);
    buf_append(&out, "", 0);
    bool ok = false;
    int64_t deadline = harness_mono_ms() + HARNESS_START_TIMEOUT_MS;
    const char *line = NULL;
    while (!(line = strstr(out.data, HARNESS_LISTEN_PREFIX)) || !strchr(line, '\n')) {
        int64_t left = deadline - harness_mono_ms();
        if (left <= 0) {
            fprintf(stderr, "harness: no listening line after %d ms\n", HARNESS_START_TIMEOUT_MS);
            goto out;
        }
        if (harness_read_some(s->stdout_fd, &out, (int)(left > 200 ? 200 : left)) < 0) {
            fprintf(stderr, "harness: the server closed its stdout before listening\n");
            goto out;
        }
    }
    s->port = atoi(line + strlen(HARNESS_LISTEN_PREFIX));
    if (s->port <= 0 || s->port > 65535) {
        fprintf(stderr, "harness: bad listening line\n");
        goto out;
    }
    snprintf(s->host, sizeof(s->host), "127.0.0.1:%d", s->port);
    snprintf(s->base_url, sizeof(s->base_url), "http://127.0.0.1:%d", s->port);
    harness_key_t key;
    if (harness_line_value(out.data, "  AccessKey: ", key.access_key, sizeof(key.access_key)) &&
        harness_line_value(out.data, "  SecretKey: ", key.secret_key, sizeof(key.secret_key))) {
        s->key = key;
        s->printed_key = true;
        harness_note_secret(s, key.secret_key);
    }
    ok = true;
out:
    s->stdout_text = buf_steal(&out);
    if (!ok) {
        fprintf(stderr, "harness: server stdout so far:\n%s\n", s->stdout_text ? s->stdout_text : "");
        harness_print_log_tail(s);
        harness_server_terminate(s);
    }
    return ok;
}

harness_server_t *harness_server_start(const char *const *extra_args)
{
    pthread_once(&harness_curl_once, harness_curl_init);
    harness_server_t *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->stdout_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    harness_servers_track(s, true);
    snprintf(s->root, sizeof(s->root), "/tmp/vodup-it-XXXXXX");
    if (!mkdtemp(s->root)) {
        fprintf(stderr, "harness: mkdtemp: %s\n", strerror(errno));
        s->root[0] = '\0';
        harness_server_stop(s);
        return NULL;
    }
    snprintf(s->data_dir, sizeof(s->data_dir), "%s/data", s->root);
    snprintf(s->log_path, sizeof(s->log_path), "%s/server.log", s->root);
    if (!harness_spawn_server(s, extra_args)) {
        harness_server_stop(s);
        return NULL;
    }
    return s;
}

bool harness_server_restart(harness_server_t *s, const char *const *extra_args)
{
    if (s->pid > 0)
        return false;
    return harness_spawn_server(s, extra_args);
}

bool harness_server_signal(harness_server_t *s, int sig)
{
    return s->pid > 0 && kill(s->pid, sig) == 0;
}

static int harness_wait_pid(pid_t pid, int timeout_ms, bool *killed)
{
    int st = 0;
    int64_t deadline = harness_mono_ms() + timeout_ms;
    *killed = false;
    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR)
            return -1;
        if (harness_mono_ms() > deadline && !*killed) {
            fprintf(stderr, "harness: pid %d did not exit in %d ms; sending SIGKILL\n", (int)pid, timeout_ms);
            kill(pid, SIGKILL);
            *killed = true;
        }
        harness_sleep_ms(5);
    }
    if (WIFEXITED(st))
        return WEXITSTATUS(st);
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return -1;
}

int harness_server_wait(harness_server_t *s, int timeout_ms)
{
    if (s->pid <= 0)
        return 0;
    bool killed;
    int status = harness_wait_pid(s->pid, timeout_ms, &killed);
    s->pid = 0;
    if (s->stdout_fd >= 0) {
        close(s->stdout_fd);
        s->stdout_fd = -1;
    }
    if (killed)
        status = -1;
    if (status != 0) {
        fprintf(stderr, "harness: the server exited with status %d\n", status);
        harness_print_log_tail(s);
    }
    return status;
}

int harness_server_terminate(harness_server_t *s)
{
    if (s->pid <= 0)
        return 0;
    if (!harness_server_signal(s, SIGTERM))
        fprintf(stderr, "harness: kill(%d, SIGTERM): %s\n", (int)s->pid, strerror(errno));
    return harness_server_wait(s, HARNESS_STOP_TIMEOUT_MS);
}

int harness_server_finish(harness_server_t *s)
{
    int rc = 0;
    const char *leak = s ? harness_log_find_secret(s) : NULL;
    if (leak) {
        fprintf(stderr, "the server log holds a secret, signature or token: %.12s...\n", leak);
        rc = -1;
    }
    if (harness_server_stop(s) != 0)
        rc = -1;
    return rc;
}

int harness_server_stop(harness_server_t *s)
{
    if (!s)
        return 0;
    int status = harness_server_terminate(s);
    harness_rm_tree(s->root);
    harness_servers_track(s, false);
    for (size_t i = 0; i < s->secret_count; i++)
        free(s->secrets[i]);
    free(s->secrets);
    free(s->stdout_text);
    pthread_mutex_destroy(&s->mu);
    free(s);
    return status;
}

/* ---- vodup admin --------------------------------------------------------- */

int harness_adminv(const harness_server_t *s, char **out, const char *const *args)
{
    char *argv[HARNESS_MAX_ARGS];
    int argc = 0;
    argv[argc++] = (char *)VODUP_BIN;
    argv[argc++] = (char *)"admin";
    argv[argc++] = (char *)"--data";
    argv[argc++] = (char *)s->data_dir;
    for (size_t i = 0; args && args[i] && argc < HARNESS_MAX_ARGS - 1; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    if (out)
        *out = NULL;

    int fd = -1;
    pid_t pid = harness_spawn(argv, NULL, &fd);
    if (pid <= 0)
        return -1;
    buf_t b;
    buf_init(&b, 0);
    buf_append(&b, "", 0);
    int64_t deadline = harness_mono_ms() + HARNESS_ADMIN_TIMEOUT_MS;
    while (harness_mono_ms() < deadline && harness_read_some(fd, &b, 200) >= 0) {
    }
    close(fd);
    bool killed;
    int status = harness_wait_pid(pid, (int)(deadline - harness_mono_ms()) + 1000, &killed);
    if (status != 0)
        fprintf(stderr, "harness: vodup admin %s %s ... exited %d; stdout:\n%s\n", args && args[0] ? args[0] : "",
                args && args[0] && args[1] ? args[1] : "", status, b.data ? b.data : "");
    if (out)
        *out = buf_steal(&b);
    else
        buf_free(&b);
    return killed ? -1 : status;
}

int harness_admin(const harness_server_t *s, char **out, ...)
{
    const char *args[HARNESS_MAX_ARGS];
    size_t n = 0;
    va_list ap;
    va_start(ap, out);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && n < HARNESS_MAX_ARGS - 1)
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;
    return harness_adminv(s, out, args);
}

/* Finds a string member whose name, without '_' and case, equals `want`. */
static const char *harness_json_find_key(json_t *o, const char *want)
{
    const char *name;
    json_t *v;
    json_object_foreach(o, name, v) {
        char flat[64];
        size_t k = 0;
        for (size_t i = 0; name[i] && k + 1 < sizeof(flat); i++)
            if (name[i] != '_' && name[i] != '-')
                flat[k++] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
        flat[k] = '\0';
        if (strcmp(flat, want) == 0 && json_is_string(v))
            return json_string_value(v);
        if (json_is_object(v)) {
            const char *inner = harness_json_find_key(v, want);
            if (inner)
                return inner;
        }
    }
    return NULL;
}

bool harness_admin_key_create(harness_server_t *s, const char *account, harness_key_t *out)
{
    char *text = NULL;
    bool ok = false;
    int status = harness_admin(s, &text, "key", "create", "--name", account, "--json", NULL);
    json_t *root = NULL;
    if (status != 0 || !text)
        goto out;
    root = json_loads(text, 0, NULL);
    if (!json_is_object(root)) {
        fprintf(stderr, "harness: key create printed no JSON object: %s\n", text);
        goto out;
    }
    const char *ak = harness_json_find_key(root, "accesskey");
    const char *sk = harness_json_find_key(root, "secretkey");
    if (!ak || !sk || strlen(ak) >= sizeof(out->access_key) || strlen(sk) >= sizeof(out->secret_key)) {
        fprintf(stderr, "harness: key create JSON lacks accessKey/secretKey: %s\n", text);
        goto out;
    }
    snprintf(out->access_key, sizeof(out->access_key), "%s", ak);
    snprintf(out->secret_key, sizeof(out->secret_key), "%s", sk);
    harness_note_secret(s, sk);
    ok = true;
out:
    json_decref(root);
    free(text);
    return ok;
}

/* ---- the database -------------------------------------------------------- */

int harness_db_exec(const harness_server_t *s, const char *sql, const char *arg1, const char *arg2)
{
    char path[400];
    snprintf(path, sizeof(path), "%s/vodup.db", s->data_dir);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int changes = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        goto out;
    sqlite3_busy_timeout(db, 10000);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        goto out;
    if (arg1)
        sqlite3_bind_text(st, 1, arg1, -1, SQLITE_TRANSIENT);
    if (arg2)
        sqlite3_bind_text(st, 2, arg2, -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    if (rc == SQLITE_DONE)
        changes = sqlite3_changes(db);
out:
    if (changes < 0)
        fprintf(stderr, "harness: sqlite (%s): %s\n", sql, db ? sqlite3_errmsg(db) : "cannot open");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return changes;
}

/* ---- requests ------------------------------------------------------------ */

typedef struct harness_sign_ctx {
    const char *host;
    const char *content_type;
    const char *access_key;
    const char *timestamp;
    const char *const *extra_headers;
    char scratch[512];
} harness_sign_ctx_t;

static const char *harness_header_lookup(void *ctx, const char *lowercase_name)
{
    harness_sign_ctx_t *c = ctx;
    if (strcmp(lowercase_name, "host") == 0)
        return c->host;
    if (strcmp(lowercase_name, "content-type") == 0)
        return c->content_type;
    if (strcmp(lowercase_name, "x-ws-accesskey") == 0)
        return c->access_key;
    if (strcmp(lowercase_name, "x-ws-timestamp") == 0)
        return c->timestamp;
    size_t n = strlen(lowercase_name);
    for (size_t i = 0; c->extra_headers && c->extra_headers[i]; i++) {
        const char *h = c->extra_headers[i];
        if (strncasecmp(h, lowercase_name, n) == 0 && h[n] == ':') {
            const char *v = h + n + 1;
            while (*v == ' ')
                v++;
            snprintf(c->scratch, sizeof(c->scratch), "%s", v);
            return c->scratch;
        }
    }
    return NULL;
}

/* Decoded query pairs of the path's query string; the strings are owned by
 * `store` (each pair's name and value are NUL-terminated copies). */
static size_t harness_query_pairs(const char *path, ws3_pair_t *pairs, char **store, size_t max)
{
    const char *q = strchr(path, '?');
    size_t count = 0;
    if (!q || !q[1])
        return 0;
    char *copy = strdup(q + 1);
    if (!copy)
        return 0;
    *store = copy;
    char *save = NULL;
    for (char *seg = strtok_r(copy, "&", &save); seg && count < max; seg = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(seg, '=');
        if (eq)
            *eq = '\0';
        size_t nlen = encoding_form_unescape(seg, strlen(seg));
        pairs[count].name = seg;
        pairs[count].name_len = nlen;
        if (eq) {
            size_t vlen = encoding_form_unescape(eq + 1, strlen(eq + 1));
            pairs[count].value = eq + 1;
            pairs[count].value_len = vlen;
        } else {
            pairs[count].value = NULL;
            pairs[count].value_len = 0;
        }
        count++;
    }
    return count;
}

static bool harness_sign(harness_server_t *s, const harness_request_t *req, const char *method, const char *ak,
                         const char *sk, const char *ts, const char *signed_headers, char sig[65])
{
    const char *path = req->signed_path ? req->signed_path : req->path;
    const char *body = req->signed_body ? req->signed_body : req->body;
    size_t body_len = 0;
    if (req->signed_body)
        body_len = strlen(req->signed_body);
    else if (req->body)
        body_len = req->body_len ? req->body_len : strlen(req->body);
    char path_only[2048];
    snprintf(path_only, sizeof(path_only), "%.*s", (int)strcspn(path, "?"), path);

    ws3_pair_t pairs[HARNESS_MAX_QUERY];
    char *store = NULL;
    size_t count = harness_query_pairs(path, pairs, &store, HARNESS_MAX_QUERY);
    harness_sign_ctx_t ctx = {.host = s->host,
                              .content_type = req->content_type,
                              .access_key = ak,
                              .timestamp = ts,
                              .extra_headers = req->extra_headers};
    ws3_request_t w = {.method = method,
                       .path = path_only,
                       .query = pairs,
                       .query_count = count,
                       .header_lookup = harness_header_lookup,
                       .header_ctx = &ctx};
    unsigned int dlen = 0;
    bool ok = EVP_Digest(body ? body : "", body_len, w.body_sha256, &dlen, EVP_sha256(), NULL) == 1 &&
              ws3_sign(&w, signed_headers, ts, sk, sig);
    free(store);
    return ok;
}

static bool harness_slist_add(struct curl_slist **list, const char *line)
{
    struct curl_slist *n = curl_slist_append(*list, line);
    if (!n)
        return false;
    *list = n;
    return true;
}

static bool harness_slist_addf(struct curl_slist **list, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static bool harness_slist_addf(struct curl_slist **list, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    return harness_slist_add(list, line);
}

static const char *harness_method(const harness_request_t *req)
{
    return req->method ? req->method : req->body ? "POST" : "GET";
}

struct curl_slist *harness_request_headers(harness_server_t *s, const harness_request_t *req, char *signature)
{
    const harness_key_t *key = req->key ? req->key : &s->key;
    struct curl_slist *h = NULL;
    bool ok = true;
    char ts[32];
    char sig[65] = "";
    if (req->timestamp)
        snprintf(ts, sizeof(ts), "%s", req->timestamp);
    else
        snprintf(ts, sizeof(ts), "%lld", (long long)(time(NULL) + req->timestamp_offset));
    const char *signed_headers = req->signed_headers ? req->signed_headers
                                                     : req->body ? "content-type;host" : "host";

    if (req->content_type)
        ok = ok && harness_slist_addf(&h, "Content-Type: %s", req->content_type);
    else if (req->body)
        ok = ok && harness_slist_add(&h, "Content-Type:"); /* curl would add its own */
    bool expect = false;
    for (size_t i = 0; req->extra_headers && req->extra_headers[i]; i++) {
        ok = ok && harness_slist_add(&h, req->extra_headers[i]);
        expect = expect || strncasecmp(req->extra_headers[i], "Expect:", 7) == 0;
    }
    if (!expect)
        ok = ok && harness_slist_add(&h, "Expect:");
    if (!(req->omit & HARNESS_OMIT_ACCESS_KEY))
        ok = ok && harness_slist_addf(&h, "X-WS-AccessKey: %s", key->access_key);
    if (!(req->omit & HARNESS_OMIT_TIMESTAMP))
        ok = ok && harness_slist_addf(&h, "X-WS-Timestamp: %s", ts);
    if (!(req->omit & HARNESS_OMIT_AUTHORIZATION)) {
        if (req->authorization) {
            ok = ok && harness_slist_addf(&h, "Authorization: %s", req->authorization);
        } else {
            const char *sk = req->sign_secret ? req->sign_secret : key->secret_key;
            const char *method = req->signed_method ? req->signed_method : harness_method(req);
            if (!harness_sign(s, req, method, key->access_key, sk, ts, signed_headers, sig)) {
                fprintf(stderr, "harness: ws3_sign failed\n");
                ok = false;
            } else {
                harness_note_secret(s, sig);
                ok = ok && harness_slist_addf(&h, "Authorization: " WS3_ALGORITHM
                                                  " Credential=%s, SignedHeaders=%s, Signature=%s",
                                              req->credential ? req->credential : key->access_key,
                                              signed_headers, sig);
            }
        }
    }
    if (!ok) {
        curl_slist_free_all(h);
        return NULL;
    }
    if (signature)
        snprintf(signature, 65, "%s", sig);
    return h;
}

static size_t harness_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    buf_t *b = arg;
    return buf_append(b, data, size * nmemb) ? size * nmemb : 0;
}

static size_t harness_header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    harness_response_t *r = arg;
    size_t len = size * nmemb;
    /* A status line starts a new header block (after "100 Continue"). */
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        r->request_id[0] = r->allow[0] = r->connection[0] = r->content_type[0] = '\0';
        return len;
    }
    header_line_value(data, len, "X-Request-Id", r->request_id, sizeof(r->request_id));
    header_line_value(data, len, "Allow", r->allow, sizeof(r->allow));
    header_line_value(data, len, "Connection", r->connection, sizeof(r->connection));
    header_line_value(data, len, "Content-Type", r->content_type, sizeof(r->content_type));
    return len;
}

void harness_response_free(harness_response_t *r)
{
    if (!r)
        return;
    free(r->body);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

bool harness_request(harness_server_t *s, const harness_request_t *req, harness_response_t *resp)
{
    pthread_once(&harness_curl_once, harness_curl_init);
    memset(resp, 0, sizeof(*resp));
    bool ok = false;
    buf_t body;
    buf_init(&body, 0);
    buf_append(&body, "", 0);
    char *url = harness_url(s, req->path);
    struct curl_slist *headers = harness_request_headers(s, req, resp->signature);
    CURL *c = curl_easy_init();
    if (!url || !headers || !c)
        goto out;
    const char *method = harness_method(req);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)HARNESS_CURL_TIMEOUT_S);
    curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, harness_write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, harness_header_cb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    if (req->body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)(req->body_len ? req->body_len : strlen(req->body)));
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    resp->curl_code = curl_easy_perform(c);
    if (resp->curl_code != CURLE_OK) {
        if (!req->quiet)
            fprintf(stderr, "harness: %s %s: %s\n", method, req->path, curl_easy_strerror(resp->curl_code));
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->body_len = body.len;
    resp->body = buf_steal(&body);
    resp->json = json_loadb(resp->body, resp->body_len, 0, NULL);
    ok = true;
out:
    if (!resp->body) {
        resp->body = buf_steal(&body);
        if (!resp->body)
            resp->body = strdup("");
    }
    buf_free(&body);
    curl_easy_cleanup(c);
    curl_slist_free_all(headers);
    free(url);
    return ok;
}

long harness_poll_status(harness_server_t *s, const harness_request_t *req, long want, int timeout_ms,
                         int64_t *elapsed_ms)
{
    int64_t start = harness_mono_ms();
    long status = 0;
    for (;;) {
        harness_response_t r;
        harness_request(s, req, &r);
        status = r.status;
        harness_response_free(&r);
        if (status == want || harness_mono_ms() - start > timeout_ms)
            break;
        harness_sleep_ms(20);
    }
    if (elapsed_ms)
        *elapsed_ms = harness_mono_ms() - start;
    return status;
}

bool harness_call(harness_server_t *s, const harness_key_t *key, const char *method, const char *path,
                  const char *body, const char *content_type, harness_response_t *resp)
{
    harness_request_t req = {
        .method = method, .path = path, .body = body, .content_type = content_type, .key = key};
    return harness_request(s, &req, resp);
}

json_t *harness_api_at(harness_server_t *s, const harness_key_t *key, const char *name, const char *form,
                       long want_http, const char *file, int line)
{
    char *path = harness_strf("/vod/videoManage/%s", name);
    harness_response_t r;
    json_t *d = NULL;
    if (!harness_call(s, key, "POST", path, form, HARNESS_FORM, &r))
        fail_msg("%s:%d: POST %s did not complete", file, line, path);
    if (want_http == 200) {
        harness_assert_ok_at(&r, file, line);
        d = json_incref(harness_data(&r));
    } else {
        harness_assert_error_at(&r, want_http, want_http, file, line);
    }
    harness_response_free(&r);
    free(path);
    return d;
}

bool harness_upload_token(harness_server_t *s, const harness_key_t *key, const char *form,
                          harness_response_t *resp)
{
    return harness_call(s, key, "POST", HARNESS_PATH_TOKEN, form, HARNESS_FORM, resp);
}

bool harness_video_info(harness_server_t *s, const harness_key_t *key, const char *video_id,
                        harness_response_t *resp)
{
    char *escaped = harness_escape(video_id);
    char *path = harness_strf("%s?videoId=%s", HARNESS_PATH_INFO, escaped ? escaped : "");
    bool ok = path && harness_call(s, key, "GET", path, NULL, NULL, resp);
    free(path);
    free(escaped);
    return ok;
}

/* ---- JSON helpers and assertions ----------------------------------------- */

json_t *harness_data(const harness_response_t *r)
{
    json_t *d = r->json ? json_object_get(r->json, "data") : NULL;
    return json_is_object(d) ? d : NULL;
}

const char *harness_json_str(const json_t *obj, const char *key)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void harness_fail(const harness_response_t *r, const char *file, int line, const char *what)
{
    print_error("%s:%d: %s\n  HTTP %ld, X-Request-Id '%s', body: %.600s\n", file, line, what, r->status,
                r->request_id, r->body ? r->body : "(none)");
    _fail(file, line);
}

void harness_assert_error_at(const harness_response_t *r, long http, long code, const char *file, int line)
{
    char what[256];
    if (r->status != http) {
        snprintf(what, sizeof(what), "expected HTTP %ld", http);
        harness_fail(r, file, line, what);
    }
    if (!json_is_object(r->json) || json_object_size(r->json) != 3)
        harness_fail(r, file, line, "expected a JSON object of exactly code, message, requestId");
    json_t *c = json_object_get(r->json, "code");
    if (!json_is_integer(c) || json_integer_value(c) != code) {
        snprintf(what, sizeof(what), "expected code %ld", code);
        harness_fail(r, file, line, what);
    }
    const char *msg = harness_json_str(r->json, "message");
    if (!msg || !*msg)
        harness_fail(r, file, line, "expected a non-empty message");
    const char *rid = harness_json_str(r->json, "requestId");
    if (!harness_is_lower_hex(r->request_id, 24))
        harness_fail(r, file, line, "expected an X-Request-Id header of 24 lowercase hex digits");
    if (!rid || strcmp(rid, r->request_id) != 0)
        harness_fail(r, file, line, "expected requestId equal to X-Request-Id");
    if (strncmp(r->content_type, "application/json", 16) != 0)
        harness_fail(r, file, line, "expected Content-Type application/json");
}

void harness_assert_ok_at(const harness_response_t *r, const char *file, int line)
{
    if (r->status != 200)
        harness_fail(r, file, line, "expected HTTP 200");
    json_t *c = r->json ? json_object_get(r->json, "code") : NULL;
    if (!json_is_integer(c) || json_integer_value(c) != 200)
        harness_fail(r, file, line, "expected code 200");
    const char *msg = harness_json_str(r->json, "message");
    if (!msg || strcmp(msg, "Operation successfully") != 0)
        harness_fail(r, file, line, "expected message \"Operation successfully\"");
    if (!harness_data(r))
        harness_fail(r, file, line, "expected a data object");
    if (!harness_is_lower_hex(r->request_id, 24))
        harness_fail(r, file, line, "expected an X-Request-Id header of 24 lowercase hex digits");
}
