/*
 * test_event_url: which webhook URLs are accepted (events/event_url.c), the
 * host each one reaches, and the operator's allow-list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "events/event_url.h"

/* Accepted URLs and the host libcurl will connect to. */
static void test_accepted(void **state)
{
    (void)state;
    static const struct {
        const char *url, *host;
    } cases[] = {
        {"http://example.com", "example.com"},
        {"https://hooks.example.com/vodup?token=abc#x", "hooks.example.com"},
        {"HTTPS://Hooks.Example.COM:8443/a/b", "hooks.example.com"},
        {"http://example.com./", "example.com"},
        {"http://127.0.0.1:8080/hook", "127.0.0.1"},
        {"http://0x7f.1/", "127.0.0.1"},     /* libcurl's normalisation: the address it connects to */
        {"http://2130706433/", "127.0.0.1"}, /* same */
        {"http://[::1]:9000/", "[::1]"},
        {"http://[0:0::1]/", "[::1]"},
        {"http://[::ffff:127.0.0.1]/", "[::ffff:127.0.0.1]"},
        {"http://my_host-1.internal/", "my_host-1.internal"},
        {"http://h%41/", "ha"}, /* decoded by libcurl, so checked as what is reached */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[EVENT_URL_ERROR_MAX] = "", host[EVENT_URL_HOST_MAX + 1];
        if (!event_url_check(cases[i].url, err, sizeof(err)))
            fail_msg("refused %s: %s", cases[i].url, err);
        assert_true(event_url_host(cases[i].url, host));
        if (strcmp(host, cases[i].host) != 0)
            fail_msg("%s: host %s, want %s", cases[i].url, host, cases[i].host);
    }
}

static void test_refused(void **state)
{
    (void)state;
    static const struct {
        const char *url, *reason;
    } cases[] = {
        {"", "empty"},
        {"ftp://example.com/", "http://"},
        {"file:///etc/passwd", "http://"},
        {"gopher://example.com/", "http://"},
        {"example.com/hook", "http://"},
        {"//example.com/hook", "http://"},
        {"http:/example.com", "http://"},
        {"http:example.com", "http://"},
        {"https:example.com", "http://"},
        {"https:/example.com", "http://"},
        {"https//example.com", "http://"},
        {"http://", "no host"},
        {"http:///hook", "no host"}, /* libcurl would read "hook" as the host */
        {"http://user:pass@example.com/", "user name"},
        {"http://user@example.com/", "user name"},
        {"http://@example.com/", "user name"},
        {"http://:pass@example.com/", "user name"},
        {"https://trusted.example@evil.example/", "user name"},
        {"http://a\\@evil.example/", "user name"},
        {"http://exa mple.com/", "whitespace"},
        {"http://example.com/ x", "whitespace"},
        {"http://example.com/\tx", "whitespace"},
        {"http://example.com/\r\nX-Injected: 1", "whitespace"},
        {"http://example.com/\x7f", "whitespace"},
        {"http://ex\xc3\xa4mple.com/", "non-ASCII"},
        {"http://[fe80::1%25eth0]/", "zone id"},
        {"http://a..b/", "host"},
        {"http://.example.com/", "host"},
        {"http://exa%2Fmple.com/", "malformed"},
        {"http://a,b/", "malformed"},
        {"http://example.com:99999/", "malformed"},
        {"http://*.example.com/", "malformed"},
        {"http://[::1/", "malformed"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char err[EVENT_URL_ERROR_MAX] = "", host[EVENT_URL_HOST_MAX + 1] = "x";
        if (event_url_check(cases[i].url, err, sizeof(err)))
            fail_msg("accepted %s", cases[i].url);
        if (!strstr(err, cases[i].reason))
            fail_msg("%s: reason \"%s\", want \"%s\"", cases[i].url, err, cases[i].reason);
        assert_false(event_url_host(cases[i].url, host));
        assert_string_equal(host, "");
    }
    assert_false(event_url_check(NULL, NULL, 0));
}

/* 2048 bytes pass, 2049 do not. */
static void test_length(void **state)
{
    (void)state;
    char *url = malloc(EVENT_URL_MAX + 2);
    assert_non_null(url);
    memcpy(url, "http://example.com/", 19);
    memset(url + 19, 'a', EVENT_URL_MAX - 19);
    url[EVENT_URL_MAX] = '\0';
    assert_true(event_url_check(url, NULL, 0));
    url[EVENT_URL_MAX] = 'a';
    url[EVENT_URL_MAX + 1] = '\0';
    char err[EVENT_URL_ERROR_MAX];
    assert_false(event_url_check(url, err, sizeof(err)));
    assert_non_null(strstr(err, "longer"));
    free(url);
}

/* A host of 255 bytes (the DNS limit) passes; 256 do not. */
static void test_host_length(void **state)
{
    (void)state;
    char url[400], host[EVENT_URL_HOST_MAX + 1];
    for (size_t host_len = 255; host_len <= 256; host_len++) {
        size_t n = (size_t)snprintf(url, sizeof(url), "http://");
        for (size_t i = 0; i < host_len; i++)
            url[n++] = i % 50 == 49 ? '.' : 'a'; /* labels of 49 letters */
        snprintf(url + n, sizeof(url) - n, "/hook");
        assert_int_equal(event_url_host(url, host), host_len == 255);
        if (host_len == 255)
            assert_int_equal(strlen(host), 255);
    }
}

static void test_allow_list(void **state)
{
    (void)state;
    static const struct {
        const char *host, *list;
        bool allowed;
    } cases[] = {
        {"example.com", NULL, true},
        {"example.com", "", true},
        {"example.com", "  \t ", true},
        {"example.com", ",", false}, /* written, names nothing: fails closed */
        {"example.com", "example.com", true},
        {"example.com", "EXAMPLE.com", true},
        {"example.com", "example.com.", true},
        {"example.com", "other.org, example.com", true},
        {"example.com", " other.org ,\texample.com\t", true},
        {"example.com", "other.org", false},
        {"example.com", "ample.com", false},
        {"example.com", "xexample.com", false},
        {"example.com", "example.co", false},
        {"example.com", "*.example.com", false}, /* not the bare suffix */
        {"a.example.com", "*.example.com", true},
        {"a.b.example.com", "*.example.com", true},
        {"a.b.example.com", "*.EXAMPLE.com.", true},
        {"badexample.com", "*.example.com", false},
        {".example.com", "*.example.com", false}, /* no label before the suffix */
        {"a.example.com.evil.org", "*.example.com", false},
        {"example.com.evil.org", "example.com", false},
        {"127.0.0.1", "127.0.0.1", true},
        {"127.0.0.2", "127.0.0.1", false},
        {"[::1]", "[::1]", true},
        {"a.example.com", "*", false}, /* not a wildcard: refused by the list check */
        {"a.example.com", "*.", false},
        {"", "", false},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (event_url_host_allowed(cases[i].host, cases[i].list) != cases[i].allowed)
            fail_msg("case %zu: %s in \"%s\"", i, cases[i].host, cases[i].list ? cases[i].list : "(null)");
    assert_false(event_url_host_allowed(NULL, NULL));
}

static void test_allow_list_check(void **state)
{
    (void)state;
    static const char *const valid[] = {
        "", "example.com", "a.example.com, *.example.org", "*.example.com.", " x , y ", "[::1],127.0.0.1", ",,",
    };
    static const char *const invalid[] = {
        "*", "*.", "*example.com", "example.com/", "http://example.com", "example.com:80", "exa mple.com",
        "a..b", ".example.com", "*.*.example.com", "[::1", "ex\xc3\xa4mple.com", "[fe80::1%1]",
    };
    char err[EVENT_URL_ERROR_MAX];
    for (size_t i = 0; i < sizeof(valid) / sizeof(valid[0]); i++)
        if (!event_url_allow_list_check(valid[i], err, sizeof(err)))
            fail_msg("refused \"%s\": %s", valid[i], err);
    for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
        if (event_url_allow_list_check(invalid[i], err, sizeof(err)))
            fail_msg("accepted \"%s\"", invalid[i]);
    assert_true(event_url_allow_list_check(NULL, NULL, 0));
    /* A bare "*" says how to allow any host instead. */
    assert_false(event_url_allow_list_check("a.example.com, *", err, sizeof(err)));
    assert_non_null(strstr(err, "empty"));
}

/* The form check first, then the list, each with its own reason. */
static void test_permitted(void **state)
{
    (void)state;
    char err[EVENT_URL_ERROR_MAX];
    assert_true(event_url_permitted("https://hooks.example.com/x", "*.example.com", err, sizeof(err)));
    assert_true(event_url_permitted("https://hooks.example.com/x", "", err, sizeof(err)));
    assert_false(event_url_permitted("https://hooks.example.org/x", "*.example.com", err, sizeof(err)));
    assert_non_null(strstr(err, "allow-list"));
    assert_false(event_url_permitted("ftp://hooks.example.com/x", "*.example.com", err, sizeof(err)));
    assert_non_null(strstr(err, "http://"));
    /* The list sees the host libcurl reaches, not the text of the URL. */
    assert_true(event_url_permitted("http://0x7f.1/", "127.0.0.1", err, sizeof(err)));
    assert_false(event_url_permitted("http://user@example.com/", "example.com", err, sizeof(err)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),       cmocka_unit_test(test_refused),
        cmocka_unit_test(test_length),         cmocka_unit_test(test_host_length),
        cmocka_unit_test(test_allow_list),
        cmocka_unit_test(test_allow_list_check), cmocka_unit_test(test_permitted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
