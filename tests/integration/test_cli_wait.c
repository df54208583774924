/*
 * test_cli_wait: `vodup upload --wait` and `vodup info` on processed videos,
 * the real client against a real `vodup serve --processing on` with the
 * real ffmpeg (docs/cli.md, docs/processing.md).
 *
 * What must hold:
 *  - a real 1 s clip (made here with ffmpeg's lavfi source): --wait exits 0
 *    once the video is ready and prints the playable URLs, the cover's
 *    among them, which the playback origin then serves as a JPEG; stderr,
 *    not a terminal, gets one plain line per change ending "ready 100%";
 *  - with --json, stdout is the final getVideoInfo data as one JSON line;
 *  - a text file under a media name: --wait exits 4 with one error line
 *    holding the failReason, which starts "probe:";
 *  - a template upload (`admin template add sd --rendition 160x120`): the
 *    `vodup info` summary shows the output as a table row (type, template,
 *    WxH, duration, URL) and --json the raw answer with the same output;
 *  - a server that queues but does not run tasks (--processing off):
 *    --wait-timeout 1 exits 5 after about a second, saying the video is
 *    still uploaded;
 *  - --wait-timeout without --wait, or out of range: exit 2.
 *
 * Each run gets its own HOME under the server's temporary root and its
 * own --file-id, so that no run resumes or collides with another.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "harness.h"
#include "harness_cli.h"

#define FFMPEG "/usr/bin/ffmpeg"
#define CLI_RUN_TIMEOUT_MS 150000 /* processing a 1 s clip takes seconds; this is for a loaded CI box */
#define WAIT_TIMEOUT "120"

static harness_server_t *srv;   /* --processing on */
static harness_server_t *idle;  /* --processing off (the harness's default): tasks stay queued */
static char clip_path[512];     /* 1 s, 160x120, H.264 */
static char text_path[512];     /* a text file named like a video */

/* ---- running the client ---------------------------------------------------------------- */

typedef harness_cli_result_t cli_result_t;

/* Runs `vodup args...` against `s` with a fresh HOME; r is the outcome. */
static void cli_run_on(harness_server_t *s, cli_result_t *r, const char *const *args)
{
    char *home = harness_cli_home(s);
    assert_non_null(home);
    harness_cli_opts_t o = {.home = home, .server_env = true};
    assert_true(harness_cli_run(s, &o, args, CLI_RUN_TIMEOUT_MS, r));
    free(home);
}

static void cli_run(cli_result_t *r, const char *const *args)
{
    cli_run_on(srv, r, args);
}

/* The last line of `text` (without its newline) into out. */
static void last_line(const char *text, char *out, size_t outlen)
{
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        n--;
    size_t start = n;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    snprintf(out, outlen, "%.*s", (int)(n - start), text + start);
}

/* The URL of the "  LABEL  URL" line of the --wait output, malloc'd; NULL when none. */
static char *url_line(const char *out, const char *label)
{
    char *needle = harness_strf("\n  %s ", label);
    const char *p = strstr(out, needle);
    free(needle);
    if (!p)
        return NULL;
    p += strlen(label) + 3;
    p += strspn(p, " ");
    return strndup(p, strcspn(p, "\n"));
}

static void assert_exit(const cli_result_t *r, int status)
{
    if (r->status != status)
        fail_msg("vodup exited %d, wanted %d\nstdout: %s\nstderr: %s", r->status, status, r->out, r->err);
}

/* GET url from the playback origin: the status, and the Content-Type into ct. */
static long fetch(const char *url, char *ct, size_t ctlen)
{
    CURL *c = curl_easy_init();
    assert_non_null(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, NULL);
    FILE *sink = fopen("/dev/null", "w");
    assert_non_null(sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
    long status = 0;
    const char *type = NULL;
    if (curl_easy_perform(c) == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &type);
    }
    snprintf(ct, ctlen, "%s", type ? type : "");
    fclose(sink);
    curl_easy_cleanup(c);
    return status;
}

/* getVideoInfo's data for id (caller json_decref's it). */
static json_t *video_info(const char *id)
{
    harness_response_t resp;
    assert_true(harness_video_info(srv, NULL, id, &resp));
    assert_int_equal(resp.status, 200);
    json_t *d = harness_data(&resp);
    assert_non_null(d);
    json_incref(d);
    harness_response_free(&resp);
    return d;
}

/* ---- the cases ------------------------------------------------------------------------- */

static void test_wait_ready(void **state)
{
    (void)state;
    cli_result_t r;
    cli_run(&r, (const char *const[]){"upload", clip_path, "--file-id", "wait-ready", "--wait", "--wait-timeout",
                                      WAIT_TIMEOUT, NULL});
    assert_exit(&r, 0);
    /* The upload's summary, then the outcome. */
    char *head = harness_strf("uploaded %s (", clip_path);
    assert_true(strncmp(r.out, head, strlen(head)) == 0);
    free(head);
    assert_non_null(strstr(r.out, "\nready after "));
    char *play = url_line(r.out, "playUrl");
    char *cover = url_line(r.out, "coverUrl");
    assert_non_null(play);
    assert_non_null(cover);
    assert_true(strncmp(cover, srv->base_url, strlen(srv->base_url)) == 0);
    assert_non_null(strstr(cover, "/cover.jpg"));
    char ct[128];
    assert_int_equal(fetch(cover, ct, sizeof(ct)), 200);
    assert_string_equal(ct, "image/jpeg");
    assert_int_equal(fetch(play, ct, sizeof(ct)), 200);
    /* Not a terminal: plain lines, the last one the end. */
    char last[128];
    last_line(r.err, last, sizeof(last));
    assert_string_equal(last, "ready 100%");
    assert_null(strstr(r.err, "vodup upload:"));
    assert_null(strchr(r.err, '\r'));
    free(play);
    free(cover);
    harness_cli_result_free(&r);
}

static void test_wait_json(void **state)
{
    (void)state;
    cli_result_t r;
    cli_run(&r, (const char *const[]){"upload", clip_path, "--file-id", "wait-json", "--wait", "--json", NULL});
    assert_exit(&r, 0);
    size_t n = strlen(r.out);
    assert_true(n > 2 && r.out[n - 1] == '\n' && strchr(r.out, '\n') == r.out + n - 1);
    assert_non_null(r.json);
    assert_string_equal(harness_json_str(r.json, "status"), "ready");
    assert_true(harness_is_lower_hex(harness_json_str(r.json, "videoId"), 32));
    assert_non_null(strstr(harness_json_str(r.json, "coverUrl"), "/cover.jpg"));
    assert_int_equal(json_integer_value(json_object_get(r.json, "progress")), 100);
    harness_cli_result_free(&r);
}

static void test_wait_not_media(void **state)
{
    (void)state;
    cli_result_t r;
    cli_run(&r, (const char *const[]){"upload", text_path, "--file-id", "wait-text", "--wait", "--wait-timeout",
                                      WAIT_TIMEOUT, NULL});
    assert_exit(&r, 4);
    assert_null(strstr(r.out, "ready"));
    char last[1024];
    last_line(r.err, last, sizeof(last));
    assert_true(strncmp(last, "vodup upload: video ", 20) == 0);
    const char *reason = strstr(last, " failed: ");
    assert_non_null(reason);
    assert_true(strncmp(reason + 9, "probe:", 6) == 0);
    /* The server says the same. */
    char id[33];
    snprintf(id, sizeof(id), "%.32s", last + 20);
    json_t *d = video_info(id);
    assert_string_equal(harness_json_str(d, "status"), "failed");
    assert_true(strncmp(harness_json_str(d, "failReason"), "probe:", 6) == 0);
    assert_string_equal(reason + 9, harness_json_str(d, "failReason"));
    json_decref(d);
    harness_cli_result_free(&r);

    /* --json: the failed video's data on stdout, the reason on stderr, exit 4. */
    cli_run(&r, (const char *const[]){"upload", text_path, "--file-id", "wait-text-json", "--wait", "--json", NULL});
    assert_exit(&r, 4);
    assert_non_null(r.json);
    assert_string_equal(harness_json_str(r.json, "status"), "failed");
    assert_true(strncmp(harness_json_str(r.json, "failReason"), "probe:", 6) == 0);
    last_line(r.err, last, sizeof(last));
    assert_non_null(strstr(last, " failed: probe:"));
    harness_cli_result_free(&r);
}

static void test_info_outputs(void **state)
{
    (void)state;
    assert_int_equal(harness_admin(srv, NULL, "--account", srv->key.access_key, "template", "add", "sd",
                                   "--rendition", "160x120", NULL),
                     0);
    cli_result_t r;
    cli_run(&r, (const char *const[]){"upload", clip_path, "--file-id", "wait-template", "--template", "sd", "--wait",
                                      "--json", NULL});
    assert_exit(&r, 0);
    assert_non_null(r.json);
    char id[64];
    snprintf(id, sizeof(id), "%s", harness_json_str(r.json, "videoId"));
    json_t *out = json_array_get(json_object_get(r.json, "outputs"), 0);
    assert_non_null(out);
    char *url = strdup(harness_json_str(out, "url"));
    assert_string_equal(harness_json_str(out, "template"), "sd");
    harness_cli_result_free(&r);

    cli_run(&r, (const char *const[]){"info", id, NULL});
    assert_exit(&r, 0);
    assert_string_equal(r.err, "");
    assert_null(r.json);
    assert_non_null(strstr(r.out, "\nstatus      ready\n"));
    assert_non_null(strstr(r.out, "\nresolution  160x120\n"));
    assert_non_null(strstr(r.out, "\nduration    1.0 s\n"));
    assert_non_null(strstr(r.out, "\ncoverUrl    http"));
    assert_non_null(strstr(r.out, "\noutputs     1\n  TYPE  TEMPLATE  SIZE"));
    /* The row: type, template, size, WxH, duration, bitrate, URL. */
    const char *row = strstr(r.out, "\n  mp4   sd ");
    assert_non_null(row);
    char *line = strndup(row + 1, strcspn(row + 1, "\n"));
    assert_non_null(strstr(line, "  160x120  "));
    assert_non_null(strstr(line, "  1.0 s  "));
    assert_non_null(strstr(line, " kb/s  "));
    size_t ll = strlen(line), ul = strlen(url);
    assert_true(ll > ul && strcmp(line + ll - ul, url) == 0);
    free(line);
    harness_cli_result_free(&r);

    cli_run(&r, (const char *const[]){"info", id, "--json", NULL});
    assert_exit(&r, 0);
    json_t *data = json_object_get(r.json, "data");
    assert_int_equal(json_integer_value(json_object_get(r.json, "code")), 200);
    assert_string_equal(harness_json_str(json_array_get(json_object_get(data, "outputs"), 0), "url"), url);
    harness_cli_result_free(&r);
    free(url);
}

static void test_wait_timeout(void **state)
{
    (void)state;
    cli_result_t r;
    int64_t t0 = harness_now_ms();
    cli_run_on(idle, &r, (const char *const[]){"upload", clip_path, "--file-id", "wait-timeout", "--wait",
                                               "--wait-timeout", "1", NULL});
    int64_t took = harness_now_ms() - t0;
    assert_exit(&r, 5);
    char last[1024];
    last_line(r.err, last, sizeof(last));
    assert_true(strncmp(last, "vodup upload: video ", 20) == 0);
    assert_non_null(strstr(last, " is still uploaded"));
    assert_non_null(strstr(last, "--wait-timeout of 1 s"));
    assert_true(took >= 1000 && took < 20000);
    assert_null(strstr(r.out, "ready"));
    harness_cli_result_free(&r);
}

static void test_wait_usage(void **state)
{
    (void)state;
    const char *const *const bad[] = {
        (const char *const[]){"upload", clip_path, "--wait-timeout", "5", NULL},
        (const char *const[]){"upload", clip_path, "--wait", "--wait-timeout", "0", NULL},
        (const char *const[]){"upload", clip_path, "--wait", "--wait-timeout", "1.5", NULL},
        (const char *const[]){"upload", clip_path, "--wait", "--wait-timeout", "604801", NULL},
        (const char *const[]){"upload", clip_path, "--wait", "--wait-timeout", NULL},
    };
    cli_result_t r;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cli_run(&r, bad[i]);
        assert_exit(&r, 2);
        assert_non_null(strstr(r.err, "vodup upload: "));
        assert_string_equal(r.out, "");
        harness_cli_result_free(&r);
    }
}

/* ---- main ------------------------------------------------------------------------------ */

static int group_setup(void **state)
{
    (void)state;
    if (access(FFMPEG, X_OK) != 0) {
        fprintf(stderr, "test_cli_wait: %s is required\n", FFMPEG);
        return -1;
    }
    srv = harness_server_start((const char *const[]){"--processing", "on", NULL});
    idle = harness_server_start(NULL);
    if (!srv || !idle)
        return -1;
    snprintf(clip_path, sizeof(clip_path), "%s/clip.mp4", srv->root);
    char *cmd = harness_strf("%s -nostdin -v error -y -f lavfi -i testsrc2=size=160x120:rate=25:duration=1 "
                             "-c:v libx264 -preset ultrafast -pix_fmt yuv420p '%s'",
                             FFMPEG, clip_path);
    int rc = system(cmd);
    free(cmd);
    if (rc != 0) {
        fprintf(stderr, "test_cli_wait: ffmpeg could not make the clip (status %d)\n", rc);
        return -1;
    }
    static const char text[] = "These are notes, not a video.\nffmpeg cannot read them.\n";
    return harness_write_file(srv, "notes.mp4", text, sizeof(text) - 1, text_path, sizeof(text_path)) ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = 0;
    if (srv && harness_server_finish(srv) != 0)
        rc = -1;
    if (idle && harness_server_finish(idle) != 0)
        rc = -1;
    srv = idle = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wait_usage),     cmocka_unit_test(test_wait_ready),
        cmocka_unit_test(test_wait_json),      cmocka_unit_test(test_wait_not_media),
        cmocka_unit_test(test_info_outputs),   cmocka_unit_test(test_wait_timeout),
    };
    return cmocka_run_group_tests_name("integration.test_cli_wait", tests, group_setup, group_teardown);
}
