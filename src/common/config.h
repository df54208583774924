/*
 * config: the server's loaded configuration.
 *
 * Every option has one name used both as a command-line flag (--name VALUE)
 * and as a config-file key (name = VALUE); the table in config.c is the single
 * source, and `vodup serve --help` and docs/configuration.md list it.  The
 * struct is filled once at start-up and read-only afterwards: it is the only
 * process-wide state vodup has.
 */
#ifndef VODUP_CONFIG_H
#define VODUP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_EXTENSIONS 64

typedef struct config {
    char *listen_host;          /* listen: HOST:PORT */
    int listen_port;
    char *data_dir;             /* data */
    char *blob_dir;             /* blob-dir: upload bytes; "" = data_dir */
    char *public_url;           /* public-url: base of uploadUrl and playUrl; "" = from a trusted proxy, else http://listen */
    char *trusted_proxies;      /* trusted-proxies: forwarded.h's list; "" none */
    int64_t clock_skew;         /* seconds */
    int64_t api_body_limit;     /* bytes */
    int64_t token_lifetime;     /* seconds */
    int64_t max_upload_size;    /* bytes */
    char *media_extensions;     /* comma list, lowercase */
    int64_t rate_limit;         /* requests per second per AccessKey, 0 = off */
    int64_t rate_burst;
    int64_t key_cache_ttl;      /* ms an AccessKey lookup is reused, 0 = off */
    int64_t http_threads;
    int64_t read_threads;       /* registry queries off the poll threads */
    int64_t connection_limit;
    int64_t connection_timeout; /* idle seconds */
    int64_t header_timeout;     /* seconds from accept to a complete request head */
    int64_t connections_per_ip; /* concurrent connections per client address */
    int64_t shutdown_timeout;   /* seconds to drain on SIGTERM */
    char *db_sync;              /* "full" or "normal" */
    char *speed_domain_url;
    char *http_dns_server;
    char *cors_origins;         /* "*" or comma list of origins */
    int64_t max_block_size;     /* bytes */
    int64_t block_max_age;      /* seconds */
    int64_t registration_ttl;   /* seconds; 0: token_lifetime + block_max_age */
    int64_t sweep_interval;     /* seconds */
    int64_t upload_threads;
    int64_t hash_threads;
    int64_t max_staged_per_account;  /* bytes of unfinished uploads an account may hold */
    int64_t max_staged_per_token;    /* the same, per upload token */
    int64_t max_tus_uploads_per_file; /* unfinished tus uploads of one fileKey */
    int64_t preauth_spool;           /* form bytes accepted before the token, per request */
    int64_t preauth_spool_total;     /* the same, all requests together */
    char *playback;             /* "public" or "off" */
    int64_t play_url_ttl;       /* seconds a signed URL in an answer stays valid */
    bool processing;            /* run tasks on this node */
    int64_t processing_workers;
    char *ffmpeg, *ffprobe;     /* program paths */
    int64_t max_source_pixels;
    int64_t processing_nice;
    int64_t processing_timeout; /* seconds, before the part that scales with the source */
    int64_t webhook_workers;
    int64_t webhook_connect_timeout; /* ms */
    int64_t webhook_timeout;         /* ms, the whole attempt */
    char *webhook_allow_hosts;       /* event_url.h's allow-list; "" any */
    char *callback_allow_hosts;      /* the same, for URLs token minters choose; "" any */
    int64_t callback_timeout;        /* ms, an upload callback's whole POST */
    int64_t webhook_retry_first;     /* ms */
    char *metrics_listen;       /* HOST:PORT of the /metrics listener; "" none */
    int64_t ready_min_free;     /* bytes free for /readyz */
    char *log_level;            /* debug|info|warn|error */
    bool access_log;
} config_t;

void config_defaults(config_t *c);
void config_free(config_t *c);

/* Sets one option by its name (without "--").  On error returns false and
 * writes a message to err. */
/* Splits "HOST:PORT" ("[v6]:PORT" too) into a malloc'd host and a port in
 * 0..65535; false with "<name>: reason" in err. */
bool config_split_hostport(const char *name, const char *value, char **host_out, int *port_out, char *err,
                           size_t errlen);

bool config_set(config_t *c, const char *name, const char *value, char *err, size_t errlen);

/* True when `name` is a configuration option. */
bool config_is_option(const char *name);

/* Loads "name = value" lines ('#' starts a comment; blank lines ignored). */
bool config_load_file(config_t *c, const char *path, char *err, size_t errlen);

/* Fills defaults that depend on other options (public-url from listen) and
 * checks ranges.  Call after all config_set/config_load_file calls. */
bool config_finish(config_t *c, char *err, size_t errlen);

/* True when `ext` (no dot, any case) is in media-extensions. */
bool config_extension_accepted(const config_t *c, const char *ext);

/* Writes the option table (name, default, meaning) for --help. */
void config_print_help(void *file);

#endif
