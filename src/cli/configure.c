/*
 * configure: `vodup configure`, writes the client's config file
 * (~/.config/vodup/config, mode 0600) with the endpoint and the key pair.
 *
 * Values come from the flags; whatever is missing is asked for, with the
 * current file's value as the default (Enter keeps it).  On a terminal the
 * questions go to stderr and the SecretKey is read without echo; from a
 * pipe the answers are read one per line, so scripts can feed it.  The
 * SecretKey is never printed, not even as the default.
 *
 * Before writing, the values are tried with one signed getVideoList of
 * one video: a typo in a key, an endpoint nothing answers on or a TLS
 * failure is reported now, by the command that made it, rather than by the
 * next upload.  Nothing is written then (exit 3 for 401/403, 1 otherwise);
 * --no-check writes without trying, for a server that is not up yet.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/cli.h"
#include "client/client_api.h"
#include "client/client_options.h"

enum { CONFIGURE_OPT_NO_CHECK = CLIENT_OPT_COMMAND };

/* The check gives up sooner than the other commands: someone is waiting
 * at the prompt for a verdict on what they typed. */
#define CONFIGURE_CHECK_TRIES 2

static void configure_usage(FILE *f)
{
    fprintf(f,
            "usage: vodup configure [--endpoint URL] [--access-key AK] [--secret-key SK] [--config FILE]\n"
            "                       [--no-check]\n"
            "\n"
            "Writes the endpoint, AccessKey and SecretKey that the other client commands\n"
            "use to FILE (default $XDG_CONFIG_HOME/vodup/config or ~/.config/vodup/config),\n"
            "mode 0600.  Values not given as flags are asked for (Enter keeps the current\n"
            "one); from a pipe, one answer per line.\n"
            "\n"
            "Before writing, it makes one signed call (getVideoList of one video) with the\n"
            "values and writes nothing when the server refuses the keys or cannot be\n"
            "reached (a TLS failure included).\n"
            "\n"
            "  --no-check           write without trying the values\n"
            "\n"
            "Exit status: 0 written, 1 failure (the server unreachable or refusing the call\n"
            "for another reason), 2 usage error, 3 the server refused the keys (401/403).\n");
}

/* Reads one line from stdin into out (without the newline).  False at EOF. */
static bool configure_read_line(char *out, size_t outlen, bool secret)
{
    struct termios old, quiet;
    bool tty = isatty(STDIN_FILENO) == 1;
    bool echo_off = secret && tty && tcgetattr(STDIN_FILENO, &old) == 0;
    if (echo_off) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    bool ok = fgets(out, (int)outlen, stdin) != NULL;
    if (echo_off) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    if (ok)
        out[strcspn(out, "\r\n")] = '\0';
    return ok;
}

/* Asks for one value unless a flag gave it; `shown` is the default as displayed. */
static bool configure_ask(const char *question, const char *flag_value, const char *shown, bool secret, char *value,
                          size_t valuelen)
{
    if (flag_value) {
        snprintf(value, valuelen, "%s", flag_value);
        return true;
    }
    if (isatty(STDIN_FILENO) == 1) {
        fprintf(stderr, "%s%s%s%s: ", question, shown[0] ? " [" : "", shown, shown[0] ? "]" : "");
        fflush(stderr);
    }
    char line[CLIENT_CONFIG_VALUE_MAX];
    if (!configure_read_line(line, sizeof(line), secret))
        return value[0] != '\0'; /* EOF: keep the current value, if there is one */
    if (line[0])
        snprintf(value, valuelen, "%s", line);
    return true;
}

/*
 * Tries cfg with one signed getVideoList of one video; returns the exit
 * status: CLIENT_EXIT_OK when the server accepted the call, else the
 * reason is printed and nothing is to be written.
 */
static int configure_check(const client_config_t *cfg)
{
    static atomic_int stop;
    client_api_t api;
    client_response_t r;
    client_response_init(&r);
    client_signals_install(&stop);
    int rc = CLIENT_EXIT_FAILURE;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK || !client_api_init(&api, cfg, &stop)) {
        client_error("configure", "cannot initialise libcurl");
        goto out;
    }
    if (api.retry.max_tries > CONFIGURE_CHECK_TRIES)
        api.retry.max_tries = CONFIGURE_CHECK_TRIES;
    if (client_api_post(&api, CLIENT_PATH_LIST, "pageSize=1", &r)) {
        rc = CLIENT_EXIT_OK;
    } else {
        char msg[1024];
        client_response_describe(&r, "checking the keys with getVideoList", cfg->endpoint, msg, sizeof(msg));
        rc = atomic_load(&stop) ? CLIENT_EXIT_INTERRUPTED : client_response_exit_code(&r);
        client_error("configure", "%s; nothing written to %s (--no-check writes it anyway)", msg, cfg->config_path);
    }
    client_api_free(&api);
out:
    client_response_free(&r);
    return rc;
}

int cli_configure(int argc, char **argv)
{
    static const struct option opts[] = {
        {"no-check", no_argument, NULL, CONFIGURE_OPT_NO_CHECK}, CLIENT_CONNECTION_OPTIONS, {NULL, 0, NULL, 0}};
    client_config_flags_t flags = {0};
    bool check = true;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            configure_usage(stdout);
            return CLIENT_EXIT_OK;
        }
        if (c == CONFIGURE_OPT_NO_CHECK) {
            check = false;
            continue;
        }
        if (c == '?' || c == ':' || client_option_common("configure", c, optarg, &flags, NULL) != 1) {
            client_option_bad("configure", argc, argv);
            return CLIENT_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        client_error("configure", "unexpected argument '%s' (see --help)", argv[optind]);
        return CLIENT_EXIT_USAGE;
    }
    /* The current file's values are the defaults; the environment plays no part here. */
    client_config_t current;
    char err[1024];
    memset(&current, 0, sizeof(current));
    if (flags.config_path)
        snprintf(current.config_path, sizeof(current.config_path), "%s", flags.config_path);
    else if (!client_config_default_path(current.config_path, sizeof(current.config_path))) {
        client_error("configure", "no config file path: set HOME or XDG_CONFIG_HOME, or pass --config");
        return CLIENT_EXIT_USAGE;
    }
    FILE *f = fopen(current.config_path, "r");
    if (f) {
        /* Lines that do not parse are dropped: rewriting the file is how to fix it. */
        char line[2048];
        while (fgets(line, sizeof(line), f))
            client_config_parse_line(&current, line, err, sizeof(err));
        fclose(f);
    }
    /* A CA file given for this endpoint is both used by the check and saved,
     * as an absolute path: the file is read from wherever the next command
     * runs. */
    if (flags.cacert && !realpath(flags.cacert, current.cacert)) {
        client_error("configure", "--cacert %s: %s", flags.cacert, strerror(errno));
        return CLIENT_EXIT_USAGE;
    }
    char shown_secret[16] = "";
    if (current.secret_key[0])
        snprintf(shown_secret, sizeof(shown_secret), "keep current");
    if (!configure_ask("Endpoint", flags.endpoint, current.endpoint[0] ? current.endpoint : CLIENT_DEFAULT_ENDPOINT,
                       false, current.endpoint, sizeof(current.endpoint)) ||
        !configure_ask("AccessKey", flags.access_key, current.access_key, false, current.access_key,
                       sizeof(current.access_key)) ||
        !configure_ask("SecretKey", flags.secret_key, shown_secret, true, current.secret_key,
                       sizeof(current.secret_key))) {
        client_error("configure", "missing answers on stdin (endpoint, AccessKey, SecretKey: one per line)");
        return CLIENT_EXIT_USAGE;
    }
    if (!current.endpoint[0])
        snprintf(current.endpoint, sizeof(current.endpoint), "%s", CLIENT_DEFAULT_ENDPOINT);
    if (!client_endpoint_normalise(current.endpoint, current.endpoint, sizeof(current.endpoint), err, sizeof(err)) ||
        !client_config_require_keys(&current, err, sizeof(err))) {
        client_error("configure", "%s", err);
        return CLIENT_EXIT_USAGE;
    }
    int rc = check ? configure_check(&current) : CLIENT_EXIT_OK;
    if (rc != CLIENT_EXIT_OK)
        return rc;
    if (!client_config_write(&current, err, sizeof(err))) {
        client_error("configure", "%s", err);
        return CLIENT_EXIT_FAILURE;
    }
    printf("wrote %s\n", current.config_path);
    return CLIENT_EXIT_OK;
}
