/*
 * test_mgr_token: the WCS management token (auth/mgr_token.c) and the
 * notification built on it (events/event_notify.c), against vectors made
 * with `openssl dgst -sha1 -hmac` and `basenc --base64url`.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/mgr_token.h"
#include "events/event_notify.h"

#define BODY "bucket=YQ==&key=Yg==&fops=Yw=="
/* printf '/fops\n<BODY>' | openssl dgst -sha1 -hmac testsk, hex, base64url */
#define SIGN "NDM5OGIwNmMyNWNkOWJkOGY3NWZkMmFhZmJkMzdkOTkyYTJkZTIzMQ=="

static void test_make_matches_openssl(void **state)
{
    (void)state;
    buf_t b;
    buf_init(&b, 0);
    assert_true(mgr_token_make("testak", "testsk", "/fops", BODY, strlen(BODY), &b));
    assert_string_equal(b.data, "testak:" SIGN);
    buf_free(&b);
}

static void test_valid_and_refused(void **state)
{
    (void)state;
    assert_true(mgr_token_valid("testsk", "/fops", BODY, strlen(BODY), SIGN));
    /* without padding, as some clients send it */
    assert_true(mgr_token_valid("testsk", "/fops", BODY, strlen(BODY),
                                "NDM5OGIwNmMyNWNkOWJkOGY3NWZkMmFhZmJkMzdkOTkyYTJkZTIzMQ"));
    assert_false(mgr_token_valid("othersk", "/fops", BODY, strlen(BODY), SIGN));
    assert_false(mgr_token_valid("testsk", "/fops", BODY "x", strlen(BODY) + 1, SIGN));
    assert_false(mgr_token_valid("testsk", "/fopz", BODY, strlen(BODY), SIGN));
    assert_false(mgr_token_valid("testsk", "/fops", BODY, strlen(BODY), "not base64!"));
    assert_false(mgr_token_valid("testsk", "/fops", BODY, strlen(BODY), ""));
}

static void test_split(void **state)
{
    (void)state;
    char ak[MGR_TOKEN_ACCESS_KEY_MAX + 1];
    const char *sign = NULL;
    assert_true(mgr_token_split("testak:" SIGN, ak, &sign));
    assert_string_equal(ak, "testak");
    assert_string_equal(sign, SIGN);
    assert_false(mgr_token_split(":" SIGN, ak, &sign));
    assert_false(mgr_token_split("testak:", ak, &sign));
    assert_false(mgr_token_split("testak", ak, &sign));
    assert_false(mgr_token_split("QBox testak:" SIGN, ak, &sign));
    assert_false(mgr_token_split(NULL, ak, &sign));
    char longer[MGR_TOKEN_ACCESS_KEY_MAX + 8];
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    longer[MGR_TOKEN_ACCESS_KEY_MAX + 1] = ':';
    assert_false(mgr_token_split(longer, ak, &sign));
}

/* The notification: the body is the JSON in URL-safe base64; the
 * Authorization signs the notify URL with its query, "\n", that body. */
static void test_notification(void **state)
{
    (void)state;
    buf_t body, auth;
    buf_init(&body, 0);
    buf_init(&auth, 0);
    assert_true(event_notify_build("http://cb.example/n?x=1", "testak", "testsk", "{\"id\":\"tk1\"}", &body, &auth));
    assert_string_equal(body.data, "eyJpZCI6InRrMSJ9");
    assert_string_equal(auth.data, "testak:NTUxNmFkODI0NTRjNjBjY2I0MjFkNzE2N2E1OWIxZDg5YWZlMWU4MQ==");
    buf_free(&body);
    buf_free(&auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_matches_openssl),
        cmocka_unit_test(test_valid_and_refused),
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_notification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
