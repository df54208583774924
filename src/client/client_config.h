/*
 * client_config: where the `vodup` client commands find the endpoint and the
 * AccessKey/SecretKey pair, and where they keep their files.
 *
 * Three sources, later ones winning: the config file (`name = value` lines,
 * the format `vodup serve --config` reads), the environment (VODUP_ENDPOINT,
 * VODUP_ACCESS_KEY, VODUP_SECRET_KEY, VODUP_CACERT) and command-line flags.  The config
 * file holds a secret, so it is written mode 0600 in a 0700 directory, by
 * temp file and rename so that a reader never sees half of it.
 *
 * Paths follow the XDG base directories: $XDG_CONFIG_HOME/vodup/config, else
 * $HOME/.config/vodup/config; the cache (resume records) in
 * $XDG_CACHE_HOME/vodup, else $HOME/.cache/vodup.  Nothing here touches the
 * network, and nothing here prints a secret.
 */
#ifndef VODUP_CLIENT_CONFIG_H
#define VODUP_CLIENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define CLIENT_CONFIG_VALUE_MAX 512
#define CLIENT_PATH_MAX 4096
#define CLIENT_DEFAULT_ENDPOINT "http://127.0.0.1:8080"

typedef struct client_config {
    char endpoint[CLIENT_CONFIG_VALUE_MAX];   /* normalised: scheme://authority, no trailing '/' */
    char access_key[CLIENT_CONFIG_VALUE_MAX];
    char secret_key[CLIENT_CONFIG_VALUE_MAX];
    char config_path[CLIENT_PATH_MAX];        /* the file that was (or would be) read */
    char cacert[CLIENT_PATH_MAX];             /* PEM file of CAs to trust for https; "": the system's */
} client_config_t;

/* Values given on the command line; NULL when not given. */
typedef struct client_config_flags {
    const char *endpoint;
    const char *access_key;
    const char *secret_key;
    const char *config_path;
    const char *cacert;
} client_config_flags_t;

/*
 * Fills *cfg from the config file (the flag's path, else the default path;
 * a missing default file is not an error), then the environment, then the
 * flags, and normalises the endpoint (CLIENT_DEFAULT_ENDPOINT when no source
 * names one).  Returns false with a one-line reason in err when the file
 * cannot be read or parsed or a value is invalid.  Missing keys are not an
 * error here: see client_config_require_keys().
 */
bool client_config_load(client_config_t *cfg, const client_config_flags_t *flags, char *err, size_t errlen);

/* False, with the hint of how to provide them, when a key is missing. */
bool client_config_require_keys(const client_config_t *cfg, char *err, size_t errlen);

/*
 * Applies one `name = value` line of a config file to cfg (blank lines and
 * '#' comments are accepted and ignored).  Keys: endpoint, access-key,
 * secret-key, cacert.  Returns false with the reason on an unknown key or a line
 * without '='.  Pure.
 */
bool client_config_parse_line(client_config_t *cfg, const char *line, char *err, size_t errlen);

/*
 * Normalises an endpoint: "host:port" gains "http://", trailing '/' go, and
 * only http and https with a non-empty authority and no path, query or
 * fragment are accepted.  Pure.
 */
bool client_endpoint_normalise(const char *in, char *out, size_t outlen, char *err, size_t errlen);

/* Writes endpoint, access-key, secret-key (and cacert when set) to cfg->config_path (mode 0600,
 * parent directories 0700, atomically).  False with a reason on failure. */
bool client_config_write(const client_config_t *cfg, char *err, size_t errlen);

/* The default config file path; false when neither XDG_CONFIG_HOME nor HOME is set. */
bool client_config_default_path(char *out, size_t outlen);

/* The cache directory (resume records), not created; false when neither
 * XDG_CACHE_HOME nor HOME is set. */
bool client_cache_dir(char *out, size_t outlen);

/* mkdir -p with mode 0700 for each missing component. */
bool client_mkdirs(const char *dir);

#endif
