/*
 * upload: `vodup upload FILE`, one local file to one video, resumable.
 *
 * Parses the command line and the environment knobs, runs the engine
 * (src/client/client_upload.c) and reports: a progress bar on stderr when it
 * is a terminal, then a summary on stdout, or with --json exactly one JSON
 * line.  A failure is one line on stderr and a non-zero exit status
 * (docs/cli.md).  SIGINT and SIGTERM stop the upload cleanly, keeping its
 * resume record, so the same command continues it.
 */
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "client/client_options.h"
#include "client/client_progress.h"
#include "client/client_upload.h"

enum { UPLOAD_OPT_NAME = CLIENT_OPT_COMMAND, UPLOAD_OPT_CONCURRENCY, UPLOAD_OPT_BLOCK_SIZE, UPLOAD_OPT_JSON };

#define UPLOAD_LIMIT_RATE_MAX (1LL << 40)
#define UPLOAD_STALL_MAX_S 3600

static void upload_usage(FILE *f)
{
    fprintf(f,
            "usage: vodup upload FILE [--name NAME] [--file-id ID] [--workflow ID] [--watermark N]\n"
            "                    [--template N] [--subtitle ID] [--category PARENT/CHILD]...\n"
            "                    [--domain D] [--overwrite] [--concurrency N] [--block-size MiB] [--json]\n"
            "\n"
            "Uploads FILE as a new video: getUploadToken (with fileSize and fileMd5, so the\n"
            "server checks the bytes), then the block protocol with N blocks in parallel\n"
            "(files up to 4 MiB: one form upload).  Interrupted uploads resume: run the same\n"
            "command again and only the blocks the server does not hold are sent.\n"
            "\n"
            "Upload options:\n"
            "  --name NAME          originFileName (default: FILE's base name)\n"
            "  --concurrency N      blocks in parallel, 1-%d (default %d)\n"
            "  --block-size MiB     block size, a multiple of 4 up to 1024 (default 4)\n"
            "  --json               print one JSON line at the end: videoId, fileKey, etag,\n"
            "                       size, bytesSent, resumedBytes, playUrl\n"
            "\n"
            "%s\n%s\n"
            "Environment: VODUP_RETRY_MAX (tries per request, default %d), VODUP_RETRY_BASE_MS\n"
            "(first backoff, default %d), VODUP_LIMIT_RATE (bytes/s), VODUP_STALL_TIMEOUT (s).\n"
            "Resume records: $XDG_CACHE_HOME/vodup or ~/.cache/vodup.\n"
            "\n"
            "Exit status: 0 uploaded, 1 failure, 2 usage error, 3 authentication refused,\n"
            "130 interrupted (resumable).\n",
            CLIENT_MAX_CONCURRENCY, CLIENT_DEFAULT_CONCURRENCY, client_token_help, client_connection_help,
            CLIENT_RETRY_DEFAULT_MAX, CLIENT_RETRY_DEFAULT_BASE_MS);
}

/* An optional positive number from the environment; false when malformed. */
static bool upload_env_number(const char *name, int64_t max, int64_t *out)
{
    const char *v = getenv(name);
    *out = 0;
    if (!v || !*v)
        return true;
    if (!client_parse_int(v, 0, max, out)) {
        client_error("upload", "%s must be a whole number from 0 to %lld", name, (long long)max);
        return false;
    }
    return true;
}

static void upload_print_json(const client_upload_result_t *r)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:s?}", "videoId", r->video_id, "fileKey", r->file_key,
                          "etag", r->etag, "size", (json_int_t)r->size, "bytesSent", (json_int_t)r->bytes_sent,
                          "resumedBytes", (json_int_t)r->resumed_bytes, "playUrl",
                          r->play_url[0] ? r->play_url : NULL);
    char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    json_decref(o);
}

static void upload_print_summary(const char *file, const client_upload_result_t *r)
{
    char size[32], sent[32], resumed[32], rate[32];
    client_format_bytes((double)r->size, size, sizeof(size));
    client_format_bytes((double)r->bytes_sent, sent, sizeof(sent));
    client_format_bytes((double)r->resumed_bytes, resumed, sizeof(resumed));
    client_format_bytes(r->seconds > 0 ? (double)r->bytes_sent / r->seconds : 0, rate, sizeof(rate));
    printf("uploaded %s (%s): %s sent in %.1f s (%s/s)", file, size, sent, r->seconds, rate);
    if (r->resumed_bytes > 0)
        printf(", %s already on the server", resumed);
    printf("\n  videoId  %s\n  fileKey  %s\n  etag     %s\n  md5      %s\n", r->video_id, r->file_key, r->etag,
           r->md5);
    if (r->play_url[0])
        printf("  playUrl  %s\n", r->play_url);
}

int cli_upload(int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, UPLOAD_OPT_NAME},
        {"concurrency", required_argument, NULL, UPLOAD_OPT_CONCURRENCY},
        {"block-size", required_argument, NULL, UPLOAD_OPT_BLOCK_SIZE},
        {"json", no_argument, NULL, UPLOAD_OPT_JSON},
        CLIENT_TOKEN_OPTIONS,
        CLIENT_CONNECTION_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    client_config_flags_t flags = {0};
    client_upload_opts_t o = {.concurrency = CLIENT_DEFAULT_CONCURRENCY, .params = {.file_size = -1}};
    bool json = false;
    int64_t n;
    int c;
    optind = 0; /* glibc: start over on a new argv */
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            upload_usage(stdout);
            return CLIENT_EXIT_OK;
        case UPLOAD_OPT_NAME:
            o.params.name = optarg;
            break;
        case UPLOAD_OPT_CONCURRENCY:
            if (!client_parse_int(optarg, 1, CLIENT_MAX_CONCURRENCY, &n)) {
                client_error("upload", "--concurrency must be 1 to %d", CLIENT_MAX_CONCURRENCY);
                return CLIENT_EXIT_USAGE;
            }
            o.concurrency = (int)n;
            break;
        case UPLOAD_OPT_BLOCK_SIZE:
            if (!client_parse_int(optarg, 4, CLIENT_MAX_BLOCK_SIZE / CLIENT_MIB, &n) || n % 4 != 0) {
                client_error("upload", "--block-size is in MiB: a multiple of 4 from 4 to %lld",
                             (long long)(CLIENT_MAX_BLOCK_SIZE / CLIENT_MIB));
                return CLIENT_EXIT_USAGE;
            }
            o.block_size = n * CLIENT_MIB;
            break;
        case UPLOAD_OPT_JSON:
            json = true;
            break;
        case '?':
        case ':':
            client_option_bad("upload", argc, argv);
            return CLIENT_EXIT_USAGE;
        default: {
            int r = client_option_common("upload", c, optarg, &flags, &o.params);
            if (r < 0)
                return CLIENT_EXIT_USAGE;
            if (r == 0) {
                client_option_bad("upload", argc, argv);
                return CLIENT_EXIT_USAGE;
            }
        }
        }
    }
    if (argc - optind != 1) {
        client_error("upload", argc - optind < 1 ? "which file? (vodup upload FILE; see --help)"
                                                 : "one FILE at a time (see --help)");
        return CLIENT_EXIT_USAGE;
    }
    o.file = argv[optind];
    if (o.params.file_id && !client_file_id_valid(o.params.file_id)) {
        client_error("upload", "--file-id must be 1 to %d of A-Z a-z 0-9 _ -", CLIENT_FILE_ID_MAX);
        return CLIENT_EXIT_USAGE;
    }
    int64_t stall = 0;
    if (!upload_env_number("VODUP_LIMIT_RATE", UPLOAD_LIMIT_RATE_MAX, &o.limit_rate) ||
        !upload_env_number("VODUP_STALL_TIMEOUT", UPLOAD_STALL_MAX_S, &stall))
        return CLIENT_EXIT_USAGE;
    o.stall_s = (long)stall;
    o.progress = isatty(STDERR_FILENO) == 1;

    client_config_t cfg;
    if (!client_config_for("upload", &flags, true, &cfg))
        return CLIENT_EXIT_USAGE;

    static atomic_int stop;
    client_signals_install(&stop);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        client_error("upload", "cannot initialise libcurl");
        return CLIENT_EXIT_FAILURE;
    }
    client_upload_result_t *res = calloc(1, sizeof(*res));
    int rc = CLIENT_EXIT_FAILURE;
    if (!res) {
        client_error("upload", "out of memory");
        goto out;
    }
    rc = client_upload(&cfg, &o, &stop, res);
    if (rc != CLIENT_EXIT_OK) {
        client_error("upload", "%s", res->error);
        goto out;
    }
    if (json)
        upload_print_json(res);
    else
        upload_print_summary(o.file, res);
    if (fflush(stdout) != 0) {
        rc = CLIENT_EXIT_FAILURE;
        client_error("upload", "cannot write the result to stdout");
    }
out:
    free(res);
    curl_global_cleanup();
    return rc;
}
