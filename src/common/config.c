/* config: option table, file loader, validation; see config.h. */
#include "common/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum config_type { CONFIG_STR, CONFIG_INT, CONFIG_BOOL, CONFIG_LISTEN };

typedef struct config_option {
    const char *name;
    int type;
    size_t offset;
    const char *default_value;
    int64_t min, max;
    const char *help;
} config_option_t;

#define OFF(f) offsetof(config_t, f)

static const config_option_t config_options[] = {
    {"listen", CONFIG_LISTEN, 0, "127.0.0.1:8080", 0, 0, "address and port to listen on (port 0: any free port)"},
    {"data", CONFIG_STR, OFF(data_dir), "./data", 0, 0, "data directory: vodup.db, blocks and objects"},
    {"blob-dir", CONFIG_STR, OFF(blob_dir), "", 0, 0,
     "directory for upload bytes (blocks, staging, objects); default: the data directory. A separate disk keeps "
     "SQLite's commits from queueing behind upload data"},
    {"public-url", CONFIG_STR, OFF(public_url), "", 0, 0,
     "public base URL of this server, returned as uploadUrl and in playUrl (default: the X-Forwarded-Proto and Host "
     "a trusted proxy sends, else http://LISTEN)"},
    {"trusted-proxies", CONFIG_STR, OFF(trusted_proxies), "", 0, 0,
     "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are "
     "believed (logs, connections-per-ip, generated URLs); empty: none (see docs/deploy.md)"},
    {"clock-skew", CONFIG_INT, OFF(clock_skew), "300", 1, 86400, "accepted X-WS-Timestamp distance, seconds"},
    {"api-body-limit", CONFIG_INT, OFF(api_body_limit), "65536", 1024, 16777216,
     "largest API request body, bytes (413 above)"},
    {"token-lifetime", CONFIG_INT, OFF(token_lifetime), "3600", 60, 2592000, "upload token lifetime, seconds"},
    {"max-upload-size", CONFIG_INT, OFF(max_upload_size), "68719476736", 1, INT64_MAX,
     "largest video accepted, bytes (fileSize above it: 1610)"},
    {"media-extensions", CONFIG_STR, OFF(media_extensions),
     "mp4,m4v,mov,mkv,webm,avi,flv,f4v,wmv,asf,mpg,mpeg,ts,mts,m2ts,3gp,3g2,ogv,mxf,vob,rm,rmvb,"
     "m3u8,mp3,m4a,aac,wav,flac,ogg,oga,opus,wma,amr,ape",
     0, 0, "accepted originFileName extensions, comma-separated"},
    {"rate-limit", CONFIG_INT, OFF(rate_limit), "1000", 0, 100000000,
     "API requests per second per AccessKey, 0 = unlimited (429 above)"},
    {"rate-burst", CONFIG_INT, OFF(rate_burst), "2000", 1, 100000000, "requests an AccessKey may burst"},
    {"key-cache-ttl", CONFIG_INT, OFF(key_cache_ttl), "1000", 0, 60000,
     "ms an AccessKey lookup is reused; a key disabled with vodup admin stops working within this (0 = off)"},
    {"http-threads", CONFIG_INT, OFF(http_threads), "4", 1, 256,
     "HTTP event-loop threads; about twice the cores: a thread whose connection waits on a commit or a disk write "
     "leaves others to serve"},
    {"read-threads", CONFIG_INT, OFF(read_threads), "4", 1, 256,
     "threads for getVideoInfo/getVideoList queries, so a slow listing never stalls HTTP"},
    {"connection-limit", CONFIG_INT, OFF(connection_limit), "1024", 1, 65536, "concurrent connections"},
    {"connection-timeout", CONFIG_INT, OFF(connection_timeout), "60", 1, 86400,
     "idle connection timeout, seconds"},
    {"header-timeout", CONFIG_INT, OFF(header_timeout), "10", 1, 3600,
     "seconds a client has from connecting to sending a complete request head; then the connection is closed"},
    {"connections-per-ip", CONFIG_INT, OFF(connections_per_ip), "64", 1, 65536,
     "concurrent connections from one client address; more are refused"},
    {"shutdown-timeout", CONFIG_INT, OFF(shutdown_timeout), "30", 0, 3600,
     "on SIGTERM, seconds to let in-flight requests finish"},
    {"db-sync", CONFIG_STR, OFF(db_sync), "full", 0, 0,
     "SQLite durability: full (fsync every group commit) or normal"},
    {"speed-domain-url", CONFIG_STR, OFF(speed_domain_url), "", 0, 0, "speedDomainlUrl returned by getUploadToken"},
    {"http-dns-server", CONFIG_STR, OFF(http_dns_server), "", 0, 0, "httpDnsServer returned by getUploadToken"},
    {"cors-origins", CONFIG_STR, OFF(cors_origins), "*", 0, 0,
     "origins allowed to upload from a browser: * or a comma-separated list of exact origins"},
    {"max-block-size", CONFIG_INT, OFF(max_block_size), "1073741824", 1, INT64_MAX,
     "largest mkblk blockSize, bytes (400 above)"},
    {"block-max-age", CONFIG_INT, OFF(block_max_age), "604800", 60, 31536000,
     "seconds an unfinished block (and its ctx) is kept after its last write; then swept"},
    {"registration-ttl", CONFIG_INT, OFF(registration_ttl), "0", 0, 31536000,
     "seconds a registration never uploaded is kept, from its last getUploadToken; 0: token-lifetime + "
     "block-max-age"},
    {"sweep-interval", CONFIG_INT, OFF(sweep_interval), "3600", 1, 86400,
     "seconds between sweeps (expired registrations and blocks, orphaned objects)"},
    {"upload-threads", CONFIG_INT, OFF(upload_threads), "4", 1, 256,
     "threads for fsync, assembling and publishing uploads, so they never stall HTTP"},
    {"hash-threads", CONFIG_INT, OFF(hash_threads), "2", 1, 256,
     "threads that compute each chunk's MD5 while HTTP threads receive and write it"},
    {"max-staged-per-account", CONFIG_INT, OFF(max_staged_per_account), "137438953472", 1, INT64_MAX,
     "bytes of unfinished uploads (blocks not yet in a file, forms being received) one account may hold (413 above)"},
    {"max-staged-per-token", CONFIG_INT, OFF(max_staged_per_token), "68719476736", 1, INT64_MAX,
     "the same bound per upload token (413 above)"},
    {"max-tus-uploads-per-file", CONFIG_INT, OFF(max_tus_uploads_per_file), "64", 1, 1000000,
     "unfinished tus uploads one fileKey may have at once (403 above)"},
    {"preauth-spool", CONFIG_INT, OFF(preauth_spool), "8388608", 0, INT64_MAX,
     "form-upload file bytes accepted before the token field, per request (401 above)"},
    {"preauth-spool-total", CONFIG_INT, OFF(preauth_spool_total), "67108864", 0, INT64_MAX,
     "the same bound over all requests together (503 above)"},
    {"playback", CONFIG_STR, OFF(playback), "public", 0, 0,
     "GET/HEAD /<fileKey> serves published objects: public or off"},
    {"play-url-ttl", CONFIG_INT, OFF(play_url_ttl), "3600", 60, 604800,
     "seconds the signed URLs in getVideoInfo, getVideoList and webhook events stay valid (signed playback)"},
    {"processing", CONFIG_BOOL, OFF(processing), "on", 0, 0,
     "run processing tasks on this node (on/off); off still queues them, for nodes that run them"},
    {"processing-workers", CONFIG_INT, OFF(processing_workers), "1", 1, 64,
     "tasks run at once; each ffmpeg uses every core, so 1 per 2-4 cores"},
    {"ffmpeg", CONFIG_STR, OFF(ffmpeg), "/usr/bin/ffmpeg", 0, 0, "the ffmpeg program"},
    {"ffprobe", CONFIG_STR, OFF(ffprobe), "/usr/bin/ffprobe", 0, 0, "the ffprobe program"},
    {"max-source-pixels", CONFIG_INT, OFF(max_source_pixels), "8847360", 16, 268435456,
     "largest source picture processed, width x height (default 4096x2160); larger ones fail with probe:"},
    {"processing-nice", CONFIG_INT, OFF(processing_nice), "10", 0, 19,
     "niceness added to ffmpeg and ffprobe, so HTTP threads keep the CPU they need"},
    {"processing-timeout", CONFIG_INT, OFF(processing_timeout), "300", 1, 86400,
     "seconds an ffmpeg run may take, plus 8 per second of source and output; then it is killed and retried"},
    {"webhook-workers", CONFIG_INT, OFF(webhook_workers), "4", 0, 64,
     "webhook deliveries sent at once by this node; 0: none (another node sends them)"},
    {"webhook-connect-timeout", CONFIG_INT, OFF(webhook_connect_timeout), "5000", 100, 60000,
     "milliseconds to connect to a webhook receiver"},
    {"webhook-timeout", CONFIG_INT, OFF(webhook_timeout), "10000", 100, 300000,
     "milliseconds a webhook delivery may take in all; then it is retried later"},
    {"webhook-allow-hosts", CONFIG_STR, OFF(webhook_allow_hosts), "", 0, 0,
     "comma-separated hosts (or *.suffix) webhooks may be sent to; empty: any (see docs/security.md)"},
    {"webhook-retry-first", CONFIG_INT, OFF(webhook_retry_first), "10000", 10, 3600000,
     "milliseconds before a failed delivery's second attempt; later waits double from it (to 1 h, 39 attempts)"},
    {"callback-allow-hosts", CONFIG_STR, OFF(callback_allow_hosts), "", 0, 0,
     "comma-separated hosts (or *.suffix) that token minters' URLs (callbackUrl, persistentNotifyUrl, notifyURL) "
     "may name; empty: any (see docs/security.md)"},
    {"callback-timeout", CONFIG_INT, OFF(callback_timeout), "10000", 100, 60000,
     "milliseconds an upload callback may take in all; then the uploader gets 579"},
    {"metrics-listen", CONFIG_STR, OFF(metrics_listen), "", 0, 0,
     "HOST:PORT of a separate listener answering GET /metrics (Prometheus text format); empty: no metrics"},
    {"ready-min-free", CONFIG_INT, OFF(ready_min_free), "268435456", 0, INT64_MAX,
     "bytes that must be free where the database and the objects live for GET /readyz to answer 200"},
    {"log-level", CONFIG_STR, OFF(log_level), "info", 0, 0, "debug, info, warn or error"},
    {"access-log", CONFIG_BOOL, OFF(access_log), "on", 0, 0, "one JSON line per request on stderr (on/off)"},
};

#define CONFIG_OPTION_COUNT (sizeof(config_options) / sizeof(config_options[0]))

static const config_option_t *config_find(const char *name)
{
    for (size_t i = 0; i < CONFIG_OPTION_COUNT; i++)
        if (strcmp(config_options[i].name, name) == 0)
            return &config_options[i];
    return NULL;
}

bool config_is_option(const char *name)
{
    return config_find(name) != NULL;
}

bool config_split_hostport(const char *name, const char *value, char **host_out, int *port_out, char *err,
                           size_t errlen)
{
    const char *colon = strrchr(value, ':');
    if (!colon || colon == value) {
        snprintf(err, errlen, "%s: expected HOST:PORT, got '%s'", name, value);
        return false;
    }
    char *end;
    errno = 0;
    long port = strtol(colon + 1, &end, 10);
    if (errno || *end || end == colon + 1 || port < 0 || port > 65535) {
        snprintf(err, errlen, "%s: bad port in '%s'", name, value);
        return false;
    }
    const char *host = value;
    size_t hlen = (size_t)(colon - value);
    if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
        host++;
        hlen -= 2;
    }
    char *h = strndup(host, hlen);
    if (!h)
        return false;
    *host_out = h;
    *port_out = (int)port;
    return true;
}

static bool config_parse_listen(config_t *c, const char *value, char *err, size_t errlen)
{
    char *host;
    int port;
    if (!config_split_hostport("listen", value, &host, &port, err, errlen))
        return false;
    free(c->listen_host);
    c->listen_host = host;
    c->listen_port = port;
    return true;
}

bool config_set(config_t *c, const char *name, const char *value, char *err, size_t errlen)
{
    const config_option_t *o = config_find(name);
    if (!o) {
        snprintf(err, errlen, "unknown option '%s'", name);
        return false;
    }
    switch (o->type) {
    case CONFIG_LISTEN:
        return config_parse_listen(c, value, err, errlen);
    case CONFIG_STR: {
        char **slot = (char **)((char *)c + o->offset);
        char *v = strdup(value);
        if (!v)
            return false;
        free(*slot);
        *slot = v;
        return true;
    }
    case CONFIG_INT: {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || *end || end == value || v < o->min || v > o->max) {
            snprintf(err, errlen, "%s: expected an integer in %lld..%lld, got '%s'", name, (long long)o->min,
                     (long long)o->max, value);
            return false;
        }
        *(int64_t *)((char *)c + o->offset) = v;
        return true;
    }
    case CONFIG_BOOL: {
        bool *slot = (bool *)((char *)c + o->offset);
        if (!strcasecmp(value, "on") || !strcasecmp(value, "true") || !strcmp(value, "1") ||
            !strcasecmp(value, "yes"))
            *slot = true;
        else if (!strcasecmp(value, "off") || !strcasecmp(value, "false") || !strcmp(value, "0") ||
                 !strcasecmp(value, "no"))
            *slot = false;
        else {
            snprintf(err, errlen, "%s: expected on or off, got '%s'", name, value);
            return false;
        }
        return true;
    }
    }
    return false;
}

void config_defaults(config_t *c)
{
    memset(c, 0, sizeof(*c));
    char err[256];
    for (size_t i = 0; i < CONFIG_OPTION_COUNT; i++)
        (void)config_set(c, config_options[i].name, config_options[i].default_value, err, sizeof(err));
}

void config_free(config_t *c)
{
    for (size_t i = 0; i < CONFIG_OPTION_COUNT; i++)
        if (config_options[i].type == CONFIG_STR) {
            char **slot = (char **)((char *)c + config_options[i].offset);
            free(*slot);
            *slot = NULL;
        }
    free(c->listen_host);
    c->listen_host = NULL;
}

static char *config_trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

bool config_load_file(config_t *c, const char *path, char *err, size_t errlen)
{
    bool ok = false;
    char line[4096];
    int lineno = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return false;
    }
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = config_trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'name = value'", path, lineno);
            goto out;
        }
        *eq = '\0';
        char *name = config_trim(s), *value = config_trim(eq + 1);
        char inner[256];
        if (!config_set(c, name, value, inner, sizeof(inner))) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, inner);
            goto out;
        }
    }
    ok = true;
out:
    fclose(f);
    return ok;
}

bool config_finish(config_t *c, char *err, size_t errlen)
{
    if (strcmp(c->db_sync, "full") != 0 && strcmp(c->db_sync, "normal") != 0) {
        snprintf(err, errlen, "db-sync: expected full or normal, got '%s'", c->db_sync);
        return false;
    }
    if (strcmp(c->playback, "public") != 0 && strcmp(c->playback, "off") != 0) {
        snprintf(err, errlen, "playback: expected public or off, got '%s'", c->playback);
        return false;
    }
    char *mhost;
    int mport;
    if (c->metrics_listen[0] && !config_split_hostport("metrics-listen", c->metrics_listen, &mhost, &mport, err, errlen))
        return false;
    if (c->metrics_listen[0])
        free(mhost);
    if (strcmp(c->log_level, "debug") && strcmp(c->log_level, "info") && strcmp(c->log_level, "warn") &&
        strcmp(c->log_level, "error")) {
        snprintf(err, errlen, "log-level: expected debug, info, warn or error, got '%s'", c->log_level);
        return false;
    }
    for (char *p = c->media_extensions; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    /* A trailing slash would double up when paths are appended. */
    size_t n = strlen(c->public_url);
    while (n > 0 && c->public_url[n - 1] == '/')
        c->public_url[--n] = '\0';
    return true;
}

bool config_extension_accepted(const config_t *c, const char *ext)
{
    size_t elen = strlen(ext);
    if (elen == 0)
        return false;
    const char *p = c->media_extensions;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len > 0 && *p == ' ') {
            p++;
            len--;
        }
        while (len > 0 && p[len - 1] == ' ')
            len--;
        if (len == elen && strncasecmp(p, ext, len) == 0)
            return true;
        if (!comma)
            break;
        p = comma + 1;
    }
    return false;
}

void config_print_help(void *file)
{
    FILE *f = file;
    for (size_t i = 0; i < CONFIG_OPTION_COUNT; i++) {
        const config_option_t *o = &config_options[i];
        fprintf(f, "  --%-20s %s", o->name, o->help);
        if (o->default_value[0] && strlen(o->default_value) < 40)
            fprintf(f, " [default %s]", o->default_value);
        fputc('\n', f);
    }
}
