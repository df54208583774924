/*
 * client_config.c: the client's configuration sources and its file paths;
 * see client_config.h.
 */
#include "client/client_config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLIENT_CONFIG_LINE_MAX 2048

static bool client_copy(char *out, size_t outlen, const char *value, const char *what, char *err, size_t errlen)
{
    size_t n = strlen(value);
    if (n >= outlen) {
        snprintf(err, errlen, "%s is too long (at most %zu bytes)", what, outlen - 1);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)value[i] < 0x20 || value[i] == 0x7f) {
            snprintf(err, errlen, "%s contains a control character", what);
            return false;
        }
    }
    memcpy(out, value, n + 1);
    return true;
}

bool client_endpoint_normalise(const char *in, char *out, size_t outlen, char *err, size_t errlen)
{
    char tmp[CLIENT_CONFIG_VALUE_MAX];
    while (*in == ' ' || *in == '\t')
        in++;
    size_t n = strlen(in);
    while (n > 0 && (in[n - 1] == '/' || in[n - 1] == ' ' || in[n - 1] == '\t'))
        n--;
    const char *scheme = "http://";
    const char *rest = in;
    if (strncasecmp(in, "http://", 7) == 0) {
        rest = in + 7;
    } else if (strncasecmp(in, "https://", 8) == 0) {
        scheme = "https://";
        rest = in + 8;
    } else if (strstr(in, "://")) {
        snprintf(err, errlen, "endpoint '%.*s': only http:// and https:// are supported", (int)(n > 200 ? 200 : n),
                 in);
        return false;
    }
    size_t rest_len = n - (size_t)(rest - in);
    if (rest_len == 0) {
        snprintf(err, errlen, "endpoint '%.*s' has no host", (int)(n > 200 ? 200 : n), in);
        return false;
    }
    for (size_t i = 0; i < rest_len; i++) {
        unsigned char c = (unsigned char)rest[i];
        if (c <= 0x20 || c >= 0x7f || strchr("/?#@\\", c)) {
            snprintf(err, errlen, "endpoint '%.*s' must be scheme://host[:port] without a path",
                     (int)(n > 200 ? 200 : n), in);
            return false;
        }
    }
    int w = snprintf(tmp, sizeof(tmp), "%s%.*s", scheme, (int)rest_len, rest);
    if (w < 0 || (size_t)w >= sizeof(tmp) || (size_t)w >= outlen) {
        snprintf(err, errlen, "endpoint is too long");
        return false;
    }
    memcpy(out, tmp, (size_t)w + 1);
    return true;
}

/* Trims spaces and tabs at both ends, in place. */
static char *client_trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

bool client_config_parse_line(client_config_t *cfg, const char *line, char *err, size_t errlen)
{
    char copy[CLIENT_CONFIG_LINE_MAX];
    if (strlen(line) >= sizeof(copy)) {
        snprintf(err, errlen, "line too long");
        return false;
    }
    memcpy(copy, line, strlen(line) + 1);
    char *s = client_trim(copy);
    if (*s == '\0' || *s == '#')
        return true;
    char *eq = strchr(s, '=');
    if (!eq) {
        snprintf(err, errlen, "expected 'name = value'");
        return false;
    }
    *eq = '\0';
    char *name = client_trim(s);
    char *value = client_trim(eq + 1);
    if (!strcmp(name, "endpoint"))
        return client_copy(cfg->endpoint, sizeof(cfg->endpoint), value, "endpoint", err, errlen);
    if (!strcmp(name, "access-key"))
        return client_copy(cfg->access_key, sizeof(cfg->access_key), value, "access-key", err, errlen);
    if (!strcmp(name, "secret-key"))
        return client_copy(cfg->secret_key, sizeof(cfg->secret_key), value, "secret-key", err, errlen);
    if (!strcmp(name, "cacert"))
        return client_copy(cfg->cacert, sizeof(cfg->cacert), value, "cacert", err, errlen);
    snprintf(err, errlen, "unknown key '%.64s' (expected endpoint, access-key, secret-key or cacert)", name);
    return false;
}

/* Reads the file at cfg->config_path.  *missing is set when it does not exist. */
static bool client_config_read_file(client_config_t *cfg, bool *missing, char *err, size_t errlen)
{
    *missing = false;
    FILE *f = fopen(cfg->config_path, "r");
    if (!f) {
        if (errno == ENOENT) {
            *missing = true;
            return true;
        }
        snprintf(err, errlen, "cannot read %s: %s", cfg->config_path, strerror(errno));
        return false;
    }
    char line[CLIENT_CONFIG_LINE_MAX];
    char why[256];
    int lineno = 0;
    bool ok = true;
    while (ok && fgets(line, sizeof(line), f)) {
        lineno++;
        if (!client_config_parse_line(cfg, line, why, sizeof(why))) {
            snprintf(err, errlen, "%s:%d: %s", cfg->config_path, lineno, why);
            ok = false;
        }
    }
    if (ok && ferror(f)) {
        snprintf(err, errlen, "cannot read %s", cfg->config_path);
        ok = false;
    }
    fclose(f);
    return ok;
}

static bool client_xdg_path(const char *xdg_var, const char *home_suffix, const char *tail, char *out,
                            size_t outlen)
{
    const char *xdg = getenv(xdg_var);
    int n;
    /* The XDG spec says a relative value is invalid and must be ignored. */
    if (xdg && xdg[0] == '/') {
        n = snprintf(out, outlen, "%s/vodup%s", xdg, tail);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return false;
        n = snprintf(out, outlen, "%s/%s/vodup%s", home, home_suffix, tail);
    }
    return n > 0 && (size_t)n < outlen;
}

bool client_config_default_path(char *out, size_t outlen)
{
    return client_xdg_path("XDG_CONFIG_HOME", ".config", "/config", out, outlen);
}

bool client_cache_dir(char *out, size_t outlen)
{
    return client_xdg_path("XDG_CACHE_HOME", ".cache", "", out, outlen);
}

bool client_config_load(client_config_t *cfg, const client_config_flags_t *flags, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    bool explicit_file = flags && flags->config_path;
    if (explicit_file) {
        if (!client_copy(cfg->config_path, sizeof(cfg->config_path), flags->config_path, "--config", err, errlen))
            return false;
    } else if (!client_config_default_path(cfg->config_path, sizeof(cfg->config_path))) {
        cfg->config_path[0] = '\0';
    }
    if (cfg->config_path[0]) {
        bool missing = false;
        if (!client_config_read_file(cfg, &missing, err, errlen))
            return false;
        if (missing && explicit_file) {
            snprintf(err, errlen, "config file %s does not exist", cfg->config_path);
            return false;
        }
    }
    static const struct {
        const char *env;
        size_t offset;
        const char *what;
    } env[] = {
        {"VODUP_ENDPOINT", offsetof(client_config_t, endpoint), "VODUP_ENDPOINT"},
        {"VODUP_ACCESS_KEY", offsetof(client_config_t, access_key), "VODUP_ACCESS_KEY"},
        {"VODUP_SECRET_KEY", offsetof(client_config_t, secret_key), "VODUP_SECRET_KEY"},
    };
    for (size_t i = 0; i < sizeof(env) / sizeof(env[0]); i++) {
        const char *v = getenv(env[i].env);
        if (v && *v && !client_copy((char *)cfg + env[i].offset, CLIENT_CONFIG_VALUE_MAX, v, env[i].what, err, errlen))
            return false;
    }
    const char *ca = getenv("VODUP_CACERT");
    if (ca && *ca && !client_copy(cfg->cacert, sizeof(cfg->cacert), ca, "VODUP_CACERT", err, errlen))
        return false;
    if (flags && flags->cacert && !client_copy(cfg->cacert, sizeof(cfg->cacert), flags->cacert, "--cacert", err, errlen))
        return false;
    if (flags) {
        if (flags->endpoint && !client_copy(cfg->endpoint, sizeof(cfg->endpoint), flags->endpoint, "--endpoint", err,
                                            errlen))
            return false;
        if (flags->access_key && !client_copy(cfg->access_key, sizeof(cfg->access_key), flags->access_key,
                                              "--access-key", err, errlen))
            return false;
        if (flags->secret_key && !client_copy(cfg->secret_key, sizeof(cfg->secret_key), flags->secret_key,
                                              "--secret-key", err, errlen))
            return false;
    }
    if (!cfg->endpoint[0])
        snprintf(cfg->endpoint, sizeof(cfg->endpoint), "%s", CLIENT_DEFAULT_ENDPOINT);
    return client_endpoint_normalise(cfg->endpoint, cfg->endpoint, sizeof(cfg->endpoint), err, errlen);
}

bool client_config_require_keys(const client_config_t *cfg, char *err, size_t errlen)
{
    const char *missing = !cfg->access_key[0] ? "an AccessKey" : !cfg->secret_key[0] ? "a SecretKey" : NULL;
    if (!missing)
        return true;
    snprintf(err, errlen,
             "no credentials: %s is missing; run 'vodup configure', set VODUP_ACCESS_KEY and VODUP_SECRET_KEY, "
             "or pass --access-key and --secret-key",
             missing);
    return false;
}

bool client_mkdirs(const char *dir)
{
    char path[CLIENT_PATH_MAX];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof(path))
        return false;
    memcpy(path, dir, n + 1);
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return false;
        *p = '/';
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST;
}

/* Writes all of buf to fd. */
static bool client_write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, buf, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        buf += w;
        len -= (size_t)w;
    }
    return true;
}

bool client_config_write(const client_config_t *cfg, char *err, size_t errlen)
{
    char dir[CLIENT_PATH_MAX], tmp[CLIENT_PATH_MAX + 16];
    char text[4 * CLIENT_CONFIG_VALUE_MAX + CLIENT_PATH_MAX];
    int fd = -1;
    bool ok = false;
    if (!cfg->config_path[0]) {
        snprintf(err, errlen, "no config file path: set HOME or XDG_CONFIG_HOME, or pass --config");
        return false;
    }
    snprintf(dir, sizeof(dir), "%s", cfg->config_path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (!client_mkdirs(dir)) {
            snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
            return false;
        }
    }
    int n = snprintf(text, sizeof(text),
                     "# vodup client configuration (written by 'vodup configure'; keep it private)\n"
                     "endpoint = %s\naccess-key = %s\nsecret-key = %s\n%s%s%s",
                     cfg->endpoint, cfg->access_key, cfg->secret_key, cfg->cacert[0] ? "cacert = " : "",
                     cfg->cacert, cfg->cacert[0] ? "\n" : "");
    if (n < 0 || (size_t)n >= sizeof(text)) {
        snprintf(err, errlen, "configuration too long");
        return false;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp%ld", cfg->config_path, (long)getpid());
    /* 0600 from the start: the secret is never readable by others, not even briefly. */
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return false;
    }
    if (fchmod(fd, 0600) != 0 || !client_write_all(fd, text, (size_t)n) || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, cfg->config_path) != 0) {
        snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, cfg->config_path, strerror(errno));
        goto out;
    }
    ok = true;
out:
    if (fd >= 0)
        close(fd);
    if (!ok)
        unlink(tmp);
    return ok;
}
