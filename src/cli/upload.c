/*
 * upload: `vodup upload FILE`, one local file to one video, resumable.
 *
 * Parses the command line and the environment knobs, runs the engine
 * (src/client/client_upload.c) and reports: a progress bar on stderr when it
 * is a terminal, then a summary on stdout, or with --json exactly one JSON
 * line.  A failure is one line on stderr and a non-zero exit status
 * (docs/cli.md).  SIGINT and SIGTERM stop the upload cleanly, keeping its
 * resume record, so the same command continues it.
 *
 * With --wait it then waits for the server's processing
 * (src/client/client_wait.c) and prints the playable URLs, or with --json
 * the final getVideoInfo data, instead of the upload's JSON line.
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
#include "client/client_video_format.h"
#include "client/client_wait.h"

enum {
    UPLOAD_OPT_NAME = CLIENT_OPT_COMMAND,
    UPLOAD_OPT_CONCURRENCY,
    UPLOAD_OPT_BLOCK_SIZE,
    UPLOAD_OPT_JSON,
    UPLOAD_OPT_WAIT,
    UPLOAD_OPT_WAIT_TIMEOUT,
};

#define UPLOAD_LIMIT_RATE_MAX (1LL << 40)
#define UPLOAD_STALL_MAX_S 3600

static void upload_usage(FILE *f)
{
    fprintf(f,
            "usage: vodup upload FILE [--name NAME] [--file-id ID] [--workflow ID] [--watermark N]\n"
            "                    [--template N] [--subtitle ID] [--category PARENT/CHILD]...\n"
            "                    [--domain D] [--overwrite] [--concurrency N] [--block-size MiB] [--json]\n"
            "                    [--wait [--wait-timeout SECONDS]]\n"
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
            "  --wait               then wait until the server has processed the video (a\n"
            "                       progress bar on stderr) and print its playable URLs; with\n"
            "                       --json, the final getVideoInfo data instead\n"
            "  --wait-timeout S     stop waiting after S seconds, 1-%d (default: no limit)\n"
            "\n"
            "%s\n%s\n"
            "Environment: VODUP_RETRY_MAX (tries per request, default %d), VODUP_RETRY_BASE_MS\n"
            "(first backoff, default %d), VODUP_LIMIT_RATE (bytes/s), VODUP_STALL_TIMEOUT (s).\n"
            "Resume records: $XDG_CACHE_HOME/vodup or ~/.cache/vodup.\n"
            "\n"
            "Exit status: 0 uploaded (with --wait: and ready), 1 failure, 2 usage error,\n"
            "3 authentication refused, 4 processing failed (--wait), 5 --wait-timeout passed,\n"
            "130 interrupted (resumable).\n",
            CLIENT_MAX_CONCURRENCY, CLIENT_DEFAULT_CONCURRENCY, CLIENT_WAIT_TIMEOUT_MAX_S, client_token_help,
            client_connection_help,
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

/* --wait, ready: how long it took and the playable URLs. */
static bool upload_print_ready(const client_wait_result_t *w)
{
    buf_t text;
    buf_init(&text, 0);
    bool ok = buf_printf(&text, "ready after %.1f s\n", w->seconds) &&
              client_video_format_urls(w->video, &text, NULL);
    if (ok)
        fwrite(text.data, 1, text.len, stdout);
    buf_free(&text);
    return ok;
}

/* --wait --json: the final getVideoInfo data, one line. */
static bool upload_print_video_json(const json_t *video)
{
    char *text = video ? json_dumps(video, JSON_COMPACT) : NULL;
    if (text)
        printf("%s\n", text);
    free(text);
    return text != NULL;
}

/*
 * --wait: polls until the video is ready or failed and prints the outcome;
 * returns the exit status.  A failed video is a final state as much as a
 * ready one, so --json prints its data too (status and failReason) for
 * scripts, while the exit status says it failed.
 */
static int upload_wait(const client_config_t *cfg, const char *video_id, int64_t timeout_s, bool json,
                       atomic_int *stop)
{
    client_api_t api;
    client_wait_result_t w;
    memset(&w, 0, sizeof(w));
    if (!client_api_init(&api, cfg, stop)) {
        client_error("upload", "cannot initialise libcurl");
        return CLIENT_EXIT_FAILURE;
    }
    client_wait_opts_t o = {.video_id = video_id, .timeout_ms = timeout_s * 1000, .bar = isatty(STDERR_FILENO) == 1};
    int rc = client_wait_video(&api, &o, &w);
    client_api_free(&api);
    bool printed = true;
    if (json && (rc == CLIENT_EXIT_OK || rc == CLIENT_EXIT_PROCESSING))
        printed = upload_print_video_json(w.video);
    else if (rc == CLIENT_EXIT_OK)
        printed = upload_print_ready(&w);
    if (!printed || fflush(stdout) != 0) {
        rc = CLIENT_EXIT_FAILURE;
        snprintf(w.error, sizeof(w.error), "cannot write the result to stdout");
    }
    if (rc != CLIENT_EXIT_OK)
        client_error("upload", "%s", w.error);
    json_decref(w.video);
    return rc;
}

int cli_upload(int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, UPLOAD_OPT_NAME},
        {"concurrency", required_argument, NULL, UPLOAD_OPT_CONCURRENCY},
        {"block-size", required_argument, NULL, UPLOAD_OPT_BLOCK_SIZE},
        {"json", no_argument, NULL, UPLOAD_OPT_JSON},
        {"wait", no_argument, NULL, UPLOAD_OPT_WAIT},
        {"wait-timeout", required_argument, NULL, UPLOAD_OPT_WAIT_TIMEOUT},
        CLIENT_TOKEN_OPTIONS,
        CLIENT_CONNECTION_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    client_config_flags_t flags = {0};
    client_upload_opts_t o = {.concurrency = CLIENT_DEFAULT_CONCURRENCY, .params = {.file_size = -1}};
    bool json = false, wait = false;
    int64_t n, wait_timeout_s = -1;
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
        case UPLOAD_OPT_WAIT:
            wait = true;
            break;
        case UPLOAD_OPT_WAIT_TIMEOUT:
            if (!client_parse_int(optarg, 1, CLIENT_WAIT_TIMEOUT_MAX_S, &wait_timeout_s)) {
                client_error("upload", "--wait-timeout is in seconds: a whole number from 1 to %d",
                             CLIENT_WAIT_TIMEOUT_MAX_S);
                return CLIENT_EXIT_USAGE;
            }
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
    if (wait_timeout_s >= 0 && !wait) {
        client_error("upload", "--wait-timeout needs --wait");
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
    /* With --wait and --json, the one JSON line is the video's, at the end. */
    if (json && !wait)
        upload_print_json(res);
    else if (!json)
        upload_print_summary(o.file, res);
    if (fflush(stdout) != 0) {
        rc = CLIENT_EXIT_FAILURE;
        client_error("upload", "cannot write the result to stdout");
    } else if (wait) {
        rc = upload_wait(&cfg, res->video_id, wait_timeout_s > 0 ? wait_timeout_s : 0, json, &stop);
    }
out:
    free(res);
    curl_global_cleanup();
    return rc;
}
