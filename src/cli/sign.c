/*
 * sign: `vodup sign METHOD URL [--data D]`, the curl command that sends a
 * WS3-signed request, for trying any API by hand the way the vendor's docs
 * do with curl.
 *
 * It prints the command and sends nothing.  The signature covers the
 * timestamp, so the command works for the server's clock-skew window
 * (300 s by default).  URL may be a path ("/vod/...?a=b"), which is put
 * after the configured endpoint.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "client/client_options.h"
#include "client/client_sign.h"
#include "client/client_url.h"

enum { SIGN_OPT_DATA = CLIENT_OPT_COMMAND, SIGN_OPT_CONTENT_TYPE };

#define SIGN_METHOD_MAX 16
#define SIGN_URL_MAX 8192

static void sign_usage(FILE *f)
{
    fprintf(f,
            "usage: vodup sign METHOD URL [--data D] [--content-type CT]\n"
            "\n"
            "Prints a curl command that sends the request signed with WS3-HMAC-SHA256\n"
            "(X-WS-AccessKey, X-WS-Timestamp and Authorization headers), ready to paste into\n"
            "a shell.  Nothing is sent.  The signature holds for the server's clock-skew\n"
            "window (300 s by default).\n"
            "\n"
            "  METHOD               GET, POST, ... (any case)\n"
            "  URL                  http(s)://host[:port]/path[?query], or /path[?query]\n"
            "                       after the configured endpoint\n"
            "  --data D             the body, sent byte for byte\n"
            "  --content-type CT    its type (default: application/json when D starts with\n"
            "                       '{' or '[', else application/x-www-form-urlencoded)\n"
            "\n"
            "Example:\n"
            "  eval \"$(vodup sign POST /vod/videoManage/getVideoList --data 'pageSize=5')\"\n"
            "\n"
            "%s\n"
            "Exit status: 0 printed, 2 usage error.\n",
            client_connection_help);
}

int cli_sign(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data", required_argument, NULL, SIGN_OPT_DATA},
        {"content-type", required_argument, NULL, SIGN_OPT_CONTENT_TYPE},
        CLIENT_CONNECTION_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    client_config_flags_t flags = {0};
    const char *data = NULL, *content_type = NULL;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            sign_usage(stdout);
            return CLIENT_EXIT_OK;
        case SIGN_OPT_DATA:
            data = optarg;
            break;
        case SIGN_OPT_CONTENT_TYPE:
            content_type = optarg;
            break;
        default:
            if (c == '?' || c == ':' || client_option_common("sign", c, optarg, &flags, NULL) != 1) {
                client_option_bad("sign", argc, argv);
                return CLIENT_EXIT_USAGE;
            }
        }
    }
    if (argc - optind != 2) {
        client_error("sign", "expected METHOD and URL, e.g. vodup sign GET /vod/videoManage/getVideoList (see --help)");
        return CLIENT_EXIT_USAGE;
    }
    char method[SIGN_METHOD_MAX + 1];
    const char *m = argv[optind];
    size_t mlen = strlen(m);
    if (mlen == 0 || mlen > SIGN_METHOD_MAX) {
        client_error("sign", "'%s' is not an HTTP method", m);
        return CLIENT_EXIT_USAGE;
    }
    for (size_t i = 0; i <= mlen; i++) {
        if (i < mlen && !isalpha((unsigned char)m[i])) {
            client_error("sign", "'%s' is not an HTTP method", m);
            return CLIENT_EXIT_USAGE;
        }
        method[i] = (char)toupper((unsigned char)m[i]);
    }
    client_config_t cfg;
    if (!client_config_for("sign", &flags, true, &cfg))
        return CLIENT_EXIT_USAGE;
    char url_text[SIGN_URL_MAX];
    const char *url_arg = argv[optind + 1];
    int n = url_arg[0] == '/' ? snprintf(url_text, sizeof(url_text), "%s%s", cfg.endpoint, url_arg)
                              : snprintf(url_text, sizeof(url_text), "%s", url_arg);
    if (n < 0 || (size_t)n >= sizeof(url_text)) {
        client_error("sign", "the URL is too long");
        return CLIENT_EXIT_USAGE;
    }
    if (data && !content_type)
        content_type = (data[0] == '{' || data[0] == '[') ? "application/json" : "application/x-www-form-urlencoded";
    client_url_t url;
    char err[512];
    if (!client_url_parse(url_text, &url, err, sizeof(err))) {
        client_error("sign", "%s", err);
        return CLIENT_EXIT_USAGE;
    }
    client_sign_input_t in = {
        .method = method,
        .url = &url,
        .content_type = content_type,
        .body = data,
        .body_len = data ? strlen(data) : 0,
        .access_key = cfg.access_key,
        .secret_key = cfg.secret_key,
        .timestamp = (int64_t)time(NULL),
    };
    client_signature_t sig;
    buf_t out;
    buf_init(&out, 0);
    int rc = CLIENT_EXIT_USAGE;
    if (!client_sign(&in, &sig)) {
        client_error("sign", "cannot sign: the AccessKey must be printable ASCII without spaces or commas");
    } else if (!client_sign_curl_command(&in, &sig, url_text, &out)) {
        client_error("sign", "out of memory");
        rc = CLIENT_EXIT_FAILURE;
    } else {
        printf("%s\n", out.data);
        rc = fflush(stdout) == 0 ? CLIENT_EXIT_OK : CLIENT_EXIT_FAILURE;
    }
    buf_free(&out);
    client_url_free(&url);
    return rc;
}
