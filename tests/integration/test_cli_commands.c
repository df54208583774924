/*
 * test_cli_commands: the client commands other than upload, the real
 * binary against a real server (docs/cli.md):
 *
 *  - `vodup configure` writes ~/.config/vodup/config mode 0600 (flags, or
 *    answers on stdin), and the other commands then work from it alone;
 *    the environment overrides the file and flags override both; it tries
 *    the values first and writes nothing when the server refuses the keys
 *    (exit 3) or cannot be reached (exit 1), unless --no-check;
 *  - `vodup token NAME` prints getUploadToken's answer; `vodup info --json`
 *    and `vodup list --json` print theirs, `vodup info` a summary and
 *    `vodup list` a table for people (test_cli_wait.c shows the outputs
 *    table); a refusal is one line on stderr with exit 1 (or 3 for
 *    authentication); a refused extension lists the accepted ones;
 *  - `vodup sign` prints a curl command that works when run by a shell,
 *    for POST with a form or JSON body and GET with a query, including
 *    values that need shell quoting;
 *  - every command answers --help; usage errors exit 2; an unreachable
 *    endpoint exits 1 after its retries;
 *  - `vodup admin template add` takes repeated --rendition WxH[@KBPS] or the
 *    older --width/--height/--video-bitrate (not both: exit 2), and
 *    `subtitle add` takes --mode burn|soft (default burn); the lists show
 *    renditions and modes, also of specs stored in the older shapes.
 *
 * Each run gets its own HOME under the server's temporary root and an
 * explicit environment (fork + execve).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/buf.h"
#include "harness.h"
#include "harness_cli.h"

#define CLI_RUN_TIMEOUT_MS 30000

static harness_server_t *srv;

/* ---- running the client (harness_cli) ------------------------------------------------ */

typedef harness_cli_result_t cli_result_t;

static void cli_result_free(cli_result_t *r)
{
    harness_cli_result_free(r);
}

/* The server and its key, as environment entries (static storage). */
static const char *const *server_env(void)
{
    static char endpoint[256], ak[256], sk[256];
    static const char *env[4];
    snprintf(endpoint, sizeof(endpoint), "VODUP_ENDPOINT=%s", srv->base_url);
    snprintf(ak, sizeof(ak), "VODUP_ACCESS_KEY=%s", srv->key.access_key);
    snprintf(sk, sizeof(sk), "VODUP_SECRET_KEY=%s", srv->key.secret_key);
    env[0] = endpoint;
    env[1] = ak;
    env[2] = sk;
    env[3] = NULL;
    return env;
}

/*
 * Runs `argv0 args...` (VODUP_BIN when argv0 is NULL) with HOME=home, the
 * given environment additions and `input` on stdin, to the end.
 */
static void cli_exec(cli_result_t *r, const char *argv0, const char *home, const char *const *extra_env,
                     const char *input, const char *const *args)
{
    harness_cli_opts_t o = {.argv0 = argv0, .home = home, .extra_env = extra_env, .input = input ? input : ""};
    assert_true(harness_cli_run(srv, &o, args, CLI_RUN_TIMEOUT_MS, r));
}

static void cli_run(cli_result_t *r, const char *home, const char *const *extra_env, const char *const *args)
{
    cli_exec(r, NULL, home, extra_env, NULL, args);
}

static char *new_home(void)
{
    char *home = harness_cli_home(srv);
    assert_non_null(home);
    return home;
}

static void assert_one_line(const char *text)
{
    size_t n = strlen(text);
    if (n < 2 || text[n - 1] != '\n' || strchr(text, '\n') != text + n - 1)
        fail_msg("expected one line on stderr, got: '%s'", text);
}

/* A successful API answer printed on stdout: {"code":200,...,"data":{...}}. */
static json_t *assert_printed_ok(const cli_result_t *r)
{
    if (r->status != 0)
        fail_msg("exit %d, stderr: %s", r->status, r->err);
    assert_non_null(r->json);
    json_t *code = json_object_get(r->json, "code");
    assert_true(json_is_integer(code) && json_integer_value(code) == 200);
    json_t *data = json_object_get(r->json, "data");
    assert_true(json_is_object(data));
    assert_string_equal(r->err, "");
    return data;
}

/* ---- configure ---------------------------------------------------------------------- */

static void test_configure(void **state)
{
    (void)state;
    char *home = new_home();
    cli_result_t r;
    cli_run(&r, home, NULL,
            (const char *const[]){"configure", "--endpoint", srv->base_url, "--access-key", srv->key.access_key,
                                  "--secret-key", srv->key.secret_key, NULL});
    assert_int_equal(r.status, 0);
    char *config = harness_strf("%s/.config/vodup/config", home);
    assert_non_null(strstr(r.out, config));
    cli_result_free(&r);
    struct stat st;
    assert_int_equal(stat(config, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *dir = harness_strf("%s/.config/vodup", home);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);

    /* The config file alone is enough. */
    cli_run(&r, home, NULL, (const char *const[]){"token", "from-config.mp4", NULL});
    assert_printed_ok(&r);
    cli_result_free(&r);

    /* The environment overrides the file; a flag overrides the environment. */
    const char *wrong[] = {"VODUP_SECRET_KEY=wrong-secret", NULL};
    cli_run(&r, home, wrong, (const char *const[]){"token", "env.mp4", NULL});
    assert_int_equal(r.status, 3);
    assert_one_line(r.err);
    cli_result_free(&r);
    cli_run(&r, home, wrong, (const char *const[]){"token", "flag.mp4", "--secret-key", srv->key.secret_key, NULL});
    assert_printed_ok(&r);
    cli_result_free(&r);

    /* Answers on stdin, one per line; an empty answer keeps the current
     * value.  An AccessKey the server does not know is refused before
     * anything is written (exit 3), unless --no-check. */
    char *input = harness_strf("\n%s\n\n", "AKNEW");
    cli_exec(&r, NULL, home, NULL, input, (const char *const[]){"configure", NULL});
    assert_int_equal(r.status, 3);
    assert_one_line(r.err);
    assert_non_null(strstr(r.err, "HTTP 401"));
    assert_non_null(strstr(r.err, "nothing written"));
    assert_string_equal(r.out, "");
    cli_result_free(&r);
    cli_run(&r, home, NULL, (const char *const[]){"token", "still-configured.mp4", NULL});
    assert_printed_ok(&r);
    cli_result_free(&r);
    cli_exec(&r, NULL, home, NULL, input, (const char *const[]){"configure", "--no-check", NULL});
    assert_int_equal(r.status, 0);
    cli_result_free(&r);
    char *text = NULL;
    FILE *f = fopen(config, "r");
    assert_non_null(f);
    char line[512];
    buf_t b;
    buf_init(&b, 0);
    while (fgets(line, sizeof(line), f))
        buf_append_str(&b, line);
    fclose(f);
    text = buf_steal(&b);
    char *want_endpoint = harness_strf("endpoint = %s\n", srv->base_url);
    char *want_secret = harness_strf("secret-key = %s\n", srv->key.secret_key);
    assert_non_null(strstr(text, want_endpoint));
    assert_non_null(strstr(text, "access-key = AKNEW\n"));
    assert_non_null(strstr(text, want_secret));
    /* The SecretKey is never printed. */
    cli_exec(&r, NULL, home, NULL, "\n\n\n", (const char *const[]){"configure", "--no-check", NULL});
    assert_int_equal(r.status, 0);
    assert_null(strstr(r.out, srv->key.secret_key));
    assert_null(strstr(r.err, srv->key.secret_key));
    cli_result_free(&r);

    /* --config FILE: written there; then read from there. */
    char *other = harness_strf("%s/elsewhere.conf", home);
    cli_run(&r, home, NULL,
            (const char *const[]){"configure", "--config", other, "--endpoint", srv->host, "--access-key",
                                  srv->key.access_key, "--secret-key", srv->key.secret_key, NULL});
    assert_int_equal(r.status, 0);
    cli_result_free(&r);
    cli_run(&r, home, NULL, (const char *const[]){"list", "--config", other, "--json", NULL});
    assert_printed_ok(&r);
    cli_result_free(&r);

    /* Nothing to configure with: no answers on stdin. */
    char *empty_home = new_home();
    cli_exec(&r, NULL, empty_home, NULL, "", (const char *const[]){"configure", NULL});
    assert_int_equal(r.status, 2);
    assert_one_line(r.err);
    cli_result_free(&r);
    cli_run(&r, empty_home, NULL,
            (const char *const[]){"configure", "--endpoint", "ftp://x", "--access-key", "a", "--secret-key", "s",
                                  NULL});
    assert_int_equal(r.status, 2);
    cli_result_free(&r);

    free(empty_home);
    free(other);
    free(want_endpoint);
    free(want_secret);
    free(text);
    free(input);
    free(dir);
    free(config);
    free(home);
}

/* ---- token, info, list ------------------------------------------------------------------ */

/* `vodup list` without --json: a heading, then a table whose rows start at
 * the columns of the header line; video_id is on the first page. */
static void assert_list_table(const char *home, const char *const *env, const char *video_id)
{
    cli_result_t r;
    cli_run(&r, home, env, (const char *const[]){"list", "--name", "cli-token", NULL});
    assert_int_equal(r.status, 0);
    assert_null(r.json);
    assert_string_equal(r.err, "");
    const char *want_head = "1 video, page 1 of 1 (10 per page)\n"
                            "VIDEOID                           STATUS   SIZE  DURATION  WxH  CREATED (UTC)        NAME\n";
    if (strncmp(r.out, want_head, strlen(want_head)) != 0)
        fail_msg("vodup list printed:\n%s", r.out);
    const char *row = r.out + strlen(want_head);
    char *want_row = harness_strf("%s  created  -     -         -    ", video_id);
    assert_true(strncmp(row, want_row, strlen(want_row)) == 0);
    /* CREATED is the UTC time to the second, then the name, last. */
    const char *created = row + strlen(want_row);
    assert_true(created[4] == '-' && created[10] == ' ' && created[13] == ':' && created[19] == ' ');
    assert_string_equal(created + 21, "cli-token.mp4\n");
    free(want_row);
    cli_result_free(&r);
    cli_run(&r, home, env, (const char *const[]){"list", "--name", "no-such-video", NULL});
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "no videos\n");
    cli_result_free(&r);
}

static void test_token_info_list(void **state)
{
    (void)state;
    char *home = new_home();
    const char *const *env = server_env();
    cli_result_t r;
    cli_run(&r, home, env,
            (const char *const[]){"token", "cli-token.mp4", "--size", "1048576", "--md5",
                                  "0123456789ABCDEF0123456789abcdef", "--file-id", "cli-tok-1", "--category",
                                  "sports/football", "--cmd", "vframe/jpg/offset/1", NULL});
    json_t *data = assert_printed_ok(&r);
    const char *video_id = harness_json_str(data, "videoId");
    assert_true(harness_is_lower_hex(video_id, 32));
    assert_non_null(harness_json_str(data, "uploadToken"));
    assert_string_equal(harness_json_str(data, "uploadUrl"), srv->base_url);
    char id[64];
    snprintf(id, sizeof(id), "%s", video_id);
    cli_result_free(&r);

    cli_run(&r, home, env, (const char *const[]){"info", id, "--json", NULL});
    data = assert_printed_ok(&r);
    assert_string_equal(harness_json_str(data, "videoName"), "cli-token.mp4");
    assert_string_equal(harness_json_str(data, "status"), "created");
    assert_string_equal(harness_json_str(data, "fileId"), "cli-tok-1");
    assert_string_equal(harness_json_str(data, "expectedMd5"), "0123456789abcdef0123456789abcdef");
    assert_string_equal(harness_json_str(data, "cmd"), "vframe/jpg/offset/1");
    assert_int_equal(json_integer_value(json_object_get(data, "expectedSize")), 1048576);
    json_t *cat = json_array_get(json_object_get(data, "categories"), 0);
    assert_string_equal(harness_json_str(cat, "parentName"), "sports");
    assert_string_equal(harness_json_str(cat, "childName"), "football");
    cli_result_free(&r);

    /* Without --json, the same video for people: a line per known field. */
    cli_run(&r, home, env, (const char *const[]){"info", id, NULL});
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    assert_null(r.json);
    char *want = harness_strf("videoId     %s\nvideoName   cli-token.mp4\nstatus      created\n", id);
    assert_true(strncmp(r.out, want, strlen(want)) == 0);
    assert_non_null(strstr(r.out, "\nplayUrl     http"));
    free(want);
    cli_result_free(&r);

    cli_run(&r, home, env, (const char *const[]){"list", "--name", "CLI-TOKEN", "--page", "1", "--json", NULL});
    data = assert_printed_ok(&r);
    assert_int_equal(json_integer_value(json_object_get(data, "total")), 1);
    assert_string_equal(harness_json_str(json_array_get(json_object_get(data, "list"), 0), "videoId"), id);
    cli_result_free(&r);
    cli_run(&r, home, env,
            (const char *const[]){"list", "--status", "created", "--category", "football", "--page-size", "5", "--json",
                                  NULL});
    data = assert_printed_ok(&r);
    assert_true(json_integer_value(json_object_get(data, "total")) >= 1);
    assert_int_equal(json_integer_value(json_object_get(data, "pageSize")), 5);
    cli_result_free(&r);
    cli_run(&r, home, env, (const char *const[]){"list", "--page", "999", "--json", NULL});
    data = assert_printed_ok(&r);
    assert_int_equal(json_array_size(json_object_get(data, "list")), 0);
    cli_result_free(&r);
    assert_list_table(home, env, id);

    /* Refusals: one line with the server's message, nothing on stdout. */
    cli_run(&r, home, env, (const char *const[]){"info", "0123456789abcdef0123456789abcdef", NULL});
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "vodup info: getVideoInfo: HTTP 404: The video does not exist."));
    assert_non_null(strstr(r.err, "requestId "));
    assert_one_line(r.err);
    cli_result_free(&r);
    cli_run(&r, home, env, (const char *const[]){"token", "no-extension", NULL});
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "HTTP 400: Video source error: the name has no extension (accepted: mp4,m4v,mov,"));
    cli_result_free(&r);
    cli_run(&r, home, env, (const char *const[]){"token", "notes.TXT", NULL});
    assert_int_equal(r.status, 1);
    assert_one_line(r.err);
    assert_non_null(strstr(r.err, "HTTP 400: Video source error: .txt is not an accepted extension (accepted: mp4,"));
    assert_non_null(strstr(r.err, ",webm,"));
    cli_result_free(&r);
    cli_run(&r, home, env, (const char *const[]){"list", "--status", "bogus", NULL});
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "HTTP 400"));
    cli_result_free(&r);
    cli_run(&r, home, (const char *const[]){"VODUP_SECRET_KEY=bad", NULL},
            (const char *const[]){"list", "--endpoint", srv->base_url, "--access-key", srv->key.access_key, NULL});
    assert_int_equal(r.status, 3);
    assert_non_null(strstr(r.err, "HTTP 401: Authentication failed"));
    cli_result_free(&r);
    /* A disabled key: 403, also an authentication refusal. */
    harness_key_t k;
    assert_true(harness_admin_key_create(srv, "cli-disabled", &k));
    assert_int_equal(harness_admin(srv, NULL, "key", "disable", k.access_key, NULL), 0);
    char *ak = harness_strf("VODUP_ACCESS_KEY=%s", k.access_key), *sk = harness_strf("VODUP_SECRET_KEY=%s", k.secret_key);
    char *ep = harness_strf("VODUP_ENDPOINT=%s", srv->base_url);
    cli_run(&r, home, (const char *const[]){ep, ak, sk, NULL}, (const char *const[]){"list", NULL});
    assert_int_equal(r.status, 3);
    assert_non_null(strstr(r.err, "HTTP 403"));
    cli_result_free(&r);
    free(ep);
    free(ak);
    free(sk);
    free(home);
}

/* ---- sign ------------------------------------------------------------------------------- */

/* Runs `vodup sign args...`, then the printed command with bash. */
static json_t *sign_and_run(const char *home, const char *const *args, cli_result_t *curl_out)
{
    cli_result_t r;
    cli_run(&r, home, server_env(), args);
    if (r.status != 0)
        fail_msg("vodup sign exit %d: %s", r.status, r.err);
    assert_true(strncmp(r.out, "curl -sS ", 9) == 0);
    assert_int_equal(strchr(r.out, '\n') - r.out, (long)strlen(r.out) - 1); /* one line */
    cli_exec(curl_out, "/bin/bash", home, NULL, NULL, (const char *const[]){"-c", r.out, NULL});
    cli_result_free(&r);
    if (curl_out->status != 0)
        fail_msg("the printed command failed (exit %d): %s", curl_out->status, curl_out->err);
    return json_object_get(curl_out->json, "data");
}

static void test_sign(void **state)
{
    (void)state;
    if (access("/usr/bin/curl", X_OK) != 0 && access("/bin/curl", X_OK) != 0) {
        print_message("  curl is not installed: `vodup sign` output checked by the unit test only\n");
        skip();
    }
    char *home = new_home();
    cli_result_t c;

    /* POST with a form body that needs quoting (a ' in the name). */
    json_t *d = sign_and_run(home,
                             (const char *const[]){"sign", "post", "/vod/videoManage/getUploadToken", "--data",
                                                   "originFileName=it's%20a%20clip.mp4&fileId=sign-1", NULL},
                             &c);
    assert_non_null(d);
    char id[64];
    snprintf(id, sizeof(id), "%s", harness_json_str(d, "videoId"));
    cli_result_free(&c);

    /* GET with a query in any order, '+' for a space, on the full URL. */
    char *url = harness_strf("%s/vod/videoManage/getVideoList?videoName=it%%27s+a&pageSize=3", srv->base_url);
    d = sign_and_run(home, (const char *const[]){"sign", "GET", url, NULL}, &c);
    assert_non_null(d);
    assert_int_equal(json_integer_value(json_object_get(d, "total")), 1);
    assert_string_equal(harness_json_str(json_array_get(json_object_get(d, "list"), 0), "videoName"),
                        "it's a clip.mp4");
    cli_result_free(&c);

    /* A JSON body (its type is guessed from the '{'). */
    char *body = harness_strf("{\"videoId\":\"%s\"}", id);
    d = sign_and_run(home, (const char *const[]){"sign", "POST", "/vod/videoManage/getVideoInfo", "--data", body, NULL},
                     &c);
    assert_non_null(d);
    assert_string_equal(harness_json_str(d, "fileId"), "sign-1");
    cli_result_free(&c);

    /* An explicit content type is the one signed and sent. */
    d = sign_and_run(home,
                     (const char *const[]){"sign", "POST", "/vod/videoManage/getVideoList", "--data", "pageSize=1",
                                           "--content-type", "application/x-www-form-urlencoded; charset=utf-8",
                                           NULL},
                     &c);
    assert_non_null(d);
    cli_result_free(&c);

    /* Nothing is sent by sign itself; bad input is a usage error. */
    cli_result_t r;
    cli_run(&r, home, server_env(), (const char *const[]){"sign", "GET", NULL});
    assert_int_equal(r.status, 2);
    cli_result_free(&r);
    cli_run(&r, home, server_env(), (const char *const[]){"sign", "G3T", "/x", NULL});
    assert_int_equal(r.status, 2);
    cli_result_free(&r);
    cli_run(&r, home, server_env(), (const char *const[]){"sign", "GET", "ftp://h/x", NULL});
    assert_int_equal(r.status, 2);
    cli_result_free(&r);
    free(body);
    free(url);
    free(home);
}

/* ---- help and usage ------------------------------------------------------------------------ */

static void test_help_and_usage(void **state)
{
    (void)state;
    char *home = new_home();
    static const char *const commands[] = {"upload", "token", "info", "list", "sign", "configure"};
    cli_result_t r;
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        char *want = harness_strf("usage: vodup %s", commands[i]);
        cli_run(&r, home, NULL, (const char *const[]){commands[i], "--help", NULL});
        assert_int_equal(r.status, 0);
        assert_true(strncmp(r.out, want, strlen(want)) == 0);
        assert_string_equal(r.err, "");
        cli_result_free(&r);
        cli_run(&r, home, NULL, (const char *const[]){commands[i], "-h", NULL});
        assert_int_equal(r.status, 0);
        cli_result_free(&r);
        cli_run(&r, home, NULL, (const char *const[]){commands[i], "--no-such-option", NULL});
        assert_int_equal(r.status, 2);
        assert_one_line(r.err);
        cli_result_free(&r);
        free(want);
    }
    cli_run(&r, home, NULL, (const char *const[]){"--help", NULL});
    assert_int_equal(r.status, 0);
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        char *line = harness_strf("  %s ", commands[i]);
        assert_non_null(strstr(r.out, line));
        free(line);
    }
    cli_result_free(&r);

    const char *const *env = server_env();
    const char *const *const bad[] = {
        (const char *const[]){"token", NULL},
        (const char *const[]){"token", "a.mp4", "b.mp4", NULL},
        (const char *const[]){"token", "a.mp4", "--size", "-1", NULL},
        (const char *const[]){"token", "a.mp4", "--category", "nochild", NULL},
        (const char *const[]){"info", NULL},
        (const char *const[]){"list", "extra", NULL},
        (const char *const[]){"list", "--page", "0", NULL},
        (const char *const[]){"list", "--page-size", "101", NULL},
        (const char *const[]){"configure", "extra", NULL},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        cli_run(&r, home, env, bad[i]);
        if (r.status != 2)
            fail_msg("vodup %s ...: exit %d, expected 2 (%s)", bad[i][0], r.status, r.err);
        assert_one_line(r.err);
        cli_result_free(&r);
    }
    /* No credentials anywhere. */
    cli_run(&r, home, NULL, (const char *const[]){"list", NULL});
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "vodup configure"));
    cli_result_free(&r);
    free(home);
}

static void test_unreachable(void **state)
{
    (void)state;
    char *home = new_home();
    /* A port nothing listens on (the harness's own server, stopped, would do too). */
    cli_result_t r;
    cli_run(&r, home,
            (const char *const[]){"VODUP_ENDPOINT=http://127.0.0.1:1", "VODUP_ACCESS_KEY=AK", "VODUP_SECRET_KEY=SK",
                                  "VODUP_RETRY_MAX=2", NULL},
            (const char *const[]){"info", "0123456789abcdef0123456789abcdef", NULL});
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "cannot reach http://127.0.0.1:1"));
    assert_non_null(strstr(r.err, "after 2 tries"));
    assert_one_line(r.err);
    cli_result_free(&r);
    /* configure tries the endpoint before writing it. */
    cli_run(&r, home, (const char *const[]){"VODUP_RETRY_MAX=2", NULL},
            (const char *const[]){"configure", "--endpoint", "http://127.0.0.1:1", "--access-key", "AK",
                                  "--secret-key", "SK", NULL});
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "cannot reach http://127.0.0.1:1"));
    assert_non_null(strstr(r.err, "nothing written"));
    assert_one_line(r.err);
    cli_result_free(&r);
    char *config = harness_strf("%s/.config/vodup/config", home);
    struct stat st;
    assert_int_equal(stat(config, &st), -1);
    cli_run(&r, home, NULL,
            (const char *const[]){"configure", "--endpoint", "http://127.0.0.1:1", "--access-key", "AK",
                                  "--secret-key", "SK", "--no-check", NULL});
    assert_int_equal(r.status, 0);
    assert_int_equal(stat(config, &st), 0);
    cli_result_free(&r);
    free(config);
    free(home);
}

/* ---- admin: templates and subtitles (process/spec) ------------------------------------ */

/* Runs `vodup admin --data DIR --account AK args...` on the test server's data. */
static void admin_run(cli_result_t *r, const char *home, const char *const *args)
{
    const char *argv[32] = {"admin", "--data", srv->data_dir, "--account", srv->key.access_key};
    size_t n = 5;
    for (size_t i = 0; args[i] && n < sizeof(argv) / sizeof(argv[0]) - 1; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    cli_run(r, home, NULL, argv);
}

/* The stored spec of one resource, from `--json KIND list` (a new reference). */
static json_t *admin_listed_spec(const char *home, const char *kind, const char *name)
{
    cli_result_t r;
    admin_run(&r, home, (const char *const[]){"--json", kind, "list", NULL});
    if (r.status != 0 || !json_is_array(r.json))
        fail_msg("%s list: exit %d: %s", kind, r.status, r.err);
    json_t *found = NULL, *item;
    size_t i;
    json_array_foreach(r.json, i, item)
        if (!strcmp(harness_json_str(item, "name"), name))
            found = json_incref(json_object_get(item, "spec"));
    cli_result_free(&r);
    if (!found)
        fail_msg("%s '%s' is not listed", kind, name);
    return found;
}

/* Asserts one rendition of a listed template spec. */
static void assert_rendition(json_t *spec, size_t i, int width, int height, int kbps)
{
    json_t *r = json_array_get(json_object_get(spec, "renditions"), i);
    assert_non_null(r);
    assert_int_equal(json_integer_value(json_object_get(r, "width")), width);
    assert_int_equal(json_integer_value(json_object_get(r, "height")), height);
    assert_int_equal(json_integer_value(json_object_get(r, "videoBitrate")), kbps);
}

static void admin_ok(const char *home, const char *const *args)
{
    cli_result_t r;
    admin_run(&r, home, args);
    if (r.status != 0)
        fail_msg("vodup admin %s %s %s: exit %d: %s", args[0], args[1], args[2], r.status, r.err);
    cli_result_free(&r);
}

static void test_admin_template(void **state)
{
    (void)state;
    char *home = new_home();
    /* --rendition repeats: one HLS variant each. */
    admin_ok(home, (const char *const[]){"template", "add", "cli-ladder", "--container", "hls", "--audio-bitrate",
                                         "128", "--rendition", "1920x1080@5000", "--rendition", "1280x720", NULL});
    json_t *spec = admin_listed_spec(home, "template", "cli-ladder");
    assert_string_equal(harness_json_str(spec, "container"), "hls");
    assert_string_equal(harness_json_str(spec, "videoCodec"), "h264");
    assert_int_equal(json_integer_value(json_object_get(spec, "audioBitrate")), 128);
    assert_int_equal(json_array_size(json_object_get(spec, "renditions")), 2);
    assert_rendition(spec, 0, 1920, 1080, 5000);
    assert_rendition(spec, 1, 1280, 720, 0);
    json_decref(spec);

    /* The older flags: one rendition; no size at all: the source's. */
    admin_ok(home, (const char *const[]){"template", "add", "cli-short", "--width", "1280", "--height", "720",
                                         "--video-bitrate", "2500", NULL});
    spec = admin_listed_spec(home, "template", "cli-short");
    assert_int_equal(json_array_size(json_object_get(spec, "renditions")), 1);
    assert_rendition(spec, 0, 1280, 720, 2500);
    json_decref(spec);
    admin_ok(home, (const char *const[]){"template", "add", "cli-source", "--container", "webm", NULL});
    spec = admin_listed_spec(home, "template", "cli-source");
    assert_string_equal(harness_json_str(spec, "videoCodec"), "vp9");
    assert_string_equal(harness_json_str(spec, "audioCodec"), "opus");
    assert_rendition(spec, 0, 0, 0, 0);
    json_decref(spec);

    /* A template stored in the shape before renditions is listed as one. */
    assert_int_equal(harness_db_exec(srv,
                                     "INSERT INTO resources (account_id, kind, id, name, spec, created_ms) "
                                     "SELECT account_id, 'template', 'cli-legacy', 'cli-legacy', ?2, 0 "
                                     "FROM access_keys WHERE access_key = ?1",
                                     srv->key.access_key,
                                     "{\"container\":\"mp4\",\"videoCodec\":\"h264\",\"audioCodec\":\"aac\","
                                     "\"width\":640,\"height\":360,\"videoBitrate\":800,\"audioBitrate\":64}"),
                     1);
    spec = admin_listed_spec(home, "template", "cli-legacy");
    assert_int_equal(json_array_size(json_object_get(spec, "renditions")), 1);
    assert_rendition(spec, 0, 640, 360, 800);
    json_decref(spec);

    /* The text list shows the renditions as --rendition takes them. */
    cli_result_t r;
    admin_run(&r, home, (const char *const[]){"template", "list", NULL});
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "RENDITIONS"));
    assert_non_null(strstr(r.out, "1920x1080@5000,1280x720\n"));
    assert_non_null(strstr(r.out, "aac@128"));
    assert_non_null(strstr(r.out, "1280x720@2500\n"));
    assert_non_null(strstr(r.out, "640x360@800\n"));
    assert_non_null(strstr(r.out, "source\n"));
    cli_result_free(&r);

    /* Usage errors: exit 2, one line naming the rule, nothing stored. */
    static const struct {
        const char *args[10];
        const char *message;
    } bad[] = {
        {{"--rendition", "1280x720", "--width", "640", NULL}, "not both"},
        {{"--video-bitrate", "800", "--rendition", "640x360", NULL}, "not both"},
        {{"--rendition", "10x10", NULL}, "width and height must be 16..8192"},
        {{"--rendition", "1280x720@0", NULL}, "the bitrate must be 1..100000 kbps"},
        {{"--rendition", "1280:720", NULL}, "is not WxH[@KBPS]"},
        {{"--rendition", "1280x720", "--rendition", "720x1280", NULL}, "the same size"},
        {{"--container", "webm", "--video-codec", "h264", NULL}, "webm cannot hold h264 video"},
        {{"--container", "hls", "--audio-codec", "opus", NULL}, "hls cannot hold opus audio"},
        {{"--video-codec", "copy", "--rendition", "640x360", NULL}, "video codec copy"},
        {{"--width", "8", NULL}, "--width must be 0"},
        {{"--container", "avi", NULL}, "--container must be"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *args[16] = {"template", "add", "cli-bad"};
        for (size_t k = 0; bad[i].args[k]; k++)
            args[3 + k] = bad[i].args[k];
        admin_run(&r, home, args);
        if (r.status != 2 || !strstr(r.err, bad[i].message))
            fail_msg("case %zu: exit %d, stderr '%s', expected 2 and '%s'", i, r.status, r.err, bad[i].message);
        assert_one_line(r.err);
        cli_result_free(&r);
    }
    admin_run(&r, home, (const char *const[]){"template", "list", NULL});
    assert_null(strstr(r.out, "cli-bad"));
    cli_result_free(&r);

    admin_run(&r, home, (const char *const[]){"template", "--help", NULL});
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "--rendition WxH[@KBPS]"));
    cli_result_free(&r);
    free(home);
}

static void test_admin_subtitle_mode(void **state)
{
    (void)state;
    char *home = new_home();
    char srt[512];
    static const char text[] = "1\n00:00:00,000 --> 00:00:01,000\nHello\n";
    assert_true(harness_write_file(srv, "cli-en.srt", text, sizeof(text) - 1, srt, sizeof(srt)));
    admin_ok(home, (const char *const[]){"subtitle", "add", "cli-soft", "--file", srt, "--language", "en", "--mode",
                                         "soft", NULL});
    admin_ok(home, (const char *const[]){"subtitle", "add", "cli-burn", "--file", srt, NULL});
    json_t *spec = admin_listed_spec(home, "subtitle", "cli-soft");
    assert_string_equal(harness_json_str(spec, "mode"), "soft");
    assert_string_equal(harness_json_str(spec, "language"), "en");
    assert_string_equal(harness_json_str(spec, "format"), "srt");
    json_decref(spec);
    spec = admin_listed_spec(home, "subtitle", "cli-burn");
    assert_string_equal(harness_json_str(spec, "mode"), "burn"); /* the default */
    assert_string_equal(harness_json_str(spec, "language"), "und");
    json_decref(spec);

    /* A subtitle stored before modes existed burns. */
    assert_int_equal(harness_db_exec(srv,
                                     "INSERT INTO resources (account_id, kind, id, name, spec, created_ms) "
                                     "SELECT account_id, 'subtitle', 'sub0000000000000000000000000001', "
                                     "'cli-legacy', ?2, 0 FROM access_keys WHERE access_key = ?1",
                                     srv->key.access_key,
                                     "{\"file\":\"resources/1/subtitles/x.srt\",\"format\":\"srt\",\"language\":\"fr\"}"),
                     1);
    spec = admin_listed_spec(home, "subtitle", "cli-legacy");
    assert_string_equal(harness_json_str(spec, "mode"), "burn");
    json_decref(spec);

    cli_result_t r;
    admin_run(&r, home, (const char *const[]){"subtitle", "list", NULL});
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "MODE"));
    char *soft_row = strstr(r.out, "cli-soft");
    assert_non_null(soft_row);
    assert_true(strstr(soft_row, " soft ") && strstr(soft_row, " soft ") < strchr(soft_row, '\n'));
    cli_result_free(&r);

    admin_run(&r, home, (const char *const[]){"subtitle", "add", "cli-loud", "--file", srt, "--mode", "loud", NULL});
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--mode must be burn or soft"));
    assert_one_line(r.err);
    cli_result_free(&r);
    free(home);
}

/* ---- main -------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    /* The client's signatures and keys never reach the server's log. */
    int rc = harness_server_finish(srv);
    srv = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_configure),      cmocka_unit_test(test_token_info_list),
        cmocka_unit_test(test_sign),           cmocka_unit_test(test_help_and_usage),
        cmocka_unit_test(test_unreachable),    cmocka_unit_test(test_admin_template),
        cmocka_unit_test(test_admin_subtitle_mode),
    };
    return cmocka_run_group_tests_name("integration.test_cli_commands", tests, group_setup, group_teardown);
}
