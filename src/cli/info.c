/*
 * info: `vodup info VIDEOID [--json]`, one signed getVideoInfo call.
 *
 * By default the video is printed for people (client_video_format.h): its
 * status and progress, failReason, size, duration, resolution, codecs,
 * URLs and a table of its processing outputs.  --json prints the API's
 * answer as it came, which is what `vodup info` printed before processing
 * existed; scripts keep that with --json (docs/cli.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "client/client_options.h"
#include "client/client_video_format.h"
#include "common/buf.h"
#include "common/encoding.h"

enum { INFO_OPT_JSON = CLIENT_OPT_COMMAND };

static void info_usage(FILE *f)
{
    fprintf(f,
            "usage: vodup info VIDEOID [--json]\n"
            "\n"
            "Calls getVideoInfo and prints the video: its status (with the progress while\n"
            "processing), failReason, size, duration, resolution, codecs, playUrl, coverUrl,\n"
            "and its outputs as a table: TYPE TEMPLATE SIZE WxH DURATION BITRATE URL.\n"
            "\n"
            "  --json               print the API's answer as it came instead (one JSON text:\n"
            "                       {\"code\":200,...,\"data\":{...}})\n"
            "\n"
            "%s\n"
            "Exit status: 0 success, 1 failure (e.g. no such video), 2 usage error,\n"
            "3 authentication refused.\n",
            client_connection_help);
}

/* The client_answer_fn of the readable form. */
static int info_print_summary(const char *cmd, const client_response_t *r)
{
    buf_t text;
    buf_init(&text, 0);
    int rc = CLIENT_EXIT_FAILURE;
    if (!client_video_format_summary(json_object_get(r->json, "data"), &text)) {
        client_error(cmd, "getVideoInfo: the answer holds no video (try --json to see it)");
        goto out;
    }
    if (text.len > 0)
        fwrite(text.data, 1, text.len, stdout);
    if (fflush(stdout) != 0 || ferror(stdout))
        client_error(cmd, "cannot write to stdout");
    else
        rc = CLIENT_EXIT_OK;
out:
    buf_free(&text);
    return rc;
}

int cli_info(int argc, char **argv)
{
    static const struct option opts[] = {
        {"json", no_argument, NULL, INFO_OPT_JSON}, CLIENT_CONNECTION_OPTIONS, {NULL, 0, NULL, 0}};
    client_config_flags_t flags = {0};
    bool json = false;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            info_usage(stdout);
            return CLIENT_EXIT_OK;
        }
        if (c == INFO_OPT_JSON) {
            json = true;
            continue;
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
    if (!buf_append_str(&form, "videoId=") || !encoding_percent_encode(id, strlen(id), &form))
        client_error("info", "out of memory");
    else if (json)
        rc = client_command_call("info", &cfg, CLIENT_PATH_INFO, form.data, "getVideoInfo");
    else
        rc = client_command_call_with("info", &cfg, CLIENT_PATH_INFO, form.data, "getVideoInfo",
                                      info_print_summary);
    buf_free(&form);
    return rc;
}
