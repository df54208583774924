/*
 * list: `vodup list [--json]`, one signed getVideoList call: one page of
 * videos, newest first.  By default the page is printed for people, as a
 * table (client_video_format.h); --json prints the API's answer as it came,
 * which is what `vodup list` printed before the table existed, so scripts
 * that read it pass --json (docs/cli.md).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "client/client_options.h"
#include "client/client_video_format.h"
#include "common/buf.h"
#include "common/encoding.h"

enum {
    LIST_OPT_NAME = CLIENT_OPT_COMMAND,
    LIST_OPT_PAGE,
    LIST_OPT_PAGE_SIZE,
    LIST_OPT_STATUS,
    LIST_OPT_CATEGORY,
    LIST_OPT_JSON,
};

/* What the command line asked for. */
typedef struct list_args {
    const char *name, *page, *page_size, *status, *category;
    bool json;
    client_config_flags_t flags;
} list_args_t;

static void list_usage(FILE *f)
{
    fprintf(f,
            "usage: vodup list [--name S] [--page N] [--page-size N] [--status S] [--category C] [--json]\n"
            "\n"
            "Calls getVideoList and prints one page of videos, newest first: a heading\n"
            "(N videos, page P of Q) and a table: VIDEOID STATUS SIZE DURATION WxH\n"
            "CREATED (UTC) NAME.\n"
            "\n"
            "  --name S             videos whose name contains S (any case)\n"
            "  --page N             page number, from 1 (default 1)\n"
            "  --page-size N        videos per page, 1-100 (default 10)\n"
            "  --status S           created, uploading, uploaded, processing, ready or failed\n"
            "  --category C         videos in a category whose parent or child name is C\n"
            "  --json               print the API's answer as it came instead (one JSON text:\n"
            "                       {\"code\":200,...,\"data\":{\"total\":...,\"list\":[...]}})\n"
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

/* The client_answer_fn of the table. */
static int list_print_table(const char *cmd, const client_response_t *r)
{
    buf_t text;
    buf_init(&text, 0);
    int rc = CLIENT_EXIT_FAILURE;
    if (!client_video_format_list(json_object_get(r->json, "data"), &text)) {
        client_error(cmd, "getVideoList: the answer holds no list of videos (try --json to see it)");
        goto out;
    }
    fwrite(text.data, 1, text.len, stdout);
    if (fflush(stdout) != 0 || ferror(stdout))
        client_error(cmd, "cannot write to stdout");
    else
        rc = CLIENT_EXIT_OK;
out:
    buf_free(&text);
    return rc;
}

/* Stores one of list's own options; false when `c` is not one. */
static bool list_own_option(list_args_t *a, int c, const char *arg)
{
    switch (c) {
    case LIST_OPT_NAME: a->name = arg; return true;
    case LIST_OPT_PAGE: a->page = arg; return true;
    case LIST_OPT_PAGE_SIZE: a->page_size = arg; return true;
    case LIST_OPT_STATUS: a->status = arg; return true;
    case LIST_OPT_CATEGORY: a->category = arg; return true;
    case LIST_OPT_JSON: a->json = true; return true;
    default: return false;
    }
}

/* Parses the command line: 0 to go on, else the exit status (help, usage). */
static int list_parse(int argc, char **argv, list_args_t *a)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, LIST_OPT_NAME},
        {"page", required_argument, NULL, LIST_OPT_PAGE},
        {"page-size", required_argument, NULL, LIST_OPT_PAGE_SIZE},
        {"status", required_argument, NULL, LIST_OPT_STATUS},
        {"category", required_argument, NULL, LIST_OPT_CATEGORY},
        {"json", no_argument, NULL, LIST_OPT_JSON},
        CLIENT_CONNECTION_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            list_usage(stdout);
            return -1;
        }
        if (list_own_option(a, c, optarg))
            continue;
        if (c == '?' || c == ':' || client_option_common("list", c, optarg, &a->flags, NULL) != 1) {
            client_option_bad("list", argc, argv);
            return CLIENT_EXIT_USAGE;
        }
    }
    if (optind != argc) {
        client_error("list", "unexpected argument '%s' (see --help)", argv[optind]);
        return CLIENT_EXIT_USAGE;
    }
    /* The server checks the values; only their shape is caught here. */
    int64_t n;
    if (a->page && !client_parse_int(a->page, 1, 1000000000, &n)) {
        client_error("list", "--page must be a whole number from 1");
        return CLIENT_EXIT_USAGE;
    }
    if (a->page_size && !client_parse_int(a->page_size, 1, 100, &n)) {
        client_error("list", "--page-size must be 1 to 100");
        return CLIENT_EXIT_USAGE;
    }
    return 0;
}

int cli_list(int argc, char **argv)
{
    list_args_t a;
    memset(&a, 0, sizeof(a));
    int rc = list_parse(argc, argv, &a);
    if (rc != 0)
        return rc < 0 ? CLIENT_EXIT_OK : rc;
    client_config_t cfg;
    if (!client_config_for("list", &a.flags, true, &cfg))
        return CLIENT_EXIT_USAGE;
    buf_t form;
    buf_init(&form, 0);
    rc = CLIENT_EXIT_FAILURE;
    if (!buf_append(&form, "", 0) || !list_pair(&form, "videoName", a.name) || !list_pair(&form, "pageIndex", a.page) ||
        !list_pair(&form, "pageSize", a.page_size) || !list_pair(&form, "status", a.status) ||
        !list_pair(&form, "categoryName", a.category))
        client_error("list", "out of memory");
    else if (a.json)
        rc = client_command_call("list", &cfg, CLIENT_PATH_LIST, form.data, "getVideoList");
    else
        rc = client_command_call_with("list", &cfg, CLIENT_PATH_LIST, form.data, "getVideoList", list_print_table);
    buf_free(&form);
    return rc;
}
