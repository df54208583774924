/*
 * test_upload_links: upload links (docs/upload-links.md) as their users
 * see them, against a real `vodup serve`:
 *
 *  - `vodup admin upload-link create` prints the page's URL on the public
 *    URL the server wrote to DIR/server-url (or --url), --json its
 *    settings; a setting out of range or an unknown template exits 2 with
 *    a message and records nothing;
 *  - createUploadLink (signed, form or JSON) answers the link, 400 naming
 *    a parameter out of range or a template / workflow that does not
 *    exist, 401 unsigned;
 *  - the page's routes: the page (text/html, CSP, nosniff), /info, an
 *    unknown or malformed link (404), registering videos (one use per
 *    fileId, a fileId again continues its video even with no use left, a
 *    new one on a used-up link 410, 413 over maxSize, 400 for bad bodies,
 *    none of which spends a use, parallel registrations never over-spend),
 *    reading only the link's own videos;
 *  - a link's token uploads with tus, and the link then shows the video;
 *  - an expired link (aged in the database) answers 410 on every route,
 *    while an upload it started still finishes with its token;
 *  - the page's assets: ETag, 304 on If-None-Match, 404 for a missing one;
 *  - a link's maxSize defaults to, and may not pass, the server's
 *    max-upload-size (a second server, --max-upload-size 1000).
 *
 * The page's HTML is another module's: only statuses and headers of it
 * are checked here.  One server serves the tests but the last two.
 */
#define _GNU_SOURCE /* timegm, strcasestr */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "harness.h"
#include "harness_cli.h"
#include "harness_upload.h"

#define CLI_TIMEOUT_MS 30000
#define LINK_ID_LEN 35                  /* "ul_" + 32 lowercase hex */
#define DEFAULT_MAX_SIZE 68719476736LL  /* max-upload-size's default */
#define PATH_CREATE "/vod/videoManage/createUploadLink"
#define TEMPLATE "sd"
#define CLOCK_SLACK_MS 10000            /* expiresAt against this process's clock */

static harness_server_t *srv;
static char *cli_home;
static char workflow_id[64];

/* ---- small helpers -------------------------------------------------------------- */

/* "2026-12-06T10:15:30.123Z" as Unix ms; -1 when it is not that shape. */
static int64_t iso_ms(const char *s)
{
    struct tm tm = {0};
    int ms = 0, used = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec, &ms, &used) != 7 || used != (int)strlen(s) || used != 24)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000 + ms;
}

/* expiresAt must be `seconds` from now (within the clocks' slack). */
static void assert_expires_in(const char *expires_at, int64_t seconds)
{
    int64_t at = iso_ms(expires_at), want = harness_now_ms() + seconds * 1000;
    if (at < 0)
        fail_msg("expiresAt '%s' is not an ISO 8601 UTC time with ms", expires_at ? expires_at : "(missing)");
    if (at < want - CLOCK_SLACK_MS || at > want + CLOCK_SLACK_MS)
        fail_msg("expiresAt %s is not %lld s from now", expires_at, (long long)seconds);
}

static bool is_link_id(const char *s)
{
    return s && strlen(s) == LINK_ID_LEN && strncmp(s, "ul_", 3) == 0 && harness_is_lower_hex(s + 3, 32);
}

static int64_t json_int_member(const json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    if (!json_is_integer(v))
        fail_msg("member %s is not an integer", name);
    return (int64_t)json_integer_value(v);
}

static const char *json_str_member(const json_t *o, const char *name)
{
    const char *v = harness_json_str(o, name);
    if (!v)
        fail_msg("member %s is not a string", name);
    return v;
}

/* How many links the database holds (an UPDATE that changes nothing counts them). */
static int link_count(void)
{
    int n = harness_db_exec(srv, "UPDATE upload_links SET uses = uses", NULL, NULL);
    assert_true(n >= 0);
    return n;
}

/* ---- the page's routes ---------------------------------------------------------- */

static void http_get(const char *path, const char *const *headers, harness_upload_response_t *r)
{
    harness_upload_request_t q = {.method = "GET", .path = path, .headers = headers};
    assert_true(harness_upload_send(srv, &q, r));
}

static void http_post_json(const char *path, const char *body, harness_upload_response_t *r)
{
    harness_upload_request_t q = {.path = path, .body = body, .body_len = body ? strlen(body) : 0,
                                  .content_type = "application/json"};
    assert_true(harness_upload_send(srv, &q, r));
}

static void link_get(const char *link_id, const char *rest, harness_upload_response_t *r)
{
    char *path = harness_strf("/upload/%s%s", link_id, rest);
    http_get(path, NULL, r);
    free(path);
}

/* An error of the page's routes: the status, and JSON {"code":status,"message":"..."}.
 * On failure it frees *r, which the test, ending there, cannot. */
#define assert_link_error(r, status) link_error_at((r), (status), __FILE__, __LINE__)
static void link_error_at(harness_upload_response_t *r, long status, const char *file, int line)
{
    json_t *code = json_is_object(r->json) ? json_object_get(r->json, "code") : NULL;
    const char *msg = json_is_object(r->json) ? harness_json_str(r->json, "message") : NULL;
    const char *type = harness_header(r, "Content-Type");
    if (r->status != status || !json_is_integer(code) || json_integer_value(code) != status || !msg || !msg[0] ||
        !type || strncmp(type, "application/json", 16) != 0) {
        print_error("expected a JSON error %ld {\"code\":%ld,\"message\":...}, got HTTP %ld (%s): %s\n", status,
                       status, r->status, type ? type : "no Content-Type", r->body ? r->body : "");
        harness_upload_response_free(r);
        _fail(file, line);
    }
}

/* The page: the status, text/html, a Content-Security-Policy and nosniff. */
#define assert_page(link_id, status) page_at((link_id), (status), __FILE__, __LINE__)
static void page_at(const char *link_id, long status, const char *file, int line)
{
    harness_upload_response_t r;
    link_get(link_id, "", &r);
    const char *type = harness_header(&r, "Content-Type");
    const char *csp = harness_header(&r, "Content-Security-Policy");
    const char *nosniff = harness_header(&r, "X-Content-Type-Options");
    if (r.status != status || !type || strncmp(type, "text/html", 9) != 0 || !csp || !csp[0] || !nosniff ||
        strcmp(nosniff, "nosniff") != 0) {
        print_error("page of %s: expected %ld text/html with CSP and nosniff; got %ld, Content-Type %s, CSP %s, "
                       "X-Content-Type-Options %s\n",
                       link_id, status, r.status, type ? type : "-", csp ? csp : "-", nosniff ? nosniff : "-");
        harness_upload_response_free(&r);
        _fail(file, line);
    }
    harness_upload_response_free(&r);
}

/* GET /upload/<id>/info, which must answer 200; the JSON (caller decrefs). */
static json_t *link_info(const char *link_id)
{
    harness_upload_response_t r;
    link_get(link_id, "/info", &r);
    if (r.status != 200 || !json_is_object(r.json))
        fail_msg("GET /upload/%s/info: %ld %s", link_id, r.status, r.body ? r.body : "");
    json_t *j = json_incref(r.json);
    harness_upload_response_free(&r);
    return j;
}

static int64_t uses_left(const char *link_id)
{
    json_t *info = link_info(link_id);
    int64_t n = json_int_member(info, "usesLeft");
    json_decref(info);
    return n;
}

/* POST /upload/<id>/videos with `body` verbatim. */
static void register_raw(const char *link_id, const char *body, harness_upload_response_t *r)
{
    char *path = harness_strf("/upload/%s/videos", link_id);
    http_post_json(path, body, r);
    free(path);
}

/* What registering a video answered. */
typedef struct reg {
    char video_id[64];
    char file_key[512];
    char upload_url[128];
    char token[HARNESS_TOKEN_MAX];
} reg_t;

static char *video_body(const char *name, int64_t size, const char *file_id)
{
    json_t *j = json_pack("{s:s, s:I, s:s}", "name", name, "size", (json_int_t)size, "fileId", file_id);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    assert_non_null(text);
    return text;
}

/* Registers {name, size, fileId}; the status (*out filled on 200). */
static long register_video(const char *link_id, const char *name, int64_t size, const char *file_id, reg_t *out)
{
    char *body = video_body(name, size, file_id);
    harness_upload_response_t r;
    register_raw(link_id, body, &r);
    free(body);
    long status = r.status;
    if (status == 200) {
        const char *v = json_is_object(r.json) ? harness_json_str(r.json, "videoId") : NULL;
        const char *k = json_is_object(r.json) ? harness_json_str(r.json, "fileKey") : NULL;
        const char *u = json_is_object(r.json) ? harness_json_str(r.json, "uploadUrl") : NULL;
        const char *t = json_is_object(r.json) ? harness_json_str(r.json, "uploadToken") : NULL;
        if (!v || !v[0] || !k || !k[0] || !u || !t || !t[0])
            fail_msg("registering %s: 200 without videoId, fileKey, uploadUrl, uploadToken: %s", file_id, r.body);
        assert_string_equal(u, srv->base_url);
        if (out) {
            snprintf(out->video_id, sizeof(out->video_id), "%s", v);
            snprintf(out->file_key, sizeof(out->file_key), "%s", k);
            snprintf(out->upload_url, sizeof(out->upload_url), "%s", u);
            snprintf(out->token, sizeof(out->token), "%s", t);
            harness_note_secret(srv, t);
        }
    } else {
        assert_link_error(&r, status);
    }
    harness_upload_response_free(&r);
    return status;
}

/* Registers {name, size, fileId}; only the HTTP status. */
static long register_video_status(const char *link_id, const char *name, int64_t size, const char *file_id)
{
    char *body = video_body(name, size, file_id);
    harness_upload_response_t r;
    register_raw(link_id, body, &r);
    free(body);
    long status = r.status;
    harness_upload_response_free(&r);
    return status;
}

static void register_ok(const char *link_id, const char *name, int64_t size, const char *file_id, reg_t *out)
{
    long status = register_video(link_id, name, size, file_id, out);
    if (status != 200)
        fail_msg("registering %s %s on %s: %ld, expected 200", name, file_id, link_id, status);
}

/* ---- making links ---------------------------------------------------------------- */

/* `vodup admin --data DIR upload-link create args...`. */
static void admin_link(harness_cli_result_t *r, const char *const *args)
{
    const char *argv[40] = {"admin", "--data", srv->data_dir, "upload-link", "create"};
    size_t n = 5;
    for (size_t i = 0; args && args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    harness_cli_opts_t o = {.home = cli_home};
    assert_true(harness_cli_run(srv, &o, argv, CLI_TIMEOUT_MS, r));
}

/* A link made with the CLI's --json; its id goes to id (LINK_ID_LEN + 1). */
static void cli_link(const char *const *args, char *id)
{
    const char *argv[40];
    size_t n = 0;
    for (size_t i = 0; args && args[i] && n < 38; i++)
        argv[n++] = args[i];
    argv[n++] = "--json";
    argv[n] = NULL;
    harness_cli_result_t r;
    admin_link(&r, argv);
    if (r.status != 0 || !json_is_object(r.json) || !is_link_id(harness_json_str(r.json, "linkId")))
        fail_msg("upload-link create --json: exit %d, stdout %s, stderr %s", r.status, r.out, r.err);
    snprintf(id, LINK_ID_LEN + 1, "%s", harness_json_str(r.json, "linkId"));
    harness_cli_result_free(&r);
}

/* createUploadLink with a form body; its data (caller decrefs). */
static json_t *api_link(const char *form)
{
    json_t *data = harness_api(srv, NULL, "createUploadLink", form, 200);
    assert_non_null(data);
    assert_true(is_link_id(harness_json_str(data, "linkId")));
    return data;
}

/* ---- 1. the CLI ------------------------------------------------------------------- */

static void test_cli_prints_the_page_url(void **state)
{
    (void)state;
    char *server_url_path = harness_strf("%s/server-url", srv->data_dir);
    char *server_url = harness_read_file(server_url_path);
    free(server_url_path);
    assert_non_null(server_url);
    server_url[strcspn(server_url, "\r\n")] = '\0';
    assert_string_equal(server_url, srv->base_url);

    harness_cli_result_t r;
    admin_link(&r, NULL);
    if (r.status != 0)
        fail_msg("exit %d, stderr %s", r.status, r.err);
    char *prefix = harness_strf("%s/upload/", server_url);
    size_t plen = strlen(prefix);
    size_t n = strlen(r.out);
    if (strncmp(r.out, prefix, plen) != 0 || n != plen + LINK_ID_LEN + 1 || r.out[n - 1] != '\n')
        fail_msg("expected one line %s<linkId>, got '%s'", prefix, r.out);
    char id[LINK_ID_LEN + 1];
    snprintf(id, sizeof(id), "%.*s", LINK_ID_LEN, r.out + plen);
    assert_true(is_link_id(id));
    harness_cli_result_free(&r);
    free(prefix);
    free(server_url);

    /* The URL opens the page; its defaults: one video, max-upload-size, 24 hours. */
    assert_page(id, 200);
    json_t *info = link_info(id);
    assert_int_equal(json_int_member(info, "maxSize"), DEFAULT_MAX_SIZE);
    assert_int_equal(json_int_member(info, "usesLeft"), 1);
    assert_expires_in(harness_json_str(info, "expiresAt"), 86400);
    json_decref(info);
}

static void test_cli_json_and_settings(void **state)
{
    (void)state;
    harness_cli_result_t r;
    admin_link(&r, (const char *const[]){"--uses", "3", "--max-size", "10M", "--expires", "90s", "--template",
                                         TEMPLATE, "--json", NULL});
    if (r.status != 0 || !json_is_object(r.json))
        fail_msg("exit %d, stdout %s, stderr %s", r.status, r.out, r.err);
    const char *id = json_str_member(r.json, "linkId");
    assert_true(is_link_id(id));
    char *want_url = harness_strf("%s/upload/%s", srv->base_url, id);
    assert_string_equal(json_str_member(r.json, "uploadLink"), want_url);
    free(want_url);
    assert_int_equal(json_int_member(r.json, "maxSize"), 10 * 1024 * 1024);
    assert_int_equal(json_int_member(r.json, "uses"), 3);
    const char *expires = json_str_member(r.json, "expiresAt");
    assert_expires_in(expires, 90);

    /* The page's view of the same link. */
    assert_page(id, 200);
    json_t *info = link_info(id);
    assert_int_equal(json_int_member(info, "maxSize"), 10 * 1024 * 1024);
    assert_int_equal(json_int_member(info, "usesLeft"), 3);
    assert_string_equal(json_str_member(info, "expiresAt"), expires);
    json_t *ext = json_object_get(info, "extensions");
    assert_true(json_is_array(ext) && json_array_size(ext) > 0);
    bool mp4 = false;
    for (size_t i = 0; i < json_array_size(ext); i++)
        mp4 = mp4 || (json_is_string(json_array_get(ext, i)) && !strcmp(json_string_value(json_array_get(ext, i)), "mp4"));
    assert_true(mp4);
    json_decref(info);

    /* Its videos get the template. */
    reg_t g;
    register_ok(id, "clip.mp4", 1234, "cli-template", &g);
    harness_response_t vi;
    assert_true(harness_video_info(srv, NULL, g.video_id, &vi));
    assert_api_ok(&vi);
    json_t *data = harness_data(&vi);
    assert_string_equal(json_str_member(data, "transCodeCombineName"), TEMPLATE);
    assert_int_equal(json_int_member(data, "expectedSize"), 1234);
    harness_response_free(&vi);
    harness_cli_result_free(&r);
}

static void test_cli_url_option(void **state)
{
    (void)state;
    harness_cli_result_t r;
    admin_link(&r, (const char *const[]){"--account", "default", "--url", "https://vod.example.com/", NULL});
    assert_int_equal(r.status, 0);
    const char *prefix = "https://vod.example.com/upload/ul_";
    if (strncmp(r.out, prefix, strlen(prefix)) != 0 || strlen(r.out) != strlen(prefix) + 32 + 1)
        fail_msg("expected %s<32 hex>, got '%s'", prefix, r.out);
    harness_cli_result_free(&r);
}

static void test_cli_bad_options(void **state)
{
    (void)state;
    static const struct {
        const char *args[3];
        const char *names; /* the message names the setting: one of these, '|'-separated */
    } cases[] = {
        {{"--expires", "10s"}, "expires"},
        {{"--expires", "59s"}, "expires"},
        {{"--expires", "31d"}, "expires"},
        {{"--expires", "soon"}, "expires"},
        {{"--uses", "0"}, "uses"},
        {{"--uses", "1001"}, "uses"},
        {{"--uses", "-1"}, "uses"},
        {{"--max-size", "0"}, "size"},
        {{"--max-size", "65G"}, "size"},
        {{"--max-size", "10X"}, "size"},
        {{"--template", "no-such-template"}, "template|transCodeCombineName"},
        {{"--workflow", "no-such-workflow"}, "workflow"},
    };
    int before = link_count();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s %s\n", cases[i].args[0], cases[i].args[1]);
        harness_cli_result_t r;
        admin_link(&r, cases[i].args);
        bool named = false;
        char names[64];
        snprintf(names, sizeof(names), "%s", cases[i].names);
        for (char *save = NULL, *n = strtok_r(names, "|", &save); n; n = strtok_r(NULL, "|", &save))
            named = named || strcasestr(r.err, n) != NULL;
        if (r.status != 2 || r.out[0] || !named)
            fail_msg("%s %s: expected exit 2, no stdout and a message naming %s; got exit %d, stdout '%s', "
                     "stderr '%s'",
                     cases[i].args[0], cases[i].args[1], cases[i].names, r.status, r.out, r.err);
        harness_cli_result_free(&r);
    }
    assert_int_equal(link_count(), before);

    /* The edges are accepted. */
    char id[LINK_ID_LEN + 1];
    cli_link((const char *const[]){"--expires", "60s", "--uses", "1000", "--max-size", "1", NULL}, id);
    json_t *info = link_info(id);
    assert_int_equal(json_int_member(info, "usesLeft"), 1000);
    assert_int_equal(json_int_member(info, "maxSize"), 1);
    assert_expires_in(harness_json_str(info, "expiresAt"), 60);
    json_decref(info);
    cli_link((const char *const[]){"--expires", "30d", NULL}, id);
    info = link_info(id);
    assert_expires_in(harness_json_str(info, "expiresAt"), 30 * 86400LL);
    json_decref(info);
}

/* ---- 2. createUploadLink -------------------------------------------------------------- */

static void test_api_create(void **state)
{
    (void)state;
    char *form = harness_strf("expiresIn=120&maxSize=5000&uses=4&transCodeCombineName=%s", TEMPLATE);
    json_t *d = api_link(form);
    free(form);
    const char *id = harness_json_str(d, "linkId");
    char *want_url = harness_strf("%s/upload/%s", srv->base_url, id);
    assert_string_equal(json_str_member(d, "uploadLink"), want_url);
    free(want_url);
    assert_expires_in(harness_json_str(d, "expiresAt"), 120);
    assert_int_equal(json_int_member(d, "maxSize"), 5000);
    assert_int_equal(json_int_member(d, "uses"), 4);
    assert_string_equal(json_str_member(d, "transCodeCombineName"), TEMPLATE);
    assert_page(id, 200);
    json_t *info = link_info(id);
    assert_int_equal(json_int_member(info, "usesLeft"), 4);
    assert_int_equal(json_int_member(info, "maxSize"), 5000);
    assert_string_equal(json_str_member(info, "expiresAt"), json_str_member(d, "expiresAt"));
    json_decref(info);
    json_decref(d);

    /* No parameters: the defaults. */
    d = api_link("");
    assert_expires_in(harness_json_str(d, "expiresAt"), 86400);
    assert_int_equal(json_int_member(d, "maxSize"), DEFAULT_MAX_SIZE);
    assert_int_equal(json_int_member(d, "uses"), 1);
    json_decref(d);

    /* A JSON body, with a workflow: its videos get the workflow. */
    char *json = harness_strf("{\"expiresIn\":3600,\"uses\":2,\"maxSize\":100000,\"workflowId\":\"%s\"}", workflow_id);
    harness_response_t r;
    assert_true(harness_call(srv, NULL, "POST", PATH_CREATE, json, HARNESS_JSON, &r));
    free(json);
    assert_api_ok(&r);
    d = harness_data(&r);
    assert_true(is_link_id(harness_json_str(d, "linkId")));
    assert_int_equal(json_int_member(d, "uses"), 2);
    assert_int_equal(json_int_member(d, "maxSize"), 100000);
    assert_string_equal(json_str_member(d, "workflowId"), workflow_id);
    assert_expires_in(harness_json_str(d, "expiresAt"), 3600);
    reg_t g;
    register_ok(harness_json_str(d, "linkId"), "w.mov", 777, "wf-file", &g);
    harness_response_free(&r);
    assert_true(harness_video_info(srv, NULL, g.video_id, &r));
    assert_api_ok(&r);
    assert_string_equal(json_str_member(harness_data(&r), "workflowId"), workflow_id);
    assert_int_equal(json_int_member(harness_data(&r), "expectedSize"), 777);
    harness_response_free(&r);
}

static void test_api_create_refusals(void **state)
{
    (void)state;
    static const struct {
        const char *form;
        const char *param;
    } cases[] = {
        {"expiresIn=59", "expiresIn"},
        {"expiresIn=2592001", "expiresIn"},
        {"expiresIn=0", "expiresIn"},
        {"expiresIn=-60", "expiresIn"},
        {"expiresIn=1h", "expiresIn"},
        {"maxSize=0", "maxSize"},
        {"maxSize=68719476737", "maxSize"},
        {"maxSize=ten", "maxSize"},
        {"uses=0", "uses"},
        {"uses=1001", "uses"},
        {"uses=-1", "uses"},
        {"transCodeCombineName=no-such-template", "transCodeCombineName"},
        {"workflowId=no-such-workflow", "workflowId"},
    };
    int before = link_count();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("  %s\n", cases[i].form);
        harness_response_t r;
        harness_request_t q = {.path = PATH_CREATE, .body = cases[i].form, .content_type = HARNESS_FORM};
        assert_true(harness_request(srv, &q, &r));
        assert_api_error(&r, 400, 400);
        const char *msg = harness_json_str(r.json, "message");
        if (!msg || !strstr(msg, cases[i].param))
            fail_msg("%s: the message does not name %s: %s", cases[i].form, cases[i].param, r.body);
        harness_response_free(&r);
    }
    /* The edges are accepted. */
    json_decref(api_link("expiresIn=60&uses=1000&maxSize=1"));
    json_decref(api_link("expiresIn=2592000&maxSize=68719476736"));
    assert_int_equal(link_count(), before + 2);

    /* Unsigned: 401. */
    harness_response_t r;
    harness_request_t q = {.path = PATH_CREATE, .body = "uses=2", .content_type = HARNESS_FORM,
                           .omit = HARNESS_OMIT_ALL_AUTH};
    assert_true(harness_request(srv, &q, &r));
    assert_api_error(&r, 401, 401);
    harness_response_free(&r);
    assert_int_equal(link_count(), before + 2);
}

/* ---- 3. unknown links ------------------------------------------------------------------ */

/* Ids that cannot be links: cut short (a URL broken across lines in a
 * mail), mistyped, upper-cased by a tool. */
static const char *const malformed[] = {
    "ul_0123456789abcdef0123456789abcde",   /* 31 hex: cut short */
    "ul_0123456789abcdef0123456789abcdef0", /* 33 hex */
    "ul_0123456789ABCDEF0123456789ABCDEF", /* upper case */
    "ul_0123456789abcdef0123456789abcdeg", /* not hex */
    "xx_0123456789abcdef0123456789abcdef", /* not ul_ */
    "ul_",
    "x",
};

static void test_unknown_links(void **state)
{
    (void)state;
    /* Well-formed, never made: the page with 404, and JSON 404 on the routes. */
    const char *never = "ul_0123456789abcdef0123456789abcdef";
    assert_page(never, 404);
    harness_upload_response_t r;
    link_get(never, "/info", &r);
    assert_link_error(&r, 404);
    harness_upload_response_free(&r);
    link_get(never, "/videos/abc", &r);
    assert_link_error(&r, 404);
    harness_upload_response_free(&r);
    char *body = video_body("a.mp4", 10, "f1");
    register_raw(never, body, &r);
    assert_link_error(&r, 404);
    harness_upload_response_free(&r);

    /* Malformed ids: 404 everywhere. */
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        print_message("  %s\n", malformed[i]);
        link_get(malformed[i], "", &r);
        assert_int_equal(r.status, 404);
        harness_upload_response_free(&r);
        link_get(malformed[i], "/videos/abc", &r);
        assert_link_error(&r, 404);
        harness_upload_response_free(&r);
        link_get(malformed[i], "/info", &r);
        assert_link_error(&r, 404);
        harness_upload_response_free(&r);
        register_raw(malformed[i], body, &r);
        assert_link_error(&r, 404);
        harness_upload_response_free(&r);
    }
    free(body);
}

/* Whoever opens a malformed link sees the page, with 404 (it says why),
 * as for any unknown link. */
static void test_malformed_link_shows_page(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
        print_message("  %s\n", malformed[i]);
        assert_page(malformed[i], 404);
    }
}

/* ---- 4. registering videos --------------------------------------------------------------- */

static void test_register_videos(void **state)
{
    (void)state;
    char id[LINK_ID_LEN + 1];
    cli_link((const char *const[]){"--uses", "2", "--max-size", "1000", "--template", TEMPLATE, NULL}, id);

    reg_t a, again, b;
    register_ok(id, "first.mp4", 100, "file-A", &a);
    assert_int_equal(uses_left(id), 1);
    harness_sleep_ms(5); /* a later deadline: a different token */
    register_ok(id, "first.mp4", 100, "file-A", &again);
    assert_string_equal(again.video_id, a.video_id);
    assert_string_equal(again.file_key, a.file_key);
    assert_string_not_equal(again.token, a.token);
    assert_int_equal(uses_left(id), 1);

    register_ok(id, "second.mov", 1000, "file_B-2", &b); /* exactly maxSize */
    assert_string_not_equal(b.video_id, a.video_id);
    assert_int_equal(uses_left(id), 0);

    /* Used up: a new file is refused, also when tried again; the old ones continue. */
    assert_int_equal(register_video(id, "third.mp4", 100, "file-C", NULL), 410);
    assert_int_equal(register_video(id, "third.mp4", 100, "file-C", NULL), 410);
    register_ok(id, "first.mp4", 100, "file-A", &again);
    assert_string_equal(again.video_id, a.video_id);
    register_ok(id, "second.mov", 1000, "file_B-2", &again);
    assert_string_equal(again.video_id, b.video_id);
    assert_int_equal(uses_left(id), 0);
    assert_page(id, 200); /* a used-up link still opens: its files may resume */

    /* The registered video: expectedSize = size, the link's template. */
    harness_response_t vi;
    assert_true(harness_video_info(srv, NULL, a.video_id, &vi));
    assert_api_ok(&vi);
    assert_int_equal(json_int_member(harness_data(&vi), "expectedSize"), 100);
    assert_string_equal(json_str_member(harness_data(&vi), "transCodeCombineName"), TEMPLATE);
    harness_response_free(&vi);

    /* Another link naming the same fileId gets a video of its own. */
    char other[LINK_ID_LEN + 1];
    cli_link(NULL, other);
    reg_t o;
    register_ok(other, "first.mp4", 100, "file-A", &o);
    assert_string_not_equal(o.video_id, a.video_id);
}

static void test_register_refusals(void **state)
{
    (void)state;
    char id[LINK_ID_LEN + 1];
    cli_link((const char *const[]){"--uses", "1", "--max-size", "1000", NULL}, id);

    /* Over maxSize: 413. */
    assert_int_equal(register_video(id, "big.mp4", 1001, "big", NULL), 413);

    static const struct {
        const char *what, *body;
    } bad[] = {
        {"fileId of 33", "{\"name\":\"a.mp4\",\"size\":10,\"fileId\":\"abcdefghijklmnopqrstuvwxyz0123456\"}"},
        {"fileId with /", "{\"name\":\"a.mp4\",\"size\":10,\"fileId\":\"a/b\"}"},
        {"fileId with .", "{\"name\":\"a.mp4\",\"size\":10,\"fileId\":\"a.b\"}"},
        {"empty fileId", "{\"name\":\"a.mp4\",\"size\":10,\"fileId\":\"\"}"},
        {"no fileId", "{\"name\":\"a.mp4\",\"size\":10}"},
        {"no name", "{\"size\":10,\"fileId\":\"f\"}"},
        {"no size", "{\"name\":\"a.mp4\",\"fileId\":\"f\"}"},
        {"negative size", "{\"name\":\"a.mp4\",\"size\":-1,\"fileId\":\"f\"}"},
        {"size not a number", "{\"name\":\"a.mp4\",\"size\":\"ten\",\"fileId\":\"f\"}"},
        {"not JSON", "name=a.mp4&size=10&fileId=f"},
        {"a JSON array", "[\"a.mp4\",10,\"f\"]"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        print_message("  %s\n", bad[i].what);
        harness_upload_response_t r;
        register_raw(id, bad[i].body, &r);
        assert_link_error(&r, 400);
        harness_upload_response_free(&r);
    }
    /* None of that spent the link's one use. */
    assert_int_equal(uses_left(id), 1);
    reg_t g;
    register_ok(id, "good.mp4", 10, "f-good", &g);
    assert_int_equal(uses_left(id), 0);
}

/* A name without an accepted extension: 400, and no use spent (the link's
 * one use stays for the file the user meant). */
static const char *const refused_names[] = {"virus.exe", "README", "clip.mp4.txt"};

static void test_register_refused_name_spends_no_use(void **state)
{
    (void)state;
    char id[LINK_ID_LEN + 1];
    cli_link((const char *const[]){"--uses", "1", NULL}, id);
    for (size_t i = 0; i < sizeof(refused_names) / sizeof(refused_names[0]); i++) {
        char fid[16];
        snprintf(fid, sizeof(fid), "refused-%zu", i);
        long status = register_video_status(id, refused_names[i], 10, fid);
        int64_t left = uses_left(id);
        if (status != 400 || left != 1)
            fail_msg("%s as a new file on a link with one use: %ld, then usesLeft %lld; expected 400 and 1",
                     refused_names[i], status, (long long)left);
    }
    reg_t g;
    register_ok(id, "meant.mp4", 10, "meant", &g);
    assert_int_equal(uses_left(id), 0);
}

/* The same refusal in the routes' error shape: {"code":400,"message":...}. */
static void test_register_refused_name_error(void **state)
{
    (void)state;
    char id[LINK_ID_LEN + 1];
    cli_link((const char *const[]){"--uses", "5", NULL}, id);
    for (size_t i = 0; i < sizeof(refused_names) / sizeof(refused_names[0]); i++) {
        print_message("  %s\n", refused_names[i]);
        assert_int_equal(register_video(id, refused_names[i], 10, "refused", NULL), 400);
    }
}

typedef struct race {
    const char *link_id;
    int index;
    long status;
} race_t;

static void *race_register(void *arg)
{
    race_t *t = arg;
    char body[128], path[128];
    snprintf(body, sizeof(body), "{\"name\":\"r%d.mp4\",\"size\":10,\"fileId\":\"race-%d\"}", t->index, t->index);
    snprintf(path, sizeof(path), "/upload/%s/videos", t->link_id);
    harness_upload_request_t q = {.path = path, .body = body, .body_len = strlen(body),
                                  .content_type = "application/json"};
    harness_upload_response_t r;
    t->status = harness_upload_send(srv, &q, &r) ? r.status : -1;
    harness_upload_response_free(&r);
    return NULL;
}

static void test_parallel_registrations(void **state)
{
    (void)state;
    enum { THREADS = 8, USES = 3 };
    char id[LINK_ID_LEN + 1];
    cli_link((const char *const[]){"--uses", "3", NULL}, id);
    pthread_t th[THREADS];
    race_t t[THREADS];
    for (int i = 0; i < THREADS; i++) {
        t[i] = (race_t){.link_id = id, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, race_register, &t[i]), 0);
    }
    int ok = 0, gone = 0;
    for (int i = 0; i < THREADS; i++) {
        pthread_join(th[i], NULL);
        ok += t[i].status == 200;
        gone += t[i].status == 410;
    }
    assert_int_equal(ok, USES);
    assert_int_equal(gone, THREADS - USES);
    assert_int_equal(uses_left(id), 0);
}

/* ---- 5. uploading with a link's token ------------------------------------------------------ */

/* tus: POST /files/ then one PATCH of all of data. */
static void tus_upload(const char *token, const uint8_t *data, size_t len)
{
    char *auth = harness_uptoken(token);
    char *length = harness_strf("Upload-Length: %zu", len);
    const char *const create_headers[] = {"Tus-Resumable: 1.0.0", length, NULL};
    harness_upload_request_t q = {.path = "/files/", .authorization = auth, .headers = create_headers};
    harness_upload_response_t r;
    assert_true(harness_upload_send(srv, &q, &r));
    if (r.status != 201 || !harness_header(&r, "Location"))
        fail_msg("tus POST: %ld %s", r.status, r.body);
    char *path = harness_strf("/files/%s", harness_header(&r, "Location"));
    harness_upload_response_free(&r);

    const char *const patch_headers[] = {"Tus-Resumable: 1.0.0", "Upload-Offset: 0", NULL};
    harness_upload_request_t p = {.method = "PATCH", .path = path, .body = data, .body_len = len,
                                  .authorization = auth, .content_type = "application/offset+octet-stream",
                                  .headers = patch_headers};
    assert_true(harness_upload_send(srv, &p, &r));
    if (r.status != 204)
        fail_msg("tus PATCH: %ld %s", r.status, r.body);
    char want[32];
    snprintf(want, sizeof(want), "%zu", len);
    assert_string_equal(harness_header(&r, "Upload-Offset"), want);
    harness_upload_response_free(&r);
    free(path);
    free(length);
    free(auth);
}

static void test_link_token_uploads(void **state)
{
    (void)state;
    enum { SIZE = 3000 };
    char id[LINK_ID_LEN + 1];
    cli_link((const char *const[]){"--uses", "2", "--max-size", "1M", NULL}, id);
    reg_t g;
    register_ok(id, "upload.mp4", SIZE, "tus-file", &g);

    /* The registered size binds the upload: another length is refused. */
    char *auth = harness_uptoken(g.token);
    const char *const wrong_length[] = {"Tus-Resumable: 1.0.0", "Upload-Length: 3001", NULL};
    harness_upload_request_t q = {.path = "/files/", .authorization = auth, .headers = wrong_length};
    harness_upload_response_t r;
    assert_true(harness_upload_send(srv, &q, &r));
    assert_int_equal(r.status, 400);
    harness_upload_response_free(&r);
    free(auth);

    uint8_t *data = harness_pattern(SIZE, 5);
    assert_non_null(data);
    tus_upload(g.token, data, SIZE);
    harness_response_t info;
    assert_uploaded(srv, NULL, g.video_id, data, SIZE, NULL, &info);
    harness_response_free(&info);
    free(data);

    /* The link shows its video. */
    char *rest = harness_strf("/videos/%s", g.video_id);
    link_get(id, rest, &r);
    free(rest);
    if (r.status != 200 || !json_is_object(r.json))
        fail_msg("GET /upload/%s/videos/%s: %ld %s", id, g.video_id, r.status, r.body);
    const char *status = harness_json_str(r.json, "status");
    assert_non_null(status);
    if (strcmp(status, "uploaded") != 0 && strcmp(status, "processing") != 0 && strcmp(status, "ready") != 0)
        fail_msg("status %s, expected uploaded or later", status);
    assert_int_equal(json_int_member(r.json, "size"), SIZE);
    assert_string_equal(json_str_member(r.json, "videoId"), g.video_id);
    harness_upload_response_free(&r);

    /* Videos the link did not register: 404. */
    harness_grant_t plain;
    harness_grant_opts_t po = {.name = "plain.mp4"};
    assert_true(harness_grant(srv, &po, &plain));
    harness_grant_t plain_fid;
    harness_grant_opts_t pf = {.name = "plain2.mp4", .file_id = "tus-file"};
    assert_true(harness_grant(srv, &pf, &plain_fid));
    char other[LINK_ID_LEN + 1];
    cli_link(NULL, other);
    reg_t og;
    register_ok(other, "other.mp4", 10, "other-file", &og);
    const char *const foreign[] = {plain.video_id, plain_fid.video_id, og.video_id, "no-such-video"};
    for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
        print_message("  foreign video %s\n", foreign[i]);
        rest = harness_strf("/videos/%s", foreign[i]);
        link_get(id, rest, &r);
        free(rest);
        assert_link_error(&r, 404);
        harness_upload_response_free(&r);
    }
    /* ... while the other link sees its own. */
    rest = harness_strf("/videos/%s", og.video_id);
    link_get(other, rest, &r);
    free(rest);
    assert_int_equal(r.status, 200);
    harness_upload_response_free(&r);
}

/* ---- 6. expiry ----------------------------------------------------------------------------- */

static void test_expired_link(void **state)
{
    (void)state;
    char id[LINK_ID_LEN + 1];
    cli_link((const char *const[]){"--expires", "60s", "--uses", "5", NULL}, id);
    reg_t g;
    register_ok(id, "before.mp4", 100, "before", &g);
    assert_page(id, 200);

    assert_int_equal(harness_db_exec(srv, "UPDATE upload_links SET expires_ms = 1 WHERE link_id = ?1", id, NULL), 1);
    assert_page(id, 410);
    assert_int_equal(register_video(id, "after.mp4", 100, "after", NULL), 410);
    assert_int_equal(register_video(id, "before.mp4", 100, "before", NULL), 410);

    /* An upload already started may finish while its token lasts. */
    uint8_t *data = harness_pattern(100, 6);
    tus_upload(g.token, data, 100);
    harness_response_t info;
    assert_uploaded(srv, NULL, g.video_id, data, 100, NULL, &info);
    harness_response_free(&info);
    free(data);

    /* The link's limits answer 410 too. */
    harness_upload_response_t r;
    link_get(id, "/info", &r);
    assert_link_error(&r, 410);
    harness_upload_response_free(&r);
}

/* ---- 7. the page's assets -------------------------------------------------------------------- */

static void test_assets(void **state)
{
    (void)state;
    harness_upload_response_t r;
    http_get("/upload/assets/index.html", NULL, &r);
    assert_int_equal(r.status, 200);
    const char *etag = harness_header(&r, "ETag");
    assert_non_null(etag);
    assert_true(etag[0] != '\0');
    assert_non_null(harness_header(&r, "Cache-Control"));
    assert_true(harness_list_has(harness_header(&r, "Cache-Control"), "no-cache"));
    assert_string_equal(harness_header(&r, "X-Content-Type-Options"), "nosniff");
    assert_true(r.body_len > 0);
    char *inm = harness_strf("If-None-Match: %s", etag);
    harness_upload_response_free(&r);

    const char *const headers[] = {inm, NULL};
    http_get("/upload/assets/index.html", headers, &r);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.body_len, 0);
    assert_non_null(harness_header(&r, "ETag"));
    harness_upload_response_free(&r);
    free(inm);

    const char *const stale[] = {"If-None-Match: \"not-the-etag\"", NULL};
    http_get("/upload/assets/index.html", stale, &r);
    assert_int_equal(r.status, 200);
    harness_upload_response_free(&r);

    http_get("/upload/assets/nope.js", NULL, &r);
    assert_int_equal(r.status, 404);
    harness_upload_response_free(&r);
}

/* ---- 8. a server with a smaller max-upload-size ---------------------------------------------- */

static harness_server_t *small; /* --max-upload-size 1000 */

/* GET /upload/<id>/info on `small`; maxSize. */
static int64_t small_max_size(const char *link_id)
{
    char *path = harness_strf("/upload/%s/info", link_id);
    harness_upload_request_t q = {.method = "GET", .path = path};
    harness_upload_response_t r;
    assert_true(harness_upload_send(small, &q, &r));
    free(path);
    if (r.status != 200 || !json_is_object(r.json))
        fail_msg("info: %ld %s", r.status, r.body);
    int64_t n = json_int_member(r.json, "maxSize");
    harness_upload_response_free(&r);
    return n;
}

/* createUploadLink: maxSize defaults to, and may not pass, the server's max-upload-size. */
static void test_api_max_size_follows_server(void **state)
{
    (void)state;
    json_t *d = harness_api(small, NULL, "createUploadLink", "uses=2", 200);
    assert_non_null(d);
    assert_int_equal(json_int_member(d, "maxSize"), 1000);
    assert_int_equal(small_max_size(json_str_member(d, "linkId")), 1000);
    json_decref(d);
    d = harness_api(small, NULL, "createUploadLink", "maxSize=1000", 200);
    json_decref(d);
    assert_null(harness_api(small, NULL, "createUploadLink", "maxSize=1001", 400));
}

/* The same from the CLI, which reads no server flags: a link made without
 * --max-size says so (maxSize null) and takes the server's max-upload-size
 * when a file comes; a larger --max-size is capped by the server, so the
 * page never offers what the server refuses. */
static void test_cli_max_size_follows_server(void **state)
{
    (void)state;
    harness_cli_opts_t o = {.home = cli_home};
    harness_cli_result_t r;
    const char *const dflt[] = {"admin", "--data", small->data_dir, "upload-link", "create", "--json", NULL};
    assert_true(harness_cli_run(small, &o, dflt, CLI_TIMEOUT_MS, &r));
    if (r.status != 0 || !json_is_object(r.json))
        fail_msg("exit %d, stdout %s, stderr %s", r.status, r.out, r.err);
    char id[LINK_ID_LEN + 1];
    snprintf(id, sizeof(id), "%s", json_str_member(r.json, "linkId"));
    assert_true(json_is_null(json_object_get(r.json, "maxSize")));
    harness_cli_result_free(&r);
    assert_int_equal(small_max_size(id), 1000);

    const char *const over[] = {"admin", "--data", small->data_dir, "upload-link", "create", "--max-size", "2K",
                                "--json", NULL};
    assert_true(harness_cli_run(small, &o, over, CLI_TIMEOUT_MS, &r));
    if (r.status != 0 || !json_is_object(r.json))
        fail_msg("--max-size 2K: exit %d, stdout %s, stderr %s", r.status, r.out, r.err);
    snprintf(id, sizeof(id), "%s", json_str_member(r.json, "linkId"));
    assert_int_equal(json_int_member(r.json, "maxSize"), 2048);
    harness_cli_result_free(&r);
    assert_int_equal(small_max_size(id), 1000);
}

/* ---- the group -------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    if (!srv)
        return -1;
    cli_home = harness_cli_home(srv);
    char *out = NULL;
    if (!cli_home || harness_admin(srv, NULL, "template", "add", TEMPLATE, "--rendition", "160x120", NULL) != 0 ||
        harness_admin(srv, &out, "--json", "workflow", "add", "wf", "--step", "transcode=" TEMPLATE, NULL) != 0)
        return -1;
    json_t *wf = json_loads(out, 0, NULL);
    free(out);
    const char *wid = harness_json_str(wf, "id") ? harness_json_str(wf, "id") : harness_json_str(wf, "workflowId");
    if (!wid) {
        json_decref(wf);
        return -1;
    }
    snprintf(workflow_id, sizeof(workflow_id), "%s", wid);
    json_decref(wf);
    small = harness_server_start((const char *const[]){"--max-upload-size", "1000", NULL});
    return small ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    free(cli_home);
    cli_home = NULL;
    int rc = harness_server_finish(srv);
    srv = NULL;
    if (small && harness_server_finish(small) != 0)
        rc = -1;
    small = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cli_prints_the_page_url),
        cmocka_unit_test(test_cli_json_and_settings),
        cmocka_unit_test(test_cli_url_option),
        cmocka_unit_test(test_cli_bad_options),
        cmocka_unit_test(test_api_create),
        cmocka_unit_test(test_api_create_refusals),
        cmocka_unit_test(test_unknown_links),
        cmocka_unit_test(test_malformed_link_shows_page),
        cmocka_unit_test(test_register_videos),
        cmocka_unit_test(test_register_refusals),
        cmocka_unit_test(test_register_refused_name_spends_no_use),
        cmocka_unit_test(test_register_refused_name_error),
        cmocka_unit_test(test_parallel_registrations),
        cmocka_unit_test(test_link_token_uploads),
        cmocka_unit_test(test_expired_link),
        cmocka_unit_test(test_assets),
        cmocka_unit_test(test_api_max_size_follows_server),
        cmocka_unit_test(test_cli_max_size_follows_server),
    };
    return cmocka_run_group_tests_name("integration.test_upload_links", tests, group_setup, group_teardown);
}
