/*
 * test_forwarded: trusted proxies and the client behind them
 * (http/forwarded.c): which lists parse, which peers are trusted, which
 * X-Forwarded-For entry is the client, and when X-Forwarded-Proto counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/forwarded.h"

static forwarded_proxies_t proxies(const char *list)
{
    forwarded_proxies_t p;
    char err[128] = "";
    if (!forwarded_proxies_parse(list, &p, err, sizeof(err)))
        fail_msg("refused '%s': %s", list, err);
    return p;
}

static void test_parse(void **state)
{
    (void)state;
    assert_int_equal(proxies("").count, 0);
    assert_int_equal(proxies(" 127.0.0.1 , 10.0.0.0/8,::1, fd00::/8 ").count, 4);
    static const char *const bad[] = {"10.0.0.0/33", "::1/129", "localhost", "10.0.0.1/", "10.0.0.1/x",
                                      "1.2.3.4.5", "10.0.0.0/-1"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        forwarded_proxies_t p;
        char err[128] = "";
        if (forwarded_proxies_parse(bad[i], &p, err, sizeof(err)))
            fail_msg("accepted '%s'", bad[i]);
        assert_non_null(strstr(err, "is not an IP address"));
    }
    char many[1024] = "";
    for (int i = 0; i <= FORWARDED_MAX_NETS; i++)
        snprintf(many + strlen(many), sizeof(many) - strlen(many), "10.0.0.%d,", i);
    forwarded_proxies_t p;
    char err[128];
    assert_false(forwarded_proxies_parse(many, &p, err, sizeof(err)));
}

static void test_trusted(void **state)
{
    (void)state;
    forwarded_proxies_t p = proxies("127.0.0.1,10.1.0.0/16,fd00::/8");
    assert_true(forwarded_is_trusted(&p, "127.0.0.1"));
    assert_true(forwarded_is_trusted(&p, "::ffff:127.0.0.1")); /* a dual-stack socket's spelling */
    assert_true(forwarded_is_trusted(&p, "10.1.255.3"));
    assert_true(forwarded_is_trusted(&p, "fd12:3456::1"));
    assert_false(forwarded_is_trusted(&p, "127.0.0.2"));
    assert_false(forwarded_is_trusted(&p, "10.2.0.1"));
    assert_false(forwarded_is_trusted(&p, "fe80::1"));
    assert_false(forwarded_is_trusted(&p, "not an address"));
    assert_false(forwarded_is_trusted(&p, NULL));
    forwarded_proxies_t none = proxies("");
    assert_false(forwarded_is_trusted(&none, "127.0.0.1"));
}

static void expect_client(const char *list, const char *peer, const char *xff, const char *want)
{
    forwarded_proxies_t p = proxies(list);
    char out[FORWARDED_ADDR_MAX];
    forwarded_client(&p, peer, xff, out);
    if (strcmp(out, want) != 0)
        fail_msg("peer %s, X-Forwarded-For '%s': got %s, want %s", peer, xff ? xff : "(none)", out, want);
}

static void test_client(void **state)
{
    (void)state;
    /* An untrusted peer's header is ignored whatever it says. */
    expect_client("", "203.0.113.9", "198.51.100.1", "203.0.113.9");
    expect_client("10.0.0.0/8", "203.0.113.9", "198.51.100.1", "203.0.113.9");
    /* One proxy: the entry it appended. */
    expect_client("127.0.0.1", "127.0.0.1", "198.51.100.1", "198.51.100.1");
    expect_client("127.0.0.1", "127.0.0.1", NULL, "127.0.0.1");
    /* A client-written entry left of the proxy's is ignored. */
    expect_client("127.0.0.1", "127.0.0.1", "1.1.1.1, 198.51.100.1", "198.51.100.1");
    /* Two proxies: the first untrusted entry from the right. */
    expect_client("127.0.0.1,10.0.0.0/8", "127.0.0.1", "1.1.1.1, 198.51.100.1, 10.0.0.7", "198.51.100.1");
    /* Every hop trusted: the leftmost. */
    expect_client("127.0.0.1,10.0.0.0/8", "127.0.0.1", "10.0.0.5,10.0.0.7", "10.0.0.5");
    /* Ports and brackets other proxies write. */
    expect_client("127.0.0.1", "127.0.0.1", "198.51.100.1:5123", "198.51.100.1");
    expect_client("127.0.0.1", "127.0.0.1", "[2001:db8::1]:443", "2001:db8::1");
    expect_client("127.0.0.1", "127.0.0.1", "2001:db8::1", "2001:db8::1");
    /* Garbage ends the walk at the last trusted hop. */
    expect_client("127.0.0.1", "127.0.0.1", "<script>", "127.0.0.1");
    expect_client("127.0.0.1,10.0.0.0/8", "127.0.0.1", "evil, 10.0.0.7", "10.0.0.7");
    expect_client("127.0.0.1", "127.0.0.1", "", "127.0.0.1");
    expect_client("127.0.0.1", "127.0.0.1", ",,,", "127.0.0.1");
}

static void test_proto(void **state)
{
    (void)state;
    forwarded_proxies_t p = proxies("127.0.0.1");
    assert_string_equal(forwarded_proto(&p, "127.0.0.1", "https"), "https");
    assert_string_equal(forwarded_proto(&p, "127.0.0.1", "HTTP"), "http");
    assert_string_equal(forwarded_proto(&p, "127.0.0.1", "http, https"), "https"); /* the nearest proxy's */
    assert_null(forwarded_proto(&p, "127.0.0.1", "gopher"));
    assert_null(forwarded_proto(&p, "127.0.0.1", NULL));
    assert_null(forwarded_proto(&p, "192.0.2.1", "https")); /* not from a trusted peer */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_trusted),
        cmocka_unit_test(test_client),
        cmocka_unit_test(test_proto),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
