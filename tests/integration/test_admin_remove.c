/*
 * test_admin_remove: `vodup admin`'s removals against a running server:
 *  - key delete: the key is refused by the API once key-cache-ttl has
 *    passed (401, as an unknown key); an account's last key is not deleted
 *    (exit 1: disable it instead); an unknown key is exit 1;
 *  - domain remove: the account's oldest remaining domain becomes the
 *    default, and a new registration gets it;
 *  - template and workflow remove: getUploadToken naming them is then 400
 *    "does not exist"; a second remove is exit 1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "harness.h"
#include "harness_upload.h"

static harness_server_t *srv;

static int teardown(void **state)
{
    (void)state;
    int status = srv ? harness_server_finish(srv) : 0;
    srv = NULL;
    return status;
}

static long token_status(const harness_key_t *key, const char *form, json_t **data)
{
    harness_response_t r;
    assert_true(harness_upload_token(srv, key, form, &r));
    long status = r.status;
    if (data)
        *data = status == 200 ? json_incref(harness_data(&r)) : NULL;
    harness_response_free(&r);
    return status;
}

static void test_key_delete(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    assert_non_null(srv);
    harness_key_t a, b;
    assert_true(harness_admin_key_create(srv, "acme", &a));
    assert_true(harness_admin_key_create(srv, "acme", &b));
    assert_int_equal(token_status(&b, "originFileName=a.mp4", NULL), 200);
    assert_int_equal(harness_admin(srv, NULL, "key", "delete", b.access_key, NULL), 0);
    usleep(1200 * 1000); /* key-cache-ttl: 1 s */
    assert_int_equal(token_status(&b, "originFileName=a.mp4", NULL), 401);
    assert_int_equal(token_status(&a, "originFileName=a.mp4", NULL), 200);
    char *out = NULL;
    assert_int_equal(harness_admin(srv, &out, "key", "delete", a.access_key, NULL), 1); /* the last one */
    free(out);
    assert_int_equal(harness_admin(srv, NULL, "key", "delete", b.access_key, NULL), 1); /* gone already */
    assert_int_equal(token_status(&a, "originFileName=a.mp4", NULL), 200);
}

static void test_domain_remove(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    assert_non_null(srv);
    const char *acct = srv->key.access_key;
    assert_int_equal(harness_admin(srv, NULL, "--account", acct, "domain", "add", "one.example", NULL), 0);
    assert_int_equal(harness_admin(srv, NULL, "--account", acct, "domain", "add", "two.example", NULL), 0);
    assert_int_equal(harness_admin(srv, NULL, "--account", acct, "domain", "add", "three.example", NULL), 0);
    assert_int_equal(harness_admin(srv, NULL, "--account", acct, "domain", "remove", "ONE.example", NULL), 0);
    assert_int_equal(harness_admin(srv, NULL, "--account", acct, "domain", "remove", "one.example", NULL), 1);
    char *out = NULL;
    assert_int_equal(harness_admin(srv, &out, "--account", acct, "--json", "domain", "list", NULL), 0);
    assert_non_null(strstr(out, "{\"name\":\"two.example\",\"default\":true}"));
    assert_non_null(strstr(out, "{\"name\":\"three.example\",\"default\":false}"));
    free(out);
    usleep(1200 * 1000); /* the server may reuse the default domain for key-cache-ttl */
    json_t *d = NULL;
    assert_int_equal(token_status(NULL, "originFileName=a.mp4", &d), 200);
    harness_response_t info;
    assert_true(harness_video_info(srv, NULL, harness_json_str(d, "videoId"), &info));
    assert_api_ok(&info);
    const char *domain = harness_json_str(harness_data(&info), "domain");
    assert_non_null(domain);
    assert_string_equal(domain, "two.example");
    harness_response_free(&info);
    json_decref(d);
}

static void test_resource_remove(void **state)
{
    (void)state;
    srv = harness_server_start(NULL);
    assert_non_null(srv);
    assert_int_equal(harness_admin(srv, NULL, "template", "add", "sd", "--rendition", "160x120", NULL), 0);
    char *out = NULL;
    assert_int_equal(harness_admin(srv, &out, "--json", "workflow", "add", "wf", "--step", "transcode=sd", NULL), 0);
    json_t *wf = json_loads(out, 0, NULL);
    assert_non_null(wf);
    free(out);
    char wid[64];
    snprintf(wid, sizeof(wid), "%s", harness_json_str(wf, "id") ? harness_json_str(wf, "id")
                                                                : harness_json_str(wf, "workflowId"));
    json_decref(wf);
    char *form = harness_strf("originFileName=a.mp4&workflowId=%s", wid);
    assert_int_equal(token_status(NULL, form, NULL), 200);
    assert_int_equal(token_status(NULL, "originFileName=a.mp4&transCodeCombineName=sd", NULL), 200);

    assert_int_equal(harness_admin(srv, NULL, "workflow", "remove", wid, NULL), 0);
    assert_int_equal(harness_admin(srv, NULL, "template", "remove", "sd", NULL), 0);
    assert_int_equal(harness_admin(srv, NULL, "template", "remove", "sd", NULL), 1);
    assert_int_equal(token_status(NULL, form, NULL), 400);
    assert_int_equal(token_status(NULL, "originFileName=a.mp4&transCodeCombineName=sd", NULL), 400);
    assert_int_equal(harness_admin(srv, &out, "--json", "template", "list", NULL), 0);
    assert_string_equal(out, "[]\n");
    free(out);
    free(form);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_key_delete, teardown),
        cmocka_unit_test_teardown(test_domain_remove, teardown),
        cmocka_unit_test_teardown(test_resource_remove, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
