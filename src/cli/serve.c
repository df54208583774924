/*
 * serve: `vodup serve`, the server process.
 *
 * Loads the configuration (defaults, then --config FILE, then flags), opens
 * the store in the data directory, creates the first AccessKey on first
 * start, binds, serves, and on SIGTERM or SIGINT drains in-flight requests
 * and exits 0.  Signals are taken by sigwait on the main thread, so no
 * handler runs inside library code.
 */
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <pthread.h>

#include "api/api.h"
#include "api/fops_status.h"
#include "api/keycache.h"
#include "api/ratelimit.h"
#include "cli/cli.h"
#include "common/config.h"
#include "common/log.h"
#include "common/version.h"
#include "common/workpool.h"
#include "events/event_dispatch.h"
#include "events/event_url.h"
#include "http/server.h"
#include "process/worker.h"
#include "store/store.h"
#include "upload/digest.h"
#include "upload/quota.h"
#include "upload/tus_slot.h"
#include "upload/upload.h"

#define SERVE_DEFAULT_ACCOUNT "default"
/* How often unfinished blocks and orphaned objects are looked for. */

/* The copy-paste example printed at start-up; README.md shows the same
 * lines, and tests/scripts/test_readme_example.sh runs both. */
static const char serve_example_body[] =
    "BODY='originFileName=demo.mp4'; CT='application/x-www-form-urlencoded'; TS=$(date +%s)\n"
    "HASH=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -r | cut -d' ' -f1)\n"
    "CANON=$(printf 'POST\\n/vod/videoManage/getUploadToken\\n\\ncontent-type:%s\\nhost:%s\\n\\ncontent-type;host\\n%s' "
    "\"$CT\" \"$HOST\" \"$HASH\")\n"
    "STS=$(printf 'WS3-HMAC-SHA256\\n%s\\n%s' \"$TS\" \"$(printf '%s' \"$CANON\" | openssl dgst -sha256 -r | cut -d' ' -f1)\")\n"
    "SIG=$(printf '%s' \"$STS\" | openssl dgst -sha256 -hmac \"$SK\" -r | cut -d' ' -f1)\n"
    "curl -s \"http://$HOST/vod/videoManage/getUploadToken\" -H \"Content-Type: $CT\" \\\n"
    "  -H \"X-WS-AccessKey: $AK\" -H \"X-WS-Timestamp: $TS\" \\\n"
    "  -H \"Authorization: WS3-HMAC-SHA256 Credential=$AK, SignedHeaders=content-type;host, Signature=$SIG\" \\\n"
    "  --data \"$BODY\"\n";

static void serve_usage(FILE *f)
{
    fprintf(f, "usage: vodup serve [--listen HOST:PORT] [--data DIR] [--public-url URL] [--config FILE]\n"
               "                   [--print-example] [--OPTION VALUE]...\n"
               "\n"
               "Runs the vodup API server.  On first start (no account in DIR) it creates the\n"
               "account \"default\" with an AccessKey and prints it with a signed curl example;\n"
               "--print-example prints them again on later starts.  SIGTERM or SIGINT drain\n"
               "in-flight requests (up to --shutdown-timeout) and exit 0.\n"
               "\n"
               "Every option can also be set in the --config file as 'name = value' lines;\n"
               "flags override the file.  Options:\n"
               "  --config FILE           read options from FILE first\n"
               "  --print-example         print the default AccessKey and example even if not new\n");
    config_print_help(f);
}

static int serve_log_level(const char *name)
{
    if (!strcmp(name, "debug"))
        return LOG_DEBUG;
    if (!strcmp(name, "warn"))
        return LOG_WARN;
    if (!strcmp(name, "error"))
        return LOG_ERROR;
    return LOG_INFO;
}

static bool serve_mkdir(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return true;
    log_error("cannot create data directory %s: %s", dir, strerror(errno));
    return false;
}

/* Creates the default account's key on first start; prints it (and the
 * example) when new or when asked to. */
/* DIR/server-url: the public URL this server answers on, for the commands
 * that print URLs without a server to ask (`vodup admin upload-link`).
 * Written whole (a temporary file renamed); a failure is only logged. */
static void serve_note_url(const char *data_dir, const char *public_url)
{
    char path[1024], tmp[1040];
    snprintf(path, sizeof(path), "%s/server-url", data_dir);
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fprintf(f, "%s\n", public_url) > 0;
    ok = f && fclose(f) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        log_warn("cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
    }
}

static bool serve_initial_key(store_t *store, const char *hostport, bool print_anyway)
{
    int64_t count = 0;
    bool created = false;
    store_key_t key = {0};
    store_key_list_t keys = {0};
    if (store->ops->account_count(store, &count) != STORE_OK)
        return false;
    if (count == 0) {
        if (store->ops->key_create(store, SERVE_DEFAULT_ACCOUNT, &key) != STORE_OK)
            return false;
        created = true;
    } else if (print_anyway) {
        if (store->ops->key_list(store, &keys) != STORE_OK)
            return false;
        for (size_t i = 0; i < keys.count && !key.access_key; i++)
            if (keys.items[i].enabled && !strcmp(keys.items[i].account_name, SERVE_DEFAULT_ACCOUNT))
                store->ops->key_lookup(store, keys.items[i].access_key, &key);
        store_key_list_free(&keys);
    }
    if (key.access_key) {
        printf("%s AccessKey for account \"%s\" (bucket %s):\n"
               "  AccessKey: %s\n  SecretKey: %s\n\n"
               "Try it (paste into a shell):\n\n"
               "AK='%s' SK='%s' HOST='%s'\n%s\n",
               created ? "Created" : "Existing", key.account_name, key.bucket, key.access_key, key.secret_key,
               key.access_key, key.secret_key, hostport, serve_example_body);
    }
    store_key_free(&key);
    return true;
}

/* The processing workers (none with processing off: tasks are still
 * queued, for the nodes that run them).  ffmpeg is given absolute paths. */
static process_pool_t *serve_processing_start(const config_t *cfg, store_t *store, blob_t *blob)
{
    char data_dir[PATH_MAX];
    if (!realpath(cfg->data_dir, data_dir)) {
        log_error("cannot resolve the data directory %s: %s", cfg->data_dir, strerror(errno));
        return NULL;
    }
    process_options_t opt = {
        .workers = cfg->processing ? (int)cfg->processing_workers : 0,
        .ffmpeg = cfg->ffmpeg,
        .ffprobe = cfg->ffprobe,
        .data_dir = data_dir,
        .max_pixels = cfg->max_source_pixels,
        .nice = (int)cfg->processing_nice,
        .timeout_s = cfg->processing_timeout,
    };
    process_pool_t *p = process_pool_start(store, blob, &opt);
    if (!p)
        log_error("cannot start the processing workers");
    return p;
}

static char *serve_render_event(void *arg, int64_t account_id, const char *video_id)
{
    return video_api_info_text(arg, account_id, video_id);
}

/* The webhook senders: they render event data through the API's getVideoInfo. */
static event_dispatch_t *serve_webhooks_start(const config_t *cfg, store_t *store, const api_ctx_t *api)
{
    char err[EVENT_URL_ERROR_MAX];
    if (!event_url_allow_list_check(cfg->webhook_allow_hosts, err, sizeof(err))) {
        log_error("webhook-allow-hosts: %s", err);
        return NULL;
    }
    /* A malformed list would refuse every callback and notification: say so now. */
    if (!event_url_allow_list_check(cfg->callback_allow_hosts, err, sizeof(err))) {
        log_error("callback-allow-hosts: %s", err);
        return NULL;
    }
    event_dispatch_options_t opt = {
        .workers = (int)cfg->webhook_workers,
        .connect_timeout_ms = (long)cfg->webhook_connect_timeout,
        .total_timeout_ms = (long)cfg->webhook_timeout,
        .allow_hosts = cfg->webhook_allow_hosts,
        .retry_first_ms = cfg->webhook_retry_first,
        .render = serve_render_event,
        .render_arg = (void *)api,
        .render_job = fops_status_render,
        .job_allow_hosts = cfg->callback_allow_hosts,
    };
    event_dispatch_t *d = event_dispatch_start(store, &opt);
    if (!d)
        log_error("cannot start the webhook senders");
    return d;
}

int cli_serve(int argc, char **argv)
{
    int status = 1;
    config_t cfg;
    char err[512];
    char dbpath[4096];
    char hostport[300];
    char public_url[512];
    bool print_example = false;
    store_t *store = NULL;
    ratelimit_t *rl = NULL;
    workpool_t *readers = NULL;
    keycache_t *keys = NULL;
    workpool_t *upload_workers = NULL;
    workpool_t *hashers = NULL;
    tus_slots_t *tus_slots = NULL;
    blob_t *blob = NULL;
    digest_cache_t *digests = NULL;
    quota_t *quota = NULL;
    upload_sweeper_t *sweeper = NULL;
    process_pool_t *processing = NULL;
    event_dispatch_t *webhooks = NULL;
    http_server_t *http = NULL;
    int fd = -1;

    config_defaults(&cfg);
    /* Before any thread: libcurl's global set-up is not thread-safe (the
     * webhook senders use it). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        log_error("cannot initialise libcurl");
        return 1;
    }
    /* Pass 1: --config and --help, so flags can override the file. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            serve_usage(stdout);
            status = 0;
            goto out;
        }
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "vodup serve: --config needs a file\n");
                status = 2;
                goto out;
            }
            if (!config_load_file(&cfg, argv[i + 1], err, sizeof(err))) {
                fprintf(stderr, "vodup serve: %s\n", err);
                status = 2;
                goto out;
            }
        }
    }
    /* Pass 2: every other flag, as --name VALUE or --name=VALUE. */
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--config")) {
            i++;
            continue;
        }
        if (!strcmp(arg, "--print-example")) {
            print_example = true;
            continue;
        }
        if (strncmp(arg, "--", 2) != 0) {
            fprintf(stderr, "vodup serve: unexpected argument '%s'\n", arg);
            status = 2;
            goto out;
        }
        char name[64];
        const char *value;
        const char *eq = strchr(arg, '=');
        if (eq) {
            snprintf(name, sizeof(name), "%.*s", (int)(eq - arg - 2), arg + 2);
            value = eq + 1;
        } else {
            snprintf(name, sizeof(name), "%s", arg + 2);
            if (!config_is_option(name) || i + 1 >= argc) {
                fprintf(stderr, "vodup serve: %s '%s' (see --help)\n",
                        config_is_option(name) ? "missing value for" : "unknown option", arg);
                status = 2;
                goto out;
            }
            value = argv[++i];
        }
        if (!config_set(&cfg, name, value, err, sizeof(err))) {
            fprintf(stderr, "vodup serve: %s\n", err);
            status = 2;
            goto out;
        }
    }
    if (!config_finish(&cfg, err, sizeof(err))) {
        fprintf(stderr, "vodup serve: %s\n", err);
        status = 2;
        goto out;
    }
    log_set_level(serve_log_level(cfg.log_level));

    /* Block the shutdown signals before any thread exists, so every thread
     * inherits the mask and only sigwait below sees them. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!serve_mkdir(cfg.data_dir))
        goto out;
    snprintf(dbpath, sizeof(dbpath), "%s/vodup.db", cfg.data_dir);
    store = store_sqlite_open(&(store_sqlite_options_t){
        .path = dbpath, .sync_full = !strcmp(cfg.db_sync, "full"), .busy_timeout_ms = 5000,
        .read_connections = (int)(cfg.read_threads + cfg.http_threads)});
    if (!store) {
        log_error("cannot open the database %s", dbpath);
        goto out;
    }
    int port = 0;
    fd = http_listen(cfg.listen_host, cfg.listen_port, &port, err, sizeof(err));
    if (fd < 0) {
        log_error("%s", err);
        goto out;
    }
    bool v6 = strchr(cfg.listen_host, ':') != NULL;
    snprintf(hostport, sizeof(hostport), "%s%s%s:%d", v6 ? "[" : "", cfg.listen_host, v6 ? "]" : "", port);
    if (cfg.public_url[0])
        snprintf(public_url, sizeof(public_url), "%s", cfg.public_url);
    else
        snprintf(public_url, sizeof(public_url), "http://%s", hostport);
    serve_note_url(cfg.data_dir, public_url);
    if (!serve_initial_key(store, hostport, print_example)) {
        log_error("cannot create the first AccessKey");
        goto out;
    }
    rl = ratelimit_new(cfg.rate_limit, cfg.rate_burst);
    readers = workpool_new((size_t)cfg.read_threads);
    keys = keycache_new(store, cfg.key_cache_ttl);
    upload_workers = workpool_new((size_t)cfg.upload_threads);
    /* Bulk hashing yields to the HTTP threads, which answer API calls, when CPU is short. */
    hashers = workpool_new_nice((size_t)cfg.hash_threads, UPLOAD_HASH_NICE);
    if (!rl || !readers || !keys || !upload_workers || !hashers)
        goto out;
    const char *blob_dir = cfg.blob_dir[0] ? cfg.blob_dir : cfg.data_dir;
    blob = blob_local_open(blob_dir);
    if (!blob) {
        log_error("cannot open the object storage under %s", blob_dir);
        goto out;
    }
    int64_t stale = blob->ops->staging_clear(blob);
    if (stale > 0)
        log_info("removed %lld staged objects left by an earlier run", (long long)stale);
    digests = digest_cache_start(blob);
    quota = quota_new(cfg.max_staged_per_account, cfg.max_staged_per_token, cfg.preauth_spool_total);
    if (!digests || !quota)
        goto out;
    tus_slots = tus_slots_new();
    if (!tus_slots)
        goto out;
    upload_ctx_t upload = {
        .cfg = &cfg, .store = store, .blob = blob, .keys = keys, .workers = upload_workers, .digests = digests,
        .hashers = hashers, .quota = quota, .tus_slots = tus_slots};
    /* Before the sweeper and the endpoint: blocks kept from earlier runs
     * count against their owners from the first request on. */
    if (!upload_quota_load(&upload)) {
        log_error("cannot list the unfinished blocks under %s", blob_dir);
        goto out;
    }
    if (store->ops->secret_get(store, "upload-ctx", upload.ctx_secret) != STORE_OK) {
        log_error("cannot read the server secret from the database");
        goto out;
    }
    sweeper = upload_sweeper_start(&upload, cfg.sweep_interval * 1000);
    if (!sweeper)
        goto out;
    processing = serve_processing_start(&cfg, store, blob);
    if (!processing)
        goto out;
    upload.processing = processing;
    api_ctx_t api = {.cfg = &cfg, .store = store, .ratelimit = rl, .readers = readers, .keys = keys,
                     .public_url = public_url, .processing = processing, .blob = blob};
    webhooks = serve_webhooks_start(&cfg, store, &api);
    if (!webhooks)
        goto out;
    http = http_server_start(&cfg, &api, &upload, fd, err, sizeof(err));
    fd = -1; /* owned by the server now, even on failure */
    if (!http) {
        log_error("%s", err);
        goto out;
    }
    printf("vodup: listening on http://%s (data %s, uploadUrl %s)\n", hostport, cfg.data_dir, public_url);
    if (http_server_metrics_port(http))
        printf("vodup: metrics on port %d (GET /metrics)\n", http_server_metrics_port(http));
    fflush(stdout);
    log_info("%s listening on %s (data %s, uploadUrl %s, processing %s)", version_string(), hostport, cfg.data_dir,
             public_url, cfg.processing ? "on" : "off");

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("received %s: draining (up to %lld s)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
             (long long)cfg.shutdown_timeout);
    int left = http_server_drain(http, (int)cfg.shutdown_timeout);
    if (left > 0)
        log_warn("%d requests still in flight after %lld s; stopping anyway", left, (long long)cfg.shutdown_timeout);
    /* Finishing the queued queries and closing the store complete every
     * pending call, which resumes any connection still waiting, before the
     * daemon stops. */
    workpool_free(readers);
    readers = NULL;
    /* Stopped, not freed: a request the daemon cuts at its stop may still
     * offer it a job (refused then). */
    workpool_shutdown(upload_workers);
    upload_sweeper_stop(sweeper);
    sweeper = NULL;
    process_pool_stop(processing);
    processing = NULL;
    event_dispatch_stop(webhooks);
    webhooks = NULL;
    store->ops->close(store);
    store = NULL;
    http_server_stop(http);
    http = NULL;
    log_info("stopped");
    status = 0;
out:
    if (fd >= 0)
        close(fd);
    /* Jobs use the store: finish them before it closes. */
    workpool_free(readers);
    workpool_shutdown(upload_workers);
    upload_sweeper_stop(sweeper);
    process_pool_stop(processing);
    event_dispatch_stop(webhooks);
    http_server_stop(http);
    workpool_free(upload_workers);
    tus_slots_free(tus_slots);
    /* After the poll threads and the upload workers, which use them. */
    digest_cache_stop(digests);
    workpool_free(hashers);
    quota_free(quota);
    if (store)
        store->ops->close(store);
    if (blob)
        blob->ops->close(blob);
    keycache_free(keys);
    ratelimit_free(rl);
    config_free(&cfg);
    return status;
}
