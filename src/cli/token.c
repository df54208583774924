/*
 * token: `vodup token NAME`, one signed getUploadToken call.
 *
 * Registers a video named NAME with the given options and prints the API's
 * answer (videoId, fileKey, uploadUrl, uploadToken) as it came, for scripts
 * and for uploading with other tools (curl, the WCS SDKs).  A refused call
 * is one line on stderr and a non-zero exit status (docs/cli.md).
 */
#include <curl/curl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "client/client_options.h"
#include "client/client_record.h"

enum { TOKEN_OPT_SIZE = CLIENT_OPT_COMMAND, TOKEN_OPT_MD5 };

#define TOKEN_SIZE_MAX (1LL << 50)

static void token_usage(FILE *f)
{
    fprintf(f,
            "usage: vodup token NAME [--size BYTES] [--md5 HEX] [getUploadToken options]\n"
            "\n"
            "Calls getUploadToken with originFileName=NAME and prints the answer: the new\n"
            "video's videoId and fileKey, the uploadUrl and an uploadToken for it.\n"
            "\n"
            "  --size BYTES         fileSize: the upload's size limit\n"
            "  --md5 HEX            fileMd5: the server rejects other bytes\n"
            "\n"
            "%s\n%s\n"
            "Exit status: 0 success, 1 failure, 2 usage error, 3 authentication refused.\n",
            client_token_help, client_connection_help);
}

int cli_token(int argc, char **argv)
{
    static const struct option opts[] = {
        {"size", required_argument, NULL, TOKEN_OPT_SIZE},
        {"md5", required_argument, NULL, TOKEN_OPT_MD5},
        CLIENT_TOKEN_OPTIONS,
        CLIENT_CONNECTION_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    client_config_flags_t flags = {0};
    client_token_params_t p = {.file_size = -1};
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            token_usage(stdout);
            return CLIENT_EXIT_OK;
        case TOKEN_OPT_SIZE:
            if (!client_parse_int(optarg, 0, TOKEN_SIZE_MAX, &p.file_size)) {
                client_error("token", "--size must be a whole number of bytes");
                return CLIENT_EXIT_USAGE;
            }
            break;
        case TOKEN_OPT_MD5:
            p.file_md5 = optarg;
            break;
        case '?':
        case ':':
            client_option_bad("token", argc, argv);
            return CLIENT_EXIT_USAGE;
        default: {
            int r = client_option_common("token", c, optarg, &flags, &p);
            if (r <= 0) {
                if (r == 0)
                    client_option_bad("token", argc, argv);
                return CLIENT_EXIT_USAGE;
            }
        }
        }
    }
    if (argc - optind != 1) {
        client_error("token", "expected one NAME, e.g. vodup token clip.mp4 (see --help)");
        return CLIENT_EXIT_USAGE;
    }
    p.name = argv[optind];
    if (p.file_id && !client_file_id_valid(p.file_id)) {
        client_error("token", "--file-id must be 1 to %d of A-Z a-z 0-9 _ -", CLIENT_FILE_ID_MAX);
        return CLIENT_EXIT_USAGE;
    }
    client_config_t cfg;
    if (!client_config_for("token", &flags, true, &cfg))
        return CLIENT_EXIT_USAGE;
    buf_t form;
    buf_init(&form, 0);
    char err[1024];
    if (!client_token_form(&p, &form, err, sizeof(err))) {
        client_error("token", "%s", err);
        buf_free(&form);
        return CLIENT_EXIT_USAGE;
    }
    int rc = client_command_call("token", &cfg, CLIENT_PATH_TOKEN, form.data ? form.data : "", "getUploadToken");
    buf_free(&form);
    return rc;
}
