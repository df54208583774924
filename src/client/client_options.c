/*
 * client_options.c: command-line pieces shared by the client commands; see
 * client_options.h.
 */
#include "client/client_options.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char client_connection_help[] =
    "Connection (flags override VODUP_ENDPOINT, VODUP_ACCESS_KEY, VODUP_SECRET_KEY,\n"
    "which override the config file written by 'vodup configure'):\n"
    "  --endpoint URL       the vodup API, e.g. http://127.0.0.1:8080 (the default)\n"
    "  --access-key AK      AccessKey\n"
    "  --secret-key SK      SecretKey (visible to other local users in ps: prefer the\n"
    "                       environment or the config file)\n"
    "  --config FILE        config file (default ~/.config/vodup/config)\n"
    "  --cacert FILE        trust the CAs in this PEM file for an https endpoint (an internal\n"
    "                       CA); also VODUP_CACERT or 'cacert' in the config file\n"
    "  -h, --help           print this help\n";

const char client_token_help[] =
    "getUploadToken options:\n"
    "  --file-id ID         breakpoint-resume id, 1-32 of A-Z a-z 0-9 _ -\n"
    "  --workflow ID        workflowId\n"
    "  --watermark NAME     waterMarkName\n"
    "  --template NAME      transCodeCombineName\n"
    "  --subtitle ID        subtitleId\n"
    "  --category P/C       put the video in category P, child C (repeatable, at most 32)\n"
    "  --domain D           playback domain (default: the account's)\n"
    "  --overwrite          overwrite=1: replace an existing upload of this fileId\n"
    "  --cmd TEXT           free-form processing command\n";

void client_error(const char *cmd, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One line, whatever the message holds. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "vodup %s: %s\n", cmd, msg);
}

int client_option_common(const char *cmd, int opt, const char *arg, client_config_flags_t *flags,
                         client_token_params_t *p)
{
    switch (opt) {
    case CLIENT_OPT_ENDPOINT:
        flags->endpoint = arg;
        return 1;
    case CLIENT_OPT_ACCESS_KEY:
        flags->access_key = arg;
        return 1;
    case CLIENT_OPT_SECRET_KEY:
        flags->secret_key = arg;
        return 1;
    case CLIENT_OPT_CONFIG:
        flags->config_path = arg;
        return 1;
    case CLIENT_OPT_CACERT:
        flags->cacert = arg;
        return 1;
    default:
        break;
    }
    if (!p || opt < CLIENT_OPT_FILE_ID || opt > CLIENT_OPT_CMD)
        return 0;
    switch (opt) {
    case CLIENT_OPT_FILE_ID:
        p->file_id = arg;
        break;
    case CLIENT_OPT_WORKFLOW:
        p->workflow = arg;
        break;
    case CLIENT_OPT_WATERMARK:
        p->watermark = arg;
        break;
    case CLIENT_OPT_TEMPLATE:
        p->template_name = arg;
        break;
    case CLIENT_OPT_SUBTITLE:
        p->subtitle = arg;
        break;
    case CLIENT_OPT_CATEGORY:
        if (p->category_count == CLIENT_MAX_CATEGORIES) {
            client_error(cmd, "at most %d --category options", CLIENT_MAX_CATEGORIES);
            return -1;
        }
        p->categories[p->category_count++] = arg;
        break;
    case CLIENT_OPT_DOMAIN:
        p->domain = arg;
        break;
    case CLIENT_OPT_OVERWRITE:
        p->overwrite = true;
        break;
    case CLIENT_OPT_CMD:
        p->cmd = arg;
        break;
    default:
        return 0;
    }
    return 1;
}

void client_option_bad(const char *cmd, int argc, char **argv)
{
    const char *arg = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "?";
    if (optopt && optopt < 256)
        client_error(cmd, "option '-%c' is unknown or needs a value (see --help)", optopt);
    else
        client_error(cmd, "option '%s' is unknown or needs a value (see --help)", arg);
}

bool client_parse_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s || strlen(s) > 19)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = (int64_t)v;
    return true;
}

bool client_config_for(const char *cmd, const client_config_flags_t *flags, bool need_keys, client_config_t *cfg)
{
    char err[1024];
    if (!client_config_load(cfg, flags, err, sizeof(err)) || (need_keys && !client_config_require_keys(cfg, err, sizeof(err)))) {
        client_error(cmd, "%s", err);
        return false;
    }
    return true;
}

static atomic_int *client_signal_flag;

static void client_signal_handler(int sig)
{
    (void)sig;
    if (client_signal_flag)
        atomic_store(client_signal_flag, 1);
}

void client_signals_install(atomic_int *flag)
{
    client_signal_flag = flag;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = client_signal_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* A closed pipe on stdout must be an error from write(), not a silent death. */
    signal(SIGPIPE, SIG_IGN);
}

void client_print_body(const client_response_t *r)
{
    if (r->body.len > 0) {
        fwrite(r->body.data, 1, r->body.len, stdout);
        if (r->body.data[r->body.len - 1] != '\n')
            fputc('\n', stdout);
    }
    fflush(stdout);
}

/* The default client_answer_fn: the body as it came. */
static int client_answer_body(const char *cmd, const client_response_t *r)
{
    (void)cmd;
    client_print_body(r);
    return ferror(stdout) ? CLIENT_EXIT_FAILURE : CLIENT_EXIT_OK;
}

int client_command_call(const char *cmd, const client_config_t *cfg, const char *path, const char *form,
                        const char *what)
{
    return client_command_call_with(cmd, cfg, path, form, what, client_answer_body);
}

int client_command_call_with(const char *cmd, const client_config_t *cfg, const char *path, const char *form,
                             const char *what, client_answer_fn print)
{
    int rc = CLIENT_EXIT_FAILURE;
    static atomic_int stop;
    client_api_t api;
    client_response_t r;
    client_response_init(&r);
    client_signals_install(&stop);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        client_error(cmd, "cannot initialise libcurl");
        return CLIENT_EXIT_FAILURE;
    }
    if (!client_api_init(&api, cfg, &stop)) {
        client_error(cmd, "cannot initialise libcurl");
        goto out;
    }
    if (client_api_post(&api, path, form, &r)) {
        rc = print(cmd, &r);
    } else if (atomic_load(&stop)) {
        client_error(cmd, "interrupted");
        rc = CLIENT_EXIT_INTERRUPTED;
    } else {
        char msg[1024];
        client_response_describe(&r, what, cfg->endpoint, msg, sizeof(msg));
        client_error(cmd, "%s", msg);
        rc = client_response_exit_code(&r);
    }
    client_api_free(&api);
out:
    client_response_free(&r);
    curl_global_cleanup();
    return rc;
}
