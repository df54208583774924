/*
 * list: `vodup list`, one signed getVideoList call whose answer (total and
 * one page of videos, newest first) is printed as it came.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "client/client_options.h"
#include "common/buf.h"
#include "common/encoding.h"

enum { LIST_OPT_NAME = CLIENT_OPT_COMMAND, LIST_OPT_PAGE, LIST_OPT_PAGE_SIZE, LIST_OPT_STATUS, LIST_OPT_CATEGORY };

static void list_usage(FILE *f)
{
    fprintf(f,
            "usage: vodup list [--name S] [--page N] [--page-size N] [--status S] [--category C]\n"
            "\n"
            "Calls getVideoList and prints the answer: total, pageIndex, pageSize and the\n"
            "page's videos, newest first.\n"
            "\n"
            "  --name S             videos whose name contains S (any case)\n"
            "  --page N             page number, from 1 (default 1)\n"
            "  --page-size N        videos per page, 1-100 (default 10)\n"
            "  --status S           created, uploading, uploaded, processing, ready or failed\n"
            "  --category C         videos in a category whose parent or child name is C\n"
            "\n"
            "%s\n"
            "Exit status: 0 success, 1 failure, 2 usage error, 3 authentication refused.\n",
            client_connection_help);
}

/* Appends name=value, percent-encoded, when value is set. */
static bool list_pair(buf_t *b, const char *name, const char *value)
{
    if (!value)
        return true;
    return (b->len == 0 || buf_append(b, "&", 1)) && buf_append_str(b, name) && buf_append(b, "=", 1) &&
           encoding_percent_encode(value, strlen(value), b);
}

int cli_list(int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, LIST_OPT_NAME},
        {"page", required_argument, NULL, LIST_OPT_PAGE},
        {"page-size", required_argument, NULL, LIST_OPT_PAGE_SIZE},
        {"status", required_argument, NULL, LIST_OPT_STATUS},
        {"category", required_argument, NULL, LIST_OPT_CATEGORY},
        CLIENT_CONNECTION_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    client_config_flags_t flags = {0};
    const char *name = NULL, *page = NULL, *page_size = NULL, *status = NULL, *category = NULL;
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            list_usage(stdout);
            return CLIENT_EXIT_OK;
        case LIST_OPT_NAME:
            name = optarg;
            break;
        case LIST_OPT_PAGE:
            page = optarg;
            break;
        case LIST_OPT_PAGE_SIZE:
            page_size = optarg;
            break;
        case LIST_OPT_STATUS:
            status = optarg;
            break;
        case LIST_OPT_CATEGORY:
            category = optarg;
            break;
        default:
            if (c == '?' || c == ':' || client_option_common("list", c, optarg, &flags, NULL) != 1) {
                client_option_bad("list", argc, argv);
                return CLIENT_EXIT_USAGE;
            }
        }
    }
    if (optind != argc) {
        client_error("list", "unexpected argument '%s' (see --help)", argv[optind]);
        return CLIENT_EXIT_USAGE;
    }
    /* The server checks the values; only their shape is caught here. */
    int64_t n;
    if (page && !client_parse_int(page, 1, 1000000000, &n)) {
        client_error("list", "--page must be a whole number from 1");
        return CLIENT_EXIT_USAGE;
    }
    if (page_size && !client_parse_int(page_size, 1, 100, &n)) {
        client_error("list", "--page-size must be 1 to 100");
        return CLIENT_EXIT_USAGE;
    }
    client_config_t cfg;
    if (!client_config_for("list", &flags, true, &cfg))
        return CLIENT_EXIT_USAGE;
    buf_t form;
    buf_init(&form, 0);
    int rc = CLIENT_EXIT_FAILURE;
    if (buf_append(&form, "", 0) && list_pair(&form, "videoName", name) && list_pair(&form, "pageIndex", page) &&
        list_pair(&form, "pageSize", page_size) && list_pair(&form, "status", status) &&
        list_pair(&form, "categoryName", category))
        rc = client_command_call("list", &cfg, CLIENT_PATH_LIST, form.data, "getVideoList");
    else
        client_error("list", "out of memory");
    buf_free(&form);
    return rc;
}
