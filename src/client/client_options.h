/*
 * client_options: what the client commands (upload, token, info, list,
 * sign, configure) share on their command lines: the connection options,
 * the getUploadToken options, number parsing, the one-line error format,
 * and the signal flag that lets an upload stop cleanly.
 *
 * Every message goes to stderr as "vodup CMD: reason" on one line; usage
 * errors return CLIENT_EXIT_USAGE.  Nothing here prints a secret.
 */
#ifndef VODUP_CLIENT_OPTIONS_H
#define VODUP_CLIENT_OPTIONS_H

#include <getopt.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/client_api.h"
#include "client/client_config.h"

/* getopt_long values; the ASCII range is left to short options. */
enum {
    CLIENT_OPT_ENDPOINT = 1000,
    CLIENT_OPT_ACCESS_KEY,
    CLIENT_OPT_SECRET_KEY,
    CLIENT_OPT_CONFIG,
    CLIENT_OPT_CACERT,
    CLIENT_OPT_FILE_ID = 1100,
    CLIENT_OPT_WORKFLOW,
    CLIENT_OPT_WATERMARK,
    CLIENT_OPT_TEMPLATE,
    CLIENT_OPT_SUBTITLE,
    CLIENT_OPT_CATEGORY,
    CLIENT_OPT_DOMAIN,
    CLIENT_OPT_OVERWRITE,
    CLIENT_OPT_CMD,
    CLIENT_OPT_COMMAND = 1200, /* first value free for a command's own options */
};

#define CLIENT_CONNECTION_OPTIONS                                    \
    {"endpoint", required_argument, NULL, CLIENT_OPT_ENDPOINT},      \
    {"access-key", required_argument, NULL, CLIENT_OPT_ACCESS_KEY},  \
    {"secret-key", required_argument, NULL, CLIENT_OPT_SECRET_KEY},  \
    {"config", required_argument, NULL, CLIENT_OPT_CONFIG},          \
    {"cacert", required_argument, NULL, CLIENT_OPT_CACERT},          \
    {"help", no_argument, NULL, 'h'}

#define CLIENT_TOKEN_OPTIONS                                         \
    {"file-id", required_argument, NULL, CLIENT_OPT_FILE_ID},        \
    {"workflow", required_argument, NULL, CLIENT_OPT_WORKFLOW},      \
    {"watermark", required_argument, NULL, CLIENT_OPT_WATERMARK},    \
    {"template", required_argument, NULL, CLIENT_OPT_TEMPLATE},      \
    {"subtitle", required_argument, NULL, CLIENT_OPT_SUBTITLE},      \
    {"category", required_argument, NULL, CLIENT_OPT_CATEGORY},      \
    {"domain", required_argument, NULL, CLIENT_OPT_DOMAIN},          \
    {"overwrite", no_argument, NULL, CLIENT_OPT_OVERWRITE},          \
    {"cmd", required_argument, NULL, CLIENT_OPT_CMD}

/* Help text of the two groups, for the commands' --help. */
extern const char client_connection_help[];
extern const char client_token_help[];

/* Prints "vodup CMD: message" on stderr. */
void client_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * Handles a connection or getUploadToken option (p may be NULL when the
 * command takes none).  Returns 1 when handled, 0 when `opt` is not one of
 * them, -1 after printing a usage error.
 */
int client_option_common(const char *cmd, int opt, const char *arg, client_config_flags_t *flags,
                         client_token_params_t *p);

/* The usage error for getopt's '?' or ':' at argv[optind - 1]. */
void client_option_bad(const char *cmd, int argc, char **argv);

/* A decimal integer in [min, max] (no sign, no spaces, no suffix). */
bool client_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * Loads the configuration (client_config_load) and, when need_keys, checks
 * the keys; prints the reason and returns false (exit CLIENT_EXIT_USAGE).
 */
bool client_config_for(const char *cmd, const client_config_flags_t *flags, bool need_keys, client_config_t *cfg);

/* SIGINT and SIGTERM set *flag (instead of killing the process). */
void client_signals_install(atomic_int *flag);

/* Prints the body of an API answer on stdout (with a final newline). */
void client_print_body(const client_response_t *r);

/*
 * The whole of `vodup token|info|list` once the form is built: POSTs it to
 * `path`, prints the answer's body on success, else one line on stderr.
 * Returns the exit status.
 */
int client_command_call(const char *cmd, const client_config_t *cfg, const char *path, const char *form,
                        const char *what);

/* Prints a successful answer (HTTP 200, "code":200) and returns the exit
 * status; a failure prints its own line on stderr. */
typedef int (*client_answer_fn)(const char *cmd, const client_response_t *r);

/* client_command_call with `print` in place of printing the body. */
int client_command_call_with(const char *cmd, const client_config_t *cfg, const char *path, const char *form,
                             const char *what, client_answer_fn print);

#endif
