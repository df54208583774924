/*
 * info: `vodup info VIDEOID`, one signed getVideoInfo call whose answer is
 * printed as it came (status, size, md5, etag, playUrl, ...).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "client/client_options.h"
#include "common/buf.h"
#include "common/encoding.h"

static void info_usage(FILE *f)
{
    fprintf(f,
            "usage: vodup info VIDEOID\n"
            "\n"
            "Calls getVideoInfo and prints the answer: the video's status, size, md5, etag,\n"
            "playUrl, categories and processing settings.\n"
            "\n"
            "%s\n"
            "Exit status: 0 success, 1 failure (e.g. no such video), 2 usage error,\n"
            "3 authentication refused.\n",
            client_connection_help);
}

int cli_info(int argc, char **argv)
{
    static const struct option opts[] = {CLIENT_CONNECTION_OPTIONS, {NULL, 0, NULL, 0}};
    client_config_flags_t flags = {0};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            info_usage(stdout);
            return CLIENT_EXIT_OK;
        }
        if (c == '?' || c == ':' || client_option_common("info", c, optarg, &flags, NULL) != 1) {
            client_option_bad("info", argc, argv);
            return CLIENT_EXIT_USAGE;
        }
    }
    if (argc - optind != 1) {
        client_error("info", "expected one VIDEOID (see --help)");
        return CLIENT_EXIT_USAGE;
    }
    client_config_t cfg;
    if (!client_config_for("info", &flags, true, &cfg))
        return CLIENT_EXIT_USAGE;
    buf_t form;
    buf_init(&form, 0);
    const char *id = argv[optind];
    int rc = CLIENT_EXIT_FAILURE;
    if (buf_append_str(&form, "videoId=") && encoding_percent_encode(id, strlen(id), &form))
        rc = client_command_call("info", &cfg, CLIENT_PATH_INFO, form.data, "getVideoInfo");
    else
        client_error("info", "out of memory");
    buf_free(&form);
    return rc;
}
