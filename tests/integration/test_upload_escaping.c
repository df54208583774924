/*
 * test_upload_escaping: an uploader's values cannot add or change a field
 * of the returnBody answer (security review, issue 10, finding 9;
 * upload-protocol.md section 1: "every value is encoded for where it
 * lands").  The account owner writes the template; the uploader chooses
 * the x:name variables and, through getUploadToken, the file name.
 *
 *  - form upload: the answer's query text (base64 in the body) and the 303
 *    Location of returnUrl hold exactly one hash, the real etag, and give
 *    x:foo back whole when parsed as a query;
 *  - mkfile: the JSON answer has only the template's members, x:foo's
 *    value whole in its member.
 *
 * return_body's expansion is unit-tested in tests/unit/test_return_body.c;
 * this file checks the answers a real `vodup serve` sends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/encoding.h"
#include "harness.h"
#include "harness_upload.h"

#define HOUR_MS (3600 * 1000LL)
#define EVIL "1&hash=FAKE&evil=1"
#define EVIL_NAME "a&hash=FAKE&evil=1.mp4"

static harness_server_t *srv;

/* A query's pairs, decoded as a client's query parser does. */
typedef struct query {
    char *copy;
    size_t count;
    char *names[16], *values[16];
} query_t;

static void query_parse(const char *text, query_t *q)
{
    memset(q, 0, sizeof(*q));
    q->copy = strdup(text);
    assert_non_null(q->copy);
    char *save = NULL;
    for (char *p = strtok_r(q->copy, "&", &save); p; p = strtok_r(NULL, "&", &save)) {
        assert_true(q->count < 16);
        char *eq = strchr(p, '=');
        char *v = eq ? eq + 1 : p + strlen(p);
        if (eq)
            *eq = '\0';
        p[encoding_form_unescape(p, strlen(p))] = '\0';
        v[encoding_form_unescape(v, strlen(v))] = '\0';
        q->names[q->count] = p;
        q->values[q->count++] = v;
    }
}

/* How often `name` occurs; *value the last one's value. */
static size_t query_count(const query_t *q, const char *name, const char **value)
{
    size_t n = 0;
    for (size_t i = 0; i < q->count; i++)
        if (strcmp(q->names[i], name) == 0) {
            n++;
            *value = q->values[i];
        }
    return n;
}

/* The query must have exactly the names in `names` (NULL-terminated), each
 * once, hash equal to etag and foo (when listed) equal to want_foo. */
static void assert_query(const char *text, const char *const *names, const char *etag, const char *want_foo)
{
    print_message("    query %s\n", text);
    query_t q;
    query_parse(text, &q);
    size_t expected = 0;
    for (; names[expected]; expected++) {
        const char *value = NULL;
        assert_int_equal(query_count(&q, names[expected], &value), 1);
        if (strcmp(names[expected], "hash") == 0)
            assert_string_equal(value, etag);
        if (strcmp(names[expected], "foo") == 0)
            assert_string_equal(value, want_foo);
    }
    assert_int_equal(q.count, expected);
    free(q.copy);
}

/* A grant for originFileName `name` and a token with the policy `extra`. */
static char *grant_with_policy(const char *name, const char *extra, harness_grant_t *g)
{
    assert_true(harness_grant(srv, &(harness_grant_opts_t){.name = name}, g));
    char *scope = harness_strf("%s:%s", g->bucket, g->file_key);
    char *token = harness_mint_policy(srv, NULL, scope, harness_now_ms() + HOUR_MS, extra);
    free(scope);
    return token;
}

/* Form upload with fields token and x:foo; *r gets the answer. */
static void form_upload_foo(const char *token, const void *data, size_t len, harness_upload_response_t *r)
{
    harness_form_part_t parts[3] = {
        {.name = "token", .data = token},
        {.name = "x:foo", .data = EVIL},
        {.name = "file", .data = data, .len = len, .filename = "clip.mp4"},
    };
    harness_form_t f = {.parts = parts, .count = 3};
    assert_true(harness_form_post(srv, &f, r));
}

static void test_form_answer(void **state)
{
    (void)state;
    static const char *const names[] = {"hash", "foo", "name", NULL};
    harness_grant_t g;
    char *token = grant_with_policy(EVIL_NAME, ",\"returnBody\":\"foo=$(x:foo)&name=$(fname)\"", &g);
    size_t len = 3001;
    uint8_t *data = harness_pattern(len, 91);
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, len, etag);
    harness_upload_response_t r;
    form_upload_foo(token, data, len, &r);
    assert_upload_status(&r, 200);
    size_t n = 0;
    char *text = harness_b64url_decode(r.body, &n);
    assert_non_null(text);
    assert_query(text, names, etag, EVIL);
    query_t q;
    query_parse(text, &q);
    const char *fname = NULL;
    assert_int_equal(query_count(&q, "name", &fname), 1);
    assert_string_equal(fname, EVIL_NAME);
    free(q.copy);
    free(text);
    harness_upload_response_free(&r);
    free(data);
    free(token);
}

static void test_return_url(void **state)
{
    (void)state;
    static const char *const names[] = {"hash", "ref", "foo", NULL};
    harness_grant_t g;
    char *token = grant_with_policy(
        "clip.mp4", ",\"returnUrl\":\"http://app.example/done?ref=7\",\"returnBody\":\"foo=$(x:foo)\"", &g);
    size_t len = 2002;
    uint8_t *data = harness_pattern(len, 92);
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, len, etag);
    harness_upload_response_t r;
    form_upload_foo(token, data, len, &r);
    assert_upload_status(&r, 303);
    const char *location = harness_header(&r, "Location");
    print_message("  Location: %s\n", location ? location : "(none)");
    assert_non_null(location);
    const char *prefix = "http://app.example/done?";
    assert_int_equal(strncmp(location, prefix, strlen(prefix)), 0);
    assert_null(strchr(location, '#')); /* nothing after the query either */
    assert_query(location + strlen(prefix), names, etag, EVIL);
    harness_upload_response_free(&r);
    free(data);
    free(token);
}

static void test_mkfile_answer(void **state)
{
    (void)state;
    harness_grant_t g;
    char *token = grant_with_policy(EVIL_NAME, ",\"returnBody\":\"foo=$(x:foo)&name=$(fname)&size=$(fsize)\"", &g);
    char *auth = harness_uptoken(token);
    size_t len = 5003;
    uint8_t *data = harness_pattern(len, 93);
    char etag[HARNESS_ETAG_LEN + 1];
    harness_etag(data, len, etag);
    char ctx[HARNESS_CTX_MAX];
    assert_true(harness_put_block(srv, auth, data, len, 0, len, ctx));
    char *b64 = harness_b64url(EVIL, strlen(EVIL));
    char *suffix = harness_strf("/x:foo/%s", b64);
    harness_upload_response_t r;
    assert_true(harness_mkfile(srv, auth, (int64_t)len, suffix, ctx, NULL, &r));
    print_message("  mkfile answered %s\n", r.body ? r.body : "(none)");
    assert_mkfile_ok(&r, etag, g.file_key);
    /* Exactly hash, key and the template's three members. */
    assert_int_equal(json_object_size(r.json), 5);
    assert_null(json_object_get(r.json, "evil"));
    assert_string_equal(harness_json_str(r.json, "foo"), EVIL);
    assert_string_equal(harness_json_str(r.json, "name"), EVIL_NAME);
    char size[32];
    snprintf(size, sizeof(size), "%zu", len);
    assert_string_equal(harness_json_str(r.json, "size"), size);
    harness_upload_response_free(&r);
    free(suffix);
    free(b64);
    free(data);
    free(auth);
    free(token);
}

static int group_setup(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    return srv ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    int rc = harness_server_finish(srv);
    srv = NULL;
    return rc;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_answer),
        cmocka_unit_test(test_return_url),
        cmocka_unit_test(test_mkfile_answer),
    };
    return cmocka_run_group_tests_name("integration.test_upload_escaping", tests, group_setup, group_teardown);
}
